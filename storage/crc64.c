/* crc64.c — CRC-64/Jones, byte-at-a-time over a 256-entry table.
 *
 * RDB checksums are computed once per file or payload, so a single table
 * is fast enough (about 1 GB/s); the table is derived from the polynomial
 * at first use rather than pasted in. */
#include "storage/crc64.h"

#define CRC64_POLY 0x95AC9329AC4BC9B5ULL

static uint64_t table[256];
static volatile int table_ready;

static void build_table(void) {
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ CRC64_POLY : c >> 1;
        table[i] = c;
    }
    table_ready = 1;
}

uint64_t crc64(uint64_t crc, const void *buf, size_t len) {
    if (!table_ready) build_table();
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc;
}
