/*
 * records-oracle: kwire's side of the record batch oracle (run.py drives it
 * against RecordsOracle.java, kafka-clients 4.4.0).
 *
 *   records-oracle check IN.bin OUT.txt REBUILT.bin
 *       validates IN (CRC-32C / CRC-32), walks every batch and record
 *       (decompressing), writes the description to OUT.txt in
 *       RecordsOracle.java's format, then rebuilds IN with kwire's record
 *       builder into REBUILT.bin and prints one line:
 *       "rebuild identical", "rebuild content-equal" (same description but
 *       the CRCs, different bytes) or "rebuild differ: ..." (exit 1).
 *   records-oracle gen DIR
 *       writes kwire-built cases as DIR/NAME.bin plus DIR/NAME.txt, the
 *       description derived from the spec (crc=* since it is not derived).
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwire/compress.h"
#include "kwire/record_builder.h"
#include "kwire/records.h"

#define MAX_DECOMPRESSED (64u << 20)

static void die(const char *what)
{
    fprintf(stderr, "records-oracle: %s\n", what);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static void put_hex(FILE *f, kw_slice s)
{
    if (!s.ptr) {
        fputc('-', f);
        return;
    }
    for (size_t i = 0; i < s.len; i++)
        fprintf(f, "%02x", s.ptr[i]);
}

/* Decompressed bytes, grown until they fit; NULL with *err on failure. */
/* Grows the output until it fits: a v2 batch's records, or a legacy wrapper's
 * value (through kw_legacy_message_decompress, which knows magic 0 LZ4). */
static uint8_t *decompress_all(const kw_record_batch *b, const kw_legacy_message *m, size_t *len,
                               kw_err *err)
{
    for (size_t cap = 1u << 16;; cap *= 4) {
        uint8_t *out = xmalloc(cap);
        *err = b ? kw_record_batch_decompress(b, out, cap, len)
                 : kw_legacy_message_decompress(m, out, cap, len);
        if (*err == KW_OK)
            return out;
        free(out);
        if (*err != KW_ERR_DECOMPRESSED_TOO_LARGE || cap >= MAX_DECOMPRESSED)
            return NULL;
    }
}

/* ---- walk and describe ---------------------------------------------------- */

/* Error text into err (when the walk fails); 0 on success. */
static int fail(char *err, size_t cap, const char *what, kw_err code, size_t off)
{
    snprintf(err, cap, "%s: %s at byte %zu", what, kw_err_name(code), off);
    return -1;
}

static int describe_v2(FILE *f, const kw_record_batch *b, bool crc, char *err, size_t cap)
{
    uint8_t *plain = NULL;
    kw_record_iter it;
    if (kw_record_batch_compression(b) == KW_COMPRESSION_NONE) {
        kw_record_iter_init(&it, b);
    } else {
        size_t len;
        kw_err e;
        plain = decompress_all(b, NULL, &len, &e);
        if (!plain)
            return fail(err, cap, "decompress", e, b->pos);
        kw_record_iter_init_raw(&it, (kw_slice){plain, len}, b->record_count, 0);
    }
    fprintf(f, "batch magic=2 base=%" PRId64 " lod=%" PRId32 " bts=%" PRId64 " mts=%" PRId64
               " attr=%d ple=%" PRId32 " pid=%" PRId64 " pe=%d seq=%" PRId32,
            b->base_offset, b->last_offset_delta, b->base_timestamp, b->max_timestamp,
            (int)b->attributes, b->partition_leader_epoch, b->producer_id, (int)b->producer_epoch,
            b->base_sequence);
    if (crc)
        fprintf(f, " crc=%" PRIu32, b->crc);
    else
        fprintf(f, " crc=*");
    fprintf(f, " n=%" PRId32 "\n", b->record_count);
    kw_record r;
    int rc;
    while ((rc = kw_record_iter_next(&it, &r)) == 1) {
        int64_t off, ts;
        if (!kw_record_offset(b, &r, &off) || !kw_record_timestamp(b, &r, &ts)) {
            free(plain);
            return fail(err, cap, "offset or timestamp overflow", KW_OK, b->pos);
        }
        fprintf(f, "rec off=%" PRId64 " ts=%" PRId64 " key=", off, ts);
        put_hex(f, r.key);
        fputs(" value=", f);
        put_hex(f, r.value);
        fputs(" h=", f);
        kw_record_header_iter hi;
        kw_record_header h;
        kw_record_header_iter_init(&hi, &r);
        for (int i = 0; kw_record_header_iter_next_unchecked(&hi, &h); i++) {
            if (i)
                fputc(',', f);
            put_hex(f, h.key);
            fputc(':', f);
            put_hex(f, h.value);
        }
        fputc('\n', f);
    }
    free(plain);
    if (rc < 0) {
        kw_error e = kw_record_iter_error(&it);
        return fail(err, cap, e.field ? e.field : "records", e.code, e.offset);
    }
    return 0;
}

static int legacy_attr(const kw_legacy_message *m)
{
    return kw_legacy_message_compression(m) |
           (kw_legacy_message_timestamp_type(m) == KW_TIMESTAMP_LOG_APPEND_TIME ? KW_ATTR_TIMESTAMP_TYPE
                                                                                : 0);
}

static void describe_legacy_record(FILE *f, int64_t off, int64_t ts, const kw_legacy_message *m)
{
    fprintf(f, "rec off=%" PRId64 " ts=%" PRId64 " key=", off, ts);
    put_hex(f, m->key);
    fputs(" value=", f);
    put_hex(f, m->value);
    fputs(" h=\n", f);
}

#define MAX_INNER 4096

static int describe_legacy(FILE *f, const kw_legacy_message *m, bool crc, char *err, size_t cap)
{
    const char *crcs = crc ? "" : "*";
    char crcbuf[16];
    snprintf(crcbuf, sizeof crcbuf, "%" PRIu32, m->crc);
    if (kw_legacy_message_compression(m) == KW_COMPRESSION_NONE) {
        fprintf(f, "batch magic=%d last=%" PRId64 " attr=%d ts=%" PRId64 " crc=%s n=1\n", m->magic,
                m->offset, legacy_attr(m), m->timestamp, crc ? crcbuf : crcs);
        describe_legacy_record(f, m->offset, m->timestamp, m);
        return 0;
    }
    size_t len;
    kw_err e;
    uint8_t *plain = decompress_all(NULL, m, &len, &e);
    if (!plain)
        return fail(err, cap, "legacy decompress", e, m->pos);
    static kw_legacy_message inner[MAX_INNER];
    size_t n = 0;
    kw_batch_iter it;
    kw_batch_iter_init(&it, (kw_slice){plain, len}, KW_VERIFY_CRC);
    kw_batch ib;
    int rc;
    while ((rc = kw_batch_iter_next(&it, &ib)) == 1) {
        if (ib.magic == 2 || n == MAX_INNER) {
            free(plain);
            return fail(err, cap, "inner message not legacy or too many", KW_ERR_BAD_MAGIC, ib.pos);
        }
        inner[n++] = ib.legacy;
    }
    if (rc < 0 || kw_batch_iter_partial(&it)) {
        free(plain);
        return fail(err, cap, "inner message set", kw_batch_iter_error(&it).code,
                    kw_batch_iter_error(&it).offset);
    }
    fprintf(f, "batch magic=%d last=%" PRId64 " attr=%d ts=%" PRId64 " crc=%s n=%zu\n", m->magic,
            m->offset, legacy_attr(m), m->timestamp, crc ? crcbuf : crcs, n);
    /* Magic 1 inner offsets are relative to the wrapper's (KIP-31). */
    int64_t shift = (m->magic >= 1 && n) ? m->offset - inner[n - 1].offset : 0;
    bool append = kw_legacy_message_timestamp_type(m) == KW_TIMESTAMP_LOG_APPEND_TIME;
    for (size_t i = 0; i < n; i++)
        describe_legacy_record(f, inner[i].offset + shift, append ? m->timestamp : inner[i].timestamp,
                               &inner[i]);
    free(plain);
    return 0;
}

/* The whole description of a records field into a malloc'ed string. */
static char *describe(const uint8_t *p, size_t n, bool crc, char *err, size_t cap)
{
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    if (!f)
        die("open_memstream");
    kw_batch_iter it;
    kw_batch_iter_init(&it, (kw_slice){p, n}, KW_VERIFY_CRC);
    kw_batch b;
    int rc, bad = 0;
    while (!bad && (rc = kw_batch_iter_next(&it, &b)) == 1) {
        if (b.magic == 2)
            bad = describe_v2(f, &b.v2, crc, err, cap);
        else
            bad = describe_legacy(f, &b.legacy, crc, err, cap);
    }
    if (!bad && rc < 0)
        bad = fail(err, cap, "batch", kw_batch_iter_error(&it).code, kw_batch_iter_error(&it).offset);
    if (!bad && kw_batch_iter_partial(&it))
        bad = fail(err, cap, "batch cut short", KW_ERR_TRUNCATED, n - kw_batch_iter_partial(&it));
    fclose(f);
    if (bad) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- rebuild --------------------------------------------------------------- */

/* One entry to rebuild, with everything its build needs kept alive. */
typedef struct entry {
    kw_batch b;
    uint8_t *plain;          /* decompressed records or inner message set */
    kw_record_spec *recs;    /* v2 */
    kw_record_header *hdrs;  /* v2: all headers of all records */
    size_t nrecs;
    kw_legacy_message *inner; /* legacy wrapper */
    size_t ninner;
} entry;

static int collect_v2(entry *e, char *err, size_t cap)
{
    const kw_record_batch *b = &e->b.v2;
    kw_record_iter it;
    if (kw_record_batch_compression(b) == KW_COMPRESSION_NONE) {
        kw_record_iter_init(&it, b);
    } else {
        size_t len;
        kw_err code;
        e->plain = decompress_all(b, NULL, &len, &code);
        if (!e->plain)
            return fail(err, cap, "decompress", code, b->pos);
        kw_record_iter_init_raw(&it, (kw_slice){e->plain, len}, b->record_count, 0);
    }
    size_t nrec = b->record_count > 0 ? (size_t)b->record_count : 0;
    e->recs = xmalloc(nrec * sizeof *e->recs);
    /* A header takes at least 2 bytes, so the records' size bounds them. */
    size_t maxh = b->records.len + 1;
    if (e->plain)
        maxh = MAX_DECOMPRESSED;
    size_t nh = 0, hcap = 64;
    e->hdrs = xmalloc(hcap * sizeof *e->hdrs);
    (void)maxh;
    kw_record r;
    int rc;
    size_t *hstart = xmalloc((nrec + 1) * sizeof *hstart);
    while ((rc = kw_record_iter_next(&it, &r)) == 1) {
        kw_record_spec *s = &e->recs[e->nrecs];
        s->timestamp_delta = r.timestamp_delta;
        s->offset_delta = r.offset_delta;
        s->attributes = r.attributes;
        s->key = r.key;
        s->value = r.value;
        s->header_count = r.header_count;
        hstart[e->nrecs++] = nh;
        kw_record_header_iter hi;
        kw_record_header_iter_init(&hi, &r);
        kw_record_header h;
        while (kw_record_header_iter_next_unchecked(&hi, &h)) {
            if (nh == hcap) {
                hcap *= 2;
                e->hdrs = realloc(e->hdrs, hcap * sizeof *e->hdrs);
                if (!e->hdrs)
                    die("out of memory");
            }
            e->hdrs[nh++] = h;
        }
    }
    for (size_t i = 0; i < e->nrecs; i++)
        e->recs[i].headers = e->hdrs + hstart[i];
    free(hstart);
    if (rc < 0)
        return fail(err, cap, "records", kw_record_iter_error(&it).code, kw_record_iter_error(&it).offset);
    return 0;
}

static int collect_legacy(entry *e, char *err, size_t cap)
{
    const kw_legacy_message *m = &e->b.legacy;
    if (kw_legacy_message_compression(m) == KW_COMPRESSION_NONE)
        return 0;
    size_t len;
    kw_err code;
    e->plain = decompress_all(NULL, m, &len, &code);
    if (!e->plain)
        return fail(err, cap, "legacy decompress", code, m->pos);
    e->inner = xmalloc(MAX_INNER * sizeof *e->inner);
    kw_batch_iter it;
    kw_batch_iter_init(&it, (kw_slice){e->plain, len}, KW_VERIFY_CRC);
    kw_batch ib;
    while (e->ninner < MAX_INNER && kw_batch_iter_next(&it, &ib) == 1 && ib.magic != 2)
        e->inner[e->ninner++] = ib.legacy;
    return 0;
}

static kw_err build_entry(kw_builder *out, const entry *e)
{
    if (e->b.magic == 2) {
        const kw_record_batch *b = &e->b.v2;
        kw_batch_spec s = kw_batch_spec_default();
        s.base_offset = b->base_offset;
        s.partition_leader_epoch = b->partition_leader_epoch;
        s.attributes = b->attributes;
        s.last_offset_delta = b->last_offset_delta;
        s.base_timestamp = b->base_timestamp;
        s.max_timestamp = b->max_timestamp;
        s.producer_id = b->producer_id;
        s.producer_epoch = b->producer_epoch;
        s.base_sequence = b->base_sequence;
        return kw_build_record_batch(out, &s, e->recs, e->nrecs);
    }
    const kw_legacy_message *m = &e->b.legacy;
    if (!e->inner)
        return kw_build_legacy_message(out, m->magic, m->offset, m->attributes, m->timestamp, m->key,
                                       m->value);
    kw_builder set;
    kw_builder_init_growable(&set, 0);
    for (size_t i = e->ninner; i-- > 0;) {
        const kw_legacy_message *x = &e->inner[i];
        kw_build_legacy_message(&set, x->magic, x->offset, x->attributes, x->timestamp, x->key, x->value);
    }
    kw_err err = kw_builder_error(&set);
    size_t n = kw_builder_size(&set);
    uint8_t *flat = xmalloc(n);
    if (err == KW_OK && kw_builder_copy_out(&set, flat, n) != n)
        err = KW_ERR_NO_SPACE;
    kw_builder_free(&set);
    kw_compression codec = kw_legacy_message_compression(m);
    size_t bound = kw_compress_bound(codec, n), clen = 0;
    uint8_t *comp = xmalloc(bound);
    if (err == KW_OK)
        err = kw_compress(codec, 0, (kw_slice){flat, n}, comp, bound, &clen);
    if (err == KW_OK)
        err = kw_build_legacy_message(out, m->magic, m->offset, m->attributes, m->timestamp, m->key,
                                      (kw_slice){comp, clen});
    free(flat);
    free(comp);
    return err;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *p = xmalloc(cap);
    size_t got;
    while ((got = fread(p + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            p = realloc(p, cap);
            if (!p)
                die("out of memory");
        }
    }
    fclose(f);
    *len = n;
    return p;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        die(path);
}

static int cmd_check(const char *in, const char *desc_path, const char *rebuilt_path)
{
    size_t n;
    uint8_t *p = read_file(in, &n);
    if (!p)
        die(in);
    char err[256] = "";
    char *desc = describe(p, n, true, err, sizeof err);
    if (!desc) {
        printf("walk failed: %s\n", err);
        return 1;
    }
    write_file(desc_path, desc, strlen(desc));

    /* Rebuild: collect entries in wire order, build them last first. */
    size_t ne = 0, ecap = 16;
    entry *es = xmalloc(ecap * sizeof *es);
    kw_batch_iter it;
    kw_batch_iter_init(&it, (kw_slice){p, n}, KW_VERIFY_CRC);
    kw_batch b;
    while (kw_batch_iter_next(&it, &b) == 1) {
        if (ne == ecap) {
            ecap *= 2;
            es = realloc(es, ecap * sizeof *es);
            if (!es)
                die("out of memory");
        }
        memset(&es[ne], 0, sizeof es[ne]);
        es[ne].b = b;
        if ((b.magic == 2 ? collect_v2(&es[ne], err, sizeof err) : collect_legacy(&es[ne], err, sizeof err)) != 0) {
            printf("rebuild differ: collect failed: %s\n", err);
            return 1;
        }
        ne++;
    }
    kw_builder out;
    kw_builder_init_growable(&out, 0);
    kw_err e = KW_OK;
    for (size_t i = ne; i-- > 0 && e == KW_OK;)
        e = build_entry(&out, &es[i]);
    if (e == KW_OK)
        e = kw_builder_error(&out);
    if (e != KW_OK) {
        printf("rebuild differ: build failed: %s\n", kw_err_name(e));
        return 1;
    }
    size_t rn = kw_builder_size(&out);
    uint8_t *rp = xmalloc(rn);
    if (kw_builder_copy_out(&out, rp, rn) != rn)
        die("copy_out");
    kw_builder_free(&out);
    write_file(rebuilt_path, rp, rn);
    int rc = 0;
    if (rn == n && memcmp(rp, p, n) == 0) {
        printf("rebuild identical\n");
    } else {
        char *a = describe(p, n, false, err, sizeof err);
        char *bd = describe(rp, rn, false, err, sizeof err);
        if (!bd) {
            printf("rebuild differ: kwire cannot walk its own rebuild: %s\n", err);
            rc = 1;
        } else if (strcmp(a, bd) != 0) {
            size_t k = 0;
            while (a[k] && a[k] == bd[k])
                k++;
            printf("rebuild differ: content differs at description char %zu\n", k);
            rc = 1;
        } else {
            size_t k = 0;
            while (k < n && k < rn && p[k] == rp[k])
                k++;
            printf("rebuild content-equal (bytes %zu vs %zu, first difference at byte %zu)\n", n, rn, k);
        }
        free(a);
        free(bd);
    }
    for (size_t i = 0; i < ne; i++) {
        free(es[i].plain);
        free(es[i].recs);
        free(es[i].hdrs);
        free(es[i].inner);
    }
    free(es);
    free(rp);
    free(desc);
    free(p);
    return rc;
}

/* ---- kwire-built cases ------------------------------------------------------ */

static kw_slice str(const char *s) { return s ? (kw_slice){(const uint8_t *)s, strlen(s)} : (kw_slice){NULL, 0}; }

static const char *dir;
static int ncases;

/* A v2 batch from spec and records, plus its expected description. */
typedef struct gbatch {
    kw_batch_spec spec;
    kw_record_spec recs[16];
    size_t n;
} gbatch;

static void expect_v2(FILE *f, const gbatch *g)
{
    const kw_batch_spec *s = &g->spec;
    int32_t lod = 0;
    int64_t mts = -1;
    for (size_t i = 0; i < g->n; i++) {
        if (g->recs[i].offset_delta > lod)
            lod = g->recs[i].offset_delta;
        if (s->base_timestamp + g->recs[i].timestamp_delta > mts)
            mts = s->base_timestamp + g->recs[i].timestamp_delta;
    }
    if (s->max_timestamp != KW_MAX_TIMESTAMP_AUTO)
        mts = s->max_timestamp;
    bool append = (s->attributes & KW_ATTR_TIMESTAMP_TYPE) != 0;
    fprintf(f, "batch magic=2 base=%" PRId64 " lod=%" PRId32 " bts=%" PRId64 " mts=%" PRId64
               " attr=%d ple=%" PRId32 " pid=%" PRId64 " pe=%d seq=%" PRId32 " crc=* n=%zu\n",
            s->base_offset, lod, s->base_timestamp, mts, (int)s->attributes, s->partition_leader_epoch,
            s->producer_id, (int)s->producer_epoch, s->base_sequence, g->n);
    for (size_t i = 0; i < g->n; i++) {
        const kw_record_spec *r = &g->recs[i];
        fprintf(f, "rec off=%" PRId64 " ts=%" PRId64 " key=", s->base_offset + r->offset_delta,
                append ? mts : s->base_timestamp + r->timestamp_delta);
        put_hex(f, r->key);
        fputs(" value=", f);
        put_hex(f, r->value);
        fputs(" h=", f);
        for (int32_t h = 0; h < r->header_count; h++) {
            if (h)
                fputc(',', f);
            put_hex(f, r->headers[h].key);
            fputc(':', f);
            put_hex(f, r->headers[h].value);
        }
        fputc('\n', f);
    }
}

static void emit(const char *name, kw_builder *b, const char *expect)
{
    char path[4096];
    if (kw_builder_error(b) != KW_OK) {
        fprintf(stderr, "records-oracle: gen %s: %s\n", name, kw_err_name(kw_builder_error(b)));
        exit(2);
    }
    size_t n = kw_builder_size(b);
    uint8_t *p = xmalloc(n);
    kw_builder_copy_out(b, p, n);
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    write_file(path, p, n);
    snprintf(path, sizeof path, "%s/%s.txt", dir, name);
    write_file(path, expect, strlen(expect));
    free(p);
    ncases++;
}

/* Writes batches g[0..n) as one case (built last first). */
static void emit_v2(const char *name, gbatch *g, size_t n)
{
    kw_builder b;
    kw_builder_init_growable(&b, 0);
    for (size_t i = n; i-- > 0;)
        kw_build_record_batch(&b, &g[i].spec, g[i].recs, g[i].n);
    char *exp = NULL;
    size_t explen = 0;
    FILE *f = open_memstream(&exp, &explen);
    for (size_t i = 0; i < n; i++)
        expect_v2(f, &g[i]);
    fclose(f);
    emit(name, &b, exp);
    free(exp);
    kw_builder_free(&b);
}

static const kw_record_header hdrs2[] = {
    {{(const uint8_t *)"trace", 5}, {(const uint8_t *)"kw-1", 4}},
    {{(const uint8_t *)"nullv", 5}, {NULL, 0}},
    {{(const uint8_t *)"", 0}, {(const uint8_t *)"", 0}},
};
static char bigval[2000];

static void usual(gbatch *g, size_t n)
{
    for (size_t i = 0; i < n && i < 16; i++) {
        kw_record_spec *r = &g->recs[i];
        memset(r, 0, sizeof *r);
        r->offset_delta = (int32_t)i;
        r->timestamp_delta = (int64_t)((i * 53) % 17) - 4;
        switch (i % 5) {
        case 0: r->key = str("kw-key"); r->value = str("kw-value"); break;
        case 1: r->key = str(NULL); r->value = str("null key"); r->headers = hdrs2; r->header_count = 3; break;
        case 2: r->key = str("tomb"); r->value = str(NULL); break;
        case 3: r->key = str(""); r->value = str(""); r->headers = hdrs2 + 1; r->header_count = 1; break;
        default: r->key = str("big"); r->value = (kw_slice){(const uint8_t *)bigval, sizeof bigval}; break;
        }
    }
    g->n = n;
}

static int cmd_gen(void)
{
    for (size_t i = 0; i < sizeof bigval; i++)
        bigval[i] = (char)('a' + (i * 7 + i / 13) % 26);
    static const char *names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    char name[128];
    const int64_t ts = 1710000000000;
    for (int c = 0; c <= 4; c++) {
        if (!kw_compression_available((kw_compression)c)) {
            fprintf(stderr, "records-oracle: codec %s not in this build\n", names[c]);
            continue;
        }
        gbatch g[3];
        g[0].spec = kw_batch_spec_default();
        g[0].spec.attributes = (int16_t)c;
        g[0].spec.base_timestamp = ts;
        usual(&g[0], 11);
        snprintf(name, sizeof name, "kw-%s-plain", names[c]);
        emit_v2(name, g, 1);

        g[0].spec.attributes = (int16_t)(c | KW_ATTR_TIMESTAMP_TYPE);
        g[0].spec.max_timestamp = ts + 5000;
        g[0].spec.base_offset = 3000;
        g[0].spec.partition_leader_epoch = 8;
        snprintf(name, sizeof name, "kw-%s-logappend", names[c]);
        emit_v2(name, g, 1);

        g[0].spec = kw_batch_spec_default();
        g[0].spec.attributes = (int16_t)(c | KW_ATTR_TRANSACTIONAL);
        g[0].spec.base_offset = 700;
        g[0].spec.base_timestamp = ts;
        g[0].spec.producer_id = 98765;
        g[0].spec.producer_epoch = 4;
        g[0].spec.base_sequence = 33;
        g[0].spec.partition_leader_epoch = 2;
        usual(&g[0], 6);
        snprintf(name, sizeof name, "kw-%s-transactional", names[c]);
        emit_v2(name, g, 1);

        for (int k = 0; k < 3; k++) {
            g[k].spec = kw_batch_spec_default();
            g[k].spec.attributes = (int16_t)c;
            g[k].spec.base_offset = 10 * k;
            g[k].spec.base_timestamp = ts + k;
            g[k].spec.producer_id = 5;
            g[k].spec.producer_epoch = 0;
            g[k].spec.base_sequence = 10 * k;
            usual(&g[k], (size_t)(2 + k));
        }
        g[2].recs[3].offset_delta = 7; /* a gap, as compaction leaves */
        snprintf(name, sizeof name, "kw-%s-multi", names[c]);
        emit_v2(name, g, 3);
    }
    /* control batches: key int16 version 0 + int16 type, value int16 version
     * 0 + int32 coordinator epoch */
    for (int type = 0; type <= 1; type++) {
        static uint8_t key[2][4] = {{0, 0, 0, 0}, {0, 0, 0, 1}};
        static const uint8_t val[6] = {0, 0, 0, 0, 0, 9};
        gbatch g[1];
        g[0].spec = kw_batch_spec_default();
        g[0].spec.attributes = KW_ATTR_TRANSACTIONAL | KW_ATTR_CONTROL;
        g[0].spec.base_offset = 444 + type;
        g[0].spec.base_timestamp = ts + 10;
        g[0].spec.producer_id = 98765;
        g[0].spec.producer_epoch = 4;
        g[0].spec.partition_leader_epoch = 2;
        memset(&g[0].recs[0], 0, sizeof g[0].recs[0]);
        g[0].recs[0].key = (kw_slice){key[type], 4};
        g[0].recs[0].value = (kw_slice){val, 6};
        g[0].n = 1;
        emit_v2(type ? "kw-control-commit" : "kw-control-abort", g, 1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "check") == 0)
        return cmd_check(argv[2], argv[3], argv[4]);
    if (argc == 3 && strcmp(argv[1], "gen") == 0) {
        dir = argv[2];
        int rc = cmd_gen();
        printf("gen %d\n", ncases);
        return rc;
    }
    fprintf(stderr, "usage: records-oracle check IN OUT.txt REBUILT.bin | gen DIR\n");
    return 2;
}
