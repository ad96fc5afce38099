/* test_dumpfmt.c — the lodis dump format (migrate/dumpfmt.c) and its file
 * framing (migrate/dumpfile.c), without a server.
 *
 * Golden vectors pin the byte layout (little-endian, fixed width) so the
 * format cannot change silently; round trips cover every record kind; every
 * truncation of a valid stream must decode as "need more" and never read
 * past the end; damaged or truncated files are refused at open. */
#include "migrate/dumpfmt.h"
#include "migrate/dumpfile.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static void test_header_golden(void **state) {
    (void)state;
    uint8_t h[DF_HDR_LEN];
    df_header_encode(h, 0x0102030405060708ULL);
    static const uint8_t want[DF_HDR_LEN] = {
        'L', 'O', 'D', 'I', 'S', 'D', 'M', 'P', 1, 0, 0, 0, 32, 0, 0, 0,
        8,   7,   6,   5,   4,   3,   2,   1,   0, 0, 0, 0, 0,  0, 0, 0};
    assert_memory_equal(h, want, DF_HDR_LEN);
    uint16_t v;
    uint64_t ms;
    assert_int_equal(df_header_decode(h, &v, &ms), DF_OK);
    assert_int_equal(v, 1);
    assert_true(ms == 0x0102030405060708ULL);
    h[8] = 2; /* a later version */
    assert_int_equal(df_header_decode(h, &v, &ms), DF_BAD);
    assert_int_equal(v, 2);
    h[0] = 'R';
    assert_int_equal(df_header_decode(h, &v, &ms), DF_BAD);
}

static void test_key_record_golden(void **state) {
    (void)state;
    df_buf b = {0};
    df_key k = {.type = 4, .flags = 0x04, .expire = 0x1122, .count = 2,
                .key = (const uint8_t *)"ab", .klen = 2,
                .hdr = (const uint8_t *)"\x01", .hdrlen = 1};
    df_rec_key(&b, &k);
    df_entry e = {.form = DF_ENT_PLAIN, .a = (const uint8_t *)"fx", .alen = 2,
                  .b = (const uint8_t *)"v", .blen = 1};
    df_rec_entry(&b, &e);
    df_rec_entries_end(&b);
    static const uint8_t want[] = {
        'K', 4, 0x04,                          /* tag, type, flags */
        0x22, 0x11, 0, 0, 0, 0, 0, 0,          /* expire */
        2, 0, 0, 0, 0, 0, 0, 0,                /* count */
        2, 0, 0, 0, 'a', 'b',                  /* key */
        1, 0, 0, 0, 1,                         /* header */
        0, 0, 0, 0,                            /* body */
        0, 2, 0, 0, 0, 'f', 'x', 1, 0, 0, 0, 'v', /* plain entry */
        2};                                    /* end of entries */
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.p, want, sizeof want);
    df_buf_free(&b);
}

/* One of everything. */
static void build_stream(df_buf *b) {
    df_rec_begin(b, "lodis-1", 1700000000000ULL, 99999);
    df_rec_db(b, 3);
    uint8_t big[2000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
    df_key s = {.type = 0, .expire = 1800000000000LL, .key = big, .klen = 600,
                .body = big, .bodylen = sizeof big};
    df_rec_key(b, &s);
    df_rec_entries_end(b);
    df_key z = {.type = 3, .count = 1, .key = (const uint8_t *)"z", .klen = 1,
                .hdr = (const uint8_t *)"\x00", .hdrlen = 1};
    df_rec_key(b, &z);
    df_entry l = {.form = DF_ENT_LONG, .kind = 's', .a = big, .alen = 8, .b = big + 8,
                  .blen = 700, .c = (const uint8_t *)"", .clen = 0};
    df_rec_entry(b, &l);
    df_entry p = {.form = DF_ENT_PLAIN, .a = (const uint8_t *)"m\x00", .alen = 2,
                  .b = big, .blen = 8};
    df_rec_entry(b, &p);
    df_rec_entries_end(b);
    df_rec_func(b, "lib", 3, "#!lua name=lib\n", 15);
    df_rec_end(b, 2, 2, 1);
}

static void test_round_trip(void **state) {
    (void)state;
    df_buf b = {0};
    build_stream(&b);
    assert_false(b.oom);
    size_t off = 0, used;
    df_rec r;
    df_entry e;
    assert_int_equal(df_dec_rec(b.p, b.len, &r, &used), DF_OK);
    assert_int_equal(r.tag, DF_REC_BEGIN);
    assert_int_equal(r.u.begin.fmtlen, 7);
    assert_true(r.u.begin.snap_ms == 1700000000000ULL && r.u.begin.id_hi == 99999);
    off += used;
    assert_int_equal(df_dec_rec(b.p + off, b.len - off, &r, &used), DF_OK);
    assert_int_equal(r.tag, DF_REC_DB);
    assert_int_equal(r.u.db, 3);
    off += used;
    assert_int_equal(df_dec_rec(b.p + off, b.len - off, &r, &used), DF_OK);
    assert_int_equal(r.tag, DF_REC_KEY);
    assert_int_equal(r.u.key.klen, 600);
    assert_int_equal(r.u.key.bodylen, 2000);
    assert_true(r.u.key.expire == 1800000000000LL);
    assert_int_equal(r.u.key.body[1999], (uint8_t)(1999 * 7));
    off += used;
    assert_int_equal(df_dec_entry(b.p + off, b.len - off, &e, &used), DF_OK);
    assert_int_equal(e.form, DF_ENT_END);
    off += used;
    assert_int_equal(df_dec_rec(b.p + off, b.len - off, &r, &used), DF_OK);
    assert_int_equal(r.u.key.type, 3);
    off += used;
    assert_int_equal(df_dec_entry(b.p + off, b.len - off, &e, &used), DF_OK);
    assert_int_equal(e.form, DF_ENT_LONG);
    assert_int_equal(e.kind, 's');
    assert_int_equal(e.alen, 8);
    assert_int_equal(e.blen, 700);
    assert_int_equal(e.clen, 0);
    off += used;
    assert_int_equal(df_dec_entry(b.p + off, b.len - off, &e, &used), DF_OK);
    assert_int_equal(e.form, DF_ENT_PLAIN);
    assert_memory_equal(e.a, "m\x00", 2);
    off += used;
    assert_int_equal(df_dec_entry(b.p + off, b.len - off, &e, &used), DF_OK);
    assert_int_equal(e.form, DF_ENT_END);
    off += used;
    assert_int_equal(df_dec_rec(b.p + off, b.len - off, &r, &used), DF_OK);
    assert_int_equal(r.tag, DF_REC_FUNC);
    assert_memory_equal(r.u.func.name, "lib", 3);
    off += used;
    assert_int_equal(df_dec_rec(b.p + off, b.len - off, &r, &used), DF_OK);
    assert_int_equal(r.tag, DF_REC_END);
    assert_true(r.u.end.keys == 2 && r.u.end.entries == 2 && r.u.end.libs == 1);
    off += used;
    assert_int_equal(off, b.len);
    df_buf_free(&b);
}

/* Every prefix of a record decodes as DF_SHORT; the decoder never looks past
 * n (checked by copying the prefix into an exactly sized heap block, which
 * ASan guards). */
static void test_truncations_are_short(void **state) {
    (void)state;
    df_buf b = {0};
    df_key k = {.type = 4, .count = 1, .key = (const uint8_t *)"key", .klen = 3};
    df_rec_key(&b, &k);
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, b.p, n);
        df_rec r;
        size_t used;
        assert_int_equal(df_dec_rec(p, n, &r, &used), DF_SHORT);
        free(p);
    }
    df_buf_free(&b);
    df_entry e = {.form = DF_ENT_LONG, .kind = 'f', .a = (const uint8_t *)"", .b =
                  (const uint8_t *)"mem", .blen = 3, .c = (const uint8_t *)"pl", .clen = 2};
    df_rec_entry(&b, &e);
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, b.p, n);
        df_entry d;
        size_t used;
        assert_int_equal(df_dec_entry(p, n, &d, &used), DF_SHORT);
        free(p);
    }
    df_buf_free(&b);
}

static void test_malformed(void **state) {
    (void)state;
    df_rec r;
    df_entry e;
    size_t used;
    assert_int_equal(df_dec_rec((const uint8_t *)"Z", 1, &r, &used), DF_BAD);
    assert_int_equal(df_dec_entry((const uint8_t *)"\x07", 1, &e, &used), DF_BAD);
    /* A plain entry's subkey must fit an LMDB key with its id. */
    df_buf b = {0};
    uint8_t big[600] = {0};
    df_entry p = {.form = DF_ENT_PLAIN, .a = big, .alen = 504, .b = big, .blen = 0};
    df_rec_entry(&b, &p);
    assert_int_equal(df_dec_entry(b.p, b.len, &e, &used), DF_BAD);
    df_buf_free(&b);
    p.alen = 0;
    df_rec_entry(&b, &p);
    assert_int_equal(df_dec_entry(b.p, b.len, &e, &used), DF_BAD);
    df_buf_free(&b);
}

static void test_trailer(void **state) {
    (void)state;
    uint8_t t[DF_TAIL_LEN];
    df_trailer_encode(t, 123, 45, 0xdeadbeef);
    uint64_t raw, body;
    uint32_t crc;
    assert_int_equal(df_trailer_decode(t, &raw, &body, &crc), DF_OK);
    assert_true(raw == 123 && body == 45 && crc == 0xdeadbeef);
    for (int i = 0; i < DF_TAIL_LEN; i++) {
        t[i] ^= 0x10;
        assert_int_equal(df_trailer_decode(t, &raw, &body, &crc), DF_BAD);
        t[i] ^= 0x10;
    }
}

static char path[256];

static void write_file(void) {
    snprintf(path, sizeof path, "/tmp/test_dumpfmt.%d.dump", (int)getpid());
    df_buf b = {0};
    build_stream(&b);
    dfw w;
    char err[256];
    assert_int_equal(dfw_open(&w, path, 3, err, sizeof err), 0);
    /* Written in odd pieces: records cross compression blocks. */
    for (size_t off = 0; off < b.len; off += 37) {
        size_t n = b.len - off < 37 ? b.len - off : 37;
        assert_int_equal(dfw_write(&w, b.p + off, n, err, sizeof err), 0);
    }
    assert_int_equal(dfw_finish(&w, err, sizeof err), 0);
    dfw_abort(&w);
    df_buf_free(&b);
}

static int read_all(char *err, size_t errlen) {
    dfr r;
    if (dfr_open(&r, path, err, errlen) != 0) {
        dfr_close(&r);
        return -1;
    }
    df_rec rec;
    df_entry e;
    int n = 0, rc;
    while ((rc = dfr_next_rec(&r, &rec, err, errlen)) == 1) {
        n++;
        if (rec.tag == DF_REC_KEY)
            while ((rc = dfr_next_entry(&r, &e, err, errlen)) == 1 && e.form != DF_ENT_END) n++;
        if (rc < 0) break;
    }
    dfr_close(&r);
    return rc < 0 ? -1 : n;
}

static void test_file_round_trip_and_damage(void **state) {
    (void)state;
    write_file();
    char err[256], tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1); /* renamed into place */
    assert_int_equal(read_all(err, sizeof err), 8);
    FILE *f = fopen(path, "r+b");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    /* Flip one byte in the body: the checksum refuses the file. */
    fseek(f, 40, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 40, SEEK_SET);
    fputc(c ^ 1, f);
    fclose(f);
    assert_int_equal(read_all(err, sizeof err), -1);
    assert_non_null(strstr(err, "checksum"));
    /* Truncated: the trailer no longer matches. */
    write_file();
    assert_int_equal(truncate(path, size - 1), 0);
    assert_int_equal(read_all(err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
    unlink(path);
}

static void test_abort_removes_tmp(void **state) {
    (void)state;
    snprintf(path, sizeof path, "/tmp/test_dumpfmt.%d.aborted", (int)getpid());
    dfw w;
    char err[256], tmp[300];
    assert_int_equal(dfw_open(&w, path, 1, err, sizeof err), 0);
    assert_int_equal(dfw_write(&w, "xyz", 3, err, sizeof err), 0);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), 0);
    dfw_abort(&w);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(access(path, F_OK), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_golden),
        cmocka_unit_test(test_key_record_golden),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncations_are_short),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_trailer),
        cmocka_unit_test(test_file_round_trip_and_damage),
        cmocka_unit_test(test_abort_removes_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
