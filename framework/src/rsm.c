/*
 * rsm.c: XEP-0059 result set management: reading a request's <set/> and
 * writing the <set/> that describes the page returned.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <xmppd/rsm.h>

/* A non-negative decimal integer that fits a long, digits only. */
static int
parse_count(const char *s, long *out)
{
    long n = 0;

    if (*s == '\0')
        return XD_EINVAL;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return XD_EINVAL;
        long d = *s - '0';
        if (n > (LONG_MAX - d) / 10)
            return XD_EINVAL;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

int
xd_rsm_parse(const xd_elem *parent, xd_rsm *out)
{
    const xd_elem *set;
    const char *s;

    out->max = -1;
    out->after = NULL;
    out->before = NULL;
    out->index = -1;
    if (parent == NULL ||
        (set = xd_elem_child(parent, "set", XD_NS_RSM)) == NULL)
        return 0;
    if ((s = xd_elem_child_text(set, "max", XD_NS_RSM)) != NULL &&
        parse_count(s, &out->max) != 0)
        return XD_EINVAL;
    if ((s = xd_elem_child_text(set, "index", XD_NS_RSM)) != NULL &&
        parse_count(s, &out->index) != 0)
        return XD_EINVAL;
    out->after = xd_elem_child_text(set, "after", XD_NS_RSM);
    out->before = xd_elem_child_text(set, "before", XD_NS_RSM);
    return 0;
}

xd_elem *
xd_rsm_add_result(xd_elem *parent, const char *first, long first_index,
                  const char *last, long count)
{
    xd_elem *set = xd_elem_add_child(parent, "set", XD_NS_RSM);
    char num[24];

    if (first != NULL) {
        xd_elem *f = xd_elem_set_child_text(set, "first", XD_NS_RSM, first);
        if (first_index >= 0) {
            snprintf(num, sizeof(num), "%ld", first_index);
            xd_elem_set_attr(f, "index", num);
        }
    }
    if (last != NULL)
        xd_elem_set_child_text(set, "last", XD_NS_RSM, last);
    if (count >= 0) {
        snprintf(num, sizeof(num), "%ld", count);
        xd_elem_set_child_text(set, "count", XD_NS_RSM, num);
    }
    return set;
}
