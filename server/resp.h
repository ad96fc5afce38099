/* resp.h — request parser for RESP multibulk and inline commands.
 *
 * A leaf module (libc only): it does no I/O and never allocates per byte of
 * input. It parses one request at a time from a caller-owned buffer and
 * remembers its progress, so a request that arrives in pieces is not parsed
 * again from the start. Arguments are reported as offsets into the buffer,
 * valid while the caller keeps the buffer's bytes from the request start.
 * Protocol errors are returned as values with Redis's exact texts. */
#ifndef LODIS_RESP_H
#define LODIS_RESP_H

#include <stddef.h>
#include <stdint.h>

#define RESP_OK         0  /* a whole request is parsed */
#define RESP_INCOMPLETE 1  /* need more bytes */
#define RESP_EMPTY      2  /* consumed bytes but no command (empty line, *0) */
#define RESP_ERR        -1 /* protocol error: err holds the reply text */

typedef struct resp_arg {
    size_t off, len;
} resp_arg;

typedef struct resp_parser {
    /* limits */
    long long max_bulk;      /* proto-max-bulk-len */
    long long max_multibulk; /* elements per request */
    int unauth;              /* unauthenticated client: Redis's small limits (10 args, 16 KiB) */
    /* output */
    resp_arg *argv;
    int argc, cap;
    /* progress inside the current request (from its first byte) */
    int type;                /* 0 unknown, 1 multibulk, 2 inline */
    long long mb_left;       /* elements still to read */
    size_t pos;              /* next byte to parse, relative to request start */
    long long want_bulk;     /* announced length of the bulk being read */
    const char *err;         /* static error text on RESP_ERR */
    int inline_unbalanced;
} resp_parser;

void resp_parser_init(resp_parser *p, long long max_bulk);
void resp_parser_free(resp_parser *p);
/* Parse from buf[0..len) which starts at the current request's first byte.
 * On RESP_OK or RESP_EMPTY, *used is the request's length: the caller drops
 * those bytes (or moves past them) and calls again for the next request.
 * With RESP_INCOMPLETE, *hint may say how many bytes the request needs in
 * total (for big bulks), so the caller can size its buffer once. */
int resp_parse(resp_parser *p, const char *buf, size_t len, size_t *used, size_t *hint);
/* Forget the progress of the current request. */
void resp_parser_reset(resp_parser *p);

/* Split an inline command line like Redis does (quotes, \x escapes).
 * Writes unescaped bytes back into line (in place) and fills argv with
 * offsets into it. Returns argc or -1 on unbalanced quotes. */
int resp_split_inline(char *line, size_t len, resp_arg **argv, int *cap);

#endif
