/* tier.c — LRU clock and LFU counters per key; see tier.h.
 *
 * Open addressing with linear probing over a power-of-two table of small
 * entries; a full neighbourhood replaces its coldest entry, so the table
 * never grows past max_entries and never rehashes on the command path more
 * than log2(max) times. The LFU arithmetic follows Redis's published
 * algorithm: increment with probability 1/((counter-5)*log_factor+1),
 * decrement by one per decay period elapsed since the last access. */
#include "storage/tier.h"

#include <stdlib.h>
#include <string.h>

#define PROBE 8

typedef struct entry {
    uint64_t h;      /* 0 = empty */
    uint32_t access; /* seconds, unix time */
    uint16_t ldt;    /* minutes, low 16 bits: last decrement time */
    uint8_t counter;
    uint8_t pad;
} entry;

struct tier {
    entry *e;
    size_t cap, n, max;
    int lfu, log_factor, decay;
    uint64_t rnd;
};

tier *tier_new(size_t max_entries) {
    tier *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->max = max_entries < 1024 ? 1024 : max_entries;
    t->cap = 1024;
    t->e = calloc(t->cap, sizeof *t->e);
    t->log_factor = 10;
    t->decay = 1;
    t->rnd = 0x2545F4914F6CDD1Dull;
    if (!t->e) {
        free(t);
        return NULL;
    }
    return t;
}

void tier_free(tier *t) {
    if (!t) return;
    free(t->e);
    free(t);
}

void tier_set_lfu(tier *t, int lfu, int log_factor, int decay_minutes) {
    t->lfu = lfu;
    t->log_factor = log_factor;
    t->decay = decay_minutes;
}

size_t tier_entries(tier *t) {
    return t->n;
}

size_t tier_bytes(tier *t) {
    return sizeof *t + t->cap * sizeof(entry);
}

size_t tier_max(tier *t) {
    return t->max;
}

static uint64_t fix(uint64_t h) {
    return h ? h : 1;
}

static entry *find(tier *t, uint64_t h) {
    size_t mask = t->cap - 1;
    for (size_t i = 0; i < PROBE; i++) {
        entry *x = &t->e[(h + i) & mask];
        if (x->h == h) return x;
        if (x->h == 0) return NULL;
    }
    return NULL;
}

static void grow(tier *t) {
    size_t ncap = t->cap * 2;
    entry *ne = calloc(ncap, sizeof *ne);
    if (!ne) return;
    entry *old = t->e;
    size_t ocap = t->cap;
    t->e = ne;
    t->cap = ncap;
    t->n = 0;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].h) continue;
        size_t mask = ncap - 1;
        for (size_t j = 0; j < PROBE; j++) {
            entry *x = &ne[(old[i].h + j) & mask];
            if (!x->h) {
                *x = old[i];
                t->n++;
                break;
            }
        }
    }
    free(old);
}

static uint16_t minutes(int64_t now_ms) {
    return (uint16_t)((now_ms / 60000) & 0xffff);
}

/* Decay as Redis's LFUDecrAndReturn. */
static int decayed(tier *t, const entry *x, int64_t now_ms) {
    uint16_t now = minutes(now_ms);
    unsigned elapsed = now >= x->ldt ? (unsigned)(now - x->ldt) : 65535u - x->ldt + now;
    unsigned periods = t->decay ? elapsed / (unsigned)t->decay : 0;
    return periods > x->counter ? 0 : x->counter - (int)periods;
}

static double rand01(tier *t) {
    t->rnd ^= t->rnd << 13;
    t->rnd ^= t->rnd >> 7;
    t->rnd ^= t->rnd << 17;
    return (double)(t->rnd >> 11) / 9007199254740992.0;
}

static void bump(tier *t, entry *x, int64_t now_ms) {
    int c = decayed(t, x, now_ms);
    if (c < 255) {
        double base = c - TIER_LFU_INIT;
        if (base < 0) base = 0;
        if (rand01(t) < 1.0 / (base * t->log_factor + 1)) c++;
    }
    x->counter = (uint8_t)c;
    x->ldt = minutes(now_ms);
    x->access = (uint32_t)(now_ms / 1000);
}

void tier_touch(tier *t, uint64_t h, int64_t now_ms) {
    h = fix(h);
    entry *x = find(t, h);
    if (x && x->access) {
        bump(t, x, now_ms);
        return;
    }
    if (x) { /* forgotten slot of the same key: start afresh */
        x->counter = TIER_LFU_INIT;
        x->ldt = minutes(now_ms);
        x->access = (uint32_t)(now_ms / 1000);
        return;
    }
    if (t->n * 4 >= t->cap * 3 && t->cap < t->max * 2) grow(t);
    size_t mask = t->cap - 1;
    entry *victim = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        entry *y = &t->e[(h + i) & mask];
        if (!y->h) {
            victim = y;
            t->n++;
            break;
        }
        if (!victim || y->access < victim->access) victim = y;
    }
    victim->h = h;
    victim->counter = TIER_LFU_INIT;
    victim->ldt = minutes(now_ms);
    victim->access = (uint32_t)(now_ms / 1000);
}

void tier_set_access(tier *t, uint64_t h, int64_t now_ms, int64_t idle_ms, int freq) {
    tier_touch(t, h, now_ms);
    entry *x = find(t, fix(h));
    if (!x) return;
    if (idle_ms >= 0) {
        int64_t at = now_ms - idle_ms;
        x->access = at > 1000 ? (uint32_t)(at / 1000) : 1;
    }
    if (freq >= 0) {
        x->counter = (uint8_t)(freq > 255 ? 255 : freq);
        x->ldt = minutes(now_ms);
    }
}

void tier_forget(tier *t, uint64_t h) {
    entry *x = find(t, fix(h));
    if (!x) return;
    /* Backward-shift deletion is overkill for a cache: mark with an access
     * time of 0 and counter 0 so it is the first to be replaced, and keep
     * the probe chain intact. */
    x->access = 0;
    x->counter = 0;
    x->ldt = 0;
}

void tier_move(tier *t, uint64_t from, uint64_t to) {
    entry *x = find(t, fix(from));
    if (!x) return;
    entry saved = *x;
    tier_forget(t, from);
    tier_touch(t, to, 0);
    entry *y = find(t, fix(to));
    if (y) {
        y->access = saved.access;
        y->counter = saved.counter;
        y->ldt = saved.ldt;
    }
}

/* Most recently used first, so a rebuild into a smaller table keeps them. */
static int by_access_desc(const void *a, const void *b) {
    const entry *x = a, *y = b;
    return x->access < y->access ? 1 : x->access > y->access ? -1 : 0;
}

void tier_set_max(tier *t, size_t max_entries) {
    if (max_entries < 1024) max_entries = 1024;
    t->max = max_entries;
    if (t->cap <= max_entries * 2) return;
    size_t ncap = 1024;
    while (ncap * 2 <= max_entries * 2) ncap *= 2;
    entry *ne = calloc(ncap, sizeof *ne);
    if (!ne) return;
    size_t live = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].h && t->e[i].access) t->e[live++] = t->e[i];
    qsort(t->e, live, sizeof(entry), by_access_desc);
    size_t keep = live < ncap * 3 / 4 ? live : ncap * 3 / 4, n = 0;
    for (size_t i = 0; i < keep; i++) {
        for (size_t j = 0; j < PROBE; j++) {
            entry *x = &ne[(t->e[i].h + j) & (ncap - 1)];
            if (!x->h) {
                *x = t->e[i];
                n++;
                break;
            }
        }
    }
    free(t->e);
    t->e = ne;
    t->cap = ncap;
    t->n = n;
}

int tier_lookup(tier *t, uint64_t h, int64_t now_ms, int64_t *idle_ms, int *freq) {
    entry *x = find(t, fix(h));
    if (!x || !x->access) return 0;
    int64_t idle = now_ms - (int64_t)x->access * 1000;
    *idle_ms = idle < 0 ? 0 : idle;
    *freq = decayed(t, x, now_ms);
    return 1;
}

int64_t tier_idle_ms(tier *t, uint64_t h, int64_t now_ms, int64_t since_ms) {
    entry *x = find(t, fix(h));
    int64_t last = x && x->access ? (int64_t)x->access * 1000 : since_ms;
    int64_t idle = now_ms - last;
    return idle < 0 ? 0 : idle;
}

int tier_freq(tier *t, uint64_t h, int64_t now_ms) {
    entry *x = find(t, fix(h));
    if (!x || !x->access) return 0;
    return decayed(t, x, now_ms);
}
