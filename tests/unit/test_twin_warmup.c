/*  Unit tests: twin_set_warmup_h — KPIs cover only the hours after the
 *  warm-up, the warm-up does not change the plant's history (same seed,
 *  same events), and it can be set only before the start.  */
#include <criterion/criterion.h>

#include "twin.h"

static const char s_yaml[] =
    "factory: {name: warm}\n"
    "arrivals: {mode: poisson, rate_per_h: 40}\n"
    "stations:\n"
    "  - {name: a, process_s: {dist: exponential, mean: 60}, mtbf_h: 2}\n"
    "  - {name: b, process_s: {dist: exponential, mean: 50}}\n";

static twin_t *
s_twin (void)
{
    char err[256];
    twin_t *t = twin_new_from_text (s_yaml, sizeof s_yaml - 1, "warm.yaml", 5, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    return t;
}

Test (twin_warmup, kpis_start_after_the_warm_up)
{
    twin_t *cold = s_twin (), *warm = s_twin ();
    cr_assert_eq (twin_set_warmup_h (warm, 3), 0);
    twin_run (cold, 8, NULL);
    twin_run (warm, 8, NULL);
    twin_kpi_t kc, kw;
    twin_kpis (cold, &kc);
    twin_kpis (warm, &kw);
    cr_assert_float_eq (kc.sim_h, 8, 1e-9);
    cr_assert_float_eq (kw.sim_h, 5, 1e-9, "measured window %g h", kw.sim_h);
    cr_assert_lt (kw.units, kc.units, "the warm-up's units are not counted");
    /* Statistics only: the same history, event for event, plus the one
     * event that resets the statistics. */
    cr_assert_eq (twin_events (cold) + 1, twin_events (warm));
    cr_assert_eq (twin_set_warmup_h (warm, 1), -1, "only before the start");
    twin_destroy (&cold);
    twin_destroy (&warm);
}

Test (twin_warmup, refuses_bad_hours)
{
    twin_t *t = s_twin ();
    cr_assert_eq (twin_set_warmup_h (t, -1), -1);
    cr_assert_eq (twin_set_warmup_h (t, 1e7), -1);
    cr_assert_eq (twin_set_warmup_h (t, 0.0 / 0.0), -1);
    cr_assert_eq (twin_set_warmup_h (NULL, 1), -1);
    cr_assert_eq (twin_set_warmup_h (t, 0), 0);
    twin_destroy (&t);
}
