/*
 * The event loop: one thread, epoll (level-triggered), non-blocking sockets.
 *
 * A connection answers its requests one at a time and in order, as Kafka
 * does: while a response is being sent or a request is parked (a Fetch
 * waiting for min_bytes, a JoinGroup or SyncGroup waiting for the group),
 * the connection is not read, so the client's further requests wait in the
 * kernel. Requests are decoded in place in the connection's read buffer,
 * which grows only as bytes arrive, never past the frame the prefix
 * announced, and a prefix over --max-frame-bytes closes the connection
 * before anything is allocated for it. A parked request keeps its frame in
 * the buffer and is run again when it can be answered.
 *
 * Timers, checked every 100 ms: idle connections, frames that do not
 * finish (slow partial frames), responses the client does not read,
 * parked fetches whose max_wait ran out, the group coordinator's session
 * and rebalance timeouts, and the --fsync interval.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dispatch.h"
#include "groups.h"
#include "loop.h"
#include "topics.h"
#include "util.h"

#define TICK_MS 100
#define FRAMES_PER_TURN 32

static void conn_update_interest(bk_broker *br, bk_conn *c)
{
    if (c->closing || c->fd < 0)
        return;
    uint32_t want = EPOLLRDHUP;
    if (c->sending)
        want |= EPOLLOUT;
    else if (c->park == BK_PARK_NONE && !c->read_paused)
        want |= EPOLLIN;
    if (br->epfd < 0 || (c->registered && want == c->events))
        return;
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = want;
    ev.data.ptr = c;
    if (epoll_ctl(br->epfd, c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) == 0) {
        c->registered = true;
        c->events = want;
    }
}

bk_conn *bk_conn_new(bk_broker *br, int fd)
{
    bk_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->id = ++br->next_conn_id;
    c->last_activity = br->now;
    kw_builder_init_growable(&c->out, 16 * 1024);
    c->out_init = true;
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    snprintf(c->peer, sizeof c->peer, "fd %d", fd);
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        char host[INET6_ADDRSTRLEN] = "?";
        int port = 0;
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            port = ntohs(a->sin_port);
            snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            port = ntohs(a->sin6_port);
            snprintf(c->peer, sizeof c->peer, "[%s]:%d", host, port);
        }
    }
    c->next = br->conns;
    if (br->conns)
        br->conns->prev = c;
    br->conns = c;
    br->nconns++;
    conn_update_interest(br, c);
    return c;
}

/* ---- request memory ----------------------------------------------------------------------- */

/*
 * Every connection may fill its first read buffer (conn_buffer_bytes); what
 * its buffer holds beyond that, for a frame larger than the first buffer,
 * counts against queued_max_request_bytes for all connections together. A
 * frame's buffer grows to the whole frame at once, so a connection holds
 * either its frame's room or nothing beyond the first buffer: the frames
 * that wait cannot deadlock each other holding halves. When nothing is
 * held, one frame may take more than the budget, so a budget below
 * --max-frame-bytes never stops a frame for ever.
 */
static size_t beyond_first_buffer(const bk_broker *br, size_t cap)
{
    return cap > br->cfg.conn_buffer_bytes ? cap - br->cfg.conn_buffer_bytes : 0;
}

/* Connections whose frames waited for request memory read again. */
static void wake_memory_waiters(bk_broker *br)
{
    if (br->request_memory_waiters == 0)
        return;
    for (bk_conn *c = br->conns; c; c = c->next) {
        if (!c->read_paused)
            continue;
        c->read_paused = false;
        br->request_memory_waiters--;
        if (c->frame_started)
            c->frame_started = br->now; /* the wait does not count as a slow client */
        conn_update_interest(br, c);
    }
}

/* Sets the read buffer (nb of cap bytes, or NULL and 0), keeping the account. */
static void rbuf_set(bk_broker *br, bk_conn *c, uint8_t *nb, size_t cap)
{
    size_t before = beyond_first_buffer(br, c->rcap), after = beyond_first_buffer(br, cap);
    br->queued_request_bytes = br->queued_request_bytes - before + after;
    c->rbuf = nb;
    c->rcap = cap;
    if (after < before)
        wake_memory_waiters(br);
}

static void rbuf_free(bk_broker *br, bk_conn *c)
{
    free(c->rbuf);
    rbuf_set(br, c, NULL, 0);
    c->rlen = c->rstart = 0;
}

/* True when c may grow its buffer to cap; else c waits for room (read_paused). */
static bool request_memory_allows(bk_broker *br, bk_conn *c, size_t cap)
{
    size_t mine = beyond_first_buffer(br, c->rcap), want = beyond_first_buffer(br, cap);
    size_t others = br->queued_request_bytes - mine;
    size_t budget = br->cfg.queued_max_request_bytes;
    if (others == 0 || (others <= budget && want <= budget - others))
        return true;
    if (!c->read_paused) {
        c->read_paused = true;
        br->request_memory_waiters++;
        br->stats.read_pauses++;
        conn_update_interest(br, c);
    }
    return false;
}

static void release_files(bk_conn *c)
{
    for (size_t i = 0; i < c->nfiles; i++)
        close(c->files[i]);
    c->nfiles = 0;
}

void bk_conn_close(bk_broker *br, bk_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    bk_groups_conn_closed(br, c);
    if (c->fd >= 0) {
        if (br->epfd >= 0 && c->registered)
            epoll_ctl(br->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    release_files(c);
    free(c->files);
    c->files = NULL;
    c->capfiles = 0;
    if (c->read_paused) {
        c->read_paused = false;
        br->request_memory_waiters--;
    }
    rbuf_free(br, c);
    if (c->out_init)
        kw_builder_free(&c->out);
    c->out_init = false;
    c->park = BK_PARK_NONE;
    c->sending = false;
    br->stats.closed++;
}

static void conn_free(bk_broker *br, bk_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        br->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    br->nconns--;
    free(c);
}

void bk_conns_free_all(bk_broker *br)
{
    while (br->conns) {
        bk_conn *c = br->conns;
        bk_conn_close(br, c);
        conn_free(br, c);
    }
}

size_t bk_conn_memory(const bk_conn *c)
{
    size_t n = sizeof *c + c->rcap + c->capfiles * sizeof *c->files;
    if (c->out_init) {
        size_t count = 0;
        const kw_segment *segs = kw_builder_segments((kw_builder *)(uintptr_t)&c->out, &count);
        for (size_t i = 0; i < count; i++)
            if (segs[i].kind == KW_SEGMENT_BYTES && !segs[i].referenced)
                n += segs[i].len;
        n += c->out.seg_cap * sizeof(kw_segment);
    }
    return n;
}

/* ---- sending ------------------------------------------------------------------------------ */

static void send_done(bk_broker *br, bk_conn *c)
{
    c->sending = false;
    c->sent = 0;
    release_files(c);
    kw_builder_reset(&c->out);
    c->last_activity = br->now;
    conn_update_interest(br, c);
}

static void try_send(bk_broker *br, bk_conn *c)
{
    if (kw_builder_send(&c->out, c->fd, &c->sent) == 0) {
        send_done(br, c);
        return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        conn_update_interest(br, c);
        return;
    }
    bk_conn_close(br, c);
}

/* ---- frames ------------------------------------------------------------------------------- */

static void run_frame(bk_broker *br, bk_conn *c, bool resumed, bool final);

static void process_frames(bk_broker *br, bk_conn *c)
{
    int budget = FRAMES_PER_TURN;
    c->ready = false;
    while (!c->closing && !c->sending && c->park == BK_PARK_NONE) {
        size_t have = c->rlen - c->rstart;
        kw_frame f;
        kw_frame_status st = kw_frame_split(c->rbuf ? c->rbuf + c->rstart : NULL, have,
                                            br->cfg.max_frame_bytes, &f);
        if (st == KW_FRAME_INVALID) {
            bk_log_msg("%s: frame refused (%s), closing", c->peer, kw_err_name(f.err));
            br->stats.frames_refused++;
            bk_conn_close(br, c);
            return;
        }
        if (st == KW_FRAME_NEED_MORE) {
            if (have == 0) {
                c->frame_started = 0;
                c->rstart = c->rlen = 0;
            } else if (c->frame_started == 0) {
                c->frame_started = br->now;
            }
            return;
        }
        if (budget-- == 0) {
            c->ready = true;
            return;
        }
        c->frame_started = 0;
        run_frame(br, c, false, false);
        bk_process_wakes(br);
    }
}

/* Runs the frame at the head of the buffer through dispatch and acts on the result. */
static void run_frame(bk_broker *br, bk_conn *c, bool resumed, bool final)
{
    kw_frame f;
    if (kw_frame_split(c->rbuf + c->rstart, c->rlen - c->rstart, br->cfg.max_frame_bytes, &f) !=
        KW_FRAME_COMPLETE) {
        bk_conn_close(br, c);
        return;
    }
    bk_req req;
    memset(&req, 0, sizeof req);
    req.br = br;
    req.conn = c;
    req.frame = c->rbuf + c->rstart + KW_FRAME_PREFIX;
    req.frame_len = f.size;
    req.out = &c->out;
    req.resumed = resumed;
    req.final = final;
    kw_builder_reset(&c->out);
    release_files(c);
    br->stats.requests++;
    br->partitions_created_in_request = 0;
    bk_result res = bk_dispatch(&req);
    bk_scratch_free(&req.scratch);
    switch (res) {
    case BK_RESPOND:
        c->park = BK_PARK_NONE;
        c->rstart += f.total;
        c->sending = true;
        c->sent = 0;
        c->send_started = br->now;
        try_send(br, c);
        break;
    case BK_NO_RESPONSE:
        c->park = BK_PARK_NONE;
        c->rstart += f.total;
        kw_builder_reset(&c->out);
        release_files(c);
        break;
    case BK_PARKED:
        c->park = req.park;
        c->park_deadline = req.park_deadline;
        kw_builder_reset(&c->out);
        release_files(c);
        conn_update_interest(br, c);
        break;
    case BK_CLOSE:
        bk_conn_close(br, c);
        break;
    }
    if (!c->closing && c->rstart == c->rlen) {
        c->rstart = c->rlen = 0;
        /* others wait for request memory: give the large buffer back now */
        if (br->request_memory_waiters && c->rcap > br->cfg.conn_buffer_bytes)
            rbuf_free(br, c);
    }
}

void bk_conn_wake(bk_broker *br, bk_conn *c)
{
    if (!c || c->closing || c->park == BK_PARK_NONE)
        return;
    c->wake = true;
    br->wake_pending = true;
}

void bk_process_wakes(bk_broker *br)
{
    if (br->in_wake)
        return;
    br->in_wake = true;
    for (int rounds = 0; br->wake_pending && rounds < 8; rounds++) {
        br->wake_pending = false;
        for (bk_conn *c = br->conns; c; c = c->next) {
            if (!c->wake)
                continue;
            c->wake = false;
            bk_conn_resume(br, c, false);
        }
    }
    br->in_wake = false;
}

void bk_conn_resume(bk_broker *br, bk_conn *c, bool final)
{
    if (c->closing || c->park == BK_PARK_NONE)
        return;
    run_frame(br, c, true, final);
    /* frames the client sent meanwhile wait for the loop's next turn */
    if (!c->closing && !c->sending && c->park == BK_PARK_NONE && c->rlen > c->rstart)
        c->ready = true;
}

/*
 * Makes room to read into. The buffer grows only when it is full: to the
 * frame being read (need, from rstart), never past it or the frame cap. So
 * a client must send a whole first buffer of a frame before the rest of
 * its announced size is allocated, and pages are touched only as bytes come.
 */
static bool ensure_room(bk_broker *br, bk_conn *c, size_t need)
{
    if (c->rstart > 0 && (c->rcap - c->rlen < 4096 || c->rcap - c->rstart < need)) {
        memmove(c->rbuf, c->rbuf + c->rstart, c->rlen - c->rstart);
        c->rlen -= c->rstart;
        c->rstart = 0;
    }
    if (c->rcap > c->rlen)
        return true;
    size_t limit = br->cfg.max_frame_bytes + KW_FRAME_PREFIX;
    if (limit < br->cfg.conn_buffer_bytes)
        limit = br->cfg.conn_buffer_bytes;
    if (need < br->cfg.conn_buffer_bytes)
        need = br->cfg.conn_buffer_bytes;
    size_t cap = c->rcap ? need : br->cfg.conn_buffer_bytes;
    if (cap > limit)
        cap = limit;
    if (cap <= c->rcap)
        return false; /* a whole frame is in: nothing more to read until it is answered */
    if (!request_memory_allows(br, c, cap))
        return false;
    uint8_t *nb = realloc(c->rbuf, cap);
    if (!nb)
        return false;
    rbuf_set(br, c, nb, cap);
    return true;
}

void bk_conn_on_readable(bk_broker *br, bk_conn *c)
{
    if (c->closing || c->sending || c->park != BK_PARK_NONE || c->read_paused)
        return;
    for (int rounds = 0; rounds < 16; rounds++) {
        size_t have = c->rlen - c->rstart;
        size_t need = br->cfg.conn_buffer_bytes;
        kw_frame f;
        kw_frame_status st = kw_frame_split(c->rbuf ? c->rbuf + c->rstart : NULL, have,
                                            br->cfg.max_frame_bytes, &f);
        if (st == KW_FRAME_INVALID)
            break; /* process_frames refuses it */
        if (st == KW_FRAME_COMPLETE)
            break;
        if (f.total > need)
            need = f.total;
        if (!ensure_room(br, c, need)) {
            if (c->read_paused || c->rcap > c->rlen || c->rcap >= need)
                break;
            bk_conn_close(br, c); /* out of memory */
            return;
        }
        ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            bk_conn_close(br, c);
            return;
        }
        if (n == 0) {
            bk_conn_close(br, c);
            return;
        }
        c->rlen += (size_t)n;
        c->last_activity = br->now;
    }
    process_frames(br, c);
}

void bk_conn_on_writable(bk_broker *br, bk_conn *c)
{
    if (c->closing || !c->sending)
        return;
    try_send(br, c);
    if (!c->closing && !c->sending)
        process_frames(br, c);
}

/* ---- timers -------------------------------------------------------------------------------- */

void bk_loop_housekeeping(bk_broker *br)
{
    br->now = bk_now_ms();
    bool wake = br->fetch_wakeup;
    br->fetch_wakeup = false;
    for (bk_conn *c = br->conns; c; c = c->next) {
        if (c->closing)
            continue;
        if (c->park == BK_PARK_FETCH && (wake || br->now >= c->park_deadline))
            bk_conn_resume(br, c, br->now >= c->park_deadline);
        if (c->closing)
            continue;
        if (c->sending && br->now - c->send_started > br->cfg.write_timeout_ms) {
            bk_log_msg("%s: response not read for %lld ms, closing", c->peer,
                       (long long)br->cfg.write_timeout_ms);
            br->stats.timeouts++;
            bk_conn_close(br, c);
        } else if (c->frame_started && !c->read_paused &&
                   br->now - c->frame_started > br->cfg.frame_timeout_ms) {
            bk_log_msg("%s: request not completed in %lld ms, closing", c->peer,
                       (long long)br->cfg.frame_timeout_ms);
            br->stats.timeouts++;
            bk_conn_close(br, c);
        } else if (!c->sending && c->park == BK_PARK_NONE && c->rlen == c->rstart &&
                   br->now - c->last_activity > br->cfg.idle_timeout_ms) {
            br->stats.timeouts++;
            bk_conn_close(br, c);
        } else if (c->rcap > br->cfg.conn_buffer_bytes && c->rlen == c->rstart &&
                   c->park == BK_PARK_NONE && br->now - c->last_activity > 1000) {
            /* large frames stopped coming: give the buffer back */
            rbuf_free(br, c);
        }
    }
    bk_groups_tick(br);
    bk_process_wakes(br);
    for (bk_conn *c = br->conns; c; c = c->next)
        if (c->ready && !c->closing)
            process_frames(br, c);
    if (br->cfg.fsync == BK_FSYNC_INTERVAL && br->now - br->last_fsync >= br->cfg.fsync_interval_ms) {
        bk_broker_sync_all(br);
        br->last_fsync = br->now;
    }
    /* retention, checked every 5 minutes as Kafka's log.retention.check.interval.ms */
    if (br->now - br->last_retention >= 300000) {
        br->last_retention = br->now;
        bk_broker_apply_retention(br, bk_wall_ms());
    }
    /* free closed connections: nothing refers to them past this point */
    bk_conn *c = br->conns;
    while (c) {
        bk_conn *next = c->next;
        if (c->closing)
            conn_free(br, c);
        c = next;
    }
}

/* ---- listening ------------------------------------------------------------------------------ */

int bk_listen(bk_broker *br)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[16];
    snprintf(port, sizeof port, "%d", br->cfg.listen_port);
    const char *host = br->cfg.listen_host[0] ? br->cfg.listen_host : NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        bk_log_msg("cannot resolve %s: %s", host ? host : "*", gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        bk_log_msg("cannot listen on %s:%d: %s", host ? host : "*", br->cfg.listen_port,
                   strerror(errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int bound = br->cfg.listen_port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    br->listen_fd = fd;
    br->cfg.listen_port = bound;
    const char *ah = br->cfg.advertise_host;
    if (!ah[0]) {
        ah = br->cfg.listen_host;
        if (!ah[0] || !strcmp(ah, "0.0.0.0") || !strcmp(ah, "::") || !strcmp(ah, "[::]"))
            ah = "127.0.0.1";
    }
    snprintf(br->advertised_host, sizeof br->advertised_host, "%s", ah);
    br->advertised_port = br->cfg.advertise_port ? br->cfg.advertise_port : bound;
    return 0;
}

static void accept_all(bk_broker *br)
{
    for (int i = 0; i < 64; i++) {
        int fd = accept4(br->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                bk_log_msg("accept: %s: pausing accepts for %d ms", strerror(errno), TICK_MS);
                /* level-triggered, the listener would wake the loop at once again */
                struct epoll_event ev;
                memset(&ev, 0, sizeof ev);
                ev.data.ptr = NULL;
                if (epoll_ctl(br->epfd, EPOLL_CTL_MOD, br->listen_fd, &ev) == 0)
                    br->accept_paused_at = br->now;
            }
            return;
        }
        br->stats.accepted++;
        if ((int)br->nconns >= br->cfg.max_connections) {
            close(fd);
            continue;
        }
        if (!bk_conn_new(br, fd))
            close(fd);
    }
}

int bk_run(bk_broker *br)
{
    br->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (br->epfd < 0)
        return -1;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    br->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    if (epoll_ctl(br->epfd, EPOLL_CTL_ADD, br->listen_fd, &ev) != 0)
        return -1;
    static int signal_tag;
    if (br->signal_fd >= 0) {
        ev.data.ptr = &signal_tag;
        epoll_ctl(br->epfd, EPOLL_CTL_ADD, br->signal_fd, &ev);
    }
    for (bk_conn *c = br->conns; c; c = c->next)
        conn_update_interest(br, c);
    printf("kwire-broker: listening on %s:%d\n", br->advertised_host, br->advertised_port);
    fflush(stdout);
    struct epoll_event events[256];
    while (!br->stopping) {
        int timeout = TICK_MS;
        for (bk_conn *c = br->conns; c; c = c->next)
            if (c->ready && !c->closing)
                timeout = 0;
        int n = epoll_wait(br->epfd, events, 256, timeout);
        br->now = bk_now_ms();
        if (n < 0 && errno != EINTR) {
            bk_log_msg("epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            if (tag == NULL) {
                accept_all(br);
                continue;
            }
            if (tag == &signal_tag) {
                struct signalfd_siginfo si;
                while (read(br->signal_fd, &si, sizeof si) == (ssize_t)sizeof si)
                    bk_log_msg("signal %u: shutting down", si.ssi_signo);
                br->stopping = true;
                continue;
            }
            bk_conn *c = tag;
            if (c->closing)
                continue;
            uint32_t e = events[i].events;
            if (e & EPOLLERR) {
                bk_conn_close(br, c);
                continue;
            }
            if (e & EPOLLOUT)
                bk_conn_on_writable(br, c);
            if (!c->closing && (e & EPOLLIN))
                bk_conn_on_readable(br, c);
            if (!c->closing && (e & (EPOLLHUP | EPOLLRDHUP)) &&
                (c->sending || c->park != BK_PARK_NONE || !(e & EPOLLIN)))
                bk_conn_close(br, c);
        }
        /* a paused accept (out of fds) resumes after a tick */
        if (br->accept_paused_at && br->now - br->accept_paused_at >= TICK_MS) {
            struct epoll_event lev;
            memset(&lev, 0, sizeof lev);
            lev.events = EPOLLIN;
            lev.data.ptr = NULL;
            epoll_ctl(br->epfd, EPOLL_CTL_MOD, br->listen_fd, &lev);
            br->accept_paused_at = 0;
        }
        bk_loop_housekeeping(br);
    }
    bk_conns_free_all(br);
    bk_broker_sync_all(br);
    return 0;
}
