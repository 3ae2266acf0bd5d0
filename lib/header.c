#include "kwire/header.h"

#include "kwire/api.h"

/*
 * Each decoder is written once, with a diagnose flag. The success path calls
 * it with constant false, so the per-field checks fold away and the reads
 * just latch; only after a failure does the cold path re-run it on a copy of
 * the starting reader with true, to learn which field the error belongs to.
 */
#define KW_FIELD_CHECK(r, diagnose, field, name)                                                  \
    do {                                                                                          \
        if ((diagnose) && !kw_reader_ok(r)) {                                                     \
            *(field) = (name);                                                                    \
            return;                                                                               \
        }                                                                                         \
    } while (0)

static const kw_tagged_fields no_tags = {0, {NULL, 0}};

/* Nearly every header section is the single byte 0; skip the call for it. */
static inline kw_tagged_fields read_tags(kw_reader *r)
{
    if (KW_LIKELY(r->pos < r->end && r->pos[0] == 0)) {
        kw_tagged_fields tf = {0, {r->pos, 0}};
        r->pos++;
        return tf;
    }
    return kw_read_tagged_fields(r);
}

static inline void request_decode(kw_reader *r, int version, kw_request_header *out,
                                  bool diagnose, const char **field)
{
    out->header_version = (int8_t)version;
    out->client_id.ptr = NULL;
    out->client_id.len = 0;
    out->tagged = no_tags;
    out->api_key = kw_read_i16(r);
    KW_FIELD_CHECK(r, diagnose, field, "api_key");
    out->api_version = kw_read_i16(r);
    KW_FIELD_CHECK(r, diagnose, field, "api_version");
    out->correlation_id = kw_read_i32(r);
    KW_FIELD_CHECK(r, diagnose, field, "correlation_id");
    if (version >= 1) {
        /* Not compact even in v2: old brokers must still find the client id. */
        out->client_id = kw_read_nullable_string(r);
        KW_FIELD_CHECK(r, diagnose, field, "client_id");
    }
    if (version >= 2) {
        out->tagged = read_tags(r);
        KW_FIELD_CHECK(r, diagnose, field, "tagged_fields");
    }
}

static inline void response_decode(kw_reader *r, int version, kw_response_header *out,
                                   bool diagnose, const char **field)
{
    out->header_version = (int8_t)version;
    out->tagged = no_tags;
    out->correlation_id = kw_read_i32(r);
    KW_FIELD_CHECK(r, diagnose, field, "correlation_id");
    if (version >= 1) {
        out->tagged = read_tags(r);
        KW_FIELD_CHECK(r, diagnose, field, "tagged_fields");
    }
}

static kw_err report(const kw_reader *r, const char *field, kw_error *err)
{
    if (err) {
        err->code = r->err;
        err->offset = r->err_offset;
        err->field = field;
    }
    return r->err;
}

static kw_err bad_header_version(kw_reader *r, kw_error *err)
{
    kw_reader_fail(r, KW_ERR_UNSUPPORTED_VERSION);
    /* A reader that had failed before keeps its own error, which is not ours to name. */
    return report(r, r->err == KW_ERR_UNSUPPORTED_VERSION ? "header_version" : NULL, err);
}

/* start is the reader as it was before the failed fast pass; r is after it. */
static KW_NOINLINE kw_err request_diagnose(const kw_reader *start, int version, const kw_reader *r,
                                           kw_error *err)
{
    const char *field = NULL;
    if (kw_reader_ok(start)) {
        kw_reader again = *start;
        kw_request_header scratch;
        request_decode(&again, version, &scratch, true, &field);
    }
    return report(r, field, err);
}

static KW_NOINLINE kw_err response_diagnose(const kw_reader *start, int version, const kw_reader *r,
                                            kw_error *err)
{
    const char *field = NULL;
    if (kw_reader_ok(start)) {
        kw_reader again = *start;
        kw_response_header scratch;
        response_decode(&again, version, &scratch, true, &field);
    }
    return report(r, field, err);
}

kw_err kw_request_header_read(kw_reader *r, int header_version, kw_request_header *out,
                              kw_error *err)
{
    if (KW_UNLIKELY(header_version < 0 || header_version > 2)) {
        static const kw_request_header zero = {0, 0, 0, {NULL, 0}, {0, {NULL, 0}}, -1};
        *out = zero;
        return bad_header_version(r, err);
    }
    kw_reader start = *r;
    const char *unused = NULL;
    request_decode(r, header_version, out, false, &unused);
    if (KW_LIKELY(kw_reader_ok(r)))
        return KW_OK;
    return request_diagnose(&start, header_version, r, err);
}

kw_err kw_request_header_parse(kw_reader *r, kw_request_header *out, kw_error *err)
{
    /*
     * Every header version begins with api_key and api_version, so when those
     * four bytes are not all here any version fails alike; 2 is arbitrary.
     */
    int version = 2;
    size_t avail = kw_reader_remaining(r);
    if (avail >= 2) {
        int16_t key = (int16_t)kw_load_be16(r->pos);
        if (avail >= 4)
            version = kw_request_header_version(key, (int16_t)kw_load_be16(r->pos + 2));
        else if (!kw_api_lookup(key))
            version = -1;
        if (KW_UNLIKELY(version < 0)) {
            /* Still hand out what sits at fixed places, so a broker can answer. */
            kw_reader peek = *r;
            const char *unused = NULL;
            request_decode(&peek, 0, out, false, &unused);
            out->header_version = -1;
            kw_reader_fail(r, KW_ERR_UNKNOWN_API_KEY);
            return report(r, "api_key", err);
        }
    }
    return kw_request_header_read(r, version, out, err);
}

kw_err kw_response_header_read(kw_reader *r, int header_version, kw_response_header *out,
                               kw_error *err)
{
    if (KW_UNLIKELY(header_version < 0 || header_version > 1)) {
        static const kw_response_header zero = {0, {0, {NULL, 0}}, -1};
        *out = zero;
        return bad_header_version(r, err);
    }
    kw_reader start = *r;
    const char *unused = NULL;
    response_decode(r, header_version, out, false, &unused);
    if (KW_LIKELY(kw_reader_ok(r)))
        return KW_OK;
    return response_diagnose(&start, header_version, r, err);
}

/* ---- writing, back to front ---------------------------------------------------------------- */

/* The tagged-field section as it was read: the count, then its fields' bytes unchanged. */
static void build_tags(kw_builder *b, const kw_tagged_fields *tf)
{
    kw_build_raw(b, tf->fields.ptr, tf->fields.len);
    kw_build_uvarint(b, tf->count);
}

kw_err kw_build_request_header(kw_builder *b, int header_version, const kw_request_header *h)
{
    if (header_version < 0 || header_version > 2) {
        kw_builder_fail(b, KW_ERR_UNSUPPORTED_VERSION);
        return kw_builder_error(b);
    }
    if (header_version == 2)
        build_tags(b, &h->tagged);
    if (header_version >= 1)
        kw_build_nullable_string(b, h->client_id); /* an int16 length even in v2 */
    kw_build_i32(b, h->correlation_id);
    kw_build_i16(b, h->api_version);
    kw_build_i16(b, h->api_key);
    return kw_builder_error(b);
}

kw_err kw_build_response_header(kw_builder *b, int header_version, const kw_response_header *h)
{
    if (header_version < 0 || header_version > 1) {
        kw_builder_fail(b, KW_ERR_UNSUPPORTED_VERSION);
        return kw_builder_error(b);
    }
    if (header_version == 1)
        build_tags(b, &h->tagged);
    kw_build_i32(b, h->correlation_id);
    return kw_builder_error(b);
}
