/*
 * The classic group coordinator (Kafka's ClassicGroup and its
 * GroupMetadataManager handlers):
 *
 *   Empty --join--> PreparingRebalance --all joined / rebalance timeout-->
 *   CompletingRebalance --leader's SyncGroup--> Stable --join of the leader
 *   or of changed protocols, leave, session timeout--> PreparingRebalance
 *
 * A JoinGroup parks until the rebalance completes: when every member has
 * rejoined, or when the rebalance timeout removes those that did not (a
 * new group first waits group.initial.rebalance.delay.ms, extended by each
 * newcomer, as Kafka's InitialDelayedJoin). A follower's SyncGroup parks
 * until the leader's brings the assignments. From v4 a first JoinGroup
 * with no member id gets MEMBER_ID_REQUIRED and the id to come back with.
 * Heartbeats answer REBALANCE_IN_PROGRESS while one is prepared,
 * ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID as Kafka does; a member whose
 * heartbeats stop for its session timeout is removed.
 *
 * Parked requests are answered by waking their connection
 * (bk_conn_wake): the handler runs again right after the current request
 * and builds the answer from the state the group is in then.
 */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "groups.h"
#include "loop.h"
#include "offsets.h"
#include "topics.h"
#include "util.h"

const char *bk_group_state_name(bk_group_state s)
{
    switch (s) {
    case BK_GROUP_EMPTY: return "Empty";
    case BK_GROUP_PREPARING_REBALANCE: return "PreparingRebalance";
    case BK_GROUP_COMPLETING_REBALANCE: return "CompletingRebalance";
    case BK_GROUP_STABLE: return "Stable";
    case BK_GROUP_DEAD: return "Dead";
    }
    return "Unknown";
}

/* ---- group and member bookkeeping ------------------------------------------------------ */

static void member_free(bk_member *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nprotocols; i++) {
        free(m->protocols[i].name);
        free(m->protocols[i].metadata);
    }
    free(m->protocols);
    free(m->member_id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    free(m->protocol_type);
    free(m->assignment);
    free(m);
}

void bk_group_free(bk_group *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->nmembers; i++)
        member_free(g->members[i]);
    free(g->members);
    for (size_t i = 0; i < g->npending; i++)
        free(g->pending[i].member_id);
    free(g->pending);
    for (size_t i = 0; i < g->noffsets; i++) {
        free(g->offsets[i].topic);
        free(g->offsets[i].metadata);
    }
    free(g->offsets);
    free(g->id);
    free(g->protocol_type);
    free(g->protocol_name);
    free(g->leader);
    free(g);
}

bk_group *bk_group_find(bk_broker *br, kw_slice id)
{
    if (!id.ptr)
        return NULL;
    return bk_map_get(&br->groups_by_id, id.ptr, id.len);
}

bk_group *bk_group_get(bk_broker *br, kw_slice id, bool create)
{
    bk_group *g = bk_group_find(br, id);
    if (g || !create || !id.ptr || br->ngroups >= (size_t)br->cfg.max_groups)
        return g;
    g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->id = bk_strndup(id.ptr, id.len);
    if (!g->id || br->ngroups == br->capgroups) {
        size_t cap = br->capgroups ? br->capgroups * 2 : 16;
        bk_group **gs = g->id ? realloc(br->groups, cap * sizeof *gs) : NULL;
        if (!gs) {
            bk_group_free(g);
            return NULL;
        }
        br->groups = gs;
        br->capgroups = cap;
    }
    if (bk_map_put(&br->groups_by_id, id.ptr, id.len, g) != 0) {
        bk_group_free(g);
        return NULL;
    }
    br->groups[br->ngroups++] = g;
    g->state = BK_GROUP_EMPTY;
    return g;
}

static void group_remove(bk_broker *br, bk_group *g)
{
    bk_map_del(&br->groups_by_id, g->id, strlen(g->id));
    for (size_t i = 0; i < br->ngroups; i++) {
        if (br->groups[i] == g) {
            br->groups[i] = br->groups[--br->ngroups];
            break;
        }
    }
    bk_group_free(g);
}

bk_offset_entry *bk_group_offset(bk_group *g, kw_slice topic, int32_t partition, bool create)
{
    for (size_t i = 0; i < g->noffsets; i++)
        if (g->offsets[i].partition == partition && bk_slice_eqs(topic, g->offsets[i].topic))
            return &g->offsets[i];
    if (!create)
        return NULL;
    if (g->noffsets == g->capoffsets) {
        size_t cap = g->capoffsets ? g->capoffsets * 2 : 8;
        bk_offset_entry *o = realloc(g->offsets, cap * sizeof *o);
        if (!o)
            return NULL;
        g->offsets = o;
        g->capoffsets = cap;
    }
    bk_offset_entry *e = &g->offsets[g->noffsets];
    memset(e, 0, sizeof *e);
    e->topic = bk_strndup(topic.ptr, topic.len);
    if (!e->topic)
        return NULL;
    e->partition = partition;
    e->offset = -1;
    e->leader_epoch = -1;
    g->noffsets++;
    return e;
}

void bk_group_remove_offset(bk_group *g, size_t i)
{
    free(g->offsets[i].topic);
    free(g->offsets[i].metadata);
    g->offsets[i] = g->offsets[--g->noffsets];
}

static bk_member *member_find(bk_group *g, kw_slice id)
{
    for (size_t i = 0; i < g->nmembers; i++)
        if (bk_slice_eqs(id, g->members[i]->member_id))
            return g->members[i];
    return NULL;
}

static bk_member *member_for_conn(bk_group *g, const bk_conn *c, bool sync)
{
    for (size_t i = 0; i < g->nmembers; i++) {
        bk_member *m = g->members[i];
        if (sync ? (m->sync_conn == c && m->sync_conn_id == c->id)
                 : (m->join_conn == c && m->join_conn_id == c->id))
            return m;
    }
    return NULL;
}

static const bk_protocol *member_protocol(const bk_member *m, const char *name)
{
    for (size_t i = 0; name && i < m->nprotocols; i++)
        if (strcmp(m->protocols[i].name, name) == 0)
            return &m->protocols[i];
    return NULL;
}

static void wake_member(bk_broker *br, bk_member *m)
{
    if (m->join_conn)
        bk_conn_wake(br, m->join_conn);
    if (m->sync_conn)
        bk_conn_wake(br, m->sync_conn);
}

static void remove_member(bk_broker *br, bk_group *g, bk_member *m)
{
    /* its parked requests run again, find no member and answer UNKNOWN_MEMBER_ID */
    wake_member(br, m);
    for (size_t i = 0; i < g->nmembers; i++) {
        if (g->members[i] == m) {
            memmove(&g->members[i], &g->members[i + 1], (g->nmembers - i - 1) * sizeof *g->members);
            g->nmembers--;
            break;
        }
    }
    if (g->leader && strcmp(g->leader, m->member_id) == 0) {
        free(g->leader);
        g->leader = g->nmembers ? strdup(g->members[0]->member_id) : NULL;
    }
    member_free(m);
}

static int32_t max_rebalance_timeout(const bk_group *g)
{
    int32_t t = 0;
    for (size_t i = 0; i < g->nmembers; i++)
        if (g->members[i]->rebalance_timeout_ms > t)
            t = g->members[i]->rebalance_timeout_ms;
    return t;
}

static void complete_join(bk_broker *br, bk_group *g);

static void prepare_rebalance(bk_broker *br, bk_group *g)
{
    if (g->state == BK_GROUP_COMPLETING_REBALANCE) {
        /* parked SyncGroups run again and answer REBALANCE_IN_PROGRESS */
        for (size_t i = 0; i < g->nmembers; i++) {
            free(g->members[i]->assignment);
            g->members[i]->assignment = NULL;
            g->members[i]->assignment_len = 0;
            if (g->members[i]->sync_conn)
                bk_conn_wake(br, g->members[i]->sync_conn);
        }
    }
    bool was_empty = g->state == BK_GROUP_EMPTY;
    g->state = BK_GROUP_PREPARING_REBALANCE;
    for (size_t i = 0; i < g->nmembers; i++)
        g->members[i]->joined = g->members[i]->join_conn != NULL;
    int32_t timeout = max_rebalance_timeout(g);
    g->rebalance_deadline = br->now + timeout;
    g->initial_delay_end = 0;
    if (was_empty && br->cfg.group_initial_rebalance_delay_ms > 0) {
        int64_t delay = br->cfg.group_initial_rebalance_delay_ms;
        g->initial_delay_end = br->now + (delay < timeout ? delay : timeout);
    }
    if (g->nmembers == 0)
        complete_join(br, g);
}

static bool all_joined(const bk_group *g)
{
    for (size_t i = 0; i < g->nmembers; i++)
        if (!g->members[i]->joined)
            return false;
    return true;
}

static void maybe_complete_join(bk_broker *br, bk_group *g)
{
    if (g->state != BK_GROUP_PREPARING_REBALANCE)
        return;
    if (g->initial_delay_end && br->now < g->initial_delay_end)
        return;
    if (all_joined(g) || br->now >= g->rebalance_deadline)
        complete_join(br, g);
}

/* The protocol every member supports that most members prefer (each votes for its first). */
static const char *select_protocol(const bk_group *g)
{
    if (!g->nmembers)
        return NULL;
    const bk_member *first = g->members[0];
    const char *best = NULL;
    size_t best_votes = 0;
    for (size_t p = 0; p < first->nprotocols; p++) {
        const char *name = first->protocols[p].name;
        bool everyone = true;
        for (size_t i = 1; i < g->nmembers && everyone; i++)
            everyone = member_protocol(g->members[i], name) != NULL;
        if (!everyone)
            continue;
        size_t votes = 0;
        for (size_t i = 0; i < g->nmembers; i++) {
            const bk_member *m = g->members[i];
            for (size_t k = 0; k < m->nprotocols; k++) {
                const char *cand = m->protocols[k].name;
                bool common = true;
                for (size_t j = 0; j < g->nmembers && common; j++)
                    common = member_protocol(g->members[j], cand) != NULL;
                if (common) {
                    votes += strcmp(cand, name) == 0;
                    break;
                }
            }
        }
        if (!best || votes > best_votes) {
            best = name;
            best_votes = votes;
        }
    }
    return best ? best : (first->nprotocols ? first->protocols[0].name : NULL);
}

static void complete_join(bk_broker *br, bk_group *g)
{
    for (size_t i = g->nmembers; i-- > 0;) {
        bk_member *m = g->members[i];
        if (!m->joined) {
            bk_log_msg("group %s: member %s did not rejoin in time, removed", g->id, m->member_id);
            remove_member(br, g, m);
        }
    }
    g->generation++;
    g->initial_delay_end = 0;
    free(g->protocol_name);
    g->protocol_name = NULL;
    if (g->nmembers == 0) {
        g->state = BK_GROUP_EMPTY;
        free(g->protocol_type);
        g->protocol_type = NULL;
        free(g->leader);
        g->leader = NULL;
        return;
    }
    const char *proto = select_protocol(g);
    g->protocol_name = proto ? strdup(proto) : NULL;
    if (!g->leader || !member_find(g, bk_cstr(g->leader))) {
        free(g->leader);
        g->leader = strdup(g->members[0]->member_id);
    }
    g->state = BK_GROUP_COMPLETING_REBALANCE;
    g->rebalance_deadline = br->now + max_rebalance_timeout(g);
    for (size_t i = 0; i < g->nmembers; i++) {
        bk_member *m = g->members[i];
        m->last_heartbeat = br->now;
        free(m->assignment);
        m->assignment = NULL;
        m->assignment_len = 0;
        if (m->join_conn)
            bk_conn_wake(br, m->join_conn);
    }
    bk_log_msg("group %s: generation %d with %zu members, protocol %s, leader %s", g->id,
               (int)g->generation, g->nmembers, g->protocol_name ? g->protocol_name : "-",
               g->leader ? g->leader : "-");
}

void bk_groups_conn_closed(bk_broker *br, bk_conn *c)
{
    for (size_t i = 0; i < br->ngroups; i++) {
        bk_group *g = br->groups[i];
        for (size_t k = 0; k < g->nmembers; k++) {
            if (g->members[k]->join_conn == c)
                g->members[k]->join_conn = NULL;
            if (g->members[k]->sync_conn == c)
                g->members[k]->sync_conn = NULL;
        }
    }
}

int64_t bk_groups_next_deadline(bk_broker *br)
{
    (void)br;
    return INT64_MAX;
}

void bk_groups_tick(bk_broker *br)
{
    for (size_t gi = br->ngroups; gi-- > 0;) {
        bk_group *g = br->groups[gi];
        for (size_t i = g->npending; i-- > 0;) {
            if (br->now >= g->pending[i].deadline) {
                free(g->pending[i].member_id);
                g->pending[i] = g->pending[--g->npending];
            }
        }
        bool removed = false;
        for (size_t i = g->nmembers; i-- > 0;) {
            bk_member *m = g->members[i];
            if (m->join_conn || m->sync_conn)
                continue;
            if (g->state == BK_GROUP_PREPARING_REBALANCE)
                continue; /* the rebalance timeout decides */
            if (br->now - m->last_heartbeat > m->session_timeout_ms) {
                bk_log_msg("group %s: member %s session timed out, removed", g->id, m->member_id);
                remove_member(br, g, m);
                removed = true;
            }
        }
        if (removed && (g->state == BK_GROUP_STABLE || g->state == BK_GROUP_COMPLETING_REBALANCE))
            prepare_rebalance(br, g);
        if (g->state == BK_GROUP_PREPARING_REBALANCE) {
            maybe_complete_join(br, g);
        } else if (g->state == BK_GROUP_COMPLETING_REBALANCE && br->now >= g->rebalance_deadline) {
            /* the leader's assignment did not come: members that did not sync go */
            for (size_t i = g->nmembers; i-- > 0;)
                if (!g->members[i]->sync_conn)
                    remove_member(br, g, g->members[i]);
            prepare_rebalance(br, g);
        }
        if (g->state == BK_GROUP_EMPTY && g->nmembers == 0 && g->noffsets == 0 && g->npending == 0)
            group_remove(br, g);
    }
}

/* ---- JoinGroup ------------------------------------------------------------------------------- */

static bk_result join_reply(bk_req *req, bk_group *g, bk_member *m, int16_t error,
                            kw_slice member_id)
{
    kw_join_group_response resp;
    memset(&resp, 0, sizeof resp);
    resp.error_code = error;
    resp.generation_id = -1;
    resp.member_id = member_id;
    resp.leader = bk_cstr("");
    resp.protocol_name = req->version >= 7 ? (kw_slice){NULL, 0} : bk_cstr("");
    resp.members = kw_array_of(NULL, 0);
    if (error == KW_KAFKA_NONE && g && m) {
        resp.generation_id = g->generation;
        resp.protocol_type = bk_cstr(g->protocol_type);
        resp.protocol_name = bk_cstr(g->protocol_name ? g->protocol_name : "");
        resp.leader = bk_cstr(g->leader ? g->leader : "");
        resp.member_id = bk_cstr(m->member_id);
        if (g->leader && strcmp(g->leader, m->member_id) == 0) {
            kw_join_group_response_join_group_response_member *ms =
                BK_ALLOC(req, kw_join_group_response_join_group_response_member, g->nmembers);
            if (!ms && g->nmembers)
                return BK_CLOSE;
            for (size_t i = 0; i < g->nmembers; i++) {
                const bk_member *x = g->members[i];
                const bk_protocol *p = member_protocol(x, g->protocol_name);
                ms[i].member_id = bk_cstr(x->member_id);
                ms[i].group_instance_id = x->instance_id ? bk_cstr(x->instance_id) : (kw_slice){NULL, 0};
                ms[i].metadata = p ? (kw_slice){p->metadata ? p->metadata : (const uint8_t *)"",
                                                p->metadata_len}
                                   : bk_cstr("");
            }
            resp.members = kw_array_of(ms, (int32_t)g->nmembers);
        }
    }
    return kw_join_group_response_encode(req->out, req->version, &resp) == KW_OK ? BK_RESPOND
                                                                                : BK_CLOSE;
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
            everyone = member_protocol(g->members[i], name) != NULL;
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
    bk_member **ms = realloc(g->members, (g->nmembers + 1) * sizeof *ms);
    if (!m || !ms) {
        free(m);
        free(member_id);
        if (ms)
            g->members = ms;
        return NULL;
    }
    g->members = ms;
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
    if (!m->client_id || !m->client_host || !m->protocol_type || !set_protocols(m, rq)) {
        member_free(m);
        return NULL;
    }
    if (!g->protocol_type)
        g->protocol_type = strdup(m->protocol_type);
    g->members[g->nmembers++] = m;
    if (!g->leader)
        g->leader = strdup(m->member_id);
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
static bk_result join_wait(bk_req *req, bk_group *g, bk_member *m)
{
    bk_broker *br = req->br;
    m->join_conn = req->conn;
    m->join_conn_id = req->conn ? req->conn->id : 0;
    m->joined = true;
    maybe_complete_join(br, g);
    if (g->state == BK_GROUP_COMPLETING_REBALANCE && m->join_conn == req->conn) {
        m->join_conn = NULL;
        return join_reply(req, g, m, KW_KAFKA_NONE, bk_cstr(m->member_id));
    }
    if (!req->conn) {
        m->join_conn = NULL;
        return join_reply(req, NULL, NULL, KW_KAFKA_REBALANCE_IN_PROGRESS, bk_cstr(m->member_id));
    }
    return join_park(req, m);
}

bk_result bk_handle_join_group(bk_req *req)
{
    kw_join_group_request rq;
    kw_decode_error err;
    if (kw_join_group_request_decode(&req->body, req->version, &rq, &err) != KW_OK)
        return bk_reply_decode_error(req, &err);
    bk_broker *br = req->br;
    bk_group *g = bk_group_find(br, rq.group_id);
    if (req->resumed) {
        bk_member *m = g && req->conn ? member_for_conn(g, req->conn, false) : NULL;
        if (!m)
            return join_reply(req, NULL, NULL, KW_KAFKA_UNKNOWN_MEMBER_ID, rq.member_id);
        if (g->state != BK_GROUP_COMPLETING_REBALANCE && g->state != BK_GROUP_STABLE)
            return join_park(req, m); /* not for this one yet */
        m->join_conn = NULL;
        return join_reply(req, g, m, KW_KAFKA_NONE, bk_cstr(m->member_id));
    }
    if (rq.group_id.len == 0)
        return join_reply(req, NULL, NULL, KW_KAFKA_INVALID_GROUP_ID, rq.member_id);
    if (rq.session_timeout_ms < br->cfg.group_min_session_timeout_ms ||
        rq.session_timeout_ms > br->cfg.group_max_session_timeout_ms)
        return join_reply(req, NULL, NULL, KW_KAFKA_INVALID_SESSION_TIMEOUT, rq.member_id);
    if (rq.protocol_type.len == 0 || kw_array_len(&rq.protocols) == 0)
        return join_reply(req, NULL, NULL, KW_KAFKA_INCONSISTENT_GROUP_PROTOCOL, rq.member_id);
    int32_t rebalance_timeout = req->version >= 1 ? rq.rebalance_timeout_ms : rq.session_timeout_ms;
    if (rebalance_timeout <= 0)
        rebalance_timeout = rq.session_timeout_ms;
    bool unknown_member = rq.member_id.len == 0;
    if (!g && !unknown_member)
        return join_reply(req, NULL, NULL, KW_KAFKA_UNKNOWN_MEMBER_ID, rq.member_id);
    if (!g)
        g = bk_group_get(br, rq.group_id, true);
    if (!g) /* out of memory or --max-groups */
        return join_reply(req, NULL, NULL, KW_KAFKA_COORDINATOR_NOT_AVAILABLE, rq.member_id);
    if (g->state == BK_GROUP_DEAD)
        return join_reply(req, NULL, NULL, KW_KAFKA_COORDINATOR_NOT_AVAILABLE, rq.member_id);
    if (!protocols_compatible(g, &rq))
        return join_reply(req, NULL, NULL, KW_KAFKA_INCONSISTENT_GROUP_PROTOCOL, rq.member_id);

    if (unknown_member) {
        if (g->nmembers + g->npending >= (size_t)br->cfg.group_max_size)
            return join_reply(req, NULL, NULL, 81 /* GROUP_MAX_SIZE_REACHED */, rq.member_id);
        if (rq.group_instance_id.ptr) {
            /* a static member coming back replaces its old incarnation */
            for (size_t i = 0; i < g->nmembers; i++) {
                bk_member *old = g->members[i];
                if (old->instance_id && bk_slice_eqs(rq.group_instance_id, old->instance_id)) {
                    remove_member(br, g, old);
                    break;
                }
            }
        }
        char *id = new_member_id(br, req->hdr.client_id);
        if (!id)
            return BK_CLOSE;
        if (req->version >= 4 && !rq.group_instance_id.ptr) {
            bk_pending_member *p = realloc(g->pending, (g->npending + 1) * sizeof *p);
            if (!p) {
                free(id);
                return BK_CLOSE;
            }
            g->pending = p;
            g->pending[g->npending].member_id = id;
            g->pending[g->npending].deadline = br->now + rq.session_timeout_ms;
            g->npending++;
            return join_reply(req, NULL, NULL, KW_KAFKA_MEMBER_ID_REQUIRED, bk_cstr(id));
        }
        bk_member *m = add_member(req, g, id, &rq, rebalance_timeout);
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
            prepare_rebalance(br, g);
        }
        return join_wait(req, g, m);
    }

    /* a known member id */
    for (size_t i = 0; i < g->npending; i++) {
        if (bk_slice_eqs(rq.member_id, g->pending[i].member_id)) {
            char *id = g->pending[i].member_id;
            g->pending[i] = g->pending[--g->npending];
            bk_member *m = add_member(req, g, id, &rq, rebalance_timeout);
            if (!m)
                return BK_CLOSE;
            m->joined = true;
            if (g->state == BK_GROUP_PREPARING_REBALANCE) {
                if (g->initial_delay_end) {
                    int64_t ext = br->now + br->cfg.group_initial_rebalance_delay_ms;
                    g->initial_delay_end = ext < g->rebalance_deadline ? ext : g->rebalance_deadline;
                }
            } else {
                prepare_rebalance(br, g);
            }
            return join_wait(req, g, m);
        }
    }
    bk_member *m = member_find(g, rq.member_id);
    if (!m)
        return join_reply(req, NULL, NULL, KW_KAFKA_UNKNOWN_MEMBER_ID, rq.member_id);
    if (m->join_conn && m->join_conn != req->conn) {
        /* an older JoinGroup of this member is answered as Kafka does: with an error */
        bk_conn *old = m->join_conn;
        m->join_conn = NULL;
        bk_conn_wake(br, old);
    }
    bool same = same_protocols(m, &rq);
    m->session_timeout_ms = rq.session_timeout_ms;
    m->rebalance_timeout_ms = rebalance_timeout;
    m->last_heartbeat = br->now;
    if (!same && !set_protocols(m, &rq))
        return BK_CLOSE;
    bool is_leader = g->leader && strcmp(g->leader, m->member_id) == 0;
    switch (g->state) {
    case BK_GROUP_PREPARING_REBALANCE:
        return join_wait(req, g, m);
    case BK_GROUP_COMPLETING_REBALANCE:
        if (same)
            return join_reply(req, g, m, KW_KAFKA_NONE, bk_cstr(m->member_id));
        prepare_rebalance(br, g);
        return join_wait(req, g, m);
    case BK_GROUP_STABLE:
        if (same && !is_leader)
            return join_reply(req, g, m, KW_KAFKA_NONE, bk_cstr(m->member_id));
        prepare_rebalance(br, g);
        return join_wait(req, g, m);
    default:
        return join_reply(req, NULL, NULL, KW_KAFKA_UNKNOWN_MEMBER_ID, rq.member_id);
    }
}

/* ---- SyncGroup ------------------------------------------------------------------------------- */

static bk_result sync_reply(bk_req *req, const bk_group *g, const bk_member *m, int16_t error)
{
    kw_sync_group_response resp;
    memset(&resp, 0, sizeof resp);
    resp.error_code = error;
    resp.assignment = bk_cstr("");
    if (error == KW_KAFKA_NONE && g && m) {
        resp.protocol_type = g->protocol_type ? bk_cstr(g->protocol_type) : (kw_slice){NULL, 0};
        resp.protocol_name = g->protocol_name ? bk_cstr(g->protocol_name) : (kw_slice){NULL, 0};
        if (m->assignment)
            resp.assignment = (kw_slice){m->assignment, m->assignment_len};
    }
    return kw_sync_group_response_encode(req->out, req->version, &resp) == KW_OK ? BK_RESPOND
                                                                                : BK_CLOSE;
}

bk_result bk_handle_sync_group(bk_req *req)
{
    kw_sync_group_request rq;
    kw_decode_error err;
    if (kw_sync_group_request_decode(&req->body, req->version, &rq, &err) != KW_OK)
        return bk_reply_decode_error(req, &err);
    bk_broker *br = req->br;
    bk_group *g = bk_group_find(br, rq.group_id);
    if (req->resumed) {
        bk_member *m = g && req->conn ? member_for_conn(g, req->conn, true) : NULL;
        if (!m)
            return sync_reply(req, NULL, NULL, KW_KAFKA_UNKNOWN_MEMBER_ID);
        m->sync_conn = NULL;
        if (g->state == BK_GROUP_STABLE && g->generation == rq.generation_id)
            return sync_reply(req, g, m, KW_KAFKA_NONE);
        return sync_reply(req, NULL, NULL, KW_KAFKA_REBALANCE_IN_PROGRESS);
    }
    if (rq.group_id.len == 0)
        return sync_reply(req, NULL, NULL, KW_KAFKA_INVALID_GROUP_ID);
    bk_member *m = g ? member_find(g, rq.member_id) : NULL;
    if (!g || !m || g->state == BK_GROUP_EMPTY)
        return sync_reply(req, NULL, NULL, KW_KAFKA_UNKNOWN_MEMBER_ID);
    if (g->state == BK_GROUP_DEAD)
        return sync_reply(req, NULL, NULL, KW_KAFKA_COORDINATOR_NOT_AVAILABLE);
    if (rq.generation_id != g->generation)
        return sync_reply(req, NULL, NULL, KW_KAFKA_ILLEGAL_GENERATION);
    if ((rq.protocol_type.ptr && !bk_slice_eqs(rq.protocol_type, g->protocol_type ? g->protocol_type : "")) ||
        (rq.protocol_name.ptr && !bk_slice_eqs(rq.protocol_name, g->protocol_name ? g->protocol_name : "")))
        return sync_reply(req, NULL, NULL, KW_KAFKA_INCONSISTENT_GROUP_PROTOCOL);
    m->last_heartbeat = br->now;
    if (g->state == BK_GROUP_PREPARING_REBALANCE)
        return sync_reply(req, NULL, NULL, KW_KAFKA_REBALANCE_IN_PROGRESS);
    if (g->state == BK_GROUP_STABLE)
        return sync_reply(req, g, m, KW_KAFKA_NONE);
    /* CompletingRebalance */
    bool is_leader = g->leader && strcmp(g->leader, m->member_id) == 0;
    if (!is_leader) {
        if (!req->conn)
            return sync_reply(req, NULL, NULL, KW_KAFKA_REBALANCE_IN_PROGRESS);
        m->sync_conn = req->conn;
        m->sync_conn_id = req->conn->id;
        req->park = BK_PARK_SYNC;
        req->park_deadline = INT64_MAX;
        return BK_PARKED;
    }
    kw_array_iter it;
    kw_sync_group_request_sync_group_request_assignment a;
    kw_array_iter_init(&it, &rq.assignments);
    while (kw_sync_group_request_sync_group_request_assignment_next(&it, &a)) {
        bk_member *x = member_find(g, a.member_id);
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
    return sync_reply(req, g, m, KW_KAFKA_NONE);
}

/* ---- Heartbeat, LeaveGroup --------------------------------------------------------------------- */

bk_result bk_handle_heartbeat(bk_req *req)
{
    kw_heartbeat_request rq;
    kw_decode_error err;
    if (kw_heartbeat_request_decode(&req->body, req->version, &rq, &err) != KW_OK)
        return bk_reply_decode_error(req, &err);
    bk_group *g = bk_group_find(req->br, rq.group_id);
    bk_member *m = g ? member_find(g, rq.member_id) : NULL;
    kw_heartbeat_response resp;
    memset(&resp, 0, sizeof resp);
    if (rq.group_id.len == 0)
        resp.error_code = KW_KAFKA_INVALID_GROUP_ID;
    else if (g && g->state == BK_GROUP_DEAD)
        resp.error_code = KW_KAFKA_COORDINATOR_NOT_AVAILABLE;
    else if (!g || !m || g->state == BK_GROUP_EMPTY)
        resp.error_code = KW_KAFKA_UNKNOWN_MEMBER_ID;
    else if (rq.generation_id != g->generation)
        resp.error_code = KW_KAFKA_ILLEGAL_GENERATION;
    else {
        m->last_heartbeat = req->br->now;
        if (g->state == BK_GROUP_PREPARING_REBALANCE)
            resp.error_code = KW_KAFKA_REBALANCE_IN_PROGRESS;
    }
    return kw_heartbeat_response_encode(req->out, req->version, &resp) == KW_OK ? BK_RESPOND
                                                                               : BK_CLOSE;
}

bk_result bk_handle_leave_group(bk_req *req)
{
    kw_leave_group_request rq;
    kw_decode_error err;
    if (kw_leave_group_request_decode(&req->body, req->version, &rq, &err) != KW_OK)
        return bk_reply_decode_error(req, &err);
    bk_broker *br = req->br;
    bk_group *g = bk_group_find(br, rq.group_id);
    kw_leave_group_response resp;
    memset(&resp, 0, sizeof resp);
    resp.members = kw_array_of(NULL, 0);
    if (rq.group_id.len == 0) {
        resp.error_code = KW_KAFKA_INVALID_GROUP_ID;
    } else if (!g) {
        resp.error_code = KW_KAFKA_UNKNOWN_MEMBER_ID;
    } else {
        bool removed = false;
        if (req->version < 3) {
            bk_member *m = member_find(g, rq.member_id);
            if (m) {
                bk_log_msg("group %s: member %s left", g->id, m->member_id);
                remove_member(br, g, m);
                removed = true;
            } else {
                resp.error_code = KW_KAFKA_UNKNOWN_MEMBER_ID;
            }
        } else {
            int32_t n = kw_array_len(&rq.members);
            kw_leave_group_response_member_response *rs =
                BK_ALLOC(req, kw_leave_group_response_member_response, n);
            if (!rs && n)
                return BK_CLOSE;
            kw_array_iter it;
            kw_leave_group_request_member_identity mi;
            kw_array_iter_init(&it, &rq.members);
            for (int32_t i = 0; kw_leave_group_request_member_identity_next(&it, &mi); i++) {
                rs[i].member_id = mi.member_id;
                rs[i].group_instance_id = mi.group_instance_id;
                bk_member *m = mi.member_id.len ? member_find(g, mi.member_id) : NULL;
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
                remove_member(br, g, m);
                removed = true;
            }
            resp.members = kw_array_of(rs, n);
        }
        if (removed) {
            if (g->state == BK_GROUP_STABLE || g->state == BK_GROUP_COMPLETING_REBALANCE)
                prepare_rebalance(br, g);
            else if (g->state == BK_GROUP_PREPARING_REBALANCE)
                maybe_complete_join(br, g);
        }
    }
    return kw_leave_group_response_encode(req->out, req->version, &resp) == KW_OK ? BK_RESPOND
                                                                                 : BK_CLOSE;
}

/* ---- OffsetCommit, OffsetFetch ------------------------------------------------------------------ */

bk_result bk_handle_offset_commit(bk_req *req)
{
    kw_offset_commit_request rq;
    kw_decode_error err;
    if (kw_offset_commit_request_decode(&req->body, req->version, &rq, &err) != KW_OK)
        return bk_reply_decode_error(req, &err);
    bk_broker *br = req->br;
    int32_t generation = req->version >= 1 ? rq.generation_id_or_member_epoch : -1;
    bk_group *g = bk_group_find(br, rq.group_id);
    int16_t group_error = KW_KAFKA_NONE;
    if (rq.group_id.len == 0) {
        group_error = KW_KAFKA_INVALID_GROUP_ID;
    } else if (!g) {
        if (generation < 0)
            g = bk_group_get(br, rq.group_id, true);
        else
            group_error = req->version >= 9 ? KW_KAFKA_GROUP_ID_NOT_FOUND : KW_KAFKA_ILLEGAL_GENERATION;
        if (!g && group_error == KW_KAFKA_NONE)
            group_error = KW_KAFKA_COORDINATOR_NOT_AVAILABLE;
    } else if (g->state == BK_GROUP_DEAD) {
        group_error = KW_KAFKA_COORDINATOR_NOT_AVAILABLE;
    } else if (generation < 0 && g->state == BK_GROUP_EMPTY) {
        /* a simple consumer's commit */
    } else if (g->state == BK_GROUP_COMPLETING_REBALANCE) {
        group_error = KW_KAFKA_REBALANCE_IN_PROGRESS;
    } else {
        bk_member *m = member_find(g, rq.member_id);
        if (!m)
            group_error = KW_KAFKA_UNKNOWN_MEMBER_ID;
        else if (generation != g->generation)
            group_error = KW_KAFKA_ILLEGAL_GENERATION;
        else
            m->last_heartbeat = br->now;
    }
    int32_t ntopics = kw_array_len(&rq.topics);
    kw_offset_commit_response_offset_commit_response_topic *topics =
        BK_ALLOC(req, kw_offset_commit_response_offset_commit_response_topic, ntopics);
    size_t total = 0;
    kw_array_iter ti;
    kw_offset_commit_request_offset_commit_request_topic ct;
    kw_array_iter_init(&ti, &rq.topics);
    while (kw_offset_commit_request_offset_commit_request_topic_next(&ti, &ct))
        total += (size_t)kw_array_len(&ct.partitions);
    bk_offset_entry *entries = BK_ALLOC(req, bk_offset_entry, total);
    if ((!topics && ntopics) || (!entries && total))
        return BK_CLOSE;
    size_t nentries = 0;
    int64_t now = bk_wall_ms();
    kw_array_iter_init(&ti, &rq.topics);
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
    kw_offset_commit_response resp;
    memset(&resp, 0, sizeof resp);
    resp.topics = kw_array_of(topics, ntopics);
    return kw_offset_commit_response_encode(req->out, req->version, &resp) == KW_OK ? BK_RESPOND
                                                                                   : BK_CLOSE;
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

bk_result bk_handle_offset_fetch(bk_req *req)
{
    kw_offset_fetch_request rq;
    kw_decode_error err;
    if (kw_offset_fetch_request_decode(&req->body, req->version, &rq, &err) != KW_OK)
        return bk_reply_decode_error(req, &err);
    bk_broker *br = req->br;
    kw_offset_fetch_response resp;
    memset(&resp, 0, sizeof resp);
    resp.topics = kw_array_of(NULL, 0);
    resp.groups = kw_array_of(NULL, 0);
    if (req->version < 8) {
        bk_group *g = bk_group_find(br, rq.group_id);
        fetched_topic *ft;
        int32_t n;
        if (fetch_group_offsets(req, g, &rq.topics, false, &ft, &n) != 0)
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
        resp.topics = kw_array_of(ts, n);
        if (rq.group_id.len == 0)
            resp.error_code = KW_KAFKA_INVALID_GROUP_ID;
    } else {
        int32_t ng = kw_array_len(&rq.groups);
        kw_offset_fetch_response_offset_fetch_response_group *gs =
            BK_ALLOC(req, kw_offset_fetch_response_offset_fetch_response_group, ng);
        if (!gs && ng)
            return BK_CLOSE;
        kw_array_iter it;
        kw_offset_fetch_request_offset_fetch_request_group rg;
        kw_array_iter_init(&it, &rq.groups);
        for (int32_t k = 0; kw_offset_fetch_request_offset_fetch_request_group_next(&it, &rg); k++) {
            bk_group *g = bk_group_find(br, rg.group_id);
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
        resp.groups = kw_array_of(gs, ng);
    }
    return kw_offset_fetch_response_encode(req->out, req->version, &resp) == KW_OK ? BK_RESPOND
                                                                                  : BK_CLOSE;
}

/* ---- ListGroups, DescribeGroups, DeleteGroups --------------------------------------------------- */

static bool state_matches(kw_slice filter, bk_group_state s)
{
    const char *name = bk_group_state_name(s);
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

bk_result bk_handle_list_groups(bk_req *req)
{
    kw_list_groups_request rq;
    kw_decode_error err;
    if (kw_list_groups_request_decode(&req->body, req->version, &rq, &err) != KW_OK)
        return bk_reply_decode_error(req, &err);
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
        if (kw_array_len(&rq.states_filter) > 0) {
            bool ok = false;
            kw_array_iter it;
            kw_slice s;
            kw_array_iter_init(&it, &rq.states_filter);
            while (!ok && kw_array_next_string(&it, &s))
                ok = state_matches(s, g->state);
            if (!ok)
                continue;
        }
        if (kw_array_len(&rq.types_filter) > 0) {
            bool ok = false;
            kw_array_iter it;
            kw_slice s;
            kw_array_iter_init(&it, &rq.types_filter);
            while (!ok && kw_array_next_string(&it, &s))
                ok = s.len == 7 && strncasecmp((const char *)s.ptr, "classic", 7) == 0;
            if (!ok)
                continue;
        }
        gs[n].group_id = bk_cstr(g->id);
        gs[n].protocol_type = bk_cstr(g->protocol_type ? g->protocol_type : "");
        gs[n].group_state = bk_cstr(bk_group_state_name(g->state));
        gs[n].group_type = bk_cstr("classic");
        n++;
    }
    kw_list_groups_response resp;
    memset(&resp, 0, sizeof resp);
    resp.groups = kw_array_of(gs, n);
    return kw_list_groups_response_encode(req->out, req->version, &resp) == KW_OK ? BK_RESPOND
                                                                                 : BK_CLOSE;
}

bk_result bk_handle_describe_groups(bk_req *req)
{
    kw_describe_groups_request rq;
    kw_decode_error err;
    if (kw_describe_groups_request_decode(&req->body, req->version, &rq, &err) != KW_OK)
        return bk_reply_decode_error(req, &err);
    bk_broker *br = req->br;
    int32_t n = kw_array_len(&rq.groups);
    kw_describe_groups_response_described_group *ds =
        BK_ALLOC(req, kw_describe_groups_response_described_group, n);
    if (!ds && n)
        return BK_CLOSE;
    kw_array_iter it;
    kw_slice id;
    kw_array_iter_init(&it, &rq.groups);
    for (int32_t i = 0; kw_array_next_string(&it, &id); i++) {
        kw_describe_groups_response_described_group *d = &ds[i];
        bk_group *g = bk_group_find(br, id);
        d->group_id = id;
        d->authorized_operations = rq.include_authorized_operations ? 0x0f8 : INT32_MIN;
        d->protocol_type = bk_cstr("");
        d->protocol_data = bk_cstr("");
        d->members = kw_array_of(NULL, 0);
        if (id.len == 0) {
            d->error_code = KW_KAFKA_INVALID_GROUP_ID;
            d->group_state = bk_cstr("");
            continue;
        }
        if (!g) {
            d->group_state = bk_cstr("Dead");
            if (req->version >= 6)
                d->error_code = KW_KAFKA_GROUP_ID_NOT_FOUND;
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
            const bk_protocol *p = stable ? member_protocol(m, g->protocol_name) : NULL;
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
    kw_describe_groups_response resp;
    memset(&resp, 0, sizeof resp);
    resp.groups = kw_array_of(ds, n);
    return kw_describe_groups_response_encode(req->out, req->version, &resp) == KW_OK ? BK_RESPOND
                                                                                     : BK_CLOSE;
}

bk_result bk_handle_delete_groups(bk_req *req)
{
    kw_delete_groups_request rq;
    kw_decode_error err;
    if (kw_delete_groups_request_decode(&req->body, req->version, &rq, &err) != KW_OK)
        return bk_reply_decode_error(req, &err);
    bk_broker *br = req->br;
    int32_t n = kw_array_len(&rq.groups_names);
    kw_delete_groups_response_deletable_group_result *rs =
        BK_ALLOC(req, kw_delete_groups_response_deletable_group_result, n);
    if (!rs && n)
        return BK_CLOSE;
    kw_array_iter it;
    kw_slice id;
    kw_array_iter_init(&it, &rq.groups_names);
    for (int32_t i = 0; kw_array_next_string(&it, &id); i++) {
        rs[i].group_id = id;
        bk_group *g = bk_group_find(br, id);
        if (id.len == 0)
            rs[i].error_code = KW_KAFKA_INVALID_GROUP_ID;
        else if (!g)
            rs[i].error_code = KW_KAFKA_GROUP_ID_NOT_FOUND;
        else if (g->state != BK_GROUP_EMPTY || g->nmembers)
            rs[i].error_code = KW_KAFKA_NON_EMPTY_GROUP;
        else if (bk_offsets_delete_group(br, g) != 0)
            rs[i].error_code = KW_KAFKA_COORDINATOR_NOT_AVAILABLE;
        else {
            bk_log_msg("group %s deleted", g->id);
            group_remove(br, g);
        }
    }
    kw_delete_groups_response resp;
    memset(&resp, 0, sizeof resp);
    resp.results = kw_array_of(rs, n);
    return kw_delete_groups_response_encode(req->out, req->version, &resp) == KW_OK ? BK_RESPOND
                                                                                   : BK_CLOSE;
}
