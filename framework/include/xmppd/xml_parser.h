/*
 * xml_parser.h: the XMPP stream parser (expat with namespace processing).
 *
 * Fed arbitrary chunks of bytes (a stanza may be split at any byte), it
 * reports the stream header, one xd_stanza per top-level child of the stream,
 * and the end of the stream. It refuses what RFC 6120 section 11 forbids and
 * anything over the configured limits, reporting the stream error condition
 * (RFC 6120 4.9.3) that the stream layer then sends:
 *
 *   restricted-xml        a DTD (so any entity declaration), a comment, a
 *                         processing instruction
 *   not-well-formed       a syntax error, an undefined entity reference
 *   bad-namespace-prefix  an element or attribute prefix that is not bound
 *   unsupported-encoding  an XML declaration naming an encoding other than
 *                         UTF-8 (input is always read as UTF-8)
 *   policy-violation      a stanza over max_stanza_bytes (counted as bytes
 *                         arrive, so a stanza that never ends is refused
 *                         too), depth, attributes or children over a
 *                         limit, a stream header over 16 KiB or with more
 *                         than max_attrs attributes, one unfinished tag
 *                         over 16 KiB, or a tree taking more than 8 times
 *                         max_stanza_bytes (plus 64 KiB) of memory
 *   invalid-namespace     a stream root <stream> not in XD_NS_STREAMS
 *   bad-format            a stream root that is not <stream:stream>
 *
 * Memory is bounded by the limits: a stanza's tree is only built while it is
 * under them, expat never holds more than a few KiB past them, and nothing
 * is kept between stanzas.
 */
#ifndef XMPPD_XML_PARSER_H
#define XMPPD_XML_PARSER_H

#include <stddef.h>
#include <xmppd/element.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xd_xml_limits {
    size_t max_stanza_bytes; /* bytes of input one stanza may span */
    unsigned max_depth;      /* element depth within a stanza (root = 1) */
    unsigned max_attrs;      /* attributes on one element */
    unsigned max_children;   /* child elements of one element */
} xd_xml_limits;

#define XD_XML_MAX_STANZA_BYTES_DEFAULT 262144
#define XD_XML_MAX_DEPTH_DEFAULT        32
#define XD_XML_MAX_ATTRS_DEFAULT        64
#define XD_XML_MAX_CHILDREN_DEFAULT     4096

/* Fills *lim with the defaults above. */
void xd_xml_limits_default(xd_xml_limits *lim);

typedef struct xd_xml_parser xd_xml_parser;

typedef struct xd_xml_callbacks {
    /* The stream header arrived; `header` (the <stream:stream> element with
     * its attributes, no children) is borrowed for the call. */
    void (*stream_open)(void *arg, const xd_elem *header);
    /* One complete top-level element. Takes ownership of st. */
    void (*stanza)(void *arg, xd_stanza *st);
    /* </stream:stream> arrived. */
    void (*stream_close)(void *arg);
    /* Input was refused; `condition` is the RFC 6120 stream error condition,
     * `text` a short explanation for logs. Nothing more is reported after. */
    void (*error)(void *arg, const char *condition, const char *text);
} xd_xml_callbacks;

/* Creates a parser for a stream; lim NULL uses the defaults, and so does a
 * zero field of *lim. cb is copied. The caller owns the parser. */
xd_xml_parser *xd_xml_parser_new(const xd_xml_limits *lim,
                                 const xd_xml_callbacks *cb, void *arg);
/*
 * Parses len bytes. Callbacks run from inside this call; they may call
 * xd_xml_parser_stop() but must not free the parser. Returns 0, or
 * XD_EPROTO once an error has been reported (then and on every later call).
 */
int xd_xml_parser_feed(xd_xml_parser *p, const char *data, size_t len);
/* Stops reporting for the rest of the current feed (e.g. the owner is
 * closing the stream); the next feed resumes. The rest of the buffer is
 * still parsed, silently, so that the parser stays in step with the bytes:
 * nothing in it is reported, not even an error (a later feed then returns
 * XD_EPROTO without a report). */
void xd_xml_parser_stop(xd_xml_parser *p);
/* Forgets all state and expects a new stream header (stream restart after
 * STARTTLS and SASL, RFC 6120 4.3.3). Called from a callback, it takes
 * effect when the current feed returns, and the rest of that feed's buffer
 * is dropped unparsed. */
void xd_xml_parser_reset(xd_xml_parser *p);
/*
 * Frees expat's memory (several KiB) while the stream sits between stanzas
 * with every byte fed so far parsed; the next feed rebuilds it from the
 * stream header first. For idle connections. 1 when released, 0 when it
 * already was or the parser is in the middle of something.
 */
int xd_xml_parser_release(xd_xml_parser *p);
/* NULL is a no-op. */
void xd_xml_parser_free(xd_xml_parser *p);
/* Replaces the parser's limits (0 fields: the defaults), from the next
 * byte fed: a stream lifts its pre-authentication limits this way. */
void xd_xml_parser_set_limits(xd_xml_parser *p, const xd_xml_limits *lim);

/*
 * Parses one standalone element (no stream around it) from a complete
 * buffer, under the same rules and limits (lim NULL: defaults). Stanza-
 * namespace mapping applies as in streams. On success stores a stanza the
 * caller owns in *out and returns 0; otherwise XD_EPROTO (or XD_ELIMIT for a
 * limit) and *out is unchanged.
 */
int xd_xml_parse_element(const char *data, size_t len, const xd_xml_limits *lim,
                         xd_stanza **out);

#ifdef __cplusplus
}
#endif
#endif
