/* lzf.h — the LZF compressed format Redis uses for RDB strings.
 *
 * Format (liblzf's): a sequence of items. A control byte below 32 starts a
 * literal run of ctrl+1 bytes. Otherwise the top three bits are a length L
 * (7 means "add the next byte") and the low five bits the high part of an
 * offset whose low byte follows: copy L+2 bytes starting offset+1 bytes back
 * in the output (the copy may overlap its own output).
 *
 * Leaf module: libc only, no state. */
#ifndef LODIS_LZF_H
#define LODIS_LZF_H

#include <stddef.h>

/* Compress in[0..inlen) into out (cap bytes). Returns the compressed
 * length, or 0 when it does not fit in cap (the caller then stores the data
 * uncompressed). Redis asks for at least 4 bytes of saving: pass
 * cap = inlen - 4. */
size_t lzf_compress(const void *in, size_t inlen, void *out, size_t cap);

/* Decompress in[0..inlen) into out (cap bytes). Returns the decompressed
 * length, or 0 when the input is malformed (a reference before the start
 * of the output, a truncated item) or the output does not fit in cap.
 * Never reads or writes out of bounds, whatever the input. */
size_t lzf_decompress(const void *in, size_t inlen, void *out, size_t cap);

#endif
