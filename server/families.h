/* families.h — startup and shutdown of the command families that keep
 * state (hooks, per-client data). families.c lists them in one place. */
#ifndef LODIS_FAMILIES_H
#define LODIS_FAMILIES_H

void families_init(void);
void families_shutdown(void);

#endif
