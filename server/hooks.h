/* hooks.h — extension points the core calls and command families fill in.
 *
 * The core (net.c, dispatch.c) knows nothing of MULTI, pub/sub or blocking
 * operations; each family registers what it needs at startup from its
 * *_init() function, called by main.c. Registration order is call order. */
#ifndef LODIS_HOOKS_H
#define LODIS_HOOKS_H

#include "server/client.h"

struct command;

/* Client is being closed: free the family's per-client state. */
void hooks_on_client_close(void (*fn)(client *c));
/* Before the tick's commit (serve blocked clients, flush notifications). */
void hooks_on_before_sleep(void (*fn)(void));
/* Every key change reported by storage's write path. */
void hooks_on_key_change(void (*fn)(int db, const uint8_t *key, size_t klen, int kind));
/* Called before a command runs: return 1 to say "handled" (queued by MULTI,
 * refused in subscribed mode, ...), 0 to let it run. */
void hooks_on_intercept(int (*fn)(client *c, const struct command *cmd));
/* Periodic (server cron). */
void hooks_on_cron(void (*fn)(void));
/* After a command procedure returned (its reply is in c->reply). nested: it
 * ran inside another command (EXEC's queued commands, a script's calls). */
void hooks_on_after_command(void (*fn)(client *c, const struct command *cmd, int nested));

void hooks_client_closing(client *c);
void hooks_before_sleep(void);
void hooks_key_change(int db, const uint8_t *key, size_t klen, int kind);
int hooks_intercept(client *c, const struct command *cmd);
void hooks_cron(void);
void hooks_after_command(client *c, const struct command *cmd, int nested);

#endif
