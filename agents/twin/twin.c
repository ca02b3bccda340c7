/*  twin — life cycle, the concern table, and decision epochs.
 *
 *  The plant's state is split by concern (twin_int.h), each owned by one
 *  file: flow.c, health.c, quality.c, inventory.c, robots.c, energy.c,
 *  site.c, project.c, observe.c.  The table below lists each concern's
 *  hooks — load its config section, start its first events, act at every
 *  epoch, reset its statistics at the end of the warm-up, free its memory —
 *  in the order they run, so adding a concern is adding a row.  Commands
 *  are in cmd.c (the command table), forks and what-if in whatif.c.
 */
#include "twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const s_state_names[TWIN_ST_COUNT] = {
    "starved", "busy", "blocked", "down", "maintenance", "setup", "standby"
};

const char *
twin_state_name (twin_state_t state)
{
    return state < TWIN_ST_COUNT ? s_state_names[state] : "?";
}

/* ------------------------------------------------------------ concerns */

typedef struct {
    const char *name;
    int  (*load) (twin_t *self, const af_config_t *root);  /* after the equipment (config.c) */
    int  (*start) (twin_t *self);                          /* first events */
    void (*epoch) (twin_t *self, double dt_s);             /* every epoch, before the policy */
    void (*reset) (twin_t *self);                          /* statistics, at the end of the warm-up */
    void (*destroy) (twin_t *self);
    int start_rank, epoch_rank;         /* the order starts and epoch hooks run in */
} s_concern_t;

/* Loaded in table order (the site before energy: Mars changes its
 * defaults; the fleet before the project: rovers are robots).  Starts run by
 * start_rank — first failures, then the warm-up's end, then the first
 * arrival, storms and deliveries, project work, exactly as the events were
 * always scheduled, so runs repeat bit for bit.  Epoch hooks run by
 * epoch_rank: energy first (it integrates the stations' energy up to now),
 * the series row before the sensors and the epoch's counters are reset, the
 * observation last. */
static const s_concern_t s_concerns[] = {
    { "site", twin__site_load, twin__site_start, NULL, twin__site_reset, NULL, 3, 0 },
    { "energy", twin__energy_load, NULL, twin__energy_epoch, twin__energy_reset, twin__energy_destroy, 0, 1 },
    { "health", twin__health_load, twin__health_start, twin__health_epoch, twin__health_reset,
      twin__health_destroy, 1, 4 },
    { "flow", twin__flow_load, twin__flow_start, twin__flow_epoch, twin__flow_reset, twin__flow_destroy, 2, 5 },
    { "quality", twin__quality_load, NULL, twin__quality_epoch, twin__quality_reset, twin__quality_destroy, 0, 5 },
    { "inventory", twin__inventory_load, NULL, twin__inventory_epoch, twin__inventory_reset, twin__inventory_destroy, 0, 2 },
    { "fleet", twin__fleet_load, NULL, twin__fleet_epoch, twin__fleet_reset, twin__fleet_destroy, 0, 2 },
    { "project", twin__project_load, twin__project_start, NULL, twin__project_reset, twin__project_free, 4, 0 },
    { "record", NULL, NULL, twin__record_epoch, NULL, twin__record_destroy, 0, 3 },
    { "view", twin__view_load, NULL, twin__view_epoch, NULL, twin__view_destroy, 0, 6 },
};
#define S_CONCERNS ((int) (sizeof s_concerns / sizeof *s_concerns))

int
twin__concerns_load (twin_t *self, const af_config_t *root)
{
    for (int i = 0; i < S_CONCERNS; i++)
        if (s_concerns[i].load && s_concerns[i].load (self, root))
            return -1;
    return 0;
}

void
twin__stats_reset (twin_t *self)
{
    self->t_stats_s = des_now_s (self->des);
    self->manual = 0;
    for (int i = 0; i < S_CONCERNS; i++)
        if (s_concerns[i].reset)
            s_concerns[i].reset (self);
}

/* ------------------------------------------------------------ life cycle */

twin_t *
twin__new (const char *text, size_t len, const char *name, uint64_t seed, char *err, size_t err_len)
{
    af_config_t *root = af_config_parse (text, len, name, err, err_len);
    if (!root)
        return NULL;
    twin_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "out of memory");
        goto fail;
    }
    self->seed = seed;
    snprintf (self->config_name, sizeof self->config_name, "%s", name);
    self->config_text = malloc (len + 1);
    self->des = des_new ();
    if (!self->config_text || !self->des) {
        snprintf (err, err_len, "out of memory");
        goto fail;
    }
    memcpy (self->config_text, text, len);
    self->config_text[len] = 0;
    self->config_len = len;
    if (twin__load (self, root)) {
        snprintf (err, err_len, "%s", af_config_error (root) ? af_config_error (root) : "bad config");
        goto fail;
    }
    twin__observe (self);       /* twin_observe() is valid from the start */
    af_config_destroy (&root);
    return self;
fail:
    af_config_destroy (&root);
    twin_destroy (&self);
    return NULL;
}

twin_t *
twin_new_from_text (const char *yaml, size_t len, const char *name, uint64_t seed,
                    char *err, size_t err_len)
{
    return twin__new (yaml, len, name ? name : "(config)", seed, err, err_len);
}

twin_t *
twin_new_from_file (const char *path, uint64_t seed, char *err, size_t err_len)
{
    size_t len;
    char *text = af_config_read (path, &len, err, err_len);
    if (!text)
        return NULL;
    twin_t *self = twin__new (text, len, path, seed, err, err_len);
    free (text);
    return self;
}

/* The equipment: stations, variants, parts and robots with what they own. */
static void
s_equipment_free (twin_t *self)
{
    for (int i = 0; self->st && i < self->n_stations; i++) {
        twin_station_t *s = &self->st[i];
        twin_dist_free (&s->process_s);
        twin_dist_free (&s->setup_s);
        twin_dist_free (&s->repair_s);
        twin_dist_free (&s->pm_s);
        for (int c = 0; c < TWIN_COMP_COUNT; c++)
            twin_dist_free (&s->comp[c].repair_s);
        if (s->process_by_variant)
            for (int v = 0; v < self->n_variants; v++)
                twin_dist_free (&s->process_by_variant[v]);
        free (s->process_by_variant);
        free (s->has_variant_process);
        free (s->buf.items);
        free (s->waiters);
    }
    for (int v = 0; self->var && v < self->n_variants; v++) {
        free (self->var[v].route[0]);
        free (self->var[v].route[1]);
    }
    for (int p = 0; self->part && p < self->n_parts; p++)
        twin_dist_free (&self->part[p].lead_time_s);
    free (self->st);
    free (self->var);
    free (self->part);
    free (self->robot);
}

void
twin_destroy (twin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    twin_t *self = *self_p;
    if (self->has_policy && self->policy.destroy)
        self->policy.destroy (self->policy.ctx);
    for (int i = 0; i < S_CONCERNS; i++)
        if (s_concerns[i].destroy)
            s_concerns[i].destroy (self);
    s_equipment_free (self);
    free (self->cmds.log);
    free (self->config_text);
    des_destroy (&self->des);
    free (self);
    *self_p = NULL;
}

void
twin_set_policy (twin_t *self, const twin_policy_t *policy)
{
    if (self->has_policy && self->policy.destroy)
        self->policy.destroy (self->policy.ctx);
    self->has_policy = policy != NULL;
    if (policy)
        self->policy = *policy;
}

void
twin_set_epoch_cb (twin_t *self, twin_epoch_fn *fn, void *ctx)
{
    self->epoch_fn = fn;
    self->epoch_ctx = ctx;
}

double   twin_now_s (const twin_t *self) { return des_now_s (self->des); }
double   twin_epoch_s (const twin_t *self) { return self->epoch_s; }
const char *twin_factory_name (const twin_t *self) { return self->factory; }
uint64_t twin_events (const twin_t *self) { return des_events (self->des); }
uint64_t twin_seed (const twin_t *self) { return self->seed; }
void     twin_stop (twin_t *self) { des_stop (self->des); }

int
twin_station_index (const twin_t *self, const char *name)
{
    for (int i = 0; name && i < self->n_stations; i++)
        if (!strcmp (self->st[i].name, name))
            return i;
    return -1;
}

int
twin_variant_index (const twin_t *self, const char *name)
{
    for (int i = 0; name && i < self->n_variants; i++)
        if (!strcmp (self->var[i].name, name))
            return i;
    return -1;
}

int
twin_part_index (const twin_t *self, const char *name)
{
    for (int i = 0; name && i < self->n_parts; i++)
        if (!strcmp (self->part[i].name, name))
            return i;
    return -1;
}

/* ------------------------------------------------------------ ownership */

static const char *const s_own_names[TWIN_OWN_COUNT] = {
    "line", "sequencing", "quality", "maintenance", "robots", "replenishment", "energy"
};

const char *
twin_own_name (twin_own_t concern)
{
    return (unsigned) concern < TWIN_OWN_COUNT ? s_own_names[concern] : "?";
}

int
twin_own_by_name (const char *name)
{
    for (int c = 0; name && c < TWIN_OWN_COUNT; c++)
        if (!strcmp (s_own_names[c], name))
            return c;
    return -1;
}

void
twin_set_owned (twin_t *self, twin_own_t concern, bool owned)
{
    if ((unsigned) concern >= TWIN_OWN_COUNT || self->owned[concern] == owned)
        return;
    self->owned[concern] = owned;
    self->own_returned[concern] = !owned;
    if (!owned && concern == TWIN_OWN_MAINTENANCE)
        twin__health_take_back (self);
    if (!owned && concern == TWIN_OWN_ROBOTS && self->n_robots > 0)
        twin__robots_dispatch (self);
}

bool
twin_owned (const twin_t *self, twin_own_t concern)
{
    return (unsigned) concern < TWIN_OWN_COUNT && self->owned[concern];
}

bool
twin__own_returned (twin_t *self, twin_own_t concern)
{
    bool r = self->own_returned[concern];
    self->own_returned[concern] = false;
    return r;
}

/* ------------------------------------------------------------ epochs */

static void
s_epoch (des_t *des, void *ctx, uint64_t arg)
{
    twin_t *self = ctx;
    double dt_s = (double) arg > 0 ? self->epoch_s : 0;
    for (int rank = 1; rank <= S_CONCERNS; rank++)
        for (int i = 0; i < S_CONCERNS; i++)
            if (s_concerns[i].epoch_rank == rank)
                s_concerns[i].epoch (self, dt_s);
    /* A fork re-applies what the live run's hooks did in this epoch. */
    twin_cmdlog_t *l = &self->cmds;
    while (l->replay && l->replay_i < l->replay_n && l->replay[l->replay_i].in_epoch
           && l->replay[l->replay_i].epoch <= self->epoch)
        twin__replay_one (self, &l->replay[l->replay_i++]);
    self->in_epoch = true;
    if (self->has_policy && self->policy.on_epoch)
        self->policy.on_epoch (self->policy.ctx, self, &self->view.obs);
    if (self->epoch_fn)
        self->epoch_fn (self->epoch_ctx, self, &self->view.obs);
    self->in_epoch = false;
    self->epoch++;
    des_schedule (des, self->epoch_s, s_epoch, self, 1);
}

static void
s_warmup_done (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    (void) arg;
    twin__stats_reset (ctx);
}

int
twin_start (twin_t *self)
{
    if (self->started)
        return -1;
    self->started = true;
    self->flow.t_wip_s = 0;
    for (int rank = 1; rank <= S_CONCERNS; rank++)
        for (int i = 0; i < S_CONCERNS; i++) {
            if (s_concerns[i].start_rank != rank)
                continue;
            if (s_concerns[i].start (self))
                return -1;
            /* The warm-up's end comes after the first failures (rank 1). */
            if (rank == 1 && self->warmup_s > 0)
                des_schedule (self->des, self->warmup_s, s_warmup_done, self, 0);
        }
    return des_schedule (self->des, 0, s_epoch, self, 0);
}

uint64_t
twin_iterate (twin_t *self, double until_s, uint64_t max_events)
{
    if (!self->started && twin_start (self))
        return 0;
    return des_iterate (self->des, until_s, max_events);
}

int
twin_run (twin_t *self, double hours, FILE *progress)
{
    if (!self->started && twin_start (self))
        return -1;
    double end_s = des_now_s (self->des) + hours * 3600.0;
    bool tty = progress && isatty (fileno (progress));
    double step_s = tty ? 86400.0 : end_s;
    while (des_now_s (self->des) < end_s) {
        double until = fmin (end_s, des_now_s (self->des) + step_s);
        des_iterate (self->des, until, 0);
        if (des_stopped (self->des))
            break;
        if (tty)
            fprintf (progress, "\r  simulated %.0f / %.0f h (%.0f %%), %llu events ",
                     des_now_s (self->des) / 3600.0, end_s / 3600.0,
                     100.0 * des_now_s (self->des) / end_s,
                     (unsigned long long) des_events (self->des));
    }
    if (tty)
        fputc ('\n', progress);
    return 0;
}

int
twin_set_warmup_h (twin_t *self, double hours)
{
    if (!self || self->started || !(hours >= 0) || hours > 1e6)
        return -1;
    self->warmup_s = hours * 3600.0;
    return 0;
}
