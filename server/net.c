/* net.c — listeners, connections, reading requests and writing replies.
 *
 * The tick: libev calls read callbacks, which read what arrived; the
 * ev_prepare "before sleep" hook parses and executes it, client by client
 * in the order the kernel reported the sockets (see read_later), and
 * replies accumulate in each client's buffer. The same hook then commits
 * the tick's writes to the WAL (fdatasync with appendfsync always) and only
 * after that writes the replies out: a client is never told OK for a write
 * that is not yet in the log.
 *
 * Clients are freed only in before_sleep (CLIENT_CLOSED), never in the middle
 * of a command, so a command may kill any client, itself included. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server/cmdtable.h"
#include "server/config.h"
#include "server/hooks.h"
#include "server/prefetch.h"
#include "server/reply.h"
#include "server/resp.h"
#include "server/server.h"
#include "server/tracking.h"

#define READ_CHUNK (16 * 1024)
#define READ_MAX   (1024 * 1024)

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents);
static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents);

void server_client_pending_write(client *c) {
    if (c->flags & CLIENT_PENDING_WRITE || c->fd < 0) return;
    c->flags |= CLIENT_PENDING_WRITE;
    c->pw_next = srv.pending_write;
    srv.pending_write = c;
}

client *client_by_id(uint64_t id) {
    for (client *c = srv.clients; c; c = c->next)
        if (c->id == id && !(c->flags & CLIENT_CLOSED)) return c;
    return NULL;
}

void client_close_after_reply(client *c) {
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static void set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void fmt_addr(const struct sockaddr_storage *sa, char *out, size_t cap) {
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)sa;
        inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
        port = ntohs(s->sin_port);
        snprintf(out, cap, "%s:%d", host, port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
        port = ntohs(s->sin6_port);
        snprintf(out, cap, "[%s]:%d", host, port);
    } else if (sa->ss_family == AF_UNIX) {
        snprintf(out, cap, "%s:0", cfg.unixsocket); /* as Redis shows it */
    } else {
        snprintf(out, cap, "?:0");
    }
}

static int is_loopback(const struct sockaddr_storage *sa) {
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)sa;
        return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)sa;
        return IN6_IS_ADDR_LOOPBACK(&s->sin6_addr) || IN6_IS_ADDR_V4MAPPED(&s->sin6_addr);
    }
    return 1;
}

static client *client_new(int fd) {
    client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd = fd;
    c->id = ++srv.next_client_id;
    c->resp = 2;
    c->ctime_ms = c->last_interaction_ms = mstime();
    c->parser = malloc(sizeof(resp_parser));
    resp_parser_init(c->parser, (long long)cfg.proto_max_bulk_len);
    if (!cfg.requirepass || !cfg.requirepass[0]) c->flags |= CLIENT_AUTHENTICATED;
    c->next = srv.clients;
    if (srv.clients) srv.clients->prev = c;
    srv.clients = c;
    srv.nclients++;
    if (fd >= 0) {
        ev_io_init(&c->rio, client_read_cb, fd, EV_READ);
        c->rio.data = c;
        ev_io_start(srv.loop, &c->rio);
        ev_io_init(&c->wio, client_write_cb, fd, EV_WRITE);
        c->wio.data = c;
    }
    return c;
}

/* Mark for freeing at the end of the tick. */
void client_free(client *c) {
    if (c->flags & CLIENT_CLOSED) return;
    c->flags |= CLIENT_CLOSED;
    prefetch_client_gone(c);
    if (c->fd >= 0) {
        ev_io_stop(srv.loop, &c->rio);
        ev_io_stop(srv.loop, &c->wio);
        close(c->fd);
        c->fd = -1;
    }
    hooks_client_closing(c);
}

static void client_release(client *c) {
    if (c->prev) c->prev->next = c->next;
    else srv.clients = c->next;
    if (c->next) c->next->prev = c->prev;
    srv.nclients--;
    buf_free(&c->query);
    buf_free(&c->reply);
    resp_parser_free(c->parser);
    free(c->parser);
    free(c->argv);
    free(c->name);
    free(c);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents) {
    (void)loop;
    (void)revents;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage sa;
        socklen_t slen = sizeof sa;
        int fd = accept4(w->fd, (struct sockaddr *)&sa, &slen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                server_log(3, "accept: %s", strerror(errno));
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (cfg.tcp_keepalive > 0) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        if (srv.nclients >= cfg.maxclients) {
            const char *msg = "-ERR max number of clients reached\r\n";
            if (write(fd, msg, strlen(msg)) < 0) { /* best effort */
            }
            close(fd);
            srv.stat_rejected_conn++;
            continue;
        }
        if (cfg.protected_mode && (!cfg.requirepass || !cfg.requirepass[0]) && !is_loopback(&sa) &&
            !strcmp(cfg.bind, "127.0.0.1")) {
            const char *msg =
                "-DENIED lodis is running in protected mode because protected mode is enabled "
                "and no password is set for the default user. Connect from the loopback "
                "interface, or set requirepass, or disable protected mode with "
                "CONFIG SET protected-mode no, then restart.\r\n";
            if (write(fd, msg, strlen(msg)) < 0) {
            }
            close(fd);
            srv.stat_rejected_conn++;
            continue;
        }
        client *c = client_new(fd);
        if (!c) {
            close(fd);
            continue;
        }
        fmt_addr(&sa, c->addr, sizeof c->addr);
        if (sa.ss_family == AF_UNIX) c->flags |= CLIENT_UNIX;
        struct sockaddr_storage la;
        socklen_t llen = sizeof la;
        if (getsockname(fd, (struct sockaddr *)&la, &llen) == 0)
            fmt_addr(&la, c->laddr, sizeof c->laddr);
        srv.stat_numconnections++;
    }
}

static void add_listener(int fd) {
    set_nonblock(fd);
    srv.listen_fd[srv.nlisten] = fd;
    ev_io_init(&srv.listen_io[srv.nlisten], accept_cb, fd, EV_READ);
    ev_io_start(srv.loop, &srv.listen_io[srv.nlisten]);
    srv.nlisten++;
}

/* The unixsocket listener (Redis's unixsocket / unixsocketperm): a stale
 * socket file from a previous run is replaced. 0, or -1 logged. */
static int listen_unix(void) {
    const char *path = cfg.unixsocket;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path) {
        server_log(3, "unixsocket path too long (at most %zu bytes): %s", sizeof sun.sun_path - 1,
                   path);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    long perm = strtol(cfg.unixsocketperm ? cfg.unixsocketperm : "0", NULL, 8);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
        (perm > 0 && chmod(path, (mode_t)perm) != 0) || listen(fd, (int)cfg.tcp_backlog) != 0) {
        server_log(3, "Could not create server unix socket %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    add_listener(fd);
    return 0;
}

int server_listen(void) {
    /* port 0: no TCP listener, as in Redis (then only the unix socket). */
    char *binds = strdup(cfg.port == 0 ? "" : cfg.bind && cfg.bind[0] ? cfg.bind : "127.0.0.1");
    char *save = NULL;
    int ok = 0;
    if (cfg.unixsocket && cfg.unixsocket[0]) {
        if (listen_unix() != 0) {
            free(binds);
            return -1;
        }
        ok = 1;
    }
    for (char *h = strtok_r(binds, " ", &save); h; h = strtok_r(NULL, " ", &save)) {
        const char *host = h;
        int optional = 0;
        if (host[0] == '-') {
            optional = 1;
            host++;
        }
        if (!strcmp(host, "*")) host = "0.0.0.0";
        struct addrinfo hints = {0}, *res;
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
        char port[16];
        snprintf(port, sizeof port, "%lld", cfg.port);
        if (getaddrinfo(host, port, &hints, &res) != 0) {
            if (optional) continue;
            server_log(3, "Invalid bind address '%s'", host);
            free(binds);
            return -1;
        }
        int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (res->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
            listen(fd, (int)cfg.tcp_backlog) != 0) {
            int e = errno;
            freeaddrinfo(res);
            if (fd >= 0) close(fd);
            if (optional) continue;
            server_log(3, "Could not create server TCP listening socket %s:%lld: %s", host,
                       cfg.port, strerror(e));
            free(binds);
            return -1;
        }
        freeaddrinfo(res);
        if (srv.nlisten < 16) {
            add_listener(fd);
            ok = 1;
        } else {
            close(fd);
        }
    }
    free(binds);
    if (!ok) server_log(3, "No listening socket could be created");
    return ok ? 0 : -1;
}

void server_close_listeners(void) {
    for (int i = 0; i < srv.nlisten; i++) {
        ev_io_stop(srv.loop, &srv.listen_io[i]);
        close(srv.listen_fd[i]);
    }
    srv.nlisten = 0;
    if (cfg.unixsocket && cfg.unixsocket[0]) unlink(cfg.unixsocket);
}

/* Protocol error: reply, then close after the reply is out. */
static void protocol_error(client *c, const char *msg) {
    reply_error(c, msg);
    server_log(1, "Protocol error (%s) from client: id=%llu addr=%s", msg,
               (unsigned long long)c->id, c->addr);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

/* Parse and run every complete request in the query buffer. */
void client_process_input(client *c) {
    resp_parser *p = c->parser;
    while (!(c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSED | CLIENT_BLOCKED |
                         CLIENT_PAUSED | CLIENT_PREFETCH))) {
        size_t avail = c->query.len - c->qpos;
        if (avail == 0) break;
        size_t used = 0, hint = 0;
        p->max_bulk = (long long)cfg.proto_max_bulk_len;
        p->unauth = !(c->flags & CLIENT_AUTHENTICATED);
        int r = resp_parse(p, c->query.p + c->qpos, avail, &used, &hint);
        if (r == RESP_INCOMPLETE) {
            if (hint > avail) buf_reserve(&c->query, hint - avail);
            break;
        }
        if (r == RESP_ERR) {
            protocol_error(c, p->err);
            resp_parser_reset(p);
            break;
        }
        if (r == RESP_EMPTY) {
            c->qpos += used;
            continue;
        }
        if (p->argc > c->argv_cap) {
            int nc = p->argc < 16 ? 16 : p->argc;
            arg *na = realloc(c->argv, (size_t)nc * sizeof *na);
            if (!na) abort();
            c->argv = na;
            c->argv_cap = nc;
        }
        char *base = c->query.p + c->qpos;
        for (int i = 0; i < p->argc; i++) {
            c->argv[i].p = base + p->argv[i].off;
            c->argv[i].len = p->argv[i].len;
        }
        c->argc = p->argc;
        size_t start = c->qpos;
        process_command(c);
        if (c->flags & (CLIENT_PAUSED | CLIENT_PREFETCH)) {
            /* The request stays in the buffer and runs again on unpause
             * or once its keys' pages are read (prefetch.c). */
            c->qpos = start;
            break;
        }
        c->qpos = start + used;
        c->argc = 0;
    }
    if (c->qpos > 0 && !(c->flags & (CLIENT_PAUSED | CLIENT_PREFETCH))) {
        buf_consume(&c->query, c->qpos);
        c->qpos = 0;
        /* An emptied buffer that a burst made big goes back to the heap. */
        if (c->query.len == 0 && c->query.cap > 4 * READ_MAX) buf_free(&c->query);
    }
}

/* Clients whose input arrived in this loop iteration, in the order libev
 * called their read watchers. libev runs the watchers of one poll last
 * reported first (its pending queue is a stack), so running each client's
 * requests from its callback would serve the later of two requests that
 * arrived together first (a DEL before an XREADGROUP ... BLOCK sent just
 * before it). Redis serves them in the order the kernel reported them:
 * so input runs at before-sleep, walking this list backwards. Clients are
 * released only at the end of before-sleep, so the pointers stay valid. */
static client **reads;
static size_t nreads, reads_cap;

static void read_later(client *c) {
    if (nreads == reads_cap) {
        reads_cap = reads_cap ? reads_cap * 2 : 64;
        reads = realloc(reads, reads_cap * sizeof *reads);
        if (!reads) abort();
    }
    reads[nreads++] = c;
}

/* The list being run, walked from its end; `reads` fills meanwhile.
 * Re-entrant: a busy script runs event passes from inside a command that
 * run_reads started (server_busy_flush), and those passes must go on with
 * the clients still waiting in this list (their input is already read, so
 * no new event would ever bring them up), then with what arrived since. */
static client **running;
static size_t nrunning;

static void run_reads(void) {
    for (;;) {
        if (nrunning == 0) {
            if (nreads == 0) break;
            free(running);
            running = reads;
            nrunning = nreads;
            reads = NULL;
            nreads = reads_cap = 0;
        }
        client *c = running[--nrunning];
        if (!(c->flags & (CLIENT_CLOSED | CLIENT_PAUSED | CLIENT_PREFETCH)))
            client_process_input(c);
    }
}

void client_input_ready(client *c) {
    read_later(c);
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents) {
    (void)loop;
    (void)revents;
    client *c = w->data;
    size_t want = READ_CHUNK;
    /* Fill room already reserved (a big argument announced itself), but
     * never read more than READ_MAX at once: everything read runs in this
     * tick, and a tick's writes all land in the memtable before the next
     * checkpoint can start (maxmemory). */
    if (c->query.cap > c->query.len + 1 && c->query.cap - c->query.len - 1 > want)
        want = c->query.cap - c->query.len - 1;
    if (want > READ_MAX) want = READ_MAX;
    buf_reserve(&c->query, want);
    ssize_t n = read(c->fd, c->query.p + c->query.len, want);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        client_free(c);
        return;
    }
    srv.stat_io_reads++;
    c->query.len += (size_t)n;
    c->query.p[c->query.len] = '\0';
    srv.stat_net_input_bytes += (uint64_t)n;
    c->last_interaction_ms = mstime();
    if (c->query.len > cfg.client_query_buffer_limit) {
        server_log(3, "Closing client that reached max query buffer length: id=%llu addr=%s "
                      "(qbuf=%zu)", (unsigned long long)c->id, c->addr, c->query.len);
        client_free(c);
        return;
    }
    if (c->flags & (CLIENT_PAUSED | CLIENT_PREFETCH)) return;
    read_later(c);
}

/* Output buffer limits: Redis's client-output-buffer-limit semantics. */
static int obuf_over_limit(client *c) {
    int cl = c->pubsub_state && (c->flags & CLIENT_PUBSUB) ? OBUF_PUBSUB : OBUF_NORMAL;
    const obuf_limit *l = &cfg.obuf[cl];
    size_t used = c->reply.len - c->sentlen;
    if (l->hard && used >= l->hard) return 1;
    if (l->soft && used >= l->soft) {
        int64_t now = mstime();
        if (!c->obuf_soft_since_ms) c->obuf_soft_since_ms = now;
        else if (now - (int64_t)c->obuf_soft_since_ms >= l->soft_seconds * 1000) return 1;
    } else {
        c->obuf_soft_since_ms = 0;
    }
    return 0;
}

/* Write as much as the socket takes. Returns -1 if the client was freed. */
static int client_write(client *c) {
    while (c->sentlen < c->reply.len) {
        ssize_t n = write(c->fd, c->reply.p + c->sentlen, c->reply.len - c->sentlen);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            client_free(c);
            return -1;
        }
        srv.stat_io_writes++;
        srv.stat_net_output_bytes += (uint64_t)n;
        c->sentlen += (size_t)n;
    }
    if (c->sentlen == c->reply.len) {
        c->sentlen = 0;
        c->reply.len = 0;
        if (c->reply.cap > 1024 * 1024) buf_free(&c->reply);
        if (c->wio_active) {
            ev_io_stop(srv.loop, &c->wio);
            c->wio_active = 0;
        }
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
            client_free(c);
            return -1;
        }
        return 0;
    }
    if (c->sentlen > (1u << 20)) {
        buf_consume(&c->reply, c->sentlen);
        c->sentlen = 0;
    }
    if (obuf_over_limit(c)) {
        server_log(3, "Client id=%llu addr=%s scheduled to be closed ASAP for overcoming of "
                      "output buffer limits.", (unsigned long long)c->id, c->addr);
        client_free(c);
        return -1;
    }
    if (!c->wio_active) {
        ev_io_start(srv.loop, &c->wio);
        c->wio_active = 1;
    }
    return 0;
}

static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents) {
    (void)loop;
    (void)revents;
    client *c = w->data;
    if (c->flags & CLIENT_HELD) return; /* its buffer may hold uncommitted replies */
    client_write(c);
}

/* ------------------------------------------------------------------ */
/* a busy script (see server.h)                                        */

static client *busy_held;   /* pending-write list held back until busy ends */
static client *busy_caller;
static int busy_caller_reading;

void server_busy_begin(client *caller, int hold_pending) {
    if (hold_pending) {
        busy_held = srv.pending_write;
        srv.pending_write = NULL;
        for (client *c = busy_held; c; c = c->pw_next) c->flags |= CLIENT_HELD;
    }
    /* The caller is mid-command: its argv points into its query buffer, so
     * nothing may be read into it until the script returns. */
    busy_caller = caller;
    caller->flags |= CLIENT_HELD;
    busy_caller_reading = caller->fd >= 0 && ev_is_active(&caller->rio);
    if (busy_caller_reading) ev_io_stop(srv.loop, &caller->rio);
}

void server_busy_events(void) {
    ev_run(srv.loop, EVRUN_NOWAIT);
}

void server_busy_flush(void) {
    run_reads(); /* what arrived meanwhile: -BUSY, or the commands allowed */
    client *c = srv.pending_write;
    srv.pending_write = NULL;
    while (c) {
        client *next = c->pw_next;
        if (c->flags & CLIENT_HELD) {
            c->pw_next = busy_held; /* stays pending */
            busy_held = c;
        } else {
            c->flags &= ~CLIENT_PENDING_WRITE;
            c->pw_next = NULL;
            if (!(c->flags & CLIENT_CLOSED) && c->fd >= 0) client_write(c);
        }
        c = next;
    }
}

void server_busy_end(void) {
    client *c = busy_held;
    while (c) {
        client *next = c->pw_next;
        c->flags &= ~CLIENT_HELD;
        c->pw_next = srv.pending_write;
        srv.pending_write = c;
        c = next;
    }
    busy_held = NULL;
    busy_caller->flags &= ~CLIENT_HELD;
    if (busy_caller_reading && !(busy_caller->flags & CLIENT_CLOSED))
        ev_io_start(srv.loop, &busy_caller->rio);
    busy_caller = NULL;
    if (srv.store_poll_deferred) {
        srv.store_poll_deferred = 0;
        store_poll(srv.st);
    }
}

/* before sleep: commit, then flush replies, then free closed clients. */
void server_before_sleep(void) {
    run_reads();
    hooks_before_sleep();
    ks_flush_counters(srv.ks);
    int rc = store_commit(srv.st);
    if (rc != ST_OK) server_log(3, "WAL commit failed: %s", store_strerror(rc));
    srv.tick_writes = 0;
    client *c = srv.pending_write;
    srv.pending_write = NULL;
    while (c) {
        client *next = c->pw_next;
        c->flags &= ~CLIENT_PENDING_WRITE;
        c->pw_next = NULL;
        if (!(c->flags & CLIENT_CLOSED) && c->fd >= 0) client_write(c);
        c = next;
    }
    /* Clients whose replies are all out and that asked to close. */
    for (client *x = srv.clients; x; x = x->next)
        if ((x->flags & CLIENT_CLOSE_AFTER_REPLY) && !(x->flags & CLIENT_CLOSED) &&
            x->reply.len == 0)
            client_free(x);
    client *x = srv.clients;
    while (x) {
        client *next = x->next;
        if (x->flags & CLIENT_CLOSED) client_release(x);
        x = next;
    }
    store_end_tick(srv.st);
}

/* A client with no socket (Lua, MULTI replay, internal use). */
client *client_create_fake(void) {
    client *c = client_new(-1);
    c->flags |= CLIENT_AUTHENTICATED;
    return c;
}

void client_destroy_fake(client *c) {
    client_free(c);
}

void server_free_all_clients(void) {
    for (client *c = srv.clients; c; c = c->next) client_free(c);
    client *x = srv.clients;
    while (x) {
        client *next = x->next;
        client_release(x);
        x = next;
    }
}

void client_info_string(client *c, buf *o) {
    int64_t now = mstime();
    char flags[16];
    int f = 0;
    /* Redis's letter order */
    if (c->flags & CLIENT_MONITOR) flags[f++] = 'O';
    if (c->flags & CLIENT_PUBSUB) flags[f++] = 'P';
    if (c->flags & CLIENT_MULTI) flags[f++] = 'x';
    if (c->flags & CLIENT_BLOCKED) flags[f++] = 'b';
    if (c->flags & CLIENT_TRACKING) flags[f++] = 't';
    if (c->flags & CLIENT_TRACKING_BROKEN_REDIR) flags[f++] = 'R';
    if (c->flags & CLIENT_TRACKING_BCAST) flags[f++] = 'B';
    if (c->flags & CLIENT_DIRTY_CAS) flags[f++] = 'd';
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) flags[f++] = 'c';
    if (c->flags & CLIENT_CLOSE_ASAP) flags[f++] = 'A';
    if (c->flags & CLIENT_UNIX) flags[f++] = 'U';
    if (c->flags & CLIENT_NO_EVICT) flags[f++] = 'e';
    if (f == 0) flags[f++] = 'N';
    flags[f] = '\0';
    size_t argv_mem = 0;
    if (srv.current == c)
        for (int i = 0; i < c->argc; i++) argv_mem += c->argv[i].len;
    char cmdname[64] = "NULL";
    if (c->last_cmd) cmd_fullname(c->last_cmd, cmdname, sizeof cmdname);
    buf_printf(o,
               "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d "
               "sub=%d psub=%d ssub=%d multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu "
               "multi-mem=0 rbs=%zu rbp=%zu obl=0 oll=0 omem=%zu tot-mem=%zu events=%s cmd=%s "
               "user=default redir=%lld resp=%d",
               (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
               (long long)((now - c->ctime_ms) / 1000),
               (long long)((now - c->last_interaction_ms) / 1000), flags, c->db, c->nsub,
               c->npsub, c->nssub, (c->flags & CLIENT_MULTI) ? c->multi_count : -1,
               c->query.len - c->qpos, c->query.cap ? c->query.cap - c->query.len : 0,
               argv_mem, c->reply.cap, c->reply.len, c->reply.len,
               c->query.cap + c->reply.cap + sizeof *c, c->wio_active ? "rw" : "r", cmdname,
               tracking_redirection(c), c->resp);
}
