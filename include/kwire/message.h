/*
 * kwire messages: the runtime under the generated views of every request,
 * response and embedded structure (kwire/messages.h).
 *
 * A generated decode function validates the whole message in one walk and
 * fills a view struct: scalars as members, strings and bytes as slices into
 * the buffer, arrays as kw_array windows that iterators walk again on
 * demand. Nothing is copied or allocated.
 *
 * Beside the typed views, every message has a description (kw_message_info)
 * that a generic walker follows: it renders messages as JSON, names the
 * field path of an error, and lets tools visit any message without knowing
 * its type at compile time.
 */
#ifndef KWIRE_MESSAGE_H
#define KWIRE_MESSAGE_H

#include "builder.h"
#include "cursor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- arrays ------------------------------------------------------------ */

/** Element types of arrays, and field types in descriptions. */
typedef enum kw_type {
    KW_TYPE_BOOL,
    KW_TYPE_INT8,
    KW_TYPE_INT16,
    KW_TYPE_UINT16,
    KW_TYPE_INT32,
    KW_TYPE_INT64,
    KW_TYPE_FLOAT64,
    KW_TYPE_UUID,
    KW_TYPE_STRING,
    KW_TYPE_BYTES,
    KW_TYPE_RECORDS,
    KW_TYPE_STRUCT,
} kw_type;

/**
 * An array of a message, in one of two forms:
 * - a view: count validated elements on the wire between ptr and end, as
 *   a decode leaves them (items NULL);
 * - items: a C array of count elements (the element view structs, or
 *   int32_t, int64_t, kw_slice, kw_uuid ... for primitive elements), as a
 *   caller building a message, or kw_*_materialize, sets it.
 * count is -1 for a null array.
 */
typedef struct kw_array {
    int32_t count;
    int16_t version;      /* version of the message, for struct elements */
    uint8_t flexible;     /* elements use compact encodings */
    uint8_t elem_type;    /* kw_type of the elements */
    const uint8_t *base;  /* start of the decoded buffer, for offsets */
    const uint8_t *ptr;   /* first element */
    const uint8_t *end;   /* one past the last element */
    const void *items;    /* the elements as C values, when set */
} kw_array;

/** An array given as items: count elements at items (count -1: null). */
static inline kw_array kw_array_of(const void *items, int32_t count)
{
    kw_array a;
    memset(&a, 0, sizeof a);
    a.count = count;
    a.items = items;
    return a;
}

/**
 * Memory for kw_*_materialize: a caller buffer handed out in pieces.
 * Nothing is freed piecewise; reset used to 0 to reuse it. When it runs
 * out, failed counts the refusals and wanted says how much would have fit.
 */
typedef struct kw_arena {
    uint8_t *buf;
    size_t cap;
    size_t used;
    size_t wanted; /* bytes asked for in all, granted or not */
    size_t failed;
} kw_arena;

/** An arena over len bytes at buf. */
KW_API void kw_arena_init(kw_arena *a, void *buf, size_t len);
/** n bytes aligned to align (a power of two), or NULL when they do not fit. */
KW_API void *kw_arena_alloc(kw_arena *a, size_t n, size_t align);

/** Walks the elements of a kw_array. */
typedef struct kw_array_iter {
    kw_reader r;
    int32_t left;
    int16_t version;
    uint8_t flexible;
} kw_array_iter;

/** True when the array is null (as opposed to empty). */
static inline bool kw_array_is_null(const kw_array *a) { return a->count < 0; }
/** Number of elements; 0 for a null array. */
static inline int32_t kw_array_len(const kw_array *a) { return a->count < 0 ? 0 : a->count; }

/** Starts a walk over the elements of a. */
KW_API void kw_array_iter_init(kw_array_iter *it, const kw_array *a);
/* Next element of an array of that type; false at the end. */
KW_API bool kw_array_next_bool(kw_array_iter *it, bool *out);
KW_API bool kw_array_next_i8(kw_array_iter *it, int8_t *out);
KW_API bool kw_array_next_i16(kw_array_iter *it, int16_t *out);
KW_API bool kw_array_next_i32(kw_array_iter *it, int32_t *out);
KW_API bool kw_array_next_i64(kw_array_iter *it, int64_t *out);
KW_API bool kw_array_next_uuid(kw_array_iter *it, kw_uuid *out);
KW_API bool kw_array_next_string(kw_array_iter *it, kw_slice *out);
/** Element i of an array of int32 (fixed size: random access), 0 if out of range. */
KW_API int32_t kw_array_get_i32(const kw_array *a, int32_t i);

/* ---- descriptions ------------------------------------------------------ */

/** Versions from lo to hi inclusive; lo > hi for none. */
typedef struct kw_versions {
    int16_t lo, hi;
} kw_versions;

static inline bool kw_versions_has(kw_versions r, int16_t v) { return v >= r.lo && v <= r.hi; }

struct kw_struct_info;

/** One field as the definitions give it. */
typedef struct kw_field_info {
    const char *name;
    uint8_t type;                      /* kw_type of the field or of its elements */
    uint8_t is_array;
    uint8_t never_flexible;            /* keeps classic encoding in flexible versions */
    uint8_t ignorable;
    kw_versions versions;              /* present in */
    kw_versions nullable;              /* may be null in */
    kw_versions tagged;                /* travels as a tagged field in */
    int32_t tag;                       /* its tag, -1 when never tagged */
    const struct kw_struct_info *sub;  /* struct type (KW_TYPE_STRUCT) */
    const char *default_value;         /* as written in the definition; NULL: zero */
    int64_t default_int;               /* default_value of an integer or bool (1/0); 0 otherwise */
    uint8_t default_null;              /* default_value is "null" */
} kw_field_info;

/** A struct: its fields in wire order. */
typedef struct kw_struct_info {
    const char *name;
    const kw_field_info *fields;
    uint16_t field_count;
} kw_struct_info;

typedef enum kw_message_kind {
    KW_MSG_REQUEST,
    KW_MSG_RESPONSE,
    KW_MSG_HEADER,
    KW_MSG_DATA,
    KW_MSG_RECORD, /* KRaft metadata log record */
} kw_message_kind;

struct kw_decode_error;

/** A message: name, kind, versions, the root struct and its typed decoder. */
typedef struct kw_message_info {
    const char *name;       /* "ProduceRequest" */
    uint8_t kind;           /* kw_message_kind */
    int16_t api_key;        /* API key, or record type for KW_MSG_RECORD; -1 otherwise */
    kw_versions versions;   /* valid versions */
    int16_t first_flexible; /* -1 when never flexible */
    const kw_struct_info *root;
    /** The generated decoder; view points at the message's view struct. */
    kw_err (*decode)(kw_reader *r, int16_t version, void *view, struct kw_decode_error *err);
    size_t view_size;       /* sizeof the view struct */
    /** The generated encoder: writes the view back to front. */
    kw_err (*encode)(kw_builder *b, int16_t version, const void *view);
    /** Turns every array window of a view into items from the arena. */
    kw_err (*materialize)(void *view, kw_arena *arena);
    /** The generated kw_*_init: every field of the view at its definition's default. */
    void (*init)(void *view);
} kw_message_info;

/** Every message kwire knows, and how many (*count). */
KW_API const kw_message_info *const *kw_messages(size_t *count);
/** The request (response = false) or response of an API key; NULL if unknown. */
KW_API const kw_message_info *kw_message_for_api(int16_t api_key, bool response);
/** A message by name ("ProduceRequest", "TopicRecord"); NULL if unknown. */
KW_API const kw_message_info *kw_message_by_name(const char *name);

/* ---- KRaft metadata log records ------------------------------------------ */

/** The frame version Kafka writes in front of a metadata record; 0 and 1 are read. */
#define KW_METADATA_FRAME_VERSION 1

/** The KRaft metadata record of a record type (2: TopicRecord); NULL if unknown. */
KW_API const kw_message_info *kw_message_for_record_type(int16_t type);

/**
 * Writes a metadata log record value back to front in front of what b holds:
 * m's view at version, then in front of it the unsigned varint frame version
 * (KW_METADATA_FRAME_VERSION), record type (m->api_key) and record version.
 * Returns b's error; UNKNOWN_API_KEY (latched) when m is not a KRaft record,
 * UNSUPPORTED_VERSION for a version m does not define.
 */
KW_API kw_err kw_build_metadata_record(kw_builder *b, const kw_message_info *m, int16_t version,
                                       const void *view);

struct kw_message;

/**
 * Reads a whole metadata log record value from r: the frame, then the record
 * of the type it names into out (a kw_message of kwire/messages.h; out->info
 * tells which, kw_message_version(out) which version). Errors: the frame's
 * varints' own, UNSUPPORTED_VERSION for a frame version over 1 or a record
 * version the type does not define, UNKNOWN_API_KEY for an unknown record
 * type (err->path "frame.version", "frame.type", "frame.record_version"),
 * then the record's, as kw_message_decode gives them.
 */
KW_API kw_err kw_read_metadata_record(kw_reader *r, struct kw_message *out,
                                      struct kw_decode_error *err);

/* ---- default and error messages ----------------------------------------- */

/**
 * Writes, in front of what b holds, message m at version with every field
 * at its definition's default and every top-level error_code field set to
 * error_code (0: the all-defaults message). Arrays are empty, or null where
 * the definition's default is null; nullable structs are null; flexible
 * versions have empty tagged sections. Returns b's error; a NULL m latches
 * UNKNOWN_API_KEY, a version outside m's valid range UNSUPPORTED_VERSION,
 * and nothing is written.
 */
KW_API kw_err kw_build_default_message(kw_builder *b, const kw_message_info *m, int16_t version,
                                       int16_t error_code);

/**
 * The body of the error response to a request of api_key at version:
 * kw_build_default_message of the key's response. This is the simple,
 * always well-formed answer to a request a server does not serve or cannot
 * read; the per-topic and per-partition errors Kafka mirrors from some
 * requests (Produce, OffsetCommit, ...) are not written, as their arrays
 * stay empty, and a response without a top-level error_code in that
 * version (see kw_message_has_error_code) carries no error at all.
 */
KW_API kw_err kw_build_error_response(kw_builder *b, int16_t api_key, int16_t version,
                                      int16_t error_code);

/**
 * True when m at version has a top-level error_code field sent in line
 * (not tagged); false for a NULL m or a version outside its valid range.
 */
KW_API bool kw_message_has_error_code(const kw_message_info *m, int16_t version);

/* ---- the generic walker ------------------------------------------------- */

/** A scalar or slice value handed to a visitor. */
typedef struct kw_value {
    uint8_t type;   /* kw_type */
    bool is_null;   /* strings, bytes, records, arrays, structs */
    union {
        bool b;
        int64_t i;  /* every integer type */
        double f;
        kw_uuid uuid;
        kw_slice s; /* string, bytes, records */
    } u;
} kw_value;

/**
 * Callbacks of kw_walk; any may be NULL. field is the field's description
 * (NULL for array elements); index is the element index inside an array,
 * -1 otherwise. array_begin gets count -1 for a null array, and then no
 * array_end follows; likewise struct_begin with is_null true has no
 * struct_end. Returning non-zero from a callback stops the walk.
 */
typedef struct kw_visitor {
    int (*value)(void *ctx, const kw_field_info *field, int32_t index, const kw_value *v);
    int (*struct_begin)(void *ctx, const kw_field_info *field, int32_t index, bool is_null);
    int (*struct_end)(void *ctx, const kw_field_info *field, int32_t index);
    int (*array_begin)(void *ctx, const kw_field_info *field, int32_t count);
    int (*array_end)(void *ctx, const kw_field_info *field);
    /** A tagged field the definitions do not know for this version. */
    int (*unknown_tag)(void *ctx, uint32_t tag, kw_slice data);
} kw_visitor;

/** Room for a field path such as ".topic_data[0].partition_data[2].records". */
#define KW_PATH_MAX 256

/**
 * A message decode error: what (code), where (byte offset from the start
 * of the reader's buffer), in which message and version, and the path of
 * the field (".topic_data[0].partition_data[2].records"; "" for the
 * message's own tagged fields or when the message could not start).
 */
typedef struct kw_decode_error {
    kw_err code;
    size_t offset;
    const kw_message_info *message;
    int16_t version;
    char path[KW_PATH_MAX];
} kw_decode_error;

/**
 * Formats an error as "ProduceRequest v9 .topic_data[0].records: TRUNCATED
 * (the field needs more bytes than are left) at byte 57" into buf; returns
 * what snprintf returns.
 */
KW_API int kw_decode_error_format(const kw_decode_error *err, char *buf, size_t cap);

/**
 * Walks a message of the given version from r, calling the visitor (vis
 * may be NULL to only validate). On failure returns the error code and
 * fills err (may be NULL). A visitor that stops the walk gets KW_OK back
 * with r left where it stopped.
 */
KW_API kw_err kw_walk(const kw_message_info *m, int16_t version, kw_reader *r,
                      const kw_visitor *vis, void *ctx, kw_decode_error *err);

/**
 * Fills err (may be NULL) for a decode of m that failed: re-walks from
 * start (the reader as it was before the decode began) to find the field
 * path; code and offset are those of failed (the reader after the failed
 * decode). Generated decoders call it on their error path only, so success
 * pays nothing for paths.
 */
KW_API void kw_message_diagnose(const kw_message_info *m, int16_t version, const kw_reader *start,
                                const kw_reader *failed, kw_decode_error *err);

/** Next tagged field of a validated section that s does not know in version. */
KW_API bool kw_tag_iter_next_unknown(kw_tag_iter *it, const kw_struct_info *s, int16_t version,
                                     kw_tagged_field *out);

#ifdef __cplusplus
}
#endif

#endif /* KWIRE_MESSAGE_H */
