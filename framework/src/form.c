/*
 * form.c: XEP-0004 data forms on xd_elem trees. Everything is copied into
 * the tree of the element a form is added to; readers return pointers into
 * the tree they were given.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <xmppd/form.h>

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
xd_form_add_bool(xd_elem *x, const char *var, const char *label, int value)
{
    return xd_form_add_field(x, var, "boolean", label, value ? "1" : "0");
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
