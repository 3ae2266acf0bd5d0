/*
 * response: p[0..2) api key and p[2..4) version (int16 big-endian, mapped
 * into the valid ranges of kw_api_table, see kwf_pick_api), then a response
 * frame body: the response header of the version the key and version call
 * for, and the response. Decoder, walker and printer must agree; Fetch
 * responses are also walked through their typed iterators and every records
 * field through the records checks.
 */
#include <string.h>

#include "fuzz.h"

static void walk_fetch(const kw_fetch_response *f, const uint8_t *base)
{
    kw_array_iter topics;
    kw_fetch_response_fetchable_topic_response t;
    int32_t nt = 0;
    kw_array_iter_init(&topics, &f->responses);
    while (kw_fetch_response_fetchable_topic_response_next(&topics, &t)) {
        kw_array_iter parts;
        kw_fetch_response_partition_data pd;
        int32_t np = 0;
        kw_array_iter_init(&parts, &t.partitions);
        while (kw_fetch_response_partition_data_next(&parts, &pd)) {
            kw_array_iter aborted;
            kw_fetch_response_aborted_transaction at;
            int32_t na = 0;
            kw_array_iter_init(&aborted, &pd.aborted_transactions);
            while (kw_fetch_response_aborted_transaction_next(&aborted, &at))
                na++;
            if (!kw_reader_ok(&aborted.r) || na != kw_array_len(&pd.aborted_transactions))
                kwf_fail("Fetch: the aborted transaction iterator disagrees with the decode");
            kwf_check_records(pd.records.bytes,
                              pd.records.bytes.ptr ? (size_t)(pd.records.bytes.ptr - base) : 0);
            np++;
        }
        if (!kw_reader_ok(&parts.r) || np != kw_array_len(&t.partitions) ||
            parts.r.pos != t.partitions.end)
            kwf_fail("Fetch topic %d: the partition iterator disagrees with the decode", nt);
        nt++;
    }
    if (!kw_reader_ok(&topics.r) || nt != kw_array_len(&f->responses) ||
        topics.r.pos != f->responses.end)
        kwf_fail("Fetch: the topic iterator disagrees with the decode");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || size > KWF_MAX_INPUT)
        return 0;
    int16_t key, version;
    kwf_pick_api(data, &key, &version);
    const uint8_t *body = data + 4;
    size_t len = size - 4;

    kw_reader r;
    kw_reader_init(&r, body, len);
    kw_response_header h;
    kw_error herr;
    memset(&herr, 0, sizeof herr);
    int hv = kw_response_header_version(key, version);
    if (hv < 0)
        kwf_fail("no response header version for key %d v%d", key, version);
    kwf_no_alloc_begin();
    kw_err hc = kw_response_header_read(&r, hv, &h, &herr);
    kwf_no_alloc_end();
    if (hc != KW_OK) {
        if (herr.code != hc || herr.offset > len)
            kwf_fail("response header: returned %s, err says %s at %zu of %zu", kw_err_name(hc),
                     kw_err_name(herr.code), herr.offset, len);
        return 0;
    }

    kw_reader start = r;
    kw_message msg;
    kw_decode_error err;
    memset(&err, 0, sizeof err);
    kwf_no_alloc_begin();
    kw_err code = kw_response_decode(&r, key, version, &msg, &err);
    kwf_no_alloc_end();
    const kw_message_info *m = kw_message_for_api(key, true);
    if (!m)
        kwf_fail("no response message for key %d", key);
    if (code == KW_ERR_UNSUPPORTED_VERSION || code == KW_ERR_UNKNOWN_API_KEY)
        kwf_fail("%s v%d from kw_api_table: %s", m->name, version, kw_err_name(code));
    if (code == KW_OK && msg.info != m)
        kwf_fail("key %d v%d decoded as %s", key, version, msg.info ? msg.info->name : "nothing");
    /* the version the library read: ApiVersions may fall back to v0 (KIP-511) */
    int16_t read_as = code == KW_OK ? kw_message_version(&msg) : err.version;
    if (read_as != version && !(key == KW_API_API_VERSIONS && read_as == 0))
        kwf_fail("%s v%d read as v%d", m->name, version, read_as);
    kwf_check_message(m, read_as, &start, code, &err, KW_JSON_RECORDS | KW_JSON_VERIFY_CRC);
    if (code == KW_OK && key == KW_API_FETCH)
        walk_fetch(&msg.u.fetch_response, body);
    return 0;
}
