/*
 * kwire-dump output: one buffer in front of standard output (a frame's
 * line is written in many small pieces), the indenting printer of
 * --pretty, hex windows and the --summary table.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump.h"

struct dump_stats g_stats;

#define OUT_CAP (1u << 16)

static struct {
    char buf[OUT_CAP];
    size_t len;
    bool pretty;
    bool tty;
    bool live; /* the input is a pipe: show each frame as it comes */
    /* the indenting printer's state */
    int depth;
    bool in_string, escaped;
    char open; /* '{' or '[' held back until we know whether it is empty */
} out;

void out_init(const struct dump_options *opt)
{
    memset(&out, 0, sizeof out);
    out.pretty = opt->pretty;
    out.tty = isatty(STDOUT_FILENO) == 1;
}

void out_flush(void)
{
    if (out.len) {
        fwrite(out.buf, 1, out.len, stdout);
        out.len = 0;
    }
    fflush(stdout);
}

static void put(const char *data, size_t len)
{
    if (len > OUT_CAP - out.len) {
        if (out.len) {
            fwrite(out.buf, 1, out.len, stdout);
            out.len = 0;
        }
        if (len > OUT_CAP) {
            fwrite(data, 1, len, stdout);
            return;
        }
    }
    memcpy(out.buf + out.len, data, len);
    out.len += len;
}

static void put_c(char c)
{
    if (out.len == OUT_CAP) {
        fwrite(out.buf, 1, out.len, stdout);
        out.len = 0;
    }
    out.buf[out.len++] = c;
}

static void newline_indent(void)
{
    put_c('\n');
    for (int i = 0; i < out.depth; i++)
        put("  ", 2);
}

/* Re-indents compact JSON as it goes by; an empty {} or [] stays on its line. */
static void pretty_char(char c)
{
    if (out.in_string) {
        put_c(c);
        if (out.escaped)
            out.escaped = false;
        else if (c == '\\')
            out.escaped = true;
        else if (c == '"')
            out.in_string = false;
        return;
    }
    if (out.open) {
        char open = out.open;
        out.open = 0;
        put_c(open);
        if ((open == '{' && c == '}') || (open == '[' && c == ']')) {
            put_c(c);
            return;
        }
        out.depth++;
        newline_indent();
    }
    switch (c) {
    case '{':
    case '[':
        out.open = c;
        break;
    case '}':
    case ']':
        if (out.depth > 0)
            out.depth--;
        newline_indent();
        put_c(c);
        break;
    case ',':
        put_c(',');
        newline_indent();
        break;
    case ':':
        put(": ", 2);
        break;
    case '"':
        out.in_string = true;
        put_c(c);
        break;
    case '\n':
        out.depth = 0;
        put_c('\n');
        break;
    default:
        put_c(c);
    }
}

void out_write(const char *data, size_t len)
{
    if (!out.pretty) {
        put(data, len);
        return;
    }
    for (size_t i = 0; i < len; i++)
        pretty_char(data[i]);
}

void out_str(const char *s) { out_write(s, strlen(s)); }

void out_printf(const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        out_write(tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void out_json_sink(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    out_write(data, len);
}

void out_json_string(kw_slice s) { kw_json_write_string(s, out_json_sink, NULL); }

void out_live(bool live) { out.live = live; }

void out_end_line(void)
{
    out_write("}\n", 2);
    if (out.tty || out.live)
        out_flush();
}

void print_hex_window(FILE *to, const uint8_t *buf, size_t len, size_t offset)
{
    size_t from = offset > 16 ? (offset - 16) & ~(size_t)15 : 0;
    size_t to_end = offset < len && offset + 17 < len ? offset + 17 : len;
    for (size_t row = from; row < to_end; row += 16) {
        fprintf(to, "  %08zx ", row);
        for (size_t i = row; i < row + 16 && i < to_end; i++)
            fprintf(to, i == offset ? "[%02x]" : " %02x ", buf[i]);
        fputc('\n', to);
    }
    if (offset >= len)
        fprintf(to, "  %08zx [end of frame: %zu bytes]\n", offset, len);
}

/* ---- requests in flight --------------------------------------------------- */

void pending_add(struct pending_list *pl, const struct pending *p)
{
    if (pl->count == pl->cap) {
        if (pl->cap < PENDING_MAX) {
            size_t cap = pl->cap ? pl->cap * 2 : 8;
            struct pending *items = malloc(cap * sizeof *items);
            if (items) {
                for (size_t i = 0; i < pl->count; i++)
                    items[i] = pl->items[(pl->head + i) % pl->cap];
                free(pl->items);
                pl->items = items;
                pl->cap = cap;
                pl->head = 0;
            }
        }
        if (pl->count == pl->cap) {
            if (!pl->cap)
                return; /* no memory: the response will not match */
            /* full: the oldest request is forgotten */
            pl->head = (pl->head + 1) % pl->cap;
            pl->count--;
            g_stats.unanswered++;
        }
    }
    pl->items[(pl->head + pl->count) % pl->cap] = *p;
    pl->count++;
}

static size_t pending_index(const struct pending_list *pl, int32_t correlation_id)
{
    for (size_t i = 0; i < pl->count; i++)
        if (pl->items[(pl->head + i) % pl->cap].correlation_id == correlation_id)
            return i;
    return SIZE_MAX;
}

const struct pending *pending_find(const struct pending_list *pl, int32_t correlation_id)
{
    size_t i = pending_index(pl, correlation_id);
    return i == SIZE_MAX ? NULL : &pl->items[(pl->head + i) % pl->cap];
}

bool pending_take(struct pending_list *pl, int32_t correlation_id, struct pending *out_p)
{
    size_t i = pending_index(pl, correlation_id);
    if (i == SIZE_MAX)
        return false;
    *out_p = pl->items[(pl->head + i) % pl->cap];
    /* close the hole: the ones before it move up by one */
    for (size_t j = i; j > 0; j--)
        pl->items[(pl->head + j) % pl->cap] = pl->items[(pl->head + j - 1) % pl->cap];
    pl->head = (pl->head + 1) % pl->cap;
    pl->count--;
    return true;
}

void pending_free(struct pending_list *pl)
{
    free(pl->items);
    memset(pl, 0, sizeof *pl);
}

/* ---- summary --------------------------------------------------------------- */

static void api_label(char *buf, size_t cap, int key)
{
    const kw_api_info *api = key < KW_API_KEY_COUNT ? kw_api_lookup((int16_t)key) : NULL;
    if (api)
        snprintf(buf, cap, "%s (%d)", api->name, key);
    else
        snprintf(buf, cap, "unknown keys");
}

/* "  Fetch: NOT_LEADER_OR_FOLLOWER x3, OFFSET_OUT_OF_RANGE x1", most frequent first. */
static void print_error_codes(FILE *to)
{
    bool any = false;
    for (int key = 0; key <= KW_API_KEY_COUNT; key++) {
        uint64_t left[ERROR_SLOTS];
        memcpy(left, g_stats.error_codes[key], sizeof left);
        bool first = true;
        for (;;) {
            size_t best = 0;
            for (size_t i = 1; i < ERROR_SLOTS; i++)
                if (left[i] > left[best])
                    best = i;
            if (!left[best])
                break;
            if (!any)
                fprintf(to, "error codes in responses:\n");
            any = true;
            if (first) {
                const kw_api_info *api =
                    key < KW_API_KEY_COUNT ? kw_api_lookup((int16_t)key) : NULL;
                if (api)
                    fprintf(to, "  %s:", api->name);
                else
                    fprintf(to, "  unknown keys:");
            }
            const char *name = best < ERROR_SLOTS - 1 ? kw_kafka_error_name((int)best - 1) : NULL;
            if (name)
                fprintf(to, "%s %s x%llu", first ? "" : ",", name, (unsigned long long)left[best]);
            else if (best < ERROR_SLOTS - 1)
                fprintf(to, "%s code %d x%llu", first ? "" : ",", (int)best - 1,
                        (unsigned long long)left[best]);
            else
                fprintf(to, "%s codes over %d x%llu", first ? "" : ",", ERROR_SLOTS - 3,
                        (unsigned long long)left[best]);
            first = false;
            left[best] = 0;
        }
        if (!first)
            fputc('\n', to);
    }
}

void print_summary(FILE *to)
{
    const struct dump_stats *s = &g_stats;
    fprintf(to, "%-32s %7s %9s %9s %14s %14s %7s\n", "api", "version", "requests", "responses",
            "request bytes", "response bytes", "errors");
    struct api_counts total;
    memset(&total, 0, sizeof total);
    for (int key = 0; key <= KW_API_KEY_COUNT; key++) {
        for (int v = 0; v < SUMMARY_VERSIONS; v++) {
            const struct api_counts *c = &s->api[key][v];
            if (!c->frames[0] && !c->frames[1] && !c->errors[0] && !c->errors[1])
                continue;
            char label[64], version[16];
            api_label(label, sizeof label, key);
            if (v == SUMMARY_VERSIONS - 1)
                snprintf(version, sizeof version, "%d+", v);
            else
                snprintf(version, sizeof version, "%d", v);
            fprintf(to, "%-32s %7s %9llu %9llu %14llu %14llu %7llu\n", label, version,
                    (unsigned long long)c->frames[0], (unsigned long long)c->frames[1],
                    (unsigned long long)c->bytes[0], (unsigned long long)c->bytes[1],
                    (unsigned long long)(c->errors[0] + c->errors[1]));
            for (int d = 0; d < 2; d++) {
                total.frames[d] += c->frames[d];
                total.bytes[d] += c->bytes[d];
                total.errors[d] += c->errors[d];
            }
        }
    }
    fprintf(to, "%-32s %7s %9llu %9llu %14llu %14llu %7llu\n", "total", "",
            (unsigned long long)total.frames[0], (unsigned long long)total.frames[1],
            (unsigned long long)total.bytes[0], (unsigned long long)total.bytes[1],
            (unsigned long long)(total.errors[0] + total.errors[1]));
    fprintf(to, "frames %llu, bytes %llu, decode errors %llu, undecoded frames %llu\n",
            (unsigned long long)s->frames, (unsigned long long)s->bytes,
            (unsigned long long)s->errors, (unsigned long long)s->undecoded);
    print_error_codes(to);
    if (s->packets)
        fprintf(to,
                "packets %llu, tcp segments on the ports %llu (%llu payload bytes), connections "
                "%llu, gaps %llu (%llu bytes missing), bytes skipped %llu, retransmitted bytes "
                "%llu, requests without a response %llu\n",
                (unsigned long long)s->packets, (unsigned long long)s->tcp_packets,
                (unsigned long long)s->tcp_bytes, (unsigned long long)s->connections,
                (unsigned long long)s->gaps, (unsigned long long)s->gap_bytes,
                (unsigned long long)s->skipped_bytes,
                (unsigned long long)s->retransmitted_bytes, (unsigned long long)s->unanswered);
}
