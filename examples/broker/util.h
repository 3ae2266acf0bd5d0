/* The broker's configuration and the utilities every module uses (util.c):
 * time, ids, names, a string-keyed map, per-request scratch memory, files. */
#ifndef KWIRE_BROKER_UTIL_H
#define KWIRE_BROKER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kwire/kwire.h"

/** Room for any path the broker builds: data dir, a topic directory, a file name. */
#define BK_PATH_MAX 4608

typedef enum bk_fsync_mode { BK_FSYNC_ALWAYS, BK_FSYNC_INTERVAL, BK_FSYNC_NEVER } bk_fsync_mode;

typedef struct bk_config {
    char listen_host[256];
    int listen_port;
    char advertise_host[256]; /* "" : the listen host (127.0.0.1 for a wildcard) */
    int advertise_port;       /* 0: the port actually bound */
    char data_dir[4096];
    size_t max_frame_bytes;
    bk_fsync_mode fsync;
    int64_t fsync_interval_ms;
    int32_t default_partitions;
    bool auto_create_topics;
    bool down_conversion;     /* serve Produce v0-v2 and Fetch v0-v3 by converting (convert.c) */
    int32_t node_id;
    int64_t segment_bytes;
    int32_t max_message_bytes;
    int64_t idle_timeout_ms;  /* a connection with nothing to do */
    int64_t frame_timeout_ms; /* a request started but not finished */
    int64_t write_timeout_ms; /* a response the client does not read */
    int max_connections;
    int32_t max_partitions;   /* all topics together */
    int32_t max_partitions_per_request; /* created by one request */
    int64_t group_initial_rebalance_delay_ms;
    int32_t group_min_session_timeout_ms;
    int32_t group_max_session_timeout_ms;
    int32_t group_max_size;
    int32_t consumer_session_timeout_ms;   /* group.consumer.session.timeout.ms */
    int32_t consumer_heartbeat_interval_ms; /* group.consumer.heartbeat.interval.ms */
    size_t conn_buffer_bytes; /* read size and first buffer of a connection */
    size_t queued_max_request_bytes; /* all connections' request buffers beyond the first
                                        conn_buffer_bytes each (queued.max.request.bytes) */
    size_t max_decompressed_bytes; /* a produced batch's records, checked decompressed */
    int32_t max_groups;
} bk_config;

/** Kafka's defaults, listening on 127.0.0.1:9092 with data in ./kwire-data. */
void bk_config_default(bk_config *cfg);

int64_t bk_now_ms(void);      /* monotonic */
int64_t bk_wall_ms(void);     /* epoch milliseconds */
void bk_random_bytes(void *out, size_t len);
kw_uuid bk_uuid_random(void);
bool bk_uuid_is_zero(const kw_uuid *u);
/** Kafka's text form of a UUID: URL-safe base64 without padding (22 chars + NUL). */
void bk_uuid_format(const kw_uuid *u, char out[23]);
bool bk_uuid_parse(const char *text, kw_uuid *out);
/** A legal topic name: 1..249 of [a-zA-Z0-9._-], not "." or "..". */
bool bk_topic_name_valid(kw_slice name);
bool bk_slice_eqs(kw_slice a, const char *s);
/** names[i] among names[0..n): BK_UNIQUE, the first of several copies, or a later copy (null never repeats). */
typedef enum bk_repeat { BK_UNIQUE, BK_FIRST_COPY, BK_LATER_COPY } bk_repeat;
bk_repeat bk_name_repeat(const kw_slice *names, int32_t n, int32_t i);
kw_slice bk_cstr(const char *s);
char *bk_strndup(const uint8_t *p, size_t n);
void bk_log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int bk_mkdirs(const char *path);
int bk_fsync_dir(const char *path);
int bk_remove_tree(const char *path);
int bk_write_file_atomic(const char *path, const void *data, size_t len, bool sync);

/** A string-keyed hash map of pointers (keys are copied). */
typedef struct bk_map {
    struct bk_map_slot *slots;
    size_t cap, count, used;
} bk_map;
void *bk_map_get(const bk_map *m, const void *key, size_t len);
int bk_map_put(bk_map *m, const void *key, size_t len, void *value);
void bk_map_del(bk_map *m, const void *key, size_t len);
void bk_map_free(bk_map *m);

/** Per-request scratch memory, freed all at once. */
typedef struct bk_scratch {
    struct bk_scratch_block *blocks;
    size_t total;
} bk_scratch;
void *bk_scratch_alloc(bk_scratch *s, size_t n);
void *bk_scratch_calloc(bk_scratch *s, size_t count, size_t size);
void bk_scratch_free(bk_scratch *s);

#endif /* KWIRE_BROKER_UTIL_H */
