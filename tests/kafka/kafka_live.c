/*
 * kafka-live DIR: decodes every frame that tests/kafka/relay.py recorded in
 * DIR (index.tsv and one .bin per frame, the layout of the tests/vectors sets):
 * a request through its own header, a response at the version of the
 * request with its correlation id on its connection; then, where kwire has
 * an encoder for the message, encodes it back and compares byte for byte.
 * Prints one line per failure, the (direction, key, version) pairs that
 * failed, and "kafka-live: N passed, M failed". Exit 0 when none failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kwire/kwire.h"
#include "kwire/messages.h"

enum { MAX_INFLIGHT = 4096, MAX_PAIRS = 512 };

/* Requests waiting for their response, by connection and correlation id. */
static struct inflight {
    int conn;
    int32_t corr;
    int16_t key, version;
    int used;
} inflight[MAX_INFLIGHT];

static struct pair {
    char dir[8];
    int16_t key, version;
    unsigned failed;
} pairs[MAX_PAIRS];
static size_t npairs;

static void note_failure(const char *dir, int16_t key, int16_t version)
{
    for (size_t i = 0; i < npairs; i++)
        if (pairs[i].key == key && pairs[i].version == version && !strcmp(pairs[i].dir, dir)) {
            pairs[i].failed++;
            return;
        }
    if (npairs < MAX_PAIRS) {
        snprintf(pairs[npairs].dir, sizeof pairs[npairs].dir, "%s", dir);
        pairs[npairs].key = key;
        pairs[npairs].version = version;
        pairs[npairs].failed = 1;
        npairs++;
    }
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Encodes the decoded message back; 1 when it gives the input's bytes. */
static int roundtrip(const kw_message_info *m, int16_t version, const kw_message *msg,
                     const uint8_t *bytes, size_t len, const char *file)
{
    static uint8_t out[1 << 22];
    if (!m || !m->encode)
        return 1;
    kw_builder b;
    kw_builder_init(&b, out, sizeof out, NULL, 0);
    kw_err e = m->encode(&b, version, &msg->u);
    if (e != KW_OK) {
        printf("FAIL %s: %s v%d encode: %s\n", file, m->name, version, kw_err_name(e));
        return 0;
    }
    const uint8_t *got = kw_builder_contiguous(&b);
    size_t n = kw_builder_size(&b);
    size_t diff = 0;
    while (diff < n && diff < len && got[diff] == bytes[diff])
        diff++;
    if (n != len || diff != len) {
        printf("FAIL %s: %s v%d re-encoded %zu bytes, input %zu; first difference at byte %zu\n",
               file, m->name, version, n, len, diff);
        return 0;
    }
    return 1;
}

/* 1 when the frame decodes (and re-encodes); prints why not. */
static int check_frame(const char *file, int conn, int is_response, const uint8_t *bytes,
                       size_t len, int16_t *key_out, int16_t *version_out)
{
    kw_frame f;
    if (kw_frame_split(bytes, len, 0, &f) != KW_FRAME_COMPLETE || f.total != len) {
        printf("FAIL %s: not one whole frame\n", file);
        return 0;
    }
    kw_reader r;
    kw_reader_init(&r, f.body, f.size);
    kw_error herr;
    kw_message msg;
    kw_decode_error err;
    memset(&err, 0, sizeof err);
    char text[512];
    if (!is_response) {
        kw_request_header h;
        if (kw_request_header_parse(&r, &h, &herr) != KW_OK) {
            *key_out = h.api_key;
            *version_out = h.api_version;
            printf("FAIL %s: request header: %s at byte %zu\n", file, kw_err_name(herr.code),
                   herr.offset);
            return 0;
        }
        *key_out = h.api_key;
        *version_out = h.api_version;
        size_t slot = 0;
        while (slot < MAX_INFLIGHT && inflight[slot].used)
            slot++;
        if (slot < MAX_INFLIGHT)
            inflight[slot] = (struct inflight){conn, h.correlation_id, h.api_key, h.api_version, 1};
        if (!kw_api_version_supported(h.api_key, h.api_version)) {
            printf("FAIL %s: kwire does not know api %d version %d\n", file, h.api_key,
                   h.api_version);
            return 0;
        }
        size_t start = kw_reader_offset(&r);
        if (kw_request_decode(&r, h.api_key, h.api_version, &msg, &err) != KW_OK) {
            kw_decode_error_format(&err, text, sizeof text);
            printf("FAIL %s: %s\n", file, text);
            return 0;
        }
        return roundtrip(kw_message_for_api(h.api_key, false), h.api_version, &msg,
                         f.body + start, f.size - start, file);
    }
    if (f.size < 4) {
        printf("FAIL %s: no correlation id\n", file);
        return 0;
    }
    int32_t corr = (int32_t)kw_load_be32(f.body);
    size_t slot = 0;
    while (slot < MAX_INFLIGHT &&
           !(inflight[slot].used && inflight[slot].conn == conn && inflight[slot].corr == corr))
        slot++;
    if (slot == MAX_INFLIGHT) {
        printf("FAIL %s: no request with correlation id %d on connection %d\n", file, corr, conn);
        return 0;
    }
    inflight[slot].used = 0;
    int16_t key = inflight[slot].key, version = inflight[slot].version;
    *key_out = key;
    *version_out = version;
    if (!kw_api_version_supported(key, version)) {
        printf("FAIL %s: kwire does not know api %d version %d\n", file, key, version);
        return 0;
    }
    kw_response_header h;
    if (kw_response_header_read(&r, kw_response_header_version(key, version), &h, &herr) !=
        KW_OK) {
        printf("FAIL %s: response header: %s at byte %zu\n", file, kw_err_name(herr.code),
               herr.offset);
        return 0;
    }
    size_t start = kw_reader_offset(&r);
    if (kw_response_decode(&r, key, version, &msg, &err) != KW_OK) {
        kw_decode_error_format(&err, text, sizeof text);
        printf("FAIL %s: %s\n", file, text);
        return 0;
    }
    return roundtrip(kw_message_for_api(key, true), version, &msg, f.body + start,
                     f.size - start, file);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: kafka-live DIR (with index.tsv and the frames it lists)\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/index.tsv", argv[1]);
    FILE *idx = fopen(path, "r");
    if (!idx) {
        fprintf(stderr, "kafka-live: cannot open %s\n", path);
        return 2;
    }
    char line[4096];
    unsigned passed = 0, failed = 0;
    int header = 1;
    while (fgets(line, sizeof line, idx)) {
        if (header) {
            header = 0;
            continue;
        }
        char file[256], dir[8];
        int key, version, conn;
        long corr, size;
        /* file direction api_key api_name api_version correlation_id size conn ... */
        if (sscanf(line, "%255s %7s %d %*s %d %ld %ld %d", file, dir, &key, &version, &corr,
                   &size, &conn) != 7)
            continue;
        snprintf(path, sizeof path, "%s/%s", argv[1], file);
        size_t len;
        uint8_t *bytes = read_file(path, &len);
        int16_t k = (int16_t)key, v = (int16_t)version;
        int ok = 0;
        if (!bytes)
            printf("FAIL %s: cannot read\n", path);
        else if ((long)len != size)
            printf("FAIL %s: %zu bytes, index says %ld\n", file, len, size);
        else {
            ok = check_frame(file, conn, strcmp(dir, "req") != 0, bytes, len, &k, &v);
            if (ok && (k != key || v != version)) {
                printf("FAIL %s: decoded as api %d v%d, index says %d v%d\n", file, k, v, key,
                       version);
                ok = 0;
            }
        }
        free(bytes);
        if (ok)
            passed++;
        else {
            failed++;
            note_failure(dir, k, v);
        }
    }
    fclose(idx);
    for (size_t i = 0; i < npairs; i++) {
        const kw_message_info *m = kw_message_for_api(pairs[i].key, strcmp(pairs[i].dir, "req"));
        printf("failed: %s key %d (%s) v%d: %u frames\n", pairs[i].dir, pairs[i].key,
               m ? m->name : "?", pairs[i].version, pairs[i].failed);
    }
    printf("kafka-live: %u passed, %u failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
