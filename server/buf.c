/* buf.c — growable byte buffer; see buf.h. */
#include "server/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_reserve(buf *b, size_t extra) {
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need) ncap = ncap < (1u << 20) ? ncap * 2 : ncap + ncap / 2;
    char *np = realloc(b->p, ncap);
    if (!np) {
        fprintf(stderr, "lodis: out of memory allocating %zu bytes\n", ncap);
        abort();
    }
    b->p = np;
    b->cap = ncap;
}

void buf_append(buf *b, const void *p, size_t len) {
    buf_reserve(b, len);
    if (len) memcpy(b->p + b->len, p, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void buf_append_cstr(buf *b, const char *s) {
    buf_append(b, s, strlen(s));
}

void buf_printf(buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        buf_append(b, tmp, (size_t)n);
        return;
    }
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_consume(buf *b, size_t n) {
    if (n >= b->len) {
        b->len = 0;
        if (b->p) b->p[0] = '\0';
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
    b->p[b->len] = '\0';
}

void buf_clear(buf *b) {
    b->len = 0;
    if (b->p) b->p[0] = '\0';
}

void buf_free(buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
