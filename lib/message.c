/*
 * The message runtime: array iteration, and the generic walker that follows
 * the generated descriptions. The walker reads exactly as the generated
 * decoders do, so on a failure it finds the same error at the same offset
 * and can name the field path; it also drives the JSON printer.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ---- arrays ------------------------------------------------------------ */

void kw_array_iter_init(kw_array_iter *it, const kw_array *a)
{
    if (a->ptr) {
        it->r.base = a->base;
        it->r.pos = a->ptr;
        it->r.end = a->end;
    } else {
        kw_reader_init(&it->r, NULL, 0);
    }
    it->r.err = KW_OK;
    it->r.err_offset = 0;
    it->left = a->count < 0 ? 0 : a->count;
    it->version = a->version;
    it->flexible = a->flexible;
}

/* Element readers share one shape: stop at the end, else read one value. */
#define KW_ARRAY_NEXT(fn, ctype, read)                 \
    bool fn(kw_array_iter *it, ctype *out)             \
    {                                                  \
        if (it->left <= 0)                             \
            return false;                              \
        it->left--;                                    \
        *out = read(&it->r);                           \
        return true;                                   \
    }

KW_ARRAY_NEXT(kw_array_next_bool, bool, kw_read_bool)
KW_ARRAY_NEXT(kw_array_next_i8, int8_t, kw_read_i8)
KW_ARRAY_NEXT(kw_array_next_i16, int16_t, kw_read_i16)
KW_ARRAY_NEXT(kw_array_next_i32, int32_t, kw_read_i32)
KW_ARRAY_NEXT(kw_array_next_i64, int64_t, kw_read_i64)
KW_ARRAY_NEXT(kw_array_next_uuid, kw_uuid, kw_read_uuid)

bool kw_array_next_string(kw_array_iter *it, kw_slice *out)
{
    if (it->left <= 0)
        return false;
    it->left--;
    *out = it->flexible ? kw_read_compact_string(&it->r) : kw_read_string(&it->r);
    return true;
}

int32_t kw_array_get_i32(const kw_array *a, int32_t i)
{
    if (a->elem_type != KW_TYPE_INT32 || i < 0 || i >= a->count)
        return 0;
    return (int32_t)kw_load_be32(a->ptr + (size_t)i * 4);
}

size_t kw_type_wire_size_(kw_type t)
{
    switch (t) {
    case KW_TYPE_BOOL:
    case KW_TYPE_INT8: return 1;
    case KW_TYPE_INT16:
    case KW_TYPE_UINT16: return 2;
    case KW_TYPE_INT32: return 4;
    case KW_TYPE_INT64:
    case KW_TYPE_FLOAT64: return 8;
    case KW_TYPE_UUID: return 16;
    default: return 0;
    }
}

void kw_array_skip_elements_(kw_reader *r, const kw_array *a)
{
    if (a->count <= 0 || !kw_reader_ok(r))
        return;
    size_t fixed = kw_type_wire_size_((kw_type)a->elem_type);
    if (fixed) {
        /* the count was checked against the bytes left with this size */
        kw_reader_skip(r, (size_t)a->count * fixed);
        return;
    }
    /* strings, the only variable-size primitive elements */
    for (int32_t i = 0; i < a->count && kw_reader_ok(r); i++)
        (void)(a->flexible ? kw_read_compact_string(r) : kw_read_string(r));
}

/* ---- errors ------------------------------------------------------------ */

kw_err kw_decode_unsupported_(const kw_message_info *m, int16_t version, kw_reader *r,
                              kw_decode_error *err)
{
    kw_reader_fail(r, KW_ERR_UNSUPPORTED_VERSION);
    kw_decode_error_fill_(err, m, version, r, "");
    return r->err;
}

int kw_decode_error_format(const kw_decode_error *err, char *buf, size_t cap)
{
    return snprintf(buf, cap, "%s v%d %s: %s (%s) at byte %zu",
                    err->message ? err->message->name : "message", err->version,
                    err->path[0] ? err->path : "(message)", kw_err_name(err->code),
                    kw_err_message(err->code), err->offset);
}

/* ---- the walker ----------------------------------------------------------- */

#define WALK_DEPTH 32 /* deeper than any definition nests */

struct walk {
    int16_t v;
    bool flex; /* the message version is flexible */
    const kw_visitor *vis;
    void *ctx;
    bool stopped;
    /* the path to the field being read */
    struct {
        const char *name;
        int32_t index;
    } path[WALK_DEPTH];
    int depth;
    /* the path where the first error showed, once seen */
    bool failed;
    char fail_path[KW_PATH_MAX];
};

static void note_failure(struct walk *w, const kw_reader *r)
{
    if (w->failed || kw_reader_ok(r))
        return;
    w->failed = true;
    size_t n = 0;
    w->fail_path[0] = '\0';
    for (int i = 0; i < w->depth && n < KW_PATH_MAX; i++) {
        int k = w->path[i].index >= 0
                    ? snprintf(w->fail_path + n, KW_PATH_MAX - n, ".%s[%d]", w->path[i].name,
                               (int)w->path[i].index)
                    : snprintf(w->fail_path + n, KW_PATH_MAX - n, ".%s", w->path[i].name);
        if (k < 0)
            break;
        n += (size_t)k;
    }
}

static bool push(struct walk *w, const char *name)
{
    if (w->depth >= WALK_DEPTH)
        return false;
    w->path[w->depth].name = name;
    w->path[w->depth].index = -1;
    w->depth++;
    return true;
}

static void pop(struct walk *w) { w->depth--; }

static bool stop(struct walk *w, int rc)
{
    if (rc)
        w->stopped = true;
    return w->stopped;
}

static bool field_flexible(const struct walk *w, const kw_field_info *f)
{
    return w->flex && !f->never_flexible;
}

/* The same sizes the generator puts in its min_size tables. */
static size_t struct_min_size(const struct walk *w, const kw_struct_info *st)
{
    size_t total = 0;
    for (uint16_t i = 0; i < st->field_count; i++) {
        const kw_field_info *f = &st->fields[i];
        if (!kw_versions_has(f->versions, w->v) || kw_versions_has(f->tagged, w->v))
            continue;
        bool flex = field_flexible(w, f);
        if (f->is_array)
            total += flex ? 1 : 4;
        else if (f->type == KW_TYPE_STRUCT)
            total += kw_versions_has(f->nullable, w->v) ? 1 : struct_min_size(w, f->sub);
        else if (f->type == KW_TYPE_STRING)
            total += flex ? 1 : 2;
        else if (f->type == KW_TYPE_BYTES || f->type == KW_TYPE_RECORDS)
            total += flex ? 1 : 4;
        else
            total += kw_type_wire_size_((kw_type)f->type);
    }
    if (w->flex)
        total += 1;
    return total;
}

static void walk_struct(struct walk *w, kw_reader *r, const kw_struct_info *st);

static kw_slice read_slice(kw_reader *r, kw_type t, bool flex, bool nullable)
{
    if (t == KW_TYPE_STRING) {
        if (flex)
            return nullable ? kw_read_compact_nullable_string(r) : kw_read_compact_string(r);
        return nullable ? kw_read_nullable_string(r) : kw_read_string(r);
    }
    if (t == KW_TYPE_RECORDS)
        return flex ? kw_read_compact_records(r) : kw_read_records(r);
    if (flex)
        return nullable ? kw_read_compact_nullable_bytes(r) : kw_read_compact_bytes(r);
    return nullable ? kw_read_nullable_bytes(r) : kw_read_bytes(r);
}

static void read_value(kw_reader *r, kw_type t, bool flex, bool nullable, kw_value *out)
{
    memset(out, 0, sizeof *out);
    out->type = (uint8_t)t;
    switch (t) {
    case KW_TYPE_BOOL: out->u.b = kw_read_bool(r); break;
    case KW_TYPE_INT8: out->u.i = kw_read_i8(r); break;
    case KW_TYPE_INT16: out->u.i = kw_read_i16(r); break;
    case KW_TYPE_UINT16: out->u.i = kw_read_u16(r); break;
    case KW_TYPE_INT32: out->u.i = kw_read_i32(r); break;
    case KW_TYPE_INT64: out->u.i = kw_read_i64(r); break;
    case KW_TYPE_FLOAT64: out->u.f = kw_read_f64(r); break;
    case KW_TYPE_UUID: out->u.uuid = kw_read_uuid(r); break;
    case KW_TYPE_STRING:
    case KW_TYPE_BYTES:
    case KW_TYPE_RECORDS:
        out->u.s = read_slice(r, t, flex, nullable);
        out->is_null = kw_slice_is_null(out->u.s);
        break;
    default: break;
    }
}

static int32_t read_count(kw_reader *r, bool flex, bool nullable, size_t min_elem)
{
    if (flex)
        return nullable ? kw_read_compact_nullable_array(r, min_elem)
                        : kw_read_compact_array(r, min_elem);
    return nullable ? kw_read_nullable_array(r, min_elem) : kw_read_array(r, min_elem);
}

/* One struct value: its fields, or null behind an int8 marker. */
static void walk_struct_value(struct walk *w, kw_reader *r, const kw_field_info *f, int32_t index,
                              bool nullable)
{
    bool is_null = false;
    if (nullable) {
        is_null = kw_read_i8(r) < 0;
        note_failure(w, r);
        if (w->failed)
            return;
    }
    if (w->vis && w->vis->struct_begin && stop(w, w->vis->struct_begin(w->ctx, f, index, is_null)))
        return;
    if (is_null)
        return; /* a null struct: no fields, no struct_end */
    walk_struct(w, r, f->sub);
    if (w->failed || w->stopped)
        return;
    if (w->vis && w->vis->struct_end)
        stop(w, w->vis->struct_end(w->ctx, f, index));
}

static void walk_field(struct walk *w, kw_reader *r, const kw_field_info *f)
{
    bool flex = field_flexible(w, f);
    bool nullable = kw_versions_has(f->nullable, w->v);
    if (!f->is_array) {
        if (f->type == KW_TYPE_STRUCT) {
            walk_struct_value(w, r, f, -1, nullable);
            return;
        }
        kw_value val;
        read_value(r, (kw_type)f->type, flex, nullable, &val);
        note_failure(w, r);
        if (!w->failed && w->vis && w->vis->value)
            stop(w, w->vis->value(w->ctx, f, -1, &val));
        return;
    }
    size_t min_elem = f->type == KW_TYPE_STRUCT ? struct_min_size(w, f->sub)
                      : f->type == KW_TYPE_STRING ? (flex ? 1u : 2u)
                                                  : kw_type_wire_size_((kw_type)f->type);
    int32_t count = read_count(r, flex, nullable, min_elem);
    note_failure(w, r);
    if (w->failed)
        return;
    if (w->vis && w->vis->array_begin && stop(w, w->vis->array_begin(w->ctx, f, count)))
        return;
    if (count < 0)
        return; /* a null array: no elements, no array_end */
    for (int32_t i = 0; i < count; i++) {
        w->path[w->depth - 1].index = i;
        if (f->type == KW_TYPE_STRUCT) {
            walk_struct_value(w, r, f, i, false);
        } else {
            kw_value val;
            read_value(r, (kw_type)f->type, flex, false, &val);
            note_failure(w, r);
            if (!w->failed && w->vis && w->vis->value)
                stop(w, w->vis->value(w->ctx, NULL, i, &val));
        }
        if (w->failed || w->stopped)
            return;
    }
    w->path[w->depth - 1].index = -1;
    if (w->vis && w->vis->array_end)
        stop(w, w->vis->array_end(w->ctx, f));
}

static const kw_field_info *tagged_field(const kw_struct_info *st, int16_t v, uint32_t tag)
{
    for (uint16_t i = 0; i < st->field_count; i++) {
        const kw_field_info *f = &st->fields[i];
        if (f->tag >= 0 && (uint32_t)f->tag == tag && kw_versions_has(f->tagged, v) &&
            kw_versions_has(f->versions, v))
            return f;
    }
    return NULL;
}

static void walk_tags(struct walk *w, kw_reader *r, const kw_struct_info *st)
{
    if (!push(w, "tagged_fields"))
        return;
    kw_tagged_fields tf = kw_read_tagged_fields(r);
    note_failure(w, r);
    pop(w);
    if (w->failed || tf.count == 0)
        return;
    kw_tag_iter it;
    kw_tagged_field t;
    kw_tag_iter_init(&it, tf);
    while (kw_tag_iter_next(&it, &t)) {
        const kw_field_info *f = tagged_field(st, w->v, t.tag);
        if (!f) {
            if (w->vis && w->vis->unknown_tag && stop(w, w->vis->unknown_tag(w->ctx, t.tag, t.data)))
                return;
            continue;
        }
        kw_reader sub = kw_tag_reader_(r, t.data);
        if (!push(w, f->name))
            return;
        walk_field(w, &sub, f);
        if (!w->failed && !w->stopped) {
            kw_reader_expect_end(&sub);
            note_failure(w, &sub);
        }
        pop(w);
        if (!kw_reader_ok(&sub))
            kw_reader_fail_at(r, sub.err, sub.err_offset);
        if (w->failed || w->stopped)
            return;
    }
}

static void walk_struct(struct walk *w, kw_reader *r, const kw_struct_info *st)
{
    for (uint16_t i = 0; i < st->field_count; i++) {
        const kw_field_info *f = &st->fields[i];
        if (!kw_versions_has(f->versions, w->v) || kw_versions_has(f->tagged, w->v))
            continue;
        if (!push(w, f->name))
            return;
        walk_field(w, r, f);
        pop(w);
        if (w->failed || w->stopped)
            return;
    }
    if (w->flex)
        walk_tags(w, r, st);
}

void kw_decode_error_fill_(kw_decode_error *err, const kw_message_info *m, int16_t version,
                           const kw_reader *r, const char *path)
{
    if (!err)
        return;
    err->code = r->err;
    err->offset = r->err_offset;
    err->message = m;
    err->version = version;
    snprintf(err->path, sizeof err->path, "%s", path);
}

kw_err kw_walk(const kw_message_info *m, int16_t version, kw_reader *r, const kw_visitor *vis,
               void *ctx, kw_decode_error *err)
{
    if (!kw_versions_has(m->versions, version))
        return kw_decode_unsupported_(m, version, r, err);
    struct walk w;
    memset(&w, 0, sizeof w);
    w.v = version;
    w.flex = m->first_flexible >= 0 && version >= m->first_flexible;
    w.vis = vis;
    w.ctx = ctx;
    if (kw_reader_ok(r))
        walk_struct(&w, r, m->root);
    if (kw_reader_ok(r))
        return KW_OK;
    kw_decode_error_fill_(err, m, version, r, w.failed ? w.fail_path : "");
    return r->err;
}

void kw_message_diagnose(const kw_message_info *m, int16_t version, const kw_reader *start,
                         const kw_reader *failed, kw_decode_error *err)
{
    if (!err)
        return;
    kw_reader again = *start;
    struct walk w;
    memset(&w, 0, sizeof w);
    w.v = version;
    w.flex = m->first_flexible >= 0 && version >= m->first_flexible;
    if (kw_reader_ok(&again))
        walk_struct(&w, &again, m->root);
    /* The typed decoder's code and offset stand; the walk adds the path. */
    kw_decode_error_fill_(err, m, version, failed, w.failed ? w.fail_path : "");
}

bool kw_tag_iter_next_unknown(kw_tag_iter *it, const kw_struct_info *s, int16_t version,
                              kw_tagged_field *out)
{
    while (kw_tag_iter_next(it, out))
        if (!tagged_field(s, version, out->tag))
            return true;
    return false;
}
