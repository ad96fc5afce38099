/* slowlog.h — SLOWLOG: commands slower than slowlog-log-slower-than. */
#ifndef LODIS_SLOWLOG_H
#define LODIS_SLOWLOG_H

#include <stdint.h>

#include "server/client.h"

void slowlog_maybe_add(client *c, int64_t duration_us);
void slowlog_free_all(void);

#endif
