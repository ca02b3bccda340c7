/*  gw_wire — encoding and hostile-input decoding of the gateway protocol
 *  head (see gw_wire.h).  */
#include "gw_wire.h"

#include <string.h>

static const char *const s_lane_names[GW_LANES] = { "alarm", "command", "telemetry", "bulk" };

const char *
gw_lane_name (int lane)
{
    return lane >= 0 && lane < GW_LANES ? s_lane_names[lane] : "?";
}

int
gw_lane_parse (const char *name)
{
    for (int i = 0; name && i < GW_LANES; i++)
        if (strcmp (name, s_lane_names[i]) == 0)
            return i;
    return -1;
}

static void
s_put64 (uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t) v;
}

static uint64_t
s_get64 (const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

size_t
gw_head_encode (const gw_head_t *head, uint8_t *out)
{
    size_t flen = strnlen (head->factory, GW_FACTORY_MAX);
    uint8_t *p = out;
    *p++ = (uint8_t) head->type;
    *p++ = head->lane;
    s_put64 (p, head->seq);
    p += 8;
    s_put64 (p, head->t_ns);
    p += 8;
    for (int i = 0; i < GW_LANES; i++, p += 8)
        s_put64 (p, head->acks[i]);
    *p++ = (uint8_t) flen;
    memcpy (p, head->factory, flen);
    return (size_t) (p - out) + flen;
}

static bool
s_factory_ok (const uint8_t *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

bool
gw_head_decode (const void *data, size_t len, gw_head_t *head)
{
    const size_t fixed = GW_HEAD_MAX - GW_FACTORY_MAX;
    const uint8_t *p = data;
    if (!data || len < fixed)
        return false;
    size_t flen = p[fixed - 1];
    if (flen > GW_FACTORY_MAX || len != fixed + flen || !s_factory_ok (p + fixed, flen))
        return false;
    memset (head, 0, sizeof *head);
    head->type = (char) p[0];
    head->lane = p[1];
    if (head->type != GW_MSG_DATA && head->type != GW_MSG_PROBE && head->type != GW_MSG_ACK)
        return false;
    if (head->lane >= GW_LANES)
        return false;
    head->seq = s_get64 (p + 2);
    head->t_ns = s_get64 (p + 10);
    for (int i = 0; i < GW_LANES; i++)
        head->acks[i] = s_get64 (p + 18 + 8 * i);
    memcpy (head->factory, p + fixed, flen);
    head->factory[flen] = 0;
    return true;
}

size_t
gw_record_put (uint8_t *out, const char *topic, size_t topic_len, const void *body, size_t len)
{
    uint8_t *p = out;
    *p++ = (uint8_t) (topic_len >> 8);
    *p++ = (uint8_t) topic_len;
    memcpy (p, topic, topic_len);
    p += topic_len;
    for (int i = 3; i >= 0; i--)
        *p++ = (uint8_t) (len >> (8 * i));
    if (len)
        memcpy (p, body, len);
    return (size_t) (p - out) + len;
}

void
gw_record_iter_init (gw_record_iter_t *it, const void *data, size_t len)
{
    it->at = data;
    it->end = it->at + len;
    it->count = 0;
}

int
gw_record_next (gw_record_iter_t *it, const char **topic, size_t *topic_len, const uint8_t **body,
                size_t *len)
{
    if (it->at == it->end)
        return 0;
    size_t left = (size_t) (it->end - it->at);
    if (left < 2 || it->count >= GW_BATCH_MAX_RECORDS)
        return -1;
    size_t tl = (size_t) it->at[0] << 8 | it->at[1];
    if (left < 2 + tl + 4)
        return -1;
    const uint8_t *p = it->at + 2 + tl;
    size_t bl = (size_t) p[0] << 24 | (size_t) p[1] << 16 | (size_t) p[2] << 8 | p[3];
    if (bl > left - 2 - tl - 4)
        return -1;
    *topic = (const char *) it->at + 2;
    *topic_len = tl;
    *body = p + 4;
    *len = bl;
    it->at = p + 4 + bl;
    it->count++;
    return 1;
}
