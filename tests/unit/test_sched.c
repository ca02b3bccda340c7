/* test_sched.c — scheduler instances, bad input, the checker and the baselines. */

#include <criterion/criterion.h>
#include <string.h>

#include "agents/line/sched.h"

/* ft06 (Fisher & Thompson), optimum 55. */
static const char *const FT06 =
    "# ft06\n6 6\n"
    "2 1 0 3 1 6 3 7 5 3 4 6\n"
    "1 8 2 5 4 10 5 10 0 10 3 4\n"
    "2 5 3 4 5 8 0 9 1 1 4 7\n"
    "1 5 0 5 2 5 3 3 4 8 5 9\n"
    "2 9 1 3 4 5 5 4 0 3 3 1\n"
    "1 3 3 3 5 9 0 10 4 4 2 1\n";

/* The hand-checked dispatch case of docs/sched.md. */
static const char *const HAND =
    "3 2 ext\n"
    "0 3 1 2\n"
    "0 2 1 4\n"
    "1 3 0 1\n"
    "due 0 5\ndue 1 12\ndue 2 4\n";

static sched_inst_t *s_parse(const char *text)
{
    char err[SCHED_ERR_LEN] = "";
    sched_inst_t *in = sched_inst_parse(text, "t", SCHED_FMT_AUTO, err);
    cr_assert_not_null(in, "parse failed: %s", err);
    return in;
}

/* Expects a parse error whose text contains `want`. */
static void s_bad(const char *text, const char *want)
{
    char err[SCHED_ERR_LEN] = "";
    sched_inst_t *in = sched_inst_parse(text, "bad.txt", SCHED_FMT_AUTO, err);
    cr_assert_null(in, "accepted bad input: %s", text);
    cr_assert(strstr(err, want), "error '%s' lacks '%s'", err, want);
}

Test(sched, parses_orlib)
{
    sched_inst_t *in = s_parse(FT06);
    cr_assert_eq(sched_inst_jobs(in), 6);
    cr_assert_eq(sched_inst_machines(in), 6);
    cr_assert_eq(sched_inst_ops(in), 36);
    cr_assert_eq(sched_inst_op_machine(in, 1, 2, 0), 4);
    cr_assert_eq(sched_inst_op_dur(in, 1, 2), 10);
    cr_assert(sched_inst_is_classic(in));
    cr_assert_eq(sched_inst_lower_bound(in), 47);
    sched_inst_destroy(&in);
    cr_assert_null(in);
    sched_inst_destroy(&in);    /* NULL-safe */
}

Test(sched, parses_taillard_layout)
{
    const char *t =
        "Nb of jobs, Nb of Machines\n2 2 1 2 3 4\nTimes\n3 4\n5 6\n"
        "Machines\n2 1\n1 2\n";
    sched_inst_t *in = s_parse(t);
    cr_assert_eq(sched_inst_op_machine(in, 0, 0, 0), 1);
    cr_assert_eq(sched_inst_op_dur(in, 0, 1), 4);
    cr_assert_eq(sched_inst_op_machine(in, 1, 1, 0), 1);
    sched_inst_destroy(&in);
}

Test(sched, parses_extensions)
{
    sched_inst_t *in = s_parse(
        "2 3 ext\n0/2 4 1 3\n1 5\n"
        "release 1 7\ndue 0 20 3\nweight 1 2\nsetup 1 0 1 4\ndown 2 5 8\n");
    cr_assert_eq(sched_inst_job_ops(in, 0), 2);
    cr_assert_eq(sched_inst_job_ops(in, 1), 1);
    cr_assert_eq(sched_inst_op_alts(in, 0, 0), 2);
    cr_assert_eq(sched_inst_op_machine(in, 0, 0, 1), 2);
    cr_assert_eq(sched_inst_release(in, 1), 7);
    cr_assert_eq(sched_inst_due(in, 0), 20);
    cr_assert_eq(sched_inst_weight(in, 0), 3);
    cr_assert_eq(sched_inst_weight(in, 1), 2);
    cr_assert_eq(sched_inst_setup(in, 1, 0, 1), 4);
    cr_assert_eq(sched_inst_setup(in, 1, 1, 0), 0);
    cr_assert_eq(sched_inst_windows(in, 2), 1);
    cr_assert_not(sched_inst_is_classic(in));
    sched_inst_destroy(&in);
}

Test(sched, rejects_bad_input_with_line_numbers)
{
    s_bad("", "empty file");
    s_bad("2 2\n0 1 1 2\n0 3\n", "bad.txt:3: job 1: expected 2 (machine time) pairs, got 1");
    s_bad("2 2\n0 1 1 2\n0 3 1\n", "bad.txt:3: job 1: expected (machine time) pairs, got an odd");
    s_bad("1 1\n0 -5\n", "bad.txt:2: processing time -5 is negative");
    s_bad("1 2\n0 1 2 3\n", "bad.txt:2: machine 2 out of range");
    s_bad("# c\n3 2\n0 1 1 2\n", "truncated: expected 3 job lines, found 1");
    s_bad("1 1\n0 1\n0 1\n", "bad.txt:3: unexpected data after the last job");
    s_bad("x 2\n", "bad.txt:1: job count: expected an integer");
    s_bad("0 2\n", "job count 0 is too small");
    s_bad("1 1 2\n0 1\n", "bad.txt:1: header");
    s_bad("1 1\n0 1.5\n", "expected an integer");
    s_bad("1 1\n0 99999999999\n", "out of range");
    s_bad("1 2 ext\n0 1\nrelease 1 5\n", "bad.txt:3: job 1 out of range");
    s_bad("1 2 ext\n0 1\ndown 0 5 5\n", "bad.txt:3: window end 5 must be after");
    s_bad("1 2 ext\n0 1\nsetup 0 0 0\n", "bad.txt:3: setup takes 4 numbers");
    s_bad("1 2 ext\n0 1\nfoo 1\n", "bad.txt:3: unexpected \"foo\"");
    s_bad("1 2 ext\n0/7 1\n", "bad.txt:2: machine 7 out of range");
    s_bad("T\n2 2\nTimes\n1 2\n", "truncated");
    s_bad("2 2\nTimes\n1 2\n3 4\nMachines\n1 3\n2 1\n", "bad.txt:6: machine 3 out of range");
}

Test(sched, load_reports_missing_file)
{
    char err[SCHED_ERR_LEN] = "";
    cr_assert_null(sched_inst_load("/nonexistent/x", SCHED_FMT_AUTO, err));
    cr_assert(strstr(err, "/nonexistent/x: cannot open"), "%s", err);
}

Test(sched, builder_validates)
{
    sched_inst_t *in = sched_inst_new(2, 2);
    int m = 2, ok[] = { 0, 1 };
    cr_assert_eq(sched_inst_add_op(in, 0, &m, 1, 3), -1);
    cr_assert_eq(sched_inst_add_op(in, 2, ok, 1, 3), -1);
    cr_assert_eq(sched_inst_add_op(in, 0, ok, 2, -1), -1);
    cr_assert_eq(sched_inst_add_op(in, 0, ok, 2, 3), 0);
    cr_assert_eq(sched_inst_add_op(in, 0, ok + 1, 1, 3), 1);
    cr_assert_eq(sched_inst_add_window(in, 0, 5, 5), -1);
    cr_assert_eq(sched_inst_set_job(in, 0, -1, 3, 1), -1);
    cr_assert_eq(sched_inst_set_setup(in, 0, 0, 2, 1), -1);
    sched_inst_destroy(&in);
}

/* ----------------------------------------------------------- baselines */

static sched_plan_t *s_rule(const sched_inst_t *in, sched_rule_t rule)
{
    sched_opts_t o;
    char err[SCHED_ERR_LEN] = "";
    sched_opts_default(&o);
    o.rule = rule;
    sched_plan_t *p = sched_solve(in, &o, NULL, err);
    cr_assert_not_null(p, "%s", err);
    cr_assert_eq(sched_check(in, p, 0, err), 0, "%s", err);
    return p;
}

/* Start times of (job, op) in instance order, 2 ops per job. */
static void s_expect(const sched_plan_t *p, const int *starts, const int *machs)
{
    for (int i = 0; i < 6; i++) {
        sched_entry_t e = sched_plan_entry(p, i);
        cr_assert_eq(e.job, i / 2);
        cr_assert_eq(e.op, i % 2);
        cr_assert_eq(e.start_tu, starts[i], "job %d op %d starts %d, want %d",
                     e.job, e.op, e.start_tu, starts[i]);
        cr_assert_eq(e.machine, machs[i]);
    }
}

Test(sched, baselines_hand_checked)
{
    sched_inst_t *in = s_parse(HAND);
    static const int machs[] = { 0, 1, 0, 1, 1, 0 };
    /* Worked out by hand in docs/sched.md ("Dispatch baselines"). */
    static const int fifo[] = { 0, 3, 3, 5, 0, 5 };
    static const int edd[] = { 0, 3, 4, 6, 0, 3 };
    static const int spt[] = { 2, 7, 0, 3, 0, 5 };
    sched_plan_t *p = s_rule(in, SCHED_RULE_FIFO);
    s_expect(p, fifo, machs);
    cr_assert_eq(sched_plan_makespan(p), 9);
    cr_assert_eq(sched_plan_wtard(p), 2);
    sched_plan_destroy(&p);
    p = s_rule(in, SCHED_RULE_EDD);
    s_expect(p, edd, machs);
    cr_assert_eq(sched_plan_makespan(p), 10);
    cr_assert_eq(sched_plan_wtard(p), 0);
    sched_plan_destroy(&p);
    p = s_rule(in, SCHED_RULE_SPT);
    s_expect(p, spt, machs);
    cr_assert_eq(sched_plan_makespan(p), 9);
    cr_assert_eq(sched_plan_wtard(p), 6);
    sched_plan_destroy(&p);
    sched_inst_destroy(&in);
}

/* ------------------------------------------------------------- checker */

/* A feasible ft06 plan to break in various ways. */
static sched_plan_t *s_ft06_plan(sched_inst_t **in)
{
    *in = s_parse(FT06);
    return s_rule(*in, SCHED_RULE_SPT);
}

static void s_expect_violation(const sched_inst_t *in, sched_plan_t *p,
                               const char *want)
{
    char err[SCHED_ERR_LEN] = "";
    sched_plan_score(p, in);
    cr_assert_eq(sched_check(in, p, 0, err), -1, "violation not found: %s", want);
    cr_assert(strstr(err, want), "error '%s' lacks '%s'", err, want);
}

Test(sched, checker_finds_violations)
{
    sched_inst_t *in;
    char err[SCHED_ERR_LEN] = "";
    sched_plan_t *p = s_ft06_plan(&in);
    cr_assert_eq(sched_check(in, p, 1, err), 0, "%s", err);

    /* Precedence: job 0 op 1 moved before op 0 ends (shifted to time 0). */
    sched_entry_t e = sched_plan_entry(p, 1), keep = e;
    e.end_tu -= e.start_tu;
    e.start_tu = 0;
    sched_plan_set_entry(p, 1, e);
    s_expect_violation(in, p, "job 0 op 1: starts at 0 before op 0 ends");
    sched_plan_set_entry(p, 1, keep);

    /* Wrong duration. */
    e = keep;
    e.end_tu++;
    sched_plan_set_entry(p, 1, e);
    s_expect_violation(in, p, "but takes 3");
    sched_plan_set_entry(p, 1, keep);

    /* Not an allowed machine. */
    e = keep;
    e.machine = (e.machine + 1) % 6;
    sched_plan_set_entry(p, 1, e);
    s_expect_violation(in, p, "is not allowed");
    sched_plan_set_entry(p, 1, keep);

    /* Machine overlap: the first operations of jobs 0, 2 and 4 all use
     * machine 2; pull the latest of them back onto the earliest one. */
    int late = 0, early = 0;
    for (int i = 0; i <= 24; i += 12) {
        if (sched_plan_entry(p, i).start_tu > sched_plan_entry(p, late).start_tu)
            late = i;
        if (sched_plan_entry(p, i).start_tu < sched_plan_entry(p, early).start_tu)
            early = i;
    }
    keep = sched_plan_entry(p, late);
    e = keep;
    e.start_tu = sched_plan_entry(p, early).start_tu;
    e.end_tu = e.start_tu + (keep.end_tu - keep.start_tu);
    sched_plan_set_entry(p, late, e);
    s_expect_violation(in, p, "machine 2:");
    sched_plan_set_entry(p, late, keep);

    /* Scheduled twice / an operation missing. */
    sched_plan_set_entry(p, 2, sched_plan_entry(p, 3));
    s_expect_violation(in, p, "scheduled twice");
    sched_plan_destroy(&p);
    sched_inst_destroy(&in);

    /* Stated objective must match. */
    p = s_ft06_plan(&in);
    sched_plan_t *q = sched_plan_new(36);
    for (int i = 0; i < 36; i++)
        sched_plan_set_entry(q, i, sched_plan_entry(p, i));
    cr_assert_eq(sched_check(in, q, 0, err), -1);
    cr_assert(strstr(err, "recomputed"), "%s", err);
    sched_plan_destroy(&q);

    /* Semi-active: delaying the very last operation is feasible but not
     * semi-active. */
    int last = -1;
    for (int i = 0; i < 36; i++)
        if (last < 0 || sched_plan_entry(p, i).end_tu > sched_plan_entry(p, last).end_tu)
            last = i;
    e = sched_plan_entry(p, last);
    e.start_tu += 5;
    e.end_tu += 5;
    sched_plan_set_entry(p, last, e);
    sched_plan_score(p, in);
    cr_assert_eq(sched_check(in, p, 0, err), 0, "%s", err);
    cr_assert_eq(sched_check(in, p, 1, err), -1);
    cr_assert(strstr(err, "not semi-active"), "%s", err);
    sched_plan_destroy(&p);
    sched_inst_destroy(&in);
}

Test(sched, checker_setups_windows_release)
{
    sched_inst_t *in = s_parse("2 1 ext\n0 2\n0 3\nsetup 0 0 1 5\n"
                               "down 0 20 30\nrelease 1 1\n");
    char err[SCHED_ERR_LEN] = "";
    sched_plan_t *p = sched_plan_new(2);
    sched_entry_t a = { 0, 0, 0, 0, 2 }, b = { 1, 0, 0, 6, 9 };
    sched_plan_set_entry(p, 0, a);
    sched_plan_set_entry(p, 1, b);
    s_expect_violation(in, p, "plus setup 5");
    b.start_tu = 7;
    b.end_tu = 10;
    sched_plan_set_entry(p, 1, b);
    sched_plan_score(p, in);
    cr_assert_eq(sched_check(in, p, 1, err), 0, "%s", err);
    /* In a maintenance window. */
    b.start_tu = 18;
    b.end_tu = 21;
    sched_plan_set_entry(p, 1, b);
    s_expect_violation(in, p, "which is down during [20, 30)");
    /* Before its release (machine free). */
    a = (sched_entry_t){ 0, 0, 0, 3, 5 };
    b = (sched_entry_t){ 1, 0, 0, 0, 3 };
    sched_plan_set_entry(p, 0, a);
    sched_plan_set_entry(p, 1, b);
    s_expect_violation(in, p, "before its release 1");
    sched_plan_destroy(&p);
    sched_inst_destroy(&in);
}
