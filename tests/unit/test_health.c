/*  Unit tests: health — thermal, lubrication, drag and Miner's-rule
 *  detectors react to the faults they are for and not to healthy noise;
 *  the health index names the evidence that decided it. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "agents/maintenance/health.h"

static double
s_noise (unsigned *state)
{
    /* splitmix64 on a counter: an LCG's successive outputs are correlated
     * enough to put a trend into Box-Muller pairs. */
    uint64_t z = (uint64_t) (*state += 0x9e3779b9u) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    double u1 = ((double) (z >> 40) + 0.5) / 16777216.0;
    double u2 = (double) ((z >> 16) & 0xffffff) / 16777216.0;
    return sqrt (-2 * log (u1)) * cos (2 * M_PI * u2);
}

Test (health, thermal_drift_and_limit)
{
    health_thermal_t d;
    health_thermal_init (&d, 30, 1.0, 90);
    unsigned st = 1;
    /* 500 healthy readings at varying load and ambient: no alarm. */
    for (int i = 0; i < 500; i++) {
        double load = 0.5 + 0.5 * sin (i * 0.05), amb = 22 + 3 * sin (i * 0.01);
        cr_assert_eq (health_thermal_update (&d, amb + 30 * load + s_noise (&st), amb, load), 0,
                      "false alarm at reading %d", i);
    }
    /* A bearing running 4 degC hot at the same load: found within 20 readings. */
    int found = -1;
    for (int i = 0; i < 50 && found < 0; i++)
        if (health_thermal_update (&d, 22 + 15 + 4 + s_noise (&st), 22, 0.5) > 0)
            found = i;
    cr_assert (found >= 0 && found < 20, "drift found after %d readings", found);
    cr_assert_eq (health_thermal_update (&d, 95, 22, 0.5), 1, "over the limit is failed");
    cr_assert_eq (health_thermal_update (&d, NAN, 22, 0.5), -1);
}

Test (health, lubrication_forecast)
{
    health_lube_t d;
    health_lube_init (&d, 0.2);
    double left = 0, sev = 0;
    /* Level falls 1 % per hour: from 0.9 it reaches 0.2 in 70 h. */
    for (int h = 0; h <= 10; h++)
        sev = health_lube_update (&d, h, 0.9 - 0.01 * h, &left);
    cr_assert_float_eq (left, (0.8 - 0.2) / 0.01, 0.5, "hours left %g", left);
    cr_assert (sev > 0 && sev < 0.5);
    cr_assert_eq (health_lube_update (&d, 11, 0.2, &left), 1);
    cr_assert_float_eq (left, 0, 1e-9);
    /* Refilled: the rate restarts and nothing is falling. */
    health_lube_update (&d, 12, 1.0, &left);
    cr_assert (isinf (left));
    cr_assert_eq (health_lube_update (&d, 13, NAN, &left), -1);
}

Test (health, conveyor_drag)
{
    health_drag_t d;
    health_drag_init (&d, 50);
    unsigned st = 3;
    for (int i = 0; i < 300; i++) {
        double v = 0.5 + 0.2 * (i % 3);
        cr_assert_eq (health_drag_update (&d, 2.0 * v * (1 + 0.02 * s_noise (&st)), v), 0,
                      "healthy reading %d", i);
    }
    double sev = 0;
    for (int i = 0; i < 30; i++)
        sev = health_drag_update (&d, 2.0 * 0.7 * 1.3 * (1 + 0.02 * s_noise (&st)), 0.7);
    cr_assert_float_eq (sev, 0.3, 0.05, "30 %% more drag -> severity %g", sev);
    cr_assert_float_eq (d.last_ratio, 1.3, 0.05);
    cr_assert_eq (health_drag_update (&d, 1, 0), -1, "a stopped belt says nothing about drag");
}

Test (health, miner_rule)
{
    health_miner_t m;
    cr_assert_eq (health_miner_init (&m, 100, 1e6, 3, 40), 0);
    double amps[1000];
    for (int i = 0; i < 1000; i++)
        amps[i] = 100;
    cr_assert_eq (health_miner_add (&m, amps, 1000), 0);
    cr_assert_float_eq (m.damage, 1e-3, 1e-12, "1000 of 1e6 cycles at the reference load");
    /* Basquin: twice the load, 2^3 = 8 times the damage per cycle. */
    for (int i = 0; i < 1000; i++)
        amps[i] = 200;
    health_miner_add (&m, amps, 1000);
    cr_assert_float_eq (m.damage, 9e-3, 1e-12);
    /* Below the endurance limit: no damage, but cycles are counted. */
    for (int i = 0; i < 1000; i++)
        amps[i] = 30;
    amps[3] = NAN;
    amps[4] = -1;
    cr_assert_eq (health_miner_add (&m, amps, 1000), 2);
    cr_assert_float_eq (m.damage, 9e-3, 1e-12);
    cr_assert_eq (m.cycles, 2998);
    cr_assert_eq (health_miner_init (&m, 0, 1e6, 3, 0), -1);
}

Test (health, index_keeps_evidence)
{
    health_index_t hi = { 0 };
    const health_evidence_t *worst = (const health_evidence_t *) 1;
    cr_assert_float_eq (health_index_value (&hi, &worst), 1, 1e-12);
    cr_assert_null (worst);
    health_index_add (&hi, "thermal", 0.1);
    health_index_add (&hi, "bearing", 0.6);
    health_index_add (&hi, "lubrication", 2.0);   /* clamped */
    health_index_add (&hi, "lubrication", 0.3);   /* replaces */
    cr_assert_eq (hi.n, 3);
    cr_assert_float_eq (health_index_value (&hi, &worst), 0.4, 1e-12);
    cr_assert_str_eq (worst->name, "bearing");
    cr_assert_eq (health_index_add (&hi, "x", NAN), -1);
    for (int i = 0; i < HEALTH_EVIDENCE_MAX; i++)
        health_index_add (&hi, i % 2 ? "a" : "b", 0);
    cr_assert_eq (hi.n, 5);
}
