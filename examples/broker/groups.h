/* The classic group coordinator (groups.c): groups, members, committed
 * offsets held in memory, the rebalance state machine and its timers. */
#ifndef KWIRE_BROKER_GROUPS_H
#define KWIRE_BROKER_GROUPS_H

#include "topics.h"

struct bk_conn;

typedef enum bk_group_state {
    BK_GROUP_EMPTY,
    BK_GROUP_PREPARING_REBALANCE,
    BK_GROUP_COMPLETING_REBALANCE,
    BK_GROUP_STABLE,
    BK_GROUP_DEAD,
} bk_group_state;

typedef struct bk_protocol {
    char *name;
    uint8_t *metadata;
    size_t metadata_len;
} bk_protocol;

typedef struct bk_member {
    char *member_id;
    char *instance_id;      /* NULL: dynamic member */
    char *client_id;
    char *client_host;
    char *protocol_type;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    bk_protocol *protocols;
    size_t nprotocols;
    uint8_t *assignment;
    size_t assignment_len;
    int64_t last_heartbeat;
    struct bk_conn *join_conn;  /* parked JoinGroup */
    uint64_t join_conn_id;
    struct bk_conn *sync_conn;  /* parked SyncGroup */
    uint64_t sync_conn_id;
    bool joined;                /* rejoined during the current rebalance */
} bk_member;

typedef struct bk_offset_entry {
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
    int64_t commit_ts;
} bk_offset_entry;

typedef struct bk_pending_member {
    char *member_id;
    int64_t deadline;
} bk_pending_member;

typedef struct bk_group {
    char *id;
    bk_group_state state;
    int32_t generation;
    char *protocol_type;    /* NULL until the first member */
    char *protocol_name;
    char *leader;
    bk_member **members;
    size_t nmembers;
    bk_pending_member *pending;  /* member ids handed out with MEMBER_ID_REQUIRED */
    size_t npending;
    int64_t rebalance_deadline;  /* PreparingRebalance / CompletingRebalance */
    int64_t initial_delay_end;   /* group.initial.rebalance.delay.ms window */
    bool new_member_added;
    bk_offset_entry *offsets;
    size_t noffsets, capoffsets;
    struct bk_cgroup *consumer; /* set: a KIP-848 consumer group (consumer_groups.h) */
} bk_group;

bk_group *bk_group_find(bk_broker *br, kw_slice id);
bk_group *bk_group_get(bk_broker *br, kw_slice id, bool create);
void bk_group_free(bk_group *g);
void bk_groups_tick(bk_broker *br);
void bk_groups_conn_closed(bk_broker *br, struct bk_conn *c);
const char *bk_group_state_name(bk_group_state s);
bk_offset_entry *bk_group_offset(bk_group *g, kw_slice topic, int32_t partition, bool create);
void bk_group_remove_offset(bk_group *g, size_t i);
/** Takes the group out of the broker and frees it. */
void bk_group_remove(bk_broker *br, bk_group *g);

bk_member *bk_member_find(bk_group *g, kw_slice id);
/** The member whose JoinGroup (sync: SyncGroup) is parked on c. */
bk_member *bk_member_for_conn(bk_group *g, const struct bk_conn *c, bool sync);
const bk_protocol *bk_member_protocol(const bk_member *m, const char *name);
void bk_member_free(bk_member *m);
/** Appends m (the group owns it then); the first member sets protocol type and leader. */
bool bk_group_add_member(bk_group *g, bk_member *m);
/** Removes and frees m; its parked requests are woken to find it gone. */
void bk_group_remove_member(bk_broker *br, bk_group *g, bk_member *m);

/* The rebalance state machine (see groups.c). */
void bk_group_prepare_rebalance(bk_broker *br, bk_group *g);
/** Completes the rebalance once every member rejoined or its time ran out. */
void bk_group_maybe_complete_join(bk_broker *br, bk_group *g);

#endif /* KWIRE_BROKER_GROUPS_H */
