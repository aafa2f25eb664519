/*
 * caps.h: XEP-0115 entity capabilities: the verification string of a
 * disco#info result and its hash (the 'ver' of a <c/> in presence), to
 * advertise one's own and to check someone else's before caching it.
 *
 * The input is a disco#info <query/> element (identities, features and
 * XEP-0128 extended forms). The string follows XEP-0115 section 5.1;
 * a query that section 5.4 calls ill-formed (two identical identities,
 * a feature twice, two forms of the same FORM_TYPE, a FORM_TYPE with more
 * than one value) is refused. Forms without a hidden FORM_TYPE are
 * ignored, as 5.4 says. Nothing here blocks or allocates beyond the result.
 */
#ifndef XMPPD_CAPS_H
#define XMPPD_CAPS_H

#include <xmppd/buf.h>
#include <xmppd/common.h>
#include <xmppd/element.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XD_NS_CAPS "http://jabber.org/protocol/caps"

/* The hash functions of a <c/>'s 'hash' attribute this module computes. */
typedef enum xd_caps_hash {
    XD_CAPS_SHA1,   /* "sha-1": what every client understands */
    XD_CAPS_SHA256, /* "sha-256" */
} xd_caps_hash;

/* The IANA name of h ("sha-1", "sha-256"); static. */
const char *xd_caps_hash_name(xd_caps_hash h);
/* Parses a 'hash' attribute: 0 and *out, or XD_EINVAL when unknown. */
int xd_caps_hash_parse(const char *name, xd_caps_hash *out);

/*
 * Writes the verification string S of `query` (a disco#info <query/>,
 * borrowed) into out, replacing what was there. 0, or XD_EINVAL when the
 * query is ill-formed (out then holds nothing useful).
 */
int xd_caps_string(const xd_elem *query, xd_buf *out);
/*
 * The 'ver' of `query` under h: base64 of the hash of its verification
 * string. 0 and *ver (the caller frees it), or XD_EINVAL (ill-formed;
 * *ver untouched).
 */
int xd_caps_ver(const xd_elem *query, xd_caps_hash h, char **ver);
/*
 * Checks a disco#info answer against the <c/> that announced it: `hash` and
 * `ver` are that element's attributes. 0 when they match; XD_EPROTO when
 * they do not (do not cache it); XD_EINVAL when the query is ill-formed or
 * the hash unknown.
 */
int xd_caps_verify(const xd_elem *query, const char *hash, const char *ver);
/*
 * Appends <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node=
 * ver=/> to `presence` (its root element) and returns it, in the
 * presence's arena.
 */
xd_elem *xd_caps_add(xd_elem *presence, const char *node, const char *ver);

#ifdef __cplusplus
}
#endif
#endif
