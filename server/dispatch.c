/* dispatch.c — from a parsed request to a command's execution.
 *
 * process_command() applies the generic checks in Redis's order (unknown
 * command, arity, authentication, family intercepts such as MULTI queueing,
 * disk space for writes, CLIENT PAUSE) and then call_command() runs the
 * procedure with timing, stats, slowlog and MONITOR feeding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "server/cmdtable.h"
#include "server/config.h"
#include "server/script_lua.h"
#include "server/hooks.h"
#include "server/latency.h"
#include "server/latency_hist.h"
#include "server/maxmemory.h"
#include "server/prefetch.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/slowlog.h"

/* The transactions family's (weak: the core does not depend on it). */
void multi_discard(client *c) __attribute__((weak));
uint64_t multi_queued_flags(client *c) __attribute__((weak));

int64_t mstime(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int64_t ustime(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int server_databases(void) {
    return (int)cfg.databases;
}

static void unknown_command(client *c) {
    char args[256];
    size_t o = 0;
    args[0] = '\0';
    for (int i = 1; i < c->argc && o < 128; i++) {
        int room = 128 - (int)o;
        o += (size_t)snprintf(args + o, sizeof args - o, "'%.*s' ",
                              (int)(c->argv[i].len < (size_t)room ? c->argv[i].len : (size_t)room),
                              c->argv[i].p);
    }
    reply_errorf(c, "unknown command '%.*s', with args beginning with: %s",
                 (int)(c->argv[0].len > 128 ? 128 : c->argv[0].len), c->argv[0].p, args);
}

void server_feed_monitors(client *c) {
    if (srv.nmonitors == 0) return;
    buf line = {0};
    int64_t us = ustime();
    buf_printf(&line, "+%lld.%06lld [%d %s] ", (long long)(us / 1000000),
               (long long)(us % 1000000), c->db, c->fd < 0 ? "lua" : c->addr);
    for (int i = 0; i < c->argc; i++) {
        buf_append(&line, "\"", 1);
        for (size_t j = 0; j < c->argv[i].len; j++) {
            unsigned char ch = (unsigned char)c->argv[i].p[j];
            if (ch == '"' || ch == '\\') buf_printf(&line, "\\%c", ch);
            else if (ch == '\n') buf_append(&line, "\\n", 2);
            else if (ch == '\r') buf_append(&line, "\\r", 2);
            else if (ch == '\t') buf_append(&line, "\\t", 2);
            else if (ch < 32 || ch > 126) buf_printf(&line, "\\x%02x", ch);
            else buf_append(&line, (const char *)&ch, 1);
        }
        buf_append(&line, i + 1 < c->argc ? "\" " : "\"", i + 1 < c->argc ? 2 : 1);
    }
    buf_append(&line, "\r\n", 2);
    for (int i = 0; i < srv.nmonitors; i++) {
        client *m = srv.monitors[i];
        if (m == c || (m->flags & CLIENT_CLOSED)) continue;
        buf_append(&m->reply, line.p, line.len);
        server_client_pending_write(m);
    }
    buf_free(&line);
}

/* INFO's error count when the last command ended (see call_command). */
static uint64_t err_mark;

void call_errors_accounted(void) {
    err_mark = srv.stat_total_error_replies;
}

void call_command(client *c, const struct command *cmd) {
    client *prev = srv.current, *prev_caller = srv.caller;
    srv.current = c;
    if (!(c->flags & CLIENT_SCRIPT)) srv.caller = c;
    c->cmd = cmd;
    /* Redis's rule for failed_calls: an error counted after the previous
     * command ended, so a script or EXEC is not failed by the errors of the
     * commands it ran, only by its own reply. */
    if (!prev) err_mark = srv.stat_total_error_replies;
    int64_t start = ustime();
    ks_set_now(srv.ks, start / 1000);
    c->last_cmd = cmd; /* CLIENT LIST/INFO show the running command */
    /* Reads fill the RAM tier's clean cache; a write's look at the value it
     * replaces would not stay there (store.h). */
    store_cache_fill(srv.st, !(cmd->flags & CMD_WRITE));
    cmd->proc(c);
    /* Like Redis 7.0, MONITOR sees a command once it ran (so EXEC's queued
     * commands come before EXEC); the script commands feed themselves
     * first, so their calls follow them. */
    if (!(cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN))) server_feed_monitors(c);
    int64_t dur = ustime() - start;
    latency_add_sample((cmd->flags & CMD_FAST) ? "fast-command" : "command", dur / 1000);
    struct cmd_stats *st = cmd_stats(cmd);
    st->calls++;
    st->usec += (uint64_t)dur;
    latency_hist_record(st, dur);
    if (srv.stat_total_error_replies > err_mark) st->failed_calls++;
    err_mark = srv.stat_total_error_replies;
    srv.stat_numcommands++;
    c->cmds_processed++;
    if (!(cmd->flags & CMD_SKIP_SLOWLOG)) slowlog_maybe_add(c, dur);
    hooks_after_command(c, cmd, prev != NULL);
    srv.current = prev;
    srv.caller = prev_caller;
}

/* The reply for a container command (CONFIG, OBJECT, ...) whose
 * subcommand is unknown. Containers' own procs call it. */
void container_unknown_subcommand(client *c) {
    const char *name = c->cmd ? c->cmd->name : "";
    char up[64];
    size_t n = strlen(name);
    if (n >= sizeof up) n = sizeof up - 1;
    for (size_t i = 0; i < n; i++)
        up[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    up[n] = '\0';
    if (c->argc < 2) {
        reply_errorf(c, "wrong number of arguments for '%s' command", name);
        return;
    }
    reply_errorf(c, "unknown subcommand '%.*s'. Try %s HELP.",
                 (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p, up);
}

/* The flags cmd runs with: those a script or function declares replace
 * its command's (Redis's getCommandFlags), else the command's own. */
static uint64_t run_flags(client *c, const struct command *cmd) {
    switch (cmd->id) {
    case CMDID_eval:
    case CMDID_eval_ro: return script_eval_cmd_flags(c, cmd->flags, 0);
    case CMDID_evalsha:
    case CMDID_evalsha_ro: return script_eval_cmd_flags(c, cmd->flags, 1);
    case CMDID_fcall:
    case CMDID_fcall_ro: return function_fcall_cmd_flags(c, cmd->flags);
    default: return cmd->flags;
    }
}

/* Refuse cmd with err (a reply_error text). Like Redis, a refused EXEC also
 * aborts the transaction and says so, even outside MULTI. */
static void reject_command(client *c, const struct command *cmd, const char *err) {
    if (cmd->id == CMDID_exec) {
        if (multi_discard && (c->flags & CLIENT_MULTI)) multi_discard(c);
        reply_errorf(c, "-EXECABORT Transaction discarded because of: %s",
                     err[0] == '-' ? err + 1 : err);
        /* MONITOR saw MULTI: show that the transaction is over. */
        server_feed_monitors(c);
    } else {
        reply_error(c, err);
    }
    cmd_stats(cmd)->rejected_calls++;
}

void process_command(client *c) {
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
        c->flags &= ~CLIENT_REPLY_SKIP_NEXT;
        c->flags |= CLIENT_REPLY_SKIP;
    }
    const struct command *cmd = cmd_lookup_argv(c->argc, c->argv);
    if (!cmd) {
        unknown_command(c);
        goto rejected;
    }
    if (cmd->nsubcmds && c->argc >= 2 && cmd->parent == NULL) {
        c->cmd = cmd;
        container_unknown_subcommand(c);
        cmd_stats(cmd)->rejected_calls++;
        goto rejected;
    }
    if (!cmd_arity_ok(cmd, c->argc)) {
        char err[160];
        snprintf(err, sizeof err, "wrong number of arguments for '%s' command", cmd->fullname);
        reject_command(c, cmd, err);
        goto rejected;
    }
    if (!(c->flags & CLIENT_AUTHENTICATED) && !(cmd->flags & CMD_NO_AUTH)) {
        reply_error(c, "-NOAUTH Authentication required.");
        cmd_stats(cmd)->rejected_calls++;
        goto rejected;
    }
    /* A script past busy-reply-threshold: only what may run meanwhile. */
    if (srv.busy_script && !(cmd->flags & CMD_ALLOW_BUSY)) {
        reject_command(c, cmd, ERR_BUSY(srv.busy_script));
        goto rejected;
    }
    /* Keys whose pages may be on disk only: read them on a reader thread
     * first (the request runs again from the top when they are in). */
    if (prefetch_defer(c, cmd)) return;
    /* maxdisk: evict by policy, or refuse what may grow the dataset (Redis
     * checks maxmemory here: before MULTI queueing and pub/sub mode). */
    /* The out-of-memory and replica checks see a script's declared flags
     * (only they look, so only then are the flags worked out). */
    uint64_t flags = cmd->flags;
    if (cfg.maxdisk || !config_enough_replicas()) flags = run_flags(c, cmd);
    if (cfg.maxdisk && maxdisk_check_or_reply(c, cmd, flags)) {
        cmd_stats(cmd)->rejected_calls++;
        goto rejected;
    }
    /* min-replicas-to-write (Redis checks it after memory, before queueing). */
    if (!config_enough_replicas() &&
        ((flags & CMD_WRITE) ||
         (cmd->id == CMDID_exec && (c->flags & CLIENT_MULTI) && multi_queued_flags &&
          (multi_queued_flags(c) & CMD_WRITE)))) {
        reject_command(c, cmd, ERR_NOREPLICAS);
        cmd_stats(cmd)->rejected_calls++;
        goto rejected;
    }
    if (hooks_intercept(c, cmd)) goto done;
    if (srv.pause_until_ms && mstime() < srv.pause_until_ms &&
        (!srv.pause_writes_only || (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE)))) {
        c->flags |= CLIENT_PAUSED;
        return;
    }
    if (cmd->flags & (CMD_WRITE | CMD_DENYOOM)) {
        size_t bytes = 4096;
        for (int i = 0; i < c->argc; i++) bytes += c->argv[i].len + 16;
        if (store_reserve(srv.st, bytes * 2) == ST_NOSPACE) {
            reply_error(c, "-MISCONF Errors writing to disk: No space left on device. "
                           "Commands that may modify the data set are refused until space "
                           "is freed; reads keep working.");
            cmd_stats(cmd)->rejected_calls++;
            goto rejected;
        }
    }
    call_command(c, cmd);
    goto done;
rejected:
    /* A command refused while queueing a transaction makes EXEC abort. */
    if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
done:
    c->flags &= ~(CLIENT_REPLY_SKIP | CLIENT_PREFETCHED);
}
