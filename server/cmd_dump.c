/* cmd_dump.c — DUMP, RESTORE and MIGRATE: a key's value as a Redis 7.0
 * DUMP payload (RDB object · RDB version · CRC-64), so payloads move
 * between lodis and Redis in both directions.
 *
 * The codec is storage/rdb.c. RESTORE verifies the footer, then decodes
 * into a fresh, unpublished collection id; only a fully valid value is
 * published as the key (through the keyspace's one write path), so a bad
 * payload changes nothing. Error texts are Redis 7.0's.
 *
 * MIGRATE is blocking, as in Redis: it connects, writes the RESTORE
 * commands and reads their replies with the given timeout while the event
 * loop waits. Unlike Redis it keeps no cache of connections: each call
 * connects, sends SELECT, and closes (the replies are the same). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include "server/args.h"
#include "server/client.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/notify.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/keyspace.h"
#include "storage/rdb.h"

#define K(i) c->argv[i].p, c->argv[i].len

#define ERR_BAD_PAYLOAD "DUMP payload version or checksum are wrong"
#define ERR_BUSYKEY     "-BUSYKEY Target key name already exists."
#define ERR_BAD_FORMAT  "Bad data format"

static void limits_from_config(rdb_limits *l) {
    rdb_limits_default(l);
    l->hash_max_listpack_entries = cfg.hash_max_listpack_entries;
    l->hash_max_listpack_value = cfg.hash_max_listpack_value;
    l->set_max_intset_entries = cfg.set_max_intset_entries;
    l->zset_max_listpack_entries = cfg.zset_max_listpack_entries;
    l->zset_max_listpack_value = cfg.zset_max_listpack_value;
    l->list_max_listpack_size = cfg.list_max_listpack_size;
    l->stream_node_max_bytes = cfg.stream_node_max_bytes;
    l->stream_node_max_entries = cfg.stream_node_max_entries;
}

/* The DUMP payload of key i into out. 1 found, 0 missing, -1 replied. */
static int payload_or_reply(client *c, int i, rdb_buf *out, int64_t *expire) {
    ks_meta m;
    int r = lookup_read_or_reply(c, i, KS_NONE, &m);
    if (r <= 0) return r;
    rdb_limits lim;
    limits_from_config(&lim);
    int rc = rdb_dump_payload(srv.ks, &m, &lim, out);
    if (expire) *expire = m.expire;
    ks_meta_release(&m);
    if (rc) {
        reply_store_error(c, rc);
        return -1;
    }
    return 1;
}

/* DUMP key */
void dump_command(client *c) {
    rdb_buf b = {0};
    int r = payload_or_reply(c, 1, &b, NULL);
    if (r == 0) reply_null(c);
    else if (r > 0) reply_bulk(c, b.p, b.len);
    rdb_buf_free(&b);
}

/* RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
 *         [FREQ frequency] */
void restore_command(client *c) {
    long long ttl, freq = -1, idle = -1;
    int replace = 0, absttl = 0;
    for (int j = 4; j < c->argc; j++) {
        int more = c->argc - j - 1;
        if (arg_is(&c->argv[j], "replace")) {
            replace = 1;
        } else if (arg_is(&c->argv[j], "absttl")) {
            absttl = 1;
        } else if (arg_is(&c->argv[j], "idletime") && more >= 1 && freq == -1) {
            if (arg_ll_or_reply(c, &c->argv[j + 1], &idle, NULL) != 0) return;
            if (idle < 0) {
                reply_error(c, "Invalid IDLETIME value, must be >= 0");
                return;
            }
            j++;
        } else if (arg_is(&c->argv[j], "freq") && more >= 1 && idle == -1) {
            if (arg_ll_or_reply(c, &c->argv[j + 1], &freq, NULL) != 0) return;
            if (freq < 0 || freq > 255) {
                reply_error(c, "Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (!replace) {
        ks_meta m;
        int rc = ks_lookup_notouch(srv.ks, c->db, K(1), KS_NONE, &m);
        if (rc == ST_OK) {
            ks_meta_release(&m);
            reply_error(c, ERR_BUSYKEY);
            return;
        }
        if (rc != ST_NOTFOUND) {
            reply_store_error(c, rc);
            return;
        }
    }
    if (arg_ll_or_reply(c, &c->argv[2], &ttl, NULL) != 0) return;
    if (ttl < 0) {
        reply_error(c, "Invalid TTL value, must be >= 0");
        return;
    }
    const uint8_t *p = (const uint8_t *)c->argv[3].p;
    size_t body;
    if (rdb_payload_verify(p, c->argv[3].len, &body) != ST_OK) {
        reply_error(c, ERR_BAD_PAYLOAD);
        return;
    }
    rdb_rd r;
    rdb_rd_init(&r, p, body);
    uint8_t type;
    rdb_limits lim;
    limits_from_config(&lim);
    rdb_obj o;
    const char *why;
    if (rdb_get_byte(&r, &type) || !rdb_is_object_type(type)) {
        reply_error(c, ERR_BAD_FORMAT);
        return;
    }
    int rc = rdb_decode_value(srv.ks, type, &r, &lim, &o, &why);
    if (rc == ST_CORRUPT || rc == ST_INVALID || rc == ST_NOTFOUND) {
        reply_error(c, ERR_BAD_FORMAT);
        return;
    }
    if (rc) {
        reply_store_error(c, rc);
        return;
    }
    int deleted = 0;
    if (replace) {
        deleted = ks_delete(srv.ks, c->db, K(1));
        if (deleted < 0) {
            rdb_obj_discard(srv.ks, &o);
            reply_store_error(c, deleted);
            return;
        }
    }
    int64_t now = ks_now(srv.ks);
    if (ttl && !absttl) ttl += now;
    if (ttl && ttl <= now) {
        rdb_obj_discard(srv.ks, &o);
        if (deleted) notify_keyspace_event(NOTIFY_GENERIC, "del", K(1), c->db);
        reply_ok(c);
        return;
    }
    if ((rc = rdb_obj_publish(srv.ks, &o, c->db, K(1), ttl))) {
        reply_store_error(c, rc);
        return;
    }
    if (idle >= 0 || freq >= 0) ks_set_access(srv.ks, c->db, K(1), idle, (int)freq);
    notify_keyspace_event(NOTIFY_GENERIC, "restore", K(1), c->db);
    reply_ok(c);
}

/* ------------------------------------------------------------------ */
/* MIGRATE                                                             */

/* Connect to host:port within timeout_ms; returns the fd or -1. */
static int connect_timeout(const char *host, const char *port, long timeout_ms) {
    struct addrinfo hints, *res, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd pf = {fd, POLLOUT, 0};
            int err = 0;
            socklen_t el = sizeof err;
            if (poll(&pf, 1, (int)timeout_ms) == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0)
                rc = 0;
        }
        if (rc == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

/* Write all of buf, each chunk within timeout_ms. 0 or -1 (errno set). */
static int write_timeout(int fd, const uint8_t *data, size_t len, long timeout_ms) {
    size_t off = 0;
    while (off < len) {
        struct pollfd pf = {fd, POLLOUT, 0};
        int pr = poll(&pf, 1, (int)timeout_ms);
        if (pr == 0) errno = ETIMEDOUT;
        if (pr <= 0) return -1;
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) return -1;
        off += (size_t)n;
    }
    return 0;
}

typedef struct linebuf {
    char buf[4096];
    size_t len, pos;
} linebuf;

/* One reply line (CRLF stripped) into out; -1 on error or timeout. */
static int read_line(int fd, linebuf *lb, char *out, size_t cap, long timeout_ms) {
    size_t n = 0;
    for (;;) {
        if (lb->pos == lb->len) {
            struct pollfd pf = {fd, POLLIN, 0};
            int pr = poll(&pf, 1, (int)timeout_ms);
            if (pr == 0) errno = ETIMEDOUT;
            if (pr <= 0) return -1;
            ssize_t r = recv(fd, lb->buf, sizeof lb->buf, 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r <= 0) return -1;
            lb->len = (size_t)r;
            lb->pos = 0;
        }
        char ch = lb->buf[lb->pos++];
        if (ch == '\n') {
            if (n && out[n - 1] == '\r') n--;
            out[n] = '\0';
            return 0;
        }
        if (n + 1 < cap) out[n++] = ch;
    }
}

static void put_bulk(rdb_buf *b, const void *p, size_t len) {
    char hdr[32];
    int n = snprintf(hdr, sizeof hdr, "$%zu\r\n", len);
    rdb_put_raw(b, hdr, (size_t)n);
    rdb_put_raw(b, p, len);
    rdb_put_raw(b, "\r\n", 2);
}

static void put_count(rdb_buf *b, int n) {
    char hdr[32];
    int l = snprintf(hdr, sizeof hdr, "*%d\r\n", n);
    rdb_put_raw(b, hdr, (size_t)l);
}

/* MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
 *         [AUTH password] [AUTH2 username password] [KEYS key [key ...]] */
void migrate_command(client *c) {
    int copy = 0, replace = 0, first_key = 3, num_keys = 1;
    const arg *user = NULL, *pass = NULL;
    for (int j = 6; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "copy")) {
            copy = 1;
        } else if (arg_is(&c->argv[j], "replace")) {
            replace = 1;
        } else if (arg_is(&c->argv[j], "auth")) {
            if (!more) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
            pass = &c->argv[++j];
        } else if (arg_is(&c->argv[j], "auth2")) {
            if (more < 2) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
            user = &c->argv[++j];
            pass = &c->argv[++j];
        } else if (arg_is(&c->argv[j], "keys")) {
            if (c->argv[3].len != 0) {
                reply_error(c, "When using MIGRATE KEYS option, the key argument must be set to "
                               "the empty string");
                return;
            }
            first_key = j + 1;
            num_keys = c->argc - j - 1;
            break;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    long long timeout, dbid;
    if (arg_ll_or_reply(c, &c->argv[5], &timeout, NULL) != 0 ||
        arg_ll_or_reply(c, &c->argv[4], &dbid, NULL) != 0)
        return;
    if (timeout <= 0) timeout = 1000;

    /* Serialize every key that exists now. */
    rdb_buf cmd = {0};
    int *idx = malloc(sizeof(int) * (size_t)(num_keys > 0 ? num_keys : 1));
    int n = 0;
    if (!idx) {
        reply_store_error(c, ST_NOMEM);
        return;
    }
    if (pass) {
        put_count(&cmd, user ? 3 : 2);
        put_bulk(&cmd, "AUTH", 4);
        if (user) put_bulk(&cmd, user->p, user->len);
        put_bulk(&cmd, pass->p, pass->len);
    }
    char num[32];
    put_count(&cmd, 2);
    put_bulk(&cmd, "SELECT", 6);
    put_bulk(&cmd, num, (size_t)snprintf(num, sizeof num, "%lld", dbid));
    int64_t now = ks_now(srv.ks);
    for (int j = 0; j < num_keys; j++) {
        rdb_buf pl = {0};
        int64_t expire = 0;
        int r = payload_or_reply(c, first_key + j, &pl, &expire);
        if (r < 0) {
            rdb_buf_free(&pl);
            rdb_buf_free(&cmd);
            free(idx);
            return;
        }
        if (r == 0) continue;
        long long ttl = 0;
        if (expire) {
            ttl = expire - now;
            if (ttl < 1) ttl = 1;
        }
        put_count(&cmd, replace ? 5 : 4);
        put_bulk(&cmd, "RESTORE", 7);
        put_bulk(&cmd, c->argv[first_key + j].p, c->argv[first_key + j].len);
        put_bulk(&cmd, num, (size_t)snprintf(num, sizeof num, "%lld", ttl));
        put_bulk(&cmd, pl.p, pl.len);
        if (replace) put_bulk(&cmd, "REPLACE", 7);
        rdb_buf_free(&pl);
        idx[n++] = first_key + j;
    }
    if (n == 0) {
        reply_status(c, "NOKEY");
        goto out;
    }
    if (cmd.oom) {
        reply_store_error(c, ST_NOMEM);
        goto out;
    }

    char host[256], port[32];
    snprintf(host, sizeof host, "%.*s", (int)c->argv[1].len, c->argv[1].p);
    snprintf(port, sizeof port, "%.*s", (int)c->argv[2].len, c->argv[2].p);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = connect_timeout(host, port, (long)timeout);
        if (fd < 0) {
            reply_error(c, "-IOERR error or timeout connecting to the client");
            goto out;
        }
        int write_error = 0, done = 0;
        errno = 0;
        linebuf lb = {.len = 0, .pos = 0};
        char b0[1024] = "", b1[1024] = "", b2[1024];
        int j = 0, error_from_target = 0;
        if (write_timeout(fd, cmd.p, cmd.len, (long)timeout) != 0) {
            write_error = 1;
        } else if ((pass && read_line(fd, &lb, b0, sizeof b0, (long)timeout) != 0) ||
                   read_line(fd, &lb, b1, sizeof b1, (long)timeout) != 0) {
            /* socket error before any RESTORE reply */
        } else {
            for (j = 0; j < n; j++) {
                if (read_line(fd, &lb, b2, sizeof b2, (long)timeout) != 0) break;
                if ((pass && b0[0] == '-') || b1[0] == '-' || b2[0] == '-') {
                    if (!error_from_target) {
                        const char *e = (pass && b0[0] == '-') ? b0 : b1[0] == '-' ? b1 : b2;
                        reply_errorf(c, "Target instance replied with error: %s", e + 1);
                        error_from_target = 1;
                    }
                } else if (!copy) {
                    if (ks_delete(srv.ks, c->db, K(idx[j])) > 0)
                        notify_keyspace_event(NOTIFY_GENERIC, "del", K(idx[j]), c->db);
                }
            }
            done = j == n;
        }
        int timed_out = errno == ETIMEDOUT;
        close(fd);
        if (error_from_target) goto out;
        if (done) {
            reply_ok(c);
            goto out;
        }
        /* Retry once, as Redis does, unless it timed out or some RESTORE
         * was already answered. */
        if (attempt == 0 && !timed_out && j == 0) continue;
        reply_errorf(c, "-IOERR error or timeout %s to target instance",
                     write_error ? "writing" : "reading");
        goto out;
    }
out:
    rdb_buf_free(&cmd);
    free(idx);
}
