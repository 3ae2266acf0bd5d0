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
#include "batch.h"
#include "groups.h"
#include "log.h"
#include "offsets.h"

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
    cr_assert_eq(bk_topic_create(&h.br, bk_cstr("t"), 2, NULL, 0, false, &t, &msg), KW_KAFKA_NONE, "topic");
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
    cr_assert_eq(jr.error_code, KW_KAFKA_MEMBER_ID_REQUIRED, "v4+: MEMBER_ID_REQUIRED, got %d", jr.error_code);
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
    cr_assert_eq(jr.error_code, KW_KAFKA_NONE, "join error %d", jr.error_code);
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
    cr_assert_eq(r.msg.u.sync_group_response.error_code, KW_KAFKA_NONE, "sync");
    cr_assert(bk_slice_eqs(r.msg.u.sync_group_response.assignment, "for-A"), "assignment");
    bh_resp_free(&r);
    cr_assert_str_eq(describe_state(&x), "Stable", "stable");

    cr_assert_eq(heartbeat(&a, ida, 1), KW_KAFKA_NONE, "heartbeat");
    cr_assert_eq(heartbeat(&a, ida, 0), KW_KAFKA_ILLEGAL_GENERATION, "stale generation");
    cr_assert_eq(heartbeat(&a, "nobody", 1), KW_KAFKA_UNKNOWN_MEMBER_ID, "unknown member");
    cr_assert_eq(commit(&a, ida, 1, 17), KW_KAFKA_NONE, "commit in generation 1");

    /* B joins: the group prepares a rebalance, B's join waits for A */
    char *idb = join_new_member(&b, "B");
    send_join(&b, idb, "B");
    cr_assert_not(bh_recv(&h, &b, KW_API_JOIN_GROUP, JOIN_V, &r), "B's join is parked");
    cr_assert_str_eq(describe_state(&x), "PreparingRebalance", "preparing");
    cr_assert_eq(heartbeat(&a, ida, 1), KW_KAFKA_REBALANCE_IN_PROGRESS, "A is told to rejoin");
    send_join(&a, ida, "A");
    cr_assert(recv_join(&a, &jr, &r), "A's rejoin completes the rebalance");
    cr_assert_eq(jr.generation_id, 2, "generation 2");
    cr_assert_eq(kw_array_len(&jr.members), 2, "leader sees both");
    bh_resp_free(&r);
    cr_assert(recv_join(&b, &jr, &r), "B's parked join is answered");
    cr_assert_eq(jr.error_code, KW_KAFKA_NONE, "B join error %d", jr.error_code);
    cr_assert_eq(jr.generation_id, 2, "B generation 2");
    cr_assert(bk_slice_eqs(jr.member_id, idb), "B's id");
    cr_assert_eq(kw_array_len(&jr.members), 0, "a follower sees no members");
    bh_resp_free(&r);
    cr_assert_str_eq(describe_state(&x), "CompletingRebalance", "completing");
    cr_assert_eq(commit(&a, ida, 2, 18), KW_KAFKA_REBALANCE_IN_PROGRESS, "no commits while completing");

    send_sync(&b, idb, 2, NULL, 0);
    cr_assert_not(bh_recv(&h, &b, KW_API_SYNC_GROUP, SYNC_V, &r), "B's sync waits for the leader");
    as[1].member_id = bk_cstr(idb);
    as[1].assignment = bk_cstr("for-B");
    send_sync(&a, ida, 2, as, 2);
    cr_assert(bh_recv(&h, &a, KW_API_SYNC_GROUP, SYNC_V, &r), "leader sync");
    bh_resp_free(&r);
    cr_assert(bh_recv(&h, &b, KW_API_SYNC_GROUP, SYNC_V, &r), "B's parked sync answered");
    cr_assert_eq(r.msg.u.sync_group_response.error_code, KW_KAFKA_NONE, "B sync");
    cr_assert(bk_slice_eqs(r.msg.u.sync_group_response.assignment, "for-B"), "B's assignment");
    bh_resp_free(&r);

    cr_assert_eq(commit(&a, ida, 1, 19), KW_KAFKA_ILLEGAL_GENERATION, "commit from an old generation");
    cr_assert_eq(commit(&a, "", -1, 19), KW_KAFKA_UNKNOWN_MEMBER_ID, "anonymous commit to a live group");
    cr_assert_eq(commit(&b, idb, 2, 20), KW_KAFKA_NONE, "commit in generation 2");
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
    cr_assert_eq(r.msg.u.leave_group_response.error_code, KW_KAFKA_NONE, "leave");
    bh_resp_free(&r);
    cr_assert_str_eq(describe_state(&x), "PreparingRebalance", "rebalance after the leave");
    bh_advance(&h, 25000);
    cr_assert_str_eq(describe_state(&x), "Empty", "A timed out: empty");
    cr_assert_eq(heartbeat(&a, ida, 3), KW_KAFKA_UNKNOWN_MEMBER_ID, "A is gone");
    cr_assert_eq(commit(&x, "", -1, 21), KW_KAFKA_NONE, "a simple commit to an empty group");

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
    cr_assert_eq(jr.error_code, KW_KAFKA_NONE, "join error %d", jr.error_code);
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

/* ---- __consumer_offsets records ----------------------------------------------------------- */

/* Records as kwire-broker wrote them before their keys and values came from
 * lib/defs/consumer_offsets.kwdef: group "g", topic "t", partition 1, offset 21, leader epoch 5,
 * metadata "meta", commit timestamp 1700000000000; the int16 in front is the version. */
static const uint8_t offset_key_v1[] = {0x00, 0x01, 0x00, 0x01, 'g', 0x00, 0x01, 't',
                                        0x00, 0x00, 0x00, 0x01};
static const uint8_t offset_value_v3[] = {0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                          0x00, 0x15, 0x00, 0x00, 0x00, 0x05, 0x00, 0x04,
                                          'm',  'e',  't',  'a',  0x00, 0x00, 0x01, 0x8b,
                                          0xcf, 0xe5, 0x68, 0x00};
static const uint8_t group_key_v2[] = {0x00, 0x02, 0x00, 0x01, 'g'};
/* What older Kafka wrote: key v0, value v1 (offset 33, no metadata, expire timestamp). */
static const uint8_t offset_key_v0[] = {0x00, 0x00, 0x00, 0x01, 'g', 0x00, 0x01, 't',
                                        0x00, 0x00, 0x00, 0x01};
static const uint8_t offset_value_v1[] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                          0x00, 0x21, 0x00, 0x00, 0x00, 0x00, 0x01, 0x8b,
                                          0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b,
                                          0xd0, 0x00, 0x00, 0x00};
/* Value v4, flexible (offset 44, leader epoch 6, metadata "m"): what newer Kafka may write. */
static const uint8_t offset_value_v4[] = {0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                          0x00, 0x2c, 0x00, 0x00, 0x00, 0x06, 0x02, 'm',
                                          0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
                                          0x00};

#define SLICE_OF(a) ((kw_slice){(a), sizeof(a)})

static void assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len,
                         const char *what)
{
    cr_assert_eq(got_len, want_len, "%s: %zu bytes, want %zu", what, got_len, want_len);
    for (size_t i = 0; i < want_len; i++)
        cr_assert_eq(got[i], want[i], "%s: byte %zu is 0x%02x, want 0x%02x", what, i, got[i], want[i]);
}

/* The version in front of a record key or value, then a reader over the rest. */
static int16_t record_version(kw_reader *r, const uint8_t *p, size_t n)
{
    kw_reader_init(r, p, n);
    return kw_read_i16(r);
}

Test(broker_groups, consumer_offsets_records_decode_and_reencode_to_the_same_bytes)
{
    uint8_t buf[128];
    kw_builder b;
    kw_reader r;

    cr_assert_eq(record_version(&r, offset_key_v1, sizeof offset_key_v1), 1, "key version");
    kw_offset_commit_key k;
    cr_assert_eq(kw_offset_commit_key_decode(&r, 1, &k, NULL), KW_OK, "OffsetCommitKey v1 decodes");
    cr_assert(bk_slice_eqs(k.group, "g") && bk_slice_eqs(k.topic, "t"), "key group and topic");
    cr_assert_eq(k.partition, 1, "key partition");
    cr_assert_eq(kw_reader_remaining(&r), 0, "key: nothing after the partition");
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    cr_assert_eq(kw_offset_commit_key_encode(&b, 1, &k), KW_OK, "key encodes");
    kw_build_i16(&b, 1);
    assert_bytes(kw_builder_contiguous(&b), kw_builder_size(&b), offset_key_v1, sizeof offset_key_v1,
                 "OffsetCommitKey v1");

    cr_assert_eq(record_version(&r, offset_value_v3, sizeof offset_value_v3), 3, "value version");
    kw_offset_commit_value v;
    cr_assert_eq(kw_offset_commit_value_decode(&r, 3, &v, NULL), KW_OK, "OffsetCommitValue v3 decodes");
    cr_assert_eq(v.offset, 21, "value offset");
    cr_assert_eq(v.leader_epoch, 5, "value leader_epoch");
    cr_assert(bk_slice_eqs(v.metadata, "meta"), "value metadata");
    cr_assert_eq(v.commit_timestamp, 1700000000000, "value commit_timestamp");
    cr_assert_eq(kw_reader_remaining(&r), 0, "value: nothing after the commit timestamp");
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    cr_assert_eq(kw_offset_commit_value_encode(&b, 3, &v), KW_OK, "value encodes");
    kw_build_i16(&b, 3);
    assert_bytes(kw_builder_contiguous(&b), kw_builder_size(&b), offset_value_v3,
                 sizeof offset_value_v3, "OffsetCommitValue v3");

    cr_assert_eq(record_version(&r, offset_value_v1, sizeof offset_value_v1), 1, "v1 value version");
    cr_assert_eq(kw_offset_commit_value_decode(&r, 1, &v, NULL), KW_OK, "OffsetCommitValue v1 decodes");
    cr_assert_eq(v.offset, 33, "v1 offset");
    cr_assert_eq(v.leader_epoch, -1, "v1 has no leader epoch: the default");
    cr_assert_eq(v.metadata.len, 0, "v1 metadata");
    cr_assert_eq(v.expire_timestamp, 1700000000000 + 0x1a9800, "v1 expire_timestamp");
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    cr_assert_eq(kw_offset_commit_value_encode(&b, 1, &v), KW_OK, "v1 value encodes");
    kw_build_i16(&b, 1);
    assert_bytes(kw_builder_contiguous(&b), kw_builder_size(&b), offset_value_v1,
                 sizeof offset_value_v1, "OffsetCommitValue v1");

    cr_assert_eq(record_version(&r, offset_value_v4, sizeof offset_value_v4), 4, "v4 value version");
    cr_assert_eq(kw_offset_commit_value_decode(&r, 4, &v, NULL), KW_OK, "OffsetCommitValue v4 decodes");
    cr_assert_eq(v.offset, 44, "v4 offset");
    cr_assert_eq(v.leader_epoch, 6, "v4 leader_epoch");
    cr_assert(bk_slice_eqs(v.metadata, "m"), "v4 metadata");
    cr_assert_eq(kw_reader_remaining(&r), 0, "v4: nothing after the tagged fields");
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    cr_assert_eq(kw_offset_commit_value_encode(&b, 4, &v), KW_OK, "v4 value encodes");
    kw_build_i16(&b, 4);
    assert_bytes(kw_builder_contiguous(&b), kw_builder_size(&b), offset_value_v4,
                 sizeof offset_value_v4, "OffsetCommitValue v4");

    cr_assert_eq(record_version(&r, group_key_v2, sizeof group_key_v2), 2, "group key version");
    kw_group_metadata_key gk;
    cr_assert_eq(kw_group_metadata_key_decode(&r, 2, &gk, NULL), KW_OK, "GroupMetadataKey v2 decodes");
    cr_assert(bk_slice_eqs(gk.group, "g"), "group key group");
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    cr_assert_eq(kw_group_metadata_key_encode(&b, 2, &gk), KW_OK, "group key encodes");
    kw_build_i16(&b, 2);
    assert_bytes(kw_builder_contiguous(&b), kw_builder_size(&b), group_key_v2, sizeof group_key_v2,
                 "GroupMetadataKey v2");
}

typedef struct last_record {
    uint8_t key[64], value[64];
    size_t key_len, value_len;
    bool value_null;
    size_t n;
} last_record;

static int keep_last_record(void *ctx, const kw_record_batch *batch)
{
    last_record *l = ctx;
    kw_record_iter it;
    kw_record rec;
    kw_record_iter_init(&it, batch);
    while (kw_record_iter_next(&it, &rec) == 1) {
        cr_assert_leq(rec.key.len, sizeof l->key, "record key fits");
        cr_assert_leq(rec.value.len, sizeof l->value, "record value fits");
        memcpy(l->key, rec.key.ptr, rec.key.len);
        l->key_len = rec.key.len;
        l->value_null = rec.value.ptr == NULL;
        if (rec.value.ptr)
            memcpy(l->value, rec.value.ptr, rec.value.len);
        l->value_len = rec.value.len;
        l->n++;
    }
    return 0;
}

static void append_record(kw_slice key, kw_slice value)
{
    bk_rec rec = {key, value};
    size_t len;
    uint8_t *batch = bk_batch_build(&rec, 1, 1700000000000, &len);
    cr_assert(batch, "batch built");
    cr_assert_eq(bk_log_append(&h.br.offsets_log, batch, len, 0), 0, "batch appended");
    free(batch);
}

Test(broker_groups, consumer_offsets_records_keep_their_bytes_and_old_logs_load)
{
    /* what the broker writes now is byte for byte what it wrote before */
    bk_group *g = bk_group_get(&h.br, bk_cstr("g"), true);
    cr_assert(g, "group");
    char topic[] = "t", meta[] = "meta";
    bk_offset_entry e = {topic, 1, 21, 5, meta, 1700000000000};
    cr_assert_eq(bk_offsets_store(&h.br, g, &e, 1), 0, "stored");
    last_record l;
    memset(&l, 0, sizeof l);
    cr_assert_eq(bk_log_for_each_batch(&h.br.offsets_log, keep_last_record, &l), 0, "log read");
    cr_assert_eq(l.n, 1, "one record");
    assert_bytes(l.key, l.key_len, offset_key_v1, sizeof offset_key_v1, "stored key");
    assert_bytes(l.value, l.value_len, offset_value_v3, sizeof offset_value_v3, "stored value");
    cr_assert_eq(bk_offsets_delete_group(&h.br, g), 0, "group deleted");
    memset(&l, 0, sizeof l);
    cr_assert_eq(bk_log_for_each_batch(&h.br.offsets_log, keep_last_record, &l), 0, "log read");
    assert_bytes(l.key, l.key_len, group_key_v2, sizeof group_key_v2, "group deletion key");
    cr_assert(l.value_null, "group deletion: a null value");

    /* a log holding records of every version written so far loads */
    append_record(SLICE_OF(offset_key_v1), SLICE_OF(offset_value_v3));
    bh_close(&h);
    cr_assert(bh_open(&h), "reopen");
    bh_conn c = bh_connect(&h);
    cr_assert_eq(fetch_offset(&c), 21, "key v1, value v3 after restart");
    bh_disconnect(&h, &c);
    append_record(SLICE_OF(offset_key_v0), SLICE_OF(offset_value_v1));
    bh_close(&h);
    cr_assert(bh_open(&h), "reopen");
    c = bh_connect(&h);
    cr_assert_eq(fetch_offset(&c), 33, "key v0, value v1 after restart");
    bh_disconnect(&h, &c);
    append_record(SLICE_OF(offset_key_v1), SLICE_OF(offset_value_v4));
    bh_close(&h);
    cr_assert(bh_open(&h), "reopen");
    c = bh_connect(&h);
    cr_assert_eq(fetch_offset(&c), 44, "key v1, value v4 after restart");
    bh_disconnect(&h, &c);
    append_record(SLICE_OF(group_key_v2), (kw_slice){NULL, 0});
    bh_close(&h);
    cr_assert(bh_open(&h), "reopen");
    c = bh_connect(&h);
    cr_assert_eq(fetch_offset(&c), -1, "group key v2, null value: deleted after restart");
    bh_disconnect(&h, &c);
}
