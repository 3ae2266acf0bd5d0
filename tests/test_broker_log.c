/*
 * kwire-broker storage: a partition log in Kafka's layout, its offset
 * index, segment rolling, reads for Fetch and ListOffsets, idempotent
 * producer state rebuilt from the log, and recovery of a torn or corrupt
 * tail; the topic table and the KRaft metadata log across a restart.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker_harness.h"
#include "groups.h"
#include "log.h"
#include "offsets.h"

static bk_config test_config(const char *dir)
{
    bk_config cfg;
    bk_config_default(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
    cfg.fsync = BK_FSYNC_NEVER;
    return cfg;
}

static char *make_dir(void)
{
    char *d = strdup("/tmp/kwire-log-test-XXXXXX");
    cr_assert(mkdtemp(d), "mkdtemp");
    return d;
}

static void append_n(bk_log *log, int batches, int records)
{
    for (int i = 0; i < batches; i++) {
        size_t len;
        uint8_t *b = bh_batch(records, -1, -1, -1, &len);
        cr_assert_eq(bk_log_append(log, b, len, 0), 0, "append batch %d", i);
        free(b);
    }
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

Test(broker_log, append_assigns_offsets_and_reads_back)
{
    char *dir = make_dir();
    bk_config cfg = test_config(dir);
    bk_log log;
    cr_assert_eq(bk_log_open(&log, dir, &cfg, true), 0, "open");
    cr_assert_eq(log.start, 0, "start");
    cr_assert_eq(log.end, 0, "end of an empty log");
    append_n(&log, 3, 10);
    cr_assert_eq(log.end, 30, "end after 3 batches of 10: %lld", (long long)log.end);

    bk_read rd;
    cr_assert_eq(bk_log_read(&log, 15, 1 << 20, true, &rd), KW_KAFKA_NONE, "read at 15");
    cr_assert_gt(rd.len, 0, "bytes at 15");
    /* the batch holding offset 15 starts at offset 10 */
    uint8_t head[12];
    cr_assert_eq(pread(rd.fd, head, 12, (off_t)rd.pos), 12, "pread");
    cr_assert_eq((int64_t)kw_load_be64(head), 10, "batch base offset %lld",
                 (long long)kw_load_be64(head));
    cr_assert_eq(bk_log_read(&log, 30, 1 << 20, true, &rd), KW_KAFKA_NONE, "read at the end");
    cr_assert_eq(rd.len, 0, "nothing at the end");
    cr_assert_eq(bk_log_read(&log, 31, 1 << 20, true, &rd), KW_KAFKA_OFFSET_OUT_OF_RANGE, "past the end");
    cr_assert_eq(bk_log_read(&log, -1, 1 << 20, true, &rd), KW_KAFKA_OFFSET_OUT_OF_RANGE, "negative");
    /* max_bytes 1 still gives the whole first batch (KIP-74), without min_one nothing more */
    cr_assert_eq(bk_log_read(&log, 0, 1, true, &rd), KW_KAFKA_NONE, "read");
    cr_assert_eq(rd.len, rd.first_batch, "whole first batch");
    cr_assert_eq(bk_log_read(&log, 0, 1, false, &rd), KW_KAFKA_NONE, "read");
    cr_assert_eq(rd.len, 1, "max_bytes honoured without min_one");

    /* every stored batch keeps its CRC */
    char path[512];
    snprintf(path, sizeof path, "%s/00000000000000000000.log", dir);
    int fd = open(path, O_RDONLY);
    off_t size = file_size(path);
    uint8_t *all = malloc((size_t)size);
    cr_assert_eq(read(fd, all, (size_t)size), size, "read log");
    close(fd);
    kw_batch_iter it;
    kw_batch b;
    kw_batch_iter_init(&it, (kw_slice){all, (size_t)size}, KW_VERIFY_CRC);
    int n = 0;
    while (kw_batch_iter_next(&it, &b) == 1) {
        cr_assert_eq(b.v2.base_offset, n * 10, "batch %d base offset", n);
        n++;
    }
    cr_assert_eq(n, 3, "3 batches with good CRCs");
    cr_assert_eq(kw_batch_iter_error(&it).code, KW_OK, "no CRC error");
    free(all);
    bk_log_close(&log);

    /* reopened: the same end, and appends continue from it */
    cr_assert_eq(bk_log_open(&log, dir, &cfg, false), 0, "reopen");
    cr_assert_eq(log.end, 30, "end after reopen");
    append_n(&log, 1, 5);
    cr_assert_eq(log.end, 35, "append after reopen");
    bk_log_close(&log);
    bk_remove_tree(dir);
    free(dir);
}

Test(broker_log, segments_roll_and_index)
{
    char *dir = make_dir();
    bk_config cfg = test_config(dir);
    cfg.segment_bytes = 2048;
    bk_log log;
    cr_assert_eq(bk_log_open(&log, dir, &cfg, true), 0, "open");
    append_n(&log, 40, 20); /* each batch is some 300 bytes */
    cr_assert_gt(log.nsegs, 3, "several segments: %zu", log.nsegs);
    for (size_t i = 0; i < log.nsegs; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%020lld.log", dir, (long long)log.segs[i].base);
        cr_assert_gt(file_size(path), 0, "segment %s named by its base offset", path);
        cr_assert_leq(log.segs[i].size, 2048 + 400, "segment size %llu",
                      (unsigned long long)log.segs[i].size);
        snprintf(path, sizeof path, "%s/%020lld.index", dir, (long long)log.segs[i].base);
        cr_assert_eq(file_size(path) % 8, 0, "index entries are 8 bytes");
        if (i > 0)
            cr_assert_eq(log.segs[i].base, log.segs[i - 1].next, "segments are contiguous");
    }
    /* every offset is found in its segment */
    for (int64_t off = 0; off < log.end; off += 7) {
        bk_read rd;
        cr_assert_eq(bk_log_read(&log, off, 100000, true, &rd), KW_KAFKA_NONE, "read %lld", (long long)off);
        uint8_t head[27];
        cr_assert_eq(pread(rd.fd, head, 27, (off_t)rd.pos), 27, "pread");
        int64_t base = (int64_t)kw_load_be64(head);
        int64_t last = base + (int32_t)kw_load_be32(head + 23);
        cr_assert(base <= off && off <= last, "offset %lld in batch %lld..%lld", (long long)off,
                  (long long)base, (long long)last);
    }
    int64_t end = log.end;
    bk_log_close(&log);
    cr_assert_eq(bk_log_open(&log, dir, &cfg, false), 0, "reopen");
    cr_assert_eq(log.end, end, "end across segments after reopen");
    cr_assert_eq(log.truncated_bytes, 0, "nothing to recover");
    bk_log_close(&log);
    bk_remove_tree(dir);
    free(dir);
}

static void recover_case(const char *what, void (*damage)(const char *path, off_t good))
{
    char *dir = make_dir();
    bk_config cfg = test_config(dir);
    bk_log log;
    cr_assert_eq(bk_log_open(&log, dir, &cfg, true), 0, "open");
    append_n(&log, 4, 10);
    off_t good = (off_t)log.segs[0].size;
    bk_log_close(&log);
    char path[512];
    snprintf(path, sizeof path, "%s/00000000000000000000.log", dir);
    damage(path, good);
    cr_assert_eq(bk_log_open(&log, dir, &cfg, false), 0, "%s: reopen", what);
    cr_assert_eq(file_size(path), (off_t)log.segs[0].size, "%s: file cut to what is valid", what);
    cr_assert_leq(log.end, 40, "%s: end %lld", what, (long long)log.end);
    cr_assert_geq(log.end, 30, "%s: end %lld", what, (long long)log.end);
    /* what is left reads back with good CRCs, and appends go on from it */
    int64_t end = log.end;
    append_n(&log, 1, 10);
    cr_assert_eq(log.end, end + 10, "%s: append after recovery", what);
    bk_log_close(&log);
    bk_remove_tree(dir);
    free(dir);
}

static void torn_tail(const char *path, off_t good)
{
    /* the head of another batch, cut short: a crash during a write */
    int fd = open(path, O_RDWR);
    uint8_t head[40];
    cr_assert_eq(pread(fd, head, sizeof head, 0), (ssize_t)sizeof head, "pread");
    cr_assert_eq(pwrite(fd, head, sizeof head, good), (ssize_t)sizeof head, "pwrite");
    close(fd);
}

static void corrupt_last(const char *path, off_t good)
{
    int fd = open(path, O_RDWR);
    uint8_t b;
    cr_assert_eq(pread(fd, &b, 1, good - 3), 1, "pread");
    b ^= 0xff;
    cr_assert_eq(pwrite(fd, &b, 1, good - 3), 1, "pwrite");
    close(fd);
}

static void zero_tail(const char *path, off_t good)
{
    /* a file system that extended the file but never wrote the bytes */
    cr_assert_eq(truncate(path, good + 4096), 0, "truncate");
}

Test(broker_log, recovery_truncates_a_torn_batch) { recover_case("torn", torn_tail); }
Test(broker_log, recovery_drops_a_corrupt_last_batch) { recover_case("corrupt", corrupt_last); }
Test(broker_log, recovery_drops_zeroed_tail) { recover_case("zeroes", zero_tail); }

Test(broker_log, timestamps_and_producers_survive_reopen)
{
    char *dir = make_dir();
    bk_config cfg = test_config(dir);
    bk_log log;
    cr_assert_eq(bk_log_open(&log, dir, &cfg, true), 0, "open");
    size_t len;
    uint8_t *b = bh_batch(5, 42, 3, 0, &len);
    cr_assert_eq(bk_log_append(&log, b, len, 0), 0, "append");
    free(b);
    b = bh_batch(5, 42, 3, 5, &len);
    cr_assert_eq(bk_log_append(&log, b, len, 0), 0, "append");
    free(b);
    int64_t ts;
    /* records carry base 1700000000000 + their index */
    cr_assert_eq(bk_log_offset_for_timestamp(&log, 1700000000003, &ts), 3, "by timestamp");
    cr_assert_eq(ts, 1700000000003, "its timestamp");
    cr_assert_eq(bk_log_offset_for_timestamp(&log, 1800000000000, &ts), -1, "none later");
    bk_log_close(&log);
    cr_assert_eq(bk_log_open(&log, dir, &cfg, false), 0, "reopen");
    bk_producer *p = bk_log_producer(&log, 42, false);
    cr_assert(p, "producer 42 rebuilt from the log");
    cr_assert_eq(p->epoch, 3, "epoch");
    cr_assert_eq(p->n, 2, "two batches remembered");
    cr_assert_eq(p->b[1].first_seq, 5, "first seq");
    cr_assert_eq(p->b[1].last_seq, 9, "last seq");
    cr_assert_eq(p->b[1].first_offset, 5, "first offset");
    bk_log_close(&log);
    bk_remove_tree(dir);
    free(dir);
}

Test(broker_log, topics_and_metadata_log_survive_restart)
{
    bh h;
    bh_init(&h);
    cr_assert(bh_open(&h), "open");
    bk_topic *t;
    const char *msg;
    cr_assert_eq(bk_topic_create(&h.br, bk_cstr("orders"), 3, NULL, 0, false, &t, &msg), KW_KAFKA_NONE,
                 "create");
    kw_uuid id = t->id;
    cr_assert_eq(bk_topic_create(&h.br, bk_cstr("orders"), 3, NULL, 0, false, &t, &msg),
                 KW_KAFKA_TOPIC_ALREADY_EXISTS, "exists");
    cr_assert_eq(bk_topic_create(&h.br, bk_cstr("bad/name"), 1, NULL, 0, false, &t, &msg),
                 KW_KAFKA_INVALID_TOPIC_EXCEPTION, "illegal name");
    cr_assert_eq(bk_topic_create(&h.br, bk_cstr("gone"), 1, NULL, 0, false, &t, &msg), KW_KAFKA_NONE, "create");
    cr_assert_eq(bk_topic_delete(&h.br, t), KW_KAFKA_NONE, "delete");
    t = bk_topic_find(&h.br, bk_cstr("orders"));
    cr_assert_eq(bk_topic_add_partitions(&h.br, t, 5, false, &msg), KW_KAFKA_NONE, "grow to 5");
    bh_close(&h);

    cr_assert(bh_open(&h), "reopen");
    t = bk_topic_find(&h.br, bk_cstr("orders"));
    cr_assert(t, "orders is back");
    cr_assert_eq(t->nparts, 5, "with 5 partitions");
    cr_assert_eq(memcmp(t->id.bytes, id.bytes, 16), 0, "and its topic id");
    cr_assert_null(bk_topic_find(&h.br, bk_cstr("gone")), "a deleted topic stays deleted");
    char path[512];
    snprintf(path, sizeof path, "%s/orders-4/partition.metadata", h.dir);
    FILE *f = fopen(path, "r");
    cr_assert(f, "partition.metadata");
    char line[128], idtext[23];
    bk_uuid_format(&id, idtext);
    cr_assert(fgets(line, sizeof line, f) && strcmp(line, "version: 0\n") == 0, "version line");
    cr_assert(fgets(line, sizeof line, f) && strstr(line, idtext), "topic id line %s", line);
    fclose(f);
    bh_destroy(&h);
}

Test(broker_log, serves_a_directory_another_tool_wrote)
{
    /* partition directories with no metadata log entry are adopted */
    bh h;
    bh_init(&h);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/foreign-0", h.dir);
    bk_log log;
    cr_assert_eq(bk_log_open(&log, dir, &h.cfg, true), 0, "write a foreign log");
    append_n(&log, 2, 4);
    bk_log_close(&log);
    snprintf(dir, sizeof dir, "%s/foreign-0/00000000000000000000.index", h.dir);
    unlink(dir); /* indexes are rebuilt */
    cr_assert(bh_open(&h), "open");
    bk_topic *t = bk_topic_find(&h.br, bk_cstr("foreign"));
    cr_assert(t, "adopted");
    cr_assert_eq(t->nparts, 1, "partitions");
    cr_assert_eq(t->parts[0]->log.end, 8, "its records");
    bh_destroy(&h);
}

Test(broker_log, committed_offsets_are_compacted_on_start)
{
    bh h;
    bh_init(&h);
    cr_assert(bh_open(&h), "open");
    bk_topic *t;
    const char *msg;
    cr_assert_eq(bk_topic_create(&h.br, bk_cstr("t"), 4, NULL, 0, false, &t, &msg), KW_KAFKA_NONE, "topic");
    bk_group *g = bk_group_get(&h.br, bk_cstr("g"), true);
    cr_assert(g, "group");
    for (int i = 0; i < 6000; i++) {
        bk_offset_entry e[2];
        memset(e, 0, sizeof e);
        for (int k = 0; k < 2; k++) {
            e[k].topic = "t";
            e[k].partition = k;
            e[k].offset = i * 10 + k;
            e[k].leader_epoch = -1;
            e[k].metadata = "m";
            e[k].commit_ts = 1;
        }
        cr_assert_eq(bk_offsets_store(&h.br, g, e, 2), 0, "store %d", i);
    }
    bk_offset_entry *e = bk_group_offset(g, bk_cstr("t"), 1, true);
    e->offset = 59991;
    e = bk_group_offset(g, bk_cstr("t"), 0, true);
    e->offset = 59990;
    int64_t before = h.br.offsets_log.end;
    bh_close(&h);
    cr_assert(bh_open(&h), "reopen: replays and compacts");
    cr_assert_lt(h.br.offsets_log.end, before, "compacted: %lld records, %lld before",
                 (long long)h.br.offsets_log.end, (long long)before);
    g = bk_group_find(&h.br, bk_cstr("g"));
    cr_assert(g, "group back");
    cr_assert_eq(g->noffsets, 2, "two offsets");
    cr_assert_eq(bk_group_offset(g, bk_cstr("t"), 1, false)->offset, 59991, "latest offset kept");
    bh_close(&h);
    cr_assert(bh_open(&h), "reopen the compacted log");
    g = bk_group_find(&h.br, bk_cstr("g"));
    cr_assert(g && bk_group_offset(g, bk_cstr("t"), 0, false)->offset == 59990, "still there");
    bh_destroy(&h);
}

Test(broker_log, retention_deletes_old_segments_never_the_active_one)
{
    char *dir = make_dir();
    bk_config cfg = test_config(dir);
    cfg.segment_bytes = 2048;
    bk_log log;
    cr_assert_eq(bk_log_open(&log, dir, &cfg, true), 0, "open");
    append_n(&log, 30, 20); /* records stamped 1700000000000 + i */
    size_t nsegs = log.nsegs;
    cr_assert_gt(nsegs, 3, "segments");
    int64_t end = log.end;
    cr_assert_eq(bk_log_apply_retention(&log, 1600000000000, -1), 0, "nothing that old");
    /* by size: keep at most ~3 segments' worth */
    uint64_t keep = log.segs[nsegs - 1].size + log.segs[nsegs - 2].size + log.segs[nsegs - 3].size;
    int n = bk_log_apply_retention(&log, -1, (int64_t)keep);
    cr_assert_eq((size_t)n, nsegs - 3, "by size: %d deleted", n);
    cr_assert_eq(log.start, log.segs[0].base, "the log starts at the first segment left");
    bk_read rd;
    cr_assert_eq(bk_log_read(&log, 0, 1000, true, &rd), KW_KAFKA_OFFSET_OUT_OF_RANGE, "gone");
    cr_assert_eq(bk_log_read(&log, log.start, 1000, true, &rd), KW_KAFKA_NONE, "still there");
    /* by time: everything is older than a week past its stamps, but the active segment stays */
    n = bk_log_apply_retention(&log, 1700000000000 + 8LL * 86400000, -1);
    cr_assert_eq(n, 2, "by time: %d deleted", n);
    cr_assert_eq(log.nsegs, 1, "the active segment stays");
    cr_assert_eq(log.end, end, "the end does not move");
    char path[512];
    snprintf(path, sizeof path, "%s/00000000000000000000.log", dir);
    cr_assert_eq(access(path, F_OK), -1, "the first segment's file is gone");
    bk_log_close(&log);
    cr_assert_eq(bk_log_open(&log, dir, &cfg, false), 0, "reopen");
    cr_assert_eq(log.start, log.segs[0].base, "start offset after reopen");
    cr_assert_eq(log.end, end, "end after reopen");
    bk_log_close(&log);
    bk_remove_tree(dir);
    free(dir);
}
