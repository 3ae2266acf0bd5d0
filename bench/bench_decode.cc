// Decode cases: each decodes a whole frame (size prefix, header, body) and
// walks everything in it: every topic and partition, and for records every
// batch (kw_batch_iter, CRC-32C checked or not), record and header, adding
// up key and value lengths so nothing can be optimized away. Beside each
// case the same bytes are memcpy'd (and CRC-32C'd) for as many iterations:
// ratio_to_memcpy and ratio_to_crc32c are rates over those baselines.
#include <cstdlib>
#include <string>

#include "bench_util.h"

namespace kwb {
namespace {

// ---- the timed loop ----------------------------------------------------------------

// Runs walk over the frame once untimed (a check that it sees every item,
// and a warm-up), then in the timed loop; reports.
template <typename Walk>
void run_walk(benchmark::State &state, const Message &m, bool crc_baseline, Walk walk)
{
    const uint8_t *f = m.frame.data();
    const size_t n = m.frame.size();
    uint64_t check = 0;
    if (walk(f, n, &check) != m.items) {
        state.SkipWithError("the walk does not see every item of the frame");
        return;
    }
    const uint64_t a0 = alloc_count();
    const double t0 = thread_cpu_seconds();
    for (auto _ : state) {
        uint64_t sum = 0;
        const int64_t seen = walk(f, n, &sum);
        benchmark::DoNotOptimize(sum);
        if (seen != m.items) {
            state.SkipWithError("decode failed");
            break;
        }
    }
    const LoopStats loop{thread_cpu_seconds() - t0, alloc_count() - a0};
    report(state, loop, f, n, m.items, crc_baseline);
}

void decode_produce(benchmark::State &state, int16_t version)
{
    const Message &m = produce_message(version, static_cast<int>(state.range(0)),
                                       static_cast<int>(state.range(1)));
    const bool crc = state.range(2) != 0;
    const unsigned flags = crc ? unsigned{KW_VERIFY_CRC} : 0u;
    run_walk(state, m, crc, [flags](const uint8_t *f, size_t n, uint64_t *sum) {
        return kwb_walk_produce_request(f, n, flags, sum);
    });
}

void decode_fetch_response(benchmark::State &state, int16_t version)
{
    const Message &m = fetch_response_message(version, static_cast<int>(state.range(0)),
                                              static_cast<int>(state.range(1)));
    const bool crc = state.range(2) != 0;
    const unsigned flags = crc ? unsigned{KW_VERIFY_CRC} : 0u;
    run_walk(state, m, crc, [flags, version](const uint8_t *f, size_t n, uint64_t *sum) {
        return kwb_walk_fetch_response(f, n, version, flags, sum);
    });
}

// The conventional decoder: heap structs, std::string / std::vector copies.
// kwire_speedup is kwire's rate over this one's on the same frame, timed
// right after it for as many iterations with the same CRC setting.
void decode_produce_copying(benchmark::State &state, int16_t version)
{
    const Message &m = produce_message(version, static_cast<int>(state.range(0)),
                                       static_cast<int>(state.range(1)));
    const bool crc = state.range(2) != 0;
    const uint8_t *f = m.frame.data();
    const size_t n = m.frame.size();
    uint64_t check = 0;
    {
        auto req = copying::decode_produce(f, n, crc);
        if (!req || copying::walk(*req, &check) != m.items) {
            state.SkipWithError("the copying decoder does not see every record");
            return;
        }
    }
    const uint64_t a0 = alloc_count();
    const double t0 = thread_cpu_seconds();
    for (auto _ : state) {
        auto req = copying::decode_produce(f, n, crc);
        if (!req) {
            state.SkipWithError("decode failed");
            break;
        }
        uint64_t sum = 0;
        const int64_t seen = copying::walk(*req, &sum);
        benchmark::DoNotOptimize(sum);
        benchmark::DoNotOptimize(seen);
    }
    const LoopStats loop{thread_cpu_seconds() - t0, alloc_count() - a0};
    report(state, loop, f, n, m.items, crc);
    if (state.error_occurred() || state.iterations() == 0)
        return;
    const unsigned flags = crc ? unsigned{KW_VERIFY_CRC} : 0u;
    const double k0 = thread_cpu_seconds();
    for (benchmark::IterationCount i = 0; i < state.iterations(); i++) {
        uint64_t sum = 0;
        const int64_t seen = kwb_walk_produce_request(f, n, flags, &sum);
        benchmark::DoNotOptimize(sum);
        benchmark::DoNotOptimize(seen);
    }
    state.counters["kwire_speedup"] = loop.seconds / (thread_cpu_seconds() - k0);
}

void decode_metadata_response(benchmark::State &state)
{
    const int16_t version = static_cast<int16_t>(state.range(0));
    const Message &m = metadata_response_message(version, 100, 100);
    run_walk(state, m, false, [version](const uint8_t *f, size_t n, uint64_t *sum) {
        return kwb_walk_metadata_response(f, n, version, sum);
    });
}

void decode_fetch_request(benchmark::State &state)
{
    const Message &m = fetch_request_message(static_cast<int16_t>(state.range(0)), 10, 3);
    run_walk(state, m, false, kwb_walk_fetch_request);
}

void decode_fetch_response_empty(benchmark::State &state)
{
    const int16_t version = static_cast<int16_t>(state.range(0));
    const Message &m = fetch_response_empty_message(version, 10, 10);
    run_walk(state, m, false, [version](const uint8_t *f, size_t n, uint64_t *sum) {
        return kwb_walk_fetch_response(f, n, version, 0, sum);
    });
}

void decode_offset_commit_request(benchmark::State &state)
{
    const Message &m = offset_commit_request_message(static_cast<int16_t>(state.range(0)), 20, 50);
    run_walk(state, m, false, kwb_walk_offset_commit_request);
}

void decode_api_versions_request(benchmark::State &state)
{
    const Message &m = api_versions_request_message(static_cast<int16_t>(state.range(0)));
    run_walk(state, m, false, kwb_walk_api_versions_request);
}

void decode_api_versions_response(benchmark::State &state)
{
    const int16_t version = static_cast<int16_t>(state.range(0));
    const Message &m = api_versions_response_message(version);
    run_walk(state, m, false, [version](const uint8_t *f, size_t n, uint64_t *sum) {
        return kwb_walk_api_versions_response(f, n, version, sum);
    });
}

// The counter itself, checked: one operator new and one malloc per
// iteration must read as allocs_per_iter=2, and nothing as 0.
void alloc_probe(benchmark::State &state)
{
    const bool allocate = state.range(0) != 0;
    const uint64_t a0 = alloc_count();
    for (auto _ : state) {
        if (allocate) {
            int *p = new int(1);
            void *q = std::malloc(16);
            benchmark::DoNotOptimize(p);
            benchmark::DoNotOptimize(q);
            std::free(q);
            delete p;
        }
    }
    const uint64_t allocs = alloc_count() - a0;
    state.counters["allocs_per_iter"] =
        static_cast<double>(allocs) / static_cast<double>(state.iterations());
}

int register_cases()
{
    using benchmark::RegisterBenchmark;
    for (int16_t v : {int16_t{9}, int16_t{7}})
        RegisterBenchmark(("decode/produce/v" + std::to_string(v)).c_str(),
                          [v](benchmark::State &s) { decode_produce(s, v); })
            ->Apply([](benchmark::internal::Benchmark *b) { record_shapes(b, true); });
    RegisterBenchmark("decode/produce_copying/v9",
                      [](benchmark::State &s) { decode_produce_copying(s, 9); })
        ->Apply([](benchmark::internal::Benchmark *b) { record_shapes(b, true); });
    for (int16_t v : {int16_t{12}, int16_t{11}})
        RegisterBenchmark(("decode/fetch_response/v" + std::to_string(v)).c_str(),
                          [v](benchmark::State &s) { decode_fetch_response(s, v); })
            ->Apply([](benchmark::internal::Benchmark *b) { record_shapes(b, true); });
    RegisterBenchmark("decode/metadata_response_100x100", decode_metadata_response)
        ->ArgName("v")
        ->Arg(12)
        ->Arg(8);
    RegisterBenchmark("decode/fetch_request_10x3", decode_fetch_request)
        ->ArgName("v")
        ->Arg(16)
        ->Arg(12)
        ->Arg(11);
    RegisterBenchmark("decode/fetch_response_empty_10x10", decode_fetch_response_empty)
        ->ArgName("v")
        ->Arg(12);
    RegisterBenchmark("decode/offset_commit_request_20x50", decode_offset_commit_request)
        ->ArgName("v")
        ->Arg(9)
        ->Arg(8);
    RegisterBenchmark("decode/api_versions_request", decode_api_versions_request)
        ->ArgName("v")
        ->Arg(3);
    RegisterBenchmark("decode/api_versions_response", decode_api_versions_response)
        ->ArgName("v")
        ->Arg(3)
        ->Arg(2);
    RegisterBenchmark("baseline/alloc_probe", alloc_probe)->ArgName("allocate")->Arg(0)->Arg(1);
    return 0;
}

const int registered = register_cases();

} // namespace

} // namespace kwb
