/* Requests (dispatch.c): one frame's header read, its version checked, its
 * handler run; the handlers, and the helpers they share. */
#ifndef KWIRE_BROKER_DISPATCH_H
#define KWIRE_BROKER_DISPATCH_H

#include "kwire/messages.h"
#include "loop.h"

typedef enum bk_result {
    BK_RESPOND,             /* answer with the response view */
    BK_NO_RESPONSE,         /* acks=0 produce */
    BK_PARKED,              /* answer later: the frame stays in the buffer */
    BK_CLOSE,               /* close the connection */
} bk_result;

typedef struct bk_req {
    bk_broker *br;
    bk_conn *conn;
    kw_request_header hdr;
    int16_t version;
    kw_reader body;         /* the body after the header */
    uint8_t *frame;         /* the frame body (mutable: produce rewrites offsets) */
    size_t frame_len;
    kw_builder *out;
    bk_scratch scratch;
    bool resumed;           /* a parked request run again */
    bool final;             /* its wait is over: answer with what there is */
    int64_t park_deadline;  /* set by a handler that returns BK_PARKED */
    bk_park park;
} bk_req;

/** Handles one frame; on BK_RESPOND req->out holds the whole response frame. */
bk_result bk_dispatch(bk_req *req);

/*
 * The APIs the broker serves: key, the newest version its handler was
 * written for, and the handler's name. kwire reads newer versions (Kafka
 * 4.4's Produce v13 names topics by id, for one), but the broker advertises
 * and serves only what its handlers implement.
 *
 * bk_handle_<name> gets the decoded request and a response view at its
 * definition's defaults; it fills the response and returns BK_RESPOND, and
 * bk_dispatch encodes it. A body that does not decode never reaches it.
 */
#define BK_HANDLERS(X)                                                                    \
    X(KW_API_PRODUCE, 11, produce)                                    /* produce.c */     \
    X(KW_API_FETCH, 17, fetch)                                        /* fetch.c */       \
    X(KW_API_LIST_OFFSETS, 10, list_offsets)                          /* fetch.c */       \
    X(KW_API_METADATA, 12, metadata)                                  /* metadata.c */    \
    X(KW_API_OFFSET_COMMIT, 9, offset_commit)                         /* offsets_api.c */ \
    X(KW_API_OFFSET_FETCH, 9, offset_fetch)                           /* offsets_api.c */ \
    X(KW_API_FIND_COORDINATOR, 6, find_coordinator)                   /* metadata.c */    \
    X(KW_API_JOIN_GROUP, 9, join_group)                               /* group_api.c */   \
    X(KW_API_HEARTBEAT, 4, heartbeat)                                 /* group_api.c */   \
    X(KW_API_LEAVE_GROUP, 5, leave_group)                             /* group_api.c */   \
    X(KW_API_SYNC_GROUP, 5, sync_group)                               /* group_api.c */   \
    X(KW_API_DESCRIBE_GROUPS, 5, describe_groups)                     /* group_api.c */   \
    X(KW_API_LIST_GROUPS, 5, list_groups)                             /* group_api.c */   \
    X(KW_API_API_VERSIONS, 4, api_versions)                           /* dispatch.c */    \
    X(KW_API_CREATE_TOPICS, 7, create_topics)                         /* admin.c */       \
    X(KW_API_DELETE_TOPICS, 6, delete_topics)                         /* admin.c */       \
    X(KW_API_INIT_PRODUCER_ID, 5, init_producer_id)                   /* produce.c */     \
    X(KW_API_DESCRIBE_CONFIGS, 4, describe_configs)                   /* admin.c */       \
    X(KW_API_CREATE_PARTITIONS, 3, create_partitions)                 /* admin.c */       \
    X(KW_API_DELETE_GROUPS, 2, delete_groups)                         /* group_api.c */   \
    X(KW_API_DESCRIBE_CLUSTER, 1, describe_cluster)                   /* metadata.c */    \
    X(KW_API_DESCRIBE_TOPIC_PARTITIONS, 0, describe_topic_partitions) /* metadata.c */    \
    X(KW_API_DELETE_RECORDS, 2, delete_records)                       /* delete_records.c */ \
    X(KW_API_CONSUMER_GROUP_HEARTBEAT, 1, consumer_group_heartbeat)   /* consumer_groups.c */ \
    X(KW_API_CONSUMER_GROUP_DESCRIBE, 1, consumer_group_describe)     /* consumer_groups.c */

#define BK_DECLARE_HANDLER(key, max_version, name)                                        \
    bk_result bk_handle_##name(bk_req *req, const kw_##name##_request *rq,                \
                               kw_##name##_response *resp);
BK_HANDLERS(BK_DECLARE_HANDLER)

/** True for the API keys this broker serves (and advertises). */
bool bk_api_served(int16_t api_key);
/* The newest version of a key the broker advertises and serves (its handler's). */
int16_t bk_api_max_version(int16_t api_key);

/**
 * Writes message m (requests too) at version with every field at its default and error in its
 * top-level error_code, if any (kw_build_default_message); false when it has none.
 */
bool bk_build_default_message(kw_builder *b, const kw_message_info *m, int16_t version,
                              int16_t error);

/** A C array of n elements of size from the request's scratch (zeroed). */
#define BK_ALLOC(req, type, n) ((type *)bk_scratch_calloc(&(req)->scratch, (size_t)(n), sizeof(type)))

/** Authorized operations Kafka 4.4 without an authorizer reports for a topic (0x0df8) and for the
 * cluster (0x1fa0; tests/differential compares them). */
#define BK_TOPIC_AUTHORIZED_OPS 3576
#define BK_CLUSTER_AUTHORIZED_OPS 8096

#endif /* KWIRE_BROKER_DISPATCH_H */
