/* Shared parts of the fuzz targets: selectors, oracles, the JSON checker. */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kwf_fail(const char *fmt, ...)
{
    va_list ap;
    kwf_no_alloc_end(); /* reporting may allocate */
    va_start(ap, fmt);
    fputs("kwire fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* ---- selectors ------------------------------------------------------------ */

size_t kwf_pick_index(size_t n, uint32_t raw) { return raw < n ? raw : raw % n; }

int16_t kwf_pick_version(kw_versions range, uint16_t raw)
{
    int32_t as_int16 = raw >= 0x8000u ? (int32_t)raw - 0x10000 : (int32_t)raw;
    if (as_int16 >= range.lo && as_int16 <= range.hi)
        return (int16_t)as_int16;
    int32_t span = (int32_t)range.hi - (int32_t)range.lo + 1;
    if (span <= 0)
        return range.lo;
    return (int16_t)(range.lo + (int32_t)(raw % (uint32_t)span));
}

void kwf_pick_api(const uint8_t p[4], int16_t *api_key, int16_t *version)
{
    size_t n;
    const kw_api_info *table = kw_api_table(&n);
    const kw_api_info *a = &table[kwf_pick_index(n, kw_load_be16(p))];
    kw_versions range = {a->min_version, a->max_version};
    *api_key = a->key;
    *version = kwf_pick_version(range, kw_load_be16(p + 2));
}

const kw_message_info *const *kwf_metadata_messages(size_t *count)
{
    static const kw_message_info *list[512];
    static size_t n;
    if (n == 0) {
        size_t all_n;
        const kw_message_info *const *all = kw_messages(&all_n);
        for (size_t i = 0; i < all_n && n < sizeof list / sizeof list[0]; i++)
            if (all[i]->kind == KW_MSG_RECORD || all[i]->kind == KW_MSG_DATA ||
                all[i]->kind == KW_MSG_HEADER)
                list[n++] = all[i];
        if (n == 0)
            kwf_fail("no metadata record, data or header messages");
    }
    *count = n;
    return list;
}

const kw_message_info *kwf_pick_metadata(const uint8_t p[2], int16_t *version)
{
    size_t n;
    const kw_message_info *const *list = kwf_metadata_messages(&n);
    const kw_message_info *m = list[kwf_pick_index(n, p[0])];
    *version = kwf_pick_version(m->versions, p[1]);
    return m;
}

const kw_message_info *kwf_pick_any(const uint8_t p[4], int16_t *version)
{
    size_t n;
    const kw_message_info *const *list = kw_messages(&n);
    const kw_message_info *m = list[kwf_pick_index(n, kw_load_be16(p))];
    *version = kwf_pick_version(m->versions, kw_load_be16(p + 2));
    return m;
}

/* ---- decoder vs walker vs printer ---------------------------------------- */

kw_err kwf_check_message(const kw_message_info *m, int16_t version, const kw_reader *start,
                         kw_err code, const kw_decode_error *err, unsigned json_flags)
{
    if (!m) {
        if (code != KW_ERR_UNKNOWN_API_KEY)
            kwf_fail("no message for the key, yet the decoder said %s", kw_err_name(code));
        return code;
    }

    /* The walker, validating only; then the end check kw_message_decode makes. */
    kw_reader r = *start;
    kw_decode_error werr;
    memset(&werr, 0, sizeof werr);
    kwf_no_alloc_begin();
    kw_err walked = kw_walk(m, version, &r, NULL, NULL, &werr);
    kwf_no_alloc_end();
    kw_err whole = walked;
    size_t offset = werr.offset;
    const char *path = werr.path;
    if (walked == KW_OK) {
        kw_reader_expect_end(&r);
        whole = r.err;
        offset = r.err_offset;
        path = "";
    }
    if (whole != code)
        kwf_fail("%s v%d: the decoder says %s, the walker %s at %zu (%s)", m->name, version,
                 kw_err_name(code), kw_err_name(whole), offset, path);
    if (code != KW_OK) {
        if (err->code != code)
            kwf_fail("%s v%d: returned %s but err.code is %s", m->name, version,
                     kw_err_name(code), kw_err_name(err->code));
        if (err->offset != offset)
            kwf_fail("%s v%d %s: the decoder fails at byte %zu, the walker at %zu", m->name,
                     version, kw_err_name(code), err->offset, offset);
        if (strcmp(err->path, path) != 0)
            kwf_fail("%s v%d %s at %zu: the decoder's path '%s', the walker's '%s'", m->name,
                     version, kw_err_name(code), offset, err->path, path);
        if (err->message != m || err->version != version)
            kwf_fail("%s v%d: the error names %s v%d", m->name, version,
                     err->message ? err->message->name : "no message", err->version);
        size_t limit = (size_t)(start->end - start->base);
        if (err->offset > limit)
            kwf_fail("%s v%d: error offset %zu past the buffer (%zu bytes)", m->name, version,
                     err->offset, limit);
    }

    /* The printer walks again; its JSON must be valid as far as it goes. */
    kwf_json j;
    kwf_json_init(&j);
    kw_reader pr = *start;
    kw_decode_error perr;
    kwf_no_alloc_begin();
    kw_err printed = kw_json_write_message(m, version, &pr, json_flags, kwf_json_feed, &j, &perr);
    kwf_no_alloc_end();
    if (printed != walked)
        kwf_fail("%s v%d: the walker says %s, the printer %s", m->name, version,
                 kw_err_name(walked), kw_err_name(printed));
    if (!kwf_json_ok_so_far(&j))
        kwf_fail("%s v%d: invalid JSON at output byte %zu", m->name, version, j.fail_at);
    if (printed == KW_OK && !kwf_json_complete(&j))
        kwf_fail("%s v%d: the walk succeeded but the JSON is incomplete (depth %zu)", m->name,
                 version, j.depth);
    return code;
}

/* ---- JSON checker ---------------------------------------------------------- */

enum {
    J_VALUE,        /* a value must come */
    J_ARRAY_FIRST,  /* after '[': a value or ']' */
    J_OBJECT_FIRST, /* after '{': a key or '}' */
    J_KEY,          /* after ',' in an object */
    J_COLON,
    J_AFTER,        /* after a value inside an array or object */
    J_DONE,         /* the top-level value is complete */
    J_STRING,
    J_ESCAPE,
    J_UHEX,
    J_LITERAL,
    J_NUM_MINUS,
    J_NUM_ZERO,
    J_NUM_INT,
    J_NUM_DOT,
    J_NUM_FRAC,
    J_NUM_E,
    J_NUM_ESIGN,
    J_NUM_EXP,
};

void kwf_json_init(kwf_json *j)
{
    memset(j, 0, sizeof *j);
    j->state = J_VALUE;
}

static void j_fail(kwf_json *j)
{
    if (!j->failed) {
        j->failed = true;
        j->fail_at = j->bytes;
    }
}

static void j_value_done(kwf_json *j) { j->state = j->depth == 0 ? J_DONE : J_AFTER; }

static void j_push(kwf_json *j, char c, int state)
{
    if (j->depth >= KWF_JSON_DEPTH) {
        j_fail(j);
        return;
    }
    j->stack[j->depth++] = c;
    j->state = state;
}

static void j_pop(kwf_json *j, char open)
{
    if (j->depth == 0 || j->stack[j->depth - 1] != open) {
        j_fail(j);
        return;
    }
    j->depth--;
    j_value_done(j);
}

static bool j_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static bool j_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static void j_begin_value(kwf_json *j, uint8_t c)
{
    switch (c) {
    case '{': j_push(j, '{', J_OBJECT_FIRST); break;
    case '[': j_push(j, '[', J_ARRAY_FIRST); break;
    case '"':
        j->state = J_STRING;
        j->after_string = J_AFTER; /* resolved by j_value_done when the string ends */
        break;
    case '-': j->state = J_NUM_MINUS; break;
    case '0': j->state = J_NUM_ZERO; break;
    case 't': j->literal = "true"; goto literal;
    case 'f': j->literal = "false"; goto literal;
    case 'n': j->literal = "null"; goto literal;
    default:
        if (c >= '1' && c <= '9')
            j->state = J_NUM_INT;
        else
            j_fail(j);
        break;
    }
    return;
literal:
    j->literal_pos = 1;
    j->state = J_LITERAL;
}

/* One string byte outside escapes: quotes end it, UTF-8 must be well formed. */
static void j_string_byte(kwf_json *j, uint8_t c)
{
    if (j->utf8_left > 0) {
        if (c < j->utf8_lo || c > j->utf8_hi) {
            j_fail(j);
            return;
        }
        j->utf8_left--;
        j->utf8_lo = 0x80;
        j->utf8_hi = 0xbf;
        return;
    }
    if (c == '"') {
        if (j->after_string == J_COLON)
            j->state = J_COLON;
        else
            j_value_done(j);
        return;
    }
    if (c == '\\') {
        j->state = J_ESCAPE;
        return;
    }
    if (c < 0x20) {
        j_fail(j);
        return;
    }
    if (c < 0x80)
        return;
    j->utf8_lo = 0x80;
    j->utf8_hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        j->utf8_left = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        j->utf8_left = 2;
        if (c == 0xe0)
            j->utf8_lo = 0xa0; /* no overlong forms */
        if (c == 0xed)
            j->utf8_hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        j->utf8_left = 3;
        if (c == 0xf0)
            j->utf8_lo = 0x90;
        if (c == 0xf4)
            j->utf8_hi = 0x8f; /* nothing past U+10FFFF */
    } else {
        j_fail(j);
    }
}

static void j_byte(kwf_json *j, uint8_t c)
{
    for (;;) { /* a number ends at the byte after it, which is then read again */
        switch (j->state) {
        case J_VALUE:
            if (!j_space(c))
                j_begin_value(j, c);
            return;
        case J_ARRAY_FIRST:
            if (j_space(c))
                return;
            if (c == ']')
                j_pop(j, '[');
            else
                j_begin_value(j, c);
            return;
        case J_OBJECT_FIRST:
        case J_KEY:
            if (j_space(c))
                return;
            if (c == '}' && j->state == J_OBJECT_FIRST) {
                j_pop(j, '{');
            } else if (c == '"') {
                j->state = J_STRING;
                j->after_string = J_COLON;
            } else {
                j_fail(j);
            }
            return;
        case J_COLON:
            if (c == ':')
                j->state = J_VALUE;
            else if (!j_space(c))
                j_fail(j);
            return;
        case J_AFTER:
            if (j_space(c))
                return;
            if (c == ',')
                j->state = j->stack[j->depth - 1] == '{' ? J_KEY : J_VALUE;
            else if (c == '}')
                j_pop(j, '{');
            else if (c == ']')
                j_pop(j, '[');
            else
                j_fail(j);
            return;
        case J_DONE:
            if (!j_space(c))
                j_fail(j);
            return;
        case J_STRING: j_string_byte(j, c); return;
        case J_ESCAPE:
            if (c == 'u') {
                j->hex_left = 4;
                j->state = J_UHEX;
            } else if (c != '\0' && strchr("\"\\/bfnrt", c)) {
                j->state = J_STRING;
            } else {
                j_fail(j);
            }
            return;
        case J_UHEX:
            if (!(j_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                j_fail(j);
            } else if (--j->hex_left == 0) {
                j->state = J_STRING;
            }
            return;
        case J_LITERAL:
            if (c != (uint8_t)j->literal[j->literal_pos]) {
                j_fail(j);
                return;
            }
            if (j->literal[++j->literal_pos] == '\0')
                j_value_done(j);
            return;
        case J_NUM_MINUS:
            if (c == '0')
                j->state = J_NUM_ZERO;
            else if (c >= '1' && c <= '9')
                j->state = J_NUM_INT;
            else
                j_fail(j);
            return;
        case J_NUM_ZERO:
        case J_NUM_INT:
            if (j_digit(c) && j->state == J_NUM_INT)
                return;
            if (c == '.') {
                j->state = J_NUM_DOT;
                return;
            }
            if (c == 'e' || c == 'E') {
                j->state = J_NUM_E;
                return;
            }
            break; /* the number ended */
        case J_NUM_DOT:
            if (j_digit(c))
                j->state = J_NUM_FRAC;
            else
                j_fail(j);
            return;
        case J_NUM_FRAC:
            if (j_digit(c))
                return;
            if (c == 'e' || c == 'E') {
                j->state = J_NUM_E;
                return;
            }
            break;
        case J_NUM_E:
            if (c == '+' || c == '-')
                j->state = J_NUM_ESIGN;
            else if (j_digit(c))
                j->state = J_NUM_EXP;
            else
                j_fail(j);
            return;
        case J_NUM_ESIGN:
            if (j_digit(c))
                j->state = J_NUM_EXP;
            else
                j_fail(j);
            return;
        case J_NUM_EXP:
            if (j_digit(c))
                return;
            break;
        default: j_fail(j); return;
        }
        j_value_done(j); /* the number ended before c; read c in the new state */
    }
}

void kwf_json_feed(void *ctx, const char *data, size_t len)
{
    kwf_json *j = ctx;
    for (size_t i = 0; i < len && !j->failed; i++) {
        j_byte(j, (uint8_t)data[i]);
        j->bytes++;
    }
}

bool kwf_json_ok_so_far(const kwf_json *j) { return !j->failed; }

bool kwf_json_complete(const kwf_json *j)
{
    if (j->failed || j->depth != 0)
        return false;
    switch (j->state) {
    case J_DONE:
    case J_NUM_ZERO:
    case J_NUM_INT:
    case J_NUM_FRAC:
    case J_NUM_EXP: return true;
    default: return false;
    }
}

/* ---- records ------------------------------------------------------------- */

static bool inside(kw_slice s, const uint8_t *lo, const uint8_t *hi)
{
    if (kw_slice_is_null(s))
        return true;
    return s.ptr >= lo && s.ptr <= hi && s.len <= (size_t)(hi - s.ptr);
}

static void check_error_offset(const char *what, kw_error e, size_t base, size_t len)
{
    if (e.code == KW_OK)
        kwf_fail("%s: failed without an error code", what);
    if (e.offset < base || e.offset - base > len)
        kwf_fail("%s: %s at offset %zu, outside [%zu, %zu]", what, kw_err_name(e.code), e.offset,
                 base, base + len);
}

static void check_record_iter(kw_record_iter *it, const uint8_t *lo, const uint8_t *hi,
                              const kw_record_batch *b, int32_t record_count, size_t base,
                              size_t len)
{
    kw_record rec;
    int rc;
    int32_t n = 0;
    const uint8_t *expect = lo;
    while ((rc = kw_record_iter_next(it, &rec)) == 1) {
        if (rec.raw.ptr != expect || !inside(rec.raw, lo, hi))
            kwf_fail("record %d does not follow the one before it", (int)n);
        expect = rec.raw.ptr + rec.raw.len;
        const uint8_t *rlo = rec.raw.ptr, *rhi = rec.raw.ptr + rec.raw.len;
        if (!inside(rec.key, rlo, rhi) || !inside(rec.value, rlo, rhi) ||
            !inside(rec.headers, rlo, rhi))
            kwf_fail("record %d: key, value or headers outside the record", (int)n);
        if (rec.header_count < 0)
            kwf_fail("record %d: header count %d after validation", (int)n, (int)rec.header_count);
        kw_record_header_iter hi_;
        kw_record_header h;
        int32_t headers = 0;
        kw_record_header_iter_init(&hi_, &rec);
        const uint8_t *hlo = rec.headers.ptr, *hhi = rec.headers.ptr + rec.headers.len;
        while (kw_record_header_iter_next_unchecked(&hi_, &h)) {
            if (kw_slice_is_null(h.key))
                kwf_fail("record %d header %d: null key after validation", (int)n, (int)headers);
            if (!inside(h.key, hlo, hhi) || !inside(h.value, hlo, hhi))
                kwf_fail("record %d header %d: outside the headers", (int)n, (int)headers);
            if (++headers > rec.header_count)
                break;
        }
        if (headers != rec.header_count)
            kwf_fail("record %d: %d headers walked, %d counted", (int)n, (int)headers,
                     (int)rec.header_count);
        if (b) {
            int64_t v;
            int16_t type;
            (void)kw_record_offset(b, &rec, &v);
            (void)kw_record_timestamp(b, &rec, &v);
            if (kw_record_batch_is_control(b))
                (void)kw_record_control_type(&rec, &type);
        }
        n++;
    }
    if (rc == 0) {
        if (n != record_count)
            kwf_fail("%d records walked, %d promised", (int)n, (int)record_count);
        if (expect != hi)
            kwf_fail("the record walk ended %zu bytes early", (size_t)(hi - expect));
    } else {
        check_error_offset("kw_record_iter", kw_record_iter_error(it), base, len);
        if (kw_record_iter_next(it, &rec) != -1)
            kwf_fail("kw_record_iter: the error did not latch");
    }
}

static void check_batch(const kw_batch *b, kw_slice records, size_t base)
{
    const uint8_t *lo = b->raw.ptr, *hi = b->raw.ptr + b->raw.len;
    if (b->pos != base + (size_t)(b->raw.ptr - records.ptr))
        kwf_fail("entry at %zu: pos says %zu", base + (size_t)(b->raw.ptr - records.ptr), b->pos);
    if (b->magic == 2) {
        const kw_record_batch *v2 = &b->v2;
        if (v2->batch_length < 0 || (size_t)v2->batch_length + KW_ENTRY_OVERHEAD != b->raw.len)
            kwf_fail("batch at %zu: length %d for %zu bytes", b->pos, (int)v2->batch_length,
                     b->raw.len);
        if (v2->raw.ptr != b->raw.ptr || v2->raw.len != b->raw.len || v2->pos != b->pos)
            kwf_fail("batch at %zu: raw differs from the entry's", b->pos);
        if (v2->records.ptr != lo + KW_BATCH_V2_HEADER || !inside(v2->records, lo, hi) ||
            v2->records.ptr + v2->records.len != hi)
            kwf_fail("batch at %zu: records are not the bytes after the header", b->pos);
        bool crc_ok = kw_record_batch_compute_crc(v2) == v2->crc;
        if (crc_ok != (kw_record_batch_verify_crc(v2) == KW_OK))
            kwf_fail("batch at %zu: compute and verify disagree", b->pos);
        int64_t last;
        (void)kw_record_batch_last_offset(v2, &last);
        size_t rbase = b->pos + KW_BATCH_V2_HEADER;
        kw_record_iter it;
        kw_record_iter_init(&it, v2);
        if (kw_record_batch_compression(v2) != KW_COMPRESSION_NONE) {
            kw_record r;
            if (kw_record_iter_next(&it, &r) != -1 ||
                kw_record_iter_error(&it).code != KW_ERR_COMPRESSED)
                kwf_fail("batch at %zu: a compressed batch was walked", b->pos);
            /* The record parser over bytes from anywhere, as after decompression. */
            kw_record_iter_init_raw(&it, v2->records, v2->record_count, rbase);
            check_record_iter(&it, v2->records.ptr, hi, NULL, v2->record_count, b->pos,
                              b->raw.len);
        } else {
            check_record_iter(&it, v2->records.ptr, hi, v2, v2->record_count, b->pos,
                              b->raw.len);
        }
    } else if (b->magic == 0 || b->magic == 1) {
        const kw_legacy_message *m = &b->legacy;
        if (m->magic != b->magic || m->raw.ptr != b->raw.ptr || m->raw.len != b->raw.len)
            kwf_fail("message at %zu: magic or raw differs from the entry's", b->pos);
        if (m->message_size < 0 || (size_t)m->message_size + KW_ENTRY_OVERHEAD != b->raw.len)
            kwf_fail("message at %zu: size %d for %zu bytes", b->pos, (int)m->message_size,
                     b->raw.len);
        if (!inside(m->key, lo, hi) || !inside(m->value, lo, hi))
            kwf_fail("message at %zu: key or value outside the message", b->pos);
        bool crc_ok = kw_legacy_message_compute_crc(m) == m->crc;
        if (crc_ok != (kw_legacy_message_verify_crc(m) == KW_OK))
            kwf_fail("message at %zu: compute and verify disagree", b->pos);
        (void)kw_legacy_message_timestamp_type(m);
    } else {
        kwf_fail("entry at %zu: magic %d handed out", b->pos, b->magic);
    }
}

#define KWF_MAX_ENTRIES 4096

/* One pass: returns the number of entries; rc and err say how it ended. */
static size_t records_pass(kw_slice records, size_t base, unsigned flags, const uint8_t **raws,
                           size_t *lens, int *rc_out, kw_error *err_out, size_t *partial_out)
{
    kw_batch_iter it;
    kw_batch b;
    int rc;
    size_t n = 0;
    const uint8_t *start = records.ptr ? records.ptr : (const uint8_t *)"";
    const uint8_t *end = start + (records.ptr ? records.len : 0);
    const uint8_t *expect = start;
    kw_batch_iter_init_at(&it, records, base, flags);
    while ((rc = kw_batch_iter_next(&it, &b)) == 1) {
        if (b.raw.ptr != expect || !inside(b.raw, start, end) || b.raw.len < KW_ENTRY_OVERHEAD)
            kwf_fail("entry %zu does not follow the one before it", n);
        expect = b.raw.ptr + b.raw.len;
        if (!(flags & KW_VERIFY_CRC))
            check_batch(&b, records, base);
        if (raws && n < KWF_MAX_ENTRIES) {
            raws[n] = b.raw.ptr;
            lens[n] = b.raw.len;
        }
        n++;
    }
    *rc_out = rc;
    *partial_out = kw_batch_iter_partial(&it);
    *err_out = kw_batch_iter_error(&it);
    if (rc == 0) {
        if ((size_t)(end - expect) != *partial_out)
            kwf_fail("the walk ended with %zu bytes left but partial says %zu",
                     (size_t)(end - expect), *partial_out);
    } else {
        check_error_offset("kw_batch_iter", *err_out, base, (size_t)(end - start));
        if (kw_batch_iter_next(&it, &b) != -1)
            kwf_fail("kw_batch_iter: the error did not latch");
    }
    return n;
}

void kwf_check_records(kw_slice records, size_t base)
{
    static const uint8_t *raws[KWF_MAX_ENTRIES];
    static size_t lens[KWF_MAX_ENTRIES];
    int rc_plain, rc_crc;
    kw_error err_plain, err_crc;
    size_t partial_plain, partial_crc;

    kwf_no_alloc_begin();
    size_t n_plain =
        records_pass(records, base, 0, raws, lens, &rc_plain, &err_plain, &partial_plain);
    kwf_no_alloc_end();

    /* With the CRC check the walk is the same until the first bad checksum. */
    kw_batch_iter it;
    kw_batch b;
    size_t n_crc = 0;
    kwf_no_alloc_begin();
    kw_batch_iter_init_at(&it, records, base, KW_VERIFY_CRC);
    while ((rc_crc = kw_batch_iter_next(&it, &b)) == 1) {
        if (n_crc >= n_plain)
            kwf_fail("the CRC pass found more entries than the plain one (%zu)", n_plain);
        if (n_crc < KWF_MAX_ENTRIES && (b.raw.ptr != raws[n_crc] || b.raw.len != lens[n_crc]))
            kwf_fail("entry %zu differs between the plain and the CRC pass", n_crc);
        n_crc++;
    }
    err_crc = kw_batch_iter_error(&it);
    partial_crc = kw_batch_iter_partial(&it);
    kwf_no_alloc_end();

    if (rc_crc < 0 && err_crc.code == KW_ERR_BAD_CRC) {
        /* Entry n_crc had a bad checksum: the plain pass handed it out, or
         * failed on it (the CRC may be checked before its other fields). */
        if (n_crc > n_plain || (n_crc == n_plain && rc_plain == 0))
            kwf_fail("BAD_CRC on entry %zu, which the plain pass did not read", n_crc);
        return;
    }
    if (rc_crc != rc_plain || n_crc != n_plain || err_crc.code != err_plain.code ||
        err_crc.offset != err_plain.offset || partial_crc != partial_plain)
        kwf_fail("the CRC pass (%d, %zu entries, %s at %zu) and the plain pass (%d, %zu, %s at "
                 "%zu) end differently",
                 rc_crc, n_crc, kw_err_name(err_crc.code), err_crc.offset, rc_plain, n_plain,
                 kw_err_name(err_plain.code), err_plain.offset);
}
