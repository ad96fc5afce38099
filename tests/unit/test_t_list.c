/* test_t_list.c — list storage (storage/t_list.c) on a real LMDB store:
 * pushes and pops at both ends, index reads and writes, forward and
 * backward walks, LINSERT/LREM-style middle changes on either side (the
 * shorter side moves; checked against an in-memory model with random
 * operations), trims, the dense-positions header, empty lists deleted,
 * and persistence across a reopen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "storage/keyspace.h"
#include "storage/store.h"
#include "storage/t_list.h"
#include "tests/unit/harness.h"

#include "tests/unit/fx.h"

static void open_or_create(ks *k, const char *key, tl_list *l) {
    int rc = tl_open(l, k, 0, key, strlen(key));
    assert_true(rc == ST_OK || rc == ST_NOTFOUND);
    if (rc == ST_NOTFOUND) tl_create(l);
}

/* The elements joined by ',' (walk forward, or backward then reversed
 * check), into out; also checks tl_get agrees with the walk. */
static void listing(ks *k, const char *key, char *out, size_t cap) {
    tl_list l;
    out[0] = 0;
    int rc = tl_open(&l, k, 0, key, strlen(key));
    if (rc == ST_NOTFOUND) return;
    assert_int_equal(rc, ST_OK);
    assert_int_equal(l.tail - l.head, l.m.count);
    tl_iter it;
    assert_int_equal(tl_iter_open(&l, 0, 0, &it), ST_OK);
    const uint8_t *v;
    size_t vlen;
    uint64_t pos, n = 0;
    size_t off = 0;
    while ((rc = tl_iter_next(&it, &v, &vlen, &pos)) == ST_OK) {
        assert_int_equal(pos, n);
        off += (size_t)snprintf(out + off, cap - off, "%s%.*s", n ? "," : "", (int)vlen, v);
        n++;
    }
    assert_int_equal(rc, ST_NOTFOUND);
    tl_iter_close(&it);
    assert_int_equal(n, l.m.count);
    /* Backward walk visits the same elements in reverse. */
    assert_int_equal(tl_iter_open(&l, l.m.count - 1, 1, &it), ST_OK);
    uint64_t m = l.m.count;
    while ((rc = tl_iter_next(&it, &v, &vlen, &pos)) == ST_OK) {
        m--;
        assert_int_equal(pos, m);
        const uint8_t *g;
        size_t glen;
        assert_int_equal(tl_get(&l, pos, &g, &glen), ST_OK);
        assert_int_equal(glen, vlen);
        assert_memory_equal(g, v, vlen);
    }
    assert_int_equal(m, 0);
    tl_iter_close(&it);
}

static void test_push_pop(void **state) {
    fx *f = *state;
    tl_list l;
    open_or_create(f->k, "L", &l);
    assert_int_equal(tl_push(&l, TL_TAIL, "b", 1), ST_OK);
    assert_int_equal(tl_push(&l, TL_HEAD, "a", 1), ST_OK);
    assert_int_equal(tl_push(&l, TL_TAIL, "c", 1), ST_OK);
    assert_int_equal(tl_commit(&l), ST_OK);
    char buf[256];
    listing(f->k, "L", buf, sizeof buf);
    assert_string_equal(buf, "a,b,c");
    assert_int_equal(tl_open(&l, f->k, 0, "L", 1), ST_OK);
    assert_int_equal(l.head, TL_MID - 1);
    assert_int_equal(l.tail, TL_MID + 2);
    assert_int_equal(tl_pop(&l, TL_HEAD), ST_OK);
    assert_int_equal(tl_pop(&l, TL_TAIL), ST_OK);
    assert_int_equal(tl_commit(&l), ST_OK);
    listing(f->k, "L", buf, sizeof buf);
    assert_string_equal(buf, "b");
    assert_int_equal(tl_open(&l, f->k, 0, "L", 1), ST_OK);
    assert_int_equal(tl_pop(&l, TL_TAIL), ST_OK);
    assert_int_equal(tl_pop(&l, TL_TAIL), ST_NOTFOUND);
    assert_int_equal(tl_commit(&l), ST_OK);
    /* Empty lists are deleted. */
    assert_int_equal(tl_open(&l, f->k, 0, "L", 1), ST_NOTFOUND);
}

static void test_set_get_wrongtype(void **state) {
    fx *f = *state;
    tl_list l;
    open_or_create(f->k, "L", &l);
    for (int i = 0; i < 5; i++) assert_int_equal(tl_push(&l, TL_TAIL, "x", 1), ST_OK);
    assert_int_equal(tl_set(&l, 2, "mid", 3), ST_OK);
    assert_int_equal(tl_set(&l, 5, "no", 2), ST_NOTFOUND);
    assert_int_equal(tl_commit(&l), ST_OK);
    char buf[256];
    listing(f->k, "L", buf, sizeof buf);
    assert_string_equal(buf, "x,x,mid,x,x");
    assert_int_equal(ks_set_string(f->k, 0, "S", 1, "v", 1, 0, 0, 0), ST_OK);
    assert_int_equal(tl_open(&l, f->k, 0, "S", 1), ST_WRONGTYPE);
}

/* Model: an array of small ints as strings. */
#define MAXN 400
static int model[MAXN];
static int mn;

static void model_string(char *out, size_t cap) {
    size_t off = 0;
    out[0] = 0;
    for (int i = 0; i < mn; i++) off += (size_t)snprintf(out + off, cap - off, "%s%d", i ? "," : "", model[i]);
}

static void test_random_against_model(void **state) {
    fx *f = *state;
    srand(7);
    mn = 0;
    static char a[MAXN * 8], b[MAXN * 8];
    for (int step = 0; step < 3000; step++) {
        tl_list l;
        open_or_create(f->k, "R", &l);
        int op = rand() % 7;
        char v[16];
        int x = rand() % 10;
        snprintf(v, sizeof v, "%d", x);
        if (op <= 1 && mn < MAXN - 1) {
            int where = rand() % 2;
            assert_int_equal(tl_push(&l, where, v, strlen(v)), ST_OK);
            if (where == TL_HEAD) {
                memmove(model + 1, model, sizeof(int) * (size_t)mn);
                model[0] = x;
            } else model[mn] = x;
            mn++;
        } else if (op == 2 && mn > 0) {
            int where = rand() % 2;
            assert_int_equal(tl_pop(&l, where), ST_OK);
            if (where == TL_HEAD) memmove(model, model + 1, sizeof(int) * (size_t)(mn - 1));
            mn--;
        } else if (op == 3 && mn < MAXN - 1) {
            int pos = rand() % (mn + 1);
            assert_int_equal(tl_insert(&l, (uint64_t)pos, v, strlen(v)), ST_OK);
            memmove(model + pos + 1, model + pos, sizeof(int) * (size_t)(mn - pos));
            model[pos] = x;
            mn++;
        } else if (op == 4 && mn > 0) {
            /* remove every element equal to x (LREM 0 x) */
            uint64_t pos[MAXN];
            size_t n = 0;
            int w = 0;
            for (int i = 0; i < mn; i++) {
                if (model[i] == x) pos[n++] = (uint64_t)i;
                else model[w++] = model[i];
            }
            mn = w;
            assert_int_equal(tl_remove_positions(&l, pos, n), ST_OK);
        } else if (op == 5 && mn > 0) {
            int s = rand() % mn, e = rand() % mn;
            int none = s > e;
            assert_int_equal(tl_trim(&l, (uint64_t)s, (uint64_t)e, none), ST_OK);
            if (none) mn = 0;
            else {
                memmove(model, model + s, sizeof(int) * (size_t)(e - s + 1));
                mn = e - s + 1;
            }
        } else if (op == 6 && mn > 0) {
            int i = rand() % mn;
            assert_int_equal(tl_set(&l, (uint64_t)i, v, strlen(v)), ST_OK);
            model[i] = x;
        }
        assert_int_equal(tl_commit(&l), ST_OK);
        if (step % 500 == 499) {
            fx_close(f);
            fx_open(f);
        }
        model_string(a, sizeof a);
        listing(f->k, "R", b, sizeof b);
        assert_string_equal(a, b);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_push_pop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_get_wrongtype, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_against_model, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
