/* cmd_conn.c — the connection family: PING ECHO QUIT RESET SELECT AUTH HELLO
 * and CLIENT ID SETNAME GETNAME LIST INFO KILL PAUSE UNPAUSE REPLY NO-EVICT
 * HELP. Replies and error texts follow Redis 7.0.15 (checked against
 * redis-server; tests/integration/test_conn.py).
 *
 * Users: no ACL yet, so the only user is "default": it takes any password
 * when requirepass is empty ("nopass"), else exactly requirepass (compared
 * without stopping at the first difference).
 *
 * srv.clients is newest first; CLIENT LIST walks it backwards so the oldest
 * connection comes first, as in Redis. Socketless clients (scripts, internal
 * callers, clients closed in this tick) are neither listed nor killable.
 *
 * CLIENT PAUSE only sets srv.pause_until_ms / srv.pause_writes_only: the
 * dispatcher holds paused requests and server_cron resumes them. The mode can
 * turn less restrictive (ALL -> WRITE) only from a client that is not held,
 * i.e. not while an ALL pause is on, so nothing held needs re-running here. */
#include "server/cmd_conn.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/args.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/num.h"

#define ERR_NAME_CHARS "Client names cannot contain spaces, newlines or special characters."
#define ERR_WRONGPASS  "-WRONGPASS invalid username-password pair or user is disabled."
#define ERR_HELLO_NOAUTH                                                                           \
    "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "     \
    "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "        \
    "protocol version at the same time"

/* Client types of CLIENT LIST TYPE / CLIENT KILL TYPE. lodis has no
 * replication yet, so no client is ever a master or a replica. */
enum { CT_NONE = -1, CT_NORMAL = 0, CT_REPLICA, CT_PUBSUB, CT_MASTER };

/* ------------------------------------------------------------------ */
/* helpers                                                              */

#define MAX_RESET_FNS 8
static void (*reset_fns[MAX_RESET_FNS])(client *c);
static int nreset_fns;

void conn_on_reset(void (*fn)(client *c)) {
    if (nreset_fns == MAX_RESET_FNS) {
        server_log(3, "conn_on_reset: too many callbacks, one ignored");
        return;
    }
    reset_fns[nreset_fns++] = fn;
}

static int password_required(void) {
    return cfg.requirepass && cfg.requirepass[0];
}

/* Is (user, pass) a valid login? Only "default" exists; usernames are
 * case-sensitive as in Redis ACLs. */
static int credentials_ok(const arg *user, const arg *pass) {
    if (user->len != 7 || memcmp(user->p, "default", 7) != 0) return 0;
    if (!password_required()) return 1;
    const unsigned char *want = (const unsigned char *)cfg.requirepass;
    size_t wlen = strlen(cfg.requirepass);
    /* Compare every byte of the longer input whatever the outcome. */
    size_t n = wlen > pass->len ? wlen : pass->len;
    unsigned diff = (unsigned)(wlen != pass->len);
    for (size_t i = 0; i < n; i++) {
        unsigned a = i < wlen ? want[i] : 0;
        unsigned b = i < pass->len ? (unsigned char)pass->p[i] : 0;
        diff |= a ^ b;
    }
    return diff == 0;
}

/* Set (or, for "", clear) the client's name. Names are printable ASCII
 * without spaces so that CLIENT LIST lines split on spaces. Returns -1 after
 * replying the error. */
static int set_name_or_reply(client *c, const arg *name) {
    for (size_t i = 0; i < name->len; i++) {
        unsigned char ch = (unsigned char)name->p[i];
        if (ch < '!' || ch > '~') {
            reply_error(c, ERR_NAME_CHARS);
            return -1;
        }
    }
    char *copy = NULL;
    if (name->len) {
        copy = malloc(name->len + 1);
        if (!copy) abort();
        memcpy(copy, name->p, name->len);
        copy[name->len] = '\0';
    }
    free(c->name);
    c->name = copy;
    return 0;
}

static int client_type_of(const client *c) {
    return (c->flags & CLIENT_PUBSUB) ? CT_PUBSUB : CT_NORMAL;
}

/* CT_* for a type name, CT_NONE if unknown ("slave" is accepted as in Redis). */
static int client_type_by_name(const arg *a) {
    if (arg_is(a, "normal")) return CT_NORMAL;
    if (arg_is(a, "slave") || arg_is(a, "replica")) return CT_REPLICA;
    if (arg_is(a, "pubsub")) return CT_PUBSUB;
    if (arg_is(a, "master")) return CT_MASTER;
    return CT_NONE;
}

/* Clients CLIENT LIST shows and CLIENT KILL may kill. */
static int is_listed(const client *x) {
    return x->fd >= 0 && !(x->flags & (CLIENT_CLOSED | CLIENT_SCRIPT));
}

static int arg_eq_cstr(const arg *a, const char *s) {
    size_t n = strlen(s);
    return a->len == n && memcmp(a->p, s, n) == 0;
}

static void monitor_off(client *c) {
    if (!(c->flags & CLIENT_MONITOR)) return;
    for (int i = 0; i < srv.nmonitors; i++) {
        if (srv.monitors[i] != c) continue;
        memmove(srv.monitors + i, srv.monitors + i + 1,
                (size_t)(srv.nmonitors - i - 1) * sizeof *srv.monitors);
        srv.nmonitors--;
        break;
    }
    c->flags &= ~CLIENT_MONITOR;
}

void conn_reset_client(client *c) {
    monitor_off(c);
    for (int i = 0; i < nreset_fns; i++) reset_fns[i](c);
    c->db = 0;
    c->resp = 2;
    if (password_required())
        c->flags &= ~CLIENT_AUTHENTICATED;
    else
        c->flags |= CLIENT_AUTHENTICATED;
    free(c->name);
    c->name = NULL;
    /* CLIENT_REPLY_SKIP (this very command) stays: after CLIENT REPLY SKIP,
     * the RESET that follows is silent. NO-EVICT survives RESET in 7.0.15
     * (checked against redis-server). */
    c->flags &= ~(CLIENT_PUBSUB | CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT);
}

/* ------------------------------------------------------------------ */
/* PING ECHO QUIT RESET SELECT                                          */

/* PING [message] */
void ping_command(client *c) {
    if (c->argc > 2) {
        reply_error(c, "wrong number of arguments for 'ping' command");
        return;
    }
    if ((c->flags & CLIENT_PUBSUB) && c->resp == 2) {
        /* In RESP2 subscribed mode a reply must look like a pushed message. */
        reply_array_len(c, 2);
        reply_bulk(c, "pong", 4);
        if (c->argc == 1)
            reply_bulk(c, "", 0);
        else
            reply_bulk(c, c->argv[1].p, c->argv[1].len);
        return;
    }
    if (c->argc == 1)
        reply_status(c, "PONG");
    else
        reply_bulk(c, c->argv[1].p, c->argv[1].len);
}

/* ECHO message */
void echo_command(client *c) {
    reply_bulk(c, c->argv[1].p, c->argv[1].len);
}

/* QUIT  (extra arguments are ignored, as in Redis) */
void quit_command(client *c) {
    reply_ok(c);
    client_close_after_reply(c);
}

/* RESET */
void reset_command(client *c) {
    conn_reset_client(c);
    reply_status(c, "RESET");
}

/* SELECT index */
void select_command(client *c) {
    long long id;
    if (num_parse_ll(c->argv[1].p, c->argv[1].len, &id) != 0) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    if (id < INT_MIN || id > INT_MAX) {
        reply_error(c, "value is out of range, value must between -2147483648 and 2147483647");
        return;
    }
    if (id < 0 || id >= server_databases()) {
        reply_error(c, ERR_DB_RANGE);
        return;
    }
    c->db = (int)id;
    reply_ok(c);
}

/* ------------------------------------------------------------------ */
/* AUTH HELLO                                                           */

/* AUTH [username] password */
void auth_command(client *c) {
    if (c->argc > 3) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    static char default_user[] = "default";
    arg def = {default_user, 7};
    const arg *user = &def, *pass = &c->argv[1];
    if (c->argc == 2) {
        if (!password_required()) {
            reply_error(c, "AUTH <password> called without any password configured for the "
                           "default user. Are you sure your configuration is correct?");
            return;
        }
    } else {
        user = &c->argv[1];
        pass = &c->argv[2];
    }
    if (!credentials_ok(user, pass)) {
        reply_error(c, ERR_WRONGPASS);
        return;
    }
    c->flags |= CLIENT_AUTHENTICATED;
    reply_ok(c);
}

/* HELLO [protover [AUTH username password] [SETNAME clientname]] */
void hello_command(client *c) {
    long long ver = 0;
    int j = 1;
    if (c->argc >= 2) {
        if (num_parse_ll(c->argv[1].p, c->argv[1].len, &ver) != 0) {
            reply_error(c, "Protocol version is not an integer or out of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            reply_error(c, "-NOPROTO unsupported protocol version");
            return;
        }
        j = 2;
    }
    const arg *user = NULL, *pass = NULL, *name = NULL;
    for (; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "auth") && more >= 2) {
            user = &c->argv[j + 1];
            pass = &c->argv[j + 2];
            j += 2;
        } else if (arg_is(&c->argv[j], "setname") && more >= 1) {
            name = &c->argv[j + 1];
            j++;
        } else {
            reply_errorf(c, "Syntax error in HELLO option '%.*s'",
                         (int)(c->argv[j].len > 512 ? 512 : c->argv[j].len), c->argv[j].p);
            return;
        }
    }
    /* Redis's order: authenticate, then name (even when still not
     * authenticated), then insist on authentication. */
    if (user) {
        if (!credentials_ok(user, pass)) {
            reply_error(c, ERR_WRONGPASS);
            return;
        }
        c->flags |= CLIENT_AUTHENTICATED;
    }
    if (name && set_name_or_reply(c, name) != 0) return;
    if (!(c->flags & CLIENT_AUTHENTICATED)) {
        reply_error(c, ERR_HELLO_NOAUTH);
        return;
    }
    if (ver) c->resp = (int)ver;
    reply_map_len(c, 7);
    reply_bulk_cstr(c, "server");
    reply_bulk_cstr(c, "redis");
    reply_bulk_cstr(c, "version");
    reply_bulk_cstr(c, LODIS_VERSION);
    reply_bulk_cstr(c, "proto");
    reply_int(c, c->resp);
    reply_bulk_cstr(c, "id");
    reply_int(c, (long long)c->id);
    reply_bulk_cstr(c, "mode");
    reply_bulk_cstr(c, "standalone");
    reply_bulk_cstr(c, "role");
    reply_bulk_cstr(c, "master");
    reply_bulk_cstr(c, "modules");
    reply_empty_array(c);
}

/* ------------------------------------------------------------------ */
/* CLIENT                                                               */

/* CLIENT <subcommand> ...: reached only when no subcommand matched (the
 * dispatcher normally answers that case itself). */
void client_command(client *c) {
    reply_errorf(c, "unknown subcommand '%.*s'. Try CLIENT HELP.",
                 (int)(c->argc > 1 ? (c->argv[1].len > 128 ? 128 : c->argv[1].len) : 0),
                 c->argc > 1 ? c->argv[1].p : "");
}

/* CLIENT ID */
void client_id_command(client *c) {
    reply_int(c, (long long)c->id);
}

/* CLIENT SETNAME connection-name */
void client_setname_command(client *c) {
    if (set_name_or_reply(c, &c->argv[2]) == 0) reply_ok(c);
}

/* CLIENT GETNAME */
void client_getname_command(client *c) {
    if (c->name)
        reply_bulk_cstr(c, c->name);
    else
        reply_null(c);
}

/* CLIENT INFO */
void client_info_command(client *c) {
    buf o = {0};
    client_info_string(c, &o);
    buf_append(&o, "\n", 1);
    reply_verbatim(c, o.p, o.len, "txt");
    buf_free(&o);
}

/* CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]] */
void client_list_command(client *c) {
    int type = CT_NONE;
    buf o = {0};
    if (c->argc == 4 && arg_is(&c->argv[2], "type")) {
        type = client_type_by_name(&c->argv[3]);
        if (type == CT_NONE) {
            reply_errorf(c, "Unknown client type '%.*s'",
                         (int)(c->argv[3].len > 512 ? 512 : c->argv[3].len), c->argv[3].p);
            return;
        }
    } else if (c->argc > 3 && arg_is(&c->argv[2], "id")) {
        /* Parse them all first: a bad one fails the whole command. */
        for (int j = 3; j < c->argc; j++) {
            if (num_parse_ll(c->argv[j].p, c->argv[j].len, NULL) != 0) {
                reply_error(c, "Invalid client ID");
                return;
            }
        }
        for (int j = 3; j < c->argc; j++) {
            long long id;
            num_parse_ll(c->argv[j].p, c->argv[j].len, &id);
            client *x = id > 0 ? client_by_id((uint64_t)id) : NULL;
            if (!x || !is_listed(x)) continue;
            client_info_string(x, &o);
            buf_append(&o, "\n", 1);
        }
        reply_verbatim(c, o.len ? o.p : "", o.len, "txt");
        buf_free(&o);
        return;
    } else if (c->argc != 2) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    client *tail = srv.clients;
    while (tail && tail->next) tail = tail->next;
    for (client *x = tail; x; x = x->prev) {
        if (!is_listed(x)) continue;
        if (type != CT_NONE && client_type_of(x) != type) continue;
        client_info_string(x, &o);
        buf_append(&o, "\n", 1);
    }
    reply_verbatim(c, o.len ? o.p : "", o.len, "txt");
    buf_free(&o);
}

/* CLIENT KILL ip:port
 * CLIENT KILL [ID client-id] [TYPE NORMAL|MASTER|SLAVE|REPLICA|PUBSUB]
 *             [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no] ... */
void client_kill_command(client *c) {
    const arg *addr = NULL, *laddr = NULL;
    int type = CT_NONE, skipme = 1, old_form = c->argc == 3;
    long long id = 0;
    if (old_form) {
        addr = &c->argv[2];
        skipme = 0; /* the old form may kill the caller itself */
    } else {
        for (int i = 2; i < c->argc; i += 2) {
            const arg *opt = &c->argv[i], *val = &c->argv[i + 1 < c->argc ? i + 1 : i];
            int more = i + 1 < c->argc;
            if (more && arg_is(opt, "id")) {
                if (num_parse_ll(val->p, val->len, &id) != 0 || id < 1) {
                    reply_error(c, "client-id should be greater than 0");
                    return;
                }
            } else if (more && arg_is(opt, "type")) {
                type = client_type_by_name(val);
                if (type == CT_NONE) {
                    reply_errorf(c, "Unknown client type '%.*s'",
                                 (int)(val->len > 512 ? 512 : val->len), val->p);
                    return;
                }
            } else if (more && arg_is(opt, "addr")) {
                addr = val;
            } else if (more && arg_is(opt, "laddr")) {
                laddr = val;
            } else if (more && arg_is(opt, "user")) {
                if (!arg_eq_cstr(val, "default")) {
                    reply_errorf(c, "No such user '%.*s'", (int)(val->len > 512 ? 512 : val->len),
                                 val->p);
                    return;
                }
                /* every client is the default user's: the filter keeps all */
            } else if (more && arg_is(opt, "skipme")) {
                if (arg_is(val, "yes"))
                    skipme = 1;
                else if (arg_is(val, "no"))
                    skipme = 0;
                else {
                    reply_error(c, ERR_SYNTAX);
                    return;
                }
            } else {
                reply_error(c, ERR_SYNTAX);
                return;
            }
        }
    }
    long long killed = 0;
    for (client *x = srv.clients; x; x = x->next) {
        if (!is_listed(x)) continue;
        if (addr && !arg_eq_cstr(addr, x->addr)) continue;
        if (laddr && !arg_eq_cstr(laddr, x->laddr)) continue;
        if (type != CT_NONE && client_type_of(x) != type) continue;
        if (id && x->id != (uint64_t)id) continue;
        if (x == c && skipme) continue;
        if (x == c)
            client_close_after_reply(c);
        else
            client_free(x);
        killed++;
    }
    if (!old_form)
        reply_int(c, killed);
    else if (killed == 0)
        reply_error(c, "No such client");
    else
        reply_ok(c);
}

/* CLIENT PAUSE timeout [WRITE|ALL] */
void client_pause_command(client *c) {
    if (c->argc > 4) {
        reply_errorf(c,
                     "unknown subcommand or wrong number of arguments for '%.*s'. Try CLIENT HELP.",
                     (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    int writes_only = 0;
    if (c->argc == 4) {
        if (arg_is(&c->argv[3], "write"))
            writes_only = 1;
        else if (!arg_is(&c->argv[3], "all")) {
            reply_error(c, "CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    long long ms;
    if (num_parse_ll(c->argv[2].p, c->argv[2].len, &ms) != 0) {
        reply_error(c, "timeout is not an integer or out of range");
        return;
    }
    if (ms < 0) {
        reply_error(c, "timeout is negative");
        return;
    }
    /* Redis adds the current time without an overflow check; a sum that
     * wraps is negative and so pauses nothing. Wrap the same way, without
     * signed overflow. */
    int64_t end = ms > 0 ? (int64_t)((uint64_t)ms + (uint64_t)mstime()) : 0;
    /* As in Redis 7.0: the latest mode wins, the end time only grows. */
    srv.pause_writes_only = writes_only;
    if (end > srv.pause_until_ms) srv.pause_until_ms = end;
    reply_ok(c);
}

/* CLIENT UNPAUSE */
void client_unpause_command(client *c) {
    server_unpause();
    reply_ok(c);
}

/* CLIENT REPLY ON|OFF|SKIP */
void client_reply_command(client *c) {
    const arg *a = &c->argv[2];
    if (arg_is(a, "on")) {
        c->flags &= ~(CLIENT_REPLY_SKIP | CLIENT_REPLY_OFF);
        reply_ok(c);
    } else if (arg_is(a, "off")) {
        c->flags |= CLIENT_REPLY_OFF;
    } else if (arg_is(a, "skip")) {
        if (!(c->flags & CLIENT_REPLY_OFF)) c->flags |= CLIENT_REPLY_SKIP_NEXT;
    } else {
        reply_error(c, ERR_SYNTAX);
    }
}

/* CLIENT NO-EVICT ON|OFF */
void client_no_evict_command(client *c) {
    if (arg_is(&c->argv[2], "on"))
        c->flags |= CLIENT_NO_EVICT;
    else if (arg_is(&c->argv[2], "off"))
        c->flags &= ~CLIENT_NO_EVICT;
    else {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    reply_ok(c);
}

/* CLIENT HELP */
void client_help_command(client *c) {
    static const char *lines[] = {
        "CACHING (YES|NO)",
        "    In OPTIN (YES) or OPTOUT (NO) tracking mode: track, or not, the keys of the next",
        "    command or transaction.",
        "GETNAME",
        "    Reply with the name of this connection, or a null when it has none.",
        "GETREDIR",
        "    Reply with the id of the connection tracking messages are redirected to (0 for",
        "    none, -1 when tracking is off).",
        "ID",
        "    Reply with the unique numeric ID of this connection.",
        "INFO",
        "    Describe this connection in the format of one CLIENT LIST line.",
        "KILL <ip:port>",
        "    Close the connection coming from <ip:port>.",
        "KILL <filter> <value> [<filter> <value> ...]",
        "    Close every connection matching all the filters; reply with how many. Filters:",
        "    * ID <client-id>",
        "      Only the connection with this ID.",
        "    * ADDR <ip:port>",
        "      Only connections from this remote address.",
        "    * LADDR <ip:port>",
        "      Only connections to this local address.",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Only connections of this type.",
        "    * USER <username>",
        "      Only connections logged in as this user.",
        "    * SKIPME (YES|NO)",
        "      Whether to spare the calling connection (default: YES).",
        "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <client-id> ...]",
        "    Describe connections, one line each, optionally only of a type or with given IDs.",
        "NO-EVICT (ON|OFF)",
        "    Exempt (or not) this connection from client eviction.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Hold commands of all clients (ALL) or only their writes (WRITE) for <timeout> ms.",
        "REPLY (ON|OFF|SKIP)",
        "    Send replies to this connection, stop sending them, or skip the next one.",
        "SETNAME <name>",
        "    Name this connection; an empty name removes it.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]] [OPTIN] [OPTOUT]",
        "         [NOLOOP]",
        "    Turn client-side caching invalidations on or off for this connection.",
        "TRACKINGINFO",
        "    Describe this connection's tracking state.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "UNPAUSE",
        "    End a CLIENT PAUSE now.",
        "HELP",
        "    Print this help.",
        NULL,
    };
    reply_help(c, "CLIENT", lines);
}
