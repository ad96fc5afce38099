/* test_memtable.c — the memtable against a sorted-array model.
 *
 * Random puts, overwrites and tombstones over a small key space (so keys
 * repeat and share prefixes), interleaved with seeks, forward and backward
 * walks and walks that keep stepping while new keys are put, checking every
 * answer against the model. Lazy linking is what is exercised: new keys wait
 * in a pending array until an ordered access links them, and a cursor
 * stepped after a put must still see the new key, as with eager linking.
 * Seeks through a finger are checked the same way. */
#include "storage/memtable.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define NKEYS 3000
#define NLISTS 3

typedef struct {
    char k[24];
    size_t klen;
    int present; /* node exists (value or tombstone) */
    int tomb;
    uint32_t val;
} mkey;

static mkey model[NLISTS][NKEYS];
static uint32_t rng = 12345;

static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Keys with a shared prefix and varying lengths, in no particular order. */
static void make_keys(void) {
    for (int l = 0; l < NLISTS; l++)
        for (int i = 0; i < NKEYS; i++) {
            mkey *m = &model[l][i];
            int n = snprintf(m->k, sizeof m->k, "key:%u%s", (unsigned)(i * 7919 % NKEYS),
                             (i % 5) ? "" : "-x");
            m->klen = (size_t)n;
            m->present = 0;
        }
}

static int idx_cmp(const void *a, const void *b) {
    const mkey *x = a, *y = b;
    return mt_cmp(x->k, x->klen, y->k, y->klen);
}

/* Index in the model (sorted by key) of the first present key >= k. */
static int model_ge(int l, const char *k, size_t klen) {
    for (int i = 0; i < NKEYS; i++)
        if (model[l][i].present && mt_cmp(model[l][i].k, model[l][i].klen, k, klen) >= 0) return i;
    return -1;
}

static int model_lt(int l, const char *k, size_t klen, int strict) {
    for (int i = NKEYS - 1; i >= 0; i--) {
        if (!model[l][i].present) continue;
        int c = mt_cmp(model[l][i].k, model[l][i].klen, k, klen);
        if (strict ? c < 0 : c <= 0) return i;
    }
    return -1;
}

static void check_node(int l, int i, const mt_node *n) {
    if (i < 0) {
        assert_null(n);
        return;
    }
    assert_non_null(n);
    const mkey *m = &model[l][i];
    assert_int_equal(n->klen, m->klen);
    assert_memory_equal(mt_key(n), m->k, m->klen);
    if (m->tomb) {
        assert_null(n->val);
    } else {
        assert_non_null(n->val);
        uint32_t v;
        memcpy(&v, n->val, 4);
        assert_int_equal(v, m->val);
    }
}

static void put(memtable *mt, int l, int i, int tomb) {
    mkey *m = &model[l][i];
    uint32_t v = rnd();
    assert_int_equal(mt_put(mt, l, m->k, m->klen, &v, 4, tomb), 0);
    m->present = 1;
    m->tomb = tomb;
    m->val = v;
}

static void test_random_against_model(void **state) {
    (void)state;
    make_keys();
    for (int l = 0; l < NLISTS; l++) qsort(model[l], NKEYS, sizeof(mkey), idx_cmp);
    memtable *mt = mt_new(NLISTS);
    assert_non_null(mt);
    for (int step = 0; step < 60000; step++) {
        int l = (int)(rnd() % NLISTS);
        int i = (int)(rnd() % NKEYS);
        uint32_t op = rnd() % 100;
        const mkey *q = &model[l][i];
        if (op < 55) {
            put(mt, l, i, rnd() % 4 == 0);
        } else if (op < 70) {
            mt_node *n = mt_find(mt, l, q->k, q->klen);
            check_node(l, q->present ? i : -1, n);
        } else if (op < 80) {
            check_node(l, model_ge(l, q->k, q->klen), mt_seek_ge(mt, l, q->k, q->klen));
        } else if (op < 88) {
            int strict = (int)(rnd() & 1);
            check_node(l, model_lt(l, q->k, q->klen, strict),
                       mt_seek_lt(mt, l, q->k, q->klen, strict));
        } else {
            /* Walk forward from q, putting new keys on the way: the walk
             * must see each key put ahead of it. */
            mt_node *n = mt_seek_ge(mt, l, q->k, q->klen);
            int at = model_ge(l, q->k, q->klen);
            for (int s = 0; s < 50 && n; s++) {
                check_node(l, at, n);
                int j = (int)(rnd() % NKEYS);
                if (rnd() % 3 == 0 && !model[l][j].present) put(mt, l, j, 0);
                n = mt_next(mt, l, n);
                int nx = -1;
                for (int t = at + 1; t < NKEYS; t++)
                    if (model[l][t].present) {
                        nx = t;
                        break;
                    }
                at = nx;
            }
        }
    }
    /* A full ordered walk of each list equals the model. */
    for (int l = 0; l < NLISTS; l++) {
        mt_node *n = mt_seek_ge(mt, l, NULL, 0);
        uint64_t count = 0;
        for (int i = 0; i < NKEYS; i++) {
            if (!model[l][i].present) continue;
            check_node(l, i, n);
            n = mt_next(mt, l, n);
            count++;
        }
        assert_null(n);
        assert_int_equal(mt->lists[l].count, count);
        int last = -1;
        for (int i = 0; i < NKEYS; i++)
            if (model[l][i].present) last = i;
        check_node(l, last, mt_seek_lt(mt, l, NULL, 0, 1));
    }
    mt_free(mt);
}

/* mt_link(-1), as the checkpoint thread calls it, leaves every list linked
 * and in order, and freeing a memtable with unlinked nodes leaks nothing
 * (ASan's leak checker would say). */
static void test_link_all_and_free_pending(void **state) {
    (void)state;
    memtable *mt = mt_new(2);
    assert_non_null(mt);
    char k[16];
    for (int i = 999; i >= 0; i--) {
        int n = snprintf(k, sizeof k, "k%04d", i);
        assert_int_equal(mt_put(mt, i & 1, k, (size_t)n, "v", 1, 0), 0);
    }
    assert_int_equal(mt->lists[0].npend, 500);
    mt_link(mt, -1);
    assert_int_equal(mt->lists[0].npend, 0);
    assert_int_equal(mt->lists[1].npend, 0);
    for (int l = 0; l < 2; l++) {
        int expect = l, seen = 0;
        for (mt_node *n = mt->lists[l].head->next[0]; n; n = n->next[0], expect += 2, seen++) {
            int nk = snprintf(k, sizeof k, "k%04d", expect);
            assert_int_equal(n->klen, (size_t)nk);
            assert_memory_equal(mt_key(n), k, (size_t)nk);
        }
        assert_int_equal(seen, 500);
    }
    memtable *m2 = mt_new(1);
    assert_non_null(m2);
    assert_int_equal(mt_put(m2, 0, "pending", 7, "v", 1, 0), 0);
    mt_free(m2);
    mt_free(mt);
}

/* Seeks through a finger (mt_seek_ge_f, mt_seek_lt_f) give what seeks from
 * the head give, whichever way and however far the key moves from the
 * previous one (a random walk with small steps and some jumps, as a random
 * descent makes), and after puts, which leave the finger stale. */
static void test_finger_against_model(void **state) {
    (void)state;
    make_keys();
    for (int l = 0; l < NLISTS; l++) qsort(model[l], NKEYS, sizeof(mkey), idx_cmp);
    memtable *mt = mt_new(NLISTS);
    assert_non_null(mt);
    for (int i = 0; i < NKEYS; i++)
        if (rnd() % 3) put(mt, 1, i, rnd() % 4 == 0);
    mt_finger f;
    memset(&f, 0, sizeof f);
    int at = NKEYS / 2;
    for (int step = 0; step < 15000; step++) {
        uint32_t op = rnd() % 100;
        if (op < 3) {
            put(mt, 1, (int)(rnd() % NKEYS), 0);
            continue;
        }
        if (op < 10) at = (int)(rnd() % NKEYS);
        else at += (int)(rnd() % 21) - 10;
        if (at < 0) at = 0;
        if (at >= NKEYS) at = NKEYS - 1;
        const mkey *q = &model[1][at];
        /* half the keys are cut short: between two keys, not on one */
        size_t ql = (rnd() & 1) ? q->klen : q->klen - 1;
        if (op < 55) {
            check_node(1, model_ge(1, q->k, ql), mt_seek_ge_f(mt, 1, q->k, ql, &f));
        } else {
            int strict = (int)(rnd() & 1);
            check_node(1, model_lt(1, q->k, ql, strict), mt_seek_lt_f(mt, 1, q->k, ql, strict, &f));
        }
    }
    /* A finger taken on one list is not trusted on another. */
    put(mt, 0, 5, 0);
    const mkey *q = &model[0][5];
    check_node(0, model_ge(0, q->k, q->klen), mt_seek_ge_f(mt, 0, q->k, q->klen, &f));
    mt_free(mt);
}

/* Values of every size class (empty, arena-sized, just over the arena's
 * value limit, larger than a quarter chunk) overwritten in every order and
 * turned into tombstones: each read gives the last value put, an
 * overwritten arena value stays readable (iterators rely on it), and the
 * byte count never falls as arena values are replaced. ASan (one chunk per
 * allocation there) checks the bounds and that mt_free frees everything. */
static void fill(uint8_t *b, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(seed * 31 + i * 7);
}

static void test_value_sizes_and_overwrites(void **state) {
    (void)state;
    static const size_t sizes[] = {0, 1, 100, MT_ARENA_VALUE_MAX, MT_ARENA_VALUE_MAX + 1,
                                   MT_ARENA_CHUNK / 4 + 8, 3 * MT_ARENA_CHUNK};
    enum { NS = sizeof sizes / sizeof *sizes, NK = 40 };
    static uint8_t buf[3 * MT_ARENA_CHUNK], want[3 * MT_ARENA_CHUNK];
    size_t cur[NK];
    uint32_t seed[NK];
    int tomb[NK];
    memtable *mt = mt_new(2);
    assert_non_null(mt);
    const uint8_t *kept = NULL;
    size_t kept_len = 0;
    for (int round = 0; round < 400; round++) {
        int k = (int)(rnd() % NK);
        char key[16];
        int kl = snprintf(key, sizeof key, "k%d", k);
        uint64_t before = mt->bytes;
        if (round % 7 == 3) {
            assert_int_equal(mt_put(mt, 1, key, (size_t)kl, NULL, 0, 1), 0);
            tomb[k] = 1;
        } else {
            size_t n = sizes[rnd() % NS];
            seed[k] = rnd();
            fill(buf, n, seed[k]);
            mt_node *old = mt_find(mt, 1, key, (size_t)kl);
            int arena_to_arena = old && !old->vheap && n <= MT_ARENA_VALUE_MAX;
            if (!kept && old && old->val && !old->vheap && old->vlen == 100) {
                kept = old->val; /* an arena value about to be replaced */
                kept_len = old->vlen;
                memcpy(want, kept, kept_len);
            }
            assert_int_equal(mt_put(mt, 1, key, (size_t)kl, buf, n, 0), 0);
            cur[k] = n;
            tomb[k] = 0;
            if (arena_to_arena) assert_true(mt->bytes >= before);
        }
        mt_node *n = mt_find(mt, 1, key, (size_t)kl);
        assert_non_null(n);
        if (tomb[k]) {
            assert_null(n->val);
        } else {
            assert_int_equal(n->vlen, cur[k]);
            assert_int_equal(n->vheap, cur[k] > MT_ARENA_VALUE_MAX);
            fill(buf, cur[k], seed[k]);
            if (cur[k]) assert_memory_equal(n->val, buf, cur[k]);
        }
    }
    if (kept) assert_memory_equal(kept, want, kept_len);
    assert_true(mt->bytes > 0);
    mt_link(mt, -1);
    int seen = 0;
    for (mt_node *n = mt_seek_ge(mt, 1, NULL, 0); n; n = mt_next(mt, 1, n)) seen++;
    assert_true(seen > 0 && seen <= NK);
    mt_free(mt);
    /* An empty memtable holds no arena chunk. */
    memtable *e = mt_new(2);
    assert_int_equal(e->bytes, 0);
    mt_free(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_link_all_and_free_pending),
        cmocka_unit_test(test_finger_against_model),
        cmocka_unit_test(test_value_sizes_and_overwrites),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
