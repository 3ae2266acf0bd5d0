/*
 * The back-to-front builder. Bytes go in front of what was written; a run
 * of builder bytes becomes a segment when something not copied (a lent
 * slice, a file range) or a new chunk comes in front of it.
 */
#include "kwire/builder.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include "kwire/crc.h"

struct kw_chunk {
    struct kw_chunk *next;
    size_t cap;
    uint8_t data[];
};

#define DEFAULT_CHUNK (64u * 1024u)

void kw_builder_init(kw_builder *b, void *buf, size_t cap, kw_segment *segs, size_t seg_count)
{
    memset(b, 0, sizeof *b);
    b->buf = buf;
    b->cap = buf ? cap : 0;
    b->head = b->cap;
    b->mark_head = b->cap;
    b->segs = segs;
    b->seg_cap = segs ? seg_count : 0;
    b->seg_next = b->seg_cap;
}

void kw_builder_init_growable(kw_builder *b, size_t chunk_size)
{
    kw_builder_init(b, NULL, 0, NULL, 0);
    b->growable = true;
    b->chunk_size = chunk_size ? chunk_size : DEFAULT_CHUNK;
}

void kw_builder_free(kw_builder *b)
{
    struct kw_chunk *c = b->chunks;
    while (c) {
        struct kw_chunk *next = c->next;
        free(c);
        c = next;
    }
    b->chunks = NULL;
    free(b->own_segs);
    b->own_segs = NULL;
    b->buf = NULL;
    b->cap = b->head = b->mark_head = 0;
    b->segs = NULL;
    b->seg_cap = b->seg_next = 0;
}

void kw_builder_reset(kw_builder *b)
{
    if (b->growable) {
        size_t chunk = b->chunk_size;
        kw_builder_free(b);
        kw_builder_init_growable(b, chunk);
        return;
    }
    b->head = b->mark_head = b->cap;
    b->seg_next = b->seg_cap;
    b->size = 0;
    b->err = KW_OK;
}

void kw_builder_fail(kw_builder *b, kw_err code)
{
    if (b->err == KW_OK)
        b->err = code;
}

/* ---- segments -------------------------------------------------------------- */

static bool grow_segments(kw_builder *b)
{
    if (!b->growable)
        return false;
    size_t used = b->seg_cap - b->seg_next;
    size_t cap = b->seg_cap ? b->seg_cap * 2 : 16;
    kw_segment *segs = malloc(cap * sizeof *segs);
    if (!segs)
        return false;
    /* segment descriptors move; the bytes they describe do not */
    if (used)
        memcpy(segs + cap - used, b->segs + b->seg_next, used * sizeof *segs);
    free(b->own_segs);
    b->own_segs = b->segs = segs;
    b->seg_cap = cap;
    b->seg_next = cap - used;
    return true;
}

static void push_segment(kw_builder *b, const kw_segment *s)
{
    if (b->seg_next < b->seg_cap) {
        kw_segment *top = &b->segs[b->seg_next];
        /* builder bytes right in front of the previous run of the same chunk merge */
        if (s->kind == KW_SEGMENT_BYTES && top->kind == KW_SEGMENT_BYTES && !s->referenced &&
            !top->referenced && s->ptr + s->len == top->ptr) {
            top->ptr = s->ptr;
            top->len += s->len;
            return;
        }
    }
    if (b->seg_next == 0 && !grow_segments(b)) {
        kw_builder_fail(b, b->growable ? KW_ERR_OUT_OF_MEMORY : KW_ERR_NO_SPACE);
        return;
    }
    b->segs[--b->seg_next] = *s;
}

/* Turns the builder bytes written since the last segment into one. */
static void close_run(kw_builder *b)
{
    if (b->head < b->mark_head) {
        kw_segment s = {KW_SEGMENT_BYTES, false, b->buf + b->head, b->mark_head - b->head, -1, 0};
        push_segment(b, &s);
    }
    b->mark_head = b->head;
}

/* ---- room --------------------------------------------------------------------- */

static KW_NOINLINE bool new_chunk(kw_builder *b, size_t n)
{
    if (!b->growable) {
        kw_builder_fail(b, KW_ERR_NO_SPACE);
        return false;
    }
    size_t cap = n > b->chunk_size ? n : b->chunk_size;
    if (cap > SIZE_MAX - sizeof(struct kw_chunk)) {
        kw_builder_fail(b, KW_ERR_OUT_OF_MEMORY);
        return false;
    }
    struct kw_chunk *c = malloc(sizeof *c + cap);
    if (!c) {
        kw_builder_fail(b, KW_ERR_OUT_OF_MEMORY);
        return false;
    }
    close_run(b);
    if (b->err)
        return false;
    c->next = b->chunks;
    c->cap = cap;
    b->chunks = c;
    b->buf = c->data;
    b->cap = cap;
    b->head = b->mark_head = cap;
    return true;
}

/* Room for n bytes in front of the head; returns where they go, or NULL. */
static inline uint8_t *reserve(kw_builder *b, size_t n)
{
    if (KW_UNLIKELY(b->err))
        return NULL;
    if (KW_UNLIKELY(b->head < n) && !new_chunk(b, n))
        return NULL;
    b->head -= n;
    b->size += n;
    return b->buf + b->head;
}

/* ---- primitives ------------------------------------------------------------------ */

void kw_build_raw(kw_builder *b, const void *data, size_t len)
{
    if (len == 0)
        return;
    uint8_t *p = reserve(b, len);
    if (p)
        memcpy(p, data, len);
}

static inline void put_be(kw_builder *b, uint64_t v, unsigned n)
{
    uint8_t *p = reserve(b, n);
    if (!p)
        return;
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void kw_build_bool(kw_builder *b, bool v) { put_be(b, v ? 1 : 0, 1); }
void kw_build_i8(kw_builder *b, int8_t v) { put_be(b, (uint8_t)v, 1); }
void kw_build_i16(kw_builder *b, int16_t v) { put_be(b, (uint16_t)v, 2); }
void kw_build_u16(kw_builder *b, uint16_t v) { put_be(b, v, 2); }
void kw_build_i32(kw_builder *b, int32_t v) { put_be(b, (uint32_t)v, 4); }
void kw_build_u32(kw_builder *b, uint32_t v) { put_be(b, v, 4); }
void kw_build_i64(kw_builder *b, int64_t v) { put_be(b, (uint64_t)v, 8); }

void kw_build_f64(kw_builder *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_be(b, bits, 8);
}

void kw_build_uuid(kw_builder *b, const kw_uuid *v) { kw_build_raw(b, v->bytes, 16); }

void kw_build_uvarlong(kw_builder *b, uint64_t v)
{
    unsigned n = 1;
    for (uint64_t x = v >> 7; x; x >>= 7)
        n++;
    uint8_t *p = reserve(b, n);
    if (!p)
        return;
    for (unsigned i = 0; i + 1 < n; i++) {
        p[i] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n - 1] = (uint8_t)v;
}

void kw_build_uvarint(kw_builder *b, uint32_t v)
{
    if (KW_LIKELY(v < 0x80)) {
        put_be(b, v, 1);
        return;
    }
    kw_build_uvarlong(b, v);
}

void kw_build_varint(kw_builder *b, int32_t v)
{
    kw_build_uvarint(b, ((uint32_t)v << 1) ^ (uint32_t)(v < 0 ? -1 : 0));
}

void kw_build_varlong(kw_builder *b, int64_t v)
{
    kw_build_uvarlong(b, ((uint64_t)v << 1) ^ (uint64_t)(v < 0 ? -1 : 0));
}

/* ---- strings, bytes, records --------------------------------------------------- */

/* The payload of a classic field with an int16 or int32 length (-1 null). */
static void classic(kw_builder *b, kw_slice s, bool nullable, unsigned len_bytes)
{
    if (kw_slice_is_null(s)) {
        if (!nullable) {
            kw_builder_fail(b, KW_ERR_UNEXPECTED_NULL);
            return;
        }
        put_be(b, len_bytes == 2 ? 0xffffu : 0xffffffffu, len_bytes);
        return;
    }
    if (s.len > (len_bytes == 2 ? (size_t)INT16_MAX : (size_t)INT32_MAX)) {
        kw_builder_fail(b, KW_ERR_TOO_LONG);
        return;
    }
    kw_build_raw(b, s.ptr, s.len);
    put_be(b, s.len, len_bytes);
}

/* The payload of a compact field: unsigned varint N + 1, 0 null. */
static void compact(kw_builder *b, kw_slice s, bool nullable)
{
    if (kw_slice_is_null(s)) {
        if (!nullable)
            kw_builder_fail(b, KW_ERR_UNEXPECTED_NULL);
        else
            put_be(b, 0, 1);
        return;
    }
    if (s.len >= UINT32_MAX) {
        kw_builder_fail(b, KW_ERR_TOO_LONG);
        return;
    }
    kw_build_raw(b, s.ptr, s.len);
    kw_build_uvarint(b, (uint32_t)s.len + 1);
}

void kw_build_string(kw_builder *b, kw_slice s) { classic(b, s, false, 2); }
void kw_build_nullable_string(kw_builder *b, kw_slice s) { classic(b, s, true, 2); }
void kw_build_compact_string(kw_builder *b, kw_slice s) { compact(b, s, false); }
void kw_build_compact_nullable_string(kw_builder *b, kw_slice s) { compact(b, s, true); }
void kw_build_bytes(kw_builder *b, kw_slice s) { classic(b, s, false, 4); }
void kw_build_nullable_bytes(kw_builder *b, kw_slice s) { classic(b, s, true, 4); }
void kw_build_compact_bytes(kw_builder *b, kw_slice s) { compact(b, s, false); }
void kw_build_compact_nullable_bytes(kw_builder *b, kw_slice s) { compact(b, s, true); }

static void records_payload(kw_builder *b, const kw_records *r)
{
    switch (r->source) {
    case KW_RECORDS_FILE:
        kw_build_file_range(b, r->fd, r->offset, r->bytes.len);
        break;
    case KW_RECORDS_LEND:
        kw_build_reference(b, r->bytes.ptr, r->bytes.len);
        break;
    default:
        kw_build_raw(b, r->bytes.ptr, r->bytes.len);
    }
}

void kw_build_records(kw_builder *b, const kw_records *r)
{
    if (kw_records_is_null(r)) {
        put_be(b, 0xffffffffu, 4);
        return;
    }
    if (r->bytes.len > INT32_MAX) {
        kw_builder_fail(b, KW_ERR_TOO_LONG);
        return;
    }
    size_t mark = b->size;
    records_payload(b, r);
    kw_build_length_i32(b, mark);
}

void kw_build_compact_records(kw_builder *b, const kw_records *r)
{
    if (kw_records_is_null(r)) {
        put_be(b, 0, 1);
        return;
    }
    if (r->bytes.len > INT32_MAX - 1) {
        kw_builder_fail(b, KW_ERR_TOO_LONG);
        return;
    }
    size_t mark = b->size;
    records_payload(b, r);
    kw_build_length_compact(b, mark);
}

/* ---- prefixes ----------------------------------------------------------------------- */

void kw_build_length_i32(kw_builder *b, size_t mark)
{
    size_t n = b->size - mark;
    if (n > INT32_MAX) {
        kw_builder_fail(b, KW_ERR_TOO_LONG);
        return;
    }
    put_be(b, n, 4);
}

void kw_build_length_uvarint(kw_builder *b, size_t mark)
{
    size_t n = b->size - mark;
    if (n > UINT32_MAX) {
        kw_builder_fail(b, KW_ERR_TOO_LONG);
        return;
    }
    kw_build_uvarint(b, (uint32_t)n);
}

void kw_build_length_compact(kw_builder *b, size_t mark)
{
    size_t n = b->size - mark;
    if (n >= UINT32_MAX) {
        kw_builder_fail(b, KW_ERR_TOO_LONG);
        return;
    }
    kw_build_uvarint(b, (uint32_t)n + 1);
}

void kw_build_length_varint(kw_builder *b, size_t mark)
{
    size_t n = b->size - mark;
    if (n > INT32_MAX) {
        kw_builder_fail(b, KW_ERR_TOO_LONG);
        return;
    }
    kw_build_varint(b, (int32_t)n);
}

void kw_build_count(kw_builder *b, int32_t count, bool compact_form)
{
    if (compact_form)
        kw_build_uvarint(b, count < 0 ? 0 : (uint32_t)count + 1);
    else
        kw_build_i32(b, count < 0 ? -1 : count);
}

/* ---- lent bytes and files ----------------------------------------------------------------- */

void kw_build_reference(kw_builder *b, const void *data, size_t len)
{
    if (b->err || len == 0)
        return;
    close_run(b);
    kw_segment s = {KW_SEGMENT_BYTES, true, data, len, -1, 0};
    push_segment(b, &s);
    if (!b->err)
        b->size += len;
}

void kw_build_file_range(kw_builder *b, int fd, int64_t offset, size_t len)
{
    if (b->err || len == 0)
        return;
    close_run(b);
    kw_segment s = {KW_SEGMENT_FILE, false, NULL, len, fd, offset};
    push_segment(b, &s);
    if (!b->err)
        b->size += len;
}

/* ---- checksums over written bytes ------------------------------------------------------------ */

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

/* Feeds the first n bytes of the output, in wire order, to fn. */
static uint32_t crc_front(kw_builder *b, size_t n, crc_fn fn)
{
    uint32_t crc = 0;
    size_t run = b->mark_head - b->head;
    size_t take = run < n ? run : n;
    crc = fn(crc, b->buf + b->head, take);
    n -= take;
    for (size_t i = b->seg_next; n > 0 && i < b->seg_cap; i++) {
        const kw_segment *s = &b->segs[i];
        if (s->kind == KW_SEGMENT_FILE) {
            kw_builder_fail(b, KW_ERR_FILE_IN_CHECKSUM);
            return 0;
        }
        take = s->len < n ? s->len : n;
        crc = fn(crc, s->ptr, take);
        n -= take;
    }
    return crc;
}

uint32_t kw_builder_crc32c_since(kw_builder *b, size_t mark)
{
    return b->err ? 0 : crc_front(b, b->size - mark, kw_crc32c);
}

uint32_t kw_builder_crc32_since(kw_builder *b, size_t mark)
{
    return b->err ? 0 : crc_front(b, b->size - mark, kw_crc32);
}

/* ---- output ---------------------------------------------------------------------------------------- */

const kw_segment *kw_builder_segments(kw_builder *b, size_t *count)
{
    if (b->seg_next == b->seg_cap) {
        /* one run of builder bytes: no segment array needed */
        /* a builder that never got storage has no buffer to point into (NULL + 0 is UB) */
        kw_segment s = {KW_SEGMENT_BYTES, false, b->buf ? b->buf + b->head : NULL,
                        b->mark_head - b->head, -1, 0};
        b->single = s;
        *count = s.len ? 1 : 0;
        return &b->single;
    }
    close_run(b);
    *count = b->seg_cap - b->seg_next;
    return b->segs ? b->segs + b->seg_next : NULL;
}

const uint8_t *kw_builder_contiguous(const kw_builder *b)
{
    if (b->err || b->seg_next != b->seg_cap)
        return NULL;
    return b->buf ? b->buf + b->head : (const uint8_t *)"";
}

size_t kw_builder_copy_out(kw_builder *b, void *out, size_t cap)
{
    if (b->err || b->size > cap)
        return 0;
    uint8_t *dst = out;
    size_t n = b->mark_head - b->head;
    if (n)
        memcpy(dst, b->buf + b->head, n);
    for (size_t i = b->seg_next; i < b->seg_cap; i++) {
        const kw_segment *s = &b->segs[i];
        if (s->kind == KW_SEGMENT_FILE)
            return 0;
        memcpy(dst + n, s->ptr, s->len);
        n += s->len;
    }
    return n;
}

#define SEND_IOV 64

int kw_builder_send(kw_builder *b, int fd, size_t *sent)
{
    if (b->err) {
        errno = EINVAL;
        return -1;
    }
    size_t count;
    const kw_segment *segs = kw_builder_segments(b, &count);
    while (*sent < b->size) {
        /* find the segment holding byte *sent */
        size_t i = 0, at = 0;
        while (i < count && at + segs[i].len <= *sent)
            at += segs[i++].len;
        if (i == count)
            break;
        ssize_t n;
        if (segs[i].kind == KW_SEGMENT_FILE) {
            off_t off = (off_t)(segs[i].offset + (int64_t)(*sent - at));
            n = sendfile(fd, segs[i].fd, &off, segs[i].len - (*sent - at));
        } else {
            struct iovec iov[SEND_IOV];
            int k = 0;
            size_t skip = *sent - at;
            for (; i < count && k < SEND_IOV && segs[i].kind == KW_SEGMENT_BYTES; i++, k++) {
                iov[k].iov_base = (void *)(uintptr_t)(segs[i].ptr + skip);
                iov[k].iov_len = segs[i].len - skip;
                skip = 0;
            }
            n = writev(fd, iov, k);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        *sent += (size_t)n;
    }
    return 0;
}
