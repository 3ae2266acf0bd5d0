/*
 * A partition log in Kafka's on-disk layout: <dir>/<base offset>.log
 * segments (20 digits) holding v2 record batches exactly as they are
 * sent, each with a sparse offset index <base>.index (entries of int32
 * relative offset, int32 position, big-endian, one per 4 KiB of log).
 *
 * Opening a log scans the batch headers of every segment (rebuilding the
 * in-memory index and the idempotent producer state) and checks the last
 * segment's batches in full, CRC included: a torn or corrupt tail, what a
 * crash during a write leaves, is truncated away. Only whole batches that
 * passed these checks are ever served, because reads stop at the size the
 * log has accounted, never at what the file happens to hold.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "kwire/messages.h"
#include "kwire/compress.h"

#define MAX_PRODUCERS 4096

static int pread_full(int fd, void *buf, size_t len, uint64_t pos)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)pos);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            return 1; /* short */
        p += n;
        len -= (size_t)n;
        pos += (uint64_t)n;
    }
    return 0;
}

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t pos)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)pos);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        pos += (uint64_t)n;
    }
    return 0;
}

/* Offsets recovery accepts: none negative, none past INT64_MAX. Appends are held to the same. */
static bool hdr_ok(const kw_record_batch *h)
{
    int64_t last;
    return h->base_offset >= 0 && h->last_offset_delta >= 0 &&
           kw_record_batch_last_offset(h, &last);
}

/* Last offset of a batch hdr_ok accepted. */
static int64_t batch_last(const kw_record_batch *h)
{
    return h->base_offset + h->last_offset_delta;
}

/* Reads the batch header at pos: 0 ok, 1 torn (runs past size), -1 not a valid v2 batch. */
static int read_hdr(int fd, uint64_t pos, uint64_t size, kw_record_batch *h)
{
    uint8_t buf[KW_BATCH_V2_HEADER];
    if (size - pos < KW_BATCH_V2_HEADER)
        return 1;
    int rc = pread_full(fd, buf, sizeof buf, pos);
    if (rc < 0)
        return -1;
    if (rc > 0)
        return 1;
    if (kw_record_batch_read_header(h, (kw_slice){buf, sizeof buf}, 0, NULL) != KW_OK ||
        !hdr_ok(h))
        return -1;
    h->raw = h->records = (kw_slice){NULL, 0}; /* they would point into buf */
    if (kw_record_batch_size(h) > size - pos)
        return 1;
    return 0;
}

/* ---- producers ---------------------------------------------------------------------------- */

bk_producer *bk_log_producer(bk_log *log, int64_t producer_id, bool create)
{
    for (size_t i = 0; i < log->nproducers; i++)
        if (log->producers[i].producer_id == producer_id)
            return &log->producers[i];
    if (!create)
        return NULL;
    if (log->nproducers == MAX_PRODUCERS) {
        /* forget the producer that wrote least recently, as Kafka expires idle ones */
        size_t oldest = 0;
        for (size_t i = 1; i < log->nproducers; i++) {
            const bk_producer *a = &log->producers[i], *b = &log->producers[oldest];
            int64_t la = a->n ? a->b[a->n - 1].last_offset : -1;
            int64_t lb = b->n ? b->b[b->n - 1].last_offset : -1;
            if (la < lb)
                oldest = i;
        }
        log->producers[oldest] = log->producers[--log->nproducers];
    }
    if (log->nproducers == log->capproducers) {
        size_t cap = log->capproducers ? log->capproducers * 2 : 4;
        bk_producer *p = realloc(log->producers, cap * sizeof *p);
        if (!p)
            return NULL;
        log->producers = p;
        log->capproducers = cap;
    }
    bk_producer *p = &log->producers[log->nproducers++];
    memset(p, 0, sizeof *p);
    p->producer_id = producer_id;
    p->epoch = -1;
    return p;
}

static void producer_record(bk_log *log, const kw_record_batch *h)
{
    if (h->producer_id < 0 || (h->attributes & KW_ATTR_CONTROL))
        return;
    bk_producer *p = bk_log_producer(log, h->producer_id, true);
    if (!p)
        return;
    if (h->producer_epoch != p->epoch) {
        p->epoch = h->producer_epoch;
        p->n = 0;
    }
    if (p->n == BK_PRODUCER_BATCHES) {
        memmove(&p->b[0], &p->b[1], sizeof p->b[0] * (BK_PRODUCER_BATCHES - 1));
        p->n--;
    }
    int64_t count = batch_last(h) - h->base_offset;
    p->b[p->n].first_seq = h->base_sequence;
    p->b[p->n].last_seq = (int32_t)(((int64_t)h->base_sequence + count) % ((int64_t)INT32_MAX + 1));
    p->b[p->n].first_offset = h->base_offset;
    p->b[p->n].last_offset = batch_last(h);
    p->n++;
}

/* ---- segments ---------------------------------------------------------------------------- */

static void seg_path(char *out, size_t cap, const char *dir, int64_t base, const char *ext)
{
    snprintf(out, cap, "%s/%020" PRId64 "%s", dir, base, ext);
}

static int index_add(bk_segment *s, int64_t offset, uint64_t pos)
{
    if (s->nidx == s->capidx) {
        size_t cap = s->capidx ? s->capidx * 2 : 16;
        bk_index_entry *idx = realloc(s->idx, cap * sizeof *idx);
        if (!idx)
            return -1;
        s->idx = idx;
        s->capidx = cap;
    }
    s->idx[s->nidx].offset = offset;
    s->idx[s->nidx].pos = (uint32_t)pos;
    s->nidx++;
    s->last_indexed_pos = pos;
    return 0;
}

/* Writes the in-memory index of s to its .index file (replacing it). */
static int index_write(bk_log *log, bk_segment *s, bool keep_open)
{
    char path[BK_PATH_MAX];
    seg_path(path, sizeof path, log->dir, s->base, ".index");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    uint8_t buf[8 * 256];
    size_t n = 0;
    for (size_t i = 0; i < s->nidx; i++) {
        kw_store_be32(buf + n, (uint32_t)(s->idx[i].offset - s->base));
        kw_store_be32(buf + n + 4, s->idx[i].pos);
        n += 8;
        if (n == sizeof buf || i + 1 == s->nidx) {
            if (write(fd, buf, n) != (ssize_t)n) {
                close(fd);
                return -1;
            }
            n = 0;
        }
    }
    if (keep_open)
        s->index_fd = fd;
    else
        close(fd);
    return 0;
}

/*
 * Scans the batches of a segment from the start. With full, each batch is
 * read whole and its CRC checked. Stops at the first batch that is torn or
 * invalid and truncates the file there.
 */
static int seg_scan(bk_log *log, bk_segment *s, bool full, int64_t prev_next)
{
    struct stat st;
    if (fstat(s->fd, &st) != 0)
        return -1;
    uint64_t size = (uint64_t)st.st_size;
    uint64_t pos = 0;
    int64_t next = prev_next > s->base ? prev_next : s->base;
    uint8_t *buf = NULL;
    size_t cap = 0;
    s->nidx = 0;
    s->last_indexed_pos = 0;
    s->max_timestamp = -1;
    const char *why = NULL;
    while (pos < size) {
        kw_record_batch h;
        int rc = read_hdr(s->fd, pos, size, &h);
        if (rc != 0) {
            why = rc > 0 ? "torn batch" : "invalid batch header";
            break;
        }
        if (h.base_offset < next) {
            why = "offsets go backwards";
            break;
        }
        size_t bsize = kw_record_batch_size(&h);
        if (full) {
            if (bsize > (uint64_t)64 * 1024 * 1024 * 4) {
                why = "batch too large";
                break;
            }
            if (bsize > cap) {
                uint8_t *nb = realloc(buf, bsize);
                if (!nb) {
                    free(buf);
                    return -1;
                }
                buf = nb;
                cap = bsize;
            }
            if (pread_full(s->fd, buf, bsize, pos) != 0) {
                why = "short read";
                break;
            }
            kw_batch_iter it;
            kw_batch b;
            kw_batch_iter_init(&it, (kw_slice){buf, bsize}, KW_VERIFY_CRC);
            if (kw_batch_iter_next(&it, &b) != 1 || b.magic != 2) {
                why = "batch CRC or layout does not check";
                break;
            }
        }
        if (s->nidx == 0 || pos - s->last_indexed_pos >= BK_INDEX_INTERVAL) {
            if (index_add(s, h.base_offset, pos) != 0) {
                free(buf);
                return -1;
            }
        }
        if (h.max_timestamp > s->max_timestamp)
            s->max_timestamp = h.max_timestamp;
        producer_record(log, &h);
        next = batch_last(&h) + 1;
        pos += bsize;
        if (pos > UINT32_MAX) {
            why = "segment over 4 GiB";
            break;
        }
    }
    free(buf);
    if (pos < size) {
        bk_log_msg("%s: segment %020" PRId64 ".log: %s at byte %" PRIu64
                   ", truncating %" PRIu64 " bytes",
                   log->dir, s->base, why ? why : "?", pos, size - pos);
        if (ftruncate(s->fd, (off_t)pos) != 0)
            return -1;
        log->truncated_bytes += size - pos;
    }
    s->size = pos;
    s->next = next;
    return 0;
}

static int seg_open(bk_log *log, bk_segment *s, int64_t base, bool create)
{
    char path[BK_PATH_MAX];
    memset(s, 0, sizeof *s);
    s->base = base;
    s->next = base;
    s->index_fd = -1;
    s->max_timestamp = -1;
    seg_path(path, sizeof path, log->dir, base, ".log");
    s->fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (s->fd < 0)
        return -1;
    return 0;
}

static void seg_close(bk_segment *s)
{
    if (s->fd >= 0)
        close(s->fd);
    if (s->index_fd >= 0)
        close(s->index_fd);
    free(s->idx);
    s->fd = s->index_fd = -1;
    s->idx = NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int log_push_segment(bk_log *log, const bk_segment *s)
{
    bk_segment *segs = realloc(log->segs, (log->nsegs + 1) * sizeof *segs);
    if (!segs)
        return -1;
    log->segs = segs;
    log->segs[log->nsegs++] = *s;
    return 0;
}

/* The log start offset DeleteRecords moved the log to (BK_LOG_START_FILE), or -1. */
static int64_t start_checkpoint_read(const bk_log *log)
{
    char path[BK_PATH_MAX + 64], text[32];
    snprintf(path, sizeof path, "%s/%s", log->dir, BK_LOG_START_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return -1;
    text[n] = 0;
    int64_t v = 0;
    for (ssize_t i = 0; i < n && text[i] >= '0' && text[i] <= '9'; i++) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (text[i] - '0');
    }
    return v;
}

int bk_log_open(bk_log *log, const char *dir, const bk_config *cfg, bool create)
{
    memset(log, 0, sizeof *log);
    log->cfg = cfg;
    log->dir = strdup(dir);
    if (!log->dir)
        return -1;
    if (create && bk_mkdirs(dir) != 0)
        goto fail;
    DIR *d = opendir(dir);
    if (!d)
        goto fail;
    int64_t *bases = NULL;
    size_t nbases = 0, capbases = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (len != 24 || strcmp(n + 20, ".log") != 0)
            continue;
        int64_t base = 0;
        bool ok = true;
        for (size_t i = 0; i < 20; i++) {
            if (n[i] < '0' || n[i] > '9' || base > (INT64_MAX - 9) / 10) {
                ok = false;
                break;
            }
            base = base * 10 + (n[i] - '0');
        }
        if (!ok)
            continue;
        if (nbases == capbases) {
            capbases = capbases ? capbases * 2 : 8;
            int64_t *nb = realloc(bases, capbases * sizeof *nb);
            if (!nb) {
                free(bases);
                closedir(d);
                goto fail;
            }
            bases = nb;
        }
        bases[nbases++] = base;
    }
    closedir(d);
    if (nbases)
        qsort(bases, nbases, sizeof *bases, cmp_i64);
    int64_t prev_next = 0;
    for (size_t i = 0; i < nbases; i++) {
        bk_segment s;
        if (seg_open(log, &s, bases[i], false) != 0 ||
            seg_scan(log, &s, i + 1 == nbases, prev_next) != 0 || log_push_segment(log, &s) != 0) {
            seg_close(&s);
            free(bases);
            goto fail;
        }
        prev_next = s.next;
        if (i + 1 < nbases)
            index_write(log, &log->segs[log->nsegs - 1], false);
    }
    free(bases);
    if (log->nsegs == 0) {
        bk_segment s;
        if (seg_open(log, &s, 0, true) != 0 || log_push_segment(log, &s) != 0) {
            seg_close(&s);
            goto fail;
        }
        if (cfg->fsync != BK_FSYNC_NEVER)
            bk_fsync_dir(dir);
    }
    bk_segment *active = &log->segs[log->nsegs - 1];
    if (index_write(log, active, true) != 0)
        goto fail;
    log->start = log->segs[0].base;
    if (log->segs[0].nidx)
        log->start = log->segs[0].idx[0].offset;
    log->end = active->next;
    int64_t deleted = start_checkpoint_read(log);
    if (deleted > log->start)
        log->start = deleted < log->end ? deleted : log->end;
    return 0;
fail:;
    int saved = errno;
    bk_log_close(log);
    errno = saved;
    return -1;
}

void bk_log_close(bk_log *log)
{
    if (log->dirty && log->cfg && log->cfg->fsync != BK_FSYNC_NEVER)
        bk_log_sync(log);
    for (size_t i = 0; i < log->nsegs; i++)
        seg_close(&log->segs[i]);
    free(log->segs);
    free(log->producers);
    free(log->dir);
    memset(log, 0, sizeof *log);
}

int bk_log_sync(bk_log *log)
{
    if (!log->nsegs)
        return 0;
    bk_segment *s = &log->segs[log->nsegs - 1];
    int rc = fdatasync(s->fd);
    if (s->index_fd >= 0)
        fdatasync(s->index_fd);
    if (rc == 0)
        log->dirty = false;
    return rc;
}

static int roll(bk_log *log)
{
    bk_segment *old = &log->segs[log->nsegs - 1];
    if (log->cfg->fsync != BK_FSYNC_NEVER) {
        fdatasync(old->fd);
        if (old->index_fd >= 0)
            fdatasync(old->index_fd);
    }
    bk_segment s;
    if (seg_open(log, &s, log->end, true) != 0)
        return -1;
    if (index_write(log, &s, true) != 0 || log_push_segment(log, &s) != 0) {
        seg_close(&s);
        return -1;
    }
    old = &log->segs[log->nsegs - 2];
    if (old->index_fd >= 0) {
        close(old->index_fd);
        old->index_fd = -1;
    }
    if (log->cfg->fsync != BK_FSYNC_NEVER)
        bk_fsync_dir(log->dir);
    return 0;
}

int bk_log_append(bk_log *log, uint8_t *batch, size_t len, int32_t leader_epoch)
{
    kw_record_batch h;
    if (!log->nsegs || kw_record_batch_set_base_offset(batch, len, log->end, NULL) != KW_OK ||
        kw_record_batch_set_partition_leader_epoch(batch, len, leader_epoch, NULL) != KW_OK ||
        kw_record_batch_read_header(&h, (kw_slice){batch, len}, 0, NULL) != KW_OK ||
        kw_record_batch_size(&h) != len || !hdr_ok(&h)) {
        errno = EINVAL;
        return -1;
    }
    bk_segment *s = &log->segs[log->nsegs - 1];
    if (s->size > 0 && (s->size + len > (uint64_t)log->cfg->segment_bytes ||
                        s->size + len > UINT32_MAX)) {
        if (roll(log) != 0)
            return -1;
        s = &log->segs[log->nsegs - 1];
    }
    if (pwrite_full(s->fd, batch, len, s->size) != 0) {
        int saved = errno;
        if (ftruncate(s->fd, (off_t)s->size) != 0) {
            /* the size the log accounts still bounds every read */
        }
        errno = saved;
        return -1;
    }
    if (s->nidx == 0 || s->size - s->last_indexed_pos >= BK_INDEX_INTERVAL) {
        if (index_add(s, h.base_offset, s->size) == 0 && s->index_fd >= 0) {
            uint8_t e[8];
            kw_store_be32(e, (uint32_t)(h.base_offset - s->base));
            kw_store_be32(e + 4, (uint32_t)s->size);
            if (write(s->index_fd, e, 8) != 8) {
                /* the index is rebuilt from the log on the next start */
            }
        }
    }
    if (h.max_timestamp > s->max_timestamp)
        s->max_timestamp = h.max_timestamp;
    producer_record(log, &h);
    s->size += len;
    s->next = batch_last(&h) + 1;
    log->end = s->next;
    log->dirty = true;
    return 0;
}

/* ---- retention ------------------------------------------------------------------------ */

int bk_log_apply_retention(bk_log *log, int64_t older_than_ts, int64_t max_bytes)
{
    uint64_t total = 0;
    for (size_t i = 0; i < log->nsegs; i++)
        total += log->segs[i].size;
    size_t drop = 0;
    /* never the active segment, as Kafka */
    while (drop + 1 < log->nsegs) {
        const bk_segment *s = &log->segs[drop];
        bool too_old = older_than_ts >= 0 && s->max_timestamp >= 0 && s->max_timestamp < older_than_ts;
        bool too_big = max_bytes >= 0 && total > (uint64_t)max_bytes &&
                       total - s->size >= (uint64_t)max_bytes;
        if (!too_old && !too_big)
            break;
        total -= s->size;
        drop++;
    }
    if (drop == 0)
        return 0;
    for (size_t i = 0; i < drop; i++) {
        bk_segment *s = &log->segs[i];
        char path[BK_PATH_MAX + 64];
        int64_t base = s->base;
        seg_close(s);
        seg_path(path, sizeof path, log->dir, base, ".log");
        unlink(path); /* a response still sending holds its own fd */
        seg_path(path, sizeof path, log->dir, base, ".index");
        unlink(path);
    }
    memmove(log->segs, log->segs + drop, (log->nsegs - drop) * sizeof *log->segs);
    log->nsegs -= drop;
    int64_t start = log->segs[0].nidx ? log->segs[0].idx[0].offset : log->segs[0].base;
    if (start > log->start) /* DeleteRecords may have moved it further */
        log->start = start;
    if (log->start > log->end)
        log->start = log->end;
    return (int)drop;
}

/* ---- DeleteRecords ---------------------------------------------------------------------- */

int bk_log_delete_records(bk_log *log, int64_t offset)
{
    if (offset < 0 || offset > log->end) {
        errno = EINVAL;
        return -1;
    }
    if (offset <= log->start)
        return 0;
    char path[BK_PATH_MAX + 64], text[32];
    snprintf(path, sizeof path, "%s/%s", log->dir, BK_LOG_START_FILE);
    int n = snprintf(text, sizeof text, "%" PRId64 "\n", offset);
    if (bk_write_file_atomic(path, text, (size_t)n, log->cfg && log->cfg->fsync != BK_FSYNC_NEVER) != 0)
        return -1;
    log->start = offset;
    /* whole segments below it go (never the active one) */
    size_t drop = 0;
    while (drop + 1 < log->nsegs && log->segs[drop].next <= offset)
        drop++;
    for (size_t i = 0; i < drop; i++) {
        bk_segment *s = &log->segs[i];
        int64_t base = s->base;
        seg_close(s);
        seg_path(path, sizeof path, log->dir, base, ".log");
        unlink(path); /* a response still sending holds its own fd */
        seg_path(path, sizeof path, log->dir, base, ".index");
        unlink(path);
    }
    if (drop) {
        memmove(log->segs, log->segs + drop, (log->nsegs - drop) * sizeof *log->segs);
        log->nsegs -= drop;
    }
    return 0;
}

/* ---- reads ----------------------------------------------------------------------------- */

/* The segment holding offset (or the first after it), or NULL. */
static bk_segment *seg_for(bk_log *log, int64_t offset)
{
    size_t lo = 0, hi = log->nsegs;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (log->segs[mid].base <= offset)
            lo = mid;
        else
            hi = mid;
    }
    for (size_t i = lo; i < log->nsegs; i++)
        if (log->segs[i].next > offset && log->segs[i].size > 0)
            return &log->segs[i];
    return NULL;
}

/* Position of the batch holding offset (or the first after it) in s; false when none. */
static bool seg_locate(bk_segment *s, int64_t offset, uint64_t *pos, kw_record_batch *h)
{
    uint64_t p = 0;
    size_t lo = 0, hi = s->nidx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->idx[mid].offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0)
        p = s->idx[lo - 1].pos;
    while (p < s->size) {
        if (read_hdr(s->fd, p, s->size, h) != 0)
            return false;
        if (batch_last(h) >= offset) {
            *pos = p;
            return true;
        }
        p += kw_record_batch_size(h);
    }
    return false;
}

int bk_log_read(bk_log *log, int64_t offset, uint64_t max_bytes, bool min_one, bk_read *out)
{
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (offset < log->start || offset > log->end)
        return KW_KAFKA_OFFSET_OUT_OF_RANGE;
    if (offset == log->end)
        return KW_KAFKA_NONE;
    bk_segment *s = seg_for(log, offset);
    if (!s)
        return KW_KAFKA_NONE;
    uint64_t pos;
    kw_record_batch h;
    if (!seg_locate(s, offset, &pos, &h))
        return KW_KAFKA_NONE;
    uint64_t avail = s->size - pos;
    uint64_t len = avail < max_bytes ? avail : max_bytes;
    if (min_one && len < kw_record_batch_size(&h))
        len = kw_record_batch_size(&h);
    out->fd = s->fd;
    out->pos = pos;
    out->len = len;
    out->first_batch = kw_record_batch_size(&h);
    return KW_KAFKA_NONE;
}

/* Reads the batch at pos whole into *buf (grown as needed). */
static int read_batch(bk_segment *s, uint64_t pos, const kw_record_batch *h, uint8_t **buf,
                      size_t *cap)
{
    size_t size = kw_record_batch_size(h);
    if (size > *cap) {
        uint8_t *nb = realloc(*buf, size);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = size;
    }
    return pread_full(s->fd, *buf, size, pos) == 0 ? 0 : -1;
}

/*
 * The first record of the batch at pos at or after offset min whose timestamp
 * is >= ts (or, with exact, equal to it). Compressed batches are decompressed (within 64 MiB;
 * past that, or with a codec this build lacks, their first offset).
 */
static int64_t record_in_batch(bk_segment *s, uint64_t pos, const kw_record_batch *h, int64_t ts,
                               bool exact, int64_t min, int64_t *found_ts)
{
    uint8_t *buf = NULL;
    size_t cap = 0;
    int64_t result = h->base_offset > min ? h->base_offset : min;
    *found_ts = h->max_timestamp;
    if (read_batch(s, pos, h, &buf, &cap) == 0) {
        kw_batch_iter it;
        kw_batch b;
        kw_batch_iter_init(&it, (kw_slice){buf, kw_record_batch_size(h)}, 0);
        uint8_t *plain = NULL;
        bool ok = kw_batch_iter_next(&it, &b) == 1 && b.magic == 2;
        kw_record_iter ri;
        if (ok && kw_record_batch_compression(&b.v2) != KW_COMPRESSION_NONE) {
            kw_err e = KW_ERR_DECOMPRESSED_TOO_LARGE;
            size_t len = 0;
            for (size_t room = 1u << 20; e == KW_ERR_DECOMPRESSED_TOO_LARGE && room <= (64u << 20);
                 room *= 8) {
                free(plain);
                plain = malloc(room);
                e = plain ? kw_record_batch_decompress(&b.v2, plain, room, &len) : KW_ERR_OUT_OF_MEMORY;
            }
            ok = e == KW_OK;
            if (ok)
                kw_record_iter_init_raw(&ri, (kw_slice){plain, len}, b.v2.record_count, 0);
        } else if (ok) {
            kw_record_iter_init(&ri, &b.v2);
        }
        if (ok) {
            kw_record r;
            while (kw_record_iter_next(&ri, &r) == 1) {
                int64_t rts, off;
                if (!kw_record_timestamp(&b.v2, &r, &rts) || !kw_record_offset(&b.v2, &r, &off))
                    break;
                if (off >= min && (exact ? rts == ts : rts >= ts)) {
                    result = off;
                    *found_ts = rts;
                    break;
                }
            }
        }
        free(plain);
    }
    free(buf);
    return result;
}

int64_t bk_log_offset_for_timestamp(bk_log *log, int64_t ts, int64_t *found_ts)
{
    *found_ts = -1;
    for (size_t i = 0; i < log->nsegs; i++) {
        bk_segment *s = &log->segs[i];
        if (s->max_timestamp < ts)
            continue;
        uint64_t pos = 0;
        kw_record_batch h;
        while (pos < s->size && read_hdr(s->fd, pos, s->size, &h) == 0) {
            /* below the log start offset (DeleteRecords) nothing is found, as Kafka */
            if (h.max_timestamp >= ts && batch_last(&h) >= log->start)
                return record_in_batch(s, pos, &h, ts, false, log->start, found_ts);
            pos += kw_record_batch_size(&h);
        }
    }
    return -1;
}

int64_t bk_log_offset_of_max_timestamp(bk_log *log, int64_t *found_ts)
{
    *found_ts = -1;
    bk_segment *best = NULL;
    uint64_t best_pos = 0;
    kw_record_batch best_h;
    memset(&best_h, 0, sizeof best_h);
    for (size_t i = 0; i < log->nsegs; i++) {
        bk_segment *s = &log->segs[i];
        if (best && s->max_timestamp <= best_h.max_timestamp)
            continue;
        uint64_t pos = 0;
        kw_record_batch h;
        while (pos < s->size && read_hdr(s->fd, pos, s->size, &h) == 0) {
            if (!best || h.max_timestamp > best_h.max_timestamp) {
                best = s;
                best_pos = pos;
                best_h = h;
            }
            pos += kw_record_batch_size(&h);
        }
    }
    if (!best)
        return -1;
    return record_in_batch(best, best_pos, &best_h, best_h.max_timestamp, true, 0, found_ts);
}

int bk_log_for_each_batch(bk_log *log, int (*fn)(void *ctx, const kw_record_batch *b), void *ctx)
{
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; i < log->nsegs && rc == 0; i++) {
        bk_segment *s = &log->segs[i];
        uint64_t pos = 0;
        kw_record_batch h;
        while (rc == 0 && pos < s->size && read_hdr(s->fd, pos, s->size, &h) == 0) {
            if (read_batch(s, pos, &h, &buf, &cap) != 0) {
                rc = -1;
                break;
            }
            kw_batch_iter it;
            kw_batch b;
            kw_batch_iter_init(&it, (kw_slice){buf, kw_record_batch_size(&h)}, 0);
            if (kw_batch_iter_next(&it, &b) == 1 && b.magic == 2)
                rc = fn(ctx, &b.v2);
            pos += kw_record_batch_size(&h);
        }
    }
    free(buf);
    return rc < 0 ? -1 : 0;
}
