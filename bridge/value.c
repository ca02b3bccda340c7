/*  bridge value — Modbus register words to engineering values and back.  */
#include "value.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const s_type_names[BV_TYPES] = {
    "u16", "s16", "u32", "s32", "u64", "s64", "f32", "f64", "bool",
};
static const unsigned s_type_words[BV_TYPES] = { 1, 1, 2, 2, 4, 4, 2, 4, 1 };
static const char *const s_table_names[BV_TABLES] = { "holding", "input", "coil", "discrete" };

const char *
bv_type_name (bv_type_t type)
{
    return (unsigned) type < BV_TYPES ? s_type_names[type] : NULL;
}

const char *
bv_table_name (bv_table_t table)
{
    return (unsigned) table < BV_TABLES ? s_table_names[table] : NULL;
}

int
bv_type_parse (const char *name)
{
    for (int i = 0; name && i < BV_TYPES; i++)
        if (!strcmp (name, s_type_names[i]))
            return i;
    return -1;
}

int
bv_table_parse (const char *name)
{
    for (int i = 0; name && i < BV_TABLES; i++)
        if (!strcmp (name, s_table_names[i]))
            return i;
    return -1;
}

unsigned
bv_type_words (bv_type_t type)
{
    return (unsigned) type < BV_TYPES ? s_type_words[type] : 1;
}

bool
bv_table_writable (bv_table_t table)
{
    return table == BV_HOLDING || table == BV_COIL;
}

bool
bv_type_fits (bv_type_t type, bv_table_t table)
{
    if (table == BV_COIL || table == BV_DISCRETE)
        return type == BV_BOOL;
    return true;
}

/* The registers of a point as one big-endian 64-bit pattern, in the order
 * the device keeps them (word and byte swaps undone). */
static uint64_t
s_gather (const bv_format_t *fmt, const uint16_t *words)
{
    unsigned n = bv_type_words (fmt->type);
    uint64_t bits = 0;
    for (unsigned i = 0; i < n; i++) {
        uint16_t w = words[fmt->word_swap ? n - 1 - i : i];
        if (fmt->byte_swap)
            w = (uint16_t) ((w >> 8) | (w << 8));
        bits = (bits << 16) | w;
    }
    return bits;
}

static void
s_scatter (const bv_format_t *fmt, uint64_t bits, uint16_t *words)
{
    unsigned n = bv_type_words (fmt->type);
    for (unsigned i = 0; i < n; i++) {
        uint16_t w = (uint16_t) (bits >> (16 * (n - 1 - i)));
        if (fmt->byte_swap)
            w = (uint16_t) ((w >> 8) | (w << 8));
        words[fmt->word_swap ? n - 1 - i : i] = w;
    }
}

double
bv_decode (const bv_format_t *fmt, const uint16_t *words)
{
    uint64_t bits = s_gather (fmt, words);
    double raw = 0;
    switch (fmt->type) {
    case BV_U16: raw = (uint16_t) bits; break;
    case BV_S16: raw = (int16_t) (uint16_t) bits; break;
    case BV_U32: raw = (uint32_t) bits; break;
    case BV_S32: raw = (int32_t) (uint32_t) bits; break;
    case BV_U64: raw = (double) bits; break;
    case BV_S64: raw = (double) (int64_t) bits; break;
    case BV_F32: { uint32_t u = (uint32_t) bits; float f; memcpy (&f, &u, 4); raw = f; break; }
    case BV_F64: memcpy (&raw, &bits, 8); break;
    case BV_BOOL: raw = bits != 0; break;
    default: break;
    }
    return raw * fmt->scale + fmt->offset;
}

/* Range of the raw integer types, as doubles (the 64-bit ones rounded). */
static const double s_raw_min[BV_TYPES] = { 0, -32768, 0, -2147483648.0, 0, -9.2233720368547758e18 };
static const double s_raw_max[BV_TYPES] = { 65535, 32767, 4294967295.0, 2147483647.0,
                                            1.8446744073709552e19, 9.2233720368547758e18 };

int
bv_encode (const bv_format_t *fmt, double value, uint16_t *words, char *err, size_t err_len)
{
    if (!isfinite (value) || fmt->scale == 0) {
        snprintf (err, err_len, "value is not a finite number");
        return -1;
    }
    double raw = (value - fmt->offset) / fmt->scale;
    uint64_t bits = 0;
    switch (fmt->type) {
    case BV_F32: {
        if (fabs (raw) > 3.4028234e38) {
            snprintf (err, err_len, "%g does not fit a 32-bit float", value);
            return -1;
        }
        float f = (float) raw;
        uint32_t u;
        memcpy (&u, &f, 4);
        bits = u;
        break;
    }
    case BV_F64: memcpy (&bits, &raw, 8); break;
    case BV_BOOL: bits = raw != 0; break;
    default: {
        double r = nearbyint (raw);
        /* The 64-bit limits are not exact doubles: refuse their edge too. */
        if (r < s_raw_min[fmt->type] || r > s_raw_max[fmt->type]
            || ((fmt->type == BV_U64 || fmt->type == BV_S64) && r >= s_raw_max[fmt->type])) {
            snprintf (err, err_len, "%g is raw %g, outside the %s range", value, r,
                      s_type_names[fmt->type]);
            return -1;
        }
        bits = fmt->type == BV_U64 ? (uint64_t) r : (uint64_t) (int64_t) r;
        break;
    }
    }
    s_scatter (fmt, bits, words);
    return 0;
}
