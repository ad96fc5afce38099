/* wal.c — write-ahead log segments; see wal.h for the format.
 *
 * Space is reserved with fallocate() before a tick's writes are accepted, so
 * a full disk is seen before a command runs (store_reserve), never after it
 * has changed the memtable. A trimmed segment is kept as a spare and renamed
 * to the next generation: its blocks are already allocated and written, so
 * fdatasync of appends into it updates no metadata. */
#include "storage/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "storage/crc32c.h"
#include "storage/endian.h"
#include "storage/store.h"

#define WAL_MAGIC 0x4c57414cu /* "LWAL" */

static void seg_path(const wal *w, uint64_t gen, char *out, size_t cap) {
    snprintf(out, cap, "%s/%016llx.wal", w->dir, (unsigned long long)gen);
}

static void spare_path(const wal *w, char *out, size_t cap) {
    snprintf(out, cap, "%s/spare.wal", w->dir);
}

int wal_init(wal *w, const char *datadir, uint64_t segsize) {
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->segsize = segsize;
    size_t n = strlen(datadir) + 8;
    w->dir = malloc(n);
    if (!w->dir) return ST_NOMEM;
    snprintf(w->dir, n, "%s/wal", datadir);
    if (mkdir(w->dir, 0755) != 0 && errno != EEXIST) return ST_IO;
    return ST_OK;
}

void wal_close(wal *w) {
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
    free(w->dir);
    w->dir = NULL;
}

static int parse_gen(const char *name, uint64_t *gen) {
    size_t n = strlen(name);
    if (n != 20 || strcmp(name + 16, ".wal") != 0) return -1;
    uint64_t g = 0;
    for (int i = 0; i < 16; i++) {
        char ch = name[i];
        int d;
        if (ch >= '0' && ch <= '9') d = ch - '0';
        else if (ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
        else return -1;
        g = g << 4 | (uint64_t)d;
    }
    *gen = g;
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* List segment generations, sorted. Caller frees *gens. */
static int list_segments(const wal *w, uint64_t **gens, size_t *n) {
    DIR *d = opendir(w->dir);
    if (!d) return ST_IO;
    size_t cap = 16, cnt = 0;
    uint64_t *g = malloc(cap * sizeof *g);
    struct dirent *de;
    while (g && (de = readdir(d))) {
        uint64_t gen;
        if (parse_gen(de->d_name, &gen) != 0) continue;
        if (cnt == cap) {
            uint64_t *ng = realloc(g, cap * 2 * sizeof *g);
            if (!ng) break;
            g = ng;
            cap *= 2;
        }
        g[cnt++] = gen;
    }
    closedir(d);
    if (!g) return ST_NOMEM;
    qsort(g, cnt, sizeof *g, cmp_u64);
    *gens = g;
    *n = cnt;
    return ST_OK;
}

/* Apply the records of one segment. Returns the byte offset of the end of
 * the last good record. */
static uint64_t replay_segment(int fd, uint64_t gen, wal_apply_fn fn, void *ud,
                               uint64_t *records, int *rc) {
    struct stat st;
    *rc = ST_OK;
    if (fstat(fd, &st) != 0) {
        *rc = ST_IO;
        return 0;
    }
    uint64_t off = 0, size = (uint64_t)st.st_size;
    uint8_t hdr[WAL_HDR];
    uint8_t *payload = NULL;
    size_t pcap = 0;
    while (off + WAL_HDR <= size) {
        if (pread(fd, hdr, WAL_HDR, (off_t)off) != WAL_HDR) break;
        if (be32_get(hdr) != WAL_MAGIC) break;
        uint32_t crc = be32_get(hdr + 4);
        uint64_t rgen = be64_get(hdr + 8);
        uint32_t len = be32_get(hdr + 16);
        if (rgen != gen || off + WAL_HDR + len > size) break;
        if (len > pcap) {
            uint8_t *np = realloc(payload, len);
            if (!np) {
                *rc = ST_NOMEM;
                break;
            }
            payload = np;
            pcap = len;
        }
        if (len && pread(fd, payload, len, (off_t)(off + WAL_HDR)) != (ssize_t)len) break;
        uint32_t c = crc32c(0, hdr + 8, WAL_HDR - 8);
        c = crc32c(c, payload, len);
        if (c != crc) break;
        /* Record is whole: apply every operation. */
        size_t p = 0;
        int bad = 0;
        while (p < len) {
            if (len - p < 10) {
                bad = 1;
                break;
            }
            int op = payload[p], dbi = payload[p + 1];
            uint32_t kl = be32_get(payload + p + 2), vl = be32_get(payload + p + 6);
            p += 10;
            if ((uint64_t)kl + vl > len - p || dbi >= ST_NDBI) {
                bad = 1;
                break;
            }
            int r = fn(ud, op, dbi, payload + p, kl, payload + p + kl, vl);
            if (r != ST_OK) {
                *rc = r;
                free(payload);
                return off;
            }
            p += (size_t)kl + vl;
        }
        if (bad) {
            /* A checksummed record with a bad body is damage, not a torn
             * write: refuse rather than guess. */
            *rc = ST_CORRUPT;
            break;
        }
        (*records)++;
        off += WAL_HDR + len;
    }
    free(payload);
    return off;
}

int wal_replay(wal *w, uint64_t after_gen, wal_apply_fn fn, void *ud, uint64_t *max_gen,
               uint64_t *records, char *err, size_t errlen) {
    uint64_t *gens = NULL;
    size_t n = 0;
    *max_gen = after_gen;
    *records = 0;
    int rc = list_segments(w, &gens, &n);
    if (rc != ST_OK) {
        snprintf(err, errlen, "cannot list WAL directory %s: %s", w->dir, strerror(errno));
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        seg_path(w, gens[i], path, sizeof path);
        if (gens[i] <= after_gen) {
            if (!w->readonly) unlink(path); /* already checkpointed */
            continue;
        }
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open WAL segment %s: %s", path, strerror(errno));
            free(gens);
            return ST_IO;
        }
        replay_segment(fd, gens[i], fn, ud, records, &rc);
        close(fd);
        if (rc != ST_OK) {
            snprintf(err, errlen, "WAL segment %s: %s", path, store_strerror(rc));
            free(gens);
            return rc;
        }
        *max_gen = gens[i];
    }
    free(gens);
    return ST_OK;
}

int wal_start_segment(wal *w, uint64_t gen) {
    char path[4096], spare[4096];
    seg_path(w, gen, path, sizeof path);
    spare_path(w, spare, sizeof spare);
    if (rename(spare, path) != 0) {
        /* No spare: a new, empty file. */
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) return errno == ENOSPC ? ST_NOSPACE : ST_IO;
        close(fd);
    }
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return errno == ENOSPC ? ST_NOSPACE : ST_IO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return ST_IO;
    }
    /* A recycled segment's first header must not look valid for `gen`:
     * records carry their generation, and this one is new, so stale records
     * (older generations) already fail the check. */
    if (w->fd >= 0) close(w->fd);
    w->fd = fd;
    w->gen = gen;
    w->off = 0;
    w->alloc = (uint64_t)st.st_size;
    /* Make the new directory entry durable before anything depends on it. */
    int dfd = open(w->dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return wal_reserve(w, w->segsize);
}

int wal_reserve(wal *w, uint64_t bytes) {
    if (w->fd < 0) return ST_IO;
    if (w->off + bytes <= w->alloc) return ST_OK;
    uint64_t want = w->off + bytes;
    uint64_t n = w->alloc + w->segsize;
    if (n < want) n = want + w->segsize;
    int r = posix_fallocate(w->fd, 0, (off_t)n);
    if (r != 0) return r == ENOSPC ? ST_NOSPACE : ST_IO;
    w->alloc = n;
    return ST_OK;
}

size_t wal_encode_op(uint8_t *dst, int op, int dbi, const void *k, size_t klen, const void *v,
                     size_t vlen) {
    dst[0] = (uint8_t)op;
    dst[1] = (uint8_t)dbi;
    be32_put(dst + 2, (uint32_t)klen);
    be32_put(dst + 6, (uint32_t)vlen);
    if (klen) memcpy(dst + 10, k, klen);
    if (vlen) memcpy(dst + 10 + klen, v, vlen);
    return 10 + klen + vlen;
}

int wal_append(wal *w, const void *payload, size_t len) {
    int rc = wal_reserve(w, WAL_HDR + len);
    if (rc != ST_OK) return rc;
    uint8_t hdr[WAL_HDR];
    be32_put(hdr, WAL_MAGIC);
    be64_put(hdr + 8, w->gen);
    be32_put(hdr + 16, (uint32_t)len);
    be32_put(hdr + 20, 0);
    uint32_t c = crc32c(0, hdr + 8, WAL_HDR - 8);
    c = crc32c(c, payload, len);
    be32_put(hdr + 4, c);
    /* Header and payload in one pwritev so a record is one write call. */
    struct iovec iov[2] = {{hdr, WAL_HDR}, {(void *)payload, len}};
    size_t total = WAL_HDR + len, done = 0;
    while (done < total) {
        ssize_t wr;
        if (done == 0) {
            wr = pwritev(w->fd, iov, 2, (off_t)w->off);
        } else if (done < WAL_HDR) {
            struct iovec rest[2] = {{hdr + done, WAL_HDR - done}, {(void *)payload, len}};
            wr = pwritev(w->fd, rest, 2, (off_t)(w->off + done));
        } else {
            wr = pwrite(w->fd, (const uint8_t *)payload + (done - WAL_HDR), total - done,
                        (off_t)(w->off + done));
        }
        if (wr < 0) {
            if (errno == EINTR) continue;
            return errno == ENOSPC ? ST_NOSPACE : ST_IO;
        }
        done += (size_t)wr;
    }
    w->off += total;
    return ST_OK;
}

void wal_trim(wal *w, uint64_t upto) {
    uint64_t *gens = NULL;
    size_t n = 0;
    if (list_segments(w, &gens, &n) != ST_OK) return;
    char spare[4096];
    spare_path(w, spare, sizeof spare);
    int have_spare = access(spare, F_OK) == 0;
    for (size_t i = 0; i < n; i++) {
        if (gens[i] > upto || gens[i] == w->gen) continue;
        char path[4096];
        seg_path(w, gens[i], path, sizeof path);
        if (!have_spare && rename(path, spare) == 0) {
            have_spare = 1;
            continue;
        }
        unlink(path);
    }
    free(gens);
}

uint64_t wal_bytes(wal *w) {
    uint64_t *gens = NULL;
    size_t n = 0;
    if (list_segments(w, &gens, &n) != ST_OK) return 0;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        seg_path(w, gens[i], path, sizeof path);
        if (stat(path, &st) == 0) total += (uint64_t)st.st_size;
    }
    free(gens);
    return total;
}
