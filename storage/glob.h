/* glob.h — Redis glob-style pattern matching (KEYS, SCAN MATCH, PSUBSCRIBE,
 * CONFIG GET, HSCAN/SSCAN/ZSCAN MATCH).
 *
 * Leaf module: libc only, no allocation, no recursion. */
#ifndef LODIS_GLOB_H
#define LODIS_GLOB_H

#include <stddef.h>

/* Patterns with more '*' groups than this (not counting a trailing group)
 * never match, as in redis-server 7.0.15 with the CVE-2024-31228 fix. */
#define GLOB_MAX_STAR_NESTING 1000

/* Return 1 if str[0..slen) matches pat[0..patlen), else 0.
 *
 * Syntax, exactly as Redis's stringmatchlen:
 *   *      any run of bytes, including none
 *   ?      any one byte
 *   [abc]  one byte from the set; [^abc] one byte not in it
 *   [a-z]  a range; reversed ranges ([z-a]) are swapped; bytes compare as
 *          signed chars (x86 Redis), so 0x80-0xff sort below 0x00
 *   \x     the byte x literally, also inside [...]
 * Quirks kept on purpose:
 *   - an empty str matches only an empty pattern (even "*" and "**" fail;
 *     callers that treat a lone "*" as "everything" must special-case it,
 *     as KEYS and SCAN do);
 *   - an unterminated class runs to the end of the pattern ("[abc" is
 *     "[abc]"); "[" alone matches nothing and "[^" matches any one byte;
 *   - "[]" matches nothing and "[^]" any one byte (']' right after '[' or
 *     '^' closes the class); "[a-]" is the range ']'..'a';
 *   - a '\' at the very end of the pattern matches a literal '\';
 *   - with nocase, letters compare case-insensitively (ASCII only), except
 *     escaped bytes inside a class, and range ends are lowered after the
 *     swap, so "[Z-a]" is empty;
 *   - more than GLOB_MAX_STAR_NESTING non-trailing '*' groups: no match. */
int glob_match(const char *pat, size_t patlen, const char *str, size_t slen, int nocase);

#endif
