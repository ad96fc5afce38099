/* dumpfile.h — reading and writing dump files (layout in dumpfmt.h):
 * zstd streaming, the whole-file CRC-32C, and the write-to-FILE.tmp-then-
 * rename discipline, so a dump file either is complete and verified or is
 * not there at all. */
#ifndef LODIS_DUMPFILE_H
#define LODIS_DUMPFILE_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "migrate/dumpfmt.h"

typedef struct dfw {
    int fd;
    char *tmp, *path;
    ZSTD_CCtx *cz;
    uint8_t *out;
    size_t outcap;
    uint32_t crc;
    uint64_t raw, body; /* record-stream bytes in, compressed bytes out */
} dfw;

/* Create path.tmp and write the header. 0, or -1 with err set. */
int dfw_open(dfw *w, const char *path, int level, char *err, size_t errlen);
/* Compress and write len bytes of record stream. */
int dfw_write(dfw *w, const void *p, size_t len, char *err, size_t errlen);
/* End the frame, write the trailer, fsync, rename path.tmp to path and
 * fsync the directory. */
int dfw_finish(dfw *w, char *err, size_t errlen);
/* Close and remove path.tmp (after an error or an interrupt). Safe after
 * dfw_finish and on a zeroed dfw. */
void dfw_abort(dfw *w);

typedef struct dfr {
    int fd;
    uint64_t created_ms;
    uint64_t raw_total, body_total; /* from the trailer */
    ZSTD_DCtx *dz;
    uint8_t *in;
    size_t incap;
    ZSTD_inBuffer zin;
    uint64_t body_left; /* compressed bytes not yet read from the file */
    int frame_done;
    uint8_t *buf;       /* decompressed bytes not yet consumed: buf[pos..len) */
    size_t pos, len, cap;
    uint64_t consumed;  /* record-stream bytes consumed */
} dfr;

/* Open a dump file and verify it end to end (trailer, sizes, CRC-32C of
 * header and body) before anything is decoded. 0, or -1 with err saying
 * what is wrong (truncated, damaged, not a dump, newer version). */
int dfr_open(dfr *r, const char *path, char *err, size_t errlen);
/* The next record / entry. Pointers in the result stay valid until the next
 * call. 1 = got one, 0 = clean end of the stream, -1 = error (err set). */
int dfr_next_rec(dfr *r, df_rec *rec, char *err, size_t errlen);
int dfr_next_entry(dfr *r, df_entry *e, char *err, size_t errlen);
void dfr_close(dfr *r);

#endif
