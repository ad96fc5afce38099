/* pubsub.c — publish/subscribe: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, their
 * UNSUBSCRIBE counterparts, PUBLISH, SPUBLISH and PUBSUB <subcommand>.
 *
 * Three name spaces (channels, patterns, shard channels), each a table from
 * name to the clients subscribed, in subscription order. Each subscribed
 * client keeps its own list of entries (c->pubsub_state), so that an
 * argument-less UNSUBSCRIBE and connection close are O(own subscriptions).
 * A table entry lives exactly as long as it has subscribers.
 *
 * A subscriber has CLIENT_PUBSUB set and a non-NULL c->pubsub_state, which
 * is what makes net.c apply the "pubsub" client-output-buffer-limit class:
 * a subscriber that does not read is cut off. In RESP2, a subscribed client
 * may only run (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET (the
 * intercept below); RESP3 clients get messages as push replies and may run
 * anything. Messages are pushed with reply_push_len, so the protocol
 * decides between '*' and '>'. Patterns use Redis glob semantics. */
#include "server/pubsub.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/cmd_conn.h"
#include "server/cmdtable.h"
#include "server/hooks.h"
#include "server/multi.h"
#include "server/notify.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/glob.h"

enum { SP_CHAN = 0, SP_PAT, SP_SHARD, SP_N };

typedef struct pent {
    struct pent *next; /* hash chain */
    int space;
    client **subs; /* subscribers, in subscription order */
    int nsubs, capsubs;
    size_t len;
    char name[]; /* len bytes + NUL */
} pent;

typedef struct space {
    pent **tab;
    size_t size; /* power of two, or 0 */
    size_t count;
} space;

static space spaces[SP_N];

typedef struct ps_client {
    pent **ent[SP_N]; /* this client's subscriptions, in order */
    int n[SP_N], cap[SP_N];
} ps_client;

/* Reply words per name space: subscribe, unsubscribe, message kind. */
static const char *const sub_word[SP_N] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *const unsub_word[SP_N] = {"unsubscribe", "punsubscribe", "sunsubscribe"};

static void *xrealloc(void *p, size_t n) {
    void *r = realloc(p, n);
    if (!r) abort();
    return r;
}

static uint64_t name_hash(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 31);
}

static pent *sp_find(space *sp, const char *name, size_t len) {
    if (!sp->size) return NULL;
    for (pent *e = sp->tab[name_hash(name, len) & (sp->size - 1)]; e; e = e->next)
        if (e->len == len && memcmp(e->name, name, len) == 0) return e;
    return NULL;
}

static void sp_grow(space *sp) {
    size_t ns = sp->size ? sp->size * 2 : 64;
    pent **nt = calloc(ns, sizeof *nt);
    if (!nt) abort();
    for (size_t i = 0; i < sp->size; i++) {
        pent *e = sp->tab[i];
        while (e) {
            pent *next = e->next;
            size_t b = name_hash(e->name, e->len) & (ns - 1);
            e->next = nt[b];
            nt[b] = e;
            e = next;
        }
    }
    free(sp->tab);
    sp->tab = nt;
    sp->size = ns;
}

static pent *sp_add(int which, const char *name, size_t len) {
    space *sp = &spaces[which];
    if (sp->count >= sp->size) sp_grow(sp);
    pent *e = calloc(1, sizeof *e + len + 1);
    if (!e) abort();
    e->space = which;
    e->len = len;
    memcpy(e->name, name, len);
    size_t b = name_hash(name, len) & (sp->size - 1);
    e->next = sp->tab[b];
    sp->tab[b] = e;
    sp->count++;
    return e;
}

static void sp_remove(pent *e) {
    space *sp = &spaces[e->space];
    pent **pp = &sp->tab[name_hash(e->name, e->len) & (sp->size - 1)];
    while (*pp != e) pp = &(*pp)->next;
    *pp = e->next;
    sp->count--;
    free(e->subs);
    free(e);
}

static ps_client *pstate(client *c) {
    if (!c->pubsub_state) {
        ps_client *p = calloc(1, sizeof *p);
        if (!p) abort();
        c->pubsub_state = p;
    }
    return c->pubsub_state;
}

static int total_subs(client *c) {
    return c->nsub + c->npsub + c->nssub;
}

static void sync_counts(client *c) {
    ps_client *p = c->pubsub_state;
    c->nsub = p ? p->n[SP_CHAN] : 0;
    c->npsub = p ? p->n[SP_PAT] : 0;
    c->nssub = p ? p->n[SP_SHARD] : 0;
    if (total_subs(c) > 0) c->flags |= CLIENT_PUBSUB;
    else c->flags &= ~CLIENT_PUBSUB;
}

/* The count a (un)subscribe reply carries: channels and patterns together,
 * shard channels on their own (as Redis 7.0 does). */
static long long reply_count(client *c, int which) {
    ps_client *p = c->pubsub_state;
    if (!p) return 0;
    if (which == SP_SHARD) return p->n[SP_SHARD];
    return p->n[SP_CHAN] + p->n[SP_PAT];
}

/* 1 if newly subscribed, 0 if c already was. */
static int subscribe(client *c, int which, const char *name, size_t len) {
    pent *e = sp_find(&spaces[which], name, len);
    if (e)
        for (int i = 0; i < e->nsubs; i++)
            if (e->subs[i] == c) return 0;
    if (!e) e = sp_add(which, name, len);
    if (e->nsubs == e->capsubs) {
        e->capsubs = e->capsubs ? e->capsubs * 2 : 4;
        e->subs = xrealloc(e->subs, (size_t)e->capsubs * sizeof *e->subs);
    }
    e->subs[e->nsubs++] = c;
    ps_client *p = pstate(c);
    if (p->n[which] == p->cap[which]) {
        p->cap[which] = p->cap[which] ? p->cap[which] * 2 : 8;
        p->ent[which] = xrealloc(p->ent[which], (size_t)p->cap[which] * sizeof *p->ent[which]);
    }
    p->ent[which][p->n[which]++] = e;
    sync_counts(c);
    return 1;
}

/* Remove c from e (the caller removes e from c's own list). */
static void detach(client *c, pent *e) {
    for (int i = 0; i < e->nsubs; i++)
        if (e->subs[i] == c) {
            memmove(e->subs + i, e->subs + i + 1, (size_t)(e->nsubs - i - 1) * sizeof *e->subs);
            e->nsubs--;
            break;
        }
    if (e->nsubs == 0) sp_remove(e);
}

/* 1 if c was subscribed to name and no longer is. */
static int unsubscribe(client *c, int which, const char *name, size_t len) {
    ps_client *p = c->pubsub_state;
    if (!p) return 0;
    for (int i = 0; i < p->n[which]; i++) {
        pent *e = p->ent[which][i];
        if (e->len != len || memcmp(e->name, name, len) != 0) continue;
        memmove(p->ent[which] + i, p->ent[which] + i + 1,
                (size_t)(p->n[which] - i - 1) * sizeof *p->ent[which]);
        p->n[which]--;
        detach(c, e);
        sync_counts(c);
        return 1;
    }
    return 0;
}

/* Pub/sub messages and (un)subscribe confirmations are pushes: as in Redis,
 * they reach the client even under CLIENT REPLY OFF. */
static void reply_sub_event(client *c, const char *word, const char *name, size_t len,
                            int null_name, long long count) {
    unsigned saved = reply_push_begin(c);
    reply_push_len(c, 3);
    reply_bulk(c, word, strlen(word));
    if (null_name) reply_null(c);
    else reply_bulk(c, name, len);
    reply_int(c, count);
    reply_push_end(c, saved);
}

/* Unsubscribe c from everything in one name space; with notify, reply
 * one message per subscription (or one with a null name if none). */
static void unsubscribe_all(client *c, int which, int notify) {
    ps_client *p = c->pubsub_state;
    int n = p ? p->n[which] : 0;
    if (n == 0) {
        if (notify) reply_sub_event(c, unsub_word[which], NULL, 0, 1, reply_count(c, which));
        return;
    }
    /* Latest subscription first, so each step is a pop. */
    while (p->n[which] > 0) {
        pent *e = p->ent[which][--p->n[which]];
        if (notify) {
            /* The name must be replied before detach() may free e. */
            long long cnt = reply_count(c, which);
            reply_sub_event(c, unsub_word[which], e->name, e->len, 0, cnt);
        }
        detach(c, e);
    }
    sync_counts(c);
}

static void drop_all(client *c) {
    for (int s = 0; s < SP_N; s++) unsubscribe_all(c, s, 0);
    ps_client *p = c->pubsub_state;
    if (p) {
        for (int s = 0; s < SP_N; s++) free(p->ent[s]);
        free(p);
        c->pubsub_state = NULL;
    }
    sync_counts(c);
}

static void pubsub_client_close(client *c) {
    drop_all(c);
}

static void pubsub_reset(client *c) {
    drop_all(c);
}

static long long deliver(int which, const char *ch, size_t chlen, const char *msg, size_t mlen) {
    long long n = 0;
    pent *e = sp_find(&spaces[which], ch, chlen);
    if (e) {
        const char *word = which == SP_SHARD ? "smessage" : "message";
        for (int i = 0; i < e->nsubs; i++) {
            client *t = e->subs[i];
            n++;
            if (t->flags & CLIENT_CLOSED) continue;
            unsigned saved = reply_push_begin(t);
            reply_push_len(t, 3);
            reply_bulk(t, word, strlen(word));
            reply_bulk(t, ch, chlen);
            reply_bulk(t, msg, mlen);
            reply_push_end(t, saved);
        }
    }
    if (which != SP_CHAN) return n;
    space *ps = &spaces[SP_PAT];
    for (size_t b = 0; b < ps->size; b++) {
        for (pent *p = ps->tab[b]; p; p = p->next) {
            if (!glob_match(p->name, p->len, ch, chlen, 0)) continue;
            for (int i = 0; i < p->nsubs; i++) {
                client *t = p->subs[i];
                n++;
                if (t->flags & CLIENT_CLOSED) continue;
                unsigned saved = reply_push_begin(t);
                reply_push_len(t, 4);
                reply_bulk(t, "pmessage", 8);
                reply_bulk(t, p->name, p->len);
                reply_bulk(t, ch, chlen);
                reply_bulk(t, msg, mlen);
                reply_push_end(t, saved);
            }
        }
    }
    return n;
}

long long pubsub_publish(const char *channel, size_t chlen, const char *msg, size_t msglen) {
    return deliver(SP_CHAN, channel, chlen, msg, msglen);
}

static int pubsub_intercept(client *c, const struct command *cmd) {
    if (!(c->flags & CLIENT_PUBSUB) || c->resp != 2) return 0;
    if (cmd->proc == subscribe_command || cmd->proc == psubscribe_command ||
        cmd->proc == ssubscribe_command || cmd->proc == unsubscribe_command ||
        cmd->proc == punsubscribe_command || cmd->proc == sunsubscribe_command ||
        cmd->proc == ping_command || cmd->proc == quit_command || cmd->proc == reset_command)
        return 0;
    reply_errorf(c,
                 "Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
                 "RESET are allowed in this context",
                 cmd->fullname);
    cmd_stats(cmd)->rejected_calls++;
    if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
    return 1;
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */

static void subscribe_generic(client *c, int which) {
    for (int i = 1; i < c->argc; i++) {
        subscribe(c, which, c->argv[i].p, c->argv[i].len);
        reply_sub_event(c, sub_word[which], c->argv[i].p, c->argv[i].len, 0,
                        reply_count(c, which));
    }
}

static void unsubscribe_generic(client *c, int which) {
    if (c->argc == 1) {
        unsubscribe_all(c, which, 1);
        return;
    }
    for (int i = 1; i < c->argc; i++) {
        unsubscribe(c, which, c->argv[i].p, c->argv[i].len);
        reply_sub_event(c, unsub_word[which], c->argv[i].p, c->argv[i].len, 0,
                        reply_count(c, which));
    }
}

/* SUBSCRIBE channel [channel ...] */
void subscribe_command(client *c) {
    subscribe_generic(c, SP_CHAN);
}

/* PSUBSCRIBE pattern [pattern ...] */
void psubscribe_command(client *c) {
    subscribe_generic(c, SP_PAT);
}

/* SSUBSCRIBE shardchannel [shardchannel ...] */
void ssubscribe_command(client *c) {
    if (multi_in_exec(c)) {
        /* Inside EXEC each command must give exactly one reply. */
        reply_error(c, "SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
        return;
    }
    subscribe_generic(c, SP_SHARD);
}

/* UNSUBSCRIBE [channel ...] */
void unsubscribe_command(client *c) {
    unsubscribe_generic(c, SP_CHAN);
}

/* PUNSUBSCRIBE [pattern ...] */
void punsubscribe_command(client *c) {
    unsubscribe_generic(c, SP_PAT);
}

/* SUNSUBSCRIBE [shardchannel ...] */
void sunsubscribe_command(client *c) {
    unsubscribe_generic(c, SP_SHARD);
}

/* PUBLISH channel message */
void publish_command(client *c) {
    reply_int(c, deliver(SP_CHAN, c->argv[1].p, c->argv[1].len, c->argv[2].p, c->argv[2].len));
}

/* SPUBLISH shardchannel message */
void spublish_command(client *c) {
    reply_int(c, deliver(SP_SHARD, c->argv[1].p, c->argv[1].len, c->argv[2].p, c->argv[2].len));
}

/* PUBSUB <subcommand> ... with an unknown subcommand */
void pubsub_command(client *c) {
    container_unknown_subcommand(c);
}

static void channels_generic(client *c, int which) {
    const char *pat = c->argc > 2 ? c->argv[2].p : NULL;
    size_t patlen = c->argc > 2 ? c->argv[2].len : 0;
    if (c->argc > 3) {
        reply_errorf(c,
                     "unknown subcommand or wrong number of arguments for '%.*s'. Try PUBSUB "
                     "HELP.",
                     (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p);
        return;
    }
    space *sp = &spaces[which];
    reply_deferred h = reply_defer_len(c);
    long long n = 0;
    for (size_t b = 0; b < sp->size; b++)
        for (pent *e = sp->tab[b]; e; e = e->next) {
            if (pat && !glob_match(pat, patlen, e->name, e->len, 0)) continue;
            reply_bulk(c, e->name, e->len);
            n++;
        }
    reply_set_deferred_len(c, h, n, REPLY_ARRAY);
}

static void numsub_generic(client *c, int which) {
    reply_array_len(c, (long long)(c->argc - 2) * 2);
    for (int i = 2; i < c->argc; i++) {
        pent *e = sp_find(&spaces[which], c->argv[i].p, c->argv[i].len);
        reply_bulk(c, c->argv[i].p, c->argv[i].len);
        reply_int(c, e ? e->nsubs : 0);
    }
}

/* PUBSUB CHANNELS [pattern] */
void pubsub_channels_command(client *c) {
    channels_generic(c, SP_CHAN);
}

/* PUBSUB SHARDCHANNELS [pattern] */
void pubsub_shardchannels_command(client *c) {
    channels_generic(c, SP_SHARD);
}

/* PUBSUB NUMSUB [channel ...] */
void pubsub_numsub_command(client *c) {
    numsub_generic(c, SP_CHAN);
}

/* PUBSUB SHARDNUMSUB [shardchannel ...] */
void pubsub_shardnumsub_command(client *c) {
    numsub_generic(c, SP_SHARD);
}

/* PUBSUB NUMPAT */
void pubsub_numpat_command(client *c) {
    reply_int(c, (long long)spaces[SP_PAT].count);
}

/* PUBSUB HELP */
void pubsub_help_command(client *c) {
    static const char *lines[] = {
        "CHANNELS [<pattern>]",
        "    List the channels with at least one subscriber, all or those matching <pattern>.",
        "NUMPAT",
        "    Reply with the number of distinct patterns subscribed to.",
        "NUMSUB [<channel> ...]",
        "    Reply with each channel and its number of subscribers (patterns not counted).",
        "SHARDCHANNELS [<pattern>]",
        "    List the shard channels with at least one subscriber, all or those matching",
        "    <pattern>.",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Reply with each shard channel and its number of subscribers.",
        NULL};
    reply_help(c, "PUBSUB", lines);
}

void pubsub_family_init(void) {
    hooks_on_intercept(pubsub_intercept);
    hooks_on_client_close(pubsub_client_close);
    conn_on_reset(pubsub_reset);
    notify_init();
}
