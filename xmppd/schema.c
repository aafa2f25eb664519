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
    /* 2: rosters (RFC 6121 section 2) with a version per account
     * (XEP-0237), and offline messages (XEP-0160). */
    "CREATE TABLE roster_items ("
    "  host TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  contact TEXT NOT NULL,"
    "  name TEXT,"
    "  subscription TEXT NOT NULL DEFAULT 'none',"
    "  ask INTEGER NOT NULL DEFAULT 0,"
    "  groups TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (host, user, contact),"
    "  FOREIGN KEY (host, user) REFERENCES accounts (host, user)"
    "    ON DELETE CASCADE"
    ") WITHOUT ROWID;"
    "CREATE TABLE roster_versions ("
    "  host TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  PRIMARY KEY (host, user),"
    "  FOREIGN KEY (host, user) REFERENCES accounts (host, user)"
    "    ON DELETE CASCADE"
    ") WITHOUT ROWID;"
    "CREATE TABLE offline_messages ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  host TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  stored INTEGER NOT NULL,"
    "  stanza TEXT NOT NULL,"
    "  FOREIGN KEY (host, user) REFERENCES accounts (host, user)"
    "    ON DELETE CASCADE"
    ");"
    "CREATE INDEX offline_by_user ON offline_messages (host, user, id);",
    /* 3: subscription requests waiting for the account to answer
     * (RFC 6121 3.1.3: stored and redelivered until answered). */
    "CREATE TABLE presence_pending ("
    "  host TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  contact TEXT NOT NULL,"
    "  stanza TEXT NOT NULL,"
    "  PRIMARY KEY (host, user, contact),"
    "  FOREIGN KEY (host, user) REFERENCES accounts (host, user)"
    "    ON DELETE CASCADE"
    ") WITHOUT ROWID;",
    /* 4: XML an account keeps on the server: XEP-0049 private storage
     * (key "private {ns} {name}") and its XEP-0054 vCard (key "vcard"). */
    "CREATE TABLE account_xml ("
    "  host TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  xml TEXT NOT NULL,"
    "  PRIMARY KEY (host, user, key),"
    "  FOREIGN KEY (host, user) REFERENCES accounts (host, user)"
    "    ON DELETE CASCADE"
    ") WITHOUT ROWID;",
    /* 5: XEP-0191 block lists. */
    "CREATE TABLE blocklist ("
    "  host TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  jid TEXT NOT NULL,"
    "  PRIMARY KEY (host, user, jid),"
    "  FOREIGN KEY (host, user) REFERENCES accounts (host, user)"
    "    ON DELETE CASCADE"
    ") WITHOUT ROWID;",
    /* 6: XEP-0313 message archives and their preferences. */
    "CREATE TABLE archive ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  host TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  sid TEXT NOT NULL,"
    "  peer TEXT NOT NULL,"
    "  stamp INTEGER NOT NULL,"
    "  stanza TEXT NOT NULL,"
    "  FOREIGN KEY (host, user) REFERENCES accounts (host, user)"
    "    ON DELETE CASCADE"
    ");"
    "CREATE INDEX archive_by_user ON archive (host, user, id);"
    "CREATE UNIQUE INDEX archive_by_sid ON archive (host, user, sid);"
    "CREATE TABLE archive_prefs ("
    "  host TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  default_mode TEXT NOT NULL,"
    "  PRIMARY KEY (host, user),"
    "  FOREIGN KEY (host, user) REFERENCES accounts (host, user)"
    "    ON DELETE CASCADE"
    ") WITHOUT ROWID;",
    /* 7: when each account was last seen, for XEP-0012. */
    "CREATE TABLE last_seen ("
    "  host TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  stamp INTEGER NOT NULL,"
    "  status TEXT,"
    "  PRIMARY KEY (host, user),"
    "  FOREIGN KEY (host, user) REFERENCES accounts (host, user)"
    "    ON DELETE CASCADE"
    ") WITHOUT ROWID;",
    /* 8: RFC 6121 3.4 subscription pre-approval. */
    ("ALTER TABLE roster_items ADD COLUMN approved INTEGER NOT NULL "
     "DEFAULT 0;"),
};

const size_t xmppd_schema_count =
    sizeof(xmppd_schema) / sizeof(xmppd_schema[0]);
