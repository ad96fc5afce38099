/* progress.c — see progress.h. */
#include "migrate/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define TTY_EVERY   0.1
#define PLAIN_EVERY 5.0

double progress_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(char *out, size_t cap, double bytes) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (bytes >= 1024 && i < 4) bytes /= 1024, i++;
    snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", bytes, u[i]);
}

static void draw(progress *p, double now, int final);

void progress_start(progress *p, const char *what, uint64_t total_keys, int quiet) {
    p->what = what;
    p->total = total_keys;
    p->keys = p->bytes = 0;
    p->t0 = p->last = progress_now();
    p->tty = isatty(2);
    p->quiet = quiet;
    p->drawn = 0;
    p->bytes_only = 0;
    /* In a log, say at once that the run started and how big it is. */
    if (!quiet && !p->tty) draw(p, p->t0, 0);
}

static void draw(progress *p, double now, int final) {
    double el = now - p->t0;
    if (p->bytes_only) {
        char b[32], r[32];
        human(b, sizeof b, (double)p->bytes);
        human(r, sizeof r, el > 0 ? (double)p->bytes / el : 0);
        fprintf(stderr, "%s%s: %s, %s/s%s", p->tty ? "\r\033[K" : "", p->what, b, r,
                final ? "" : (p->tty ? "" : "\n"));
        if (final) fprintf(stderr, " in %.1f s\n", el);
        fflush(stderr);
        p->drawn = 1;
        return;
    }
    double rate = el > 0 ? (double)p->keys / el : 0;
    char b[32], eta[32] = "";
    human(b, sizeof b, (double)p->bytes);
    if (!final && p->total > p->keys && rate > 0) {
        long s = (long)((double)(p->total - p->keys) / rate);
        snprintf(eta, sizeof eta, ", ETA %ld:%02ld", s / 60, s % 60);
    }
    char pct[16] = "";
    if (p->total) {
        double f = p->keys >= p->total ? 100.0 : 100.0 * (double)p->keys / (double)p->total;
        snprintf(pct, sizeof pct, " (%.0f%%)", f);
    }
    char tot[32] = "";
    if (p->total) snprintf(tot, sizeof tot, "/%llu", (unsigned long long)p->total);
    char bytes[48] = "";
    if (p->bytes) snprintf(bytes, sizeof bytes, ", %s", b);
    fprintf(stderr, "%s%s: %llu%s keys%s%s, %.0f keys/s%s%s", p->tty ? "\r\033[K" : "",
            p->what, (unsigned long long)p->keys, tot, pct, bytes, rate, final ? "" : eta,
            final ? "" : (p->tty ? "" : "\n"));
    if (final) fprintf(stderr, " in %.1f s\n", el);
    fflush(stderr);
    p->drawn = 1;
}

void progress_update(progress *p, uint64_t keys, uint64_t bytes) {
    p->keys = keys;
    p->bytes = bytes;
    if (p->quiet) return;
    double now = progress_now();
    if (now - p->last < (p->tty ? TTY_EVERY : PLAIN_EVERY)) return;
    p->last = now;
    draw(p, now, 0);
}

void progress_done(progress *p) {
    if (p->quiet) return;
    draw(p, progress_now(), 1);
}

void progress_status(progress *p, const char *text, int force) {
    if (p->quiet) return;
    double now = progress_now();
    if (!force && now - p->last < (p->tty ? TTY_EVERY : PLAIN_EVERY)) return;
    p->last = now;
    fprintf(stderr, "%s%s: %s%s", p->tty ? "\r\033[K" : "", p->what, text, p->tty ? "" : "\n");
    fflush(stderr);
    p->drawn = 1;
}
