/*
 * DeleteRecords: moves partitions' log start offsets forward (log.c keeps
 * the new start in the partition's directory before the answer goes, so
 * it survives a restart). Offset -1 means the high watermark; an offset
 * past it is OFFSET_OUT_OF_RANGE. Fetch and ListOffsets read the start
 * from the log, so offsets below it are out of range for them from then
 * on and they report it as the log start offset.
 */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "log.h"
#include "topics.h"
#include "util.h"

bk_result bk_handle_delete_records(bk_req *req, const kw_delete_records_request *rq,
                                   kw_delete_records_response *resp)
{
    bk_broker *br = req->br;
    int32_t nt = kw_array_len(&rq->topics);
    kw_delete_records_response_delete_records_topic_result *ts =
        BK_ALLOC(req, kw_delete_records_response_delete_records_topic_result, nt);
    if (!ts && nt)
        return BK_CLOSE;
    kw_array_iter ti;
    kw_delete_records_request_delete_records_topic t;
    kw_array_iter_init(&ti, &rq->topics);
    for (int32_t i = 0; i < nt && kw_delete_records_request_delete_records_topic_next(&ti, &t); i++) {
        int32_t np = kw_array_len(&t.partitions);
        kw_delete_records_response_delete_records_partition_result *ps =
            BK_ALLOC(req, kw_delete_records_response_delete_records_partition_result, np);
        if (!ps && np)
            return BK_CLOSE;
        ts[i].name = t.name;
        ts[i].partitions = kw_array_of(ps, np);
        bk_topic *topic = bk_topic_find(br, t.name);
        kw_array_iter pi;
        kw_delete_records_request_delete_records_partition p;
        kw_array_iter_init(&pi, &t.partitions);
        for (int32_t k = 0; k < np && kw_delete_records_request_delete_records_partition_next(&pi, &p); k++) {
            kw_delete_records_response_delete_records_partition_result *r = &ps[k];
            r->partition_index = p.partition_index;
            r->low_watermark = -1;
            if (!topic || p.partition_index < 0 || p.partition_index >= topic->nparts) {
                r->error_code = KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            bk_log *log = &topic->parts[p.partition_index]->log;
            int64_t offset = p.offset == -1 ? log->end : p.offset;
            if (offset < 0 || offset > log->end) {
                r->error_code = KW_KAFKA_OFFSET_OUT_OF_RANGE;
                continue;
            }
            if (bk_log_delete_records(log, offset) != 0) {
                bk_log_msg("%s-%d: log start offset not stored", topic->name, (int)p.partition_index);
                r->error_code = KW_KAFKA_KAFKA_STORAGE_ERROR;
                continue;
            }
            r->low_watermark = log->start;
        }
    }
    resp->topics = kw_array_of(ts, nt);
    return BK_RESPOND;
}
