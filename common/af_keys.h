/*  af_keys — CURVE key files, the public-key allow-list and rotation
 *  (DESIGN §7, docs/security.md).
 *
 *  A key pair NAME lives in two files written by CZMQ's zcert: NAME.key (the
 *  public key, safe to hand out) and NAME.key_secret (both keys).  Secret
 *  files are created 0600 and refused at load when group or others have any
 *  access to them, as ssh refuses a readable private key.  An allow-list is a
 *  directory of public key files (zcertstore); a key is allowed when a file
 *  in it holds that public key.  Replacing a file is how keys rotate: a
 *  keyfile watcher tells its owner when the file changed, and the allow-list
 *  rereads its directory when the directory changed.
 */
#ifndef AF_KEYS_H
#define AF_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

/* Suffixes of the two files of a key pair (zcert's convention). */
#define AF_KEYS_PUBLIC_SUFFIX ".key"
#define AF_KEYS_SECRET_SUFFIX ".key_secret"
/* Mode of a secret key file; any bit of AF_KEYS_SECRET_FORBIDDEN set refuses it. */
#define AF_KEYS_SECRET_MODE 0600
#define AF_KEYS_SECRET_FORBIDDEN 0077

/* Writes a fresh key pair as DIR/NAME.key and DIR/NAME.key_secret (0600,
 * created before anything is written into it).  Refuses to overwrite either
 * file unless FORCE.  NAME may only hold letters, digits, '-', '_' and '.'.
 * Stores the public key (Z85, 40 chars) in PUBLIC_TXT if not NULL.  0, or -1
 * with one line in ERR. */
int af_keys_generate (const char *dir, const char *name, bool force, char public_txt[41],
                      char *err, size_t err_len);

/* Checks that PATH is a regular file with no access for group or others;
 * 0, or -1 with why ("x.key_secret: readable by group or others (mode 0644);
 * chmod 600 it") in ERR. */
int af_keys_check_secret (const char *path, char *err, size_t err_len);

/* Loads a secret key file (after af_keys_check_secret): a certificate with
 * both keys.  NULL with one line in ERR. */
zcert_t *af_keys_load_secret (const char *path, char *err, size_t err_len);
/* Loads a public key file.  NULL with one line in ERR. */
zcert_t *af_keys_load_public (const char *path, char *err, size_t err_len);

/* ------------------------------------------------------------ rotation */

/* What a watcher remembers of a file, to notice that it was replaced. */
typedef struct {
    char path[512];
    uint64_t dev, ino, size;
    int64_t mtime_ns;
    bool present;
} af_keyfile_t;

/* Starts watching PATH (records its current state). */
void af_keyfile_watch (af_keyfile_t *kf, const char *path);
/* True (once) when PATH was replaced, rewritten or removed since the last
 * call; a stat per call, so call it at human intervals (a second). */
bool af_keyfile_changed (af_keyfile_t *kf);

/* ---------------------------------------------------------- allow-list */

typedef struct af_allowlist af_allowlist_t;

/* An allow-list over directory DIR (which must exist).  NULL with ERR. */
af_allowlist_t *af_allowlist_new (const char *dir, char *err, size_t err_len);
void af_allowlist_destroy (af_allowlist_t **self_p);
/* True if PUBLIC_TXT (Z85) is in the directory now (it is reread when it
 * changed, so an added or removed file counts from the next call). */
bool af_allowlist_allows (af_allowlist_t *self, const char *public_txt);
/* Public keys allowed now. */
size_t af_allowlist_size (af_allowlist_t *self);
const char *af_allowlist_dir (const af_allowlist_t *self);

#endif
