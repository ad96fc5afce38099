/* test_rconn.c — lodis-migrate copy's RESP reply parser and URL reader
 * (migrate/rconn.c), without a server: every reply type, nesting, nils,
 * every truncation of a valid reply ("need more", nothing consumed), bad
 * input refused, and the URL forms --from / --to take. */
#include "migrate/rconn.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

volatile int mig_interrupted; /* rconn.c reads it (defined by main.c in the tool) */

static void feed(rconn *c, const char *p, size_t n) {
    free(c->in);
    c->in = malloc(n ? n : 1);
    memcpy(c->in, p, n);
    c->ilen = c->icap = n;
    c->ipos = 0;
}

static void test_reply_types(void **state) {
    (void)state;
    rconn c = {.fd = -1};
    static const char in[] = "+OK\r\n-ERR bad\r\n:-42\r\n$3\r\na\0b\r\n$-1\r\n*-1\r\n"
                             "*3\r\n$1\r\nx\r\n*2\r\n:1\r\n$0\r\n\r\n+y\r\n";
    feed(&c, in, sizeof in - 1);
    rreply *r;
    assert_int_equal(rc_parse(&c, &r), 1);
    assert_int_equal(r->type, '+');
    assert_string_equal(r->s, "OK");
    rreply_free(r);
    assert_int_equal(rc_parse(&c, &r), 1);
    assert_int_equal(r->type, '-');
    assert_string_equal(r->s, "ERR bad");
    rreply_free(r);
    assert_int_equal(rc_parse(&c, &r), 1);
    assert_int_equal(r->type, ':');
    assert_int_equal(r->n, -42);
    rreply_free(r);
    assert_int_equal(rc_parse(&c, &r), 1);
    assert_int_equal(r->type, '$');
    assert_int_equal(r->len, 3);
    assert_memory_equal(r->s, "a\0b", 3);
    rreply_free(r);
    for (int i = 0; i < 2; i++) { /* nil bulk, nil array */
        assert_int_equal(rc_parse(&c, &r), 1);
        assert_int_equal(r->type, 0);
        rreply_free(r);
    }
    assert_int_equal(rc_parse(&c, &r), 1);
    assert_int_equal(r->type, '*');
    assert_int_equal(r->n, 3);
    assert_string_equal(r->el[0].s, "x");
    assert_int_equal(r->el[1].type, '*');
    assert_int_equal(r->el[1].el[0].n, 1);
    assert_int_equal(r->el[1].el[1].len, 0);
    assert_string_equal(r->el[2].s, "y");
    rreply_free(r);
    assert_int_equal(rc_parse(&c, &r), 0); /* nothing left */
    rc_close(&c);
}

static void test_every_truncation_needs_more(void **state) {
    (void)state;
    static const char in[] = "*2\r\n*2\r\n$5\r\nhello\r\n:7\r\n$-1\r\n";
    size_t n = sizeof in - 1;
    rconn c = {.fd = -1};
    for (size_t cut = 0; cut < n; cut++) {
        feed(&c, in, cut);
        rreply *r = NULL;
        assert_int_equal(rc_parse(&c, &r), 0);
        assert_int_equal(c.ipos, 0);
    }
    feed(&c, in, n);
    rreply *r;
    assert_int_equal(rc_parse(&c, &r), 1);
    assert_int_equal(c.ipos, n);
    rreply_free(r);
    rc_close(&c);
}

static void test_bad_input_refused(void **state) {
    (void)state;
    static const char *bad[] = {"?x\r\n", ":12x\r\n", "$abc\r\n", "+no cr\n",
                                "*1\r\n!\r\n", "$999999999999\r\n", ":\r\n"};
    rconn c = {.fd = -1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        feed(&c, bad[i], strlen(bad[i]));
        rreply *r = NULL;
        assert_int_equal(rc_parse(&c, &r), -1);
    }
    /* nesting deeper than the limit */
    char deep[200] = "";
    for (int i = 0; i < 20; i++) strcat(deep, "*1\r\n");
    strcat(deep, ":1\r\n");
    feed(&c, deep, strlen(deep));
    rreply *r = NULL;
    assert_int_equal(rc_parse(&c, &r), -1);
    rc_close(&c);
}

static void test_urls(void **state) {
    (void)state;
    mig_url u;
    char err[300];
    assert_int_equal(mig_url_parse("redis://10.0.0.5:6380/3", &u, err, sizeof err), 0);
    assert_string_equal(u.scheme, "redis");
    assert_string_equal(u.host, "10.0.0.5");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 3);
    assert_string_equal(u.user, "");
    assert_int_equal(mig_url_parse("redis://al:p%40ss@h:1", &u, err, sizeof err), 0);
    assert_string_equal(u.user, "al");
    assert_string_equal(u.pass, "p@ss");
    assert_int_equal(u.db, -1);
    assert_int_equal(mig_url_parse("redis://:secret@h", &u, err, sizeof err), 0);
    assert_string_equal(u.user, "");
    assert_string_equal(u.pass, "secret");
    assert_int_equal(u.port, 6379);
    assert_int_equal(mig_url_parse("lodis://[::1]:7000", &u, err, sizeof err), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 7000);
    static const char *bad[] = {"10.0.0.5:6379", "redis://", "redis://h:0", "redis://h:70000",
                                "redis://h:12x", "redis://h:1/x", "redis://[::1:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(mig_url_parse(bad[i], &u, err, sizeof err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_types),
        cmocka_unit_test(test_every_truncation_needs_more),
        cmocka_unit_test(test_bad_input_refused),
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
