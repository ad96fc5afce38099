/* cmd_wait.c — WAIT numreplicas timeout, on a server without replicas.
 *
 * lodis does not replicate yet (docs/compatibility.md), so no replica ever
 * acknowledges a write and the answer is always 0, given when Redis would
 * give it on a primary whose replicas are all gone: at once when 0 replicas
 * are asked for or when the client may not block (inside MULTI/EXEC;
 * scripts may not call WAIT at all), else once the timeout (milliseconds,
 * 0 = forever) expires or CLIENT UNBLOCK ends the wait. */
#include <limits.h>

#include "server/args.h"
#include "server/blocking.h"
#include "server/cmdtable.h"
#include "server/reply.h"
#include "server/server.h"

static int wait_serve(client *c, const uint8_t *key, size_t klen) {
    (void)c, (void)key, (void)klen;
    return 0; /* no key to serve from: only the timeout ends a WAIT */
}

static void wait_timeout(client *c) {
    reply_int(c, 0);
}

static const block_ops wait_ops = {wait_serve, wait_timeout};

/* WAIT numreplicas timeout */
void wait_command(client *c) {
    /* Redis reads the timeout first. */
    long long t, n;
    if (arg_ll_or_reply(c, &c->argv[2], &t, "timeout is not an integer or out of range") != 0)
        return;
    if (t < 0) {
        reply_error(c, "timeout is negative");
        return;
    }
    /* Redis 7.0 adds the time unchecked; past int64 its deadline never
     * fires, so such a timeout means forever here. */
    int64_t now = mstime();
    int64_t deadline = t > 0 && t <= LLONG_MAX - now ? now + t : 0;
    if (arg_ll_or_reply(c, &c->argv[1], &n, NULL) != 0) return;
    if (n <= 0 || !block_allowed(c)) {
        reply_int(c, 0);
        return;
    }
    int none = 0;
    block_on_keys(c, &none, 0, deadline, &wait_ops);
}
