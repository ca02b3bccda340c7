/*  af_sign — signed commands: Ed25519 signatures by operator keys (libsodium),
 *  checked against the policy file (DESIGN §7, docs/security.md).
 *
 *  A signature covers, in this order: the domain tag "autofab-cmd-v1", the
 *  signer's public key, the issue time, a random nonce, the command name
 *  ("<service>.<command>", e.g. "robot.cell3.move") and the command body.
 *  A verifier accepts a command only when all of these hold, and says which
 *  failed otherwise: the key is an operator's in the policy; one of that
 *  operator's permission patterns (af_topic.h syntax) matches the command
 *  name; the signature is valid; the issue time is within the freshness
 *  window of now (either side, for clock skew); the nonce was not seen
 *  within the window (replay).  The nonce cache is bounded: when it is full
 *  of live nonces a command is refused (fail closed), never let through.
 *
 *  Library only: not yet wired into agents, the twin or `autofab call`.
 */
#ifndef AF_SIGN_H
#define AF_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AF_SIGN_PUBLIC_SUFFIX ".sign"
#define AF_SIGN_SECRET_SUFFIX ".sign_secret"
#define AF_SIGN_PK_BYTES 32
#define AF_SIGN_SK_BYTES 64
#define AF_SIGN_NONCE_BYTES 16
#define AF_SIGN_SIG_BYTES 64
/* Default freshness window, either side of now. */
#define AF_SIGN_WINDOW_NS (30ull * 1000000000ull)
/* Default nonce cache size. */
#define AF_SIGN_NONCE_CAP 65536u

/* What travels with a command. */
typedef struct {
    uint8_t signer[AF_SIGN_PK_BYTES];
    uint64_t issued_ns;
    uint8_t nonce[AF_SIGN_NONCE_BYTES];
    uint8_t sig[AF_SIGN_SIG_BYTES];
} af_signature_t;

/* Writes an Ed25519 key pair as DIR/NAME.sign and DIR/NAME.sign_secret
 * (0600, created before the secret is written); refuses to overwrite unless
 * FORCE.  0, or -1 with one line in ERR. */
int af_sign_keygen (const char *dir, const char *name, bool force, char *err, size_t err_len);
/* Loads a secret key (refused when group or others can access the file). */
int af_sign_load_secret (const char *path, uint8_t sk[AF_SIGN_SK_BYTES], char *err, size_t err_len);
int af_sign_load_public (const char *path, uint8_t pk[AF_SIGN_PK_BYTES], char *err, size_t err_len);

/* Signs COMMAND with BODY (LEN bytes) at NOW_NS with a fresh nonce. */
void af_sign_command (const uint8_t sk[AF_SIGN_SK_BYTES], const char *command, const void *body,
                      size_t len, uint64_t now_ns, af_signature_t *out);

typedef enum {
    AF_VERIFY_OK = 0,
    AF_VERIFY_UNKNOWN_KEY,
    AF_VERIFY_NOT_PERMITTED,
    AF_VERIFY_BAD_SIGNATURE,
    AF_VERIFY_STALE,         /* issued outside the freshness window */
    AF_VERIFY_REPLAYED,
    AF_VERIFY_BUSY,          /* nonce cache full of live nonces: refused */
    AF_VERIFY_RESULTS
} af_verify_t;

const char *af_verify_str (af_verify_t result);

typedef struct af_verifier af_verifier_t;

/* A verifier with no operators yet; WINDOW_NS and NONCE_CAP 0 take the defaults. */
af_verifier_t *af_verifier_new (uint64_t window_ns, size_t nonce_cap);
void af_verifier_destroy (af_verifier_t **self_p);
/* Adds operator NAME with key PK and N permission patterns.  0, or -1 with
 * why in ERR (bad pattern, key or name listed twice). */
int af_verifier_add (af_verifier_t *self, const char *name, const uint8_t pk[AF_SIGN_PK_BYTES],
                     const char *const *patterns, size_t n, char *err, size_t err_len);
/* Loads the `operators` and `commands.window_s` sections of a policy file
 * (docs/security.md); key paths are relative to the file's folder.  0, or
 * -1 with "file:line: why" in ERR. */
int af_verifier_load_policy (af_verifier_t *self, const char *path, char *err, size_t err_len);
/* Checks a command.  On refusal writes one line (with the operator's name
 * when known) to WHY.  On success *OPERATOR (if not NULL) names the signer. */
af_verify_t af_verifier_check (af_verifier_t *self, const char *command, const void *body,
                               size_t len, const af_signature_t *sig, uint64_t now_ns,
                               const char **operator, char *why, size_t why_len);

#endif
