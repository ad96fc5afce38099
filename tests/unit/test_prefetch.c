/* test_prefetch.c — the cold-read threads of the store (storage/prefetch.c):
 * which keys count as resident, every submitted job coming back exactly
 * once with its tag (while the threads run, and when they are stopped with
 * jobs still queued), and the threads' statistics. Real LMDB, real threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/store.h"
#include "storage/store_int.h"
#include "tests/unit/harness.h"
#include "tests/unit/store_kv.h"

#define NJOBS 600

static atomic_int wakes;

static void wake(void *ud) {
    (void)ud;
    atomic_fetch_add(&wakes, 1);
}

static store *open_store(const char *dir) {
    store_opts o;
    store_opts_default(&o);
    o.dir = dir;
    o.wal_segment_size = 1 << 20;
    int rc;
    char err[512];
    store *s = store_open(&o, &rc, err, sizeof err);
    if (!s) fprintf(stderr, "store_open: %s\n", err);
    assert_non_null(s);
    return s;
}

/* Keys k0000..k(n-1), values of 3000 bytes (overflow pages), checkpointed. */
static void fill(store *s, int n) {
    char k[16], v[3001];
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "k%04d", i);
        memset(v, 'a' + i % 26, 3000);
        v[3000] = '\0';
        put_str(s, k, v);
    }
    assert_int_equal(store_commit(s), ST_OK);
    assert_int_equal(store_checkpoint_sync(s), ST_OK);
}

static size_t pack(uint8_t *out, const char *k) {
    size_t n = strlen(k);
    out[0] = (uint8_t)(n >> 8);
    out[1] = (uint8_t)n;
    memcpy(out + 2, k, n);
    return 2 + n;
}

/* Collect done tags into seen[] until `want` came back (10 s at most). */
static int collect(store *s, int *seen, int want) {
    int got = 0;
    time_t end = time(NULL) + 10;
    while (got < want && time(NULL) < end) {
        void *tags[64];
        size_t n = store_prefetch_done(s, tags, 64);
        for (size_t i = 0; i < n; i++) {
            int *t = tags[i];
            seen[t - seen]++;
            got++;
        }
        if (!n) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    return got;
}

static void test_resident(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    store *s = open_store(dir);
    put_str(s, "a", "1");
    assert_true(store_resident(s, ST_DBI_KEYS, "a", 1)); /* in the memtable */
    assert_false(store_resident(s, ST_DBI_KEYS, "b", 1));
    assert_int_equal(store_commit(s), ST_OK);
    assert_int_equal(store_checkpoint_sync(s), ST_OK);
    assert_false(store_resident(s, ST_DBI_KEYS, "a", 1)); /* only LMDB has it */
    expect(s, "a", "1");                                   /* the read fills the cache */
    assert_true(store_resident(s, ST_DBI_KEYS, "a", 1));
    assert_false(store_resident(s, ST_DBI_SUB, "a", 1));   /* another dbi */
    store_end_tick(s);
    store_close(s);
    harness_rmdir(dir);
}

static void test_every_job_comes_back_once(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    store *s = open_store(dir);
    fill(s, 300);
    assert_int_equal(store_prefetch_threads(s), 0);
    /* nothing runs jobs yet: refused, not lost */
    uint8_t one[16];
    assert_int_equal(store_prefetch_submit(s, ST_DBI_KEYS, one, pack(one, "k0001"), NULL),
                     ST_INVALID);
    assert_int_equal(store_prefetch_start(s, 3, wake, NULL), ST_OK);
    assert_int_equal(store_prefetch_threads(s), 3);
    static int seen[NJOBS];
    memset(seen, 0, sizeof seen);
    atomic_store(&wakes, 0);
    for (int j = 0; j < NJOBS; j++) {
        uint8_t buf[64];
        size_t len = 0;
        char k[16];
        for (int m = 0; m <= j % 3; m++) { /* 1..3 keys, one of them maybe missing */
            snprintf(k, sizeof k, "k%04d", (j * 7 + m * 131) % 320);
            len += pack(buf + len, k);
        }
        assert_int_equal(store_prefetch_submit(s, ST_DBI_KEYS, buf, len, &seen[j]), ST_OK);
    }
    assert_int_equal(collect(s, seen, NJOBS), NJOBS);
    for (int j = 0; j < NJOBS; j++) assert_int_equal(seen[j], 1);
    assert_int_equal(atomic_load(&wakes), NJOBS);
    store_prefetch_stats st;
    store_prefetch_get_stats(s, &st);
    assert_int_equal(st.threads, 3);
    assert_int_equal(st.jobs, NJOBS);
    assert_int_equal(st.jobs_done, NJOBS);
    assert_true(st.jobs_faulted <= NJOBS);
    /* the store still reads right afterwards */
    char want[3001];
    memset(want, 'c', 3000);
    want[3000] = '\0';
    expect(s, "k0002", want);
    store_close(s); /* stops the threads */
    harness_rmdir(dir);
}

static void test_stop_runs_what_is_queued(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    store *s = open_store(dir);
    fill(s, 100);
    static int seen[NJOBS];
    memset(seen, 0, sizeof seen);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(store_prefetch_start(s, 2, wake, NULL), ST_OK);
        for (int j = 0; j < NJOBS; j++) {
            uint8_t buf[16];
            char k[16];
            snprintf(k, sizeof k, "k%04d", j % 100);
            assert_int_equal(
                store_prefetch_submit(s, ST_DBI_KEYS, buf, pack(buf, k), &seen[j]), ST_OK);
        }
        /* stop at once: the queued jobs still run, and come back */
        assert_int_equal(store_prefetch_start(s, 0, NULL, NULL), ST_OK);
        assert_int_equal(store_prefetch_threads(s), 0);
        assert_int_equal(collect(s, seen, NJOBS), NJOBS);
        for (int j = 0; j < NJOBS; j++) assert_int_equal(seen[j], round + 1);
    }
    /* a bad length in the packing stops the job's walk, not the thread */
    assert_int_equal(store_prefetch_start(s, 1, wake, NULL), ST_OK);
    uint8_t bad[4] = {0xff, 0xff, 'k', '0'};
    assert_int_equal(store_prefetch_submit(s, ST_DBI_KEYS, bad, sizeof bad, &seen[0]), ST_OK);
    assert_int_equal(collect(s, seen, 1), 1);
    assert_int_equal(store_prefetch_start(s, 65, wake, NULL), ST_INVALID);
    store_close(s);
    harness_rmdir(dir);
}

/* A checkpoint's keys looked up ahead on the readers: one run per 256
 * nodes of each list, all done before store_prefetch_warm returns. */
static void test_warm_runs_cover_the_memtable(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    store *s = open_store(dir);
    fill(s, 1000);
    char k[16];
    for (int i = 0; i < 1000; i += 2) { /* half rewrite LMDB's keys, half are new */
        snprintf(k, sizeof k, "k%04d", i * 3);
        put_str(s, k, "x");
    }
    assert_int_equal(store_put(s, ST_DBI_SUB, "m", 1, "1", 1), ST_OK);
    assert_int_equal(store_commit(s), ST_OK);
    mt_link(s->active, -1);
    assert_int_equal(store_prefetch_warm(s, s->active), 0); /* no threads: nothing */
    store_prefetch_stats st;
    store_prefetch_get_stats(s, &st);
    assert_int_equal(st.warm_runs, 0);
    assert_int_equal(store_prefetch_start(s, 3, wake, NULL), ST_OK);
    int faulted = store_prefetch_warm(s, s->active);
    store_prefetch_get_stats(s, &st);
    assert_int_equal(st.warm_runs, 2 + 1); /* 500 keys: 256 + 244; sub: 1 */
    assert_true(faulted >= 0 && faulted <= 3);
    /* the checkpoint itself still lands every key */
    assert_int_equal(store_checkpoint_sync(s), ST_OK);
    expect(s, "k0006", "x");
    expect(s, "k1494", "x");
    expect(s, "m", NULL); /* the sub entry went to sub, not keys */
    store_close(s);
    harness_rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resident),
        cmocka_unit_test(test_every_job_comes_back_once),
        cmocka_unit_test(test_stop_runs_what_is_queued),
        cmocka_unit_test(test_warm_runs_cover_the_memtable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
