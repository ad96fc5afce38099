/* lodis-damage — deliberately break a stopped lodis data directory, through
 * storage/'s own API, so tests can check that `lodis-migrate check` notices.
 * Test-only; never installed.
 *
 *   lodis-damage DATADIR count KEY    add one to the meta count of collection KEY (db 0)
 *   lodis-damage DATADIR orphan       members under a collection id no key owns
 *   lodis-damage DATADIR expires      an expires-index entry for a key that does not exist
 */
#include <stdio.h>
#include <string.h>

#include "storage/keyspace.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: lodis-damage DATADIR count KEY | orphan | expires\n");
        return 2;
    }
    store_opts o;
    store_opts_default(&o);
    o.dir = argv[1];
    char err[512] = "";
    int rc;
    store *s = store_open(&o, &rc, err, sizeof err);
    if (!s) {
        fprintf(stderr, "lodis-damage: %s\n", err);
        return 2;
    }
    ks *k = ks_open(s, KS_MAX_DBS, &rc);
    if (!strcmp(argv[2], "count") && argc > 3) {
        ks_meta m;
        rc = ks_lookup(k, 0, argv[3], strlen(argv[3]), KS_NONE, &m);
        if (rc == ST_OK) {
            ks_meta n = m;
            n.count++;
            n.owned = NULL;
            rc = ks_write_meta(k, 0, argv[3], strlen(argv[3]), &n);
            ks_meta_release(&m);
        }
    } else if (!strcmp(argv[2], "orphan")) {
        uint8_t sk[64];
        size_t n = ks_subkey(sk, ks_new_id(k) + 1000, "fx", 2);
        rc = store_put(s, ST_DBI_SUB, sk, n, "v", 1);
    } else if (!strcmp(argv[2], "expires")) {
        uint8_t ek[8 + 6] = {0, 0, 1, 0x80, 0, 0, 0, 0, 0, 'g', 'h', 'o', 's', 't'};
        rc = store_put(s, ST_DBI_EXPIRES, ek, sizeof ek, "", 0);
    } else {
        fprintf(stderr, "lodis-damage: unknown mode %s\n", argv[2]);
        rc = ST_INVALID;
    }
    if (rc == ST_OK) rc = ks_flush_counters(k);
    if (rc == ST_OK) rc = store_commit(s);
    ks_close(k);
    store_close(s);
    if (rc != ST_OK) fprintf(stderr, "lodis-damage: %s\n", store_strerror(rc));
    return rc == ST_OK ? 0 : 1;
}
