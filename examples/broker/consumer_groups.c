/*
 * KIP-848 consumer groups: ConsumerGroupHeartbeat and ConsumerGroupDescribe.
 *
 * The group epoch moves when members join, leave, time out or change what
 * they subscribe to, or when a subscribed topic appears, goes or grows;
 * each move computes a new target assignment at once (a range assignor per
 * topic: its partitions in contiguous runs over the members subscribed to
 * it, sorted by member id, the first run rotating with the topic), whose
 * epoch is then the group epoch. Each member reconciles towards its share
 * on its own heartbeats, as Kafka's CurrentAssignmentBuilder:
 *
 *   - partitions it has that the target takes away are revoked first: it
 *     is answered with what it keeps, stays at its epoch (UNREVOKED) and
 *     moves on only once a heartbeat's owned partitions no longer hold
 *     them (or its rebalance timeout removes it);
 *   - then it takes the new epoch and the target's partitions no other
 *     member still has or is revoking; the rest come on later heartbeats
 *     (UNRELEASED) once their owners let them go.
 *
 * So a partition is never given to a member while its previous owner may
 * still fetch it. A heartbeat with an epoch the member is not at is
 * FENCED_MEMBER_EPOCH (its previous epoch is accepted with owned
 * partitions it was given, a retry of a lost answer); an epoch of 0 joins,
 * -1 leaves (-2: a static member's temporary leave), and a member whose
 * heartbeats stop for group.consumer.session.timeout.ms is removed.
 * Membership lives in memory: a restart keeps the committed offsets
 * (offsets.c) and the members rejoin.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer_groups.h"
#include "dispatch.h"
#include "groups.h"
#include "topics.h"
#include "util.h"

#define BK_DEFAULT_ASSIGNOR "uniform"

/* ---- topic partition sets ---------------------------------------------------------------- */

static bool tp_eq(const bk_tp *a, const kw_uuid *id, int32_t p)
{
    return a->partition == p && memcmp(a->topic_id.bytes, id->bytes, 16) == 0;
}

static bool tpset_has(const bk_tpset *s, const kw_uuid *id, int32_t p)
{
    for (size_t i = 0; i < s->n; i++)
        if (tp_eq(&s->v[i], id, p))
            return true;
    return false;
}

static int tpset_add(bk_tpset *s, const kw_uuid *id, int32_t p)
{
    if (tpset_has(s, id, p))
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        bk_tp *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].topic_id = *id;
    s->v[s->n].partition = p;
    s->n++;
    return 0;
}

static void tpset_free(bk_tpset *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- members ------------------------------------------------------------------------------- */

static void cmember_free(bk_cmember *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ntopics; i++)
        free(m->topics[i]);
    free(m->topics);
    if (m->regex_c) {
        regfree(m->regex_c);
        free(m->regex_c);
    }
    free(m->regex);
    free(m->member_id);
    free(m->instance_id);
    free(m->rack_id);
    free(m->client_id);
    free(m->client_host);
    tpset_free(&m->assigned);
    tpset_free(&m->revoking);
    tpset_free(&m->target);
    free(m);
}

void bk_cgroup_free(bk_cgroup *cg)
{
    if (!cg)
        return;
    for (size_t i = 0; i < cg->nmembers; i++)
        cmember_free(cg->members[i]);
    free(cg->members);
    free(cg->assignor);
    free(cg);
}

bk_cmember *bk_cmember_find(const bk_cgroup *cg, kw_slice member_id)
{
    for (size_t i = 0; cg && member_id.ptr && i < cg->nmembers; i++)
        if (bk_slice_eqs(member_id, cg->members[i]->member_id))
            return cg->members[i];
    return NULL;
}

static void cmember_remove(bk_cgroup *cg, bk_cmember *m)
{
    for (size_t i = 0; i < cg->nmembers; i++) {
        if (cg->members[i] == m) {
            memmove(&cg->members[i], &cg->members[i + 1], (cg->nmembers - i - 1) * sizeof *cg->members);
            cg->nmembers--;
            break;
        }
    }
    cmember_free(m);
}

const char *bk_cgroup_state_name(const bk_cgroup *cg)
{
    if (cg->nmembers == 0)
        return "Empty";
    if (cg->group_epoch > cg->assignment_epoch)
        return "Assigning";
    for (size_t i = 0; i < cg->nmembers; i++)
        if (cg->members[i]->epoch != cg->assignment_epoch || cg->members[i]->state != BK_CM_STABLE)
            return "Reconciling";
    return "Stable";
}

/* ---- the target assignment ----------------------------------------------------------------- */

static bool subscribes(const bk_cmember *m, const bk_topic *t)
{
    for (size_t i = 0; i < m->ntopics; i++)
        if (strcmp(m->topics[i], t->name) == 0)
            return true;
    return m->regex_c && regexec(m->regex_c, t->name, 0, NULL, 0) == 0;
}

static int cmp_topic(const void *a, const void *b)
{
    return strcmp((*(bk_topic *const *)a)->name, (*(bk_topic *const *)b)->name);
}

static int cmp_member(const void *a, const void *b)
{
    return strcmp((*(bk_cmember *const *)a)->member_id, (*(bk_cmember *const *)b)->member_id);
}

/* The topics some member subscribes to, sorted by name (malloc'd; NULL with *n 0 when none). */
static bk_topic **subscribed_topics(bk_broker *br, const bk_cgroup *cg, size_t *n, int *err)
{
    *n = 0;
    *err = 0;
    if (!br->ntopics)
        return NULL;
    bk_topic **ts = malloc(br->ntopics * sizeof *ts);
    if (!ts) {
        *err = -1;
        return NULL;
    }
    for (size_t i = 0; i < br->ntopics; i++) {
        for (size_t k = 0; k < cg->nmembers; k++) {
            if (subscribes(cg->members[k], br->topics[i])) {
                ts[(*n)++] = br->topics[i];
                break;
            }
        }
    }
    qsort(ts, *n, sizeof *ts, cmp_topic);
    return ts;
}

static uint64_t topics_hash(bk_topic **ts, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < 16; k++)
            h = (h ^ ts[i]->id.bytes[k]) * 1099511628211ull;
        uint32_t np = (uint32_t)ts[i]->nparts;
        for (int k = 0; k < 4; k++)
            h = (h ^ ((np >> (8 * k)) & 0xff)) * 1099511628211ull;
    }
    return h;
}

static int compute_target(bk_broker *br, bk_cgroup *cg, bk_topic **ts, size_t nts)
{
    for (size_t i = 0; i < cg->nmembers; i++)
        cg->members[i]->target.n = 0;
    bk_cmember **subs = cg->nmembers ? malloc(cg->nmembers * sizeof *subs) : NULL;
    if (cg->nmembers && !subs)
        return -1;
    int rc = 0;
    for (size_t t = 0; t < nts && rc == 0; t++) {
        size_t k = 0;
        for (size_t i = 0; i < cg->nmembers; i++)
            if (subscribes(cg->members[i], ts[t]))
                subs[k++] = cg->members[i];
        if (!k)
            continue;
        qsort(subs, k, sizeof *subs, cmp_member);
        int64_t np = ts[t]->nparts;
        for (size_t i = 0; i < k && rc == 0; i++) {
            int64_t lo = np * (int64_t)i / (int64_t)k, hi = np * (int64_t)(i + 1) / (int64_t)k;
            bk_cmember *m = subs[(i + t) % k];
            for (int64_t p = lo; p < hi && rc == 0; p++)
                rc = tpset_add(&m->target, &ts[t]->id, (int32_t)p);
        }
    }
    free(subs);
    (void)br;
    return rc;
}

/* Moves the group epoch and computes the target assignment for it. */
static int bump_epoch(bk_broker *br, bk_group *g)
{
    bk_cgroup *cg = g->consumer;
    size_t nts;
    int err;
    bk_topic **ts = subscribed_topics(br, cg, &nts, &err);
    if (err)
        return -1;
    cg->topics_hash = topics_hash(ts, nts);
    cg->topics_version = br->topics_version;
    cg->group_epoch++;
    int rc = compute_target(br, cg, ts, nts);
    free(ts);
    if (rc == 0)
        cg->assignment_epoch = cg->group_epoch;
    bk_log_msg("group %s: consumer group epoch %d, %zu members", g->id, (int)cg->group_epoch,
               cg->nmembers);
    return rc;
}

/* True when a subscribed topic appeared, went or changed since the last assignment (looked at
 * only when some topic did). */
static int topics_changed(bk_broker *br, bk_cgroup *cg, bool *changed)
{
    *changed = false;
    if (cg->topics_version == br->topics_version)
        return 0;
    cg->topics_version = br->topics_version;
    size_t nts;
    int err;
    bk_topic **ts = subscribed_topics(br, cg, &nts, &err);
    if (err)
        return -1;
    *changed = topics_hash(ts, nts) != cg->topics_hash;
    free(ts);
    return 0;
}

/* ---- reconciliation ------------------------------------------------------------------------ */

/* Held by a member other than m: given to it or being revoked by it. */
static bool held_by_other(const bk_cgroup *cg, const bk_cmember *m, const bk_tp *tp)
{
    for (size_t i = 0; i < cg->nmembers; i++) {
        const bk_cmember *o = cg->members[i];
        if (o != m && (tpset_has(&o->assigned, &tp->topic_id, tp->partition) ||
                       tpset_has(&o->revoking, &tp->topic_id, tp->partition)))
            return true;
    }
    return false;
}

/* True when the heartbeat's owned partitions (not null) hold any of s. */
static bool owned_holds_any(const kw_array *owned, const bk_tpset *s)
{
    kw_array_iter it;
    kw_consumer_group_heartbeat_request_topic_partitions tp;
    kw_array_iter_init(&it, owned);
    while (kw_consumer_group_heartbeat_request_topic_partitions_next(&it, &tp)) {
        kw_array_iter pi;
        int32_t p;
        kw_array_iter_init(&pi, &tp.partitions);
        while (kw_array_next_i32(&pi, &p))
            if (tpset_has(s, &tp.topic_id, p))
                return true;
    }
    return false;
}

/* True when every owned partition (not null) is in s. */
static bool owned_within(const kw_array *owned, const bk_tpset *s)
{
    kw_array_iter it;
    kw_consumer_group_heartbeat_request_topic_partitions tp;
    kw_array_iter_init(&it, owned);
    while (kw_consumer_group_heartbeat_request_topic_partitions_next(&it, &tp)) {
        kw_array_iter pi;
        int32_t p;
        kw_array_iter_init(&pi, &tp.partitions);
        while (kw_array_next_i32(&pi, &p))
            if (!tpset_has(s, &tp.topic_id, p))
                return false;
    }
    return true;
}

static int reconcile(bk_broker *br, bk_cgroup *cg, bk_cmember *m, const kw_array *owned)
{
    if (m->state == BK_CM_UNREVOKED) {
        if (kw_array_is_null(owned) || owned_holds_any(owned, &m->revoking))
            return 0; /* still revoking */
        m->revoking.n = 0;
        m->state = BK_CM_STABLE;
    }
    if (m->state == BK_CM_STABLE && m->epoch == cg->assignment_epoch)
        return 0;
    /* what it has that the target takes away goes first */
    bk_tpset keep = {0}, revoke = {0};
    for (size_t i = 0; i < m->assigned.n; i++) {
        const bk_tp *tp = &m->assigned.v[i];
        bk_tpset *s = tpset_has(&m->target, &tp->topic_id, tp->partition) ? &keep : &revoke;
        if (tpset_add(s, &tp->topic_id, tp->partition) != 0) {
            tpset_free(&keep);
            tpset_free(&revoke);
            return -1;
        }
    }
    if (revoke.n) {
        tpset_free(&m->assigned);
        tpset_free(&m->revoking);
        m->assigned = keep;
        m->revoking = revoke;
        m->state = BK_CM_UNREVOKED;
        m->send_assignment = true;
        m->revoke_deadline = br->now + m->rebalance_timeout_ms;
        return 0;
    }
    tpset_free(&revoke);
    bool unreleased = false;
    size_t before = m->assigned.n;
    for (size_t i = 0; i < m->target.n; i++) {
        const bk_tp *tp = &m->target.v[i];
        if (tpset_has(&keep, &tp->topic_id, tp->partition))
            continue;
        if (held_by_other(cg, m, tp)) {
            unreleased = true;
            continue;
        }
        if (tpset_add(&keep, &tp->topic_id, tp->partition) != 0) {
            tpset_free(&keep);
            return -1;
        }
    }
    if (keep.n != before)
        m->send_assignment = true;
    tpset_free(&m->assigned);
    m->assigned = keep;
    if (m->epoch != cg->assignment_epoch) {
        m->previous_epoch = m->epoch;
        m->epoch = cg->assignment_epoch;
    }
    m->state = unreleased ? BK_CM_UNRELEASED : BK_CM_STABLE;
    return 0;
}

/* ---- timers -------------------------------------------------------------------------------- */

void bk_cgroup_tick(bk_broker *br, bk_group *g)
{
    bk_cgroup *cg = g->consumer;
    bool removed = false;
    for (size_t i = cg->nmembers; i-- > 0;) {
        bk_cmember *m = cg->members[i];
        const char *why = NULL;
        if (br->now - m->last_heartbeat > br->cfg.consumer_session_timeout_ms)
            why = "session timed out";
        else if (m->state == BK_CM_UNREVOKED && br->now > m->revoke_deadline)
            why = "did not revoke within its rebalance timeout";
        if (why) {
            bk_log_msg("group %s: member %s %s, removed", g->id, m->member_id, why);
            cmember_remove(cg, m);
            removed = true;
        }
    }
    if (removed && bump_epoch(br, g) != 0)
        bk_log_msg("group %s: out of memory for the assignment", g->id);
}

/* ---- offsets ------------------------------------------------------------------------------- */

int16_t bk_cgroup_validate_commit(bk_broker *br, bk_group *g, kw_slice member_id, int32_t epoch,
                                  int16_t version)
{
    bk_cgroup *cg = g->consumer;
    if (epoch < 0 && cg->nmembers == 0)
        return KW_KAFKA_NONE; /* an admin's or a simple consumer's commit */
    bk_cmember *m = bk_cmember_find(cg, member_id);
    if (!m)
        return KW_KAFKA_UNKNOWN_MEMBER_ID;
    if (version < 9)
        return KW_KAFKA_UNSUPPORTED_VERSION;
    if (epoch != m->epoch)
        return KW_KAFKA_STALE_MEMBER_EPOCH;
    m->last_heartbeat = br->now;
    return KW_KAFKA_NONE;
}

int16_t bk_cgroup_validate_fetch(bk_group *g, kw_slice member_id, int32_t epoch)
{
    if (epoch < 0 && member_id.len == 0)
        return KW_KAFKA_NONE;
    bk_cmember *m = bk_cmember_find(g->consumer, member_id);
    if (!m)
        return KW_KAFKA_UNKNOWN_MEMBER_ID;
    if (epoch != m->epoch)
        return KW_KAFKA_STALE_MEMBER_EPOCH;
    return KW_KAFKA_NONE;
}

/* ---- ConsumerGroupHeartbeat ---------------------------------------------------------------- */

/* pre, the slice (at most 200 bytes) and post, from the request's scratch. */
static kw_slice message3(bk_req *req, const char *pre, const kw_slice *arg, const char *post)
{
    char *s = bk_scratch_alloc(&req->scratch, 512);
    if (!s)
        return (kw_slice){NULL, 0};
    int an = arg ? (int)(arg->len > 200 ? 200 : arg->len) : 0;
    snprintf(s, 512, "%s%.*s%s", pre, an, arg && arg->ptr ? (const char *)arg->ptr : "", post ? post : "");
    return bk_cstr(s);
}

/* An error answer; its message is pre, then arg and post when arg is given. */
static bk_result hb_error(bk_req *req, kw_consumer_group_heartbeat_response *resp, int16_t error,
                          const char *pre, const kw_slice *arg, const char *post)
{
    resp->error_code = error;
    if (pre)
        resp->error_message = message3(req, pre, arg, post);
    return BK_RESPOND;
}

static char *dup_slice(kw_slice s) { return bk_strndup(s.ptr ? s.ptr : (const uint8_t *)"", s.ptr ? s.len : 0); }

static bool streq_slice(const char *a, kw_slice b)
{
    if (!a || !b.ptr)
        return !a && !b.ptr;
    return bk_slice_eqs(b, a);
}

/* Sets the subscription from a request's non-null fields; *changed when it differs. */
static int set_subscription(bk_cmember *m, const kw_consumer_group_heartbeat_request *rq, bool *changed)
{
    if (!kw_array_is_null(&rq->subscribed_topic_names)) {
        int32_t n = kw_array_len(&rq->subscribed_topic_names);
        bool same = (size_t)n == m->ntopics;
        kw_array_iter it;
        kw_slice s;
        kw_array_iter_init(&it, &rq->subscribed_topic_names);
        for (size_t i = 0; same && kw_array_next_string(&it, &s); i++)
            same = bk_slice_eqs(s, m->topics[i]);
        if (!same) {
            char **ts = n ? calloc((size_t)n, sizeof *ts) : NULL;
            if (n && !ts)
                return -1;
            kw_array_iter_init(&it, &rq->subscribed_topic_names);
            for (int32_t i = 0; i < n && kw_array_next_string(&it, &s); i++) {
                ts[i] = dup_slice(s);
                if (!ts[i]) {
                    for (int32_t k = 0; k < i; k++)
                        free(ts[k]);
                    free(ts);
                    return -1;
                }
            }
            for (size_t i = 0; i < m->ntopics; i++)
                free(m->topics[i]);
            free(m->topics);
            m->topics = ts;
            m->ntopics = (size_t)n;
            *changed = true;
        }
    }
    if (rq->version_ >= 1 && rq->subscribed_topic_regex.ptr && !streq_slice(m->regex, rq->subscribed_topic_regex)) {
        if (m->regex_c) {
            regfree(m->regex_c);
            free(m->regex_c);
            m->regex_c = NULL;
        }
        free(m->regex);
        m->regex = NULL;
        if (rq->subscribed_topic_regex.len) {
            /* Kafka matches the whole name (RE2J's matches()) */
            size_t n = rq->subscribed_topic_regex.len;
            char *pat = malloc(n + 5);
            m->regex_c = malloc(sizeof(regex_t));
            m->regex = dup_slice(rq->subscribed_topic_regex);
            if (!pat || !m->regex_c || !m->regex) {
                free(pat);
                return -1;
            }
            snprintf(pat, n + 5, "^(%.*s)$", (int)n, (const char *)rq->subscribed_topic_regex.ptr);
            int rc = regcomp(m->regex_c, pat, REG_EXTENDED | REG_NOSUB);
            free(pat);
            if (rc != 0) {
                free(m->regex_c);
                m->regex_c = NULL;
                return 1;
            }
        }
        *changed = true;
    }
    return 0;
}

static bool valid_assignor(kw_slice a)
{
    return !a.ptr || bk_slice_eqs(a, "uniform") || bk_slice_eqs(a, "range");
}

static char *new_member_id(void)
{
    uint8_t r[16];
    bk_random_bytes(r, sizeof r);
    char *s = malloc(40);
    if (s)
        snprintf(s, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
                 r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
    return s;
}

static bk_cmember *add_cmember(bk_req *req, bk_cgroup *cg, const kw_consumer_group_heartbeat_request *rq)
{
    bk_cmember *m = calloc(1, sizeof *m);
    bk_cmember **ms = m ? realloc(cg->members, (cg->nmembers + 1) * sizeof *ms) : NULL;
    if (!ms) {
        free(m);
        return NULL;
    }
    cg->members = ms;
    m->member_id = rq->member_id.len ? dup_slice(rq->member_id) : new_member_id();
    kw_slice cid = req->hdr.client_id;
    m->client_id = dup_slice(cid);
    const char *peer = req->conn ? req->conn->peer : "";
    const char *colon = strrchr(peer, ':');
    size_t hl = colon ? (size_t)(colon - peer) : strlen(peer);
    char host[80];
    snprintf(host, sizeof host, "/%.*s", (int)hl, peer);
    m->client_host = strdup(host);
    if (!m->member_id || !m->client_id || !m->client_host) {
        cmember_free(m);
        return NULL;
    }
    m->rebalance_timeout_ms = rq->rebalance_timeout_ms;
    cg->members[cg->nmembers++] = m;
    return m;
}

static int build_assignment(bk_req *req, const bk_tpset *s, kw_array *out)
{
    /* grouped by topic, in the order topics first appear */
    kw_consumer_group_heartbeat_response_topic_partitions *ts =
        BK_ALLOC(req, kw_consumer_group_heartbeat_response_topic_partitions, s->n);
    int32_t *ps = BK_ALLOC(req, int32_t, s->n);
    if (s->n && (!ts || !ps))
        return -1;
    int32_t nt = 0;
    size_t used = 0;
    for (size_t i = 0; i < s->n; i++) {
        int32_t k = 0;
        while (k < nt && memcmp(ts[k].topic_id.bytes, s->v[i].topic_id.bytes, 16) != 0)
            k++;
        if (k < nt)
            continue;
        ts[nt].topic_id = s->v[i].topic_id;
        int32_t *first = ps + used;
        int32_t n = 0;
        for (size_t j = i; j < s->n; j++)
            if (memcmp(s->v[j].topic_id.bytes, s->v[i].topic_id.bytes, 16) == 0)
                first[n++] = s->v[j].partition;
        used += (size_t)n;
        ts[nt].partitions = kw_array_of(first, n);
        nt++;
    }
    *out = kw_array_of(ts, nt);
    return 0;
}

bk_result bk_handle_consumer_group_heartbeat(bk_req *req, const kw_consumer_group_heartbeat_request *rq,
                                             kw_consumer_group_heartbeat_response *resp)
{
    bk_broker *br = req->br;
    int32_t epoch = rq->member_epoch;
    if (rq->group_id.len == 0)
        return hb_error(req, resp, KW_KAFKA_INVALID_REQUEST, "GroupId can't be empty.", NULL, NULL);
    if (req->version >= 1 && rq->member_id.len == 0)
        return hb_error(req, resp, KW_KAFKA_INVALID_REQUEST, "MemberId can't be empty.", NULL, NULL);
    if (req->version == 0 && epoch != 0 && rq->member_id.len == 0)
        return hb_error(req, resp, KW_KAFKA_INVALID_REQUEST, "MemberId can't be empty.", NULL, NULL);
    if (rq->instance_id.ptr && rq->instance_id.len == 0)
        return hb_error(req, resp, KW_KAFKA_INVALID_REQUEST, "InstanceId can't be empty.", NULL, NULL);
    if (rq->rack_id.ptr && rq->rack_id.len == 0)
        return hb_error(req, resp, KW_KAFKA_INVALID_REQUEST, "RackId can't be empty.", NULL, NULL);
    if (epoch == 0) {
        if (rq->rebalance_timeout_ms == -1)
            return hb_error(req, resp, KW_KAFKA_INVALID_REQUEST,
                            "RebalanceTimeoutMs must be provided in first request.", NULL, NULL);
        if (kw_array_is_null(&rq->topic_partitions) || kw_array_len(&rq->topic_partitions) != 0)
            return hb_error(req, resp, KW_KAFKA_INVALID_REQUEST,
                            "TopicPartitions must be empty when (re-)joining.", NULL, NULL);
        if (kw_array_is_null(&rq->subscribed_topic_names) &&
            (req->version < 1 || !rq->subscribed_topic_regex.ptr))
            return hb_error(req, resp, KW_KAFKA_INVALID_REQUEST,
                            "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.", NULL, NULL);
    } else if (epoch < -2 || (epoch == -2 && !rq->instance_id.ptr)) {
        return hb_error(req, resp, KW_KAFKA_INVALID_REQUEST, "MemberEpoch is invalid.", NULL, NULL);
    }
    if (!valid_assignor(rq->server_assignor))
        return hb_error(req, resp, KW_KAFKA_UNSUPPORTED_ASSIGNOR, "ServerAssignor ", &rq->server_assignor, " is not supported.");

    bk_group *g = bk_group_find(br, rq->group_id);
    if (!g && epoch != 0)
        return hb_error(req, resp, KW_KAFKA_GROUP_ID_NOT_FOUND, "Consumer group ", &rq->group_id, " not found.");
    if (g && !g->consumer && (g->nmembers || g->state != BK_GROUP_EMPTY))
        return hb_error(req, resp, KW_KAFKA_GROUP_ID_NOT_FOUND, "Group ", &rq->group_id, " is not a consumer group.");
    if (g && !g->consumer && epoch != 0)
        return hb_error(req, resp, KW_KAFKA_GROUP_ID_NOT_FOUND, "Consumer group ", &rq->group_id, " not found.");
    if (!g)
        g = bk_group_get(br, rq->group_id, true);
    if (!g)
        return hb_error(req, resp, KW_KAFKA_COORDINATOR_NOT_AVAILABLE, NULL, NULL, NULL);
    if (!g->consumer) {
        g->consumer = calloc(1, sizeof *g->consumer);
        if (!g->consumer)
            return hb_error(req, resp, KW_KAFKA_COORDINATOR_NOT_AVAILABLE, NULL, NULL, NULL);
        /* Kafka 4.4 answers a new group's first member with epoch 2 (tests/differential) */
        g->consumer->group_epoch = g->consumer->assignment_epoch = 1;
    }
    bk_cgroup *cg = g->consumer;
    bk_cmember *m = bk_cmember_find(cg, rq->member_id);

    if (epoch == -1 || epoch == -2) {
        if (!m)
            return hb_error(req, resp, KW_KAFKA_UNKNOWN_MEMBER_ID, "Member ", &rq->member_id, " is not a member of the group.");
        bk_log_msg("group %s: member %s left", g->id, m->member_id);
        cmember_remove(cg, m);
        if (bump_epoch(br, g) != 0)
            return BK_CLOSE;
        resp->member_id = rq->member_id;
        resp->member_epoch = epoch;
        return BK_RESPOND;
    }
    bool changed = false, is_new = false;
    if (epoch == 0) {
        if (!m) {
            if (cg->nmembers >= (size_t)br->cfg.group_max_size)
                return hb_error(req, resp, KW_KAFKA_GROUP_MAX_SIZE_REACHED,
                                "The consumer group has reached its maximum capacity.", NULL, NULL);
            m = add_cmember(req, cg, rq);
            if (!m)
                return hb_error(req, resp, KW_KAFKA_COORDINATOR_NOT_AVAILABLE, NULL, NULL, NULL);
            changed = is_new = true;
        } else {
            /* a member coming back after a fence: it dropped what it had */
            m->assigned.n = 0;
            m->revoking.n = 0;
            m->state = BK_CM_STABLE;
            m->epoch = 0;
        }
        m->send_assignment = true;
    } else if (!m) {
        return hb_error(req, resp, KW_KAFKA_UNKNOWN_MEMBER_ID, "Member ", &rq->member_id, " is not a member of the group.");
    } else if (epoch > m->epoch ||
               (epoch < m->epoch &&
                !(epoch == m->previous_epoch && !kw_array_is_null(&rq->topic_partitions) &&
                  owned_within(&rq->topic_partitions, &m->assigned)))) {
        return hb_error(req, resp, KW_KAFKA_FENCED_MEMBER_EPOCH,
                        "The consumer group member has a smaller member epoch than expected.", NULL, NULL);
    }
    m->last_heartbeat = br->now;
    if (rq->rebalance_timeout_ms > 0)
        m->rebalance_timeout_ms = rq->rebalance_timeout_ms;
    if (rq->instance_id.ptr && !streq_slice(m->instance_id, rq->instance_id)) {
        free(m->instance_id);
        m->instance_id = dup_slice(rq->instance_id);
    }
    if (rq->rack_id.ptr && !streq_slice(m->rack_id, rq->rack_id)) {
        free(m->rack_id);
        m->rack_id = dup_slice(rq->rack_id);
    }
    if (rq->server_assignor.ptr) {
        free(cg->assignor);
        cg->assignor = dup_slice(rq->server_assignor);
    }
    int sub = set_subscription(m, rq, &changed);
    if (sub < 0)
        return BK_CLOSE;
    if (sub > 0) {
        if (is_new)
            cmember_remove(cg, m);
        return hb_error(req, resp, KW_KAFKA_INVALID_REGULAR_EXPRESSION, "SubscribedTopicRegex ", &rq->subscribed_topic_regex, " is invalid.");
    }
    if (!changed && topics_changed(br, cg, &changed) != 0)
        return BK_CLOSE;
    if (changed && bump_epoch(br, g) != 0)
        return BK_CLOSE;
    if (reconcile(br, cg, m, &rq->topic_partitions) != 0)
        return BK_CLOSE;

    resp->member_id = bk_cstr(m->member_id);
    resp->member_epoch = m->epoch;
    resp->heartbeat_interval_ms = br->cfg.consumer_heartbeat_interval_ms;
    bool full = rq->rebalance_timeout_ms != -1 && !kw_array_is_null(&rq->subscribed_topic_names) &&
                !kw_array_is_null(&rq->topic_partitions);
    if (m->send_assignment || full) {
        kw_consumer_group_heartbeat_response_assignment_init(&resp->assignment);
        if (build_assignment(req, &m->assigned, &resp->assignment.topic_partitions) != 0)
            return BK_CLOSE;
        resp->has_assignment = true;
        m->send_assignment = false;
    }
    return BK_RESPOND;
}

/* ---- ConsumerGroupDescribe ----------------------------------------------------------------- */

static int describe_assignment(bk_req *req, const bk_tpset *s, kw_consumer_group_describe_response_assignment *out)
{
    kw_consumer_group_describe_response_assignment_init(out);
    kw_consumer_group_describe_response_topic_partitions *ts =
        BK_ALLOC(req, kw_consumer_group_describe_response_topic_partitions, s->n);
    int32_t *ps = BK_ALLOC(req, int32_t, s->n);
    if (s->n && (!ts || !ps))
        return -1;
    int32_t nt = 0;
    size_t used = 0;
    for (size_t i = 0; i < s->n; i++) {
        int32_t k = 0;
        while (k < nt && memcmp(ts[k].topic_id.bytes, s->v[i].topic_id.bytes, 16) != 0)
            k++;
        if (k < nt)
            continue;
        const bk_topic *t = bk_topic_find_id(req->br, &s->v[i].topic_id);
        kw_consumer_group_describe_response_topic_partitions_init(&ts[nt]);
        ts[nt].topic_id = s->v[i].topic_id;
        ts[nt].topic_name = bk_cstr(t ? t->name : "");
        int32_t *first = ps + used;
        int32_t n = 0;
        for (size_t j = i; j < s->n; j++)
            if (memcmp(s->v[j].topic_id.bytes, s->v[i].topic_id.bytes, 16) == 0)
                first[n++] = s->v[j].partition;
        used += (size_t)n;
        ts[nt].partitions = kw_array_of(first, n);
        nt++;
    }
    out->topic_partitions = kw_array_of(ts, nt);
    return 0;
}

static void describe_error(bk_req *req, kw_consumer_group_describe_response_described_group *d, int16_t error,
                           const char *pre, kw_slice id, const char *post)
{
    d->error_code = error;
    d->error_message = message3(req, pre, &id, post);
}

bk_result bk_handle_consumer_group_describe(bk_req *req, const kw_consumer_group_describe_request *rq,
                                            kw_consumer_group_describe_response *resp)
{
    bk_broker *br = req->br;
    int32_t n = kw_array_len(&rq->group_ids);
    kw_consumer_group_describe_response_described_group *ds =
        BK_ALLOC(req, kw_consumer_group_describe_response_described_group, n);
    if (!ds && n)
        return BK_CLOSE;
    kw_array_iter it;
    kw_slice id;
    kw_array_iter_init(&it, &rq->group_ids);
    for (int32_t i = 0; i < n && kw_array_next_string(&it, &id); i++) {
        kw_consumer_group_describe_response_described_group *d = &ds[i];
        kw_consumer_group_describe_response_described_group_init(d);
        d->group_id = id;
        bk_group *g = bk_group_find(br, id);
        if (id.len == 0) {
            d->error_code = KW_KAFKA_INVALID_GROUP_ID;
            continue;
        }
        if (!g) {
            describe_error(req, d, KW_KAFKA_GROUP_ID_NOT_FOUND, "Group ", id, " not found.");
            continue;
        }
        if (!g->consumer) {
            describe_error(req, d, KW_KAFKA_GROUP_ID_NOT_FOUND, "Group ", id, " is not a consumer group.");
            continue;
        }
        const bk_cgroup *cg = g->consumer;
        d->group_state = bk_cstr(bk_cgroup_state_name(cg));
        d->group_epoch = cg->group_epoch;
        d->assignment_epoch = cg->assignment_epoch;
        d->assignor_name = bk_cstr(cg->assignor ? cg->assignor : BK_DEFAULT_ASSIGNOR);
        if (rq->include_authorized_operations)
            d->authorized_operations = 0x0f8;
        kw_consumer_group_describe_response_member *ms =
            BK_ALLOC(req, kw_consumer_group_describe_response_member, cg->nmembers);
        if (!ms && cg->nmembers)
            return BK_CLOSE;
        for (size_t k = 0; k < cg->nmembers; k++) {
            const bk_cmember *m = cg->members[k];
            kw_consumer_group_describe_response_member *x = &ms[k];
            kw_consumer_group_describe_response_member_init(x);
            x->member_id = bk_cstr(m->member_id);
            x->instance_id = m->instance_id ? bk_cstr(m->instance_id) : (kw_slice){NULL, 0};
            x->rack_id = m->rack_id ? bk_cstr(m->rack_id) : (kw_slice){NULL, 0};
            x->member_epoch = m->epoch;
            x->client_id = bk_cstr(m->client_id);
            x->client_host = bk_cstr(m->client_host);
            kw_slice *names = BK_ALLOC(req, kw_slice, m->ntopics);
            if (!names && m->ntopics)
                return BK_CLOSE;
            for (size_t t = 0; t < m->ntopics; t++)
                names[t] = bk_cstr(m->topics[t]);
            x->subscribed_topic_names = kw_array_of(names, (int32_t)m->ntopics);
            x->subscribed_topic_regex = bk_cstr(m->regex ? m->regex : ""); /* Kafka: "" for none */
            if (describe_assignment(req, &m->assigned, &x->assignment) != 0 ||
                describe_assignment(req, &m->target, &x->target_assignment) != 0)
                return BK_CLOSE;
            x->member_type = 1; /* consumer protocol */
        }
        d->members = kw_array_of(ms, (int32_t)cg->nmembers);
    }
    resp->groups = kw_array_of(ds, n);
    return BK_RESPOND;
}
