/*
 * stanza.h: helpers for the three XMPP stanzas (RFC 6120 section 8) on top of
 * element.h: kind, addressing, replies and stanza errors.
 */
#ifndef XMPPD_STANZA_H
#define XMPPD_STANZA_H

#include <xmppd/element.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum xd_stanza_kind {
    XD_STANZA_OTHER = 0, /* not a stanza (e.g. a nonza like <r/>, <sm/>) */
    XD_STANZA_MESSAGE,
    XD_STANZA_PRESENCE,
    XD_STANZA_IQ,
} xd_stanza_kind;

/* Kind from the root's name and namespace (XD_NS_CLIENT). */
xd_stanza_kind xd_stanza_kind_of(const xd_stanza *st);

/* Root attribute shortcuts; NULL when absent. */
const char *xd_stanza_to(const xd_stanza *st);
const char *xd_stanza_from(const xd_stanza *st);
const char *xd_stanza_id(const xd_stanza *st);
const char *xd_stanza_type(const xd_stanza *st);
void xd_stanza_set_to(xd_stanza *st, const char *to);     /* NULL removes */
void xd_stanza_set_from(xd_stanza *st, const char *from); /* NULL removes */
void xd_stanza_set_id(xd_stanza *st, const char *id);     /* NULL removes */
void xd_stanza_set_type(xd_stanza *st, const char *type); /* NULL removes */
/* True when type="error". */
int xd_stanza_is_error(const xd_stanza *st);

/* Text of a direct child of the root (e.g. "body" in XD_NS_CLIENT). */
const char *xd_stanza_child_text(const xd_stanza *st, const char *name,
                                 const char *ns);
/* Sets the text of a direct child of the root, adding it if absent. */
void xd_stanza_set_child_text(xd_stanza *st, const char *name, const char *ns,
                              const char *text);

/*
 * A new stanza of the same element name with to and from swapped and no
 * children. An iq reply keeps the id and has type "result" (see also
 * xd_stanza_iq_result); a message reply gets a fresh random id (a chat
 * answer is a message of its own: one reusing the user's id would be taken
 * for the user's by clients) and keeps the type; a presence reply keeps id
 * and type. The caller owns it.
 */
xd_stanza *xd_stanza_reply(const xd_stanza *in);

/* The answer to a message in one call: xd_stanza_reply(in) (a fresh id, the
 * type kept) with <body>body</body> (body NULL: none). NULL, and nothing
 * made, when `in` is not a message or is an error: errors are never
 * answered. The caller owns it. */
xd_stanza *xd_stanza_message_reply(const xd_stanza *in, const char *body);

/* A new iq of `type` ("get"/"set"), with `id` (NULL: a random one), to and
 * from (each may be NULL). The caller owns it. */
xd_stanza *xd_stanza_iq_new(const char *type, const char *id, const char *to,
                            const char *from);
/*
 * A new message of `type` ("chat", "groupchat", "headline"; NULL: none, which
 * means "normal") with a fresh random id, to and from (each may be NULL; a
 * component fills in its domain for a missing from) and, when body is not
 * NULL, <body>body</body>. The caller owns it.
 */
xd_stanza *xd_stanza_message_new(const char *type, const char *to,
                                 const char *from, const char *body);
/* A new presence of `type` (NULL: available; "unavailable", "subscribed",
 * ...), to and from (each may be NULL), without id. Add <show/> and <status/>
 * with xd_stanza_set_child_text. The caller owns it. */
xd_stanza *xd_stanza_presence_new(const char *type, const char *to,
                                  const char *from);
/* The result to an iq request: to/from swapped, id kept, type "result", no
 * children. NULL, and nothing made, when `in` is not an iq of type get or
 * set: results and errors are never answered. The caller owns it. */
xd_stanza *xd_stanza_iq_result(const xd_stanza *in);
/* Appends <name xmlns=ns/> (ns NULL: the root's) to the root; returns it
 * (in st's arena). */
xd_elem *xd_stanza_add_child(xd_stanza *st, const char *name, const char *ns);

/* Stanza error types (RFC 6120 8.3.2). */
typedef enum xd_error_type {
    XD_ERRT_AUTH,
    XD_ERRT_CANCEL,
    XD_ERRT_CONTINUE,
    XD_ERRT_MODIFY,
    XD_ERRT_WAIT,
} xd_error_type;

/*
 * A new error reply to `in` (RFC 6120 8.3): to/from swapped, id kept (also
 * for a message),
 * type="error", the original children copied (a server may include them),
 * and <error type=…><condition xmlns=XD_NS_STANZA_ERRORS/><text>…</text>
 * </error>. `condition` is a defined condition name such as
 * "service-unavailable"; text may be NULL. Returns NULL, and makes nothing,
 * when `in` is itself an error: errors are never answered with errors.
 * The caller owns the result.
 */
xd_stanza *xd_stanza_error_reply(const xd_stanza *in, xd_error_type type,
                                 const char *condition, const char *text);
/* xd_stanza_error_reply with the type the condition usually has (RFC 6120
 * 8.3.3): xd_stanza_error(iq, "item-not-found", NULL). NULL when `in` is an
 * error. The caller owns the result. */
xd_stanza *xd_stanza_error(const xd_stanza *in, const char *condition,
                           const char *text);
/* The error type a condition defaults to in RFC 6120 8.3.3. */
xd_error_type xd_stanza_error_default_type(const char *condition);
/* The defined condition of an error stanza, or NULL. */
const char *xd_stanza_error_condition(const xd_stanza *st);

#ifdef __cplusplus
}
#endif
#endif
