/*
 * kwire's side of the message oracle (run.py drives it and MessageOracle.java).
 *
 *   msg-oracle gen DIR SEEDS   writes SEEDS seeded instances of every request,
 *                              response and KRaft record version, every tagged
 *                              field set,
 *                              as DIR/NAME.VERSION.SEED.bin, each checked to
 *                              decode and re-encode to its own bytes, with
 *                              kwire's JSON of it beside (.kw.json)
 *   msg-oracle check DIR       decodes each DIR/NAME.VERSION.SEED.bin (Java's
 *                              encoding), re-encodes it, which must give the
 *                              same bytes, and writes its JSON (.kw.json)
 *
 * One "fail FILE: what" line per problem, then "end OK FAILED".
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwire/json.h"
#include "kwire/kwire.h"
#include "kwire/messages.h"
#include "synth.h"

#define MAX_MESSAGE (1u << 20)

static size_t ok_count, fail_count;

static void fail(const char *file, const char *why)
{
    printf("fail %s: %s\n", file, why);
    fail_count++;
}

static void json_to_file(void *ctx, const char *data, size_t len)
{
    fwrite(data, 1, len, (FILE *)ctx);
}

static bool write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/*
 * Decodes bytes as m at version, re-encodes the view, which must give the
 * same bytes, and writes kwire's JSON of them to json_path. False when it
 * cannot: why says what went wrong.
 */
static bool roundtrip(const kw_message_info *m, int16_t version, const uint8_t *bytes,
                             size_t len, const char *json_path, char *why, size_t cap)
{
    static uint8_t out[MAX_MESSAGE];
    kw_reader r;
    kw_reader_init(&r, bytes, len);
    kw_message msg;
    kw_decode_error err;
    char text[400];
    if (kw_message_decode(m, &r, version, &msg, &err) != KW_OK) {
        kw_decode_error_format(&err, text, sizeof text);
        snprintf(why, cap, "kwire decode: %s", text);
        return false;
    }
    kw_builder b;
    kw_builder_init(&b, out, sizeof out, NULL, 0);
    kw_err e = m->encode(&b, version, &msg.u);
    if (e != KW_OK) {
        snprintf(why, cap, "kwire encode: %s", kw_err_name(e));
        return false;
    }
    const uint8_t *got = kw_builder_contiguous(&b);
    size_t n = kw_builder_size(&b);
    size_t diff = 0;
    while (diff < n && diff < len && got[diff] == bytes[diff])
        diff++;
    if (n != len || diff != len) {
        snprintf(why, cap, "kwire re-encoded %zu bytes from %zu; first difference at byte %zu", n,
                 len, diff);
        return false;
    }
    FILE *f = fopen(json_path, "w");
    if (!f) {
        snprintf(why, cap, "%s: %s", json_path, strerror(errno));
        return false;
    }
    kw_reader_init(&r, bytes, len);
    e = kw_json_write_message(m, version, &r, 0, json_to_file, f, &err);
    fclose(f);
    if (e != KW_OK) {
        kw_decode_error_format(&err, text, sizeof text);
        snprintf(why, cap, "kwire JSON: %s", text);
        return false;
    }
    return true;
}

/* What Kafka's classes can be asked about: requests, responses and KRaft records. */
static bool is_api_message(const kw_message_info *m)
{
    return m->kind == KW_MSG_REQUEST || m->kind == KW_MSG_RESPONSE || m->kind == KW_MSG_RECORD;
}

static int gen(const char *dir, unsigned seeds)
{
    static uint8_t buf[MAX_MESSAGE];
    size_t count;
    const kw_message_info *const *all = kw_messages(&count);
    for (size_t i = 0; i < count; i++) {
        const kw_message_info *m = all[i];
        if (!is_api_message(m))
            continue;
        for (int16_t v = m->versions.lo; v <= m->versions.hi; v++)
            for (unsigned seed = 0; seed < seeds; seed++) {
                char base[4096], file[4200], json[4200], why[512];
                snprintf(base, sizeof base, "%s.%d.%u", m->name, v, seed);
                snprintf(file, sizeof file, "%s/%s.bin", dir, base);
                snprintf(json, sizeof json, "%s/%s.kw.json", dir, base);
                kwt_synth s;
                kwt_synth_init(&s, buf, sizeof buf,
                               (uint64_t)seed * 1000003u + (uint64_t)m->api_key * 131u +
                                   (uint64_t)v * 7u + m->kind,
                               KWT_SYNTH_ALL_TAGS);
                if (!kwt_synth_message(&s, m, v)) {
                    fail(base, "synthesized message too large");
                    continue;
                }
                if (!roundtrip(m, v, buf, s.len, json, why, sizeof why)) {
                    fail(base, why);
                    continue;
                }
                if (!write_file(file, buf, s.len)) {
                    fail(base, "cannot write it");
                    continue;
                }
                ok_count++;
            }
    }
    return 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = malloc(MAX_MESSAGE);
    size_t n = data ? fread(data, 1, MAX_MESSAGE, f) : 0;
    bool too_big = data && n == MAX_MESSAGE && fgetc(f) != EOF;
    fclose(f);
    if (!data || too_big) {
        free(data);
        return NULL;
    }
    *len = n;
    return data;
}

static int check(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 2;
    }
    struct dirent *ent;
    while ((ent = readdir(d))) {
        const char *name = ent->d_name;
        size_t nl = strlen(name);
        if (nl < 5 || strcmp(name + nl - 4, ".bin") != 0)
            continue;
        /* NAME.VERSION.SEED.bin */
        char msg_name[256], why[512];
        int version;
        const char *dot = strchr(name, '.');
        if (!dot || (size_t)(dot - name) >= sizeof msg_name || sscanf(dot, ".%d.", &version) != 1) {
            fail(name, "not NAME.VERSION.SEED.bin");
            continue;
        }
        memcpy(msg_name, name, (size_t)(dot - name));
        msg_name[dot - name] = '\0';
        const kw_message_info *m = kw_message_by_name(msg_name);
        if (!m || !is_api_message(m) || !kw_versions_has(m->versions, (int16_t)version)) {
            fail(name, "kwire does not define this message version");
            continue;
        }
        char path[4200], json[4200];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        snprintf(json, sizeof json, "%s/%.*s.kw.json", dir, (int)(nl - 4), name);
        size_t len;
        uint8_t *bytes = read_file(path, &len);
        if (!bytes) {
            fail(name, "cannot read it");
            continue;
        }
        bool ok = roundtrip(m, (int16_t)version, bytes, len, json, why, sizeof why);
        free(bytes);
        if (ok)
            ok_count++;
        else
            fail(name, why);
    }
    closedir(d);
    return 0;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc == 4 && strcmp(argv[1], "gen") == 0)
        rc = gen(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
    else if (argc == 3 && strcmp(argv[1], "check") == 0)
        rc = check(argv[2]);
    else {
        fprintf(stderr, "usage: msg-oracle gen DIR SEEDS | msg-oracle check DIR\n");
        return 2;
    }
    printf("end %zu %zu\n", ok_count, fail_count);
    return rc;
}
