/*
 * redact.c: stanzas as debug log lines, without their secrets (what counts
 * as a secret is listed in redact.h). The tree is checked first, so a
 * stanza without secrets costs one walk more than plain serialising; one
 * with secrets is copied, and the copy redacted and serialised.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xmppd/redact.h>

#define NS_SASL2      "urn:xmpp:sasl:2"
#define NS_REGISTER   "jabber:iq:register"
#define NS_IQ_AUTH    "jabber:iq:auth"
#define NS_MUC        "http://jabber.org/protocol/muc"
#define NS_MUC_USER   "http://jabber.org/protocol/muc#user"
#define NS_MUC_OWNER  "http://jabber.org/protocol/muc#owner"
#define NS_CONFERENCE "jabber:x:conference"
#define REDACTED      "[redacted]"

/* Elements whose text is a secret. */
static const struct {
    const char *ns, *name;
} secret_text[] = {
    { XD_NS_SASL, "auth" },
    { XD_NS_SASL, "challenge" },
    { XD_NS_SASL, "response" },
    { XD_NS_SASL, "success" },
    { NS_SASL2, "initial-response" },
    { NS_SASL2, "challenge" },
    { NS_SASL2, "response" },
    { NS_SASL2, "additional-data" },
    /* The parser folds jabber:component:accept into jabber:client. */
    { XD_NS_CLIENT, "handshake" },
    { XD_NS_COMPONENT, "handshake" },
    { NS_REGISTER, "password" },
    { NS_IQ_AUTH, "password" },
    { NS_IQ_AUTH, "digest" },
    { NS_MUC, "password" },
    { NS_MUC_USER, "password" },
    { NS_MUC_OWNER, "password" },
};

/* Attributes that are secrets. */
static const struct {
    const char *ns, *name, *attr;
} secret_attr[] = {
    { NS_CONFERENCE, "x", "password" },
};

/* Whether text is worth hiding: "=" is SASL's empty response. */
static int
has_secret(const char *text)
{
    return text[0] != '\0' && strcmp(text, "=") != 0;
}

static int
contains_nocase(const char *s, const char *word)
{
    size_t n = strlen(word);

    for (; *s; s++)
        if (strncasecmp(s, word, n) == 0)
            return 1;
    return 0;
}

/* A data form field whose values are secrets. */
static int
secret_field(const xd_elem *e)
{
    const char *type = xd_elem_attr(e, "type");
    const char *var = xd_elem_attr(e, "var");

    if (!xd_elem_is(e, "field", XD_NS_DATA_FORMS))
        return 0;
    if (type != NULL && strcmp(type, "text-private") == 0)
        return 1;
    if (type != NULL && strcmp(type, "boolean") == 0)
        return 0; /* muc#roomconfig_passwordprotectedroom is no secret */
    return var != NULL &&
           (contains_nocase(var, "password") || contains_nocase(var, "secret"));
}

/* Replaces e's text (only ever called on the copy). */
static void
set_redacted(const xd_elem *e)
{
    xd_elem *w = (xd_elem *)e;

    xd_elem_clear(w);
    xd_elem_add_text(w, REDACTED, strlen(REDACTED));
}

/* The secrets held by e itself (not its descendants, but a field's
 * values); with redact, replaces them. */
static int
visit(const xd_elem *e, int redact)
{
    const char *ns = xd_elem_ns(e), *name = xd_elem_name(e);
    int n = 0;

    for (size_t i = 0; i < XD_NELEM(secret_text); i++) {
        if (strcmp(name, secret_text[i].name) != 0 ||
            strcmp(ns, secret_text[i].ns) != 0)
            continue;
        if (has_secret(xd_elem_text(e))) {
            n++;
            if (redact)
                set_redacted(e);
        }
        break;
    }
    for (size_t i = 0; i < XD_NELEM(secret_attr); i++) {
        if (strcmp(name, secret_attr[i].name) != 0 ||
            strcmp(ns, secret_attr[i].ns) != 0)
            continue;
        const char *v = xd_elem_attr(e, secret_attr[i].attr);
        if (v != NULL && has_secret(v)) {
            n++;
            if (redact)
                xd_elem_set_attr((xd_elem *)e, secret_attr[i].attr, REDACTED);
        }
    }
    if (secret_field(e)) {
        for (xd_elem *v = xd_elem_child(e, "value", XD_NS_DATA_FORMS);
             v != NULL; v = xd_elem_next_match(v, "value", XD_NS_DATA_FORMS))
            if (has_secret(xd_elem_text(v))) {
                n++;
                if (redact)
                    set_redacted(v);
            }
    }
    return n;
}

/* Visits every element of root's tree in document order, without
 * recursion (trees built by code have no depth limit). */
static int
walk(const xd_elem *root, int redact)
{
    const xd_elem *e = root;
    int n = 0;

    while (e != NULL) {
        n += visit(e, redact);
        const xd_elem *next = xd_elem_first(e);
        while (next == NULL && e != root) {
            next = xd_elem_next(e);
            if (next == NULL)
                e = xd_elem_parent(e);
        }
        e = next;
    }
    return n;
}

char *
xd_redact_to_string(const xd_elem *e, const char *stream_ns)
{
    if (walk(e, 0) == 0)
        return xd_elem_to_string(e, stream_ns);
    xd_stanza *copy = xd_stanza_copy(e);
    walk(xd_stanza_root(copy), 1);
    char *s = xd_elem_to_string(xd_stanza_root(copy), stream_ns);
    xd_stanza_unref(copy);
    return s;
}
