/* latency_hist.c — per-command latency histograms (see latency_hist.h). */
#include "server/latency_hist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/cmdtable.h"
#include "server/config.h"
#include "server/reply.h"

/* Bucket n (0 .. LAT_HIST_BUCKETS-1) holds durations up to the highest
 * value an HDR histogram of two significant digits treats as equal to
 * 2^(n+10) ns: 2^k + 2^(k-7) - 1. Those bounds, in whole microseconds, are
 * the keys Redis's LATENCY HISTOGRAM prints (1, 2, 4, 8, 16, 33, 66, ...).
 * Durations are tracked up to one second, as Redis does. */
static int64_t bucket_bound_ns(int n) {
    int k = n + 10;
    return ((int64_t)1 << k) + ((int64_t)1 << (k - 7)) - 1;
}

static int bucket_of(int64_t ns) {
    for (int n = 0; n < LAT_HIST_BUCKETS - 1; n++)
        if (ns <= bucket_bound_ns(n)) return n;
    return LAT_HIST_BUCKETS - 1;
}

void latency_hist_record(struct cmd_stats *st, int64_t usec) {
    if (!cfg.latency_tracking) return;
    int64_t ns = usec * 1000;
    if (ns < 1) ns = 1;
    if (ns > 1000000000) ns = 1000000000;
    st->hist[bucket_of(ns)]++;
}

static uint64_t hist_total(const struct cmd_stats *st) {
    uint64_t t = 0;
    for (int n = 0; n < LAT_HIST_BUCKETS; n++) t += st->hist[n];
    return t;
}

/* {calls: N, histogram_usec: {bound: cumulative count, ...}} with only the
 * buckets where the cumulative count grows, like Redis. */
static void reply_cdf(client *c, const struct cmd_stats *st) {
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "calls");
    reply_int(c, (long long)hist_total(st));
    reply_bulk_cstr(c, "histogram_usec");
    int used = 0;
    for (int n = 0; n < LAT_HIST_BUCKETS; n++) used += st->hist[n] != 0;
    reply_map_len(c, used);
    uint64_t cum = 0;
    for (int n = 0; n < LAT_HIST_BUCKETS; n++) {
        if (!st->hist[n]) continue;
        cum += st->hist[n];
        reply_int(c, (long long)(bucket_bound_ns(n) / 1000));
        reply_int(c, (long long)cum);
    }
}

static int has_data(const struct command *cmd) {
    return hist_total(cmd_stats(cmd)) != 0;
}

/* Append cmd (and, for a container, its subcommands) when they have data. */
static int collect(const struct command *cmd, const struct command **out, int n, int cap) {
    if (n < cap && has_data(cmd)) out[n++] = cmd;
    size_t it = 0;
    const struct command *sub;
    while (cmd->nsubcmds && (sub = cmd_sub_next(cmd, &it)) != NULL)
        if (n < cap && has_data(sub)) out[n++] = sub;
    return n;
}

/* LATENCY HISTOGRAM [command ...] */
void latency_histogram_command(client *c) {
    int cap = CMD_NUM_IDS;
    const struct command **rows = malloc(sizeof *rows * (size_t)cap);
    int n = 0;
    if (c->argc == 2) {
        size_t it = 0;
        const struct command *cmd;
        while ((cmd = cmd_all_next(&it)) != NULL)
            if (n < cap && has_data(cmd)) rows[n++] = cmd;
    } else {
        for (int j = 2; j < c->argc; j++) {
            const struct command *cmd = cmd_lookup_fullname(c->argv[j].p, c->argv[j].len);
            if (cmd) n = collect(cmd, rows, n, cap);
        }
    }
    reply_map_len(c, n);
    for (int i = 0; i < n; i++) {
        reply_bulk_cstr(c, rows[i]->fullname);
        reply_cdf(c, cmd_stats(rows[i]));
    }
    free(rows);
}

/* The bound (in usec) of the bucket holding percentile p of st. */
static double percentile_usec(const struct cmd_stats *st, uint64_t total, double p) {
    uint64_t want = (uint64_t)((p / 100.0) * (double)total + 0.5);
    if (want < 1) want = 1;
    uint64_t cum = 0;
    for (int n = 0; n < LAT_HIST_BUCKETS; n++) {
        cum += st->hist[n];
        if (cum >= want) return (double)bucket_bound_ns(n) / 1000.0;
    }
    return (double)bucket_bound_ns(LAT_HIST_BUCKETS - 1) / 1000.0;
}

void latency_hist_info(buf *o) {
    buf_append_cstr(o, "# Latencystats\r\n");
    double pct[16];
    int np = 0;
    const char *s = cfg.latency_tracking_info_percentiles ? cfg.latency_tracking_info_percentiles : "";
    while (*s && np < 16) {
        char *end;
        double v = strtod(s, &end);
        if (end == s) break;
        pct[np++] = v;
        s = end;
    }
    size_t it = 0;
    const struct command *cmd;
    while ((cmd = cmd_all_next(&it)) != NULL) {
        const struct cmd_stats *st = cmd_stats(cmd);
        uint64_t total = hist_total(st);
        if (!total) continue;
        buf_printf(o, "latency_percentiles_usec_%s:", cmd->fullname);
        for (int i = 0; i < np; i++) {
            /* "p50", "p99.9": the percentile without trailing zeros. */
            char name[32];
            snprintf(name, sizeof name, "%f", pct[i]);
            char *z = name + strlen(name) - 1;
            while (z > name && *z == '0') *z-- = '\0';
            if (*z == '.') *z = '\0';
            buf_printf(o, "%sp%s=%.3f", i ? "," : "", name, percentile_usec(st, total, pct[i]));
        }
        buf_append_cstr(o, "\r\n");
    }
}
