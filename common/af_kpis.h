/*  af_kpis — the KPIs of DESIGN §5 and docs/kpi.md as the twin reports them
 *  (autofab.twin.Kpis), listed once for whoever shows them: enum name, key
 *  (the Kpis field), unit, and which way is better (−1 lower, +1 higher, 0
 *  neither).  */
#ifndef AF_KPIS_H
#define AF_KPIS_H

#define AF_KPIS(X) \
    X (SIM_H, sim_h, "h", 0) \
    X (UNITS, units, "", 1) \
    X (THROUGHPUT_UPH, throughput_uph, "units/h", 1) \
    X (CYCLE_TIME_MEAN_MIN, cycle_time_mean_min, "min", -1) \
    X (OEE_PCT, oee_pct, "%", 1) \
    X (DOWNTIME_H, downtime_h, "h", -1) \
    X (UNPLANNED_DOWNTIME_H, unplanned_downtime_h, "h", -1) \
    X (PLANNED_DOWNTIME_H, planned_downtime_h, "h", -1) \
    X (MTBF_H, mtbf_h, "h", 1) \
    X (MTTR_H, mttr_h, "h", -1) \
    X (ESCAPED_DEFECTS_PPM, escaped_defects_ppm, "ppm", -1) \
    X (SCRAP_UNITS, scrap_units, "units", -1) \
    X (REWORK_UNITS, rework_units, "units", -1) \
    X (ENERGY_KWH_PER_UNIT, energy_kwh_per_unit, "kWh", -1) \
    X (ENERGY_COST_PER_UNIT, energy_cost_per_unit, "cost", -1) \
    X (PEAK_KW, peak_kw, "kW", -1) \
    X (MANUAL_INTERVENTIONS, manual_interventions, "", -1) \
    X (ROBOT_UTILISATION_PCT, robot_utilisation_pct, "%", 0) \
    /* flow (issue 11) */ \
    X (LEAD_TIME_MEAN_MIN, lead_time_mean_min, "min", -1) \
    X (TARDY_PCT, tardy_pct, "%", -1)

#endif
