/*
 * KRaft metadata log framing. A record value in __cluster_metadata is an
 * unsigned varint frame version, the record type (the record message's
 * api_key), the record's version, then the record itself; Kafka writes
 * frame version 1 and reads 0 and 1.
 */
#include "internal.h"
#include "kwire/builder.h"
#include "kwire/messages.h"

const kw_message_info *kw_message_for_record_type(int16_t type)
{
    size_t n;
    const kw_message_info *const *all = kw_messages(&n);
    for (size_t i = 0; i < n; i++)
        if (all[i]->kind == KW_MSG_RECORD && all[i]->api_key == type)
            return all[i];
    return NULL;
}

kw_err kw_build_metadata_record(kw_builder *b, const kw_message_info *m, int16_t version,
                                const void *view)
{
    if (!m || m->kind != KW_MSG_RECORD || m->api_key < 0) {
        kw_builder_fail(b, KW_ERR_UNKNOWN_API_KEY);
        return kw_builder_error(b);
    }
    if (!kw_versions_has(m->versions, version)) {
        kw_builder_fail(b, KW_ERR_UNSUPPORTED_VERSION);
        return kw_builder_error(b);
    }
    m->encode(b, version, view);
    kw_build_uvarint(b, (uint32_t)version);
    kw_build_uvarint(b, (uint32_t)m->api_key);
    kw_build_uvarint(b, KW_METADATA_FRAME_VERSION);
    return kw_builder_error(b);
}

kw_err kw_read_metadata_record(kw_reader *r, struct kw_message *out, kw_decode_error *err)
{
    out->info = NULL;
    size_t at = kw_reader_offset(r);
    uint32_t frame = kw_read_uvarint(r);
    size_t type_at = kw_reader_offset(r);
    uint32_t type = kw_read_uvarint(r);
    size_t version_at = kw_reader_offset(r);
    uint32_t version = kw_read_uvarint(r);
    if (kw_reader_ok(r) && frame > KW_METADATA_FRAME_VERSION)
        kw_reader_fail_at(r, KW_ERR_UNSUPPORTED_VERSION, at);
    const kw_message_info *m = NULL;
    if (kw_reader_ok(r)) {
        m = type <= INT16_MAX ? kw_message_for_record_type((int16_t)type) : NULL;
        if (!m)
            kw_reader_fail_at(r, KW_ERR_UNKNOWN_API_KEY, type_at);
        else if (version > INT16_MAX || !kw_versions_has(m->versions, (int16_t)version))
            kw_reader_fail_at(r, KW_ERR_UNSUPPORTED_VERSION, version_at);
    }
    if (!kw_reader_ok(r)) {
        kw_decode_error_fill_(err, m, version <= INT16_MAX ? (int16_t)version : -1, r,
                              r->err_offset < type_at ? "frame.version"
                              : r->err_offset < version_at ? "frame.type"
                                                           : "frame.record_version");
        return r->err;
    }
    return kw_message_decode(m, r, (int16_t)version, out, err);
}
