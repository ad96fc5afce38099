/* cmd_geo.c — the GEO commands: GEOADD, GEODIST, GEOHASH, GEOPOS,
 * GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the _RO forms.
 *
 * A geospatial index is a sorted set whose scores are 52-bit geohashes
 * (storage/geohash.c has the arithmetic). GEOADD turns its triplets into
 * scores and hands a rewritten argument vector to ZADD, as Redis does, so
 * NX/XX/CH, the reply and the encoding rules are ZADD's own. Reads go
 * through the sorted-set storage API (storage/t_zset.h): point lookups for
 * GEOPOS/GEODIST/GEOHASH, score-range scans of at most nine geohash boxes
 * for searches (O(N + log M), N = members in the boxes). Results are
 * sorted by distance exactly as Redis sorts them, ties included: stably
 * (glibc's qsort is a merge sort) for a full sort, with Redis's partial
 * quicksort when COUNT cuts the result. Search stores write a fresh sorted set under a new id
 * and then replace the destination, so the destination may be the source. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/notify.h"
#include "server/args.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/geohash.h"
#include "storage/keyspace.h"
#include "storage/num.h"
#include "storage/t_zset.h"

#define K(i) c->argv[i].p, c->argv[i].len

/* ------------------------------------------------------------ helpers */

/* A unit name: metres per unit, or -1 after replying. */
static double unit_or_reply(client *c, const arg *a) {
    if (arg_is(a, "m")) return 1;
    if (arg_is(a, "km")) return 1000;
    if (arg_is(a, "ft")) return 0.3048;
    if (arg_is(a, "mi")) return 1609.34;
    reply_error(c, "unsupported unit provided. please use M, KM, FT, MI");
    return -1;
}

/* Longitude and latitude from a[0], a[1], checked against the limits. */
static int lonlat_or_reply(client *c, const arg *a, double xy[2]) {
    for (int i = 0; i < 2; i++)
        if (arg_double_or_reply(c, &a[i], &xy[i], NULL) != 0) return -1;
    if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN ||
        xy[1] > GEO_LAT_MAX) {
        reply_errorf(c, "-ERR invalid longitude,latitude pair %f,%f", xy[0], xy[1]);
        return -1;
    }
    return 0;
}

/* A coordinate as Redis prints it: %.17Lf with trailing zeros removed; a
 * bulk string in RESP2, a double in RESP3. (A reply helper taking a
 * preformatted double would avoid the raw bytes here.) */
static void reply_coord(client *c, double d) {
    char txt[400];
    int l = snprintf(txt + 1, sizeof txt - 3, "%.17Lf", (long double)d);
    if (l < 0 || l > (int)sizeof txt - 4) l = 0;
    char *p = txt + 1;
    if (memchr(p, '.', (size_t)l)) {
        while (l > 0 && p[l - 1] == '0') l--;
        if (l > 0 && p[l - 1] == '.') l--;
    }
    if (l == 2 && p[0] == '-' && p[1] == '0') {
        p[0] = '0';
        l = 1;
    }
    if (c->resp >= 3) {
        txt[0] = ',';
        p[l] = '\r';
        p[l + 1] = '\n';
        reply_raw(c, txt, (size_t)l + 3);
    } else {
        reply_bulk(c, p, (size_t)l);
    }
}

static void reply_distance(client *c, double d) {
    char txt[400];
    int l = snprintf(txt, sizeof txt, "%.4f", d);
    reply_bulk(c, txt, l > 0 ? (size_t)l : 0);
}

/* Open argv[i] as a zset for reading: 1 found (*id set), 0 missing, -1
 * after an error reply. */
static int zset_open(client *c, int i, uint64_t *id) {
    ks_meta m;
    int r = lookup_read_or_reply(c, i, KS_ZSET, &m);
    if (r == 1) {
        *id = m.id;
        ks_meta_release(&m);
    }
    return r;
}

/* Position of a member: 0, ST_NOTFOUND, or another storage error. */
static int member_xy(uint64_t id, const arg *m, double xy[2], double *score) {
    double s;
    int rc = tz_get(srv.ks, id, m->p, m->len, &s);
    if (rc != ST_OK) return rc;
    geo_decode_score(s, xy);
    if (score) *score = s;
    return ST_OK;
}

/* ------------------------------------------------------------- GEOADD */

/* GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...] */
void geoadd_command(client *c) {
    int nx = 0, xx = 0, longidx = 2;
    while (longidx < c->argc) {
        const arg *a = &c->argv[longidx];
        if (arg_is(a, "nx")) nx = 1;
        else if (arg_is(a, "xx")) xx = 1;
        else if (!arg_is(a, "ch")) break;
        longidx++;
    }
    if ((c->argc - longidx) % 3 || (xx && nx)) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    int elements = (c->argc - longidx) / 3;
    int argc = longidx + elements * 2;
    arg *argv = calloc((size_t)argc, sizeof *argv);
    char *scores = malloc((size_t)elements * 24 + 1);
    if (!argv || !scores) {
        free(argv);
        free(scores);
        reply_store_error(c, ST_NOMEM);
        return;
    }
    argv[0].p = (char *)"zadd";
    argv[0].len = 4;
    for (int i = 1; i < longidx; i++) argv[i] = c->argv[i];
    for (int i = 0; i < elements; i++) {
        double xy[2];
        if (lonlat_or_reply(c, &c->argv[longidx + i * 3], xy) != 0) goto out;
        geo_hash h;
        geo_encode_wgs84(xy[0], xy[1], GEO_STEP_MAX, &h);
        char *s = scores + (size_t)i * 24;
        size_t n = num_ull_to_str(s, 23, (unsigned long long)h.bits);
        s[n] = '\0';
        argv[longidx + i * 2].p = s;
        argv[longidx + i * 2].len = n;
        argv[longidx + i * 2 + 1] = c->argv[longidx + i * 3 + 2];
    }
    /* ZADD does the rest (options, WRONGTYPE, encoding, reply). */
    arg *saved = c->argv;
    int saved_argc = c->argc;
    c->argv = argv;
    c->argc = argc;
    zadd_command(c);
    c->argv = saved;
    c->argc = saved_argc;
out:
    free(argv);
    free(scores);
}

/* ---------------------------------------------------- point commands */

/* GEOPOS key [member [member ...]] */
void geopos_command(client *c) {
    uint64_t id = 0;
    int found = zset_open(c, 1, &id);
    if (found < 0) return;
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double xy[2];
        if (!found || member_xy(id, &c->argv[j], xy, NULL) != ST_OK) {
            reply_null_array(c);
            continue;
        }
        reply_array_len(c, 2);
        reply_coord(c, xy[0]);
        reply_coord(c, xy[1]);
    }
}

/* GEOHASH key [member [member ...]] */
void geohash_command(client *c) {
    uint64_t id = 0;
    int found = zset_open(c, 1, &id);
    if (found < 0) return;
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double s;
        if (!found || tz_get(srv.ks, id, c->argv[j].p, c->argv[j].len, &s) != ST_OK) {
            reply_null(c);
            continue;
        }
        char txt[12];
        geo_hash_string(s, txt);
        reply_bulk(c, txt, 11);
    }
}

/* GEODIST key member1 member2 [M|KM|FT|MI] */
void geodist_command(client *c) {
    double to_meter = 1;
    if (c->argc == 5) {
        to_meter = unit_or_reply(c, &c->argv[4]);
        if (to_meter < 0) return;
    } else if (c->argc > 5) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    uint64_t id = 0;
    int found = zset_open(c, 1, &id);
    if (found < 0) return;
    double a[2], b[2];
    if (!found || member_xy(id, &c->argv[2], a, NULL) != ST_OK ||
        member_xy(id, &c->argv[3], b, NULL) != ST_OK) {
        reply_null(c);
        return;
    }
    reply_distance(c, geo_distance(a[0], a[1], b[0], b[1]) / to_meter);
}

/* ----------------------------------------------------------- searches */

#define R_COORDS    (1 << 0) /* GEORADIUS: around coordinates */
#define R_MEMBER    (1 << 1) /* GEORADIUSBYMEMBER: around a member */
#define R_NOSTORE   (1 << 2) /* _RO forms: no STORE / STOREDIST */
#define R_SEARCH    (1 << 3) /* GEOSEARCH syntax */
#define R_SEARCHSTO (1 << 4) /* GEOSEARCHSTORE */

typedef struct gpoint {
    double lon, lat, dist, score;
    size_t moff, mlen; /* member bytes in the arena */
} gpoint;

typedef struct garray {
    gpoint *p;
    size_t n, cap;
    char *arena;
    size_t alen, acap;
    int oom;
} garray;

static void ga_add(garray *g, double xy[2], double dist, double score, const uint8_t *m,
                   size_t ml) {
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        gpoint *np = realloc(g->p, cap * sizeof *np);
        if (!np) {
            g->oom = 1;
            return;
        }
        g->p = np;
        g->cap = cap;
    }
    if (g->alen + ml > g->acap) {
        size_t cap = g->acap ? g->acap * 2 : 1024;
        while (cap < g->alen + ml) cap *= 2;
        char *na = realloc(g->arena, cap);
        if (!na) {
            g->oom = 1;
            return;
        }
        g->arena = na;
        g->acap = cap;
    }
    if (ml) memcpy(g->arena + g->alen, m, ml);
    gpoint *p = &g->p[g->n++];
    p->lon = xy[0];
    p->lat = xy[1];
    p->dist = dist;
    p->score = score;
    p->moff = g->alen;
    p->mlen = ml;
    g->alen += ml;
}

/* Members of one box that lie in the shape, in score order; stops when
 * limit (> 0) points were gathered. */
static int scan_box(uint64_t id, geo_hash box, const geo_shape *s, garray *g, size_t limit) {
    uint64_t min, max;
    geo_score_range(box, &min, &max);
    tz_iter it;
    int rc = tz_iter_open(&it, srv.ks, id, 0);
    if (rc != ST_OK) return rc;
    rc = tz_iter_seek_score(&it, (double)min, 0);
    while (rc == ST_OK && tz_iter_valid(&it)) {
        double score = tz_iter_score(&it);
        if (!(score < (double)max)) break;
        double xy[2], dist = 0;
        geo_decode_score(score, xy);
        if (geo_in_shape(s, xy[0], xy[1], &dist)) {
            size_t ml;
            const uint8_t *m = tz_iter_member(&it, &ml);
            ga_add(g, xy, dist, score, m, ml);
            if (g->n && limit && g->n >= limit) break;
        }
        rc = tz_iter_next(&it);
    }
    if (rc == ST_NOTFOUND) rc = ST_OK;
    if (rc == ST_OK && it.err) rc = it.err;
    tz_iter_close(&it);
    return rc;
}

static int scan_all(uint64_t id, const geo_shape *s, garray *g, size_t limit) {
    geo_hash boxes[9];
    geo_boxes(s, boxes);
    unsigned last = 0;
    for (unsigned i = 0; i < 9; i++) {
        if (boxes[i].bits == 0 && boxes[i].step == 0) continue;
        /* Huge radii make neighbours coincide: skip a box equal to the one
         * scanned just before (index 0 never compares, as in Redis). */
        if (last && boxes[i].bits == boxes[last].bits && boxes[i].step == boxes[last].step)
            continue;
        if (g->n && limit && g->n >= limit) break;
        int rc = scan_box(id, boxes[i], s, g, limit);
        if (rc != ST_OK) return rc;
        last = i;
    }
    return ST_OK;
}

/* Stable merge sort by distance (ascending, or descending when desc). */
static void sort_points(gpoint *p, size_t n, int desc) {
    if (n < 2) return;
    gpoint *tmp = malloc(n * sizeof *tmp);
    if (!tmp) return;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                int take_right = desc ? p[j].dist > p[i].dist : p[j].dist < p[i].dist;
                tmp[k++] = take_right ? p[j++] : p[i++];
            }
            while (i < mid) tmp[k++] = p[i++];
            while (j < hi) tmp[k++] = p[j++];
        }
        memcpy(p, tmp, n * sizeof *p);
    }
    free(tmp);
}

/* Partial sort for COUNT: only positions [lo, hi] must end up in order.
 * This is the Bentley-McIlroy quicksort (median of three, ninther above 40
 * elements, three-way partition, insertion sort below 7) that skips
 * partitions outside [lo, hi], as Redis uses for COUNT; following the same
 * steps matters because it decides which of several points at the same
 * distance make the cut. */
static int gp_cmp(const gpoint *a, const gpoint *b, int desc) {
    int r = a->dist == b->dist ? 0 : (a->dist > b->dist ? 1 : -1);
    return desc ? -r : r;
}

static void gp_swap(gpoint *p, size_t i, size_t j) {
    gpoint t = p[i];
    p[i] = p[j];
    p[j] = t;
}

static void gp_vecswap(gpoint *p, size_t i, size_t j, size_t n) {
    while (n--) gp_swap(p, i++, j++);
}

static size_t gp_med3(gpoint *p, size_t a, size_t b, size_t c, int desc) {
    return gp_cmp(&p[a], &p[b], desc) < 0
               ? (gp_cmp(&p[b], &p[c], desc) < 0 ? b : (gp_cmp(&p[a], &p[c], desc) < 0 ? c : a))
               : (gp_cmp(&p[b], &p[c], desc) > 0 ? b : (gp_cmp(&p[a], &p[c], desc) < 0 ? a : c));
}

static void partial_sort(gpoint *p, size_t a, size_t n, size_t lo, size_t hi, int desc) {
    for (;;) {
        if (n < 7) {
            for (size_t m = a + 1; m < a + n; m++)
                for (size_t l = m; l > a && gp_cmp(&p[l - 1], &p[l], desc) > 0; l--)
                    gp_swap(p, l, l - 1);
            return;
        }
        size_t pm = a + n / 2;
        if (n > 7) {
            size_t pl = a, pn = a + n - 1;
            if (n > 40) {
                size_t d = n / 8;
                pl = gp_med3(p, pl, pl + d, pl + 2 * d, desc);
                pm = gp_med3(p, pm - d, pm, pm + d, desc);
                pn = gp_med3(p, pn - 2 * d, pn - d, pn, desc);
            }
            pm = gp_med3(p, pl, pm, pn, desc);
        }
        gp_swap(p, a, pm);
        size_t pa = a + 1, pb = a + 1, pc = a + n - 1, pd = a + n - 1;
        int r;
        for (;;) {
            while (pb <= pc && (r = gp_cmp(&p[pb], &p[a], desc)) <= 0) {
                if (r == 0) gp_swap(p, pa++, pb);
                pb++;
            }
            while (pb <= pc && (r = gp_cmp(&p[pc], &p[a], desc)) >= 0) {
                if (r == 0) gp_swap(p, pc, pd--);
                pc--;
            }
            if (pb > pc) break;
            gp_swap(p, pb++, pc--);
        }
        size_t pn = a + n, s;
        s = pa - a < pb - pa ? pa - a : pb - pa;
        gp_vecswap(p, a, pb - s, s);
        s = pd - pc < pn - pd - 1 ? pd - pc : pn - pd - 1;
        gp_vecswap(p, pb, pn - s, s);
        if ((s = pb - pa) > 1) {
            size_t l = a, rr = a + s - 1;
            if (!((lo < l && hi < l) || (lo > rr && hi > rr))) partial_sort(p, a, s, lo, hi, desc);
        }
        if ((s = pd - pc) > 1) {
            a = pn - s;
            n = s;
            size_t l = a, rr = a + s - 1;
            if (!((lo < l && hi < l) || (lo > rr && hi > rr))) continue;
        }
        return;
    }
}

/* Redis's events for a store: `event` for a written result, "del" for a
 * deleted destination (deleted: what ks_delete returned). */
static void store_notify(client *c, const arg *dst, int flags, long n, int deleted) {
    if (n) {
        notify_keyspace_event(NOTIFY_ZSET, flags & R_SEARCH ? "geosearchstore" : "georadiusstore",
                              dst->p, dst->len, c->db);
    } else if (deleted > 0) {
        notify_keyspace_event(NOTIFY_GENERIC, "del", dst->p, dst->len, c->db);
    }
}

/* Write the points as a new sorted set at argv[dsti] (replacing whatever
 * it holds, TTL included), or delete it when there are none; then publish
 * the store's event. */
static int store_points(client *c, const arg *dst, garray *g, long n, int storedist, int flags) {
    if (n == 0) {
        int rc = ks_delete(srv.ks, c->db, dst->p, dst->len);
        if (rc >= 0) store_notify(c, dst, flags, 0, rc);
        return rc < 0 ? rc : ST_OK;
    }
    uint64_t id = ks_new_id(srv.ks), count = 0;
    size_t maxlen = 0;
    for (long i = 0; i < n; i++) {
        gpoint *p = &g->p[i];
        const char *m = g->arena + p->moff;
        double score = storedist ? p->dist : p->score, old;
        int rc = tz_get(srv.ks, id, m, p->mlen, &old);
        if (rc == ST_OK) {
            rc = tz_put(srv.ks, id, m, p->mlen, score, &old);
        } else if (rc == ST_NOTFOUND) {
            rc = tz_put(srv.ks, id, m, p->mlen, score, NULL);
            count++;
        }
        if (rc != ST_OK) return rc;
        if (p->mlen > maxlen) maxlen = p->mlen;
    }
    int rc = tz_rank_maintain(srv.ks, id, count);
    if (rc) return rc;
    uint8_t zflags = ((long long)count > cfg.zset_max_listpack_entries ||
                      (long long)maxlen > cfg.zset_max_listpack_value)
                         ? TZ_F_SKIPLIST
                         : 0;
    ks_meta m = {0};
    m.type = KS_ZSET;
    m.id = id;
    m.count = count;
    m.hdr = &zflags;
    m.hdrlen = TZ_HDR_LEN;
    /* Overwrites the destination (its old members go to the trash). */
    rc = ks_write_meta(srv.ks, c->db, dst->p, dst->len, &m);
    if (rc == ST_OK) store_notify(c, dst, flags, n, 0);
    return rc;
}

static void search_generic(client *c, int srci, int flags) {
    const arg *storekey = NULL;
    int storedist = 0, base;
    geo_shape shape;
    uint64_t id = 0;
    memset(&shape, 0, sizeof shape);

    int found = zset_open(c, srci, &id);
    if (found < 0) return;

    if (flags & R_COORDS) {
        base = 6;
        shape.type = GEO_SHAPE_CIRCLE;
        if (lonlat_or_reply(c, &c->argv[2], shape.xy) != 0) return;
        if (arg_double_or_reply(c, &c->argv[4], &shape.radius, "need numeric radius") != 0)
            return;
        if (shape.radius < 0) {
            reply_error(c, "radius cannot be negative");
            return;
        }
        if ((shape.conversion = unit_or_reply(c, &c->argv[5])) < 0) return;
    } else if (flags & R_MEMBER) {
        base = 5;
        if (found) {
            shape.type = GEO_SHAPE_CIRCLE;
            if (member_xy(id, &c->argv[2], shape.xy, NULL) != ST_OK) {
                reply_error(c, "could not decode requested zset member");
                return;
            }
            if (arg_double_or_reply(c, &c->argv[3], &shape.radius, "need numeric radius") != 0)
                return;
            if (shape.radius < 0) {
                reply_error(c, "radius cannot be negative");
                return;
            }
            if ((shape.conversion = unit_or_reply(c, &c->argv[4])) < 0) return;
        }
    } else if (flags & R_SEARCHSTO) {
        base = 3;
        storekey = &c->argv[1];
    } else {
        base = 2;
    }

    int withdist = 0, withhash = 0, withcoord = 0, any = 0, sort = 0; /* 1 asc, 2 desc */
    int frommember = 0, fromloc = 0, byradius = 0, bybox = 0;
    long long count = 0;
    int remaining = c->argc - base;
    for (int i = 0; i < remaining; i++) {
        const arg *a = &c->argv[base + i];
        if (arg_is(a, "withdist")) {
            withdist = 1;
        } else if (arg_is(a, "withhash")) {
            withhash = 1;
        } else if (arg_is(a, "withcoord")) {
            withcoord = 1;
        } else if (arg_is(a, "any")) {
            any = 1;
        } else if (arg_is(a, "asc")) {
            sort = 1;
        } else if (arg_is(a, "desc")) {
            sort = 2;
        } else if (arg_is(a, "count") && i + 1 < remaining) {
            if (arg_ll_or_reply(c, &c->argv[base + i + 1], &count, NULL) != 0) return;
            if (count <= 0) {
                reply_error(c, "COUNT must be > 0");
                return;
            }
            i++;
        } else if (arg_is(a, "store") && i + 1 < remaining && !(flags & R_NOSTORE) &&
                   !(flags & R_SEARCH)) {
            storekey = &c->argv[base + i + 1];
            storedist = 0;
            i++;
        } else if (arg_is(a, "storedist") && i + 1 < remaining && !(flags & R_NOSTORE) &&
                   !(flags & R_SEARCH)) {
            storekey = &c->argv[base + i + 1];
            storedist = 1;
            i++;
        } else if (arg_is(a, "storedist") && (flags & R_SEARCH) && (flags & R_SEARCHSTO)) {
            storedist = 1;
        } else if (arg_is(a, "frommember") && i + 1 < remaining && (flags & R_SEARCH) &&
                   !fromloc) {
            if (found && member_xy(id, &c->argv[base + i + 1], shape.xy, NULL) != ST_OK) {
                reply_error(c, "could not decode requested zset member");
                return;
            }
            frommember = 1;
            i++;
        } else if (arg_is(a, "fromlonlat") && i + 2 < remaining && (flags & R_SEARCH) &&
                   !frommember) {
            if (lonlat_or_reply(c, &c->argv[base + i + 1], shape.xy) != 0) return;
            fromloc = 1;
            i += 2;
        } else if (arg_is(a, "byradius") && i + 2 < remaining && (flags & R_SEARCH) && !bybox) {
            if (arg_double_or_reply(c, &c->argv[base + i + 1], &shape.radius,
                                    "need numeric radius") != 0)
                return;
            if (shape.radius < 0) {
                reply_error(c, "radius cannot be negative");
                return;
            }
            if ((shape.conversion = unit_or_reply(c, &c->argv[base + i + 2])) < 0) return;
            shape.type = GEO_SHAPE_CIRCLE;
            byradius = 1;
            i += 2;
        } else if (arg_is(a, "bybox") && i + 3 < remaining && (flags & R_SEARCH) && !byradius) {
            double w, h;
            if (arg_double_or_reply(c, &c->argv[base + i + 1], &w, "need numeric width") != 0 ||
                arg_double_or_reply(c, &c->argv[base + i + 2], &h, "need numeric height") != 0)
                return;
            if (h < 0 || w < 0) {
                reply_error(c, "height or width cannot be negative");
                return;
            }
            shape.width = w;
            shape.height = h;
            if ((shape.conversion = unit_or_reply(c, &c->argv[base + i + 3])) < 0) return;
            shape.type = GEO_SHAPE_BOX;
            bybox = 1;
            i += 3;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }

    if (storekey && (withdist || withhash || withcoord)) {
        reply_errorf(c, "%s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                     (flags & R_SEARCHSTO) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return;
    }
    if ((flags & R_SEARCH) && !(frommember || fromloc)) {
        reply_errorf(c, "exactly one of FROMMEMBER or FROMLONLAT can be specified for %.*s",
                     (int)c->argv[0].len, c->argv[0].p);
        return;
    }
    if ((flags & R_SEARCH) && !(byradius || bybox)) {
        reply_errorf(c, "exactly one of BYRADIUS and BYBOX can be specified for %.*s",
                     (int)c->argv[0].len, c->argv[0].p);
        return;
    }
    if (any && !count) {
        reply_error(c, "the ANY argument requires COUNT argument");
        return;
    }

    if (!found) {
        if (storekey) {
            int rc = store_points(c, storekey, NULL, 0, 0, flags);
            if (rc < 0) {
                reply_store_error(c, rc);
                return;
            }
            reply_int(c, 0);
        } else {
            reply_empty_array(c);
        }
        return;
    }

    if (count != 0 && sort == 0 && !any) sort = 1;

    garray g = {0};
    int rc = scan_all(id, &shape, &g, any ? (size_t)count : 0);
    if (rc == ST_OK && g.oom) rc = ST_NOMEM;
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        goto out;
    }
    if (g.n == 0 && !storekey) {
        reply_empty_array(c);
        goto out;
    }
    long total = (long)g.n;
    long returned = (count == 0 || total < count) ? total : (long)count;
    if (sort) {
        if (returned == total) sort_points(g.p, g.n, sort == 2);
        else partial_sort(g.p, 0, g.n, 0, (size_t)returned - 1, sort == 2);
    }

    if (!storekey) {
        int opts = withdist + withcoord + withhash;
        reply_array_len(c, returned);
        for (long i = 0; i < returned; i++) {
            gpoint *p = &g.p[i];
            p->dist /= shape.conversion;
            if (opts) reply_array_len(c, opts + 1);
            reply_bulk(c, g.arena + p->moff, p->mlen);
            if (withdist) reply_distance(c, p->dist);
            if (withhash) reply_int(c, (long long)p->score);
            if (withcoord) {
                reply_array_len(c, 2);
                reply_coord(c, p->lon);
                reply_coord(c, p->lat);
            }
        }
    } else {
        for (long i = 0; i < returned; i++) g.p[i].dist /= shape.conversion;
        rc = store_points(c, storekey, &g, returned, storedist, flags);
        if (rc != ST_OK) reply_store_error(c, rc);
        else reply_int(c, returned);
    }
out:
    free(g.p);
    free(g.arena);
}

/* GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST]
 *   [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key] */
void georadius_command(client *c) { search_generic(c, 1, R_COORDS); }

/* GEORADIUS_RO key longitude latitude radius M|KM|FT|MI [WITHCOORD]
 *   [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] */
void georadius_ro_command(client *c) { search_generic(c, 1, R_COORDS | R_NOSTORE); }

/* GEORADIUSBYMEMBER key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST]
 *   [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key] */
void georadiusbymember_command(client *c) { search_generic(c, 1, R_MEMBER); }

/* GEORADIUSBYMEMBER_RO key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST]
 *   [WITHHASH] [COUNT count [ANY]] [ASC|DESC] */
void georadiusbymember_ro_command(client *c) { search_generic(c, 1, R_MEMBER | R_NOSTORE); }

/* GEOSEARCH key FROMMEMBER member|FROMLONLAT longitude latitude
 *   BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC]
 *   [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH] */
void geosearch_command(client *c) { search_generic(c, 1, R_SEARCH); }

/* GEOSEARCHSTORE destination source FROMMEMBER member|FROMLONLAT longitude
 *   latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI
 *   [ASC|DESC] [COUNT count [ANY]] [STOREDIST] */
void geosearchstore_command(client *c) { search_generic(c, 2, R_SEARCH | R_SEARCHSTO); }
