/* cmd_hash.c — the hash family: HSET, HSETNX, HMSET, HGET, HMGET, HGETALL,
 * HDEL, HEXISTS, HLEN, HSTRLEN, HKEYS, HVALS, HINCRBY, HINCRBYFLOAT,
 * HRANDFIELD, HSCAN, and OBJECT ENCODING's answer for hashes.
 *
 * Storage is storage/t_hash.c: one `sub` entry per field, so field reads
 * and writes are O(log N) and whole-hash replies (HGETALL, HKEYS, HVALS)
 * are O(N) range scans in field byte order (Redis answers in listpack
 * insertion order or hashtable order; clients must not rely on either).
 *
 * Encodings: Redis keeps a hash as a listpack until a field or value passes
 * hash-max-listpack-value bytes or the count passes
 * hash-max-listpack-entries, then as a hashtable for good. We record that
 * moment in the hash's header (TH_F_HT) with Redis's exact rules, so OBJECT
 * ENCODING answers as Redis would, and HSCAN, like Redis, returns a
 * "listpack" hash whole in one call whatever the cursor and COUNT. */
#include <limits.h>
#include <math.h>
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
#include "storage/t_hash.h"

#define K(i) c->argv[i].p, c->argv[i].len

/* Up to this many fields, random picks load the hash and draw exactly
 * uniformly; above, they use the approximate seek-based draw. */
#define HASH_SMALL 1000
/* A seek-based draw costs about as much as walking a few hundred entries:
 * when count * WALK_RATIO >= size, one ordered walk serves all the picks. */
#define WALK_RATIO 256

const char *hash_encoding(const ks_meta *m) {
    uint8_t flags;
    uint64_t nlong;
    th_hdr_decode(m, &flags, &nlong);
    return (flags & TH_F_HT) ? "hashtable" : "listpack";
}

/* Open the hash at argv[i]. Returns 1 if it exists, 0 if not, -1 after
 * replying with an error (WRONGTYPE, storage). read: count hits/misses. */
static int open_or_reply(client *c, int i, th_hash *h, int read) {
    return lookup_rc_or_reply(c, th_open(h, srv.ks, c->db, K(i)), read);
}

static int commit_or_reply(client *c, th_hash *h) {
    int rc = th_commit(h);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return -1;
    }
    return 0;
}

/* Redis's listpack -> hashtable rules, applied before a write of these
 * arguments (length rule) and after it (count rule). */
static void convert_for_lengths(th_hash *h, size_t a, size_t b) {
    if ((long long)a > cfg.hash_max_listpack_value || (long long)b > cfg.hash_max_listpack_value)
        h->flags |= TH_F_HT;
}

static void convert_for_count(th_hash *h) {
    if ((long long)h->m.count > cfg.hash_max_listpack_entries) h->flags |= TH_F_HT;
}

/* ------------------------------------------------------------------ */
/* writes                                                              */

static void hset_generic(client *c, int is_hmset) {
    if (c->argc % 2 == 1) {
        reply_errorf(c, "wrong number of arguments for '%s' command", c->cmd->fullname);
        return;
    }
    th_hash h;
    int r = open_or_reply(c, 1, &h, 0);
    if (r < 0) return;
    if (r == 0) th_create(&h);
    /* As Redis: every argument is checked against the value limit first. */
    if (!(h.flags & TH_F_HT))
        for (int i = 2; i < c->argc; i++) convert_for_lengths(&h, c->argv[i].len, 0);
    long long created = 0;
    for (int i = 2; i < c->argc; i += 2) {
        int cr;
        int rc = th_set(&h, K(i), K(i + 1), &cr);
        if (rc != ST_OK) {
            th_commit(&h);
            reply_store_error(c, rc);
            return;
        }
        created += cr;
        convert_for_count(&h);
    }
    if (commit_or_reply(c, &h) != 0) return;
    notify_keyspace_event(NOTIFY_HASH, "hset", K(1), c->db);
    if (is_hmset) reply_ok(c);
    else reply_int(c, created);
}

/* HSET key field value [field value ...] */
void hset_command(client *c) {
    hset_generic(c, 0);
}

/* HMSET key field value [field value ...] */
void hmset_command(client *c) {
    hset_generic(c, 1);
}

/* HSETNX key field value */
void hsetnx_command(client *c) {
    th_hash h;
    int r = open_or_reply(c, 1, &h, 0);
    if (r < 0) return;
    if (r == 1) {
        const uint8_t *v;
        size_t vl;
        int rc = th_get(&h, K(2), &v, &vl);
        if (rc == ST_OK) {
            reply_int(c, 0);
            return;
        }
        if (rc != ST_NOTFOUND) {
            reply_store_error(c, rc);
            return;
        }
    } else {
        th_create(&h);
    }
    convert_for_lengths(&h, c->argv[2].len, c->argv[3].len);
    int rc = th_set(&h, K(2), K(3), NULL);
    convert_for_count(&h);
    if (rc != ST_OK) {
        th_commit(&h);
        reply_store_error(c, rc);
        return;
    }
    if (commit_or_reply(c, &h) != 0) return;
    notify_keyspace_event(NOTIFY_HASH, "hset", K(1), c->db);
    reply_int(c, 1);
}

/* HDEL key field [field ...] */
void hdel_command(client *c) {
    th_hash h;
    int r = open_or_reply(c, 1, &h, 0);
    if (r < 0) return;
    if (r == 0) {
        reply_int(c, 0);
        return;
    }
    long long deleted = 0;
    for (int i = 2; i < c->argc && h.m.count > 0; i++) {
        int d;
        int rc = th_del(&h, K(i), &d);
        if (rc != ST_OK) {
            th_commit(&h);
            reply_store_error(c, rc);
            return;
        }
        deleted += d;
    }
    int emptied = h.m.count == 0;
    if (commit_or_reply(c, &h) != 0) return;
    if (deleted) {
        notify_keyspace_event(NOTIFY_HASH, "hdel", K(1), c->db);
        if (emptied) notify_keyspace_event(NOTIFY_GENERIC, "del", K(1), c->db);
    }
    reply_int(c, deleted);
}

/* Store a new value for argv[2] after HINCRBY/HINCRBYFLOAT computed it. */
static int store_number_or_reply(client *c, th_hash *h, const char *num, size_t len) {
    convert_for_lengths(h, c->argv[2].len, len);
    int rc = th_set(h, K(2), num, len, NULL);
    convert_for_count(h);
    int rc2 = th_commit(h);
    if (rc == ST_OK) rc = rc2;
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return -1;
    }
    return 0;
}

/* HINCRBY key field increment */
void hincrby_command(client *c) {
    long long incr, value = 0;
    if (arg_ll_or_reply(c, &c->argv[3], &incr, NULL) != 0) return;
    th_hash h;
    int r = open_or_reply(c, 1, &h, 0);
    if (r < 0) return;
    if (r == 0) th_create(&h);
    const uint8_t *v;
    size_t vl;
    int rc = th_get(&h, K(2), &v, &vl);
    if (rc == ST_OK) {
        if (num_parse_ll((const char *)v, vl, &value) != 0) {
            reply_error(c, "hash value is not an integer");
            return;
        }
    } else if (rc != ST_NOTFOUND) {
        reply_store_error(c, rc);
        return;
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        reply_error(c, ERR_OVERFLOW);
        return;
    }
    value += incr;
    char tmp[NUM_LL_STR_SIZE];
    size_t n = num_ll_to_str(tmp, sizeof tmp, value);
    if (store_number_or_reply(c, &h, tmp, n) != 0) return;
    notify_keyspace_event(NOTIFY_HASH, "hincrby", K(1), c->db);
    reply_int(c, value);
}

/* HINCRBYFLOAT key field increment */
void hincrbyfloat_command(client *c) {
    long double incr, value = 0;
    if (num_parse_long_double(c->argv[3].p, c->argv[3].len, &incr) != 0) {
        reply_error(c, ERR_NOT_FLOAT);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        reply_error(c, "value is NaN or Infinity");
        return;
    }
    th_hash h;
    int r = open_or_reply(c, 1, &h, 0);
    if (r < 0) return;
    if (r == 0) th_create(&h);
    const uint8_t *v;
    size_t vl;
    int rc = th_get(&h, K(2), &v, &vl);
    if (rc == ST_OK) {
        if (num_parse_long_double((const char *)v, vl, &value) != 0) {
            reply_error(c, "hash value is not a float");
            return;
        }
    } else if (rc != ST_NOTFOUND) {
        reply_store_error(c, rc);
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(c, "increment would produce NaN or Infinity");
        return;
    }
    char tmp[NUM_LONG_DOUBLE_STR_SIZE];
    size_t n = num_long_double_to_str(tmp, sizeof tmp, value, NUM_LD_HUMAN);
    if (store_number_or_reply(c, &h, tmp, n) != 0) return;
    notify_keyspace_event(NOTIFY_HASH, "hincrbyfloat", K(1), c->db);
    reply_bulk(c, tmp, n);
}

/* ------------------------------------------------------------------ */
/* point reads                                                         */

/* HGET key field */
void hget_command(client *c) {
    th_hash h;
    int r = open_or_reply(c, 1, &h, 1);
    if (r < 0) return;
    const uint8_t *v;
    size_t vl;
    int rc = r ? th_get(&h, K(2), &v, &vl) : ST_NOTFOUND;
    if (rc == ST_OK) reply_bulk(c, v, vl);
    else if (rc == ST_NOTFOUND) reply_null(c);
    else reply_store_error(c, rc);
}

/* HMGET key field [field ...] */
void hmget_command(client *c) {
    th_hash h;
    int r = open_or_reply(c, 1, &h, 1);
    if (r < 0) return;
    reply_array_len(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        const uint8_t *v;
        size_t vl;
        if (r && th_get(&h, K(i), &v, &vl) == ST_OK) reply_bulk(c, v, vl);
        else reply_null(c);
    }
}

/* HEXISTS key field */
void hexists_command(client *c) {
    th_hash h;
    int r = open_or_reply(c, 1, &h, 1);
    if (r < 0) return;
    const uint8_t *v;
    size_t vl;
    reply_int(c, r && th_get(&h, K(2), &v, &vl) == ST_OK);
}

/* HSTRLEN key field */
void hstrlen_command(client *c) {
    th_hash h;
    int r = open_or_reply(c, 1, &h, 1);
    if (r < 0) return;
    const uint8_t *v;
    size_t vl;
    if (r && th_get(&h, K(2), &v, &vl) == ST_OK) reply_int(c, (long long)vl);
    else reply_int(c, 0);
}

/* HLEN key */
void hlen_command(client *c) {
    th_hash h;
    int r = open_or_reply(c, 1, &h, 1);
    if (r < 0) return;
    reply_int(c, r ? (long long)h.m.count : 0);
}

/* ------------------------------------------------------------------ */
/* whole-hash reads: O(N) range scans                                  */

#define WANT_FIELD 1
#define WANT_VALUE 2

static void getall_generic(client *c, int what) {
    th_hash h;
    int r = open_or_reply(c, 1, &h, 1);
    if (r < 0) return;
    int map = what == (WANT_FIELD | WANT_VALUE);
    if (r == 0) {
        if (map) reply_map_len(c, 0);
        else reply_empty_array(c);
        return;
    }
    cm_iter it;
    int rc = cm_iter_open(&it, srv.ks, h.m.id, NULL, 0);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    /* The length comes from the walk itself, never from the meta count, so
     * a reply is well-formed whatever the store holds. */
    reply_deferred d = reply_defer_len(c);
    long long n = 0;
    cm_entry e;
    while ((rc = cm_iter_next(&it, &e)) == ST_OK) {
        if (what & WANT_FIELD) reply_bulk(c, e.member, e.mlen);
        if (what & WANT_VALUE) reply_bulk(c, e.payload, e.plen);
        n++;
    }
    cm_iter_close(&it);
    if (rc != ST_NOTFOUND) server_log(3, "hash read of id %llu failed: %s",
                                      (unsigned long long)h.m.id, store_strerror(rc));
    reply_set_deferred_len(c, d, n, map ? REPLY_MAP : REPLY_ARRAY);
}

/* HGETALL key */
void hgetall_command(client *c) {
    getall_generic(c, WANT_FIELD | WANT_VALUE);
}

/* HKEYS key */
void hkeys_command(client *c) {
    getall_generic(c, WANT_FIELD);
}

/* HVALS key */
void hvals_command(client *c) {
    getall_generic(c, WANT_VALUE);
}

/* ------------------------------------------------------------------ */
/* HRANDFIELD                                                          */

static void reply_pair(client *c, const void *f, size_t fl, const void *v, size_t vl,
                       int withvalues) {
    if (withvalues && c->resp > 2) reply_array_len(c, 2);
    reply_bulk(c, f, fl);
    if (withvalues) reply_bulk(c, v, vl);
}

/* One random field: exactly uniform (an O(N) walk) for a small hash,
 * the seek-based draw for a big one. */
static int pick_one(th_hash *h, cm_owned *o) {
    if (h->m.count <= HASH_SMALL) return cm_nth(srv.ks, h->m.id, cm_rand_below(h->m.count), o);
    return th_random(h, o);
}

/* A small open-addressing set of byte strings (distinct random picks). */
typedef struct pickset {
    uint64_t *hashes;
    size_t cap, n;
} pickset;

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h | 1; /* 0 marks an empty slot */
}

/* Returns 1 if added, 0 if already present, -1 on allocation failure.
 * Keys are compared by a 64-bit hash of the raw key: a collision only makes
 * one candidate be redrawn. */
static int pickset_add(pickset *s, const uint8_t *k, size_t kl) {
    if ((s->n + 1) * 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        uint64_t *nh = calloc(nc, sizeof *nh);
        if (!nh) return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->hashes[i]) continue;
            size_t j = s->hashes[i] & (nc - 1);
            while (nh[j]) j = (j + 1) & (nc - 1);
            nh[j] = s->hashes[i];
        }
        free(s->hashes);
        s->hashes = nh;
        s->cap = nc;
    }
    uint64_t h = fnv1a(k, kl);
    size_t j = h & (s->cap - 1);
    while (s->hashes[j]) {
        if (s->hashes[j] == h) return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->hashes[j] = h;
    s->n++;
    return 1;
}

/* Emit `count` distinct fields chosen uniformly by a single ordered walk
 * (selection sampling): O(size). */
static int hrand_walk(client *c, th_hash *h, unsigned long count, int withvalues) {
    cm_iter it;
    int rc = cm_iter_open(&it, srv.ks, h->m.id, NULL, 0);
    if (rc != ST_OK) return rc;
    uint64_t left = h->m.count, need = count;
    cm_entry e;
    while (need > 0 && (rc = cm_iter_next(&it, &e)) == ST_OK) {
        if (cm_rand_below(left) < need) {
            reply_pair(c, e.member, e.mlen, e.payload, e.plen, withvalues);
            need--;
        }
        if (left > 1) left--;
    }
    cm_iter_close(&it);
    /* need > 0 only if the store holds fewer fields than the meta says */
    while (need-- > 0) reply_pair(c, "", 0, "", 0, withvalues);
    return rc == ST_NOTFOUND ? ST_OK : rc;
}

static void hrandfield_with_count(client *c, long l, int withvalues) {
    th_hash h;
    int r = open_or_reply(c, 1, &h, 1);
    if (r < 0) return;
    if (r == 0) {
        reply_empty_array(c);
        return;
    }
    unsigned long count = l >= 0 ? (unsigned long)l : (unsigned long)-l;
    int uniq = l >= 0;
    unsigned long size = (unsigned long)h.m.count;
    if (count == 0) {
        reply_empty_array(c);
        return;
    }
    int flat2 = withvalues && c->resp == 2;
    int rc = ST_OK;
    if (!uniq || count == 1) {
        /* with replacement, in random order */
        reply_array_len(c, flat2 ? (long long)count * 2 : (long long)count);
        if (count > 1 && size <= HASH_SMALL) {
            cm_list all;
            if ((rc = cm_collect(srv.ks, h.m.id, &all)) != ST_OK) goto fail_mid;
            for (unsigned long i = 0; i < count; i++) {
                if (all.n == 0) {
                    reply_pair(c, "", 0, "", 0, withvalues);
                    continue;
                }
                const cm_item *it = &all.items[cm_rand_below(all.n)];
                reply_pair(c, all.buf + it->moff, it->mlen, all.buf + it->poff, it->plen,
                           withvalues);
                if (c->flags & CLIENT_CLOSE_ASAP) break;
            }
            cm_list_free(&all);
        } else if (count > 1 && count * WALK_RATIO >= size) {
            cm_list sm;
            if ((rc = cm_sample_replace(srv.ks, h.m.id, size, count, &sm)) != ST_OK) goto fail_mid;
            for (size_t i = 0; i < sm.n; i++) {
                const cm_item *it = &sm.items[i];
                reply_pair(c, sm.buf + it->moff, it->mlen, sm.buf + it->poff, it->plen,
                           withvalues);
            }
            for (size_t i = sm.n; i < count; i++) reply_pair(c, "", 0, "", 0, withvalues);
            cm_list_free(&sm);
        } else {
            for (unsigned long i = 0; i < count; i++) {
                cm_owned o;
                if ((rc = pick_one(&h, &o)) != ST_OK) {
                    reply_pair(c, "", 0, "", 0, withvalues);
                    continue;
                }
                reply_pair(c, o.member, o.mlen, o.payload, o.plen, withvalues);
                cm_owned_free(&o);
                if (c->flags & CLIENT_CLOSE_ASAP) break;
            }
        }
        return;
    }
    unsigned long n = count < size ? count : size;
    reply_array_len(c, flat2 ? (long long)n * 2 : (long long)n);
    if (count >= size || size <= HASH_SMALL || count * WALK_RATIO >= size) {
        rc = hrand_walk(c, &h, n, withvalues);
        if (rc != ST_OK) goto fail_mid;
        return;
    }
    /* A big hash and few fields wanted: independent draws, duplicates
     * redrawn. The draw is not uniform, so bound the attempts and finish
     * with a walk over what remains if they run out. */
    pickset seen = {0};
    unsigned long got = 0, tries = 0, max_tries = count * 20 + 1000;
    while (got < count && tries++ < max_tries) {
        cm_owned o;
        if (th_random(&h, &o) != ST_OK) break;
        int a = pickset_add(&seen, o.key, o.klen);
        if (a == 1) {
            reply_pair(c, o.member, o.mlen, o.payload, o.plen, withvalues);
            got++;
        }
        cm_owned_free(&o);
        if (a < 0) break;
    }
    if (got < count) {
        cm_iter it;
        cm_entry e;
        if (cm_iter_open(&it, srv.ks, h.m.id, NULL, 0) == ST_OK) {
            while (got < count && cm_iter_next(&it, &e) == ST_OK) {
                if (pickset_add(&seen, e.key, e.klen) != 1) continue;
                reply_pair(c, e.member, e.mlen, e.payload, e.plen, withvalues);
                got++;
            }
            cm_iter_close(&it);
        }
        while (got++ < count) reply_pair(c, "", 0, "", 0, withvalues);
    }
    free(seen.hashes);
    return;
fail_mid:
    /* The array header is out: keep the protocol sound, log the cause. */
    server_log(3, "HRANDFIELD: storage error %s", store_strerror(rc));
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

/* HRANDFIELD key [count [WITHVALUES]] */
void hrandfield_command(client *c) {
    if (c->argc >= 3) {
        long long l;
        if (arg_ll_or_reply(c, &c->argv[2], &l, NULL) != 0) return;
        if (l < -LONG_MAX) {
            reply_errorf(c, "value is out of range, value must between %ld and %ld", -LONG_MAX,
                         LONG_MAX);
            return;
        }
        int withvalues = 0;
        if (c->argc > 4 || (c->argc == 4 && !arg_is(&c->argv[3], "withvalues"))) {
            reply_error(c, ERR_SYNTAX);
            return;
        }
        if (c->argc == 4) {
            withvalues = 1;
            if (l < -LONG_MAX / 2 || l > LONG_MAX / 2) {
                reply_error(c, "value is out of range");
                return;
            }
        }
        hrandfield_with_count(c, (long)l, withvalues);
        return;
    }
    th_hash h;
    int r = open_or_reply(c, 1, &h, 1);
    if (r < 0) return;
    if (r == 0) {
        reply_null(c);
        return;
    }
    cm_owned o;
    int rc = pick_one(&h, &o);
    if (rc == ST_OK) {
        reply_bulk(c, o.member, o.mlen);
        cm_owned_free(&o);
        return;
    }
    reply_store_error(c, rc);
}

/* ------------------------------------------------------------------ */
/* HSCAN                                                               */

/* A SCAN-family cursor as Redis parses it (strtoul on the C string): an
 * empty string is 0, a leading space is refused, '+'/'-' are accepted
 * ("-1" wraps), bytes after a NUL are ignored. 0 or -1 (replied). */
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
    if (ch == ' ' || (ch >= '\t' && ch <= '\r') ||
        num_parse_ull_loose(a->p, len, &v) != 0) {
        reply_error(c, "invalid cursor");
        return -1;
    }
    *out = v;
    return 0;
}

/* COUNT/MATCH options after the cursor (Redis parses them only once the key
 * is known to exist). 0 or -1 (replied). */
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

static void reply_scan(client *c, uint64_t next, const cm_list *l) {
    char tmp[NUM_LL_STR_SIZE + 1];
    size_t n = num_ull_to_str(tmp, sizeof tmp, next);
    reply_array_len(c, 2);
    reply_bulk(c, tmp, n);
    reply_array_len(c, (long long)l->n * 2);
    for (size_t i = 0; i < l->n; i++) {
        reply_bulk(c, l->buf + l->items[i].moff, l->items[i].mlen);
        reply_bulk(c, l->buf + l->items[i].poff, l->items[i].plen);
    }
}

/* HSCAN key cursor [MATCH pattern] [COUNT count] */
void hscan_command(client *c) {
    uint64_t cursor;
    if (parse_coll_cursor_or_reply(c, &c->argv[2], &cursor) != 0) return;
    th_hash h;
    int r = open_or_reply(c, 1, &h, 1);
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
    /* A hash Redis keeps as a listpack is returned whole, cursor ignored. */
    int whole = !(h.flags & TH_F_HT);
    uint8_t pos[SCAN_POS_MAX];
    size_t poslen = 0;
    if (!whole && cursor != 0 && scan_cursor_load(cursor, h.m.id, pos, &poslen) != 0) {
        reply_error(c, "invalid cursor");
        return;
    }
    if (count > 100000) count = 100000;
    cm_iter it;
    int rc = cm_iter_open(&it, srv.ks, h.m.id, poslen ? pos : NULL, poslen);
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
            if (e.klen <= SCAN_POS_MAX) next = scan_cursor_save(h.m.id, e.key, e.klen);
            break;
        }
        visited++;
        if (pat && !glob_match(pat, patlen, (const char *)e.member, e.mlen, 0)) continue;
        if ((rc = cm_list_add(&out, 0, e.member, e.mlen, e.payload, e.plen)) != ST_OK) break;
    }
    cm_iter_close(&it);
    if (rc != ST_OK && rc != ST_NOTFOUND) {
        cm_list_free(&out);
        reply_store_error(c, rc);
        return;
    }
    reply_scan(c, next, &out);
    cm_list_free(&out);
}
