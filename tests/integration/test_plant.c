/*  End-to-end tests of `autofab plant --random`: --help, and every bad
 *  usage is one line and exit 2; the same seed prints the same bytes, on
 *  standard output and with --out; and autofab-twin runs what it prints for
 *  a week under the baseline (three seeds, the programs as installed).  */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "af_test.h"

static char s_tmp[256];

static void
s_setup (void)
{
    cr_assert (aft_tmpdir (s_tmp, sizeof s_tmp, "autofab-plant-test"));
}

static void
s_teardown (void)
{
    if (!aft_rmtree (s_tmp))
        cr_log_warn ("could not remove %s", s_tmp);
}

/* Runs $AF_BIN/PROGRAM with ARGS (argv[0] first), its output to LOG; the
 * exit code, or -1 if it did not exit within 60 s. */
static int
s_run (const char *program, const char *const args[], const char *log)
{
    const char *dir = getenv ("AF_BIN");
    char path[512];
    snprintf (path, sizeof path, "%s/%s", dir ? dir : "build/bin", program);
    pid_t pid = aft_spawn_path (path, args, log);
    cr_assert_gt (pid, 0, "cannot start %s", path);
    return aft_wait_exit (pid, 60000);
}

TestSuite (cli_plant, .init = s_setup, .fini = s_teardown, .timeout = 180);

Test (cli_plant, help_and_bad_usage)
{
    char log[300];
    snprintf (log, sizeof log, "%s/help.txt", s_tmp);
    cr_assert_eq (s_run ("autofab", (const char *const[]) { "autofab", "plant", "--help", NULL }, log), 0);
    char *text = aft_read_file (log);
    cr_assert_not_null (strstr (text, "--random"), "help without --random: %s", text);
    free (text);
    static const char *const bad[][6] = {
        { "autofab", "plant", NULL },                                  /* no --random */
        { "autofab", "plant", "--random", "--seed", "-1", NULL },
        { "autofab", "plant", "--random", "--seed", "x", NULL },
        { "autofab", "plant", "--random", "--stations", "1", NULL },
        { "autofab", "plant", "--random", "--stations", "31", NULL },
        { "autofab", "plant", "--random", "--bogus", NULL },
        { "autofab", "plant", "--random", "extra", NULL },
        { "autofab", "plant", "--random", "--seed", NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf (log, sizeof log, "%s/bad-%zu.txt", s_tmp, i);
        cr_assert_eq (s_run ("autofab", bad[i], log), 2, "case %zu did not exit 2", i);
        char *why = aft_read_file (log);
        cr_assert_not_null (strstr (why, "autofab plant: "), "case %zu: '%s'", i, why);
        char *nl = strchr (why, '\n');
        cr_assert (nl && nl[1] == 0, "case %zu: not one line: '%s'", i, why);
        free (why);
    }
}

Test (cli_plant, same_seed_same_bytes_and_out_file)
{
    char a[300], b[300], c[300], log[300];
    snprintf (a, sizeof a, "%s/a.yaml", s_tmp);
    snprintf (b, sizeof b, "%s/b.yaml", s_tmp);
    snprintf (c, sizeof c, "%s/c.yaml", s_tmp);
    snprintf (log, sizeof log, "%s/out.log", s_tmp);
    cr_assert_eq (s_run ("autofab", (const char *const[]) { "autofab", "plant", "--random", "--seed", "42", NULL }, a), 0);
    cr_assert_eq (s_run ("autofab", (const char *const[]) { "autofab", "plant", "--random", "--seed", "42", "--out", b, NULL }, log), 0);
    cr_assert_eq (s_run ("autofab", (const char *const[]) { "autofab", "plant", "--random", "--seed", "43", NULL }, c), 0);
    char *ta = aft_read_file (a), *tb = aft_read_file (b), *tc = aft_read_file (c);
    cr_assert_gt (strlen (ta), 1000);
    cr_assert_str_eq (ta, tb, "seed 42 printed and --out differ");
    cr_assert_str_neq (ta, tc, "seeds 42 and 43 gave the same plant");
    free (ta);
    free (tb);
    free (tc);
}

Test (cli_plant, the_twin_runs_the_printed_plant_for_a_week)
{
    for (int seed = 1; seed <= 3; seed++) {
        char yaml[300], log[300], seed_text[16];
        snprintf (yaml, sizeof yaml, "%s/p%d.yaml", s_tmp, seed);
        snprintf (log, sizeof log, "%s/twin%d.json", s_tmp, seed);
        snprintf (seed_text, sizeof seed_text, "%d", seed);
        cr_assert_eq (s_run ("autofab", (const char *const[]) { "autofab", "plant", "--random", "--seed", seed_text, "--out", yaml, NULL }, log), 0);
        cr_assert_eq (s_run ("autofab-twin", (const char *const[]) { "autofab-twin", "--config", yaml, "--hours", "168", "--json", NULL }, log),
                      0, "the twin refused plant %d", seed);
        char *json = aft_read_file (log);
        cr_assert_not_null (strstr (json, "\"sim_h\":168"), "plant %d did not run a week: %s", seed, json);
        free (json);
    }
}
