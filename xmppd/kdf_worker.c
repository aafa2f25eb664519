/*
 * kdf_worker.c: one thread that derives SCRAM keys for the loop.
 *
 * The loop appends jobs to `todo` and signals `wake`; the thread takes one,
 * derives without the lock held, appends it to `done` and writes a byte to
 * a pipe, whose read event on the loop calls the callbacks. A job belongs
 * to the thread from the moment it leaves `todo` until it is on `done`; the
 * fields the loop changes meanwhile (`fn`, `arg` at cancellation) are never
 * read by the thread.
 */
#define XD_LOG_AREA "kdf"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include <xmppd/log.h>

#include "kdf_worker.h"

typedef unsigned char kdf_salt[32]; /* as xd_scram_creds.salt */

struct kdf_job {
    struct kdf_job *next;
    char *password; /* wiped and freed by the thread once used */
    struct kdf_request req[KDF_MAX_REQUESTS];
    kdf_salt salt[KDF_MAX_REQUESTS];
    xd_scram_creds out[KDF_MAX_REQUESTS];
    size_t n;
    int rc;
    kdf_done_fn *fn; /* loop only; NULL once called */
    void *arg;
};

struct kdf_list {
    struct kdf_job *head, *tail;
};

struct kdf_worker {
    struct event_base *base;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct kdf_list todo, done; /* under lock */
    int stop;                   /* under lock */
    int pipe[2];                /* the thread writes, the loop reads */
    struct event *ready;
    size_t pending; /* loop only */
    const unsigned long long *max_pending;
};

static void
list_push(struct kdf_list *l, struct kdf_job *j)
{
    j->next = NULL;
    if (l->tail != NULL)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static struct kdf_job *
list_take_all(struct kdf_list *l)
{
    struct kdf_job *j = l->head;

    l->head = l->tail = NULL;
    return j;
}

static void
wipe_password(struct kdf_job *j)
{
    if (j->password == NULL)
        return;
    OPENSSL_cleanse(j->password, strlen(j->password));
    free(j->password);
    j->password = NULL;
}

static void
job_free(struct kdf_job *j)
{
    wipe_password(j);
    OPENSSL_cleanse(j->out, sizeof(j->out));
    free(j);
}

/* --- the thread ---------------------------------------------------------- */

static void
derive(struct kdf_job *j)
{
    j->rc = 0;
    for (size_t i = 0; i < j->n && j->rc == 0; i++)
        j->rc = xd_scram_creds_make(j->req[i].hash, j->password, j->req[i].salt,
                                    j->req[i].salt_len, j->req[i].iterations,
                                    &j->out[i]);
    wipe_password(j);
}

static void *
worker_main(void *arg)
{
    struct kdf_worker *w = arg;

    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->stop && w->todo.head == NULL)
            pthread_cond_wait(&w->wake, &w->lock);
        if (w->stop)
            break;
        struct kdf_job *j = w->todo.head;
        w->todo.head = j->next;
        if (w->todo.head == NULL)
            w->todo.tail = NULL;
        pthread_mutex_unlock(&w->lock);

        derive(j);

        pthread_mutex_lock(&w->lock);
        list_push(&w->done, j);
        /* A full pipe already holds a wake-up: nothing is lost. */
        ssize_t rc = write(w->pipe[1], "", 1);
        (void)rc;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* --- the loop ------------------------------------------------------------ */

static void
ready_cb(evutil_socket_t fd, short what, void *arg)
{
    struct kdf_worker *w = arg;
    char drain[64];

    (void)what;
    while (read(fd, drain, sizeof(drain)) > 0)
        ;
    pthread_mutex_lock(&w->lock);
    struct kdf_job *j = list_take_all(&w->done);
    pthread_mutex_unlock(&w->lock);
    while (j != NULL) {
        struct kdf_job *next = j->next;
        w->pending--;
        if (j->fn != NULL)
            j->fn(j->rc, j->rc == 0 ? j->out : NULL, j->rc == 0 ? j->n : 0,
                  j->arg);
        job_free(j);
        j = next;
    }
}

int
kdf_worker_start(struct event_base *base, const unsigned long long *max_pending,
                 struct kdf_worker **out)
{
    struct kdf_worker *w = xd_xcalloc(1, sizeof(*w));

    w->base = base;
    w->max_pending = max_pending;
    w->pipe[0] = w->pipe[1] = -1;
    if (pipe(w->pipe) != 0 || fcntl(w->pipe[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(w->pipe[1], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(w->pipe[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(w->pipe[1], F_SETFD, FD_CLOEXEC) != 0) {
        xd_log_warn("key derivation worker: pipe");
        goto fail;
    }
    w->ready = event_new(base, w->pipe[0], EV_READ | EV_PERSIST, ready_cb, w);
    if (w->ready == NULL || event_add(w->ready, NULL) != 0) {
        xd_log_warnx("key derivation worker: cannot watch its pipe");
        goto fail;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
        errno = rc;
        xd_log_warn("key derivation worker: cannot start its thread");
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->wake);
        goto fail;
    }
    *out = w;
    return 0;
fail:
    if (w->ready != NULL)
        event_free(w->ready);
    if (w->pipe[0] >= 0)
        close(w->pipe[0]);
    if (w->pipe[1] >= 0)
        close(w->pipe[1]);
    free(w);
    return XD_EIO;
}

static void
drop_all(struct kdf_job *j)
{
    while (j != NULL) {
        struct kdf_job *next = j->next;
        if (j->fn != NULL)
            j->fn(XD_ESTATE, NULL, 0, j->arg);
        job_free(j);
        j = next;
    }
}

void
kdf_worker_stop(struct kdf_worker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    drop_all(list_take_all(&w->todo));
    drop_all(list_take_all(&w->done));
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    event_free(w->ready);
    close(w->pipe[0]);
    close(w->pipe[1]);
    free(w);
}

int
kdf_derive(struct kdf_worker *w, const char *password,
           const struct kdf_request *req, size_t n, kdf_done_fn *done,
           void *arg, struct kdf_job **job)
{
    if (password == NULL || n == 0 || n > KDF_MAX_REQUESTS || done == NULL)
        return XD_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (req[i].salt != NULL &&
            (req[i].salt_len == 0 || req[i].salt_len > sizeof(kdf_salt)))
            return XD_EINVAL;
    if (w->pending >= *w->max_pending)
        return XD_ELIMIT;
    struct kdf_job *j = xd_xcalloc(1, sizeof(*j));
    j->password = xd_xstrdup(password);
    j->n = n;
    for (size_t i = 0; i < n; i++) {
        j->req[i] = req[i];
        if (req[i].salt != NULL) {
            memcpy(j->salt[i], req[i].salt, req[i].salt_len);
            j->req[i].salt = j->salt[i];
        }
    }
    j->fn = done;
    j->arg = arg;
    w->pending++;
    pthread_mutex_lock(&w->lock);
    list_push(&w->todo, j);
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    if (job != NULL)
        *job = j;
    return 0;
}

void
kdf_cancel(struct kdf_job *job)
{
    if (job == NULL || job->fn == NULL)
        return;
    kdf_done_fn *fn = job->fn;
    job->fn = NULL;
    fn(XD_ESTATE, NULL, 0, job->arg);
}

size_t
kdf_pending(const struct kdf_worker *w)
{
    return w->pending;
}
