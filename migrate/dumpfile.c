/* dumpfile.c — dump files on disk; see dumpfile.h and dumpfmt.h.
 *
 * The reader checks the whole file (size from the trailer, CRC-32C over the
 * header and the compressed body) in one sequential pass at open, so that
 * restore can refuse a damaged file before it writes anything; zstd's own
 * content checksum then covers the decompressed stream as it is read. */
#include "migrate/dumpfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "storage/crc32c.h"

#define IOBUF (1u << 20)

static int64_t wall_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int write_all(int fd, const void *p, size_t n) {
    const uint8_t *q = p;
    while (n) {
        ssize_t w = write(fd, q, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        q += w;
        n -= (size_t)w;
    }
    return 0;
}

static int out_bytes(dfw *w, const void *p, size_t n, char *err, size_t errlen) {
    if (write_all(w->fd, p, n) != 0) {
        snprintf(err, errlen, "cannot write %s: %s%s", w->tmp, strerror(errno),
                 errno == ENOSPC ? "; free some space or write the dump elsewhere" : "");
        return -1;
    }
    w->crc = crc32c(w->crc, p, n);
    return 0;
}

int dfw_open(dfw *w, const char *path, int level, char *err, size_t errlen) {
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->path = strdup(path);
    size_t n = strlen(path) + 5;
    w->tmp = malloc(n);
    w->outcap = ZSTD_CStreamOutSize();
    w->out = malloc(w->outcap);
    w->cz = ZSTD_createCCtx();
    if (!w->path || !w->tmp || !w->out || !w->cz) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(w->tmp, n, "%s.tmp", path);
    ZSTD_CCtx_setParameter(w->cz, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(w->cz, ZSTD_c_checksumFlag, 1);
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s; check the directory exists and is writable",
                 w->tmp, strerror(errno));
        return -1;
    }
    uint8_t hdr[DF_HDR_LEN];
    df_header_encode(hdr, (uint64_t)wall_ms());
    return out_bytes(w, hdr, sizeof hdr, err, errlen);
}

static int compress(dfw *w, const void *p, size_t len, ZSTD_EndDirective mode, char *err,
                    size_t errlen) {
    ZSTD_inBuffer in = {p, len, 0};
    for (;;) {
        ZSTD_outBuffer out = {w->out, w->outcap, 0};
        size_t left = ZSTD_compressStream2(w->cz, &out, &in, mode);
        if (ZSTD_isError(left)) {
            snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(left));
            return -1;
        }
        if (out.pos) {
            if (out_bytes(w, w->out, out.pos, err, errlen) != 0) return -1;
            w->body += out.pos;
        }
        if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return 0;
    }
}

int dfw_write(dfw *w, const void *p, size_t len, char *err, size_t errlen) {
    w->raw += len;
    return compress(w, p, len, ZSTD_e_continue, err, errlen);
}

int dfw_finish(dfw *w, char *err, size_t errlen) {
    if (compress(w, NULL, 0, ZSTD_e_end, err, errlen) != 0) return -1;
    uint8_t tail[DF_TAIL_LEN];
    df_trailer_encode(tail, w->raw, w->body, w->crc);
    if (write_all(w->fd, tail, sizeof tail) != 0 || fsync(w->fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", w->tmp, strerror(errno));
        return -1;
    }
    close(w->fd);
    w->fd = -1;
    if (rename(w->tmp, w->path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", w->tmp, w->path, strerror(errno));
        return -1;
    }
    char *d = strdup(w->path);
    if (d) {
        int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(d);
    }
    free(w->tmp);
    w->tmp = NULL;
    dfw_abort(w);
    return 0;
}

void dfw_abort(dfw *w) {
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
    if (w->tmp) unlink(w->tmp);
    free(w->tmp);
    free(w->path);
    free(w->out);
    ZSTD_freeCCtx(w->cz);
    memset(w, 0, sizeof *w);
    w->fd = -1;
}

/* ------------------------------------------------------------------ */

static int read_at(int fd, void *p, size_t n, off_t off) {
    uint8_t *q = p;
    while (n) {
        ssize_t r = pread(fd, q, n, off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        q += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

int dfr_open(dfr *r, const char *path, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    fstat(r->fd, &st);
    uint64_t size = (uint64_t)st.st_size;
    uint8_t hdr[DF_HDR_LEN], tail[DF_TAIL_LEN];
    uint16_t version;
    if (size < DF_HDR_LEN || read_at(r->fd, hdr, DF_HDR_LEN, 0) != 0 ||
        memcmp(hdr, DF_MAGIC, 8) != 0) {
        snprintf(err, errlen, "%s is not a lodis dump (no LODISDMP header); for a Redis RDB "
                              "file use 'lodis-migrate import-rdb'", path);
        return -1;
    }
    if (df_header_decode(hdr, &version, &r->created_ms) != DF_OK) {
        snprintf(err, errlen, "%s is a lodis dump of format version %u; this lodis-migrate "
                              "reads version %d: use a newer lodis-migrate", path, version,
                 DF_VERSION);
        return -1;
    }
    uint32_t crc;
    if (size < DF_HDR_LEN + DF_TAIL_LEN ||
        read_at(r->fd, tail, DF_TAIL_LEN, (off_t)(size - DF_TAIL_LEN)) != 0 ||
        df_trailer_decode(tail, &r->raw_total, &r->body_total, &crc) != DF_OK ||
        r->body_total != size - DF_HDR_LEN - DF_TAIL_LEN) {
        snprintf(err, errlen, "%s is truncated or damaged (its trailer is missing or does not "
                              "match the file size %llu); nothing was written: use a complete "
                              "copy of the dump", path, (unsigned long long)size);
        return -1;
    }
    /* Verify the checksum of everything before the trailer. */
    uint8_t *b = malloc(IOBUF);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint32_t c = 0;
    uint64_t off = 0, end = size - DF_TAIL_LEN;
    while (off < end) {
        size_t n = end - off < IOBUF ? (size_t)(end - off) : IOBUF;
        if (read_at(r->fd, b, n, (off_t)off) != 0) {
            free(b);
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            return -1;
        }
        c = crc32c(c, b, n);
        off += n;
    }
    free(b);
    if (c != crc) {
        snprintf(err, errlen, "%s is damaged (checksum mismatch: file says %08x, content is "
                              "%08x); nothing was written: use an intact copy of the dump",
                 path, crc, c);
        return -1;
    }
    r->dz = ZSTD_createDCtx();
    r->incap = ZSTD_DStreamInSize();
    r->in = malloc(r->incap);
    if (!r->dz || !r->in) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->zin.src = r->in;
    r->body_left = r->body_total;
    lseek(r->fd, DF_HDR_LEN, SEEK_SET);
    return 0;
}

/* Make at least `need` decompressed bytes available at buf+pos. Returns 1
 * when they are, 0 at the end of the stream (fewer available), -1 on error. */
static int fill(dfr *r, size_t need, char *err, size_t errlen) {
    while (r->len - r->pos < need) {
        if (r->pos) {
            memmove(r->buf, r->buf + r->pos, r->len - r->pos);
            r->len -= r->pos;
            r->pos = 0;
        }
        if (r->cap < need || r->cap - r->len < ZSTD_DStreamOutSize()) {
            size_t nc = r->cap ? r->cap : (1u << 20);
            while (nc < need || nc - r->len < ZSTD_DStreamOutSize()) nc *= 2;
            uint8_t *nb = realloc(r->buf, nc);
            if (!nb) {
                snprintf(err, errlen, "out of memory (a record of %zu bytes)", need);
                return -1;
            }
            r->buf = nb;
            r->cap = nc;
        }
        if (r->zin.pos == r->zin.size) {
            if (r->body_left == 0) return 0;
            size_t n = r->body_left < r->incap ? (size_t)r->body_left : r->incap;
            ssize_t got = read(r->fd, r->in, n);
            if (got <= 0) {
                snprintf(err, errlen, "cannot read the dump: %s", got ? strerror(errno) : "EOF");
                return -1;
            }
            r->body_left -= (uint64_t)got;
            r->zin.size = (size_t)got;
            r->zin.pos = 0;
        }
        ZSTD_outBuffer out = {r->buf + r->len, r->cap - r->len, 0};
        size_t rc = ZSTD_decompressStream(r->dz, &out, &r->zin);
        if (ZSTD_isError(rc)) {
            snprintf(err, errlen, "the dump's compressed stream is damaged: %s",
                     ZSTD_getErrorName(rc));
            return -1;
        }
        r->len += out.pos;
        if (rc == 0) r->frame_done = 1;
    }
    return 1;
}

/* Decode with dec, growing the window while it says DF_SHORT. */
static int next(dfr *r, void *out, int (*dec)(const uint8_t *, size_t, void *, size_t *),
                char *err, size_t errlen) {
    size_t want = 64;
    for (;;) {
        size_t used;
        int rc = dec(r->buf + r->pos, r->len - r->pos, out, &used);
        if (rc == DF_OK) {
            r->pos += used;
            r->consumed += used;
            return 1;
        }
        if (rc == DF_BAD) {
            snprintf(err, errlen, "malformed record at byte %llu of the record stream",
                     (unsigned long long)r->consumed);
            return -1;
        }
        if (r->len - r->pos >= want) want = (r->len - r->pos) * 2;
        int f = fill(r, want, err, errlen);
        if (f < 0) return -1;
        if (f == 0 && r->len - r->pos < want) {
            /* End of stream: try once more with what there is. */
            rc = dec(r->buf + r->pos, r->len - r->pos, out, &used);
            if (rc == DF_OK) {
                r->pos += used;
                r->consumed += used;
                return 1;
            }
            if (r->len == r->pos) return 0;
            snprintf(err, errlen, "the dump ends inside a record (byte %llu)",
                     (unsigned long long)r->consumed);
            return -1;
        }
    }
}

static int dec_rec(const uint8_t *p, size_t n, void *out, size_t *used) {
    return df_dec_rec(p, n, out, used);
}
static int dec_entry(const uint8_t *p, size_t n, void *out, size_t *used) {
    return df_dec_entry(p, n, out, used);
}

int dfr_next_rec(dfr *r, df_rec *rec, char *err, size_t errlen) {
    return next(r, rec, dec_rec, err, errlen);
}

int dfr_next_entry(dfr *r, df_entry *e, char *err, size_t errlen) {
    int rc = next(r, e, dec_entry, err, errlen);
    if (rc == 0) {
        snprintf(err, errlen, "the dump ends inside a key's entries");
        return -1;
    }
    return rc;
}

void dfr_close(dfr *r) {
    if (r->fd > 0) close(r->fd);
    ZSTD_freeDCtx(r->dz);
    free(r->in);
    free(r->buf);
    memset(r, 0, sizeof *r);
}
