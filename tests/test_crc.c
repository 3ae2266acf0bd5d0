/*
 * CRC-32C and CRC-32: known answers, then the dispatched, portable and a
 * bitwise reference computed here agreeing on every length, alignment and
 * split point that matters, with buffers ending against a guard page.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "kwire/crc.h"

#define POLY_CRC32C 0x82F63B78u
#define POLY_CRC32 0xEDB88320u

/* Straight from the definition, one bit at a time: slow, but shares no code or tables with lib/. */
static uint32_t ref_crc(uint32_t poly, uint32_t crc, const uint8_t *p, size_t n)
{
    uint32_t c = ~crc;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = (c & 1) ? c >> 1 ^ poly : c >> 1;
    }
    return ~c;
}

/* Deterministic filler, so a failure reproduces. */
static void fill(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        p[i] = (uint8_t)(s >> 32);
    }
}

/*
 * The loops below compare hundreds of thousands of checksums, and meson runs
 * the suite with --full-stats, which reports every passing assertion to the
 * runner (a minute of IPC). So they assert only on a mismatch.
 */
#define EXPECT_CRC(got, want, ...)                                                                 \
    do {                                                                                           \
        uint32_t got_ = (got), want_ = (want);                                                     \
        if (got_ != want_)                                                                         \
            cr_assert_eq(got_, want_, __VA_ARGS__);                                                \
    } while (0)

/* ---- known answers ---------------------------------------------------- */

/*
 * CRC-32 values from Python's zlib.crc32; CRC-32C values from a separate
 * bitwise Python script (the 32-byte ones match the examples in RFC 3720
 * B.4). Each vector is text or, when binary, hex.
 */
struct kat {
    const char *name;
    const char *text;
    const char *hex;
    uint32_t crc32c;
    uint32_t crc32;
};

static const struct kat kats[] = {
    {"empty", "", NULL, 0x00000000u, 0x00000000u},
    {"check", "123456789", NULL, 0xE3069283u, 0xCBF43926u},
    {"a", "a", NULL, 0xC1D04330u, 0xE8B7BE43u},
    {"kafka", "kafka", NULL, 0x084B20E1u, 0x5BBC7517u},
    {"fox", "The quick brown fox jumps over the lazy dog", NULL, 0x22620404u, 0x414FA339u},
    {"zero byte", NULL, "00", 0x527D5351u, 0xD202EF8Du},
    {"ff byte", NULL, "ff", 0xFF000000u, 0xFF000000u},
    {"32 zeros", NULL,
     "00000000000000000000000000000000 00000000000000000000000000000000", 0x8A9136AAu,
     0x190A55ADu},
    {"32 ff", NULL, "ffffffffffffffffffffffffffffffff ffffffffffffffffffffffffffffffff",
     0x62A8AB43u, 0xFF6CAB0Bu},
    {"ascending 32", NULL,
     "000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f", 0x46DD794Eu,
     0x91267E8Au},
    {"descending 32", NULL,
     "1f1e1d1c1b1a19181716151413121110 0f0e0d0c0b0a09080706050403020100", 0x113FDB5Cu,
     0x9AB0EF72u},
};
#define KAT_COUNT (sizeof kats / sizeof kats[0])

/*
 * The parameters are indices: Criterion runs each case in a fresh process,
 * where pointers into the parent's copy of the table would not be valid.
 */
ParameterizedTestParameters(crc, known_answers)
{
    static size_t index[KAT_COUNT];
    for (size_t i = 0; i < KAT_COUNT; i++)
        index[i] = i;
    return cr_make_param_array(size_t, index, KAT_COUNT);
}

ParameterizedTest(size_t *i, crc, known_answers)
{
    const struct kat *k = &kats[*i];
    uint8_t bytes[64];
    size_t n;
    if (k->text) {
        n = strlen(k->text);
        memcpy(bytes, k->text, n);
    } else {
        n = kwt_hex(k->hex, bytes, sizeof bytes);
    }
    kwt_guard g;
    kwt_guard_open(&g, n);
    const uint8_t *p = kwt_guard_place(&g, bytes, n);
    cr_assert_eq(kw_crc32c(0, p, n), k->crc32c, "kw_crc32c of \"%s\" (len %zu)", k->name, n);
    cr_assert_eq(kw_crc32c_portable(0, p, n), k->crc32c, "kw_crc32c_portable of \"%s\"", k->name);
    cr_assert_eq(ref_crc(POLY_CRC32C, 0, p, n), k->crc32c, "reference crc32c of \"%s\"", k->name);
    cr_assert_eq(kw_crc32(0, p, n), k->crc32, "kw_crc32 of \"%s\" (len %zu)", k->name, n);
    cr_assert_eq(ref_crc(POLY_CRC32, 0, p, n), k->crc32, "reference crc32 of \"%s\"", k->name);
    kwt_guard_close(&g);
}

Test(crc, empty_input_keeps_crc)
{
    static const uint32_t starts[] = {0, 1, 0xE3069283u, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        uint32_t c = starts[i];
        cr_assert_eq(kw_crc32c(c, NULL, 0), c, "kw_crc32c(%#x, NULL, 0)", c);
        cr_assert_eq(kw_crc32c_portable(c, NULL, 0), c, "kw_crc32c_portable(%#x, NULL, 0)", c);
        cr_assert_eq(kw_crc32(c, NULL, 0), c, "kw_crc32(%#x, NULL, 0)", c);
    }
}

Test(crc, every_single_byte)
{
    for (unsigned v = 0; v < 256; v++) {
        uint8_t b = (uint8_t)v;
        uint32_t want_c = ref_crc(POLY_CRC32C, 0, &b, 1);
        EXPECT_CRC(kw_crc32c(0, &b, 1), want_c, "kw_crc32c of byte %#04x", v);
        EXPECT_CRC(kw_crc32c_portable(0, &b, 1), want_c, "kw_crc32c_portable of byte %#04x", v);
        EXPECT_CRC(kw_crc32(0, &b, 1), ref_crc(POLY_CRC32, 0, &b, 1), "kw_crc32 of byte %#04x",
                     v);
    }
}

Test(crc, impl_name)
{
    const char *impl = kw_crc32c_impl();
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    const char *want = __builtin_cpu_supports("sse4.2") ? "sse4.2" : "table";
#else
    const char *want = "table";
#endif
    cr_assert_str_eq(impl, want, "kw_crc32c_impl() on this CPU");
}

/* ---- every length and alignment up to 4 KiB --------------------------- */

#define SMALL_MAX 4096

/* Reference crcs of every prefix of data, built incrementally. */
static void ref_prefixes(uint32_t poly, const uint8_t *data, size_t max, uint32_t *out)
{
    uint32_t c = 0;
    out[0] = 0;
    for (size_t n = 1; n <= max; n++) {
        c = ref_crc(poly, c, data + n - 1, 1);
        out[n] = c;
    }
}

Test(crc, every_length_and_alignment)
{
    static uint8_t data[SMALL_MAX];
    static uint8_t buf[SMALL_MAX + 16];
    static uint32_t want_c[SMALL_MAX + 1], want_ieee[SMALL_MAX + 1];
    fill(data, sizeof data, 1);
    ref_prefixes(POLY_CRC32C, data, SMALL_MAX, want_c);
    ref_prefixes(POLY_CRC32, data, SMALL_MAX, want_ieee);

    for (size_t off = 0; off < 16; off++) {
        memcpy(buf + off, data, SMALL_MAX);
        const uint8_t *p = buf + off;
        for (size_t n = 0; n <= SMALL_MAX; n++) {
            EXPECT_CRC(kw_crc32c(0, p, n), want_c[n], "kw_crc32c len %zu offset %zu", n, off);
            EXPECT_CRC(kw_crc32c_portable(0, p, n), want_c[n],
                         "kw_crc32c_portable len %zu offset %zu", n, off);
            EXPECT_CRC(kw_crc32(0, p, n), want_ieee[n], "kw_crc32 len %zu offset %zu", n, off);
        }
    }
}

/*
 * Any read past the last byte hits PROT_NONE and kills the test. The data
 * is placed once; every suffix of it ends at the guard, and its start
 * alignment changes with its length.
 */
Test(crc, every_length_ends_at_guard_page)
{
    static uint8_t data[SMALL_MAX];
    fill(data, sizeof data, 2);
    kwt_guard g;
    kwt_guard_open(&g, SMALL_MAX);
    const uint8_t *end = kwt_guard_place(&g, data, SMALL_MAX) + SMALL_MAX;
    for (size_t n = 0; n <= SMALL_MAX; n++) {
        const uint8_t *p = end - n;
        uint32_t want_c = ref_crc(POLY_CRC32C, 0, p, n);
        EXPECT_CRC(kw_crc32c(0, p, n), want_c, "kw_crc32c len %zu at guard page", n);
        EXPECT_CRC(kw_crc32c_portable(0, p, n), want_c, "kw_crc32c_portable len %zu at guard page",
                   n);
        EXPECT_CRC(kw_crc32(0, p, n), ref_crc(POLY_CRC32, 0, p, n), "kw_crc32 len %zu at guard page",
                   n);
    }
    kwt_guard_close(&g);
}

/* ---- large buffers ----------------------------------------------------- */

/*
 * Lengths around the three-stream block sizes of the SSE4.2 code (3 x 256
 * and 3 x 8192 bytes) and a few MiB, ascending so the reference can run
 * once over the largest buffer.
 */
static const size_t big_lengths[] = {
    3 * 8192 - 9,     3 * 8192 - 1,     3 * 8192,         3 * 8192 + 1,
    3 * 8192 + 8,     3 * 8192 + 767,   3 * 8192 + 768,   3 * 8192 + 775,
    2 * 3 * 8192,     2 * 3 * 8192 + 3, 65536,            100003,
    (1u << 20) - 1,   1u << 20,         (3u << 20) + 777, (4u << 20) + 13,
};
#define BIG_COUNT (sizeof big_lengths / sizeof big_lengths[0])
#define BIG_MAX ((4u << 20) + 13)

Test(crc, large_lengths_every_alignment)
{
    uint8_t *data = malloc(BIG_MAX);
    uint8_t *buf = malloc(BIG_MAX + 16);
    cr_assert(data && buf, "malloc of %u bytes", BIG_MAX);
    fill(data, BIG_MAX, 3);

    uint32_t want_c[BIG_COUNT], want_ieee[BIG_COUNT];
    uint32_t c = 0, ieee = 0;
    size_t done = 0;
    for (size_t i = 0; i < BIG_COUNT; i++) {
        c = ref_crc(POLY_CRC32C, c, data + done, big_lengths[i] - done);
        ieee = ref_crc(POLY_CRC32, ieee, data + done, big_lengths[i] - done);
        done = big_lengths[i];
        want_c[i] = c;
        want_ieee[i] = ieee;
    }

    for (size_t off = 0; off < 16; off++) {
        memcpy(buf + off, data, BIG_MAX);
        for (size_t i = 0; i < BIG_COUNT; i++) {
            size_t n = big_lengths[i];
            EXPECT_CRC(kw_crc32c(0, buf + off, n), want_c[i], "kw_crc32c len %zu offset %zu",
                         n, off);
            /* The table code is slow under sanitizers; two offsets cover its paths. */
            if (off < 2) {
                EXPECT_CRC(kw_crc32c_portable(0, buf + off, n), want_c[i],
                             "kw_crc32c_portable len %zu offset %zu", n, off);
                EXPECT_CRC(kw_crc32(0, buf + off, n), want_ieee[i],
                             "kw_crc32 len %zu offset %zu", n, off);
            }
        }
    }

    /* The largest again, ending at a guard page. */
    kwt_guard g;
    kwt_guard_open(&g, BIG_MAX);
    const uint8_t *p = kwt_guard_place(&g, data, BIG_MAX);
    EXPECT_CRC(kw_crc32c(0, p, BIG_MAX), want_c[BIG_COUNT - 1],
                 "kw_crc32c len %u at guard page", BIG_MAX);
    EXPECT_CRC(kw_crc32(0, p, BIG_MAX), want_ieee[BIG_COUNT - 1],
                 "kw_crc32 len %u at guard page", BIG_MAX);
    kwt_guard_close(&g);
    free(buf);
    free(data);
}

/* ---- chained calls ----------------------------------------------------- */

Test(crc, every_split_point)
{
    enum { N = 2000 };
    static uint8_t data[N];
    fill(data, N, 4);
    uint32_t whole_c = ref_crc(POLY_CRC32C, 0, data, N);
    uint32_t whole_ieee = ref_crc(POLY_CRC32, 0, data, N);
    for (size_t k = 0; k <= N; k++) {
        uint32_t c = kw_crc32c(kw_crc32c(0, data, k), data + k, N - k);
        EXPECT_CRC(c, whole_c, "kw_crc32c split at %zu of %d", k, N);
        c = kw_crc32c_portable(kw_crc32c_portable(0, data, k), data + k, N - k);
        EXPECT_CRC(c, whole_c, "kw_crc32c_portable split at %zu of %d", k, N);
        /* Both codes keep the same state between calls, so they can hand over. */
        c = kw_crc32c(kw_crc32c_portable(0, data, k), data + k, N - k);
        EXPECT_CRC(c, whole_c, "portable then dispatched, split at %zu of %d", k, N);
        c = kw_crc32(kw_crc32(0, data, k), data + k, N - k);
        EXPECT_CRC(c, whole_ieee, "kw_crc32 split at %zu of %d", k, N);
    }
}

Test(crc, three_part_splits_of_large_buffer)
{
    enum { N = 5 * 3 * 8192 + 1000 };
    uint8_t *data = malloc(N);
    cr_assert(data != NULL, "malloc of %d bytes", N);
    fill(data, N, 5);
    uint32_t whole_c = ref_crc(POLY_CRC32C, 0, data, N);
    uint32_t whole_ieee = ref_crc(POLY_CRC32, 0, data, N);
    static const size_t cuts[] = {0, 1, 5, 767, 768, 769, 8191, 24575, 24576, 24577, 50001, N};
    size_t ncuts = sizeof cuts / sizeof cuts[0];
    for (size_t i = 0; i < ncuts; i++) {
        for (size_t j = i; j < ncuts; j++) {
            size_t a = cuts[i], b = cuts[j];
            uint32_t c = kw_crc32c(0, data, a);
            c = kw_crc32c(c, data + a, b - a);
            c = kw_crc32c(c, data + b, N - b);
            EXPECT_CRC(c, whole_c, "kw_crc32c cut at %zu and %zu of %d", a, b, N);
            uint32_t e = kw_crc32(0, data, a);
            e = kw_crc32(e, data + a, b - a);
            e = kw_crc32(e, data + b, N - b);
            EXPECT_CRC(e, whole_ieee, "kw_crc32 cut at %zu and %zu of %d", a, b, N);
        }
    }
    free(data);
}
