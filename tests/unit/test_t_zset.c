/* test_t_zset.c — sorted-set storage (storage/t_zset.c) on a real LMDB
 * store: point operations and -0.0, the merged score-index iterator against
 * a sorted reference model (plain and hashed members, shared 400-byte
 * prefixes, the 494/495-byte plain/hashed boundary, equal scores), score and
 * member seeks in both directions with open and closed bounds, deleting
 * while iterating, ZSCAN resumption, and the same order after a checkpoint
 * and a reopen (entries read from LMDB instead of the memtable). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/keyspace.h"
#include "storage/store.h"
#include "storage/t_zset.h"
#include "tests/unit/harness.h"

#include "tests/unit/fx.h"

/* ------------------------------------------------------------------ */
/* reference model                                                     */

typedef struct ent {
    double score;
    uint8_t *m;
    size_t ml;
} ent;

static int ent_cmp(const void *a, const void *b) {
    const ent *x = a, *y = b;
    if (x->score < y->score) return -1;
    if (x->score > y->score) return 1;
    size_t n = x->ml < y->ml ? x->ml : y->ml;
    int c = n ? memcmp(x->m, y->m, n) : 0;
    if (c) return c;
    return x->ml < y->ml ? -1 : x->ml > y->ml ? 1 : 0;
}

static uint64_t rnd_state = 88172645463325252ULL;

static uint64_t rnd(void) {
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* A member of one of several shapes, written into buf. */
static size_t make_member(uint8_t *buf, int i) {
    size_t n;
    switch (rnd() % 6) {
    case 0: /* short */
        n = (size_t)snprintf((char *)buf, 64, "m%d", i);
        break;
    case 1: /* 400-byte shared prefix, random tail: hashed in both indexes */
        memset(buf, 'P', 400);
        n = 400 + 100 + rnd() % 200;
        for (size_t j = 400; j < n; j++) buf[j] = (uint8_t)(rnd() % 3 + 'a');
        break;
    case 2: /* around the 494/495 and 502/503 boundaries, unique tail */
        n = 490 + rnd() % 16;
        memset(buf, 'B', n);
        for (int d = 0, v = i; d < 8; d++, v /= 10) buf[n - 1 - d] = (uint8_t)('0' + v % 10);
        break;
    case 3: /* binary */
        n = 1 + rnd() % 30;
        for (size_t j = 0; j < n; j++) buf[j] = (uint8_t)rnd();
        snprintf((char *)buf + n, 16, "#%d", i);
        n += strlen((char *)buf + n);
        break;
    case 4: /* long, no shared prefix */
        n = 600 + rnd() % 100;
        for (size_t j = 0; j < n; j++) buf[j] = (uint8_t)(rnd() % 256);
        break;
    default: /* a prefix of the shared one, or the prefix plus a byte */
        n = 398 + rnd() % 4;
        memset(buf, 'P', n);
        buf[n - 1] = (uint8_t)('a' + i % 26);
        snprintf((char *)buf + n, 16, "%d", i);
        n += strlen((char *)buf + n);
        break;
    }
    return n;
}

static const double SCORES[] = {-INFINITY, -1e300, -2.5, -1, 0, 0, 0, 1, 1, 1.5, 7, 1e17, INFINITY};

/* Fill zset `id` with n random members; the model gets them sorted. */
static ent *fill(fx *f, uint64_t id, int n) {
    ent *model = calloc((size_t)n, sizeof *model);
    uint8_t buf[1024];
    for (int i = 0; i < n; i++) {
        size_t ml = make_member(buf, i);
        double s = SCORES[rnd() % (sizeof SCORES / sizeof SCORES[0])];
        double old;
        int rc = tz_get(f->k, id, buf, ml, &old);
        if (rc == ST_OK) { /* random bytes collided: keep the first */
            i--;
            continue;
        }
        assert_int_equal(rc, ST_NOTFOUND);
        assert_int_equal(tz_put(f->k, id, buf, ml, s, NULL), ST_OK);
        model[i].score = s;
        model[i].m = malloc(ml);
        memcpy(model[i].m, buf, ml);
        model[i].ml = ml;
    }
    qsort(model, (size_t)n, sizeof *model, ent_cmp);
    return model;
}

static void free_model(ent *m, int n) {
    for (int i = 0; i < n; i++) free(m[i].m);
    free(m);
}

static void expect_at(const tz_iter *it, const ent *e) {
    assert_true(tz_iter_valid(it));
    size_t ml;
    const uint8_t *m = tz_iter_member(it, &ml);
    assert_int_equal(ml, e->ml);
    assert_memory_equal(m, e->m, ml);
    double s = tz_iter_score(it);
    assert_true(s == e->score);
}

/* Walk the whole index in both directions against the model. */
static void check_order(fx *f, uint64_t id, const ent *model, int n) {
    for (int rev = 0; rev < 2; rev++) {
        tz_iter it;
        assert_int_equal(tz_iter_open(&it, f->k, id, rev), ST_OK);
        int rc = tz_iter_first(&it);
        for (int i = 0; i < n; i++) {
            assert_int_equal(rc, ST_OK);
            expect_at(&it, &model[rev ? n - 1 - i : i]);
            rc = tz_iter_next(&it);
        }
        assert_int_equal(rc, ST_NOTFOUND);
        tz_iter_close(&it);
    }
}

/* ------------------------------------------------------------------ */
/* tests                                                               */

static void test_point_ops_and_negative_zero(void **state) {
    fx *f = *state;
    uint64_t id = ks_new_id(f->k);
    double s;
    assert_int_equal(tz_get(f->k, id, "a", 1, &s), ST_NOTFOUND);
    assert_int_equal(tz_put(f->k, id, "a", 1, 1.5, NULL), ST_OK);
    assert_int_equal(tz_get(f->k, id, "a", 1, &s), ST_OK);
    assert_true(s == 1.5);
    double old = 1.5;
    assert_int_equal(tz_put(f->k, id, "a", 1, -0.0, &old), ST_OK);
    assert_int_equal(tz_get(f->k, id, "a", 1, &s), ST_OK);
    assert_true(s == 0 && signbit(s));
    old = -0.0;
    assert_int_equal(tz_put(f->k, id, "a", 1, 0.0, &old), ST_OK); /* same score64, sign flag */
    assert_int_equal(tz_get(f->k, id, "a", 1, &s), ST_OK);
    assert_true(s == 0 && !signbit(s));
    /* a long member keeps its bytes and is compared on read */
    uint8_t big[700], other[700];
    memset(big, 'x', sizeof big);
    memcpy(other, big, sizeof other);
    other[650] = 'y';
    assert_int_equal(tz_put(f->k, id, big, sizeof big, -0.0, NULL), ST_OK);
    assert_int_equal(tz_get(f->k, id, big, sizeof big, &s), ST_OK);
    assert_true(s == 0 && signbit(s));
    assert_int_equal(tz_get(f->k, id, other, sizeof other, &s), ST_NOTFOUND);
    /* the score index holds exactly the two members, -0 kept */
    tz_iter it;
    assert_int_equal(tz_iter_open(&it, f->k, id, 0), ST_OK);
    assert_int_equal(tz_iter_first(&it), ST_OK);
    size_t ml;
    const uint8_t *m = tz_iter_member(&it, &ml);
    assert_int_equal(ml, 1);
    assert_memory_equal(m, "a", 1);
    assert_int_equal(tz_iter_next(&it), ST_OK);
    m = tz_iter_member(&it, &ml);
    assert_int_equal(ml, sizeof big);
    assert_true(signbit(tz_iter_score(&it)));
    assert_int_equal(tz_iter_next(&it), ST_NOTFOUND);
    tz_iter_close(&it);
    assert_int_equal(tz_del(f->k, id, big, sizeof big, -0.0), ST_OK);
    assert_int_equal(tz_del(f->k, id, "a", 1, 0.0), ST_OK);
    assert_int_equal(tz_iter_open(&it, f->k, id, 1), ST_OK);
    assert_int_equal(tz_iter_first(&it), ST_NOTFOUND);
    tz_iter_close(&it);
    assert_int_equal(tz_get(f->k, id, "a", 1, &s), ST_NOTFOUND);
}

static void test_order_matches_model(void **state) {
    fx *f = *state;
    const int n = 600;
    uint64_t id = ks_new_id(f->k);
    uint64_t other = ks_new_id(f->k); /* a neighbour collection must not leak in */
    assert_int_equal(tz_put(f->k, other, "zzz", 3, -5, NULL), ST_OK);
    ent *model = fill(f, id, n);
    check_order(f, id, model, n);
    /* after a checkpoint the entries come from LMDB */
    assert_int_equal(ks_flush_counters(f->k), ST_OK);
    assert_int_equal(store_commit(f->s), ST_OK);
    assert_int_equal(store_checkpoint_sync(f->s), ST_OK);
    check_order(f, id, model, n);
    fx_close(f);
    fx_open(f);
    check_order(f, id, model, n);
    free_model(model, n);
}

/* Index of the first model entry >= (s, m) (or > when excl). */
static int model_lower(const ent *model, int n, double s, const uint8_t *m, size_t ml, int excl) {
    ent probe = {s, (uint8_t *)m, ml};
    for (int i = 0; i < n; i++) {
        int c = ent_cmp(&model[i], &probe);
        if (excl ? c > 0 : c >= 0) return i;
    }
    return n;
}

static void test_seeks(void **state) {
    fx *f = *state;
    const int n = 400;
    uint64_t id = ks_new_id(f->k);
    ent *model = fill(f, id, n);
    /* score seeks */
    for (size_t si = 0; si < sizeof SCORES / sizeof SCORES[0]; si++) {
        double s = SCORES[si];
        for (int excl = 0; excl < 2; excl++) {
            tz_iter it;
            assert_int_equal(tz_iter_open(&it, f->k, id, 0), ST_OK);
            int want = 0;
            while (want < n && (excl ? model[want].score <= s : model[want].score < s)) want++;
            int rc = tz_iter_seek_score(&it, s, excl);
            if (want == n) assert_int_equal(rc, ST_NOTFOUND);
            else expect_at(&it, &model[want]);
            tz_iter_close(&it);

            assert_int_equal(tz_iter_open(&it, f->k, id, 1), ST_OK);
            want = n - 1;
            while (want >= 0 && (excl ? model[want].score >= s : model[want].score > s)) want--;
            rc = tz_iter_seek_score(&it, s, excl);
            if (want < 0) assert_int_equal(rc, ST_NOTFOUND);
            else expect_at(&it, &model[want]);
            tz_iter_close(&it);
        }
    }
    /* member seeks: at every entry, and at bounds cut from or extending it */
    for (int i = 0; i < n; i++) {
        for (int variant = 0; variant < 4; variant++) {
            uint8_t b[1100];
            size_t bl = model[i].ml;
            memcpy(b, model[i].m, bl);
            if (variant == 1 && bl > 0) bl = bl > 400 ? 400 + rnd() % (bl - 400) : bl - 1;
            if (variant == 2) b[bl++] = 0;
            if (variant == 3 && bl > 0) b[bl - 1] ^= 0x80;
            double s = model[i].score;
            for (int excl = 0; excl < 2; excl++) {
                tz_iter it;
                assert_int_equal(tz_iter_open(&it, f->k, id, 0), ST_OK);
                int want = model_lower(model, n, s, b, bl, excl);
                int rc = tz_iter_seek_member(&it, s, b, bl, excl);
                if (want == n) assert_int_equal(rc, ST_NOTFOUND);
                else expect_at(&it, &model[want]);
                tz_iter_close(&it);
                /* descending: the last entry <= bound (< when excl) */
                assert_int_equal(tz_iter_open(&it, f->k, id, 1), ST_OK);
                want = model_lower(model, n, s, b, bl, !excl) - 1;
                rc = tz_iter_seek_member(&it, s, b, bl, excl);
                if (want < 0) assert_int_equal(rc, ST_NOTFOUND);
                else expect_at(&it, &model[want]);
                tz_iter_close(&it);
            }
        }
    }
    free_model(model, n);
}

static void test_delete_while_iterating(void **state) {
    fx *f = *state;
    const int n = 300;
    uint64_t id = ks_new_id(f->k);
    ent *model = fill(f, id, n);
    assert_int_equal(store_commit(f->s), ST_OK);
    assert_int_equal(store_checkpoint_sync(f->s), ST_OK); /* half from LMDB... */
    /* ...and delete every other entry while walking down */
    tz_iter it;
    assert_int_equal(tz_iter_open(&it, f->k, id, 1), ST_OK);
    int rc = tz_iter_first(&it);
    int i = n - 1;
    while (rc == ST_OK) {
        expect_at(&it, &model[i]);
        if (i % 2 == 0) {
            size_t ml;
            const uint8_t *m = tz_iter_member(&it, &ml);
            assert_int_equal(tz_del(f->k, id, m, ml, tz_iter_score(&it)), ST_OK);
        }
        i--;
        rc = tz_iter_next(&it);
    }
    assert_int_equal(i, -1);
    tz_iter_close(&it);
    int kept = 0;
    for (int j = 0; j < n; j++) {
        if (j % 2 == 0) {
            free(model[j].m);
            continue;
        }
        model[kept++] = model[j];
    }
    check_order(f, id, model, kept);
    for (int j = 0; j < kept; j++) free(model[j].m);
    free(model);
}

typedef struct scan_acc {
    int n;
    int seen_long;
} scan_acc;

static int scan_cb(void *ud, const uint8_t *m, size_t ml, double score) {
    (void)m;
    (void)score;
    scan_acc *a = ud;
    a->n++;
    if (ml > 502) a->seen_long++;
    return 0;
}

static void test_scan_resumes(void **state) {
    fx *f = *state;
    const int n = 250;
    uint64_t id = ks_new_id(f->k);
    ent *model = fill(f, id, n);
    int nlong = 0;
    for (int i = 0; i < n; i++) nlong += model[i].ml > 502;
    uint8_t pos[TZ_SCAN_POS_MAX];
    size_t poslen = 0;
    scan_acc acc = {0, 0};
    int done = 0, calls = 0;
    while (!done) {
        assert_int_equal(tz_scan(f->k, id, pos, &poslen, 7, scan_cb, &acc, &done), ST_OK);
        calls++;
        assert_true(calls < 1000);
    }
    assert_int_equal(acc.n, n);
    assert_int_equal(acc.seen_long, nlong);
    assert_true(calls >= n / 7);
    free_model(model, n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_point_ops_and_negative_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_matches_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seeks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_while_iterating, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_resumes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
