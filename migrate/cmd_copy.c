/* cmd_copy.c — lodis-migrate copy --from redis://... --to DATADIR|lodis://...
 *
 * Online copy from a running Redis (or lodis): per database, SCAN a batch
 * of keys, then DUMP and PTTL each of them in one pipelined round trip, and
 * hand the payloads to the sink (sink.h) as RESTORE ... REPLACE with an
 * absolute TTL. Function libraries come first (FUNCTION LIST WITHCODE).
 *
 * Resumable: every SAVE_EVERY_MS and on Ctrl-C, once the batches applied so
 * far are durable (sink_durable), the SCAN cursor of each database is
 * written to a small state file (to a temporary name, then renamed). A rerun with the same source
 * and state file continues there. SCAN guarantees every key present for the
 * whole scan is returned at least once; a key may come twice, which
 * RESTORE ... REPLACE makes harmless. Keys written to the source during the
 * copy may or may not be copied: use --follow for a live cut-over.
 *
 * --follow does not SCAN: it attaches as a replica (follow.c). */
#include "migrate/migrate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate/copy.h"
#include "migrate/progress.h"
#include "migrate/sink.h"

#define MAX_DBS 64

static void usage(FILE *f) {
    fprintf(f,
            "Usage: lodis-migrate copy --from redis://[user:pass@]host:port[/db]\n"
            "                          --to DATADIR|lodis://[user:pass@]host:port\n"
            "                          [--follow] [--batch N] [--state FILE] [--restart]\n"
            "                          [--server PATH] [--quiet]\n\n"
            "Copy every key (values and TTLs) and function library from a running Redis into\n"
            "a lodis data directory (no server may be using it) or a running lodis. The\n"
            "source keeps serving: keys are read with SCAN, DUMP and PTTL in pipelined\n"
            "batches and written as RESTORE ... REPLACE with absolute TTLs. Give /db in the\n"
            "URL to copy one database; by default every database that holds keys.\n\n"
            "Resumable: every few seconds and on Ctrl-C, the SCAN position of what is\n"
            "safely written is saved in the state file, so after Ctrl-C (or a crash, or a\n"
            "lost connection) the same command continues where it stopped. SCAN returns\n"
            "every key that exists for the whole copy at least once, maybe twice (RESTORE\n"
            "REPLACE makes that harmless); keys written, changed or deleted on the source\n"
            "during the copy may or may not be reflected.\n"
            "The state file is removed when the copy completes.\n\n"
            "--follow instead attaches to the source as a replica (PSYNC): it loads the\n"
            "source's full RDB snapshot, then applies its live stream of writes until\n"
            "stopped with Ctrl-C or SIGTERM, printing the replication offset and lag; stop\n"
            "the writers, wait for lag 0, stop lodis-migrate, and switch clients over. The\n"
            "source must allow replicas (the user needs +psync +replconf). With --to DATADIR\n"
            "it starts a private lodis-server on DATADIR (127.0.0.1, a random port, log in\n"
            "DATADIR/follow-server.log) to apply the stream, and stops it cleanly at the end.\n"
            "After a clean stop the replication offset is saved (state file), and the next\n"
            "--follow run continues from it when the source still has that part of its\n"
            "backlog (PSYNC); otherwise, and after a crash, it resynchronises in full.\n\n"
            "  --from URL        the source Redis\n"
            "  --to TARGET       a data directory, or lodis://[user:pass@]host:port\n"
            "  --follow          replicate continuously (see above)\n"
            "  --batch N         keys per SCAN batch (default 1000)\n"
            "  --state FILE      resume file (default: DATADIR/lodis-migrate-copy.state, or\n"
            "                    ./lodis-migrate-copy-HOST-PORT.state for a lodis:// target;\n"
            "                    'follow' instead of 'copy' with --follow)\n"
            "  --restart         ignore an existing resume file and copy from the start\n"
            "  --server PATH     lodis-server to run for --follow into a DATADIR (default:\n"
            "                    the one next to lodis-migrate, else from PATH)\n"
            "  -q, --quiet       no progress output\n");
}

void copy_explain_source_error(const copy_opts *o, const char *cmd, const char *reply, char *out,
                               size_t cap) {
    if (!strncmp(reply, "NOPERM", 6))
        snprintf(out, cap, "the source refused %s: %s; give the user the right, e.g. ACL "
                 "SETUSER %s +%s, or copy as another user", cmd, reply,
                 o->src.user[0] ? o->src.user : "default", cmd);
    else if (!strncmp(reply, "NOAUTH", 6))
        snprintf(out, cap, "the source needs a password: redis://[user:]PASSWORD@%s:%d",
                 o->src.host, o->src.port);
    else if (!strncmp(reply, "ERR unknown command", 19))
        snprintf(out, cap, "the source does not support %s (%s)%s", cmd, reply,
                 !strcmp(cmd, "psync") || !strcmp(cmd, "replconf")
                     ? ": --follow needs a Redis 2.8 or later source; copy without --follow"
                     : "");
    else
        snprintf(out, cap, "the source replied to %s: %s", cmd, reply);
}

/* ---- the resume file --------------------------------------------------- */

typedef struct cstate {
    char cursor[MAX_DBS][32]; /* "" = not started */
    int done[MAX_DBS];
} cstate;

static int state_load(const copy_opts *o, cstate *st, char *err, size_t cap) {
    memset(st, 0, sizeof *st);
    FILE *f = fopen(o->state, "r");
    if (!f) return errno == ENOENT ? 0 : (snprintf(err, cap, "%s: %s", o->state,
                                                   strerror(errno)), -1);
    char line[512], src[300];
    snprintf(src, sizeof src, "source %s:%d", o->src.host, o->src.port);
    int ok = fgets(line, sizeof line, f) && !strcmp(line, "lodis-migrate copy state 1\n");
    if (ok) ok = fgets(line, sizeof line, f) && !strncmp(line, src, strlen(src)) &&
                 line[strlen(src)] == '\n';
    if (!ok) {
        fclose(f);
        snprintf(err, cap, "%s is the resume file of another copy (not from %s:%d); remove it, "
                 "give another --state, or add --restart", o->state, o->src.host, o->src.port);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        int db;
        char cur[32];
        if (sscanf(line, "db %d done", &db) == 1 && strstr(line, "done") && db >= 0 &&
            db < MAX_DBS)
            st->done[db] = 1;
        else if (sscanf(line, "db %d cursor %31s", &db, cur) == 2 && db >= 0 && db < MAX_DBS)
            snprintf(st->cursor[db], sizeof st->cursor[db], "%s", cur);
    }
    fclose(f);
    return 1;
}

static int state_save(const copy_opts *o, const cstate *st, char *err, size_t cap) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", o->state);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, cap, "cannot write the resume file %.400s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "lodis-migrate copy state 1\nsource %s:%d\n", o->src.host, o->src.port);
    for (int db = 0; db < MAX_DBS; db++) {
        if (st->done[db]) fprintf(f, "db %d done\n", db);
        else if (st->cursor[db][0]) fprintf(f, "db %d cursor %s\n", db, st->cursor[db]);
    }
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, o->state) != 0) {
        snprintf(err, cap, "cannot write the resume file %.400s: %s", o->state, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- the copy --------------------------------------------------------- */

/* How often the resume point is made durable and saved: each save costs a
 * synced checkpoint of a directory target (at 1 s: +40% time on 1M keys). */
#define SAVE_EVERY_MS 5000

typedef struct copier {
    const copy_opts *o;
    rconn *c;
    sink *k;
    progress pr;
    uint64_t keys, bytes, vanished;
    int64_t saved_ms; /* when the resume file was last written */
    char err[8192];
} copier;

/* Whether the source's reply r to `what` failed: no reply (the connection's
 * error) or an error reply (explained, and r freed); cp->err says which. */
static int source_failed(copier *cp, rreply *r, const char *what) {
    if (!r) {
        snprintf(cp->err, sizeof cp->err, "source: %s", cp->c->err);
        return 1;
    }
    if (r->type != '-') return 0;
    copy_explain_source_error(cp->o, what, r->s, cp->err, sizeof cp->err);
    rreply_free(r);
    return 1;
}

/* INFO keyspace: which databases hold keys, and how many. */
static int source_dbs(copier *cp, uint64_t counts[MAX_DBS]) {
    memset(counts, 0, sizeof(uint64_t) * MAX_DBS);
    rreply *r = rc_cmd(cp->c, 2, "INFO", "keyspace");
    if (source_failed(cp, r, "info")) return -1;
    for (char *p = r->s; p && (p = strstr(p, "db")); p++) {
        int db;
        unsigned long long n;
        if ((p == r->s || p[-1] == '\n') && sscanf(p, "db%d:keys=%llu", &db, &n) == 2 &&
            db >= 0 && db < MAX_DBS)
            counts[db] = n;
    }
    rreply_free(r);
    return 0;
}

static int copy_functions(copier *cp) {
    rreply *r = rc_cmd(cp->c, 3, "FUNCTION", "LIST", "WITHCODE");
    if (!r) {
        snprintf(cp->err, sizeof cp->err, "source: %s", cp->c->err);
        return -1;
    }
    int n = 0;
    if (r->type == '*') {
        for (long long i = 0; i < r->n; i++) {
            rreply *lib = &r->el[i];
            const char *name = NULL, *code = NULL;
            size_t clen = 0;
            for (long long j = 0; lib->type == '*' && j + 1 < lib->n; j += 2) {
                rreply *kk = &lib->el[j], *v = &lib->el[j + 1];
                if (!kk->s) continue;
                if (!strcmp(kk->s, "library_name") && v->s) name = v->s;
                if (!strcmp(kk->s, "library_code") && v->s) code = v->s, clen = v->len;
            }
            if (name && code) {
                if (sink_function(cp->k, name, code, clen) != 0) {
                    snprintf(cp->err, sizeof cp->err, "%s", sink_err(cp->k));
                    rreply_free(r);
                    return -1;
                }
                n++;
            }
        }
    }
    /* An error (Redis before 7.0 has no functions, or no permission) means
     * there is nothing we can copy: not fatal. */
    if (r->type == '-' && strncmp(r->s, "ERR unknown", 11) && !cp->o->quiet)
        mig_err("copy: function libraries not copied: %s", r->s);
    rreply_free(r);
    return n;
}

/* Read one reply of the source or fail with a message. */
static rreply *src_reply(copier *cp) {
    rreply *r = rc_read(cp->c);
    if (!r) snprintf(cp->err, sizeof cp->err, "source: %s", cp->c->err);
    return r;
}

/* Everything applied so far made durable, then the resume file written. */
static int save_point(copier *cp, const cstate *st) {
    if (sink_durable(cp->k) != 0) {
        snprintf(cp->err, sizeof cp->err, "%s", sink_err(cp->k));
        return -1;
    }
    cp->saved_ms = mig_wall_ms();
    return state_save(cp->o, st, cp->err, sizeof cp->err);
}

/* Read a SCAN reply: 0 ok (*out: [cursor, keys]), -1 error. */
static int scan_reply(copier *cp, rreply **out) {
    rreply *r = src_reply(cp);
    if (!r) return -1;
    if (r->type == '-') {
        copy_explain_source_error(cp->o, "scan", r->s, cp->err, sizeof cp->err);
        rreply_free(r);
        return -1;
    }
    if (r->type != '*' || r->n != 2 || r->el[0].type != '$' || r->el[1].type != '*') {
        snprintf(cp->err, sizeof cp->err, "source: SCAN gave an unexpected reply");
        rreply_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* Queue DUMP + PTTL for every key a SCAN reply named, then the next SCAN
 * (unless the cursor is back at 0). */
static void ask_batch(copier *cp, const rreply *scan, const char *count) {
    const rreply *keys = &scan->el[1];
    for (long long i = 0; i < keys->n; i++) {
        const rreply *key = &keys->el[i];
        const char *a1[] = {"DUMP", key->s}, *a2[] = {"PTTL", key->s};
        size_t l1[] = {4, key->len}, l2[] = {4, key->len};
        rc_append(cp->c, 2, a1, l1);
        rc_append(cp->c, 2, a2, l2);
    }
    if (strcmp(scan->el[0].s, "0")) rc_appendv(cp->c, 4, "SCAN", scan->el[0].s, "COUNT", count);
}

/* Read the DUMP and PTTL replies of a batch (2 per key) into r[]. */
static int read_batch(copier *cp, long long n, rreply **r) {
    for (long long i = 0; i < 2 * n; i++) {
        r[i] = src_reply(cp);
        if (!r[i]) return -1;
        if (r[i]->type == '-') {
            copy_explain_source_error(cp->o, i % 2 ? "pttl" : "dump", r[i]->s, cp->err,
                                      sizeof cp->err);
            return -1;
        }
    }
    return 0;
}

/* Hand a batch to the sink. t0: when its PTTLs were asked (at most one
 * round trip before they ran: an absolute expiry at most that early). */
static int apply_batch(copier *cp, int db, const rreply *keys, rreply **r, int64_t t0) {
    for (long long i = 0; i < keys->n; i++) {
        const rreply *dump = r[2 * i], *ttl = r[2 * i + 1];
        if (dump->type == 0 || ttl->type != ':' || ttl->n == -2) {
            cp->vanished++; /* deleted or expired since SCAN saw it */
            continue;
        }
        int64_t exp = ttl->n >= 0 ? t0 + ttl->n : 0;
        if (sink_restore(cp->k, db, keys->el[i].s, keys->el[i].len, dump->s, dump->len, exp)) {
            snprintf(cp->err, sizeof cp->err, "%s", sink_err(cp->k));
            return -1;
        }
        cp->keys++;
        cp->bytes += dump->len;
    }
    return 0;
}

/* One database, one batch in flight ahead: while the sink writes batch i,
 * the source already computes the DUMPs of batch i+1. The resume point
 * saved after batch i is the cursor that came with it. */
static int copy_db(copier *cp, int db, cstate *st) {
    char d[16];
    snprintf(d, sizeof d, "%d", db);
    rreply *r = rc_cmd(cp->c, 2, "SELECT", d);
    if (source_failed(cp, r, "select")) return -1;
    rreply_free(r);
    char count[24];
    snprintf(count, sizeof count, "%ld", cp->o->batch);
    rc_appendv(cp->c, 4, "SCAN", st->cursor[db][0] ? st->cursor[db] : "0", "COUNT", count);
    rreply *cur = NULL, *next = NULL, **rep = NULL;
    size_t repcap = 0;
    long long nrep = 0;
    int status = -1;
    if (scan_reply(cp, &cur) != 0) goto out;
    int64_t t0 = mig_wall_ms();
    ask_batch(cp, cur, count);
    for (;;) {
        long long n = cur->el[1].n;
        if ((size_t)(2 * n) > repcap) {
            repcap = (size_t)(2 * n);
            free(rep);
            rep = calloc(repcap, sizeof *rep);
            if (!rep) {
                snprintf(cp->err, sizeof cp->err, "out of memory");
                goto out;
            }
        }
        nrep = 2 * n;
        if (read_batch(cp, n, rep) != 0) goto out;
        int last = !strcmp(cur->el[0].s, "0");
        int64_t t1 = t0;
        if (!last) {
            if (scan_reply(cp, &next) != 0) goto out;
            t1 = mig_wall_ms();
            ask_batch(cp, next, count);
            if (rc_write(cp->c, 1) != 0) {
                snprintf(cp->err, sizeof cp->err, "source: %s", cp->c->err);
                goto out;
            }
        }
        if (apply_batch(cp, db, &cur->el[1], rep, t0) != 0) goto out;
        for (long long i = 0; i < nrep; i++) rreply_free(rep[i]), rep[i] = NULL;
        nrep = 0;
        if (sink_sync(cp->k) != 0) {
            snprintf(cp->err, sizeof cp->err, "%s", sink_err(cp->k));
            goto out;
        }
        if (last) st->done[db] = 1;
        else snprintf(st->cursor[db], sizeof st->cursor[db], "%s", cur->el[0].s);
        if (mig_wall_ms() - cp->saved_ms >= SAVE_EVERY_MS && save_point(cp, st) != 0) goto out;
        progress_update(&cp->pr, cp->keys, cp->bytes);
        rreply_free(cur);
        cur = next;
        next = NULL;
        t0 = t1;
        if (last) {
            status = 0;
            break;
        }
        if (mig_interrupted) {
            status = 1;
            break;
        }
    }
out:
    for (long long i = 0; i < nrep; i++) rreply_free(rep[i]);
    free(rep);
    rreply_free(cur);
    rreply_free(next);
    /* A batch asked but not read is left on the connection: only an error
     * or Ctrl-C gets here with one, and the connection is then closed. */
    return status;
}

static int parse_args(int argc, char **argv, copy_opts *o, int *follow) {
    static char defstate[600];
    o->batch = 1000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--from") && more) o->from = argv[++i];
        else if (!strcmp(a, "--to") && more) o->to = argv[++i];
        else if (!strcmp(a, "--state") && more) o->state = argv[++i];
        else if (!strcmp(a, "--server") && more) o->server = argv[++i];
        else if (!strcmp(a, "--follow")) *follow = 1;
        else if (!strcmp(a, "--restart")) o->restart = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->quiet = 1;
        else if (!strcmp(a, "--batch") && more) {
            char *end;
            o->batch = strtol(argv[++i], &end, 10);
            if (*end || o->batch < 1 || o->batch > 100000) {
                mig_err("copy: --batch takes 1..100000 keys");
                return -1;
            }
        } else {
            mig_err("copy: unexpected argument '%s'; see 'lodis-migrate copy --help'", a);
            return -1;
        }
    }
    if (!o->from || !o->to) {
        usage(stderr);
        return -1;
    }
    char err[600];
    if (mig_url_parse(o->from, &o->src, err, sizeof err) != 0) {
        mig_err("copy: --from: %s", err);
        return -1;
    }
    if (strcmp(o->src.scheme, "redis") && strcmp(o->src.scheme, "lodis")) {
        mig_err("copy: --from takes redis://host:port, not %s://", o->src.scheme);
        return -1;
    }
    if (o->src.db >= MAX_DBS) {
        mig_err("copy: --from: database %d out of range (0..%d)", o->src.db, MAX_DBS - 1);
        return -1;
    }
    if (*follow && o->src.db >= 0) {
        mig_err("copy: --follow replicates every database; drop the /%d from --from",
                o->src.db);
        return -1;
    }
    if (!o->state) {
        if (strstr(o->to, "://")) {
            mig_url t;
            if (mig_url_parse(o->to, &t, err, sizeof err) != 0) {
                mig_err("copy: --to: %s", err);
                return -1;
            }
            snprintf(defstate, sizeof defstate, "lodis-migrate-%s-%s-%d.state",
                     *follow ? "follow" : "copy", t.host, t.port);
        } else {
            snprintf(defstate, sizeof defstate, "%s/lodis-migrate-%s.state", o->to,
                     *follow ? "follow" : "copy");
        }
        o->state = defstate;
    }
    return 0;
}

int mig_cmd_copy(int argc, char **argv) {
    if (mig_wants_help(argc, argv)) {
        usage(stdout);
        return MIG_EXIT_OK;
    }
    copy_opts o = {0};
    int follow = 0;
    if (parse_args(argc, argv, &o, &follow) != 0) return MIG_EXIT_USAGE;
    mig_trap_signals();
    rconn c;
    if (rc_open_url(&c, &o.src, 60000) != 0) {
        mig_err("copy: source: %s", c.err);
        rc_close(&c);
        return MIG_EXIT_FAIL;
    }
    if (follow) {
        int st = copy_follow(&o, &c);
        rc_close(&c);
        return st;
    }
    copier *cp = calloc(1, sizeof *cp);
    cstate *st = calloc(1, sizeof *st);
    int status = MIG_EXIT_FAIL;
    if (!cp || !st) goto out;
    cp->o = &o;
    cp->c = &c;
    char err[8192];
    cp->k = sink_open(o.to, err, sizeof err);
    if (!cp->k) {
        mig_err("copy: %s", err);
        goto out;
    }
    int resumed = 0;
    if (!o.restart) {
        resumed = state_load(&o, st, cp->err, sizeof cp->err);
        if (resumed < 0) goto fail;
    }
    if (resumed && !o.quiet) mig_err("copy: resuming from %s", o.state);
    uint64_t counts[MAX_DBS], total = 0;
    if (source_dbs(cp, counts) != 0) goto fail;
    for (int db = 0; db < MAX_DBS; db++)
        if ((o.src.db < 0 || o.src.db == db) && !st->done[db]) total += counts[db];
    int libs = copy_functions(cp);
    if (libs < 0) goto fail;
    progress_start(&cp->pr, "copy", total, o.quiet);
    for (int db = 0; db < MAX_DBS; db++) {
        if (o.src.db >= 0 ? db != o.src.db : counts[db] == 0) continue;
        if (st->done[db]) continue;
        int rc = copy_db(cp, db, st);
        if (rc < 0) goto fail;
        if (rc > 0) break;
    }
    if (mig_interrupted) {
        if (save_point(cp, st) != 0) goto fail; /* the batches applied count */
        if (cp->pr.drawn && cp->pr.tty) fputc('\n', stderr);
        mig_err("copy: interrupted after %llu keys; run the same command again to resume "
                "(state in %s)", (unsigned long long)cp->keys, o.state);
        goto out;
    }
    if (sink_sync(cp->k) != 0) {
        snprintf(cp->err, sizeof cp->err, "%s", sink_err(cp->k));
        goto fail;
    }
    progress_done(&cp->pr);
    unlink(o.state);
    if (!o.quiet)
        fprintf(stderr, "copy: %llu keys, %d function libraries from %s:%d to %s (%llu vanished "
                "during the copy, %llu refused by the target)\n",
                (unsigned long long)cp->keys, libs, o.src.host, o.src.port, o.to,
                (unsigned long long)cp->vanished,
                (unsigned long long)sink_key_errors(cp->k));
    status = sink_key_errors(cp->k) ? MIG_EXIT_FAIL : MIG_EXIT_OK;
    goto out;
fail:
    if (cp->pr.drawn && cp->pr.tty) fputc('\n', stderr);
    if (mig_interrupted && save_point(cp, st) == 0) /* Ctrl-C while waiting for a reply */
        mig_err("copy: interrupted after %llu keys; run the same command again to resume "
                "(state in %s)", (unsigned long long)cp->keys, o.state);
    else
        mig_err("copy: %s%s", cp->err, access(o.state, F_OK) == 0
                                           ? "; the copy resumes when run again" : "");
out:
    if (cp) sink_close(cp->k);
    rc_close(&c);
    free(cp);
    free(st);
    return status;
}
