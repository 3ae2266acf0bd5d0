// Encode cases: the messages of the decode cases, written back to front from
// plain structs (items arrays) into a caller buffer, size prefix and header
// included; each encode is checked once against the frame the decode cases
// read. fetch_response_lent lends the record bytes (kw_records_lent in every
// records field, a builder with a segment array): bytes_per_second counts the whole message
// although only the framing is written; copied_bytes says how much was.
#include <cstring>
#include <string>

#include "bench_util.h"

namespace kwb {
namespace {

void encode_case(benchmark::State &state, const Message &m, bool lend)
{
    const size_t n = m.frame.size();
    std::vector<uint8_t> buf(n);
    std::vector<kw_segment> segs(lend ? 2 * m.records_fields + 4 : 0);
    auto start = [&](kw_builder *b) {
        kw_builder_init(b, buf.data(), buf.size(), lend ? segs.data() : nullptr, segs.size());
    };
    // The messages are shared by the cases: lend for this one only.
    struct LendScope {
        kwb_msg *msg;
        LendScope(kwb_msg *m, bool on) : msg(on ? m : nullptr) { if (msg) kwb_msg_lend_records(msg, true); }
        ~LendScope() { if (msg) kwb_msg_lend_records(msg, false); }
    } lend_scope(m.msg, lend);

    // Once, untimed: the output is the frame, byte for byte.
    {
        kw_builder b;
        start(&b);
        if (kwb_encode_frame(&b, m.msg) != KW_OK || kw_builder_size(&b) != n) {
            state.SkipWithError("encode failed");
            return;
        }
        std::vector<uint8_t> out(n);
        if (kw_builder_copy_out(&b, out.data(), n) != n || std::memcmp(out.data(), m.frame.data(), n) != 0) {
            state.SkipWithError("the encode differs from the frame");
            return;
        }
        size_t count = 0, copied = 0;
        const kw_segment *s = kw_builder_segments(&b, &count);
        for (size_t i = 0; i < count; i++)
            copied += s[i].referenced ? 0 : s[i].len;
        state.counters["copied_bytes"] = benchmark::Counter(static_cast<double>(copied));
    }

    const uint64_t a0 = alloc_count();
    const double t0 = thread_cpu_seconds();
    for (auto _ : state) {
        kw_builder b;
        start(&b);
        const kw_err e = kwb_encode_frame(&b, m.msg);
        size_t count = 0;
        const kw_segment *s = kw_builder_segments(&b, &count);
        benchmark::DoNotOptimize(s);
        benchmark::DoNotOptimize(count);
        benchmark::ClobberMemory();
        if (e != KW_OK) {
            state.SkipWithError("encode failed");
            break;
        }
    }
    const LoopStats loop{thread_cpu_seconds() - t0, alloc_count() - a0};
    report(state, loop, m.frame.data(), n, m.items, false);
}

void encode_produce(benchmark::State &state, int16_t version)
{
    encode_case(state,
                produce_message(version, static_cast<int>(state.range(0)), static_cast<int>(state.range(1))),
                false);
}

void encode_fetch_response(benchmark::State &state, int16_t version, bool lend)
{
    encode_case(state,
                fetch_response_message(version, static_cast<int>(state.range(0)),
                                       static_cast<int>(state.range(1))),
                lend);
}

int register_cases()
{
    using benchmark::RegisterBenchmark;
    using benchmark::State;
    for (int16_t v : {int16_t{9}, int16_t{7}})
        RegisterBenchmark(("encode/produce/v" + std::to_string(v)).c_str(),
                          [v](State &s) { encode_produce(s, v); })
            ->Apply([](benchmark::internal::Benchmark *b) { record_shapes(b, false); });
    for (int16_t v : {int16_t{12}, int16_t{11}}) {
        RegisterBenchmark(("encode/fetch_response/v" + std::to_string(v)).c_str(),
                          [v](State &s) { encode_fetch_response(s, v, false); })
            ->Apply([](benchmark::internal::Benchmark *b) { record_shapes(b, false); });
        RegisterBenchmark(("encode/fetch_response_lent/v" + std::to_string(v)).c_str(),
                          [v](State &s) { encode_fetch_response(s, v, true); })
            ->Apply([](benchmark::internal::Benchmark *b) { record_shapes(b, false); });
    }
    RegisterBenchmark("encode/metadata_response_100x100",
                      [](State &s) {
                          encode_case(s, metadata_response_message(static_cast<int16_t>(s.range(0)), 100, 100),
                                      false);
                      })
        ->ArgName("v")
        ->Arg(12)
        ->Arg(8);
    RegisterBenchmark("encode/fetch_request_10x3",
                      [](State &s) {
                          encode_case(s, fetch_request_message(static_cast<int16_t>(s.range(0)), 10, 3), false);
                      })
        ->ArgName("v")
        ->Arg(16)
        ->Arg(12)
        ->Arg(11);
    RegisterBenchmark("encode/api_versions_request",
                      [](State &s) {
                          encode_case(s, api_versions_request_message(static_cast<int16_t>(s.range(0))), false);
                      })
        ->ArgName("v")
        ->Arg(3);
    RegisterBenchmark("encode/api_versions_response",
                      [](State &s) {
                          encode_case(s, api_versions_response_message(static_cast<int16_t>(s.range(0))), false);
                      })
        ->ArgName("v")
        ->Arg(3)
        ->Arg(2);
    return 0;
}

const int registered = register_cases();

} // namespace
} // namespace kwb
