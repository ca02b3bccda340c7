/*  bridge spb — Sparkplug B topics, payloads and sequence numbers.
 *
 *  Pure functions over the specification (Eclipse Sparkplug 3.0): topic
 *  names (spBv1.0/<group>/<type>/<node>[/<device>], spBv1.0/STATE/<host>),
 *  payload decoding as hostile input (size capped, every refusal with a
 *  reason), metric values to numbers by data type (the table in
 *  docs/bridges.md), and the 0…255 sequence arithmetic.  No MQTT here.
 */
#ifndef BRIDGE_SPB_H
#define BRIDGE_SPB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge/sparkplug_b.pb-c.h"

#define SPB_NAMESPACE "spBv1.0"
#define SPB_ID_MAX 64
/* Largest payload decoded, bytes. */
#define SPB_MAX_PAYLOAD_BYTES (256u * 1024u)
/* The node control metric a host sets to ask for new births. */
#define SPB_REBIRTH "Node Control/Rebirth"
#define SPB_BDSEQ "bdSeq"
/* The property that carries a metric's engineering unit (Ignition's key). */
#define SPB_UNIT_KEY "engUnit"

typedef enum {
    SPB_NBIRTH, SPB_NDEATH, SPB_DBIRTH, SPB_DDEATH, SPB_NDATA, SPB_DDATA, SPB_NCMD, SPB_DCMD,
    SPB_STATE, SPB_MSG_TYPES
} spb_msg_t;

typedef struct {
    spb_msg_t type;
    char group[SPB_ID_MAX];      /* STATE: empty */
    char node[SPB_ID_MAX];       /* STATE: the host id */
    char device[SPB_ID_MAX];     /* device messages only */
} spb_topic_t;

const char *spb_msg_name (spb_msg_t type);
/* Parses an MQTT topic; 0, or -1 if it is not a well-formed Sparkplug B
 * topic (wrong namespace, unknown type, missing or extra levels). */
int spb_topic_parse (const char *topic, spb_topic_t *out);
/* Writes the topic of TYPE for GROUP/NODE[/DEVICE] into BUF; its length or -1. */
int spb_topic_format (char *buf, size_t len, spb_msg_t type, const char *group, const char *node,
                      const char *device);

/* Decodes a payload; 0, or -1 with why in WHY (empty, too large, malformed).
 * Free *OUT with sparkplug__payload__free_unpacked (…, NULL). */
int spb_payload_decode (const void *data, size_t len, Sparkplug__Payload **out, char *why,
                        size_t why_len);

/* M's value as a number, read as DATATYPE (the metric's own if it has one,
 * else what its birth said): 0, 1 if it is null, or -1 with why when the
 * type is not numeric or the value field does not match it. */
int spb_metric_number (const Sparkplug__Metric *m, uint32_t datatype, double *out, char *why,
                       size_t why_len);
/* M's engineering unit from its properties, or NULL. */
const char *spb_metric_unit (const Sparkplug__Metric *m);
/* The data type's name ("Int32"), or "Unknown". */
const char *spb_type_name (uint32_t datatype);

/* The sequence number after SEQ (0 … 255, wrapping). */
static inline uint8_t
spb_seq_next (uint8_t seq)
{
    return (uint8_t) (seq + 1u);
}

#endif
