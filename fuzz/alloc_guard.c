/*
 * The no-allocation guard. Fuzz executables link with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc, so every call to these
 * from the library, the targets and the engine lands here first. While a
 * decode runs (kwf_no_alloc_begin .. kwf_no_alloc_end) an allocation on the
 * same thread aborts on the spot: the engine then reports the stack of the
 * call that allocated. The flag is per thread because libFuzzer's own
 * threads (RSS watchdog) may allocate at any time.
 */
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t k);
void *__wrap_realloc(void *p, size_t n);

static _Thread_local int armed;

static void refuse(const char *msg, size_t len)
{
    armed = 0;
    /* no stdio: it might allocate */
    ssize_t w = write(2, msg, len);
    (void)w;
    abort();
}

#define REFUSE(fn) refuse("kwire fuzz: " fn " while decoding\n", sizeof("kwire fuzz: " fn " while decoding\n") - 1)

void *__wrap_malloc(size_t n)
{
    if (armed)
        REFUSE("malloc");
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t k)
{
    if (armed)
        REFUSE("calloc");
    return __real_calloc(n, k);
}

void *__wrap_realloc(void *p, size_t n)
{
    if (armed)
        REFUSE("realloc");
    return __real_realloc(p, n);
}

void kwf_no_alloc_begin(void) { armed = 1; }

void kwf_no_alloc_end(void) { armed = 0; }
