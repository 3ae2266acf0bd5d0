/*
 * segcheck: checks the log segments a broker left on disk with kwire's own
 * record batch reader.
 *
 *   segcheck [--allow-partial-tail] DIR...
 *
 * Every regular file named *.log under each DIR (recursively) is read whole
 * and walked as a records field: kw_batch_iter with KW_VERIFY_CRC checks each
 * batch's length, magic and CRC, and kw_record_iter validates the records of
 * every uncompressed v2 batch. Within a file, and from one file to the next
 * of a directory (in name order), batches must hold increasing,
 * non-overlapping offsets (gaps are reported but allowed); a file named as
 * Kafka names segments (20-digit base offset) must start at that offset.
 *
 * A file is corrupt when a batch fails a check; it has a partial tail when
 * its last batch is cut short (a torn write). One line per file, then
 *   segcheck: F files, B batches, R records, P partial, C corrupt
 * Exit 0 when nothing is corrupt and nothing is partial (partial tails are
 * only reported with --allow-partial-tail), 1 otherwise, 2 on usage or I/O
 * errors (a DIR with no *.log file is an error).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <kwire/kwire.h>

typedef struct totals {
    long files, batches, records, partial, corrupt, io_errors, gaps;
} totals;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* A Kafka segment name: the base offset in 20 digits, then ".log". */
static int64_t name_offset(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strlen(base) != 24)
        return -1;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (base[i] < '0' || base[i] > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (base[i] - '0');
    }
    return v;
}

/* dir_next: the offset after the previous segment of the same directory
 * (-1 before the first); updated. */
static void check_file(const char *path, totals *t, int64_t *dir_next)
{
    size_t len = 0;
    unsigned char *buf = read_all(path, &len);
    if (!buf) {
        fprintf(stderr, "segcheck: %s: %s\n", path, strerror(errno));
        t->io_errors++;
        return;
    }
    t->files++;
    kw_batch_iter it;
    kw_batch_iter_init(&it, (kw_slice){buf, len}, KW_VERIFY_CRC);
    kw_batch b;
    long batches = 0, records = 0, gaps = 0;
    int64_t first = -1, next = -1;
    char problem[256] = "";
    int rc;
    while ((rc = kw_batch_iter_next(&it, &b)) == 1) {
        int64_t base, last;
        int32_t count;
        if (b.magic == 2) {
            base = b.v2.base_offset;
            if (!kw_record_batch_last_offset(&b.v2, &last)) {
                snprintf(problem, sizeof problem, "batch at byte %zu: last offset overflows", b.pos);
                break;
            }
            count = b.v2.record_count;
            if (kw_record_batch_compression(&b.v2) == KW_COMPRESSION_NONE) {
                kw_record_iter ri;
                kw_record r;
                int rr;
                int32_t seen = 0;
                kw_record_iter_init(&ri, &b.v2);
                while ((rr = kw_record_iter_next(&ri, &r)) == 1)
                    seen++;
                if (rr < 0) {
                    kw_error e = kw_record_iter_error(&ri);
                    snprintf(problem, sizeof problem, "batch at byte %zu (offset %lld): %s at byte %zu (%s)",
                             b.pos, (long long)base, kw_err_name(e.code), e.offset,
                             e.field ? e.field : "?");
                    break;
                }
                count = seen;
            }
        } else {
            base = last = b.legacy.offset;
            count = 1;
        }
        if (next >= 0 && base < next) {
            snprintf(problem, sizeof problem,
                     "batch at byte %zu holds offsets %lld..%lld, overlapping offsets before %lld",
                     b.pos, (long long)base, (long long)last, (long long)next);
            break;
        }
        if (next >= 0 && base > next)
            gaps++;
        if (first < 0)
            first = base;
        next = last + 1;
        batches++;
        records += count;
    }
    int64_t named = name_offset(path);
    if (!problem[0] && first >= 0) {
        if (*dir_next >= 0 && first < *dir_next)
            snprintf(problem, sizeof problem,
                     "starts at offset %lld, overlapping the previous segment (which ends before %lld)",
                     (long long)first, (long long)*dir_next);
        else if (named >= 0 && named != first)
            snprintf(problem, sizeof problem, "named for offset %lld but starts at %lld",
                     (long long)named, (long long)first);
        else if (*dir_next >= 0 && first > *dir_next)
            gaps++;
    }
    if (next >= 0)
        *dir_next = next;
    if (rc < 0 && !problem[0]) {
        kw_error e = kw_batch_iter_error(&it);
        snprintf(problem, sizeof problem, "%s at byte %zu (%s): %s", kw_err_name(e.code), e.offset,
                 e.field ? e.field : "?", kw_err_message(e.code));
    }
    size_t partial = kw_batch_iter_partial(&it);
    printf("%s: %zu bytes, %ld batches, %ld records, offsets %lld..%lld%s", path, len, batches,
           records, (long long)first, (long long)next - 1, gaps ? ", offset gaps" : "");
    if (problem[0])
        printf(", CORRUPT: %s", problem);
    if (partial)
        printf(", PARTIAL: the last %zu bytes are a batch cut short", partial);
    printf("\n");
    t->batches += batches;
    t->records += records;
    t->gaps += gaps;
    if (problem[0])
        t->corrupt++;
    if (partial)
        t->partial++;
    free(buf);
}

static void walk(const char *dir, totals *t, int depth)
{
    if (depth > 16)
        return;
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "segcheck: %s: %s\n", dir, strerror(errno));
        t->io_errors++;
        return;
    }
    /* sorted, so the output is stable */
    struct dirent **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct dirent **bigger = realloc(names, cap * sizeof *names);
            if (!bigger)
                break;
            names = bigger;
        }
        names[n] = malloc(sizeof *e);
        if (!names[n])
            break;
        memcpy(names[n], e, sizeof *e);
        n++;
    }
    closedir(d);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1]->d_name, names[j]->d_name) > 0; j--) {
            struct dirent *tmp = names[j];
            names[j] = names[j - 1];
            names[j - 1] = tmp;
        }
    int64_t dir_next = -1;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name) < (int)sizeof path) {
            struct stat st;
            if (lstat(path, &st) == 0) {
                if (S_ISDIR(st.st_mode))
                    walk(path, t, depth + 1);
                else if (S_ISREG(st.st_mode) && ends_with(names[i]->d_name, ".log"))
                    check_file(path, t, &dir_next);
            }
        }
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    int allow_partial = 0, ndirs = 0;
    totals t = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--allow-partial-tail") == 0) {
            allow_partial = 1;
            continue;
        }
        if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [--allow-partial-tail] DIR...\n", argv[0]);
            return 2;
        }
        long before = t.files;
        walk(argv[i], &t, 0);
        if (t.files == before) {
            fprintf(stderr, "segcheck: no *.log files under %s\n", argv[i]);
            t.io_errors++;
        }
        ndirs++;
    }
    if (ndirs == 0) {
        fprintf(stderr, "usage: %s [--allow-partial-tail] DIR...\n", argv[0]);
        return 2;
    }
    printf("segcheck: %ld files, %ld batches, %ld records, %ld partial, %ld corrupt%s\n", t.files,
           t.batches, t.records, t.partial, t.corrupt, t.gaps ? " (offset gaps seen)" : "");
    if (t.io_errors)
        return 2;
    if (t.corrupt || (t.partial && !allow_partial))
        return 1;
    return 0;
}
