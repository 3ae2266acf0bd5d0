/*
 * kwire records: the bytes of a `records` field, read in place.
 *
 * A records field holds a run of entries, each `int64 offset, int32 length,
 * length bytes`, with the magic byte at entry offset 16 in every format:
 *   magic 2     a record batch (KIP-98) holding varint-encoded records;
 *   magic 0, 1  one legacy message (a message set is a run of them).
 *
 * Three walks, each over the caller's bytes, none allocating or copying:
 *   kw_batch_iter          entries of a records field (header checks, CRC);
 *   kw_record_iter         records of an uncompressed v2 batch (or of
 *                          decompressed record bytes), validating each one;
 *   kw_record_header_iter  headers of a record kw_record_iter validated.
 *
 * Error offsets count from the start of the records field plus a base the
 * caller gives, so they can name a byte of the whole frame.
 */
#ifndef KWIRE_RECORDS_H
#define KWIRE_RECORDS_H

#include <stdbool.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- layout constants ------------------------------------------------- */

/** Bytes in front of every entry's body: int64 offset and int32 length. */
#define KW_ENTRY_OVERHEAD 12u
/** Offset of the magic byte inside an entry, the same in every format. */
#define KW_ENTRY_MAGIC_OFFSET 16u
/** Size of the record batch v2 header; records start right after it. */
#define KW_BATCH_V2_HEADER 61u
/** Offset of the v2 crc field; the CRC-32C covers attributes onward. */
#define KW_BATCH_V2_CRC_OFFSET 17u
/** Offset of the v2 attributes field, where the CRC-32C coverage starts. */
#define KW_BATCH_V2_ATTRIBUTES_OFFSET 21u
/** Offset of the v2 record_count field. */
#define KW_BATCH_V2_RECORD_COUNT_OFFSET 57u
/** Fewest bytes of a legacy message v0 / v1 (offset and size included). */
#define KW_LEGACY_V0_MIN 26u
#define KW_LEGACY_V1_MIN 34u

/* ---- attributes -------------------------------------------------------- */

/** Compression codec: attribute bits 0-2 in every format. */
typedef enum kw_compression {
    KW_COMPRESSION_NONE = 0,
    KW_COMPRESSION_GZIP = 1,
    KW_COMPRESSION_SNAPPY = 2,
    KW_COMPRESSION_LZ4 = 3,
    KW_COMPRESSION_ZSTD = 4, /* v2 only; 5-7 are not assigned */
} kw_compression;

/** Timestamp type: attribute bit 3 (magic 1 and 2). */
typedef enum kw_timestamp_type {
    KW_TIMESTAMP_CREATE_TIME = 0,
    KW_TIMESTAMP_LOG_APPEND_TIME = 1,
} kw_timestamp_type;

#define KW_ATTR_COMPRESSION_MASK 0x07
#define KW_ATTR_TIMESTAMP_TYPE 0x08
/** v2 only: the batch belongs to a transaction. */
#define KW_ATTR_TRANSACTIONAL 0x10
/** v2 only: the batch holds control records (commit/abort markers). */
#define KW_ATTR_CONTROL 0x20
/** v2 only: base_timestamp holds the delete horizon (compacted topics). */
#define KW_ATTR_DELETE_HORIZON 0x40

/** Control record types, from a control record's key. */
#define KW_CONTROL_ABORT 0
#define KW_CONTROL_COMMIT 1

/* ---- entries ------------------------------------------------------------ */

/**
 * A record batch v2 header. The fields are decoded; `records` is the bytes
 * after the 61-byte header (compressed when the codec is not NONE) and has
 * not been checked: kw_record_iter does that.
 */
typedef struct kw_record_batch {
    int64_t base_offset;
    int32_t batch_length; /* bytes after this field */
    int32_t partition_leader_epoch;
    int8_t magic;         /* 2 */
    uint32_t crc;         /* CRC-32C of attributes .. end, as sent */
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;  /* -1 when none */
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count; /* as sent; may disagree with the records */
    kw_slice records;     /* bytes after the header */
    kw_slice raw;         /* the whole batch, base_offset to the end */
    size_t pos;           /* where raw starts, counted as error offsets are */
} kw_record_batch;

/**
 * One legacy message (magic 0 or 1), fully checked. For a compressed
 * message (a wrapper), `value` is the compressed inner message set; once
 * decompressed it is walked with kw_batch_iter again.
 */
typedef struct kw_legacy_message {
    int64_t offset;       /* for a wrapper: the offset of its last inner message */
    int32_t message_size; /* bytes after this field */
    uint32_t crc;         /* CRC-32 of magic .. end, as sent */
    int8_t magic;         /* 0 or 1 */
    int8_t attributes;
    int64_t timestamp;    /* magic 1 only; -1 (no timestamp) for magic 0 */
    kw_slice key;         /* ptr NULL for a null key */
    kw_slice value;       /* ptr NULL for a null value */
    kw_slice raw;         /* the whole message, offset to the end */
    size_t pos;           /* where raw starts, counted as error offsets are */
} kw_legacy_message;

/** One entry of a records field: a v2 batch or a legacy message. */
typedef struct kw_batch {
    int8_t magic; /* selects the union member: 2 -> v2, 0 or 1 -> legacy */
    union {
        kw_record_batch v2;
        kw_legacy_message legacy;
    };
    kw_slice raw; /* the whole entry, offset and length included */
    size_t pos;   /* where raw starts, counted as error offsets are */
} kw_batch;

/** kw_batch_iter flags. */
enum {
    /** Check each entry's CRC (CRC-32C for v2, CRC-32 for legacy). */
    KW_VERIFY_CRC = 1u,
};

/**
 * Walks the entries of a records field. Each entry's header is checked
 * (length, magic; the CRC with KW_VERIFY_CRC); legacy messages are checked
 * whole. A trailing entry cut short is not an error: Fetch responses may
 * end mid-batch. The walk then ends and kw_batch_iter_partial() says how
 * many bytes were left; a producer-side caller treats that as its error.
 */
typedef struct kw_batch_iter {
    const uint8_t *start; /* first byte of the records field */
    const uint8_t *pos;
    const uint8_t *end;
    size_t base;          /* added to every reported offset */
    unsigned flags;
    size_t partial;       /* trailing bytes of a cut-short entry, 0 if none */
    kw_error err;         /* latched; code KW_OK while none */
} kw_batch_iter;

/** Starts a walk; offsets are reported from the start of records. */
KW_API void kw_batch_iter_init(kw_batch_iter *it, kw_slice records, unsigned flags);

/**
 * Starts a walk whose error offsets (and kw_batch offsets) count from
 * base bytes before records, e.g. the records field's offset in its frame
 * (kw_batch.pos and the pos of the structs inside count the same way).
 * A null records slice is an empty walk.
 */
KW_API void kw_batch_iter_init_at(kw_batch_iter *it, kw_slice records, size_t base,
                                  unsigned flags);

/**
 * Next entry: 1 with *out filled, 0 at the end (check kw_batch_iter_partial),
 * -1 on an error (kw_batch_iter_error). Errors latch: later calls return -1.
 * Errors: BAD_BATCH_LENGTH (length negative or smaller than the format's
 * header), BAD_MAGIC, BAD_CRC; for legacy messages also NEGATIVE_LENGTH and
 * BAD_RECORD_LENGTH (key and value do not fill message_size exactly) and
 * UNEXPECTED_NULL (a compressed wrapper with a null value).
 */
KW_API int kw_batch_iter_next(kw_batch_iter *it, kw_batch *out);

/** Bytes of a trailing entry cut short (0 when the walk ended cleanly). */
static inline size_t kw_batch_iter_partial(const kw_batch_iter *it) { return it->partial; }

/** The latched error; code KW_OK while none. field is a static string. */
static inline kw_error kw_batch_iter_error(const kw_batch_iter *it) { return it->err; }

/* ---- record batch v2 ------------------------------------------------------ */

/**
 * Reads the header of the record batch v2 at the start of bytes into *out,
 * checking what a header can tell alone: magic 2, a batch_length that
 * covers the rest of the header, and all 61 header bytes present. The CRC
 * is not checked (kw_record_batch_verify_crc does that).
 *
 * bytes may end before the batch does (a header read from a file, say):
 * raw and records are then null slices, and kw_record_batch_size() tells
 * how many bytes the batch takes. When bytes hold the whole batch, raw and
 * records are filled as kw_batch_iter_next fills them; bytes after the
 * batch are not looked at. out->pos is base, and error offsets count from
 * it too.
 *
 * Errors: BAD_MAGIC (offset 16, field "magic"), BAD_BATCH_LENGTH (offset 8,
 * "batch_length"), each as soon as its field is in bytes; then TRUNCATED at
 * the first header field bytes cut short, which it names.
 */
KW_API kw_err kw_record_batch_read_header(kw_record_batch *out, kw_slice bytes, size_t base,
                                          kw_error *err);

/**
 * Bytes of the whole batch, base_offset to the end (12 + batch_length), of a
 * header that kw_record_batch_read_header or kw_batch_iter_next accepted.
 */
static inline size_t kw_record_batch_size(const kw_record_batch *b)
{
    return KW_ENTRY_OVERHEAD + (size_t)(uint32_t)b->batch_length;
}

/**
 * CRC-32C over attributes .. end of the batch, as it should be sent. 0 when
 * raw does not hold the batch (a header read alone).
 */
KW_API uint32_t kw_record_batch_compute_crc(const kw_record_batch *b);

/**
 * KW_OK when the crc field matches the bytes, else KW_ERR_BAD_CRC;
 * KW_ERR_TRUNCATED when raw does not hold the batch (a header read alone).
 */
KW_API kw_err kw_record_batch_verify_crc(const kw_record_batch *b);

/*
 * Setters patch a v2 batch in place: batch points at its base_offset and
 * len counts the bytes there. Each first checks the header as
 * kw_record_batch_read_header does (base 0; err may be NULL) and writes
 * nothing when that fails. Read the header again afterwards: a
 * kw_record_batch over the bytes still holds the old values.
 */

/**
 * Sets base_offset, as a broker does when it appends the batch to its log.
 * The field lies outside the CRC's coverage: the crc stays as it is.
 */
KW_API kw_err kw_record_batch_set_base_offset(uint8_t *batch, size_t len, int64_t base_offset,
                                              kw_error *err);

/** Sets partition_leader_epoch; outside the CRC's coverage too. */
KW_API kw_err kw_record_batch_set_partition_leader_epoch(uint8_t *batch, size_t len,
                                                         int32_t partition_leader_epoch,
                                                         kw_error *err);

/**
 * Sets producer_id, producer_epoch and base_sequence, which the CRC-32C
 * covers, and rewrites the crc. This needs the whole batch in len
 * (TRUNCATED at batch_length otherwise). The crc as sent must match first
 * (BAD_CRC at offset 17, nothing written), so a batch corrupted on its way
 * is never sealed again as if it were sound.
 */
KW_API kw_err kw_record_batch_set_producer(uint8_t *batch, size_t len, int64_t producer_id,
                                           int16_t producer_epoch, int32_t base_sequence,
                                           kw_error *err);

static inline kw_compression kw_record_batch_compression(const kw_record_batch *b)
{
    return (kw_compression)(b->attributes & KW_ATTR_COMPRESSION_MASK);
}

static inline kw_timestamp_type kw_record_batch_timestamp_type(const kw_record_batch *b)
{
    return (b->attributes & KW_ATTR_TIMESTAMP_TYPE) ? KW_TIMESTAMP_LOG_APPEND_TIME
                                                    : KW_TIMESTAMP_CREATE_TIME;
}

static inline bool kw_record_batch_is_transactional(const kw_record_batch *b)
{
    return (b->attributes & KW_ATTR_TRANSACTIONAL) != 0;
}

static inline bool kw_record_batch_is_control(const kw_record_batch *b)
{
    return (b->attributes & KW_ATTR_CONTROL) != 0;
}

static inline bool kw_record_batch_has_delete_horizon(const kw_record_batch *b)
{
    return (b->attributes & KW_ATTR_DELETE_HORIZON) != 0;
}

/**
 * base_offset + last_offset_delta into *out. Returns false (and leaves *out
 * alone) when the sum does not fit int64.
 */
KW_API bool kw_record_batch_last_offset(const kw_record_batch *b, int64_t *out);

/* ---- legacy messages ------------------------------------------------------ */

/** CRC-32 over magic .. end of the message, as it should be sent. */
KW_API uint32_t kw_legacy_message_compute_crc(const kw_legacy_message *m);

/** KW_OK when the crc field matches the bytes, else KW_ERR_BAD_CRC. */
KW_API kw_err kw_legacy_message_verify_crc(const kw_legacy_message *m);

static inline kw_compression kw_legacy_message_compression(const kw_legacy_message *m)
{
    return (kw_compression)(m->attributes & KW_ATTR_COMPRESSION_MASK);
}

/** Timestamp type; always CREATE_TIME for magic 0, which has no timestamps. */
static inline kw_timestamp_type kw_legacy_message_timestamp_type(const kw_legacy_message *m)
{
    return (m->magic >= 1 && (m->attributes & KW_ATTR_TIMESTAMP_TYPE))
               ? KW_TIMESTAMP_LOG_APPEND_TIME
               : KW_TIMESTAMP_CREATE_TIME;
}

/* ---- records of a v2 batch ---------------------------------------------- */

/**
 * One record, checked: its length matches its fields exactly, key and value
 * lie inside it, and its headers are well formed. Null key or value has
 * ptr NULL; empty has a non-NULL ptr and len 0.
 */
typedef struct kw_record {
    int32_t length; /* bytes after the length varint */
    int8_t attributes;
    int64_t timestamp_delta;
    int32_t offset_delta;
    kw_slice key;
    kw_slice value;
    int32_t header_count;
    kw_slice headers; /* the validated header bytes after the count */
    kw_slice raw;     /* the whole record, length varint included */
} kw_record;

/** One record header. The key is never null; a null value has ptr NULL. */
typedef struct kw_record_header {
    kw_slice key;
    kw_slice value;
} kw_record_header;

/**
 * Walks and validates the records of an uncompressed batch, one record per
 * call. The records must fill the region exactly and number record_count.
 */
typedef struct kw_record_iter {
    const uint8_t *base;  /* offsets count from here ... */
    size_t base_offset;   /* ... plus this */
    const uint8_t *pos;
    const uint8_t *end;
    int32_t count;        /* records promised */
    int32_t index;        /* records handed out */
    kw_error err;         /* latched; field points into path */
    char path[64];        /* "records[3].headers[1].key", built on error only */
} kw_record_iter;

/**
 * Starts a walk over b's records; offsets are reported as b's are.
 * A compressed batch latches COMPRESSED (decompress, then use
 * kw_record_iter_init_raw); a negative record_count latches RECORD_COUNT.
 * Either way kw_record_iter_next returns -1.
 */
KW_API void kw_record_iter_init(kw_record_iter *it, const kw_record_batch *b);

/**
 * Starts a walk over record bytes from anywhere (decompressed output, say)
 * that must hold exactly record_count records. Error offsets count from
 * records.ptr plus base_offset.
 */
KW_API void kw_record_iter_init_raw(kw_record_iter *it, kw_slice records, int32_t record_count,
                                    size_t base_offset);

/**
 * Next record: 1 with *out filled, 0 once record_count records were read
 * and no bytes are left, -1 on an error (kw_record_iter_error), which latches.
 * Errors: TRUNCATED (a record's length runs past the region),
 * BAD_RECORD_LENGTH (the fields do not fill the record's length exactly),
 * RECORD_COUNT (bytes left after record_count records, or too few records),
 * VARINT_TOO_LONG / VARINT_OVERFLOW, NEGATIVE_LENGTH (a length below -1),
 * UNEXPECTED_NULL (a null header key or header count -1),
 * COUNT_TOO_LARGE (a header count the record's bytes cannot hold).
 */
KW_API int kw_record_iter_next(kw_record_iter *it, kw_record *out);

/**
 * The latched error; code KW_OK while none. field names the record and
 * field ("records[3].key") and points into *it, so it lives as long as it.
 */
static inline kw_error kw_record_iter_error(const kw_record_iter *it) { return it->err; }

/**
 * The record's absolute offset, base_offset + offset_delta, into *out.
 * Returns false (and leaves *out alone) when it does not fit int64.
 */
KW_API bool kw_record_offset(const kw_record_batch *b, const kw_record *r, int64_t *out);

/**
 * The record's timestamp into *out: max_timestamp for a LOG_APPEND_TIME
 * batch, else base_timestamp + timestamp_delta. Returns false (and leaves
 * *out alone) when the sum does not fit int64.
 */
KW_API bool kw_record_timestamp(const kw_record_batch *b, const kw_record *r, int64_t *out);

/**
 * Reads the type of a control record (KW_CONTROL_ABORT, KW_CONTROL_COMMIT)
 * from its key: int16 version, int16 type. Returns KW_OK, UNEXPECTED_NULL
 * for a null key or TRUNCATED for a key shorter than 4 bytes.
 */
KW_API kw_err kw_record_control_type(const kw_record *r, int16_t *type);

/* ---- headers of a validated record ---------------------------------------- */

/** Walks the headers of a record that kw_record_iter_next returned. */
typedef struct kw_record_header_iter {
    const uint8_t *pos;
    const uint8_t *end;
} kw_record_header_iter;

/** Starts a header walk over r->headers. */
static inline void kw_record_header_iter_init(kw_record_header_iter *it, const kw_record *r)
{
    it->pos = r->headers.ptr;
    it->end = r->headers.ptr ? r->headers.ptr + r->headers.len : NULL;
}

/**
 * Next header; false at the end. Trusts the bytes: only for headers that
 * kw_record_iter_next validated, never for bytes from anywhere else.
 */
KW_API bool kw_record_header_iter_next_unchecked(kw_record_header_iter *it,
                                                 kw_record_header *out);

#ifdef __cplusplus
}
#endif

#endif /* KWIRE_RECORDS_H */
