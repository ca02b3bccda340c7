/*  autofab-maintenance — the maintenance agent on the bus (issue 13;
 *  docs/maintenance.md, "The agent").
 *
 *  It takes over the plant's maintenance concern (capability
 *  owns:maintenance): the plant's time-based PM stops and a breakdown waits
 *  for this agent's `order_repair`.  Every epoch it
 *    1. orders the repair of every station that broke down, by a mobile
 *       robot where the plant's robots can repair, else by a technician;
 *    2. integrates each component's rated wear over the busy time and speed
 *       telemetry shows (plan.c), and when a part's estimated wear reaches
 *       its age-replacement threshold it has a robot swap that part on the
 *       running station (`assign_task task=repair component=…`), which
 *       stops nothing;
 *    3. where no robot can repair, keeps the maker's PM interval itself.
 *  Every hour of plant time it publishes each station's health on
 *  evt.<factory>.<cell>.<name>-advisor.health.<station> (per component: health
 *  index over the next 24 busy hours, estimated wear, RUL with its 90 %
 *  interval) and answers the request `rul` (service "maintenance").
 *  It learns the plant only from `describe` (components' rated wear, limit
 *  and spread; MTBF; robots) and telemetry (station state and speed, robot
 *  queues).
 *
 *    autofab-maintenance [--broker EP] [--factory F] [--cell C] [--twin NAME]
 *                        [--name NAME] [--failure-cost-ratio K] [--model-cv CV]
 *                        [--lead-h H] [--technicians-only]
 */
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_args.h"
#include "af_agent.h"
#include "af_bus.h"
#include "af_log.h"
#include "agents/ctl/ctl.h"
#include "agents/maintenance/plan.h"

#define S_PROG "autofab-maintenance"
#define S_MAX_ST 64
#define S_MAX_ROBOTS 64
/* Station states as the plant publishes them (twin_state_t). */
enum { S_ST_STARVED, S_ST_BUSY, S_ST_BLOCKED, S_ST_DOWN, S_ST_MAINT, S_ST_SETUP };

typedef struct {
    const char *broker, *factory, *cell, *twin, *name;
    plan_opts_t plan;
    bool technicians_only;
} s_opts_t;

typedef struct {
    double pm_interval_h;
    bool down, ordered;                 /* a breakdown seen; its repair ordered */
    int epochs_since_order;             /* while still down after the order */
    bool by_robot;                      /* the order asked for a robot */
    bool tech_fallback;                 /* a technician was asked after the robot order */
    int cause;                          /* attributed component, -1 random */
} s_station_t;

#define S_SPARE_KINDS 5

typedef struct {
    s_opts_t o;
    bool ready, idle;
    plan_t *plan;
    s_station_t st[S_MAX_ST];
    int n_st, n_robots, rr;
    bool robots_repair;
    af_agent_t *advisor;                /* health events and the rul request */
    double t_published_s;
    unsigned long breakdowns, attributed, repairs_robot, repairs_tech, swaps, swap_refused, pms;
    unsigned long swaps_by_comp[PLAN_MAX_COMP * S_MAX_ST];
    /* Spares (the plant description's people.health.spares): the stores'
     * min/max rule is the owner's job once it owns maintenance. */
    struct {
        bool managed;
        double min, max;
        double outstanding;             /* ordered, not yet seen arriving */
        double last_stock;
    } spare[S_SPARE_KINDS];
    unsigned long spare_orders;
} s_agent_t;

static const char *const s_spare_names[S_SPARE_KINDS] = { "bearing", "belt", "motor", "joint", "lube" };

/* ------------------------------------------------------------ the plant */

static double
s_num (json_object *obj, const char *key, double dflt)
{
    json_object *v;
    if (!obj || !json_object_object_get_ex (obj, key, &v))
        return dflt;
    double x = json_object_get_double (v);
    return isfinite (x) ? x : dflt;
}

static const char *
s_text (json_object *obj, const char *key)
{
    json_object *v;
    return obj && json_object_object_get_ex (obj, key, &v) ? json_object_get_string (v) : NULL;
}

/* One station of the description into the plan. */
static int
s_read_station (s_agent_t *a, json_object *s, char *err, size_t err_len)
{
    const char *name = s_text (s, "name");
    json_object *comps = NULL;
    plan_comp_spec_t spec[PLAN_MAX_COMP];
    size_t n = 0;
    if (json_object_object_get_ex (s, "components", &comps) && json_object_is_type (comps, json_type_array))
        for (size_t k = 0; k < json_object_array_length (comps) && n < PLAN_MAX_COMP; k++) {
            json_object *c = json_object_array_get_idx (comps, k);
            const char *cname = s_text (c, "name");
            if (!cname)
                continue;
            plan_comp_spec_t *p = &spec[n++];
            snprintf (p->name, sizeof p->name, "%s", cname);
            p->rate_per_h = s_num (c, "rated_wear_per_h", NAN);
            p->limit = s_num (c, "rated_limit", 1);
            p->life_cv = s_num (c, "life_cv", 0);
        }
    if (!name || plan_add_station (a->plan, name, s_num (s, "mtbf_h", INFINITY), spec, n) < 0) {
        snprintf (err, err_len, "station '%s' of the plant description has bad component ratings",
                  name ? name : "?");
        return -1;
    }
    a->st[a->n_st++] = (s_station_t) { .pm_interval_h = s_num (s, "pm_interval_h", 0), .cause = -1 };
    return 0;
}

static int
s_read_plant (s_agent_t *a, const char *text, char *err, size_t err_len)
{
    json_object *root = json_tokener_parse (text), *sts = NULL, *robots = NULL;
    int rc = -1;
    if (!root || !json_object_object_get_ex (root, "stations", &sts)
        || !json_object_is_type (sts, json_type_array)) {
        snprintf (err, err_len, "the plant description has no stations");
        goto done;
    }
    a->plan = plan_new (&a->o.plan);
    if (!a->plan) {
        snprintf (err, err_len, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < json_object_array_length (sts); i++) {
        if (a->n_st >= S_MAX_ST) {
            snprintf (err, err_len, "more than %d stations", S_MAX_ST);
            goto done;
        }
        if (s_read_station (a, json_object_array_get_idx (sts, i), err, err_len) != 0)
            goto done;
    }
    json_object *people = NULL, *health = NULL, *spares = NULL;
    if (json_object_object_get_ex (root, "people", &people) && json_object_object_get_ex (people, "health", &health)
        && json_object_object_get_ex (health, "spares", &spares))
        for (int c = 0; c < S_SPARE_KINDS; c++) {
            json_object *k = NULL;
            if (!json_object_object_get_ex (spares, s_spare_names[c], &k))
                continue;
            a->spare[c].managed = true;
            a->spare[c].min = s_num (k, "min", 1);
            a->spare[c].max = fmax (a->spare[c].min + 1, s_num (k, "max", 2));
            a->spare[c].last_stock = -1;
        }
    json_object_object_get_ex (root, "robots", &robots);
    a->n_robots = (int) fmin (S_MAX_ROBOTS, fmax (0, s_num (robots, "mobile", 0)));
    json_object *can = NULL;
    a->robots_repair = !a->o.technicians_only && a->n_robots > 0 && robots
                       && json_object_object_get_ex (robots, "can_repair", &can) && json_object_get_boolean (can);
    rc = 0;
done:
    json_object_put (root);
    return rc;
}

/* ------------------------------------------------------------ advisory */

#define S_RUL_COVERAGE 0.9
#define S_HEALTH_H 24.0

/* The metrics of one component into M (6 entries), names in NAMES. */
static size_t
s_comp_metrics (const plan_t *plan, int i, int c, Autofab__Metric *m, char names[6][48])
{
    double lo, mid, hi;
    plan_rul (plan, i, c, S_RUL_COVERAGE, &lo, &mid, &hi);
    const char *cn = plan_comp_name (plan, i, c);
    const char *suffix[6] = { "health", "wear", "threshold", "rul_h", "rul_lo_h", "rul_hi_h" };
    double v[6] = { plan_health (plan, i, c, S_HEALTH_H), plan_wear (plan, i, c), plan_threshold (plan, i, c),
                    mid, lo, hi };
    for (size_t k = 0; k < 6; k++) {
        autofab__metric__init (&m[k]);
        snprintf (names[k], sizeof names[k], "%s_%s", cn, suffix[k]);
        m[k].name = names[k];
        m[k].value = v[k];
    }
    return 6;
}

static void
s_publish_health (s_agent_t *a)
{
    for (int i = 0; i < a->n_st; i++) {
        Autofab__Metric m[6 * PLAN_MAX_COMP];
        char names[6 * PLAN_MAX_COMP][48];
        size_t n = 0;
        for (size_t c = 0; c < plan_components (a->plan, i); c++)
            n += s_comp_metrics (a->plan, i, (int) c, m + n, (char (*)[48]) names[n]);
        if (n == 0)
            continue;
        char kind[96], topic[256];
        snprintf (kind, sizeof kind, "health.%s", plan_station_name (a->plan, i));
        const char *t = af_agent_topic (a->advisor, "evt", kind, topic, sizeof topic);
        if (t)
            af_bus_publish_metrics (af_agent_bus (a->advisor), t, m, n);
    }
}

/* `rul [station=NAME]`: per component of the station (or of every one)
 * <station>/<component>/rul_h, rul_lo_h, rul_hi_h (90 %), health, wear. */
static int
s_on_request (af_agent_t *agent, const Autofab__Envelope *req, af_reply_t *reply, void *arg)
{
    (void) agent;
    s_agent_t *a = arg;
    if (req->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_COMMAND || !req->command->action
        || strcmp (req->command->action, "rul") != 0) {
        af_reply_error (reply, "expected the request 'rul [station=NAME]'");
        return 0;
    }
    if (!a->plan) {
        af_reply_error (reply, "the plant description has not arrived yet");
        return 0;
    }
    const char *only = af_command_text (req, "station");
    int found = 0;
    for (int i = 0; i < a->n_st; i++) {
        const char *sn = plan_station_name (a->plan, i);
        if (only && strcmp (only, sn) != 0)
            continue;
        found++;
        for (size_t c = 0; c < plan_components (a->plan, i); c++) {
            Autofab__Metric m[6];
            char names[6][48], key[160];
            size_t n = s_comp_metrics (a->plan, i, (int) c, m, names);
            for (size_t k = 0; k < n; k++) {
                snprintf (key, sizeof key, "%s/%s", sn, names[k]);
                af_reply_num (reply, key, m[k].value);
            }
        }
    }
    if (!found)
        af_reply_error (reply, "unknown station '%s'", only ? only : "");
    return 0;
}

static af_agent_t *
s_advisor_new (s_agent_t *a)
{
    char name[128];
    snprintf (name, sizeof name, "%s-advisor", a->o.name ? a->o.name : "maintenance");
    af_agent_opts_t ao = { .name = name, .kind = "maintenance", .cell = a->o.cell ? a->o.cell : "plant",
                           .factory = a->o.factory, .broker = a->o.broker };
    char err[300];
    af_agent_t *ag = af_agent_new (&ao, err, sizeof err);
    if (!ag || af_agent_service (ag, "maintenance", s_on_request, a) != 0 || af_agent_start (ag) != 0) {
        af_warn (S_PROG ": no advisor on the bus (%s): health is not published", ag ? "start failed" : err);
        af_agent_destroy (&ag);
    }
    return ag;
}

/* ------------------------------------------------------------ each epoch */

/* The robot with the fewest tasks, busy counting as one; ties go round. */
static int
s_pick_robot (s_agent_t *a, ctl_t *ctl)
{
    int best = -1;
    double best_load = INFINITY;
    for (int k = 0; k < a->n_robots; k++) {
        int r = (a->rr + k) % a->n_robots;
        char kind[32];
        snprintf (kind, sizeof kind, "robot.amr%d", r);
        double load = ctl_metric (ctl, kind, "busy", 0) + ctl_metric (ctl, kind, "tasks_queued", 0);
        if (ctl_metric (ctl, kind, "down", 0) > 0.5 || load >= 15)
            continue;
        if (load < best_load) {
            best_load = load;
            best = r;
        }
    }
    a->rr = (a->rr + 1) % (a->n_robots > 0 ? a->n_robots : 1);
    return best;
}

/* A station down: order its repair once (robot first, else technician). */
static void
s_breakdown (s_agent_t *a, ctl_t *ctl, int i, const char *name)
{
    s_station_t *s = &a->st[i];
    if (!s->down) {
        s->down = true;
        s->ordered = false;
        s->cause = plan_attribute_breakdown (a->plan, i);
        a->breakdowns++;
        a->attributed += s->cause >= 0;
    }
    if (s->ordered) {
        /* On the bus an order is only queued: the plant checks it when it
         * applies the epoch's commands and may refuse it then (no robot has
         * the skill this breakdown needs).  A station still down an epoch
         * after a robot order gets a technician's order too; while the
         * robot's repair is under way the plant refuses that one. */
        if (++s->epochs_since_order >= 2 && !s->tech_fallback && s->by_robot) {
            ctl_param_t tp[1] = { { "station", name, 0 } };
            if (ctl_command (ctl, "order_repair", tp, 1, NULL, 0) == 0)
                s->tech_fallback = true;
        }
        return;
    }
    char err[256] = "";
    ctl_param_t p[2] = { { "station", name, 0 }, { "by_robot", NULL, 1 } };
    s->epochs_since_order = 0;
    s->tech_fallback = false;
    s->by_robot = false;
    if (a->robots_repair && ctl_command (ctl, "order_repair", p, 2, err, sizeof err) == 0) {
        s->ordered = true;
        s->by_robot = true;
        a->repairs_robot++;
        return;
    }
    if (ctl_command (ctl, "order_repair", p, 1, err, sizeof err) == 0) {
        s->ordered = true;
        a->repairs_tech++;
        return;
    }
    /* Not waiting for an order (the plant's own repair is under way, or the
     * station is in planned maintenance): nothing to order. */
    if (strstr (err, "not waiting"))
        s->ordered = true;
}

/* Spares: when stock plus what is on order falls to the min, order up to
 * the max (the stores' rule; a swap or repair without a spare waits for
 * the supplier's lead time).  Deliveries show as the stock rising. */
static void
s_spares (s_agent_t *a, ctl_t *ctl)
{
    for (int c = 0; c < S_SPARE_KINDS; c++) {
        if (!a->spare[c].managed)
            continue;
        char name[32];
        snprintf (name, sizeof name, "spares_%s", s_spare_names[c]);
        double stock = ctl_metric (ctl, "health.crew", name, NAN);
        if (!isfinite (stock))
            continue;
        if (a->spare[c].last_stock >= 0 && stock > a->spare[c].last_stock)
            a->spare[c].outstanding = fmax (0, a->spare[c].outstanding - (stock - a->spare[c].last_stock));
        a->spare[c].last_stock = stock;
        double position = stock + a->spare[c].outstanding;
        if (position > a->spare[c].min)
            continue;
        double qty = floor (a->spare[c].max - position);
        if (qty < 1)
            continue;
        ctl_param_t p[2] = { { "component", s_spare_names[c], 0 }, { "qty", NULL, qty } };
        if (ctl_command (ctl, "order_spares", p, 2, NULL, 0) == 0) {
            a->spare[c].outstanding += qty;
            a->spare_orders++;
        }
    }
}

/* Preventive swaps on a running station, each part when it is due. */
static void
s_swaps (s_agent_t *a, ctl_t *ctl, int i, const char *name)
{
    for (size_t c = 0; c < plan_components (a->plan, i); c++) {
        if (!plan_due (a->plan, i, (int) c))
            continue;
        int r = s_pick_robot (a, ctl);
        if (r < 0)
            return;                     /* every robot full: next epoch */
        ctl_param_t p[4] = { { "robot", NULL, r }, { "task", "repair", 0 }, { "station", name, 0 },
                             { "component", plan_comp_name (a->plan, i, (int) c), 0 } };
        if (ctl_command (ctl, "assign_task", p, 4, NULL, 0) != 0) {
            a->swap_refused++;
            continue;
        }
        /* Renewed in the estimate from the order on: the new part's wear is
         * over-estimated by the lead time, the safe side. */
        plan_renewed (a->plan, i, (int) c);
        a->swaps++;
        a->swaps_by_comp[i * PLAN_MAX_COMP + c]++;
    }
}

/* No robot can swap parts: keep the maker's PM interval. */
static void
s_interval_pm (s_agent_t *a, ctl_t *ctl, int i, const char *kind, const char *name)
{
    double since = ctl_metric (ctl, kind, "hours_since_pm", 0);
    if (!(a->st[i].pm_interval_h > 0) || since < a->st[i].pm_interval_h)
        return;
    ctl_param_t p = { "station", name, 0 };
    if (ctl_command (ctl, "order_maintenance", &p, 1, NULL, 0) == 0)
        a->pms++;
}

static void
s_station_epoch (s_agent_t *a, ctl_t *ctl, int i, double epoch_h)
{
    const char *name = plan_station_name (a->plan, i);
    char kind[96];
    snprintf (kind, sizeof kind, "station.%s", name);
    if (!ctl_has_metric (ctl, kind, "state"))
        return;
    int state = (int) ctl_metric (ctl, kind, "state", -1);
    double speed = ctl_metric (ctl, kind, "speed", 1);
    plan_observe (a->plan, i, state == S_ST_BUSY ? 1 : 0, speed, epoch_h);
    s_station_t *s = &a->st[i];
    if (state == S_ST_DOWN) {
        s_breakdown (a, ctl, i, name);
        return;
    }
    if (s->down) {
        /* Repaired: the part the breakdown is attributed to is new. */
        if (s->cause >= 0)
            plan_renewed (a->plan, i, s->cause);
        s->down = s->ordered = false;
        s->cause = -1;
    }
    if (state == S_ST_MAINT)
        return;
    if (a->robots_repair)
        s_swaps (a, ctl, i, name);
    else
        s_interval_pm (a, ctl, i, kind, name);
}

static void
s_on_epoch (ctl_t *ctl, const ctl_tick_t *tick, void *arg)
{
    s_agent_t *a = arg;
    if (!a->ready) {
        char err[300];
        const char *text = ctl_describe (ctl, err, sizeof err);
        if (!text || s_read_plant (a, text, err, sizeof err) != 0) {
            af_error (S_PROG ": %s; only acknowledging", err);
            a->idle = true;
        }
        else
            af_info (S_PROG ": %d stations, %d mobile robots (%s)", a->n_st, a->n_robots,
                     a->robots_repair ? "they repair and swap parts" : "technicians repair");
        a->ready = true;
    }
    if (a->idle)
        return;
    s_spares (a, ctl);
    for (int i = 0; i < a->n_st; i++)
        s_station_epoch (a, ctl, i, tick->epoch_s / 3600.0);
    if (a->advisor) {
        if (tick->t_s - a->t_published_s >= 3600 || tick->epoch == 0) {
            s_publish_health (a);
            a->t_published_s = tick->t_s;
        }
        af_agent_iterate (a->advisor, 0);
    }
}

/* ------------------------------------------------------------ main */

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: " S_PROG " [--broker EP] [--factory F] [--cell C] [--twin NAME] [--name NAME]\n"
             "                           [--failure-cost-ratio K] [--model-cv CV] [--lead-h H]\n"
             "                           [--technicians-only] [--log-level LEVEL]\n"
             "The maintenance agent: takes over the plant's maintenance concern, orders\n"
             "every breakdown's repair (by a mobile robot where one can), and has robots\n"
             "swap worn parts on running stations at the age-replacement wear derived\n"
             "from each part's rated life and spread (docs/maintenance.md).\n"
             "  --broker EP               broker control endpoint [$AUTOFAB_BROKER or tcp://127.0.0.1:5550]\n"
             "  --factory F               factory name in topics [factory]\n"
             "  --cell C                  the plant's cell [plant]\n"
             "  --twin NAME               the plant service [twin]\n"
             "  --name NAME               this agent's name [maintenance]\n"
             "  --failure-cost-ratio K    cost of a breakdown / cost of a planned swap [20]\n"
             "  --model-cv CV             spread the wear estimate adds to the rated life [0.1]\n"
             "  --lead-h H                busy hours between ordering a swap and the swap [3]\n"
             "  --technicians-only        never send robots (repairs and PM by technicians)\n");
}

static int
s_parse (s_opts_t *o, int argc, char **argv)
{
    static const struct option longs[] = {
        { "broker", required_argument, NULL, 'b' },  { "factory", required_argument, NULL, 'f' },
        { "cell", required_argument, NULL, 'c' },    { "twin", required_argument, NULL, 't' },
        { "name", required_argument, NULL, 'n' },    { "failure-cost-ratio", required_argument, NULL, 'k' },
        { "model-cv", required_argument, NULL, 'v' }, { "lead-h", required_argument, NULL, 'L' },
        { "technicians-only", no_argument, NULL, 'T' }, { "log-level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
    };
    int c;
    opterr = 0;
    while ((c = getopt_long (argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'b': o->broker = optarg; break;
        case 'f': o->factory = optarg; break;
        case 'c': o->cell = optarg; break;
        case 't': o->twin = optarg; break;
        case 'n': o->name = optarg; break;
        case 'k':
            if (!af_args_double (S_PROG, "--failure-cost-ratio", optarg, 1, 1e6, &o->plan.failure_cost_ratio))
                return 2;
            break;
        case 'v':
            if (!af_args_double (S_PROG, "--model-cv", optarg, 0, 2, &o->plan.model_cv))
                return 2;
            break;
        case 'L':
            if (!af_args_double (S_PROG, "--lead-h", optarg, 0, 1000, &o->plan.lead_h))
                return 2;
            break;
        case 'T': o->technicians_only = true; break;
        case 'l':
            if (!af_args_log_level (S_PROG, optarg))
                return 2;
            break;
        case 'h': return -1;
        default:
            return af_args_usage_error (S_PROG, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return af_args_usage_error (S_PROG, "unexpected argument '%s'", argv[optind]);
    return 0;
}

int
main (int argc, char **argv)
{
    af_log_init (S_PROG);
    static s_agent_t a;
    a.o.plan = plan_opts_default ();
    a.o.plan.lead_h = 3;
    int rc = s_parse (&a.o, argc, argv);
    if (rc == -1) {
        s_usage (stdout);
        return 0;
    }
    if (rc)
        return rc;
    static const char *const owns[] = { "maintenance", NULL };
    ctl_opts_t opts = { .prog = S_PROG, .name = a.o.name, .kind = "maintenance", .broker = a.o.broker,
                        .factory = a.o.factory, .cell = a.o.cell, .twin = a.o.twin, .owns = owns,
                        .on_epoch = s_on_epoch, .arg = &a };
    char err[300];
    ctl_t *ctl = ctl_new (&opts, err, sizeof err);
    if (!ctl) {
        fprintf (stderr, S_PROG ": %s\n", err);
        return 1;
    }
    a.advisor = s_advisor_new (&a);
    rc = ctl_run (ctl);
    af_info (S_PROG ": %lu breakdowns (%lu attributed to wear), repairs ordered %lu by robot %lu by technician; "
             "%lu preventive part swaps (%lu refused), %lu interval PMs",
             a.breakdowns, a.attributed, a.repairs_robot, a.repairs_tech, a.swaps, a.swap_refused, a.pms);
    for (int i = 0; i < a.n_st; i++)
        for (size_t c = 0; c < plan_components (a.plan, i); c++)
            af_info (S_PROG ": %s/%s: %lu swaps, threshold %.2f of rated life", plan_station_name (a.plan, i),
                     plan_comp_name (a.plan, i, (int) c), a.swaps_by_comp[i * PLAN_MAX_COMP + c],
                     plan_threshold (a.plan, i, (int) c));
    ctl_destroy (&ctl);
    af_agent_destroy (&a.advisor);
    plan_destroy (&a.plan);
    return rc;
}
