/*
 * Committed group offsets, kept as Kafka keeps them: records in a log
 * (<data>/__consumer_offsets-0) whose keys and values are Kafka's own
 * structures (lib/defs/consumer_offsets.kwdef), each behind its int16
 * version: an OffsetCommitKey v1 with an OffsetCommitValue v3 (a null value
 * deletes the offset), or a GroupMetadataKey v2 with a null value (deletes
 * the group and its offsets). Replay reads every version Kafka defines.
 * Replayed on start; every commit is appended (and synced as --fsync says)
 * before the commit is acknowledged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"
#include "groups.h"
#include "log.h"
#include "offsets.h"
#include "topics.h"
#include "util.h"
#include "kwire/messages.h"

/* The versions written: those of the broker before these records came from lib/defs. */
enum { OFFSET_KEY_VERSION = 1, OFFSET_VALUE_VERSION = 3, GROUP_KEY_VERSION = 2 };

/* A record key or value is its int16 version in front of the structure: b holds the
 * structure; the result is a malloc'd copy (NULL on failure), and b is empty again. */
static uint8_t *take_record_part(kw_builder *b, int16_t version, size_t *len)
{
    kw_build_i16(b, version);
    *len = kw_builder_size(b);
    uint8_t *p = kw_builder_error(b) == KW_OK ? malloc(*len) : NULL;
    if (p && kw_builder_copy_out(b, p, *len) != *len) {
        free(p);
        p = NULL;
    }
    kw_builder_reset(b);
    return p;
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
    uint8_t **parts = calloc(2 * n, sizeof *parts);
    int rc = -1;
    kw_builder b;
    kw_builder_init_growable(&b, 4096);
    if (!recs || !parts)
        goto out;
    bool failed = false;
    for (size_t i = 0; i < n && !failed; i++) {
        kw_offset_commit_key key = {.group = bk_cstr(g->id),
                                    .topic = bk_cstr(e[i].topic),
                                    .partition = e[i].partition};
        kw_offset_commit_value value = {.offset = e[i].offset,
                                        .leader_epoch = e[i].leader_epoch,
                                        .metadata = bk_cstr(e[i].metadata ? e[i].metadata : ""),
                                        .commit_timestamp = e[i].commit_ts,
                                        .expire_timestamp = -1};
        kw_offset_commit_key_encode(&b, OFFSET_KEY_VERSION, &key);
        parts[2 * i] = take_record_part(&b, OFFSET_KEY_VERSION, &recs[i].key.len);
        kw_offset_commit_value_encode(&b, OFFSET_VALUE_VERSION, &value);
        parts[2 * i + 1] = take_record_part(&b, OFFSET_VALUE_VERSION, &recs[i].value.len);
        recs[i].key.ptr = parts[2 * i];
        recs[i].value.ptr = parts[2 * i + 1];
        failed = !parts[2 * i] || !parts[2 * i + 1];
    }
    if (!failed)
        rc = append(br, recs, n);
out:
    for (size_t i = 0; parts && i < 2 * n; i++)
        free(parts[i]);
    free(parts);
    free(recs);
    kw_builder_free(&b);
    return rc;
}

int bk_offsets_delete_group(bk_broker *br, bk_group *g)
{
    kw_builder b;
    kw_builder_init_growable(&b, 4096);
    kw_group_metadata_key key = {.group = bk_cstr(g->id)};
    kw_group_metadata_key_encode(&b, GROUP_KEY_VERSION, &key);
    bk_rec rec = {{NULL, 0}, {NULL, 0}};
    uint8_t *k = take_record_part(&b, GROUP_KEY_VERSION, &rec.key.len);
    kw_builder_free(&b);
    if (!k)
        return -1;
    rec.key.ptr = k;
    int rc = append(br, &rec, 1);
    free(k);
    return rc;
}

/* ---- replay ----------------------------------------------------------------------------- */

/* Records this broker cannot read (other key versions, broken bytes) are skipped, as Kafka
 * skips unknown ones. */
static void replay_record(bk_broker *br, const kw_record *rec)
{
    if (!rec->key.ptr)
        return;
    kw_reader r;
    kw_reader_init(&r, rec->key.ptr, rec->key.len);
    int16_t kv = kw_read_i16(&r);
    if (!kw_reader_ok(&r))
        return;
    if (kv == GROUP_KEY_VERSION) {
        kw_group_metadata_key key;
        if (kw_group_metadata_key_decode(&r, kv, &key, NULL) != KW_OK || rec->value.ptr)
            return;
        bk_group *g = bk_group_find(br, key.group);
        if (g)
            while (g->noffsets)
                bk_group_remove_offset(g, g->noffsets - 1);
        return;
    }
    kw_offset_commit_key key;
    if (kw_offset_commit_key_decode(&r, kv, &key, NULL) != KW_OK || key.group.len == 0)
        return;
    bk_group *g = bk_group_get(br, key.group, rec->value.ptr != NULL);
    if (!g)
        return;
    if (!rec->value.ptr) {
        for (size_t i = 0; i < g->noffsets; i++) {
            if (g->offsets[i].partition == key.partition &&
                bk_slice_eqs(key.topic, g->offsets[i].topic)) {
                bk_group_remove_offset(g, i);
                break;
            }
        }
        return;
    }
    kw_reader v;
    kw_reader_init(&v, rec->value.ptr, rec->value.len);
    int16_t vv = kw_read_i16(&v);
    kw_offset_commit_value value;
    if (!kw_reader_ok(&v) || kw_offset_commit_value_decode(&v, vv, &value, NULL) != KW_OK)
        return;
    bk_offset_entry *e = bk_group_offset(g, key.topic, key.partition, true);
    if (!e)
        return;
    e->offset = value.offset;
    e->leader_epoch = value.leader_epoch;
    e->commit_ts = value.commit_timestamp;
    free(e->metadata);
    e->metadata = bk_strndup(value.metadata.ptr, value.metadata.len);
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
