/* pubsub.h — what the pub/sub family (pubsub.c) offers to other families.
 *
 * The commands (SUBSCRIBE, PUBLISH, PUBSUB ..., the shard variants) are
 * procs found through the command table. Other families publish through
 * pubsub_publish() (keyspace notifications do). */
#ifndef LODIS_PUBSUB_H
#define LODIS_PUBSUB_H

#include <stddef.h>

/* Deliver msg to the subscribers of channel and of every matching pattern,
 * as PUBLISH does. Returns the number of deliveries. */
long long pubsub_publish(const char *channel, size_t chlen, const char *msg, size_t msglen);

/* Family init (server/families.c): registers the subscribed-mode intercept
 * and the client-close and RESET callbacks. */
void pubsub_family_init(void);

#endif
