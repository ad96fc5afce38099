/* cmd_set.c — the set family: SADD, SREM, SISMEMBER, SMISMEMBER, SMEMBERS,
 * SCARD, SPOP, SRANDMEMBER, SMOVE, SINTER, SINTERCARD, SINTERSTORE, SUNION,
 * SUNIONSTORE, SDIFF, SDIFFSTORE, SSCAN, and OBJECT ENCODING for sets.
 *
 * Storage is storage/t_set.c (one `sub` entry per member). Membership is one
 * O(log N) probe; whole-set replies and set algebra walk one set and probe
 * the others, O(N * M log N), with no temporary in-memory set. *STORE
 * results are written under a fresh id, then replace the destination, so a
 * destination that is also a source is read intact.
 *
 * Encodings (Redis 7.0): intset while every member is an integer and the
 * count stays within set-max-intset-entries, hashtable for good after that;
 * a set rebuilt from scratch (*STORE results, SPOP's "keep the remainder"
 * strategy) is judged afresh. The header flag TS_F_HT records it, and SSCAN
 * returns an intset whole in one call, as Redis does. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "server/args.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/keyspace_cmd.h"
#include "server/notify.h"
#include "server/reply.h"
#include "server/scan_cursor.h"
#include "server/server.h"
#include "storage/glob.h"
#include "storage/keyspace.h"
#include "storage/num.h"
#include "storage/t_set.h"

#define K(i) c->argv[i].p, c->argv[i].len

/* Up to this many members, random picks walk the set and are exactly
 * uniform; above, they use the seek-based draw (t_hash.h). */
#define SET_SMALL 1000
/* A seek-based draw costs about as much as walking a few hundred entries:
 * when count * WALK_RATIO >= size, one ordered walk serves all the picks. */
#define WALK_RATIO 256

const char *set_encoding(const ks_meta *m) {
    uint8_t flags;
    uint64_t nint, nlong;
    ts_hdr_decode(m, &flags, &nint, &nlong);
    return (flags & TS_F_HT) ? "hashtable" : "intset";
}

static long long max_intset(void) {
    long long m = cfg.set_max_intset_entries;
    return m > (1LL << 30) ? (1LL << 30) : m;
}

/* Redis's setTypeAdd on an intset: a non-integer converts, and so does an
 * added integer that takes the count past the limit. */
static void after_add(ts_set *s, const void *member, size_t mlen, int added) {
    if (s->flags & TS_F_HT) return;
    long long v;
    if (!ts_member_is_int(member, mlen, &v) || (added && (long long)s->m.count > max_intset()))
        s->flags |= TS_F_HT;
}

/* A set built from scratch: intset iff all integers and within the limit. */
static void judge_afresh(ts_set *s) {
    if (s->nint == s->m.count && (long long)s->m.count <= max_intset()) s->flags &= ~TS_F_HT;
    else s->flags |= TS_F_HT;
}

static int open_or_reply(client *c, int i, ts_set *s, int read) {
    return lookup_rc_or_reply(c, ts_open(s, srv.ks, c->db, K(i)), read);
}

static void reply_entry(client *c, uint8_t kind, const uint8_t *m, size_t mlen) {
    char tbuf[TS_INT_TEXT];
    const uint8_t *t;
    size_t tl;
    ts_entry_text(kind, m, mlen, tbuf, &t, &tl);
    reply_bulk(c, t, tl);
}

/* ------------------------------------------------------------------ */
/* SADD SREM SMOVE                                                     */

/* SADD key member [member ...] */
void sadd_command(client *c) {
    ts_set s;
    int r = open_or_reply(c, 1, &s, 0);
    if (r < 0) return;
    if (r == 0) ts_create(&s);
    long long added = 0;
    for (int i = 2; i < c->argc; i++) {
        int a;
        int rc = ts_add(&s, K(i), &a);
        if (rc != ST_OK) {
            ts_commit(&s);
            reply_store_error(c, rc);
            return;
        }
        after_add(&s, K(i), a);
        added += a;
    }
    int rc = ts_commit(&s);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    if (added) notify_keyspace_event(NOTIFY_SET, "sadd", K(1), c->db);
    reply_int(c, added);
}

/* SREM key member [member ...] */
void srem_command(client *c) {
    ts_set s;
    int r = open_or_reply(c, 1, &s, 0);
    if (r < 0) return;
    if (r == 0) {
        reply_int(c, 0);
        return;
    }
    long long removed = 0;
    for (int i = 2; i < c->argc && s.m.count > 0; i++) {
        int d;
        int rc = ts_rem(&s, K(i), &d);
        if (rc != ST_OK) {
            ts_commit(&s);
            reply_store_error(c, rc);
            return;
        }
        removed += d;
    }
    int rc = ts_commit(&s);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    if (removed) {
        notify_keyspace_event(NOTIFY_SET, "srem", K(1), c->db);
        if (s.m.count == 0) notify_keyspace_event(NOTIFY_GENERIC, "del", K(1), c->db);
    }
    reply_int(c, removed);
}

/* SMOVE source destination member */
void smove_command(client *c) {
    ts_set src, dst;
    int rs = ts_open(&src, srv.ks, c->db, K(1));
    int rd = ts_open(&dst, srv.ks, c->db, K(2));
    if (rs == ST_NOTFOUND) {
        reply_int(c, 0);
        return;
    }
    if (rs != ST_OK) {
        reply_store_error(c, rs);
        return;
    }
    if (rd != ST_OK && rd != ST_NOTFOUND) {
        reply_store_error(c, rd);
        return;
    }
    if (rd == ST_OK && dst.m.id == src.m.id) {
        int m = ts_ismember(&src, K(3));
        if (m < 0) reply_store_error(c, m);
        else reply_int(c, m);
        return;
    }
    int removed;
    int rc = ts_rem(&src, K(3), &removed);
    if (rc == ST_OK && !removed) {
        reply_int(c, 0);
        return;
    }
    if (rc == ST_OK) rc = ts_commit(&src);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_SET, "srem", K(1), c->db);
    if (src.m.count == 0) notify_keyspace_event(NOTIFY_GENERIC, "del", K(1), c->db);
    if (rd == ST_NOTFOUND) ts_create(&dst);
    int added;
    rc = ts_add(&dst, K(3), &added);
    after_add(&dst, K(3), added);
    int rc2 = ts_commit(&dst);
    if (rc == ST_OK) rc = rc2;
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    if (added) notify_keyspace_event(NOTIFY_SET, "sadd", K(2), c->db);
    reply_int(c, 1);
}

/* ------------------------------------------------------------------ */
/* point reads                                                         */

/* SISMEMBER key member */
void sismember_command(client *c) {
    ts_set s;
    int r = open_or_reply(c, 1, &s, 1);
    if (r < 0) return;
    int m = r ? ts_ismember(&s, K(2)) : 0;
    if (m < 0) reply_store_error(c, m);
    else reply_int(c, m);
}

/* SMISMEMBER key member [member ...] */
void smismember_command(client *c) {
    ts_set s;
    int r = open_or_reply(c, 1, &s, 1);
    if (r < 0) return;
    reply_array_len(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) reply_int(c, r && ts_ismember(&s, K(i)) == 1);
}

/* SCARD key */
void scard_command(client *c) {
    ts_set s;
    int r = open_or_reply(c, 1, &s, 1);
    if (r < 0) return;
    reply_int(c, r ? (long long)s.m.count : 0);
}

/* ------------------------------------------------------------------ */
/* set algebra                                                         */

/* Open every key of argv[from .. from+n-1]; a missing key is an empty set.
 * Returns the array (free it), or NULL after replying (WRONGTYPE, storage). */
static ts_set *open_all_or_reply(client *c, int from, int n, int *missing) {
    ts_set *sets = calloc((size_t)n, sizeof *sets);
    if (!sets) {
        reply_store_error(c, ST_NOMEM);
        return NULL;
    }
    *missing = 0;
    for (int j = 0; j < n; j++) {
        int r = open_or_reply(c, from + j, &sets[j], 1);
        if (r < 0) {
            free(sets);
            return NULL;
        }
        if (r == 0) (*missing)++;
    }
    return sets;
}

/* Store out into argv[dstarg] (or delete it when out is empty). force_ht:
 * the result is a hashtable whatever its members (see first_set_made_ht). */
static void store_result(client *c, int dstarg, ts_set *out, const char *event, int force_ht) {
    judge_afresh(out);
    if (force_ht) out->flags |= TS_F_HT;
    /* A result overwrites the destination (Redis's setKey: no "new" event
     * for an existing key); an empty one deletes it. */
    int rc = out->m.count > 0 ? ts_commit(out) : ks_delete(srv.ks, c->db, K(dstarg));
    int deleted = out->m.count == 0 && rc > 0;
    if (rc < 0) {
        reply_store_error(c, rc);
        return;
    }
    if (out->m.count > 0) notify_keyspace_event(NOTIFY_SET, event, K(dstarg), c->db);
    else if (deleted) notify_keyspace_event(NOTIFY_GENERIC, "del", K(dstarg), c->db);
    reply_int(c, (long long)out->m.count);
}

static const ts_set *sort_sets;

static int by_count(const void *a, const void *b) {
    uint64_t x = sort_sets[*(const int *)a].m.count, y = sort_sets[*(const int *)b].m.count;
    return x < y ? -1 : x > y;
}

/* SINTER / SMEMBERS / SINTERSTORE / SINTERCARD: walk the smallest set and
 * probe the others. dstarg > 0: store into argv[dstarg]. */
static void sinter_generic(client *c, int from, int n, int dstarg, int card_only,
                           long long limit) {
    int missing;
    ts_set *sets = open_all_or_reply(c, from, n, &missing);
    if (!sets) return;
    if (missing) {
        free(sets);
        if (dstarg > 0) {
            int rc = ks_delete(srv.ks, c->db, K(dstarg));
            if (rc > 0) notify_keyspace_event(NOTIFY_GENERIC, "del", K(dstarg), c->db);
            if (rc < 0) reply_store_error(c, rc);
            else reply_int(c, 0);
        } else if (card_only) {
            reply_int(c, 0);
        } else {
            reply_set_len(c, 0);
        }
        return;
    }
    int *order = malloc((size_t)n * sizeof *order);
    if (!order) {
        free(sets);
        reply_store_error(c, ST_NOMEM);
        return;
    }
    for (int j = 0; j < n; j++) order[j] = j;
    sort_sets = sets;
    qsort(order, (size_t)n, sizeof *order, by_count);
    const ts_set *first = &sets[order[0]];
    ts_set out;
    reply_deferred d = 0;
    if (dstarg > 0) ts_new(&out, srv.ks, c->db, K(dstarg));
    else if (!card_only) d = reply_defer_len(c);
    long long card = 0;
    cm_iter it;
    int rc = cm_iter_open(&it, srv.ks, first->m.id, NULL, 0);
    cm_entry e;
    while (rc == ST_OK && (rc = cm_iter_next(&it, &e)) == ST_OK) {
        int j;
        for (j = 1; j < n; j++) {
            ts_set *o = &sets[order[j]];
            if (o->m.id == first->m.id) continue;
            int m = ts_has_entry(o, e.kind, e.member, e.mlen);
            if (m < 0) rc = m;
            if (m != 1) break;
        }
        if (rc != ST_OK && rc != ST_NOTFOUND) break;
        if (j < n) continue;
        if (card_only) {
            if (++card >= limit && limit) break;
        } else if (dstarg > 0) {
            int a;
            if ((rc = ts_add_entry(&out, e.kind, e.member, e.mlen, &a)) != ST_OK) break;
        } else {
            reply_entry(c, e.kind, e.member, e.mlen);
            card++;
        }
    }
    cm_iter_close(&it);
    free(order);
    free(sets);
    if (rc == ST_NOTFOUND) rc = ST_OK;
    if (card_only) {
        if (rc != ST_OK) reply_store_error(c, rc);
        else reply_int(c, card);
    } else if (dstarg > 0) {
        if (rc != ST_OK) {
            out.m.count = 0; /* drop the partial result: its id has no meta */
            reply_store_error(c, rc);
            return;
        }
        store_result(c, dstarg, &out, "sinterstore", 0);
    } else {
        if (rc != ST_OK) server_log(3, "SINTER: storage error %s", store_strerror(rc));
        reply_set_deferred_len(c, d, card, REPLY_SET);
    }
}

/* SMEMBERS key */
void smembers_command(client *c) {
    sinter_generic(c, 1, 1, 0, 0, 0);
}

/* SINTER key [key ...] */
void sinter_command(client *c) {
    sinter_generic(c, 1, c->argc - 1, 0, 0, 0);
}

/* SINTERSTORE destination key [key ...] */
void sinterstore_command(client *c) {
    sinter_generic(c, 2, c->argc - 2, 1, 0, 0);
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
void sintercard_command(client *c) {
    long long numkeys, limit = 0;
    if (arg_range_or_reply(c, &c->argv[1], 1, LLONG_MAX, &numkeys,
                           "numkeys should be greater than 0") != 0)
        return;
    if (numkeys > c->argc - 2) {
        reply_error(c, "Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "LIMIT") && j + 1 < c->argc) {
            j++;
            if (arg_range_or_reply(c, &c->argv[j], 0, LLONG_MAX, &limit,
                                   "LIMIT can't be negative") != 0)
                return;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    sinter_generic(c, 2, (int)numkeys, 0, 1, limit);
}

#define OP_UNION 0
#define OP_DIFF  1

/* SDIFFSTORE's encoding, as Redis 7.0 leaves it. When the first set is
 * large against the others, Redis copies all of it into the result and then
 * removes the others' members ("algorithm 2"): the result keeps the
 * hashtable encoding the copy gave it (a non-integer member, or more than
 * set-max-intset-entries members) even if what is left would fit an intset.
 * Otherwise it only adds what survives, and the result is judged afresh. */
static int first_set_made_ht(const ts_set *sets, int n, int sameset) {
    if (!sets[0].exists || sameset) return 0;
    long long one = 0, two = 0;
    for (int j = 0; j < n; j++) {
        if (!sets[j].exists) continue;
        one += (long long)sets[0].m.count;
        two += (long long)sets[j].m.count;
    }
    if (one / 2 <= two) return 0; /* Redis's algorithm 1 */
    return sets[0].nint < sets[0].m.count || (long long)sets[0].m.count > max_intset();
}

/* SUNION / SDIFF and their STORE forms. Without a destination, a member is
 * emitted once: from the first set holding it (union), or when no other set
 * holds it (diff). */
static void sunion_diff_generic(client *c, int from, int n, int dstarg, int op) {
    int missing;
    ts_set *sets = open_all_or_reply(c, from, n, &missing);
    if (!sets) return;
    int sameset = 0;
    for (int j = 1; j < n; j++)
        if (sets[0].exists && sets[j].exists && sets[j].m.id == sets[0].m.id) sameset = 1;
    ts_set out;
    reply_deferred d = 0;
    if (dstarg > 0) ts_new(&out, srv.ks, c->db, K(dstarg));
    else d = reply_defer_len(c);
    long long card = 0;
    int rc = ST_OK;
    for (int i = 0; i < n && rc == ST_OK; i++) {
        if (!sets[i].exists) continue;
        if (op == OP_DIFF && (i > 0 || sameset)) break;
        int dup = 0;
        for (int j = 0; j < i; j++)
            if (sets[j].exists && sets[j].m.id == sets[i].m.id) dup = 1;
        if (dup) continue; /* the same key again adds nothing */
        cm_iter it;
        if ((rc = cm_iter_open(&it, srv.ks, sets[i].m.id, NULL, 0)) != ST_OK) break;
        cm_entry e;
        while ((rc = cm_iter_next(&it, &e)) == ST_OK) {
            int skip = 0;
            if (op == OP_DIFF) {
                for (int j = 1; j < n && !skip; j++) {
                    if (!sets[j].exists) continue;
                    int m = ts_has_entry(&sets[j], e.kind, e.member, e.mlen);
                    if (m < 0) rc = m;
                    skip = m != 0;
                }
            } else if (dstarg <= 0) {
                for (int j = 0; j < i && !skip; j++) {
                    if (!sets[j].exists) continue;
                    int m = ts_has_entry(&sets[j], e.kind, e.member, e.mlen);
                    if (m < 0) rc = m;
                    skip = m != 0;
                }
            }
            if (rc != ST_OK) break;
            if (skip) continue;
            if (dstarg > 0) {
                int a;
                if ((rc = ts_add_entry(&out, e.kind, e.member, e.mlen, &a)) != ST_OK) break;
            } else {
                reply_entry(c, e.kind, e.member, e.mlen);
                card++;
            }
        }
        cm_iter_close(&it);
        if (rc == ST_NOTFOUND) rc = ST_OK;
    }
    if (dstarg > 0) {
        if (rc != ST_OK) {
            free(sets);
            reply_store_error(c, rc);
            return;
        }
        store_result(c, dstarg, &out, op == OP_DIFF ? "sdiffstore" : "sunionstore",
                     op == OP_DIFF && first_set_made_ht(sets, n, sameset));
        free(sets);
    } else {
        free(sets);
        if (rc != ST_OK) server_log(3, "SUNION/SDIFF: storage error %s", store_strerror(rc));
        reply_set_deferred_len(c, d, card, REPLY_SET);
    }
}

/* SUNION key [key ...] */
void sunion_command(client *c) {
    sunion_diff_generic(c, 1, c->argc - 1, 0, OP_UNION);
}

/* SUNIONSTORE destination key [key ...] */
void sunionstore_command(client *c) {
    sunion_diff_generic(c, 2, c->argc - 2, 1, OP_UNION);
}

/* SDIFF key [key ...] */
void sdiff_command(client *c) {
    sunion_diff_generic(c, 1, c->argc - 1, 0, OP_DIFF);
}

/* SDIFFSTORE destination key [key ...] */
void sdiffstore_command(client *c) {
    sunion_diff_generic(c, 2, c->argc - 2, 1, OP_DIFF);
}

/* ------------------------------------------------------------------ */
/* random members: SRANDMEMBER, SPOP                                   */

/* One random member: exactly uniform (an O(N) walk) for a small set, the
 * seek-based draw for a big one. */
static int pick_one(ts_set *s, cm_owned *o) {
    if (s->m.count <= SET_SMALL) return cm_nth(srv.ks, s->m.id, cm_rand_below(s->m.count), o);
    return ts_random(s, o);
}

/* `count` distinct members chosen uniformly by one ordered walk (selection
 * sampling), copied into *out: O(size). */
static int pick_walk(ts_set *s, uint64_t count, cm_list *out) {
    memset(out, 0, sizeof *out);
    cm_iter it;
    int rc = cm_iter_open(&it, srv.ks, s->m.id, NULL, 0);
    if (rc != ST_OK) return rc;
    uint64_t left = s->m.count, need = count;
    cm_entry e;
    while (need > 0 && (rc = cm_iter_next(&it, &e)) == ST_OK) {
        if (cm_rand_below(left) < need) {
            if ((rc = cm_list_add(out, e.kind, e.member, e.mlen, "", 0)) != ST_OK) break;
            need--;
        }
        if (left > 1) left--;
    }
    cm_iter_close(&it);
    if (rc == ST_NOTFOUND) rc = ST_OK;
    if (rc != ST_OK) cm_list_free(out);
    return rc;
}

/* Open-addressing set of 64-bit hashes of raw entry keys (distinct random
 * draws; a hash collision only makes one candidate be redrawn). */
typedef struct pickset {
    uint64_t *h;
    size_t cap, n;
} pickset;

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h | 1;
}

static int pickset_add(pickset *s, const uint8_t *k, size_t kl) {
    if ((s->n + 1) * 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        uint64_t *nh = calloc(nc, sizeof *nh);
        if (!nh) return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->h[i]) continue;
            size_t j = s->h[i] & (nc - 1);
            while (nh[j]) j = (j + 1) & (nc - 1);
            nh[j] = s->h[i];
        }
        free(s->h);
        s->h = nh;
        s->cap = nc;
    }
    uint64_t h = fnv1a(k, kl);
    size_t j = h & (s->cap - 1);
    while (s->h[j]) {
        if (s->h[j] == h) return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->h[j] = h;
    s->n++;
    return 1;
}

/* The array header is out but a storage error stopped the elements: keep
 * the connection's protocol sound by closing it after the reply. */
static void fail_mid_reply(client *c, const char *cmd, int rc) {
    server_log(3, "%s: storage error %s", cmd, store_strerror(rc));
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static void srandmember_with_count(client *c) {
    long long l;
    if (arg_ll_or_reply(c, &c->argv[2], &l, NULL) != 0) return;
    if (l < -LLONG_MAX) {
        reply_errorf(c, "value is out of range, value must between %lld and %lld", -LLONG_MAX,
                     LLONG_MAX);
        return;
    }
    ts_set s;
    int r = open_or_reply(c, 1, &s, 1);
    if (r < 0) return;
    uint64_t count = l >= 0 ? (uint64_t)l : (uint64_t)-l;
    if (r == 0 || count == 0) {
        reply_empty_array(c);
        return;
    }
    uint64_t size = s.m.count;
    int rc = ST_OK;
    if (l < 0 || count == 1) {
        reply_array_len(c, (long long)count);
        if (count > 1 && size <= SET_SMALL) {
            cm_list all;
            if ((rc = cm_collect(srv.ks, s.m.id, &all)) != ST_OK) {
                fail_mid_reply(c, "SRANDMEMBER", rc);
                return;
            }
            for (uint64_t i = 0; i < count; i++) {
                if (!all.n) {
                    reply_bulk(c, "", 0);
                    continue;
                }
                const cm_item *it = &all.items[cm_rand_below(all.n)];
                reply_entry(c, it->kind, all.buf + it->moff, it->mlen);
                if (c->flags & CLIENT_CLOSE_ASAP) break;
            }
            cm_list_free(&all);
        } else if (count > 1 && count * WALK_RATIO >= size) {
            cm_list sm;
            if ((rc = cm_sample_replace(srv.ks, s.m.id, size, count, &sm)) != ST_OK) {
                fail_mid_reply(c, "SRANDMEMBER", rc);
                return;
            }
            for (size_t i = 0; i < sm.n; i++)
                reply_entry(c, sm.items[i].kind, sm.buf + sm.items[i].moff, sm.items[i].mlen);
            for (size_t i = sm.n; i < count; i++) reply_bulk(c, "", 0);
            cm_list_free(&sm);
        } else {
            for (uint64_t i = 0; i < count; i++) {
                cm_owned o;
                if ((rc = pick_one(&s, &o)) != ST_OK) {
                    reply_bulk(c, "", 0);
                    continue;
                }
                reply_entry(c, o.kind, o.member, o.mlen);
                cm_owned_free(&o);
                if (c->flags & CLIENT_CLOSE_ASAP) break;
            }
        }
        return;
    }
    uint64_t n = count < size ? count : size;
    reply_array_len(c, (long long)n);
    if (count >= size || size <= SET_SMALL || count * WALK_RATIO >= size) {
        cm_list picked;
        if ((rc = pick_walk(&s, n, &picked)) != ST_OK) {
            fail_mid_reply(c, "SRANDMEMBER", rc);
            return;
        }
        for (size_t i = 0; i < picked.n; i++)
            reply_entry(c, picked.items[i].kind, picked.buf + picked.items[i].moff,
                        picked.items[i].mlen);
        for (size_t i = picked.n; i < n; i++) reply_bulk(c, "", 0);
        cm_list_free(&picked);
        return;
    }
    /* A big set and few members wanted: draws, duplicates redrawn, bounded,
     * then a walk for whatever is still missing. */
    pickset seen = {0};
    uint64_t got = 0, tries = 0, max_tries = count * 20 + 1000;
    while (got < count && tries++ < max_tries) {
        cm_owned o;
        if (ts_random(&s, &o) != ST_OK) break;
        int a = pickset_add(&seen, o.key, o.klen);
        if (a == 1) {
            reply_entry(c, o.kind, o.member, o.mlen);
            got++;
        }
        cm_owned_free(&o);
        if (a < 0) break;
    }
    if (got < count) {
        cm_iter it;
        cm_entry e;
        if (cm_iter_open(&it, srv.ks, s.m.id, NULL, 0) == ST_OK) {
            while (got < count && cm_iter_next(&it, &e) == ST_OK) {
                if (pickset_add(&seen, e.key, e.klen) != 1) continue;
                reply_entry(c, e.kind, e.member, e.mlen);
                got++;
            }
            cm_iter_close(&it);
        }
        while (got++ < count) reply_bulk(c, "", 0);
    }
    free(seen.h);
}

/* SRANDMEMBER key [count] */
void srandmember_command(client *c) {
    if (c->argc == 3) {
        srandmember_with_count(c);
        return;
    }
    if (c->argc > 3) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    ts_set s;
    int r = open_or_reply(c, 1, &s, 1);
    if (r < 0) return;
    if (r == 0) {
        reply_null(c);
        return;
    }
    cm_owned o;
    int rc = pick_one(&s, &o);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    reply_entry(c, o.kind, o.member, o.mlen);
    cm_owned_free(&o);
}

/* SPOP's strategies in Redis: pop members one by one while the remainder
 * stays large (remaining * 5 > count), else build a new set from the
 * remainder, which is then judged afresh for its encoding. */
#define SPOP_MOVE_STRATEGY_MUL 5

static void spop_with_count(client *c) {
    long long l;
    if (arg_range_or_reply(c, &c->argv[2], 0, LLONG_MAX, &l,
                           "value is out of range, must be positive") != 0)
        return;
    ts_set s;
    int r = open_or_reply(c, 1, &s, 0);
    if (r < 0) return;
    uint64_t count = (uint64_t)l;
    if (r == 0 || count == 0) {
        reply_set_len(c, 0);
        return;
    }
    uint64_t size = s.m.count;
    int rc = ST_OK;
    notify_keyspace_event(NOTIFY_SET, "spop", K(1), c->db);
    if (count >= size) {
        /* the whole set, then the key goes: O(1) delete */
        cm_iter it;
        if ((rc = cm_iter_open(&it, srv.ks, s.m.id, NULL, 0)) != ST_OK) {
            reply_store_error(c, rc);
            return;
        }
        reply_deferred d = reply_defer_len(c);
        long long n = 0;
        cm_entry e;
        while ((rc = cm_iter_next(&it, &e)) == ST_OK) {
            reply_entry(c, e.kind, e.member, e.mlen);
            n++;
        }
        cm_iter_close(&it);
        reply_set_deferred_len(c, d, n, REPLY_SET);
        rc = ks_delete(srv.ks, c->db, K(1));
        if (rc < 0) server_log(3, "SPOP: delete failed: %s", store_strerror(rc));
        else notify_keyspace_event(NOTIFY_GENERIC, "del", K(1), c->db);
        return;
    }
    reply_set_len(c, (long long)count);
    uint64_t remaining = size - count;
    if (size <= SET_SMALL || count * WALK_RATIO >= size) {
        cm_list picked;
        if ((rc = pick_walk(&s, count, &picked)) != ST_OK) {
            fail_mid_reply(c, "SPOP", rc);
            return;
        }
        for (size_t i = 0; i < picked.n && rc == ST_OK; i++) {
            const cm_item *it = &picked.items[i];
            int d;
            reply_entry(c, it->kind, picked.buf + it->moff, it->mlen);
            rc = ts_rem_entry(&s, it->kind, picked.buf + it->moff, it->mlen, &d);
        }
        for (size_t i = picked.n; i < count; i++) reply_bulk(c, "", 0);
        cm_list_free(&picked);
    } else {
        /* Each popped member is removed at once, so draws never repeat. */
        for (uint64_t i = 0; i < count; i++) {
            cm_owned o;
            if (rc == ST_OK) rc = ts_random(&s, &o);
            if (rc != ST_OK) {
                reply_bulk(c, "", 0);
                continue;
            }
            int d;
            reply_entry(c, o.kind, o.member, o.mlen);
            rc = ts_rem_entry(&s, o.kind, o.member, o.mlen, &d);
            cm_owned_free(&o);
        }
    }
    if (remaining * SPOP_MOVE_STRATEGY_MUL <= count) judge_afresh(&s);
    int rc2 = ts_commit(&s);
    if (rc == ST_OK) rc = rc2;
    if (rc != ST_OK) fail_mid_reply(c, "SPOP", rc);
}

/* SPOP key [count] */
void spop_command(client *c) {
    if (c->argc == 3) {
        spop_with_count(c);
        return;
    }
    if (c->argc > 3) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    ts_set s;
    int r = open_or_reply(c, 1, &s, 0);
    if (r < 0) return;
    if (r == 0) {
        reply_null(c);
        return;
    }
    cm_owned o;
    int rc = pick_one(&s, &o);
    if (rc == ST_OK) {
        int d;
        rc = ts_rem_entry(&s, o.kind, o.member, o.mlen, &d);
        if (rc == ST_OK) rc = ts_commit(&s);
        if (rc == ST_OK) {
            notify_keyspace_event(NOTIFY_SET, "spop", K(1), c->db);
            if (s.m.count == 0) notify_keyspace_event(NOTIFY_GENERIC, "del", K(1), c->db);
            reply_entry(c, o.kind, o.member, o.mlen);
        }
        cm_owned_free(&o);
    }
    if (rc != ST_OK) reply_store_error(c, rc);
}

/* ------------------------------------------------------------------ */
/* SSCAN                                                               */

/* A SCAN-family cursor as Redis parses it (strtoul on the C string): empty
 * is 0, a leading space is refused, '+'/'-' accepted ("-1" wraps), bytes
 * after a NUL ignored. */
static int parse_coll_cursor_or_reply(client *c, const arg *a, uint64_t *out) {
    size_t len = a->len;
    const char *nul = memchr(a->p, '\0', len);
    if (nul) len = (size_t)(nul - a->p);
    if (len == 0) {
        *out = 0;
        return 0;
    }
    unsigned long long v;
    char ch = a->p[0];
    if (ch == ' ' || (ch >= '\t' && ch <= '\r') || num_parse_ull_loose(a->p, len, &v) != 0) {
        reply_error(c, "invalid cursor");
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_coll_scan_opts_or_reply(client *c, int i, const char **pat, size_t *patlen,
                                         long long *count) {
    *pat = NULL;
    *patlen = 0;
    *count = 10;
    for (; i < c->argc; i++) {
        int more = c->argc - i - 1;
        if (arg_is(&c->argv[i], "count") && more >= 1) {
            if (arg_ll_or_reply(c, &c->argv[i + 1], count, NULL) != 0) return -1;
            if (*count < 1) {
                reply_error(c, ERR_SYNTAX);
                return -1;
            }
            i++;
        } else if (arg_is(&c->argv[i], "match") && more >= 1) {
            i++;
            *pat = c->argv[i].p;
            *patlen = c->argv[i].len;
            if (*patlen == 1 && (*pat)[0] == '*') *pat = NULL;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

/* SSCAN key cursor [MATCH pattern] [COUNT count] */
void sscan_command(client *c) {
    uint64_t cursor;
    if (parse_coll_cursor_or_reply(c, &c->argv[2], &cursor) != 0) return;
    ts_set s;
    int r = open_or_reply(c, 1, &s, 1);
    if (r < 0) return;
    if (r == 0) {
        reply_array_len(c, 2);
        reply_bulk(c, "0", 1);
        reply_empty_array(c);
        return;
    }
    const char *pat;
    size_t patlen;
    long long count;
    if (parse_coll_scan_opts_or_reply(c, 3, &pat, &patlen, &count) != 0) return;
    /* An intset comes back whole, whatever the cursor (as in Redis). */
    int whole = !(s.flags & TS_F_HT);
    uint8_t pos[SCAN_POS_MAX];
    size_t poslen = 0;
    if (!whole && cursor != 0 && scan_cursor_load(cursor, s.m.id, pos, &poslen) != 0) {
        reply_error(c, "invalid cursor");
        return;
    }
    if (count > 100000) count = 100000;
    cm_iter it;
    int rc = cm_iter_open(&it, srv.ks, s.m.id, poslen ? pos : NULL, poslen);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    cm_list out = {0};
    cm_entry e;
    long long visited = 0;
    uint64_t next = 0;
    while ((rc = cm_iter_next(&it, &e)) == ST_OK) {
        if (!whole && visited == count) {
            if (e.klen <= SCAN_POS_MAX) next = scan_cursor_save(s.m.id, e.key, e.klen);
            break;
        }
        visited++;
        char tbuf[TS_INT_TEXT];
        const uint8_t *t;
        size_t tl;
        ts_entry_text(e.kind, e.member, e.mlen, tbuf, &t, &tl);
        if (pat && !glob_match(pat, patlen, (const char *)t, tl, 0)) continue;
        if ((rc = cm_list_add(&out, 0, t, tl, "", 0)) != ST_OK) break;
    }
    cm_iter_close(&it);
    if (rc != ST_OK && rc != ST_NOTFOUND) {
        cm_list_free(&out);
        reply_store_error(c, rc);
        return;
    }
    char tmp[NUM_LL_STR_SIZE + 1];
    size_t tn = num_ull_to_str(tmp, sizeof tmp, next);
    reply_array_len(c, 2);
    reply_bulk(c, tmp, tn);
    reply_array_len(c, (long long)out.n);
    for (size_t i = 0; i < out.n; i++) reply_bulk(c, out.buf + out.items[i].moff, out.items[i].mlen);
    cm_list_free(&out);
}
