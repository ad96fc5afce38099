/* prefetch.c — reader threads that take the disk waits of cold reads off
 * the event loop (store.h, "Cold reads").
 *
 * Under maxmemory most of LMDB is not in RAM, and a point read of a key the
 * memtables and the clean cache do not hold may fault a B-tree page or two
 * in from the disk: milliseconds during which the single event loop serves
 * nobody. The server hands such a command's keys to these threads instead
 * and parks the client; a thread looks the keys up in its own read
 * transaction (touching every page of each value), which brings the pages
 * into the page cache and the map, then reports the job done; the event
 * loop runs the command later and finds the pages resident. The threads
 * read nothing into lodis's memory and write nothing, so a job whose
 * snapshot is already old does no harm: it only warmed pages.
 *
 * Checkpoints use the same threads (store_prefetch_warm): before the
 * checkpoint thread applies a memtable to LMDB, one B-tree leaf per written
 * key at a time, the readers look those keys up in parallel, so the leaves
 * the write transaction is about to copy are read from the disk at the
 * queue depth of several threads rather than one.
 *
 * The map may be resized (grow_map in store.c) only while no transaction of
 * this process is live: each job holds s->map_rw for reading around its
 * transaction, grow_map takes it for writing (writer-preferring, so a
 * stream of jobs cannot starve a resize). */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "storage/objcache.h"
#include "storage/store_int.h"

#define PF_MAX_THREADS 64

#define WARM_RUN 256 /* memtable nodes per warm job */

typedef struct pf_job {
    struct pf_job *next;
    void *tag;
    int dbi;
    mt_node *first; /* a warm job: `count` nodes from here (no tag, no keys) */
    uint32_t count;
    size_t len;
    uint8_t keys[]; /* (len16 BE, bytes)... */
} pf_job;

struct prefetcher {
    store *s;
    pthread_t th[PF_MAX_THREADS];
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int stop;
    pf_job *head, **tail;     /* queued, oldest first */
    void **done;              /* tags of finished jobs, for store_prefetch_done */
    size_t ndone, done_cap;
    void (*wake)(void *);
    void *wake_ud;
    store_prefetch_stats st;  /* under mu */
    int warm_pending;         /* warm jobs queued or running */
    int warm_faulted;         /* of the current warm batch, runs that faulted */
    pthread_cond_t warm_cond; /* warm_pending reached 0 */
};

static long majflt_thread(void) {
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_majflt : 0;
}

/* Read every page of v: a value larger than a page lives on overflow pages
 * that the B-tree descent did not touch. */
static unsigned touch(const MDB_val *v, unsigned psize) {
    const volatile uint8_t *p = v->mv_data;
    unsigned sum = 0;
    for (size_t i = 0; i < v->mv_size; i += psize) sum += p[i];
    if (v->mv_size) sum += p[v->mv_size - 1];
    return sum;
}

/* The first entry at or after prefix in sub: a small collection's members
 * share its leaf page, so HGET, ZSCORE, SISMEMBER... of a cold key find
 * their member in RAM too. */
static unsigned touch_members(store *s, MDB_txn *t, const uint8_t *prefix, size_t n) {
    MDB_cursor *c;
    unsigned sum = 0;
    if (mdb_cursor_open(t, s->dbi[ST_DBI_SUB], &c) != 0) return 0;
    MDB_val k = {n, (void *)prefix}, v;
    if (mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) == 0) sum = touch(&v, s->psize);
    mdb_cursor_close(c);
    return sum;
}

/* A reader's read transaction, kept reset between jobs: renewing it costs
 * no reader-table lock, beginning one does. A map resize (grow_map) bumps
 * map_gen; the next job then begins afresh. */
typedef struct reader {
    MDB_txn *t;
    uint64_t map_gen;
    long majflt; /* this thread's major faults at the end of its last job */
} reader;

static MDB_txn *rd_begin(store *s, reader *r) {
    pthread_rwlock_rdlock(&s->map_rw);
    if (r->t && (r->map_gen != s->map_gen || mdb_txn_renew(r->t) != 0)) {
        mdb_txn_abort(r->t);
        r->t = NULL;
    }
    if (!r->t && mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r->t) != 0) r->t = NULL;
    r->map_gen = s->map_gen;
    return r->t;
}

/* End the job's transaction; returns whether the job waited for the disk
 * (faults between jobs are none: the thread sleeps). */
static int rd_end(store *s, reader *r) {
    if (r->t) mdb_txn_reset(r->t);
    pthread_rwlock_unlock(&s->map_rw);
    long f = majflt_thread();
    int faulted = f > r->majflt;
    r->majflt = f;
    return faulted;
}

/* Look the job's keys up; returns whether this thread waited for the disk. */
static int run_job(store *s, reader *r, pf_job *j) {
    MDB_txn *t = rd_begin(s, r);
    if (t) {
        unsigned sink = 0;
        for (size_t at = 0; at + 2 <= j->len;) {
            size_t kl = (size_t)j->keys[at] << 8 | j->keys[at + 1];
            at += 2;
            if (at + kl > j->len) break;
            MDB_val k = {kl, j->keys + at}, v;
            if (mdb_get(t, s->dbi[j->dbi], &k, &v) == 0) {
                sink += touch(&v, s->psize);
                uint8_t prefix[8];
                size_t pn = 0;
                if (j->dbi == ST_DBI_KEYS && s->pf_expand)
                    pn = s->pf_expand(v.mv_data, v.mv_size, prefix);
                if (pn) sink += touch_members(s, t, prefix, pn);
            }
            at += kl;
        }
        (void)sink;
    }
    return rd_end(s, r);
}

/* Position a cursor at each node's key: the leaf it lives in, or would.
 * Returns whether this thread waited for the disk. */
static int run_warm(store *s, reader *r, pf_job *j) {
    MDB_txn *t = rd_begin(s, r);
    MDB_cursor *c = NULL;
    if (t && mdb_cursor_open(t, s->dbi[j->dbi], &c) == 0) {
        mt_node *n = j->first;
        for (uint32_t i = 0; i < j->count && n; i++, n = n->next[0]) {
            MDB_val k = {n->klen, (void *)mt_key(n)}, v;
            mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        }
        mdb_cursor_close(c);
    }
    return rd_end(s, r);
}

static void *worker(void *arg) {
    struct prefetcher *p = arg;
    reader r = {NULL, 0, majflt_thread()};
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stop) pthread_cond_wait(&p->cond, &p->mu);
        pf_job *j = p->head;
        if (!j) break; /* stopping, and the queue is empty */
        p->head = j->next;
        if (!p->head) p->tail = &p->head;
        pthread_mutex_unlock(&p->mu);
        if (j->first) {
            int faulted = run_warm(p->s, &r, j);
            free(j);
            pthread_mutex_lock(&p->mu);
            p->warm_faulted += faulted;
            if (--p->warm_pending == 0) pthread_cond_broadcast(&p->warm_cond);
            continue;
        }
        int faulted = run_job(p->s, &r, j);
        pthread_mutex_lock(&p->mu);
        p->st.jobs_done++;
        if (faulted) p->st.jobs_faulted++;
        if (p->ndone == p->done_cap) {
            size_t nc = p->done_cap ? p->done_cap * 2 : 64;
            void **nd = realloc(p->done, nc * sizeof *nd);
            if (!nd) abort();
            p->done = nd;
            p->done_cap = nc;
        }
        p->done[p->ndone++] = j->tag;
        free(j);
        pthread_mutex_unlock(&p->mu);
        p->wake(p->wake_ud);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    if (r.t) mdb_txn_abort(r.t);
    return NULL;
}

/* Stop the threads once they have run every queued job (its tag is then
 * among the done ones, for the caller's last store_prefetch_done). */
static void pf_stop(struct prefetcher *p) {
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++) pthread_join(p->th[i], NULL);
    p->nthreads = 0;
}

int store_prefetch_start(store *s, int threads, void (*wake)(void *), void *ud) {
    if (s->readonly) return ST_INVALID;
    if (threads < 0 || threads > PF_MAX_THREADS || (threads && !wake)) return ST_INVALID;
    struct prefetcher *p = s->pf;
    if (p && p->nthreads == threads) return ST_OK;
    if (p) pf_stop(p);
    if (threads == 0) return ST_OK; /* p stays: its done tags wait for the caller */
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p) return ST_NOMEM;
        p->s = s;
        p->tail = &p->head;
        pthread_mutex_init(&p->mu, NULL);
        pthread_cond_init(&p->cond, NULL);
        pthread_cond_init(&p->warm_cond, NULL);
        s->pf = p;
    }
    pthread_mutex_lock(&p->mu);
    p->stop = 0;
    p->wake = wake;
    p->wake_ud = ud;
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->th[i], NULL, worker, p) != 0) {
            pf_stop(p);
            return ST_NOMEM;
        }
        p->nthreads = i + 1;
    }
    return ST_OK;
}

int store_prefetch_threads(store *s) {
    return s->pf ? s->pf->nthreads : 0;
}

int store_prefetch_submit(store *s, int dbi, const uint8_t *keys, size_t len, void *tag) {
    struct prefetcher *p = s->pf;
    if (!p || p->nthreads == 0) return ST_INVALID;
    if (dbi < 0 || dbi >= ST_NDBI) return ST_INVALID;
    pf_job *j = malloc(sizeof *j + len);
    if (!j) return ST_NOMEM;
    j->next = NULL;
    j->tag = tag;
    j->dbi = dbi;
    j->first = NULL;
    j->count = 0;
    j->len = len;
    memcpy(j->keys, keys, len);
    pthread_mutex_lock(&p->mu);
    *p->tail = j;
    p->tail = &j->next;
    p->st.jobs++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mu);
    return ST_OK;
}

size_t store_prefetch_done(store *s, void **tags, size_t max) {
    struct prefetcher *p = s->pf;
    if (!p) return 0;
    pthread_mutex_lock(&p->mu);
    size_t n = p->ndone < max ? p->ndone : max;
    if (n == 0) {
        pthread_mutex_unlock(&p->mu);
        return 0;
    }
    memcpy(tags, p->done, n * sizeof *tags);
    memmove(p->done, p->done + n, (p->ndone - n) * sizeof *tags);
    p->ndone -= n;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void store_prefetch_get_stats(store *s, store_prefetch_stats *out) {
    memset(out, 0, sizeof *out);
    struct prefetcher *p = s->pf;
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    *out = p->st;
    pthread_mutex_unlock(&p->mu);
    out->threads = (uint64_t)p->nthreads;
}

void store_prefetch_close(store *s) {
    struct prefetcher *p = s->pf;
    if (!p) return;
    pf_stop(p);
    free(p->done);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cond);
    pthread_cond_destroy(&p->warm_cond);
    free(p);
    s->pf = NULL;
}

int store_prefetch_warm(store *s, memtable *m) {
    struct prefetcher *p = s->pf;
    if (!p || !p->nthreads) return 0;
    /* Cut the runs first (m is linked and no longer changes), queue them
     * all at once, then wait: the write transaction must not start before
     * its leaves are read, or it would read them itself, one at a time. */
    pf_job *head = NULL, **tail = &head;
    int n = 0;
    for (int d = 0; d < m->nlists; d++) {
        mt_node *x = m->lists[d].head->next[0];
        while (x) {
            pf_job *j = calloc(1, sizeof *j);
            if (!j) break;
            j->dbi = d;
            j->first = x;
            for (j->count = 0; x && j->count < WARM_RUN; j->count++) x = x->next[0];
            *tail = j;
            tail = &j->next;
            n++;
        }
    }
    if (!n) return 0;
    pthread_mutex_lock(&p->mu);
    if (p->stop || !p->nthreads) {
        pthread_mutex_unlock(&p->mu);
        while (head) {
            pf_job *nx = head->next;
            free(head);
            head = nx;
        }
        return 0;
    }
    p->warm_faulted = 0;
    *p->tail = head;
    p->tail = tail;
    p->warm_pending += n;
    p->st.warm_runs += (uint64_t)n;
    pthread_cond_broadcast(&p->cond);
    while (p->warm_pending) pthread_cond_wait(&p->warm_cond, &p->mu);
    int faulted = p->warm_faulted;
    pthread_mutex_unlock(&p->mu);
    return faulted;
}

void store_set_prefetch_expand(store *s, size_t (*fn)(const uint8_t *, size_t, uint8_t *)) {
    s->pf_expand = fn;
}

int store_resident(store *s, int dbi, const void *k, size_t klen) {
    if (store_mem_find(s, dbi, k, klen)) return 1;
    return s->cache && oc_contains(s->cache, dbi, k, klen);
}
