/*
 * Topic metadata in a KRaft-style log, <data>/__cluster_metadata-0, as
 * Kafka's controller keeps it: record batches whose record values are
 * unsigned varint frame version (1), unsigned varint record type (the
 * metadata record's api key), unsigned varint record version, then the
 * record. Keys are null. Written: FeatureLevelRecord (once), TopicRecord,
 * PartitionRecord, ConfigRecord, RemoveTopicRecord. Read back on start, so
 * a log directory another Kafka-compatible tool wrote in this layout (the
 * CodeCrafters "Build your own Kafka" broker's) is served too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "log.h"
#include "metadata_log.h"
#include "topics.h"
#include "util.h"
#include "kwire/messages.h"

#define METADATA_VERSION_3_9 21

/* One framed record value (kw_build_metadata_record) into a malloc'd buffer. */
static uint8_t *frame_record(const kw_message_info *m, int16_t version, const void *view,
                             size_t *len)
{
    kw_builder b;
    kw_builder_init_growable(&b, 1024);
    uint8_t *out = NULL;
    if (kw_build_metadata_record(&b, m, version, view) == KW_OK) {
        *len = kw_builder_size(&b);
        out = malloc(*len ? *len : 1);
        if (out && kw_builder_copy_out(&b, out, *len) != *len) {
            free(out);
            out = NULL;
        }
    }
    kw_builder_free(&b);
    return out;
}

static int append_records(bk_broker *br, bk_rec *recs, size_t n)
{
    size_t len;
    uint8_t *batch = bk_batch_build(recs, n, bk_wall_ms(), &len);
    int rc = -1;
    if (batch) {
        rc = bk_log_append(&br->meta_log, batch, len, 0);
        if (rc == 0 && br->cfg.fsync != BK_FSYNC_NEVER)
            rc = bk_log_sync(&br->meta_log);
    }
    free(batch);
    return rc;
}

static void free_recs(bk_rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((void *)(uintptr_t)recs[i].value.ptr);
    free(recs);
}

int bk_metadata_open(bk_broker *br)
{
    char dir[BK_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/__cluster_metadata-0", br->cfg.data_dir);
    if (bk_log_open(&br->meta_log, dir, &br->cfg, true) != 0)
        return -1;
    br->meta_open = true;
    if (br->meta_log.end == 0) {
        kw_feature_level_record f;
        memset(&f, 0, sizeof f);
        f.name = bk_cstr("metadata.version");
        f.feature_level = METADATA_VERSION_3_9;
        bk_rec rec = {{NULL, 0}, {NULL, 0}};
        size_t len;
        uint8_t *v = frame_record(&kw_feature_level_record_info, 0, &f, &len);
        if (!v)
            return -1;
        rec.value = (kw_slice){v, len};
        size_t len2;
        uint8_t *batch = bk_batch_build(&rec, 1, bk_wall_ms(), &len2);
        free(v);
        int rc = batch ? bk_log_append(&br->meta_log, batch, len2, 0) : -1;
        free(batch);
        if (rc == 0)
            rc = bk_log_sync(&br->meta_log);
        return rc;
    }
    return 0;
}

int bk_metadata_append_topic(bk_broker *br, const bk_topic *t, int32_t first_partition)
{
    size_t n = (size_t)(t->nparts - first_partition) + (first_partition == 0 ? 1 + t->nconfigs : 0);
    bk_rec *recs = calloc(n ? n : 1, sizeof *recs);
    if (!recs)
        return -1;
    size_t k = 0;
    bool ok = true;
    if (first_partition == 0) {
        kw_topic_record tr;
        memset(&tr, 0, sizeof tr);
        tr.name = (kw_slice){(const uint8_t *)t->name, t->name_len};
        tr.topic_id = t->id;
        size_t len = 0;
        uint8_t *v = frame_record(&kw_topic_record_info, 0, &tr, &len);
        ok = ok && v;
        recs[k++].value = (kw_slice){v, len};
        for (size_t i = 0; i < t->nconfigs && ok; i++) {
            kw_config_record cr;
            memset(&cr, 0, sizeof cr);
            cr.resource_type = 2;
            cr.resource_name = tr.name;
            cr.name = bk_cstr(t->configs[i].name);
            cr.value = bk_cstr(t->configs[i].value);
            v = frame_record(&kw_config_record_info, 0, &cr, &len);
            ok = ok && v;
            recs[k++].value = (kw_slice){v, len};
        }
    }
    int32_t node = br->cfg.node_id;
    for (int32_t p = first_partition; p < t->nparts && ok; p++) {
        kw_partition_record pr;
        memset(&pr, 0, sizeof pr);
        pr.partition_id = p;
        pr.topic_id = t->id;
        pr.replicas = kw_array_of(&node, 1);
        pr.isr = kw_array_of(&node, 1);
        pr.removing_replicas = kw_array_of(NULL, 0);
        pr.adding_replicas = kw_array_of(NULL, 0);
        pr.leader = node;
        pr.leader_epoch = 0;
        pr.partition_epoch = 0;
        pr.directories = kw_array_of(NULL, 0);
        pr.eligible_leader_replicas = kw_array_of(NULL, -1);
        pr.last_known_elr = kw_array_of(NULL, -1);
        size_t len = 0;
        uint8_t *v = frame_record(&kw_partition_record_info, 0, &pr, &len);
        ok = ok && v;
        recs[k++].value = (kw_slice){v, len};
    }
    int rc = ok ? append_records(br, recs, k) : -1;
    free_recs(recs, k);
    return rc;
}

int bk_metadata_append_remove_topic(bk_broker *br, const kw_uuid *id)
{
    kw_remove_topic_record rr;
    memset(&rr, 0, sizeof rr);
    rr.topic_id = *id;
    bk_rec rec;
    memset(&rec, 0, sizeof rec);
    size_t len = 0;
    uint8_t *v = frame_record(&kw_remove_topic_record_info, 0, &rr, &len);
    if (!v)
        return -1;
    rec.value = (kw_slice){v, len};
    int rc = append_records(br, &rec, 1);
    free(v);
    return rc;
}

int bk_metadata_append_producer_ids(bk_broker *br, int64_t next)
{
    kw_producer_ids_record pr;
    memset(&pr, 0, sizeof pr);
    pr.broker_id = br->cfg.node_id;
    pr.broker_epoch = 0;
    pr.next_producer_id = next;
    bk_rec rec;
    memset(&rec, 0, sizeof rec);
    size_t len = 0;
    uint8_t *v = frame_record(&kw_producer_ids_record_info, 0, &pr, &len);
    if (!v)
        return -1;
    rec.value = (kw_slice){v, len};
    int rc = append_records(br, &rec, 1);
    free(v);
    return rc;
}

/* ---- replay ------------------------------------------------------------------------------ */

typedef struct replay {
    bk_broker *br;
    bk_meta_topic *topics;
    size_t n, cap;
    int err;
} replay;

static bk_meta_topic *replay_find(replay *rp, const kw_uuid *id)
{
    for (size_t i = rp->n; i-- > 0;)
        if (!rp->topics[i].removed && memcmp(rp->topics[i].id.bytes, id->bytes, 16) == 0)
            return &rp->topics[i];
    return NULL;
}

static void replay_config(bk_meta_topic *t, const kw_config_record *cr)
{
    for (size_t i = 0; i < t->nconfigs; i++) {
        if (bk_slice_eqs(cr->name, t->configs[i].name)) {
            free(t->configs[i].value);
            if (cr->value.ptr) {
                t->configs[i].value = bk_strndup(cr->value.ptr, cr->value.len);
            } else {
                free(t->configs[i].name);
                t->configs[i] = t->configs[--t->nconfigs];
            }
            return;
        }
    }
    if (!cr->value.ptr)
        return;
    bk_kv *c = realloc(t->configs, (t->nconfigs + 1) * sizeof *c);
    if (!c)
        return;
    t->configs = c;
    t->configs[t->nconfigs].name = bk_strndup(cr->name.ptr, cr->name.len);
    t->configs[t->nconfigs].value = bk_strndup(cr->value.ptr, cr->value.len);
    t->nconfigs++;
}

static void replay_value(replay *rp, kw_slice value)
{
    kw_reader r;
    kw_reader_init(&r, value.ptr, value.len);
    kw_message msg;
    kw_decode_error err;
    if (kw_read_metadata_record(&r, &msg, &err) != KW_OK)
        return; /* records of other types, versions or layouts are not the broker's */
    const kw_message_info *type = msg.info;
    if (type == &kw_topic_record_info) {
        const kw_topic_record tr = msg.u.topic_record;
        if (!bk_topic_name_valid(tr.name))
            return;
        if (rp->n == rp->cap) {
            size_t cap = rp->cap ? rp->cap * 2 : 16;
            bk_meta_topic *t = realloc(rp->topics, cap * sizeof *t);
            if (!t) {
                rp->err = -1;
                return;
            }
            rp->topics = t;
            rp->cap = cap;
        }
        bk_meta_topic *t = &rp->topics[rp->n];
        memset(t, 0, sizeof *t);
        t->name = bk_strndup(tr.name.ptr, tr.name.len);
        if (!t->name) {
            rp->err = -1;
            return;
        }
        t->id = tr.topic_id;
        /* a topic created again under the same name replaces the old one */
        for (size_t i = 0; i < rp->n; i++)
            if (!rp->topics[i].removed && strcmp(rp->topics[i].name, t->name) == 0)
                rp->topics[i].removed = true;
        rp->n++;
    } else if (type == &kw_partition_record_info) {
        const kw_partition_record pr = msg.u.partition_record;
        bk_meta_topic *t = replay_find(rp, &pr.topic_id);
        if (t && pr.partition_id >= 0 && pr.partition_id < 1000000 &&
            pr.partition_id + 1 > t->partitions)
            t->partitions = pr.partition_id + 1;
    } else if (type == &kw_remove_topic_record_info) {
        const kw_remove_topic_record rr = msg.u.remove_topic_record;
        bk_meta_topic *t = replay_find(rp, &rr.topic_id);
        if (t)
            t->removed = true;
    } else if (type == &kw_producer_ids_record_info) {
        const kw_producer_ids_record pr = msg.u.producer_ids_record;
        if (pr.next_producer_id > rp->br->next_producer_id)
            rp->br->next_producer_id = pr.next_producer_id;
        if (pr.next_producer_id > rp->br->producer_ids_reserved)
            rp->br->producer_ids_reserved = pr.next_producer_id;
    } else if (type == &kw_config_record_info) {
        const kw_config_record cr = msg.u.config_record;
        if (cr.resource_type != 2)
            return;
        for (size_t i = rp->n; i-- > 0;) {
            bk_meta_topic *t = &rp->topics[i];
            if (!t->removed && bk_slice_eqs(cr.resource_name, t->name)) {
                replay_config(t, &cr);
                break;
            }
        }
    }
}

static int replay_batch(void *ctx, const kw_record_batch *b)
{
    replay *rp = ctx;
    if (kw_record_batch_is_control(b))
        return 0;
    if (kw_record_batch_compression(b) != KW_COMPRESSION_NONE) {
        bk_log_msg("__cluster_metadata-0: skipping a compressed batch at offset %lld",
                   (long long)b->base_offset);
        return 0;
    }
    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init(&it, b);
    while (kw_record_iter_next(&it, &rec) == 1 && rp->err == 0)
        if (rec.value.ptr)
            replay_value(rp, rec.value);
    return rp->err;
}

int bk_metadata_replay(bk_broker *br, bk_meta_topic **out, size_t *n)
{
    replay rp;
    memset(&rp, 0, sizeof rp);
    rp.br = br;
    int rc = bk_log_for_each_batch(&br->meta_log, replay_batch, &rp);
    if (rc != 0 || rp.err != 0) {
        bk_meta_topics_free(rp.topics, rp.n);
        return -1;
    }
    *out = rp.topics;
    *n = rp.n;
    return 0;
}

void bk_meta_topics_free(bk_meta_topic *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].name);
        for (size_t k = 0; k < t[i].nconfigs; k++) {
            free(t[i].configs[k].name);
            free(t[i].configs[k].value);
        }
        free(t[i].configs);
    }
    free(t);
}
