/* log.c — leveled logging to logfile (or stdout), Redis's line format:
 * "pid:role dd Mon yyyy hh:mm:ss.mmm <level> message". */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "server/config.h"
#include "server/server.h"

void server_log(int level, const char *fmt, ...) {
    if (level < cfg.loglevel) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    FILE *f = stdout;
    int close_it = 0;
    if (cfg.logfile && cfg.logfile[0]) {
        f = fopen(cfg.logfile, "a");
        if (!f) return;
        close_it = 1;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[64];
    size_t off = strftime(ts, sizeof ts, "%d %b %Y %H:%M:%S.", &tm);
    snprintf(ts + off, sizeof ts - off, "%03d", (int)(tv.tv_usec / 1000));
    static const char marks[] = ".-*#";
    fprintf(f, "%d:M %s %c %s\n", (int)getpid(), ts, marks[level > 3 ? 3 : level], msg);
    fflush(f);
    if (close_it) fclose(f);
}
