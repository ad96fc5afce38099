/* reply.h — building protocol replies into a client's output buffer.
 *
 * Only reply_* functions write protocol bytes. Commands never decide between
 * RESP2 and RESP3: they call the typed builders (reply_map_len, reply_null,
 * reply_double, ...) and this module encodes for the client's protocol.
 *
 * Ownership: every builder copies its input into the client's output buffer,
 * so pointers borrowed from storage (LMDB pages) may be passed directly.
 *
 * Deferred lengths: when a command does not know how many elements it will
 * emit, it calls reply_defer_len(), emits the elements, then
 * reply_set_deferred_len(c, handle, n, kind). */
#ifndef LODIS_REPLY_H
#define LODIS_REPLY_H

#include <stddef.h>
#include <stdint.h>

typedef struct client client;

/* Aggregate kinds for deferred lengths. */
enum reply_agg {
    REPLY_ARRAY = 0, /* '*' */
    REPLY_MAP,       /* '%' in RESP3, '*' with 2n elements in RESP2 */
    REPLY_SET,       /* '~' in RESP3, '*' in RESP2 */
    REPLY_PUSH,      /* '>' in RESP3, '*' in RESP2 */
    REPLY_ATTR,
};

void reply_raw(client *c, const void *p, size_t len);      /* bytes as they are */
void reply_ok(client *c);                                 /* +OK */
void reply_status(client *c, const char *s);              /* +s */
void reply_status_len(client *c, const char *s, size_t len);
/* An error reply. As in Redis, a text starting with '-' carries its own
 * code ("-WRONGTYPE Operation..."); any other text gets "-ERR " in front.
 * CR and LF inside are replaced by spaces. */
void reply_error(client *c, const char *text);
/* The same reply for an error already counted in INFO errorstats (a
 * script returning the error of a command it called). */
void reply_error_counted_before(client *c, const char *text);
void reply_errorf(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_int(client *c, long long v);                   /* :v */
void reply_bulk(client *c, const void *p, size_t len);    /* $len\r\n...\r\n */
void reply_bulk_cstr(client *c, const char *s);           /* NULL -> null bulk */
void reply_bulk_ll(client *c, long long v);               /* integer as a bulk string */
void reply_null(client *c);                               /* $-1 (RESP2) / _ (RESP3) */
void reply_null_array(client *c);                         /* *-1 (RESP2) / _ (RESP3) */
void reply_array_len(client *c, long long n);
void reply_map_len(client *c, long long n);               /* n pairs */
void reply_set_len(client *c, long long n);
void reply_push_len(client *c, long long n);
/* Around a push message (pub/sub, invalidation): it reaches the client even
 * under CLIENT REPLY OFF/SKIP, as in Redis. begin returns what end needs. */
unsigned reply_push_begin(client *c);
void reply_push_end(client *c, unsigned saved);
void reply_empty_array(client *c);
void reply_double(client *c, double d);                   /* ,d (RESP3) / bulk (RESP2) */
void reply_bool(client *c, int b);                        /* #t/#f (RESP3) / :1/:0 */
void reply_verbatim(client *c, const char *p, size_t len, const char *ext); /* =len\r\ntxt:... */
void reply_bignum(client *c, const char *p, size_t len);  /* ( (RESP3) / bulk */
/* A "1) ..." help reply: lines is NULL-terminated; emitted as status strings. */
void reply_help(client *c, const char *cmd, const char **lines);

/* Deferred aggregate length. The handle stays valid until the command
 * returns; exactly one reply_set_deferred_len per reply_defer_len. */
typedef size_t reply_deferred;
reply_deferred reply_defer_len(client *c);
void reply_set_deferred_len(client *c, reply_deferred h, long long n, enum reply_agg kind);

#endif
