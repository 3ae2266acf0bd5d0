/*
 * Test helper: counts malloc, calloc and realloc calls made by code linked
 * into the test (the suite links with -Wl,--wrap=malloc,calloc,realloc;
 * see suite_link_args in tests/meson.build).
 */
#ifndef KW_TESTS_ALLOC_COUNT_H
#define KW_TESTS_ALLOC_COUNT_H

#include <stddef.h>

/** Allocation calls so far; take the difference around the code under test. */
extern size_t kwt_allocations;

#endif
