/* Connections and the event loop (loop.c): epoll, buffers, parked requests,
 * timers. */
#ifndef KWIRE_BROKER_LOOP_H
#define KWIRE_BROKER_LOOP_H

#include "topics.h"

typedef enum bk_park {
    BK_PARK_NONE,
    BK_PARK_FETCH,
    BK_PARK_JOIN,
    BK_PARK_SYNC,
} bk_park;

typedef struct bk_conn {
    struct bk_conn *prev, *next;
    uint64_t id;
    int fd;
    char peer[64];
    uint8_t *rbuf;          /* bytes read, not yet answered: rbuf[rstart .. rlen) */
    size_t rstart, rlen, rcap;
    kw_builder out;         /* the response being sent */
    bool out_init;
    size_t sent;
    bool sending;
    int *files;             /* fds the response sends from, closed when it is sent */
    size_t nfiles, capfiles;
    bk_park park;
    int64_t park_deadline;
    bool closing;
    uint32_t events;        /* epoll interest now */
    int64_t last_activity;
    int64_t frame_started;  /* when the first byte of the unfinished frame came; 0: none */
    int64_t send_started;
    bool ready;             /* complete frames wait in rbuf */
    bool wake;              /* its parked request can be answered now */
    bool registered;        /* in epoll */
    bool read_paused;       /* its frame waits for queued_max_request_bytes room */
} bk_conn;

int bk_listen(bk_broker *br);
int bk_run(bk_broker *br);
/** A connection over an fd the caller connected (tests, the fuzzer). */
bk_conn *bk_conn_new(bk_broker *br, int fd);
/** Reads what the socket has and answers complete frames, as the loop does. */
void bk_conn_on_readable(bk_broker *br, bk_conn *c);
void bk_conn_on_writable(bk_broker *br, bk_conn *c);
/** Answers a parked request now: runs its handler again with resumed set. */
void bk_conn_resume(bk_broker *br, bk_conn *c, bool final);
void bk_conn_close(bk_broker *br, bk_conn *c);
/** Marks a parked connection to be answered right after the current request. */
void bk_conn_wake(bk_broker *br, bk_conn *c);
/** Answers the parked connections bk_conn_wake marked. */
void bk_process_wakes(bk_broker *br);
/** Frees closed connections; runs timers and parked fetches. */
void bk_loop_housekeeping(bk_broker *br);
void bk_conns_free_all(bk_broker *br);
/** Heap bytes a connection holds (its buffers and response). */
size_t bk_conn_memory(const bk_conn *c);

#endif /* KWIRE_BROKER_LOOP_H */
