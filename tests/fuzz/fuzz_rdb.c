/* fuzz_rdb.c — fuzz target for the RDB codec: DUMP payload bodies (one
 * object: type byte + value) and whole RDB files, decoded into a real
 * store. The first input byte picks the parser (even: one object, odd: a
 * file); the rest is the data. Objects skip the CRC (a fuzzer cannot
 * forge it; RESTORE checks it before the decoder runs), files whose
 * stored checksum is zero skip it too, as Redis's loader does.
 *
 * Findings are crashes, sanitizer reports, hangs and leaks. Build with
 * `make fuzz` (clang -fsanitize=fuzzer,address,undefined) and run
 * build/fuzz/fuzz_rdb tests/fuzz/corpus; fuzz_main.c drives the same
 * target without libFuzzer for a bounded smoke run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/keyspace.h"
#include "storage/rdb.h"
#include "storage/rdb_file.h"
#include "storage/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static store *st;
static ks *kspace;
static char dir[] = "/tmp/lodis-fuzz-XXXXXX";

static void cleanup(void) {
    ks_close(kspace);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static void open_once(void) {
    if (st) return;
    if (!mkdtemp(dir)) abort();
    store_opts o;
    store_opts_default(&o);
    o.dir = dir;
    o.fsync = ST_FSYNC_NO;
    o.wal_segment_size = 1 << 20;
    int rc;
    char err[256];
    st = store_open(&o, &rc, err, sizeof err);
    if (!st) abort();
    kspace = ks_open(st, 16, &rc);
    if (!kspace) abort();
    ks_set_now(kspace, 1700000000000LL);
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static unsigned runs;
    open_once();
    if (size < 2) return 0;
    rdb_limits lim;
    rdb_limits_default(&lim);
    if ((data[0] & 1) == 0) {
        rdb_rd r;
        rdb_rd_init(&r, data + 2, size - 2);
        rdb_obj o;
        const char *why;
        if (rdb_is_object_type(data[1]) &&
            rdb_decode_value(kspace, data[1], &r, &lim, &o, &why) == ST_OK) {
            /* Publish, read back through the encoder, delete. */
            if (rdb_obj_publish(kspace, &o, 0, "k", 1, 0) == ST_OK) {
                ks_meta m;
                if (ks_lookup(kspace, 0, "k", 1, KS_NONE, &m) == ST_OK) {
                    rdb_buf b = {0};
                    if (rdb_encode_value(kspace, &m, &lim, &b) != ST_OK) abort();
                    rdb_buf_free(&b);
                    ks_meta_release(&m);
                }
                ks_delete(kspace, 0, "k", 1);
            }
        }
    } else {
        rdb_load_opts o = {.lim = &lim, .replace = 1, .skip_modules = 1};
        rdb_file_stats fs;
        char err[256];
        rdb_file_load(kspace, data + 1, size - 1, &o, &fs, err, sizeof err);
        ks_flushall(kspace);
    }
    /* Keep the memtable and WAL bounded across millions of runs. */
    ks_flush_counters(kspace);
    store_commit(st);
    store_end_tick(st);
    if (++runs % 256 == 0) store_cron(st, 1700000000000LL + runs);
    store_poll(st);
    return 0;
}
