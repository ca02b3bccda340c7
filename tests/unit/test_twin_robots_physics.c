/*  Robots in space and time (issue 11, agents/twin/robots.c): legs along
 *  the floor graph, aisles of one or two robots, node capacity, conflicts,
 *  deadlocks cleared by an operator, congestion, battery and charging, and
 *  the route and queue commands.  Each plant here is a single station with
 *  no parts, so the only robot work is what the test gives.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/twin/twin.h"
#include "twin_bad_config.h"

/* One station 'a' 100 m from the warehouse on one aisle of WIDTH (0: no
 * limit), a junction 'j' beside it, and the robots' extra YAML. */
static twin_t *
s_plant (int width, const char *robots_extra, const char *floor_extra)
{
    char yaml[2048], err[512];
    char aisle[64];
    if (width > 0)
        snprintf (aisle, sizeof aisle, "[warehouse, a, %d]", width);
    else
        snprintf (aisle, sizeof aisle, "[warehouse, a]");
    snprintf (yaml, sizeof yaml,
              "stations:\n  - {name: a, process_s: 5}\n  - {name: b, process_s: 5}\n"
              "robots:\n  mobile: 2\n  speed_mps: 1\n  travel: true\n  inspect_min: 1\n%s"
              "floor:\n  nodes:\n    warehouse: [0, 0]\n    dock: [0, -10]\n    a: [100, 0]\n"
              "    b: [100, 50]\n    j: [0, 50]\n"
              "  edges:\n    - %s\n    - [dock, warehouse]\n    - [warehouse, j]\n    - [j, b]\n%s",
              robots_extra ? robots_extra : "", aisle, floor_extra ? floor_extra : "");
    twin_t *t = twin_new_from_text (yaml, strlen (yaml), "robots.yaml", 1, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    cr_assert_eq (twin_start (t), 0);
    return t;
}

static int
s_send (twin_t *t, int robot, const char *nodes, const char *depart, char *err, size_t len)
{
    twin_cmd_t c = { .kind = TWIN_CMD_ROBOT_PATH };
    c.u.path.robot = robot;
    snprintf (c.u.path.nodes, sizeof c.u.path.nodes, "%s", nodes);
    snprintf (c.u.path.depart_s, sizeof c.u.path.depart_s, "%s", depart ? depart : "");
    return twin_apply (t, &c, err, len);
}

static void
s_send_ok (twin_t *t, int robot, const char *nodes, const char *depart)
{
    char err[256] = "";
    cr_assert_eq (s_send (t, robot, nodes, depart, err, sizeof err), 0, "%s", err);
}

/* One telemetry value of robot.amrR. */
typedef struct {
    char topic[64];
    const char *name;
    double value;
    bool found;
} s_probe_t;

static void
s_probe_fn (void *ctx, const twin_sample_t *s)
{
    s_probe_t *p = ctx;
    if (strcmp (s->topic, p->topic))
        return;
    for (int i = 0; i < s->n; i++)
        if (!strcmp (s->names[i], p->name)) {
            p->value = s->values[i];
            p->found = true;
        }
}

static double
s_robot (twin_t *t, int r, const char *name)
{
    s_probe_t p = { .name = name };
    snprintf (p.topic, sizeof p.topic, "robot.amr%d", r);
    twin_telemetry_foreach (t, s_probe_fn, &p);
    cr_assert (p.found, "robot.amr%d has no '%s'", r, name);
    return p.value;
}

static twin_kpi_t
s_kpis (twin_t *t)
{
    twin_kpi_t k;
    twin_kpis (t, &k);
    return k;
}

Test (twin_robots_phys, a_robot_moves_along_its_path_over_time)
{
    twin_t *t = s_plant (0, NULL, NULL);
    s_send_ok (t, 0, "j,b", NULL);             /* 50 m + 100 m at 1 m/s */
    twin_iterate (t, 25, 0);
    cr_assert_eq (s_robot (t, 0, "node"), 0, "still counted at the warehouse");
    cr_assert_eq (s_robot (t, 0, "edge_to"), 4, "on the aisle to j (node 4)");
    cr_assert_float_eq (s_robot (t, 0, "progress"), 0.5, 1e-9);
    cr_assert_eq (s_robot (t, 0, "task"), TWIN_TASK_GOTO);
    cr_assert_eq (s_robot (t, 1, "task"), -1, "robot 1 is idle");
    twin_iterate (t, 100, 0);
    cr_assert_eq (s_robot (t, 0, "node"), 4, "passed j");
    cr_assert_eq (s_robot (t, 0, "edge_to"), 3, "on the aisle to b");
    twin_iterate (t, 151, 0);
    cr_assert_eq (s_robot (t, 0, "node"), 3);
    cr_assert_eq (s_robot (t, 0, "edge_to"), -1);
    cr_assert_eq (s_robot (t, 0, "busy"), 0);
    cr_assert_float_eq (s_kpis (t).robot_travel_km, 0.15, 1e-9);
    twin_destroy (&t);
}

/* Robot 1 waits at a; both set off at once, head-on on the aisle. */
static twin_kpi_t
s_head_on (int width, const char *depart1, double *t_home_s)
{
    twin_t *t = s_plant (width, "  congestion: 1\n", NULL);
    s_send_ok (t, 1, "a", NULL);
    twin_iterate (t, 200, 0);
    s_send_ok (t, 0, "a", NULL);
    s_send_ok (t, 1, "warehouse", depart1);
    *t_home_s = -1;
    for (double s = 201; s < 2000 && *t_home_s < 0; s += 1) {
        twin_iterate (t, s, 0);
        if (s_robot (t, 1, "node") == 0 && s_robot (t, 1, "busy") == 0)
            *t_home_s = s - 200;
    }
    twin_kpi_t k = s_kpis (t);
    twin_destroy (&t);
    return k;
}

Test (twin_robots_phys, head_on_on_a_single_lane_aisle_is_a_conflict)
{
    double home1, home2, home_planned;
    twin_kpi_t one = s_head_on (1, NULL, &home1);
    twin_kpi_t two = s_head_on (2, NULL, &home2);
    twin_kpi_t planned = s_head_on (1, "101", &home_planned);
    cr_assert_eq (one.robot_collisions, 1, "single lane: the second robot meets the first");
    cr_assert_eq (two.robot_collisions, 0, "two lanes: they pass");
    cr_assert_eq (planned.robot_collisions, 0, "a planned departure after the aisle clears avoids it");
    /* Single lane: 100 s waiting + 30 s backing out + 100 s; two lanes: both
     * on the aisle, each at half speed (congestion 1). */
    cr_assert (fabs (home1 - 231) <= 1, "single lane home after %g s", home1);
    cr_assert (fabs (home2 - 201) <= 1, "two lanes home after %g s", home2);
    cr_assert (fabs (home_planned - 202) <= 1, "planned home after %g s", home_planned);
}

Test (twin_robots_phys, a_cycle_of_waiting_robots_is_a_deadlock_an_operator_clears)
{
    for (int cap = 0; cap <= 1; cap++) {
        twin_t *t = s_plant (1, "  deadlock_timeout_min: 10\n", cap ? "  node_capacity: {a: 1}\n" : NULL);
        /* Robot 1 goes to a and stays there (busy) until 600 s, then back. */
        s_send_ok (t, 1, "a,warehouse", "0,600");
        twin_iterate (t, 150, 0);
        s_send_ok (t, 0, "a", NULL);           /* reaches a at 250 s */
        twin_iterate (t, 3 * 3600, 0);
        twin_kpi_t k = s_kpis (t);
        if (cap) {
            cr_assert_eq (k.robot_deadlocks, 1);
            cr_assert_eq (k.manual_interventions, 1, "an operator cleared it");
        }
        else {
            cr_assert_eq (k.robot_deadlocks, 0, "no node limit: robot 0 steps onto a");
            cr_assert_eq (k.manual_interventions, 0);
        }
        cr_assert_eq (s_robot (t, 0, "node"), 2, "robot 0 reached a");
        cr_assert_eq (s_robot (t, 1, "node"), 0, "robot 1 is back");
        twin_destroy (&t);
    }
}

Test (twin_robots_phys, battery_drains_per_metre_and_the_robot_charges)
{
    twin_t *t = s_plant (0, "  battery_kwh: 1\n  wh_per_m: 2\n  charge_kw: 1\n  charge_below: 0.9\n"
                         "  chargers: [warehouse]\n", NULL);
    cr_assert_float_eq (s_robot (t, 0, "battery_soc"), 1, 1e-12);
    s_send_ok (t, 0, "a", NULL);
    twin_iterate (t, 150, 0);
    /* 100 m × 2 Wh/m = 0.2 kWh: below 0.9, so it heads to the charger. */
    cr_assert_float_eq (s_robot (t, 0, "battery_soc"), 0.8, 1e-9);
    cr_assert_eq (s_robot (t, 0, "busy"), 1, "on its way to charge");
    twin_iterate (t, 201, 0);
    cr_assert_float_eq (s_robot (t, 0, "battery_soc"), 0.6, 1e-9);
    cr_assert_eq (s_robot (t, 0, "charging"), 1);
    twin_iterate (t, 200 + 0.4 * 3600 + 2, 0);
    cr_assert_eq (s_robot (t, 0, "charging"), 0);
    cr_assert_float_eq (s_robot (t, 0, "battery_soc"), 1, 1e-12);
    cr_assert_eq (s_kpis (t).robot_battery_empty, 0);
    twin_destroy (&t);
}

Test (twin_robots_phys, route_commands_are_refused_with_a_reason)
{
    char err[256];
    twin_t *t = s_plant (1, NULL, NULL);
    cr_assert_eq (s_send (t, 0, "nowhere", NULL, err, sizeof err), -1);
    cr_assert (strstr (err, "unknown floor node"), "%s", err);
    cr_assert_eq (s_send (t, 0, "a,b", NULL, err, sizeof err), -1);
    cr_assert (strstr (err, "no aisle"), "%s", err);
    cr_assert_eq (s_send (t, 0, "j,b", "10", err, sizeof err), -1);
    cr_assert (strstr (err, "offset"), "%s", err);
    cr_assert_eq (s_send (t, 0, "j,b", "10,5", err, sizeof err), -1);
    cr_assert_eq (s_send (t, 7, "a", NULL, err, sizeof err), -1);
    cr_assert (strstr (err, "unknown robot"), "%s", err);
    cr_assert_eq (s_send (t, 0, "", NULL, err, sizeof err), -1);
    s_send_ok (t, 0, "a", "100");               /* under way (waits to leave) */
    s_send_ok (t, 0, "warehouse", NULL);        /* queued after it */
    cr_assert_eq (s_send (t, 0, "j", NULL, err, sizeof err), -1);
    cr_assert (strstr (err, "already has a planned route"), "%s", err);
    twin_cmd_t c = { .kind = TWIN_CMD_TASK_CANCEL, .u.queue = { 0, 3 } };
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1);
    cr_assert (strstr (err, "no slot 3"), "%s", err);
    c.kind = TWIN_CMD_TASK_PRIORITY;
    c.u.queue.robot = 9;
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1);
    twin_destroy (&t);
    /* A plant whose robots do not travel refuses routes. */
    const char *y = "stations:\n  - {name: a, process_s: 5}\nrobots: {mobile: 1}\n";
    t = twin_new_from_text (y, strlen (y), "x.yaml", 1, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    cr_assert_eq (s_send (t, 0, "a", NULL, err, sizeof err), -1);
    cr_assert (strstr (err, "robots.travel"), "%s", err);
    twin_destroy (&t);
}

/* Robot 0 is held at j until 1000 s; two inspections wait in its queue. */
static twin_t *
s_queued (void)
{
    twin_t *t = s_plant (0, NULL, NULL);
    s_send_ok (t, 0, "j,warehouse", "0,1000");
    char err[256] = "";
    for (int s = 0; s < 2; s++) {
        twin_cmd_t c = { .kind = TWIN_CMD_TASK_ASSIGN,
                         .u.task = { 0, TWIN_TASK_INSPECT, s, -1, -1 } };
        cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "%s", err);
    }
    twin_iterate (t, 10, 0);
    cr_assert_eq (s_robot (t, 0, "tasks_queued"), 2);
    return t;
}

Test (twin_robots_phys, cancel_and_prioritise_change_what_the_robot_does)
{
    char err[256] = "";
    /* As queued: a is inspected before b. */
    twin_t *t = s_queued ();
    twin_iterate (t, 2000, 0);
    const twin_obs_t *o = twin_observe (t);
    cr_assert (o->stations[0].t_inspected_s > 0 && o->stations[1].t_inspected_s > o->stations[0].t_inspected_s);
    twin_destroy (&t);
    /* Prioritised: b first. */
    t = s_queued ();
    twin_cmd_t c = { .kind = TWIN_CMD_TASK_PRIORITY, .u.queue = { 0, 1 } };
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "%s", err);
    twin_iterate (t, 2000, 0);
    o = twin_observe (t);
    cr_assert (o->stations[1].t_inspected_s > 0 && o->stations[0].t_inspected_s > o->stations[1].t_inspected_s);
    twin_destroy (&t);
    /* Cancelled: a is never inspected. */
    t = s_queued ();
    c.kind = TWIN_CMD_TASK_CANCEL;
    c.u.queue.slot = 0;
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (s_robot (t, 0, "tasks_queued"), 1);
    twin_iterate (t, 3000, 0);
    o = twin_observe (t);
    cr_assert (o->stations[0].t_inspected_s <= 0, "a was inspected at %g s", o->stations[0].t_inspected_s);
    cr_assert (o->stations[1].t_inspected_s > 0);
    twin_destroy (&t);
}

Test (twin_robots_phys, send_robot_parses_from_the_action_form)
{
    twin_t *t = s_plant (0, NULL, NULL);
    const twin_cmd_info_t *info = twin_cmd_by_action ("send_robot");
    cr_assert_not_null (info);
    twin_param_t p[] = { { .name = "robot", .type = TWIN_VAL_NUM, .num = 1 },
                         { .name = "nodes", .type = TWIN_VAL_TEXT, .text = "j, b" },
                         { .name = "depart_s", .type = TWIN_VAL_TEXT, .text = "5, 5" } };
    twin_cmd_t c;
    char err[256] = "";
    cr_assert_eq (twin_cmd_parse (t, info, p, 3, &c, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq (c.u.path.nodes, "j, b");
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "%s", err);
    twin_iterate (t, 200, 0);
    cr_assert_eq (s_robot (t, 1, "node"), 3, "robot 1 reached b");
    /* Text where a number belongs, and a number where text belongs. */
    p[0] = (twin_param_t) { .name = "robot", .type = TWIN_VAL_TEXT, .text = "one" };
    cr_assert_eq (twin_cmd_parse (t, info, p, 3, &c, err, sizeof err), -1);
    p[0] = (twin_param_t) { .name = "robot", .type = TWIN_VAL_NUM, .num = 0 };
    p[1] = (twin_param_t) { .name = "nodes", .type = TWIN_VAL_NUM, .num = 3 };
    cr_assert_eq (twin_cmd_parse (t, info, p, 3, &c, err, sizeof err), -1);
    cr_assert (strstr (err, "text"), "%s", err);
    twin_destroy (&t);
}

/* Two variants alternating through one station with a 2-minute manual
 * changeover; BY_ROBOT hands it to the fleet (one robot, 100 m away). */
static twin_kpi_t
s_changeovers (bool by_robot, bool travel)
{
    char yaml[1024], err[256];
    snprintf (yaml, sizeof yaml,
              "arrivals: {mode: saturated, sequence: fifo}\n"
              "variants:\n  - {name: x, mix: 0.5, route: [a]}\n  - {name: y, mix: 0.5, route: [a]}\n"
              "stations:\n  - {name: a, process_s: 60, setup_s: 120, setup_manual: true, changeover_by_robot: %s}\n"
              "robots: {mobile: 1, speed_mps: 1, travel: %s}\n"
              "floor:\n  nodes: {warehouse: [-100, 0], a: [0, 0]}\n",
              by_robot ? "true" : "false", travel ? "true" : "false");
    twin_t *t = twin_new_from_text (yaml, strlen (yaml), "co.yaml", 3, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    twin_run (t, 8, NULL);
    twin_kpi_t k = s_kpis (t);
    twin_destroy (&t);
    return k;
}

Test (twin_robots_phys, a_robot_takes_over_changeovers_at_a_price_in_time)
{
    for (int travel = 0; travel <= 1; travel++) {
        twin_kpi_t manual = s_changeovers (false, travel), robot = s_changeovers (true, travel);
        cr_assert_gt (manual.manual_interventions, 10, "alternating variants change over often");
        cr_assert_eq (robot.manual_interventions, 0, "the robot did every changeover");
        cr_assert_gt (robot.robot_utilisation_pct, 0);
        cr_assert_eq (manual.robot_utilisation_pct, 0);
        /* The robot's trip to the station lengthens each changeover. */
        cr_assert_lt (robot.throughput_uph, manual.throughput_uph);
    }
}

#define S_ONE "stations:\n  - {name: a, process_s: 5}\n"
static const twin_bad_config_t s_bad[] = {
    { S_ONE "floor:\n  edges:\n    - [warehouse, a, 3]\n    - [dock, a]\n", 5, "width" },
    { S_ONE "floor:\n  node_capacity: {nowhere: 1}\n", 4, "nowhere" },
    { S_ONE "floor:\n  node_capacity: {a: -1}\n", 4, "capacity" },
    { S_ONE "robots: {mobile: 1, battery_kwh: 1}\n", 3, "travel" },
    { S_ONE "robots: {mobile: 1, travel: true, battery_kwh: 1}\n", 3, "chargers" },
    { S_ONE "robots:\n  mobile: 1\n  travel: true\n  chargers: [moon]\n", 6, "chargers" },
    { S_ONE "robots: {mobile: 1, travel: maybe}\n", 3, "travel" },
    { S_ONE "robots: {mobile: 1, congestion: -1}\n", 3, "congestion" },
    { "stations:\n  - {name: a, process_s: 5, changeover_by_robot: 2}\n", 2, "changeover_by_robot" },
};

Test (twin_robots_phys, bad_travel_configs_point_at_file_and_line)
{
    twin_check_bad_configs (s_bad, sizeof s_bad / sizeof *s_bad);
}

/* The default plant: the warehouse door is one robot wide. */
Test (twin_robots_phys, the_default_plants_single_lane_door_costs_conflicts)
{
    const char *src = getenv ("AF_SRC");
    char path[512], err[512];
    snprintf (path, sizeof path, "%s/deploy/factories/gigafactory.yaml", src ? src : ".");
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f, "%s", path);
    static char yaml[65536];
    size_t n = fread (yaml, 1, sizeof yaml - 1, f);
    fclose (f);
    yaml[n] = 0;
    twin_t *t = twin_new_from_text (yaml, n, "giga.yaml", 1, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    twin_run (t, 48, NULL);
    twin_kpi_t narrow = s_kpis (t);
    twin_destroy (&t);
    char *door = strstr (yaml, "[warehouse, door, 1]");
    cr_assert_not_null (door, "the default plant has no single-lane door any more");
    door[strlen ("[warehouse, door, ")] = '2';
    t = twin_new_from_text (yaml, n, "giga.yaml", 1, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    twin_run (t, 48, NULL);
    twin_kpi_t wide = s_kpis (t);
    twin_destroy (&t);
    cr_assert_gt (narrow.robot_collisions, 10);
    cr_assert_lt (wide.robot_collisions, narrow.robot_collisions / 2, "%g vs %g", wide.robot_collisions, narrow.robot_collisions);
    cr_assert_gt (narrow.robot_travel_km, 1);
}

Test (twin_robots_phys, an_idle_robot_drains_and_goes_to_charge)
{
    twin_t *t = s_plant (0, "  battery_kwh: 1\n  work_kw: 0.5\n  charge_kw: 1\n  charge_below: 0.5\n"
                         "  chargers: [j]\n", NULL);
    twin_iterate (t, 1800, 0);
    cr_assert_float_eq (s_robot (t, 0, "battery_soc"), 0.75, 1e-9, "0.5 kW for half an hour");
    cr_assert_eq (s_robot (t, 0, "busy"), 0);
    twin_iterate (t, 3600 + 120, 0);
    /* Below half at 1 h: off to the charger at j, 50 m away, by the next epoch. */
    cr_assert_eq (s_robot (t, 0, "charging"), 1);
    cr_assert_eq (s_robot (t, 0, "node"), 4);
    cr_assert_eq (s_kpis (t).robot_battery_empty, 0);
    twin_destroy (&t);
}
