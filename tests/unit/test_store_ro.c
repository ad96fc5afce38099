/* test_store_ro.c — store_open_snapshot: a read-only, consistent view of a
 * data directory another process is writing.
 *
 * LMDB forbids opening one environment twice in a process (closing either
 * breaks the other's locks), so the writer is a forked child driven through
 * pipes, as a lodis-server would be. Checked: the view sees checkpointed
 * data and data only in the WAL; it does not see later writes, not even
 * after the writer checkpoints and trims the WAL segments the view was
 * built from; a new view sees them; nothing in the directory is written. */
#include "storage/keyspace.h"
#include "storage/store.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static int to_child[2], to_parent[2];

static void say(int fd, char c) {
    if (write(fd, &c, 1) != 1) _exit(3);
}
static char hear(int fd) {
    char c = 0;
    if (read(fd, &c, 1) != 1) return 0;
    return c;
}

static void set(ks *k, const char *key, const char *val) {
    if (ks_set_string(k, 0, key, strlen(key), val, strlen(val), 0, 0, 0) != ST_OK) _exit(4);
    if (ks_flush_counters(k) != ST_OK || store_commit(ks_store(k)) != ST_OK) _exit(5);
    store_end_tick(ks_store(k));
}

static void writer(const char *dir) {
    store_opts o;
    store_opts_default(&o);
    o.dir = dir;
    o.checkpoint_ms = 1000000; /* checkpoints only when asked */
    char err[256];
    int rc;
    store *s = store_open(&o, &rc, err, sizeof err);
    if (!s) _exit(2);
    ks *k = ks_open(s, 16, &rc);
    set(k, "a", "checkpointed");
    if (store_checkpoint_sync(s) != ST_OK) _exit(6);
    set(k, "b", "wal only");
    say(to_parent[1], '1');
    hear(to_child[0]);
    set(k, "c", "after the view");
    set(k, "b", "changed after the view");
    if (store_checkpoint_sync(s) != ST_OK) _exit(6); /* trims the WAL the view read */
    set(k, "d", "wal again");
    say(to_parent[1], '2');
    hear(to_child[0]);
    ks_close(k);
    store_close(s);
    _exit(0);
}

static int get(ks *k, const char *key, char *out, size_t cap) {
    ks_meta m;
    int rc = ks_peek(k, 0, key, strlen(key), &m);
    if (rc != ST_OK) return rc;
    snprintf(out, cap, "%.*s", (int)m.vlen, (const char *)m.val);
    ks_meta_release(&m);
    return ST_OK;
}

static void test_view_of_a_live_directory(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(to_parent), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) writer(dir);
    assert_int_equal(hear(to_parent[0]), '1');

    char err[256] = "", v[64];
    int rc;
    store *s = store_open_snapshot(dir, &rc, err, sizeof err);
    assert_non_null(s);
    ks *k = ks_open(s, 16, &rc);
    assert_int_equal(get(k, "a", v, sizeof v), ST_OK);
    assert_string_equal(v, "checkpointed");
    assert_int_equal(get(k, "b", v, sizeof v), ST_OK);
    assert_string_equal(v, "wal only");
    assert_int_equal(ks_dbsize(k, 0), 2);
    /* Writes are refused. */
    assert_int_equal(store_put(s, ST_DBI_INFO, "x", 1, "y", 1), ST_INVALID);

    say(to_child[1], 'g');
    assert_int_equal(hear(to_parent[0]), '2');
    /* The writer checkpointed and trimmed: the view is unchanged. */
    store_end_tick(s);
    assert_int_equal(get(k, "b", v, sizeof v), ST_OK);
    assert_string_equal(v, "wal only");
    assert_int_equal(get(k, "c", v, sizeof v), ST_NOTFOUND);
    assert_int_equal(ks_dbsize(k, 0), 2);
    ks_close(k);
    store_close(s);

    /* A new view is at the new point. */
    s = store_open_snapshot(dir, &rc, err, sizeof err);
    assert_non_null(s);
    k = ks_open(s, 16, &rc);
    assert_int_equal(get(k, "b", v, sizeof v), ST_OK);
    assert_string_equal(v, "changed after the view");
    assert_int_equal(get(k, "c", v, sizeof v), ST_OK);
    assert_int_equal(get(k, "d", v, sizeof v), ST_OK);
    assert_int_equal(ks_dbsize(k, 0), 4);
    ks_close(k);
    store_close(s);

    say(to_child[1], 'q');
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    harness_rmdir(dir);
}

static void test_not_a_store(void **state) {
    (void)state;
    char *dir = harness_tmpdir();
    char err[256] = "";
    int rc;
    assert_null(store_open_snapshot(dir, &rc, err, sizeof err));
    assert_int_equal(rc, ST_NOTFOUND);
    assert_non_null(strstr(err, "data.mdb"));
    /* Nothing was created. */
    char p[512];
    snprintf(p, sizeof p, "%s/wal", dir);
    assert_int_equal(access(p, F_OK), -1);
    harness_rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_of_a_live_directory),
        cmocka_unit_test(test_not_a_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
