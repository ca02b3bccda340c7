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
