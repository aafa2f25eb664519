/*
 * base64.h: RFC 4648 base64, as SASL (RFC 6120 6.4.2) uses it.
 */
#ifndef XMPPD_BASE64_H
#define XMPPD_BASE64_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Encodes len bytes; returns a NUL-terminated string the caller frees. */
char *xd_base64_encode(const void *data, size_t len);
/* Decodes strictly (padding required, no whitespace, no junk). On success
 * returns 0 and stores a malloc()ed buffer (NUL-terminated for convenience)
 * in *out and its length in *outlen; otherwise XD_EINVAL. "" decodes to an
 * empty buffer. */
int xd_base64_decode(const char *in, size_t inlen, unsigned char **out,
                     size_t *outlen);

#ifdef __cplusplus
}
#endif
#endif
