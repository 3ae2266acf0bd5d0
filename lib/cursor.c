#include "kwire/cursor.h"

void kw_reader_fail_at(kw_reader *r, kw_err code, size_t offset)
{
    if (r->err == KW_OK) {
        r->err = code;
        r->err_offset = offset;
    }
    /* Park at the end: every later read fails its bounds check at once. */
    r->pos = r->end;
}

void kw_reader_fail(kw_reader *r, kw_err code)
{
    kw_reader_fail_at(r, code, kw_reader_offset(r));
}

KW_NOINLINE void kw_reader_fail_truncated_(kw_reader *r)
{
    kw_reader_fail(r, KW_ERR_TRUNCATED);
}

KW_NOINLINE void kw_reader_fail_varint_(kw_reader *r, kw_err code)
{
    kw_reader_fail(r, code);
}

/* Takes len payload bytes after a length prefix that started at start. */
static kw_slice take_payload(kw_reader *r, size_t len)
{
    kw_slice s = {NULL, 0};
    const uint8_t *p = kw_reader_need_(r, len);
    if (p) {
        s.ptr = p;
        s.len = len;
    } else {
        s.ptr = r->pos; /* an empty, non-null slice after a failure */
    }
    return s;
}

static kw_slice null_slice(void)
{
    kw_slice s = {NULL, 0};
    return s;
}

/* An empty non-null slice at the current position: what a failed read returns. */
static kw_slice empty_slice(const kw_reader *r)
{
    kw_slice s = {r->pos, 0};
    return s;
}

/*
 * Classic lengths: -1 is null, other negatives are errors. The error offset
 * is the length prefix itself, where the bad value sits.
 */
static kw_slice classic_payload(kw_reader *r, int64_t len, size_t prefix_offset, bool nullable)
{
    if (!kw_reader_ok(r))
        return empty_slice(r);
    if (len == -1) {
        if (nullable)
            return null_slice();
        kw_reader_fail_at(r, KW_ERR_UNEXPECTED_NULL, prefix_offset);
        return empty_slice(r);
    }
    if (len < 0) {
        kw_reader_fail_at(r, KW_ERR_NEGATIVE_LENGTH, prefix_offset);
        return empty_slice(r);
    }
    return take_payload(r, (size_t)len);
}

/* Compact lengths: unsigned varint N, 0 is null, else N - 1 bytes follow. */
static kw_slice compact_payload(kw_reader *r, bool nullable)
{
    size_t prefix_offset = kw_reader_offset(r);
    uint32_t n = kw_read_uvarint(r);
    if (!kw_reader_ok(r))
        return empty_slice(r);
    if (n == 0) {
        if (nullable)
            return null_slice();
        kw_reader_fail_at(r, KW_ERR_UNEXPECTED_NULL, prefix_offset);
        return empty_slice(r);
    }
    return take_payload(r, (size_t)n - 1);
}

kw_slice kw_read_string(kw_reader *r)
{
    size_t at = kw_reader_offset(r);
    return classic_payload(r, kw_read_i16(r), at, false);
}

kw_slice kw_read_nullable_string(kw_reader *r)
{
    size_t at = kw_reader_offset(r);
    return classic_payload(r, kw_read_i16(r), at, true);
}

kw_slice kw_read_compact_string(kw_reader *r) { return compact_payload(r, false); }

kw_slice kw_read_compact_nullable_string(kw_reader *r) { return compact_payload(r, true); }

kw_slice kw_read_bytes(kw_reader *r)
{
    size_t at = kw_reader_offset(r);
    return classic_payload(r, kw_read_i32(r), at, false);
}

kw_slice kw_read_nullable_bytes(kw_reader *r)
{
    size_t at = kw_reader_offset(r);
    return classic_payload(r, kw_read_i32(r), at, true);
}

kw_slice kw_read_compact_bytes(kw_reader *r) { return compact_payload(r, false); }

kw_slice kw_read_compact_nullable_bytes(kw_reader *r) { return compact_payload(r, true); }

kw_slice kw_read_records(kw_reader *r) { return kw_read_nullable_bytes(r); }

kw_slice kw_read_compact_records(kw_reader *r) { return compact_payload(r, true); }

/*
 * Checks a decoded count against the bytes left, so no caller iterates (or
 * sizes anything by) a count the input cannot back.
 */
static int32_t checked_count(kw_reader *r, int64_t count, size_t prefix_offset, bool nullable,
                             size_t min_element_size)
{
    if (!kw_reader_ok(r))
        return 0;
    if (count == -1) {
        if (nullable)
            return -1;
        kw_reader_fail_at(r, KW_ERR_UNEXPECTED_NULL, prefix_offset);
        return 0;
    }
    if (count < 0) {
        kw_reader_fail_at(r, KW_ERR_NEGATIVE_LENGTH, prefix_offset);
        return 0;
    }
    size_t unit = min_element_size ? min_element_size : 1;
    if (count > INT32_MAX) { /* compact counts reach 2^32 - 2 */
        kw_reader_fail_at(r, KW_ERR_COUNT_TOO_LARGE, prefix_offset);
        return 0;
    }
    /* count < 2^31 and unit < 2^32: the product fits 64 bits, no division needed. */
    if (unit > UINT32_MAX ? count > 0 : (uint64_t)count * unit > kw_reader_remaining(r)) {
        kw_reader_fail_at(r, KW_ERR_COUNT_TOO_LARGE, prefix_offset);
        return 0;
    }
    return (int32_t)count;
}

int32_t kw_read_array(kw_reader *r, size_t min_element_size)
{
    size_t at = kw_reader_offset(r);
    return checked_count(r, kw_read_i32(r), at, false, min_element_size);
}

int32_t kw_read_nullable_array(kw_reader *r, size_t min_element_size)
{
    size_t at = kw_reader_offset(r);
    return checked_count(r, kw_read_i32(r), at, true, min_element_size);
}

static int32_t compact_count(kw_reader *r, bool nullable, size_t min_element_size)
{
    size_t at = kw_reader_offset(r);
    uint32_t n = kw_read_uvarint(r);
    /* N + 1 encoding: 0 is null; N - 1 may exceed INT32_MAX, which no buffer backs. */
    int64_t count = (int64_t)n - 1;
    return checked_count(r, count, at, nullable, min_element_size);
}

int32_t kw_read_compact_array(kw_reader *r, size_t min_element_size)
{
    return compact_count(r, false, min_element_size);
}

int32_t kw_read_compact_nullable_array(kw_reader *r, size_t min_element_size)
{
    return compact_count(r, true, min_element_size);
}

kw_tagged_fields kw_read_tagged_fields(kw_reader *r)
{
    kw_tagged_fields tf = {0, {NULL, 0}};
    size_t at = kw_reader_offset(r);
    uint32_t count = kw_read_uvarint(r);
    if (!kw_reader_ok(r))
        return tf;
    /* Each field takes at least a one-byte tag and a one-byte size. */
    if (count > kw_reader_remaining(r) / 2) {
        kw_reader_fail_at(r, KW_ERR_COUNT_TOO_LARGE, at);
        return tf;
    }
    const uint8_t *start = r->pos;
    uint64_t prev_tag = 0;
    for (uint32_t i = 0; i < count; i++) {
        size_t tag_at = kw_reader_offset(r);
        uint32_t tag = kw_read_uvarint(r);
        uint32_t size = kw_read_uvarint(r);
        if (!kw_reader_ok(r))
            return tf;
        if (i > 0 && (uint64_t)tag <= prev_tag) {
            kw_reader_fail_at(r, KW_ERR_TAG_ORDER, tag_at);
            return tf;
        }
        prev_tag = tag;
        kw_reader_skip(r, size);
        if (!kw_reader_ok(r))
            return tf;
    }
    tf.count = count;
    tf.fields.ptr = start;
    tf.fields.len = (size_t)(r->pos - start);
    return tf;
}

/* Reads an unsigned varint from validated bytes. */
static uint32_t uvarint_unchecked(const uint8_t **pp)
{
    const uint8_t *p = *pp;
    uint32_t v = 0;
    unsigned shift = 0;
    for (;;) {
        uint32_t b = *p++;
        v |= (b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    *pp = p;
    return v;
}

bool kw_tag_iter_next(kw_tag_iter *it, kw_tagged_field *out)
{
    if (it->pos == NULL || it->pos >= it->end)
        return false;
    const uint8_t *p = it->pos;
    out->tag = uvarint_unchecked(&p);
    uint32_t size = uvarint_unchecked(&p);
    out->data.ptr = p;
    out->data.len = size;
    it->pos = p + size;
    return true;
}
