/*  Unit tests: af_keys — key pairs written 0600, secret files refused when
 *  others can read them, the allow-list and key rotation.  */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "af_keys.h"
#include "af_test.h"

static char s_dir[256];

static void
s_setup (void)
{
    aft_zsys_init ();
    cr_assert (aft_tmpdir (s_dir, sizeof s_dir, "af-keys"));
}

static void
s_teardown (void)
{
    cr_assert (aft_rmtree (s_dir));
}

TestSuite (af_keys, .init = s_setup, .fini = s_teardown);

Test (af_keys, generate_writes_0600_secret_and_loads_back)
{
    char pub[41], err[256], path[600];
    cr_assert_eq (af_keys_generate (s_dir, "gw-a", false, pub, err, sizeof err), 0, "%s", err);
    cr_assert_eq (strlen (pub), 40);
    snprintf (path, sizeof path, "%s/gw-a.key_secret", s_dir);
    struct stat st;
    cr_assert_eq (stat (path, &st), 0);
    cr_assert_eq (st.st_mode & 0777, 0600);
    zcert_t *sec = af_keys_load_secret (path, err, sizeof err);
    cr_assert_not_null (sec, "%s", err);
    cr_assert_str_eq (zcert_public_txt (sec), pub);
    snprintf (path, sizeof path, "%s/gw-a.key", s_dir);
    zcert_t *pubc = af_keys_load_public (path, err, sizeof err);
    cr_assert_not_null (pubc, "%s", err);
    cr_assert_str_eq (zcert_public_txt (pubc), pub);
    /* The public file must not carry the secret. */
    char *text = zsys_sprintf ("grep -q secret-key '%s'", path);
    cr_assert_neq (system (text), 0);
    zstr_free (&text);
    zcert_destroy (&sec);
    zcert_destroy (&pubc);
}

Test (af_keys, refuses_overwrite_without_force_and_bad_names)
{
    char err[256];
    cr_assert_eq (af_keys_generate (s_dir, "k", false, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq (af_keys_generate (s_dir, "k", false, NULL, err, sizeof err), -1);
    cr_assert (strstr (err, "exists"), "%s", err);
    cr_assert_eq (af_keys_generate (s_dir, "k", true, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq (af_keys_generate (s_dir, "../evil", false, NULL, err, sizeof err), -1);
    cr_assert_eq (af_keys_generate (s_dir, "", false, NULL, err, sizeof err), -1);
    cr_assert_eq (af_keys_generate ("/nonexistent-dir", "k", false, NULL, err, sizeof err), -1);
}

Test (af_keys, world_readable_secret_is_refused)
{
    char err[256], path[600];
    cr_assert_eq (af_keys_generate (s_dir, "op", false, NULL, err, sizeof err), 0, "%s", err);
    snprintf (path, sizeof path, "%s/op.key_secret", s_dir);
    cr_assert_eq (chmod (path, 0644), 0);
    zcert_t *c = af_keys_load_secret (path, err, sizeof err);
    cr_assert_null (c);
    cr_assert (strstr (err, "group or others"), "%s", err);
    cr_assert_eq (chmod (path, 0640), 0);
    cr_assert_null (af_keys_load_secret (path, err, sizeof err));
    cr_assert_eq (chmod (path, 0600), 0);
    c = af_keys_load_secret (path, err, sizeof err);
    cr_assert_not_null (c, "%s", err);
    zcert_destroy (&c);
}

Test (af_keys, hostile_key_files_are_refused)
{
    char err[256], path[600];
    snprintf (path, sizeof path, "%s/junk.key_secret", s_dir);
    FILE *f = fopen (path, "w");
    cr_assert_not_null (f);
    fputs ("curve\n    public-key = \"short\"\n", f);
    fclose (f);
    chmod (path, 0600);
    cr_assert_null (af_keys_load_secret (path, err, sizeof err));
    cr_assert_null (af_keys_load_public (path, err, sizeof err));
    cr_assert_null (af_keys_load_public ("/nonexistent.key", err, sizeof err));
}

Test (af_keys, allowlist_follows_the_directory)
{
    char err[256], allow[300], pub_a[41], pub_b[41], src[700], dst[700];
    snprintf (allow, sizeof allow, "%s/allow", s_dir);
    cr_assert_eq (mkdir (allow, 0700), 0);
    cr_assert_eq (af_keys_generate (s_dir, "a", false, pub_a, err, sizeof err), 0, "%s", err);
    cr_assert_eq (af_keys_generate (s_dir, "b", false, pub_b, err, sizeof err), 0, "%s", err);
    af_allowlist_t *al = af_allowlist_new (allow, err, sizeof err);
    cr_assert_not_null (al, "%s", err);
    cr_assert_not (af_allowlist_allows (al, pub_a));
    snprintf (src, sizeof src, "%s/a.key", s_dir);
    snprintf (dst, sizeof dst, "%s/peer.key", allow);
    cr_assert_eq (rename (src, dst), 0);
    cr_assert (af_allowlist_allows (al, pub_a));
    cr_assert_eq (af_allowlist_size (al), 1);
    /* Rotation: the peer's file is replaced by the new key at once. */
    snprintf (src, sizeof src, "%s/b.key", s_dir);
    cr_assert_eq (rename (src, dst), 0);
    cr_assert (af_allowlist_allows (al, pub_b));
    cr_assert_not (af_allowlist_allows (al, pub_a));
    cr_assert_not (af_allowlist_allows (al, "not-a-key"));
    cr_assert_not (af_allowlist_allows (al, NULL));
    af_allowlist_destroy (&al);
    cr_assert_null (al);
    cr_assert_null (af_allowlist_new ("/nonexistent-dir", err, sizeof err));
}

Test (af_keys, keyfile_watch_sees_replacement)
{
    char err[256], path[600];
    cr_assert_eq (af_keys_generate (s_dir, "me", false, NULL, err, sizeof err), 0, "%s", err);
    snprintf (path, sizeof path, "%s/me.key_secret", s_dir);
    af_keyfile_t kf;
    af_keyfile_watch (&kf, path);
    cr_assert_not (af_keyfile_changed (&kf));
    cr_assert_eq (af_keys_generate (s_dir, "me", true, NULL, err, sizeof err), 0, "%s", err);
    cr_assert (af_keyfile_changed (&kf));
    cr_assert_not (af_keyfile_changed (&kf));
    unlink (path);
    cr_assert (af_keyfile_changed (&kf));
}
