/* slowlog.c — the SLOWLOG ring and its command (GET, LEN, RESET, HELP).
 * Entries keep at most 32 arguments of at most 128 bytes each, like Redis,
 * so a slow MSET of a million values does not pin its memory. */
#include "server/slowlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/cmdtable.h"
#include "server/config.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/num.h"

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_ARGLEN 128

static void entry_free(slowlog_entry *e) {
    for (int i = 0; i < e->argc; i++) free(e->argv[i]);
    free(e->argv);
    free(e->argvlen);
}

static void trim(void) {
    while (srv.slowlog_len > 0 && srv.slowlog_len > cfg.slowlog_max_len) {
        /* oldest is at the end */
        entry_free(&srv.slowlog[srv.slowlog_len - 1]);
        srv.slowlog_len--;
    }
}

void slowlog_maybe_add(client *c, int64_t dur) {
    if (cfg.slowlog_log_slower_than < 0 || dur < cfg.slowlog_log_slower_than) return;
    if (cfg.slowlog_max_len == 0) return;
    if (srv.slowlog_len == srv.slowlog_cap) {
        int nc = srv.slowlog_cap ? srv.slowlog_cap * 2 : 16;
        slowlog_entry *n = realloc(srv.slowlog, (size_t)nc * sizeof *n);
        if (!n) return;
        srv.slowlog = n;
        srv.slowlog_cap = nc;
    }
    memmove(srv.slowlog + 1, srv.slowlog, (size_t)srv.slowlog_len * sizeof *srv.slowlog);
    slowlog_entry *e = &srv.slowlog[0];
    memset(e, 0, sizeof *e);
    e->id = srv.slowlog_next_id++;
    e->time = mstime() / 1000;
    e->duration = dur;
    int argc = c->argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : c->argc;
    e->argc = argc;
    e->argv = calloc((size_t)argc, sizeof(char *));
    e->argvlen = calloc((size_t)argc, sizeof(size_t));
    for (int i = 0; i < argc; i++) {
        char tmp[200];
        size_t n;
        if (argc == SLOWLOG_MAX_ARGC && i == argc - 1 && c->argc > SLOWLOG_MAX_ARGC) {
            n = (size_t)snprintf(tmp, sizeof tmp, "... (%d more arguments)",
                                 c->argc - argc + 1);
        } else if (c->argv[i].len > SLOWLOG_MAX_ARGLEN) {
            n = (size_t)snprintf(tmp, sizeof tmp, "%.*s... (%zu more bytes)",
                                 SLOWLOG_MAX_ARGLEN, c->argv[i].p,
                                 c->argv[i].len - SLOWLOG_MAX_ARGLEN);
        } else {
            n = c->argv[i].len;
            memcpy(tmp, c->argv[i].p, n);
        }
        e->argv[i] = malloc(n + 1);
        memcpy(e->argv[i], tmp, n);
        e->argv[i][n] = '\0';
        e->argvlen[i] = n;
    }
    snprintf(e->peer, sizeof e->peer, "%s", c->addr);
    snprintf(e->name, sizeof e->name, "%s", c->name ? c->name : "");
    srv.slowlog_len++;
    trim();
}

void slowlog_free_all(void) {
    for (int i = 0; i < srv.slowlog_len; i++) entry_free(&srv.slowlog[i]);
    free(srv.slowlog);
    srv.slowlog = NULL;
    srv.slowlog_len = srv.slowlog_cap = 0;
}

/* SLOWLOG GET [count] */
void slowlog_get_command(client *c) {
    long long count = 10;
    if (c->argc == 3) {
        if (num_parse_ll(c->argv[2].p, c->argv[2].len, &count) != 0 || count < -1) {
            reply_error(c, "count should be greater than or equal to -1");
            return;
        }
        if (count == -1) count = srv.slowlog_len;
    }
    if (count > srv.slowlog_len) count = srv.slowlog_len;
    reply_array_len(c, count);
    for (long long i = 0; i < count; i++) {
        slowlog_entry *e = &srv.slowlog[i];
        reply_array_len(c, 6);
        reply_int(c, e->id);
        reply_int(c, e->time);
        reply_int(c, e->duration);
        reply_array_len(c, e->argc);
        for (int j = 0; j < e->argc; j++) reply_bulk(c, e->argv[j], e->argvlen[j]);
        reply_bulk_cstr(c, e->peer);
        reply_bulk_cstr(c, e->name);
    }
}

void slowlog_len_command(client *c) {
    reply_int(c, srv.slowlog_len);
}

void slowlog_reset_command(client *c) {
    for (int i = 0; i < srv.slowlog_len; i++) entry_free(&srv.slowlog[i]);
    srv.slowlog_len = 0;
    reply_ok(c);
}

void slowlog_help_command(client *c) {
    static const char *help[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
        NULL};
    reply_help(c, "SLOWLOG", help);
}

/* SLOWLOG: only reached with an unknown subcommand. */
void slowlog_command(client *c) {
    container_unknown_subcommand(c);
}
