/*
 * Unit tests for buf.c: growth, formatting, stealing, and XML escaping of
 * text and attribute values, including bytes XML cannot carry.
 */
#include "check.h"
#include <stdlib.h>
#include <string.h>

#include <xmppd/buf.h>

#define FFFD "\xEF\xBF\xBD"

static const struct {
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *text, *attr;
} escapes[] = {
    { "plain", 0, "plain", "plain" },
    { "", 0, "", "" },
    { "a<b>&c", 0, "a&lt;b&gt;&amp;c", "a&lt;b&gt;&amp;c" },
    { "'\"", 0, "'\"", "&apos;&quot;" },
    { "&amp;", 0, "&amp;amp;", "&amp;amp;" },
    { "a\tb\nc\rd", 0, "a\tb\nc&#13;d", "a&#9;b&#10;c&#13;d" },
    { "]]>", 0, "]]&gt;", "]]&gt;" },
    /* C0 controls other than tab, LF, CR cannot appear in XML 1.0. */
    { "a\001b\037c", 0, "a" FFFD "b" FFFD "c", "a" FFFD "b" FFFD "c" },
    { "a\0b", 3, "a" FFFD "b", "a" FFFD "b" },
    { "\x7f", 0, "\x7f", "\x7f" },
    /* Well-formed UTF-8 passes through. */
    { "z\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBD", 0,
      "z\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBD",
      "z\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBD" },
    { "\xF4\x8F\xBF\xBF", 0, "\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF" },
    { "\xED\x9F\xBF", 0, "\xED\x9F\xBF", "\xED\x9F\xBF" },
    /* Malformed UTF-8: each bad byte becomes U+FFFD. */
    { "a\200b", 0, "a" FFFD "b", "a" FFFD "b" },
    { "\xC0\x80", 0, FFFD FFFD, FFFD FFFD },               /* overlong */
    { "\xE0\x80\x80", 0, FFFD FFFD FFFD, FFFD FFFD FFFD }, /* overlong */
    { "\xED\xA0\x80", 0, FFFD FFFD FFFD, FFFD FFFD FFFD }, /* surrogate */
    { "\xF4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD,
      FFFD FFFD FFFD FFFD }, /* > U+10FFFF */
    { "\xF5\x80", 0, FFFD FFFD, FFFD FFFD },
    { "\xE2\x82", 0, FFFD FFFD, FFFD FFFD }, /* truncated */
    { "\xE2\x82<", 0, FFFD FFFD "&lt;", FFFD FFFD "&lt;" },
    { "\xEF\xBF\xBE\xEF\xBF\xBF", 0, FFFD FFFD FFFD FFFD FFFD FFFD,
      FFFD FFFD FFFD FFFD FFFD FFFD }, /* U+FFFE/FFFF */
};

static void
test_escaping(void)
{
    for (size_t i = 0; i < XD_NELEM(escapes); i++) {
        size_t len = escapes[i].len ? escapes[i].len : strlen(escapes[i].in);
        xd_buf b = XD_BUF_INIT;

        xd_buf_append_text(&b, escapes[i].in, len);
        CHECK(b.data != NULL && strcmp(b.data, escapes[i].text) == 0 &&
                  b.len == strlen(escapes[i].text),
              "case %zu text(%s): got %s", i, escapes[i].in, b.data);
        xd_buf_reset(&b);
        xd_buf_append_attr(&b, escapes[i].in, len);
        CHECK(strcmp(b.data, escapes[i].attr) == 0 &&
                  b.len == strlen(escapes[i].attr),
              "case %zu attr(%s): got %s", i, escapes[i].in, b.data);
        xd_buf_free(&b);
    }
}

static void
test_growth(void)
{
    xd_buf b = XD_BUF_INIT;
    char want[16];

    for (int i = 0; i < 10000; i++)
        xd_buf_appendf(&b, "%d,", i);
    CHECK(b.len == strlen(b.data) && strncmp(b.data, "0,1,2,", 6) == 0 &&
              strcmp(b.data + b.len - 5, "9999,") == 0 && b.len < b.cap,
          "appendf grows (len %zu)", b.len);
    size_t cap = b.cap;
    xd_buf_reset(&b);
    CHECK(b.len == 0 && b.cap == cap && b.data[0] == '\0',
          "reset keeps the memory");
    /* A formatted string longer than the room left. */
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    xd_buf_append_str(&b, "<");
    xd_buf_appendf(&b, "%s%d", big, 42);
    snprintf(want, sizeof(want), "x%d", 42);
    CHECK(b.len == 1 + 999 + 2 && strcmp(b.data + b.len - 3, want) == 0,
          "a long appendf");
    xd_buf_append(&b, NULL, 0);
    CHECK(b.len == 1002, "appending nothing");
    char *s = xd_buf_steal(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && s[0] == '<',
          "steal empties the buffer");
    free(s);
    s = xd_buf_steal(&b);
    CHECK(s != NULL && s[0] == '\0', "stealing an empty buffer gives \"\"");
    free(s);
    xd_buf_append(&b, "abc", 3);
    CHECK(b.len == 3 && strcmp(b.data, "abc") == 0, "reusable after steal");
    xd_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0, "free empties");
    xd_buf_free(&b);
}

int
main(void)
{
    test_escaping();
    test_growth();
    return check_report();
}
