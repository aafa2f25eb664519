/*
 * rsm.h: XEP-0059 result set management, the paging of long lists
 * (archives, room lists, items).
 */
#ifndef XMPPD_RSM_H
#define XMPPD_RSM_H

#include <xmppd/element.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XD_NS_RSM "http://jabber.org/protocol/rsm"

/* A request. Strings are borrowed from the element parsed. */
typedef struct xd_rsm {
    long max;           /* -1: not given */
    const char *after;  /* NULL: not given */
    const char *before; /* NULL: not given; "" asks for the last page */
    long index;         /* -1: not given */
} xd_rsm;

/* Reads the <set xmlns=rsm/> child of parent into out (all fields "not
 * given" when there is none). 0, or XD_EINVAL for a max or index that is not
 * a non-negative integer. */
int xd_rsm_parse(const xd_elem *parent, xd_rsm *out);
/* Adds <set><first index=>..</first><last/><count/></set> to parent. first
 * and last NULL: an empty page (only <count/>); count < 0 leaves it out;
 * first_index < 0 leaves the index attribute out. Returns the set. */
xd_elem *xd_rsm_add_result(xd_elem *parent, const char *first, long first_index,
                           const char *last, long count);

#ifdef __cplusplus
}
#endif
#endif
