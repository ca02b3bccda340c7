/*  Unit tests: the perfect-information bounds (policy.c).  The maintenance
 *  bound reads the hidden lives and replaces each part before it fails, so
 *  no wear breakdown happens and no interval PM is spent; the quality bound
 *  inspects every unit; neither is reachable on the bus.  */
#include <criterion/criterion.h>

#include "twin.h"

#include <string.h>

/* Fast wear (a part lasts about a day of work), no random failures, two
 * robots that can swap parts, and PM every 12 h for the baseline. */
static const char s_yaml[] =
    "factory: {name: bound}\n"
    "arrivals: {mode: saturated}\n"
    "variants: [{name: v, mix: 1, route: [a, b]}]\n"
    "stations:\n"
    "  - name: a\n"
    "    process_s: {dist: gamma, mean: 60, cv: 0.1}\n"
    "    pm_interval_h: 12\n"
    "    wear:\n"
    "      bearing: {rate_per_h: 0.04, repair_min: 120}\n"
    "      belt: {rate_per_h: 0.05, repair_min: 60}\n"
    "    quality: {defect_p: 0.01}\n"
    "  - name: b\n"
    "    process_s: {dist: gamma, mean: 50, cv: 0.1}\n"
    "    pm_interval_h: 12\n"
    "    wear:\n"
    "      motor: {rate_per_h: 0.03, repair_min: 240}\n"
    "people: {technicians: 1}\n"
    "robots: {mobile: 2}\n";

static twin_t *
s_run (const char *policy, double hours, double cause_h[TWIN_CAUSE_COUNT], twin_kpi_t *k)
{
    char err[256];
    twin_t *t = twin_new_from_text (s_yaml, sizeof s_yaml - 1, "bound.yaml", 3, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    twin_policy_t p;
    cr_assert_eq (twin_policy_by_name (t, policy, &p), 0, "policy %s", policy);
    twin_set_policy (t, &p);
    twin_run (t, hours, NULL);
    twin_kpis (t, k);
    twin_downtime_by_cause (t, cause_h);
    return t;
}

Test (twin_bound, maintenance_bound_prevents_every_wear_breakdown)
{
    double base_h[TWIN_CAUSE_COUNT], bound_h[TWIN_CAUSE_COUNT];
    twin_kpi_t base, bound;
    twin_t *a = s_run ("baseline", 14 * 24, base_h, &base);
    twin_t *b = s_run ("bound:maintenance", 14 * 24, bound_h, &bound);
    double base_wear = 0, bound_wear = 0;
    for (int c = 0; c < TWIN_CAUSE_COUNT; c++)
        if (strcmp (twin_cause_name (c), "random") && strcmp (twin_cause_name (c), "pm")) {  /* parts */
            base_wear += base_h[c];
            bound_wear += bound_h[c];
        }
    cr_assert_gt (base_wear, 1.0, "the baseline has wear breakdowns to prevent (%g h)", base_wear);
    cr_assert_float_eq (bound_wear, 0, 1e-9, "the bound let a part wear out (%g h)", bound_wear);
    cr_assert_float_eq (bound.planned_downtime_h, 0, 1e-9, "no interval PM under the bound");
    cr_assert_lt (bound.downtime_h, base.downtime_h);
    cr_assert_gt (bound.units, base.units);
    twin_destroy (&a);
    twin_destroy (&b);
}

Test (twin_bound, quality_bound_inspects_every_unit)
{
    double h[TWIN_CAUSE_COUNT];
    twin_kpi_t base, bound;
    twin_t *a = s_run ("baseline", 72, h, &base);
    twin_t *b = s_run ("bound:quality", 72, h, &bound);
    cr_assert_gt (base.escaped_defects, 0);
    cr_assert_lt (bound.escaped_defects, 0.5 * base.escaped_defects, "escapes %g vs %g",
                  bound.escaped_defects, base.escaped_defects);
    cr_assert_gt (bound.rework_units + bound.scrap_units, base.rework_units + base.scrap_units);
    twin_destroy (&a);
    twin_destroy (&b);
}

Test (twin_bound, only_known_concerns_have_a_bound)
{
    char err[256];
    twin_t *t = twin_new_from_text (s_yaml, sizeof s_yaml - 1, "bound.yaml", 3, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    twin_policy_t p;
    cr_assert_eq (twin_policy_bound (t, TWIN_OWN_ENERGY, &p), -1);
    cr_assert_eq (twin_policy_by_name (t, "bound:energy", &p), -1);
    cr_assert_eq (twin_policy_by_name (t, "bound", &p), -1, "the set of bounds is autofab-twin's, not one policy");
    for (int i = 0; twin_bound_policies[i]; i++) {
        cr_assert_eq (twin_policy_by_name (t, twin_bound_policies[i], &p), 0);
        cr_assert_str_eq (p.name, twin_bound_policies[i]);
        p.destroy (p.ctx);
    }
    twin_destroy (&t);
}
