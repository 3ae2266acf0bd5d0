/*
 * Record batches the broker writes itself (KRaft metadata records,
 * committed offsets): uncompressed v2 batches, written back to front.
 */
#include <stdlib.h>

#include "broker.h"

uint8_t *bk_batch_build(const bk_rec *recs, size_t n, int64_t timestamp, size_t *len)
{
    if (n == 0 || n > INT32_MAX)
        return NULL;
    kw_builder b;
    kw_builder_init_growable(&b, 4096);
    for (size_t i = n; i-- > 0;) {
        size_t mark = kw_builder_size(&b);
        kw_build_uvarint(&b, 0); /* header count (a varint 0 is the same byte) */
        kw_slice v = recs[i].value, k = recs[i].key;
        if (v.ptr) {
            kw_build_raw(&b, v.ptr, v.len);
            kw_build_varint(&b, (int32_t)v.len);
        } else {
            kw_build_varint(&b, -1);
        }
        if (k.ptr) {
            kw_build_raw(&b, k.ptr, k.len);
            kw_build_varint(&b, (int32_t)k.len);
        } else {
            kw_build_varint(&b, -1);
        }
        kw_build_varint(&b, (int32_t)i); /* offset delta */
        kw_build_varlong(&b, 0);         /* timestamp delta */
        kw_build_i8(&b, 0);              /* attributes */
        kw_build_length_varint(&b, mark);
    }
    kw_build_i32(&b, (int32_t)n);        /* record count */
    kw_build_i32(&b, -1);                /* base sequence */
    kw_build_i16(&b, -1);                /* producer epoch */
    kw_build_i64(&b, -1);                /* producer id */
    kw_build_i64(&b, timestamp);         /* max timestamp */
    kw_build_i64(&b, timestamp);         /* base timestamp */
    kw_build_i32(&b, (int32_t)(n - 1));  /* last offset delta */
    kw_build_i16(&b, 0);                 /* attributes */
    uint32_t crc = kw_builder_crc32c_since(&b, 0);
    kw_build_u32(&b, crc);
    kw_build_i8(&b, 2);                  /* magic */
    kw_build_i32(&b, 0);                 /* partition leader epoch */
    kw_build_length_i32(&b, 0);          /* batch length: everything after it */
    kw_build_i64(&b, 0);                 /* base offset, assigned on append */
    uint8_t *out = NULL;
    if (kw_builder_error(&b) == KW_OK) {
        size_t size = kw_builder_size(&b);
        out = malloc(size);
        if (out && kw_builder_copy_out(&b, out, size) != size) {
            free(out);
            out = NULL;
        }
        *len = size;
    }
    kw_builder_free(&b);
    return out;
}
