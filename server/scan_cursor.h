/* scan_cursor.h — numeric SCAN cursors over ordered storage.
 *
 * Redis cursors are numbers (clients parse them as uint64), but resuming an
 * ordered LMDB iteration needs a key position. A cursor therefore names a
 * saved position in a bounded table: slot in the low bits, a sequence
 * number above, so a stale or forged cursor is detected instead of
 * resuming somewhere wrong. 0 starts (and ends) an iteration. Positions
 * carry the owner (db, collection id) they belong to. */
#ifndef LODIS_SCAN_CURSOR_H
#define LODIS_SCAN_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#define SCAN_POS_MAX 600

/* Save a resume position; returns the cursor to give the client (never 0). */
uint64_t scan_cursor_save(uint64_t owner, const uint8_t *pos, size_t len);
/* Look up a cursor: 0 on success (pos copied, *len set), -1 if unknown,
 * stale or for another owner. */
int scan_cursor_load(uint64_t cursor, uint64_t owner, uint8_t *pos, size_t *len);
void scan_cursor_free_all(void);

#endif
