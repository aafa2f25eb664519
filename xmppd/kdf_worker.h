/*
 * kdf_worker.h: SCRAM key derivation (PBKDF2: `iterations` HMACs per key,
 * milliseconds to seconds) off the event loop. One worker thread takes the
 * jobs in order and hands each result back to the loop, where the caller's
 * callback runs. Like SQLite's WAL checkpointer it is the one exception to
 * the single thread of DESIGN.md: it shares nothing with the loop but the
 * two job lists under one mutex, and never touches the router.
 *
 * Used for password changes and registrations (register.c); SASL PLAIN can
 * check a password with it the same way (derive with the stored salt, then
 * compare with xd_memeq_ct).
 */
#ifndef XMPPD_KDF_WORKER_H
#define XMPPD_KDF_WORKER_H

#include <stddef.h>

#include <xmppd/scram.h>

struct event_base;
struct kdf_worker;
struct kdf_job;

/* One set of SCRAM keys to derive. salt NULL: a fresh random 16-byte salt
 * (new credentials); else salt_len bytes (at most 32), copied at
 * submission (checking a password against stored credentials). */
struct kdf_request {
    xd_scram_hash hash;
    const unsigned char *salt;
    size_t salt_len;
    unsigned iterations;
};

#define KDF_MAX_REQUESTS 2 /* requests in one job */

/*
 * Runs on the loop exactly once per job. rc 0: creds[i] answers request
 * i (n of them; borrowed for the call, wiped after it). rc XD_EINVAL or
 * XD_EIO: a derivation failed. rc XD_ESTATE: the job was cancelled or the
 * worker stopped; creds is NULL and only `arg` may be touched (to free it).
 */
typedef void kdf_done_fn(int rc, const xd_scram_creds *creds, size_t n,
                         void *arg);

/* Starts the thread; results come back through an event on `base`. At most
 * *max_pending jobs wait or run at once (read at each kdf_derive, so that a
 * configuration reload applies; it must outlive the worker). 0 and *out
 * owned by the caller, or XD_EIO (logged). */
int kdf_worker_start(struct event_base *base,
                     const unsigned long long *max_pending,
                     struct kdf_worker **out);
/* Stops and joins the thread (it finishes the derivation under way), then
 * calls every job's callback not yet called with XD_ESTATE and frees
 * everything. Call with the loop stopped. NULL is a no-op. */
void kdf_worker_stop(struct kdf_worker *w);

/*
 * Queues the derivation of n (1..KDF_MAX_REQUESTS) sets of keys from
 * `password` (already SASLprep-ed; copied, and the copy wiped once used).
 * Returns 0 and, if job is not NULL, a handle for kdf_cancel in *job, valid
 * until `done` runs; XD_ELIMIT when max_pending jobs are pending (nothing
 * queued, done not called); XD_EINVAL for bad arguments. Never blocks.
 */
int kdf_derive(struct kdf_worker *w, const char *password,
               const struct kdf_request *req, size_t n, kdf_done_fn *done,
               void *arg, struct kdf_job **job);
/* The caller's state is going away (its connection closed): `done` runs now
 * with XD_ESTATE, before this returns, and never again; the result, when it
 * comes, is thrown away. NULL is a no-op. */
void kdf_cancel(struct kdf_job *job);
/* Jobs queued or running (statistics). */
size_t kdf_pending(const struct kdf_worker *w);

#endif
