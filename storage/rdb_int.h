/* rdb_int.h — private to rdb.c and rdb_stream.c: the stream half of the
 * value codec. */
#ifndef LODIS_RDB_INT_H
#define LODIS_RDB_INT_H

#include "storage/rdb.h"

int rdb_stream_encode(ks *k, const ks_meta *m, const rdb_limits *lim, rdb_buf *out);
/* Decode STREAM_LISTPACKS 1/2/3 under o->id (already allocated). */
int rdb_stream_decode(ks *k, int type, rdb_rd *r, rdb_obj *o, const char **why);

#endif
