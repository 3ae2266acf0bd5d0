/*
 * kwire builder: writes Kafka bytes back to front. The last field of a
 * message is written first, so when a length, count or CRC is written, the
 * bytes it describes are already in place: one pass, no size pre-pass, no
 * placeholder patched later, no bytes moved.
 *
 * Storage is a caller buffer (no allocation at all) or growable chunks
 * that never move once written. Output is a list of segments in wire
 * order: bytes the builder wrote, bytes the caller owns and lent by
 * reference (record data in a log or an mmap), and file ranges to send
 * with sendfile. Errors are sticky: the first one is kept and later writes
 * do nothing.
 */
#ifndef KWIRE_BUILDER_H
#define KWIRE_BUILDER_H

#include <stdbool.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kw_segment_kind {
    KW_SEGMENT_BYTES, /* bytes in memory: the builder's or the caller's */
    KW_SEGMENT_FILE,  /* a range of a file, to send with sendfile */
} kw_segment_kind;

/** One piece of output, in wire order. */
typedef struct kw_segment {
    uint8_t kind;       /* kw_segment_kind */
    bool referenced;    /* BYTES lent by the caller rather than written by the builder */
    const uint8_t *ptr; /* BYTES */
    size_t len;
    int fd;             /* FILE */
    int64_t offset;     /* FILE */
} kw_segment;

/** Where the bytes of a records field come from when it is written. */
typedef enum kw_records_source {
    KW_RECORDS_COPY, /* bytes copied into the output: what a decode gives */
    KW_RECORDS_LEND, /* bytes lent: the output references them, as kw_build_reference does */
    KW_RECORDS_FILE, /* a range of a file: the output sends it from there (sendfile) */
} kw_records_source;

/**
 * A records field: record batches (or legacy message sets) as bytes in
 * memory, or as a range of a file a server sends from without reading it.
 * A decoded view's records are always KW_RECORDS_COPY bytes into the
 * frame; set the other sources with kw_records_lent and kw_records_file.
 */
typedef struct kw_records {
    kw_slice bytes;  /* COPY, LEND: the records, ptr NULL for null; FILE: ptr NULL, len the range's */
    uint8_t source;  /* kw_records_source */
    int fd;          /* FILE */
    int64_t offset;  /* FILE: where the range starts in the file */
} kw_records;

/** Records bytes, copied when written (a null slice: null records). */
static inline kw_records kw_records_of(kw_slice bytes)
{
    kw_records r = {bytes, KW_RECORDS_COPY, -1, 0};
    return r;
}

/** Records bytes lent to the output: they must outlive it (a null slice: null records). */
static inline kw_records kw_records_lent(kw_slice bytes)
{
    kw_records r = {bytes, KW_RECORDS_LEND, -1, 0};
    return r;
}

/** len bytes of records in the file fd from offset on, sent from the file. */
static inline kw_records kw_records_file(int fd, int64_t offset, size_t len)
{
    kw_records r = {{NULL, len}, KW_RECORDS_FILE, fd, offset};
    return r;
}

/** True for null records (never for a file range). */
static inline bool kw_records_is_null(const kw_records *r)
{
    return r->source != KW_RECORDS_FILE && r->bytes.ptr == NULL;
}

struct kw_builder;

struct kw_chunk;

/** The builder. Set up with kw_builder_init or kw_builder_init_growable. */
typedef struct kw_builder {
    uint8_t *buf;   /* current storage, written downward */
    size_t head;    /* bytes in use are buf[head .. cap) */
    size_t cap;
    size_t size;    /* bytes of output so far, all segments included */
    size_t mark_head; /* head when the current BYTES run began (its end) */
    kw_segment *segs; /* segments fill from the end: segs[seg_next .. seg_cap) */
    size_t seg_next;
    size_t seg_cap;
    kw_err err;     /* sticky */
    /* growable mode */
    bool growable;
    size_t chunk_size;
    struct kw_chunk *chunks;
    kw_segment *own_segs;
    kw_segment single; /* the output when it is one run of builder bytes */
} kw_builder;

/**
 * A builder over the caller's memory: output bytes in buf[0..cap), segment
 * descriptors in segs[0..seg_count) (needed only when bytes are referenced
 * or file ranges added: pass NULL, 0 otherwise). Nothing is allocated;
 * running out gives NO_SPACE.
 */
KW_API void kw_builder_init(kw_builder *b, void *buf, size_t cap, kw_segment *segs,
                            size_t seg_count);

/**
 * A builder that allocates chunks of at least chunk_size bytes (0: 64 KiB)
 * as it grows; written bytes never move. Release with kw_builder_free.
 */
KW_API void kw_builder_init_growable(kw_builder *b, size_t chunk_size);

/** Releases what a growable builder allocated. */
KW_API void kw_builder_free(kw_builder *b);

/** Starts over, keeping the storage. */
KW_API void kw_builder_reset(kw_builder *b);

/** The first error, KW_OK while none. */
static inline kw_err kw_builder_error(const kw_builder *b) { return b->err; }

/** Bytes of output so far. A length prefix is kw_builder_size() minus a mark. */
static inline size_t kw_builder_size(const kw_builder *b) { return b->size; }

/** Latches an error (first wins). */
KW_API void kw_builder_fail(kw_builder *b, kw_err code);

/* ---- primitives, written in front of what is there ------------------------ */

KW_API void kw_build_raw(kw_builder *b, const void *data, size_t len);
KW_API void kw_build_bool(kw_builder *b, bool v);
KW_API void kw_build_i8(kw_builder *b, int8_t v);
KW_API void kw_build_i16(kw_builder *b, int16_t v);
KW_API void kw_build_u16(kw_builder *b, uint16_t v);
KW_API void kw_build_i32(kw_builder *b, int32_t v);
KW_API void kw_build_u32(kw_builder *b, uint32_t v);
KW_API void kw_build_i64(kw_builder *b, int64_t v);
KW_API void kw_build_f64(kw_builder *b, double v);
KW_API void kw_build_uuid(kw_builder *b, const kw_uuid *v);
KW_API void kw_build_uvarint(kw_builder *b, uint32_t v);
KW_API void kw_build_uvarlong(kw_builder *b, uint64_t v);
KW_API void kw_build_varint(kw_builder *b, int32_t v);
KW_API void kw_build_varlong(kw_builder *b, int64_t v);

/* Strings, bytes and records: the payload, then its length in front. A
 * null slice writes the null length; the non-nullable forms latch
 * UNEXPECTED_NULL for one. A payload too long for its length field latches
 * TOO_LONG. */
KW_API void kw_build_string(kw_builder *b, kw_slice s);
KW_API void kw_build_nullable_string(kw_builder *b, kw_slice s);
KW_API void kw_build_compact_string(kw_builder *b, kw_slice s);
KW_API void kw_build_compact_nullable_string(kw_builder *b, kw_slice s);
KW_API void kw_build_bytes(kw_builder *b, kw_slice s);
KW_API void kw_build_nullable_bytes(kw_builder *b, kw_slice s);
KW_API void kw_build_compact_bytes(kw_builder *b, kw_slice s);
KW_API void kw_build_compact_nullable_bytes(kw_builder *b, kw_slice s);
/**
 * records: nullable bytes, copied, lent or sent from a file as r's source
 * says; a file range needs a builder with segments (else NO_SPACE).
 */
KW_API void kw_build_records(kw_builder *b, const kw_records *r);
KW_API void kw_build_compact_records(kw_builder *b, const kw_records *r);

/* ---- length prefixes and counts after their contents ---------------------- */
/* Writing goes back to front, so a length-prefixed field is written as:
 * mark = kw_builder_size(b); write the contents; then the prefix: */

/** int32 length of the bytes written since mark. */
KW_API void kw_build_length_i32(kw_builder *b, size_t mark);
/** unsigned varint length of the bytes written since mark. */
KW_API void kw_build_length_uvarint(kw_builder *b, size_t mark);
/** compact length (unsigned varint N + 1) of the bytes written since mark. */
KW_API void kw_build_length_compact(kw_builder *b, size_t mark);
/** varint (zigzag) length of the bytes written since mark, as in records. */
KW_API void kw_build_length_varint(kw_builder *b, size_t mark);
/** Array count: int32 (-1 for null), or compact N + 1 (0 for null). */
KW_API void kw_build_count(kw_builder *b, int32_t count, bool compact);

/* ---- bytes not copied ------------------------------------------------------- */

/** Lends len bytes at data: they appear in the output without a copy. */
KW_API void kw_build_reference(kw_builder *b, const void *data, size_t len);
/** A range of a file: the output says to send it from the file. */
KW_API void kw_build_file_range(kw_builder *b, int fd, int64_t offset, size_t len);


/* ---- CRC over what was written ---------------------------------------------- */

/**
 * CRC-32C of the bytes written since mark (they lie after the current
 * position on the wire), across segments. File ranges cannot be read:
 * they latch FILE_IN_CHECKSUM.
 */
KW_API uint32_t kw_builder_crc32c_since(kw_builder *b, size_t mark);
/** CRC-32 (IEEE) of the bytes written since mark, for legacy messages. */
KW_API uint32_t kw_builder_crc32_since(kw_builder *b, size_t mark);

/* ---- output ------------------------------------------------------------------- */

/**
 * The output as segments in wire order; *count receives their number.
 * Valid until the next write. Adjacent builder bytes form one segment.
 */
KW_API const kw_segment *kw_builder_segments(kw_builder *b, size_t *count);

/**
 * The output as one contiguous span when it is one (a caller buffer with
 * nothing referenced); else NULL, and kw_builder_copy_out gives a copy.
 */
KW_API const uint8_t *kw_builder_contiguous(const kw_builder *b);

/** Copies the output (memory segments only) to out[0..cap); returns bytes or 0 on error. */
KW_API size_t kw_builder_copy_out(kw_builder *b, void *out, size_t cap);

/**
 * Sends the output to a socket or file descriptor: writev for memory,
 * sendfile for file ranges, retrying partial writes. Returns 0, or -1 with
 * errno set (EAGAIN on a non-blocking socket: *sent says how far it got,
 * and calling again with the same *sent resumes).
 */
KW_API int kw_builder_send(kw_builder *b, int fd, size_t *sent);

#ifdef __cplusplus
}
#endif

#endif /* KWIRE_BUILDER_H */
