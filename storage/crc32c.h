/* crc32c.h — CRC-32C (Castagnoli), as used by iSCSI, ext4 and LevelDB.
 *
 * Leaf module: libc only. Thread-safe: no mutable state. */
#ifndef LODIS_CRC32C_H
#define LODIS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend a CRC-32C with len bytes at buf and return the new value. Start
 * with crc = 0; chaining works: crc32c(crc32c(0, a, n), b, m) equals the CRC
 * of a followed by b. Reflected polynomial 0x82F63B78, initial value and
 * final XOR 0xFFFFFFFF (applied inside), so crc32c(0, "123456789", 9) is
 * 0xE3069283. Uses the SSE4.2 crc32 instruction when the CPU has it
 * (checked at run time), slicing-by-8 tables otherwise. buf may be NULL
 * when len is 0. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable table implementation, same contract and results as crc32c.
 * Exposed so tests can compare it with the hardware path. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* 1 if crc32c uses the SSE4.2 instruction on this machine, else 0. */
int crc32c_hw_available(void);

#endif
