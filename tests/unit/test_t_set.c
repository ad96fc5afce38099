/* test_t_set.c — set storage (storage/t_set.c) on a real LMDB store:
 * integer and other members (canonical integers only get the integer
 * form), iteration order (integers numerically, then bytes), the hashed
 * long-member form, membership of one set's entries in another, counters
 * in the header, empty sets deleted, persistence, and random draws. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "storage/cm_pick.h"
#include "storage/keyspace.h"
#include "storage/store.h"
#include "storage/t_set.h"
#include "tests/unit/harness.h"

#include "tests/unit/fx.h"

/* Add NUL-terminated members to the set at key (created if missing). */
static void add(ks *k, const char *key, const char **members) {
    ts_set s;
    int rc = ts_open(&s, k, 0, key, strlen(key));
    assert_true(rc == ST_OK || rc == ST_NOTFOUND);
    if (rc == ST_NOTFOUND) ts_create(&s);
    for (; *members; members++) {
        int a;
        assert_int_equal(ts_add(&s, *members, strlen(*members), &a), ST_OK);
    }
    assert_int_equal(ts_commit(&s), ST_OK);
}

/* The members of a set in iteration order, joined by ',' into out. */
static void listing(ks *k, const char *key, char *out, size_t cap) {
    ts_set s;
    out[0] = 0;
    if (ts_open(&s, k, 0, key, strlen(key)) != ST_OK) return;
    cm_iter it;
    assert_int_equal(cm_iter_open(&it, k, s.m.id, NULL, 0), ST_OK);
    cm_entry e;
    size_t n = 0;
    while (cm_iter_next(&it, &e) == ST_OK) {
        char buf[TS_INT_TEXT];
        const uint8_t *t;
        size_t tl;
        ts_entry_text(e.kind, e.member, e.mlen, buf, &t, &tl);
        if (n && n + 1 < cap) out[n++] = ',';
        size_t c = tl < cap - n - 1 ? tl : cap - n - 1;
        memcpy(out + n, t, c);
        n += c;
        out[n] = 0;
    }
    cm_iter_close(&it);
}

static void test_members_and_order(void **state) {
    fx *f = *state;
    const char *m[] = {"10", "b", "-5", "a", "2", "007", "-0", "", "9223372036854775807",
                       "-9223372036854775808", "9223372036854775808", "2", NULL};
    add(f->k, "s", m);
    ts_set s;
    assert_int_equal(ts_open(&s, f->k, 0, "s", 1), ST_OK);
    assert_int_equal(s.m.count, 11);
    assert_int_equal(s.nint, 5); /* 10 -5 2 and the two int64 limits */
    char out[512];
    listing(f->k, "s", out, sizeof out);
    assert_string_equal(out, "-9223372036854775808,-5,2,10,9223372036854775807,,-0,007,"
                             "9223372036854775808,a,b");
    assert_int_equal(ts_ismember(&s, "2", 1), 1);
    assert_int_equal(ts_ismember(&s, "02", 2), 0);
    assert_int_equal(ts_ismember(&s, "007", 3), 1);
    assert_int_equal(ts_ismember(&s, "7", 1), 0);
    assert_int_equal(ts_ismember(&s, "", 0), 1);
    int r;
    assert_int_equal(ts_rem(&s, "10", 2, &r), ST_OK);
    assert_true(r);
    assert_int_equal(ts_rem(&s, "10", 2, &r), ST_OK);
    assert_false(r);
    assert_int_equal(ts_rem(&s, "a", 1, &r), ST_OK);
    assert_true(r);
    assert_int_equal(s.nint, 4);
    assert_int_equal(s.m.count, 9);
    assert_int_equal(ts_commit(&s), ST_OK);
    ks_meta meta;
    assert_int_equal(ks_lookup(f->k, 0, "s", 1, KS_SET, &meta), ST_OK);
    uint8_t flags;
    uint64_t nint, nlong;
    ts_hdr_decode(&meta, &flags, &nint, &nlong);
    assert_int_equal(meta.count, 9);
    assert_int_equal(nint, 4);
    assert_int_equal(nlong, 0);
    ks_meta_release(&meta);
}

static void test_long_members_and_cross_sets(void **state) {
    fx *f = *state;
    char a[600], b[600], c[3000];
    memset(a, 'L', sizeof a);
    memcpy(b, a, sizeof b);
    b[599] = 'M';
    memset(c, 'L', sizeof c);
    a[599] = 0;
    b[599] = 'M';
    /* a: 599 'L', b: 599 'L' + 'M' -> two long members sharing 400 bytes */
    ts_set s1, s2;
    assert_int_equal(ts_open(&s1, f->k, 0, "one", 3), ST_NOTFOUND);
    ts_create(&s1);
    int added;
    assert_int_equal(ts_add(&s1, a, 599, &added), ST_OK);
    assert_int_equal(ts_add(&s1, b, 600, &added), ST_OK);
    assert_int_equal(ts_add(&s1, c, sizeof c, &added), ST_OK);
    assert_int_equal(ts_add(&s1, "42", 2, &added), ST_OK);
    assert_int_equal(ts_add(&s1, "x", 1, &added), ST_OK);
    assert_int_equal(ts_add(&s1, b, 600, &added), ST_OK);
    assert_false(added);
    assert_int_equal(s1.nlong, 3);
    assert_int_equal(ts_commit(&s1), ST_OK);

    assert_int_equal(ts_open(&s2, f->k, 0, "two", 3), ST_NOTFOUND);
    ts_create(&s2);
    assert_int_equal(ts_add(&s2, b, 600, &added), ST_OK);
    assert_int_equal(ts_add(&s2, "42", 2, &added), ST_OK);
    assert_int_equal(ts_add(&s2, "y", 1, &added), ST_OK);
    assert_int_equal(ts_commit(&s2), ST_OK);

    /* intersect by walking one and probing the other with its entries */
    cm_iter it;
    cm_entry e;
    int common = 0, long_common = 0;
    assert_int_equal(cm_iter_open(&it, f->k, s1.m.id, NULL, 0), ST_OK);
    while (cm_iter_next(&it, &e) == ST_OK) {
        int m = ts_has_entry(&s2, e.kind, e.member, e.mlen);
        assert_true(m >= 0);
        common += m;
        if (m && e.mlen == 600) long_common++;
    }
    cm_iter_close(&it);
    assert_int_equal(common, 2);
    assert_int_equal(long_common, 1);
    assert_int_equal(ts_ismember(&s1, c, 2999), 0);
    assert_int_equal(ts_ismember(&s1, c, sizeof c), 1);

    int r;
    assert_int_equal(ts_rem(&s1, a, 599, &r), ST_OK);
    assert_true(r);
    assert_int_equal(s1.nlong, 2);
    assert_int_equal(ts_ismember(&s1, b, 600), 1);
    assert_int_equal(ts_commit(&s1), ST_OK);
}

static void test_empty_deleted_and_persist(void **state) {
    fx *f = *state;
    const char *m[] = {"1", "two", NULL};
    add(f->k, "p", m);
    ts_set s;
    assert_int_equal(ts_open(&s, f->k, 0, "p", 1), ST_OK);
    s.flags |= TS_F_HT;
    assert_int_equal(ts_commit(&s), ST_OK);
    assert_int_equal(store_checkpoint_sync(f->s), ST_OK);
    const char *more[] = {"3", NULL};
    add(f->k, "p", more);
    fx_close(f);
    fx_open(f);
    char out[128];
    listing(f->k, "p", out, sizeof out);
    assert_string_equal(out, "1,3,two");
    assert_int_equal(ts_open(&s, f->k, 0, "p", 1), ST_OK);
    assert_true(s.flags & TS_F_HT);
    assert_int_equal(s.nint, 2);
    int r;
    assert_int_equal(ts_rem(&s, "1", 1, &r), ST_OK);
    assert_int_equal(ts_rem(&s, "3", 1, &r), ST_OK);
    assert_int_equal(ts_rem(&s, "two", 3, &r), ST_OK);
    assert_int_equal(ts_commit(&s), ST_OK);
    ks_meta meta;
    assert_int_equal(ks_lookup(f->k, 0, "p", 1, KS_NONE, &meta), ST_NOTFOUND);
    assert_int_equal(ks_lookup(f->k, 0, "s", 1, KS_NONE, &meta), ST_NOTFOUND);
    /* wrong type */
    assert_int_equal(ks_set_string(f->k, 0, "str", 3, "v", 1, 0, 0, 0), ST_OK);
    assert_int_equal(ts_open(&s, f->k, 0, "str", 3), ST_WRONGTYPE);
}

static void test_random_mixed(void **state) {
    fx *f = *state;
    ts_set s;
    assert_int_equal(ts_open(&s, f->k, 0, "r", 1), ST_NOTFOUND);
    ts_create(&s);
    enum { NI = 2000, NS = 1000 };
    char name[32];
    int added;
    for (int i = 0; i < NI; i++) {
        int n = snprintf(name, sizeof name, "%d", i * 13 - 5000);
        assert_int_equal(ts_add(&s, name, (size_t)n, &added), ST_OK);
    }
    for (int i = 0; i < NS; i++) {
        int n = snprintf(name, sizeof name, "member-%d", i);
        assert_int_equal(ts_add(&s, name, (size_t)n, &added), ST_OK);
    }
    assert_int_equal(ts_commit(&s), ST_OK);
    int ints = 0, strs = 0;
    for (int i = 0; i < 30000; i++) {
        cm_owned o;
        assert_int_equal(ts_random(&s, &o), ST_OK);
        char buf[TS_INT_TEXT];
        const uint8_t *t;
        size_t tl;
        ts_entry_text(o.kind, o.member, o.mlen, buf, &t, &tl);
        assert_int_equal(ts_ismember(&s, t, tl), 1);
        if (o.kind == TS_KIND_INT) ints++;
        else strs++;
        cm_owned_free(&o);
    }
    /* kinds are weighted by their counts: 2/3 integers */
    assert_true(ints > 18000 && ints < 22000);
    assert_int_equal(ints + strs, 30000);
}

/* Index of member (o) in names[0..n), or -1. */
static int find_name(char (*names)[24], int n, const cm_owned *o) {
    for (int j = 0; j < n; j++)
        if (o->mlen == strlen(names[j]) && memcmp(o->member, names[j], o->mlen) == 0) return j;
    return -1;
}

/* draws picks of s, which holds exactly names[0..n) (n <= 1000), come out
 * close to uniform: the chi-square per degree of freedom stays small and
 * every member is drawn at least 10 times. */
static void assert_uniform(ts_set *s, char (*names)[24], int n, int draws) {
    static int count[1000];
    assert_true(n <= 1000);
    memset(count, 0, sizeof count);
    for (int i = 0; i < draws; i++) {
        cm_owned o;
        assert_int_equal(ts_random(s, &o), ST_OK);
        int hit = find_name(names, n, &o);
        assert_true(hit >= 0);
        count[hit]++;
        cm_owned_free(&o);
    }
    double e = (double)draws / n, chi = 0;
    int least = draws;
    for (int j = 0; j < n; j++) {
        chi += (count[j] - e) * (count[j] - e) / e;
        if (count[j] < least) least = count[j];
    }
    assert_true(chi / (n - 1) < 3.0);
    assert_true(least >= 10);
}

/* Draws from a set of keys with evenly spread digits (redis-benchmark's
 * element:<12 digits> shape) come out close to uniform: the chi-square per
 * degree of freedom stays small and no member is starved. Before the
 * descent walked small branches these were about 14 and 1
 * (a member drawn once instead of 60 times). */
static void test_random_uniform_digits(void **state) {
    fx *f = *state;
    ts_set s;
    assert_int_equal(ts_open(&s, f->k, 0, "u", 1), ST_NOTFOUND);
    ts_create(&s);
    enum { N = 1000, DRAWS = 60000 };
    static char names[N][24];
    srand(3);
    int n = 0;
    while (n < N) {
        int len = snprintf(names[n], sizeof names[n], "element:%012d", rand() % 1000000);
        int added;
        assert_int_equal(ts_add(&s, names[n], (size_t)len, &added), ST_OK);
        if (added) n++;
    }
    assert_int_equal(ts_commit(&s), ST_OK);
    assert_uniform(&s, names, N, DRAWS);
}

/* Picks remember the upper levels of a big set's key space (cm_pick.c).
 * Members added afterwards — a new value at a remembered level, one deeper
 * down, one outside the remembered prefix — are all drawn; removed ones
 * never are, and a remembered branch that emptied only costs misses. */
static void test_random_remembered_levels(void **state) {
    fx *f = *state;
    ts_set s;
    assert_int_equal(ts_open(&s, f->k, 0, "w", 1), ST_NOTFOUND);
    ts_create(&s);
    enum { N = 3000 };
    char name[24];
    int added, removed;
    for (int i = 0; i < N; i++) {
        int n = snprintf(name, sizeof name, "k:%04d", i);
        assert_int_equal(ts_add(&s, name, (size_t)n, &added), ST_OK);
    }
    assert_int_equal(ts_commit(&s), ST_OK);
    cm_owned o;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(ts_random(&s, &o), ST_OK);
        cm_owned_free(&o);
    }
    cm_pick_stats st;
    cm_pick_get_stats(f->k, &st);
    assert_int_equal(st.roots, 1);
    assert_true(st.nodes >= 4); /* "k:" and its children "k:0" .. "k:2" */
    /* A new value at the top level, one inside a remembered branch. */
    static char extra[3][24] = {"k:5000", "k:15", "k:2999x"};
    for (int j = 0; j < 3; j++)
        assert_int_equal(ts_add(&s, extra[j], strlen(extra[j]), &added), ST_OK);
    assert_int_equal(ts_commit(&s), ST_OK);
    cm_pick_get_stats(f->k, &st);
    assert_int_equal(st.roots, 1);
    int seen[3] = {0, 0, 0};
    for (int i = 0; i < 60000; i++) {
        assert_int_equal(ts_random(&s, &o), ST_OK);
        int hit = find_name(extra, 3, &o);
        if (hit >= 0) seen[hit]++;
        cm_owned_free(&o);
    }
    for (int j = 0; j < 3; j++) assert_true(seen[j] >= 3); /* about 20 each */
    /* A member outside the remembered prefix: the set is learnt again. */
    assert_int_equal(ts_add(&s, "j", 1, &added), ST_OK);
    assert_int_equal(ts_commit(&s), ST_OK);
    cm_pick_get_stats(f->k, &st);
    assert_int_equal(st.roots, 0);
    int seen_j = 0;
    for (int i = 0; i < 60000; i++) {
        assert_int_equal(ts_random(&s, &o), ST_OK);
        seen_j += o.mlen == 1 && o.member[0] == 'j';
        cm_owned_free(&o);
    }
    assert_true(seen_j >= 3);
    /* Empty the remembered branch "k:1": never drawn, only misses. */
    for (int i = 1000; i < 2000; i++) {
        int n = snprintf(name, sizeof name, "k:%04d", i);
        assert_int_equal(ts_rem(&s, name, (size_t)n, &removed), ST_OK);
        assert_true(removed);
    }
    assert_int_equal(ts_rem(&s, "k:15", 4, &removed), ST_OK);
    assert_int_equal(ts_commit(&s), ST_OK);
    uint64_t misses0 = st.misses;
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(ts_random(&s, &o), ST_OK);
        assert_false(o.mlen >= 3 && memcmp(o.member, "k:1", 3) == 0);
        cm_owned_free(&o);
    }
    cm_pick_get_stats(f->k, &st);
    assert_true(st.misses > misses0);
    assert_int_equal(st.roots, 1);
}

/* Remembered levels learnt on a big set stay close to uniform after most
 * of it is removed at random (the probabilities are those of the
 * remembered draw; emptied branches are misses). */
static void test_random_uniform_after_removals(void **state) {
    fx *f = *state;
    ts_set s;
    assert_int_equal(ts_open(&s, f->k, 0, "v", 1), ST_NOTFOUND);
    ts_create(&s);
    enum { N = 3000, KEEP = 1000, DRAWS = 60000 };
    static char names[N][24];
    srand(7);
    int n = 0, added, removed;
    while (n < N) {
        int len = snprintf(names[n], sizeof names[n], "element:%012d", rand() % 1000000);
        assert_int_equal(ts_add(&s, names[n], (size_t)len, &added), ST_OK);
        if (added) n++;
    }
    assert_int_equal(ts_commit(&s), ST_OK);
    cm_owned o;
    for (int i = 0; i < 3000; i++) {
        assert_int_equal(ts_random(&s, &o), ST_OK);
        cm_owned_free(&o);
    }
    /* names[0..KEEP) stay; the rest goes */
    for (int j = KEEP; j < N; j++) {
        assert_int_equal(ts_rem(&s, names[j], strlen(names[j]), &removed), ST_OK);
        assert_true(removed);
    }
    assert_int_equal(ts_commit(&s), ST_OK);
    cm_pick_stats st;
    cm_pick_get_stats(f->k, &st);
    assert_int_equal(st.roots, 1);
    assert_uniform(&s, names, KEEP, DRAWS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_members_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_members_and_cross_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_deleted_and_persist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_mixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_uniform_digits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_remembered_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_uniform_after_removals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
