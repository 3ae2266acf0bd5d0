/*
 * kwire-broker's KIP-848 consumer groups and DeleteRecords, through the
 * broker's connection handler with real request frames: joining with
 * ConsumerGroupHeartbeat, the server-side assignment, a partition given to
 * a new member only after its previous owner's heartbeat stops reporting
 * it, member epochs (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID), session
 * expiry, leaving, ConsumerGroupDescribe, ListGroups, commits and fetches
 * of offsets with member epochs; DeleteRecords moving the log start offset
 * (Fetch and ListOffsets below it, a restart).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_harness.h"
#include "consumer_groups.h"
#include "groups.h"
#include "log.h"

#define CGH_V 1
#define CGD_V 1
/* The group's n-th epoch: a new consumer group starts at 1, so its first member gets 2, as Kafka 4.4 */
#define EP(n) ((n) + 1)

static bh h;

static void setup(void)
{
    bh_init(&h);
    cr_assert(bh_open(&h), "open broker");
    bk_topic *t;
    const char *msg;
    cr_assert_eq(bk_topic_create(&h.br, bk_cstr("t"), 2, NULL, 0, false, &t, &msg), KW_KAFKA_NONE, "topic");
}

static void teardown(void) { bh_destroy(&h); }

TestSuite(broker_consumer_groups, .init = setup, .fini = teardown);

static const kw_uuid *topic_id(void) { return &bk_topic_find(&h.br, bk_cstr("t"))->id; }

/* What one heartbeat answered. */
typedef struct hb {
    int16_t error;
    int32_t epoch;
    int32_t interval;
    bool has_assignment;
    int32_t parts[8];      /* of topic t */
    int nparts;
} hb;

/*
 * A heartbeat of member at epoch; owned: partitions of t it reports (-1 ends the list,
 * NULL: the field null, as a heartbeat that did not change them).
 */
static hb heartbeat(bh_conn *c, const char *member, int32_t epoch, const int32_t *owned)
{
    kw_consumer_group_heartbeat_request rq;
    kw_consumer_group_heartbeat_request_init(&rq);
    rq.group_id = bk_cstr("g");
    rq.member_id = bk_cstr(member);
    rq.member_epoch = epoch;
    kw_slice topic = bk_cstr("t");
    kw_consumer_group_heartbeat_request_topic_partitions tp;
    kw_consumer_group_heartbeat_request_topic_partitions_init(&tp);
    int32_t n = 0;
    if (epoch == 0) {
        rq.rebalance_timeout_ms = 30000;
        rq.subscribed_topic_names = kw_array_of(&topic, 1);
        rq.topic_partitions = kw_array_of(NULL, 0);
    } else if (owned) {
        while (owned[n] >= 0)
            n++;
        tp.topic_id = *topic_id();
        tp.partitions = kw_array_of(owned, n);
        rq.topic_partitions = kw_array_of(&tp, n ? 1 : 0);
    }
    bh_send(&h, c, KW_API_CONSUMER_GROUP_HEARTBEAT, CGH_V, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_CONSUMER_GROUP_HEARTBEAT, CGH_V, &r), "heartbeat answered");
    cr_assert_eq(r.err, KW_OK, "heartbeat response decodes");
    const kw_consumer_group_heartbeat_response *resp = &r.msg.u.consumer_group_heartbeat_response;
    hb out;
    memset(&out, 0, sizeof out);
    out.error = resp->error_code;
    out.epoch = resp->member_epoch;
    out.interval = resp->heartbeat_interval_ms;
    out.has_assignment = resp->has_assignment;
    if (resp->has_assignment) {
        kw_array_iter it, pi;
        kw_consumer_group_heartbeat_response_topic_partitions rt;
        kw_array_iter_init(&it, &resp->assignment.topic_partitions);
        while (kw_consumer_group_heartbeat_response_topic_partitions_next(&it, &rt)) {
            cr_assert(memcmp(rt.topic_id.bytes, topic_id()->bytes, 16) == 0, "assigned by t's id");
            int32_t p;
            kw_array_iter_init(&pi, &rt.partitions);
            while (kw_array_next_i32(&pi, &p) && out.nparts < 8)
                out.parts[out.nparts++] = p;
        }
    }
    bh_resp_free(&r);
    return out;
}

static bool has(const hb *x, int32_t p)
{
    for (int i = 0; i < x->nparts; i++)
        if (x->parts[i] == p)
            return true;
    return false;
}

/* ConsumerGroupDescribe of g: its error, state, epochs and member count. */
typedef struct described {
    int16_t error;
    char state[32];
    int32_t group_epoch, assignment_epoch;
    int32_t nmembers;
} described;

static described describe(bh_conn *c, const char *group)
{
    kw_slice g = bk_cstr(group);
    kw_consumer_group_describe_request rq;
    kw_consumer_group_describe_request_init(&rq);
    rq.group_ids = kw_array_of(&g, 1);
    bh_send(&h, c, KW_API_CONSUMER_GROUP_DESCRIBE, CGD_V, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_CONSUMER_GROUP_DESCRIBE, CGD_V, &r), "describe answered");
    cr_assert_eq(r.err, KW_OK, "describe decodes");
    kw_array_iter it;
    kw_consumer_group_describe_response_described_group d;
    kw_array_iter_init(&it, &r.msg.u.consumer_group_describe_response.groups);
    cr_assert(kw_consumer_group_describe_response_described_group_next(&it, &d), "one group");
    described out;
    memset(&out, 0, sizeof out);
    out.error = d.error_code;
    snprintf(out.state, sizeof out.state, "%.*s", (int)d.group_state.len,
             d.group_state.ptr ? (const char *)d.group_state.ptr : "");
    out.group_epoch = d.group_epoch;
    out.assignment_epoch = d.assignment_epoch;
    out.nmembers = kw_array_len(&d.members);
    bh_resp_free(&r);
    return out;
}

/* bh_advance, and the same shift of the consumer groups' member clocks (it shifts the classic ones') */
static void advance(int64_t ms)
{
    for (size_t i = 0; i < h.br.ngroups; i++) {
        bk_cgroup *cg = h.br.groups[i]->consumer;
        for (size_t k = 0; cg && k < cg->nmembers; k++) {
            cg->members[k]->last_heartbeat -= ms;
            cg->members[k]->revoke_deadline -= ms;
        }
    }
    bh_advance(&h, ms);
}

static const int32_t none[] = {-1};
static const int32_t p01[] = {0, 1, -1};

Test(broker_consumer_groups, join_assignment_and_revocation_before_reassignment)
{
    bh_conn a = bh_connect(&h), b = bh_connect(&h);
    hb x = heartbeat(&a, "member-a", 0, NULL);
    cr_assert_eq(x.error, KW_KAFKA_NONE, "a joins: %d", x.error);
    cr_assert_eq(x.epoch, EP(1), "a at epoch 1, got %d", x.epoch);
    cr_assert_eq(x.interval, 5000, "heartbeat interval: group.consumer.heartbeat.interval.ms");
    cr_assert(x.has_assignment && x.nparts == 2, "a gets both partitions (%d)", x.nparts);
    x = heartbeat(&a, "member-a", EP(1), p01);
    cr_assert_eq(x.error, KW_KAFKA_NONE, "a's heartbeat");
    cr_assert_not(x.has_assignment, "no assignment when nothing changed");

    x = heartbeat(&b, "member-b", 0, NULL);
    cr_assert_eq(x.error, KW_KAFKA_NONE, "b joins");
    cr_assert_eq(x.epoch, EP(2), "b at the new group epoch 2, got %d", x.epoch);
    cr_assert(x.has_assignment && x.nparts == 0, "b gets nothing yet: a still owns its share (%d)", x.nparts);
    described d = describe(&a, "g");
    cr_assert_eq(d.error, KW_KAFKA_NONE, "describe");
    cr_assert_str_eq(d.state, "Reconciling", "reconciling");
    cr_assert_eq(d.group_epoch, EP(2), "group epoch");
    cr_assert_eq(d.assignment_epoch, EP(2), "assignment epoch");
    cr_assert_eq(d.nmembers, 2, "two members");

    /* a is told to give up one partition and stays at its epoch until it did */
    x = heartbeat(&a, "member-a", EP(1), p01);
    cr_assert_eq(x.error, KW_KAFKA_NONE, "a's heartbeat");
    cr_assert_eq(x.epoch, EP(1), "a stays at epoch 1 while revoking");
    cr_assert(x.has_assignment && x.nparts == 1, "a keeps one partition");
    int32_t kept = x.parts[0];
    x = heartbeat(&b, "member-b", EP(2), none);
    cr_assert_eq(x.error, KW_KAFKA_NONE, "b's heartbeat");
    cr_assert(!x.has_assignment || x.nparts == 0, "b still gets nothing: a has not revoked");
    x = heartbeat(&a, "member-a", EP(1), p01);
    cr_assert_eq(x.epoch, EP(1), "a still reports both: still epoch 1");

    /* a reports it revoked: it moves to epoch 2, then b gets the partition */
    int32_t only[] = {kept, -1};
    x = heartbeat(&a, "member-a", EP(1), only);
    cr_assert_eq(x.error, KW_KAFKA_NONE, "a's heartbeat");
    cr_assert_eq(x.epoch, EP(2), "a at epoch 2 once revoked, got %d", x.epoch);
    x = heartbeat(&b, "member-b", EP(2), none);
    cr_assert(x.has_assignment && x.nparts == 1 && !has(&x, kept), "b gets the revoked partition");
    x = heartbeat(&b, "member-b", EP(2), (int32_t[]){1 - kept, -1});
    cr_assert_eq(x.error, KW_KAFKA_NONE, "b's heartbeat");
    d = describe(&a, "g");
    cr_assert_str_eq(d.state, "Stable", "stable, got %s", d.state);
    bh_disconnect(&h, &a);
    bh_disconnect(&h, &b);
}

Test(broker_consumer_groups, epochs_fence_unknown_members_and_bad_requests)
{
    bh_conn a = bh_connect(&h);
    hb x = heartbeat(&a, "member-a", EP(1), p01);
    cr_assert_eq(x.error, KW_KAFKA_GROUP_ID_NOT_FOUND, "no group yet: %d", x.error);
    x = heartbeat(&a, "member-a", 0, NULL);
    cr_assert_eq(x.epoch, EP(1), "joined");
    x = heartbeat(&a, "member-a", EP(5), p01);
    cr_assert_eq(x.error, KW_KAFKA_FENCED_MEMBER_EPOCH, "an epoch ahead is fenced: %d", x.error);
    x = heartbeat(&a, "member-a", EP(1), p01);
    cr_assert_eq(x.error, KW_KAFKA_NONE, "the right epoch still works");
    x = heartbeat(&a, "member-z", EP(1), p01);
    cr_assert_eq(x.error, KW_KAFKA_UNKNOWN_MEMBER_ID, "unknown member: %d", x.error);
    x = heartbeat(&a, "", EP(1), p01);
    cr_assert_eq(x.error, KW_KAFKA_INVALID_REQUEST, "v1: an empty member id: %d", x.error);

    /* a second member joins, a revokes and moves to epoch 2; epoch 1 is then its previous one */
    bh_conn b = bh_connect(&h);
    heartbeat(&b, "member-b", 0, NULL);
    x = heartbeat(&a, "member-a", EP(1), p01);
    cr_assert_eq(x.nparts, 1, "a keeps one");
    int32_t only[] = {x.parts[0], -1};
    x = heartbeat(&a, "member-a", EP(1), only);
    cr_assert_eq(x.epoch, EP(2), "a moved to epoch 2");
    x = heartbeat(&a, "member-a", EP(1), only);
    cr_assert_eq(x.error, KW_KAFKA_NONE, "its previous epoch with partitions it has: a retry");
    x = heartbeat(&a, "member-a", EP(1), p01);
    cr_assert_eq(x.error, KW_KAFKA_FENCED_MEMBER_EPOCH, "its previous epoch owning more: fenced (%d)", x.error);
    x = heartbeat(&a, "member-a", 0, NULL);
    cr_assert_eq(x.error, KW_KAFKA_NONE, "a fenced member rejoins with epoch 0");
    cr_assert_eq(x.epoch, EP(2), "at the current epoch");
    bh_disconnect(&h, &a);
    bh_disconnect(&h, &b);
}

Test(broker_consumer_groups, session_expiry_and_leave)
{
    h.br.cfg.consumer_session_timeout_ms = 1000;
    bh_conn a = bh_connect(&h), b = bh_connect(&h);
    heartbeat(&a, "member-a", 0, NULL);
    heartbeat(&a, "member-a", EP(1), p01);
    hb x = heartbeat(&b, "member-b", 0, NULL);
    cr_assert_eq(x.epoch, EP(2), "b joined");
    /* a stops heartbeating: after its session timeout it is removed and b gets everything */
    hb last = x;
    for (int i = 0; i < 4 && describe(&b, "g").nmembers == 2; i++) {
        advance(400);
        x = heartbeat(&b, "member-b", x.epoch, none);
        cr_assert_eq(x.error, KW_KAFKA_NONE, "b's heartbeat");
        if (x.has_assignment)
            last = x;
        cr_assert(i < 2 || describe(&b, "g").nmembers == 1, "a removed once 1000 ms passed");
    }
    cr_assert_eq(describe(&b, "g").nmembers, 1, "a was removed");
    cr_assert_eq(x.epoch, EP(3), "a new group epoch, got %d", x.epoch);
    cr_assert(last.has_assignment && last.nparts == 2, "b has both partitions (%d)", last.nparts);
    x = heartbeat(&a, "member-a", EP(1), p01);
    cr_assert_eq(x.error, KW_KAFKA_UNKNOWN_MEMBER_ID, "a is gone: %d", x.error);

    x = heartbeat(&b, "member-b", -1, NULL);
    cr_assert_eq(x.error, KW_KAFKA_NONE, "b leaves");
    cr_assert_eq(x.epoch, -1, "leave answered with epoch -1");
    described d = describe(&b, "g");
    cr_assert(d.error == KW_KAFKA_GROUP_ID_NOT_FOUND || strcmp(d.state, "Empty") == 0, "empty or gone");
    x = heartbeat(&b, "member-b", EP(3), p01);
    cr_assert_neq(x.error, KW_KAFKA_NONE, "b is gone");
    bh_disconnect(&h, &a);
    bh_disconnect(&h, &b);
}

Test(broker_consumer_groups, a_subscribed_topic_that_grows_is_assigned_again)
{
    bh_conn a = bh_connect(&h);
    hb x = heartbeat(&a, "member-a", 0, NULL);
    cr_assert_eq(x.nparts, 2, "two partitions");
    x = heartbeat(&a, "member-a", x.epoch, p01);
    cr_assert_not(x.has_assignment, "nothing new");
    const char *msg;
    cr_assert_eq(bk_topic_add_partitions(&h.br, bk_topic_find(&h.br, bk_cstr("t")), 4, false, &msg),
                 KW_KAFKA_NONE, "t grows to 4");
    x = heartbeat(&a, "member-a", x.epoch, NULL);
    cr_assert_eq(x.error, KW_KAFKA_NONE, "heartbeat");
    cr_assert_eq(x.epoch, EP(2), "a new group epoch for the new partitions, got %d", x.epoch);
    cr_assert(x.has_assignment && x.nparts == 4, "all four assigned (%d)", x.nparts);
    bh_disconnect(&h, &a);
}

static int16_t commit_v9(bh_conn *c, const char *member, int32_t epoch, int64_t offset)
{
    kw_offset_commit_request_offset_commit_request_partition p;
    kw_offset_commit_request_offset_commit_request_partition_init(&p);
    p.partition_index = 0;
    p.committed_offset = offset;
    kw_offset_commit_request_offset_commit_request_topic t;
    kw_offset_commit_request_offset_commit_request_topic_init(&t);
    t.name = bk_cstr("t");
    t.partitions = kw_array_of(&p, 1);
    kw_offset_commit_request rq;
    kw_offset_commit_request_init(&rq);
    rq.group_id = bk_cstr("g");
    rq.generation_id_or_member_epoch = epoch;
    rq.member_id = bk_cstr(member);
    rq.topics = kw_array_of(&t, 1);
    bh_send(&h, c, KW_API_OFFSET_COMMIT, 9, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_OFFSET_COMMIT, 9, &r), "commit answered");
    cr_assert_eq(r.err, KW_OK, "commit decodes");
    kw_array_iter ti, pi;
    kw_offset_commit_response_offset_commit_response_topic rt;
    kw_offset_commit_response_offset_commit_response_partition rp;
    kw_array_iter_init(&ti, &r.msg.u.offset_commit_response.topics);
    cr_assert(kw_offset_commit_response_offset_commit_response_topic_next(&ti, &rt), "topic");
    kw_array_iter_init(&pi, &rt.partitions);
    cr_assert(kw_offset_commit_response_offset_commit_response_partition_next(&pi, &rp), "partition");
    bh_resp_free(&r);
    return rp.error_code;
}

/* OffsetFetch v9 of t-0 as member at epoch: the group's error, *offset the committed one. */
static int16_t fetch_v9(bh_conn *c, const char *member, int32_t epoch, int64_t *offset)
{
    int32_t part = 0;
    kw_offset_fetch_request_offset_fetch_request_topics t;
    kw_offset_fetch_request_offset_fetch_request_topics_init(&t);
    t.name = bk_cstr("t");
    t.partition_indexes = kw_array_of(&part, 1);
    kw_offset_fetch_request_offset_fetch_request_group g;
    kw_offset_fetch_request_offset_fetch_request_group_init(&g);
    g.group_id = bk_cstr("g");
    g.member_id = member ? bk_cstr(member) : (kw_slice){NULL, 0};
    g.member_epoch = epoch;
    g.topics = kw_array_of(&t, 1);
    kw_offset_fetch_request rq;
    kw_offset_fetch_request_init(&rq);
    rq.groups = kw_array_of(&g, 1);
    bh_send(&h, c, KW_API_OFFSET_FETCH, 9, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_OFFSET_FETCH, 9, &r), "offset fetch answered");
    cr_assert_eq(r.err, KW_OK, "offset fetch decodes");
    kw_array_iter gi, ti, pi;
    kw_offset_fetch_response_offset_fetch_response_group rg;
    kw_array_iter_init(&gi, &r.msg.u.offset_fetch_response.groups);
    cr_assert(kw_offset_fetch_response_offset_fetch_response_group_next(&gi, &rg), "group");
    *offset = -2;
    kw_offset_fetch_response_offset_fetch_response_topics rt;
    kw_offset_fetch_response_offset_fetch_response_partitions rp;
    kw_array_iter_init(&ti, &rg.topics);
    if (kw_offset_fetch_response_offset_fetch_response_topics_next(&ti, &rt)) {
        kw_array_iter_init(&pi, &rt.partitions);
        if (kw_offset_fetch_response_offset_fetch_response_partitions_next(&pi, &rp))
            *offset = rp.committed_offset;
    }
    int16_t e = rg.error_code;
    bh_resp_free(&r);
    return e;
}

Test(broker_consumer_groups, offsets_with_member_epochs_and_listing)
{
    bh_conn a = bh_connect(&h);
    hb x = heartbeat(&a, "member-a", 0, NULL);
    cr_assert_eq(commit_v9(&a, "member-a", x.epoch, 42), KW_KAFKA_NONE, "commit at the member epoch");
    cr_assert_eq(commit_v9(&a, "member-a", x.epoch + 1, 43), KW_KAFKA_STALE_MEMBER_EPOCH, "another epoch: stale");
    cr_assert_eq(commit_v9(&a, "member-z", x.epoch, 43), KW_KAFKA_UNKNOWN_MEMBER_ID, "unknown member");
    cr_assert_eq(commit_v9(&a, "", -1, 43), KW_KAFKA_UNKNOWN_MEMBER_ID, "an admin commit with members present");
    int64_t off;
    cr_assert_eq(fetch_v9(&a, "member-a", x.epoch, &off), KW_KAFKA_NONE, "fetch as the member");
    cr_assert_eq(off, 42, "the committed offset, got %lld", (long long)off);
    cr_assert_eq(fetch_v9(&a, "member-a", x.epoch + 3, &off), KW_KAFKA_STALE_MEMBER_EPOCH, "stale epoch");
    cr_assert_eq(fetch_v9(&a, "member-z", x.epoch, &off), KW_KAFKA_UNKNOWN_MEMBER_ID, "unknown member");
    cr_assert_eq(fetch_v9(&a, NULL, -1, &off), KW_KAFKA_NONE, "an admin's fetch");
    cr_assert_eq(off, 42, "the committed offset");

    /* ListGroups reports it as a consumer group */
    kw_slice consumer = bk_cstr("consumer");
    kw_list_groups_request lq;
    kw_list_groups_request_init(&lq);
    lq.types_filter = kw_array_of(&consumer, 1);
    bh_send(&h, &a, KW_API_LIST_GROUPS, 5, &lq);
    bh_resp r;
    cr_assert(bh_recv(&h, &a, KW_API_LIST_GROUPS, 5, &r), "list answered");
    kw_array_iter it;
    kw_list_groups_response_listed_group lg;
    kw_array_iter_init(&it, &r.msg.u.list_groups_response.groups);
    cr_assert(kw_list_groups_response_listed_group_next(&it, &lg), "one group");
    cr_assert(bk_slice_eqs(lg.group_id, "g") && bk_slice_eqs(lg.group_type, "consumer") &&
              bk_slice_eqs(lg.protocol_type, "consumer") && bk_slice_eqs(lg.group_state, "Stable"),
              "g, consumer, Stable");
    bh_resp_free(&r);
    /* a classic JoinGroup cannot enter it */
    kw_join_group_request jq;
    kw_join_group_request_init(&jq);
    jq.group_id = bk_cstr("g");
    jq.session_timeout_ms = 10000;
    jq.rebalance_timeout_ms = 10000;
    jq.member_id = bk_cstr("");
    jq.protocol_type = bk_cstr("consumer");
    kw_join_group_request_join_group_request_protocol p;
    kw_join_group_request_join_group_request_protocol_init(&p);
    p.name = bk_cstr("range");
    p.metadata = bk_cstr("");
    jq.protocols = kw_array_of(&p, 1);
    bh_send(&h, &a, KW_API_JOIN_GROUP, 5, &jq);
    cr_assert(bh_recv(&h, &a, KW_API_JOIN_GROUP, 5, &r), "join answered");
    cr_assert_eq(r.msg.u.join_group_response.error_code, KW_KAFKA_INCONSISTENT_GROUP_PROTOCOL, "join refused");
    bh_resp_free(&r);
    described d = describe(&a, "nope");
    cr_assert_eq(d.error, KW_KAFKA_GROUP_ID_NOT_FOUND, "describe of an unknown group");
    bh_disconnect(&h, &a);
}

/* DeleteRecords of t-1 to offset: the partition's error and low watermark. */
static int16_t delete_records(bh_conn *c, int64_t offset, int64_t *low)
{
    kw_delete_records_request_delete_records_partition p;
    kw_delete_records_request_delete_records_partition_init(&p);
    p.partition_index = 1;
    p.offset = offset;
    kw_delete_records_request_delete_records_topic t;
    kw_delete_records_request_delete_records_topic_init(&t);
    t.name = bk_cstr("t");
    t.partitions = kw_array_of(&p, 1);
    kw_delete_records_request rq;
    kw_delete_records_request_init(&rq);
    rq.topics = kw_array_of(&t, 1);
    rq.timeout_ms = 1000;
    bh_send(&h, c, KW_API_DELETE_RECORDS, 2, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_DELETE_RECORDS, 2, &r), "delete records answered");
    cr_assert_eq(r.err, KW_OK, "decodes");
    kw_array_iter ti, pi;
    kw_delete_records_response_delete_records_topic_result rt;
    kw_delete_records_response_delete_records_partition_result rp;
    kw_array_iter_init(&ti, &r.msg.u.delete_records_response.topics);
    cr_assert(kw_delete_records_response_delete_records_topic_result_next(&ti, &rt), "topic");
    kw_array_iter_init(&pi, &rt.partitions);
    cr_assert(kw_delete_records_response_delete_records_partition_result_next(&pi, &rp), "partition");
    *low = rp.low_watermark;
    bh_resp_free(&r);
    return rp.error_code;
}

/* Fetch v11 of t-1 at offset: the partition's error, *start its log start offset. */
static int16_t fetch_at(bh_conn *c, int64_t offset, int64_t *start, size_t *bytes)
{
    kw_fetch_request_fetch_partition fp;
    kw_fetch_request_fetch_partition_init(&fp);
    fp.partition = 1;
    fp.fetch_offset = offset;
    fp.partition_max_bytes = 1 << 20;
    kw_fetch_request_fetch_topic ft;
    kw_fetch_request_fetch_topic_init(&ft);
    ft.topic = bk_cstr("t");
    ft.partitions = kw_array_of(&fp, 1);
    kw_fetch_request rq;
    kw_fetch_request_init(&rq);
    rq.max_wait_ms = 0;
    rq.min_bytes = 0;
    rq.max_bytes = 1 << 20;
    rq.topics = kw_array_of(&ft, 1);
    rq.forgotten_topics_data = kw_array_of(NULL, 0);
    rq.rack_id = bk_cstr("");
    bh_send(&h, c, KW_API_FETCH, 11, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_FETCH, 11, &r), "fetch answered");
    cr_assert_eq(r.err, KW_OK, "fetch decodes");
    kw_array_iter ti, pi;
    kw_fetch_response_fetchable_topic_response rt;
    kw_fetch_response_partition_data pd;
    kw_array_iter_init(&ti, &r.msg.u.fetch_response.responses);
    cr_assert(kw_fetch_response_fetchable_topic_response_next(&ti, &rt), "topic");
    kw_array_iter_init(&pi, &rt.partitions);
    cr_assert(kw_fetch_response_partition_data_next(&pi, &pd), "partition");
    *start = pd.log_start_offset;
    *bytes = pd.records.bytes.len;
    bh_resp_free(&r);
    return pd.error_code;
}

/* ListOffsets of t-1 for timestamp ts (-2: earliest): the offset. */
static int64_t list_offset(bh_conn *c, int64_t ts)
{
    kw_list_offsets_request_list_offsets_partition lp;
    kw_list_offsets_request_list_offsets_partition_init(&lp);
    lp.partition_index = 1;
    lp.timestamp = ts;
    kw_list_offsets_request_list_offsets_topic lt;
    kw_list_offsets_request_list_offsets_topic_init(&lt);
    lt.name = bk_cstr("t");
    lt.partitions = kw_array_of(&lp, 1);
    kw_list_offsets_request rq;
    kw_list_offsets_request_init(&rq);
    rq.topics = kw_array_of(&lt, 1);
    bh_send(&h, c, KW_API_LIST_OFFSETS, 7, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_LIST_OFFSETS, 7, &r), "list offsets answered");
    kw_array_iter ti, pi;
    kw_list_offsets_response_list_offsets_topic_response rt;
    kw_list_offsets_response_list_offsets_partition_response rp;
    kw_array_iter_init(&ti, &r.msg.u.list_offsets_response.topics);
    cr_assert(kw_list_offsets_response_list_offsets_topic_response_next(&ti, &rt), "topic");
    kw_array_iter_init(&pi, &rt.partitions);
    cr_assert(kw_list_offsets_response_list_offsets_partition_response_next(&pi, &rp), "partition");
    int64_t off = rp.offset;
    bh_resp_free(&r);
    return off;
}

Test(broker_consumer_groups, delete_records_moves_the_log_start_across_a_restart)
{
    bk_log *log = &bk_partition_find(&h.br, bk_cstr("t"), 1)->log;
    for (int i = 0; i < 4; i++) {
        size_t len;
        uint8_t *b = bh_batch(3, -1, -1, -1, &len);
        cr_assert_eq(bk_log_append(log, b, len, 0), 0, "append");
        free(b);
    }
    cr_assert_eq(log->end, 12, "12 records");
    bh_conn c = bh_connect(&h);
    int64_t low, start;
    size_t bytes;
    cr_assert_eq(delete_records(&c, 7, &low), KW_KAFKA_NONE, "delete below 7");
    cr_assert_eq(low, 7, "low watermark 7, got %lld", (long long)low);
    cr_assert_eq(fetch_at(&c, 3, &start, &bytes), KW_KAFKA_OFFSET_OUT_OF_RANGE, "fetch below the start");
    cr_assert_eq(fetch_at(&c, 7, &start, &bytes), KW_KAFKA_NONE, "fetch at the start");
    cr_assert_eq(start, 7, "log start offset reported: %lld", (long long)start);
    cr_assert_gt(bytes, 0, "records from the start on");
    cr_assert_eq(list_offset(&c, -2), 7, "ListOffsets earliest");
    cr_assert_eq(list_offset(&c, 0), 7, "ListOffsets by timestamp: nothing below the start");
    cr_assert_eq(delete_records(&c, 13, &low), KW_KAFKA_OFFSET_OUT_OF_RANGE, "past the high watermark");
    cr_assert_eq(low, -1, "no low watermark with the error");
    cr_assert_eq(delete_records(&c, 5, &low), KW_KAFKA_NONE, "an offset below the start");
    cr_assert_eq(low, 7, "the start does not move back");
    bh_disconnect(&h, &c);

    bh_close(&h);
    cr_assert(bh_open(&h), "reopen");
    c = bh_connect(&h);
    cr_assert_eq(list_offset(&c, -2), 7, "the log start offset survived the restart");
    cr_assert_eq(fetch_at(&c, 6, &start, &bytes), KW_KAFKA_OFFSET_OUT_OF_RANGE, "still out of range");
    cr_assert_eq(delete_records(&c, -1, &low), KW_KAFKA_NONE, "-1: up to the high watermark");
    cr_assert_eq(low, 12, "low watermark 12");
    cr_assert_eq(fetch_at(&c, 12, &start, &bytes), KW_KAFKA_NONE, "fetch at the end");
    cr_assert_eq(start, 12, "start 12");
    bh_disconnect(&h, &c);
}
