/* JSON printer: structure, nulls, records per batch, decompression. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kwire/kwire.h"
#include "kwire/messages.h"
#include "kwire/record_builder.h"

struct sink {
    char text[1 << 16];
    size_t len;
};

static void to_sink(void *ctx, const char *data, size_t len)
{
    struct sink *s = ctx;
    cr_assert_lt(s->len + len, sizeof s->text, "JSON output too long");
    memcpy(s->text + s->len, data, len);
    s->len += len;
    s->text[s->len] = '\0';
}

/* Brackets balance outside strings, and the text ends at depth zero. */
static bool balanced(const char *t)
{
    int depth = 0;
    bool in_string = false;
    for (; *t; t++) {
        if (in_string) {
            if (*t == '\\')
                t++;
            else if (*t == '"')
                in_string = false;
            continue;
        }
        if (*t == '"')
            in_string = true;
        else if (*t == '{' || *t == '[')
            depth++;
        else if (*t == '}' || *t == ']')
            if (--depth < 0)
                return false;
    }
    return depth == 0 && !in_string;
}

static void print_message(const kw_message_info *m, int16_t version, const uint8_t *bytes,
                          size_t len, unsigned flags, struct sink *out)
{
    out->len = 0;
    out->text[0] = '\0';
    kw_reader r;
    kw_reader_init(&r, bytes, len);
    kw_decode_error err;
    kw_err e = kw_json_write_message(m, version, &r, flags, to_sink, out, &err);
    cr_assert_eq(e, KW_OK, "%s v%d: %s at %zu %s", m->name, version, kw_err_name(e), err.offset,
                 err.path);
    cr_assert(balanced(out->text), "%s v%d: unbalanced JSON: %s", m->name, version, out->text);
}

Test(json, null_nullable_struct)
{
    /* DescribeTopicPartitionsRequest v0: no topics, limit 2000, cursor null */
    const uint8_t body[] = {0x01, 0x00, 0x00, 0x07, 0xd0, 0xff, 0x00};
    static struct sink out;
    print_message(&kw_describe_topic_partitions_request_info, 0, body, sizeof body, 0, &out);
    cr_assert_str_eq(out.text, "{\"topics\":[],\"response_partition_limit\":2000,\"cursor\":null}",
                     "got %s", out.text);
}

Test(json, strings_bytes_and_escapes)
{
    /* SaslAuthenticateRequest v0: auth_bytes (bytes) */
    const uint8_t sasl[] = {0x00, 0x00, 0x00, 0x03, 0x00, 0xff, 0x10};
    static struct sink out;
    print_message(&kw_sasl_authenticate_request_info, 0, sasl, sizeof sasl, 0, &out);
    cr_assert_str_eq(out.text, "{\"auth_bytes\":\"00ff10\"}", "bytes print as hex: %s", out.text);
    /* FindCoordinatorRequest v0: key with a quote, a backslash and a control byte */
    const uint8_t find[] = {0x00, 0x05, 'a', '"', '\\', 0x01, 0xc3};
    print_message(&kw_find_coordinator_request_info, 0, find, sizeof find, 0, &out);
    cr_assert_str_eq(out.text, "{\"key\":\"a\\\"\\\\\\u0001\\u00c3\"}",
                     "escapes and a stray byte: %s", out.text);
}

/* A ProduceRequest v3 around one batch of three records built with kwire. */
static size_t produce_with_batch(int16_t attributes, uint8_t *frame, size_t cap)
{
    static uint8_t batch_mem[4096];
    kw_builder bb;
    kw_builder_init(&bb, batch_mem, sizeof batch_mem, NULL, 0);
    kw_record_header h = {{(const uint8_t *)"h", 1}, {NULL, 0}};
    kw_record_spec recs[3] = {
        {0, 0, 0, {(const uint8_t *)"k0", 2}, {(const uint8_t *)"value zero", 10}, &h, 1},
        {1, 1, 0, {NULL, 0}, {(const uint8_t *)"\x00\x01", 2}, NULL, 0},
        {2, 2, 0, {(const uint8_t *)"k2", 2}, {NULL, 0}, NULL, 0},
    };
    kw_batch_spec spec = kw_batch_spec_default();
    spec.attributes = attributes;
    spec.base_timestamp = 1000;
    kw_err e = kw_build_record_batch_compressed(&bb, &spec, recs, 3, NULL);
    cr_assert_eq(e, KW_OK, "batch build: %s", kw_err_name(e));

    kw_produce_request_partition_produce_data part;
    memset(&part, 0, sizeof part);
    part.index = 0;
    part.records = kw_records_of((kw_slice){kw_builder_contiguous(&bb), kw_builder_size(&bb)});
    kw_produce_request_topic_produce_data topic;
    memset(&topic, 0, sizeof topic);
    topic.name = (kw_slice){(const uint8_t *)"t", 1};
    topic.partition_data = kw_array_of(&part, 1);
    kw_produce_request req;
    memset(&req, 0, sizeof req);
    req.acks = 1;
    req.timeout_ms = 100;
    req.topic_data = kw_array_of(&topic, 1);
    kw_builder b;
    kw_builder_init(&b, frame, cap, NULL, 0);
    cr_assert_eq(kw_produce_request_encode(&b, 3, &req), KW_OK, "encode");
    size_t n = kw_builder_size(&b);
    memmove(frame, kw_builder_contiguous(&b), n);
    return n;
}

Test(json, records_per_batch)
{
    static uint8_t frame[8192];
    static struct sink out;
    size_t n = produce_with_batch(0, frame, sizeof frame);
    print_message(&kw_produce_request_info, 3, frame, n, KW_JSON_RECORDS | KW_JSON_VERIFY_CRC, &out);
    cr_assert(strstr(out.text, "\"crc_ok\":true") != NULL, "CRC checked: %s", out.text);
    cr_assert(strstr(out.text, "\"key\":\"k0\",\"value\":\"value zero\",\"headers\":[{\"key\":\"h\","
                               "\"value\":null}]") != NULL, "record 0: %s", out.text);
    cr_assert(strstr(out.text, "\"key\":null,\"value\":{\"hex\":\"0001\"}") != NULL,
              "record 1: null key, binary value as hex: %s", out.text);
    cr_assert(strstr(out.text, "\"key\":\"k2\",\"value\":null") != NULL, "record 2: %s", out.text);
    print_message(&kw_produce_request_info, 3, frame, n, 0, &out);
    cr_assert(strstr(out.text, "\"records\":\"") != NULL, "without KW_JSON_RECORDS: hex");
}

Test(json, compressed_batches)
{
    static uint8_t frame[8192];
    static struct sink out;
    for (int codec = KW_COMPRESSION_GZIP; codec <= KW_COMPRESSION_ZSTD; codec++) {
        if (!kw_compression_available((kw_compression)codec))
            continue;
        size_t n = produce_with_batch((int16_t)codec, frame, sizeof frame);
        print_message(&kw_produce_request_info, 3, frame, n, KW_JSON_RECORDS, &out);
        cr_assert(strstr(out.text, "\"compressed_bytes\":") != NULL, "codec %d: %s", codec, out.text);
        cr_assert(strstr(out.text, "value zero") == NULL, "codec %d: not decompressed by default",
                  codec);
        print_message(&kw_produce_request_info, 3, frame, n, KW_JSON_RECORDS | KW_JSON_DECOMPRESS,
                      &out);
        cr_assert(strstr(out.text, "\"key\":\"k0\",\"value\":\"value zero\"") != NULL,
                  "codec %d decompressed: %s", codec, out.text);
        cr_assert(strstr(out.text, "\"key\":\"k2\",\"value\":null") != NULL, "codec %d: %s", codec,
                  out.text);
    }
}

/* Every message and version: the printer's output is balanced JSON. */
Test(json, every_message_balanced)
{
    size_t count;
    const kw_message_info *const *all = kw_messages(&count);
    static struct sink out;
    static uint8_t zeros[4096];
    for (size_t i = 0; i < count; i++) {
        const kw_message_info *m = all[i];
        for (int16_t v = m->versions.lo; v <= m->versions.hi; v++) {
            /* All-zero bytes: empty arrays and strings, zero scalars, no tags. */
            kw_reader r;
            kw_reader_init(&r, zeros, sizeof zeros);
            out.len = 0;
            out.text[0] = '\0';
            kw_err e = kw_json_write_message(m, v, &r, KW_JSON_RECORDS, to_sink, &out, NULL);
            if (e != KW_OK)
                continue; /* some messages cannot be all zeros (compact null where not nullable) */
            if (!balanced(out.text))
                cr_assert_fail("%s v%d: unbalanced: %s", m->name, v, out.text);
        }
    }
}
