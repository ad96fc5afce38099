/* rdb_file.c — whole RDB files (see rdb_file.h). */
#include "storage/rdb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storage/crc64.h"
#include "storage/store.h"

#define OP_FUNCTION2  245
#define OP_FUNCTION   246
#define OP_MODULE_AUX 247
#define OP_IDLE       248
#define OP_FREQ       249
#define OP_AUX        250
#define OP_RESIZEDB   251
#define OP_EXPIRE_MS  252
#define OP_EXPIRE     253
#define OP_SELECTDB   254
#define OP_EOF        255

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* Skip a module value (RDB_TYPE_MODULE_2 / MODULE_AUX body): opcodes up to
 * the EOF opcode. */
static int skip_module_body(rdb_rd *r) {
    for (;;) {
        uint64_t op, v;
        const uint8_t *p;
        rdb_str s;
        if (rdb_get_len(r, &op, NULL)) return ST_CORRUPT;
        switch (op) {
        case 0: return ST_OK;
        case 1:
        case 2:
            if (rdb_get_len(r, &v, NULL)) return ST_CORRUPT;
            break;
        case 3:
            if (rdb_get_raw(r, 4, &p)) return ST_CORRUPT;
            break;
        case 4:
            if (rdb_get_raw(r, 8, &p)) return ST_CORRUPT;
            break;
        case 5:
            if (rdb_get_string(r, &s)) return ST_CORRUPT;
            rdb_str_free(&s);
            break;
        default: return ST_CORRUPT;
        }
    }
}

/* The library name from a "#!lua name=NAME ..." first line. */
static int lib_name(const uint8_t *code, size_t len, const uint8_t **name, size_t *nlen) {
    size_t eol = 0;
    while (eol < len && code[eol] != '\n') eol++;
    for (size_t i = 0; i + 5 <= eol; i++) {
        if (memcmp(code + i, "name=", 5) == 0 && (i == 0 || code[i - 1] == ' ')) {
            size_t s = i + 5, e = s;
            while (e < eol && code[e] != ' ' && code[e] != '\r') e++;
            if (e == s) return -1;
            *name = code + s;
            *nlen = e - s;
            return 0;
        }
    }
    return -1;
}

static int store_function(ks *k, const uint8_t *code, size_t len) {
    const uint8_t *name;
    size_t nlen;
    if (lib_name(code, len, &name, &nlen)) return ST_CORRUPT;
    uint8_t *key = malloc(3 + nlen);
    if (!key) return ST_NOMEM;
    memcpy(key, "fn:", 3);
    memcpy(key + 3, name, nlen);
    int rc = store_put(ks_store(k), ST_DBI_INFO, key, 3 + nlen, code, len);
    free(key);
    return rc;
}

static int progress(const rdb_load_opts *o, rdb_file_stats *st, size_t total) {
    return o->progress && o->progress(o->ud, st, total) ? ST_INVALID : ST_OK;
}

int rdb_file_load(ks *k, const uint8_t *p, size_t len, const rdb_load_opts *o, rdb_file_stats *st,
                  char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    err[0] = '\0';
    if (len < 9 || memcmp(p, "REDIS", 5) != 0)
        return fail(err, errlen, ST_CORRUPT, "not an RDB file (no REDIS signature)");
    int ver = 0;
    for (int i = 5; i < 9; i++) {
        if (p[i] < '0' || p[i] > '9') return fail(err, errlen, ST_CORRUPT, "bad RDB version");
        ver = ver * 10 + (p[i] - '0');
    }
    st->version = ver;
    if (ver < 1 || ver > RDB_VERSION_MAX)
        return fail(err, errlen, ST_CORRUPT, "RDB version %d is not supported (1 to %d are)", ver,
                    RDB_VERSION_MAX);
    /* Version 5 and later end with a CRC-64 of everything before it (0:
     * disabled). Checked before anything is written. */
    if (ver >= 5) {
        if (len < 9 + 1 + 8) return fail(err, errlen, ST_CORRUPT, "truncated RDB file");
        uint64_t want = 0;
        for (int i = 7; i >= 0; i--) want = want << 8 | p[len - 8 + (size_t)i];
        if (want && crc64(0, p, len - 8) != want)
            return fail(err, errlen, ST_CORRUPT, "RDB checksum mismatch (damaged or truncated)");
    }
    rdb_rd r;
    rdb_rd_init(&r, p, len);
    r.pos = 9;
    int db = 0, rc = ST_OK;
    int64_t expire = 0;
    long long idle = -1;
    int freq = -1;
    uint64_t every = o->every ? o->every : 1000;
    rdb_str key = {0}, a = {0}, b = {0};
    for (;;) {
        uint8_t op;
        size_t at = r.pos;
        if (rdb_get_byte(&r, &op)) {
            rc = fail(err, errlen, ST_CORRUPT, "truncated RDB file (no EOF marker)");
            break;
        }
        if (op == OP_EOF) break;
        switch (op) {
        case OP_SELECTDB: {
            uint64_t n;
            if (rdb_get_len(&r, &n, NULL)) goto corrupt;
            if (n >= (uint64_t)ks_databases(k)) {
                rc = fail(err, errlen, ST_INVALID, "database %llu out of range (databases %d)",
                          (unsigned long long)n, ks_databases(k));
                goto out;
            }
            db = (int)n;
            continue;
        }
        case OP_RESIZEDB: {
            uint64_t x, y;
            if (rdb_get_len(&r, &x, NULL) || rdb_get_len(&r, &y, NULL)) goto corrupt;
            continue;
        }
        case OP_AUX:
            if (rdb_get_string(&r, &a) || rdb_get_string(&r, &b)) goto corrupt;
            rdb_str_free(&a);
            rdb_str_free(&b);
            continue;
        case OP_EXPIRE_MS: {
            uint64_t t;
            if (rdb_get_u64le(&r, &t)) goto corrupt;
            expire = (int64_t)t;
            continue;
        }
        case OP_EXPIRE: {
            const uint8_t *q;
            if (rdb_get_raw(&r, 4, &q)) goto corrupt;
            int32_t t = (int32_t)((uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
                                  (uint32_t)q[3] << 24);
            expire = (int64_t)t * 1000;
            continue;
        }
        case OP_IDLE: {
            uint64_t v;
            if (rdb_get_len(&r, &v, NULL)) goto corrupt;
            idle = v > LLONG_MAX ? LLONG_MAX : (long long)v;
            continue;
        }
        case OP_FREQ: {
            uint8_t v;
            if (rdb_get_byte(&r, &v)) goto corrupt;
            freq = v;
            continue;
        }
        case OP_MODULE_AUX: {
            uint64_t id, when_op, when;
            if (rdb_get_len(&r, &id, NULL) || rdb_get_len(&r, &when_op, NULL) ||
                rdb_get_len(&r, &when, NULL) || skip_module_body(&r))
                goto corrupt;
            continue;
        }
        case OP_FUNCTION:
            rc = fail(err, errlen, ST_INVALID,
                      "function data from a Redis 7.0 release candidate is not supported");
            goto out;
        case OP_FUNCTION2:
            if (rdb_get_string(&r, &a)) goto corrupt;
            rc = store_function(k, a.p, a.len);
            rdb_str_free(&a);
            if (rc) {
                rc = fail(err, errlen, rc, "function library at offset %zu: no name", at);
                goto out;
            }
            st->functions++;
            continue;
        default: break;
        }
        if (!rdb_is_object_type(op)) {
            rc = fail(err, errlen, ST_CORRUPT, "unknown opcode %u at offset %zu", op, at);
            goto out;
        }
        if (rdb_get_string(&r, &key)) goto corrupt;
        int want = !o->dbmask || (o->dbmask >> db & 1);
        int expired = expire && expire <= ks_now(k) && !o->keep_expired;
        if (op == RDB_TYPE_MODULE || op == RDB_TYPE_MODULE_2) {
            if (!o->skip_modules || op == RDB_TYPE_MODULE) {
                rc = fail(err, errlen, ST_INVALID,
                          "key '%.*s' (db %d) holds a module value, which lodis cannot load%s",
                          (int)(key.len > 200 ? 200 : key.len), key.p, db,
                          op == RDB_TYPE_MODULE_2 ? " (--skip-unknown skips it)" : "");
                goto out;
            }
            uint64_t id;
            if (rdb_get_len(&r, &id, NULL) || skip_module_body(&r)) goto corrupt;
            st->skipped_modules++;
        } else {
            rdb_obj obj;
            const char *why;
            rc = rdb_decode_value(k, op, &r, o->lim, &obj, &why);
            if (rc == ST_NOTFOUND) {
                rc = ST_OK; /* an empty value: Redis skips it too */
            } else if (rc) {
                rc = fail(err, errlen, rc, "key '%.*s' (db %d): %s",
                          (int)(key.len > 200 ? 200 : key.len), key.p, db,
                          rc == ST_CORRUPT ? why : store_strerror(rc));
                goto out;
            } else if (!want || expired) {
                rdb_obj_discard(k, &obj);
                if (want) st->expired++;
            } else {
                ks_meta m;
                int ex = ks_peek(k, db, key.p, key.len, &m);
                if (ex == ST_OK) {
                    ks_meta_release(&m);
                    if (!o->replace) {
                        rdb_obj_discard(k, &obj);
                        rc = fail(err, errlen, ST_INVALID, "key '%.*s' (db %d) already exists",
                                  (int)(key.len > 200 ? 200 : key.len), key.p, db);
                        goto out;
                    }
                    ex = ks_delete(k, db, key.p, key.len);
                    if (ex > 0) ex = ST_OK;
                } else if (ex == ST_NOTFOUND) {
                    ex = ST_OK;
                }
                if (ex == ST_OK) ex = rdb_obj_publish(k, &obj, db, key.p, key.len, expire);
                else rdb_obj_discard(k, &obj);
                if (ex) {
                    rc = fail(err, errlen, ex, "writing key '%.*s': %s",
                              (int)(key.len > 200 ? 200 : key.len), key.p, store_strerror(ex));
                    goto out;
                }
                if (idle >= 0 || freq >= 0) ks_set_access(k, db, key.p, key.len, idle, freq);
                st->keys++;
            }
        }
        rdb_str_free(&key);
        expire = 0;
        idle = -1;
        freq = -1;
        st->bytes = r.pos;
        if ((st->keys + st->expired) % every == 0 && (rc = progress(o, st, len))) {
            fail(err, errlen, rc, "interrupted");
            goto out;
        }
    }
    if (rc == ST_OK) {
        st->bytes = r.pos;
        rc = progress(o, st, len);
    }
    goto out;
corrupt:
    rc = fail(err, errlen, ST_CORRUPT, "damaged RDB file near offset %zu", r.pos);
out:
    rdb_str_free(&key);
    rdb_str_free(&a);
    rdb_str_free(&b);
    return rc;
}

int rdb_file_load_path(ks *k, const char *path, const rdb_load_opts *o, rdb_file_stats *st,
                       char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(err, errlen, ST_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size == 0) {
        close(fd);
        return fail(err, errlen, ST_CORRUPT, "%s: empty or unreadable", path);
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return fail(err, errlen, ST_IO, "%s: %s", path, strerror(errno));
    madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
    int rc = rdb_file_load(k, map, (size_t)sb.st_size, o, st, err, errlen);
    munmap(map, (size_t)sb.st_size);
    return rc;
}

/* ------------------------------------------------------------------ */
/* save                                                                */

typedef struct saver {
    ks *k;
    FILE *f;
    const rdb_save_opts *o;
    rdb_file_stats *st;
    uint64_t crc;
    rdb_buf b;
    int rc;
    int db;
} saver;

static int flush(saver *s) {
    if (s->b.oom) return s->rc = ST_NOMEM;
    if (s->b.len && fwrite(s->b.p, 1, s->b.len, s->f) != s->b.len) return s->rc = ST_IO;
    s->crc = crc64(s->crc, s->b.p, s->b.len);
    s->st->bytes += s->b.len;
    s->b.len = 0;
    return ST_OK;
}

static void aux(saver *s, const char *k, const char *v) {
    rdb_put_byte(&s->b, OP_AUX);
    rdb_put_string(&s->b, k, strlen(k), 0);
    rdb_put_string(&s->b, v, strlen(v), 0);
}

static int save_key(void *ud, const uint8_t *key, size_t klen, const ks_meta *m) {
    saver *s = ud;
    if (m->expire) {
        rdb_put_byte(&s->b, OP_EXPIRE_MS);
        rdb_put_u64le(&s->b, (uint64_t)m->expire);
    }
    size_t tpos = s->b.len;
    rdb_put_byte(&s->b, 0); /* the type byte, moved in front of the key below */
    rdb_put_string(&s->b, key, klen, 1);
    size_t vpos = s->b.len;
    int rc = rdb_encode_value(s->k, m, s->o->lim, &s->b);
    if (rc) {
        s->rc = rc;
        return 1;
    }
    s->b.p[tpos] = s->b.p[vpos];
    memmove(s->b.p + vpos, s->b.p + vpos + 1, s->b.len - vpos - 1);
    s->b.len--;
    s->st->keys++;
    if (flush(s)) return 1;
    uint64_t every = s->o->every ? s->o->every : 1000;
    if (s->st->keys % every == 0 && s->o->progress && s->o->progress(s->o->ud, s->st, 0)) {
        s->rc = ST_INVALID;
        return 1;
    }
    return 0;
}

int rdb_file_save(ks *k, FILE *f, const rdb_save_opts *o, rdb_file_stats *st, char *err,
                  size_t errlen) {
    saver s = {.k = k, .f = f, .o = o, .st = st};
    memset(st, 0, sizeof *st);
    int ver = o->lim->rdb_version < 10 ? 9 : RDB_VERSION;
    st->version = ver;
    err[0] = '\0';
    char num[32];
    snprintf(num, sizeof num, "REDIS%04d", ver);
    rdb_put_raw(&s.b, num, 9);
    aux(&s, "redis-ver", "7.0.15");
    aux(&s, "redis-bits", "64");
    snprintf(num, sizeof num, "%lld", (long long)time(NULL));
    aux(&s, "ctime", num);
    aux(&s, "used-mem", "0");
    aux(&s, "aof-base", "0");
    /* Function libraries, as the server keeps them: info "fn:" + name. */
    store_cursor *c;
    int rc = store_cursor_open(ks_store(k), ST_DBI_INFO, &c);
    if (rc) return fail(err, errlen, rc, "reading function libraries: %s", store_strerror(rc));
    const uint8_t *ck, *cv;
    size_t ckl, cvl;
    for (rc = store_cursor_seek(c, "fn:", 3); rc == ST_OK; rc = store_cursor_next(c)) {
        if (store_cursor_get(c, &ck, &ckl, &cv, &cvl) != ST_OK || ckl < 3 || memcmp(ck, "fn:", 3))
            break;
        /* Version 9 predates functions (Redis 7.0): they are counted, not
         * written, and the caller says so. */
        if (ver >= 10) {
            rdb_put_byte(&s.b, OP_FUNCTION2);
            rdb_put_string(&s.b, cv, cvl, 1);
        }
        st->functions++;
    }
    store_cursor_close(c);
    if (flush(&s)) goto out;
    for (int db = 0; db < ks_databases(k); db++) {
        uint64_t n = ks_dbsize(k, db);
        if (!n) continue;
        rdb_put_byte(&s.b, OP_SELECTDB);
        rdb_put_len(&s.b, (uint64_t)db);
        rdb_put_byte(&s.b, OP_RESIZEDB);
        rdb_put_len(&s.b, n);
        rdb_put_len(&s.b, ks_expires_count(k, db));
        if (flush(&s)) goto out;
        uint8_t cur[KS_SUBKEY_MAX + 64];
        size_t curlen = 0;
        int done = 0;
        s.db = db;
        rc = ks_scan(k, db, cur, &curlen, sizeof cur, LONG_MAX, save_key, &s, &done);
        if (s.rc) goto out;
        if (rc) {
            s.rc = rc;
            goto out;
        }
    }
    rdb_put_byte(&s.b, OP_EOF);
    if (flush(&s)) goto out;
    rdb_put_u64le(&s.b, s.crc);
    if (s.b.len && fwrite(s.b.p, 1, s.b.len, f) != s.b.len) s.rc = ST_IO;
    else st->bytes += 8;
    if (s.rc == ST_OK && fflush(f) != 0) s.rc = ST_IO;
    if (s.rc == ST_OK && o->progress) o->progress(o->ud, st, 0);
out:
    rdb_buf_free(&s.b);
    if (s.rc == ST_IO) return fail(err, errlen, ST_IO, "write error: %s", strerror(errno));
    if (s.rc == ST_INVALID) return fail(err, errlen, ST_INVALID, "interrupted");
    if (s.rc) return fail(err, errlen, s.rc, "%s", store_strerror(s.rc));
    return ST_OK;
}
