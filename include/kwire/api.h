/*
 * kwire API table: every Kafka API key with its name, its valid versions,
 * the first version that uses the flexible encoding (KIP-482), and which
 * request and response header version each (key, version) travels with.
 *
 * The table covers all 95 keys, 0 to 94, including the ones only brokers and
 * controllers speak among themselves. It is generated from lib/defs, which
 * hold the union of Apache Kafka's message schemas as of October 2024 and of
 * Kafka 4.4: versions Kafka 4 removed (KIP-896) stay, since older clients
 * still send them; where Kafka marks its newest version as unstable, that
 * version is still listed as the maximum.
 */
#ifndef KWIRE_API_H
#define KWIRE_API_H

#include <stdbool.h>

#include "common.h"
#include "kafka_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Every Kafka API key; the value is the int16 key on the wire. */
typedef enum kw_api_key {
    KW_API_PRODUCE = 0,
    KW_API_FETCH = 1,
    KW_API_LIST_OFFSETS = 2,
    KW_API_METADATA = 3,
    KW_API_LEADER_AND_ISR = 4,
    KW_API_STOP_REPLICA = 5,
    KW_API_UPDATE_METADATA = 6,
    KW_API_CONTROLLED_SHUTDOWN = 7,
    KW_API_OFFSET_COMMIT = 8,
    KW_API_OFFSET_FETCH = 9,
    KW_API_FIND_COORDINATOR = 10,
    KW_API_JOIN_GROUP = 11,
    KW_API_HEARTBEAT = 12,
    KW_API_LEAVE_GROUP = 13,
    KW_API_SYNC_GROUP = 14,
    KW_API_DESCRIBE_GROUPS = 15,
    KW_API_LIST_GROUPS = 16,
    KW_API_SASL_HANDSHAKE = 17,
    KW_API_API_VERSIONS = 18,
    KW_API_CREATE_TOPICS = 19,
    KW_API_DELETE_TOPICS = 20,
    KW_API_DELETE_RECORDS = 21,
    KW_API_INIT_PRODUCER_ID = 22,
    KW_API_OFFSET_FOR_LEADER_EPOCH = 23,
    KW_API_ADD_PARTITIONS_TO_TXN = 24,
    KW_API_ADD_OFFSETS_TO_TXN = 25,
    KW_API_END_TXN = 26,
    KW_API_WRITE_TXN_MARKERS = 27,
    KW_API_TXN_OFFSET_COMMIT = 28,
    KW_API_DESCRIBE_ACLS = 29,
    KW_API_CREATE_ACLS = 30,
    KW_API_DELETE_ACLS = 31,
    KW_API_DESCRIBE_CONFIGS = 32,
    KW_API_ALTER_CONFIGS = 33,
    KW_API_ALTER_REPLICA_LOG_DIRS = 34,
    KW_API_DESCRIBE_LOG_DIRS = 35,
    KW_API_SASL_AUTHENTICATE = 36,
    KW_API_CREATE_PARTITIONS = 37,
    KW_API_CREATE_DELEGATION_TOKEN = 38,
    KW_API_RENEW_DELEGATION_TOKEN = 39,
    KW_API_EXPIRE_DELEGATION_TOKEN = 40,
    KW_API_DESCRIBE_DELEGATION_TOKEN = 41,
    KW_API_DELETE_GROUPS = 42,
    KW_API_ELECT_LEADERS = 43,
    KW_API_INCREMENTAL_ALTER_CONFIGS = 44,
    KW_API_ALTER_PARTITION_REASSIGNMENTS = 45,
    KW_API_LIST_PARTITION_REASSIGNMENTS = 46,
    KW_API_OFFSET_DELETE = 47,
    KW_API_DESCRIBE_CLIENT_QUOTAS = 48,
    KW_API_ALTER_CLIENT_QUOTAS = 49,
    KW_API_DESCRIBE_USER_SCRAM_CREDENTIALS = 50,
    KW_API_ALTER_USER_SCRAM_CREDENTIALS = 51,
    KW_API_VOTE = 52,
    KW_API_BEGIN_QUORUM_EPOCH = 53,
    KW_API_END_QUORUM_EPOCH = 54,
    KW_API_DESCRIBE_QUORUM = 55,
    KW_API_ALTER_PARTITION = 56,
    KW_API_UPDATE_FEATURES = 57,
    KW_API_ENVELOPE = 58,
    KW_API_FETCH_SNAPSHOT = 59,
    KW_API_DESCRIBE_CLUSTER = 60,
    KW_API_DESCRIBE_PRODUCERS = 61,
    KW_API_BROKER_REGISTRATION = 62,
    KW_API_BROKER_HEARTBEAT = 63,
    KW_API_UNREGISTER_BROKER = 64,
    KW_API_DESCRIBE_TRANSACTIONS = 65,
    KW_API_LIST_TRANSACTIONS = 66,
    KW_API_ALLOCATE_PRODUCER_IDS = 67,
    KW_API_CONSUMER_GROUP_HEARTBEAT = 68,
    KW_API_CONSUMER_GROUP_DESCRIBE = 69,
    KW_API_CONTROLLER_REGISTRATION = 70,
    KW_API_GET_TELEMETRY_SUBSCRIPTIONS = 71,
    KW_API_PUSH_TELEMETRY = 72,
    KW_API_ASSIGN_REPLICAS_TO_DIRS = 73,
    KW_API_LIST_CONFIG_RESOURCES = 74,
    KW_API_LIST_CLIENT_METRICS_RESOURCES = 74, /* older name of key 74 */
    KW_API_DESCRIBE_TOPIC_PARTITIONS = 75,
    KW_API_SHARE_GROUP_HEARTBEAT = 76,
    KW_API_SHARE_GROUP_DESCRIBE = 77,
    KW_API_SHARE_FETCH = 78,
    KW_API_SHARE_ACKNOWLEDGE = 79,
    KW_API_ADD_RAFT_VOTER = 80,
    KW_API_REMOVE_RAFT_VOTER = 81,
    KW_API_UPDATE_RAFT_VOTER = 82,
    KW_API_INITIALIZE_SHARE_GROUP_STATE = 83,
    KW_API_READ_SHARE_GROUP_STATE = 84,
    KW_API_WRITE_SHARE_GROUP_STATE = 85,
    KW_API_DELETE_SHARE_GROUP_STATE = 86,
    KW_API_READ_SHARE_GROUP_STATE_SUMMARY = 87,
    KW_API_STREAMS_GROUP_HEARTBEAT = 88,
    KW_API_STREAMS_GROUP_DESCRIBE = 89,
    KW_API_DESCRIBE_SHARE_GROUP_OFFSETS = 90,
    KW_API_ALTER_SHARE_GROUP_OFFSETS = 91,
    KW_API_DELETE_SHARE_GROUP_OFFSETS = 92,
    KW_API_STREAMS_GROUP_TOPOLOGY_DESCRIPTION_UPDATE = 93,
    KW_API_UNREGISTER_CONTROLLER = 94,
    KW_API_KEY_COUNT = 95 /* keys are dense: 0 .. KW_API_KEY_COUNT - 1 */
} kw_api_key;

/**
 * One API key. Requests and responses of an API share these facts: in every
 * schema kwire knows, both sides have the same valid and flexible versions
 * (tests/test_api.c checks this against the schemas when they are present).
 */
typedef struct kw_api_info {
    int16_t key;            /* the kw_api_key value */
    const char *name;       /* schema name without Request/Response: "Produce" */
    int16_t min_version;    /* lowest valid version */
    int16_t max_version;    /* highest valid version */
    int16_t first_flexible; /* first flexible version; -1 when never flexible */
} kw_api_info;

/** The entry for api_key, or NULL when kwire does not know the key. */
KW_API const kw_api_info *kw_api_lookup(int16_t api_key);

/**
 * The whole table, ordered by key with no gaps (entry i has key i); *count
 * receives its length (KW_API_KEY_COUNT) unless count is NULL.
 */
KW_API const kw_api_info *kw_api_table(size_t *count);

/** True when api_key is known and min_version <= version <= max_version. */
KW_API bool kw_api_version_supported(int16_t api_key, int16_t version);

/**
 * True when version of api_key uses the flexible encoding: compact strings,
 * arrays and bytes, and a tagged-field section after every struct. Like
 * Kafka, this looks only at the flexible threshold, not at the valid range,
 * so versions above the maximum count as flexible too. False for an unknown
 * key and for negative versions.
 */
KW_API bool kw_api_is_flexible(int16_t api_key, int16_t version);

/**
 * The request header version (0, 1 or 2) a request of this key and version
 * starts with, or -1 for an unknown key: 2 when the version is flexible,
 * else 1. ControlledShutdown v0 is the one exception and uses header 0 (no
 * client id). As in Kafka, only the flexible threshold decides, so versions
 * outside the valid range still get an answer: a broker can parse the header
 * of a request it does not support and reply UNSUPPORTED_VERSION.
 */
KW_API int kw_request_header_version(int16_t api_key, int16_t api_version);

/**
 * The response header version (0 or 1) a response of this key and version
 * starts with, or -1 for an unknown key: 1 when the version is flexible, else
 * 0. ApiVersions responses always use header 0 (KIP-511), so a client that
 * sent a version the broker does not know can still read the error code.
 * Versions outside the valid range follow the same threshold rule.
 */
KW_API int kw_response_header_version(int16_t api_key, int16_t api_version);

#ifdef __cplusplus
}
#endif

#endif /* KWIRE_API_H */
