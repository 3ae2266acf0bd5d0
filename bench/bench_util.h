// Shared pieces of the decode and encode cases: the frames they run on
// (built once, with kwire's own encoders), the allocation counter, and the
// side-by-side baselines (memcpy, raw CRC-32C) each case reports a ratio to.
#ifndef KWIRE_BENCH_UTIL_H
#define KWIRE_BENCH_UTIL_H

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

// Not kwire/kwire.h: kwire/cursor.h does not compile as C++ (kwire_side.h).
#include "kwire/api.h"
#include "kwire/builder.h"
#include "kwire/crc.h"
#include "kwire/record_builder.h"
#include "kwire/records.h"
#include "kwire_side.h"

namespace kwb {

// ---- allocations (alloc_count.cc) ------------------------------------------

// Allocations so far in this process: malloc, calloc, realloc (of the
// executable and of libkwire, linked statically, through --wrap) and every
// global operator new (replaced in alloc_count.cc).
uint64_t alloc_count();

// ---- shapes -------------------------------------------------------------------

// Partitions spread over topics: 1 -> 1x1, 16 -> 4x4, 256 -> 16x16.
struct Shape {
    int topics;
    int parts_per_topic;
    int records; // per batch; one batch per partition
};
Shape shape_for(int partitions, int records);

// Adds the record shapes as arguments {parts, recs[, crc]}: partitions 1, 16,
// 256 x records per batch 1, 100, 1000 (x CRC check off, on). With
// KWIRE_BENCH_SMOKE set in the environment (the bench-smoke test sets it)
// the 256 x 1000 shape (41 MB frames) is left out, so the smoke run stays
// short under sanitizers.
void record_shapes(benchmark::internal::Benchmark *b, bool with_crc);

// ---- a message as plain structs, and its frame ----------------------------------

// A message described the way a caller building one would (view structs
// whose arrays are items, kwire_side.c), and its frame as encoded once.
struct Message {
    explicit Message(kwb_msg *m);
    ~Message();
    Message(const Message &) = delete;
    Message &operator=(const Message &) = delete;
    kwb_msg *msg;
    int64_t items;              // records, partitions or keys: SetItemsProcessed
    size_t records_fields;      // segments a lending encode adds
    std::vector<uint8_t> frame; // size prefix + header + body
};

// Messages, built on first use and kept for the process.
const Message &produce_message(int16_t version, int partitions, int records);
const Message &fetch_response_message(int16_t version, int partitions, int records);
const Message &metadata_response_message(int16_t version, int topics, int partitions);
const Message &fetch_request_message(int16_t version, int topics, int partitions);
// FetchResponse whose partitions carry empty records (nothing new to fetch).
const Message &fetch_response_empty_message(int16_t version, int topics, int partitions);
const Message &offset_commit_request_message(int16_t version, int topics, int partitions);
const Message &api_versions_request_message(int16_t version);
const Message &api_versions_response_message(int16_t version);

// The v2 record batch every partition of a shape carries (records of a
// 10-byte key, a 100-byte value and 1 or 2 headers), built once per count.
const std::vector<uint8_t> &record_batch(int records);

// ---- timing beside the framework's ------------------------------------------------

// CPU time of this thread, the clock Google Benchmark's CPU column uses.
double thread_cpu_seconds();

// A baseline over the same bytes: up to max_iters memcpy of n bytes from
// src (into scratch memory touched beforehand), or kw_crc32c over them,
// stopping once budget CPU seconds are used; the seconds and the runs done.
struct Timed {
    double seconds;
    int64_t iters;
};
Timed time_memcpy(const uint8_t *src, size_t n, int64_t max_iters, double budget);
Timed time_crc32c(const uint8_t *src, size_t n, int64_t max_iters, double budget);

// What every case reports after its timed loop: bytes and items processed,
// allocations per iteration and, measured right after it over the same
// bytes (as many iterations, or as many as fit the loop's CPU time), the
// ratio of its rate to memcpy's (and to raw CRC-32C's when crc_baseline).
struct LoopStats {
    double seconds;  // CPU time of the timed loop
    uint64_t allocs; // allocations during the timed loop
};
void report(benchmark::State &state, const LoopStats &loop, const uint8_t *bytes, size_t n,
            int64_t items_per_iter, bool crc_baseline);

// ---- the conventional copying decoder (copying_decoder.cc) ---------------------

namespace copying {
struct ProduceRequest;
struct ProduceRequestDeleter {
    void operator()(ProduceRequest *p) const;
};
using ProducePtr = std::unique_ptr<ProduceRequest, ProduceRequestDeleter>;
// Decodes a whole ProduceRequest frame (size prefix, header, body, every
// batch and record) into heap structs; nullptr on malformed input.
ProducePtr decode_produce(const uint8_t *frame, size_t n, bool verify_crc);
// Touches every topic, partition, record and header: records seen, and a
// sum of key and value lengths into *sum.
int64_t walk(const ProduceRequest &req, uint64_t *sum);
} // namespace copying

// ---- the frames of the peer comparison (export_frames.cc) -----------------------

// Writes every frame the peers decode (bench/peers/) to dir, one file each,
// and dir/frames.jsonl: per frame its file, API key and version, the
// kwire-bench case that decodes it, and what kwire counts in it (topics,
// partitions, records, headers, API keys). 0 on success.
int export_frames(const char *dir);

} // namespace kwb

#endif
