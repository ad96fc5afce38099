/* common.c — what lodis-migrate's subcommands share: opening a data
 * directory to read (one consistent snapshot) or to write (a store plus its
 * keyspace, staged when the result must appear all at once), committing
 * ticks, and the small option parsers. See migrate.h. */
#include "migrate/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void mig_rm_tree(const char *path) {
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int mig_target_state(const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return -1;
    char p[4096];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    if (access(p, F_OK) == 0) return 2;
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    return n ? -1 : 1;
}

void mig_store_log(void *ud, int level, const char *msg) {
    (void)ud;
    if (level >= 3) fprintf(stderr, "lodis-migrate: storage: %s\n", msg);
}

int mig_open_readonly(const char *dir, const char *what, store **s, ks **k) {
    char err[1024] = "";
    int rc;
    *k = NULL;
    *s = store_open_snapshot(dir, &rc, err, sizeof err);
    if (!*s) {
        mig_err("%s: %s", what, err[0] ? err : store_strerror(rc));
        return -1;
    }
    *k = ks_open(*s, KS_MAX_DBS, &rc);
    if (!*k) {
        mig_err("%s: cannot read the keyspace of %s: %s", what, dir, store_strerror(rc));
        store_close(*s);
        *s = NULL;
        return -1;
    }
    return 0;
}

int mig_tick(store *s, ks *k) {
    int rc = ks_flush_counters(k);
    if (rc == ST_OK) rc = store_commit(s);
    store_end_tick(s);
    store_cron(s, mig_wall_ms());
    ks_set_now(k, mig_wall_ms());
    return rc;
}

int mig_parse_db(const char *arg, const char *what, uint64_t *mask) {
    char *end;
    long n = strtol(arg, &end, 10);
    if (!*arg || *end || n < 0 || n >= KS_MAX_DBS) {
        mig_err("%s: --db takes a database number 0..%d", what, KS_MAX_DBS - 1);
        return -1;
    }
    *mask |= 1ull << n;
    return 0;
}

int mig_common_opt(int argc, char **argv, int *i, const char *what, mig_common *o) {
    const char *a = argv[*i];
    int more = *i + 1 < argc;
    if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
        o->quiet = 1;
    } else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && more && o->want_out) {
        o->out = argv[++*i];
    } else if ((!strcmp(a, "-d") || !strcmp(a, "--dir")) && more && o->want_dir) {
        o->dir = argv[++*i];
    } else if (!strcmp(a, "--db") && more && o->want_db) {
        if (mig_parse_db(argv[++*i], what, &o->dbmask) != 0) return -1;
    } else if (a[0] == '-' || o->positional) {
        mig_err("%s: unexpected argument '%s'; see 'lodis-migrate %s --help'", what, a, what);
        return -1;
    } else {
        o->positional = a;
    }
    return 1;
}

/* ---- writable targets ------------------------------------------------- */

static void sibling(char *out, size_t cap, const char *dir, const char *tag) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    snprintf(out, cap, "%.*s.%s-%d", (int)n, dir, tag, (int)getpid());
}

static store *open_rw(const char *dir, const char *what, int *rc) {
    store_opts o;
    store_opts_default(&o);
    o.dir = dir;
    o.fsync = ST_FSYNC_NO; /* the closing checkpoint is synced; a crash means run it again */
    o.memtable_budget = 128u << 20;
    o.log = mig_store_log;
    char err[1024] = "";
    store *s = store_open(&o, rc, err, sizeof err);
    if (!s)
        mig_err("%s: %s%s", what, err,
                *rc == ST_BUSY ? " (stop the lodis-server using it first)" : "");
    return s;
}

int mig_target_open(mig_target *t, const char *dir, const char *what, int copy_existing) {
    memset(t, 0, sizeof *t);
    t->dir = dir;
    t->path = dir;
    t->state = mig_target_state(dir);
    if (t->state < 0) {
        mig_err("%s: %s is not empty and holds no lodis store; choose an empty or new "
                "directory", what, dir);
        return -1;
    }
    int rc;
    if (t->state < 2) {
        sibling(t->staged, sizeof t->staged, dir, what);
        t->path = t->staged;
    } else if (copy_existing) {
        /* Hold the existing store (its lock keeps servers out) and work on a
         * compacted copy of it, exchanged with it only when complete. */
        t->orig = open_rw(dir, what, &rc);
        if (!t->orig) return -1;
        sibling(t->staged, sizeof t->staged, dir, what);
        mig_rm_tree(t->staged);
        rc = store_snapshot(t->orig, t->staged);
        if (rc != ST_OK) {
            mig_err("%s: cannot copy %s to %s to work on: %s%s", what, dir, t->staged,
                    store_strerror(rc), rc == ST_NOSPACE || rc == ST_IO
                    ? " (the staged copy needs as much free disk as the store)" : "");
            store_close(t->orig);
            mig_rm_tree(t->staged);
            return -1;
        }
        t->path = t->staged;
        t->swap = 1;
    }
    t->s = open_rw(t->path, what, &rc);
    if (t->s) t->k = ks_open(t->s, KS_MAX_DBS, &rc);
    if (!t->k) {
        if (t->s) mig_err("%s: cannot open the keyspace: %s", what, store_strerror(rc));
        store_close(t->s);
        store_close(t->orig);
        if (t->path != t->dir) mig_rm_tree(t->staged);
        return -1;
    }
    ks_set_now(t->k, mig_wall_ms());
    return 0;
}

/* Replace the staged store by a compacted copy of it (see mig_target). A
 * failed copy only costs the compaction: the staged store stays as it is. */
static void compact_staged(mig_target *t, const char *what) {
    char cpath[sizeof t->staged];
    if ((size_t)snprintf(cpath, sizeof cpath, "%s.compact", t->staged) >= sizeof cpath) return;
    if (!t->quiet) fprintf(stderr, "%s: compacting the store...\n", what);
    int rc = store_snapshot(t->s, cpath);
    ks_close(t->k);
    store_close(t->s);
    t->k = NULL;
    t->s = NULL;
    if (rc != ST_OK) {
        mig_rm_tree(cpath);
        mig_err("%s: compacting failed (%s); the store is complete, only larger", what,
                store_strerror(rc));
        return;
    }
    mig_rm_tree(t->staged);
    if (rename(cpath, t->staged) != 0) /* then put the copy in place directly */
        memcpy(t->staged, cpath, sizeof cpath);
}

int mig_target_close(mig_target *t, int ok, const char *what, const char *why) {
    if (ok && t->compact && !t->swap && t->path != t->dir) compact_staged(t, what);
    ks_close(t->k);
    store_close(t->s); /* checkpoints, synced */
    t->k = NULL;
    t->s = NULL;
    int status = 0;
    if (!ok) {
        if (t->path != t->dir) {
            mig_rm_tree(t->staged);
            mig_err("%s: %s; %s was not changed", what, why, t->dir);
        } else {
            mig_err("%s: %s; %s is partly written: run it again", what, why, t->dir);
        }
        status = -1;
    } else if (t->swap) {
        /* Close the old store (it must not write by path once exchanged)
         * and take its lock ourselves straight away, so no server starts on
         * it in between. Then one atomic step: the directory holds either
         * the old store or the new one, whatever happens. The old one (now
         * at the staged name) goes. */
        store_close(t->orig);
        t->orig = NULL;
        char lp[4200];
        snprintf(lp, sizeof lp, "%s/LOCK", t->dir);
        int lfd = open(lp, O_RDWR | O_CLOEXEC);
        if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) != 0) {
            mig_err("%s: a lodis-server started on %s meanwhile; %s was not changed", what,
                    t->dir, t->dir);
            status = -1;
        } else if (renameat2(AT_FDCWD, t->staged, AT_FDCWD, t->dir, RENAME_EXCHANGE) != 0) {
            mig_err("%s: cannot put %s in place of %s: %s; %s was not changed", what, t->staged,
                    t->dir, strerror(errno), t->dir);
            status = -1;
        }
        if (lfd >= 0) close(lfd);
        mig_rm_tree(t->staged); /* the old store, or the unused new one */
    } else if (t->path != t->dir) {
        if (t->state == 1) rmdir(t->dir);
        if (rename(t->staged, t->dir) != 0) {
            mig_err("%s: cannot rename %s to %s: %s; the result is in %s", what, t->staged,
                    t->dir, strerror(errno), t->staged);
            status = -1;
        }
    }
    store_close(t->orig);
    t->orig = NULL;
    return status;
}
