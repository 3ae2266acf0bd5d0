/*
 * The API table. Structural facts (names, key numbers, valid and flexible
 * versions) follow Apache Kafka's message schemas as of October 2024.
 */
#include "kwire/api.h"

/* Indexed by key, so a row filed under the wrong key cannot compile silently. */
#define ROW(id, name, lo, hi, flex) [KW_API_##id] = {KW_API_##id, name, lo, hi, flex}

static const kw_api_info api_table[KW_API_KEY_COUNT] = {
    ROW(PRODUCE, "Produce", 0, 11, 9),
    ROW(FETCH, "Fetch", 0, 17, 12),
    ROW(LIST_OFFSETS, "ListOffsets", 0, 10, 6),
    ROW(METADATA, "Metadata", 0, 12, 9),
    ROW(LEADER_AND_ISR, "LeaderAndIsr", 0, 7, 4),
    ROW(STOP_REPLICA, "StopReplica", 0, 4, 2),
    ROW(UPDATE_METADATA, "UpdateMetadata", 0, 8, 6),
    ROW(CONTROLLED_SHUTDOWN, "ControlledShutdown", 0, 3, 3),
    ROW(OFFSET_COMMIT, "OffsetCommit", 0, 9, 8),
    ROW(OFFSET_FETCH, "OffsetFetch", 0, 9, 6),
    ROW(FIND_COORDINATOR, "FindCoordinator", 0, 6, 3),
    ROW(JOIN_GROUP, "JoinGroup", 0, 9, 6),
    ROW(HEARTBEAT, "Heartbeat", 0, 4, 4),
    ROW(LEAVE_GROUP, "LeaveGroup", 0, 5, 4),
    ROW(SYNC_GROUP, "SyncGroup", 0, 5, 4),
    ROW(DESCRIBE_GROUPS, "DescribeGroups", 0, 5, 5),
    ROW(LIST_GROUPS, "ListGroups", 0, 5, 3),
    ROW(SASL_HANDSHAKE, "SaslHandshake", 0, 1, -1),
    ROW(API_VERSIONS, "ApiVersions", 0, 4, 3),
    ROW(CREATE_TOPICS, "CreateTopics", 0, 7, 5),
    ROW(DELETE_TOPICS, "DeleteTopics", 0, 6, 4),
    ROW(DELETE_RECORDS, "DeleteRecords", 0, 2, 2),
    ROW(INIT_PRODUCER_ID, "InitProducerId", 0, 5, 2),
    ROW(OFFSET_FOR_LEADER_EPOCH, "OffsetForLeaderEpoch", 0, 4, 4),
    ROW(ADD_PARTITIONS_TO_TXN, "AddPartitionsToTxn", 0, 5, 3),
    ROW(ADD_OFFSETS_TO_TXN, "AddOffsetsToTxn", 0, 4, 3),
    ROW(END_TXN, "EndTxn", 0, 5, 3),
    ROW(WRITE_TXN_MARKERS, "WriteTxnMarkers", 0, 1, 1),
    ROW(TXN_OFFSET_COMMIT, "TxnOffsetCommit", 0, 4, 3),
    ROW(DESCRIBE_ACLS, "DescribeAcls", 0, 3, 2),
    ROW(CREATE_ACLS, "CreateAcls", 0, 3, 2),
    ROW(DELETE_ACLS, "DeleteAcls", 0, 3, 2),
    ROW(DESCRIBE_CONFIGS, "DescribeConfigs", 0, 4, 4),
    ROW(ALTER_CONFIGS, "AlterConfigs", 0, 2, 2),
    ROW(ALTER_REPLICA_LOG_DIRS, "AlterReplicaLogDirs", 0, 2, 2),
    ROW(DESCRIBE_LOG_DIRS, "DescribeLogDirs", 0, 4, 2),
    ROW(SASL_AUTHENTICATE, "SaslAuthenticate", 0, 2, 2),
    ROW(CREATE_PARTITIONS, "CreatePartitions", 0, 3, 2),
    ROW(CREATE_DELEGATION_TOKEN, "CreateDelegationToken", 0, 3, 2),
    ROW(RENEW_DELEGATION_TOKEN, "RenewDelegationToken", 0, 2, 2),
    ROW(EXPIRE_DELEGATION_TOKEN, "ExpireDelegationToken", 0, 2, 2),
    ROW(DESCRIBE_DELEGATION_TOKEN, "DescribeDelegationToken", 0, 3, 2),
    ROW(DELETE_GROUPS, "DeleteGroups", 0, 2, 2),
    ROW(ELECT_LEADERS, "ElectLeaders", 0, 2, 2),
    ROW(INCREMENTAL_ALTER_CONFIGS, "IncrementalAlterConfigs", 0, 1, 1),
    ROW(ALTER_PARTITION_REASSIGNMENTS, "AlterPartitionReassignments", 0, 0, 0),
    ROW(LIST_PARTITION_REASSIGNMENTS, "ListPartitionReassignments", 0, 0, 0),
    ROW(OFFSET_DELETE, "OffsetDelete", 0, 0, -1),
    ROW(DESCRIBE_CLIENT_QUOTAS, "DescribeClientQuotas", 0, 1, 1),
    ROW(ALTER_CLIENT_QUOTAS, "AlterClientQuotas", 0, 1, 1),
    ROW(DESCRIBE_USER_SCRAM_CREDENTIALS, "DescribeUserScramCredentials", 0, 0, 0),
    ROW(ALTER_USER_SCRAM_CREDENTIALS, "AlterUserScramCredentials", 0, 0, 0),
    ROW(VOTE, "Vote", 0, 1, 0),
    ROW(BEGIN_QUORUM_EPOCH, "BeginQuorumEpoch", 0, 1, 1),
    ROW(END_QUORUM_EPOCH, "EndQuorumEpoch", 0, 1, 1),
    ROW(DESCRIBE_QUORUM, "DescribeQuorum", 0, 2, 0),
    ROW(ALTER_PARTITION, "AlterPartition", 0, 3, 0),
    ROW(UPDATE_FEATURES, "UpdateFeatures", 0, 2, 0),
    ROW(ENVELOPE, "Envelope", 0, 0, 0),
    ROW(FETCH_SNAPSHOT, "FetchSnapshot", 0, 1, 0),
    ROW(DESCRIBE_CLUSTER, "DescribeCluster", 0, 1, 0),
    ROW(DESCRIBE_PRODUCERS, "DescribeProducers", 0, 0, 0),
    ROW(BROKER_REGISTRATION, "BrokerRegistration", 0, 4, 0),
    ROW(BROKER_HEARTBEAT, "BrokerHeartbeat", 0, 1, 0),
    ROW(UNREGISTER_BROKER, "UnregisterBroker", 0, 0, 0),
    ROW(DESCRIBE_TRANSACTIONS, "DescribeTransactions", 0, 0, 0),
    ROW(LIST_TRANSACTIONS, "ListTransactions", 0, 1, 0),
    ROW(ALLOCATE_PRODUCER_IDS, "AllocateProducerIds", 0, 0, 0),
    ROW(CONSUMER_GROUP_HEARTBEAT, "ConsumerGroupHeartbeat", 0, 1, 0),
    ROW(CONSUMER_GROUP_DESCRIBE, "ConsumerGroupDescribe", 0, 0, 0),
    ROW(CONTROLLER_REGISTRATION, "ControllerRegistration", 0, 0, 0),
    ROW(GET_TELEMETRY_SUBSCRIPTIONS, "GetTelemetrySubscriptions", 0, 0, 0),
    ROW(PUSH_TELEMETRY, "PushTelemetry", 0, 0, 0),
    ROW(ASSIGN_REPLICAS_TO_DIRS, "AssignReplicasToDirs", 0, 0, 0),
    ROW(LIST_CLIENT_METRICS_RESOURCES, "ListClientMetricsResources", 0, 0, 0),
    ROW(DESCRIBE_TOPIC_PARTITIONS, "DescribeTopicPartitions", 0, 0, 0),
    ROW(SHARE_GROUP_HEARTBEAT, "ShareGroupHeartbeat", 0, 0, 0),
    ROW(SHARE_GROUP_DESCRIBE, "ShareGroupDescribe", 0, 0, 0),
    ROW(SHARE_FETCH, "ShareFetch", 0, 0, 0),
    ROW(SHARE_ACKNOWLEDGE, "ShareAcknowledge", 0, 0, 0),
    ROW(ADD_RAFT_VOTER, "AddRaftVoter", 0, 0, 0),
    ROW(REMOVE_RAFT_VOTER, "RemoveRaftVoter", 0, 0, 0),
    ROW(UPDATE_RAFT_VOTER, "UpdateRaftVoter", 0, 0, 0),
    ROW(INITIALIZE_SHARE_GROUP_STATE, "InitializeShareGroupState", 0, 0, 0),
    ROW(READ_SHARE_GROUP_STATE, "ReadShareGroupState", 0, 0, 0),
    ROW(WRITE_SHARE_GROUP_STATE, "WriteShareGroupState", 0, 0, 0),
    ROW(DELETE_SHARE_GROUP_STATE, "DeleteShareGroupState", 0, 0, 0),
    ROW(READ_SHARE_GROUP_STATE_SUMMARY, "ReadShareGroupStateSummary", 0, 0, 0),
};

#undef ROW

const kw_api_info *kw_api_lookup(int16_t api_key)
{
    /* Keys are dense from 0, so the key is the index. */
    if (api_key < 0 || api_key >= KW_API_KEY_COUNT)
        return NULL;
    return &api_table[api_key];
}

const kw_api_info *kw_api_table(size_t *count)
{
    if (count)
        *count = KW_API_KEY_COUNT;
    return api_table;
}

bool kw_api_version_supported(int16_t api_key, int16_t version)
{
    const kw_api_info *a = kw_api_lookup(api_key);
    return a && version >= a->min_version && version <= a->max_version;
}

/* Threshold only, as Kafka's generated code does: no upper bound. */
static bool flexible(const kw_api_info *a, int16_t version)
{
    return a->first_flexible >= 0 && version >= a->first_flexible;
}

bool kw_api_is_flexible(int16_t api_key, int16_t version)
{
    const kw_api_info *a = kw_api_lookup(api_key);
    return a && flexible(a, version);
}

int kw_request_header_version(int16_t api_key, int16_t api_version)
{
    const kw_api_info *a = kw_api_lookup(api_key);
    if (!a)
        return -1;
    /* ControlledShutdown v0 predates the client id field in the header. */
    if (api_key == KW_API_CONTROLLED_SHUTDOWN && api_version == 0)
        return 0;
    return flexible(a, api_version) ? 2 : 1;
}

int kw_response_header_version(int16_t api_key, int16_t api_version)
{
    const kw_api_info *a = kw_api_lookup(api_key);
    if (!a)
        return -1;
    /* KIP-511: the client must read the error even for a version the broker
     * rejected, so ApiVersions answers never carry a tagged-field section. */
    if (api_key == KW_API_API_VERSIONS)
        return 0;
    return flexible(a, api_version) ? 1 : 0;
}
