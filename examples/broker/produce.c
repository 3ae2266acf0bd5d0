/*
 * Produce and InitProducerId.
 *
 * Each partition's records must be v2 batches whose CRC checks; an
 * uncompressed batch's records are walked and checked too. Produce v0-v2
 * may bring a legacy message set instead: it is converted into one v2
 * batch first (convert.c), which then goes through the same checks. A batch that
 * passes is appended as it was received: only its base_offset and
 * partition_leader_epoch are rewritten, in the request buffer, and those
 * lie outside the CRC. With --fsync always the logs are synced before the
 * response goes out, so an acknowledged batch is on disk.
 *
 * Idempotent producers follow Kafka's ProducerStateManager: per partition
 * and producer id the epoch and the last five batches' sequence ranges; a
 * batch equal to one of those is a duplicate and gets its first append's
 * offset back with no error, an older epoch gets INVALID_PRODUCER_EPOCH,
 * and a sequence that does not follow the last one gets
 * OUT_OF_ORDER_SEQUENCE_NUMBER (a new epoch must start at 0; a producer
 * the partition has never seen may start anywhere).
 */
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "dispatch.h"
#include "log.h"
#include "metadata_log.h"
#include "topics.h"
#include "util.h"
#include "kwire/compress.h"

static bool in_sequence(int32_t last, int32_t next)
{
    return (int64_t)next == (int64_t)last + 1 || (next == 0 && last == INT32_MAX);
}

/*
 * Checks one batch against the producer state. Returns an error code;
 * *duplicate_offset is set (>= 0) when the batch was appended before.
 */
static int check_producer(bk_log *log, const kw_record_batch *b, int64_t *duplicate_offset)
{
    *duplicate_offset = -1;
    if (b->producer_id < 0)
        return KW_KAFKA_NONE;
    bk_producer *p = bk_log_producer(log, b->producer_id, false);
    if (!p || p->epoch < 0)
        return KW_KAFKA_NONE;
    if (b->producer_epoch < p->epoch)
        return KW_KAFKA_INVALID_PRODUCER_EPOCH;
    int32_t last_seq =
        (int32_t)(((int64_t)b->base_sequence + b->last_offset_delta) % ((int64_t)INT32_MAX + 1));
    if (b->producer_epoch == p->epoch) {
        for (int i = 0; i < p->n; i++) {
            if (p->b[i].first_seq == b->base_sequence && p->b[i].last_seq == last_seq) {
                *duplicate_offset = p->b[i].first_offset;
                return KW_KAFKA_NONE;
            }
        }
        int32_t current = p->n ? p->b[p->n - 1].last_seq : -1;
        if (p->n && !in_sequence(current, b->base_sequence))
            return KW_KAFKA_OUT_OF_ORDER_SEQUENCE_NUMBER;
        return KW_KAFKA_NONE;
    }
    /* a new epoch starts its sequences at 0 */
    return b->base_sequence == 0 ? KW_KAFKA_NONE : KW_KAFKA_OUT_OF_ORDER_SEQUENCE_NUMBER;
}

/* The buffer batches are decompressed into to be checked, kept between requests. */
static uint8_t *decompress_buffer(bk_broker *br, size_t cap)
{
    if (br->dbuf_cap >= cap)
        return br->dbuf;
    uint8_t *b = realloc(br->dbuf, cap);
    if (!b)
        return NULL;
    br->dbuf = b;
    br->dbuf_cap = cap;
    return b;
}

/* Gives a large decompression buffer back after a request. */
static void decompress_buffer_trim(bk_broker *br)
{
    if (br->dbuf_cap > (4u << 20)) {
        free(br->dbuf);
        br->dbuf = NULL;
        br->dbuf_cap = 0;
    }
}

/* Checks one v2 batch from a producer. */
static int check_batch(bk_req *req, const kw_record_batch *b)
{
    if ((size_t)b->batch_length + KW_ENTRY_OVERHEAD > (size_t)req->br->cfg.max_message_bytes)
        return KW_KAFKA_MESSAGE_TOO_LARGE;
    if (kw_record_batch_is_control(b))
        return KW_KAFKA_INVALID_RECORD;
    if (kw_record_batch_is_transactional(b))
        return KW_KAFKA_INVALID_TXN_STATE; /* no transaction coordinator here */
    if (b->record_count <= 0 || b->last_offset_delta != b->record_count - 1)
        return KW_KAFKA_INVALID_RECORD;
    kw_compression codec = kw_record_batch_compression(b);
    if (codec > KW_COMPRESSION_ZSTD)
        return KW_KAFKA_CORRUPT_MESSAGE;
    if (codec == KW_COMPRESSION_ZSTD && req->version < 7)
        return 76; /* UNSUPPORTED_COMPRESSION_TYPE */
    if (b->producer_id >= 0 && (b->producer_epoch < 0 || b->base_sequence < 0))
        return KW_KAFKA_INVALID_RECORD;
    kw_record_iter it;
    kw_record r;
    if (codec != KW_COMPRESSION_NONE) {
        /* records are checked after decompression, as Kafka's LogValidator does; a
         * codec this build lacks leaves them to the consumers */
        if (!kw_compression_available(codec))
            return KW_KAFKA_NONE;
        /* the room grows 8x a try, up to --max-decompressed: a bomb stops there */
        kw_err e = KW_ERR_DECOMPRESSED_TOO_LARGE;
        size_t len = 0;
        uint8_t *buf = NULL;
        for (size_t cap = 1u << 20; e == KW_ERR_DECOMPRESSED_TOO_LARGE && cap <= req->br->cfg.max_decompressed_bytes;
             cap *= 8) {
            buf = decompress_buffer(req->br, cap);
            if (!buf)
                return KW_KAFKA_UNKNOWN_SERVER_ERROR;
            e = kw_record_batch_decompress(b, buf, cap, &len);
        }
        if (e == KW_ERR_DECOMPRESSED_TOO_LARGE)
            return KW_KAFKA_RECORD_LIST_TOO_LARGE;
        if (e != KW_OK)
            return KW_KAFKA_CORRUPT_MESSAGE;
        kw_record_iter_init_raw(&it, (kw_slice){buf, len}, b->record_count, 0);
    } else {
        kw_record_iter_init(&it, b);
    }
    int32_t i = 0;
    int rc;
    while ((rc = kw_record_iter_next(&it, &r)) == 1) {
        if (r.offset_delta != i++)
            return KW_KAFKA_INVALID_RECORD;
    }
    return rc == 0 ? KW_KAFKA_NONE : KW_KAFKA_CORRUPT_MESSAGE;
}

#define MAX_BATCHES 64

static int produce_partition(bk_req *req, bk_partition *p, kw_slice records, int64_t *base_offset)
{
    *base_offset = -1;
    if (!records.ptr)
        return KW_KAFKA_INVALID_RECORD;
    kw_batch_iter it;
    kw_batch b;
    kw_batch_iter_init(&it, records, 0);
    if (kw_batch_iter_next(&it, &b) == 1 && b.magic != 2) {
        /* Produce v0-v2 may carry legacy message sets: one v2 batch goes in the log */
        if (req->version >= 3)
            return KW_KAFKA_INVALID_RECORD;
        if (!req->br->cfg.down_conversion)
            return KW_KAFKA_UNSUPPORTED_FOR_MESSAGE_FORMAT;
        int err = bk_upconvert(req, records, &records);
        if (err != KW_KAFKA_NONE)
            return err;
    }
    kw_batch batches[MAX_BATCHES];
    size_t n = 0;
    kw_batch_iter_init(&it, records, KW_VERIFY_CRC);
    int rc;
    while ((rc = kw_batch_iter_next(&it, &b)) == 1) {
        if (n == MAX_BATCHES)
            return KW_KAFKA_INVALID_RECORD;
        batches[n++] = b;
    }
    if (rc < 0 || kw_batch_iter_partial(&it))
        return KW_KAFKA_CORRUPT_MESSAGE;
    if (n == 0 || (req->version >= 3 && n != 1))
        return KW_KAFKA_INVALID_RECORD;
    for (size_t i = 0; i < n; i++) {
        if (batches[i].magic != 2)
            return req->version >= 3 ? KW_KAFKA_INVALID_RECORD : KW_KAFKA_UNSUPPORTED_FOR_MESSAGE_FORMAT;
        int err = check_batch(req, &batches[i].v2);
        if (err != KW_KAFKA_NONE)
            return err;
    }
    if (records.len > (size_t)req->br->cfg.max_message_bytes * MAX_BATCHES)
        return KW_KAFKA_RECORD_LIST_TOO_LARGE;
    for (size_t i = 0; i < n; i++) {
        const kw_record_batch *v2 = &batches[i].v2;
        int64_t dup;
        int err = check_producer(&p->log, v2, &dup);
        if (err != KW_KAFKA_NONE)
            return err;
        if (dup >= 0) {
            if (i == 0)
                *base_offset = dup;
            continue;
        }
        int64_t base = p->log.end;
        if (bk_log_append(&p->log, (uint8_t *)(uintptr_t)batches[i].raw.ptr, batches[i].raw.len,
                          0) != 0) {
            bk_log_msg("%s-%d: append failed", p->topic->name, (int)p->id);
            return KW_KAFKA_KAFKA_STORAGE_ERROR;
        }
        req->br->fetch_wakeup = true;
        if (i == 0)
            *base_offset = base;
    }
    return KW_KAFKA_NONE;
}

bk_result bk_handle_produce(bk_req *req, const kw_produce_request *rq, kw_produce_response *resp)
{
    bk_broker *br = req->br;
    int32_t ntopics = kw_array_len(&rq->topic_data);
    kw_produce_response_topic_produce_response *topics =
        BK_ALLOC(req, kw_produce_response_topic_produce_response, ntopics);
    if (!topics && ntopics)
        return BK_CLOSE;
    bool any_error = false;
    bk_log **touched = NULL;
    size_t ntouched = 0, captouched = 0;
    kw_array_iter ti;
    kw_produce_request_topic_produce_data td;
    kw_array_iter_init(&ti, &rq->topic_data);
    for (int32_t t = 0; kw_produce_request_topic_produce_data_next(&ti, &td); t++) {
        int32_t nparts = kw_array_len(&td.partition_data);
        kw_produce_response_partition_produce_response *parts =
            BK_ALLOC(req, kw_produce_response_partition_produce_response, nparts);
        if (!parts && nparts) {
            free(touched);
            return BK_CLOSE;
        }
        bk_topic *topic = bk_topic_find(br, td.name);
        kw_array_iter pi;
        kw_produce_request_partition_produce_data pd;
        kw_array_iter_init(&pi, &td.partition_data);
        for (int32_t k = 0; kw_produce_request_partition_produce_data_next(&pi, &pd); k++) {
            kw_produce_response_partition_produce_response *pr = &parts[k];
            kw_produce_response_partition_produce_response_init(pr);
            pr->index = pd.index;
            pr->base_offset = -1;
            bk_partition *p = topic && pd.index >= 0 && pd.index < topic->nparts
                                  ? topic->parts[pd.index]
                                  : NULL;
            if (rq->acks != 0 && rq->acks != 1 && rq->acks != -1) {
                pr->error_code = KW_KAFKA_INVALID_REQUIRED_ACKS;
            } else if (!p) {
                pr->error_code = KW_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            } else {
                pr->error_code = (int16_t)produce_partition(req, p, pd.records.bytes, &pr->base_offset);
                pr->log_start_offset = p->log.start;
                if (pr->error_code == KW_KAFKA_NONE && p->log.dirty) {
                    bool seen = false;
                    for (size_t i = 0; i < ntouched && !seen; i++)
                        seen = touched[i] == &p->log;
                    if (!seen) {
                        if (ntouched == captouched) {
                            captouched = captouched ? captouched * 2 : 8;
                            bk_log **nt = realloc(touched, captouched * sizeof *nt);
                            if (!nt) {
                                free(touched);
                                return BK_CLOSE;
                            }
                            touched = nt;
                        }
                        touched[ntouched++] = &p->log;
                    }
                }
            }
            if (pr->error_code != KW_KAFKA_NONE)
                any_error = true;
        }
        topics[t].name = td.name;
        topics[t].partition_responses = kw_array_of(parts, nparts);
    }
    if (br->cfg.fsync == BK_FSYNC_ALWAYS) {
        for (size_t i = 0; i < ntouched; i++) {
            if (bk_log_sync(touched[i]) != 0) {
                free(touched);
                bk_log_msg("fsync failed: closing the producer's connection");
                return BK_CLOSE; /* not acknowledged */
            }
        }
    }
    free(touched);
    decompress_buffer_trim(br);
    if (rq->acks == 0)
        return any_error ? BK_CLOSE : BK_NO_RESPONSE; /* Kafka closes to tell an acks=0 producer */
    resp->responses = kw_array_of(topics, ntopics);
    return BK_RESPOND;
}

bk_result bk_handle_init_producer_id(bk_req *req, const kw_init_producer_id_request *rq,
                                     kw_init_producer_id_response *resp)
{
    bk_broker *br = req->br;
    resp->producer_epoch = -1;
    if (rq->transactional_id.ptr) {
        resp->error_code = KW_KAFKA_COORDINATOR_NOT_AVAILABLE; /* transactions are not served */
    } else if (req->version >= 3 && rq->producer_id >= 0 && rq->producer_epoch >= 0 &&
               rq->producer_id < br->next_producer_id && rq->producer_epoch < INT16_MAX - 1) {
        /* KIP-360: an idempotent producer bumps its epoch */
        resp->producer_id = rq->producer_id;
        resp->producer_epoch = (int16_t)(rq->producer_epoch + 1);
    } else {
        /* ids are handed out from blocks recorded in the metadata log, so none is
         * handed out twice across restarts */
        if (br->next_producer_id >= br->producer_ids_reserved) {
            int64_t next = br->next_producer_id + 1000;
            if (bk_metadata_append_producer_ids(br, next) != 0) {
                resp->error_code = KW_KAFKA_COORDINATOR_NOT_AVAILABLE;
                return BK_RESPOND;
            }
            br->producer_ids_reserved = next;
        }
        resp->producer_id = br->next_producer_id++;
        resp->producer_epoch = 0;
    }
    return BK_RESPOND;
}
