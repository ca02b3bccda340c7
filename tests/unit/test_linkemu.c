/*  Unit tests: the link emulator's model — profiles, pacing, delay, loss as
 *  retransmission delay, in-order delivery, contact plan and outages.  */
#include <criterion/criterion.h>
#include <string.h>

#include "gateway/linkemu.h"

#define MS 1000000ull

Test (linkemu_model, profiles_carry_the_issue_numbers)
{
    const linkemu_profile_t *f = linkemu_profile_find ("fibre");
    const linkemu_profile_t *l = linkemu_profile_find ("leo");
    const linkemu_profile_t *m = linkemu_profile_find ("mars");
    cr_assert (f && l && m);
    cr_assert_null (linkemu_profile_find ("moon"));
    cr_assert_null (linkemu_profile_find (NULL));
    cr_assert_float_eq (f->delay_min_ms, 1, 1e-9);
    cr_assert_float_eq (f->rate_bps, 1e9, 1);
    cr_assert_float_eq (l->delay_min_ms, 12, 1e-9);
    cr_assert_float_eq (l->delay_max_ms, 30, 1e-9);
    cr_assert_float_eq (l->loss, 0.005, 1e-12);
    cr_assert_float_eq (l->disconnect_every_s, 180, 1e-9);
    cr_assert_float_eq (m->delay_min_ms, 180000, 1e-9);
    cr_assert_float_eq (m->delay_max_ms, 1320000, 1e-9);
    cr_assert_float_eq (m->rate_bps, 2e6, 1);
    cr_assert_float_eq (m->blackout_frac, 0.10, 1e-12);
    char err[128];
    for (const linkemu_profile_t *p = f; p; p = p == f ? l : p == l ? m : NULL)
        cr_assert_eq (linkemu_profile_check (p, err, sizeof err), 0, "%s", err);
    linkemu_profile_t bad = *l;
    bad.loss = 1.5;
    cr_assert_eq (linkemu_profile_check (&bad, err, sizeof err), -1);
    bad = *l;
    bad.time_scale = 0;
    cr_assert_eq (linkemu_profile_check (&bad, err, sizeof err), -1);
}

Test (linkemu_model, delay_and_bandwidth_pace_segments)
{
    linkemu_profile_t p = { .delay_min_ms = 10, .delay_max_ms = 10, .rate_bps = 8e6,
                            .time_scale = 1 };
    linkemu_dir_t d;
    linkemu_dir_init (&d, &p, 7);
    cr_assert_float_eq (d.delay_ms, 10, 1e-9);
    /* 1000 bytes at 8 Mbit/s take 1 ms on the wire. */
    uint64_t a1 = linkemu_dir_schedule (&d, 0, 1000);
    uint64_t a2 = linkemu_dir_schedule (&d, 0, 1000);
    cr_assert_eq (a1, 11 * MS);
    cr_assert_eq (a2, 12 * MS);
    /* Long idle: the wire is free again, only the delay counts. */
    uint64_t a3 = linkemu_dir_schedule (&d, 100 * MS, 1000);
    cr_assert_eq (a3, 111 * MS);
}

Test (linkemu_model, time_scale_divides_delays_not_bandwidth)
{
    linkemu_profile_t p = *linkemu_profile_find ("mars");
    p.loss = 0;
    p.time_scale = 1000;
    linkemu_dir_t d;
    linkemu_dir_init (&d, &p, 3);
    cr_assert (d.delay_ms >= 180 && d.delay_ms <= 1320, "%f", d.delay_ms);
    uint64_t a = linkemu_dir_schedule (&d, 0, 250);   /* 1 ms at 2 Mbit/s */
    cr_assert_eq (a, (uint64_t) (1 * MS + d.delay_ms * MS));
}

Test (linkemu_model, loss_is_a_round_trip_late_and_order_holds)
{
    linkemu_profile_t p = { .delay_min_ms = 20, .delay_max_ms = 20, .loss = 0.2, .jitter_ms = 5,
                            .time_scale = 1 };
    linkemu_dir_t d;
    linkemu_dir_init (&d, &p, 11);
    uint64_t last = 0, late = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t now = (uint64_t) i * MS;
        uint64_t a = linkemu_dir_schedule (&d, now, 100);
        cr_assert_geq (a, last, "segment %d overtook an earlier one", i);
        cr_assert_geq (a, now + 20 * MS);
        if (a >= now + 60 * MS)
            late++;
        last = a;
    }
    cr_assert (d.lost_segments > 1500 && d.lost_segments < 2500, "%lu", (unsigned long) d.lost_segments);
    cr_assert_geq (late, d.lost_segments);
}

Test (linkemu_model, contact_plan_is_dark_at_the_end_of_each_cycle)
{
    linkemu_profile_t p = { .blackout_period_s = 100, .blackout_frac = 0.1, .time_scale = 1 };
    uint64_t until;
    cr_assert_not (linkemu_blackout (&p, 0, &until));
    cr_assert_eq (until, 90000 * MS);
    cr_assert_not (linkemu_blackout (&p, 89999 * MS, NULL));
    cr_assert (linkemu_blackout (&p, 90000 * MS, &until));
    cr_assert_eq (until, 100000 * MS);
    cr_assert_not (linkemu_blackout (&p, 100000 * MS, NULL));
    p.time_scale = 1000;          /* 100 ms cycles */
    cr_assert (linkemu_blackout (&p, 95 * MS, NULL));
    cr_assert_not (linkemu_blackout (&p, 105 * MS, NULL));
    linkemu_profile_t none = { .time_scale = 1 };
    cr_assert_not (linkemu_blackout (&none, 95 * MS, NULL));
}

Test (linkemu_model, outages_average_their_interval)
{
    linkemu_profile_t p = *linkemu_profile_find ("leo");
    uint64_t rng = 5, now = 0, start, len;
    double sum_gap = 0;
    int n = 2000;
    for (int i = 0; i < n; i++) {
        cr_assert (linkemu_next_outage (&p, &rng, now, &start, &len));
        cr_assert_geq (len, 2000 * MS);
        cr_assert_leq (len, 5000 * MS);
        sum_gap += (double) (start - now) / 1e9;
        now = start + len;
    }
    double mean = sum_gap / n;
    cr_assert (mean > 160 && mean < 200, "mean gap %f s", mean);
    linkemu_profile_t none = { .time_scale = 1 };
    cr_assert_not (linkemu_next_outage (&none, &rng, 0, &start, &len));
}
