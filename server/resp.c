/* resp.c — RESP request parser; see resp.h.
 *
 * Error texts and limits follow Redis 7: a multibulk count above 1M or a
 * bulk length above proto-max-bulk-len is a protocol error, as is a length
 * line longer than 64 KiB without its CRLF. */
#include "server/resp.h"

#include <stdlib.h>
#include <string.h>

#define INLINE_MAX (64 * 1024)

void resp_parser_init(resp_parser *p, long long max_bulk) {
    memset(p, 0, sizeof *p);
    p->max_bulk = max_bulk;
    p->max_multibulk = 1024 * 1024;
}

void resp_parser_free(resp_parser *p) {
    free(p->argv);
    p->argv = NULL;
    p->cap = 0;
}

void resp_parser_reset(resp_parser *p) {
    p->argc = 0;
    p->type = 0;
    p->mb_left = 0;
    p->pos = 0;
    p->want_bulk = -1;
}

static int push_arg(resp_arg **argv, int *cap, int argc, size_t off, size_t len) {
    if (argc == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        resp_arg *na = realloc(*argv, (size_t)nc * sizeof *na);
        if (!na) return -1;
        *argv = na;
        *cap = nc;
    }
    (*argv)[argc].off = off;
    (*argv)[argc].len = len;
    return 0;
}

/* Parse a decimal length after a '*' or '$' up to CRLF. */
static int parse_len(const char *s, size_t n, long long *out) {
    if (n == 0 || n > 20) return -1;
    int neg = 0;
    size_t i = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (n == 1) return -1;
    }
    long long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        if (v > (9223372036854775807LL - (s[i] - '0')) / 10) return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int resp_split_inline(char *line, size_t len, resp_arg **argv, int *cap) {
    int argc = 0;
    size_t i = 0, w = 0;
    while (1) {
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\n' ||
                           line[i] == '\r' || line[i] == '\v' || line[i] == '\f'))
            i++;
        if (i >= len) break;
        size_t start = w;
        int inq = 0, insq = 0, done = 0;
        while (!done) {
            if (inq) {
                if (i >= len) return -1;
                if (line[i] == '\\' && i + 3 < len && line[i + 1] == 'x' &&
                    hexval(line[i + 2]) >= 0 && hexval(line[i + 3]) >= 0) {
                    line[w++] = (char)(hexval(line[i + 2]) * 16 + hexval(line[i + 3]));
                    i += 4;
                } else if (line[i] == '\\' && i + 1 < len) {
                    char c = line[i + 1];
                    switch (c) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: break;
                    }
                    line[w++] = c;
                    i += 2;
                } else if (line[i] == '"') {
                    /* closing quote must be followed by a space or nothing */
                    if (i + 1 < len && !(line[i + 1] == ' ' || line[i + 1] == '\t' ||
                                         line[i + 1] == '\n' || line[i + 1] == '\r'))
                        return -1;
                    done = 1;
                    i++;
                } else {
                    line[w++] = line[i++];
                }
            } else if (insq) {
                if (i >= len) return -1;
                if (line[i] == '\\' && i + 1 < len && line[i + 1] == '\'') {
                    line[w++] = '\'';
                    i += 2;
                } else if (line[i] == '\'') {
                    if (i + 1 < len && !(line[i + 1] == ' ' || line[i + 1] == '\t' ||
                                         line[i + 1] == '\n' || line[i + 1] == '\r'))
                        return -1;
                    done = 1;
                    i++;
                } else {
                    line[w++] = line[i++];
                }
            } else {
                if (i >= len) {
                    done = 1;
                    break;
                }
                switch (line[i]) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                case '\0': done = 1; break;
                case '"':
                    inq = 1;
                    i++;
                    break;
                case '\'':
                    insq = 1;
                    i++;
                    break;
                default: line[w++] = line[i++]; break;
                }
            }
        }
        if (push_arg(argv, cap, argc, start, w - start) != 0) return -1;
        argc++;
        /* Consume the separator and end the argument with a NUL, so args
         * never run into each other and callers may treat them as C strings
         * (w never passes i, so unread input is never overwritten). */
        if (i < len) i++;
        if (w < i) line[w++] = '\0';
    }
    return argc;
}

static int parse_inline(resp_parser *p, const char *buf, size_t len, size_t *used) {
    const char *nl = memchr(buf, '\n', len);
    if (!nl) {
        if (len > INLINE_MAX) {
            p->err = "Protocol error: too big inline request";
            return RESP_ERR;
        }
        return RESP_INCOMPLETE;
    }
    size_t linelen = (size_t)(nl - buf);
    *used = linelen + 1;
    if (linelen && buf[linelen - 1] == '\r') linelen--;
    /* Split in place: the caller's buffer is writable for inline lines. */
    int argc = resp_split_inline((char *)buf, linelen, &p->argv, &p->cap);
    if (argc < 0) {
        p->err = "Protocol error: unbalanced quotes in request";
        return RESP_ERR;
    }
    p->argc = argc;
    return argc == 0 ? RESP_EMPTY : RESP_OK;
}

int resp_parse(resp_parser *p, const char *buf, size_t len, size_t *used, size_t *hint) {
    *hint = 0;
    if (p->type == 0) {
        if (len == 0) return RESP_INCOMPLETE;
        p->argc = 0;
        p->pos = 0;
        p->want_bulk = -1;
        if (buf[0] != '*') {
            int r = parse_inline(p, buf, len, used);
            if (r == RESP_OK || r == RESP_EMPTY) p->type = 0;
            return r;
        }
        const char *nl = memchr(buf, '\r', len);
        if (!nl) {
            if (len > INLINE_MAX) {
                p->err = "Protocol error: too big mbulk count string";
                return RESP_ERR;
            }
            return RESP_INCOMPLETE;
        }
        size_t ll = (size_t)(nl - buf);
        if (ll + 2 > len) return RESP_INCOMPLETE;
        long long n;
        if (parse_len(buf + 1, ll - 1, &n) != 0 || n > p->max_multibulk) {
            p->err = "Protocol error: invalid multibulk length";
            return RESP_ERR;
        }
        if (p->unauth && n > 10) {
            p->err = "Protocol error: unauthenticated multibulk length";
            return RESP_ERR;
        }
        if (n <= 0) {
            *used = ll + 2;
            return RESP_EMPTY;
        }
        p->type = 1;
        p->mb_left = n;
        p->pos = ll + 2;
    }
    while (p->mb_left > 0) {
        if (p->want_bulk < 0) {
            if (p->pos >= len) return RESP_INCOMPLETE;
            const char *s = buf + p->pos;
            const char *nl = memchr(s, '\r', len - p->pos);
            if (!nl) {
                if (len - p->pos > INLINE_MAX) {
                    p->err = "Protocol error: too big bulk count string";
                    return RESP_ERR;
                }
                return RESP_INCOMPLETE;
            }
            size_t ll = (size_t)(nl - s);
            if (p->pos + ll + 2 > len) return RESP_INCOMPLETE;
            if (s[0] != '$') {
                static char msg[64];
                /* Redis prints the offending byte */
                memcpy(msg, "Protocol error: expected '$', got ' '", 38);
                msg[35] = s[0];
                p->err = msg;
                return RESP_ERR;
            }
            long long bl;
            if (parse_len(s + 1, ll - 1, &bl) != 0 || bl < 0 || bl > p->max_bulk) {
                p->err = "Protocol error: invalid bulk length";
                return RESP_ERR;
            }
            if (p->unauth && bl > 16384) {
                p->err = "Protocol error: unauthenticated bulk length";
                return RESP_ERR;
            }
            p->want_bulk = bl;
            p->pos += ll + 2;
        }
        size_t need = p->pos + (size_t)p->want_bulk + 2;
        if (need > len) {
            *hint = need;
            return RESP_INCOMPLETE;
        }
        if (push_arg(&p->argv, &p->cap, p->argc, p->pos, (size_t)p->want_bulk) != 0) {
            p->err = "Protocol error: out of memory";
            return RESP_ERR;
        }
        p->argc++;
        p->pos = need;
        p->want_bulk = -1;
        p->mb_left--;
    }
    *used = p->pos;
    p->type = 0;
    return RESP_OK;
}
