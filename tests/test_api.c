/* The API table: spot checks, header-version rules, and a comparison with
 * Kafka's message schemas when the reference folder is present. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwire/api.h"

static const kw_api_info *must_lookup(int16_t key)
{
    const kw_api_info *a = kw_api_lookup(key);
    cr_assert_neq(a, NULL, "api_key %d: lookup returned NULL", key);
    return a;
}

static void expect_api(int16_t key, const char *name, int lo, int hi, int flex)
{
    const kw_api_info *a = must_lookup(key);
    cr_assert_eq(a->key, key, "api_key %d: key field is %d", key, a->key);
    cr_assert_eq(strcmp(a->name, name), 0, "api_key %d: name is %s, want %s", key, a->name, name);
    cr_assert_eq(a->min_version, lo, "api_key %d (%s): min_version %d, want %d", key, name,
                 a->min_version, lo);
    cr_assert_eq(a->max_version, hi, "api_key %d (%s): max_version %d, want %d", key, name,
                 a->max_version, hi);
    cr_assert_eq(a->first_flexible, flex, "api_key %d (%s): first_flexible %d, want %d", key,
                 name, a->first_flexible, flex);
}

Test(api, spot_checks)
{
    expect_api(KW_API_PRODUCE, "Produce", 0, 13, 9);
    expect_api(KW_API_FETCH, "Fetch", 0, 18, 12);
    expect_api(KW_API_API_VERSIONS, "ApiVersions", 0, 5, 3);
    expect_api(KW_API_LEADER_AND_ISR, "LeaderAndIsr", 0, 7, 4); /* removed in Kafka 4, kept */
    expect_api(KW_API_LIST_CONFIG_RESOURCES, "ListConfigResources", 0, 1, 0);
    expect_api(KW_API_UNREGISTER_CONTROLLER, "UnregisterController", 0, 0, 0);
    expect_api(KW_API_SASL_HANDSHAKE, "SaslHandshake", 0, 1, -1);
    expect_api(KW_API_CONTROLLED_SHUTDOWN, "ControlledShutdown", 0, 3, 3);
    expect_api(KW_API_DESCRIBE_TOPIC_PARTITIONS, "DescribeTopicPartitions", 0, 0, 0);
    cr_assert_eq(KW_API_PRODUCE, 0, "KW_API_PRODUCE is %d", KW_API_PRODUCE);
    cr_assert_eq(KW_API_FETCH, 1, "KW_API_FETCH is %d", KW_API_FETCH);
    cr_assert_eq(KW_API_API_VERSIONS, 18, "KW_API_API_VERSIONS is %d", KW_API_API_VERSIONS);
    cr_assert_eq(KW_API_DESCRIBE_TOPIC_PARTITIONS, 75, "KW_API_DESCRIBE_TOPIC_PARTITIONS is %d",
                 KW_API_DESCRIBE_TOPIC_PARTITIONS);
    cr_assert_eq(KW_API_KEY_COUNT, 95, "KW_API_KEY_COUNT is %d", KW_API_KEY_COUNT);
    const kw_api_info *last = must_lookup(94);
    cr_assert_eq(strcmp(last->name, "UnregisterController"), 0, "api_key 94: name is %s",
                 last->name);
}

Test(api, unknown_keys)
{
    const int16_t unknown[] = {95, 96, 1000, INT16_MAX, -1, -2, INT16_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        int16_t k = unknown[i];
        cr_assert_eq(kw_api_lookup(k), NULL, "api_key %d: lookup should be NULL", k);
        cr_assert_eq(kw_api_version_supported(k, 0), false, "api_key %d: version 0 supported", k);
        cr_assert_eq(kw_api_is_flexible(k, 100), false, "api_key %d: flexible", k);
        cr_assert_eq(kw_request_header_version(k, 0), -1, "api_key %d: request header", k);
        cr_assert_eq(kw_response_header_version(k, 0), -1, "api_key %d: response header", k);
    }
}

Test(api, version_supported)
{
    cr_assert_eq(kw_api_version_supported(KW_API_PRODUCE, 0), true, "Produce v0");
    cr_assert_eq(kw_api_version_supported(KW_API_PRODUCE, 13), true, "Produce v13");
    cr_assert_eq(kw_api_version_supported(KW_API_PRODUCE, 14), false, "Produce v14");
    cr_assert_eq(kw_api_version_supported(KW_API_PRODUCE, -1), false, "Produce v-1");
    cr_assert_eq(kw_api_version_supported(KW_API_FETCH, 18), true, "Fetch v18");
    cr_assert_eq(kw_api_version_supported(KW_API_FETCH, 19), false, "Fetch v19");
    cr_assert_eq(kw_api_version_supported(KW_API_DESCRIBE_TOPIC_PARTITIONS, 1), false,
                 "DescribeTopicPartitions v1");
}

static void expect_headers(int16_t key, int16_t version, int req, int resp)
{
    cr_assert_eq(kw_request_header_version(key, version), req,
                 "api_key %d v%d: request header %d, want %d", key, version,
                 kw_request_header_version(key, version), req);
    cr_assert_eq(kw_response_header_version(key, version), resp,
                 "api_key %d v%d: response header %d, want %d", key, version,
                 kw_response_header_version(key, version), resp);
}

Test(api, header_versions)
{
    expect_headers(KW_API_PRODUCE, 0, 1, 0);
    expect_headers(KW_API_PRODUCE, 8, 1, 0);
    expect_headers(KW_API_PRODUCE, 9, 2, 1);
    expect_headers(KW_API_PRODUCE, 11, 2, 1);
    expect_headers(KW_API_FETCH, 11, 1, 0);
    expect_headers(KW_API_FETCH, 12, 2, 1);
    /* Never flexible: classic headers at every version. */
    expect_headers(KW_API_SASL_HANDSHAKE, 0, 1, 0);
    expect_headers(KW_API_SASL_HANDSHAKE, 1, 1, 0);
    expect_headers(KW_API_OFFSET_DELETE, 0, 1, 0);
    /* Flexible from v0. */
    expect_headers(KW_API_DESCRIBE_TOPIC_PARTITIONS, 0, 2, 1);
}

Test(api, header_versions_above_max)
{
    /* Only the flexible threshold decides, as in Kafka. */
    expect_headers(KW_API_PRODUCE, 12, 2, 1);
    expect_headers(KW_API_PRODUCE, INT16_MAX, 2, 1);
    expect_headers(KW_API_FETCH, 100, 2, 1);
    expect_headers(KW_API_SASL_HANDSHAKE, 7, 1, 0);
    expect_headers(KW_API_PRODUCE, -1, 1, 0);
}

Test(api, api_versions_response_header_is_always_v0)
{
    expect_headers(KW_API_API_VERSIONS, 0, 1, 0);
    expect_headers(KW_API_API_VERSIONS, 2, 1, 0);
    expect_headers(KW_API_API_VERSIONS, 3, 2, 0);
    expect_headers(KW_API_API_VERSIONS, 4, 2, 0);
    expect_headers(KW_API_API_VERSIONS, 9, 2, 0);
    cr_assert_eq(kw_api_is_flexible(KW_API_API_VERSIONS, 3), true, "ApiVersions v3 flexible");
}

Test(api, controlled_shutdown_v0_uses_request_header_v0)
{
    expect_headers(KW_API_CONTROLLED_SHUTDOWN, 0, 0, 0);
    expect_headers(KW_API_CONTROLLED_SHUTDOWN, 1, 1, 0);
    expect_headers(KW_API_CONTROLLED_SHUTDOWN, 2, 1, 0);
    expect_headers(KW_API_CONTROLLED_SHUTDOWN, 3, 2, 1);
}

Test(api, header_rule_for_every_key)
{
    size_t n = 0;
    const kw_api_info *t = kw_api_table(&n);
    for (size_t i = 0; i < n; i++) {
        const kw_api_info *a = &t[i];
        for (int v = -1; v <= a->max_version + 2; v++) {
            int16_t ver = (int16_t)v;
            bool flex = a->first_flexible >= 0 && v >= a->first_flexible;
            int req = flex ? 2 : 1;
            int resp = flex ? 1 : 0;
            if (a->key == KW_API_CONTROLLED_SHUTDOWN && v == 0)
                req = 0;
            if (a->key == KW_API_API_VERSIONS)
                resp = 0;
            cr_assert_eq(kw_api_is_flexible(a->key, ver), flex, "%s v%d: flexible", a->name, v);
            expect_headers(a->key, ver, req, resp);
            cr_assert_eq(kw_api_version_supported(a->key, ver),
                         v >= a->min_version && v <= a->max_version, "%s v%d: supported",
                         a->name, v);
        }
    }
}

Test(api, table_consistency)
{
    size_t n = 0;
    const kw_api_info *t = kw_api_table(&n);
    cr_assert_eq(n, (size_t)KW_API_KEY_COUNT, "table has %zu entries", n);
    cr_assert_eq(kw_api_table(NULL), t, "kw_api_table(NULL) returns the same table");
    for (size_t i = 0; i < n; i++) {
        const kw_api_info *a = &t[i];
        cr_assert_eq(a->key, (int16_t)i, "entry %zu: key %d", i, a->key);
        cr_assert_eq(kw_api_lookup(a->key), a, "entry %zu: lookup finds another entry", i);
        cr_assert_neq(a->name, NULL, "entry %zu: name is NULL", i);
        cr_assert_neq(a->name[0], '\0', "entry %zu: name is empty", i);
        cr_assert_eq(a->min_version, 0, "%s: min_version %d", a->name, a->min_version);
        cr_assert_eq(a->min_version <= a->max_version, true, "%s: min %d > max %d", a->name,
                     a->min_version, a->max_version);
        cr_assert_eq(a->first_flexible == -1 ||
                         (a->first_flexible >= a->min_version &&
                          a->first_flexible <= a->max_version),
                     true, "%s: first_flexible %d outside %d..%d", a->name, a->first_flexible,
                     a->min_version, a->max_version);
        /* One assertion per entry: each one is a message to the runner. */
        size_t twin = i;
        for (size_t j = 0; j < i; j++)
            if (strcmp(t[j].name, a->name) == 0)
                twin = j;
        cr_assert_eq(twin, i, "keys %zu and %zu share name %s", twin, i, a->name);
    }
}

/* ---- comparison with the reference schemas ---------------------------- */

/* "ApiVersions" -> "API_VERSIONS", the enum naming rule. */
static void upper_snake(const char *camel, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; camel[i] && o + 2 < cap; i++) {
        char c = camel[i];
        bool upper = c >= 'A' && c <= 'Z';
        if (i > 0 && upper) {
            char p = camel[i - 1];
            if ((p >= 'a' && p <= 'z') || (p >= '0' && p <= '9'))
                out[o++] = '_';
        }
        out[o++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    out[o] = '\0';
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_neq(f, NULL, "cannot open %s", path);
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            cr_assert_neq(buf, NULL, "out of memory reading %s", path);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The top-level scalar members of a schema file that the table depends on. */
typedef struct schema_top {
    char type[32];
    char name[128];
    char valid[32];
    char flexible[32];
    long api_key; /* -1 when absent */
} schema_top;

static void put(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void store(schema_top *top, const char *key, const char *val, size_t len)
{
    if (strcmp(key, "type") == 0)
        put(top->type, sizeof top->type, val, len);
    else if (strcmp(key, "name") == 0)
        put(top->name, sizeof top->name, val, len);
    else if (strcmp(key, "validVersions") == 0)
        put(top->valid, sizeof top->valid, val, len);
    else if (strcmp(key, "flexibleVersions") == 0)
        put(top->flexible, sizeof top->flexible, val, len);
    else if (strcmp(key, "apiKey") == 0) {
        char num[32];
        put(num, sizeof num, val, len);
        top->api_key = strtol(num, NULL, 10);
    }
}

/*
 * A small scanner for JSON with // comments: it tracks nesting and string
 * state and keeps the string or number values of members of the outermost
 * object. Nested objects and arrays ("fields", "commonStructs") are passed
 * over by depth. Escapes in strings are stepped over, not decoded; the
 * members read here never contain any. Returns false on an unterminated
 * string or unbalanced nesting.
 */
static bool scan_schema(const char *s, size_t n, schema_top *top)
{
    memset(top, 0, sizeof *top);
    top->api_key = -1;
    int depth = 0;
    char key[64] = "";
    bool have_key = false; /* a depth-1 member name whose value comes next */
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == '/' && i + 1 < n && s[i + 1] == '/') {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        if (c == '"') {
            size_t start = ++i;
            while (i < n && s[i] != '"')
                i += s[i] == '\\' ? 2 : 1;
            if (i >= n)
                return false;
            size_t len = i - start;
            i++;
            if (depth == 1) {
                if (have_key) {
                    store(top, key, s + start, len);
                    have_key = false;
                } else {
                    size_t j = i;
                    while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n'))
                        j++;
                    if (j < n && s[j] == ':') {
                        put(key, sizeof key, s + start, len);
                        have_key = true;
                        i = j + 1;
                    }
                }
            }
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
            if (depth == 2)
                have_key = false; /* the member's value is nested: nothing to keep */
        } else if (c == '}' || c == ']') {
            depth--;
            if (depth == 0)
                return true;
            if (depth < 0)
                return false;
        } else if (depth == 1 && have_key && (c == '-' || (c >= '0' && c <= '9'))) {
            size_t start = i;
            while (i < n && (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')))
                i++;
            store(top, key, s + start, i - start);
            have_key = false;
            continue;
        } else if (depth == 1 && have_key && (c == 't' || c == 'f' || c == 'n')) {
            while (i < n && s[i] >= 'a' && s[i] <= 'z')
                i++;
            have_key = false; /* true / false / null: not needed */
            continue;
        }
        i++;
    }
    return false;
}

/* "0-11" -> 0, 11; "3" -> 3, 3. */
static void parse_range(const char *v, int *lo, int *hi, const char *path)
{
    char *end;
    *lo = (int)strtol(v, &end, 10);
    cr_assert_neq(end, v, "%s: validVersions \"%s\" has no number", path, v);
    if (*end == '-')
        *hi = (int)strtol(end + 1, &end, 10);
    else
        *hi = *lo;
    cr_assert_eq(*end, '\0', "%s: validVersions \"%s\" has trailing text", path, v);
}

/* "9+" -> 9; "none" -> -1. */
static int parse_flexible(const char *v, const char *path)
{
    if (strcmp(v, "none") == 0)
        return -1;
    char *end;
    int f = (int)strtol(v, &end, 10);
    cr_assert_eq(end != v && end[0] == '+' && end[1] == '\0', true,
                 "%s: flexibleVersions \"%s\" is not N+ or none", path, v);
    return f;
}

static const char *reference_schemas(char *buf, size_t cap)
{
    const char *root = getenv("KW_REFERENCE_DIR");
    if (!root || !*root)
        return NULL;
    snprintf(buf, cap, "%s/kafka-message-schemas", root);
    DIR *d = opendir(buf);
    if (!d)
        return NULL;
    closedir(d);
    return buf;
}

/* What the schema snapshots say of one key and side: the union of their ranges. */
typedef struct schema_union {
    bool seen;
    int lo, hi, flex;
    char name[128]; /* the newest snapshot's name (Kafka renamed key 74) */
} schema_union;

/* Scans one snapshot's directory into u; returns the number of schema files. */
static size_t scan_snapshot(const char *dirpath, schema_union u[2][KW_API_KEY_COUNT])
{
    DIR *d = opendir(dirpath);
    cr_assert_neq(d, NULL, "cannot open %s", dirpath);
    bool here[2][KW_API_KEY_COUNT] = {{false}};
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 5, ".json") != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
        size_t len;
        char *text = slurp(path, &len);
        schema_top top;
        bool scanned = scan_schema(text, len, &top);
        free(text);
        cr_assert_eq(scanned, true, "%s: unterminated string or unbalanced nesting", path);
        files++;

        int side;
        const char *suffix;
        if (strcmp(top.type, "request") == 0) {
            side = 0;
            suffix = "Request";
        } else if (strcmp(top.type, "response") == 0) {
            side = 1;
            suffix = "Response";
        } else {
            continue; /* headers and embedded data structures */
        }
        cr_assert_eq(top.api_key >= 0 && top.api_key < KW_API_KEY_COUNT, true,
                     "%s: apiKey %ld outside the table", path, top.api_key);
        int16_t key = (int16_t)top.api_key;
        cr_assert_eq(here[side][key], false, "%s: second %s for apiKey %d", path, top.type, key);
        here[side][key] = true;

        size_t name_len = strlen(top.name), suf_len = strlen(suffix);
        cr_assert_eq(name_len > suf_len && strcmp(top.name + name_len - suf_len, suffix) == 0,
                     true, "%s: name %s does not end in %s", path, top.name, suffix);
        top.name[name_len - suf_len] = '\0';
        schema_union *s = &u[side][key];
        put(s->name, sizeof s->name, top.name, strlen(top.name));
        if (strcmp(top.valid, "none") == 0)
            continue; /* Kafka 4 keeps a file for a removed API, with no versions */
        int lo, hi;
        parse_range(top.valid, &lo, &hi, path);
        int flex = parse_flexible(top.flexible, path);
        if (!s->seen) {
            s->seen = true;
            s->lo = lo;
            s->hi = hi;
            s->flex = flex;
        } else {
            s->lo = lo < s->lo ? lo : s->lo;
            s->hi = hi > s->hi ? hi : s->hi;
            cr_assert_eq(flex, s->flex, "%s: first flexible %d, an older snapshot says %d", path,
                         flex, s->flex);
        }
    }
    closedir(d);
    cr_assert_gt(files, 0, "no schema files in %s", dirpath);
    return files;
}

Test(api, matches_reference_schemas)
{
    char dirpath[4096];
    if (!reference_schemas(dirpath, sizeof dirpath))
        cr_skip_test("KW_REFERENCE_DIR unset or has no kafka-message-schemas: nothing to compare");
    static schema_union u[2][KW_API_KEY_COUNT];
    memset(u, 0, sizeof u);
    scan_snapshot(dirpath, u);
    /* Kafka 4.4's files, where present: the table holds the union of both. */
    char newer[4096];
    snprintf(newer, sizeof newer, "%s/kafka-4.4/message-schemas", getenv("KW_REFERENCE_DIR"));
    DIR *probe = opendir(newer);
    if (probe) {
        closedir(probe);
        scan_snapshot(newer, u);
    }
    for (int side = 0; side < 2; side++) {
        for (int k = 0; k < KW_API_KEY_COUNT; k++) {
            const schema_union *s = &u[side][k];
            cr_assert_eq(s->seen, true, "apiKey %d: no %s schema with versions", k,
                         side ? "response" : "request");
            const kw_api_info *a = must_lookup((int16_t)k);
            cr_assert_eq(strcmp(a->name, s->name), 0, "apiKey %d: name %s, table has %s", k,
                         s->name, a->name);
            cr_assert_eq(a->min_version, s->lo, "%s: min version %d, table has %d", a->name,
                         s->lo, a->min_version);
            cr_assert_eq(a->max_version, s->hi, "%s: max version %d, table has %d", a->name,
                         s->hi, a->max_version);
            cr_assert_eq(a->first_flexible, s->flex, "%s: first flexible %d, table has %d",
                         a->name, s->flex, a->first_flexible);
        }
    }
}

Test(api, enum_names_follow_table_names)
{
    const char *src = getenv("KW_SOURCE_DIR");
    if (!src || !*src)
        cr_skip_test("KW_SOURCE_DIR unset: cannot read include/kwire/api.h");
    char path[4096];
    snprintf(path, sizeof path, "%s/include/kwire/api.h", src);
    FILE *probe = fopen(path, "rb");
    if (!probe)
        cr_skip_test("%s not readable", path);
    fclose(probe);
    size_t len;
    char *text = slurp(path, &len);
    size_t found = 0;
    /* Enum lines read "    KW_API_<NAME> = <key>,". */
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char name[96];
        int key;
        if (sscanf(line, " KW_API_%95[A-Z0-9_] = %d,", name, &key) == 2 &&
            strcmp(name, "KEY_COUNT") != 0 && !strstr(line, "older name of key")) {
            const kw_api_info *a = must_lookup((int16_t)key);
            char want[96];
            upper_snake(a->name, want, sizeof want);
            cr_assert_eq(strcmp(name, want), 0, "api.h: KW_API_%s = %d, table name %s wants %s",
                         name, key, a->name, want);
            found++;
        }
        line = next;
    }
    free(text);
    cr_assert_eq(found, (size_t)KW_API_KEY_COUNT, "api.h names %zu keys", found);
}

/* Kafka error code names and retriability: spot checks from the protocol guide and the
 * table's edges; the whole table is compared with kafka-clients by tests/oracle/errors. */
Test(api, kafka_error_names)
{
    static const struct {
        int code;
        const char *name;
        bool retriable;
    } spots[] = {
        {-1, "UNKNOWN_SERVER_ERROR", false},
        {0, "NONE", false},
        {3, "UNKNOWN_TOPIC_OR_PARTITION", true},
        {6, "NOT_LEADER_OR_FOLLOWER", true},
        {15, "COORDINATOR_NOT_AVAILABLE", true},
        {35, "UNSUPPORTED_VERSION", false},
        {79, "MEMBER_ID_REQUIRED", false},
        {110, "FENCED_MEMBER_EPOCH", false},
        {133, "SHARE_SESSION_LIMIT_REACHED", true},
        {KW_KAFKA_ERROR_LAST, "CONTROLLER_ID_NOT_REGISTERED", false},
    };
    for (size_t i = 0; i < sizeof spots / sizeof *spots; i++) {
        const char *name = kw_kafka_error_name(spots[i].code);
        cr_assert(name && strcmp(name, spots[i].name) == 0, "code %d: %s, want %s", spots[i].code,
                  name ? name : "NULL", spots[i].name);
        cr_assert_eq(kw_kafka_error_retriable(spots[i].code), spots[i].retriable,
                     "code %d retriable", spots[i].code);
    }
    const int outside[] = {-2, KW_KAFKA_ERROR_LAST + 1, INT16_MIN, INT16_MAX, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof outside / sizeof *outside; i++) {
        cr_assert_null(kw_kafka_error_name(outside[i]), "code %d has no name", outside[i]);
        cr_assert_not(kw_kafka_error_retriable(outside[i]), "code %d is not retriable", outside[i]);
    }
    for (int code = -1; code <= KW_KAFKA_ERROR_LAST; code++) {
        const char *name = kw_kafka_error_name(code);
        cr_assert(name && *name, "code %d has a name", code);
        for (const char *p = name; *p; p++)
            cr_assert((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_',
                      "code %d: %s is UPPER_SNAKE", code, name);
    }
}
