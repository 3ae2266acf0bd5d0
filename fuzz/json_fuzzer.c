/*
 * json: the JSON printer. p[0] is a mode: bit 0 set renders the rest as a
 * records field (kw_json_write_records), else p[1..5) pick any message of
 * kw_messages() and its version (kwf_pick_any) and the rest is that message
 * (kw_json_write_message, checked against the decoder and the walker);
 * bit 1 adds KW_JSON_RECORDS, bit 2 KW_JSON_VERIFY_CRC. Every input is also
 * rendered whole as a JSON string. All output goes through a strict JSON
 * checker: a valid prefix always, a complete document whenever the walk
 * succeeded.
 */
#include <string.h>

#include "fuzz.h"

static void check_complete(const char *what, void (*render)(kw_slice, void *), kw_slice s)
{
    kwf_json j;
    kwf_json_init(&j);
    kwf_no_alloc_begin();
    render(s, &j);
    kwf_no_alloc_end();
    if (!kwf_json_ok_so_far(&j))
        kwf_fail("%s: invalid JSON at output byte %zu", what, j.fail_at);
    if (!kwf_json_complete(&j))
        kwf_fail("%s: incomplete JSON (depth %zu)", what, j.depth);
}

static unsigned records_flags;

static void render_records(kw_slice s, void *ctx)
{
    kw_json_write_records(s, 1, records_flags, kwf_json_feed, ctx);
}

static void render_string(kw_slice s, void *ctx) { kw_json_write_string(s, kwf_json_feed, ctx); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > KWF_MAX_INPUT)
        return 0;
    kw_slice whole = {data, size};
    check_complete("kw_json_write_string", render_string, whole);

    unsigned flags = (data[0] & 2 ? KW_JSON_RECORDS : 0u) | (data[0] & 4 ? KW_JSON_VERIFY_CRC : 0u);
    if (data[0] & 1) {
        kw_slice records = {data + 1, size - 1};
        records_flags = flags;
        check_complete("kw_json_write_records", render_records, records);
        return 0;
    }
    if (size < 5)
        return 0;
    int16_t version;
    const kw_message_info *m = kwf_pick_any(data + 1, &version);
    kw_reader r;
    kw_reader_init(&r, data + 5, size - 5);
    kw_reader start = r;
    kw_message msg;
    kw_decode_error err;
    memset(&err, 0, sizeof err);
    kwf_no_alloc_begin();
    kw_err code = kw_message_decode(m, &r, version, &msg, &err);
    kwf_no_alloc_end();
    kwf_check_message(m, version, &start, code, &err, flags);
    return 0;
}
