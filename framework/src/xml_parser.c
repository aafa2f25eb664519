/*
 * xml_parser.c: the XMPP stream parser on expat (namespace processing on).
 *
 * Size is enforced on the bytes fed, not on what expat reports: input is
 * handed to expat in slices of at most SLICE bytes, and before each slice
 * the bytes since the current stanza began are checked against the limit.
 * A stanza that never ends (a 10 MB text node, an endless tag) is therefore
 * refused within one slice of the limit, and expat never buffers more than
 * that.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#include <xmppd/xml_parser.h>

#define SLICE   4096
#define NS_SEP  ' '   /* URIs have no spaces; local names have none either */
#define HDR_MAX 16384 /* bytes a stream header may take */

struct xd_xml_parser {
    XML_Parser xp;
    xd_xml_limits lim;
    xd_xml_callbacks cb;
    void *arg;
    int standalone; /* one element, no stream around it */
    unsigned depth; /* open elements, the stream root included */
    int failed;     /* an error was reported */
    int muted;      /* xd_xml_parser_stop: silent until the feed ends */
    int header_seen;
    long long fed;       /* bytes fed since the last reset */
    long long stanza_at; /* byte index where the open stanza began */
    xd_stanza *cur;      /* stanza under construction */
    xd_elem *elem;       /* its innermost open element */
    xd_buf text;         /* character data not yet added to elem */
    xd_stanza *result;   /* standalone mode */
};

static void
fail(xd_xml_parser *p, const char *condition, const char *text)
{
    if (p->failed)
        return;
    p->failed = 1;
    XML_StopParser(p->xp, XML_FALSE);
    if (p->cb.error && !p->muted)
        p->cb.error(p->arg, condition, text);
}

/* Splits "uri local" into a namespace (NULL when none) and a local name;
 * the separator is overwritten, so `name` must be writable. Stanza
 * namespaces are folded into XD_NS_CLIENT. */
static const char *
split_name(char *name, const char **local)
{
    char *sep = strrchr(name, NS_SEP);

    if (sep == NULL) {
        *local = name;
        return NULL;
    }
    *sep = '\0';
    *local = sep + 1;
    if (strcmp(name, XD_NS_SERVER) == 0 || strcmp(name, XD_NS_COMPONENT) == 0)
        return XD_NS_CLIENT;
    return name;
}

static void
flush_text(xd_xml_parser *p)
{
    if (p->text.len > 0 && p->elem != NULL)
        xd_elem_add_text(p->elem, p->text.data, p->text.len);
    xd_buf_reset(&p->text);
}

static void
set_attrs(xd_xml_parser *p, xd_elem *e, const XML_Char **atts)
{
    for (size_t i = 0; atts[i] != NULL; i += 2) {
        char *name = xd_xstrdup(atts[i]);
        const char *local;
        const char *ns = split_name(name, &local);
        xd_elem_set_attr_ns(e, ns, local, atts[i + 1]);
        free(name);
    }
    (void)p;
}

static unsigned
count_attrs(const XML_Char **atts)
{
    unsigned n = 0;

    while (atts[2 * n] != NULL)
        n++;
    return n;
}

/* Depth of an element within its stanza (the stanza's root is 1). */
static unsigned
stanza_depth(const xd_xml_parser *p)
{
    return p->standalone ? p->depth : p->depth - 1;
}

static void XMLCALL
on_start(void *ud, const XML_Char *qname, const XML_Char **atts)
{
    xd_xml_parser *p = ud;
    char *name = xd_xstrdup(qname);
    const char *local;
    const char *ns = split_name(name, &local);

    if (p->failed)
        goto out;
    if (!p->standalone && p->depth == 0) {
        /* The stream root. */
        if (strcmp(local, "stream") != 0 || ns == NULL ||
            strcmp(ns, XD_NS_STREAMS) != 0) {
            fail(p,
                 strcmp(local, "stream") == 0 ? "invalid-namespace"
                                              : "bad-format",
                 "the root is not <stream:stream>");
            goto out;
        }
        if (count_attrs(atts) > p->lim.max_attrs) {
            fail(p, "policy-violation", "too many attributes");
            goto out;
        }
        p->depth = 1;
        p->header_seen = 1;
        xd_stanza *h = xd_stanza_new(local, ns);
        set_attrs(p, xd_stanza_root(h), atts);
        if (p->cb.stream_open && !p->muted)
            p->cb.stream_open(p->arg, xd_stanza_root(h));
        xd_stanza_unref(h);
        goto out;
    }
    p->depth++;
    if (stanza_depth(p) > p->lim.max_depth) {
        fail(p, "policy-violation", "elements nested too deeply");
        goto out;
    }
    if (count_attrs(atts) > p->lim.max_attrs) {
        fail(p, "policy-violation", "too many attributes");
        goto out;
    }
    if (p->cur == NULL) {
        if (p->standalone && p->result != NULL) {
            fail(p, "not-well-formed", "more than one element");
            goto out;
        }
        p->stanza_at = XML_GetCurrentByteIndex(p->xp);
        p->cur = xd_stanza_new(local, ns ? ns : "");
        p->elem = xd_stanza_root(p->cur);
        xd_buf_reset(&p->text);
    } else {
        if (xd_elem_child_count(p->elem) >= p->lim.max_children) {
            fail(p, "policy-violation", "too many child elements");
            goto out;
        }
        flush_text(p);
        p->elem = xd_elem_add_child(p->elem, local, ns ? ns : "");
    }
    set_attrs(p, p->elem, atts);
out:
    free(name);
}

static void XMLCALL
on_end(void *ud, const XML_Char *qname)
{
    xd_xml_parser *p = ud;

    (void)qname;
    if (p->failed)
        return;
    if (!p->standalone && p->depth == 1) {
        p->depth = 0;
        if (p->cb.stream_close && !p->muted)
            p->cb.stream_close(p->arg);
        return;
    }
    p->depth--;
    if (p->cur == NULL)
        return;
    flush_text(p);
    xd_elem *parent = xd_elem_parent(p->elem);
    if (parent != NULL) {
        p->elem = parent;
        return;
    }
    /* The stanza is complete. */
    long long end =
        XML_GetCurrentByteIndex(p->xp) + XML_GetCurrentByteCount(p->xp);
    xd_stanza *st = p->cur;
    p->cur = NULL;
    p->elem = NULL;
    if (end - p->stanza_at > (long long)p->lim.max_stanza_bytes) {
        xd_stanza_unref(st);
        fail(p, "policy-violation", "stanza too large");
        return;
    }
    if (p->standalone)
        p->result = st;
    else if (p->cb.stanza && !p->muted)
        p->cb.stanza(p->arg, st);
    else
        xd_stanza_unref(st);
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
    xd_xml_parser *p = ud;

    /* Text between stanzas (whitespace keep-alives) is not kept. */
    if (!p->failed && p->cur != NULL)
        xd_buf_append(&p->text, s, (size_t)len);
}

static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
           const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    fail(ud, "restricted-xml", "DTD");
}

static void XMLCALL
on_entity_decl(void *ud, const XML_Char *name, int is_param,
               const XML_Char *value, int value_len, const XML_Char *base,
               const XML_Char *sysid, const XML_Char *pubid,
               const XML_Char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)value_len;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    fail(ud, "restricted-xml", "entity declaration");
}

static void XMLCALL
on_comment(void *ud, const XML_Char *data)
{
    (void)data;
    fail(ud, "restricted-xml", "comment");
}

static void XMLCALL
on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    (void)target;
    (void)data;
    fail(ud, "restricted-xml", "processing instruction");
}

static void XMLCALL
on_skipped_entity(void *ud, const XML_Char *name, int is_param)
{
    (void)name;
    (void)is_param;
    fail(ud, "restricted-xml", "entity reference");
}

static void XMLCALL
on_xml_decl(void *ud, const XML_Char *version, const XML_Char *encoding,
            int standalone)
{
    (void)version;
    (void)standalone;
    if (encoding != NULL && strcasecmp(encoding, "UTF-8") != 0)
        fail(ud, "unsupported-encoding", encoding);
}

static void
setup(xd_xml_parser *p)
{
    unsigned long salt;

    XML_SetUserData(p->xp, p);
    XML_SetElementHandler(p->xp, on_start, on_end);
    XML_SetCharacterDataHandler(p->xp, on_text);
    XML_SetStartDoctypeDeclHandler(p->xp, on_doctype);
    XML_SetEntityDeclHandler(p->xp, on_entity_decl);
    XML_SetCommentHandler(p->xp, on_comment);
    XML_SetProcessingInstructionHandler(p->xp, on_pi);
    XML_SetSkippedEntityHandler(p->xp, on_skipped_entity);
    XML_SetXmlDeclHandler(p->xp, on_xml_decl);
    XML_SetParamEntityParsing(p->xp, XML_PARAM_ENTITY_PARSING_NEVER);
    if (xd_random_bytes(&salt, sizeof(salt)) == 0)
        XML_SetHashSalt(p->xp, salt);
}

void
xd_xml_limits_default(xd_xml_limits *lim)
{
    lim->max_stanza_bytes = XD_XML_MAX_STANZA_BYTES_DEFAULT;
    lim->max_depth = XD_XML_MAX_DEPTH_DEFAULT;
    lim->max_attrs = XD_XML_MAX_ATTRS_DEFAULT;
    lim->max_children = XD_XML_MAX_CHILDREN_DEFAULT;
}

static xd_xml_parser *
parser_new(const xd_xml_limits *lim, const xd_xml_callbacks *cb, void *arg,
           int standalone)
{
    xd_xml_parser *p = xd_xcalloc(1, sizeof(*p));

    if (lim != NULL && lim->max_stanza_bytes != 0)
        p->lim = *lim;
    else
        xd_xml_limits_default(&p->lim);
    if (cb != NULL)
        p->cb = *cb;
    p->arg = arg;
    p->standalone = standalone;
    p->xp = XML_ParserCreateNS("UTF-8", NS_SEP);
    if (p->xp == NULL)
        xd_xmalloc((size_t)-1); /* out of memory is fatal */
    setup(p);
    return p;
}

xd_xml_parser *
xd_xml_parser_new(const xd_xml_limits *lim, const xd_xml_callbacks *cb,
                  void *arg)
{
    return parser_new(lim, cb, arg, 0);
}

static void
drop_partial(xd_xml_parser *p)
{
    xd_stanza_unref(p->cur);
    p->cur = NULL;
    p->elem = NULL;
    xd_buf_reset(&p->text);
}

/* Refuses input that is over a limit before expat sees it. */
static int
over_limit(xd_xml_parser *p)
{
    if (p->cur != NULL &&
        p->fed - p->stanza_at > (long long)p->lim.max_stanza_bytes) {
        fail(p, "policy-violation", "stanza too large");
        return 1;
    }
    if (!p->standalone && !p->header_seen && p->fed > HDR_MAX) {
        fail(p, "policy-violation", "stream header too large");
        return 1;
    }
    return 0;
}

static int
feed(xd_xml_parser *p, const char *data, size_t len, int final)
{
    if (p->failed)
        return XD_EPROTO;
    do {
        size_t n = len < SLICE ? len : SLICE;
        if (over_limit(p))
            break;
        enum XML_Status s = XML_Parse(p->xp, data, (int)n, final && n == len);
        p->fed += (long long)n;
        if (s == XML_STATUS_ERROR && !p->failed) {
            enum XML_Error e = XML_GetErrorCode(p->xp);
            fail(p,
                 e == XML_ERROR_UNKNOWN_ENCODING ||
                         e == XML_ERROR_INCORRECT_ENCODING
                     ? "unsupported-encoding"
                     : "not-well-formed",
                 XML_ErrorString(e));
        }
        if (p->failed)
            break;
        data += n;
        len -= n;
    } while (len > 0);
    if (p->failed) {
        drop_partial(p);
        return XD_EPROTO;
    }
    if (!p->failed && over_limit(p)) {
        drop_partial(p);
        return XD_EPROTO;
    }
    return 0;
}

int
xd_xml_parser_feed(xd_xml_parser *p, const char *data, size_t len)
{
    int rc = feed(p, data, len, 0);

    p->muted = 0;
    return rc;
}

void
xd_xml_parser_stop(xd_xml_parser *p)
{
    p->muted = 1;
}

void
xd_xml_parser_reset(xd_xml_parser *p)
{
    drop_partial(p);
    XML_ParserReset(p->xp, "UTF-8");
    setup(p);
    p->depth = 0;
    p->failed = 0;
    p->muted = 0;
    p->header_seen = 0;
    p->fed = 0;
    p->stanza_at = 0;
}

void
xd_xml_parser_free(xd_xml_parser *p)
{
    if (p == NULL)
        return;
    drop_partial(p);
    xd_stanza_unref(p->result);
    xd_buf_free(&p->text);
    XML_ParserFree(p->xp);
    free(p);
}

int
xd_xml_parse_element(const char *data, size_t len, const xd_xml_limits *lim,
                     xd_stanza **out)
{
    xd_xml_parser *p = parser_new(lim, NULL, NULL, 1);
    int rc = feed(p, data, len, 1);

    if (rc == 0 && p->result == NULL)
        rc = XD_EPROTO; /* no element, or an unfinished one */
    if (rc == 0) {
        *out = p->result;
        p->result = NULL;
    } else if (len > p->lim.max_stanza_bytes) {
        rc = XD_ELIMIT;
    }
    xd_xml_parser_free(p);
    return rc;
}
