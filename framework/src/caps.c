/*
 * caps.c: the XEP-0115 verification string of a disco#info result (5.1),
 * its hash, and the checks of 5.4 that keep a forged or ambiguous answer
 * from being cached under someone's 'ver'.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <xmppd/base64.h>
#include <xmppd/caps.h>
#include <xmppd/ns.h>

struct identity {
    const char *category, *type, *lang, *name;
};

struct field {
    const char *var;
    const char **values;
    size_t nvalues;
};

struct form {
    const char *form_type;
    struct field *fields;
    size_t nfields;
};

struct info {
    struct identity *ids;
    size_t nids;
    const char **features;
    size_t nfeatures;
    struct form *forms;
    size_t nforms;
};

static const char *
or_empty(const char *s)
{
    return s ? s : "";
}

/* i;octet, the collation XEP-0115 sorts with. */
static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_identity(const void *a, const void *b)
{
    const struct identity *x = a, *y = b;
    int d;

    if ((d = strcmp(x->category, y->category)) != 0 ||
        (d = strcmp(x->type, y->type)) != 0 ||
        (d = strcmp(x->lang, y->lang)) != 0)
        return d;
    return strcmp(x->name, y->name);
}

static int
cmp_field(const void *a, const void *b)
{
    return strcmp(((const struct field *)a)->var,
                  ((const struct field *)b)->var);
}

static int
cmp_form(const void *a, const void *b)
{
    return strcmp(((const struct form *)a)->form_type,
                  ((const struct form *)b)->form_type);
}

static void
info_free(struct info *in)
{
    for (size_t i = 0; i < in->nforms; i++) {
        for (size_t j = 0; j < in->forms[i].nfields; j++)
            free(in->forms[i].fields[j].values);
        free(in->forms[i].fields);
    }
    free(in->forms);
    free(in->features);
    free(in->ids);
}

static size_t
count_children(const xd_elem *e, const char *name, const char *ns)
{
    size_t n = 0;

    for (const xd_elem *c = xd_elem_first(e); c != NULL; c = xd_elem_next(c))
        if (xd_elem_is(c, name, ns))
            n++;
    return n;
}

/* Reads one XEP-0128 form: 0 and *f filled, XD_ENOTFOUND when it has no
 * hidden FORM_TYPE (ignored), XD_EINVAL when its FORM_TYPE is ambiguous. */
static int
read_form(const xd_elem *x, struct form *f)
{
    size_t nfields = count_children(x, "field", XD_NS_DATA_FORMS);

    memset(f, 0, sizeof(*f));
    f->fields = xd_xcalloc(nfields ? nfields : 1, sizeof(*f->fields));
    for (const xd_elem *fe = xd_elem_first(x); fe != NULL;
         fe = xd_elem_next(fe)) {
        if (!xd_elem_is(fe, "field", XD_NS_DATA_FORMS))
            continue;
        const char *var = or_empty(xd_elem_attr(fe, "var"));
        size_t nv = count_children(fe, "value", XD_NS_DATA_FORMS);
        if (strcmp(var, "FORM_TYPE") == 0) {
            const char *type = xd_elem_attr(fe, "type");
            if (type == NULL || strcmp(type, "hidden") != 0)
                goto ignore;
            if (nv != 1 || f->form_type != NULL)
                goto bad;
            f->form_type = or_empty(
                xd_elem_text(xd_elem_child(fe, "value", XD_NS_DATA_FORMS)));
            continue;
        }
        struct field *fl = &f->fields[f->nfields++];
        fl->var = var;
        fl->values = xd_xcalloc(nv ? nv : 1, sizeof(*fl->values));
        for (const xd_elem *v = xd_elem_first(fe); v != NULL;
             v = xd_elem_next(v))
            if (xd_elem_is(v, "value", XD_NS_DATA_FORMS))
                fl->values[fl->nvalues++] = or_empty(xd_elem_text(v));
    }
    if (f->form_type == NULL)
        goto ignore;
    return 0;
ignore:
    for (size_t j = 0; j < f->nfields; j++)
        free(f->fields[j].values);
    free(f->fields);
    return XD_ENOTFOUND;
bad:
    for (size_t j = 0; j < f->nfields; j++)
        free(f->fields[j].values);
    free(f->fields);
    return XD_EINVAL;
}

static int
read_info(const xd_elem *q, struct info *in)
{
    size_t n = xd_elem_child_count(q);

    memset(in, 0, sizeof(*in));
    in->ids = xd_xcalloc(n ? n : 1, sizeof(*in->ids));
    in->features = xd_xcalloc(n ? n : 1, sizeof(*in->features));
    in->forms = xd_xcalloc(n ? n : 1, sizeof(*in->forms));
    for (const xd_elem *c = xd_elem_first(q); c != NULL; c = xd_elem_next(c)) {
        if (xd_elem_is(c, "identity", XD_NS_DISCO_INFO)) {
            struct identity *id = &in->ids[in->nids++];
            id->category = or_empty(xd_elem_attr(c, "category"));
            id->type = or_empty(xd_elem_attr(c, "type"));
            id->lang = or_empty(xd_elem_attr_ns(c, XD_NS_XML, "lang"));
            id->name = or_empty(xd_elem_attr(c, "name"));
        } else if (xd_elem_is(c, "feature", XD_NS_DISCO_INFO)) {
            in->features[in->nfeatures++] = or_empty(xd_elem_attr(c, "var"));
        } else if (xd_elem_is(c, "x", XD_NS_DATA_FORMS)) {
            int rc = read_form(c, &in->forms[in->nforms]);
            if (rc == XD_EINVAL)
                return rc;
            if (rc == 0)
                in->nforms++;
        }
    }
    qsort(in->ids, in->nids, sizeof(*in->ids), cmp_identity);
    qsort(in->features, in->nfeatures, sizeof(*in->features), cmp_str);
    qsort(in->forms, in->nforms, sizeof(*in->forms), cmp_form);
    /* XEP-0115 5.4: duplicates make the whole answer ill-formed. */
    for (size_t i = 1; i < in->nids; i++)
        if (cmp_identity(&in->ids[i - 1], &in->ids[i]) == 0)
            return XD_EINVAL;
    for (size_t i = 1; i < in->nfeatures; i++)
        if (strcmp(in->features[i - 1], in->features[i]) == 0)
            return XD_EINVAL;
    for (size_t i = 1; i < in->nforms; i++)
        if (cmp_form(&in->forms[i - 1], &in->forms[i]) == 0)
            return XD_EINVAL;
    return 0;
}

static void
append(xd_buf *b, const char *s)
{
    xd_buf_append_str(b, s);
    xd_buf_append(b, "<", 1);
}

int
xd_caps_string(const xd_elem *query, xd_buf *out)
{
    struct info in;
    int rc;

    xd_buf_reset(out);
    if (!xd_elem_is(query, "query", XD_NS_DISCO_INFO))
        return XD_EINVAL;
    if ((rc = read_info(query, &in)) != 0)
        goto done;
    for (size_t i = 0; i < in.nids; i++) {
        const struct identity *id = &in.ids[i];
        xd_buf_appendf(out, "%s/%s/%s/%s<", id->category, id->type, id->lang,
                       id->name);
    }
    for (size_t i = 0; i < in.nfeatures; i++)
        append(out, in.features[i]);
    for (size_t i = 0; i < in.nforms; i++) {
        struct form *f = &in.forms[i];
        append(out, f->form_type);
        qsort(f->fields, f->nfields, sizeof(*f->fields), cmp_field);
        for (size_t j = 0; j < f->nfields; j++) {
            struct field *fl = &f->fields[j];
            append(out, fl->var);
            qsort(fl->values, fl->nvalues, sizeof(*fl->values), cmp_str);
            for (size_t k = 0; k < fl->nvalues; k++)
                append(out, fl->values[k]);
        }
    }
done:
    info_free(&in);
    return rc;
}

const char *
xd_caps_hash_name(xd_caps_hash h)
{
    return h == XD_CAPS_SHA256 ? "sha-256" : "sha-1";
}

int
xd_caps_hash_parse(const char *name, xd_caps_hash *out)
{
    if (name != NULL && strcmp(name, "sha-1") == 0)
        *out = XD_CAPS_SHA1;
    else if (name != NULL && strcmp(name, "sha-256") == 0)
        *out = XD_CAPS_SHA256;
    else
        return XD_EINVAL;
    return 0;
}

int
xd_caps_ver(const xd_elem *query, xd_caps_hash h, char **ver)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    xd_buf s = { 0 };
    int rc = xd_caps_string(query, &s);

    if (rc == 0) {
        const unsigned char *data = (const unsigned char *)s.data;
        if (h == XD_CAPS_SHA256)
            SHA256(data, s.len, digest);
        else
            SHA1(data, s.len, digest);
        *ver =
            xd_base64_encode(digest, h == XD_CAPS_SHA256 ? SHA256_DIGEST_LENGTH
                                                         : SHA_DIGEST_LENGTH);
    }
    xd_buf_free(&s);
    return rc;
}

int
xd_caps_verify(const xd_elem *query, const char *hash, const char *ver)
{
    xd_caps_hash h;
    char *mine = NULL;
    int rc;

    if (ver == NULL || xd_caps_hash_parse(hash, &h) != 0)
        return XD_EINVAL;
    if ((rc = xd_caps_ver(query, h, &mine)) != 0)
        return rc;
    rc = strcmp(mine, ver) == 0 ? 0 : XD_EPROTO;
    free(mine);
    return rc;
}

xd_elem *
xd_caps_add(xd_elem *presence, const char *node, const char *ver)
{
    xd_elem *c = xd_elem_add_child(presence, "c", XD_NS_CAPS);

    xd_elem_set_attr(c, "hash", "sha-1");
    xd_elem_set_attr(c, "node", node);
    xd_elem_set_attr(c, "ver", ver);
    return c;
}
