/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replay_main.c — a standalone driver for the libFuzzer targets, so their committed corpora
 * replay as regression tests in the normal (gcc, non-FS38_FUZZ) build.
 *
 * Usage: fuzz_replay_<target> PATH...   each PATH is a file (one input) or a directory (every
 * regular file directly in it, in name order). Calls LLVMFuzzerInitialize once when the
 * target defines it, then LLVMFuzzerTestOneInput on each input (an exact-size heap copy, as
 * libFuzzer does). The target's oracle aborts on a violated invariant, so the test fails.
 * Exit status: 0 when every input ran (and at least one did), 1 when a path cannot be read or
 * no input was found, 2 on usage errors.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long replayed;

/* Run one file; 0 on success, -1 when it cannot be read. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        return -1;
    }
    uint8_t *exact = malloc(len ? len : 1); /* exact size: ASan builds see any over-read */
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    (void)LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    replayed++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file directly in dir, in name order. */
static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open directory %s\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        size_t l = strlen(dir) + 1 + strlen(de->d_name) + 1;
        char *p = malloc(l);
        if (!p) {
            rc = -1;
            break;
        }
        snprintf(p, l, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            free(p);
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                free(p);
                rc = -1;
                break;
            }
            names = nn;
            cap = nc;
        }
        names[n++] = p;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && run_file(names[i]) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize)
        (void)LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        int rc = stat(argv[i], &sb) != 0 ? (fprintf(stderr, "replay: cannot stat %s\n", argv[i]), -1)
                 : S_ISDIR(sb.st_mode)    ? run_dir(argv[i])
                                          : run_file(argv[i]);
        if (rc != 0)
            return 1;
    }
    if (replayed == 0) {
        fprintf(stderr, "replay: no input found\n");
        return 1;
    }
    printf("replay: %lu inputs, no invariant failed\n", replayed);
    return 0;
}
