/*
 * cert.c: xmppdctl cert import DIR: installs a certificate as certbot
 * leaves it (DIR/fullchain.pem and DIR/privkey.pem, where DIR is
 * /etc/letsencrypt/live/HOST, or live/ itself with a folder per host),
 * then asks the running xmppd to reload. With tls_cert_dir it goes to
 * tls_cert_dir/HOST/ (fullchain.pem, privkey.pem: the layout the router
 * reads there); without, it replaces tls_cert and tls_key. The pair is
 * checked first (the key belongs to the certificate, which has not
 * expired), and each file is written beside its name and renamed into
 * place, so xmppd never reads half a file or a key that does not match. A
 * file replaced keeps its owner, group and mode (a key's never more open
 * than 0640); a new key is mode 0640
 * with the group of tls_cert_dir (root:xmppd in the installed layout: the
 * service reads it, nobody else), or 0600. Meant for certbot's deploy
 * hook, which runs as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ctl.h"
#include "remote.h"

/* DIR itself when it holds fullchain.pem, else DIR/HOST for the first
 * served host that has one. 0 and the folder in out, or 1. */
static int
find_live(struct ctl *c, const char *dir, char *out, size_t size)
{
    char path[4200];

    snprintf(path, sizeof(path), "%s/fullchain.pem", dir);
    if (access(path, R_OK) == 0) {
        snprintf(out, size, "%s", dir);
        return 0;
    }
    char *hosts = xd_xstrdup(c->conf.hosts), *save = NULL;
    int rc = 1;
    for (char *h = strtok_r(hosts, " \t,", &save); h && rc;
         h = strtok_r(NULL, " \t,", &save)) {
        snprintf(path, sizeof(path), "%s/%s/fullchain.pem", dir, h);
        if (access(path, R_OK) == 0) {
            snprintf(out, size, "%s/%s", dir, h);
            rc = 0;
        }
    }
    free(hosts);
    if (rc)
        fprintf(stderr,
                "xmppdctl: cert import: no fullchain.pem in %s nor in "
                "%s/HOST for a served host\n",
                dir, dir);
    return rc;
}

/* The whole file in memory (the caller frees), or NULL. */
static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (1 << 20) &&
        fseek(f, 0, SEEK_SET) == 0) {
        data = xd_xmalloc((size_t)n + 1);
        if (fread(data, 1, (size_t)n, f) != (size_t)n) {
            free(data);
            data = NULL;
        } else {
            *len = (size_t)n;
        }
    }
    fclose(f);
    return data;
}

/* The first certificate of the chain belongs to the key and is in date. */
static int
pair_ok(const char *chain, size_t chain_len, const char *key, size_t key_len)
{
    BIO *cb = BIO_new_mem_buf(chain, (int)chain_len);
    BIO *kb = BIO_new_mem_buf(key, (int)key_len);
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    int ok = 0;

    if (x == NULL || k == NULL)
        fprintf(stderr, "xmppdctl: cert import: the certificate or the key "
                        "cannot be read\n");
    else if (X509_check_private_key(x, k) != 1)
        fprintf(stderr, "xmppdctl: cert import: privkey.pem does not belong "
                        "to fullchain.pem\n");
    else if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
        fprintf(stderr, "xmppdctl: cert import: the certificate has "
                        "expired\n");
    else
        ok = 1;
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    return ok;
}

/* Writes data to path.new, then renames it over path. The new file takes
 * the owner, group and mode (within `mask`) of the one it replaces, else
 * `mode` and the group `gid` (-1: the caller's). */
static int
install(const char *path, const char *data, size_t len, mode_t mode,
        mode_t mask, gid_t gid)
{
    char tmp[4200];
    struct stat old;
    uid_t uid = (uid_t)-1;
    int fd, ok;

    if (stat(path, &old) == 0) {
        mode = old.st_mode & mask;
        uid = old.st_uid;
        gid = old.st_gid;
    }
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    unlink(tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        fprintf(stderr, "xmppdctl: cert import: %s: %s\n", tmp,
                strerror(errno));
        return 1;
    }
    /* Owner first, then the mode: the key is never readable by a group it
     * is not meant for, not even for a moment. */
    ok = (uid == (uid_t)-1 && gid == (gid_t)-1) || fchown(fd, uid, gid) == 0;
    ok = ok && fchmod(fd, mode) == 0;
    ok = ok && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "xmppdctl: cert import: %s: %s\n", path,
                strerror(errno));
        unlink(tmp);
        return 1;
    }
    return 0;
}

/* Where the pair goes: tls_cert_dir/HOST/, or tls_cert and tls_key. */
static int
destination(struct ctl *c, const char *live, char *cert, char *key, size_t size,
            gid_t *gid)
{
    const char *dir = c->conf.tls_cert_dir;
    struct stat st;

    *gid = (gid_t)-1;
    if (dir != NULL && *dir != '\0') {
        const char *host = strrchr(live, '/') ? strrchr(live, '/') + 1 : live;
        char folder[4096];
        if (stat(dir, &st) != 0) {
            fprintf(stderr, "xmppdctl: cert import: tls_cert_dir %s: %s\n", dir,
                    strerror(errno));
            return 1;
        }
        int n = snprintf(folder, sizeof(folder), "%s/%s", dir, host);
        /* A new host folder is like tls_cert_dir's: the service's group
         * reads it, nobody else. */
        if (n < 0 || (size_t)n >= sizeof(folder) ||
            (mkdir(folder, 0750) == 0 &&
             chown(folder, (uid_t)-1, st.st_gid) != 0) ||
            (access(folder, F_OK) != 0)) {
            fprintf(stderr, "xmppdctl: cert import: %s: %s\n", folder,
                    strerror(errno));
            return 1;
        }
        snprintf(cert, size, "%s/fullchain.pem", folder);
        snprintf(key, size, "%s/privkey.pem", folder);
        *gid = st.st_gid;
        return 0;
    }
    if (c->conf.tls_cert == NULL || c->conf.tls_key == NULL) {
        fprintf(stderr, "xmppdctl: cert import: set tls_cert_dir (or "
                        "tls_cert and tls_key) in [xmppd] first: the files "
                        "are written there\n");
        return 1;
    }
    snprintf(cert, size, "%s", c->conf.tls_cert);
    snprintf(key, size, "%s", c->conf.tls_key);
    return 0;
}

int
ctl_cmd_cert(struct ctl *c, int argc, char **argv)
{
    char live[4096], path[4200], cert[4200], key_path[4200];
    char *chain = NULL, *key = NULL;
    size_t chain_len = 0, key_len = 0;
    gid_t gid;
    int rc = 1;

    if (argc != 3 || strcmp(argv[1], "import") != 0)
        return 2;
    if (find_live(c, argv[2], live, sizeof(live)) != 0)
        return 1;
    snprintf(path, sizeof(path), "%s/fullchain.pem", live);
    chain = slurp(path, &chain_len);
    snprintf(path, sizeof(path), "%s/privkey.pem", live);
    key = slurp(path, &key_len);
    if (chain == NULL || key == NULL) {
        fprintf(stderr,
                "xmppdctl: cert import: cannot read fullchain.pem "
                "and privkey.pem in %s\n",
                live);
        goto done;
    }
    if (!pair_ok(chain, chain_len, key, key_len) ||
        destination(c, live, cert, key_path, sizeof(cert), &gid) != 0)
        goto done;
    /* The key first: a certificate whose key is not there yet would fail
     * a reload that came in between. */
    mode_t key_mode = gid == (gid_t)-1 ? 0600 : 0640;
    if (install(key_path, key, key_len, key_mode, 0640, gid) != 0 ||
        install(cert, chain, chain_len, 0644, 07777, gid) != 0)
        goto done;
    printf("%s imported as %s and %s\n", live, cert, key_path);
    xd_buf out = { 0 };
    int answer = ctl_remote_query(c->conf.control_socket, "reload", &out);
    if (answer == CTL_REMOTE_OK)
        printf("xmppd reloaded its configuration\n");
    else if (answer == CTL_REMOTE_DOWN)
        printf("xmppd is not running: it reads them when it starts\n");
    else
        fprintf(stderr, "xmppdctl: cert import: %.*s", (int)out.len,
                out.len ? out.data : "xmppd did not answer the reload\n");
    xd_buf_free(&out);
    rc = answer == CTL_REMOTE_ERROR;
done:
    if (key != NULL)
        explicit_bzero(key, key_len);
    free(key);
    free(chain);
    return rc;
}
