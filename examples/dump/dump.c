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

struct options {
    size_t max_frame;
    int quiet_errors;
};

static void usage(FILE *to)
{
    fprintf(to,
            "usage: kwire-dump [options] [FILE...]\n"
            "Reads Kafka request frames (int32 size prefix, then the frame), one or many\n"
            "per file, from each FILE or from standard input ('-' or no FILE), and prints\n"
            "one JSON object per frame on standard output.\n"
            "\n"
            "  --max-frame-bytes N  refuse frames larger than N bytes (default %u)\n"
            "  -h, --help           show this help\n"
            "\n"
            "On a frame that does not decode, the error, its byte offset, the field and a\n"
            "hex window around the offset go to standard error and the exit status is 1.\n",
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

static void print_json_string(FILE *out, kw_slice s)
{
    if (kw_slice_is_null(s)) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(out, "\\u%04x", c); /* bytes, not UTF-8 decoding: keep it lossless */
        else
            fputc(c, out);
    }
    fputc('"', out);
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
                         const uint8_t *frame, size_t frame_len, kw_error e)
{
    fprintf(stderr, "%s: frame %zu (stream offset %zu): %s at byte %zu of the frame, field %s: %s\n",
            name, frame_no, stream_offset, kw_err_name(e.code), e.offset,
            e.field ? e.field : "(unknown)", kw_err_message(e.code));
    print_hex_window(stderr, frame, frame_len, e.offset);
}

/* Decodes one frame (its body, after the size prefix); returns 0 on success. */
static int dump_frame(const char *name, size_t frame_no, size_t stream_offset, const uint8_t *body,
                      size_t size)
{
    kw_reader r;
    kw_request_header h;
    kw_error e;
    kw_reader_init(&r, body, size);
    if (kw_request_header_parse(&r, &h, &e) != KW_OK) {
        report_error(name, frame_no, stream_offset, body, size, e);
        return -1;
    }
    const kw_api_info *api = kw_api_lookup(h.api_key);
    printf("{\"source\":");
    print_json_string(stdout, (kw_slice){(const uint8_t *)name, strlen(name)});
    printf(",\"frame\":%zu,\"offset\":%zu,\"size\":%zu,\"type\":\"request\"", frame_no,
           stream_offset, size);
    printf(",\"api_key\":%d,\"api_name\":\"%s\",\"api_version\":%d", h.api_key,
           api ? api->name : "unknown", h.api_version);
    printf(",\"version_supported\":%s",
           kw_api_version_supported(h.api_key, h.api_version) ? "true" : "false");
    printf(",\"header_version\":%d,\"correlation_id\":%d", h.header_version, h.correlation_id);
    printf(",\"client_id\":");
    print_json_string(stdout, h.client_id);
    printf(",\"header_tagged_fields\":%u,\"body_bytes\":%zu}\n", h.tagged.count,
           kw_reader_remaining(&r));
    return 0;
}

/* Splits a stream into frames; returns the number of frames that failed. */
static size_t dump_stream(const char *name, const uint8_t *buf, size_t len,
                          const struct options *opt)
{
    size_t at = 0, frame_no = 0, failed = 0;
    while (at < len) {
        kw_frame f;
        kw_frame_status st = kw_frame_split(buf + at, len - at, opt->max_frame, &f);
        if (st == KW_FRAME_INVALID) {
            fprintf(stderr, "%s: frame %zu (stream offset %zu): %s: %s; stopping this input\n", name,
                    frame_no, at, kw_err_name(f.err), kw_err_message(f.err));
            return failed + 1;
        }
        if (st == KW_FRAME_NEED_MORE) {
            fprintf(stderr, "%s: frame %zu (stream offset %zu): input ends inside a frame "
                    "(%zu of %zu bytes)\n", name, frame_no, at, len - at, f.total);
            return failed + 1;
        }
        if (dump_frame(name, frame_no, at, f.body, f.size) != 0)
            failed++;
        at += f.total;
        frame_no++;
    }
    return failed;
}

int main(int argc, char **argv)
{
    struct options opt = {KW_FRAME_MAX_DEFAULT, 0};
    static const struct option longopts[] = {
        {"max-frame-bytes", required_argument, NULL, 'm'},
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
