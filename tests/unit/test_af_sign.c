/*  Unit tests: af_sign — Ed25519 signed commands: accepted when key,
 *  permission, signature and freshness hold; refused with the reason for a
 *  bad signature, an unknown key, an unpermitted operator, an expired or
 *  future command, a replay, a full nonce cache; a world-readable secret
 *  key; the policy file's operators section.  */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "af_sign.h"
#include "af_test.h"

#define S_NOW 1796400000000000000ull
#define S_S 1000000000ull

static char s_dir[256];

static void
s_setup (void)
{
    cr_assert (aft_tmpdir (s_dir, sizeof s_dir, "af-sign"));
}

static void
s_teardown (void)
{
    aft_rmtree (s_dir);
}

TestSuite (af_sign, .init = s_setup, .fini = s_teardown);

static void
s_keys (const char *name, uint8_t sk[AF_SIGN_SK_BYTES], uint8_t pk[AF_SIGN_PK_BYTES])
{
    char err[256], path[600];
    cr_assert_eq (af_sign_keygen (s_dir, name, false, err, sizeof err), 0, "%s", err);
    snprintf (path, sizeof path, "%s/%s.sign_secret", s_dir, name);
    cr_assert_eq (af_sign_load_secret (path, sk, err, sizeof err), 0, "%s", err);
    snprintf (path, sizeof path, "%s/%s.sign", s_dir, name);
    cr_assert_eq (af_sign_load_public (path, pk, err, sizeof err), 0, "%s", err);
}

Test (af_sign, accepts_a_fresh_permitted_command_once)
{
    uint8_t sk[64], pk[32];
    s_keys ("alice", sk, pk);
    af_verifier_t *v = af_verifier_new (30 * S_S, 0);
    const char *perms[] = { "robot.*.move", "line.>" };
    char err[256];
    cr_assert_eq (af_verifier_add (v, "alice", pk, perms, 2, err, sizeof err), 0, "%s", err);
    af_signature_t sig;
    af_sign_command (sk, "robot.cell3.move", "{x:1}", 5, S_NOW, &sig);
    const char *who = NULL;
    cr_assert_eq (af_verifier_check (v, "robot.cell3.move", "{x:1}", 5, &sig, S_NOW + S_S, &who, err,
                                     sizeof err), AF_VERIFY_OK, "%s", err);
    cr_assert_str_eq (who, "alice");
    /* The same command again is a replay. */
    cr_assert_eq (af_verifier_check (v, "robot.cell3.move", "{x:1}", 5, &sig, S_NOW + 2 * S_S, NULL,
                                     err, sizeof err), AF_VERIFY_REPLAYED);
    cr_assert (strstr (err, "replayed") && strstr (err, "alice"), "%s", err);
    af_verifier_destroy (&v);
    cr_assert_null (v);
}

Test (af_sign, refuses_tampering_unknown_keys_and_unpermitted_operators)
{
    uint8_t sk[64], pk[32], sk2[64], pk2[32];
    s_keys ("alice", sk, pk);
    s_keys ("mallory", sk2, pk2);
    af_verifier_t *v = af_verifier_new (0, 0);
    const char *perms[] = { "maintenance.>" };
    char err[256];
    cr_assert_eq (af_verifier_add (v, "alice", pk, perms, 1, err, sizeof err), 0);
    af_signature_t sig;
    af_sign_command (sk, "maintenance.m1.stop", "body", 4, S_NOW, &sig);
    cr_assert_eq (af_verifier_check (v, "maintenance.m1.stop", "bodx", 4, &sig, S_NOW, NULL, err, sizeof err),
                  AF_VERIFY_BAD_SIGNATURE);
    cr_assert_eq (af_verifier_check (v, "maintenance.m2.stop", "body", 4, &sig, S_NOW, NULL, err, sizeof err),
                  AF_VERIFY_BAD_SIGNATURE, "the command name is signed too");
    af_signature_t forged = sig;
    forged.issued_ns += 1;
    cr_assert_eq (af_verifier_check (v, "maintenance.m1.stop", "body", 4, &forged, S_NOW, NULL, err, sizeof err),
                  AF_VERIFY_BAD_SIGNATURE, "the time is signed too");
    af_sign_command (sk2, "maintenance.m1.stop", "body", 4, S_NOW, &sig);
    cr_assert_eq (af_verifier_check (v, "maintenance.m1.stop", "body", 4, &sig, S_NOW, NULL, err, sizeof err),
                  AF_VERIFY_UNKNOWN_KEY);
    af_sign_command (sk, "robot.cell1.move", "body", 4, S_NOW, &sig);
    cr_assert_eq (af_verifier_check (v, "robot.cell1.move", "body", 4, &sig, S_NOW, NULL, err, sizeof err),
                  AF_VERIFY_NOT_PERMITTED);
    cr_assert (strstr (err, "not permitted"), "%s", err);
    /* A key listed twice, a bad pattern. */
    cr_assert_eq (af_verifier_add (v, "alice2", pk, perms, 1, err, sizeof err), -1);
    const char *bad[] = { "robot.>.x" };
    cr_assert_eq (af_verifier_add (v, "bob", pk2, bad, 1, err, sizeof err), -1);
    af_verifier_destroy (&v);
}

Test (af_sign, refuses_stale_and_future_commands)
{
    uint8_t sk[64], pk[32];
    s_keys ("alice", sk, pk);
    af_verifier_t *v = af_verifier_new (30 * S_S, 0);
    const char *perms[] = { ">" };
    char err[256];
    cr_assert_eq (af_verifier_add (v, "alice", pk, perms, 1, err, sizeof err), 0);
    af_signature_t sig;
    af_sign_command (sk, "line.l1.speed", NULL, 0, S_NOW, &sig);
    cr_assert_eq (af_verifier_check (v, "line.l1.speed", NULL, 0, &sig, S_NOW + 31 * S_S, NULL, err, sizeof err),
                  AF_VERIFY_STALE);
    cr_assert_eq (af_verifier_check (v, "line.l1.speed", NULL, 0, &sig, S_NOW - 31 * S_S, NULL, err, sizeof err),
                  AF_VERIFY_STALE);
    cr_assert_eq (af_verifier_check (v, "line.l1.speed", NULL, 0, &sig, S_NOW + 29 * S_S, NULL, err, sizeof err),
                  AF_VERIFY_OK, "%s", err);
    af_verifier_destroy (&v);
}

Test (af_sign, a_full_nonce_cache_fails_closed_then_frees_expired)
{
    uint8_t sk[64], pk[32];
    s_keys ("alice", sk, pk);
    af_verifier_t *v = af_verifier_new (10 * S_S, 4);
    const char *perms[] = { ">" };
    char err[256];
    cr_assert_eq (af_verifier_add (v, "alice", pk, perms, 1, err, sizeof err), 0);
    af_signature_t sig;
    for (int i = 0; i < 4; i++) {
        af_sign_command (sk, "line.x", NULL, 0, S_NOW, &sig);
        cr_assert_eq (af_verifier_check (v, "line.x", NULL, 0, &sig, S_NOW, NULL, err, sizeof err), AF_VERIFY_OK);
    }
    af_sign_command (sk, "line.x", NULL, 0, S_NOW, &sig);
    cr_assert_eq (af_verifier_check (v, "line.x", NULL, 0, &sig, S_NOW, NULL, err, sizeof err), AF_VERIFY_BUSY);
    /* Once the first nonces could no longer pass the freshness check, room. */
    af_sign_command (sk, "line.x", NULL, 0, S_NOW + 11 * S_S, &sig);
    cr_assert_eq (af_verifier_check (v, "line.x", NULL, 0, &sig, S_NOW + 11 * S_S, NULL, err, sizeof err),
                  AF_VERIFY_OK, "%s", err);
    af_verifier_destroy (&v);
}

Test (af_sign, secret_key_files_are_0600_and_refused_when_readable)
{
    uint8_t sk[64], pk[32];
    s_keys ("op", sk, pk);
    char path[600], err[256];
    snprintf (path, sizeof path, "%s/op.sign_secret", s_dir);
    struct stat st;
    cr_assert_eq (stat (path, &st), 0);
    cr_assert_eq (st.st_mode & 0777, 0600);
    cr_assert_eq (chmod (path, 0604), 0);
    cr_assert_eq (af_sign_load_secret (path, sk, err, sizeof err), -1);
    cr_assert (strstr (err, "group or others"), "%s", err);
    cr_assert_eq (af_sign_keygen (s_dir, "op", false, err, sizeof err), -1, "overwrote a key");
    snprintf (path, sizeof path, "%s/op.sign", s_dir);
    FILE *f = fopen (path, "w");
    fputs ("ed25519-public-key = AAAA\n", f);
    fclose (f);
    cr_assert_eq (af_sign_load_public (path, pk, err, sizeof err), -1);
}

Test (af_sign, policy_file_operators_section)
{
    uint8_t sk[64], pk[32], sk2[64], pk2[32];
    s_keys ("alice", sk, pk);
    s_keys ("bob", sk2, pk2);
    char path[600], err[512];
    snprintf (path, sizeof path, "%s/policy.yaml", s_dir);
    FILE *f = fopen (path, "w");
    fputs ("version: 1\nfactory: plant-a\n"
           "operators:\n"
           "  - name: alice\n    key: alice.sign\n    permissions: [ \"robot.*.move\" ]\n"
           "  - name: bob\n    key: bob.sign\n    permissions: [ \"maintenance.>\" ]\n"
           "commands:\n  window_s: 5\n", f);
    fclose (f);
    af_verifier_t *v = af_verifier_new (0, 0);
    cr_assert_eq (af_verifier_load_policy (v, path, err, sizeof err), 0, "%s", err);
    af_signature_t sig;
    af_sign_command (sk2, "maintenance.m1.start", NULL, 0, S_NOW, &sig);
    cr_assert_eq (af_verifier_check (v, "maintenance.m1.start", NULL, 0, &sig, S_NOW + 4 * S_S, NULL, err,
                                     sizeof err), AF_VERIFY_OK, "%s", err);
    af_sign_command (sk2, "robot.c1.move", NULL, 0, S_NOW, &sig);
    cr_assert_eq (af_verifier_check (v, "robot.c1.move", NULL, 0, &sig, S_NOW, NULL, err, sizeof err),
                  AF_VERIFY_NOT_PERMITTED);
    af_sign_command (sk, "robot.c1.move", NULL, 0, S_NOW, &sig);
    cr_assert_eq (af_verifier_check (v, "robot.c1.move", NULL, 0, &sig, S_NOW + 6 * S_S, NULL, err, sizeof err),
                  AF_VERIFY_STALE, "window_s from the policy not applied");
    af_verifier_destroy (&v);
    /* Typos and missing key files are errors with file and line. */
    f = fopen (path, "w");
    fputs ("operators:\n  - name: carol\n    key: nope.sign\n", f);
    fclose (f);
    v = af_verifier_new (0, 0);
    cr_assert_eq (af_verifier_load_policy (v, path, err, sizeof err), -1);
    cr_assert (strstr (err, "policy.yaml:"), "%s", err);
    af_verifier_destroy (&v);
    f = fopen (path, "w");
    fputs ("operators:\n  - name: alice\n    key: alice.sign\n    permisions: [ \">\" ]\n", f);
    fclose (f);
    v = af_verifier_new (0, 0);
    cr_assert_eq (af_verifier_load_policy (v, path, err, sizeof err), -1);
    af_verifier_destroy (&v);
}
