/* cmd_expire.c — TTLs: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX/XX/GT/LT),
 * TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST.
 *
 * A TTL is an absolute unix time in milliseconds kept in the key's meta
 * record and in the expires index (storage/keyspace.c), so it survives
 * restarts as a point in time, and the active sweep finds due keys in
 * order instead of sampling. */
#include <limits.h>

#include "server/args.h"
#include "server/cmdtable.h"
#include "server/notify.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/keyspace.h"

#define K(i) c->argv[i].p, c->argv[i].len

#define EX_NX 1
#define EX_XX 2
#define EX_GT 4
#define EX_LT 8

/* EXPIRE key seconds [NX|XX|GT|LT] and its three siblings. */
static void expire_generic(client *c, int64_t base, int unit_ms, const char *name) {
    int flags = 0;
    for (int j = 3; j < c->argc; j++) {
        const arg *a = &c->argv[j];
        if (arg_is(a, "NX")) flags |= EX_NX;
        else if (arg_is(a, "XX")) flags |= EX_XX;
        else if (arg_is(a, "GT")) flags |= EX_GT;
        else if (arg_is(a, "LT")) flags |= EX_LT;
        else {
            reply_errorf(c, "Unsupported option %.*s", (int)a->len, a->p);
            return;
        }
    }
    if ((flags & EX_NX) && (flags & (EX_XX | EX_GT | EX_LT))) {
        reply_error(c, "NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if ((flags & EX_GT) && (flags & EX_LT)) {
        reply_error(c, "GT and LT options at the same time are not compatible");
        return;
    }
    long long when;
    if (arg_ll_or_reply(c, &c->argv[2], &when, NULL) != 0) return;
    if (unit_ms == 1000) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            reply_errorf(c, "invalid expire time in '%s' command", name);
            return;
        }
        when *= 1000;
    }
    if (when > LLONG_MAX - base) {
        reply_errorf(c, "invalid expire time in '%s' command", name);
        return;
    }
    when += base;
    ks_meta m;
    int rc = ks_lookup(srv.ks, c->db, K(1), KS_NONE, &m);
    if (rc == ST_NOTFOUND) {
        reply_int(c, 0);
        return;
    }
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    int64_t cur = m.expire;
    ks_meta_release(&m);
    if (flags) {
        /* A key without TTL counts as an infinite TTL. */
        if ((flags & EX_NX) && cur) goto no;
        if ((flags & EX_XX) && !cur) goto no;
        if ((flags & EX_GT) && (!cur || when <= cur)) goto no;
        if ((flags & EX_LT) && cur && when >= cur) goto no;
    }
    if (when <= ks_now(srv.ks)) {
        rc = ks_delete(srv.ks, c->db, K(1));
    } else {
        rc = ks_set_expire(srv.ks, c->db, K(1), when);
    }
    if (rc < 0) {
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_GENERIC, when <= ks_now(srv.ks) ? "del" : "expire", K(1),
                          c->db);
    reply_int(c, 1);
    return;
no:
    reply_int(c, 0);
}

void expire_command(client *c) {
    expire_generic(c, ks_now(srv.ks), 1000, "expire");
}
void pexpire_command(client *c) {
    expire_generic(c, ks_now(srv.ks), 1, "pexpire");
}
void expireat_command(client *c) {
    expire_generic(c, 0, 1000, "expireat");
}
void pexpireat_command(client *c) {
    expire_generic(c, 0, 1, "pexpireat");
}

/* TTL / PTTL / EXPIRETIME / PEXPIRETIME: -2 missing, -1 no TTL. */
static void ttl_generic(client *c, int ms, int absolute) {
    ks_meta m;
    int rc = ks_lookup_notouch(srv.ks, c->db, K(1), KS_NONE, &m);
    if (rc != ST_OK) {
        reply_int(c, -2);
        return;
    }
    int64_t when = m.expire;
    ks_meta_release(&m);
    if (!when) {
        reply_int(c, -1);
        return;
    }
    if (absolute) {
        reply_int(c, ms ? when : when / 1000); /* truncated, unlike TTL */
        return;
    }
    int64_t left = when - ks_now(srv.ks);
    if (left < 0) left = 0;
    reply_int(c, ms ? left : (left + 500) / 1000);
}

void ttl_command(client *c) {
    ttl_generic(c, 0, 0);
}
void pttl_command(client *c) {
    ttl_generic(c, 1, 0);
}
void expiretime_command(client *c) {
    ttl_generic(c, 0, 1);
}
void pexpiretime_command(client *c) {
    ttl_generic(c, 1, 1);
}

/* PERSIST key */
void persist_command(client *c) {
    ks_meta m;
    int rc = ks_lookup(srv.ks, c->db, K(1), KS_NONE, &m);
    if (rc != ST_OK) {
        reply_int(c, 0);
        return;
    }
    int64_t when = m.expire;
    ks_meta_release(&m);
    if (!when) {
        reply_int(c, 0);
        return;
    }
    rc = ks_set_expire(srv.ks, c->db, K(1), 0);
    if (rc >= 0) notify_keyspace_event(NOTIFY_GENERIC, "persist", K(1), c->db);
    if (rc < 0) reply_store_error(c, rc);
    else reply_int(c, 1);
}
