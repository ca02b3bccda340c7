/*  af_wire — a check of protobuf's wire format, against a message's
 *  descriptor, before protobuf-c sees a byte.
 *
 *  Debian's protobuf-c 1.4.1 has undefined behaviour on some hostile input:
 *  a field key of five bytes whose last byte is large is shifted past an
 *  int (`ff ff ff ff ff`), and unpacking a message type that has no fields
 *  at all does arithmetic on a NULL field table (`72 00`, a StatsRequest).
 *  af_wire_check walks the bytes (no allocation, no copy), recursing into
 *  fields the descriptor says are messages, and refuses what protobuf-c
 *  must not see; callers decode field-less messages themselves.
 */
#ifndef AF_WIRE_H
#define AF_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Deepest nesting of messages we accept (ours nest 3 deep at most). */
#define AF_WIRE_MAX_DEPTH 8

/* What af_wire_check saw at the top level of the message. */
typedef struct {
    size_t fields;           /* top-level fields, known or not */
    unsigned empty_field;    /* number of the last top-level field whose type
                                is a message with no fields (0: none) */
    size_t empty_count;      /* how many such fields */
} af_wire_info_t;

/* True if DATA (LEN bytes) is well-formed wire format for DESC: every key
 * readable in at most five bytes with a field number from 1 to 2^29 - 1,
 * no group or unknown wire type, every varint at most ten bytes, every
 * length inside its parent, every known message field well-formed in turn
 * (at most AF_WIRE_MAX_DEPTH deep), and no field-less message type below
 * the top level.  INFO (may be NULL) gets what the top level held. */
bool af_wire_check (const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
                    af_wire_info_t *info);

#endif
