/* test_t_zset_rank.c — the counted rank index of sorted sets
 * (storage/t_zset_rank.c) on a real LMDB store, against a sorted in-memory
 * model: random inserts, deletes and score changes over short members, long
 * (hashed) members, members sharing their first 493 bytes (fence keys that
 * collide), equal scores and -0.0; every rank and every rank seek in both
 * directions, plus tz_rank_check's full consistency check. The block size
 * is shrunk (tz_rank_test_shape) so a few hundred members reach all three
 * levels, splits and merges. Also: the one-pass build of an unindexed zset,
 * the default shape, and crash safety (a child dies without closing; the
 * reopened store replays its WAL and the index still matches). The RAM
 * copies of the index (t_zset_rankmem.c) are checked by tz_rank_check
 * against the store's fences at every check, and their bound is shrunk so
 * the store-only paths, eviction and the drop at FLUSHDB are exercised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/keyspace.h"
#include "storage/store.h"
#include "storage/t_zset.h"
#include "tests/unit/harness.h"

#include "tests/unit/fx.h"

/* ------------------------------------------------------------------ */
/* model                                                               */

typedef struct ent {
    double score;
    uint8_t *m;
    size_t ml;
} ent;

typedef struct model {
    ent *e;
    size_t n, cap;
} model;

static int ent_cmp(const ent *x, const ent *y) {
    if (x->score < y->score) return -1;
    if (x->score > y->score) return 1;
    size_t n = x->ml < y->ml ? x->ml : y->ml;
    int c = n ? memcmp(x->m, y->m, n) : 0;
    if (c) return c;
    return x->ml < y->ml ? -1 : x->ml > y->ml ? 1 : 0;
}

static long model_find(const model *md, const uint8_t *m, size_t ml) {
    for (size_t i = 0; i < md->n; i++)
        if (md->e[i].ml == ml && memcmp(md->e[i].m, m, ml) == 0) return (long)i;
    return -1;
}

static void model_remove(model *md, size_t i) {
    free(md->e[i].m);
    memmove(&md->e[i], &md->e[i + 1], (md->n - i - 1) * sizeof *md->e);
    md->n--;
}

static void model_insert(model *md, const uint8_t *m, size_t ml, double s) {
    if (md->n == md->cap) {
        md->cap = md->cap ? md->cap * 2 : 64;
        md->e = realloc(md->e, md->cap * sizeof *md->e);
    }
    ent x = {s, malloc(ml ? ml : 1), ml};
    memcpy(x.m, m, ml);
    size_t lo = 0, hi = md->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ent_cmp(&md->e[mid], &x) < 0) lo = mid + 1;
        else hi = mid;
    }
    memmove(&md->e[lo + 1], &md->e[lo], (md->n - lo) * sizeof *md->e);
    md->e[lo] = x;
    md->n++;
}

static void model_free(model *md) {
    for (size_t i = 0; i < md->n; i++) free(md->e[i].m);
    free(md->e);
    memset(md, 0, sizeof *md);
}

static uint64_t rnd_state;

static uint64_t rnd(void) {
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* Member number i of the pool, in one of several shapes. */
static size_t pool_member(uint8_t *buf, unsigned i) {
    size_t n;
    switch (i % 8) {
    case 0: /* 400-byte shared prefix: hashed in the member and score indexes */
        memset(buf, 'P', 400);
        n = 400 + (size_t)snprintf((char *)buf + 400, 32, "x%u", i);
        memset(buf + n, 'z', 100);
        n += 100;
        break;
    case 1: /* 493 shared bytes: fence keys collide, the full member decides */
        memset(buf, 'Q', 493);
        n = 493 + (size_t)snprintf((char *)buf + 493, 32, "%u", i % 40);
        break;
    case 2: /* around the 493/494/495-byte boundaries */
        n = 490 + i % 8;
        memset(buf, 'B', n);
        for (unsigned d = 0, v = i; d < 6; d++, v /= 10) buf[n - 1 - d] = (uint8_t)('0' + v % 10);
        break;
    case 3: /* binary, with NULs */
        buf[0] = 0;
        buf[1] = (uint8_t)(i * 7);
        n = 2 + (size_t)snprintf((char *)buf + 2, 32, "%u", i);
        break;
    default:
        n = (size_t)snprintf((char *)buf, 32, "m%05u", i);
        break;
    }
    return n;
}

static double pick_score(void) {
    static const double S[] = {-INFINITY, -2, -1, 0, 0, 1, 1, 1, 2, 3.5, INFINITY};
    switch (rnd() % 4) {
    case 0: return -0.0;
    case 1: return (double)(int64_t)(rnd() % 2001) - 1000.0;
    default: return S[rnd() % (sizeof S / sizeof S[0])];
    }
}

/* A random workload: adds, score changes and deletes over a pool of
 * members. With k NULL only the model changes (to replay a workload whose
 * store side ran elsewhere). After each op the writer's tz_rank_maintain
 * call, and (commit) a WAL commit as the end of a tick would. */
static void run_ops(ks *k, store *s, int commit, model *md, uint64_t id, uint64_t seed, int nops,
                    unsigned pool, int checkpoint_at) {
    rnd_state = seed;
    uint8_t buf[1024];
    for (int op = 0; op < nops; op++) {
        unsigned r = (unsigned)(rnd() % 100);
        size_t ml = pool_member(buf, (unsigned)(rnd() % pool));
        double sc = pick_score();
        long at = model_find(md, buf, ml);
        if (r < 60) { /* add or update */
            if (k) {
                double old = at >= 0 ? md->e[at].score : 0;
                assert_int_equal(tz_put(k, id, buf, ml, sc, at >= 0 ? &old : NULL), ST_OK);
            }
            if (at >= 0) model_remove(md, (size_t)at);
            model_insert(md, buf, ml, sc);
        } else if (r < 85) { /* delete */
            if (at < 0) continue;
            if (k) assert_int_equal(tz_del(k, id, buf, ml, md->e[at].score), ST_OK);
            model_remove(md, (size_t)at);
        } else { /* move an existing member */
            if (md->n == 0) continue;
            size_t i = (size_t)(rnd() % md->n);
            ent e = md->e[i];
            uint8_t *m = malloc(e.ml ? e.ml : 1);
            memcpy(m, e.m, e.ml);
            if (k) assert_int_equal(tz_put(k, id, m, e.ml, sc, &e.score), ST_OK);
            model_remove(md, i);
            model_insert(md, m, e.ml, sc);
            free(m);
        }
        if (k) {
            assert_int_equal(tz_rank_maintain(k, id, md->n), ST_OK);
            if (commit) assert_int_equal(store_commit(s), ST_OK);
            if (op == checkpoint_at) assert_int_equal(store_checkpoint_sync(s), ST_OK);
        }
    }
}

static void expect_entry(const tz_iter *it, const ent *e) {
    assert_true(tz_iter_valid(it));
    size_t ml;
    const uint8_t *m = tz_iter_member(it, &ml);
    assert_int_equal(ml, e->ml);
    assert_memory_equal(m, e->m, ml);
    assert_true(tz_iter_score(it) == e->score);
    assert_true(signbit(tz_iter_score(it)) == signbit(e->score));
}

/* Every rank, and rank seeks (all of them, or a stride through big sets),
 * in both directions, plus the index's own consistency check. */
static void check_all(ks *k, uint64_t id, const model *md) {
    uint64_t n = md->n;
    assert_int_equal(tz_rank_check(k, id, n), ST_OK);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = 12345;
        assert_int_equal(tz_rank(k, id, n, md->e[i].m, md->e[i].ml, md->e[i].score, &r), ST_OK);
        assert_int_equal(r, i);
    }
    uint64_t r;
    assert_int_equal(tz_rank(k, id, n, "no such member", 14, 1, &r), ST_NOTFOUND);
    if (n) { /* a member under another score is not found */
        double other = md->e[0].score == 5e9 ? 6e9 : 5e9;
        assert_int_equal(tz_rank(k, id, n, md->e[0].m, md->e[0].ml, other, &r), ST_NOTFOUND);
    }
    size_t stride = n > 700 ? 7 : 1;
    for (int rev = 0; rev < 2; rev++) {
        tz_iter it;
        assert_int_equal(tz_iter_open(&it, k, id, rev), ST_OK);
        for (size_t i = 0; i < n; i += stride) {
            assert_int_equal(tz_iter_seek_rank(&it, n, i), ST_OK);
            expect_entry(&it, &md->e[rev ? n - 1 - i : i]);
            if (i + 1 < n) { /* the iterator goes on from there */
                assert_int_equal(tz_iter_next(&it), ST_OK);
                expect_entry(&it, &md->e[rev ? n - 2 - i : i + 1]);
            }
        }
        assert_int_equal(tz_iter_seek_rank(&it, n, n), ST_NOTFOUND);
        tz_iter_close(&it);
    }
}

/* Fences of one level (the head included), read straight from the store,
 * the largest count among them in *max (when not NULL), and how many
 * count more than `over` in *nover (when not NULL). */
static int level_fences(ks *k, uint64_t id, int level, uint64_t *max, uint64_t over, int *nover) {
    uint8_t pre[10];
    for (int i = 0; i < 8; i++) pre[i] = (uint8_t)(id >> (56 - 8 * i));
    pre[8] = TZ_KIND_RANK;
    pre[9] = (uint8_t)level;
    store_cursor *c;
    assert_int_equal(store_cursor_open(ks_store(k), ST_DBI_SUB, &c), ST_OK);
    int n = 0, no = 0;
    uint64_t mx = 0;
    for (int rc = store_cursor_seek(c, pre, 10); rc == ST_OK; rc = store_cursor_next(c)) {
        const uint8_t *key, *v;
        size_t kl, vl;
        if (store_cursor_get(c, &key, &kl, &v, &vl) != ST_OK || kl < 10 || memcmp(key, pre, 10))
            break;
        uint64_t cnt = 0;
        for (int i = 0; i < 8; i++) cnt = cnt << 8 | v[i];
        if (cnt > mx) mx = cnt;
        no += cnt > over;
        n++;
    }
    store_cursor_close(c);
    if (max) *max = mx;
    if (nover) *nover = no;
    return n;
}

static int count_fences(ks *k, uint64_t id, int level) {
    return level_fences(k, id, level, NULL, 0, NULL);
}

static uint64_t max_block(ks *k, uint64_t id, int level) {
    uint64_t mx;
    level_fences(k, id, level, &mx, 0, NULL);
    return mx;
}

static int setup_small(void **state) {
    tz_rank_test_shape(4, 16);
    return setup(state);
}

static int teardown_shape(void **state) {
    tz_rank_test_shape(0, TZ_RANK_MIN);
    tz_rank_test_defer(1);
    tz_rankmem_set_max(0);
    return teardown(state);
}

/* ------------------------------------------------------------------ */
/* tests                                                               */

static void test_random_workload(void **state) {
    fx *f = *state;
    uint64_t id = ks_new_id(f->k);
    model md = {0};
    for (int round = 0; round < 12; round++) {
        /* Grow, then churn: pools of different sizes move the set size. */
        unsigned pool = round < 6 ? 900 : 300;
        run_ops(f->k, f->s, 0, &md, id, 1000 + (uint64_t)round, 400, pool, -1);
        assert_true(tz_rank_indexed(f->k, id) || md.n < 16);
        check_all(f->k, id, &md);
    }
    /* Empty it completely through deletes, checking on the way down. */
    while (md.n) {
        size_t i = (size_t)(rnd() % md.n);
        assert_int_equal(tz_del(f->k, id, md.e[i].m, md.e[i].ml, md.e[i].score), ST_OK);
        model_remove(&md, i);
        if (md.n % 97 == 0) check_all(f->k, id, &md);
    }
    check_all(f->k, id, &md);
    model_free(&md);
}

/* ZPOPMIN / ZPOPMAX patterns: always the first or the last member. */
static void test_pop_from_ends(void **state) {
    fx *f = *state;
    tz_rank_test_defer(0); /* block sizes are checked below */
    uint64_t id = ks_new_id(f->k);
    model md = {0};
    run_ops(f->k, f->s, 0, &md, id, 77, 1500, 2000, -1);
    check_all(f->k, id, &md);
    /* B = 4: level-3 blocks hold at most 128 members, so all levels split */
    assert_true(count_fences(f->k, id, 3) > 3);
    assert_true(count_fences(f->k, id, 2) > count_fences(f->k, id, 3));
    assert_true(count_fences(f->k, id, 1) > count_fences(f->k, id, 2));
    int side = 0;
    while (md.n > 5) {
        size_t i = side ? md.n - 1 : 0;
        assert_int_equal(tz_del(f->k, id, md.e[i].m, md.e[i].ml, md.e[i].score), ST_OK);
        model_remove(&md, i);
        if (md.n % 50 == 0) side ^= 1;
        if (md.n % 131 == 0) check_all(f->k, id, &md);
    }
    check_all(f->k, id, &md);
    model_free(&md);
}

/* Hundreds of members sharing their first 493 bytes under one score: no
 * block can split between them, ranks stay right. */
static void test_colliding_fence_keys(void **state) {
    fx *f = *state;
    uint64_t id = ks_new_id(f->k);
    model md = {0};
    uint8_t buf[600];
    memset(buf, 'C', 493);
    for (unsigned i = 0; i < 300; i++) {
        size_t ml = 493 + (size_t)snprintf((char *)buf + 493, 16, "%05u", (i * 7919) % 300);
        assert_int_equal(tz_put(f->k, id, buf, ml, 1.0, NULL), ST_OK);
        model_insert(&md, buf, ml, 1.0);
        char sm[16];
        size_t sl = (size_t)snprintf(sm, sizeof sm, "s%u", i);
        double sc = (double)(i % 3);
        assert_int_equal(tz_put(f->k, id, sm, sl, sc, NULL), ST_OK);
        model_insert(&md, (uint8_t *)sm, sl, sc);
        assert_int_equal(tz_rank_maintain(f->k, id, md.n), ST_OK);
    }
    check_all(f->k, id, &md);
    for (unsigned i = 0; i < 200; i++) {
        size_t j = (size_t)(rnd() % md.n);
        assert_int_equal(tz_del(f->k, id, md.e[j].m, md.e[j].ml, md.e[j].score), ST_OK);
        model_remove(&md, j);
    }
    check_all(f->k, id, &md);
    model_free(&md);
}

/* A zset filled without the index ranks by walking; tz_rank_maintain then
 * builds the index in one pass and every answer stays the same. */
static void test_build_in_one_pass(void **state) {
    fx *f = *state;
    tz_rank_test_shape(4, 1000000);
    uint64_t id = ks_new_id(f->k);
    model md = {0};
    run_ops(f->k, f->s, 0, &md, id, 4242, 1500, 1200, -1);
    assert_false(tz_rank_indexed(f->k, id));
    check_all(f->k, id, &md);
    tz_rank_test_shape(4, 16);
    assert_int_equal(tz_rank_maintain(f->k, id, md.n), ST_OK);
    assert_true(tz_rank_indexed(f->k, id));
    check_all(f->k, id, &md);
    /* and it is kept right from then on */
    run_ops(f->k, f->s, 0, &md, id, 4243, 600, 1200, -1);
    check_all(f->k, id, &md);
    model_free(&md);
}

/* The real shape: built at TZ_RANK_MIN, blocks of TZ_RANK_B. */
static void test_default_shape(void **state) {
    fx *f = *state;
    tz_rank_test_defer(0); /* block sizes are checked below */
    tz_rank_test_shape(0, TZ_RANK_MIN);
    uint64_t id = ks_new_id(f->k);
    model md = {0};
    run_ops(f->k, f->s, 0, &md, id, 99, 200, 100000, -1);
    check_all(f->k, id, &md);
    run_ops(f->k, f->s, 0, &md, id, 100, 5000, 100000, -1);
    assert_true(md.n >= TZ_RANK_MIN);
    assert_true(tz_rank_indexed(f->k, id));
    assert_true(count_fences(f->k, id, 1) > (int)(md.n / (2 * TZ_RANK_B)));
    check_all(f->k, id, &md);
    model_free(&md);
}

/* A child runs a workload with a commit per op (a checkpoint midway) and
 * dies without closing; the reopened store replays the WAL, and the index
 * must match the model replayed from the same seed. */
static void test_crash_replay(void **state) {
    fx *f = *state;
    fx_close(f);
    const uint64_t id = 4242;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fx_open(f);
        model md = {0};
        run_ops(f->k, f->s, 1, &md, id, 555, 1500, 900, 700);
        _exit(0); /* no close: a crash */
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    fx_open(f);
    store_stats ss;
    store_get_stats(f->s, &ss);
    assert_true(ss.replayed_records > 0);
    model md = {0};
    run_ops(NULL, NULL, 0, &md, id, 555, 1500, 900, -1);
    assert_true(tz_rank_indexed(f->k, id));
    check_all(f->k, id, &md);
    model_free(&md);
}

/* No RAM copy can be held (a bound of one byte): every read and write
 * takes the store-only path, and the answers are the same. Then a bound
 * that a growing set passes midway: its copy is dropped, then refused (a
 * stub), and the paths change under a live workload. */
static void test_ram_copy_bounds(void **state) {
    fx *f = *state;
    tz_rankmem_set_max(1);
    uint64_t id = ks_new_id(f->k);
    model md = {0};
    run_ops(f->k, f->s, 0, &md, id, 31, 1500, 900, -1);
    check_all(f->k, id, &md);
    assert_true(tz_rankmem_bytes(f->k) < 1024); /* a stub at most */
    run_ops(f->k, f->s, 0, &md, id, 32, 800, 900, -1);
    check_all(f->k, id, &md);
    model_free(&md);

    tz_rankmem_set_max(6000);
    uint64_t id2 = ks_new_id(f->k);
    model m2 = {0};
    for (int round = 0; round < 8; round++) {
        run_ops(f->k, f->s, 0, &m2, id2, 40 + (uint64_t)round, 300, 3000, -1);
        check_all(f->k, id2, &m2);
        assert_true(tz_rankmem_bytes(f->k) <= 6000);
    }
    /* A size that disagrees with the copy's counts: the store answers and
     * the copy becomes a stub (no rebuild on every access). */
    tz_rankmem_set_max(0);
    uint64_t id3 = ks_new_id(f->k);
    model m3 = {0};
    run_ops(f->k, f->s, 0, &m3, id3, 50, 600, 600, -1);
    check_all(f->k, id3, &m3);
    size_t held = tz_rankmem_bytes(f->k);
    uint64_t r = 99;
    assert_int_equal(tz_rank(f->k, id3, m3.n + 1, m3.e[3].m, m3.e[3].ml, m3.e[3].score, &r), ST_OK);
    assert_int_equal(r, 3);
    assert_true(tz_rankmem_bytes(f->k) < held);
    check_all(f->k, id3, &m3);
    model_free(&m3);
    model_free(&m2);
}

/* Copies of several zsets under a bound that holds about one: the least
 * recently used is evicted, every copy that stays is exact. */
static void test_ram_copy_eviction(void **state) {
    fx *f = *state;
    model md[3] = {{0}};
    uint64_t id[3];
    for (int i = 0; i < 3; i++) id[i] = ks_new_id(f->k);
    for (int i = 0; i < 3; i++) run_ops(f->k, f->s, 0, &md[i], id[i], 60 + (uint64_t)i, 900, 600, -1);
    check_all(f->k, id[0], &md[0]);
    size_t one = tz_rankmem_bytes(f->k);
    assert_true(one > 0);
    tz_rankmem_set_max(one + one / 2);
    for (int round = 0; round < 9; round++) {
        int i = round % 3;
        run_ops(f->k, f->s, 0, &md[i], id[i], 70 + (uint64_t)round, 200, 600, -1);
        check_all(f->k, id[i], &md[i]);
        assert_true(tz_rankmem_bytes(f->k) <= one + one / 2);
    }
    for (int i = 0; i < 3; i++) {
        check_all(f->k, id[i], &md[i]);
        model_free(&md[i]);
    }
}

/* FLUSHDB drops every copy (the flushed ids are dead; copies are only
 * derived state). */
static void test_ram_copy_flush(void **state) {
    fx *f = *state;
    uint64_t id = ks_new_id(f->k);
    model md = {0};
    run_ops(f->k, f->s, 0, &md, id, 88, 600, 600, -1);
    check_all(f->k, id, &md);
    assert_true(tz_rankmem_bytes(f->k) > 0);
    assert_int_equal(ks_set_string(f->k, 0, "k", 1, "v", 1, 0, 0, 0), ST_OK);
    assert_int_equal(ks_flushdb(f->k, 0), ST_OK);
    assert_int_equal(tz_rankmem_bytes(f->k), 0);
    model_free(&md);
}

/* A zset without long (hashed) members ranks by counting the score range
 * (store_count_range): straight from LMDB when no memtable holds a write
 * in the counted range, else through the merged view. Ranks are checked
 * with every write in the memtable, after a checkpoint (all from LMDB),
 * and with a few writes on top of it (both paths in one check). */
static void test_rank_count_paths(void **state) {
    fx *f = *state;
    uint64_t id = ks_new_id(f->k);
    model md = {0};
    uint8_t buf[512];
    rnd_state = 77;
    for (int round = 0; round < 8; round++) {
        int nops = round == 0 ? 600 : 25 + round * 10;
        for (int op = 0; op < nops; op++) {
            unsigned i = (unsigned)(rnd() % 700);
            size_t ml;
            if (i % 5 == 0) { /* up to the longest plain member: 494 bytes */
                ml = 488 + i % 7;
                memset(buf, 'L', ml);
                for (unsigned d = 0, v = i; d < 4; d++, v /= 10) buf[ml - 1 - d] = '0' + v % 10;
            } else {
                ml = (size_t)snprintf((char *)buf, sizeof buf, "p%u", i);
            }
            double sc = pick_score();
            long at = model_find(&md, buf, ml);
            if (rnd() % 4 == 0) {
                if (at < 0) continue;
                assert_int_equal(tz_del(f->k, id, buf, ml, md.e[at].score), ST_OK);
                model_remove(&md, (size_t)at);
            } else {
                double old = at >= 0 ? md.e[at].score : 0;
                assert_int_equal(tz_put(f->k, id, buf, ml, sc, at >= 0 ? &old : NULL), ST_OK);
                if (at >= 0) model_remove(&md, (size_t)at);
                model_insert(&md, buf, ml, sc);
            }
            assert_int_equal(tz_rank_maintain(f->k, id, md.n), ST_OK);
        }
        check_all(f->k, id, &md);
        assert_int_equal(store_commit(f->s), ST_OK);
        assert_int_equal(store_checkpoint_sync(f->s), ST_OK);
        check_all(f->k, id, &md);
    }
    model_free(&md);
}

/* With a RAM copy, level-1 splits wait while the memtable holds many
 * unordered writes (up to 4x the block limit), and the zset's first index
 * write after a checkpoint's freeze splits them all. Ranks stay exact at
 * every point. */
static void test_deferred_splits(void **state) {
    fx *f = *state;
    uint64_t id = ks_new_id(f->k);
    model md = {0};
    uint8_t m[32];
    rnd_state = 9;
    for (unsigned i = 0; i < 3000; i++) {
        if (i == 300) check_all(f->k, id, &md); /* builds the copy */
        size_t ml = (size_t)snprintf((char *)m, sizeof m, "d%u", i);
        double sc = (double)(rnd() % 100000);
        assert_int_equal(tz_put(f->k, id, m, ml, sc, NULL), ST_OK);
        model_insert(&md, m, ml, sc);
        assert_int_equal(tz_rank_maintain(f->k, id, md.n), ST_OK);
    }
    uint64_t before = max_block(f->k, id, 1);
    assert_true(before > 8);      /* B = 4: the limit is 2 * 4 */
    assert_true(before <= 4 * 8); /* the hard limit */
    check_all(f->k, id, &md);
    assert_int_equal(store_checkpoint_sync(f->s), ST_OK);
    /* the first index write of the new generation settles the backlog */
    assert_int_equal(tz_del(f->k, id, md.e[5].m, md.e[5].ml, md.e[5].score), ST_OK);
    model_remove(&md, 5);
    assert_true(max_block(f->k, id, 1) <= 8);
    check_all(f->k, id, &md);
    model_free(&md);

    /* Inserts at one end (ascending scores): a block past the hard limit
     * is cut to size whole, so only the last block may be over the limit. */
    uint64_t id2 = ks_new_id(f->k);
    model m2 = {0};
    for (unsigned i = 0; i < 3000; i++) {
        if (i == 300) check_all(f->k, id2, &m2);
        size_t ml = (size_t)snprintf((char *)m, sizeof m, "a%u", i);
        assert_int_equal(tz_put(f->k, id2, m, ml, (double)i, NULL), ST_OK);
        model_insert(&m2, m, ml, (double)i);
        assert_int_equal(tz_rank_maintain(f->k, id2, m2.n), ST_OK);
    }
    int nover;
    level_fences(f->k, id2, 1, NULL, 8, &nover);
    assert_true(nover <= 1);
    check_all(f->k, id2, &m2);
    model_free(&m2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_workload, setup_small, teardown_shape),
        cmocka_unit_test_setup_teardown(test_pop_from_ends, setup_small, teardown_shape),
        cmocka_unit_test_setup_teardown(test_colliding_fence_keys, setup_small, teardown_shape),
        cmocka_unit_test_setup_teardown(test_build_in_one_pass, setup_small, teardown_shape),
        cmocka_unit_test_setup_teardown(test_default_shape, setup_small, teardown_shape),
        cmocka_unit_test_setup_teardown(test_crash_replay, setup_small, teardown_shape),
        cmocka_unit_test_setup_teardown(test_ram_copy_bounds, setup_small, teardown_shape),
        cmocka_unit_test_setup_teardown(test_ram_copy_eviction, setup_small, teardown_shape),
        cmocka_unit_test_setup_teardown(test_ram_copy_flush, setup_small, teardown_shape),
        cmocka_unit_test_setup_teardown(test_deferred_splits, setup_small, teardown_shape),
        cmocka_unit_test_setup_teardown(test_rank_count_paths, setup_small, teardown_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
