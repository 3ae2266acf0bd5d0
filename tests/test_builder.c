/*
 * Builder: every primitive against the cursor, prefixes after contents,
 * sticky errors, chunks that never move, lent bytes and file ranges, and
 * sending to a socket.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kwire/kwire.h"
#include "kwire/messages.h"

/* Bytes of a builder's output, copied out. */
static size_t output(kw_builder *b, uint8_t *out, size_t cap)
{
    size_t n = kw_builder_copy_out(b, out, cap);
    cr_assert_eq(n, kw_builder_size(b), "copy_out gave %zu of %zu bytes", n, kw_builder_size(b));
    return n;
}

Test(builder, primitives_read_back)
{
    uint8_t buf[256];
    kw_builder b;
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    kw_uuid u;
    for (int i = 0; i < 16; i++)
        u.bytes[i] = (uint8_t)(i * 17);
    uint8_t raw[] = {0xde, 0xad};
    /* back to front: the last field first */
    kw_build_raw(&b, raw, 2);
    kw_build_compact_nullable_bytes(&b, (kw_slice){NULL, 0});
    kw_build_nullable_string(&b, (kw_slice){NULL, 0});
    kw_build_compact_string(&b, (kw_slice){(const uint8_t *)"hey", 3});
    kw_build_string(&b, (kw_slice){(const uint8_t *)"", 0});
    kw_build_bytes(&b, (kw_slice){raw, 2});
    kw_build_varlong(&b, INT64_MIN);
    kw_build_varint(&b, -1);
    kw_build_uvarint(&b, 300);
    kw_build_uuid(&b, &u);
    kw_build_f64(&b, -2.5);
    kw_build_i64(&b, INT64_MAX);
    kw_build_u32(&b, 0xfffffffeu);
    kw_build_i32(&b, INT32_MIN);
    kw_build_u16(&b, 0xbeef);
    kw_build_i16(&b, -2);
    kw_build_i8(&b, -128);
    kw_build_bool(&b, true);
    cr_assert_eq(kw_builder_error(&b), KW_OK, "builder error %s", kw_err_name(kw_builder_error(&b)));
    const uint8_t *out = kw_builder_contiguous(&b);
    cr_assert(out != NULL, "a caller buffer with nothing lent is contiguous");
    cr_assert_eq(out + kw_builder_size(&b), buf + sizeof buf, "output ends at the buffer's end");

    kw_reader r;
    kw_reader_init(&r, out, kw_builder_size(&b));
    cr_assert_eq(kw_read_bool(&r), true, "bool");
    cr_assert_eq(kw_read_i8(&r), -128, "int8");
    cr_assert_eq(kw_read_i16(&r), -2, "int16");
    cr_assert_eq(kw_read_u16(&r), 0xbeef, "uint16");
    cr_assert_eq(kw_read_i32(&r), INT32_MIN, "int32");
    cr_assert_eq(kw_read_u32(&r), 0xfffffffeu, "uint32");
    cr_assert_eq(kw_read_i64(&r), INT64_MAX, "int64");
    cr_assert_eq(kw_read_f64(&r), -2.5, "float64");
    kw_uuid got = kw_read_uuid(&r);
    cr_assert_eq(memcmp(got.bytes, u.bytes, 16), 0, "uuid");
    cr_assert_eq(kw_read_uvarint(&r), 300, "uvarint");
    cr_assert_eq(kw_read_varint(&r), -1, "varint");
    cr_assert_eq(kw_read_varlong(&r), INT64_MIN, "varlong");
    kw_slice s = kw_read_bytes(&r);
    cr_assert(s.len == 2 && memcmp(s.ptr, raw, 2) == 0, "bytes");
    s = kw_read_string(&r);
    cr_assert(!kw_slice_is_null(s) && s.len == 0, "empty string");
    s = kw_read_compact_string(&r);
    cr_assert(s.len == 3 && memcmp(s.ptr, "hey", 3) == 0, "compact string");
    cr_assert(kw_slice_is_null(kw_read_nullable_string(&r)), "null string");
    cr_assert(kw_slice_is_null(kw_read_compact_nullable_bytes(&r)), "null compact bytes");
    cr_assert_eq(kw_read_u16(&r), 0xdead, "raw tail");
    kw_reader_expect_end(&r);
    cr_assert_eq(r.err, KW_OK, "read back: %s at %zu", kw_err_name(r.err), r.err_offset);
}

Test(builder, prefixes_after_contents)
{
    uint8_t buf[64];
    kw_builder b;
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    size_t mark = kw_builder_size(&b);
    kw_build_i32(&b, 7);
    kw_build_i16(&b, 1);
    kw_build_length_i32(&b, mark);
    size_t mark2 = kw_builder_size(&b);
    kw_build_raw(&b, "abc", 3);
    kw_build_length_compact(&b, mark2);
    kw_build_count(&b, -1, true);
    kw_build_count(&b, 2, false);
    uint8_t want[] = {0, 0, 0, 2, 0x00, 0x04, 'a', 'b', 'c', 0, 0, 0, 6, 0, 1, 0, 0, 0, 7};
    cr_assert_eq(kw_builder_size(&b), sizeof want, "size %zu", kw_builder_size(&b));
    cr_assert_eq(memcmp(kw_builder_contiguous(&b), want, sizeof want), 0, "bytes differ");
}

Test(builder, sticky_errors)
{
    uint8_t buf[8];
    kw_builder b;
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    kw_build_i64(&b, 1);
    kw_build_i8(&b, 2);
    cr_assert_eq(kw_builder_error(&b), KW_ERR_NO_SPACE, "ninth byte: %s", kw_err_name(b.err));
    kw_build_string(&b, (kw_slice){NULL, 0});
    cr_assert_eq(kw_builder_error(&b), KW_ERR_NO_SPACE, "first error stays");
    cr_assert_eq(kw_builder_size(&b), 8, "nothing written after the error");
    cr_assert(kw_builder_contiguous(&b) == NULL, "no output after an error");

    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    kw_build_string(&b, (kw_slice){NULL, 0});
    cr_assert_eq(kw_builder_error(&b), KW_ERR_UNEXPECTED_NULL, "null non-nullable string");

    static uint8_t big[40000];
    uint8_t *huge = malloc(70000);
    kw_builder_init(&b, huge, 70000, NULL, 0);
    kw_build_string(&b, (kw_slice){big, sizeof big});
    cr_assert_eq(kw_builder_error(&b), KW_ERR_TOO_LONG, "string over 32767 bytes: %s",
                 kw_err_name(b.err));
    free(huge);

    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    uint8_t lent[4] = {1, 2, 3, 4};
    kw_build_reference(&b, lent, 4);
    cr_assert_eq(kw_builder_error(&b), KW_ERR_NO_SPACE, "lending needs segment room");
}

/* Written bytes stay where they were written, across chunk changes. */
Test(builder, chunks_never_move)
{
    kw_builder b;
    kw_builder_init_growable(&b, 64);
    const uint8_t *first = NULL;
    uint8_t copy[8];
    for (int i = 0; i < 5000; i++) {
        kw_build_i64(&b, (int64_t)((uint64_t)i * 0x0101010101010101u));
        if (i == 3) {
            first = b.buf + b.head;
            memcpy(copy, first, 8);
        }
        if (i % 97 == 0) {
            uint8_t blob[100];
            memset(blob, i & 0xff, sizeof blob);
            kw_build_raw(&b, blob, sizeof blob);
        }
    }
    cr_assert_eq(kw_builder_error(&b), KW_OK, "growable: %s", kw_err_name(b.err));
    cr_assert_eq(memcmp(first, copy, 8), 0, "bytes written early changed or moved");
    size_t count;
    const kw_segment *segs = kw_builder_segments(&b, &count);
    cr_assert_gt(count, 1, "5000 writes into 64-byte chunks make several segments");
    bool found = false;
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        total += segs[i].len;
        if (first >= segs[i].ptr && first < segs[i].ptr + segs[i].len)
            found = true;
    }
    cr_assert(found, "the first bytes are still part of the output, in place");
    cr_assert_eq(total, kw_builder_size(&b), "segments add up to the size");
    uint8_t *flat = malloc(total);
    output(&b, flat, total);
    /* wire order: the last write comes first */
    kw_reader r;
    kw_reader_init(&r, flat, total);
    cr_assert_eq(kw_read_i64(&r), (int64_t)((uint64_t)4999 * 0x0101010101010101u), "last value first");
    free(flat);
    kw_builder_free(&b);
}

/*
 * A FetchResponse whose records come from elsewhere: partition 0's lent (the
 * output points at the caller's bytes), partition 1's a range of a file (sent
 * with sendfile). Sent over a socket pair it is byte for byte the build that
 * copies both, and it decodes.
 */
Test(builder, fetch_response_lends_and_sends_records_from_a_file)
{
    static uint8_t log_a[3000], log_b[1500];
    for (size_t i = 0; i < sizeof log_a; i++)
        log_a[i] = (uint8_t)(i * 7);
    for (size_t i = 0; i < sizeof log_b; i++)
        log_b[i] = (uint8_t)(i * 13);
    /* log_b lies at byte 100 of a file */
    char path[] = "/tmp/kwire-records-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0, "mkstemp");
    unlink(path);
    static uint8_t pad[100];
    cr_assert_eq(write(fd, pad, sizeof pad), (ssize_t)sizeof pad, "write the file");
    cr_assert_eq(write(fd, log_b, sizeof log_b), (ssize_t)sizeof log_b, "write the file");

    kw_fetch_response_partition_data parts[2];
    kw_fetch_response_partition_data_init(&parts[0]);
    parts[0].high_watermark = 10;
    parts[0].last_stable_offset = 10;
    parts[0].records = kw_records_of((kw_slice){log_a, sizeof log_a});
    parts[1] = parts[0];
    parts[1].partition_index = 1;
    parts[1].records = kw_records_of((kw_slice){log_b, sizeof log_b});
    kw_fetch_response_fetchable_topic_response topic;
    kw_fetch_response_fetchable_topic_response_init(&topic);
    topic.topic = (kw_slice){(const uint8_t *)"events", 6};
    topic.partitions = kw_array_of(parts, 2);
    kw_fetch_response resp;
    kw_fetch_response_init(&resp);
    resp.responses = kw_array_of(&topic, 1);

    kw_fetch_response_partition_data elsewhere[2] = {parts[0], parts[1]};
    elsewhere[0].records = kw_records_lent((kw_slice){log_a, sizeof log_a});
    elsewhere[1].records = kw_records_file(fd, (int64_t)sizeof pad, sizeof log_b);
    kw_fetch_response_fetchable_topic_response topic_elsewhere = topic;
    topic_elsewhere.partitions = kw_array_of(elsewhere, 2);
    kw_fetch_response resp_elsewhere = resp;
    resp_elsewhere.responses = kw_array_of(&topic_elsewhere, 1);

    for (int16_t version = 4; version <= 16; version += 12) {
        static uint8_t flat_buf[16384], ref_buf[4096];
        kw_builder flat;
        kw_builder_init(&flat, flat_buf, sizeof flat_buf, NULL, 0);
        cr_assert_eq(kw_fetch_response_encode(&flat, version, &resp), KW_OK, "v%d copy", version);

        kw_segment segs[16];
        kw_builder ref;
        kw_builder_init(&ref, ref_buf, sizeof ref_buf, segs, 16);
        cr_assert_eq(kw_fetch_response_encode(&ref, version, &resp_elsewhere), KW_OK,
                     "v%d lend and file", version);
        cr_assert_eq(kw_builder_size(&ref), kw_builder_size(&flat), "v%d sizes", version);

        size_t count;
        const kw_segment *out = kw_builder_segments(&ref, &count);
        int lent = 0, files = 0;
        for (size_t i = 0; i < count; i++) {
            if (out[i].kind == KW_SEGMENT_FILE) {
                files++;
                cr_assert(out[i].fd == fd && out[i].offset == (int64_t)sizeof pad &&
                              out[i].len == sizeof log_b,
                          "v%d: the file range is fd %d at %lld, %zu bytes", version, out[i].fd,
                          (long long)out[i].offset, out[i].len);
            } else if (out[i].referenced) {
                lent++;
                cr_assert(out[i].ptr == log_a && out[i].len == sizeof log_a,
                          "v%d: the lent segment points at the caller's record bytes", version);
            }
        }
        cr_assert_eq(lent, 1, "v%d: partition 0's records lent, %d lent segments", version, lent);
        cr_assert_eq(files, 1, "v%d: partition 1's records a file range, %d found", version, files);
        cr_assert_lt(kw_builder_size(&ref) - sizeof log_a - sizeof log_b, 200,
                     "v%d: only the framing is copied", version);

        int sv[2];
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0, "socketpair");
        size_t sent = 0;
        cr_assert_eq(kw_builder_send(&ref, sv[0], &sent), 0, "send");
        cr_assert_eq(sent, kw_builder_size(&ref), "sent %zu", sent);
        close(sv[0]);
        static uint8_t got[16384];
        size_t n = 0;
        ssize_t k;
        while ((k = read(sv[1], got + n, sizeof got - n)) > 0)
            n += (size_t)k;
        close(sv[1]);
        cr_assert_eq(n, kw_builder_size(&flat), "v%d: received %zu bytes", version, n);
        cr_assert_eq(memcmp(got, kw_builder_contiguous(&flat), n), 0,
                     "v%d: the socket got other bytes than the contiguous build", version);

        /* and the bytes decode as the response they describe */
        kw_reader r;
        kw_reader_init(&r, got, n);
        kw_message msg;
        kw_decode_error err;
        cr_assert_eq(kw_response_decode(&r, KW_API_FETCH, version, &msg, &err), KW_OK,
                     "v%d decode at %zu %s", version, err.offset, err.path);
    }

    /* a file range without segments to hold it: NO_SPACE, not a copy */
    static uint8_t small[4096];
    kw_builder none;
    kw_builder_init(&none, small, sizeof small, NULL, 0);
    cr_assert_eq(kw_fetch_response_encode(&none, 12, &resp_elsewhere), KW_ERR_NO_SPACE,
                 "no segment array");
    close(fd);
}

Test(builder, file_range_with_sendfile)
{
    char path[] = "/tmp/kwire-builder-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0, "mkstemp");
    unlink(path);
    const char text[] = "0123456789abcdef";
    cr_assert_eq(write(fd, text, 16), 16, "write the file");
    uint8_t buf[64];
    kw_segment segs[8];
    kw_builder b;
    kw_builder_init(&b, buf, sizeof buf, segs, 8);
    kw_build_raw(&b, "!", 1);
    size_t mark = kw_builder_size(&b);
    kw_build_file_range(&b, fd, 4, 8);
    kw_build_length_i32(&b, mark);
    cr_assert_eq(kw_builder_size(&b), 13, "size %zu", kw_builder_size(&b));
    kw_builder_crc32c_since(&b, mark);
    cr_assert_eq(kw_builder_error(&b), KW_ERR_FILE_IN_CHECKSUM, "no CRC over a file range");
    b.err = KW_OK; /* the output itself is fine; carry on to send it */
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0, "socketpair");
    size_t sent = 0;
    cr_assert_eq(kw_builder_send(&b, sv[0], &sent), 0, "send with sendfile");
    close(sv[0]);
    uint8_t got[32];
    ssize_t n = read(sv[1], got, sizeof got);
    close(sv[1]);
    close(fd);
    uint8_t want[] = {0, 0, 0, 8, '4', '5', '6', '7', '8', '9', 'a', 'b', '!'};
    cr_assert_eq(n, 13, "received %zd bytes", n);
    cr_assert_eq(memcmp(got, want, 13), 0, "file bytes in place");
}

Test(builder, crc_across_segments)
{
    uint8_t buf[64];
    kw_segment segs[8];
    kw_builder b;
    kw_builder_init(&b, buf, sizeof buf, segs, 8);
    static const uint8_t lent[] = "56789";
    kw_build_raw(&b, "X", 1);
    size_t mark = kw_builder_size(&b);
    kw_build_reference(&b, lent, 5);
    kw_build_raw(&b, "1234", 4);
    uint32_t crc = kw_builder_crc32c_since(&b, mark);
    cr_assert_eq(crc, 0xE3069283u, "CRC-32C of \"123456789\" across a lent segment: %08x", crc);
    cr_assert_eq(kw_builder_crc32_since(&b, mark), 0xCBF43926u, "CRC-32 across segments");
}

Test(builder, encode_from_plain_structs)
{
    /* A ProduceRequest described in plain C, encoded, then read back. */
    static const uint8_t records[] = {1, 2, 3, 4, 5};
    kw_produce_request_partition_produce_data parts[2];
    memset(parts, 0, sizeof parts);
    parts[0].index = 3;
    parts[0].records = kw_records_of((kw_slice){records, sizeof records});
    parts[1].index = 4;
    parts[1].records = kw_records_of((kw_slice){NULL, 0});
    kw_produce_request_topic_produce_data topic;
    memset(&topic, 0, sizeof topic);
    topic.name = (kw_slice){(const uint8_t *)"t1", 2};
    topic.partition_data = kw_array_of(parts, 2);
    kw_produce_request req;
    memset(&req, 0, sizeof req);
    req.transactional_id = (kw_slice){NULL, 0};
    req.acks = -1;
    req.timeout_ms = 1500;
    req.topic_data = kw_array_of(&topic, 1);
    for (int16_t v = 0; v <= 11; v++) {
        uint8_t buf[256];
        kw_builder b;
        kw_builder_init(&b, buf, sizeof buf, NULL, 0);
        cr_assert_eq(kw_produce_request_encode(&b, v, &req), KW_OK, "v%d encode: %s", v,
                     kw_err_name(b.err));
        kw_reader r;
        kw_reader_init(&r, kw_builder_contiguous(&b), kw_builder_size(&b));
        kw_produce_request back;
        kw_decode_error err;
        cr_assert_eq(kw_produce_request_decode(&r, v, &back, &err), KW_OK, "v%d decode", v);
        cr_assert_eq(back.acks, -1, "v%d acks", v);
        cr_assert_eq(back.timeout_ms, 1500, "v%d timeout", v);
        kw_array_iter ti, pi;
        kw_produce_request_topic_produce_data t;
        kw_produce_request_partition_produce_data p;
        kw_array_iter_init(&ti, &back.topic_data);
        cr_assert(kw_produce_request_topic_produce_data_next(&ti, &t), "v%d topic", v);
        cr_assert(t.name.len == 2 && memcmp(t.name.ptr, "t1", 2) == 0, "v%d topic name", v);
        kw_array_iter_init(&pi, &t.partition_data);
        cr_assert(kw_produce_request_partition_produce_data_next(&pi, &p), "v%d p0", v);
        cr_assert(p.index == 3 && p.records.bytes.len == 5 && p.records.bytes.ptr[4] == 5, "v%d p0 records", v);
        cr_assert(kw_produce_request_partition_produce_data_next(&pi, &p), "v%d p1", v);
        cr_assert(p.index == 4 && kw_slice_is_null(p.records.bytes), "v%d p1 null records", v);
    }
    /* out of range */
    uint8_t buf[64];
    kw_builder b;
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    cr_assert_eq(kw_produce_request_encode(&b, 14, &req), KW_ERR_UNSUPPORTED_VERSION, "v14");
}

Test(builder, view_of_another_version_needs_materialize)
{
    /* decode a v3 ProduceRequest, try to write it as v9 without materializing */
    uint8_t body[] = {0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x01,
                      0x00, 0x01, 't',  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07,
                      0x00, 0x00, 0x00, 0x02, 0x01, 0x02};
    kw_reader r;
    kw_reader_init(&r, body, sizeof body);
    kw_produce_request req;
    cr_assert_eq(kw_produce_request_decode(&r, 3, &req, NULL), KW_OK, "decode v3");
    uint8_t buf[128];
    kw_builder b;
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    cr_assert_eq(kw_produce_request_encode(&b, 9, &req), KW_ERR_NEEDS_MATERIALIZE, "v9 from a v3 view");
    uint8_t mem[1024];
    kw_arena arena;
    kw_arena_init(&arena, mem, sizeof mem);
    cr_assert_eq(kw_produce_request_materialize(&req, &arena), KW_OK, "materialize");
    kw_builder_init(&b, buf, sizeof buf, NULL, 0);
    cr_assert_eq(kw_produce_request_encode(&b, 9, &req), KW_OK, "v9 after materialize");
    kw_reader_init(&r, kw_builder_contiguous(&b), kw_builder_size(&b));
    kw_produce_request v9;
    cr_assert_eq(kw_produce_request_decode(&r, 9, &v9, NULL), KW_OK, "decode v9");
    kw_arena_init(&arena, mem, 8);
    kw_reader_init(&r, body, sizeof body);
    cr_assert_eq(kw_produce_request_decode(&r, 3, &req, NULL), KW_OK, "decode v3 again");
    cr_assert_eq(kw_produce_request_materialize(&req, &arena), KW_ERR_NO_SPACE, "tiny arena");
    cr_assert_gt(arena.wanted, 8, "the arena says how much it wanted");
}
