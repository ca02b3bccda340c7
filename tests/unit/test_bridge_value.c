/*  Unit tests: bridge/value.c — register words to values and back.  */
#include "bridge/value.h"

#include <criterion/criterion.h>
#include <math.h>

static bv_format_t
s_fmt (bv_type_t type, bool byte_swap, bool word_swap)
{
    return (bv_format_t) { .type = type, .byte_swap = byte_swap, .word_swap = word_swap,
                           .scale = 1.0, .offset = 0.0 };
}

Test (bridge_value, signed_and_scaled)
{
    bv_format_t f = s_fmt (BV_S16, false, false);
    uint16_t w = 0xFFFE;
    cr_assert_eq (bv_decode (&f, &w), -2.0);
    f.scale = 0.1;
    f.offset = 5;
    w = 250;
    cr_assert_float_eq (bv_decode (&f, &w), 30.0, 1e-9);
    uint16_t out;
    char err[128];
    cr_assert_eq (bv_encode (&f, 30.0, &out, err, sizeof err), 0);
    cr_assert_eq (out, 250);
}

Test (bridge_value, word_and_byte_orders)
{
    /* 0x12345678 as u32 in the four layouts devices use. */
    uint16_t abcd[2] = { 0x1234, 0x5678 }, cdab[2] = { 0x5678, 0x1234 };
    uint16_t badc[2] = { 0x3412, 0x7856 }, dcba[2] = { 0x7856, 0x3412 };
    bv_format_t f = s_fmt (BV_U32, false, false);
    cr_assert_eq (bv_decode (&f, abcd), (double) 0x12345678);
    f = s_fmt (BV_U32, false, true);
    cr_assert_eq (bv_decode (&f, cdab), (double) 0x12345678);
    f = s_fmt (BV_U32, true, false);
    cr_assert_eq (bv_decode (&f, badc), (double) 0x12345678);
    f = s_fmt (BV_U32, true, true);
    cr_assert_eq (bv_decode (&f, dcba), (double) 0x12345678);
    uint16_t back[2];
    char err[64];
    cr_assert_eq (bv_encode (&f, (double) 0x12345678, back, err, sizeof err), 0);
    cr_assert (back[0] == dcba[0] && back[1] == dcba[1]);
}

Test (bridge_value, floats_round_trip)
{
    char err[64];
    uint16_t w[4];
    bv_format_t f = s_fmt (BV_F32, false, true);
    cr_assert_eq (bv_encode (&f, 71.5, w, err, sizeof err), 0);
    cr_assert_float_eq (bv_decode (&f, w), 71.5, 1e-6);
    f = s_fmt (BV_F64, true, false);
    cr_assert_eq (bv_encode (&f, -1234.5678, w, err, sizeof err), 0);
    cr_assert_eq (bv_decode (&f, w), -1234.5678);
    /* IEEE 754 1.0f is 0x3F800000: big-endian words 0x3F80 0x0000. */
    f = s_fmt (BV_F32, false, false);
    uint16_t one[2] = { 0x3F80, 0x0000 };
    cr_assert_eq (bv_decode (&f, one), 1.0);
}

Test (bridge_value, out_of_range_refused)
{
    char err[128];
    uint16_t w[4];
    bv_format_t f = s_fmt (BV_U16, false, false);
    cr_assert_eq (bv_encode (&f, 65536, w, err, sizeof err), -1);
    cr_assert (strstr (err, "u16"), "%s", err);
    cr_assert_eq (bv_encode (&f, -1, w, err, sizeof err), -1);
    cr_assert_eq (bv_encode (&f, NAN, w, err, sizeof err), -1);
    f = s_fmt (BV_S16, false, false);
    cr_assert_eq (bv_encode (&f, -32769, w, err, sizeof err), -1);
    cr_assert_eq (bv_encode (&f, -32768, w, err, sizeof err), 0);
    f = s_fmt (BV_F32, false, false);
    cr_assert_eq (bv_encode (&f, 1e39, w, err, sizeof err), -1);
}

Test (bridge_value, names_and_tables)
{
    cr_assert_eq (bv_type_parse ("f32"), BV_F32);
    cr_assert_eq (bv_type_parse ("float"), -1);
    cr_assert_eq (bv_table_parse ("coil"), BV_COIL);
    cr_assert_eq (bv_table_parse (NULL), -1);
    cr_assert (!bv_type_fits (BV_U16, BV_COIL));
    cr_assert (bv_type_fits (BV_BOOL, BV_HOLDING));
    cr_assert (!bv_table_writable (BV_INPUT));
    cr_assert_eq (bv_type_words (BV_S64), 4);
}
