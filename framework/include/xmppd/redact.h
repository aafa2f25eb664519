/*
 * redact.h: stanzas as debug log lines, without their secrets.
 *
 * Every process logs the stanzas its streams carry at log_level = debug;
 * those stanzas carry credentials. What is replaced by "[redacted]":
 *   - SASL payloads of every mechanism: <auth/>, <challenge/>, <response/>,
 *     <success/> (RFC 6120), and SASL2's <initial-response/>,
 *     <challenge/>, <response/>, <additional-data/> (XEP-0388);
 *   - the XEP-0114 <handshake/> digest;
 *   - <password/> of jabber:iq:register (XEP-0077), of jabber:iq:auth with
 *     its <digest/> (XEP-0078), and of the muc, muc#user and muc#owner
 *     namespaces (entering, invitations, destruction; XEP-0045);
 *   - the password attribute of a jabber:x:conference invitation
 *     (XEP-0249);
 *   - the values of data form fields of type text-private, or whose var
 *     names a password or a secret (submitted forms usually omit the
 *     type), such as the ad-hoc change-password commands and the room
 *     secret in muc#roomconfig.
 * The empty SASL response "=" and empty elements are left as they are.
 */
#ifndef XMPPD_REDACT_H
#define XMPPD_REDACT_H

#include <xmppd/element.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The XML of e as xd_elem_to_string writes it into a stream of default
 * namespace stream_ns, with the secrets above replaced; e itself is not
 * changed (a stanza with secrets is copied first). malloc()ed: the caller
 * frees it. For log lines only; never blocks. */
char *xd_redact_to_string(const xd_elem *e, const char *stream_ns);

#ifdef __cplusplus
}
#endif
#endif
