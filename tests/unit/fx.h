/* fx.h — the storage fixture shared by the type tests (test_t_*.c): a fresh
 * data directory with an open store and keyspace per test, closed and
 * removed afterwards. Include after cmocka.h, storage/keyspace.h and
 * storage/store.h. Real LMDB, no mocks. */
#ifndef LODIS_TEST_FX_H
#define LODIS_TEST_FX_H

#include "tests/unit/harness.h"

typedef struct fx {
    char *dir;
    store *s;
    ks *k;
} fx;

static void fx_open(fx *f) {
    store_opts o;
    store_opts_default(&o);
    o.dir = f->dir;
    o.wal_segment_size = 1 << 20;
    int rc;
    char err[512];
    f->s = store_open(&o, &rc, err, sizeof err);
    assert_non_null(f->s);
    f->k = ks_open(f->s, 16, &rc);
    assert_non_null(f->k);
}

static void fx_close(fx *f) {
    assert_int_equal(ks_flush_counters(f->k), ST_OK);
    assert_int_equal(store_commit(f->s), ST_OK);
    ks_close(f->k);
    store_close(f->s);
    f->k = NULL;
    f->s = NULL;
}

static int setup(void **state) {
    fx *f = calloc(1, sizeof *f);
    f->dir = harness_tmpdir();
    fx_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    if (f->k) fx_close(f);
    harness_rmdir(f->dir);
    free(f);
    return 0;
}

#endif
