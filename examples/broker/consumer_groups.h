/* KIP-848 consumer groups (consumer_groups.c): members that heartbeat with
 * ConsumerGroupHeartbeat, a target assignment computed by the broker, and
 * each member's reconciliation towards it. A bk_group (groups.h) is a
 * consumer group while its consumer field is set. */
#ifndef KWIRE_BROKER_CONSUMER_GROUPS_H
#define KWIRE_BROKER_CONSUMER_GROUPS_H

#include "topics.h"

struct bk_group;

/* One topic partition, named by topic id (ids outlive renames and catch a re-created topic). */
typedef struct bk_tp {
    kw_uuid topic_id;
    int32_t partition;
} bk_tp;

typedef struct bk_tpset {
    bk_tp *v;
    size_t n, cap;
} bk_tpset;

typedef enum bk_cmember_state {
    BK_CM_STABLE,       /* has its target, at the assignment epoch */
    BK_CM_UNREVOKED,    /* must give up partitions first; keeps its epoch */
    BK_CM_UNRELEASED,   /* at the new epoch, waits for partitions others still hold */
} bk_cmember_state;

typedef struct bk_cmember {
    char *member_id;
    char *instance_id;
    char *rack_id;
    char *client_id;
    char *client_host;
    char **topics;              /* subscribed topic names */
    size_t ntopics;
    char *regex;                /* subscribed_topic_regex (v1), NULL when none */
    void *regex_c;              /* regex_t: it compiled, anchored at both ends */
    int32_t epoch, previous_epoch;
    int32_t rebalance_timeout_ms;
    bk_cmember_state state;
    bk_tpset assigned;          /* what it is given now */
    bk_tpset revoking;          /* what it must give up before its epoch moves */
    bk_tpset target;            /* the target assignment's share */
    int64_t last_heartbeat;
    int64_t revoke_deadline;    /* rebalance timeout while revoking */
    bool send_assignment;       /* assigned changed since the last answer */
} bk_cmember;

typedef struct bk_cgroup {
    int32_t group_epoch;
    int32_t assignment_epoch;   /* epoch of the target assignment */
    bk_cmember **members;
    size_t nmembers;
    uint64_t topics_hash;       /* subscribed topics (ids, partition counts) at the last assignment */
    uint64_t topics_version;    /* the broker's topics_version then */
    char *assignor;             /* name reported by ConsumerGroupDescribe */
} bk_cgroup;

/** Kafka's ConsumerGroupState name: Empty, Assigning, Reconciling, Stable. */
const char *bk_cgroup_state_name(const bk_cgroup *cg);
void bk_cgroup_free(bk_cgroup *cg);
/** Session and rebalance timeouts of one consumer group's members. */
void bk_cgroup_tick(bk_broker *br, struct bk_group *g);
bk_cmember *bk_cmember_find(const bk_cgroup *cg, kw_slice member_id);

/**
 * OffsetCommit (v9+: member epoch as generation) and OffsetFetch (v9: member id and epoch)
 * checks for a consumer group, as Kafka's ConsumerGroup: a Kafka error code.
 */
int16_t bk_cgroup_validate_commit(bk_broker *br, struct bk_group *g, kw_slice member_id, int32_t epoch,
                                  int16_t version);
int16_t bk_cgroup_validate_fetch(struct bk_group *g, kw_slice member_id, int32_t epoch);

#endif /* KWIRE_BROKER_CONSUMER_GROUPS_H */
