/*
 * One request frame: the header read in place, the version checked, the
 * body decoded with the request's kw_message_info, the handler run on it
 * and on a response view at its defaults, the response encoded with the
 * response's info, and the response header and size written in front of
 * it (back to front, so everything is known by then).
 *
 * What is answered how:
 *   ApiVersions at a version the broker does not know: error 35 in a v0
 *   body listing ApiVersions' own range (KIP-511), response header v0.
 *   An API the broker does not serve, at a valid version: that API's
 *   response with every field at its default and every top-level
 *   error_code set to UNSUPPORTED_VERSION.
 *   A body that does not decode: the same default response with the error
 *   kwire maps the decode error to (CORRUPT_MESSAGE, INVALID_REQUEST), when
 *   the response has a top-level error_code; otherwise the connection is
 *   closed, as Kafka closes it on a request it cannot parse.
 *   An unknown API key, a version outside the valid range (other than
 *   ApiVersions) or a header that does not decode: no response layout
 *   exists for them, so the connection is closed.
 */
#include "dispatch.h"
#include "topics.h"
#include "util.h"

typedef bk_result (*handler_fn)(bk_req *req, const void *rq, void *resp);

/* Each handler behind an untyped entry: the only place views lose their types. */
#define HANDLER_ENTRY(key, max, name)                                                 \
    static bk_result name##_entry(bk_req *req, const void *rq, void *resp)            \
    {                                                                                 \
        return bk_handle_##name(req, (const kw_##name##_request *)rq,                 \
                                (kw_##name##_response *)resp);                        \
    }
BK_HANDLERS(HANDLER_ENTRY)

typedef struct handler {
    int16_t key;
    int16_t max_version;
    handler_fn fn;
} handler;

#define HANDLER_ROW(key, max, name) {key, max, name##_entry},
static const handler handlers[] = {BK_HANDLERS(HANDLER_ROW)};

static const handler *handler_for(int16_t key)
{
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (handlers[i].key == key)
            return &handlers[i];
    return NULL;
}

/* The newest version the broker serves of a key: its handler's, within the table. */
static int16_t served_max_version(int16_t key)
{
    const kw_api_info *info = kw_api_lookup(key);
    if (!info)
        return -1;
    const handler *h = handler_for(key);
    return h && h->max_version < info->max_version ? h->max_version : info->max_version;
}

/* Without message conversion the versions older than KIP-98's record batches
 * go, as in Kafka 4: Produce v0-v2 (legacy message sets) and Fetch v0-v3. */
static int16_t api_min_version(const bk_broker *br, int16_t key)
{
    const kw_api_info *info = kw_api_lookup(key);
    if (!info)
        return -1;
    if (!br->cfg.down_conversion && key == KW_API_PRODUCE)
        return 3;
    if (!br->cfg.down_conversion && key == KW_API_FETCH)
        return 4;
    return info->min_version;
}

static bool version_served(const bk_broker *br, int16_t key, int16_t version)
{
    return kw_api_version_supported(key, version) && version <= served_max_version(key) &&
           version >= api_min_version(br, key);
}

bool bk_api_served(int16_t api_key) { return handler_for(api_key) != NULL; }

int16_t bk_api_max_version(int16_t api_key) { return served_max_version(api_key); }

/* tests/test_broker_api.c builds its default requests with this. */
bool bk_build_default_message(kw_builder *b, const kw_message_info *m, int16_t version,
                              int16_t error)
{
    kw_build_default_message(b, m, version, error);
    return kw_message_has_error_code(m, version);
}

/* ---- ApiVersions ------------------------------------------------------------------------------ */

static bool software_name_valid(kw_slice s)
{
    if (!s.ptr || s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && !((c == '-' || c == '.') && i > 0 && i + 1 < s.len))
            return false;
    }
    return true;
}

bk_result bk_handle_api_versions(bk_req *req, const kw_api_versions_request *rq,
                                 kw_api_versions_response *resp)
{
    if (req->version >= 3 && (!software_name_valid(rq->client_software_name) ||
                              !software_name_valid(rq->client_software_version)))
        resp->error_code = KW_KAFKA_INVALID_REQUEST;
    size_t n = sizeof handlers / sizeof handlers[0];
    kw_api_versions_response_api_version *keys = BK_ALLOC(req, kw_api_versions_response_api_version, n);
    if (!keys)
        return BK_CLOSE;
    /* in key order, as Kafka lists them */
    size_t k = 0;
    for (int16_t key = 0; key < KW_API_KEY_COUNT; key++) {
        if (!handler_for(key))
            continue;
        keys[k].api_key = key;
        keys[k].min_version = api_min_version(req->br, key);
        keys[k].max_version = served_max_version(key);
        k++;
    }
    resp->api_keys = kw_array_of(keys, (int32_t)k);
    return BK_RESPOND;
}

/* KIP-511: an ApiVersions version the broker does not know gets a v0 body. */
static void api_versions_unsupported(bk_req *req)
{
    kw_api_versions_response resp;
    kw_api_versions_response_init(&resp);
    resp.error_code = KW_KAFKA_UNSUPPORTED_VERSION;
    const kw_api_info *info = kw_api_lookup(KW_API_API_VERSIONS);
    kw_api_versions_response_api_version key = {KW_API_API_VERSIONS, info->min_version,
                                                served_max_version(KW_API_API_VERSIONS),
                                                {0, {NULL, 0}}};
    resp.api_keys = kw_array_of(&key, 1);
    kw_api_versions_response_encode(req->out, 0, &resp);
}

/* ---- dispatch -------------------------------------------------------------------------------- */

/* A body that did not decode: the default response with the error kwire maps the decode error
 * to, where the response has a top-level error_code. */
static bk_result reply_decode_error(bk_req *req, const kw_decode_error *err)
{
    char text[512];
    kw_decode_error_format(err, text, sizeof text);
    bk_log_msg("%s: %s", req->conn ? req->conn->peer : "?", text);
    req->br->stats.decode_errors++;
    int16_t code = kw_err_kafka_code(err->code);
    if (code == -1)
        code = KW_KAFKA_INVALID_REQUEST;
    if (!kw_message_has_error_code(kw_message_for_api(req->hdr.api_key, true), req->version))
        return BK_CLOSE;
    kw_build_error_response(req->out, req->hdr.api_key, req->version, code);
    return BK_RESPOND;
}

/* Decodes the body, runs the handler on it and a response at its defaults, encodes what it
 * filled in. A parked request comes back here when it is resumed and is decoded again. */
static bk_result run_handler(bk_req *req, const handler *h)
{
    const kw_message_info *request = kw_message_for_api(h->key, false);
    const kw_message_info *response = kw_message_for_api(h->key, true);
    kw_message rq, resp;
    kw_decode_error err;
    if (request->decode(&req->body, req->version, &rq.u, &err) != KW_OK)
        return reply_decode_error(req, &err);
    response->init(&resp.u);
    bk_result res = h->fn(req, &rq.u, &resp.u);
    if (res == BK_RESPOND)
        response->encode(req->out, req->version, &resp.u); /* an error sticks in req->out */
    return res;
}

bk_result bk_dispatch(bk_req *req)
{
    bk_broker *br = req->br;
    size_t frame = kw_build_response_frame_begin(req->out);
    kw_reader r;
    kw_reader_init(&r, req->frame, req->frame_len);
    kw_error herr;
    if (kw_request_header_parse(&r, &req->hdr, &herr) != KW_OK) {
        /* an ApiVersions of a version the broker does not know may carry a header it
         * cannot read either: its correlation id is enough for the KIP-511 answer */
        if (req->hdr.api_key == KW_API_API_VERSIONS && req->frame_len >= 8 &&
            !version_served(req->br, KW_API_API_VERSIONS, req->hdr.api_version)) {
            req->hdr.correlation_id = (int32_t)kw_load_be32(req->frame + 4);
            api_versions_unsupported(req);
            return kw_build_response_frame_end(req->out, frame, KW_API_API_VERSIONS,
                                               req->hdr.api_version,
                                               req->hdr.correlation_id) == KW_OK
                       ? BK_RESPOND
                       : BK_CLOSE;
        }
        if (!req->resumed)
            bk_log_msg("%s: request header: %s at byte %zu (api key %d), closing",
                       req->conn ? req->conn->peer : "?", kw_err_name(herr.code), herr.offset,
                       (int)req->hdr.api_key);
        br->stats.decode_errors++;
        return BK_CLOSE;
    }
    req->version = req->hdr.api_version;
    req->body = r;
    int16_t key = req->hdr.api_key;
    bk_result res;
    if (!version_served(req->br, key, req->version)) {
        if (key != KW_API_API_VERSIONS) {
            bk_log_msg("%s: %s v%d is outside the valid range, closing",
                       req->conn ? req->conn->peer : "?", kw_api_lookup(key)->name,
                       (int)req->version);
            return BK_CLOSE;
        }
        api_versions_unsupported(req); /* ApiVersions' response header is v0 at any version */
        res = BK_RESPOND;
    } else {
        const handler *h = handler_for(key);
        if (h) {
            res = run_handler(req, h);
        } else {
            kw_build_error_response(req->out, key, req->version, KW_KAFKA_UNSUPPORTED_VERSION);
            res = BK_RESPOND;
        }
    }
    if (res != BK_RESPOND)
        return res;
    if (kw_build_response_frame_end(req->out, frame, key, req->version,
                                    req->hdr.correlation_id) != KW_OK) {
        bk_log_msg("%s: %s v%d response could not be built: %s", req->conn ? req->conn->peer : "?",
                   kw_api_lookup(key)->name, (int)req->version,
                   kw_err_name(kw_builder_error(req->out)));
        return BK_CLOSE;
    }
    return BK_RESPOND;
}
