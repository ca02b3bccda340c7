/*  test_tour — the README's five-minute tour, run as typed, twice in a row
 *  (issue 18: it must work top to bottom, and again).
 *
 *  The tour's ```sh block is read from $AF_SRC/README.md and run by bash
 *  with `set -e`, so any command that fails fails the test.  Only what
 *  would collide with other tests running at the same time is changed:
 *  the broker and dashboard get free loopback ports ($AUTOFAB_BROKER tells
 *  every other program where the broker is), the recording goes to a
 *  private file, `make` is left out (make test has built everything) and
 *  PATH points at $AF_BIN.  Every line else runs exactly as printed.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "af_clock.h"
#include "af_test.h"

#define S_TOUR_TIMEOUT_MS 150000

/* Reads the whole file at PATH; NULL if it cannot. */
static char *
s_read (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream (&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread (chunk, 1, sizeof chunk, f)) > 0)
        fwrite (chunk, 1, n, mem);
    fclose (mem);
    fclose (f);
    return buf;
}

/* Replaces every FROM in LINE by TO into OUT. */
static void
s_write_replaced (FILE *out, const char *line, size_t len, const char *from, const char *to)
{
    size_t from_len = strlen (from);
    for (size_t i = 0; i < len;) {
        if (i + from_len <= len && memcmp (line + i, from, from_len) == 0) {
            fputs (to, out);
            i += from_len;
        }
        else
            fputc (line[i++], out);
    }
}

/* Writes the tour from README as a bash script to PATH, with the
 * substitutions described above.  False if README has no tour. */
static bool
s_write_tour (const char *readme, const char *path, int broker_port, int web_port,
              const char *journal)
{
    const char *start = strstr (readme, "## A five-minute tour");
    start = start ? strstr (start, "```sh\n") : NULL;
    if (!start)
        return false;
    start += 6;
    const char *end = strstr (start, "\n```");
    if (!end)
        return false;
    FILE *out = fopen (path, "w");
    if (!out)
        return false;
    const char *bin = getenv ("AF_BIN");
    fprintf (out, "set -e\nexport AUTOFAB_BROKER=tcp://127.0.0.1:%d\n", broker_port);
    char broker[64], web[64];
    snprintf (broker, sizeof broker, "autofab-broker --port %d &", broker_port);
    snprintf (web, sizeof web, "autofab-web --listen 127.0.0.1:%d &", web_port);
    for (const char *line = start; line < end;) {
        const char *nl = memchr (line, '\n', (size_t) (end - line));
        size_t len = nl ? (size_t) (nl - line) : (size_t) (end - line);
        if (strncmp (line, "make", 4) == 0)
            fputs ("# (built by make test)", out);
        else if (strncmp (line, "export PATH=", 12) == 0)
            fprintf (out, "export PATH=%s:$PATH", bin ? bin : "build/bin");
        else if (strncmp (line, "autofab-broker &", 16) == 0)
            s_write_replaced (out, line, len, "autofab-broker &", broker);
        else if (strncmp (line, "autofab-web &", 13) == 0)
            s_write_replaced (out, line, len, "autofab-web &", web);
        else
            s_write_replaced (out, line, len, "/tmp/tel.sqlite", journal);
        fputc ('\n', out);
        line += len + 1;
    }
    fclose (out);
    return true;
}

/* Runs the script with bash in its own process group, from the source
 * tree; returns its exit code (-1: killed after the timeout) and its
 * output in *OUTPUT. */
static int
s_run_tour (const char *script, const char *log, char **output)
{
    pid_t pid = fork ();
    cr_assert_neq (pid, -1);
    if (pid == 0) {
        setpgid (0, 0);
        if (!freopen (log, "w", stdout) || dup2 (fileno (stdout), 2) < 0
            || !freopen ("/dev/null", "r", stdin))
            _exit (127);
        const char *src = getenv ("AF_SRC");
        if (src && chdir (src) != 0)
            _exit (127);
        execlp ("bash", "bash", script, (char *) NULL);
        _exit (127);
    }
    setpgid (pid, pid);
    int64_t deadline = af_clock_mono_ms () + S_TOUR_TIMEOUT_MS;
    int status = 0, code = -1;
    pid_t done;
    while ((done = waitpid (pid, &status, WNOHANG)) == 0 && af_clock_mono_ms () < deadline)
        usleep (50000);
    if (done == pid && WIFEXITED (status))
        code = WEXITSTATUS (status);
    /* Whatever the tour left running (after a failure) goes with it. */
    kill (-pid, SIGKILL);
    if (done == 0)
        waitpid (pid, &status, 0);
    *output = s_read (log);
    return code;
}

Test (tour, readme_tour_runs_twice_as_typed, .timeout = 360)
{
    const char *src = getenv ("AF_SRC");
    char readme_path[1024];
    snprintf (readme_path, sizeof readme_path, "%s/README.md", src ? src : ".");
    char *readme = s_read (readme_path);
    if (!readme || system ("command -v bash >/dev/null 2>&1") != 0) {
        free (readme);
        cr_skip_test ("no README.md at %s or no bash: the tour is not checked", readme_path);
    }
    char dir[256];
    cr_assert (aft_tmpdir (dir, sizeof dir, "af-tour"));
    char script[320], log[320], journal[320];
    snprintf (script, sizeof script, "%s/tour.sh", dir);
    snprintf (log, sizeof log, "%s/tour.log", dir);
    snprintf (journal, sizeof journal, "%s/tel.sqlite", dir);
    for (int pass = 1; pass <= 2; pass++) {
        int broker_port = aft_free_ports (3), web_port = aft_free_ports (1);
        cr_assert (broker_port > 0 && web_port > 0);
        cr_assert (s_write_tour (readme, script, broker_port, web_port, journal),
                   "README.md has no ```sh block under '## A five-minute tour'");
        char *out = NULL;
        int code = s_run_tour (script, log, &out);
        cr_expect_eq (code, 0, "pass %d: the tour stopped with %d:\n%s", pass, code, out);
        /* What each step is there to show. */
        cr_expect (strstr (out, "PREFIX"), "pass %d: no top table:\n%s", pass, out);
        cr_expect (strstr (out, "recorded 100 messages"), "pass %d: record:\n%s", pass, out);
        cr_expect (strstr (out, "press1.death"), "pass %d: no death notice:\n%s", pass, out);
        cr_expect (strstr (out, "DEAD since"), "pass %d: ls shows no dead agent:\n%s", pass,
                   out);
        free (out);
        if (code != 0)
            break;
    }
    aft_rmtree (dir);
    free (readme);
}
