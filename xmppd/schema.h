/*
 * schema.h: the router's SQLite schema, as migrations (db.h).
 */
#ifndef XMPPD_SCHEMA_H
#define XMPPD_SCHEMA_H

#include <stddef.h>

/* xmppd_schema[i] takes the database from version i to i + 1. */
extern const char *const xmppd_schema[];
extern const size_t xmppd_schema_count;

#endif
