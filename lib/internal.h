/*
 * kwire internals shared by the library sources and the generated message
 * code. Not installed.
 */
#ifndef KWIRE_INTERNAL_H
#define KWIRE_INTERNAL_H

#include "kwire/api.h"
#include "kwire/message.h"

/* The API table rows, generated from lib/defs into messages.c. */
extern const kw_api_info kw_api_rows[KW_API_KEY_COUNT];

/* An empty, non-null slice: the default of a non-nullable string. */
static inline kw_slice kw_empty_slice_(void)
{
    static const uint8_t none[1];
    kw_slice s = {none, 0};
    return s;
}

/* A null slice: the default of a nullable string. */
static inline kw_slice kw_null_slice_(void)
{
    kw_slice s = {NULL, 0};
    return s;
}

/* An empty tagged-field section, for views of versions that have none. */
static inline kw_tagged_fields kw_no_tagged_fields_(void)
{
    kw_tagged_fields tf = {0, {NULL, 0}};
    return tf;
}

/* Opens an array window at the reader's position after its count was read. */
static inline kw_array kw_array_begin_(const kw_reader *r, int32_t count, int16_t version,
                                       int flexible, kw_type elem_type)
{
    kw_array a;
    a.count = count;
    a.version = version;
    a.flexible = (uint8_t)(flexible != 0);
    a.elem_type = (uint8_t)elem_type;
    a.base = r->base;
    a.ptr = count < 0 ? NULL : r->pos;
    a.end = a.ptr;
    a.items = NULL;
    return a;
}

/* Closes the window after its elements were validated. */
static inline void kw_array_end_(const kw_reader *r, kw_array *a)
{
    if (a->ptr)
        a->end = r->pos;
}

/* Bytes a fixed-size type takes on the wire; 0 for the variable-size ones. */
size_t kw_type_wire_size_(kw_type t);

/* Validates and skips the elements of a primitive-typed array. */
void kw_array_skip_elements_(kw_reader *r, const kw_array *a);

/* A tagged-field section: the one-byte empty section inline, the rest out of line. */
static inline kw_tagged_fields kw_read_tagged_fields_fast_(kw_reader *r)
{
    if (KW_LIKELY(r->pos < r->end && r->pos[0] == 0)) {
        kw_tagged_fields tf = {0, {r->pos + 1, 0}};
        r->pos++;
        return tf;
    }
    return kw_read_tagged_fields(r);
}

/* A reader over one tagged field's bytes, with offsets of the whole buffer. */
static inline kw_reader kw_tag_reader_(const kw_reader *r, kw_slice data)
{
    kw_reader t;
    t.base = r->base;
    t.pos = data.ptr;
    t.end = data.ptr + data.len;
    t.err = KW_OK;
    t.err_offset = 0;
    return t;
}

/* A known tagged field must fill its bytes exactly; its error becomes the parent's. */
static inline void kw_tag_reader_done_(kw_reader *r, kw_reader *t)
{
    kw_reader_expect_end(t);
    if (!kw_reader_ok(t))
        kw_reader_fail_at(r, t->err, t->err_offset);
}

/* Fills err (if not NULL) with r's error, the message, version and path. */
void kw_decode_error_fill_(kw_decode_error *err, const kw_message_info *m, int16_t version,
                           const kw_reader *r, const char *path);

/* ---- encoding -------------------------------------------------------------- */

/*
 * Starts writing an array back to front. A null array (checked against
 * nullable) and a view decoded at this version and encoding (copied as it
 * came) are done here: returns false. Items must be written by the caller
 * when it returns true. Either way kw_array_write_end_ writes the count.
 */
bool kw_array_write_begin_(kw_builder *b, const kw_array *a, int16_t version, int flexible,
                           int nullable);
/* Writes the count (or null) in front of the elements. */
void kw_array_write_end_(kw_builder *b, const kw_array *a, int flexible);
/* Writes primitive items, last first. */
void kw_array_write_items_(kw_builder *b, const kw_array *a, kw_type type, int flexible);

/* Writes one known tagged field; false when it is left out (default, not in the input). */
typedef bool (*kw_tag_write_fn)(kw_builder *b, int16_t version, const void *self, uint32_t tag,
                                bool in_raw);
/*
 * Writes a tagged-field section back to front: the known tags of this
 * version (tags, highest first) through fn, and the unknown ones of raw
 * (a decoded view's section) copied as they came, all in increasing order.
 */
void kw_build_tagged_section_(kw_builder *b, kw_tagged_fields raw, const uint32_t *tags, size_t n,
                              kw_tag_write_fn fn, int16_t version, const void *self);

static inline bool kw_uuid_is_zero_(const kw_uuid *u)
{
    static const kw_uuid zero;
    return memcmp(u->bytes, zero.bytes, 16) == 0;
}

/* ---- materializing ------------------------------------------------------------- */

static inline bool kw_array_needs_items_(const kw_array *a)
{
    return a->items == NULL && a->count > 0 && a->ptr != NULL;
}

/* Turns a primitive array view into items from the arena. */
void kw_array_materialize_primitive_(kw_arena *arena, kw_array *a);

/* Reports a version outside the message's range. */
kw_err kw_decode_unsupported_(const kw_message_info *m, int16_t version, kw_reader *r,
                              kw_decode_error *err);

#endif /* KWIRE_INTERNAL_H */
