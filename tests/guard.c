#include "guard.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void kwt_guard_open(kwt_guard *g, size_t capacity)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    g->room = (capacity + page - 1) / page * page;
    if (g->room == 0)
        g->room = page;
    g->map_len = g->room + page;
    void *m = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(m != MAP_FAILED, "mmap of %zu bytes failed", g->map_len);
    g->map = m;
    cr_assert(mprotect(g->map + g->room, page, PROT_NONE) == 0, "mprotect failed");
}

const uint8_t *kwt_guard_place(kwt_guard *g, const void *data, size_t len)
{
    cr_assert(len <= g->room, "guard region too small: %zu > %zu", len, g->room);
    uint8_t *dst = g->map + g->room - len;
    if (len)
        memcpy(dst, data, len);
    return dst;
}

void kwt_guard_close(kwt_guard *g)
{
    munmap(g->map, g->map_len);
    g->map = NULL;
}

void kwt_each_prefix(const void *data, size_t len,
                     void (*fn)(const uint8_t *buf, size_t n, void *ctx), void *ctx)
{
    kwt_guard g;
    kwt_guard_open(&g, len);
    for (size_t n = 0; n <= len; n++)
        fn(kwt_guard_place(&g, data, n), n, ctx);
    kwt_guard_close(&g);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t kwt_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*hex) {
        if (*hex == ' ' || *hex == '\n') {
            hex++;
            continue;
        }
        int hi = hexval(hex[0]);
        int lo = hex[1] ? hexval(hex[1]) : -1;
        cr_assert(hi >= 0 && lo >= 0, "bad hex near \"%s\"", hex);
        cr_assert(n < cap, "hex longer than %zu bytes", cap);
        out[n++] = (uint8_t)(hi << 4 | lo);
        hex += 2;
    }
    return n;
}
