/*
 * kwire JSON printer: renders any described message, and record batches, as
 * JSON. Strings print as JSON strings, bytes as hex, UUIDs in Kafka's
 * base64 form, records per batch with each record's key, value and headers
 * (UTF-8 text where printable, {"hex": "..."} otherwise).
 */
#ifndef KWIRE_JSON_H
#define KWIRE_JSON_H

#include "message.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where the printer's output goes, in pieces. */
typedef void (*kw_json_write_fn)(void *ctx, const char *data, size_t len);

/** kw_json_* flags. */
enum {
    /** Decode records fields into batches and records (else print them as hex). */
    KW_JSON_RECORDS = 1u,
    /** Check each batch's CRC and print "crc_ok". */
    KW_JSON_VERIFY_CRC = 2u,
    /**
     * Decompress compressed batches (with the codecs this build has) and
     * print their records. The one case where the printer allocates: a
     * buffer per batch, growing to at most KW_JSON_DECOMPRESS_MAX.
     */
    KW_JSON_DECOMPRESS = 4u,
};

/** Most bytes one batch may decompress to when printing. */
#define KW_JSON_DECOMPRESS_MAX (64u * 1024u * 1024u)

/**
 * Writes the message m of the given version, read from r, as one JSON
 * object. On a decode error the output stops where the error was (it is
 * not valid JSON then); the error is returned and err (may be NULL) says
 * where. Callers that want all-or-nothing decode first.
 */
KW_API kw_err kw_json_write_message(const kw_message_info *m, int16_t version, kw_reader *r,
                                    unsigned flags, kw_json_write_fn write, void *ctx,
                                    kw_decode_error *err);

/**
 * Writes the bytes of a records field as a JSON object: its size, its
 * batches, the bytes of a trailing partial batch, and any error found.
 * base is the offset of records in its frame, for error offsets.
 */
KW_API void kw_json_write_records(kw_slice records, size_t base, unsigned flags,
                                  kw_json_write_fn write, void *ctx);

/** Writes s as a JSON string (null for a null slice), escaping as needed. */
KW_API void kw_json_write_string(kw_slice s, kw_json_write_fn write, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* KWIRE_JSON_H */
