/* cmd_conn.h — what the connection family (cmd_conn.c) offers to the rest
 * of the server: the RESET state machine and the family's init.
 *
 * RESET, and anything else that must bring a connection back to its
 * freshly-accepted state, calls conn_reset_client(). Families that keep
 * per-client state (MULTI queue, pub/sub subscriptions, client tracking)
 * register a callback with conn_on_reset() from their *_family_init(); the
 * callbacks run inside conn_reset_client() in registration order and must
 * not send replies (RESET's only reply is +RESET). */
#ifndef LODIS_CMD_CONN_H
#define LODIS_CMD_CONN_H

#include "server/client.h"

/* Bring c back to a new connection's state, as Redis's RESET does: leave
 * MONITOR mode, run the registered reset callbacks, select db 0, RESP2, drop
 * the name, clear CLIENT REPLY OFF/SKIP (NO-EVICT stays, as in Redis 7.0.15)
 * and fall back to the default user (not authenticated when requirepass is
 * set). Sends nothing. */
void conn_reset_client(client *c);

/* Add a callback run by conn_reset_client(). At most 8; extra ones are
 * ignored (and logged). */
void conn_on_reset(void (*fn)(client *c));

#endif
