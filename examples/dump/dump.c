/*
 * kwire-dump: reads length-prefixed Kafka frames from files or stdin and
 * prints one JSON object per frame. Today it decodes the request header;
 * bodies follow as the message layer grows.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwire/kwire.h"
#include "kwire/messages.h"

struct options {
    size_t max_frame;
    int16_t response_key; /* -1 unless --response */
    int16_t response_version;
    bool roundtrip;       /* re-encode each body and compare */
};

static void usage(FILE *to)
{
    fprintf(to,
            "usage: kwire-dump [options] [FILE...]\n"
            "Reads Kafka frames (int32 size prefix, then the frame), one or many per file,\n"
            "from each FILE or from standard input ('-' or no FILE), decodes them and prints\n"
            "one JSON object per frame on standard output.\n"
            "\n"
            "Requests describe themselves. A frame whose first four bytes match the\n"
            "correlation id of an earlier request in the same input is read as that\n"
            "request's response; --response reads every frame as a response.\n"
            "\n"
            "  --response KEY VERSION  frames are responses of API KEY at VERSION\n"
            "  --roundtrip             re-encode each body from its struct form and\n"
            "                          compare with the input (exit 1 on a difference)\n"
            "  --max-frame-bytes N     refuse frames larger than N bytes (default %u)\n"
            "  -h, --help              show this help\n"
            "\n"
            "On a frame that does not decode, the message, version, field path, byte offset\n"
            "and a hex window around it go to standard error, the next frame follows, and\n"
            "the exit status is 1.\n",
            KW_FRAME_MAX_DEFAULT);
}

/* Reads a whole stream into a heap buffer; the size is what the file backs. */
static int read_all(FILE *in, uint8_t **out, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -1;
    for (;;) {
        if (n == cap) {
            if (cap > SIZE_MAX / 2) {
                free(buf);
                errno = ENOMEM;
                return -1;
            }
            uint8_t *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                return -1;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, in);
        n += got;
        if (got == 0) {
            if (ferror(in)) {
                free(buf);
                return -1;
            }
            break;
        }
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Prints up to 16 bytes either side of offset, marking the byte at offset. */
static void print_hex_window(FILE *to, const uint8_t *buf, size_t len, size_t offset)
{
    size_t from = offset > 16 ? (offset - 16) & ~(size_t)15 : 0;
    size_t to_end = offset + 17 < len ? offset + 17 : len;
    for (size_t row = from; row < to_end; row += 16) {
        fprintf(to, "  %08zx ", row);
        for (size_t i = row; i < row + 16 && i < to_end; i++)
            fprintf(to, i == offset ? "[%02x]" : " %02x ", buf[i]);
        fputc('\n', to);
    }
    if (offset >= len)
        fprintf(to, "  %08zx [end of frame: %zu bytes]\n", offset, len);
}

static void report_error(const char *name, size_t frame_no, size_t stream_offset,
                         const uint8_t *frame, size_t frame_len, kw_err code, size_t offset,
                         const char *what)
{
    fprintf(stderr, "%s: frame %zu (stream offset %zu): %s: %s (%s) at byte %zu of the frame\n",
            name, frame_no, stream_offset, what, kw_err_name(code), kw_err_message(code), offset);
    print_hex_window(stderr, frame, frame_len, offset);
}

static void write_stdout(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    fwrite(data, 1, len, stdout);
}

static void print_slice(kw_slice s) { kw_json_write_string(s, write_stdout, NULL); }

/* Requests seen on this input, so responses can be matched by correlation id. */
#define PENDING_MAX 1024
struct pending {
    int32_t correlation_id;
    int16_t api_key, api_version;
    bool used;
};

struct stream {
    const char *name;
    const struct options *opt;
    struct pending pending[PENDING_MAX];
    size_t next_slot;
};

static struct pending *find_pending(struct stream *st, int32_t correlation_id)
{
    for (size_t i = 0; i < PENDING_MAX; i++)
        if (st->pending[i].used && st->pending[i].correlation_id == correlation_id)
            return &st->pending[i];
    return NULL;
}

static void remember(struct stream *st, const kw_request_header *h)
{
    struct pending *p = &st->pending[st->next_slot++ % PENDING_MAX];
    p->correlation_id = h->correlation_id;
    p->api_key = h->api_key;
    p->api_version = h->api_version;
    p->used = true;
}

static void print_frame_start(struct stream *st, size_t frame_no, size_t stream_offset,
                              size_t size, const char *direction, int16_t key, int16_t version,
                              int32_t correlation_id)
{
    const kw_api_info *api = kw_api_lookup(key);
    printf("{\"source\":");
    print_slice((kw_slice){(const uint8_t *)st->name, strlen(st->name)});
    printf(",\"frame\":%zu,\"offset\":%zu,\"size\":%zu,\"direction\":\"%s\"", frame_no,
           stream_offset, size, direction);
    printf(",\"api_key\":%d,\"api_name\":\"%s\",\"api_version\":%d,\"correlation_id\":%d", key,
           api ? api->name : "unknown", version, correlation_id);
}

/*
 * Re-encodes a decoded body from its struct form (every array materialized
 * into items) and compares it with the input; on a difference, names the
 * field holding the first differing byte: a decode of the input cut just
 * before that byte fails in exactly that field.
 */
static int roundtrip(struct stream *st, size_t frame_no, size_t stream_offset, const uint8_t *body,
                     size_t size, size_t start, const kw_message_info *m, int16_t version,
                     kw_message *msg)
{
    static uint8_t arena_mem[1 << 24];
    kw_arena arena;
    kw_arena_init(&arena, arena_mem, sizeof arena_mem);
    if (m->materialize(&msg->u, &arena) != KW_OK) {
        fprintf(stderr, "%s: frame %zu: roundtrip: message needs over %zu bytes of arena\n",
                st->name, frame_no, arena.wanted);
        return -1;
    }
    kw_builder b;
    kw_builder_init_growable(&b, 0);
    kw_err e = m->encode(&b, version, &msg->u);
    size_t n = kw_builder_size(&b);
    uint8_t *out = e == KW_OK ? malloc(n ? n : 1) : NULL;
    if (out)
        kw_builder_copy_out(&b, out, n);
    kw_builder_free(&b);
    if (!out) {
        fprintf(stderr, "%s: frame %zu: roundtrip: encode failed: %s\n", st->name, frame_no,
                kw_err_name(e == KW_OK ? KW_ERR_OUT_OF_MEMORY : e));
        return -1;
    }
    const uint8_t *in = body + start;
    size_t len = size - start, diff = 0;
    while (diff < n && diff < len && out[diff] == in[diff])
        diff++;
    free(out);
    if (diff == len && n == len)
        return 0;
    kw_reader cut;
    kw_reader_init(&cut, body, start + diff);
    kw_reader_skip(&cut, start);
    kw_message scratch;
    kw_decode_error err;
    memset(&err, 0, sizeof err);
    kw_message_decode(m, &cut, version, &scratch, &err);
    char what[KW_PATH_MAX + 96];
    snprintf(what, sizeof what, "roundtrip: %s v%d re-encodes to %zu bytes (input %zu); first "
             "difference in %s", m->name, version, n, len, err.path[0] ? err.path : "(message)");
    fprintf(stderr, "%s: frame %zu (stream offset %zu): %s at byte %zu of the frame\n", st->name,
            frame_no, stream_offset, what, start + diff);
    print_hex_window(stderr, body, size, start + diff);
    return -1;
}

/*
 * Decodes the message after a header, then prints it and ends the line.
 * Returns 0 on success, 1 when printed but the round trip differed, -1 when
 * it did not decode (the caller ends the line).
 */
static int dump_body(struct stream *st, size_t frame_no, size_t stream_offset, const uint8_t *body,
                     size_t size, kw_reader *r, const kw_message_info *m, int16_t version)
{
    kw_decode_error err;
    kw_message msg;
    kw_reader check = *r;
    if (!m) {
        report_error(st->name, frame_no, stream_offset, body, size, KW_ERR_UNKNOWN_API_KEY,
                     kw_reader_offset(r), "message");
        return -1;
    }
    if (kw_message_decode(m, &check, version, &msg, &err) != KW_OK) {
        char what[KW_PATH_MAX + 64];
        snprintf(what, sizeof what, "%s v%d %s", m->name, version,
                 err.path[0] ? err.path : "(after the last field)");
        report_error(st->name, frame_no, stream_offset, body, size, err.code, err.offset, what);
        return -1;
    }
    int rc = 0; /* 1: the line is complete but the round trip differed */
    if (st->opt->roundtrip) {
        rc = roundtrip(st, frame_no, stream_offset, body, size, kw_reader_offset(r), m, version,
                       &msg) ? 1 : 0;
        printf(",\"roundtrip\":\"%s\"", rc ? "differs" : "identical");
    }
    printf(",\"body\":");
    fflush(stdout);
    kw_json_write_message(m, version, r, KW_JSON_RECORDS | KW_JSON_VERIFY_CRC, write_stdout, NULL,
                          NULL);
    printf("}\n");
    return rc;
}

static int dump_request(struct stream *st, size_t frame_no, size_t stream_offset,
                        const uint8_t *body, size_t size)
{
    kw_reader r;
    kw_request_header h;
    kw_error e;
    kw_reader_init(&r, body, size);
    if (kw_request_header_parse(&r, &h, &e) != KW_OK) {
        char what[64];
        snprintf(what, sizeof what, "request header .%s", e.field ? e.field : "?");
        report_error(st->name, frame_no, stream_offset, body, size, e.code, e.offset, what);
        return -1;
    }
    remember(st, &h);
    print_frame_start(st, frame_no, stream_offset, size, "request", h.api_key, h.api_version,
                      h.correlation_id);
    printf(",\"header_version\":%d,\"client_id\":", h.header_version);
    print_slice(h.client_id);
    if (!kw_api_version_supported(h.api_key, h.api_version)) {
        printf(",\"error\":\"UNSUPPORTED_VERSION\"}\n");
        report_error(st->name, frame_no, stream_offset, body, size, KW_ERR_UNSUPPORTED_VERSION, 2,
                     "request header .api_version");
        return -1;
    }
    int rc = dump_body(st, frame_no, stream_offset, body, size, &r,
                       kw_message_for_api(h.api_key, false), h.api_version);
    if (rc < 0)
        printf(",\"error\":\"decode\"}\n");
    return rc;
}

static int dump_response(struct stream *st, size_t frame_no, size_t stream_offset,
                         const uint8_t *body, size_t size, int16_t key, int16_t version)
{
    kw_reader r;
    kw_response_header h;
    kw_error e;
    kw_reader_init(&r, body, size);
    int hv = kw_response_header_version(key, version);
    if (hv < 0 || kw_response_header_read(&r, hv, &h, &e) != KW_OK) {
        report_error(st->name, frame_no, stream_offset, body, size,
                     hv < 0 ? KW_ERR_UNKNOWN_API_KEY : e.code, hv < 0 ? 0 : e.offset,
                     "response header");
        return -1;
    }
    /* KIP-511: an ApiVersions error answer comes as a v0 body whatever was asked. */
    int16_t body_version = version;
    if (key == KW_API_API_VERSIONS && kw_reader_remaining(&r) >= 2 && kw_load_be16(r.pos) != 0)
        body_version = 0;
    print_frame_start(st, frame_no, stream_offset, size, "response", key, version,
                      h.correlation_id);
    printf(",\"header_version\":%d", hv);
    int rc = dump_body(st, frame_no, stream_offset, body, size, &r,
                       kw_message_for_api(key, true), body_version);
    if (rc < 0)
        printf(",\"error\":\"decode\"}\n");
    return rc;
}

/* Whether the frame decodes whole as a request, or as the response of p. */
static bool decodes_as(const uint8_t *body, size_t size, const struct pending *p)
{
    kw_reader r;
    kw_message msg;
    kw_reader_init(&r, body, size);
    if (!p) {
        kw_request_header h;
        return kw_request_header_parse(&r, &h, NULL) == KW_OK &&
               kw_request_decode(&r, h.api_key, h.api_version, &msg, NULL) == KW_OK;
    }
    kw_response_header h;
    int hv = kw_response_header_version(p->api_key, p->api_version);
    return hv >= 0 && kw_response_header_read(&r, hv, &h, NULL) == KW_OK &&
           kw_response_decode(&r, p->api_key, p->api_version, &msg, NULL) == KW_OK;
}

/* Decodes one frame (its body, after the size prefix); returns 0 on success. */
static int dump_frame(struct stream *st, size_t frame_no, size_t stream_offset,
                      const uint8_t *body, size_t size)
{
    const struct options *opt = st->opt;
    if (opt->response_key >= 0)
        return dump_response(st, frame_no, stream_offset, body, size, opt->response_key,
                             opt->response_version);
    /*
     * A response starts with the correlation id where a request has its key
     * and version, so a match alone can mislead (Produce v7 starts with the
     * int32 7): a matched frame is a response when it decodes as one, or
     * when it does not decode as a request either.
     */
    struct pending *p = size >= 4 ? find_pending(st, (int32_t)kw_load_be32(body)) : NULL;
    if (p && (decodes_as(body, size, p) || !decodes_as(body, size, NULL))) {
        struct pending match = *p;
        p->used = false;
        return dump_response(st, frame_no, stream_offset, body, size, match.api_key,
                             match.api_version);
    }
    return dump_request(st, frame_no, stream_offset, body, size);
}

/* Splits a stream into frames; returns the number of frames that failed. */
static size_t dump_stream(const char *name, const uint8_t *buf, size_t len,
                          const struct options *opt)
{
    static struct stream st;
    memset(&st, 0, sizeof st);
    st.name = name;
    st.opt = opt;
    size_t at = 0, frame_no = 0, failed = 0;
    while (at < len) {
        kw_frame f;
        kw_frame_status status = kw_frame_split(buf + at, len - at, opt->max_frame, &f);
        if (status == KW_FRAME_INVALID) {
            fprintf(stderr, "%s: frame %zu (stream offset %zu): %s: %s; stopping this input\n", name,
                    frame_no, at, kw_err_name(f.err), kw_err_message(f.err));
            return failed + 1;
        }
        if (status == KW_FRAME_NEED_MORE) {
            fprintf(stderr, "%s: frame %zu (stream offset %zu): input ends inside a frame "
                    "(%zu of %zu bytes)\n", name, frame_no, at, len - at, f.total);
            return failed + 1;
        }
        if (dump_frame(&st, frame_no, at, f.body, f.size) != 0)
            failed++;
        fflush(stdout);
        at += f.total;
        frame_no++;
    }
    return failed;
}

static int parse_int(const char *text, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    struct options opt = {KW_FRAME_MAX_DEFAULT, -1, 0, false};
    static const struct option longopts[] = {
        {"max-frame-bytes", required_argument, NULL, 'm'},
        {"response", required_argument, NULL, 'r'},
        {"roundtrip", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || *end || v == 0 || v > 0x7fffffffull) {
                fprintf(stderr, "kwire-dump: --max-frame-bytes wants 1..2147483647, got '%s'\n",
                        optarg);
                return 2;
            }
            opt.max_frame = (size_t)v;
            break;
        }
        case 'r': {
            long key, version;
            if (optind >= argc || parse_int(optarg, 0, 32767, &key) ||
                parse_int(argv[optind], 0, 32767, &version)) {
                fprintf(stderr, "kwire-dump: --response wants KEY VERSION\n");
                return 2;
            }
            optind++;
            opt.response_key = (int16_t)key;
            opt.response_version = (int16_t)version;
            break;
        }
        case 't':
            opt.roundtrip = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }

    size_t failed = 0;
    int inputs = argc - optind;
    for (int i = 0; i < (inputs ? inputs : 1); i++) {
        const char *path = inputs ? argv[optind + i] : "-";
        int use_stdin = strcmp(path, "-") == 0;
        FILE *in = use_stdin ? stdin : fopen(path, "rb");
        if (!in) {
            fprintf(stderr, "kwire-dump: %s: %s\n", path, strerror(errno));
            failed++;
            continue;
        }
        uint8_t *buf;
        size_t len;
        int rc = read_all(in, &buf, &len);
        if (!use_stdin)
            fclose(in);
        if (rc != 0) {
            fprintf(stderr, "kwire-dump: %s: %s\n", path, strerror(errno));
            failed++;
            continue;
        }
        failed += dump_stream(use_stdin ? "<stdin>" : path, buf, len, &opt);
        free(buf);
    }
    return failed ? 1 : 0;
}
