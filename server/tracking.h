/* tracking.h — client-side caching (CLIENT TRACKING), as in Redis 7.0.
 *
 * A tracking client is told when a key it may have cached changes: by a
 * RESP3 push ["invalidate", [key ...]] on its own connection, or, with
 * REDIRECT, on another connection (a RESP3 push, or for RESP2 a message on
 * the __redis__:invalidate channel the target subscribed to). In the default
 * mode the server remembers, per key, which clients read it (bounded by
 * tracking-table-max-keys); in BCAST mode clients name key prefixes and hear
 * about every change under them, once per event-loop tick. FLUSHDB and
 * FLUSHALL invalidate everything with a null.
 *
 * Changes are learnt from the key-change hook (hooks.h), so expiry, eviction
 * and every command's writes count alike. Reads are learnt from the
 * after-command hook. */
#ifndef LODIS_TRACKING_H
#define LODIS_TRACKING_H

#include "server/client.h"

/* CLIENT LIST's redir field: the redirect target id (0 = none) while
 * tracking, else -1. */
long long tracking_redirection(const client *c);

/* INFO: tracking_clients, tracking_total_keys, tracking_total_items,
 * tracking_total_prefixes. */
long long tracking_clients(void);
unsigned long long tracking_total_keys(void);
unsigned long long tracking_total_items(void);
unsigned long long tracking_total_prefixes(void);

/* Registers the hooks (families.c). */
void tracking_family_init(void);
void tracking_family_shutdown(void);

#endif
