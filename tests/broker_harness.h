/*
 * A kwire-broker in a test: a broker on a temporary data directory, and
 * connections to it over socket pairs that run through the broker's own
 * connection handler (read buffer, framing, dispatch, parked requests),
 * with no event loop and no network. Requests are built with kwire's
 * generated encoders, responses read back with its decoders.
 */
#ifndef KWIRE_BROKER_HARNESS_H
#define KWIRE_BROKER_HARNESS_H

#include "loop.h"
#include "topics.h"
#include "util.h"
#include "kwire/messages.h"

typedef struct bh {
    bk_broker br;
    bk_config cfg;
    char dir[256];
    bool open;
} bh;

typedef struct bh_conn {
    bk_conn *c;          /* NULL once the broker freed it (see bh_refresh) */
    uint64_t id;
    int peer;            /* the client's end */
    int32_t next_correlation;
} bh_conn;

/** A response read back: its bytes and the decoded message. */
typedef struct bh_resp {
    uint8_t *buf;
    size_t len;
    int32_t correlation_id;
    kw_message msg;
    kw_err err;
} bh_resp;

/** A fresh data directory and the default config for tests (no fsync, no join delay). */
void bh_init(bh *h);
/** Opens the broker on h->dir with h->cfg; false on failure. */
bool bh_open(bh *h);
/** Closes the broker (the data directory stays). */
void bh_close(bh *h);
/** Closes and removes the data directory. */
void bh_destroy(bh *h);

bh_conn bh_connect(bh *h);
/** Looks the connection up again: the broker frees closed ones in its housekeeping. */
void bh_refresh(bh *h, bh_conn *c);
void bh_disconnect(bh *h, bh_conn *c);

/** Sends a request (view encoded at version) and lets the broker read it; returns its correlation id. */
int32_t bh_send(bh *h, bh_conn *c, int16_t api_key, int16_t version, const void *view);
/** Sends raw frame bytes (size prefix included) and lets the broker read them. */
void bh_send_raw(bh *h, bh_conn *c, const void *bytes, size_t len);
/**
 * Reads one response frame if the broker sent one, decoding it as api_key at
 * version; false when nothing is there (e.g. the request is parked).
 */
bool bh_recv(bh *h, bh_conn *c, int16_t api_key, int16_t version, bh_resp *out);
void bh_resp_free(bh_resp *r);
/** True when the broker closed this connection. */
bool bh_closed(bh *h, bh_conn *c);
/** Moves the broker's clock forward and runs its timers. */
void bh_advance(bh *h, int64_t ms);

/** One uncompressed v2 batch of n records "k<i>"/"v<i>" (malloc'd). */
uint8_t *bh_batch(int n, int64_t producer_id, int16_t epoch, int32_t base_seq, size_t *len);

#endif
