/* test_release.c — CONWIP cap from Little's law and the DBR rope. */

#include <criterion/criterion.h>
#include <math.h>

#include "agents/line/release.h"

/* Drum at 10 units/h, 2 h raw process time: W0 = 20; factor 1.2 → cap 24;
 * a 1 h buffer before the drum. */
static const release_params_t P = { .constraint_rate_uph = 10, .raw_process_time_h = 2,
                                    .wip_factor = 1.2, .buffer_h = 1 };

Test (release, cap_from_littles_law)
{
    cr_assert_eq (release_wip_cap (&P), 24);
    release_params_t q = P;
    q.wip_factor = 1;
    cr_assert_eq (release_wip_cap (&q), 20, "factor 1: the critical WIP");
    q.wip_factor = 0.5;
    cr_assert_eq (release_wip_cap (&q), -1, "below the critical WIP starves the drum");
    q = P;
    q.constraint_rate_uph = NAN;
    cr_assert_eq (release_wip_cap (&q), -1);
}

Test (release, edd_within_cap)
{
    /* All due soon (rope times passed): EDD order, until the cap. */
    release_order_t q[] = { { 9, 2 }, { 5, 2 }, { 7, 2 }, { 6, 2 } };
    size_t out[4];
    int n = release_decide (&P, 10, 19, q, 4, out, 4, NULL);
    cr_assert_eq (n, 2, "24 − 19 = 5 units of room: two orders of 2");
    cr_assert_eq (out[0], 1);
    cr_assert_eq (out[1], 3);
    cr_assert_eq (release_decide (&P, 10, 24, q, 4, out, 4, NULL), 0, "at the cap");
    cr_assert_eq (release_decide (&P, 10, 0, q, 4, out, 1, NULL), 1, "room for one answer");
}

Test (release, rope_holds_early_orders)
{
    /* Due at 100 h with 2 units: rope time 100 − (2 + 1 + 0.2) = 96.8 h. */
    release_order_t q[] = { { 100, 2 } };
    size_t out[1];
    cr_assert_eq (release_decide (&P, 50, 21, q, 1, out, 1, NULL), 0, "too early, drum fed");
    cr_assert_eq (release_decide (&P, 96.8, 21, q, 1, out, 1, NULL), 1, "rope time reached");
    cr_assert_eq (release_decide (&P, 50, 12, q, 1, out, 1, NULL), 1, "drum about to starve: pull ahead");
    /* An order larger than the cap still enters an empty line. */
    release_order_t big[] = { { 10, 40 } };
    cr_assert_eq (release_decide (&P, 0, 0, big, 1, out, 1, NULL), 1);
    cr_assert_eq (release_decide (&P, 0, 1, big, 1, out, 1, NULL), 0);
}

Test (release, hostile_orders_skipped)
{
    release_order_t q[] = { { NAN, 1 }, { 5, -1 }, { 5, 1 }, { INFINITY, 1 } };
    size_t out[4], rejected = 0;
    cr_assert_eq (release_decide (&P, 10, 0, q, 4, out, 4, &rejected), 1);
    cr_assert_eq (out[0], 2);
    cr_assert_eq (rejected, 3);
    cr_assert_eq (release_decide (&P, NAN, 0, q, 4, out, 4, NULL), -1);
    cr_assert_eq (release_decide (&P, 0, -3, q, 4, out, 4, NULL), -1);
    cr_assert_eq (release_decide (NULL, 0, 0, q, 4, out, 4, NULL), -1);
    cr_assert_eq (release_decide (&P, 0, 0, NULL, 0, out, 4, NULL), 0, "empty queue");
}
