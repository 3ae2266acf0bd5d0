/*
 * kwire-broker's message format down-conversion (examples/broker/convert.c)
 * for the benchmark: one Fetch v0-v3 partition's worth of v2 batches turned
 * into legacy messages, each call on a fresh request scratch.
 */
#include "broker_side.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "dispatch.h"
#include "topics.h"
#include "util.h"
#include "kwire/record_builder.h"

uint8_t *bench_v2_batch(int records, int codec, size_t *len)
{
    kw_record_spec *recs = calloc((size_t)records, sizeof *recs);
    static const char value[100] = "a value of a hundred bytes, as a small event might be ..........";
    char (*keys)[16] = calloc((size_t)records, sizeof *keys);
    if (!recs || !keys)
        return NULL;
    for (int i = 0; i < records; i++) {
        snprintf(keys[i], sizeof keys[i], "key-%d", i);
        recs[i].offset_delta = i;
        recs[i].timestamp_delta = i;
        recs[i].key = (kw_slice){(const uint8_t *)keys[i], strlen(keys[i])};
        recs[i].value = (kw_slice){(const uint8_t *)value, sizeof value};
    }
    kw_batch_spec spec = kw_batch_spec_default();
    spec.base_timestamp = 1700000000000;
    spec.attributes = (int16_t)codec;
    kw_builder b;
    kw_builder_init_growable(&b, 1u << 16);
    uint8_t *out = NULL;
    if (kw_build_record_batch(&b, &spec, recs, (size_t)records) == KW_OK) {
        *len = kw_builder_size(&b);
        out = malloc(*len);
        if (out)
            kw_builder_copy_out(&b, out, *len);
    }
    kw_builder_free(&b);
    free(recs);
    free(keys);
    return out;
}

size_t bench_downconvert(const uint8_t *batches, size_t len, int magic)
{
    static bk_broker br;
    static bool ready;
    if (!ready) {
        bk_config_default(&br.cfg);
        ready = true;
    }
    bk_req req;
    memset(&req, 0, sizeof req);
    req.br = &br;
    kw_slice out = {NULL, 0};
    int err = bk_downconvert(&req, (kw_slice){batches, len}, 0, (int8_t)magic, &out);
    size_t n = err == KW_KAFKA_NONE ? out.len : 0;
    bk_scratch_free(&req.scratch);
    return n;
}
