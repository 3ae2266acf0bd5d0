#include "kwire/records.h"

#include <stdio.h>

#include "kwire/crc.h"
#include "kwire/cursor.h"

/* Fewest bytes after the length field, per format (Kafka's record overheads). */
#define LEGACY_V0_MIN_LENGTH (KW_LEGACY_V0_MIN - KW_ENTRY_OVERHEAD)
#define LEGACY_V1_MIN_LENGTH (KW_LEGACY_V1_MIN - KW_ENTRY_OVERHEAD)
#define V2_MIN_LENGTH (KW_BATCH_V2_HEADER - KW_ENTRY_OVERHEAD)

/* Offsets of the v2 header fields the public constants leave out. */
#define V2_LENGTH 8u
#define V2_EPOCH 12u
#define V2_LAST_OFFSET_DELTA 23u
#define V2_BASE_TIMESTAMP 27u
#define V2_MAX_TIMESTAMP 35u
#define V2_PRODUCER_ID 43u
#define V2_PRODUCER_EPOCH 51u
#define V2_BASE_SEQUENCE 53u

/* The v2 header in wire order, to name the field a short input cuts. */
static const struct {
    uint8_t at, size;
    const char *name;
} v2_fields[] = {
    {0, 8, "base_offset"},
    {V2_LENGTH, 4, "batch_length"},
    {V2_EPOCH, 4, "partition_leader_epoch"},
    {KW_ENTRY_MAGIC_OFFSET, 1, "magic"},
    {KW_BATCH_V2_CRC_OFFSET, 4, "crc"},
    {KW_BATCH_V2_ATTRIBUTES_OFFSET, 2, "attributes"},
    {V2_LAST_OFFSET_DELTA, 4, "last_offset_delta"},
    {V2_BASE_TIMESTAMP, 8, "base_timestamp"},
    {V2_MAX_TIMESTAMP, 8, "max_timestamp"},
    {V2_PRODUCER_ID, 8, "producer_id"},
    {V2_PRODUCER_EPOCH, 2, "producer_epoch"},
    {V2_BASE_SEQUENCE, 4, "base_sequence"},
    {KW_BATCH_V2_RECORD_COUNT_OFFSET, 4, "record_count"},
};

/* The legacy crc field, and where its CRC-32 coverage starts: the magic byte. */
#define LEGACY_CRC_OFFSET 12u
#define LEGACY_CRC_START 16u

/* ---- shared helpers ----------------------------------------------------- */

/* a + b without signed overflow; false when the sum does not fit. */
static bool add_i64(int64_t a, int64_t b, int64_t *out)
{
    if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
        return false;
    *out = a + b;
    return true;
}

/* ---- entries -------------------------------------------------------------- */

void kw_batch_iter_init_at(kw_batch_iter *it, kw_slice records, size_t base, unsigned flags)
{
    it->start = records.ptr;
    it->pos = records.ptr;
    it->end = records.ptr ? records.ptr + records.len : NULL;
    it->base = base;
    it->flags = flags;
    it->partial = 0;
    it->err.code = KW_OK;
    it->err.offset = 0;
    it->err.field = NULL;
}

void kw_batch_iter_init(kw_batch_iter *it, kw_slice records, unsigned flags)
{
    kw_batch_iter_init_at(it, records, 0, flags);
}

static KW_NOINLINE int batch_fail(kw_batch_iter *it, kw_err code, size_t at, const char *field)
{
    it->err.code = code;
    it->err.offset = it->base + at;
    it->err.field = field;
    it->pos = it->end;
    return -1;
}

/* The cut-short tail is the caller's business, not an error of ours. */
static int batch_partial(kw_batch_iter *it, size_t left)
{
    it->partial = left;
    it->pos = it->end;
    return 0;
}

/* Decodes the 61 header bytes at p; raw and records are the caller's. */
static void decode_v2_header(kw_record_batch *b, const uint8_t *p, size_t pos)
{
    b->base_offset = (int64_t)kw_load_be64(p);
    b->batch_length = (int32_t)kw_load_be32(p + V2_LENGTH);
    b->partition_leader_epoch = (int32_t)kw_load_be32(p + V2_EPOCH);
    b->magic = (int8_t)p[KW_ENTRY_MAGIC_OFFSET];
    b->crc = kw_load_be32(p + KW_BATCH_V2_CRC_OFFSET);
    b->attributes = (int16_t)kw_load_be16(p + KW_BATCH_V2_ATTRIBUTES_OFFSET);
    b->last_offset_delta = (int32_t)kw_load_be32(p + V2_LAST_OFFSET_DELTA);
    b->base_timestamp = (int64_t)kw_load_be64(p + V2_BASE_TIMESTAMP);
    b->max_timestamp = (int64_t)kw_load_be64(p + V2_MAX_TIMESTAMP);
    b->producer_id = (int64_t)kw_load_be64(p + V2_PRODUCER_ID);
    b->producer_epoch = (int16_t)kw_load_be16(p + V2_PRODUCER_EPOCH);
    b->base_sequence = (int32_t)kw_load_be32(p + V2_BASE_SEQUENCE);
    b->record_count = (int32_t)kw_load_be32(p + KW_BATCH_V2_RECORD_COUNT_OFFSET);
    b->pos = pos;
}

static void decode_v2(kw_record_batch *b, const uint8_t *p, size_t size, size_t pos)
{
    decode_v2_header(b, p, pos);
    b->records.ptr = p + KW_BATCH_V2_HEADER;
    b->records.len = size - KW_BATCH_V2_HEADER;
    b->raw.ptr = p;
    b->raw.len = size;
}

/*
 * Checks and decodes a whole legacy message. The CRC goes first (when asked
 * for) so that any corrupted byte it covers is reported as BAD_CRC rather
 * than as whatever structural error the corruption happens to cause.
 */
static int decode_legacy(kw_batch_iter *it, kw_legacy_message *m, const uint8_t *p, size_t size,
                         size_t at)
{
    m->offset = (int64_t)kw_load_be64(p);
    m->message_size = (int32_t)kw_load_be32(p + 8);
    m->crc = kw_load_be32(p + 12);
    m->magic = (int8_t)p[16];
    m->attributes = (int8_t)p[17];
    m->raw.ptr = p;
    m->raw.len = size;
    m->pos = it->base + at;
    if ((it->flags & KW_VERIFY_CRC) && kw_legacy_message_verify_crc(m) != KW_OK)
        return batch_fail(it, KW_ERR_BAD_CRC, at + LEGACY_CRC_OFFSET, "crc");

    /* message_size bounds the reader: running past it means the sizes disagree. */
    kw_reader r;
    kw_reader_init(&r, p, size);
    kw_reader_skip(&r, 18);
    m->timestamp = m->magic >= 1 ? kw_read_i64(&r) : -1;

    const char *field = "key";
    m->key = kw_read_nullable_bytes(&r);
    if (kw_reader_ok(&r)) {
        field = "value";
        m->value = kw_read_nullable_bytes(&r);
    }
    if (kw_reader_ok(&r)) {
        field = "message_size";
        kw_reader_expect_end(&r);
    }
    if (!kw_reader_ok(&r)) {
        kw_err code = r.err;
        if (code == KW_ERR_TRUNCATED || code == KW_ERR_TRAILING_BYTES)
            code = KW_ERR_BAD_RECORD_LENGTH;
        return batch_fail(it, code, at + r.err_offset, field);
    }
    /* A wrapper's value is the inner message set; without it there is nothing. */
    if (kw_legacy_message_compression(m) != KW_COMPRESSION_NONE && kw_slice_is_null(m->value)) {
        size_t value_at = size - 4;
        return batch_fail(it, KW_ERR_UNEXPECTED_NULL, at + value_at, "value");
    }
    return 1;
}

int kw_batch_iter_next(kw_batch_iter *it, kw_batch *out)
{
    if (it->err.code != KW_OK)
        return -1;
    const uint8_t *p = it->pos;
    size_t left = (size_t)(it->end - p);
    if (left == 0)
        return 0;
    size_t at = (size_t)(p - it->start);
    if (left < KW_ENTRY_OVERHEAD)
        return batch_partial(it, left);

    int32_t length = (int32_t)kw_load_be32(p + 8);
    bool magic_seen = left > KW_ENTRY_MAGIC_OFFSET;
    bool legacy = magic_seen && p[KW_ENTRY_MAGIC_OFFSET] < 2;
    const char *length_field = legacy ? "message_size" : "batch_length";
    /* No format fits in fewer bytes than a v0 message: corrupt whatever the magic. */
    if (length < (int32_t)LEGACY_V0_MIN_LENGTH)
        return batch_fail(it, KW_ERR_BAD_BATCH_LENGTH, at + 8, length_field);
    if (!magic_seen)
        return batch_partial(it, left);

    int8_t magic = (int8_t)p[KW_ENTRY_MAGIC_OFFSET];
    uint32_t min_length;
    switch (magic) {
    case 0: min_length = LEGACY_V0_MIN_LENGTH; break;
    case 1: min_length = LEGACY_V1_MIN_LENGTH; break;
    case 2: min_length = V2_MIN_LENGTH; break;
    default: return batch_fail(it, KW_ERR_BAD_MAGIC, at + KW_ENTRY_MAGIC_OFFSET, "magic");
    }
    if ((uint32_t)length < min_length)
        return batch_fail(it, KW_ERR_BAD_BATCH_LENGTH, at + 8, length_field);
    if ((size_t)(uint32_t)length > left - KW_ENTRY_OVERHEAD)
        return batch_partial(it, left);

    size_t size = KW_ENTRY_OVERHEAD + (size_t)(uint32_t)length;
    out->magic = magic;
    out->raw.ptr = p;
    out->raw.len = size;
    out->pos = it->base + at;
    it->pos = p + size;

    if (magic == 2) {
        decode_v2(&out->v2, p, size, out->pos);
        if ((it->flags & KW_VERIFY_CRC) && kw_record_batch_verify_crc(&out->v2) != KW_OK)
            return batch_fail(it, KW_ERR_BAD_CRC, at + KW_BATCH_V2_CRC_OFFSET, "crc");
        return 1;
    }
    return decode_legacy(it, &out->legacy, p, size, at);
}

/* ---- record batch v2 ------------------------------------------------------ */

static KW_NOINLINE kw_err header_fail(kw_error *err, kw_err code, size_t offset,
                                      const char *field)
{
    if (err) {
        err->code = code;
        err->offset = offset;
        err->field = field;
    }
    return code;
}

/* The header checks of kw_record_batch_read_header, offsets from 0. */
static kw_err check_v2_header(const uint8_t *p, size_t len, kw_error *err, size_t base)
{
    /* Another magic gives batch_length another meaning: it goes first. */
    if (len > KW_ENTRY_MAGIC_OFFSET && p[KW_ENTRY_MAGIC_OFFSET] != 2)
        return header_fail(err, KW_ERR_BAD_MAGIC, base + KW_ENTRY_MAGIC_OFFSET, "magic");
    if (len >= V2_LENGTH + 4 && (int32_t)kw_load_be32(p + V2_LENGTH) < (int32_t)V2_MIN_LENGTH)
        return header_fail(err, KW_ERR_BAD_BATCH_LENGTH, base + V2_LENGTH, "batch_length");
    if (len < KW_BATCH_V2_HEADER) {
        size_t i = 0;
        while (v2_fields[i].at + v2_fields[i].size <= len)
            i++;
        return header_fail(err, KW_ERR_TRUNCATED, base + v2_fields[i].at, v2_fields[i].name);
    }
    if (err) {
        err->code = KW_OK;
        err->offset = 0;
        err->field = NULL;
    }
    return KW_OK;
}

kw_err kw_record_batch_read_header(kw_record_batch *out, kw_slice bytes, size_t base,
                                   kw_error *err)
{
    size_t len = bytes.ptr ? bytes.len : 0;
    kw_err code = check_v2_header(bytes.ptr, len, err, base);
    if (code != KW_OK)
        return code;
    decode_v2_header(out, bytes.ptr, base);
    size_t size = kw_record_batch_size(out);
    if (size <= len) {
        out->raw.ptr = bytes.ptr;
        out->raw.len = size;
        out->records.ptr = bytes.ptr + KW_BATCH_V2_HEADER;
        out->records.len = size - KW_BATCH_V2_HEADER;
    } else {
        out->raw.ptr = out->records.ptr = NULL;
        out->raw.len = out->records.len = 0;
    }
    return KW_OK;
}

uint32_t kw_record_batch_compute_crc(const kw_record_batch *b)
{
    if (!b->raw.ptr || b->raw.len < KW_BATCH_V2_HEADER)
        return 0;
    return kw_crc32c(0, b->raw.ptr + KW_BATCH_V2_ATTRIBUTES_OFFSET,
                     b->raw.len - KW_BATCH_V2_ATTRIBUTES_OFFSET);
}

kw_err kw_record_batch_verify_crc(const kw_record_batch *b)
{
    if (!b->raw.ptr || b->raw.len < KW_BATCH_V2_HEADER)
        return KW_ERR_TRUNCATED;
    return kw_record_batch_compute_crc(b) == b->crc ? KW_OK : KW_ERR_BAD_CRC;
}

kw_err kw_record_batch_set_base_offset(uint8_t *batch, size_t len, int64_t base_offset,
                                       kw_error *err)
{
    kw_err code = check_v2_header(batch, batch ? len : 0, err, 0);
    if (code == KW_OK)
        kw_store_be64(batch, (uint64_t)base_offset);
    return code;
}

kw_err kw_record_batch_set_partition_leader_epoch(uint8_t *batch, size_t len,
                                                  int32_t partition_leader_epoch, kw_error *err)
{
    kw_err code = check_v2_header(batch, batch ? len : 0, err, 0);
    if (code == KW_OK)
        kw_store_be32(batch + V2_EPOCH, (uint32_t)partition_leader_epoch);
    return code;
}

kw_err kw_record_batch_set_producer(uint8_t *batch, size_t len, int64_t producer_id,
                                    int16_t producer_epoch, int32_t base_sequence, kw_error *err)
{
    kw_record_batch b;
    kw_err code = kw_record_batch_read_header(&b, (kw_slice){batch, len}, 0, err);
    if (code != KW_OK)
        return code;
    if (!b.raw.ptr)
        return header_fail(err, KW_ERR_TRUNCATED, V2_LENGTH, "batch_length");
    if (kw_record_batch_verify_crc(&b) != KW_OK)
        return header_fail(err, KW_ERR_BAD_CRC, KW_BATCH_V2_CRC_OFFSET, "crc");
    kw_store_be64(batch + V2_PRODUCER_ID, (uint64_t)producer_id);
    kw_store_be16(batch + V2_PRODUCER_EPOCH, (uint16_t)producer_epoch);
    kw_store_be32(batch + V2_BASE_SEQUENCE, (uint32_t)base_sequence);
    kw_store_be32(batch + KW_BATCH_V2_CRC_OFFSET, kw_record_batch_compute_crc(&b));
    return KW_OK;
}

bool kw_record_batch_last_offset(const kw_record_batch *b, int64_t *out)
{
    return add_i64(b->base_offset, b->last_offset_delta, out);
}

/* ---- legacy messages ------------------------------------------------------ */

uint32_t kw_legacy_message_compute_crc(const kw_legacy_message *m)
{
    return kw_crc32(0, m->raw.ptr + LEGACY_CRC_START, m->raw.len - LEGACY_CRC_START);
}

kw_err kw_legacy_message_verify_crc(const kw_legacy_message *m)
{
    return kw_legacy_message_compute_crc(m) == m->crc ? KW_OK : KW_ERR_BAD_CRC;
}

/* ---- records of a v2 batch ---------------------------------------------- */

/*
 * Latches an error at byte at of the region (offsets count from it->base,
 * plus base_offset). Record and header indexes name the field; -1 leaves a
 * level out.
 */
static KW_NOINLINE int record_fail_abs(kw_record_iter *it, kw_err code, size_t offset,
                                       int32_t record, int32_t header, const char *what)
{
    if (record < 0)
        snprintf(it->path, sizeof it->path, "%s", what);
    else if (header < 0)
        snprintf(it->path, sizeof it->path, "records[%ld].%s", (long)record, what);
    else
        snprintf(it->path, sizeof it->path, "records[%ld].headers[%ld].%s", (long)record,
                 (long)header, what);
    it->err.code = code;
    it->err.offset = offset;
    it->err.field = it->path;
    it->pos = it->end;
    return -1;
}

static int record_fail(kw_record_iter *it, kw_err code, size_t at, int32_t record,
                       int32_t header, const char *what)
{
    return record_fail_abs(it, code, it->base_offset + at, record, header, what);
}

static void record_iter_start(kw_record_iter *it, kw_slice records, int32_t count,
                              size_t base_offset, size_t count_at)
{
    /* A null region reads as empty; the reader needs a non-NULL base either way. */
    static const uint8_t empty[1];
    const uint8_t *p = records.ptr ? records.ptr : empty;
    it->base = p;
    it->base_offset = base_offset;
    it->pos = p;
    it->end = p + (records.ptr ? records.len : 0);
    it->count = count;
    it->index = 0;
    it->err.code = KW_OK;
    it->err.offset = 0;
    it->err.field = NULL;
    it->path[0] = '\0';
    if (count < 0)
        record_fail_abs(it, KW_ERR_RECORD_COUNT, count_at, -1, -1, "record_count");
}

void kw_record_iter_init_raw(kw_record_iter *it, kw_slice records, int32_t record_count,
                             size_t base_offset)
{
    record_iter_start(it, records, record_count, base_offset, base_offset);
}

void kw_record_iter_init(kw_record_iter *it, const kw_record_batch *b)
{
    if (kw_record_batch_compression(b) != KW_COMPRESSION_NONE) {
        kw_slice none = {NULL, 0};
        record_iter_start(it, none, 0, b->pos + KW_BATCH_V2_HEADER, 0);
        record_fail_abs(it, KW_ERR_COMPRESSED, b->pos + KW_BATCH_V2_ATTRIBUTES_OFFSET, -1, -1,
                        "attributes");
        return;
    }
    record_iter_start(it, b->records, b->record_count, b->pos + KW_BATCH_V2_HEADER,
                      b->pos + KW_BATCH_V2_RECORD_COUNT_OFFSET);
}

/* Varint-length bytes: -1 is null (when allowed), other negatives are errors. */
static kw_slice read_var_bytes(kw_reader *r, bool nullable)
{
    kw_slice s = {NULL, 0};
    size_t at = kw_reader_offset(r);
    int32_t n = kw_read_varint(r);
    if (!kw_reader_ok(r))
        return s;
    if (n < 0) {
        if (n == -1 && nullable)
            return s;
        kw_reader_fail_at(r, n == -1 ? KW_ERR_UNEXPECTED_NULL : KW_ERR_NEGATIVE_LENGTH, at);
        return s;
    }
    const uint8_t *p = r->pos;
    kw_reader_skip(r, (size_t)n);
    if (kw_reader_ok(r)) {
        s.ptr = p;
        s.len = (size_t)n;
    }
    return s;
}

/*
 * Inside a record the reader ends where the record's length says; a field
 * that runs past it means the length and the fields disagree.
 */
static kw_err in_record(kw_err code)
{
    return code == KW_ERR_TRUNCATED ? KW_ERR_BAD_RECORD_LENGTH : code;
}

int kw_record_iter_next(kw_record_iter *it, kw_record *out)
{
    if (it->err.code != KW_OK)
        return -1;
    size_t at = (size_t)(it->pos - it->base);
    if (it->index == it->count) {
        if (it->pos != it->end)
            return record_fail(it, KW_ERR_RECORD_COUNT, at, -1, -1, "record_count");
        return 0;
    }
    if (it->pos == it->end)
        return record_fail(it, KW_ERR_RECORD_COUNT, at, -1, -1, "record_count");

    int32_t idx = it->index;
    kw_reader r;
    kw_reader_init(&r, it->base, (size_t)(it->end - it->base));
    r.pos = it->pos;

    int32_t length = kw_read_varint(&r);
    if (!kw_reader_ok(&r))
        return record_fail(it, r.err, r.err_offset, idx, -1, "length");
    if (length < 0)
        return record_fail(it, KW_ERR_BAD_RECORD_LENGTH, at, idx, -1, "length");
    kw_reader body = kw_reader_take(&r, (size_t)length);
    if (!kw_reader_ok(&r))
        return record_fail(it, r.err, r.err_offset, idx, -1, "length");

    const char *what = "attributes";
    int32_t h = -1;
    out->attributes = kw_read_i8(&body);
    if (!kw_reader_ok(&body))
        goto fail;
    what = "timestamp_delta";
    out->timestamp_delta = kw_read_varlong(&body);
    if (!kw_reader_ok(&body))
        goto fail;
    what = "offset_delta";
    out->offset_delta = kw_read_varint(&body);
    if (!kw_reader_ok(&body))
        goto fail;
    what = "key";
    out->key = read_var_bytes(&body, true);
    if (!kw_reader_ok(&body))
        goto fail;
    what = "value";
    out->value = read_var_bytes(&body, true);
    if (!kw_reader_ok(&body))
        goto fail;

    what = "header_count";
    size_t count_at = kw_reader_offset(&body);
    int32_t count = kw_read_varint(&body);
    if (!kw_reader_ok(&body))
        goto fail;
    if (count < 0) {
        kw_err code = count == -1 ? KW_ERR_UNEXPECTED_NULL : KW_ERR_NEGATIVE_LENGTH;
        return record_fail(it, code, count_at, idx, -1, what);
    }
    /* Each header takes at least its two length varints. */
    if ((uint32_t)count > kw_reader_remaining(&body) / 2)
        return record_fail(it, KW_ERR_COUNT_TOO_LARGE, count_at, idx, -1, what);

    const uint8_t *headers = body.pos;
    for (h = 0; h < count; h++) {
        what = "key";
        (void)read_var_bytes(&body, false);
        if (!kw_reader_ok(&body))
            goto fail;
        what = "value";
        (void)read_var_bytes(&body, true);
        if (!kw_reader_ok(&body))
            goto fail;
    }
    h = -1;
    if (body.pos != body.end)
        return record_fail(it, KW_ERR_BAD_RECORD_LENGTH, kw_reader_offset(&body), idx, -1,
                           "length");

    out->length = length;
    out->header_count = count;
    out->headers.ptr = headers;
    out->headers.len = (size_t)(body.pos - headers);
    out->raw.ptr = it->pos;
    out->raw.len = (size_t)(body.end - it->pos);
    it->pos = body.end;
    it->index++;
    return 1;

fail:
    return record_fail(it, in_record(body.err), body.err_offset, idx, h, what);
}

bool kw_record_offset(const kw_record_batch *b, const kw_record *r, int64_t *out)
{
    return add_i64(b->base_offset, r->offset_delta, out);
}

bool kw_record_timestamp(const kw_record_batch *b, const kw_record *r, int64_t *out)
{
    /* The broker stamps the whole batch; per-record deltas no longer apply. */
    if (kw_record_batch_timestamp_type(b) == KW_TIMESTAMP_LOG_APPEND_TIME) {
        *out = b->max_timestamp;
        return true;
    }
    return add_i64(b->base_timestamp, r->timestamp_delta, out);
}

kw_err kw_record_control_type(const kw_record *r, int16_t *type)
{
    if (kw_slice_is_null(r->key))
        return KW_ERR_UNEXPECTED_NULL;
    if (r->key.len < 4)
        return KW_ERR_TRUNCATED;
    *type = (int16_t)kw_load_be16(r->key.ptr + 2);
    return KW_OK;
}

/* ---- headers of a validated record ---------------------------------------- */

/* Zigzag varint with no bounds checks: the bytes were validated before. */
static int32_t varint_unchecked(const uint8_t **pp)
{
    const uint8_t *p = *pp;
    uint32_t u = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
        b = *p++;
        u |= (uint32_t)(b & 0x7f) << shift;
        shift += 7;
    } while ((b & 0x80) && shift < 35);
    *pp = p;
    return (int32_t)((u >> 1) ^ (0u - (u & 1u)));
}

static kw_slice var_bytes_unchecked(const uint8_t **pp)
{
    kw_slice s = {NULL, 0};
    int32_t n = varint_unchecked(pp);
    if (n >= 0) {
        s.ptr = *pp;
        s.len = (size_t)n;
        *pp += n;
    }
    return s;
}

bool kw_record_header_iter_next_unchecked(kw_record_header_iter *it, kw_record_header *out)
{
    if (it->pos == it->end)
        return false;
    const uint8_t *p = it->pos;
    out->key = var_bytes_unchecked(&p);
    out->value = var_bytes_unchecked(&p);
    it->pos = p;
    return true;
}
