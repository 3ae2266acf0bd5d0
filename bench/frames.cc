// The frames every case runs on, built once with kwire's own encoders from
// plain structs, and the baselines measured beside each case.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>

#include "bench_util.h"

namespace kwb {
namespace {

[[noreturn]] void die(const char *what, kw_err e)
{
    std::fprintf(stderr, "kwire-bench setup: %s: %s\n", what, kw_err_name(e));
    std::abort();
}

kw_slice slice_of(const std::vector<uint8_t> &s)
{
    kw_slice v;
    v.ptr = s.data();
    v.len = s.size();
    return v;
}

uint32_t next_random(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

// ---- record batch v2, written back to front with the kw_build_* primitives ----

const char kValueAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789{}\":, ";

kw_slice slice_of(const char *s, size_t n)
{
    kw_slice v;
    v.ptr = reinterpret_cast<const uint8_t *>(s);
    v.len = n;
    return v;
}

// n records: a 10-byte key, a 100-byte value and 1 or 2 headers each,
// written with kw_build_record_batch (record_builder.h).
std::vector<uint8_t> build_record_batch(int n)
{
    const size_t count = static_cast<size_t>(n);
    std::vector<char> text(count * 128);
    std::vector<kw_record_header> headers(count * 2);
    std::vector<kw_record_spec> records(count);
    uint32_t rnd = 0x9E3779B9u;
    for (size_t i = 0; i < count; i++) {
        char *key = &text[i * 128];     // 10 bytes
        char *trace = key + 16;         // 16 bytes
        char *value = key + 28;         // 100 bytes
        char buf[24];
        std::snprintf(buf, sizeof buf, "key-%06u", static_cast<unsigned>(i % 1000000u));
        std::memcpy(key, buf, 10);
        std::snprintf(buf, sizeof buf, "%016x", next_random(&rnd));
        std::memcpy(trace, buf, 16);
        for (size_t k = 0; k < 100; k++)
            value[k] = kValueAlphabet[next_random(&rnd) % (sizeof kValueAlphabet - 1)];
        kw_record_header *h = &headers[i * 2];
        h[0].key = slice_of("trace-id", 8);
        h[0].value = slice_of(trace, 16);
        h[1].key = slice_of("content-type", 12);
        h[1].value = slice_of("application/json", 16);
        kw_record_spec &r = records[i];
        r.timestamp_delta = static_cast<int64_t>(i);
        r.offset_delta = static_cast<int32_t>(i);
        r.attributes = 0;
        r.key = slice_of(key, 10);
        r.value = slice_of(value, 100);
        r.headers = h;
        r.header_count = 1 + static_cast<int32_t>(i & 1);
    }
    kw_batch_spec spec = kw_batch_spec_default();
    spec.base_timestamp = 1700000000000;
    kw_builder b;
    kw_builder_init_growable(&b, 1u << 20);
    const kw_err e = kw_build_record_batch(&b, &spec, records.data(), count);
    if (e != KW_OK)
        die("record batch", e);
    std::vector<uint8_t> out(kw_builder_size(&b));
    kw_builder_copy_out(&b, out.data(), out.size());
    kw_builder_free(&b);

    // The batch must read back whole, CRC included.
    kw_batch_iter it;
    kw_batch_iter_init(&it, slice_of(out), KW_VERIFY_CRC);
    kw_batch batch;
    if (kw_batch_iter_next(&it, &batch) != 1 || batch.magic != 2)
        die("record batch reads back", kw_batch_iter_error(&it).code);
    kw_record_iter ri;
    kw_record_iter_init(&ri, &batch.v2);
    kw_record rec;
    int seen = 0, rc;
    while ((rc = kw_record_iter_next(&ri, &rec)) == 1)
        seen++;
    if (rc != 0 || seen != n)
        die("records read back", kw_record_iter_error(&ri).code);
    return out;
}

template <typename Key>
using Cache = std::map<Key, std::unique_ptr<Message>>;

// Encodes the message once (a growable builder) to get the frame.
std::unique_ptr<Message> finish(kwb_msg *msg)
{
    if (!msg)
        die("message", KW_ERR_OUT_OF_MEMORY);
    auto m = std::make_unique<Message>(msg);
    kw_builder b;
    kw_builder_init_growable(&b, 1u << 20);
    const kw_err e = kwb_encode_frame(&b, msg);
    if (e != KW_OK)
        die(kwb_msg_name(msg), e);
    m->frame.resize(kw_builder_size(&b));
    kw_builder_copy_out(&b, m->frame.data(), m->frame.size());
    kw_builder_free(&b);
    return m;
}

} // namespace

Message::Message(kwb_msg *m)
    : msg(m), items(kwb_msg_items(m)), records_fields(kwb_msg_records_fields(m))
{
}

Message::~Message() { kwb_msg_free(msg); }

Shape shape_for(int partitions, int records)
{
    Shape s;
    s.topics = partitions >= 256 ? 16 : partitions >= 16 ? 4 : 1;
    s.parts_per_topic = partitions / s.topics;
    s.records = records;
    return s;
}

void record_shapes(benchmark::internal::Benchmark *b, bool with_crc)
{
    const bool smoke = std::getenv("KWIRE_BENCH_SMOKE") != nullptr;
    for (int crc = 0; crc <= (with_crc ? 1 : 0); crc++)
        for (int records : {1, 100, 1000})
            for (int partitions : {1, 16, 256}) {
                if (smoke && partitions == 256 && records == 1000)
                    continue;
                if (with_crc)
                    b->Args({partitions, records, crc});
                else
                    b->Args({partitions, records});
            }
    if (with_crc)
        b->ArgNames({"parts", "recs", "crc"});
    else
        b->ArgNames({"parts", "recs"});
}

const std::vector<uint8_t> &record_batch(int records)
{
    static std::map<int, std::vector<uint8_t>> cache;
    auto it = cache.find(records);
    if (it == cache.end())
        it = cache.emplace(records, build_record_batch(records)).first;
    return it->second;
}

const Message &produce_message(int16_t version, int partitions, int records)
{
    static Cache<std::tuple<int, int, int>> cache;
    auto &slot = cache[std::make_tuple(version, partitions, records)];
    if (!slot) {
        const Shape s = shape_for(partitions, records);
        slot = finish(kwb_produce_request_new(version, s.topics, s.parts_per_topic,
                                              slice_of(record_batch(records)), records));
    }
    return *slot;
}

const Message &fetch_response_message(int16_t version, int partitions, int records)
{
    static Cache<std::tuple<int, int, int>> cache;
    auto &slot = cache[std::make_tuple(version, partitions, records)];
    if (!slot) {
        const Shape s = shape_for(partitions, records);
        slot = finish(kwb_fetch_response_new(version, s.topics, s.parts_per_topic,
                                             slice_of(record_batch(records)), records));
    }
    return *slot;
}

const Message &metadata_response_message(int16_t version, int topics, int partitions)
{
    static Cache<std::tuple<int, int, int>> cache;
    auto &slot = cache[std::make_tuple(version, topics, partitions)];
    if (!slot)
        slot = finish(kwb_metadata_response_new(version, topics, partitions));
    return *slot;
}

const Message &fetch_request_message(int16_t version, int topics, int partitions)
{
    static Cache<std::tuple<int, int, int>> cache;
    auto &slot = cache[std::make_tuple(version, topics, partitions)];
    if (!slot)
        slot = finish(kwb_fetch_request_new(version, topics, partitions));
    return *slot;
}

const Message &fetch_response_empty_message(int16_t version, int topics, int partitions)
{
    static Cache<std::tuple<int, int, int>> cache;
    auto &slot = cache[std::make_tuple(version, topics, partitions)];
    if (!slot) {
        static const uint8_t nothing[1] = {0};
        kw_slice empty;
        empty.ptr = nothing;
        empty.len = 0;
        slot = finish(kwb_fetch_response_new(version, topics, partitions, empty, 0));
    }
    return *slot;
}

const Message &offset_commit_request_message(int16_t version, int topics, int partitions)
{
    static Cache<std::tuple<int, int, int>> cache;
    auto &slot = cache[std::make_tuple(version, topics, partitions)];
    if (!slot)
        slot = finish(kwb_offset_commit_request_new(version, topics, partitions));
    return *slot;
}

const Message &api_versions_request_message(int16_t version)
{
    static Cache<int> cache;
    auto &slot = cache[version];
    if (!slot)
        slot = finish(kwb_api_versions_request_new(version));
    return *slot;
}

const Message &api_versions_response_message(int16_t version)
{
    static Cache<int> cache;
    auto &slot = cache[version];
    if (!slot)
        slot = finish(kwb_api_versions_response_new(version));
    return *slot;
}

// ---- timing -----------------------------------------------------------------------

double thread_cpu_seconds()
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

namespace {
uint8_t *scratch(size_t n)
{
    static std::vector<uint8_t> buf;
    if (buf.size() < n) {
        buf.assign(n, 0); // touched now, not while timing
    }
    return buf.data();
}
} // namespace

namespace {

// Runs f up to max_iters times, stopping once it has used budget seconds
// of CPU time (after at least one run): a baseline much faster or slower
// than its case then costs no more time than the case itself.
template <typename F>
Timed run_capped(F f, int64_t max_iters, double budget)
{
    const double t0 = thread_cpu_seconds();
    int64_t done = 0;
    int64_t batch = 1;
    double elapsed = 0;
    while (done < max_iters) {
        const int64_t k = std::min(batch, max_iters - done);
        for (int64_t i = 0; i < k; i++)
            f();
        done += k;
        elapsed = thread_cpu_seconds() - t0;
        if (elapsed >= budget)
            break;
        batch *= 2;
    }
    return Timed{elapsed, done};
}

} // namespace

Timed time_memcpy(const uint8_t *src, size_t n, int64_t max_iters, double budget)
{
    uint8_t *dst = scratch(n);
    std::memcpy(dst, src, n); // warm, as the case's own first iteration was
    return run_capped(
        [&] {
            std::memcpy(dst, src, n);
            benchmark::DoNotOptimize(dst);
            benchmark::ClobberMemory();
        },
        max_iters, budget);
}

Timed time_crc32c(const uint8_t *src, size_t n, int64_t max_iters, double budget)
{
    return run_capped(
        [&] {
            uint32_t c = kw_crc32c(0, src, n);
            benchmark::DoNotOptimize(c);
        },
        max_iters, budget);
}

void report(benchmark::State &state, const LoopStats &loop, const uint8_t *bytes, size_t n,
            int64_t items_per_iter, bool crc_baseline)
{
    using benchmark::Counter;
    const int64_t iters = static_cast<int64_t>(state.iterations());
    state.SetBytesProcessed(iters * static_cast<int64_t>(n));
    state.SetItemsProcessed(iters * items_per_iter);
    state.counters["frame_bytes"] = Counter(static_cast<double>(n));
    if (iters == 0 || state.error_occurred())
        return;
    state.counters["allocs_per_iter"] = static_cast<double>(loop.allocs) / static_cast<double>(iters);
    const double rate = static_cast<double>(n) * static_cast<double>(iters) / loop.seconds;
    const Timed tm = time_memcpy(bytes, n, iters, loop.seconds);
    const double memcpy_rate = static_cast<double>(n) * static_cast<double>(tm.iters) / tm.seconds;
    state.counters["memcpy_Bps"] = Counter(memcpy_rate, Counter::kDefaults, Counter::kIs1024);
    state.counters["ratio_to_memcpy"] = rate / memcpy_rate;
    if (crc_baseline) {
        const Timed tc = time_crc32c(bytes, n, iters, loop.seconds);
        const double crc_rate = static_cast<double>(n) * static_cast<double>(tc.iters) / tc.seconds;
        state.counters["crc32c_Bps"] = Counter(crc_rate, Counter::kDefaults, Counter::kIs1024);
        state.counters["ratio_to_crc32c"] = rate / crc_rate;
    }
}

} // namespace kwb
