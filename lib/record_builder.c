/*
 * Record batches v2 and legacy messages, written back to front.
 */
#include "kwire/record_builder.h"

#include <assert.h>
#include <stdlib.h>

#include "kwire/compress.h"

/* ---- sizes ------------------------------------------------------------------ */

static size_t uvarlong_size(uint64_t u)
{
    size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}

static size_t varlong_size(int64_t v)
{
    return uvarlong_size(((uint64_t)v << 1) ^ (uint64_t)(v < 0 ? -1 : 0));
}

/* *acc += n, false when it does not fit. */
static bool add_size(size_t *acc, size_t n)
{
    if (n > SIZE_MAX - *acc)
        return false;
    *acc += n;
    return true;
}

/* Adds a varint-length byte field (null: the one byte of -1). */
static kw_err var_bytes_size(kw_slice s, size_t *acc)
{
    if (kw_slice_is_null(s))
        return add_size(acc, 1) ? KW_OK : KW_ERR_TOO_LONG;
    if (s.len > INT32_MAX)
        return KW_ERR_TOO_LONG;
    return add_size(acc, varlong_size((int64_t)s.len) + s.len) ? KW_OK : KW_ERR_TOO_LONG;
}

/* Bytes of one record with its length varint. */
static kw_err record_size(const kw_record_spec *r, size_t *out)
{
    int32_t hc = r->header_count;
    assert(hc >= 0 && (hc == 0 || r->headers != NULL));
    if (hc < 0)
        return KW_ERR_NEGATIVE_LENGTH;
    if (hc > 0 && r->headers == NULL)
        return KW_ERR_UNEXPECTED_NULL;
    size_t body = 1 + varlong_size(r->timestamp_delta) + varlong_size(r->offset_delta) +
                  varlong_size(hc);
    kw_err e = var_bytes_size(r->key, &body);
    if (e == KW_OK)
        e = var_bytes_size(r->value, &body);
    for (int32_t h = 0; e == KW_OK && h < hc; h++) {
        if (kw_slice_is_null(r->headers[h].key))
            return KW_ERR_UNEXPECTED_NULL;
        e = var_bytes_size(r->headers[h].key, &body);
        if (e == KW_OK)
            e = var_bytes_size(r->headers[h].value, &body);
    }
    if (e != KW_OK)
        return e;
    /* the record's length is a varint: the body must fit int32 */
    if (body > INT32_MAX)
        return KW_ERR_TOO_LONG;
    *out = varlong_size((int64_t)body) + body;
    return KW_OK;
}

kw_err kw_records_size(const kw_record_spec *records, size_t count, size_t *size)
{
    assert(count == 0 || records != NULL);
    if (count > INT32_MAX)
        return KW_ERR_TOO_LONG;
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        size_t n;
        kw_err e = record_size(&records[i], &n);
        if (e != KW_OK)
            return e;
        if (!add_size(&total, n))
            return KW_ERR_TOO_LONG;
    }
    *size = total;
    return KW_OK;
}

/* ---- records ------------------------------------------------------------------ */

static void build_var_bytes(kw_builder *b, kw_slice s, size_t lend_min)
{
    if (kw_slice_is_null(s)) {
        kw_build_varint(b, -1);
        return;
    }
    if (s.len > INT32_MAX) {
        kw_builder_fail(b, KW_ERR_TOO_LONG);
        return;
    }
    if (lend_min != 0 && s.len >= lend_min)
        kw_build_reference(b, s.ptr, s.len);
    else
        kw_build_raw(b, s.ptr, s.len);
    kw_build_varint(b, (int32_t)s.len);
}

static void build_record(kw_builder *b, const kw_record_spec *r, size_t lend_min)
{
    int32_t hc = r->header_count;
    assert(hc >= 0 && (hc == 0 || r->headers != NULL));
    if (hc < 0 || (hc > 0 && r->headers == NULL)) {
        kw_builder_fail(b, hc < 0 ? KW_ERR_NEGATIVE_LENGTH : KW_ERR_UNEXPECTED_NULL);
        return;
    }
    size_t mark = kw_builder_size(b);
    for (int32_t h = hc; h-- > 0;) {
        const kw_record_header *hd = &r->headers[h];
        /* the view rejects null header keys, so the builder never writes one */
        if (kw_slice_is_null(hd->key)) {
            kw_builder_fail(b, KW_ERR_UNEXPECTED_NULL);
            return;
        }
        build_var_bytes(b, hd->value, lend_min);
        build_var_bytes(b, hd->key, lend_min);
    }
    kw_build_varint(b, hc);
    build_var_bytes(b, r->value, lend_min);
    build_var_bytes(b, r->key, lend_min);
    kw_build_varint(b, r->offset_delta);
    kw_build_varlong(b, r->timestamp_delta);
    kw_build_i8(b, r->attributes);
    kw_build_length_varint(b, mark);
}

kw_err kw_build_records_region(kw_builder *b, const kw_record_spec *records, size_t count,
                               size_t lend_min)
{
    assert(count == 0 || records != NULL);
    for (size_t i = count; i-- > 0 && kw_builder_error(b) == KW_OK;)
        build_record(b, &records[i], lend_min);
    return kw_builder_error(b);
}

/* ---- batch header ---------------------------------------------------------------- */

static int32_t auto_last_offset_delta(const kw_record_spec *records, size_t count)
{
    int32_t last = 0;
    for (size_t i = 0; i < count; i++)
        if (i == 0 || records[i].offset_delta > last)
            last = records[i].offset_delta;
    return last;
}

static int64_t auto_max_timestamp(int64_t base, const kw_record_spec *records, size_t count)
{
    if (count == 0)
        return -1; /* Kafka's NO_TIMESTAMP */
    int64_t max = records[0].timestamp_delta;
    for (size_t i = 1; i < count; i++)
        if (records[i].timestamp_delta > max)
            max = records[i].timestamp_delta;
    /* wraps as Java's long addition does, without signed overflow */
    return (int64_t)((uint64_t)base + (uint64_t)max);
}

/*
 * Everything in front of the records region, which ends at mark_end (the
 * builder's size before the region was written).
 */
static void build_batch_header(kw_builder *b, const kw_batch_spec *spec,
                               const kw_record_spec *records, size_t count, size_t mark_end)
{
    int32_t last_offset_delta = spec->last_offset_delta == KW_LAST_OFFSET_DELTA_AUTO
                                    ? auto_last_offset_delta(records, count)
                                    : spec->last_offset_delta;
    int64_t max_timestamp = spec->max_timestamp == KW_MAX_TIMESTAMP_AUTO
                                ? auto_max_timestamp(spec->base_timestamp, records, count)
                                : spec->max_timestamp;
    kw_build_i32(b, (int32_t)count);
    kw_build_i32(b, spec->base_sequence);
    kw_build_i16(b, spec->producer_epoch);
    kw_build_i64(b, spec->producer_id);
    kw_build_i64(b, max_timestamp);
    kw_build_i64(b, spec->base_timestamp);
    kw_build_i32(b, last_offset_delta);
    kw_build_i16(b, spec->attributes);
    /* attributes .. end are in place now: exactly what the CRC-32C covers */
    uint32_t crc = kw_builder_crc32c_since(b, mark_end);
    kw_build_u32(b, crc);
    kw_build_i8(b, 2);
    kw_build_i32(b, spec->partition_leader_epoch);
    kw_build_length_i32(b, mark_end);
    kw_build_i64(b, spec->base_offset);
}

kw_err kw_build_record_batch(kw_builder *b, const kw_batch_spec *spec,
                             const kw_record_spec *records, size_t count)
{
    assert(b != NULL && spec != NULL && (count == 0 || records != NULL));
    if (kw_builder_error(b) != KW_OK)
        return kw_builder_error(b);
    if ((spec->attributes & KW_ATTR_COMPRESSION_MASK) != KW_COMPRESSION_NONE)
        return kw_build_record_batch_compressed(b, spec, records, count, NULL);
    if (count > INT32_MAX) {
        kw_builder_fail(b, KW_ERR_TOO_LONG);
        return kw_builder_error(b);
    }
    size_t mark_end = kw_builder_size(b);
    kw_build_records_region(b, records, count, spec->lend_min);
    build_batch_header(b, spec, records, count, mark_end);
    return kw_builder_error(b);
}

kw_err kw_build_record_batch_compressed(kw_builder *b, const kw_batch_spec *spec,
                                        const kw_record_spec *records, size_t count,
                                        kw_builder *scratch)
{
    assert(b != NULL && spec != NULL && (count == 0 || records != NULL) && scratch != b);
    if (kw_builder_error(b) != KW_OK)
        return kw_builder_error(b);
    kw_compression codec = (kw_compression)(spec->attributes & KW_ATTR_COMPRESSION_MASK);
    if (codec == KW_COMPRESSION_NONE)
        return kw_build_record_batch(b, spec, records, count);
    if (!kw_compression_available(codec)) {
        kw_builder_fail(b, KW_ERR_COMPRESSION_UNSUPPORTED);
        return kw_builder_error(b);
    }
    size_t raw_size;
    kw_err e = kw_records_size(records, count, &raw_size);
    size_t bound = e == KW_OK ? kw_compress_bound(codec, raw_size) : 0;
    if (e == KW_OK && (bound == 0 || bound > SIZE_MAX - raw_size))
        e = KW_ERR_TOO_LONG;
    if (e != KW_OK) {
        kw_builder_fail(b, e);
        return e;
    }

    /* Without a scratch: one buffer, records at its end, compressed bytes in front. */
    kw_builder local;
    uint8_t *local_buf = NULL;
    if (scratch == NULL) {
        local_buf = malloc(raw_size + bound);
        if (local_buf == NULL) {
            kw_builder_fail(b, KW_ERR_OUT_OF_MEMORY);
            return kw_builder_error(b);
        }
        kw_builder_init(&local, local_buf, raw_size + bound, NULL, 0);
        scratch = &local;
    } else {
        kw_builder_reset(scratch);
    }

    uint8_t *in_copy = NULL, *out_alloc = NULL;
    e = kw_build_records_region(scratch, records, count, 0);
    const uint8_t *in = e == KW_OK ? kw_builder_contiguous(scratch) : NULL;
    if (e == KW_OK && in == NULL) {
        /* a growable scratch that spilled into several chunks */
        in_copy = malloc(raw_size);
        if (in_copy == NULL || kw_builder_copy_out(scratch, in_copy, raw_size) != raw_size)
            e = KW_ERR_OUT_OF_MEMORY;
        in = in_copy;
    }
    uint8_t *out = NULL;
    if (e == KW_OK) {
        /* The scratch's storage in front of its head is unused: compress into it if it fits. */
        if (scratch->buf != NULL && scratch->head >= bound) {
            out = scratch->buf;
        } else {
            out = out_alloc = malloc(bound);
            if (out == NULL)
                e = KW_ERR_OUT_OF_MEMORY;
        }
    }
    size_t clen = 0;
    if (e == KW_OK) {
        kw_slice raw = {in, raw_size};
        e = kw_compress(codec, spec->compression_level, raw, out, bound, &clen);
    }
    if (e == KW_OK) {
        size_t mark_end = kw_builder_size(b);
        kw_build_raw(b, out, clen);
        build_batch_header(b, spec, records, count, mark_end);
    } else {
        kw_builder_fail(b, e);
    }
    free(out_alloc);
    free(in_copy);
    free(local_buf);
    return kw_builder_error(b);
}

/* ---- legacy messages ------------------------------------------------------------------ */

kw_err kw_build_legacy_message(kw_builder *b, int8_t magic, int64_t offset, int8_t attributes,
                               int64_t timestamp, kw_slice key, kw_slice value)
{
    assert(b != NULL);
    if (kw_builder_error(b) != KW_OK)
        return kw_builder_error(b);
    if (magic != 0 && magic != 1) {
        kw_builder_fail(b, KW_ERR_BAD_MAGIC);
        return kw_builder_error(b);
    }
    size_t mark_end = kw_builder_size(b);
    kw_build_nullable_bytes(b, value);
    kw_build_nullable_bytes(b, key);
    if (magic == 1)
        kw_build_i64(b, timestamp);
    kw_build_i8(b, attributes);
    kw_build_i8(b, magic);
    /* CRC-32 covers magic .. end: what is written since mark_end */
    uint32_t crc = kw_builder_crc32_since(b, mark_end);
    kw_build_u32(b, crc);
    kw_build_length_i32(b, mark_end);
    kw_build_i64(b, offset);
    return kw_builder_error(b);
}
