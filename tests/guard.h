/*
 * Test helper: places bytes so that the last one sits right before a
 * PROT_NONE page, so any read past the end crashes the test.
 */
#ifndef KW_TESTS_GUARD_H
#define KW_TESTS_GUARD_H

#include <stddef.h>
#include <stdint.h>

typedef struct kwt_guard {
    uint8_t *map;    /* whole mapping */
    size_t map_len;  /* readable part plus the guard page */
    size_t room;     /* readable bytes before the guard page */
} kwt_guard;

/** Maps room for at least capacity bytes in front of a guard page. */
void kwt_guard_open(kwt_guard *g, size_t capacity);
/** Copies len bytes to end exactly at the guard page; returns their start. */
const uint8_t *kwt_guard_place(kwt_guard *g, const void *data, size_t len);
void kwt_guard_close(kwt_guard *g);

/**
 * Calls fn for every prefix of data, lengths 0..len (len itself included),
 * each placed against the guard page.
 */
void kwt_each_prefix(const void *data, size_t len,
                     void (*fn)(const uint8_t *buf, size_t n, void *ctx), void *ctx);

/** Parses a hex string ("00 01 ff", spaces allowed) into out; returns bytes. */
size_t kwt_hex(const char *hex, uint8_t *out, size_t cap);

#endif
