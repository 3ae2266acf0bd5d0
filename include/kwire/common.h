/*
 * kwire: shared types of every layer: the export macro, byte slices and the
 * one list of error codes.
 */
#ifndef KWIRE_COMMON_H
#define KWIRE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(KW_BUILDING_LIBRARY) && defined(__GNUC__)
#define KW_API __attribute__((visibility("default")))
#else
#define KW_API
#endif

#if defined(__GNUC__)
#define KW_LIKELY(x) __builtin_expect(!!(x), 1)
#define KW_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define KW_NOINLINE __attribute__((noinline))
#else
#define KW_LIKELY(x) (x)
#define KW_UNLIKELY(x) (x)
#define KW_NOINLINE
#endif

/**
 * A run of bytes inside the caller's buffer. A null string, bytes or array
 * payload has ptr == NULL; an empty one has a non-NULL ptr and len 0.
 */
typedef struct kw_slice {
    const uint8_t *ptr;
    size_t len;
} kw_slice;

/** True when the slice stands for a protocol null. */
static inline int kw_slice_is_null(kw_slice s) { return s.ptr == NULL; }

/** A UUID as its 16 bytes in wire order. */
typedef struct kw_uuid {
    uint8_t bytes[16];
} kw_uuid;

/*
 * Every error kwire reports: X(NAME, Kafka error code to answer with, message).
 * The Kafka code is what a broker should send back for a request that failed
 * this way (2 CORRUPT_MESSAGE, 35 UNSUPPORTED_VERSION, 42 INVALID_REQUEST;
 * -1 UNKNOWN_SERVER_ERROR where no protocol answer fits).
 */
#define KW_ERROR_LIST(X)                                                          \
    X(OK, 0, "no error")                                                          \
    X(TRUNCATED, 2, "the field needs more bytes than are left")                   \
    X(NEGATIVE_LENGTH, 42, "length is negative but not -1 (null)")                \
    X(UNEXPECTED_NULL, 42, "null where the field is not nullable")                \
    X(VARINT_TOO_LONG, 2, "varint runs past its maximum byte count")              \
    X(VARINT_OVERFLOW, 2, "varint value does not fit its type")                   \
    X(COUNT_TOO_LARGE, 42, "array count larger than the bytes left could hold")   \
    X(TAG_ORDER, 42, "tagged field tags are not strictly increasing")             \
    X(TRAILING_BYTES, 42, "bytes left over after the message or field")           \
    X(FRAME_NEGATIVE, 42, "frame size is negative")                               \
    X(FRAME_TOO_LARGE, 42, "frame size is over the configured maximum")           \
    X(UNKNOWN_API_KEY, 35, "API key is not one kwire knows")                      \
    X(UNSUPPORTED_VERSION, 35, "API version is outside the valid range")          \
    X(BAD_MAGIC, 2, "record batch magic byte is not 0, 1 or 2")                   \
    X(BAD_CRC, 2, "checksum does not match the bytes")                            \
    X(BAD_BATCH_LENGTH, 2, "record batch length is smaller than its header")      \
    X(BAD_RECORD_LENGTH, 2, "record length does not match its fields")            \
    X(RECORD_COUNT, 2, "record count does not match the records in the batch")    \
    X(COMPRESSED, 2, "records are compressed; iterate the decompressed bytes")           \
    X(COMPRESSION_UNSUPPORTED, 76, "compression codec not assigned or not in this build") \
    X(DECOMPRESS_FAILED, 2, "compressed bytes are corrupt or cut short")                 \
    X(DECOMPRESSED_TOO_LARGE, 10, "decompressed records do not fit the room given")     \
    X(NO_SPACE, -1, "the builder ran out of room for bytes or segments")                \
    X(TOO_LONG, 42, "value too long for its length field")                             \
    X(NEEDS_MATERIALIZE, -1, "array has no items and no view of this version")         \
    X(FILE_IN_CHECKSUM, -1, "a checksum cannot cover a file range")                    \
    X(OUT_OF_MEMORY, -1, "memory allocation failed")

/** Error codes. KW_OK is zero; every failure is non-zero. */
typedef enum kw_err {
#define KW_X_ENUM(name, kafka, msg) KW_ERR_##name,
    KW_ERROR_LIST(KW_X_ENUM)
#undef KW_X_ENUM
    KW_ERR_COUNT_
} kw_err;

#define KW_OK KW_ERR_OK

/**
 * A decode error: what went wrong, the byte offset from the start of the
 * buffer the reader was opened on, and the field, where the decoder knows it
 * (a static string such as "client_id"; NULL when unknown).
 */
typedef struct kw_error {
    kw_err code;
    size_t offset;
    const char *field;
} kw_error;

/** Short symbolic name of an error code ("TRUNCATED"). */
KW_API const char *kw_err_name(kw_err code);
/** One-line explanation of an error code. */
KW_API const char *kw_err_message(kw_err code);
/** The Kafka protocol error code a broker should answer with. */
KW_API int16_t kw_err_kafka_code(kw_err code);

#ifdef __cplusplus
}
#endif

#endif /* KWIRE_COMMON_H */
