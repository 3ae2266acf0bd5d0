/*
 * Records: v2 batches, their records and headers, legacy message sets.
 * Every vector is written here by a small big-endian/varint writer that
 * follows the Kafka spec (KIP-98 batch layout, message set v0/v1), with the
 * CRCs filled in by kw_crc32c / kw_crc32.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "kwire/crc.h"
#include "kwire/cursor.h"
#include "kwire/record_builder.h"
#include "kwire/records.h"

/*
 * The exhaustive loops below make hundreds of thousands of checks, and
 * --full-stats reports every Criterion assertion made; these evaluate the
 * same Criterion assertion only when it is about to fail.
 */
#define KWT_EQ(a, b, ...) do { if (!((a) == (b))) cr_assert_eq((a), (b), __VA_ARGS__); } while (0)
#define KWT_NE(a, b, ...) do { if (!((a) != (b))) cr_assert_neq((a), (b), __VA_ARGS__); } while (0)
#define KWT_LT(a, b, ...) do { if (!((a) < (b))) cr_assert_lt((a), (b), __VA_ARGS__); } while (0)
#define KWT_TRUE(c, ...) do { if (!(c)) cr_assert((c), __VA_ARGS__); } while (0)
#define KWT_STR_EQ(a, b, ...)                                                                     \
    do {                                                                                          \
        if (strcmp((a), (b)) != 0)                                                                \
            cr_assert_str_eq((a), (b), __VA_ARGS__);                                              \
    } while (0)

/* ---- writer -------------------------------------------------------------- */

typedef struct wbuf {
    uint8_t b[4096];
    size_t n;
} wbuf;

/* Bytes for a key, value or header: n == -1 is null. */
typedef struct bs {
    const char *p;
    int32_t n;
} bs;

#define S(lit) ((bs){(lit), (int32_t)(sizeof(lit) - 1)})
#define NUL ((bs){NULL, -1})

typedef struct hdr {
    bs key;
    bs value;
} hdr;

static void w_u8(wbuf *w, uint8_t v)
{
    KWT_TRUE(w->n < sizeof w->b, "writer overflow");
    w->b[w->n++] = v;
}

static void w_raw(wbuf *w, const void *p, size_t n)
{
    KWT_TRUE(n <= sizeof w->b - w->n, "writer overflow");
    if (n)
        memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void w_be16(wbuf *w, uint16_t v)
{
    w_u8(w, (uint8_t)(v >> 8));
    w_u8(w, (uint8_t)v);
}

static void w_be32(wbuf *w, uint32_t v)
{
    uint8_t b[4];
    put_be32(b, v);
    w_raw(w, b, 4);
}

static void w_be64(wbuf *w, uint64_t v)
{
    w_be32(w, (uint32_t)(v >> 32));
    w_be32(w, (uint32_t)v);
}

static void w_uvar(wbuf *w, uint64_t v)
{
    while (v >= 0x80) {
        w_u8(w, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    w_u8(w, (uint8_t)v);
}

static void w_var(wbuf *w, int64_t v)
{
    uint64_t u = (uint64_t)v << 1;
    w_uvar(w, v < 0 ? ~u : u);
}

static void w_varbytes(wbuf *w, bs s)
{
    w_var(w, s.n);
    if (s.n > 0)
        w_raw(w, s.p, (size_t)s.n);
}

/* A record body, without its length. */
static void w_record_body(wbuf *w, int8_t attrs, int64_t ts_delta, int32_t off_delta, bs key,
                          bs value, size_t nh, const hdr *h)
{
    w_u8(w, (uint8_t)attrs);
    w_var(w, ts_delta);
    w_var(w, off_delta);
    w_varbytes(w, key);
    w_varbytes(w, value);
    w_var(w, (int64_t)nh);
    for (size_t i = 0; i < nh; i++) {
        w_varbytes(w, h[i].key);
        w_varbytes(w, h[i].value);
    }
}

static void w_record(wbuf *w, int64_t ts_delta, int32_t off_delta, bs key, bs value, size_t nh,
                     const hdr *h)
{
    wbuf body = {.n = 0};
    w_record_body(&body, 0, ts_delta, off_delta, key, value, nh, h);
    w_var(w, (int64_t)body.n);
    w_raw(w, body.b, body.n);
}

typedef struct bspec {
    int64_t base_offset;
    int32_t leader_epoch;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
} bspec;

/* Recomputes the CRC-32C of a v2 batch that starts at p and is n bytes long. */
static void fix_v2_crc(uint8_t *p, size_t n)
{
    put_be32(p + 17, kw_crc32c(0, p + 21, n - 21));
}

/* Recomputes the CRC-32 of a legacy message at p, n bytes long. */
static void fix_legacy_crc(uint8_t *p, size_t n)
{
    put_be32(p + 12, kw_crc32(0, p + 16, n - 16));
}

static void w_batch(wbuf *w, const bspec *s, const uint8_t *records, size_t n)
{
    size_t start = w->n;
    w_be64(w, (uint64_t)s->base_offset);
    w_be32(w, (uint32_t)(49 + n));
    w_be32(w, (uint32_t)s->leader_epoch);
    w_u8(w, 2);
    w_be32(w, 0); /* crc, filled below */
    w_be16(w, (uint16_t)s->attributes);
    w_be32(w, (uint32_t)s->last_offset_delta);
    w_be64(w, (uint64_t)s->base_timestamp);
    w_be64(w, (uint64_t)s->max_timestamp);
    w_be64(w, (uint64_t)s->producer_id);
    w_be16(w, (uint16_t)s->producer_epoch);
    w_be32(w, (uint32_t)s->base_sequence);
    w_be32(w, (uint32_t)s->record_count);
    w_raw(w, records, n);
    fix_v2_crc(w->b + start, w->n - start);
}

static void w_be32bytes(wbuf *w, bs s)
{
    w_be32(w, (uint32_t)s.n);
    if (s.n > 0)
        w_raw(w, s.p, (size_t)s.n);
}

static void w_legacy(wbuf *w, int8_t magic, int64_t offset, int8_t attrs, int64_t ts, bs key,
                     bs value)
{
    size_t start = w->n;
    w_be64(w, (uint64_t)offset);
    w_be32(w, 0); /* message_size, filled below */
    w_be32(w, 0); /* crc, filled below */
    w_u8(w, (uint8_t)magic);
    w_u8(w, (uint8_t)attrs);
    if (magic == 1)
        w_be64(w, (uint64_t)ts);
    w_be32bytes(w, key);
    w_be32bytes(w, value);
    put_be32(w->b + start + 8, (uint32_t)(w->n - start - 12));
    fix_legacy_crc(w->b + start, w->n - start);
}

/* ---- assertion helpers ------------------------------------------------------ */

static kw_slice sl(const void *p, size_t n)
{
    kw_slice s = {(const uint8_t *)p, n};
    return s;
}

static void expect_bytes(kw_slice got, bs want, const char *field)
{
    if (want.n < 0) {
        KWT_TRUE(kw_slice_is_null(got), "%s: want null, got %zu bytes", field, got.len);
        return;
    }
    KWT_TRUE(!kw_slice_is_null(got), "%s: want %d bytes, got null", field, (int)want.n);
    KWT_EQ(got.len, (size_t)want.n, "%s: length %zu, want %d", field, got.len, (int)want.n);
    if (want.n > 0)
        KWT_EQ(memcmp(got.ptr, want.p, got.len), 0, "%s: bytes differ", field);
}

static void expect_error(kw_error e, kw_err code, size_t offset, const char *field)
{
    KWT_EQ(e.code, code, "%s: error %s, want %s (offset %zu)", field, kw_err_name(e.code),
                 kw_err_name(code), e.offset);
    KWT_EQ(e.offset, offset, "%s: offset %zu, want %zu", field, e.offset, offset);
    KWT_TRUE(e.field != NULL, "%s: no field name", field);
    KWT_STR_EQ(e.field, field, "field named \"%s\", want \"%s\" (offset %zu)", e.field, field,
                     offset);
}

/* One batch alone: the first entry, checked, with its CRC verified. */
static kw_batch only_batch(const uint8_t *p, size_t n)
{
    kw_batch_iter it;
    kw_batch b;
    kw_batch_iter_init(&it, sl(p, n), KW_VERIFY_CRC);
    int rc = kw_batch_iter_next(&it, &b);
    kw_error e = kw_batch_iter_error(&it);
    KWT_EQ(rc, 1, "batch: rc %d, error %s at %zu (%s)", rc, kw_err_name(e.code), e.offset,
                 e.field ? e.field : "-");
    KWT_EQ(kw_batch_iter_next(&it, &b), 0, "batch: more than one entry");
    KWT_EQ(kw_batch_iter_partial(&it), 0, "batch: partial tail");
    return b;
}

/* ---- vectors -------------------------------------------------------------- */

enum {
    V_THREE,     /* 3 records: null key, empty value, headers with a null value */
    V_CONTROL,   /* transactional control batch with a commit marker */
    V_PRODUCER,  /* idempotent producer, log-append time */
    V_TWO,       /* two batches back to back */
    V_GZIP,      /* gzip-flagged batch, records left compressed */
    V_LEGACY0,   /* message set v0 */
    V_LEGACY1,   /* message set v1 with a compressed wrapper */
    V_COUNT_
};

typedef struct vec {
    wbuf w;
    size_t ends[8]; /* where each entry ends */
    size_t nentries;
    size_t rec_ends[32]; /* where each record of the first batch ends, in its region */
    size_t nrecs;
} vec;

static const hdr three_headers[2] = {
    {{"h1", 2}, {"v1", 2}},
    {{"trace-id", 8}, {NULL, -1}},
};

static const bspec three_spec = {
    .base_offset = 1000,
    .leader_epoch = 7,
    .attributes = 0,
    .last_offset_delta = 2,
    .base_timestamp = 1700000000000,
    .max_timestamp = 1700000000020,
    .producer_id = -1,
    .producer_epoch = -1,
    .base_sequence = -1,
    .record_count = 3,
};

static void three_records(wbuf *r, size_t *ends, size_t *n)
{
    w_record(r, 0, 0, S("k0"), S("hello"), 0, NULL);
    ends[(*n)++] = r->n;
    w_record(r, 10, 1, NUL, S(""), 2, three_headers);
    ends[(*n)++] = r->n;
    w_record(r, 20, 2, S(""), NUL, 0, NULL);
    ends[(*n)++] = r->n;
}

static const bspec control_spec = {
    .base_offset = 55,
    .leader_epoch = 1,
    .attributes = KW_ATTR_TRANSACTIONAL | KW_ATTR_CONTROL,
    .last_offset_delta = 0,
    .base_timestamp = 1600000000000,
    .max_timestamp = 1600000000000,
    .producer_id = 4242,
    .producer_epoch = 3,
    .base_sequence = -1,
    .record_count = 1,
};

/* Control record key: int16 version 0, int16 type 1 (commit); value: version, coordinator epoch. */
static const bs control_key = {"\x00\x00\x00\x01", 4};
static const bs control_value = {"\x00\x00\x00\x00\x00\x05", 6};

static const bspec producer_spec = {
    .base_offset = 0,
    .leader_epoch = 0,
    .attributes = KW_ATTR_TIMESTAMP_TYPE,
    .last_offset_delta = 1,
    .base_timestamp = 1500000000000,
    .max_timestamp = 1500000009999,
    .producer_id = 123456789012,
    .producer_epoch = 7,
    .base_sequence = 42,
    .record_count = 2,
};

static const bspec gzip_spec = {
    .base_offset = 9,
    .leader_epoch = 2,
    .attributes = KW_COMPRESSION_GZIP,
    .last_offset_delta = 1,
    .base_timestamp = 1,
    .max_timestamp = 2,
    .producer_id = -1,
    .producer_epoch = -1,
    .base_sequence = -1,
    .record_count = 2,
};

/* Not real gzip: the batch layer never looks inside. */
static const uint8_t gzip_payload[] = {0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01};

static void build(int id, vec *v)
{
    memset(v, 0, sizeof *v);
    wbuf r = {.n = 0};
    switch (id) {
    case V_THREE:
        three_records(&r, v->rec_ends, &v->nrecs);
        w_batch(&v->w, &three_spec, r.b, r.n);
        v->ends[v->nentries++] = v->w.n;
        break;
    case V_CONTROL:
        w_record(&r, 0, 0, control_key, control_value, 0, NULL);
        v->rec_ends[v->nrecs++] = r.n;
        w_batch(&v->w, &control_spec, r.b, r.n);
        v->ends[v->nentries++] = v->w.n;
        break;
    case V_PRODUCER:
        w_record(&r, 0, 0, S("user-1"), S("{\"a\":1}"), 0, NULL);
        v->rec_ends[v->nrecs++] = r.n;
        w_record(&r, 9999, 1, S("user-2"), S("{\"a\":2}"), 1, three_headers);
        v->rec_ends[v->nrecs++] = r.n;
        w_batch(&v->w, &producer_spec, r.b, r.n);
        v->ends[v->nentries++] = v->w.n;
        break;
    case V_TWO: {
        three_records(&r, v->rec_ends, &v->nrecs);
        w_batch(&v->w, &three_spec, r.b, r.n);
        v->ends[v->nentries++] = v->w.n;
        wbuf r2 = {.n = 0};
        w_record(&r2, 0, 0, control_key, control_value, 0, NULL);
        w_batch(&v->w, &control_spec, r2.b, r2.n);
        v->ends[v->nentries++] = v->w.n;
        break;
    }
    case V_GZIP:
        w_batch(&v->w, &gzip_spec, gzip_payload, sizeof gzip_payload);
        v->ends[v->nentries++] = v->w.n;
        break;
    case V_LEGACY0:
        w_legacy(&v->w, 0, 0, 0, 0, S("k"), S("v"));
        v->ends[v->nentries++] = v->w.n;
        w_legacy(&v->w, 0, 1, 0, 0, NUL, S("abc"));
        v->ends[v->nentries++] = v->w.n;
        w_legacy(&v->w, 0, 2, 0, 0, S(""), NUL);
        v->ends[v->nentries++] = v->w.n;
        break;
    case V_LEGACY1:
        w_legacy(&v->w, 1, 100, 0, 1400000000000, S("key"), S("value"));
        v->ends[v->nentries++] = v->w.n;
        w_legacy(&v->w, 1, 101, KW_ATTR_TIMESTAMP_TYPE, 1400000000001, NUL, NUL);
        v->ends[v->nentries++] = v->w.n;
        /* A gzip wrapper: its value would be a compressed inner message set. */
        w_legacy(&v->w, 1, 104, KW_COMPRESSION_GZIP, 1400000000002, NUL,
                 (bs){(const char *)gzip_payload, (int32_t)sizeof gzip_payload});
        v->ends[v->nentries++] = v->w.n;
        break;
    default:
        cr_assert_fail("no vector %d", id);
    }
}

static bool is_v2(int id) { return id <= V_GZIP; }

/* ---- field-by-field decoding -------------------------------------------------- */

static void expect_record(kw_record_iter *it, kw_record *rec, int32_t idx)
{
    int rc = kw_record_iter_next(it, rec);
    kw_error e = kw_record_iter_error(it);
    KWT_EQ(rc, 1, "records[%d]: rc %d, error %s at %zu (%s)", (int)idx, rc,
                 kw_err_name(e.code), e.offset, e.field ? e.field : "-");
}

Test(records, three_record_batch)
{
    vec v;
    build(V_THREE, &v);
    kw_batch b = only_batch(v.w.b, v.w.n);
    cr_assert_eq(b.magic, 2, "magic at 16");
    cr_assert_eq(b.pos, 0, "pos");
    cr_assert_eq(b.raw.ptr, v.w.b, "raw.ptr");
    cr_assert_eq(b.raw.len, v.w.n, "raw.len");
    const kw_record_batch *h = &b.v2;
    cr_assert_eq(h->base_offset, 1000, "base_offset at 0");
    cr_assert_eq(h->batch_length, (int32_t)(v.w.n - 12), "batch_length at 8");
    cr_assert_eq(h->partition_leader_epoch, 7, "partition_leader_epoch at 12");
    cr_assert_eq(h->magic, 2, "magic at 16");
    cr_assert_eq(h->crc, kw_crc32c(0, v.w.b + 21, v.w.n - 21), "crc at 17");
    cr_assert_eq(h->attributes, 0, "attributes at 21");
    cr_assert_eq(h->last_offset_delta, 2, "last_offset_delta at 23");
    cr_assert_eq(h->base_timestamp, 1700000000000, "base_timestamp at 27");
    cr_assert_eq(h->max_timestamp, 1700000000020, "max_timestamp at 35");
    cr_assert_eq(h->producer_id, -1, "producer_id at 43");
    cr_assert_eq(h->producer_epoch, -1, "producer_epoch at 51");
    cr_assert_eq(h->base_sequence, -1, "base_sequence at 53");
    cr_assert_eq(h->record_count, 3, "record_count at 57");
    cr_assert_eq(h->records.ptr, v.w.b + 61, "records start at 61");
    cr_assert_eq(h->records.len, v.w.n - 61, "records length");
    cr_assert_eq(kw_record_batch_compression(h), KW_COMPRESSION_NONE, "compression");
    cr_assert_eq(kw_record_batch_timestamp_type(h), KW_TIMESTAMP_CREATE_TIME, "timestamp type");
    cr_assert(!kw_record_batch_is_transactional(h), "transactional bit");
    cr_assert(!kw_record_batch_is_control(h), "control bit");
    cr_assert(!kw_record_batch_has_delete_horizon(h), "delete horizon bit");
    cr_assert_eq(kw_record_batch_verify_crc(h), KW_OK, "crc");
    int64_t last = 0;
    cr_assert(kw_record_batch_last_offset(h, &last), "last offset");
    cr_assert_eq(last, 1002, "last offset");

    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init(&it, h);
    size_t at = 61;

    /* records[0]: key "k0", value "hello", no headers */
    expect_record(&it, &rec, 0);
    cr_assert_eq(rec.raw.ptr, v.w.b + at, "records[0] starts at %zu", at);
    cr_assert_eq(rec.raw.len, v.rec_ends[0], "records[0] raw length");
    cr_assert_eq((size_t)rec.length, v.rec_ends[0] - 1, "records[0].length at %zu", at);
    cr_assert_eq(rec.attributes, 0, "records[0].attributes");
    cr_assert_eq(rec.timestamp_delta, 0, "records[0].timestamp_delta");
    cr_assert_eq(rec.offset_delta, 0, "records[0].offset_delta");
    expect_bytes(rec.key, S("k0"), "records[0].key");
    expect_bytes(rec.value, S("hello"), "records[0].value");
    cr_assert_eq(rec.header_count, 0, "records[0].header_count");
    cr_assert_eq(rec.headers.len, 0, "records[0].headers bytes");
    int64_t abs = 0;
    cr_assert(kw_record_offset(h, &rec, &abs), "records[0] offset");
    cr_assert_eq(abs, 1000, "records[0] absolute offset");
    cr_assert(kw_record_timestamp(h, &rec, &abs), "records[0] timestamp");
    cr_assert_eq(abs, 1700000000000, "records[0] absolute timestamp");
    kw_record_header_iter hi;
    kw_record_header hd;
    kw_record_header_iter_init(&hi, &rec);
    cr_assert(!kw_record_header_iter_next_unchecked(&hi, &hd), "records[0] has no headers");

    /* records[1]: null key, empty value, headers h1=v1 and trace-id=null */
    at = 61 + v.rec_ends[0];
    expect_record(&it, &rec, 1);
    cr_assert_eq(rec.raw.ptr, v.w.b + at, "records[1] starts at %zu", at);
    cr_assert_eq(rec.timestamp_delta, 10, "records[1].timestamp_delta");
    cr_assert_eq(rec.offset_delta, 1, "records[1].offset_delta");
    expect_bytes(rec.key, NUL, "records[1].key");
    expect_bytes(rec.value, S(""), "records[1].value");
    cr_assert_eq(rec.header_count, 2, "records[1].header_count");
    kw_record_header_iter_init(&hi, &rec);
    cr_assert(kw_record_header_iter_next_unchecked(&hi, &hd), "records[1].headers[0]");
    expect_bytes(hd.key, S("h1"), "records[1].headers[0].key");
    expect_bytes(hd.value, S("v1"), "records[1].headers[0].value");
    cr_assert(kw_record_header_iter_next_unchecked(&hi, &hd), "records[1].headers[1]");
    expect_bytes(hd.key, S("trace-id"), "records[1].headers[1].key");
    expect_bytes(hd.value, NUL, "records[1].headers[1].value");
    cr_assert(!kw_record_header_iter_next_unchecked(&hi, &hd), "records[1]: 2 headers only");
    cr_assert(kw_record_offset(h, &rec, &abs), "records[1] offset");
    cr_assert_eq(abs, 1001, "records[1] absolute offset");
    cr_assert(kw_record_timestamp(h, &rec, &abs), "records[1] timestamp");
    cr_assert_eq(abs, 1700000000010, "records[1] absolute timestamp");

    /* records[2]: empty key, null value */
    expect_record(&it, &rec, 2);
    expect_bytes(rec.key, S(""), "records[2].key");
    expect_bytes(rec.value, NUL, "records[2].value");
    cr_assert_eq(rec.offset_delta, 2, "records[2].offset_delta");
    cr_assert_eq(rec.raw.ptr + rec.raw.len, v.w.b + v.w.n, "records[2] ends the batch");

    cr_assert_eq(kw_record_iter_next(&it, &rec), 0, "end after record_count records");
    cr_assert_eq(kw_record_iter_next(&it, &rec), 0, "end stays the end");
    cr_assert_eq(kw_record_iter_error(&it).code, KW_OK, "no error at the end");
}

Test(records, control_batch)
{
    vec v;
    build(V_CONTROL, &v);
    kw_batch b = only_batch(v.w.b, v.w.n);
    const kw_record_batch *h = &b.v2;
    cr_assert_eq(h->attributes, 0x30, "attributes at 21");
    cr_assert(kw_record_batch_is_transactional(h), "transactional bit 4");
    cr_assert(kw_record_batch_is_control(h), "control bit 5");
    cr_assert_eq(h->producer_id, 4242, "producer_id at 43");
    cr_assert_eq(h->producer_epoch, 3, "producer_epoch at 51");

    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init(&it, h);
    expect_record(&it, &rec, 0);
    expect_bytes(rec.key, control_key, "records[0].key");
    expect_bytes(rec.value, control_value, "records[0].value");
    int16_t type = -1;
    cr_assert_eq(kw_record_control_type(&rec, &type), KW_OK, "control key");
    cr_assert_eq(type, KW_CONTROL_COMMIT, "control type");
    cr_assert_eq(kw_record_iter_next(&it, &rec), 0, "one record");

    kw_record odd = rec;
    odd.key.len = 3;
    cr_assert_eq(kw_record_control_type(&odd, &type), KW_ERR_TRUNCATED, "short control key");
    odd.key.ptr = NULL;
    odd.key.len = 0;
    cr_assert_eq(kw_record_control_type(&odd, &type), KW_ERR_UNEXPECTED_NULL, "null control key");
}

Test(records, producer_batch_log_append_time)
{
    vec v;
    build(V_PRODUCER, &v);
    kw_batch b = only_batch(v.w.b, v.w.n);
    const kw_record_batch *h = &b.v2;
    cr_assert_eq(h->producer_id, 123456789012, "producer_id at 43");
    cr_assert_eq(h->producer_epoch, 7, "producer_epoch at 51");
    cr_assert_eq(h->base_sequence, 42, "base_sequence at 53");
    cr_assert_eq(kw_record_batch_timestamp_type(h), KW_TIMESTAMP_LOG_APPEND_TIME, "bit 3");
    cr_assert(!kw_record_batch_is_transactional(h), "transactional bit");

    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init(&it, h);
    expect_record(&it, &rec, 0);
    expect_bytes(rec.key, S("user-1"), "records[0].key");
    int64_t ts = 0;
    /* With log-append time every record carries the batch's max_timestamp. */
    cr_assert(kw_record_timestamp(h, &rec, &ts), "records[0] timestamp");
    cr_assert_eq(ts, 1500000009999, "records[0] timestamp is max_timestamp");
    expect_record(&it, &rec, 1);
    expect_bytes(rec.value, S("{\"a\":2}"), "records[1].value");
    cr_assert_eq(rec.timestamp_delta, 9999, "records[1].timestamp_delta");
    cr_assert_eq(rec.header_count, 1, "records[1].header_count");
    cr_assert_eq(kw_record_iter_next(&it, &rec), 0, "two records");
}

Test(records, delete_horizon_bit)
{
    wbuf r = {.n = 0}, w = {.n = 0};
    w_record(&r, 0, 0, S("k"), NUL, 0, NULL); /* a tombstone */
    bspec s = three_spec;
    s.attributes = KW_ATTR_DELETE_HORIZON;
    s.record_count = 1;
    w_batch(&w, &s, r.b, r.n);
    kw_batch b = only_batch(w.b, w.n);
    cr_assert(kw_record_batch_has_delete_horizon(&b.v2), "bit 6");
    cr_assert_eq(kw_record_batch_compression(&b.v2), KW_COMPRESSION_NONE, "bits 0-2");
}

Test(records, two_batches_back_to_back)
{
    vec v;
    build(V_TWO, &v);
    kw_batch_iter it;
    kw_batch b;
    /* As if the records field started 100 bytes into its frame. */
    kw_batch_iter_init_at(&it, sl(v.w.b, v.w.n), 100, KW_VERIFY_CRC);
    cr_assert_eq(kw_batch_iter_next(&it, &b), 1, "batch 0");
    cr_assert_eq(b.pos, 100, "batch 0 pos");
    cr_assert_eq(b.v2.pos, 100, "batch 0 v2.pos");
    cr_assert_eq(b.raw.len, v.ends[0], "batch 0 length");
    cr_assert_eq(b.v2.base_offset, 1000, "batch 0 base_offset");
    cr_assert_eq(kw_batch_iter_next(&it, &b), 1, "batch 1");
    cr_assert_eq(b.pos, 100 + v.ends[0], "batch 1 pos");
    cr_assert_eq(b.raw.ptr, v.w.b + v.ends[0], "batch 1 raw");
    cr_assert_eq(b.v2.base_offset, 55, "batch 1 base_offset at %zu", v.ends[0]);
    cr_assert(kw_record_batch_is_control(&b.v2), "batch 1 is a control batch");
    cr_assert_eq(kw_batch_iter_next(&it, &b), 0, "two batches");
    cr_assert_eq(kw_batch_iter_partial(&it), 0, "no partial tail");

    /* Record errors in the second batch count from the same base. */
    v.w.b[v.ends[0] + 57 + 3] = 2; /* record_count 1 -> 2 */
    fix_v2_crc(v.w.b + v.ends[0], v.ends[1] - v.ends[0]);
    kw_batch_iter_init_at(&it, sl(v.w.b, v.w.n), 100, KW_VERIFY_CRC);
    cr_assert_eq(kw_batch_iter_next(&it, &b), 1, "batch 0");
    cr_assert_eq(kw_batch_iter_next(&it, &b), 1, "batch 1");
    kw_record_iter ri;
    kw_record rec;
    kw_record_iter_init(&ri, &b.v2);
    expect_record(&ri, &rec, 0);
    cr_assert_eq(kw_record_iter_next(&ri, &rec), -1, "missing record");
    expect_error(kw_record_iter_error(&ri), KW_ERR_RECORD_COUNT, 100 + v.w.n, "record_count");
}

Test(records, gzip_batch_stays_compressed)
{
    vec v;
    build(V_GZIP, &v);
    kw_batch b = only_batch(v.w.b, v.w.n);
    cr_assert_eq(kw_record_batch_compression(&b.v2), KW_COMPRESSION_GZIP, "bits 0-2");
    cr_assert_eq(b.v2.record_count, 2, "record_count at 57");
    cr_assert_eq(b.v2.records.len, sizeof gzip_payload, "compressed records length");
    cr_assert_eq(memcmp(b.v2.records.ptr, gzip_payload, sizeof gzip_payload), 0,
                 "compressed bytes exposed as they are");

    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init(&it, &b.v2);
    cr_assert_eq(kw_record_iter_next(&it, &rec), -1, "compressed records are not walked");
    expect_error(kw_record_iter_error(&it), KW_ERR_COMPRESSED, 21, "attributes");

    /* What a decompressor would hand back: walk it with the raw init. */
    wbuf plain = {.n = 0};
    w_record(&plain, 0, 0, S("a"), S("1"), 0, NULL);
    w_record(&plain, 1, 1, S("b"), S("2"), 0, NULL);
    kw_record_iter_init_raw(&it, sl(plain.b, plain.n), b.v2.record_count, 0);
    expect_record(&it, &rec, 0);
    expect_bytes(rec.key, S("a"), "records[0].key");
    expect_record(&it, &rec, 1);
    expect_bytes(rec.value, S("2"), "records[1].value");
    cr_assert_eq(kw_record_iter_next(&it, &rec), 0, "two decompressed records");
}

Test(records, legacy_v0)
{
    vec v;
    build(V_LEGACY0, &v);
    kw_batch_iter it;
    kw_batch b;
    kw_batch_iter_init(&it, sl(v.w.b, v.w.n), KW_VERIFY_CRC);
    static const struct {
        bs key, value;
    } want[3] = {{{"k", 1}, {"v", 1}}, {{NULL, -1}, {"abc", 3}}, {{"", 0}, {NULL, -1}}};
    for (int i = 0; i < 3; i++) {
        size_t at = i ? v.ends[i - 1] : 0;
        cr_assert_eq(kw_batch_iter_next(&it, &b), 1, "message %d at %zu", i, at);
        const kw_legacy_message *m = &b.legacy;
        cr_assert_eq(b.magic, 0, "message %d magic at %zu", i, at + 16);
        cr_assert_eq(b.pos, at, "message %d pos", i);
        cr_assert_eq(m->offset, i, "message %d offset at %zu", i, at);
        cr_assert_eq((size_t)m->message_size, v.ends[i] - at - 12, "message %d message_size", i);
        cr_assert_eq(m->crc, kw_crc32(0, v.w.b + at + 16, v.ends[i] - at - 16),
                     "message %d crc at %zu", i, at + 12);
        cr_assert_eq(m->magic, 0, "message %d magic", i);
        cr_assert_eq(m->attributes, 0, "message %d attributes", i);
        cr_assert_eq(m->timestamp, -1, "message %d has no timestamp", i);
        cr_assert_eq(kw_legacy_message_timestamp_type(m), KW_TIMESTAMP_CREATE_TIME, "v0 type");
        expect_bytes(m->key, want[i].key, "key");
        expect_bytes(m->value, want[i].value, "value");
        cr_assert_eq(kw_legacy_message_verify_crc(m), KW_OK, "message %d crc", i);
    }
    cr_assert_eq(kw_batch_iter_next(&it, &b), 0, "three messages");
    cr_assert_eq(kw_batch_iter_partial(&it), 0, "no partial tail");
}

Test(records, legacy_v1)
{
    vec v;
    build(V_LEGACY1, &v);
    kw_batch_iter it;
    kw_batch b;
    kw_batch_iter_init(&it, sl(v.w.b, v.w.n), KW_VERIFY_CRC);

    cr_assert_eq(kw_batch_iter_next(&it, &b), 1, "message 0");
    cr_assert_eq(b.magic, 1, "message 0 magic at 16");
    cr_assert_eq(b.legacy.offset, 100, "message 0 offset at 0");
    cr_assert_eq(b.legacy.timestamp, 1400000000000, "message 0 timestamp at 18");
    cr_assert_eq(kw_legacy_message_timestamp_type(&b.legacy), KW_TIMESTAMP_CREATE_TIME, "type");
    expect_bytes(b.legacy.key, S("key"), "message 0 key");
    expect_bytes(b.legacy.value, S("value"), "message 0 value");

    cr_assert_eq(kw_batch_iter_next(&it, &b), 1, "message 1");
    cr_assert_eq(b.legacy.message_size, 22, "message 1: the smallest v1 message");
    cr_assert_eq(kw_legacy_message_timestamp_type(&b.legacy), KW_TIMESTAMP_LOG_APPEND_TIME,
                 "message 1 attribute bit 3");
    expect_bytes(b.legacy.key, NUL, "message 1 key");
    expect_bytes(b.legacy.value, NUL, "message 1 value");

    cr_assert_eq(kw_batch_iter_next(&it, &b), 1, "message 2 (wrapper)");
    cr_assert_eq(kw_legacy_message_compression(&b.legacy), KW_COMPRESSION_GZIP, "bits 0-2");
    cr_assert_eq(b.legacy.offset, 104, "wrapper offset");
    expect_bytes(b.legacy.value, ((bs){(const char *)gzip_payload, (int32_t)sizeof gzip_payload}),
                 "wrapper value: the compressed inner set");
    cr_assert_eq(kw_batch_iter_next(&it, &b), 0, "three messages");
}

/* ---- every prefix against the guard page ------------------------------------ */

typedef struct prefix_ctx {
    const vec *v;
    int id;
} prefix_ctx;

static void check_prefix(const uint8_t *buf, size_t n, void *ctx_)
{
    const prefix_ctx *ctx = ctx_;
    const vec *v = ctx->v;
    kw_batch_iter it;
    kw_batch b;
    kw_batch_iter_init_at(&it, sl(buf, n), 7, KW_VERIFY_CRC);
    size_t whole = 0, done = 0;
    while (whole < v->nentries && v->ends[whole] <= n)
        whole++;
    for (size_t i = 0; i < whole; i++) {
        int rc = kw_batch_iter_next(&it, &b);
        kw_error e = kw_batch_iter_error(&it);
        KWT_EQ(rc, 1, "prefix %zu: entry %zu rc %d (%s at %zu)", n, i, rc,
                     kw_err_name(e.code), e.offset);
        KWT_EQ(b.pos, 7 + done, "prefix %zu: entry %zu pos", n, i);
        done = v->ends[i];
        if (b.magic == 2 && kw_record_batch_compression(&b.v2) == KW_COMPRESSION_NONE) {
            kw_record_iter ri;
            kw_record rec;
            int32_t count = 0;
            kw_record_iter_init(&ri, &b.v2);
            while ((rc = kw_record_iter_next(&ri, &rec)) == 1)
                count++;
            e = kw_record_iter_error(&ri);
            KWT_EQ(rc, 0, "prefix %zu: entry %zu records: %s at %zu (%s)", n, i,
                         kw_err_name(e.code), e.offset, e.field ? e.field : "-");
            KWT_EQ(count, b.v2.record_count, "prefix %zu: entry %zu record count", n, i);
        }
    }
    int rc = kw_batch_iter_next(&it, &b);
    kw_error e = kw_batch_iter_error(&it);
    KWT_EQ(rc, 0, "prefix %zu of %zu: rc %d (%s at %zu, %s)", n, v->w.n, rc,
                 kw_err_name(e.code), e.offset, e.field ? e.field : "-");
    KWT_EQ(kw_batch_iter_partial(&it), n - done, "prefix %zu: partial bytes", n);
    KWT_EQ(kw_batch_iter_next(&it, &b), 0, "prefix %zu: the end stays", n);
}

ParameterizedTestParameters(records, every_prefix)
{
    static int ids[V_COUNT_] = {V_THREE, V_CONTROL, V_PRODUCER, V_TWO,
                                V_GZIP,  V_LEGACY0, V_LEGACY1};
    return cr_make_param_array(int, ids, V_COUNT_);
}

ParameterizedTest(int *id, records, every_prefix)
{
    vec v;
    build(*id, &v);
    prefix_ctx ctx = {&v, *id};
    kwt_each_prefix(v.w.b, v.w.n, check_prefix, &ctx);
}

/*
 * A batch cut inside its record region but with batch_length and CRC made
 * to match: the batch is whole, the records are not. Cut at a record
 * boundary, a record is missing; cut inside a record, its length runs past
 * the batch.
 */
ParameterizedTestParameters(records, record_region_cut)
{
    static int ids[] = {V_THREE, V_CONTROL, V_PRODUCER};
    return cr_make_param_array(int, ids, sizeof ids / sizeof ids[0]);
}

/* The region of v's first (only) batch cut at every byte, as above. */
static void cut_every_record(const vec *v)
{
    size_t region = v->w.n - 61;
    kwt_guard g;
    kwt_guard_open(&g, v->w.n);
    for (size_t cut = 0; cut < region; cut++) {
        uint8_t tmp[4096];
        size_t len = 61 + cut;
        memcpy(tmp, v->w.b, len);
        put_be32(tmp + 8, (uint32_t)(len - 12));
        fix_v2_crc(tmp, len);
        const uint8_t *p = kwt_guard_place(&g, tmp, len);
        kw_batch b = only_batch(p, len);
        kw_record_iter it;
        kw_record rec;
        kw_record_iter_init(&it, &b.v2);

        size_t j = 0, start = 0;
        while (j < v->nrecs && v->rec_ends[j] <= cut)
            start = v->rec_ends[j++];
        for (size_t k = 0; k < j; k++)
            expect_record(&it, &rec, (int32_t)k);
        KWT_EQ(kw_record_iter_next(&it, &rec), -1, "cut at %zu: record %zu", cut, j);
        kw_error e = kw_record_iter_error(&it);
        char field[32];
        snprintf(field, sizeof field, "records[%zu].length", j);
        size_t varint = 1; /* the record's length varint, in the uncut bytes */
        while (v->w.b[61 + start + varint - 1] & 0x80)
            varint++;
        if (cut == start)
            expect_error(e, KW_ERR_RECORD_COUNT, 61 + cut, "record_count");
        else if (cut < start + varint)
            expect_error(e, KW_ERR_TRUNCATED, 61 + start, field); /* the varint runs off */
        else
            expect_error(e, KW_ERR_TRUNCATED, 61 + start + varint, field); /* the body does */
        KWT_EQ(kw_record_iter_next(&it, &rec), -1, "cut at %zu: error latched", cut);
    }
    kwt_guard_close(&g);
}

ParameterizedTest(int *id, records, record_region_cut)
{
    vec v;
    build(*id, &v);
    cut_every_record(&v);
}

/* ---- CRC ---------------------------------------------------------------------- */

/* The entry holding byte i, and where that entry starts. */
static size_t entry_of(const vec *v, size_t i, size_t *start)
{
    size_t e = 0;
    *start = 0;
    while (v->ends[e] <= i)
        *start = v->ends[e++];
    return e;
}

ParameterizedTestParameters(records, crc_flips)
{
    static int ids[V_COUNT_] = {V_THREE, V_CONTROL, V_PRODUCER, V_TWO,
                                V_GZIP,  V_LEGACY0, V_LEGACY1};
    return cr_make_param_array(int, ids, V_COUNT_);
}

/*
 * Flips bits of every byte the CRC covers (and of the crc field): with
 * verification each flip is caught, without it none is reported as BAD_CRC.
 * v2 tells whether v holds v2 batches or legacy messages.
 */
static void flip_every_covered_byte(const vec *vp, bool v2)
{
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    const vec v = *vp;
    for (size_t i = 0; i < v.w.n; i++) {
        size_t start;
        size_t e = entry_of(&v, i, &start);
        size_t rel = i - start;
        size_t crc_at = v2 ? 17 : 12;
        /* Covered: v2 from attributes (21), legacy from magic (16); plus the crc itself. */
        bool covered = rel >= (v2 ? 21u : 16u) || (rel >= crc_at && rel < crc_at + 4);
        if (!covered)
            continue;
        for (size_t m = 0; m < sizeof masks; m++) {
            uint8_t buf[4096];
            memcpy(buf, v.w.b, v.w.n);
            buf[i] ^= masks[m];

            kw_batch_iter it;
            kw_batch b;
            kw_batch_iter_init(&it, sl(buf, v.w.n), KW_VERIFY_CRC);
            for (size_t k = 0; k < e; k++)
                KWT_EQ(kw_batch_iter_next(&it, &b), 1, "byte %zu ^%02x: entry %zu", i,
                             masks[m], k);
            KWT_EQ(kw_batch_iter_next(&it, &b), -1, "byte %zu ^%02x: not caught", i,
                         masks[m]);
            kw_error err = kw_batch_iter_error(&it);
            /* The masks turn a legacy magic into 0, 1 or no format; never into 2. */
            int8_t magic = !v2 && rel == 16 ? (int8_t)buf[i] : 0;
            if (magic < 0 || magic > 1) {
                expect_error(err, KW_ERR_BAD_MAGIC, i, "magic");
            } else if (magic == 1 && v.ends[e] - start < KW_LEGACY_V1_MIN) {
                /* v0 read as v1: too small for a v1 header, refused before the CRC. */
                expect_error(err, KW_ERR_BAD_BATCH_LENGTH, start + 8, "message_size");
            } else {
                expect_error(err, KW_ERR_BAD_CRC, start + crc_at, "crc");
            }

            /* Verification off: no CRC complaint, and v2 headers pass untouched. */
            kw_batch_iter_init(&it, sl(buf, v.w.n), 0);
            int rc;
            size_t n = 0;
            while ((rc = kw_batch_iter_next(&it, &b)) == 1)
                n++;
            KWT_NE(kw_batch_iter_error(&it).code, KW_ERR_BAD_CRC,
                          "byte %zu ^%02x: CRC checked while off", i, masks[m]);
            if (v2) {
                KWT_EQ(rc, 0, "byte %zu ^%02x: unverified walk", i, masks[m]);
                KWT_EQ(n, v.nentries, "byte %zu ^%02x: entries", i, masks[m]);
            }
        }
    }
}

ParameterizedTest(int *id, records, crc_flips)
{
    vec v;
    build(*id, &v);
    flip_every_covered_byte(&v, is_v2(*id));
}

Test(records, crc_standalone)
{
    vec v;
    build(V_THREE, &v);
    kw_batch b = only_batch(v.w.b, v.w.n);
    cr_assert_eq(kw_record_batch_compute_crc(&b.v2), b.v2.crc, "crc at 17");
    b.v2.crc ^= 1;
    cr_assert_eq(kw_record_batch_verify_crc(&b.v2), KW_ERR_BAD_CRC, "altered crc");

    build(V_LEGACY1, &v);
    b = only_batch(v.w.b, v.ends[0]);
    cr_assert_eq(kw_legacy_message_compute_crc(&b.legacy), b.legacy.crc, "crc at 12");
    b.legacy.crc ^= 0x80000000u;
    cr_assert_eq(kw_legacy_message_verify_crc(&b.legacy), KW_ERR_BAD_CRC, "altered crc");
}

/* ---- entry header errors ------------------------------------------------------ */

static kw_error first_error(const uint8_t *p, size_t n, size_t base)
{
    kw_batch_iter it;
    kw_batch b;
    kw_batch_iter_init_at(&it, sl(p, n), base, KW_VERIFY_CRC);
    int rc;
    while ((rc = kw_batch_iter_next(&it, &b)) == 1)
        ;
    cr_assert_eq(rc, -1, "want an error, got the end (partial %zu)", kw_batch_iter_partial(&it));
    cr_assert_eq(kw_batch_iter_next(&it, &b), -1, "error latched");
    return kw_batch_iter_error(&it);
}

Test(records, bad_magic)
{
    static const uint8_t bad[] = {3, 0x7f, 0x80, 0xff};
    vec v;
    build(V_TWO, &v);
    for (size_t i = 0; i < sizeof bad; i++) {
        uint8_t buf[4096];
        memcpy(buf, v.w.b, v.w.n);
        buf[16] = bad[i];
        expect_error(first_error(buf, v.w.n, 0), KW_ERR_BAD_MAGIC, 16, "magic");
        expect_error(first_error(buf, v.w.n, 40), KW_ERR_BAD_MAGIC, 56, "magic");
        memcpy(buf, v.w.b, v.w.n);
        buf[v.ends[0] + 16] = bad[i];
        expect_error(first_error(buf, v.w.n, 0), KW_ERR_BAD_MAGIC, v.ends[0] + 16, "magic");
        /* Only the first 17 bytes are needed to see it. */
        expect_error(first_error(buf + v.ends[0], 17, 0), KW_ERR_BAD_MAGIC, 16, "magic");
    }
}

Test(records, bad_batch_length)
{
    vec v;
    build(V_THREE, &v);
    static const int32_t bad[] = {-1, -2, INT32_MIN, 0, 13, 14, 48};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[4096];
        memcpy(buf, v.w.b, v.w.n);
        put_be32(buf + 8, (uint32_t)bad[i]);
        kw_error e = first_error(buf, v.w.n, 0);
        expect_error(e, KW_ERR_BAD_BATCH_LENGTH, 8, "batch_length");
        /* A negative length is refused from the first 12 bytes alone. */
        if (bad[i] < 14)
            expect_error(first_error(buf, 12, 0), KW_ERR_BAD_BATCH_LENGTH, 8, "batch_length");
    }

    /* The smallest valid v2 batch: a header and no records. */
    wbuf w = {.n = 0};
    bspec s = three_spec;
    s.record_count = 0;
    w_batch(&w, &s, NULL, 0);
    kw_batch b = only_batch(w.b, w.n);
    cr_assert_eq(b.v2.batch_length, 49, "batch_length at 8");
    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init(&it, &b.v2);
    cr_assert_eq(kw_record_iter_next(&it, &rec), 0, "no records");

    /* Legacy sizes below the v0 / v1 minimums. */
    build(V_LEGACY1, &v);
    put_be32(v.w.b + 8, 21);
    expect_error(first_error(v.w.b, v.w.n, 0), KW_ERR_BAD_BATCH_LENGTH, 8, "message_size");
    build(V_LEGACY0, &v);
    put_be32(v.w.b + 8, 13);
    expect_error(first_error(v.w.b, v.w.n, 0), KW_ERR_BAD_BATCH_LENGTH, 8, "message_size");
}

Test(records, partial_tails)
{
    vec v;
    build(V_THREE, &v);
    uint8_t buf[4096];
    memcpy(buf, v.w.b, v.w.n);
    /* A length far past the bytes: a Fetch response cut short, not an error. */
    put_be32(buf + 8, INT32_MAX);
    kw_batch_iter it;
    kw_batch b;
    kw_batch_iter_init(&it, sl(buf, v.w.n), KW_VERIFY_CRC);
    cr_assert_eq(kw_batch_iter_next(&it, &b), 0, "cut-short batch");
    cr_assert_eq(kw_batch_iter_partial(&it), v.w.n, "partial bytes");
    cr_assert_eq(kw_batch_iter_error(&it).code, KW_OK, "not an error");

    kw_slice none = {NULL, 0};
    kw_batch_iter_init(&it, none, KW_VERIFY_CRC);
    cr_assert_eq(kw_batch_iter_next(&it, &b), 0, "null records field");
    cr_assert_eq(kw_batch_iter_partial(&it), 0, "null records field: no tail");
}

/* ---- legacy message errors ------------------------------------------------------ */

Test(records, legacy_sizes_disagree)
{
    uint8_t buf[256];
    vec v;
    build(V_LEGACY0, &v);
    size_t n0 = v.ends[0]; /* k / v: key length at 18, key at 22, value length at 23 */

    /* Key length running one byte past message_size. */
    memcpy(buf, v.w.b, n0);
    put_be32(buf + 18, 7);
    fix_legacy_crc(buf, n0);
    expect_error(first_error(buf, n0, 0), KW_ERR_BAD_RECORD_LENGTH, 22, "key");

    /* Value length past the end. */
    memcpy(buf, v.w.b, n0);
    put_be32(buf + 23, 2);
    fix_legacy_crc(buf, n0);
    expect_error(first_error(buf, n0, 0), KW_ERR_BAD_RECORD_LENGTH, 27, "value");

    /* message_size one larger than the fields: a stray byte at the end. */
    memcpy(buf, v.w.b, n0);
    buf[n0] = 0xaa;
    put_be32(buf + 8, (uint32_t)(n0 + 1 - 12));
    fix_legacy_crc(buf, n0 + 1);
    expect_error(first_error(buf, n0 + 1, 0), KW_ERR_BAD_RECORD_LENGTH, n0, "message_size");

    /* Key length -2. */
    memcpy(buf, v.w.b, n0);
    put_be32(buf + 18, (uint32_t)-2);
    fix_legacy_crc(buf, n0);
    expect_error(first_error(buf, n0, 0), KW_ERR_NEGATIVE_LENGTH, 18, "key");

    /* A compressed wrapper needs its value. */
    build(V_LEGACY1, &v);
    size_t s1 = v.ends[0], n1 = v.ends[1] - s1;
    memcpy(buf, v.w.b + s1, n1);
    buf[17] |= KW_COMPRESSION_SNAPPY;
    fix_legacy_crc(buf, n1);
    expect_error(first_error(buf, n1, 0), KW_ERR_UNEXPECTED_NULL, n1 - 4, "value");
}

/* ---- record errors --------------------------------------------------------------- */

/* A one-batch buffer around the given record region; returns its records walk. */
static void batch_around(wbuf *w, const wbuf *records, int32_t count, kw_record_iter *it)
{
    bspec s = three_spec;
    s.record_count = count;
    w->n = 0;
    w_batch(w, &s, records->b, records->n);
    kw_batch b = only_batch(w->b, w->n);
    kw_record_iter_init(it, &b.v2);
}

static void expect_record_error(kw_record_iter *it, int32_t good, kw_err code, size_t offset,
                                const char *field)
{
    kw_record rec;
    for (int32_t i = 0; i < good; i++)
        expect_record(it, &rec, i);
    cr_assert_eq(kw_record_iter_next(it, &rec), -1, "%s: want an error", field);
    expect_error(kw_record_iter_error(it), code, offset, field);
    cr_assert_eq(kw_record_iter_next(it, &rec), -1, "%s: error latched", field);
}

Test(records, record_length_mismatch)
{
    wbuf body = {.n = 0}, r = {.n = 0}, w = {.n = 0};
    kw_record_iter it;
    w_record_body(&body, 0, 0, 0, S("key"), S("val"), 0, NULL);

    /* Declared one longer than the fields, with a spare byte there. */
    w_var(&r, (int64_t)body.n + 1);
    w_raw(&r, body.b, body.n);
    w_u8(&r, 0);
    batch_around(&w, &r, 1, &it);
    expect_record_error(&it, 0, KW_ERR_BAD_RECORD_LENGTH, 61 + 1 + body.n, "records[0].length");

    /* Declared one shorter: the header count falls outside the record. */
    r.n = 0;
    w_var(&r, (int64_t)body.n - 1);
    w_raw(&r, body.b, body.n);
    batch_around(&w, &r, 1, &it);
    expect_record_error(&it, 0, KW_ERR_BAD_RECORD_LENGTH, 61 + body.n, "records[0].header_count");

    /* Declared short enough to cut the value: the value overruns. */
    r.n = 0;
    w_var(&r, (int64_t)body.n - 3);
    w_raw(&r, body.b, body.n);
    batch_around(&w, &r, 1, &it);
    /* body: attrs, ts, off, klen, "key", vlen at 7, "val" at 8 */
    expect_record_error(&it, 0, KW_ERR_BAD_RECORD_LENGTH, 61 + 1 + 8, "records[0].value");

    /* Negative length. */
    r.n = 0;
    w_var(&r, -5);
    w_raw(&r, body.b, body.n);
    batch_around(&w, &r, 1, &it);
    expect_record_error(&it, 0, KW_ERR_BAD_RECORD_LENGTH, 61, "records[0].length");

    /* The second record is the bad one: field and offset name it. */
    r.n = 0;
    w_record(&r, 0, 0, S("a"), S("b"), 0, NULL);
    size_t second = r.n;
    w_var(&r, (int64_t)body.n + 1);
    w_raw(&r, body.b, body.n);
    w_u8(&r, 0);
    batch_around(&w, &r, 2, &it);
    expect_record_error(&it, 1, KW_ERR_BAD_RECORD_LENGTH, 61 + second + 1 + body.n,
                        "records[1].length");
}

Test(records, record_count_mismatch)
{
    wbuf r = {.n = 0}, w = {.n = 0};
    size_t ends[3], n = 0;
    kw_record_iter it;
    three_records(&r, ends, &n);

    batch_around(&w, &r, 2, &it); /* more records than promised */
    expect_record_error(&it, 2, KW_ERR_RECORD_COUNT, 61 + ends[1], "record_count");

    batch_around(&w, &r, 4, &it); /* fewer */
    expect_record_error(&it, 3, KW_ERR_RECORD_COUNT, 61 + ends[2], "record_count");

    batch_around(&w, &r, 0, &it); /* none promised, bytes there */
    expect_record_error(&it, 0, KW_ERR_RECORD_COUNT, 61, "record_count");

    batch_around(&w, &r, -1, &it); /* negative */
    expect_record_error(&it, 0, KW_ERR_RECORD_COUNT, 57, "record_count");

    batch_around(&w, &r, INT32_MAX, &it);
    expect_record_error(&it, 3, KW_ERR_RECORD_COUNT, 61 + ends[2], "record_count");

    /* The raw init counts from its own base. */
    kw_record_iter_init_raw(&it, sl(r.b, r.n), 5, 1000);
    expect_record_error(&it, 3, KW_ERR_RECORD_COUNT, 1000 + ends[2], "record_count");
    kw_record_iter_init_raw(&it, sl(r.b, r.n), -3, 1000);
    expect_record_error(&it, 0, KW_ERR_RECORD_COUNT, 1000, "record_count");
}

Test(records, header_errors)
{
    wbuf body = {.n = 0}, r = {.n = 0}, w = {.n = 0};
    kw_record_iter it;
    /* attrs, ts, off, key len 1 "k", value len 1 "v": header count at 7 */
    const size_t count_at = 61 + 1 + 7;

    /* A header count no record this size could hold. */
    w_record_body(&body, 0, 0, 0, S("k"), S("v"), 0, NULL);
    body.n--;
    w_var(&body, 1000000);
    w_raw(&body, "\x02h\x00", 3);
    w_var(&r, (int64_t)body.n);
    w_raw(&r, body.b, body.n);
    batch_around(&w, &r, 1, &it);
    expect_record_error(&it, 0, KW_ERR_COUNT_TOO_LARGE, count_at, "records[0].header_count");

    /* INT32_MAX, five varint bytes. */
    body.n = 7;
    w_var(&body, INT32_MAX);
    r.n = 0;
    w_var(&r, (int64_t)body.n);
    w_raw(&r, body.b, body.n);
    batch_around(&w, &r, 1, &it);
    expect_record_error(&it, 0, KW_ERR_COUNT_TOO_LARGE, count_at, "records[0].header_count");

    /* -1 and -2. */
    for (int bad = -1; bad >= -2; bad--) {
        body.n = 7;
        w_var(&body, bad);
        r.n = 0;
        w_var(&r, (int64_t)body.n);
        w_raw(&r, body.b, body.n);
        batch_around(&w, &r, 1, &it);
        expect_record_error(&it, 0, bad == -1 ? KW_ERR_UNEXPECTED_NULL : KW_ERR_NEGATIVE_LENGTH,
                            count_at, "records[0].header_count");
    }

    /* A null header key; then a header key of length -3 in the second header. */
    static const hdr null_key[1] = {{{NULL, -1}, {"v", 1}}};
    body.n = 0;
    w_record_body(&body, 0, 0, 0, S("k"), S("v"), 1, null_key);
    r.n = 0;
    w_var(&r, (int64_t)body.n);
    w_raw(&r, body.b, body.n);
    batch_around(&w, &r, 1, &it);
    expect_record_error(&it, 0, KW_ERR_UNEXPECTED_NULL, count_at + 1, "records[0].headers[0].key");

    static const hdr two[2] = {{{"a", 1}, {"b", 1}}, {{"c", 1}, {"d", 1}}};
    body.n = 0;
    w_record_body(&body, 0, 0, 0, S("k"), S("v"), 2, two);
    body.b[7 + 1 + 4] = 5; /* zigzag -3 as the second key's length */
    r.n = 0;
    w_var(&r, (int64_t)body.n);
    w_raw(&r, body.b, body.n);
    batch_around(&w, &r, 1, &it);
    expect_record_error(&it, 0, KW_ERR_NEGATIVE_LENGTH, count_at + 5, "records[0].headers[1].key");

    /* A header value running past the record. */
    body.b[7 + 1 + 4] = 2;
    body.b[7 + 1 + 6] = 20;
    r.n = 0;
    w_var(&r, (int64_t)body.n);
    w_raw(&r, body.b, body.n);
    batch_around(&w, &r, 1, &it);
    expect_record_error(&it, 0, KW_ERR_BAD_RECORD_LENGTH, count_at + 8,
                        "records[0].headers[1].value");
}

Test(records, varint_too_long)
{
    wbuf body = {.n = 0}, r = {.n = 0}, w = {.n = 0};
    kw_record_iter it;

    /* timestamp_delta: eleven continuation bytes where ten is the most. */
    w_u8(&body, 0);
    for (int i = 0; i < 11; i++)
        w_u8(&body, 0xff);
    w_raw(&body, "\x01\x00\x00\x00\x00", 5);
    w_var(&r, (int64_t)body.n);
    w_raw(&r, body.b, body.n);
    batch_around(&w, &r, 1, &it);
    expect_record_error(&it, 0, KW_ERR_VARINT_TOO_LONG, 61 + 1 + 1, "records[0].timestamp_delta");

    /* offset_delta: six bytes where five is the most. */
    body.n = 0;
    w_u8(&body, 0);
    w_u8(&body, 0);
    for (int i = 0; i < 5; i++)
        w_u8(&body, 0xff);
    w_raw(&body, "\x01\x00\x00\x00\x00", 5);
    r.n = 0;
    w_var(&r, (int64_t)body.n);
    w_raw(&r, body.b, body.n);
    batch_around(&w, &r, 1, &it);
    expect_record_error(&it, 0, KW_ERR_VARINT_TOO_LONG, 61 + 1 + 2, "records[0].offset_delta");

    /* The record's own length. */
    r.n = 0;
    for (int i = 0; i < 6; i++)
        w_u8(&r, 0x80);
    w_raw(&r, "\x00\x00\x00\x00", 4);
    batch_around(&w, &r, 1, &it);
    expect_record_error(&it, 0, KW_ERR_VARINT_TOO_LONG, 61, "records[0].length");

    /* A varint that runs off the end of its record is a length mismatch. */
    body.n = 0;
    w_u8(&body, 0);
    w_u8(&body, 0xff);
    w_u8(&body, 0xff);
    r.n = 0;
    w_var(&r, (int64_t)body.n);
    w_raw(&r, body.b, body.n);
    batch_around(&w, &r, 1, &it);
    expect_record_error(&it, 0, KW_ERR_BAD_RECORD_LENGTH, 61 + 1 + 1,
                        "records[0].timestamp_delta");
}

Test(records, absolute_offsets_do_not_overflow)
{
    wbuf r = {.n = 0}, w = {.n = 0};
    w_record(&r, 0, 0, S("a"), NUL, 0, NULL);
    w_record(&r, 1, 1, S("b"), NUL, 0, NULL);
    w_record(&r, INT64_MIN, 2, S("c"), NUL, 0, NULL);
    bspec s = three_spec;
    s.base_offset = INT64_MAX - 1;
    s.base_timestamp = INT64_MAX;
    s.last_offset_delta = 2;
    w_batch(&w, &s, r.b, r.n);
    kw_batch b = only_batch(w.b, w.n);
    int64_t out = 12345;
    cr_assert(!kw_record_batch_last_offset(&b.v2, &out), "last offset past INT64_MAX");
    cr_assert_eq(out, 12345, "out untouched on overflow");

    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init(&it, &b.v2);
    expect_record(&it, &rec, 0);
    cr_assert(kw_record_offset(&b.v2, &rec, &out), "records[0] offset");
    cr_assert_eq(out, INT64_MAX - 1, "records[0] offset");
    cr_assert(kw_record_timestamp(&b.v2, &rec, &out), "records[0] timestamp");
    cr_assert_eq(out, INT64_MAX, "records[0] timestamp");
    expect_record(&it, &rec, 1);
    cr_assert(kw_record_offset(&b.v2, &rec, &out), "records[1] offset");
    cr_assert_eq(out, INT64_MAX, "records[1] offset");
    out = 7;
    cr_assert(!kw_record_timestamp(&b.v2, &rec, &out), "records[1] timestamp overflows");
    cr_assert_eq(out, 7, "out untouched");
    expect_record(&it, &rec, 2);
    cr_assert(!kw_record_offset(&b.v2, &rec, &out), "records[2] offset overflows");
    cr_assert_eq(rec.timestamp_delta, INT64_MIN, "records[2].timestamp_delta");
    cr_assert(kw_record_timestamp(&b.v2, &rec, &out), "INT64_MAX + INT64_MIN fits");
    cr_assert_eq(out, -1, "records[2] timestamp");

    /* The other direction. */
    kw_record_batch low = b.v2;
    low.base_offset = INT64_MIN;
    low.base_timestamp = -2;
    kw_record neg = rec;
    neg.offset_delta = -1;
    cr_assert(!kw_record_offset(&low, &neg, &out), "INT64_MIN - 1");
    neg.offset_delta = INT32_MIN;
    cr_assert(!kw_record_offset(&low, &neg, &out), "INT64_MIN + INT32_MIN");
    cr_assert(!kw_record_timestamp(&low, &neg, &out), "-2 + INT64_MIN");
    low.base_offset = 0;
    cr_assert(kw_record_offset(&low, &neg, &out), "0 + INT32_MIN");
    cr_assert_eq(out, INT32_MIN, "negative delta from 0");
}

Test(records, error_names_stay_with_the_iterator)
{
    wbuf r = {.n = 0}, w = {.n = 0};
    for (int i = 0; i < 12; i++)
        w_record(&r, 0, i, S("k"), S("v"), 0, NULL);
    w_u8(&r, 0x7f); /* a thirteenth record's length varint, -64 */
    kw_record_iter it;
    batch_around(&w, &r, 13, &it);
    expect_record_error(&it, 12, KW_ERR_BAD_RECORD_LENGTH, 61 + r.n - 1, "records[12].length");
}

/* ---- batches real clients sent ----------------------------------------------- */

/*
 * Records fields inside captured frames (tests/vectors, the length prefix
 * included in each file): where the records bytes start in the file, what
 * the batch holds. All are single uncompressed v2 batches.
 */
typedef struct real_vec {
    char file[72]; /* arrays, not pointers: Criterion may hand parameters to a fresh process */
    size_t at;
    int32_t count;
    int64_t producer_id;
    char first_key[8];
} real_vec;

static real_vec real_vecs[] = {
    {"kcat/00007_c01_req_k00-Produce_v7_corr4.bin", 55, 16, -1, "k0"},
    {"kcat-flexible/00013_c02_req_k00-Produce_v7_corr4.bin", 57, 3, 4242, "k0"},
    {"confluent/00007_c01_req_k00-Produce_v7_corr4.bin", 66, 14, -1, "k4"},
    {"confluent-flexible/00017_c02_req_k00-Produce_v7_corr4.bin", 64, 3, 4242, "k0"},
    {"kafka-python/00007_c02_req_k00-Produce_v7_corr1.bin", 79, 17, -1, "k3"},
    {"kafka-python/00007_c02_req_k00-Produce_v7_corr1.bin", 1337, 13, -1, "k0"},
    {"kafkajs/00005_c01_req_k00-Produce_v7_corr2.bin", 63, 17, -1, "k3"},
    {"kafkajs/00005_c01_req_k00-Produce_v7_corr2.bin", 1117, 13, -1, "k0"},
    {"kafkajs-flexible/00029_c02_req_k00-Produce_v7_corr2.bin", 62, 2, -1, "k0"},
    /* A Fetch v11 response from librdkafka's mock broker. */
    {"kcat/00063_c03_rsp_k01-Fetch_v11_corr9.bin", 873, 16, -1, "k0"},
};

ParameterizedTestParameters(records, real_clients)
{
    return cr_make_param_array(real_vec, real_vecs, sizeof real_vecs / sizeof real_vecs[0]);
}

/* Reads rv's frame into frame (8 KiB); returns the length of its records field. */
static size_t load_real(const real_vec *rv, uint8_t *frame)
{
    const char *dir = getenv("KW_SOURCE_DIR");
    if (!dir)
        cr_skip_test("KW_SOURCE_DIR is not set (run through meson test)");
    char path[512];
    snprintf(path, sizeof path, "%s/tests/vectors/%s", dir, rv->file);
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s", path);
    size_t n = fread(frame, 1, 8192, f);
    fclose(f);
    cr_assert(rv->at >= 4 && rv->at <= n, "%s: records at %zu of %zu", rv->file, rv->at, n);
    const uint8_t *lp = frame + rv->at - 4;
    size_t len = (size_t)lp[0] << 24 | (size_t)lp[1] << 16 | (size_t)lp[2] << 8 | lp[3];
    cr_assert(len <= n - rv->at && len <= sizeof ((wbuf *)0)->b, "%s: records length %zu",
              rv->file, len);
    return len;
}

ParameterizedTest(real_vec *rv, records, real_clients)
{
    static uint8_t frame[8192];
    size_t len = load_real(rv, frame);

    /* Decode in place, the records ending on the guard page, offsets from the frame. */
    kwt_guard g;
    kwt_guard_open(&g, len);
    const uint8_t *p = kwt_guard_place(&g, frame + rv->at, len);
    kw_batch_iter it;
    kw_batch b;
    kw_batch_iter_init_at(&it, sl(p, len), rv->at, KW_VERIFY_CRC);
    int rc = kw_batch_iter_next(&it, &b);
    kw_error e = kw_batch_iter_error(&it);
    cr_assert_eq(rc, 1, "%s: rc %d, %s at %zu (%s)", rv->file, rc, kw_err_name(e.code), e.offset,
                 e.field ? e.field : "-");
    cr_assert_eq(b.pos, rv->at, "%s: batch pos", rv->file);
    cr_assert_eq(b.magic, 2, "%s: magic at %zu", rv->file, rv->at + 16);
    cr_assert_eq(b.v2.record_count, rv->count, "%s: record_count at %zu", rv->file, rv->at + 57);
    cr_assert_eq(b.v2.producer_id, rv->producer_id, "%s: producer_id at %zu", rv->file,
                 rv->at + 43);
    cr_assert_eq(kw_record_batch_compression(&b.v2), KW_COMPRESSION_NONE, "%s: codec", rv->file);

    vec v;
    memset(&v, 0, sizeof v);
    memcpy(v.w.b, p, len);
    v.w.n = len;
    v.ends[v.nentries++] = len;

    kw_record_iter ri;
    kw_record rec;
    kw_record_iter_init(&ri, &b.v2);
    int32_t i = 0;
    while ((rc = kw_record_iter_next(&ri, &rec)) == 1) {
        if (i == 0)
            expect_bytes(rec.key, ((bs){rv->first_key, (int32_t)strlen(rv->first_key)}),
                         "records[0].key");
        cr_assert_eq(rec.offset_delta, i, "%s: records[%d].offset_delta", rv->file, (int)i);
        int64_t ts;
        cr_assert(kw_record_timestamp(&b.v2, &rec, &ts), "%s: records[%d] time", rv->file, (int)i);
        cr_assert(ts >= b.v2.base_timestamp && ts <= b.v2.max_timestamp,
                  "%s: records[%d] timestamp in the batch's range", rv->file, (int)i);
        kw_record_header_iter hi;
        kw_record_header h;
        int32_t nh = 0;
        kw_record_header_iter_init(&hi, &rec);
        while (kw_record_header_iter_next_unchecked(&hi, &h)) {
            cr_assert(!kw_slice_is_null(h.key), "%s: records[%d].headers[%d].key", rv->file,
                      (int)i, (int)nh);
            nh++;
        }
        cr_assert_eq(nh, rec.header_count, "%s: records[%d].header_count", rv->file, (int)i);
        cr_assert_lt((size_t)i, sizeof v.rec_ends / sizeof v.rec_ends[0], "too many records");
        v.rec_ends[v.nrecs++] = (size_t)(rec.raw.ptr + rec.raw.len - b.v2.records.ptr);
        i++;
    }
    e = kw_record_iter_error(&ri);
    cr_assert_eq(rc, 0, "%s: records: %s at %zu (%s)", rv->file, kw_err_name(e.code), e.offset,
                 e.field ? e.field : "-");
    cr_assert_eq(i, rv->count, "%s: records walked", rv->file);
    cr_assert_eq(kw_batch_iter_next(&it, &b), 0, "%s: one batch", rv->file);
    kwt_guard_close(&g);

    prefix_ctx ctx = {&v, -1};
    kwt_each_prefix(v.w.b, v.w.n, check_prefix, &ctx);
    cut_every_record(&v);
    flip_every_covered_byte(&v, true);
}

/* ---- byte-order helpers ------------------------------------------------------- */

Test(records, store_load_edge_values)
{
    static const int64_t v64[] = {0, -1, 1, INT64_MIN, INT64_MAX, 0x0102030405060708};
    static const int32_t v32[] = {0, -1, 1, INT32_MIN, INT32_MAX, 0x01020304};
    static const int16_t v16[] = {0, -1, 1, INT16_MIN, INT16_MAX, 0x0102};
    uint8_t buf[12];
    /* Unaligned starts too; the bytes around the value stay as they were. */
    for (size_t at = 0; at < 3; at++) {
        for (size_t i = 0; i < sizeof v64 / sizeof v64[0]; i++) {
            memset(buf, 0xa5, sizeof buf);
            kw_store_be64(buf + at, (uint64_t)v64[i]);
            for (size_t k = 0; k < 8; k++)
                KWT_EQ(buf[at + k], (uint8_t)((uint64_t)v64[i] >> (56 - 8 * k)),
                       "be64 %lld: byte %zu", (long long)v64[i], k);
            KWT_EQ(buf[at + 8], 0xa5, "be64: byte after");
            if (at > 0)
                KWT_EQ(buf[at - 1], 0xa5, "be64: byte before");
            KWT_EQ((int64_t)kw_load_be64(buf + at), v64[i], "be64 %lld: round trip",
                   (long long)v64[i]);
        }
        for (size_t i = 0; i < sizeof v32 / sizeof v32[0]; i++) {
            memset(buf, 0xa5, sizeof buf);
            kw_store_be32(buf + at, (uint32_t)v32[i]);
            for (size_t k = 0; k < 4; k++)
                KWT_EQ(buf[at + k], (uint8_t)((uint32_t)v32[i] >> (24 - 8 * k)),
                       "be32 %ld: byte %zu", (long)v32[i], k);
            KWT_EQ(buf[at + 4], 0xa5, "be32: byte after");
            if (at > 0)
                KWT_EQ(buf[at - 1], 0xa5, "be32: byte before");
            KWT_EQ((int32_t)kw_load_be32(buf + at), v32[i], "be32 %ld: round trip", (long)v32[i]);
        }
        for (size_t i = 0; i < sizeof v16 / sizeof v16[0]; i++) {
            memset(buf, 0xa5, sizeof buf);
            kw_store_be16(buf + at, (uint16_t)v16[i]);
            KWT_EQ(buf[at], (uint8_t)((uint16_t)v16[i] >> 8), "be16 %d: byte 0", (int)v16[i]);
            KWT_EQ(buf[at + 1], (uint8_t)v16[i], "be16 %d: byte 1", (int)v16[i]);
            KWT_EQ(buf[at + 2], 0xa5, "be16: byte after");
            if (at > 0)
                KWT_EQ(buf[at - 1], 0xa5, "be16: byte before");
            KWT_EQ((int16_t)kw_load_be16(buf + at), v16[i], "be16 %d: round trip", (int)v16[i]);
        }
    }
    static const uint8_t want[8] = {0x80, 0, 0, 0, 0, 0, 0, 0};
    kw_store_be64(buf, (uint64_t)INT64_MIN);
    cr_assert_eq(memcmp(buf, want, 8), 0, "INT64_MIN: 80 00 .. 00");
}

/* ---- batch header view and setters ---------------------------------------------- */

/* The v2 header fields in wire order (KIP-98), written out here, not taken from kwire. */
static const struct {
    size_t at;
    const char *name;
} v2_layout[] = {
    {0, "base_offset"},      {8, "batch_length"},       {12, "partition_leader_epoch"},
    {16, "magic"},           {17, "crc"},               {21, "attributes"},
    {23, "last_offset_delta"}, {27, "base_timestamp"},  {35, "max_timestamp"},
    {43, "producer_id"},     {51, "producer_epoch"},    {53, "base_sequence"},
    {57, "record_count"},    {61, NULL},
};

/* The header field that a prefix of n < 61 bytes cuts short. */
static size_t cut_field(size_t n)
{
    size_t i = 0;
    while (v2_layout[i + 1].at <= n)
        i++;
    return i;
}

static kw_record_batch header_of(const uint8_t *p, size_t n, size_t base, const char *what)
{
    kw_record_batch h;
    kw_error e = {KW_ERR_BAD_CRC, 99, "x"};
    kw_err rc = kw_record_batch_read_header(&h, sl(p, n), base, &e);
    cr_assert_eq(rc, KW_OK, "%s: read_header: %s at %zu (%s)", what, kw_err_name(rc), e.offset,
                 e.field ? e.field : "-");
    cr_assert_eq(e.code, KW_OK, "%s: err cleared on success", what);
    cr_assert_eq(h.pos, base, "%s: pos", what);
    return h;
}

/* Every field the header view read matches what kw_batch_iter decoded. */
static void expect_same_header(const kw_record_batch *h, const kw_record_batch *b, const char *what)
{
    cr_assert_eq(h->base_offset, b->base_offset, "%s: base_offset at 0", what);
    cr_assert_eq(h->batch_length, b->batch_length, "%s: batch_length at 8", what);
    cr_assert_eq(h->partition_leader_epoch, b->partition_leader_epoch,
                 "%s: partition_leader_epoch at 12", what);
    cr_assert_eq(h->magic, 2, "%s: magic at 16", what);
    cr_assert_eq(h->crc, b->crc, "%s: crc at 17", what);
    cr_assert_eq(h->attributes, b->attributes, "%s: attributes at 21", what);
    cr_assert_eq(h->last_offset_delta, b->last_offset_delta, "%s: last_offset_delta at 23", what);
    cr_assert_eq(h->base_timestamp, b->base_timestamp, "%s: base_timestamp at 27", what);
    cr_assert_eq(h->max_timestamp, b->max_timestamp, "%s: max_timestamp at 35", what);
    cr_assert_eq(h->producer_id, b->producer_id, "%s: producer_id at 43", what);
    cr_assert_eq(h->producer_epoch, b->producer_epoch, "%s: producer_epoch at 51", what);
    cr_assert_eq(h->base_sequence, b->base_sequence, "%s: base_sequence at 53", what);
    cr_assert_eq(h->record_count, b->record_count, "%s: record_count at 57", what);
}

/* Only bytes [from, to) of n differ between a and b. */
static void expect_changed_only(const uint8_t *a, const uint8_t *b, size_t n, size_t from,
                                size_t to, size_t from2, size_t to2, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!((i >= from && i < to) || (i >= from2 && i < to2)))
            KWT_EQ(a[i], b[i], "%s: byte %zu changed", what, i);
}

/*
 * Every setter on the batch at p (n bytes, the whole batch) with edge values:
 * each reads back, touches only its field (and the crc), leaves a batch
 * kwire's own walk accepts with its CRC, and restoring the old values gives
 * the original bytes back.
 */
static void check_setters(const uint8_t *orig, size_t n, const char *what)
{
    static uint8_t buf[4096];
    cr_assert_leq(n, sizeof buf, "%s: batch too big for the test", what);
    memcpy(buf, orig, n);
    kw_record_batch h0 = header_of(orig, n, 0, what);

    static const int64_t offsets[] = {0, -1, 1, INT64_MIN, INT64_MAX, 123456789};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        kw_error e;
        cr_assert_eq(kw_record_batch_set_base_offset(buf, n, offsets[i], &e), KW_OK,
                     "%s: set_base_offset: %s", what, kw_err_name(e.code));
        kw_record_batch h = header_of(buf, n, 0, what);
        cr_assert_eq(h.base_offset, offsets[i], "%s: base_offset at 0 reads back", what);
        cr_assert_eq(h.crc, h0.crc, "%s: crc at 17 untouched by base_offset", what);
        expect_changed_only(orig, buf, n, 0, 8, 0, 0, what);
        kw_batch b = only_batch(buf, n);
        cr_assert_eq(b.v2.base_offset, offsets[i], "%s: walk sees base_offset", what);
    }
    cr_assert_eq(kw_record_batch_set_base_offset(buf, n, h0.base_offset, NULL), KW_OK, "%s", what);

    static const int32_t epochs[] = {0, -1, 1, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof epochs / sizeof epochs[0]; i++) {
        cr_assert_eq(kw_record_batch_set_partition_leader_epoch(buf, n, epochs[i], NULL), KW_OK,
                     "%s: set_partition_leader_epoch", what);
        kw_record_batch h = header_of(buf, n, 0, what);
        cr_assert_eq(h.partition_leader_epoch, epochs[i], "%s: epoch at 12 reads back", what);
        expect_changed_only(orig, buf, n, 12, 16, 0, 0, what);
        (void)only_batch(buf, n);
    }
    cr_assert_eq(kw_record_batch_set_partition_leader_epoch(buf, n, h0.partition_leader_epoch,
                                                            NULL),
                 KW_OK, "%s", what);

    static const struct {
        int64_t id;
        int16_t epoch;
        int32_t seq;
    } producers[] = {
        {-1, -1, -1},
        {0, 0, 0},
        {INT64_MAX, INT16_MAX, INT32_MAX},
        {INT64_MIN, INT16_MIN, INT32_MIN},
        {4242, 7, 100},
    };
    for (size_t i = 0; i < sizeof producers / sizeof producers[0]; i++) {
        kw_error e;
        kw_err rc = kw_record_batch_set_producer(buf, n, producers[i].id, producers[i].epoch,
                                                 producers[i].seq, &e);
        cr_assert_eq(rc, KW_OK, "%s: set_producer: %s at %zu", what, kw_err_name(rc), e.offset);
        kw_record_batch h = header_of(buf, n, 0, what);
        cr_assert_eq(h.producer_id, producers[i].id, "%s: producer_id at 43 reads back", what);
        cr_assert_eq(h.producer_epoch, producers[i].epoch, "%s: producer_epoch at 51", what);
        cr_assert_eq(h.base_sequence, producers[i].seq, "%s: base_sequence at 53", what);
        cr_assert_eq(kw_record_batch_verify_crc(&h), KW_OK, "%s: crc at 17 valid", what);
        cr_assert_eq(h.crc, kw_crc32c(0, buf + 21, n - 21), "%s: crc is CRC-32C of 21..", what);
        expect_changed_only(orig, buf, n, 17, 21, 43, 57, what);
        kw_batch b = only_batch(buf, n); /* KW_VERIFY_CRC */
        expect_same_header(&h, &b.v2, what);
    }
    cr_assert_eq(kw_record_batch_set_producer(buf, n, h0.producer_id, h0.producer_epoch,
                                              h0.base_sequence, NULL),
                 KW_OK, "%s: restore producer", what);
    cr_assert_eq(memcmp(buf, orig, n), 0, "%s: old values give the original bytes", what);
}

/* The header alone, exactly 61 bytes ending on a guard page, of a batch of size n. */
static void check_header_alone(const uint8_t *p, size_t n, size_t base, const char *what)
{
    kwt_guard g;
    kwt_guard_open(&g, KW_BATCH_V2_HEADER);
    const uint8_t *q = kwt_guard_place(&g, p, KW_BATCH_V2_HEADER);
    kw_record_batch h = header_of(q, KW_BATCH_V2_HEADER, base, what);
    kw_record_batch whole = header_of(p, n, base, what);
    expect_same_header(&h, &whole, what);
    cr_assert_eq(kw_record_batch_size(&h), n, "%s: size from batch_length at 8", what);
    if (n > KW_BATCH_V2_HEADER) {
        cr_assert(kw_slice_is_null(h.raw) && kw_slice_is_null(h.records),
                  "%s: header alone has no raw or records", what);
        cr_assert_eq(kw_record_batch_verify_crc(&h), KW_ERR_TRUNCATED, "%s: crc of a header",
                     what);
        cr_assert_eq(kw_record_batch_compute_crc(&h), 0, "%s: crc of a header", what);
    }
    kwt_guard_close(&g);
}

ParameterizedTestParameters(records, header_of_real_batches)
{
    return cr_make_param_array(real_vec, real_vecs, sizeof real_vecs / sizeof real_vecs[0]);
}

ParameterizedTest(real_vec *rv, records, header_of_real_batches)
{
    static uint8_t frame[8192];
    size_t len = load_real(rv, frame);
    const uint8_t *rec = frame + rv->at;

    kwt_guard g;
    kwt_guard_open(&g, len);
    const uint8_t *p = kwt_guard_place(&g, rec, len);
    kw_batch_iter it;
    kw_batch b;
    kw_batch_iter_init_at(&it, sl(p, len), rv->at, KW_VERIFY_CRC);
    cr_assert_eq(kw_batch_iter_next(&it, &b), 1, "%s: the walk reads the batch", rv->file);
    kw_record_batch h = header_of(p, len, rv->at, rv->file);
    expect_same_header(&h, &b.v2, rv->file);
    cr_assert_eq(h.producer_id, rv->producer_id, "%s: producer_id at %zu", rv->file, rv->at + 43);
    cr_assert_eq(h.record_count, rv->count, "%s: record_count at %zu", rv->file, rv->at + 57);
    cr_assert(h.raw.ptr == b.v2.raw.ptr && h.raw.len == b.v2.raw.len, "%s: raw", rv->file);
    cr_assert(h.records.ptr == b.v2.records.ptr && h.records.len == b.v2.records.len,
              "%s: records", rv->file);
    cr_assert_eq(kw_record_batch_verify_crc(&h), KW_OK, "%s: crc at %zu", rv->file, rv->at + 17);
    cr_assert_eq(kw_record_batch_size(&h), len, "%s: size", rv->file);
    kwt_guard_close(&g);

    check_header_alone(rec, len, rv->at, rv->file);
    check_setters(rec, len, rv->file);
}

/* Batches from kwire's own record builder, header fields as the spec set them. */
Test(records, header_of_built_batches)
{
    kw_record_spec recs[3];
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < 3; i++) {
        recs[i].offset_delta = i;
        recs[i].timestamp_delta = 10 * i;
        recs[i].key = sl("key", 3);
        recs[i].value = sl("a value", 7);
    }
    kw_batch_spec specs[4];
    specs[0] = kw_batch_spec_default();
    specs[1] = kw_batch_spec_default();
    specs[1].base_offset = INT64_MAX - 2;
    specs[1].partition_leader_epoch = INT32_MAX;
    specs[1].attributes = KW_ATTR_TRANSACTIONAL;
    specs[1].base_timestamp = 1700000000000;
    specs[1].producer_id = INT64_MAX;
    specs[1].producer_epoch = INT16_MAX;
    specs[1].base_sequence = INT32_MAX - 1;
    specs[2] = kw_batch_spec_default();
    specs[2].attributes = KW_ATTR_TIMESTAMP_TYPE;
    specs[2].max_timestamp = INT64_MIN + 1;
    specs[2].base_timestamp = -1;
    specs[3] = kw_batch_spec_default();
    specs[3].attributes = KW_COMPRESSION_GZIP;
    size_t counts[4] = {3, 3, 0, 3};

    for (size_t s = 0; s < 4; s++) {
        if (s == 3 && !kw_compression_available(KW_COMPRESSION_GZIP))
            continue;
        char what[32];
        snprintf(what, sizeof what, "built batch %zu", s);
        kw_builder bld;
        kw_builder_init_growable(&bld, 1024);
        cr_assert_eq(kw_build_record_batch(&bld, &specs[s], recs, counts[s]), KW_OK, "%s", what);
        static uint8_t out[4096];
        size_t n = kw_builder_copy_out(&bld, out, sizeof out);
        cr_assert_eq(n, kw_builder_size(&bld), "%s: copy out", what);
        kw_builder_free(&bld);

        kw_record_batch h = header_of(out, n, 0, what);
        cr_assert_eq(h.base_offset, specs[s].base_offset, "%s: base_offset at 0", what);
        cr_assert_eq(kw_record_batch_size(&h), n, "%s: batch_length at 8", what);
        cr_assert_eq(h.partition_leader_epoch, specs[s].partition_leader_epoch,
                     "%s: partition_leader_epoch at 12", what);
        cr_assert_eq(h.attributes, specs[s].attributes, "%s: attributes at 21", what);
        cr_assert_eq(h.last_offset_delta, counts[s] ? 2 : 0, "%s: last_offset_delta at 23", what);
        cr_assert_eq(h.base_timestamp, specs[s].base_timestamp, "%s: base_timestamp at 27", what);
        if (specs[s].max_timestamp != KW_MAX_TIMESTAMP_AUTO)
            cr_assert_eq(h.max_timestamp, specs[s].max_timestamp, "%s: max_timestamp at 35",
                         what);
        cr_assert_eq(h.producer_id, specs[s].producer_id, "%s: producer_id at 43", what);
        cr_assert_eq(h.producer_epoch, specs[s].producer_epoch, "%s: producer_epoch at 51", what);
        cr_assert_eq(h.base_sequence, specs[s].base_sequence, "%s: base_sequence at 53", what);
        cr_assert_eq(h.record_count, (int32_t)counts[s], "%s: record_count at 57", what);
        cr_assert_eq(kw_record_batch_verify_crc(&h), KW_OK, "%s: crc at 17", what);
        kw_batch b = only_batch(out, n);
        expect_same_header(&h, &b.v2, what);

        check_header_alone(out, n, 7, what);
        check_setters(out, n, what);
    }
}

/* Header reads and setters refuse what is no v2 header, naming field and offset. */
static void expect_refused(const uint8_t *p, size_t n, size_t base, kw_err code, size_t at,
                           const char *field)
{
    kw_record_batch h;
    kw_error e;
    char what[64];
    snprintf(what, sizeof what, "%zu bytes: %s", n, field);
    kw_err rc = kw_record_batch_read_header(&h, sl(p, n), base, &e);
    KWT_EQ(rc, code, "%s: read_header returns %s", what, kw_err_name(rc));
    expect_error(e, code, base + at, field);

    /* The setters check the same way (offsets from the batch) and write nothing. */
    static uint8_t buf[4096];
    memcpy(buf, p, n);
    rc = kw_record_batch_set_base_offset(buf, n, 77, &e);
    KWT_EQ(rc, code, "%s: set_base_offset returns %s", what, kw_err_name(rc));
    expect_error(e, code, at, field);
    rc = kw_record_batch_set_partition_leader_epoch(buf, n, 77, &e);
    KWT_EQ(rc, code, "%s: set_partition_leader_epoch returns %s", what, kw_err_name(rc));
    expect_error(e, code, at, field);
    rc = kw_record_batch_set_producer(buf, n, 77, 7, 7, &e);
    KWT_EQ(rc, code, "%s: set_producer returns %s", what, kw_err_name(rc));
    expect_error(e, code, at, field);
    KWT_EQ(kw_record_batch_set_producer(buf, n, 77, 7, 7, NULL), code, "%s: err NULL", what);
    KWT_EQ(memcmp(buf, p, n), 0, "%s: refused setters wrote nothing", what);
}

Test(records, header_refused)
{
    vec v;
    build(V_THREE, &v);
    const uint8_t *batch = v.w.b;
    size_t n = v.ends[0];

    /* Every prefix shorter than the header, ending on a guard page. */
    kwt_guard g;
    kwt_guard_open(&g, KW_BATCH_V2_HEADER);
    for (size_t len = 0; len < KW_BATCH_V2_HEADER; len++) {
        const uint8_t *q = kwt_guard_place(&g, batch, len);
        size_t i = cut_field(len);
        expect_refused(q, len, 0, KW_ERR_TRUNCATED, v2_layout[i].at, v2_layout[i].name);
        expect_refused(q, len, 500, KW_ERR_TRUNCATED, v2_layout[i].at, v2_layout[i].name);
    }
    kwt_guard_close(&g);
    kw_record_batch h;
    kw_error e;
    cr_assert_eq(kw_record_batch_read_header(&h, sl(NULL, 0), 3, &e), KW_ERR_TRUNCATED,
                 "null bytes");
    expect_error(e, KW_ERR_TRUNCATED, 3, "base_offset");

    /* A magic other than 2, seen from 17 bytes on, before the length. */
    static const uint8_t magics[] = {0, 1, 3, 0x7f, 0x80, 0xff};
    for (size_t i = 0; i < sizeof magics; i++) {
        uint8_t buf[4096];
        memcpy(buf, batch, n);
        buf[16] = magics[i];
        expect_refused(buf, n, 0, KW_ERR_BAD_MAGIC, 16, "magic");
        expect_refused(buf, 17, 40, KW_ERR_BAD_MAGIC, 16, "magic");
        put_be32(buf + 8, 3);
        expect_refused(buf, n, 0, KW_ERR_BAD_MAGIC, 16, "magic");
    }

    /* A batch_length that cannot cover the header, seen from 12 bytes on. */
    static const int32_t lengths[] = {-1, INT32_MIN, 0, 13, 48};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        uint8_t buf[4096];
        memcpy(buf, batch, n);
        put_be32(buf + 8, (uint32_t)lengths[i]);
        expect_refused(buf, n, 0, KW_ERR_BAD_BATCH_LENGTH, 8, "batch_length");
        expect_refused(buf, 12, 9, KW_ERR_BAD_BATCH_LENGTH, 8, "batch_length");
        expect_refused(buf, 40, 0, KW_ERR_BAD_BATCH_LENGTH, 8, "batch_length");
    }

    /* The smallest batch: a header and no records, batch_length 49. */
    wbuf w = {.n = 0};
    bspec s = three_spec;
    s.record_count = 0;
    w_batch(&w, &s, NULL, 0);
    h = header_of(w.b, w.n, 0, "empty batch");
    cr_assert_eq(h.raw.len, KW_BATCH_V2_HEADER, "empty batch: raw");
    cr_assert(!kw_slice_is_null(h.records) && h.records.len == 0, "empty batch: records empty");
    check_setters(w.b, w.n, "empty batch");

    /* The header fits but the batch does not: the setters outside the CRC still work. */
    uint8_t buf[4096];
    memcpy(buf, batch, n);
    cr_assert_eq(kw_record_batch_set_base_offset(buf, KW_BATCH_V2_HEADER, 5, NULL), KW_OK,
                 "base_offset from the header alone");
    cr_assert_eq(kw_record_batch_set_partition_leader_epoch(buf, KW_BATCH_V2_HEADER, 5, NULL),
                 KW_OK, "partition_leader_epoch from the header alone");
    uint8_t before[4096];
    memcpy(before, buf, n);
    cr_assert_eq(kw_record_batch_set_producer(buf, n - 1, 1, 1, 1, &e), KW_ERR_TRUNCATED,
                 "producer needs the whole batch");
    expect_error(e, KW_ERR_TRUNCATED, 8, "batch_length");
    cr_assert_eq(memcmp(buf, before, n), 0, "refused set_producer wrote nothing");

    /* A corrupt batch is not sealed again with a fresh CRC. */
    for (size_t at = 21; at < n; at += 7) {
        memcpy(buf, batch, n);
        buf[at] ^= 0x10;
        memcpy(before, buf, n);
        cr_assert_eq(kw_record_batch_set_producer(buf, n, 1, 1, 1, &e), KW_ERR_BAD_CRC,
                     "byte %zu flipped", at);
        expect_error(e, KW_ERR_BAD_CRC, 17, "crc");
        cr_assert_eq(memcmp(buf, before, n), 0, "byte %zu flipped: nothing written", at);
    }
}
