/*
 * kwire-dump's TCP reassembly: one connection per (client, server) pair of
 * endpoints, each direction put back in sequence order, then cut into
 * Kafka frames.
 *
 * Segments that arrive early wait in a bounded queue; retransmitted and
 * overlapping bytes are dropped; when bytes never come (the queue is full,
 * the connection closes, the capture ends) the hole is a gap: the frame it
 * falls into is skipped with a note, and when the gap hides where the next
 * frame starts, the stream is searched for the next offset where a whole
 * frame decodes (a request, or a response to a request in flight). A
 * capture that starts inside a connection is searched the same way.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

#define OOO_MAX_BYTES (32u << 20) /* early bytes held per direction */
#define OOO_MAX_SEGS 16384
#define RESYNC_MAX (16u << 20)    /* largest candidate frame waited for while searching */
#define CONN_MAX (1u << 20)       /* connections open at once */
#define BUCKETS 65536

struct seg {
    uint32_t seq;
    size_t len;
    uint8_t *data;
};

struct half {
    bool started;      /* next_seq is known */
    bool syn;          /* the stream's start was seen */
    bool closed;
    bool fin;
    bool lost;         /* searching for a frame boundary */
    bool lost_at_start; /* ... because the capture started inside the stream */
    uint32_t isn, next_seq, fin_seq;
    uint64_t delivered;      /* stream offset of the next byte in order */
    uint8_t *buf;            /* in-order bytes not yet cut into frames: buf[rd..len) */
    size_t rd, len, cap;
    uint64_t skip;           /* rest of a damaged frame still to drop */
    uint64_t lost_skipped;   /* bytes dropped during this search */
    uint64_t lost_from;      /* stream offset where the search began */
    size_t scan;             /* buf[rd..rd+scan) holds no frame start */
    struct seg *ooo;         /* early segments, by sequence number */
    size_t nooo, ooo_cap, ooo_bytes;
};

struct conn {
    uint32_t id;
    uint8_t family;
    uint8_t caddr[16], saddr[16];
    uint16_t cport, sport;
    char client[56], server[56];
    struct half half[2]; /* [0] client to server: requests; [1] the responses */
    struct pending_list pending;
    struct conn *next;
};

struct tcp_table {
    const struct dump_options *opt;
    const char *name;
    struct conn *buckets[BUCKETS];
    size_t live;
    uint32_t next_id;
    uint64_t frame_no;
    bool noted_conn_max;
    /* the packet being read: frames it completes carry its number and time */
    uint64_t packet;
    int64_t ts_sec;
    uint32_t ts_nsec;
    bool ts_nano;
};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void conn_note(const struct tcp_table *t, const struct conn *c, int dir, const char *fmt, ...)
{
    if (t->opt->quiet_notes)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: conn %" PRIu32 " %s %s -> %s (packet %" PRIu64 "): ", t->name, c->id,
            dir ? "response" : "request", dir ? c->server : c->client, dir ? c->client : c->server,
            t->packet);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- connections ---------------------------------------------------------------- */

static void endpoint_text(char *out, size_t cap, uint8_t family, const uint8_t *addr,
                          uint16_t port)
{
    char ip[INET6_ADDRSTRLEN];
    if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, ip, sizeof ip))
        snprintf(ip, sizeof ip, "?");
    snprintf(out, cap, family == 4 ? "%s:%u" : "[%s]:%u", ip, port);
}

static size_t addr_len(uint8_t family) { return family == 4 ? 4 : 16; }

static uint32_t endpoint_hash(uint8_t family, const uint8_t *addr, uint16_t port)
{
    uint32_t h = 2166136261u ^ port;
    for (size_t i = 0; i < addr_len(family); i++)
        h = (h ^ addr[i]) * 16777619u;
    return h;
}

/* Both directions of a connection land in the same bucket. */
static size_t bucket_of(const struct tcp_segment *s)
{
    uint32_t a = endpoint_hash(s->family, s->src, s->sport);
    uint32_t b = endpoint_hash(s->family, s->dst, s->dport);
    return (a ^ b) % BUCKETS;
}

static bool same(uint8_t family, const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp)
{
    return ap == bp && memcmp(a, b, addr_len(family)) == 0;
}

/* The connection of a segment, and the segment's direction (0: from the client). */
static struct conn *find(struct tcp_table *t, const struct tcp_segment *s, int *dir)
{
    for (struct conn *c = t->buckets[bucket_of(s)]; c; c = c->next) {
        if (c->family != s->family)
            continue;
        if (same(s->family, c->caddr, c->cport, s->src, s->sport) &&
            same(s->family, c->saddr, c->sport, s->dst, s->dport)) {
            *dir = 0;
            return c;
        }
        if (same(s->family, c->saddr, c->sport, s->src, s->sport) &&
            same(s->family, c->caddr, c->cport, s->dst, s->dport)) {
            *dir = 1;
            return c;
        }
    }
    return NULL;
}

static bool port_selected(const struct dump_options *opt, uint16_t port)
{
    for (size_t i = 0; i < opt->port_count; i++)
        if (opt->ports[i] == port)
            return true;
    return false;
}

static struct conn *create(struct tcp_table *t, const struct tcp_segment *s, int *dir)
{
    if (t->live >= CONN_MAX) {
        if (!t->noted_conn_max && !t->opt->quiet_notes)
            fprintf(stderr, "%s: over %u connections open at once; later ones are ignored\n",
                    t->name, CONN_MAX);
        t->noted_conn_max = true;
        return NULL;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    /* who is the client: who sent the SYN, else whoever talks to a Kafka port */
    bool from_client;
    if (s->flags & TCP_SYN)
        from_client = !(s->flags & TCP_ACK);
    else
        from_client = port_selected(t->opt, s->dport);
    *dir = from_client ? 0 : 1;
    c->family = s->family;
    memcpy(c->caddr, from_client ? s->src : s->dst, 16);
    memcpy(c->saddr, from_client ? s->dst : s->src, 16);
    c->cport = from_client ? s->sport : s->dport;
    c->sport = from_client ? s->dport : s->sport;
    endpoint_text(c->client, sizeof c->client, c->family, c->caddr, c->cport);
    endpoint_text(c->server, sizeof c->server, c->family, c->saddr, c->sport);
    c->id = ++t->next_id;
    size_t b = bucket_of(s);
    c->next = t->buckets[b];
    t->buckets[b] = c;
    t->live++;
    g_stats.connections++;
    return c;
}

/* ---- frames out ---------------------------------------------------------------------- */

static void emit(struct tcp_table *t, struct conn *c, int dir, const uint8_t *body, size_t size,
                 uint64_t offset)
{
    struct frame_origin o;
    memset(&o, 0, sizeof o);
    o.source = t->name;
    o.frame_no = t->frame_no++;
    o.offset = offset;
    o.dir = dir ? DIR_RESPONSE : DIR_REQUEST;
    o.conn = c->id;
    o.client = c->client;
    o.server = c->server;
    o.packet = t->packet;
    o.ts_sec = t->ts_sec;
    o.ts_nsec = t->ts_nsec;
    o.ts_nano = t->ts_nano;
    dump_frame(t->opt, &c->pending, &o, body, size);
}

static bool append(struct half *h, const uint8_t *data, size_t len)
{
    if (h->rd && h->rd == h->len)
        h->rd = h->len = 0;
    if (len > h->cap - h->len && h->rd) { /* slide the unread bytes to the front */
        memmove(h->buf, h->buf + h->rd, h->len - h->rd);
        h->len -= h->rd;
        h->rd = 0;
    }
    if (len > h->cap - h->len) {
        size_t want = h->cap ? h->cap : 4096;
        while (want - h->len < len) {
            if (want > SIZE_MAX / 2)
                return false;
            want *= 2;
        }
        uint8_t *b = realloc(h->buf, want);
        if (!b)
            return false;
        h->buf = b;
        h->cap = want;
    }
    if (len)
        memcpy(h->buf + h->len, data, len);
    h->len += len;
    return true;
}

static void drop_buffer(struct half *h)
{
    h->rd = h->len = 0;
    h->scan = 0;
}

/*
 * Looks for a frame boundary in the buffered bytes: an offset where a whole
 * frame of this direction decodes. Returns true when found (h->lost is
 * cleared); false when more bytes are needed.
 */
static bool resync(struct tcp_table *t, struct conn *c, int dir)
{
    struct half *h = &c->half[dir];
    enum frame_dir fd = dir ? DIR_RESPONSE : DIR_REQUEST;
    size_t avail = h->len - h->rd;
    size_t i = h->scan;
    while (i + 8 <= avail) {
        const uint8_t *p = h->buf + h->rd + i;
        if (!frame_head_plausible(t->opt, &c->pending, fd, p, 8)) {
            i++;
            continue;
        }
        size_t size = kw_load_be32(p);
        if (size > avail - i - 4) {
            if (size + 4 <= RESYNC_MAX)
                break; /* wait for the rest of this candidate */
            i++;
            continue;
        }
        if (frame_plausible(t->opt, &c->pending, fd, p + 4, size)) {
            h->lost_skipped += i;
            h->rd += i;
            h->scan = 0;
            h->lost = false;
            if (h->lost_skipped) {
                g_stats.skipped_bytes += h->lost_skipped;
                if (h->lost_at_start)
                    conn_note(t, c, dir, "the capture starts inside this connection: skipped %"
                              PRIu64 " bytes to the first frame, at stream offset %" PRIu64,
                              h->lost_skipped, h->lost_from + h->lost_skipped);
                else {
                    g_stats.failures++;
                    conn_note(t, c, dir, "skipped %" PRIu64 " bytes from stream offset %" PRIu64
                              "; the next frame starts at stream offset %" PRIu64,
                              h->lost_skipped, h->lost_from, h->lost_from + h->lost_skipped);
                }
            }
            h->lost_skipped = 0;
            h->lost_at_start = false;
            return true;
        }
        i++;
    }
    /* offsets below i start no frame: drop them */
    h->lost_skipped += i;
    h->rd += i;
    h->scan = 0;
    if (h->rd == h->len)
        h->rd = h->len = 0;
    return false;
}

/* Stream offset of buf[rd]. */
static uint64_t buf_offset(const struct half *h) { return h->delivered - (h->len - h->rd); }

/* Cuts the buffered bytes into frames. */
static void cut(struct tcp_table *t, struct conn *c, int dir)
{
    struct half *h = &c->half[dir];
    for (;;) {
        if (h->lost && !resync(t, c, dir))
            return;
        size_t avail = h->len - h->rd;
        if (!avail)
            break;
        kw_frame f;
        kw_frame_status st = kw_frame_split(h->buf + h->rd, avail, t->opt->max_frame, &f);
        if (st == KW_FRAME_NEED_MORE)
            break;
        uint64_t at = buf_offset(h);
        if (st == KW_FRAME_INVALID) {
            conn_note(t, c, dir, "frame at stream offset %" PRIu64 ": size %" PRId32 ": %s; "
                      "looking for the next frame", at, (int32_t)kw_load_be32(h->buf + h->rd),
                      kw_err_message(f.err));
            g_stats.undecoded++;
            g_stats.failures++;
            h->lost = true;
            h->lost_from = at;
            h->lost_skipped = 0;
            h->scan = 1;
            continue;
        }
        emit(t, c, dir, f.body, f.size, at);
        h->rd += f.total;
    }
    if (h->rd == h->len)
        h->rd = h->len = 0;
}

/* Bytes that arrive in order. */
static void deliver(struct tcp_table *t, struct conn *c, int dir, const uint8_t *data, size_t len)
{
    struct half *h = &c->half[dir];
    if (h->skip) {
        size_t k = h->skip < len ? (size_t)h->skip : len;
        h->skip -= k;
        h->delivered += k;
        data += k;
        len -= k;
    }
    if (!len)
        return;
    uint64_t at = h->delivered;
    h->delivered += len;
    if (h->len == h->rd && !h->lost) {
        /* nothing buffered: frames that lie whole in this segment need no copy */
        size_t off = 0;
        while (off < len) {
            kw_frame f;
            if (kw_frame_split(data + off, len - off, t->opt->max_frame, &f) != KW_FRAME_COMPLETE)
                break;
            emit(t, c, dir, f.body, f.size, at + off);
            off += f.total;
        }
        data += off;
        len -= off;
        if (!len)
            return;
    }
    if (!append(h, data, len)) {
        conn_note(t, c, dir, "out of memory buffering %zu bytes; they are skipped", len);
        g_stats.failures++;
        drop_buffer(h);
        h->lost = true;
        h->lost_from = h->delivered;
        return;
    }
    cut(t, c, dir);
}

/*
 * A request that lost bytes still tells, in its first 8 bytes after the
 * prefix, which API and version its response answers: remember it so the
 * response decodes.
 */
static void lost_request(struct tcp_table *t, struct conn *c, const uint8_t *head, char *what,
                         size_t cap)
{
    int16_t key = (int16_t)kw_load_be16(head), version = (int16_t)kw_load_be16(head + 2);
    int32_t corr = (int32_t)kw_load_be32(head + 4);
    const kw_api_info *api = kw_api_lookup(key);
    if (!api || !kw_api_version_supported(key, version)) {
        snprintf(what, cap, ", correlation id %" PRId32, corr);
        return;
    }
    snprintf(what, cap, ", %s v%d, correlation id %" PRId32, api->name, version, corr);
    struct pending p = {corr, key, version, t->opt->topic_count == 0, t->ts_sec, t->ts_nsec, false};
    pending_add(&c->pending, &p);
}

/* n bytes at stream offset h->delivered will never come. */
static void gap(struct tcp_table *t, struct conn *c, int dir, uint64_t n)
{
    struct half *h = &c->half[dir];
    uint64_t at = h->delivered;
    g_stats.gaps++;
    g_stats.gap_bytes += n;
    g_stats.failures++;
    size_t avail = h->len - h->rd;
    if (h->lost) {
        conn_note(t, c, dir, "%" PRIu64 " bytes missing at stream offset %" PRIu64
                  " while looking for a frame boundary", n, at);
        h->lost_skipped += avail + n;
        drop_buffer(h);
    } else if (h->skip) {
        if (h->skip > n) {
            h->skip -= n;
            conn_note(t, c, dir, "%" PRIu64 " more bytes missing at stream offset %" PRIu64
                      " inside the frame already skipped", n, at);
        } else {
            conn_note(t, c, dir, "%" PRIu64 " bytes missing at stream offset %" PRIu64
                      ", past the end of the frame already skipped; looking for the next frame",
                      n, at);
            h->skip = 0;
            h->lost = true;
            h->lost_from = at;
            h->lost_skipped = n;
        }
    } else if (avail >= 4) {
        uint64_t start = buf_offset(h);
        uint64_t total = (uint64_t)kw_load_be32(h->buf + h->rd) + KW_FRAME_PREFIX;
        char what[96] = "";
        if (avail >= 12 && dir == 0)
            lost_request(t, c, h->buf + h->rd + 4, what, sizeof what);
        else if (avail >= 8) {
            /* a response: its request will get no answer */
            int32_t corr = (int32_t)kw_load_be32(h->buf + h->rd + 4);
            struct pending p;
            if (dir == 1 && pending_take(&c->pending, corr, &p)) {
                const kw_api_info *api = kw_api_lookup(p.api_key);
                snprintf(what, sizeof what, ", %s v%d, correlation id %" PRId32,
                         api ? api->name : "?", p.api_version, corr);
            } else {
                snprintf(what, sizeof what, ", correlation id %" PRId32, corr);
            }
        }
        g_stats.undecoded++;
        if (total > avail + n) {
            h->skip = total - avail - n;
            conn_note(t, c, dir, "%" PRIu64 " bytes missing at stream offset %" PRIu64
                      ": the frame at stream offset %" PRIu64 " (%" PRIu64 " bytes%s) is skipped",
                      n, at, start, total, what);
        } else {
            conn_note(t, c, dir, "%" PRIu64 " bytes missing at stream offset %" PRIu64
                      ": the frame at stream offset %" PRIu64 " (%" PRIu64 " bytes%s) is skipped "
                      "and the next one starts in the gap; looking for the next frame",
                      n, at, start, total, what);
            h->lost = true;
            h->lost_from = start + total;
            h->lost_skipped = avail + n - total;
        }
        drop_buffer(h);
    } else {
        uint64_t start = buf_offset(h);
        conn_note(t, c, dir, "%" PRIu64 " bytes missing at stream offset %" PRIu64
                  ": a frame starts in the gap; looking for the next frame", n, at);
        h->lost = true;
        h->lost_from = start;
        h->lost_skipped = avail + n;
        drop_buffer(h);
    }
    h->delivered += n;
}

/* Delivers the early segments that are now in order. */
static void drain(struct tcp_table *t, struct conn *c, int dir)
{
    struct half *h = &c->half[dir];
    size_t k = 0;
    while (k < h->nooo && (int32_t)(h->ooo[k].seq - h->next_seq) <= 0) {
        struct seg *s = &h->ooo[k++];
        uint32_t overlap = h->next_seq - s->seq;
        h->ooo_bytes -= s->len;
        if (overlap < s->len) {
            h->next_seq = s->seq + (uint32_t)s->len;
            g_stats.retransmitted_bytes += overlap;
            deliver(t, c, dir, s->data + overlap, s->len - overlap);
        } else {
            g_stats.retransmitted_bytes += s->len;
        }
        free(s->data);
    }
    if (k) {
        memmove(h->ooo, h->ooo + k, (h->nooo - k) * sizeof *h->ooo);
        h->nooo -= k;
    }
}

/* Gives up waiting for the bytes before the first early segment. */
static void skip_to_first_early(struct tcp_table *t, struct conn *c, int dir)
{
    struct half *h = &c->half[dir];
    if (!h->nooo)
        return;
    uint32_t n = h->ooo[0].seq - h->next_seq;
    gap(t, c, dir, n);
    h->next_seq = h->ooo[0].seq;
    drain(t, c, dir);
}

static void hold_early(struct tcp_table *t, struct conn *c, int dir, uint32_t seq,
                       const uint8_t *data, size_t len)
{
    struct half *h = &c->half[dir];
    uint32_t dist = seq - h->next_seq;
    size_t i = h->nooo;
    while (i > 0 && h->ooo[i - 1].seq - h->next_seq > dist)
        i--;
    if (i > 0 && h->ooo[i - 1].seq == seq && h->ooo[i - 1].len >= len) {
        g_stats.retransmitted_bytes += len; /* a copy of one already held */
        return;
    }
    if (h->nooo == h->ooo_cap) {
        size_t ncap = h->ooo_cap ? h->ooo_cap * 2 : 16;
        struct seg *n = realloc(h->ooo, ncap * sizeof *n);
        if (!n)
            return;
        h->ooo = n;
        h->ooo_cap = ncap;
    }
    uint8_t *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, data, len);
    memmove(h->ooo + i + 1, h->ooo + i, (h->nooo - i) * sizeof *h->ooo);
    h->ooo[i] = (struct seg){seq, len, copy};
    h->nooo++;
    h->ooo_bytes += len;
    while (h->nooo && (h->ooo_bytes > OOO_MAX_BYTES || h->nooo > OOO_MAX_SEGS))
        skip_to_first_early(t, c, dir);
}

static void data_in(struct tcp_table *t, struct conn *c, int dir, uint32_t seq,
                    const uint8_t *data, size_t len, size_t missing)
{
    struct half *h = &c->half[dir];
    if (h->closed)
        return;
    if (!h->started) {
        /* no SYN seen: the capture began inside the stream */
        h->started = true;
        h->next_seq = seq;
        h->lost = true;
        h->lost_at_start = true;
        h->lost_from = 0;
    }
    int32_t diff = (int32_t)(seq - h->next_seq);
    if (diff > 0) {
        if (len)
            hold_early(t, c, dir, seq, data, len);
        return;
    }
    size_t overlap = (size_t)(-(int64_t)diff);
    if (overlap >= len + missing) {
        g_stats.retransmitted_bytes += len;
        return;
    }
    if (overlap < len) {
        g_stats.retransmitted_bytes += overlap;
        h->next_seq = seq + (uint32_t)len;
        deliver(t, c, dir, data + overlap, len - overlap);
    }
    if (missing) {
        /* the snapshot length cut the tail off: those bytes will never come */
        size_t from = overlap > len ? overlap - len : 0;
        gap(t, c, dir, missing - from);
        h->next_seq = seq + (uint32_t)(len + missing);
    }
    drain(t, c, dir);
}

/*
 * The peer acknowledged every byte before ack: bytes of that range the
 * capture has not seen never will be (the peer has them, nobody sends them
 * again), so waiting for them would hold back this direction and leave the
 * other one's responses without their requests.
 */
static void acked(struct tcp_table *t, struct conn *c, int dir, uint32_t ack)
{
    struct half *h = &c->half[dir];
    if (!h->started || h->closed)
        return;
    uint32_t limit = ack;
    if (h->fin && ack == h->fin_seq + 1)
        limit = h->fin_seq; /* the FIN takes a sequence number, not a byte */
    int32_t ahead = (int32_t)(limit - h->next_seq);
    if (ahead <= 0 || ahead > (1 << 30))
        return;
    while (h->nooo && (int32_t)(limit - h->ooo[0].seq) >= 0)
        skip_to_first_early(t, c, dir);
    ahead = (int32_t)(limit - h->next_seq);
    if (ahead > 0) {
        gap(t, c, dir, (uint64_t)ahead);
        h->next_seq = limit;
        drain(t, c, dir);
    }
}

/* The direction ended (FIN, RST, end of capture): nothing more will come. */
static void close_half(struct tcp_table *t, struct conn *c, int dir, const char *why)
{
    struct half *h = &c->half[dir];
    if (h->closed)
        return;
    while (h->nooo)
        skip_to_first_early(t, c, dir);
    size_t avail = h->len - h->rd;
    if (h->lost) {
        uint64_t n = h->lost_skipped + avail;
        if (n) {
            g_stats.skipped_bytes += n;
            if (!h->lost_at_start)
                g_stats.failures++;
            conn_note(t, c, dir, "%s: skipped the last %" PRIu64 " bytes (from stream offset %"
                      PRIu64 "): no frame boundary found in them", why, n, h->lost_from);
        }
    } else if (avail) {
        g_stats.undecoded++;
        g_stats.failures++;
        if (avail >= 4)
            conn_note(t, c, dir, "%s inside the frame at stream offset %" PRIu64 ": %zu of its %"
                      PRIu64 " bytes are here", why, buf_offset(h), avail,
                      (uint64_t)kw_load_be32(h->buf + h->rd) + KW_FRAME_PREFIX);
        else
            conn_note(t, c, dir, "%s inside the length prefix of the frame at stream offset %"
                      PRIu64 " (%zu of 4 bytes)", why, buf_offset(h), avail);
    }
    free(h->buf);
    free(h->ooo);
    h->buf = NULL;
    h->ooo = NULL;
    h->rd = h->len = h->cap = h->nooo = h->ooo_cap = h->ooo_bytes = 0;
    h->closed = true;
}

static void unlink_conn(struct tcp_table *t, struct conn *c)
{
    struct tcp_segment key;
    memset(&key, 0, sizeof key);
    key.family = c->family;
    memcpy(key.src, c->caddr, 16);
    memcpy(key.dst, c->saddr, 16);
    key.sport = c->cport;
    key.dport = c->sport;
    struct conn **pp = &t->buckets[bucket_of(&key)];
    while (*pp && *pp != c)
        pp = &(*pp)->next;
    if (*pp)
        *pp = c->next;
    t->live--;
}

static void finish_conn(struct tcp_table *t, struct conn *c, const char *why)
{
    close_half(t, c, 0, why);
    close_half(t, c, 1, why);
    g_stats.unanswered += c->pending.count;
    pending_free(&c->pending);
    unlink_conn(t, c);
    free(c);
}

/* ---- segments in ----------------------------------------------------------------------- */

struct tcp_table *tcp_table_new(const struct dump_options *opt, const char *name)
{
    struct tcp_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->opt = opt;
    t->name = name;
    return t;
}

void tcp_segment_in(struct tcp_table *t, const struct tcp_segment *s)
{
    t->packet = s->packet;
    t->ts_sec = s->ts_sec;
    t->ts_nsec = s->ts_nsec;
    t->ts_nano = s->ts_nano;
    int dir = 0;
    struct conn *c = find(t, s, &dir);
    bool syn = (s->flags & TCP_SYN) != 0;
    /* a new SYN from the client on a known pair: the ports were reused */
    if (c && syn && !(s->flags & TCP_ACK) && dir == 0 && c->half[0].syn &&
        s->seq != c->half[0].isn) {
        finish_conn(t, c, "connection replaced by a new one on the same ports");
        c = NULL;
    }
    if (!c) {
        if ((s->flags & TCP_RST) || (!syn && s->len == 0 && s->missing == 0))
            return; /* nothing to follow */
        c = create(t, s, &dir);
        if (!c)
            return;
    }
    struct half *h = &c->half[dir];
    uint32_t seq = s->seq;
    if (syn) {
        if (!h->syn && (!h->started || h->delivered == 0)) {
            h->syn = true;
            h->isn = s->seq;
            h->started = true;
            h->next_seq = s->seq + 1;
            h->lost = false;
            h->lost_at_start = false;
        }
        seq = s->seq + 1;
    }
    /* what the peer acknowledged came before this segment's own bytes */
    if (s->flags & TCP_ACK)
        acked(t, c, !dir, s->ack);
    if (s->len || s->missing)
        data_in(t, c, dir, seq, s->payload, s->len, s->missing);
    if (s->flags & TCP_RST) {
        finish_conn(t, c, "connection reset");
        return;
    }
    if (s->flags & TCP_FIN) {
        h->fin = true;
        h->fin_seq = seq + (uint32_t)(s->len + s->missing);
    }
    /* a direction ends once every byte before its FIN is in */
    for (int d = 0; d < 2; d++) {
        struct half *x = &c->half[d];
        if (x->fin && !x->closed && x->started && x->next_seq == x->fin_seq)
            close_half(t, c, d, "connection closed");
    }
    if (c->half[0].closed && c->half[1].closed)
        finish_conn(t, c, "connection closed");
}

static int by_id(const void *a, const void *b)
{
    uint32_t x = (*(struct conn *const *)a)->id, y = (*(struct conn *const *)b)->id;
    return x < y ? -1 : x > y;
}

void tcp_table_finish(struct tcp_table *t)
{
    /* in connection order, so notes and late frames come out the same every time */
    struct conn **all = t->live ? malloc(t->live * sizeof *all) : NULL;
    size_t n = 0;
    for (size_t b = 0; b < BUCKETS && all; b++)
        for (struct conn *c = t->buckets[b]; c; c = c->next)
            all[n++] = c;
    if (all) {
        qsort(all, n, sizeof *all, by_id);
        for (size_t i = 0; i < n; i++)
            finish_conn(t, all[i], "the capture ends");
        free(all);
    }
    for (size_t b = 0; b < BUCKETS; b++) /* only when out of memory above */
        while (t->buckets[b])
            finish_conn(t, t->buckets[b], "the capture ends");
}

void tcp_table_free(struct tcp_table *t) { free(t); }
