/*
 * roster.c: xmppdctl roster get JID and roster add JID CONTACT [NAME
 * [GROUP...]], on the router's database. An added contact has subscription
 * none: presence is shared only once both sides agree (RFC 6121), so an
 * administrator cannot subscribe anyone to anyone. The account's clients
 * see the item at their next roster fetch; a running xmppd sends no roster
 * push for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/buf.h>
#include <xmppd/jid.h>

#include "ctl.h"
#include "roster_store.h"

static void
print_item(const struct roster_item *it, void *arg)
{
    (void)arg;
    printf("%s\t%s\t%s%s\t", it->contact, it->name ? it->name : "",
           it->subscription, it->ask ? "+ask" : "");
    for (const char *g = it->groups; *g != '\0';) {
        size_t n = strcspn(g, "\n");
        printf("%s%.*s", g == it->groups ? "" : ",", (int)n, g);
        g += n + (g[n] == '\n');
    }
    printf("\n");
}

int
ctl_cmd_roster(struct ctl *c, int argc, char **argv)
{
    xd_jid *j = NULL, *contact = NULL;
    int rc = 1;

    if (argc < 3 || (strcmp(argv[1], "get") == 0 && argc != 3) ||
        (strcmp(argv[1], "add") == 0 && argc < 4) ||
        (strcmp(argv[1], "get") != 0 && strcmp(argv[1], "add") != 0))
        return 2;
    if (ctl_account_jid(c, argv[2], &j) != 0)
        return 1;
    if (strcmp(argv[1], "get") == 0) {
        rc = roster_each(c->db, xd_jid_domain(j), xd_jid_local(j), print_item,
                         NULL) == 0
                 ? 0
                 : 1;
        xd_jid_free(j);
        return rc;
    }
    if (xd_jid_parse(argv[3], &contact) != 0 ||
        xd_jid_resource(contact) != NULL) {
        fprintf(stderr, "xmppdctl: '%s' is not a bare JID\n", argv[3]);
        goto done;
    }
    xd_buf groups = { 0 };
    for (int i = 5; i < argc; i++)
        xd_buf_appendf(&groups, "%s%s", i > 5 ? "\n" : "", argv[i]);
    struct roster_item it = {
        .contact = xd_jid_str(contact),
        .name = argc > 4 && *argv[4] ? argv[4] : NULL,
        .subscription = "none",
        .groups = groups.data ? groups.data : "",
    };
    long long version = 0;
    if (roster_put(c->db, xd_jid_domain(j), xd_jid_local(j), &it, &version) ==
        0) {
        printf("%s: %s added to the roster\n", xd_jid_str(j),
               xd_jid_str(contact));
        rc = 0;
    } else {
        fprintf(stderr, "xmppdctl: roster add %s: cannot be written\n",
                xd_jid_str(j));
    }
    xd_buf_free(&groups);
done:
    xd_jid_free(contact);
    xd_jid_free(j);
    return rc;
}
