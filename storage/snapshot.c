/* snapshot.c — SAVE / BGSAVE: a compacted, consistent copy of the LMDB
 * environment, made while the server keeps serving.
 *
 * A checkpoint first moves every acknowledged write into LMDB; then
 * mdb_env_copy2(MDB_CP_COMPACT) copies the environment as of one read
 * transaction (free pages left out), so the copy is one point in time and a
 * complete data directory: lodis-server --dir COPY opens it (its empty WAL
 * is created at open). The copy goes to PATH.tmp and is fsynced, and only
 * then renamed over PATH, so PATH is always either the previous complete
 * snapshot or the new one, never half of one.
 *
 * BGSAVE runs the copy on a thread of its own. Its read transaction pins
 * the pages it copies, so the data file may grow while it runs; and the map
 * must not be resized meanwhile (LMDB forbids mdb_env_set_mapsize with a
 * transaction live in the process): store.c asks snapshot_running() before
 * growing the map and retries the checkpoint later if a copy is running. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storage/store_int.h"

struct snapshot {
    pthread_mutex_t mu;
    pthread_t th;
    int thread_live;  /* a thread to join */
    int running;
    int last_rc;      /* ST_OK or the error of the last finished copy */
    int64_t started_ms, last_ms;
    char *path;
    MDB_env *env;
};

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fsync_path(const char *p, int dir) {
    int fd = open(p, (dir ? O_DIRECTORY : 0) | O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* a + b into out; -1 when it does not fit (the caller gives up). */
static int join(char *out, size_t cap, const char *a, const char *b) {
    int n = snprintf(out, cap, "%s%s", a, b);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Remove a snapshot directory (it holds data.mdb and maybe lock.mdb). */
static void remove_dir(const char *dir) {
    char f[4200];
    if (join(f, sizeof f, dir, "/data.mdb") == 0) unlink(f);
    if (join(f, sizeof f, dir, "/lock.mdb") == 0) unlink(f);
    rmdir(dir);
}

/* The copy itself: PATH.tmp, fsync, then swap it in. */
static int copy_env(MDB_env *env, const char *path) {
    char tmp[4200], old[4200], data[4300], parent[4200];
    if (join(tmp, sizeof tmp, path, ".tmp") || join(old, sizeof old, path, ".old") ||
        join(parent, sizeof parent, path, ""))
        return ST_INVALID;
    remove_dir(tmp);
    if (mkdir(tmp, 0755) != 0) return ST_IO;
    int rc = mdb_env_copy2(env, tmp, MDB_CP_COMPACT);
    if (rc) {
        remove_dir(tmp);
        return rc == ENOSPC ? ST_NOSPACE : ST_IO;
    }
    if (join(data, sizeof data, tmp, "/data.mdb")) return ST_INVALID;
    if (fsync_path(data, 0) != 0 || fsync_path(tmp, 1) != 0) {
        remove_dir(tmp);
        return errno == ENOSPC ? ST_NOSPACE : ST_IO;
    }
    remove_dir(old);
    struct stat st;
    if (stat(path, &st) == 0 && rename(path, old) != 0) {
        remove_dir(tmp);
        return ST_IO;
    }
    if (rename(tmp, path) != 0) {
        rename(old, path);
        remove_dir(tmp);
        return ST_IO;
    }
    remove_dir(old);
    char *slash = strrchr(parent, '/');
    if (slash) {
        *slash = 0;
        fsync_path(parent[0] ? parent : "/", 1);
    }
    return ST_OK;
}

static struct snapshot *snap_of(store *s) {
    if (!s->snap) {
        struct snapshot *n = calloc(1, sizeof *n);
        if (!n) return NULL;
        pthread_mutex_init(&n->mu, NULL);
        n->last_rc = ST_OK;
        s->snap = n;
    }
    return s->snap;
}

static void *copy_thread(void *arg) {
    struct snapshot *n = arg;
    int rc = copy_env(n->env, n->path);
    pthread_mutex_lock(&n->mu);
    n->last_rc = rc;
    n->last_ms = wall_ms() - n->started_ms;
    n->running = 0;
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

int snapshot_running(store *s) {
    struct snapshot *n = s->snap;
    if (!n) return 0;
    pthread_mutex_lock(&n->mu);
    int r = n->running;
    pthread_mutex_unlock(&n->mu);
    return r;
}

/* Join a finished copy's thread (event loop, or close). */
static void reap(struct snapshot *n, int wait) {
    if (!n || !n->thread_live) return;
    pthread_mutex_lock(&n->mu);
    int r = n->running;
    pthread_mutex_unlock(&n->mu);
    if (r && !wait) return;
    pthread_join(n->th, NULL);
    n->thread_live = 0;
    free(n->path);
    n->path = NULL;
}

int store_snapshot(store *s, const char *path) {
    if (snapshot_running(s)) return ST_BUSY;
    int rc = store_checkpoint_sync(s);
    if (rc != ST_OK) return rc;
    struct snapshot *n = snap_of(s);
    if (!n) return ST_NOMEM;
    reap(n, 1);
    int64_t t0 = wall_ms();
    rc = copy_env(s->env, path);
    n->last_rc = rc;
    n->last_ms = wall_ms() - t0;
    return rc;
}

int store_snapshot_start(store *s, const char *path) {
    struct snapshot *n = snap_of(s);
    if (!n) return ST_NOMEM;
    reap(n, 0);
    if (n->thread_live) return ST_BUSY;
    int rc = store_checkpoint_sync(s);
    if (rc != ST_OK) return rc;
    n->path = strdup(path);
    if (!n->path) return ST_NOMEM;
    n->env = s->env;
    n->started_ms = wall_ms();
    n->running = 1;
    if (pthread_create(&n->th, NULL, copy_thread, n) != 0) {
        n->running = 0;
        free(n->path);
        n->path = NULL;
        return ST_IO;
    }
    n->thread_live = 1;
    return ST_OK;
}

int store_snapshot_state(store *s, int *last_rc, int64_t *last_ms) {
    struct snapshot *n = s->snap;
    if (!n) {
        *last_rc = ST_OK;
        *last_ms = -1;
        return 0;
    }
    reap(n, 0);
    pthread_mutex_lock(&n->mu);
    int r = n->running;
    *last_rc = n->last_rc;
    *last_ms = r ? -1 : n->last_ms;
    pthread_mutex_unlock(&n->mu);
    return r;
}

void snapshot_close(store *s) {
    struct snapshot *n = s->snap;
    if (!n) return;
    reap(n, 1);
    pthread_mutex_destroy(&n->mu);
    free(n);
    s->snap = NULL;
}
