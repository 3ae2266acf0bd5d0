/*
 * Record batches the broker writes itself (KRaft metadata records,
 * committed offsets): uncompressed v2 batches from kwire's record builder.
 */
#include <stdlib.h>

#include "batch.h"
#include "kwire/record_builder.h"

uint8_t *bk_batch_build(const bk_rec *recs, size_t n, int64_t timestamp, size_t *len)
{
    if (n == 0 || n > INT32_MAX)
        return NULL;
    kw_record_spec *specs = calloc(n, sizeof *specs);
    if (!specs)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        specs[i].offset_delta = (int32_t)i;
        specs[i].key = recs[i].key;
        specs[i].value = recs[i].value;
    }
    kw_batch_spec spec = kw_batch_spec_default();
    spec.partition_leader_epoch = 0;
    spec.base_timestamp = timestamp;
    kw_builder b;
    kw_builder_init_growable(&b, 4096);
    uint8_t *out = NULL;
    if (kw_build_record_batch(&b, &spec, specs, n) == KW_OK) {
        size_t size = kw_builder_size(&b);
        out = malloc(size);
        if (out && kw_builder_copy_out(&b, out, size) != size) {
            free(out);
            out = NULL;
        }
        *len = size;
    }
    kw_builder_free(&b);
    free(specs);
    return out;
}
