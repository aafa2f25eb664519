/*
 * xml_parser.c: the XMPP stream parser on expat, namespace processing on.
 *
 * Sizes are enforced on the bytes fed, not only on what expat reports,
 * because expat reports nothing while a token is unfinished. Input goes to
 * expat in slices of at most SLICE bytes. `mark` is the byte offset where
 * the current top-level item (the stream header, a stanza, or whitespace
 * between stanzas) began; before each slice the bytes fed since `mark` are
 * checked against the limit, and so is the unfinished token expat holds
 * after each slice. A stanza that never ends (a 10 MB text node, an endless
 * attribute value, a never-closed comment) is therefore refused within a
 * slice of its limit, and expat never buffers more than that.
 *
 * The tree of the stanza being read is built directly in its own arena as
 * expat reports it: names and namespaces are copied (well-known namespaces
 * are shared), text goes straight into its text node, and nothing is kept
 * between stanzas, so a long-lived stream holds no memory but expat's.
 *
 * expat itself keeps every distinct element, attribute and prefix name it
 * has seen until it is freed, so a peer sending ever new names would make
 * a long-lived stream grow without end. Its allocations are therefore
 * counted, and once they pass RECYCLE_MEM the expat parser is replaced at
 * the end of the next stanza by a fresh one that is first fed a copy of
 * the stream header (the bytes as they came), which puts it exactly where
 * the old one was: inside the stream root, with the same namespaces bound.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#include <xmppd/xml_parser.h>

#include "element_internal.h"

/* Bytes handed to expat at once: the most a limit can be overshot by. */
#define SLICE 8192
/* Separator of namespace URI and local name in expat's names: a byte that
 * XML 1.0 allows nowhere, so neither part can contain it. */
#define NS_SEP '\x01'
static const XML_Char ns_sep[] = { NS_SEP, '\0' };
/* Bytes a stream header (with its XML declaration) may take. */
#define HEADER_MAX 16384
/* Bytes one unfinished token may take. expat rescans an unfinished token
 * from its start each time more of it arrives, so a tag trickled in a byte
 * at a time costs time quadratic in its length: this keeps that small. */
#define TOKEN_MAX 16384
/* A stanza's tree may take this many times its byte limit (plus the slack)
 * before it is refused: tiny elements cost more as nodes than as text. */
#define MEM_FACTOR 8
#define MEM_SLACK  65536
/* expat's own memory beyond which it is replaced at the next stanza end
 * (settable at build time so that fuzzing can recycle after every one). */
#ifdef XD_XML_RECYCLE_MEM
#define RECYCLE_MEM XD_XML_RECYCLE_MEM
#else
#define RECYCLE_MEM (256 * 1024)
#endif

typedef unsigned long long offset;

/* Bytes of the zone each parser's expat allocates from first. Under
 * AddressSanitizer every block is its own allocation, so that it still
 * sees an overrun of one. */
#if defined(__SANITIZE_ADDRESS__)
#define XD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XD_ASAN 1
#endif
#endif
#ifdef XD_ASAN
#define ZONE 0
#else
#define ZONE 16384
#endif

/* expat's memory for one parser: counted, and served first from one zone
 * that goes back to the C library in one piece, so that a released parser
 * (an idle connection) really returns its pages instead of leaving holes
 * between other connections' memory. */
struct xmem {
    size_t bytes;     /* held by expat, zone and heap alike */
    char *zone;       /* ZONE bytes, handed out in order; NULL until used */
    size_t zone_used; /* bytes handed out */
    size_t zone_live; /* zone blocks not freed yet */
};

struct xd_xml_parser {
    XML_Parser xp;
    struct xmem xp_mem; /* expat's memory (see expat_malloc) */
    offset xp_base;     /* our offset of expat's byte 0 */
    char *header;       /* the stream header's bytes, replayed on recycling */
    size_t header_len;
    int replaying;     /* feeding `header` to a fresh expat */
    int recycle;       /* replace expat when the current XML_Parse returns */
    offset recycle_at; /* ... and go on from this offset */
    xd_xml_limits lim;
    xd_xml_callbacks cb;
    void *arg;
    size_t mem_max;    /* arena bytes a stanza may take */
    unsigned depth;    /* open elements, the stream root included */
    int standalone;    /* one element, no stream around it */
    int failed;        /* an error was reported (or muted) */
    int over_limit;    /* ... and it was a limit */
    int muted;         /* xd_xml_parser_stop: silent until the feed ends */
    int in_feed;       /* inside XML_Parse: callbacks may be running */
    int reset_pending; /* xd_xml_parser_reset was called from a callback */
    int header_seen;   /* the stream header arrived */
    offset fed;        /* bytes given to expat since the last reset */
    offset mark;       /* where the current top-level item began */
    xd_stanza *cur;    /* stanza being read */
    xd_elem *elem;     /* its innermost open element */
    xd_stanza *result; /* standalone mode: the element */
};

/*
 * expat's allocator: each block starts with its size, the parser memory it
 * is charged to (credited back when freed) and whether it lies in that
 * parser's zone. `charge` names the parser on whose behalf expat is
 * running. Zone blocks are never freed one by one: the zone goes when the
 * last of them has been and the parser lets it go (zone_release).
 */
union block {
    struct {
        size_t size;
        struct xmem *mem;
        int in_zone;
    } h;
    max_align_t align;
};

static _Thread_local struct xmem *charge;

#define ALIGN_UP(n)                                                            \
    (((n) + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1))

static void *
expat_malloc(size_t n)
{
    union block *b = NULL;

    if (n > SIZE_MAX / 2)
        return NULL;
    size_t need = ALIGN_UP(sizeof(*b) + n);
    if (charge != NULL && need <= ZONE - charge->zone_used) {
        if (charge->zone == NULL)
            charge->zone = malloc(ZONE);
        if (charge->zone != NULL) {
            b = (union block *)(charge->zone + charge->zone_used);
            charge->zone_used += need;
            charge->zone_live++;
            b->h.in_zone = 1;
        }
    }
    if (b == NULL) {
        if ((b = malloc(sizeof(*b) + n)) == NULL)
            return NULL;
        b->h.in_zone = 0;
    }
    b->h.size = n;
    b->h.mem = charge;
    if (charge != NULL)
        charge->bytes += n;
    return b + 1;
}

static void
expat_free(void *ptr)
{
    if (ptr == NULL)
        return;
    union block *b = (union block *)ptr - 1;
    if (b->h.mem != NULL)
        b->h.mem->bytes -= b->h.size;
    if (b->h.in_zone)
        b->h.mem->zone_live--;
    else
        free(b);
}

static void *
expat_realloc(void *ptr, size_t n)
{
    if (ptr == NULL)
        return expat_malloc(n);
    union block *b = (union block *)ptr - 1;
    if (!b->h.in_zone) {
        if (n > SIZE_MAX / 2)
            return NULL;
        size_t old = b->h.size;
        if ((b = realloc(b, sizeof(*b) + n)) == NULL)
            return NULL;
        b->h.size = n;
        if (b->h.mem != NULL)
            b->h.mem->bytes = b->h.mem->bytes - old + n;
        return b + 1;
    }
    /* A zone block moves (to the zone's end or the heap), charged to the
     * same parser. */
    struct xmem *saved = charge;
    charge = b->h.mem;
    void *moved = expat_malloc(n);
    charge = saved;
    if (moved == NULL)
        return NULL;
    memcpy(moved, ptr, b->h.size < n ? b->h.size : n);
    expat_free(ptr);
    return moved;
}

/* After expat has freed everything: the zone is reused (keep) or given
 * back. */
static void
zone_release(struct xmem *m, int keep)
{
    if (m->zone_live != 0)
        return; /* expat still holds some: never the case after a free */
    m->zone_used = 0;
    if (!keep) {
        free(m->zone);
        m->zone = NULL;
    }
}

static const XML_Memory_Handling_Suite expat_memory = {
    expat_malloc,
    expat_realloc,
    expat_free,
};

static void
fail(xd_xml_parser *p, const char *condition, const char *text, int limit)
{
    if (p->failed)
        return;
    p->failed = 1;
    p->over_limit = limit;
    /* Only valid while expat is parsing; between slices the loop in feed()
     * sees `failed` and stops by itself. */
    if (p->in_feed)
        XML_StopParser(p->xp, XML_FALSE);
    if (p->cb.error != NULL && !p->muted)
        p->cb.error(p->arg, condition, text);
}

/* Offset just past the event being reported. */
static offset
event_end(const xd_xml_parser *p)
{
    return p->xp_base + (offset)XML_GetCurrentByteIndex(p->xp) +
           (offset)XML_GetCurrentByteCount(p->xp);
}

/* Bytes the current top-level item may span. */
static offset
item_limit(const xd_xml_parser *p)
{
    if (p->standalone || p->header_seen)
        return p->lim.max_stanza_bytes;
    return HEADER_MAX;
}

/* Refuses the current item if it reaches past `end`'s limit. */
static int
too_long(xd_xml_parser *p, offset end)
{
    if (end - p->mark <= item_limit(p))
        return 0;
    fail(p, "policy-violation",
         p->header_seen || p->standalone ? "stanza too large"
                                         : "stream header too large",
         1);
    return 1;
}

/*
 * Splits an expat name ("uri\1local", or "local") into its parts; the
 * namespace is "" (length 0) when there is none.
 */
static const char *
split(const XML_Char *qname, const char **ns, size_t *nslen)
{
    const char *sep = strchr(qname, NS_SEP);

    if (sep == NULL) {
        *ns = "";
        *nslen = 0;
        return qname;
    }
    *ns = qname;
    *nslen = (size_t)(sep - qname);
    return sep + 1;
}

static int
ns_is(const char *ns, size_t len, const char *lit, size_t litlen)
{
    return len == litlen && memcmp(ns, lit, len) == 0;
}

/* An element's namespace held by st; the other stanza namespaces become
 * XD_NS_CLIENT (see ns.h). */
static const char *
element_ns(xd_stanza *st, const char *ns, size_t len, const char *near)
{
    if (ns_is(ns, len, XD_NS_SERVER, sizeof(XD_NS_SERVER) - 1) ||
        ns_is(ns, len, XD_NS_COMPONENT, sizeof(XD_NS_COMPONENT) - 1))
        return XD_NS_CLIENT;
    return xd_arena_ns(st, ns, len, near);
}

static void
add_attrs(xd_elem *e, const XML_Char **atts)
{
    xd_stanza *st = xd_elem_stanza(e);
    struct xd_attr *tail = NULL;

    for (size_t i = 0; atts[i] != NULL; i += 2) {
        const char *ns;
        size_t nslen;
        const char *local = split(atts[i], &ns, &nslen);
        xd_elem_push_attr(
            e, &tail, nslen ? xd_arena_ns(st, ns, nslen, NULL) : "",
            xd_arena_strdup(st, local), xd_arena_strdup(st, atts[i + 1]));
    }
}

/* The element being started has more attributes than the limit: fails. */
static int
too_many_attrs(xd_xml_parser *p)
{
    if ((unsigned)XML_GetSpecifiedAttributeCount(p->xp) / 2 <= p->lim.max_attrs)
        return 0;
    fail(p, "policy-violation", "too many attributes", 1);
    return 1;
}

static void
stream_header(xd_xml_parser *p, const XML_Char *qname, const XML_Char **atts)
{
    const char *ns;
    size_t nslen;
    const char *local = split(qname, &ns, &nslen);

    if (strcmp(local, "stream") != 0) {
        fail(p, "bad-format", "the root is not <stream:stream>", 0);
        return;
    }
    if (!ns_is(ns, nslen, XD_NS_STREAMS, sizeof(XD_NS_STREAMS) - 1)) {
        fail(p, "invalid-namespace", "the stream is not in " XD_NS_STREAMS, 0);
        return;
    }
    if (too_many_attrs(p))
        return;
    if (too_long(p, event_end(p)))
        return;
    p->depth = 1;
    p->header_seen = 1;
    p->mark = event_end(p);
    /* Keep the header's bytes for recycling (XML_GetInputContext needs
     * expat built with XML_CONTEXT_BYTES, as it is by default; without it
     * there is no recycling). */
    int off = 0, size = 0, count = XML_GetCurrentByteCount(p->xp);
    const char *ctx = XML_GetInputContext(p->xp, &off, &size);
    if (ctx != NULL && off >= 0 && count > 0 && off + count <= size) {
        p->header = xd_xstrndup(ctx + off, (size_t)count);
        p->header_len = (size_t)count;
    }
    xd_stanza *h = xd_arena_new();
    h->root = xd_elem_alloc(h, "stream", XD_NS_STREAMS);
    add_attrs(h->root, atts);
    if (p->cb.stream_open != NULL && !p->muted)
        p->cb.stream_open(p->arg, h->root);
    xd_stanza_unref(h);
}

static void XMLCALL
on_start(void *ud, const XML_Char *qname, const XML_Char **atts)
{
    xd_xml_parser *p = ud;

    if (p->failed)
        return;
    if (!p->standalone && p->depth == 0) {
        if (p->replaying)
            p->depth = 1;
        else
            stream_header(p, qname, atts);
        return;
    }
    p->depth++;
    unsigned depth = p->standalone ? p->depth : p->depth - 1;
    if (depth > p->lim.max_depth) {
        fail(p, "policy-violation", "elements nested too deeply", 1);
        return;
    }
    if (too_many_attrs(p))
        return;
    if (too_long(p, event_end(p)))
        return;

    const char *ns;
    size_t nslen;
    const char *local = split(qname, &ns, &nslen);
    xd_elem *e;
    if (p->cur == NULL) {
        xd_stanza *st = xd_arena_new();
        e = xd_elem_alloc(st, xd_arena_strdup(st, local),
                          element_ns(st, ns, nslen, NULL));
        st->root = e;
        p->cur = st;
    } else {
        xd_stanza *st = p->cur;
        if (p->elem->nchildren >= p->lim.max_children) {
            fail(p, "policy-violation", "too many child elements", 1);
            return;
        }
        if (st->mem > p->mem_max) {
            fail(p, "policy-violation", "stanza too large", 1);
            return;
        }
        e = xd_elem_alloc(st, xd_arena_strdup(st, local),
                          element_ns(st, ns, nslen, p->elem->ns));
        xd_elem_link(p->elem, e);
    }
    p->elem = e;
    add_attrs(e, atts);
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
        p->mark = event_end(p);
        if (p->cb.stream_close != NULL && !p->muted)
            p->cb.stream_close(p->arg);
        return;
    }
    p->depth--;
    if (p->elem->parent != NULL) {
        p->elem = p->elem->parent;
        return;
    }
    /* The stanza is complete. */
    xd_stanza *st = p->cur;
    p->cur = NULL;
    p->elem = NULL;
    if (too_long(p, event_end(p))) {
        xd_stanza_unref(st);
        return;
    }
    p->mark = event_end(p);
    if (p->standalone)
        p->result = st;
    else if (p->cb.stanza != NULL && !p->muted)
        p->cb.stanza(p->arg, st);
    else
        xd_stanza_unref(st);
    if (p->xp_mem.bytes > RECYCLE_MEM && p->header != NULL &&
        !p->reset_pending && !p->failed) {
        /* Suspend here; feed() replaces expat and goes on from the bytes
         * after this stanza. */
        p->recycle = 1;
        p->recycle_at = p->mark;
        XML_StopParser(p->xp, XML_TRUE);
    }
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
    xd_xml_parser *p = ud;

    if (p->failed)
        return;
    if (p->cur == NULL) {
        /* Whitespace between stanzas (keepalives): not part of any. */
        p->mark = event_end(p);
        return;
    }
    if (too_long(p, event_end(p)))
        return;
    if (p->cur->mem > p->mem_max) {
        fail(p, "policy-violation", "stanza too large", 1);
        return;
    }
    xd_elem_add_text(p->elem, s, (size_t)len);
}

static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
           const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    fail(ud, "restricted-xml", "document type declaration", 0);
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
    fail(ud, "restricted-xml", "entity declaration", 0);
}

static void XMLCALL
on_comment(void *ud, const XML_Char *data)
{
    (void)data;
    fail(ud, "restricted-xml", "comment", 0);
}

static void XMLCALL
on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    (void)target;
    (void)data;
    fail(ud, "restricted-xml", "processing instruction", 0);
}

static void XMLCALL
on_skipped_entity(void *ud, const XML_Char *name, int is_param)
{
    (void)name;
    (void)is_param;
    fail(ud, "not-well-formed", "undefined entity", 0);
}

static void XMLCALL
on_xml_decl(void *ud, const XML_Char *version, const XML_Char *encoding,
            int standalone)
{
    (void)version;
    (void)standalone;
    /* The parser reads UTF-8 whatever is declared (RFC 6120 11.6). */
    if (encoding != NULL && strcasecmp(encoding, "UTF-8") != 0)
        fail(ud, "unsupported-encoding", "encoding other than UTF-8", 0);
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
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 6)
    /* Deferral would hold back a complete stanza until more bytes came;
     * TOKEN_MAX bounds the rescanning it exists to avoid. */
    XML_SetReparseDeferralEnabled(p->xp, XML_FALSE);
#endif
    /* Against hash flooding with crafted names. */
    if (xd_random_bytes(&salt, sizeof(salt)) == 0)
        XML_SetHashSalt(p->xp, salt);
}

/* Replaces p's expat parser (if any) by a new one, set up. */
static void
expat_new(xd_xml_parser *p)
{
    struct xmem *saved = charge;

    charge = &p->xp_mem;
    if (p->xp != NULL) {
        XML_ParserFree(p->xp);
        zone_release(&p->xp_mem, 1);
    }
    p->xp = XML_ParserCreate_MM("UTF-8", &expat_memory, ns_sep);
    charge = saved;
    if (p->xp == NULL)
        xd_xmalloc(SIZE_MAX); /* out of memory is fatal */
    p->xp_base = 0;
    setup(p);
}

/* expat parses len bytes, its allocations charged to p. */
static enum XML_Status
expat_parse(xd_xml_parser *p, const char *data, size_t len, int final)
{
    struct xmem *saved = charge;

    charge = &p->xp_mem;
    p->in_feed = 1;
    enum XML_Status s = XML_Parse(p->xp, data, (int)len, final);
    p->in_feed = 0;
    charge = saved;
    return s;
}

/*
 * Replaces expat by a fresh parser that is where the old one stopped, at
 * offset p->recycle_at between two stanzas: it reads the stream header
 * again, silently, and its byte 0 is placed so that offsets go on.
 */
static void
recycle(xd_xml_parser *p)
{
    expat_new(p);
    p->depth = 0;
    p->replaying = 1;
    enum XML_Status s = expat_parse(p, p->header, p->header_len, 0);
    p->replaying = 0;
    p->recycle = 0;
    p->xp_base = p->recycle_at - p->header_len;
    if (s != XML_STATUS_OK || p->depth != 1)
        fail(p, "internal-server-error", "cannot replay the stream header", 0);
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
    xd_xml_limits none = { 0 };

    xd_xml_parser_set_limits(p, lim != NULL ? lim : &none);
    if (cb != NULL)
        p->cb = *cb;
    p->arg = arg;
    p->standalone = standalone;
    expat_new(p);
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
}

static const char *
expat_condition(enum XML_Error e)
{
    switch (e) {
    case XML_ERROR_UNKNOWN_ENCODING:
    case XML_ERROR_INCORRECT_ENCODING:
        return "unsupported-encoding";
    case XML_ERROR_UNBOUND_PREFIX:
    case XML_ERROR_UNDECLARING_PREFIX:
        return "bad-namespace-prefix";
    default:
        return "not-well-formed";
    }
}

static void
parser_reset(xd_xml_parser *p)
{
    drop_partial(p);
    expat_new(p);
    free(p->header);
    p->header = NULL;
    p->header_len = 0;
    p->recycle = 0;
    p->depth = 0;
    p->failed = 0;
    p->over_limit = 0;
    p->muted = 0;
    p->reset_pending = 0;
    p->header_seen = 0;
    p->fed = 0;
    p->mark = 0;
}

static int
feed(xd_xml_parser *p, const char *data, size_t len, int final)
{
    /* A standalone element is all there (and under the byte limit): no
     * token can be trickled in, and serialising may have made one of its
     * tags longer than TOKEN_MAX (escapes, namespace declarations), so it
     * is parsed in one go. */
    size_t slice = !p->standalone ? SLICE : len < INT_MAX ? len : INT_MAX;

    if (p->failed)
        return XD_EPROTO;
    if (p->xp == NULL && len > 0) {
        /* Released while idle: a fresh expat picks up where it was. */
        recycle(p);
        if (p->failed) {
            drop_partial(p);
            return XD_EPROTO;
        }
    }
    do {
        size_t n = len < slice ? len : slice;
        /* What was fed before (this item's start, or an unfinished token)
         * may already be too long. */
        if (too_long(p, p->fed))
            break;
        offset start = p->fed;
        enum XML_Status s = expat_parse(p, data, n, final && n == len);
        p->fed += n;
        if (s == XML_STATUS_ERROR && !p->failed && !p->reset_pending) {
            enum XML_Error e = XML_GetErrorCode(p->xp);
            fail(p, expat_condition(e), XML_ErrorString(e), 0);
        }
        if (p->failed || p->reset_pending)
            break;
        if (p->recycle) {
            /* Suspended after a stanza: go on from there with new expat. */
            size_t used = (size_t)(p->recycle_at - start);
            recycle(p);
            if (p->failed)
                break;
            p->fed = start + used;
            data += used;
            len -= used;
            continue;
        }
        /* Outside callbacks the index is just past the last event, where
         * the unfinished token (if any) starts. */
        XML_Index at = XML_GetCurrentByteIndex(p->xp);
        if (!p->standalone && at >= 0 &&
            p->fed - (p->xp_base + (offset)at) > TOKEN_MAX) {
            fail(p, "policy-violation", "tag too large", 1);
            break;
        }
        data += n;
        len -= n;
    } while (len > 0);
    if (p->reset_pending) {
        parser_reset(p);
        return 0;
    }
    if (!p->failed)
        (void)too_long(p, p->fed);
    if (p->failed) {
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

int
xd_xml_parser_release(xd_xml_parser *p)
{
    if (p->xp == NULL || p->in_feed || p->failed || p->standalone ||
        p->header == NULL || p->depth != 1 || p->cur != NULL ||
        p->xp_base + (offset)XML_GetCurrentByteIndex(p->xp) != p->fed)
        return 0;
    struct xmem *saved = charge;
    charge = &p->xp_mem;
    XML_ParserFree(p->xp);
    charge = saved;
    zone_release(&p->xp_mem, 0);
    p->xp = NULL;
    p->recycle_at = p->fed;
    return 1;
}

void
xd_xml_parser_reset(xd_xml_parser *p)
{
    if (p->in_feed) {
        /* expat cannot be reset from its own callbacks: finish this feed
         * silently and reset when it returns. */
        p->muted = 1;
        p->reset_pending = 1;
        XML_StopParser(p->xp, XML_FALSE);
        return;
    }
    parser_reset(p);
}

void
xd_xml_parser_free(xd_xml_parser *p)
{
    if (p == NULL)
        return;
    drop_partial(p);
    xd_stanza_unref(p->result);
    XML_ParserFree(p->xp);
    zone_release(&p->xp_mem, 0);
    free(p->header);
    free(p);
}

int
xd_xml_parse_element(const char *data, size_t len, const xd_xml_limits *lim,
                     xd_stanza **out)
{
    xd_xml_parser *p = parser_new(lim, NULL, NULL, 1);
    int rc;

    if (len > p->lim.max_stanza_bytes) {
        rc = XD_ELIMIT;
        goto fail;
    }
    rc = feed(p, data, len, 1);
    if (rc != 0) {
        if (p->over_limit)
            rc = XD_ELIMIT;
        goto fail;
    }
    if (p->result == NULL) {
        rc = XD_EPROTO; /* nothing but whitespace, or an unfinished one */
        goto fail;
    }
    *out = p->result;
    p->result = NULL;
    xd_xml_parser_free(p);
    return 0;
fail:
    xd_xml_parser_free(p);
    return rc;
}

void
xd_xml_parser_set_limits(xd_xml_parser *p, const xd_xml_limits *lim)
{
    /* A zero keeps the default. */
    xd_xml_limits_default(&p->lim);
    if (lim->max_stanza_bytes != 0)
        p->lim.max_stanza_bytes = lim->max_stanza_bytes;
    if (lim->max_depth != 0)
        p->lim.max_depth = lim->max_depth;
    if (lim->max_attrs != 0)
        p->lim.max_attrs = lim->max_attrs;
    if (lim->max_children != 0)
        p->lim.max_children = lim->max_children;
    if (p->lim.max_stanza_bytes > ((size_t)-1 - MEM_SLACK) / MEM_FACTOR)
        p->mem_max = (size_t)-1;
    else
        p->mem_max = p->lim.max_stanza_bytes * MEM_FACTOR + MEM_SLACK;
}
