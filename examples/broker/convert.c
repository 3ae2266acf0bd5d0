/*
 * Message format conversion for clients older than KIP-98, as Kafka 3.x
 * does it (Kafka 4 stopped advertising those versions instead).
 *
 * Up: a legacy message set (magic 0 or 1) of Produce v0-v2, compressed
 * wrappers opened, becomes one v2 batch with the same keys, values and
 * timestamps (magic 0 has none: the broker's append time, and the batch
 * says LOG_APPEND_TIME) and the first wrapper's codec. The log then holds
 * v2 batches only.
 *
 * Down: the v2 batches a Fetch v0-v3 reads from the log become messages of
 * the magic that version implies (0 for v0-v1, 1 for v2-v3): control
 * batches dropped, record headers dropped (legacy messages have none),
 * each compressed batch one wrapper with the batch's codec (inner offsets
 * relative for magic 1, absolute for magic 0, as KIP-31 says), written back
 * to front. This costs a read into memory, a decompression and a
 * compression per batch, where v2 readers get sendfile.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert.h"
#include "dispatch.h"
#include "log.h"
#include "topics.h"
#include "util.h"
#include "kwire/compress.h"
#include "kwire/record_builder.h"

#define UNSUPPORTED_COMPRESSION_TYPE 76

/* Decompressed buffers kept alive until the conversion's output is built. */
typedef struct bufs {
    uint8_t **p;
    size_t n, cap;
} bufs;

static void bufs_free(bufs *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->p[i]);
    free(b->p);
}

static bool bufs_keep(bufs *b, uint8_t *p)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        uint8_t **np = realloc(b->p, cap * sizeof *np);
        if (!np)
            return false;
        b->p = np;
        b->cap = cap;
    }
    b->p[b->n++] = p;
    return true;
}

/*
 * Decompresses a v2 batch (b) or a legacy wrapper (m) into a buffer of the
 * exact size it needs, at most --max-decompressed. Kafka error code.
 */
static int decompress(bk_broker *br, const kw_record_batch *b, const kw_legacy_message *m,
                      bufs *keep, kw_slice *out)
{
    kw_compression codec = b ? kw_record_batch_compression(b) : kw_legacy_message_compression(m);
    if (!kw_compression_available(codec))
        return UNSUPPORTED_COMPRESSION_TYPE;
    size_t limit = br->cfg.max_decompressed_bytes, size = 0, len = 0;
    kw_err e = b ? kw_record_batch_decompressed_size(b, limit, &size)
                 : kw_legacy_message_decompressed_size(m, limit, &size);
    if (e == KW_ERR_DECOMPRESSED_TOO_LARGE)
        return KW_KAFKA_RECORD_LIST_TOO_LARGE;
    if (e == KW_ERR_OUT_OF_MEMORY)
        return KW_KAFKA_UNKNOWN_SERVER_ERROR;
    if (e != KW_OK)
        return KW_KAFKA_CORRUPT_MESSAGE;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return KW_KAFKA_UNKNOWN_SERVER_ERROR;
    e = b ? kw_record_batch_decompress(b, buf, size, &len)
          : kw_legacy_message_decompress(m, buf, size, &len);
    if (e != KW_OK || !bufs_keep(keep, buf)) {
        free(buf);
        return e != KW_OK ? KW_KAFKA_CORRUPT_MESSAGE : KW_KAFKA_UNKNOWN_SERVER_ERROR;
    }
    *out = (kw_slice){buf, len};
    return KW_KAFKA_NONE;
}

/* ---- up: legacy message sets into one v2 batch ----------------------------------------------- */

typedef struct up {
    kw_record_spec *recs;
    int64_t *ts; /* each record's absolute timestamp */
    size_t n, cap;
    bool all_magic0;
} up;

static int up_add(up *u, const kw_legacy_message *m, int64_t ts)
{
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 64;
        if (cap > INT32_MAX)
            return KW_KAFKA_RECORD_LIST_TOO_LARGE;
        kw_record_spec *r = realloc(u->recs, cap * sizeof *r);
        if (!r)
            return KW_KAFKA_UNKNOWN_SERVER_ERROR;
        u->recs = r;
        int64_t *t = realloc(u->ts, cap * sizeof *t);
        if (!t)
            return KW_KAFKA_UNKNOWN_SERVER_ERROR;
        u->ts = t;
        u->cap = cap;
    }
    kw_record_spec *r = &u->recs[u->n];
    memset(r, 0, sizeof *r);
    r->offset_delta = (int32_t)u->n;
    r->key = m->key;
    r->value = m->value;
    u->ts[u->n++] = ts;
    if (m->magic != 0)
        u->all_magic0 = false;
    return KW_KAFKA_NONE;
}

/* The messages of one entry: itself, or a wrapper's inner messages (one level, as Kafka). */
static int up_entry(bk_broker *br, up *u, const kw_legacy_message *m, int64_t now, bufs *keep,
                    kw_compression *codec)
{
    kw_compression c = kw_legacy_message_compression(m);
    if (c == KW_COMPRESSION_NONE)
        return up_add(u, m, m->magic == 0 ? now : m->timestamp);
    if (c >= KW_COMPRESSION_ZSTD)
        return KW_KAFKA_CORRUPT_MESSAGE; /* zstd came with v2 batches */
    if (*codec == KW_COMPRESSION_NONE)
        *codec = c;
    kw_slice plain;
    int err = decompress(br, NULL, m, keep, &plain);
    if (err != KW_KAFKA_NONE)
        return err;
    bool append_time = m->magic == 1 &&
                       kw_legacy_message_timestamp_type(m) == KW_TIMESTAMP_LOG_APPEND_TIME;
    kw_batch_iter it;
    kw_batch_iter_init(&it, plain, KW_VERIFY_CRC);
    kw_batch inner;
    int rc;
    size_t count = 0;
    while ((rc = kw_batch_iter_next(&it, &inner)) == 1) {
        const kw_legacy_message *im = &inner.legacy;
        if (inner.magic == 2 || im->magic > m->magic ||
            kw_legacy_message_compression(im) != KW_COMPRESSION_NONE)
            return KW_KAFKA_CORRUPT_MESSAGE;
        err = up_add(u, im, im->magic == 0 || append_time ? now : im->timestamp);
        if (err != KW_KAFKA_NONE)
            return err;
        count++;
    }
    return rc < 0 || kw_batch_iter_partial(&it) || count == 0 ? KW_KAFKA_CORRUPT_MESSAGE : KW_KAFKA_NONE;
}

int bk_upconvert(bk_req *req, kw_slice records, kw_slice *batch)
{
    bk_broker *br = req->br;
    int64_t now = bk_wall_ms();
    up u = {NULL, NULL, 0, 0, true};
    bufs keep = {NULL, 0, 0};
    kw_compression codec = KW_COMPRESSION_NONE;
    kw_batch_iter it;
    kw_batch_iter_init(&it, records, KW_VERIFY_CRC);
    kw_batch b;
    int rc, err = KW_KAFKA_NONE;
    while (err == KW_KAFKA_NONE && (rc = kw_batch_iter_next(&it, &b)) == 1)
        err = b.magic == 2 ? KW_KAFKA_INVALID_RECORD : up_entry(br, &u, &b.legacy, now, &keep, &codec);
    if (err == KW_KAFKA_NONE && (rc < 0 || kw_batch_iter_partial(&it)))
        err = KW_KAFKA_CORRUPT_MESSAGE;
    if (err == KW_KAFKA_NONE && u.n == 0)
        err = KW_KAFKA_INVALID_RECORD;
    /* timestamps as sent: each one's difference from the first must fit (hostile ones) */
    for (size_t i = 0; i < u.n && err == KW_KAFKA_NONE; i++) {
        int64_t t = u.ts[i], base = u.ts[0];
        if ((base < 0 && t > INT64_MAX + base) || (base > 0 && t < INT64_MIN + base))
            err = KW_KAFKA_INVALID_TIMESTAMP;
        else
            u.recs[i].timestamp_delta = t - base;
    }
    if (err == KW_KAFKA_NONE) {
        kw_batch_spec spec = kw_batch_spec_default();
        spec.base_timestamp = u.ts[0];
        spec.attributes = (int16_t)(codec | (u.all_magic0 ? KW_ATTR_TIMESTAMP_TYPE : 0));
        kw_builder out;
        kw_builder_init_growable(&out, 1u << 16);
        kw_err e = kw_build_record_batch(&out, &spec, u.recs, u.n);
        size_t size = kw_builder_size(&out);
        if (e != KW_OK)
            err = e == KW_ERR_TOO_LONG ? KW_KAFKA_RECORD_LIST_TOO_LARGE : KW_KAFKA_UNKNOWN_SERVER_ERROR;
        else if (size > (size_t)br->cfg.max_message_bytes)
            err = KW_KAFKA_MESSAGE_TOO_LARGE;
        else {
            uint8_t *p = bk_scratch_alloc(&req->scratch, size);
            if (!p || kw_builder_copy_out(&out, p, size) != size)
                err = KW_KAFKA_UNKNOWN_SERVER_ERROR;
            else
                *batch = (kw_slice){p, size};
        }
        kw_builder_free(&out);
    }
    free(u.recs);
    free(u.ts);
    bufs_free(&keep);
    return err;
}

/* ---- down: v2 batches into legacy messages ---------------------------------------------------- */

/* One record as a legacy message will carry it. */
typedef struct down_rec {
    int64_t offset, timestamp;
    kw_slice key, value;
} down_rec;

/* A run of records that becomes plain messages (codec NONE) or one wrapper. */
typedef struct down_group {
    kw_compression codec;
    bool append_time;
    int64_t max_timestamp;
    size_t first, count;
} down_group;

typedef struct down {
    down_rec *recs;
    size_t n, cap;
    down_group *groups;
    size_t ngroups, capgroups;
} down;

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *np = realloc(*p, c * size);
    if (!np)
        return false;
    *p = np;
    *cap = c;
    return true;
}

/* Collects the records of one v2 batch at or after first_offset. */
static int down_batch(bk_broker *br, down *d, const kw_record_batch *b, int64_t first_offset,
                      bufs *keep)
{
    if (kw_record_batch_is_control(b))
        return KW_KAFKA_NONE;
    kw_compression codec = kw_record_batch_compression(b);
    kw_record_iter it;
    if (codec == KW_COMPRESSION_ZSTD)
        return UNSUPPORTED_COMPRESSION_TYPE; /* no legacy message can carry zstd */
    if (codec != KW_COMPRESSION_NONE) {
        kw_slice plain;
        int err = decompress(br, b, NULL, keep, &plain);
        if (err != KW_KAFKA_NONE)
            return err;
        kw_record_iter_init_raw(&it, plain, b->record_count, 0);
    } else {
        kw_record_iter_init(&it, b);
    }
    if (!grow((void **)&d->groups, &d->capgroups, d->ngroups + 1, sizeof *d->groups))
        return KW_KAFKA_UNKNOWN_SERVER_ERROR;
    down_group *g = &d->groups[d->ngroups];
    g->codec = codec;
    g->append_time = kw_record_batch_timestamp_type(b) == KW_TIMESTAMP_LOG_APPEND_TIME;
    g->max_timestamp = b->max_timestamp;
    g->first = d->n;
    kw_record r;
    int rc;
    while ((rc = kw_record_iter_next(&it, &r)) == 1) {
        down_rec dr;
        if (!kw_record_offset(b, &r, &dr.offset) || !kw_record_timestamp(b, &r, &dr.timestamp))
            return KW_KAFKA_CORRUPT_MESSAGE;
        /* a plain message set starts where the client asked; a wrapper goes whole */
        if (codec == KW_COMPRESSION_NONE && dr.offset < first_offset)
            continue;
        dr.key = r.key;
        dr.value = r.value;
        if (!grow((void **)&d->recs, &d->cap, d->n + 1, sizeof *d->recs))
            return KW_KAFKA_UNKNOWN_SERVER_ERROR;
        d->recs[d->n++] = dr;
    }
    if (rc < 0)
        return KW_KAFKA_CORRUPT_MESSAGE;
    g->count = d->n - g->first;
    if (g->count > 0)
        d->ngroups++;
    return KW_KAFKA_NONE;
}

/* Writes a group's records as messages, last first; for a wrapper, offsets as KIP-31 says. */
static kw_err write_messages(kw_builder *b, const down *d, const down_group *g, int8_t magic,
                             bool inner)
{
    int8_t attr = magic == 1 && g->append_time && !inner ? KW_ATTR_TIMESTAMP_TYPE : 0;
    for (size_t i = g->count; i-- > 0;) {
        const down_rec *r = &d->recs[g->first + i];
        int64_t offset = inner && magic == 1 ? (int64_t)i : r->offset;
        int64_t ts = g->append_time ? g->max_timestamp : r->timestamp;
        kw_build_legacy_message(b, magic, offset, attr, ts, r->key, r->value);
    }
    return kw_builder_error(b);
}

static int write_wrapper(kw_builder *b, const down *d, const down_group *g, int8_t magic)
{
    kw_builder inner;
    kw_builder_init_growable(&inner, 1u << 16);
    int err = KW_KAFKA_UNKNOWN_SERVER_ERROR;
    uint8_t *plain = NULL, *packed = NULL;
    if (write_messages(&inner, d, g, magic, true) != KW_OK)
        goto out;
    size_t n = kw_builder_size(&inner);
    size_t bound = kw_compress_bound(g->codec, n);
    plain = malloc(n ? n : 1);
    packed = malloc(bound ? bound : 1);
    if (!plain || !packed || kw_builder_copy_out(&inner, plain, n) != n)
        goto out;
    size_t len;
    if (kw_compress(g->codec, 0, (kw_slice){plain, n}, packed, bound, &len) != KW_OK)
        goto out;
    int8_t attr = (int8_t)(g->codec | (magic == 1 && g->append_time ? KW_ATTR_TIMESTAMP_TYPE : 0));
    const down_rec *last = &d->recs[g->first + g->count - 1];
    kw_build_legacy_message(b, magic, last->offset, attr, g->max_timestamp,
                            (kw_slice){NULL, 0}, (kw_slice){packed, len});
    err = kw_builder_error(b) == KW_OK ? KW_KAFKA_NONE : KW_KAFKA_UNKNOWN_SERVER_ERROR;
out:
    free(plain);
    free(packed);
    kw_builder_free(&inner);
    return err;
}

int bk_downconvert(bk_req *req, kw_slice batches, int64_t first_offset, int8_t magic, kw_slice *out)
{
    bk_broker *br = req->br;
    down d;
    memset(&d, 0, sizeof d);
    bufs keep = {NULL, 0, 0};
    int err = KW_KAFKA_NONE;
    kw_batch_iter it;
    kw_batch_iter_init(&it, batches, 0);
    kw_batch b;
    int rc;
    /* a partial batch at the end of the read is left out, as for every reader */
    while (err == KW_KAFKA_NONE && (rc = kw_batch_iter_next(&it, &b)) == 1)
        err = b.magic == 2 ? down_batch(br, &d, &b.v2, first_offset, &keep) : KW_KAFKA_CORRUPT_MESSAGE;
    if (err == KW_KAFKA_NONE && rc < 0)
        err = KW_KAFKA_CORRUPT_MESSAGE;
    kw_builder o;
    kw_builder_init_growable(&o, 1u << 16);
    for (size_t i = d.ngroups; err == KW_KAFKA_NONE && i-- > 0;) {
        const down_group *g = &d.groups[i];
        if (g->codec == KW_COMPRESSION_NONE)
            err = write_messages(&o, &d, g, magic, false) == KW_OK ? KW_KAFKA_NONE
                                                                    : KW_KAFKA_UNKNOWN_SERVER_ERROR;
        else
            err = write_wrapper(&o, &d, g, magic);
    }
    if (err == KW_KAFKA_NONE) {
        size_t size = kw_builder_size(&o);
        uint8_t *p = bk_scratch_alloc(&req->scratch, size);
        if (!p || kw_builder_copy_out(&o, p, size) != size)
            err = KW_KAFKA_UNKNOWN_SERVER_ERROR;
        else
            *out = (kw_slice){p, size};
    }
    kw_builder_free(&o);
    free(d.recs);
    free(d.groups);
    bufs_free(&keep);
    return err;
}

int bk_downconvert_read(bk_req *req, const bk_read *rd, int64_t first_offset, int8_t magic,
                        kw_slice *out)
{
    if (rd->len > SIZE_MAX)
        return KW_KAFKA_UNKNOWN_SERVER_ERROR;
    uint8_t *buf = malloc(rd->len ? (size_t)rd->len : 1);
    if (!buf)
        return KW_KAFKA_UNKNOWN_SERVER_ERROR;
    size_t got = 0;
    while (got < rd->len) {
        ssize_t r = pread(rd->fd, buf + got, (size_t)rd->len - got, (off_t)(rd->pos + got));
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    int err = got == rd->len ? bk_downconvert(req, (kw_slice){buf, got}, first_offset, magic, out)
                             : KW_KAFKA_KAFKA_STORAGE_ERROR;
    free(buf);
    return err;
}
