/*
 * kwire headers: the request header (versions 0, 1, 2) in front of every
 * request and the response header (versions 0, 1) in front of every
 * response, read in place from a kw_reader and written back to front.
 *
 *   request v0:  api_key int16, api_version int16, correlation_id int32
 *   request v1:  v0 + client_id (int16-length nullable string)
 *   request v2:  v1 + tagged fields; client_id keeps its int16 length
 *   response v0: correlation_id int32
 *   response v1: v0 + tagged fields
 *
 * Which version a message uses depends on its API key and version; see
 * kw_request_header_version() and kw_response_header_version() in api.h.
 */
#ifndef KWIRE_HEADER_H
#define KWIRE_HEADER_H

#include "builder.h"
#include "common.h"
#include "cursor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A request header as it lies in the buffer; slices point into it. */
typedef struct kw_request_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    kw_slice client_id;      /* v1+, nullable (ptr NULL); null in v0 */
    kw_tagged_fields tagged; /* v2 only; empty (count 0, ptr NULL) before */
    int8_t header_version;   /* 0, 1 or 2: the layout that was read */
} kw_request_header;

/** A response header as it lies in the buffer. */
typedef struct kw_response_header {
    int32_t correlation_id;
    kw_tagged_fields tagged; /* v1 only; empty (count 0, ptr NULL) in v0 */
    int8_t header_version;   /* 0 or 1 */
} kw_response_header;

/*
 * Error reporting, common to the readers below. On success they return
 * KW_OK, leave *err untouched and leave r on the first byte after the header.
 * On failure they return the error code, latch it in r (the cursor rules:
 * first error wins), and, when err is not NULL, fill err with the code, the
 * byte offset from r's base and the field that failed: "api_key",
 * "api_version", "correlation_id", "client_id" or "tagged_fields" (NULL when
 * r had already failed before the call). Fields of *out before the failing
 * one hold what was read; the rest hold zero values.
 */

/**
 * Reads a request header of the given version (0, 1 or 2). Any other
 * header_version, such as the -1 kw_request_header_version() returns for an
 * unknown key, fails with UNSUPPORTED_VERSION, field "header_version", at
 * the reader's current offset.
 */
KW_API kw_err kw_request_header_read(kw_reader *r, int header_version, kw_request_header *out,
                                     kw_error *err);

/**
 * Reads a request header whose version follows from its own api_key and
 * api_version, as a broker does. An unknown api_key fails with
 * UNKNOWN_API_KEY at the key's offset, field "api_key"; out then still holds
 * api_key, api_version and correlation_id as far as the bytes reach (they sit
 * at the same place in every header version), with header_version -1.
 *
 * A known key with a version outside its valid range is parsed by the
 * flexible threshold alone and succeeds, so the caller can answer
 * UNSUPPORTED_VERSION with the right correlation id: check the version with
 * kw_api_version_supported().
 */
KW_API kw_err kw_request_header_parse(kw_reader *r, kw_request_header *out, kw_error *err);

/**
 * Reads a response header of the given version (0 or 1); any other version
 * fails with UNSUPPORTED_VERSION, field "header_version", at the reader's
 * current offset.
 */
KW_API kw_err kw_response_header_read(kw_reader *r, int header_version, kw_response_header *out,
                                      kw_error *err);

/**
 * Writes a request header of the given version (0, 1 or 2) in front of what
 * b holds: client_id (v1+, ptr NULL for null) and, in v2, h's tagged fields
 * as they were read (none: count 0). Returns b's error; another version
 * latches UNSUPPORTED_VERSION. kw_build_request_frame (messages.h) writes a
 * whole frame: size, header and body.
 */
KW_API kw_err kw_build_request_header(kw_builder *b, int header_version, const kw_request_header *h);

/** The same for a response header (0 or 1). */
KW_API kw_err kw_build_response_header(kw_builder *b, int header_version,
                                       const kw_response_header *h);

/**
 * Starts a response frame around a body built back to front: returns the
 * mark to hand to kw_build_response_frame_end. Write the body after this
 * call, then end the frame.
 */
static inline size_t kw_build_response_frame_begin(const kw_builder *b)
{
    return kw_builder_size(b);
}

/**
 * Ends the frame begun at mark: writes, in front of the body built since,
 * the response header for a request of api_key at version (the version
 * kw_response_header_version gives, v1 with an empty tagged section) with
 * correlation_id, then the int32 size of header and body. Returns b's
 * error; an unknown key latches UNKNOWN_API_KEY. kw_build_response_frame
 * (messages.h) does the same for a typed view in one call.
 */
KW_API kw_err kw_build_response_frame_end(kw_builder *b, size_t mark, int16_t api_key,
                                          int16_t version, int32_t correlation_id);

#ifdef __cplusplus
}
#endif

#endif /* KWIRE_HEADER_H */
