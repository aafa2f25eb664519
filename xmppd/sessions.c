/*
 * sessions.c: the table of bound client sessions, by full JID and by bare
 * JID. This is the one-node case of the session directory DESIGN.md
 * describes; a clustered directory will sit behind the same functions.
 */
#include <stdlib.h>
#include <string.h>

#include "router.h"

void
sessions_add(struct router *r, struct c2s *c, struct c2s **replaced)
{
    const xd_jid *jid = c2s_jid(c);
    struct user_sessions *us = xd_map_get(r->users, xd_jid_bare_str(jid));

    *replaced = xd_map_put(r->sessions, xd_jid_str(jid), c);
    if (*replaced != NULL) {
        /* The old session stays in the bare list until it closes; it no
         * longer owns the full JID. */
        for (size_t i = 0; us && i < us->n; i++)
            if (us->list[i] == *replaced) {
                us->list[i] = c;
                return;
            }
    }
    if (us == NULL) {
        us = xd_xcalloc(1, sizeof(*us));
        xd_map_put(r->users, xd_jid_bare_str(jid), us);
    }
    if (us->n == us->cap) {
        us->cap = us->cap ? us->cap * 2 : 4;
        us->list = xd_xrealloc(us->list, us->cap * sizeof(*us->list));
    }
    us->list[us->n++] = c;
}

void
sessions_remove(struct router *r, struct c2s *c)
{
    const xd_jid *jid = c2s_jid(c);
    struct user_sessions *us = xd_map_get(r->users, xd_jid_bare_str(jid));

    if (xd_map_get(r->sessions, xd_jid_str(jid)) == c)
        xd_map_remove(r->sessions, xd_jid_str(jid));
    for (size_t i = 0; us && i < us->n; i++) {
        if (us->list[i] != c)
            continue;
        us->list[i] = us->list[--us->n];
        if (us->n == 0) {
            xd_map_remove(r->users, xd_jid_bare_str(jid));
            free(us->list);
            free(us);
        }
        return;
    }
}

struct c2s *
sessions_get(struct router *r, const char *full_jid)
{
    return xd_map_get(r->sessions, full_jid);
}

const struct user_sessions *
sessions_of(struct router *r, const char *bare)
{
    return xd_map_get(r->users, bare);
}
