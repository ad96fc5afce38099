/* store_ro.c — a read-only, consistent view of a data directory that
 * another process (a running lodis-server) may be writing.
 *
 * The point in time is "LMDB at checkpoint G plus the WAL after G up to the
 * last whole record seen": exactly what crash recovery would rebuild, and a
 * state the server really passed through (every WAL record is one whole
 * tick, a MULTI/EXEC or a script). Nothing in the directory is written: no
 * LOCK taken (the server holds it), LMDB opened MDB_RDONLY (readers register
 * in lock.mdb, which LMDB shares between processes), WAL segments only read.
 *
 * The race: the server's checkpoint thread may commit checkpoint G' > G
 * while we read, after which the event loop trims (unlinks, or renames to
 * spare.wal and reuses for new writes) the segments up to G' -- segments we
 * may still be reading. A trim of a segment with generation X > G happens
 * only after a checkpoint covering X committed, i.e. after info/wal_gen
 * became >= X. So: take read transaction T, read G from it, replay the
 * segments after G into a private memtable, then read wal_gen again in a
 * fresh transaction. If it is still G, no segment after G was touched while
 * we read them and the view is T + what we replayed. If it moved, start
 * again (a checkpoint takes at least a second to follow another, so a retry
 * almost always succeeds). T stays open for the life of the view: it is
 * the snapshot. */
#include "storage/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/endian.h"
#include "storage/store_int.h"

#define RO_ATTEMPTS 20

/* info/wal_gen as seen by txn (0 when absent: a store never checkpointed). */
static int read_gen(store *s, MDB_txn *txn, uint64_t *gen) {
    MDB_val k = {7, "wal_gen"}, v;
    int rc = mdb_get(txn, s->dbi[ST_DBI_INFO], &k, &v);
    if (rc == MDB_NOTFOUND) {
        *gen = 0;
        return ST_OK;
    }
    if (rc) return store_mdb_rc(rc);
    if (v.mv_size != 8) return ST_CORRUPT;
    *gen = be64_get(v.mv_data);
    return ST_OK;
}

static int begin_read(store *s, MDB_txn **txn, char *err, size_t errlen) {
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED) {
        /* The server grew the map: adopt its size and try again. */
        mdb_env_set_mapsize(s->env, 0);
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
    }
    if (rc && err)
        snprintf(err, errlen, "cannot begin an LMDB read transaction in %s: %s", s->dir,
                 mdb_strerror(rc));
    return store_mdb_rc(rc);
}

/* Open the named databases in a transaction of their own and commit it:
 * only then are the handles shared with later transactions. */
static int open_dbis(store *s, char *err, size_t errlen) {
    MDB_txn *t;
    int rc = begin_read(s, &t, err, errlen);
    if (rc) return rc;
    for (int i = 0; i < ST_NDBI; i++) {
        int r = mdb_dbi_open(t, store_dbi_names[i], 0, &s->dbi[i]);
        if (r) {
            mdb_txn_abort(t);
            snprintf(err, errlen, "%s is not a lodis data directory (no '%s' database: %s)",
                     s->dir, store_dbi_names[i], mdb_strerror(r));
            return r == MDB_NOTFOUND ? ST_CORRUPT : store_mdb_rc(r);
        }
    }
    rc = mdb_txn_commit(t);
    if (rc) snprintf(err, errlen, "cannot open the databases of %s: %s", s->dir, mdb_strerror(rc));
    return store_mdb_rc(rc);
}

/* One attempt: T, G, replay, recheck. ST_BUSY means "the gen moved". */
static int attempt(store *s, char *err, size_t errlen) {
    MDB_txn *t;
    int rc = begin_read(s, &t, err, errlen);
    if (rc) return rc;
    MDB_val fk = {6, "format"}, fv;
    if (mdb_get(t, s->dbi[ST_DBI_INFO], &fk, &fv) != 0 || fv.mv_size != strlen(ST_FORMAT) ||
        memcmp(fv.mv_data, ST_FORMAT, fv.mv_size) != 0) {
        mdb_txn_abort(t);
        snprintf(err, errlen, "%s has no %s format record: not a lodis data directory, "
                              "or one of another format version", s->dir, ST_FORMAT);
        return ST_CORRUPT;
    }
    uint64_t g0, g1, maxgen = 0, records = 0;
    rc = read_gen(s, t, &g0);
    if (rc) {
        mdb_txn_abort(t);
        snprintf(err, errlen, "cannot read wal_gen in %s: %s", s->dir, store_strerror(rc));
        return rc;
    }
    s->active = mt_new(ST_NDBI);
    if (!s->active) {
        mdb_txn_abort(t);
        return ST_NOMEM;
    }
    int replay_rc = wal_replay(&s->w, g0, store_replay_apply, s, &maxgen, &records, err, errlen);
    /* Whatever the replay said, it is only trustworthy if no checkpoint
     * moved past g0 meanwhile (see the top of this file). */
    MDB_txn *t2;
    rc = begin_read(s, &t2, NULL, 0);
    if (rc == ST_OK) {
        rc = read_gen(s, t2, &g1);
        mdb_txn_abort(t2);
    }
    if (rc == ST_OK && g1 != g0) rc = ST_BUSY;
    if (rc == ST_OK) rc = replay_rc;
    if (rc) {
        mdb_txn_abort(t);
        mt_free(s->active);
        s->active = NULL;
        return rc;
    }
    s->rtxn = t;
    s->rtxn_state = 1;
    s->st.replayed_records = records;
    s->st.wal_gen = maxgen;
    s->w.gen = maxgen;
    return ST_OK;
}

store *store_open_snapshot(const char *dir, int *rcp, char *err, size_t errlen) {
    int rc = ST_NOMEM;
    char path[4096];
    struct stat st;
    store *s = calloc(1, sizeof *s);
    if (!s) goto fail;
    s->readonly = 1;
    s->lockfd = -1;
    s->sync_fd = -1;
    s->w.fd = -1;
    s->w.readonly = 1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_cond_init(&s->done_cond, NULL);
    pthread_cond_init(&s->sync_cond, NULL);
    s->dir = strdup(dir);
    size_t wl = strlen(dir) + 8;
    s->w.dir = malloc(wl);
    if (!s->dir || !s->w.dir) goto fail;
    snprintf(s->w.dir, wl, "%s/wal", dir);
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s; is %s a lodis data directory (the server's 'dir')?", path,
                 strerror(errno), dir);
        rc = errno == ENOENT ? ST_NOTFOUND : ST_IO;
        goto fail;
    }
    rc = mdb_env_create(&s->env);
    if (rc) {
        rc = ST_NOMEM;
        goto fail;
    }
    /* At least the file; LMDB takes the larger size the writer recorded. */
    s->mapsize = (uint64_t)st.st_size * 2 + (1u << 20);
    mdb_env_set_maxdbs(s->env, 8);
    mdb_env_set_mapsize(s->env, s->mapsize);
    rc = mdb_env_open(s->env, dir, MDB_RDONLY | MDB_NOTLS | MDB_NORDAHEAD, 0644);
    if (rc) {
        snprintf(err, errlen, "cannot open the LMDB environment in %s read-only: %s", dir,
                 mdb_strerror(rc));
        rc = rc == EACCES ? ST_IO : store_mdb_rc(rc);
        goto fail;
    }
    rc = open_dbis(s, err, errlen);
    for (int i = 0; rc == ST_OK && i < RO_ATTEMPTS; i++) {
        rc = attempt(s, err, errlen);
        if (rc != ST_BUSY) break;
        rc = ST_OK;
        /* Let the server finish trimming, then take a new snapshot. */
        usleep(10000);
    }
    if (rc == ST_OK && !s->rtxn) rc = ST_BUSY;
    if (rc == ST_BUSY)
        snprintf(err, errlen, "the server in %s checkpointed during each of %d attempts to read "
                              "its WAL; try again when it is less busy", dir, RO_ATTEMPTS);
    if (rc) goto fail;
    *rcp = ST_OK;
    return s;
fail:
    if (s) store_close_snapshot(s);
    *rcp = rc;
    return NULL;
}

void store_close_snapshot(store *s) {
    if (s->rtxn) mdb_txn_abort(s->rtxn);
    if (s->active) mt_free(s->active);
    if (s->env) mdb_env_close(s->env);
    free(s->w.dir);
    free(s->dir);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    pthread_cond_destroy(&s->done_cond);
    pthread_cond_destroy(&s->sync_cond);
    free(s);
}
