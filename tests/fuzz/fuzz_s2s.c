/*
 * libFuzzer target for incoming server-to-server streams (xmppd/s2s_in.c,
 * with dialback.c and the outgoing side it asks to verify keys): the
 * stream header and its host, STARTTLS, <db:result/> and <db:verify/>, and
 * stanzas from domains that did or did not authenticate, to client
 * sessions too. The input format and the checks are in fuzz_router.h;
 * bytes before the first segment go to s2s connection 4.
 */
#include "fuzz_router.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fr_init();
    fr.s2s = 1;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fr_run(data, size, FR_FIRST_COMP);
    return 0;
}
