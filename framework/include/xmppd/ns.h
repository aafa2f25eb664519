/*
 * ns.h: the XML namespaces libxmppd and its users name.
 *
 * Stanzas are held internally in XD_NS_CLIENT whatever stream they arrived
 * on: the parser maps jabber:server and jabber:component:accept to it, and
 * the serialiser writes it as the default namespace of the stream it is
 * written into. Code therefore always matches against XD_NS_CLIENT.
 */
#ifndef XMPPD_NS_H
#define XMPPD_NS_H

#define XD_NS_CLIENT        "jabber:client"
#define XD_NS_SERVER        "jabber:server"
#define XD_NS_COMPONENT     "jabber:component:accept"
#define XD_NS_STREAMS       "http://etherx.jabber.org/streams"
#define XD_NS_STREAM_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"
#define XD_NS_STANZA_ERRORS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define XD_NS_TLS           "urn:ietf:params:xml:ns:xmpp-tls"
#define XD_NS_SASL          "urn:ietf:params:xml:ns:xmpp-sasl"
#define XD_NS_BIND          "urn:ietf:params:xml:ns:xmpp-bind"
#define XD_NS_SESSION       "urn:ietf:params:xml:ns:xmpp-session"
#define XD_NS_XML           "http://www.w3.org/XML/1998/namespace"
#define XD_NS_DISCO_INFO    "http://jabber.org/protocol/disco#info"
#define XD_NS_DISCO_ITEMS   "http://jabber.org/protocol/disco#items"
#define XD_NS_PING          "urn:xmpp:ping"
#define XD_NS_VERSION       "jabber:iq:version"
#define XD_NS_ROSTER        "jabber:iq:roster"
#define XD_NS_DATA_FORMS    "jabber:x:data"

#endif
