/* A partition log in Kafka's layout (log.c): segments, .index, recovery,
 * reads for Fetch and ListOffsets, idempotent producer state. */
#ifndef KWIRE_BROKER_LOG_H
#define KWIRE_BROKER_LOG_H

#include "util.h"

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

/** The file in a partition's directory that keeps the log start offset DeleteRecords set. */
#define BK_LOG_START_FILE "log-start-offset"
/**
 * DeleteRecords: moves the log start offset up to offset (at most the log end offset),
 * persisted in BK_LOG_START_FILE before it is answered; whole segments below it go.
 * Reads and ListOffsets below it are then out of range. 0 or -1 (errno).
 */
int bk_log_delete_records(bk_log *log, int64_t offset);

/** Idempotence: the state of producer_id in this log, or NULL. */
bk_producer *bk_log_producer(bk_log *log, int64_t producer_id, bool create);

#endif /* KWIRE_BROKER_LOG_H */
