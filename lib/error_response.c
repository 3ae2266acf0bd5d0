/*
 * Messages the library writes for the caller: the default or error body of
 * any message, from the message descriptions, and the size prefix and
 * response header in front of a response body built back to front.
 *
 * The body walk follows the same descriptions as kw_walk, in reverse: a
 * struct's tagged section first, then its fields from last to first.
 * Defaults come from kw_field_info.default_int and default_null, which the
 * generator parsed once from the definitions.
 */
#include <string.h>

#include "internal.h"
#include "kwire/header.h"

static bool is_error_code(const kw_field_info *f)
{
    return f->type == KW_TYPE_INT16 && !f->is_array && !strcmp(f->name, "error_code");
}

static void build_slice(kw_builder *b, kw_type t, bool flex, bool nullable, kw_slice s)
{
    if (t == KW_TYPE_STRING) {
        if (flex)
            nullable ? kw_build_compact_nullable_string(b, s) : kw_build_compact_string(b, s);
        else
            nullable ? kw_build_nullable_string(b, s) : kw_build_string(b, s);
    } else if (t == KW_TYPE_RECORDS) {
        kw_records r = kw_records_of(s);
        flex ? kw_build_compact_records(b, &r) : kw_build_records(b, &r);
    } else if (flex) {
        nullable ? kw_build_compact_nullable_bytes(b, s) : kw_build_compact_bytes(b, s);
    } else {
        nullable ? kw_build_nullable_bytes(b, s) : kw_build_bytes(b, s);
    }
}

/*
 * One struct at its defaults. Fields tagged in this version are left out of
 * the tagged section: a tagged field at its default is not sent. The depth
 * is that of the definitions, not of any input.
 */
static void build_default_struct(kw_builder *b, const kw_struct_info *st, int16_t v, bool flex,
                                 const int16_t *error_code)
{
    if (flex)
        kw_build_uvarint(b, 0);
    for (size_t i = st->field_count; i-- > 0;) {
        const kw_field_info *f = &st->fields[i];
        if (!kw_versions_has(f->versions, v) || kw_versions_has(f->tagged, v))
            continue;
        bool nullable = kw_versions_has(f->nullable, v);
        bool fflex = flex && !f->never_flexible;
        if (f->is_array) {
            kw_build_count(b, nullable && f->default_null ? -1 : 0, fflex);
            continue;
        }
        switch ((kw_type)f->type) {
        case KW_TYPE_BOOL: kw_build_bool(b, f->default_int != 0); break;
        case KW_TYPE_INT8: kw_build_i8(b, (int8_t)f->default_int); break;
        case KW_TYPE_INT16:
            kw_build_i16(b, error_code && is_error_code(f) ? *error_code : (int16_t)f->default_int);
            break;
        case KW_TYPE_UINT16: kw_build_u16(b, (uint16_t)f->default_int); break;
        case KW_TYPE_INT32: kw_build_i32(b, (int32_t)f->default_int); break;
        case KW_TYPE_INT64: kw_build_i64(b, f->default_int); break;
        case KW_TYPE_FLOAT64: kw_build_f64(b, 0.0); break; /* no definition gives one a default */
        case KW_TYPE_UUID: {
            kw_uuid zero;
            memset(&zero, 0, sizeof zero);
            kw_build_uuid(b, &zero);
            break;
        }
        case KW_TYPE_STRING:
        case KW_TYPE_BYTES:
        case KW_TYPE_RECORDS: {
            kw_slice s = {(const uint8_t *)"", 0};
            if (nullable && f->default_null)
                s.ptr = NULL;
            build_slice(b, (kw_type)f->type, fflex, nullable, s);
            break;
        }
        case KW_TYPE_STRUCT:
            /* as the generated views default them: a nullable struct is null */
            if (nullable)
                kw_build_i8(b, -1);
            else if (f->sub)
                build_default_struct(b, f->sub, v, flex, NULL);
            break;
        }
    }
}

kw_err kw_build_default_message(kw_builder *b, const kw_message_info *m, int16_t version,
                                int16_t error_code)
{
    if (!m || !m->root) {
        kw_builder_fail(b, KW_ERR_UNKNOWN_API_KEY);
    } else if (!kw_versions_has(m->versions, version)) {
        kw_builder_fail(b, KW_ERR_UNSUPPORTED_VERSION);
    } else {
        bool flex = m->first_flexible >= 0 && version >= m->first_flexible;
        build_default_struct(b, m->root, version, flex, &error_code);
    }
    return kw_builder_error(b);
}

kw_err kw_build_error_response(kw_builder *b, int16_t api_key, int16_t version, int16_t error_code)
{
    return kw_build_default_message(b, kw_message_for_api(api_key, true), version, error_code);
}

bool kw_message_has_error_code(const kw_message_info *m, int16_t version)
{
    if (!m || !m->root || !kw_versions_has(m->versions, version))
        return false;
    for (uint16_t i = 0; i < m->root->field_count; i++) {
        const kw_field_info *f = &m->root->fields[i];
        if (is_error_code(f) && kw_versions_has(f->versions, version) &&
            !kw_versions_has(f->tagged, version))
            return true;
    }
    return false;
}

kw_err kw_build_response_frame_end(kw_builder *b, size_t mark, int16_t api_key, int16_t version,
                                   int32_t correlation_id)
{
    int hv = kw_response_header_version(api_key, version);
    if (hv < 0) {
        kw_builder_fail(b, KW_ERR_UNKNOWN_API_KEY);
        return kw_builder_error(b);
    }
    kw_response_header h;
    memset(&h, 0, sizeof h);
    h.correlation_id = correlation_id;
    kw_build_response_header(b, hv, &h);
    kw_build_length_i32(b, mark);
    return kw_builder_error(b);
}
