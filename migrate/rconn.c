/* rconn.c — see rconn.h. */
#include "migrate/rconn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_DEPTH   8
#define MAX_BULK    (512ll << 20) /* Redis's proto-max-bulk-len */
#define MAX_ELEMS   (1ll << 24)

/* ---- URLs ------------------------------------------------------------ */

/* Copy s[0..n) to out, decoding %XX (passwords may hold ':' or '@'). */
static int pct_copy(char *out, size_t cap, const char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 1 >= cap) return -1;
        if (s[i] == '%' && i + 2 < n) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            char *end;
            long v = strtol(hex, &end, 16);
            if (*end) return -1;
            out[o++] = (char)v;
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = 0;
    return 0;
}

int mig_url_parse(const char *s, mig_url *u, char *err, size_t errlen) {
    memset(u, 0, sizeof *u);
    u->db = -1;
    u->port = 6379;
    const char *p = strstr(s, "://");
    if (!p || p - s >= (long)sizeof u->scheme) {
        snprintf(err, errlen, "'%s' is not a URL (expected redis://[user:pass@]host:port[/db])",
                 s);
        return -1;
    }
    memcpy(u->scheme, s, (size_t)(p - s));
    p += 3;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (pct_copy(u->user, sizeof u->user, p, (size_t)(colon - p)) ||
                pct_copy(u->pass, sizeof u->pass, colon + 1, (size_t)(at - colon - 1)))
                goto bad;
        } else if (pct_copy(u->pass, sizeof u->pass, p, (size_t)(at - p))) {
            goto bad; /* redis://password@host, as redis-cli -u takes it */
        }
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    size_t hl = slash ? (size_t)(slash - p) : strlen(p);
    const char *colon = memchr(p, ':', hl);
    if (p[0] == '[') colon = NULL; /* IPv6 literals: [::1]:port */
    if (p[0] == '[') {
        const char *rb = memchr(p, ']', hl);
        if (!rb) goto bad;
        if ((size_t)(rb - p - 1) >= sizeof u->host) goto bad;
        memcpy(u->host, p + 1, (size_t)(rb - p - 1));
        if (rb + 1 < p + hl && rb[1] == ':') colon = rb + 1;
    } else {
        size_t n = colon ? (size_t)(colon - p) : hl;
        if (n == 0 || n >= sizeof u->host) goto bad;
        memcpy(u->host, p, n);
    }
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (end != p + hl || port <= 0 || port > 65535) goto bad;
        u->port = (int)port;
    }
    if (slash && slash[1]) {
        char *end;
        long db = strtol(slash + 1, &end, 10);
        if (*end || db < 0 || db > 1000000) goto bad;
        u->db = (int)db;
    }
    return 0;
bad:
    snprintf(err, errlen, "cannot read the URL '%s' (expected %s://[user:pass@]host:port[/db])",
             s, u->scheme[0] ? u->scheme : "redis");
    return -1;
}

/* ---- connection ------------------------------------------------------ */

int rc_connect(rconn *c, const char *host, int port, int timeout_ms) {
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->timeout_ms = timeout_ms;
    snprintf(c->where, sizeof c->where, "%s:%d", host, port);
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, ps, &hints, &res);
    if (gai) {
        snprintf(c->err, sizeof c->err, "cannot resolve '%s': %s", host, gai_strerror(gai));
        return -1;
    }
    int last = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd pf = {fd, POLLOUT, 0};
            int soerr = ETIMEDOUT;
            socklen_t sl = sizeof soerr;
            if (poll(&pf, 1, timeout_ms) == 1) getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            rc = soerr ? -1 : 0;
            errno = soerr;
        }
        if (rc == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->fd = fd;
            break;
        }
        last = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (c->fd < 0) {
        snprintf(c->err, sizeof c->err, "cannot connect to %s: %s%s", c->where, strerror(last),
                 last == ECONNREFUSED ? " (is the server running, and is that its port?)"
                 : last == ETIMEDOUT ? " (check the host, and any firewall between)" : "");
        return -1;
    }
    return 0;
}

void rc_close(rconn *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    free(c->in);
    free(c->out);
    c->in = c->out = NULL;
    c->ilen = c->ipos = c->icap = c->olen = c->opos = c->ocap = 0;
}

static void out_reserve(rconn *c, size_t n) {
    if (c->opos && c->opos == c->olen) c->opos = c->olen = 0;
    if (c->olen + n <= c->ocap) return;
    if (c->opos > c->olen / 2) {
        memmove(c->out, c->out + c->opos, c->olen - c->opos);
        c->olen -= c->opos;
        c->opos = 0;
        if (c->olen + n <= c->ocap) return;
    }
    size_t cap = c->ocap ? c->ocap : 65536;
    while (cap < c->olen + n) cap *= 2;
    uint8_t *p = realloc(c->out, cap);
    if (!p) abort(); /* a command buffer we cannot hold: nothing sane to do */
    c->out = p;
    c->ocap = cap;
}

void rc_append_raw(rconn *c, const void *p, size_t n) {
    out_reserve(c, n);
    memcpy(c->out + c->olen, p, n);
    c->olen += n;
}

void rc_append(rconn *c, int argc, const char *const *argv, const size_t *lens) {
    char h[32];
    int n = snprintf(h, sizeof h, "*%d\r\n", argc);
    rc_append_raw(c, h, (size_t)n);
    for (int i = 0; i < argc; i++) {
        n = snprintf(h, sizeof h, "$%zu\r\n", lens[i]);
        rc_append_raw(c, h, (size_t)n);
        rc_append_raw(c, argv[i], lens[i]);
        rc_append_raw(c, "\r\n", 2);
    }
}

static void append_va(rconn *c, int argc, va_list ap) {
    const char *argv[16];
    size_t lens[16];
    if (argc > 16) argc = 16;
    for (int i = 0; i < argc; i++) {
        argv[i] = va_arg(ap, const char *);
        lens[i] = strlen(argv[i]);
    }
    rc_append(c, argc, argv, lens);
}

void rc_appendv(rconn *c, int argc, ...) {
    va_list ap;
    va_start(ap, argc);
    append_va(c, argc, ap);
    va_end(ap);
}

int rc_write(rconn *c, int block) {
    while (c->opos < c->olen) {
        ssize_t n = write(c->fd, c->out + c->opos, c->olen - c->opos);
        if (n > 0) {
            c->opos += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!block) return 0;
            struct pollfd pf = {c->fd, POLLOUT, 0};
            int pr = poll(&pf, 1, c->timeout_ms);
            if (pr == 0) {
                snprintf(c->err, sizeof c->err, "%s: timed out writing", c->where);
                return -1;
            }
            continue;
        }
        snprintf(c->err, sizeof c->err, "%s: connection lost while writing: %s", c->where,
                 strerror(errno));
        return -1;
    }
    c->opos = c->olen = 0;
    return 0;
}

int rc_fill(rconn *c, int timeout_ms) {
    if (timeout_ms < 0) timeout_ms = c->timeout_ms;
    if (c->ipos && c->ipos == c->ilen) c->ipos = c->ilen = 0;
    if (c->ipos > (1u << 20) && c->ipos > c->ilen / 2) {
        memmove(c->in, c->in + c->ipos, c->ilen - c->ipos);
        c->ilen -= c->ipos;
        c->ipos = 0;
    }
    if (c->icap - c->ilen < 65536) {
        size_t cap = c->icap ? c->icap * 2 : 131072;
        uint8_t *p = realloc(c->in, cap);
        if (!p) {
            snprintf(c->err, sizeof c->err, "out of memory reading from %s", c->where);
            return -1;
        }
        c->in = p;
        c->icap = cap;
    }
    for (;;) {
        ssize_t n = read(c->fd, c->in + c->ilen, c->icap - c->ilen);
        if (n > 0) {
            c->ilen += (size_t)n;
            return (int)(n > 0x7fffffff ? 0x7fffffff : n);
        }
        if (n == 0) {
            snprintf(c->err, sizeof c->err, "%s closed the connection", c->where);
            return -1;
        }
        if (errno == EINTR) return 0; /* a signal: let the caller look at its flags */
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(c->err, sizeof c->err, "%s: read error: %s", c->where, strerror(errno));
            return -1;
        }
        if (timeout_ms == 0) return 0;
        struct pollfd pf = {c->fd, POLLIN, 0};
        int pr = poll(&pf, 1, timeout_ms);
        if (pr == 0) return 0;
        if (pr < 0 && errno == EINTR) return 0;
    }
}

/* Free what r holds (not r itself: array elements live in one block). */
static void free_fields(rreply *r) {
    if (r->type == '*')
        for (long long i = 0; i < r->n; i++) free_fields(&r->el[i]);
    free(r->el);
    free(r->s);
}

void rreply_free(rreply *r) {
    if (!r) return;
    free_fields(r);
    free(r);
}

/* Parse into *r at p[*pos..end): 1 done, 0 incomplete, -1 bad. */
static int parse_at(const uint8_t *p, size_t end, size_t *pos, rreply *r, int depth) {
    if (depth > MAX_DEPTH) return -1;
    size_t i = *pos;
    if (i >= end) return 0;
    const uint8_t *nl = memchr(p + i, '\n', end - i);
    if (!nl) return end - i > 65536 ? -1 : 0;
    size_t le = (size_t)(nl - p); /* index of '\n' */
    if (le == i || p[le - 1] != '\r') return -1;
    int t = p[i];
    size_t ll = le - 1 - (i + 1);
    char line[64];
    memset(r, 0, sizeof *r);
    r->type = t;
    switch (t) {
    case '+':
    case '-':
        r->s = malloc(ll + 1);
        if (!r->s) return -1;
        memcpy(r->s, p + i + 1, ll);
        r->s[ll] = 0;
        r->len = ll;
        *pos = le + 1;
        return 1;
    case ':':
    case '$':
    case '*': {
        if (ll == 0 || ll >= sizeof line) return -1;
        memcpy(line, p + i + 1, ll);
        line[ll] = 0;
        char *e;
        long long v = strtoll(line, &e, 10);
        if (*e) return -1;
        if (t == ':') {
            r->n = v;
            *pos = le + 1;
            return 1;
        }
        if (v < 0) {
            r->type = 0;
            *pos = le + 1;
            return 1;
        }
        if (t == '$') {
            if (v > MAX_BULK) return -1;
            size_t need = le + 1 + (size_t)v + 2;
            if (need > end) return 0;
            r->s = malloc((size_t)v + 1);
            if (!r->s) return -1;
            memcpy(r->s, p + le + 1, (size_t)v);
            r->s[v] = 0;
            r->len = (size_t)v;
            *pos = need;
            return 1;
        }
        if (v > MAX_ELEMS) return -1;
        r->n = v;
        r->el = calloc(v ? (size_t)v : 1, sizeof *r->el);
        if (!r->el) return -1;
        size_t q = le + 1;
        for (long long k = 0; k < v; k++) {
            int rc = parse_at(p, end, &q, &r->el[k], depth + 1);
            if (rc != 1) {
                r->n = k; /* free what was parsed */
                free_fields(r);
                memset(r, 0, sizeof *r);
                return rc;
            }
        }
        *pos = q;
        return 1;
    }
    default: return -1;
    }
}

int rc_parse(rconn *c, rreply **out) {
    rreply *r = malloc(sizeof *r);
    if (!r) return -1;
    size_t pos = c->ipos;
    int rc = parse_at(c->in, c->ilen, &pos, r, 0);
    if (rc != 1) {
        free(r);
        if (rc < 0) snprintf(c->err, sizeof c->err, "%s: protocol error in a reply", c->where);
        return rc;
    }
    c->ipos = pos;
    *out = r;
    return 1;
}

rreply *rc_read(rconn *c) {
    if (rc_write(c, 1) != 0) return NULL;
    for (;;) {
        rreply *r;
        int rc = rc_parse(c, &r);
        if (rc == 1) return r;
        if (rc < 0) return NULL;
        int n = rc_fill(c, -1);
        if (n < 0) return NULL;
        if (n == 0) {
            extern volatile int mig_interrupted;
            if (mig_interrupted) {
                snprintf(c->err, sizeof c->err, "interrupted");
                return NULL;
            }
            /* rc_fill returns 0 on timeout or on a signal; tell them apart */
            struct pollfd pf = {c->fd, POLLIN, 0};
            if (poll(&pf, 1, 0) == 0 && !mig_interrupted) {
                snprintf(c->err, sizeof c->err, "%s: no reply within %d s", c->where,
                         c->timeout_ms / 1000);
                return NULL;
            }
        }
    }
}

rreply *rc_cmd(rconn *c, int argc, ...) {
    va_list ap;
    va_start(ap, argc);
    append_va(c, argc, ap);
    va_end(ap);
    return rc_read(c);
}

int rc_open_url(rconn *c, const mig_url *u, int timeout_ms) {
    if (rc_connect(c, u->host, u->port, timeout_ms) != 0) return -1;
    rreply *r;
    if (u->pass[0]) {
        r = u->user[0] ? rc_cmd(c, 3, "AUTH", u->user, u->pass) : rc_cmd(c, 2, "AUTH", u->pass);
        if (!r) return -1;
        if (r->type == '-') {
            snprintf(c->err, sizeof c->err, "%s refused the credentials: %s (check the "
                     "user:password part of the URL)", c->where, r->s);
            rreply_free(r);
            return -1;
        }
        rreply_free(r);
    }
    r = rc_cmd(c, 1, "PING");
    if (!r) return -1;
    if (r->type == '-') {
        if (!strncmp(r->s, "NOAUTH", 6))
            snprintf(c->err, sizeof c->err, "%s needs a password: give it in the URL, as "
                     "%s://[user:]PASSWORD@%s", c->where, u->scheme, c->where);
        else
            snprintf(c->err, sizeof c->err, "%s: PING failed: %s", c->where, r->s);
        rreply_free(r);
        return -1;
    }
    rreply_free(r);
    return 0;
}
