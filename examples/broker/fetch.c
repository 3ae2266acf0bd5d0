/*
 * Fetch and ListOffsets.
 *
 * Record bytes go from the segment file to the socket with sendfile and
 * are never read into user space: every partition's read is resolved to a
 * file range, its fd dup'ed into the connection's list (bk_conn.files) so
 * that it stays open until the response is sent (even if the topic is
 * deleted meanwhile), and the partition's records are that range
 * (kw_records_file), which the builder adds as a file segment.
 *
 * Fetch v0-v3 are the exception: their readers know legacy messages only,
 * so the range is read into memory and converted (convert.c).
 *
 * Long poll: a Fetch that finds fewer than min_bytes parks (max_wait_ms at
 * most) and runs again whenever a produce appends or its time runs out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert.h"
#include "dispatch.h"
#include "log.h"
#include "loop.h"
#include "topics.h"

/* Room for n more fds in the connection's list, so adding them cannot fail. */
static bool reserve_files(bk_conn *c, size_t n)
{
    if (c->capfiles - c->nfiles >= n)
        return true;
    size_t cap = c->nfiles + n;
    int *f = realloc(c->files, cap * sizeof *f);
    if (!f)
        return false;
    c->files = f;
    c->capfiles = cap;
    return true;
}

/* len bytes of fd from pos on as the records of a response (empty when no fd is left). */
static kw_records file_records(bk_req *req, int fd, uint64_t pos, uint64_t len)
{
    bk_conn *c = req->conn;
    int dfd = c && c->nfiles < c->capfiles ? dup(fd) : -1;
    if (dfd < 0)
        return kw_records_of((kw_slice){(const uint8_t *)"", 0});
    c->files[c->nfiles++] = dfd;
    return kw_records_file(dfd, (int64_t)pos, (size_t)len);
}

/* ---- Fetch ------------------------------------------------------------------------------- */

typedef struct fetch_part {
    kw_fetch_response_partition_data *out;
    bk_partition *p;
    int64_t offset;
    int32_t max_bytes;
    bk_read rd;
} fetch_part;

bk_result bk_handle_fetch(bk_req *req, const kw_fetch_request *rq, kw_fetch_response *resp)
{
    bk_broker *br = req->br;
    if (rq->session_id != 0 || rq->session_epoch > 0) {
        /* no fetch sessions are kept (session_id 0 in every answer) */
        resp->error_code = 70; /* FETCH_SESSION_ID_NOT_FOUND */
        return BK_RESPOND;
    }
    int32_t ntopics = kw_array_len(&rq->topics);
    kw_fetch_response_fetchable_topic_response *topics =
        BK_ALLOC(req, kw_fetch_response_fetchable_topic_response, ntopics);
    size_t total_parts = 0;
    kw_array_iter ti;
    kw_fetch_request_fetch_topic ft;
    kw_array_iter_init(&ti, &rq->topics);
    while (kw_fetch_request_fetch_topic_next(&ti, &ft))
        total_parts += (size_t)kw_array_len(&ft.partitions);
    fetch_part *fps = BK_ALLOC(req, fetch_part, total_parts);
    if ((!topics && ntopics) || (!fps && total_parts))
        return BK_CLOSE;
    size_t k = 0;
    kw_array_iter_init(&ti, &rq->topics);
    for (int32_t t = 0; kw_fetch_request_fetch_topic_next(&ti, &ft); t++) {
        int32_t nparts = kw_array_len(&ft.partitions);
        kw_fetch_response_partition_data *parts = BK_ALLOC(req, kw_fetch_response_partition_data, nparts);
        if (!parts && nparts)
            return BK_CLOSE;
        bk_topic *topic = req->version >= 13 ? bk_topic_find_id(br, &ft.topic_id)
                                             : bk_topic_find(br, ft.topic);
        topics[t].topic = ft.topic;
        topics[t].topic_id = ft.topic_id;
        topics[t].partitions = kw_array_of(parts, nparts);
        kw_array_iter pi;
        kw_fetch_request_fetch_partition fp;
        kw_array_iter_init(&pi, &ft.partitions);
        for (int32_t i = 0; kw_fetch_request_fetch_partition_next(&pi, &fp); i++) {
            kw_fetch_response_partition_data *pd = &parts[i];
            kw_fetch_response_partition_data_init(pd);
            pd->partition_index = fp.partition;
            pd->high_watermark = -1;
            /* no transactions here: none aborted (null for read_uncommitted, as Kafka) */
            pd->aborted_transactions = kw_array_of(NULL, rq->isolation_level == 1 ? 0 : -1);
            /* a partition Kafka cannot find: an empty list whatever the isolation level */
            const kw_array no_aborted = kw_array_of(NULL, 0);
            fetch_part *fpp = &fps[k++];
            memset(fpp, 0, sizeof *fpp);
            fpp->out = pd;
            fpp->rd.fd = -1;
            if (!topic) {
                pd->error_code = req->version >= 13 ? KW_KAFKA_UNKNOWN_TOPIC_ID : KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                pd->aborted_transactions = no_aborted;
                continue;
            }
            if (fp.partition < 0 || fp.partition >= topic->nparts) {
                pd->error_code = KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                pd->aborted_transactions = no_aborted;
                continue;
            }
            bk_partition *p = topic->parts[fp.partition];
            pd->high_watermark = p->log.end;
            pd->last_stable_offset = p->log.end;
            pd->log_start_offset = p->log.start;
            if (fp.current_leader_epoch > 0) {
                pd->error_code = KW_KAFKA_UNKNOWN_LEADER_EPOCH;
                continue;
            }
            fpp->p = p;
            fpp->offset = fp.fetch_offset;
            fpp->max_bytes = fp.partition_max_bytes;
        }
    }
    /* resolve the reads: the request's max_bytes across partitions, whole first batch (KIP-74) */
    int64_t budget = req->version >= 3 ? rq->max_bytes : INT32_MAX;
    if (budget < 0)
        budget = 0;
    uint64_t total = 0;
    bool first = true;
    size_t nreads = 0;
    for (size_t i = 0; i < k; i++) {
        fetch_part *f = &fps[i];
        if (!f->p)
            continue;
        if (f->max_bytes < 0) {
            f->out->error_code = KW_KAFKA_INVALID_FETCH_SIZE;
            continue;
        }
        uint64_t limit = (uint64_t)f->max_bytes;
        if ((int64_t)limit > budget)
            limit = (uint64_t)budget;
        int code = bk_log_read(&f->p->log, f->offset, limit, first && req->version >= 3, &f->rd);
        f->out->error_code = (int16_t)code;
        if (code == KW_KAFKA_OFFSET_OUT_OF_RANGE) /* as Kafka: no offsets beside this error */
            f->out->high_watermark = f->out->last_stable_offset = f->out->log_start_offset = -1;
        if (code != KW_KAFKA_NONE || f->rd.len == 0)
            continue;
        total += f->rd.len;
        budget -= (int64_t)f->rd.len;
        if (budget < 0)
            budget = 0;
        first = false;
        nreads++;
    }
    bool enough = rq->min_bytes <= 0 || total >= (uint64_t)rq->min_bytes;
    bool any_error = false;
    for (size_t i = 0; i < k; i++)
        if (fps[i].out->error_code != KW_KAFKA_NONE)
            any_error = true;
    if (!enough && !any_error && !req->final && rq->max_wait_ms > 0 && req->conn) {
        req->park = BK_PARK_FETCH;
        /* a wait longer than a request may take to arrive is cut to that */
        int64_t wait = rq->max_wait_ms < br->cfg.frame_timeout_ms ? rq->max_wait_ms : br->cfg.frame_timeout_ms;
        req->park_deadline = req->resumed ? req->conn->park_deadline : br->now + wait;
        return BK_PARKED;
    }
    if (req->conn && !reserve_files(req->conn, nreads))
        return BK_CLOSE;
    /* Fetch v0-v3 readers know magic 0 (v0-v1) or 1 (v2-v3) only: converted in memory */
    int8_t legacy_magic = req->version <= 1 ? 0 : req->version <= 3 ? 1 : 2;
    for (size_t i = 0; i < k; i++) {
        fetch_part *f = &fps[i];
        if (!f->p || f->out->error_code != KW_KAFKA_NONE || f->rd.len == 0)
            continue;
        if (legacy_magic < 2)
            f->out->error_code = (int16_t)bk_downconvert_read(req, &f->rd, f->offset, legacy_magic,
                                                              &f->out->records.bytes);
        else
            f->out->records = file_records(req, f->rd.fd, f->rd.pos, f->rd.len);
    }
    resp->responses = kw_array_of(topics, ntopics);
    return BK_RESPOND;
}

/* ---- ListOffsets -------------------------------------------------------------------------- */

#define EARLIEST -2
#define LATEST -1
#define MAX_TIMESTAMP -3
#define EARLIEST_LOCAL -4
#define LATEST_TIERED -5

bk_result bk_handle_list_offsets(bk_req *req, const kw_list_offsets_request *rq,
                                 kw_list_offsets_response *resp)
{
    bk_broker *br = req->br;
    int32_t ntopics = kw_array_len(&rq->topics);
    kw_list_offsets_response_list_offsets_topic_response *topics =
        BK_ALLOC(req, kw_list_offsets_response_list_offsets_topic_response, ntopics);
    if (!topics && ntopics)
        return BK_CLOSE;
    kw_array_iter ti;
    kw_list_offsets_request_list_offsets_topic lt;
    kw_array_iter_init(&ti, &rq->topics);
    for (int32_t t = 0; kw_list_offsets_request_list_offsets_topic_next(&ti, &lt); t++) {
        int32_t nparts = kw_array_len(&lt.partitions);
        kw_list_offsets_response_list_offsets_partition_response *parts =
            BK_ALLOC(req, kw_list_offsets_response_list_offsets_partition_response, nparts);
        int64_t *olds = BK_ALLOC(req, int64_t, nparts);
        if ((!parts || !olds) && nparts)
            return BK_CLOSE;
        topics[t].name = lt.name;
        topics[t].partitions = kw_array_of(parts, nparts);
        bk_topic *topic = bk_topic_find(br, lt.name);
        kw_array_iter pi;
        kw_list_offsets_request_list_offsets_partition lp;
        kw_array_iter_init(&pi, &lt.partitions);
        for (int32_t i = 0; kw_list_offsets_request_list_offsets_partition_next(&pi, &lp); i++) {
            kw_list_offsets_response_list_offsets_partition_response *pr = &parts[i];
            kw_list_offsets_response_list_offsets_partition_response_init(pr);
            pr->partition_index = lp.partition_index;
            if (!topic || lp.partition_index < 0 || lp.partition_index >= topic->nparts) {
                pr->error_code = KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (lp.current_leader_epoch > 0) {
                pr->error_code = KW_KAFKA_UNKNOWN_LEADER_EPOCH;
                continue;
            }
            bk_log *log = &topic->parts[lp.partition_index]->log;
            int64_t ts = lp.timestamp, found_ts = -1, offset;
            if (ts == EARLIEST || ts == EARLIEST_LOCAL)
                offset = log->start;
            else if (ts == LATEST)
                offset = log->end;
            else if (ts == MAX_TIMESTAMP)
                offset = bk_log_offset_of_max_timestamp(log, &found_ts);
            else if (ts == LATEST_TIERED)
                offset = -1;
            else if (ts < 0) { /* a special offset newer than the broker: as Kafka answers */
                pr->error_code = KW_KAFKA_UNSUPPORTED_VERSION;
                continue;
            } else {
                offset = bk_log_offset_for_timestamp(log, ts, &found_ts);
            }
            pr->offset = offset;
            pr->timestamp = found_ts;
            if (offset >= 0)
                pr->leader_epoch = 0;
            if (req->version == 0) {
                int32_t n = 0;
                if (offset >= 0 && lp.max_num_offsets > 0)
                    olds[n++] = offset;
                pr->old_style_offsets = kw_array_of(olds, n);
            }
        }
    }
    resp->topics = kw_array_of(topics, ntopics);
    return BK_RESPOND;
}
