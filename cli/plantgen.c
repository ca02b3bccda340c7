/*  plantgen — draws a plausible plant from sourced ranges and writes it as
 *  factory YAML (docs/plant.md "Random plants" names every source tag).
 *
 *  Two passes: s_plan draws every structural choice (stations, variants,
 *  parts, the arrival rate that loads the line to 78–88 % of what it can
 *  serve) into an s_gen_t; the writers then print it, with the generic
 *  s_emit_scope / s_flow_scope writing every PLANTGEN_EMIT row of a scope.
 */
#include "plantgen.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_VARIANTS 4
#define S_MAX_PARTS 5
#define S_NAME_MAX 32
/* Changeover longer than this many takts: the plant batches variants. */
#define S_BATCH_SETUP_TAKTS 3.0
/* Work per batch, in takts, for each takt of the longest changeover. */
#define S_BATCH_MIN_TAKTS_PER_SETUP 2.0

/* ------------------------------------------------------------- the table
 * Source tags (docs/plant.md "Random plants"): HS08 Hopp & Spearman, Factory
 * Physics; SH85 Shingo, SMED; CO88 Conway et al. 1988, WIP in serial lines;
 * GU06 Gutowski et al. 2006, energy of manufacturing processes; ISO10816
 * vibration zones; SE12 See 2012, visual inspection review; NR17 McLaren et
 * al. 2017, US demand charges; EIA US industrial electricity prices; TM22
 * Tesla Megapack data sheet; AMR vendor data sheets; DEF
 * the default plant's own value (docs/plant.md sections above) with a
 * spread around it; JDG engineering judgement, no published figure. */
static const plantgen_row_t s_rows[] = {
    /* the line */
    { "line", "stations", 4, 12, PLANTGEN_INT, 0, PLANTGEN_DERIVE, "JDG" },
    { "line", "takt_s", 30, 120, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "JDG" },
    { "line", "balance", 0.80, 1.0, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "JDG" },
    { "line", "bottleneck_u", 0, 1, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "JDG" },
    { "arrivals", "load", 0.78, 0.88, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "HS08" },
    { "arrivals", "batch_size", 8, 40, PLANTGEN_INT, 0, PLANTGEN_DERIVE, "JDG" },
    /* stations: processing, changeovers, buffers */
    { "station", "kind", 0, 15, PLANTGEN_INT, 0, PLANTGEN_DERIVE, "JDG" },
    { "station", "process_cv", 0.04, 0.20, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "HS08" },
    { "station", "lognormal_p", 0.25, 0, PLANTGEN_CHANCE, 0, PLANTGEN_DERIVE, "JDG" },
    { "station", "setup_p", 0.40, 0, PLANTGEN_CHANCE, 0, PLANTGEN_DERIVE, "JDG" },
    { "station", "setup_mean_s", 120, 900, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "SH85" },
    { "station", "setup_manual_p", 0.30, 0, PLANTGEN_CHANCE, 0, PLANTGEN_DERIVE, "JDG" },
    { "station", "buffer_cap", 2, 8, PLANTGEN_INT, 0, PLANTGEN_EMIT, "CO88" },
    { "station", "conveyor_s", 6, 18, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "station", "max_speed", 1.10, 1.25, PLANTGEN_UNIFORM, 3, PLANTGEN_EMIT, "DEF" },
    /* stations: health */
    { "station", "mtbf_h", 60, 400, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "station", "mttr_min", 15, 60, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "station", "pm_weeks", 1, 4, PLANTGEN_INT, 0, PLANTGEN_DERIVE, "JDG" },
    { "station", "pm_min", 30, 90, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "station", "wear_p", 0.60, 0, PLANTGEN_CHANCE, 0, PLANTGEN_DERIVE, "JDG" },
    { "station.wear", "bearing_life_h", 500, 2000, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "station.wear", "belt_life_h", 300, 1200, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "station.wear", "motor_life_h", 1000, 3000, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "station.wear", "joint_life_h", 400, 1500, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "station.wear", "lube_life_h", 150, 500, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "station.wear", "bearing_repair_min", 90, 180, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "station.wear", "belt_repair_min", 40, 90, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "station.wear", "motor_repair_min", 150, 300, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "station.wear", "joint_repair_min", 120, 240, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "station.wear", "lube_repair_min", 15, 30, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    /* stations: quality, power, heat, vibration */
    { "station.quality", "defect_p", 1e-5, 2e-4, PLANTGEN_LOGUNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "station.quality", "wear_gain", 6, 14, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "station.quality", "speed_gain", 3, 7, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "station.quality", "temp_gain", 0.05, 0.2, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "station.quality", "torque_nm", 2, 30, PLANTGEN_LOGUNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "station", "idle_kw", 2, 15, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "GU06" },
    { "station", "idle_share", 0.15, 0.50, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "GU06" },
    { "station", "blocked_factor", 1.0, 1.3, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "station", "heat_rise_c", 4, 20, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "station.vibration", "base_mm_s", 0.7, 1.8, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "ISO10816" },
    { "station.vibration", "shaft_hz", 15, 50, PLANTGEN_UNIFORM, 3, PLANTGEN_EMIT, "ISO10816" },
    /* variants */
    { "variant", "count", 1, 4, PLANTGEN_INT, 0, PLANTGEN_DERIVE, "JDG" },
    { "variant", "weight", 0.2, 1.0, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "JDG" },
    { "variant", "due_h", 6, 24, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "variant", "load", 0.8, 1.4, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "variant", "skip_p", 0.10, 0, PLANTGEN_CHANCE, 0, PLANTGEN_DERIVE, "JDG" },
    { "variant", "factor_p", 0.50, 0, PLANTGEN_CHANCE, 0, PLANTGEN_DERIVE, "JDG" },
    { "variant", "factor", 0.95, 1.25, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    /* parts */
    { "part", "count", 2, 5, PLANTGEN_INT, 0, PLANTGEN_DERIVE, "JDG" },
    { "part", "qty", 1, 64, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "JDG" },
    { "part", "qty_factor", 1.0, 1.5, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "JDG" },
    { "part", "lead_time_h", 24, 168, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "part", "lead_cv", 0.2, 0.5, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "part", "cover_lead_times", 2, 3, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "part", "bin_units", 60, 120, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "JDG" },
    { "part", "refill_share", 0.30, 0.50, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "JDG" },
    { "part", "shortage_p", 0, 0.08, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "part", "damage_p", 5e-4, 1e-2, PLANTGEN_LOGUNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    /* end-of-line inspection (the baseline's 1 in 20 is DESIGN §5, not drawn) */
    { "quality", "rework_p", 0.5, 0.9, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "JDG" },
    { "quality.detect_p", "micro_defect", 0.50, 0.75, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "SE12" },
    { "quality.detect_p", "misalignment", 0.85, 0.98, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "SE12" },
    { "quality.detect_p", "torque", 0.80, 0.95, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "SE12" },
    { "quality.detect_p", "thermal_hotspot", 0.70, 0.90, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "SE12" },
    { "quality.detect_p", "contamination", 0.60, 0.85, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "SE12" },
    /* people and robots */
    { "people", "technicians_extra", 0, 1, PLANTGEN_INT, 0, PLANTGEN_DERIVE, "JDG" },
    { "people", "response_min", 8, 20, PLANTGEN_LOGUNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "robots", "mobile", 2, 6, PLANTGEN_INT, 0, PLANTGEN_EMIT, "JDG" },
    { "robots", "speed_mps", 1.0, 2.0, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "AMR" },
    { "robots", "inspect_min", 3, 8, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "robots", "handle_min", 1, 3, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    /* energy */
    { "energy", "base_kw_per_station", 8, 25, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "energy.ambient", "mean_c", 4, 18, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "JDG" },
    { "energy.ambient", "day_amp_c", 3, 8, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "JDG" },
    { "energy.ambient", "season_amp_c", 5, 12, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "JDG" },
    { "energy.hvac", "setpoint_c", 20, 22, PLANTGEN_UNIFORM, 3, PLANTGEN_EMIT, "DEF" },
    { "energy.hvac", "cop", 2.5, 4.5, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "JDG" },
    { "energy.hvac", "ua_kw_per_c", 6, 20, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "energy.hvac", "heat_cap_kwh_per_c", 300, 1200, PLANTGEN_LOGUNIFORM, 2, PLANTGEN_EMIT, "DEF" },
    { "energy.hvac", "max_kw_per_station", 20, 40, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "energy.solar", "peak_kw", 0, 500, PLANTGEN_UNIFORM, 3, PLANTGEN_EMIT, "JDG" },
    { "energy.solar", "latitude_deg", 35, 58, PLANTGEN_UNIFORM, 3, PLANTGEN_EMIT, "JDG" },
    { "energy.solar", "cloud_mean", 0.3, 0.6, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "JDG" },
    { "energy.battery", "capacity_kwh", 500, 3000, PLANTGEN_UNIFORM, 3, PLANTGEN_EMIT, "TM22" },
    { "energy.battery", "round_trip_eff", 0.85, 0.92, PLANTGEN_UNIFORM, 3, PLANTGEN_EMIT, "TM22" },
    { "energy.battery", "duration_h", 2, 4, PLANTGEN_INT, 0, PLANTGEN_DERIVE, "TM22" },
    { "energy.tariff", "price_per_kwh", 0.08, 0.20, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "EIA" },
    { "energy.tariff", "demand_charge_per_kw", 5, 25, PLANTGEN_UNIFORM, 2, PLANTGEN_EMIT, "NR17" },
    { "energy.tariff", "peak_factor", 1.5, 2.3, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
    { "energy.tariff", "night_factor", 0.55, 0.75, PLANTGEN_UNIFORM, 0, PLANTGEN_DERIVE, "DEF" },
};
#define S_N_ROWS (sizeof s_rows / sizeof s_rows[0])

/* Wear components in the twin's order (agents/twin: twin__comp_names). */
static const char *const s_comps[] = { "bearing", "belt", "motor", "joint", "lube" };
#define S_N_COMPS (sizeof s_comps / sizeof s_comps[0])
/* How fast each component's wear grows with speed (the twin's default is 2). */
static const double s_comp_speed_exp[S_N_COMPS] = { 2, 1.5, 2, 2, 1 };

/* What stations and parts are called; drawn, so two plants look different. */
static const char *const s_station_kinds[] = {
    "load", "press", "weld", "fasten", "glue", "cure", "assemble", "screw",
    "test", "inspect", "pack", "seal", "mill", "drill", "label", "calibrate",
};
static const char *const s_part_names[] = {
    "frame", "board", "harness", "fastener", "seal", "housing", "sensor", "motor",
};
#define S_N_KINDS (sizeof s_station_kinds / sizeof s_station_kinds[0])
#define S_N_PART_NAMES (sizeof s_part_names / sizeof s_part_names[0])

typedef struct {
    char name[S_NAME_MAX];
    double mean_s, cv;
    bool lognormal, has_setup, setup_manual;
    double setup_mean_s;
    double mtbf_h, mttr_min, pm_interval_h, pm_min;
    bool wear[S_N_COMPS];
    double life_h[S_N_COMPS], repair_min[S_N_COMPS];
} s_station_t;

typedef struct {
    char name[S_NAME_MAX];
    double mix;
    bool visits[PLANTGEN_MAX_STATIONS];
    double factor[PLANTGEN_MAX_STATIONS];  /* process time × this (1: the station's) */
    int qty[S_MAX_PARTS];
} s_variant_t;

typedef struct {
    uint64_t seed;
    FILE *out;
    int n_st, n_var, n_parts;
    double takt_s, rate_per_h;
    const char *sequence;
    int batch_size;
    bool batching;               /* variants released in fixed batches */
    s_station_t st[PLANTGEN_MAX_STATIONS];
    s_variant_t var[S_MAX_VARIANTS];
} s_gen_t;

const plantgen_row_t *
plantgen_rows (size_t *n)
{
    *n = S_N_ROWS;
    return s_rows;
}

static const char *const s_dist_names[] = { "uniform", "log-uniform", "integer", "chance" };

void
plantgen_print_table (FILE *out)
{
    fprintf (out, "| scope | key | range | drawn | written | source |\n| --- | --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < S_N_ROWS; i++) {
        const plantgen_row_t *r = &s_rows[i];
        if (r->dist == PLANTGEN_CHANCE)
            fprintf (out, "| %s | %s | p = %g |", r->scope, r->key, r->lo);
        else
            fprintf (out, "| %s | %s | %g … %g |", r->scope, r->key, r->lo, r->hi);
        fprintf (out, " %s | %s | %s |\n", s_dist_names[r->dist],
                 r->use == PLANTGEN_EMIT ? "as is" : "combined", r->source);
    }
}

/* ------------------------------------------------------------- drawing */

static uint64_t
s_mix64 (uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t
s_hash_text (uint64_t h, const char *text)
{
    for (const unsigned char *p = (const unsigned char *) text; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return h;
}

static const plantgen_row_t *
s_row (const char *scope, const char *key)
{
    for (size_t i = 0; i < S_N_ROWS; i++)
        if (!strcmp (s_rows[i].scope, scope) && !strcmp (s_rows[i].key, key))
            return &s_rows[i];
    return NULL;
}

/* A uniform number in [0, 1) from (seed, row, instance): no stream, so
 * values do not depend on the order they are asked for. */
static double
s_unit (const s_gen_t *g, const plantgen_row_t *row, uint64_t instance)
{
    uint64_t h = s_hash_text (s_hash_text (0xcbf29ce484222325ULL, row->scope), row->key);
    uint64_t z = s_mix64 (g->seed ^ s_mix64 (h ^ s_mix64 (instance)));
    return (double) (z >> 11) * 0x1.0p-53;
}

static double
s_value (const s_gen_t *g, const plantgen_row_t *row, uint64_t instance)
{
    double u = s_unit (g, row, instance);
    switch (row->dist) {
    case PLANTGEN_UNIFORM: return row->lo + u * (row->hi - row->lo);
    case PLANTGEN_LOGUNIFORM: return exp (log (row->lo) + u * (log (row->hi) - log (row->lo)));
    case PLANTGEN_INT: return floor (row->lo + u * (row->hi - row->lo + 1));
    case PLANTGEN_CHANCE: return u < row->lo ? 1 : 0;
    }
    return row->lo;
}

/* The value of row SCOPE/KEY for INSTANCE; a missing row is a bug here. */
static double
s_draw (const s_gen_t *g, const char *scope, const char *key, uint64_t instance)
{
    const plantgen_row_t *row = s_row (scope, key);
    assert (row && "plantgen: no such row");
    return s_value (g, row, instance);
}

/* (i, j) → one instance number. */
static uint64_t
s_inst (int i, int j)
{
    return (uint64_t) (i + 1) * 1000u + (uint64_t) (j + 1);
}

/* ------------------------------------------------------------- planning */

static void
s_plan_station (s_gen_t *g, int i)
{
    s_station_t *s = &g->st[i];
    uint64_t in = s_inst (i, -1);
    int kind = (int) s_draw (g, "station", "kind", in) % (int) S_N_KINDS;
    snprintf (s->name, sizeof s->name, "s%02d-%s", i + 1, s_station_kinds[kind]);
    /* The bottleneck is a drawn station at the takt; the others are faster,
     * as a balanced line's stations are. */
    int bottleneck = (int) (s_draw (g, "line", "bottleneck_u", 0) * g->n_st);
    s->mean_s = g->takt_s * (i == bottleneck ? 1.0 : s_draw (g, "line", "balance", in));
    s->cv = s_draw (g, "station", "process_cv", in);
    s->lognormal = s_draw (g, "station", "lognormal_p", in) > 0;
    s->has_setup = s_draw (g, "station", "setup_p", in) > 0;
    s->setup_mean_s = s_draw (g, "station", "setup_mean_s", in);
    s->setup_manual = s_draw (g, "station", "setup_manual_p", in) > 0;
    s->mtbf_h = s_draw (g, "station", "mtbf_h", in);
    s->mttr_min = s_draw (g, "station", "mttr_min", in);
    s->pm_interval_h = 168.0 * s_draw (g, "station", "pm_weeks", in);
    for (size_t c = 0; c < S_N_COMPS; c++) {
        char key[48];
        s->wear[c] = s_draw (g, "station", "wear_p", s_inst (i, (int) c)) > 0;
        snprintf (key, sizeof key, "%s_life_h", s_comps[c]);
        s->life_h[c] = s_draw (g, "station.wear", key, in);
        snprintf (key, sizeof key, "%s_repair_min", s_comps[c]);
        s->repair_min[c] = s_draw (g, "station.wear", key, in);
    }
}

static void
s_plan_variants (s_gen_t *g)
{
    g->n_var = (int) s_draw (g, "variant", "count", 0);
    double sum = 0;
    for (int v = 0; v < g->n_var; v++) {
        s_variant_t *var = &g->var[v];
        snprintf (var->name, sizeof var->name, "%s", v == 0 ? "std" : v == 1 ? "plus" : v == 2 ? "pro" : "max");
        var->mix = s_draw (g, "variant", "weight", s_inst (v, -1));
        sum += var->mix;
        for (int i = 0; i < g->n_st; i++) {
            uint64_t in = s_inst (v, i);
            /* The first variant and the first and last stations are never
             * skipped: every station has work, every unit is loaded and
             * tested. */
            bool inner = v > 0 && i > 0 && i + 1 < g->n_st && !g->batching;
            var->visits[i] = !(inner && s_draw (g, "variant", "skip_p", in) > 0);
            var->factor[i] = v > 0 && s_draw (g, "variant", "factor_p", in) > 0
                                 ? s_draw (g, "variant", "factor", in) : 1.0;
        }
        for (int p = 0; p < g->n_parts; p++) {
            double qty = round (s_draw (g, "part", "qty", s_inst (p, -1)));
            if (v > 0)
                qty = round (qty * s_draw (g, "part", "qty_factor", s_inst (p, v)));
            var->qty[p] = qty < 1 ? 1 : (int) qty;
        }
    }
    for (int v = 0; v < g->n_var; v++)
        g->var[v].mix /= sum;
}

/* Mean time station I needs per released unit, changeovers left out. */
static double
s_station_work_s (const s_gen_t *g, int i)
{
    double t = 0;
    for (int v = 0; v < g->n_var; v++)
        if (g->var[v].visits[i])
            t += g->var[v].mix * g->st[i].mean_s * g->var[v].factor[i];
    return t;
}

/* Changeover time the whole line loses per released unit.  A change of
 * variant walks down the line and, with buffers of a few units, each
 * station's changeover blocks the ones before it, so the line loses about
 * the sum of them (measured: seven stations, five with changeovers, the
 * first station 35 % blocked).  A batch of B ends in a changeover unless
 * the next order in line is of the same variant (chance SAME), so runs are
 * B − 1 + 1 / (1 − SAME) units long (fifo and edd: B = 1). */
static double
s_line_setup_s (const s_gen_t *g)
{
    double same = 0, setup_s = 0;
    for (int v = 0; v < g->n_var; v++)
        same += g->var[v].mix * g->var[v].mix;
    if (g->n_var < 2 || same >= 1)
        return 0;
    for (int i = 0; i < g->n_st; i++)
        if (g->st[i].has_setup)
            setup_s += g->st[i].setup_mean_s;
    return setup_s / (g->batch_size - 1 + 1 / (1 - same));
}

/* The share of time station I can work: random failures, PM, wear repairs
 * (a technician's response included).  Blocking and starving are left out;
 * the drawn load (78–88 %) leaves room for them. */
static double
s_station_avail (const s_gen_t *g, int i)
{
    const s_station_t *s = &g->st[i];
    double a = s->mtbf_h / (s->mtbf_h + s->mttr_min / 60.0);
    a *= 1 - s->pm_min / 60.0 / s->pm_interval_h;
    for (size_t c = 0; c < S_N_COMPS; c++)
        if (s->wear[c])
            a *= 1 - (s->repair_min[c] + 20) / 60.0 / s->life_h[c];
    return a;
}

static void
s_plan (s_gen_t *g, int stations)
{
    g->n_st = stations ? stations : (int) s_draw (g, "line", "stations", 0);
    g->n_parts = (int) s_draw (g, "part", "count", 0);
    g->takt_s = s_draw (g, "line", "takt_s", 0);
    double longest_setup_s = 0;
    for (int i = 0; i < g->n_st; i++) {
        s_plan_station (g, i);
        g->st[i].pm_min = s_draw (g, "station", "pm_min", s_inst (i, -1));
        if (g->st[i].has_setup && g->st[i].setup_mean_s > longest_setup_s)
            longest_setup_s = g->st[i].setup_mean_s;
    }
    /* The baseline's release rule (DESIGN §5): due-date order, or fixed
     * batches of one variant where changeovers are long.  A batching plant
     * sends every variant through every station: a variant that skipped one
     * would overtake the others and break the batches downstream (measured:
     * a changeover every 3.3 units with batches of 12). */
    int n_var = (int) s_draw (g, "variant", "count", 0);
    g->batching = n_var > 1 && longest_setup_s > S_BATCH_SETUP_TAKTS * g->takt_s;
    g->sequence = g->batching ? "batch" : "edd";
    g->batch_size = g->batching ? (int) s_draw (g, "arrivals", "batch_size", 0) : 1;
    /* A well-run plant sizes its batches so changeovers stay a minority of
     * the time: at least S_BATCH_MIN_TAKTS_PER_SETUP takts of work per
     * takt of the longest changeover. */
    int min_batch = (int) ceil (S_BATCH_MIN_TAKTS_PER_SETUP * longest_setup_s / g->takt_s);
    if (g->batching && g->batch_size < min_batch)
        g->batch_size = min_batch;
    s_plan_variants (g);
    double capacity_per_h = INFINITY, setup_s = s_line_setup_s (g);
    for (int i = 0; i < g->n_st; i++) {
        double cap = 3600.0 * s_station_avail (g, i) / (s_station_work_s (g, i) + setup_s);
        if (cap < capacity_per_h)
            capacity_per_h = cap;
    }
    g->rate_per_h = s_draw (g, "arrivals", "load", 0) * capacity_per_h;
}

/* ------------------------------------------------------------- writing */

static void __attribute__ ((format (printf, 2, 3)))
s_put (s_gen_t *g, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vfprintf (g->out, fmt, args);
    va_end (args);
}

/* V rounded to DIGITS significant digits (0: an integer), written without
 * an exponent unless it is tiny ("1.2e-05"), trailing zeros dropped. */
static const char *
s_num (char *buf, size_t len, double v, int digits)
{
    if (digits <= 0 || v == 0) {
        snprintf (buf, len, "%.0f", v);
        return buf;
    }
    if (fabs (v) < 1e-3) {
        snprintf (buf, len, "%.*g", digits, v);
        return buf;
    }
    int magnitude = (int) floor (log10 (fabs (v)));
    int decimals = digits - 1 - magnitude;
    if (decimals <= 0) {
        double unit = pow (10, -decimals);
        snprintf (buf, len, "%.0f", round (v / unit) * unit);
        return buf;
    }
    snprintf (buf, len, "%.*f", decimals, v);
    char *end = buf + strlen (buf) - 1;
    while (end > buf && *end == '0')
        *end-- = 0;
    if (*end == '.')
        *end = 0;
    return buf;
}

/* Every EMIT row of SCOPE as block lines "key: value" at INDENT. */
static void
s_emit_scope (s_gen_t *g, const char *scope, uint64_t instance, int indent)
{
    char num[32];
    for (size_t i = 0; i < S_N_ROWS; i++) {
        const plantgen_row_t *r = &s_rows[i];
        if (r->use == PLANTGEN_EMIT && !strcmp (r->scope, scope))
            s_put (g, "%*s%s: %s\n", indent, "", r->key,
                   s_num (num, sizeof num, s_value (g, r, instance), r->digits));
    }
}

/* Every EMIT row of SCOPE as flow-mapping items "k: v", each after *SEP
 * (which then becomes ", "). */
static void
s_flow_items (s_gen_t *g, const char *scope, uint64_t instance, const char **sep)
{
    char num[32];
    for (size_t i = 0; i < S_N_ROWS; i++) {
        const plantgen_row_t *r = &s_rows[i];
        if (r->use != PLANTGEN_EMIT || strcmp (r->scope, scope))
            continue;
        s_put (g, "%s%s: %s", *sep, r->key, s_num (num, sizeof num, s_value (g, r, instance), r->digits));
        *sep = ", ";
    }
}

/* Every EMIT row of SCOPE as one flow mapping "{k: v, …}", then EXTRA
 * (already "k: v" text; NULL: none) before the closing brace. */
static void
s_flow_scope (s_gen_t *g, const char *scope, uint64_t instance, const char *extra)
{
    const char *sep = "";
    s_put (g, "{");
    s_flow_items (g, scope, instance, &sep);
    if (extra)
        s_put (g, "%s%s", sep, extra);
    s_put (g, "}");
}

static void
s_write_time (s_gen_t *g, double mean_s, double cv, bool lognormal)
{
    char m[32], c[32];
    s_num (m, sizeof m, mean_s, 3);
    if (lognormal)
        s_put (g, "{dist: lognormal, mean: %s, sd: %s}", m, s_num (c, sizeof c, mean_s * cv, 2));
    else
        s_put (g, "{dist: gamma, mean: %s, cv: %s}", m, s_num (c, sizeof c, cv, 2));
}

static void
s_write_head (s_gen_t *g)
{
    s_put (g, "# A random plant: autofab plant --random --seed %llu --stations %d\n"
              "# Every value is drawn from a range sourced in docs/plant.md \"Random plants\".\n"
              "# Run:  autofab-twin --config FILE --hours 168\n\n",
           (unsigned long long) g->seed, g->n_st);
    s_put (g, "factory:\n  name: random-%llu\n  epoch_s: 60\n\n", (unsigned long long) g->seed);
    char num[32];
    s_put (g, "arrivals:\n  mode: poisson\n  rate_per_h: %s\n  sequence: %s\n",
           s_num (num, sizeof num, g->rate_per_h, 3), g->sequence);
    if (g->batch_size > 1)
        s_put (g, "  batch_size: %d\n", g->batch_size);
    s_put (g, "\n");
}

static void
s_write_variants (s_gen_t *g)
{
    char num[32];
    s_put (g, "variants:\n");
    for (int v = 0; v < g->n_var; v++) {
        const s_variant_t *var = &g->var[v];
        s_put (g, "  - name: %s\n    mix: %s\n", var->name, s_num (num, sizeof num, var->mix, 3));
        s_emit_scope (g, "variant", s_inst (v, -1), 4);
        s_put (g, "    route: [");
        const char *sep = "";
        for (int i = 0; i < g->n_st; i++)
            if (var->visits[i]) {
                s_put (g, "%s%s", sep, g->st[i].name);
                sep = ", ";
            }
        s_put (g, "]\n    bom: {");
        for (int p = 0; p < g->n_parts; p++)
            s_put (g, "%s%s: %d", p ? ", " : "", s_part_names[p], var->qty[p]);
        s_put (g, "}\n");
    }
    s_put (g, "\n");
}

static void
s_write_wear (s_gen_t *g, const s_station_t *s)
{
    bool any = false;
    char a[32], b[32], d[32];
    for (size_t c = 0; c < S_N_COMPS; c++) {
        if (!s->wear[c])
            continue;
        if (!any)
            s_put (g, "    wear:\n");
        any = true;
        s_put (g, "      %s: {rate_per_h: %s, speed_exp: %g, repair_min: {dist: lognormal, mean: %s, sd: %s}}\n",
               s_comps[c], s_num (a, sizeof a, 1.0 / s->life_h[c], 3), s_comp_speed_exp[c],
               s_num (b, sizeof b, s->repair_min[c], 3), s_num (d, sizeof d, s->repair_min[c] / 3, 2));
    }
}

static void
s_write_station (s_gen_t *g, int i)
{
    const s_station_t *s = &g->st[i];
    uint64_t in = s_inst (i, -1);
    char a[32], b[32], c[32];
    s_put (g, "  - name: %s\n    process_s: ", s->name);
    s_write_time (g, s->mean_s, s->cv, s->lognormal);
    s_put (g, "\n");
    bool by_variant = false;
    for (int v = 1; v < g->n_var; v++) {
        if (!g->var[v].visits[i] || g->var[v].factor[i] == 1.0)
            continue;
        if (!by_variant)
            s_put (g, "    process_s_by_variant:\n");
        by_variant = true;
        s_put (g, "      %s: ", g->var[v].name);
        s_write_time (g, s->mean_s * g->var[v].factor[i], s->cv, s->lognormal);
        s_put (g, "\n");
    }
    if (s->has_setup) {
        s_put (g, "    setup_s: {dist: normal, mean: %s, sd: %s}\n", s_num (a, sizeof a, s->setup_mean_s, 3),
               s_num (b, sizeof b, s->setup_mean_s * 0.2, 2));
        if (s->setup_manual)
            s_put (g, "    setup_manual: true\n");
    }
    s_emit_scope (g, "station", in, 4);
    s_put (g, "    mtbf_h: %s\n    repair_min: {dist: lognormal, mean: %s, sd: %s}\n",
           s_num (a, sizeof a, s->mtbf_h, 3), s_num (b, sizeof b, s->mttr_min, 3),
           s_num (c, sizeof c, s->mttr_min / 2, 2));
    s_put (g, "    pm_interval_h: %.0f\n", s->pm_interval_h);
    s_write_wear (g, s);
    s_put (g, "    quality: ");
    s_flow_scope (g, "station.quality", in, NULL);
    double idle_kw = s_draw (g, "station", "idle_kw", in);
    double busy_kw = idle_kw / s_draw (g, "station", "idle_share", in);
    double blocked_kw = idle_kw * s_draw (g, "station", "blocked_factor", in);
    s_put (g, "\n    power_kw: {idle: %s, busy: %s, blocked: %s}\n", s_num (a, sizeof a, idle_kw, 2),
           s_num (b, sizeof b, busy_kw, 2), s_num (c, sizeof c, blocked_kw, 2));
    s_put (g, "    vibration: ");
    s_flow_scope (g, "station.vibration", in, NULL);
    s_put (g, "\n");
}

static void
s_write_parts (s_gen_t *g)
{
    s_put (g, "parts:\n");
    for (int p = 0; p < g->n_parts; p++) {
        uint64_t in = s_inst (p, -1);
        double qty_per_unit = 0;
        for (int v = 0; v < g->n_var; v++)
            qty_per_unit += g->var[v].mix * g->var[v].qty[p];
        double lead_h = s_draw (g, "part", "lead_time_h", in);
        /* Opening stock covers a few lead times of demand, as in a plant
         * already running (docs/plant.md, Material). */
        double warehouse = ceil (qty_per_unit * g->rate_per_h * lead_h * s_draw (g, "part", "cover_lead_times", in));
        double bin_cap = ceil (qty_per_unit * s_draw (g, "part", "bin_units", in));
        double refill = ceil (bin_cap * s_draw (g, "part", "refill_share", in));
        char a[32], b[32], extra[256];
        snprintf (extra, sizeof extra,
                  "warehouse: %.0f, bin_cap: %.0f, bin_refill_at: %.0f, lead_time_h: {dist: gamma, mean: %s, cv: %s}",
                  warehouse, bin_cap, refill, s_num (a, sizeof a, lead_h, 3),
                  s_num (b, sizeof b, s_draw (g, "part", "lead_cv", in), 2));
        const char *sep = ", ";
        s_put (g, "  - {name: %s", s_part_names[p]);
        s_flow_items (g, "part", in, &sep);
        s_put (g, ", %s}\n", extra);
    }
    s_put (g, "\n");
}

static void
s_write_people_robots (s_gen_t *g)
{
    char a[32], b[32];
    int techs = 1 + g->n_st / 6 + (int) s_draw (g, "people", "technicians_extra", 0);
    double response = s_draw (g, "people", "response_min", 0);
    s_put (g, "quality:\n  sample_every: 20\n");
    s_emit_scope (g, "quality", 0, 2);
    s_put (g, "  detect_p:\n");
    s_emit_scope (g, "quality.detect_p", 0, 4);
    s_put (g, "\npeople:\n  technicians: %d\n  response_min: {dist: lognormal, mean: %s, sd: %s}\n\n", techs,
           s_num (a, sizeof a, response, 3), s_num (b, sizeof b, response / 2, 2));
    s_put (g, "robots:\n");
    s_emit_scope (g, "robots", 0, 2);
    s_put (g, "\n");
}

static void
s_write_energy (s_gen_t *g)
{
    char a[32], b[32], c[32], extra[128];
    s_put (g, "energy:\n  base_load_kw: %s\n",
           s_num (a, sizeof a, g->n_st * s_draw (g, "energy", "base_kw_per_station", 0), 3));
    s_put (g, "  ambient: ");
    s_flow_scope (g, "energy.ambient", 0, NULL);
    snprintf (extra, sizeof extra, "max_kw: %s",
              s_num (a, sizeof a, g->n_st * s_draw (g, "energy.hvac", "max_kw_per_station", 0), 3));
    s_put (g, "\n  hvac: ");
    s_flow_scope (g, "energy.hvac", 0, extra);
    s_put (g, "\n  solar: ");
    s_flow_scope (g, "energy.solar", 0, NULL);
    double cap = s_value (g, s_row ("energy.battery", "capacity_kwh"), 0);
    snprintf (extra, sizeof extra, "max_kw: %s, soc: 0.5, min_soc: 0.1",
              s_num (a, sizeof a, cap / s_draw (g, "energy.battery", "duration_h", 0), 3));
    s_put (g, "\n  battery: ");
    s_flow_scope (g, "energy.battery", 0, extra);
    s_put (g, "\n  tariff:\n");
    s_emit_scope (g, "energy.tariff", 0, 4);
    double price = s_value (g, s_row ("energy.tariff", "price_per_kwh"), 0);
    double peak = price * s_draw (g, "energy.tariff", "peak_factor", 0);
    double night = price * s_draw (g, "energy.tariff", "night_factor", 0);
    s_put (g, "    tou:\n"
              "      - {from_h: 7, to_h: 11, price_per_kwh: %s}\n"
              "      - {from_h: 17, to_h: 21, price_per_kwh: %s}\n"
              "      - {from_h: 23, to_h: 6, price_per_kwh: %s}\n",
           s_num (a, sizeof a, peak, 2), s_num (b, sizeof b, peak, 2), s_num (c, sizeof c, night, 2));
}

int
plantgen_write (const plantgen_opts_t *opts, FILE *out, char *err, size_t err_len)
{
    if (!opts || !out) {
        snprintf (err, err_len, "plantgen: no options or output");
        return -1;
    }
    if (opts->stations && (opts->stations < PLANTGEN_MIN_STATIONS || opts->stations > PLANTGEN_MAX_STATIONS)) {
        snprintf (err, err_len, "--stations must be %d..%d, got %d", PLANTGEN_MIN_STATIONS,
                  PLANTGEN_MAX_STATIONS, opts->stations);
        return -1;
    }
    s_gen_t *g = calloc (1, sizeof *g);
    if (!g) {
        snprintf (err, err_len, "out of memory");
        return -1;
    }
    g->seed = opts->seed;
    g->out = out;
    s_plan (g, opts->stations);
    s_write_head (g);
    s_write_variants (g);
    s_put (g, "stations:\n");
    for (int i = 0; i < g->n_st; i++)
        s_write_station (g, i);
    s_put (g, "\n");
    s_write_parts (g);
    s_write_people_robots (g);
    s_write_energy (g);
    free (g);
    if (fflush (out) != 0 || ferror (out)) {
        snprintf (err, err_len, "cannot write the plant: %s", strerror (errno));
        return -1;
    }
    return 0;
}
