/*
 * Committed group offsets, kept as Kafka keeps them: records in a log
 * (<data>/__consumer_offsets-0) whose keys and values use Kafka's own
 * formats:
 *   key   OffsetCommitKey v1: int16 1, string group, string topic, int32 partition
 *   value OffsetCommitValue v3: int16 3, int64 offset, int32 leader_epoch,
 *         string metadata, int64 commit_timestamp; null: the offset is deleted
 *   key   GroupMetadataKey v2: int16 2, string group; a null value deletes
 *         the group and its offsets
 * Replayed on start; every commit is appended (and synced as --fsync says)
 * before the commit is acknowledged. The log is not compacted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker.h"

typedef struct packer {
    uint8_t *buf;
    size_t len, cap;
    bool failed;
} packer;

static void pack(packer *p, const void *data, size_t n)
{
    if (p->failed)
        return;
    if (p->cap - p->len < n) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        while (cap - p->len < n)
            cap *= 2;
        uint8_t *b = realloc(p->buf, cap);
        if (!b) {
            p->failed = true;
            return;
        }
        p->buf = b;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, data, n);
    p->len += n;
}

static void pack_be(packer *p, uint64_t v, unsigned n)
{
    uint8_t b[8];
    for (unsigned i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    pack(p, b, n);
}

static void pack_string(packer *p, const char *s)
{
    size_t n = strlen(s);
    if (n > INT16_MAX)
        n = INT16_MAX;
    pack_be(p, n, 2);
    pack(p, s, n);
}

static int append(bk_broker *br, bk_rec *recs, size_t n)
{
    size_t len;
    uint8_t *batch = bk_batch_build(recs, n, bk_wall_ms(), &len);
    if (!batch)
        return -1;
    int rc = bk_log_append(&br->offsets_log, batch, len, 0);
    free(batch);
    if (rc == 0 && br->cfg.fsync == BK_FSYNC_ALWAYS)
        rc = bk_log_sync(&br->offsets_log);
    return rc;
}

int bk_offsets_store(bk_broker *br, bk_group *g, const bk_offset_entry *e, size_t n)
{
    if (n == 0)
        return 0;
    bk_rec *recs = calloc(n, sizeof *recs);
    packer *keys = calloc(n, sizeof *keys), *values = calloc(n, sizeof *values);
    int rc = -1;
    if (!recs || !keys || !values)
        goto out;
    bool failed = false;
    for (size_t i = 0; i < n; i++) {
        pack_be(&keys[i], 1, 2);
        pack_string(&keys[i], g->id);
        pack_string(&keys[i], e[i].topic);
        pack_be(&keys[i], (uint32_t)e[i].partition, 4);
        pack_be(&values[i], 3, 2);
        pack_be(&values[i], (uint64_t)e[i].offset, 8);
        pack_be(&values[i], (uint32_t)e[i].leader_epoch, 4);
        pack_string(&values[i], e[i].metadata ? e[i].metadata : "");
        pack_be(&values[i], (uint64_t)e[i].commit_ts, 8);
        failed |= keys[i].failed || values[i].failed;
        recs[i].key = (kw_slice){keys[i].buf, keys[i].len};
        recs[i].value = (kw_slice){values[i].buf, values[i].len};
    }
    if (!failed)
        rc = append(br, recs, n);
out:
    for (size_t i = 0; keys && values && i < n; i++) {
        free(keys[i].buf);
        free(values[i].buf);
    }
    free(keys);
    free(values);
    free(recs);
    return rc;
}

int bk_offsets_delete_group(bk_broker *br, bk_group *g)
{
    packer k;
    memset(&k, 0, sizeof k);
    pack_be(&k, 2, 2);
    pack_string(&k, g->id);
    if (k.failed) {
        free(k.buf);
        return -1;
    }
    bk_rec rec = {{k.buf, k.len}, {NULL, 0}};
    int rc = append(br, &rec, 1);
    free(k.buf);
    return rc;
}

/* ---- replay ----------------------------------------------------------------------------- */

static kw_slice take_string(kw_reader *r) { return kw_read_string(r); }

static void replay_record(bk_broker *br, const kw_record *rec)
{
    if (!rec->key.ptr)
        return;
    kw_reader r;
    kw_reader_init(&r, rec->key.ptr, rec->key.len);
    int16_t kv = kw_read_i16(&r);
    if (kv == 2) {
        kw_slice group = take_string(&r);
        if (!kw_reader_ok(&r) || rec->value.ptr)
            return;
        bk_group *g = bk_group_find(br, group);
        if (g)
            while (g->noffsets)
                bk_group_remove_offset(g, g->noffsets - 1);
        return;
    }
    if (kv != 0 && kv != 1)
        return;
    kw_slice group = take_string(&r);
    kw_slice topic = take_string(&r);
    int32_t partition = kw_read_i32(&r);
    if (!kw_reader_ok(&r) || group.len == 0)
        return;
    bk_group *g = bk_group_get(br, group, rec->value.ptr != NULL);
    if (!g)
        return;
    if (!rec->value.ptr) {
        for (size_t i = 0; i < g->noffsets; i++) {
            if (g->offsets[i].partition == partition && bk_slice_eqs(topic, g->offsets[i].topic)) {
                bk_group_remove_offset(g, i);
                break;
            }
        }
        return;
    }
    kw_reader v;
    kw_reader_init(&v, rec->value.ptr, rec->value.len);
    int16_t vv = kw_read_i16(&v);
    int64_t offset = kw_read_i64(&v);
    int32_t epoch = -1;
    if (vv == 3)
        epoch = kw_read_i32(&v);
    kw_slice metadata = take_string(&v);
    int64_t ts = kw_read_i64(&v);
    if (!kw_reader_ok(&v) || vv < 0 || vv > 3)
        return;
    bk_offset_entry *e = bk_group_offset(g, topic, partition, true);
    if (!e)
        return;
    e->offset = offset;
    e->leader_epoch = epoch;
    e->commit_ts = ts;
    free(e->metadata);
    e->metadata = bk_strndup(metadata.ptr, metadata.len);
}

typedef struct replay_ctx {
    bk_broker *br;
    size_t records;
} replay_ctx;

static int replay_batch(void *ctx, const kw_record_batch *b)
{
    replay_ctx *rc = ctx;
    bk_broker *br = rc->br;
    if (kw_record_batch_is_control(b) || kw_record_batch_compression(b) != KW_COMPRESSION_NONE)
        return 0;
    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init(&it, b);
    while (kw_record_iter_next(&it, &rec) == 1) {
        replay_record(br, &rec);
        rc->records++;
    }
    return 0;
}

/*
 * Rewrites the log with only the live offsets when it holds many more
 * records than that (what Kafka's log compaction does for
 * __consumer_offsets), so starting does not replay every commit ever made.
 * The new log is written beside the old one and swapped in by renames.
 */
static int compact(bk_broker *br)
{
    char dir[BK_PATH_MAX], tmp[BK_PATH_MAX + 16], old[BK_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/__consumer_offsets-0", br->cfg.data_dir);
    snprintf(tmp, sizeof tmp, "%s.compacting", dir);
    snprintf(old, sizeof old, "%s.old", dir);
    bk_remove_tree(tmp);
    bk_log fresh;
    if (bk_log_open(&fresh, tmp, &br->cfg, true) != 0)
        return -1;
    bk_log saved = br->offsets_log;
    br->offsets_log = fresh;
    int rc = 0;
    for (size_t i = 0; i < br->ngroups && rc == 0; i++) {
        bk_group *g = br->groups[i];
        for (size_t k = 0; k < g->noffsets && rc == 0; k += 1000) {
            size_t n = g->noffsets - k < 1000 ? g->noffsets - k : 1000;
            rc = bk_offsets_store(br, g, &g->offsets[k], n);
        }
    }
    if (rc == 0)
        rc = bk_log_sync(&br->offsets_log);
    fresh = br->offsets_log;
    br->offsets_log = saved;
    bk_log_close(&fresh);
    if (rc != 0) {
        bk_remove_tree(tmp);
        return -1;
    }
    bk_log_close(&br->offsets_log);
    br->offsets_open = false;
    bk_remove_tree(old);
    if (rename(dir, old) != 0 || rename(tmp, dir) != 0) {
        /* put back whichever is missing */
        rename(old, dir);
        return -1;
    }
    bk_fsync_dir(br->cfg.data_dir);
    bk_remove_tree(old);
    if (bk_log_open(&br->offsets_log, dir, &br->cfg, false) != 0)
        return -1;
    br->offsets_open = true;
    return 0;
}

int bk_offsets_open(bk_broker *br)
{
    char dir[BK_PATH_MAX], tmp[BK_PATH_MAX + 16], old[BK_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/__consumer_offsets-0", br->cfg.data_dir);
    snprintf(tmp, sizeof tmp, "%s.compacting", dir);
    snprintf(old, sizeof old, "%s.old", dir);
    /* a compaction cut short: the old log comes back unless the new one was in place */
    struct stat st;
    if (stat(dir, &st) != 0 && stat(old, &st) == 0 && rename(old, dir) != 0)
        return -1;
    bk_remove_tree(tmp);
    bk_remove_tree(old);
    if (bk_log_open(&br->offsets_log, dir, &br->cfg, true) != 0)
        return -1;
    br->offsets_open = true;
    replay_ctx rc = {br, 0};
    if (bk_log_for_each_batch(&br->offsets_log, replay_batch, &rc) != 0)
        return -1;
    /* groups left with no offsets after replay are gone */
    for (size_t i = br->ngroups; i-- > 0;) {
        bk_group *g = br->groups[i];
        if (g->noffsets == 0 && g->nmembers == 0) {
            bk_map_del(&br->groups_by_id, g->id, strlen(g->id));
            bk_group_free(g);
            br->groups[i] = br->groups[--br->ngroups];
        }
    }
    size_t live = 0;
    for (size_t i = 0; i < br->ngroups; i++)
        live += br->groups[i]->noffsets;
    if (rc.records > 2 * live + 10000) {
        bk_log_msg("__consumer_offsets-0: %zu records for %zu live offsets, compacting", rc.records,
                   live);
        if (compact(br) != 0) {
            bk_log_msg("__consumer_offsets-0: compaction failed: %s", strerror(errno));
            if (!br->offsets_open) {
                if (bk_log_open(&br->offsets_log, dir, &br->cfg, true) != 0)
                    return -1;
                br->offsets_open = true;
            }
        }
    }
    return 0;
}
