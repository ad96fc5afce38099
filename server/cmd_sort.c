/* cmd_sort.c — SORT and SORT_RO over lists, sets and sorted sets.
 *
 * The elements are loaded into memory (O(N); SORT is O(N + M log M) in
 * Redis too), weighted by themselves or by BY-pattern lookups (strings, or
 * hash fields with "->"), sorted, cut by LIMIT and replied with GET-pattern
 * lookups, or stored as a list (STORE). Redis's observable choices are
 * followed exactly: numeric ties fall back to binary comparison of the
 * elements; ALPHA compares with strcoll (the C/C.UTF-8 collation: bytes up
 * to the first NUL) unless STORE is given (binary then); a full sort is
 * stable (glibc's qsort is a merge sort), a BY sort cut by LIMIT uses the
 * same partial quicksort as Redis; "BY nosort" keeps a list's or a sorted
 * set's own order and loads only the LIMIT range. A set's order without
 * sorting is lodis's (integers first, then bytes), where Redis's hashtable
 * order is arbitrary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/notify.h"
#include "server/args.h"
#include "server/cmdtable.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/keyspace.h"
#include "storage/t_hash.h"
#include "storage/t_list.h"
#include "storage/t_set.h"
#include "storage/t_zset.h"

#define K(i) c->argv[i].p, c->argv[i].len

/* A growable byte arena holding copies of elements and lookup results. */
typedef struct arena {
    char *p;
    size_t len, cap;
    int oom;
} arena;

static size_t arena_add(arena *a, const void *p, size_t n) {
    if (a->len + n + 1 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        while (cap < a->len + n + 1) cap *= 2;
        char *np = realloc(a->p, cap);
        if (!np) {
            a->oom = 1;
            return 0;
        }
        a->p = np;
        a->cap = cap;
    }
    size_t off = a->len;
    if (n) memcpy(a->p + off, p, n);
    a->p[off + n] = '\0'; /* strtod and strcoll-like compares need it */
    a->len += n + 1;
    return off;
}

typedef struct sobj {
    size_t off, len;    /* element */
    double score;
    int has_cmp;        /* ALPHA BY: the weight exists */
    size_t coff, clen;  /* ALPHA BY weight */
} sobj;

typedef struct sortctx {
    arena *a;
    int desc, alpha, bypattern, store;
} sortctx;

/* Binary comparison, shorter first on a common prefix (compareStringObjects). */
static int bin_cmp(const char *a, size_t la, const char *b, size_t lb) {
    size_t n = la < lb ? la : lb;
    int r = memcmp(a, b, n);
    if (r) return r;
    return la < lb ? -1 : (la > lb ? 1 : 0);
}

/* strcoll in the C / C.UTF-8 locale: unsigned bytes up to the first NUL. */
static int coll_cmp(const char *a, const char *b) {
    int r = strcmp(a, b);
    return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

static int sort_cmp(const sobj *x, const sobj *y, const sortctx *s) {
    const char *ap = s->a->p;
    int cmp;
    if (!s->alpha) {
        if (x->score > y->score) cmp = 1;
        else if (x->score < y->score) cmp = -1;
        else cmp = bin_cmp(ap + x->off, x->len, ap + y->off, y->len);
    } else if (s->bypattern) {
        if (!x->has_cmp || !y->has_cmp) {
            cmp = x->has_cmp == y->has_cmp ? 0 : (!x->has_cmp ? -1 : 1);
        } else if (s->store) {
            cmp = bin_cmp(ap + x->coff, x->clen, ap + y->coff, y->clen);
        } else {
            cmp = coll_cmp(ap + x->coff, ap + y->coff);
        }
    } else if (s->store) {
        cmp = bin_cmp(ap + x->off, x->len, ap + y->off, y->len);
    } else {
        cmp = coll_cmp(ap + x->off, ap + y->off);
    }
    return s->desc ? -cmp : cmp;
}

/* Stable merge sort (the order glibc's qsort gives). */
static int merge_sort(sobj *v, size_t n, const sortctx *s) {
    if (n < 2) return 0;
    sobj *tmp = malloc(n * sizeof *tmp);
    if (!tmp) return -1;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = sort_cmp(&v[j], &v[i], s) < 0 ? v[j++] : v[i++];
            while (i < mid) tmp[k++] = v[i++];
            while (j < hi) tmp[k++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof *v);
    }
    free(tmp);
    return 0;
}

/* Bentley-McIlroy quicksort that only orders positions [lo, hi] (the
 * partial sort Redis uses for BY with LIMIT); same steps, same ties. */
static void sw(sobj *v, size_t i, size_t j) {
    sobj t = v[i];
    v[i] = v[j];
    v[j] = t;
}

static size_t med3(sobj *v, size_t a, size_t b, size_t c, const sortctx *s) {
    return sort_cmp(&v[a], &v[b], s) < 0
               ? (sort_cmp(&v[b], &v[c], s) < 0 ? b : (sort_cmp(&v[a], &v[c], s) < 0 ? c : a))
               : (sort_cmp(&v[b], &v[c], s) > 0 ? b : (sort_cmp(&v[a], &v[c], s) < 0 ? a : c));
}

static void partial_sort(sobj *v, size_t a, size_t n, size_t lo, size_t hi, const sortctx *s) {
    for (;;) {
        if (n < 7) {
            for (size_t m = a + 1; m < a + n; m++)
                for (size_t l = m; l > a && sort_cmp(&v[l - 1], &v[l], s) > 0; l--) sw(v, l, l - 1);
            return;
        }
        size_t pm = a + n / 2;
        if (n > 7) {
            size_t pl = a, pn = a + n - 1;
            if (n > 40) {
                size_t d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, s);
                pm = med3(v, pm - d, pm, pm + d, s);
                pn = med3(v, pn - 2 * d, pn - d, pn, s);
            }
            pm = med3(v, pl, pm, pn, s);
        }
        sw(v, a, pm);
        size_t pa = a + 1, pb = a + 1, pc = a + n - 1, pd = a + n - 1;
        int r;
        for (;;) {
            while (pb <= pc && (r = sort_cmp(&v[pb], &v[a], s)) <= 0) {
                if (r == 0) sw(v, pa++, pb);
                pb++;
            }
            while (pb <= pc && (r = sort_cmp(&v[pc], &v[a], s)) >= 0) {
                if (r == 0) sw(v, pc, pd--);
                pc--;
            }
            if (pb > pc) break;
            sw(v, pb++, pc--);
        }
        size_t pn = a + n, k;
        k = pa - a < pb - pa ? pa - a : pb - pa;
        for (size_t i = 0; i < k; i++) sw(v, a + i, pb - k + i);
        k = pd - pc < pn - pd - 1 ? pd - pc : pn - pd - 1;
        for (size_t i = 0; i < k; i++) sw(v, pb + i, pn - k + i);
        if ((k = pb - pa) > 1) {
            size_t l = a, rr = a + k - 1;
            if (!((lo < l && hi < l) || (lo > rr && hi > rr))) partial_sort(v, a, k, lo, hi, s);
        }
        if ((k = pd - pc) > 1) {
            a = pn - k;
            n = k;
            size_t l = a, rr = a + k - 1;
            if (!((lo < l && hi < l) || (lo > rr && hi > rr))) continue;
        }
        return;
    }
}

/* Redis's lookupKeyByPattern: "#" is the element itself; otherwise the
 * first '*' is replaced by the element and the key read as a string, or
 * with "->field" as a hash field. The element is at arena offset eoff;
 * the result is copied into the arena: returns 1 with its offset and
 * length, 0 when there is no value, -1 on error. The pattern is searched as
 * a C string (an embedded NUL ends the search). */
static int by_pattern(client *c, const arg *pat, arena *a, size_t eoff, size_t elen,
                      size_t *off, size_t *len) {
    const char *sp = pat->p;
    size_t slen = pat->len, clen = strnlen(sp, slen);
    if (slen >= 1 && sp[0] == '#' && (slen == 1 || sp[1] == '\0')) {
        *off = eoff;
        *len = elen;
        return 1;
    }
    const char *star = memchr(sp, '*', clen);
    if (!star) return 0;
    const char *f = NULL;
    for (const char *q = star + 1; q + 1 < sp + clen; q++) {
        if (q[0] == '-' && q[1] == '>') {
            f = q;
            break;
        }
    }
    size_t fieldlen = 0;
    if (f && f + 2 < sp + clen) fieldlen = slen - (size_t)(f - sp) - 2;
    else f = NULL;
    size_t prefix = (size_t)(star - sp);
    size_t postfix = slen - (prefix + 1) - (fieldlen ? fieldlen + 2 : 0);
    char stackkey[512], *key = stackkey;
    size_t klen = prefix + elen + postfix;
    if (klen > sizeof stackkey && !(key = malloc(klen))) return -1;
    memcpy(key, sp, prefix);
    memcpy(key + prefix, a->p + eoff, elen);
    memcpy(key + prefix + elen, star + 1, postfix);

    int ret = 0;
    ks_meta m;
    int rc = ks_lookup(srv.ks, c->db, key, klen, KS_NONE, &m);
    if (rc == ST_OK) {
        srv.stat_keyspace_hits++;
        if (!f && m.type == KS_STRING) {
            *off = arena_add(a, m.val, m.vlen);
            *len = m.vlen;
            ret = a->oom ? -1 : 1;
        }
        uint8_t type = m.type;
        ks_meta_release(&m);
        if (f && type == KS_HASH) {
            th_hash h;
            if (th_open(&h, srv.ks, c->db, key, klen) == ST_OK) {
                const uint8_t *v;
                size_t vlen;
                if (th_get(&h, f + 2, fieldlen, &v, &vlen) == ST_OK) {
                    *off = arena_add(a, v, vlen);
                    *len = vlen;
                    ret = a->oom ? -1 : 1;
                }
            }
        }
    } else if (rc == ST_NOTFOUND) {
        srv.stat_keyspace_misses++;
    } else {
        ret = -1;
    }
    if (key != stackkey) free(key);
    return ret;
}

/* Growable vector of elements. */
typedef struct svec {
    sobj *v;
    size_t n, cap;
} svec;

static int svec_add(svec *s, arena *a, const void *p, size_t n) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        sobj *nv = realloc(s->v, cap * sizeof *nv);
        if (!nv) return -1;
        s->v = nv;
        s->cap = cap;
    }
    sobj *o = &s->v[s->n++];
    memset(o, 0, sizeof *o);
    o->off = arena_add(a, p, n);
    o->len = n;
    return a->oom ? -1 : 0;
}

/* Load a list's elements [from, from + max) (max < 0: all), in order or
 * reversed from position from counted from the tail. */
static int load_list(client *c, svec *s, arena *a, long from, long max, int rev) {
    tl_list l;
    int rc = tl_open(&l, srv.ks, c->db, K(1));
    if (rc != ST_OK) return rc;
    uint64_t count = l.m.count;
    if (count == 0 || (uint64_t)from >= count) return ST_OK;
    uint64_t start = rev ? count - 1 - (uint64_t)from : (uint64_t)from;
    tl_iter it;
    rc = tl_iter_open(&l, start, rev, &it);
    if (rc != ST_OK) return rc;
    const uint8_t *v;
    size_t vlen;
    uint64_t pos;
    while ((max < 0 || (long)s->n < max) && (rc = tl_iter_next(&it, &v, &vlen, &pos)) == ST_OK) {
        if (svec_add(s, a, v, vlen) != 0) {
            rc = ST_NOMEM;
            break;
        }
    }
    tl_iter_close(&it);
    return rc == ST_NOTFOUND ? ST_OK : rc;
}

static int load_set(uint64_t id, svec *s, arena *a) {
    cm_iter it;
    cm_entry e;
    int rc = cm_iter_open(&it, srv.ks, id, NULL, 0);
    if (rc != ST_OK) return rc;
    while ((rc = cm_iter_next(&it, &e)) == ST_OK) {
        char txt[TS_INT_TEXT];
        const uint8_t *p;
        size_t n;
        ts_entry_text(e.kind, e.member, e.mlen, txt, &p, &n);
        if (svec_add(s, a, p, n) != 0) {
            rc = ST_NOMEM;
            break;
        }
    }
    cm_iter_close(&it);
    return rc == ST_NOTFOUND ? ST_OK : rc;
}

/* A zset's members in rank order from rank `from` (max < 0: all). */
static int load_zset(uint64_t id, svec *s, arena *a, long from, long max, int rev) {
    tz_iter it;
    int rc = tz_iter_open(&it, srv.ks, id, rev);
    if (rc != ST_OK) return rc;
    rc = tz_iter_first(&it);
    long skip = from;
    while (rc == ST_OK && tz_iter_valid(&it) && (max < 0 || (long)s->n < max)) {
        if (skip > 0) {
            skip--;
        } else {
            size_t ml;
            const uint8_t *m = tz_iter_member(&it, &ml);
            if (svec_add(s, a, m, ml) != 0) {
                rc = ST_NOMEM;
                break;
            }
        }
        rc = tz_iter_next(&it);
    }
    if (rc == ST_NOTFOUND) rc = ST_OK;
    if (rc == ST_OK && it.err) rc = it.err;
    tz_iter_close(&it);
    return rc;
}

/* Replace argv[dst] with a list of the given arena strings (TTL dropped,
 * as SET does: an existing key is overwritten, not deleted and re-added),
 * or delete it when there are none; then publish Redis's event. */
static int store_list(client *c, const arg *dst, arena *a, const size_t *offs,
                      const size_t *lens, long n) {
    int rc;
    if (n == 0) {
        rc = ks_delete(srv.ks, c->db, dst->p, dst->len);
        if (rc > 0) notify_keyspace_event(NOTIFY_GENERIC, "del", dst->p, dst->len, c->db);
        return rc < 0 ? rc : ST_OK;
    }
    tl_list l;
    tl_new(&l, srv.ks, c->db, dst->p, dst->len);
    for (long i = 0; i < n; i++) {
        rc = tl_push(&l, TL_TAIL, a->p + offs[i], lens[i]);
        if (rc != ST_OK) return rc;
    }
    if ((rc = tl_commit(&l)) == ST_OK)
        notify_keyspace_event(NOTIFY_LIST, "sortstore", dst->p, dst->len, c->db);
    return rc;
}

static void sort_generic(client *c, int readonly) {
    int desc = 0, alpha = 0, dontsort = 0;
    long long limit_start = 0, limit_count = -1;
    const arg *sortby = NULL, *storekey = NULL;
    int getop = 0;
    const arg **gets = calloc((size_t)c->argc, sizeof *gets);
    svec vec = {0};
    arena a = {0};
    size_t *offs = NULL, *lens = NULL;
    if (!gets) {
        reply_store_error(c, ST_NOMEM);
        return;
    }

    for (int j = 2; j < c->argc; j++) {
        int left = c->argc - j - 1;
        const arg *o = &c->argv[j];
        if (arg_is(o, "asc")) {
            desc = 0;
        } else if (arg_is(o, "desc")) {
            desc = 1;
        } else if (arg_is(o, "alpha")) {
            alpha = 1;
        } else if (arg_is(o, "limit") && left >= 2) {
            if (arg_ll_or_reply(c, &c->argv[j + 1], &limit_start, NULL) != 0 ||
                arg_ll_or_reply(c, &c->argv[j + 2], &limit_count, NULL) != 0)
                goto out;
            j += 2;
        } else if (!readonly && arg_is(o, "store") && left >= 1) {
            storekey = &c->argv[++j];
        } else if (arg_is(o, "by") && left >= 1) {
            sortby = &c->argv[++j];
            if (!memchr(sortby->p, '*', strnlen(sortby->p, sortby->len))) dontsort = 1;
        } else if (arg_is(o, "get") && left >= 1) {
            gets[getop++] = &c->argv[++j];
        } else {
            reply_error(c, ERR_SYNTAX);
            goto out;
        }
    }

    ks_meta m;
    int found = lookup_read_or_reply(c, 1, KS_NONE, &m);
    if (found < 0) goto out;
    uint8_t type = KS_LIST;
    uint64_t id = 0, count = 0;
    if (found) {
        type = m.type;
        id = m.id;
        count = m.count;
        uint8_t zflags = type == KS_ZSET ? tz_hdr_flags(&m) : 0;
        int64_t expire = m.expire;
        ks_meta_release(&m);
        if (type != KS_LIST && type != KS_SET && type != KS_ZSET) {
            reply_error(c, ERR_WRONGTYPE);
            goto out;
        }
        /* Redis converts a listpack zset to a skiplist for SORT (visible in
         * OBJECT ENCODING); lodis records the same in the header. */
        if (type == KS_ZSET && !(zflags & TZ_F_SKIPLIST)) {
            zflags |= TZ_F_SKIPLIST;
            ks_meta zm = {0};
            zm.type = KS_ZSET;
            zm.id = id;
            zm.count = count;
            zm.expire = expire;
            zm.hdr = &zflags;
            zm.hdrlen = TZ_HDR_LEN;
            int wrc = ks_write_meta(srv.ks, c->db, K(1), &zm);
            if (wrc != ST_OK) {
                reply_store_error(c, wrc);
                goto out;
            }
        }
    }
    if (dontsort && type == KS_SET && (storekey || (c->flags & CLIENT_SCRIPT))) {
        dontsort = 0;
        alpha = 1;
        sortby = NULL;
    }

    long vectorlen = (long)count;
    /* Clamp both to the length first, as Redis does: start + count must not
     * overflow (LIMIT 2 9223372036854775807). */
    long start = limit_start < 0 ? 0 : limit_start > vectorlen ? vectorlen : (long)limit_start;
    if (limit_count < -1) limit_count = -1;
    if (limit_count > vectorlen) limit_count = vectorlen;
    long end = limit_count < 0 ? vectorlen - 1 : start + (long)limit_count - 1;
    if (start >= vectorlen) {
        start = vectorlen - 1;
        end = vectorlen - 2;
    }
    if (end >= vectorlen) end = vectorlen - 1;

    int rc = ST_OK;
    if ((type == KS_ZSET || type == KS_LIST) && dontsort && (start != 0 || end != vectorlen - 1))
        vectorlen = end - start + 1;

    if (!found) {
        /* an empty list */
    } else if (type == KS_LIST && dontsort) {
        if (end >= start) {
            rc = load_list(c, &vec, &a, start, vectorlen, desc);
            end -= start;
            start = 0;
        }
    } else if (type == KS_LIST) {
        rc = load_list(c, &vec, &a, 0, -1, 0);
    } else if (type == KS_SET) {
        rc = load_set(id, &vec, &a);
    } else if (dontsort) {
        rc = load_zset(id, &vec, &a, start, vectorlen, desc);
        end -= start;
        start = 0;
    } else {
        rc = load_zset(id, &vec, &a, 0, -1, 0);
    }
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        goto out;
    }

    int conv_error = 0;
    sortctx sc = {&a, desc, alpha, sortby != NULL, storekey != NULL};
    if (!dontsort) {
        for (size_t j = 0; j < vec.n; j++) {
            sobj *o = &vec.v[j];
            size_t boff = o->off, blen = o->len;
            if (sortby) {
                int r = by_pattern(c, sortby, &a, o->off, o->len, &boff, &blen);
                if (r < 0) {
                    reply_store_error(c, ST_NOMEM);
                    goto out;
                }
                o = &vec.v[j];
                if (r == 0) continue;
            }
            if (alpha) {
                if (sortby) {
                    o->has_cmp = 1;
                    o->coff = boff;
                    o->clen = blen;
                }
            } else {
                char *eptr;
                errno = 0;
                o->score = strtod(a.p + boff, &eptr);
                if (eptr[0] != '\0' || errno == ERANGE || o->score != o->score) conv_error = 1;
            }
        }
        if (sortby && (start != 0 || end != (long)vec.n - 1))
            partial_sort(vec.v, 0, vec.n, (size_t)start, (size_t)end, &sc);
        else if (merge_sort(vec.v, vec.n, &sc) != 0) {
            reply_store_error(c, ST_NOMEM);
            goto out;
        }
    }

    long outputlen = getop ? getop * (end - start + 1) : end - start + 1;
    if (outputlen < 0) outputlen = 0;
    if (conv_error) {
        reply_error(c, "One or more scores can't be converted into double");
        goto out;
    }
    if (!storekey) {
        reply_array_len(c, outputlen);
        for (long j = start; j <= end; j++) {
            sobj *o = &vec.v[j];
            if (!getop) reply_bulk(c, a.p + o->off, o->len);
            for (int g = 0; g < getop; g++) {
                size_t voff, vlen;
                int r = by_pattern(c, gets[g], &a, vec.v[j].off, vec.v[j].len, &voff, &vlen);
                if (r == 1) reply_bulk(c, a.p + voff, vlen);
                else reply_null(c);
            }
        }
    } else {
        offs = malloc(((size_t)outputlen + 1) * sizeof *offs);
        lens = malloc(((size_t)outputlen + 1) * sizeof *lens);
        if (!offs || !lens) {
            reply_store_error(c, ST_NOMEM);
            goto out;
        }
        long n = 0;
        for (long j = start; j <= end; j++) {
            if (!getop) {
                offs[n] = vec.v[j].off;
                lens[n++] = vec.v[j].len;
            }
            for (int g = 0; g < getop; g++) {
                size_t voff, vlen;
                int r = by_pattern(c, gets[g], &a, vec.v[j].off, vec.v[j].len, &voff, &vlen);
                if (r < 0) {
                    reply_store_error(c, ST_NOMEM);
                    goto out;
                }
                if (r == 0) {
                    voff = arena_add(&a, "", 0);
                    vlen = 0;
                }
                offs[n] = voff;
                lens[n++] = vlen;
            }
        }
        if (a.oom) {
            reply_store_error(c, ST_NOMEM);
            goto out;
        }
        rc = store_list(c, storekey, &a, offs, lens, n);
        if (rc != ST_OK) reply_store_error(c, rc);
        else reply_int(c, outputlen);
    }
out:
    free(offs);
    free(lens);
    free(vec.v);
    free(a.p);
    free(gets);
}

/* SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
 *   [ASC|DESC] [ALPHA] [STORE destination] */
void sort_command(client *c) { sort_generic(c, 0); }

/* SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
 *   [ASC|DESC] [ALPHA] */
void sort_ro_command(client *c) { sort_generic(c, 1); }
