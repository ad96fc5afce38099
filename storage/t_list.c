/* t_list.c — list storage logic: elements as `sub` entries at dense
 * positions (layout in t_list.h), pushes and pops at both ends, point
 * reads and writes by index arithmetic, and the O(N) middle operations.
 *
 * Middle changes (LINSERT, LREM) keep the list dense: they move the
 * elements on the shorter side of the change by one position (insert) or
 * close the gaps (remove), so each costs at most min(left, right) element
 * moves plus the scan that found the position. The ends never move, so
 * pushes and pops stay O(log N) whatever the list's history. */
#include "storage/t_list.h"

#include <string.h>

#include "storage/endian.h"

void tl_hdr_decode(const ks_meta *m, uint64_t *head, uint64_t *tail) {
    if (m->hdrlen >= TL_HDR_LEN) {
        *head = be64_get(m->hdr);
        *tail = be64_get(m->hdr + 8);
    } else {
        *head = TL_MID;
        *tail = TL_MID + m->count;
    }
}

static size_t ekey(const tl_list *l, uint64_t abs, uint8_t out[TL_KEYLEN]) {
    be64_put(out, l->m.id);
    out[8] = TL_KIND;
    be64_put(out + 9, abs);
    return TL_KEYLEN;
}

int tl_open(tl_list *l, ks *k, int db, const void *key, size_t klen) {
    memset(l, 0, sizeof *l);
    l->k = k;
    l->db = db;
    l->key = key;
    l->klen = klen;
    l->m.type = KS_LIST;
    ks_meta m;
    int rc = ks_lookup(k, db, key, klen, KS_LIST, &m);
    if (rc) return rc;
    l->exists = 1;
    l->m.flags = m.flags;
    l->m.expire = m.expire;
    l->m.id = m.id;
    l->m.count = m.count;
    tl_hdr_decode(&m, &l->head, &l->tail);
    ks_meta_release(&m);
    return ST_OK;
}

void tl_new(tl_list *l, ks *k, int db, const void *key, size_t klen) {
    memset(l, 0, sizeof *l);
    l->k = k;
    l->db = db;
    l->key = key;
    l->klen = klen;
    tl_create(l);
}

void tl_create(tl_list *l) {
    l->m.type = KS_LIST;
    l->m.id = ks_new_id(l->k);
    l->m.count = 0;
    l->m.expire = 0;
    l->head = l->tail = TL_MID;
    l->meta_dirty = 1;
}

int tl_get(tl_list *l, uint64_t idx, const uint8_t **v, size_t *vlen) {
    if (idx >= l->m.count) return ST_NOTFOUND;
    uint8_t kb[TL_KEYLEN];
    size_t kl = ekey(l, l->head + idx, kb);
    return store_get(ks_store(l->k), ST_DBI_SUB, kb, kl, v, vlen);
}

static int put_abs(tl_list *l, uint64_t abs, const void *v, size_t vlen) {
    uint8_t kb[TL_KEYLEN];
    size_t kl = ekey(l, abs, kb);
    return store_put(ks_store(l->k), ST_DBI_SUB, kb, kl, v, vlen);
}

static int del_abs(tl_list *l, uint64_t abs) {
    uint8_t kb[TL_KEYLEN];
    size_t kl = ekey(l, abs, kb);
    return store_del(ks_store(l->k), ST_DBI_SUB, kb, kl);
}

/* Move the element at absolute position from to position to (overwrite). */
static int move_abs(tl_list *l, uint64_t from, uint64_t to) {
    uint8_t kb[TL_KEYLEN];
    size_t kl = ekey(l, from, kb);
    const uint8_t *v;
    size_t vlen;
    int rc = store_get(ks_store(l->k), ST_DBI_SUB, kb, kl, &v, &vlen);
    if (rc) return rc == ST_NOTFOUND ? ST_CORRUPT : rc;
    return put_abs(l, to, v, vlen);
}

int tl_push(tl_list *l, int where, const void *v, size_t vlen) {
    int rc;
    if (where == TL_HEAD) {
        rc = put_abs(l, l->head - 1, v, vlen);
        if (rc) return rc;
        l->head--;
    } else {
        rc = put_abs(l, l->tail, v, vlen);
        if (rc) return rc;
        l->tail++;
    }
    l->m.count++;
    l->meta_dirty = 1;
    return ST_OK;
}

int tl_pop(tl_list *l, int where) {
    if (l->m.count == 0) return ST_NOTFOUND;
    int rc;
    if (where == TL_HEAD) {
        rc = del_abs(l, l->head);
        if (rc) return rc;
        l->head++;
    } else {
        rc = del_abs(l, l->tail - 1);
        if (rc) return rc;
        l->tail--;
    }
    l->m.count--;
    l->meta_dirty = 1;
    return ST_OK;
}

int tl_set(tl_list *l, uint64_t idx, const void *v, size_t vlen) {
    if (idx >= l->m.count) return ST_NOTFOUND;
    int rc = put_abs(l, l->head + idx, v, vlen);
    if (rc == ST_OK) l->member_dirty = 1;
    return rc;
}

int tl_insert(tl_list *l, uint64_t pos, const void *v, size_t vlen) {
    if (pos > l->m.count) return ST_INVALID;
    int rc;
    if (pos < l->m.count - pos) {
        /* Shift the first pos elements one to the left. */
        for (uint64_t j = l->head; j < l->head + pos; j++)
            if ((rc = move_abs(l, j, j - 1))) return rc;
        rc = put_abs(l, l->head + pos - 1, v, vlen);
        if (rc) return rc;
        l->head--;
    } else {
        /* Shift the elements from pos on one to the right. */
        for (uint64_t j = l->tail; j > l->head + pos; j--)
            if ((rc = move_abs(l, j - 1, j))) return rc;
        rc = put_abs(l, l->head + pos, v, vlen);
        if (rc) return rc;
        l->tail++;
    }
    l->m.count++;
    l->meta_dirty = 1;
    return ST_OK;
}

int tl_remove_positions(tl_list *l, const uint64_t *pos, size_t n) {
    if (n == 0) return ST_OK;
    uint64_t first = pos[0], last = pos[n - 1];
    int rc;
    if (last < l->m.count - 1 - first) {
        /* Close the gaps by moving the head side to the right. */
        uint64_t w = l->head + last;
        size_t i = n; /* pos[i-1] is the next removed position going down */
        for (uint64_t r = l->head + last + 1; r-- > l->head;) {
            if (i > 0 && r == l->head + pos[i - 1]) {
                i--;
                continue;
            }
            if (r != w && (rc = move_abs(l, r, w))) return rc;
            w--;
        }
        /* Positions [head, w] are now stale. */
        for (uint64_t r = l->head; r <= w; r++)
            if ((rc = del_abs(l, r))) return rc;
        l->head = w + 1;
    } else {
        /* Close the gaps by moving the tail side to the left. */
        uint64_t w = l->head + first;
        size_t i = 0;
        for (uint64_t r = l->head + first; r < l->tail; r++) {
            if (i < n && r == l->head + pos[i]) {
                i++;
                continue;
            }
            if (r != w && (rc = move_abs(l, r, w))) return rc;
            w++;
        }
        for (uint64_t r = w; r < l->tail; r++)
            if ((rc = del_abs(l, r))) return rc;
        l->tail = w;
    }
    l->m.count -= n;
    l->meta_dirty = 1;
    return ST_OK;
}

int tl_trim(tl_list *l, uint64_t start, uint64_t stop, int keep_none) {
    int rc;
    if (keep_none || start > stop || start >= l->m.count) {
        for (uint64_t r = l->head; r < l->tail; r++)
            if ((rc = del_abs(l, r))) return rc;
        l->tail = l->head;
        l->m.count = 0;
        l->meta_dirty = 1;
        return ST_OK;
    }
    if (stop >= l->m.count) stop = l->m.count - 1;
    uint64_t nh = l->head + start, nt = l->head + stop + 1;
    for (uint64_t r = l->head; r < nh; r++)
        if ((rc = del_abs(l, r))) return rc;
    for (uint64_t r = nt; r < l->tail; r++)
        if ((rc = del_abs(l, r))) return rc;
    if (nh != l->head || nt != l->tail) l->meta_dirty = 1;
    l->head = nh;
    l->tail = nt;
    l->m.count = nt - nh;
    return ST_OK;
}

int tl_commit(tl_list *l) {
    if (l->m.count == 0) {
        if (l->exists) {
            int rc = ks_delete(l->k, l->db, l->key, l->klen);
            if (rc < 0) return rc;
            l->exists = 0;
        }
        l->meta_dirty = l->member_dirty = 0;
        return ST_OK;
    }
    if (l->meta_dirty || !l->exists) {
        be64_put(l->hdr, l->head);
        be64_put(l->hdr + 8, l->tail);
        ks_meta m = l->m;
        m.type = KS_LIST;
        m.hdr = l->hdr;
        m.hdrlen = TL_HDR_LEN;
        m.val = NULL;
        m.vlen = 0;
        m.owned = NULL;
        int rc = ks_write_meta(l->k, l->db, l->key, l->klen, &m);
        if (rc) return rc;
        l->exists = 1;
    } else if (l->member_dirty) {
        ks_notify_write(l->k, l->db, l->key, l->klen);
    }
    l->meta_dirty = l->member_dirty = 0;
    return ST_OK;
}

int tl_iter_open(tl_list *l, uint64_t start, int reverse, tl_iter *it) {
    memset(it, 0, sizeof *it);
    it->l = l;
    it->pos = start;
    it->reverse = reverse;
    return store_cursor_open(ks_store(l->k), ST_DBI_SUB, &it->cur);
}

int tl_iter_next(tl_iter *it, const uint8_t **v, size_t *vlen, uint64_t *pos) {
    tl_list *l = it->l;
    if (it->pos >= l->m.count) return ST_NOTFOUND; /* also catches reverse wrap */
    int rc;
    if (!it->started) {
        uint8_t kb[TL_KEYLEN];
        size_t kl = ekey(l, l->head + it->pos, kb);
        rc = it->reverse ? store_cursor_seek_rev(it->cur, kb, kl)
                         : store_cursor_seek(it->cur, kb, kl);
        it->started = 1;
    } else {
        rc = it->reverse ? store_cursor_prev(it->cur) : store_cursor_next(it->cur);
    }
    if (rc && rc != ST_NOTFOUND) return rc;
    const uint8_t *k;
    size_t kl;
    rc = store_cursor_get(it->cur, &k, &kl, v, vlen);
    if (rc) return rc == ST_NOTFOUND ? ST_CORRUPT : rc;
    if (kl != TL_KEYLEN || be64_get(k) != l->m.id || k[8] != TL_KIND ||
        be64_get(k + 9) != l->head + it->pos)
        return ST_CORRUPT;
    *pos = it->pos;
    if (it->reverse) it->pos--; /* wraps to UINT64_MAX after 0: ends the walk */
    else it->pos++;
    return ST_OK;
}

void tl_iter_close(tl_iter *it) {
    if (it->cur) store_cursor_close(it->cur);
    it->cur = NULL;
}
