// kwire-broker's down-conversion for Fetch v0-v3 readers against the path
// every v2 reader takes. That path hands the log's file range to sendfile:
// no byte of it passes through user space, so its user-space cost per
// message is nothing; the memcpy case of the same bytes stands for the
// least any path that touches them pays. Cases report items (messages) per
// second: 1 / rate is the cost per message.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "broker_side.h"

namespace {

struct Batch {
    uint8_t *bytes;
    size_t len;
};

Batch make(int records, int codec)
{
    Batch b{nullptr, 0};
    b.bytes = bench_v2_batch(records, codec, &b.len);
    return b;
}

void convert_memcpy(benchmark::State &state)
{
    int records = static_cast<int>(state.range(0));
    Batch b = make(records, 0);
    std::vector<uint8_t> out(b.len);
    for (auto _ : state) {
        std::memcpy(out.data(), b.bytes, b.len);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * records);
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.len));
    std::free(b.bytes);
}

void convert_down(benchmark::State &state, int codec, int magic)
{
    int records = static_cast<int>(state.range(0));
    Batch b = make(records, codec);
    if (!b.bytes || bench_downconvert(b.bytes, b.len, magic) == 0) {
        state.SkipWithError("codec not in this build, or the conversion failed");
        std::free(b.bytes);
        return;
    }
    for (auto _ : state)
        benchmark::DoNotOptimize(bench_downconvert(b.bytes, b.len, magic));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * records);
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.len));
    std::free(b.bytes);
}

void sizes(benchmark::internal::Benchmark *b)
{
    b->Arg(100)->Arg(1000);
}

}  // namespace

BENCHMARK(convert_memcpy)->Name("convert/memcpy")->Apply(sizes);
BENCHMARK_CAPTURE(convert_down, none_magic1, 0, 1)->Name("convert/down/none/magic1")->Apply(sizes);
BENCHMARK_CAPTURE(convert_down, none_magic0, 0, 0)->Name("convert/down/none/magic0")->Apply(sizes);
BENCHMARK_CAPTURE(convert_down, gzip_magic1, 1, 1)->Name("convert/down/gzip/magic1")->Apply(sizes);
BENCHMARK_CAPTURE(convert_down, lz4_magic1, 3, 1)->Name("convert/down/lz4/magic1")->Apply(sizes);
