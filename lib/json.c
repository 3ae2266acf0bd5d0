/* The JSON printer: a visitor of the generic walker, buffered in pieces. */
#include "kwire/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwire/compress.h"
#include "kwire/records.h"

#define OUT_BUF 4096
#define NEST_MAX 64

struct out {
    kw_json_write_fn write;
    void *ctx;
    unsigned flags;
    size_t len;
    char buf[OUT_BUF];
    /* per nesting level: whether a member or element was written yet */
    bool wrote[NEST_MAX];
    int depth;
};

static void out_init(struct out *o, kw_json_write_fn write, void *ctx, unsigned flags)
{
    o->write = write;
    o->ctx = ctx;
    o->flags = flags;
    o->len = 0;
    o->depth = 0;
    o->wrote[0] = false;
}

static void flush(struct out *o)
{
    if (o->len) {
        o->write(o->ctx, o->buf, o->len);
        o->len = 0;
    }
}

static void put(struct out *o, const char *s, size_t n)
{
    if (n > OUT_BUF - o->len) {
        flush(o);
        if (n > OUT_BUF) {
            o->write(o->ctx, s, n);
            return;
        }
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void putf(struct out *o, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Starts a member or element: a comma when one came before at this level. */
static void sep(struct out *o)
{
    if (o->wrote[o->depth])
        put(o, ",", 1);
    o->wrote[o->depth] = true;
}

static void key(struct out *o, const char *name)
{
    sep(o);
    put(o, "\"", 1);
    puts_(o, name);
    put(o, "\":", 2);
}

static void open_(struct out *o, const char *c)
{
    puts_(o, c);
    if (o->depth < NEST_MAX - 1)
        o->depth++;
    o->wrote[o->depth] = false;
}

static void close_(struct out *o, const char *c)
{
    if (o->depth > 0)
        o->depth--;
    puts_(o, c);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    /* no overlong forms, surrogates or code points past U+10FFFF */
    if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

/* True when s is valid UTF-8 without control characters other than \t \n \r. */
static bool printable(kw_slice s)
{
    for (size_t i = 0; i < s.len;) {
        uint8_t c = s.ptr[i];
        if (c >= 0x20 && c < 0x7f) { /* plain ASCII: no decoding needed */
            i++;
            continue;
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return false;
        if (c == 0x7f)
            return false;
        size_t n = utf8_len(s.ptr + i, s.len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

static void write_hex(struct out *o, kw_slice s)
{
    static const char digits[] = "0123456789abcdef";
    put(o, "\"", 1);
    for (size_t i = 0; i < s.len; i++) {
        char two[2] = {digits[s.ptr[i] >> 4], digits[s.ptr[i] & 15]};
        put(o, two, 2);
    }
    put(o, "\"", 1);
}

/* A JSON string; bytes that are not valid UTF-8 become \u00XX escapes. */
static void write_string(struct out *o, kw_slice s)
{
    if (kw_slice_is_null(s)) {
        puts_(o, "null");
        return;
    }
    put(o, "\"", 1);
    size_t i = 0;
    while (i < s.len) {
        /* a run of plain ASCII goes out in one piece */
        size_t run = i;
        while (run < s.len && s.ptr[run] >= 0x20 && s.ptr[run] < 0x7f && s.ptr[run] != '"' &&
               s.ptr[run] != '\\')
            run++;
        if (run > i) {
            put(o, (const char *)s.ptr + i, run - i);
            i = run;
            continue;
        }
        uint8_t c = s.ptr[i];
        size_t n = utf8_len(s.ptr + i, s.len - i);
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            put(o, esc, 2);
        } else if (c == '\n') {
            puts_(o, "\\n");
        } else if (c == '\t') {
            puts_(o, "\\t");
        } else if (c == '\r') {
            puts_(o, "\\r");
        } else if (c < 0x20 || c == 0x7f || n == 0) {
            putf(o, "\\u%04x", c);
            n = 1;
        } else {
            put(o, (const char *)s.ptr + i, n);
        }
        i += n ? n : 1;
    }
    put(o, "\"", 1);
}

/* Keys and values of records: text where printable, else {"hex": ...}. */
static void write_data(struct out *o, kw_slice s)
{
    if (kw_slice_is_null(s)) {
        puts_(o, "null");
    } else if (printable(s)) {
        write_string(o, s);
    } else {
        puts_(o, "{\"hex\":");
        write_hex(o, s);
        puts_(o, "}");
    }
}

/* Kafka prints UUIDs as URL-safe base64 without padding. */
static void write_uuid(struct out *o, const kw_uuid *u)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char text[24];
    size_t n = 0;
    for (size_t i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)u->bytes[i] << 16;
        if (i + 1 < 16)
            v |= (uint32_t)u->bytes[i + 1] << 8;
        if (i + 2 < 16)
            v |= u->bytes[i + 2];
        text[n++] = b64[v >> 18 & 63];
        text[n++] = b64[v >> 12 & 63];
        if (i + 1 < 16)
            text[n++] = b64[v >> 6 & 63];
        if (i + 2 < 16)
            text[n++] = b64[v & 63];
    }
    put(o, "\"", 1);
    put(o, text, n);
    put(o, "\"", 1);
}

static const char *compression_name(kw_compression c)
{
    switch (c) {
    case KW_COMPRESSION_NONE: return "none";
    case KW_COMPRESSION_GZIP: return "gzip";
    case KW_COMPRESSION_SNAPPY: return "snappy";
    case KW_COMPRESSION_LZ4: return "lz4";
    case KW_COMPRESSION_ZSTD: return "zstd";
    default: return "unknown";
    }
}

static void write_error(struct out *o, kw_error e)
{
    key(o, "error");
    putf(o, "{\"code\":\"%s\",\"offset\":%zu,\"field\":", kw_err_name(e.code), e.offset);
    if (e.field)
        write_string(o, (kw_slice){(const uint8_t *)e.field, strlen(e.field)});
    else
        puts_(o, "null");
    puts_(o, "}");
}

static void write_record_list(struct out *o, kw_record_iter *it);

/*
 * Decompresses a batch's records into a heap buffer that grows up to
 * KW_JSON_DECOMPRESS_MAX, then writes them; the buffer is the printer's
 * only allocation, made only with KW_JSON_DECOMPRESS.
 */
static void write_decompressed(struct out *o, const kw_record_batch *b)
{
    size_t cap = b->records.len < 4096 ? 65536 : b->records.len * 16;
    for (;;) {
        if (cap > KW_JSON_DECOMPRESS_MAX)
            cap = KW_JSON_DECOMPRESS_MAX;
        uint8_t *buf = malloc(cap);
        if (!buf) {
            write_error(o, (kw_error){KW_ERR_OUT_OF_MEMORY, b->pos, "records"});
            return;
        }
        size_t len = 0;
        kw_err e = kw_record_batch_decompress(b, buf, cap, &len);
        if (e == KW_ERR_DECOMPRESSED_TOO_LARGE && cap < KW_JSON_DECOMPRESS_MAX) {
            free(buf);
            cap *= 2;
            continue;
        }
        if (e != KW_OK) {
            free(buf);
            write_error(o, (kw_error){e, b->pos, "records"});
            return;
        }
        key(o, "decompressed_bytes");
        putf(o, "%zu", len);
        kw_record_iter it;
        kw_record_iter_init_raw(&it, (kw_slice){buf, len}, b->record_count, 0);
        write_record_list(o, &it);
        free(buf);
        return;
    }
}

static void write_records_of(struct out *o, const kw_record_batch *b)
{
    kw_record_iter it;
    kw_record_iter_init(&it, b);
    write_record_list(o, &it);
}

static void write_record_list(struct out *o, kw_record_iter *it)
{
    key(o, "records");
    open_(o, "[");
    kw_record rec;
    int rc;
    while ((rc = kw_record_iter_next(it, &rec)) == 1) {
        sep(o);
        open_(o, "{");
        key(o, "offset_delta");
        putf(o, "%d", (int)rec.offset_delta);
        key(o, "timestamp_delta");
        putf(o, "%lld", (long long)rec.timestamp_delta);
        key(o, "attributes");
        putf(o, "%d", rec.attributes);
        key(o, "key");
        write_data(o, rec.key);
        key(o, "value");
        write_data(o, rec.value);
        key(o, "headers");
        open_(o, "[");
        kw_record_header_iter hi;
        kw_record_header h;
        kw_record_header_iter_init(&hi, &rec);
        while (kw_record_header_iter_next_unchecked(&hi, &h)) {
            sep(o);
            open_(o, "{");
            key(o, "key");
            write_data(o, h.key);
            key(o, "value");
            write_data(o, h.value);
            close_(o, "}");
        }
        close_(o, "]");
        close_(o, "}");
    }
    close_(o, "]");
    if (rc < 0)
        write_error(o, kw_record_iter_error(it));
}

static void write_batch(struct out *o, const kw_batch *b)
{
    sep(o);
    open_(o, "{");
    if (b->magic == 2) {
        const kw_record_batch *v2 = &b->v2;
        key(o, "base_offset");
        putf(o, "%lld", (long long)v2->base_offset);
        key(o, "batch_length");
        putf(o, "%d", (int)v2->batch_length);
        key(o, "partition_leader_epoch");
        putf(o, "%d", (int)v2->partition_leader_epoch);
        key(o, "magic");
        puts_(o, "2");
        key(o, "crc");
        putf(o, "%u", (unsigned)v2->crc);
        if (o->flags & KW_JSON_VERIFY_CRC) {
            key(o, "crc_ok");
            puts_(o, kw_record_batch_verify_crc(v2) == KW_OK ? "true" : "false");
        }
        key(o, "attributes");
        putf(o, "%d", v2->attributes);
        key(o, "compression");
        putf(o, "\"%s\"", compression_name(kw_record_batch_compression(v2)));
        key(o, "timestamp_type");
        puts_(o, kw_record_batch_timestamp_type(v2) == KW_TIMESTAMP_LOG_APPEND_TIME ? "\"log_append\""
                                                                               : "\"create\"");
        key(o, "transactional");
        puts_(o, kw_record_batch_is_transactional(v2) ? "true" : "false");
        key(o, "control");
        puts_(o, kw_record_batch_is_control(v2) ? "true" : "false");
        key(o, "last_offset_delta");
        putf(o, "%d", (int)v2->last_offset_delta);
        key(o, "base_timestamp");
        putf(o, "%lld", (long long)v2->base_timestamp);
        key(o, "max_timestamp");
        putf(o, "%lld", (long long)v2->max_timestamp);
        key(o, "producer_id");
        putf(o, "%lld", (long long)v2->producer_id);
        key(o, "producer_epoch");
        putf(o, "%d", v2->producer_epoch);
        key(o, "base_sequence");
        putf(o, "%d", (int)v2->base_sequence);
        key(o, "record_count");
        putf(o, "%d", (int)v2->record_count);
        if (kw_record_batch_compression(v2) != KW_COMPRESSION_NONE) {
            key(o, "compressed_bytes");
            putf(o, "%zu", v2->records.len);
            if (o->flags & KW_JSON_DECOMPRESS)
                write_decompressed(o, v2);
        } else {
            write_records_of(o, v2);
        }
    } else {
        const kw_legacy_message *m = &b->legacy;
        key(o, "offset");
        putf(o, "%lld", (long long)m->offset);
        key(o, "magic");
        putf(o, "%d", m->magic);
        key(o, "crc");
        putf(o, "%u", (unsigned)m->crc);
        if (o->flags & KW_JSON_VERIFY_CRC) {
            key(o, "crc_ok");
            puts_(o, kw_legacy_message_verify_crc(m) == KW_OK ? "true" : "false");
        }
        key(o, "attributes");
        putf(o, "%d", m->attributes);
        key(o, "compression");
        putf(o, "\"%s\"", compression_name(kw_legacy_message_compression(m)));
        if (m->magic == 1) {
            key(o, "timestamp");
            putf(o, "%lld", (long long)m->timestamp);
        }
        key(o, "key");
        write_data(o, m->key);
        key(o, "value");
        write_data(o, m->value);
    }
    close_(o, "}");
}

static void write_records(struct out *o, kw_slice records, size_t base)
{
    if (kw_slice_is_null(records)) {
        puts_(o, "null");
        return;
    }
    if (!(o->flags & KW_JSON_RECORDS)) {
        write_hex(o, records);
        return;
    }
    open_(o, "{");
    key(o, "bytes");
    putf(o, "%zu", records.len);
    key(o, "batches");
    open_(o, "[");
    kw_batch_iter it;
    kw_batch_iter_init_at(&it, records, base, 0);
    kw_batch b;
    int rc;
    while ((rc = kw_batch_iter_next(&it, &b)) == 1)
        write_batch(o, &b);
    close_(o, "]");
    if (kw_batch_iter_partial(&it)) {
        key(o, "partial_bytes");
        putf(o, "%zu", kw_batch_iter_partial(&it));
    }
    if (rc < 0)
        write_error(o, kw_batch_iter_error(&it));
    close_(o, "}");
}

/* ---- the visitor --------------------------------------------------------- */

struct printer {
    struct out out;
    const uint8_t *base; /* start of the message buffer, for records offsets */
};

static void member_or_element(struct out *o, const kw_field_info *f, int32_t index)
{
    if (index >= 0 || !f)
        sep(o);
    else
        key(o, f->name);
}

static int on_value(void *ctx, const kw_field_info *f, int32_t index, const kw_value *v)
{
    struct printer *p = ctx;
    struct out *o = &p->out;
    member_or_element(o, f, index);
    switch ((kw_type)v->type) {
    case KW_TYPE_BOOL: puts_(o, v->u.b ? "true" : "false"); break;
    case KW_TYPE_INT8:
    case KW_TYPE_INT16:
    case KW_TYPE_UINT16:
    case KW_TYPE_INT32:
    case KW_TYPE_INT64: putf(o, "%lld", (long long)v->u.i); break;
    case KW_TYPE_FLOAT64:
        if (isfinite(v->u.f))
            putf(o, "%.17g", v->u.f);
        else
            putf(o, "\"%s\"", isnan(v->u.f) ? "NaN" : v->u.f > 0 ? "Infinity" : "-Infinity");
        break;
    case KW_TYPE_UUID: write_uuid(o, &v->u.uuid); break;
    case KW_TYPE_STRING: write_string(o, v->u.s); break;
    case KW_TYPE_BYTES:
        if (v->is_null)
            puts_(o, "null");
        else
            write_hex(o, v->u.s);
        break;
    case KW_TYPE_RECORDS:
        write_records(o, v->u.s, v->is_null ? 0 : (size_t)(v->u.s.ptr - p->base));
        break;
    case KW_TYPE_STRUCT: break;
    }
    return 0;
}

static int on_struct_begin(void *ctx, const kw_field_info *f, int32_t index, bool is_null)
{
    struct out *o = &((struct printer *)ctx)->out;
    member_or_element(o, f, index);
    if (is_null)
        puts_(o, "null");
    else
        open_(o, "{");
    return 0;
}

static int on_struct_end(void *ctx, const kw_field_info *f, int32_t index)
{
    (void)f;
    (void)index;
    close_(&((struct printer *)ctx)->out, "}");
    return 0;
}

static int on_array_begin(void *ctx, const kw_field_info *f, int32_t count)
{
    struct out *o = &((struct printer *)ctx)->out;
    key(o, f->name);
    if (count < 0)
        puts_(o, "null");
    else
        open_(o, "[");
    return 0;
}

static int on_array_end(void *ctx, const kw_field_info *f)
{
    (void)f;
    close_(&((struct printer *)ctx)->out, "]");
    return 0;
}

static int on_unknown_tag(void *ctx, uint32_t tag, kw_slice data)
{
    struct out *o = &((struct printer *)ctx)->out;
    char name[32];
    snprintf(name, sizeof name, "unknown_tag_%u", (unsigned)tag);
    key(o, name);
    write_hex(o, data);
    return 0;
}

kw_err kw_json_write_message(const kw_message_info *m, int16_t version, kw_reader *r,
                             unsigned flags, kw_json_write_fn write, void *ctx,
                             kw_decode_error *err)
{
    static const kw_visitor visitor = {
        on_value, on_struct_begin, on_struct_end, on_array_begin, on_array_end, on_unknown_tag,
    };
    struct printer p;
    out_init(&p.out, write, ctx, flags);
    p.base = r->base;
    open_(&p.out, "{");
    kw_err e = kw_walk(m, version, r, &visitor, &p, err);
    if (e == KW_OK)
        close_(&p.out, "}");
    flush(&p.out);
    return e;
}

void kw_json_write_records(kw_slice records, size_t base, unsigned flags, kw_json_write_fn write,
                           void *ctx)
{
    struct out o;
    out_init(&o, write, ctx, flags | KW_JSON_RECORDS);
    write_records(&o, records, base);
    flush(&o);
}

void kw_json_write_string(kw_slice s, kw_json_write_fn write, void *ctx)
{
    struct out o;
    out_init(&o, write, ctx, 0);
    write_string(&o, s);
    flush(&o);
}
