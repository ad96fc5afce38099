/* test_cmdtable.c — invariants of the generated command table, lookup and
 * key extraction.
 *
 * Links server/cmdtable.o only. Every proc in the table is a weak reference,
 * so here all rows are unimplemented except the few this file defines below
 * (get, object, object|encoding, config|get): that lets the lookup tests see
 * both visible and invisible rows. The invariant tests walk every row with
 * cmd_by_id(), implemented or not. */
#include "server/cmdtable.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Strong definitions override the table's weak references. */
void get_command(client *c) {
    (void)c;
}
void object_command(client *c) {
    (void)c;
}
void object_encoding_command(client *c) {
    (void)c;
}
/* config|get without config: must stay invisible. */
void config_get_command(client *c) {
    (void)c;
}

static arg A(const char *s) {
    arg a;
    a.p = (char *)s;
    a.len = strlen(s);
    return a;
}

static const struct command *row(int id) {
    const struct command *c = cmd_by_id(id);
    assert_non_null(c);
    return c;
}

/* ---------------------------------------------------------------- invariants */

static void test_ids_dense(void **state) {
    (void)state;
    for (int id = 0; id < CMD_NUM_IDS; id++) assert_int_equal(row(id)->id, id);
    assert_null(cmd_by_id(-1));
    assert_null(cmd_by_id(CMD_NUM_IDS));
    assert_int_equal(CMDID_get, row(CMDID_get)->id);
    assert_string_equal(row(CMDID_get)->name, "get");
    assert_string_equal(row(CMDID_config_get)->fullname, "config|get");
    assert_string_equal(row(CMDID_client_no_evict)->fullname, "client|no-evict");
}

static void test_names_unique_lower(void **state) {
    (void)state;
    for (int i = 0; i < CMD_NUM_IDS; i++) {
        const struct command *c = row(i);
        assert_true(strlen(c->name) > 0);
        for (const char *p = c->name; *p; p++) {
            assert_false(*p >= 'A' && *p <= 'Z');
            assert_false(*p == '|' || *p == ' ');
        }
        for (int j = i + 1; j < CMD_NUM_IDS; j++)
            assert_string_not_equal(c->fullname, row(j)->fullname);
    }
}

static void test_sorted(void **state) {
    (void)state;
    for (int i = 1; i < CMD_NUM_IDS; i++) {
        const struct command *a = row(i - 1), *b = row(i);
        if (a->parent == NULL && b->parent == NULL) assert_true(strcmp(a->name, b->name) < 0);
        if (a->parent && a->parent == b->parent) assert_true(strcmp(a->name, b->name) < 0);
    }
}

static void test_subcommands_have_container(void **state) {
    (void)state;
    int nsub = 0;
    for (int i = 0; i < CMD_NUM_IDS; i++) {
        const struct command *c = row(i);
        if (c->parent == NULL) {
            assert_true(c->id < CMD_DEF_NTOP);
            for (int j = 0; j < c->nsubcmds; j++) {
                assert_ptr_equal(c->subcmds[j].parent, c);
                nsub++;
            }
            continue;
        }
        const struct command *p = c->parent;
        assert_null(p->parent); /* one level only */
        assert_true(p->nsubcmds > 0);
        assert_true(c >= p->subcmds && c < p->subcmds + p->nsubcmds);
        assert_int_equal(c->nsubcmds, 0);
        assert_int_equal(p->nkeyspecs, 0);
        char full[128];
        snprintf(full, sizeof full, "%s|%s", p->name, c->name);
        assert_string_equal(c->fullname, full);
        assert_string_equal(cmd_fullname(c, full, sizeof full), c->fullname);
    }
    assert_int_equal(nsub, CMD_DEF_NSUB);
}

static void test_flags_consistent(void **state) {
    (void)state;
    for (int i = 0; i < CMD_NUM_IDS; i++) {
        const struct command *c = row(i);
        assert_false((c->flags & CMD_WRITE) && (c->flags & CMD_READONLY));
        assert_true(!!(c->acl & ACL_FAST) != !!(c->acl & ACL_SLOW));
        assert_true(!!(c->acl & ACL_FAST) == !!(c->flags & CMD_FAST));
        if (c->flags & CMD_WRITE) assert_true(c->acl & ACL_WRITE);
        /* Redis 7.0.15 itself puts EVAL_RO/EVALSHA_RO in no @read category. */
        if ((c->flags & CMD_READONLY) && c->group != GRP_SCRIPTING)
            assert_true(c->acl & ACL_READ);
        if (c->flags & CMD_ADMIN) assert_true((c->acl & ACL_ADMIN) && (c->acl & ACL_DANGEROUS));
        assert_int_equal(c->acl >> ACL_NUM_CATEGORIES, 0);
        assert_non_null(cmd_group_name(c->group));
        assert_non_null(c->since);
        assert_non_null(c->summary);
        assert_true(c->arity != 0);
    }
}

static void check_args(const struct command *c, const struct cmd_arg *args, int n) {
    for (int i = 0; i < n; i++) {
        const struct cmd_arg *a = &args[i];
        assert_non_null(a->name);
        assert_non_null(cmd_argtype_name(a->type));
        if (a->type == ARGT_KEY) {
            assert_true(a->key_spec_index >= 0 && a->key_spec_index < c->nkeyspecs);
        } else {
            assert_int_equal(a->key_spec_index, -1);
        }
        if (a->type == ARGT_PURE_TOKEN) assert_non_null(a->token);
        if (a->type == ARGT_ONEOF || a->type == ARGT_BLOCK) {
            assert_true(a->nsubargs > 0);
            check_args(c, a->subargs, a->nsubargs);
        } else {
            assert_int_equal(a->nsubargs, 0);
        }
    }
}

static void test_args_and_keyspecs(void **state) {
    (void)state;
    for (int i = 0; i < CMD_NUM_IDS; i++) {
        const struct command *c = row(i);
        int arity = c->arity < 0 ? -c->arity : c->arity;
        check_args(c, c->args, c->nargs);
        /* Legacy range inside the arity, step set iff there are keys. */
        if (c->firstkey > 0) {
            assert_true(c->firstkey < arity || c->arity < 0);
            assert_true(c->keystep >= 1);
            if (c->lastkey >= 0) {
                assert_true(c->lastkey >= c->firstkey);
                if (c->arity > 0) assert_true(c->lastkey < arity);
            }
        } else {
            assert_int_equal(c->lastkey, 0);
            assert_int_equal(c->keystep, 0);
        }
        for (int k = 0; k < c->nkeyspecs; k++) {
            const struct cmd_keyspec *ks = &c->keyspecs[k];
            unsigned access = ks->flags & (KSPEC_RO | KSPEC_RW | KSPEC_OW | KSPEC_RM);
            assert_true(access && !(access & (access - 1))); /* exactly one */
            assert_true(ks->bs != KSPEC_BS_INVALID && ks->fk != KSPEC_FK_INVALID);
            if (ks->bs == KSPEC_BS_INDEX && ks->fk == KSPEC_FK_RANGE && ks->fk_lastkey >= 0)
                assert_true(ks->bs_pos + ks->fk_lastkey < arity);
            if (ks->fk == KSPEC_FK_RANGE || ks->fk == KSPEC_FK_KEYNUM) assert_true(ks->fk_step >= 1);
        }
        /* A write command with keys writes at least one of them -- except
         * XREADGROUP, whose key spec Redis 7.0.15 marks RO (it writes the
         * group, not the stream). */
        if ((c->flags & CMD_WRITE) && strcmp(c->fullname, "xreadgroup") != 0) {
            int writes = c->nkeyspecs == 0;
            for (int k = 0; k < c->nkeyspecs; k++)
                if (!(c->keyspecs[k].flags & KSPEC_RO)) writes = 1;
            assert_true(writes);
        }
    }
}

/* ---------------------------------------------------------------- lookup */

static void test_lookup_case_insensitive(void **state) {
    (void)state;
    const struct command *get = row(CMDID_get);
    assert_ptr_equal(cmd_lookup("get", 3), get);
    assert_ptr_equal(cmd_lookup("GET", 3), get);
    assert_ptr_equal(cmd_lookup("gEt", 3), get);
    assert_ptr_equal(cmd_lookup("getx", 3), get); /* len counts, not the NUL */
    assert_null(cmd_lookup("ge", 2));
    assert_null(cmd_lookup("gett", 4));
    assert_null(cmd_lookup("", 0));
    assert_null(cmd_lookup("g\0t", 3));
    assert_ptr_equal(cmd_lookup_fullname("GET", 3), get);
    assert_ptr_equal(cmd_lookup_fullname("Object|ENCODING", 15), row(CMDID_object_encoding));
    assert_null(cmd_lookup_fullname("object|", 7));
    assert_null(cmd_lookup_fullname("object|encoding|x", 17));
    assert_null(cmd_lookup_fullname("get|x", 5));
    assert_null(cmd_lookup_fullname("|get", 4));
}

static void test_unimplemented_invisible(void **state) {
    (void)state;
    assert_null(cmd_lookup("set", 3));                   /* no set_command here */
    assert_null(cmd_lookup_fullname("config|get", 10));  /* container missing */
    assert_null(cmd_lookup_fullname("object|freq", 11)); /* sub missing */
    assert_false(cmd_is_implemented(row(CMDID_set)));
    assert_false(cmd_is_implemented(row(CMDID_config_get)));
    assert_true(cmd_is_implemented(row(CMDID_object_encoding)));
    assert_int_equal(cmd_count_top(), 2);
    assert_int_equal(cmd_count_sub(row(CMDID_object)), 1);

    const char *want[] = {"get", "object", "object|encoding"};
    size_t it = 0;
    for (int n = 0; n < 3; n++) {
        const struct command *c = cmd_all_next(&it);
        assert_string_equal(c ? c->fullname : "(end)", want[n]);
    }
    assert_null(cmd_all_next(&it));
    it = 0;
    assert_ptr_equal(cmd_top_next(&it), row(CMDID_get));
    assert_ptr_equal(cmd_top_next(&it), row(CMDID_object));
    assert_null(cmd_top_next(&it));
}

static void test_lookup_argv(void **state) {
    (void)state;
    arg v[3] = {A("OBJECT"), A("Encoding"), A("k")};
    assert_ptr_equal(cmd_lookup_argv(3, v), row(CMDID_object_encoding));
    v[1] = A("freq"); /* not implemented: the container handles it */
    assert_ptr_equal(cmd_lookup_argv(3, v), row(CMDID_object));
    assert_ptr_equal(cmd_lookup_argv(1, v), row(CMDID_object));
    v[0] = A("get");
    v[1] = A("encoding"); /* not a container: argv[1] is just an argument */
    assert_ptr_equal(cmd_lookup_argv(2, v), row(CMDID_get));
    v[0] = A("nosuch");
    assert_null(cmd_lookup_argv(2, v));
    assert_null(cmd_lookup_argv(0, v));
}

static void test_arity(void **state) {
    (void)state;
    const struct command *get = row(CMDID_get), *set = row(CMDID_set);
    assert_int_equal(get->arity, 2);
    assert_true(cmd_arity_ok(get, 2));
    assert_false(cmd_arity_ok(get, 1));
    assert_false(cmd_arity_ok(get, 3));
    assert_int_equal(set->arity, -3);
    assert_false(cmd_arity_ok(set, 2));
    assert_true(cmd_arity_ok(set, 3));
    assert_true(cmd_arity_ok(set, 9));
}

static void test_stats(void **state) {
    (void)state;
    struct cmd_stats *s = cmd_stats(row(CMDID_object_encoding));
    s->calls = 3;
    s->usec = 7;
    assert_ptr_not_equal(cmd_stats(row(CMDID_object)), s);
    cmd_stats_reset();
    assert_int_equal(s->calls, 0);
    assert_int_equal(s->usec, 0);
}

static void test_names(void **state) {
    (void)state;
    assert_string_equal(cmd_flag_name(CMD_WRITE), "write");
    assert_string_equal(cmd_flag_name(CMD_MOVABLE_KEYS), "movablekeys");
    assert_null(cmd_flag_name(CMD_MAY_REPLICATE));
    assert_null(cmd_flag_name(CMD_SENTINEL));
    assert_null(cmd_flag_name(CMD_PROTECTED));
    assert_null(cmd_flag_name(CMD_WRITE | CMD_FAST));
    assert_string_equal(cmd_acl_name(ACL_SORTEDSET), "sortedset");
    assert_string_equal(cmd_keyflag_name(KSPEC_VARIABLE_FLAGS), "variable_flags");
    assert_string_equal(cmd_group_name(GRP_SORTED_SET), "sorted-set");
    assert_string_equal(cmd_argtype_name(ARGT_UNIX_TIME), "unix-time");
    assert_true(cmd_acl_from_name("STRING", 6) == ACL_STRING);
    assert_true(cmd_acl_from_name("keyspace", 8) == ACL_KEYSPACE);
    assert_true(cmd_acl_from_name("@string", 7) == 0); /* as Redis: no '@' */
    assert_true(cmd_acl_from_name("str", 3) == 0);
}

/* ---------------------------------------------------------------- keys */

static int keys_of(int id, int argc, const char **words, struct cmd_keyref *out, int max) {
    arg v[32];
    for (int i = 0; i < argc; i++) v[i] = A(words[i]);
    return cmd_getkeys_flags(row(id), argc, v, out, max);
}

static void test_getkeys_ranges(void **state) {
    (void)state;
    struct cmd_keyref k[8];
    const char *mset[] = {"mset", "a", "1", "b", "2", "c", "3"};
    assert_int_equal(keys_of(CMDID_mset, 7, mset, k, 8), 3);
    assert_int_equal(k[0].pos, 1);
    assert_int_equal(k[1].pos, 3);
    assert_int_equal(k[2].pos, 5);
    assert_int_equal(k[0].flags, KSPEC_OW | KSPEC_UPDATE);
    /* Odd count: last = argc-1 = 4 is not a key slot but still reachable. */
    const char *mset_odd[] = {"mset", "a", "1", "b"};
    assert_int_equal(keys_of(CMDID_mset, 4, mset_odd, k, 8), 2);

    const char *del[] = {"del", "a", "b", "c", "d"};
    assert_int_equal(keys_of(CMDID_del, 5, del, k, 2), 4); /* total, 2 stored */
    assert_int_equal(k[0].pos, 1);
    assert_int_equal(k[1].pos, 2);
    assert_int_equal(keys_of(CMDID_del, 5, del, NULL, 0), 4);

    const char *rename[] = {"rename", "a", "b"};
    assert_int_equal(keys_of(CMDID_rename, 3, rename, k, 8), 2);
    assert_true(k[0].flags & KSPEC_DELETE);
    assert_true(k[1].flags & KSPEC_OW);

    const char *bitop[] = {"bitop", "and", "dest", "s1", "s2"};
    assert_int_equal(keys_of(CMDID_bitop, 5, bitop, k, 8), 3);
    assert_int_equal(k[0].pos, 2);
    assert_int_equal(k[2].pos, 4);

    const char *objenc[] = {"object", "encoding", "k"};
    assert_int_equal(keys_of(CMDID_object_encoding, 3, objenc, k, 8), 1);
    assert_int_equal(k[0].pos, 2);

    const char *get_short[] = {"get"};
    assert_int_equal(keys_of(CMDID_get, 1, get_short, k, 8), 0); /* range past argc */

    int pos[8];
    arg v[7];
    for (int i = 0; i < 7; i++) v[i] = A(mset[i]);
    assert_int_equal(cmd_getkeys(row(CMDID_mset), 7, v, pos, 8), 3);
    assert_int_equal(pos[2], 5);
    assert_true(cmd_has_keys(row(CMDID_get)));
    assert_false(cmd_has_keys(row(CMDID_ping)));
}

static void test_getkeys_variable_flags(void **state) {
    (void)state;
    struct cmd_keyref k[2];
    const char *set1[] = {"set", "k", "v"};
    assert_int_equal(keys_of(CMDID_set, 3, set1, k, 2), 1);
    assert_int_equal(k[0].flags, KSPEC_OW | KSPEC_UPDATE);
    const char *set2[] = {"set", "k", "v", "EX", "10", "Get"};
    assert_int_equal(keys_of(CMDID_set, 6, set2, k, 2), 1);
    assert_int_equal(k[0].flags, KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE);
    const char *set3[] = {"set", "k", "get"}; /* "get" as the value does not count */
    keys_of(CMDID_set, 3, set3, k, 2);
    assert_int_equal(k[0].flags, KSPEC_OW | KSPEC_UPDATE);

    const char *bf_ro[] = {"bitfield", "k", "overflow", "sat", "get", "u8", "0"};
    assert_int_equal(keys_of(CMDID_bitfield, 7, bf_ro, k, 2), 1);
    assert_int_equal(k[0].flags, KSPEC_RO | KSPEC_ACCESS);
    const char *bf_rw[] = {"bitfield", "k", "get", "u8", "0", "incrby", "u8", "0", "1"};
    keys_of(CMDID_bitfield, 9, bf_rw, k, 2);
    assert_int_equal(k[0].flags, KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE);
    const char *bf_bad[] = {"bitfield", "k", "bogus"};
    keys_of(CMDID_bitfield, 3, bf_bad, k, 2);
    assert_int_equal(k[0].flags, KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE);
}

/* Spec kinds no command of the current table uses: keynum (ZUNIONSTORE,
 * EVAL), keyword (GEORADIUS STORE), negative lastkey with a limit. */
static const struct cmd_keyspec zunion_specs[] = {
    {.flags = KSPEC_OW | KSPEC_UPDATE,
     .bs = KSPEC_BS_INDEX,
     .bs_pos = 1,
     .fk = KSPEC_FK_RANGE,
     .fk_lastkey = 0,
     .fk_step = 1},
    {.flags = KSPEC_RO | KSPEC_ACCESS,
     .bs = KSPEC_BS_INDEX,
     .bs_pos = 2,
     .fk = KSPEC_FK_KEYNUM,
     .fk_keynumidx = 0,
     .fk_firstkey = 1,
     .fk_step = 1},
};
static const struct command zunion = {.name = "zunionstore",
                                      .fullname = "zunionstore",
                                      .arity = -4,
                                      .keyspecs = zunion_specs,
                                      .nkeyspecs = 2};

static const struct cmd_keyspec store_specs[] = {
    {.flags = KSPEC_RO | KSPEC_ACCESS,
     .bs = KSPEC_BS_INDEX,
     .bs_pos = 1,
     .fk = KSPEC_FK_RANGE,
     .fk_lastkey = 0,
     .fk_step = 1},
    {.flags = KSPEC_OW | KSPEC_UPDATE,
     .bs = KSPEC_BS_KEYWORD,
     .bs_keyword = "STORE",
     .bs_startfrom = 6,
     .fk = KSPEC_FK_RANGE,
     .fk_lastkey = 0,
     .fk_step = 1},
};
static const struct command georadius = {.name = "georadius",
                                         .fullname = "georadius",
                                         .arity = -6,
                                         .keyspecs = store_specs,
                                         .nkeyspecs = 2};

static const struct cmd_keyspec limit_specs[] = {
    {.flags = KSPEC_RW,
     .bs = KSPEC_BS_KEYWORD,
     .bs_keyword = "STREAMS",
     .bs_startfrom = 1,
     .fk = KSPEC_FK_RANGE,
     .fk_lastkey = -1,
     .fk_step = 1,
     .fk_limit = 2},
};
static const struct command xread = {
    .name = "xread", .fullname = "xread", .arity = -4, .keyspecs = limit_specs, .nkeyspecs = 1};

static int keys_of_cmd(
    const struct command *c, int argc, const char **words, struct cmd_keyref *out, int max) {
    arg v[32];
    for (int i = 0; i < argc; i++) v[i] = A(words[i]);
    return cmd_getkeys_flags(c, argc, v, out, max);
}

static void test_getkeys_keynum_keyword(void **state) {
    (void)state;
    struct cmd_keyref k[8];
    const char *z[] = {"zunionstore", "dst", "2", "a", "b", "WEIGHTS", "1", "2"};
    assert_int_equal(keys_of_cmd(&zunion, 8, z, k, 8), 3);
    assert_int_equal(k[0].pos, 1);
    assert_int_equal(k[1].pos, 3);
    assert_int_equal(k[2].pos, 4);
    assert_int_equal(k[1].flags, KSPEC_RO | KSPEC_ACCESS);
    const char *zbad[] = {"zunionstore", "dst", "x", "a"};
    assert_int_equal(keys_of_cmd(&zunion, 4, zbad, k, 8), 0);
    const char *zlong[] = {"zunionstore", "dst", "5", "a"};
    assert_int_equal(keys_of_cmd(&zunion, 4, zlong, k, 8), 0);
    const char *zneg[] = {"zunionstore", "dst", "-1", "a"};
    assert_int_equal(keys_of_cmd(&zunion, 4, zneg, k, 8), 0);
    const char *zlead[] = {"zunionstore", "dst", "01", "a"};
    assert_int_equal(keys_of_cmd(&zunion, 4, zlead, k, 8), 0);

    const char *g1[] = {"georadius", "src", "1", "2", "3", "km", "COUNT", "5", "store", "dst"};
    assert_int_equal(keys_of_cmd(&georadius, 10, g1, k, 8), 2);
    assert_int_equal(k[0].pos, 1);
    assert_int_equal(k[1].pos, 9);
    const char *g2[] = {"georadius", "src", "1", "2", "3", "km"};
    assert_int_equal(keys_of_cmd(&georadius, 6, g2, k, 8), 1);
    /* A keyword in last position has no key after it: not searched (Redis). */
    const char *g3[] = {"georadius", "src", "1", "2", "3", "km", "STORE"};
    assert_int_equal(keys_of_cmd(&georadius, 7, g3, k, 8), 1);

    const char *x[] = {"xread", "COUNT", "1", "STREAMS", "s1", "s2", "0", "0"};
    assert_int_equal(keys_of_cmd(&xread, 8, x, k, 8), 2);
    assert_int_equal(k[0].pos, 4);
    assert_int_equal(k[1].pos, 5);
}

int main(void) {
    cmdtable_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_dense),
        cmocka_unit_test(test_names_unique_lower),
        cmocka_unit_test(test_sorted),
        cmocka_unit_test(test_subcommands_have_container),
        cmocka_unit_test(test_flags_consistent),
        cmocka_unit_test(test_args_and_keyspecs),
        cmocka_unit_test(test_lookup_case_insensitive),
        cmocka_unit_test(test_unimplemented_invisible),
        cmocka_unit_test(test_lookup_argv),
        cmocka_unit_test(test_arity),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_getkeys_ranges),
        cmocka_unit_test(test_getkeys_variable_flags),
        cmocka_unit_test(test_getkeys_keynum_keyword),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
