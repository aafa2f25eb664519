/*
 * libFuzzer target for the accept side of XEP-0114 (xmppd/component_link.c):
 * the stream header, the handshake (the input writes "$HANDSHAKE" for the
 * right one), conflicts between two links for the same domain, and the
 * stanzas a bound component routes, to client sessions too. The input
 * format and the checks are in fuzz_router.h; bytes before the first
 * segment go to component connection 4.
 */
#include "fuzz_router.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fr_init();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fr_run(data, size, FR_FIRST_COMP);
    return 0;
}
