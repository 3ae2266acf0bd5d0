/*
 * The kwire side of the benchmarks, in C: messages described as plain
 * structs (items arrays) and encoded with the generated encoders, and the
 * decode walks the cases time. C because the C++ cases cannot include
 * <kwire/messages.h> yet: kwire/cursor.h (static const uint8_t empty[1],
 * no initializer) does not compile as C++. The harness includes only this
 * header and the kwire headers that do not pull in cursor.h.
 */
#ifndef KWIRE_BENCH_KWIRE_SIDE_H
#define KWIRE_BENCH_KWIRE_SIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kwire/builder.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A message as plain structs, ready to encode; owns its storage. */
typedef struct kwb_msg kwb_msg;

/* Messages. Partitions are spread over topics (topics x per_topic); every
 * partition of a produce request or fetch response carries `batch`, which
 * the caller keeps alive. NULL when memory runs out. */
kwb_msg *kwb_produce_request_new(int16_t version, int topics, int per_topic, kw_slice batch,
                                 int64_t records_per_batch);
kwb_msg *kwb_fetch_response_new(int16_t version, int topics, int per_topic, kw_slice batch,
                                int64_t records_per_batch);
kwb_msg *kwb_metadata_response_new(int16_t version, int topics, int per_topic);
kwb_msg *kwb_fetch_request_new(int16_t version, int topics, int per_topic);
kwb_msg *kwb_api_versions_request_new(int16_t version);
kwb_msg *kwb_api_versions_response_new(int16_t version);
kwb_msg *kwb_offset_commit_request_new(int16_t version, int topics, int per_topic);
void kwb_msg_free(kwb_msg *m);

/** Records, partitions or API keys: what a walk of the message counts. */
int64_t kwb_msg_items(const kwb_msg *m);
/** Records fields in the message (segments a lending encode adds). */
size_t kwb_msg_records_fields(const kwb_msg *m);
/** Lends (true) or copies (false) the record bytes of every records field when encoding. */
void kwb_msg_lend_records(kwb_msg *m, bool lend);
const char *kwb_msg_name(const kwb_msg *m);

/** Writes the whole frame back to front: body, header, size prefix. */
kw_err kwb_encode_frame(kw_builder *b, const kwb_msg *m);

/*
 * Walks: decode the frame (size prefix, header, body) and visit everything
 * in it; for records every batch (kw_batch_iter with batch_flags), record
 * and header. Key, value and name lengths are added to *sum. Each returns
 * the items it saw (records, partitions, API keys), or -1 on an error.
 */
int64_t kwb_walk_produce_request(const uint8_t *frame, size_t n, unsigned batch_flags,
                                 uint64_t *sum);
int64_t kwb_walk_fetch_response(const uint8_t *frame, size_t n, int16_t version,
                                unsigned batch_flags, uint64_t *sum);
int64_t kwb_walk_metadata_response(const uint8_t *frame, size_t n, int16_t version,
                                   uint64_t *sum);
int64_t kwb_walk_fetch_request(const uint8_t *frame, size_t n, uint64_t *sum);
int64_t kwb_walk_api_versions_request(const uint8_t *frame, size_t n, uint64_t *sum);
int64_t kwb_walk_api_versions_response(const uint8_t *frame, size_t n, int16_t version,
                                       uint64_t *sum);

int64_t kwb_walk_offset_commit_request(const uint8_t *frame, size_t n, uint64_t *sum);

/* What a frame holds, counted by kwire (the peers' smoke check compares
 * their own counts with these). Records fields are read with CRC-32C
 * checked. False on a decode error. */
typedef struct kwb_counts {
    int64_t topics, partitions, batches, records, headers;
} kwb_counts;
bool kwb_count_produce_request(const uint8_t *frame, size_t n, kwb_counts *c);
bool kwb_count_fetch_response(const uint8_t *frame, size_t n, int16_t version, kwb_counts *c);

#ifdef __cplusplus
}
#endif

#endif
