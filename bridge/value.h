/*  bridge value — Modbus register words to engineering values and back.
 *
 *  Pure functions, no I/O: a point's type, byte order and word order say how
 *  its 16-bit registers make a number; scale and offset make it a value in
 *  engineering units (value = raw × scale + offset).  Writing is the way
 *  back, refused when the value does not fit the type.
 */
#ifndef BRIDGE_VALUE_H
#define BRIDGE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    BV_U16, BV_S16, BV_U32, BV_S32, BV_U64, BV_S64, BV_F32, BV_F64, BV_BOOL, BV_TYPES
} bv_type_t;

/* Where a point lives in the device. */
typedef enum { BV_HOLDING, BV_INPUT, BV_COIL, BV_DISCRETE, BV_TABLES } bv_table_t;

typedef struct {
    bv_type_t type;
    bool byte_swap;          /* little byte order inside each register */
    bool word_swap;          /* least significant register first */
    double scale, offset;
} bv_format_t;

/* The names used in map files ("u16", "holding", …); NULL if out of range. */
const char *bv_type_name (bv_type_t type);
const char *bv_table_name (bv_table_t table);
/* Parses a name; -1 if unknown. */
int bv_type_parse (const char *name);
int bv_table_parse (const char *name);
/* Registers a type takes (1, 2 or 4; a bool takes one bit or register). */
unsigned bv_type_words (bv_type_t type);
/* True if the table can be written (holding registers and coils). */
bool bv_table_writable (bv_table_t table);
/* True if TYPE can live in TABLE (bools in the bit tables, numbers in
 * the register tables; a bool may also be a whole register, 0 or not). */
bool bv_type_fits (bv_type_t type, bv_table_t table);

/* Decodes WORDS (bv_type_words of them) into an engineering value. */
double bv_decode (const bv_format_t *fmt, const uint16_t *words);
/* Encodes VALUE (engineering units) into WORDS; 0, or -1 with the reason
 * in ERR when the raw value does not fit the type (or is not finite). */
int bv_encode (const bv_format_t *fmt, double value, uint16_t *words, char *err, size_t err_len);

#endif
