/*
 * kwire-dump annotations. The library's JSON printer shows what is on the
 * wire: error codes as numbers, record offsets and timestamps as deltas,
 * the consumer protocol's subscriptions and assignments as hex. The dump
 * tool adds what a reader wants next to them by rewriting the printer's
 * compact output as it streams by, so the printer stays the one place
 * that walks a message into JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

/* ---- times ------------------------------------------------------------------ */

bool format_iso8601_ms(int64_t ms, char out[32])
{
    /* 0000-01-01 .. 9999-12-31 keeps the year at four digits */
    if (ms < -62167219200000LL || ms > 253402300799999LL)
        return false;
    int64_t days = ms / 86400000, rest = ms % 86400000;
    if (rest < 0) {
        rest += 86400000;
        days--;
    }
    /* civil date from days since 1970-01-01 (Howard Hinnant's algorithm) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    /* every part is in range now: int holds it */
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)year % 10000, (int)month % 100,
             (int)day % 100, (int)(rest / 3600000) % 100, (int)(rest / 60000 % 60),
             (int)(rest / 1000 % 60), (int)(rest % 1000));
    return true;
}

/* ---- the consumer protocol's groups ---------------------------------------------- */

/* Groups whose JoinGroup named a protocol type, for SyncGroup before v5 (no protocol_type). */
#define GROUPS_MAX 1024
static struct group_type {
    char *group_id;
    bool consumer;
} g_groups[GROUPS_MAX];
static size_t g_group_count, g_group_next;

static struct group_type *group_find(kw_slice id)
{
    for (size_t i = 0; i < g_group_count; i++) {
        const char *g = g_groups[i].group_id;
        if (strlen(g) == id.len && memcmp(g, id.ptr, id.len) == 0)
            return &g_groups[i];
    }
    return NULL;
}

static void group_learn(kw_slice id, bool consumer)
{
    if (!id.ptr)
        return;
    struct group_type *g = group_find(id);
    if (!g) {
        char *copy = malloc(id.len + 1);
        if (!copy)
            return;
        memcpy(copy, id.ptr, id.len);
        copy[id.len] = '\0';
        /* full: the oldest entry makes room */
        g = &g_groups[g_group_next];
        free(g->group_id);
        g->group_id = copy;
        g_group_next = (g_group_next + 1) % GROUPS_MAX;
        if (g_group_count < GROUPS_MAX)
            g_group_count++;
    }
    g->consumer = consumer;
}

/* The top-level group_id and protocol_type of a message. */
struct group_fields {
    int depth;
    bool has_type;
    kw_slice group_id, protocol_type;
};

static int group_value(void *ctx, const kw_field_info *f, int32_t index, const kw_value *v)
{
    (void)index;
    struct group_fields *g = ctx;
    if (g->depth != 0 || !f || v->type != KW_TYPE_STRING)
        return 0;
    if (strcmp(f->name, "group_id") == 0) {
        g->group_id = v->u.s;
    } else if (strcmp(f->name, "protocol_type") == 0 && !v->is_null) {
        g->has_type = true;
        g->protocol_type = v->u.s;
    }
    return 0;
}

static int group_struct_begin(void *ctx, const kw_field_info *f, int32_t index, bool is_null)
{
    (void)f, (void)index;
    if (!is_null)
        ((struct group_fields *)ctx)->depth++;
    return 0;
}

static int group_struct_end(void *ctx, const kw_field_info *f, int32_t index)
{
    (void)f, (void)index;
    ((struct group_fields *)ctx)->depth--;
    return 0;
}

static bool is_consumer(kw_slice type)
{
    return type.len == 8 && memcmp(type.ptr, "consumer", 8) == 0;
}

bool group_uses_consumer_protocol(const kw_message_info *m, int16_t version,
                                  const kw_reader *start, const struct pending *req)
{
    if (m->api_key != KW_API_JOIN_GROUP && m->api_key != KW_API_SYNC_GROUP)
        return false;
    static const kw_visitor vis = {group_value, group_struct_begin, group_struct_end, NULL, NULL,
                                   NULL};
    struct group_fields g;
    memset(&g, 0, sizeof g);
    kw_reader r = *start;
    if (kw_walk(m, version, &r, &vis, &g, NULL) != KW_OK)
        return false;
    bool request = m->kind == KW_MSG_REQUEST;
    if (g.has_type) {
        if (request)
            group_learn(g.group_id, is_consumer(g.protocol_type));
        return is_consumer(g.protocol_type);
    }
    if (!request)
        return req && req->consumer_protocol;
    const struct group_type *known = g.group_id.ptr ? group_find(g.group_id) : NULL;
    return known && known->consumer;
}

/* ---- error codes for --summary ---------------------------------------------------- */

struct error_count {
    int key;
};

static int error_value(void *ctx, const kw_field_info *f, int32_t index, const kw_value *v)
{
    (void)index;
    const struct error_count *c = ctx;
    if (!f || strcmp(f->name, "error_code") != 0 || v->type < KW_TYPE_INT8 ||
        v->type > KW_TYPE_INT64 || v->u.i == 0)
        return 0;
    int64_t code = v->u.i;
    size_t slot = code >= -1 && code <= ERROR_SLOTS - 3 ? (size_t)(code + 1) : ERROR_SLOTS - 1;
    g_stats.error_codes[c->key][slot]++;
    return 0;
}

void count_error_codes(const kw_message_info *m, int16_t version, const kw_reader *start)
{
    static const kw_visitor vis = {error_value, NULL, NULL, NULL, NULL, NULL};
    struct error_count c = {m->api_key >= 0 && m->api_key < KW_API_KEY_COUNT ? m->api_key
                                                                             : KW_API_KEY_COUNT};
    kw_reader r = *start;
    kw_walk(m, version, &r, &vis, &c, NULL);
}

/* ---- the rewriter ------------------------------------------------------------------ */

#define NEST_MAX 96
#define NAME_MAX_LEN 32
#define LITERAL_MAX 64
#define EMIT_CAP 4096

struct level {
    char kind;                  /* '{' or '[' */
    char name[NAME_MAX_LEN];    /* the member holding it; an element takes its array's */
    bool element;               /* an element of an array */
};

static struct annotator {
    bool consumer_protocol;
    int16_t api_key;
    bool response;
    /* nesting: levels[0] is the message object */
    struct level levels[NEST_MAX];
    int depth;          /* levels open; beyond NEST_MAX only counted */
    bool expect_key;    /* in an object, before a member's name */
    char key[NAME_MAX_LEN]; /* name of the member whose value comes next */
    bool key_truncated;
    /* a string going by */
    bool in_string, escaped, string_is_key;
    char text[NAME_MAX_LEN];   /* its first bytes */
    size_t text_len;
    bool holding;       /* a consumer protocol hex string held back for decoding */
    char *held;
    size_t held_len, held_cap;
    bool held_overflow;
    /* a number or true/false/null going by */
    char literal[LITERAL_MAX];
    size_t literal_len;
    bool in_literal;
    /* the record batch open (its level), -1 outside one */
    int batch_level;
    bool has_base_offset, has_base_ts, has_max_ts, log_append;
    int64_t base_offset, base_ts, max_ts;
    /* pending output */
    char emit[EMIT_CAP];
    size_t emit_len;
} an;

static void emit_flush(void)
{
    if (an.emit_len) {
        out_write(an.emit, an.emit_len);
        an.emit_len = 0;
    }
}

static void emit(const char *s, size_t n)
{
    if (n > EMIT_CAP - an.emit_len) {
        emit_flush();
        if (n > EMIT_CAP) {
            out_write(s, n);
            return;
        }
    }
    memcpy(an.emit + an.emit_len, s, n);
    an.emit_len += n;
}

static void emit_c(char c) { emit(&c, 1); }

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void emit_f(const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        emit(tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static const struct level *level_at(int i)
{
    return i >= 0 && i < an.depth && i < NEST_MAX ? &an.levels[i] : NULL;
}

static bool level_is(int i, char kind, const char *name, bool element)
{
    const struct level *l = level_at(i);
    return l && l->kind == kind && l->element == element && strcmp(l->name, name) == 0;
}

static bool key_is(const char *name)
{
    return !an.key_truncated && strcmp(an.key, name) == 0;
}

static void emit_iso(const char *member, int64_t ms)
{
    char iso[32];
    if (ms >= 0 && format_iso8601_ms(ms, iso))
        emit_f(",\"%s\":\"%s\"", member, iso);
}

static bool parse_i64(const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end)
        return false;
    *out = (int64_t)v;
    return true;
}

static bool in_record(void)
{
    /* an object, element of "records", inside the batch */
    int top = an.depth - 1;
    return an.batch_level >= 0 && top > an.batch_level && level_is(top, '{', "records", true);
}

/* A number or literal value has gone by: what to add after it. */
static void after_literal(void)
{
    int top = an.depth - 1;
    const struct level *l = level_at(top);
    if (!l || l->kind != '{')
        return;
    int64_t v;
    if (!parse_i64(an.literal, &v))
        return;
    if (key_is("error_code")) {
        const char *name = v >= INT16_MIN && v <= INT16_MAX ? kw_kafka_error_name((int)v) : NULL;
        if (name)
            emit_f(",\"error_code_name\":\"%s\"", name);
        return;
    }
    if (an.batch_level == top) {
        if (key_is("base_offset")) {
            an.has_base_offset = true;
            an.base_offset = v;
        } else if (key_is("base_timestamp")) {
            an.has_base_ts = true;
            an.base_ts = v;
            emit_iso("base_timestamp_iso", v);
        } else if (key_is("max_timestamp")) {
            an.has_max_ts = true;
            an.max_ts = v;
            emit_iso("max_timestamp_iso", v);
        } else if (key_is("timestamp")) { /* a magic 1 message */
            emit_iso("timestamp_iso", v);
        }
        return;
    }
    if (!in_record())
        return;
    if (key_is("offset_delta") && an.has_base_offset && v >= INT32_MIN && v <= INT32_MAX &&
        !(v > 0 && an.base_offset > INT64_MAX - v) && !(v < 0 && an.base_offset < INT64_MIN - v)) {
        emit_f(",\"offset\":%" PRId64, an.base_offset + v);
    } else if (key_is("timestamp_delta")) {
        /* LogAppendTime: the broker's time, the batch's max_timestamp, stands for every record */
        int64_t ts;
        if (an.log_append && an.has_max_ts)
            ts = an.max_ts;
        else if (an.has_base_ts && !(v > 0 && an.base_ts > INT64_MAX - v) &&
                 !(v < 0 && an.base_ts < INT64_MIN - v))
            ts = an.base_ts + v;
        else
            return;
        emit_f(",\"timestamp\":%" PRId64, ts);
        emit_iso("timestamp_iso", ts);
    }
}

/* A string value has gone by (its first bytes in text). */
static void after_string(void)
{
    if (an.batch_level == an.depth - 1 && key_is("timestamp_type"))
        an.log_append = an.text_len == 10 && memcmp(an.text, "log_append", 10) == 0;
}

/* Whether the string value starting now is consumer protocol bytes to decode. */
static const kw_message_info *consumer_message_here(void)
{
    if (!an.consumer_protocol)
        return NULL;
    int top = an.depth - 1;
    if (an.api_key == KW_API_JOIN_GROUP && key_is("metadata") && top == 2 &&
        level_is(1, '[', an.response ? "members" : "protocols", false) &&
        level_is(2, '{', an.response ? "members" : "protocols", true))
        return kw_message_by_name("ConsumerProtocolSubscription");
    if (an.api_key == KW_API_SYNC_GROUP && key_is("assignment") &&
        (an.response ? top == 0
                     : top == 2 && level_is(1, '[', "assignments", false) &&
                           level_is(2, '{', "assignments", true)))
        return kw_message_by_name("ConsumerProtocolAssignment");
    return NULL;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Collects the JSON of a nested message before it is spliced in. */
struct capture {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void capture_sink(void *ctx, const char *data, size_t len)
{
    struct capture *c = ctx;
    if (c->failed)
        return;
    if (len > c->cap - c->len) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap - c->len < len) {
            if (cap > SIZE_MAX / 2) {
                c->failed = true;
                return;
            }
            cap *= 2;
        }
        char *grown = realloc(c->buf, cap);
        if (!grown) {
            c->failed = true;
            return;
        }
        c->buf = grown;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, data, len);
    c->len += len;
}

/*
 * The held hex string as {"version":N, ...the message's fields}, or as it
 * was when it does not decode: a version prefix, then the message. A
 * newer version than kwire knows is read as the newest it knows, with the
 * rest ignored, as Kafka's own consumer does.
 */
static void emit_consumer_bytes(const kw_message_info *m)
{
    bool done = false;
    uint8_t *bytes = NULL;
    size_t n = an.held_len / 2;
    if (m && !an.held_overflow && an.held_len % 2 == 0 && n >= 2 && (bytes = malloc(n))) {
        bool hex_ok = true;
        for (size_t i = 0; i < n && hex_ok; i++) {
            int hi = hex_digit(an.held[2 * i]), lo = hex_digit(an.held[2 * i + 1]);
            hex_ok = hi >= 0 && lo >= 0;
            bytes[i] = (uint8_t)(hex_ok ? hi << 4 | lo : 0);
        }
        int16_t version = (int16_t)kw_load_be16(bytes);
        int16_t read_as = version > m->versions.hi ? m->versions.hi : version;
        kw_reader r;
        kw_reader_init(&r, bytes, n);
        kw_reader_skip(&r, 2);
        kw_reader check = r;
        if (hex_ok && version >= m->versions.lo &&
            kw_walk(m, read_as, &check, NULL, NULL, NULL) == KW_OK &&
            (kw_reader_remaining(&check) == 0 || version > m->versions.hi)) {
            struct capture c = {NULL, 0, 0, false};
            kw_json_write_message(m, read_as, &r, 0, capture_sink, &c, NULL);
            if (!c.failed && c.len >= 2 && c.buf[0] == '{') {
                emit_f("{\"version\":%d", version);
                if (c.len > 2)
                    emit_c(',');
                emit(c.buf + 1, c.len - 1);
                done = true;
            }
            free(c.buf);
        }
    }
    free(bytes);
    if (!done) {
        emit_c('"');
        emit(an.held, an.held_len);
        emit_c('"');
    }
}

static void hold_char(char c)
{
    if (an.held_overflow)
        return;
    if (an.held_len == an.held_cap) {
        size_t cap = an.held_cap ? an.held_cap * 2 : 1024;
        char *grown = cap > an.held_cap ? realloc(an.held, cap) : NULL;
        if (!grown) {
            an.held_overflow = true; /* the rest is lost: printed as hex it would lie */
            return;
        }
        an.held = grown;
        an.held_cap = cap;
    }
    an.held[an.held_len++] = c;
}

static void end_literal(void)
{
    if (!an.in_literal)
        return;
    an.in_literal = false;
    an.literal[an.literal_len < LITERAL_MAX ? an.literal_len : LITERAL_MAX - 1] = '\0';
    after_literal();
}

static void open_level(char kind)
{
    struct level *l = an.depth < NEST_MAX ? &an.levels[an.depth] : NULL;
    const struct level *parent = level_at(an.depth - 1);
    if (l) {
        l->kind = kind;
        l->element = parent && parent->kind == '[';
        if (l->element)
            memcpy(l->name, parent->name, NAME_MAX_LEN);
        else if (parent && !an.key_truncated)
            memcpy(l->name, an.key, NAME_MAX_LEN);
        else
            l->name[0] = '\0';
        if (kind == '{' && l->element && strcmp(l->name, "batches") == 0) {
            an.batch_level = an.depth;
            an.has_base_offset = an.has_base_ts = an.has_max_ts = an.log_append = false;
        }
    }
    an.depth++;
    an.expect_key = kind == '{';
}

static void close_level(void)
{
    if (an.depth > 0)
        an.depth--;
    if (an.batch_level >= an.depth)
        an.batch_level = -1;
    /* after a value: a ',' or the parent's end comes next */
    an.expect_key = false;
}

static void annotate_char(char c)
{
    if (an.in_string) {
        bool closes = !an.escaped && c == '"';
        if (an.escaped)
            an.escaped = false;
        else if (c == '\\')
            an.escaped = true;
        if (closes) {
            an.in_string = false;
            if (an.holding) {
                an.holding = false;
                emit_consumer_bytes(consumer_message_here());
                return;
            }
            emit_c(c);
            if (an.string_is_key) {
                an.key_truncated = an.text_len >= NAME_MAX_LEN;
                size_t n = an.key_truncated ? NAME_MAX_LEN - 1 : an.text_len;
                memcpy(an.key, an.text, n);
                an.key[n] = '\0';
            } else {
                after_string();
            }
            return;
        }
        if (an.holding) {
            hold_char(c);
            return;
        }
        if (an.text_len < NAME_MAX_LEN)
            an.text[an.text_len] = c;
        an.text_len++;
        emit_c(c);
        return;
    }
    switch (c) {
    case '"':
        end_literal();
        an.in_string = true;
        an.escaped = false;
        an.text_len = 0;
        an.string_is_key = an.expect_key;
        if (!an.string_is_key && consumer_message_here()) {
            an.holding = true;
            an.held_len = 0;
            an.held_overflow = false;
            return;
        }
        emit_c(c);
        return;
    case '{':
    case '[':
        end_literal();
        emit_c(c);
        open_level(c);
        return;
    case '}':
    case ']':
        end_literal();
        emit_c(c);
        close_level();
        return;
    case ',': {
        end_literal();
        emit_c(c);
        const struct level *l = level_at(an.depth - 1);
        an.expect_key = l ? l->kind == '{' : an.depth > 0;
        return;
    }
    case ':':
        end_literal();
        emit_c(c);
        an.expect_key = false;
        return;
    default:
        if (!an.in_literal) {
            an.in_literal = true;
            an.literal_len = 0;
        }
        if (an.literal_len < LITERAL_MAX)
            an.literal[an.literal_len] = c;
        an.literal_len++;
        emit_c(c);
    }
}

static void annotate_sink(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++)
        annotate_char(data[i]);
    emit_flush();
}

void print_annotated_message(const kw_message_info *m, int16_t version, kw_reader *r,
                             bool consumer_protocol)
{
    char *held = an.held;
    size_t held_cap = an.held_cap;
    memset(&an, 0, sizeof an);
    an.held = held; /* kept for the next message */
    an.held_cap = held_cap;
    an.batch_level = -1;
    an.consumer_protocol = consumer_protocol;
    an.api_key = m->api_key;
    an.response = m->kind == KW_MSG_RESPONSE;
    kw_json_write_message(m, version, r, KW_JSON_RECORDS | KW_JSON_VERIFY_CRC | KW_JSON_DECOMPRESS,
                          annotate_sink, NULL, NULL);
    emit_flush();
}
