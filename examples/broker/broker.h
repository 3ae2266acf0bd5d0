/*
 * kwire-broker: a single-node Kafka broker built on kwire. This header is
 * shared by its modules (built as the static library kwbroker, which the
 * executable, the unit tests and the connection fuzzer link):
 *
 *   util.c          time, ids, names, maps, files
 *   log.c           a partition log in Kafka's layout: segments, .index,
 *                   recovery, reads for Fetch and ListOffsets
 *   batch.c         record batches the broker writes itself
 *   topics.c        the topic table; create, delete, grow
 *   metadata_log.c  __cluster_metadata-0 (KRaft records)
 *   offsets.c       committed group offsets in __consumer_offsets-0
 *   groups.c        the classic group coordinator
 *   loop.c          epoll, connections, parked requests, timers
 *   dispatch.c      headers, versions, routing, error responses
 *   produce.c fetch.c metadata.c admin.c  the APIs
 */
#ifndef KWIRE_BROKER_H
#define KWIRE_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kwire/kwire.h"
#include "kwire/messages.h"

/** Room for any path the broker builds: data dir, a topic directory, a file name. */
#define BK_PATH_MAX 4608

/* ---- configuration ---------------------------------------------------------- */

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
    size_t conn_buffer_bytes; /* read size and first buffer of a connection */
    size_t queued_max_request_bytes; /* all connections' request buffers beyond the first
                                        conn_buffer_bytes each (queued.max.request.bytes) */
    size_t max_decompressed_bytes; /* a produced batch's records, checked decompressed */
    int32_t max_groups;
} bk_config;

/** Kafka's defaults, listening on 127.0.0.1:9092 with data in ./kwire-data. */
void bk_config_default(bk_config *cfg);

/* ---- utilities (util.c) ------------------------------------------------------ */

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
bool bk_slice_eq(kw_slice a, const char *s, size_t len);
bool bk_slice_eqs(kw_slice a, const char *s);
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

/* ---- a partition log (log.c) -------------------------------------------------- */

typedef struct bk_index_entry {
    int64_t offset;   /* first offset of the batch at pos */
    uint32_t pos;
} bk_index_entry;

typedef struct bk_segment {
    int64_t base;     /* the offset in the file name */
    int64_t next;     /* one past the last offset in it (base when empty) */
    int fd;           /* the .log */
    int index_fd;     /* the .index of the active segment; -1 for the others */
    uint64_t size;    /* valid bytes of the .log */
    int64_t max_timestamp;
    bk_index_entry *idx; /* sparse: one entry per BK_INDEX_INTERVAL bytes */
    size_t nidx, capidx;
    uint64_t last_indexed_pos;
} bk_segment;

#define BK_INDEX_INTERVAL 4096u
#define BK_PRODUCER_BATCHES 5

/** Idempotent producer state of one partition (Kafka's ProducerStateEntry). */
typedef struct bk_producer {
    int64_t producer_id;
    int16_t epoch;
    int n;                  /* batches kept, newest last */
    struct {
        int32_t first_seq, last_seq;
        int64_t first_offset, last_offset;
    } b[BK_PRODUCER_BATCHES];
} bk_producer;

typedef struct bk_log {
    char *dir;
    bk_segment *segs;
    size_t nsegs;
    int64_t start;          /* log start offset */
    int64_t end;            /* log end offset: next offset to assign */
    bool dirty;             /* appended since the last fsync */
    bk_producer *producers;
    size_t nproducers, capproducers;
    const bk_config *cfg;
    uint64_t truncated_bytes; /* what recovery cut off (for tests and logs) */
} bk_log;

/** Opens (create: making it) the log in dir, recovering the tail. 0 or -1. */
int bk_log_open(bk_log *log, const char *dir, const bk_config *cfg, bool create);
void bk_log_close(bk_log *log);
/**
 * Appends one v2 batch the caller checked: its base_offset becomes the log
 * end offset and its partition_leader_epoch leader_epoch (both outside the
 * CRC), in place. Returns 0 or -1 (errno).
 */
int bk_log_append(bk_log *log, uint8_t *batch, size_t len, int32_t leader_epoch);

int bk_log_sync(bk_log *log);

/** Where a read lies: a range of a segment file. */
typedef struct bk_read {
    int fd;
    uint64_t pos;
    uint64_t len;           /* 0: nothing to read */
    uint64_t first_batch;   /* bytes of the first batch in the range */
} bk_read;
/** Bytes from offset on, at most max_bytes (whole first batch when min_one). Kafka error code. */
int bk_log_read(bk_log *log, int64_t offset, uint64_t max_bytes, bool min_one, bk_read *out);
/** ListOffsets by timestamp: first offset whose timestamp is >= ts (-1 when none). */
int64_t bk_log_offset_for_timestamp(bk_log *log, int64_t ts, int64_t *found_ts);
/** The offset and timestamp of the record with the largest timestamp (-1 when empty). */
int64_t bk_log_offset_of_max_timestamp(bk_log *log, int64_t *found_ts);
/** Calls fn for each batch of the log, read into memory. Stops when fn returns non-zero. */
int bk_log_for_each_batch(bk_log *log, int (*fn)(void *ctx, const kw_record_batch *b), void *ctx);

/**
 * Deletes whole segments, oldest first and never the active one, while
 * their newest record is older than older_than_ts (-1: no time limit) or
 * the log is over max_bytes without them (-1: no size limit); the log
 * start offset moves up. Returns how many went.
 */
int bk_log_apply_retention(bk_log *log, int64_t older_than_ts, int64_t max_bytes);

/** Idempotence: the state of producer_id in this log, or NULL. */
bk_producer *bk_log_producer(bk_log *log, int64_t producer_id, bool create);

/* ---- record batches the broker writes (batch.c) ------------------------------ */

typedef struct bk_rec {
    kw_slice key;           /* ptr NULL: null */
    kw_slice value;         /* ptr NULL: null (a tombstone) */
} bk_rec;
/** An uncompressed v2 batch of n records into a malloc'd buffer; NULL on failure. */
uint8_t *bk_batch_build(const bk_rec *recs, size_t n, int64_t timestamp, size_t *len);

/* ---- produce.c ---------------------------------------------------------------------- */

struct bk_broker;
uint8_t *bk_decompress_buffer(struct bk_broker *br, size_t cap);
/** Gives a large decompression buffer back after a request. */
void bk_decompress_buffer_trim(struct bk_broker *br);

/* ---- topics (topics.c) ----------------------------------------------------------- */

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

/* ---- groups (groups.c) ---------------------------------------------------------------- */

struct bk_conn;

typedef enum bk_group_state {
    BK_GROUP_EMPTY,
    BK_GROUP_PREPARING_REBALANCE,
    BK_GROUP_COMPLETING_REBALANCE,
    BK_GROUP_STABLE,
    BK_GROUP_DEAD,
} bk_group_state;

typedef struct bk_protocol {
    char *name;
    uint8_t *metadata;
    size_t metadata_len;
} bk_protocol;

typedef struct bk_member {
    char *member_id;
    char *instance_id;      /* NULL: dynamic member */
    char *client_id;
    char *client_host;
    char *protocol_type;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    bk_protocol *protocols;
    size_t nprotocols;
    uint8_t *assignment;
    size_t assignment_len;
    int64_t last_heartbeat;
    struct bk_conn *join_conn;  /* parked JoinGroup */
    uint64_t join_conn_id;
    struct bk_conn *sync_conn;  /* parked SyncGroup */
    uint64_t sync_conn_id;
    bool joined;                /* rejoined during the current rebalance */
} bk_member;

typedef struct bk_offset_entry {
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
    int64_t commit_ts;
} bk_offset_entry;

typedef struct bk_pending_member {
    char *member_id;
    int64_t deadline;
} bk_pending_member;

typedef struct bk_group {
    char *id;
    bk_group_state state;
    int32_t generation;
    char *protocol_type;    /* NULL until the first member */
    char *protocol_name;
    char *leader;
    bk_member **members;
    size_t nmembers;
    bk_pending_member *pending;  /* member ids handed out with MEMBER_ID_REQUIRED */
    size_t npending;
    int64_t rebalance_deadline;  /* PreparingRebalance / CompletingRebalance */
    int64_t initial_delay_end;   /* group.initial.rebalance.delay.ms window */
    bool new_member_added;
    bk_offset_entry *offsets;
    size_t noffsets, capoffsets;
} bk_group;

/* ---- the broker --------------------------------------------------------------------------- */

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
    bk_log meta_log;        /* __cluster_metadata-0 */
    bool meta_open;
    bk_log offsets_log;     /* __consumer_offsets-0 */
    bool offsets_open;
    bk_group **groups;
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

/* topics.c */
bk_topic *bk_topic_find(bk_broker *br, kw_slice name);
bk_topic *bk_topic_find_id(bk_broker *br, const kw_uuid *id);
bk_partition *bk_partition_find(bk_broker *br, kw_slice topic, int32_t partition);
/** Creates a topic; returns a Kafka error code, *out the topic. */
int bk_topic_create(bk_broker *br, kw_slice name, int32_t partitions, const bk_kv *configs,
                    size_t nconfigs, bool validate_only, bk_topic **out, const char **message);
int bk_topic_delete(bk_broker *br, bk_topic *t);
int bk_topic_add_partitions(bk_broker *br, bk_topic *t, int32_t count, bool validate_only,
                            const char **message);
/** Loads topics from the metadata log and the data directory. */
int bk_topics_load(bk_broker *br);
const char *bk_topic_config(const bk_topic *t, const char *name);

/* metadata_log.c */
int bk_metadata_open(bk_broker *br);
int bk_metadata_append_topic(bk_broker *br, const bk_topic *t, int32_t first_partition);
int bk_metadata_append_remove_topic(bk_broker *br, const kw_uuid *id);
/** Records that producer ids below next are handed out (a ProducerIdsRecord). */
int bk_metadata_append_producer_ids(bk_broker *br, int64_t next);
/** Replays the metadata log: topic name, id and partition count per topic. */
typedef struct bk_meta_topic {
    char *name;
    kw_uuid id;
    int32_t partitions;
    bool removed;
    bk_kv *configs;
    size_t nconfigs;
} bk_meta_topic;
int bk_metadata_replay(bk_broker *br, bk_meta_topic **out, size_t *n);
void bk_meta_topics_free(bk_meta_topic *t, size_t n);

/* offsets.c */
int bk_offsets_open(bk_broker *br);
int bk_offsets_store(bk_broker *br, bk_group *g, const bk_offset_entry *e, size_t n);
int bk_offsets_delete_group(bk_broker *br, bk_group *g);

/* groups.c */
bk_group *bk_group_find(bk_broker *br, kw_slice id);
bk_group *bk_group_get(bk_broker *br, kw_slice id, bool create);
void bk_group_free(bk_group *g);
void bk_groups_tick(bk_broker *br);
void bk_groups_conn_closed(bk_broker *br, struct bk_conn *c);
const char *bk_group_state_name(bk_group_state s);
bk_offset_entry *bk_group_offset(bk_group *g, kw_slice topic, int32_t partition, bool create);
void bk_group_remove_offset(bk_group *g, size_t i);
int64_t bk_groups_next_deadline(bk_broker *br);

/* ---- connections and requests (loop.c, dispatch.c) ------------------------------------- */

typedef enum bk_park {
    BK_PARK_NONE,
    BK_PARK_FETCH,
    BK_PARK_JOIN,
    BK_PARK_SYNC,
} bk_park;

/** A file the response sends from (with sendfile), closed when it is sent. */
typedef struct bk_file_ref {
    int fd;
    int64_t pos;
} bk_file_ref;

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
    bk_file_ref *files;     /* fds the response references */
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

typedef enum bk_result {
    BK_RESPOND,             /* the body is in req->out */
    BK_NO_RESPONSE,         /* acks=0 produce */
    BK_PARKED,              /* answer later: the frame stays in the buffer */
    BK_CLOSE,               /* close the connection */
} bk_result;

typedef struct bk_req {
    bk_broker *br;
    bk_conn *conn;
    kw_request_header hdr;
    int16_t version;
    kw_reader body;         /* the body after the header */
    uint8_t *frame;         /* the frame body (mutable: produce rewrites offsets) */
    size_t frame_len;
    kw_builder *out;
    bk_scratch scratch;
    bool resumed;           /* a parked request run again */
    bool final;             /* its wait is over: answer with what there is */
    int64_t park_deadline;  /* set by a handler that returns BK_PARKED */
    bk_park park;
} bk_req;

/* ---- message format conversion (convert.c) ----------------------------------- */

/**
 * A legacy message set (Produce v0-v2) as one v2 batch in req's scratch,
 * compressed wrappers opened, CRC-32s checked. Kafka error code.
 */
int bk_upconvert(bk_req *req, kw_slice records, kw_slice *batch);
/**
 * v2 batches as legacy messages of magic (0 or 1) in req's scratch; plain
 * records before first_offset left out. Kafka error code.
 */
int bk_downconvert(bk_req *req, kw_slice batches, int64_t first_offset, int8_t magic,
                   kw_slice *out);
/** bk_downconvert over a read of the log (read into memory first). */
int bk_downconvert_read(bk_req *req, const bk_read *rd, int64_t first_offset, int8_t magic,
                        kw_slice *out);
/** The oldest version of a key the broker serves: Produce 3 and Fetch 4 without conversion. */
int16_t bk_api_min_version(const bk_broker *br, int16_t api_key);

/** Handles one frame; fills req->out with the response body. */
bk_result bk_dispatch(bk_req *req);

/* handlers */
bk_result bk_handle_api_versions(bk_req *req);
bk_result bk_handle_produce(bk_req *req);
bk_result bk_handle_fetch(bk_req *req);
bk_result bk_handle_list_offsets(bk_req *req);
bk_result bk_handle_metadata(bk_req *req);
bk_result bk_handle_describe_topic_partitions(bk_req *req);
bk_result bk_handle_describe_cluster(bk_req *req);
bk_result bk_handle_find_coordinator(bk_req *req);
bk_result bk_handle_create_topics(bk_req *req);
bk_result bk_handle_delete_topics(bk_req *req);
bk_result bk_handle_create_partitions(bk_req *req);
bk_result bk_handle_describe_configs(bk_req *req);
bk_result bk_handle_init_producer_id(bk_req *req);
bk_result bk_handle_join_group(bk_req *req);
bk_result bk_handle_sync_group(bk_req *req);
bk_result bk_handle_heartbeat(bk_req *req);
bk_result bk_handle_leave_group(bk_req *req);
bk_result bk_handle_offset_commit(bk_req *req);
bk_result bk_handle_offset_fetch(bk_req *req);
bk_result bk_handle_list_groups(bk_req *req);
bk_result bk_handle_describe_groups(bk_req *req);
bk_result bk_handle_delete_groups(bk_req *req);

/** Answers a body that did not decode (logs it; BK_CLOSE when no error response fits). */
bk_result bk_reply_decode_error(bk_req *req, const kw_decode_error *err);

/** True for the API keys this broker serves (and advertises). */
bool bk_api_served(int16_t api_key);
/* The newest version of a key the broker advertises and serves (its handler's). */
int16_t bk_api_max_version(int16_t api_key);

/**
 * Writes message m (requests too) at version with every field at its default and error in its
 * top-level error_code, if any (kw_build_default_message); false when it has none.
 */
bool bk_build_default_message(kw_builder *b, const kw_message_info *m, int16_t version,
                              int16_t error);

/** Records a file range a Fetch response sends; the slice stands for it (see fetch.c). */
kw_slice bk_conn_file_slice(bk_req *req, int fd, uint64_t pos, uint64_t len);
/** The records writer every response builder uses (see fetch.c). */
void bk_records_writer(kw_builder *b, kw_slice records, void *ctx);

/* loop.c */
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

/* ---- helpers handlers share ------------------------------------------------------------ */

/** A C array of n elements of size from the request's scratch (zeroed). */
#define BK_ALLOC(req, type, n) ((type *)bk_scratch_calloc(&(req)->scratch, (size_t)(n), sizeof(type)))

/** Authorized operations bitfield Kafka reports for a topic with no ACLs (0x0df8). */
#define BK_TOPIC_AUTHORIZED_OPS 3576
#define BK_CLUSTER_AUTHORIZED_OPS 0x0ff8

#endif /* KWIRE_BROKER_H */
