/* Cursor: every primitive read against golden bytes, prefixes and edge values. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <criterion/theories.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "guard.h"
#include "kwire/cursor.h"

enum kind {
    K_BOOL,
    K_I8,
    K_I16,
    K_U16,
    K_I32,
    K_U32,
    K_I64,
    K_F64,
    K_UUID,
    K_UVARINT,
    K_UVARLONG,
    K_VARINT,
    K_VARLONG,
    K_STRING,
    K_NSTRING,
    K_CSTRING,
    K_CNSTRING,
    K_BYTES,
    K_NBYTES,
    K_CBYTES,
    K_CNBYTES,
    K_RECORDS,
    K_CRECORDS,
    K_ARRAY4,   /* array of int32 */
    K_NARRAY4,  /* nullable array of int32 */
    K_CARRAY4,  /* compact array of int32 */
    K_CNARRAY4, /* compact nullable array of int32 */
    K_TAGS,
};

static const char *const kind_names[] = {
    "bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64", "uuid",
    "uvarint", "uvarlong", "varint", "varlong", "string", "nullable string", "compact string",
    "compact nullable string", "bytes", "nullable bytes", "compact bytes",
    "compact nullable bytes", "records", "compact records", "array", "nullable array",
    "compact array", "compact nullable array", "tagged fields",
};

/* What one read produced, in a form every kind fits into. */
struct outcome {
    int64_t i;      /* integers, counts (-1 null), tag count */
    uint64_t u;     /* unsigned integers and raw float bits */
    kw_slice s;     /* strings, bytes, records, the tagged-field bytes */
    kw_uuid uuid;
    kw_reader r;    /* state after the read */
};

static struct outcome read_one(enum kind k, const uint8_t *buf, size_t n)
{
    struct outcome o;
    memset(&o, 0, sizeof o);
    kw_reader r;
    kw_reader_init(&r, buf, n);
    switch (k) {
    case K_BOOL: o.i = kw_read_bool(&r); break;
    case K_I8: o.i = kw_read_i8(&r); break;
    case K_I16: o.i = kw_read_i16(&r); break;
    case K_U16: o.u = kw_read_u16(&r); break;
    case K_I32: o.i = kw_read_i32(&r); break;
    case K_U32: o.u = kw_read_u32(&r); break;
    case K_I64: o.i = kw_read_i64(&r); break;
    case K_F64: {
        double d = kw_read_f64(&r);
        memcpy(&o.u, &d, sizeof d);
        break;
    }
    case K_UUID: o.uuid = kw_read_uuid(&r); break;
    case K_UVARINT: o.u = kw_read_uvarint(&r); break;
    case K_UVARLONG: o.u = kw_read_uvarlong(&r); break;
    case K_VARINT: o.i = kw_read_varint(&r); break;
    case K_VARLONG: o.i = kw_read_varlong(&r); break;
    case K_STRING: o.s = kw_read_string(&r); break;
    case K_NSTRING: o.s = kw_read_nullable_string(&r); break;
    case K_CSTRING: o.s = kw_read_compact_string(&r); break;
    case K_CNSTRING: o.s = kw_read_compact_nullable_string(&r); break;
    case K_BYTES: o.s = kw_read_bytes(&r); break;
    case K_NBYTES: o.s = kw_read_nullable_bytes(&r); break;
    case K_CBYTES: o.s = kw_read_compact_bytes(&r); break;
    case K_CNBYTES: o.s = kw_read_compact_nullable_bytes(&r); break;
    case K_RECORDS: o.s = kw_read_records(&r); break;
    case K_CRECORDS: o.s = kw_read_compact_records(&r); break;
    case K_ARRAY4: o.i = kw_read_array(&r, 4); break;
    case K_NARRAY4: o.i = kw_read_nullable_array(&r, 4); break;
    case K_CARRAY4: o.i = kw_read_compact_array(&r, 4); break;
    case K_CNARRAY4: o.i = kw_read_compact_nullable_array(&r, 4); break;
    case K_TAGS: {
        kw_tagged_fields tf = kw_read_tagged_fields(&r);
        o.i = tf.count;
        o.s = tf.fields;
        break;
    }
    }
    o.r = r;
    return o;
}

/* A golden vector: bytes, and either the value read or the error expected. */
/* Arrays, not pointers: Criterion re-runs the binary per test, where
 * pointers into the parent's memory would not hold. */
struct golden {
    enum kind kind;
    char hex[64];
    int64_t i;
    uint64_t u;
    char text[8]; /* expected slice contents */
    size_t text_len;
    int is_null;
    kw_err err;
    size_t err_offset;
    size_t consumed; /* bytes the read takes on success */
};

#define OK_I(k, h, v, c) {k, h, v, 0, "", 0, 0, KW_OK, 0, c}
#define OK_U(k, h, v, c) {k, h, 0, v, "", 0, 0, KW_OK, 0, c}
#define OK_S(k, h, t, c) {k, h, 0, 0, t, sizeof(t) - 1, 0, KW_OK, 0, c}
#define OK_NULL(k, h, c) {k, h, -1, 0, "", 0, 1, KW_OK, 0, c}
#define FAIL(k, h, e, off) {k, h, 0, 0, "", 0, 0, KW_ERR_##e, off, 0}

static struct golden goldens[] = {
    OK_I(K_BOOL, "00", 0, 1),
    OK_I(K_BOOL, "01", 1, 1),
    OK_I(K_BOOL, "7f", 1, 1), /* any non-zero byte is true, as Kafka reads it */
    OK_I(K_I8, "80", INT8_MIN, 1),
    OK_I(K_I8, "7f", INT8_MAX, 1),
    OK_I(K_I16, "80 00", INT16_MIN, 2),
    OK_I(K_I16, "ff ff", -1, 2),
    OK_I(K_I16, "01 02", 0x0102, 2),
    OK_U(K_U16, "ff ff", 0xffff, 2),
    OK_I(K_I32, "80 00 00 00", INT32_MIN, 4),
    OK_I(K_I32, "12 34 56 78", 0x12345678, 4),
    OK_U(K_U32, "ff ff ff fe", 0xfffffffeu, 4),
    OK_I(K_I64, "80 00 00 00 00 00 00 00", INT64_MIN, 8),
    OK_I(K_I64, "7f ff ff ff ff ff ff ff", INT64_MAX, 8),
    OK_I(K_I64, "01 02 03 04 05 06 07 08", 0x0102030405060708, 8),
    OK_U(K_F64, "3f f0 00 00 00 00 00 00", 0x3ff0000000000000u, 8), /* 1.0 */
    OK_U(K_F64, "7f f8 00 00 00 00 00 00", 0x7ff8000000000000u, 8), /* NaN passes through */
    OK_U(K_UVARINT, "00", 0, 1),
    OK_U(K_UVARINT, "7f", 127, 1),
    OK_U(K_UVARINT, "80 01", 128, 2),
    OK_U(K_UVARINT, "ff ff ff ff 0f", 0xffffffffu, 5),
    OK_U(K_UVARINT, "80 80 80 80 00", 0, 5), /* over-long but within 5 bytes */
    FAIL(K_UVARINT, "ff ff ff ff 10", VARINT_OVERFLOW, 0),
    FAIL(K_UVARINT, "ff ff ff ff 8f 01", VARINT_TOO_LONG, 0),
    FAIL(K_UVARINT, "80 80 80 80 80 80", VARINT_TOO_LONG, 0),
    OK_U(K_UVARLONG, "ff ff ff ff ff ff ff ff ff 01", UINT64_MAX, 10),
    FAIL(K_UVARLONG, "ff ff ff ff ff ff ff ff ff 02", VARINT_OVERFLOW, 0),
    FAIL(K_UVARLONG, "ff ff ff ff ff ff ff ff ff 81 00", VARINT_TOO_LONG, 0),
    OK_I(K_VARINT, "00", 0, 1),
    OK_I(K_VARINT, "01", -1, 1),
    OK_I(K_VARINT, "02", 1, 1),
    OK_I(K_VARINT, "fe ff ff ff 0f", INT32_MAX, 5),
    OK_I(K_VARINT, "ff ff ff ff 0f", INT32_MIN, 5),
    FAIL(K_VARINT, "ff ff ff ff ff 01", VARINT_TOO_LONG, 0),
    OK_I(K_VARLONG, "fe ff ff ff ff ff ff ff ff 01", INT64_MAX, 10),
    OK_I(K_VARLONG, "ff ff ff ff ff ff ff ff ff 01", INT64_MIN, 10),
    OK_I(K_VARLONG, "80 01", 64, 2),
    FAIL(K_VARLONG, "ff ff ff ff ff ff ff ff ff ff 01", VARINT_TOO_LONG, 0),
    OK_S(K_STRING, "00 03 61 62 63", "abc", 5),
    OK_S(K_STRING, "00 00", "", 2),
    FAIL(K_STRING, "ff ff", UNEXPECTED_NULL, 0),
    FAIL(K_STRING, "ff fe 61", NEGATIVE_LENGTH, 0),
    FAIL(K_STRING, "00 04 61 62 63", TRUNCATED, 2),
    OK_NULL(K_NSTRING, "ff ff", 2),
    OK_S(K_NSTRING, "00 00", "", 2),
    OK_S(K_NSTRING, "00 01 7a", "z", 3),
    FAIL(K_NSTRING, "80 00", NEGATIVE_LENGTH, 0),
    OK_S(K_CSTRING, "04 61 62 63", "abc", 4),
    OK_S(K_CSTRING, "01", "", 1),
    FAIL(K_CSTRING, "00", UNEXPECTED_NULL, 0),
    FAIL(K_CSTRING, "05 61 62 63", TRUNCATED, 1),
    FAIL(K_CSTRING, "ff ff ff ff 0f", TRUNCATED, 5),
    OK_NULL(K_CNSTRING, "00", 1),
    OK_S(K_CNSTRING, "01", "", 1),
    OK_S(K_CNSTRING, "02 78", "x", 2),
    OK_S(K_BYTES, "00 00 00 02 00 ff", "\x00\xff", 6),
    FAIL(K_BYTES, "ff ff ff ff", UNEXPECTED_NULL, 0),
    FAIL(K_BYTES, "ff ff ff fe", NEGATIVE_LENGTH, 0),
    FAIL(K_BYTES, "80 00 00 00", NEGATIVE_LENGTH, 0),
    FAIL(K_BYTES, "7f ff ff ff 00", TRUNCATED, 4),
    OK_NULL(K_NBYTES, "ff ff ff ff", 4),
    OK_S(K_NBYTES, "00 00 00 00", "", 4),
    OK_S(K_CBYTES, "03 01 02", "\x01\x02", 3),
    FAIL(K_CBYTES, "00", UNEXPECTED_NULL, 0),
    OK_NULL(K_CNBYTES, "00", 1),
    OK_S(K_CNBYTES, "01", "", 1),
    OK_NULL(K_RECORDS, "ff ff ff ff", 4),
    OK_S(K_RECORDS, "00 00 00 01 aa", "\xaa", 5),
    OK_NULL(K_CRECORDS, "00", 1),
    OK_S(K_CRECORDS, "02 bb", "\xbb", 2),
    OK_I(K_ARRAY4, "00 00 00 02 00 00 00 01 00 00 00 02", 2, 4),
    OK_I(K_ARRAY4, "00 00 00 00", 0, 4),
    FAIL(K_ARRAY4, "ff ff ff ff", UNEXPECTED_NULL, 0),
    FAIL(K_ARRAY4, "ff ff ff fe", NEGATIVE_LENGTH, 0),
    FAIL(K_ARRAY4, "00 00 00 03 00 00 00 01 00 00 00 02", COUNT_TOO_LARGE, 0),
    FAIL(K_ARRAY4, "7f ff ff ff 00 00 00 01", COUNT_TOO_LARGE, 0),
    OK_I(K_NARRAY4, "ff ff ff ff", -1, 4),
    OK_I(K_NARRAY4, "00 00 00 00", 0, 4), /* empty is not null */
    OK_I(K_CARRAY4, "02 00 00 00 07", 1, 1),
    OK_I(K_CARRAY4, "01", 0, 1),
    FAIL(K_CARRAY4, "00", UNEXPECTED_NULL, 0),
    FAIL(K_CARRAY4, "03 00 00 00 07", COUNT_TOO_LARGE, 0),
    FAIL(K_CARRAY4, "ff ff ff ff 0f", COUNT_TOO_LARGE, 0),
    OK_I(K_CNARRAY4, "00", -1, 1),
    OK_I(K_CNARRAY4, "01", 0, 1),
    OK_I(K_TAGS, "00", 0, 1),
    OK_I(K_TAGS, "02 00 01 aa 05 00", 2, 6),
    OK_I(K_TAGS, "01 80 01 02 01 02", 1, 6), /* two-byte tag 128 */
    FAIL(K_TAGS, "02 01 00 01 00", TAG_ORDER, 3),
    FAIL(K_TAGS, "02 03 00 01 00", TAG_ORDER, 3),
    FAIL(K_TAGS, "01 00 05 aa", TRUNCATED, 3),
    FAIL(K_TAGS, "01 00 ff ff ff ff 0f", TRUNCATED, 7),
    FAIL(K_TAGS, "05 00 00", COUNT_TOO_LARGE, 0),
    FAIL(K_TAGS, "ff ff ff ff 0f", COUNT_TOO_LARGE, 0),
};

ParameterizedTestParameters(cursor, golden)
{
    return cr_make_param_array(struct golden, goldens, sizeof goldens / sizeof goldens[0]);
}

static void check_value(const struct golden *g, const struct outcome *o, size_t n)
{
    const char *what = kind_names[g->kind];
    cr_assert_eq(o->r.err, KW_OK, "%s [%s]: unexpected error %s at offset %zu", what, g->hex,
                 kw_err_name(o->r.err), o->r.err_offset);
    cr_assert_eq(kw_reader_offset(&o->r), g->consumed, "%s [%s]: consumed %zu bytes, expected %zu",
                 what, g->hex, kw_reader_offset(&o->r), g->consumed);
    (void)n;
    switch (g->kind) {
    case K_U16: case K_U32: case K_F64: case K_UVARINT: case K_UVARLONG:
        cr_assert_eq(o->u, g->u, "%s [%s]: value %llu, expected %llu", what, g->hex,
                     (unsigned long long)o->u, (unsigned long long)g->u);
        break;
    case K_STRING: case K_NSTRING: case K_CSTRING: case K_CNSTRING: case K_BYTES: case K_NBYTES:
    case K_CBYTES: case K_CNBYTES: case K_RECORDS: case K_CRECORDS:
        if (g->is_null) {
            cr_assert(kw_slice_is_null(o->s), "%s [%s]: expected null at offset 0", what, g->hex);
        } else {
            size_t want = g->text_len;
            cr_assert(!kw_slice_is_null(o->s), "%s [%s]: got null, expected a value", what, g->hex);
            cr_assert_eq(o->s.len, want, "%s [%s]: length %zu, expected %zu", what, g->hex, o->s.len,
                         want);
            cr_assert_eq(memcmp(o->s.ptr, g->text, want), 0, "%s [%s]: contents differ", what, g->hex);
        }
        break;
    default:
        cr_assert_eq(o->i, g->i, "%s [%s]: value %lld, expected %lld", what, g->hex,
                     (long long)o->i, (long long)g->i);
        break;
    }
}

ParameterizedTest(struct golden *g, cursor, golden)
{
    uint8_t bytes[64];
    size_t n = kwt_hex(g->hex, bytes, sizeof bytes);
    kwt_guard guard;
    kwt_guard_open(&guard, n);
    const uint8_t *buf = kwt_guard_place(&guard, bytes, n);
    struct outcome o = read_one(g->kind, buf, n);
    if (g->err == KW_OK) {
        check_value(g, &o, n);
    } else {
        cr_assert_eq(o.r.err, g->err, "%s [%s]: error %s, expected %s", kind_names[g->kind], g->hex,
                     kw_err_name(o.r.err), kw_err_name(g->err));
        cr_assert_eq(o.r.err_offset, g->err_offset, "%s [%s]: error at offset %zu, expected %zu",
                     kind_names[g->kind], g->hex, o.r.err_offset, g->err_offset);
        cr_assert_eq(kw_reader_remaining(&o.r), 0, "%s: a failed reader must be parked at the end",
                     kind_names[g->kind]);
    }
    kwt_guard_close(&guard);
}

static bool is_array(enum kind k)
{
    return k == K_ARRAY4 || k == K_NARRAY4 || k == K_CARRAY4 || k == K_CNARRAY4;
}

struct prefix_ctx {
    const struct golden *g;
    size_t full; /* bytes in the vector */
};

static void prefix_must_fail(const uint8_t *buf, size_t n, void *ctx)
{
    const struct prefix_ctx *pc = ctx;
    const struct golden *g = pc->g;
    struct outcome o = read_one(g->kind, buf, n);
    /* Array counts are checked against every byte left, so arrays need all of them. */
    bool enough = is_array(g->kind) ? n == pc->full : n >= g->consumed;
    if (enough) {
        cr_assert_eq(o.r.err, KW_OK, "%s [%s]: whole vector of %zu bytes failed with %s",
                     kind_names[g->kind], g->hex, n, kw_err_name(o.r.err));
        return;
    }
    /* A strict prefix runs out of bytes, or cannot back an array count. */
    cr_assert(o.r.err == KW_ERR_TRUNCATED || o.r.err == KW_ERR_COUNT_TOO_LARGE,
              "%s [%s]: prefix of %zu bytes gave %s", kind_names[g->kind], g->hex, n,
              kw_err_name(o.r.err));
    cr_assert(o.r.err_offset <= n, "%s [%s]: prefix of %zu bytes: error offset %zu past the end",
              kind_names[g->kind], g->hex, n, o.r.err_offset);
}

ParameterizedTestParameters(cursor, every_prefix)
{
    return cr_make_param_array(struct golden, goldens, sizeof goldens / sizeof goldens[0]);
}

ParameterizedTest(struct golden *g, cursor, every_prefix)
{
    uint8_t bytes[64];
    size_t n = kwt_hex(g->hex, bytes, sizeof bytes);
    if (g->err != KW_OK) {
        /* Failing vectors: every prefix must fail too (and never over-read). */
        kwt_guard guard;
        kwt_guard_open(&guard, n);
        for (size_t k = 0; k <= n; k++) {
            struct outcome o = read_one(g->kind, kwt_guard_place(&guard, bytes, k), k);
            cr_assert_neq(o.r.err, KW_OK, "%s [%s]: prefix of %zu bytes of a bad vector passed",
                          kind_names[g->kind], g->hex, k);
        }
        kwt_guard_close(&guard);
        return;
    }
    struct prefix_ctx pc = {g, n};
    kwt_each_prefix(bytes, n, prefix_must_fail, &pc);
}

/* ---- edge values as theories ------------------------------------------ */

static size_t put_uvarlong(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

TheoryDataPoints(cursor, varint_zigzag) = {
    DataPoints(int32_t, INT32_MIN, INT32_MIN + 1, -65, -64, -63, -1, 0, 1, 63, 64, 8191, 8192,
               INT32_MAX - 1, INT32_MAX),
};

Theory((int32_t v), cursor, varint_zigzag)
{
    uint8_t buf[8];
    uint32_t zz = ((uint32_t)v << 1) ^ (uint32_t)(v < 0 ? -1 : 0);
    size_t n = put_uvarlong(buf, zz);
    kw_reader r;
    kw_reader_init(&r, buf, n);
    int32_t got = kw_read_varint(&r);
    cr_assert_eq(r.err, KW_OK, "varint %d: error %s", v, kw_err_name(r.err));
    cr_assert_eq(got, v, "varint: read %d, expected %d", got, v);
    cr_assert_eq(kw_reader_remaining(&r), 0, "varint %d: %zu bytes left", v, kw_reader_remaining(&r));
}

TheoryDataPoints(cursor, varlong_zigzag) = {
    DataPoints(int64_t, INT64_MIN, INT64_MIN + 1, (int64_t)INT32_MIN - 1, -1, 0, 1,
               (int64_t)INT32_MAX + 1, INT64_MAX - 1, INT64_MAX),
};

Theory((int64_t v), cursor, varlong_zigzag)
{
    uint8_t buf[12];
    uint64_t zz = ((uint64_t)v << 1) ^ (uint64_t)(v < 0 ? -1 : 0);
    size_t n = put_uvarlong(buf, zz);
    cr_assert_leq(n, 10, "varlong %lld took %zu bytes", (long long)v, n);
    kw_reader r;
    kw_reader_init(&r, buf, n);
    int64_t got = kw_read_varlong(&r);
    cr_assert_eq(r.err, KW_OK, "varlong %lld: error %s", (long long)v, kw_err_name(r.err));
    cr_assert_eq(got, v, "varlong: read %lld, expected %lld", (long long)got, (long long)v);
}

TheoryDataPoints(cursor, uvarint_width) = {
    DataPoints(uint32_t, 0, 1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455, 268435456,
               UINT32_MAX),
};

Theory((uint32_t v), cursor, uvarint_width)
{
    uint8_t buf[8];
    size_t n = put_uvarlong(buf, v);
    size_t expect = v < (1u << 7) ? 1 : v < (1u << 14) ? 2 : v < (1u << 21) ? 3 : v < (1u << 28) ? 4 : 5;
    cr_assert_eq(n, expect, "uvarint %u: encoder wrote %zu bytes", v, n);
    kw_reader r;
    kw_reader_init(&r, buf, n);
    cr_assert_eq(kw_read_uvarint(&r), v, "uvarint %u read back wrong", v);
    cr_assert_eq(kw_reader_offset(&r), n, "uvarint %u: consumed %zu of %zu", v, kw_reader_offset(&r), n);
}

/* Compact lengths are N + 1: a length of len bytes is written as len + 1. */
TheoryDataPoints(cursor, compact_length_plus_one) = {
    DataPoints(uint32_t, 0, 1, 126, 127, 128, 300),
};

Theory((uint32_t len), cursor, compact_length_plus_one)
{
    static uint8_t buf[512];
    size_t n = put_uvarlong(buf, (uint64_t)len + 1);
    memset(buf + n, 'q', len);
    kw_reader r;
    kw_reader_init(&r, buf, n + len);
    kw_slice s = kw_read_compact_string(&r);
    cr_assert_eq(r.err, KW_OK, "compact string of %u: error %s", len, kw_err_name(r.err));
    cr_assert_eq(s.len, len, "compact string: length %zu, expected %u", s.len, len);
    cr_assert_eq(kw_reader_remaining(&r), 0, "compact string of %u: bytes left", len);
}

/* ---- reader behaviour -------------------------------------------------- */

Test(cursor, first_error_wins)
{
    uint8_t bytes[] = {0x00, 0x05, 'a'};
    kw_reader r;
    kw_reader_init(&r, bytes, sizeof bytes);
    (void)kw_read_string(&r); /* truncated at offset 2 */
    cr_assert_eq(r.err, KW_ERR_TRUNCATED, "string: error %s", kw_err_name(r.err));
    cr_assert_eq(r.err_offset, 2, "string: error offset %zu, expected 2", r.err_offset);
    kw_reader_fail(&r, KW_ERR_BAD_CRC);
    cr_assert_eq(r.err, KW_ERR_TRUNCATED, "later failure replaced the first");
    cr_assert_eq(kw_read_i32(&r), 0, "read after an error must return 0");
    cr_assert_eq(kw_read_uvarint(&r), 0, "uvarint after an error must return 0");
    kw_slice s = kw_read_nullable_string(&r);
    cr_assert(!kw_slice_is_null(s) && s.len == 0, "string after an error: empty, not null");
    cr_assert_eq(r.err_offset, 2, "offset moved to %zu", r.err_offset);
}

Test(cursor, take_keeps_offsets)
{
    uint8_t bytes[] = {1, 2, 3, 4, 5, 6};
    kw_reader r;
    kw_reader_init(&r, bytes, sizeof bytes);
    kw_reader_skip(&r, 2);
    kw_reader child = kw_reader_take(&r, 3);
    cr_assert_eq(kw_reader_offset(&child), 2, "child offset %zu, expected 2", kw_reader_offset(&child));
    cr_assert_eq(kw_reader_remaining(&child), 3, "child window");
    cr_assert_eq(kw_reader_offset(&r), 5, "parent moved to %zu", kw_reader_offset(&r));
    (void)kw_read_i32(&child);
    cr_assert_eq(child.err_offset, 2, "child error offset %zu counts from the buffer start",
                 child.err_offset);
    kw_reader big = kw_reader_take(&r, 2);
    cr_assert_eq(r.err, KW_ERR_TRUNCATED, "take past the end must fail the parent");
    cr_assert_eq(big.err, KW_ERR_TRUNCATED, "take past the end must fail the child");
    cr_assert_eq(kw_reader_remaining(&big), 0, "failed child must be empty");
}

Test(cursor, expect_end)
{
    uint8_t bytes[] = {0, 0, 0, 1, 9};
    kw_reader r;
    kw_reader_init(&r, bytes, sizeof bytes);
    cr_assert_eq(kw_read_i32(&r), 1, "int32");
    kw_reader_expect_end(&r);
    cr_assert_eq(r.err, KW_ERR_TRAILING_BYTES, "expect_end: %s", kw_err_name(r.err));
    cr_assert_eq(r.err_offset, 4, "trailing bytes at offset %zu, expected 4", r.err_offset);
}

Test(cursor, null_buffer)
{
    kw_reader r;
    kw_reader_init(&r, NULL, 0);
    cr_assert_eq(kw_read_i8(&r), 0, "empty reader");
    cr_assert_eq(r.err, KW_ERR_TRUNCATED, "read from an empty buffer");
    kw_reader_init(&r, NULL, 0);
    kw_reader_expect_end(&r);
    cr_assert_eq(r.err, KW_OK, "an empty buffer is at its end");
}

Test(cursor, uuid_and_float)
{
    uint8_t bytes[24];
    for (int i = 0; i < 16; i++)
        bytes[i] = (uint8_t)(0xa0 + i);
    uint8_t pi[8] = {0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18};
    memcpy(bytes + 16, pi, 8);
    kw_reader r;
    kw_reader_init(&r, bytes, sizeof bytes);
    kw_uuid u = kw_read_uuid(&r);
    cr_assert_eq(memcmp(u.bytes, bytes, 16), 0, "uuid bytes in wire order");
    double d = kw_read_f64(&r);
    cr_assert(fabs(d - 3.141592653589793) < DBL_EPSILON, "float64 read %.17g", d);
}

Test(cursor, tagged_iteration)
{
    /* tags 0 (1 byte), 5 (0 bytes), 300 (2 bytes) */
    uint8_t bytes[] = {0x03, 0x00, 0x01, 0xaa, 0x05, 0x00, 0xac, 0x02, 0x02, 0x10, 0x20, 0x77};
    kw_reader r;
    kw_reader_init(&r, bytes, sizeof bytes);
    kw_tagged_fields tf = kw_read_tagged_fields(&r);
    cr_assert_eq(r.err, KW_OK, "tagged fields: %s", kw_err_name(r.err));
    cr_assert_eq(tf.count, 3, "tag count %u", tf.count);
    cr_assert_eq(kw_reader_offset(&r), 11, "section ends at %zu", kw_reader_offset(&r));
    kw_tag_iter it;
    kw_tagged_field f;
    kw_tag_iter_init(&it, tf);
    uint32_t want_tag[] = {0, 5, 300};
    size_t want_len[] = {1, 0, 2};
    for (int i = 0; i < 3; i++) {
        cr_assert(kw_tag_iter_next(&it, &f), "tagged field %d missing", i);
        cr_assert_eq(f.tag, want_tag[i], "tagged field %d: tag %u", i, f.tag);
        cr_assert_eq(f.data.len, want_len[i], "tagged field %d: size %zu", i, f.data.len);
    }
    cr_assert_eq(f.data.ptr[0], 0x10, "tag 300 data");
    cr_assert(!kw_tag_iter_next(&it, &f), "only three tagged fields");
    kw_reader_init(&r, bytes, sizeof bytes);
    kw_skip_tagged_fields(&r);
    cr_assert_eq(kw_reader_offset(&r), 11, "skip ends at %zu", kw_reader_offset(&r));
}

Test(cursor, error_table)
{
    for (int c = 0; c < KW_ERR_COUNT_; c++) {
        cr_assert(kw_err_name((kw_err)c)[0] != '\0', "error %d has no name", c);
        cr_assert(strlen(kw_err_message((kw_err)c)) > 5, "error %d has no message", c);
    }
    cr_assert_str_eq(kw_err_name(KW_ERR_TRUNCATED), "TRUNCATED", "name of TRUNCATED");
    cr_assert_eq(kw_err_kafka_code(KW_ERR_UNSUPPORTED_VERSION), 35, "UNSUPPORTED_VERSION code");
    cr_assert_eq(kw_err_kafka_code(KW_ERR_BAD_CRC), 2, "CORRUPT_MESSAGE code");
    cr_assert_eq(kw_err_kafka_code(KW_ERR_COUNT_TOO_LARGE), 42, "INVALID_REQUEST code");
    cr_assert_str_eq(kw_err_name((kw_err)1000), "UNKNOWN", "out of range code");
}
