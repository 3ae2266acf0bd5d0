/*
 * Record builder: v2 batches and legacy messages built back to front, read
 * back with the records.h view field by field; real clients' batches rebuilt
 * byte for byte; every codec this build has, compressed then decompressed;
 * corrupt and explosive compressed bytes; no allocation where none is due.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "kwire/crc.h"
#include "alloc_count.h"
#include "kwire/kwire.h"

/* Loops make many checks: evaluate the Criterion assertion only when it is about to fail. */
#define KWT_EQ(a, b, ...) do { if (!((a) == (b))) cr_assert_eq((a), (b), __VA_ARGS__); } while (0)
#define KWT_TRUE(c, ...) do { if (!(c)) cr_assert((c), __VA_ARGS__); } while (0)

/* ---- helpers ------------------------------------------------------------------- */

static kw_slice sl(const void *p, size_t n)
{
    kw_slice s = {(const uint8_t *)p, n};
    return s;
}

static kw_slice str(const char *s) { return sl(s, strlen(s)); }

static const kw_slice null_slice = {NULL, 0};

static bool slice_eq(kw_slice a, kw_slice b)
{
    if (kw_slice_is_null(a) || kw_slice_is_null(b))
        return kw_slice_is_null(a) && kw_slice_is_null(b);
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static uint32_t rng_state;

static uint32_t rng(void)
{
    /* xorshift32: deterministic inputs, no libc state */
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* Storage for generated records: specs, headers and their bytes. */
#define MAX_RECORDS 1000
#define MAX_HEADERS (MAX_RECORDS * 4)
#define POOL_BYTES (2u << 20)

typedef struct recset {
    kw_record_spec recs[MAX_RECORDS];
    kw_record_header hdrs[MAX_HEADERS];
    uint8_t pool[POOL_BYTES];
    size_t count, nhdrs, used;
} recset;

static uint8_t *pool_take(recset *s, size_t n)
{
    KWT_TRUE(n <= POOL_BYTES - s->used, "record pool exhausted");
    uint8_t *p = s->pool + s->used;
    s->used += n;
    return p;
}

/* prefix and a number: "key-12" */
static kw_slice pool_text(recset *s, const char *prefix, size_t i)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%s%zu", prefix, i);
    uint8_t *p = pool_take(s, (size_t)n);
    memcpy(p, tmp, (size_t)n);
    return sl(p, (size_t)n);
}

/* n bytes from a 16-letter alphabet: random, yet every codec shrinks them. */
static kw_slice pool_random(recset *s, size_t n)
{
    uint8_t *p = pool_take(s, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)('a' + (rng() >> 28));
    return sl(p, n);
}

/*
 * count records with every shape the format has: null and empty keys and
 * values, headers with null and empty values, negative and large deltas,
 * a value over 64 KiB (a three-byte length varint, a chunk boundary).
 */
static void make_records(recset *s, size_t count, uint32_t seed, bool big)
{
    cr_assert(count <= MAX_RECORDS, "too many records");
    rng_state = seed;
    s->count = count;
    s->nhdrs = 0;
    s->used = 0;
    for (size_t i = 0; i < count; i++) {
        kw_record_spec *r = &s->recs[i];
        memset(r, 0, sizeof *r);
        r->offset_delta = (int32_t)i;
        r->timestamp_delta = i % 11 == 3 ? -(int64_t)(rng() % 5000) : (int64_t)(rng() % 100000);
        if (i % 97 == 5)
            r->timestamp_delta = (int64_t)1 << 40;
        r->key = i % 5 == 0 ? null_slice : i % 5 == 1 ? sl(s->pool, 0) : pool_text(s, "key-", i);
        if (i % 7 == 0)
            r->value = null_slice;
        else if (i % 7 == 1)
            r->value = sl(s->pool, 0);
        else if (big && i == count / 2)
            r->value = pool_random(s, 70000 + (size_t)(rng() % 1000));
        else
            r->value = pool_random(s, rng() % 200);
        int32_t nh = (int32_t)(i % 4);
        r->headers = s->hdrs + s->nhdrs;
        r->header_count = nh;
        for (int32_t j = 0; j < nh; j++) {
            KWT_TRUE(s->nhdrs < MAX_HEADERS, "header pool exhausted");
            kw_record_header *h = &s->hdrs[s->nhdrs++];
            h->key = j == 2 ? sl(s->pool, 0) : pool_text(s, "hdr-", (size_t)j);
            h->value = (i + (size_t)j) % 3 == 0 ? null_slice : pool_random(s, rng() % 20);
        }
    }
}

/* Exactly one v2 batch in bytes, checked with its CRC. */
static kw_record_batch only_batch(kw_slice bytes)
{
    kw_batch_iter it;
    kw_batch b;
    kw_batch_iter_init(&it, bytes, KW_VERIFY_CRC);
    int rc = kw_batch_iter_next(&it, &b);
    kw_error e = kw_batch_iter_error(&it);
    cr_assert_eq(rc, 1, "batch: rc %d, %s at %zu (%s)", rc, kw_err_name(e.code), e.offset,
                 e.field ? e.field : "-");
    cr_assert_eq(b.magic, 2, "magic");
    cr_assert_eq(kw_batch_iter_next(&it, &b), 0, "one batch only");
    cr_assert_eq(kw_batch_iter_partial(&it), 0, "no bytes after the batch");
    cr_assert_eq(b.v2.raw.len, bytes.len, "the batch is all the bytes");
    return b.v2;
}

/* The records in region are exactly want[0..n), field by field. */
static void expect_records(kw_slice region, int32_t record_count, const kw_record_spec *want,
                           size_t n)
{
    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init_raw(&it, region, record_count, 0);
    size_t i = 0;
    int rc;
    while ((rc = kw_record_iter_next(&it, &rec)) == 1) {
        KWT_TRUE(i < n, "more records than built");
        const kw_record_spec *w = &want[i];
        KWT_EQ(rec.attributes, w->attributes, "records[%zu].attributes", i);
        KWT_EQ(rec.timestamp_delta, w->timestamp_delta, "records[%zu].timestamp_delta", i);
        KWT_EQ(rec.offset_delta, w->offset_delta, "records[%zu].offset_delta", i);
        KWT_TRUE(slice_eq(rec.key, w->key), "records[%zu].key", i);
        KWT_TRUE(slice_eq(rec.value, w->value), "records[%zu].value", i);
        KWT_EQ(rec.header_count, w->header_count, "records[%zu].header_count", i);
        kw_record_header_iter hi;
        kw_record_header h;
        int32_t j = 0;
        kw_record_header_iter_init(&hi, &rec);
        while (kw_record_header_iter_next_unchecked(&hi, &h)) {
            KWT_TRUE(j < w->header_count, "records[%zu]: too many headers", i);
            KWT_TRUE(slice_eq(h.key, w->headers[j].key), "records[%zu].headers[%d].key", i, j);
            KWT_TRUE(slice_eq(h.value, w->headers[j].value), "records[%zu].headers[%d].value", i,
                     j);
            j++;
        }
        KWT_EQ(j, w->header_count, "records[%zu]: headers walked", i);
        i++;
    }
    kw_error e = kw_record_iter_error(&it);
    cr_assert_eq(rc, 0, "records: %s at %zu (%s)", kw_err_name(e.code), e.offset,
                 e.field ? e.field : "-");
    cr_assert_eq(i, n, "records walked: %zu of %zu", i, n);
}

static void expect_header(const kw_record_batch *v, const kw_batch_spec *s, size_t count,
                          int32_t last_offset_delta, int64_t max_timestamp)
{
    cr_assert_eq(v->base_offset, s->base_offset, "base_offset");
    cr_assert_eq((size_t)v->batch_length, v->raw.len - 12, "batch_length");
    cr_assert_eq(v->partition_leader_epoch, s->partition_leader_epoch, "partition_leader_epoch");
    cr_assert_eq(v->attributes, s->attributes, "attributes");
    cr_assert_eq(v->last_offset_delta, last_offset_delta, "last_offset_delta");
    cr_assert_eq(v->base_timestamp, s->base_timestamp, "base_timestamp");
    cr_assert_eq(v->max_timestamp, max_timestamp, "max_timestamp");
    cr_assert_eq(v->producer_id, s->producer_id, "producer_id");
    cr_assert_eq(v->producer_epoch, s->producer_epoch, "producer_epoch");
    cr_assert_eq(v->base_sequence, s->base_sequence, "base_sequence");
    cr_assert_eq(v->record_count, (int32_t)count, "record_count");
    cr_assert_eq(kw_record_batch_verify_crc(v), KW_OK, "crc");
}

/* What KW_*_AUTO compute, worked out here independently. */
static int32_t want_last_offset_delta(const recset *s)
{
    return s->count ? s->recs[s->count - 1].offset_delta : 0;
}

static int64_t want_max_timestamp(const recset *s, int64_t base)
{
    if (s->count == 0)
        return -1;
    int64_t m = INT64_MIN;
    for (size_t i = 0; i < s->count; i++)
        if (s->recs[i].timestamp_delta > m)
            m = s->recs[i].timestamp_delta;
    return base + m;
}

static recset rs; /* big: static, not on the stack */
static uint8_t bufa[4u << 20], bufb[4u << 20];

/* Builds into a caller buffer; returns the output (at the buffer's end). */
static kw_slice build_flat(const kw_batch_spec *spec, const recset *s, uint8_t *buf, size_t cap)
{
    kw_builder b;
    kw_builder_init(&b, buf, cap, NULL, 0);
    kw_err e = kw_build_record_batch(&b, spec, s->recs, s->count);
    cr_assert_eq(e, KW_OK, "build: %s", kw_err_name(e));
    const uint8_t *out = kw_builder_contiguous(&b);
    cr_assert(out != NULL, "caller-buffer output is contiguous");
    cr_assert_eq(out + kw_builder_size(&b), buf + cap, "output ends at the buffer's end");
    return sl(out, kw_builder_size(&b));
}

/* Builds into a growable builder of small chunks, copied out to buf. */
static kw_slice build_growable(const kw_batch_spec *spec, const recset *s, size_t chunk,
                               uint8_t *buf, size_t cap)
{
    kw_builder b;
    kw_builder_init_growable(&b, chunk);
    kw_err e = kw_build_record_batch(&b, spec, s->recs, s->count);
    cr_assert_eq(e, KW_OK, "growable build: %s", kw_err_name(e));
    size_t n = kw_builder_copy_out(&b, buf, cap);
    cr_assert_eq(n, kw_builder_size(&b), "copy_out");
    kw_builder_free(&b);
    return sl(buf, n);
}

/* Builds s both ways, checks both decode to s and agree byte for byte. */
static kw_slice round_trip(const kw_batch_spec *spec, const recset *s)
{
    kw_slice flat = build_flat(spec, s, bufa, sizeof bufa);
    size_t region;
    cr_assert_eq(kw_records_size(s->recs, s->count, &region), KW_OK, "records size");
    cr_assert_eq(flat.len, KW_BATCH_V2_HEADER + region, "size: %zu, kw_records_size %zu",
                 flat.len, region);
    kw_record_batch v = only_batch(flat);
    int32_t lod = spec->last_offset_delta == KW_LAST_OFFSET_DELTA_AUTO ? want_last_offset_delta(s)
                                                                       : spec->last_offset_delta;
    int64_t mts = spec->max_timestamp == KW_MAX_TIMESTAMP_AUTO
                      ? want_max_timestamp(s, spec->base_timestamp)
                      : spec->max_timestamp;
    expect_header(&v, spec, s->count, lod, mts);
    expect_records(v.records, v.record_count, s->recs, s->count);

    kw_slice grown = build_growable(spec, s, 512, bufb, sizeof bufb);
    cr_assert_eq(grown.len, flat.len, "growable size");
    cr_assert(memcmp(grown.ptr, flat.ptr, flat.len) == 0, "growable bytes equal caller-buffer bytes");
    return flat;
}

/* ---- v2 batches -------------------------------------------------------------------- */

Test(record_builder, empty_batch)
{
    make_records(&rs, 0, 1, false);
    kw_batch_spec spec = kw_batch_spec_default();
    spec.base_offset = 42;
    spec.base_timestamp = 1700000000000;
    kw_slice out = round_trip(&spec, &rs);
    cr_assert_eq(out.len, KW_BATCH_V2_HEADER, "an empty batch is its header");
    kw_record_batch v = only_batch(out);
    cr_assert_eq(v.producer_id, -1, "no producer");
    cr_assert_eq(v.partition_leader_epoch, -1, "leader epoch -1");
}

Test(record_builder, one_record)
{
    kw_record_header h = {str("src"), str("kwire")};
    kw_record_spec r = {5, 0, 0, str("k"), str("v"), &h, 1};
    kw_batch_spec spec = kw_batch_spec_default();
    spec.base_timestamp = 1000;
    uint8_t buf[128];
    kw_builder b;
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    cr_assert_eq(kw_build_record_batch(&b, &spec, &r, 1), KW_OK, "build");
    kw_slice out = sl(kw_builder_contiguous(&b), kw_builder_size(&b));
    /* the record: length 18, attributes 0, ts delta 5, offset delta 0, key "k", value "v", 1 header */
    static const uint8_t rec[] = {0x24, 0x00, 0x0a, 0x00, 0x02, 'k', 0x02, 'v', 0x02,
                                  0x06, 's',  'r',  'c',  0x0a, 'k', 'w',  'i', 'r', 'e'};
    cr_assert_eq(out.len, KW_BATCH_V2_HEADER + sizeof rec, "size %zu", out.len);
    cr_assert(memcmp(out.ptr + KW_BATCH_V2_HEADER, rec, sizeof rec) == 0, "record bytes");
    kw_record_batch v = only_batch(out);
    expect_header(&v, &spec, 1, 0, 1005);
    expect_records(v.records, v.record_count, &r, 1);
}

Test(record_builder, three_records)
{
    kw_record_header h0[] = {{str("a"), null_slice}, {str(""), str("")}, {str("c"), str("xyz")}};
    kw_record_spec r[3] = {
        {0, 0, 0, null_slice, str(""), NULL, 0},
        {-7, 1, 0, str(""), null_slice, h0, 3},
        {INT64_MAX, INT32_MAX, 0, str("key"), str("value"), h0, 1},
    };
    memcpy(rs.recs, r, sizeof r);
    rs.count = 3;
    kw_batch_spec spec = kw_batch_spec_default();
    spec.base_offset = INT64_MAX - 5;
    spec.partition_leader_epoch = 17;
    spec.base_timestamp = -1;
    spec.max_timestamp = 123; /* explicit values are written as given */
    spec.last_offset_delta = 2;
    round_trip(&spec, &rs);
    /* the computed ones: highest offset delta, base + highest timestamp delta (wrapping) */
    spec.last_offset_delta = KW_LAST_OFFSET_DELTA_AUTO;
    spec.max_timestamp = KW_MAX_TIMESTAMP_AUTO;
    spec.base_timestamp = 0;
    kw_record_batch v = only_batch(build_flat(&spec, &rs, bufa, sizeof bufa));
    cr_assert_eq(v.last_offset_delta, INT32_MAX, "auto last_offset_delta");
    cr_assert_eq(v.max_timestamp, INT64_MAX, "auto max_timestamp");
}

Test(record_builder, thousand_records)
{
    make_records(&rs, 1000, 7, true);
    kw_batch_spec spec = kw_batch_spec_default();
    spec.base_offset = 1234567;
    spec.base_timestamp = 1700000000000;
    round_trip(&spec, &rs);
}

Test(record_builder, producer_control_transactional)
{
    /* an idempotent transactional batch */
    make_records(&rs, 3, 9, false);
    kw_batch_spec spec = kw_batch_spec_default();
    spec.attributes = KW_ATTR_TRANSACTIONAL | KW_ATTR_TIMESTAMP_TYPE;
    spec.producer_id = 4242;
    spec.producer_epoch = 3;
    spec.base_sequence = 100;
    spec.partition_leader_epoch = 5;
    spec.max_timestamp = 1700000000999; /* LOG_APPEND_TIME: the broker's time */
    kw_record_batch v = only_batch(round_trip(&spec, &rs));
    cr_assert(kw_record_batch_is_transactional(&v), "transactional");
    cr_assert_eq(kw_record_batch_timestamp_type(&v), KW_TIMESTAMP_LOG_APPEND_TIME, "time type");

    /* a commit marker: control batch, key = version 0, type 1; value = version, epoch */
    static const uint8_t key[] = {0, 0, 0, 1};
    static const uint8_t value[] = {0, 0, 0, 0, 0, 7};
    kw_record_spec marker = {0, 0, 0, sl(key, 4), sl(value, 6), NULL, 0};
    spec.attributes = KW_ATTR_TRANSACTIONAL | KW_ATTR_CONTROL;
    spec.max_timestamp = KW_MAX_TIMESTAMP_AUTO;
    memcpy(rs.recs, &marker, sizeof marker);
    rs.count = 1;
    v = only_batch(round_trip(&spec, &rs));
    cr_assert(kw_record_batch_is_control(&v), "control");
    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init(&it, &v);
    cr_assert_eq(kw_record_iter_next(&it, &rec), 1, "the marker");
    int16_t type;
    cr_assert_eq(kw_record_control_type(&rec, &type), KW_OK, "control type");
    cr_assert_eq(type, KW_CONTROL_COMMIT, "commit");
}

Test(record_builder, lent_values_keep_bytes_and_crc)
{
    make_records(&rs, 200, 11, true);
    kw_batch_spec spec = kw_batch_spec_default();
    kw_slice plain = build_flat(&spec, &rs, bufa, sizeof bufa);

    /* values of 100 bytes and more are lent: segments, same bytes, same CRC */
    spec.lend_min = 100;
    static kw_segment segs[1024];
    kw_builder b;
    kw_builder_init(&b, bufb, sizeof bufb, segs, sizeof segs / sizeof segs[0]);
    cr_assert_eq(kw_build_record_batch(&b, &spec, rs.recs, rs.count), KW_OK, "build");
    size_t nseg, lent = 0;
    const kw_segment *sg = kw_builder_segments(&b, &nseg);
    for (size_t i = 0; i < nseg; i++)
        lent += sg[i].referenced;
    cr_assert_gt(lent, 10, "values were lent (%zu segments)", lent);
    static uint8_t copy[4u << 20];
    size_t n = kw_builder_copy_out(&b, copy, sizeof copy);
    cr_assert_eq(n, plain.len, "size");
    cr_assert(memcmp(copy, plain.ptr, n) == 0, "lent output equals copied output");

    /* without segment room, lending fails with NO_SPACE */
    kw_builder_init(&b, bufb, sizeof bufb, NULL, 0);
    cr_assert_eq(kw_build_record_batch(&b, &spec, rs.recs, rs.count), KW_ERR_NO_SPACE, "no segs");
}

Test(record_builder, batches_after_batches)
{
    /* a records field of two batches: the second written first */
    make_records(&rs, 4, 3, false);
    kw_batch_spec s1 = kw_batch_spec_default(), s2 = kw_batch_spec_default();
    s1.base_offset = 0;
    s2.base_offset = 4;
    kw_builder b;
    kw_builder_init(&b, bufa, sizeof bufa, NULL, 0);
    kw_build_record_batch(&b, &s2, rs.recs + 2, 2);
    cr_assert_eq(kw_build_record_batch(&b, &s1, rs.recs, 2), KW_OK, "build");
    kw_batch_iter it;
    kw_batch e;
    kw_batch_iter_init(&it, sl(kw_builder_contiguous(&b), kw_builder_size(&b)), KW_VERIFY_CRC);
    for (int64_t k = 0; k < 2; k++) {
        cr_assert_eq(kw_batch_iter_next(&it, &e), 1, "batch %d", (int)k);
        cr_assert_eq(e.v2.base_offset, 4 * k, "base_offset of batch %d", (int)k);
        expect_records(e.v2.records, e.v2.record_count, rs.recs + 2 * k, 2);
    }
    cr_assert_eq(kw_batch_iter_next(&it, &e), 0, "two batches");
}

Test(record_builder, errors_are_sticky)
{
    make_records(&rs, 10, 5, false);
    kw_batch_spec spec = kw_batch_spec_default();
    size_t region;
    cr_assert_eq(kw_records_size(rs.recs, rs.count, &region), KW_OK, "size");
    /* every size short of the batch runs out of room, and the error stays */
    for (size_t cap = 0; cap < KW_BATCH_V2_HEADER + region; cap++) {
        kw_builder b;
        kw_builder_init(&b, bufa, cap, NULL, 0);
        kw_err e = kw_build_record_batch(&b, &spec, rs.recs, rs.count);
        KWT_EQ(e, KW_ERR_NO_SPACE, "cap %zu: %s", cap, kw_err_name(e));
        size_t size = kw_builder_size(&b);
        KWT_EQ(kw_build_record_batch(&b, &spec, rs.recs, 1), KW_ERR_NO_SPACE, "sticky, cap %zu",
               cap);
        KWT_EQ(kw_build_legacy_message(&b, 1, 0, 0, 0, null_slice, null_slice), KW_ERR_NO_SPACE,
               "sticky legacy, cap %zu", cap);
        KWT_EQ(kw_builder_size(&b), size, "nothing written after the error, cap %zu", cap);
    }

    kw_builder b;
    kw_record_header bad = {null_slice, str("v")};
    kw_record_spec r = {0, 0, 0, str("k"), str("v"), &bad, 1};
    kw_builder_init(&b, bufa, sizeof bufa, NULL, 0);
    cr_assert_eq(kw_build_record_batch(&b, &spec, &r, 1), KW_ERR_UNEXPECTED_NULL, "null header key");
    cr_assert_eq(kw_records_size(&r, 1, &region), KW_ERR_UNEXPECTED_NULL, "size: null header key");

    kw_builder_init(&b, bufa, sizeof bufa, NULL, 0);
    cr_assert_eq(kw_build_legacy_message(&b, 2, 0, 0, 0, null_slice, null_slice), KW_ERR_BAD_MAGIC,
                 "legacy magic 2");

    /* codecs 5-7 are not assigned */
    spec.attributes = 5;
    kw_builder_init(&b, bufa, sizeof bufa, NULL, 0);
    cr_assert_eq(kw_build_record_batch(&b, &spec, rs.recs, rs.count),
                 KW_ERR_COMPRESSION_UNSUPPORTED, "codec 5");
    cr_assert_eq(kw_err_kafka_code(KW_ERR_COMPRESSION_UNSUPPORTED), 76,
                 "UNSUPPORTED_COMPRESSION_TYPE");
    cr_assert_eq(kw_err_kafka_code(KW_ERR_DECOMPRESS_FAILED), 2, "CORRUPT_MESSAGE");
    cr_assert_str_eq(kw_err_name(KW_ERR_DECOMPRESSED_TOO_LARGE), "DECOMPRESSED_TOO_LARGE", "name");
}

Test(record_builder, no_allocation_into_caller_buffer)
{
    make_records(&rs, 1000, 13, true);
    kw_batch_spec spec = kw_batch_spec_default();
    static kw_segment segs[4096];
    kw_builder b;
    size_t before = kwt_allocations;
    kw_builder_init(&b, bufa, sizeof bufa, NULL, 0);
    kw_err e = kw_build_record_batch(&b, &spec, rs.recs, rs.count);
    kw_build_legacy_message(&b, 1, 7, 0, 1234, str("k"), str("v"));
    spec.lend_min = 64;
    kw_builder_init(&b, bufb, sizeof bufb, segs, sizeof segs / sizeof segs[0]);
    kw_err e2 = kw_build_record_batch(&b, &spec, rs.recs, rs.count);
    size_t made = kwt_allocations - before;
    cr_assert_eq(e, KW_OK, "build");
    cr_assert_eq(e2, KW_OK, "build with lent values");
    cr_assert_eq(made, 0, "%zu kwt_allocations", made);
}

/* ---- real clients' batches, rebuilt byte for byte ---------------------------------- */

/* Where a records field starts in a captured frame (see test_records.c). */
typedef struct real_vec {
    char file[72]; /* arrays, not pointers: Criterion may hand parameters to a fresh process */
    size_t at;
} real_vec;

ParameterizedTestParameters(record_builder, real_clients_rebuilt)
{
    static real_vec vecs[] = {
        {"kcat/00007_c01_req_k00-Produce_v7_corr4.bin", 55},
        {"kcat-flexible/00013_c02_req_k00-Produce_v7_corr4.bin", 57},
        {"confluent/00007_c01_req_k00-Produce_v7_corr4.bin", 66},
        {"confluent-flexible/00017_c02_req_k00-Produce_v7_corr4.bin", 64},
        {"kafka-python/00007_c02_req_k00-Produce_v7_corr1.bin", 79},
        {"kafka-python/00007_c02_req_k00-Produce_v7_corr1.bin", 1337},
        {"kafkajs/00005_c01_req_k00-Produce_v7_corr2.bin", 63},
        {"kafkajs/00005_c01_req_k00-Produce_v7_corr2.bin", 1117},
        {"kafkajs-flexible/00029_c02_req_k00-Produce_v7_corr2.bin", 62},
        {"kcat/00063_c03_rsp_k01-Fetch_v11_corr9.bin", 873},
    };
    return cr_make_param_array(real_vec, vecs, sizeof vecs / sizeof vecs[0]);
}

ParameterizedTest(real_vec *rv, record_builder, real_clients_rebuilt)
{
    const char *dir = getenv("KW_SOURCE_DIR");
    if (!dir)
        cr_skip_test("KW_SOURCE_DIR is not set (run through meson test)");
    char path[512];
    snprintf(path, sizeof path, "%s/tests/vectors/%s", dir, rv->file);
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s", path);
    static uint8_t frame[8192];
    size_t n = fread(frame, 1, sizeof frame, f);
    fclose(f);
    cr_assert(rv->at >= 4 && rv->at <= n, "%s: records at %zu of %zu", rv->file, rv->at, n);
    const uint8_t *lp = frame + rv->at - 4;
    size_t len = (size_t)lp[0] << 24 | (size_t)lp[1] << 16 | (size_t)lp[2] << 8 | lp[3];
    cr_assert(len <= n - rv->at, "%s: records length %zu", rv->file, len);
    kw_record_batch v = only_batch(sl(frame + rv->at, len));

    /* the batch as plain fields ... */
    kw_batch_spec spec = kw_batch_spec_default();
    spec.base_offset = v.base_offset;
    spec.partition_leader_epoch = v.partition_leader_epoch;
    spec.attributes = v.attributes;
    spec.last_offset_delta = v.last_offset_delta;
    spec.base_timestamp = v.base_timestamp;
    spec.max_timestamp = v.max_timestamp;
    spec.producer_id = v.producer_id;
    spec.producer_epoch = v.producer_epoch;
    spec.base_sequence = v.base_sequence;
    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init(&it, &v);
    size_t count = 0, nh = 0;
    while (kw_record_iter_next(&it, &rec) == 1) {
        cr_assert_lt(count, (size_t)MAX_RECORDS, "records");
        kw_record_spec *r = &rs.recs[count++];
        r->timestamp_delta = rec.timestamp_delta;
        r->offset_delta = rec.offset_delta;
        r->attributes = rec.attributes;
        r->key = rec.key;
        r->value = rec.value;
        r->headers = rs.hdrs + nh;
        r->header_count = rec.header_count;
        kw_record_header_iter hi;
        kw_record_header_iter_init(&hi, &rec);
        while (nh < MAX_HEADERS && kw_record_header_iter_next_unchecked(&hi, &rs.hdrs[nh]))
            nh++;
    }
    cr_assert_eq(kw_record_iter_error(&it).code, KW_OK, "%s: records decode", rv->file);
    cr_assert_eq((int32_t)count, v.record_count, "%s: records", rv->file);
    rs.count = count;

    /* ... built again: the same bytes, CRC included */
    kw_slice out = build_flat(&spec, &rs, bufa, sizeof bufa);
    cr_assert_eq(out.len, v.raw.len, "%s: %zu bytes, the client sent %zu", rv->file, out.len,
                 v.raw.len);
    for (size_t i = 0; i < out.len; i++)
        KWT_EQ(out.ptr[i], v.raw.ptr[i], "%s: byte %zu of the batch", rv->file, i);
    kw_slice grown = build_growable(&spec, &rs, 64, bufb, sizeof bufb);
    cr_assert(grown.len == v.raw.len && memcmp(grown.ptr, v.raw.ptr, v.raw.len) == 0,
              "%s: growable build", rv->file);
}

/* ---- legacy messages ------------------------------------------------------------------- */

typedef struct legacy_msg {
    int64_t offset;
    int8_t attributes;
    int64_t timestamp;
    kw_slice key, value;
} legacy_msg;

/* A forward writer, separately from the builder: the bytes Kafka's format says. */
static size_t forward_legacy(uint8_t *p, int8_t magic, const legacy_msg *m)
{
    size_t n = 0;
    for (int i = 7; i >= 0; i--)
        p[n++] = (uint8_t)((uint64_t)m->offset >> (8 * i));
    n += 8; /* size and crc, below */
    p[n++] = (uint8_t)magic;
    p[n++] = (uint8_t)m->attributes;
    if (magic == 1)
        for (int i = 7; i >= 0; i--)
            p[n++] = (uint8_t)((uint64_t)m->timestamp >> (8 * i));
    kw_slice parts[2] = {m->key, m->value};
    for (int k = 0; k < 2; k++) {
        uint32_t l = kw_slice_is_null(parts[k]) ? 0xffffffffu : (uint32_t)parts[k].len;
        for (int i = 3; i >= 0; i--)
            p[n++] = (uint8_t)(l >> (8 * i));
        if (!kw_slice_is_null(parts[k]) && parts[k].len) {
            memcpy(p + n, parts[k].ptr, parts[k].len);
            n += parts[k].len;
        }
    }
    uint32_t size = (uint32_t)(n - 12), crc = kw_crc32(0, p + 16, n - 16);
    for (int i = 0; i < 4; i++) {
        p[8 + i] = (uint8_t)(size >> (24 - 8 * i));
        p[12 + i] = (uint8_t)(crc >> (24 - 8 * i));
    }
    return n;
}

/* Builds msgs[0..n) as one message set (last first) and checks bytes and view. */
static void legacy_set(int8_t magic, const legacy_msg *msgs, size_t n)
{
    kw_builder b;
    kw_builder_init(&b, bufa, sizeof bufa, NULL, 0);
    for (size_t i = n; i-- > 0;)
        kw_build_legacy_message(&b, magic, msgs[i].offset, msgs[i].attributes, msgs[i].timestamp,
                                msgs[i].key, msgs[i].value);
    cr_assert_eq(kw_builder_error(&b), KW_OK, "v%d build", magic);
    kw_slice out = sl(kw_builder_contiguous(&b), kw_builder_size(&b));
    size_t fw = 0;
    for (size_t i = 0; i < n; i++)
        fw += forward_legacy(bufb + fw, magic, &msgs[i]);
    cr_assert_eq(out.len, fw, "v%d size", magic);
    cr_assert(memcmp(out.ptr, bufb, fw) == 0, "v%d bytes equal the forward writer's", magic);

    kw_batch_iter it;
    kw_batch e;
    kw_batch_iter_init(&it, out, KW_VERIFY_CRC);
    for (size_t i = 0; i < n; i++) {
        int rc = kw_batch_iter_next(&it, &e);
        cr_assert_eq(rc, 1, "v%d message %zu: %s", magic, i,
                     kw_err_name(kw_batch_iter_error(&it).code));
        const kw_legacy_message *m = &e.legacy;
        cr_assert_eq(m->magic, magic, "magic");
        cr_assert_eq(m->offset, msgs[i].offset, "offset");
        cr_assert_eq(m->attributes, msgs[i].attributes, "attributes");
        cr_assert_eq(m->timestamp, magic == 1 ? msgs[i].timestamp : -1, "timestamp");
        cr_assert(slice_eq(m->key, msgs[i].key), "key %zu", i);
        cr_assert(slice_eq(m->value, msgs[i].value), "value %zu", i);
    }
    cr_assert_eq(kw_batch_iter_next(&it, &e), 0, "v%d: %zu messages", magic, n);
}

Test(record_builder, legacy_round_trip)
{
    legacy_msg msgs[] = {
        {0, 0, 1700000000000, str("a"), str("x")},
        {1, 0, -1, null_slice, str("")},
        {2, KW_ATTR_TIMESTAMP_TYPE, 5, str(""), null_slice},
        {INT64_MAX, 0, INT64_MIN, str("key"), str("a longer value")},
    };
    legacy_set(0, msgs, 4);
    legacy_set(1, msgs, 4);
}

/* ---- codecs ------------------------------------------------------------------------------ */

/* The four codecs, as parameters of a test named test. */
#define CODEC_PARAMETERS(test)                                                                    \
    ParameterizedTestParameters(record_builder, test)                                             \
    {                                                                                             \
        static int codecs[] = {KW_COMPRESSION_GZIP, KW_COMPRESSION_SNAPPY, KW_COMPRESSION_LZ4,    \
                               KW_COMPRESSION_ZSTD};                                              \
        return cr_make_param_array(int, codecs, 4);                                               \
    }

CODEC_PARAMETERS(codec)

/* Decompresses a built batch and checks it holds s. */
static void expect_compressed_batch(kw_slice out, const kw_batch_spec *spec, const recset *s)
{
    kw_record_batch v = only_batch(out);
    expect_header(&v, spec, s->count, want_last_offset_delta(s),
                  want_max_timestamp(s, spec->base_timestamp));
    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init(&it, &v);
    cr_assert_eq(kw_record_iter_next(&it, &rec), -1, "compressed records are not walked in place");
    cr_assert_eq(kw_record_iter_error(&it).code, KW_ERR_COMPRESSED, "COMPRESSED");
    size_t region, len;
    cr_assert_eq(kw_records_size(s->recs, s->count, &region), KW_OK, "size");
    static uint8_t plain[4u << 20];
    kw_err e = kw_record_batch_decompress(&v, plain, sizeof plain, &len);
    cr_assert_eq(e, KW_OK, "decompress: %s", kw_err_name(e));
    cr_assert_eq(len, region, "decompressed size");
    expect_records(sl(plain, len), v.record_count, s->recs, s->count);
    /* the size from the batch itself, then one buffer of exactly that */
    size_t need;
    e = kw_record_batch_decompressed_size(&v, sizeof plain, &need);
    cr_assert_eq(e, KW_OK, "decompressed_size: %s", kw_err_name(e));
    cr_assert_eq(need, region, "decompressed_size %zu, records %zu", need, region);
    if (need > 0) {
        e = kw_record_batch_decompressed_size(&v, need - 1, &len);
        cr_assert_eq(e, KW_ERR_DECOMPRESSED_TOO_LARGE, "limit one short: %s", kw_err_name(e));
    }
    kwt_guard g;
    kwt_guard_open(&g, need);
    e = kw_record_batch_decompress(&v, need ? g.map + g.room - need : NULL, need, &len);
    kwt_guard_close(&g);
    cr_assert_eq(e, KW_OK, "into exactly decompressed_size: %s", kw_err_name(e));
    cr_assert_eq(len, need, "filled");
}

ParameterizedTest(int *codec_p, record_builder, codec)
{
    kw_compression codec = (kw_compression)*codec_p;
    make_records(&rs, 1000, 17, true);
    kw_batch_spec spec = kw_batch_spec_default();
    spec.attributes = (int16_t)codec;
    spec.base_timestamp = 1700000000000;
    kw_builder b;
    if (!kw_compression_available(codec)) {
        kw_builder_init(&b, bufa, sizeof bufa, NULL, 0);
        cr_assert_eq(kw_build_record_batch(&b, &spec, rs.recs, rs.count),
                     KW_ERR_COMPRESSION_UNSUPPORTED, "%s is not built in", kw_compression_name(codec));
        cr_assert_eq(kw_compress_bound(codec, 10), 0, "no bound");
        cr_skip_test("%s is not in this build", kw_compression_name(codec));
    }
    size_t region;
    cr_assert_eq(kw_records_size(rs.recs, rs.count, &region), KW_OK, "size");

    /* no scratch: one buffer allocated by kwire (the codec's own state aside) */
    size_t before = kwt_allocations;
    kw_slice a = build_flat(&spec, &rs, bufa, sizeof bufa);
    cr_assert_eq(kwt_allocations - before, 1, "%s: one allocation, got %zu", kw_compression_name(codec),
                 kwt_allocations - before);
    cr_assert_lt(a.len, KW_BATCH_V2_HEADER + region, "%s compresses", kw_compression_name(codec));
    expect_compressed_batch(a, &spec, &rs);
    if (codec == KW_COMPRESSION_LZ4) {
        /* several blocks here: Kafka's Java reader wants them independent */
        cr_assert_gt(region, 64 * 1024, "more than one block");
        cr_assert_eq(a.ptr[KW_BATCH_V2_HEADER + 4] & 0x20, 0x20, "FLG block independence");
    }

    /* a caller scratch with room for records and the compressed bound: no allocation */
    static uint8_t scratch_buf[8u << 20];
    size_t need = region + kw_compress_bound(codec, region);
    cr_assert_leq(need, sizeof scratch_buf, "scratch size");
    kw_builder scratch;
    kw_builder_init(&scratch, scratch_buf, need, NULL, 0);
    kw_builder_init(&b, bufb, sizeof bufb, NULL, 0);
    before = kwt_allocations;
    kw_err e = kw_build_record_batch_compressed(&b, &spec, rs.recs, rs.count, &scratch);
    cr_assert_eq(kwt_allocations - before, 0, "caller scratch: no allocation");
    cr_assert_eq(e, KW_OK, "caller scratch: %s", kw_err_name(e));
    cr_assert(kw_builder_size(&b) == a.len && memcmp(kw_builder_contiguous(&b), a.ptr, a.len) == 0,
              "same bytes with a caller scratch");

    /* scratch too small for both: records fit, output buffer allocated */
    kw_builder_init(&scratch, scratch_buf, region, NULL, 0);
    kw_builder_init(&b, bufb, sizeof bufb, NULL, 0);
    cr_assert_eq(kw_build_record_batch_compressed(&b, &spec, rs.recs, rs.count, &scratch), KW_OK,
                 "scratch holding the records only");
    cr_assert(kw_builder_size(&b) == a.len && memcmp(kw_builder_contiguous(&b), a.ptr, a.len) == 0,
              "same bytes with a small scratch");

    /* scratch too small for the records: its NO_SPACE */
    kw_builder_init(&scratch, scratch_buf, region - 1, NULL, 0);
    kw_builder_init(&b, bufb, sizeof bufb, NULL, 0);
    cr_assert_eq(kw_build_record_batch_compressed(&b, &spec, rs.recs, rs.count, &scratch),
                 KW_ERR_NO_SPACE, "scratch one byte short");
    cr_assert_eq(kw_builder_size(&b), 0, "nothing written");

    /* a growable scratch of small chunks: records in pieces, copied together */
    kw_builder_init_growable(&scratch, 1024);
    kw_builder_init_growable(&b, 300);
    cr_assert_eq(kw_build_record_batch_compressed(&b, &spec, rs.recs, rs.count, &scratch), KW_OK,
                 "growable scratch");
    size_t n = kw_builder_copy_out(&b, bufb, sizeof bufb);
    cr_assert(n == a.len && memcmp(bufb, a.ptr, a.len) == 0, "same bytes, growable both");
    kw_builder_free(&scratch);
    kw_builder_free(&b);

    /* an empty compressed batch */
    rs.count = 0;
    expect_compressed_batch(build_flat(&spec, &rs, bufa, sizeof bufa), &spec, &rs);

    /* levels */
    make_records(&rs, 50, 19, false);
    for (int level = 1; level <= 9; level += 4) {
        spec.compression_level = level;
        expect_compressed_batch(build_flat(&spec, &rs, bufa, sizeof bufa), &spec, &rs);
    }
}

/* Output buffers end at a guard page: a write past cap crashes the test. */
static kw_err decompress_guarded(kw_compression codec, kw_slice in, size_t cap, size_t *len,
                                 uint8_t *copy)
{
    kwt_guard g;
    kwt_guard_open(&g, cap);
    uint8_t *out = g.map + g.room - cap;
    kw_err e = kw_decompress(codec, in, cap ? out : NULL, cap, len);
    if (e == KW_OK && copy)
        memcpy(copy, out, *len);
    kwt_guard_close(&g);
    return e;
}

CODEC_PARAMETERS(corrupt_input_fails_cleanly)

ParameterizedTest(int *codec_p, record_builder, corrupt_input_fails_cleanly)
{
    kw_compression codec = (kw_compression)*codec_p;
    if (!kw_compression_available(codec))
        cr_skip_test("%s is not in this build", kw_compression_name(codec));
    /* text-like input of 100 KiB: several snappy blocks, two lz4 blocks */
    static uint8_t in[100 * 1024], packed[200 * 1024], got[100 * 1024];
    rng_state = 23;
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)("abcdefgh"[rng() % 8] + (i % 4096 == 0));
    size_t plen, len;
    cr_assert_eq(kw_compress(codec, 0, sl(in, sizeof in), packed, sizeof packed, &plen), KW_OK,
                 "compress");
    cr_assert_eq(decompress_guarded(codec, sl(packed, plen), sizeof in, &len, got), KW_OK, "whole");
    cr_assert(len == sizeof in && memcmp(got, in, len) == 0, "round trip");

    /* cuts (every one near the ends, sampled between): an error, or (snappy's block
     * framing) a shorter valid stream */
    kwt_guard ig;
    kwt_guard_open(&ig, plen);
    size_t every = plen / 1024 + 1;
    for (size_t cut = 0; cut < plen; cut++) {
        if (cut > 64 && cut + 64 < plen && cut % every != 0)
            continue;
        const uint8_t *p = kwt_guard_place(&ig, packed, cut);
        size_t l = 0;
        kw_err e = kw_decompress(codec, sl(p, cut), got, sizeof got, &l);
        KWT_TRUE(e == KW_ERR_DECOMPRESS_FAILED || (codec == KW_COMPRESSION_SNAPPY && e == KW_OK &&
                                                   l < sizeof in),
                 "%s cut at %zu of %zu: %s", kw_compression_name(codec), cut, plen, kw_err_name(e));
    }
    /* bytes flipped (every one near the start, sampled after): no crash, nothing past cap */
    kwt_guard og;
    kwt_guard_open(&og, sizeof in);
    uint8_t *out = og.map + og.room - sizeof in;
    uint8_t *p = (uint8_t *)(uintptr_t)kwt_guard_place(&ig, packed, plen);
    size_t failed = 0;
    every = plen / 512 + 1;
    for (size_t i = 0; i < plen; i++) {
        if (i > 64 && i % every != 0)
            continue;
        p[i] ^= 0x5a;
        size_t l = 0;
        kw_err e = kw_decompress(codec, sl(p, plen), out, sizeof in, &l);
        KWT_TRUE(e == KW_OK || e == KW_ERR_DECOMPRESS_FAILED || e == KW_ERR_DECOMPRESSED_TOO_LARGE,
                 "flip %zu: %s", i, kw_err_name(e));
        KWT_TRUE(e != KW_OK || l <= sizeof in, "flip %zu: length %zu", i, l);
        failed += e != KW_OK;
        p[i] ^= 0x5a;
    }
    kwt_guard_close(&og);
    cr_assert_gt(failed, 0, "some corruption is noticed");
    /* garbage after the stream */
    packed[plen] = 0x00;
    cr_assert_eq(kw_decompress(codec, sl(packed, plen + 1), got, sizeof got, &len),
                 KW_ERR_DECOMPRESS_FAILED, "a trailing byte");
    kwt_guard_close(&ig);
}

CODEC_PARAMETERS(bomb_bounded_by_cap)

ParameterizedTest(int *codec_p, record_builder, bomb_bounded_by_cap)
{
    kw_compression codec = (kw_compression)*codec_p;
    if (!kw_compression_available(codec))
        cr_skip_test("%s is not in this build", kw_compression_name(codec));
    /* 16 MiB of zeros packs into a few KiB */
    size_t big = 16u << 20;
    uint8_t *zeros = calloc(1, big);
    size_t bound = kw_compress_bound(codec, big), plen, len;
    uint8_t *packed = malloc(bound);
    cr_assert(zeros && packed, "memory");
    cr_assert_eq(kw_compress(codec, 0, sl(zeros, big), packed, bound, &plen), KW_OK, "compress");
    cr_assert_lt(plen, big / 10, "%s packs zeros: %zu bytes", kw_compression_name(codec), plen);

    size_t caps[] = {0, 1, 1u << 20, big - 1};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        kw_err e = decompress_guarded(codec, sl(packed, plen), caps[i], &len, NULL);
        cr_assert_eq(e, KW_ERR_DECOMPRESSED_TOO_LARGE, "%s into %zu bytes: %s",
                     kw_compression_name(codec), caps[i], kw_err_name(e));
    }
    cr_assert_eq(decompress_guarded(codec, sl(packed, plen), big, &len, NULL), KW_OK, "exact fit");
    cr_assert_eq(len, big, "all of it");

    /* the same bomb as a batch's records: bounded the same way */
    kw_builder b;
    kw_builder_init(&b, bufa, sizeof bufa, NULL, 0);
    kw_batch_spec spec = kw_batch_spec_default();
    spec.attributes = (int16_t)codec;
    kw_build_raw(&b, packed, plen);
    kw_build_i32(&b, 1);
    kw_build_i32(&b, spec.base_sequence);
    kw_build_i16(&b, spec.producer_epoch);
    kw_build_i64(&b, spec.producer_id);
    kw_build_i64(&b, 0);
    kw_build_i64(&b, 0);
    kw_build_i32(&b, 0);
    kw_build_i16(&b, spec.attributes);
    kw_build_u32(&b, 0);
    kw_build_i8(&b, 2);
    kw_build_i32(&b, -1);
    kw_build_i32(&b, (int32_t)(plen + 49));
    kw_build_i64(&b, 0);
    kw_batch_iter it;
    kw_batch e;
    kw_batch_iter_init(&it, sl(kw_builder_contiguous(&b), kw_builder_size(&b)), 0);
    cr_assert_eq(kw_batch_iter_next(&it, &e), 1, "the batch");
    kw_err err = kw_record_batch_decompress(&e.v2, bufb, 1u << 20, &len);
    cr_assert_eq(err, KW_ERR_DECOMPRESSED_TOO_LARGE, "batch bomb: %s", kw_err_name(err));
    free(zeros);
    free(packed);
}

/* Builds a wrapper of magic holding value; returns its view. */
static kw_legacy_message wrapper_of(int8_t magic, kw_compression codec, kw_slice value)
{
    kw_builder b;
    kw_builder_init(&b, bufb, sizeof bufb, NULL, 0);
    cr_assert_eq(kw_build_legacy_message(&b, magic, 12, (int8_t)codec, 102, null_slice, value),
                 KW_OK, "wrapper");
    kw_batch_iter it;
    kw_batch e;
    kw_batch_iter_init(&it, sl(kw_builder_contiguous(&b), kw_builder_size(&b)), KW_VERIFY_CRC);
    cr_assert_eq(kw_batch_iter_next(&it, &e), 1, "%s wrapper", kw_compression_name(codec));
    cr_assert_eq(kw_legacy_message_compression(&e.legacy), codec, "codec");
    return e.legacy;
}

Test(record_builder, legacy_compressed_wrapper)
{
    legacy_msg inner[] = {
        {10, 0, 100, str("a"), str("first")},
        {11, 0, 101, null_slice, str("second")},
        {12, 0, 102, str("c"), null_slice},
    };
    for (int8_t magic = 0; magic <= 1; magic++) {
        for (int c = KW_COMPRESSION_GZIP; c <= KW_COMPRESSION_LZ4; c++) {
            kw_compression codec = (kw_compression)c;
            if (!kw_compression_available(codec))
                continue;
            kw_builder b;
            kw_builder_init(&b, bufa, sizeof bufa, NULL, 0);
            for (size_t i = 3; i-- > 0;)
                kw_build_legacy_message(&b, magic, inner[i].offset, 0, inner[i].timestamp,
                                        inner[i].key, inner[i].value);
            kw_slice set = sl(kw_builder_contiguous(&b), kw_builder_size(&b));
            static uint8_t packed[4096], plain[4096];
            size_t plen, len;
            cr_assert_eq(kw_compress(codec, 0, set, packed, sizeof packed, &plen), KW_OK,
                         "compress");
            kw_legacy_message m = wrapper_of(magic, codec, sl(packed, plen));
            kw_err e = kw_legacy_message_decompress(&m, plain, sizeof plain, &len);
            cr_assert_eq(e, KW_OK, "v%d %s inner set: %s", magic, kw_compression_name(codec),
                         kw_err_name(e));
            cr_assert(len == set.len && memcmp(plain, set.ptr, len) == 0, "inner set bytes");
            size_t need = 0;
            e = kw_legacy_message_decompressed_size(&m, sizeof plain, &need);
            cr_assert_eq(e, KW_OK, "v%d %s size: %s", magic, kw_compression_name(codec), kw_err_name(e));
            cr_assert_eq(need, set.len, "v%d %s size %zu", magic, kw_compression_name(codec), need);
            kw_batch_iter it;
            kw_batch eb;
            kw_batch_iter_init(&it, sl(plain, len), KW_VERIFY_CRC);
            for (size_t i = 0; i < 3; i++) {
                cr_assert_eq(kw_batch_iter_next(&it, &eb), 1, "inner %zu", i);
                cr_assert_eq(eb.legacy.magic, magic, "inner magic");
                cr_assert_eq(eb.legacy.offset, inner[i].offset, "inner offset");
                cr_assert(slice_eq(eb.legacy.value, inner[i].value), "inner value");
            }
            if (codec != KW_COMPRESSION_LZ4)
                continue;
            /* a frame header checksum computed over the wrong bytes (magic 0's, before
             * KIP-57): magic 0 reads it as Kafka does, magic 1 refuses it */
            size_t hc_at = 6; /* magic 4, FLG, BD, then HC: no content size, no dictionary */
            cr_assert_eq(packed[4] & 0x09, 0, "no content size or dictionary id");
            packed[hc_at] ^= 0xff;
            m = wrapper_of(magic, codec, sl(packed, plen));
            e = kw_legacy_message_decompress(&m, plain, sizeof plain, &len);
            cr_assert_eq(e, magic == 0 ? KW_OK : KW_ERR_DECOMPRESS_FAILED,
                         "v%d lz4 with a wrong header checksum: %s", magic, kw_err_name(e));
            cr_assert(e != KW_OK || (len == set.len && memcmp(plain, set.ptr, len) == 0),
                      "v0 lz4 inner set bytes");
            size_t need0 = 0;
            cr_assert_eq(kw_legacy_message_decompressed_size(&m, sizeof plain, &need0), e,
                         "v%d lz4 with a wrong header checksum: size as decompress", magic);
            cr_assert(e != KW_OK || need0 == set.len, "v0 lz4 size %zu", need0);
            cr_assert_eq(kw_decompress(codec, sl(packed, plen), plain, sizeof plain, &len),
                         KW_ERR_DECOMPRESS_FAILED, "outside magic 0 the checksum counts");
        }
    }
    /* (kw_batch_iter refuses such a wrapper itself; a hand-made view) */
    kw_legacy_message m;
    memset(&m, 0, sizeof m);
    m.magic = 1;
    m.attributes = KW_COMPRESSION_GZIP;
    size_t len;
    cr_assert_eq(kw_legacy_message_decompress(&m, bufa, 16, &len), KW_ERR_UNEXPECTED_NULL,
                 "null wrapper value");
    cr_assert_eq(kw_legacy_message_decompressed_size(&m, 16, &len), KW_ERR_UNEXPECTED_NULL,
                 "null wrapper value: size");
}

/* ---- framings written by hand ---------------------------------------------------------------- */

/* A raw snappy block of literals only (any decoder must read it). */
static size_t snappy_literal_block(uint8_t *p, const uint8_t *data, size_t n)
{
    size_t k = 0;
    for (size_t v = n; ; v >>= 7) {
        p[k++] = (uint8_t)(v >= 0x80 ? (v & 0x7f) | 0x80 : v);
        if (v < 0x80)
            break;
    }
    cr_assert(n >= 1 && n <= 256, "literal length");
    if (n <= 60) {
        p[k++] = (uint8_t)((n - 1) << 2);
    } else {
        p[k++] = 60 << 2;
        p[k++] = (uint8_t)(n - 1);
    }
    memcpy(p + k, data, n);
    return k + n;
}

Test(record_builder, snappy_raw_and_xerial_framings)
{
    if (!kw_compression_available(KW_COMPRESSION_SNAPPY))
        cr_skip_test("snappy is not in this build");
    static const uint8_t text[] = "records travel as snappy blocks; librdkafka sends them raw, "
                                  "Java in xerial's framing, both must read.";
    size_t tn = sizeof text - 1;
    uint8_t raw[300], framed[700], out[512];
    size_t rn = snappy_literal_block(raw, text, tn), len;
    cr_assert_eq(kw_decompress(KW_COMPRESSION_SNAPPY, sl(raw, rn), out, sizeof out, &len), KW_OK,
                 "raw block");
    cr_assert(len == tn && memcmp(out, text, tn) == 0, "raw block bytes");

    /* two xerial streams back to back, the first of two blocks */
    static const uint8_t hdr[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    size_t fn = 0, half = tn / 2;
    for (int stream = 0; stream < 2; stream++) {
        memcpy(framed + fn, hdr, 16);
        fn += 16;
        size_t parts[2][2] = {{0, half}, {half, tn - half}};
        for (int k = 0; k < 2; k++) {
            if (stream == 1 && k == 1)
                break;
            size_t bn = snappy_literal_block(framed + fn + 4, text + parts[k][0],
                                             stream == 1 ? tn : parts[k][1]);
            framed[fn] = 0;
            framed[fn + 1] = 0;
            framed[fn + 2] = (uint8_t)(bn >> 8);
            framed[fn + 3] = (uint8_t)bn;
            fn += 4 + bn;
        }
    }
    cr_assert_eq(kw_decompress(KW_COMPRESSION_SNAPPY, sl(framed, fn), out, sizeof out, &len),
                 KW_OK, "xerial");
    cr_assert(len == 2 * tn && memcmp(out, text, tn) == 0 && memcmp(out + tn, text, tn) == 0,
              "xerial bytes");
    cr_assert_eq(kw_decompress(KW_COMPRESSION_SNAPPY, sl(framed, fn), out, 2 * tn - 1, &len),
                 KW_ERR_DECOMPRESSED_TOO_LARGE, "one byte short");
    /* the last block's length says more than there is */
    cr_assert_eq(kw_decompress(KW_COMPRESSION_SNAPPY, sl(framed, fn - 1), out, sizeof out, &len),
                 KW_ERR_DECOMPRESS_FAILED, "block length past the end");

    /* snappy-java's own example: "foobar\n" in its framing, and kwire writes the same */
    static const uint8_t foobar[] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0,   0,   0,   0,
                                     1,    0,   0,   0,   1,   0,   0,   0,   9,   0x07, 0x18,
                                     'f',  'o', 'o', 'b', 'a', 'r', '\n'};
    cr_assert_eq(kw_decompress(KW_COMPRESSION_SNAPPY, sl(foobar, sizeof foobar), out, sizeof out,
                               &len),
                 KW_OK, "foobar");
    cr_assert(len == 7 && memcmp(out, "foobar\n", 7) == 0, "foobar bytes");
    cr_assert_eq(kw_compress(KW_COMPRESSION_SNAPPY, 0, sl("foobar\n", 7), framed, sizeof framed,
                             &len),
                 KW_OK, "compress foobar");
    cr_assert(len == sizeof foobar && memcmp(framed, foobar, len) == 0, "foobar as snappy-java writes it");

    /* what kw_compress writes: the xerial header, then length-prefixed blocks */
    size_t pn;
    cr_assert_eq(kw_compress(KW_COMPRESSION_SNAPPY, 0, sl(text, tn), framed, sizeof framed, &pn),
                 KW_OK, "compress");
    cr_assert(pn > 20 && memcmp(framed, hdr, 16) == 0, "xerial header");
    size_t blen = (size_t)framed[16] << 24 | (size_t)framed[17] << 16 | (size_t)framed[18] << 8 |
                  framed[19];
    cr_assert_eq(20 + blen, pn, "one block");
    cr_assert_eq(kw_decompress(KW_COMPRESSION_SNAPPY, sl(framed + 20, blen), out, sizeof out, &len),
                 KW_OK, "its block alone is a raw snappy block");
    cr_assert(len == tn && memcmp(out, text, tn) == 0, "block bytes");
}

Test(record_builder, concatenated_frames)
{
    static const uint8_t a[] = "first part, ", b[] = "second part";
    kw_compression codecs[] = {KW_COMPRESSION_GZIP, KW_COMPRESSION_LZ4, KW_COMPRESSION_ZSTD};
    for (size_t c = 0; c < 3; c++) {
        kw_compression codec = codecs[c];
        if (!kw_compression_available(codec))
            continue;
        uint8_t packed[1024], out[64];
        size_t n1, n2, len;
        cr_assert_eq(kw_compress(codec, 0, sl(a, sizeof a - 1), packed, sizeof packed, &n1), KW_OK,
                     "a");
        cr_assert_eq(kw_compress(codec, 0, sl(b, sizeof b - 1), packed + n1, sizeof packed - n1, &n2),
                     KW_OK, "b");
        cr_assert_eq(kw_decompress(codec, sl(packed, n1 + n2), out, sizeof out, &len), KW_OK,
                     "%s: two frames", kw_compression_name(codec));
        cr_assert(len == sizeof a + sizeof b - 2 && memcmp(out, a, sizeof a - 1) == 0 &&
                      memcmp(out + sizeof a - 1, b, sizeof b - 1) == 0,
                  "%s: both parts", kw_compression_name(codec));
        cr_assert_eq(kw_decompress(codec, sl(packed, 0), out, sizeof out, &len),
                     KW_ERR_DECOMPRESS_FAILED, "%s: no bytes", kw_compression_name(codec));
    }
    /* unassigned codecs */
    size_t len;
    uint8_t out[4];
    cr_assert_eq(kw_decompress((kw_compression)6, sl(a, 3), out, sizeof out, &len),
                 KW_ERR_COMPRESSION_UNSUPPORTED, "codec 6");
    cr_assert_eq(kw_decompress(KW_COMPRESSION_NONE, sl(a, 3), out, sizeof out, &len), KW_OK, "none");
    cr_assert_eq(kw_decompress(KW_COMPRESSION_NONE, sl(a, 5), out, sizeof out, &len),
                 KW_ERR_DECOMPRESSED_TOO_LARGE, "none, too long");
}

/*
 * Streams from other encoders (Python's gzip, the lz4 and zstd command line
 * tools, each with its checksums on) read back; and what kwire writes starts
 * as Kafka's readers expect.
 */
Test(record_builder, other_encoders_and_kafka_framing)
{
    static const char text[] = "kafka records\n";
    static const struct {
        kw_compression codec;
        const char *hex;
    } streams[] = {
        {KW_COMPRESSION_GZIP, "1f8b0800000000000203cb4e4ccb4e54284a4dce2f4a29e60200a65ba3010e000000"},
        {KW_COMPRESSION_LZ4, "04224d186440a70e0000806b61666b61207265636f7264730a00000000c846746f"},
        {KW_COMPRESSION_ZSTD, "28b52ffd04587100006b61666b61207265636f7264730a78abfd5d"},
    };
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++) {
        kw_compression codec = streams[i].codec;
        if (!kw_compression_available(codec))
            continue;
        uint8_t in[64], out[64];
        size_t n = kwt_hex(streams[i].hex, in, sizeof in), len;
        kw_err e = kw_decompress(codec, sl(in, n), out, sizeof out, &len);
        cr_assert_eq(e, KW_OK, "%s stream: %s", kw_compression_name(codec), kw_err_name(e));
        cr_assert(len == sizeof text - 1 && memcmp(out, text, len) == 0, "%s bytes",
                  kw_compression_name(codec));
        /* a changed payload byte: each of these carries a checksum of the content */
        in[n - 6] ^= 1;
        cr_assert_eq(kw_decompress(codec, sl(in, n), out, sizeof out, &len),
                     KW_ERR_DECOMPRESS_FAILED, "%s checksum", kw_compression_name(codec));

        e = kw_compress(codec, 0, sl(text, sizeof text - 1), in, sizeof in, &n);
        cr_assert_eq(e, KW_OK, "%s compress", kw_compression_name(codec));
        if (codec == KW_COMPRESSION_GZIP) {
            cr_assert(n > 18 && in[0] == 0x1f && in[1] == 0x8b && in[2] == 8, "a gzip member");
        } else if (codec == KW_COMPRESSION_LZ4) {
            cr_assert(n > 7 && memcmp(in, "\x04\x22\x4d\x18", 4) == 0, "an LZ4 frame");
            /* version 1, independent blocks, no block or content checksum; 64 KiB blocks */
            cr_assert_eq(in[4] & 0xf4, 0x60, "FLG %02x", in[4]);
            cr_assert_eq(in[5], 0x40, "BD %02x", in[5]);
        } else {
            cr_assert(n > 4 && memcmp(in, "\x28\xb5\x2f\xfd", 4) == 0, "a zstd frame");
        }
    }
}

/* ---- decompressed size ------------------------------------------------------------------------ */

/*
 * kw_decompressed_size of in (placed against a guard page) with limit; when
 * it answers, decompressing into exactly that room (ending at a guard page)
 * succeeds, or for a zstd content size that lies, fails as corrupt.
 */
static kw_err size_then_decompress(kw_compression codec, kw_slice in, size_t limit, size_t *size)
{
    kwt_guard ig;
    kwt_guard_open(&ig, in.len);
    kw_slice at = sl(kwt_guard_place(&ig, in.ptr, in.len), in.len);
    kw_err e = kw_decompressed_size(codec, at, limit, size);
    if (e == KW_OK) {
        KWT_TRUE(*size <= limit, "%s: size %zu over limit %zu", kw_compression_name(codec), *size,
                 limit);
        kwt_guard og;
        kwt_guard_open(&og, *size);
        size_t len = 0;
        kw_err d = kw_decompress(codec, at, *size ? og.map + og.room - *size : NULL, *size, &len);
        kwt_guard_close(&og);
        KWT_TRUE((d == KW_OK && len == *size) ||
                     (codec == KW_COMPRESSION_ZSTD && d != KW_OK && d != KW_ERR_OUT_OF_MEMORY),
                 "%s: into exactly %zu bytes: %s (%zu)", kw_compression_name(codec), *size,
                 kw_err_name(d), len);
    }
    kwt_guard_close(&ig);
    return e;
}

CODEC_PARAMETERS(decompressed_size)

ParameterizedTest(int *codec_p, record_builder, decompressed_size)
{
    kw_compression codec = (kw_compression)*codec_p;
    size_t size;
    if (!kw_compression_available(codec)) {
        cr_assert_eq(kw_decompressed_size(codec, str("x"), 10, &size),
                     KW_ERR_COMPRESSION_UNSUPPORTED, "not built in");
        cr_skip_test("%s is not in this build", kw_compression_name(codec));
    }
    const char *name = kw_compression_name(codec);
    /* 100 KiB: several blocks of each codec's framing; and nothing at all */
    static uint8_t in[100 * 1024], packed[200 * 1024];
    rng_state = 29;
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)("abcdefgh"[rng() % 8] + (i % 4096 == 0));
    size_t lens[] = {0, 1, sizeof in};
    for (size_t k = 0; k < 3; k++) {
        size_t plen;
        cr_assert_eq(kw_compress(codec, 0, sl(in, lens[k]), packed, sizeof packed, &plen), KW_OK,
                     "compress");
        kw_err e = size_then_decompress(codec, sl(packed, plen), sizeof in, &size);
        cr_assert_eq(e, KW_OK, "%s %zu bytes: %s", name, lens[k], kw_err_name(e));
        cr_assert_eq(size, lens[k], "%s size %zu of %zu", name, size, lens[k]);
        cr_assert_eq(size_then_decompress(codec, sl(packed, plen), lens[k], &size), KW_OK,
                     "%s: limit exactly the size", name);
        if (lens[k] > 0)
            cr_assert_eq(kw_decompressed_size(codec, sl(packed, plen), lens[k] - 1, &size),
                         KW_ERR_DECOMPRESSED_TOO_LARGE, "%s: limit one short", name);
    }
    size_t plen;
    cr_assert_eq(kw_compress(codec, 0, sl(in, sizeof in), packed, sizeof packed, &plen), KW_OK,
                 "compress");

    /* hostile: every cut near the ends and bytes flipped near the start (where the
     * sizes are), sampled after; each answer bounded and honoured */
    size_t every = plen / 256 + 1;
    for (size_t cut = 0; cut < plen; cut++) {
        if (cut > 64 && cut + 64 < plen && cut % every != 0)
            continue;
        kw_err e = size_then_decompress(codec, sl(packed, cut), sizeof in, &size);
        KWT_TRUE(e == KW_ERR_DECOMPRESS_FAILED || (codec == KW_COMPRESSION_SNAPPY && e == KW_OK),
                 "%s cut at %zu: %s", name, cut, kw_err_name(e));
    }
    for (size_t i = 0; i < plen; i++) {
        if (i > 64 && i % every != 0)
            continue;
        for (unsigned flip = 0x01; flip <= 0x80; flip <<= 3) {
            packed[i] ^= (uint8_t)flip;
            kw_err e = size_then_decompress(codec, sl(packed, plen), sizeof in, &size);
            KWT_TRUE(e == KW_OK || e == KW_ERR_DECOMPRESS_FAILED ||
                         e == KW_ERR_DECOMPRESSED_TOO_LARGE,
                     "%s flip %zu: %s", name, i, kw_err_name(e));
            packed[i] ^= (uint8_t)flip;
        }
    }

    /* a bomb: 16 MiB of zeros, counted without being stored, stopped at the limit */
    size_t big = 16u << 20;
    uint8_t *zeros = calloc(1, big);
    size_t bound = kw_compress_bound(codec, big), blen;
    uint8_t *bomb = malloc(bound);
    cr_assert(zeros && bomb, "memory");
    cr_assert_eq(kw_compress(codec, 0, sl(zeros, big), bomb, bound, &blen), KW_OK, "compress");
    cr_assert_eq(kw_decompressed_size(codec, sl(bomb, blen), 1u << 20, &size),
                 KW_ERR_DECOMPRESSED_TOO_LARGE, "%s bomb over a 1 MiB limit", name);
    cr_assert_eq(kw_decompressed_size(codec, sl(bomb, blen), big, &size), KW_OK, "%s bomb", name);
    cr_assert_eq(size, big, "%s bomb size", name);
    free(zeros);
    free(bomb);
}

/* Sizes declared in headers that lie. */
Test(record_builder, decompressed_size_lying_headers)
{
    size_t size;
    static uint8_t in[100 * 1024], packed[200 * 1024];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7 % 251);
    size_t plen;
    if (kw_compression_available(KW_COMPRESSION_ZSTD)) {
        /* the frame content size: 2^32-1 (nothing is allocated by it), then too small */
        cr_assert_eq(kw_compress(KW_COMPRESSION_ZSTD, 0, sl(in, sizeof in), packed, sizeof packed,
                                 &plen), KW_OK, "zstd");
        uint8_t fhd = packed[4];
        static const size_t fcs_bytes[4] = {0, 2, 4, 8}, did_bytes[4] = {0, 1, 2, 4};
        bool single = fhd & 0x20;
        size_t fcs_len = fcs_bytes[fhd >> 6] ? fcs_bytes[fhd >> 6] : single ? 1 : 0;
        size_t fcs_at = 5 + !single + did_bytes[fhd & 3];
        cr_assert_eq(fcs_len, 4, "a 4-byte content size for 100 KiB");
        memset(packed + fcs_at, 0xff, fcs_len);
        cr_assert_eq(kw_decompressed_size(KW_COMPRESSION_ZSTD, sl(packed, plen), SIZE_MAX, &size),
                     KW_OK, "zstd, content size 2^32-1 under no limit");
        cr_assert_eq(size, 0xffffffffu, "as declared (decompression calls it corrupt)");
        cr_assert_eq(kw_decompressed_size(KW_COMPRESSION_ZSTD, sl(packed, plen), 1u << 20, &size),
                     KW_ERR_DECOMPRESSED_TOO_LARGE, "zstd, content size 2^32-1, 1 MiB limit");
        memset(packed + fcs_at, 0, fcs_len);
        packed[fcs_at] = 10;
        cr_assert_eq(size_then_decompress(KW_COMPRESSION_ZSTD, sl(packed, plen), 1u << 20, &size),
                     KW_OK, "zstd, content size 10");
        cr_assert_eq(size, 10, "as declared");
    }
    if (kw_compression_available(KW_COMPRESSION_SNAPPY)) {
        /* a raw block whose length preamble says 2^32-1 and then 10 over 50 literals */
        uint8_t raw[64];
        size_t rlen = snappy_literal_block(raw, in, 50);
        cr_assert_eq(raw[0], 50, "one-byte preamble");
        cr_assert_eq(size_then_decompress(KW_COMPRESSION_SNAPPY, sl(raw, rlen), 1u << 20, &size),
                     KW_OK, "honest raw block");
        cr_assert_eq(size, 50, "raw block size");
        raw[0] = 10;
        cr_assert_eq(size_then_decompress(KW_COMPRESSION_SNAPPY, sl(raw, rlen), 1u << 20, &size),
                     KW_ERR_DECOMPRESS_FAILED, "preamble 10 over 50 literals");
        uint8_t huge[72] = {0xff, 0xff, 0xff, 0xff, 0x0f};
        memcpy(huge + 5, raw + 1, rlen - 1);
        cr_assert_eq(size_then_decompress(KW_COMPRESSION_SNAPPY, sl(huge, rlen + 4), 1u << 20,
                                          &size), KW_ERR_DECOMPRESSED_TOO_LARGE,
                     "preamble 2^32-1, 1 MiB limit");
        cr_assert_eq(size_then_decompress(KW_COMPRESSION_SNAPPY, sl(huge, rlen + 4), SIZE_MAX,
                                          &size), KW_ERR_DECOMPRESS_FAILED,
                     "preamble 2^32-1 over 50 literals");
        /* xerial: a chunk length past the end */
        cr_assert_eq(kw_compress(KW_COMPRESSION_SNAPPY, 0, sl(in, sizeof in), packed,
                                 sizeof packed, &plen), KW_OK, "snappy");
        packed[16] = 0x7f;
        cr_assert_eq(size_then_decompress(KW_COMPRESSION_SNAPPY, sl(packed, plen), SIZE_MAX, &size),
                     KW_ERR_DECOMPRESS_FAILED, "xerial chunk length past the end");
    }
    if (kw_compression_available(KW_COMPRESSION_GZIP)) {
        /* ISIZE is not read: the count is what inflate makes (and it checks ISIZE at the end) */
        cr_assert_eq(kw_compress(KW_COMPRESSION_GZIP, 0, sl(in, sizeof in), packed, sizeof packed,
                                 &plen), KW_OK, "gzip");
        cr_assert_eq(size_then_decompress(KW_COMPRESSION_GZIP, sl(packed, plen), SIZE_MAX, &size),
                     KW_OK, "gzip");
        cr_assert_eq(size, sizeof in, "gzip size");
        memset(packed + plen - 4, 0xff, 4);
        cr_assert_eq(size_then_decompress(KW_COMPRESSION_GZIP, sl(packed, plen), SIZE_MAX, &size),
                     KW_ERR_DECOMPRESS_FAILED, "gzip ISIZE 2^32-1");
    }
    cr_assert_eq(size_then_decompress(KW_COMPRESSION_NONE, sl(in, 100), 100, &size), KW_OK, "none");
    cr_assert_eq(size, 100, "none size");
    cr_assert_eq(kw_decompressed_size(KW_COMPRESSION_NONE, sl(in, 100), 99, &size),
                 KW_ERR_DECOMPRESSED_TOO_LARGE, "none over the limit");
}
