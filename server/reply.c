/* reply.c — protocol encoding of replies; see reply.h.
 *
 * All RESP2/RESP3 differences live here. Replies go to c->reply; the
 * connection layer writes it out after the tick's WAL commit, so a client
 * never sees the reply to a write that is not yet durable. */
#include "server/reply.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "server/client.h"
#include "server/server.h"
#include "storage/num.h"

static inline int muted(client *c) {
    return (c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) != 0 &&
           !(c->flags & CLIENT_PUSHING);
}

static void after_add(client *c) {
    server_client_pending_write(c);
}

void reply_raw(client *c, const void *p, size_t len) {
    if (muted(c)) return;
    buf_append(&c->reply, p, len);
    after_add(c);
}

static void add_header(client *c, char prefix, long long n) {
    char tmp[32];
    tmp[0] = prefix;
    size_t l = 1 + num_ll_to_str(tmp + 1, sizeof tmp - 3, n);
    tmp[l++] = '\r';
    tmp[l++] = '\n';
    reply_raw(c, tmp, l);
}

void reply_ok(client *c) {
    reply_raw(c, "+OK\r\n", 5);
}

void reply_status_len(client *c, const char *s, size_t len) {
    if (muted(c)) return;
    buf_reserve(&c->reply, len + 3);
    buf_append(&c->reply, "+", 1);
    buf_append(&c->reply, s, len);
    buf_append(&c->reply, "\r\n", 2);
    after_add(c);
}

void reply_status(client *c, const char *s) {
    reply_status_len(c, s, strlen(s));
}

static void error_reply(client *c, const char *text, int count) {
    /* Like Redis: a text starting with '-' carries its own error code
     * ("-WRONGTYPE ..."), any other gets "ERR ". */
    int own = text[0] == '-';
    if (own) text++;
    if (count) server_count_error(own ? text : "ERR");
    if (muted(c)) return;
    size_t len = strlen(text);
    buf_reserve(&c->reply, len + 8);
    buf_append(&c->reply, own ? "-" : "-ERR ", own ? 1 : 5);
    size_t start = c->reply.len;
    buf_append(&c->reply, text, len);
    for (size_t i = start; i < c->reply.len; i++)
        if (c->reply.p[i] == '\r' || c->reply.p[i] == '\n') c->reply.p[i] = ' ';
    buf_append(&c->reply, "\r\n", 2);
    after_add(c);
}

void reply_error(client *c, const char *text) {
    error_reply(c, text, 1);
}

void reply_error_counted_before(client *c, const char *text) {
    error_reply(c, text, 0);
}

void reply_errorf(client *c, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    reply_error(c, tmp);
}

void reply_int(client *c, long long v) {
    if (v >= 0 && v <= 9) {
        char tmp[4] = {':', (char)('0' + v), '\r', '\n'};
        reply_raw(c, tmp, 4);
        return;
    }
    add_header(c, ':', v);
}

void reply_bulk(client *c, const void *p, size_t len) {
    if (muted(c)) return;
    char tmp[32];
    tmp[0] = '$';
    size_t l = 1 + num_ll_to_str(tmp + 1, sizeof tmp - 3, (long long)len);
    tmp[l++] = '\r';
    tmp[l++] = '\n';
    buf_reserve(&c->reply, l + len + 2);
    buf_append(&c->reply, tmp, l);
    buf_append(&c->reply, p, len);
    buf_append(&c->reply, "\r\n", 2);
    after_add(c);
}

void reply_bulk_cstr(client *c, const char *s) {
    if (!s) reply_null(c);
    else reply_bulk(c, s, strlen(s));
}

void reply_bulk_ll(client *c, long long v) {
    char tmp[32];
    size_t l = num_ll_to_str(tmp, sizeof tmp, v);
    reply_bulk(c, tmp, l);
}

void reply_null(client *c) {
    if (c->resp >= 3) reply_raw(c, "_\r\n", 3);
    else reply_raw(c, "$-1\r\n", 5);
}

void reply_null_array(client *c) {
    if (c->resp >= 3) reply_raw(c, "_\r\n", 3);
    else reply_raw(c, "*-1\r\n", 5);
}

void reply_array_len(client *c, long long n) {
    add_header(c, '*', n);
}

void reply_map_len(client *c, long long n) {
    if (c->resp >= 3) add_header(c, '%', n);
    else add_header(c, '*', n * 2);
}

void reply_set_len(client *c, long long n) {
    add_header(c, c->resp >= 3 ? '~' : '*', n);
}

void reply_push_len(client *c, long long n) {
    add_header(c, c->resp >= 3 ? '>' : '*', n);
}

void reply_empty_array(client *c) {
    reply_raw(c, "*0\r\n", 4);
}

void reply_double(client *c, double d) {
    char tmp[64];
    size_t l = num_double_to_str(tmp, sizeof tmp, d);
    if (c->resp >= 3) {
        char out[80];
        out[0] = ',';
        memcpy(out + 1, tmp, l);
        out[l + 1] = '\r';
        out[l + 2] = '\n';
        reply_raw(c, out, l + 3);
    } else {
        reply_bulk(c, tmp, l);
    }
}

void reply_bool(client *c, int b) {
    if (c->resp >= 3) reply_raw(c, b ? "#t\r\n" : "#f\r\n", 4);
    else reply_raw(c, b ? ":1\r\n" : ":0\r\n", 4);
}

void reply_verbatim(client *c, const char *p, size_t len, const char *ext) {
    if (c->resp < 3) {
        reply_bulk(c, p, len);
        return;
    }
    if (muted(c)) return;
    char tmp[48];
    int l = snprintf(tmp, sizeof tmp, "=%zu\r\n%.3s:", len + 4, ext);
    buf_append(&c->reply, tmp, (size_t)l);
    buf_append(&c->reply, p, len);
    buf_append(&c->reply, "\r\n", 2);
    after_add(c);
}

void reply_bignum(client *c, const char *p, size_t len) {
    if (c->resp < 3) {
        reply_bulk(c, p, len);
        return;
    }
    if (muted(c)) return;
    buf_append(&c->reply, "(", 1);
    buf_append(&c->reply, p, len);
    buf_append(&c->reply, "\r\n", 2);
    after_add(c);
}

void reply_help(client *c, const char *cmd, const char **lines) {
    long long n = 0;
    while (lines[n]) n++;
    reply_array_len(c, n + 1);
    char head[128];
    snprintf(head, sizeof head, "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             cmd);
    reply_status(c, head);
    for (long long i = 0; i < n; i++) reply_status(c, lines[i]);
}

/* Deferred lengths: a placeholder of fixed width is reserved and patched.
 * The placeholder is 1 prefix + 20 digits + CRLF; patching shifts the tail
 * left, which is cheap because deferred replies are usually short. */
#define DEFER_W 23

reply_deferred reply_defer_len(client *c) {
    if (muted(c)) return (size_t)-1;
    size_t at = c->reply.len;
    buf_reserve(&c->reply, DEFER_W);
    memset(c->reply.p + at, ' ', DEFER_W);
    c->reply.len += DEFER_W;
    c->reply.p[c->reply.len] = '\0';
    after_add(c);
    return at;
}

void reply_set_deferred_len(client *c, reply_deferred h, long long n, enum reply_agg kind) {
    if (h == (size_t)-1) return;
    char prefix = '*';
    if (c->resp >= 3) {
        switch (kind) {
        case REPLY_MAP: prefix = '%'; break;
        case REPLY_SET: prefix = '~'; break;
        case REPLY_PUSH: prefix = '>'; break;
        case REPLY_ATTR: prefix = '|'; break;
        default: prefix = '*'; break;
        }
    } else if (kind == REPLY_MAP || kind == REPLY_ATTR) {
        n *= 2;
    }
    char tmp[DEFER_W + 1];
    tmp[0] = prefix;
    size_t l = 1 + num_ll_to_str(tmp + 1, sizeof tmp - 3, n);
    tmp[l++] = '\r';
    tmp[l++] = '\n';
    memcpy(c->reply.p + h, tmp, l);
    size_t tail = c->reply.len - (h + DEFER_W);
    memmove(c->reply.p + h + l, c->reply.p + h + DEFER_W, tail);
    c->reply.len -= DEFER_W - l;
    c->reply.p[c->reply.len] = '\0';
}

unsigned reply_push_begin(client *c) {
    unsigned saved = c->flags & CLIENT_PUSHING;
    c->flags |= CLIENT_PUSHING;
    return saved;
}

void reply_push_end(client *c, unsigned saved) {
    if (!saved) c->flags &= ~CLIENT_PUSHING;
}
