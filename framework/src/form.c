/*
 * form.c: XEP-0004 data forms on xd_elem trees. Everything is copied into
 * the tree of the element a form is added to; readers return pointers into
 * the tree they were given.
 */
#define XD_LOG_AREA "form"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/form.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>

/* XEP-0122 data forms validation. */
#define NS_XDATA_VALIDATE "http://jabber.org/protocol/xdata-validate"

xd_elem *
xd_form_add(xd_elem *parent, const char *type, const char *title,
            const char *instructions)
{
    xd_elem *x = xd_elem_add_child(parent, "x", XD_NS_DATA_FORMS);

    xd_elem_set_attr(x, "type", type);
    if (title != NULL)
        xd_elem_set_child_text(x, "title", XD_NS_DATA_FORMS, title);
    if (instructions != NULL)
        xd_elem_set_child_text(x, "instructions", XD_NS_DATA_FORMS,
                               instructions);
    return x;
}

void
xd_form_add_form_type(xd_elem *x, const char *form_type)
{
    xd_form_add_field(x, "FORM_TYPE", "hidden", NULL, form_type);
}

static void
add_value(xd_elem *parent, const char *value)
{
    xd_elem *v = xd_elem_add_child(parent, "value", XD_NS_DATA_FORMS);

    xd_elem_add_text(v, value, strlen(value));
}

xd_elem *
xd_form_add_field(xd_elem *x, const char *var, const char *type,
                  const char *label, const char *value)
{
    xd_elem *f = xd_elem_add_child(x, "field", XD_NS_DATA_FORMS);

    /* var, type and label are each optional (a fixed field has no var). */
    if (var != NULL)
        xd_elem_set_attr(f, "var", var);
    if (type != NULL)
        xd_elem_set_attr(f, "type", type);
    if (label != NULL)
        xd_elem_set_attr(f, "label", label);
    if (value != NULL)
        add_value(f, value);
    return f;
}

void
xd_form_field_add_value(xd_elem *field, const char *value)
{
    add_value(field, value);
}

void
xd_form_field_add_option(xd_elem *field, const char *label, const char *value)
{
    xd_elem *o = xd_elem_add_child(field, "option", XD_NS_DATA_FORMS);

    if (label != NULL)
        xd_elem_set_attr(o, "label", label);
    add_value(o, value);
}

xd_elem *
xd_form_add_int(xd_elem *x, const char *var, const char *type,
                const char *label, long long value)
{
    char num[24]; /* "-9223372036854775808" and a NUL */

    snprintf(num, sizeof(num), "%lld", value);
    return xd_form_add_field(x, var, type, label, num);
}

void
xd_form_field_add_int_option(xd_elem *field, long long value)
{
    char num[24];

    snprintf(num, sizeof(num), "%lld", value);
    xd_form_field_add_option(field, num, num);
}

xd_elem *
xd_form_add_fixedf(xd_elem *x, const char *fmt, ...)
{
    va_list ap;
    char *text;

    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        xd_fatal("vasprintf");
    va_end(ap);
    xd_elem *f = xd_form_add_field(x, NULL, "fixed", NULL, text);
    free(text);
    return f;
}

xd_elem *
xd_form_field_add_int_options(xd_elem *field, const long long *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xd_form_field_add_int_option(field, values[i]);
    return field;
}

xd_elem *
xd_form_add_bool(xd_elem *x, const char *var, const char *label, int value)
{
    return xd_form_add_field(x, var, "boolean", label, value ? "1" : "0");
}

xd_elem *
xd_form_field_required(xd_elem *field)
{
    if (xd_elem_child(field, "required", XD_NS_DATA_FORMS) == NULL)
        xd_elem_add_child(field, "required", XD_NS_DATA_FORMS);
    return field;
}

xd_elem *
xd_form_field_validate_int(xd_elem *field, long long min, long long max)
{
    char num[24];
    xd_elem *v = xd_elem_add_child(field, "validate", NS_XDATA_VALIDATE);
    xd_elem *r = xd_elem_add_child(v, "range", NS_XDATA_VALIDATE);

    xd_elem_set_attr(v, "datatype", "xs:integer");
    snprintf(num, sizeof(num), "%lld", min);
    xd_elem_set_attr(r, "min", num);
    snprintf(num, sizeof(num), "%lld", max);
    xd_elem_set_attr(r, "max", num);
    return field;
}

xd_elem *
xd_form_find(const xd_elem *parent)
{
    return parent ? xd_elem_child(parent, "x", XD_NS_DATA_FORMS) : NULL;
}

const char *
xd_form_type(const xd_elem *x)
{
    return xd_elem_attr(x, "type");
}

const char *
xd_form_form_type(const xd_elem *x)
{
    return xd_form_value(x, "FORM_TYPE");
}

xd_elem *
xd_form_field(const xd_elem *x, const char *var)
{
    for (xd_elem *f = xd_elem_child(x, "field", XD_NS_DATA_FORMS); f != NULL;
         f = xd_elem_next_match(f, "field", XD_NS_DATA_FORMS)) {
        const char *v = xd_elem_attr(f, "var");
        if (v != NULL && strcmp(v, var) == 0)
            return f;
    }
    return NULL;
}

const char *
xd_form_value(const xd_elem *x, const char *var)
{
    const xd_elem *f = xd_form_field(x, var);

    if (f == NULL)
        return NULL;
    const xd_elem *v = xd_form_first_value(f);
    return v ? xd_elem_text(v) : "";
}

int
xd_form_bool(const xd_elem *x, const char *var, int *out)
{
    const char *v = xd_form_value(x, var);

    if (v == NULL)
        return XD_ENOTFOUND;
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
        *out = 1;
    else if (*v == '\0' || strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
        *out = 0;
    else
        return XD_EINVAL;
    return 0;
}

int
xd_form_uint(const xd_elem *x, const char *var, unsigned long max,
             unsigned long *out)
{
    const char *v = xd_form_value(x, var);
    unsigned long n = 0;

    if (v == NULL)
        return XD_ENOTFOUND;
    /* Digits only: strtoul would take a sign, blanks and "0x". */
    if (*v == '\0')
        return XD_EINVAL;
    for (; *v != '\0'; v++) {
        if (*v < '0' || *v > '9')
            return XD_EINVAL;
        unsigned long d = (unsigned long)(*v - '0');
        if (n > (ULONG_MAX - d) / 10)
            return XD_EINVAL;
        n = n * 10 + d;
    }
    if (n > max)
        return XD_EINVAL;
    *out = n;
    return 0;
}

xd_elem *
xd_form_first_value(const xd_elem *field)
{
    return xd_elem_child(field, "value", XD_NS_DATA_FORMS);
}

xd_elem *
xd_form_next_value(const xd_elem *value)
{
    return xd_elem_next_match(value, "value", XD_NS_DATA_FORMS);
}

/* An optional '-' and decimal digits, nothing else (strtoll would take
 * blanks, '+' and trailing bytes): 0 and *out, or XD_EINVAL. */
static int
parse_int(const char *v, long long *out)
{
    const char *p = v;
    char *end;

    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return XD_EINVAL;
    for (; *p != '\0'; p++)
        if (*p < '0' || *p > '9')
            return XD_EINVAL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return XD_EINVAL;
    *out = n;
    return 0;
}

int
xd_form_int(const xd_elem *x, const char *var, long long min, long long max,
            long long *out)
{
    const char *v = xd_form_value(x, var);
    long long n;

    if (v == NULL)
        return XD_ENOTFOUND;
    if (parse_int(v, &n) != 0 || n < min || n > max)
        return XD_EINVAL;
    *out = n;
    return 0;
}

/* --- checking a submission against its form ------------------------------ */

static int
bad(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && len > 0) {
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return XD_EINVAL;
}

static int
is_option(const xd_elem *field, const char *value)
{
    for (const xd_elem *o = xd_elem_child(field, "option", XD_NS_DATA_FORMS);
         o != NULL; o = xd_elem_next_match(o, "option", XD_NS_DATA_FORMS)) {
        const xd_elem *v = xd_form_first_value(o);
        if (v != NULL && strcmp(xd_elem_text(v), value) == 0)
            return 1;
    }
    return 0;
}

/* The XEP-0122 integer range of a field: 1 and [*min, *max] when the form
 * asks for xs:integer (or one of its narrower XML Schema types), else 0. */
static int
int_range(const xd_elem *field, long long *min, long long *max)
{
    const xd_elem *v = xd_elem_child(field, "validate", NS_XDATA_VALIDATE);
    const char *dt = v ? xd_elem_attr(v, "datatype") : NULL;

    if (dt == NULL ||
        (strcmp(dt, "xs:integer") != 0 && strcmp(dt, "xs:int") != 0 &&
         strcmp(dt, "xs:long") != 0 && strcmp(dt, "xs:short") != 0 &&
         strcmp(dt, "xs:byte") != 0))
        return 0;
    *min = LLONG_MIN;
    *max = LLONG_MAX;
    const xd_elem *r = xd_elem_child(v, "range", NS_XDATA_VALIDATE);
    const char *lo = r ? xd_elem_attr(r, "min") : NULL;
    const char *hi = r ? xd_elem_attr(r, "max") : NULL;
    if (lo != NULL)
        parse_int(lo, min);
    if (hi != NULL)
        parse_int(hi, max);
    return 1;
}

/* Checks one value of a field of type `type`. */
static int
check_value(const xd_elem *def, const char *var, const char *type,
            const char *value, char *why, size_t len)
{
    long long min, max, n;

    if (*value == '\0') /* empty: only "required" minds */
        return 0;
    if (strcmp(type, "boolean") == 0) {
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0 &&
            strcmp(value, "false") != 0 && strcmp(value, "true") != 0)
            return bad(why, len, "The field '%s' is not a boolean.", var);
    } else if (strcmp(type, "jid-single") == 0 ||
               strcmp(type, "jid-multi") == 0) {
        xd_jid *j = NULL;
        int rc = xd_jid_parse(value, &j);
        xd_jid_free(j);
        if (rc != 0)
            return bad(why, len, "The field '%s' is not a valid JID.", var);
    } else if (strcmp(type, "list-single") == 0 ||
               strcmp(type, "list-multi") == 0) {
        if (xd_elem_child(def, "option", XD_NS_DATA_FORMS) != NULL &&
            !is_option(def, value))
            return bad(why, len, "The field '%s' is not one of the options.",
                       var);
    }
    if (int_range(def, &min, &max) &&
        (parse_int(value, &n) != 0 || n < min || n > max))
        return bad(why, len,
                   "The field '%s' is not an integer from %lld to %lld.", var,
                   min, max);
    return 0;
}

static int
is_single(const char *type)
{
    static const char *const single[] = { "boolean",      "jid-single",
                                          "list-single",  "text-single",
                                          "text-private", "hidden" };

    for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
        if (strcmp(type, single[i]) == 0)
            return 1;
    return 0;
}

/* Whether a field after `f` has the same var (XEP-0004 3.2: unique). */
static int
given_again(const xd_elem *f, const char *var)
{
    while ((f = xd_elem_next_match(f, "field", XD_NS_DATA_FORMS)) != NULL) {
        const char *v = xd_elem_attr(f, "var");
        if (v != NULL && strcmp(v, var) == 0)
            return 1;
    }
    return 0;
}

int
xd_form_check(const xd_elem *form, const xd_elem *submitted, char *why,
              size_t len)
{
    for (const xd_elem *def = xd_elem_child(form, "field", XD_NS_DATA_FORMS);
         def != NULL;
         def = xd_elem_next_match(def, "field", XD_NS_DATA_FORMS)) {
        const char *var = xd_elem_attr(def, "var");
        const char *type = xd_elem_attr(def, "type");
        if (type == NULL) /* XEP-0004 3.3: text-single by default */
            type = "text-single";
        if (var == NULL || strcmp(type, "fixed") == 0)
            continue;
        const xd_elem *got = submitted ? xd_form_field(submitted, var) : NULL;
        size_t nvalues = 0, nonempty = 0;
        for (const xd_elem *v = got ? xd_form_first_value(got) : NULL;
             v != NULL; v = xd_form_next_value(v)) {
            const char *text = xd_elem_text(v);
            nvalues++;
            nonempty += *text != '\0';
            int rc = check_value(def, var, type, text, why, len);
            if (rc != 0)
                return rc;
        }
        if (nonempty == 0 &&
            xd_elem_child(def, "required", XD_NS_DATA_FORMS) != NULL)
            return bad(why, len, "The field '%s' is required.", var);
        if (got != NULL && given_again(got, var))
            return bad(why, len, "The field '%s' is given twice.", var);
        if (nvalues > 1 && is_single(type))
            return bad(why, len, "The field '%s' takes one value.", var);
        if (strcmp(var, "FORM_TYPE") == 0 && nvalues == 1) {
            const char *want = xd_form_value(form, "FORM_TYPE");
            if (want != NULL &&
                strcmp(xd_elem_text(xd_form_first_value(got)), want) != 0)
                return bad(why, len, "The form is not a %s form.", want);
        }
    }
    return 0;
}
