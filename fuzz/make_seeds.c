/*
 * kwire-fuzz-seeds OUTDIR: writes one well-formed instance of messages in
 * chosen versions, laid out as each fuzz target reads its input, under
 * OUTDIR/<target>/. fuzz/make_corpus.py runs it to seed the corpora with
 * every API key (real-client frames only cover a few), so the fuzzers start
 * inside every decoder instead of having to discover each layout.
 *
 * The encoder follows the descriptions (kw_message_info) with the rules
 * the walker reads by; every instance must decode with kw_message_decode,
 * else the tool fails. Instances are filled: strings "kw", arrays of one
 * element (none past a depth of 6), nullable values present, every tagged
 * field of the version present, records fields one v2 batch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

struct buf {
    uint8_t *data;
    size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *more = realloc(b->data, cap);
        if (!more) {
            fprintf(stderr, "kwire-fuzz-seeds: out of memory\n");
            exit(1);
        }
        b->data = more;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_be(struct buf *b, uint64_t v, int bytes)
{
    uint8_t t[8];
    for (int i = 0; i < bytes; i++)
        t[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    put(b, t, (size_t)bytes);
}

static void put_uvarint(struct buf *b, uint64_t v)
{
    while (v >= 0x80) {
        uint8_t c = (uint8_t)(v | 0x80);
        put(b, &c, 1);
        v >>= 7;
    }
    uint8_t c = (uint8_t)v;
    put(b, &c, 1);
}

static void put_varint(struct buf *b, int64_t v)
{
    put_uvarint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* A length: compact (n + 1) or classic (int16 or int32). */
static void put_length(struct buf *b, int64_t n, bool flex, int classic_bytes)
{
    if (flex)
        put_uvarint(b, (uint64_t)(n + 1));
    else
        put_be(b, (uint64_t)n, classic_bytes);
}

/* One v2 batch holding one record with a key, a value and a header. */
static void put_batch(struct buf *out)
{
    struct buf rec = {0};
    put_be(&rec, 0, 1);      /* attributes */
    put_varint(&rec, 0);     /* timestamp delta */
    put_varint(&rec, 0);     /* offset delta */
    put_varint(&rec, 1);
    put(&rec, "k", 1);
    put_varint(&rec, 1);
    put(&rec, "v", 1);
    put_varint(&rec, 1);     /* one header */
    put_varint(&rec, 1);
    put(&rec, "h", 1);
    put_varint(&rec, 1);
    put(&rec, "1", 1);

    struct buf b = {0};
    put_be(&b, 0, 8);                   /* base offset */
    put_be(&b, 0, 4);                   /* batch length, below */
    put_be(&b, 0, 4);                   /* partition leader epoch */
    put_be(&b, 2, 1);                   /* magic */
    put_be(&b, 0, 4);                   /* crc, below */
    put_be(&b, 0, 2);                   /* attributes */
    put_be(&b, 0, 4);                   /* last offset delta */
    put_be(&b, 1700000000000u, 8);      /* base timestamp */
    put_be(&b, 1700000000000u, 8);      /* max timestamp */
    put_be(&b, UINT64_MAX, 8);          /* producer id -1 */
    put_be(&b, 0xffff, 2);              /* producer epoch -1 */
    put_be(&b, 0xffffffffu, 4);         /* base sequence -1 */
    put_be(&b, 1, 4);                   /* record count */
    put_varint(&b, (int64_t)rec.len);
    put(&b, rec.data, rec.len);
    uint32_t batch_length = (uint32_t)(b.len - KW_ENTRY_OVERHEAD);
    for (int i = 0; i < 4; i++)
        b.data[8 + i] = (uint8_t)(batch_length >> (24 - 8 * i));
    uint32_t crc = kw_crc32c(0, b.data + KW_BATCH_V2_ATTRIBUTES_OFFSET,
                             b.len - KW_BATCH_V2_ATTRIBUTES_OFFSET);
    for (int i = 0; i < 4; i++)
        b.data[KW_BATCH_V2_CRC_OFFSET + i] = (uint8_t)(crc >> (24 - 8 * i));
    put(out, b.data, b.len);
    free(rec.data);
    free(b.data);
}

static void put_struct(struct buf *b, const kw_struct_info *st, int16_t v, bool flex, int depth);

/* Tag of the unknown field put_message can add to the root's tagged fields. */
#define UNKNOWN_TAG 99
static bool add_unknown_tag;

static void put_value(struct buf *b, const kw_field_info *f, bool flex)
{
    switch ((kw_type)f->type) {
    case KW_TYPE_BOOL:
    case KW_TYPE_INT8: put_be(b, 1, 1); break;
    case KW_TYPE_INT16:
    case KW_TYPE_UINT16: put_be(b, 1, 2); break;
    case KW_TYPE_INT32: put_be(b, 1, 4); break;
    case KW_TYPE_INT64: put_be(b, 1, 8); break;
    case KW_TYPE_FLOAT64: put_be(b, 0x3ff8000000000000u, 8); break; /* 1.5 */
    case KW_TYPE_UUID:
        for (uint8_t i = 0; i < 16; i++)
            put(b, &i, 1);
        break;
    case KW_TYPE_STRING:
        put_length(b, 2, flex, 2);
        put(b, "kw", 2);
        break;
    case KW_TYPE_BYTES:
        put_length(b, 2, flex, 4);
        put(b, "\xca\xfe", 2);
        break;
    case KW_TYPE_RECORDS: {
        struct buf batch = {0};
        put_batch(&batch);
        put_length(b, (int64_t)batch.len, flex, 4);
        put(b, batch.data, batch.len);
        free(batch.data);
        break;
    }
    case KW_TYPE_STRUCT: break;
    }
}

static void put_field(struct buf *b, const kw_field_info *f, int16_t v, bool msg_flex, int depth)
{
    bool flex = msg_flex && !f->never_flexible;
    if (f->is_array) {
        int64_t count = depth >= 6 ? 0 : 1;
        put_length(b, count, flex, 4);
        for (int64_t i = 0; i < count; i++) {
            if (f->type == KW_TYPE_STRUCT)
                put_struct(b, f->sub, v, msg_flex, depth + 1);
            else
                put_value(b, f, flex);
        }
        return;
    }
    if (f->type == KW_TYPE_STRUCT) {
        if (kw_versions_has(f->nullable, v))
            put_be(b, 1, 1); /* present */
        put_struct(b, f->sub, v, msg_flex, depth + 1);
        return;
    }
    put_value(b, f, flex);
}

static void put_struct(struct buf *b, const kw_struct_info *st, int16_t v, bool flex, int depth)
{
    const kw_field_info *tagged[64];
    size_t nt = 0;
    for (uint16_t i = 0; i < st->field_count; i++) {
        const kw_field_info *f = &st->fields[i];
        if (!kw_versions_has(f->versions, v))
            continue;
        if (kw_versions_has(f->tagged, v)) {
            if (nt < sizeof tagged / sizeof tagged[0])
                tagged[nt++] = f;
            continue;
        }
        put_field(b, f, v, flex, depth);
    }
    if (!flex)
        return;
    /* tags in increasing order */
    for (size_t i = 1; i < nt; i++)
        for (size_t k = i; k > 0 && tagged[k - 1]->tag > tagged[k]->tag; k--) {
            const kw_field_info *t = tagged[k];
            tagged[k] = tagged[k - 1];
            tagged[k - 1] = t;
        }
    bool unknown = depth == 0 && add_unknown_tag;
    for (size_t i = 0; i < nt; i++)
        unknown = unknown && tagged[i]->tag != UNKNOWN_TAG;
    put_uvarint(b, nt + unknown);
    for (size_t i = 0; i < nt; i++) {
        struct buf data = {0};
        put_field(&data, tagged[i], v, flex, depth);
        put_uvarint(b, (uint64_t)tagged[i]->tag);
        put_uvarint(b, data.len);
        put(b, data.data, data.len);
        free(data.data);
    }
    if (unknown) { /* known tags here are all below 99 */
        put_uvarint(b, UNKNOWN_TAG);
        put_uvarint(b, 2);
        put(b, "hi", 2);
    }
}

/* The instance of m at v; exits when it does not decode. */
static void put_message(struct buf *b, const kw_message_info *m, int16_t v)
{
    size_t start = b->len;
    bool flex = m->first_flexible >= 0 && v >= m->first_flexible;
    put_struct(b, m->root, v, flex, 0);
    kw_reader r;
    kw_reader_init(&r, b->data + start, b->len - start);
    kw_message msg;
    kw_decode_error err;
    memset(&err, 0, sizeof err);
    if (kw_message_decode(m, &r, v, &msg, &err) != KW_OK) {
        char text[512];
        kw_decode_error_format(&err, text, sizeof text);
        fprintf(stderr, "kwire-fuzz-seeds: the instance does not decode: %s\n", text);
        exit(1);
    }
}

static const char *outdir;
static size_t written;

static void write_seed(const char *target, const char *name, int16_t v, const struct buf *b)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "kwire-fuzz-seeds: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/syn-%s-v%d", outdir, target, name, v);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "kwire-fuzz-seeds: %s: cannot write\n", path);
        exit(1);
    }
    written++;
}

/* min, max, and both sides of the flexible threshold */
static size_t chosen_versions(kw_versions range, int16_t first_flexible, int16_t out[4])
{
    int16_t cand[4] = {range.lo, range.hi, first_flexible, (int16_t)(first_flexible - 1)};
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) {
        if (!kw_versions_has(range, cand[i]))
            continue;
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            seen = seen || out[k] == cand[i];
        if (!seen)
            out[n++] = cand[i];
    }
    return n;
}

static void put_request_header(struct buf *b, int16_t key, int16_t v)
{
    int hv = kw_request_header_version(key, v);
    put_be(b, (uint16_t)key, 2);
    put_be(b, (uint16_t)v, 2);
    put_be(b, 7, 4); /* correlation id */
    if (hv >= 1) {
        put_be(b, 4, 2);
        put(b, "fuzz", 4);
    }
    if (hv >= 2)
        put_uvarint(b, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "kwire-fuzz-seeds: %s: %s\n", outdir, strerror(errno));
        return 1;
    }

    size_t n;
    const kw_api_info *apis = kw_api_table(&n);
    for (size_t i = 0; i < n; i++) {
        const kw_api_info *a = &apis[i];
        kw_versions range = {a->min_version, a->max_version};
        int16_t vs[4];
        size_t nv = chosen_versions(range, a->first_flexible, vs);
        const kw_message_info *req = kw_message_for_api(a->key, false);
        const kw_message_info *rsp = kw_message_for_api(a->key, true);
        for (size_t k = 0; k < nv; k++) {
            int16_t v = vs[k];
            struct buf b = {0};
            char name[128];
            snprintf(name, sizeof name, "k%02d-%s", a->key, a->name);

            put_request_header(&b, a->key, v);
            put_message(&b, req, v);
            write_seed("request", name, v, &b);
            if (v == a->max_version) {
                /* a frame: size prefix, then the body */
                struct buf fr = {0};
                put_be(&fr, b.len, 4);
                put(&fr, b.data, b.len);
                write_seed("frame_header", name, v, &fr);
                free(fr.data);
            }

            b.len = 0;
            put_be(&b, (uint16_t)a->key, 2);
            put_be(&b, (uint16_t)v, 2);
            put_be(&b, 7, 4); /* correlation id */
            if (kw_response_header_version(a->key, v) == 1)
                put_uvarint(&b, 0);
            put_message(&b, rsp, v);
            write_seed("response", name, v, &b);
            free(b.data);
        }
    }

    /* json: every message at its highest version, records rendered and checked */
    const kw_message_info *const *all = kw_messages(&n);
    for (size_t i = 0; i < n; i++) {
        const kw_message_info *m = all[i];
        struct buf b = {0};
        put_be(&b, 6, 1); /* KW_JSON_RECORDS | KW_JSON_VERIFY_CRC */
        put_be(&b, i, 2);
        put_be(&b, (uint16_t)m->versions.hi, 2);
        put_message(&b, m, m->versions.hi);
        write_seed("json", m->name, m->versions.hi, &b);
        free(b.data);
    }

    /* metadata_records: every message and version; flexible ones once more
     * with an unknown tagged field */
    const kw_message_info *const *meta = kwf_metadata_messages(&n);
    if (n > 256) {
        fprintf(stderr, "kwire-fuzz-seeds: %zu metadata messages do not fit one byte\n", n);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        const kw_message_info *m = meta[i];
        for (int16_t v = m->versions.lo; v <= m->versions.hi; v++) {
            bool flexible = m->first_flexible >= 0 && v >= m->first_flexible;
            for (int unknown = 0; unknown <= (int)flexible; unknown++) {
                struct buf b = {0};
                char name[160];
                snprintf(name, sizeof name, "%s%s", m->name, unknown ? "-unknown-tag" : "");
                put_be(&b, i, 1);
                put_be(&b, (uint16_t)v, 1);
                add_unknown_tag = unknown;
                put_message(&b, m, v);
                add_unknown_tag = false;
                write_seed("metadata_records", name, v, &b);
                free(b.data);
            }
        }
    }
    printf("kwire-fuzz-seeds: %zu seeds written under %s\n", written, outdir);
    return 0;
}
