/*  energy rule — price / peak threshold battery rule (see rule.h).
 */
#include "rule.h"

#include <math.h>

double
energy_rule_setpoint_kw (const energy_rule_t *r, const energy_battery_t *b,
                         double net_kw, double price, double soc_kwh, double dt_h)
{
    if (!isfinite (net_kw) || !isfinite (price) || !isfinite (soc_kwh) || !(dt_h > 0))
        return energy_mpc_fallback_kw (b, soc_kwh, dt_h);
    double headroom_kw = (b->capacity_kwh - soc_kwh) / (b->eff_charge * dt_h);
    if (net_kw > r->peak_threshold_kw) {
        double avail_kw = (soc_kwh - energy_battery_floor_kwh (b)) * b->eff_discharge / dt_h;
        return fmax (0, fmin (fmin (net_kw - r->peak_threshold_kw, b->max_discharge_kw), avail_kw));
    }
    if (net_kw < 0)                     /* surplus solar: store it */
        return -fmin (fmin (-net_kw, b->max_charge_kw), fmax (0, headroom_kw));
    if (price <= r->charge_below_price) {
        double room_kw = r->peak_threshold_kw - net_kw;   /* do not set a new peak */
        return -fmax (0, fmin (fmin (room_kw, b->max_charge_kw), headroom_kw));
    }
    return 0;
}
