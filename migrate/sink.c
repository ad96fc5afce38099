/* sink.c — see sink.h. */
#include "migrate/sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/migrate.h"
#include "storage/keyspace.h"
#include "storage/rdb.h"

#define MAX_SHOWN  10
#define SEND_AT    (4u << 20) /* bytes queued before writing to the target */
#define TICK_OPS   2000

struct sink {
    int dir;
    /* lodis:// */
    rconn c;
    int cur_db;
    uint64_t pending;
    /* DATADIR */
    store *s;
    ks *k;
    rdb_limits lim;
    long ops;
    uint64_t key_errors;
    char err[4096];
};

int sink_is_dir(const sink *k) { return k->dir; }
uint64_t sink_key_errors(const sink *k) { return k->key_errors; }
const char *sink_err(const sink *k) { return k->err; }

static void key_error(sink *k, const char *what) {
    if (++k->key_errors <= MAX_SHOWN) mig_err("copy: target refused a key: %s", what);
    if (k->key_errors == MAX_SHOWN + 1) mig_err("copy: more refused keys not shown");
}

sink *sink_open(const char *to, char *err, size_t errlen) {
    sink *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rdb_limits_default(&k->lim);
    if (strstr(to, "://")) {
        mig_url u;
        if (mig_url_parse(to, &u, err, errlen) != 0) goto fail;
        if (strcmp(u.scheme, "lodis") && strcmp(u.scheme, "redis")) {
            snprintf(err, errlen, "--to takes lodis://host:port or a data directory, not %s://",
                     u.scheme);
            goto fail;
        }
        if (rc_open_url(&k->c, &u, 60000) != 0) {
            snprintf(err, errlen, "target: %s", k->c.err);
            rc_close(&k->c);
            goto fail;
        }
        k->cur_db = 0;
        return k;
    }
    k->dir = 1;
    int state = mig_target_state(to);
    if (state < 0) {
        snprintf(err, errlen, "%s is not empty and holds no lodis store; choose an empty or new "
                 "directory", to);
        goto fail;
    }
    store_opts o;
    store_opts_default(&o);
    o.dir = to;
    /* Batches are committed unsynced; sink_durable checkpoints (synced)
     * before a resume point is saved, so a rerun after a crash never skips
     * keys it believes copied. */
    o.fsync = ST_FSYNC_NO;
    o.memtable_budget = 128u << 20;
    o.log = mig_store_log;
    int rc;
    k->s = store_open(&o, &rc, err, errlen);
    if (!k->s) {
        if (rc == ST_BUSY) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n, " (a lodis-server is using it: copy to "
                     "lodis://host:port instead, or stop the server)");
        }
        goto fail;
    }
    k->k = ks_open(k->s, KS_MAX_DBS, &rc);
    if (!k->k) {
        snprintf(err, errlen, "cannot open the keyspace of %s: %s", to, store_strerror(rc));
        store_close(k->s);
        goto fail;
    }
    return k;
fail:
    free(k);
    return NULL;
}

/* lodis://: read the replies that arrived (all of them when block). */
static int drain(sink *k, int block) {
    while (k->pending) {
        rreply *r;
        int rc = rc_parse(&k->c, &r);
        if (rc < 0) goto lost;
        if (rc == 0) {
            if (rc_write(&k->c, 0) != 0) goto lost;
            int n = rc_fill(&k->c, block ? 1000 : 0);
            if (n < 0) goto lost;
            if (n == 0 && !block) return 0;
            continue; /* blocking: what was sent gets applied; wait for it */
        }
        k->pending--;
        if (r->type == '-') {
            if (!strncmp(r->s, "NOAUTH", 6) || !strncmp(r->s, "NOPERM", 6)) {
                snprintf(k->err, sizeof k->err, "target %s: %s", k->c.where, r->s);
                rreply_free(r);
                return -1;
            }
            key_error(k, r->s);
        }
        rreply_free(r);
    }
    return 0;
lost:
    snprintf(k->err, sizeof k->err, "target: %s", k->c.err);
    return -1;
}

static int net_send(sink *k) {
    if (k->c.olen - k->c.opos < SEND_AT) return 0;
    if (rc_write(&k->c, 0) != 0) {
        snprintf(k->err, sizeof k->err, "target: %s", k->c.err);
        return -1;
    }
    return drain(k, 0);
}

static int tick(sink *k) {
    int rc = mig_tick(k->s, k->k);
    k->ops = 0;
    if (rc != ST_OK) {
        snprintf(k->err, sizeof k->err, "writing to the store failed: %s%s", store_strerror(rc),
                 rc == ST_NOSPACE ? "; free some disk space and run the copy again (it resumes)"
                                  : "");
        return -1;
    }
    return 0;
}

static int dir_restore(sink *k, int db, const void *key, size_t klen, const uint8_t *p,
                       size_t plen, int64_t expire) {
    if (db >= KS_MAX_DBS) {
        snprintf(k->err, sizeof k->err, "database %d: lodis has databases 0..%d", db,
                 KS_MAX_DBS - 1);
        return -1;
    }
    size_t body;
    if (rdb_payload_verify(p, plen, &body) != ST_OK) {
        key_error(k, "DUMP payload version or checksum is bad");
        return 0;
    }
    rdb_rd r;
    rdb_rd_init(&r, p, body);
    uint8_t type;
    rdb_obj o;
    const char *why = "bad type";
    int rc = ST_CORRUPT;
    if (!rdb_get_byte(&r, &type) && rdb_is_object_type(type))
        rc = rdb_decode_value(k->k, type, &r, &k->lim, &o, &why);
    if (rc == ST_CORRUPT || rc == ST_INVALID || rc == ST_NOTFOUND) {
        char m[300];
        snprintf(m, sizeof m, "db %d, a key of %zu bytes: %s", db, klen,
                 rc == ST_NOTFOUND ? "empty value" : why);
        key_error(k, m);
        return 0;
    }
    if (rc == ST_OK) {
        rc = ks_delete(k->k, db, key, klen);
        if (rc >= 0) rc = ST_OK;
        if (rc == ST_OK && expire && expire <= mig_wall_ms()) {
            rdb_obj_discard(k->k, &o); /* expired in between: the source drops it too */
        } else if (rc == ST_OK) {
            rc = rdb_obj_publish(k->k, &o, db, key, klen, expire);
        } else {
            rdb_obj_discard(k->k, &o);
        }
    }
    if (rc != ST_OK) {
        snprintf(k->err, sizeof k->err, "writing to the store failed: %s", store_strerror(rc));
        return -1;
    }
    if (++k->ops >= TICK_OPS) return tick(k);
    return 0;
}

int sink_restore(sink *k, int db, const void *key, size_t klen, const void *payload, size_t plen,
                 int64_t expire_ms) {
    if (k->dir) return dir_restore(k, db, key, klen, payload, plen, expire_ms);
    if (db != k->cur_db) {
        char d[16];
        snprintf(d, sizeof d, "%d", db);
        rc_appendv(&k->c, 2, "SELECT", d);
        k->pending++;
        k->cur_db = db;
    }
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)expire_ms);
    const char *argv[] = {"RESTORE", key, ttl, payload, "REPLACE", "ABSTTL"};
    size_t lens[] = {7, klen, strlen(ttl), plen, 7, 6};
    rc_append(&k->c, 6, argv, lens);
    k->pending++;
    return net_send(k);
}

int sink_function(sink *k, const char *name, const char *code, size_t clen) {
    if (k->dir) {
        size_t nl = strlen(name);
        char *key = malloc(3 + nl);
        if (!key) return -1;
        memcpy(key, "fn:", 3);
        memcpy(key + 3, name, nl);
        int rc = store_put(k->s, ST_DBI_INFO, key, 3 + nl, code, clen);
        free(key);
        if (rc != ST_OK) {
            snprintf(k->err, sizeof k->err, "writing a function library: %s", store_strerror(rc));
            return -1;
        }
        return 0;
    }
    const char *argv[] = {"FUNCTION", "LOAD", "REPLACE", code};
    size_t lens[] = {8, 4, 7, clen};
    rc_append(&k->c, 4, argv, lens);
    k->pending++;
    return net_send(k);
}

int sink_sync(sink *k) {
    if (k->dir) return tick(k);
    if (rc_write(&k->c, 1) != 0) {
        snprintf(k->err, sizeof k->err, "target: %s", k->c.err);
        return -1;
    }
    return drain(k, 1);
}

int sink_durable(sink *k) {
    if (!k->dir) return 0;
    int rc = store_checkpoint_sync(k->s);
    if (rc != ST_OK) {
        snprintf(k->err, sizeof k->err, "writing to the store failed: %s", store_strerror(rc));
        return -1;
    }
    return 0;
}

void sink_close(sink *k) {
    if (!k) return;
    if (k->dir) {
        ks_close(k->k);
        store_close(k->s);
    } else {
        rc_close(&k->c);
    }
    free(k);
}
