/* lodis-txbench — transactions per second of MULTI + 4 commands + EXEC, for
 * scripts/bench (redis-benchmark sends one command per request, so it
 * cannot express a transaction). Test-only; never installed.
 *
 *   lodis-txbench [-h HOST] [-p PORT] [-c CLIENTS] [-n TRANSACTIONS]
 *                 [-P PIPELINE] [-r KEYSPACE] [-d DATASIZE]
 *
 * Each transaction is what a client library sends for a small atomic
 * update: MULTI, INCR counter:<r>, SET key:<r> <data>, GET key:<r>,
 * EXPIRE counter:<r> 3600, EXEC (<r> random in 0..KEYSPACE-1, 12 digits as
 * redis-benchmark's __rand_int__), written at once; a client keeps
 * PIPELINE transactions in flight. One thread, poll(2) over the clients,
 * like redis-benchmark. Prints redis-benchmark's --csv form:
 *   "test","rps"
 *   "MULTI_EXEC_4","<transactions per second>"
 * An error reply aborts with status 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    char *out;
    size_t out_len, out_off;
    char in[1 << 16];
    size_t in_len;
    long pending; /* replies still expected */
} conn;

static long keyspace = 1000000, data_size = 100;
static char *value;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(const char *host, const char *port) {
    struct addrinfo hints = {0}, *res;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        if (fd >= 0) close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

static size_t put_cmd(char *p, int argc, const char **argv) {
    size_t n = (size_t)sprintf(p, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) n += (size_t)sprintf(p + n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    return n;
}

/* Append `count` transactions to c's output. 6 replies each. */
static void queue_tx(conn *c, long count) {
    size_t need = (size_t)count * (512 + (size_t)data_size);
    c->out = realloc(c->out, c->out_len + need);
    for (long i = 0; i < count; i++) {
        char counter[32], key[32];
        long r = random() % keyspace;
        snprintf(counter, sizeof counter, "counter:%012ld", r);
        snprintf(key, sizeof key, "key:%012ld", r);
        char *p = c->out + c->out_len;
        size_t n = 0;
        n += put_cmd(p + n, 1, (const char *[]){"MULTI"});
        n += put_cmd(p + n, 2, (const char *[]){"INCR", counter});
        n += put_cmd(p + n, 3, (const char *[]){"SET", key, value});
        n += put_cmd(p + n, 2, (const char *[]){"GET", key});
        n += put_cmd(p + n, 3, (const char *[]){"EXPIRE", counter, "3600"});
        n += put_cmd(p + n, 1, (const char *[]){"EXEC"});
        c->out_len += n;
        c->pending += 6;
    }
}

/* Length of the complete RESP reply at p[0..n), 0 if incomplete, -1 on an
 * error reply. */
static long reply_len(const char *p, size_t n) {
    const char *nl = memchr(p, '\n', n);
    if (!nl) return 0;
    long head = nl - p + 1;
    switch (p[0]) {
    case '+':
    case ':': return head;
    case '-': return -1;
    case '$': {
        long len = atol(p + 1);
        if (len < 0) return head;
        return (size_t)(head + len + 2) <= n ? head + len + 2 : 0;
    }
    case '*': {
        long items = atol(p + 1), off = head;
        for (long i = 0; i < items; i++) {
            long l = reply_len(p + off, n - (size_t)off);
            if (l <= 0) return l;
            off += l;
        }
        return off;
    }
    default: return -1;
    }
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *port = "6379";
    long clients = 50, total = 100000, pipeline = 1;
    int opt;
    while ((opt = getopt(argc, argv, "h:p:c:n:P:r:d:")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = optarg; break;
        case 'c': clients = atol(optarg); break;
        case 'n': total = atol(optarg); break;
        case 'P': pipeline = atol(optarg); break;
        case 'r': keyspace = atol(optarg); break;
        case 'd': data_size = atol(optarg); break;
        default: fprintf(stderr, "usage: see the top of tests/tools/lodis-txbench.c\n"); return 2;
        }
    }
    if (clients < 1 || total < 1 || pipeline < 1 || keyspace < 1 || data_size < 0) return 2;
    value = malloc((size_t)data_size + 1);
    memset(value, 'x', (size_t)data_size);
    value[data_size] = '\0';
    conn *cs = calloc((size_t)clients, sizeof *cs);
    struct pollfd *pf = calloc((size_t)clients, sizeof *pf);
    for (long i = 0; i < clients; i++) {
        cs[i].fd = dial(host, port);
        if (cs[i].fd < 0) {
            fprintf(stderr, "lodis-txbench: cannot connect to %s:%s\n", host, port);
            return 1;
        }
    }
    long sent = 0, done = 0;
    double start = now_s();
    for (long i = 0; i < clients && sent < total; i++) {
        long k = pipeline < total - sent ? pipeline : total - sent;
        queue_tx(&cs[i], k);
        sent += k;
    }
    while (done < total) {
        for (long i = 0; i < clients; i++) {
            pf[i].fd = cs[i].fd;
            pf[i].events = (short)((cs[i].out_off < cs[i].out_len ? POLLOUT : 0) |
                                   (cs[i].pending ? POLLIN : 0));
        }
        if (poll(pf, (nfds_t)clients, 10000) <= 0) {
            fprintf(stderr, "lodis-txbench: no progress for 10 s\n");
            return 1;
        }
        for (long i = 0; i < clients; i++) {
            conn *c = &cs[i];
            if (pf[i].revents & POLLOUT) {
                ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
                if (w > 0) c->out_off += (size_t)w;
                if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
            }
            if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t r = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
                if (r <= 0) {
                    fprintf(stderr, "lodis-txbench: connection lost\n");
                    return 1;
                }
                c->in_len += (size_t)r;
                size_t off = 0;
                long l;
                while (off < c->in_len && (l = reply_len(c->in + off, c->in_len - off)) != 0) {
                    if (l < 0) {
                        fprintf(stderr, "lodis-txbench: error reply: %.*s\n",
                                (int)strcspn(c->in + off, "\r\n"), c->in + off);
                        return 1;
                    }
                    off += (size_t)l;
                    if (--c->pending % 6 == 0) done++;
                }
                memmove(c->in, c->in + off, c->in_len - off);
                c->in_len -= off;
                if (!c->pending && sent < total) {
                    long k = pipeline < total - sent ? pipeline : total - sent;
                    queue_tx(c, k);
                    sent += k;
                }
            }
        }
    }
    double secs = now_s() - start;
    printf("\"test\",\"rps\"\n\"MULTI_EXEC_4\",\"%.2f\"\n", (double)total / secs);
    return 0;
}
