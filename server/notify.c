/* notify.c — keyspace notifications.
 *
 * Holds the enabled event classes (parsed from notify-keyspace-events, whose
 * canonical spelling is kept in cfg for CONFIG GET), publishes keyspace and
 * keyevent messages through pubsub_publish(), and turns the keyspace's
 * KS_CH_NEW / KS_CH_EXPIRED / KS_CH_EVICTED changes into "new" / "expired" /
 * "evicted" events.
 * Command families call notify_keyspace_event() with Redis's event names. */
#include "server/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "server/hooks.h"
#include "server/pubsub.h"
#include "storage/keyspace.h"

/* "A": every data class (the letters g$lshzxetd). */
#define NOTIFY_ALL                                                                      \
    (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH |          \
     NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE)

static int notify_flags;

static const struct {
    char ch;
    int flag;
} letters[] = {
    {'g', NOTIFY_GENERIC}, {'$', NOTIFY_STRING},  {'l', NOTIFY_LIST},    {'s', NOTIFY_SET},
    {'h', NOTIFY_HASH},    {'z', NOTIFY_ZSET},    {'x', NOTIFY_EXPIRED}, {'e', NOTIFY_EVICTED},
    {'t', NOTIFY_STREAM},  {'d', NOTIFY_MODULE},  {'n', NOTIFY_NEW},     {'K', NOTIFY_KEYSPACE},
    {'E', NOTIFY_KEYEVENT}, {'m', NOTIFY_KEY_MISS},
};
#define NLETTERS (sizeof letters / sizeof letters[0])

int notify_parse_classes(const char *s) {
    int flags = 0;
    for (; *s; s++) {
        if (*s == 'A') {
            flags |= NOTIFY_ALL;
            continue;
        }
        size_t i;
        for (i = 0; i < NLETTERS && letters[i].ch != *s; i++)
            ;
        if (i == NLETTERS) return -1;
        flags |= letters[i].flag;
    }
    return flags;
}

/* Classes first ("A" standing for the whole data set, which then also hides
 * 'n', as Redis prints it), then K, E and m. */
void notify_classes_string(int flags, char *out) {
    size_t o = 0;
    int all = (flags & NOTIFY_ALL) == NOTIFY_ALL;
    if (all) out[o++] = 'A';
    for (size_t i = 0; i < NLETTERS; i++) {
        int is_class = letters[i].flag != NOTIFY_KEYSPACE && letters[i].flag != NOTIFY_KEYEVENT &&
                       letters[i].flag != NOTIFY_KEY_MISS;
        if (is_class && all) continue;
        if (flags & letters[i].flag) out[o++] = letters[i].ch;
    }
    out[o] = '\0';
}

int notify_config_set(const char *value, char *err, size_t errlen) {
    int f = notify_parse_classes(value);
    if (f < 0) {
        snprintf(err, errlen, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
        return -1;
    }
    char canon[32];
    notify_classes_string(f, canon);
    char *s = strdup(canon);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    free(cfg.notify_keyspace_events);
    cfg.notify_keyspace_events = s;
    notify_flags = f;
    return 0;
}

static void publish2(const char *prefix, size_t plen, int dbid, const void *name, size_t nlen,
                     const void *msg, size_t mlen) {
    char head[64];
    int hl = snprintf(head, sizeof head, "%.*s@%d__:", (int)plen, prefix, dbid);
    size_t chlen = (size_t)hl + nlen;
    char stackbuf[256];
    char *ch = chlen <= sizeof stackbuf ? stackbuf : malloc(chlen);
    if (!ch) return;
    memcpy(ch, head, (size_t)hl);
    if (nlen) memcpy(ch + hl, name, nlen);
    pubsub_publish(ch, chlen, msg, mlen);
    if (ch != stackbuf) free(ch);
}

void notify_keyspace_event(int cls, const char *event, const void *key, size_t klen, int dbid) {
    int f = notify_flags;
    if (!(f & cls)) return;
    size_t elen = strlen(event);
    if (f & NOTIFY_KEYSPACE)
        publish2("__keyspace", 10, dbid, key, klen, event, elen);
    if (f & NOTIFY_KEYEVENT)
        publish2("__keyevent", 10, dbid, event, elen, key, klen);
}

static void notify_key_change(int db, const uint8_t *key, size_t klen, int kind) {
    if (!key) return;
    if (kind == KS_CH_NEW) notify_keyspace_event(NOTIFY_NEW, "new", key, klen, db);
    else if (kind == KS_CH_EXPIRED)
        notify_keyspace_event(NOTIFY_EXPIRED, "expired", key, klen, db);
    else if (kind == KS_CH_EVICTED)
        notify_keyspace_event(NOTIFY_EVICTED, "evicted", key, klen, db);
}

void notify_init(void) {
    hooks_on_key_change(notify_key_change);
}
