/*
 * kwire cursor: bounds-checked reads of every Kafka primitive over caller
 * memory. Nothing is copied or allocated: strings, bytes and records come
 * back as slices into the buffer.
 *
 * Errors latch. The first failed read records its code and byte offset and
 * moves the cursor to the end, so every later read fails cheaply and returns
 * a zero value; decoders read a run of fields and check kw_reader_ok() once.
 */
#ifndef KWIRE_CURSOR_H
#define KWIRE_CURSOR_H

#include <stdbool.h>
#include <string.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A read window [pos, end) over caller memory; offsets count from base. */
typedef struct kw_reader {
    const uint8_t *base;
    const uint8_t *pos;
    const uint8_t *end;
    kw_err err;        /* first error, KW_OK while none */
    size_t err_offset; /* byte offset of the first error */
} kw_reader;

/**
 * A validated tagged-field section. The section's count and each field's
 * (tag, size) header have been checked; walk it with kw_tag_iter.
 */
typedef struct kw_tagged_fields {
    uint32_t count;
    kw_slice fields; /* the bytes after the count: tag, size, data, ... */
} kw_tagged_fields;

/** One tagged field: its tag and its raw bytes. */
typedef struct kw_tagged_field {
    uint32_t tag;
    kw_slice data;
} kw_tagged_field;

/** Walks a kw_tagged_fields section that kw_read_tagged_fields validated. */
typedef struct kw_tag_iter {
    const uint8_t *pos;
    const uint8_t *end;
} kw_tag_iter;

/* ---- reader state ----------------------------------------------------- */

/** Opens a reader on len bytes at buf (buf may be NULL when len is 0). */
static inline void kw_reader_init(kw_reader *r, const void *buf, size_t len);
/** True while no read has failed. */
static inline bool kw_reader_ok(const kw_reader *r);
/** Bytes left to read (0 after an error). */
static inline size_t kw_reader_remaining(const kw_reader *r);
/** Offset of the next byte from the start of the buffer. */
static inline size_t kw_reader_offset(const kw_reader *r);
/** The error so far, as a kw_error with field NULL. */
static inline kw_error kw_reader_error(const kw_reader *r);
/**
 * Latches code at the current offset unless an error is already latched,
 * and moves to the end. Decoders use it for semantic errors.
 */
KW_API void kw_reader_fail(kw_reader *r, kw_err code);
/** Latches code at an explicit offset (first error still wins). */
KW_API void kw_reader_fail_at(kw_reader *r, kw_err code, size_t offset);
/**
 * A reader over the next len bytes, sharing base so offsets stay those of
 * the whole buffer; r moves past them. On a short buffer r latches
 * TRUNCATED and the child is empty and failed too.
 */
static inline kw_reader kw_reader_take(kw_reader *r, size_t len);
/** Skips len bytes. */
static inline void kw_reader_skip(kw_reader *r, size_t len);
/** Latches TRAILING_BYTES if any bytes are left. */
static inline void kw_reader_expect_end(kw_reader *r);

/* ---- fixed-size primitives (big-endian on the wire) -------------------- */

/** bool: one byte, any non-zero value is true (as Kafka reads it). */
static inline bool kw_read_bool(kw_reader *r);
static inline int8_t kw_read_i8(kw_reader *r);
static inline int16_t kw_read_i16(kw_reader *r);
static inline uint16_t kw_read_u16(kw_reader *r);
static inline int32_t kw_read_i32(kw_reader *r);
static inline uint32_t kw_read_u32(kw_reader *r);
static inline int64_t kw_read_i64(kw_reader *r);
/** float64: IEEE 754 double, big-endian. */
static inline double kw_read_f64(kw_reader *r);
static inline kw_uuid kw_read_uuid(kw_reader *r);

/* ---- variable-length integers ----------------------------------------- */

/** Unsigned varint of at most 5 bytes whose value fits 32 bits. */
static inline uint32_t kw_read_uvarint(kw_reader *r);
/** Unsigned varint of at most 10 bytes whose value fits 64 bits. */
static inline uint64_t kw_read_uvarlong(kw_reader *r);
/** Zigzag varint (int32), at most 5 bytes. */
static inline int32_t kw_read_varint(kw_reader *r);
/** Zigzag varlong (int64), at most 10 bytes. */
static inline int64_t kw_read_varlong(kw_reader *r);

/* ---- strings, bytes and records ---------------------------------------- */
/* A null result has ptr == NULL; the non-nullable forms latch
 * UNEXPECTED_NULL on a null and return an empty slice. */

/** string: int16 length, then UTF-8 bytes. */
KW_API kw_slice kw_read_string(kw_reader *r);
/** nullable string: int16 length, -1 is null. */
KW_API kw_slice kw_read_nullable_string(kw_reader *r);
/** compact string: unsigned varint length + 1. */
KW_API kw_slice kw_read_compact_string(kw_reader *r);
/** compact nullable string: unsigned varint length + 1, 0 is null. */
KW_API kw_slice kw_read_compact_nullable_string(kw_reader *r);
/** bytes: int32 length. */
KW_API kw_slice kw_read_bytes(kw_reader *r);
/** nullable bytes: int32 length, -1 is null. */
KW_API kw_slice kw_read_nullable_bytes(kw_reader *r);
/** compact bytes: unsigned varint length + 1. */
KW_API kw_slice kw_read_compact_bytes(kw_reader *r);
/** compact nullable bytes: unsigned varint length + 1, 0 is null. */
KW_API kw_slice kw_read_compact_nullable_bytes(kw_reader *r);
/** records: nullable bytes holding record batches (see records.h). */
KW_API kw_slice kw_read_records(kw_reader *r);
/** compact records: compact nullable bytes holding record batches. */
KW_API kw_slice kw_read_compact_records(kw_reader *r);

/* ---- arrays ------------------------------------------------------------ */
/*
 * An array read returns the element count, or -1 for a null array. The
 * count is checked against the bytes left before anyone iterates:
 * count * max(min_element_size, 1) must not exceed them, else
 * COUNT_TOO_LARGE. min_element_size is the fewest bytes one element can take.
 */

/** array: int32 count; -1 latches UNEXPECTED_NULL and returns 0. */
KW_API int32_t kw_read_array(kw_reader *r, size_t min_element_size);
/** nullable array: int32 count, -1 is null. */
KW_API int32_t kw_read_nullable_array(kw_reader *r, size_t min_element_size);
/** compact array: unsigned varint count + 1; 0 latches UNEXPECTED_NULL. */
KW_API int32_t kw_read_compact_array(kw_reader *r, size_t min_element_size);
/** compact nullable array: unsigned varint count + 1, 0 is null. */
KW_API int32_t kw_read_compact_nullable_array(kw_reader *r, size_t min_element_size);

/* ---- tagged fields (KIP-482) ------------------------------------------- */

/**
 * Reads and validates a tagged-field section: unsigned varint count, then
 * per field an unsigned varint tag (strictly increasing, else TAG_ORDER), an
 * unsigned varint size and that many bytes (past the end: TRUNCATED).
 * The count is checked against the bytes left (each field takes >= 2).
 */
KW_API kw_tagged_fields kw_read_tagged_fields(kw_reader *r);
/** Skips a tagged-field section with the same checks. */
static inline void kw_skip_tagged_fields(kw_reader *r);
/** Starts a walk over a validated section. */
static inline void kw_tag_iter_init(kw_tag_iter *it, kw_tagged_fields tf);
/** Next field of a validated section; false at the end. */
KW_API bool kw_tag_iter_next(kw_tag_iter *it, kw_tagged_field *out);

/* ---- byte-order helpers ------------------------------------------------ */
/* Big-endian (wire order) loads and stores at any alignment, byte by byte:
 * no casts of the pointer, no dependence on the host's byte order. Signed
 * fields go through the unsigned forms: (int32_t)kw_load_be32(p),
 * kw_store_be64(p, (uint64_t)v). p must have 2, 4 or 8 bytes there. */

/** The 2 bytes at p as a big-endian uint16. */
static inline uint16_t kw_load_be16(const uint8_t *p);
/** The 4 bytes at p as a big-endian uint32. */
static inline uint32_t kw_load_be32(const uint8_t *p);
/** The 8 bytes at p as a big-endian uint64. */
static inline uint64_t kw_load_be64(const uint8_t *p);
/** Writes v to the 2 bytes at p, most significant byte first. */
static inline void kw_store_be16(uint8_t *p, uint16_t v);
/** Writes v to the 4 bytes at p, most significant byte first. */
static inline void kw_store_be32(uint8_t *p, uint32_t v);
/** Writes v to the 8 bytes at p, most significant byte first. */
static inline void kw_store_be64(uint8_t *p, uint64_t v);

/* ======================================================================= */
/* Implementation of the inline functions.                                 */
/* ======================================================================= */

/* Cold path of every bounds check; out of line so hot reads stay small. */
KW_API void kw_reader_fail_truncated_(kw_reader *r);
KW_API void kw_reader_fail_varint_(kw_reader *r, kw_err code);

static inline uint16_t kw_load_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | (unsigned)p[1]);
}

static inline uint32_t kw_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t kw_load_be64(const uint8_t *p)
{
    return (uint64_t)kw_load_be32(p) << 32 | kw_load_be32(p + 4);
}

static inline void kw_store_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void kw_store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void kw_store_be64(uint8_t *p, uint64_t v)
{
    kw_store_be32(p, (uint32_t)(v >> 32));
    kw_store_be32(p + 4, (uint32_t)v);
}

static inline void kw_reader_init(kw_reader *r, const void *buf, size_t len)
{
    /* An empty non-null slice needs a non-NULL pointer even for a NULL buffer. */
    static const uint8_t empty[1] = {0};
    const uint8_t *p = buf ? (const uint8_t *)buf : empty;
    r->base = p;
    r->pos = p;
    r->end = p + (buf ? len : 0);
    r->err = KW_OK;
    r->err_offset = 0;
}

static inline bool kw_reader_ok(const kw_reader *r) { return r->err == KW_OK; }

static inline size_t kw_reader_remaining(const kw_reader *r)
{
    return (size_t)(r->end - r->pos);
}

static inline size_t kw_reader_offset(const kw_reader *r)
{
    return (size_t)(r->pos - r->base);
}

static inline kw_error kw_reader_error(const kw_reader *r)
{
    kw_error e;
    e.code = r->err;
    e.offset = r->err_offset;
    e.field = NULL;
    return e;
}

/* Returns the start of n readable bytes and advances, or NULL after latching. */
static inline const uint8_t *kw_reader_need_(kw_reader *r, size_t n)
{
    const uint8_t *p = r->pos;
    if (KW_UNLIKELY((size_t)(r->end - p) < n)) {
        kw_reader_fail_truncated_(r);
        return NULL;
    }
    r->pos = p + n;
    return p;
}

static inline kw_reader kw_reader_take(kw_reader *r, size_t len)
{
    kw_reader child = *r;
    const uint8_t *p = kw_reader_need_(r, len);
    if (p) {
        child.pos = p;
        child.end = p + len;
    } else {
        child = *r; /* failed and empty, same error */
    }
    return child;
}

static inline void kw_reader_skip(kw_reader *r, size_t len) { (void)kw_reader_need_(r, len); }

static inline void kw_reader_expect_end(kw_reader *r)
{
    if (r->pos != r->end)
        kw_reader_fail(r, KW_ERR_TRAILING_BYTES);
}

static inline bool kw_read_bool(kw_reader *r)
{
    const uint8_t *p = kw_reader_need_(r, 1);
    return p ? p[0] != 0 : false;
}

static inline int8_t kw_read_i8(kw_reader *r)
{
    const uint8_t *p = kw_reader_need_(r, 1);
    return p ? (int8_t)p[0] : 0;
}

static inline uint16_t kw_read_u16(kw_reader *r)
{
    const uint8_t *p = kw_reader_need_(r, 2);
    return p ? kw_load_be16(p) : 0;
}

static inline int16_t kw_read_i16(kw_reader *r) { return (int16_t)kw_read_u16(r); }

static inline uint32_t kw_read_u32(kw_reader *r)
{
    const uint8_t *p = kw_reader_need_(r, 4);
    return p ? kw_load_be32(p) : 0;
}

static inline int32_t kw_read_i32(kw_reader *r) { return (int32_t)kw_read_u32(r); }

static inline int64_t kw_read_i64(kw_reader *r)
{
    const uint8_t *p = kw_reader_need_(r, 8);
    return p ? (int64_t)kw_load_be64(p) : 0;
}

static inline double kw_read_f64(kw_reader *r)
{
    const uint8_t *p = kw_reader_need_(r, 8);
    uint64_t bits = p ? kw_load_be64(p) : 0;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static inline kw_uuid kw_read_uuid(kw_reader *r)
{
    kw_uuid u;
    const uint8_t *p = kw_reader_need_(r, 16);
    if (p)
        memcpy(u.bytes, p, 16);
    else
        memset(u.bytes, 0, 16);
    return u;
}

static inline uint32_t kw_read_uvarint(kw_reader *r)
{
    const uint8_t *p = r->pos;
    size_t avail = (size_t)(r->end - p);
    /* One-byte values dominate (lengths, counts, empty tag sections). */
    if (KW_LIKELY(avail > 0 && p[0] < 0x80)) {
        r->pos = p + 1;
        return p[0];
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < 5; i++) {
        if (i >= avail) {
            kw_reader_fail_truncated_(r);
            return 0;
        }
        uint32_t b = p[i];
        if (i == 4 && b > 0x0f) {
            kw_reader_fail_varint_(r, b & 0x80 ? KW_ERR_VARINT_TOO_LONG : KW_ERR_VARINT_OVERFLOW);
            return 0;
        }
        v |= (b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            r->pos = p + i + 1;
            return v;
        }
    }
    /* unreachable: byte 5 either ends the varint or fails above */
    return 0;
}

static inline uint64_t kw_read_uvarlong(kw_reader *r)
{
    const uint8_t *p = r->pos;
    size_t avail = (size_t)(r->end - p);
    if (KW_LIKELY(avail > 0 && p[0] < 0x80)) {
        r->pos = p + 1;
        return p[0];
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (i >= avail) {
            kw_reader_fail_truncated_(r);
            return 0;
        }
        uint64_t b = p[i];
        if (i == 9 && b > 0x01) {
            kw_reader_fail_varint_(r, b & 0x80 ? KW_ERR_VARINT_TOO_LONG : KW_ERR_VARINT_OVERFLOW);
            return 0;
        }
        v |= (b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            r->pos = p + i + 1;
            return v;
        }
    }
    return 0;
}

static inline int32_t kw_read_varint(kw_reader *r)
{
    uint32_t u = kw_read_uvarint(r);
    /* Zigzag in unsigned arithmetic: no signed overflow at the extremes. */
    return (int32_t)((u >> 1) ^ (0u - (u & 1u)));
}

static inline int64_t kw_read_varlong(kw_reader *r)
{
    uint64_t u = kw_read_uvarlong(r);
    return (int64_t)((u >> 1) ^ (0u - (u & 1u)));
}

static inline void kw_skip_tagged_fields(kw_reader *r)
{
    /* Nearly every section on the wire is the single byte 0. */
    if (KW_LIKELY(r->pos < r->end && r->pos[0] == 0)) {
        r->pos++;
        return;
    }
    (void)kw_read_tagged_fields(r);
}

static inline void kw_tag_iter_init(kw_tag_iter *it, kw_tagged_fields tf)
{
    it->pos = tf.fields.ptr;
    it->end = tf.fields.ptr ? tf.fields.ptr + tf.fields.len : NULL;
}

#ifdef __cplusplus
}
#endif

#endif /* KWIRE_CURSOR_H */
