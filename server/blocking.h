/* blocking.h — clients blocked on keys (BLPOP, BLMOVE, later BZPOPMIN,
 * XREAD BLOCK): a small generic module.
 *
 * A blocking command that finds nothing to serve calls block_on_keys() and
 * returns without replying. The module copies the command's arguments, sets
 * CLIENT_BLOCKED (the connection layer then leaves the client's pipelined
 * input alone) and arms a timer for the deadline. Writes to any of the keys
 * (reported through the key-change hook) make the key "ready"; ready keys
 * are served before the next command runs and at the end of the tick, never
 * inside a command, MULTI/EXEC or a script: for each ready key in the order
 * the keys became ready, the clients blocked on it are offered the key in
 * the order they blocked, until the serve callback declines. */
#ifndef LODIS_BLOCKING_H
#define LODIS_BLOCKING_H

#include <stddef.h>
#include <stdint.h>

#include "server/client.h"

typedef struct block_ops {
    /* Try to serve c from key (ready in c->db). c->argc/argv are the
     * blocking command's own arguments again. Reply and return 1 when
     * served (the client is unblocked), return 0 to keep waiting. */
    int (*serve)(client *c, const uint8_t *key, size_t klen);
    /* Reply for an expired timeout (or CLIENT UNBLOCK ... TIMEOUT). */
    void (*timeout)(client *c);
} block_ops;

/* Parse a timeout in seconds, fractional allowed, as Redis does: 0 on
 * success with *deadline_ms an absolute unix time in ms (0 = forever), -1
 * after replying the error. */
int block_parse_timeout_or_reply(client *c, const arg *a, int64_t *deadline_ms);
/* 1 if c may block; 0 inside MULTI/EXEC, a script or for a socketless client:
 * the command then behaves as its non-blocking form and replies as if the
 * timeout had expired at once. */
int block_allowed(const client *c);
/* Block c on the keys argv[keyidx[i]] (in c->db) until served, the deadline
 * (0 = never) or CLIENT UNBLOCK. */
void block_on_keys(client *c, const int *keyidx, int nkeys, int64_t deadline_ms,
                   const block_ops *ops);
/* Mark a key as ready by hand (for changes not reported by the hook). */
void block_signal_key(int db, const uint8_t *key, size_t klen);
/* Number of clients blocked here. */
long long block_count(void);

void blocking_family_init(void);

#endif
