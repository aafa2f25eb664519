/*
 * libFuzzer target for the JID parser: whatever parses must give the same
 * JID when its string form is parsed again, and XEP-0106 escaping must
 * round-trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/jid.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    xd_jid *j = NULL, *again = NULL;
    char *esc = NULL;

    memcpy(s, data, size);
    s[size] = '\0';
    if (xd_jid_parse(s, &j) == 0) {
        if (xd_jid_parse(xd_jid_str(j), &again) != 0 || !xd_jid_equal(j, again))
            abort();
        xd_jid *bare = xd_jid_bare(j);
        if (!xd_jid_is_bare(bare) || !xd_jid_bare_equal(bare, j))
            abort();
        xd_jid_free(bare);
    }
    if (xd_jid_escape(s, &esc) == 0) {
        char *back = xd_jid_unescape(esc);
        if (strcmp(back, s) != 0)
            abort();
        free(back);
        free(esc);
    }
    xd_jid_free(j);
    xd_jid_free(again);
    free(s);
    return 0;
}
