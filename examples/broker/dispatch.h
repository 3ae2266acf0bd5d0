/* Requests (dispatch.c): one frame's header read, its version checked, its
 * handler run; the handlers, and the helpers they share. */
#ifndef KWIRE_BROKER_DISPATCH_H
#define KWIRE_BROKER_DISPATCH_H

#include "kwire/messages.h"
#include "loop.h"

typedef enum bk_result {
    BK_RESPOND,             /* the body is in req->out */
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

/** Handles one frame; fills req->out with the response body. */
bk_result bk_dispatch(bk_req *req);

/*
 * The handlers, by the file that defines them. Each gets the decoded request
 * and a response at its definition's defaults; it fills the response and
 * returns BK_RESPOND, and bk_dispatch encodes it. A body that does not
 * decode never reaches a handler.
 */
/* dispatch.c */
bk_result bk_handle_api_versions(bk_req *req, const kw_api_versions_request *rq,
                                 kw_api_versions_response *resp);
/* produce.c */
bk_result bk_handle_produce(bk_req *req, const kw_produce_request *rq, kw_produce_response *resp);
bk_result bk_handle_init_producer_id(bk_req *req, const kw_init_producer_id_request *rq,
                                     kw_init_producer_id_response *resp);
/* fetch.c */
bk_result bk_handle_fetch(bk_req *req, const kw_fetch_request *rq, kw_fetch_response *resp);
bk_result bk_handle_list_offsets(bk_req *req, const kw_list_offsets_request *rq,
                                 kw_list_offsets_response *resp);
/* metadata.c */
bk_result bk_handle_metadata(bk_req *req, const kw_metadata_request *rq,
                             kw_metadata_response *resp);
bk_result bk_handle_describe_topic_partitions(bk_req *req,
                                              const kw_describe_topic_partitions_request *rq,
                                              kw_describe_topic_partitions_response *resp);
bk_result bk_handle_describe_cluster(bk_req *req, const kw_describe_cluster_request *rq,
                                     kw_describe_cluster_response *resp);
bk_result bk_handle_find_coordinator(bk_req *req, const kw_find_coordinator_request *rq,
                                     kw_find_coordinator_response *resp);
/* admin.c */
bk_result bk_handle_create_topics(bk_req *req, const kw_create_topics_request *rq,
                                  kw_create_topics_response *resp);
bk_result bk_handle_delete_topics(bk_req *req, const kw_delete_topics_request *rq,
                                  kw_delete_topics_response *resp);
bk_result bk_handle_create_partitions(bk_req *req, const kw_create_partitions_request *rq,
                                      kw_create_partitions_response *resp);
bk_result bk_handle_describe_configs(bk_req *req, const kw_describe_configs_request *rq,
                                     kw_describe_configs_response *resp);
/* group_api.c */
bk_result bk_handle_join_group(bk_req *req, const kw_join_group_request *rq,
                               kw_join_group_response *resp);
bk_result bk_handle_sync_group(bk_req *req, const kw_sync_group_request *rq,
                               kw_sync_group_response *resp);
bk_result bk_handle_heartbeat(bk_req *req, const kw_heartbeat_request *rq,
                              kw_heartbeat_response *resp);
bk_result bk_handle_leave_group(bk_req *req, const kw_leave_group_request *rq,
                                kw_leave_group_response *resp);
bk_result bk_handle_list_groups(bk_req *req, const kw_list_groups_request *rq,
                                kw_list_groups_response *resp);
bk_result bk_handle_describe_groups(bk_req *req, const kw_describe_groups_request *rq,
                                    kw_describe_groups_response *resp);
bk_result bk_handle_delete_groups(bk_req *req, const kw_delete_groups_request *rq,
                                  kw_delete_groups_response *resp);
/* offsets_api.c */
bk_result bk_handle_offset_commit(bk_req *req, const kw_offset_commit_request *rq,
                                  kw_offset_commit_response *resp);
bk_result bk_handle_offset_fetch(bk_req *req, const kw_offset_fetch_request *rq,
                                 kw_offset_fetch_response *resp);

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

/** Authorized operations bitfield Kafka reports for a topic with no ACLs (0x0df8). */
#define BK_TOPIC_AUTHORIZED_OPS 3576
#define BK_CLUSTER_AUTHORIZED_OPS 0x0ff8

#endif /* KWIRE_BROKER_DISPATCH_H */
