/*  The off-world habitat plant (deploy/factories/mars-habitat.yaml): sols
 *  and dust storms, tele-operated repairs, supply by scheduled delivery,
 *  habitat construction as a project on wearing rovers, the shared airlock;
 *  and the Earth factories unchanged by all of it.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/twin/twin.h"
#include "twin_bad_config.h"

/* The gigafactory's KPIs for seed 1, 168 h, baseline policy, recorded with
 * `autofab-twin --json` before the off-world features went in (re-recorded when
 * the plant's decision epoch went from 15 min to one minute, and when each
 * station got a random stream per purpose, and when the default plant got
 * its health: section — running-plant part ages, P-F warnings, spares,
 * labour — and every other concern's physics in issue 11). */
static const char s_giga_golden[] =
    "{\"units\":6994,\"throughput_uph\":41.631,\"cycle_time_mean_min\":28.9585,\"wip_mean\":100.462,"
    "\"oee_pct\":60.3261,\"availability_pct\":97.0216,\"performance_pct\":62.2136,\"quality_pct\":99.9428,"
    "\"downtime_h\":14.7228,\"unplanned_downtime_h\":9.22269,\"planned_downtime_h\":5.50011,"
    "\"mtbf_h\":94.9484,\"mttr_h\":0.658764,\"breakdowns\":14,\"escaped_defects_ppm\":10437.5,"
    "\"escaped_defects\":73,\"scrap_units\":3,\"rework_units\":1,\"energy_kwh\":55517.4,"
    "\"energy_kwh_per_unit\":7.93786,\"energy_cost\":10493.9,\"energy_cost_per_unit\":1.50042,"
    "\"peak_kw\":425.783,\"solar_kwh\":3180.57,\"manual_interventions\":21,"
    "\"robot_utilisation_pct\":37.4094,\"shortage_h\":2.26667,\"damaged_parts\":855,\"orders_lost\":0,"
    "\"sim_h\":168,\"maintenance_cost\":640.026,\"lost_output_h\":4.66914,\"spares_used\":0,"
    "\"labour_h\":14.2228,\"lead_time_mean_min\":143.811,\"tardy_pct\":0,\"tardiness_mean_h\":0,"
    "\"wip_line_mean\":20.1195,\"fg_mean\":250.079,\"arrivals\":7096,\"robot_collisions\":224,"
    "\"robot_deadlocks\":1,\"robot_travel_km\":116.03,\"robot_battery_empty\":0,\"battery_wear_cost\":0,"
    "\"demand_cost\":1371.84,\"grid_outages\":0,\"grid_outage_h\":0,\"unserved_kwh\":0,\"deferred_kwh\":0,"
    "\"holding_cost\":210473,\"intake_cost\":45,\"parts_returned\":0,\"damaged_at_line\":34,"
    "\"quality_cost\":0,\"inspection_cost\":0,\"rework_cost\":0,\"scrap_cost\":0,\"field_return_cost\":0,"
    "\"field_returns\":0,\"inspections\":349,\"inspections_missed\":0,\"diverted_units\":0,"
    "\"false_diverts\":0,\"skipped_steps\":7,\"recalibrations\":3,\"bottleneck\":2}";

static char *
s_read (const char *name)
{
    const char *src = getenv ("AF_SRC");
    char path[512];
    snprintf (path, sizeof path, "%s/deploy/factories/%s.yaml", src ? src : ".", name);
    FILE *f = fopen (path, "rb");
    cr_assert_not_null (f, "cannot open %s", path);
    static char buf[65536];
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = 0;
    char *text = strdup (buf);
    cr_assert_not_null (text);
    return text;
}

/* TEXT with the first FROM replaced by TO (FROM must be there). */
static char *
s_replace (const char *text, const char *from, const char *to)
{
    const char *at = strstr (text, from);
    cr_assert_not_null (at, "'%s' not in the config", from);
    size_t n = strlen (text) - strlen (from) + strlen (to) + 1;
    char *out = malloc (n);
    cr_assert_not_null (out);
    snprintf (out, n, "%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
    return out;
}

static twin_t *
s_twin (const char *yaml, uint64_t seed)
{
    char err[512] = "";
    twin_t *t = twin_new_from_text (yaml, strlen (yaml), "test.yaml", seed, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    twin_policy_t p;
    cr_assert_eq (twin_policy_baseline (t, &p), 0);
    twin_set_policy (t, &p);
    return t;
}

static void
s_run (const char *yaml, uint64_t seed, double hours, twin_kpi_t *k, twin_site_stats_t *ss)
{
    twin_t *t = s_twin (yaml, seed);
    twin_run (t, hours, NULL);
    twin_kpis (t, k);
    if (ss)
        twin_site_stats (t, ss);
    twin_destroy (&t);
}

static void
s_json (const char *yaml, uint64_t seed, double hours, char *buf, size_t len)
{
    twin_kpi_t k;
    s_run (yaml, seed, hours, &k, NULL);
    cr_assert (twin_kpi_json (&k, buf, len) > 0);
}

Test (twin_mars, loads_and_runs_deterministically)
{
    char *y = s_read ("mars-habitat");
    char a[4096], b[4096], c[4096];
    s_json (y, 1, 720, a, sizeof a);
    s_json (y, 1, 720, b, sizeof b);
    s_json (y, 2, 720, c, sizeof c);
    cr_assert_str_eq (a, b, "same seed, different KPIs:\n%s\n%s", a, b);
    cr_assert_str_neq (a, c, "a different seed gave identical KPIs");
    cr_assert (strstr (a, "\"project_makespan_h\":") && strstr (a, "\"project_done_pct\":"), "%s", a);
    twin_kpi_t k;
    twin_site_stats_t ss;
    s_run (y, 1, 720, &k, &ss);
    cr_assert (k.has_project && k.units == ss.tasks_done && ss.tasks == 20, "units %g of %g", k.units, ss.tasks);
    cr_assert (k.project_done_pct > 0 && k.project_makespan_h > 0);
    free (y);
}

Test (twin_mars, dust_storms_cut_solar_and_raise_wear)
{
    char *y = s_read ("mars-habitat");
    char *calm = s_replace (y, "onset_per_sol: 0.08", "onset_per_sol: 0");
    double solar[2] = { 0, 0 }, broke[2] = { 0, 0 }, storms = 0, storm_h = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        twin_kpi_t k;
        twin_site_stats_t ss;
        s_run (y, seed, 720, &k, &ss);
        solar[0] += k.solar_kwh;
        broke[0] += k.breakdowns;
        storms += ss.storms;
        storm_h += ss.storm_h;
        s_run (calm, seed, 720, &k, &ss);
        cr_assert_eq (ss.storms, 0);
        solar[1] += k.solar_kwh;
        broke[1] += k.breakdowns;
    }
    cr_assert (storms > 0 && storm_h > 0, "no storm in 4 × 720 h");
    cr_assert (solar[0] < solar[1], "solar with storms %g kWh, without %g", solar[0], solar[1]);
    cr_assert (broke[0] > broke[1], "breakdowns with storms %g, without %g", broke[0], broke[1]);
    free (calm);
    free (y);
}

/* One station that fails often, constant repair and response times and
 * enough technicians that nobody queues: the MTTR is exact. */
static const char s_teleop_yaml[] =
    "stations:\n"
    "  - {name: a, process_s: 60, mtbf_h: 10, repair_min: 30}\n"
    "people: {technicians: 5, response_min: 10%s}\n";

Test (twin_mars, teleoperation_waits_for_the_link)
{
    char yaml[512];
    twin_kpi_t on, remote, dark;
    twin_site_stats_t ss;
    snprintf (yaml, sizeof yaml, s_teleop_yaml, "");
    s_run (yaml, 3, 2000, &on, NULL);
    snprintf (yaml, sizeof yaml, s_teleop_yaml, ", remote_only: true, link_delay_s: 600");
    s_run (yaml, 3, 2000, &remote, &ss);
    cr_assert (on.breakdowns > 20 && remote.breakdowns > 20);
    cr_assert (fabs (on.mttr_h - 40.0 / 60) < 1e-9, "on-site MTTR %g h", on.mttr_h);
    double round_trip_h = 2 * 600 / 3600.0;
    cr_assert (remote.mttr_h >= on.mttr_h + round_trip_h - 1e-9, "remote MTTR %g h, on site %g h",
               remote.mttr_h, on.mttr_h);
    /* Each tele-operation is still a manual intervention, and counted. */
    cr_assert (remote.manual_interventions >= remote.breakdowns, "%g manual for %g breakdowns",
               remote.manual_interventions, remote.breakdowns);
    cr_assert (ss.teleops >= remote.breakdowns && ss.link_wait_h > 0);
    cr_assert (remote.unplanned_downtime_h > on.unplanned_downtime_h * remote.breakdowns / on.breakdowns);
    /* A daily blackout only adds waiting. */
    snprintf (yaml, sizeof yaml, s_teleop_yaml,
              ", remote_only: true, link_delay_s: 600, link_blackout: {every_h: 24, duration_h: 6}");
    s_run (yaml, 3, 2000, &dark, NULL);
    cr_assert (dark.mttr_h > remote.mttr_h, "blackouts: MTTR %g h, without %g h", dark.mttr_h, remote.mttr_h);
}

Test (twin_mars, project_respects_precedence)
{
    char *y = s_read ("mars-habitat");
    twin_t *t = s_twin (y, 5);
    twin_run (t, 720, NULL);
    size_t n;
    const twin_project_task_t *tk = twin_project_tasks (t, &n);
    cr_assert_eq (n, 20);
    size_t started = 0;
    for (size_t i = 0; i < n; i++) {
        if (tk[i].t_start_s < 0)
            continue;
        started++;
        cr_assert (tk[i].robot >= 0);
        for (int k = 0; k < tk[i].n_after; k++) {
            const twin_project_task_t *p = &tk[tk[i].after[k]];
            cr_assert (p->t_end_s >= 0 && p->t_end_s <= tk[i].t_start_s,
                       "'%s' started at %g s before '%s' ended (%g s)", tk[i].name, tk[i].t_start_s,
                       p->name, p->t_end_s);
        }
        if (tk[i].t_end_s >= 0)
            cr_assert (tk[i].t_end_s >= tk[i].t_start_s);
    }
    cr_assert (started > 10, "only %zu tasks started", started);
    /* The last task needs all the others (through the DAG). */
    cr_assert (!strcmp (tk[n - 1].name, "commissioning"));
    twin_destroy (&t);
    free (y);
}

Test (twin_mars, airlock_capacity_and_waits)
{
    char *y = s_read ("mars-habitat");
    char *wide = s_replace (y, "airlock: {capacity: 1,", "airlock: {capacity: 2,");
    twin_kpi_t k;
    twin_site_stats_t one = { 0 }, two = { 0 };
    double waits = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        s_run (y, seed, 720, &k, &one);
        cr_assert_eq (one.airlock_capacity, 1);
        cr_assert (one.airlock_max_inside == 1, "%d in an airlock for 1", one.airlock_max_inside);
        cr_assert (one.airlock_passages > 0 && one.airlock_utilisation > 0);
        waits += one.airlock_waits;
        s_run (wide, seed, 720, &k, &two);
        cr_assert (two.airlock_max_inside <= 2, "%d in an airlock for 2", two.airlock_max_inside);
    }
    cr_assert (waits > 0, "rovers never waited for the airlock");
    free (wide);
    free (y);
}

Test (twin_mars, rovers_repaired_by_another_rover)
{
    char *y = s_read ("mars-habitat");
    char *by_robot = s_replace (y, "repair_by: teleop", "repair_by: robot");
    double broke = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        twin_kpi_t tele, robot;
        twin_site_stats_t st, sr;
        s_run (y, seed, 720, &tele, &st);
        s_run (by_robot, seed, 720, &robot, &sr);
        broke += sr.rover_breakdowns;
        cr_assert_eq (robot.project_done_pct, 100, "seed %llu: project stuck at %g %%",
                      (unsigned long long) seed, robot.project_done_pct);
        /* Robots fix rovers without a person: fewer manual interventions
         * per station breakdown than tele-operated rover repairs need. */
        cr_assert (robot.manual_interventions - (robot.breakdowns - sr.rover_breakdowns)
                   <= tele.manual_interventions - (tele.breakdowns - st.rover_breakdowns));
    }
    cr_assert (broke > 0, "no rover broke down");
    free (by_robot);
    free (y);
}

Test (twin_mars, rover_service_command)
{
    char *y = s_read ("mars-habitat");
    twin_t *t = s_twin (y, 1);
    twin_run (t, 2, NULL);
    char err[256] = "";
    twin_cmd_t c = { .kind = TWIN_CMD_ROVER_SERVICE, .u.rover = { 9, false } };
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1);
    cr_assert (strstr (err, "robot 9"), "%s", err);
    c.u.rover.robot = 1;
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1, "a second service was accepted");
    twin_run (t, 48, NULL);
    twin_site_stats_t ss;
    twin_site_stats (t, &ss);
    cr_assert (ss.rover_services >= 1);
    twin_destroy (&t);
    /* The baseline services at the maker's interval of work hours. */
    double services = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        twin_kpi_t k;
        s_run (y, seed, 720, &k, &ss);
        services += ss.rover_services;
    }
    cr_assert (services > 0, "the baseline never serviced a rover");
    free (y);
    /* A plant without rovers refuses it. */
    y = s_read ("gigafactory");
    t = s_twin (y, 1);
    c.u.rover.robot = 0;
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1);
    twin_destroy (&t);
    free (y);
}

Test (twin_mars, fork_replays_the_habitat)
{
    char *y = s_read ("mars-habitat");
    twin_t *t = s_twin (y, 4);
    twin_run (t, 100, NULL);
    char err[256] = "";
    twin_cmd_t c = { .kind = TWIN_CMD_ROVER_SERVICE, .u.rover = { 2, true } };
    twin_apply (t, &c, err, sizeof err);
    twin_t *f = twin_fork (t, err, sizeof err);
    cr_assert_not_null (f, "%s", err);
    twin_policy_t p;
    twin_policy_baseline (f, &p);
    twin_set_policy (f, &p);
    twin_run (t, 200, NULL);
    twin_run (f, 200, NULL);
    twin_kpi_t a, b;
    char ja[4096], jb[4096];
    twin_kpis (t, &a);
    twin_kpis (f, &b);
    twin_kpi_json (&a, ja, sizeof ja);
    twin_kpi_json (&b, jb, sizeof jb);
    cr_assert_str_eq (ja, jb, "fork and live differ:\n%s\n%s", ja, jb);
    twin_destroy (&f);
    twin_destroy (&t);
    free (y);
}

static int s_topics;
static void
s_count_site (void *ctx, const twin_sample_t *s)
{
    (void) ctx;
    if (!strcmp (s->topic, "site") || !strcmp (s->topic, "airlock") || !strcmp (s->topic, "project"))
        s_topics++;
}

Test (twin_mars, telemetry_has_site_airlock_project)
{
    char *y = s_read ("mars-habitat");
    twin_t *t = s_twin (y, 1);
    twin_run (t, 24, NULL);
    s_topics = 0;
    twin_telemetry_foreach (t, s_count_site, NULL);
    cr_assert_eq (s_topics, 3);
    twin_destroy (&t);
    free (y);
    y = s_read ("gigafactory");
    t = s_twin (y, 1);
    twin_run (t, 24, NULL);
    s_topics = 0;
    twin_telemetry_foreach (t, s_count_site, NULL);
    cr_assert_eq (s_topics, 0, "an Earth factory published off-world telemetry");
    twin_destroy (&t);
    free (y);
}

Test (twin_mars, delivery_only_parts_refuse_reorders)
{
    char *y = s_read ("mars-habitat");
    twin_t *t = s_twin (y, 1);
    twin_run (t, 1, NULL);
    int p = twin_part_index (t, "pressure-panel");
    cr_assert (p >= 0);
    char err[256] = "";
    twin_cmd_t c = { .kind = TWIN_CMD_REORDER, .u.reorder = { p, 10 } };
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1);
    cr_assert (strstr (err, "delivery"), "%s", err);
    /* The lander brings what it brings, on time. */
    const twin_obs_t *o = twin_observe (t);
    cr_assert (o->parts[p].warehouse > 0 && o->parts[p].on_order == 0);
    twin_destroy (&t);
    free (y);
}


#define S_ROBOTS "stations:\n  - {name: a, process_s: 5}\nrobots: {mobile: 2}\n"
static const twin_bad_config_t s_bad[] = {
    { S_ROBOTS "project:\n  tasks:\n    - {name: a, duration_h: 1, after: [c]}\n"
      "    - {name: b, duration_h: 1, after: [a]}\n    - {name: c, duration_h: 1, after: [b]}\n", 6, "cycle" },
    { S_ROBOTS "project:\n  tasks:\n    - {name: a, duration_h: 1}\n"
      "    - {name: b, duration_h: 1,\n       after: [a, nope]}\n", 8, "nope" },
    { S_ROBOTS "project:\n  tasks:\n    - {name: a, duration_h: 1, after: [a]}\n", 6, "cycle" },
    { S_ROBOTS "project:\n  tasks:\n    - {name: a, duration_h: 1}\n    - {name: a, duration_h: 2}\n", 7, "twice" },
    { S_ROBOTS "project:\n  tasks:\n    - {name: a}\n", 6, "duration_h" },
    { S_ROBOTS "project:\n  rule: fastest\n  tasks:\n    - {name: a, duration_h: 1}\n", 5, "rule" },
    { S_ROBOTS "project:\n  tasks:\n    - {name: a, duration_h: 1, parts: {bolt: 2}}\n", 6, "bolt" },
    { "stations:\n  - {name: a, process_s: 5}\nproject:\n  tasks:\n    - {name: a, duration_h: 1}\n", 4, "robots" },
    { "stations:\n  - {name: a, process_s: 5}\nrobots: {mobile: 2, skills: [[dig], [haul]]}\n"
      "project:\n  tasks:\n    - {name: a, duration_h: 1, skill: weld}\n", 6, "weld" },
    { "stations:\n  - {name: a, process_s: 5}\nrobots: {mobile: 2, skills: [[dig]]}\n", 3, "skills" },
    { "stations:\n  - {name: a, process_s: 5}\nrobots: {mobile: 1, repair_by: magic}\n", 3, "repair_by" },
    { "site: {profile: venus}\nstations:\n  - {name: a, process_s: 5}\n", 1, "profile" },
    { "site:\n  dust_storms: {onset_per_sol: -1}\nstations:\n  - {name: a, process_s: 5}\n", 2, "onset_per_sol" },
    { "site:\n  dust_storms: {optical_depth: {dist: normal, mean: 2}}\nstations:\n  - {name: a, process_s: 5}\n", 2, "" },
    { "stations:\n  - {name: a, process_s: 5}\npeople:\n  remote_only: true\n"
      "  link_blackout: {every_h: 2, duration_h: 3}\n", 5, "shorter" },
    { "stations:\n  - {name: a, process_s: 5}\nparts:\n  - {name: p, lead_time_h: 1, delivery: {every_h: 5}}\n",
      4, "qty" },
};

Test (twin_mars, bad_configs_point_at_file_and_line)
{
    twin_check_bad_configs (s_bad, sizeof s_bad / sizeof *s_bad);
}

Test (twin_mars, earth_factories_unchanged)
{
    char *y = s_read ("gigafactory");
    char a[4096];
    s_json (y, 1, 168, a, sizeof a);
    cr_assert_str_eq (a, s_giga_golden, "the gigafactory's KPIs changed:\n%s", a);
    free (y);
}
