/* glob.c — Redis-compatible glob matching without recursion.
 *
 * Job: decide whether a key (or channel, or config name) matches a pattern
 * with the exact answers of redis-server 7.0.15's stringmatchlen, including
 * its parsing quirks (see glob.h).
 *
 * How: the pattern is a sequence of tokens; every token except a '*' group
 * consumes exactly one byte of the string, and a token's extent depends only
 * on where it starts. That makes the classic single-backtrack-point matcher
 * exact: on a mismatch, retry from the most recent '*' group with one more
 * byte swallowed. Time is O(patlen * slen) in the worst case, stack O(1).
 *
 * Invariants: pat and str are never read outside [0, len). Where Redis reads
 * the NUL terminator past the end of its pattern, we test the length instead,
 * which gives the same answers. */
#include "storage/glob.h"

#include <stdint.h>

/* Redis runs in the C locale for LC_CTYPE: only ASCII letters fold. */
static int ascii_lower(int c) {
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* A pattern or string byte as x86's signed char, which is how Redis's range
 * test sees it. Spelled out to avoid implementation-defined conversion. */
static int signed_byte(char c) {
    int u = (unsigned char)c;
    return u >= 128 ? u - 256 : u;
}

/* Match one byte against the class token starting at pat[start] == '['.
 * Stores the token's length in *toklen. Returns 1 on match. */
static int
class_match(const char *pat, size_t patlen, size_t start, char c, int nocase, size_t *toklen) {
    size_t p = start + 1;
    int negate = 0, match = 0;

    if (p < patlen && pat[p] == '^') {
        negate = 1;
        p++;
    }
    for (;;) {
        size_t rem = patlen - p;
        if (rem >= 2 && pat[p] == '\\') {
            /* Escaped byte: compared exactly, even with nocase. */
            p++;
            if (pat[p] == c) match = 1;
        } else if (rem > 0 && pat[p] == ']') {
            break;
        } else if (rem == 0) {
            /* Unterminated: the class ends with the pattern. */
            p--;
            break;
        } else if (rem >= 3 && pat[p + 1] == '-') {
            int lo = signed_byte(pat[p]), hi = signed_byte(pat[p + 2]);
            int b = signed_byte(c);
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            if (nocase) {
                lo = ascii_lower(lo);
                hi = ascii_lower(hi);
                b = ascii_lower(b);
            }
            if (b >= lo && b <= hi) match = 1;
            p += 2;
        } else if (nocase) {
            if (ascii_lower(signed_byte(pat[p])) == ascii_lower(signed_byte(c))) match = 1;
        } else {
            if (pat[p] == c) match = 1;
        }
        p++;
    }
    *toklen = p + 1 - start;
    return negate ? !match : match;
}

/* Match one byte against the single-byte token at pat[p] (not '*').
 * Stores the token's length in *toklen. Returns 1 on match. */
static int
token_match(const char *pat, size_t patlen, size_t p, char c, int nocase, size_t *toklen) {
    char want;

    switch (pat[p]) {
    case '?': *toklen = 1; return 1;
    case '[': return class_match(pat, patlen, p, c, nocase, toklen);
    case '\\':
        if (p + 1 < patlen) {
            *toklen = 2;
            want = pat[p + 1];
        } else {
            *toklen = 1; /* a trailing '\' is literal */
            want = '\\';
        }
        break;
    default:
        *toklen = 1;
        want = pat[p];
        break;
    }
    if (nocase) return ascii_lower(signed_byte(want)) == ascii_lower(signed_byte(c));
    return want == c;
}

/* Count '*' groups followed by another token. Redis recurses once per such
 * group on any successful path, and gives up beyond GLOB_MAX_STAR_NESTING. */
static size_t nested_star_groups(const char *pat, size_t patlen) {
    size_t p = 0, groups = 0, toklen;

    while (p < patlen) {
        if (pat[p] == '*') {
            while (p < patlen && pat[p] == '*') p++;
            if (p < patlen) groups++;
            continue;
        }
        (void)token_match(pat, patlen, p, '\0', 0, &toklen);
        p += toklen;
    }
    return groups;
}

int glob_match(const char *pat, size_t patlen, const char *str, size_t slen, int nocase) {
    size_t p = 0, s = 0, toklen;
    size_t star_p = SIZE_MAX, star_s = 0; /* resume point after the last '*' */

    if (slen == 0) return patlen == 0;
    if (nested_star_groups(pat, patlen) > GLOB_MAX_STAR_NESTING) return 0;

    while (s < slen) {
        if (p < patlen && pat[p] == '*') {
            while (p < patlen && pat[p] == '*') p++;
            if (p == patlen) return 1;
            star_p = p;
            star_s = s;
            continue;
        }
        if (p < patlen && token_match(pat, patlen, p, str[s], nocase, &toklen)) {
            p += toklen;
            s++;
            continue;
        }
        if (star_p == SIZE_MAX) return 0;
        /* Let the last '*' swallow one more byte and retry after it. */
        p = star_p;
        s = ++star_s;
    }
    while (p < patlen && pat[p] == '*') p++;
    return p == patlen;
}
