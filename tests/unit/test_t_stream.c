/* test_t_stream.c — stream storage (storage/t_stream.c) on a real LMDB
 * store: ID parsing with Redis's rules (strict forms, "ms-*", loose
 * numbers), formatting, increment/decrement at the edges, header and record
 * round trips (golden bytes for the header), entries stored and walked in
 * both directions within bounds, and PEL / per-consumer PEL records that
 * survive a checkpoint and reopen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/keyspace.h"
#include "storage/store.h"
#include "storage/t_stream.h"
#include "tests/unit/harness.h"

#include "tests/unit/fx.h"

static int parse(const char *s, strm_id *id, int strict, int *seq_given, uint64_t missing) {
    return strm_id_parse(s, strlen(s), id, missing, strict, seq_given);
}

static void test_id_parse(void **state) {
    (void)state;
    strm_id id;
    int sg;
    assert_int_equal(parse("5-3", &id, 1, &sg, 0), 0);
    assert_true(id.ms == 5 && id.seq == 3 && sg == 1);
    assert_int_equal(parse("5", &id, 1, &sg, 0), 0);
    assert_true(id.ms == 5 && id.seq == 0);
    assert_int_equal(parse("5", &id, 0, NULL, UINT64_MAX), 0);
    assert_true(id.seq == UINT64_MAX);
    assert_int_equal(parse("7-*", &id, 1, &sg, 0), 0);
    assert_true(id.ms == 7 && sg == 0);
    /* "ms-*" only where a seq_given pointer asks for it */
    assert_int_equal(parse("7-*", &id, 1, NULL, 0), -1);
    assert_int_equal(parse("-", &id, 1, NULL, 0), -1);
    assert_int_equal(parse("+", &id, 1, NULL, 0), -1);
    assert_int_equal(parse("-", &id, 0, NULL, 0), 0);
    assert_true(id.ms == 0 && id.seq == 0);
    assert_int_equal(parse("+", &id, 0, NULL, 0), 0);
    assert_true(id.ms == UINT64_MAX && id.seq == UINT64_MAX);
    assert_int_equal(parse("18446744073709551615-18446744073709551615", &id, 1, NULL, 0), 0);
    assert_true(id.ms == UINT64_MAX && id.seq == UINT64_MAX);
    assert_int_equal(parse("18446744073709551616", &id, 1, NULL, 0), -1);
    assert_int_equal(parse("", &id, 1, NULL, 0), -1);
    assert_int_equal(parse("abc", &id, 1, NULL, 0), -1);
    assert_int_equal(parse("5-", &id, 1, NULL, 0), -1);
    assert_int_equal(parse("-1", &id, 1, NULL, 0), -1);
    /* string2ull's loose fallback */
    assert_int_equal(parse("+5", &id, 1, NULL, 0), 0);
    assert_true(id.ms == 5);
    assert_int_equal(parse(" 5", &id, 1, NULL, 0), 0);
    assert_true(id.ms == 5);
    /* Redis reads a C string: bytes after a NUL are ignored */
    assert_int_equal(strm_id_parse("9\0zz", 4, &id, 0, 1, NULL), 0);
    assert_true(id.ms == 9 && id.seq == 0);
    char longid[200];
    memset(longid, '1', sizeof longid);
    assert_int_equal(strm_id_parse(longid, sizeof longid, &id, 0, 1, NULL), -1);
}

static void test_id_format_incr(void **state) {
    (void)state;
    char buf[48];
    strm_id id = {UINT64_MAX, UINT64_MAX};
    assert_int_equal(strm_id_format(id, buf), 41);
    assert_string_equal(buf, "18446744073709551615-18446744073709551615");
    assert_int_equal(strm_id_incr(&id), -1);
    strm_id a = {3, UINT64_MAX};
    assert_int_equal(strm_id_incr(&a), 0);
    assert_true(a.ms == 4 && a.seq == 0);
    assert_int_equal(strm_id_decr(&a), 0);
    assert_true(a.ms == 3 && a.seq == UINT64_MAX);
    strm_id z = {0, 0};
    assert_int_equal(strm_id_decr(&z), -1);
    strm_id b = {3, 1}, c = {3, 2}, d = {4, 0};
    assert_true(strm_id_cmp(b, c) < 0 && strm_id_cmp(d, c) > 0 && strm_id_cmp(b, b) == 0);
}

static void test_header_golden(void **state) {
    (void)state;
    strm_hdr h = {{1, 2}, {3, 4}, {5, 6}, 7, 8}, g;
    uint8_t out[STRM_HDR_LEN];
    strm_hdr_encode(&h, out);
    static const uint8_t want[STRM_HDR_LEN] = {
        0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3,
        0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6,
        0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 8,
    };
    assert_memory_equal(out, want, STRM_HDR_LEN);
    strm_hdr_decode(out, sizeof out, &g);
    assert_memory_equal(&g, &h, sizeof h);
    strm_hdr_decode(NULL, 0, &g); /* a missing header reads as zeros */
    assert_true(g.added == 0 && g.last.ms == 0);

    strm_group gr = {42, {9, 9}, -1, 3, 2}, gr2;
    uint8_t gb[STRM_GROUP_LEN];
    strm_group_encode(&gr, gb);
    assert_int_equal(strm_group_decode(gb, sizeof gb, &gr2), ST_OK);
    assert_memory_equal(&gr, &gr2, sizeof gr);
    assert_int_equal(strm_group_decode(gb, 3, &gr2), ST_CORRUPT);
    strm_consumer cn = {7, 123456, 5}, cn2;
    uint8_t cb[STRM_CONS_LEN];
    strm_consumer_encode(&cn, cb);
    assert_int_equal(strm_consumer_decode(cb, sizeof cb, &cn2), ST_OK);
    assert_memory_equal(&cn, &cn2, sizeof cn);
}

static void test_entries(void **state) {
    fx *f = *state;
    uint64_t sid = ks_new_id(f->k);
    for (uint64_t i = 1; i <= 50; i++) {
        char v[32];
        int n = snprintf(v, sizeof v, "v%llu", (unsigned long long)i);
        const void *p[4] = {"f", v, "", "x"};
        size_t l[4] = {1, (size_t)n, 0, 1};
        strm_id id = {i * 10, i % 3};
        assert_int_equal(strm_entry_put(f->s, sid, id, p, l, 4), ST_OK);
    }
    const uint8_t *v;
    size_t vl;
    strm_id id = {100, 1};
    assert_int_equal(strm_entry_get(f->s, sid, id, &v, &vl), ST_OK);
    assert_int_equal(strm_fields_count(v, vl), 4);
    size_t off = 0, l;
    const uint8_t *p;
    assert_int_equal(strm_fields_next(v, vl, &off, &p, &l), ST_OK);
    assert_true(l == 1 && p[0] == 'f');
    assert_int_equal(strm_fields_next(v, vl, &off, &p, &l), ST_OK);
    assert_true(l == 3 && memcmp(p, "v10", 3) == 0);
    assert_int_equal(strm_fields_next(v, vl, &off, &p, &l), ST_OK);
    assert_int_equal(l, 0);
    /* a truncated value is corrupt, never read past its end */
    off = 0;
    assert_int_equal(strm_fields_next(v, 2, &off, &p, &l), ST_CORRUPT);

    /* ranges, both directions, inclusive bounds */
    strm_iter it;
    strm_id a = {95, 0}, b = {305, 0}, got;
    int n = 0;
    assert_int_equal(strm_iter_open(&it, f->s, sid, a, b, 0), ST_OK);
    strm_id prev = {0, 0};
    while (strm_iter_next(&it, &got, &v, &vl) == ST_OK) {
        assert_true(strm_id_cmp(got, prev) > 0);
        prev = got;
        n++;
    }
    strm_iter_close(&it);
    assert_int_equal(n, 21); /* 100 .. 300 */
    n = 0;
    assert_int_equal(strm_iter_open(&it, f->s, sid, a, b, 1), ST_OK);
    prev.ms = UINT64_MAX;
    while (strm_iter_next(&it, &got, &v, &vl) == ST_OK) {
        assert_true(strm_id_cmp(got, prev) < 0);
        prev = got;
        n++;
    }
    strm_iter_close(&it);
    assert_int_equal(n, 21);
    /* an empty (reversed) interval */
    assert_int_equal(strm_iter_open(&it, f->s, sid, b, a, 0), ST_OK);
    assert_int_equal(strm_iter_next(&it, &got, &v, &vl), ST_NOTFOUND);
    strm_iter_close(&it);

    assert_int_equal(strm_entry_del(f->s, sid, id), ST_OK);
    assert_int_equal(strm_entry_del(f->s, sid, id), ST_NOTFOUND);
    assert_int_equal(strm_entry_get(f->s, sid, id, &v, &vl), ST_NOTFOUND);
}

static void test_pel_persists(void **state) {
    fx *f = *state;
    uint64_t sid = ks_new_id(f->k), gid = ks_new_id(f->k), cid = ks_new_id(f->k);
    for (uint64_t i = 1; i <= 10; i++) {
        strm_id id = {i, 0};
        strm_pel pe = {1000 + (int64_t)i, i, cid, (const uint8_t *)"alice", 5};
        assert_int_equal(strm_pel_put(f->s, sid, gid, id, &pe), ST_OK);
        assert_int_equal(strm_cpel_put(f->s, sid, gid, cid, id), ST_OK);
    }
    strm_id gone = {4, 0};
    assert_int_equal(strm_pel_del(f->s, sid, gid, gone), ST_OK);
    assert_int_equal(strm_cpel_del(f->s, sid, gid, cid, gone), ST_OK);
    assert_int_equal(store_checkpoint_sync(f->s), ST_OK);
    fx_close(f);
    fx_open(f);
    strm_pel pe;
    strm_id id = {7, 0};
    assert_int_equal(strm_pel_get(f->s, sid, gid, id, &pe), ST_OK);
    assert_true(pe.delivery == 1007 && pe.count == 7 && pe.cid == cid);
    assert_int_equal(pe.nlen, 5);
    assert_memory_equal(pe.name, "alice", 5);
    assert_int_equal(strm_pel_get(f->s, sid, gid, gone, &pe), ST_NOTFOUND);
    /* the per-consumer PEL walks in ID order within its prefix */
    uint8_t pfx[25], k0[41];
    strm_cpel_key(sid, gid, cid, (strm_id){0, 0}, k0);
    memcpy(pfx, k0, 25);
    strm_scan sc;
    const uint8_t *k, *v;
    size_t kl, vl;
    int n = 0;
    uint64_t last = 0;
    assert_int_equal(strm_scan_open(&sc, f->s, pfx, 25, NULL, 0), ST_OK);
    while (strm_scan_next(&sc, &k, &kl, &v, &vl) == ST_OK) {
        strm_id t = strm_key_tail_id(k, kl);
        assert_true(t.ms > last && t.ms != 4);
        last = t.ms;
        n++;
    }
    strm_scan_close(&sc);
    assert_int_equal(n, 9);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_parse),
        cmocka_unit_test(test_id_format_incr),
        cmocka_unit_test(test_header_golden),
        cmocka_unit_test_setup_teardown(test_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pel_persists, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
