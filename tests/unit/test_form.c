/*
 * Unit tests for form.c: building XEP-0004 forms (serialised and compared),
 * and reading submitted forms: values, FORM_TYPE, booleans and bounded
 * integers, with a table of inputs for the readers.
 */
#include "check.h"
#include "parse_xml.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/form.h>
#include <xmppd/xml_parser.h>

static void
test_build(void)
{
    xd_stanza *st = xd_stanza_new("command", "http://jabber.org/protocol/"
                                             "commands");
    xd_elem *x = xd_form_add(xd_stanza_root(st), "form", "Configure <room>",
                             "Fill & send");
    xd_form_add_form_type(x, "urn:example:config");
    xd_form_add_field(x, "name", "text-single", "Name", "lobby");
    xd_form_add_field(x, NULL, "fixed", NULL, "A note");
    xd_elem *f = xd_form_add_field(x, "who", "list-multi", NULL, NULL);
    xd_form_field_add_option(f, "Alice", "a");
    xd_form_field_add_option(f, NULL, "b");
    xd_form_field_add_value(f, "a");
    xd_form_field_add_value(f, "b");
    xd_form_add_bool(x, "public", "Public?", 1);
    xd_form_add_bool(x, "moderated", NULL, 0);

    char *s = xd_elem_to_string(x, NULL);
    const char *want =
        "<x xmlns='jabber:x:data' type='form'>"
        "<title>Configure &lt;room&gt;</title>"
        "<instructions>Fill &amp; send</instructions>"
        "<field var='FORM_TYPE' type='hidden'>"
        "<value>urn:example:config</value></field>"
        "<field var='name' type='text-single' label='Name'>"
        "<value>lobby</value></field>"
        "<field type='fixed'><value>A note</value></field>"
        "<field var='who' type='list-multi'>"
        "<option label='Alice'><value>a</value></option>"
        "<option><value>b</value></option>"
        "<value>a</value><value>b</value></field>"
        "<field var='public' type='boolean' label='Public?'>"
        "<value>1</value></field>"
        "<field var='moderated' type='boolean'><value>0</value></field>"
        "</x>";
    CHECK(strcmp(s, want) == 0, "built form:\n got %s\nwant %s", s, want);
    free(s);

    CHECK(xd_form_find(xd_stanza_root(st)) == x, "find the form just added");
    CHECK(strcmp(xd_form_type(x), "form") == 0, "type");
    CHECK(strcmp(xd_form_form_type(x), "urn:example:config") == 0, "FORM_TYPE");
    int n = 0;
    for (xd_elem *v = xd_form_first_value(xd_form_field(x, "who")); v;
         v = xd_form_next_value(v))
        n++;
    CHECK(n == 2, "two values, options not counted (%d)", n);
    xd_stanza_unref(st);

    /* No title, no instructions. */
    st = xd_stanza_new("message", XD_NS_CLIENT);
    x = xd_form_add(xd_stanza_root(st), "result", NULL, NULL);
    s = xd_elem_to_string(x, NULL);
    CHECK(strcmp(s, "<x xmlns='jabber:x:data' type='result'/>") == 0,
          "bare form: %s", s);
    free(s);
    xd_stanza_unref(st);
}

static const char submitted[] =
    "<command xmlns='http://jabber.org/protocol/commands'>"
    "<x xmlns='urn:not-a-form'><field var='t'><value>1</value></field></x>"
    "<x xmlns='jabber:x:data' type='submit'>"
    "<field var='FORM_TYPE' type='hidden'><value>urn:example:t</value>"
    "</field>"
    "<field var='t'><value>true</value></field>"
    "<field var='one'><value>1</value></field>"
    "<field var='zero'><value>0</value></field>"
    "<field var='false'><value>false</value></field>"
    "<field var='empty'><value/></field>"
    "<field var='novalue'/>"
    "<field var='yes'><value>yes</value></field>"
    "<field var='n42'><value>42</value></field>"
    "<field var='big'><value>99999999999999999999999999</value></field>"
    "<field var='neg'><value>-1</value></field>"
    "<field var='plus'><value>+5</value></field>"
    "<field var='sp'><value> 5</value></field>"
    "<field var='hex'><value>0x10</value></field>"
    "<field var='multi'><value>a</value><value>b</value><value>c</value>"
    "</field>"
    "</x></command>";

static void
test_read(void)
{
    static const struct {
        const char *var;
        const char *value; /* xd_form_value; NULL: no field */
        int bool_rc, bool_val;
        unsigned long max;
        int uint_rc;
        unsigned long uint_val;
    } cases[] = {
        { "t", "true", 0, 1, 100, XD_EINVAL, 0 },
        { "one", "1", 0, 1, 100, 0, 1 },
        { "zero", "0", 0, 0, 100, 0, 0 },
        { "false", "false", 0, 0, 100, XD_EINVAL, 0 },
        { "empty", "", 0, 0, 100, XD_EINVAL, 0 },
        { "novalue", "", 0, 0, 100, XD_EINVAL, 0 },
        { "yes", "yes", XD_EINVAL, 0, 100, XD_EINVAL, 0 },
        { "n42", "42", XD_EINVAL, 0, 100, 0, 42 },
        { "n42", "42", XD_EINVAL, 0, 42, 0, 42 },
        { "n42", "42", XD_EINVAL, 0, 41, XD_EINVAL, 0 },
        { "big", "99999999999999999999999999", XD_EINVAL, 0, (unsigned long)-1,
          XD_EINVAL, 0 },
        { "neg", "-1", XD_EINVAL, 0, 100, XD_EINVAL, 0 },
        { "plus", "+5", XD_EINVAL, 0, 100, XD_EINVAL, 0 },
        { "sp", " 5", XD_EINVAL, 0, 100, XD_EINVAL, 0 },
        { "hex", "0x10", XD_EINVAL, 0, 100, XD_EINVAL, 0 },
        { "multi", "a", XD_EINVAL, 0, 100, XD_EINVAL, 0 },
        { "absent", NULL, XD_ENOTFOUND, 0, 100, XD_ENOTFOUND, 0 },
    };
    xd_stanza *st = parse(submitted);
    const xd_elem *x = xd_form_find(xd_stanza_root(st));

    CHECK(x != NULL && strcmp(xd_elem_ns(x), "jabber:x:data") == 0,
          "the data form, not the other <x/>");
    CHECK(strcmp(xd_form_type(x), "submit") == 0, "type submit");
    CHECK(strcmp(xd_form_form_type(x), "urn:example:t") == 0, "FORM_TYPE");
    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        const char *v = xd_form_value(x, cases[i].var);
        int b = -7;
        unsigned long u = 12345;
        int brc = xd_form_bool(x, cases[i].var, &b);
        int urc = xd_form_uint(x, cases[i].var, cases[i].max, &u);
        int ok = (v == NULL ? cases[i].value == NULL
                            : cases[i].value && strcmp(v, cases[i].value) == 0);
        ok = ok && brc == cases[i].bool_rc &&
             (brc != 0 || b == cases[i].bool_val) && (brc == 0 || b == -7);
        ok = ok && urc == cases[i].uint_rc &&
             (urc != 0 || u == cases[i].uint_val) && (urc == 0 || u == 12345);
        CHECK(ok, "case %zu (%s): value %s bool %d/%d uint %d/%lu", i,
              cases[i].var, v ? v : "(null)", brc, b, urc, u);
    }
    const char *want[] = { "a", "b", "c" };
    size_t n = 0;
    for (xd_elem *v = xd_form_first_value(xd_form_field(x, "multi")); v;
         v = xd_form_next_value(v), n++)
        CHECK(n < 3 && strcmp(xd_elem_text(v), want[n]) == 0, "multi value %zu",
              n);
    CHECK(n == 3, "three values");
    CHECK(xd_form_first_value(xd_form_field(x, "novalue")) == NULL,
          "no first value");
    xd_stanza_unref(st);

    st = parse("<iq xmlns='jabber:client'><query xmlns='urn:q'/></iq>");
    CHECK(xd_form_find(xd_stanza_root(st)) == NULL, "no form");
    CHECK(xd_form_find(NULL) == NULL, "NULL parent");
    xd_stanza_unref(st);
    st = parse("<x xmlns='jabber:x:data' type='submit'/>");
    CHECK(xd_form_form_type(xd_stanza_root(st)) == NULL, "no FORM_TYPE");
    CHECK(xd_form_field(xd_stanza_root(st), "a") == NULL, "no fields");
    xd_stanza_unref(st);
}

static void
test_build_int(void)
{
    xd_stanza *st = xd_stanza_new("command", "http://jabber.org/protocol/"
                                             "commands");
    xd_elem *x = xd_form_add(xd_stanza_root(st), "form", NULL, NULL);
    xd_elem *f = xd_form_add_int(x, "max", "list-single", "Maximum", 50);
    static const long long sizes[] = { 10, 50, 100 };
    for (size_t i = 0; i < XD_NELEM(sizes); i++)
        xd_form_field_add_int_option(f, sizes[i]);
    xd_form_add_int(x, "low", NULL, NULL, -9223372036854775807LL - 1);
    xd_form_add_int(x, "high", "text-single", NULL, 9223372036854775807LL);
    char *s = xd_elem_to_string(x, NULL);
    CHECK(strcmp(s, "<x xmlns='jabber:x:data' type='form'>"
                    "<field var='max' type='list-single' label='Maximum'>"
                    "<value>50</value><option label='10'><value>10</value>"
                    "</option><option label='50'><value>50</value></option>"
                    "<option label='100'><value>100</value></option></field>"
                    "<field var='low'><value>-9223372036854775808</value>"
                    "</field><field var='high' type='text-single'><value>"
                    "9223372036854775807</value></field></x>") == 0,
          "integer fields: %s", s);
    unsigned long max = 0;
    CHECK(xd_form_uint(x, "max", 1000, &max) == 0 && max == 50,
          "an integer field reads back");
    free(s);
    xd_stanza_unref(st);
}

static void
test_build_int_options(void)
{
    xd_stanza *st = xd_stanza_new("command", "http://jabber.org/protocol/"
                                             "commands");
    xd_elem *x = xd_form_add(xd_stanza_root(st), "form", NULL, NULL);
    static const long long sides[] = { 4, -6 };
    xd_elem *f = xd_form_add_int(x, "s", "list-single", NULL, 4);
    CHECK(xd_form_field_add_int_options(f, sides, 2) == f, "the field back");
    xd_form_field_add_int_options(f, sides, 0);
    char *s = xd_elem_to_string(x, NULL);
    CHECK(strcmp(s, "<x xmlns='jabber:x:data' type='form'>"
                    "<field var='s' type='list-single'><value>4</value>"
                    "<option label='4'><value>4</value></option>"
                    "<option label='-6'><value>-6</value></option>"
                    "</field></x>") == 0,
          "integer options from an array, in order: %s", s);
    free(s);
    xd_form_add_fixedf(x, "You will roll %dd%d.", 2, 6);
    s = xd_elem_to_string(xd_elem_next(f), NULL);
    CHECK(s != NULL && strcmp(s, "<field xmlns='jabber:x:data' type='fixed'>"
                                 "<value>You will roll "
                                 "2d6.</value></field>") == 0,
          "a formatted fixed field: %s", s ? s : "(none)");
    free(s);
    xd_stanza_unref(st);
}

int
main(void)
{
    test_build();
    test_read();
    test_build_int();
    test_build_int_options();
    return check_report();
}
