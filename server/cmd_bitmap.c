/* cmd_bitmap.c — the bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS,
 * BITOP, BITFIELD and BITFIELD_RO.
 *
 * Bitmaps are plain strings. This file only parses arguments, looks values
 * up and writes them back; the bit arithmetic itself (counting, searching,
 * combining, bit fields and their overflow rules) is in storage/bitops.c.
 *
 * Redis 7.0.15 is followed to the letter, including where its order of
 * checks shows: argument errors come before WRONGTYPE for SETBIT, GETBIT,
 * BITPOS's bit and BITFIELD, but after the key lookup for BITCOUNT and
 * BITPOS's range. Option words are compared the way Redis's strcasecmp on
 * NUL-terminated strings does (an embedded NUL ends the word). Values read
 * with ks_lookup are borrowed: writers copy them into a malloc'd buffer,
 * change the copy and store it whole. A write that changes nothing is not
 * stored at all, so WATCH and the dirty counter see no change, as in Redis
 * (which still turns OBJECT ENCODING to "raw" then; lodis leaves it). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/notify.h"
#include "server/args.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/bitops.h"
#include "storage/keyspace.h"
#include "storage/num.h"

#define K(i) c->argv[i].p, c->argv[i].len

#define ERR_BIT_OFFSET "bit offset is not an integer or out of range"
#define ERR_BIT_VALUE  "bit is not an integer or out of range"
#define ERR_BF_TYPE                                                                                \
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 "    \
    "is."

/* ---------------------------------------------------------------- helpers */

/* An option word as Redis matches it: case-insensitive, and only the bytes
 * before an embedded NUL take part ("by\0te" is "by", "i8\0x" is "i8"). */
static int word_is(const arg *a, const char *word) {
    size_t n = strnlen(a->p, a->len);
    return n == strlen(word) && strncasecmp(a->p, word, n) == 0;
}

/* Two's-complement view of a 64-bit pattern, without implementation-defined
 * conversions. */
static long long u64_as_ll(uint64_t u) {
    if (u >> 63) return -(long long)(~u) - 1;
    return (long long)u;
}

/* A bit offset: a non-negative integer whose byte index is below
 * proto-max-bulk-len. With hash (BITFIELD), "#N" means N * bits; the
 * product wraps around 64 bits exactly as Redis's does. */
static int bit_offset_or_reply(client *c, const arg *a, int hash, int bits, uint64_t *out) {
    size_t skip = (hash && bits > 0 && a->len > 0 && a->p[0] == '#') ? 1 : 0;
    long long v;

    if (num_parse_ll(a->p + skip, a->len - skip, &v) != 0) goto bad;
    if (skip) v = u64_as_ll((uint64_t)v * (uint64_t)bits);
    if (v < 0 || (unsigned long long)(v >> 3) >= cfg.proto_max_bulk_len) goto bad;
    *out = (uint64_t)v;
    return 0;
bad:
    reply_error(c, ERR_BIT_OFFSET);
    return -1;
}

/* A BITFIELD type: i1..i64 or u1..u63 (lower-case sign letter only). */
static int bf_type_or_reply(client *c, const arg *a, int *sign, int *bits) {
    size_t n = strnlen(a->p, a->len);
    long long v;

    if (n == 0 || (a->p[0] != 'i' && a->p[0] != 'u') || num_parse_ll(a->p + 1, n - 1, &v) != 0 ||
        v < 1 || v > (a->p[0] == 'i' ? 64 : 63)) {
        reply_error(c, ERR_BF_TYPE);
        return -1;
    }
    *sign = a->p[0] == 'i';
    *bits = (int)v;
    return 0;
}

/* A private, writable copy of the string at argv[1]. */
typedef struct wbuf {
    uint8_t *p; /* malloc'd, len bytes */
    size_t len;
    int dirty; /* key created or string grown: must be stored */
} wbuf;

/* Copy val[0..vlen) (exists == 0: no key) into w, zero-padded so that bit
 * maxbit exists. Returns 0, or -1 after replying. */
static int
copy_padded(client *c, const uint8_t *val, size_t vlen, int exists, uint64_t maxbit, wbuf *w) {
    size_t need = (size_t)(maxbit >> 3) + 1;

    w->len = vlen > need ? vlen : need;
    w->p = malloc(w->len);
    if (!w->p) {
        reply_store_error(c, ST_NOMEM);
        return -1;
    }
    if (vlen) memcpy(w->p, val, vlen);
    memset(w->p + vlen, 0, w->len - vlen);
    w->dirty = !exists || w->len != vlen;
    return 0;
}

/* Redis's lookupStringForBitCommand: the value of argv[1] (empty when
 * missing) copied into w and padded up to bit maxbit. No hit/miss
 * statistics, as for any write lookup. Returns 0, or -1 after replying. */
static int lookup_for_write(client *c, uint64_t maxbit, wbuf *w) {
    ks_meta m = {0};
    int rc = ks_lookup(srv.ks, c->db, K(1), KS_STRING, &m);

    if (rc == ST_NOTFOUND) return copy_padded(c, NULL, 0, 0, maxbit, w);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return -1;
    }
    int was_raw = (m.flags & KS_F_RAW) != 0;
    rc = copy_padded(c, m.val, m.vlen, 1, maxbit, w);
    ks_meta_release(&m);
    /* Redis unshares (makes raw) the string here, even if nothing changes. */
    if (rc == 0 && !was_raw) ks_mark_raw(srv.ks, c->db, K(1));
    return rc;
}

/* Store a modified bitmap back into argv[1], keeping its TTL. The value
 * becomes "raw", as a string changed in place does in Redis. */
static int store_or_reply(client *c, const uint8_t *p, size_t len) {
    int rc = ks_set_string(srv.ks, c->db, K(1), p, len, 0, 1, KS_F_RAW);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- SETBIT/GETBIT */

/* SETBIT key offset value */
void setbit_command(client *c) {
    uint64_t off;
    long long on;

    if (bit_offset_or_reply(c, &c->argv[2], 0, 0, &off) != 0) return;
    if (num_parse_ll(c->argv[3].p, c->argv[3].len, &on) != 0 || (on != 0 && on != 1)) {
        reply_error(c, ERR_BIT_VALUE);
        return;
    }

    ks_meta m = {0};
    wbuf w;
    int rc = ks_lookup(srv.ks, c->db, K(1), KS_STRING, &m);
    if (rc != ST_OK && rc != ST_NOTFOUND) {
        reply_store_error(c, rc);
        return;
    }
    int exists = rc == ST_OK;
    /* A bit that already holds the value inside the string: Redis neither
     * writes nor signals the key. */
    if (exists && (off >> 3) < m.vlen && bitops_getbit(m.val, m.vlen, off) == (int)on) {
        int was_raw = (m.flags & KS_F_RAW) != 0;
        ks_meta_release(&m);
        /* ... but it does unshare the string, which OBJECT ENCODING shows. */
        if (!was_raw) ks_mark_raw(srv.ks, c->db, K(1));
        reply_int(c, (int)on);
        return;
    }
    rc = copy_padded(c, exists ? m.val : NULL, exists ? m.vlen : 0, exists, off, &w);
    if (exists) ks_meta_release(&m);
    if (rc != 0) return;
    int old = bitops_setbit(w.p, off, (int)on);
    if (store_or_reply(c, w.p, w.len) == 0) {
        notify_keyspace_event(NOTIFY_STRING, "setbit", K(1), c->db);
        reply_int(c, old);
    }
    free(w.p);
}

/* GETBIT key offset */
void getbit_command(client *c) {
    uint64_t off;
    ks_meta m = {0};

    if (bit_offset_or_reply(c, &c->argv[2], 0, 0, &off) != 0) return;
    int found = lookup_read_or_reply(c, 1, KS_STRING, &m);
    if (found < 0) return;
    reply_int(c, found ? bitops_getbit(m.val, m.vlen, off) : 0);
    if (found) ks_meta_release(&m);
}

/* ---------------------------------------------------------- BITCOUNT/BITPOS */

/* BYTE or BIT at argv[i]: 0 / 1, or -1 after replying a syntax error. */
static int unit_or_reply(client *c, int i) {
    if (word_is(&c->argv[i], "bit")) return 1;
    if (word_is(&c->argv[i], "byte")) return 0;
    reply_error(c, ERR_SYNTAX);
    return -1;
}

/* BITCOUNT key [start end [BYTE|BIT]] */
void bitcount_command(client *c) {
    ks_meta m = {0};
    long long start = 0, end = -1;
    int isbit = 0;

    /* A missing key answers 0 whatever the other arguments are. */
    int found = lookup_read_or_reply(c, 1, KS_STRING, &m);
    if (found < 0) return;
    if (!found) {
        reply_int(c, 0);
        return;
    }
    if (c->argc == 4 || c->argc == 5) {
        if (arg_ll_or_reply(c, &c->argv[2], &start, NULL) != 0) goto out;
        if (arg_ll_or_reply(c, &c->argv[3], &end, NULL) != 0) goto out;
        /* Redis answers this case before looking at the unit word. */
        if (start < 0 && end < 0 && start > end) {
            reply_int(c, 0);
            goto out;
        }
        if (c->argc == 5 && (isbit = unit_or_reply(c, 4)) < 0) goto out;
    } else if (c->argc != 2) {
        reply_error(c, ERR_SYNTAX);
        goto out;
    }
    reply_int(c, (long long)bitops_count_range(m.val, m.vlen, start, end, isbit));
out:
    ks_meta_release(&m);
}

/* BITPOS key bit [start [end [BYTE|BIT]]] */
void bitpos_command(client *c) {
    ks_meta m = {0};
    long long bit, start = 0, end = -1;
    int isbit = 0, end_given = 0;

    if (arg_ll_or_reply(c, &c->argv[2], &bit, NULL) != 0) return;
    if (bit != 0 && bit != 1) {
        reply_error(c, "The bit argument must be 1 or 0.");
        return;
    }
    /* A missing key is an endless run of zeros. */
    int found = lookup_read_or_reply(c, 1, KS_STRING, &m);
    if (found < 0) return;
    if (!found) {
        reply_int(c, bit ? -1 : 0);
        return;
    }
    if (c->argc >= 4 && c->argc <= 6) {
        if (arg_ll_or_reply(c, &c->argv[3], &start, NULL) != 0) goto out;
        /* The unit word is checked before the end is parsed. */
        if (c->argc == 6 && (isbit = unit_or_reply(c, 5)) < 0) goto out;
        if (c->argc >= 5) {
            if (arg_ll_or_reply(c, &c->argv[4], &end, NULL) != 0) goto out;
            end_given = 1;
        }
    } else if (c->argc != 3) {
        reply_error(c, ERR_SYNTAX);
        goto out;
    }
    reply_int(c, bitops_pos(m.val, m.vlen, (int)bit, start, end, end_given, isbit));
out:
    ks_meta_release(&m);
}

/* ------------------------------------------------------------------ BITOP */

/* BITOP AND|OR|XOR|NOT destkey key [key ...] */
void bitop_command(client *c) {
    const arg *name = &c->argv[1];
    int op;

    if (word_is(name, "and"))
        op = BITOPS_AND;
    else if (word_is(name, "or"))
        op = BITOPS_OR;
    else if (word_is(name, "xor"))
        op = BITOPS_XOR;
    else if (word_is(name, "not"))
        op = BITOPS_NOT;
    else {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (op == BITOPS_NOT && c->argc != 4) {
        reply_error(c, "BITOP NOT must be called with a single source key.");
        return;
    }

    /* Fold the sources into res one at a time, so only one borrowed value
     * is alive at once. res grows to the longest source; bytes a source
     * lacks count as zero. */
    uint8_t *res = NULL;
    size_t rlen = 0;
    for (int j = 3; j < c->argc; j++) {
        ks_meta m = {0};
        int found = lookup_read_or_reply(c, j, KS_STRING, &m);
        if (found < 0) {
            free(res);
            return;
        }
        const uint8_t *src = found ? m.val : NULL;
        size_t slen = found ? m.vlen : 0;
        size_t nlen = slen > rlen ? slen : rlen;
        if (nlen > rlen) {
            uint8_t *grown = realloc(res, nlen);
            if (!grown) {
                if (found) ks_meta_release(&m);
                free(res);
                reply_store_error(c, ST_NOMEM);
                return;
            }
            res = grown;
        }
        if (j == 3) {
            /* The first source seeds the result (NOT: inverted). */
            const uint8_t *srcs[1] = {src};
            if (op == BITOPS_NOT)
                bitops_op(BITOPS_NOT, res, srcs, &slen, 1, slen);
            else if (slen)
                memcpy(res, src, slen);
        } else if (nlen) {
            const uint8_t *srcs[2] = {res, src};
            size_t lens[2] = {rlen, slen};
            bitops_op(op, res, srcs, lens, 2, nlen);
        }
        rlen = nlen;
        if (found) ks_meta_release(&m);
    }

    /* All sources empty or missing: the destination is deleted. */
    int rc = rlen ? ks_set_string(srv.ks, c->db, K(2), res, rlen, 0, 0, KS_F_RAW)
                  : ks_delete(srv.ks, c->db, K(2));
    free(res);
    if (rc < 0) {
        reply_store_error(c, rc);
        return;
    }
    if (rlen) notify_keyspace_event(NOTIFY_STRING, "set", K(2), c->db);
    else if (rc > 0) notify_keyspace_event(NOTIFY_GENERIC, "del", K(2), c->db);
    reply_int(c, (long long)rlen);
}

/* --------------------------------------------------------------- BITFIELD */

enum { BF_GET, BF_SET, BF_INCRBY };

typedef struct bf_op {
    uint64_t offset;
    int64_t value; /* SET value or INCRBY increment */
    int opcode;
    int owtype; /* BITOPS_WRAP / SAT / FAIL in force for this op */
    int bits;
    int sign;
} bf_op;

typedef struct bf_result {
    int64_t v;
    int null; /* OVERFLOW FAIL tripped */
} bf_result;

/* Apply one SET or INCRBY to w. Counts a change when the stored field
 * differs or the string was created or grown, as Redis does. */
static void bf_write(wbuf *w, const bf_op *op, bf_result *r, int *changes) {
    int over;

    if (op->sign) {
        int64_t oldv = bitops_get_signed(w->p, w->len, op->offset, op->bits);
        int64_t newv = op->opcode == BF_SET ? op->value : oldv;
        if (op->opcode == BF_INCRBY)
            over = bitops_incr_signed(oldv, op->value, op->bits, op->owtype, &newv);
        else
            over = bitops_incr_signed(op->value, 0, op->bits, op->owtype, &newv);
        if (over && op->owtype == BITOPS_FAIL) {
            r->null = 1;
            return;
        }
        r->v = op->opcode == BF_SET ? oldv : newv;
        bitops_set(w->p, op->offset, op->bits, (uint64_t)newv);
        if (w->dirty || oldv != newv) (*changes)++;
    } else {
        uint64_t oldv = bitops_get_unsigned(w->p, w->len, op->offset, op->bits);
        uint64_t newv = op->opcode == BF_SET ? (uint64_t)op->value : oldv;
        if (op->opcode == BF_INCRBY)
            over = bitops_incr_unsigned(oldv, op->value, op->bits, op->owtype, &newv);
        else
            over = bitops_incr_unsigned((uint64_t)op->value, 0, op->bits, op->owtype, &newv);
        if (over && op->owtype == BITOPS_FAIL) {
            r->null = 1;
            return;
        }
        /* Unsigned fields are at most 63 bits wide, so they fit. */
        r->v = (int64_t)(op->opcode == BF_SET ? oldv : newv);
        bitops_set(w->p, op->offset, op->bits, newv);
        if (w->dirty || oldv != newv) (*changes)++;
    }
}

/* Parse the BITFIELD operations into ops (capacity argc). Returns the
 * number of operations, or -1 after replying. *readonly says whether only
 * GETs were seen, *maxbit the highest bit a SET or INCRBY touches. */
static int bf_parse(client *c, bf_op *ops, int *readonly, uint64_t *maxbit) {
    int nops = 0, owtype = BITOPS_WRAP;

    for (int j = 2; j < c->argc; j++) {
        int remargs = c->argc - j - 1;
        const arg *sub = &c->argv[j];
        bf_op op = {0};

        if (word_is(sub, "get") && remargs >= 2)
            op.opcode = BF_GET;
        else if (word_is(sub, "set") && remargs >= 3)
            op.opcode = BF_SET;
        else if (word_is(sub, "incrby") && remargs >= 3)
            op.opcode = BF_INCRBY;
        else if (word_is(sub, "overflow") && remargs >= 1) {
            const arg *t = &c->argv[++j];
            if (word_is(t, "wrap"))
                owtype = BITOPS_WRAP;
            else if (word_is(t, "sat"))
                owtype = BITOPS_SAT;
            else if (word_is(t, "fail"))
                owtype = BITOPS_FAIL;
            else {
                reply_error(c, "Invalid OVERFLOW type specified");
                return -1;
            }
            continue;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }

        if (bf_type_or_reply(c, &c->argv[j + 1], &op.sign, &op.bits) != 0) return -1;
        if (bit_offset_or_reply(c, &c->argv[j + 2], 1, op.bits, &op.offset) != 0) return -1;
        if (op.opcode != BF_GET) {
            long long v;
            *readonly = 0;
            uint64_t last = op.offset + (uint64_t)op.bits - 1;
            if (last > *maxbit) *maxbit = last;
            if (arg_ll_or_reply(c, &c->argv[j + 3], &v, NULL) != 0) return -1;
            op.value = v;
        }
        op.owtype = owtype;
        ops[nops++] = op;
        j += op.opcode == BF_GET ? 2 : 3;
    }
    return nops;
}

static void bitfield_generic(client *c, int ro_command) {
    bf_op *ops = malloc(sizeof(*ops) * (size_t)c->argc);
    bf_result *res = calloc((size_t)c->argc, sizeof(*res));
    int readonly = 1, changes = 0, found = 0;
    uint64_t maxbit = 0;
    ks_meta m = {0};
    wbuf w = {0};
    const uint8_t *p = NULL;
    size_t plen = 0;

    if (!ops || !res) {
        reply_store_error(c, ST_NOMEM);
        goto out;
    }
    int nops = bf_parse(c, ops, &readonly, &maxbit);
    if (nops < 0) goto out;

    if (readonly) {
        if ((found = lookup_read_or_reply(c, 1, KS_STRING, &m)) < 0) goto out;
        if (found) {
            p = m.val;
            plen = m.vlen;
        }
    } else {
        if (ro_command) {
            reply_error(c, "BITFIELD_RO only supports the GET subcommand");
            goto out;
        }
        if (lookup_for_write(c, maxbit, &w) != 0) goto out;
        p = w.p;
        plen = w.len;
    }

    for (int i = 0; i < nops; i++) {
        const bf_op *op = &ops[i];
        if (op->opcode != BF_GET)
            bf_write(&w, op, &res[i], &changes);
        else if (op->sign)
            res[i].v = bitops_get_signed(p, plen, op->offset, op->bits);
        else
            res[i].v = (int64_t)bitops_get_unsigned(p, plen, op->offset, op->bits);
    }

    /* A created or grown string is stored even when every write failed
     * (Redis keeps the padded string too). */
    if (!readonly && (changes || w.dirty)) {
        if (store_or_reply(c, w.p, w.len) != 0) goto out;
        if (changes) notify_keyspace_event(NOTIFY_STRING, "setbit", K(1), c->db);
        /* Redis adds one to the dirty counter per changed field, where the
         * key-change hook added one for the whole write. */
        srv.dirty = srv.dirty - 1 + (uint64_t)changes;
    }

    reply_array_len(c, nops);
    for (int i = 0; i < nops; i++) {
        if (res[i].null)
            reply_null(c);
        else
            reply_int(c, res[i].v);
    }
out:
    if (found) ks_meta_release(&m);
    free(w.p);
    free(ops);
    free(res);
}

/* BITFIELD key [GET type offset] [SET type offset value]
 *          [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ... */
void bitfield_command(client *c) {
    bitfield_generic(c, 0);
}

/* BITFIELD_RO key [GET type offset ...] */
void bitfield_ro_command(client *c) {
    bitfield_generic(c, 1);
}
