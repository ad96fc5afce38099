/* notify.h — keyspace notifications (notify-keyspace-events).
 *
 * Command families call notify_keyspace_event() after a successful write with
 * the event's class and Redis's event name; notify.c decides from the
 * configured classes whether anything is published, and publishes
 * __keyspace@<db>__:<key> and/or __keyevent@<db>__:<event> through the
 * pub/sub family. "new", "expired" and "evicted" events come from the
 * key-change hook (storage reports creations, expiry and eviction). */
#ifndef LODIS_NOTIFY_H
#define LODIS_NOTIFY_H

#include <stddef.h>

/* Event classes (one bit per letter of notify-keyspace-events). */
enum {
    NOTIFY_KEYSPACE = 1 << 0, /* K */
    NOTIFY_KEYEVENT = 1 << 1, /* E */
    NOTIFY_GENERIC = 1 << 2,  /* g */
    NOTIFY_STRING = 1 << 3,   /* $ */
    NOTIFY_LIST = 1 << 4,     /* l */
    NOTIFY_SET = 1 << 5,      /* s */
    NOTIFY_HASH = 1 << 6,     /* h */
    NOTIFY_ZSET = 1 << 7,     /* z */
    NOTIFY_EXPIRED = 1 << 8,  /* x */
    NOTIFY_EVICTED = 1 << 9,  /* e */
    NOTIFY_STREAM = 1 << 10,  /* t */
    NOTIFY_KEY_MISS = 1 << 11, /* m */
    NOTIFY_MODULE = 1 << 12,  /* d */
    NOTIFY_NEW = 1 << 13,     /* n */
};

/* Publish event for key in dbid if class cls is enabled. */
void notify_keyspace_event(int cls, const char *event, const void *key, size_t klen, int dbid);

/* Parse a class string: the flag bits, or -1 on an invalid character. */
int notify_parse_classes(const char *s);
/* The canonical spelling of flags (as CONFIG GET shows it) into out (>= 32 bytes). */
void notify_classes_string(int flags, char *out);

/* The config directive's setter (server/config.c calls it for
 * notify-keyspace-events): validates, stores the canonical string in
 * cfg.notify_keyspace_events. Returns 0, or -1 with err filled. */
int notify_config_set(const char *value, char *err, size_t errlen);

/* Registers the key-change hook (expired / evicted events). */
void notify_init(void);

#endif
