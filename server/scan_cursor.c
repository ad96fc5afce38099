/* scan_cursor.c — the bounded table behind numeric SCAN cursors; see
 * scan_cursor.h. 16384 slots reused round-robin: a client that keeps a
 * cursor while 16384 other scans start gets "invalid cursor" and restarts,
 * rather than a silent skip. */
#include "server/scan_cursor.h"

#include <stdlib.h>
#include <string.h>

#define SLOT_BITS 14
#define NSLOTS (1u << SLOT_BITS)

typedef struct slot {
    uint64_t seq;
    uint64_t owner;
    uint8_t *pos;
    size_t len;
} slot;

static slot *slots;
static uint64_t next_seq = 1;
static uint32_t next_slot;

uint64_t scan_cursor_save(uint64_t owner, const uint8_t *pos, size_t len) {
    if (!slots) slots = calloc(NSLOTS, sizeof *slots);
    if (!slots || len > SCAN_POS_MAX) return 0;
    uint32_t i = next_slot++ & (NSLOTS - 1);
    slot *s = &slots[i];
    uint8_t *p = realloc(s->pos, len ? len : 1);
    if (!p) return 0;
    s->pos = p;
    memcpy(p, pos, len);
    s->len = len;
    s->owner = owner;
    s->seq = next_seq++ & ((1ull << (62 - SLOT_BITS)) - 1);
    if (s->seq == 0) s->seq = next_seq++;
    return (s->seq << SLOT_BITS) | i;
}

int scan_cursor_load(uint64_t cursor, uint64_t owner, uint8_t *pos, size_t *len) {
    if (!slots) return -1;
    slot *s = &slots[cursor & (NSLOTS - 1)];
    if (s->seq != (cursor >> SLOT_BITS) || s->owner != owner || !s->pos) return -1;
    memcpy(pos, s->pos, s->len);
    *len = s->len;
    return 0;
}

void scan_cursor_free_all(void) {
    if (!slots) return;
    for (uint32_t i = 0; i < NSLOTS; i++) free(slots[i].pos);
    free(slots);
    slots = NULL;
}
