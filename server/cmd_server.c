/* cmd_server.c — server administration: TIME, LASTSAVE, SAVE, BGSAVE,
 * SHUTDOWN, MONITOR, DEBUG, and the server family's init (MONITOR's
 * client-close hook, INFO's cron sampling).
 *
 * Persistence in lodis: every acknowledged write is already in the WAL, and a
 * checkpoint applies the memtable to LMDB in one synced transaction; so
 * durability never needs a save (server_save() is a checkpoint: SHUTDOWN,
 * DEBUG RELOAD). SAVE and BGSAVE make what a Redis user makes them for, a
 * snapshot to back up: after a checkpoint, a compacted copy of the LMDB
 * environment into the directory `dir`/`dbfilename`, a complete data
 * directory that lodis-server --dir opens as it is (storage/snapshot.c).
 * BGSAVE copies on a thread (no fork: LMDB's read transaction is the
 * point-in-time view), while INFO shows rdb_bgsave_in_progress:1.
 *
 * DEBUG has the subcommands clients and test suites lean on; the ones about
 * Redis's in-memory encodings (JMAP, LISTPACK, QUICKLIST-PACKED-THRESHOLD,
 * HTSTATS, ...) and the crash helpers get Redis's unknown-subcommand error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/args.h"
#include "server/buf.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/hooks.h"
#include "server/latency.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/keyspace.h"
#include "storage/num.h"

/* srv.shutdown_flags bits, as SHUTDOWN was given them. */
#define SHUTDOWN_NOSAVE 1
#define SHUTDOWN_SAVE   2
#define SHUTDOWN_NOW    4
#define SHUTDOWN_FORCE  8

/* ------------------------------------------------------------------ */
/* family init: MONITOR bookkeeping, INFO sampling                      */

static void monitor_remove(client *c) {
    if (!(c->flags & CLIENT_MONITOR)) return;
    for (int i = 0; i < srv.nmonitors; i++) {
        if (srv.monitors[i] != c) continue;
        memmove(srv.monitors + i, srv.monitors + i + 1,
                (size_t)(srv.nmonitors - i - 1) * sizeof *srv.monitors);
        srv.nmonitors--;
        break;
    }
    c->flags &= ~CLIENT_MONITOR;
}

void server_family_init(void);
void server_family_shutdown(void);

void server_family_init(void) {
    info_init();
    hooks_on_client_close(monitor_remove);
    hooks_on_cron(info_cron);
    hooks_on_cron(bgsave_cron);
}

void server_family_shutdown(void) {
    latency_free_all();
}

/* ------------------------------------------------------------------ */
/* TIME, LASTSAVE, SAVE, BGSAVE, SHUTDOWN, MONITOR                      */

/* TIME */
void time_command(client *c) {
    int64_t us = ustime();
    reply_array_len(c, 2);
    reply_bulk_ll(c, (long long)(us / 1000000));
    reply_bulk_ll(c, (long long)(us % 1000000));
}

/* LASTSAVE */
void lastsave_command(client *c) {
    reply_int(c, (long long)srv.lastsave);
}

/* Where SAVE and BGSAVE put the snapshot: dir/dbfilename. */
static void snapshot_path(char *out, size_t cap) {
    snprintf(out, cap, "%s/%s", cfg.dir, cfg.dbfilename);
}

/* SAVE */
void save_command(client *c) {
    char path[4096];
    snapshot_path(path, sizeof path);
    int rc = store_snapshot(srv.st, path);
    if (rc == ST_BUSY) {
        reply_error(c, "Background save already in progress");
        return;
    }
    if (rc != ST_OK) {
        server_log(3, "SAVE to %s failed: %s", path, store_strerror(rc));
        reply_error(c, "-ERR"); /* Redis's bare "-ERR"; the log says why */
        return;
    }
    srv.lastsave = mstime() / 1000;
    srv.dirty = 0;
    reply_ok(c);
}

/* BGSAVE [SCHEDULE] */
void bgsave_command(client *c) {
    int schedule = 0;
    if (c->argc > 2 || (c->argc == 2 && !(schedule = arg_is(&c->argv[1], "schedule")))) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    int last_rc;
    int64_t last_ms;
    if (store_snapshot_state(srv.st, &last_rc, &last_ms)) {
        if (schedule) {
            srv.bgsave_scheduled = 1;
            reply_status(c, "Background saving scheduled");
        } else {
            reply_error(c, "Background save already in progress");
        }
        return;
    }
    if (bgsave_start() != 0) {
        reply_error(c, "-ERR");
        return;
    }
    reply_status(c, "Background saving started");
}

int bgsave_start(void) {
    char path[4096];
    snapshot_path(path, sizeof path);
    int rc = store_snapshot_start(srv.st, path);
    if (rc != ST_OK) {
        server_log(3, "BGSAVE to %s failed to start: %s", path, store_strerror(rc));
        return -1;
    }
    srv.bgsave_started_ms = mstime();
    srv.bgsave_dirty = srv.dirty;
    server_log(2, "Background saving started: %s", path);
    return 0;
}

/* Cron: notice a finished BGSAVE (LASTSAVE, dirty count, log) and start a
 * scheduled one. */
void bgsave_cron(void) {
    int last_rc;
    int64_t last_ms;
    if (store_snapshot_state(srv.st, &last_rc, &last_ms)) return;
    if (srv.bgsave_started_ms) {
        srv.bgsave_started_ms = 0;
        if (last_rc == ST_OK) {
            srv.lastsave = mstime() / 1000;
            srv.dirty = srv.dirty >= srv.bgsave_dirty ? srv.dirty - srv.bgsave_dirty : 0;
            server_log(2, "Background saving terminated with success (%lld ms)", (long long)last_ms);
        } else {
            server_log(3, "Background saving error: %s", store_strerror(last_rc));
        }
    }
    if (srv.bgsave_scheduled) {
        srv.bgsave_scheduled = 0;
        bgsave_start();
    }
}

/* SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
 * Sets srv.shutdown_asap: the main loop ends the tick (commit, replies to
 * other clients), checkpoints and exits. The caller gets no reply, like
 * Redis: its connection closes. NOSAVE skips nothing that matters — every
 * acknowledged write is in the WAL and is replayed at the next start — and
 * NOW/FORCE have nothing to skip (no replicas to wait for, no save that can
 * fail in a way that loses data). There is never a shutdown "in progress"
 * to ABORT. */
void shutdown_command(client *c) {
    int flags = 0, abort_req = 0;
    for (int i = 1; i < c->argc; i++) {
        if (arg_is(&c->argv[i], "nosave"))
            flags |= SHUTDOWN_NOSAVE;
        else if (arg_is(&c->argv[i], "save"))
            flags |= SHUTDOWN_SAVE;
        else if (arg_is(&c->argv[i], "now"))
            flags |= SHUTDOWN_NOW;
        else if (arg_is(&c->argv[i], "force"))
            flags |= SHUTDOWN_FORCE;
        else if (arg_is(&c->argv[i], "abort"))
            abort_req = 1;
        else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if ((abort_req && flags) || ((flags & SHUTDOWN_NOSAVE) && (flags & SHUTDOWN_SAVE))) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (abort_req) {
        reply_error(c, "No shutdown in progress.");
        return;
    }
    if (srv.busy_script) {
        if (!(flags & SHUTDOWN_NOSAVE)) {
            reply_error(c, ERR_BUSY(srv.busy_script));
            return;
        }
        /* Stop here, inside the script: the tick's WAL batch, which holds
         * the script's writes, is never written, so none of them survive.
         * Everything acknowledged is in the WAL already (replies made in
         * this tick are held back until its commit). */
        server_log(3, "SHUTDOWN NOSAVE during a busy script, requested by client %s: exiting "
                      "without committing its writes", c->addr);
        if (cfg.pidfile && cfg.pidfile[0]) unlink(cfg.pidfile);
        _exit(0);
    }
    server_log(2, "SHUTDOWN%s%s%s%s requested by client %s",
               flags & SHUTDOWN_NOSAVE ? " NOSAVE" : "", flags & SHUTDOWN_SAVE ? " SAVE" : "",
               flags & SHUTDOWN_NOW ? " NOW" : "", flags & SHUTDOWN_FORCE ? " FORCE" : "", c->addr);
    srv.shutdown_flags = flags;
    srv.shutdown_asap = 1;
}

/* MONITOR */
void monitor_command(client *c) {
    if (c->flags & (CLIENT_MULTI | CLIENT_SCRIPT)) {
        reply_error(c, "MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (c->flags & CLIENT_MONITOR) return; /* already monitoring: Redis says nothing */
    if (srv.nmonitors == srv.monitors_cap) {
        int nc = srv.monitors_cap ? srv.monitors_cap * 2 : 4;
        client **nm = realloc(srv.monitors, (size_t)nc * sizeof *nm);
        if (!nm) {
            reply_error(c, "-OOM out of memory");
            return;
        }
        srv.monitors = nm;
        srv.monitors_cap = nc;
    }
    srv.monitors[srv.nmonitors++] = c;
    c->flags |= CLIENT_MONITOR;
    reply_ok(c);
}

/* ------------------------------------------------------------------ */
/* SHA-1 (FIPS 180-1), for DEBUG DIGEST                                 */

typedef struct sha1_ctx {
    uint32_t h[5];
    uint64_t len; /* bytes */
    uint8_t blk[64];
    size_t used;
} sha1_ctx;

static uint32_t rol32(uint32_t x, int n) {
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(sha1_ctx *s, const uint8_t *p) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20)
            f = (b & c) | (~b & d), k = 0x5A827999;
        else if (i < 40)
            f = b ^ c ^ d, k = 0x6ED9EBA1;
        else if (i < 60)
            f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
        else
            f = b ^ c ^ d, k = 0xCA62C1D6;
        uint32_t t = rol32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = t;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
}

static void sha1_init(sha1_ctx *s) {
    static const uint32_t iv[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->used = 0;
}

static void sha1_update(sha1_ctx *s, const void *data, size_t n) {
    const uint8_t *p = data;
    s->len += n;
    while (n) {
        size_t take = 64 - s->used < n ? 64 - s->used : n;
        memcpy(s->blk + s->used, p, take);
        s->used += take;
        p += take;
        n -= take;
        if (s->used == 64) {
            sha1_block(s, s->blk);
            s->used = 0;
        }
    }
}

static void sha1_final(sha1_ctx *s, uint8_t out[20]) {
    uint64_t bits = s->len * 8;
    uint8_t pad = 0x80, zero = 0;
    sha1_update(s, &pad, 1);
    while (s->used != 56) sha1_update(s, &zero, 1);
    uint8_t lenb[8];
    for (int i = 0; i < 8; i++) lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha1_update(s, lenb, 8);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

/* A length-prefixed chunk, so that ("ab","c") and ("a","bc") differ. */
static void sha1_chunk(sha1_ctx *s, const void *p, size_t n) {
    uint8_t l[8];
    num_be64_put(l, (uint64_t)n);
    sha1_update(s, l, 8);
    if (n) sha1_update(s, p, n);
}

static void hex40(const uint8_t d[20], char out[41]) {
    for (int i = 0; i < 20; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ------------------------------------------------------------------ */
/* collection members: the `sub` range of a collection id               */

typedef int (*member_fn)(
    void *ud, const uint8_t *sub, size_t sublen, const uint8_t *v, size_t vlen);

/* Visit id·* in `sub` in key order; sub excludes the 8-byte id. */
static int for_members(uint64_t id, member_fn fn, void *ud) {
    store_cursor *cur;
    int rc = store_cursor_open(srv.st, ST_DBI_SUB, &cur);
    if (rc) return rc;
    uint8_t pfx[8];
    num_be64_put(pfx, id);
    for (rc = store_cursor_seek(cur, pfx, 8); rc == ST_OK; rc = store_cursor_next(cur)) {
        const uint8_t *k, *v;
        size_t kl, vl;
        if (store_cursor_get(cur, &k, &kl, &v, &vl) != ST_OK) break;
        if (kl < 8 || memcmp(k, pfx, 8) != 0) break;
        if (fn(ud, k + 8, kl - 8, v, vl)) break;
    }
    store_cursor_close(cur);
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* DEBUG DIGEST / DIGEST-VALUE                                          */

typedef struct digest_walk {
    sha1_ctx *s;
    int list;
} digest_walk;

static int
digest_member(void *ud, const uint8_t *sub, size_t sublen, const uint8_t *v, size_t vlen) {
    digest_walk *w = ud;
    /* A list's positions depend on its push history, not its content: only
     * the elements, in order, go into the digest. */
    if (!w->list) sha1_chunk(w->s, sub, sublen);
    sha1_chunk(w->s, v, vlen);
    return 0;
}

/* The value's digest input: type, then the string or the members. */
static void digest_value(sha1_ctx *s, const ks_meta *m) {
    uint8_t t = m->type;
    sha1_update(s, &t, 1);
    if (m->type == KS_STRING) {
        sha1_chunk(s, m->val, m->vlen);
        return;
    }
    uint8_t cnt[8];
    num_be64_put(cnt, m->count);
    sha1_update(s, cnt, 8);
    digest_walk w = {s, m->type == KS_LIST};
    for_members(m->id, digest_member, &w);
}

typedef struct db_digest {
    int db;
    uint8_t acc[20];
    int any;
} db_digest;

static int digest_key(void *ud, const uint8_t *key, size_t klen, const ks_meta *scanned) {
    db_digest *d = ud;
    ks_meta full;
    const ks_meta *m = scanned;
    int peeked = 0;
    if (scanned->type == KS_STRING && (scanned->flags & KS_F_COMPRESSED)) {
        if (ks_peek(srv.ks, d->db, key, klen, &full) != ST_OK) return 0;
        m = &full;
        peeked = 1;
    }
    sha1_ctx s;
    sha1_init(&s);
    uint8_t hdr[9];
    hdr[0] = (uint8_t)d->db;
    num_be64_put(hdr + 1, (uint64_t)m->expire);
    sha1_update(&s, hdr, sizeof hdr);
    sha1_chunk(&s, key, klen);
    digest_value(&s, m);
    uint8_t out[20];
    sha1_final(&s, out);
    /* XOR: the result does not depend on the order keys are visited in. */
    for (int i = 0; i < 20; i++) d->acc[i] ^= out[i];
    d->any = 1;
    if (peeked) ks_meta_release(&full);
    return 0;
}

static void debug_digest(client *c) {
    db_digest d;
    memset(&d, 0, sizeof d);
    int ndb = ks_databases(srv.ks);
    for (int db = 0; db < ndb; db++) {
        if (ks_dbsize(srv.ks, db) == 0) continue;
        d.db = db;
        uint8_t cursor[1024];
        size_t curlen = 0;
        int done = 0;
        while (!done) {
            if (ks_scan(srv.ks, db, cursor, &curlen, sizeof cursor, 1000, digest_key, &d, &done) !=
                ST_OK)
                break;
        }
    }
    char hex[41];
    uint8_t zero[20] = {0};
    hex40(d.any ? d.acc : zero, hex);
    reply_status(c, hex);
}

static void debug_digest_value(client *c) {
    reply_array_len(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        uint8_t out[20] = {0};
        ks_meta m;
        if (ks_lookup(srv.ks, c->db, c->argv[i].p, c->argv[i].len, KS_NONE, &m) == ST_OK) {
            sha1_ctx s;
            sha1_init(&s);
            digest_value(&s, &m);
            sha1_final(&s, out);
            ks_meta_release(&m);
        }
        char hex[41];
        hex40(out, hex);
        reply_status(c, hex);
    }
}

/* ------------------------------------------------------------------ */
/* DEBUG OBJECT: Redis's encodings and RDB sizes, estimated from content */

/* Bytes of an RDB length prefix. */
static size_t rdb_len_size(uint64_t n) {
    return n < 64 ? 1 : n < 16384 ? 2 : n <= 0xFFFFFFFFULL ? 5 : 9;
}

/* A canonical integer that Redis would store as a number. */
static int as_integer(const uint8_t *p, size_t n, long long *v) {
    if (n == 0 || n > 20) return 0;
    if (num_parse_ll((const char *)p, n, v) != 0) return 0;
    char tmp[32];
    size_t l = num_ll_to_str(tmp, sizeof tmp, *v);
    return l == n && !memcmp(tmp, p, n);
}

/* RDB size of a string value: integer encoding when it fits 32 bits, else
 * length + bytes (Redis would LZF-compress strings over 20 bytes; lodis
 * reports the uncompressed size). */
static size_t rdb_string_size(const uint8_t *p, size_t n) {
    long long v;
    if (as_integer(p, n, &v) && n <= 11) {
        if (v >= -128 && v <= 127) return 2;
        if (v >= -32768 && v <= 32767) return 3;
        if (v >= -2147483648LL && v <= 2147483647LL) return 5;
    }
    return rdb_len_size(n) + n;
}

/* Bytes of one listpack entry holding these bytes. */
static size_t lp_entry_size(const uint8_t *p, size_t n) {
    long long v;
    size_t enc;
    if (as_integer(p, n, &v)) {
        if (v >= 0 && v <= 127)
            enc = 1;
        else if (v >= -4096 && v <= 4095)
            enc = 2;
        else if (v >= -32768 && v <= 32767)
            enc = 3;
        else if (v >= -8388608 && v <= 8388607)
            enc = 4;
        else if (v >= -2147483648LL && v <= 2147483647LL)
            enc = 5;
        else
            enc = 9;
    } else {
        enc = (n <= 63 ? 1 : n <= 4095 ? 2 : 5) + n;
    }
    size_t back = enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2097151 ? 3 : enc < 268435455 ? 4 : 5;
    return enc + back;
}

#define LP_OVERHEAD 7 /* listpack header (6) + end byte */

typedef struct obj_walk {
    int type;
    uint64_t n;
    int all_int;        /* set: every member a canonical integer */
    size_t int_width;   /* set: intset element width needed (2, 4, 8) */
    size_t max_len;     /* longest field/value/member */
    size_t lp_bytes;    /* as one listpack */
    size_t table_bytes; /* as hash table / skiplist in RDB */
    size_t stream_bytes;
    /* lists: quicklist packing */
    long fill;
    size_t node_bytes, node_entries, nodes, ql_bytes, ql_rdb;
} obj_walk;

static void ql_close_node(obj_walk *w) {
    if (!w->node_entries) return;
    size_t b = w->node_bytes + LP_OVERHEAD;
    w->nodes++;
    w->ql_bytes += b;
    w->ql_rdb += 1 + rdb_len_size(b) + b;
    w->node_bytes = w->node_entries = 0;
}

static int obj_member(void *ud, const uint8_t *sub, size_t sublen, const uint8_t *v, size_t vlen) {
    obj_walk *w = ud;
    switch (w->type) {
    case KS_LIST: {
        size_t e = lp_entry_size(v, vlen);
        int full;
        if (w->fill > 0)
            full = w->node_entries >= (size_t)w->fill;
        else {
            size_t limit = (size_t)4096 << (-w->fill - 1 > 4 ? 4 : -w->fill - 1);
            full = w->node_entries && w->node_bytes + e + LP_OVERHEAD > limit;
        }
        if (full) ql_close_node(w);
        w->node_bytes += e;
        w->node_entries++;
        w->n++;
        break;
    }
    case KS_HASH:
        if (sublen > w->max_len) w->max_len = sublen;
        if (vlen > w->max_len) w->max_len = vlen;
        w->lp_bytes += lp_entry_size(sub, sublen) + lp_entry_size(v, vlen);
        w->table_bytes += rdb_string_size(sub, sublen) + rdb_string_size(v, vlen);
        w->n++;
        break;
    case KS_SET: {
        long long x;
        if (!as_integer(sub, sublen, &x))
            w->all_int = 0;
        else if ((x < -2147483648LL || x > 2147483647LL) && w->int_width < 8)
            w->int_width = 8;
        else if ((x < -32768 || x > 32767) && w->int_width < 4)
            w->int_width = 4;
        if (sublen > w->max_len) w->max_len = sublen;
        w->table_bytes += rdb_string_size(sub, sublen);
        w->n++;
        break;
    }
    case KS_ZSET: {
        if (sublen < 1 || sub[0] != 'm') break; /* the score index duplicates members */
        const uint8_t *mem = sub + 1;
        size_t ml = sublen - 1;
        if (ml > w->max_len) w->max_len = ml;
        char sc[64];
        size_t sl = 1;
        sc[0] = '0';
        if (vlen == 8) sl = num_double_to_str(sc, sizeof sc, num_score64_decode(v));
        w->lp_bytes += lp_entry_size(mem, ml) + lp_entry_size((const uint8_t *)sc, sl);
        w->table_bytes += rdb_string_size(mem, ml) + 8;
        w->n++;
        break;
    }
    default:
        w->stream_bytes += sublen + vlen;
        w->n++;
        break;
    }
    return 0;
}

static void debug_object(client *c) {
    ks_meta m;
    int rc = ks_lookup(srv.ks, c->db, c->argv[2].p, c->argv[2].len, KS_NONE, &m);
    if (rc == ST_NOTFOUND) {
        reply_error(c, ERR_NO_KEY);
        return;
    }
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    const char *enc = "raw";
    size_t serlen = 0;
    long long refcount = 1;
    char extra[256] = "";
    if (m.type == KS_STRING) {
        long long v;
        if (!(m.flags & KS_F_RAW) && as_integer(m.val, m.vlen, &v)) {
            enc = "int";
            /* Redis shares the objects of 0..9999 unless an LRU/LFU policy
             * needs per-object access times (policies 0, 1, 4, 5). */
            int p = cfg.maxmemory_policy;
            int lru_lfu = p == 0 || p == 1 || p == 4 || p == 5;
            if (v >= 0 && v < 10000 && (cfg.maxmemory == 0 || !lru_lfu)) refcount = 2147483647;
        } else if (!(m.flags & KS_F_RAW) && m.vlen <= 44) {
            enc = "embstr";
        }
        serlen = rdb_string_size(m.val, m.vlen);
    } else {
        obj_walk w;
        memset(&w, 0, sizeof w);
        w.type = m.type;
        w.all_int = 1;
        w.int_width = 2;
        w.fill = cfg.list_max_listpack_size ? (long)cfg.list_max_listpack_size : -2;
        for_members(m.id, obj_member, &w);
        switch (m.type) {
        case KS_LIST:
            ql_close_node(&w);
            enc = "quicklist";
            serlen = rdb_len_size(w.nodes) + w.ql_rdb;
            snprintf(extra, sizeof extra,
                     " ql_nodes:%zu ql_avg_node:%.2f ql_listpack_max:%lld ql_compressed:%d "
                     "ql_uncompressed_size:%zu",
                     w.nodes, w.nodes ? (double)w.n / (double)w.nodes : 0.0,
                     cfg.list_max_listpack_size, cfg.list_compress_depth != 0, w.ql_bytes);
            break;
        case KS_HASH:
            if (w.n <= (uint64_t)cfg.hash_max_listpack_entries &&
                w.max_len <= (size_t)cfg.hash_max_listpack_value) {
                enc = "listpack";
                serlen = rdb_len_size(w.lp_bytes + LP_OVERHEAD) + w.lp_bytes + LP_OVERHEAD;
            } else {
                enc = "hashtable";
                serlen = rdb_len_size(w.n) + w.table_bytes;
            }
            break;
        case KS_SET:
            if (w.all_int && w.n <= (uint64_t)cfg.set_max_intset_entries) {
                /* intset: 8-byte header + members at the widest width needed */
                enc = "intset";
                size_t bytes = 8 + (size_t)w.n * w.int_width;
                serlen = rdb_len_size(bytes) + bytes;
            } else {
                enc = "hashtable";
                serlen = rdb_len_size(w.n) + w.table_bytes;
            }
            break;
        case KS_ZSET:
            if (w.n <= (uint64_t)cfg.zset_max_listpack_entries &&
                w.max_len <= (size_t)cfg.zset_max_listpack_value) {
                enc = "listpack";
                serlen = rdb_len_size(w.lp_bytes + LP_OVERHEAD) + w.lp_bytes + LP_OVERHEAD;
            } else {
                enc = "skiplist";
                serlen = rdb_len_size(w.n) + w.table_bytes;
            }
            break;
        case KS_STREAM:
            enc = "stream";
            serlen = w.stream_bytes;
            break;
        default: enc = "unknown"; break;
        }
    }
    const void *where = m.val ? (const void *)m.val : m.hdr ? (const void *)m.hdr : (void *)&m;
    long long lru = (long long)((mstime() / 1000) & ((1 << 24) - 1));
    char line[512];
    snprintf(line, sizeof line,
             "Value at:%p refcount:%lld encoding:%s serializedlength:%zu lru:%lld "
             "lru_seconds_idle:0%s",
             where, refcount, enc, serlen, lru, extra);
    ks_meta_release(&m);
    reply_status(c, line);
}

/* ------------------------------------------------------------------ */
/* DEBUG                                                                */

/* A NUL-terminated copy of an argument, truncated to cap-1 bytes. */
static const char *arg_cstr(const arg *a, char *out, size_t cap) {
    size_t n = a->len < cap - 1 ? a->len : cap - 1;
    memcpy(out, a->p, n);
    out[n] = '\0';
    return out;
}

static void debug_unknown(client *c) {
    reply_errorf(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try DEBUG HELP.",
                 (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p);
}

/* DEBUG POPULATE count [prefix] [size] */
static void debug_populate(client *c) {
    long long count, size = 0;
    const char *positive = "value is out of range, must be positive";
    if (arg_ll_or_reply(c, &c->argv[2], &count, positive) != 0) return;
    if (count < 0) {
        reply_error(c, positive);
        return;
    }
    if (c->argc == 5) {
        if (arg_ll_or_reply(c, &c->argv[4], &size, positive) != 0) return;
        if (size < 0) {
            reply_error(c, positive);
            return;
        }
    }
    const char *prefix = "key";
    size_t plen = 3;
    if (c->argc >= 4) {
        prefix = c->argv[3].p;
        plen = c->argv[3].len;
    }
    char *val = size > 0 ? calloc(1, (size_t)size) : NULL;
    if (size > 0 && !val) {
        reply_error(c, "-OOM command not allowed when used memory > 'maxmemory'.");
        return;
    }
    buf key = {0};
    for (long long j = 0; j < count; j++) {
        char v[64];
        key.len = 0;
        buf_append(&key, prefix, plen);
        buf_printf(&key, ":%lld", j);
        ks_meta m;
        if (ks_lookup(srv.ks, c->db, key.p, key.len, KS_NONE, &m) == ST_OK) {
            ks_meta_release(&m);
            continue; /* existing keys are left alone */
        }
        int vl = snprintf(v, sizeof v, "value:%lld", j);
        const char *body = v;
        size_t blen = (size_t)vl;
        if (size > 0) {
            /* "value:N" padded with zero bytes, or cut, to exactly size. */
            memset(val, 0, (size_t)size);
            memcpy(val, v, (size_t)vl < (size_t)size ? (size_t)vl : (size_t)size);
            body = val;
            blen = (size_t)size;
        }
        int rc = store_reserve(srv.st, key.len + blen + 64);
        if (rc == ST_OK) rc = ks_set_string(srv.ks, c->db, key.p, key.len, body, blen, 0, 0, 0);
        if (rc != ST_OK) {
            free(val);
            buf_free(&key);
            reply_store_error(c, rc);
            return;
        }
    }
    buf_free(&key);
    free(val);
    reply_ok(c);
}

/* DEBUG PROTOCOL type: one reply of each RESP type, for client tests. */
static void debug_protocol(client *c) {
    const arg *t = &c->argv[2];
    if (arg_is(t, "string"))
        reply_bulk_cstr(c, "Hello World");
    else if (arg_is(t, "integer"))
        reply_int(c, 12345);
    else if (arg_is(t, "double"))
        reply_double(c, 3.141);
    else if (arg_is(t, "bignum")) {
        const char *n = "1234567999999999999999999999999999999";
        reply_bignum(c, n, strlen(n));
    } else if (arg_is(t, "null"))
        reply_null(c);
    else if (arg_is(t, "array") || arg_is(t, "set")) {
        if (arg_is(t, "array"))
            reply_array_len(c, 3);
        else
            reply_set_len(c, 3);
        for (int j = 0; j < 3; j++) reply_int(c, j);
    } else if (arg_is(t, "map")) {
        reply_map_len(c, 3);
        for (int j = 0; j < 3; j++) {
            reply_int(c, j);
            reply_bool(c, j == 1);
        }
    } else if (arg_is(t, "attrib")) {
        if (c->resp >= 3) {
            reply_deferred h = reply_defer_len(c);
            reply_bulk_cstr(c, "key-popularity");
            reply_array_len(c, 2);
            reply_bulk_cstr(c, "key:123");
            reply_int(c, 90);
            reply_set_deferred_len(c, h, 1, REPLY_ATTR);
        }
        reply_bulk_cstr(c, "Some real reply following the attribute");
    } else if (arg_is(t, "push")) {
        if (c->resp < 3) {
            reply_error(c, "RESP2 is not supported by this command");
            return;
        }
        reply_push_len(c, 2);
        reply_bulk_cstr(c, "server-cpu-usage");
        reply_int(c, 42);
        reply_bulk_cstr(c, "Some real reply following the push reply");
    } else if (arg_is(t, "verbatim")) {
        const char *s = "This is a verbatim\nstring";
        reply_verbatim(c, s, strlen(s), "txt");
    } else if (arg_is(t, "true"))
        reply_bool(c, 1);
    else if (arg_is(t, "false"))
        reply_bool(c, 0);
    else
        reply_error(c, "Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|"
                       "true|false");
}

static void debug_help(client *c) {
    static const char *help[] = {
        "CHANGE-REPL-ID",
        "    Draw a new replication id (INFO replication master_replid).",
        "DIGEST",
        "    A 40-hex-digit signature of the whole dataset (all zeros when empty).",
        "DIGEST-VALUE <key> [<key> ...]",
        "    A signature of each key's value (all zeros for a missing key).",
        "ERROR <string>",
        "    Reply with <string> as an error, to test clients.",
        "LOADAOF",
        "    lodis: run a checkpoint (the WAL is always on; nothing to reload).",
        "LOG <message>",
        "    Write <message> to the server log.",
        "OBJECT <key>",
        "    Describe <key>'s value: the encoding Redis would use and its RDB size.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create string keys <prefix>:0 .. <prefix>:<count-1> (prefix 'key'),",
        "    with values 'value:<n>' (or <size> bytes); existing keys are kept.",
        "PROTOCOL <type>",
        "    Reply with a sample of a RESP type: string, integer, double, bignum, null,",
        "    array, set, map, attrib, push, verbatim, true or false.",
        "RELOAD [MERGE] [NOFLUSH] [NOSAVE]",
        "    lodis: run a checkpoint (data is never only in memory; nothing to reload).",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    0 stops the background expiry of keys nobody reads; 1 restores it.",
        "SLEEP <seconds>",
        "    Block the whole server for <seconds> (decimals allowed).",
        "HELP",
        "    Print this help.",
        NULL};
    reply_help(c, "DEBUG", help);
}

/* DEBUG <subcommand> [<arg> ...] */
void debug_command(client *c) {
    const arg *sub = &c->argv[1];
    char tmp[128];
    if (arg_is(sub, "help") && c->argc == 2) {
        debug_help(c);
    } else if (arg_is(sub, "sleep") && c->argc == 3) {
        /* Parsed like strtod: junk means 0, as in Redis. */
        double secs = strtod(arg_cstr(&c->argv[2], tmp, sizeof tmp), NULL);
        long long us = (long long)(secs * 1000000.0);
        if (us > 0) {
            struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
        reply_ok(c);
    } else if (arg_is(sub, "set-active-expire") && c->argc == 3) {
        srv.active_expire_enabled = atoi(arg_cstr(&c->argv[2], tmp, sizeof tmp));
        reply_ok(c);
    } else if (arg_is(sub, "object") && c->argc == 3) {
        debug_object(c);
    } else if (arg_is(sub, "digest") && c->argc == 2) {
        debug_digest(c);
    } else if (arg_is(sub, "digest-value") && c->argc >= 2) {
        debug_digest_value(c);
    } else if ((arg_is(sub, "reload") && c->argc >= 2) ||
               (arg_is(sub, "loadaof") && c->argc == 2)) {
        int save = 1;
        for (int i = 2; i < c->argc; i++) {
            if (arg_is(&c->argv[i], "nosave"))
                save = 0;
            else if (!arg_is(&c->argv[i], "merge") && !arg_is(&c->argv[i], "noflush")) {
                reply_error(c, "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
                return;
            }
        }
        /* lodis keeps no dataset only in memory: "reload" is a checkpoint,
         * which proves the data can be persisted; there is nothing to load
         * back (reads already come from the store). */
        if (save && server_save() != 0) {
            reply_error(c, "Error trying to save the DB, check the server logs.");
            return;
        }
        server_log(2, "DB %s by DEBUG %s", save ? "saved" : "kept",
                   arg_is(sub, "reload") ? "RELOAD" : "LOADAOF");
        reply_ok(c);
    } else if (arg_is(sub, "change-repl-id") && c->argc == 2) {
        info_new_replid();
        server_log(2, "Changing replication IDs after receiving DEBUG change-repl-id");
        reply_ok(c);
    } else if (arg_is(sub, "populate") && c->argc >= 3 && c->argc <= 5) {
        debug_populate(c);
    } else if (arg_is(sub, "protocol") && c->argc == 3) {
        debug_protocol(c);
    } else if (arg_is(sub, "log") && c->argc == 3) {
        server_log(3, "DEBUG LOG: %.*s", (int)c->argv[2].len, c->argv[2].p);
        reply_ok(c);
    } else if (arg_is(sub, "error") && c->argc == 3) {
        /* The text is the whole error line, its code included. */
        buf e = {0};
        buf_append(&e, "-", 1);
        buf_append(&e, c->argv[2].p, c->argv[2].len);
        reply_error(c, e.p);
        buf_free(&e);
    } else {
        debug_unknown(c);
    }
}
