/* latency.h — the latency monitor (LATENCY LATEST / HISTORY / RESET / DOCTOR /
 * GRAPH / HELP), and the small interface the server family's files
 * (cmd_server.c, cmd_info.c, latency.c) share.
 *
 * The monitor keeps, per event name ("command", "fast-command", ...), the
 * last 160 spikes at one-second resolution (several spikes in the same second
 * keep the largest) and the largest spike ever seen. Only samples of at least
 * latency-monitor-threshold milliseconds are kept; a threshold of 0 turns
 * the monitor off. Everything here runs on the event loop thread. */
#ifndef LODIS_LATENCY_H
#define LODIS_LATENCY_H

#include <stdint.h>

/* Record that `event` took `ms` milliseconds, if the monitor is on and ms
 * reaches the threshold (cheap otherwise: one comparison). The event name is
 * copied (truncated to 63 bytes). */
void latency_add_sample(const char *event, int64_t ms);

/* Forget every event and free the monitor's memory (shutdown). */
void latency_free_all(void);

/* --- server family internals (cmd_info.c), called from cmd_server.c ------ */

/* Periodic sampling for INFO: instantaneous ops/sec and kbps, recent peak
 * client buffers, peak memory. Registered as a cron hook. */
void info_cron(void);
/* First-time setup for INFO (startup memory figure, replication id). */
void info_init(void);
/* The replication id INFO reports; info_new_replid() draws a fresh one
 * (DEBUG CHANGE-REPL-ID). */
const char *info_replid(void);
void info_new_replid(void);

#endif
