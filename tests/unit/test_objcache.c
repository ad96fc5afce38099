/* test_objcache.c — the clean cache of the RAM tier: alone (bound, CLOCK
 * for both policy families, values held until oc_release), then inside the
 * store, where it must never answer with a value a write replaced, whether
 * that write still sits in a memtable or a checkpoint has moved it to LMDB
 * and freed the memtable, nor survive a flushed database's slot being
 * reclaimed and reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/keyspace.h"
#include "storage/objcache.h"
#include "storage/store.h"
#include "tests/unit/fx.h"
#include "tests/unit/store_kv.h"

#define MASK ((1u << ST_DBI_KEYS) | (1u << ST_DBI_SUB))

static void fill_str(objcache *c, int dbi, const char *k, const char *v) {
    oc_fill(c, dbi, k, strlen(k), v, strlen(v));
}

static int has(objcache *c, const char *k, const char *want) {
    const uint8_t *v;
    size_t n;
    if (!oc_get(c, ST_DBI_KEYS, k, strlen(k), &v, &n)) return 0;
    if (want) {
        assert_int_equal(n, strlen(want));
        assert_memory_equal(v, want, n);
    }
    return 1;
}

static void test_fill_get_drop(void **state) {
    (void)state;
    objcache *c = oc_new(MASK, 1 << 20);
    assert_non_null(c);
    assert_false(has(c, "a", NULL));
    fill_str(c, ST_DBI_KEYS, "a", "1");
    fill_str(c, ST_DBI_KEYS, "b", "");
    assert_true(has(c, "a", "1"));
    assert_true(has(c, "b", ""));
    /* the same key in another dbi is another entry */
    const uint8_t *v;
    size_t n;
    assert_false(oc_get(c, ST_DBI_SUB, "a", 1, &v, &n));
    /* dbis outside the mask are never cached */
    fill_str(c, ST_DBI_TRASH, "t", "x");
    assert_false(oc_get(c, ST_DBI_TRASH, "t", 1, &v, &n));
    oc_drop(c, ST_DBI_KEYS, "a", 1);
    assert_false(has(c, "a", NULL));
    assert_true(has(c, "b", ""));
    /* a refill replaces */
    fill_str(c, ST_DBI_KEYS, "b", "2");
    assert_true(has(c, "b", "2"));
    oc_stats st;
    oc_get_stats(c, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.hits, 4);
    assert_int_equal(st.misses, 3);
    oc_clear(c);
    assert_false(has(c, "b", NULL));
    oc_get_stats(c, &st);
    assert_int_equal(st.entries, 0);
    oc_free(c);
}

/* Writes only drop: once most entries are gone the tables shrink at the
 * next release (probes then stay in the CPU cache), and what is left is
 * still found, dropped and refilled correctly; filling again grows them. */
static void test_tables_shrink_after_drops(void **state) {
    (void)state;
    objcache *c = oc_new(MASK, 64 << 20);
    char k[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof k, "key:%d", i);
        fill_str(c, ST_DBI_KEYS, k, "v");
    }
    oc_release(c);
    size_t full = oc_bytes(c);
    for (int i = 0; i < 20000; i++) {
        if (i % 1000 == 0) continue;
        snprintf(k, sizeof k, "key:%d", i);
        oc_drop(c, ST_DBI_KEYS, k, strlen(k));
    }
    oc_release(c);
    oc_stats st;
    oc_get_stats(c, &st);
    assert_int_equal(st.entries, 20);
    assert_true(oc_bytes(c) * 20 < full);
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof k, "key:%d", i);
        assert_int_equal(has(c, k, i % 1000 == 0 ? "v" : NULL), i % 1000 == 0);
    }
    oc_drop(c, ST_DBI_KEYS, "key:5000", 8);
    assert_false(has(c, "key:5000", NULL));
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof k, "key:%d", i);
        fill_str(c, ST_DBI_KEYS, k, "w");
    }
    oc_release(c);
    assert_true(has(c, "key:19999", "w"));
    assert_true(has(c, "key:0", "w"));
    oc_get_stats(c, &st);
    assert_int_equal(st.entries, 20000);
    oc_free(c);
}

static void test_bound_and_item_limit(void **state) {
    (void)state;
    size_t max = 256 << 10;
    objcache *c = oc_new(MASK, max);
    char k[32], v[600];
    memset(v, 'v', sizeof v);
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "key:%06d", i);
        oc_fill(c, ST_DBI_KEYS, k, strlen(k), v, 100 + (size_t)i % 500);
        assert_true(oc_bytes(c) <= max);
        if (i % 64 == 0) oc_release(c);
    }
    oc_stats st;
    oc_get_stats(c, &st);
    assert_true(st.entries > 100);
    assert_true(st.evictions > 0);
    assert_int_equal(st.fills, st.entries + st.evictions);
    /* the most recent fill is there */
    assert_true(has(c, "key:004999", NULL));
    /* a value over 1/16 of the bound is not cached */
    char *big = calloc(1, max / 16 + 1);
    oc_fill(c, ST_DBI_KEYS, "big", 3, big, max / 16);
    assert_false(has(c, "big", NULL));
    free(big);
    /* a lower bound evicts at once; 0 caches nothing */
    oc_set_max(c, 64 << 10);
    assert_true(oc_bytes(c) <= 64 << 10);
    oc_set_max(c, 0);
    oc_get_stats(c, &st);
    assert_int_equal(st.entries, 0);
    fill_str(c, ST_DBI_KEYS, "a", "1");
    assert_false(has(c, "a", NULL));
    oc_free(c);
}

/* Fill `hot` keys and read them, then fill many keys read once: under both
 * families the keys read again stay, the once-read ones leave. */
static void scan_resistance(int lfu) {
    objcache *c = oc_new(MASK, 128 << 10);
    oc_set_lfu(c, lfu);
    char k[32], v[200];
    memset(v, 'h', sizeof v);
    int hot = 100;
    for (int i = 0; i < hot; i++) {
        snprintf(k, sizeof k, "hot:%d", i);
        oc_fill(c, ST_DBI_KEYS, k, strlen(k), v, sizeof v);
    }
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < hot; i++) {
            snprintf(k, sizeof k, "hot:%d", i);
            assert_true(has(c, k, NULL));
        }
        /* a scan of keys read once, several times the bound in all */
        for (int i = 0; i < 400; i++) {
            snprintf(k, sizeof k, "cold:%d:%d", round, i);
            oc_fill(c, ST_DBI_KEYS, k, strlen(k), v, sizeof v);
        }
        oc_release(c);
    }
    int kept = 0;
    for (int i = 0; i < hot; i++) {
        snprintf(k, sizeof k, "hot:%d", i);
        kept += has(c, k, NULL);
    }
    assert_true(kept >= hot * 9 / 10);
    oc_free(c);
}

static void test_clock_lru(void **state) {
    (void)state;
    scan_resistance(0);
}

static void test_clock_lfu(void **state) {
    (void)state;
    scan_resistance(1);
}

/* How many keys read once each it takes to push out a key read 8 times. */
static int survival(int lfu) {
    objcache *c = oc_new(MASK, 64 << 10);
    oc_set_lfu(c, lfu);
    char k[32], v[200];
    memset(v, 'x', sizeof v);
    fill_str(c, ST_DBI_KEYS, "often", "1");
    for (int i = 0; i < 8; i++) assert_true(has(c, "often", NULL));
    int i = 0;
    for (; i < 100000 && has(c, "often", NULL); i++) {
        snprintf(k, sizeof k, "k:%d", i);
        oc_fill(c, ST_DBI_KEYS, k, strlen(k), v, sizeof v);
        assert_true(has(c, k, NULL));
        oc_release(c);
    }
    oc_free(c);
    return i;
}

/* LFU keeps the key read often through several passes of the hand; LRU
 * through about one, as any other key read since the last pass. */
static void test_lfu_prefers_frequent(void **state) {
    (void)state;
    int lru = survival(0), lfu = survival(1);
    assert_true(lru > 100);
    assert_true(lfu > 3 * lru);
}

/* A value handed out stays readable until oc_release, whatever happens to
 * its entry meanwhile (ASan turns a violation into a failure). */
static void test_values_live_until_release(void **state) {
    (void)state;
    objcache *c = oc_new(MASK, 16 << 10);
    const uint8_t *a, *b, *d;
    size_t an, bn, dn;
    fill_str(c, ST_DBI_KEYS, "a", "alpha");
    fill_str(c, ST_DBI_KEYS, "b", "beta");
    fill_str(c, ST_DBI_KEYS, "d", "delta");
    assert_true(oc_get(c, ST_DBI_KEYS, "a", 1, &a, &an));
    assert_true(oc_get(c, ST_DBI_KEYS, "b", 1, &b, &bn));
    assert_true(oc_get(c, ST_DBI_KEYS, "d", 1, &d, &dn));
    oc_drop(c, ST_DBI_KEYS, "a", 1);   /* dropped */
    oc_set_max(c, 0);                  /* evicted */
    oc_clear(c);                       /* cleared */
    assert_memory_equal(a, "alpha", an);
    assert_memory_equal(b, "beta", bn);
    assert_memory_equal(d, "delta", dn);
    oc_stats st;
    oc_get_stats(c, &st);
    assert_true(st.grave_bytes > 0);
    oc_release(c);
    oc_get_stats(c, &st);
    assert_int_equal(st.grave_bytes, 0);
    oc_free(c);
}

/* ---- inside the store ---------------------------------------------------- */

static void checkpoint(store *s) {
    assert_int_equal(store_commit(s), ST_OK);
    assert_int_equal(store_checkpoint_sync(s), ST_OK);
    store_end_tick(s);
}

static uint64_t cache_hits(store *s) {
    store_cache_stats cs;
    store_cache_get_stats(s, &cs);
    return cs.hits;
}

static void test_store_never_stale_after_checkpoint(void **state) {
    fx *f = *state;
    store *s = f->s;
    put_str(s, "k", "v1");
    put_str(s, "other", "o");
    checkpoint(s);
    /* the memtable is gone: LMDB answers, the cache learns it */
    expect(s, "k", "v1");
    uint64_t h0 = cache_hits(s);
    store_end_tick(s);
    expect(s, "k", "v1");
    assert_int_equal(cache_hits(s), h0 + 1);
    /* overwrite: the memtable answers at once... */
    put_str(s, "k", "v2");
    expect(s, "k", "v2");
    /* ...and after the checkpoint that frees that memtable, LMDB does, not
     * the value cached before the write */
    checkpoint(s);
    expect(s, "k", "v2");
    store_end_tick(s);
    expect(s, "k", "v2"); /* now from the cache */
    /* delete, then checkpoint: gone, though "k" was cached */
    assert_int_equal(store_del(s, ST_DBI_KEYS, "k", 1), ST_OK);
    expect(s, "k", NULL);
    checkpoint(s);
    expect(s, "k", NULL);
    store_end_tick(s);
    expect(s, "k", NULL);
    /* a write while a checkpoint of an older value is in flight */
    put_str(s, "k", "v3");
    checkpoint(s);
    expect(s, "k", "v3");
    put_str(s, "k", "v4");
    assert_int_equal(store_commit(s), ST_OK);
    assert_int_equal(store_request_checkpoint(s), ST_OK); /* freezes v4 */
    put_str(s, "k", "v5");
    expect(s, "k", "v5");
    checkpoint(s);
    expect(s, "k", "v5");
    expect(s, "other", "o");
    store_end_tick(s);
    expect(s, "k", "v5");
    /* store_cache_clear forgets everything */
    store_cache_clear(s);
    store_cache_stats cs;
    store_cache_get_stats(s, &cs);
    assert_int_equal(cs.entries, 0);
    expect(s, "k", "v5");
}

static void set_str(ks *k, int db, const char *key, const char *v) {
    assert_int_equal(ks_set_string(k, db, key, strlen(key), v, strlen(v), 0, 0, 0), ST_OK);
}

static int lookup_str(ks *k, int db, const char *key, const char *want) {
    ks_meta m;
    int rc = ks_lookup(k, db, key, strlen(key), KS_STRING, &m);
    if (rc != ST_OK) return rc;
    if (!want) fail_msg("%s should not exist", key);
    assert_int_equal(m.vlen, strlen(want));
    assert_memory_equal(m.val, want, m.vlen);
    ks_meta_release(&m);
    return ST_OK;
}

/* FLUSHDB hands the old slot to reclamation, which deletes its keys in
 * LMDB behind the write path; the next FLUSHDB may reuse the slot. A value
 * cached before must not reappear in the new, empty database. */
static void test_flushed_slot_reused(void **state) {
    fx *f = *state;
    int slot0 = ks_db_slot(f->k, 0);
    set_str(f->k, 0, "x", "old");
    assert_int_equal(ks_flush_counters(f->k), ST_OK);
    checkpoint(f->s);
    assert_int_equal(lookup_str(f->k, 0, "x", "old"), ST_OK); /* cached */
    store_end_tick(f->s);
    assert_int_equal(ks_flushdb(f->k, 0), ST_OK);
    assert_true(ks_db_slot(f->k, 0) != slot0);
    set_str(f->k, 0, "y", "new"); /* so that the next flush moves the db */
    assert_int_equal(ks_flush_counters(f->k), ST_OK);
    int pending = 1;
    for (int i = 0; i < 50 && pending; i++) {
        checkpoint(f->s); /* reclamation runs with the checkpoint */
        ks_reclaim_step(f->k, 1000, &pending);
    }
    assert_false(pending);
    assert_int_equal(ks_flushdb(f->k, 0), ST_OK);
    assert_int_equal(ks_db_slot(f->k, 0), slot0); /* the slot is reused */
    assert_int_equal(lookup_str(f->k, 0, "x", NULL), ST_NOTFOUND);
    assert_int_equal(ks_dbsize(f->k, 0), 0);
}

/* Many keys through a small cache, overwritten, deleted and checkpointed in
 * rounds: every read agrees with a model. */
static void test_store_model(void **state) {
    fx *f = *state;
    store *s = f->s;
    store_cache_set_max(s, 32 << 10);
    enum { N = 2000 };
    static char model[N][32];
    char k[16];
    unsigned rnd = 12345;
    for (int round = 0; round < 6; round++) {
        for (int j = 0; j < N; j++) {
            rnd = rnd * 1103515245u + 12345u;
            int i = (int)((rnd >> 8) % N);
            snprintf(k, sizeof k, "m:%05d", i);
            switch ((rnd >> 4) % 4) {
            case 0:
                assert_int_equal(store_del(s, ST_DBI_KEYS, k, strlen(k)), ST_OK);
                model[i][0] = '\0';
                break;
            case 1:
                snprintf(model[i], sizeof model[i], "r%d-%d", round, j);
                put_str(s, k, model[i]);
                break;
            default:
                expect(s, k, model[i][0] ? model[i] : NULL);
                break;
            }
            if (j % 97 == 0) store_end_tick(s);
        }
        checkpoint(s);
        for (int i = 0; i < N; i++) {
            snprintf(k, sizeof k, "m:%05d", i);
            expect(s, k, model[i][0] ? model[i] : NULL);
            if (i % 50 == 0) store_end_tick(s);
        }
    }
    store_end_tick(s);
    store_cache_stats cs;
    store_cache_get_stats(s, &cs);
    assert_true(cs.hits > 0);
    assert_true(cs.evictions > 0);
    assert_true(cs.bytes <= 32 << 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_get_drop),
        cmocka_unit_test(test_bound_and_item_limit),
        cmocka_unit_test(test_tables_shrink_after_drops),
        cmocka_unit_test(test_clock_lru),
        cmocka_unit_test(test_clock_lfu),
        cmocka_unit_test(test_lfu_prefers_frequent),
        cmocka_unit_test(test_values_live_until_release),
        cmocka_unit_test_setup_teardown(test_store_never_stale_after_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flushed_slot_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_model, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
