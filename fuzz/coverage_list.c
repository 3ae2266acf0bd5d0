/*
 * coverage_list: shows that every (API key, version) of kw_api_table, and
 * every version of every other message, is reachable by a fuzz target.
 * For each pair it builds the selector bytes a target reads (a request
 * header for request and frame_header, the 4-byte key/version prefix for
 * response, the message index and version for json and metadata_records;
 * roundtrip reads json's selector, so json's pairs are roundtrip's too),
 * runs them through the target's own selection code, and checks that it
 * picks that pair and that the decoder it reaches is the message's own (an
 * empty body must fail inside the message, not with UNKNOWN_API_KEY or
 * UNSUPPORTED_VERSION). Prints one line per API key and a summary; exits
 * 1 when any pair is unreachable.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"

static size_t failures;

static void miss(const char *target, const char *name, int v, const char *why)
{
    printf("UNREACHABLE by %s: %s v%d (%s)\n", target, name, v, why);
    failures++;
}

/* An empty body must reach the message's decoder. */
static bool reaches_decoder(kw_err code)
{
    return code != KW_ERR_UNKNOWN_API_KEY && code != KW_ERR_UNSUPPORTED_VERSION;
}

static bool request_reachable(int16_t key, int16_t v)
{
    uint8_t b[16];
    size_t n = 0;
    int hv = kw_request_header_version(key, v);
    b[n++] = (uint8_t)((uint16_t)key >> 8);
    b[n++] = (uint8_t)key;
    b[n++] = (uint8_t)((uint16_t)v >> 8);
    b[n++] = (uint8_t)v;
    memset(b + n, 0, 4);
    n += 4;
    if (hv >= 1) {
        b[n++] = 0xff; /* null client id */
        b[n++] = 0xff;
    }
    if (hv >= 2)
        b[n++] = 0; /* no tagged fields */
    kw_reader r;
    kw_reader_init(&r, b, n);
    kw_request_header h;
    if (kw_request_header_parse(&r, &h, NULL) != KW_OK || h.api_key != key || h.api_version != v)
        return false;
    kw_message msg;
    return reaches_decoder(kw_request_decode(&r, h.api_key, h.api_version, &msg, NULL));
}

static bool response_reachable(int16_t key, int16_t v)
{
    uint8_t sel[4] = {(uint8_t)((uint16_t)key >> 8), (uint8_t)key, (uint8_t)((uint16_t)v >> 8),
                      (uint8_t)v};
    int16_t k2, v2;
    kwf_pick_api(sel, &k2, &v2);
    if (k2 != key || v2 != v)
        return false;
    kw_reader r;
    kw_reader_init(&r, NULL, 0);
    kw_message msg;
    return reaches_decoder(kw_response_decode(&r, k2, v2, &msg, NULL));
}

static size_t index_of(const kw_message_info *const *list, size_t n, const kw_message_info *m)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == m)
            return i;
    return n;
}

static bool json_reachable(const kw_message_info *m, int16_t v)
{
    size_t n;
    const kw_message_info *const *all = kw_messages(&n);
    size_t i = index_of(all, n, m);
    if (i == n)
        return false;
    uint8_t sel[4] = {(uint8_t)(i >> 8), (uint8_t)i, (uint8_t)((uint16_t)v >> 8), (uint8_t)v};
    int16_t v2;
    if (kwf_pick_any(sel, &v2) != m || v2 != v)
        return false;
    kw_reader r;
    kw_reader_init(&r, NULL, 0);
    kw_message msg;
    return reaches_decoder(kw_message_decode(m, &r, v, &msg, NULL));
}

static bool metadata_reachable(const kw_message_info *m, int16_t v)
{
    size_t n;
    const kw_message_info *const *list = kwf_metadata_messages(&n);
    size_t i = index_of(list, n, m);
    if (i == n || i > 255 || v < 0 || v > 255)
        return false;
    uint8_t sel[2] = {(uint8_t)i, (uint8_t)v};
    int16_t v2;
    if (kwf_pick_metadata(sel, &v2) != m || v2 != v)
        return false;
    kw_reader r;
    kw_reader_init(&r, NULL, 0);
    kw_message msg;
    return reaches_decoder(kw_message_decode(m, &r, v, &msg, NULL));
}

int main(void)
{
    size_t n, pairs = 0;
    const kw_api_info *apis = kw_api_table(&n);
    printf("key name                              versions  reachable by\n");
    for (size_t i = 0; i < n; i++) {
        const kw_api_info *a = &apis[i];
        const kw_message_info *req = kw_message_for_api(a->key, false);
        const kw_message_info *rsp = kw_message_for_api(a->key, true);
        if (!req || !rsp) {
            miss("any", a->name, a->min_version, "no request or response message");
            continue;
        }
        size_t before = failures;
        for (int16_t v = a->min_version; v <= a->max_version; v++) {
            pairs++;
            if (!request_reachable(a->key, v))
                miss("request, frame_header", req->name, v, "header or decoder");
            if (!response_reachable(a->key, v))
                miss("response", rsp->name, v, "selector or decoder");
            if (!json_reachable(req, v) || !json_reachable(rsp, v))
                miss("json, roundtrip", a->name, v, "selector or decoder");
        }
        /* versions a message knows beyond the table are out of the response target's reach */
        if (req->versions.lo < a->min_version || req->versions.hi > a->max_version ||
            rsp->versions.lo < a->min_version || rsp->versions.hi > a->max_version)
            miss("response", a->name, rsp->versions.hi, "message versions exceed kw_api_table");
        printf("%3d %-34s %2d..%-2d    %s\n", a->key, a->name, a->min_version, a->max_version,
               failures == before ? "request frame_header response json roundtrip" : "MISSING");
    }

    size_t meta_n, meta_pairs = 0;
    const kw_message_info *const *meta = kwf_metadata_messages(&meta_n);
    for (size_t i = 0; i < meta_n; i++) {
        const kw_message_info *m = meta[i];
        size_t before = failures;
        for (int16_t v = m->versions.lo; v <= m->versions.hi; v++) {
            meta_pairs++;
            if (!metadata_reachable(m, v))
                miss("metadata_records", m->name, v, "selector or decoder");
            if (!json_reachable(m, v))
                miss("json, roundtrip", m->name, v, "selector or decoder");
        }
        printf("    %-38s %2d..%-2d    %s\n", m->name, m->versions.lo, m->versions.hi,
               failures == before ? "metadata_records json roundtrip" : "MISSING");
    }

    /* every message kwire describes, at every version, through json */
    size_t all_n, all_pairs = 0;
    const kw_message_info *const *all = kw_messages(&all_n);
    for (size_t i = 0; i < all_n; i++)
        for (int16_t v = all[i]->versions.lo; v <= all[i]->versions.hi; v++) {
            all_pairs++;
            if (!json_reachable(all[i], v))
                miss("json, roundtrip", all[i]->name, v, "selector or decoder");
        }

    printf("coverage: %zu API keys, %zu (key, version) pairs reachable by request, frame_header, "
           "response, json and roundtrip; %zu metadata/data/header messages, %zu (message, "
           "version) pairs reachable by metadata_records; %zu messages, %zu (message, version) "
           "pairs by json and roundtrip; %zu unreachable\n",
           n, pairs, meta_n, meta_pairs, all_n, all_pairs, failures);
    return failures ? 1 : 0;
}
