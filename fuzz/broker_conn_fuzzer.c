/*
 * kwire-broker's connection handler under fuzzing: the input is the byte
 * stream clients send. A fresh broker (temporary data directory) gets it
 * over two socket-pair connections, the same code paths the event loop
 * runs: read buffer, framing with a 1 MiB --max-frame-bytes, dispatch,
 * handlers, parked requests, responses sent and read back by the peer.
 *
 * Input: byte 0 sets the write size (1 + byte 0, up to 256), so frames
 * arrive cut at every place; the rest is split into frames by their size
 * prefixes, each frame going to connection A or B by the low bit of its
 * correlation id, so a client's requests (whose ids count up) alternate
 * and group requests meet across connections; a tail that is no whole
 * frame goes to A. At the end the clock jumps ahead so parked requests
 * and timers run out.
 *
 * Checked after every write, besides what the sanitizers check:
 *   - each connection's memory (bk_conn_memory: read buffer, response,
 *     file references) stays under CONN_LIMIT;
 *   - the heap in use stays within HEAP_LIMIT of what it was with the
 *     broker open and no connection;
 *   - the broker answers, or closes, and never crashes.
 *
 * Built with the broker (examples/broker/meson.build) and the replay
 * runner of fuzz/replay.c when no fuzzing engine is selected; its corpus
 * is fuzz/corpus/broker_conn (real clients' request streams).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "groups.h"
#include "loop.h"
#include "topics.h"
#include "util.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KWF_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define KWF_ASAN 1
#endif
#ifdef KWF_ASAN
/* from the AddressSanitizer runtime (<sanitizer/allocator_interface.h>, which gcc may not install) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAME ((size_t)1 << 20)
/* the read buffer holds one frame at most; a response is a small multiple of its request */
#define CONN_LIMIT (MAX_FRAME + 4 + 16 * MAX_FRAME + ((size_t)1 << 20))
#define HEAP_LIMIT ((size_t)96 << 20)

static size_t heap_in_use(void)
{
#ifdef KWF_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

static char base_dir[256];

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "broker_conn_fuzzer: %s\n", what);
        abort();
    }
}

typedef struct peer {
    bk_conn *c;     /* NULL once the broker freed it */
    uint64_t id;
    int fd;         /* the client's end */
} peer;

/* The broker frees closed connections in its housekeeping: look ours up again. */
static void refresh(bk_broker *br, peer *p)
{
    bk_conn *c = br->conns;
    while (c && c->id != p->id)
        c = c->next;
    p->c = c;
}

static void drain(peer *p)
{
    uint8_t buf[65536];
    while (read(p->fd, buf, sizeof buf) > 0) {
    }
}

static void step(bk_broker *br, peer *p, size_t baseline)
{
    refresh(br, p);
    if (p->c && !p->c->closing) {
        bk_conn_on_readable(br, p->c);
        for (int i = 0; i < 64 && p->c && !p->c->closing && p->c->sending; i++) {
            drain(p);
            bk_conn_on_writable(br, p->c);
        }
    }
    bk_process_wakes(br);
    drain(p);
    for (bk_conn *c = br->conns; c; c = c->next)
        check(c->closing || bk_conn_memory(c) <= CONN_LIMIT, "a connection holds more than CONN_LIMIT");
    size_t now = heap_in_use();
    check(now <= baseline + HEAP_LIMIT, "the heap grew past HEAP_LIMIT");
}

static void feed(bk_broker *br, peer *p, const uint8_t *bytes, size_t len, size_t chunk,
                 size_t baseline)
{
    refresh(br, p);
    while (len > 0 && p->c && !p->c->closing) {
        size_t n = len < chunk ? len : chunk;
        ssize_t w = write(p->fd, bytes, n);
        if (w <= 0) {
            if (w < 0 && errno == EAGAIN) {
                step(br, p, baseline);
                continue;
            }
            return;
        }
        bytes += w;
        len -= (size_t)w;
        step(br, p, baseline);
        refresh(br, p);
    }
}

static bool connect_peer(bk_broker *br, peer *p)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return false;
    fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL, 0) | O_NONBLOCK);
    p->c = bk_conn_new(br, sv[0]);
    p->fd = sv[1];
    p->id = p->c ? p->c->id : 0;
    return p->c != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (4u << 20))
        return 0;
    if (!base_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(base_dir, sizeof base_dir, "%s/kwire-broker-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        check(mkdtemp(base_dir) != NULL, "mkdtemp");
    }
    char dir[512];
    snprintf(dir, sizeof dir, "%s/data", base_dir);
    bk_remove_tree(dir);

    bk_config cfg;
    bk_config_default(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
    cfg.max_frame_bytes = MAX_FRAME;
    cfg.fsync = BK_FSYNC_NEVER;
    cfg.default_partitions = 2;
    cfg.max_partitions = 16;
    cfg.max_groups = 16;
    cfg.group_max_size = 8;
    cfg.group_initial_rebalance_delay_ms = 0;
    cfg.segment_bytes = 4096;
    cfg.max_decompressed_bytes = (size_t)4 << 20;
    static bk_broker br;
    check(bk_broker_open(&br, &cfg) == 0, "the broker did not open");
    snprintf(br.advertised_host, sizeof br.advertised_host, "127.0.0.1");
    br.advertised_port = 9092;
    size_t baseline = heap_in_use();

    peer a, b;
    check(connect_peer(&br, &a) && connect_peer(&br, &b), "socketpair");
    size_t chunk = (size_t)data[0] + 1;
    const uint8_t *p = data + 1, *end = data + size;
    while (p < end) {
        size_t left = (size_t)(end - p);
        if (left < 5) {
            feed(&br, &a, p, left, chunk, baseline);
            break;
        }
        uint32_t fsize = kw_load_be32(p);
        size_t total = fsize > left - 4 ? left : (size_t)fsize + 4;
        peer *to = total >= 12 && (p[11] & 1) ? &b : &a;
        feed(&br, to, p, total, chunk, baseline);
        p += total;
    }
    /* time runs out for everything parked or pending */
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < br.ngroups; i++) {
            bk_group *g = br.groups[i];
            g->rebalance_deadline -= 3600000;
            if (g->initial_delay_end)
                g->initial_delay_end -= 3600000;
            for (size_t k = 0; k < g->nmembers; k++)
                g->members[k]->last_heartbeat -= 3600000;
        }
        for (bk_conn *c = br.conns; c; c = c->next)
            if (c->park == BK_PARK_FETCH)
                c->park_deadline = 0;
        bk_loop_housekeeping(&br);
        step(&br, &a, baseline);
        step(&br, &b, baseline);
    }
    close(a.fd);
    close(b.fd);
    bk_broker_close(&br); /* closes the connections too */
    bk_remove_tree(dir);
    return 0;
}
