#include "synth.h"

#include <stdlib.h>
#include <string.h>

static void put(kwt_synth *s, const void *p, size_t n)
{
    if (s->overflow || n > s->cap - s->len) {
        s->overflow = true;
        return;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
}

static void put_be(kwt_synth *s, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    put(s, b, (size_t)bytes);
}

static size_t uvarint_bytes(uint64_t v, uint8_t out[10])
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

static void put_uvarint(kwt_synth *s, uint64_t v)
{
    uint8_t b[10];
    put(s, b, uvarint_bytes(v, b));
}

static uint32_t rnd(kwt_synth *s)
{
    s->rng = s->rng * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(s->rng >> 33);
}

/* A length or count: classic int32/int16 or compact N+1; -1 is null. */
static void put_length(kwt_synth *s, int64_t n, bool flex, int classic_bytes)
{
    if (flex)
        put_uvarint(s, (uint64_t)(n + 1));
    else
        put_be(s, (uint64_t)n, classic_bytes);
}

/* The field's default as a number (NULL, "null" and "false" are 0, "true" is 1). */
static int64_t default_number(const kw_field_info *f)
{
    const char *d = f->default_value;
    if (!d || strcmp(d, "null") == 0 || strcmp(d, "false") == 0)
        return 0;
    if (strcmp(d, "true") == 0)
        return 1;
    return strtoll(d, NULL, 0);
}

/* How a value is drawn: nullable here, and whether it must differ from its default. */
struct draw {
    bool nullable;
    bool not_default;
};

static void synth_struct(kwt_synth *s, const kw_struct_info *st, int16_t v, bool flex, int depth,
                         bool not_default);

static void synth_value(kwt_synth *s, const kw_field_info *f, int16_t v, bool flex,
                        struct draw d, int depth)
{
    int64_t def = default_number(f);
    switch ((kw_type)f->type) {
    case KW_TYPE_BOOL: put_be(s, d.not_default ? (uint64_t)!def : rnd(s) & 1, 1); break;
    case KW_TYPE_INT8:
    case KW_TYPE_INT16:
    case KW_TYPE_UINT16:
    case KW_TYPE_INT32:
    case KW_TYPE_INT64: {
        static const int width[] = {[KW_TYPE_INT8] = 1, [KW_TYPE_INT16] = 2,
                                    [KW_TYPE_UINT16] = 2, [KW_TYPE_INT32] = 4,
                                    [KW_TYPE_INT64] = 8};
        int bytes = width[f->type];
        uint64_t x = (uint64_t)rnd(s) << 32 | rnd(s);
        uint64_t mask = bytes == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * bytes)) - 1;
        if (d.not_default && (x & mask) == ((uint64_t)def & mask))
            x++;
        put_be(s, x, bytes);
        break;
    }
    case KW_TYPE_FLOAT64: {
        /* finite values only: every decoder reads NaN payloads differently */
        double x = (double)(int32_t)rnd(s) / 8.0 + (d.not_default ? 0.5 : 0.0);
        uint64_t bits;
        memcpy(&bits, &x, sizeof bits);
        put_be(s, bits, 8);
        break;
    }
    case KW_TYPE_UUID:
        for (int i = 0; i < 4; i++)
            put_be(s, rnd(s) | (d.not_default && i == 3), 4);
        break;
    case KW_TYPE_STRING:
    case KW_TYPE_BYTES:
    case KW_TYPE_RECORDS: {
        int classic = f->type == KW_TYPE_STRING ? 2 : 4;
        if (d.nullable && !d.not_default && rnd(s) % 4 == 0) {
            put_length(s, -1, flex, classic);
            break;
        }
        /* letters: valid UTF-8 everywhere, and never a default ('' or null) when not_default */
        size_t n = rnd(s) % 7 + (d.not_default ? 1 : 0);
        put_length(s, (int64_t)n, flex, classic);
        for (size_t i = 0; i < n; i++)
            put_be(s, 'a' + rnd(s) % 26, 1);
        break;
    }
    case KW_TYPE_STRUCT: synth_struct(s, f->sub, v, flex, depth, d.not_default); break;
    }
}

static void synth_field(kwt_synth *s, const kw_field_info *f, int16_t v, bool msg_flex, int depth,
                        bool not_default)
{
    bool flex = msg_flex && !f->never_flexible;
    struct draw d = {kw_versions_has(f->nullable, v), not_default};
    if (f->is_array) {
        if (d.nullable && !not_default && rnd(s) % 5 == 0) {
            put_length(s, -1, flex, 4);
            return;
        }
        int64_t count = not_default ? 1 + rnd(s) % 2 : depth > 3 ? 0 : rnd(s) % 4;
        put_length(s, count, flex, 4);
        d.nullable = false;
        for (int64_t i = 0; i < count; i++) {
            if (f->type == KW_TYPE_STRUCT)
                synth_struct(s, f->sub, v, msg_flex, depth + 1, not_default);
            else
                synth_value(s, f, v, flex, d, depth + 1);
        }
        return;
    }
    if (f->type == KW_TYPE_STRUCT) {
        if (d.nullable) {
            bool is_null = !not_default && rnd(s) % 3 == 0;
            put_be(s, is_null ? 0xff : 1, 1);
            if (is_null)
                return;
        }
        synth_struct(s, f->sub, v, msg_flex, depth + 1, not_default);
        return;
    }
    synth_value(s, f, v, flex, d, depth);
}

/* Writes a tagged field: tag, size, then the field, moved right to make room for the size. */
static void synth_tagged(kwt_synth *s, const kw_field_info *f, int16_t v, bool flex, int depth)
{
    put_uvarint(s, (uint64_t)f->tag);
    size_t start = s->len;
    synth_field(s, f, v, flex, depth, (s->flags & KWT_SYNTH_ALL_TAGS) != 0);
    if (s->overflow)
        return;
    size_t n = s->len - start;
    uint8_t size[10];
    size_t k = uvarint_bytes(n, size);
    if (k > s->cap - s->len) {
        s->overflow = true;
        return;
    }
    memmove(s->data + start + k, s->data + start, n);
    memcpy(s->data + start, size, k);
    s->len += k;
}

static void synth_struct(kwt_synth *s, const kw_struct_info *st, int16_t v, bool flex, int depth,
                         bool not_default)
{
    for (uint16_t i = 0; i < st->field_count; i++) {
        const kw_field_info *f = &st->fields[i];
        if (kw_versions_has(f->versions, v) && !kw_versions_has(f->tagged, v))
            synth_field(s, f, v, flex, depth, not_default);
    }
    if (!flex)
        return;
    bool all = (s->flags & KWT_SYNTH_ALL_TAGS) != 0;
    /* Tagged fields go in increasing tag order; find them by tag. */
    const kw_field_info *tagged[64];
    size_t nt = 0;
    for (int32_t tag = 0; tag < 64; tag++)
        for (uint16_t i = 0; i < st->field_count; i++) {
            const kw_field_info *f = &st->fields[i];
            if (f->tag == tag && kw_versions_has(f->tagged, v) && kw_versions_has(f->versions, v) &&
                (all || rnd(s) % 2))
                tagged[nt++] = f;
        }
    bool unknown = !all && rnd(s) % 4 == 0;
    put_uvarint(s, nt + unknown);
    for (size_t i = 0; i < nt; i++)
        synth_tagged(s, tagged[i], v, flex, depth);
    if (unknown) {
        put_uvarint(s, 10000);
        put_uvarint(s, 3);
        put(s, "xyz", 3);
    }
}

void kwt_synth_init(kwt_synth *s, uint8_t *buf, size_t cap, uint64_t seed, unsigned flags)
{
    s->data = buf;
    s->cap = cap;
    s->len = 0;
    s->overflow = false;
    s->rng = seed;
    s->flags = flags;
}

bool kwt_synth_message(kwt_synth *s, const kw_message_info *m, int16_t v)
{
    s->len = 0;
    s->overflow = false;
    bool flex = m->first_flexible >= 0 && v >= m->first_flexible;
    synth_struct(s, m->root, v, flex, 0, false);
    return !s->overflow;
}
