/* test_bottleneck.c — the active-period method on crafted traces. */

#include <criterion/criterion.h>

#include "agents/line/bottleneck.h"

#define B BN_BUSY
#define S BN_STARVED
#define K BN_BLOCKED
#define D BN_DOWN

/* Three stations; the middle one is always working, the first is blocked
 * behind it half the time, the last starved: the middle is the sole
 * bottleneck all the time. */
Test (bottleneck, steady_constraint)
{
    unsigned char st[8 * 3];
    for (int t = 0; t < 8; t++) {
        st[t * 3 + 0] = t % 2 ? K : B;
        st[t * 3 + 1] = B;
        st[t * 3 + 2] = t % 2 ? B : S;
    }
    bn_station_t out[3];
    int mom[8];
    cr_assert_eq (bn_analyse (st, 8, 3, out, mom), 1);
    cr_assert_float_eq (out[1].sole_share, 1.0, 1e-12);
    cr_assert_float_eq (out[0].sole_share + out[0].shifting_share, 0, 1e-12);
    cr_assert_float_eq (out[0].share[BN_BLOCKED], 0.5, 1e-12);
    cr_assert_float_eq (out[2].share[BN_STARVED], 0.5, 1e-12);
    cr_assert_float_eq (out[1].active_share, 1.0, 1e-12);
    for (int t = 0; t < 8; t++)
        cr_assert_eq (mom[t], 1);
}

/* Station 0 active over samples 0–9, station 1 over 5–19 (longer).  0 is
 * the sole bottleneck at 0–4, both shift at 5–9 (the overlap), 1 is sole at
 * 10–19. */
Test (bottleneck, shifting_overlap)
{
    enum { N = 20 };
    unsigned char st[N * 2];
    for (int t = 0; t < N; t++) {
        st[t * 2 + 0] = t < 10 ? B : S;
        st[t * 2 + 1] = t >= 5 ? (t == 12 ? D : B) : S;   /* a breakdown is still active */
    }
    bn_station_t out[2];
    int mom[N];
    cr_assert_eq (bn_analyse (st, N, 2, out, mom), 1);
    cr_assert_eq (mom[4], 0);
    cr_assert_eq (mom[5], 1);
    cr_assert_float_eq (out[0].sole_share, 5.0 / N, 1e-12);
    cr_assert_float_eq (out[0].shifting_share, 5.0 / N, 1e-12);
    cr_assert_float_eq (out[1].shifting_share, 5.0 / N, 1e-12);
    cr_assert_float_eq (out[1].sole_share, 10.0 / N, 1e-12);
    cr_assert_float_eq (out[1].share[BN_DOWN], 1.0 / N, 1e-12);
}

/* A station that breaks down for a long time becomes the bottleneck even
 * though its busy share is lower: active periods count repairs. */
Test (bottleneck, long_breakdown_wins)
{
    enum { N = 30 };
    unsigned char st[N * 2];
    for (int t = 0; t < N; t++) {
        st[t * 2 + 0] = t % 3 == 2 ? S : B;        /* busy 2/3, short periods */
        st[t * 2 + 1] = t < 20 ? D : (t % 2 ? B : S);
    }
    bn_station_t out[2];
    cr_assert_eq (bn_analyse (st, N, 2, out, NULL), 1);
    cr_assert_gt (out[0].share[BN_BUSY], out[1].share[BN_BUSY]);
}

Test (bottleneck, bad_input)
{
    unsigned char st[4] = { B, S, 9, B };
    bn_station_t out[2];
    cr_assert_eq (bn_analyse (st, 2, 2, out, NULL), -2, "unknown state code");
    cr_assert_eq (bn_analyse (st, 0, 2, out, NULL), -2);
    cr_assert_eq (bn_analyse (NULL, 2, 2, out, NULL), -2);
    unsigned char idle[4] = { S, K, S, K };
    cr_assert_eq (bn_analyse (idle, 2, 2, out, NULL), -1, "nobody active");
}
