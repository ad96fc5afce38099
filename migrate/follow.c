/* follow.c — lodis-migrate copy --follow: attach to the source as a
 * replica and keep the target in sync until SIGINT/SIGTERM.
 *
 * 1. Handshake as Redis's replicas do: REPLCONF listening-port, REPLCONF
 *    capa eof capa psync2, PSYNC ? -1 -> +FULLRESYNC <replid> <offset>.
 * 2. The snapshot: "$<len>\r\n" + len bytes (disk-based), or "$EOF:<40-byte
 *    mark>\r\n" + bytes ending with the mark (diskless), spooled to a file.
 *    Newlines before it are the source's keep-alives.
 * 3. Load it with storage/'s RDB file loader: straight into DATADIR, or, for
 *    a lodis:// target, into a scratch directory whose keys then go to the
 *    target as DUMP payloads (RESTORE REPLACE ABSTTL, sink.h). While loading,
 *    the stream that arrives is kept in memory (the source would otherwise
 *    drop a replica whose buffer outgrows its limits).
 * 4. The stream: each command (a RESP array; SELECT included) is forwarded
 *    byte for byte over one pipelined connection to the target: the lodis
 *    given, or a private lodis-server started on DATADIR. REPLCONF GETACK is
 *    answered, not forwarded; the source's PINGs are not forwarded. The
 *    offset reported (REPLCONF ACK, every second and on GETACK) is that of
 *    the last command whose reply came back from the target, so "offsets
 *    match" means the target holds every write the source made. */
#include "migrate/migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "migrate/copy.h"
#include "migrate/progress.h"
#include "migrate/sink.h"
#include "storage/keyspace.h"
#include "storage/rdb.h"
#include "storage/rdb_file.h"

#define ACK_EVERY_MS 1000
#define OUT_MAX      (64u << 20) /* bytes queued for the target before we stop reading */
#define PENDING_MAX  1000000     /* commands awaiting the target's reply, likewise */
#define MAX_SHOWN    10

typedef struct follower {
    const copy_opts *o;
    rconn *src;
    rconn t;
    pid_t child;
    char replid[41];
    long long offset0;   /* from +FULLRESYNC */
    uint64_t processed;  /* stream bytes parsed */
    uint64_t applied;    /* stream bytes whose commands the target answered */
    uint64_t *fifo;      /* end offsets of commands awaiting a reply */
    size_t fhead, ftail, fcap;
    uint64_t cmds, errors;
    progress pr;
    char err[16384]; /* room for paths in messages */
} follower;

/* ---- where a clean stop left off (partial resynchronisation) ----------
 * Written only after a clean stop (every forwarded command answered, the
 * private server stopped and checkpointed, no command refused) and removed
 * when a run starts: so a crash or kill never leaves an offset the target
 * may have gone past, which would apply commands twice. */

static int fstate_take(follower *f, char *replid, long long *off) {
    FILE *fp = fopen(f->o->state, "r");
    if (!fp) return 0;
    char line[512], src[300];
    snprintf(src, sizeof src, "source %s:%d\n", f->o->src.host, f->o->src.port);
    int ok = fgets(line, sizeof line, fp) && !strcmp(line, "lodis-migrate follow state 1\n") &&
             fgets(line, sizeof line, fp) && !strcmp(line, src) &&
             fscanf(fp, "replid %40s offset %lld", replid, off) == 2 && strlen(replid) == 40;
    fclose(fp);
    unlink(f->o->state);
    return ok;
}

static void fstate_save(follower *f) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->o->state);
    FILE *fp = fopen(tmp, "w");
    if (!fp) return;
    fprintf(fp, "lodis-migrate follow state 1\nsource %s:%d\nreplid %s offset %lld\n",
            f->o->src.host, f->o->src.port, f->replid, f->offset0 + (long long)f->applied);
    int bad = fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    bad |= fclose(fp) != 0;
    if (bad || rename(tmp, f->o->state) != 0) unlink(tmp);
}

static void explain(follower *f, const char *cmd, const char *reply) {
    copy_explain_source_error(f->o, cmd, reply, f->err, sizeof f->err);
}

/* One line (up to \r\n) from the source, skipping keep-alive newlines. */
static int read_line(follower *f, char *out, size_t cap) {
    rconn *c = f->src;
    for (;;) {
        while (c->ipos < c->ilen && c->in[c->ipos] == '\n') c->ipos++;
        uint8_t *nl = c->ipos < c->ilen ? memchr(c->in + c->ipos, '\n', c->ilen - c->ipos) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - (c->in + c->ipos));
            if (n && nl[-1] == '\r') n--;
            if (n >= cap) n = cap - 1;
            memcpy(out, c->in + c->ipos, n);
            out[n] = 0;
            c->ipos = (size_t)(nl - c->in) + 1;
            return 0;
        }
        if (mig_interrupted) {
            snprintf(f->err, sizeof f->err, "interrupted");
            return -1;
        }
        int rc = rc_fill(c, 1000);
        if (rc < 0) {
            snprintf(f->err, sizeof f->err, "source: %s", c->err);
            return -1;
        }
    }
}

/* 1: +CONTINUE (partial), 0: +FULLRESYNC, -1 error. */
static int handshake(follower *f, const char *replid, long long off) {
    static const char *steps[][4] = {{"REPLCONF", "listening-port", "0", NULL},
                                     {"REPLCONF", "capa", "eof", "capa"}};
    for (int i = 0; i < 2; i++) {
        rreply *r = i == 0 ? rc_cmd(f->src, 3, steps[0][0], steps[0][1], steps[0][2])
                           : rc_cmd(f->src, 5, "REPLCONF", "capa", "eof", "capa", "psync2");
        if (!r) {
            snprintf(f->err, sizeof f->err, "source: %s", f->src->err);
            return -1;
        }
        if (r->type == '-') {
            explain(f, "replconf", r->s);
            rreply_free(r);
            return -1;
        }
        rreply_free(r);
    }
    char next[32];
    snprintf(next, sizeof next, "%lld", off + 1); /* the first byte we need */
    if (replid) rc_appendv(f->src, 3, "PSYNC", replid, next);
    else rc_appendv(f->src, 3, "PSYNC", "?", "-1");
    if (rc_write(f->src, 1) != 0) {
        snprintf(f->err, sizeof f->err, "source: %s", f->src->err);
        return -1;
    }
    char line[512];
    if (read_line(f, line, sizeof line) != 0) return -1;
    if (line[0] == '-') {
        explain(f, "psync", line + 1);
        return -1;
    }
    if (replid && !strncmp(line, "+CONTINUE", 9)) {
        snprintf(f->replid, sizeof f->replid, "%s", replid);
        if (line[9] == ' ' && strlen(line + 10) == 40) memcpy(f->replid, line + 10, 40);
        f->offset0 = off;
        return 1;
    }
    if (sscanf(line, "+FULLRESYNC %40s %lld", f->replid, &f->offset0) != 2) {
        snprintf(f->err, sizeof f->err, "source answered PSYNC with '%.200s' (expected "
                 "+FULLRESYNC)", line);
        return -1;
    }
    return 0;
}

/* Receive the snapshot into path. */
static int receive_rdb(follower *f, const char *path) {
    char line[512];
    if (read_line(f, line, sizeof line) != 0) return -1;
    if (line[0] == '-') {
        explain(f, "psync", line + 1);
        return -1;
    }
    int eof_form = !strncmp(line, "$EOF:", 5);
    char mark[41] = "";
    long long len = -1;
    if (eof_form) {
        if (strlen(line) != 45) goto bad;
        memcpy(mark, line + 5, 40);
    } else {
        char *end;
        if (line[0] != '$') goto bad;
        len = strtoll(line + 1, &end, 10);
        if (*end || len < 0) goto bad;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(f->err, sizeof f->err, "%s: %s", path, strerror(errno));
        return -1;
    }
    rconn *c = f->src;
    uint64_t got = 0;
    char tail[40];
    size_t tl = 0; /* the last bytes written, to find the mark */
    progress_start(&f->pr, "follow: receiving the snapshot", 0, 1);
    f->pr.bytes_only = 1;
    f->pr.quiet = f->o->quiet;
    for (;;) {
        size_t avail = c->ilen - c->ipos;
        if (!eof_form && (long long)(got + avail) > len) avail = (size_t)(len - (long long)got);
        if (avail) {
            const uint8_t *p = c->in + c->ipos;
            for (size_t w = 0; w < avail;) {
                ssize_t n = write(fd, p + w, avail - w);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) {
                    snprintf(f->err, sizeof f->err, "writing %s: %s", path, strerror(errno));
                    close(fd);
                    return -1;
                }
                w += (size_t)n;
            }
            if (eof_form) {
                /* the mark ends the transfer: the source sends nothing more
                 * until our first ACK */
                if (avail >= 40) {
                    memcpy(tail, p + avail - 40, 40);
                    tl = 40;
                } else {
                    size_t keep = tl + avail > 40 ? 40 - avail : tl;
                    memmove(tail, tail + tl - keep, keep);
                    memcpy(tail + keep, p, avail);
                    tl = keep + avail;
                }
            }
            c->ipos += avail;
            got += avail;
            progress_update(&f->pr, 0, got);
        }
        if (!eof_form && (long long)got == len) break;
        if (eof_form && tl == 40 && !memcmp(tail, mark, 40)) {
            if (ftruncate(fd, (off_t)(got - 40)) != 0) {
                snprintf(f->err, sizeof f->err, "%s: %s", path, strerror(errno));
                close(fd);
                return -1;
            }
            got -= 40;
            break;
        }
        if (mig_interrupted) {
            close(fd);
            snprintf(f->err, sizeof f->err, "interrupted while receiving the snapshot");
            return -1;
        }
        if (rc_fill(c, 1000) < 0) {
            close(fd);
            snprintf(f->err, sizeof f->err, "source: %s (while receiving the snapshot)", c->err);
            return -1;
        }
    }
    int bad = fsync(fd) != 0;
    bad |= close(fd) != 0;
    if (bad) {
        snprintf(f->err, sizeof f->err, "%s: %s", path, strerror(errno));
        return -1;
    }
    f->pr.bytes = got;
    progress_done(&f->pr);
    return 0;
bad:
    snprintf(f->err, sizeof f->err, "unexpected snapshot header from the source: '%.100s'", line);
    return -1;
}

static int send_ack(follower *f) {
    char off[32];
    snprintf(off, sizeof off, "%lld", f->offset0 + (long long)f->applied);
    rc_appendv(f->src, 3, "REPLCONF", "ACK", off);
    if (rc_write(f->src, 0) != 0) {
        snprintf(f->err, sizeof f->err, "source: %s", f->src->err);
        return -1;
    }
    return 0;
}

/* While loading: keep reading the stream into memory. */
static int keep_reading(follower *f) {
    for (int i = 0; i < 64; i++) {
        int n = rc_fill(f->src, 0);
        if (n < 0) {
            snprintf(f->err, sizeof f->err, "source: %s (while loading the snapshot)",
                     f->src->err);
            return -1;
        }
        if (n == 0) break;
    }
    return 0;
}

typedef struct loader {
    follower *f;
    store *s;
    ks *k;
    int rc;
} loader;

static int load_progress(void *ud, const rdb_file_stats *st, uint64_t total) {
    loader *l = ud;
    (void)total;
    int rc = mig_tick(l->s, l->k);
    progress_update(&l->f->pr, st->keys, st->bytes);
    if (rc) l->rc = rc;
    if (keep_reading(l->f) != 0) l->rc = ST_IO;
    return l->rc || mig_interrupted;
}

/* Load the snapshot file into the store in dir (created if missing). */
static int load_into(follower *f, const char *dir, const char *rdbpath, loader *l, int keep) {
    store_opts so;
    store_opts_default(&so);
    so.dir = dir;
    so.fsync = ST_FSYNC_NO; /* the closing checkpoint is synced */
    so.memtable_budget = 128u << 20;
    so.log = mig_store_log;
    int rc;
    char err[600] = "";
    memset(l, 0, sizeof *l);
    l->f = f;
    l->s = store_open(&so, &rc, err, sizeof err);
    if (!l->s) {
        snprintf(f->err, sizeof f->err, "%s%s", err,
                 rc == ST_BUSY ? " (a lodis-server is using it: follow into lodis://host:port "
                                 "instead, or stop that server)" : "");
        return -1;
    }
    l->k = ks_open(l->s, KS_MAX_DBS, &rc);
    if (!l->k) {
        snprintf(f->err, sizeof f->err, "cannot open the keyspace of %s: %s", dir,
                 store_strerror(rc));
        store_close(l->s);
        return -1;
    }
    rdb_limits lim;
    rdb_limits_default(&lim);
    rdb_load_opts o = {.lim = &lim, .replace = 1, .every = 2000, .progress = load_progress,
                       .ud = l};
    rdb_file_stats st;
    ks_set_now(l->k, mig_wall_ms());
    progress_start(&f->pr, "follow: loading the snapshot", 0, f->o->quiet);
    rc = rdb_file_load_path(l->k, rdbpath, &o, &st, err, sizeof err);
    if (rc == ST_OK && l->rc) {
        rc = l->rc;
        snprintf(err, sizeof err, "%.500s", f->err[0] ? f->err : store_strerror(rc));
    }
    if (rc == ST_OK && mig_interrupted) {
        rc = ST_INVALID;
        snprintf(err, sizeof err, "interrupted");
    }
    if (rc == ST_OK) rc = load_progress(l, &st, 0) ? ST_IO : ST_OK;
    if (rc != ST_OK) {
        snprintf(f->err, sizeof f->err, "loading the snapshot: %s", err);
    } else {
        progress_done(&f->pr);
    }
    if (!keep || rc != ST_OK) {
        ks_close(l->k);
        store_close(l->s);
        l->k = NULL;
        l->s = NULL;
    }
    return rc == ST_OK ? 0 : -1;
}

/* lodis:// target: every key of the scratch store as RESTORE ... REPLACE. */
typedef struct pusher {
    follower *f;
    ks *k;
    sink *sk;
    int db;
    rdb_limits lim;
    rdb_buf b;
    uint64_t keys;
    int failed;
} pusher;

static int push_key(void *ud, const uint8_t *key, size_t klen, const ks_meta *m) {
    pusher *p = ud;
    p->b.len = 0;
    int rc = rdb_dump_payload(p->k, m, &p->lim, &p->b);
    if (rc != ST_OK || p->b.oom) {
        snprintf(p->f->err, sizeof p->f->err, "encoding a key: %s", store_strerror(rc));
        p->failed = 1;
        return 1;
    }
    if (sink_restore(p->sk, p->db, key, klen, p->b.p, p->b.len, m->expire) != 0) {
        snprintf(p->f->err, sizeof p->f->err, "%s", sink_err(p->sk));
        p->failed = 1;
        return 1;
    }
    if (++p->keys % 1000 == 0) {
        progress_update(&p->f->pr, p->keys, 0);
        if (keep_reading(p->f) != 0) {
            p->failed = 1;
            return 1;
        }
    }
    return mig_interrupted;
}

static int push_scratch(follower *f, loader *l) {
    char err[1024];
    sink *sk = sink_open(f->o->to, err, sizeof err);
    if (!sk) {
        snprintf(f->err, sizeof f->err, "%s", err);
        return -1;
    }
    pusher p = {.f = f, .k = l->k, .sk = sk};
    rdb_limits_default(&p.lim);
    ks_set_now(l->k, mig_wall_ms());
    progress_start(&f->pr, "follow: restoring the snapshot", 0, f->o->quiet);
    for (int db = 0; db < KS_MAX_DBS && !p.failed && !mig_interrupted; db++) {
        if (ks_dbsize(l->k, db) == 0) continue;
        p.db = db;
        uint8_t cur[512];
        size_t curlen = 0;
        int done = 0;
        int rc = ks_scan(l->k, db, cur, &curlen, sizeof cur, LONG_MAX, push_key, &p, &done);
        if (rc != ST_OK && !p.failed) {
            snprintf(f->err, sizeof f->err, "reading the snapshot: %s", store_strerror(rc));
            p.failed = 1;
        }
    }
    store_cursor *c;
    if (!p.failed && store_cursor_open(l->s, ST_DBI_INFO, &c) == ST_OK) {
        const uint8_t *k, *v;
        size_t kl, vl;
        for (int rc = store_cursor_seek(c, "fn:", 3); rc == ST_OK; rc = store_cursor_next(c)) {
            if (store_cursor_get(c, &k, &kl, &v, &vl) != ST_OK || kl < 3 || memcmp(k, "fn:", 3))
                break;
            char name[512];
            snprintf(name, sizeof name, "%.*s", (int)(kl - 3), (const char *)k + 3);
            if (sink_function(sk, name, (const char *)v, vl) != 0) {
                snprintf(f->err, sizeof f->err, "%s", sink_err(sk));
                p.failed = 1;
                break;
            }
        }
        store_cursor_close(c);
    }
    if (!p.failed && sink_sync(sk) != 0) {
        snprintf(f->err, sizeof f->err, "%s", sink_err(sk));
        p.failed = 1;
    }
    if (!p.failed && sink_key_errors(sk)) mig_err("copy: %llu keys of the snapshot refused by "
                                                  "the target", (unsigned long long)
                                                  sink_key_errors(sk));
    rdb_buf_free(&p.b);
    sink_close(sk);
    if (mig_interrupted && !p.failed) snprintf(f->err, sizeof f->err, "interrupted");
    if (p.failed || mig_interrupted) return -1;
    f->pr.keys = p.keys;
    progress_done(&f->pr);
    return 0;
}

/* ---- the private lodis-server for a DATADIR target -------------------- */

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

static void server_binary(const copy_opts *o, char *out, size_t cap) {
    if (o->server) {
        snprintf(out, cap, "%s", o->server);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            snprintf(out, cap, "%.*s/lodis-server", (int)(slash - self), self);
            if (access(out, X_OK) == 0) return;
        }
    }
    snprintf(out, cap, "lodis-server");
}

/* Before a long load: is there a lodis-server to run afterwards? */
static int server_runnable(const copy_opts *o, char *bin, size_t cap) {
    server_binary(o, bin, cap);
    if (strchr(bin, '/')) return access(bin, X_OK) == 0;
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        char full[2 * PATH_MAX + 64];
        snprintf(full, sizeof full, "%.*s/%s", (int)n, path, bin);
        if (n && access(full, X_OK) == 0) return 1;
        path = end ? end + 1 : NULL;
    }
    return 0;
}

static int start_server(follower *f, const char *dir) {
    char bin[PATH_MAX + 32], logp[PATH_MAX + 32], ps[16];
    server_binary(f->o, bin, sizeof bin);
    snprintf(logp, sizeof logp, "%s/follow-server.log", dir);
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = free_port();
        if (port < 0) break;
        snprintf(ps, sizeof ps, "%d", port);
        pid_t pid = fork();
        if (pid < 0) break;
        if (pid == 0) {
            /* its own session: a Ctrl-C for lodis-migrate must not reach it;
             * we stop it ourselves once the stream is applied */
            setsid();
            int lf = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
            int nul = open("/dev/null", O_RDONLY);
            if (lf >= 0) dup2(lf, 1), dup2(lf, 2);
            if (nul >= 0) dup2(nul, 0);
            execlp(bin, bin, "--port", ps, "--bind", "127.0.0.1", "--dir", dir, "--daemonize",
                   "no", (char *)NULL);
            fprintf(stderr, "lodis-migrate: cannot run %s: %s\n", bin, strerror(errno));
            _exit(127);
        }
        f->child = pid;
        for (int i = 0; i < 300; i++) { /* up to 30 s: the store replays its log */
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                f->child = 0;
                if (WIFEXITED(st) && WEXITSTATUS(st) == 127) { /* exec failed: no retry */
                    snprintf(f->err, sizeof f->err, "cannot run %s (not beside lodis-migrate, "
                             "nor in PATH?): give --server PATH", bin);
                    return -1;
                }
                break;
            }
            if (rc_connect(&f->t, "127.0.0.1", port, 1000) == 0) {
                rreply *r = rc_cmd(&f->t, 1, "PING");
                int ok = r && r->type == '+';
                rreply_free(r);
                if (ok) return 0;
            }
            rc_close(&f->t);
            usleep(100000);
        }
        if (f->child) {
            kill(f->child, SIGKILL);
            waitpid(f->child, NULL, 0);
            f->child = 0;
        }
    }
    snprintf(f->err, sizeof f->err, "could not start %s on %s; see %s (or give --server PATH)",
             bin, dir, logp);
    return -1;
}

/* 0 when it exited cleanly (everything it applied is checkpointed). */
static int stop_server(follower *f) {
    if (!f->child) return 0;
    kill(f->child, SIGTERM); /* lodis-server checkpoints and exits */
    int st = 0;
    for (int i = 0; i < 600; i++) {
        if (waitpid(f->child, &st, WNOHANG) == f->child) {
            f->child = 0;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                mig_err("copy: the private lodis-server exited with status %d; see its log",
                        WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
                return -1;
            }
            return 0;
        }
        usleep(100000);
    }
    mig_err("copy: the private lodis-server did not stop within 60 s; killed (its log "
            "replays on the next start)");
    kill(f->child, SIGKILL);
    waitpid(f->child, NULL, 0);
    f->child = 0;
    return -1;
}

/* ---- the stream -------------------------------------------------------- */

static int fifo_push(follower *f, uint64_t off) {
    if (f->ftail - f->fhead == f->fcap) {
        size_t cap = f->fcap ? f->fcap * 2 : 4096;
        uint64_t *n = malloc(cap * sizeof *n);
        if (!n) return -1;
        for (size_t i = 0; i < f->fcap; i++) n[i] = f->fifo[(f->fhead + i) % f->fcap];
        free(f->fifo);
        f->fifo = n;
        f->ftail = f->ftail - f->fhead;
        f->fhead = 0;
        f->fcap = cap;
    }
    f->fifo[f->ftail++ % f->fcap] = off;
    return 0;
}

static int is_cmd(const rreply *r, const char *name) {
    return r->n >= 1 && r->el[0].type == '$' && !strcasecmp(r->el[0].s, name);
}

/* Parse and forward every whole command the source sent. */
static int forward(follower *f) {
    rconn *c = f->src;
    for (;;) {
        size_t start = c->ipos;
        rreply *r;
        int rc = rc_parse(c, &r);
        if (rc == 0) return 0;
        if (rc < 0 || r->type != '*') {
            if (rc > 0) rreply_free(r);
            snprintf(f->err, sizeof f->err, "the source sent something that is not a command "
                     "at offset %lld", f->offset0 + (long long)f->processed);
            return -1;
        }
        size_t n = c->ipos - start;
        if (is_cmd(r, "REPLCONF")) {
            if (r->n >= 2 && !strcasecmp(r->el[1].s ? r->el[1].s : "", "GETACK")) {
                if (f->ftail == f->fhead) f->applied = f->processed;
                if (send_ack(f) != 0) {
                    rreply_free(r);
                    return -1;
                }
            }
            f->processed += n;
        } else if (is_cmd(r, "PING")) {
            f->processed += n;
        } else {
            rc_append_raw(&f->t, c->in + start, n);
            f->processed += n;
            if (fifo_push(f, f->processed) != 0) {
                rreply_free(r);
                snprintf(f->err, sizeof f->err, "out of memory");
                return -1;
            }
            f->cmds++;
        }
        if (f->ftail == f->fhead) f->applied = f->processed;
        rreply_free(r);
    }
}

static int read_replies(follower *f) {
    for (;;) {
        rreply *r;
        int rc = rc_parse(&f->t, &r);
        if (rc < 0) {
            snprintf(f->err, sizeof f->err, "target: %s", f->t.err);
            return -1;
        }
        if (rc == 0) return 0;
        if (f->ftail == f->fhead) {
            rreply_free(r);
            snprintf(f->err, sizeof f->err, "target: a reply nobody asked for");
            return -1;
        }
        f->applied = f->fifo[f->fhead++ % f->fcap];
        if (r->type == '-' && ++f->errors <= MAX_SHOWN) {
            if (f->pr.tty && f->pr.drawn) fputc('\n', stderr);
            mig_err("copy: the target refused a replicated command: %s", r->s);
        }
        rreply_free(r);
        if (f->ftail == f->fhead) f->applied = f->processed;
    }
}

static void status(follower *f, int force) {
    char line[300];
    uint64_t recv = f->processed + (f->src->ilen - f->src->ipos);
    double el = progress_now() - f->pr.t0;
    snprintf(line, sizeof line,
             "offset %lld, applied %lld, lag %llu bytes, %llu commands (%.0f/s), %llu errors",
             f->offset0 + (long long)recv, f->offset0 + (long long)f->applied,
             (unsigned long long)(recv - f->applied), (unsigned long long)f->cmds,
             el > 0 ? (double)f->cmds / el : 0.0, (unsigned long long)f->errors);
    progress_status(&f->pr, line, force);
}

static int stream(follower *f) {
    progress_start(&f->pr, "follow", 0, 1);
    f->pr.quiet = f->o->quiet;
    int64_t last_ack = 0;
    while (!mig_interrupted) {
        /* Backpressure: a target slower than the source stops our reading
         * (the source then buffers, up to its replica output limit). */
        int room = f->t.olen - f->t.opos < OUT_MAX && f->ftail - f->fhead < PENDING_MAX;
        struct pollfd pf[2] = {{f->src->fd, room ? POLLIN : 0, 0},
                               {f->t.fd, POLLIN | (f->t.olen > f->t.opos ? POLLOUT : 0), 0}};
        int pr = poll(pf, 2, 200);
        if (pr < 0 && errno != EINTR) {
            snprintf(f->err, sizeof f->err, "poll: %s", strerror(errno));
            return -1;
        }
        if (pr > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (rc_fill(f->src, 0) < 0) {
                snprintf(f->err, sizeof f->err, "source: %s (the replication link is lost; run "
                         "again to resynchronise)", f->src->err);
                return -1;
            }
        }
        if (forward(f) != 0) return -1;
        if (rc_write(&f->t, 0) != 0) {
            snprintf(f->err, sizeof f->err, "target: %s", f->t.err);
            return -1;
        }
        if (pr > 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (rc_fill(&f->t, 0) < 0) {
                snprintf(f->err, sizeof f->err, "target: %s", f->t.err);
                return -1;
            }
        }
        if (read_replies(f) != 0) return -1;
        int64_t now = mig_wall_ms();
        if (now - last_ack >= ACK_EVERY_MS) {
            if (send_ack(f) != 0) return -1;
            last_ack = now;
        }
        status(f, 0);
    }
    /* Stopped: let the target answer what it was sent, then a last ACK. */
    if (rc_write(&f->t, 1) != 0) {
        snprintf(f->err, sizeof f->err, "target: %s", f->t.err);
        return -1;
    }
    while (f->ftail != f->fhead) {
        if (rc_fill(&f->t, 5000) <= 0) {
            snprintf(f->err, sizeof f->err, "target: %s", f->t.err[0] ? f->t.err
                     : "no reply within 5 s while stopping");
            return -1;
        }
        if (read_replies(f) != 0) return -1;
    }
    send_ack(f);
    rc_write(f->src, 1);
    status(f, 1);
    if (!f->o->quiet && f->pr.tty) fputc('\n', stderr);
    return 0;
}

static int open_target(follower *f) {
    mig_url u;
    char err[600];
    if (mig_url_parse(f->o->to, &u, err, sizeof err) != 0) {
        snprintf(f->err, sizeof f->err, "target: %s", err);
        return -1;
    }
    if (rc_open_url(&f->t, &u, 60000) != 0) {
        snprintf(f->err, sizeof f->err, "target: %s", f->t.err);
        return -1;
    }
    return 0;
}

int copy_follow(const copy_opts *o, rconn *src) {
    follower *f = calloc(1, sizeof *f);
    if (!f) return MIG_EXIT_FAIL;
    f->o = o;
    f->src = src;
    f->t.fd = -1;
    int to_dir = !strstr(o->to, "://");
    int status = MIG_EXIT_FAIL;
    char rdbpath[PATH_MAX + 64], scratch[PATH_MAX] = "";
    const char *tmp = getenv("TMPDIR");
    if (to_dir) {
        size_t n = strlen(o->to);
        while (n > 1 && o->to[n - 1] == '/') n--;
        snprintf(rdbpath, sizeof rdbpath, "%.*s.follow-%d.rdb", (int)n, o->to, (int)getpid());
        if (mig_target_state(o->to) < 0) {
            snprintf(f->err, sizeof f->err, "%s is not empty and holds no lodis store; choose "
                     "an empty or new directory", o->to);
            goto out;
        }
        char bin[PATH_MAX + 32];
        if (!server_runnable(o, bin, sizeof bin)) {
            snprintf(f->err, sizeof f->err, "cannot find %s to apply the stream to %s (it is "
                     "not beside lodis-migrate, nor in PATH): give --server PATH", bin, o->to);
            goto out;
        }
    } else {
        snprintf(scratch, sizeof scratch, "%s/lodis-migrate-follow-XXXXXX", tmp ? tmp : "/tmp");
        if (!mkdtemp(scratch)) {
            snprintf(f->err, sizeof f->err, "cannot make a scratch directory %s: %s", scratch,
                     strerror(errno));
            scratch[0] = 0;
            goto out;
        }
        snprintf(rdbpath, sizeof rdbpath, "%s/snapshot.rdb", scratch);
    }
    char oldid[41];
    long long oldoff = 0;
    int have = fstate_take(f, oldid, &oldoff);
    int cont = handshake(f, have ? oldid : NULL, oldoff);
    if (cont < 0) goto out;
    if (!o->quiet)
        mig_err("copy: following %s:%d as a replica (replication id %s, offset %lld%s)",
                o->src.host, o->src.port, f->replid, f->offset0,
                cont ? ", continuing where the last run stopped" : ", full resynchronisation");
    if (cont) {
        if (to_dir ? start_server(f, o->to) != 0 : open_target(f) != 0) goto out;
        goto streaming;
    }
    int rc = receive_rdb(f, rdbpath);
    /* the source holds the stream back until it hears the snapshot arrived */
    if (rc == 0) rc = send_ack(f);
    if (rc != 0) goto out;
    loader l;
    if (to_dir) {
        if (load_into(f, o->to, rdbpath, &l, 0) != 0) goto out;
        unlink(rdbpath);
        if (start_server(f, o->to) != 0) goto out;
    } else {
        char sdir[PATH_MAX + 8];
        snprintf(sdir, sizeof sdir, "%s/store", scratch);
        if (load_into(f, sdir, rdbpath, &l, 1) != 0) goto out;
        unlink(rdbpath);
        rc = push_scratch(f, &l);
        ks_close(l.k);
        store_close(l.s);
        mig_rm_tree(scratch);
        scratch[0] = 0;
        if (rc != 0 || open_target(f) != 0) goto out;
    }
streaming:
    if (mig_interrupted) {
        snprintf(f->err, sizeof f->err, "interrupted before the stream was applied");
        goto out;
    }
    if (stream(f) != 0) goto out;
    if (!o->quiet)
        fprintf(stderr, "copy: stopped following at offset %lld (replication id %s); %llu "
                "commands applied, %llu refused\n", f->offset0 + (long long)f->applied,
                f->replid, (unsigned long long)f->cmds, (unsigned long long)f->errors);
    status = f->errors ? MIG_EXIT_FAIL : MIG_EXIT_OK;
    rc_close(&f->t);
    if (stop_server(f) != 0) status = MIG_EXIT_FAIL;
    if (status == MIG_EXIT_OK) fstate_save(f);
out:
    if (status != MIG_EXIT_OK && f->err[0]) {
        if (f->pr.drawn && f->pr.tty) fputc('\n', stderr);
        mig_err("copy: %s", f->err);
    }
    rc_close(&f->t);
    stop_server(f);
    if (to_dir) unlink(rdbpath);
    if (scratch[0]) mig_rm_tree(scratch);
    free(f->fifo);
    free(f);
    return status;
}
