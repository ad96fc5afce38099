/* test_store.c — the storage engine: merged view, WAL replay after a crash,
 * torn WAL tails, fault injection (disk full, map full), format checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "storage/store.h"
#include "tests/unit/harness.h"
#include "tests/unit/store_kv.h"

static store *open_store(const char *dir, int fsync_mode) {
    store_opts o;
    store_opts_default(&o);
    o.dir = dir;
    o.fsync = fsync_mode;
    o.wal_segment_size = 1 << 20;
    int rc;
    char err[512];
    store *s = store_open(&o, &rc, err, sizeof err);
    if (!s) fprintf(stderr, "store_open: %s\n", err);
    return s;
}

static void test_put_get_reopen(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    store *s = open_store(dir, ST_FSYNC_EVERYSEC);
    assert_non_null(s);
    put_str(s, "a", "1");
    put_str(s, "b", "2");
    assert_int_equal(store_del(s, ST_DBI_KEYS, "b", 1), ST_OK);
    assert_int_equal(store_commit(s), ST_OK);
    expect(s, "a", "1");
    expect(s, "b", NULL);
    assert_int_equal(store_checkpoint_sync(s), ST_OK);
    put_str(s, "c", "3"); /* only in the WAL at close... */
    assert_int_equal(store_commit(s), ST_OK);
    store_close(s); /* ...and checkpointed by close */
    s = open_store(dir, ST_FSYNC_EVERYSEC);
    assert_non_null(s);
    expect(s, "a", "1");
    expect(s, "b", NULL);
    expect(s, "c", "3");
    store_close(s);
    harness_rmdir(dir);
}

/* A child writes and dies without closing: the parent must find every
 * committed write through WAL replay, nothing uncommitted. */
static void crash_child(const char *dir, int n, int checkpoint_at) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        store *s = open_store(dir, ST_FSYNC_ALWAYS);
        if (!s) _exit(2);
        for (int i = 0; i < n; i++) {
            char k[32], v[32];
            snprintf(k, sizeof k, "k%05d", i);
            snprintf(v, sizeof v, "v%d", i);
            store_put(s, ST_DBI_KEYS, k, strlen(k), v, strlen(v));
            if (store_commit(s) != ST_OK) _exit(3);
            if (i == checkpoint_at) store_checkpoint_sync(s);
        }
        store_put(s, ST_DBI_KEYS, "uncommitted", 11, "x", 1);
        _exit(0); /* no store_commit, no close: a crash */
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_crash_replay(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    crash_child(dir, 500, 200);
    store *s = open_store(dir, ST_FSYNC_ALWAYS);
    assert_non_null(s);
    for (int i = 0; i < 500; i++) {
        char k[32], v[32];
        snprintf(k, sizeof k, "k%05d", i);
        snprintf(v, sizeof v, "v%d", i);
        expect(s, k, v);
    }
    expect(s, "uncommitted", NULL);
    store_stats st;
    store_get_stats(s, &st);
    assert_true(st.replayed_records > 0);
    store_close(s);
    harness_rmdir(dir);
}

static char *newest_segment(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/wal/*.wal 2>/dev/null | grep -v spare | sort | tail -1", dir);
    FILE *p = popen(cmd, "r");
    static char line[512];
    line[0] = 0;
    if (p) {
        if (!fgets(line, sizeof line, p)) line[0] = 0;
        pclose(p);
    }
    line[strcspn(line, "\n")] = 0;
    return line;
}

/* Find the end of the written records in a preallocated segment. */
static off_t written_end(const char *path) {
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    off_t off = 0;
    for (;;) {
        uint8_t h[24];
        if (pread(fd, h, 24, off) != 24) break;
        uint32_t magic = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
        if (magic != 0x4c57414cu) break;
        uint32_t len = (uint32_t)h[16] << 24 | (uint32_t)h[17] << 16 | (uint32_t)h[18] << 8 | h[19];
        off += 24 + len;
    }
    close(fd);
    return off;
}

/* A torn last record is dropped; everything before it is kept, and the
 * keys present are exactly a prefix of the write sequence. */
static void test_torn_tail(void **state) {
    (void)state;
    for (int variant = 0; variant < 2; variant++) {
        char *dir = harness_tmpdir();
        crash_child(dir, 300, -1);
        char *seg = newest_segment(dir);
        assert_true(seg[0] != 0);
        off_t end = written_end(seg);
        assert_true(end > 100);
        if (variant == 0) {
            assert_int_equal(truncate(seg, end - 7), 0); /* cut into the last record */
        } else {
            int fd = open(seg, O_WRONLY);
            assert_true(fd >= 0);
            assert_int_equal(pwrite(fd, "garbage!", 8, end - 12), 8); /* corrupt it */
            close(fd);
        }
        store *s = open_store(dir, ST_FSYNC_ALWAYS);
        assert_non_null(s);
        int present = 0, gap = 0;
        for (int i = 0; i < 300; i++) {
            char k[32];
            snprintf(k, sizeof k, "k%05d", i);
            const uint8_t *v;
            size_t n;
            int rc = store_get(s, ST_DBI_KEYS, k, strlen(k), &v, &n);
            if (rc == ST_OK) {
                assert_false(gap); /* no key after a missing one */
                present++;
            } else {
                gap = 1;
            }
        }
        assert_int_equal(present, 299); /* exactly the torn last write is gone */
        store_close(s);
        harness_rmdir(dir);
    }
}

/* The merged cursor against a model, with data split over LMDB and the
 * memtable, tombstones and overwrites, both directions. */
static void test_cursor_merge(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    store *s = open_store(dir, ST_FSYNC_NO);
    assert_non_null(s);
    char model[200][8];
    memset(model, 0, sizeof model);
    srand(7);
    for (int round = 0; round < 3; round++) {
        for (int j = 0; j < 300; j++) {
            int i = rand() % 200;
            char k[16];
            snprintf(k, sizeof k, "key%03d", i);
            if (rand() % 4 == 0) {
                store_del(s, ST_DBI_KEYS, k, strlen(k));
                model[i][0] = 0;
            } else {
                snprintf(model[i], sizeof model[i], "v%d", rand() % 1000);
                put_str(s, k, model[i]);
            }
        }
        store_commit(s);
        if (round < 2) assert_int_equal(store_checkpoint_sync(s), ST_OK);
    }
    store_cursor *c;
    assert_int_equal(store_cursor_open(s, ST_DBI_KEYS, &c), ST_OK);
    int i = 0, rc;
    for (rc = store_cursor_seek(c, NULL, 0); rc == ST_OK; rc = store_cursor_next(c)) {
        const uint8_t *k, *v;
        size_t kl, vl;
        assert_int_equal(store_cursor_get(c, &k, &kl, &v, &vl), ST_OK);
        while (i < 200 && !model[i][0]) i++;
        assert_true(i < 200);
        char want[16];
        snprintf(want, sizeof want, "key%03d", i);
        assert_int_equal(kl, strlen(want));
        assert_memory_equal(k, want, kl);
        assert_int_equal(vl, strlen(model[i]));
        assert_memory_equal(v, model[i], vl);
        i++;
    }
    while (i < 200 && !model[i][0]) i++;
    assert_int_equal(i, 200);
    i = 199;
    for (rc = store_cursor_seek_rev(c, NULL, 0); rc == ST_OK; rc = store_cursor_prev(c)) {
        const uint8_t *k, *v;
        size_t kl, vl;
        assert_int_equal(store_cursor_get(c, &k, &kl, &v, &vl), ST_OK);
        while (i >= 0 && !model[i][0]) i--;
        char want[16];
        snprintf(want, sizeof want, "key%03d", i);
        assert_memory_equal(k, want, kl);
        i--;
    }
    while (i >= 0 && !model[i][0]) i--;
    assert_int_equal(i, -1);
    /* seek to a middle key, then change direction */
    rc = store_cursor_seek(c, "key100", 6);
    assert_int_equal(rc, ST_OK);
    rc = store_cursor_prev(c);
    if (rc == ST_OK) {
        const uint8_t *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        assert_true(memcmp(k, "key100", 6) < 0);
    }
    store_cursor_close(c);
    store_close(s);
    harness_rmdir(dir);
}

/* The model of test_cursor_turns: present keys key000..key299. */
static int turn_model[300];

static int turn_next(int i, int dir) {
    for (i += dir; i >= 0 && i < 300; i += dir)
        if (turn_model[i]) return i;
    return -1;
}

static void turn_check(store_cursor *c, int rc, int want) {
    if (want < 0) {
        assert_int_equal(rc, ST_NOTFOUND);
        return;
    }
    assert_int_equal(rc, ST_OK);
    const uint8_t *k, *v;
    size_t kl, vl;
    assert_int_equal(store_cursor_get(c, &k, &kl, &v, &vl), ST_OK);
    char w[16];
    snprintf(w, sizeof w, "key%03d", want);
    assert_int_equal(kl, 6);
    assert_memory_equal(k, w, 6);
}

/* Cursor walks that turn around often (next after prev and back), from
 * seeks in both directions, over keys split between LMDB and the memtable
 * with tombstones hiding LMDB keys, and with keys put and deleted during the
 * walk: every step lands where the model says. A turn moves LMDB's cursor
 * one step instead of searching again, and memtable seeks go through a
 * finger; this is what must not change any answer. */
/* The model's keys in LMDB: a random two thirds of key000..key299,
 * checkpointed. */
static void turn_fill(store *s) {
    char k[16];
    for (int i = 0; i < 300; i++) {
        turn_model[i] = rand() % 3 != 0;
        snprintf(k, sizeof k, "key%03d", i);
        if (turn_model[i]) put_str(s, k, "lmdb");
    }
    store_commit(s);
    assert_int_equal(store_checkpoint_sync(s), ST_OK);
}

/* n writes to the memtable (tombstones and new keys) among key<from> ..
 * key<from + span - 1>, committed. */
static void turn_churn(store *s, int n, int from, int span) {
    char k[16];
    for (int j = 0; j < n; j++) {
        int i = from + rand() % span;
        snprintf(k, sizeof k, "key%03d", i);
        if (rand() % 2) {
            store_del(s, ST_DBI_KEYS, k, 6);
            turn_model[i] = 0;
        } else {
            put_str(s, k, "mem");
            turn_model[i] = 1;
        }
    }
    store_commit(s);
}

/* store_count_range against the model: ranges LMDB alone answers (no
 * memtable write in them) and ranges the memtable touches (writes only in
 * key100..key199), both directions, with a bound, before and after the
 * writes are checkpointed. */
static void count_check(store *s) {
    char lo[16], hi[16];
    for (int q = 0; q < 600; q++) {
        int a = rand() % 301, b = rand() % 301, from_hi = rand() % 2, far;
        uint64_t max = rand() % 4 ? 1000 : (uint64_t)(rand() % 20), n;
        snprintf(lo, sizeof lo, "key%03d", a);
        snprintf(hi, sizeof hi, "key%03d", b);
        assert_int_equal(store_count_range(s, ST_DBI_KEYS, lo, 6, hi, 6, from_hi, max, &n, &far),
                         ST_OK);
        uint64_t want = 0;
        for (int i = a; i < b; i++) want += turn_model[i] != 0;
        assert_int_equal(n, want > max ? max + 1 : want);
        if (a < b && want <= max) /* the walk reached its far bound */
            assert_int_equal(far, from_hi ? turn_model[a] != 0 : b < 300 && turn_model[b] != 0);
    }
}

static void test_count_range(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    store *s = open_store(dir, ST_FSYNC_NO);
    assert_non_null(s);
    srand(12);
    put_str(s, "kez", "after the range");
    turn_fill(s);
    count_check(s);
    turn_churn(s, 60, 100, 100);
    count_check(s);
    assert_int_equal(store_checkpoint_sync(s), ST_OK);
    count_check(s);
    store_close(s);
    harness_rmdir(dir);
}

static void test_cursor_turns(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    store *s = open_store(dir, ST_FSYNC_NO);
    assert_non_null(s);
    srand(11);
    char k[16];
    turn_fill(s);
    turn_churn(s, 200, 0, 300);
    store_cursor *c;
    assert_int_equal(store_cursor_open(s, ST_DBI_KEYS, &c), ST_OK);
    for (int walk = 0; walk < 400; walk++) {
        int at = rand() % 300, rc, want;
        snprintf(k, sizeof k, "key%03d", at);
        if (rand() % 2) {
            rc = store_cursor_seek(c, k, 6);
            want = turn_model[at] ? at : turn_next(at, 1);
        } else {
            rc = store_cursor_seek_rev(c, k, 6);
            want = turn_model[at] ? at : turn_next(at, -1);
        }
        turn_check(c, rc, want);
        for (int st = 0; st < 12 && want >= 0; st++) {
            if (rand() % 8 == 0) { /* a write beside the walk */
                int i = rand() % 300;
                snprintf(k, sizeof k, "key%03d", i);
                if (i != want) {
                    if (rand() % 2) {
                        store_del(s, ST_DBI_KEYS, k, 6);
                        turn_model[i] = 0;
                    } else {
                        put_str(s, k, "walk");
                        turn_model[i] = 1;
                    }
                }
            }
            int way = rand() % 2 ? 1 : -1;
            rc = way > 0 ? store_cursor_next(c) : store_cursor_prev(c);
            want = turn_next(want, way);
            turn_check(c, rc, want);
        }
    }
    store_cursor_close(c);
    store_commit(s);
    store_close(s);
    harness_rmdir(dir);
}

/* A checkpoint that hits a full disk changes nothing in LMDB: data stays
 * readable from the memtable, writes are refused, and a later retry
 * succeeds; a full map grows the map and succeeds. */
static void test_fault_injection(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    store *s = open_store(dir, ST_FSYNC_EVERYSEC);
    assert_non_null(s);
    put_str(s, "x", "1");
    assert_int_equal(store_commit(s), ST_OK);
    assert_int_equal(store_checkpoint_sync(s), ST_OK);
    put_str(s, "x", "2");
    put_str(s, "y", "2");
    assert_int_equal(store_commit(s), ST_OK);
    store_inject_fault(s, 1, ST_NOSPACE);
    assert_int_not_equal(store_checkpoint_sync(s), ST_OK);
    expect(s, "x", "2");
    expect(s, "y", "2");
    store_stats st;
    store_get_stats(s, &st);
    assert_true(st.nospace);
    assert_int_equal(store_reserve(s, 100), ST_NOSPACE);
    /* the retry after the disk "has room again" */
    sleep(1);
    store_cron(s, (int64_t)time(NULL) * 1000 + 2000);
    store_close(s); /* close checkpoints */
    s = open_store(dir, ST_FSYNC_EVERYSEC);
    assert_non_null(s);
    expect(s, "x", "2");
    expect(s, "y", "2");
    /* map full: grows and retries transparently */
    put_str(s, "z", "3");
    assert_int_equal(store_commit(s), ST_OK);
    store_inject_fault(s, 1, -100);
    assert_int_equal(store_checkpoint_sync(s), ST_OK);
    store_get_stats(s, &st);
    assert_true(st.map_size >= (2ull << 30));
    store_close(s);
    s = open_store(dir, ST_FSYNC_EVERYSEC);
    expect(s, "z", "3");
    store_close(s);
    harness_rmdir(dir);
}

static void test_format_check(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    store *s = open_store(dir, ST_FSYNC_NO);
    assert_int_equal(store_put(s, ST_DBI_INFO, "format", 6, "lodis-999", 9), ST_OK);
    store_commit(s);
    store_close(s);
    store_opts o;
    store_opts_default(&o);
    o.dir = dir;
    int rc;
    char err[512] = "";
    s = store_open(&o, &rc, err, sizeof err);
    assert_null(s);
    assert_int_equal(rc, ST_CORRUPT);
    assert_non_null(strstr(err, "lodis-999"));
    /* a damaged data file: a clear error, no crash */
    char path[512];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(write(fd, "this is not an lmdb file at all", 31) == 31);
    close(fd);
    s = store_open(&o, &rc, err, sizeof err);
    assert_null(s);
    assert_true(strlen(err) > 0);
    harness_rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_reopen), cmocka_unit_test(test_crash_replay),
        cmocka_unit_test(test_torn_tail),      cmocka_unit_test(test_cursor_merge),
        cmocka_unit_test(test_cursor_turns),    cmocka_unit_test(test_count_range),
        cmocka_unit_test(test_fault_injection), cmocka_unit_test(test_format_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
