/* Metadata, DescribeTopicPartitions, DescribeCluster and FindCoordinator. */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "topics.h"
#include "util.h"

static kw_slice host_slice(bk_broker *br) { return bk_cstr(br->advertised_host); }

static int32_t *node_array(bk_req *req)
{
    int32_t *n = BK_ALLOC(req, int32_t, 1);
    if (n)
        *n = req->br->cfg.node_id;
    return n;
}

static bool describe_topic(bk_req *req, bk_topic *t, kw_metadata_response_metadata_response_topic *out,
                           bool include_ops)
{
    bk_broker *br = req->br;
    out->name = (kw_slice){(const uint8_t *)t->name, t->name_len};
    out->topic_id = t->id;
    if (include_ops)
        out->topic_authorized_operations = BK_TOPIC_AUTHORIZED_OPS;
    kw_metadata_response_metadata_response_partition *parts =
        BK_ALLOC(req, kw_metadata_response_metadata_response_partition, t->nparts);
    int32_t *node = node_array(req);
    if ((!parts && t->nparts) || !node)
        return false;
    for (int32_t p = 0; p < t->nparts; p++) {
        parts[p].partition_index = p;
        parts[p].leader_id = br->cfg.node_id;
        parts[p].leader_epoch = 0;
        parts[p].replica_nodes = kw_array_of(node, 1);
        parts[p].isr_nodes = kw_array_of(node, 1);
    }
    out->partitions = kw_array_of(parts, t->nparts);
    return true;
}

bk_result bk_handle_metadata(bk_req *req, const kw_metadata_request *rq, kw_metadata_response *resp)
{
    bk_broker *br = req->br;
    kw_metadata_response_metadata_response_broker *broker =
        BK_ALLOC(req, kw_metadata_response_metadata_response_broker, 1);
    if (!broker)
        return BK_CLOSE;
    broker->node_id = br->cfg.node_id;
    broker->host = host_slice(br);
    broker->port = br->advertised_port;
    resp->brokers = kw_array_of(broker, 1);
    resp->cluster_id = bk_cstr(br->cluster_id);
    resp->controller_id = br->cfg.node_id;
    if (rq->include_cluster_authorized_operations)
        resp->cluster_authorized_operations = BK_CLUSTER_AUTHORIZED_OPS;
    bool include_ops = rq->include_topic_authorized_operations;
    bool all = kw_array_is_null(&rq->topics) || (req->version == 0 && kw_array_len(&rq->topics) == 0);
    bool auto_create = br->cfg.auto_create_topics && (req->version < 4 || rq->allow_auto_topic_creation);
    kw_metadata_response_metadata_response_topic *topics;
    int32_t n;
    if (all) {
        n = (int32_t)br->ntopics;
        topics = BK_ALLOC(req, kw_metadata_response_metadata_response_topic, n);
        if (!topics && n)
            return BK_CLOSE;
        for (int32_t i = 0; i < n; i++) {
            kw_metadata_response_metadata_response_topic_init(&topics[i]);
            if (!describe_topic(req, br->topics[i], &topics[i], include_ops))
                return BK_CLOSE;
        }
    } else {
        n = kw_array_len(&rq->topics);
        topics = BK_ALLOC(req, kw_metadata_response_metadata_response_topic, n);
        if (!topics && n)
            return BK_CLOSE;
        kw_array_iter it;
        kw_metadata_request_metadata_request_topic mt;
        kw_array_iter_init(&it, &rq->topics);
        for (int32_t i = 0; kw_metadata_request_metadata_request_topic_next(&it, &mt); i++) {
            kw_metadata_response_metadata_response_topic *out = &topics[i];
            kw_metadata_response_metadata_response_topic_init(out);
            out->name = mt.name;
            out->topic_id = mt.topic_id;
            bk_topic *t = NULL;
            if (!mt.name.ptr) {
                t = bk_topic_find_id(br, &mt.topic_id);
                if (!t) {
                    out->error_code = KW_KAFKA_UNKNOWN_TOPIC_ID;
                    continue;
                }
            } else if (!bk_topic_name_valid(mt.name)) {
                out->error_code = KW_KAFKA_INVALID_TOPIC_EXCEPTION;
                continue;
            } else {
                t = bk_topic_find(br, mt.name);
            }
            if (!t && auto_create) {
                const char *msg;
                int code = bk_topic_create(br, mt.name, br->cfg.default_partitions, NULL, 0, false,
                                           &t, &msg);
                /* as Kafka answers a topic it has just asked its controller to create:
                 * LEADER_NOT_AVAILABLE, and the client asks again */
                out->error_code = (int16_t)(code == KW_KAFKA_NONE ? KW_KAFKA_LEADER_NOT_AVAILABLE
                                            : code == KW_KAFKA_POLICY_VIOLATION ? KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION
                                                                          : code);
                continue;
            }
            if (!t) {
                out->error_code = KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (!describe_topic(req, t, out, include_ops))
                return BK_CLOSE;
        }
    }
    resp->topics = kw_array_of(topics, n);
    return BK_RESPOND;
}

/* ---- DescribeTopicPartitions ------------------------------------------------------------ */

static int cmp_topic_name(const void *a, const void *b)
{
    const bk_topic *x = *(bk_topic *const *)a, *y = *(bk_topic *const *)b;
    return strcmp(x->name, y->name);
}

typedef struct dtp_entry {
    kw_slice name;
    bk_topic *t;
} dtp_entry;

static int cmp_entry(const void *a, const void *b)
{
    const dtp_entry *x = a, *y = b;
    size_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = n ? memcmp(x->name.ptr, y->name.ptr, n) : 0;
    if (c)
        return c;
    return (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

bk_result bk_handle_describe_topic_partitions(bk_req *req,
                                              const kw_describe_topic_partitions_request *rq,
                                              kw_describe_topic_partitions_response *resp)
{
    bk_broker *br = req->br;
    int32_t limit = rq->response_partition_limit;
    if (limit <= 0 || limit > 2000)
        limit = 2000;
    size_t n;
    dtp_entry *entries;
    if (kw_array_len(&rq->topics) == 0) {
        n = br->ntopics;
        bk_topic **sorted = BK_ALLOC(req, bk_topic *, n);
        entries = BK_ALLOC(req, dtp_entry, n);
        if ((!sorted || !entries) && n)
            return BK_CLOSE;
        for (size_t i = 0; i < n; i++)
            sorted[i] = br->topics[i];
        if (n)
            qsort(sorted, n, sizeof *sorted, cmp_topic_name);
        for (size_t i = 0; i < n; i++)
            entries[i] = (dtp_entry){{(const uint8_t *)sorted[i]->name, sorted[i]->name_len}, sorted[i]};
    } else {
        n = (size_t)kw_array_len(&rq->topics);
        entries = BK_ALLOC(req, dtp_entry, n);
        if (!entries)
            return BK_CLOSE;
        kw_array_iter it;
        kw_describe_topic_partitions_request_topic_request tr;
        kw_array_iter_init(&it, &rq->topics);
        size_t k = 0;
        while (kw_describe_topic_partitions_request_topic_request_next(&it, &tr)) {
            bool dup = false;
            for (size_t j = 0; j < k && !dup; j++)
                dup = entries[j].name.len == tr.name.len &&
                      memcmp(entries[j].name.ptr, tr.name.ptr, tr.name.len) == 0;
            if (dup)
                continue;
            entries[k].name = tr.name;
            entries[k].t = bk_topic_find(br, tr.name);
            k++;
        }
        n = k;
        if (n)
            qsort(entries, n, sizeof *entries, cmp_entry);
    }
    size_t start = 0;
    int32_t first_partition = 0;
    if (rq->has_cursor) {
        dtp_entry key = {rq->cursor.topic_name, NULL};
        while (start < n && cmp_entry(&entries[start], &key) < 0)
            start++;
        if (start < n && cmp_entry(&entries[start], &key) == 0)
            first_partition = rq->cursor.partition_index > 0 ? rq->cursor.partition_index : 0;
    }
    kw_describe_topic_partitions_response_describe_topic_partitions_response_topic *topics =
        BK_ALLOC(req, kw_describe_topic_partitions_response_describe_topic_partitions_response_topic,
                 n - start);
    int32_t *node = node_array(req);
    if ((!topics && n > start) || !node)
        return BK_CLOSE;
    int32_t budget = limit;
    size_t out = 0;
    for (size_t i = start; i < n; i++) {
        kw_describe_topic_partitions_response_describe_topic_partitions_response_topic *o = &topics[out];
        bk_topic *t = entries[i].t;
        o->name = entries[i].name;
        o->topic_authorized_operations = BK_TOPIC_AUTHORIZED_OPS;
        if (!t) {
            o->error_code = KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            out++;
            continue;
        }
        if (budget <= 0) {
            resp->has_next_cursor = true;
            resp->next_cursor.topic_name = o->name;
            resp->next_cursor.partition_index = i == start ? first_partition : 0;
            break;
        }
        o->topic_id = t->id;
        int32_t from = i == start ? first_partition : 0;
        if (from > t->nparts)
            from = t->nparts;
        int32_t count = t->nparts - from;
        if (count > budget) {
            count = budget;
            resp->has_next_cursor = true;
            resp->next_cursor.topic_name = o->name;
            resp->next_cursor.partition_index = from + count;
        }
        kw_describe_topic_partitions_response_describe_topic_partitions_response_partition *parts =
            BK_ALLOC(req, kw_describe_topic_partitions_response_describe_topic_partitions_response_partition,
                     count);
        if (!parts && count)
            return BK_CLOSE;
        for (int32_t p = 0; p < count; p++) {
            parts[p].partition_index = from + p;
            parts[p].leader_id = br->cfg.node_id;
            parts[p].leader_epoch = 0;
            parts[p].replica_nodes = kw_array_of(node, 1);
            parts[p].isr_nodes = kw_array_of(node, 1);
            parts[p].eligible_leader_replicas = kw_array_of(NULL, 0);
            parts[p].last_known_elr = kw_array_of(NULL, 0);
        }
        o->partitions = kw_array_of(parts, count);
        budget -= count;
        out++;
        if (resp->has_next_cursor)
            break;
    }
    resp->topics = kw_array_of(topics, (int32_t)out);
    return BK_RESPOND;
}

/* ---- DescribeCluster, FindCoordinator ----------------------------------------------------- */

bk_result bk_handle_describe_cluster(bk_req *req, const kw_describe_cluster_request *rq,
                                     kw_describe_cluster_response *resp)
{
    bk_broker *br = req->br;
    resp->cluster_id = bk_cstr(br->cluster_id);
    resp->controller_id = br->cfg.node_id;
    if (rq->include_cluster_authorized_operations)
        resp->cluster_authorized_operations = BK_CLUSTER_AUTHORIZED_OPS;
    if (req->version >= 1 && rq->endpoint_type != 1) {
        /* a broker, not a controller: Kafka's answer to the controllers endpoint type (2) */
        resp->error_code = rq->endpoint_type == 2 ? KW_KAFKA_MISMATCHED_ENDPOINT_TYPE
                                                  : KW_KAFKA_UNSUPPORTED_ENDPOINT_TYPE;
        resp->error_message = bk_cstr("Only the brokers endpoint type is served.");
        resp->controller_id = -1;
        return BK_RESPOND;
    }
    kw_describe_cluster_response_describe_cluster_broker *broker =
        BK_ALLOC(req, kw_describe_cluster_response_describe_cluster_broker, 1);
    if (!broker)
        return BK_CLOSE;
    broker->broker_id = br->cfg.node_id;
    broker->host = host_slice(br);
    broker->port = br->advertised_port;
    resp->brokers = kw_array_of(broker, 1);
    return BK_RESPOND;
}

bk_result bk_handle_find_coordinator(bk_req *req, const kw_find_coordinator_request *rq,
                                     kw_find_coordinator_response *resp)
{
    bk_broker *br = req->br;
    int16_t code = KW_KAFKA_NONE;
    if (rq->key_type == 1)
        code = KW_KAFKA_COORDINATOR_NOT_AVAILABLE; /* no transaction coordinator */
    else if (rq->key_type != 0)
        code = KW_KAFKA_INVALID_REQUEST;
    if (req->version < 4) {
        resp->error_code = code;
        resp->node_id = code ? -1 : br->cfg.node_id;
        resp->port = code ? -1 : br->advertised_port;
        if (!code)
            resp->host = host_slice(br);
    } else {
        int32_t n = kw_array_len(&rq->coordinator_keys);
        kw_find_coordinator_response_coordinator *cs =
            BK_ALLOC(req, kw_find_coordinator_response_coordinator, n);
        if (!cs && n)
            return BK_CLOSE;
        kw_array_iter it;
        kw_slice key;
        kw_array_iter_init(&it, &rq->coordinator_keys);
        for (int32_t i = 0; kw_array_next_string(&it, &key); i++) {
            kw_find_coordinator_response_coordinator_init(&cs[i]);
            cs[i].key = key;
            cs[i].error_code = code;
            cs[i].node_id = code ? -1 : br->cfg.node_id;
            cs[i].port = code ? -1 : br->advertised_port;
            if (!code)
                cs[i].host = host_slice(br);
        }
        resp->coordinators = kw_array_of(cs, n);
    }
    return BK_RESPOND;
}
