/*  Factory configs: the shipped ones load, bad ones give one clear
 *  "file:line: why" and no twin.  */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/twin/twin.h"
#include "twin_bad_config.h"

static const char *
s_src (void)
{
    const char *src = getenv ("AF_SRC");
    return src ? src : ".";
}

Test (twin_config, shipped_factories_load)
{
    const char *names[] = { "gigafactory", "two-line", "stressed", "mars-habitat" };
    for (size_t i = 0; i < 4; i++) {
        char path[512], err[512] = "";
        snprintf (path, sizeof path, "%s/deploy/factories/%s.yaml", s_src (), names[i]);
        twin_t *t = twin_new_from_file (path, 1, err, sizeof err);
        cr_assert_not_null (t, "%s: %s", path, err);
        twin_policy_t p;
        twin_policy_baseline (t, &p);
        twin_set_policy (t, &p);
        twin_run (t, 48, NULL);
        twin_kpi_t k;
        twin_kpis (t, &k);
        cr_assert (k.units > 0 && k.throughput_uph > 0, "%s made nothing", names[i]);
        twin_destroy (&t);
    }
}

/* Each case: a config, the line the error must point at, and a word it
 * must contain. */

static const twin_bad_config_t s_bad[] = {
    /* missing fields */
    { "factory: {name: x}\n", 1, "stations" },
    { "stations:\n  - name: a\n    buffer_cap: 3\n", 2, "process_s" },
    { "stations:\n  - {process_s: 5}\n", 2, "name" },
    { "parts:\n  - {name: cell}\nstations:\n  - {name: a, process_s: 5}\n", 2, "lead_time_h" },
    /* negative rates and times */
    { "stations:\n  - name: a\n    process_s: 5\n    mtbf_h: -3\n", 4, "mtbf_h" },
    { "stations:\n  - name: a\n    process_s: {dist: exponential, mean: -2}\n", 3, "mean" },
    { "arrivals: {mode: poisson, rate_per_h: -5}\nstations:\n  - {name: a, process_s: 5}\n", 1, "rate_per_h" },
    { "stations:\n  - name: a\n    process_s: 5\n    wear:\n      bearing: {rate_per_h: -0.1}\n", 5, "rate_per_h" },
    /* unknown names */
    { "stations:\n  - {name: a, process_s: 5}\n  - {name: b, process_s: 5}\nvariants:\n"
      "  - {name: v, mix: 1, route: [a, weld]}\n", 5, "weld" },
    { "stations:\n  - {name: a, process_s: 5}\nvariants:\n  - {name: v, mix: 1, bom: {cell: 2}}\n", 4, "cell" },
    { "stations:\n  - {name: a, process_s: 5, procces_s: 4}\n", 2, "procces_s" },
    /* cycles where none may be */
    { "stations:\n  - {name: a, process_s: 5}\n  - {name: b, process_s: 5}\nvariants:\n"
      "  - {name: v, mix: 1, route: [a, b, a]}\n", 5, "twice" },
    { "stations:\n  - {name: a, process_s: 5}\n  - {name: b, process_s: 5}\nvariants:\n"
      "  - {name: v, mix: 1, route: [a, b]}\n  - {name: w, mix: 1, route: [b, a]}\n", 6, "cycle" },
    /* the floor graph */
    { "stations:\n  - {name: a, process_s: 5}\nfloor:\n  edges:\n    - [warehouse, b]\n", 5, "floor edge" },
    { "stations:\n  - {name: a, process_s: 5}\n  - {name: b, process_s: 5}\nfloor:\n  edges:\n"
      "    - [warehouse, a]\n    - [warehouse, dock]\n", 6, "not connected" },
    /* duplicates and nonsense */
    { "stations:\n  - {name: a, process_s: 5}\n  - {name: a, process_s: 6}\n", 3, "twice" },
    { "arrivals: {mode: sometimes}\nstations:\n  - {name: a, process_s: 5}\n", 1, "mode" },
    { "stations:\n  - {name: a, process_s: 5}\nvariants:\n  - {name: v, mix: 0}\n", 4, "mix" },
    { "stations: [1, 2\n", 2, "" },
};

Test (twin_config, bad_configs_point_at_file_and_line)
{
    twin_check_bad_configs (s_bad, sizeof s_bad / sizeof *s_bad);
}

Test (twin_config, missing_file)
{
    char err[512] = "";
    cr_assert_null (twin_new_from_file ("/nonexistent/f.yaml", 1, err, sizeof err));
    cr_assert (strstr (err, "/nonexistent/f.yaml"), "%s", err);
}

/* The CLI: exit 2 with one line on bad usage or a bad config. */
Test (twin_config, cli_bad_usage)
{
    const char *bin = getenv ("AF_BIN");
    if (!bin)
        bin = "build/bin";
    char cmd[1024];
    const char *args[] = {
        "--hours 5", "--config /nonexistent.yaml --hours 5", "--config x --hours -1",
        "--config x --hours 1 --policy magic", "--bogus"
    };
    for (size_t i = 0; i < sizeof args / sizeof *args; i++) {
        snprintf (cmd, sizeof cmd, "%s/autofab-twin %s 2>&1 >/dev/null", bin, args[i]);
        FILE *p = popen (cmd, "r");
        cr_assert_not_null (p);
        char out[1024] = "";
        size_t n = fread (out, 1, sizeof out - 1, p);
        out[n] = 0;
        int status = pclose (p);
        cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 2, "'%s' exit %d", args[i], status);
        cr_assert (n > 0 && strchr (out, '\n') == out + n - 1, "'%s': not one line: %s", args[i], out);
    }
}

static void
s_cli_json (const char *args, char *out, size_t len)
{
    const char *bin = getenv ("AF_BIN"), *src = getenv ("AF_SRC");
    char cmd[1024];
    snprintf (cmd, sizeof cmd, "%s/autofab-twin --config %s/deploy/factories/gigafactory.yaml %s --json",
              bin ? bin : "build/bin", src ? src : ".", args);
    FILE *p = popen (cmd, "r");
    cr_assert_not_null (p);
    size_t n = fread (out, 1, len - 1, p);
    out[n] = 0;
    cr_assert_eq (pclose (p), 0, "'%s' failed", cmd);
    cr_assert (n > 100 && out[0] == '{', "%s", out);
}

/* The CLI: same seed, byte-identical KPI JSON; another seed, different. */
Test (twin_config, cli_json_deterministic)
{
    char a[4096], b[4096], c[4096];
    s_cli_json ("--hours 200 --seed 42", a, sizeof a);
    s_cli_json ("--hours 200 --seed 42", b, sizeof b);
    s_cli_json ("--hours 200 --seed 43", c, sizeof c);
    cr_assert_str_eq (a, b);
    cr_assert_str_neq (a, c);
}
