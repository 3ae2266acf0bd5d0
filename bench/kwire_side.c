/*
 * The kwire side of the benchmarks (see kwire_side.h): messages as plain
 * structs for the generated encoders, and the decode walks.
 */
#include "kwire_side.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kwire/kwire.h>
#include <kwire/messages.h>

/* ---- messages ----------------------------------------------------------- */

struct kwb_msg {
    const kw_message_info *info;
    int16_t version;
    bool response;
    const void *view;
    int64_t items;
    size_t records_fields;
    kw_records **records; /* every records field, for kwb_msg_lend_records */
    kw_request_header_message request_header;
    kw_response_header_message response_header;
    void **blocks; /* storage for items arrays and names, freed with the message */
    size_t block_count;
    bool failed;
    union {
        kw_produce_request produce_request;
        kw_fetch_response fetch_response;
        kw_metadata_response metadata_response;
        kw_fetch_request fetch_request;
        kw_api_versions_request api_versions_request;
        kw_api_versions_response api_versions_response;
        kw_offset_commit_request offset_commit_request;
    } u;
};

static void *msg_alloc(kwb_msg *m, size_t count, size_t size)
{
    void **blocks = realloc(m->blocks, (m->block_count + 1) * sizeof *blocks);
    void *p = calloc(count ? count : 1, size);
    if (!blocks || !p) {
        free(p);
        if (blocks)
            m->blocks = blocks;
        m->failed = true;
        return NULL;
    }
    m->blocks = blocks;
    m->blocks[m->block_count++] = p;
    return p;
}

static kwb_msg *msg_new(const kw_message_info *info, int16_t version, bool response)
{
    kwb_msg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    static const char client_id[] = "kwire-bench-client-1";
    m->info = info;
    m->version = version;
    m->response = response;
    m->view = &m->u;
    m->request_header.request_api_key = info->api_key;
    m->request_header.request_api_version = version;
    m->request_header.correlation_id = 12345;
    m->request_header.client_id = (kw_slice){(const uint8_t *)client_id, sizeof client_id - 1};
    m->response_header.correlation_id = 12345;
    return m;
}

static kwb_msg *msg_done(kwb_msg *m)
{
    if (m && m->failed) {
        kwb_msg_free(m);
        return NULL;
    }
    return m;
}

void kwb_msg_free(kwb_msg *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->block_count; i++)
        free(m->blocks[i]);
    free(m->blocks);
    free(m);
}

int64_t kwb_msg_items(const kwb_msg *m) { return m->items; }
size_t kwb_msg_records_fields(const kwb_msg *m) { return m->records_fields; }

void kwb_msg_lend_records(kwb_msg *m, bool lend)
{
    for (size_t i = 0; i < m->records_fields; i++)
        m->records[i]->source = lend ? KW_RECORDS_LEND : KW_RECORDS_COPY;
}
const char *kwb_msg_name(const kwb_msg *m) { return m->info->name; }

/* count names "<prefix><index, digits wide><suffix>", each as a slice. */
static kw_slice *names(kwb_msg *m, const char *prefix, int digits, const char *suffix, int count)
{
    enum { WIDTH = 48 };
    char *text = msg_alloc(m, (size_t)count, WIDTH);
    kw_slice *out = msg_alloc(m, (size_t)count, sizeof *out);
    if (!text || !out)
        return NULL;
    for (int i = 0; i < count; i++) {
        char *s = text + (size_t)i * WIDTH;
        int len = snprintf(s, WIDTH, "%s%0*d%s", prefix, digits, i, suffix);
        out[i] = (kw_slice){(const uint8_t *)s, (size_t)len};
    }
    return out;
}

static kw_slice lit(const char *s) { return (kw_slice){(const uint8_t *)s, strlen(s)}; }

static kw_uuid uuid_for(int i)
{
    kw_uuid u;
    uint32_t s = 0xC0FFEEu + (uint32_t)i;
    for (size_t k = 0; k < sizeof u.bytes; k++) {
        s = s * 1664525u + 1013904223u;
        u.bytes[k] = (uint8_t)(s >> 24);
    }
    return u;
}

kwb_msg *kwb_produce_request_new(int16_t version, int topics, int per_topic, kw_slice batch,
                                 int64_t records_per_batch)
{
    kwb_msg *m = msg_new(&kw_produce_request_info, version, false);
    if (!m)
        return NULL;
    const size_t total = (size_t)topics * (size_t)per_topic;
    kw_slice *topic_names = names(m, "bench-topic-", 2, "", topics);
    kw_produce_request_partition_produce_data *parts = msg_alloc(m, total, sizeof *parts);
    kw_produce_request_topic_produce_data *ts = msg_alloc(m, (size_t)topics, sizeof *ts);
    if (m->failed)
        return msg_done(m);
    kw_records **records = msg_alloc(m, total, sizeof *records);
    if (m->failed)
        return msg_done(m);
    for (size_t i = 0; i < total; i++) {
        parts[i].index = (int32_t)(i % (size_t)per_topic);
        parts[i].records = kw_records_of(batch);
        records[i] = &parts[i].records;
    }
    m->records = records;
    for (int t = 0; t < topics; t++) {
        ts[t].name = topic_names[t];
        ts[t].partition_data = kw_array_of(parts + (size_t)t * (size_t)per_topic, per_topic);
    }
    kw_produce_request *req = &m->u.produce_request;
    req->transactional_id = (kw_slice){NULL, 0};
    req->acks = -1;
    req->timeout_ms = 30000;
    req->topic_data = kw_array_of(ts, topics);
    m->items = (int64_t)total * records_per_batch;
    m->records_fields = total;
    return msg_done(m);
}

kwb_msg *kwb_fetch_response_new(int16_t version, int topics, int per_topic, kw_slice batch,
                                int64_t records_per_batch)
{
    kwb_msg *m = msg_new(&kw_fetch_response_info, version, true);
    if (!m)
        return NULL;
    const size_t total = (size_t)topics * (size_t)per_topic;
    kw_slice *topic_names = names(m, "bench-topic-", 2, "", topics);
    kw_fetch_response_partition_data *parts = msg_alloc(m, total, sizeof *parts);
    kw_fetch_response_fetchable_topic_response *ts = msg_alloc(m, (size_t)topics, sizeof *ts);
    kw_records **records = msg_alloc(m, total, sizeof *records);
    if (m->failed)
        return msg_done(m);
    for (size_t i = 0; i < total; i++) {
        parts[i].partition_index = (int32_t)(i % (size_t)per_topic);
        parts[i].high_watermark = records_per_batch;
        parts[i].last_stable_offset = records_per_batch;
        parts[i].log_start_offset = 0;
        parts[i].aborted_transactions = kw_array_of(NULL, -1);
        parts[i].preferred_read_replica = -1;
        parts[i].records = kw_records_of(batch);
        records[i] = &parts[i].records;
    }
    m->records = records;
    for (int t = 0; t < topics; t++) {
        ts[t].topic = topic_names[t];
        ts[t].topic_id = uuid_for(t);
        ts[t].partitions = kw_array_of(parts + (size_t)t * (size_t)per_topic, per_topic);
    }
    kw_fetch_response *resp = &m->u.fetch_response;
    resp->responses = kw_array_of(ts, topics);
    m->items = (int64_t)total * records_per_batch;
    m->records_fields = total;
    return msg_done(m);
}

kwb_msg *kwb_metadata_response_new(int16_t version, int topics, int per_topic)
{
    kwb_msg *m = msg_new(&kw_metadata_response_info, version, true);
    if (!m)
        return NULL;
    const size_t total = (size_t)topics * (size_t)per_topic;
    kw_slice *topic_names = names(m, "metadata-topic-", 3, "", topics);
    kw_slice *hosts = names(m, "broker-", 1, ".kafka.internal", 3);
    kw_metadata_response_metadata_response_broker *brokers = msg_alloc(m, 3, sizeof *brokers);
    int32_t *replicas = msg_alloc(m, total * 3, sizeof *replicas);
    kw_metadata_response_metadata_response_partition *parts = msg_alloc(m, total, sizeof *parts);
    kw_metadata_response_metadata_response_topic *ts = msg_alloc(m, (size_t)topics, sizeof *ts);
    if (m->failed)
        return msg_done(m);
    for (int i = 0; i < 3; i++) {
        brokers[i].node_id = i;
        brokers[i].host = hosts[i];
        brokers[i].port = 9092;
        brokers[i].rack = lit("us-east-1a");
    }
    for (size_t i = 0; i < total; i++) {
        int32_t *r = replicas + i * 3;
        for (size_t k = 0; k < 3; k++)
            r[k] = (int32_t)((i + k) % 3);
        parts[i].partition_index = (int32_t)(i % (size_t)per_topic);
        parts[i].leader_id = r[0];
        parts[i].leader_epoch = 7;
        parts[i].replica_nodes = kw_array_of(r, 3);
        parts[i].isr_nodes = kw_array_of(r, 3);
        parts[i].offline_replicas = kw_array_of(NULL, 0);
    }
    for (int t = 0; t < topics; t++) {
        ts[t].name = topic_names[t];
        ts[t].topic_id = uuid_for(t);
        ts[t].partitions = kw_array_of(parts + (size_t)t * (size_t)per_topic, per_topic);
        ts[t].topic_authorized_operations = INT32_MIN;
    }
    kw_metadata_response *resp = &m->u.metadata_response;
    resp->brokers = kw_array_of(brokers, 3);
    resp->cluster_id = lit("kwire-bench-cluster-0001");
    resp->controller_id = 1;
    resp->topics = kw_array_of(ts, topics);
    resp->cluster_authorized_operations = INT32_MIN;
    m->items = (int64_t)total;
    return msg_done(m);
}

kwb_msg *kwb_fetch_request_new(int16_t version, int topics, int per_topic)
{
    kwb_msg *m = msg_new(&kw_fetch_request_info, version, false);
    if (!m)
        return NULL;
    const size_t total = (size_t)topics * (size_t)per_topic;
    kw_slice *topic_names = names(m, "fetch-topic-", 2, "", topics);
    kw_fetch_request_fetch_partition *parts = msg_alloc(m, total, sizeof *parts);
    kw_fetch_request_fetch_topic *ts = msg_alloc(m, (size_t)topics, sizeof *ts);
    if (m->failed)
        return msg_done(m);
    for (size_t i = 0; i < total; i++) {
        parts[i].partition = (int32_t)(i % (size_t)per_topic);
        parts[i].current_leader_epoch = 5;
        parts[i].fetch_offset = 1234567 + (int64_t)i;
        parts[i].last_fetched_epoch = -1;
        parts[i].log_start_offset = -1;
        parts[i].partition_max_bytes = 1048576;
    }
    for (int t = 0; t < topics; t++) {
        ts[t].topic = topic_names[t];
        ts[t].topic_id = uuid_for(t);
        ts[t].partitions = kw_array_of(parts + (size_t)t * (size_t)per_topic, per_topic);
    }
    kw_fetch_request *req = &m->u.fetch_request;
    req->cluster_id = (kw_slice){NULL, 0};
    req->replica_id = -1;
    req->max_wait_ms = 500;
    req->min_bytes = 1;
    req->max_bytes = 52428800;
    req->isolation_level = 0;
    req->session_id = 0;
    req->session_epoch = -1;
    req->topics = kw_array_of(ts, topics);
    req->forgotten_topics_data = kw_array_of(NULL, 0);
    req->rack_id = lit("");
    m->items = (int64_t)total;
    return msg_done(m);
}

kwb_msg *kwb_api_versions_request_new(int16_t version)
{
    kwb_msg *m = msg_new(&kw_api_versions_request_info, version, false);
    if (!m)
        return NULL;
    m->u.api_versions_request.client_software_name = lit("apache-kafka-java");
    m->u.api_versions_request.client_software_version = lit("3.7.0");
    m->items = 1;
    return msg_done(m);
}

kwb_msg *kwb_api_versions_response_new(int16_t version)
{
    kwb_msg *m = msg_new(&kw_api_versions_response_info, version, true);
    if (!m)
        return NULL;
    size_t count = 0;
    const kw_api_info *table = kw_api_table(&count);
    kw_api_versions_response_api_version *keys = msg_alloc(m, count, sizeof *keys);
    kw_api_versions_response_supported_feature_key *supported = msg_alloc(m, 1, sizeof *supported);
    kw_api_versions_response_finalized_feature_key *finalized = msg_alloc(m, 1, sizeof *finalized);
    if (m->failed)
        return msg_done(m);
    for (size_t i = 0; i < count; i++) {
        keys[i].api_key = table[i].key;
        keys[i].min_version = table[i].min_version;
        keys[i].max_version = table[i].max_version;
    }
    supported->name = lit("metadata.version");
    supported->min_version = 1;
    supported->max_version = 20;
    finalized->name = lit("metadata.version");
    finalized->max_version_level = 20;
    finalized->min_version_level = 20;
    kw_api_versions_response *resp = &m->u.api_versions_response;
    resp->api_keys = kw_array_of(keys, (int32_t)count);
    resp->supported_features = kw_array_of(supported, 1);
    resp->finalized_features_epoch = 1234;
    resp->finalized_features = kw_array_of(finalized, 1);
    m->items = (int64_t)count;
    return msg_done(m);
}

kwb_msg *kwb_offset_commit_request_new(int16_t version, int topics, int per_topic)
{
    kwb_msg *m = msg_new(&kw_offset_commit_request_info, version, false);
    if (!m)
        return NULL;
    const size_t total = (size_t)topics * (size_t)per_topic;
    kw_slice *topic_names = names(m, "commit-topic-", 2, "", topics);
    kw_offset_commit_request_offset_commit_request_partition *parts =
        msg_alloc(m, total, sizeof *parts);
    kw_offset_commit_request_offset_commit_request_topic *ts =
        msg_alloc(m, (size_t)topics, sizeof *ts);
    if (m->failed)
        return msg_done(m);
    for (size_t i = 0; i < total; i++) {
        parts[i].partition_index = (int32_t)(i % (size_t)per_topic);
        parts[i].committed_offset = 1000000 + (int64_t)i;
        parts[i].committed_leader_epoch = 3;
        parts[i].commit_timestamp = -1;
        parts[i].committed_metadata = lit("");
    }
    for (int t = 0; t < topics; t++) {
        ts[t].name = topic_names[t];
        ts[t].topic_id = uuid_for(t);
        ts[t].partitions = kw_array_of(parts + (size_t)t * (size_t)per_topic, per_topic);
    }
    kw_offset_commit_request *req = &m->u.offset_commit_request;
    req->group_id = lit("kwire-bench-group");
    req->generation_id_or_member_epoch = 42;
    req->member_id = lit("kwire-bench-client-1-5f0c1d2e-8a7b-4c3d-9e1f-0a1b2c3d4e5f");
    req->group_instance_id = (kw_slice){NULL, 0};
    req->retention_time_ms = -1;
    req->topics = kw_array_of(ts, topics);
    m->items = (int64_t)total;
    return msg_done(m);
}

kw_err kwb_encode_frame(kw_builder *b, const kwb_msg *m)
{
    const size_t end = kw_builder_size(b);
    m->info->encode(b, m->version, m->view);
    const int16_t key = m->info->api_key;
    if (m->response)
        kw_response_header_message_encode(b, (int16_t)kw_response_header_version(key, m->version),
                                          &m->response_header);
    else
        kw_request_header_message_encode(b, (int16_t)kw_request_header_version(key, m->version),
                                         &m->request_header);
    kw_build_length_i32(b, end);
    return kw_builder_error(b);
}

/* ---- walks ---------------------------------------------------------------- */

static bool open_frame(const uint8_t *frame, size_t n, kw_reader *r)
{
    kw_frame fr;
    if (kw_frame_split(frame, n, 0, &fr) != KW_FRAME_COMPLETE || fr.total != n)
        return false;
    kw_reader_init(r, fr.body, fr.size);
    return true;
}

static bool open_request(const uint8_t *frame, size_t n, kw_reader *r, kw_request_header *h)
{
    return open_frame(frame, n, r) && kw_request_header_parse(r, h, NULL) == KW_OK;
}

static bool open_response(const uint8_t *frame, size_t n, int16_t api_key, int16_t version,
                          kw_reader *r)
{
    kw_response_header h;
    return open_frame(frame, n, r) &&
           kw_response_header_read(r, kw_response_header_version(api_key, version), &h, NULL) ==
               KW_OK;
}

/* Every batch, record and header of a records field: records seen, or -1. */
static int64_t walk_records(kw_slice records, unsigned flags, uint64_t *sum)
{
    int64_t seen = 0;
    kw_batch_iter bi;
    kw_batch_iter_init(&bi, records, flags);
    kw_batch batch;
    int rc;
    while ((rc = kw_batch_iter_next(&bi, &batch)) == 1) {
        if (batch.magic != 2)
            return -1;
        kw_record_iter ri;
        kw_record_iter_init(&ri, &batch.v2);
        kw_record rec;
        int rr;
        while ((rr = kw_record_iter_next(&ri, &rec)) == 1) {
            seen++;
            *sum += rec.key.len + rec.value.len;
            kw_record_header_iter hi;
            kw_record_header_iter_init(&hi, &rec);
            kw_record_header hdr;
            while (kw_record_header_iter_next_unchecked(&hi, &hdr))
                *sum += hdr.key.len + hdr.value.len;
        }
        if (rr != 0)
            return -1;
    }
    if (rc != 0 || kw_batch_iter_partial(&bi) != 0)
        return -1;
    return seen;
}

int64_t kwb_walk_produce_request(const uint8_t *frame, size_t n, unsigned batch_flags,
                                 uint64_t *sum)
{
    kw_reader r;
    kw_request_header h;
    if (!open_request(frame, n, &r, &h))
        return -1;
    kw_produce_request req;
    if (kw_produce_request_decode(&r, h.api_version, &req, NULL) != KW_OK ||
        kw_reader_remaining(&r))
        return -1;
    int64_t seen = 0;
    kw_array_iter ti;
    kw_array_iter_init(&ti, &req.topic_data);
    kw_produce_request_topic_produce_data topic;
    while (kw_produce_request_topic_produce_data_next(&ti, &topic)) {
        *sum += topic.name.len;
        kw_array_iter pi;
        kw_array_iter_init(&pi, &topic.partition_data);
        kw_produce_request_partition_produce_data part;
        while (kw_produce_request_partition_produce_data_next(&pi, &part)) {
            *sum += (uint64_t)part.index;
            const int64_t k = walk_records(part.records.bytes, batch_flags, sum);
            if (k < 0)
                return -1;
            seen += k;
        }
    }
    return seen;
}

int64_t kwb_walk_fetch_response(const uint8_t *frame, size_t n, int16_t version,
                                unsigned batch_flags, uint64_t *sum)
{
    kw_reader r;
    if (!open_response(frame, n, KW_API_FETCH, version, &r))
        return -1;
    kw_fetch_response resp;
    if (kw_fetch_response_decode(&r, version, &resp, NULL) != KW_OK || kw_reader_remaining(&r))
        return -1;
    int64_t seen = 0;
    kw_array_iter ti;
    kw_array_iter_init(&ti, &resp.responses);
    kw_fetch_response_fetchable_topic_response topic;
    while (kw_fetch_response_fetchable_topic_response_next(&ti, &topic)) {
        *sum += topic.topic.len;
        kw_array_iter pi;
        kw_array_iter_init(&pi, &topic.partitions);
        kw_fetch_response_partition_data part;
        while (kw_fetch_response_partition_data_next(&pi, &part)) {
            *sum += (uint64_t)part.high_watermark;
            kw_array_iter ai;
            kw_array_iter_init(&ai, &part.aborted_transactions);
            kw_fetch_response_aborted_transaction aborted;
            while (kw_fetch_response_aborted_transaction_next(&ai, &aborted))
                *sum += (uint64_t)aborted.first_offset;
            const int64_t k = walk_records(part.records.bytes, batch_flags, sum);
            if (k < 0)
                return -1;
            seen += k;
        }
    }
    return seen;
}

int64_t kwb_walk_metadata_response(const uint8_t *frame, size_t n, int16_t version,
                                   uint64_t *sum)
{
    kw_reader r;
    if (!open_response(frame, n, KW_API_METADATA, version, &r))
        return -1;
    kw_metadata_response resp;
    if (kw_metadata_response_decode(&r, version, &resp, NULL) != KW_OK || kw_reader_remaining(&r))
        return -1;
    kw_array_iter bi;
    kw_array_iter_init(&bi, &resp.brokers);
    kw_metadata_response_metadata_response_broker broker;
    while (kw_metadata_response_metadata_response_broker_next(&bi, &broker))
        *sum += broker.host.len + (uint64_t)broker.port;
    int64_t seen = 0;
    kw_array_iter ti;
    kw_array_iter_init(&ti, &resp.topics);
    kw_metadata_response_metadata_response_topic topic;
    while (kw_metadata_response_metadata_response_topic_next(&ti, &topic)) {
        *sum += topic.name.len;
        kw_array_iter pi;
        kw_array_iter_init(&pi, &topic.partitions);
        kw_metadata_response_metadata_response_partition part;
        while (kw_metadata_response_metadata_response_partition_next(&pi, &part)) {
            seen++;
            *sum += (uint64_t)part.leader_id;
            const kw_array *lists[] = {&part.replica_nodes, &part.isr_nodes,
                                       &part.offline_replicas};
            for (size_t l = 0; l < 3; l++) {
                kw_array_iter ni;
                kw_array_iter_init(&ni, lists[l]);
                int32_t node;
                while (kw_array_next_i32(&ni, &node))
                    *sum += (uint64_t)node;
            }
        }
    }
    return seen;
}

int64_t kwb_walk_fetch_request(const uint8_t *frame, size_t n, uint64_t *sum)
{
    kw_reader r;
    kw_request_header h;
    if (!open_request(frame, n, &r, &h))
        return -1;
    kw_fetch_request req;
    if (kw_fetch_request_decode(&r, h.api_version, &req, NULL) != KW_OK || kw_reader_remaining(&r))
        return -1;
    int64_t seen = 0;
    kw_array_iter ti;
    kw_array_iter_init(&ti, &req.topics);
    kw_fetch_request_fetch_topic topic;
    while (kw_fetch_request_fetch_topic_next(&ti, &topic)) {
        *sum += topic.topic.len + topic.topic_id.bytes[0];
        kw_array_iter pi;
        kw_array_iter_init(&pi, &topic.partitions);
        kw_fetch_request_fetch_partition part;
        while (kw_fetch_request_fetch_partition_next(&pi, &part)) {
            seen++;
            *sum += (uint64_t)part.fetch_offset + (uint64_t)part.partition_max_bytes;
        }
    }
    kw_array_iter fi;
    kw_array_iter_init(&fi, &req.forgotten_topics_data);
    kw_fetch_request_forgotten_topic forgotten;
    while (kw_fetch_request_forgotten_topic_next(&fi, &forgotten))
        *sum += forgotten.topic.len;
    return seen;
}

int64_t kwb_walk_api_versions_request(const uint8_t *frame, size_t n, uint64_t *sum)
{
    kw_reader r;
    kw_request_header h;
    if (!open_request(frame, n, &r, &h))
        return -1;
    kw_api_versions_request req;
    if (kw_api_versions_request_decode(&r, h.api_version, &req, NULL) != KW_OK ||
        kw_reader_remaining(&r))
        return -1;
    *sum += req.client_software_name.len + req.client_software_version.len + h.client_id.len;
    return 1;
}

int64_t kwb_walk_api_versions_response(const uint8_t *frame, size_t n, int16_t version,
                                       uint64_t *sum)
{
    kw_reader r;
    if (!open_response(frame, n, KW_API_API_VERSIONS, version, &r))
        return -1;
    kw_api_versions_response resp;
    if (kw_api_versions_response_decode(&r, version, &resp, NULL) != KW_OK ||
        kw_reader_remaining(&r))
        return -1;
    int64_t seen = 0;
    kw_array_iter ki;
    kw_array_iter_init(&ki, &resp.api_keys);
    kw_api_versions_response_api_version key;
    while (kw_api_versions_response_api_version_next(&ki, &key)) {
        seen++;
        *sum += (uint64_t)(key.api_key + key.max_version);
    }
    kw_array_iter si;
    kw_array_iter_init(&si, &resp.supported_features);
    kw_api_versions_response_supported_feature_key feature;
    while (kw_api_versions_response_supported_feature_key_next(&si, &feature))
        *sum += feature.name.len;
    kw_array_iter fi;
    kw_array_iter_init(&fi, &resp.finalized_features);
    kw_api_versions_response_finalized_feature_key finalized;
    while (kw_api_versions_response_finalized_feature_key_next(&fi, &finalized))
        *sum += finalized.name.len;
    return seen;
}

int64_t kwb_walk_offset_commit_request(const uint8_t *frame, size_t n, uint64_t *sum)
{
    kw_reader r;
    kw_request_header h;
    if (!open_request(frame, n, &r, &h))
        return -1;
    kw_offset_commit_request req;
    if (kw_offset_commit_request_decode(&r, h.api_version, &req, NULL) != KW_OK ||
        kw_reader_remaining(&r))
        return -1;
    *sum += req.group_id.len + req.member_id.len + (uint64_t)req.generation_id_or_member_epoch;
    int64_t seen = 0;
    kw_array_iter ti;
    kw_array_iter_init(&ti, &req.topics);
    kw_offset_commit_request_offset_commit_request_topic topic;
    while (kw_offset_commit_request_offset_commit_request_topic_next(&ti, &topic)) {
        *sum += topic.name.len;
        kw_array_iter pi;
        kw_array_iter_init(&pi, &topic.partitions);
        kw_offset_commit_request_offset_commit_request_partition part;
        while (kw_offset_commit_request_offset_commit_request_partition_next(&pi, &part)) {
            seen++;
            *sum += (uint64_t)part.partition_index + (uint64_t)part.committed_offset +
                    (uint64_t)part.committed_leader_epoch + part.committed_metadata.len;
        }
    }
    return seen;
}

/* ---- counts, for the peers' smoke check ------------------------------------- */

/* Records and headers of every batch of a records field (CRC checked). */
static bool count_records(kw_slice records, kwb_counts *c)
{
    kw_batch_iter bi;
    kw_batch_iter_init(&bi, records, KW_VERIFY_CRC);
    kw_batch batch;
    int rc;
    while ((rc = kw_batch_iter_next(&bi, &batch)) == 1) {
        if (batch.magic != 2)
            return false;
        c->batches++;
        kw_record_iter ri;
        kw_record_iter_init(&ri, &batch.v2);
        kw_record rec;
        int rr;
        while ((rr = kw_record_iter_next(&ri, &rec)) == 1) {
            c->records++;
            kw_record_header_iter hi;
            kw_record_header_iter_init(&hi, &rec);
            kw_record_header hdr;
            while (kw_record_header_iter_next_unchecked(&hi, &hdr))
                c->headers++;
        }
        if (rr != 0)
            return false;
    }
    return rc == 0 && kw_batch_iter_partial(&bi) == 0;
}

bool kwb_count_produce_request(const uint8_t *frame, size_t n, kwb_counts *c)
{
    kw_reader r;
    kw_request_header h;
    kw_produce_request req;
    if (!open_request(frame, n, &r, &h) ||
        kw_produce_request_decode(&r, h.api_version, &req, NULL) != KW_OK)
        return false;
    kw_array_iter ti;
    kw_array_iter_init(&ti, &req.topic_data);
    kw_produce_request_topic_produce_data topic;
    while (kw_produce_request_topic_produce_data_next(&ti, &topic)) {
        c->topics++;
        kw_array_iter pi;
        kw_array_iter_init(&pi, &topic.partition_data);
        kw_produce_request_partition_produce_data part;
        while (kw_produce_request_partition_produce_data_next(&pi, &part)) {
            c->partitions++;
            if (!count_records(part.records.bytes, c))
                return false;
        }
    }
    return true;
}

bool kwb_count_fetch_response(const uint8_t *frame, size_t n, int16_t version, kwb_counts *c)
{
    kw_reader r;
    kw_fetch_response resp;
    if (!open_response(frame, n, KW_API_FETCH, version, &r) ||
        kw_fetch_response_decode(&r, version, &resp, NULL) != KW_OK)
        return false;
    kw_array_iter ti;
    kw_array_iter_init(&ti, &resp.responses);
    kw_fetch_response_fetchable_topic_response topic;
    while (kw_fetch_response_fetchable_topic_response_next(&ti, &topic)) {
        c->topics++;
        kw_array_iter pi;
        kw_array_iter_init(&pi, &topic.partitions);
        kw_fetch_response_partition_data part;
        while (kw_fetch_response_partition_data_next(&pi, &part)) {
            c->partitions++;
            if (!count_records(part.records.bytes, c))
                return false;
        }
    }
    return true;
}
