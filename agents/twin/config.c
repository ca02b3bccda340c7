/*  twin config — builds the plant from a factory YAML (deploy/factories/).
 *
 *  Every mapping is checked against its list of known keys, so a typo is an
 *  error, and every problem is reported once as "file:line: why" through
 *  af_config.  The reference for each key is docs/twin.md; the example
 *  configs show every default.
 */
#include "twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_top_keys[] = {
    "factory", "arrivals", "variants", "stations", "parts", "quality", "people",
    "robots", "floor", "energy", "site", "project",
    "health",                                           /* health (issue 11) */

    "inventory",                /* material (issue 11) */
    NULL
};
static const char *const s_factory_keys[] = { "name", "epoch_s", "warmup_h", NULL };
static const char *const s_variant_keys[] = { "name", "mix", "due_h", "load", "route", "alt_route", "bom", NULL };
static const char *const s_station_keys[] = {
    "name", "process_s", "process_s_by_variant", "setup_s", "setup_manual", "buffer_cap", "conveyor_s",
    "max_speed", "mtbf_h", "repair_min", "pm_interval_h", "pm_min", "wear",
    "quality", "power_kw", "heat_rise_c", "vibration",
    "buffer_max", "wake_s", /* flow (issue 11) */

    "changeover_by_robot",              /* robots (issue 11) */
    NULL
};
static const char *const s_wear_keys[] = {
    "rate_per_h", "speed_exp", "threshold", "life_cv", "pm_restore", "repair_min", NULL
};
/* What a routine PM does to each component: relubricates fully, re-tensions
 * belts and re-teaches joints (half their wear), and cannot see inside
 * bearings or motors, which only a replacement renews. */
static const double s_pm_restore_default[TWIN_COMP_COUNT] = { 0.0, 0.5, 0.0, 0.5, 1.0 };
static const char *const s_squality_keys[] = { "defect_p", "wear_gain", "speed_gain", "temp_gain", "torque_nm",
    /* quality (issue 11) */ "cp", "torque_tol_pct", "align_tol_mm", "drift_pct_per_h", "drift_sd_pct_per_h",
    "sensor_drift_pct_per_h", "temp_drift_c_per_h", "grr_pct", "skip_p", "recal_min", "recal_every_units", NULL };
static const char *const s_power_keys[] = { "idle", "busy", "blocked", "standby", "wake", NULL };
static const char *const s_vib_keys[] = { "base_mm_s", "shaft_hz", NULL };
static const char *const s_part_keys[] = {
    "name", "warehouse", "bin", "bin_cap", "bin_refill_at", "lead_time_h", "shortage_p",
    "damage_p", "reorder_point", "order_qty", "delivery",
    "warehouse_cap", "unit_cost",   /* material (issue 11) */
    NULL
};

/* A child mapping that may be absent; records an error if it is not a map. */
const af_config_t *
twin__cfg_map (const af_config_t *parent, const char *key, const char *const keys[])
{
    const af_config_t *m = parent ? af_config_get (parent, key) : NULL;
    if (!m)
        return NULL;
    if (af_config_kind (m) != AF_CONFIG_MAP) {
        af_config_fail (m, "'%s' must be a mapping", key);
        return NULL;
    }
    af_config_known_keys (m, keys);
    return m;
}

int
twin__cfg_dist (twin_dist_t *d, const af_config_t *map, const char *key, double scale, double dflt)
{
    const af_config_t *n = map ? af_config_get (map, key) : NULL;
    if (!n) {
        twin_dist_const (d, dflt * scale);
        return 0;
    }
    return twin_dist_parse (d, n, scale);
}

static int
s_name (char *dst, const af_config_t *map, const char *what)
{
    const char *name = af_config_str_req (map, "name");
    if (!name)
        return -1;
    if (!*name || strlen (name) >= TWIN_NAME_MAX)
        return af_config_fail (map, "%s name '%s' must be 1..%d characters", what, name,
                               TWIN_NAME_MAX - 1);
    strcpy (dst, name);
    return 0;
}

/* ------------------------------------------------------------ stations */

static int
s_load_station (twin_t *self, twin_station_t *s, const af_config_t *m)
{
    if (af_config_kind (m) != AF_CONFIG_MAP)
        return af_config_fail (m, "a station must be a mapping with at least 'name' and 'process_s'");
    af_config_known_keys (m, s_station_keys);
    if (s_name (s->name, m, "station"))
        return -1;
    char stream[TWIN_NAME_MAX + 32];
    static const char *const purposes[4] = { "process", "quality", "failures", "repairs" };
    twin_rng_t *rngs[4] = { &s->rng_proc, &s->rng_qual, &s->rng_fail, &s->rng_repair };
    for (int k = 0; k < 4; k++) {
        snprintf (stream, sizeof stream, "%s/%s", s->name, purposes[k]);
        twin_rng_seed (rngs[k], self->seed, stream);
    }
    for (int c = 0; c < TWIN_COMP_COUNT; c++) {
        snprintf (stream, sizeof stream, "%s/%s/life", s->name, twin__comp_names[c]);
        twin_rng_seed (&s->comp[c].life_rng, self->seed, stream);
        snprintf (stream, sizeof stream, "%s/%s/mode", s->name, twin__comp_names[c]);
        twin_rng_seed (&s->comp[c].mode_rng, self->seed, stream);
    }
    const af_config_t *proc = af_config_get (m, "process_s");
    if (!proc)
        return af_config_fail (m, "station '%s' needs 'process_s' (its processing time)", s->name);
    if (twin_dist_parse (&s->process_s, proc, 1.0))
        return -1;
    if (!(s->process_s.mean > 0))
        return af_config_fail (proc, "station '%s': processing time must be > 0", s->name);
    s->has_setup = af_config_get (m, "setup_s") != NULL;
    s->setup_manual = af_config_bool (m, "setup_manual", false);
    s->changeover_by_robot = af_config_bool (m, "changeover_by_robot", false);   /* robots (issue 11) */
    twin__cfg_dist (&s->setup_s, m, "setup_s", 1.0, 0);
    s->buffer_cap = (int) af_config_int (m, "buffer_cap", -1, 0, 1000000);
    s->conveyor_s = af_config_num (m, "conveyor_s", 0, 0, 1e6);
    s->max_speed = af_config_num (m, "max_speed", 1.2, 1.0, 3.0);
    s->speed = 1.0;
    s->mtbf_h = af_config_num (m, "mtbf_h", 0, 0, 1e9);
    twin__cfg_dist (&s->repair_s, m, "repair_min", 60.0, 30);
    s->pm_interval_h = af_config_num (m, "pm_interval_h", 0, 0, 1e6);
    twin__cfg_dist (&s->pm_s, m, "pm_min", 60.0, 60);
    const af_config_t *w = af_config_get (m, "wear");
    if (w) {
        if (af_config_kind (w) != AF_CONFIG_MAP)
            return af_config_fail (w, "'wear' must map components (%s, %s, %s, %s, %s) to settings",
                                   twin__comp_names[0], twin__comp_names[1], twin__comp_names[2],
                                   twin__comp_names[3], twin__comp_names[4]);
        af_config_known_keys (w, twin__comp_names);
        for (int c = 0; c < TWIN_COMP_COUNT; c++) {
            const af_config_t *cm = twin__cfg_map (w, twin__comp_names[c], s_wear_keys);
            if (!cm)
                continue;
            twin_component_t *k = &s->comp[c];
            k->present = true;
            k->rate_per_h = af_config_num_req (cm, "rate_per_h", 0, 10);
            k->speed_exp = af_config_num (cm, "speed_exp", 2.0, 0, 10);
            k->threshold = af_config_num (cm, "threshold", 1.0, 1e-6, 100);
            k->life_cv = af_config_num (cm, "life_cv", 0.25, 0, 2);
            k->pm_restore = af_config_num (cm, "pm_restore", s_pm_restore_default[c], 0, 1);
            twin__cfg_dist (&k->repair_s, cm, "repair_min", 60.0, 120);
        }
    }
    const af_config_t *q = twin__cfg_map (m, "quality", s_squality_keys);
    s->defect_base_p = af_config_num (q, "defect_p", 0, 0, 1);
    s->defect_wear_gain = af_config_num (q, "wear_gain", 10, 0, 1e6);
    s->defect_speed_gain = af_config_num (q, "speed_gain", 5, 0, 1e6);
    s->defect_temp_gain = af_config_num (q, "temp_gain", 0.1, 0, 1e6);
    s->torque_nominal_nm = af_config_num (q, "torque_nm", 25, 0, 1e6);
    twin__quality_station_load (s, q, self->seed);     /* quality (issue 11) */
    const af_config_t *p = twin__cfg_map (m, "power_kw", s_power_keys);
    s->power_idle_kw = af_config_num (p, "idle", 0, 0, 1e5);
    s->power_busy_kw = af_config_num (p, "busy", 0, 0, 1e5);
    s->power_blocked_kw = af_config_num (p, "blocked", s->power_idle_kw, 0, 1e5);
    /* flow (issue 11): stand-by and wake-up power, wake-up time, buffer limit */
    s->power_standby_kw = af_config_num (p, "standby", s->power_idle_kw, 0, 1e5);
    s->power_wake_kw = af_config_num (p, "wake", s->power_idle_kw, 0, 1e5);
    twin__cfg_dist (&s->wake_s, m, "wake_s", 1.0, 0);
    s->buffer_cap_cfg = s->buffer_cap;
    s->buffer_max = (int) af_config_int (m, "buffer_max", s->buffer_cap, 0, 1000000);
    if (af_config_get (m, "buffer_max") && (s->buffer_cap < 0 || s->buffer_max < s->buffer_cap))
        return af_config_fail (af_config_get (m, "buffer_max"),
                               "station '%s': buffer_max must be at least buffer_cap (which must be set)", s->name);
    s->heat_rise_c = af_config_num (m, "heat_rise_c", 10, 0, 500);
    const af_config_t *v = twin__cfg_map (m, "vibration", s_vib_keys);
    s->vib_base_mm_s = af_config_num (v, "base_mm_s", 1.0, 0, 1e3);
    s->shaft_hz = af_config_num (v, "shaft_hz", 25, 0.1, 1e4);
    s->inspected_wear = -1;
    return af_config_error (m) ? -1 : 0;
}

/* ------------------------------------------------------------ variants, routes */

static int
s_load_route (twin_t *self, twin_variant_t *v, int which, const af_config_t *seq)
{
    size_t n = af_config_size (seq);
    if (n == 0)
        return af_config_fail (seq, "variant '%s': a route needs at least one station", v->name);
    v->route[which] = calloc (n, sizeof (int));
    if (!v->route[which])
        return af_config_fail (seq, "out of memory");
    v->route_len[which] = (int) n;
    for (size_t i = 0; i < n; i++) {
        const af_config_t *e = af_config_at (seq, i, NULL);
        const char *name = af_config_text (e);
        int idx = name ? twin_station_index (self, name) : -1;
        if (idx < 0)
            return af_config_fail (e, "variant '%s': unknown station '%s' in route", v->name,
                                   name ? name : "(not a name)");
        for (size_t k = 0; k < i; k++)
            if (v->route[which][k] == idx)
                return af_config_fail (e, "variant '%s': route visits station '%s' twice "
                                       "(a cycle; rework loops are not modelled as routes)",
                                       v->name, name);
        v->route[which][i] = idx;
    }
    return 0;
}

/* The union of all routes must be acyclic: with finite buffers a cycle of
 * stations can deadlock, and the line is laid out as a flow, not a loop. */
static int
s_check_acyclic (twin_t *self, const af_config_t *where)
{
    int n = self->n_stations;
    char *adj = calloc ((size_t) n * n, 1);
    int *indeg = calloc ((size_t) n, sizeof (int));
    int *stack = calloc ((size_t) n, sizeof (int));
    int rc = -1;
    if (!adj || !indeg || !stack) {
        af_config_fail (where, "out of memory");
        goto done;
    }
    for (int v = 0; v < self->n_variants; v++)
        for (int r = 0; r < 2; r++)
            for (int i = 0; i + 1 < self->var[v].route_len[r]; i++) {
                int a = self->var[v].route[r][i], b = self->var[v].route[r][i + 1];
                if (!adj[a * n + b]) {
                    adj[a * n + b] = 1;
                    indeg[b]++;
                }
            }
    int top = 0, seen = 0;
    for (int i = 0; i < n; i++)
        if (indeg[i] == 0)
            stack[top++] = i;
    while (top > 0) {
        int a = stack[--top];
        seen++;
        for (int b = 0; b < n; b++)
            if (adj[a * n + b] && --indeg[b] == 0)
                stack[top++] = b;
    }
    if (seen < n) {
        /* Point at the last route with an edge inside the cycle: that is the
         * one that closed it. */
        const af_config_t *at = where;
        int station = -1;
        for (int v = 0; v < self->n_variants; v++)
            for (int r = 0; r < 2; r++)
                for (int i = 0; i + 1 < self->var[v].route_len[r]; i++) {
                    int a = self->var[v].route[r][i], b = self->var[v].route[r][i + 1];
                    if (indeg[a] > 0 && indeg[b] > 0) {
                        const af_config_t *m = af_config_at (where, (size_t) v, NULL);
                        const af_config_t *rt = m ? af_config_get (m, r ? "alt_route" : "route") : NULL;
                        at = rt ? rt : where;
                        station = b;
                    }
                }
        af_config_fail (at, "routes form a cycle through station '%s'; "
                        "the line must be a flow without loops",
                        self->st[station >= 0 ? station : 0].name);
        goto done;
    }
    rc = 0;
done:
    free (adj);
    free (indeg);
    free (stack);
    return rc;
}

/* Every station in order: the route of a variant that names none. */
static int
s_route_all (twin_t *self, twin_variant_t *v, const af_config_t *where)
{
    v->route[0] = calloc ((size_t) self->n_stations, sizeof (int));
    if (!v->route[0])
        return af_config_fail (where, "out of memory");
    for (int i = 0; i < self->n_stations; i++)
        v->route[0][i] = i;
    v->route_len[0] = self->n_stations;
    return 0;
}

/* A variant's bill of materials: part name → quantity per unit. */
static int
s_load_bom (twin_t *self, twin_variant_t *v, const af_config_t *bom)
{
    if (af_config_kind (bom) != AF_CONFIG_MAP)
        return af_config_fail (bom, "'bom' must map part names to quantities");
    if (af_config_size (bom) > TWIN_MAX_BOM)
        return af_config_fail (bom, "at most %d parts per bill of materials", TWIN_MAX_BOM);
    for (size_t k = 0; k < af_config_size (bom); k++) {
        const char *part;
        af_config_t *q = af_config_at (bom, k, &part);
        int p = twin_part_index (self, part);
        if (p < 0)
            return af_config_fail (q, "variant '%s': unknown part '%s' in bom", v->name, part);
        v->bom_part[v->bom_n] = p;
        v->bom_qty[v->bom_n] = af_config_num_req (bom, part, 1e-9, 1e6);
        v->bom_n++;
    }
    return 0;
}

static int
s_load_variants (twin_t *self, const af_config_t *root)
{
    const af_config_t *seq = af_config_seq (root, "variants");
    int n = seq ? (int) af_config_size (seq) : 0;
    self->n_variants = n > 0 ? n : 1;
    self->var = calloc ((size_t) self->n_variants, sizeof *self->var);
    if (!self->var)
        return af_config_fail (root, "out of memory");
    if (n == 0) {
        /* One product through every station in order. */
        twin_variant_t *v = &self->var[0];
        strcpy (v->name, "default");
        v->mix = 1;
        v->load = 1;
        v->due_h = 8;
        return s_route_all (self, v, root);
    }
    double mix = 0;
    for (int i = 0; i < n; i++) {
        const af_config_t *m = af_config_at (seq, (size_t) i, NULL);
        twin_variant_t *v = &self->var[i];
        if (af_config_kind (m) != AF_CONFIG_MAP)
            return af_config_fail (m, "a variant must be a mapping with 'name' and 'mix'");
        af_config_known_keys (m, s_variant_keys);
        if (s_name (v->name, m, "variant"))
            return -1;
        for (int k = 0; k < i; k++)
            if (!strcmp (self->var[k].name, v->name))
                return af_config_fail (m, "variant '%s' is defined twice", v->name);
        v->mix = af_config_num_req (m, "mix", 0, 1e6);
        mix += v->mix;
        v->due_h = af_config_num (m, "due_h", 8, 0, 1e6);
        v->load = af_config_num (m, "load", 1.0, 0, 100);
    }
    if (af_config_error (root))
        return -1;
    if (!(mix > 0))
        return af_config_fail (seq, "variant mixes must not all be zero");
    for (int i = 0; i < n; i++) {
        const af_config_t *m = af_config_at (seq, (size_t) i, NULL);
        twin_variant_t *v = &self->var[i];
        v->mix /= mix;
        const af_config_t *route = af_config_seq (m, "route");
        if (route ? s_load_route (self, v, 0, route) : s_route_all (self, v, m))
            return -1;
        const af_config_t *alt = af_config_seq (m, "alt_route");
        if (alt && s_load_route (self, v, 1, alt))
            return -1;
        const af_config_t *bom = af_config_get (m, "bom");
        if (bom && s_load_bom (self, v, bom))
            return -1;
    }
    return s_check_acyclic (self, seq);
}

static int
s_load_variant_processes (twin_t *self, const af_config_t *seq)
{
    for (int i = 0; i < self->n_stations; i++) {
        const af_config_t *m = af_config_at (seq, (size_t) i, NULL);
        const af_config_t *bv = af_config_get (m, "process_s_by_variant");
        if (!bv)
            continue;
        twin_station_t *s = &self->st[i];
        if (af_config_kind (bv) != AF_CONFIG_MAP)
            return af_config_fail (bv, "'process_s_by_variant' must map variant names to times");
        s->process_by_variant = calloc ((size_t) self->n_variants, sizeof (twin_dist_t));
        s->has_variant_process = calloc ((size_t) self->n_variants, sizeof (bool));
        if (!s->process_by_variant || !s->has_variant_process)
            return af_config_fail (bv, "out of memory");
        for (size_t k = 0; k < af_config_size (bv); k++) {
            const char *vn;
            const af_config_t *d = af_config_at (bv, k, &vn);
            int v = twin_variant_index (self, vn);
            if (v < 0)
                return af_config_fail (d, "station '%s': unknown variant '%s'", s->name, vn);
            if (twin_dist_parse (&s->process_by_variant[v], d, 1.0))
                return -1;
            if (!(s->process_by_variant[v].mean > 0))
                return af_config_fail (d, "station '%s': processing time must be > 0", s->name);
            s->has_variant_process[v] = true;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ parts */

static int
s_load_parts (twin_t *self, const af_config_t *root)
{
    const af_config_t *seq = af_config_seq (root, "parts");
    self->n_parts = seq ? (int) af_config_size (seq) : 0;
    if (self->n_parts == 0)
        return 0;
    self->part = calloc ((size_t) self->n_parts, sizeof *self->part);
    if (!self->part)
        return af_config_fail (root, "out of memory");
    for (int i = 0; i < self->n_parts; i++) {
        const af_config_t *m = af_config_at (seq, (size_t) i, NULL);
        twin_part_t *p = &self->part[i];
        if (af_config_kind (m) != AF_CONFIG_MAP)
            return af_config_fail (m, "a part must be a mapping with 'name' and 'lead_time_h'");
        af_config_known_keys (m, s_part_keys);
        if (s_name (p->name, m, "part"))
            return -1;
        for (int k = 0; k < i; k++)
            if (!strcmp (self->part[k].name, p->name))
                return af_config_fail (m, "part '%s' is defined twice", p->name);
        twin_rng_seed (&p->rng, self->seed, p->name);
        p->warehouse = af_config_num (m, "warehouse", 1000, 0, 1e12);
        p->bin_cap = af_config_num (m, "bin_cap", 50, 1e-9, 1e12);
        p->bin = af_config_num (m, "bin", p->bin_cap, 0, p->bin_cap);
        p->bin_refill_at = af_config_num (m, "bin_refill_at", p->bin_cap / 4, 0, p->bin_cap);
        const af_config_t *lt = af_config_get (m, "lead_time_h");
        if (!lt)
            return af_config_fail (m, "part '%s' needs 'lead_time_h' (its supplier lead time)", p->name);
        if (twin_dist_parse (&p->lead_time_s, lt, 3600.0))
            return -1;
        p->shortage_p = af_config_num (m, "shortage_p", 0, 0, 1);
        p->damage_p = af_config_num (m, "damage_p", 0, 0, 1);
        p->reorder_point = af_config_num (m, "reorder_point", 0, 0, 1e12);
        p->order_qty = af_config_num (m, "order_qty", 0, 0, 1e12);
        if (twin__site_load_part (self, p, m))
            return -1;
    }
    return af_config_error (root) ? -1 : 0;
}





/* ------------------------------------------------------------ whole plant */

int
twin__load (twin_t *self, const af_config_t *root)
{
    if (af_config_kind (root) != AF_CONFIG_MAP)
        return af_config_fail (root, "a factory config is a mapping (factory, stations, …)");
    af_config_known_keys (root, s_top_keys);
    const af_config_t *f = twin__cfg_map (root, "factory", s_factory_keys);
    snprintf (self->factory, sizeof self->factory, "%s", af_config_str (f, "name", "factory"));
    self->epoch_s = af_config_num (f, "epoch_s", TWIN_EPOCH_DEFAULT_S, 1, 86400);
    self->warmup_s = af_config_num (f, "warmup_h", 0, 0, 1e6) * 3600.0;

    const af_config_t *seq = af_config_seq (root, "stations");
    if (af_config_error (root))
        return -1;
    if (!seq || af_config_size (seq) == 0)
        return af_config_fail (root, "'stations' is missing: a factory needs at least one station");
    self->n_stations = (int) af_config_size (seq);
    self->st = calloc ((size_t) self->n_stations, sizeof *self->st);
    if (!self->st)
        return af_config_fail (root, "out of memory");
    for (int i = 0; i < self->n_stations; i++) {
        const af_config_t *m = af_config_at (seq, (size_t) i, NULL);
        self->st[i].index = i;
        if (s_load_station (self, &self->st[i], m))
            return -1;
        for (int k = 0; k < i; k++)
            if (!strcmp (self->st[k].name, self->st[i].name))
                return af_config_fail (m, "station '%s' is defined twice", self->st[i].name);
    }
    if (s_load_parts (self, root) || s_load_variants (self, root)
        || s_load_variant_processes (self, seq))
        return -1;

    if (twin__concerns_load (self, root))
        return -1;
    return af_config_error (root) ? -1 : 0;
}
