/*
 * The classic group API: JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * ListGroups, DescribeGroups and DeleteGroups, answered from the group
 * coordinator's state (groups.c), which they move through its transitions.
 *
 * A JoinGroup or a follower's SyncGroup that must wait parks; the
 * coordinator wakes its connection (bk_conn_wake) and the handler runs
 * again right after the current request, building the answer from the
 * state the group is in then (req->resumed).
 */
#include <stdlib.h>
#include <string.h>

#include "consumer_groups.h"
#include "dispatch.h"
#include "groups.h"
#include "loop.h"
#include "offsets.h"
#include "topics.h"
#include "util.h"

/* ---- JoinGroup ------------------------------------------------------------------------------- */

static bk_result join_reply(bk_req *req, kw_join_group_response *resp, bk_group *g, bk_member *m,
                            int16_t error, kw_slice member_id)
{
    resp->error_code = error;
    resp->member_id = member_id;
    if (req->version >= 7)
        resp->protocol_name = (kw_slice){NULL, 0};
    if (error == KW_KAFKA_NONE && g && m) {
        resp->generation_id = g->generation;
        resp->protocol_type = bk_cstr(g->protocol_type);
        resp->protocol_name = bk_cstr(g->protocol_name ? g->protocol_name : "");
        resp->leader = bk_cstr(g->leader ? g->leader : "");
        resp->member_id = bk_cstr(m->member_id);
        if (g->leader && strcmp(g->leader, m->member_id) == 0) {
            kw_join_group_response_join_group_response_member *ms =
                BK_ALLOC(req, kw_join_group_response_join_group_response_member, g->nmembers);
            if (!ms && g->nmembers)
                return BK_CLOSE;
            for (size_t i = 0; i < g->nmembers; i++) {
                const bk_member *x = g->members[i];
                const bk_protocol *p = bk_member_protocol(x, g->protocol_name);
                ms[i].member_id = bk_cstr(x->member_id);
                ms[i].group_instance_id = x->instance_id ? bk_cstr(x->instance_id) : (kw_slice){NULL, 0};
                ms[i].metadata = p ? (kw_slice){p->metadata ? p->metadata : (const uint8_t *)"",
                                                p->metadata_len}
                                   : bk_cstr("");
            }
            resp->members = kw_array_of(ms, (int32_t)g->nmembers);
        }
    }
    return BK_RESPOND;
}

static bool set_protocols(bk_member *m, const kw_join_group_request *rq)
{
    size_t n = (size_t)kw_array_len(&rq->protocols);
    bk_protocol *ps = calloc(n ? n : 1, sizeof *ps);
    if (!ps)
        return false;
    kw_array_iter it;
    kw_join_group_request_join_group_request_protocol p;
    kw_array_iter_init(&it, &rq->protocols);
    size_t k = 0;
    bool ok = true;
    while (kw_join_group_request_join_group_request_protocol_next(&it, &p)) {
        ps[k].name = bk_strndup(p.name.ptr, p.name.len);
        ps[k].metadata = p.metadata.len ? malloc(p.metadata.len) : NULL;
        ps[k].metadata_len = p.metadata.len;
        if (!ps[k].name || (p.metadata.len && !ps[k].metadata))
            ok = false;
        else if (p.metadata.len)
            memcpy(ps[k].metadata, p.metadata.ptr, p.metadata.len);
        k++;
    }
    if (!ok) {
        for (size_t i = 0; i < k; i++) {
            free(ps[i].name);
            free(ps[i].metadata);
        }
        free(ps);
        return false;
    }
    for (size_t i = 0; i < m->nprotocols; i++) {
        free(m->protocols[i].name);
        free(m->protocols[i].metadata);
    }
    free(m->protocols);
    m->protocols = ps;
    m->nprotocols = k;
    return true;
}

static bool same_protocols(const bk_member *m, const kw_join_group_request *rq)
{
    if ((size_t)kw_array_len(&rq->protocols) != m->nprotocols)
        return false;
    kw_array_iter it;
    kw_join_group_request_join_group_request_protocol p;
    kw_array_iter_init(&it, &rq->protocols);
    for (size_t k = 0; kw_join_group_request_join_group_request_protocol_next(&it, &p); k++) {
        const bk_protocol *q = &m->protocols[k];
        if (!bk_slice_eqs(p.name, q->name) || p.metadata.len != q->metadata_len ||
            (p.metadata.len && memcmp(p.metadata.ptr, q->metadata, p.metadata.len) != 0))
            return false;
    }
    return true;
}

/* Every protocol the group uses now must be among the member's. */
static bool protocols_compatible(const bk_group *g, const kw_join_group_request *rq)
{
    if (g->nmembers == 0)
        return true;
    if (!bk_slice_eqs(rq->protocol_type, g->protocol_type ? g->protocol_type : ""))
        return false;
    /* some protocol of the request is supported by every member */
    kw_array_iter it;
    kw_join_group_request_join_group_request_protocol p;
    kw_array_iter_init(&it, &rq->protocols);
    while (kw_join_group_request_join_group_request_protocol_next(&it, &p)) {
        char name[256];
        size_t n = p.name.len < sizeof name - 1 ? p.name.len : sizeof name - 1;
        memcpy(name, p.name.ptr, n);
        name[n] = 0;
        bool everyone = true;
        for (size_t i = 0; i < g->nmembers && everyone; i++)
            everyone = bk_member_protocol(g->members[i], name) != NULL;
        if (everyone)
            return true;
    }
    return false;
}

static char *new_member_id(bk_broker *br, kw_slice client_id)
{
    uint8_t r[16];
    bk_random_bytes(r, sizeof r);
    size_t n = client_id.ptr ? client_id.len : 0;
    if (n > 128)
        n = 128;
    char *s = malloc(n + 1 + 36 + 1 + 20);
    if (!s)
        return NULL;
    if (n)
        memcpy(s, client_id.ptr, n);
    int k = snprintf(s + n, 60, "-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                     r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
                     r[13], r[14], r[15]);
    (void)k;
    br->member_seq++;
    return s;
}

static bk_member *add_member(bk_req *req, bk_group *g, char *member_id,
                             const kw_join_group_request *rq, int32_t rebalance_timeout)
{
    bk_member *m = calloc(1, sizeof *m);
    if (!m) {
        free(member_id);
        return NULL;
    }
    m->member_id = member_id;
    m->instance_id = rq->group_instance_id.ptr
                         ? bk_strndup(rq->group_instance_id.ptr, rq->group_instance_id.len)
                         : NULL;
    kw_slice cid = req->hdr.client_id;
    m->client_id = bk_strndup(cid.ptr ? cid.ptr : (const uint8_t *)"", cid.ptr ? cid.len : 0);
    const char *peer = req->conn ? req->conn->peer : "";
    const char *colon = strrchr(peer, ':');
    size_t hl = colon ? (size_t)(colon - peer) : strlen(peer);
    char host[80];
    snprintf(host, sizeof host, "/%.*s", (int)hl, peer);
    m->client_host = strdup(host);
    m->protocol_type = bk_strndup(rq->protocol_type.ptr, rq->protocol_type.len);
    m->session_timeout_ms = rq->session_timeout_ms;
    m->rebalance_timeout_ms = rebalance_timeout;
    m->last_heartbeat = req->br->now;
    if (!m->client_id || !m->client_host || !m->protocol_type || !set_protocols(m, rq) ||
        !bk_group_add_member(g, m)) {
        bk_member_free(m);
        return NULL;
    }
    return m;
}

static bk_result join_park(bk_req *req, bk_member *m)
{
    m->join_conn = req->conn;
    m->join_conn_id = req->conn ? req->conn->id : 0;
    m->joined = true;
    req->park = BK_PARK_JOIN;
    req->park_deadline = INT64_MAX;
    return BK_PARKED;
}

/* After a member (re)joined: complete the rebalance if it can, else park. */
static bk_result join_wait(bk_req *req, kw_join_group_response *resp, bk_group *g, bk_member *m)
{
    bk_broker *br = req->br;
    m->join_conn = req->conn;
    m->join_conn_id = req->conn ? req->conn->id : 0;
    m->joined = true;
    bk_group_maybe_complete_join(br, g);
    if (g->state == BK_GROUP_COMPLETING_REBALANCE && m->join_conn == req->conn) {
        m->join_conn = NULL;
        return join_reply(req, resp, g, m, KW_KAFKA_NONE, bk_cstr(m->member_id));
    }
    if (!req->conn) {
        m->join_conn = NULL;
        return join_reply(req, resp, NULL, NULL, KW_KAFKA_REBALANCE_IN_PROGRESS, bk_cstr(m->member_id));
    }
    return join_park(req, m);
}

bk_result bk_handle_join_group(bk_req *req, const kw_join_group_request *rq,
                               kw_join_group_response *resp)
{
    bk_broker *br = req->br;
    bk_group *g = bk_group_find(br, rq->group_id);
    if (req->resumed) {
        bk_member *m = g && req->conn ? bk_member_for_conn(g, req->conn, false) : NULL;
        if (!m)
            return join_reply(req, resp, NULL, NULL, KW_KAFKA_UNKNOWN_MEMBER_ID, rq->member_id);
        if (g->state != BK_GROUP_COMPLETING_REBALANCE && g->state != BK_GROUP_STABLE)
            return join_park(req, m); /* not for this one yet */
        m->join_conn = NULL;
        return join_reply(req, resp, g, m, KW_KAFKA_NONE, bk_cstr(m->member_id));
    }
    if (rq->group_id.len == 0)
        return join_reply(req, resp, NULL, NULL, KW_KAFKA_INVALID_GROUP_ID, rq->member_id);
    if (rq->session_timeout_ms < br->cfg.group_min_session_timeout_ms ||
        rq->session_timeout_ms > br->cfg.group_max_session_timeout_ms)
        return join_reply(req, resp, NULL, NULL, KW_KAFKA_INVALID_SESSION_TIMEOUT, rq->member_id);
    if (rq->protocol_type.len == 0 || kw_array_len(&rq->protocols) == 0)
        return join_reply(req, resp, NULL, NULL, KW_KAFKA_INCONSISTENT_GROUP_PROTOCOL, rq->member_id);
    int32_t rebalance_timeout = req->version >= 1 ? rq->rebalance_timeout_ms : rq->session_timeout_ms;
    if (rebalance_timeout <= 0)
        rebalance_timeout = rq->session_timeout_ms;
    bool unknown_member = rq->member_id.len == 0;
    if (!g && !unknown_member)
        return join_reply(req, resp, NULL, NULL, KW_KAFKA_UNKNOWN_MEMBER_ID, rq->member_id);
    if (!g)
        g = bk_group_get(br, rq->group_id, true);
    if (!g) /* out of memory or --max-groups */
        return join_reply(req, resp, NULL, NULL, KW_KAFKA_COORDINATOR_NOT_AVAILABLE, rq->member_id);
    if (g->state == BK_GROUP_DEAD)
        return join_reply(req, resp, NULL, NULL, KW_KAFKA_COORDINATOR_NOT_AVAILABLE, rq->member_id);
    if (g->consumer && g->consumer->nmembers) /* classic members in a consumer group: not served */
        return join_reply(req, resp, NULL, NULL, KW_KAFKA_INCONSISTENT_GROUP_PROTOCOL, rq->member_id);
    if (g->consumer) { /* an empty consumer group becomes a classic one, as Kafka converts it */
        bk_cgroup_free(g->consumer);
        g->consumer = NULL;
    }
    if (!protocols_compatible(g, rq))
        return join_reply(req, resp, NULL, NULL, KW_KAFKA_INCONSISTENT_GROUP_PROTOCOL, rq->member_id);

    if (unknown_member) {
        if (g->nmembers + g->npending >= (size_t)br->cfg.group_max_size)
            return join_reply(req, resp, NULL, NULL, 81 /* GROUP_MAX_SIZE_REACHED */, rq->member_id);
        if (rq->group_instance_id.ptr) {
            /* a static member coming back replaces its old incarnation */
            for (size_t i = 0; i < g->nmembers; i++) {
                bk_member *old = g->members[i];
                if (old->instance_id && bk_slice_eqs(rq->group_instance_id, old->instance_id)) {
                    bk_group_remove_member(br, g, old);
                    break;
                }
            }
        }
        char *id = new_member_id(br, req->hdr.client_id);
        if (!id)
            return BK_CLOSE;
        if (req->version >= 4 && !rq->group_instance_id.ptr) {
            bk_pending_member *p = realloc(g->pending, (g->npending + 1) * sizeof *p);
            if (!p) {
                free(id);
                return BK_CLOSE;
            }
            g->pending = p;
            g->pending[g->npending].member_id = id;
            g->pending[g->npending].deadline = br->now + rq->session_timeout_ms;
            g->npending++;
            return join_reply(req, resp, NULL, NULL, KW_KAFKA_MEMBER_ID_REQUIRED, bk_cstr(id));
        }
        bk_member *m = add_member(req, g, id, rq, rebalance_timeout);
        if (!m)
            return BK_CLOSE;
        if (g->state == BK_GROUP_PREPARING_REBALANCE) {
            g->new_member_added = true;
            if (g->initial_delay_end) {
                int64_t ext = br->now + br->cfg.group_initial_rebalance_delay_ms;
                g->initial_delay_end = ext < g->rebalance_deadline ? ext : g->rebalance_deadline;
            }
            m->joined = true;
        } else {
            m->joined = true;
            bk_group_prepare_rebalance(br, g);
        }
        return join_wait(req, resp, g, m);
    }

    /* a known member id */
    for (size_t i = 0; i < g->npending; i++) {
        if (bk_slice_eqs(rq->member_id, g->pending[i].member_id)) {
            char *id = g->pending[i].member_id;
            g->pending[i] = g->pending[--g->npending];
            bk_member *m = add_member(req, g, id, rq, rebalance_timeout);
            if (!m)
                return BK_CLOSE;
            m->joined = true;
            if (g->state == BK_GROUP_PREPARING_REBALANCE) {
                if (g->initial_delay_end) {
                    int64_t ext = br->now + br->cfg.group_initial_rebalance_delay_ms;
                    g->initial_delay_end = ext < g->rebalance_deadline ? ext : g->rebalance_deadline;
                }
            } else {
                bk_group_prepare_rebalance(br, g);
            }
            return join_wait(req, resp, g, m);
        }
    }
    bk_member *m = bk_member_find(g, rq->member_id);
    if (!m)
        return join_reply(req, resp, NULL, NULL, KW_KAFKA_UNKNOWN_MEMBER_ID, rq->member_id);
    if (m->join_conn && m->join_conn != req->conn) {
        /* an older JoinGroup of this member is answered as Kafka does: with an error */
        bk_conn *old = m->join_conn;
        m->join_conn = NULL;
        bk_conn_wake(br, old);
    }
    bool same = same_protocols(m, rq);
    m->session_timeout_ms = rq->session_timeout_ms;
    m->rebalance_timeout_ms = rebalance_timeout;
    m->last_heartbeat = br->now;
    if (!same && !set_protocols(m, rq))
        return BK_CLOSE;
    bool is_leader = g->leader && strcmp(g->leader, m->member_id) == 0;
    switch (g->state) {
    case BK_GROUP_PREPARING_REBALANCE:
        return join_wait(req, resp, g, m);
    case BK_GROUP_COMPLETING_REBALANCE:
        if (same)
            return join_reply(req, resp, g, m, KW_KAFKA_NONE, bk_cstr(m->member_id));
        bk_group_prepare_rebalance(br, g);
        return join_wait(req, resp, g, m);
    case BK_GROUP_STABLE:
        if (same && !is_leader)
            return join_reply(req, resp, g, m, KW_KAFKA_NONE, bk_cstr(m->member_id));
        bk_group_prepare_rebalance(br, g);
        return join_wait(req, resp, g, m);
    default:
        return join_reply(req, resp, NULL, NULL, KW_KAFKA_UNKNOWN_MEMBER_ID, rq->member_id);
    }
}

/* ---- SyncGroup ------------------------------------------------------------------------------- */

static bk_result sync_reply(kw_sync_group_response *resp, const bk_group *g, const bk_member *m,
                            int16_t error)
{
    resp->error_code = error;
    if (error == KW_KAFKA_NONE && g && m) {
        resp->protocol_type = bk_cstr(g->protocol_type);
        resp->protocol_name = bk_cstr(g->protocol_name);
        if (m->assignment)
            resp->assignment = (kw_slice){m->assignment, m->assignment_len};
    }
    return BK_RESPOND;
}

bk_result bk_handle_sync_group(bk_req *req, const kw_sync_group_request *rq,
                               kw_sync_group_response *resp)
{
    bk_broker *br = req->br;
    bk_group *g = bk_group_find(br, rq->group_id);
    if (req->resumed) {
        bk_member *m = g && req->conn ? bk_member_for_conn(g, req->conn, true) : NULL;
        if (!m)
            return sync_reply(resp, NULL, NULL, KW_KAFKA_UNKNOWN_MEMBER_ID);
        m->sync_conn = NULL;
        if (g->state == BK_GROUP_STABLE && g->generation == rq->generation_id)
            return sync_reply(resp, g, m, KW_KAFKA_NONE);
        return sync_reply(resp, NULL, NULL, KW_KAFKA_REBALANCE_IN_PROGRESS);
    }
    if (rq->group_id.len == 0)
        return sync_reply(resp, NULL, NULL, KW_KAFKA_INVALID_GROUP_ID);
    bk_member *m = g ? bk_member_find(g, rq->member_id) : NULL;
    if (!g || !m || g->state == BK_GROUP_EMPTY)
        return sync_reply(resp, NULL, NULL, KW_KAFKA_UNKNOWN_MEMBER_ID);
    if (g->state == BK_GROUP_DEAD)
        return sync_reply(resp, NULL, NULL, KW_KAFKA_COORDINATOR_NOT_AVAILABLE);
    if (rq->generation_id != g->generation)
        return sync_reply(resp, NULL, NULL, KW_KAFKA_ILLEGAL_GENERATION);
    if ((rq->protocol_type.ptr && !bk_slice_eqs(rq->protocol_type, g->protocol_type ? g->protocol_type : "")) ||
        (rq->protocol_name.ptr && !bk_slice_eqs(rq->protocol_name, g->protocol_name ? g->protocol_name : "")))
        return sync_reply(resp, NULL, NULL, KW_KAFKA_INCONSISTENT_GROUP_PROTOCOL);
    m->last_heartbeat = br->now;
    if (g->state == BK_GROUP_PREPARING_REBALANCE)
        return sync_reply(resp, NULL, NULL, KW_KAFKA_REBALANCE_IN_PROGRESS);
    if (g->state == BK_GROUP_STABLE)
        return sync_reply(resp, g, m, KW_KAFKA_NONE);
    /* CompletingRebalance */
    bool is_leader = g->leader && strcmp(g->leader, m->member_id) == 0;
    if (!is_leader) {
        if (!req->conn)
            return sync_reply(resp, NULL, NULL, KW_KAFKA_REBALANCE_IN_PROGRESS);
        m->sync_conn = req->conn;
        m->sync_conn_id = req->conn->id;
        req->park = BK_PARK_SYNC;
        req->park_deadline = INT64_MAX;
        return BK_PARKED;
    }
    kw_array_iter it;
    kw_sync_group_request_sync_group_request_assignment a;
    kw_array_iter_init(&it, &rq->assignments);
    while (kw_sync_group_request_sync_group_request_assignment_next(&it, &a)) {
        bk_member *x = bk_member_find(g, a.member_id);
        if (!x)
            continue;
        free(x->assignment);
        x->assignment = NULL;
        x->assignment_len = 0;
        if (a.assignment.len) {
            x->assignment = malloc(a.assignment.len);
            if (!x->assignment)
                return BK_CLOSE;
            memcpy(x->assignment, a.assignment.ptr, a.assignment.len);
            x->assignment_len = a.assignment.len;
        }
    }
    g->state = BK_GROUP_STABLE;
    for (size_t i = 0; i < g->nmembers; i++) {
        g->members[i]->last_heartbeat = br->now;
        if (g->members[i]->sync_conn)
            bk_conn_wake(br, g->members[i]->sync_conn);
    }
    return sync_reply(resp, g, m, KW_KAFKA_NONE);
}

/* ---- Heartbeat, LeaveGroup --------------------------------------------------------------------- */

bk_result bk_handle_heartbeat(bk_req *req, const kw_heartbeat_request *rq,
                              kw_heartbeat_response *resp)
{
    bk_group *g = bk_group_find(req->br, rq->group_id);
    bk_member *m = g ? bk_member_find(g, rq->member_id) : NULL;
    if (rq->group_id.len == 0)
        resp->error_code = KW_KAFKA_INVALID_GROUP_ID;
    else if (g && g->state == BK_GROUP_DEAD)
        resp->error_code = KW_KAFKA_COORDINATOR_NOT_AVAILABLE;
    else if (!g || !m || g->state == BK_GROUP_EMPTY)
        resp->error_code = KW_KAFKA_UNKNOWN_MEMBER_ID;
    else if (rq->generation_id != g->generation)
        resp->error_code = KW_KAFKA_ILLEGAL_GENERATION;
    else {
        m->last_heartbeat = req->br->now;
        if (g->state == BK_GROUP_PREPARING_REBALANCE)
            resp->error_code = KW_KAFKA_REBALANCE_IN_PROGRESS;
    }
    return BK_RESPOND;
}

bk_result bk_handle_leave_group(bk_req *req, const kw_leave_group_request *rq,
                                kw_leave_group_response *resp)
{
    bk_broker *br = req->br;
    bk_group *g = bk_group_find(br, rq->group_id);
    if (rq->group_id.len == 0) {
        resp->error_code = KW_KAFKA_INVALID_GROUP_ID;
    } else if (!g) {
        resp->error_code = KW_KAFKA_UNKNOWN_MEMBER_ID;
    } else {
        bool removed = false;
        if (req->version < 3) {
            bk_member *m = bk_member_find(g, rq->member_id);
            if (m) {
                bk_log_msg("group %s: member %s left", g->id, m->member_id);
                bk_group_remove_member(br, g, m);
                removed = true;
            } else {
                resp->error_code = KW_KAFKA_UNKNOWN_MEMBER_ID;
            }
        } else {
            int32_t n = kw_array_len(&rq->members);
            kw_leave_group_response_member_response *rs =
                BK_ALLOC(req, kw_leave_group_response_member_response, n);
            if (!rs && n)
                return BK_CLOSE;
            kw_array_iter it;
            kw_leave_group_request_member_identity mi;
            kw_array_iter_init(&it, &rq->members);
            for (int32_t i = 0; kw_leave_group_request_member_identity_next(&it, &mi); i++) {
                rs[i].member_id = mi.member_id;
                rs[i].group_instance_id = mi.group_instance_id;
                bk_member *m = mi.member_id.len ? bk_member_find(g, mi.member_id) : NULL;
                if (!m && mi.group_instance_id.ptr) {
                    for (size_t k = 0; k < g->nmembers && !m; k++)
                        if (g->members[k]->instance_id &&
                            bk_slice_eqs(mi.group_instance_id, g->members[k]->instance_id))
                            m = g->members[k];
                    if (m && mi.member_id.len && !bk_slice_eqs(mi.member_id, m->member_id)) {
                        rs[i].error_code = KW_KAFKA_FENCED_INSTANCE_ID;
                        continue;
                    }
                }
                if (!m) {
                    bool pending = false;
                    for (size_t k = 0; k < g->npending; k++) {
                        if (bk_slice_eqs(mi.member_id, g->pending[k].member_id)) {
                            free(g->pending[k].member_id);
                            g->pending[k] = g->pending[--g->npending];
                            pending = true;
                            break;
                        }
                    }
                    if (!pending)
                        rs[i].error_code = KW_KAFKA_UNKNOWN_MEMBER_ID;
                    continue;
                }
                bk_log_msg("group %s: member %s left", g->id, m->member_id);
                bk_group_remove_member(br, g, m);
                removed = true;
            }
            resp->members = kw_array_of(rs, n);
        }
        if (removed) {
            if (g->state == BK_GROUP_STABLE || g->state == BK_GROUP_COMPLETING_REBALANCE)
                bk_group_prepare_rebalance(br, g);
            else if (g->state == BK_GROUP_PREPARING_REBALANCE)
                bk_group_maybe_complete_join(br, g);
        }
    }
    return BK_RESPOND;
}

/* ---- ListGroups, DescribeGroups, DeleteGroups --------------------------------------------------- */

static bool state_matches(kw_slice filter, const char *name)
{
    size_t n = strlen(name);
    if (filter.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = (char)filter.ptr[i], b = name[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

bk_result bk_handle_list_groups(bk_req *req, const kw_list_groups_request *rq,
                                kw_list_groups_response *resp)
{
    bk_broker *br = req->br;
    kw_list_groups_response_listed_group *gs =
        BK_ALLOC(req, kw_list_groups_response_listed_group, br->ngroups);
    if (!gs && br->ngroups)
        return BK_CLOSE;
    int32_t n = 0;
    for (size_t i = 0; i < br->ngroups; i++) {
        bk_group *g = br->groups[i];
        if (g->state == BK_GROUP_DEAD)
            continue;
        const char *state = g->consumer ? bk_cgroup_state_name(g->consumer) : bk_group_state_name(g->state);
        const char *type = g->consumer ? "consumer" : "classic";
        if (kw_array_len(&rq->states_filter) > 0) {
            bool ok = false;
            kw_array_iter it;
            kw_slice s;
            kw_array_iter_init(&it, &rq->states_filter);
            while (!ok && kw_array_next_string(&it, &s))
                ok = state_matches(s, state);
            if (!ok)
                continue;
        }
        if (kw_array_len(&rq->types_filter) > 0) {
            bool ok = false;
            kw_array_iter it;
            kw_slice s;
            kw_array_iter_init(&it, &rq->types_filter);
            while (!ok && kw_array_next_string(&it, &s))
                ok = s.len == strlen(type) && strncasecmp((const char *)s.ptr, type, s.len) == 0;
            if (!ok)
                continue;
        }
        gs[n].group_id = bk_cstr(g->id);
        gs[n].protocol_type = bk_cstr(g->consumer ? "consumer" : g->protocol_type ? g->protocol_type : "");
        gs[n].group_state = bk_cstr(state);
        gs[n].group_type = bk_cstr(type);
        n++;
    }
    resp->groups = kw_array_of(gs, n);
    return BK_RESPOND;
}

bk_result bk_handle_describe_groups(bk_req *req, const kw_describe_groups_request *rq,
                                    kw_describe_groups_response *resp)
{
    bk_broker *br = req->br;
    int32_t n = kw_array_len(&rq->groups);
    kw_describe_groups_response_described_group *ds =
        BK_ALLOC(req, kw_describe_groups_response_described_group, n);
    if (!ds && n)
        return BK_CLOSE;
    kw_array_iter it;
    kw_slice id;
    kw_array_iter_init(&it, &rq->groups);
    for (int32_t i = 0; kw_array_next_string(&it, &id); i++) {
        kw_describe_groups_response_described_group *d = &ds[i];
        kw_describe_groups_response_described_group_init(d);
        bk_group *g = bk_group_find(br, id);
        d->group_id = id;
        if (rq->include_authorized_operations)
            d->authorized_operations = 0x0f8;
        if (id.len == 0) {
            d->error_code = KW_KAFKA_INVALID_GROUP_ID;
            continue;
        }
        if (!g) {
            d->group_state = bk_cstr("Dead");
            if (req->version >= 6)
                d->error_code = KW_KAFKA_GROUP_ID_NOT_FOUND;
            continue;
        }
        if (g->consumer) { /* as Kafka: DescribeGroups describes classic groups only */
            d->group_state = bk_cstr("Dead");
            if (req->version >= 6) {
                d->error_code = KW_KAFKA_GROUP_ID_NOT_FOUND;
                char *msg = bk_scratch_alloc(&req->scratch, id.len + 40);
                if (!msg)
                    return BK_CLOSE;
                snprintf(msg, id.len + 40, "Group %.*s is not a classic group.", (int)id.len, (const char *)id.ptr);
                d->error_message = bk_cstr(msg);
            }
            continue;
        }
        d->group_state = bk_cstr(bk_group_state_name(g->state));
        d->protocol_type = bk_cstr(g->protocol_type ? g->protocol_type : "");
        bool stable = g->state == BK_GROUP_STABLE;
        d->protocol_data = bk_cstr(stable && g->protocol_name ? g->protocol_name : "");
        kw_describe_groups_response_described_group_member *ms =
            BK_ALLOC(req, kw_describe_groups_response_described_group_member, g->nmembers);
        if (!ms && g->nmembers)
            return BK_CLOSE;
        for (size_t k = 0; k < g->nmembers; k++) {
            const bk_member *m = g->members[k];
            const bk_protocol *p = stable ? bk_member_protocol(m, g->protocol_name) : NULL;
            ms[k].member_id = bk_cstr(m->member_id);
            ms[k].group_instance_id = m->instance_id ? bk_cstr(m->instance_id) : (kw_slice){NULL, 0};
            ms[k].client_id = bk_cstr(m->client_id);
            ms[k].client_host = bk_cstr(m->client_host);
            ms[k].member_metadata = p && p->metadata ? (kw_slice){p->metadata, p->metadata_len} : bk_cstr("");
            ms[k].member_assignment = stable && m->assignment ? (kw_slice){m->assignment, m->assignment_len}
                                                              : bk_cstr("");
        }
        d->members = kw_array_of(ms, (int32_t)g->nmembers);
    }
    resp->groups = kw_array_of(ds, n);
    return BK_RESPOND;
}

bk_result bk_handle_delete_groups(bk_req *req, const kw_delete_groups_request *rq,
                                  kw_delete_groups_response *resp)
{
    bk_broker *br = req->br;
    int32_t n = kw_array_len(&rq->groups_names);
    kw_delete_groups_response_deletable_group_result *rs =
        BK_ALLOC(req, kw_delete_groups_response_deletable_group_result, n);
    if (!rs && n)
        return BK_CLOSE;
    kw_array_iter it;
    kw_slice id;
    kw_array_iter_init(&it, &rq->groups_names);
    for (int32_t i = 0; kw_array_next_string(&it, &id); i++) {
        rs[i].group_id = id;
        bk_group *g = bk_group_find(br, id);
        if (id.len == 0)
            rs[i].error_code = KW_KAFKA_INVALID_GROUP_ID;
        else if (!g)
            rs[i].error_code = KW_KAFKA_GROUP_ID_NOT_FOUND;
        else if (g->state != BK_GROUP_EMPTY || g->nmembers || (g->consumer && g->consumer->nmembers))
            rs[i].error_code = KW_KAFKA_NON_EMPTY_GROUP;
        else if (bk_offsets_delete_group(br, g) != 0)
            rs[i].error_code = KW_KAFKA_COORDINATOR_NOT_AVAILABLE;
        else {
            bk_log_msg("group %s deleted", g->id);
            bk_group_remove(br, g);
        }
    }
    resp->results = kw_array_of(rs, n);
    return BK_RESPOND;
}
