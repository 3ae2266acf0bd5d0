/*
 * The main() of fuzz targets built without a fuzzing engine: runs every
 * file named on the command line, and every file under every directory
 * named (recursively, in name order, skipping dot files), once through
 * LLVMFuzzerTestOneInput. Each input sits in a buffer of exactly its size,
 * so sanitizers see any read past its end. meson test runs it over each
 * target's corpus; a crash file from a fuzzing run replays the same way:
 *
 *     build/fuzz/request_fuzzer fuzz/corpus/request/crash-1234...
 *
 * Arguments starting with '-' (libFuzzer options) are ignored. Exits 1
 * when no input was found, so a misplaced corpus does not pass silently.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static size_t inputs;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *bigger = len < KWF_MAX_INPUT * 2 ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                fprintf(stderr, "replay: %s: too large\n", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    bool failed = ferror(f) != 0 || !buf;
    fclose(f);
    if (failed) {
        fprintf(stderr, "replay: %s: read error\n", path);
        free(buf);
        return -1;
    }
    /* exactly len bytes, so an over-read leaves the allocation */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    inputs++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    if (depth > 8) {
        fprintf(stderr, "replay: %s: directories nest too deep\n", path);
        return -1;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **more = realloc(names, cap * sizeof *names);
            if (!more) {
                rc = -1;
                break;
            }
            names = more;
        }
        size_t n = strlen(path) + 1 + strlen(e->d_name) + 1;
        names[count] = malloc(n);
        if (!names[count]) {
            rc = -1;
            break;
        }
        snprintf(names[count], n, "%s/%s", path, e->d_name);
        count++;
    }
    closedir(d);
    if (count > 1)
        qsort(names, count, sizeof *names, cmp_names);
    for (size_t i = 0; i < count; i++) {
        if (rc == 0 && run_path(names[i], depth + 1) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        if (run_path(argv[i], 0) != 0)
            rc = 1;
    }
    if (inputs == 0) {
        fprintf(stderr, "replay: no inputs (usage: %s FILE|DIR...)\n", argv[0]);
        return 1;
    }
    printf("replay: %zu inputs run\n", inputs);
    return rc;
}
