/* Framing: complete / need more / invalid over a byte stream. */
#include <criterion/criterion.h>
#include <string.h>

#include "guard.h"
#include "kwire/frame.h"

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

Test(frame, complete)
{
    uint8_t buf[] = {0, 0, 0, 3, 'a', 'b', 'c', 0xee};
    kw_frame f;
    cr_assert_eq(kw_frame_split(buf, sizeof buf, 0, &f), KW_FRAME_COMPLETE, "3-byte frame");
    cr_assert_eq(f.size, 3, "size %zu", f.size);
    cr_assert_eq(f.total, 7, "total %zu", f.total);
    cr_assert_eq(f.body, buf + 4, "body points into the buffer, not a copy");
}

Test(frame, empty_body)
{
    uint8_t buf[] = {0, 0, 0, 0};
    kw_frame f;
    cr_assert_eq(kw_frame_split(buf, sizeof buf, 0, &f), KW_FRAME_COMPLETE, "empty frame");
    cr_assert_eq(f.size, 0, "size %zu", f.size);
    cr_assert_eq(f.total, 4, "total %zu", f.total);
}

static void prefix_needs_more(const uint8_t *buf, size_t n, void *ctx)
{
    size_t whole = *(const size_t *)ctx;
    kw_frame f;
    kw_frame_status st = kw_frame_split(buf, n, 0, &f);
    if (n == whole) {
        cr_assert_eq(st, KW_FRAME_COMPLETE, "all %zu bytes: status %d", n, st);
        return;
    }
    cr_assert_eq(st, KW_FRAME_NEED_MORE, "prefix of %zu bytes: status %d", n, st);
    size_t want = n < 4 ? 4 : whole;
    cr_assert_eq(f.total, want, "prefix of %zu bytes: asks for %zu, expected %zu", n, f.total, want);
}

Test(frame, every_prefix_needs_more)
{
    uint8_t buf[4 + 300];
    put_be32(buf, 300);
    memset(buf + 4, 0x5a, 300);
    size_t whole = sizeof buf;
    kwt_each_prefix(buf, whole, prefix_needs_more, &whole);
}

Test(frame, negative_size)
{
    uint8_t buf[] = {0xff, 0xff, 0xff, 0xff, 0};
    kw_frame f;
    cr_assert_eq(kw_frame_split(buf, sizeof buf, 0, &f), KW_FRAME_INVALID, "size -1");
    cr_assert_eq(f.err, KW_ERR_FRAME_NEGATIVE, "error %s", kw_err_name(f.err));
    put_be32(buf, 0x80000000u);
    cr_assert_eq(kw_frame_split(buf, 4, 0, &f), KW_FRAME_INVALID, "size INT32_MIN");
}

Test(frame, maximum)
{
    uint8_t buf[4];
    kw_frame f;
    put_be32(buf, KW_FRAME_MAX_DEFAULT);
    cr_assert_eq(kw_frame_split(buf, 4, 0, &f), KW_FRAME_NEED_MORE, "exactly the default maximum");
    cr_assert_eq(f.total, 4 + (size_t)KW_FRAME_MAX_DEFAULT, "total %zu", f.total);
    put_be32(buf, KW_FRAME_MAX_DEFAULT + 1);
    cr_assert_eq(kw_frame_split(buf, 4, 0, &f), KW_FRAME_INVALID, "one over the default maximum");
    cr_assert_eq(f.err, KW_ERR_FRAME_TOO_LARGE, "error %s", kw_err_name(f.err));
    put_be32(buf, 0x7fffffff);
    cr_assert_eq(kw_frame_split(buf, 4, 0, &f), KW_FRAME_INVALID, "INT32_MAX over the default");
    put_be32(buf, 1001);
    cr_assert_eq(kw_frame_split(buf, 4, 1000, &f), KW_FRAME_INVALID, "configured maximum 1000");
    put_be32(buf, 1000);
    cr_assert_eq(kw_frame_split(buf, 4, 1000, &f), KW_FRAME_NEED_MORE, "at the configured maximum");
    /* Refused from the prefix alone: the body need not be buffered first. */
    put_be32(buf, 0x7fffffff);
    cr_assert_eq(kw_frame_split(buf, 4, SIZE_MAX, &f), KW_FRAME_NEED_MORE, "no practical maximum");
    cr_assert_eq(f.total, 4 + (size_t)0x7fffffff, "total without overflow: %zu", f.total);
}

Test(frame, stream_of_frames)
{
    /* Three frames back to back, split one after another. */
    uint8_t buf[64];
    size_t len = 0;
    for (uint32_t i = 0; i < 3; i++) {
        put_be32(buf + len, i + 1);
        memset(buf + len + 4, (int)('a' + i), i + 1);
        len += 4 + i + 1;
    }
    size_t at = 0;
    for (uint32_t i = 0; i < 3; i++) {
        kw_frame f;
        cr_assert_eq(kw_frame_split(buf + at, len - at, 0, &f), KW_FRAME_COMPLETE, "frame %u", i);
        cr_assert_eq(f.size, i + 1, "frame %u size %zu", i, f.size);
        cr_assert_eq(f.body[0], 'a' + i, "frame %u body", i);
        at += f.total;
    }
    kw_frame f;
    cr_assert_eq(kw_frame_split(buf + at, len - at, 0, &f), KW_FRAME_NEED_MORE, "end of stream");
}
