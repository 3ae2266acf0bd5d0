/* The broker's state and its topic table (topics.c): open and close the data
 * directory, create, delete and grow topics, retention. */
#ifndef KWIRE_BROKER_TOPICS_H
#define KWIRE_BROKER_TOPICS_H

#include "log.h"

struct bk_topic;
typedef struct bk_partition {
    struct bk_topic *topic;
    int32_t id;
    bk_log log;
} bk_partition;

typedef struct bk_kv {
    char *name;
    char *value;
} bk_kv;

typedef struct bk_topic {
    char *name;
    size_t name_len;
    kw_uuid id;
    bk_partition **parts;
    int32_t nparts;
    bk_kv *configs;
    size_t nconfigs;
} bk_topic;

struct bk_group;
struct bk_conn;

/* The broker: its topics, logs, groups and the event loop's state. */
typedef struct bk_broker {
    bk_config cfg;
    char cluster_id[23];
    char advertised_host[256];
    int advertised_port;
    bk_topic **topics;
    size_t ntopics, captopics;
    bk_map topics_by_name;
    bk_map topics_by_id;
    int32_t total_partitions;
    uint64_t topics_version;    /* moves whenever a topic may have come, gone or grown */
    bk_log meta_log;        /* __cluster_metadata-0 */
    bool meta_open;
    bk_log offsets_log;     /* __consumer_offsets-0 */
    bool offsets_open;
    struct bk_group **groups;
    size_t ngroups, capgroups;
    bk_map groups_by_id;
    int64_t next_producer_id;
    int64_t producer_ids_reserved; /* ids below this are recorded in the metadata log */
    uint8_t *dbuf;          /* decompressed records of the batch being checked */
    size_t dbuf_cap;
    uint64_t member_seq;
    /* event loop */
    int epfd, listen_fd, signal_fd;
    struct bk_conn *conns;  /* doubly linked */
    size_t nconns;
    uint64_t next_conn_id;
    size_t queued_request_bytes; /* request buffer bytes held beyond the first buffers */
    int32_t partitions_created_in_request; /* against max_partitions_per_request */
    size_t request_memory_waiters; /* connections with read_paused set */
    bool fetch_wakeup;      /* data arrived: re-run parked fetches */
    bool wake_pending;      /* some connection has wake set */
    bool in_wake;
    bool stopping;
    int64_t accept_paused_at; /* out of fds: the listener rests a tick */
    int64_t last_fsync;
    int64_t last_retention;
    int64_t now;            /* monotonic ms, refreshed each loop turn */
    struct {
        uint64_t accepted, closed, requests, frames_refused, timeouts, decode_errors;
        uint64_t read_pauses; /* frames that waited for request memory */
    } stats;
} bk_broker;

/** Opens the data directory: topics, logs (recovered), offsets. 0 or -1 (logged). */
int bk_broker_open(bk_broker *br, const bk_config *cfg);
/** Syncs and closes everything; frees all state. */
void bk_broker_close(bk_broker *br);
/** fsyncs every dirty log. */
void bk_broker_sync_all(bk_broker *br);
/** Applies every topic's retention.ms and retention.bytes (Kafka's defaults: 7 days, none). */
void bk_broker_apply_retention(bk_broker *br, int64_t now_wall_ms);

bk_topic *bk_topic_find(bk_broker *br, kw_slice name);
bk_topic *bk_topic_find_id(bk_broker *br, const kw_uuid *id);
bk_partition *bk_partition_find(bk_broker *br, kw_slice topic, int32_t partition);
/** Creates a topic; returns a Kafka error code, *out the topic. */
int bk_topic_create(bk_broker *br, kw_slice name, int32_t partitions, const bk_kv *configs,
                    size_t nconfigs, bool validate_only, bk_topic **out, const char **message);
int bk_topic_delete(bk_broker *br, bk_topic *t);
int bk_topic_add_partitions(bk_broker *br, bk_topic *t, int32_t count, bool validate_only,
                            const char **message);
const char *bk_topic_config(const bk_topic *t, const char *name);

#endif /* KWIRE_BROKER_TOPICS_H */
