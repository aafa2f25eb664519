/*
 * stanza.c: message, presence and iq helpers (RFC 6120 section 8).
 */
#include <string.h>

#include <xmppd/stanza.h>

xd_stanza_kind
xd_stanza_kind_of(const xd_stanza *st)
{
    const xd_elem *root = xd_stanza_root(st);
    const char *name = xd_elem_name(root);

    if (strcmp(xd_elem_ns(root), XD_NS_CLIENT) != 0)
        return XD_STANZA_OTHER;
    if (strcmp(name, "message") == 0)
        return XD_STANZA_MESSAGE;
    if (strcmp(name, "presence") == 0)
        return XD_STANZA_PRESENCE;
    if (strcmp(name, "iq") == 0)
        return XD_STANZA_IQ;
    return XD_STANZA_OTHER;
}

const char *
xd_stanza_to(const xd_stanza *st)
{
    return xd_elem_attr(xd_stanza_root(st), "to");
}

const char *
xd_stanza_from(const xd_stanza *st)
{
    return xd_elem_attr(xd_stanza_root(st), "from");
}

const char *
xd_stanza_id(const xd_stanza *st)
{
    return xd_elem_attr(xd_stanza_root(st), "id");
}

const char *
xd_stanza_type(const xd_stanza *st)
{
    return xd_elem_attr(xd_stanza_root(st), "type");
}

void
xd_stanza_set_to(xd_stanza *st, const char *to)
{
    xd_elem_set_attr(xd_stanza_root(st), "to", to);
}

void
xd_stanza_set_from(xd_stanza *st, const char *from)
{
    xd_elem_set_attr(xd_stanza_root(st), "from", from);
}

void
xd_stanza_set_id(xd_stanza *st, const char *id)
{
    xd_elem_set_attr(xd_stanza_root(st), "id", id);
}

void
xd_stanza_set_type(xd_stanza *st, const char *type)
{
    xd_elem_set_attr(xd_stanza_root(st), "type", type);
}

int
xd_stanza_is_error(const xd_stanza *st)
{
    const char *type = xd_stanza_type(st);

    return type != NULL && strcmp(type, "error") == 0;
}

const char *
xd_stanza_child_text(const xd_stanza *st, const char *name, const char *ns)
{
    return xd_elem_child_text(xd_stanza_root(st), name, ns);
}

void
xd_stanza_set_child_text(xd_stanza *st, const char *name, const char *ns,
                         const char *text)
{
    xd_elem_set_child_text(xd_stanza_root(st), name, ns, text);
}

/* Ids made by this module: the length xd_stanza_iq_new always used. */
#define STANZA_ID_LEN 16

static void
set_fresh_id(xd_stanza *st)
{
    char id[STANZA_ID_LEN + 1];

    xd_random_id(id, STANZA_ID_LEN);
    xd_stanza_set_id(st, id);
}

xd_stanza *
xd_stanza_reply(const xd_stanza *in)
{
    const xd_elem *root = xd_stanza_root(in);
    xd_stanza *out = xd_stanza_new(xd_elem_name(root), xd_elem_ns(root));
    xd_stanza_kind kind = xd_stanza_kind_of(in);

    xd_stanza_set_to(out, xd_stanza_from(in));
    xd_stanza_set_from(out, xd_stanza_to(in));
    /* An iq result is matched to its request by the id; a message answering
     * a message is a message of its own, and one that reused the user's id
     * would be taken by clients for the user's (corrections, receipts and
     * de-duplication all go by id). */
    if (kind == XD_STANZA_MESSAGE)
        set_fresh_id(out);
    else
        xd_stanza_set_id(out, xd_stanza_id(in));
    if (kind == XD_STANZA_IQ)
        xd_stanza_set_type(out, "result");
    else
        xd_stanza_set_type(out, xd_stanza_type(in));
    return out;
}

xd_stanza *
xd_stanza_message_reply(const xd_stanza *in, const char *body)
{
    if (xd_stanza_kind_of(in) != XD_STANZA_MESSAGE || xd_stanza_is_error(in))
        return NULL;
    xd_stanza *out = xd_stanza_reply(in);
    if (body != NULL)
        xd_stanza_set_child_text(out, "body", XD_NS_CLIENT, body);
    return out;
}

xd_stanza *
xd_stanza_iq_new(const char *type, const char *id, const char *to,
                 const char *from)
{
    xd_stanza *iq = xd_stanza_new("iq", XD_NS_CLIENT);

    xd_stanza_set_type(iq, type);
    if (id != NULL)
        xd_stanza_set_id(iq, id);
    else
        set_fresh_id(iq);
    xd_stanza_set_to(iq, to);
    xd_stanza_set_from(iq, from);
    return iq;
}

xd_stanza *
xd_stanza_message_new(const char *type, const char *to, const char *from,
                      const char *body)
{
    xd_stanza *m = xd_stanza_new("message", XD_NS_CLIENT);

    xd_stanza_set_type(m, type);
    set_fresh_id(m);
    xd_stanza_set_to(m, to);
    xd_stanza_set_from(m, from);
    if (body != NULL)
        xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, body);
    return m;
}

xd_stanza *
xd_stanza_presence_new(const char *type, const char *to, const char *from)
{
    xd_stanza *p = xd_stanza_new("presence", XD_NS_CLIENT);

    xd_stanza_set_type(p, type);
    xd_stanza_set_to(p, to);
    xd_stanza_set_from(p, from);
    return p;
}

xd_stanza *
xd_stanza_iq_result(const xd_stanza *in)
{
    const char *type = xd_stanza_type(in);

    if (xd_stanza_kind_of(in) != XD_STANZA_IQ || type == NULL ||
        (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
        return NULL;
    return xd_stanza_reply(in);
}

xd_elem *
xd_stanza_add_child(xd_stanza *st, const char *name, const char *ns)
{
    return xd_elem_add_child(xd_stanza_root(st), name, ns);
}

static const char *const type_names[] = {
    [XD_ERRT_AUTH] = "auth",         [XD_ERRT_CANCEL] = "cancel",
    [XD_ERRT_CONTINUE] = "continue", [XD_ERRT_MODIFY] = "modify",
    [XD_ERRT_WAIT] = "wait",
};

/* RFC 6120 8.3.3: each defined condition with the type it usually has. */
static const struct {
    const char *condition;
    xd_error_type type;
} conditions[] = {
    { "bad-request", XD_ERRT_MODIFY },
    { "conflict", XD_ERRT_CANCEL },
    { "feature-not-implemented", XD_ERRT_CANCEL },
    { "forbidden", XD_ERRT_AUTH },
    { "gone", XD_ERRT_CANCEL },
    { "internal-server-error", XD_ERRT_CANCEL },
    { "item-not-found", XD_ERRT_CANCEL },
    { "jid-malformed", XD_ERRT_MODIFY },
    { "not-acceptable", XD_ERRT_MODIFY },
    { "not-allowed", XD_ERRT_CANCEL },
    { "not-authorized", XD_ERRT_AUTH },
    { "policy-violation", XD_ERRT_MODIFY },
    { "recipient-unavailable", XD_ERRT_WAIT },
    { "redirect", XD_ERRT_MODIFY },
    { "registration-required", XD_ERRT_AUTH },
    { "remote-server-not-found", XD_ERRT_CANCEL },
    { "remote-server-timeout", XD_ERRT_WAIT },
    { "resource-constraint", XD_ERRT_WAIT },
    { "service-unavailable", XD_ERRT_CANCEL },
    { "subscription-required", XD_ERRT_AUTH },
    { "undefined-condition", XD_ERRT_CANCEL },
    { "unexpected-request", XD_ERRT_WAIT },
};

xd_error_type
xd_stanza_error_default_type(const char *condition)
{
    for (size_t i = 0; i < XD_NELEM(conditions); i++)
        if (strcmp(conditions[i].condition, condition) == 0)
            return conditions[i].type;
    return XD_ERRT_CANCEL;
}

xd_stanza *
xd_stanza_error_reply(const xd_stanza *in, xd_error_type type,
                      const char *condition, const char *text)
{
    const xd_elem *root = xd_stanza_root(in);

    if (xd_stanza_is_error(in))
        return NULL;
    xd_stanza *out = xd_stanza_reply(in);
    xd_elem *oroot = xd_stanza_root(out);
    /* RFC 6120 8.3.1: an error carries the id of what it answers, also for
     * a message (whose plain replies get ids of their own). */
    xd_stanza_set_id(out, xd_stanza_id(in));
    xd_stanza_set_type(out, "error");
    for (const xd_elem *c = xd_elem_first(root); c; c = xd_elem_next(c))
        xd_elem_add_copy(oroot, c);
    xd_elem *err = xd_elem_add_child(oroot, "error", XD_NS_CLIENT);
    xd_elem_set_attr(err, "type", type_names[type]);
    xd_elem_add_child(err, condition, XD_NS_STANZA_ERRORS);
    if (text != NULL)
        xd_elem_set_child_text(err, "text", XD_NS_STANZA_ERRORS, text);
    return out;
}

const char *
xd_stanza_error_condition(const xd_stanza *st)
{
    const xd_elem *err =
        xd_elem_child(xd_stanza_root(st), "error", XD_NS_CLIENT);

    for (const xd_elem *c = err ? xd_elem_first(err) : NULL; c;
         c = xd_elem_next(c))
        if (strcmp(xd_elem_ns(c), XD_NS_STANZA_ERRORS) == 0 &&
            strcmp(xd_elem_name(c), "text") != 0)
            return xd_elem_name(c);
    return NULL;
}

xd_stanza *
xd_stanza_error(const xd_stanza *in, const char *condition, const char *text)
{
    return xd_stanza_error_reply(in, xd_stanza_error_default_type(condition),
                                 condition, text);
}
