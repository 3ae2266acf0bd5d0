/*
 * OffsetCommit and OffsetFetch: committed offsets kept in the group
 * (groups.c) and, before a commit is acknowledged, in __consumer_offsets-0
 * (offsets.c).
 */
#include <stdlib.h>
#include <string.h>

#include "consumer_groups.h"
#include "dispatch.h"
#include "groups.h"
#include "offsets.h"
#include "topics.h"
#include "util.h"

/* ---- OffsetCommit, OffsetFetch ------------------------------------------------------------------ */

bk_result bk_handle_offset_commit(bk_req *req, const kw_offset_commit_request *rq,
                                  kw_offset_commit_response *resp)
{
    bk_broker *br = req->br;
    int32_t generation = req->version >= 1 ? rq->generation_id_or_member_epoch : -1;
    bk_group *g = bk_group_find(br, rq->group_id);
    int16_t group_error = KW_KAFKA_NONE;
    if (rq->group_id.len == 0) {
        group_error = KW_KAFKA_INVALID_GROUP_ID;
    } else if (!g) {
        if (generation < 0)
            g = bk_group_get(br, rq->group_id, true);
        else
            group_error = req->version >= 9 ? KW_KAFKA_GROUP_ID_NOT_FOUND : KW_KAFKA_ILLEGAL_GENERATION;
        if (!g && group_error == KW_KAFKA_NONE)
            group_error = KW_KAFKA_COORDINATOR_NOT_AVAILABLE;
    } else if (g->state == BK_GROUP_DEAD) {
        group_error = KW_KAFKA_COORDINATOR_NOT_AVAILABLE;
    } else if (g->consumer) {
        group_error = bk_cgroup_validate_commit(br, g, rq->member_id, generation, req->version);
    } else if (generation < 0 && g->state == BK_GROUP_EMPTY) {
        /* a simple consumer's commit */
    } else if (g->state == BK_GROUP_COMPLETING_REBALANCE) {
        group_error = KW_KAFKA_REBALANCE_IN_PROGRESS;
    } else {
        bk_member *m = bk_member_find(g, rq->member_id);
        if (!m)
            group_error = KW_KAFKA_UNKNOWN_MEMBER_ID;
        else if (generation != g->generation)
            group_error = KW_KAFKA_ILLEGAL_GENERATION;
        else
            m->last_heartbeat = br->now;
    }
    int32_t ntopics = kw_array_len(&rq->topics);
    kw_offset_commit_response_offset_commit_response_topic *topics =
        BK_ALLOC(req, kw_offset_commit_response_offset_commit_response_topic, ntopics);
    size_t total = 0;
    kw_array_iter ti;
    kw_offset_commit_request_offset_commit_request_topic ct;
    kw_array_iter_init(&ti, &rq->topics);
    while (kw_offset_commit_request_offset_commit_request_topic_next(&ti, &ct))
        total += (size_t)kw_array_len(&ct.partitions);
    bk_offset_entry *entries = BK_ALLOC(req, bk_offset_entry, total);
    if ((!topics && ntopics) || (!entries && total))
        return BK_CLOSE;
    size_t nentries = 0;
    int64_t now = bk_wall_ms();
    kw_array_iter_init(&ti, &rq->topics);
    for (int32_t t = 0; kw_offset_commit_request_offset_commit_request_topic_next(&ti, &ct); t++) {
        int32_t nparts = kw_array_len(&ct.partitions);
        kw_offset_commit_response_offset_commit_response_partition *parts =
            BK_ALLOC(req, kw_offset_commit_response_offset_commit_response_partition, nparts);
        if (!parts && nparts)
            return BK_CLOSE;
        topics[t].name = ct.name;
        topics[t].partitions = kw_array_of(parts, nparts);
        bk_topic *topic = bk_topic_find(br, ct.name);
        kw_array_iter pi;
        kw_offset_commit_request_offset_commit_request_partition cp;
        kw_array_iter_init(&pi, &ct.partitions);
        for (int32_t i = 0; kw_offset_commit_request_offset_commit_request_partition_next(&pi, &cp); i++) {
            parts[i].partition_index = cp.partition_index;
            if (group_error != KW_KAFKA_NONE) {
                parts[i].error_code = group_error;
            } else if (!topic || cp.partition_index < 0 || cp.partition_index >= topic->nparts) {
                parts[i].error_code = KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            } else if (cp.committed_metadata.len > 4096) {
                parts[i].error_code = KW_KAFKA_OFFSET_METADATA_TOO_LARGE;
            } else {
                bk_offset_entry *e = &entries[nentries++];
                char *tn = bk_scratch_alloc(&req->scratch, ct.name.len + 1);
                char *md = bk_scratch_alloc(&req->scratch, cp.committed_metadata.len + 1);
                if (!tn || !md)
                    return BK_CLOSE;
                memcpy(tn, ct.name.ptr, ct.name.len);
                tn[ct.name.len] = 0;
                if (cp.committed_metadata.len)
                    memcpy(md, cp.committed_metadata.ptr, cp.committed_metadata.len);
                md[cp.committed_metadata.len] = 0;
                e->topic = tn;
                e->partition = cp.partition_index;
                e->offset = cp.committed_offset;
                e->leader_epoch = req->version >= 6 ? cp.committed_leader_epoch : -1;
                e->metadata = md;
                e->commit_ts = req->version == 1 && cp.commit_timestamp >= 0 ? cp.commit_timestamp : now;
                parts[i].error_code = -2; /* filled in below */
            }
        }
    }
    int16_t store_error = KW_KAFKA_NONE;
    if (nentries && bk_offsets_store(br, g, entries, nentries) != 0) {
        bk_log_msg("group %s: offsets not stored", g->id);
        store_error = KW_KAFKA_COORDINATOR_NOT_AVAILABLE;
    }
    if (store_error == KW_KAFKA_NONE) {
        for (size_t i = 0; i < nentries; i++) {
            bk_offset_entry *e = bk_group_offset(g, bk_cstr(entries[i].topic), entries[i].partition, true);
            if (!e) {
                store_error = KW_KAFKA_COORDINATOR_NOT_AVAILABLE;
                break;
            }
            e->offset = entries[i].offset;
            e->leader_epoch = entries[i].leader_epoch;
            e->commit_ts = entries[i].commit_ts;
            free(e->metadata);
            e->metadata = strdup(entries[i].metadata);
        }
    }
    for (int32_t t = 0; t < ntopics; t++) {
        kw_offset_commit_response_offset_commit_response_partition *parts =
            (kw_offset_commit_response_offset_commit_response_partition *)(uintptr_t)topics[t].partitions.items;
        for (int32_t i = 0; i < topics[t].partitions.count; i++)
            if (parts[i].error_code == -2)
                parts[i].error_code = store_error;
    }
    resp->topics = kw_array_of(topics, ntopics);
    return BK_RESPOND;
}

/* One group's offsets, for OffsetFetch: requested partitions, or all when topics is null. */
typedef struct fetched_topic {
    kw_slice name;
    int32_t n;
    int32_t *partitions;
    int64_t *offsets;
    int32_t *epochs;
    kw_slice *metadata;
} fetched_topic;

static int fetch_group_offsets(bk_req *req, bk_group *g, const kw_array *topics, bool v8,
                               fetched_topic **out, int32_t *nout)
{
    int32_t n;
    fetched_topic *ft;
    if (kw_array_is_null(topics)) {
        /* every topic the group committed, each with its partitions */
        size_t cap = g ? g->noffsets : 0;
        ft = BK_ALLOC(req, fetched_topic, cap);
        if (!ft && cap)
            return -1;
        n = 0;
        for (size_t i = 0; g && i < g->noffsets; i++) {
            const bk_offset_entry *e = &g->offsets[i];
            int32_t k = 0;
            while (k < n && !bk_slice_eqs(ft[k].name, e->topic))
                k++;
            if (k == n) {
                ft[n].name = bk_cstr(e->topic);
                ft[n].partitions = BK_ALLOC(req, int32_t, g->noffsets);
                if (!ft[n].partitions)
                    return -1;
                n++;
            }
            ft[k].partitions[ft[k].n++] = e->partition;
        }
    } else {
        n = kw_array_len(topics);
        ft = BK_ALLOC(req, fetched_topic, n);
        if (!ft && n)
            return -1;
        kw_array_iter it;
        kw_array_iter_init(&it, topics);
        for (int32_t t = 0; t < n; t++) {
            kw_array parts;
            if (v8) {
                kw_offset_fetch_request_offset_fetch_request_topics x;
                if (!kw_offset_fetch_request_offset_fetch_request_topics_next(&it, &x))
                    break;
                ft[t].name = x.name;
                parts = x.partition_indexes;
            } else {
                kw_offset_fetch_request_offset_fetch_request_topic x;
                if (!kw_offset_fetch_request_offset_fetch_request_topic_next(&it, &x))
                    break;
                ft[t].name = x.name;
                parts = x.partition_indexes;
            }
            int32_t np = kw_array_len(&parts);
            ft[t].partitions = BK_ALLOC(req, int32_t, np);
            if (!ft[t].partitions && np)
                return -1;
            kw_array_iter pi;
            kw_array_iter_init(&pi, &parts);
            int32_t p;
            while (ft[t].n < np && kw_array_next_i32(&pi, &p))
                ft[t].partitions[ft[t].n++] = p;
        }
    }
    for (int32_t t = 0; t < n; t++) {
        int32_t np = ft[t].n;
        ft[t].offsets = BK_ALLOC(req, int64_t, np);
        ft[t].epochs = BK_ALLOC(req, int32_t, np);
        ft[t].metadata = BK_ALLOC(req, kw_slice, np);
        if (np && (!ft[t].offsets || !ft[t].epochs || !ft[t].metadata))
            return -1;
        for (int32_t i = 0; i < np; i++) {
            const bk_offset_entry *e = g ? bk_group_offset(g, ft[t].name, ft[t].partitions[i], false) : NULL;
            ft[t].offsets[i] = e ? e->offset : -1;
            ft[t].epochs[i] = e ? e->leader_epoch : -1;
            ft[t].metadata[i] = bk_cstr(e && e->metadata ? e->metadata : "");
        }
    }
    *out = ft;
    *nout = n;
    return 0;
}

bk_result bk_handle_offset_fetch(bk_req *req, const kw_offset_fetch_request *rq,
                                 kw_offset_fetch_response *resp)
{
    bk_broker *br = req->br;
    if (req->version < 8) {
        bk_group *g = bk_group_find(br, rq->group_id);
        fetched_topic *ft;
        int32_t n;
        if (fetch_group_offsets(req, g, &rq->topics, false, &ft, &n) != 0)
            return BK_CLOSE;
        kw_offset_fetch_response_offset_fetch_response_topic *ts =
            BK_ALLOC(req, kw_offset_fetch_response_offset_fetch_response_topic, n);
        if (!ts && n)
            return BK_CLOSE;
        for (int32_t t = 0; t < n; t++) {
            kw_offset_fetch_response_offset_fetch_response_partition *ps =
                BK_ALLOC(req, kw_offset_fetch_response_offset_fetch_response_partition, ft[t].n);
            if (!ps && ft[t].n)
                return BK_CLOSE;
            for (int32_t i = 0; i < ft[t].n; i++) {
                ps[i].partition_index = ft[t].partitions[i];
                ps[i].committed_offset = ft[t].offsets[i];
                ps[i].committed_leader_epoch = ft[t].epochs[i];
                ps[i].metadata = ft[t].metadata[i];
            }
            ts[t].name = ft[t].name;
            ts[t].partitions = kw_array_of(ps, ft[t].n);
        }
        resp->topics = kw_array_of(ts, n);
        if (rq->group_id.len == 0)
            resp->error_code = KW_KAFKA_INVALID_GROUP_ID;
    } else {
        int32_t ng = kw_array_len(&rq->groups);
        kw_offset_fetch_response_offset_fetch_response_group *gs =
            BK_ALLOC(req, kw_offset_fetch_response_offset_fetch_response_group, ng);
        if (!gs && ng)
            return BK_CLOSE;
        kw_array_iter it;
        kw_offset_fetch_request_offset_fetch_request_group rg;
        kw_array_iter_init(&it, &rq->groups);
        for (int32_t k = 0; kw_offset_fetch_request_offset_fetch_request_group_next(&it, &rg); k++) {
            bk_group *g = bk_group_find(br, rg.group_id);
            gs[k].group_id = rg.group_id;
            if (g && g->consumer && req->version >= 9) {
                int16_t e = bk_cgroup_validate_fetch(g, rg.member_id, rg.member_epoch);
                if (e != KW_KAFKA_NONE) {
                    gs[k].error_code = e;
                    gs[k].topics = kw_array_of(NULL, 0);
                    continue;
                }
            }
            fetched_topic *ft;
            int32_t n;
            if (fetch_group_offsets(req, g, &rg.topics, true, &ft, &n) != 0)
                return BK_CLOSE;
            kw_offset_fetch_response_offset_fetch_response_topics *ts =
                BK_ALLOC(req, kw_offset_fetch_response_offset_fetch_response_topics, n);
            if (!ts && n)
                return BK_CLOSE;
            for (int32_t t = 0; t < n; t++) {
                kw_offset_fetch_response_offset_fetch_response_partitions *ps =
                    BK_ALLOC(req, kw_offset_fetch_response_offset_fetch_response_partitions, ft[t].n);
                if (!ps && ft[t].n)
                    return BK_CLOSE;
                for (int32_t i = 0; i < ft[t].n; i++) {
                    ps[i].partition_index = ft[t].partitions[i];
                    ps[i].committed_offset = ft[t].offsets[i];
                    ps[i].committed_leader_epoch = ft[t].epochs[i];
                    ps[i].metadata = ft[t].metadata[i];
                }
                ts[t].name = ft[t].name;
                ts[t].partitions = kw_array_of(ps, ft[t].n);
            }
            gs[k].group_id = rg.group_id;
            gs[k].topics = kw_array_of(ts, n);
            if (rg.group_id.len == 0)
                gs[k].error_code = KW_KAFKA_INVALID_GROUP_ID;
        }
        resp->groups = kw_array_of(gs, ng);
    }
    return BK_RESPOND;
}
