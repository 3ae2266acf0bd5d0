/*
 * kwire-broker: a single-node Kafka broker on kwire. Flags, or a Kafka
 * server.properties file, then the event loop until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "topics.h"
#include "util.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: kwire-broker [options]\n"
            "       kwire-broker SERVER.PROPERTIES [options]\n"
            "A single-node Kafka broker: Kafka's wire protocol read in place and written back\n"
            "to front with kwire, partition logs in Kafka's on-disk layout.\n"
            "\n"
            "  --listen HOST:PORT        address to listen on (default 127.0.0.1:9092)\n"
            "  --advertise HOST:PORT     address clients are told to connect to (default: the\n"
            "                            listen address; 127.0.0.1 for a wildcard)\n"
            "  --data-dir DIR            log directory (default ./kwire-data)\n"
            "  --max-frame-bytes N       refuse requests over N bytes (default %u)\n"
            "  --fsync MODE              always: sync before acknowledging; interval: every\n"
            "                            second; never: leave it to the OS (default interval)\n"
            "  --partitions N            partitions of auto-created topics (default 1)\n"
            "  --segment-bytes N         roll log segments at N bytes (default 1 GiB)\n"
            "  --no-auto-create          do not create topics on Metadata requests\n"
            "  --no-down-conversion      do not convert legacy message sets: Produce v0-v2\n"
            "                            and Fetch v0-v3 are then not served (as Kafka 4)\n"
            "  --group-initial-rebalance-delay-ms N  (default 3000, as Kafka)\n"
            "  --consumer-session-timeout-ms N  KIP-848 consumer group members that do not\n"
            "                            heartbeat for N ms are removed (default 45000)\n"
            "  --consumer-heartbeat-interval-ms N  (default 5000)\n"
            "  --idle-timeout-ms N       close idle connections (default 600000)\n"
            "  --request-timeout-ms N    close a connection whose request does not arrive\n"
            "                            whole within N ms (default 30000)\n"
            "  --max-connections N       (default 4096)\n"
            "  --max-partitions N        partitions of all topics together (default 10000;\n"
            "                            lowered to what the open-file limit allows)\n"
            "  --max-partitions-per-request N  partitions one CreateTopics, CreatePartitions\n"
            "                            or auto-creating Metadata request may create\n"
            "                            (default 100: each costs some ms of the loop)\n"
            "  --queued-max-request-bytes N  request bytes all connections together may\n"
            "                            buffer beyond their first 64 KiB; a large frame\n"
            "                            waits for room (default 128 MiB; -1: no limit)\n"
            "  -h, --help                show this help\n"
            "\n"
            "A server.properties file gives log.dirs (the first directory), the port (and\n"
            "host, when set) of the first of listeners, advertised.listeners, num.partitions,\n"
            "node.id, auto.create.topics.enable, log.segment.bytes,\n"
            "socket.request.max.bytes, queued.max.request.bytes,\n"
            "group.initial.rebalance.delay.ms, group.consumer.session.timeout.ms and\n"
            "group.consumer.heartbeat.interval.ms.\n"
            "\n"
            "Prints 'kwire-broker: listening on HOST:PORT' on standard output once ready;\n"
            "logs go to standard error. SIGTERM or SIGINT syncs the logs and exits 0.\n",
            KW_FRAME_MAX_DEFAULT);
}

static bool parse_long(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* HOST:PORT, [V6]:PORT, :PORT (host left alone) or PORT. */
static bool parse_hostport(const char *s, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(s, ':');
    const char *p = colon ? colon + 1 : s;
    long long v;
    if (!parse_long(p, 0, 65535, &v))
        return false;
    *port = (int)v;
    if (!colon || colon == s)
        return true;
    size_t n = (size_t)(colon - s);
    const char *h = s;
    if (h[0] == '[' && n >= 2 && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n >= cap)
        return false;
    memcpy(host, h, n);
    host[n] = 0;
    return true;
}

/* The first listener of a listeners= value: NAME://HOST:PORT. */
static bool parse_listener(const char *v, char *host, size_t cap, int *port)
{
    char first[512];
    snprintf(first, sizeof first, "%s", v);
    first[strcspn(first, ",")] = 0;
    const char *p = strstr(first, "://");
    p = p ? p + 3 : first;
    char h[256] = "";
    if (!parse_hostport(p, h, sizeof h, port))
        return false;
    if (h[0])
        snprintf(host, cap, "%s", h);
    return true;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

static int load_properties(const char *path, bk_config *cfg)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        bk_log_msg("%s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line);
        if (!*s || *s == '#' || *s == '!')
            continue;
        char *eq = strpbrk(s, "=:");
        if (!eq)
            continue;
        *eq = 0;
        char *key = trim(s), *value = trim(eq + 1);
        long long v;
        if (!strcmp(key, "log.dirs") || !strcmp(key, "log.dir")) {
            value[strcspn(value, ",")] = 0;
            snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", trim(value));
        } else if (!strcmp(key, "listeners")) {
            if (!parse_listener(value, cfg->listen_host, sizeof cfg->listen_host, &cfg->listen_port))
                rc = -1;
        } else if (!strcmp(key, "advertised.listeners")) {
            if (!parse_listener(value, cfg->advertise_host, sizeof cfg->advertise_host,
                                &cfg->advertise_port))
                rc = -1;
        } else if (!strcmp(key, "num.partitions") && parse_long(value, 1, 100000, &v)) {
            cfg->default_partitions = (int32_t)v;
        } else if ((!strcmp(key, "node.id") || !strcmp(key, "broker.id")) &&
                   parse_long(value, 0, INT32_MAX, &v)) {
            cfg->node_id = (int32_t)v;
        } else if (!strcmp(key, "auto.create.topics.enable")) {
            cfg->auto_create_topics = strcmp(value, "false") != 0;
        } else if (!strcmp(key, "log.message.downconversion.enable")) {
            cfg->down_conversion = strcmp(value, "false") != 0;
        } else if (!strcmp(key, "log.segment.bytes") && parse_long(value, 1024, INT32_MAX, &v)) {
            cfg->segment_bytes = v;
        } else if (!strcmp(key, "socket.request.max.bytes") && parse_long(value, 64, INT32_MAX, &v)) {
            cfg->max_frame_bytes = (size_t)v;
        } else if (!strcmp(key, "group.initial.rebalance.delay.ms") &&
                   parse_long(value, 0, INT32_MAX, &v)) {
            cfg->group_initial_rebalance_delay_ms = v;
        } else if (!strcmp(key, "group.consumer.session.timeout.ms") && parse_long(value, 1, INT32_MAX, &v)) {
            cfg->consumer_session_timeout_ms = (int32_t)v;
        } else if (!strcmp(key, "group.consumer.heartbeat.interval.ms") &&
                   parse_long(value, 1, INT32_MAX, &v)) {
            cfg->consumer_heartbeat_interval_ms = (int32_t)v;
        } else if (!strcmp(key, "queued.max.request.bytes") && parse_long(value, -1, LLONG_MAX, &v) &&
                   v != 0) {
            cfg->queued_max_request_bytes = v < 0 ? SIZE_MAX : (size_t)v;
        }
    }
    fclose(f);
    if (rc != 0)
        bk_log_msg("%s: a listener could not be read", path);
    return rc;
}

int main(int argc, char **argv)
{
    bk_config cfg;
    bk_config_default(&cfg);
    enum {
        OPT_LISTEN = 256, OPT_ADVERTISE, OPT_DATA_DIR, OPT_MAX_FRAME, OPT_FSYNC, OPT_PARTITIONS,
        OPT_SEGMENT, OPT_NO_AUTO, OPT_NO_DOWNCONV, OPT_DELAY, OPT_IDLE, OPT_REQ_TIMEOUT, OPT_MAX_CONN, OPT_MAX_PARTS,
        OPT_QUEUED_MAX, OPT_MAX_CREATE, OPT_CONSUMER_SESSION, OPT_CONSUMER_HEARTBEAT,
    };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"advertise", required_argument, NULL, OPT_ADVERTISE},
        {"data-dir", required_argument, NULL, OPT_DATA_DIR},
        {"max-frame-bytes", required_argument, NULL, OPT_MAX_FRAME},
        {"fsync", required_argument, NULL, OPT_FSYNC},
        {"partitions", required_argument, NULL, OPT_PARTITIONS},
        {"segment-bytes", required_argument, NULL, OPT_SEGMENT},
        {"no-auto-create", no_argument, NULL, OPT_NO_AUTO},
        {"no-down-conversion", no_argument, NULL, OPT_NO_DOWNCONV},
        {"group-initial-rebalance-delay-ms", required_argument, NULL, OPT_DELAY},
        {"idle-timeout-ms", required_argument, NULL, OPT_IDLE},
        {"request-timeout-ms", required_argument, NULL, OPT_REQ_TIMEOUT},
        {"max-connections", required_argument, NULL, OPT_MAX_CONN},
        {"max-partitions", required_argument, NULL, OPT_MAX_PARTS},
        {"queued-max-request-bytes", required_argument, NULL, OPT_QUEUED_MAX},
        {"max-partitions-per-request", required_argument, NULL, OPT_MAX_CREATE},
        {"consumer-session-timeout-ms", required_argument, NULL, OPT_CONSUMER_SESSION},
        {"consumer-heartbeat-interval-ms", required_argument, NULL, OPT_CONSUMER_HEARTBEAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* a server.properties path first, flags may follow and override it */
    if (argc > 1 && argv[1][0] != '-') {
        if (load_properties(argv[1], &cfg) != 0)
            return 2;
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    int c;
    long long v;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case OPT_LISTEN:
            ok = parse_hostport(optarg, cfg.listen_host, sizeof cfg.listen_host, &cfg.listen_port);
            break;
        case OPT_ADVERTISE:
            ok = parse_hostport(optarg, cfg.advertise_host, sizeof cfg.advertise_host,
                                &cfg.advertise_port);
            break;
        case OPT_DATA_DIR:
            ok = strlen(optarg) > 0 && strlen(optarg) < sizeof cfg.data_dir;
            if (ok)
                snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", optarg);
            break;
        case OPT_MAX_FRAME:
            ok = parse_long(optarg, 64, INT32_MAX, &v);
            cfg.max_frame_bytes = ok ? (size_t)v : cfg.max_frame_bytes;
            break;
        case OPT_FSYNC:
            if (!strcmp(optarg, "always"))
                cfg.fsync = BK_FSYNC_ALWAYS;
            else if (!strcmp(optarg, "interval"))
                cfg.fsync = BK_FSYNC_INTERVAL;
            else if (!strcmp(optarg, "never"))
                cfg.fsync = BK_FSYNC_NEVER;
            else
                ok = false;
            break;
        case OPT_PARTITIONS:
            ok = parse_long(optarg, 1, 100000, &v);
            cfg.default_partitions = ok ? (int32_t)v : cfg.default_partitions;
            break;
        case OPT_SEGMENT:
            ok = parse_long(optarg, 1024, INT32_MAX, &v);
            cfg.segment_bytes = ok ? v : cfg.segment_bytes;
            break;
        case OPT_NO_AUTO: cfg.auto_create_topics = false; break;
        case OPT_NO_DOWNCONV: cfg.down_conversion = false; break;
        case OPT_DELAY:
            ok = parse_long(optarg, 0, INT32_MAX, &v);
            cfg.group_initial_rebalance_delay_ms = ok ? v : 0;
            break;
        case OPT_CONSUMER_SESSION:
            ok = parse_long(optarg, 1, INT32_MAX, &v);
            cfg.consumer_session_timeout_ms = ok ? (int32_t)v : 0;
            break;
        case OPT_CONSUMER_HEARTBEAT:
            ok = parse_long(optarg, 1, INT32_MAX, &v);
            cfg.consumer_heartbeat_interval_ms = ok ? (int32_t)v : 0;
            break;
        case OPT_IDLE:
            ok = parse_long(optarg, 1, INT32_MAX, &v);
            cfg.idle_timeout_ms = ok ? v : 0;
            break;
        case OPT_REQ_TIMEOUT:
            ok = parse_long(optarg, 1, INT32_MAX, &v);
            cfg.frame_timeout_ms = ok ? v : 0;
            break;
        case OPT_MAX_CONN:
            ok = parse_long(optarg, 1, 1000000, &v);
            cfg.max_connections = ok ? (int)v : 0;
            break;
        case OPT_MAX_PARTS:
            ok = parse_long(optarg, 1, 10000000, &v);
            cfg.max_partitions = ok ? (int32_t)v : 0;
            break;
        case OPT_QUEUED_MAX:
            ok = parse_long(optarg, -1, LLONG_MAX, &v) && v != 0;
            cfg.queued_max_request_bytes = v < 0 ? SIZE_MAX : (size_t)v;
            break;
        case OPT_MAX_CREATE:
            ok = parse_long(optarg, 1, 10000000, &v);
            cfg.max_partitions_per_request = ok ? (int32_t)v : 0;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (!ok) {
            fprintf(stderr, "kwire-broker: bad value for --%s: %s\n", opts[c - OPT_LISTEN].name,
                    optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kwire-broker: unexpected argument %s\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    bk_broker *br = malloc(sizeof *br);
    if (!br)
        return 1;
    if (bk_broker_open(br, &cfg) != 0) {
        free(br);
        return 1;
    }
    if (bk_listen(br) != 0) {
        bk_broker_close(br);
        free(br);
        return 1;
    }
    bk_log_msg("data in %s, %zu topics, fsync %s", cfg.data_dir, br->ntopics,
               cfg.fsync == BK_FSYNC_ALWAYS ? "always" : cfg.fsync == BK_FSYNC_NEVER ? "never" : "interval");
    int rc = bk_run(br);
    bk_log_msg("stopped: %llu connections, %llu requests, %llu frames refused, %llu timeouts",
               (unsigned long long)br->stats.accepted, (unsigned long long)br->stats.requests,
               (unsigned long long)br->stats.frames_refused, (unsigned long long)br->stats.timeouts);
    bk_broker_close(br);
    free(br);
    return rc == 0 ? 0 : 1;
}
