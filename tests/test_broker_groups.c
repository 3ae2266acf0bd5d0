/*
 * kwire-broker group coordinator, driven through the broker's connection
 * handler with real request frames: MEMBER_ID_REQUIRED, joins parked until
 * the rebalance completes, the leader's assignment reaching a parked
 * follower, heartbeat and commit generation checks, session timeouts,
 * leaving, deleting, and committed offsets across a restart.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_harness.h"

#define JOIN_V 5
#define SYNC_V 3
#define HB_V 3
#define COMMIT_V 7
#define OFETCH_V 7

static bh h;

static void setup(void)
{
    bh_init(&h);
    cr_assert(bh_open(&h), "open broker");
    bk_topic *t;
    const char *msg;
    cr_assert_eq(bk_topic_create(&h.br, bk_cstr("t"), 2, NULL, 0, false, &t, &msg), BK_NONE, "topic");
}

static void teardown(void) { bh_destroy(&h); }

TestSuite(broker_groups, .init = setup, .fini = teardown);

static void send_join(bh_conn *c, const char *member_id, const char *meta)
{
    kw_join_group_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group_id = bk_cstr("g");
    rq.session_timeout_ms = 10000;
    rq.rebalance_timeout_ms = 20000;
    rq.member_id = bk_cstr(member_id);
    rq.group_instance_id = (kw_slice){NULL, 0};
    rq.protocol_type = bk_cstr("consumer");
    kw_join_group_request_join_group_request_protocol p;
    memset(&p, 0, sizeof p);
    p.name = bk_cstr("range");
    p.metadata = bk_cstr(meta);
    rq.protocols = kw_array_of(&p, 1);
    bh_send(&h, c, KW_API_JOIN_GROUP, JOIN_V, &rq);
}

static bool recv_join(bh_conn *c, kw_join_group_response *out, bh_resp *r)
{
    if (!bh_recv(&h, c, KW_API_JOIN_GROUP, JOIN_V, r))
        return false;
    cr_assert_eq(r->err, KW_OK, "JoinGroup response decodes");
    *out = r->msg.u.join_group_response;
    return true;
}

static char *join_new_member(bh_conn *c, const char *meta)
{
    kw_join_group_response jr;
    bh_resp r;
    send_join(c, "", meta);
    cr_assert(recv_join(c, &jr, &r), "first join answered");
    cr_assert_eq(jr.error_code, BK_MEMBER_ID_REQUIRED, "v4+: MEMBER_ID_REQUIRED, got %d", jr.error_code);
    cr_assert_gt(jr.member_id.len, 0, "with a member id");
    char *id = bk_strndup(jr.member_id.ptr, jr.member_id.len);
    bh_resp_free(&r);
    return id;
}

static int16_t heartbeat(bh_conn *c, const char *member, int32_t generation)
{
    kw_heartbeat_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group_id = bk_cstr("g");
    rq.generation_id = generation;
    rq.member_id = bk_cstr(member);
    bh_send(&h, c, KW_API_HEARTBEAT, HB_V, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_HEARTBEAT, HB_V, &r), "heartbeat answered");
    int16_t e = r.msg.u.heartbeat_response.error_code;
    bh_resp_free(&r);
    return e;
}

static void send_sync(bh_conn *c, const char *member, int32_t generation,
                      const kw_sync_group_request_sync_group_request_assignment *as, int32_t n)
{
    kw_sync_group_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group_id = bk_cstr("g");
    rq.generation_id = generation;
    rq.member_id = bk_cstr(member);
    rq.assignments = kw_array_of(as, n);
    bh_send(&h, c, KW_API_SYNC_GROUP, SYNC_V, &rq);
}

static int16_t commit(bh_conn *c, const char *member, int32_t generation, int64_t offset)
{
    kw_offset_commit_request_offset_commit_request_partition p;
    memset(&p, 0, sizeof p);
    p.partition_index = 1;
    p.committed_offset = offset;
    p.committed_leader_epoch = -1;
    p.committed_metadata = bk_cstr("meta");
    kw_offset_commit_request_offset_commit_request_topic t;
    memset(&t, 0, sizeof t);
    t.name = bk_cstr("t");
    t.partitions = kw_array_of(&p, 1);
    kw_offset_commit_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group_id = bk_cstr("g");
    rq.generation_id_or_member_epoch = generation;
    rq.member_id = bk_cstr(member);
    rq.group_instance_id = (kw_slice){NULL, 0};
    rq.topics = kw_array_of(&t, 1);
    bh_send(&h, c, KW_API_OFFSET_COMMIT, COMMIT_V, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_OFFSET_COMMIT, COMMIT_V, &r), "commit answered");
    cr_assert_eq(r.err, KW_OK, "commit response decodes");
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

static int64_t fetch_offset(bh_conn *c)
{
    int32_t part = 1;
    kw_offset_fetch_request_offset_fetch_request_topic t;
    memset(&t, 0, sizeof t);
    t.name = bk_cstr("t");
    t.partition_indexes = kw_array_of(&part, 1);
    kw_offset_fetch_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group_id = bk_cstr("g");
    rq.topics = kw_array_of(&t, 1);
    rq.groups = kw_array_of(NULL, 0);
    bh_send(&h, c, KW_API_OFFSET_FETCH, OFETCH_V, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_OFFSET_FETCH, OFETCH_V, &r), "offset fetch answered");
    cr_assert_eq(r.err, KW_OK, "offset fetch decodes");
    kw_array_iter ti, pi;
    kw_offset_fetch_response_offset_fetch_response_topic rt;
    kw_offset_fetch_response_offset_fetch_response_partition rp;
    kw_array_iter_init(&ti, &r.msg.u.offset_fetch_response.topics);
    cr_assert(kw_offset_fetch_response_offset_fetch_response_topic_next(&ti, &rt), "topic");
    kw_array_iter_init(&pi, &rt.partitions);
    cr_assert(kw_offset_fetch_response_offset_fetch_response_partition_next(&pi, &rp), "partition");
    int64_t off = rp.committed_offset;
    bh_resp_free(&r);
    return off;
}

static const char *describe_state(bh_conn *c)
{
    static char state[64];
    kw_slice g = bk_cstr("g");
    kw_describe_groups_request rq;
    memset(&rq, 0, sizeof rq);
    rq.groups = kw_array_of(&g, 1);
    bh_send(&h, c, KW_API_DESCRIBE_GROUPS, 4, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_DESCRIBE_GROUPS, 4, &r), "describe answered");
    kw_array_iter it;
    kw_describe_groups_response_described_group d;
    kw_array_iter_init(&it, &r.msg.u.describe_groups_response.groups);
    cr_assert(kw_describe_groups_response_described_group_next(&it, &d), "one group");
    snprintf(state, sizeof state, "%.*s", (int)d.group_state.len, (const char *)d.group_state.ptr);
    bh_resp_free(&r);
    return state;
}

Test(broker_groups, rebalance_sync_heartbeat_commit)
{
    bh_conn a = bh_connect(&h), b = bh_connect(&h), x = bh_connect(&h);
    char *ida = join_new_member(&a, "A");
    kw_join_group_response jr;
    bh_resp r;
    send_join(&a, ida, "A");
    cr_assert(recv_join(&a, &jr, &r), "a lone member's join completes at once (no initial delay)");
    cr_assert_eq(jr.error_code, BK_NONE, "join error %d", jr.error_code);
    cr_assert_eq(jr.generation_id, 1, "generation 1");
    cr_assert(bk_slice_eqs(jr.leader, ida), "A leads");
    cr_assert(bk_slice_eqs(jr.protocol_name, "range"), "protocol");
    cr_assert_eq(kw_array_len(&jr.members), 1, "the leader sees the members");
    bh_resp_free(&r);

    kw_sync_group_request_sync_group_request_assignment as[2];
    memset(as, 0, sizeof as);
    as[0].member_id = bk_cstr(ida);
    as[0].assignment = bk_cstr("for-A");
    send_sync(&a, ida, 1, as, 1);
    cr_assert(bh_recv(&h, &a, KW_API_SYNC_GROUP, SYNC_V, &r), "leader's sync answered");
    cr_assert_eq(r.msg.u.sync_group_response.error_code, BK_NONE, "sync");
    cr_assert(bk_slice_eqs(r.msg.u.sync_group_response.assignment, "for-A"), "assignment");
    bh_resp_free(&r);
    cr_assert_str_eq(describe_state(&x), "Stable", "stable");

    cr_assert_eq(heartbeat(&a, ida, 1), BK_NONE, "heartbeat");
    cr_assert_eq(heartbeat(&a, ida, 0), BK_ILLEGAL_GENERATION, "stale generation");
    cr_assert_eq(heartbeat(&a, "nobody", 1), BK_UNKNOWN_MEMBER_ID, "unknown member");
    cr_assert_eq(commit(&a, ida, 1, 17), BK_NONE, "commit in generation 1");

    /* B joins: the group prepares a rebalance, B's join waits for A */
    char *idb = join_new_member(&b, "B");
    send_join(&b, idb, "B");
    cr_assert_not(bh_recv(&h, &b, KW_API_JOIN_GROUP, JOIN_V, &r), "B's join is parked");
    cr_assert_str_eq(describe_state(&x), "PreparingRebalance", "preparing");
    cr_assert_eq(heartbeat(&a, ida, 1), BK_REBALANCE_IN_PROGRESS, "A is told to rejoin");
    send_join(&a, ida, "A");
    cr_assert(recv_join(&a, &jr, &r), "A's rejoin completes the rebalance");
    cr_assert_eq(jr.generation_id, 2, "generation 2");
    cr_assert_eq(kw_array_len(&jr.members), 2, "leader sees both");
    bh_resp_free(&r);
    cr_assert(recv_join(&b, &jr, &r), "B's parked join is answered");
    cr_assert_eq(jr.error_code, BK_NONE, "B join error %d", jr.error_code);
    cr_assert_eq(jr.generation_id, 2, "B generation 2");
    cr_assert(bk_slice_eqs(jr.member_id, idb), "B's id");
    cr_assert_eq(kw_array_len(&jr.members), 0, "a follower sees no members");
    bh_resp_free(&r);
    cr_assert_str_eq(describe_state(&x), "CompletingRebalance", "completing");
    cr_assert_eq(commit(&a, ida, 2, 18), BK_REBALANCE_IN_PROGRESS, "no commits while completing");

    send_sync(&b, idb, 2, NULL, 0);
    cr_assert_not(bh_recv(&h, &b, KW_API_SYNC_GROUP, SYNC_V, &r), "B's sync waits for the leader");
    as[1].member_id = bk_cstr(idb);
    as[1].assignment = bk_cstr("for-B");
    send_sync(&a, ida, 2, as, 2);
    cr_assert(bh_recv(&h, &a, KW_API_SYNC_GROUP, SYNC_V, &r), "leader sync");
    bh_resp_free(&r);
    cr_assert(bh_recv(&h, &b, KW_API_SYNC_GROUP, SYNC_V, &r), "B's parked sync answered");
    cr_assert_eq(r.msg.u.sync_group_response.error_code, BK_NONE, "B sync");
    cr_assert(bk_slice_eqs(r.msg.u.sync_group_response.assignment, "for-B"), "B's assignment");
    bh_resp_free(&r);

    cr_assert_eq(commit(&a, ida, 1, 19), BK_ILLEGAL_GENERATION, "commit from an old generation");
    cr_assert_eq(commit(&a, "", -1, 19), BK_UNKNOWN_MEMBER_ID, "anonymous commit to a live group");
    cr_assert_eq(commit(&b, idb, 2, 20), BK_NONE, "commit in generation 2");
    cr_assert_eq(fetch_offset(&x), 20, "committed offset");

    /* B leaves; then A's session runs out */
    kw_leave_group_request_member_identity mi;
    memset(&mi, 0, sizeof mi);
    mi.member_id = bk_cstr(idb);
    kw_leave_group_request lq;
    memset(&lq, 0, sizeof lq);
    lq.group_id = bk_cstr("g");
    lq.members = kw_array_of(&mi, 1);
    bh_send(&h, &b, KW_API_LEAVE_GROUP, 3, &lq);
    cr_assert(bh_recv(&h, &b, KW_API_LEAVE_GROUP, 3, &r), "leave answered");
    cr_assert_eq(r.msg.u.leave_group_response.error_code, BK_NONE, "leave");
    bh_resp_free(&r);
    cr_assert_str_eq(describe_state(&x), "PreparingRebalance", "rebalance after the leave");
    bh_advance(&h, 25000);
    cr_assert_str_eq(describe_state(&x), "Empty", "A timed out: empty");
    cr_assert_eq(heartbeat(&a, ida, 3), BK_UNKNOWN_MEMBER_ID, "A is gone");
    cr_assert_eq(commit(&x, "", -1, 21), BK_NONE, "a simple commit to an empty group");

    free(ida);
    free(idb);
    bh_disconnect(&h, &a);
    bh_disconnect(&h, &b);
    bh_disconnect(&h, &x);

    /* committed offsets survive a restart; a deleted group's do not */
    bh_close(&h);
    cr_assert(bh_open(&h), "reopen");
    bh_conn y = bh_connect(&h);
    cr_assert_eq(fetch_offset(&y), 21, "offset after restart");
    kw_slice g = bk_cstr("g");
    kw_delete_groups_request dq;
    memset(&dq, 0, sizeof dq);
    dq.groups_names = kw_array_of(&g, 1);
    bh_send(&h, &y, KW_API_DELETE_GROUPS, 2, &dq);
    cr_assert(bh_recv(&h, &y, KW_API_DELETE_GROUPS, 2, &r), "delete answered");
    bh_resp_free(&r);
    cr_assert_eq(fetch_offset(&y), -1, "no offset once deleted");
    bh_disconnect(&h, &y);
    bh_close(&h);
    cr_assert(bh_open(&h), "reopen again");
    y = bh_connect(&h);
    cr_assert_eq(fetch_offset(&y), -1, "still deleted after restart");
    bh_disconnect(&h, &y);
}

Test(broker_groups, rebalance_timeout_removes_members_that_do_not_rejoin)
{
    bh_conn a = bh_connect(&h), b = bh_connect(&h);
    kw_join_group_response jr;
    bh_resp r;
    char *ida = join_new_member(&a, "A");
    send_join(&a, ida, "A");
    cr_assert(recv_join(&a, &jr, &r), "A joined");
    bh_resp_free(&r);
    char *idb = join_new_member(&b, "B");
    send_join(&b, idb, "B");
    cr_assert_not(bh_recv(&h, &b, KW_API_JOIN_GROUP, JOIN_V, &r), "B waits for A");
    /* A never rejoins: after the rebalance timeout B goes on alone */
    bh_advance(&h, 21000);
    cr_assert(recv_join(&b, &jr, &r), "B answered after the rebalance timeout");
    cr_assert_eq(jr.error_code, BK_NONE, "join error %d", jr.error_code);
    cr_assert_eq(jr.generation_id, 2, "generation 2");
    cr_assert(bk_slice_eqs(jr.leader, idb), "B leads now");
    cr_assert_eq(kw_array_len(&jr.members), 1, "A was removed");
    bh_resp_free(&r);
    free(ida);
    free(idb);
    bh_disconnect(&h, &a);
    bh_disconnect(&h, &b);
}

Test(broker_groups, a_closed_connection_does_not_leave_a_dangling_join)
{
    bh_conn a = bh_connect(&h), b = bh_connect(&h);
    kw_join_group_response jr;
    bh_resp r;
    char *ida = join_new_member(&a, "A");
    send_join(&a, ida, "A");
    cr_assert(recv_join(&a, &jr, &r), "A joined");
    bh_resp_free(&r);
    char *idb = join_new_member(&b, "B");
    send_join(&b, idb, "B");
    bh_disconnect(&h, &b); /* B's parked join loses its connection */
    send_join(&a, ida, "A");
    cr_assert(recv_join(&a, &jr, &r), "A's rejoin completes");
    cr_assert_eq(kw_array_len(&jr.members), 2, "B is still a member until it times out");
    bh_resp_free(&r);
    free(ida);
    free(idb);
    bh_disconnect(&h, &a);
}
