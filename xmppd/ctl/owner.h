/* owner.h: xmppdctl takes the identity of the state folder's owner. */
#ifndef XMPPD_CTL_OWNER_H
#define XMPPD_CTL_OWNER_H

/*
 * When running as root and the folder holding `db_path` belongs to another
 * user (the service user, in the installed layout), becomes that user and
 * its group for good, so that no file created there (the database, its -wal
 * and -shm) is root's. 0 when nothing had to change or the switch is done;
 * -1 when it had to switch and could not (printed on stderr): the caller
 * must then stop without touching the folder.
 */
int ctl_become_owner(const char *db_path);

#endif
