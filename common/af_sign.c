/*  af_sign — Ed25519 signed commands and their verifier (see af_sign.h).  */
#include "af_sign.h"
#include "af_config.h"
#include "af_keys.h"
#include "af_topic.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_DOMAIN "autofab-cmd-v1"
#define S_MAX_OPERATORS 256
#define S_MAX_PERMISSIONS 32
#define S_PUBLIC_LABEL "ed25519-public-key"
#define S_SECRET_LABEL "ed25519-secret-key"

typedef struct {
    char name[64];
    uint8_t pk[AF_SIGN_PK_BYTES];
    char patterns[S_MAX_PERMISSIONS][128];
    size_t n;
} s_operator_t;

struct af_verifier {
    uint64_t window_ns;
    size_t nonce_cap;
    zhashx_t *nonces;        /* hex nonce -> expiry (ns, as a pointer-sized integer) */
    s_operator_t ops[S_MAX_OPERATORS];
    size_t n_ops;
};

static const char *const s_results[AF_VERIFY_RESULTS] = {
    "accepted", "unknown key", "not permitted", "bad signature", "outside the freshness window",
    "replayed", "nonce cache full",
};

const char *
af_verify_str (af_verify_t result)
{
    return result < AF_VERIFY_RESULTS ? s_results[result] : "?";
}

/* ------------------------------------------------------------ key files */

static int
s_write_key (int fd, const char *label, const uint8_t *key, size_t len)
{
    char b64[sodium_base64_ENCODED_LEN (AF_SIGN_SK_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64 (b64, sizeof b64, key, len, sodium_base64_VARIANT_ORIGINAL);
    char line[256];
    int n = snprintf (line, sizeof line, "# autofab operator signing key (Ed25519)\n%s = %s\n", label, b64);
    sodium_memzero (b64, sizeof b64);
    bool ok = n > 0 && write (fd, line, (size_t) n) == n;
    sodium_memzero (line, sizeof line);
    return ok ? 0 : -1;
}

int
af_sign_keygen (const char *dir, const char *name, bool force, char *err, size_t err_len)
{
    if (!name || !*name || strchr (name, '/') || name[0] == '.') {
        snprintf (err, err_len, "bad key name '%s'", name ? name : "");
        return -1;
    }
    char pub[600], sec[600];
    snprintf (pub, sizeof pub, "%s/%s" AF_SIGN_PUBLIC_SUFFIX, dir, name);
    snprintf (sec, sizeof sec, "%s/%s" AF_SIGN_SECRET_SUFFIX, dir, name);
    int excl = force ? O_TRUNC : O_EXCL;
    int fs = open (sec, O_WRONLY | O_CREAT | O_NOFOLLOW | excl, 0600);
    if (fs < 0) {
        snprintf (err, err_len, "%s: %s", sec, errno == EEXIST ? "exists (use --force)" : strerror (errno));
        return -1;
    }
    int fp = open (pub, O_WRONLY | O_CREAT | O_NOFOLLOW | excl, 0644);
    if (fp < 0) {
        snprintf (err, err_len, "%s: %s", pub, errno == EEXIST ? "exists (use --force)" : strerror (errno));
        close (fs);
        unlink (sec);
        return -1;
    }
    uint8_t pk[AF_SIGN_PK_BYTES], sk[AF_SIGN_SK_BYTES];
    crypto_sign_keypair (pk, sk);
    int rc = fchmod (fs, 0600) == 0 && s_write_key (fs, S_SECRET_LABEL, sk, sizeof sk) == 0
                     && s_write_key (fp, S_PUBLIC_LABEL, pk, sizeof pk) == 0
                 ? 0
                 : -1;
    sodium_memzero (sk, sizeof sk);
    close (fs);
    close (fp);
    if (rc != 0) {
        snprintf (err, err_len, "%s: cannot write the key pair", dir);
        unlink (sec);
        unlink (pub);
    }
    return rc;
}

/* Reads "LABEL = base64" from PATH into OUT (LEN bytes exactly). */
static int
s_read_key (const char *path, const char *label, uint8_t *out, size_t len, char *err, size_t err_len)
{
    char text[1024];
    FILE *f = fopen (path, "r");
    if (!f) {
        snprintf (err, err_len, "%s: %s", path, strerror (errno));
        return -1;
    }
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text[n] = 0;
    char *at = strstr (text, label);
    at = at ? strchr (at, '=') : NULL;
    size_t got = 0;
    int rc = -1;
    if (at) {
        at++;
        while (*at == ' ')
            at++;
        size_t b64_len = strcspn (at, " \r\n");
        rc = sodium_base642bin (out, len, at, b64_len, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL);
    }
    sodium_memzero (text, sizeof text);
    if (rc != 0 || got != len) {
        snprintf (err, err_len, "%s: no valid %s", path, label);
        return -1;
    }
    return 0;
}

int
af_sign_load_secret (const char *path, uint8_t sk[AF_SIGN_SK_BYTES], char *err, size_t err_len)
{
    if (af_keys_check_secret (path, err, err_len) != 0)
        return -1;
    return s_read_key (path, S_SECRET_LABEL, sk, AF_SIGN_SK_BYTES, err, err_len);
}

int
af_sign_load_public (const char *path, uint8_t pk[AF_SIGN_PK_BYTES], char *err, size_t err_len)
{
    return s_read_key (path, S_PUBLIC_LABEL, pk, AF_SIGN_PK_BYTES, err, err_len);
}

/* ------------------------------------------------------------ signing */

/* Feeds the signed fields to an Ed25519ph state (no copy of the body). */
static void
s_digest (crypto_sign_state *st, const af_signature_t *sig, const char *command, const void *body,
          size_t len)
{
    uint8_t t[8], cl[2];
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t) (sig->issued_ns >> (56 - 8 * i));
    size_t clen = strlen (command);
    cl[0] = (uint8_t) (clen >> 8);
    cl[1] = (uint8_t) clen;
    crypto_sign_init (st);
    crypto_sign_update (st, (const uint8_t *) S_DOMAIN, sizeof S_DOMAIN);
    crypto_sign_update (st, sig->signer, sizeof sig->signer);
    crypto_sign_update (st, t, sizeof t);
    crypto_sign_update (st, sig->nonce, sizeof sig->nonce);
    crypto_sign_update (st, cl, sizeof cl);
    crypto_sign_update (st, (const uint8_t *) command, clen);
    if (len)
        crypto_sign_update (st, body, len);
}

void
af_sign_command (const uint8_t sk[AF_SIGN_SK_BYTES], const char *command, const void *body,
                 size_t len, uint64_t now_ns, af_signature_t *out)
{
    memset (out, 0, sizeof *out);
    crypto_sign_ed25519_sk_to_pk (out->signer, sk);
    out->issued_ns = now_ns;
    randombytes_buf (out->nonce, sizeof out->nonce);
    crypto_sign_state st;
    s_digest (&st, out, command, body, len);
    crypto_sign_final_create (&st, out->sig, NULL, sk);
}

/* ------------------------------------------------------------ verifying */

af_verifier_t *
af_verifier_new (uint64_t window_ns, size_t nonce_cap)
{
    af_verifier_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->window_ns = window_ns ? window_ns : AF_SIGN_WINDOW_NS;
    self->nonce_cap = nonce_cap ? nonce_cap : AF_SIGN_NONCE_CAP;
    self->nonces = zhashx_new ();
    if (!self->nonces || sodium_init () < 0)
        af_verifier_destroy (&self);
    return self;
}

void
af_verifier_destroy (af_verifier_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhashx_destroy (&(*self_p)->nonces);
    free (*self_p);
    *self_p = NULL;
}

int
af_verifier_add (af_verifier_t *self, const char *name, const uint8_t pk[AF_SIGN_PK_BYTES],
                 const char *const *patterns, size_t n, char *err, size_t err_len)
{
    if (!name || !*name || strlen (name) >= sizeof self->ops[0].name || self->n_ops == S_MAX_OPERATORS
        || n > S_MAX_PERMISSIONS) {
        snprintf (err, err_len, "operator '%s': bad name or too many operators or permissions",
                  name ? name : "");
        return -1;
    }
    for (size_t i = 0; i < self->n_ops; i++)
        if (strcmp (self->ops[i].name, name) == 0 || sodium_memcmp (self->ops[i].pk, pk, AF_SIGN_PK_BYTES) == 0) {
            snprintf (err, err_len, "operator '%s': name or key listed twice", name);
            return -1;
        }
    s_operator_t *op = &self->ops[self->n_ops];
    memset (op, 0, sizeof *op);
    for (size_t i = 0; i < n; i++) {
        if (!patterns[i] || strlen (patterns[i]) >= sizeof op->patterns[0]
            || !af_topic_pattern_valid (patterns[i])) {
            snprintf (err, err_len, "operator '%s': bad permission pattern '%s'", name,
                      patterns[i] ? patterns[i] : "");
            return -1;
        }
        snprintf (op->patterns[i], sizeof op->patterns[i], "%s", patterns[i]);
    }
    op->n = n;
    snprintf (op->name, sizeof op->name, "%s", name);
    memcpy (op->pk, pk, AF_SIGN_PK_BYTES);
    self->n_ops++;
    return 0;
}

/* Forgets nonces whose window has passed; true if there is room now. */
static bool
s_nonce_room (af_verifier_t *self, uint64_t now_ns)
{
    if (zhashx_size (self->nonces) < self->nonce_cap)
        return true;
    zlistx_t *keys = zhashx_keys (self->nonces);
    for (const char *k = zlistx_first (keys); k; k = zlistx_next (keys)) {
        uint64_t expiry = (uint64_t) (uintptr_t) zhashx_lookup (self->nonces, k);
        if (expiry <= now_ns)
            zhashx_delete (self->nonces, k);
    }
    zlistx_destroy (&keys);
    return zhashx_size (self->nonces) < self->nonce_cap;
}

static af_verify_t
s_refuse (af_verify_t r, const char *who, const char *command, char *why, size_t why_len)
{
    snprintf (why, why_len, "command %s refused: %s%s%s", command, af_verify_str (r),
              who ? " (operator " : "", who ? who : "");
    if (who)
        strncat (why, ")", why_len - strlen (why) - 1);
    return r;
}

af_verify_t
af_verifier_check (af_verifier_t *self, const char *command, const void *body, size_t len,
                   const af_signature_t *sig, uint64_t now_ns, const char **operator, char *why,
                   size_t why_len)
{
    const s_operator_t *op = NULL;
    for (size_t i = 0; i < self->n_ops && !op; i++)
        if (sodium_memcmp (self->ops[i].pk, sig->signer, AF_SIGN_PK_BYTES) == 0)
            op = &self->ops[i];
    if (!op)
        return s_refuse (AF_VERIFY_UNKNOWN_KEY, NULL, command, why, why_len);
    bool allowed = false;
    for (size_t i = 0; i < op->n && !allowed; i++)
        allowed = af_topic_match (op->patterns[i], command, strlen (command));
    if (!allowed)
        return s_refuse (AF_VERIFY_NOT_PERMITTED, op->name, command, why, why_len);
    crypto_sign_state st;
    s_digest (&st, sig, command, body, len);
    if (crypto_sign_final_verify (&st, sig->sig, op->pk) != 0)
        return s_refuse (AF_VERIFY_BAD_SIGNATURE, op->name, command, why, why_len);
    uint64_t age = now_ns > sig->issued_ns ? now_ns - sig->issued_ns : sig->issued_ns - now_ns;
    if (age > self->window_ns)
        return s_refuse (AF_VERIFY_STALE, op->name, command, why, why_len);
    char key[2 * AF_SIGN_NONCE_BYTES + 1];
    sodium_bin2hex (key, sizeof key, sig->nonce, sizeof sig->nonce);
    if (zhashx_lookup (self->nonces, key))
        return s_refuse (AF_VERIFY_REPLAYED, op->name, command, why, why_len);
    if (!s_nonce_room (self, now_ns))
        return s_refuse (AF_VERIFY_BUSY, op->name, command, why, why_len);
    /* Kept until it could no longer pass the freshness check. */
    uint64_t expiry = sig->issued_ns + self->window_ns + 1;
    zhashx_insert (self->nonces, key, (void *) (uintptr_t) expiry);
    if (operator)
        *operator = op->name;
    snprintf (why, why_len, "command %s accepted (operator %s)", command, op->name);
    return AF_VERIFY_OK;
}

/* ------------------------------------------------------------ policy */

static int
s_policy_operator (af_verifier_t *self, af_config_t *node, const char *base, char *err, size_t err_len)
{
    static const char *const keys[] = { "name", "key", "permissions", NULL };
    af_config_known_keys (node, keys);
    const char *name = af_config_str_req (node, "name");
    const char *key = af_config_str_req (node, "key");
    af_config_t *perms = af_config_seq (node, "permissions");
    if (af_config_error (node) || !name || !key)
        return -1;
    char path[700], why[600];
    snprintf (path, sizeof path, "%s%s%s", key[0] == '/' ? "" : base, key[0] == '/' ? "" : "/", key);
    uint8_t pk[AF_SIGN_PK_BYTES];
    if (af_sign_load_public (path, pk, why, sizeof why) != 0)
        return af_config_fail (node, "%s", why);
    const char *pats[S_MAX_PERMISSIONS];
    size_t n = 0;
    for (size_t i = 0; perms && i < af_config_size (perms) && n < S_MAX_PERMISSIONS; i++)
        pats[n++] = af_config_text (af_config_at (perms, i, NULL));
    if (perms && af_config_size (perms) > S_MAX_PERMISSIONS)
        return af_config_fail (perms, "at most %d permissions", S_MAX_PERMISSIONS);
    if (af_verifier_add (self, name, pk, pats, n, why, sizeof why) != 0)
        return af_config_fail (node, "%s", why);
    (void) err;
    (void) err_len;
    return 0;
}

int
af_verifier_load_policy (af_verifier_t *self, const char *path, char *err, size_t err_len)
{
    af_config_t *root = af_config_load (path, err, err_len);
    if (!root)
        return -1;
    char dir_buf[600];
    snprintf (dir_buf, sizeof dir_buf, "%s", path);
    const char *base = dirname (dir_buf);
    long version = af_config_int (root, "version", 1, 1, 1);
    (void) version;
    af_config_t *cmds = af_config_get (root, "commands");
    if (cmds) {
        double w = af_config_num (cmds, "window_s", (double) self->window_ns / 1e9, 0.001, 86400);
        self->window_ns = (uint64_t) (w * 1e9);
    }
    af_config_t *ops = af_config_seq (root, "operators");
    for (size_t i = 0; ops && !af_config_error (root) && i < af_config_size (ops); i++)
        s_policy_operator (self, af_config_at (ops, i, NULL), base, err, err_len);
    int rc = 0;
    if (af_config_error (root)) {
        snprintf (err, err_len, "%s", af_config_error (root));
        rc = -1;
    }
    af_config_destroy (&root);
    return rc;
}
