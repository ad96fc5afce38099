/* buf.h — a growable byte buffer (query buffers, reply buffers, scratch).
 *
 * Invariant: p[len] == '\0' whenever cap > 0, so parsers may use libc string
 * functions on the contents. Growth is geometric; buf_reserve never shrinks. */
#ifndef LODIS_BUF_H
#define LODIS_BUF_H

#include <stddef.h>

typedef struct buf {
    char *p;
    size_t len;
    size_t cap;
} buf;

/* Ensure room for `extra` more bytes (plus the trailing NUL). Aborts on OOM,
 * like Redis's zmalloc: a server that cannot allocate a reply cannot go on. */
void buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *p, size_t len);
void buf_append_cstr(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes. */
void buf_consume(buf *b, size_t n);
void buf_clear(buf *b);
/* Free the memory and reset to empty. */
void buf_free(buf *b);

#endif
