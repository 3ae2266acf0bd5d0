/*
 * kwire-dump, one frame at a time: reads the header, decodes the whole
 * body with the generated views, matches responses to their requests,
 * applies the filters, prints the JSON line and, when the bytes do not
 * decode, says which field broke, where, and what it wanted.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

/* ---- where a frame came from ----------------------------------------------- */

void print_origin(FILE *to, const struct frame_origin *o)
{
    if (!o->conn) {
        fprintf(to, "%s: frame %" PRIu64 " (stream offset %" PRIu64 ")", o->source, o->frame_no,
                o->offset);
        return;
    }
    fprintf(to, "%s: conn %" PRIu32 " %s %s -> %s, frame %" PRIu64 " (packet %" PRIu64
                ", stream offset %" PRIu64 ")",
            o->source, o->conn, o->dir == DIR_RESPONSE ? "response" : "request",
            o->dir == DIR_RESPONSE ? o->server : o->client,
            o->dir == DIR_RESPONSE ? o->client : o->server, o->frame_no, o->packet, o->offset);
}

/* ---- filters ---------------------------------------------------------------- */

static bool api_selected(const struct dump_options *opt, int16_t key)
{
    if (!opt->api_count)
        return true;
    for (size_t i = 0; i < opt->api_count; i++)
        if (opt->apis[i] == key)
            return true;
    return false;
}

static bool corr_selected(const struct dump_options *opt, int32_t correlation_id)
{
    return !opt->has_correlation_id || opt->correlation_id == correlation_id;
}

/*
 * Topic names in a message, found by field: "topic", "topic_name", the
 * "name" of a struct about topics (TopicProduceData, MetadataResponseTopic,
 * not CreatableTopicConfig), elements of "topic_names". Messages that name
 * topics by id only (Fetch v13+) match through the ids that Metadata,
 * CreateTopics and DescribeTopicPartitions responses tied to names earlier
 * in the input.
 */
#define TOPIC_DEPTH 64
#define TOPIC_IDS_MAX 65536
struct topic_walk {
    const struct dump_options *opt;
    bool found;
    bool learn; /* remember (topic_id, name) pairs; walk the whole message */
    const kw_struct_info *structs[TOPIC_DEPTH];
    int struct_depth;
    const kw_field_info *arrays[TOPIC_DEPTH];
    int array_depth;
    /* per struct level: the topic id and the name seen in it */
    kw_uuid ids[TOPIC_DEPTH];
    kw_slice names[TOPIC_DEPTH];
    bool has_id[TOPIC_DEPTH], has_name[TOPIC_DEPTH];
};

static struct topic_id {
    kw_uuid id;
    char *name;
} *g_topic_ids;
static size_t g_topic_id_count, g_topic_id_cap;

static const char *topic_id_name(const kw_uuid *id)
{
    for (size_t i = g_topic_id_count; i-- > 0;)
        if (memcmp(g_topic_ids[i].id.bytes, id->bytes, 16) == 0)
            return g_topic_ids[i].name;
    return NULL;
}

static void topic_id_learn(const kw_uuid *id, kw_slice name)
{
    static const kw_uuid zero;
    if (!name.ptr || !memcmp(id->bytes, zero.bytes, 16))
        return;
    const char *known = topic_id_name(id);
    if (known && strlen(known) == name.len && memcmp(known, name.ptr, name.len) == 0)
        return;
    if (g_topic_id_count == g_topic_id_cap) {
        size_t cap = g_topic_id_cap ? g_topic_id_cap * 2 : 64;
        if (cap > TOPIC_IDS_MAX)
            return;
        struct topic_id *n = realloc(g_topic_ids, cap * sizeof *n);
        if (!n)
            return;
        g_topic_ids = n;
        g_topic_id_cap = cap;
    }
    char *copy = malloc(name.len + 1);
    if (!copy)
        return;
    memcpy(copy, name.ptr, name.len);
    copy[name.len] = '\0';
    g_topic_ids[g_topic_id_count].id = *id;
    g_topic_ids[g_topic_id_count].name = copy; /* the latest tie wins: searched from the end */
    g_topic_id_count++;
}

static bool name_wanted(const struct dump_options *opt, const char *p, size_t n)
{
    for (size_t i = 0; i < opt->topic_count; i++) {
        const char *t = opt->topics[i];
        if (p && strlen(t) == n && memcmp(p, t, n) == 0)
            return true;
    }
    return false;
}

static bool is_topic_field(const struct topic_walk *w, const kw_field_info *f)
{
    if (!f) {
        if (w->array_depth <= 0 || w->array_depth > TOPIC_DEPTH)
            return false;
        const char *a = w->arrays[w->array_depth - 1]->name;
        return strcmp(a, "topic_names") == 0 || strcmp(a, "subscribed_topic_names") == 0;
    }
    if (strcmp(f->name, "topic") == 0 || strcmp(f->name, "topic_name") == 0)
        return true;
    if (strcmp(f->name, "name") != 0 || w->struct_depth <= 0 || w->struct_depth > TOPIC_DEPTH)
        return false;
    const kw_struct_info *st = w->structs[w->struct_depth - 1];
    return st && strstr(st->name, "Topic") && !strstr(st->name, "Config");
}

static int topic_value(void *ctx, const kw_field_info *f, int32_t index, const kw_value *v)
{
    (void)index;
    struct topic_walk *w = ctx;
    int d = w->struct_depth - 1;
    bool level = d >= 0 && d < TOPIC_DEPTH;
    if (v->type == KW_TYPE_STRING && !v->is_null && is_topic_field(w, f)) {
        if (name_wanted(w->opt, (const char *)v->u.s.ptr, v->u.s.len))
            w->found = true;
        if (level && f) {
            w->names[d] = v->u.s;
            w->has_name[d] = true;
        }
    } else if (v->type == KW_TYPE_UUID && f && strcmp(f->name, "topic_id") == 0) {
        const char *name = topic_id_name(&v->u.uuid);
        if (name && name_wanted(w->opt, name, strlen(name)))
            w->found = true;
        if (level) {
            w->ids[d] = v->u.uuid;
            w->has_id[d] = true;
        }
    }
    return w->found && !w->learn; /* stop at the first match */
}

static int topic_struct_begin(void *ctx, const kw_field_info *f, int32_t index, bool is_null)
{
    (void)index;
    (void)is_null;
    struct topic_walk *w = ctx;
    int d = w->struct_depth;
    if (d >= 0 && d < TOPIC_DEPTH) {
        w->structs[d] = f ? f->sub : NULL;
        w->has_id[d] = w->has_name[d] = false;
    }
    w->struct_depth++;
    return 0;
}

static void topic_struct_done(struct topic_walk *w, int d)
{
    if (w->learn && d >= 0 && d < TOPIC_DEPTH && w->has_id[d] && w->has_name[d])
        topic_id_learn(&w->ids[d], w->names[d]);
}

static int topic_struct_end(void *ctx, const kw_field_info *f, int32_t index)
{
    (void)f;
    (void)index;
    struct topic_walk *w = ctx;
    topic_struct_done(w, w->struct_depth - 1);
    w->struct_depth--;
    return 0;
}

static int topic_array_begin(void *ctx, const kw_field_info *f, int32_t count)
{
    struct topic_walk *w = ctx;
    if (count < 0)
        return 0; /* no array_end follows a null array */
    if (w->array_depth >= 0 && w->array_depth < TOPIC_DEPTH)
        w->arrays[w->array_depth] = f;
    w->array_depth++;
    return 0;
}

static int topic_array_end(void *ctx, const kw_field_info *f)
{
    (void)f;
    ((struct topic_walk *)ctx)->array_depth--;
    return 0;
}

/*
 * Whether a validated message names one of the --topic topics; with learn,
 * also remembers the topic ids it ties to names.
 */
static bool topics_match(const struct dump_options *opt, const kw_message_info *m, int16_t version,
                         const kw_reader *body, bool learn)
{
    static const kw_visitor vis = {topic_value, topic_struct_begin, topic_struct_end,
                                   topic_array_begin, topic_array_end, NULL};
    struct topic_walk w;
    memset(&w, 0, sizeof w);
    w.opt = opt;
    w.learn = learn;
    w.structs[0] = m->root;
    w.struct_depth = 1;
    kw_reader r = *body;
    kw_walk(m, version, &r, &vis, &w, NULL);
    topic_struct_done(&w, 0);
    return w.found;
}

/* Responses that tie topic ids to names. */
static bool names_topic_ids(int16_t key)
{
    return key == KW_API_METADATA || key == KW_API_CREATE_TOPICS ||
           key == KW_API_DESCRIBE_TOPIC_PARTITIONS;
}

/* ---- counting ----------------------------------------------------------------- */

static struct api_counts *counts_of(int16_t key, int16_t version)
{
    int k = key >= 0 && key < KW_API_KEY_COUNT ? key : KW_API_KEY_COUNT;
    int v = version >= 0 && version < SUMMARY_VERSIONS - 1 ? version : SUMMARY_VERSIONS - 1;
    return &g_stats.api[k][v];
}

static void count_frame(int16_t key, int16_t version, int dir, size_t size, bool error)
{
    struct api_counts *c = counts_of(key, version);
    c->frames[dir]++;
    c->bytes[dir] += size + KW_FRAME_PREFIX;
    g_stats.frames++;
    g_stats.bytes += size + KW_FRAME_PREFIX;
    if (error) {
        c->errors[dir]++;
        g_stats.errors++;
        g_stats.failures++;
    }
}

/* ---- what a failing field wanted ------------------------------------------------- */

struct err_detail {
    bool have_start;
    size_t field_start; /* first byte of the failing field */
    bool have_need;
    uint64_t need;      /* bytes the field wanted from need_at */
    size_t need_at;
    char what[96];      /* where the need comes from */
};

/* Remembers how far the walk got: the start of the field that fails. */
struct track {
    const kw_reader *r;
    size_t last;
};

static int track_value(void *ctx, const kw_field_info *f, int32_t i, const kw_value *v)
{
    (void)f, (void)i, (void)v;
    struct track *t = ctx;
    t->last = kw_reader_offset(t->r);
    return 0;
}

static int track_struct_begin(void *ctx, const kw_field_info *f, int32_t i, bool is_null)
{
    (void)is_null;
    return track_value(ctx, f, i, NULL);
}

static int track_struct_end(void *ctx, const kw_field_info *f, int32_t i)
{
    return track_value(ctx, f, i, NULL);
}

static int track_array_begin(void *ctx, const kw_field_info *f, int32_t count)
{
    return track_value(ctx, f, count, NULL);
}

static int track_array_end(void *ctx, const kw_field_info *f)
{
    return track_value(ctx, f, 0, NULL);
}

static size_t min_struct_size(const kw_struct_info *st, int16_t v, bool flex, int depth);

static size_t min_elem_size(const kw_field_info *f, int16_t v, bool msg_flex, int depth)
{
    bool flex = msg_flex && !f->never_flexible;
    switch (f->type) {
    case KW_TYPE_STRUCT: return min_struct_size(f->sub, v, msg_flex, depth + 1);
    case KW_TYPE_STRING: return flex ? 1 : 2;
    case KW_TYPE_BOOL:
    case KW_TYPE_INT8: return 1;
    case KW_TYPE_INT16:
    case KW_TYPE_UINT16: return 2;
    case KW_TYPE_INT32: return 4;
    case KW_TYPE_INT64:
    case KW_TYPE_FLOAT64: return 8;
    case KW_TYPE_UUID: return 16;
    default: return 1;
    }
}

/* The fewest bytes a struct takes, as the walker counts them. */
static size_t min_struct_size(const kw_struct_info *st, int16_t v, bool flex, int depth)
{
    if (!st || depth > 32)
        return 1;
    size_t total = 0;
    for (uint16_t i = 0; i < st->field_count; i++) {
        const kw_field_info *f = &st->fields[i];
        if (!kw_versions_has(f->versions, v) || kw_versions_has(f->tagged, v))
            continue;
        bool ff = flex && !f->never_flexible;
        if (f->is_array)
            total += ff ? 1 : 4;
        else if (f->type == KW_TYPE_STRUCT)
            total += kw_versions_has(f->nullable, v) ? 1 : min_struct_size(f->sub, v, flex, depth + 1);
        else if (f->type == KW_TYPE_BYTES || f->type == KW_TYPE_RECORDS)
            total += ff ? 1 : 4;
        else
            total += min_elem_size(f, v, flex, depth);
    }
    return total + (flex ? 1 : 0);
}

/* The field a path such as ".topic_data[0].partition_data" names. */
static const kw_field_info *field_of_path(const kw_message_info *m, int16_t v, const char *path,
                                          bool *element)
{
    const kw_struct_info *st = m->root;
    const kw_field_info *f = NULL;
    const char *p = path;
    *element = false;
    while (*p == '.') {
        p++;
        size_t n = strcspn(p, ".[");
        if (!st)
            return NULL;
        f = NULL;
        for (uint16_t i = 0; i < st->field_count; i++) {
            const kw_field_info *c = &st->fields[i];
            if (strlen(c->name) == n && memcmp(c->name, p, n) == 0 &&
                kw_versions_has(c->versions, v)) {
                f = c;
                break;
            }
        }
        if (!f)
            return NULL;
        p += n;
        *element = *p == '[';
        if (*element)
            p += strcspn(p, "]") + (strchr(p, ']') ? 1 : 0);
        st = f->type == KW_TYPE_STRUCT ? f->sub : NULL;
    }
    return *p ? NULL : f;
}

/*
 * Works out, from the message description and the bytes, where the failing
 * field began and how many bytes it wanted: the walker reports the code,
 * the offset and the path; the rest is read again here.
 */
static void explain(const kw_message_info *m, int16_t version, const kw_reader *start,
                    const uint8_t *body, size_t size, const kw_decode_error *err,
                    struct err_detail *d)
{
    memset(d, 0, sizeof *d);
    static const kw_visitor vis = {track_value, track_struct_begin, track_struct_end,
                                   track_array_begin, track_array_end, NULL};
    kw_reader r = *start;
    struct track t = {&r, kw_reader_offset(start)};
    kw_decode_error again;
    memset(&again, 0, sizeof again);
    if (kw_walk(m, version, &r, &vis, &t, &again) != KW_OK && again.code == err->code &&
        again.offset == err->offset && t.last <= err->offset) {
        d->have_start = true;
        d->field_start = t.last;
    }
    if (err->code == KW_ERR_TRAILING_BYTES || !err->path[0])
        return;
    bool element;
    const kw_field_info *f = field_of_path(m, version, err->path, &element);
    if (!f)
        return;
    bool msg_flex = m->first_flexible >= 0 && version >= m->first_flexible;
    bool flex = msg_flex && !f->never_flexible;
    size_t fixed = 0;
    switch (f->type) {
    case KW_TYPE_BOOL:
    case KW_TYPE_INT8: fixed = 1; break;
    case KW_TYPE_INT16:
    case KW_TYPE_UINT16: fixed = 2; break;
    case KW_TYPE_INT32: fixed = 4; break;
    case KW_TYPE_INT64:
    case KW_TYPE_FLOAT64: fixed = 8; break;
    case KW_TYPE_UUID: fixed = 16; break;
    default: break;
    }
    static const char *const type_names[] = {"bool",  "int8",   "int16", "uint16",
                                             "int32", "int64",  "float64", "uuid",
                                             "string", "bytes", "records", "struct"};
    const char *tname = f->type < sizeof type_names / sizeof *type_names ? type_names[f->type] : "?";

    if (f->is_array && !element) {
        /* the count */
        if (!d->have_start)
            return;
        kw_reader c;
        kw_reader_init(&c, body, size);
        kw_reader_skip(&c, d->field_start);
        int64_t count = flex ? (int64_t)kw_read_uvarint(&c) - 1 : kw_read_i32(&c);
        if (!kw_reader_ok(&c)) {
            d->have_need = true;
            d->need = flex ? 1 : 4;
            d->need_at = d->field_start;
            snprintf(d->what, sizeof d->what, "the array count");
            return;
        }
        if (err->code == KW_ERR_COUNT_TOO_LARGE && count > 0) {
            size_t each = min_elem_size(f, version, msg_flex, 0);
            d->have_need = true;
            d->need = (uint64_t)count * (each ? each : 1);
            d->need_at = kw_reader_offset(&c);
            if (f->type == KW_TYPE_STRUCT)
                snprintf(d->what, sizeof d->what, "%" PRId64 " elements of at least %zu bytes each",
                         count, each ? each : 1);
            else
                snprintf(d->what, sizeof d->what, "%" PRId64 " %s elements of %s%zu bytes each",
                         count, tname, f->type == KW_TYPE_STRING ? "at least " : "",
                         each ? each : 1);
        }
        return;
    }
    if (fixed && err->code == KW_ERR_TRUNCATED) {
        d->have_need = true;
        d->need = fixed;
        d->need_at = d->have_start ? d->field_start : err->offset;
        snprintf(d->what, sizeof d->what, "an %s", tname);
        if (tname[0] != 'i' && tname[0] != 'u')
            snprintf(d->what, sizeof d->what, "a %s", tname);
        return;
    }
    if ((f->type == KW_TYPE_STRING || f->type == KW_TYPE_BYTES || f->type == KW_TYPE_RECORDS) &&
        d->have_start) {
        kw_reader c;
        kw_reader_init(&c, body, size);
        kw_reader_skip(&c, d->field_start);
        bool is_string = f->type == KW_TYPE_STRING;
        int64_t len = flex ? (int64_t)kw_read_uvarint(&c) - 1
                           : is_string ? kw_read_i16(&c) : kw_read_i32(&c);
        if (!kw_reader_ok(&c)) {
            d->have_need = true;
            d->need = flex ? 1 : is_string ? 2 : 4;
            d->need_at = d->field_start;
            snprintf(d->what, sizeof d->what, "the %s length", tname);
            return;
        }
        if (err->code == KW_ERR_TRUNCATED && len >= 0 && kw_reader_offset(&c) == err->offset) {
            d->have_need = true;
            d->need = (uint64_t)len;
            d->need_at = err->offset;
            snprintf(d->what, sizeof d->what, "the %s length at byte %zu", tname, d->field_start);
        }
    }
}

static void print_detail(FILE *to, size_t size, const kw_decode_error *err,
                         const struct err_detail *d)
{
    if (d->have_need && d->need_at <= size && d->need > size - d->need_at) {
        fprintf(to, "  expected: %" PRIu64 " bytes from byte %zu (%s); remaining: %zu bytes\n",
                d->need, d->need_at, d->what, size - d->need_at);
    } else {
        size_t at = err->offset <= size ? err->offset : size;
        fprintf(to, "  remaining: %zu bytes from byte %zu to the end of the frame", size - at, at);
        if (d->have_start && d->field_start != err->offset)
            fprintf(to, "; the field starts at byte %zu", d->field_start);
        fputc('\n', to);
    }
}

static void json_error(const kw_decode_error *err, size_t size, const struct err_detail *d)
{
    out_printf(",\"error\":{\"code\":\"%s\",\"message\":", kw_err_name(err->code));
    const char *msg = kw_err_message(err->code);
    out_json_string((kw_slice){(const uint8_t *)msg, strlen(msg)});
    out_str(",\"path\":");
    out_json_string((kw_slice){(const uint8_t *)err->path, strlen(err->path)});
    out_printf(",\"offset\":%zu", err->offset);
    if (d && d->have_start)
        out_printf(",\"field_offset\":%zu", d->field_start);
    if (d && d->have_need && d->need_at <= size && d->need > size - d->need_at)
        out_printf(",\"expected\":%" PRIu64 ",\"expected_at\":%zu", d->need, d->need_at);
    size_t at = err->offset <= size ? err->offset : size;
    out_printf(",\"remaining\":%zu}", d && d->have_need && d->need_at <= size ? size - d->need_at
                                                                             : size - at);
}

/* A header or framing error: no description to walk, only code and offset. */
static void report_simple(const struct frame_origin *o, const uint8_t *body, size_t size,
                          kw_err code, size_t offset, const char *what)
{
    print_origin(stderr, o);
    fprintf(stderr, ": %s: %s (%s) at byte %zu of the frame\n", what, kw_err_name(code),
            kw_err_message(code), offset);
    size_t at = offset <= size ? offset : size;
    fprintf(stderr, "  remaining: %zu bytes from byte %zu to the end of the frame\n", size - at, at);
    print_hex_window(stderr, body, size, offset);
}

/* ---- printing -------------------------------------------------------------------- */

static void print_frame_start(const struct frame_origin *o, size_t size, bool response,
                              int16_t key, int16_t version, int32_t correlation_id)
{
    const kw_api_info *api = kw_api_lookup(key);
    out_str("{\"source\":");
    out_json_string((kw_slice){(const uint8_t *)o->source, strlen(o->source)});
    if (o->conn) {
        out_printf(",\"packet\":%" PRIu64 ",\"time\":%" PRId64 ".%0*" PRIu32, o->packet, o->ts_sec,
                   o->ts_nano ? 9 : 6, o->ts_nano ? o->ts_nsec : o->ts_nsec / 1000);
        out_printf(",\"conn\":%" PRIu32 ",\"client\":\"%s\",\"server\":\"%s\"", o->conn, o->client,
                   o->server);
    }
    out_printf(",\"frame\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"size\":%zu,\"direction\":\"%s\"",
               o->frame_no, o->offset, size, response ? "response" : "request");
    out_printf(",\"api_key\":%d,\"api_name\":\"%s\",\"api_version\":%d,\"correlation_id\":%" PRId32,
               key, api ? api->name : "unknown", version, correlation_id);
}

/*
 * Re-encodes a decoded body from its struct form (every array materialized
 * into items) and compares it with the input; on a difference, names the
 * field holding the first differing byte: a decode of the input cut just
 * before that byte fails in exactly that field.
 */
static int roundtrip(const struct frame_origin *o, const uint8_t *body, size_t size, size_t start,
                     const kw_message_info *m, int16_t version, kw_message *msg)
{
    static uint8_t arena_mem[1 << 24];
    kw_arena arena;
    kw_arena_init(&arena, arena_mem, sizeof arena_mem);
    if (m->materialize(&msg->u, &arena) != KW_OK) {
        print_origin(stderr, o);
        fprintf(stderr, ": roundtrip: message needs over %zu bytes of arena\n", arena.wanted);
        return -1;
    }
    kw_builder b;
    kw_builder_init_growable(&b, 0);
    kw_err e = m->encode(&b, version, &msg->u);
    size_t n = kw_builder_size(&b);
    uint8_t *enc = e == KW_OK ? malloc(n ? n : 1) : NULL;
    if (enc)
        kw_builder_copy_out(&b, enc, n);
    kw_builder_free(&b);
    if (!enc) {
        print_origin(stderr, o);
        fprintf(stderr, ": roundtrip: encode failed: %s\n",
                kw_err_name(e == KW_OK ? KW_ERR_OUT_OF_MEMORY : e));
        return -1;
    }
    const uint8_t *in = body + start;
    size_t len = size - start, diff = 0;
    while (diff < n && diff < len && enc[diff] == in[diff])
        diff++;
    free(enc);
    if (diff == len && n == len)
        return 0;
    kw_reader cut;
    kw_reader_init(&cut, body, start + diff);
    kw_reader_skip(&cut, start);
    kw_message scratch;
    kw_decode_error err;
    memset(&err, 0, sizeof err);
    kw_message_decode(m, &cut, version, &scratch, &err);
    print_origin(stderr, o);
    fprintf(stderr, ": roundtrip: %s v%d re-encodes to %zu bytes (input %zu); first difference in "
            "%s at byte %zu of the frame\n", m->name, version, n, len,
            err.path[0] ? err.path : "(message)", start + diff);
    print_hex_window(stderr, body, size, start + diff);
    return -1;
}

/*
 * The body after a header: decodes it, reports an error, or prints it and
 * ends the line. Returns 0 when printed, 1 when printed but the round trip
 * differed, -1 when it did not decode (the error is printed, the line
 * ended).
 */
static int print_body(const struct dump_options *opt, const struct frame_origin *o,
                      const uint8_t *body, size_t size, kw_reader *r, const kw_message_info *m,
                      int16_t version, kw_message *msg, bool consumer_protocol)
{
    int rc = 0;
    if (opt->roundtrip) {
        rc = roundtrip(o, body, size, kw_reader_offset(r), m, version, msg) ? 1 : 0;
        out_printf(",\"roundtrip\":\"%s\"", rc ? "differs" : "identical");
        if (rc)
            g_stats.failures++;
    }
    out_str(",\"body\":");
    print_annotated_message(m, version, r, consumer_protocol);
    out_end_line();
    return rc;
}

static void report_decode_error(const struct frame_origin *o, const uint8_t *body, size_t size,
                                const kw_message_info *m, int16_t version, const kw_reader *start,
                                const kw_decode_error *err, struct err_detail *d)
{
    explain(m, version, start, body, size, err, d);
    print_origin(stderr, o);
    fprintf(stderr, ": %s v%d %s: %s (%s) at byte %zu of the frame\n", m->name, version,
            err->path[0] ? err->path : "(after the last field)", kw_err_name(err->code),
            kw_err_message(err->code), err->offset);
    print_detail(stderr, size, err, d);
    print_hex_window(stderr, body, size, err->offset);
}

/* ---- requests ---------------------------------------------------------------------- */

static int dump_request(const struct dump_options *opt, struct pending_list *pending,
                        const struct frame_origin *o, const uint8_t *body, size_t size)
{
    kw_reader r;
    kw_request_header h;
    kw_error e;
    kw_reader_init(&r, body, size);
    memset(&h, 0, sizeof h);
    if (kw_request_header_parse(&r, &h, &e) != KW_OK) {
        bool known = e.offset > 2; /* the key and version were read */
        if (known && (!api_selected(opt, h.api_key) ||
                      (e.offset >= 8 && !corr_selected(opt, h.correlation_id))))
            return -1; /* filtered out */
        char what[64];
        snprintf(what, sizeof what, "request header .%s", e.field ? e.field : "?");
        report_simple(o, body, size, e.code, e.offset, what);
        if (known) {
            count_frame(h.api_key, h.api_version, 0, size, true);
        } else {
            g_stats.undecoded++;
            g_stats.errors++;
            g_stats.failures++;
        }
        return -1;
    }
    const kw_message_info *m = kw_message_for_api(h.api_key, false);
    bool supported = m && kw_api_version_supported(h.api_key, h.api_version);
    kw_reader start = r;
    kw_decode_error err;
    kw_message msg;
    memset(&err, 0, sizeof err);
    bool ok = supported && kw_message_decode(m, &r, h.api_version, &msg, &err) == KW_OK;
    bool selected = api_selected(opt, h.api_key) && corr_selected(opt, h.correlation_id);
    if (selected && ok && opt->topic_count)
        selected = topics_match(opt, m, h.api_version, &start, false);

    if (ok)
        g_stats.decoded++;
    /* a JoinGroup teaches the group's protocol type even when filtered out */
    bool consumer = ok && group_uses_consumer_protocol(m, h.api_version, &start, NULL);
    struct pending p = {h.correlation_id, h.api_key, h.api_version, selected, o->ts_sec,
                        o->ts_nsec, consumer};
    pending_add(pending, &p);
    if (!selected)
        return ok ? 0 : -1; /* filtered out: not reported */
    count_frame(h.api_key, h.api_version, 0, size, !ok);
    if (opt->summary) {
        if (!ok) /* still say what broke */
            goto report;
        return 0;
    }
    print_frame_start(o, size, false, h.api_key, h.api_version, h.correlation_id);
    out_printf(",\"header_version\":%d,\"client_id\":", h.header_version);
    out_json_string(h.client_id);
    if (ok) {
        r = start;
        return print_body(opt, o, body, size, &r, m, h.api_version, &msg, consumer) ? 1 : 0;
    }
report:
    if (!supported) {
        if (!opt->summary)
            out_printf(",\"error\":{\"code\":\"%s\",\"path\":\".api_version\",\"offset\":2}",
                       kw_err_name(m ? KW_ERR_UNSUPPORTED_VERSION : KW_ERR_UNKNOWN_API_KEY));
        report_simple(o, body, size, m ? KW_ERR_UNSUPPORTED_VERSION : KW_ERR_UNKNOWN_API_KEY,
                      m ? 2 : 0, m ? "request header .api_version" : "request header .api_key");
    } else {
        struct err_detail d;
        report_decode_error(o, body, size, m, h.api_version, &start, &err, &d);
        if (!opt->summary)
            json_error(&err, size, &d);
    }
    if (!opt->summary)
        out_end_line();
    return -1;
}

/* ---- responses --------------------------------------------------------------------- */

static int dump_response(const struct dump_options *opt, const struct frame_origin *o,
                         const uint8_t *body, size_t size, int16_t key, int16_t version,
                         const struct pending *req)
{
    kw_reader r;
    kw_response_header h;
    kw_error e;
    kw_reader_init(&r, body, size);
    int hv = kw_response_header_version(key, version);
    if (hv < 0 || kw_response_header_read(&r, hv, &h, &e) != KW_OK) {
        if (api_selected(opt, key)) {
            report_simple(o, body, size, hv < 0 ? KW_ERR_UNKNOWN_API_KEY : e.code,
                          hv < 0 ? 0 : e.offset, "response header");
            count_frame(key, version, 1, size, true);
        }
        return -1;
    }
    const kw_message_info *m = kw_message_for_api(key, true);
    kw_reader start = r;
    kw_decode_error err;
    kw_message msg;
    memset(&err, 0, sizeof err);
    /* the library's rule picks the version (KIP-511's v0 answer to ApiVersions) */
    bool ok = m && kw_response_decode(&r, key, version, &msg, &err) == KW_OK;
    int16_t body_version = ok ? kw_message_version(&msg) : m ? err.version : version;
    bool selected = api_selected(opt, key) && corr_selected(opt, h.correlation_id);
    bool named = false;
    if (ok && opt->topic_count && names_topic_ids(key))
        named = topics_match(opt, m, body_version, &start, true);
    if (selected && opt->topic_count && !(req && req->shown))
        selected = ok && (named || topics_match(opt, m, body_version, &start, false));
    if (ok)
        g_stats.decoded++;
    if (!selected)
        return ok ? 0 : -1; /* filtered out: not reported */
    count_frame(key, version, 1, size, !ok);
    if (opt->summary && ok) {
        count_error_codes(m, body_version, &start);
        return 0;
    }
    if (!opt->summary) {
        print_frame_start(o, size, true, key, version, h.correlation_id);
        out_printf(",\"header_version\":%d", hv);
        if (body_version != version) /* KIP-511's v0 answer to a newer ApiVersions */
            out_printf(",\"body_version\":%d", body_version);
        if (req && o->conn) {
            int64_t us = (o->ts_sec - req->ts_sec) * 1000000 +
                         ((int64_t)o->ts_nsec - (int64_t)req->ts_nsec) / 1000;
            out_printf(",\"latency_us\":%" PRId64, us);
        }
    }
    if (ok) {
        r = start;
        bool consumer = group_uses_consumer_protocol(m, body_version, &start, req);
        return print_body(opt, o, body, size, &r, m, body_version, &msg, consumer) ? 1 : 0;
    }
    if (!m) {
        report_simple(o, body, size, KW_ERR_UNKNOWN_API_KEY, 0, "response");
    } else {
        struct err_detail d;
        report_decode_error(o, body, size, m, body_version, &start, &err, &d);
        if (!opt->summary)
            json_error(&err, size, &d);
    }
    if (!opt->summary)
        out_end_line();
    return -1;
}

/* ---- one frame ------------------------------------------------------------------------ */

/* Whether the frame decodes whole as a request, or as the response of p. */
static bool decodes_as(const uint8_t *body, size_t size, const struct pending *p)
{
    kw_reader r;
    kw_message msg;
    kw_reader_init(&r, body, size);
    if (!p) {
        kw_request_header h;
        return kw_request_header_parse(&r, &h, NULL) == KW_OK &&
               kw_api_version_supported(h.api_key, h.api_version) &&
               kw_request_decode(&r, h.api_key, h.api_version, &msg, NULL) == KW_OK;
    }
    kw_response_header h;
    int hv = kw_response_header_version(p->api_key, p->api_version);
    if (hv < 0 || kw_response_header_read(&r, hv, &h, NULL) != KW_OK)
        return false;
    return kw_response_decode(&r, p->api_key, p->api_version, &msg, NULL) == KW_OK;
}

bool frame_head_plausible(const struct dump_options *opt, const struct pending_list *pending,
                          enum frame_dir dir, const uint8_t *head, size_t have)
{
    if (have < 8)
        return true;
    uint32_t size = kw_load_be32(head);
    if (size > opt->max_frame || size > 0x7fffffffu)
        return false;
    if (dir == DIR_RESPONSE)
        return size >= 4 && pending_find(pending, (int32_t)kw_load_be32(head + 4)) != NULL;
    return size >= 8 && kw_api_version_supported((int16_t)kw_load_be16(head + 4),
                                                 (int16_t)kw_load_be16(head + 6));
}

bool frame_plausible(const struct dump_options *opt, const struct pending_list *pending,
                     enum frame_dir dir, const uint8_t *body, size_t size)
{
    (void)opt;
    if (dir == DIR_RESPONSE) {
        const struct pending *p = size >= 4 ? pending_find(pending, (int32_t)kw_load_be32(body))
                                            : NULL;
        return p && decodes_as(body, size, p);
    }
    return decodes_as(body, size, NULL);
}

int dump_frame(const struct dump_options *opt, struct pending_list *pending,
               const struct frame_origin *o, const uint8_t *body, size_t size)
{
    if (opt->response_key >= 0)
        return dump_response(opt, o, body, size, opt->response_key, opt->response_version, NULL);
    if (o->dir == DIR_REQUEST)
        return dump_request(opt, pending, o, body, size);
    if (o->dir == DIR_RESPONSE) {
        struct pending p;
        if (size < 4) {
            report_simple(o, body, size, KW_ERR_TRUNCATED, 0, "response header .correlation_id");
            g_stats.undecoded++;
            g_stats.failures++;
            return -1;
        }
        int32_t corr = (int32_t)kw_load_be32(body);
        if (!pending_take(pending, corr, &p)) {
            if (!opt->has_correlation_id || opt->correlation_id == corr) {
                print_origin(stderr, o);
                fprintf(stderr, ": response with correlation id %" PRId32 " answers no request "
                        "seen on this connection; its layout is unknown, skipped %zu bytes\n",
                        corr, size + KW_FRAME_PREFIX);
            }
            g_stats.undecoded++;
            g_stats.failures++;
            return -1;
        }
        return dump_response(opt, o, body, size, p.api_key, p.api_version, &p);
    }
    /*
     * A raw stream: a response starts with the correlation id where a
     * request has its key and version, so a match alone can mislead
     * (Produce v7 starts with the int32 7): a matched frame is a response
     * when it decodes as one, or when it does not decode as a request
     * either.
     */
    const struct pending *found = size >= 4 ? pending_find(pending, (int32_t)kw_load_be32(body))
                                            : NULL;
    if (found && (decodes_as(body, size, found) || !decodes_as(body, size, NULL))) {
        struct pending p;
        pending_take(pending, found->correlation_id, &p);
        return dump_response(opt, o, body, size, p.api_key, p.api_version, &p);
    }
    return dump_request(opt, pending, o, body, size);
}
