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
 * and builds the answer from the state the group is in then. The handlers
 * are group_api.c's and, for offsets, offsets_api.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "consumer_groups.h"
#include "groups.h"
#include "loop.h"
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

void bk_member_free(bk_member *m)
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
        bk_member_free(g->members[i]);
    free(g->members);
    for (size_t i = 0; i < g->npending; i++)
        free(g->pending[i].member_id);
    free(g->pending);
    for (size_t i = 0; i < g->noffsets; i++) {
        free(g->offsets[i].topic);
        free(g->offsets[i].metadata);
    }
    free(g->offsets);
    bk_cgroup_free(g->consumer);
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

void bk_group_remove(bk_broker *br, bk_group *g)
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

bk_member *bk_member_find(bk_group *g, kw_slice id)
{
    for (size_t i = 0; i < g->nmembers; i++)
        if (bk_slice_eqs(id, g->members[i]->member_id))
            return g->members[i];
    return NULL;
}

bk_member *bk_member_for_conn(bk_group *g, const bk_conn *c, bool sync)
{
    for (size_t i = 0; i < g->nmembers; i++) {
        bk_member *m = g->members[i];
        if (sync ? (m->sync_conn == c && m->sync_conn_id == c->id)
                 : (m->join_conn == c && m->join_conn_id == c->id))
            return m;
    }
    return NULL;
}

const bk_protocol *bk_member_protocol(const bk_member *m, const char *name)
{
    for (size_t i = 0; name && i < m->nprotocols; i++)
        if (strcmp(m->protocols[i].name, name) == 0)
            return &m->protocols[i];
    return NULL;
}

bool bk_group_add_member(bk_group *g, bk_member *m)
{
    bk_member **ms = realloc(g->members, (g->nmembers + 1) * sizeof *ms);
    if (!ms)
        return false;
    g->members = ms;
    if (!g->protocol_type)
        g->protocol_type = strdup(m->protocol_type);
    g->members[g->nmembers++] = m;
    if (!g->leader)
        g->leader = strdup(m->member_id);
    return true;
}

static void wake_member(bk_broker *br, bk_member *m)
{
    if (m->join_conn)
        bk_conn_wake(br, m->join_conn);
    if (m->sync_conn)
        bk_conn_wake(br, m->sync_conn);
}

void bk_group_remove_member(bk_broker *br, bk_group *g, bk_member *m)
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
    bk_member_free(m);
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

void bk_group_prepare_rebalance(bk_broker *br, bk_group *g)
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

void bk_group_maybe_complete_join(bk_broker *br, bk_group *g)
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
            everyone = bk_member_protocol(g->members[i], name) != NULL;
        if (!everyone)
            continue;
        size_t votes = 0;
        for (size_t i = 0; i < g->nmembers; i++) {
            const bk_member *m = g->members[i];
            for (size_t k = 0; k < m->nprotocols; k++) {
                const char *cand = m->protocols[k].name;
                bool common = true;
                for (size_t j = 0; j < g->nmembers && common; j++)
                    common = bk_member_protocol(g->members[j], cand) != NULL;
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
            bk_group_remove_member(br, g, m);
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
    if (!g->leader || !bk_member_find(g, bk_cstr(g->leader))) {
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

void bk_groups_tick(bk_broker *br)
{
    for (size_t gi = br->ngroups; gi-- > 0;) {
        bk_group *g = br->groups[gi];
        if (g->consumer)
            bk_cgroup_tick(br, g);
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
                bk_group_remove_member(br, g, m);
                removed = true;
            }
        }
        if (removed && (g->state == BK_GROUP_STABLE || g->state == BK_GROUP_COMPLETING_REBALANCE))
            bk_group_prepare_rebalance(br, g);
        if (g->state == BK_GROUP_PREPARING_REBALANCE) {
            bk_group_maybe_complete_join(br, g);
        } else if (g->state == BK_GROUP_COMPLETING_REBALANCE && br->now >= g->rebalance_deadline) {
            /* the leader's assignment did not come: members that did not sync go */
            for (size_t i = g->nmembers; i-- > 0;)
                if (!g->members[i]->sync_conn)
                    bk_group_remove_member(br, g, g->members[i]);
            bk_group_prepare_rebalance(br, g);
        }
        if (g->state == BK_GROUP_EMPTY && g->nmembers == 0 && g->noffsets == 0 && g->npending == 0 &&
            (!g->consumer || g->consumer->nmembers == 0))
            bk_group_remove(br, g);
    }
}
