/*
 * kwire-dump: Kafka traffic as JSON. Reads captures (pcap, pcapng),
 * length-prefixed frames, or the same frames in hex, decodes every request
 * and response whole and prints one JSON object per frame; on bytes that do
 * not decode it names the field, the offset and what the field wanted.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dump.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: kwire-dump [options] [FILE...]\n"
            "Reads Kafka traffic from each FILE or from standard input ('-' or no FILE)\n"
            "and prints one JSON object per frame on standard output. An input is\n"
            "  - a pcap or pcapng capture: the TCP connections on the Kafka ports are\n"
            "    reassembled, each direction cut into frames, responses matched to\n"
            "    their requests by correlation id;\n"
            "  - raw frames: an int32 size prefix, then the frame, one or many;\n"
            "  - the same raw bytes in hex (whitespace, ':' and '#' comments ignored).\n"
            "The format is recognized from the first bytes unless --format says.\n"
            "\n"
            "In raw input, requests describe themselves; a frame whose first four\n"
            "bytes match the correlation id of an earlier request in the same input is\n"
            "read as that request's response; --response reads every frame as one.\n"
            "\n"
            "  -p, --port P[,P...]     Kafka ports in captures (default 9092; repeatable)\n"
            "  -f, --format F          auto, pcap, raw or hex (default auto)\n"
            "      --hex               the same as --format hex\n"
            "  -a, --api KEY|NAME      only frames of this API (number or name such as\n"
            "                          Produce; repeatable, or comma-separated)\n"
            "  -t, --topic NAME        only frames that name this topic, and the responses\n"
            "                          to requests that did (repeatable)\n"
            "  -c, --correlation-id N  only frames with this correlation id\n"
            "  -s, --summary           no frames: counts per API and version (requests,\n"
            "                          responses, bytes, errors), connections, gaps\n"
            "      --pretty            indented JSON, one member per line\n"
            "      --response KEY VERSION  raw frames are responses of API KEY at VERSION\n"
            "      --roundtrip         re-encode each body from its struct form and\n"
            "                          compare with the input (exit 1 on a difference)\n"
            "      --max-frame-bytes N refuse frames larger than N bytes (default %u)\n"
            "  -q, --quiet             no notes about captures (gaps, resynchronization)\n"
            "  -h, --help              show this help\n"
            "\n"
            "On a frame that does not decode, the message, version, field path, byte\n"
            "offset, the bytes the field expected and those remaining, and a hex window\n"
            "with the failing byte in brackets go to standard error; the next frame\n"
            "follows. Lost TCP bytes skip the frame they fall in, with a note.\n"
            "An input that is neither a capture nor a frame stream (text, another\n"
            "format) is named as such, with its first bytes.\n"
            "Exit status: 0 when every frame decoded, 1 when one did not or when\n"
            "nothing decoded at all (an empty input, no Kafka traffic), 2 on bad usage.\n",
            KW_FRAME_MAX_DEFAULT);
}

/* Reads the rest of a stream into a heap buffer after the len bytes in pre. */
static int read_rest(FILE *in, const uint8_t *pre, size_t pre_len, uint8_t **out, size_t *len)
{
    size_t cap = 1 << 16, n = pre_len;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -1;
    memcpy(buf, pre, pre_len);
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

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Turns hex text into bytes in place; returns the byte count or -1 (where says why). */
static long long unhex(uint8_t *buf, size_t len, size_t *where)
{
    size_t out = 0, i = 0;
    int high = -1;
    while (i < len) {
        int c = buf[i];
        if (c == '#') {
            while (i < len && buf[i] != '\n')
                i++;
            continue;
        }
        if (isspace(c) || c == ':' || c == ',') {
            i++;
            continue;
        }
        if (c == '0' && high < 0 && i + 1 < len && (buf[i + 1] == 'x' || buf[i + 1] == 'X')) {
            i += 2;
            continue;
        }
        int v = hex_value(c);
        if (v < 0) {
            *where = i;
            return -1;
        }
        if (high < 0) {
            high = v;
        } else {
            buf[out++] = (uint8_t)(high << 4 | v);
            high = -1;
        }
        i++;
    }
    if (high >= 0) {
        *where = len;
        return -1;
    }
    return (long long)out;
}

/*
 * The input's first bytes as hex and as text, for saying why an input whose
 * format was guessed is not a frame stream.
 */
static void print_first_bytes(FILE *to, const uint8_t *buf, size_t len)
{
    size_t n = len < 16 ? len : 16;
    fputs("first bytes:", to);
    for (size_t i = 0; i < n; i++)
        fprintf(to, " %02x", buf[i]);
    fputs(" \"", to);
    for (size_t i = 0; i < n; i++)
        fputc(isprint(buf[i]) && buf[i] != '"' ? buf[i] : '.', to);
    fputs(len > n ? "\"..." : "\"", to);
}

/*
 * The first frame of an input whose format was guessed does not split: the
 * input is most likely something else altogether (text, another format), so
 * say that rather than name a frame error.
 */
static void not_a_stream(const char *name, const uint8_t *buf, size_t len, size_t max_frame,
                         kw_frame_status status, const kw_frame *f)
{
    fprintf(stderr, "%s: not a pcap or pcapng capture, nor a Kafka frame stream (", name);
    print_first_bytes(stderr, buf, len);
    if (len < KW_FRAME_PREFIX)
        fprintf(stderr, "): %zu byte%s, fewer than a frame's size prefix\n", len,
                len == 1 ? "" : "s");
    else if (status == KW_FRAME_NEED_MORE)
        fprintf(stderr, "): as a frame stream its first size prefix asks for %zu bytes and the "
                "input has %zu\n", f->total, len);
    else if (len >= KW_FRAME_PREFIX && (int32_t)kw_load_be32(buf) < 0)
        fprintf(stderr, "): as a frame stream its first size prefix is negative (%d)\n",
                (int)(int32_t)kw_load_be32(buf));
    else
        fprintf(stderr, "): as a frame stream its first size prefix is %u bytes, over the "
                "maximum of %zu (--max-frame-bytes)\n", (unsigned)kw_load_be32(buf), max_frame);
}

/* Splits a raw stream into frames and dumps each; guessed: the format was not given. */
static void dump_stream(const char *name, const uint8_t *buf, size_t len, bool guessed,
                        const struct dump_options *opt)
{
    if (len == 0) {
        fprintf(stderr, "%s: empty input, no frames\n", name);
        g_stats.failures++;
        return;
    }
    struct pending_list pending;
    memset(&pending, 0, sizeof pending);
    size_t at = 0;
    uint64_t frame_no = 0;
    while (at < len) {
        kw_frame f;
        kw_frame_status status = kw_frame_split(buf + at, len - at, opt->max_frame, &f);
        if (status != KW_FRAME_COMPLETE && frame_no == 0 && guessed) {
            not_a_stream(name, buf, len, opt->max_frame, status, &f);
            g_stats.failures++;
            break;
        }
        if (status == KW_FRAME_INVALID) {
            fprintf(stderr, "%s: frame %llu (stream offset %zu): %s: %s; stopping this input\n",
                    name, (unsigned long long)frame_no, at, kw_err_name(f.err),
                    kw_err_message(f.err));
            g_stats.failures++;
            break;
        }
        if (status == KW_FRAME_NEED_MORE) {
            fprintf(stderr, "%s: frame %llu (stream offset %zu): input ends inside a frame "
                    "(%zu of %zu bytes)\n", name, (unsigned long long)frame_no, at, len - at,
                    f.total);
            g_stats.failures++;
            break;
        }
        struct frame_origin o;
        memset(&o, 0, sizeof o);
        o.source = name;
        o.frame_no = frame_no;
        o.offset = at;
        o.dir = DIR_UNKNOWN;
        dump_frame(opt, &pending, &o, f.body, f.size);
        at += f.total;
        frame_no++;
    }
    g_stats.unanswered += pending.count;
    pending_free(&pending);
}

static bool is_capture_magic(const uint8_t m[4])
{
    uint32_t v = kw_load_be32(m);
    return v == 0x0a0d0d0au || v == 0xa1b2c3d4u || v == 0xd4c3b2a1u || v == 0xa1b23c4du ||
           v == 0x4d3cb2a1u;
}

/* Hex text, or a comment starting it; as raw frames these would be over 500 MB. */
static bool looks_hex(const uint8_t *p, size_t n)
{
    if (!n)
        return false;
    if (p[0] == '#')
        return true;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit(p[i]) && !isspace(p[i]) && p[i] != '#')
            return false;
    return true;
}

static void dump_input(const char *path, const struct dump_options *opt)
{
    bool use_stdin = strcmp(path, "-") == 0;
    const char *name = use_stdin ? "<stdin>" : path;
    FILE *in = use_stdin ? stdin : fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "kwire-dump: %s: %s\n", path, strerror(errno));
        g_stats.failures++;
        return;
    }
    uint8_t head[4];
    size_t got = fread(head, 1, sizeof head, in);
    enum dump_format format = opt->format;
    if (format == FORMAT_AUTO)
        format = got == 4 && is_capture_magic(head) ? FORMAT_PCAP
                 : looks_hex(head, got)              ? FORMAT_HEX
                                                     : FORMAT_RAW;
    if (format == FORMAT_PCAP) {
        if (opt->response_key >= 0) {
            fprintf(stderr, "kwire-dump: %s: --response reads raw frames; a capture matches "
                    "responses to requests itself\n", path);
            g_stats.failures++;
        } else {
            struct stat st;
            out_live(fstat(fileno(in), &st) == 0 && !S_ISREG(st.st_mode));
            struct byte_source src;
            memset(&src, 0, sizeof src);
            src.file = in;
            src.pre = head;
            src.pre_len = got;
            dump_capture(opt, name, &src);
            if (ferror(in)) {
                fprintf(stderr, "kwire-dump: %s: %s\n", path, strerror(errno));
                g_stats.failures++;
            }
        }
        if (!use_stdin)
            fclose(in);
        return;
    }
    uint8_t *buf;
    size_t len;
    int rc = read_rest(in, head, got, &buf, &len);
    if (!use_stdin)
        fclose(in);
    if (rc != 0) {
        fprintf(stderr, "kwire-dump: %s: %s\n", path, strerror(errno));
        g_stats.failures++;
        return;
    }
    if (format == FORMAT_HEX) {
        size_t where = 0;
        long long n = unhex(buf, len, &where);
        if (n < 0) {
            if (where >= len)
                fprintf(stderr, "%s: hex input ends with half a byte", name);
            else
                fprintf(stderr, "%s: byte %zu ('%c') is not a hex digit", name, where,
                        isprint(buf[where]) ? buf[where] : '?');
            if (opt->format == FORMAT_AUTO)
                fprintf(stderr, " (read as hex for its first bytes; not a pcap or pcapng "
                        "capture, nor a Kafka frame stream)");
            fputc('\n', stderr);
            g_stats.failures++;
            free(buf);
            return;
        }
        len = (size_t)n;
    }
    dump_stream(name, buf, len, opt->format == FORMAT_AUTO, opt);
    free(buf);
}

/* ---- options ------------------------------------------------------------------------ */

static int parse_long(const char *text, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* "Produce", "produce", "0" */
static int parse_api(const char *text, int16_t *out)
{
    long v;
    if (parse_long(text, 0, 32767, &v) == 0) {
        *out = (int16_t)v;
        return 0;
    }
    size_t n;
    const kw_api_info *table = kw_api_table(&n);
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(table[i].name, text) == 0) {
            *out = table[i].key;
            return 0;
        }
    }
    return -1;
}

/* A comma-separated list, each item through add; -1 on the first bad one. */
static int each_item(const char *list, int (*add)(const char *, void *), void *ctx)
{
    char item[128];
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof item)
            return -1;
        memcpy(item, p, n);
        item[n] = '\0';
        if (add(item, ctx) != 0)
            return -1;
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

static int add_port(const char *text, void *ctx)
{
    struct dump_options *opt = ctx;
    long v;
    if (parse_long(text, 1, 65535, &v) || opt->port_count == DUMP_PORTS_MAX)
        return -1;
    opt->ports[opt->port_count++] = (uint16_t)v;
    return 0;
}

static int add_api(const char *text, void *ctx)
{
    struct dump_options *opt = ctx;
    int16_t key;
    if (parse_api(text, &key) || opt->api_count == DUMP_API_MAX)
        return -1;
    opt->apis[opt->api_count++] = key;
    return 0;
}

int main(int argc, char **argv)
{
    struct dump_options opt;
    memset(&opt, 0, sizeof opt);
    opt.max_frame = KW_FRAME_MAX_DEFAULT;
    opt.response_key = -1;
    enum { O_MAX = 256, O_RESPONSE, O_ROUNDTRIP, O_PRETTY, O_HEX };
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"format", required_argument, NULL, 'f'},
        {"hex", no_argument, NULL, O_HEX},
        {"api", required_argument, NULL, 'a'},
        {"topic", required_argument, NULL, 't'},
        {"correlation-id", required_argument, NULL, 'c'},
        {"summary", no_argument, NULL, 's'},
        {"pretty", no_argument, NULL, O_PRETTY},
        {"max-frame-bytes", required_argument, NULL, O_MAX},
        {"response", required_argument, NULL, O_RESPONSE},
        {"roundtrip", no_argument, NULL, O_ROUNDTRIP},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "p:f:a:t:c:sqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (each_item(optarg, add_port, &opt)) {
                fprintf(stderr, "kwire-dump: --port wants ports 1..65535, comma-separated (at "
                        "most %d), got '%s'\n", DUMP_PORTS_MAX, optarg);
                return 2;
            }
            break;
        case 'f':
            if (strcmp(optarg, "auto") == 0)
                opt.format = FORMAT_AUTO;
            else if (strcmp(optarg, "pcap") == 0 || strcmp(optarg, "pcapng") == 0)
                opt.format = FORMAT_PCAP;
            else if (strcmp(optarg, "raw") == 0)
                opt.format = FORMAT_RAW;
            else if (strcmp(optarg, "hex") == 0)
                opt.format = FORMAT_HEX;
            else {
                fprintf(stderr, "kwire-dump: --format wants auto, pcap, raw or hex\n");
                return 2;
            }
            break;
        case O_HEX:
            opt.format = FORMAT_HEX;
            break;
        case 'a':
            if (each_item(optarg, add_api, &opt)) {
                fprintf(stderr, "kwire-dump: --api wants API keys or names (Produce, Fetch, "
                        "...), got '%s'\n", optarg);
                return 2;
            }
            break;
        case 't':
            if (opt.topic_count == DUMP_TOPICS_MAX) {
                fprintf(stderr, "kwire-dump: at most %d --topic\n", DUMP_TOPICS_MAX);
                return 2;
            }
            opt.topics[opt.topic_count++] = optarg;
            break;
        case 'c': {
            long v;
            if (parse_long(optarg, INT32_MIN, INT32_MAX, &v)) {
                fprintf(stderr, "kwire-dump: --correlation-id wants an int32, got '%s'\n", optarg);
                return 2;
            }
            opt.has_correlation_id = true;
            opt.correlation_id = (int32_t)v;
            break;
        }
        case 's':
            opt.summary = true;
            break;
        case O_PRETTY:
            opt.pretty = true;
            break;
        case O_MAX: {
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
        case O_RESPONSE: {
            long key, version;
            if (optind >= argc || parse_long(optarg, 0, 32767, &key) ||
                parse_long(argv[optind], 0, 32767, &version)) {
                fprintf(stderr, "kwire-dump: --response wants KEY VERSION\n");
                return 2;
            }
            optind++;
            opt.response_key = (int16_t)key;
            opt.response_version = (int16_t)version;
            break;
        }
        case O_ROUNDTRIP:
            opt.roundtrip = true;
            break;
        case 'q':
            opt.quiet_notes = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!opt.port_count)
        add_port("9092", &opt);

    out_init(&opt);
    int inputs = argc - optind;
    for (int i = 0; i < (inputs ? inputs : 1); i++)
        dump_input(inputs ? argv[optind + i] : "-", &opt);
    out_flush();
    if (opt.summary)
        print_summary(stdout);
    if (g_stats.decoded == 0) {
        fprintf(stderr, "kwire-dump: no Kafka frame decoded\n");
        return 1;
    }
    return g_stats.failures ? 1 : 0;
}
