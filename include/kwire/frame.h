/*
 * kwire framing: every Kafka request and response travels as an int32
 * big-endian size followed by that many bytes. kw_frame_split finds one
 * frame at the start of a stream buffer without copying it.
 */
#ifndef KWIRE_FRAME_H
#define KWIRE_FRAME_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Kafka's default socket.request.max.bytes: 100 MiB. */
#define KW_FRAME_MAX_DEFAULT (100u * 1024u * 1024u)

/** Size of the length prefix in front of every frame. */
#define KW_FRAME_PREFIX 4u

typedef enum kw_frame_status {
    KW_FRAME_INVALID = -1,  /* size negative or over the maximum: close the stream */
    KW_FRAME_NEED_MORE = 0, /* not all bytes are here yet */
    KW_FRAME_COMPLETE = 1,  /* body and total are set */
} kw_frame_status;

/** Where a frame lies in the caller's buffer. */
typedef struct kw_frame {
    const uint8_t *body; /* the size bytes after the prefix (COMPLETE only) */
    size_t size;         /* body size, known once the prefix is in (0 before) */
    size_t total;        /* KW_FRAME_PREFIX + size: bytes the frame takes;
                            with NEED_MORE, bytes to have buffered (4 until
                            the prefix is in) */
    kw_err err;          /* with INVALID: FRAME_NEGATIVE or FRAME_TOO_LARGE */
} kw_frame;

/**
 * Looks for one frame at the start of buf[0..len). max_size bounds the body
 * (0 means KW_FRAME_MAX_DEFAULT) and is checked as soon as the four prefix
 * bytes are in, before the caller buffers or allocates for the body.
 */
KW_API kw_frame_status kw_frame_split(const void *buf, size_t len, size_t max_size,
                                      kw_frame *out);

#ifdef __cplusplus
}
#endif

#endif /* KWIRE_FRAME_H */
