/*
 * Runtime of the generated encoders: arrays, tagged-field sections, and
 * the arena that materialize uses.
 */
#include <string.h>

#include "internal.h"

/* ---- arena ------------------------------------------------------------------- */

void kw_arena_init(kw_arena *a, void *buf, size_t len)
{
    a->buf = buf;
    a->cap = buf ? len : 0;
    a->used = 0;
    a->wanted = 0;
    a->failed = 0;
}

void *kw_arena_alloc(kw_arena *a, size_t n, size_t align)
{
    size_t start = (a->used + align - 1) & ~(align - 1);
    a->wanted += n + (start - a->used);
    if (start < a->used || n > a->cap || start > a->cap - n) {
        a->failed++;
        return NULL;
    }
    a->used = start + n;
    return a->buf + start;
}

/* ---- arrays ------------------------------------------------------------------------ */

bool kw_array_write_begin_(kw_builder *b, const kw_array *a, int16_t version, int flexible,
                           int nullable)
{
    if (a->count < 0) {
        if (!nullable)
            kw_builder_fail(b, KW_ERR_UNEXPECTED_NULL);
        return false;
    }
    if (a->items)
        return true;
    if (a->count == 0)
        return false;
    /* A view of this very encoding is already the bytes to write: copy them once. */
    if (a->ptr && a->version == version && a->flexible == (flexible != 0)) {
        kw_build_raw(b, a->ptr, (size_t)(a->end - a->ptr));
        return false;
    }
    kw_builder_fail(b, KW_ERR_NEEDS_MATERIALIZE);
    return false;
}

void kw_array_write_end_(kw_builder *b, const kw_array *a, int flexible)
{
    kw_build_count(b, a->count, flexible != 0);
}

void kw_array_write_items_(kw_builder *b, const kw_array *a, kw_type type, int flexible)
{
    for (int32_t i = a->count; i-- > 0;) {
        switch (type) {
        case KW_TYPE_BOOL: kw_build_bool(b, ((const bool *)a->items)[i]); break;
        case KW_TYPE_INT8: kw_build_i8(b, ((const int8_t *)a->items)[i]); break;
        case KW_TYPE_INT16: kw_build_i16(b, ((const int16_t *)a->items)[i]); break;
        case KW_TYPE_UINT16: kw_build_u16(b, ((const uint16_t *)a->items)[i]); break;
        case KW_TYPE_INT32: kw_build_i32(b, ((const int32_t *)a->items)[i]); break;
        case KW_TYPE_INT64: kw_build_i64(b, ((const int64_t *)a->items)[i]); break;
        case KW_TYPE_FLOAT64: kw_build_f64(b, ((const double *)a->items)[i]); break;
        case KW_TYPE_UUID: kw_build_uuid(b, &((const kw_uuid *)a->items)[i]); break;
        case KW_TYPE_STRING:
            if (flexible)
                kw_build_compact_string(b, ((const kw_slice *)a->items)[i]);
            else
                kw_build_string(b, ((const kw_slice *)a->items)[i]);
            break;
        default: kw_builder_fail(b, KW_ERR_NEEDS_MATERIALIZE); return;
        }
    }
}

/* Size of one item in C: the wire size for fixed-size types (bool is one byte in C as on the wire). */
static size_t item_size(kw_type t)
{
    _Static_assert(sizeof(bool) == 1 && sizeof(kw_uuid) == 16, "items match the wire sizes");
    return t == KW_TYPE_STRING ? sizeof(kw_slice) : kw_type_wire_size_(t);
}

void kw_array_materialize_primitive_(kw_arena *arena, kw_array *a)
{
    if (!kw_array_needs_items_(a))
        return;
    kw_type t = (kw_type)a->elem_type;
    size_t size = item_size(t);
    if (!size)
        return;
    uint8_t *items = kw_arena_alloc(arena, (size_t)a->count * size, 8);
    if (!items)
        return;
    kw_array_iter it;
    kw_array_iter_init(&it, a);
    for (int32_t i = 0; i < a->count; i++) {
        void *p = items + (size_t)i * size;
        switch (t) {
        case KW_TYPE_BOOL: kw_array_next_bool(&it, p); break;
        case KW_TYPE_INT8: kw_array_next_i8(&it, p); break;
        case KW_TYPE_INT16: kw_array_next_i16(&it, p); break;
        case KW_TYPE_UINT16: {
            uint16_t v = kw_read_u16(&it.r);
            it.left--;
            memcpy(p, &v, sizeof v);
            break;
        }
        case KW_TYPE_INT32: kw_array_next_i32(&it, p); break;
        case KW_TYPE_INT64: kw_array_next_i64(&it, p); break;
        case KW_TYPE_FLOAT64: {
            double d = kw_read_f64(&it.r);
            it.left--;
            memcpy(p, &d, sizeof d);
            break;
        }
        case KW_TYPE_UUID: kw_array_next_uuid(&it, p); break;
        case KW_TYPE_STRING: kw_array_next_string(&it, p); break;
        default: break;
        }
    }
    a->items = items;
}

/* ---- tagged-field sections ------------------------------------------------------------ */

/*
 * Copies the raw entries whose tags lie strictly between lower and upper.
 * raw is sorted by tag, so they are one contiguous run; returns how many.
 */
static uint32_t copy_raw_between(kw_builder *b, kw_tagged_fields raw, int64_t lower,
                                 uint64_t upper)
{
    kw_tag_iter it;
    kw_tagged_field f;
    kw_tag_iter_init(&it, raw);
    const uint8_t *start = NULL, *end = NULL;
    uint32_t n = 0;
    const uint8_t *entry = it.pos;
    while (kw_tag_iter_next(&it, &f)) {
        if ((int64_t)f.tag > lower && f.tag < upper) {
            if (!start)
                start = entry;
            end = it.pos;
            n++;
        }
        entry = it.pos;
    }
    if (n)
        kw_build_raw(b, start, (size_t)(end - start));
    return n;
}

static bool raw_has(kw_tagged_fields raw, uint32_t tag)
{
    kw_tag_iter it;
    kw_tagged_field f;
    kw_tag_iter_init(&it, raw);
    while (kw_tag_iter_next(&it, &f))
        if (f.tag == tag)
            return true;
    return false;
}

void kw_build_tagged_section_(kw_builder *b, kw_tagged_fields raw, const uint32_t *tags, size_t n,
                              kw_tag_write_fn fn, int16_t version, const void *self)
{
    uint64_t upper = UINT64_MAX;
    uint32_t count = 0;
    for (size_t i = 0;; i++) {
        int64_t lower = i < n ? (int64_t)tags[i] : -1;
        count += copy_raw_between(b, raw, lower, upper);
        if (i == n)
            break;
        size_t mark = kw_builder_size(b);
        if (fn(b, version, self, tags[i], raw_has(raw, tags[i]))) {
            kw_build_length_uvarint(b, mark);
            kw_build_uvarint(b, tags[i]);
            count++;
        }
        upper = tags[i];
    }
    kw_build_uvarint(b, count);
}
