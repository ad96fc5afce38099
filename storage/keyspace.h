/* keyspace.h — Redis keys on top of the store: meta records, logical
 * databases, expiry, O(1) deletes, and the one write path.
 *
 * Every change to a key, whoever makes it (command, MULTI, Lua, expiry,
 * eviction, RESTORE, replication), goes through the ks_* writers below, and
 * each reports it to the change hook (ks_set_change_hook): WATCH, keyspace
 * notifications, client tracking and the RAM tier hang off that one hook.
 *
 * Logical databases (SELECT n) map to physical slots (the first byte of a
 * `keys` key) through a persisted table, so SWAPDB and FLUSHDB are O(1): a
 * flush points the database at an empty slot and hands the old slot to the
 * background reclaimer, like a deleted collection's id.
 *
 * Lifetimes: a ks_meta filled by a lookup borrows storage memory (see
 * store.h) unless it says otherwise; call ks_meta_release() when done. */
#ifndef LODIS_KEYSPACE_H
#define LODIS_KEYSPACE_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

/* Types: Redis's OBJ_* numbers. On disk: never renumber. */
#define KS_STRING 0
#define KS_LIST   1
#define KS_SET    2
#define KS_ZSET   3
#define KS_HASH   4
#define KS_STREAM 6
#define KS_NONE   255

/* TYPE's name of a KS_* type ("none" for anything else). */
const char *ks_type_name(int type);

/* Meta flags (on disk: never renumber). */
#define KS_F_LONGKEY    0x01 /* the keys-DBI key is the hashed form; full key inside */
#define KS_F_COMPRESSED 0x02 /* string body is zstd */
#define KS_F_RAW        0x04 /* OBJECT ENCODING says "raw" even when short (APPEND, SETRANGE) */
#define KS_F_NOINT      0x08 /* created as a plain string, never "int" (INCRBYFLOAT) */

#define KS_MAX_DBS 64 /* logical databases; physical slots are 0..127 */

/* Change kinds reported to the hook. */
enum ks_change {
    KS_CH_WRITE = 1,   /* key created or modified */
    KS_CH_DEL,         /* deleted by a command */
    KS_CH_EXPIRED,     /* deleted by expiry (lazy or active) */
    KS_CH_EVICTED,     /* deleted by maxdisk eviction */
    KS_CH_FLUSHDB,     /* whole db emptied; key NULL */
    KS_CH_SWAPDB,      /* db and key-length (as the other db) swapped; key NULL */
    KS_CH_NEW,         /* key created (Redis's dbAdd): reported just before the
                        * KS_CH_WRITE of the same write; only the 'new' keyspace
                        * event cares, every other consumer can ignore it */
};

typedef void (*ks_change_fn)(void *ud, int db, const uint8_t *key, size_t klen, int kind);

typedef struct ks ks;

typedef struct ks_meta {
    uint8_t type;
    uint8_t flags;
    int64_t expire;       /* unix ms, 0 = none */
    uint64_t id;          /* collection id (0 for strings) */
    uint64_t count;       /* collection size */
    const uint8_t *hdr;   /* type header (collections), borrowed */
    size_t hdrlen;
    const uint8_t *val;   /* string body (decompressed if needed) */
    size_t vlen;
    void *owned;          /* decompression buffer, freed by ks_meta_release */
} ks_meta;

/* Open the keyspace of `databases` logical dbs over an open store. */
ks *ks_open(store *s, int databases, int *rc);
void ks_close(ks *k);
store *ks_store(ks *k);
int ks_databases(ks *k);
void ks_set_change_hook(ks *k, ks_change_fn fn, void *ud);
/* Slots of derived RAM state for storage modules: the RAM copies of zset
 * rank indexes (t_zset_rankmem.c; ks_aux / ks_set_aux are its slot) and
 * the remembered descents of random member picks (cm_pick.c). The keyspace
 * only holds each pointer and calls drop(p) (then forgets it) at ks_close
 * and ks_flushdb, so such state must be rebuildable from the store at any
 * time. */
enum { KS_AUX_ZSET_RANK, KS_AUX_PICK, KS_AUX_SLOTS };
void *ks_aux_slot(ks *k, int slot);
void ks_set_aux_slot(ks *k, int slot, void *p, void (*drop)(void *p));
void *ks_aux(ks *k);
void ks_set_aux(ks *k, void *p, void (*drop)(void *p));
/* The time used for expiry decisions: set once per command (frozen inside
 * MULTI/EXEC and scripts, like Redis). */
void ks_set_now(ks *k, int64_t now_ms);
int64_t ks_now(ks *k);

/* Access statistics (RAM tier bookkeeping): OBJECT IDLETIME and FREQ
 * without touching the key. ST_NOTFOUND if the key does not exist. */
int ks_object_idle(ks *k, int db, const void *key, size_t klen, int64_t *idle_ms);
int ks_object_freq(ks *k, int db, const void *key, size_t klen, int *freq);
/* RESTORE's IDLETIME / FREQ: as Redis's objectSetLRUOrLFU, the LFU counter
 * under an LFU policy (freq >= 0), else the idle time (idle_s >= 0). */
void ks_set_access(ks *k, int db, const void *key, size_t klen, long long idle_s, int freq);
/* maxmemory-policy family and LFU knobs. */
void ks_set_lfu(ks *k, int lfu, int log_factor, int decay_minutes);

/* Eviction support (storage/evict.c). */
/* Delete a key for maxdisk eviction: reported as KS_CH_EVICTED (or
 * KS_CH_EXPIRED if its time had come: then 0, as for ks_delete). 1 evicted,
 * 0 missing or expired, or ST_*. */
int ks_evict_key(ks *k, int db, const void *key, size_t klen);
/* A key's access statistics without touching it: *tracked says whether the
 * RAM tier's table knows the key (an unknown key is colder than any known
 * one); *idle_ms, *freq and *expire are filled when it exists.
 * ST_NOTFOUND if it does not. */
int ks_key_access(ks *k, int db, const void *key, size_t klen, int *tracked, int64_t *idle_ms,
                  int *freq, int64_t *expire);
/* A random key of db for eviction sampling (malloc'd into *out), or one
 * with a TTL: ST_NOTFOUND if none was found. Cheap whatever the deletions
 * since the last checkpoint: the position is drawn in LMDB; only when LMDB
 * holds none of db's keys does it fall back to the merged view. */
int ks_sample_key(ks *k, int db, uint8_t **out, size_t *outlen);
int ks_random_volatile(ks *k, int db, uint8_t **out, size_t *outlen);
/* The key of any database that expires soonest (expires-index order),
 * malloc'd into *out with its db: ST_NOTFOUND if no key has a TTL. */
int ks_first_volatile(ks *k, int *db, uint8_t **out, size_t *outlen);
/* Bound the RAM tier's access table (maxmemory); its size in bytes. */
void ks_tier_set_max(ks *k, size_t entries);
size_t ks_tier_bytes(ks *k);
size_t ks_tier_entries(ks *k);

/* Look a key up; an expired key is deleted (reported as KS_CH_EXPIRED) and
 * reported as ST_NOTFOUND. With want_type != KS_NONE, a key of another type
 * gives ST_WRONGTYPE. */
int ks_lookup(ks *k, int db, const void *key, size_t klen, int want_type, ks_meta *m);
/* ks_lookup without updating the key's access time (TYPE, TTL, EXISTS,
 * OBJECT: Redis's LOOKUP_NOTOUCH). */
int ks_lookup_notouch(ks *k, int db, const void *key, size_t klen, int want_type, ks_meta *m);
/* Same, without deleting an expired key (read-only contexts). */
int ks_peek(ks *k, int db, const void *key, size_t klen, ks_meta *m);
void ks_meta_release(ks_meta *m);

/* Cold reads (store.h): if a lookup of the key would read LMDB (no memtable
 * and no clean cache holds its record), append the record's address to
 * *out in store_prefetch_submit's packing and return the bytes appended
 * (at most KS_COLD_KEY_MAX); 0 when the lookup will not touch LMDB. */
#define KS_COLD_KEY_MAX 513
size_t ks_cold_key(ks *k, int db, const void *key, size_t klen, uint8_t *out);
/* Queue the packed records for the reader threads (store_prefetch_submit). */
int ks_prefetch(ks *k, const uint8_t *packed, size_t len, void *tag);

/* Replace whatever the key holds with a string. expire: unix ms, 0 none;
 * keepttl keeps the current TTL. flags: KS_F_RAW or 0. */
int ks_set_string(ks *k, int db, const void *key, size_t klen, const void *val, size_t vlen,
                  int64_t expire, int keepttl, uint8_t flags);
/* Write a meta record for a collection (create, update or replace). m->val/vlen
 * is an optional body. The expires index follows m->expire. Replacing a
 * record whose collection id differs from m->id (a STORE command's result
 * overwriting its destination) sends the old members to the trash. */
int ks_write_meta(ks *k, int db, const void *key, size_t klen, const ks_meta *m);
/* Give a string the "raw" encoding without reporting a change: Redis
 * unshares a string before SETBIT/BITFIELD even when they change nothing,
 * and that is visible only through OBJECT ENCODING. */
int ks_mark_raw(ks *k, int db, const void *key, size_t klen);
/* Report a change made to a collection's members without a meta change
 * (HSET of an existing field, LSET, ...): every write must reach the hook. */
void ks_notify_write(ks *k, int db, const void *key, size_t klen);
/* Delete a key (collections: O(1), members reclaimed in the background).
 * Returns 1 if it existed, 0 if not, or a negative ST_* code. */
int ks_delete(ks *k, int db, const void *key, size_t klen);
/* Set (when > 0) or remove (when 0) the TTL of an existing key. A time in
 * the past deletes the key. Returns 1 if the key exists, 0 if not. */
int ks_set_expire(ks *k, int db, const void *key, size_t klen, int64_t when);
/* RENAME/MOVE/COPY. ks_rename: ST_NOTFOUND if src missing; nx: returns 0
 * without change if dst exists. Same key renames are the caller's business. */
int ks_rename(ks *k, int db, const void *src, size_t slen, const void *dst, size_t dlen, int nx);
int ks_move(ks *k, int db, int dstdb, const void *key, size_t klen); /* 1 moved, 0 not */
/* COPY: strings are copied; collections through the type's copy callback. */
typedef int (*ks_copy_members_fn)(ks *k, uint64_t from_id, uint64_t to_id, int type);
int ks_copy(ks *k, int db, const void *src, size_t slen, int dstdb, const void *dst,
            size_t dlen, int replace, ks_copy_members_fn copy_members);

uint64_t ks_dbsize(ks *k, int db);
uint64_t ks_expires_count(ks *k, int db);
int ks_flushdb(ks *k, int db);
int ks_flushall(ks *k);
int ks_swapdb(ks *k, int a, int b);

/* A new collection id (never reused). */
uint64_t ks_new_id(ks *k);
/* Hand the members written under an id that was never published in a meta
 * record (an aborted RESTORE or RDB load) to the background reclaimer. */
int ks_drop_id(ks *k, uint64_t id, int type);
/* Make every id handed out from now on >= below, persisted with the next
 * commit (restore of a dump whose streams carry group and consumer ids of
 * the source store). */
int ks_reserve_ids(ks *k, uint64_t below);

/* Raw access for tools that check or copy a store (lodis-migrate).
 * ks_db_slot: the physical slot (first byte of a keys-DBI key) of logical
 * database db. ks_decode_key_entry: split a raw keys-DBI entry into its
 * slot, full user key and meta record (body left as stored: maybe
 * compressed, see KS_F_COMPRESSED); pointers borrow kk and v.
 * ks_slot_counters: the persisted key and TTL counters of a slot. */
int ks_db_slot(ks *k, int db);
int ks_decode_key_entry(const uint8_t *kk, size_t kkl, const uint8_t *v, size_t vl, int *slot,
                        const uint8_t **key, size_t *klen, ks_meta *m);
void ks_slot_counters(ks *k, int slot, uint64_t *keys, uint64_t *expires);

/* Iterate the keys of a database in key order from a resume point.
 * cursor/curlen: the opaque resume position ("" = start), updated to where
 * the next call should resume; *done set when the end was reached. The
 * callback gets each live (not expired) key; returning non-zero stops early.
 * Visits at most `count` keys. */
typedef int (*ks_key_fn)(void *ud, const uint8_t *key, size_t klen, const ks_meta *m);
int ks_scan(ks *k, int db, uint8_t *cursor, size_t *curlen, size_t curcap, long count,
            ks_key_fn fn, void *ud, int *done);
/* A random live key into *out (malloc'd, caller frees); ST_NOTFOUND if empty. */
int ks_random_key(ks *k, int db, uint8_t **out, size_t *outlen);

/* Active expiry: delete keys whose time has come, in expires-index order,
 * for at most budget_us microseconds. Returns the number deleted. */
long ks_expire_cycle(ks *k, long budget_us);
/* Background reclamation of dropped collections and flushed databases, for
 * at most budget_us. Returns entries deleted; *pending says if work remains. */
long ks_reclaim_step(ks *k, long budget_us, int *pending);
/* Persist per-database counters touched this tick (call before store_commit). */
int ks_flush_counters(ks *k);

/* Members of collections: entries of the `sub` DBI under the collection id.
 *
 *   sub key = id(8 BE) · kind(1) · fixed(0..8) · member
 *
 * `kind` is the type's own tag for the entry (hash field, zset score index,
 * list index, ...); `fixed` is an optional fixed-width prefix that orders the
 * entries (a zset's score64, a list's index64). When the key would pass
 * LMDB's 511 bytes, the member is replaced by its first KS_MEMBER_PREFIX
 * bytes and a keyed 128-bit hash, and kind gets KS_KIND_HASHED: the flag is
 * in a byte of ours, never in user bytes. The caller must then keep the full
 * member in the value (ks_member_value_wrap) and compare it on read.
 * Order: by (kind, fixed, member) -- except that members sharing their first
 * KS_MEMBER_PREFIX bytes sort by hash among themselves. */
#define KS_KIND_HASHED 0x80
#define KS_MEMBER_PREFIX 400
#define KS_SUBKEY_MAX 511

/* Encode a member key into out (KS_SUBKEY_MAX bytes). *hashed tells whether
 * the long form was used. Returns the key length. */
size_t ks_member_key(ks *k, uint64_t id, uint8_t kind, const void *fixed, size_t fixedlen,
                     const void *member, size_t mlen, uint8_t *out, int *hashed);
/* Split a member key: kind (without KS_KIND_HASHED), fixed part, member
 * bytes as stored (a prefix + hash when *hashed). */
int ks_member_split(const uint8_t *key, size_t klen, size_t fixedlen, uint8_t *kind,
                    const uint8_t **fixed, const uint8_t **member, size_t *mlen, int *hashed);
/* For hashed members: value = mlen(4 BE) · member · payload. wrap returns a
 * malloc'd buffer; unwrap points into v. */
uint8_t *ks_member_value_wrap(const void *member, size_t mlen, const void *payload,
                              size_t plen, size_t *outlen);
int ks_member_value_unwrap(const uint8_t *v, size_t vlen, const uint8_t **member, size_t *mlen,
                           const uint8_t **payload, size_t *plen);
/* Plain id prefix, for range scans over all of a collection's entries. */
size_t ks_subkey(uint8_t *dst, uint64_t id, const void *sub, size_t sublen);

#endif
