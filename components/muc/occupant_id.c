/*
 * occupant_id.c: XEP-0421 occupant identifiers: an HMAC of the room and the
 * occupant's real bare JID under the service's secret key, so the id is
 * stable for one user in one room and reveals nothing across rooms.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "muc.h"

void
muc_occupant_id(const struct muc_service *svc, const struct muc_room *room,
                const char *bare, char out[48])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    size_t rlen = strlen(room->jid), blen = strlen(bare);
    unsigned char *msg = xd_xmalloc(rlen + 1 + blen);

    memcpy(msg, room->jid, rlen);
    msg[rlen] = '\0';
    memcpy(msg + rlen + 1, bare, blen);
    HMAC(EVP_sha256(), svc->id_key, sizeof(svc->id_key), msg, rlen + 1 + blen,
         mac, &len);
    free(msg);
    /* 24 bytes of the MAC: 32 base64 characters, no padding. */
    EVP_EncodeBlock((unsigned char *)out, mac, 24);
}
