/* main.c — lodis-server: configuration, startup and shutdown order.
 *
 * Startup: defaults, config file, --directive arguments, daemonize, open the
 * store (LMDB + WAL replay: bounded by one checkpoint interval of writes, not
 * by the dataset), listen, run the loop. Shutdown (SIGTERM/SIGINT/SHUTDOWN):
 * stop accepting, commit the last tick, checkpoint, close the store, remove
 * the pidfile. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/cmdtable.h"
#include "server/config.h"
#include "server/families.h"
#include "server/hooks.h"
#include "server/prefetch.h"
#include "server/server.h"
#include "server/slowlog.h"

server srv;

static void before_sleep_cb(struct ev_loop *loop, ev_prepare *w, int revents) {
    (void)loop;
    (void)w;
    (void)revents;
    if (srv.busy_script) {
        /* Inside a busy script's event pass: the tick is not over. */
        server_busy_flush();
        return;
    }
    server_before_sleep();
    if (srv.shutdown_asap) ev_break(srv.loop, EVBREAK_ALL);
}

static void cron_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)loop;
    (void)revents;
    /* No expiry or other cron work in the middle of a busy script. */
    if (!srv.busy_script) server_cron();
    w->repeat = 1.0 / (double)(cfg.hz > 0 ? cfg.hz : 10);
    ev_timer_again(srv.loop, w);
}

static void store_async_cb(struct ev_loop *loop, ev_async *w, int revents) {
    (void)loop;
    (void)w;
    (void)revents;
    if (srv.busy_script) srv.store_poll_deferred = 1; /* server_busy_end polls */
    else store_poll(srv.st);
}

static void store_notify(void *ud) {
    (void)ud;
    ev_async_send(srv.loop, &srv.store_async);
}

static void store_log(void *ud, int level, const char *msg) {
    (void)ud;
    server_log(level, "%s", msg);
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents) {
    (void)loop;
    (void)revents;
    server_log(3, "Received %s scheduling shutdown...", w->signum == SIGINT ? "SIGINT" : "SIGTERM");
    srv.shutdown_asap = 1;
    ev_break(srv.loop, EVBREAK_ALL);
}

static void key_change(void *ud, int db, const uint8_t *key, size_t klen, int kind) {
    (void)ud;
    if (kind == KS_CH_EXPIRED) srv.stat_expiredkeys++;
    if (kind != KS_CH_NEW) { /* a creation is also reported as a write */
        srv.dirty++;
        srv.tick_writes++;
    }
    hooks_key_change(db, key, klen, kind);
}

static void usage(void) {
    fprintf(stderr,
            "Usage: lodis-server [/path/to/lodis.conf] [--directive value ...]\n"
            "       lodis-server --version\n"
            "       lodis-server --help\n\n"
            "Examples:\n"
            "       lodis-server                      (defaults: port 6379, dir ./data)\n"
            "       lodis-server conf/lodis.conf\n"
            "       lodis-server --port 7777 --dir /var/lib/lodis --appendfsync always\n\n"
            "Every directive of conf/lodis.conf may be given as --name value.\n");
}

static void daemonize(void) {
    if (fork() != 0) exit(0);
    setsid();
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2) close(fd);
    }
}

static void random_hex(char *out, size_t n) {
    int fd = open("/dev/urandom", O_RDONLY);
    unsigned char b[64];
    if (fd < 0 || read(fd, b, n / 2) != (ssize_t)(n / 2)) {
        for (size_t i = 0; i < n / 2; i++) b[i] = (unsigned char)rand();
    }
    if (fd >= 0) close(fd);
    for (size_t i = 0; i < n / 2; i++) sprintf(out + 2 * i, "%02x", b[i]);
    out[n] = '\0';
}

int main(int argc, char **argv) {
    config_init_defaults();
    int ai = 1;
    if (argc >= 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        printf("lodis server v=%s (Redis %s compatible) lmdb+wal\n", LODIS_OWN_VERSION,
               LODIS_VERSION);
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage();
        return 0;
    }
    if (argc >= 2 && strncmp(argv[1], "--", 2) != 0) {
        if (config_load_file(argv[1]) != 0) return 1;
        char *abs = realpath(argv[1], NULL);
        srv.configfile = abs ? abs : strdup(argv[1]);
        ai = 2;
    }
    if (config_load_args(argc - ai, argv + ai) != 0) return 1;
    srv.executable = realpath(argv[0], NULL);
    if (cfg.daemonize) daemonize();
    signal(SIGPIPE, SIG_IGN);
    srv.loop = ev_default_loop(EVFLAG_AUTO);
    srv.start_ms = mstime();
    srv.active_expire_enabled = 1;
    random_hex(srv.run_id, 40);
    cmdtable_init();

    int64_t t0 = mstime();
    store_opts so;
    store_opts_default(&so);
    so.dir = cfg.dir;
    so.fsync = cfg.appendfsync;
    so.memtable_budget = (size_t)cfg.memtable_size;
    so.checkpoint_ms = (int)cfg.checkpoint_interval;
    so.wal_segment_size = cfg.wal_segment_size;
    so.notify = store_notify;
    so.log = store_log;
    int rc;
    char err[1024] = "";
    srv.st = store_open(&so, &rc, err, sizeof err);
    if (!srv.st) {
        fprintf(stderr, "lodis: cannot open the data directory: %s\n", err);
        server_log(3, "Fatal: cannot open the data directory: %s", err);
        return 1;
    }
    srv.ks = ks_open(srv.st, (int)cfg.databases, &rc);
    if (!srv.ks) {
        fprintf(stderr, "lodis: cannot open the keyspace: %s\n", store_strerror(rc));
        return 1;
    }
    ks_set_change_hook(srv.ks, key_change, NULL);
    config_apply_all();
    srv.loading_ms = mstime() - t0;
    srv.lastsave = mstime() / 1000;
    families_init();

    if (server_listen() != 0) {
        fprintf(stderr, "lodis: cannot listen on %s port %lld (is another server running?)\n",
                cfg.bind, cfg.port);
        ks_close(srv.ks);
        store_close(srv.st);
        return 1;
    }
    if (cfg.pidfile && cfg.pidfile[0]) {
        FILE *f = fopen(cfg.pidfile, "w");
        if (f) {
            fprintf(f, "%d\n", (int)getpid());
            fclose(f);
        }
    }
    ev_prepare_init(&srv.before_sleep, before_sleep_cb);
    ev_prepare_start(srv.loop, &srv.before_sleep);
    ev_timer_init(&srv.cron, cron_cb, 0.1, 0.1);
    ev_timer_start(srv.loop, &srv.cron);
    ev_async_init(&srv.store_async, store_async_cb);
    ev_async_start(srv.loop, &srv.store_async);
    ev_signal_init(&srv.sigterm, signal_cb, SIGTERM);
    ev_signal_start(srv.loop, &srv.sigterm);
    ev_signal_init(&srv.sigint, signal_cb, SIGINT);
    ev_signal_start(srv.loop, &srv.sigint);

    server_log(2, "lodis %s (Redis %s compatible) pid=%d port=%lld dir=%s, data opened in %lld ms",
               LODIS_OWN_VERSION, LODIS_VERSION, (int)getpid(), cfg.port, cfg.dir,
               (long long)srv.loading_ms);
    server_log(2, "Ready to accept connections");
    ev_run(srv.loop, 0);

    /* Shutdown: the last tick's writes, then a checkpoint. */
    server_log(3, "User requested shutdown...");
    server_close_listeners();
    server_before_sleep();
    families_shutdown();
    server_free_all_clients();
    prefetch_shutdown();
    ks_flush_counters(srv.ks);
    store_commit(srv.st);
    ks_close(srv.ks);
    store_close(srv.st);
    slowlog_free_all();
    if (cfg.pidfile && cfg.pidfile[0]) unlink(cfg.pidfile);
    server_log(3, "lodis is now ready to exit, bye bye...");
    free(srv.configfile);
    free(srv.executable);
    free(srv.monitors);
    server_reset_errorstats();
    ev_loop_destroy(srv.loop);
    return 0;
}
