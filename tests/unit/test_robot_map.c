/* test_robot_map.c — the shared floor map: parse, reports, merge, expiry. */

#include <criterion/criterion.h>
#include <math.h>

#include "agents/robot/map.h"

Test(robot_map, parse_and_refuse_bad_text)
{
    char err[128];
    floormap_t *m = floormap_parse("..#\n#..\n", 10, err, sizeof err);
    cr_assert_not_null(m, "%s", err);
    cr_assert_eq(floormap_width(m), 3);
    cr_assert_eq(floormap_height(m), 2);
    cr_assert(floormap_blocked(m, 2, 0, 0));
    cr_assert(!floormap_blocked(m, 1, 1, 0));
    cr_assert(floormap_blocked(m, -1, 0, 0), "outside counts as blocked");
    floormap_destroy(&m);
    cr_assert_null(m);
    floormap_destroy(&m);
    cr_assert_null(floormap_parse("..\n...\n", 10, err, sizeof err));
    cr_assert_str_eq(err, "map row 2 has 3 cells, row 1 has 2");
    cr_assert_null(floormap_parse(".x\n", 10, err, sizeof err));
    cr_assert_null(floormap_parse("", 10, err, sizeof err));
    cr_assert_null(floormap_parse("..", 0, err, sizeof err));
    cr_assert_null(floormap_new(0, 3, 1));
}

Test(robot_map, reports_newest_wins_and_expire)
{
    floormap_t *m = floormap_new(4, 4, 30);
    unsigned long v0 = floormap_version(m);
    cr_assert_eq(floormap_report(m, 1, 1, true, 100, 7), 1);
    cr_assert(floormap_blocked(m, 1, 1, 100));
    cr_assert_neq(floormap_version(m), v0);
    /* An older clear report from another robot does not undo a newer block. */
    cr_assert_eq(floormap_report(m, 1, 1, false, 90, 3), 0);
    cr_assert(floormap_blocked(m, 1, 1, 110));
    /* Renewed, then cleared by a newer report. */
    cr_assert_eq(floormap_report(m, 1, 1, true, 120, 3), 1);
    cr_assert(floormap_blocked(m, 1, 1, 145), "renewed at 120, ttl 30");
    cr_assert_eq(floormap_report(m, 1, 1, false, 130, 7), 1);
    cr_assert(!floormap_blocked(m, 1, 1, 131));
    /* A block nobody renews expires. */
    floormap_report(m, 2, 2, true, 200, 1);
    cr_assert_eq(floormap_expire(m, 220), 0);
    unsigned long v1 = floormap_version(m);
    cr_assert_eq(floormap_expire(m, 231), 1);
    cr_assert_neq(floormap_version(m), v1);
    cr_assert(!floormap_blocked(m, 2, 2, 231));
    /* Hostile reports are refused and counted. */
    cr_assert_eq(floormap_report(m, 9, 0, true, 1, 1), -1);
    cr_assert_eq(floormap_report(m, 0, 0, true, NAN, 1), -1);
    cr_assert_eq(floormap_refused(m), 2);
    floormap_destroy(&m);
}

Test(robot_map, merge_two_robots_views)
{
    floormap_t *a = floormap_new(3, 3, 60), *b = floormap_new(3, 3, 60);
    floormap_report(a, 0, 0, true, 10, 1);
    floormap_report(b, 0, 0, false, 20, 2);     /* b saw it cleared later */
    floormap_report(b, 2, 2, true, 15, 2);
    cr_assert_eq(floormap_merge(a, b), 2);
    cr_assert(!floormap_blocked(a, 0, 0, 21));
    cr_assert(floormap_blocked(a, 2, 2, 21));
    unsigned char snap[9];
    floormap_snapshot(a, 21, snap);
    cr_assert_eq(snap[8], 1);
    cr_assert_eq(snap[0], 0);
    floormap_t *c = floormap_new(2, 2, 60);
    cr_assert_eq(floormap_merge(a, c), -1);
    floormap_destroy(&a);
    floormap_destroy(&b);
    floormap_destroy(&c);
}
