/* Request and response headers: golden vectors, each also fed as every
 * prefix against a guard page, and the error-path details. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "guard.h"
#include "kwire/api.h"
#include "kwire/header.h"

enum { PARSE, READ_REQ, READ_RESP };

/* Prefixes from..to-1 bytes long fail with code at offset, naming field. */
typedef struct span {
    size_t from, to;
    kw_err code;
    size_t offset;
    const char *field;
} span;

typedef struct expect_tag {
    uint32_t tag;
    const char *hex;
} expect_tag;

typedef struct vector {
    const char *name;
    int kind; /* PARSE: kw_request_header_parse; READ_*: explicit header version */
    int hv;   /* header version read (PARSE) or passed (READ_*); -1: unknown key */
    const char *hex;
    span fail[8]; /* every strict prefix, in order; ends at to == 0 */
    /* the whole vector */
    kw_err code;
    size_t offset;
    const char *field;
    int16_t key, version;
    int32_t corr;
    const char *client; /* expected client_id bytes; NULL for a null client_id */
    uint32_t tag_count;
    expect_tag tags[2];
} vector;

#define T KW_ERR_TRUNCATED
/* The first eight bytes of every request header. */
#define REQ_FIXED                                                                          \
    {0, 2, T, 0, "api_key"}, {2, 4, T, 2, "api_version"}, {4, 8, T, 4, "correlation_id"}

static const vector vectors[] = {
    {.name = "request v0: ControlledShutdown v0",
     .kind = PARSE, .hv = 0,
     .hex = "00 07 00 00 00 00 00 2a",
     .fail = {REQ_FIXED},
     .key = 7, .version = 0, .corr = 42},
    {.name = "request v1: null client_id",
     .kind = PARSE, .hv = 1,
     .hex = "00 00 00 03 00 00 00 2a ff ff",
     .fail = {REQ_FIXED, {8, 10, T, 8, "client_id"}},
     .key = 0, .version = 3, .corr = 42},
    {.name = "request v1: empty client_id",
     .kind = PARSE, .hv = 1,
     .hex = "00 03 00 01 00 00 00 2b 00 00",
     .fail = {REQ_FIXED, {8, 10, T, 8, "client_id"}},
     .key = 3, .version = 1, .corr = 43, .client = ""},
    {.name = "request v1: client_id \"kwire!\"",
     .kind = PARSE, .hv = 1,
     .hex = "00 00 00 08 7f ff ff ff 00 06 6b 77 69 72 65 21",
     .fail = {REQ_FIXED, {8, 10, T, 8, "client_id"}, {10, 16, T, 10, "client_id"}},
     .key = 0, .version = 8, .corr = INT32_MAX, .client = "kwire!"},
    {.name = "request v2: client_id \"abc\", no tagged fields",
     .kind = PARSE, .hv = 2,
     .hex = "00 01 00 0c ff ff ff ff 00 03 61 62 63 00",
     .fail = {REQ_FIXED, {8, 10, T, 8, "client_id"}, {10, 13, T, 10, "client_id"},
              {13, 14, T, 13, "tagged_fields"}},
     .key = 1, .version = 12, .corr = -1, .client = "abc"},
    {.name = "request v2: empty client_id",
     .kind = PARSE, .hv = 2,
     .hex = "00 4b 00 00 00 00 00 09 00 00 00",
     .fail = {REQ_FIXED, {8, 10, T, 8, "client_id"}, {10, 11, T, 10, "tagged_fields"}},
     .key = 75, .version = 0, .corr = 9, .client = ""},
    /*
     * Two tagged fields: count at 10, tag 0 (size 1) at 11, tag 5 (size 2)
     * at 14. A prefix that cuts the section right after the count fails
     * COUNT_TOO_LARGE: the cursor checks the count against the bytes left
     * (two per field at least) before it walks the fields.
     */
    {.name = "request v2: null client_id, two tagged fields",
     .kind = PARSE, .hv = 2,
     .hex = "00 12 00 03 00 00 00 01 ff ff 02 00 01 ff 05 02 01 02",
     .fail = {REQ_FIXED, {8, 10, T, 8, "client_id"}, {10, 11, T, 10, "tagged_fields"},
              {11, 15, KW_ERR_COUNT_TOO_LARGE, 10, "tagged_fields"},
              {15, 16, T, 15, "tagged_fields"}, {16, 18, T, 16, "tagged_fields"}},
     .key = 18, .version = 3, .corr = 1,
     .tag_count = 2, .tags = {{0, "ff"}, {5, "01 02"}}},
    {.name = "request v2: Produce v14, above the valid range, parses by the threshold",
     .kind = PARSE, .hv = 2,
     .hex = "00 00 00 0e 00 00 00 05 ff ff 00",
     .fail = {REQ_FIXED, {8, 10, T, 8, "client_id"}, {10, 11, T, 10, "tagged_fields"}},
     .key = 0, .version = 14, .corr = 5},
    {.name = "request v2: tagged fields out of order",
     .kind = PARSE, .hv = 2,
     .hex = "00 01 00 0d 00 00 00 03 ff ff 02 05 00 03 00",
     .fail = {REQ_FIXED, {8, 10, T, 8, "client_id"}, {10, 11, T, 10, "tagged_fields"},
              {11, 15, KW_ERR_COUNT_TOO_LARGE, 10, "tagged_fields"}},
     .code = KW_ERR_TAG_ORDER, .offset = 13, .field = "tagged_fields",
     .key = 1, .version = 13, .corr = 3},
    {.name = "request: unknown api_key 95",
     .kind = PARSE, .hv = -1,
     .hex = "00 5f 00 01 00 00 00 63",
     .fail = {{0, 2, T, 0, "api_key"}, {2, 8, KW_ERR_UNKNOWN_API_KEY, 0, "api_key"}},
     .code = KW_ERR_UNKNOWN_API_KEY, .offset = 0, .field = "api_key",
     .key = 95, .version = 1, .corr = 99},
    {.name = "request: negative api_key",
     .kind = PARSE, .hv = -1,
     .hex = "ff ff 00 00 00 00 00 07 ff ff",
     .fail = {{0, 2, T, 0, "api_key"}, {2, 10, KW_ERR_UNKNOWN_API_KEY, 0, "api_key"}},
     .code = KW_ERR_UNKNOWN_API_KEY, .offset = 0, .field = "api_key",
     .key = -1, .version = 0, .corr = 7},
    {.name = "request v1: client_id length -2",
     .kind = PARSE, .hv = 1,
     .hex = "00 00 00 03 00 00 00 2a ff fe 41",
     .fail = {REQ_FIXED, {8, 10, T, 8, "client_id"},
              {10, 11, KW_ERR_NEGATIVE_LENGTH, 8, "client_id"}},
     .code = KW_ERR_NEGATIVE_LENGTH, .offset = 8, .field = "client_id",
     .key = 0, .version = 3, .corr = 42},
    {.name = "request v2: client_id length -32768",
     .kind = PARSE, .hv = 2,
     .hex = "00 01 00 0c 00 00 00 2a 80 00 00",
     .fail = {REQ_FIXED, {8, 10, T, 8, "client_id"},
              {10, 11, KW_ERR_NEGATIVE_LENGTH, 8, "client_id"}},
     .code = KW_ERR_NEGATIVE_LENGTH, .offset = 8, .field = "client_id",
     .key = 1, .version = 12, .corr = 42},
    {.name = "request v2 read explicitly: the key is not looked up",
     .kind = READ_REQ, .hv = 2,
     .hex = "00 5f 00 00 00 00 00 01 ff ff 00",
     .fail = {REQ_FIXED, {8, 10, T, 8, "client_id"}, {10, 11, T, 10, "tagged_fields"}},
     .key = 95, .version = 0, .corr = 1},
    {.name = "request v0 read explicitly: a Produce header without client_id",
     .kind = READ_REQ, .hv = 0,
     .hex = "00 00 00 09 00 00 01 00",
     .fail = {REQ_FIXED},
     .key = 0, .version = 9, .corr = 256},
    {.name = "response v0",
     .kind = READ_RESP, .hv = 0,
     .hex = "00 00 00 2a",
     .fail = {{0, 4, T, 0, "correlation_id"}},
     .corr = 42},
    {.name = "response v1: no tagged fields",
     .kind = READ_RESP, .hv = 1,
     .hex = "ff ff ff fe 00",
     .fail = {{0, 4, T, 0, "correlation_id"}, {4, 5, T, 4, "tagged_fields"}},
     .corr = -2},
    {.name = "response v1: one tagged field",
     .kind = READ_RESP, .hv = 1,
     .hex = "00 00 00 07 01 03 02 aa bb",
     .fail = {{0, 4, T, 0, "correlation_id"}, {4, 5, T, 4, "tagged_fields"},
              {5, 7, KW_ERR_COUNT_TOO_LARGE, 4, "tagged_fields"}, {7, 9, T, 7, "tagged_fields"}},
     .corr = 7, .tag_count = 1, .tags = {{3, "aa bb"}}},
};

#undef T
#undef REQ_FIXED

#define VECTOR_COUNT (sizeof vectors / sizeof vectors[0])

/* What one decode call produced. */
typedef struct outcome {
    kw_err code;
    kw_error err;
    kw_reader r;
    kw_request_header req;
    kw_response_header resp;
} outcome;

static const char *const sentinel = "untouched";

static outcome decode(int kind, int hv, const uint8_t *buf, size_t n)
{
    outcome o;
    memset(&o, 0, sizeof o);
    o.err.code = KW_ERR_COUNT_;
    o.err.offset = 12345;
    o.err.field = sentinel;
    kw_reader_init(&o.r, buf, n);
    if (kind == PARSE)
        o.code = kw_request_header_parse(&o.r, &o.req, &o.err);
    else if (kind == READ_REQ)
        o.code = kw_request_header_read(&o.r, hv, &o.req, &o.err);
    else
        o.code = kw_response_header_read(&o.r, hv, &o.resp, &o.err);
    return o;
}

static bool same_field(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static const char *show(const char *field) { return field ? field : "(null)"; }

static void check_failure(const char *name, const char *how, size_t n, const outcome *o,
                          kw_err code, size_t offset, const char *field)
{
    cr_assert_eq(o->code, code, "%s (%s), %zu bytes: code %s, want %s at offset %zu (%s)", name,
                 how, n, kw_err_name(o->code), kw_err_name(code), offset, show(field));
    cr_assert_eq(o->err.code, code, "%s (%s), %zu bytes: err.code %s, want %s", name, how, n,
                 kw_err_name(o->err.code), kw_err_name(code));
    cr_assert_eq(o->err.offset, offset, "%s (%s), %zu bytes: %s at offset %zu, want %zu", name,
                 how, n, kw_err_name(code), o->err.offset, offset);
    cr_assert_eq(same_field(o->err.field, field), true,
                 "%s (%s), %zu bytes: %s at offset %zu names field %s, want %s", name, how, n,
                 kw_err_name(code), offset, show(o->err.field), show(field));
    /* The reader latched the same error. */
    cr_assert_eq(o->r.err, code, "%s (%s), %zu bytes: reader latched %s", name, how, n,
                 kw_err_name(o->r.err));
    cr_assert_eq(o->r.err_offset, offset, "%s (%s), %zu bytes: reader offset %zu, want %zu", name,
                 how, n, o->r.err_offset, offset);
}

static void check_tags(const vector *v, const char *how, kw_tagged_fields tf)
{
    cr_assert_eq(tf.count, v->tag_count, "%s (%s): tagged_fields count %u, want %u", v->name, how,
                 tf.count, v->tag_count);
    kw_tag_iter it;
    kw_tag_iter_init(&it, tf);
    kw_tagged_field f;
    for (uint32_t i = 0; i < v->tag_count; i++) {
        cr_assert_eq(kw_tag_iter_next(&it, &f), true, "%s (%s): tagged field %u missing", v->name,
                     how, i);
        uint8_t want[16];
        size_t want_len = kwt_hex(v->tags[i].hex, want, sizeof want);
        cr_assert_eq(f.tag, v->tags[i].tag, "%s (%s): tagged field %u has tag %u, want %u",
                     v->name, how, i, f.tag, v->tags[i].tag);
        cr_assert_eq(f.data.len, want_len, "%s (%s): tag %u size %zu, want %zu", v->name, how,
                     f.tag, f.data.len, want_len);
        cr_assert_eq(memcmp(f.data.ptr, want, want_len), 0, "%s (%s): tag %u data differs",
                     v->name, how, f.tag);
    }
    cr_assert_eq(kw_tag_iter_next(&it, &f), false, "%s (%s): more than %u tagged fields",
                 v->name, how, v->tag_count);
}

static void check_success(const vector *v, const char *how, size_t n, const outcome *o)
{
    cr_assert_eq(o->code, KW_OK, "%s (%s), %zu bytes: failed with %s at offset %zu (%s)", v->name,
                 how, n, kw_err_name(o->code), o->err.offset, show(o->err.field));
    cr_assert_eq(o->err.field, sentinel, "%s (%s): err written on success", v->name, how);
    cr_assert_eq(kw_reader_offset(&o->r), n, "%s (%s): header ends at offset %zu, want %zu",
                 v->name, how, kw_reader_offset(&o->r), n);
    if (v->kind == READ_RESP) {
        cr_assert_eq(o->resp.header_version, v->hv, "%s: header_version %d", v->name,
                     o->resp.header_version);
        cr_assert_eq(o->resp.correlation_id, v->corr, "%s: correlation_id at offset 0 is %d",
                     v->name, o->resp.correlation_id);
        check_tags(v, how, o->resp.tagged);
        return;
    }
    const kw_request_header *h = &o->req;
    cr_assert_eq(h->header_version, v->hv, "%s (%s): header_version %d, want %d", v->name, how,
                 h->header_version, v->hv);
    cr_assert_eq(h->api_key, v->key, "%s (%s): api_key at offset 0 is %d, want %d", v->name, how,
                 h->api_key, v->key);
    cr_assert_eq(h->api_version, v->version, "%s (%s): api_version at offset 2 is %d, want %d",
                 v->name, how, h->api_version, v->version);
    cr_assert_eq(h->correlation_id, v->corr, "%s (%s): correlation_id at offset 4 is %d, want %d",
                 v->name, how, h->correlation_id, v->corr);
    if (v->client == NULL) {
        cr_assert_eq(kw_slice_is_null(h->client_id), 1, "%s (%s): client_id at offset 8 not null",
                     v->name, how);
    } else {
        size_t want = strlen(v->client);
        cr_assert_eq(kw_slice_is_null(h->client_id), 0, "%s (%s): client_id at offset 8 is null",
                     v->name, how);
        cr_assert_eq(h->client_id.len, want, "%s (%s): client_id length %zu, want %zu", v->name,
                     how, h->client_id.len, want);
        cr_assert_eq(memcmp(h->client_id.ptr, v->client, want), 0,
                     "%s (%s): client_id at offset 10 differs", v->name, how);
    }
    check_tags(v, how, h->tagged);
}

static void check_prefix(const vector *v, int kind, const char *how, const uint8_t *buf, size_t n,
                         size_t full)
{
    outcome o = decode(kind, v->hv, buf, n);
    /* Whatever happened, the reader stayed inside the bytes it was given. */
    cr_assert_eq(o.r.pos >= buf && o.r.pos <= buf + n, true,
                 "%s (%s), %zu bytes: reader left its window", v->name, how, n);
    if (n == full) {
        if (v->code == KW_OK)
            check_success(v, how, n, &o);
        else
            check_failure(v->name, how, n, &o, v->code, v->offset, v->field);
        if (v->code == KW_ERR_UNKNOWN_API_KEY) {
            /* What sits at fixed places is still handed out. */
            cr_assert_eq(o.req.header_version, -1, "%s: header_version %d", v->name,
                         o.req.header_version);
            cr_assert_eq(o.req.api_key, v->key, "%s: api_key at offset 0 is %d", v->name,
                         o.req.api_key);
            cr_assert_eq(o.req.api_version, v->version, "%s: api_version at offset 2 is %d",
                         v->name, o.req.api_version);
            cr_assert_eq(o.req.correlation_id, v->corr, "%s: correlation_id at offset 4 is %d",
                         v->name, o.req.correlation_id);
        }
        return;
    }
    const span *s = NULL;
    for (size_t i = 0; i < sizeof v->fail / sizeof v->fail[0] && v->fail[i].to; i++)
        if (n >= v->fail[i].from && n < v->fail[i].to)
            s = &v->fail[i];
    cr_assert_neq(s, NULL, "%s: the vector says nothing about the %zu-byte prefix", v->name, n);
    check_failure(v->name, how, n, &o, s->code, s->offset, s->field);
}

typedef struct prefix_ctx {
    const vector *v;
    int kind;
    const char *how;
    size_t full;
} prefix_ctx;

static void on_prefix(const uint8_t *buf, size_t n, void *arg)
{
    const prefix_ctx *c = arg;
    check_prefix(c->v, c->kind, c->how, buf, n, c->full);
}

static void run_vector(const vector *v)
{
    uint8_t bytes[64];
    size_t len = kwt_hex(v->hex, bytes, sizeof bytes);
    prefix_ctx c = {v, v->kind, v->kind == PARSE ? "parse" : "read", len};
    kwt_each_prefix(bytes, len, on_prefix, &c);
    if (v->kind == PARSE && v->hv >= 0) {
        /* Reading with the version parse chose gives the same results. */
        c.kind = READ_REQ;
        c.how = "read";
        kwt_each_prefix(bytes, len, on_prefix, &c);
    }
}

ParameterizedTestParameters(header, vectors)
{
    static size_t index[VECTOR_COUNT];
    for (size_t i = 0; i < VECTOR_COUNT; i++)
        index[i] = i;
    return cr_make_param_array(size_t, index, VECTOR_COUNT);
}

ParameterizedTest(size_t *i, header, vectors)
{
    run_vector(&vectors[*i]);
}

Test(header, parse_chooses_the_table_version)
{
    /* The vectors' header versions agree with the API table. */
    for (size_t i = 0; i < VECTOR_COUNT; i++) {
        const vector *v = &vectors[i];
        if (v->kind != PARSE || v->hv < 0)
            continue;
        cr_assert_eq(kw_request_header_version(v->key, v->version), v->hv,
                     "%s: table says header v%d", v->name,
                     kw_request_header_version(v->key, v->version));
    }
    cr_assert_eq(kw_api_version_supported(KW_API_PRODUCE, 14), false,
                 "Produce v14 parses but is not supported");
}

Test(header, bad_header_version_argument)
{
    uint8_t bytes[16];
    size_t len = kwt_hex("00 00 00 2a 00", bytes, sizeof bytes);
    const int bad_req[] = {-1, 3, 100};
    for (size_t i = 0; i < sizeof bad_req / sizeof bad_req[0]; i++) {
        outcome o = decode(READ_REQ, bad_req[i], bytes, len);
        check_failure("request header", "read", len, &o, KW_ERR_UNSUPPORTED_VERSION, 0,
                      "header_version");
        cr_assert_eq(o.req.header_version, -1, "request header v%d: header_version %d",
                     bad_req[i], o.req.header_version);
    }
    const int bad_resp[] = {-1, 2};
    for (size_t i = 0; i < sizeof bad_resp / sizeof bad_resp[0]; i++) {
        outcome o = decode(READ_RESP, bad_resp[i], bytes, len);
        check_failure("response header", "read", len, &o, KW_ERR_UNSUPPORTED_VERSION, 0,
                      "header_version");
        cr_assert_eq(o.resp.header_version, -1, "response header v%d: header_version %d",
                     bad_resp[i], o.resp.header_version);
    }
}

Test(header, offsets_count_from_the_buffer_start)
{
    /* A response header v0, then a request header v1 cut inside client_id. */
    uint8_t bytes[32];
    size_t len = kwt_hex("00 00 00 01  00 00 00 03 00 00 00 02 00 05 61 62", bytes, sizeof bytes);
    kw_reader r;
    kw_reader_init(&r, bytes, len);
    kw_response_header resp;
    kw_error err = {KW_OK, 0, NULL};
    cr_assert_eq(kw_response_header_read(&r, 0, &resp, &err), KW_OK, "response header v0");
    cr_assert_eq(resp.correlation_id, 1, "correlation_id at offset 0 is %d", resp.correlation_id);
    kw_request_header req;
    kw_err code = kw_request_header_parse(&r, &req, &err);
    cr_assert_eq(code, KW_ERR_TRUNCATED, "client_id: code %s", kw_err_name(code));
    cr_assert_eq(err.offset, (size_t)14, "client_id payload: offset %zu, want 14", err.offset);
    cr_assert_eq(same_field(err.field, "client_id"), true, "field %s, want client_id",
                 show(err.field));
}

Test(header, reader_already_failed)
{
    uint8_t bytes[16];
    size_t len = kwt_hex("00 00 00 03 00 00 00 2a ff ff", bytes, sizeof bytes);
    kw_reader r;
    kw_reader_init(&r, bytes, len);
    kw_reader_fail_at(&r, KW_ERR_BAD_CRC, 3);
    kw_request_header req;
    kw_error err = {KW_OK, 0, NULL};
    kw_err code = kw_request_header_parse(&r, &req, &err);
    cr_assert_eq(code, KW_ERR_BAD_CRC, "earlier error kept: %s", kw_err_name(code));
    cr_assert_eq(err.offset, (size_t)3, "earlier error offset %zu, want 3", err.offset);
    cr_assert_eq(err.field, NULL, "earlier error is not ours to name: %s", show(err.field));
    kw_response_header resp;
    err.field = sentinel;
    code = kw_response_header_read(&r, 1, &resp, &err);
    cr_assert_eq(code, KW_ERR_BAD_CRC, "response: earlier error kept: %s", kw_err_name(code));
    cr_assert_eq(err.field, NULL, "response: earlier error named %s", show(err.field));
    code = kw_request_header_read(&r, 7, &req, &err);
    cr_assert_eq(code, KW_ERR_BAD_CRC, "bad version argument: earlier error kept: %s",
                 kw_err_name(code));
    cr_assert_eq(err.field, NULL, "bad version argument: earlier error named %s",
                 show(err.field));
}

Test(header, null_err_is_allowed)
{
    uint8_t bytes[16];
    size_t len = kwt_hex("00 00 00 03 00 00 00", bytes, sizeof bytes);
    kw_reader r;
    kw_reader_init(&r, bytes, len);
    kw_request_header req;
    kw_err code = kw_request_header_parse(&r, &req, NULL);
    cr_assert_eq(code, KW_ERR_TRUNCATED, "correlation_id: code %s", kw_err_name(code));
    cr_assert_eq(r.err_offset, (size_t)4, "correlation_id: offset %zu, want 4", r.err_offset);
    kw_reader_init(&r, bytes, 3);
    code = kw_request_header_parse(&r, &req, NULL);
    cr_assert_eq(code, KW_ERR_TRUNCATED, "api_version: code %s", kw_err_name(code));
    cr_assert_eq(r.err_offset, (size_t)2, "api_version: offset %zu, want 2", r.err_offset);
}
