/*
 * libFuzzer target for client sessions as a whole: stream headers,
 * STARTTLS, SASL, resource binding, stanzas, XEP-0198 (enable, <r/>, <a/>,
 * <resume/> from another connection) and several sessions of the same
 * accounts at once, through the router's socket transport. The input
 * format and the checks are in fuzz_router.h; bytes before the first
 * segment go to client connection 0.
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
    fr_run(data, size, 0);
    return 0;
}
