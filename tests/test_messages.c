/*
 * Message views: real-client frames, and generated instances of every
 * message in every version. The typed decoders and the description walker
 * must agree on every success and on the code and offset of every failure.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "synth.h"
#include "alloc_count.h"
#include "kwire/kwire.h"
#include "kwire/messages.h"

/* ---- real-client vectors ------------------------------------------------ */

struct vector {
    char path[1100];
    bool response;
    int16_t api_key, api_version;
    uint8_t *bytes;
    size_t len;
};

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    cr_assert(buf && fread(buf, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Loads every frame listed in tests/vectors/<set>/index.tsv. */
static size_t load_vectors(struct vector **out)
{
    const char *src = getenv("KW_SOURCE_DIR");
    cr_assert(src != NULL, "KW_SOURCE_DIR is not set");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tests/vectors", src);
    DIR *d = opendir(dir);
    cr_assert(d != NULL, "no vectors at %s", dir);
    size_t n = 0, cap = 64;
    struct vector *v = malloc(cap * sizeof *v);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char index[1024];
        snprintf(index, sizeof index, "%s/%s/index.tsv", dir, e->d_name);
        FILE *f = fopen(index, "r");
        if (!f)
            continue;
        char line[2048];
        bool header = true;
        while (fgets(line, sizeof line, f)) {
            if (header) {
                header = false;
                continue;
            }
            char file[256], direction[8];
            int key, version;
            if (sscanf(line, "%255s %7s %d %*s %d", file, direction, &key, &version) != 4)
                continue;
            if (n == cap) {
                cap *= 2;
                v = realloc(v, cap * sizeof *v);
            }
            int k = snprintf(v[n].path, sizeof v[n].path, "%s/%s/%s", dir, e->d_name, file);
            cr_assert(k > 0 && (size_t)k < sizeof v[n].path, "path too long");
            v[n].response = strcmp(direction, "req") != 0;
            v[n].api_key = (int16_t)key;
            v[n].api_version = (int16_t)version;
            v[n].bytes = read_file(v[n].path, &v[n].len);
            n++;
        }
        fclose(f);
    }
    closedir(d);
    *out = v;
    return n;
}

/*
 * Frames that do not follow the protocol, kept as captured: the mock
 * broker answers an ApiVersions request it does not support with a v0 body
 * but claims nothing about it; a client reads such an answer as v0
 * (KIP-511), and so does this test.
 */
static int16_t body_version(const struct vector *v, const uint8_t *body, size_t len, size_t hdr)
{
    if (v->response && v->api_key == KW_API_API_VERSIONS && len >= hdr + 2 &&
        kw_load_be16(body + hdr) == 35)
        return 0;
    return v->api_version;
}

/* Decodes a frame body (header and message); returns the error code. */
static kw_err decode_body(const struct vector *v, const uint8_t *body, size_t len,
                          kw_message *msg, kw_decode_error *err)
{
    kw_reader r;
    kw_reader_init(&r, body, len);
    kw_error herr;
    if (v->response) {
        kw_response_header h;
        int hv = kw_response_header_version(v->api_key, v->api_version);
        if (kw_response_header_read(&r, hv, &h, &herr) != KW_OK) {
            err->code = herr.code;
            err->offset = herr.offset;
            return herr.code;
        }
        int16_t bv = body_version(v, body, len, kw_reader_offset(&r));
        return kw_response_decode(&r, v->api_key, bv, msg, err);
    }
    kw_request_header h;
    if (kw_request_header_parse(&r, &h, &herr) != KW_OK) {
        err->code = herr.code;
        err->offset = herr.offset;
        return herr.code;
    }
    return kw_request_decode(&r, h.api_key, h.api_version, msg, err);
}

static void free_vectors(struct vector *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].bytes);
    free(v);
}

/* Where the message starts in a frame body: the end of its header. */
static size_t message_start(const struct vector *v, const uint8_t *body, size_t size)
{
    kw_reader r;
    kw_reader_init(&r, body, size);
    if (v->response) {
        kw_response_header h;
        kw_response_header_read(&r, kw_response_header_version(v->api_key, v->api_version), &h,
                                NULL);
    } else {
        kw_request_header h;
        kw_request_header_parse(&r, &h, NULL);
    }
    return kw_reader_offset(&r);
}

/*
 * librdkafka's mock broker answers ApiVersions v3 with error 35 in a body
 * that is neither v0 nor v3 (see tests/vectors/README.md). Those frames
 * stay as captured and must be refused.
 */
static bool known_nonconformant(const struct vector *v)
{
    return v->response && strstr(v->path, "rsp_k18-ApiVersions_v3") != NULL;
}

Test(messages, real_vectors_decode)
{
    struct vector *vs;
    size_t n = load_vectors(&vs);
    cr_assert_gt(n, 100, "only %zu vectors found", n);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        kw_frame f;
        cr_assert_eq(kw_frame_split(vs[i].bytes, vs[i].len, 0, &f), KW_FRAME_COMPLETE,
                     "%s: not one whole frame", vs[i].path);
        cr_assert_eq(f.total, vs[i].len, "%s: %zu bytes after the frame", vs[i].path,
                     vs[i].len - f.total);
        kw_message msg;
        kw_decode_error err;
        memset(&err, 0, sizeof err);
        size_t before = kwt_allocations;
        kw_err e = decode_body(&vs[i], f.body, f.size, &msg, &err);
        size_t allocated = kwt_allocations - before;
        char text[512];
        kw_decode_error_format(&err, text, sizeof text);
        if (known_nonconformant(&vs[i])) {
            cr_assert_neq(e, KW_OK, "%s: the mock's malformed answer decoded", vs[i].path);
            continue;
        }
        cr_assert_eq(e, KW_OK, "%s: %s", vs[i].path, text);
        cr_assert_eq(allocated, 0, "%s: decoding allocated %zu times", vs[i].path, allocated);
        checked++;
    }
    cr_log_info("%zu real-client frames decoded", checked);
    free_vectors(vs, n);
}

/*
 * Decode, then encode back to front twice: from the view as decoded (array
 * views copied as they came) and after materializing every array into
 * items (each element written field by field). Both must give the input's
 * bytes exactly, with no allocation.
 */
static void check_roundtrip(const kw_message_info *m, int16_t version, const uint8_t *bytes,
                            size_t len, const char *what)
{
    static uint8_t out[1 << 17];
    static uint8_t arena_mem[1 << 20];
    kw_reader r;
    kw_reader_init(&r, bytes, len);
    kw_message msg;
    kw_decode_error err;
    if (kw_message_decode(m, &r, version, &msg, &err) != KW_OK)
        cr_assert_fail("%s %s v%d: decode failed at %zu %s", what, m->name, version, err.offset,
                       err.path);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            kw_arena arena;
            kw_arena_init(&arena, arena_mem, sizeof arena_mem);
            size_t before = kwt_allocations;
            kw_err e = m->materialize(&msg.u, &arena);
            cr_assert_eq(e, KW_OK, "%s %s v%d: materialize: %s", what, m->name, version,
                         kw_err_name(e));
            cr_assert_eq(kwt_allocations, before, "%s: materialize allocated", what);
        }
        kw_builder b;
        kw_builder_init(&b, out, sizeof out, NULL, 0);
        size_t before = kwt_allocations;
        kw_err e = m->encode(&b, version, &msg.u);
        cr_assert_eq(kwt_allocations, before, "%s: encoding allocated", what);
        cr_assert_eq(e, KW_OK, "%s %s v%d (%s): encode: %s", what, m->name, version,
                     pass ? "items" : "view", kw_err_name(e));
        const uint8_t *got = kw_builder_contiguous(&b);
        size_t n = kw_builder_size(&b);
        size_t diff = 0;
        while (diff < n && diff < len && got[diff] == bytes[diff])
            diff++;
        if (n != len || diff != len)
            cr_assert_fail("%s %s v%d (%s): re-encoded %zu bytes, input %zu; first difference at "
                           "byte %zu", what, m->name, version, pass ? "items" : "view", n, len, diff);
    }
}

/* Typed decoder and walker agree on a failing input: same code, same offset. */
static void check_agreement(const kw_message_info *m, int16_t version, const uint8_t *buf,
                            size_t len, const char *what, bool must_fail)
{
    kw_reader r1, r2;
    kw_reader_init(&r1, buf, len);
    kw_reader_init(&r2, buf, len);
    kw_message msg;
    kw_decode_error e1, e2;
    memset(&e1, 0, sizeof e1);
    memset(&e2, 0, sizeof e2);
    kw_err c1 = kw_message_decode(m, &r1, version, &msg, &e1);
    kw_err c2 = kw_walk(m, version, &r2, NULL, NULL, &e2);
    if (c2 == KW_OK) {
        kw_reader_expect_end(&r2);
        c2 = r2.err;
        e2.code = r2.err;
        e2.offset = r2.err_offset;
    }
    if (must_fail)
        cr_assert_neq(c1, KW_OK, "%s %s v%d: %zu bytes decoded, expected a failure", what, m->name,
                      version, len);
    cr_assert_eq(c1, c2, "%s %s v%d (%zu bytes): decoder says %s, walker says %s at %zu %s", what,
                 m->name, version, len, kw_err_name(c1), kw_err_name(c2), e2.offset, e2.path);
    if (c1 != KW_OK) {
        cr_assert_eq(e1.offset, e2.offset, "%s %s v%d (%zu bytes): decoder fails at %zu, walker at %zu",
                     what, m->name, version, len, e1.offset, e2.offset);
        cr_assert_str_eq(e1.path, e2.path, "%s %s v%d: paths differ", what, m->name, version);
    }
}

/*
 * Whole frames in one call each way: every real frame read with
 * kw_read_*_frame (size, header, body) and written again with
 * kw_build_*_frame from what was read, byte for byte.
 */
Test(messages, real_vectors_whole_frames)
{
    struct vector *vs;
    size_t n = load_vectors(&vs);
    static uint8_t out[1 << 20];
    size_t rebuilt = 0;
    for (size_t i = 0; i < n; i++) {
        const struct vector *v = &vs[i];
        if (known_nonconformant(v))
            continue;
        kw_message msg;
        kw_decode_error err;
        size_t frame_len = 0;
        kw_request_header rq;
        kw_response_header rs;
        kw_err e = v->response ? kw_read_response_frame(v->bytes, v->len, v->api_key, v->api_version,
                                                        &rs, &msg, &frame_len, &err)
                               : kw_read_request_frame(v->bytes, v->len, &rq, &msg, &frame_len, &err);
        char text[512];
        if (e != KW_OK)
            kw_decode_error_format(&err, text, sizeof text);
        cr_assert_eq(e, KW_OK, "%s: %s", v->path, text);
        cr_assert_eq(frame_len, v->len, "%s: frame length", v->path);
        /* the builder writes no tagged fields of its own into a header */
        if ((v->response ? rs.tagged.count : rq.tagged.count) != 0)
            continue;
        kw_builder b;
        kw_builder_init(&b, out, sizeof out, NULL, 0);
        int16_t version = kw_message_version(&msg);
        e = v->response ? kw_build_response_frame(&b, v->api_key, version, rs.correlation_id, &msg.u)
                        : kw_build_request_frame(&b, rq.api_key, rq.api_version, rq.correlation_id,
                                                 rq.client_id, &msg.u);
        cr_assert_eq(e, KW_OK, "%s: build: %s", v->path, kw_err_name(e));
        if (version != v->api_version)
            continue; /* a v0 ApiVersions answer: its header is that of the version asked */
        cr_assert_eq(kw_builder_size(&b), v->len, "%s: %zu bytes rebuilt", v->path, kw_builder_size(&b));
        cr_assert(memcmp(kw_builder_contiguous(&b), v->bytes, v->len) == 0, "%s: bytes differ", v->path);
        rebuilt++;
    }
    cr_assert_gt(rebuilt, 100, "only %zu frames rebuilt", rebuilt);
    free_vectors(vs, n);
}

/* What the whole-frame calls say about frames that are not whole or not right. */
Test(messages, whole_frame_errors)
{
    kw_message msg;
    kw_decode_error err;
    kw_request_header h;
    size_t len = 0;
    /* Metadata v13 request with client id "wl-admin", as Kafka's admin client sends */
    static const uint8_t frame[] = {0, 0, 0, 0x17, 0, 3, 0, 13, 0, 0, 0, 4, 0, 8, 'w', 'l', '-', 'a',
                                    'd', 'm', 'i', 'n', 0, 0, 1, 0, 0};
    cr_assert_eq(kw_read_request_frame(frame, sizeof frame, &h, &msg, &len, &err), KW_OK);
    cr_assert_eq(len, sizeof frame);
    cr_assert_eq(h.correlation_id, 4);
    cr_assert_eq(msg.info, kw_message_for_api(KW_API_METADATA, false));
    /* a buffer with less than the size says */
    cr_assert_eq(kw_read_request_frame(frame, sizeof frame - 1, &h, &msg, &len, &err), KW_ERR_TRUNCATED);
    cr_assert_str_eq(err.path, "size");
    cr_assert_eq(kw_read_request_frame(frame, 3, &h, &msg, &len, &err), KW_ERR_TRUNCATED);
    static const uint8_t negative[] = {0xff, 0xff, 0xff, 0xfe, 0, 0};
    cr_assert_eq(kw_read_request_frame(negative, sizeof negative, &h, &msg, &len, &err),
                 KW_ERR_FRAME_NEGATIVE);
    /* an unknown API key: the header says so, and where */
    static const uint8_t unknown[] = {0, 0, 0, 10, 0x7f, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff};
    cr_assert_eq(kw_read_request_frame(unknown, sizeof unknown, &h, &msg, &len, &err),
                 KW_ERR_UNKNOWN_API_KEY);
    cr_assert_str_eq(err.path, "header.api_key");
    cr_assert_eq(err.offset, 4, "offsets count from the frame's first byte");
    /* a body cut short inside a whole frame: the body's own error, offset from the frame */
    static const uint8_t short_body[] = {0, 0, 0, 14, 0, 3, 0, 13, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0};
    cr_assert_neq(kw_read_request_frame(short_body, sizeof short_body, &h, &msg, &len, &err), KW_OK);
    cr_assert_geq(err.offset, 14);
    /* building: keys and versions kwire does not define fail the builder */
    uint8_t out[256];
    kw_builder b;
    kw_builder_init(&b, out, sizeof out, NULL, 0);
    cr_assert_eq(kw_build_request_frame(&b, 999, 0, 1, (kw_slice){NULL, 0}, &msg.u),
                 KW_ERR_UNKNOWN_API_KEY);
    kw_builder_init(&b, out, sizeof out, NULL, 0);
    cr_assert_eq(kw_build_request_frame(&b, KW_API_METADATA, 99, 1, (kw_slice){NULL, 0}, &msg.u),
                 KW_ERR_UNSUPPORTED_VERSION);
    /* and a frame read comes out again as it was */
    cr_assert_eq(kw_read_request_frame(frame, sizeof frame, &h, &msg, &len, &err), KW_OK);
    kw_builder_init(&b, out, sizeof out, NULL, 0);
    cr_assert_eq(kw_build_request_frame(&b, h.api_key, h.api_version, h.correlation_id, h.client_id,
                                        &msg.u), KW_OK);
    cr_assert_eq(kw_builder_size(&b), sizeof frame);
    cr_assert(memcmp(kw_builder_contiguous(&b), frame, sizeof frame) == 0);
}

Test(messages, real_vectors_roundtrip)
{
    struct vector *vs;
    size_t n = load_vectors(&vs);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        if (known_nonconformant(&vs[i]))
            continue;
        const uint8_t *body = vs[i].bytes + 4;
        size_t size = vs[i].len - 4;
        size_t hdr = message_start(&vs[i], body, size);
        const kw_message_info *m = kw_message_for_api(vs[i].api_key, vs[i].response);
        check_roundtrip(m, body_version(&vs[i], body, size, hdr), body + hdr, size - hdr,
                        vs[i].path);
        checked++;
    }
    cr_log_info("%zu real-client frames re-encoded byte for byte", checked);
    free_vectors(vs, n);
}

Test(messages, real_vectors_every_truncation)
{
    struct vector *vs;
    size_t n = load_vectors(&vs);
    kwt_guard g;
    kwt_guard_open(&g, 1 << 16);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *body = vs[i].bytes + 4;
        size_t size = vs[i].len - 4;
        if (known_nonconformant(&vs[i]))
            continue;
        /* cut the message (after its header) at every length */
        size_t hdr = message_start(&vs[i], body, size);
        const kw_message_info *m = kw_message_for_api(vs[i].api_key, vs[i].response);
        int16_t version = body_version(&vs[i], body, size, hdr);
        for (size_t cut = 0; cut < size - hdr; cut++) {
            const uint8_t *p = kwt_guard_place(&g, body + hdr, cut);
            check_agreement(m, version, p, cut, vs[i].path, true);
        }
    }
    kwt_guard_close(&g);
    free_vectors(vs, n);
}

/* ---- generated instances of every message and version ------------------- */

Test(messages, every_message_every_version)
{
    size_t count;
    const kw_message_info *const *all = kw_messages(&count);
    size_t versions = 0, requests = 0, responses = 0;
    static uint8_t buf[1 << 14];
    kwt_synth w;
    kwt_guard g;
    kwt_guard_open(&g, sizeof buf);
    for (size_t i = 0; i < count; i++) {
        const kw_message_info *m = all[i];
        for (int16_t v = m->versions.lo; v <= m->versions.hi; v++) {
            for (uint64_t seed = 0; seed < 4; seed++) {
                kwt_synth_init(&w, buf, sizeof buf, seed * 7919 + (uint64_t)i * 104729 + (uint64_t)v,
                               KWT_SYNTH_SOME_TAGS);
                cr_assert(kwt_synth_message(&w, m, v), "%s v%d: synthesized message too large",
                          m->name, v);
                const uint8_t *p = kwt_guard_place(&g, w.data, w.len);
                kw_reader r;
                kw_reader_init(&r, p, w.len);
                kw_message msg;
                kw_decode_error err;
                size_t before = kwt_allocations;
                kw_err e = kw_message_decode(m, &r, v, &msg, &err);
                cr_assert_eq(kwt_allocations, before, "%s v%d: decoding allocated", m->name, v);
                char text[512];
                if (e != KW_OK)
                    kw_decode_error_format(&err, text, sizeof text);
                cr_assert_eq(e, KW_OK, "%s v%d seed %llu: %s", m->name, v,
                             (unsigned long long)seed, text);
                cr_assert_eq(msg.info, m, "%s: the union is tagged with its description", m->name);
                check_agreement(m, v, p, w.len, "generated", false);
                check_roundtrip(m, v, p, w.len, "generated");
                /* every strict prefix fails, the same way on both paths */
                if (seed == 0)
                    for (size_t cut = 0; cut < w.len; cut++)
                        check_agreement(m, v, kwt_guard_place(&g, w.data, cut), cut, "prefix", true);
            }
            versions++;
            requests += m->kind == KW_MSG_REQUEST;
            responses += m->kind == KW_MSG_RESPONSE;
        }
    }
    kwt_guard_close(&g);
    cr_log_info("%zu messages, %zu versions (%zu request, %zu response versions)", count, versions,
                requests, responses);
    /* 95 keys: 368 request and 368 response versions, the union of Kafka's October 2024
     * schemas and Kafka 4.4's (tests/check_defs.py counts the same from the schemas) */
    cr_assert_eq(requests, 368, "request versions covered: %zu", requests);
    cr_assert_eq(responses, 368, "response versions covered: %zu", responses);
}

Test(messages, lookup_and_unsupported)
{
    const kw_message_info *m = kw_message_for_api(0, false);
    cr_assert(m && strcmp(m->name, "ProduceRequest") == 0, "key 0 request is ProduceRequest");
    cr_assert(kw_message_for_api(94, true) != NULL, "key 94 response exists");
    cr_assert(kw_message_for_api(95, false) == NULL, "key 95 is unknown");
    cr_assert(kw_message_for_api(-1, false) == NULL, "key -1 is unknown");
    cr_assert(kw_message_by_name("TopicRecord") != NULL, "TopicRecord is described");
    uint8_t body[4] = {0};
    kw_reader r;
    kw_reader_init(&r, body, sizeof body);
    kw_message msg;
    kw_decode_error err;
    cr_assert_eq(kw_request_decode(&r, 0, 14, &msg, &err), KW_ERR_UNSUPPORTED_VERSION,
                 "Produce v14 is past the valid range");
    kw_reader_init(&r, body, sizeof body);
    cr_assert_eq(kw_request_decode(&r, 95, 0, &msg, &err), KW_ERR_UNKNOWN_API_KEY, "key 95");
}

Test(messages, error_names_the_field_path)
{
    /* ProduceRequest v3: transactional_id null, acks, timeout, 1 topic "t",
       1 partition (index 0) with records whose length runs past the end. */
    uint8_t body[] = {0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x01,
                      0x00, 0x01, 't',  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                      0x00, 0x00, 0x00, 0x09, 0x01, 0x02};
    kw_reader r;
    kw_reader_init(&r, body, sizeof body);
    kw_produce_request req;
    kw_decode_error err;
    cr_assert_eq(kw_produce_request_decode(&r, 3, &req, &err), KW_ERR_TRUNCATED, "records past the end");
    cr_assert_str_eq(err.path, ".topic_data[0].partition_data[0].records", "path %s", err.path);
    cr_assert_eq(err.offset, 27, "error offset %zu", err.offset);
    char text[256];
    kw_decode_error_format(&err, text, sizeof text);
    cr_assert(strstr(text, "ProduceRequest v3 .topic_data[0].partition_data[0].records") != NULL,
              "formatted: %s", text);
}

Test(messages, typed_view_and_iterators)
{
    /* The same ProduceRequest v3 as above, with 2 bytes of records. */
    uint8_t body[] = {0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x01,
                      0x00, 0x01, 't',  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07,
                      0x00, 0x00, 0x00, 0x02, 0x01, 0x02};
    kw_reader r;
    kw_reader_init(&r, body, sizeof body);
    kw_produce_request req;
    cr_assert_eq(kw_produce_request_decode(&r, 3, &req, NULL), KW_OK, "decode");
    cr_assert(kw_slice_is_null(req.transactional_id), "transactional_id is null");
    cr_assert_eq(req.acks, 1, "acks %d", req.acks);
    cr_assert_eq(req.timeout_ms, 1000, "timeout_ms %d", req.timeout_ms);
    cr_assert_eq(kw_array_len(&req.topic_data), 1, "one topic");
    kw_array_iter topics;
    kw_array_iter_init(&topics, &req.topic_data);
    kw_produce_request_topic_produce_data topic;
    cr_assert(kw_produce_request_topic_produce_data_next(&topics, &topic), "first topic");
    cr_assert(topic.name.len == 1 && topic.name.ptr == body + 14, "topic name points into the frame");
    kw_array_iter parts;
    kw_array_iter_init(&parts, &topic.partition_data);
    kw_produce_request_partition_produce_data part;
    cr_assert(kw_produce_request_partition_produce_data_next(&parts, &part), "first partition");
    cr_assert_eq(part.index, 7, "partition index %d", part.index);
    cr_assert(part.records.bytes.ptr == body + 27 && part.records.bytes.len == 2, "records slice");
    cr_assert(!kw_produce_request_partition_produce_data_next(&parts, &part), "one partition only");
    cr_assert(!kw_produce_request_topic_produce_data_next(&topics, &topic), "one topic only");
}

/* ---- ApiVersions responses as Kafka's clients read them (KIP-511) ------------------- */

/* An ApiVersionsResponse body of version v with the given error and one api key. */
static size_t api_versions_body(uint8_t *buf, size_t cap, int16_t v, int16_t error,
                                const uint8_t **out)
{
    kw_api_versions_response resp;
    memset(&resp, 0, sizeof resp);
    resp.error_code = error;
    resp.finalized_features_epoch = -1;
    kw_api_versions_response_api_version key;
    memset(&key, 0, sizeof key);
    key.api_key = KW_API_API_VERSIONS;
    key.min_version = 0;
    key.max_version = 4;
    resp.api_keys = kw_array_of(&key, 1);
    kw_builder b;
    kw_builder_init(&b, buf, cap, NULL, 0);
    cr_assert_eq(kw_api_versions_response_encode(&b, v, &resp), KW_OK, "v%d body encodes", v);
    *out = kw_builder_contiguous(&b);
    return kw_builder_size(&b);
}

static void expect_read_as(const uint8_t *p, size_t n, int16_t asked, int16_t want,
                           int16_t error, const char *what)
{
    kw_reader r;
    kw_reader_init(&r, p, n);
    kw_message msg;
    kw_decode_error err;
    cr_assert_eq(kw_response_decode(&r, KW_API_API_VERSIONS, asked, &msg, &err), KW_OK,
                 "%s: decodes", what);
    cr_assert_eq(kw_message_version(&msg), want, "%s: read as v%d, want v%d", what,
                 kw_message_version(&msg), want);
    cr_assert_eq(msg.u.api_versions_response.error_code, error, "%s: error_code", what);
    cr_assert_eq(kw_array_len(&msg.u.api_versions_response.api_keys), 1, "%s: one api key", what);
    cr_assert_eq(kw_reader_remaining(&r), 0, "%s: reader at the end", what);
}

Test(messages, api_versions_error_in_the_version_asked)
{
    uint8_t buf[256];
    const uint8_t *p;
    size_t n = api_versions_body(buf, sizeof buf, 3, 35, &p);
    expect_read_as(p, n, 3, 3, 35, "v3 body with error 35");
    n = api_versions_body(buf, sizeof buf, 4, 41, &p);
    expect_read_as(p, n, 4, 4, 41, "v4 body with error 41");
    n = api_versions_body(buf, sizeof buf, 5, 0, &p);
    expect_read_as(p, n, 5, 5, 0, "v5 body without error");
}

Test(messages, api_versions_v0_answer_to_a_newer_version)
{
    uint8_t buf[256];
    const uint8_t *p;
    size_t n = api_versions_body(buf, sizeof buf, 0, 35, &p);
    expect_read_as(p, n, 3, 0, 35, "v3 asked, v0 body with error 35");
    expect_read_as(p, n, 5, 0, 35, "v5 asked, v0 body with error 35");
    /* other APIs never fall back */
    kw_reader r;
    kw_reader_init(&r, p, n);
    kw_message msg;
    kw_decode_error err;
    cr_assert_neq(kw_response_decode(&r, KW_API_METADATA, 0, &msg, &err), KW_OK,
                  "an ApiVersions body is no Metadata v0 response");
}

Test(messages, api_versions_neither_version_fits)
{
    /* error 35, then an int32 count of 1000 elements that are not there: fails as v3 (compact
     * count 0 then trailing bytes) and as v0 (count larger than the bytes left) */
    static const uint8_t body[] = {0x00, 0x23, 0x00, 0x00, 0x03, 0xe8, 0x00};
    kw_reader r;
    kw_reader_init(&r, body, sizeof body);
    kw_message msg;
    kw_decode_error err;
    kw_err code = kw_response_decode(&r, KW_API_API_VERSIONS, 3, &msg, &err);
    cr_assert_neq(code, KW_OK, "garbage does not decode");
    cr_assert_eq(err.code, code, "err carries the code");
    cr_assert_eq(err.version, 0, "the error is the v0 reading's, as Kafka's client reports it");
    cr_assert_eq(err.offset, 2, "at the api_keys count (byte %zu)", err.offset);
    cr_assert_str_eq(err.path, ".api_keys", "names the field");
    char text[256];
    kw_decode_error_format(&err, text, sizeof text);
    cr_assert(strstr(text, "ApiVersionsResponse v0 .api_keys") != NULL, "formatted: %s", text);
}

/* ---- KRaft metadata log framing ------------------------------------------------------------ */

/* Every record type and version: framed in front of the record's own bytes, read back whole. */
Test(messages, metadata_record_framing)
{
    size_t n;
    const kw_message_info *const *all = kw_messages(&n);
    static uint8_t buf[1 << 16], frame[1 << 16];
    size_t records = 0, versions = 0;
    for (size_t i = 0; i < n; i++) {
        const kw_message_info *m = all[i];
        if (m->kind != KW_MSG_RECORD)
            continue;
        records++;
        cr_assert_eq(kw_message_for_record_type(m->api_key), m, "%s by its type", m->name);
        for (int16_t v = m->versions.lo; v <= m->versions.hi; v++) {
            kwt_synth w;
            kwt_synth_init(&w, buf, sizeof buf, (uint64_t)m->api_key * 131 + (uint64_t)v,
                           KWT_SYNTH_ALL_TAGS);
            cr_assert(kwt_synth_message(&w, m, v), "%s v%d synthesized", m->name, v);
            kw_reader r;
            kw_reader_init(&r, buf, w.len);
            kw_message msg;
            kw_decode_error err;
            cr_assert_eq(kw_message_decode(m, &r, v, &msg, &err), KW_OK, "%s v%d", m->name, v);
            kw_builder b;
            kw_builder_init(&b, frame, sizeof frame, NULL, 0);
            cr_assert_eq(kw_build_metadata_record(&b, m, v, &msg.u), KW_OK, "%s v%d framed",
                         m->name, v);
            /* frame version 1, type and version: one varint byte each while under 128 */
            cr_assert(m->api_key < 128 && v < 128);
            const uint8_t *out = kw_builder_contiguous(&b);
            size_t len = kw_builder_size(&b);
            cr_assert_eq(len, w.len + 3, "%s v%d: %zu bytes", m->name, v, len);
            cr_assert(out[0] == 1 && out[1] == m->api_key && out[2] == v, "%s v%d prefix", m->name,
                      v);
            cr_assert_eq(memcmp(out + 3, buf, w.len), 0, "%s v%d: the record's bytes", m->name, v);
            kw_reader_init(&r, out, len);
            kw_message back;
            cr_assert_eq(kw_read_metadata_record(&r, &back, &err), KW_OK, "%s v%d read", m->name,
                         v);
            cr_assert_eq(back.info, m, "%s v%d: read as %s", m->name, v, back.info->name);
            cr_assert_eq(kw_message_version(&back), v, "%s version", m->name);
            versions++;
        }
    }
    cr_assert_gt(records, 20, "%zu record types", records);
    cr_log_info("metadata records: %zu types, %zu versions framed and read", records, versions);
}

Test(messages, metadata_record_frame_errors)
{
    /* a TopicRecord v0: name "t", a zero topic id, no tags */
    uint8_t rec[3 + 2 + 16 + 1] = {1, 2, 0, 2, 't'};
    kw_reader r;
    kw_message msg;
    kw_decode_error err;
    kw_reader_init(&r, rec, sizeof rec);
    cr_assert_eq(kw_read_metadata_record(&r, &msg, &err), KW_OK, "frame v1");
    cr_assert_eq(msg.info, &kw_topic_record_info);
    cr_assert_eq(msg.u.topic_record.name.len, 1);
    rec[0] = 0;
    kw_reader_init(&r, rec, sizeof rec);
    cr_assert_eq(kw_read_metadata_record(&r, &msg, &err), KW_OK, "frame v0 is read too");
    static const struct {
        uint8_t at, value;
        kw_err code;
        size_t offset;
        const char *path;
    } bad[] = {
        {0, 2, KW_ERR_UNSUPPORTED_VERSION, 0, "frame.version"},
        {1, 120, KW_ERR_UNKNOWN_API_KEY, 1, "frame.type"},
        {2, 9, KW_ERR_UNSUPPORTED_VERSION, 2, "frame.record_version"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint8_t copy[sizeof rec];
        memcpy(copy, rec, sizeof rec);
        copy[bad[i].at] = bad[i].value;
        kw_reader_init(&r, copy, sizeof copy);
        memset(&err, 0, sizeof err);
        cr_assert_eq(kw_read_metadata_record(&r, &msg, &err), bad[i].code, "case %zu", i);
        cr_assert_eq(err.offset, bad[i].offset, "case %zu: offset %zu", i, err.offset);
        cr_assert_str_eq(err.path, bad[i].path, "case %zu", i);
        cr_assert_null(msg.info, "case %zu: nothing decoded", i);
    }
    for (size_t cut = 0; cut < 3; cut++) {
        kw_reader_init(&r, rec, cut);
        cr_assert_eq(kw_read_metadata_record(&r, &msg, &err), KW_ERR_TRUNCATED, "cut at %zu", cut);
    }
    kw_reader_init(&r, rec, sizeof rec - 1);
    cr_assert_eq(kw_read_metadata_record(&r, &msg, &err), KW_ERR_TRUNCATED, "record cut short");
    cr_assert_str_eq(err.message->name, "TopicRecord", "the record's own error");
    uint8_t out[64];
    kw_builder b;
    kw_builder_init(&b, out, sizeof out, NULL, 0);
    cr_assert_eq(kw_build_metadata_record(&b, &kw_produce_request_info, 0, &msg.u),
                 KW_ERR_UNKNOWN_API_KEY, "a request is not a metadata record");
    kw_builder_init(&b, out, sizeof out, NULL, 0);
    cr_assert_eq(kw_build_metadata_record(&b, &kw_topic_record_info, 7, &msg.u),
                 KW_ERR_UNSUPPORTED_VERSION, "no TopicRecord v7");
    cr_assert_null(kw_message_for_record_type(-1));
    cr_assert_null(kw_message_for_record_type(1000));
}
