/* args.c — argument parsing helpers; see args.h. */
#include "server/args.h"

#include <strings.h>

#include "server/config.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/num.h"
#include "storage/keyspace.h"
#include "storage/store.h"

int arg_is(const arg *a, const char *word) {
    size_t n = 0;
    while (word[n]) n++;
    return a->len == n && strncasecmp(a->p, word, n) == 0;
}

int arg_ll_or_reply(client *c, const arg *a, long long *out, const char *msg) {
    if (num_parse_ll(a->p, a->len, out) != 0) {
        reply_error(c, msg ? msg : ERR_NOT_INT);
        return -1;
    }
    return 0;
}

int arg_double_or_reply(client *c, const arg *a, double *out, const char *msg) {
    if (num_parse_double(a->p, a->len, out) != 0) {
        reply_error(c, msg ? msg : ERR_NOT_FLOAT);
        return -1;
    }
    return 0;
}

int arg_range_or_reply(client *c, const arg *a, long long min, long long max, long long *out,
                       const char *msg) {
    long long v;
    if (num_parse_ll(a->p, a->len, &v) != 0 || v < min || v > max) {
        reply_error(c, msg ? msg : ERR_NOT_INT);
        return -1;
    }
    *out = v;
    return 0;
}

int arg_int_or_reply(client *c, const arg *a, int *out, const char *msg) {
    long long v;
    if (num_parse_ll(a->p, a->len, &v) != 0) {
        reply_error(c, msg ? msg : ERR_NOT_INT);
        return -1;
    }
    if (v < INT32_MIN || v > INT32_MAX) {
        reply_error(c, msg ? msg
                           : "value is out of range, value must between -2147483648 and "
                             "2147483647");
        return -1;
    }
    *out = (int)v;
    return 0;
}

int arg_db_or_reply(client *c, const arg *a, int *db) {
    int v;
    if (arg_int_or_reply(c, a, &v, NULL) != 0) return -1;
    if (v < 0 || v >= cfg.databases) {
        reply_error(c, ERR_DB_RANGE);
        return -1;
    }
    *db = v;
    return 0;
}

void reply_store_error(client *c, int rc) {
    switch (rc) {
    case ST_WRONGTYPE: reply_error(c, ERR_WRONGTYPE); break;
    case ST_NOSPACE:
        reply_error(c, "-MISCONF Errors writing to disk: No space left on device. Commands that "
                       "may modify the data set are refused until space is freed; reads keep "
                       "working.");
        break;
    case ST_NOMEM: reply_error(c, "-OOM command not allowed when used memory > 'maxmemory'."); break;
    default: reply_errorf(c, "storage error: %s", store_strerror(rc)); break;
    }
}

int lookup_rc_or_reply(client *c, int rc, int read) {
    if (rc == ST_OK) {
        if (read) srv.stat_keyspace_hits++;
        return 1;
    }
    if (rc == ST_NOTFOUND) {
        if (read) srv.stat_keyspace_misses++;
        return 0;
    }
    if (rc == ST_WRONGTYPE && read) srv.stat_keyspace_hits++;
    reply_store_error(c, rc);
    return -1;
}

int lookup_read_or_reply(client *c, int i, int type, ks_meta *m) {
    return lookup_rc_or_reply(c, ks_lookup(srv.ks, c->db, c->argv[i].p, c->argv[i].len, type, m), 1);
}
