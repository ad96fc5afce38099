/* test_rdb.c — the RDB value codec (storage/rdb.c, rdb_stream.c) on a
 * real store: every type encoded from the keyspace and decoded back under
 * another key compares equal; legacy encodings built here (ZSET with text
 * scores, ziplist hash, zipmap, intset over its limit, quicklist v1) load;
 * duplicates and empty values are refused; and every truncation and many
 * byte flips of valid objects either decode to something or fail, never
 * crash, and never leave a key behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/keyspace.h"
#include "storage/rdb.h"
#include "storage/rdb_pack.h"
#include "storage/store.h"
#include "storage/t_hash.h"
#include "storage/t_list.h"
#include "storage/t_set.h"
#include "storage/t_stream.h"
#include "storage/t_zset.h"
#include "tests/unit/harness.h"

#include "tests/unit/fx.h"
#include "tests/unit/zlbuild.h"

static rdb_limits lim;
static int decode_bytes(ks *k, const uint8_t *p, size_t n, const char *key);

/* Encode key `from`, decode as key `to`; returns the decode code. */
static int copy_value(ks *k, const char *from, const char *to, rdb_buf *b) {
    ks_meta m;
    assert_int_equal(ks_lookup(k, 0, from, strlen(from), KS_NONE, &m), ST_OK);
    b->len = 0;
    assert_int_equal(rdb_encode_value(k, &m, &lim, b), ST_OK);
    ks_meta_release(&m);
    rdb_rd r;
    rdb_rd_init(&r, b->p + 1, b->len - 1);
    rdb_obj o;
    const char *why;
    int rc = rdb_decode_value(k, b->p[0], &r, &lim, &o, &why);
    if (rc == ST_OK) assert_int_equal(rdb_obj_publish(k, &o, 0, to, strlen(to), 0), ST_OK);
    return rc;
}

/* A canonical dump of a key's content for comparisons: its own encoding
 * with the key name left out. */
static void expect_same(ks *k, const char *a, const char *b) {
    rdb_buf x = {0}, y = {0};
    ks_meta m;
    assert_int_equal(ks_lookup(k, 0, a, strlen(a), KS_NONE, &m), ST_OK);
    assert_int_equal(rdb_encode_value(k, &m, &lim, &x), ST_OK);
    uint64_t ca = m.count;
    ks_meta_release(&m);
    assert_int_equal(ks_lookup(k, 0, b, strlen(b), KS_NONE, &m), ST_OK);
    assert_int_equal(rdb_encode_value(k, &m, &lim, &y), ST_OK);
    assert_int_equal(ca, m.count);
    ks_meta_release(&m);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.p, y.p, x.len);
    rdb_buf_free(&x);
    rdb_buf_free(&y);
}

static void make_values(ks *k) {
    char buf[700];
    assert_int_equal(ks_set_string(k, 0, "s", 1, "hello world hello world hello", 29, 0, 0, 0),
                     ST_OK);
    th_hash h;
    memset(&h, 0, sizeof h);
    h.k = k;
    h.key = "h";
    h.klen = 1;
    th_create(&h);
    for (int i = 0; i < 200; i++) {
        int n = snprintf(buf, sizeof buf, "field%d", i);
        assert_int_equal(th_set(&h, buf, (size_t)n, "v", 1, NULL), ST_OK);
    }
    memset(buf, 'F', 600);
    assert_int_equal(th_set(&h, buf, 600, buf, 600, NULL), ST_OK);
    h.flags |= TH_F_HT;
    assert_int_equal(th_commit(&h), ST_OK);
    ts_set s;
    ts_new(&s, k, 0, "set", 3);
    for (int i = 0; i < 50; i++) {
        int n = snprintf(buf, sizeof buf, "%d", i * 1000 - 7);
        int added;
        assert_int_equal(ts_add(&s, buf, (size_t)n, &added), ST_OK);
    }
    assert_int_equal(ts_commit(&s), ST_OK);
    tl_list l;
    memset(&l, 0, sizeof l);
    l.k = k;
    l.key = "l";
    l.klen = 1;
    tl_create(&l);
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(buf, sizeof buf, "element-%d", i);
        assert_int_equal(tl_push(&l, TL_TAIL, buf, (size_t)n), ST_OK);
    }
    assert_int_equal(tl_commit(&l), ST_OK);
    uint64_t zid = ks_new_id(k);
    for (int i = 0; i < 100; i++) {
        int n = snprintf(buf, sizeof buf, "m%d", i);
        assert_int_equal(tz_put(k, zid, buf, (size_t)n, i * 0.5 - 10, NULL), ST_OK);
    }
    uint8_t zh[1] = {0};
    ks_meta zm = {.type = KS_ZSET, .id = zid, .count = 100, .hdr = zh, .hdrlen = 1};
    assert_int_equal(ks_write_meta(k, 0, "z", 1, &zm), ST_OK);
    uint64_t sid = ks_new_id(k);
    strm_hdr sh = {0};
    for (uint64_t i = 1; i <= 300; i++) {
        strm_id id = {1000 + i / 3, i};
        const void *p[4] = {"a", "1", i % 2 ? "b" : "c", "xyz"};
        size_t pl[4] = {1, 1, 1, 3};
        assert_int_equal(strm_entry_put(ks_store(k), sid, id, p, pl, 4), ST_OK);
        sh.last = id;
        if (i == 1) sh.first = id;
    }
    sh.added = 300;
    sh.ngroups = 1;
    strm_group g = {ks_new_id(k), {1010, 30}, 30, 2, 1};
    assert_int_equal(strm_group_put(k, sid, "grp", 3, &g), ST_OK);
    strm_consumer c = {ks_new_id(k), 12345, 2};
    assert_int_equal(strm_consumer_put(k, sid, g.gid, "alice", 5, &c), ST_OK);
    for (uint64_t i = 1; i <= 2; i++) {
        strm_id id = {1000, i};
        strm_pel pe = {777, i, c.cid, (const uint8_t *)"alice", 5};
        assert_int_equal(strm_pel_put(ks_store(k), sid, g.gid, id, &pe), ST_OK);
        assert_int_equal(strm_cpel_put(ks_store(k), sid, g.gid, c.cid, id), ST_OK);
    }
    uint8_t shb[STRM_HDR_LEN];
    strm_hdr_encode(&sh, shb);
    ks_meta xm = {.type = KS_STREAM, .id = sid, .count = 300, .hdr = shb, .hdrlen = STRM_HDR_LEN};
    assert_int_equal(ks_write_meta(k, 0, "x", 1, &xm), ST_OK);
}

static void test_roundtrip_every_type(void **state) {
    fx *f = *state;
    make_values(f->k);
    rdb_buf b = {0};
    const char *keys[] = {"s", "h", "set", "l", "z", "x"};
    const int types[] = {RDB_TYPE_STRING,  RDB_TYPE_HASH,           RDB_TYPE_SET_INTSET,
                         RDB_TYPE_LIST_QUICKLIST_2, RDB_TYPE_ZSET_LISTPACK,
                         RDB_TYPE_STREAM_LISTPACKS_2};
    for (int i = 0; i < 6; i++) {
        char to[32];
        snprintf(to, sizeof to, "copy-%s", keys[i]);
        assert_int_equal(copy_value(f->k, keys[i], to, &b), ST_OK);
        assert_int_equal(b.p[0], types[i]);
        expect_same(f->k, keys[i], to);
    }
    /* survives a restart */
    fx_close(f);
    fx_open(f);
    for (int i = 0; i < 6; i++) {
        char to[32];
        snprintf(to, sizeof to, "copy-%s", keys[i]);
        expect_same(f->k, keys[i], to);
    }
    rdb_buf_free(&b);
}

/* RDB version 9 forms (ziplists, quicklist v1, streams v1) decode back to
 * the same values. */
static void test_version9_forms(void **state) {
    fx *f = *state;
    make_values(f->k);
    rdb_limits l9 = lim;
    l9.rdb_version = 9;
    const char *keys[] = {"s", "h", "set", "l", "z", "x"};
    const int types[] = {RDB_TYPE_STRING, RDB_TYPE_HASH, RDB_TYPE_SET_INTSET,
                         RDB_TYPE_LIST_QUICKLIST, RDB_TYPE_ZSET_ZIPLIST,
                         RDB_TYPE_STREAM_LISTPACKS};
    rdb_buf b = {0};
    for (int i = 0; i < 6; i++) {
        ks_meta m;
        assert_int_equal(ks_lookup(f->k, 0, keys[i], strlen(keys[i]), KS_NONE, &m), ST_OK);
        b.len = 0;
        assert_int_equal(rdb_encode_value(f->k, &m, &l9, &b), ST_OK);
        ks_meta_release(&m);
        assert_int_equal(b.p[0], types[i]);
        char to[32];
        snprintf(to, sizeof to, "v9-%s", keys[i]);
        assert_int_equal(decode_bytes(f->k, b.p, b.len, to), ST_OK);
        /* streams v1 lose entries-added, max-deleted ID and entries-read */
        if (types[i] != RDB_TYPE_STREAM_LISTPACKS) expect_same(f->k, keys[i], to);
    }
    rdb_buf_free(&b);
}

/* Every truncation and many byte flips of each encoded value: decoding
 * never crashes, and a failure leaves no key. */
static void test_damaged_objects(void **state) {
    fx *f = *state;
    make_values(f->k);
    rdb_buf b = {0};
    const char *keys[] = {"s", "h", "set", "l", "z", "x"};
    uint64_t before = ks_dbsize(f->k, 0);
    for (int i = 0; i < 6; i++) {
        ks_meta m;
        assert_int_equal(ks_lookup(f->k, 0, keys[i], strlen(keys[i]), KS_NONE, &m), ST_OK);
        b.len = 0;
        assert_int_equal(rdb_encode_value(f->k, &m, &lim, &b), ST_OK);
        ks_meta_release(&m);
        uint8_t *d = malloc(b.len);
        size_t step = b.len / 150 + 1;
        for (size_t pos = 0; pos < b.len; pos += step) {
            for (int flip = 0; flip < 2; flip++) {
                memcpy(d, b.p, b.len);
                size_t len = b.len;
                if (flip) d[pos] ^= (uint8_t)(1u << (pos % 8));
                else len = pos;
                if (len == 0) continue;
                rdb_rd r;
                rdb_rd_init(&r, d + 1, len - 1);
                rdb_obj o;
                const char *why;
                if (!rdb_is_object_type(d[0])) continue;
                int rc = rdb_decode_value(f->k, d[0], &r, &lim, &o, &why);
                if (rc == ST_OK) rdb_obj_discard(f->k, &o);
                else assert_true(rc == ST_CORRUPT || rc == ST_NOTFOUND || rc == ST_INVALID);
                assert_int_equal(ks_dbsize(f->k, 0), before);
            }
        }
        free(d);
    }
    rdb_buf_free(&b);
}

static int decode_bytes(ks *k, const uint8_t *p, size_t n, const char *key) {
    rdb_rd r;
    rdb_rd_init(&r, p + 1, n - 1);
    rdb_obj o;
    const char *why;
    int rc = rdb_decode_value(k, p[0], &r, &lim, &o, &why);
    if (rc == ST_OK) assert_int_equal(rdb_obj_publish(k, &o, 0, key, strlen(key), 0), ST_OK);
    return rc;
}

static void test_legacy_and_invalid(void **state) {
    fx *f = *state;
    ks_meta m;
    /* ZSET (type 3) with text scores */
    const uint8_t z3[] = {RDB_TYPE_ZSET, 2, 1, 'a', 3, '1', '.', '5', 1, 'b', 254};
    assert_int_equal(decode_bytes(f->k, z3, sizeof z3, "z3"), ST_OK);
    double sc;
    assert_int_equal(ks_lookup(f->k, 0, "z3", 2, KS_ZSET, &m), ST_OK);
    assert_int_equal(tz_get(f->k, m.id, "a", 1, &sc), ST_OK);
    assert_true(sc == 1.5);
    assert_int_equal(tz_get(f->k, m.id, "b", 1, &sc), ST_OK);
    assert_true(sc > 1e308);
    ks_meta_release(&m);
    /* duplicate members and a NaN score are corruption */
    const uint8_t zdup[] = {RDB_TYPE_ZSET, 2, 1, 'a', 1, '1', 1, 'a', 1, '2'};
    assert_int_equal(decode_bytes(f->k, zdup, sizeof zdup, "zd"), ST_CORRUPT);
    const uint8_t znan[] = {RDB_TYPE_ZSET, 1, 1, 'a', 253};
    assert_int_equal(decode_bytes(f->k, znan, sizeof znan, "zn"), ST_CORRUPT);
    const uint8_t sdup[] = {RDB_TYPE_SET, 2, 1, 'a', 1, 'a'};
    assert_int_equal(decode_bytes(f->k, sdup, sizeof sdup, "sd"), ST_CORRUPT);
    const uint8_t hdup[] = {RDB_TYPE_HASH, 2, 1, 'a', 1, 'x', 1, 'a', 1, 'y'};
    assert_int_equal(decode_bytes(f->k, hdup, sizeof hdup, "hd"), ST_CORRUPT);
    /* empty collections are not keys */
    const uint8_t lempty[] = {RDB_TYPE_LIST, 0};
    assert_int_equal(decode_bytes(f->k, lempty, sizeof lempty, "le"), ST_NOTFOUND);
    /* a zipmap hash {"k": "v"} */
    const uint8_t zm[] = {RDB_TYPE_HASH_ZIPMAP, 7, 1, 1, 'k', 1, 0, 'v', 0xff};
    assert_int_equal(decode_bytes(f->k, zm, sizeof zm, "zm"), ST_OK);
    th_hash h;
    assert_int_equal(th_open(&h, f->k, 0, "zm", 2), ST_OK);
    const uint8_t *v;
    size_t vl;
    assert_int_equal(th_get(&h, "k", 1, &v, &vl), ST_OK);
    assert_true(vl == 1 && v[0] == 'v');
    /* module values are refused clearly */
    const uint8_t mod[] = {RDB_TYPE_MODULE_2, 5, 0};
    assert_int_equal(decode_bytes(f->k, mod, sizeof mod, "mod"), ST_INVALID);
    /* an intset past set-max-intset-entries loads as a hashtable set */
    rdb_buf is = {0}, obj = {0};
    int64_t vals[600];
    for (int i = 0; i < 600; i++) vals[i] = i * 3;
    is_write(&is, vals, 600);
    rdb_put_byte(&obj, RDB_TYPE_SET_INTSET);
    rdb_put_string(&obj, is.p, is.len, 1);
    assert_int_equal(decode_bytes(f->k, obj.p, obj.len, "bigis"), ST_OK);
    ts_set s;
    assert_int_equal(ts_open(&s, f->k, 0, "bigis", 5), ST_OK);
    assert_int_equal(s.m.count, 600);
    assert_true(s.flags & TS_F_HT);
    assert_int_equal(ts_ismember(&s, "1797", 4), 1);
    rdb_buf_free(&is);
    rdb_buf_free(&obj);
    assert_int_equal(ks_dbsize(f->k, 0), 3);
}

/* Wrap a ziplist as an RDB object of the given type. */
static void zl_object(rdb_buf *b, int type, zlb *z) {
    size_t n = zl_finish(z);
    b->len = 0;
    rdb_put_byte(b, (uint8_t)type);
    rdb_put_string(b, z->b, n, 1);
}

static void expect_list(ks *k, const char *key, const char *const *want, size_t n) {
    tl_list l;
    assert_int_equal(tl_open(&l, k, 0, key, strlen(key)), ST_OK);
    assert_int_equal(l.m.count, n);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *v;
        size_t vl;
        assert_int_equal(tl_get(&l, i, &v, &vl), ST_OK);
        assert_int_equal(vl, strlen(want[i]));
        assert_memory_equal(v, want[i], vl);
    }
}

/* Redis 2.6 to 6.2 forms: ziplist lists, quicklist v1 (ziplist nodes),
 * ziplist hashes and zsets; Redis 7.2's listpack sets. */
static void test_legacy_packed(void **state) {
    fx *f = *state;
    rdb_buf b = {0};
    zlb z;
    zl_init(&z);
    zl_str(&z, "a");
    zl_entry(&z, (const uint8_t[]){0xF4}, 1, "", 0); /* 3 */
    zl_entry(&z, (const uint8_t[]){0xC0}, 1, "\x2c\x01", 2);
    zl_object(&b, RDB_TYPE_LIST_ZIPLIST, &z);
    assert_int_equal(decode_bytes(f->k, b.p, b.len, "zl"), ST_OK);
    const char *want[] = {"a", "3", "300"};
    expect_list(f->k, "zl", want, 3);

    /* quicklist v1: two ziplist nodes */
    b.len = 0;
    rdb_put_byte(&b, RDB_TYPE_LIST_QUICKLIST);
    rdb_put_len(&b, 2);
    for (int node = 0; node < 2; node++) {
        zl_init(&z);
        zl_str(&z, node ? "c" : "a");
        zl_str(&z, node ? "d" : "b");
        size_t n = zl_finish(&z);
        rdb_put_string(&b, z.b, n, 1);
    }
    assert_int_equal(decode_bytes(f->k, b.p, b.len, "ql"), ST_OK);
    const char *want2[] = {"a", "b", "c", "d"};
    expect_list(f->k, "ql", want2, 4);

    /* ziplist hash, with a repeated field refused */
    zl_init(&z);
    zl_str(&z, "f");
    zl_str(&z, "v");
    zl_str(&z, "n");
    zl_entry(&z, (const uint8_t[]){0xFE}, 1, "\xfb", 1); /* -5 */
    zl_object(&b, RDB_TYPE_HASH_ZIPLIST, &z);
    assert_int_equal(decode_bytes(f->k, b.p, b.len, "zh"), ST_OK);
    th_hash h;
    const uint8_t *v;
    size_t vl;
    assert_int_equal(th_open(&h, f->k, 0, "zh", 2), ST_OK);
    assert_int_equal(th_get(&h, "n", 1, &v, &vl), ST_OK);
    assert_true(vl == 2 && !memcmp(v, "-5", 2));
    zl_init(&z);
    zl_str(&z, "f");
    zl_str(&z, "v");
    zl_str(&z, "f");
    zl_str(&z, "w");
    zl_object(&b, RDB_TYPE_HASH_ZIPLIST, &z);
    assert_int_equal(decode_bytes(f->k, b.p, b.len, "zh2"), ST_CORRUPT);
    zl_init(&z); /* odd number of elements */
    zl_str(&z, "f");
    zl_object(&b, RDB_TYPE_HASH_ZIPLIST, &z);
    assert_int_equal(decode_bytes(f->k, b.p, b.len, "zh3"), ST_CORRUPT);

    /* ziplist zset: text and integer scores */
    zl_init(&z);
    zl_str(&z, "a");
    zl_str(&z, "1.25");
    zl_str(&z, "b");
    zl_entry(&z, (const uint8_t[]){0xF3}, 1, "", 0); /* 2 */
    zl_object(&b, RDB_TYPE_ZSET_ZIPLIST, &z);
    assert_int_equal(decode_bytes(f->k, b.p, b.len, "zz"), ST_OK);
    ks_meta m;
    double sc;
    assert_int_equal(ks_lookup(f->k, 0, "zz", 2, KS_ZSET, &m), ST_OK);
    assert_int_equal(m.count, 2);
    assert_int_equal(tz_get(f->k, m.id, "a", 1, &sc), ST_OK);
    assert_true(sc == 1.25);
    assert_int_equal(tz_get(f->k, m.id, "b", 1, &sc), ST_OK);
    assert_true(sc == 2);
    ks_meta_release(&m);

    /* Redis 7.2 listpack set: all integers -> intset */
    lp_writer w;
    lpw_init(&w);
    lpw_add(&w, "7", 1);
    lpw_add(&w, "-70000", 6);
    assert_int_equal(lpw_finish(&w), ST_OK);
    b.len = 0;
    rdb_put_byte(&b, RDB_TYPE_SET_LISTPACK);
    rdb_put_string(&b, w.b.p, w.b.len, 1);
    lpw_free(&w);
    assert_int_equal(decode_bytes(f->k, b.p, b.len, "ls"), ST_OK);
    ts_set s;
    assert_int_equal(ts_open(&s, f->k, 0, "ls", 2), ST_OK);
    assert_int_equal(s.m.count, 2);
    assert_false(s.flags & TS_F_HT);
    assert_int_equal(ts_ismember(&s, "-70000", 6), 1);
    rdb_buf_free(&b);
}

/* A one-node stream with a group, in RDB stream format v1, v2 or v3. */
static void stream_object(rdb_buf *b, int type, int damage) {
    lp_writer w;
    lpw_init(&w);
    lpw_add_int(&w, 2); /* count */
    lpw_add_int(&w, 1); /* deleted */
    lpw_add_int(&w, 1); /* master fields */
    lpw_add(&w, "f", 1);
    lpw_add_int(&w, 0);
    lpw_add_int(&w, 2); /* 5-0: same fields */
    lpw_add_int(&w, 0);
    lpw_add_int(&w, 0);
    lpw_add(&w, "v1", 2);
    lpw_add_int(&w, 4);
    lpw_add_int(&w, 3); /* 5-1: deleted */
    lpw_add_int(&w, 0);
    lpw_add_int(&w, 1);
    lpw_add(&w, "gone", 4);
    lpw_add_int(&w, 4);
    lpw_add_int(&w, 0); /* 5-2: its own fields */
    lpw_add_int(&w, 0);
    lpw_add_int(&w, 2);
    lpw_add_int(&w, 1);
    lpw_add(&w, "g", 1);
    lpw_add(&w, "v2", 2);
    lpw_add_int(&w, damage == 1 ? 7 : 6);
    assert_int_equal(lpw_finish(&w), ST_OK);
    uint8_t key[16] = {0};
    key[7] = 5;
    b->len = 0;
    rdb_put_byte(b, (uint8_t)type);
    rdb_put_len(b, 1);
    rdb_put_string(b, key, 16, 0);
    rdb_put_string(b, w.b.p, w.b.len, 0);
    lpw_free(&w);
    rdb_put_len(b, 2);
    rdb_put_len(b, 5);
    rdb_put_len(b, 2);
    if (type >= RDB_TYPE_STREAM_LISTPACKS_2) {
        rdb_put_len(b, 5);
        rdb_put_len(b, 0);
        rdb_put_len(b, 5);
        rdb_put_len(b, 1);
        rdb_put_len(b, 3);
    }
    rdb_put_len(b, 1);
    rdb_put_string(b, "grp", 3, 0);
    rdb_put_len(b, 5);
    rdb_put_len(b, 2);
    if (type >= RDB_TYPE_STREAM_LISTPACKS_2) rdb_put_len(b, 2);
    rdb_put_len(b, 1); /* PEL: 5-0 */
    rdb_put_raw(b, key, 16);
    rdb_put_u64le(b, 1234);
    rdb_put_len(b, 3);
    rdb_put_len(b, 1); /* consumer */
    rdb_put_string(b, "alice", 5, 0);
    rdb_put_u64le(b, 999);
    if (type >= RDB_TYPE_STREAM_LISTPACKS_3) rdb_put_u64le(b, 1000);
    rdb_put_len(b, damage == 2 ? 0 : 1);
    if (damage != 2) rdb_put_raw(b, key, 16);
}

static void test_stream_versions(void **state) {
    fx *f = *state;
    rdb_buf b = {0};
    const int types[] = {RDB_TYPE_STREAM_LISTPACKS, RDB_TYPE_STREAM_LISTPACKS_2,
                         RDB_TYPE_STREAM_LISTPACKS_3};
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "x%d", i);
        stream_object(&b, types[i], 0);
        assert_int_equal(decode_bytes(f->k, b.p, b.len, key), ST_OK);
        ks_meta m;
        assert_int_equal(ks_lookup(f->k, 0, key, 2, KS_STREAM, &m), ST_OK);
        assert_int_equal(m.count, 2);
        strm_hdr h;
        strm_hdr_decode(m.hdr, m.hdrlen, &h);
        assert_true(h.last.ms == 5 && h.last.seq == 2 && h.first.seq == 0 && h.ngroups == 1);
        assert_int_equal(h.added, i == 0 ? 2 : 3);
        const uint8_t *v;
        size_t vl;
        strm_id e0 = {5, 0}, e1 = {5, 1}, e2 = {5, 2};
        assert_int_equal(strm_entry_get(ks_store(f->k), m.id, e0, &v, &vl), ST_OK);
        assert_int_equal(strm_entry_get(ks_store(f->k), m.id, e1, &v, &vl), ST_NOTFOUND);
        assert_int_equal(strm_entry_get(ks_store(f->k), m.id, e2, &v, &vl), ST_OK);
        const uint8_t *gv;
        size_t gl;
        strm_group g;
        assert_int_equal(cm_get(f->k, m.id, STRM_KIND_GROUP, NULL, 0, "grp", 3, &gv, &gl), ST_OK);
        assert_int_equal(strm_group_decode(gv, gl, &g), ST_OK);
        assert_true(g.pel_count == 1 && g.ncons == 1 && g.last.seq == 2);
        assert_true(g.entries_read == (i == 0 ? 2 : 2));
        strm_pel pe;
        assert_int_equal(strm_pel_get(ks_store(f->k), m.id, g.gid, e0, &pe), ST_OK);
        assert_true(pe.count == 3 && pe.delivery == 1234 && pe.nlen == 5);
        ks_meta_release(&m);
    }
    /* a wrong lp-count, and a PEL entry no consumer owns */
    for (int d = 1; d <= 2; d++) {
        stream_object(&b, RDB_TYPE_STREAM_LISTPACKS_2, d);
        assert_int_equal(decode_bytes(f->k, b.p, b.len, "bad"), ST_CORRUPT);
    }
    assert_int_equal(ks_dbsize(f->k, 0), 3);
    rdb_buf_free(&b);
}

int main(void) {
    rdb_limits_default(&lim);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_every_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version9_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_and_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_packed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_versions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
