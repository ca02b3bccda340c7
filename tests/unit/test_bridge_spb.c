/*  Unit tests: bridge/spb.c — Sparkplug B topics, payloads, types, seq.  */
#include "bridge/spb.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test (bridge_spb, topics)
{
    spb_topic_t t;
    cr_assert_eq (spb_topic_parse ("spBv1.0/g1/DDATA/n1/d1", &t), 0);
    cr_assert (t.type == SPB_DDATA && !strcmp (t.group, "g1") && !strcmp (t.node, "n1")
               && !strcmp (t.device, "d1"));
    cr_assert_eq (spb_topic_parse ("spBv1.0/g1/NBIRTH/n1", &t), 0);
    cr_assert_eq (t.type, SPB_NBIRTH);
    cr_assert_eq (spb_topic_parse ("spBv1.0/STATE/host", &t), 0);
    cr_assert (t.type == SPB_STATE && !strcmp (t.node, "host"));
    static const char *const bad[] = {
        "spBv1.0/g1/NBIRTH/n1/d1", "spBv1.0/g1/DDATA/n1", "spBv1.0/g1/XDATA/n1", "spAv1.0/g/NDATA/n",
        "spBv1.0//NDATA/n", "spBv1.0/g/NDATA/", "spBv1.0/STATE/", "spBv1.0/STATE/a/b", "", "spBv1.0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq (spb_topic_parse (bad[i], &t), -1, "accepted '%s'", bad[i]);
    char buf[128];
    cr_assert_gt (spb_topic_format (buf, sizeof buf, SPB_DBIRTH, "g", "n", "d"), 0);
    cr_assert_str_eq (buf, "spBv1.0/g/DBIRTH/n/d");
    spb_topic_format (buf, sizeof buf, SPB_NDEATH, "g", "n", NULL);
    cr_assert_str_eq (buf, "spBv1.0/g/NDEATH/n");
}

Test (bridge_spb, payload_round_trip_and_types)
{
    Sparkplug__Metric m[3];
    for (int i = 0; i < 3; i++)
        sparkplug__metric__init (&m[i]);
    m[0].name = "t";
    m[0].has_datatype = true;
    m[0].datatype = SPARKPLUG__DATA_TYPE__DT_INT16;
    m[0].value_case = SPARKPLUG__METRIC__VALUE_INT_VALUE;
    m[0].int_value = 0xFFFF;               /* -1 as two's complement Int16 */
    m[1].has_alias = true;
    m[1].alias = 7;
    m[1].value_case = SPARKPLUG__METRIC__VALUE_FLOAT_VALUE;
    m[1].float_value = 2.5f;
    m[2].name = "s";
    m[2].has_datatype = true;
    m[2].datatype = SPARKPLUG__DATA_TYPE__DT_STRING;
    m[2].value_case = SPARKPLUG__METRIC__VALUE_STRING_VALUE;
    m[2].string_value = "hello";
    Sparkplug__Metric *mp[3] = { &m[0], &m[1], &m[2] };
    Sparkplug__Payload pl = SPARKPLUG__PAYLOAD__INIT;
    pl.has_seq = true;
    pl.seq = 255;
    pl.n_metrics = 3;
    pl.metrics = mp;
    uint8_t buf[256];
    size_t len = sparkplug__payload__pack (&pl, buf);
    Sparkplug__Payload *out;
    char why[128];
    cr_assert_eq (spb_payload_decode (buf, len, &out, why, sizeof why), 0, "%s", why);
    cr_assert_eq (out->seq, 255);
    double v;
    cr_assert_eq (spb_metric_number (out->metrics[0], 0, &v, why, sizeof why), 0);
    cr_assert_eq (v, -1.0);
    /* Without a datatype of its own, the birth's type applies. */
    cr_assert_eq (spb_metric_number (out->metrics[1], SPARKPLUG__DATA_TYPE__DT_FLOAT, &v, why, sizeof why), 0);
    cr_assert_eq (v, 2.5);
    cr_assert_eq (spb_metric_number (out->metrics[1], SPARKPLUG__DATA_TYPE__DT_INT32, &v, why, sizeof why), -1,
                  "a float value read as Int32 must be refused");
    cr_assert_eq (spb_metric_number (out->metrics[2], 0, &v, why, sizeof why), -1);
    cr_assert (strstr (why, "String"), "%s", why);
    sparkplug__payload__free_unpacked (out, NULL);
    cr_assert_eq (spb_seq_next (255), 0);
}

Test (bridge_spb, malformed_payloads_refused)
{
    char why[128];
    Sparkplug__Payload *out;
    static const uint8_t junk[][6] = {
        { 0x12, 0x05, 0x0a },                  /* metric length past the end */
        { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, /* endless varint key */
        { 0x18 },                              /* seq key without its value */
    };
    static const size_t lens[] = { 3, 6, 1 };
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq (spb_payload_decode (junk[i], lens[i], &out, why, sizeof why), -1, "junk %zu", i);
    cr_assert_eq (spb_payload_decode ("", 0, &out, why, sizeof why), -1);
    uint8_t *big = calloc (1, SPB_MAX_PAYLOAD_BYTES + 1);
    cr_assert_eq (spb_payload_decode (big, SPB_MAX_PAYLOAD_BYTES + 1, &out, why, sizeof why), -1);
    cr_assert (strstr (why, "cap"), "%s", why);
    free (big);
}
