/*
 * schema.c: the router's tables. Append a migration to change the schema;
 * never edit one that has shipped.
 */
#include "schema.h"

const char *const xmppd_schema[] = {
    /* 1: accounts, with SCRAM credentials for both hashes (never the
     * password itself). */
    "CREATE TABLE accounts ("
    "  host TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  PRIMARY KEY (host, user)"
    ") WITHOUT ROWID;"
    "CREATE TABLE scram_credentials ("
    "  host TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  mechanism TEXT NOT NULL,"
    "  salt BLOB NOT NULL,"
    "  iterations INTEGER NOT NULL,"
    "  stored_key BLOB NOT NULL,"
    "  server_key BLOB NOT NULL,"
    "  PRIMARY KEY (host, user, mechanism),"
    "  FOREIGN KEY (host, user) REFERENCES accounts (host, user)"
    "    ON DELETE CASCADE"
    ") WITHOUT ROWID;",
};

const size_t xmppd_schema_count =
    sizeof(xmppd_schema) / sizeof(xmppd_schema[0]);
