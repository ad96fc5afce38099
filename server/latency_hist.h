/* latency_hist.h — per-command latency histograms: LATENCY HISTOGRAM and
 * INFO latencystats (Redis 7's latency-tracking).
 *
 * Redis keeps an HDR histogram per command and reports it on logarithmic
 * buckets (powers of two from 1024 ns). lodis keeps only those buckets: a
 * fixed array of counters per command, so recording is one increment and
 * the replies have Redis's shape and bucket bounds. Percentiles are the
 * upper bound of the bucket holding them (coarser than Redis's). */
#ifndef LODIS_LATENCY_HIST_H
#define LODIS_LATENCY_HIST_H

#include <stdint.h>

#include "server/buf.h"
#include "server/client.h"

struct cmd_stats;

/* Record one call of `usec` microseconds (if latency-tracking is on). */
void latency_hist_record(struct cmd_stats *st, int64_t usec);
/* The `# Latencystats` INFO section. */
void latency_hist_info(buf *o);

#endif
