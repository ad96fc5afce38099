/* fuzz_main.c — a libFuzzer-free driver for fuzz_rdb.c: runs every file
 * given (or every file of a directory) through the target, then random
 * mutations of them (byte flips, truncations, splices, inserted bytes) for
 * a bounded number of seconds. Used by `make fuzz-smoke` with the gcc
 * ASan/UBSan build; exits 0 unless the target crashes. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seed {
    uint8_t *p;
    size_t n;
} seed;

static seed *seeds;
static size_t nseeds;

static void add_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n <= 0 || n > (16 << 20)) {
        fclose(f);
        return;
    }
    uint8_t *p = malloc((size_t)n);
    if (p && fread(p, 1, (size_t)n, f) == (size_t)n) {
        seeds = realloc(seeds, (nseeds + 1) * sizeof *seeds);
        seeds[nseeds].p = p;
        seeds[nseeds++].n = (size_t)n;
    } else {
        free(p);
    }
    fclose(f);
}

static void add_path(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) return;
    if (!S_ISDIR(sb.st_mode)) {
        add_file(path);
        return;
    }
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, de->d_name);
        add_file(p);
    }
    if (d) closedir(d);
}

static uint64_t rs = 88172645463325252ULL;
static uint64_t rnd(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

int main(int argc, char **argv) {
    double secs = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc) secs = atof(argv[++i]);
        else add_path(argv[i]);
    }
    if (!nseeds) {
        fprintf(stderr, "usage: fuzz_main [-t seconds] corpus-dir-or-files...\n");
        return 2;
    }
    for (size_t i = 0; i < nseeds; i++) LLVMFuzzerTestOneInput(seeds[i].p, seeds[i].n);
    time_t end = time(NULL) + (time_t)secs;
    unsigned long runs = 0;
    uint8_t *buf = malloc(1 << 20);
    while (time(NULL) < end) {
        seed *s = &seeds[rnd() % nseeds];
        size_t n = s->n < (1 << 19) ? s->n : (1 << 19);
        memcpy(buf, s->p, n);
        int muts = 1 + (int)(rnd() % 4);
        for (int m = 0; m < muts && n > 0; m++) {
            switch (rnd() % 5) {
            case 0: buf[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8)); break;
            case 1: buf[rnd() % n] = (uint8_t)rnd(); break;
            case 2: n = 1 + rnd() % n; break;
            case 3: {
                seed *o = &seeds[rnd() % nseeds];
                size_t at = rnd() % n, take = o->n ? rnd() % o->n : 0;
                if (at + take > (1 << 20)) take = (1 << 20) - at;
                memcpy(buf + at, o->p, take);
                if (at + take > n) n = at + take;
                break;
            }
            default: {
                size_t at = rnd() % n;
                if (n < (1 << 20) - 1) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = (uint8_t)rnd();
                    n++;
                }
            }
            }
        }
        LLVMFuzzerTestOneInput(buf, n);
        runs++;
    }
    free(buf);
    fprintf(stderr, "fuzz_main: %zu seeds, %lu mutated runs, no crash\n", nseeds, runs);
    return 0;
}
