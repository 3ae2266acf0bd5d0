// Checksum throughput: CRC-32C through the dispatcher and through the table
// code, and CRC-32, each next to a memcpy of the same number of bytes, since
// absolute rates drift on a shared machine and the ratio is what we track.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "bench_util.h"
#include "kwire/crc.h"

namespace {

const int64_t kSizes[] = {256, 4 << 10, 64 << 10, 1 << 20, 16 << 20};

void sizes(benchmark::internal::Benchmark *b)
{
    for (int64_t n : kSizes)
        b->Arg(n);
}

// Same bytes for every case, so no case is favoured by its data.
std::vector<uint8_t> make_data(size_t n)
{
    std::vector<uint8_t> v(n);
    uint32_t s = 0x9E3779B9u;
    for (auto &b : v) {
        s = s * 1664525u + 1013904223u;
        b = static_cast<uint8_t>(s >> 24);
    }
    return v;
}

void bytes_processed(benchmark::State &state)
{
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void crc_memcpy(benchmark::State &state)
{
    const size_t n = static_cast<size_t>(state.range(0));
    std::vector<uint8_t> src = make_data(n);
    std::vector<uint8_t> dst(n);
    for (auto _ : state) {
        std::memcpy(dst.data(), src.data(), n);
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    bytes_processed(state);
}

using crc_fn = uint32_t (*)(uint32_t, const void *, size_t);

void crc_run(benchmark::State &state, crc_fn fn)
{
    const size_t n = static_cast<size_t>(state.range(0));
    std::vector<uint8_t> src = make_data(n);
    for (auto _ : state) {
        uint32_t c = fn(0, src.data(), n);
        benchmark::DoNotOptimize(c);
    }
    bytes_processed(state);
}

void crc_crc32c(benchmark::State &state) { crc_run(state, kw_crc32c); }
void crc_crc32c_portable(benchmark::State &state) { crc_run(state, kw_crc32c_portable); }
void crc_crc32(benchmark::State &state) { crc_run(state, kw_crc32); }

} // namespace

BENCHMARK(crc_memcpy)->Name("crc/memcpy")->Apply(sizes);
BENCHMARK(crc_crc32c)->Name("crc/kw_crc32c")->Apply(sizes);
BENCHMARK(crc_crc32c_portable)->Name("crc/kw_crc32c_portable")->Apply(sizes);
BENCHMARK(crc_crc32)->Name("crc/kw_crc32")->Apply(sizes);

int main(int argc, char **argv)
{
    // --export-frames=DIR: write the peers' frames (bench/peers/) and exit.
    static const char kExport[] = "--export-frames=";
    for (int i = 1; i < argc; i++)
        if (std::strncmp(argv[i], kExport, sizeof kExport - 1) == 0)
            return kwb::export_frames(argv[i] + sizeof kExport - 1);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    // Which CRC-32C code ran belongs next to its numbers.
    benchmark::AddCustomContext("kw_crc32c_impl", kw_crc32c_impl());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
