/* test_t_hash.c — hash storage (storage/t_hash.c) on a real LMDB store:
 * field set/get/delete through the meta record, the hashed long-field form
 * (fields sharing their first 400 bytes stay distinct), empty hashes being
 * deleted, persistence across a checkpoint and reopen, iteration with a
 * resume point, and the random draws (every field reachable, all valid). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "storage/keyspace.h"
#include "storage/store.h"
#include "storage/t_hash.h"
#include "tests/unit/harness.h"

#include "tests/unit/fx.h"

static void hset_str(ks *k, const char *key, const char *field, const char *val) {
    th_hash h;
    int rc = th_open(&h, k, 0, key, strlen(key));
    assert_true(rc == ST_OK || rc == ST_NOTFOUND);
    if (rc == ST_NOTFOUND) th_create(&h);
    assert_int_equal(th_set(&h, field, strlen(field), val, strlen(val), NULL), ST_OK);
    assert_int_equal(th_commit(&h), ST_OK);
}

static void expect_field(ks *k, const char *key, const void *field, size_t flen,
                         const char *val) {
    th_hash h;
    int rc = th_open(&h, k, 0, key, strlen(key));
    if (!val && rc == ST_NOTFOUND) return;
    assert_int_equal(rc, ST_OK);
    const uint8_t *v;
    size_t vl;
    rc = th_get(&h, field, flen, &v, &vl);
    if (!val) {
        assert_int_equal(rc, ST_NOTFOUND);
        return;
    }
    assert_int_equal(rc, ST_OK);
    assert_int_equal(vl, strlen(val));
    assert_memory_equal(v, val, vl);
}

static void test_set_get_del(void **state) {
    fx *f = *state;
    th_hash h;
    assert_int_equal(th_open(&h, f->k, 0, "h", 1), ST_NOTFOUND);
    th_create(&h);
    int created;
    assert_int_equal(th_set(&h, "a", 1, "1", 1, &created), ST_OK);
    assert_true(created);
    assert_int_equal(th_set(&h, "b", 1, "22", 2, &created), ST_OK);
    assert_int_equal(th_set(&h, "a", 1, "111", 3, &created), ST_OK);
    assert_false(created);
    assert_int_equal(th_set(&h, "", 0, "empty", 5, &created), ST_OK);
    assert_true(created);
    assert_int_equal(th_commit(&h), ST_OK);

    ks_meta m;
    assert_int_equal(ks_lookup(f->k, 0, "h", 1, KS_HASH, &m), ST_OK);
    assert_int_equal(m.count, 3);
    assert_int_equal(m.hdrlen, TH_HDR_LEN);
    ks_meta_release(&m);
    assert_int_equal(ks_lookup(f->k, 0, "h", 1, KS_STRING, &m), ST_WRONGTYPE);

    expect_field(f->k, "h", "a", 1, "111");
    expect_field(f->k, "h", "b", 1, "22");
    expect_field(f->k, "h", "", 0, "empty");
    expect_field(f->k, "h", "c", 1, NULL);

    assert_int_equal(th_open(&h, f->k, 0, "h", 1), ST_OK);
    int d;
    assert_int_equal(th_del(&h, "zz", 2, &d), ST_OK);
    assert_false(d);
    assert_int_equal(th_del(&h, "a", 1, &d), ST_OK);
    assert_true(d);
    assert_int_equal(th_del(&h, "b", 1, &d), ST_OK);
    assert_int_equal(th_del(&h, "", 0, &d), ST_OK);
    assert_int_equal(h.m.count, 0);
    assert_int_equal(th_commit(&h), ST_OK);
    /* an empty hash is deleted, as in Redis */
    assert_int_equal(ks_lookup(f->k, 0, "h", 1, KS_NONE, &m), ST_NOTFOUND);
    assert_int_equal(ks_dbsize(f->k, 0), 0);
}

static void test_long_fields(void **state) {
    fx *f = *state;
    /* Three fields longer than the key limit sharing a 400-byte prefix, and
     * one just under the limit. */
    char a[700], b[700], c[900], s[502];
    memset(a, 'p', sizeof a);
    memcpy(b, a, sizeof b);
    b[650] = 'q';
    memset(c, 'p', sizeof c);
    memset(s, 'p', sizeof s);
    th_hash h;
    assert_int_equal(th_open(&h, f->k, 0, "L", 1), ST_NOTFOUND);
    th_create(&h);
    assert_int_equal(th_set(&h, a, sizeof a, "A", 1, NULL), ST_OK);
    assert_int_equal(th_set(&h, b, sizeof b, "B", 1, NULL), ST_OK);
    assert_int_equal(th_set(&h, c, sizeof c, "C", 1, NULL), ST_OK);
    assert_int_equal(th_set(&h, s, sizeof s, "S", 1, NULL), ST_OK);
    assert_int_equal(h.m.count, 4);
    assert_int_equal(h.nlong, 3);
    assert_int_equal(th_commit(&h), ST_OK);
    expect_field(f->k, "L", a, sizeof a, "A");
    expect_field(f->k, "L", b, sizeof b, "B");
    expect_field(f->k, "L", c, sizeof c, "C");
    expect_field(f->k, "L", s, sizeof s, "S");
    expect_field(f->k, "L", c, 800, NULL); /* same prefix, other length */

    /* iteration gives full fields back */
    cm_list l;
    assert_int_equal(th_open(&h, f->k, 0, "L", 1), ST_OK);
    assert_int_equal(cm_collect(f->k, h.m.id, &l), ST_OK);
    assert_int_equal(l.n, 4);
    size_t total = 0;
    for (size_t i = 0; i < l.n; i++) total += l.items[i].mlen;
    assert_int_equal(total, sizeof a + sizeof b + sizeof c + sizeof s);
    cm_list_free(&l);

    int d;
    assert_int_equal(th_del(&h, b, sizeof b, &d), ST_OK);
    assert_true(d);
    assert_int_equal(h.nlong, 2);
    assert_int_equal(th_commit(&h), ST_OK);
    expect_field(f->k, "L", a, sizeof a, "A");
    expect_field(f->k, "L", b, sizeof b, NULL);
    uint8_t flags;
    uint64_t nlong;
    ks_meta m;
    assert_int_equal(ks_lookup(f->k, 0, "L", 1, KS_HASH, &m), ST_OK);
    th_hdr_decode(&m, &flags, &nlong);
    assert_int_equal(nlong, 2);
    assert_int_equal(m.count, 3);
    ks_meta_release(&m);
}

static void test_persist_and_flags(void **state) {
    fx *f = *state;
    hset_str(f->k, "p", "f1", "v1");
    th_hash h;
    assert_int_equal(th_open(&h, f->k, 0, "p", 1), ST_OK);
    h.flags |= TH_F_HT;
    assert_int_equal(th_commit(&h), ST_OK); /* a header-only change is written */
    assert_int_equal(store_checkpoint_sync(f->s), ST_OK);
    hset_str(f->k, "p", "f2", "v2"); /* only in the WAL at close */
    fx_close(f);
    fx_open(f);
    expect_field(f->k, "p", "f1", 2, "v1");
    expect_field(f->k, "p", "f2", 2, "v2");
    assert_int_equal(th_open(&h, f->k, 0, "p", 1), ST_OK);
    assert_true(h.flags & TH_F_HT);
    assert_int_equal(h.m.count, 2);
}

static void test_iter_resume(void **state) {
    fx *f = *state;
    th_hash h;
    assert_int_equal(th_open(&h, f->k, 0, "it", 2), ST_NOTFOUND);
    th_create(&h);
    char name[16];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(name, sizeof name, "f%03d", i);
        assert_int_equal(th_set(&h, name, (size_t)n, "v", 1, NULL), ST_OK);
    }
    assert_int_equal(th_commit(&h), ST_OK);
    cm_iter it;
    cm_entry e;
    uint8_t pos[KS_SUBKEY_MAX];
    size_t poslen = 0;
    int seen = 0;
    /* pages of 7: remember the key of the first entry of the next page */
    for (;;) {
        assert_int_equal(cm_iter_open(&it, f->k, h.m.id, poslen ? pos : NULL, poslen), ST_OK);
        int got = 0, more = 0;
        while (cm_iter_next(&it, &e) == ST_OK) {
            if (got == 7) {
                memcpy(pos, e.key, e.klen);
                poslen = e.klen;
                more = 1;
                break;
            }
            snprintf(name, sizeof name, "f%03d", seen);
            assert_int_equal(e.mlen, 4);
            assert_memory_equal(e.member, name, 4);
            got++;
            seen++;
        }
        cm_iter_close(&it);
        if (!more) break;
    }
    assert_int_equal(seen, 100);
    cm_owned o;
    assert_int_equal(cm_nth(f->k, h.m.id, 42, &o), ST_OK);
    assert_memory_equal(o.member, "f042", 4);
    cm_owned_free(&o);
    assert_int_equal(cm_nth(f->k, h.m.id, 100, &o), ST_NOTFOUND);
}

static void test_random(void **state) {
    fx *f = *state;
    th_hash h;
    assert_int_equal(th_open(&h, f->k, 0, "r", 1), ST_NOTFOUND);
    th_create(&h);
    enum { N = 3000 };
    char name[32];
    for (int i = 0; i < N; i++) {
        int n = snprintf(name, sizeof name, "field:%d", i * 7);
        assert_int_equal(th_set(&h, name, (size_t)n, name, (size_t)n, NULL), ST_OK);
    }
    char big[600];
    memset(big, 'z', sizeof big);
    assert_int_equal(th_set(&h, big, sizeof big, "BIG", 3, NULL), ST_OK);
    assert_int_equal(th_commit(&h), ST_OK);
    static unsigned short hit[N];
    memset(hit, 0, sizeof hit);
    int big_hits = 0, distinct = 0;
    for (int i = 0; i < 40000; i++) {
        cm_owned o;
        assert_int_equal(th_random(&h, &o), ST_OK);
        if (o.mlen == sizeof big) {
            assert_memory_equal(o.payload, "BIG", 3);
            big_hits++;
        } else {
            /* every field's value is the field itself */
            assert_int_equal(o.mlen, o.plen);
            assert_memory_equal(o.member, o.payload, o.mlen);
            int v;
            assert_int_equal(sscanf((char *)o.member, "field:%d", &v), 1);
            assert_true(v % 7 == 0 && v / 7 < N);
            if (!hit[v / 7]++) distinct++;
        }
        cm_owned_free(&o);
    }
    /* the one hashed-form field is drawn about 1 time in N+1 */
    assert_true(big_hits >= 1 && big_hits < 200);
    /* the draw is not exactly uniform (fields under "field:1" are about 5
     * times denser than their siblings here), but it must reach most fields
     * and favour none grossly (uniform: 13 hits each on average) */
    assert_true(distinct > N * 8 / 10);
    int most = 0;
    for (int i = 0; i < N; i++)
        if (hit[i] > most) most = hit[i];
    assert_true(most < 120);

    uint64_t counts[4] = {0};
    for (int i = 0; i < 40000; i++) counts[cm_rand_below(4)]++;
    for (int i = 0; i < 4; i++) assert_true(counts[i] > 9000 && counts[i] < 11000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_get_del, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persist_and_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iter_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
