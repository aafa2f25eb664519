/*
 * db_batch.c: group commit. The stores that write on every stanza (the
 * archive, offline messages, last activity) open the loop turn's write
 * batch; one event, activated at that first write, commits it after the
 * turn's other events, before the loop waits for sockets again. Plain
 * sockets are written by an event of their own in the same turn, which may
 * run before that one: the streams' before_write hook commits first, so
 * nothing sent in a turn is written out before the turn's writes are
 * durable. One fsync-free COMMIT per turn instead of one per message.
 */
#define XD_LOG_AREA "db"
#include <time.h>

#include <event2/event.h>

#include <xmppd/log.h>
#include <xmppd/metrics.h>

#include "router.h"

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    db_batch_flush(arg);
}

int
db_batch_init(struct router *r)
{
    r->db_commit = event_new(r->base, -1, 0, commit_cb, r);
    return r->db_commit != NULL ? 0 : XD_EIO;
}

void
db_batch_write(struct router *r)
{
    if (xd_db_in_batch(r->db) || xd_db_batch_begin(r->db) != 0)
        return; /* without a batch each write commits on its own */
    event_active(r->db_commit, 0, 0);
}

void
db_batch_flush(struct router *r)
{
    struct timespec t0, t1;

    if (r->db == NULL || !xd_db_in_batch(r->db))
        return;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (xd_db_batch_end(r->db) != 0)
        xd_log_warnx("%s: a batch of writes was lost", r->conf.db_path);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (r->db_commit_s != NULL)
        xd_metrics_observe(r->db_commit_s,
                           (double)(t1.tv_sec - t0.tv_sec) +
                               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

void
db_batch_before_write(void *r)
{
    db_batch_flush(r);
}

void
db_batch_free(struct router *r)
{
    db_batch_flush(r);
    if (r->db_commit != NULL)
        event_free(r->db_commit);
    r->db_commit = NULL;
}
