/* store_kv.h — string helpers for tests of the store's merged view: put a
 * C string under a keys-DBI key, and check what store_get answers (NULL:
 * not found). Include after cmocka.h and storage/store.h. */
#ifndef LODIS_TEST_STORE_KV_H
#define LODIS_TEST_STORE_KV_H

#include <string.h>

static inline void put_str(store *s, const char *k, const char *v) {
    assert_int_equal(store_put(s, ST_DBI_KEYS, k, strlen(k), v, strlen(v)), ST_OK);
}

static inline void expect(store *s, const char *k, const char *v) {
    const uint8_t *got;
    size_t n;
    int rc = store_get(s, ST_DBI_KEYS, k, strlen(k), &got, &n);
    if (!v) {
        assert_int_equal(rc, ST_NOTFOUND);
        return;
    }
    assert_int_equal(rc, ST_OK);
    assert_int_equal(n, strlen(v));
    assert_memory_equal(got, v, n);
}

#endif
