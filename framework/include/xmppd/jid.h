/*
 * jid.h: XMPP addresses (RFC 7622).
 *
 * Parts are prepared with libidn stringprep (Nodeprep, Nameprep,
 * Resourceprep of RFC 6122) as the documented first step towards PRECIS;
 * pure-ASCII input takes a fast path whose result is identical. Each part is
 * at most 1023 bytes after preparation (RFC 7622 3.2-3.4). Domain parts are
 * lower-cased, a trailing dot is removed, and they must pass IDNA2003
 * ToASCII and then be letters, digits and hyphens in labels of at most 63
 * bytes (leading and trailing hyphens allowed; no '_'); IPv6 literals are
 * kept in brackets in canonical (inet_ntop) form. Invalid UTF-8 is refused.
 * An xd_jid is immutable once made.
 */
#ifndef XMPPD_JID_H
#define XMPPD_JID_H

#include <stddef.h>
#include <xmppd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XD_JID_PART_MAX 1023

typedef struct xd_jid xd_jid;

/* Parses and prepares `s`. Returns 0 and stores a JID the caller owns in
 * *out, or XD_EINVAL and leaves *out unchanged. Never blocks. */
int xd_jid_parse(const char *s, xd_jid **out);
/* Builds a JID from parts (local and resource may be NULL), preparing each.
 * 0 and *out owned by the caller, or XD_EINVAL. */
int xd_jid_make(const char *local, const char *domain, const char *resource,
                xd_jid **out);
/* Copy the caller owns. */
xd_jid *xd_jid_dup(const xd_jid *j);
/* The bare JID (local@domain) as a new JID the caller owns. */
xd_jid *xd_jid_bare(const xd_jid *j);
/* Same JID with another resource (NULL: none); 0 or XD_EINVAL. */
int xd_jid_with_resource(const xd_jid *j, const char *resource, xd_jid **out);
void xd_jid_free(xd_jid *j); /* NULL is a no-op */

/* Parts, borrowed, living with j; NULL when absent (domain never NULL). */
const char *xd_jid_local(const xd_jid *j);
const char *xd_jid_domain(const xd_jid *j);
const char *xd_jid_resource(const xd_jid *j);
/* The prepared string forms, borrowed, living with j. */
const char *xd_jid_str(const xd_jid *j);      /* full form as given */
const char *xd_jid_bare_str(const xd_jid *j); /* local@domain or domain */
int xd_jid_is_bare(const xd_jid *j);          /* no resource */

/* Equality of prepared forms: 1 when equal, 0 otherwise. */
int xd_jid_equal(const xd_jid *a, const xd_jid *b);
int xd_jid_bare_equal(const xd_jid *a, const xd_jid *b);
/* Room enough for any bare JID: local, '@', domain and the NUL. */
#define XD_JID_BARE_MAX (2 * XD_JID_PART_MAX + 2)
/* Writes the prepared bare form (local@domain, or domain) of the JID string
 * s, e.g. a stanza's from, to buf (len bytes; XD_JID_BARE_MAX always fit):
 * the key of per-user state in one call, nothing to free. 0; XD_EINVAL
 * when s is NULL or not a JID, XD_ELIMIT when buf is too small (buf is ""
 * for both when len > 0). */
int xd_jid_bare_of(const char *s, char *buf, size_t len);

/* Prepares a single part; the caller owns *out. 0 or XD_EINVAL. */
int xd_jid_prep_local(const char *in, char **out);
int xd_jid_prep_domain(const char *in, char **out);
int xd_jid_prep_resource(const char *in, char **out);

/* XEP-0106 JID escaping of a would-be localpart (e.g. an email address):
 * the caller owns the result, which is not yet prepared (xd_jid_make does
 * that). 0 or XD_EINVAL (empty input, a leading or trailing space, or a
 * result that is not a valid localpart). */
int xd_jid_escape(const char *in, char **out);
/* XEP-0106 unescaping; sequences that are not escapes are kept as they are.
 * The caller owns the result. */
char *xd_jid_unescape(const char *in);

#ifdef __cplusplus
}
#endif
#endif
