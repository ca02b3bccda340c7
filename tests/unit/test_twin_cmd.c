/*  The twin's command table (agents/twin/cmd.c): one row per command, one
 *  parser for both forms, refusals that change nothing, and docs/twin.md's
 *  table kept equal to the code's.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/twin/twin.h"

/* deploy/factories/NAME.yaml with SEED. */
static twin_t *
s_factory (const char *name, uint64_t seed)
{
    const char *src = getenv ("AF_SRC");
    char path[512], err[512];
    snprintf (path, sizeof path, "%s/deploy/factories/%s.yaml", src ? src : ".", name);
    twin_t *t = twin_new_from_file (path, seed, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    return t;
}

static twin_t *
s_plant (void)
{
    return s_factory ("gigafactory", 1);
}

static twin_param_t
s_num (const char *name, double v)
{
    return (twin_param_t) { .name = name, .type = TWIN_VAL_NUM, .num = v };
}

static twin_param_t
s_text (const char *name, const char *v)
{
    return (twin_param_t) { .name = name, .type = TWIN_VAL_TEXT, .text = v };
}

Test (twin_cmd, table_rows_are_consistent)
{
    for (int k = 0; k < TWIN_CMD_COUNT; k++) {
        const twin_cmd_info_t *i = twin_cmd_info ((twin_cmd_kind_t) k);
        cr_assert_not_null (i, "row %d missing", k);
        cr_assert_eq ((int) i->kind, k, "row %d holds kind %d", k, (int) i->kind);
        cr_assert_str_eq (twin_cmd_name ((twin_cmd_kind_t) k), i->name);
        cr_assert_eq (twin_cmd_by_action (i->action), i, "action %s", i->action);
        cr_assert_eq (twin_cmd_by_proto_field (i->proto_field), i, "field %d", i->proto_field);
        cr_assert_not_null (i->params[0].name, "%s has no parameter", i->action);
    }
    cr_assert_null (twin_cmd_info (TWIN_CMD_COUNT));
    cr_assert_null (twin_cmd_by_action ("no_such_action"));
    cr_assert_null (twin_cmd_by_proto_field (10), "10 is the vibration request, not a command");
}

Test (twin_cmd, parse_and_apply)
{
    twin_t *t = s_plant ();
    const twin_cmd_info_t *ls = twin_cmd_by_action ("set_line_speed");
    twin_param_t p[] = { s_num ("speed", 1.1), s_text ("station", "wiring") };
    twin_cmd_t c;
    char err[256] = "";
    cr_assert_eq (twin_cmd_parse (t, ls, p, 2, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (c.kind, TWIN_CMD_LINE_SPEED);
    cr_assert_eq (c.u.line_speed.station, twin_station_index (t, "wiring"));
    cr_assert_float_eq (c.u.line_speed.speed, 1.1, 1e-12);
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "%s", err);
    twin_run (t, 0.1, NULL);
    cr_assert_float_eq (twin_observe (t)->stations[twin_station_index (t, "wiring")].speed, 1.1, 1e-12);
    /* Absent optional parameters take their defaults: every station. */
    cr_assert_eq (twin_cmd_parse (t, ls, p, 1, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (c.u.line_speed.station, -1);
    twin_destroy (&t);
}

Test (twin_cmd, bad_parameters_are_refused_with_a_reason)
{
    twin_t *t = s_plant ();
    twin_cmd_t c;
    char err[256];
    const twin_cmd_info_t *ls = twin_cmd_by_action ("set_line_speed");
    struct {
        twin_param_t p[2];
        size_t n;
        const char *want;
    } cases[] = {
        { { s_text ("station", "wiring") }, 1, "missing parameter 'speed'" },
        { { s_num ("speed", 1.0), s_text ("staton", "wiring") }, 2, "unknown parameter 'staton'" },
        { { s_text ("speed", "fast") }, 1, "must be a number" },
        { { s_num ("speed", 1.0), s_text ("station", "no-such") }, 2, "unknown station 'no-such'" },
        { { s_num ("speed", 1.0), s_num ("station", 3) }, 2, "must be a name" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        err[0] = 0;
        cr_assert_eq (twin_cmd_parse (t, ls, cases[i].p, cases[i].n, &c, err, sizeof err), -1, "case %zu", i);
        cr_assert (strstr (err, cases[i].want), "case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
    /* Choices by name or index; anything else refused. */
    const twin_cmd_info_t *bs = twin_cmd_by_action ("set_batch_sequence");
    twin_param_t rule = s_text ("rule", "edd");
    cr_assert_eq (twin_cmd_parse (t, bs, &rule, 1, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (c.u.batch.rule, TWIN_SEQ_EDD);
    cr_assert_eq (c.u.batch.batch_size, 1, "batch_size defaults to 1");
    rule = s_num ("rule", 2);
    cr_assert_eq (twin_cmd_parse (t, bs, &rule, 1, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (c.u.batch.rule, TWIN_SEQ_BATCH);
    rule = s_text ("rule", "lifo");
    cr_assert_eq (twin_cmd_parse (t, bs, &rule, 1, &c, err, sizeof err), -1);
    rule = s_num ("rule", 3);
    cr_assert_eq (twin_cmd_parse (t, bs, &rule, 1, &c, err, sizeof err), -1);
    twin_param_t size[] = { s_text ("rule", "batch"), s_num ("batch_size", 2.5) };
    cr_assert_eq (twin_cmd_parse (t, bs, size, 2, &c, err, sizeof err), -1, "a half unit is refused");
    twin_destroy (&t);
}

/* A parsed command the plant cannot carry out is refused and nothing changes. */
Test (twin_cmd, impossible_command_changes_nothing)
{
    twin_t *t = s_plant ();
    twin_run (t, 0.1, NULL);
    const twin_cmd_info_t *ls = twin_cmd_by_action ("set_line_speed");
    twin_param_t p = s_num ("speed", 9.0);
    twin_cmd_t c;
    char err[256] = "";
    cr_assert_eq (twin_cmd_parse (t, ls, &p, 1, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1);
    cr_assert (strstr (err, "outside"), "%s", err);
    for (int i = 0; i < twin_observe (t)->n_stations; i++)
        cr_assert_float_eq (twin_observe (t)->stations[i].speed, 1.0, 1e-12);
    twin_destroy (&t);
}

Test (twin_cmd, docs_table_matches_the_code)
{
    const char *src = getenv ("AF_SRC");
    char path[512];
    snprintf (path, sizeof path, "%s/docs/twin.md", src ? src : ".");
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f, "cannot read %s", path);
    static char doc[1 << 18];
    size_t n = fread (doc, 1, sizeof doc - 1, f);
    fclose (f);
    doc[n] = 0;
    const char *a = strstr (doc, "<!-- commands:begin -->\n"), *b = strstr (doc, "<!-- commands:end -->");
    cr_assert (a && b && b > a, "docs/twin.md lacks the commands markers");
    a += strlen ("<!-- commands:begin -->\n");
    char *table = NULL;
    size_t len = 0;
    FILE *m = open_memstream (&table, &len);
    twin_cmd_help (m, true);
    fclose (m);
    cr_assert_eq ((size_t) (b - a), len, "docs/twin.md's command table differs from `autofab-twin --commands`");
    cr_assert (!memcmp (a, table, len), "docs/twin.md's command table differs from `autofab-twin --commands`");
    free (table);
}

/* ------------------------------------------------------------ ownership */

static int s_repairs_ordered;

/* A minimal maintenance owner: orders a robot-free repair for every station
 * that waits for one. */
static void
s_owner_epoch (void *ctx, twin_t *t, const twin_obs_t *obs)
{
    (void) ctx;
    for (int i = 0; i < obs->n_stations; i++) {
        if (obs->stations[i].state != TWIN_ST_DOWN)
            continue;
        twin_cmd_t c = { .kind = TWIN_CMD_REPAIR, .u.repair = { i, false } };
        char err[256];
        if (twin_apply (t, &c, err, sizeof err) == 0)
            s_repairs_ordered++;
    }
}

static twin_t *
s_stressed (void)
{
    twin_t *t = s_factory ("stressed", 2);
    twin_policy_t p;
    twin_policy_baseline (t, &p);
    twin_set_policy (t, &p);
    return t;
}

/* An owned concern's practice stops: no PM at the maker's interval, and a
 * breakdown waits for the owner's repair order; handing it back resumes
 * the practice and repairs what waited. */
Test (twin_cmd, owned_maintenance_stops_the_practice_until_handed_back)
{
    cr_assert_eq (twin_own_by_name ("maintenance"), TWIN_OWN_MAINTENANCE);
    cr_assert_eq (twin_own_by_name ("no-such"), -1);
    twin_t *base = s_stressed ();
    twin_run (base, 400, NULL);
    twin_kpi_t kb;
    twin_kpis (base, &kb);
    cr_assert_gt (kb.planned_downtime_h, 0, "the baseline does PM here");
    cr_assert_gt (kb.breakdowns, 0);
    twin_destroy (&base);

    /* Owned, and the owner does nothing: no PM, and broken stations stay down. */
    twin_t *t = s_stressed ();
    twin_set_owned (t, TWIN_OWN_MAINTENANCE, true);
    cr_assert (twin_owned (t, TWIN_OWN_MAINTENANCE));
    twin_run (t, 400, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    cr_assert_eq (k.planned_downtime_h, 0, "no PM while an agent owns maintenance");
    cr_assert_gt (k.breakdowns, 0);
    cr_assert_eq (k.mttr_h, 0, "no repair was ordered, so none was done");
    /* Handed back: what waits is repaired and PM resumes. */
    twin_set_owned (t, TWIN_OWN_MAINTENANCE, false);
    twin_run (t, 400, NULL);
    twin_kpis (t, &k);
    cr_assert_gt (k.mttr_h, 0, "repairs after the hand-back");
    cr_assert_gt (k.planned_downtime_h, 0, "PM after the hand-back");
    twin_destroy (&t);

    /* An owner that orders repairs gets them done. */
    t = s_stressed ();
    twin_set_owned (t, TWIN_OWN_MAINTENANCE, true);
    s_repairs_ordered = 0;
    twin_set_epoch_cb (t, s_owner_epoch, NULL);
    twin_run (t, 400, NULL);
    twin_kpis (t, &k);
    cr_assert_gt (s_repairs_ordered, 0);
    cr_assert_gt (k.mttr_h, 0);
    cr_assert_eq (k.planned_downtime_h, 0);
    /* A repair order for a station that does not wait for one is refused. */
    twin_cmd_t c = { .kind = TWIN_CMD_REPAIR, .u.repair = { 0, false } };
    char err[256] = "";
    if (twin_observe (t)->stations[0].state != TWIN_ST_DOWN) {
        cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1);
        cr_assert (strstr (err, "not waiting"), "%s", err);
    }
    twin_destroy (&t);
}

/* ------------------------------------------------------------ common random numbers */

static void
s_line_kpis (double defect_p, twin_kpi_t *k)
{
    char yaml[1024];
    snprintf (yaml, sizeof yaml,
              "factory: {name: crn, warmup_h: 1}\narrivals: {mode: saturated}\n"
              "stations:\n"
              "  - {name: a, process_s: {dist: exponential, mean: 30}, mtbf_h: 20, repair_min: 30,"
              " quality: {defect_p: %g}}\n"
              "  - {name: b, process_s: {dist: gamma, mean: 28, cv: 0.5}, buffer_cap: 2, mtbf_h: 30,"
              " repair_min: 20, quality: {defect_p: %g}}\n"
              "quality: {sample_every: 1, rework_p: 0}\n", defect_p, defect_p);
    char err[256];
    twin_t *t = twin_new_from_text (yaml, strlen (yaml), "crn.yaml", 9, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    twin_run (t, 200, NULL);
    twin_kpis (t, k);
    twin_destroy (&t);
}

/* Each station draws processing, quality, failures, repairs and part lives
 * from streams of their own: making defects 50 times likelier (more quality
 * draws) leaves every processing time, failure and repair where it was, so
 * flow and downtime are identical and only what inspection finds differs. */
Test (twin_cmd, a_change_in_one_concern_leaves_other_draws_alone)
{
    twin_kpi_t lo, hi;
    s_line_kpis (0.001, &lo);
    s_line_kpis (0.05, &hi);
    cr_assert_gt (hi.scrap_units, lo.scrap_units, "more defects were found");
    cr_assert_eq (lo.breakdowns, hi.breakdowns);
    cr_assert_float_eq (lo.downtime_h, hi.downtime_h, 1e-9);
    cr_assert_float_eq (lo.cycle_time_mean_min, hi.cycle_time_mean_min, 1e-9,
                        "processing times moved: %g vs %g min", lo.cycle_time_mean_min, hi.cycle_time_mean_min);
    cr_assert_float_eq (lo.units + lo.scrap_units, hi.units + hi.scrap_units, 1e-9, "units through the line");
}

/* ------------------------------------------------------------ failures count up time */

static void
s_pm_every_5h (void *ctx, twin_t *t, const twin_obs_t *obs)
{
    (void) ctx;
    if (obs->epoch % 300 != 150)
        return;
    twin_cmd_t c = { .kind = TWIN_CMD_MAINTENANCE, .u.maintenance = { 0, false } };
    char err[256];
    twin_apply (t, &c, err, sizeof err);
}

/* Up time at each random breakdown of station 0 (every stop lasts 1 h). */
static int
s_breakdown_uptimes (bool with_pm, double *up_h, int max, int *pms)
{
    const char *yaml = "factory: {name: up, warmup_h: 0}\narrivals: {mode: saturated}\n"
                       "stations:\n  - {name: m, process_s: 1, mtbf_h: 3, repair_min: 60, pm_min: 60}\n";
    char err[256];
    twin_t *t = twin_new_from_text (yaml, strlen (yaml), "up.yaml", 21, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    twin_record_series (t, true);
    if (with_pm)
        twin_set_epoch_cb (t, s_pm_every_5h, NULL);
    twin_run (t, 100, NULL);
    size_t n;
    const twin_maint_event_t *ev = twin_maint_events (t, &n);
    int k = 0, stops = 0;
    *pms = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        if (!strcmp (ev[i].kind, "breakdown"))
            up_h[k++] = ev[i].t_h - stops;
        if (!strcmp (ev[i].kind, "breakdown") || !strcmp (ev[i].kind, "pm"))
            stops++;
        *pms += !strcmp (ev[i].kind, "pm");
    }
    twin_destroy (&t);
    return k;
}

/* A PM stops the machine, so it pauses the failure clock: every random
 * failure comes at the same up time with or without PMs in between — a
 * PM placed over a failure that was coming cannot cancel it. */
Test (twin_cmd, random_failures_count_up_time_only)
{
    double a[40], b[40];
    int pa, pb;
    int na = s_breakdown_uptimes (false, a, 40, &pa), nb = s_breakdown_uptimes (true, b, 40, &pb);
    cr_assert_eq (pa, 0);
    cr_assert_geq (pb, 10, "PMs were done (%d)", pb);
    cr_assert_gt (na, 10);
    cr_assert_gt (nb, 10);
    int n = na < nb ? na : nb;
    for (int k = 0; k < n; k++)
        cr_assert_float_eq (a[k], b[k], 1e-6, "failure %d at %g h of up time without PM, %g with", k, a[k], b[k]);
}

/* ------------------------------------------------------------ the information barrier */

static double
s_tone (const double *x, size_t n, double fs, double f)
{
    double re = 0, im = 0;
    for (size_t i = 0; i < n; i++) {
        re += x[i] * cos (2 * M_PI * f * (double) i / fs);
        im -= x[i] * sin (2 * M_PI * f * (double) i / fs);
    }
    return 2 * sqrt (re * re + im * im) / (double) n;
}

/* The factory with every part new at the start (health.initial_age: new),
 * so that 400 h of wear is 400 h from new on every seed (issue 11: the
 * default plant starts at a running plant's ages, and a bearing fitted
 * the day before has no fault to ring yet). */
static twin_t *
s_factory_new_parts (const char *name, uint64_t seed)
{
    const char *src = getenv ("AF_SRC");
    char path[512], err[512];
    snprintf (path, sizeof path, "%s/deploy/factories/%s.yaml", src ? src : ".", name);
    FILE *f = fopen (path, "rb");
    cr_assert_not_null (f, "%s", path);
    static char text[1 << 17];
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text[n] = 0;
    char *age = strstr (text, "initial_age: steady_state");
    if (age)
        memcpy (age, "initial_age: new         ", strlen ("initial_age: steady_state"));
    twin_t *t = twin_new_from_text (text, n, path, seed, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    return t;
}

/* A snippet carries the tone of the bearing fault that is developing and
 * not the others; which fault it is varies from bearing to bearing. */
Test (twin_cmd, a_snippet_carries_only_the_developing_fault)
{
    int seen[3] = { 0, 0, 0 };
    for (uint64_t seed = 1; seed <= 12; seed++) {
        twin_t *t = s_factory_new_parts ("gigafactory", seed);
        twin_run (t, 400, NULL);         /* the cell loader's bearing wears */
        int st = twin_station_index (t, "cell-load");
        size_t n = 16384;
        double fs = 8192, shaft = 0, x[16384];
        cr_assert_eq (twin_vibration_snippet (t, st, fs, n, x, &shaft), 0);
        double tones[3] = { s_tone (x, n, fs, 3.15 * shaft), s_tone (x, n, fs, 5.85 * shaft),
                            s_tone (x, n, fs, shaft / 0.6 * 0.91) };
        int best = 0;
        for (int k = 1; k < 3; k++)
            if (tones[k] > tones[best])
                best = k;
        for (int k = 0; k < 3; k++)
            if (k != best)
                cr_assert (tones[k] < 0.2 * tones[best], "seed %lu: tones %g %g %g, more than one fault rings",
                           (unsigned long) seed, tones[0], tones[1], tones[2]);
        seen[best]++;
        twin_destroy (&t);
    }
    cr_assert (seen[0] && seen[1] && seen[2], "faults seen: outer %d, inner %d, ball %d", seen[0], seen[1], seen[2]);
}

/* A robot sent to a running station swaps the part it is told to; the twin
 * never chooses the truly most worn one for it. */
Test (twin_cmd, a_robot_repair_names_its_part)
{
    twin_t *t = s_plant ();
    twin_run (t, 1, NULL);
    const twin_cmd_info_t *at = twin_cmd_by_action ("assign_task");
    twin_param_t p[] = { s_num ("robot", 0), s_text ("task", "repair"), s_text ("station", "stack") };
    twin_cmd_t c;
    char err[256] = "";
    cr_assert_eq (twin_cmd_parse (t, at, p, 3, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1, "a running station's repair must name a part");
    cr_assert (strstr (err, "names the component"), "%s", err);
    /* lube: the default plant's robots have that skill, not the joint's
     * (health.robot_skills, issue 11). */
    twin_param_t q[] = { s_num ("robot", 0), s_text ("task", "repair"), s_text ("station", "stack"),
                         s_text ("component", "lube") };
    cr_assert_eq (twin_cmd_parse (t, at, q, 4, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "%s", err);
    twin_param_t r[] = { s_num ("robot", 0), s_text ("task", "repair"), s_text ("station", "stack"),
                         s_text ("component", "belt") };
    cr_assert_eq (twin_cmd_parse (t, at, r, 4, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1, "stack has no belt");
    twin_destroy (&t);
}

/* What a controller's forecast gives is not the plant's own future: run on,
 * the live plant differs from the no-change forecast (an exact replay was
 * equal to it, and foretold every breakdown), while the forecast's two arms
 * share their random numbers (a command that changes nothing gives the
 * same KPIs in both). */
Test (twin_cmd, what_if_does_not_foretell_the_plant)
{
    twin_t *t = s_stressed ();
    twin_run (t, 200, NULL);
    twin_cmd_t same = { .kind = TWIN_CMD_HVAC, .u.hvac = { 21 } };   /* the configured set point */
    twin_kpi_t base, changed, live;
    char err[256] = "", a[4096], b[4096], c[4096];
    cr_assert_eq (twin_whatif (t, 300, &same, true, &base, &changed, err, sizeof err), 0, "%s", err);
    twin_kpi_json (&base, a, sizeof a);
    twin_kpi_json (&changed, b, sizeof b);
    cr_assert_str_eq (a, b, "both arms of a forecast use the same random numbers");
    /* The same forecast asked twice is the same (no hidden randomness). */
    twin_kpi_t again, again2;
    cr_assert_eq (twin_whatif (t, 300, NULL, true, &again, &again2, err, sizeof err), 0, "%s", err);
    twin_kpi_json (&again, c, sizeof c);
    cr_assert_str_eq (a, c);
    /* The plant's own next 300 h (KPIs count from the start: take the difference). */
    twin_kpi_t before;
    twin_kpis (t, &before);
    twin_run (t, 300, NULL);
    twin_kpis (t, &live);
    /* Station-hours down from random failures and wear over the same 300 h:
     * an exact replay gives the plant's own figure to rounding. */
    double down = live.unplanned_downtime_h - before.unplanned_downtime_h;
    cr_log_info ("unplanned downtime: forecast %.6f h, plant %.6f h", base.unplanned_downtime_h, down);
    cr_assert (fabs (base.unplanned_downtime_h - down) > 1e-3,
               "the forecast replayed the plant's own future draws");
    twin_destroy (&t);
}

/* ------------------------------------------------------------ plant description */

#include <json-c/json.h>

/* What a controller fetches at start: engineering data, parseable, with
 * nothing hidden in it (no drawn lives, no wear, no seed, no config path). */
Test (twin_cmd, the_plant_description_tells_what_documents_would)
{
    twin_t *t = s_plant ();
    twin_run (t, 100, NULL);            /* wear and drawn lives exist by now */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream (&text, &len);
    cr_assert_eq (twin_describe (t, m), 0);
    fclose (m);
    json_object *root = json_tokener_parse (text);
    cr_assert_not_null (root, "not JSON: %.200s", text);
    json_object *stations, *variants, *parts, *floor;
    cr_assert (json_object_object_get_ex (root, "stations", &stations));
    cr_assert_eq ((int) json_object_array_length (stations), twin_observe (t)->n_stations);
    cr_assert (json_object_object_get_ex (root, "variants", &variants));
    cr_assert (json_object_object_get_ex (root, "parts", &parts));
    cr_assert (json_object_object_get_ex (root, "floor", &floor));
    json_object *s0 = json_object_array_get_idx (stations, 0), *comps, *v;
    cr_assert (json_object_object_get_ex (s0, "components", &comps));
    cr_assert_gt ((int) json_object_array_length (comps), 0);
    cr_assert (json_object_object_get_ex (json_object_array_get_idx (comps, 0), "rated_limit", &v));
    for (const char *hidden[] = { "\"life\"", "\"wear\"", "seed", ".yaml", "failure_due", "defect_wear_gain", NULL },
         **h = hidden; *h; h++)
        cr_assert_null (strstr (text, *h), "the description shows %s", *h);
    json_object_put (root);
    free (text);
    twin_destroy (&t);
}

/* Owned robot dispatch: the plant's own tasks (bin refills) wait in the
 * pool for the owner; dispatch_task hands one to a robot; handed back, the
 * twin dispatches the pool itself again. */
Test (twin_cmd, owned_robot_dispatch_waits_for_the_owner)
{
    twin_t *t = s_plant ();
    twin_set_owned (t, TWIN_OWN_ROBOTS, true);
    twin_run (t, 12, NULL);
    size_t n = 0;
    const twin_pool_task_t *pool = twin_task_pool (t, &n);
    cr_assert_gt (n, 0, "refills wait in the pool");
    cr_assert_eq (pool[0].kind, TWIN_TASK_DELIVER);
    cr_assert_not_null (pool[0].part);
    twin_kpi_t k;
    twin_kpis (t, &k);
    cr_assert_eq (k.robot_utilisation_pct, 0, "no robot moved without the owner");
    uint32_t first = pool[0].id;
    const twin_cmd_info_t *d = twin_cmd_by_action ("dispatch_task");
    twin_param_t p[] = { s_num ("task", first), s_num ("robot", 0) };
    twin_cmd_t c;
    char err[256] = "";
    cr_assert_eq (twin_cmd_parse (t, d, p, 2, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "%s", err);
    pool = twin_task_pool (t, &n);
    for (size_t i = 0; i < n; i++)
        cr_assert_neq (pool[i].id, first, "the dispatched task left the pool");
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1, "a task is dispatched once");
    twin_run (t, 1, NULL);
    twin_kpis (t, &k);
    cr_assert_gt (k.robot_utilisation_pct, 0);
    /* Handed back: the twin's practice empties the pool. */
    twin_set_owned (t, TWIN_OWN_ROBOTS, false);
    twin_run (t, 6, NULL);
    twin_task_pool (t, &n);
    cr_assert_lt (n, 3, "%zu tasks still wait after the hand-back", n);
    twin_destroy (&t);
}
