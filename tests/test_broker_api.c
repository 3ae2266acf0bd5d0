/*
 * kwire-broker requests end to end through its connection handler:
 * ApiVersions (and KIP-511's answer to an unknown version), Produce
 * checks (CRC, idempotent sequences), Fetch with its long poll and record
 * bytes sent from the file, ListOffsets, Metadata auto-creation,
 * DescribeTopicPartitions, and what malformed or unserved requests get.
 */
#include <criterion/criterion.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_harness.h"
#include "batch.h"
#include "dispatch.h"
#include "log.h"

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

TestSuite(broker_api, .init = setup, .fini = teardown);

/* A Produce request of one batch to t/1, in the caller's pd, td and rq. */
static void produce_request(kw_produce_request *rq, kw_produce_request_topic_produce_data *td,
                            kw_produce_request_partition_produce_data *pd, uint8_t *batch,
                            size_t len)
{
    memset(pd, 0, sizeof *pd);
    pd->index = 1;
    pd->records = kw_records_of((kw_slice){batch, len});
    memset(td, 0, sizeof *td);
    td->name = bk_cstr("t");
    td->partition_data = kw_array_of(pd, 1);
    memset(rq, 0, sizeof *rq);
    rq->acks = -1;
    rq->timeout_ms = 1000;
    rq->topic_data = kw_array_of(td, 1);
}

/* The first partition's answer of the Produce response r. */
static kw_produce_response_partition_produce_response first_produced(const bh_resp *r)
{
    cr_assert_eq(r->err, KW_OK, "produce response decodes");
    kw_array_iter ti, pi;
    kw_produce_response_topic_produce_response rt;
    kw_produce_response_partition_produce_response rp;
    kw_array_iter_init(&ti, &r->msg.u.produce_response.responses);
    cr_assert(kw_produce_response_topic_produce_response_next(&ti, &rt), "topic");
    kw_array_iter_init(&pi, &rt.partition_responses);
    cr_assert(kw_produce_response_partition_produce_response_next(&pi, &rp), "partition");
    return rp;
}

static kw_produce_response_partition_produce_response produce(bh_conn *c, int16_t version,
                                                               uint8_t *batch, size_t len)
{
    kw_produce_request_partition_produce_data pd;
    kw_produce_request_topic_produce_data td;
    kw_produce_request rq;
    produce_request(&rq, &td, &pd, batch, len);
    bh_send(&h, c, KW_API_PRODUCE, version, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_PRODUCE, version, &r), "produce answered");
    kw_produce_response_partition_produce_response rp = first_produced(&r);
    bh_resp_free(&r);
    return rp;
}

Test(broker_api, api_versions)
{
    bh_conn c = bh_connect(&h);
    for (int16_t v = 0; v <= 4; v++) {
        kw_api_versions_request rq;
        memset(&rq, 0, sizeof rq);
        rq.client_software_name = bk_cstr("harness");
        rq.client_software_version = bk_cstr("1.0");
        bh_send(&h, &c, KW_API_API_VERSIONS, v, &rq);
        bh_resp r;
        cr_assert(bh_recv(&h, &c, KW_API_API_VERSIONS, v, &r), "v%d answered", v);
        cr_assert_eq(r.err, KW_OK, "v%d decodes", v);
        kw_api_versions_response *av = &r.msg.u.api_versions_response;
        cr_assert_eq(av->error_code, KW_KAFKA_NONE, "v%d error", v);
        int found = 0;
        kw_array_iter it;
        kw_api_versions_response_api_version k;
        kw_array_iter_init(&it, &av->api_keys);
        while (kw_api_versions_response_api_version_next(&it, &k)) {
            const kw_api_info *info = kw_api_lookup(k.api_key);
            cr_assert(bk_api_served(k.api_key), "only served APIs are listed");
            cr_assert_eq(k.max_version, bk_api_max_version(k.api_key), "%s: the served range",
                         info->name);
            cr_assert_leq(k.max_version, info->max_version, "%s: within the table", info->name);
            if (k.api_key == KW_API_PRODUCE)
                cr_assert_eq(k.max_version, 11, "Produce up to v11 (v13's topic ids not served)");
            found++;
        }
        cr_assert_eq(found, 25, "25 APIs advertised, got %d", found);
        bh_resp_free(&r);
    }
    /* KIP-511: a version the broker does not know gets error 35 in a v0 body */
    uint8_t frame[] = {0, 0, 0, 10, 0, 18, 0, 99, 0, 0, 0, 7, 0xff, 0xff};
    bh_send_raw(&h, &c, frame, sizeof frame);
    bh_resp r;
    cr_assert(bh_recv(&h, &c, KW_API_API_VERSIONS, 0, &r), "answered");
    cr_assert_eq(r.correlation_id, 7, "correlation id");
    cr_assert_eq(r.msg.u.api_versions_response.error_code, KW_KAFKA_UNSUPPORTED_VERSION, "error 35");
    cr_assert_eq(kw_array_len(&r.msg.u.api_versions_response.api_keys), 1, "its own range");
    bh_resp_free(&r);
    /* the same with the v2 header a client sends for a flexible version */
    uint8_t frame2[] = {0, 0, 0, 11, 0, 18, 0, 42, 0, 0, 0, 8, 0xff, 0xff, 0};
    bh_send_raw(&h, &c, frame2, sizeof frame2);
    cr_assert(bh_recv(&h, &c, KW_API_API_VERSIONS, 0, &r), "answered");
    cr_assert_eq(r.correlation_id, 8, "correlation id");
    cr_assert_eq(r.msg.u.api_versions_response.error_code, KW_KAFKA_UNSUPPORTED_VERSION, "error 35");
    bh_resp_free(&r);
    cr_assert_not(bh_closed(&h, &c), "still connected");
    bh_disconnect(&h, &c);
}

Test(broker_api, unserved_api_gets_an_error_response)
{
    bh_conn c = bh_connect(&h);
    /* DeleteRecords v2 is valid but not served: a DeleteRecords response with defaults */
    kw_delete_records_request rq;
    memset(&rq, 0, sizeof rq);
    rq.topics = kw_array_of(NULL, 0);
    bh_send(&h, &c, KW_API_DELETE_RECORDS, 2, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, &c, KW_API_DELETE_RECORDS, 2, &r), "answered");
    cr_assert_eq(r.err, KW_OK, "a well-formed DeleteRecords response");
    bh_resp_free(&r);
    /* SaslHandshake has a top-level error_code: UNSUPPORTED_VERSION in it */
    kw_sasl_handshake_request sq;
    memset(&sq, 0, sizeof sq);
    sq.mechanism = bk_cstr("PLAIN");
    bh_send(&h, &c, KW_API_SASL_HANDSHAKE, 1, &sq);
    cr_assert(bh_recv(&h, &c, KW_API_SASL_HANDSHAKE, 1, &r), "answered");
    cr_assert_eq(r.msg.u.sasl_handshake_response.error_code, KW_KAFKA_UNSUPPORTED_VERSION, "error 35");
    bh_resp_free(&r);
    cr_assert_not(bh_closed(&h, &c), "still connected");
    bh_disconnect(&h, &c);
}

Test(broker_api, malformed_requests)
{
    bh_conn c = bh_connect(&h);
    /* a Heartbeat v0 whose body stops short: INVALID_REQUEST/CORRUPT_MESSAGE in a Heartbeat response */
    uint8_t hb[] = {0, 0, 0, 14, 0, 12, 0, 0, 0, 0, 0, 9, 0, 0, 0, 5, 'g', 'r'};
    bh_send_raw(&h, &c, hb, sizeof hb);
    bh_resp r;
    cr_assert(bh_recv(&h, &c, KW_API_HEARTBEAT, 0, &r), "answered");
    cr_assert_eq(r.correlation_id, 9, "correlation id");
    int16_t e = r.msg.u.heartbeat_response.error_code;
    cr_assert(e == KW_KAFKA_CORRUPT_MESSAGE || e == KW_KAFKA_INVALID_REQUEST, "protocol error, got %d", e);
    bh_resp_free(&r);
    cr_assert_not(bh_closed(&h, &c), "still connected");
    /* an unknown API key closes the connection: no response layout exists */
    uint8_t unknown[] = {0, 0, 0, 10, 0x7f, 0x00, 0, 0, 0, 0, 0, 1, 0xff, 0xff};
    bh_send_raw(&h, &c, unknown, sizeof unknown);
    cr_assert(bh_closed(&h, &c), "closed");
    bh_disconnect(&h, &c);

    /* a frame over --max-frame-bytes is refused from its prefix alone */
    c = bh_connect(&h);
    uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff};
    bh_send_raw(&h, &c, huge, sizeof huge);
    cr_assert(bh_closed(&h, &c), "oversize frame closes");
    bh_disconnect(&h, &c);
    c = bh_connect(&h);
    uint8_t negative[] = {0xff, 0xff, 0xff, 0xfe};
    bh_send_raw(&h, &c, negative, sizeof negative);
    cr_assert(bh_closed(&h, &c), "negative size closes");
    bh_disconnect(&h, &c);
}

Test(broker_api, produce_checks_crc_and_sequences)
{
    bh_conn c = bh_connect(&h);
    size_t len;
    uint8_t *b = bh_batch(3, -1, -1, -1, &len);
    kw_produce_response_partition_produce_response rp = produce(&c, 9, b, len);
    cr_assert_eq(rp.error_code, KW_KAFKA_NONE, "plain produce");
    cr_assert_eq(rp.base_offset, 0, "base offset 0");
    b[len - 1] ^= 1; /* the CRC covers the last record */
    rp = produce(&c, 9, b, len);
    cr_assert_eq(rp.error_code, KW_KAFKA_CORRUPT_MESSAGE, "bad CRC: %d", rp.error_code);
    free(b);

    /* an idempotent producer */
    kw_init_producer_id_request iq;
    memset(&iq, 0, sizeof iq);
    iq.transactional_id = (kw_slice){NULL, 0};
    iq.transaction_timeout_ms = 60000;
    iq.producer_id = -1;
    iq.producer_epoch = -1;
    bh_send(&h, &c, KW_API_INIT_PRODUCER_ID, 4, &iq);
    bh_resp r;
    cr_assert(bh_recv(&h, &c, KW_API_INIT_PRODUCER_ID, 4, &r), "init producer id");
    int64_t pid = r.msg.u.init_producer_id_response.producer_id;
    int16_t epoch = r.msg.u.init_producer_id_response.producer_epoch;
    cr_assert_geq(pid, 0, "producer id");
    bh_resp_free(&r);

    b = bh_batch(2, pid, epoch, 0, &len);
    rp = produce(&c, 9, b, len);
    cr_assert_eq(rp.error_code, KW_KAFKA_NONE, "seq 0");
    cr_assert_eq(rp.base_offset, 3, "offset 3");
    rp = produce(&c, 9, b, len);
    cr_assert_eq(rp.error_code, KW_KAFKA_NONE, "a duplicate is acknowledged");
    cr_assert_eq(rp.base_offset, 3, "with its first offset");
    free(b);
    b = bh_batch(2, pid, epoch, 5, &len);
    rp = produce(&c, 9, b, len);
    cr_assert_eq(rp.error_code, KW_KAFKA_OUT_OF_ORDER_SEQUENCE_NUMBER, "a gap: %d", rp.error_code);
    free(b);
    b = bh_batch(2, pid, epoch, 2, &len);
    rp = produce(&c, 9, b, len);
    cr_assert_eq(rp.error_code, KW_KAFKA_NONE, "seq 2 follows");
    cr_assert_eq(rp.base_offset, 5, "offset 5");
    free(b);
    if (epoch > 0) {
        b = bh_batch(2, pid, (int16_t)(epoch - 1), 4, &len);
        rp = produce(&c, 9, b, len);
        cr_assert_eq(rp.error_code, KW_KAFKA_INVALID_PRODUCER_EPOCH, "old epoch");
        free(b);
    }
    b = bh_batch(1, pid, (int16_t)(epoch + 1), 3, &len);
    rp = produce(&c, 9, b, len);
    cr_assert_eq(rp.error_code, KW_KAFKA_OUT_OF_ORDER_SEQUENCE_NUMBER, "a new epoch starts at 0");
    free(b);
    cr_assert_eq(bk_partition_find(&h.br, bk_cstr("t"), 1)->log.end, 7, "7 records appended");
    bh_disconnect(&h, &c);
}

static kw_fetch_response_partition_data fetch_at(bh_conn *c, int16_t version, int64_t offset,
                                                 int32_t max_wait, int32_t min_bytes,
                                                 bool *answered, bh_resp *r)
{
    kw_fetch_request_fetch_partition fp;
    memset(&fp, 0, sizeof fp);
    fp.partition = 1;
    fp.current_leader_epoch = -1;
    fp.fetch_offset = offset;
    fp.last_fetched_epoch = -1;
    fp.log_start_offset = -1;
    fp.partition_max_bytes = 1 << 20;
    kw_fetch_request_fetch_topic ft;
    memset(&ft, 0, sizeof ft);
    ft.topic = bk_cstr("t");
    ft.partitions = kw_array_of(&fp, 1);
    kw_fetch_request rq;
    memset(&rq, 0, sizeof rq);
    rq.replica_id = -1;
    rq.max_wait_ms = max_wait;
    rq.min_bytes = min_bytes;
    rq.max_bytes = 1 << 20;
    rq.session_epoch = -1;
    rq.topics = kw_array_of(&ft, 1);
    rq.forgotten_topics_data = kw_array_of(NULL, 0);
    rq.rack_id = bk_cstr("");
    bh_send(&h, c, KW_API_FETCH, version, &rq);
    kw_fetch_response_partition_data pd;
    memset(&pd, 0, sizeof pd);
    *answered = bh_recv(&h, c, KW_API_FETCH, version, r);
    if (!*answered)
        return pd;
    cr_assert_eq(r->err, KW_OK, "fetch decodes");
    kw_array_iter ti, pi;
    kw_fetch_response_fetchable_topic_response rt;
    kw_array_iter_init(&ti, &r->msg.u.fetch_response.responses);
    cr_assert(kw_fetch_response_fetchable_topic_response_next(&ti, &rt), "topic");
    kw_array_iter_init(&pi, &rt.partitions);
    cr_assert(kw_fetch_response_partition_data_next(&pi, &pd), "partition");
    return pd;
}

static kw_fetch_response_partition_data fetch(bh_conn *c, int64_t offset, int32_t max_wait,
                                              int32_t min_bytes, bool *answered, bh_resp *r)
{
    return fetch_at(c, 11, offset, max_wait, min_bytes, answered, r);
}

Test(broker_api, fetch_long_poll_and_records_from_the_file)
{
    bh_conn p = bh_connect(&h), c = bh_connect(&h);
    bool answered;
    bh_resp r;
    kw_fetch_response_partition_data pd = fetch(&c, 0, 5000, 1, &answered, &r);
    cr_assert_not(answered, "nothing there: the fetch waits");
    bh_refresh(&h, &c);
    cr_assert(c.c && c.c->park == BK_PARK_FETCH, "parked");
    size_t len;
    uint8_t *b = bh_batch(4, -1, -1, -1, &len);
    produce(&p, 9, b, len);
    bk_loop_housekeeping(&h.br); /* the loop's turn after the produce */
    cr_assert(bh_recv(&h, &c, KW_API_FETCH, 11, &r), "the parked fetch is answered by the produce");
    kw_array_iter ti, pi;
    kw_fetch_response_fetchable_topic_response rt;
    kw_array_iter_init(&ti, &r.msg.u.fetch_response.responses);
    cr_assert(kw_fetch_response_fetchable_topic_response_next(&ti, &rt), "topic");
    kw_array_iter_init(&pi, &rt.partitions);
    cr_assert(kw_fetch_response_partition_data_next(&pi, &pd), "partition");
    cr_assert_eq(pd.high_watermark, 4, "high watermark");
    cr_assert_eq(pd.records.bytes.len, len, "the batch as produced");
    kw_batch_iter it;
    kw_batch batch;
    kw_batch_iter_init(&it, pd.records.bytes, KW_VERIFY_CRC);
    cr_assert_eq(kw_batch_iter_next(&it, &batch), 1, "a batch with a good CRC");
    cr_assert_eq(batch.v2.base_offset, 0, "offset assigned");
    bh_resp_free(&r);
    free(b);

    /* a fetch whose wait runs out is answered empty */
    pd = fetch(&c, 4, 300, 1, &answered, &r);
    cr_assert_not(answered, "waits");
    bh_advance(&h, 400);
    cr_assert(bh_recv(&h, &c, KW_API_FETCH, 11, &r), "answered at max_wait");
    bh_resp_free(&r);
    pd = fetch(&c, 99, 0, 1, &answered, &r);
    cr_assert(answered, "answered");
    cr_assert_eq(pd.error_code, KW_KAFKA_OFFSET_OUT_OF_RANGE, "out of range");
    bh_resp_free(&r);
    bh_disconnect(&h, &p);
    bh_disconnect(&h, &c);
}

Test(broker_api, metadata_auto_create_and_describe_topic_partitions)
{
    bh_conn c = bh_connect(&h);
    kw_metadata_request_metadata_request_topic mt[2];
    memset(mt, 0, sizeof mt);
    mt[0].name = bk_cstr("fresh");
    mt[1].name = bk_cstr("no good");
    kw_metadata_request rq;
    memset(&rq, 0, sizeof rq);
    rq.topics = kw_array_of(mt, 2);
    rq.allow_auto_topic_creation = true;
    bh_send(&h, &c, KW_API_METADATA, 12, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, &c, KW_API_METADATA, 12, &r), "metadata");
    cr_assert_eq(r.err, KW_OK, "decodes");
    kw_array_iter it;
    kw_metadata_response_metadata_response_topic t;
    kw_array_iter_init(&it, &r.msg.u.metadata_response.topics);
    cr_assert(kw_metadata_response_metadata_response_topic_next(&it, &t), "first");
    cr_assert_eq(t.error_code, KW_KAFKA_LEADER_NOT_AVAILABLE, "being auto-created, as Kafka says");
    cr_assert(kw_metadata_response_metadata_response_topic_next(&it, &t), "second");
    cr_assert_eq(t.error_code, KW_KAFKA_INVALID_TOPIC_EXCEPTION, "illegal name");
    bh_resp_free(&r);
    bh_send(&h, &c, KW_API_METADATA, 12, &rq);
    cr_assert(bh_recv(&h, &c, KW_API_METADATA, 12, &r), "metadata again");
    kw_array_iter_init(&it, &r.msg.u.metadata_response.topics);
    cr_assert(kw_metadata_response_metadata_response_topic_next(&it, &t), "first");
    cr_assert_eq(t.error_code, KW_KAFKA_NONE, "created");
    cr_assert_eq(kw_array_len(&t.partitions), 1, "default partitions");
    bh_resp_free(&r);

    kw_describe_topic_partitions_request_topic_request tr[3];
    memset(tr, 0, sizeof tr);
    tr[0].name = bk_cstr("t");
    tr[1].name = bk_cstr("absent");
    tr[2].name = bk_cstr("fresh");
    kw_describe_topic_partitions_request dq;
    memset(&dq, 0, sizeof dq);
    dq.topics = kw_array_of(tr, 3);
    dq.response_partition_limit = 2000;
    bh_send(&h, &c, KW_API_DESCRIBE_TOPIC_PARTITIONS, 0, &dq);
    cr_assert(bh_recv(&h, &c, KW_API_DESCRIBE_TOPIC_PARTITIONS, 0, &r), "answered");
    cr_assert_eq(r.err, KW_OK, "decodes");
    kw_describe_topic_partitions_response_describe_topic_partitions_response_topic dt;
    kw_array_iter_init(&it, &r.msg.u.describe_topic_partitions_response.topics);
    const char *order[] = {"absent", "fresh", "t"};
    const int16_t errors[] = {KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION, KW_KAFKA_NONE, KW_KAFKA_NONE};
    const int32_t parts[] = {0, 1, 2};
    for (int i = 0; i < 3; i++) {
        cr_assert(kw_describe_topic_partitions_response_describe_topic_partitions_response_topic_next(&it, &dt),
                  "topic %d", i);
        cr_assert(bk_slice_eqs(dt.name, order[i]), "sorted by name: %s", order[i]);
        cr_assert_eq(dt.error_code, errors[i], "%s error", order[i]);
        cr_assert_eq(kw_array_len(&dt.partitions), parts[i], "%s partitions", order[i]);
        cr_assert_eq(dt.topic_authorized_operations, BK_TOPIC_AUTHORIZED_OPS, "authorized ops");
    }
    bh_resp_free(&r);
    bh_disconnect(&h, &c);
}

/* A log directory in the layout the CodeCrafters "Build your own Kafka" broker serves: a
 * __cluster_metadata-0 log (FeatureLevelRecord; TopicRecord and PartitionRecord v1) and
 * partition logs, with no meta.properties, partition.metadata or index files. */
static void framed(kw_builder *b, uint32_t type, int16_t version)
{
    kw_build_uvarint(b, (uint32_t)version);
    kw_build_uvarint(b, type);
    kw_build_uvarint(b, 1);
}

static void append_value(bk_log *log, kw_builder *b)
{
    size_t n = kw_builder_size(b);
    uint8_t *v = malloc(n);
    kw_builder_copy_out(b, v, n);
    bk_rec rec = {{NULL, 0}, {v, n}};
    size_t len;
    uint8_t *batch = bk_batch_build(&rec, 1, 1700000000000, &len);
    cr_assert_eq(bk_log_append(log, batch, len, 0), 0, "append");
    free(batch);
    free(v);
    kw_builder_reset(b);
}

Test(broker_api, serves_a_kraft_style_directory_from_another_tool)
{
    bh_destroy(&h); /* a directory of our own making instead of the suite's */
    bh_init(&h);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/__cluster_metadata-0", h.dir);
    bk_log meta;
    cr_assert_eq(bk_log_open(&meta, dir, &h.cfg, true), 0, "metadata log");
    kw_builder b;
    kw_builder_init_growable(&b, 1024);
    kw_feature_level_record f;
    memset(&f, 0, sizeof f);
    f.name = bk_cstr("metadata.version");
    f.feature_level = 20;
    kw_feature_level_record_encode(&b, 0, &f);
    framed(&b, 12, 0);
    append_value(&meta, &b);
    kw_uuid id = bk_uuid_random();
    kw_topic_record tr;
    memset(&tr, 0, sizeof tr);
    tr.name = bk_cstr("foo");
    tr.topic_id = id;
    kw_topic_record_encode(&b, 0, &tr);
    framed(&b, 2, 0);
    append_value(&meta, &b);
    for (int32_t p = 0; p < 2; p++) {
        int32_t node = 1;
        kw_uuid dirid = bk_uuid_random();
        kw_partition_record pr;
        memset(&pr, 0, sizeof pr);
        pr.partition_id = p;
        pr.topic_id = id;
        pr.replicas = kw_array_of(&node, 1);
        pr.isr = kw_array_of(&node, 1);
        pr.removing_replicas = kw_array_of(NULL, 0);
        pr.adding_replicas = kw_array_of(NULL, 0);
        pr.leader = 1;
        pr.leader_epoch = 0;
        pr.partition_epoch = 0;
        pr.directories = kw_array_of(&dirid, 1);
        pr.eligible_leader_replicas = kw_array_of(NULL, -1);
        pr.last_known_elr = kw_array_of(NULL, -1);
        cr_assert_eq(kw_partition_record_encode(&b, 1, &pr), KW_OK, "PartitionRecord v1");
        framed(&b, 3, 1);
        append_value(&meta, &b);
    }
    kw_builder_free(&b);
    bk_log_close(&meta);
    snprintf(dir, sizeof dir, "%s/foo-1", h.dir);
    bk_log part;
    cr_assert_eq(bk_log_open(&part, dir, &h.cfg, true), 0, "partition log");
    size_t len;
    uint8_t *batch = bh_batch(3, -1, -1, -1, &len);
    cr_assert_eq(bk_log_append(&part, batch, len, 0), 0, "records");
    free(batch);
    bk_log_close(&part);
    char path[600];
    snprintf(path, sizeof path, "%s/foo-1/00000000000000000000.index", h.dir);
    unlink(path);

    cr_assert(bh_open(&h), "open the foreign directory");
    bh_conn c = bh_connect(&h);
    kw_describe_topic_partitions_request_topic_request treq = {bk_cstr("foo"), {0, {NULL, 0}}};
    kw_describe_topic_partitions_request dq;
    memset(&dq, 0, sizeof dq);
    dq.topics = kw_array_of(&treq, 1);
    dq.response_partition_limit = 100;
    bh_send(&h, &c, KW_API_DESCRIBE_TOPIC_PARTITIONS, 0, &dq);
    bh_resp r;
    cr_assert(bh_recv(&h, &c, KW_API_DESCRIBE_TOPIC_PARTITIONS, 0, &r), "answered");
    kw_array_iter it;
    kw_describe_topic_partitions_response_describe_topic_partitions_response_topic dt;
    kw_array_iter_init(&it, &r.msg.u.describe_topic_partitions_response.topics);
    cr_assert(kw_describe_topic_partitions_response_describe_topic_partitions_response_topic_next(&it, &dt),
              "topic");
    cr_assert_eq(dt.error_code, KW_KAFKA_NONE, "known");
    cr_assert_eq(memcmp(dt.topic_id.bytes, id.bytes, 16), 0, "the id from the metadata log");
    cr_assert_eq(kw_array_len(&dt.partitions), 2, "two partitions");
    bh_resp_free(&r);

    /* Fetch v16 by topic id reads the partition's log */
    kw_fetch_request_fetch_partition fp;
    memset(&fp, 0, sizeof fp);
    fp.partition = 1;
    fp.current_leader_epoch = -1;
    fp.last_fetched_epoch = -1;
    fp.log_start_offset = -1;
    fp.partition_max_bytes = 1 << 20;
    kw_fetch_request_fetch_topic ft;
    memset(&ft, 0, sizeof ft);
    ft.topic_id = id;
    ft.partitions = kw_array_of(&fp, 1);
    kw_fetch_request rq;
    memset(&rq, 0, sizeof rq);
    rq.replica_id = -1;
    rq.max_bytes = 1 << 20;
    rq.session_epoch = -1;
    rq.topics = kw_array_of(&ft, 1);
    rq.forgotten_topics_data = kw_array_of(NULL, 0);
    rq.rack_id = bk_cstr("");
    bh_send(&h, &c, KW_API_FETCH, 16, &rq);
    cr_assert(bh_recv(&h, &c, KW_API_FETCH, 16, &r), "fetch answered");
    cr_assert_eq(r.err, KW_OK, "decodes");
    kw_fetch_response_fetchable_topic_response rt;
    kw_fetch_response_partition_data pd;
    kw_array_iter_init(&it, &r.msg.u.fetch_response.responses);
    cr_assert(kw_fetch_response_fetchable_topic_response_next(&it, &rt), "topic");
    kw_array_iter pi;
    kw_array_iter_init(&pi, &rt.partitions);
    cr_assert(kw_fetch_response_partition_data_next(&pi, &pd), "partition");
    cr_assert_eq(pd.error_code, KW_KAFKA_NONE, "no error");
    cr_assert_eq(pd.high_watermark, 3, "three records");
    cr_assert_eq(pd.records.bytes.len, len, "the batch");
    bh_resp_free(&r);
    bh_disconnect(&h, &c);
}

/* Every API at every version, with a request whose fields all hold their defaults: the broker
 * answers with a response that decodes (a Produce with acks 0 gets none), and stays up. */
Test(broker_api, every_api_and_version_answers)
{
    bh_conn c = bh_connect(&h);
    int answered = 0;
    for (int16_t key = 0; key < KW_API_KEY_COUNT; key++) {
        const kw_api_info *info = kw_api_lookup(key);
        const kw_message_info *m = kw_message_for_api(key, false);
        for (int16_t v = info->min_version; v <= bk_api_max_version(key); v++) {
            kw_builder b;
            kw_builder_init_growable(&b, 4096);
            bk_build_default_message(&b, m, v, 0);
            int hv = kw_request_header_version(key, v);
            if (hv >= 2)
                kw_build_uvarint(&b, 0);
            if (hv >= 1)
                kw_build_nullable_string(&b, bk_cstr("sweep"));
            kw_build_i32(&b, 1000 + key);
            kw_build_i16(&b, v);
            kw_build_i16(&b, key);
            kw_build_length_i32(&b, 0);
            cr_assert_eq(kw_builder_error(&b), KW_OK, "%s v%d: default request builds", info->name, v);
            size_t len = kw_builder_size(&b);
            uint8_t *frame = malloc(len);
            kw_builder_copy_out(&b, frame, len);
            kw_builder_free(&b);
            bh_send_raw(&h, &c, frame, len);
            free(frame);
            bh_resp r;
            bool got = bh_recv(&h, &c, key, v, &r);
            if (key == KW_API_PRODUCE) {
                cr_assert_not(got, "Produce v%d with acks 0: no response", v);
                cr_assert_not(bh_closed(&h, &c), "Produce v%d: still connected", v);
                continue;
            }
            cr_assert(got, "%s v%d answered", info->name, v);
            cr_assert_eq(r.correlation_id, 1000 + key, "%s v%d correlation id", info->name, v);
            cr_assert_eq(r.err, KW_OK, "%s v%d: the response decodes (%s)", info->name, v,
                         kw_err_name(r.err));
            bh_resp_free(&r);
            answered++;
        }
    }
    cr_assert_gt(answered, 300, "responses: %d", answered);
    cr_assert_not(bh_closed(&h, &c), "still connected");
    bh_disconnect(&h, &c);
}

/* Slow and idle connections time out; a read buffer grows with the bytes that came, not with the
 * size a prefix announces; other connections go on meanwhile. */
Test(broker_api, timeouts_and_buffer_growth)
{
    bh_conn slow = bh_connect(&h), idle = bh_connect(&h), ok = bh_connect(&h);
    /* a prefix announcing 50 MB, then 10 bytes */
    uint8_t part[14] = {0x03, 0x00, 0x00, 0x00, 0, 3, 0, 1, 0, 0, 0, 1, 0, 0};
    bh_send_raw(&h, &slow, part, sizeof part);
    cr_assert_not(bh_closed(&h, &slow), "waiting for the rest");
    bh_refresh(&h, &slow);
    cr_assert_leq(slow.c->rcap, h.cfg.conn_buffer_bytes, "buffer %zu for 14 bytes of a 50 MB frame",
                  slow.c->rcap);
    cr_assert_leq(bk_conn_memory(slow.c), h.cfg.conn_buffer_bytes + 4096, "connection memory");
    /* once a first buffer of it came, the frame gets its room, never more than announced */
    static uint8_t chunk[300000];
    bh_send_raw(&h, &slow, chunk, sizeof chunk);
    bh_refresh(&h, &slow);
    cr_assert_leq(slow.c->rcap, (size_t)0x03000000 + 4, "buffer %zu", slow.c->rcap);
    bh_advance(&h, h.cfg.frame_timeout_ms / 2);
    kw_api_versions_request av;
    memset(&av, 0, sizeof av);
    bh_send(&h, &ok, KW_API_API_VERSIONS, 0, &av);
    bh_resp r;
    cr_assert(bh_recv(&h, &ok, KW_API_API_VERSIONS, 0, &r), "another client is answered meanwhile");
    bh_resp_free(&r);
    bh_advance(&h, h.cfg.frame_timeout_ms / 2 + 1000);
    cr_assert(bh_closed(&h, &slow), "a frame that does not finish in time closes its connection");
    cr_assert_not(bh_closed(&h, &idle), "idle is not yet too idle");
    bh_advance(&h, h.cfg.idle_timeout_ms + 1000);
    cr_assert(bh_closed(&h, &idle), "an idle connection is closed");
    bh_disconnect(&h, &slow);
    bh_disconnect(&h, &idle);
    bh_disconnect(&h, &ok);
}

/* ---- message format conversion: legacy producers and consumers beside v2 ones ------------ */

#include "kwire/compress.h"
#include "kwire/record_builder.h"

static uint8_t *builder_bytes(kw_builder *b, size_t *len)
{
    cr_assert_eq(kw_builder_error(b), KW_OK, "build: %s", kw_err_name(kw_builder_error(b)));
    *len = kw_builder_size(b);
    uint8_t *out = malloc(*len);
    cr_assert(out && kw_builder_copy_out(b, out, *len) == *len, "copy out");
    kw_builder_free(b);
    return out;
}

/*
 * A legacy message set of n messages "k<first+i>"/"v<first+i>", magic 1
 * timestamps 1000+first+i; with a codec, one wrapper around them, as a
 * producer writes it (offsets 0..n-1, the wrapper's the last).
 */
static uint8_t *legacy_set(int8_t magic, kw_compression codec, int64_t first, int n, size_t *len)
{
    kw_builder b;
    kw_builder_init_growable(&b, 4096);
    for (int i = n - 1; i >= 0; i--) {
        char k[32], v[32];
        snprintf(k, sizeof k, "k%lld", (long long)(first + i));
        snprintf(v, sizeof v, "v%lld", (long long)(first + i));
        kw_build_legacy_message(&b, magic, i, 0, 1000 + first + i, bk_cstr(k), bk_cstr(v));
    }
    uint8_t *plain = builder_bytes(&b, len);
    if (codec == KW_COMPRESSION_NONE)
        return plain;
    size_t cap = kw_compress_bound(codec, *len), packed_len;
    uint8_t *packed = malloc(cap);
    cr_assert_eq(kw_compress(codec, 0, (kw_slice){plain, *len}, packed, cap, &packed_len), KW_OK);
    kw_builder_init_growable(&b, 4096);
    kw_build_legacy_message(&b, magic, n - 1, (int8_t)codec, 1000 + first + n - 1,
                            (kw_slice){NULL, 0}, (kw_slice){packed, packed_len});
    free(plain);
    free(packed);
    return builder_bytes(&b, len);
}

/* A v2 batch of n records "k<first+i>"/"v<first+i>", timestamps 1000+first+i. */
static uint8_t *v2_batch(kw_compression codec, int64_t first, int n, size_t *len)
{
    kw_record_spec recs[16];
    char keys[16][32], values[16][32];
    cr_assert_leq(n, 16);
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], sizeof keys[i], "k%lld", (long long)(first + i));
        snprintf(values[i], sizeof values[i], "v%lld", (long long)(first + i));
        memset(&recs[i], 0, sizeof recs[i]);
        recs[i].offset_delta = i;
        recs[i].timestamp_delta = i;
        recs[i].key = bk_cstr(keys[i]);
        recs[i].value = bk_cstr(values[i]);
    }
    kw_batch_spec spec = kw_batch_spec_default();
    spec.base_timestamp = 1000 + first;
    spec.attributes = (int16_t)codec;
    kw_builder b;
    kw_builder_init_growable(&b, 4096);
    kw_build_record_batch(&b, &spec, recs, (size_t)n);
    return builder_bytes(&b, len);
}

/* What a consumer reads out of a records field, whatever the format. */
typedef struct seen {
    int64_t offset, timestamp;
    int8_t magic;
    char key[32], value[32];
} seen;

static void see(seen *s, int8_t magic, int64_t offset, int64_t ts, kw_slice k, kw_slice v)
{
    s->magic = magic;
    s->offset = offset;
    s->timestamp = ts;
    cr_assert(k.ptr && v.ptr && k.len < sizeof s->key && v.len < sizeof s->value, "key, value");
    memcpy(s->key, k.ptr, k.len);
    s->key[k.len] = 0;
    memcpy(s->value, v.ptr, v.len);
    s->value[v.len] = 0;
}

/* Every record of records, CRCs checked, wrappers and compressed batches opened. */
static size_t read_all(kw_slice records, seen *out, size_t max)
{
    static uint8_t plain[1 << 20];
    size_t n = 0;
    kw_batch_iter it;
    kw_batch_iter_init(&it, records, KW_VERIFY_CRC);
    kw_batch b;
    int rc;
    while ((rc = kw_batch_iter_next(&it, &b)) == 1) {
        if (b.magic == 2) {
            kw_record_iter ri;
            size_t len;
            if (kw_record_batch_compression(&b.v2) != KW_COMPRESSION_NONE) {
                cr_assert_eq(kw_record_batch_decompress(&b.v2, plain, sizeof plain, &len), KW_OK);
                kw_record_iter_init_raw(&ri, (kw_slice){plain, len}, b.v2.record_count, 0);
            } else {
                kw_record_iter_init(&ri, &b.v2);
            }
            kw_record r;
            while (kw_record_iter_next(&ri, &r) == 1) {
                int64_t off, ts;
                cr_assert(kw_record_offset(&b.v2, &r, &off) && kw_record_timestamp(&b.v2, &r, &ts));
                cr_assert_lt(n, max);
                see(&out[n++], 2, off, ts, r.key, r.value);
            }
            continue;
        }
        const kw_legacy_message *m = &b.legacy;
        if (kw_legacy_message_compression(m) == KW_COMPRESSION_NONE) {
            cr_assert_lt(n, max);
            see(&out[n++], m->magic, m->offset, m->timestamp, m->key, m->value);
            continue;
        }
        size_t len;
        cr_assert_eq(kw_legacy_message_decompress(m, plain, sizeof plain, &len), KW_OK, "wrapper");
        kw_batch_iter ii;
        kw_batch_iter_init(&ii, (kw_slice){plain, len}, KW_VERIFY_CRC);
        kw_batch inner;
        size_t first = n;
        while (kw_batch_iter_next(&ii, &inner) == 1) {
            cr_assert_eq(inner.magic, m->magic, "inner messages of the wrapper's magic");
            cr_assert_lt(n, max);
            const kw_legacy_message *im = &inner.legacy;
            see(&out[n++], im->magic, im->offset, im->timestamp, im->key, im->value);
        }
        /* KIP-31: magic 1 inner offsets are relative, the wrapper's is the last absolute one */
        if (m->magic == 1)
            for (size_t i = first; i < n; i++)
                out[i].offset += m->offset - (int64_t)(n - 1 - first);
        cr_assert_eq(out[n - 1].offset, m->offset, "the wrapper carries its last offset");
    }
    cr_assert_eq(rc, 0, "records end cleanly");
    return n;
}

static int16_t produce_error(bh_conn *c, int16_t version, uint8_t *set, size_t len, int64_t *base)
{
    kw_produce_response_partition_produce_response rp = produce(c, version, set, len);
    free(set);
    if (base)
        *base = rp.base_offset;
    return rp.error_code;
}

/* Records 0..n-1 in order, each "k<offset>"/"v<offset>", every one of magic. */
static void expect_log(const seen *s, size_t n, size_t want, int64_t first, int8_t magic,
                       int16_t version)
{
    cr_assert_eq(n, want, "Fetch v%d: %zu records, want %zu", version, n, want);
    for (size_t i = 0; i < n; i++) {
        char k[32], v[32];
        snprintf(k, sizeof k, "k%lld", (long long)(first + (int64_t)i));
        snprintf(v, sizeof v, "v%lld", (long long)(first + (int64_t)i));
        cr_assert_eq(s[i].offset, first + (int64_t)i, "Fetch v%d: offsets continuous (%zu)", version, i);
        cr_assert_eq(s[i].magic, magic, "Fetch v%d: magic %d at %zu", version, magic, i);
        cr_assert_str_eq(s[i].key, k, "Fetch v%d: key at %zu", version, i);
        cr_assert_str_eq(s[i].value, v, "Fetch v%d: value at %zu", version, i);
    }
}

Test(broker_api, old_and_new_clients_share_a_topic)
{
    bh_conn p = bh_connect(&h), c = bh_connect(&h);
    kw_compression second = kw_compression_available(KW_COMPRESSION_LZ4) ? KW_COMPRESSION_LZ4
                                                                          : KW_COMPRESSION_GZIP;
    kw_compression third = kw_compression_available(KW_COMPRESSION_SNAPPY) ? KW_COMPRESSION_SNAPPY
                                                                            : KW_COMPRESSION_GZIP;
    struct {
        int16_t version;
        int8_t magic; /* 2: a v2 batch */
        kw_compression codec;
        int n;
    } steps[] = {
        {9, 2, KW_COMPRESSION_NONE, 5},   /* 0-4 */
        {2, 1, KW_COMPRESSION_NONE, 3},   /* 5-7 */
        {0, 0, KW_COMPRESSION_GZIP, 4},   /* 8-11 */
        {1, 0, KW_COMPRESSION_NONE, 70},  /* 12-81: more messages than the 64-batch limit */
        {9, 2, second, 5},                /* 82-86 */
        {2, 1, third, 3},                 /* 87-89 */
        {2, 2, KW_COMPRESSION_NONE, 4},   /* 90-93: Produce v2 may carry a v2 batch too */
    };
    int64_t next = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        size_t len;
        uint8_t *set = steps[i].magic == 2 ? v2_batch(steps[i].codec, next, steps[i].n, &len)
                                           : legacy_set(steps[i].magic, steps[i].codec, next,
                                                        steps[i].n, &len);
        int64_t base;
        int16_t err = produce_error(&p, steps[i].version, set, len, &base);
        cr_assert_eq(err, KW_KAFKA_NONE, "step %zu: Produce v%d, magic %d: error %d", i,
                     steps[i].version, steps[i].magic, err);
        cr_assert_eq(base, next, "step %zu: base offset", i);
        next += steps[i].n;
    }
    static seen s[256];
    for (int16_t v = 0; v <= 12; v++) {
        bool answered;
        bh_resp r;
        kw_fetch_response_partition_data pd = fetch_at(&c, v, 0, 0, 1, &answered, &r);
        cr_assert(answered, "Fetch v%d answered", v);
        cr_assert_eq(pd.error_code, KW_KAFKA_NONE, "Fetch v%d: error %d", v, pd.error_code);
        size_t n = read_all(pd.records.bytes, s, 256);
        int8_t magic = v <= 1 ? 0 : v <= 3 ? 1 : 2;
        expect_log(s, n, (size_t)next, 0, magic, v);
        /* magic 1 and v2 carry the producers' timestamps; magic 0 messages got the append time */
        for (size_t i = 0; magic >= 1 && i < n; i++) {
            if (i < 8 || i >= 82)
                cr_assert_eq(s[i].timestamp, 1000 + s[i].offset, "Fetch v%d: timestamp %zu", v, i);
            else
                cr_assert_gt(s[i].timestamp, 1000000000000LL, "append time for magic 0 (%zu)", i);
        }
        bh_resp_free(&r);
    }
    /* an old reader starting inside a plain batch gets its messages from there */
    bool answered;
    bh_resp r;
    kw_fetch_response_partition_data pd = fetch_at(&c, 3, 2, 0, 1, &answered, &r);
    size_t n = read_all(pd.records.bytes, s, 256);
    expect_log(s, n, (size_t)next - 2, 2, 1, 3);
    bh_resp_free(&r);
    bh_disconnect(&h, &p);
    bh_disconnect(&h, &c);
}

Test(broker_api, legacy_produce_refusals)
{
    bh_conn p = bh_connect(&h);
    size_t len;
    /* a legacy message set in Produce v3 and later: record batches only */
    uint8_t *set = legacy_set(1, KW_COMPRESSION_NONE, 0, 2, &len);
    cr_assert_eq(produce_error(&p, 3, set, len, NULL), KW_KAFKA_INVALID_RECORD);
    /* a bad CRC-32 */
    set = legacy_set(1, KW_COMPRESSION_NONE, 0, 2, &len);
    set[len - 1] ^= 1;
    cr_assert_eq(produce_error(&p, 2, set, len, NULL), KW_KAFKA_CORRUPT_MESSAGE);
    /* a bad CRC inside a compressed wrapper: the wrapper's own is fine */
    kw_builder b;
    kw_builder_init_growable(&b, 4096);
    kw_build_legacy_message(&b, 1, 0, 0, 5, bk_cstr("k"), bk_cstr("v"));
    uint8_t *inner = builder_bytes(&b, &len);
    inner[len - 1] ^= 1;
    size_t cap = kw_compress_bound(KW_COMPRESSION_GZIP, len), plen;
    uint8_t *packed = malloc(cap);
    cr_assert_eq(kw_compress(KW_COMPRESSION_GZIP, 0, (kw_slice){inner, len}, packed, cap, &plen), KW_OK);
    kw_builder_init_growable(&b, 4096);
    kw_build_legacy_message(&b, 1, 0, KW_COMPRESSION_GZIP, 5, (kw_slice){NULL, 0},
                            (kw_slice){packed, plen});
    set = builder_bytes(&b, &len);
    cr_assert_eq(produce_error(&p, 2, set, len, NULL), KW_KAFKA_CORRUPT_MESSAGE);
    free(inner);
    free(packed);
    /* timestamps whose difference does not fit an int64 */
    kw_builder_init_growable(&b, 4096);
    kw_build_legacy_message(&b, 1, 1, 0, INT64_MAX, bk_cstr("k"), bk_cstr("v"));
    kw_build_legacy_message(&b, 1, 0, 0, INT64_MIN, bk_cstr("k"), bk_cstr("v"));
    set = builder_bytes(&b, &len);
    cr_assert_eq(produce_error(&p, 2, set, len, NULL), KW_KAFKA_INVALID_TIMESTAMP);
    /* nothing of those reached the log */
    cr_assert_eq(h.br.topics[0]->parts[1]->log.end, 0, "log untouched");
    /* a zstd batch has no legacy form: old readers get UNSUPPORTED_COMPRESSION_TYPE */
    if (kw_compression_available(KW_COMPRESSION_ZSTD)) {
        set = v2_batch(KW_COMPRESSION_ZSTD, 0, 2, &len);
        cr_assert_eq(produce_error(&p, 9, set, len, NULL), KW_KAFKA_NONE);
        bh_conn c = bh_connect(&h);
        bool answered;
        bh_resp r;
        kw_fetch_response_partition_data pd = fetch_at(&c, 2, 0, 0, 1, &answered, &r);
        cr_assert_eq(pd.error_code, 76, "zstd to a Fetch v2 reader");
        bh_resp_free(&r);
        bh_disconnect(&h, &c);
    }
    bh_disconnect(&h, &p);
}

Test(broker_api, without_conversion_old_versions_are_not_advertised)
{
    bh_close(&h);
    h.cfg.down_conversion = false;
    cr_assert(bh_open(&h), "reopen");
    bh_conn c = bh_connect(&h);
    kw_api_versions_request rq;
    memset(&rq, 0, sizeof rq);
    rq.client_software_name = bk_cstr("harness");
    rq.client_software_version = bk_cstr("1.0");
    bh_send(&h, &c, KW_API_API_VERSIONS, 3, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, &c, KW_API_API_VERSIONS, 3, &r), "answered");
    kw_array_iter it;
    kw_api_versions_response_api_version k;
    int checked = 0;
    kw_array_iter_init(&it, &r.msg.u.api_versions_response.api_keys);
    while (kw_api_versions_response_api_version_next(&it, &k)) {
        if (k.api_key == KW_API_PRODUCE) {
            cr_assert_eq(k.min_version, 3, "Produce from v3");
            checked++;
        }
        if (k.api_key == KW_API_FETCH) {
            cr_assert_eq(k.min_version, 4, "Fetch from v4");
            checked++;
        }
    }
    cr_assert_eq(checked, 2);
    bh_resp_free(&r);
    /* and a Fetch v3 is treated as any version outside the range: the connection closes */
    kw_fetch_request fq;
    memset(&fq, 0, sizeof fq);
    fq.replica_id = -1;
    fq.topics = kw_array_of(NULL, 0);
    bh_send(&h, &c, KW_API_FETCH, 3, &fq);
    cr_assert(bh_closed(&h, &c), "no answer to Fetch v3: closed");
    bh_disconnect(&h, &c);
}

/* ---- limits: request memory across connections, topic creation ------------------------- */

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* A whole Produce v7 frame of n records to t/1 (malloc'd). */
static uint8_t *produce_frame(int n, int32_t correlation_id, size_t *len)
{
    size_t batch_len;
    uint8_t *batch = bh_batch(n, -1, -1, -1, &batch_len);
    kw_produce_request_partition_produce_data pd;
    kw_produce_request_topic_produce_data td;
    kw_produce_request rq;
    produce_request(&rq, &td, &pd, batch, batch_len);
    kw_builder b;
    kw_builder_init_growable(&b, 1 << 16);
    cr_assert_eq(kw_build_request_frame(&b, KW_API_PRODUCE, 7, correlation_id, bk_cstr("limits"),
                                        &rq), KW_OK, "produce frame");
    uint8_t *out = builder_bytes(&b, len);
    free(batch);
    return out;
}

static void expect_produced(bh_conn *c, int32_t correlation_id)
{
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_PRODUCE, 7, &r), "produce answered");
    cr_assert_eq(r.correlation_id, correlation_id, "correlation id");
    kw_produce_response_partition_produce_response rp = first_produced(&r);
    cr_assert_eq(rp.error_code, 0, "produced: error %d", rp.error_code);
    bh_resp_free(&r);
}

/*
 * queued_max_request_bytes bounds the buffers of all connections together:
 * a second large frame waits (not read, not timed out) while a first holds
 * the room, small requests go on, and both large frames are served in turn.
 */
Test(broker_api, request_memory_is_shared_by_all_connections)
{
    h.br.cfg.queued_max_request_bytes = 1 << 20;
    size_t len;
    uint8_t *frame = produce_frame(40000, 100, &len);
    cr_assert_gt(len, (size_t)600000, "a frame of %zu bytes", len);
    cr_assert_lt(len, (size_t)1000000, "a frame of %zu bytes", len);
    const size_t first = 150000; /* fits in a socket buffer: the writes do not block */
    bh_conn a = bh_connect(&h), b = bh_connect(&h), small = bh_connect(&h);
    bh_send_raw(&h, &a, frame, first);
    bh_refresh(&h, &a);
    cr_assert_geq(a.c->rcap, len, "the first large frame gets its room");
    /* the second frame's announced room does not fit beside the first's */
    kw_store_be32(frame + 4 + 4, 200); /* its own correlation id */
    bh_send_raw(&h, &b, frame, first);
    bh_refresh(&h, &b);
    cr_assert(b.c->read_paused, "the second large frame waits");
    cr_assert_leq(bk_conn_memory(b.c), h.cfg.conn_buffer_bytes + 4096,
                  "the waiting connection holds %zu bytes", bk_conn_memory(b.c));
    cr_assert_leq(h.br.queued_request_bytes, h.br.cfg.queued_max_request_bytes,
                  "%zu bytes held beyond first buffers", h.br.queued_request_bytes);
    kw_api_versions_request av;
    memset(&av, 0, sizeof av);
    bh_send(&h, &small, KW_API_API_VERSIONS, 0, &av);
    bh_resp r;
    cr_assert(bh_recv(&h, &small, KW_API_API_VERSIONS, 0, &r), "small requests go on meanwhile");
    bh_resp_free(&r);
    bh_advance(&h, h.cfg.frame_timeout_ms / 2);
    cr_assert_not(bh_closed(&h, &b), "waiting");
    /* the first frame completes: it is served, its room given back, the second reads on */
    kw_store_be32(frame + 4 + 4, 100);
    bh_send_raw(&h, &a, frame + first, len - first);
    expect_produced(&a, 100);
    bh_refresh(&h, &b);
    cr_assert_not(b.c->read_paused, "woken when the room came back");
    /* the wait does not count against the second frame's time */
    bh_advance(&h, h.cfg.frame_timeout_ms / 2 + 1000);
    cr_assert_not(bh_closed(&h, &b), "not a slow client: it waited for the broker");
    kw_store_be32(frame + 4 + 4, 200);
    bh_send_raw(&h, &b, frame + first, len - first);
    expect_produced(&b, 200);
    cr_assert_eq(bk_partition_find(&h.br, bk_cstr("t"), 1)->log.end, 80000, "both frames stored");
    cr_assert_gt(h.br.stats.read_pauses, 0, "counted");
    free(frame);
    bh_disconnect(&h, &a);
    bh_disconnect(&h, &b);
    bh_disconnect(&h, &small);
}

static int16_t metadata_topic_errors(bh_conn *c, int n, const char *prefix, int16_t *errors)
{
    kw_metadata_request_metadata_request_topic mt[16];
    char names[16][32];
    memset(mt, 0, sizeof mt);
    for (int i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "%s%d", prefix, i);
        mt[i].name = bk_cstr(names[i]);
    }
    kw_metadata_request rq;
    memset(&rq, 0, sizeof rq);
    rq.topics = kw_array_of(mt, n);
    rq.allow_auto_topic_creation = true;
    bh_send(&h, c, KW_API_METADATA, 12, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, c, KW_API_METADATA, 12, &r), "metadata");
    cr_assert_eq(r.err, KW_OK, "decodes");
    kw_array_iter it;
    kw_metadata_response_metadata_response_topic t;
    kw_array_iter_init(&it, &r.msg.u.metadata_response.topics);
    int16_t k = 0;
    while (kw_metadata_response_metadata_response_topic_next(&it, &t))
        errors[k++] = t.error_code;
    bh_resp_free(&r);
    return k;
}

static bool exists_in(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

static size_t entries_starting(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    cr_assert(d, "open %s", dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* One request creates at most max_partitions_per_request partitions; the rest are refused. */
Test(broker_api, topic_creation_per_request_is_capped)
{
    h.br.cfg.max_partitions_per_request = 5;
    bh_conn c = bh_connect(&h);
    int16_t errors[16];
    cr_assert_eq(metadata_topic_errors(&c, 8, "auto", errors), 8, "eight topics answered");
    for (int i = 0; i < 8; i++)
        cr_assert_eq(errors[i], i < 5 ? KW_KAFKA_LEADER_NOT_AVAILABLE : KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION,
                     "topic %d: error %d", i, errors[i]);
    cr_assert_eq(entries_starting(h.dir, "auto"), 5, "five created on disk");
    /* the next request has its own allowance */
    cr_assert_eq(metadata_topic_errors(&c, 8, "auto", errors), 8, "again");
    for (int i = 0; i < 8; i++)
        cr_assert_eq(errors[i], i < 5 ? 0 : KW_KAFKA_LEADER_NOT_AVAILABLE, "topic %d: %d", i, errors[i]);
    kw_create_topics_request_creatable_topic ct;
    memset(&ct, 0, sizeof ct);
    ct.name = bk_cstr("wide");
    ct.num_partitions = 6;
    ct.replication_factor = 1;
    kw_create_topics_request rq;
    memset(&rq, 0, sizeof rq);
    rq.topics = kw_array_of(&ct, 1);
    rq.timeout_ms = 1000;
    bh_send(&h, &c, KW_API_CREATE_TOPICS, 7, &rq);
    bh_resp r;
    cr_assert(bh_recv(&h, &c, KW_API_CREATE_TOPICS, 7, &r), "create topics");
    kw_array_iter it;
    kw_create_topics_response_creatable_topic_result res;
    kw_array_iter_init(&it, &r.msg.u.create_topics_response.topics);
    cr_assert(kw_create_topics_response_creatable_topic_result_next(&it, &res), "result");
    cr_assert_eq(res.error_code, KW_KAFKA_POLICY_VIOLATION, "refused: %d", res.error_code);
    char text[256] = "";
    if (res.error_message.ptr && res.error_message.len < sizeof text)
        memcpy(text, res.error_message.ptr, res.error_message.len);
    cr_assert(strstr(text, "--max-partitions-per-request"), "the message names the limit: %s", text);
    bh_resp_free(&r);
    cr_assert_not(exists_in(h.dir, "wide-0"), "nothing of it on disk");
    bh_disconnect(&h, &c);
}

/* Creation stops where the open-file limit would be reached, with the numbers in the message. */
Test(broker_api, topic_creation_respects_the_open_file_limit)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    long used = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        cr_skip_test("no /proc/self/fd");
    while (readdir(d))
        used++;
    closedir(d);
    struct rlimit low = rl;
    low.rlim_cur = (rlim_t)used + 100; /* the broker keeps max(64, limit/8) for connections */
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    bk_topic *t;
    const char *msg;
    int created = 0, code = KW_KAFKA_NONE;
    for (int i = 0; i < 40 && code == KW_KAFKA_NONE; i++) {
        char name[32];
        snprintf(name, sizeof name, "fd%d", i);
        code = bk_topic_create(&h.br, bk_cstr(name), 4, NULL, 0, false, &t, &msg);
        created += code == KW_KAFKA_NONE;
    }
    cr_assert_eq(code, KW_KAFKA_POLICY_VIOLATION, "refused at last: %d", code);
    cr_assert(created > 0 && created < 40, "%d created before the limit", created);
    cr_assert(msg && strstr(msg, "open-file limit"), "says why: %s", msg ? msg : "");
    char refused[32];
    snprintf(refused, sizeof refused, "fd%d-0", created);
    cr_assert_not(exists_in(h.dir, refused), "the refused topic left nothing");
    /* with the limit back, every topic is served again */
    bh_close(&h);
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    cr_assert(bh_open(&h), "with the limit back");
    for (int i = 0; i < created; i++) {
        char name[32];
        snprintf(name, sizeof name, "fd%d", i);
        cr_assert_not_null(bk_topic_find(&h.br, bk_cstr(name)), "%s is served again", name);
    }
    /* with a hard limit below what its topics need (the broker raises only the soft one), it
     * still starts, serves what fits and leaves the rest on disk, closed; last, since an
     * unprivileged process cannot raise a hard limit again */
    bh_close(&h);
    long closed_used = 0;
    d = opendir("/proc/self/fd");
    while (readdir(d))
        closed_used++;
    closedir(d);
    low.rlim_cur = low.rlim_max = (rlim_t)closed_used + 64 + 12; /* the reserve, room for ~6 */
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    cr_assert(bh_open(&h), "starts on its data directory below the limit");
    cr_assert_not_null(bk_topic_find(&h.br, bk_cstr("t")), "serves what fits");
    int served = 0;
    for (int i = 0; i < created; i++) {
        char name[32];
        snprintf(name, sizeof name, "fd%d", i);
        served += bk_topic_find(&h.br, bk_cstr(name)) != NULL;
    }
    cr_assert_lt(served, created, "%d of %d topics opened: the rest wait for a higher limit",
                 served, created);
    char dir0[32];
    snprintf(dir0, sizeof dir0, "fd%d-0", created - 1);
    cr_assert(exists_in(h.dir, dir0), "a topic left closed keeps its data");
}

/* A creation that fails half way leaves nothing; leftovers of an interrupted one go at start. */
Test(broker_api, topic_creation_is_all_or_nothing)
{
    char path[512];
    /* partition 2's staging directory cannot be made: a file is in its way */
    snprintf(path, sizeof path, "%s/creating~half-2", h.dir);
    FILE *f = fopen(path, "w");
    cr_assert(f, "file in the way");
    fclose(f);
    bk_topic *t;
    const char *msg;
    cr_assert_eq(bk_topic_create(&h.br, bk_cstr("half"), 4, NULL, 0, false, &t, &msg),
                 KW_KAFKA_KAFKA_STORAGE_ERROR, "fails");
    for (int p = 0; p < 4; p++) {
        char name[32];
        snprintf(name, sizeof name, "half-%d", p);
        cr_assert_not(exists_in(h.dir, name), "%s not made", name);
        snprintf(name, sizeof name, "creating~half-%d", p);
        cr_assert(p == 2 || !exists_in(h.dir, name), "%s removed", name);
    }
    cr_assert_null(bk_topic_find(&h.br, bk_cstr("half")), "no topic");
    /* what a crash during a creation leaves: staging directories with logs in them */
    unlink(path);
    snprintf(path, sizeof path, "%s/creating~crashed-0", h.dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/creating~crashed-0/00000000000000000000.log", h.dir);
    f = fopen(path, "w");
    cr_assert(f);
    fclose(f);
    bh_close(&h);
    cr_assert(bh_open(&h), "starts");
    cr_assert_eq(entries_starting(h.dir, "creating~"), 0, "leftovers removed");
    cr_assert_null(bk_topic_find(&h.br, bk_cstr("crashed")), "no half topic");
    cr_assert_null(bk_topic_find(&h.br, bk_cstr("half")), "no half topic after restart");
    cr_assert_eq(bk_topic_create(&h.br, bk_cstr("half"), 4, NULL, 0, false, &t, &msg), KW_KAFKA_NONE,
                 "the name can be created now");
}
