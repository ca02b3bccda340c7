/*  energy mpc — the battery / HVAC dispatch LP (see mpc.h), built column by
 *  column for GLPK and solved with its primal simplex.
 */
#include "mpc.h"

#include <glpk.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Column offsets inside one step's block. */
enum { C_CH, C_DIS, C_SOC, C_GRID, C_EXP, C_HVAC, C_TEMP, C_VLO, C_VHI };
#define S_COLS_BATT 5
#define S_COLS_HVAC 9
#define S_NZ_PER_STEP 18

struct energy_mpc {
    energy_battery_t batt;
    energy_hvac_t hvac;
    int cols_per_step;
    /* GLPK triplets (1-based) and the plan's storage, grown on demand. */
    int *ia, *ja;
    double *ar;
    size_t nz_cap;
    energy_plan_t plan;
    size_t plan_cap;
    double *plan_mem;
    char err[160];
    size_t bad_inputs, solver_failures;
};

const char *
energy_strerror (int code)
{
    switch (code) {
    case ENERGY_OK:       return "ok";
    case ENERGY_EBADDATA: return "bad or missing input data";
    case ENERGY_ESOLVER:  return "LP solver failed";
    default:              return "unknown error";
    }
}

static void
s_seterr (energy_mpc_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->err, sizeof self->err, fmt, ap);
    va_end (ap);
}

double
energy_battery_floor_kwh (const energy_battery_t *b)
{
    return fmax (b->min_soc * b->capacity_kwh, b->reserve_kwh);
}

double
energy_mpc_fallback_kw (const energy_battery_t *b, double soc_kwh, double dt_h)
{
    double floor_kwh = energy_battery_floor_kwh (b);
    if (!isfinite (soc_kwh) || !(dt_h > 0) || soc_kwh >= floor_kwh || b->eff_charge <= 0)
        return 0;
    double need_kw = (floor_kwh - soc_kwh) / (b->eff_charge * dt_h);
    return -fmin (need_kw, b->max_charge_kw);
}

static bool
s_ok (double x) { return isfinite (x); }

static bool
s_ok_pos (double x) { return isfinite (x) && x >= 0; }

/* Rejects ratings that would make the LP meaningless. */
static int
s_check_ratings (const energy_battery_t *b, const energy_hvac_t *h, char *err, size_t len)
{
    if (!s_ok_pos (b->capacity_kwh) || !s_ok_pos (b->max_charge_kw) || !s_ok_pos (b->max_discharge_kw)
        || !s_ok_pos (b->reserve_kwh) || !s_ok_pos (b->cycle_cost_per_kwh)) {
        snprintf (err, len, "battery: capacity, powers, reserve and cycle cost must be finite and >= 0");
        return -1;
    }
    if (!(b->eff_charge > 0 && b->eff_charge <= 1) || !(b->eff_discharge > 0 && b->eff_discharge <= 1)) {
        snprintf (err, len, "battery: efficiencies must be in (0, 1]");
        return -1;
    }
    if (!(b->min_soc >= 0 && b->min_soc <= 1) || b->reserve_kwh > b->capacity_kwh) {
        snprintf (err, len, "battery: min_soc must be in [0, 1] and reserve <= capacity");
        return -1;
    }
    if (h && h->enabled
        && (!(h->ua_kw_per_c >= 0 && isfinite (h->ua_kw_per_c)) || !(h->heat_cap_kwh_per_c > 0)
            || !isfinite (h->heat_cap_kwh_per_c) || !(h->cop > 0) || !isfinite (h->cop)
            || !s_ok_pos (h->max_kw) || !s_ok (h->min_c) || !s_ok (h->max_c) || h->min_c > h->max_c
            || !s_ok_pos (h->violation_cost_per_ch))) {
        snprintf (err, len, "hvac: ua, heat capacity, cop, max_kw, comfort band or violation cost invalid");
        return -1;
    }
    return 0;
}

energy_mpc_t *
energy_mpc_new (const energy_battery_t *battery, const energy_hvac_t *hvac, char *err, size_t err_len)
{
    if (!battery) {
        snprintf (err, err_len, "battery ratings missing");
        return NULL;
    }
    if (s_check_ratings (battery, hvac, err, err_len) < 0)
        return NULL;
    energy_mpc_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "out of memory");
        return NULL;
    }
    self->batt = *battery;
    if (hvac)
        self->hvac = *hvac;
    self->cols_per_step = self->hvac.enabled ? S_COLS_HVAC : S_COLS_BATT;
    return self;
}

void
energy_mpc_destroy (energy_mpc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    energy_mpc_t *self = *self_p;
    free (self->ia);
    free (self->ja);
    free (self->ar);
    free (self->plan_mem);
    free (self);
    *self_p = NULL;
}

const char *energy_mpc_error (const energy_mpc_t *self) { return self->err; }
size_t energy_mpc_bad_inputs (const energy_mpc_t *self) { return self->bad_inputs; }
size_t energy_mpc_solver_failures (const energy_mpc_t *self) { return self->solver_failures; }

/* Makes room for a plan of N steps and N-step triplets. */
static int
s_reserve (energy_mpc_t *self, size_t n)
{
    if (n > self->plan_cap) {
        double *mem = realloc (self->plan_mem, 8 * n * sizeof *mem);
        if (!mem)
            return -1;
        self->plan_mem = mem;
        self->plan_cap = n;
    }
    energy_plan_t *p = &self->plan;
    double *m = self->plan_mem;
    size_t cap = self->plan_cap;
    p->power_kw = m;            p->charge_kw = m + cap;     p->discharge_kw = m + 2 * cap;
    p->soc_kwh = m + 3 * cap;   p->grid_kw = m + 4 * cap;   p->export_kw = m + 5 * cap;
    p->hvac_kw = m + 6 * cap;   p->indoor_c = m + 7 * cap;
    size_t nz = S_NZ_PER_STEP * n + 1;
    if (nz > self->nz_cap) {
        int *ia = realloc (self->ia, nz * sizeof *ia);
        if (ia)
            self->ia = ia;
        int *ja = realloc (self->ja, nz * sizeof *ja);
        if (ja)
            self->ja = ja;
        double *ar = realloc (self->ar, nz * sizeof *ar);
        if (ar)
            self->ar = ar;
        if (!ia || !ja || !ar)
            return -1;
        self->nz_cap = nz;
    }
    return 0;
}

/* Every array the model reads must be there and finite; loads and solar
 * must not be negative.  Names the first offender. */
static int
s_check_input (energy_mpc_t *self, const energy_mpc_input_t *in)
{
    if (!in || in->n == 0 || in->n > 1000000 || !(in->dt_h > 0) || !isfinite (in->dt_h)) {
        s_seterr (self, "mpc: missing input, empty horizon or bad step length");
        return -1;
    }
    struct { const char *name; const double *v; bool need, nonneg; } arr[] = {
        { "load_kw", in->load_kw, true, true },
        { "solar_kw", in->solar_kw, true, true },
        { "price_per_kwh", in->price_per_kwh, true, false },
        { "export_price_per_kwh", in->export_price_per_kwh, false, false },
        { "ambient_c", in->ambient_c, self->hvac.enabled, false },
        { "heat_gain_kw", in->heat_gain_kw, false, false },
        { "peak_margin_kw", in->peak_margin_kw, false, true },
    };
    for (size_t a = 0; a < sizeof arr / sizeof arr[0]; a++) {
        if (!arr[a].v) {
            if (arr[a].need) {
                s_seterr (self, "mpc: %s forecast missing", arr[a].name);
                return -1;
            }
            continue;
        }
        for (size_t t = 0; t < in->n; t++)
            if (!isfinite (arr[a].v[t]) || (arr[a].nonneg && arr[a].v[t] < 0)) {
                s_seterr (self, "mpc: %s[%zu] = %g is not a valid value", arr[a].name, t, arr[a].v[t]);
                return -1;
            }
    }
    if (!isfinite (in->soc_kwh) || in->soc_kwh < 0 || in->soc_kwh > self->batt.capacity_kwh * (1 + 1e-9)
        || !s_ok_pos (in->peak_floor_kw) || !s_ok_pos (in->demand_charge_per_kw)
        || !s_ok (in->terminal_value_per_kwh) || (self->hvac.enabled && !s_ok (in->indoor_c))) {
        s_seterr (self, "mpc: state (soc %g kWh, peak floor %g kW, demand charge %g, indoor %g C) invalid",
                  in->soc_kwh, in->peak_floor_kw, in->demand_charge_per_kw, in->indoor_c);
        return -1;
    }
    return 0;
}

/* Fills the plan with the fallback: hold at reserve, the load met by the grid. */
static void
s_plan_fallback (energy_mpc_t *self, const energy_mpc_input_t *in)
{
    energy_plan_t *p = &self->plan;
    size_t n = in && in->n > 0 && in->n <= self->plan_cap ? in->n : (self->plan_cap > 0 ? 1 : 0);
    p->n = n;
    double soc = in && isfinite (in->soc_kwh) ? in->soc_kwh : 0;
    double dt_h = in && in->dt_h > 0 && isfinite (in->dt_h) ? in->dt_h : 0.25;
    for (size_t t = 0; t < n; t++) {
        double kw = energy_mpc_fallback_kw (&self->batt, soc, dt_h);
        soc -= kw * dt_h * self->batt.eff_charge;
        p->power_kw[t] = kw;
        p->charge_kw[t] = -kw;
        p->discharge_kw[t] = 0;
        p->soc_kwh[t] = soc;
        p->grid_kw[t] = p->export_kw[t] = p->hvac_kw[t] = p->indoor_c[t] = NAN;
    }
    p->peak_kw = NAN;
    p->cost = NAN;
}

/* Bounds [LO, HI], fixed when they meet (GLPK refuses GLP_DB with lo = hi). */
static void
s_bnds (glp_prob *lp, int col, double lo, double hi)
{
    glp_set_col_bnds (lp, col, hi > lo ? GLP_DB : GLP_FX, lo, hi > lo ? hi : lo);
}

#define S_COL(t, k) ((int) ((t) * (size_t) self->cols_per_step + (k) + 1))

/* Columns: bounds and objective.  P (the peak) is the last column. */
static void
s_build_cols (energy_mpc_t *self, glp_prob *lp, const energy_mpc_input_t *in)
{
    const energy_battery_t *b = &self->batt;
    double floor_kwh = energy_battery_floor_kwh (b);
    double dt = in->dt_h;
    size_t n = in->n;
    glp_add_cols (lp, (int) (n * (size_t) self->cols_per_step + 1));
    for (size_t t = 0; t < n; t++) {
        /* A start below the floor may climb to it as fast as charging allows. */
        double reach = in->soc_kwh + (double) (t + 1) * dt * b->eff_charge * b->max_charge_kw;
        double lo = fmin (floor_kwh, reach);
        s_bnds (lp, S_COL (t, C_CH), 0, b->max_charge_kw);
        s_bnds (lp, S_COL (t, C_DIS), 0, b->max_discharge_kw);
        s_bnds (lp, S_COL (t, C_SOC), lo, b->capacity_kwh);
        glp_set_col_bnds (lp, S_COL (t, C_GRID), GLP_LO, 0, 0);
        s_bnds (lp, S_COL (t, C_EXP), 0, in->solar_kw[t]);
        glp_set_obj_coef (lp, S_COL (t, C_CH), dt * b->cycle_cost_per_kwh);
        glp_set_obj_coef (lp, S_COL (t, C_DIS), dt * b->cycle_cost_per_kwh);
        glp_set_obj_coef (lp, S_COL (t, C_GRID), dt * in->price_per_kwh[t]);
        glp_set_obj_coef (lp, S_COL (t, C_EXP),
                          in->export_price_per_kwh ? -dt * in->export_price_per_kwh[t] : 0);
        if (!self->hvac.enabled)
            continue;
        const energy_hvac_t *h = &self->hvac;
        s_bnds (lp, S_COL (t, C_HVAC), 0, h->max_kw);
        glp_set_col_bnds (lp, S_COL (t, C_TEMP), GLP_FR, 0, 0);
        glp_set_col_bnds (lp, S_COL (t, C_VLO), GLP_LO, 0, 0);
        glp_set_col_bnds (lp, S_COL (t, C_VHI), GLP_LO, 0, 0);
        glp_set_obj_coef (lp, S_COL (t, C_VLO), dt * h->violation_cost_per_ch);
        glp_set_obj_coef (lp, S_COL (t, C_VHI), dt * h->violation_cost_per_ch);
    }
    glp_set_obj_coef (lp, S_COL (n - 1, C_SOC), -in->terminal_value_per_kwh);
    int peak = (int) (n * (size_t) self->cols_per_step + 1);
    glp_set_col_bnds (lp, peak, GLP_LO, in->peak_floor_kw, 0);
    glp_set_obj_coef (lp, peak, in->demand_charge_per_kw);
}

typedef struct { energy_mpc_t *self; glp_prob *lp; int row, nz; } s_rows_t;

/* Adds one row with bounds (TYPE, LO, HI) and K coefficients. */
static void
s_row (s_rows_t *r, int type, double lo, double hi, int k, const int *col, const double *val)
{
    r->row = glp_add_rows (r->lp, 1);
    glp_set_row_bnds (r->lp, r->row, type, lo, hi);
    for (int i = 0; i < k; i++) {
        r->nz++;
        r->self->ia[r->nz] = r->row;
        r->self->ja[r->nz] = col[i];
        r->self->ar[r->nz] = val[i];
    }
}

/* Rows: power balance, SoC recursion, peak, and the thermal zone. */
static void
s_build_rows (energy_mpc_t *self, glp_prob *lp, const energy_mpc_input_t *in)
{
    const energy_battery_t *b = &self->batt;
    const energy_hvac_t *h = &self->hvac;
    double dt = in->dt_h;
    int peak = (int) (in->n * (size_t) self->cols_per_step + 1);
    s_rows_t r = { self, lp, 0, 0 };
    for (size_t t = 0; t < in->n; t++) {
        double net_kw = in->load_kw[t] - in->solar_kw[t];
        int bal_c[] = { S_COL (t, C_GRID), S_COL (t, C_EXP), S_COL (t, C_CH), S_COL (t, C_DIS), S_COL (t, C_HVAC) };
        double bal_v[] = { 1, -1, -1, 1, -1 };
        s_row (&r, GLP_FX, net_kw, net_kw, h->enabled ? 5 : 4, bal_c, bal_v);
        /* s_t − s_{t−1} − η_c dt c_t + dt/η_d d_t = 0 (s_{−1} = soc now). */
        int soc_c[] = { S_COL (t, C_SOC), S_COL (t, C_CH), S_COL (t, C_DIS), t > 0 ? S_COL (t - 1, C_SOC) : 0 };
        double soc_v[] = { 1, -b->eff_charge * dt, dt / b->eff_discharge, -1 };
        double rhs = t > 0 ? 0 : in->soc_kwh;
        s_row (&r, GLP_FX, rhs, rhs, t > 0 ? 4 : 3, soc_c, soc_v);
        int pk_c[] = { peak, S_COL (t, C_GRID) };
        double pk_v[] = { 1, -1 };
        double margin_kw = in->peak_margin_kw ? in->peak_margin_kw[t] : 0;
        s_row (&r, GLP_LO, margin_kw, 0, 2, pk_c, pk_v);
        if (!h->enabled)
            continue;
        /* T_t − (1 − dt UA/C) T_{t−1} + dt COP/C h_t = dt/C (UA T_amb + Q_int). */
        double keep = 1 - dt * h->ua_kw_per_c / h->heat_cap_kwh_per_c;
        double gain = in->heat_gain_kw ? in->heat_gain_kw[t] : in->load_kw[t];
        double th_rhs = dt / h->heat_cap_kwh_per_c * (h->ua_kw_per_c * in->ambient_c[t] + gain);
        if (t == 0)
            th_rhs += keep * in->indoor_c;
        int th_c[] = { S_COL (t, C_TEMP), S_COL (t, C_HVAC), t > 0 ? S_COL (t - 1, C_TEMP) : 0 };
        double th_v[] = { 1, dt * h->cop / h->heat_cap_kwh_per_c, -keep };
        s_row (&r, GLP_FX, th_rhs, th_rhs, t > 0 ? 3 : 2, th_c, th_v);
        int lo_c[] = { S_COL (t, C_TEMP), S_COL (t, C_VLO) };
        double lo_v[] = { 1, 1 };
        s_row (&r, GLP_LO, h->min_c, 0, 2, lo_c, lo_v);
        int hi_c[] = { S_COL (t, C_TEMP), S_COL (t, C_VHI) };
        double hi_v[] = { 1, -1 };
        s_row (&r, GLP_UP, 0, h->max_c, 2, hi_c, hi_v);
    }
    glp_load_matrix (lp, r.nz, self->ia, self->ja, self->ar);
}

/* Copies the optimum into the plan. */
static void
s_read_plan (energy_mpc_t *self, glp_prob *lp, const energy_mpc_input_t *in)
{
    energy_plan_t *p = &self->plan;
    p->n = in->n;
    for (size_t t = 0; t < in->n; t++) {
        p->charge_kw[t] = glp_get_col_prim (lp, S_COL (t, C_CH));
        p->discharge_kw[t] = glp_get_col_prim (lp, S_COL (t, C_DIS));
        p->power_kw[t] = p->discharge_kw[t] - p->charge_kw[t];
        p->soc_kwh[t] = glp_get_col_prim (lp, S_COL (t, C_SOC));
        p->grid_kw[t] = glp_get_col_prim (lp, S_COL (t, C_GRID));
        p->export_kw[t] = glp_get_col_prim (lp, S_COL (t, C_EXP));
        p->hvac_kw[t] = self->hvac.enabled ? glp_get_col_prim (lp, S_COL (t, C_HVAC)) : 0;
        p->indoor_c[t] = self->hvac.enabled ? glp_get_col_prim (lp, S_COL (t, C_TEMP)) : 0;
    }
    p->peak_kw = glp_get_col_prim (lp, (int) (in->n * (size_t) self->cols_per_step + 1));
    p->cost = glp_get_obj_val (lp);
}

int
energy_mpc_solve (energy_mpc_t *self, const energy_mpc_input_t *in, const energy_plan_t **plan)
{
    *plan = &self->plan;
    self->err[0] = 0;
    if (s_check_input (self, in) < 0) {
        self->bad_inputs++;
        if (in && in->n > 0 && in->n <= 1000000)
            (void) s_reserve (self, in->n);
        s_plan_fallback (self, in);
        return ENERGY_EBADDATA;
    }
    if (s_reserve (self, in->n) < 0) {
        s_seterr (self, "mpc: out of memory for a %zu-step horizon", in->n);
        self->solver_failures++;
        s_plan_fallback (self, in);
        return ENERGY_ESOLVER;
    }
    glp_prob *lp = glp_create_prob ();
    glp_set_obj_dir (lp, GLP_MIN);
    s_build_cols (self, lp, in);
    s_build_rows (self, lp, in);
    glp_smcp parm;
    glp_init_smcp (&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_ON;
    int rc = glp_simplex (lp, &parm);
    int status = rc == 0 ? glp_get_status (lp) : GLP_UNDEF;
    if (status != GLP_OPT) {
        s_seterr (self, "mpc: GLPK simplex returned %d, status %d (no optimum)", rc, status);
        self->solver_failures++;
        glp_delete_prob (lp);
        s_plan_fallback (self, in);
        return ENERGY_ESOLVER;
    }
    s_read_plan (self, lp, in);
    glp_delete_prob (lp);
    return ENERGY_OK;
}
