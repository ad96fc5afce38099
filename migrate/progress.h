/* progress.h — progress reports for long runs, on stderr: one line redrawn
 * in place on a terminal (keys, bytes, rate, ETA), plain lines every few
 * seconds otherwise (logs, pipes). --quiet turns them off. */
#ifndef LODIS_PROGRESS_H
#define LODIS_PROGRESS_H

#include <stdint.h>

typedef struct progress {
    const char *what;
    uint64_t total;   /* keys expected, 0 if unknown */
    uint64_t keys, bytes;
    double t0, last;
    int tty, quiet, drawn;
    int bytes_only; /* a transfer: bytes and rate, no keys */
} progress;

void progress_start(progress *p, const char *what, uint64_t total_keys, int quiet);
/* Cheap to call per key: draws at most every 100 ms (tty) or 5 s. */
void progress_update(progress *p, uint64_t keys, uint64_t bytes);
/* Final line with totals and elapsed time. */
void progress_done(progress *p);
double progress_now(void);
/* A free-form status line (long-running states with no key total, like
 * --follow's offsets), paced like progress_update; force draws now. */
void progress_status(progress *p, const char *text, int force);

#endif
