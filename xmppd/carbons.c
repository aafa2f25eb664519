/*
 * carbons.c: XEP-0280 message carbons. A resource that enabled carbons
 * gets a copy of the account's chat messages that went to, or came from,
 * its other resources, wrapped in <sent/> or <received/> and an XEP-0297
 * <forwarded/>.
 */
#define XD_LOG_AREA "carbons"
#include <string.h>

#include "router.h"

#define XD_NS_FORWARD "urn:xmpp:forward:0"
#define XD_NS_HINTS   "urn:xmpp:hints"

int
carbons_applies(const xd_stanza *st)
{
    const char *type = xd_stanza_type(st);
    const xd_elem *root = xd_stanza_root(st);

    /* Chat messages only, and not those marked private or no-copy. */
    return xd_stanza_kind_of(st) == XD_STANZA_MESSAGE && type != NULL &&
           strcmp(type, "chat") == 0 &&
           xd_elem_child(root, "private", XD_NS_CARBONS) == NULL &&
           xd_elem_child(root, "no-copy", XD_NS_HINTS) == NULL;
}

static int
in_list(struct c2s *const *list, size_t n, const struct c2s *c)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == c)
            return 1;
    return 0;
}

void
carbons_copy(struct router *r, const char *bare, const xd_stanza *st,
             const char *direction, struct c2s *const *skip, size_t nskip)
{
    const struct user_sessions *us = sessions_of(r, bare);

    for (size_t i = 0; us != NULL && i < us->n; i++) {
        struct c2s *c = us->list[i];
        if (!c2s_is_available(c) || !c2s_wants_carbons(c) ||
            in_list(skip, nskip, c))
            continue;
        xd_stanza *w = xd_stanza_new("message", XD_NS_CLIENT);
        xd_stanza_set_from(w, bare);
        xd_stanza_set_to(w, xd_jid_str(c2s_jid(c)));
        xd_stanza_set_type(w, "chat");
        xd_elem *d =
            xd_elem_add_child(xd_stanza_root(w), direction, XD_NS_CARBONS);
        xd_elem *f = xd_elem_add_child(d, "forwarded", XD_NS_FORWARD);
        xd_elem_add_copy(f, xd_stanza_root(st));
        c2s_deliver(c, w);
    }
}
