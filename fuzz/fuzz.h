/*
 * Shared parts of the fuzz targets: how an input picks a message and a
 * version, the oracles (typed decoder vs walker vs JSON printer, a JSON
 * syntax checker, the no-allocation guard) and the input cap.
 *
 * Everything here aborts on a broken invariant: under libFuzzer or AFL++ an
 * abort() is a finding, under the replay runner a failed test.
 */
#ifndef KWIRE_FUZZ_H
#define KWIRE_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kwire/kwire.h"
#include "kwire/messages.h"

/** Inputs larger than this are skipped: no target needs more to reach its code. */
#define KWF_MAX_INPUT (1u << 20)

/** The entry point every target defines (libFuzzer's name and signature). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- picking a message from input bytes ---------------------------------
 * Raw selectors that are already valid keep their meaning (key 3 is
 * Metadata, version 12 is version 12), so seeds built from real frames read
 * naturally; anything else wraps around into the valid range, so every
 * value picks something and every (key, version) pair is reachable. */

/** raw if raw < n, else raw % n. n must be > 0. */
size_t kwf_pick_index(size_t n, uint32_t raw);

/** raw (as int16) if it lies in range, else range.lo + raw % (range.hi - range.lo + 1). */
int16_t kwf_pick_version(kw_versions range, uint16_t raw);

/**
 * The response and json targets: p[0..2) api key and p[2..4) version, both
 * int16 big-endian, mapped onto kw_api_table (key by kwf_pick_index, version
 * into the key's [min_version, max_version]).
 */
void kwf_pick_api(const uint8_t p[4], int16_t *api_key, int16_t *version);

/**
 * The metadata_records target: the messages of kind KW_MSG_RECORD,
 * KW_MSG_DATA and KW_MSG_HEADER in kw_messages() order; *count gets how many.
 */
const kw_message_info *const *kwf_metadata_messages(size_t *count);

/** The metadata_records target: p[0] picks the message, p[1] the version. */
const kw_message_info *kwf_pick_metadata(const uint8_t p[2], int16_t *version);

/** The json target: p[0..2) (uint16 BE) picks any message of kw_messages(), p[2..4) its version. */
const kw_message_info *kwf_pick_any(const uint8_t p[4], int16_t *version);

/* ---- the no-allocation guard --------------------------------------------
 * Fuzz executables link with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
 * (alloc_guard.c). Between kwf_no_alloc_begin() and kwf_no_alloc_end() any
 * allocation on this thread aborts at the allocation, so the report shows
 * the stack of the call that allocated. */

void kwf_no_alloc_begin(void);
void kwf_no_alloc_end(void);

/* ---- the oracles ------------------------------------------------------- */

/** Prints "kwire fuzz: <what>" and a formatted reason to stderr, then abort()s. */
#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 1, 2)))
#endif
void kwf_fail(const char *fmt, ...);

/**
 * Checks a typed decode against the walker and the JSON printer. start is
 * the reader as it was before the decode, code/err what the decode returned
 * (m NULL: the key was unknown, so code must be UNKNOWN_API_KEY). Walks the
 * same bytes with kw_walk (then expects the end, as the decoder does) and
 * renders them with kw_json_write_message into a JSON checker: code, offset
 * and path must agree, the JSON must be a valid prefix, and complete when
 * the walk succeeded. json_flags are KW_JSON_* flags. Returns code.
 */
kw_err kwf_check_message(const kw_message_info *m, int16_t version, const kw_reader *start,
                         kw_err code, const kw_decode_error *err, unsigned json_flags);

/**
 * Walks a records field twice with kw_batch_iter, without and then with
 * KW_VERIFY_CRC, and every uncompressed v2 batch with kw_record_iter and its
 * headers, checking what records.h promises: entries are contiguous and
 * inside the field, slices lie inside their entry, counts match, errors
 * latch, the CRC pass agrees with the plain pass up to its first BAD_CRC.
 * base is added to offsets as kw_batch_iter_init_at does.
 */
void kwf_check_records(kw_slice records, size_t base);

/* ---- a streaming JSON syntax checker ------------------------------------
 * Strict RFC 8259 grammar, fed in pieces (a kw_json_write_fn), including
 * UTF-8 validity inside strings. It remembers the first error; a document
 * cut short is still "valid so far". */

#define KWF_JSON_DEPTH 256

typedef struct kwf_json {
    int state;
    int after_string; /* state to take when the current string ends */
    int hex_left;     /* hex digits left in a \u escape */
    int utf8_left;    /* continuation bytes left in a UTF-8 sequence */
    uint8_t utf8_lo, utf8_hi; /* allowed range of the next continuation byte */
    const char *literal; /* true / false / null being matched */
    int literal_pos;
    size_t depth;
    char stack[KWF_JSON_DEPTH]; /* '{' or '[' */
    size_t bytes;     /* bytes seen */
    bool failed;
    size_t fail_at;   /* byte offset of the first error */
} kwf_json;

void kwf_json_init(kwf_json *j);
/** A kw_json_write_fn: ctx is a kwf_json. */
void kwf_json_feed(void *ctx, const char *data, size_t len);
/** True when no byte so far broke the grammar. */
bool kwf_json_ok_so_far(const kwf_json *j);
/** True when the bytes so far form exactly one complete JSON value. */
bool kwf_json_complete(const kwf_json *j);

#endif /* KWIRE_FUZZ_H */
