/* multi.h — what the transactions family (multi.c) offers to other families.
 *
 * MULTI/EXEC/DISCARD/WATCH/UNWATCH are command procs found through the
 * command table; the only cross-family service is telling whether a client
 * is running the commands of an EXEC right now (blocking commands then run
 * as non-blocking, as in Redis). */
#ifndef LODIS_MULTI_H
#define LODIS_MULTI_H

#include "server/client.h"

/* 1 while c's queued commands are being executed by EXEC, else 0. */
int multi_in_exec(client *c);

/* Leave MULTI: drop the queued commands and the watched keys and clear
 * CLIENT_MULTI, CLIENT_DIRTY_CAS and CLIENT_DIRTY_EXEC. Sends nothing.
 * Dispatch calls it when it rejects an EXEC (EXECABORT ... because of). */
void multi_discard(client *c);

/* Family init (server/families.c): registers the intercept, key-change,
 * client-close and RESET callbacks. */
void multi_family_init(void);

#endif
