/*  af_keys — CURVE key files, allow-list and rotation (see af_keys.h).  */
#include "af_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "af_log.h"

struct af_allowlist {
    char dir[512];
    zcertstore_t *store;
    af_keyfile_t stamp;      /* the directory itself: entries added or removed */
    uint64_t content_sig;    /* names, sizes and mtimes of its files */
    size_t size;             /* public keys loaded */
};

static bool
s_name_ok (const char *name)
{
    if (!name || !*name || strlen (name) > 128 || name[0] == '.')
        return false;
    for (const char *c = name; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
                  || *c == '-' || *c == '_' || *c == '.';
        if (!ok)
            return false;
    }
    return true;
}

/* Creates PATH empty with mode 0600 (or truncates it when FORCE), so that the
 * secret is never written into a file others could read, even for a moment. */
static int
s_create_private (const char *path, bool force, char *err, size_t err_len)
{
    int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL);
    int fd = open (path, flags, AF_KEYS_SECRET_MODE);
    if (fd < 0) {
        snprintf (err, err_len, "%s: %s", path,
                  errno == EEXIST ? "exists (use --force to replace it)" : strerror (errno));
        return -1;
    }
    /* An existing file keeps its old mode through O_TRUNC: set it. */
    int rc = fchmod (fd, AF_KEYS_SECRET_MODE);
    close (fd);
    if (rc != 0) {
        snprintf (err, err_len, "%s: chmod: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

int
af_keys_generate (const char *dir, const char *name, bool force, char public_txt[41], char *err,
                  size_t err_len)
{
    if (!s_name_ok (name)) {
        snprintf (err, err_len, "bad key name '%s': use letters, digits, '-', '_' and '.'",
                  name ? name : "");
        return -1;
    }
    char pub_path[600], sec_path[600];
    snprintf (pub_path, sizeof pub_path, "%s/%s" AF_KEYS_PUBLIC_SUFFIX, dir, name);
    snprintf (sec_path, sizeof sec_path, "%s/%s" AF_KEYS_SECRET_SUFFIX, dir, name);
    struct stat st;
    if (stat (dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
        snprintf (err, err_len, "%s: not a directory", dir);
        return -1;
    }
    if (!force && access (pub_path, F_OK) == 0) {
        snprintf (err, err_len, "%s: exists (use --force to replace it)", pub_path);
        return -1;
    }
    if (s_create_private (sec_path, force, err, err_len) != 0)
        return -1;
    zcert_t *cert = zcert_new ();
    if (!cert) {
        snprintf (err, err_len, "cannot create a key pair");
        goto fail;
    }
    zcert_set_meta (cert, "name", "%s", name);
    /* zcert writes with fopen("w"), which keeps the 0600 mode set above. */
    if (zcert_save_secret (cert, sec_path) != 0 || zcert_save_public (cert, pub_path) != 0) {
        snprintf (err, err_len, "%s: cannot write the key pair", dir);
        goto fail;
    }
    if (af_keys_check_secret (sec_path, err, err_len) != 0)
        goto fail;
    if (public_txt)
        snprintf (public_txt, 41, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
    return 0;
fail:
    zcert_destroy (&cert);
    unlink (sec_path);
    return -1;
}

int
af_keys_check_secret (const char *path, char *err, size_t err_len)
{
    struct stat st;
    if (stat (path, &st) != 0) {
        snprintf (err, err_len, "%s: %s", path, strerror (errno));
        return -1;
    }
    if (!S_ISREG (st.st_mode)) {
        snprintf (err, err_len, "%s: not a regular file", path);
        return -1;
    }
    if (st.st_mode & AF_KEYS_SECRET_FORBIDDEN) {
        snprintf (err, err_len, "%s: secret key open to group or others (mode %04o); chmod 600 it",
                  path, (unsigned) (st.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* zcert_load reads NAME_secret when it exists, so load the exact file. */
static zcert_t *
s_load_exact (const char *path, bool want_secret, char *err, size_t err_len)
{
    zconfig_t *cfg = zconfig_load (path);
    if (!cfg) {
        snprintf (err, err_len, "%s: cannot read a key file", path);
        return NULL;
    }
    const char *pub = zconfig_get (cfg, "/curve/public-key", NULL);
    const char *sec = zconfig_get (cfg, "/curve/secret-key", NULL);
    zcert_t *cert = NULL;
    if (!pub || strlen (pub) != 40)
        snprintf (err, err_len, "%s: no valid curve/public-key", path);
    else if (want_secret && (!sec || strlen (sec) != 40))
        snprintf (err, err_len, "%s: no valid curve/secret-key", path);
    else {
        uint8_t pub_bin[32], sec_bin[32] = { 0 };
        if (!zmq_z85_decode (pub_bin, pub) || (want_secret && !zmq_z85_decode (sec_bin, sec)))
            snprintf (err, err_len, "%s: key is not valid Z85", path);
        else
            cert = zcert_new_from (pub_bin, sec_bin);
        sodium_memzero (sec_bin, sizeof sec_bin);
    }
    zconfig_destroy (&cfg);
    return cert;
}

zcert_t *
af_keys_load_secret (const char *path, char *err, size_t err_len)
{
    if (af_keys_check_secret (path, err, err_len) != 0)
        return NULL;
    return s_load_exact (path, true, err, err_len);
}

zcert_t *
af_keys_load_public (const char *path, char *err, size_t err_len)
{
    return s_load_exact (path, false, err, err_len);
}

/* ------------------------------------------------------------ rotation */

static void
s_stat_into (af_keyfile_t *kf)
{
    struct stat st;
    if (stat (kf->path, &st) != 0) {
        kf->present = false;
        kf->dev = kf->ino = kf->size = 0;
        kf->mtime_ns = 0;
        return;
    }
    kf->present = true;
    kf->dev = st.st_dev;
    kf->ino = st.st_ino;
    kf->size = (uint64_t) st.st_size;
    kf->mtime_ns = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

void
af_keyfile_watch (af_keyfile_t *kf, const char *path)
{
    memset (kf, 0, sizeof *kf);
    snprintf (kf->path, sizeof kf->path, "%s", path);
    s_stat_into (kf);
}

bool
af_keyfile_changed (af_keyfile_t *kf)
{
    af_keyfile_t now = *kf;
    s_stat_into (&now);
    bool changed = now.present != kf->present || now.dev != kf->dev || now.ino != kf->ino
                   || now.size != kf->size || now.mtime_ns != kf->mtime_ns;
    *kf = now;
    return changed;
}

/* ---------------------------------------------------------- allow-list */

/* A signature of the directory's files (name, size, mtime in ns): zcertstore
 * notices changes by whole seconds only, so a key replaced within the second
 * it was written would go unseen; this does not miss it. */
static uint64_t
s_dir_signature (const char *dir)
{
    zdir_t *d = zdir_new (dir, NULL);
    if (!d)
        return 0;
    uint64_t h = 1469598103934665603ull;
    zfile_t **files = zdir_flatten (d);
    for (size_t i = 0; files && files[i]; i++) {
        struct stat st;
        const char *p = zfile_filename (files[i], NULL);
        if (stat (p, &st) != 0)
            continue;
        for (const char *c = p; *c; c++)
            h = (h ^ (unsigned char) *c) * 1099511628211ull;
        uint64_t v[2] = { (uint64_t) st.st_size,
                          (uint64_t) st.st_mtim.tv_sec * 1000000000ull + st.st_mtim.tv_nsec };
        for (int k = 0; k < 2; k++)
            h = (h ^ v[k]) * 1099511628211ull;
    }
    zdir_flatten_free (&files);
    zdir_destroy (&d);
    return h;
}

/* Rebuilds the in-memory store from DIR's public key files (*.key; secret
 * files are never read from an allow-list) when the directory changed.  A
 * file that is not a valid key is skipped with a log line, once per change. */
static void
s_reload_if_changed (af_allowlist_t *self)
{
    uint64_t sig = s_dir_signature (self->dir);
    if (self->store && sig == self->content_sig)
        return;
    zcertstore_t *fresh = zcertstore_new (NULL);
    zdir_t *d = zdir_new (self->dir, NULL);
    if (!fresh || !d) {
        zcertstore_destroy (&fresh);
        zdir_destroy (&d);
        return;
    }
    size_t n = 0;
    zfile_t **files = zdir_flatten (d);
    for (size_t i = 0; files && files[i]; i++) {
        const char *p = zfile_filename (files[i], NULL);
        size_t len = strlen (p), sl = strlen (AF_KEYS_PUBLIC_SUFFIX);
        if (len < sl || strcmp (p + len - sl, AF_KEYS_PUBLIC_SUFFIX) != 0)
            continue;
        char err[600];
        zcert_t *cert = af_keys_load_public (p, err, sizeof err);
        if (!cert) {
            af_warn ("allow-list: skipped %s", err);
            continue;
        }
        if (!zcertstore_lookup (fresh, zcert_public_txt (cert)))
            n++;
        zcertstore_insert (fresh, &cert);
        zcert_destroy (&cert);
    }
    zdir_flatten_free (&files);
    zdir_destroy (&d);
    zcertstore_destroy (&self->store);
    self->store = fresh;
    self->content_sig = sig;
    self->size = n;
}

af_allowlist_t *
af_allowlist_new (const char *dir, char *err, size_t err_len)
{
    struct stat st;
    if (!dir || stat (dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
        snprintf (err, err_len, "%s: allow-list is not a directory", dir ? dir : "(null)");
        return NULL;
    }
    af_allowlist_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "out of memory");
        return NULL;
    }
    snprintf (self->dir, sizeof self->dir, "%s", dir);
    s_reload_if_changed (self);
    if (!self->store) {
        snprintf (err, err_len, "%s: cannot read the allow-list", dir);
        af_allowlist_destroy (&self);
    }
    return self;
}

void
af_allowlist_destroy (af_allowlist_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zcertstore_destroy (&(*self_p)->store);
    free (*self_p);
    *self_p = NULL;
}

bool
af_allowlist_allows (af_allowlist_t *self, const char *public_txt)
{
    if (!self || !public_txt || strlen (public_txt) != 40)
        return false;
    s_reload_if_changed (self);
    return self->store && zcertstore_lookup (self->store, public_txt) != NULL;
}

size_t
af_allowlist_size (af_allowlist_t *self)
{
    s_reload_if_changed (self);
    return self->size;
}

const char *
af_allowlist_dir (const af_allowlist_t *self)
{
    return self->dir;
}
