/*  Integration tests: autofab-maint-eval — usage errors exit 2 with one
 *  line, missing or malformed data exit 1 saying which file and line, and
 *  `cmapss TRAIN TEST RUL` scores any test file of the C-MAPSS format
 *  (synthetic files here, including a unit seen for one cycle only). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "af_test.h"

static char s_dir[256];

/* Runs the evaluator with ARGS (a shell-quoted string); returns its exit
 * code and its stdout+stderr in OUT. */
static int
s_run (const char *args, char *out, size_t len)
{
    const char *bin = getenv ("AF_BIN") ? getenv ("AF_BIN") : "build/bin";
    char cmd[2048];
    snprintf (cmd, sizeof cmd, "'%s/autofab-maint-eval' %s 2>&1", bin, args);
    FILE *p = popen (cmd, "r");
    cr_assert_not_null (p);
    size_t n = fread (out, 1, len - 1, p);
    out[n] = 0;
    int st = pclose (p);
    return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

/* A synthetic C-MAPSS file: N units whose sensors drift as (t/life)^2; with
 * CUT, unit u stops CUT[u] cycles before failure (after one cycle if
 * CUT[u] < 0) and LEFT[u] gets the true remaining life. */
static void
s_write_fleet (const char *path, int n, const int *cut, int *left, unsigned seed)
{
    FILE *f = fopen (path, "w");
    cr_assert_not_null (f);
    unsigned st = seed;
    for (int u = 0; u < n; u++) {
        int life = 130 + (int) ((st = st * 1664525u + 1013904223u) >> 26);
        int last = !cut ? life : cut[u] >= 0 ? life - cut[u] : 1;
        if (left)
            left[u] = life - last;
        for (int t = 1; t <= last; t++) {
            fprintf (f, "%d %d 0.0 0.0 100.0", u + 1, t);
            double w = pow ((double) t / life, 2);
            for (int s = 0; s < 21; s++) {
                st = st * 1664525u + 1013904223u;
                fprintf (f, " %.4f", 10 * s + 3 * w + 0.1 * ((st >> 16) / 65536.0 - 0.5));
            }
            fprintf (f, "  \n");
        }
    }
    fclose (f);
}

static void
s_setup (void)
{
    cr_assert (aft_tmpdir (s_dir, sizeof s_dir, "maint-eval"));
}

static void
s_teardown (void)
{
    aft_rmtree (s_dir);
}

Test (maint_eval, usage_errors)
{
    char out[4096];
    cr_assert_eq (s_run ("--help", out, sizeof out), 0);
    cr_assert (strstr (out, "cmapss TRAIN TEST RUL"), "%s", out);
    cr_assert_eq (s_run ("", out, sizeof out), 2);
    cr_assert_eq (s_run ("frobnicate", out, sizeof out), 2);
    cr_assert (strstr (out, "unknown command"), "%s", out);
    cr_assert_eq (s_run ("cwru", out, sizeof out), 2);
    cr_assert_eq (s_run ("cwru /tmp --band 5000:2000", out, sizeof out), 2);
    cr_assert_eq (s_run ("cwru /tmp --balls x", out, sizeof out), 2);
    cr_assert_eq (s_run ("cmapss a b", out, sizeof out), 2);
    cr_assert_eq (s_run ("cmapss-cv a --holdout 0", out, sizeof out), 2);
    cr_assert_eq (s_run ("cwru --help", out, sizeof out), 0);
}

Test (maint_eval, missing_data_is_named, .init = s_setup, .fini = s_teardown)
{
    char out[4096], args[1024];
    snprintf (args, sizeof args, "cwru '%s'", s_dir);
    cr_assert_eq (s_run (args, out, sizeof out), 1);
    cr_assert (strstr (out, "no .mat files"), "%s", out);
    cr_assert_eq (s_run ("cmapss /nonexistent/train.txt /x /y", out, sizeof out), 1);
    cr_assert (strstr (out, "/nonexistent/train.txt: cannot open"), "%s", out);
    /* A file that is not MAT data is refused with its name. */
    snprintf (args, sizeof args, "%s/97_Normal_0hp.mat", s_dir);
    FILE *f = fopen (args, "w");
    fputs ("not a MAT file\n", f);
    fclose (f);
    snprintf (args, sizeof args, "cwru '%s'", s_dir);
    cr_assert_eq (s_run (args, out, sizeof out), 0);
    cr_assert (strstr (out, "not a readable MAT file"), "%s", out);
}

Test (maint_eval, cmapss_scores_any_test_file, .init = s_setup, .fini = s_teardown, .timeout = 180)
{
    char train[512], test[512], rul[512], args[2048], out[16384];
    snprintf (train, sizeof train, "%s/train.txt", s_dir);
    snprintf (test, sizeof test, "%s/test.txt", s_dir);
    snprintf (rul, sizeof rul, "%s/rul.txt", s_dir);
    s_write_fleet (train, 30, NULL, NULL, 1);
    /* The last test unit has seen one cycle only. */
    int cut[5] = { 10, 40, 80, 100, -1 }, left[5];
    s_write_fleet (test, 5, cut, left, 2);
    FILE *f = fopen (rul, "w");
    for (int u = 0; u < 5; u++)
        fprintf (f, "%d\n", left[u]);
    fclose (f);
    snprintf (args, sizeof args, "cmapss '%s' '%s' '%s' --rounds 40 --threads 1 -v --json '%s/o.json'",
              train, test, rul, s_dir);
    cr_assert_eq (s_run (args, out, sizeof out), 0, "%s", out);
    cr_assert (strstr (out, "5 predictions"), "%s", out);
    cr_assert (strstr (out, "PHM08 score"), "%s", out);
    cr_assert (strstr (out, "seen   1"), "the one-cycle unit is predicted: %s", out);

    /* The RUL file must match the test units one to one. */
    f = fopen (rul, "a");
    fputs ("12\n", f);
    fclose (f);
    cr_assert_eq (s_run (args, out, sizeof out), 1);
    cr_assert (strstr (out, "more than 5 values"), "%s", out);
    /* A malformed test row is refused with its line. */
    f = fopen (test, "a");
    fputs ("5 999 1 2 3\n", f);
    fclose (f);
    cr_assert_eq (s_run (args, out, sizeof out), 1);
    cr_assert (strstr (out, "test.txt:"), "%s", out);
}
