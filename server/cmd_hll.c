/* cmd_hll.c — the HyperLogLog commands: PFADD, PFCOUNT and PFMERGE.
 *
 * A sketch is a plain string in Redis's own format, so GET/SET/DUMP of a
 * sketch move the same bytes as Redis; the encoding, the sparse-to-dense
 * promotion and the estimator live in storage/hll.c. Each command copies the
 * stored value (lookups are borrowed), changes the copy and writes it back
 * whole with ks_set_string, keeping the TTL as Redis's in-place change does.
 * PFCOUNT of one key refreshes the cached cardinality in the header and so
 * writes the key (a change visible to WATCH), exactly like Redis. Like
 * Redis's dbUnshareStringValue, PFADD, single-key PFCOUNT and PFMERGE's
 * destination turn the value's encoding to "raw" even when nothing changes. */
#include <stdlib.h>
#include <string.h>

#include "server/notify.h"
#include "server/args.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/hll.h"
#include "storage/keyspace.h"

#define K(i) c->argv[i].p, c->argv[i].len

#define ERR_HLL_TYPE    "-WRONGTYPE Key is not a valid HyperLogLog string value."
#define ERR_HLL_INVALID "-INVALIDOBJ Corrupted HLL object detected"

static size_t sparse_max(void) {
    return cfg.hll_sparse_max_bytes > 0 ? (size_t)cfg.hll_sparse_max_bytes : 0;
}

/* Store b as the value of argv[1], keeping its TTL. 0 or -1 after replying. */
static int store_or_reply(client *c, const hll_buf *b) {
    int rc = ks_set_string(srv.ks, c->db, K(1), b->p, b->len, 0, 1, KS_F_RAW);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return -1;
    }
    return 0;
}

/* Read argv[i] as a sketch into a private copy (when b is non-NULL) or just
 * fold its registers into max (when max is non-NULL). Returns 1 found, 0
 * missing, -1 after replying. read: count keyspace hits like lookupKeyRead. */
static int load_or_reply(client *c, int i, int read, hll_buf *b, uint8_t *max) {
    ks_meta m = {0};
    int rc;

    if (read) {
        rc = lookup_read_or_reply(c, i, KS_STRING, &m);
        if (rc <= 0) return rc;
    } else {
        rc = ks_lookup(srv.ks, c->db, K(i), KS_STRING, &m);
        if (rc == ST_NOTFOUND) return 0;
        if (rc != ST_OK) {
            reply_store_error(c, rc);
            return -1;
        }
    }
    if (!hll_is_valid(m.val, m.vlen)) {
        ks_meta_release(&m);
        reply_error(c, ERR_HLL_TYPE);
        return -1;
    }
    if (max && hll_merge_max(max, m.val, m.vlen) != 0) {
        ks_meta_release(&m);
        reply_error(c, ERR_HLL_INVALID);
        return -1;
    }
    if (b && hll_load(b, m.val, m.vlen) != 0) {
        ks_meta_release(&m);
        reply_store_error(c, ST_NOMEM);
        return -1;
    }
    int raw = (m.flags & KS_F_RAW) != 0;
    ks_meta_release(&m);
    /* Redis unshares the value before any change (even none): "raw". */
    if (b && !raw) ks_mark_raw(srv.ks, c->db, K(i));
    return 1;
}

/* PFADD key [element [element ...]] */
void pfadd_command(client *c) {
    hll_buf b;
    int updated = 0;
    int rc = load_or_reply(c, 1, 0, &b, NULL);

    if (rc < 0) return;
    if (rc == 0) {
        if (hll_new(&b) != 0) {
            reply_store_error(c, ST_NOMEM);
            return;
        }
        updated++;
    }
    for (int j = 2; j < c->argc; j++) {
        int r = hll_add(&b, c->argv[j].p, c->argv[j].len, sparse_max());
        if (r < 0) {
            /* Redis changes the value in place: what was added stays. */
            if (updated) {
                hll_cache_invalidate(b.p);
                ks_set_string(srv.ks, c->db, K(1), b.p, b.len, 0, 1, KS_F_RAW);
            }
            hll_free(&b);
            reply_error(c, ERR_HLL_INVALID);
            return;
        }
        updated += r;
    }
    if (updated) {
        hll_cache_invalidate(b.p);
        if (store_or_reply(c, &b) != 0) {
            hll_free(&b);
            return;
        }
        notify_keyspace_event(NOTIFY_STRING, "pfadd", K(1), c->db);
    }
    hll_free(&b);
    reply_int(c, updated ? 1 : 0);
}

/* PFCOUNT key [key ...] */
void pfcount_command(client *c) {
    if (c->argc > 2) {
        /* Union of several sketches, nothing written. */
        uint8_t *max = calloc(1, HLL_REGISTERS);
        if (!max) {
            reply_store_error(c, ST_NOMEM);
            return;
        }
        for (int j = 1; j < c->argc; j++) {
            if (load_or_reply(c, j, 1, NULL, max) < 0) {
                free(max);
                return;
            }
        }
        reply_int(c, (long long)hll_count_raw(max));
        free(max);
        return;
    }

    hll_buf b;
    uint64_t card;
    int invalid = 0;
    int rc = load_or_reply(c, 1, 1, &b, NULL);

    if (rc < 0) return;
    if (rc == 0) {
        reply_int(c, 0);
        return;
    }
    if (!hll_cache_get(b.p, &card)) {
        card = hll_count(b.p, b.len, &invalid);
        if (invalid) {
            hll_free(&b);
            reply_error(c, ERR_HLL_INVALID);
            return;
        }
        hll_cache_set(b.p, card);
        if (store_or_reply(c, &b) != 0) {
            hll_free(&b);
            return;
        }
    }
    hll_free(&b);
    reply_int(c, (long long)card);
}

/* PFMERGE destkey [sourcekey [sourcekey ...]] */
void pfmerge_command(client *c) {
    uint8_t *max = calloc(1, HLL_REGISTERS);
    int use_dense = 0;
    hll_buf b;

    if (!max) {
        reply_store_error(c, ST_NOMEM);
        return;
    }
    /* The destination takes part in the union (j starts at 1). */
    for (int j = 1; j < c->argc; j++) {
        ks_meta m = {0};
        int rc = lookup_read_or_reply(c, j, KS_STRING, &m);
        if (rc < 0) goto done;
        if (rc == 0) continue;
        if (!hll_is_valid(m.val, m.vlen)) {
            ks_meta_release(&m);
            reply_error(c, ERR_HLL_TYPE);
            goto done;
        }
        if (m.val[4] == HLL_DENSE) use_dense = 1;
        if (hll_merge_max(max, m.val, m.vlen) != 0) {
            ks_meta_release(&m);
            reply_error(c, ERR_HLL_INVALID);
            goto done;
        }
        ks_meta_release(&m);
    }

    int rc = load_or_reply(c, 1, 0, &b, NULL);
    if (rc < 0) goto done;
    if (rc == 0 && hll_new(&b) != 0) {
        reply_store_error(c, ST_NOMEM);
        goto done;
    }
    if (use_dense && hll_to_dense(&b) != 0) {
        hll_free(&b);
        reply_error(c, ERR_HLL_INVALID);
        goto done;
    }
    for (uint32_t j = 0; j < HLL_REGISTERS; j++) {
        if (max[j] == 0) continue;
        hll_set(&b, j, max[j], sparse_max());
    }
    hll_cache_invalidate(b.p);
    if (store_or_reply(c, &b) == 0) {
        /* Redis reports a merge as a PFADD: a mass-add of elements. */
        notify_keyspace_event(NOTIFY_STRING, "pfadd", K(1), c->db);
        reply_ok(c);
    }
    hll_free(&b);
done:
    free(max);
}
