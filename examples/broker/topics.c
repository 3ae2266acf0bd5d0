/*
 * The topic table and the broker's data directory:
 *   <data>/meta.properties          cluster.id, node.id, directory.id
 *   <data>/__cluster_metadata-0/    topics, partitions, configs (metadata_log.c)
 *   <data>/__consumer_offsets-0/    committed offsets (offsets.c)
 *   <data>/<topic>-<partition>/     partition logs (log.c) with partition.metadata
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "groups.h"
#include "log.h"
#include "loop.h"
#include "metadata_log.h"
#include "offsets.h"
#include "topics.h"
#include "util.h"

bk_topic *bk_topic_find(bk_broker *br, kw_slice name)
{
    if (!name.ptr)
        return NULL;
    return bk_map_get(&br->topics_by_name, name.ptr, name.len);
}

bk_topic *bk_topic_find_id(bk_broker *br, const kw_uuid *id)
{
    return bk_map_get(&br->topics_by_id, id->bytes, 16);
}

bk_partition *bk_partition_find(bk_broker *br, kw_slice topic, int32_t partition)
{
    bk_topic *t = bk_topic_find(br, topic);
    if (!t || partition < 0 || partition >= t->nparts)
        return NULL;
    return t->parts[partition];
}

const char *bk_topic_config(const bk_topic *t, const char *name)
{
    for (size_t i = 0; i < t->nconfigs; i++)
        if (strcmp(t->configs[i].name, name) == 0)
            return t->configs[i].value;
    return NULL;
}

static void partition_dir(const bk_broker *br, const char *topic, int32_t p, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s-%d", br->cfg.data_dir, topic, (int)p);
}

/*
 * New partitions are made under a name no topic can have ('~' is not in a
 * topic name), recorded in the metadata log, and only then renamed into
 * place: an interrupted creation leaves staging directories that the next
 * start removes, never half a topic.
 */
#define STAGING_PREFIX "creating~"

static void staging_dir(const bk_broker *br, const char *topic, int32_t p, char *out, size_t cap)
{
    snprintf(out, cap, "%s/" STAGING_PREFIX "%s-%d", br->cfg.data_dir, topic, (int)p);
}

/* Removes what interrupted creations left behind. */
static void remove_staging_dirs(bk_broker *br)
{
    DIR *d = opendir(br->cfg.data_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, STAGING_PREFIX, strlen(STAGING_PREFIX)) != 0)
            continue;
        char path[BK_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", br->cfg.data_dir, e->d_name);
        if (bk_remove_tree(path) == 0)
            bk_log_msg("%s: removed, left by an interrupted topic creation", path);
    }
    closedir(d);
}

/*
 * Partitions keep their segments open (two descriptors at least: the active
 * segment and its index). The room for more, in partitions, is what the
 * open-file limit leaves after a reserve for connections and the broker's own
 * files. Counting the open descriptors reads /proc/self/fd, so a budget
 * counts once and then takes from its estimate, counting again only before it
 * refuses (nothing is closed meanwhile: the estimate only errs towards room).
 */
typedef struct fd_budget {
    long limit, room; /* LONG_MAX room: no limit, or none that can be read */
    bool fresh;       /* room was counted, not estimated, since the last take */
} fd_budget;

static void fd_budget_count(fd_budget *b)
{
    b->limit = b->room = LONG_MAX;
    b->fresh = true;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    long used = -2; /* . and .. */
    while (readdir(d) != NULL)
        used++;
    closedir(d);
    long max = rl.rlim_cur > (rlim_t)LONG_MAX ? LONG_MAX : (long)rl.rlim_cur;
    long reserve = max / 8 > 64 ? max / 8 : 64;
    long left = max - used - reserve;
    b->limit = max;
    b->room = left > 0 ? left / 2 : 0;
}

/* True, and n less room, when n more partitions fit. */
static bool fd_budget_take(fd_budget *b, int32_t n)
{
    if (n > b->room && !b->fresh)
        fd_budget_count(b);
    if (n > b->room)
        return false;
    b->room -= n;
    b->fresh = false;
    return true;
}

/* partition.metadata, as Kafka writes it, and a leader epoch checkpoint. */
static void write_partition_files(const bk_broker *br, const char *dir, const kw_uuid *id)
{
    char path[BK_PATH_MAX + 64], text[128], idtext[23];
    bool sync = br->cfg.fsync != BK_FSYNC_NEVER;
    bk_uuid_format(id, idtext);
    int n = snprintf(text, sizeof text, "version: 0\ntopic_id: %s\n", idtext);
    snprintf(path, sizeof path, "%s/partition.metadata", dir);
    if (bk_write_file_atomic(path, text, (size_t)n, sync) != 0)
        bk_log_msg("%s: %s", path, strerror(errno));
    snprintf(path, sizeof path, "%s/leader-epoch-checkpoint", dir);
    struct stat st;
    if (stat(path, &st) != 0)
        bk_write_file_atomic(path, "0\n1\n0 0\n", 8, sync);
}

static bool read_partition_metadata(const char *dir, kw_uuid *id)
{
    char path[BK_PATH_MAX + 64], text[256];
    snprintf(path, sizeof path, "%s/partition.metadata", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return false;
    text[n] = 0;
    char *p = strstr(text, "topic_id:");
    if (!p)
        return false;
    p += 9;
    while (*p == ' ')
        p++;
    char idtext[64];
    size_t k = 0;
    while (*p && *p != '\n' && *p != '\r' && k + 1 < sizeof idtext)
        idtext[k++] = *p++;
    idtext[k] = 0;
    return bk_uuid_parse(idtext, id);
}

static int open_partition(bk_broker *br, bk_topic *t, int32_t p, bool staged)
{
    bk_partition *part = calloc(1, sizeof *part);
    if (!part)
        return -1;
    part->topic = t;
    part->id = p;
    char dir[BK_PATH_MAX];
    if (staged)
        staging_dir(br, t->name, p, dir, sizeof dir);
    else
        partition_dir(br, t->name, p, dir, sizeof dir);
    struct stat st;
    bool existed = stat(dir, &st) == 0;
    if (bk_log_open(&part->log, dir, &br->cfg, true) != 0) {
        bk_log_msg("%s: cannot open the log: %s", dir, strerror(errno));
        free(part);
        return -1;
    }
    if (part->log.truncated_bytes)
        bk_log_msg("%s: recovery truncated %llu bytes", dir,
                   (unsigned long long)part->log.truncated_bytes);
    kw_uuid on_disk;
    if (!existed || !read_partition_metadata(dir, &on_disk) ||
        memcmp(on_disk.bytes, t->id.bytes, 16) != 0)
        write_partition_files(br, dir, &t->id);
    if (!existed && br->cfg.fsync != BK_FSYNC_NEVER)
        bk_fsync_dir(br->cfg.data_dir);
    t->parts[p] = part;
    for (size_t i = 0; i < part->log.nproducers; i++)
        if (part->log.producers[i].producer_id >= br->next_producer_id)
            br->next_producer_id = part->log.producers[i].producer_id + 1;
    return 0;
}

static void free_topic(bk_topic *t)
{
    if (!t)
        return;
    for (int32_t p = 0; p < t->nparts; p++) {
        if (t->parts[p]) {
            bk_log_close(&t->parts[p]->log);
            free(t->parts[p]);
        }
    }
    free(t->parts);
    for (size_t i = 0; i < t->nconfigs; i++) {
        free(t->configs[i].name);
        free(t->configs[i].value);
    }
    free(t->configs);
    free(t->name);
    free(t);
}

/* Closes partitions from..to-1 of t and removes their staging directories. */
static void discard_staged(bk_broker *br, bk_topic *t, int32_t from, int32_t to)
{
    for (int32_t p = from; p < to; p++) {
        if (t->parts[p]) {
            bk_log_close(&t->parts[p]->log);
            free(t->parts[p]);
            t->parts[p] = NULL;
        }
        char dir[BK_PATH_MAX];
        staging_dir(br, t->name, p, dir, sizeof dir);
        bk_remove_tree(dir);
    }
}

/* Renames the staging directories of partitions from..to-1 into place. 0 or -1. */
static int commit_staged(bk_broker *br, bk_topic *t, int32_t from, int32_t to)
{
    for (int32_t p = from; p < to; p++) {
        char staged[BK_PATH_MAX], dir[BK_PATH_MAX];
        staging_dir(br, t->name, p, staged, sizeof staged);
        partition_dir(br, t->name, p, dir, sizeof dir);
        char *kept = strdup(dir);
        if (!kept || rename(staged, dir) != 0) {
            bk_log_msg("%s: cannot be moved into place: %s", staged, strerror(errno));
            free(kept);
            return -1;
        }
        free(t->parts[p]->log.dir);
        t->parts[p]->log.dir = kept;
    }
    if (br->cfg.fsync != BK_FSYNC_NEVER)
        bk_fsync_dir(br->cfg.data_dir);
    return 0;
}

static int register_topic(bk_broker *br, bk_topic *t)
{
    if (br->ntopics == br->captopics) {
        size_t cap = br->captopics ? br->captopics * 2 : 16;
        bk_topic **ts = realloc(br->topics, cap * sizeof *ts);
        if (!ts)
            return -1;
        br->topics = ts;
        br->captopics = cap;
    }
    if (bk_map_put(&br->topics_by_name, t->name, t->name_len, t) != 0)
        return -1;
    if (bk_map_put(&br->topics_by_id, t->id.bytes, 16, t) != 0) {
        bk_map_del(&br->topics_by_name, t->name, t->name_len);
        return -1;
    }
    br->topics[br->ntopics++] = t;
    br->total_partitions += t->nparts;
    return 0;
}

/* A topic with its partitions opened (creating their directories). */
static bk_topic *open_topic(bk_broker *br, const char *name, const kw_uuid *id, int32_t nparts,
                            const bk_kv *configs, size_t nconfigs, bool staged)
{
    bk_topic *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->name = strdup(name);
    t->name_len = strlen(name);
    t->id = *id;
    t->parts = calloc((size_t)nparts, sizeof *t->parts);
    t->nparts = nparts;
    if (!t->name || !t->parts)
        goto fail;
    if (nconfigs) {
        t->configs = calloc(nconfigs, sizeof *t->configs);
        if (!t->configs)
            goto fail;
        for (size_t i = 0; i < nconfigs; i++) {
            t->configs[i].name = strdup(configs[i].name);
            t->configs[i].value = strdup(configs[i].value ? configs[i].value : "");
            t->nconfigs++;
            if (!t->configs[i].name || !t->configs[i].value)
                goto fail;
        }
    }
    for (int32_t p = 0; p < nparts; p++)
        if (open_partition(br, t, p, staged) != 0)
            goto fail;
    return t;
fail:
    if (staged && t->parts)
        discard_staged(br, t, 0, nparts);
    free_topic(t);
    return NULL;
}

static bool name_collides(bk_broker *br, kw_slice name)
{
    for (size_t i = 0; i < br->ntopics; i++) {
        const bk_topic *t = br->topics[i];
        if (t->name_len != name.len)
            continue;
        bool same = true;
        for (size_t k = 0; k < name.len && same; k++) {
            char a = t->name[k] == '.' ? '_' : t->name[k];
            char b = name.ptr[k] == '.' ? '_' : (char)name.ptr[k];
            same = a == b;
        }
        if (same)
            return true;
    }
    return false;
}

/* The limits on creating n partitions now: KW_KAFKA_NONE, or a code with *message saying which. */
static int creation_allowed(bk_broker *br, int32_t n, const char **message)
{
    static char text[200];
    if (n > br->cfg.max_partitions - br->total_partitions) {
        *message = "The broker's partition limit (--max-partitions) would be exceeded.";
        return KW_KAFKA_POLICY_VIOLATION;
    }
    if (n > br->cfg.max_partitions_per_request - br->partitions_created_in_request) {
        snprintf(text, sizeof text, "One request may create at most %d partitions "
                 "(--max-partitions-per-request).", (int)br->cfg.max_partitions_per_request);
        *message = text;
        return KW_KAFKA_POLICY_VIOLATION;
    }
    fd_budget fds;
    fd_budget_count(&fds);
    if (!fd_budget_take(&fds, n)) {
        snprintf(text, sizeof text, "The broker's open-file limit (%ld) leaves room for %ld more "
                 "partitions.", fds.limit, fds.room);
        *message = text;
        return KW_KAFKA_POLICY_VIOLATION;
    }
    return KW_KAFKA_NONE;
}

int bk_topic_create(bk_broker *br, kw_slice name, int32_t partitions, const bk_kv *configs,
                    size_t nconfigs, bool validate_only, bk_topic **out, const char **message)
{
    *out = NULL;
    *message = NULL;
    br->topics_version++;
    if (!bk_topic_name_valid(name)) {
        *message = "Topic name is illegal: it must be 1 to 249 characters of [a-zA-Z0-9._-], "
                   "not '.' or '..'";
        return KW_KAFKA_INVALID_TOPIC_EXCEPTION;
    }
    if (bk_topic_find(br, name)) {
        *message = "Topic already exists.";
        return KW_KAFKA_TOPIC_ALREADY_EXISTS;
    }
    if (bk_slice_eqs(name, "__consumer_offsets") || bk_slice_eqs(name, "__cluster_metadata") ||
        bk_slice_eqs(name, "__transaction_state")) {
        *message = "The name is reserved for an internal topic.";
        return KW_KAFKA_INVALID_TOPIC_EXCEPTION;
    }
    if (name_collides(br, name)) {
        *message = "Topic collides with an existing topic ('.' and '_' are the same in metric names).";
        return KW_KAFKA_INVALID_TOPIC_EXCEPTION;
    }
    if (partitions <= 0) {
        *message = "Number of partitions must be larger than 0.";
        return KW_KAFKA_INVALID_PARTITIONS;
    }
    int code = creation_allowed(br, partitions, message);
    if (code != KW_KAFKA_NONE || validate_only)
        return code;
    char cname[256];
    memcpy(cname, name.ptr, name.len);
    cname[name.len] = 0;
    kw_uuid id;
    do
        id = bk_uuid_random();
    while (bk_topic_find_id(br, &id));
    bk_topic *t = open_topic(br, cname, &id, partitions, configs, nconfigs, true);
    if (!t) {
        *message = "The partition logs could not be created.";
        return KW_KAFKA_KAFKA_STORAGE_ERROR;
    }
    if (bk_metadata_append_topic(br, t, 0) != 0) {
        discard_staged(br, t, 0, t->nparts);
        free_topic(t);
        *message = "The topic could not be recorded in the metadata log.";
        return KW_KAFKA_KAFKA_STORAGE_ERROR;
    }
    /* recorded: from here the topic exists, and a restart opens it even if a rename below
     * does not happen (its partitions are then made afresh, empty as they are now) */
    if (commit_staged(br, t, 0, t->nparts) != 0 || register_topic(br, t) != 0) {
        discard_staged(br, t, 0, t->nparts);
        free_topic(t);
        *message = "The partition directories could not be moved into place.";
        return KW_KAFKA_KAFKA_STORAGE_ERROR;
    }
    br->partitions_created_in_request += partitions;
    bk_log_msg("created topic %s with %d partitions", cname, (int)partitions);
    *out = t;
    return KW_KAFKA_NONE;
}

int bk_topic_add_partitions(bk_broker *br, bk_topic *t, int32_t count, bool validate_only,
                            const char **message)
{
    *message = NULL;
    br->topics_version++;
    if (count <= t->nparts) {
        *message = count == t->nparts ? "Topic already has that many partitions."
                                      : "Topic currently has more partitions than that.";
        return KW_KAFKA_INVALID_PARTITIONS;
    }
    int code = creation_allowed(br, count - t->nparts, message);
    if (code != KW_KAFKA_NONE || validate_only)
        return code;
    bk_partition **parts = realloc(t->parts, (size_t)count * sizeof *parts);
    if (!parts)
        return KW_KAFKA_KAFKA_STORAGE_ERROR;
    t->parts = parts;
    int32_t old = t->nparts;
    for (int32_t p = old; p < count; p++)
        t->parts[p] = NULL;
    for (int32_t p = old; p < count; p++) {
        if (open_partition(br, t, p, true) != 0) {
            discard_staged(br, t, old, count);
            *message = "The partition logs could not be created.";
            return KW_KAFKA_KAFKA_STORAGE_ERROR;
        }
    }
    t->nparts = count;
    if (bk_metadata_append_topic(br, t, old) != 0) {
        t->nparts = old;
        discard_staged(br, t, old, count);
        *message = "The new partitions could not be recorded in the metadata log.";
        return KW_KAFKA_KAFKA_STORAGE_ERROR;
    }
    if (commit_staged(br, t, old, count) != 0)
        bk_log_msg("%s: new partitions recorded but not moved into place; the next start "
                   "makes them afresh", t->name);
    br->total_partitions += count - old;
    br->partitions_created_in_request += count - old;
    return KW_KAFKA_NONE;
}

int bk_topic_delete(bk_broker *br, bk_topic *t)
{
    br->topics_version++;
    kw_uuid id = t->id;
    if (bk_metadata_append_remove_topic(br, &id) != 0)
        return KW_KAFKA_KAFKA_STORAGE_ERROR;
    bk_map_del(&br->topics_by_name, t->name, t->name_len);
    bk_map_del(&br->topics_by_id, id.bytes, 16);
    for (size_t i = 0; i < br->ntopics; i++) {
        if (br->topics[i] == t) {
            memmove(&br->topics[i], &br->topics[i + 1], (br->ntopics - i - 1) * sizeof *br->topics);
            br->ntopics--;
            break;
        }
    }
    br->total_partitions -= t->nparts;
    int32_t n = t->nparts;
    char *name = strdup(t->name);
    free_topic(t); /* closes the logs; responses still sending hold their own fds */
    for (int32_t p = 0; name && p < n; p++) {
        char dir[BK_PATH_MAX];
        partition_dir(br, name, p, dir, sizeof dir);
        if (bk_remove_tree(dir) != 0)
            bk_log_msg("%s: not removed: %s", dir, strerror(errno));
    }
    if (br->cfg.fsync != BK_FSYNC_NEVER)
        bk_fsync_dir(br->cfg.data_dir);
    bk_log_msg("deleted topic %s", name ? name : "?");
    free(name);
    return KW_KAFKA_NONE;
}

/* ---- loading ---------------------------------------------------------------------------- */

/* "<name>-<digits>" with a legal name: the topic name and partition. */
static bool parse_partition_dir(const char *entry, char *name, size_t cap, int32_t *p)
{
    const char *dash = strrchr(entry, '-');
    if (!dash || dash == entry || !dash[1])
        return false;
    long v = 0;
    for (const char *c = dash + 1; *c; c++) {
        if (*c < '0' || *c > '9' || v > 1000000)
            return false;
        v = v * 10 + (*c - '0');
    }
    size_t n = (size_t)(dash - entry);
    if (n >= cap)
        return false;
    memcpy(name, entry, n);
    name[n] = 0;
    /* internal logs (__cluster_metadata, __consumer_offsets) are not topics */
    if (!bk_topic_name_valid(bk_cstr(name)) || strncmp(name, "__", 2) == 0)
        return false;
    *p = (int32_t)v;
    return true;
}

static bool meta_knows(const bk_meta_topic *mt, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!mt[i].removed && strcmp(mt[i].name, name) == 0)
            return true;
    return false;
}

/* Loads topics from the metadata log and the data directory. */
static int topics_load(bk_broker *br)
{
    bk_meta_topic *mt = NULL;
    size_t n = 0;
    if (bk_metadata_replay(br, &mt, &n) != 0) {
        bk_log_msg("%s/__cluster_metadata-0: cannot be read", br->cfg.data_dir);
        return -1;
    }
    remove_staging_dirs(br);
    fd_budget fds;
    fd_budget_count(&fds);
    for (size_t i = 0; i < n; i++) {
        if (mt[i].removed || mt[i].partitions <= 0 || bk_topic_find(br, bk_cstr(mt[i].name)))
            continue;
        /* a topic that cannot be opened is left on disk, said, and not served: the broker
         * still starts and serves the rest */
        if (!fd_budget_take(&fds, mt[i].partitions)) {
            bk_log_msg("%s: not opened: the open-file limit (%ld) leaves room for %ld more "
                       "partitions (raise it with ulimit -n)", mt[i].name, fds.limit, fds.room);
            continue;
        }
        bk_topic *t = open_topic(br, mt[i].name, &mt[i].id, mt[i].partitions, mt[i].configs,
                                 mt[i].nconfigs, false);
        if (!t || register_topic(br, t) != 0) {
            bk_log_msg("%s: not opened: %s", mt[i].name, strerror(errno));
            free_topic(t);
        }
    }

    /* partition directories the metadata log does not know (written by another tool) */
    DIR *d = opendir(br->cfg.data_dir);
    if (!d) {
        bk_meta_topics_free(mt, n);
        return -1;
    }
    struct dirent *e;
    typedef struct found {
        char name[256];
        int32_t parts;
        kw_uuid id;
        bool has_id;
    } found;
    found *fs = NULL;
    size_t nf = 0;
    while ((e = readdir(d)) != NULL) {
        char name[256];
        int32_t p;
        if (!parse_partition_dir(e->d_name, name, sizeof name, &p))
            continue;
        if (bk_topic_find(br, bk_cstr(name)) || meta_knows(mt, n, name))
            continue; /* opened, or known but left closed above */
        size_t k = 0;
        while (k < nf && strcmp(fs[k].name, name) != 0)
            k++;
        if (k == nf) {
            found *g = realloc(fs, (nf + 1) * sizeof *g);
            if (!g)
                break;
            fs = g;
            memset(&fs[nf], 0, sizeof fs[nf]);
            snprintf(fs[nf].name, sizeof fs[nf].name, "%s", name);
            nf++;
        }
        if (p + 1 > fs[k].parts)
            fs[k].parts = p + 1;
        char dir[BK_PATH_MAX];
        snprintf(dir, sizeof dir, "%s/%s", br->cfg.data_dir, e->d_name);
        if (!fs[k].has_id && read_partition_metadata(dir, &fs[k].id))
            fs[k].has_id = true;
    }
    closedir(d);
    for (size_t k = 0; k < nf; k++) {
        if (!fs[k].has_id || bk_topic_find_id(br, &fs[k].id))
            fs[k].id = bk_uuid_random();
        if (fs[k].parts > br->cfg.max_partitions - br->total_partitions) {
            bk_log_msg("%s: not loaded, over --max-partitions", fs[k].name);
            continue;
        }
        if (!fd_budget_take(&fds, fs[k].parts)) {
            bk_log_msg("%s: not loaded: the open-file limit (%ld) leaves room for %ld more "
                       "partitions (raise it with ulimit -n)", fs[k].name, fds.limit, fds.room);
            continue;
        }
        bk_topic *t = open_topic(br, fs[k].name, &fs[k].id, fs[k].parts, NULL, 0, false);
        if (!t || register_topic(br, t) != 0) {
            free_topic(t);
            continue;
        }
        bk_metadata_append_topic(br, t, 0);
        bk_log_msg("adopted topic %s (%d partitions) from its directories", t->name,
                   (int)t->nparts);
    }
    free(fs);
    bk_meta_topics_free(mt, n);
    return 0;
}

/* ---- meta.properties ------------------------------------------------------------------- */

static void load_meta_properties(bk_broker *br)
{
    char path[BK_PATH_MAX];
    snprintf(path, sizeof path, "%s/meta.properties", br->cfg.data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "cluster.id=", 11) == 0) {
                char *v = line + 11;
                v[strcspn(v, "\r\n")] = 0;
                snprintf(br->cluster_id, sizeof br->cluster_id, "%.22s", v);
            }
        }
        fclose(f);
    }
    if (br->cluster_id[0])
        return;
    kw_uuid c = bk_uuid_random(), dirid = bk_uuid_random();
    char dtext[23];
    bk_uuid_format(&c, br->cluster_id);
    bk_uuid_format(&dirid, dtext);
    char text[512];
    int n = snprintf(text, sizeof text,
                     "#\n#Written by kwire-broker\ncluster.id=%s\ndirectory.id=%s\nnode.id=%d\n"
                     "version=1\n",
                     br->cluster_id, dtext, (int)br->cfg.node_id);
    if (bk_write_file_atomic(path, text, (size_t)n, br->cfg.fsync != BK_FSYNC_NEVER) != 0)
        bk_log_msg("%s: %s", path, strerror(errno));
}

int bk_broker_open(bk_broker *br, const bk_config *cfg)
{
    memset(br, 0, sizeof *br);
    br->cfg = *cfg;
    br->epfd = br->listen_fd = br->signal_fd = -1;
    br->now = bk_now_ms();
    br->last_fsync = br->now;
    br->last_retention = br->now;
    /* every partition keeps its segments open */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (bk_mkdirs(cfg->data_dir) != 0) {
        bk_log_msg("%s: %s", cfg->data_dir, strerror(errno));
        return -1;
    }
    load_meta_properties(br);
    if (bk_metadata_open(br) != 0) {
        bk_log_msg("%s/__cluster_metadata-0: %s", cfg->data_dir, strerror(errno));
        bk_broker_close(br);
        return -1;
    }
    if (topics_load(br) != 0) {
        bk_broker_close(br);
        return -1;
    }
    if (bk_offsets_open(br) != 0) {
        bk_log_msg("%s/__consumer_offsets-0: %s", cfg->data_dir, strerror(errno));
        bk_broker_close(br);
        return -1;
    }
    return 0;
}

void bk_broker_sync_all(bk_broker *br)
{
    for (size_t i = 0; i < br->ntopics; i++) {
        bk_topic *t = br->topics[i];
        for (int32_t p = 0; p < t->nparts; p++)
            if (t->parts[p]->log.dirty)
                bk_log_sync(&t->parts[p]->log);
    }
    if (br->meta_open && br->meta_log.dirty)
        bk_log_sync(&br->meta_log);
    if (br->offsets_open && br->offsets_log.dirty)
        bk_log_sync(&br->offsets_log);
}

static int64_t config_long(const bk_topic *t, const char *name, int64_t dflt)
{
    const char *v = bk_topic_config(t, name);
    if (!v || !*v)
        return dflt;
    char *end;
    long long x = strtoll(v, &end, 10);
    return *end ? dflt : (int64_t)x;
}

void bk_broker_apply_retention(bk_broker *br, int64_t now_wall_ms)
{
    for (size_t i = 0; i < br->ntopics; i++) {
        bk_topic *t = br->topics[i];
        int64_t ms = config_long(t, "retention.ms", 604800000);
        int64_t bytes = config_long(t, "retention.bytes", -1);
        int64_t cutoff = ms >= 0 && now_wall_ms > ms ? now_wall_ms - ms : -1;
        for (int32_t p = 0; p < t->nparts; p++) {
            int n = bk_log_apply_retention(&t->parts[p]->log, cutoff, bytes);
            if (n > 0)
                bk_log_msg("%s-%d: retention deleted %d segments, log starts at %lld", t->name,
                           (int)p, n, (long long)t->parts[p]->log.start);
        }
    }
}

void bk_broker_close(bk_broker *br)
{
    bk_conns_free_all(br);
    bk_broker_sync_all(br);
    for (size_t i = 0; i < br->ntopics; i++)
        free_topic(br->topics[i]);
    free(br->topics);
    br->topics = NULL;
    br->ntopics = br->captopics = 0;
    bk_map_free(&br->topics_by_name);
    bk_map_free(&br->topics_by_id);
    for (size_t i = 0; i < br->ngroups; i++)
        bk_group_free(br->groups[i]);
    free(br->groups);
    br->groups = NULL;
    br->ngroups = br->capgroups = 0;
    bk_map_free(&br->groups_by_id);
    if (br->meta_open)
        bk_log_close(&br->meta_log);
    if (br->offsets_open)
        bk_log_close(&br->offsets_log);
    br->meta_open = br->offsets_open = false;
    free(br->dbuf);
    br->dbuf = NULL;
    br->dbuf_cap = 0;
    if (br->listen_fd >= 0)
        close(br->listen_fd);
    if (br->signal_fd >= 0)
        close(br->signal_fd);
    if (br->epfd >= 0)
        close(br->epfd);
    br->listen_fd = br->signal_fd = br->epfd = -1;
}
