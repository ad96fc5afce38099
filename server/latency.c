/* latency.c — the latency monitor and the LATENCY command.
 *
 * Events are recorded by latency_add_sample() (the dispatcher reports slow
 * commands as "command" / "fast-command"; other modules may report their own
 * events). Per event: a ring of LAT_SAMPLES (time, ms) pairs at one-second
 * resolution — a second spike within the same second raises that second's
 * sample instead of taking a new slot — and the all-time maximum.
 *
 * The state hangs off srv.latency, allocated on the first recorded spike and
 * freed by latency_free_all() at shutdown. Event order in LATENCY LATEST is
 * first-recorded first (Redis uses its hash order; clients must not rely on
 * either). LATENCY DOCTOR and GRAPH write lodis's own text: same facts as
 * Redis's, not the same words or drawing. */
#include "server/latency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/buf.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/reply.h"
#include "server/server.h"

#define LAT_SAMPLES  160
#define LAT_NAME_MAX 64
#define GRAPH_WIDTH  80
#define GRAPH_HEIGHT 4

typedef struct lat_sample {
    int64_t time; /* unix seconds; 0 = empty slot */
    uint64_t ms;
} lat_sample;

typedef struct lat_event {
    char name[LAT_NAME_MAX];
    lat_sample s[LAT_SAMPLES];
    int next; /* slot the next new second goes to */
    uint64_t max;
} lat_event;

struct latency_state {
    lat_event **ev;
    int n, cap;
};

static lat_event *find_event(const char *name, size_t len) {
    struct latency_state *L = srv.latency;
    if (!L) return NULL;
    for (int i = 0; i < L->n; i++)
        if (strlen(L->ev[i]->name) == len && !memcmp(L->ev[i]->name, name, len)) return L->ev[i];
    return NULL;
}

static lat_event *add_event(const char *name) {
    if (!srv.latency) {
        srv.latency = calloc(1, sizeof *srv.latency);
        if (!srv.latency) return NULL;
    }
    struct latency_state *L = srv.latency;
    if (L->n == L->cap) {
        int nc = L->cap ? L->cap * 2 : 8;
        lat_event **ne = realloc(L->ev, (size_t)nc * sizeof *ne);
        if (!ne) return NULL;
        L->ev = ne;
        L->cap = nc;
    }
    lat_event *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    snprintf(e->name, sizeof e->name, "%s", name);
    L->ev[L->n++] = e;
    return e;
}

void latency_add_sample(const char *event, int64_t ms) {
    if (cfg.latency_monitor_threshold <= 0 || ms < cfg.latency_monitor_threshold) return;
    size_t len = strlen(event);
    if (len >= LAT_NAME_MAX) len = LAT_NAME_MAX - 1;
    lat_event *e = find_event(event, len);
    if (!e) e = add_event(event);
    if (!e) return;
    int64_t now = mstime() / 1000;
    uint64_t v = (uint64_t)ms;
    if (v > e->max) e->max = v;
    lat_sample *prev = &e->s[(e->next + LAT_SAMPLES - 1) % LAT_SAMPLES];
    if (prev->time == now) {
        if (v > prev->ms) prev->ms = v;
        return;
    }
    e->s[e->next].time = now;
    e->s[e->next].ms = v;
    e->next = (e->next + 1) % LAT_SAMPLES;
}

/* Remove event i (order of the others is kept). */
static void drop_event(int i) {
    struct latency_state *L = srv.latency;
    free(L->ev[i]);
    memmove(L->ev + i, L->ev + i + 1, (size_t)(L->n - i - 1) * sizeof *L->ev);
    L->n--;
}

void latency_free_all(void) {
    struct latency_state *L = srv.latency;
    if (!L) return;
    for (int i = 0; i < L->n; i++) free(L->ev[i]);
    free(L->ev);
    free(L);
    srv.latency = NULL;
}

/* Samples of an event in time order, into out (capacity LAT_SAMPLES). */
static int ordered_samples(const lat_event *e, lat_sample *out) {
    int n = 0;
    for (int j = 0; j < LAT_SAMPLES; j++) {
        const lat_sample *s = &e->s[(e->next + j) % LAT_SAMPLES];
        if (s->time) out[n++] = *s;
    }
    return n;
}

static const lat_sample *latest_sample(const lat_event *e) {
    return &e->s[(e->next + LAT_SAMPLES - 1) % LAT_SAMPLES];
}

/* LATENCY (container: only reached for an unknown subcommand) */
void latency_command(client *c) {
    reply_errorf(c, "unknown subcommand '%.*s'. Try LATENCY HELP.",
                 c->argc > 1 ? (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len) : 0,
                 c->argc > 1 ? c->argv[1].p : "");
}

/* LATENCY LATEST */
void latency_latest_command(client *c) {
    struct latency_state *L = srv.latency;
    int n = L ? L->n : 0;
    reply_array_len(c, n);
    for (int i = 0; i < n; i++) {
        const lat_event *e = L->ev[i];
        const lat_sample *s = latest_sample(e);
        reply_array_len(c, 4);
        reply_bulk_cstr(c, e->name);
        reply_int(c, (long long)s->time);
        reply_int(c, (long long)s->ms);
        reply_int(c, (long long)e->max);
    }
}

/* LATENCY HISTORY event */
void latency_history_command(client *c) {
    const lat_event *e = find_event(c->argv[2].p, c->argv[2].len);
    if (!e) {
        reply_array_len(c, 0);
        return;
    }
    lat_sample s[LAT_SAMPLES];
    int n = ordered_samples(e, s);
    reply_array_len(c, n);
    for (int i = 0; i < n; i++) {
        reply_array_len(c, 2);
        reply_int(c, (long long)s[i].time);
        reply_int(c, (long long)s[i].ms);
    }
}

/* LATENCY RESET [event [event ...]] */
void latency_reset_command(client *c) {
    struct latency_state *L = srv.latency;
    long long n = 0;
    if (!L) {
        reply_int(c, 0);
        return;
    }
    if (c->argc == 2) {
        n = L->n;
        while (L->n) drop_event(L->n - 1);
    } else {
        for (int a = 2; a < c->argc; a++) {
            for (int i = 0; i < L->n; i++) {
                if (strlen(L->ev[i]->name) == c->argv[a].len &&
                    !memcmp(L->ev[i]->name, c->argv[a].p, c->argv[a].len)) {
                    drop_event(i);
                    n++;
                    break;
                }
            }
        }
    }
    reply_int(c, n);
}

/* "15s", "3m", "2h", "4d": how long ago, for graph labels. */
static void fmt_age(char *out, size_t cap, int64_t secs) {
    if (secs < 0) secs = 0;
    if (secs < 60)
        snprintf(out, cap, "%llds", (long long)secs);
    else if (secs < 3600)
        snprintf(out, cap, "%lldm", (long long)(secs / 60));
    else if (secs < 86400)
        snprintf(out, cap, "%lldh", (long long)(secs / 3600));
    else
        snprintf(out, cap, "%lldd", (long long)(secs / 86400));
}

/* The graph: one column per sample (the latest GRAPH_WIDTH), a bar of
 * GRAPH_HEIGHT rows scaled between the lowest and highest sample shown,
 * and under each bar how long ago it happened, written downwards. */
static void build_graph(const lat_event *e, buf *o) {
    lat_sample all[LAT_SAMPLES];
    int n = ordered_samples(e, all);
    const lat_sample *s = all;
    if (n > GRAPH_WIDTH) {
        s = all + (n - GRAPH_WIDTH);
        n = GRAPH_WIDTH;
    }
    uint64_t hi = 0, lo = UINT64_MAX;
    for (int i = 0; i < n; i++) {
        if (s[i].ms > hi) hi = s[i].ms;
        if (s[i].ms < lo) lo = s[i].ms;
    }
    if (n == 0) lo = 0;
    buf_printf(o, "%s - high %llu ms, low %llu ms (all time high %llu ms)\n", e->name,
               (unsigned long long)hi, (unsigned long long)lo, (unsigned long long)e->max);
    for (int i = 0; i < GRAPH_WIDTH; i++) buf_append(o, "-", 1);
    buf_append(o, "\n", 1);
    int level[GRAPH_WIDTH];
    for (int i = 0; i < n; i++) {
        level[i] =
            hi == lo ? GRAPH_HEIGHT : 1 + (int)((s[i].ms - lo) * (GRAPH_HEIGHT - 1) / (hi - lo));
    }
    for (int row = GRAPH_HEIGHT; row >= 1; row--) {
        for (int i = 0; i < n; i++) {
            char ch = level[i] > row ? '|' : level[i] == row ? '#' : ' ';
            buf_append(o, &ch, 1);
        }
        buf_append(o, "\n", 1);
    }
    char labels[GRAPH_WIDTH][24];
    size_t maxl = 0;
    int64_t now = mstime() / 1000;
    for (int i = 0; i < n; i++) {
        fmt_age(labels[i], sizeof labels[i], now - s[i].time);
        size_t l = strlen(labels[i]);
        if (l > maxl) maxl = l;
    }
    for (size_t row = 0; row < maxl; row++) {
        for (int i = 0; i < n; i++) {
            char ch = row < strlen(labels[i]) ? labels[i][row] : ' ';
            buf_append(o, &ch, 1);
        }
        buf_append(o, "\n", 1);
    }
}

/* LATENCY GRAPH event */
void latency_graph_command(client *c) {
    const lat_event *e = find_event(c->argv[2].p, c->argv[2].len);
    if (!e) {
        reply_errorf(c, "No samples available for event '%.*s'",
                     (int)(c->argv[2].len > 128 ? 128 : c->argv[2].len), c->argv[2].p);
        return;
    }
    buf o = {0};
    build_graph(e, &o);
    reply_verbatim(c, o.p, o.len, "txt");
    buf_free(&o);
}

/* Advice for an event class, or NULL. */
static const char *advice_for(const char *name) {
    if (!strcmp(name, "command"))
        return "- \"command\" spikes are commands that ran for a long time: SLOWLOG GET names "
               "them. Commands over large collections (KEYS, SMEMBERS, HGETALL, LRANGE 0 -1, "
               "SORT, ZUNIONSTORE ...) grow with the data; prefer SCAN-family iteration or "
               "smaller collections.";
    if (!strcmp(name, "fast-command"))
        return "- \"fast-command\" spikes are O(1) or O(log N) commands that were slow anyway: "
               "that points at the machine rather than the workload (swapping, CPU contention "
               "from other processes, a noisy neighbour, or a very slow disk when appendfsync "
               "is always).";
    if (strstr(name, "fsync") || strstr(name, "wal") || strstr(name, "checkpoint"))
        return "- Disk-related spikes: check the disk's latency (iostat), other processes "
               "writing heavily, and consider appendfsync everysec instead of always.";
    if (strstr(name, "expire"))
        return "- Expiry spikes: many keys expiring at the same moment. Spread the TTLs a "
               "little (add random seconds) so they do not all fall due together.";
    return NULL;
}

static void build_doctor(buf *o) {
    struct latency_state *L = srv.latency;
    if (!L || L->n == 0) {
        if (cfg.latency_monitor_threshold <= 0)
            buf_printf(o, "The latency monitor is off (latency-monitor-threshold is 0), so "
                          "there is nothing to analyse. Turn it on with CONFIG SET "
                          "latency-monitor-threshold <milliseconds> and ask again later.\n");
        else
            buf_printf(o,
                       "No latency spike of %lld ms or more has been recorded since the "
                       "server started (or since the last LATENCY RESET). Nothing to "
                       "worry about.\n",
                       cfg.latency_monitor_threshold);
        return;
    }
    int64_t now = mstime() / 1000;
    buf_printf(o, "Latency report: %d event class%s recorded spikes of %lld ms or more.\n\n", L->n,
               L->n == 1 ? "" : "es", cfg.latency_monitor_threshold);
    for (int i = 0; i < L->n; i++) {
        const lat_event *e = L->ev[i];
        lat_sample s[LAT_SAMPLES];
        int n = ordered_samples(e, s);
        double sum = 0, dev = 0;
        for (int j = 0; j < n; j++) sum += (double)s[j].ms;
        double avg = n ? sum / n : 0;
        for (int j = 0; j < n; j++) {
            double d = (double)s[j].ms - avg;
            dev += d < 0 ? -d : d;
        }
        dev = n ? dev / n : 0;
        double period = n ? (double)(now - s[0].time + 1) / n : 0;
        buf_printf(o,
                   "%d. %s: %d spike%s in the last %lld seconds (average %.0f ms, mean "
                   "deviation %.0f ms, one every %.2f sec on average). Highest ever: %llu ms.\n",
                   i + 1, e->name, n, n == 1 ? "" : "s", (long long)(n ? now - s[0].time : 0), avg,
                   dev, period, (unsigned long long)e->max);
    }
    buf_append_cstr(o, "\nWhat to look at:\n\n");
    int any = 0;
    for (int i = 0; i < L->n; i++) {
        const char *a = advice_for(L->ev[i]->name);
        int dup = 0;
        for (int j = 0; j < i; j++)
            if (advice_for(L->ev[j]->name) == a) dup = 1;
        if (!a || dup) continue;
        buf_printf(o, "%s\n", a);
        any = 1;
    }
    if (!any)
        buf_append_cstr(o, "- No specific advice for these event classes; LATENCY HISTORY "
                           "<event> shows when the spikes happened.\n");
}

/* LATENCY DOCTOR */
void latency_doctor_command(client *c) {
    buf o = {0};
    build_doctor(&o);
    reply_verbatim(c, o.p, o.len, "txt");
    buf_free(&o);
}

/* LATENCY HELP */
void latency_help_command(client *c) {
    static const char *help[] = {
        "DOCTOR",
        "    Analyse the recorded latency spikes and suggest what to look at.",
        "GRAPH <event>",
        "    Draw the recorded spikes of <event> as an ASCII chart.",
        "HISTORY <event>",
        "    List the recorded spikes of <event> as (unix time, milliseconds) pairs.",
        "LATEST",
        "    For every event: name, time and size of its latest spike, and the highest ever.",
        "HISTOGRAM [<command> ...]",
        "    The cumulative latency distribution of the given commands (of every",
        "    command without arguments) on power-of-two microsecond buckets.",
        "RESET [<event> ...]",
        "    Forget the recorded spikes of the given events (of all events without",
        "    arguments); replies the number of events reset.",
        "HELP",
        "    Print this help.",
        NULL};
    reply_help(c, "LATENCY", help);
}
