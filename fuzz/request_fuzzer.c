/*
 * request: the input is a request frame body (the bytes after the size
 * prefix): the request header, then the message its key and version name.
 * The typed decoder, the generic walker and the JSON printer must agree on
 * it; Produce requests are also walked through their typed iterators and
 * every records field through the records checks.
 */
#include <string.h>

#include "fuzz.h"

/* The typed iterators over a validated Produce request must never fail. */
static void walk_produce(const kw_produce_request *p, const uint8_t *base)
{
    kw_array_iter topics;
    kw_produce_request_topic_produce_data t;
    int32_t nt = 0;
    kw_array_iter_init(&topics, &p->topic_data);
    while (kw_produce_request_topic_produce_data_next(&topics, &t)) {
        kw_array_iter parts;
        kw_produce_request_partition_produce_data pd;
        int32_t np = 0;
        kw_array_iter_init(&parts, &t.partition_data);
        while (kw_produce_request_partition_produce_data_next(&parts, &pd)) {
            kwf_check_records(pd.records.bytes,
                              pd.records.bytes.ptr ? (size_t)(pd.records.bytes.ptr - base) : 0);
            np++;
        }
        if (!kw_reader_ok(&parts.r) || np != kw_array_len(&t.partition_data) ||
            parts.r.pos != t.partition_data.end)
            kwf_fail("Produce topic %d: the partition iterator disagrees with the decode", nt);
        nt++;
    }
    if (!kw_reader_ok(&topics.r) || nt != kw_array_len(&p->topic_data) ||
        topics.r.pos != p->topic_data.end)
        kwf_fail("Produce: the topic iterator disagrees with the decode");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > KWF_MAX_INPUT)
        return 0;
    kw_reader r;
    kw_reader_init(&r, data, size);
    kw_request_header h;
    kw_error herr;
    memset(&herr, 0, sizeof herr);
    kwf_no_alloc_begin();
    kw_err hc = kw_request_header_parse(&r, &h, &herr);
    kwf_no_alloc_end();
    if (hc != KW_OK) {
        if (herr.code != hc || herr.offset > size)
            kwf_fail("request header: returned %s, err says %s at %zu of %zu", kw_err_name(hc),
                     kw_err_name(herr.code), herr.offset, size);
        return 0;
    }

    kw_reader start = r;
    kw_message msg;
    kw_decode_error err;
    memset(&err, 0, sizeof err);
    kwf_no_alloc_begin();
    kw_err code = kw_request_decode(&r, h.api_key, h.api_version, &msg, &err);
    kwf_no_alloc_end();
    const kw_message_info *m = kw_message_for_api(h.api_key, false);
    if (code == KW_OK && msg.info != m)
        kwf_fail("key %d v%d decoded as %s", h.api_key, h.api_version,
                 msg.info ? msg.info->name : "nothing");
    kwf_check_message(m, h.api_version, &start, code, &err, KW_JSON_RECORDS | KW_JSON_VERIFY_CRC);
    if (code == KW_OK && h.api_key == KW_API_PRODUCE)
        walk_produce(&msg.u.produce_request, data);
    return 0;
}
