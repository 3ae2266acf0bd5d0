// Counts allocations so each case can report allocs_per_iter. The bench
// executable links with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,
// which reaches libkwire too (it is linked statically); global operator new
// is replaced here, which reaches libstdc++ and every C++ container.
// A plain counter: the cases run on one thread.
#include <cstdint>
#include <cstdlib>
#include <new>

#include "bench_util.h"

namespace {
uint64_t allocations;
}

extern "C" {
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t k);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
    allocations++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t k)
{
    allocations++;
    return __real_calloc(n, k);
}

void *__wrap_realloc(void *p, size_t n)
{
    allocations++;
    return __real_realloc(p, n);
}
}

uint64_t kwb::alloc_count() { return allocations; }

namespace {

void *counted_new(std::size_t n)
{
    allocations++;
    void *p = __real_malloc(n ? n : 1);
    if (!p)
        throw std::bad_alloc();
    return p;
}

#if defined(__cpp_aligned_new)
void *counted_new_aligned(std::size_t n, std::align_val_t al)
{
    allocations++;
    std::size_t a = static_cast<std::size_t>(al);
    if (a < sizeof(void *))
        a = sizeof(void *);
    void *p = nullptr;
    if (posix_memalign(&p, a, n ? n : 1) != 0)
        throw std::bad_alloc();
    return p;
}
#endif

} // namespace

void *operator new(std::size_t n) { return counted_new(n); }
void *operator new[](std::size_t n) { return counted_new(n); }
void *operator new(std::size_t n, const std::nothrow_t &) noexcept
{
    try {
        return counted_new(n);
    } catch (...) {
        return nullptr;
    }
}
void *operator new[](std::size_t n, const std::nothrow_t &) noexcept
{
    try {
        return counted_new(n);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t) noexcept { std::free(p); }
void operator delete(void *p, const std::nothrow_t &) noexcept { std::free(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { std::free(p); }

#if defined(__cpp_aligned_new)
void *operator new(std::size_t n, std::align_val_t al) { return counted_new_aligned(n, al); }
void *operator new[](std::size_t n, std::align_val_t al) { return counted_new_aligned(n, al); }
void operator delete(void *p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void *p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void *p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif
