/* hooks.c — fixed-size registries of family callbacks; see hooks.h. */
#include "server/hooks.h"

#define MAXH 16

static void (*close_fns[MAXH])(client *);
static void (*sleep_fns[MAXH])(void);
static void (*change_fns[MAXH])(int, const uint8_t *, size_t, int);
static int (*intercept_fns[MAXH])(client *, const struct command *);
static void (*cron_fns[MAXH])(void);
static void (*after_fns[MAXH])(client *, const struct command *, int);
static int nclose, nsleep, nchange, nintercept, ncron, nafter;

void hooks_on_client_close(void (*fn)(client *c)) {
    if (nclose < MAXH) close_fns[nclose++] = fn;
}
void hooks_on_before_sleep(void (*fn)(void)) {
    if (nsleep < MAXH) sleep_fns[nsleep++] = fn;
}
void hooks_on_key_change(void (*fn)(int, const uint8_t *, size_t, int)) {
    if (nchange < MAXH) change_fns[nchange++] = fn;
}
void hooks_on_intercept(int (*fn)(client *, const struct command *)) {
    if (nintercept < MAXH) intercept_fns[nintercept++] = fn;
}
void hooks_on_cron(void (*fn)(void)) {
    if (ncron < MAXH) cron_fns[ncron++] = fn;
}

void hooks_on_after_command(void (*fn)(client *, const struct command *, int)) {
    if (nafter < MAXH) after_fns[nafter++] = fn;
}

void hooks_client_closing(client *c) {
    for (int i = 0; i < nclose; i++) close_fns[i](c);
}
void hooks_before_sleep(void) {
    for (int i = 0; i < nsleep; i++) sleep_fns[i]();
}
void hooks_key_change(int db, const uint8_t *key, size_t klen, int kind) {
    for (int i = 0; i < nchange; i++) change_fns[i](db, key, klen, kind);
}
int hooks_intercept(client *c, const struct command *cmd) {
    for (int i = 0; i < nintercept; i++)
        if (intercept_fns[i](c, cmd)) return 1;
    return 0;
}
void hooks_cron(void) {
    for (int i = 0; i < ncron; i++) cron_fns[i]();
}
void hooks_after_command(client *c, const struct command *cmd, int nested) {
    for (int i = 0; i < nafter; i++) after_fns[i](c, cmd, nested);
}
