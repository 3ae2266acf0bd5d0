/* The kwire-broker test harness (broker_harness.h). */
#include "broker_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "groups.h"
#include "kwire/record_builder.h"

void bh_init(bh *h)
{
    memset(h, 0, sizeof *h);
    snprintf(h->dir, sizeof h->dir, "/tmp/kwire-broker-test-XXXXXX");
    if (!mkdtemp(h->dir))
        abort();
    bk_config_default(&h->cfg);
    snprintf(h->cfg.data_dir, sizeof h->cfg.data_dir, "%s", h->dir);
    h->cfg.fsync = BK_FSYNC_NEVER;
    h->cfg.group_initial_rebalance_delay_ms = 0;
    snprintf(h->cfg.listen_host, sizeof h->cfg.listen_host, "127.0.0.1");
}

bool bh_open(bh *h)
{
    if (bk_broker_open(&h->br, &h->cfg) != 0)
        return false;
    snprintf(h->br.advertised_host, sizeof h->br.advertised_host, "127.0.0.1");
    h->br.advertised_port = 9092;
    h->open = true;
    return true;
}

void bh_close(bh *h)
{
    if (h->open)
        bk_broker_close(&h->br);
    h->open = false;
}

void bh_destroy(bh *h)
{
    bh_close(h);
    bk_remove_tree(h->dir);
}

bh_conn bh_connect(bh *h)
{
    bh_conn c;
    memset(&c, 0, sizeof c);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        abort();
    int size = 4 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL, 0) | O_NONBLOCK);
    c.c = bk_conn_new(&h->br, sv[0]);
    c.id = c.c ? c.c->id : 0;
    c.peer = sv[1];
    c.next_correlation = 1;
    return c;
}

void bh_refresh(bh *h, bh_conn *c)
{
    bk_conn *x = h->br.conns;
    while (x && x->id != c->id)
        x = x->next;
    c->c = x;
}

void bh_disconnect(bh *h, bh_conn *c)
{
    bh_refresh(h, c);
    if (c->c)
        bk_conn_close(&h->br, c->c);
    close(c->peer);
    c->c = NULL;
    bk_loop_housekeeping(&h->br);
}

static void pump(bh *h, bh_conn *c)
{
    bh_refresh(h, c);
    if (c->c && !c->c->closing) {
        bk_conn_on_readable(&h->br, c->c);
        if (!c->c->closing && c->c->sending)
            bk_conn_on_writable(&h->br, c->c);
    }
    bk_process_wakes(&h->br);
}

void bh_send_raw(bh *h, bh_conn *c, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    while (len > 0) {
        ssize_t n = write(c->peer, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                pump(h, c);
                continue;
            }
            return; /* closed */
        }
        p += n;
        len -= (size_t)n;
    }
    pump(h, c);
}

int32_t bh_send(bh *h, bh_conn *c, int16_t api_key, int16_t version, const void *view)
{
    const kw_message_info *m = kw_message_for_api(api_key, false);
    if (!m)
        abort();
    kw_builder b;
    kw_builder_init_growable(&b, 4096);
    if (m->encode(&b, version, view) != KW_OK)
        abort();
    int32_t corr = c->next_correlation++;
    int hv = kw_request_header_version(api_key, version);
    if (hv >= 2)
        kw_build_uvarint(&b, 0);
    if (hv >= 1)
        kw_build_nullable_string(&b, bk_cstr("harness"));
    kw_build_i32(&b, corr);
    kw_build_i16(&b, version);
    kw_build_i16(&b, api_key);
    kw_build_length_i32(&b, 0);
    size_t len = kw_builder_size(&b);
    uint8_t *buf = malloc(len);
    if (!buf || kw_builder_copy_out(&b, buf, len) != len)
        abort();
    kw_builder_free(&b);
    bh_send_raw(h, c, buf, len);
    free(buf);
    return corr;
}

static bool read_exact(int fd, uint8_t *p, size_t len, bool *eof)
{
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n == 0) {
            *eof = true;
            return false;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

bool bh_recv(bh *h, bh_conn *c, int16_t api_key, int16_t version, bh_resp *out)
{
    memset(out, 0, sizeof *out);
    pump(h, c);
    uint8_t prefix[4];
    bool eof = false;
    ssize_t n = recv(c->peer, prefix, 4, MSG_PEEK);
    if (n < 4)
        return false;
    if (!read_exact(c->peer, prefix, 4, &eof))
        return false;
    size_t size = kw_load_be32(prefix);
    out->buf = malloc(size ? size : 1);
    out->len = size;
    /* the rest may still be queued in the broker: let it send */
    size_t got = 0;
    for (int tries = 0; got < size && tries < 1000; tries++) {
        ssize_t k = read(c->peer, out->buf + got, size - got);
        if (k > 0)
            got += (size_t)k;
        else
            pump(h, c);
    }
    if (got < size) {
        bh_resp_free(out);
        return false;
    }
    kw_reader r;
    kw_reader_init(&r, out->buf, size);
    kw_response_header hdr;
    int hv = kw_response_header_version(api_key, version);
    if (kw_response_header_read(&r, hv, &hdr, NULL) != KW_OK) {
        out->err = KW_ERR_TRUNCATED;
        return true;
    }
    out->correlation_id = hdr.correlation_id;
    kw_decode_error err;
    out->err = kw_response_decode(&r, api_key, version, &out->msg, &err);
    return true;
}

void bh_resp_free(bh_resp *r)
{
    free(r->buf);
    r->buf = NULL;
}

bool bh_closed(bh *h, bh_conn *c)
{
    pump(h, c);
    uint8_t b;
    ssize_t n = recv(c->peer, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    bh_refresh(h, c);
    return n == 0 || !c->c || c->c->closing;
}

void bh_advance(bh *h, int64_t ms)
{
    /* the broker's timers read br.now; housekeeping refreshes it from the clock,
     * so the offset is kept as a shift of every deadline instead */
    bk_broker *br = &h->br;
    for (size_t i = 0; i < br->ngroups; i++) {
        bk_group *g = br->groups[i];
        g->rebalance_deadline -= ms;
        if (g->initial_delay_end)
            g->initial_delay_end -= ms;
        for (size_t k = 0; k < g->nmembers; k++)
            g->members[k]->last_heartbeat -= ms;
        for (size_t k = 0; k < g->npending; k++)
            g->pending[k].deadline -= ms;
    }
    for (bk_conn *c = br->conns; c; c = c->next) {
        c->last_activity -= ms;
        if (c->frame_started)
            c->frame_started -= ms;
        if (c->park == BK_PARK_FETCH)
            c->park_deadline -= ms;
        if (c->sending)
            c->send_started -= ms;
    }
    bk_loop_housekeeping(br);
}

uint8_t *bh_batch(int n, int64_t producer_id, int16_t epoch, int32_t base_seq, size_t *len)
{
    kw_record_spec *recs = calloc((size_t)n, sizeof *recs);
    char (*keys)[16] = calloc((size_t)n, 16);
    char (*vals)[16] = calloc((size_t)n, 16);
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], 16, "k%d", i);
        snprintf(vals[i], 16, "v%d", i);
        recs[i].offset_delta = i;
        recs[i].timestamp_delta = i;
        recs[i].key = bk_cstr(keys[i]);
        recs[i].value = bk_cstr(vals[i]);
    }
    kw_batch_spec spec = kw_batch_spec_default();
    spec.base_timestamp = 1700000000000;
    spec.producer_id = producer_id;
    spec.producer_epoch = epoch;
    spec.base_sequence = base_seq;
    kw_builder b;
    kw_builder_init_growable(&b, 4096);
    if (kw_build_record_batch(&b, &spec, recs, (size_t)n) != KW_OK)
        abort();
    *len = kw_builder_size(&b);
    uint8_t *out = malloc(*len);
    kw_builder_copy_out(&b, out, *len);
    kw_builder_free(&b);
    free(recs);
    free(keys);
    free(vals);
    return out;
}
