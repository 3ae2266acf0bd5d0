/*
 * metadata_records: p[0] picks one of the KRaft metadata log records, the
 * data structures (consumer protocol, snapshot and leader change records)
 * and the headers (kwf_metadata_messages), p[1] its version; the rest is
 * decoded with kw_message_decode and checked against the walker and the
 * JSON printer.
 */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > KWF_MAX_INPUT)
        return 0;
    int16_t version;
    const kw_message_info *m = kwf_pick_metadata(data, &version);
    kw_reader r;
    kw_reader_init(&r, data + 2, size - 2);
    kw_reader start = r;
    kw_message msg;
    kw_decode_error err;
    memset(&err, 0, sizeof err);
    kwf_no_alloc_begin();
    kw_err code = kw_message_decode(m, &r, version, &msg, &err);
    kwf_no_alloc_end();
    if (code == KW_OK && msg.info != m)
        kwf_fail("%s decoded as %s", m->name, msg.info ? msg.info->name : "nothing");
    kwf_check_message(m, version, &start, code, &err, KW_JSON_RECORDS | KW_JSON_VERIFY_CRC);
    return 0;
}
