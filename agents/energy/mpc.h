/*  energy mpc — battery (and optional HVAC pre-cooling) dispatch as a linear
 *  program, solved with GLPK's simplex.  No bus code: arrays in, a plan out.
 *
 *  One model serves two uses: the rolling-horizon controller (N steps of DT
 *  from now, re-solved every epoch with fresh forecasts) and the
 *  perfect-foresight bound (the same model over a whole month of realised
 *  data).  Per step t the LP has charge c_t and discharge d_t (kW at the
 *  battery's AC terminals, each leg with its own efficiency), the state of
 *  charge s_t (kWh, end of step), grid import g_t and export / curtailment
 *  e_t (kW), and one peak variable P ≥ g_t with the month-to-date peak as
 *  its floor.  It minimises
 *
 *      Σ_t dt (price_t g_t − export_price_t e_t + cycle_cost (c_t + d_t))
 *        + demand_charge · P − terminal_value · s_{N−1}
 *
 *  subject to the power balance g − e − c + d (− hvac) = load − solar, the
 *  SoC recursion, capacity, power limits and a SoC floor of
 *  max(min_soc · capacity, reserve_kwh).  With HVAC enabled, a first-order
 *  thermal zone (see energy_hvac_t) adds cooling power h_t and indoor
 *  temperature T_t with comfort limits (softened by a penalised slack so that
 *  a start outside the band is not infeasible).
 *
 *  Errors: hostile or missing input (NaN, infinite, negative load, wrong
 *  sizes) gives ENERGY_EBADDATA, a solver failure ENERGY_ESOLVER; in both
 *  cases the plan holds the battery at its reserve (energy_mpc_fallback_kw)
 *  and energy_mpc_error() says why in one line.  The caller (the agent) turns
 *  a non-zero code into an alarm.
 */
#ifndef ENERGY_MPC_H
#define ENERGY_MPC_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    ENERGY_OK = 0,
    ENERGY_EBADDATA = -1,       /* NaN / infinite / negative / missing input */
    ENERGY_ESOLVER = -2,        /* GLPK did not return an optimum */
} energy_err_t;

const char *energy_strerror (int code);

/* Battery ratings.  Powers are at the AC terminals; SoC in kWh stored. */
typedef struct {
    double capacity_kwh;
    double max_charge_kw, max_discharge_kw;
    double eff_charge, eff_discharge;   /* per leg, (0, 1]; √round-trip each */
    double min_soc;                     /* fraction of capacity, 0 … 1 */
    double reserve_kwh;                 /* outage reserve, kWh (floor if larger) */
    double cycle_cost_per_kwh;          /* wear, per kWh charged or discharged */
} energy_battery_t;

/* First-order thermal zone, cooling only (a hall whose internal gains exceed
 * its envelope losses most of the year):
 *   T_{t+1} = T_t + dt/C · (UA (T_amb,t − T_t) + Q_int,t − COP · h_t). */
typedef struct {
    bool enabled;
    double ua_kw_per_c, heat_cap_kwh_per_c, cop, max_kw;
    double min_c, max_c;                /* comfort / process band */
    double violation_cost_per_ch;       /* per °C·h outside the band (soft) */
} energy_hvac_t;

/* One solve's data.  Arrays have N entries; EXPORT_PRICE may be NULL (surplus
 * solar is curtailed, earning nothing).  AMBIENT_C is needed with HVAC;
 * HEAT_GAIN_KW may be NULL (then the electric load is the internal gain). */
typedef struct {
    size_t n;
    double dt_h;
    const double *load_kw, *solar_kw, *price_per_kwh, *export_price_per_kwh;
    const double *ambient_c, *heat_gain_kw;
    /* Optional headroom kept under the peak at each step (robust peak
     * shaving): P ≥ g_t + margin_t, so that a load above its forecast does
     * not set a new month peak.  NULL: none. */
    const double *peak_margin_kw;
    double soc_kwh;                     /* now */
    double peak_floor_kw;               /* month-to-date peak import */
    double demand_charge_per_kw;
    double terminal_value_per_kwh;      /* worth of energy left at the end */
    double indoor_c;                    /* now (HVAC only) */
} energy_mpc_input_t;

/* The optimal plan; arrays of N, owned by the solver, valid until the next
 * solve.  POWER_KW is the battery set point (+ discharge, − charge), as the
 * twin's TWIN_CMD_BATTERY takes it.  HVAC_KW and INDOOR_C are 0 without HVAC. */
typedef struct {
    size_t n;
    double *power_kw, *charge_kw, *discharge_kw, *soc_kwh;
    double *grid_kw, *export_kw, *hvac_kw, *indoor_c;
    double peak_kw;
    double cost;                        /* objective incl. demand charge on P */
} energy_plan_t;

typedef struct energy_mpc energy_mpc_t;

/* A solver for BATTERY (and HVAC, may be NULL).  Returns NULL if the ratings
 * are invalid (then writes why to ERR). */
energy_mpc_t *energy_mpc_new (const energy_battery_t *battery, const energy_hvac_t *hvac,
                              char *err, size_t err_len);
void energy_mpc_destroy (energy_mpc_t **self_p);

/* Solves the LP for IN.  Returns ENERGY_OK, or an error code with PLAN
 * holding the safe fallback at every step.  PLAN is always filled. */
int energy_mpc_solve (energy_mpc_t *self, const energy_mpc_input_t *in, const energy_plan_t **plan);

/* The last error in one line ("" after a success), and how many solves
 * failed on bad data and in the solver since creation. */
const char *energy_mpc_error (const energy_mpc_t *self);
size_t energy_mpc_bad_inputs (const energy_mpc_t *self);
size_t energy_mpc_solver_failures (const energy_mpc_t *self);

/* The safe set point: 0 (hold) at or above the SoC floor, else charge
 * towards it as fast as the ratings allow over DT_H. */
double energy_mpc_fallback_kw (const energy_battery_t *battery, double soc_kwh, double dt_h);

/* The SoC floor in kWh: max(min_soc · capacity, reserve). */
double energy_battery_floor_kwh (const energy_battery_t *battery);

#endif
