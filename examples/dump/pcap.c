/*
 * kwire-dump's capture reader: classic pcap (either byte order, micro- or
 * nanosecond timestamps) and pcapng (section header, interface
 * description, enhanced, simple and obsolete packet blocks, a link type
 * and timestamp resolution per interface), then the link layer (Ethernet
 * with VLAN tags, Linux cooked v1 and v2, BSD loopback, raw IP), IPv4 or
 * IPv6 and the TCP header. TCP segments on the Kafka ports go to tcp.c.
 *
 * Captures are untrusted: every length is checked against the bytes that
 * were read before it is used, records and blocks have a size limit, and
 * a damaged file ends with a note, not a crash.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

#define RECORD_MAX (16u << 20) /* largest packet record or block accepted */
#define IFACE_MAX 4096         /* interfaces per pcapng section */
#define SYN_PORTS 16           /* server ports remembered for the hint */

struct iface {
    uint16_t linktype;
    uint32_t snaplen;
    uint64_t units;      /* timestamp units per second */
    int64_t offset_sec;  /* if_tsoffset */
};

struct cap {
    const struct dump_options *opt;
    const char *name;
    struct byte_source *src;
    uint64_t file_off;
    uint8_t *buf;
    size_t cap;
    struct tcp_table *tcp;
    uint64_t packet_no;
    bool failed;
    /* notes already given once */
    bool noted_link[300], noted_other_link, noted_fragment, noted_snap, noted_iface;
    /* connections opened to ports not selected, for the hint at the end */
    struct {
        uint16_t port;
        uint64_t count;
    } syn_ports[SYN_PORTS];
};

/* ---- bytes in ---------------------------------------------------------------- */

static size_t src_read(struct byte_source *s, uint8_t *dst, size_t n)
{
    size_t got = 0;
    if (s->pre_pos < s->pre_len) {
        size_t k = s->pre_len - s->pre_pos < n ? s->pre_len - s->pre_pos : n;
        memcpy(dst, s->pre + s->pre_pos, k);
        s->pre_pos += k;
        got += k;
    }
    if (got == n)
        return got;
    if (s->mem) {
        size_t left = s->mem_len - s->mem_pos;
        size_t k = left < n - got ? left : n - got;
        memcpy(dst + got, s->mem + s->mem_pos, k);
        s->mem_pos += k;
        return got + k;
    }
    if (s->file)
        got += fread(dst + got, 1, n - got, s->file);
    return got;
}

/* 1: all n bytes; 0: clean end of input before the first; -1: ends inside. */
static int read_exact(struct cap *c, uint8_t *dst, size_t n)
{
    size_t got = src_read(c->src, dst, n);
    c->file_off += got;
    if (got == n)
        return 1;
    return got == 0 ? 0 : -1;
}

/* A buffer of at least n bytes for a record. */
static uint8_t *room(struct cap *c, size_t n)
{
    if (n <= c->cap)
        return c->buf;
    size_t want = c->cap ? c->cap : 4096;
    while (want < n)
        want *= 2;
    uint8_t *b = realloc(c->buf, want);
    if (!b)
        return NULL;
    c->buf = b;
    c->cap = want;
    return b;
}

static uint16_t ld16(const uint8_t *p, bool be)
{
    return (uint16_t)(be ? p[0] << 8 | p[1] : p[1] << 8 | p[0]);
}

static uint32_t ld32(const uint8_t *p, bool be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void note(struct cap *c, bool *once, const char *fmt, ...)
{
    if (once) {
        if (*once)
            return;
        *once = true;
    }
    if (c->opt->quiet_notes)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", c->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- TCP, IP, link layers ------------------------------------------------------ */

static bool port_selected(const struct dump_options *opt, uint16_t port)
{
    for (size_t i = 0; i < opt->port_count; i++)
        if (opt->ports[i] == port)
            return true;
    return false;
}

static void remember_syn_port(struct cap *c, uint16_t port)
{
    for (int i = 0; i < SYN_PORTS; i++) {
        if (c->syn_ports[i].count && c->syn_ports[i].port == port) {
            c->syn_ports[i].count++;
            return;
        }
        if (!c->syn_ports[i].count) {
            c->syn_ports[i].port = port;
            c->syn_ports[i].count = 1;
            return;
        }
    }
}

/*
 * The TCP header at p (len bytes present of seg_len the IP header says);
 * missing: bytes the snapshot length cut off the end of the packet.
 */
static void tcp_in(struct cap *c, struct tcp_segment *s, const uint8_t *p, size_t len,
                   size_t seg_len, size_t missing)
{
    if (len < 20 || seg_len < 20)
        return;
    size_t doff = (size_t)(p[12] >> 4) * 4;
    if (doff < 20 || doff > seg_len || doff > len)
        return;
    s->sport = (uint16_t)(p[0] << 8 | p[1]);
    s->dport = (uint16_t)(p[2] << 8 | p[3]);
    s->seq = ld32(p + 4, true);
    s->ack = ld32(p + 8, true);
    s->flags = p[13];
    bool mine = port_selected(c->opt, s->sport) || port_selected(c->opt, s->dport);
    if (!mine) {
        if ((s->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
            remember_syn_port(c, s->dport);
        return;
    }
    s->payload = p + doff;
    size_t want = seg_len - doff;
    s->len = len - doff < want ? len - doff : want;
    s->missing = want - s->len;
    (void)missing;
    if (s->missing)
        note(c, &c->noted_snap, "packets were cut short by the snapshot length (first: packet "
             "%" PRIu64 "); their missing bytes show as gaps", s->packet);
    g_stats.tcp_packets++;
    g_stats.tcp_bytes += want;
    tcp_segment_in(c->tcp, s);
}

static void ipv4_in(struct cap *c, struct tcp_segment *s, const uint8_t *p, size_t len,
                    size_t missing)
{
    if (len < 20 || (p[0] >> 4) != 4)
        return;
    size_t ihl = (size_t)(p[0] & 15) * 4;
    if (ihl < 20 || ihl > len)
        return;
    size_t total = (size_t)(p[2] << 8 | p[3]);
    if (total == 0) /* segmentation offload: the length is left to the capture */
        total = len + missing;
    if (total < ihl)
        return;
    uint16_t frag = (uint16_t)(p[6] << 8 | p[7]);
    if (p[9] != 6)
        return;
    if (frag & 0x3fff) {
        note(c, &c->noted_fragment, "IP fragments are not reassembled (first: packet %" PRIu64
             "); their bytes show as gaps", s->packet);
        return;
    }
    s->family = 4;
    memset(s->src, 0, sizeof s->src);
    memset(s->dst, 0, sizeof s->dst);
    memcpy(s->src, p + 12, 4);
    memcpy(s->dst, p + 16, 4);
    size_t have = len < total ? len : total;
    tcp_in(c, s, p + ihl, have - ihl, total - ihl, total > len ? total - len : 0);
}

static void ipv6_in(struct cap *c, struct tcp_segment *s, const uint8_t *p, size_t len,
                    size_t missing)
{
    if (len < 40 || (p[0] >> 4) != 6)
        return;
    size_t plen = (size_t)(p[4] << 8 | p[5]);
    if (plen == 0) /* jumbogram or offload */
        plen = len + missing - 40;
    size_t total = 40 + plen;
    size_t have = len < total ? len : total;
    uint8_t next = p[6];
    size_t off = 40;
    for (int i = 0; i < 8 && next != 6; i++) {
        if (off + 8 > have)
            return;
        size_t hlen;
        if (next == 0 || next == 43 || next == 60) {
            hlen = ((size_t)p[off + 1] + 1) * 8;
        } else if (next == 44) { /* fragment header */
            if ((p[off + 2] << 8 | p[off + 3]) & 0xfff9) {
                note(c, &c->noted_fragment, "IP fragments are not reassembled (first: packet "
                     "%" PRIu64 "); their bytes show as gaps", s->packet);
                return;
            }
            hlen = 8;
        } else if (next == 51) { /* authentication header */
            hlen = ((size_t)p[off + 1] + 2) * 4;
        } else {
            return;
        }
        if (hlen > have - off)
            return;
        next = p[off];
        off += hlen;
    }
    if (next != 6 || off > have)
        return;
    s->family = 6;
    memcpy(s->src, p + 8, 16);
    memcpy(s->dst, p + 24, 16);
    tcp_in(c, s, p + off, have - off, total - off, total > len ? total - len : 0);
}

static void ip_in(struct cap *c, struct tcp_segment *s, uint16_t ethertype, const uint8_t *p,
                  size_t len, size_t missing)
{
    if (ethertype == 0x0800)
        ipv4_in(c, s, p, len, missing);
    else if (ethertype == 0x86dd)
        ipv6_in(c, s, p, len, missing);
}

/* One packet: data holds caplen bytes of a packet that was origlen long. */
static void packet_in(struct cap *c, uint16_t linktype, const uint8_t *data, size_t caplen,
                      size_t origlen, int64_t sec, uint32_t nsec, bool nano)
{
    struct tcp_segment s;
    memset(&s, 0, sizeof s);
    s.packet = ++c->packet_no;
    /* within +-2^40 s (35,000 years), so differences in microseconds fit */
    const int64_t ts_max = (int64_t)1 << 40;
    s.ts_sec = sec > ts_max ? ts_max : sec < -ts_max ? -ts_max : sec;
    s.ts_nsec = nsec < 1000000000u ? nsec : 999999999u;
    s.ts_nano = nano;
    g_stats.packets++;
    size_t missing = origlen > caplen ? origlen - caplen : 0;
    uint16_t et;
    switch (linktype) {
    case 1: { /* Ethernet */
        if (caplen < 14)
            return;
        size_t off = 14;
        et = (uint16_t)(data[12] << 8 | data[13]);
        for (int i = 0; i < 3 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); i++) {
            if (caplen < off + 4)
                return;
            et = (uint16_t)(data[off + 2] << 8 | data[off + 3]);
            off += 4;
        }
        ip_in(c, &s, et, data + off, caplen - off, missing);
        return;
    }
    case 113: /* Linux cooked capture v1 */
        if (caplen < 16)
            return;
        ip_in(c, &s, (uint16_t)(data[14] << 8 | data[15]), data + 16, caplen - 16, missing);
        return;
    case 276: /* Linux cooked capture v2 */
        if (caplen < 20)
            return;
        ip_in(c, &s, (uint16_t)(data[0] << 8 | data[1]), data + 20, caplen - 20, missing);
        return;
    case 0:     /* BSD loopback: address family in the capturing host's byte order */
    case 108: { /* OpenBSD loopback: network byte order */
        if (caplen < 4)
            return;
        uint32_t af = ld32(data, true);
        if (linktype == 0 && (af & 0xffff0000u))
            af = ld32(data, false);
        if (af == 2)
            ipv4_in(c, &s, data + 4, caplen - 4, missing);
        else if (af == 10 || af == 24 || af == 28 || af == 30)
            ipv6_in(c, &s, data + 4, caplen - 4, missing);
        return;
    }
    case 101: /* raw IP */
    case 12:
    case 14:
        if (caplen < 1)
            return;
        if ((data[0] >> 4) == 4)
            ipv4_in(c, &s, data, caplen, missing);
        else if ((data[0] >> 4) == 6)
            ipv6_in(c, &s, data, caplen, missing);
        return;
    case 228:
        ipv4_in(c, &s, data, caplen, missing);
        return;
    case 229:
        ipv6_in(c, &s, data, caplen, missing);
        return;
    default:
        note(c, linktype < 300 ? &c->noted_link[linktype] : &c->noted_other_link,
             "link type %u is not supported; its packets are skipped", linktype);
    }
}

/* ---- classic pcap ----------------------------------------------------------------- */

static int read_pcap(struct cap *c, const uint8_t magic[4])
{
    uint8_t h[24];
    memcpy(h, magic, 4);
    if (read_exact(c, h + 4, 20) != 1) {
        note(c, NULL, "capture ends inside the pcap file header");
        return -1;
    }
    uint32_t m = ld32(h, true);
    bool be = m == 0xa1b2c3d4u || m == 0xa1b23c4du;
    bool nano = m == 0xa1b23c4du || m == 0x4d3cb2a1u;
    uint32_t network = ld32(h + 20, be);
    uint16_t linktype = (uint16_t)(network & 0xffffu);
    for (;;) {
        uint8_t rh[16];
        int rc = read_exact(c, rh, sizeof rh);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            note(c, NULL, "capture ends inside the header of packet %" PRIu64 " (truncated file)",
                 c->packet_no + 1);
            return -1;
        }
        uint32_t sec = ld32(rh, be), frac = ld32(rh + 4, be);
        uint32_t incl = ld32(rh + 8, be), orig = ld32(rh + 12, be);
        if (incl > RECORD_MAX) {
            fprintf(stderr, "%s: packet %" PRIu64 " at file offset %" PRIu64 " claims %" PRIu32
                    " bytes, over the %u-byte limit: the file is damaged; stopping\n", c->name,
                    c->packet_no + 1, c->file_off - 16, incl, RECORD_MAX);
            return -1;
        }
        uint8_t *data = room(c, incl ? incl : 1);
        if (!data) {
            fprintf(stderr, "%s: out of memory\n", c->name);
            return -1;
        }
        if (read_exact(c, data, incl) != 1 && incl) {
            note(c, NULL, "capture ends inside packet %" PRIu64 " (truncated file)",
                 c->packet_no + 1);
            return -1;
        }
        uint32_t nsec = nano ? frac : (frac < 1000000u ? frac * 1000u : 999999999u);
        packet_in(c, linktype, data, incl, orig > incl ? orig : incl, (int64_t)sec, nsec, nano);
    }
}

/* ---- pcapng ------------------------------------------------------------------------- */

struct section {
    bool be;
    struct iface *ifaces;
    size_t count, cap;
};

static void parse_idb_options(struct iface *f, const uint8_t *p, size_t len, bool be)
{
    size_t off = 0;
    while (len - off >= 4) {
        uint16_t code = ld16(p + off, be), olen = ld16(p + off + 2, be);
        off += 4;
        if (code == 0 || olen > len - off)
            return;
        if (code == 9 && olen >= 1) { /* if_tsresol */
            uint8_t r = p[off];
            uint64_t units = 1;
            if (r & 0x80) {
                if ((r & 0x7f) < 64)
                    units = (uint64_t)1 << (r & 0x7f);
            } else if (r <= 19) {
                for (uint8_t i = 0; i < r; i++)
                    units *= 10;
            }
            f->units = units;
        } else if (code == 14 && olen >= 8) { /* if_tsoffset */
            uint64_t v = be ? (uint64_t)ld32(p + off, true) << 32 | ld32(p + off + 4, true)
                            : (uint64_t)ld32(p + off + 4, false) << 32 | ld32(p + off, false);
            f->offset_sec = (int64_t)v;
        }
        size_t padded = ((size_t)olen + 3) & ~(size_t)3;
        if (padded > len - off)
            return;
        off += padded;
    }
}

static void ng_packet(struct cap *c, const struct section *sec, uint32_t iface, uint32_t ts_hi,
                      uint32_t ts_lo, const uint8_t *data, size_t caplen, size_t origlen)
{
    if (iface >= sec->count) {
        note(c, &c->noted_iface, "a packet names interface %" PRIu32
             " that no interface block described; skipped", iface);
        return;
    }
    const struct iface *f = &sec->ifaces[iface];
    uint64_t ts = (uint64_t)ts_hi << 32 | ts_lo;
    uint64_t units = f->units ? f->units : 1000000;
    uint64_t s = ts / units, frac = ts % units;
    uint32_t nsec;
    if (units <= 1000000000u && 1000000000u % units == 0)
        nsec = (uint32_t)(frac * (1000000000u / units));
    else
        nsec = (uint32_t)((double)frac * 1e9 / (double)units);
    int64_t secs = s > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)s;
    if (f->offset_sec > -(INT64_MAX / 4) && f->offset_sec < INT64_MAX / 4)
        secs += f->offset_sec;
    packet_in(c, f->linktype, data, caplen, origlen > caplen ? origlen : caplen, secs, nsec,
              units > 1000000);
}

static int read_pcapng(struct cap *c, const uint8_t magic[4])
{
    struct section sec;
    memset(&sec, 0, sizeof sec);
    uint8_t first[4];
    memcpy(first, magic, 4);
    bool have_first = true;
    int result = 0;
    for (;;) {
        uint8_t h[12];
        uint64_t block_at = c->file_off - (have_first ? 4 : 0);
        if (have_first) {
            memcpy(h, first, 4);
            have_first = false;
            if (read_exact(c, h + 4, 8) != 1) {
                note(c, NULL, "capture ends inside the first block");
                result = -1;
                break;
            }
        } else {
            int rc = read_exact(c, h, 8);
            if (rc == 0)
                break;
            if (rc < 0 || (ld32(h, true) == 0x0a0d0d0au && read_exact(c, h + 8, 4) != 1)) {
                note(c, NULL, "capture ends inside a block header at file offset %" PRIu64
                     " (truncated file)", block_at);
                result = -1;
                break;
            }
        }
        bool is_shb = ld32(h, true) == 0x0a0d0d0au;
        size_t head = 8;
        if (is_shb) {
            uint32_t bom = ld32(h + 8, true);
            if (bom == 0x1a2b3c4du)
                sec.be = true;
            else if (bom == 0x4d3c2b1au)
                sec.be = false;
            else {
                fprintf(stderr, "%s: section header at file offset %" PRIu64 " has no valid "
                        "byte-order magic; stopping\n", c->name, block_at);
                result = -1;
                break;
            }
            head = 12;
            sec.count = 0; /* a new section starts with no interfaces */
        }
        uint32_t type = ld32(h, sec.be), total = ld32(h + 4, sec.be);
        if (total < head + 4 || total % 4 || total > RECORD_MAX) {
            fprintf(stderr, "%s: block at file offset %" PRIu64 " has an impossible length %" PRIu32
                    "; the file is damaged; stopping\n", c->name, block_at, total);
            result = -1;
            break;
        }
        size_t rest = total - head; /* body and the trailing length */
        uint8_t *b = room(c, rest);
        if (!b) {
            fprintf(stderr, "%s: out of memory\n", c->name);
            result = -1;
            break;
        }
        if (read_exact(c, b, rest) != 1) {
            note(c, NULL, "capture ends inside the block at file offset %" PRIu64
                 " (truncated file)", block_at);
            result = -1;
            break;
        }
        if (ld32(b + rest - 4, sec.be) != total) {
            fprintf(stderr, "%s: block at file offset %" PRIu64 " ends with length %" PRIu32
                    " instead of %" PRIu32 "; the file is damaged; stopping\n", c->name, block_at,
                    ld32(b + rest - 4, sec.be), total);
            result = -1;
            break;
        }
        size_t blen = rest - 4;
        if (is_shb) {
            if (blen < 12 || ld16(b, sec.be) != 1) {
                fprintf(stderr, "%s: section header at file offset %" PRIu64 " is of an unknown "
                        "version; stopping\n", c->name, block_at);
                result = -1;
                break;
            }
            continue;
        }
        switch (type) {
        case 1: { /* interface description */
            if (blen < 8)
                break;
            if (sec.count == sec.cap) {
                if (sec.cap >= IFACE_MAX) {
                    note(c, &c->noted_iface, "more than %d interfaces; the rest are "
                         "ignored", IFACE_MAX);
                    break;
                }
                size_t ncap = sec.cap ? sec.cap * 2 : 4;
                struct iface *n = realloc(sec.ifaces, ncap * sizeof *n);
                if (!n)
                    break;
                sec.ifaces = n;
                sec.cap = ncap;
            }
            struct iface *f = &sec.ifaces[sec.count++];
            memset(f, 0, sizeof *f);
            f->linktype = ld16(b, sec.be);
            f->snaplen = ld32(b + 4, sec.be);
            f->units = 1000000;
            parse_idb_options(f, b + 8, blen - 8, sec.be);
            break;
        }
        case 6: { /* enhanced packet */
            if (blen < 20)
                break;
            uint32_t caplen = ld32(b + 12, sec.be);
            if (caplen > blen - 20) {
                note(c, NULL, "packet block at file offset %" PRIu64 " claims more bytes than "
                     "it holds; skipped", block_at);
                break;
            }
            ng_packet(c, &sec, ld32(b, sec.be), ld32(b + 4, sec.be), ld32(b + 8, sec.be), b + 20,
                      caplen, ld32(b + 16, sec.be));
            break;
        }
        case 3: { /* simple packet: interface 0, no timestamp */
            if (blen < 4 || sec.count == 0)
                break;
            uint32_t orig = ld32(b, sec.be);
            size_t caplen = orig < blen - 4 ? orig : blen - 4;
            if (sec.ifaces[0].snaplen && caplen > sec.ifaces[0].snaplen)
                caplen = sec.ifaces[0].snaplen;
            ng_packet(c, &sec, 0, 0, 0, b + 4, caplen, orig);
            break;
        }
        case 2: { /* obsolete packet block */
            if (blen < 20)
                break;
            uint32_t caplen = ld32(b + 12, sec.be);
            if (caplen > blen - 20)
                break;
            ng_packet(c, &sec, ld16(b, sec.be), ld32(b + 4, sec.be), ld32(b + 8, sec.be), b + 20,
                      caplen, ld32(b + 16, sec.be));
            break;
        }
        default:
            break; /* name resolution, statistics, custom blocks... */
        }
    }
    free(sec.ifaces);
    return result;
}

/* ---- the whole capture ------------------------------------------------------------- */

int dump_capture(const struct dump_options *opt, const char *name, struct byte_source *src)
{
    struct cap c;
    memset(&c, 0, sizeof c);
    c.opt = opt;
    c.name = name;
    c.src = src;
    uint8_t magic[4];
    if (read_exact(&c, magic, 4) != 1) {
        fprintf(stderr, "%s: too short for a capture\n", name);
        g_stats.failures++;
        return -1;
    }
    uint32_t m = ld32(magic, true);
    c.tcp = tcp_table_new(opt, name);
    if (!c.tcp) {
        fprintf(stderr, "%s: out of memory\n", name);
        g_stats.failures++;
        return -1;
    }
    int rc;
    if (m == 0x0a0d0d0au)
        rc = read_pcapng(&c, magic);
    else if (m == 0xa1b2c3d4u || m == 0xd4c3b2a1u || m == 0xa1b23c4du || m == 0x4d3cb2a1u)
        rc = read_pcap(&c, magic);
    else {
        fprintf(stderr, "%s: not a pcap or pcapng capture\n", name);
        rc = -1;
    }
    tcp_table_finish(c.tcp);
    tcp_table_free(c.tcp);
    free(c.buf);
    if (rc < 0)
        g_stats.failures++;
    if (rc == 0 && g_stats.tcp_packets == 0 && !opt->quiet_notes) {
        fprintf(stderr, "%s: no TCP traffic on port", name);
        for (size_t i = 0; i < opt->port_count; i++)
            fprintf(stderr, "%s%u", i ? "," : " ", opt->ports[i]);
        if (c.syn_ports[0].count) {
            fprintf(stderr, "; connections were opened to port");
            for (int i = 0; i < SYN_PORTS && c.syn_ports[i].count; i++)
                fprintf(stderr, "%s%u (%" PRIu64 ")", i ? ", " : " ", c.syn_ports[i].port,
                        c.syn_ports[i].count);
            fprintf(stderr, ": choose with --port");
        }
        fputc('\n', stderr);
    }
    return rc;
}

int dump_capture_buffer(const struct dump_options *opt, const char *name, const uint8_t *data,
                        size_t len)
{
    struct byte_source src;
    memset(&src, 0, sizeof src);
    src.mem = data ? data : (const uint8_t *)"";
    src.mem_len = data ? len : 0;
    return dump_capture(opt, name, &src);
}
