/*  bridge spb — Sparkplug B topics, payloads and sequence numbers (spb.h).  */
#include "spb.h"

#include <stdio.h>
#include <string.h>

static const char *const s_msg_names[SPB_MSG_TYPES] = {
    "NBIRTH", "NDEATH", "DBIRTH", "DDEATH", "NDATA", "DDATA", "NCMD", "DCMD", "STATE",
};

static const char *const s_type_names[] = {
    "Unknown", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float",
    "Double", "Boolean", "String", "DateTime", "Text", "UUID", "DataSet", "Bytes", "File",
    "Template", "PropertySet", "PropertySetList",
};

const char *
spb_msg_name (spb_msg_t type)
{
    return (unsigned) type < SPB_MSG_TYPES ? s_msg_names[type] : "?";
}

const char *
spb_type_name (uint32_t datatype)
{
    return datatype < sizeof s_type_names / sizeof s_type_names[0] ? s_type_names[datatype] : "Unknown";
}

static bool
s_is_device_msg (spb_msg_t t)
{
    return t == SPB_DBIRTH || t == SPB_DDEATH || t == SPB_DDATA || t == SPB_DCMD;
}

/* Copies one topic level (up to '/' or the end) into DST; its end or NULL
 * when it is empty or too long. */
static const char *
s_level (const char *p, char *dst)
{
    const char *end = strchr (p, '/');
    size_t n = end ? (size_t) (end - p) : strlen (p);
    if (n == 0 || n >= SPB_ID_MAX)
        return NULL;
    memcpy (dst, p, n);
    dst[n] = 0;
    return p + n;
}

int
spb_topic_parse (const char *topic, spb_topic_t *out)
{
    memset (out, 0, sizeof *out);
    size_t ns = strlen (SPB_NAMESPACE);
    if (!topic || strncmp (topic, SPB_NAMESPACE "/", ns + 1))
        return -1;
    const char *p = topic + ns + 1;
    char type[SPB_ID_MAX];
    if (!strncmp (p, "STATE/", 6)) {
        out->type = SPB_STATE;
        p = s_level (p + 6, out->node);
        return p && !*p ? 0 : -1;
    }
    if (!(p = s_level (p, out->group)) || *p++ != '/' || !(p = s_level (p, type)))
        return -1;
    int t = -1;
    for (int i = 0; i < SPB_STATE; i++)
        if (!strcmp (type, s_msg_names[i]))
            t = i;
    if (t < 0 || *p++ != '/' || !(p = s_level (p, out->node)))
        return -1;
    out->type = (spb_msg_t) t;
    if (s_is_device_msg (out->type)) {
        if (*p++ != '/' || !(p = s_level (p, out->device)))
            return -1;
    }
    return *p ? -1 : 0;
}

int
spb_topic_format (char *buf, size_t len, spb_msg_t type, const char *group, const char *node,
                  const char *device)
{
    int n;
    if (type == SPB_STATE)
        n = snprintf (buf, len, SPB_NAMESPACE "/STATE/%s", node);
    else if (s_is_device_msg (type))
        n = snprintf (buf, len, SPB_NAMESPACE "/%s/%s/%s/%s", group, s_msg_names[type], node, device);
    else
        n = snprintf (buf, len, SPB_NAMESPACE "/%s/%s/%s", group, spb_msg_name (type), node);
    return n > 0 && (size_t) n < len ? n : -1;
}

int
spb_payload_decode (const void *data, size_t len, Sparkplug__Payload **out, char *why, size_t why_len)
{
    *out = NULL;
    if (!data || len == 0) {
        /* An empty payload is a valid, empty protobuf message, but no
         * Sparkplug message is empty (each has at least a timestamp). */
        snprintf (why, why_len, "empty payload");
        return -1;
    }
    if (len > SPB_MAX_PAYLOAD_BYTES) {
        snprintf (why, why_len, "payload of %zu bytes is over the %u byte cap", len, SPB_MAX_PAYLOAD_BYTES);
        return -1;
    }
    *out = sparkplug__payload__unpack (NULL, len, data);
    if (!*out) {
        snprintf (why, why_len, "malformed protobuf payload (%zu bytes)", len);
        return -1;
    }
    return 0;
}

int
spb_metric_number (const Sparkplug__Metric *m, uint32_t datatype, double *out, char *why, size_t why_len)
{
    if (m->has_datatype)
        datatype = m->datatype;
    if (m->has_is_null && m->is_null)
        return 1;
    Sparkplug__Metric__ValueCase want;
    switch (datatype) {
    case SPARKPLUG__DATA_TYPE__DT_INT8: case SPARKPLUG__DATA_TYPE__DT_INT16:
    case SPARKPLUG__DATA_TYPE__DT_INT32: case SPARKPLUG__DATA_TYPE__DT_UINT8:
    case SPARKPLUG__DATA_TYPE__DT_UINT16: case SPARKPLUG__DATA_TYPE__DT_UINT32:
        want = SPARKPLUG__METRIC__VALUE_INT_VALUE; break;
    case SPARKPLUG__DATA_TYPE__DT_INT64: case SPARKPLUG__DATA_TYPE__DT_UINT64:
    case SPARKPLUG__DATA_TYPE__DT_DATETIME:
        want = SPARKPLUG__METRIC__VALUE_LONG_VALUE; break;
    case SPARKPLUG__DATA_TYPE__DT_FLOAT: want = SPARKPLUG__METRIC__VALUE_FLOAT_VALUE; break;
    case SPARKPLUG__DATA_TYPE__DT_DOUBLE: want = SPARKPLUG__METRIC__VALUE_DOUBLE_VALUE; break;
    case SPARKPLUG__DATA_TYPE__DT_BOOLEAN: want = SPARKPLUG__METRIC__VALUE_BOOLEAN_VALUE; break;
    default:
        snprintf (why, why_len, "data type %s (%u) is not numeric", spb_type_name (datatype), datatype);
        return -1;
    }
    if (m->value_case != want) {
        snprintf (why, why_len, "a %s metric without its value field", spb_type_name (datatype));
        return -1;
    }
    /* Signed types travel as two's complement in the unsigned fields. */
    switch (datatype) {
    case SPARKPLUG__DATA_TYPE__DT_INT8: *out = (int8_t) m->int_value; break;
    case SPARKPLUG__DATA_TYPE__DT_INT16: *out = (int16_t) m->int_value; break;
    case SPARKPLUG__DATA_TYPE__DT_INT32: *out = (int32_t) m->int_value; break;
    case SPARKPLUG__DATA_TYPE__DT_UINT8: *out = (uint8_t) m->int_value; break;
    case SPARKPLUG__DATA_TYPE__DT_UINT16: *out = (uint16_t) m->int_value; break;
    case SPARKPLUG__DATA_TYPE__DT_UINT32: *out = m->int_value; break;
    case SPARKPLUG__DATA_TYPE__DT_INT64: *out = (double) (int64_t) m->long_value; break;
    case SPARKPLUG__DATA_TYPE__DT_UINT64: case SPARKPLUG__DATA_TYPE__DT_DATETIME:
        *out = (double) m->long_value; break;
    case SPARKPLUG__DATA_TYPE__DT_FLOAT: *out = m->float_value; break;
    case SPARKPLUG__DATA_TYPE__DT_DOUBLE: *out = m->double_value; break;
    default: *out = m->boolean_value ? 1 : 0; break;
    }
    return 0;
}

const char *
spb_metric_unit (const Sparkplug__Metric *m)
{
    const Sparkplug__PropertySet *ps = m->properties;
    for (size_t i = 0; ps && i < ps->n_keys && i < ps->n_values; i++)
        if (ps->keys[i] && !strcmp (ps->keys[i], SPB_UNIT_KEY) && ps->values[i]
            && ps->values[i]->value_case == SPARKPLUG__PROPERTY_VALUE__VALUE_STRING_VALUE)
            return ps->values[i]->string_value;
    return NULL;
}
