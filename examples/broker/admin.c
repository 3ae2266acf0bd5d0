/* CreateTopics, DeleteTopics, CreatePartitions and DescribeConfigs. */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "topics.h"
#include "util.h"

/* Topic configs Kafka knows, with its defaults (type: 1 boolean, 2 string, 3 int, 4 short,
 * 5 long, 6 double, 7 list, 8 class, 9 password). */
static const struct topic_config {
    const char *name;
    const char *value;
    int8_t type;
} topic_configs[] = {
    {"cleanup.policy", "delete", 7},
    {"compression.type", "producer", 2},
    {"delete.retention.ms", "86400000", 5},
    {"file.delete.delay.ms", "60000", 5},
    {"flush.messages", "9223372036854775807", 5},
    {"flush.ms", "9223372036854775807", 5},
    {"follower.replication.throttled.replicas", "", 7},
    {"index.interval.bytes", "4096", 3},
    {"leader.replication.throttled.replicas", "", 7},
    {"local.retention.bytes", "-2", 5},
    {"local.retention.ms", "-2", 5},
    {"max.compaction.lag.ms", "9223372036854775807", 5},
    {"max.message.bytes", "1048588", 3},
    {"message.downconversion.enable", "true", 1},
    {"message.format.version", "3.0-IV1", 2},
    {"message.timestamp.after.max.ms", "9223372036854775807", 5},
    {"message.timestamp.before.max.ms", "9223372036854775807", 5},
    {"message.timestamp.difference.max.ms", "9223372036854775807", 5},
    {"message.timestamp.type", "CreateTime", 2},
    {"min.cleanable.dirty.ratio", "0.5", 6},
    {"min.compaction.lag.ms", "0", 5},
    {"min.insync.replicas", "1", 3},
    {"preallocate", "false", 1},
    {"remote.storage.enable", "false", 1},
    {"retention.bytes", "-1", 5},
    {"retention.ms", "604800000", 5},
    {"segment.bytes", "1073741824", 3},
    {"segment.index.bytes", "10485760", 3},
    {"segment.jitter.ms", "0", 5},
    {"segment.ms", "604800000", 5},
    {"unclean.leader.election.enable", "false", 1},
};

#define NCONFIGS (sizeof topic_configs / sizeof topic_configs[0])

/* A config's value where the topic sets none; down-conversion follows the broker's flag. */
static const char *config_default(const bk_broker *br, const struct topic_config *c)
{
    if (!strcmp(c->name, "message.downconversion.enable"))
        return br->cfg.down_conversion ? "true" : "false";
    return c->value;
}

static const struct topic_config *known_config(kw_slice name)
{
    for (size_t i = 0; i < NCONFIGS; i++)
        if (bk_slice_eqs(name, topic_configs[i].name))
            return &topic_configs[i];
    return NULL;
}

/* ---- CreateTopics ------------------------------------------------------------------------- */

bk_result bk_handle_create_topics(bk_req *req, const kw_create_topics_request *rq,
                                  kw_create_topics_response *resp)
{
    bk_broker *br = req->br;
    int32_t n = kw_array_len(&rq->topics);
    kw_create_topics_response_creatable_topic_result *results =
        BK_ALLOC(req, kw_create_topics_response_creatable_topic_result, n);
    kw_slice *names = BK_ALLOC(req, kw_slice, n);
    if ((!results || !names) && n)
        return BK_CLOSE;
    kw_array_iter it;
    kw_create_topics_request_creatable_topic ct;
    kw_array_iter_init(&it, &rq->topics);
    for (int32_t i = 0; kw_create_topics_request_creatable_topic_next(&it, &ct); i++)
        names[i] = ct.name;
    kw_array_iter_init(&it, &rq->topics);
    int32_t nresults = 0;
    for (int32_t i = 0; kw_create_topics_request_creatable_topic_next(&it, &ct); i++) {
        /* a name listed twice: one INVALID_REQUEST result for it, nothing created (as Kafka) */
        bk_repeat repeat = bk_name_repeat(names, n, i);
        if (repeat == BK_LATER_COPY)
            continue;
        kw_create_topics_response_creatable_topic_result *r = &results[nresults++];
        kw_create_topics_response_creatable_topic_result_init(r);
        r->name = ct.name;
        r->configs = kw_array_of(NULL, 0); /* empty, not null, for a topic not created (as Kafka) */
        if (repeat == BK_FIRST_COPY) {
            r->error_code = KW_KAFKA_INVALID_REQUEST;
            r->error_message = bk_cstr("Create topics request from client contains a duplicate topic.");
            continue;
        }
        int32_t partitions = ct.num_partitions;
        int32_t nassign = kw_array_len(&ct.assignments);
        if (nassign > 0) {
            if (partitions != -1 || ct.replication_factor != -1) {
                r->error_code = KW_KAFKA_INVALID_REQUEST;
                r->error_message = bk_cstr("Both numPartitions or replicationFactor and "
                                           "replicasAssignments were set. Both cannot be used at the same time.");
                continue;
            }
            partitions = nassign;
            bool bad = false;
            kw_array_iter ai;
            kw_create_topics_request_creatable_replica_assignment ra;
            kw_array_iter_init(&ai, &ct.assignments);
            while (kw_create_topics_request_creatable_replica_assignment_next(&ai, &ra)) {
                kw_array_iter bi;
                int32_t id;
                int32_t count = 0;
                kw_array_iter_init(&bi, &ra.broker_ids);
                while (kw_array_next_i32(&bi, &id)) {
                    count++;
                    bad |= id != br->cfg.node_id;
                }
                bad |= count != 1 || ra.partition_index < 0 || ra.partition_index >= nassign;
            }
            if (bad) {
                r->error_code = KW_KAFKA_INVALID_REPLICA_ASSIGNMENT;
                r->error_message = bk_cstr("Replica assignments must name this one broker.");
                continue;
            }
        } else if (partitions == -1) {
            partitions = br->cfg.default_partitions;
        }
        if (ct.replication_factor != -1 && ct.replication_factor != 1 && nassign == 0) {
            r->error_code = ct.replication_factor <= 0 ? KW_KAFKA_INVALID_REPLICATION_FACTOR
                                                       : KW_KAFKA_INVALID_REPLICATION_FACTOR;
            r->error_message = bk_cstr(ct.replication_factor <= 0
                                           ? "Replication factor must be larger than 0, or -1 to use the default value."
                                           : "Unable to replicate the partition: the replication "
                                             "factor is larger than the 1 available broker.");
            continue;
        }
        int32_t nconf = kw_array_len(&ct.configs);
        bk_kv *configs = BK_ALLOC(req, bk_kv, nconf);
        if (!configs && nconf)
            return BK_CLOSE;
        bool bad_config = false;
        kw_array_iter ci;
        kw_create_topics_request_creatable_topic_config cc;
        kw_array_iter_init(&ci, &ct.configs);
        size_t kept = 0;
        while (kw_create_topics_request_creatable_topic_config_next(&ci, &cc)) {
            if (!known_config(cc.name) || !cc.value.ptr) {
                bad_config = true;
                break;
            }
            char *name = bk_scratch_alloc(&req->scratch, cc.name.len + 1);
            char *value = bk_scratch_alloc(&req->scratch, cc.value.len + 1);
            if (!name || !value)
                return BK_CLOSE;
            memcpy(name, cc.name.ptr, cc.name.len);
            name[cc.name.len] = 0;
            memcpy(value, cc.value.ptr, cc.value.len);
            value[cc.value.len] = 0;
            configs[kept].name = name;
            configs[kept].value = value;
            kept++;
        }
        if (bad_config) {
            r->error_code = KW_KAFKA_INVALID_CONFIG;
            r->error_message = bk_cstr("Unknown topic config name or null value.");
            continue;
        }
        bk_topic *t = NULL;
        const char *msg = NULL;
        int code = bk_topic_create(br, ct.name, partitions, configs, kept, rq->validate_only, &t, &msg);
        r->error_code = (int16_t)code;
        r->error_message = msg ? bk_cstr(msg) : (kw_slice){NULL, 0};
        if (code == KW_KAFKA_NONE) {
            r->num_partitions = partitions;
            r->replication_factor = 1;
            if (t)
                r->topic_id = t->id;
            kw_create_topics_response_creatable_topic_configs *cs =
                BK_ALLOC(req, kw_create_topics_response_creatable_topic_configs, NCONFIGS);
            if (!cs)
                return BK_CLOSE;
            for (size_t c = 0; c < NCONFIGS; c++) {
                const char *v = t ? bk_topic_config(t, topic_configs[c].name) : NULL;
                cs[c].name = bk_cstr(topic_configs[c].name);
                cs[c].value = bk_cstr(v ? v : config_default(req->br, &topic_configs[c]));
                cs[c].config_source = v ? 1 : 5; /* DYNAMIC_TOPIC_CONFIG : DEFAULT_CONFIG */
            }
            r->configs = kw_array_of(cs, (int32_t)NCONFIGS);
        }
    }
    resp->topics = kw_array_of(results, nresults);
    return BK_RESPOND;
}

/* ---- DeleteTopics --------------------------------------------------------------------------- */

bk_result bk_handle_delete_topics(bk_req *req, const kw_delete_topics_request *rq,
                                  kw_delete_topics_response *resp)
{
    bk_broker *br = req->br;
    int32_t n = req->version >= 6 ? kw_array_len(&rq->topics) : kw_array_len(&rq->topic_names);
    kw_delete_topics_response_deletable_topic_result *results =
        BK_ALLOC(req, kw_delete_topics_response_deletable_topic_result, n);
    if (!results && n)
        return BK_CLOSE;
    /* the topics as v6 names them (name or id); older versions name them all */
    kw_delete_topics_request_delete_topic_state *states =
        BK_ALLOC(req, kw_delete_topics_request_delete_topic_state, n);
    kw_slice *names = BK_ALLOC(req, kw_slice, n);
    if ((!states || !names) && n)
        return BK_CLOSE;
    kw_array_iter it;
    kw_array_iter_init(&it, req->version >= 6 ? &rq->topics : &rq->topic_names);
    for (int32_t i = 0; i < n; i++) {
        if (req->version >= 6 ? !kw_delete_topics_request_delete_topic_state_next(&it, &states[i])
                              : !kw_array_next_string(&it, &states[i].name))
            return BK_CLOSE; /* the decode counted n of them */
        names[i] = states[i].name;
    }
    int32_t nresults = 0;
    for (int32_t i = 0; i < n; i++) {
        const kw_delete_topics_request_delete_topic_state *ts = &states[i];
        /* a name listed twice: one INVALID_REQUEST result for it, nothing deleted (as Kafka) */
        bk_repeat repeat = bk_name_repeat(names, n, i);
        if (repeat == BK_LATER_COPY)
            continue;
        kw_delete_topics_response_deletable_topic_result *r = &results[nresults++];
        r->name = ts->name;
        r->topic_id = ts->topic_id;
        if (repeat == BK_FIRST_COPY) {
            r->error_code = KW_KAFKA_INVALID_REQUEST;
            r->error_message = bk_cstr("Duplicate topic name.");
            continue;
        }
        if (ts->name.ptr && !bk_uuid_is_zero(&ts->topic_id)) {
            r->error_code = KW_KAFKA_INVALID_REQUEST;
            continue;
        }
        bk_topic *t;
        if (ts->name.ptr) {
            t = bk_topic_find(br, ts->name);
            if (!t) {
                r->error_code = KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
        } else {
            t = bk_topic_find_id(br, &ts->topic_id);
            if (!t) {
                r->error_code = KW_KAFKA_UNKNOWN_TOPIC_ID;
                continue;
            }
            char *name = bk_scratch_alloc(&req->scratch, t->name_len + 1);
            if (!name)
                return BK_CLOSE;
            memcpy(name, t->name, t->name_len + 1);
            r->name = (kw_slice){(const uint8_t *)name, t->name_len};
        }
        r->topic_id = t->id;
        r->error_code = (int16_t)bk_topic_delete(br, t);
    }
    resp->responses = kw_array_of(results, nresults);
    return BK_RESPOND;
}

/* ---- CreatePartitions ----------------------------------------------------------------------- */

bk_result bk_handle_create_partitions(bk_req *req, const kw_create_partitions_request *rq,
                                      kw_create_partitions_response *resp)
{
    bk_broker *br = req->br;
    int32_t n = kw_array_len(&rq->topics);
    kw_create_partitions_response_create_partitions_topic_result *results =
        BK_ALLOC(req, kw_create_partitions_response_create_partitions_topic_result, n);
    if (!results && n)
        return BK_CLOSE;
    kw_slice *names = BK_ALLOC(req, kw_slice, n);
    if (!names && n)
        return BK_CLOSE;
    kw_array_iter it;
    kw_create_partitions_request_create_partitions_topic ct;
    kw_array_iter_init(&it, &rq->topics);
    for (int32_t i = 0; kw_create_partitions_request_create_partitions_topic_next(&it, &ct); i++)
        names[i] = ct.name;
    kw_array_iter_init(&it, &rq->topics);
    int32_t nresults = 0;
    for (int32_t i = 0; kw_create_partitions_request_create_partitions_topic_next(&it, &ct); i++) {
        /* a name listed twice: one INVALID_REQUEST result for it, nothing changed (as Kafka) */
        bk_repeat repeat = bk_name_repeat(names, n, i);
        if (repeat == BK_LATER_COPY)
            continue;
        kw_create_partitions_response_create_partitions_topic_result *r = &results[nresults++];
        r->name = ct.name;
        if (repeat == BK_FIRST_COPY) {
            r->error_code = KW_KAFKA_INVALID_REQUEST;
            r->error_message = bk_cstr("Duplicate topic name.");
            continue;
        }
        bk_topic *t = bk_topic_find(br, ct.name);
        if (!t) {
            r->error_code = KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }
        if (!kw_array_is_null(&ct.assignments) &&
            kw_array_len(&ct.assignments) != ct.count - t->nparts) {
            r->error_code = KW_KAFKA_INVALID_REPLICA_ASSIGNMENT;
            r->error_message = bk_cstr("Increasing the number of partitions needs one assignment per new partition.");
            continue;
        }
        const char *msg = NULL;
        r->error_code = (int16_t)bk_topic_add_partitions(br, t, ct.count, rq->validate_only, &msg);
        r->error_message = msg ? bk_cstr(msg) : (kw_slice){NULL, 0};
    }
    resp->results = kw_array_of(results, nresults);
    return BK_RESPOND;
}

/* ---- DescribeConfigs ------------------------------------------------------------------------- */

#define RESOURCE_TOPIC 2
#define BK_MAX_DESCRIBE_RESOURCES 1000
#define RESOURCE_BROKER 4
#define RESOURCE_BROKER_LOGGER 8

bk_result bk_handle_describe_configs(bk_req *req, const kw_describe_configs_request *rq,
                                     kw_describe_configs_response *resp)
{
    bk_broker *br = req->br;
    int32_t n = kw_array_len(&rq->resources);
    if (n > BK_MAX_DESCRIBE_RESOURCES) {
        /* each resource answers some 30 configs: a bound on what one request can make */
        bk_log_msg("%s: DescribeConfigs of %d resources, closing", req->conn ? req->conn->peer : "?",
                   (int)n);
        return BK_CLOSE;
    }
    kw_describe_configs_response_describe_configs_result *results =
        BK_ALLOC(req, kw_describe_configs_response_describe_configs_result, n);
    if (!results && n)
        return BK_CLOSE;
    /* the broker's own settings, as Kafka names them */
    char *bvals = bk_scratch_alloc(&req->scratch, 8 * 64);
    if (!bvals)
        return BK_CLOSE;
    struct {
        const char *name;
        const char *value;
    } broker_cfg[8];
    snprintf(bvals, 64, "%d", (int)br->cfg.node_id);
    snprintf(bvals + 64, 64, "%d", (int)br->cfg.default_partitions);
    snprintf(bvals + 128, 64, "%zu", br->cfg.max_frame_bytes);
    snprintf(bvals + 192, 64, "%lld", (long long)br->cfg.segment_bytes);
    snprintf(bvals + 256, 64, "%lld", (long long)br->cfg.group_initial_rebalance_delay_ms);
    broker_cfg[0].name = "node.id", broker_cfg[0].value = bvals;
    broker_cfg[1].name = "num.partitions", broker_cfg[1].value = bvals + 64;
    broker_cfg[2].name = "socket.request.max.bytes", broker_cfg[2].value = bvals + 128;
    broker_cfg[3].name = "log.segment.bytes", broker_cfg[3].value = bvals + 192;
    broker_cfg[4].name = "group.initial.rebalance.delay.ms", broker_cfg[4].value = bvals + 256;
    broker_cfg[5].name = "log.dirs", broker_cfg[5].value = br->cfg.data_dir;
    broker_cfg[6].name = "auto.create.topics.enable",
    broker_cfg[6].value = br->cfg.auto_create_topics ? "true" : "false";
    broker_cfg[7].name = "default.replication.factor", broker_cfg[7].value = "1";
    kw_array_iter it;
    kw_describe_configs_request_describe_configs_resource rr;
    kw_array_iter_init(&it, &rq->resources);
    for (int32_t i = 0; kw_describe_configs_request_describe_configs_resource_next(&it, &rr); i++) {
        kw_describe_configs_response_describe_configs_result *r = &results[i];
        r->resource_type = rr.resource_type;
        r->resource_name = rr.resource_name;
        size_t total = rr.resource_type == RESOURCE_TOPIC ? NCONFIGS : 8;
        kw_describe_configs_response_describe_configs_resource_result *cs =
            BK_ALLOC(req, kw_describe_configs_response_describe_configs_resource_result, total);
        if (!cs)
            return BK_CLOSE;
        bk_topic *t = NULL;
        if (rr.resource_type == RESOURCE_TOPIC) {
            t = bk_topic_find(br, rr.resource_name);
            if (!t) {
                r->error_code = KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                r->error_message = bk_cstr("The topic does not exist.");
                continue;
            }
        } else if (rr.resource_type == RESOURCE_BROKER) {
            char id[16];
            snprintf(id, sizeof id, "%d", (int)br->cfg.node_id);
            if (rr.resource_name.len && !bk_slice_eqs(rr.resource_name, id)) {
                r->error_code = KW_KAFKA_INVALID_REQUEST;
                r->error_message = bk_cstr("Unexpected broker id.");
                continue;
            }
        } else if (rr.resource_type == RESOURCE_BROKER_LOGGER) {
            continue; /* no loggers to describe */
        } else {
            r->error_code = KW_KAFKA_INVALID_REQUEST;
            r->error_message = bk_cstr("Unsupported resource type.");
            continue;
        }
        int32_t k = 0;
        for (size_t c = 0; c < total; c++) {
            const char *name, *value;
            bool dynamic = false;
            int8_t type;
            if (t) {
                name = topic_configs[c].name;
                const char *v = bk_topic_config(t, name);
                dynamic = v != NULL;
                value = v ? v : config_default(req->br, &topic_configs[c]);
                type = topic_configs[c].type;
            } else {
                name = broker_cfg[c].name;
                value = broker_cfg[c].value;
                type = 2;
            }
            if (!kw_array_is_null(&rr.configuration_keys)) {
                bool wanted = false;
                kw_array_iter ki;
                kw_slice key;
                kw_array_iter_init(&ki, &rr.configuration_keys);
                while (!wanted && kw_array_next_string(&ki, &key))
                    wanted = bk_slice_eqs(key, name);
                if (!wanted)
                    continue;
            }
            kw_describe_configs_response_describe_configs_resource_result *o = &cs[k++];
            o->name = bk_cstr(name);
            o->value = bk_cstr(value);
            o->read_only = !t;
            o->is_default = !dynamic && t;
            /* 1 DYNAMIC_TOPIC_CONFIG, 4 STATIC_BROKER_CONFIG, 5 DEFAULT_CONFIG */
            o->config_source = t ? (dynamic ? 1 : 5) : 4;
            o->config_type = type;
            if (rq->include_synonyms) {
                kw_describe_configs_response_describe_configs_synonym *syn =
                    BK_ALLOC(req, kw_describe_configs_response_describe_configs_synonym, 1);
                if (!syn)
                    return BK_CLOSE;
                syn->name = o->name;
                syn->value = o->value;
                syn->source = o->config_source;
                o->synonyms = kw_array_of(syn, 1);
            }
            o->documentation = (kw_slice){NULL, 0};
        }
        r->configs = kw_array_of(cs, k);
    }
    resp->results = kw_array_of(results, n);
    return BK_RESPOND;
}
