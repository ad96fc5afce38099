/* server.c — periodic duties (server cron), persistence commands' core,
 * error statistics, and the pause machinery.
 *
 * Cron runs `hz` times a second: active expiry (exact, in expires-index
 * order, bounded in time), background reclamation of dropped collections
 * and flushed databases, the store's checkpoint and fsync duties, client
 * timeouts and resuming paused clients. */
#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "server/hooks.h"
#include "server/latency.h"
#include "server/prefetch.h"
#include "server/server.h"

typedef struct errstat {
    char code[32];
    uint64_t count;
    struct errstat *next;
} errstat;

void server_count_error(const char *code) {
    srv.stat_total_error_replies++;
    char name[32];
    size_t n = strcspn(code, " ");
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, code, n);
    name[n] = '\0';
    for (errstat *e = srv.errstats; e; e = e->next) {
        if (!strcmp(e->code, name)) {
            e->count++;
            return;
        }
    }
    errstat *e = calloc(1, sizeof *e);
    if (!e) return;
    memcpy(e->code, name, n + 1);
    e->count = 1;
    e->next = srv.errstats;
    srv.errstats = e;
}

void server_reset_errorstats(void) {
    errstat *e = srv.errstats;
    while (e) {
        errstat *n = e->next;
        free(e);
        e = n;
    }
    srv.errstats = NULL;
}

/* Walk errorstats for INFO: returns the next (code, count) after *it. */
int server_errorstat_next(void **it, const char **code, uint64_t *count) {
    errstat *e = *it ? ((errstat *)*it)->next : srv.errstats;
    if (!e) return 0;
    *it = e;
    *code = e->code;
    *count = e->count;
    return 1;
}

static void resume_paused(void) {
    if (srv.pause_until_ms && mstime() < srv.pause_until_ms) return;
    srv.pause_until_ms = 0;
    for (client *c = srv.clients; c; c = c->next) {
        if (!(c->flags & CLIENT_PAUSED)) continue;
        c->flags &= ~CLIENT_PAUSED;
        client_process_input(c);
    }
}

void server_unpause(void) {
    srv.pause_until_ms = 0;
    resume_paused();
}

void server_cron(void) {
    int64_t now = mstime();
    srv.cron_loops++;
    store_cron(srv.st, now);
    long budget = 25000 / (cfg.hz > 0 ? cfg.hz : 10) * cfg.active_expire_effort;
    if (srv.active_expire_enabled) {
        int64_t t0 = mstime();
        ks_expire_cycle(srv.ks, budget);
        latency_add_sample("expire-cycle", mstime() - t0);
    }
    int pending = 0;
    ks_reclaim_step(srv.ks, budget, &pending);
    int bg_pending = 0;
    srv.stat_reclaimed = store_reclaimed(srv.st, &bg_pending);
    srv.reclaim_pending = pending || bg_pending;
    if (cfg.timeout > 0) {
        for (client *c = srv.clients; c; c = c->next) {
            if (c->fd < 0 || (c->flags & (CLIENT_BLOCKED | CLIENT_PUBSUB | CLIENT_MONITOR)))
                continue;
            if (now - c->last_interaction_ms > cfg.timeout * 1000) client_free(c);
        }
    }
    resume_paused();
    prefetch_cron();
    hooks_cron();
}

int server_save(void) {
    ks_flush_counters(srv.ks);
    if (store_checkpoint_sync(srv.st) != ST_OK) return -1;
    srv.lastsave = mstime() / 1000;
    srv.dirty = 0;
    return 0;
}
