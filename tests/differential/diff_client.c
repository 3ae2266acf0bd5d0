/*
 * The client side of the differential test (compare.py): the same scripted
 * request sequence against one broker, kwire-broker or Apache Kafka 4.4.
 * Every step builds a request with kwire at a chosen version, sends it, reads
 * the answer, decodes it with kwire and prints it as one JSON line:
 *
 *   {"step":"NAME","api":"Metadata","version":12,"response":{...}}
 *   {"step":"NAME",...,"skipped":"version not served"}  outside the ApiVersions range
 *   {"step":"NAME",...,"closed":true}                    the broker closed the connection
 *   {"step":"NAME",...,"decode_error":"..."}             kwire could not read the answer
 *
 * Steps that need earlier answers (member ids, generations, producer ids,
 * topic ids) take them from the decoded views. Waits for a new topic's leader
 * or a group coordinator are requests too, but are not printed.
 *
 *   diff-client HOST:PORT
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <kwire/json.h>
#include <kwire/kwire.h>
#include <kwire/messages.h>
#include <kwire/record_builder.h>

#define IO_TIMEOUT_MS 15000
#define RESPONSE_MAX (8u << 20)
#define WAIT_ROUNDS 150 /* times 100 ms */
#define TXN_WAIT_ROUNDS 40

static kw_slice str(const char *s) { return (kw_slice){(const uint8_t *)s, strlen(s)}; }
static const kw_slice null_slice = {NULL, 0};

typedef struct session {
    const char *host;
    const char *port;
    int fd;
    int32_t correlation_id;
    kw_builder out;
    uint8_t *in;
    size_t in_len;
    kw_message rsp;
    bool quiet;           /* a wait: nothing printed */
    int16_t patch_version; /* >= 0: the header claims this version instead */
    kw_versions served[KW_API_KEY_COUNT];
    int failures;         /* answers kwire could not decode */
} session;

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "diff-client: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void connect_session(session *s)
{
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(s->host, s->port, &hints, &res) != 0)
        die("cannot resolve %s:%s", s->host, s->port);
    s->fd = socket(res->ai_family, res->ai_socktype, 0);
    if (s->fd < 0 || connect(s->fd, res->ai_addr, res->ai_addrlen) != 0)
        die("cannot connect to %s:%s: %s", s->host, s->port, strerror(errno));
    freeaddrinfo(res);
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void reconnect(session *s)
{
    close(s->fd);
    connect_session(s);
}

/* Reads exactly len bytes; false on end of stream, error or timeout. */
static bool read_full(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, IO_TIMEOUT_MS) <= 0)
            return false;
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

static bool write_full(int fd, const uint8_t *buf, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = write(fd, buf + sent, len - sent);
        if (n <= 0)
            return false;
        sent += (size_t)n;
    }
    return true;
}

static void out_write(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    fwrite(data, 1, len, stdout);
}

static const char *api_name(int16_t key)
{
    const kw_api_info *info = kw_api_lookup(key);
    return info ? info->name : "?";
}

static void print_head(const session *s, const char *name, int16_t key, int16_t version)
{
    (void)s;
    printf("{\"step\":\"%s\",\"api\":\"%s\",\"version\":%d", name, api_name(key), (int)version);
}

/*
 * One request and its answer. On true, s->rsp holds the decoded response
 * (its slices point into s->in until the next step).
 */
static bool step(session *s, const char *name, int16_t key, int16_t version, const void *body)
{
    bool print = !s->quiet;
    int16_t sent_version = s->patch_version >= 0 ? s->patch_version : version;
    /* The answer to an ApiVersions the broker does not know is a v0 body (KIP-511). */
    int16_t read_version = key == KW_API_API_VERSIONS && s->patch_version >= 0 ? 0 : version;
    s->patch_version = -1;
    if (!kw_versions_has(s->served[key], sent_version) && sent_version == version) {
        if (print) {
            print_head(s, name, key, sent_version);
            printf(",\"skipped\":\"version not served\",\"served\":[%d,%d]}\n",
                   (int)s->served[key].lo, (int)s->served[key].hi);
        }
        return false;
    }
    int32_t corr = ++s->correlation_id;
    kw_builder_reset(&s->out);
    if (kw_build_request_frame(&s->out, key, version, corr, str("kwire-diff"), body) != KW_OK)
        die("step %s: building %s v%d: %s", name, api_name(key), (int)version,
            kw_err_name(kw_builder_error(&s->out)));
    size_t len = kw_builder_size(&s->out);
    uint8_t *frame = malloc(len);
    if (!frame || kw_builder_copy_out(&s->out, frame, len) != len)
        die("out of memory");
    frame[6] = (uint8_t)((uint16_t)sent_version >> 8);
    frame[7] = (uint8_t)sent_version;
    bool written = write_full(s->fd, frame, len);
    free(frame);

    uint8_t size_bytes[4];
    if (!written || !read_full(s->fd, size_bytes, 4)) {
        if (print) {
            print_head(s, name, key, sent_version);
            printf(",\"closed\":true}\n");
        }
        reconnect(s);
        return false;
    }
    uint32_t size = kw_load_be32(size_bytes);
    if (size > RESPONSE_MAX - 4)
        die("step %s: response of %u bytes", name, (unsigned)size);
    memcpy(s->in, size_bytes, 4);
    if (!read_full(s->fd, s->in + 4, size))
        die("step %s: response cut short", name);
    s->in_len = (size_t)size + 4;

    kw_response_header hdr;
    kw_decode_error err;
    memset(&err, 0, sizeof err);
    kw_err rc = kw_read_response_frame(s->in, s->in_len, key, read_version, &hdr, &s->rsp, NULL,
                                       &err);
    if (rc == KW_OK && hdr.correlation_id != corr)
        die("step %s: correlation id %d, sent %d", name, (int)hdr.correlation_id, (int)corr);
    if (rc != KW_OK) {
        char text[512];
        kw_decode_error_format(&err, text, sizeof text);
        s->failures++;
        print_head(s, name, key, sent_version);
        printf(",\"decode_error\":");
        kw_json_write_string(str(text), out_write, NULL);
        printf("}\n");
        return false;
    }
    if (print) {
        kw_reader r;
        kw_reader_init(&r, s->in, s->in_len);
        kw_reader_skip(&r, 4);
        kw_response_header skipped;
        kw_error herr;
        kw_response_header_read(&r, kw_response_header_version(key, read_version), &skipped, &herr);
        print_head(s, name, key, sent_version);
        if (read_version != sent_version)
            printf(",\"read_as\":%d", (int)read_version);
        printf(",\"response\":");
        kw_json_write_message(kw_message_for_api(key, true), read_version, &r,
                              KW_JSON_RECORDS | KW_JSON_VERIFY_CRC, out_write, NULL, NULL);
        printf("}\n");
    }
    fflush(stdout);
    return true;
}

/* ---- the pieces requests are made of --------------------------------------------------------- */

static kw_uuid topic_ids[8];  /* from CreateTopics, by the index in topic_names */
static const char *const topic_names[] = {"diff-a", "diff-b", "diff-c", "diff-del", "diff-del2"};
enum { TOPIC_A, TOPIC_B, TOPIC_C, TOPIC_DEL, TOPIC_DEL2, TOPIC_COUNT };
/* A UUID no broker has handed out. */
static const kw_uuid unknown_topic_id = {{0x5a, 0x11, 0x7e, 0x57, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}};

/* A record batch v2 of count small records, kept until the next call. */
static kw_slice batch(int count, int64_t producer_id, int16_t epoch, int32_t sequence,
                      size_t value_len)
{
    static kw_builder b;
    static bool ready;
    static uint8_t *bytes;
    static char *big;
    if (!ready) {
        kw_builder_init_growable(&b, 0);
        ready = true;
    }
    kw_builder_reset(&b);
    kw_record_spec recs[8];
    char keys[8][8], values[8][8];
    if (value_len && !big) {
        big = malloc(value_len);
        if (!big)
            die("out of memory");
        memset(big, 'x', value_len);
    }
    for (int i = 0; i < count && i < 8; i++) {
        memset(&recs[i], 0, sizeof recs[i]);
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        snprintf(values[i], sizeof values[i], "v%d", i);
        recs[i].offset_delta = i;
        recs[i].timestamp_delta = i;
        recs[i].key = str(keys[i]);
        recs[i].value = value_len ? (kw_slice){(const uint8_t *)big, value_len} : str(values[i]);
    }
    kw_batch_spec spec = kw_batch_spec_default();
    spec.base_timestamp = 1700000000000;
    spec.producer_id = producer_id;
    spec.producer_epoch = epoch;
    spec.base_sequence = sequence;
    if (kw_build_record_batch(&b, &spec, recs, (size_t)count) != KW_OK)
        die("building a record batch: %s", kw_err_name(kw_builder_error(&b)));
    size_t len = kw_builder_size(&b);
    free(bytes);
    bytes = malloc(len);
    if (!bytes || kw_builder_copy_out(&b, bytes, len) != len)
        die("out of memory");
    return (kw_slice){bytes, len};
}

/* ---- waits (not printed) --------------------------------------------------------------------- */

/* Until Metadata names every topic with all its partitions led. */
static void await_topics(session *s, const char *const *names, int n, const int *partitions)
{
    kw_metadata_request_metadata_request_topic t[8];
    for (int i = 0; i < n; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].name = str(names[i]);
    }
    kw_metadata_request rq;
    memset(&rq, 0, sizeof rq);
    rq.topics = kw_array_of(t, n);
    for (int round = 0; round < WAIT_ROUNDS; round++) {
        s->quiet = true;
        bool got = step(s, "wait-topics", KW_API_METADATA, 12, &rq);
        s->quiet = false;
        int ready = 0;
        kw_array_iter it, pit;
        kw_metadata_response_metadata_response_topic topic;
        kw_metadata_response_metadata_response_partition part;
        if (got) {
            kw_array_iter_init(&it, &s->rsp.u.metadata_response.topics);
            while (kw_metadata_response_metadata_response_topic_next(&it, &topic)) {
                int led = 0;
                kw_array_iter_init(&pit, &topic.partitions);
                while (kw_metadata_response_metadata_response_partition_next(&pit, &part))
                    led += part.error_code == 0 && part.leader_id >= 0;
                for (int i = 0; i < n; i++)
                    if (topic.error_code == 0 && topic.name.len == strlen(names[i]) &&
                        memcmp(topic.name.ptr, names[i], topic.name.len) == 0 &&
                        led == partitions[i])
                        ready++;
            }
        }
        if (ready == n)
            return;
        sleep_ms(100);
    }
    die("topics did not get leaders within %d ms", WAIT_ROUNDS * 100);
}

/* Asks for a coordinator once, unprinted: Kafka creates its internal topic then. */
static void touch_coordinator(session *s, const char *key, int8_t key_type)
{
    kw_find_coordinator_request rq;
    memset(&rq, 0, sizeof rq);
    rq.key = str(key);
    rq.key_type = key_type;
    s->quiet = true;
    step(s, "touch-coordinator", KW_API_FIND_COORDINATOR, 3, &rq);
    s->quiet = false;
}

/* Until the coordinator of a group (key_type 0) or transactional id (1) answers. */
static void await_coordinator(session *s, const char *key, int8_t key_type)
{
    kw_find_coordinator_request rq;
    memset(&rq, 0, sizeof rq);
    rq.key = str(key);
    rq.key_type = key_type;
    /* kwire-broker has no transaction coordinator: do not wait long for one */
    int rounds = key_type == 0 ? WAIT_ROUNDS : TXN_WAIT_ROUNDS;
    for (int round = 0; round < rounds; round++) {
        s->quiet = true;
        bool got = step(s, "wait-coordinator", KW_API_FIND_COORDINATOR, 3, &rq);
        s->quiet = false;
        if (got && s->rsp.u.find_coordinator_response.error_code == 0)
            break;
        sleep_ms(100);
    }
    if (key_type != 0)
        return;
    /* the group coordinator also loads its partition before it answers OffsetFetch */
    kw_offset_fetch_request of;
    memset(&of, 0, sizeof of);
    of.group_id = str(key);
    of.topics = kw_array_of(NULL, -1);
    for (int round = 0; round < WAIT_ROUNDS; round++) {
        s->quiet = true;
        bool got = step(s, "wait-coordinator", KW_API_OFFSET_FETCH, 7, &of);
        s->quiet = false;
        if (got && s->rsp.u.offset_fetch_response.error_code == 0)
            return;
        sleep_ms(100);
    }
    die("the coordinator of %s did not answer within %d ms", key, WAIT_ROUNDS * 100);
}

/* ---- ApiVersions ----------------------------------------------------------------------------- */

static void learn_versions(session *s)
{
    for (int k = 0; k < KW_API_KEY_COUNT; k++)
        s->served[k] = (kw_versions){1, 0};
    s->served[KW_API_API_VERSIONS] = (kw_versions){0, 3};
    kw_api_versions_request rq;
    memset(&rq, 0, sizeof rq);
    rq.client_software_name = str("kwire-diff");
    rq.client_software_version = str("1.0");
    s->quiet = true;
    if (!step(s, "learn-versions", KW_API_API_VERSIONS, 3, &rq))
        die("no ApiVersions v3 answer");
    s->quiet = false;
    kw_array_iter it;
    kw_api_versions_response_api_version v;
    kw_array_iter_init(&it, &s->rsp.u.api_versions_response.api_keys);
    while (kw_api_versions_response_api_version_next(&it, &v))
        if (v.api_key >= 0 && v.api_key < KW_API_KEY_COUNT)
            s->served[v.api_key] = (kw_versions){v.min_version, v.max_version};
}

static void api_versions(session *s)
{
    kw_api_versions_request rq;
    memset(&rq, 0, sizeof rq);
    step(s, "api_versions", KW_API_API_VERSIONS, 0, &rq);
    rq.client_software_name = str("kwire-diff");
    rq.client_software_version = str("1.0");
    step(s, "api_versions", KW_API_API_VERSIONS, 3, &rq);
    step(s, "api_versions", KW_API_API_VERSIONS, 4, &rq);
    rq.client_software_name = str("-bad name");
    step(s, "api_versions_invalid_software_name", KW_API_API_VERSIONS, 3, &rq);
    rq.client_software_name = str("kwire-diff");
    s->patch_version = 99;
    step(s, "api_versions_future_version", KW_API_API_VERSIONS, 3, &rq);
}

/* ---- topics ---------------------------------------------------------------------------------- */

static void remember_topic_ids(session *s)
{
    kw_array_iter it;
    kw_create_topics_response_creatable_topic_result t;
    kw_array_iter_init(&it, &s->rsp.u.create_topics_response.topics);
    while (kw_create_topics_response_creatable_topic_result_next(&it, &t))
        for (int i = 0; i < TOPIC_COUNT; i++)
            if (t.error_code == 0 && t.name.len == strlen(topic_names[i]) &&
                memcmp(t.name.ptr, topic_names[i], t.name.len) == 0)
                topic_ids[i] = t.topic_id;
}

static void create_topics(session *s, const char *name, int16_t version, const char *const *names,
                          const int32_t *partitions, const int16_t *replication, int n,
                          bool validate_only)
{
    kw_create_topics_request_creatable_topic t[8];
    for (int i = 0; i < n; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].name = str(names[i]);
        t[i].num_partitions = partitions[i];
        t[i].replication_factor = replication[i];
        t[i].assignments = kw_array_of(NULL, 0);
        t[i].configs = kw_array_of(NULL, 0);
    }
    kw_create_topics_request rq;
    memset(&rq, 0, sizeof rq);
    rq.topics = kw_array_of(t, n);
    rq.timeout_ms = 30000;
    rq.validate_only = validate_only;
    if (step(s, name, KW_API_CREATE_TOPICS, version, &rq))
        remember_topic_ids(s);
}

static void topics(session *s)
{
    char long_name[256];
    memset(long_name, 'n', 250);
    long_name[250] = 0;
    /* v7 and later answer with topic ids, which later steps use */
    {
        const char *names[] = {"diff-a", "diff-b"};
        const int32_t parts[] = {1, 3};
        const int16_t repl[] = {1, -1};
        create_topics(s, "create_topics", 7, names, parts, repl, 2, false);
    }
    {
        const char *names[] = {"diff-c"};
        const int32_t parts[] = {-1};
        const int16_t repl[] = {-1};
        create_topics(s, "create_topics_default_partitions", 7, names, parts, repl, 1, false);
    }
    {
        const char *names[] = {"diff-del", "diff-del2"};
        const int32_t parts[] = {1, 2};
        const int16_t repl[] = {1, 1};
        create_topics(s, "create_topics_for_delete", 7, names, parts, repl, 2, false);
    }
    {
        const char *names[] = {"diff-v2"};
        const int32_t parts[] = {-1};
        const int16_t repl[] = {-1};
        create_topics(s, "create_topics_default_partitions", 2, names, parts, repl, 1, false);
        names[0] = "diff-v5";
        create_topics(s, "create_topics_default_partitions", 5, names, parts, repl, 1, false);
    }
    {
        const char *names[] = {"diff-a", "diff-zero", "diff-minus2", "bad/name", "..", long_name,
                               "diff-rf3"};
        const int32_t parts[] = {1, 0, -2, 1, 1, 1, 1};
        const int16_t repl[] = {1, 1, 1, 1, 1, 1, 3};
        create_topics(s, "create_topics_errors", 7, names, parts, repl, 7, false);
        create_topics(s, "create_topics_errors", 4, names, parts, repl, 7, false);
    }
    {
        const char *names[] = {"diff-dup", "diff-dup"};
        const int32_t parts[] = {1, 1};
        const int16_t repl[] = {1, 1};
        create_topics(s, "create_topics_duplicate", 7, names, parts, repl, 2, false);
    }
    {
        const char *names[] = {"diff-validate"};
        const int32_t parts[] = {4};
        const int16_t repl[] = {1};
        create_topics(s, "create_topics_validate_only", 7, names, parts, repl, 1, true);
    }
    const int led[] = {1, 3, 1, 1, 2};
    await_topics(s, topic_names, TOPIC_COUNT, led);
}

static void metadata(session *s)
{
    kw_metadata_request rq;
    memset(&rq, 0, sizeof rq);
    kw_metadata_request_metadata_request_topic t[4];
    memset(t, 0, sizeof t);
    t[0].name = str("diff-a");
    t[1].name = str("diff-b");
    t[2].name = str("diff-missing");
    t[3].name = str("bad/name");
    rq.topics = kw_array_of(t, 4);
    static const int16_t versions[] = {1, 4, 9, 12};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
        step(s, "metadata_topics", KW_API_METADATA, versions[i], &rq);
    rq.include_topic_authorized_operations = true;
    rq.include_cluster_authorized_operations = true;
    step(s, "metadata_authorized_operations", KW_API_METADATA, 9, &rq);
    rq.include_cluster_authorized_operations = false;
    rq.include_topic_authorized_operations = false;

    kw_metadata_request_metadata_request_topic ids[2];
    memset(ids, 0, sizeof ids);
    ids[0].topic_id = topic_ids[TOPIC_B];
    ids[0].name = null_slice;
    ids[1].topic_id = unknown_topic_id;
    ids[1].name = null_slice;
    rq.topics = kw_array_of(ids, 1);
    step(s, "metadata_by_topic_id", KW_API_METADATA, 12, &rq);
    rq.topics = kw_array_of(ids + 1, 1);
    step(s, "metadata_unknown_topic_id", KW_API_METADATA, 12, &rq);

    rq.topics = kw_array_of(NULL, 0);
    step(s, "metadata_no_topics", KW_API_METADATA, 12, &rq);

    kw_describe_topic_partitions_request dq;
    memset(&dq, 0, sizeof dq);
    kw_describe_topic_partitions_request_topic_request dt[2];
    memset(dt, 0, sizeof dt);
    dt[0].name = str("diff-b");
    dt[1].name = str("diff-missing");
    dq.topics = kw_array_of(dt, 2);
    dq.response_partition_limit = 2000;
    step(s, "describe_topic_partitions", KW_API_DESCRIBE_TOPIC_PARTITIONS, 0, &dq);
    dq.response_partition_limit = 2;
    dq.topics = kw_array_of(dt, 1);
    step(s, "describe_topic_partitions_limit", KW_API_DESCRIBE_TOPIC_PARTITIONS, 0, &dq);
    dq.response_partition_limit = 2000;
    dq.has_cursor = true;
    dq.cursor.topic_name = str("diff-b");
    dq.cursor.partition_index = 1;
    step(s, "describe_topic_partitions_cursor", KW_API_DESCRIBE_TOPIC_PARTITIONS, 0, &dq);
}

/* Everything is created by the CreateTopics steps: all topics only where nothing else exists yet. */
static void metadata_all(session *s)
{
    kw_metadata_request rq;
    memset(&rq, 0, sizeof rq);
    rq.topics = kw_array_of(NULL, -1);
    step(s, "metadata_all_topics_empty_cluster", KW_API_METADATA, 1, &rq);
    step(s, "metadata_all_topics_empty_cluster", KW_API_METADATA, 12, &rq);
}

/* ---- Produce ---------------------------------------------------------------------------------- */

static void produce_one(session *s, const char *name, int16_t version, const char *topic,
                        int32_t partition, int16_t acks, kw_slice records)
{
    kw_produce_request_partition_produce_data p;
    memset(&p, 0, sizeof p);
    p.index = partition;
    p.records = kw_records_of(records);
    kw_produce_request_topic_produce_data t;
    memset(&t, 0, sizeof t);
    t.name = str(topic);
    t.partition_data = kw_array_of(&p, 1);
    kw_produce_request rq;
    memset(&rq, 0, sizeof rq);
    rq.transactional_id = null_slice;
    rq.acks = acks;
    rq.timeout_ms = 30000;
    rq.topic_data = kw_array_of(&t, 1);
    step(s, name, KW_API_PRODUCE, version, &rq);
}

static int64_t producer_id;
static int16_t producer_epoch;

static void produce(session *s)
{
    produce_one(s, "produce", 3, "diff-a", 0, 1, batch(3, -1, -1, -1, 0));
    produce_one(s, "produce", 9, "diff-a", 0, -1, batch(2, -1, -1, -1, 0));
    produce_one(s, "produce", 11, "diff-a", 0, 1, batch(1, -1, -1, -1, 0));
    {
        kw_produce_request_partition_produce_data p[3];
        memset(p, 0, sizeof p);
        for (int i = 0; i < 3; i++) {
            p[i].index = i;
            p[i].records = kw_records_of(batch(1, -1, -1, -1, 0));
            /* each batch() call frees the last one: keep copies */
            uint8_t *copy = malloc(p[i].records.bytes.len);
            if (!copy)
                die("out of memory");
            memcpy(copy, p[i].records.bytes.ptr, p[i].records.bytes.len);
            p[i].records.bytes.ptr = copy;
        }
        kw_produce_request_topic_produce_data t[2];
        memset(t, 0, sizeof t);
        t[0].name = str("diff-b");
        t[0].partition_data = kw_array_of(p, 3);
        t[1].name = str("diff-missing");
        t[1].partition_data = kw_array_of(p, 1);
        kw_produce_request rq;
        memset(&rq, 0, sizeof rq);
        rq.transactional_id = null_slice;
        rq.acks = 1;
        rq.timeout_ms = 30000;
        rq.topic_data = kw_array_of(t, 2);
        step(s, "produce_partitions_and_unknown_topic", KW_API_PRODUCE, 9, &rq);
        for (int i = 0; i < 3; i++)
            free((void *)p[i].records.bytes.ptr);
    }
    {
        /* the same partition twice in one request */
        kw_slice one = batch(1, -1, -1, -1, 0);
        uint8_t *copy = malloc(one.len);
        if (!copy)
            die("out of memory");
        memcpy(copy, one.ptr, one.len);
        kw_produce_request_partition_produce_data p[2];
        memset(p, 0, sizeof p);
        p[0].records = p[1].records = kw_records_of((kw_slice){copy, one.len});
        kw_produce_request_topic_produce_data t;
        memset(&t, 0, sizeof t);
        t.name = str("diff-b");
        t.partition_data = kw_array_of(p, 2);
        kw_produce_request rq;
        memset(&rq, 0, sizeof rq);
        rq.transactional_id = null_slice;
        rq.acks = 1;
        rq.timeout_ms = 30000;
        rq.topic_data = kw_array_of(&t, 1);
        step(s, "produce_duplicate_partition", KW_API_PRODUCE, 11, &rq);
        free(copy);
    }
    produce_one(s, "produce_unknown_topic", 11, "diff-missing", 0, 1, batch(1, -1, -1, -1, 0));
    produce_one(s, "produce_unknown_partition", 11, "diff-a", 7, 1, batch(1, -1, -1, -1, 0));
    produce_one(s, "produce_invalid_topic_name", 11, "bad/name", 0, 1, batch(1, -1, -1, -1, 0));
    produce_one(s, "produce_invalid_acks", 11, "diff-a", 0, 2, batch(1, -1, -1, -1, 0));
    produce_one(s, "produce_too_large", 11, "diff-a", 0, 1, batch(1, -1, -1, -1, 1100000));
    produce_one(s, "produce_too_large", 3, "diff-a", 0, 1, batch(1, -1, -1, -1, 1100000));
    produce_one(s, "produce_empty_records", 11, "diff-a", 0, 1, str(""));

    /* idempotence: an id, then in order, a duplicate, a gap, a newer and a stale epoch */
    kw_init_producer_id_request ip;
    memset(&ip, 0, sizeof ip);
    ip.transactional_id = null_slice;
    ip.transaction_timeout_ms = 60000;
    ip.producer_id = -1;
    ip.producer_epoch = -1;
    /* Kafka answers COORDINATOR_LOAD_IN_PROGRESS until its producer id manager is ready */
    for (int round = 0; round < WAIT_ROUNDS; round++) {
        s->quiet = true;
        bool got = step(s, "wait-init", KW_API_INIT_PRODUCER_ID, 4, &ip);
        s->quiet = false;
        if (got && s->rsp.u.init_producer_id_response.error_code == 0)
            break;
        sleep_ms(100);
    }
    step(s, "init_producer_id", KW_API_INIT_PRODUCER_ID, 1, &ip);
    if (step(s, "init_producer_id", KW_API_INIT_PRODUCER_ID, 4, &ip)) {
        producer_id = s->rsp.u.init_producer_id_response.producer_id;
        producer_epoch = s->rsp.u.init_producer_id_response.producer_epoch;
    }
    int16_t e = producer_epoch;
    produce_one(s, "produce_idempotent_first", 11, "diff-c", 0, -1, batch(2, producer_id, e, 0, 0));
    produce_one(s, "produce_idempotent_next", 11, "diff-c", 0, -1, batch(2, producer_id, e, 2, 0));
    produce_one(s, "produce_idempotent_duplicate", 11, "diff-c", 0, -1,
                batch(2, producer_id, e, 2, 0));
    produce_one(s, "produce_idempotent_gap", 11, "diff-c", 0, -1, batch(1, producer_id, e, 9, 0));
    produce_one(s, "produce_idempotent_newer_epoch", 11, "diff-c", 0, -1,
                batch(1, producer_id, (int16_t)(e + 1), 0, 0));
    produce_one(s, "produce_idempotent_stale_epoch", 11, "diff-c", 0, -1,
                batch(1, producer_id, e, 4, 0));
    produce_one(s, "produce_idempotent_acks1", 11, "diff-c", 0, 1,
                batch(1, producer_id, (int16_t)(e + 1), 1, 0));
    produce_one(s, "produce_unknown_producer_id", 11, "diff-c", 0, -1,
                batch(1, producer_id + 1000, 0, 5, 0));

    /* a transactional id: a second InitProducerId fences the first epoch */
    await_coordinator(s, "diff-tx", 1);
    ip.transactional_id = str("diff-tx");
    int64_t tx_id = -1;
    int16_t tx_epoch = 0;
    for (int round = 0; round < TXN_WAIT_ROUNDS; round++) {
        s->quiet = true;
        bool got = step(s, "wait-init-transactional", KW_API_INIT_PRODUCER_ID, 4, &ip);
        s->quiet = false;
        if (got && s->rsp.u.init_producer_id_response.error_code == 0) {
            tx_id = s->rsp.u.init_producer_id_response.producer_id;
            tx_epoch = s->rsp.u.init_producer_id_response.producer_epoch;
            break;
        }
        sleep_ms(100);
    }
    step(s, "init_producer_id_transactional_again", KW_API_INIT_PRODUCER_ID, 4, &ip);
    ip.producer_id = tx_id;
    ip.producer_epoch = tx_epoch;
    step(s, "init_producer_id_fenced_epoch", KW_API_INIT_PRODUCER_ID, 4, &ip);
    ip.producer_id = tx_id + 1000;
    step(s, "init_producer_id_wrong_producer_id", KW_API_INIT_PRODUCER_ID, 4, &ip);
    ip.producer_id = -1;
    ip.producer_epoch = -1;
    ip.transaction_timeout_ms = 0;
    step(s, "init_producer_id_invalid_timeout", KW_API_INIT_PRODUCER_ID, 4, &ip);
    ip.transactional_id = str("");
    ip.transaction_timeout_ms = 60000;
    step(s, "init_producer_id_empty_transactional_id", KW_API_INIT_PRODUCER_ID, 4, &ip);
}

/* ---- ListOffsets and Fetch ------------------------------------------------------------------- */

static void list_offsets_one(session *s, const char *name, int16_t version, const char *topic,
                             int32_t partition, int64_t timestamp)
{
    kw_list_offsets_request_list_offsets_partition p;
    memset(&p, 0, sizeof p);
    p.partition_index = partition;
    p.current_leader_epoch = -1;
    p.timestamp = timestamp;
    p.max_num_offsets = 1;
    kw_list_offsets_request_list_offsets_topic t;
    memset(&t, 0, sizeof t);
    t.name = str(topic);
    t.partitions = kw_array_of(&p, 1);
    kw_list_offsets_request rq;
    memset(&rq, 0, sizeof rq);
    rq.replica_id = -1;
    rq.topics = kw_array_of(&t, 1);
    rq.timeout_ms = 30000;
    step(s, name, KW_API_LIST_OFFSETS, version, &rq);
}

static void list_offsets(session *s)
{
    static const int16_t versions[] = {1, 7, 10};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        int16_t v = versions[i];
        list_offsets_one(s, "list_offsets_earliest", v, "diff-a", 0, -2);
        list_offsets_one(s, "list_offsets_latest", v, "diff-a", 0, -1);
        list_offsets_one(s, "list_offsets_by_time", v, "diff-a", 0, 1700000000001);
        list_offsets_one(s, "list_offsets_future_time", v, "diff-a", 0, 4102444800000);
        list_offsets_one(s, "list_offsets_unknown_topic", v, "diff-missing", 0, -1);
        list_offsets_one(s, "list_offsets_unknown_partition", v, "diff-a", 9, -1);
    }
    list_offsets_one(s, "list_offsets_max_timestamp", 7, "diff-a", 0, -3);
    list_offsets_one(s, "list_offsets_invalid_timestamp", 7, "diff-a", 0, -7);
    kw_list_offsets_request_list_offsets_partition p[2];
    memset(p, 0, sizeof p);
    p[0].timestamp = p[1].timestamp = -1;
    p[0].current_leader_epoch = p[1].current_leader_epoch = -1;
    kw_list_offsets_request_list_offsets_topic t;
    memset(&t, 0, sizeof t);
    t.name = str("diff-a");
    t.partitions = kw_array_of(p, 2);
    kw_list_offsets_request rq;
    memset(&rq, 0, sizeof rq);
    rq.replica_id = -1;
    rq.topics = kw_array_of(&t, 1);
    step(s, "list_offsets_duplicate_partition", KW_API_LIST_OFFSETS, 7, &rq);
}

static void fetch_one(session *s, const char *name, int16_t version, const char *topic,
                      kw_uuid topic_id, int32_t partition, int64_t offset)
{
    kw_fetch_request_fetch_partition p;
    memset(&p, 0, sizeof p);
    p.partition = partition;
    p.current_leader_epoch = -1;
    p.fetch_offset = offset;
    p.last_fetched_epoch = -1;
    p.log_start_offset = -1;
    p.partition_max_bytes = 1 << 20;
    kw_fetch_request_fetch_topic t;
    memset(&t, 0, sizeof t);
    t.topic = str(topic);
    t.topic_id = topic_id;
    t.partitions = kw_array_of(&p, 1);
    kw_fetch_request rq;
    memset(&rq, 0, sizeof rq);
    rq.cluster_id = null_slice;
    rq.replica_id = -1;
    rq.replica_state.replica_id = -1;
    rq.replica_state.replica_epoch = -1;
    rq.max_wait_ms = 0;
    rq.min_bytes = 1;
    rq.max_bytes = 1 << 24;
    rq.session_id = 0;
    rq.session_epoch = -1;
    rq.topics = kw_array_of(&t, 1);
    rq.forgotten_topics_data = kw_array_of(NULL, 0);
    rq.rack_id = str("");
    step(s, name, KW_API_FETCH, version, &rq);
}

static void fetch(session *s)
{
    static const int16_t by_name[] = {4, 11, 12};
    const kw_uuid none = {{0}};
    for (size_t i = 0; i < sizeof by_name / sizeof by_name[0]; i++) {
        int16_t v = by_name[i];
        fetch_one(s, "fetch", v, "diff-a", none, 0, 0);
        fetch_one(s, "fetch_middle", v, "diff-a", none, 0, 4);
        fetch_one(s, "fetch_at_end", v, "diff-a", none, 0, 6);
        fetch_one(s, "fetch_out_of_range", v, "diff-a", none, 0, 1000);
        fetch_one(s, "fetch_negative_offset", v, "diff-a", none, 0, -5);
        fetch_one(s, "fetch_unknown_topic", v, "diff-missing", none, 0, 0);
        fetch_one(s, "fetch_unknown_partition", v, "diff-a", none, 9, 0);
    }
    static const int16_t by_id[] = {13, 17};
    for (size_t i = 0; i < sizeof by_id / sizeof by_id[0]; i++) {
        int16_t v = by_id[i];
        fetch_one(s, "fetch", v, "", topic_ids[TOPIC_A], 0, 0);
        fetch_one(s, "fetch_idempotent", v, "", topic_ids[TOPIC_C], 0, 0);
        fetch_one(s, "fetch_out_of_range", v, "", topic_ids[TOPIC_A], 0, 1000);
        fetch_one(s, "fetch_unknown_topic_id", v, "", unknown_topic_id, 0, 0);
        fetch_one(s, "fetch_unknown_partition", v, "", topic_ids[TOPIC_A], 9, 0);
    }
}

/* ---- DeleteRecords ---------------------------------------------------------------------------- */

static void delete_records_one(session *s, const char *name, int16_t version, const char *topic,
                               int32_t partition, int64_t offset)
{
    kw_delete_records_request_delete_records_partition p;
    kw_delete_records_request_delete_records_partition_init(&p);
    p.partition_index = partition;
    p.offset = offset;
    kw_delete_records_request_delete_records_topic t;
    kw_delete_records_request_delete_records_topic_init(&t);
    t.name = str(topic);
    t.partitions = kw_array_of(&p, 1);
    kw_delete_records_request rq;
    kw_delete_records_request_init(&rq);
    rq.topics = kw_array_of(&t, 1);
    rq.timeout_ms = 10000;
    step(s, name, KW_API_DELETE_RECORDS, version, &rq);
}

/* diff-a-0 holds 6 records: its log start moves to 2, 3, then the end; reads below it fail */
static void delete_records(session *s)
{
    const kw_uuid none = {{0}};
    delete_records_one(s, "delete_records", 0, "diff-a", 0, 2);
    fetch_one(s, "fetch_below_log_start", 12, "diff-a", none, 0, 1);
    fetch_one(s, "fetch_at_log_start", 12, "diff-a", none, 0, 2);
    list_offsets_one(s, "list_offsets_after_delete_records", 7, "diff-a", 0, -2);
    delete_records_one(s, "delete_records", 2, "diff-a", 0, 3);
    delete_records_one(s, "delete_records_below_start", 2, "diff-a", 0, 1);
    delete_records_one(s, "delete_records_past_high_watermark", 2, "diff-a", 0, 1000);
    delete_records_one(s, "delete_records_negative", 2, "diff-a", 0, -7);
    delete_records_one(s, "delete_records_unknown_topic", 2, "diff-missing", 0, 1);
    delete_records_one(s, "delete_records_unknown_partition", 2, "diff-a", 9, 1);
    delete_records_one(s, "delete_records_high_watermark", 2, "diff-a", 0, -1);
    fetch_one(s, "fetch_after_delete_all", 12, "diff-a", none, 0, 5);
    list_offsets_one(s, "list_offsets_after_delete_all", 7, "diff-a", 0, -2);
}

/* ---- groups ---------------------------------------------------------------------------------- */

static char member_id[256];
static int32_t generation;

static bool join(session *s, const char *name, int16_t version, const char *group,
                 const char *member, const char *protocol_type)
{
    static const uint8_t subscription[] = {0, 1, 0, 0, 0, 1, 0, 6, 'd', 'i', 'f', 'f', '-', 'a',
                                           0xff, 0xff, 0xff, 0xff};
    kw_join_group_request_join_group_request_protocol proto;
    memset(&proto, 0, sizeof proto);
    proto.name = str("range");
    proto.metadata = (kw_slice){subscription, sizeof subscription};
    kw_join_group_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group_id = str(group);
    rq.session_timeout_ms = 30000;
    rq.rebalance_timeout_ms = 10000;
    rq.member_id = str(member);
    rq.group_instance_id = null_slice;
    rq.protocol_type = str(protocol_type);
    rq.protocols = kw_array_of(&proto, 1);
    rq.reason = null_slice;
    if (!step(s, name, KW_API_JOIN_GROUP, version, &rq))
        return false;
    const kw_join_group_response *r = &s->rsp.u.join_group_response;
    if (r->member_id.len && r->member_id.len < sizeof member_id) {
        memcpy(member_id, r->member_id.ptr, r->member_id.len);
        member_id[r->member_id.len] = 0;
    }
    if (r->error_code == 0)
        generation = r->generation_id;
    return r->error_code == 0;
}

static void sync_one(session *s, const char *name, int16_t version, const char *group,
                     int32_t gen, const char *member)
{
    static const uint8_t assignment[] = {0, 1, 0, 0, 0, 1, 0, 6, 'd', 'i', 'f', 'f', '-', 'a',
                                         0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    kw_sync_group_request_sync_group_request_assignment a;
    memset(&a, 0, sizeof a);
    a.member_id = str(member);
    a.assignment = (kw_slice){assignment, sizeof assignment};
    kw_sync_group_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group_id = str(group);
    rq.generation_id = gen;
    rq.member_id = str(member);
    rq.group_instance_id = null_slice;
    rq.protocol_type = str("consumer");
    rq.protocol_name = str("range");
    rq.assignments = kw_array_of(&a, 1);
    step(s, name, KW_API_SYNC_GROUP, version, &rq);
}

static void heartbeat_one(session *s, const char *name, int16_t version, const char *group,
                          int32_t gen, const char *member)
{
    kw_heartbeat_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group_id = str(group);
    rq.generation_id = gen;
    rq.member_id = str(member);
    rq.group_instance_id = null_slice;
    step(s, name, KW_API_HEARTBEAT, version, &rq);
}

static void commit_one(session *s, const char *name, int16_t version, const char *group,
                       int32_t gen, const char *member, const char *topic, int32_t partition)
{
    kw_offset_commit_request_offset_commit_request_partition p;
    memset(&p, 0, sizeof p);
    p.partition_index = partition;
    p.committed_offset = 3;
    p.committed_leader_epoch = -1;
    p.commit_timestamp = -1;
    p.committed_metadata = str("meta");
    kw_offset_commit_request_offset_commit_request_topic t;
    memset(&t, 0, sizeof t);
    t.name = str(topic);
    t.partitions = kw_array_of(&p, 1);
    kw_offset_commit_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group_id = str(group);
    rq.generation_id_or_member_epoch = gen;
    rq.member_id = str(member);
    rq.group_instance_id = null_slice;
    rq.retention_time_ms = -1;
    rq.topics = kw_array_of(&t, 1);
    step(s, name, KW_API_OFFSET_COMMIT, version, &rq);
}

static void offset_fetch_one(session *s, const char *name, int16_t version, const char *group,
                             bool all_topics)
{
    static const int32_t parts[] = {0, 1, 7};
    kw_offset_fetch_request_offset_fetch_request_topic t[2];
    memset(t, 0, sizeof t);
    t[0].name = str("diff-a");
    t[0].partition_indexes = kw_array_of(parts, 3);
    t[1].name = str("diff-missing");
    t[1].partition_indexes = kw_array_of(parts, 1);
    kw_offset_fetch_request_offset_fetch_request_topics gt[2];
    memset(gt, 0, sizeof gt);
    gt[0].name = str("diff-a");
    gt[0].partition_indexes = kw_array_of(parts, 3);
    gt[1].name = str("diff-missing");
    gt[1].partition_indexes = kw_array_of(parts, 1);
    kw_offset_fetch_request_offset_fetch_request_group g;
    memset(&g, 0, sizeof g);
    g.group_id = str(group);
    g.member_id = null_slice;
    g.member_epoch = -1;
    g.topics = all_topics ? kw_array_of(NULL, -1) : kw_array_of(gt, 2);
    kw_offset_fetch_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group_id = str(group);
    rq.topics = all_topics ? kw_array_of(NULL, -1) : kw_array_of(t, 2);
    rq.groups = kw_array_of(&g, 1);
    step(s, name, KW_API_OFFSET_FETCH, version, &rq);
}

static void describe_groups_one(session *s, const char *name, int16_t version)
{
    kw_slice groups[3] = {str("diff-g"), str("diff-simple"), str("diff-nobody")};
    kw_describe_groups_request rq;
    memset(&rq, 0, sizeof rq);
    rq.groups = kw_array_of(groups, 3);
    step(s, name, KW_API_DESCRIBE_GROUPS, version, &rq);
}

static void leave_one(session *s, const char *name, int16_t version, const char *group,
                      const char *member)
{
    kw_leave_group_request_member_identity m[2];
    memset(m, 0, sizeof m);
    m[0].member_id = str(member);
    m[0].group_instance_id = null_slice;
    m[0].reason = null_slice;
    m[1].member_id = str("diff-nobody");
    m[1].group_instance_id = null_slice;
    m[1].reason = null_slice;
    kw_leave_group_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group_id = str(group);
    rq.member_id = str(member);
    rq.members = kw_array_of(m, version >= 3 ? 2 : 1);
    step(s, name, KW_API_LEAVE_GROUP, version, &rq);
}

static void list_groups(session *s)
{
    kw_list_groups_request rq;
    memset(&rq, 0, sizeof rq);
    rq.states_filter = kw_array_of(NULL, 0);
    rq.types_filter = kw_array_of(NULL, 0);
    step(s, "list_groups", KW_API_LIST_GROUPS, 2, &rq);
    step(s, "list_groups", KW_API_LIST_GROUPS, 5, &rq);
    kw_slice states[1] = {str("Stable")};
    rq.states_filter = kw_array_of(states, 1);
    step(s, "list_groups_stable", KW_API_LIST_GROUPS, 4, &rq);
    kw_slice types[1] = {str("classic")};
    rq.states_filter = kw_array_of(NULL, 0);
    rq.types_filter = kw_array_of(types, 1);
    step(s, "list_groups_classic", KW_API_LIST_GROUPS, 5, &rq);
}

static void find_coordinator(session *s)
{
    kw_find_coordinator_request rq;
    memset(&rq, 0, sizeof rq);
    rq.key = str("diff-g");
    rq.key_type = 0;
    step(s, "find_coordinator", KW_API_FIND_COORDINATOR, 0, &rq);
    step(s, "find_coordinator", KW_API_FIND_COORDINATOR, 3, &rq);
    kw_slice keys[2] = {str("diff-g"), str("diff-simple")};
    rq.coordinator_keys = kw_array_of(keys, 2);
    step(s, "find_coordinator", KW_API_FIND_COORDINATOR, 4, &rq);
    rq.key = str("diff-tx");
    rq.key_type = 1;
    rq.coordinator_keys = kw_array_of(keys, 1);
    step(s, "find_coordinator_transaction", KW_API_FIND_COORDINATOR, 4, &rq);
    rq.key_type = 5;
    step(s, "find_coordinator_invalid_key_type", KW_API_FIND_COORDINATOR, 4, &rq);
    rq.key_type = 0;
    kw_slice empty[1] = {str("")};
    rq.coordinator_keys = kw_array_of(empty, 1);
    step(s, "find_coordinator_empty_group", KW_API_FIND_COORDINATOR, 4, &rq);
}

static void groups(session *s)
{
    await_coordinator(s, "diff-g", 0);
    find_coordinator(s);

    /* a simple consumer's commit (no generation) and fetch */
    commit_one(s, "offset_commit_simple", 2, "diff-simple", -1, "", "diff-a", 0);
    commit_one(s, "offset_commit_simple", 8, "diff-simple", -1, "", "diff-a", 1);
    commit_one(s, "offset_commit_unknown_topic", 8, "diff-simple", -1, "", "diff-missing", 0);
    commit_one(s, "offset_commit_unknown_partition", 8, "diff-simple", -1, "", "diff-a", 7);
    offset_fetch_one(s, "offset_fetch", 1, "diff-simple", false);
    offset_fetch_one(s, "offset_fetch", 7, "diff-simple", false);
    offset_fetch_one(s, "offset_fetch", 8, "diff-simple", false);
    offset_fetch_one(s, "offset_fetch_all_topics", 7, "diff-simple", true);
    offset_fetch_one(s, "offset_fetch_unknown_group", 7, "diff-nobody", false);

    /* a classic group: join (member id required first), sync, heartbeat, commit */
    join(s, "join_group_member_id_required", 9, "diff-g", "", "consumer");
    join(s, "join_group", 9, "diff-g", member_id, "consumer");
    char m[256];
    memcpy(m, member_id, sizeof m);
    int32_t gen = generation;
    join(s, "join_group_unknown_member", 9, "diff-g", "diff-nobody", "consumer");
    join(s, "join_group_wrong_protocol_type", 9, "diff-g", "", "other");
    memcpy(member_id, m, sizeof m);
    join(s, "join_group_empty_group_id", 9, "", "", "consumer");
    /* before v4 a new member gets its id and joins in one round */
    join(s, "join_group_old_version", 3, "diff-g3", "", "consumer");
    memcpy(member_id, m, sizeof m);
    sync_one(s, "sync_group", 5, "diff-g", gen, m);
    sync_one(s, "sync_group_wrong_generation", 5, "diff-g", gen + 7, m);
    sync_one(s, "sync_group_unknown_member", 5, "diff-g", gen, "diff-nobody");
    sync_one(s, "sync_group_unknown_group", 5, "diff-nobody", gen, m);
    sync_one(s, "sync_group", 3, "diff-g", gen, m);
    heartbeat_one(s, "heartbeat", 4, "diff-g", gen, m);
    heartbeat_one(s, "heartbeat", 0, "diff-g", gen, m);
    heartbeat_one(s, "heartbeat_wrong_generation", 4, "diff-g", gen + 7, m);
    heartbeat_one(s, "heartbeat_unknown_member", 4, "diff-g", gen, "diff-nobody");
    heartbeat_one(s, "heartbeat_unknown_group", 4, "diff-nobody", gen, m);
    commit_one(s, "offset_commit_member", 8, "diff-g", gen, m, "diff-a", 0);
    commit_one(s, "offset_commit_member", 2, "diff-g", gen, m, "diff-a", 0);
    commit_one(s, "offset_commit_wrong_generation", 8, "diff-g", gen + 7, m, "diff-a", 0);
    commit_one(s, "offset_commit_unknown_member", 8, "diff-g", gen, "diff-nobody", "diff-a", 0);
    commit_one(s, "offset_commit_unknown_member", 2, "diff-g", gen, "diff-nobody", "diff-a", 0);
    offset_fetch_one(s, "offset_fetch_member_group", 8, "diff-g", false);
    {
        /* the same partition twice in one commit */
        kw_offset_commit_request_offset_commit_request_partition p[2];
        memset(p, 0, sizeof p);
        for (int i = 0; i < 2; i++) {
            p[i].committed_offset = 1 + i;
            p[i].committed_leader_epoch = -1;
            p[i].commit_timestamp = -1;
            p[i].committed_metadata = null_slice;
        }
        kw_offset_commit_request_offset_commit_request_topic t;
        memset(&t, 0, sizeof t);
        t.name = str("diff-a");
        t.partitions = kw_array_of(p, 2);
        kw_offset_commit_request rq;
        memset(&rq, 0, sizeof rq);
        rq.group_id = str("diff-simple");
        rq.generation_id_or_member_epoch = -1;
        rq.member_id = str("");
        rq.group_instance_id = null_slice;
        rq.retention_time_ms = -1;
        rq.topics = kw_array_of(&t, 1);
        step(s, "offset_commit_duplicate_partition", KW_API_OFFSET_COMMIT, 8, &rq);
        offset_fetch_one(s, "offset_fetch_after_duplicate_commit", 8, "diff-simple", false);
    }
    describe_groups_one(s, "describe_groups", 1);
    describe_groups_one(s, "describe_groups", 5);
    list_groups(s);

    kw_delete_groups_request dg;
    memset(&dg, 0, sizeof dg);
    kw_slice names[3] = {str("diff-g"), str("diff-simple"), str("diff-nobody")};
    dg.groups_names = kw_array_of(names, 3);
    step(s, "delete_groups_non_empty", KW_API_DELETE_GROUPS, 2, &dg);

    leave_one(s, "leave_group", 5, "diff-g", m);
    leave_one(s, "leave_group_again", 5, "diff-g", m);
    leave_one(s, "leave_group_unknown_group", 1, "diff-nobody", m);
    heartbeat_one(s, "heartbeat_after_leave", 4, "diff-g", gen, m);
    describe_groups_one(s, "describe_groups_after_leave", 5);

    step(s, "delete_groups", KW_API_DELETE_GROUPS, 2, &dg);
    step(s, "delete_groups_again", KW_API_DELETE_GROUPS, 1, &dg);
}

/* ---- admin ----------------------------------------------------------------------------------- */

static void describe_configs(session *s)
{
    kw_slice keys[3] = {str("max.message.bytes"), str("cleanup.policy"), str("no.such.config")};
    kw_describe_configs_request_describe_configs_resource r[3];
    memset(r, 0, sizeof r);
    r[0].resource_type = 2;
    r[0].resource_name = str("diff-a");
    r[0].configuration_keys = kw_array_of(keys, 3);
    r[1].resource_type = 2;
    r[1].resource_name = str("diff-missing");
    r[1].configuration_keys = kw_array_of(keys, 1);
    r[2].resource_type = 4;
    r[2].resource_name = str("1");
    kw_slice broker_keys[2] = {str("num.partitions"), str("auto.create.topics.enable")};
    r[2].configuration_keys = kw_array_of(broker_keys, 2);
    kw_describe_configs_request rq;
    memset(&rq, 0, sizeof rq);
    rq.resources = kw_array_of(r, 3);
    step(s, "describe_configs", KW_API_DESCRIBE_CONFIGS, 1, &rq);
    step(s, "describe_configs", KW_API_DESCRIBE_CONFIGS, 4, &rq);
    r[0].resource_type = 9;
    rq.resources = kw_array_of(r, 1);
    step(s, "describe_configs_unknown_resource_type", KW_API_DESCRIBE_CONFIGS, 4, &rq);
    r[0].resource_type = 4;
    r[0].resource_name = str("77");
    step(s, "describe_configs_other_broker", KW_API_DESCRIBE_CONFIGS, 4, &rq);
}

static void create_partitions_one(session *s, const char *name, int16_t version,
                                  const char *const *names, const int32_t *counts, int n,
                                  bool validate_only)
{
    kw_create_partitions_request_create_partitions_topic t[4];
    for (int i = 0; i < n; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].name = str(names[i]);
        t[i].count = counts[i];
        t[i].assignments = kw_array_of(NULL, -1);
    }
    kw_create_partitions_request rq;
    memset(&rq, 0, sizeof rq);
    rq.topics = kw_array_of(t, n);
    rq.timeout_ms = 30000;
    rq.validate_only = validate_only;
    step(s, name, KW_API_CREATE_PARTITIONS, version, &rq);
}

static void create_partitions(session *s)
{
    {
        const char *names[] = {"diff-b"};
        const int32_t counts[] = {5};
        create_partitions_one(s, "create_partitions_validate_only", 3, names, counts, 1, true);
        create_partitions_one(s, "create_partitions", 3, names, counts, 1, false);
    }
    {
        const char *names[] = {"diff-c"};
        const int32_t counts[] = {2};
        create_partitions_one(s, "create_partitions", 1, names, counts, 1, false);
    }
    {
        const char *names[] = {"diff-b", "diff-a", "diff-missing", "diff-c"};
        const int32_t counts[] = {2, 0, 3, -2};
        create_partitions_one(s, "create_partitions_errors", 3, names, counts, 4, false);
        create_partitions_one(s, "create_partitions_errors", 1, names, counts, 4, false);
    }
    {
        const char *names[] = {"diff-b"};
        const int32_t counts[] = {5};
        create_partitions_one(s, "create_partitions_same_count", 3, names, counts, 1, false);
    }
    {
        const char *names[] = {"diff-a", "diff-a"};
        const int32_t counts[] = {2, 3};
        create_partitions_one(s, "create_partitions_duplicate", 3, names, counts, 2, false);
    }
    const char *names[] = {"diff-b", "diff-c"};
    const int led[] = {5, 2};
    await_topics(s, names, 2, led);
    kw_metadata_request_metadata_request_topic t[1];
    memset(t, 0, sizeof t);
    t[0].name = str("diff-b");
    kw_metadata_request rq;
    memset(&rq, 0, sizeof rq);
    rq.topics = kw_array_of(t, 1);
    step(s, "metadata_after_create_partitions", KW_API_METADATA, 12, &rq);
}

static void delete_topics(session *s)
{
    kw_delete_topics_request rq;
    memset(&rq, 0, sizeof rq);
    rq.timeout_ms = 30000;
    kw_slice names[2] = {str("diff-del"), str("diff-missing")};
    rq.topic_names = kw_array_of(names, 2);
    step(s, "delete_topics_by_name", KW_API_DELETE_TOPICS, 1, &rq);
    kw_slice again[1] = {str("diff-del")};
    rq.topic_names = kw_array_of(again, 1);
    step(s, "delete_topics_again", KW_API_DELETE_TOPICS, 4, &rq);
    kw_delete_topics_request_delete_topic_state st[3];
    memset(st, 0, sizeof st);
    st[0].name = null_slice;
    st[0].topic_id = topic_ids[TOPIC_DEL2];
    st[1].name = null_slice;
    st[1].topic_id = unknown_topic_id;
    st[2].name = str("diff-missing");
    rq.topics = kw_array_of(st, 3);
    step(s, "delete_topics_by_id", KW_API_DELETE_TOPICS, 6, &rq);
    kw_slice dup[2] = {str("diff-c"), str("diff-c")};
    rq.topic_names = kw_array_of(dup, 2);
    step(s, "delete_topics_duplicate", KW_API_DELETE_TOPICS, 4, &rq);
}

static void describe_cluster(session *s)
{
    kw_describe_cluster_request rq;
    memset(&rq, 0, sizeof rq);
    step(s, "describe_cluster", KW_API_DESCRIBE_CLUSTER, 0, &rq);
    rq.endpoint_type = 1;
    step(s, "describe_cluster", KW_API_DESCRIBE_CLUSTER, 1, &rq);
    rq.endpoint_type = 2;
    step(s, "describe_cluster_controllers", KW_API_DESCRIBE_CLUSTER, 1, &rq);
    rq.endpoint_type = 1;
    rq.include_cluster_authorized_operations = true;
    step(s, "describe_cluster_authorized_operations", KW_API_DESCRIBE_CLUSTER, 1, &rq);
}

/* Versions no broker serves: Kafka closes the connection. */
static void unsupported_versions(session *s)
{
    kw_metadata_request rq;
    memset(&rq, 0, sizeof rq);
    rq.topics = kw_array_of(NULL, 0);
    s->patch_version = 99;
    step(s, "metadata_future_version", KW_API_METADATA, 12, &rq);
    kw_list_groups_request lg;
    memset(&lg, 0, sizeof lg);
    s->patch_version = 42;
    step(s, "list_groups_future_version", KW_API_LIST_GROUPS, 4, &lg);
    /* the connection still works after that */
    step(s, "list_groups_after_reconnect", KW_API_LIST_GROUPS, 4, &lg);
}

/* ---- KIP-848 consumer groups ------------------------------------------------------------------ */

/* A ConsumerGroupHeartbeat of group diff-cg (epoch 0: a join subscribed to diff-b); owned: null,
 * or the partitions of diff-b given (n of them). Returns the member epoch answered (or -99). */
static int32_t cg_heartbeat(session *s, const char *name, int16_t version, const char *group,
                            const char *member, int32_t epoch, const int32_t *owned, int32_t n,
                            const char *assignor)
{
    kw_consumer_group_heartbeat_request rq;
    kw_consumer_group_heartbeat_request_init(&rq);
    rq.group_id = str(group);
    rq.member_id = str(member);
    rq.member_epoch = epoch;
    kw_slice topics[1] = {str("diff-b")};
    kw_consumer_group_heartbeat_request_topic_partitions tp;
    kw_consumer_group_heartbeat_request_topic_partitions_init(&tp);
    tp.topic_id = topic_ids[TOPIC_B];
    tp.partitions = kw_array_of(owned, n);
    if (epoch == 0) {
        rq.rebalance_timeout_ms = 30000;
        rq.subscribed_topic_names = kw_array_of(topics, 1);
        rq.topic_partitions = kw_array_of(NULL, 0);
    } else if (owned) {
        rq.topic_partitions = kw_array_of(&tp, 1);
    }
    if (assignor)
        rq.server_assignor = str(assignor);
    if (!step(s, name, KW_API_CONSUMER_GROUP_HEARTBEAT, version, &rq))
        return -99;
    const kw_consumer_group_heartbeat_response *r = &s->rsp.u.consumer_group_heartbeat_response;
    return r->error_code == 0 ? r->member_epoch : -99;
}

static void cg_describe(session *s, const char *name, int16_t version)
{
    kw_slice groups[3] = {str("diff-cg"), str("diff-g"), str("diff-nobody")};
    kw_consumer_group_describe_request rq;
    kw_consumer_group_describe_request_init(&rq);
    rq.group_ids = kw_array_of(groups, 3);
    step(s, name, KW_API_CONSUMER_GROUP_DESCRIBE, version, &rq);
}

static void cg_offset_fetch(session *s, const char *name, const char *member, int32_t epoch)
{
    static const int32_t parts[] = {0, 1, 2};
    kw_offset_fetch_request_offset_fetch_request_topics t;
    kw_offset_fetch_request_offset_fetch_request_topics_init(&t);
    t.name = str("diff-b");
    t.partition_indexes = kw_array_of(parts, 3);
    kw_offset_fetch_request_offset_fetch_request_group g;
    kw_offset_fetch_request_offset_fetch_request_group_init(&g);
    g.group_id = str("diff-cg");
    g.member_id = member ? str(member) : null_slice;
    g.member_epoch = epoch;
    g.topics = kw_array_of(&t, 1);
    kw_offset_fetch_request rq;
    kw_offset_fetch_request_init(&rq);
    rq.groups = kw_array_of(&g, 1);
    step(s, name, KW_API_OFFSET_FETCH, 9, &rq);
}

static void consumer_groups(session *s)
{
    await_coordinator(s, "diff-cg", 0);
    static const int32_t all[] = {0, 1, 2};
    const char *m = "diff-cg-member-1";
    int32_t epoch = cg_heartbeat(s, "consumer_group_heartbeat_join", 1, "diff-cg", m, 0, NULL, 0, NULL);
    cg_heartbeat(s, "consumer_group_heartbeat", 1, "diff-cg", m, epoch, all, 3, NULL);
    cg_heartbeat(s, "consumer_group_heartbeat_no_change", 1, "diff-cg", m, epoch, NULL, 0, NULL);
    cg_heartbeat(s, "consumer_group_heartbeat_fenced_epoch", 1, "diff-cg", m, epoch + 5, all, 3, NULL);
    cg_heartbeat(s, "consumer_group_heartbeat_unknown_member", 1, "diff-cg", "diff-nobody", epoch, all, 3, NULL);
    cg_heartbeat(s, "consumer_group_heartbeat_unknown_group", 1, "diff-cg-missing", m, 1, all, 3, NULL);
    cg_heartbeat(s, "consumer_group_heartbeat_empty_member_id", 1, "diff-cg", "", 0, NULL, 0, NULL);
    cg_heartbeat(s, "consumer_group_heartbeat_unsupported_assignor", 1, "diff-cg", "diff-cg-member-2", 0,
                 NULL, 0, "nope");
    cg_heartbeat(s, "consumer_group_heartbeat_classic_group", 1, "diff-g", m, 0, NULL, 0, NULL);
    {
        /* a join without a subscription */
        kw_consumer_group_heartbeat_request rq;
        kw_consumer_group_heartbeat_request_init(&rq);
        rq.group_id = str("diff-cg");
        rq.member_id = str("diff-cg-member-3");
        rq.rebalance_timeout_ms = 30000;
        rq.topic_partitions = kw_array_of(NULL, 0);
        step(s, "consumer_group_heartbeat_join_without_subscription", KW_API_CONSUMER_GROUP_HEARTBEAT, 1, &rq);
    }
    cg_describe(s, "consumer_group_describe", 0);
    cg_describe(s, "consumer_group_describe", 1);
    commit_one(s, "offset_commit_consumer_group", 9, "diff-cg", epoch, m, "diff-b", 1);
    commit_one(s, "offset_commit_consumer_group_stale_epoch", 9, "diff-cg", epoch + 7, m, "diff-b", 1);
    commit_one(s, "offset_commit_consumer_group_unknown_member", 9, "diff-cg", epoch, "diff-nobody", "diff-b", 1);
    commit_one(s, "offset_commit_consumer_group_old_version", 8, "diff-cg", epoch, m, "diff-b", 1);
    cg_offset_fetch(s, "offset_fetch_consumer_group", m, epoch);
    cg_offset_fetch(s, "offset_fetch_consumer_group_stale_epoch", m, epoch + 7);
    cg_offset_fetch(s, "offset_fetch_consumer_group_unknown_member", "diff-nobody", epoch);
    cg_offset_fetch(s, "offset_fetch_consumer_group_admin", NULL, -1);
    {
        kw_list_groups_request rq;
        kw_list_groups_request_init(&rq);
        kw_slice types[1] = {str("consumer")};
        rq.types_filter = kw_array_of(types, 1);
        step(s, "list_groups_consumer", KW_API_LIST_GROUPS, 5, &rq);
        kw_slice groups[1] = {str("diff-cg")};
        kw_describe_groups_request dq;
        kw_describe_groups_request_init(&dq);
        dq.groups = kw_array_of(groups, 1);
        step(s, "describe_groups_consumer_group", KW_API_DESCRIBE_GROUPS, 5, &dq);
    }
    cg_heartbeat(s, "consumer_group_heartbeat_leave", 1, "diff-cg", m, -1, NULL, 0, NULL);
    cg_heartbeat(s, "consumer_group_heartbeat_after_leave", 1, "diff-cg", m, epoch, all, 3, NULL);
    cg_describe(s, "consumer_group_describe_after_leave", 1);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        die("usage: diff-client HOST:PORT");
    session s;
    memset(&s, 0, sizeof s);
    static char host[256];
    const char *colon = strrchr(argv[1], ':');
    if (!colon || (size_t)(colon - argv[1]) >= sizeof host)
        die("bad address %s", argv[1]);
    memcpy(host, argv[1], (size_t)(colon - argv[1]));
    s.host = host;
    s.port = colon + 1;
    s.patch_version = -1;
    s.in = malloc(RESPONSE_MAX);
    if (!s.in)
        die("out of memory");
    kw_builder_init_growable(&s.out, 0);
    connect_session(&s);

    learn_versions(&s);
    api_versions(&s);
    metadata_all(&s);
    touch_coordinator(&s, "diff-g", 0);
    touch_coordinator(&s, "diff-tx", 1);
    topics(&s);
    metadata(&s);
    produce(&s);
    list_offsets(&s);
    fetch(&s);
    delete_records(&s);
    groups(&s);
    consumer_groups(&s);
    describe_configs(&s);
    create_partitions(&s);
    delete_topics(&s);
    describe_cluster(&s);
    unsupported_versions(&s);

    kw_builder_free(&s.out);
    free(s.in);
    close(s.fd);
    fprintf(stderr, "diff-client: %d steps, %d answers kwire could not decode\n",
            (int)s.correlation_id, s.failures);
    return s.failures ? 1 : 0;
}
