/* crc64.h — CRC-64/Jones, the checksum of Redis's RDB files and DUMP
 * payloads.
 *
 * Leaf module: libc only. Thread-safe after the first call (the table is
 * built once; a racing first call builds identical bytes). */
#ifndef LODIS_CRC64_H
#define LODIS_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* Extend crc with len bytes at buf. Reflected polynomial
 * 0x95AC9329AC4BC9B5 (Jones, 0xAD93D23594C935A9 unreflected), initial
 * value 0, no final XOR, so crc64(0, "123456789", 9) is 0xE9C6D914C4B8D9CA.
 * Chaining works: crc64(crc64(0, a, n), b, m) is the CRC of a then b.
 * buf may be NULL when len is 0. */
uint64_t crc64(uint64_t crc, const void *buf, size_t len);

#endif
