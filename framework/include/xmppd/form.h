/*
 * form.h: XEP-0004 data forms, built and read on xd_elem trees.
 *
 * A form is an <x xmlns='jabber:x:data'/> element; these helpers add one to
 * a parent element (an iq payload, a message, a command), add fields with
 * values and options, and read submitted values. Every string is copied into
 * the tree; nothing returned here needs freeing (it is borrowed from the
 * element tree and lives as long as it).
 */
#ifndef XMPPD_FORM_H
#define XMPPD_FORM_H

#include <stddef.h>

#include <xmppd/common.h>
#include <xmppd/element.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Adds <x xmlns='jabber:x:data' type=type/> (form, submit, cancel, result)
 * to parent, with <title/> and <instructions/> when not NULL. */
xd_elem *xd_form_add(xd_elem *parent, const char *type, const char *title,
                     const char *instructions);
/* Adds the hidden FORM_TYPE field carrying form_type. */
void xd_form_add_form_type(xd_elem *x, const char *form_type);
/* Adds <field var= type= label=/> (type, label: NULL leaves them out) with
 * one <value/> when value is not NULL. Returns the field. */
xd_elem *xd_form_add_field(xd_elem *x, const char *var, const char *type,
                           const char *label, const char *value);
/* Adds a fixed field (no var, no label) whose value is the printf-style
 * text of fmt, e.g. a line of a confirmation stage. Returns the field. */
xd_elem *xd_form_add_fixedf(xd_elem *x, const char *fmt, ...) XD_PRINTF(2, 3);
/* Adds a further <value/> to a field (for *-multi fields). */
void xd_form_field_add_value(xd_elem *field, const char *value);
/* Adds <option label=><value>value</value></option> to a list field. */
void xd_form_field_add_option(xd_elem *field, const char *label,
                              const char *value);
/* Adds a field whose one value is the decimal `value` (type, label: NULL
 * leaves them out), e.g. a list-single of sizes. Returns the field. */
xd_elem *xd_form_add_int(xd_elem *x, const char *var, const char *type,
                         const char *label, long long value);
/* Adds <option label='value'><value>value</value></option>, in decimal. */
void xd_form_field_add_int_option(xd_elem *field, long long value);
/* xd_form_field_add_int_option for each of the n values, in order; returns
 * the field. */
xd_elem *xd_form_field_add_int_options(xd_elem *field, const long long *values,
                                       size_t n);
/* Adds a boolean field with value "1" or "0". */
xd_elem *xd_form_add_bool(xd_elem *x, const char *var, const char *label,
                          int value);

/* Marks a field <required/>; returns it. */
xd_elem *xd_form_field_required(xd_elem *field);
/* Adds XEP-0122 validation to a field: its values are integers from min to
 * max (<validate datatype='xs:integer'><range min= max=/></validate>), as
 * xd_form_check enforces. Returns the field. */
xd_elem *xd_form_field_validate_int(xd_elem *field, long long min,
                                    long long max);

/* The first jabber:x:data child of parent, or NULL. */
xd_elem *xd_form_find(const xd_elem *parent);
/* The form's type attribute (NULL when absent). */
const char *xd_form_type(const xd_elem *x);
/* The value of the hidden FORM_TYPE field, or NULL. */
const char *xd_form_form_type(const xd_elem *x);
/* The <field var=var/> of a form, or NULL. */
xd_elem *xd_form_field(const xd_elem *x, const char *var);
/* The first value of field var ("" for a field without value), or NULL
 * when the form has no such field. */
const char *xd_form_value(const xd_elem *x, const char *var);
/* Reads a boolean field ("1"/"true" or "0"/"false"; an empty value is
 * false): 0 and *out set, XD_ENOTFOUND without the field, XD_EINVAL for
 * any other value. */
int xd_form_bool(const xd_elem *x, const char *var, int *out);
/* Reads a non-negative integer field no greater than max: 0 and *out set,
 * XD_ENOTFOUND, or XD_EINVAL. */
int xd_form_uint(const xd_elem *x, const char *var, unsigned long max,
                 unsigned long *out);
/* Reads an integer field (an optional '-' and digits): 0 and *out set,
 * XD_ENOTFOUND, or XD_EINVAL (not an integer, or out of range). */
int xd_form_int(const xd_elem *x, const char *var, long long min, long long max,
                long long *out);

/*
 * Checks a submitted form (`submitted`, NULL: nothing submitted) against
 * the form that asked for it (`form`, the <x type='form'/>), as XEP-0004
 * 3.3 defines its field types: a <required/> field must have a non-empty
 * value; single-valued types (boolean, jid-single, list-single,
 * text-single, text-private, hidden) at most one value; boolean values are
 * 0, 1, false or true; jid-single and jid-multi values are JIDs; list-single
 * and list-multi values are among the options (when the form has any); an
 * XEP-0122 xs:integer field (xd_form_field_validate_int) holds integers in
 * its range; a FORM_TYPE must be the form's. Fields the form does not have
 * are ignored (XEP-0004 3.4), fixed fields are not checked; a field given
 * twice is refused. Returns 0, or
 * XD_EINVAL with a sentence naming the field written to `why` (`len`
 * bytes, truncated; `why` NULL: not written).
 */
int xd_form_check(const xd_elem *form, const xd_elem *submitted, char *why,
                  size_t len);

/* Iterates the values of a field: first value (NULL when none) and next. */
xd_elem *xd_form_first_value(const xd_elem *field);
xd_elem *xd_form_next_value(const xd_elem *value);

#ifdef __cplusplus
}
#endif
#endif
