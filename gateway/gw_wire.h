/*  gw_wire — the gateway-to-gateway protocol (docs/gateway.md).
 *
 *  An exporting gateway's DEALER (CURVE client) talks to the importing
 *  gateway's ROUTER (CURVE server).  Every message starts with two frames,
 *  the tag "AFG1" and a fixed head; DATA adds the topic and the envelope:
 *
 *    DATA   [AFG1][head: 'D' lane seq t_ns factory][topic][envelope bytes]
 *    PROBE  [AFG1][head: 'P' t_ns factory]                 exporter -> importer
 *    ACK    [AFG1][head: 'A' t_ns acks[4] factory]          importer -> exporter
 *
 *  Sequence numbers count per link and lane from 1; an ACK carries, per
 *  lane, the highest sequence number delivered in order (cumulative), and
 *  echoes the t_ns of the probe or data it answers.  A DATA frame with an
 *  empty envelope is a tombstone: the exporter dropped that message under
 *  its outbox policy and says so instead of leaving a silent gap.
 */
#ifndef GW_WIRE_H
#define GW_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_TAG "AFG1"
#define GW_TAG_LEN 4
#define GW_FACTORY_MAX 63

/* Priority lanes, most urgent first. */
typedef enum {
    GW_LANE_ALARM,
    GW_LANE_COMMAND,
    GW_LANE_TELEMETRY,
    GW_LANE_BULK,
    GW_LANES
} gw_lane_t;

const char *gw_lane_name (int lane);
/* "alarm", "command", "telemetry", "bulk" to a lane; -1 if unknown. */
int gw_lane_parse (const char *name);

typedef enum { GW_MSG_DATA = 'D', GW_MSG_PROBE = 'P', GW_MSG_ACK = 'A' } gw_msg_type_t;

typedef struct {
    char type;
    uint8_t lane;
    uint64_t seq;
    uint64_t t_ns;
    uint64_t acks[GW_LANES];
    char factory[GW_FACTORY_MAX + 1];
} gw_head_t;

/* Largest encoded head, bytes. */
#define GW_HEAD_MAX (2 + 8 + 8 + 8 * GW_LANES + 1 + GW_FACTORY_MAX)

/* Encodes HEAD into OUT (GW_HEAD_MAX bytes); returns its length. */
size_t gw_head_encode (const gw_head_t *head, uint8_t *out);
/* Decodes a head frame; false if it is malformed (wrong size or type, lane
 * out of range, bad factory name). */
bool gw_head_decode (const void *data, size_t len, gw_head_t *head);

#endif
