/*  gw_wire — the gateway-to-gateway protocol (docs/gateway.md).
 *
 *  An exporting gateway's DEALER (CURVE client) talks to the importing
 *  gateway's ROUTER (CURVE server).  Every message starts with two frames,
 *  the tag "AFG1" and a fixed head; DATA adds a batch of records:
 *
 *    DATA   [AFG1][head: 'D' lane seq t_ns factory][records]
 *    PROBE  [AFG1][head: 'P' t_ns factory]                 exporter -> importer
 *    ACK    [AFG1][head: 'A' t_ns acks[4] factory]          importer -> exporter
 *
 *  A record is u16 topic length, topic, u32 envelope length, envelope (big
 *  endian); the records of one DATA frame are consecutive messages of one
 *  lane, the first numbered seq.  Batching matters: CURVE adds some 33
 *  bytes per ZeroMQ frame, which on 256-byte messages would cost a fifth of
 *  the link.  Sequence numbers count per link and lane from 1; an ACK
 *  carries, per lane, the highest sequence number delivered in order
 *  (cumulative), and echoes the t_ns of the probe or data it answers.  A
 *  record with an empty envelope is a tombstone: the exporter dropped that
 *  message under its outbox policy and says so instead of leaving a gap.
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

/* Most records one DATA frame carries; receivers refuse more. */
#define GW_BATCH_MAX_RECORDS 4096
/* Bytes a record adds to its topic and envelope. */
#define GW_RECORD_OVERHEAD 6

/* Appends a record to the batch at OUT (which has room for
 * GW_RECORD_OVERHEAD + TOPIC_LEN + LEN more bytes); returns bytes written. */
size_t gw_record_put (uint8_t *out, const char *topic, size_t topic_len, const void *body, size_t len);

/* Walks the records of a batch in place. */
typedef struct {
    const uint8_t *at, *end;
    size_t count;
} gw_record_iter_t;

void gw_record_iter_init (gw_record_iter_t *it, const void *data, size_t len);
/* 1: the next record; 0: no more; -1: the rest is malformed (refuse it). */
int gw_record_next (gw_record_iter_t *it, const char **topic, size_t *topic_len, const uint8_t **body,
                    size_t *len);

/* Encodes HEAD into OUT (GW_HEAD_MAX bytes); returns its length. */
size_t gw_head_encode (const gw_head_t *head, uint8_t *out);
/* Decodes a head frame; false if it is malformed (wrong size or type, lane
 * out of range, bad factory name). */
bool gw_head_decode (const void *data, size_t len, gw_head_t *head);

#endif
