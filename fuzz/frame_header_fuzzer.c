/*
 * frame_header: the input is a byte stream of size-prefixed request frames,
 * as a broker reads it from a socket. kw_frame_split cuts it (with a small
 * maximum frame size, so FRAME_TOO_LARGE is reachable), each body's request
 * header is parsed, and the rest is decoded as the request the header names,
 * so the key and version of every request come from the input.
 */
#include <string.h>

#include "fuzz.h"

#define MAX_FRAME (64u * 1024u)
#define MAX_FRAMES 64

static void check_split(const uint8_t *data, size_t len, kw_frame_status st, const kw_frame *f)
{
    switch (st) {
    case KW_FRAME_COMPLETE:
        if (len < KW_FRAME_PREFIX || f->total != KW_FRAME_PREFIX + f->size || f->total > len ||
            f->body != data + KW_FRAME_PREFIX || f->size > MAX_FRAME)
            kwf_fail("COMPLETE with size %zu, total %zu over %zu bytes", f->size, f->total, len);
        if (kw_load_be32(data) != f->size)
            kwf_fail("COMPLETE with size %zu, prefix says %u", f->size, kw_load_be32(data));
        break;
    case KW_FRAME_NEED_MORE:
        if (f->total <= len || (len >= KW_FRAME_PREFIX && f->total != KW_FRAME_PREFIX + f->size))
            kwf_fail("NEED_MORE for %zu bytes with %zu in", f->total, len);
        break;
    case KW_FRAME_INVALID:
        if (len < KW_FRAME_PREFIX ||
            (f->err != KW_ERR_FRAME_NEGATIVE && f->err != KW_ERR_FRAME_TOO_LARGE))
            kwf_fail("INVALID with %s over %zu bytes", kw_err_name(f->err), len);
        if ((f->err == KW_ERR_FRAME_NEGATIVE) != ((data[0] & 0x80) != 0))
            kwf_fail("INVALID %s for prefix %08x", kw_err_name(f->err), kw_load_be32(data));
        break;
    default: kwf_fail("kw_frame_split returned %d", (int)st);
    }
}

static void decode_body(const uint8_t *body, size_t size)
{
    kw_reader r;
    kw_reader_init(&r, body, size);
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
        return;
    }
    if (h.header_version != kw_request_header_version(h.api_key, h.api_version))
        kwf_fail("request header v%d read for key %d v%d", h.header_version, h.api_key,
                 h.api_version);

    kw_reader start = r;
    kw_message msg;
    kw_decode_error err;
    memset(&err, 0, sizeof err);
    kwf_no_alloc_begin();
    kw_err code = kw_request_decode(&r, h.api_key, h.api_version, &msg, &err);
    kwf_no_alloc_end();
    kwf_check_message(kw_message_for_api(h.api_key, false), h.api_version, &start, code, &err, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > KWF_MAX_INPUT)
        return 0;
    size_t pos = 0;
    for (int frames = 0; frames < MAX_FRAMES; frames++) {
        kw_frame f;
        memset(&f, 0, sizeof f);
        size_t left = size - pos;
        kwf_no_alloc_begin();
        kw_frame_status st = kw_frame_split(data + pos, left, MAX_FRAME, &f);
        kwf_no_alloc_end();
        check_split(data + pos, left, st, &f);
        if (st != KW_FRAME_COMPLETE)
            break;
        /* One byte short of the frame is never enough. */
        kw_frame g;
        if (kw_frame_split(data + pos, f.total - 1, MAX_FRAME, &g) != KW_FRAME_NEED_MORE)
            kwf_fail("a frame of %zu bytes is complete at %zu", f.total, f.total - 1);
        decode_body(f.body, f.size);
        pos += f.total;
    }
    return 0;
}
