/*  af_wire.c — protobuf wire format checked against a descriptor, so that
 *  protobuf-c 1.4.1's undefined-behaviour paths are never reached from the
 *  network (af_wire.h says which).  */
#include "af_wire.h"

/* Wire types protobuf-c reads; 3 and 4 (groups) and 6, 7 do not exist in
 * proto3 and are refused. */
enum { S_VARINT = 0, S_FIXED64 = 1, S_LEN = 2, S_FIXED32 = 5 };
/* A key carries a field number of at most 29 bits and 3 bits of wire type,
 * so its fifth byte holds four bits; protobuf-c shifts that byte by 25
 * into an int, so anything larger is undefined there. */
#define S_KEY_MAX_BYTES 5
#define S_KEY_LAST_BYTE_MAX 0x0f
#define S_VARINT_MAX_BYTES 10

/* Reads a varint of at most MAX_BYTES at P (before END); its length, or 0. */
static size_t
s_varint (const uint8_t *p, const uint8_t *end, size_t max_bytes, uint64_t *value)
{
    uint64_t v = 0;
    for (size_t i = 0; i < max_bytes && p + i < end; i++) {
        v |= (uint64_t) (p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *value = v;
            return i + 1;
        }
    }
    return 0;
}

/* The wire type a field of TYPE is written with. */
static unsigned
s_wire_of (ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
        return S_FIXED32;
    case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return S_FIXED64;
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_BYTES: case PROTOBUF_C_TYPE_MESSAGE:
        return S_LEN;
    default:
        return S_VARINT;
    }
}

/* DESC's field numbered NUMBER, or NULL.  protobuf-c's generated
 * descriptors list fields sorted by number; an inline binary search costs
 * less than the library's lookup on the relay's hot path. */
static const ProtobufCFieldDescriptor *
s_field (const ProtobufCMessageDescriptor *desc, unsigned number)
{
    size_t lo = 0, hi = desc->n_fields;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        unsigned id = desc->fields[mid].id;
        if (id == number)
            return &desc->fields[mid];
        if (id < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static bool s_check (const ProtobufCMessageDescriptor *desc, const uint8_t *p, const uint8_t *end,
                     int depth, af_wire_info_t *info);

/* Checks one length-delimited field's content (AT, LEN bytes) if FIELD
 * (NULL: unknown) is a message; records a field-less one in INFO. */
static bool
s_check_sub (const ProtobufCFieldDescriptor *field, unsigned number, const uint8_t *at, size_t len,
             int depth, af_wire_info_t *info)
{
    if (!field || field->type != PROTOBUF_C_TYPE_MESSAGE)
        return true;
    const ProtobufCMessageDescriptor *sub = field->descriptor;
    if (sub->n_fields == 0) {
        /* Only the caller may take one (and build it by hand). */
        if (!info)
            return false;
        info->empty_field = number;
        info->empty_count++;
    }
    return s_check (sub, at, at + len, depth + 1, NULL);
}

static bool
s_check (const ProtobufCMessageDescriptor *desc, const uint8_t *p, const uint8_t *end, int depth,
         af_wire_info_t *info)
{
    if (depth > AF_WIRE_MAX_DEPTH)
        return false;
    while (p < end) {
        uint64_t key, value;
        size_t n = s_varint (p, end, S_KEY_MAX_BYTES, &key);
        if (!n || (n == S_KEY_MAX_BYTES && p[n - 1] > S_KEY_LAST_BYTE_MAX) || (key >> 3) == 0)
            return false;
        p += n;
        if (info)
            info->fields++;
        unsigned number = (unsigned) (key >> 3), wire = (unsigned) (key & 7);
        /* A known field comes with its type's wire type (a repeated number
         * may come packed); unknown fields take any. */
        const ProtobufCFieldDescriptor *field = s_field (desc, number);
        if (field && wire != s_wire_of (field->type)
            && !(wire == S_LEN && field->label == PROTOBUF_C_LABEL_REPEATED))
            return false;
        switch (wire) {
        case S_VARINT:
            n = s_varint (p, end, S_VARINT_MAX_BYTES, &value);
            if (!n)
                return false;
            p += n;
            break;
        case S_FIXED64:
            if (end - p < 8)
                return false;
            p += 8;
            break;
        case S_FIXED32:
            if (end - p < 4)
                return false;
            p += 4;
            break;
        case S_LEN:
            n = s_varint (p, end, S_KEY_MAX_BYTES, &value);
            if (!n || value > (uint64_t) (end - p - (ptrdiff_t) n))
                return false;
            p += n;
            if (!s_check_sub (field, number, p, (size_t) value, depth, info))
                return false;
            p += value;
            break;
        default:
            return false;
        }
    }
    return true;
}

bool
af_wire_check (const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
               af_wire_info_t *info)
{
    if (info)
        *info = (af_wire_info_t) { 0 };
    const uint8_t *p = data;
    return len == 0 || s_check (desc, p, p + len, 0, info);
}
