/* Default and error responses from the descriptions, and the response frame
 * begin/end helper: every API key at every version, read back with kwire's
 * own decoders, plus golden bytes and the bounded failures. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "kwire/api.h"
#include "kwire/frame.h"
#include "kwire/header.h"
#include "kwire/messages.h"

#define ERR 42 /* NOT_CONTROLLER... any code will do; distinct from every default */

static bool has_code(int16_t key, int16_t version)
{
    return kw_message_has_error_code(kw_message_for_api(key, true), version);
}

/* The output of a builder as one flat copy (len in *len); caller frees. */
static uint8_t *flatten(kw_builder *b, size_t *len)
{
    size_t n = kw_builder_size(b);
    uint8_t *out = malloc(n ? n : 1);
    cr_assert(out);
    *len = kw_builder_copy_out(b, out, n ? n : 1);
    cr_assert_eq(*len, n, "copy_out gave %zu of %zu bytes", *len, n);
    return out;
}

/* The definition's default, parsed here independently of the generator. */
static int64_t def_int(const kw_field_info *f)
{
    if (!f->default_value || !strcmp(f->default_value, "false") ||
        !strcmp(f->default_value, "null"))
        return 0;
    if (!strcmp(f->default_value, "true"))
        return 1;
    return strtoll(f->default_value, NULL, 0);
}

/* Visitor state: every value must be its default, error_code at depth 0 the code. */
struct check {
    int16_t key, version;
    int depth;
    int error_codes_seen; /* top-level error_code values visited */
    int16_t top_error;
    int unknown_tags;
    int arrays_nonempty;
};

static int on_value(void *ctx, const kw_field_info *f, int32_t index, const kw_value *v)
{
    struct check *c = ctx;
    cr_assert(f, "%d v%d: a value outside any field", c->key, c->version);
    cr_assert_eq(index, -1, "%d v%d .%s: an array element in an empty array", c->key,
                 c->version, f->name);
    if (c->depth == 0 && f->type == KW_TYPE_INT16 && !strcmp(f->name, "error_code")) {
        c->error_codes_seen++;
        c->top_error = (int16_t)v->u.i;
        return 0;
    }
    switch ((kw_type)v->type) {
    case KW_TYPE_BOOL:
        cr_assert_eq(v->u.b, def_int(f) != 0, "%d v%d .%s: bool default", c->key, c->version,
                     f->name);
        break;
    case KW_TYPE_INT8:
    case KW_TYPE_INT16:
    case KW_TYPE_UINT16:
    case KW_TYPE_INT32:
    case KW_TYPE_INT64:
        cr_assert_eq(v->u.i, def_int(f), "%d v%d .%s: %lld, default %s", c->key, c->version,
                     f->name, (long long)v->u.i, f->default_value ? f->default_value : "0");
        break;
    case KW_TYPE_FLOAT64:
        cr_assert_eq(v->u.f, 0.0, "%d v%d .%s: float default", c->key, c->version, f->name);
        break;
    case KW_TYPE_UUID: {
        kw_uuid zero;
        memset(&zero, 0, sizeof zero);
        cr_assert_eq(memcmp(&v->u.uuid, &zero, sizeof zero), 0, "%d v%d .%s: uuid not zero",
                     c->key, c->version, f->name);
        break;
    }
    case KW_TYPE_STRING:
    case KW_TYPE_BYTES:
    case KW_TYPE_RECORDS: {
        bool want_null = f->default_value && !strcmp(f->default_value, "null") &&
                         kw_versions_has(f->nullable, c->version);
        if (f->type == KW_TYPE_RECORDS && v->is_null)
            want_null = true; /* records read back null or empty alike */
        cr_assert_eq(v->is_null, want_null, "%d v%d .%s: null %d, want %d", c->key, c->version,
                     f->name, v->is_null, want_null);
        cr_assert_eq(v->u.s.len, 0, "%d v%d .%s: not empty", c->key, c->version, f->name);
        break;
    }
    default: break;
    }
    return 0;
}

static int on_struct_begin(void *ctx, const kw_field_info *f, int32_t index, bool is_null)
{
    (void)f, (void)index;
    struct check *c = ctx;
    if (!is_null)
        c->depth++;
    return 0;
}

static int on_struct_end(void *ctx, const kw_field_info *f, int32_t index)
{
    (void)f, (void)index;
    ((struct check *)ctx)->depth--;
    return 0;
}

static int on_array_begin(void *ctx, const kw_field_info *f, int32_t count)
{
    struct check *c = ctx;
    bool want_null = f->default_value && !strcmp(f->default_value, "null") &&
                     kw_versions_has(f->nullable, c->version);
    cr_assert_eq(count, want_null ? -1 : 0, "%d v%d .%s: array count %d", c->key, c->version,
                 f->name, count);
    if (count > 0)
        c->arrays_nonempty++;
    return 0;
}

static int on_unknown_tag(void *ctx, uint32_t tag, kw_slice data)
{
    (void)tag, (void)data;
    ((struct check *)ctx)->unknown_tags++;
    return 0;
}

static const kw_visitor check_visitor = {on_value, on_struct_begin, on_struct_end, on_array_begin,
                                         NULL, on_unknown_tag};

/* One error response (or default request) at key/version: decoded, walked and checked field
 * by field. */
static void check_one(int16_t key, int16_t version, int16_t code, bool response)
{
    const kw_message_info *m = kw_message_for_api(key, response);
    kw_builder b;
    kw_builder_init_growable(&b, 256);
    kw_err be = response ? kw_build_error_response(&b, key, version, code)
                         : kw_build_default_message(&b, m, version, code);
    cr_assert_eq(be, KW_OK, "%d v%d: build: %s", key, version, kw_err_name(be));
    size_t len;
    uint8_t *body = flatten(&b, &len);
    kw_builder_free(&b);

    kwt_guard g;
    kwt_guard_open(&g, len);
    const uint8_t *p = kwt_guard_place(&g, body, len);

    kw_reader r;
    kw_reader_init(&r, p, len);
    kw_message msg;
    kw_decode_error err;
    kw_err e = response ? kw_response_decode(&r, key, version, &msg, &err)
                        : kw_request_decode(&r, key, version, &msg, &err);
    char text[512] = "";
    if (e != KW_OK)
        kw_decode_error_format(&err, text, sizeof text);
    cr_assert_eq(e, KW_OK, "%d v%d: decode: %s", key, version, text);
    cr_assert_eq(kw_message_version(&msg), version, "%d v%d: read back as v%d", key, version,
                 kw_message_version(&msg));
    cr_assert_eq(kw_reader_remaining(&r), 0, "%d v%d: %zu bytes left", key, version,
                 kw_reader_remaining(&r));

    struct check c = {key, version, 0, 0, 0, 0, 0};
    kw_reader_init(&r, p, len);
    cr_assert_eq(kw_walk(m, version, &r, &check_visitor, &c, &err), KW_OK, "%d v%d: walk", key,
                 version);
    cr_assert_eq(c.depth, 0, "%d v%d: unbalanced structs", key, version);
    cr_assert_eq(c.unknown_tags, 0, "%d v%d: unknown tags", key, version);
    bool has = kw_message_has_error_code(m, version);
    cr_assert_eq(c.error_codes_seen, has ? 1 : 0, "%d v%d: %d top-level error_code, has %d", key,
                 version, c.error_codes_seen, has);
    if (has)
        cr_assert_eq(c.top_error, code, "%d v%d: error_code %d, want %d", key, version,
                     c.top_error, code);
    /* flexible: the message's own tagged section, last on the wire, is empty */
    if (kw_api_is_flexible(key, version))
        cr_assert_eq(p[len - 1], 0, "%d v%d: tagged section count %u at byte %zu", key, version,
                     p[len - 1], len - 1);

    kwt_guard_close(&g);
    free(body);
}

Test(error_response, every_key_every_version)
{
    size_t n;
    const kw_api_info *t = kw_api_table(&n);
    int checked = 0, with_code = 0, in_table = 0;
    for (size_t i = 0; i < n; i++) {
        in_table += t[i].max_version - t[i].min_version + 1;
        if (!kw_message_for_api(t[i].key, true))
            continue;
        for (int16_t v = t[i].min_version; v <= t[i].max_version; v++) {
            check_one(t[i].key, v, ERR, true);
            check_one(t[i].key, v, 0, true);
            checked++;
            with_code += has_code(t[i].key, v);
        }
    }
    cr_assert_eq(checked, in_table, "%d of %d key/versions", checked, in_table);
    cr_assert_gt(with_code, checked / 2, "only %d of %d carry an error_code", with_code, checked);
}

/* The same walker writes requests: every one at its defaults decodes as written. */
Test(error_response, default_requests)
{
    size_t n;
    const kw_api_info *t = kw_api_table(&n);
    for (size_t i = 0; i < n; i++) {
        cr_assert(kw_message_for_api(t[i].key, false), "key %d: no request", t[i].key);
        for (int16_t v = t[i].min_version; v <= t[i].max_version; v++)
            check_one(t[i].key, v, 0, false);
    }
}

Test(error_response, every_key_has_a_response)
{
    size_t n;
    const kw_api_info *t = kw_api_table(&n);
    for (size_t i = 0; i < n; i++)
        cr_assert(kw_message_for_api(t[i].key, true), "key %d (%s): no response", t[i].key,
                  t[i].name);
}

/* Typed views of some error responses: the definitions' defaults and the code. */
static void decode_into(int16_t key, int16_t version, int16_t code, kw_message *msg)
{
    static uint8_t buf[4096];
    kw_builder b;
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    cr_assert_eq(kw_build_error_response(&b, key, version, code), KW_OK, "%d v%d: build", key,
                 version);
    kw_reader r;
    kw_reader_init(&r, kw_builder_contiguous(&b), kw_builder_size(&b));
    kw_decode_error err;
    cr_assert_eq(kw_response_decode(&r, key, version, msg, &err), KW_OK, "%d v%d: decode", key,
                 version);
}

Test(error_response, spot_check_defaults)
{
    kw_message msg;
    decode_into(KW_API_METADATA, 12, 0, &msg);
    cr_assert_eq(msg.u.metadata_response.controller_id, -1, "Metadata v12 controller_id");
    cr_assert_eq(msg.u.metadata_response.throttle_time_ms, 0, "Metadata v12 throttle_time_ms");
    cr_assert(kw_slice_is_null(msg.u.metadata_response.cluster_id), "Metadata v12 cluster_id");
    cr_assert_eq(kw_array_len(&msg.u.metadata_response.topics), 0, "Metadata v12 topics");
    decode_into(KW_API_METADATA, 13, 3, &msg);
    cr_assert_eq(msg.u.metadata_response.error_code, 3, "Metadata v13 error_code");
    decode_into(KW_API_METADATA, 9, 0, &msg);
    cr_assert_eq(msg.u.metadata_response.cluster_authorized_operations, INT32_MIN,
                 "Metadata v9 cluster_authorized_operations");

    decode_into(KW_API_JOIN_GROUP, 9, 25, &msg);
    cr_assert_eq(msg.u.join_group_response.error_code, 25, "JoinGroup v9 error_code");
    cr_assert_eq(msg.u.join_group_response.generation_id, -1, "JoinGroup v9 generation_id");
    decode_into(KW_API_INIT_PRODUCER_ID, 5, 15, &msg);
    cr_assert_eq(msg.u.init_producer_id_response.producer_id, -1, "InitProducerId producer_id");
    cr_assert_eq(msg.u.init_producer_id_response.error_code, 15, "InitProducerId error_code");
    decode_into(KW_API_HEARTBEAT, 4, 27, &msg);
    cr_assert_eq(msg.u.heartbeat_response.throttle_time_ms, 0, "Heartbeat v4 throttle_time_ms");
    cr_assert_eq(msg.u.heartbeat_response.error_code, 27, "Heartbeat v4 error_code");
    cr_assert_eq(msg.u.heartbeat_response.tagged_fields.count, 0, "Heartbeat v4 tagged fields");
    decode_into(KW_API_FETCH, 17, 35, &msg);
    cr_assert_eq(msg.u.fetch_response.error_code, 35, "Fetch v17 error_code");
    cr_assert_eq(kw_array_len(&msg.u.fetch_response.responses), 0, "Fetch v17 responses");
    decode_into(KW_API_API_VERSIONS, 3, 35, &msg);
    cr_assert_eq(msg.u.api_versions_response.error_code, 35, "ApiVersions v3 error_code");
    cr_assert_eq(msg.u.api_versions_response.finalized_features_epoch, -1,
                 "ApiVersions v3 finalized_features_epoch (tagged, absent)");

    /* no top-level error_code: Produce, Fetch before v7 */
    cr_assert(!has_code(KW_API_PRODUCE, 9), "Produce v9");
    cr_assert(!has_code(KW_API_FETCH, 6), "Fetch v6");
    cr_assert(has_code(KW_API_FETCH, 7), "Fetch v7");
    cr_assert(!has_code(KW_API_METADATA, 12), "Metadata v12");
}

typedef struct golden {
    int16_t key, version, code;
    int32_t corr; /* frame tests */
    const char *body_hex;
    const char *frame_hex;
} golden;

static const golden goldens[] = {
    {KW_API_HEARTBEAT, 0, 16, 7, "00 10", "00 00 00 06  00 00 00 07  00 10"},
    {KW_API_HEARTBEAT, 3, 16, 7, "00 00 00 00 00 10",
     "00 00 00 0a  00 00 00 07  00 00 00 00 00 10"},
    /* flexible: header v1 with its empty tagged section, the body's own section */
    {KW_API_HEARTBEAT, 4, 16, 7, "00 00 00 00 00 10 00",
     "00 00 00 0c  00 00 00 07 00  00 00 00 00 00 10 00"},
    /* ApiVersions keeps header v0 even when flexible */
    {KW_API_API_VERSIONS, 3, 35, 0x01020304, "00 23 01 00 00 00 00 00",
     "00 00 00 0c  01 02 03 04  00 23 01 00 00 00 00 00"},
    /* Produce v3: no top-level error_code, just defaults */
    {KW_API_PRODUCE, 3, 35, 1, "00 00 00 00 00 00 00 00",
     "00 00 00 0c  00 00 00 01  00 00 00 00 00 00 00 00"},
};

static void assert_bytes(const uint8_t *got, size_t len, const char *hex, const char *what)
{
    uint8_t want[256];
    size_t n = kwt_hex(hex, want, sizeof want);
    cr_assert_eq(len, n, "%s: %zu bytes, want %zu", what, len, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "%s: byte %zu is %02x, want %02x", what, i, got[i],
                     want[i]);
}

Test(error_response, golden_bytes)
{
    for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
        const golden *gd = &goldens[i];
        char what[64];
        snprintf(what, sizeof what, "key %d v%d", gd->key, gd->version);
        uint8_t buf[256];
        kw_builder b;
        kw_builder_init(&b, buf, sizeof buf, NULL, 0);
        cr_assert_eq(kw_build_error_response(&b, gd->key, gd->version, gd->code), KW_OK, "%s",
                     what);
        assert_bytes(kw_builder_contiguous(&b), kw_builder_size(&b), gd->body_hex, what);

        kw_builder_reset(&b);
        size_t mark = kw_build_response_frame_begin(&b);
        kw_build_error_response(&b, gd->key, gd->version, gd->code);
        cr_assert_eq(kw_build_response_frame_end(&b, mark, gd->key, gd->version, gd->corr), KW_OK,
                     "%s: frame", what);
        assert_bytes(kw_builder_contiguous(&b), kw_builder_size(&b), gd->frame_hex, what);
    }
}

/* Every key/version framed: kw_frame_split, the header and the body read back, and the
 * same bytes as the generated typed frame builder gives for the decoded view. */
Test(error_response, frame_every_key_every_version)
{
    size_t n;
    const kw_api_info *t = kw_api_table(&n);
    int32_t corr = 1000;
    for (size_t i = 0; i < n; i++) {
        for (int16_t v = t[i].min_version; v <= t[i].max_version; v++, corr++) {
            int16_t key = t[i].key;
            kw_builder b;
            kw_builder_init_growable(&b, 128);
            /* something already queued in front stays untouched behind the frame */
            kw_build_raw(&b, "\xAA\xBB", 2);
            size_t mark = kw_build_response_frame_begin(&b);
            kw_build_error_response(&b, key, v, ERR);
            cr_assert_eq(kw_build_response_frame_end(&b, mark, key, v, corr), KW_OK,
                         "%d v%d: frame", key, v);
            size_t len;
            uint8_t *out = flatten(&b, &len);
            kw_builder_free(&b);
            cr_assert_eq(out[len - 2], 0xAA, "%d v%d: queued bytes", key, v);
            size_t flen = len - 2;

            kw_frame fr;
            cr_assert_eq(kw_frame_split(out, flen, 0, &fr), KW_FRAME_COMPLETE, "%d v%d: split",
                         key, v);
            cr_assert_eq(fr.total, flen, "%d v%d: frame total %zu of %zu", key, v, fr.total,
                         flen);

            kw_reader r;
            kw_reader_init(&r, fr.body, fr.size);
            kw_response_header h;
            kw_error he;
            int hv = kw_response_header_version(key, v);
            cr_assert_eq(kw_response_header_read(&r, hv, &h, &he), KW_OK, "%d v%d: header", key,
                         v);
            cr_assert_eq(h.correlation_id, corr, "%d v%d: correlation id %d", key, v,
                         h.correlation_id);
            cr_assert_eq(h.tagged.count, 0, "%d v%d: header tags", key, v);

            kw_response_header h2;
            kw_message msg;
            size_t used = 0;
            kw_decode_error err;
            cr_assert_eq(kw_read_response_frame(out, flen, key, v, &h2, &msg, &used, &err), KW_OK,
                         "%d v%d: read frame", key, v);
            cr_assert_eq(used, flen, "%d v%d: frame read %zu of %zu", key, v, used, flen);
            cr_assert_eq(h2.header_version, hv, "%d v%d: header version", key, v);

            kw_builder b2;
            kw_builder_init_growable(&b2, 128);
            cr_assert_eq(kw_build_response_frame(&b2, key, v, corr, &msg.u), KW_OK,
                         "%d v%d: typed frame", key, v);
            size_t len2;
            uint8_t *out2 = flatten(&b2, &len2);
            kw_builder_free(&b2);
            cr_assert_eq(len2, flen, "%d v%d: typed frame %zu bytes, ours %zu", key, v, len2, flen);
            cr_assert_eq(memcmp(out, out2, flen), 0, "%d v%d: typed frame differs", key, v);
            free(out2);
            free(out);
        }
    }
}

Test(error_response, unknown_key_or_version)
{
    size_t n;
    const kw_api_info *t = kw_api_table(&n);
    const int16_t keys[] = {-1, (int16_t)n, 999, INT16_MAX, INT16_MIN};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        uint8_t buf[64];
        kw_builder b;
        kw_builder_init(&b, buf, sizeof buf, NULL, 0);
        cr_assert_eq(kw_build_error_response(&b, keys[i], 0, ERR), KW_ERR_UNKNOWN_API_KEY,
                     "key %d", keys[i]);
        cr_assert_eq(kw_builder_size(&b), 0, "key %d: bytes written", keys[i]);
        cr_assert(!kw_message_has_error_code(kw_message_for_api(keys[i], true), 0), "key %d", keys[i]);
        kw_builder_init(&b, buf, sizeof buf, NULL, 0);
        cr_assert_eq(kw_build_response_frame_end(&b, 0, keys[i], 0, 1), KW_ERR_UNKNOWN_API_KEY,
                     "frame key %d", keys[i]);
        cr_assert_eq(kw_builder_size(&b), 0, "frame key %d: bytes written", keys[i]);
    }
    for (size_t i = 0; i < n; i++) {
        const int16_t versions[] = {-1, INT16_MIN, (int16_t)(t[i].max_version + 1), INT16_MAX};
        for (size_t j = 0; j < sizeof versions / sizeof versions[0]; j++) {
            int16_t v = versions[j];
            if (v >= t[i].min_version && v <= t[i].max_version)
                continue;
            uint8_t buf[64];
            kw_builder b;
            kw_builder_init(&b, buf, sizeof buf, NULL, 0);
            cr_assert_eq(kw_build_error_response(&b, t[i].key, v, ERR),
                         KW_ERR_UNSUPPORTED_VERSION, "key %d v%d", t[i].key, v);
            cr_assert_eq(kw_builder_size(&b), 0, "key %d v%d: bytes written", t[i].key, v);
            cr_assert(!has_code(t[i].key, v), "key %d v%d", t[i].key, v);
        }
    }
}

/* A buffer too small for the body: NO_SPACE, sticky, nothing past the buffer. */
Test(error_response, out_of_space)
{
    size_t n;
    const kw_api_info *t = kw_api_table(&n);
    for (size_t i = 0; i < n; i++) {
        int16_t v = t[i].max_version;
        uint8_t buf[4];
        kw_builder b;
        kw_builder_init(&b, buf, sizeof buf, NULL, 0);
        size_t mark = kw_build_response_frame_begin(&b);
        kw_build_error_response(&b, t[i].key, v, ERR);
        kw_err e = kw_build_response_frame_end(&b, mark, t[i].key, v, 1);
        cr_assert_eq(e, KW_ERR_NO_SPACE, "key %d v%d: %s", t[i].key, v, kw_err_name(e));
    }
}

/* Two independent roads to the defaults agree for every message and version:
 * the generated kw_*_init plus the generated encoder, and the runtime walker of
 * the descriptions (kw_build_default_message). */
Test(error_response, init_encodes_as_the_default_message)
{
    size_t n;
    const kw_message_info *const *all = kw_messages(&n);
    int checked = 0;
    for (size_t i = 0; i < n; i++) {
        const kw_message_info *m = all[i];
        cr_assert(m->init, "%s: no init", m->name);
        void *view = malloc(m->view_size);
        cr_assert(view);
        for (int16_t v = m->versions.lo; v <= m->versions.hi; v++) {
            memset(view, 0xa5, m->view_size); /* init must write every member that matters */
            m->init(view);
            kw_builder from_init, from_walker;
            kw_builder_init_growable(&from_init, 64);
            kw_builder_init_growable(&from_walker, 64);
            cr_assert_eq(m->encode(&from_init, v, view), KW_OK, "%s v%d: encode", m->name, v);
            cr_assert_eq(kw_build_default_message(&from_walker, m, v, 0), KW_OK, "%s v%d", m->name,
                         v);
            size_t a_len, b_len;
            uint8_t *a = flatten(&from_init, &a_len), *b = flatten(&from_walker, &b_len);
            cr_assert(a_len == b_len && memcmp(a, b, a_len) == 0,
                      "%s v%d: init encodes %zu bytes, the default message is %zu", m->name, v,
                      a_len, b_len);
            free(a);
            free(b);
            kw_builder_free(&from_init);
            kw_builder_free(&from_walker);
            checked++;
        }
        free(view);
    }
    cr_assert_gt(checked, 800, "only %d message versions", checked);
}
