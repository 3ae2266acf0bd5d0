/* kwire-broker: small utilities shared by the modules. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void bk_config_default(bk_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen_host, sizeof cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 9092;
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "./kwire-data");
    cfg->max_frame_bytes = KW_FRAME_MAX_DEFAULT;
    cfg->fsync = BK_FSYNC_INTERVAL;
    cfg->fsync_interval_ms = 1000;
    cfg->default_partitions = 1;
    cfg->auto_create_topics = true;
    cfg->down_conversion = true;
    cfg->node_id = 1;
    cfg->segment_bytes = 1073741824;
    cfg->max_message_bytes = 1048588;
    cfg->idle_timeout_ms = 600000;  /* connections.max.idle.ms */
    cfg->frame_timeout_ms = 30000;
    cfg->write_timeout_ms = 60000;
    cfg->max_connections = 4096;
    cfg->max_partitions = 10000;
    cfg->max_partitions_per_request = 100;
    cfg->group_initial_rebalance_delay_ms = 3000;
    cfg->group_min_session_timeout_ms = 6000;
    cfg->group_max_session_timeout_ms = 1800000;
    cfg->group_max_size = 1000;
    cfg->consumer_session_timeout_ms = 45000;
    cfg->consumer_heartbeat_interval_ms = 5000;
    cfg->conn_buffer_bytes = 64 * 1024;
    cfg->queued_max_request_bytes = (size_t)128 << 20;
    cfg->max_decompressed_bytes = (size_t)64 << 20;
    cfg->max_groups = 10000;
}

int64_t bk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t bk_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bk_random_bytes(void *out, size_t len)
{
    uint8_t *p = out;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            /* no entropy source: time and address bits, ids need only be unique */
            uint64_t x = (uint64_t)bk_wall_ms() ^ (uint64_t)(uintptr_t)p ^ (uint64_t)bk_now_ms() << 20;
            for (size_t i = 0; i < len; i++) {
                x = x * 6364136223846793005u + 1442695040888963407u;
                p[i] = (uint8_t)(x >> 56);
            }
            return;
        }
        p += n;
        len -= (size_t)n;
    }
}

kw_uuid bk_uuid_random(void)
{
    kw_uuid u;
    do {
        bk_random_bytes(u.bytes, sizeof u.bytes);
        u.bytes[6] = (uint8_t)((u.bytes[6] & 0x0f) | 0x40); /* version 4 */
        u.bytes[8] = (uint8_t)((u.bytes[8] & 0x3f) | 0x80);
        /* Kafka reserves the zero UUID and METADATA_TOPIC_ID (all zero but the last byte 1),
         * and its ids never start with '-' in text: the first 6 bits are not 62 */
    } while ((u.bytes[0] >> 2) == 62);
    return u;
}

bool bk_uuid_is_zero(const kw_uuid *u)
{
    for (size_t i = 0; i < sizeof u->bytes; i++)
        if (u->bytes[i])
            return false;
    return true;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void bk_uuid_format(const kw_uuid *u, char out[23])
{
    size_t o = 0;
    for (size_t i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)u->bytes[i] << 16;
        if (i + 1 < 16)
            v |= (uint32_t)u->bytes[i + 1] << 8;
        if (i + 2 < 16)
            v |= u->bytes[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < 16)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < 16)
            out[o++] = b64url[v & 63];
    }
    out[o] = 0;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64url, c) : NULL;
    if (p)
        return (int)(p - b64url);
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool bk_uuid_parse(const char *text, kw_uuid *out)
{
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '=' || text[n - 1] == '\n' || text[n - 1] == '\r' ||
                     text[n - 1] == ' '))
        n--;
    if (n != 22)
        return false;
    uint8_t bytes[17];
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(text[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < sizeof bytes)
                bytes[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (o != 16)
        return false;
    memcpy(out->bytes, bytes, 16);
    return true;
}

bool bk_topic_name_valid(kw_slice name)
{
    if (!name.ptr || name.len == 0 || name.len > 249)
        return false;
    if ((name.len == 1 && name.ptr[0] == '.') ||
        (name.len == 2 && name.ptr[0] == '.' && name.ptr[1] == '.'))
        return false;
    for (size_t i = 0; i < name.len; i++) {
        uint8_t c = name.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool bk_slice_eqs(kw_slice a, const char *s)
{
    size_t len = strlen(s);
    return a.ptr && a.len == len && (len == 0 || memcmp(a.ptr, s, len) == 0);
}

bk_repeat bk_name_repeat(const kw_slice *names, int32_t n, int32_t i)
{
    const kw_slice s = names[i];
    if (!s.ptr)
        return BK_UNIQUE;
    bool copies = false;
    for (int32_t j = 0; j < n; j++) {
        if (j == i || !names[j].ptr || names[j].len != s.len ||
            (s.len && memcmp(names[j].ptr, s.ptr, s.len) != 0))
            continue;
        if (j < i)
            return BK_LATER_COPY;
        copies = true;
    }
    return copies ? BK_FIRST_COPY : BK_UNIQUE;
}

kw_slice bk_cstr(const char *s)
{
    kw_slice r = {(const uint8_t *)s, s ? strlen(s) : 0};
    return r;
}

char *bk_strndup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    if (n)
        memcpy(s, p, n);
    s[n] = 0;
    return s;
}

void bk_log_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("kwire-broker: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int bk_mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            buf[i] = c;
        }
    }
    return 0;
}

int bk_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int bk_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    struct dirent *e;
    char child[4096];
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if ((size_t)snprintf(child, sizeof child, "%s/%s", path, e->d_name) >= sizeof child) {
            rc = -1;
            continue;
        }
        struct stat st;
        if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (bk_remove_tree(child) != 0)
                rc = -1;
        } else if (unlink(child) != 0) {
            rc = -1;
        }
    }
    closedir(d);
    if (rmdir(path) != 0)
        rc = -1;
    return rc;
}

int bk_write_file_atomic(const char *path, const void *data, size_t len, bool sync)
{
    char tmp[BK_PATH_MAX + 16];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    if (sync && fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    return rename(tmp, path);
}

/* ---- map ---------------------------------------------------------------------------- */

struct bk_map_slot {
    char *key;      /* NULL: empty; the tombstone pointer: deleted */
    size_t len;
    uint64_t hash;
    void *value;
};

static char tombstone_key;

static uint64_t hash_bytes(const void *key, size_t len)
{
    const uint8_t *p = key;
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211u;
    }
    return h;
}

static struct bk_map_slot *map_find(const bk_map *m, const void *key, size_t len, uint64_t h)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask, n = 0; n < m->cap; i = (i + 1) & mask, n++) {
        struct bk_map_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != &tombstone_key && s->hash == h && s->len == len &&
            memcmp(s->key, key, len) == 0)
            return s;
    }
    return NULL;
}

void *bk_map_get(const bk_map *m, const void *key, size_t len)
{
    struct bk_map_slot *s = map_find(m, key, len, hash_bytes(key, len));
    return s ? s->value : NULL;
}

static int map_grow(bk_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    if (m->count * 4 < m->cap)
        cap = m->cap; /* mostly tombstones: rehash in place */
    struct bk_map_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        struct bk_map_slot *s = &m->slots[i];
        if (!s->key || s->key == &tombstone_key)
            continue;
        size_t j = s->hash & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    m->used = m->count;
    return 0;
}

int bk_map_put(bk_map *m, const void *key, size_t len, void *value)
{
    uint64_t h = hash_bytes(key, len);
    struct bk_map_slot *s = map_find(m, key, len, h);
    if (s) {
        s->value = value;
        return 0;
    }
    if ((m->used + 1) * 4 > m->cap * 3 && map_grow(m) != 0)
        return -1;
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    if (len)
        memcpy(copy, key, len);
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    while (m->slots[i].key && m->slots[i].key != &tombstone_key)
        i = (i + 1) & mask;
    if (!m->slots[i].key)
        m->used++;
    m->slots[i].key = copy;
    m->slots[i].len = len;
    m->slots[i].hash = h;
    m->slots[i].value = value;
    m->count++;
    return 0;
}

void bk_map_del(bk_map *m, const void *key, size_t len)
{
    struct bk_map_slot *s = map_find(m, key, len, hash_bytes(key, len));
    if (!s)
        return;
    free(s->key);
    s->key = &tombstone_key;
    s->value = NULL;
    m->count--;
}

void bk_map_free(bk_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != &tombstone_key)
            free(m->slots[i].key);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* ---- scratch ----------------------------------------------------------------------- */

struct bk_scratch_block {
    struct bk_scratch_block *next;
    size_t cap, used;
    _Alignas(16) uint8_t data[];
};

void *bk_scratch_alloc(bk_scratch *s, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    struct bk_scratch_block *b = s->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        if (cap > SIZE_MAX - sizeof *b)
            return NULL;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = s->blocks;
        s->blocks = b;
        s->total += cap;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

void *bk_scratch_calloc(bk_scratch *s, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = bk_scratch_alloc(s, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void bk_scratch_free(bk_scratch *s)
{
    struct bk_scratch_block *b = s->blocks;
    while (b) {
        struct bk_scratch_block *next = b->next;
        free(b);
        b = next;
    }
    s->blocks = NULL;
    s->total = 0;
}
