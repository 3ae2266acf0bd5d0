/*
 * roundtrip: decode -> materialize -> encode -> decode -> encode. The input
 * is laid out as the json target's message mode, so the json corpus seeds
 * this one: p[0] is a mode byte (bit 0 set means a records field to the
 * json target: skipped here), p[1..5) pick any message of kw_messages() and
 * its version (kwf_pick_any), the rest is the message.
 *
 * When the message decodes (filling the input exactly):
 *   E1 = encode(materialize(decode(input))), into a caller buffer. E1 may
 *     differ from the input when the input is not canonical (over-long
 *     varints, booleans other than 0 and 1, ...); it is canonical itself:
 *   decode(E1) must succeed and consume every byte, and its view as decoded
 *     (arrays copied from E1's bytes) and its materialized form must both
 *     encode to E1 again: a canonical frame re-encodes to itself;
 *   Ev = encode(decode(input)) from the view before materializing (arrays
 *     copied as they came) must decode whole too, and its materialized
 *     encode must be E1: copying array bytes keeps the values.
 * Decode, materialize and encode run under the no-allocation guard. A
 * materialize that runs out of arena (NO_SPACE: many tiny elements, each a
 * larger C struct) skips the input; E1 and Ev hold the same values, so
 * theirs must then fit. Any other failure aborts.
 */
#include <string.h>

#include "fuzz.h"

/* Encodes are never longer than the canonical bytes, which are never longer
 * than the input; twice the largest input leaves room to report a bug. */
#define OUT_CAP (2 * (size_t)KWF_MAX_INPUT + 64)
#define ARENA_CAP ((size_t)16 << 20)

/* Each output ends at the end of its buffer (the builder writes back to
 * front), so a read past the end of an encoding hits the global's redzone. */
static uint8_t out_e1[OUT_CAP];
static uint8_t out_ev[OUT_CAP];
static uint8_t out_scratch[OUT_CAP];
static _Alignas(16) uint8_t arena_mem[ARENA_CAP];

static const kw_message_info *msg_info;
static int16_t msg_version;

static const char *what(void) { return msg_info ? msg_info->name : "?"; }

/* Encodes view into buf; returns the bytes (they end at buf + OUT_CAP). */
static const uint8_t *encode(const char *step, const void *view, uint8_t *buf, size_t *len)
{
    kw_builder b;
    kw_builder_init(&b, buf, OUT_CAP, NULL, 0);
    kwf_no_alloc_begin();
    kw_err e = msg_info->encode(&b, msg_version, view);
    kwf_no_alloc_end();
    if (e != KW_OK)
        kwf_fail("%s v%d: %s: encode failed: %s (%zu bytes so far)", what(), msg_version, step,
                 kw_err_name(e), kw_builder_size(&b));
    if (kw_builder_error(&b) != KW_OK)
        kwf_fail("%s v%d: %s: encode returned OK with the builder in error %s", what(),
                 msg_version, step, kw_err_name(kw_builder_error(&b)));
    const uint8_t *p = kw_builder_contiguous(&b);
    *len = kw_builder_size(&b);
    if (!p)
        kwf_fail("%s v%d: %s: output over a caller buffer is not contiguous", what(), msg_version,
                 step);
    if (p + *len != buf + OUT_CAP)
        kwf_fail("%s v%d: %s: output does not end at the end of the buffer", what(), msg_version,
                 step);
    return p;
}

/* Decodes bytes that an encode produced: must succeed and fill them exactly. */
static void decode_encoded(const char *step, const uint8_t *p, size_t len, kw_message *msg)
{
    kw_reader r;
    kw_reader_init(&r, p, len);
    kw_decode_error err;
    memset(&err, 0, sizeof err);
    kwf_no_alloc_begin();
    kw_err e = kw_message_decode(msg_info, &r, msg_version, msg, &err);
    kwf_no_alloc_end();
    if (e != KW_OK)
        kwf_fail("%s v%d: %s: the encoded %zu bytes do not decode: %s at byte %zu (%s)", what(),
                 msg_version, step, len, kw_err_name(e), err.offset, err.path);
    if (r.pos != r.end)
        kwf_fail("%s v%d: %s: decode left %zu of %zu bytes", what(), msg_version, step,
                 (size_t)(r.end - r.pos), len);
}

/* Returns false when the arena ran out (the input is skipped). */
static bool materialize(const char *step, kw_message *msg)
{
    kw_arena arena;
    kw_arena_init(&arena, arena_mem, sizeof arena_mem);
    kwf_no_alloc_begin();
    kw_err e = msg_info->materialize(&msg->u, &arena);
    kwf_no_alloc_end();
    if (e == KW_ERR_NO_SPACE) {
        if (arena.failed == 0 || arena.wanted <= arena.cap)
            kwf_fail("%s v%d: %s: materialize says NO_SPACE, the arena %zu refusals, %zu of %zu "
                     "bytes wanted", what(), msg_version, step, arena.failed, arena.wanted,
                     arena.cap);
        return false;
    }
    if (e != KW_OK)
        kwf_fail("%s v%d: %s: materialize failed: %s", what(), msg_version, step, kw_err_name(e));
    return true;
}

static void same(const char *step, const uint8_t *got, size_t got_len, const uint8_t *want,
                 size_t want_len)
{
    size_t diff = 0;
    while (diff < got_len && diff < want_len && got[diff] == want[diff])
        diff++;
    if (got_len != want_len || diff != want_len)
        kwf_fail("%s v%d: %s: %zu bytes, expected the %zu of the first encode; first difference "
                 "at byte %zu",
                 what(), msg_version, step, got_len, want_len, diff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5 || size > KWF_MAX_INPUT || (data[0] & 1))
        return 0;
    msg_info = kwf_pick_any(data + 1, &msg_version);

    static kw_message m1, m2;
    kw_reader r;
    kw_reader_init(&r, data + 5, size - 5);
    kwf_no_alloc_begin();
    kw_err code = kw_message_decode(msg_info, &r, msg_version, &m1, NULL);
    kwf_no_alloc_end();
    if (code != KW_OK)
        return 0;

    /* Ev: the view as decoded, arrays copied as they came. */
    size_t ev_len;
    const uint8_t *ev = encode("encode of the decoded view", &m1.u, out_ev, &ev_len);

    /* E1: the canonical encoding. */
    if (!materialize("materialize of the input", &m1))
        return 0;
    size_t e1_len;
    const uint8_t *e1 = encode("encode of the materialized input", &m1.u, out_e1, &e1_len);

    /* E1 is canonical: decodes whole and re-encodes to itself, view or items. */
    decode_encoded("decode of the first encode", e1, e1_len, &m2);
    size_t n;
    const uint8_t *again = encode("encode of the first encode's view", &m2.u, out_scratch, &n);
    same("re-encode of the first encode's view", again, n, e1, e1_len);
    if (!materialize("materialize of the first encode", &m2))
        kwf_fail("%s v%d: the input materialized, the first encode of it not", what(),
                 msg_version);
    again = encode("encode of the first encode's items", &m2.u, out_scratch, &n);
    same("re-encode of the first encode's items", again, n, e1, e1_len);

    /* Ev keeps the values: it decodes whole, and its canonical form is E1. */
    decode_encoded("decode of the view encode", ev, ev_len, &m2);
    if (!materialize("materialize of the view encode", &m2))
        kwf_fail("%s v%d: the input materialized, its view encode not", what(), msg_version);
    again = encode("encode of the view encode's items", &m2.u, out_scratch, &n);
    same("canonical encode of the view encode", again, n, e1, e1_len);
    return 0;
}
