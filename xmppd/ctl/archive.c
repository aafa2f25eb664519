/*
 * archive.c: xmppdctl delete_old_archives DAYS: deletes the XEP-0313
 * archived messages of every account older than DAYS days (ejabberdctl's
 * command of the same name). It is one DELETE on the archive's stamps,
 * which the running xmppd does not cache.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctl.h"

int
ctl_cmd_delete_old_archives(struct ctl *c, int argc, char **argv)
{
    char *end = NULL;
    unsigned long days;

    if (argc != 2)
        return 2;
    errno = 0;
    days = strtoul(argv[1], &end, 10);
    if (errno != 0 || end == argv[1] || *end != '\0' || days > 36500) {
        fprintf(stderr, "xmppdctl: '%s' is not a number of days\n", argv[1]);
        return 2;
    }
    long long before = (long long)time(NULL) - (long long)days * 86400;
    if (xd_db_run(c->db, "DELETE FROM archive WHERE stamp < ?",
                  XD_DB_INT(before)) != 0)
        return 1;
    printf("%d archived message(s) older than %lu day(s) deleted\n",
           xd_db_changes(c->db), days);
    return 0;
}
