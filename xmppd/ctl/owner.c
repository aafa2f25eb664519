/*
 * owner.c: xmppdctl run as root (`sudo xmppdctl adduser ...`) must not
 * leave root-owned files in the services' state folder: the service user
 * could no longer open its own database. So it becomes the folder's owner
 * before opening anything there, or refuses.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xmppd/common.h>

#include "owner.h"

int
ctl_become_owner(const char *db_path)
{
    char *copy = xd_xstrdup(db_path);
    const char *dir = dirname(copy);
    struct stat st;

    if (geteuid() != 0 || stat(dir, &st) != 0 || st.st_uid == 0) {
        /* Not root, or a folder of root's own: files made here are owned
         * as the folder is. A missing folder is reported by the open. */
        free(copy);
        return 0;
    }
    struct passwd *pw = getpwuid(st.st_uid);
    gid_t gid = pw != NULL ? pw->pw_gid : st.st_gid;
    if ((pw != NULL ? initgroups(pw->pw_name, gid) : setgroups(0, NULL)) != 0 ||
        setresgid(gid, gid, gid) != 0 ||
        setresuid(st.st_uid, st.st_uid, st.st_uid) != 0 || setuid(0) == 0) {
        fprintf(stderr,
                "xmppdctl: %s belongs to uid %lu; cannot become it (%s): "
                "run xmppdctl as that user\n",
                dir, (unsigned long)st.st_uid, strerror(errno));
        free(copy);
        return -1;
    }
    free(copy);
    return 0;
}
