/*  Unit tests: af_config's mapping index — many keys load, every one is
 *  found, and a duplicate among them is still caught with its line.  */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "af_config.h"

/* "k0: 0\nk1: 1\n…" with N keys, and DUP (if >= 0) repeated as the last line. */
static char *
s_many_keys (size_t n, long dup, size_t *len)
{
    size_t cap = n * 24 + 64;
    char *text = malloc (cap);
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        at += (size_t) snprintf (text + at, cap - at, "k%zu: %zu\n", i, i);
    if (dup >= 0)
        at += (size_t) snprintf (text + at, cap - at, "k%ld: again\n", dup);
    *len = at;
    return text;
}

Test (config_index, many_keys_all_found)
{
    enum { N = 50000 };
    size_t len;
    char *text = s_many_keys (N, -1, &len);
    char err[300];
    af_config_t *root = af_config_parse (text, len, "many.yaml", err, sizeof err);
    cr_assert_not_null (root, "%s", err);
    cr_assert_eq (af_config_size (root), N);
    char key[32];
    for (size_t i = 0; i < N; i += 997) {
        snprintf (key, sizeof key, "k%zu", i);
        cr_assert_eq (af_config_int (root, key, -1, 0, N), (long) i, "%s", key);
    }
    cr_assert_null (af_config_get (root, "k50000"));
    cr_assert_null (af_config_get (root, "k"));
    af_config_destroy (&root);
    free (text);
}

Test (config_index, duplicate_among_many_names_its_line)
{
    enum { N = 20000 };
    size_t len;
    char *text = s_many_keys (N, 12345, &len);
    char err[300];
    af_config_t *root = af_config_parse (text, len, "dup.yaml", err, sizeof err);
    cr_assert_null (root);
    cr_assert_str_eq (err, "dup.yaml:20001: duplicate key 'k12345'");
    free (text);
}
