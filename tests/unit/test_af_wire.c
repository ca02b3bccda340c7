/*  Unit tests: af_wire, the wire-format check that keeps hostile bytes away
 *  from protobuf-c 1.4.1's undefined behaviour (issue 17), and the control
 *  and envelope decoders built on it.  Run under UBSan by `make asan`.  */
#include <criterion/criterion.h>
#include <string.h>

#include "af_codec.h"
#include "af_test.h"
#include "af_wire.h"

/* The two inputs the issue names, and a field-less Heartbeat. */
static const uint8_t s_empty_stats[] = { 0x72, 0x00 };
static const uint8_t s_heartbeat[] = { 0x1a, 0x00 };
static const uint8_t s_long_key[] = { 0xff, 0xff, 0xff, 0xff, 0xff };

Test (wire, field_less_messages_are_built_without_protobuf_c)
{
    af_wire_info_t info;
    cr_assert (af_wire_check (&autofab__control__descriptor, s_heartbeat, 2, &info));
    cr_assert_eq (info.empty_field, AUTOFAB__CONTROL__MSG_HEARTBEAT);
    cr_assert_eq (info.fields, 1);
    Autofab__Control *ctl;
    cr_assert_eq (af_control_decode (s_heartbeat, 2, AF_MAX_MSG_BYTES, &ctl), AF_DECODE_OK);
    cr_assert_eq (ctl->msg_case, AUTOFAB__CONTROL__MSG_HEARTBEAT);
    autofab__control__free_unpacked (ctl, NULL);
    /* StatsRequest has a field (request_id) now: protobuf-c may unpack it. */
    cr_assert (af_wire_check (&autofab__control__descriptor, s_empty_stats, 2, &info));
    cr_assert_eq (info.empty_count, 0);
    cr_assert_eq (af_control_decode (s_empty_stats, 2, AF_MAX_MSG_BYTES, &ctl), AF_DECODE_OK);
    cr_assert_eq (ctl->msg_case, AUTOFAB__CONTROL__MSG_STATS_REQUEST);
    cr_assert_not_null (ctl->stats_request);
    autofab__control__free_unpacked (ctl, NULL);
    /* Every field-less type round-trips as the peers pack it. */
    const Autofab__Control__MsgCase cases[] = {
        AUTOFAB__CONTROL__MSG_HEARTBEAT, AUTOFAB__CONTROL__MSG_GOODBYE,
        AUTOFAB__CONTROL__MSG_LIST_REQUEST,
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Autofab__Heartbeat empty = AUTOFAB__HEARTBEAT__INIT;   /* same layout: a header only */
        Autofab__Control c = AUTOFAB__CONTROL__INIT;
        c.msg_case = cases[i];
        c.heartbeat = &empty;
        uint8_t buf[16];
        size_t len = autofab__control__pack (&c, buf);
        cr_assert_eq (af_control_decode (buf, len, AF_MAX_MSG_BYTES, &ctl), AF_DECODE_OK);
        cr_assert_eq (ctl->msg_case, cases[i]);
        autofab__control__free_unpacked (ctl, NULL);
    }
}

Test (wire, hostile_keys_and_mixtures_refused)
{
    Autofab__Control *ctl;
    cr_assert_not (af_wire_check (&autofab__control__descriptor, s_long_key, 5, NULL));
    cr_assert_eq (af_control_decode (s_long_key, 5, AF_MAX_MSG_BYTES, &ctl), AF_DECODE_MALFORMED);
    cr_assert_null (ctl);
    /* A five-byte key is fine while its field number fits 29 bits … */
    const uint8_t big_field[] = { 0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00 };
    cr_assert (af_wire_check (&autofab__control__descriptor, big_field, sizeof big_field, NULL));
    /* … and refused beyond, as are field 0, groups and truncation. */
    const uint8_t too_big[] = { 0xf8, 0xff, 0xff, 0xff, 0x1f, 0x00 };
    const uint8_t field0[] = { 0x00, 0x00 };
    const uint8_t group[] = { 0x0b, 0x0c };
    const uint8_t truncated[] = { 0x0a, 0x05, 0x0a };
    const uint8_t long_varint[] = { 0xa0, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    cr_assert_not (af_wire_check (&autofab__control__descriptor, too_big, sizeof too_big, NULL));
    cr_assert_not (af_wire_check (&autofab__control__descriptor, field0, sizeof field0, NULL));
    cr_assert_not (af_wire_check (&autofab__control__descriptor, group, sizeof group, NULL));
    cr_assert_not (af_wire_check (&autofab__control__descriptor, truncated, sizeof truncated, NULL));
    cr_assert_not (af_wire_check (&autofab__control__descriptor, long_varint, sizeof long_varint, NULL));
    /* A bad key inside a Register (field 1) is found too. */
    const uint8_t nested[] = { 0x0a, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff };
    cr_assert_eq (af_control_decode (nested, sizeof nested, AF_MAX_MSG_BYTES, &ctl), AF_DECODE_MALFORMED);
    /* A field-less message beside another field is never handed on. */
    const uint8_t mixed[] = { 0x22, 0x00, 0x1a, 0x00 };
    cr_assert_eq (af_control_decode (mixed, sizeof mixed, AF_MAX_MSG_BYTES, &ctl), AF_DECODE_MALFORMED);
    /* A known string field sent as a number. */
    const uint8_t wrong_wire[] = { 0x0a, 0x02, 0x08, 0x01 };   /* Register.name as varint */
    cr_assert_eq (af_control_decode (wrong_wire, sizeof wrong_wire, AF_MAX_MSG_BYTES, &ctl),
                  AF_DECODE_MALFORMED);
}

Test (wire, envelope_with_garbage_payload_refused)
{
    af_stamper_t *st = af_stamper_new ("line1", "giga");
    size_t len;
    uint8_t *good = aft_telemetry (st, "temp_c", 1.5, 1000, &len);
    cr_assert (af_wire_check (&autofab__envelope__descriptor, good, len, NULL));
    /* The header stays valid; the payload (field 10, Telemetry) becomes
     * bytes that are no message. */
    uint8_t *bad = malloc (len + 8);
    af_peek_t peek;
    cr_assert_eq (af_envelope_peek (good, len, &peek), AF_DECODE_OK);
    size_t hdr_len = 2 + (size_t) good[1];          /* key 0x0a, one-byte length */
    memcpy (bad, good, hdr_len);
    const uint8_t garbage[] = { 0x52, 0x04, 0xff, 0xff, 0xff, 0xff };
    memcpy (bad + hdr_len, garbage, sizeof garbage);
    size_t bad_len = hdr_len + sizeof garbage;
    cr_assert_eq (af_envelope_peek (bad, bad_len, &peek), AF_DECODE_OK, "the header must still peek");
    cr_assert_not (af_wire_check (&autofab__envelope__descriptor, bad, bad_len, NULL));
    Autofab__Envelope *env;
    cr_assert_eq (af_envelope_decode (bad, bad_len, AF_MAX_MSG_BYTES, &env), AF_DECODE_MALFORMED);
    free (bad);
    free (good);
    af_stamper_destroy (&st);
}

/* af_wire looks fields up by binary search: protoc-c must list them sorted
 * by number in every descriptor we check, nested ones included. */
static void
s_assert_sorted (const ProtobufCMessageDescriptor *desc, int depth)
{
    cr_assert_lt (depth, AF_WIRE_MAX_DEPTH, "%s nests too deep", desc->name);
    for (unsigned i = 0; i < desc->n_fields; i++) {
        if (i)
            cr_assert_lt (desc->fields[i - 1].id, desc->fields[i].id, "%s is not sorted", desc->name);
        if (desc->fields[i].type == PROTOBUF_C_TYPE_MESSAGE && desc->fields[i].descriptor != desc)
            s_assert_sorted (desc->fields[i].descriptor, depth + 1);
    }
}

Test (wire, descriptors_sorted_by_number)
{
    s_assert_sorted (&autofab__control__descriptor, 0);
    s_assert_sorted (&autofab__envelope__descriptor, 0);
}
