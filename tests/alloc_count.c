#include "alloc_count.h"

size_t kwt_allocations;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t k);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
    kwt_allocations++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t k)
{
    kwt_allocations++;
    return __real_calloc(n, k);
}

void *__wrap_realloc(void *p, size_t n)
{
    kwt_allocations++;
    return __real_realloc(p, n);
}
