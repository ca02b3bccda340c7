/*  test_cli_print — the operator tool's pure parts: argument parsers
 *  (cli/args.c) and the generic message printer (cli/print.c).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "af_args.h"

/* Runs FN into a memory stream and returns what it wrote (free it). */
#define CAPTURE(buf, ...) do { \
        size_t capture_len_; \
        FILE *out = open_memstream (&(buf), &capture_len_); \
        cr_assert_not_null (out); \
        __VA_ARGS__; \
        fclose (out); \
    } while (0)

/* ------------------------------------------------------------ arguments */

Test (cli_args, long_and_double)
{
    char err[128];
    long n;
    double d;
    cr_expect_eq (af_parse_long ("42", 1, 100, &n, err, sizeof err), 0);
    cr_expect_eq (n, 42);
    cr_expect_eq (af_parse_long ("0", 1, 100, &n, err, sizeof err), -1);
    cr_expect (strstr (err, "out of range"));
    cr_expect_eq (af_parse_long ("4x", 1, 100, &n, err, sizeof err), -1);
    cr_expect_eq (af_parse_long ("", 1, 100, &n, err, sizeof err), -1);
    cr_expect_eq (af_parse_long ("99999999999999999999999", 1, 100, &n, err, sizeof err), -1);
    cr_expect_eq (af_parse_double ("2.5", 0, 10, &d, err, sizeof err), 0);
    cr_expect_float_eq (d, 2.5, 1e-12);
    cr_expect_eq (af_parse_double ("nan", -1e9, 1e9, &d, err, sizeof err), -1);
    cr_expect_eq (af_parse_double ("inf", -INFINITY, INFINITY, &d, err, sizeof err), -1);
    cr_expect_eq (af_parse_double ("1e400", -INFINITY, INFINITY, &d, err, sizeof err), -1);
}

Test (cli_args, metric)
{
    cli_metric_t m;
    char err[128];
    cr_assert_eq (cli_parse_metric ("temp_c=71.5:degC", &m, err, sizeof err), 0);
    cr_expect_str_eq (m.name, "temp_c");
    cr_expect_float_eq (m.value, 71.5, 1e-12);
    cr_expect_str_eq (m.unit, "degC");
    cr_assert_eq (cli_parse_metric ("speed=-3", &m, err, sizeof err), 0);
    cr_expect_str_eq (m.unit, "");
    cr_expect_float_eq (m.value, -3, 1e-12);
    cr_expect_eq (cli_parse_metric ("speed", &m, err, sizeof err), -1);
    cr_expect_eq (cli_parse_metric ("=3", &m, err, sizeof err), -1);
    cr_expect_eq (cli_parse_metric ("a b=3", &m, err, sizeof err), -1);
    cr_expect_eq (cli_parse_metric ("speed=fast", &m, err, sizeof err), -1);
    cr_expect (strstr (err, "speed"));
    char long_text[400];
    memset (long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = 0;
    cr_expect_eq (cli_parse_metric (long_text, &m, err, sizeof err), -1);
}

Test (cli_args, param_kinds)
{
    cli_param_t p;
    char err[128];
    cr_assert_eq (cli_parse_param ("speed_upm=12.5", &p, err, sizeof err), 0);
    cr_expect_eq (p.kind, CLI_PARAM_NUM);
    cr_expect_float_eq (p.num, 12.5, 1e-12);
    cr_assert_eq (cli_parse_param ("urgent=true", &p, err, sizeof err), 0);
    cr_expect_eq (p.kind, CLI_PARAM_FLAG);
    cr_expect (p.flag);
    cr_assert_eq (cli_parse_param ("urgent=false", &p, err, sizeof err), 0);
    cr_expect_eq (p.kind, CLI_PARAM_FLAG);
    cr_expect (!p.flag);
    cr_assert_eq (cli_parse_param ("station=press 3", &p, err, sizeof err), 0);
    cr_expect_eq (p.kind, CLI_PARAM_TEXT);
    cr_expect_str_eq (p.text, "press 3");
    cr_assert_eq (cli_parse_param ("note=", &p, err, sizeof err), 0);
    cr_expect_eq (p.kind, CLI_PARAM_TEXT);
    cr_assert_eq (cli_parse_param ("x=nan", &p, err, sizeof err), 0);
    cr_expect_eq (p.kind, CLI_PARAM_TEXT);
    cr_expect_eq (cli_parse_param ("novalue", &p, err, sizeof err), -1);
}

Test (cli_args, severity_and_topic_head)
{
    int sev;
    char err[128];
    cr_expect_eq (cli_parse_severity ("critical", &sev, err, sizeof err), 0);
    cr_expect_eq (sev, AUTOFAB__ALARM__SEVERITY__SEVERITY_CRITICAL);
    cr_expect_eq (cli_parse_severity ("info", &sev, err, sizeof err), 0);
    cr_expect_eq (sev, AUTOFAB__ALARM__SEVERITY__SEVERITY_INFO);
    cr_expect_eq (cli_parse_severity ("loud", &sev, err, sizeof err), -1);
    char head[64];
    cli_topic_head ("tel.f1.c2.line.speed", 4, head, sizeof head);
    cr_expect_str_eq (head, "tel.f1.c2.line");
    cli_topic_head ("tel.f1", 4, head, sizeof head);
    cr_expect_str_eq (head, "tel.f1");
    cli_topic_head ("tel.f1.c2", 1, head, sizeof head);
    cr_expect_str_eq (head, "tel");
    cli_topic_head ("tel.f1.c2", 3, head, 5);
    cr_expect_str_eq (head, "tel.");
}

/* ------------------------------------------------------------- printing */

/* A telemetry envelope with a header, as the bus would decode it. */
typedef struct {
    Autofab__Envelope env;
    Autofab__Header hdr;
    Autofab__Telemetry tel;
    Autofab__Metric m[2];
    Autofab__Metric *mp[2];
    uint8_t id[2];
} s_fixture_t;

static void
s_fixture (s_fixture_t *f)
{
    autofab__envelope__init (&f->env);
    autofab__header__init (&f->hdr);
    autofab__telemetry__init (&f->tel);
    f->hdr.source = "line1";
    f->hdr.seq = 7;
    f->hdr.t_ns = 3723004000000ull;          /* 01:02:03.004 on day 43 */
    f->hdr.factory = "f1";
    f->hdr.session = 9;
    f->id[0] = 0xab;
    f->id[1] = 0x01;
    f->hdr.msg_id.data = f->id;
    f->hdr.msg_id.len = 2;
    f->env.header = &f->hdr;
    for (int i = 0; i < 2; i++) {
        autofab__metric__init (&f->m[i]);
        f->mp[i] = &f->m[i];
    }
    f->m[0].name = "temp_c";
    f->m[0].value = 71.5;
    f->m[0].unit = "degC";
    f->m[1].name = "speed";
    f->m[1].value = 0.1;
    f->tel.n_metrics = 2;
    f->tel.metrics = f->mp;
    f->env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY;
    f->env.telemetry = &f->tel;
}

Test (cli_print, telemetry_json)
{
    s_fixture_t f;
    s_fixture (&f);
    char *text = NULL;
    CAPTURE (text, cli_print_envelope (out, CLI_FMT_JSON, "tel.f1.c1.line1.state", &f.env, 2));
    cr_expect_str_eq (text,
                      "{\"topic\":\"tel.f1.c1.line1.state\",\"source\":\"line1\",\"seq\":7,"
                      "\"t_ns\":3723004000000,\"clock\":\"sim\",\"session\":9,\"factory\":\"f1\","
                      "\"msg_id\":\"ab01\",\"gap\":2,\"kind\":\"telemetry\",\"payload\":"
                      "{\"metrics\":[{\"name\":\"temp_c\",\"value\":71.5,\"unit\":\"degC\"},"
                      "{\"name\":\"speed\",\"value\":0.1}]}}\n");
    free (text);
}

Test (cli_print, telemetry_human)
{
    s_fixture_t f;
    s_fixture (&f);
    char *text = NULL;
    CAPTURE (text, cli_print_envelope (out, CLI_FMT_HUMAN, "tel.f1.c1.line1.state", &f.env, 2));
    cr_expect_str_eq (text, "tel.f1.c1.line1.state line1#7 sim+01:02:03.004 telemetry "
                            "{metrics=[temp_c=71.5degC speed=0.1]} (gap 2)\n");
    free (text);
    /* People read 6 significant digits; JSON keeps every digit. */
    f.m[0].value = 60.119928012958887;
    CAPTURE (text, cli_print_envelope (out, CLI_FMT_HUMAN, "tel.f1.c1.line1.state", &f.env, 0));
    cr_expect (strstr (text, "temp_c=60.1199degC") != NULL, "%s", text);
    free (text);
    CAPTURE (text, cli_print_envelope (out, CLI_FMT_JSON, "tel.f1.c1.line1.state", &f.env, 0));
    cr_expect (strstr (text, "\"value\":60.119928012958887") != NULL, "%s", text);
    free (text);
}

Test (cli_print, alarm_enum_names)
{
    s_fixture_t f;
    s_fixture (&f);
    Autofab__Alarm alarm = AUTOFAB__ALARM__INIT;
    alarm.severity = AUTOFAB__ALARM__SEVERITY__SEVERITY_CRITICAL;
    alarm.code = "E42";
    alarm.text = "belt stopped";
    alarm.active = true;
    f.env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_ALARM;
    f.env.alarm = &alarm;
    char *text = NULL;
    CAPTURE (text, cli_print_message (out, CLI_FMT_HUMAN, &alarm.base));
    cr_expect_str_eq (text, "{severity=critical code=E42 text=\"belt stopped\" active=true}");
    free (text);
    CAPTURE (text, cli_print_message (out, CLI_FMT_JSON, &alarm.base));
    cr_expect_str_eq (text, "{\"severity\":\"SEVERITY_CRITICAL\",\"code\":\"E42\","
                            "\"text\":\"belt stopped\",\"active\":true}");
    free (text);
}

/* Hostile input: no header, a payload case without its pointer, unknown
 * enum values, non-finite numbers. */
Test (cli_print, missing_fields_do_not_crash)
{
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_EVENT;
    env.event = NULL;
    char *text = NULL;
    CAPTURE (text, cli_print_envelope (out, CLI_FMT_JSON, "evt.x", &env, 0));
    cr_expect_str_eq (text, "{\"topic\":\"evt.x\",\"source\":\"\",\"seq\":0,\"t_ns\":0,"
                            "\"gap\":0,\"kind\":\"\",\"payload\":null}\n");
    free (text);
    CAPTURE (text, cli_print_envelope (out, CLI_FMT_HUMAN, "evt.x", &env, 0));
    cr_expect_str_eq (text, "evt.x ?#0 sim+00:00:00.000 (empty)\n");
    free (text);
    CAPTURE (text, cli_print_envelope (out, CLI_FMT_JSON, "evt.x", NULL, 0));
    cr_expect (strstr (text, "\"payload\":null"));
    free (text);

    Autofab__Alarm alarm = AUTOFAB__ALARM__INIT;
    alarm.severity = 77;
    Autofab__Metric m = AUTOFAB__METRIC__INIT;
    m.name = NULL;
    m.value = NAN;
    CAPTURE (text, cli_print_message (out, CLI_FMT_JSON, &alarm.base));
    cr_expect_str_eq (text, "{\"severity\":77,\"active\":false}");
    free (text);
    CAPTURE (text, cli_print_message (out, CLI_FMT_JSON, &m.base));
    cr_expect_str_eq (text, "{\"value\":\"NaN\"}");
    free (text);
    CAPTURE (text, cli_print_message (out, CLI_FMT_HUMAN, &m.base));
    cr_expect_str_eq (text, "\"\"=NaN");
    free (text);
}

Test (cli_print, strings_are_escaped)
{
    char *text = NULL;
    const char evil[] = "a\"b\\c\n\x1b[2J\xff\xc3\xa9\xc2\x9b";
    CAPTURE (text, cli_print_json_string (out, evil, strlen (evil)));
    cr_expect_str_eq (text, "\"a\\\"b\\\\c\\n\\u001b[2J\\ufffd\xc3\xa9\\ufffd\\ufffd\"");
    free (text);
    Autofab__Event ev = AUTOFAB__EVENT__INIT;
    ev.kind = (char *) evil;
    CAPTURE (text, cli_print_message (out, CLI_FMT_HUMAN, &ev.base));
    cr_expect_str_eq (text, "{kind=\"a\\\"b\\\\c??[2J?\xc3\xa9??\"}");
    free (text);
    char safe[16];
    cli_sanitize ("ab\x1b\xc3\xa9xyz", safe, sizeof safe);
    cr_expect_str_eq (safe, "ab?\xc3\xa9xyz");
    cli_sanitize ("abc\xc3\xa9", safe, 5);
    cr_expect_str_eq (safe, "abc");
    cli_sanitize (NULL, safe, sizeof safe);
    cr_expect_str_eq (safe, "");
}

/* Typed bodies of a known type print as that type; unknown or garbage ones
 * as type and hex. */
Test (cli_print, typed_payloads)
{
    Autofab__TickAck ack = AUTOFAB__TICK_ACK__INIT;
    ack.epoch = 5;
    ack.commands = 2;
    uint8_t packed[32];
    size_t len = autofab__tick_ack__pack (&ack, packed);
    Autofab__Typed typed = AUTOFAB__TYPED__INIT;
    typed.type = "autofab.TickAck";
    typed.data.data = packed;
    typed.data.len = len;
    char *text = NULL;
    CAPTURE (text, cli_print_message (out, CLI_FMT_JSON, &typed.base));
    cr_expect_str_eq (text, "{\"type\":\"autofab.TickAck\",\"value\":{\"epoch\":5,\"commands\":2}}");
    free (text);
    CAPTURE (text, cli_print_message (out, CLI_FMT_HUMAN, &typed.base));
    cr_expect_str_eq (text, "autofab.TickAck{epoch=5 commands=2}");
    free (text);

    typed.type = "autofab.twin.NoSuchThing";
    CAPTURE (text, cli_print_message (out, CLI_FMT_JSON, &typed.base));
    cr_expect_str_eq (text, "{\"type\":\"autofab.twin.NoSuchThing\",\"data\":\"08051002\"}");
    free (text);

    uint8_t garbage[] = { 0xff, 0xff, 0xff };
    typed.type = "autofab.TickAck";
    typed.data.data = garbage;
    typed.data.len = sizeof garbage;
    CAPTURE (text, cli_print_message (out, CLI_FMT_JSON, &typed.base));
    cr_expect_str_eq (text, "{\"type\":\"autofab.TickAck\",\"data\":\"ffffff\"}");
    free (text);
}

Test (cli_print, find_type)
{
    cr_expect_eq (cli_find_type ("autofab.Telemetry"), &autofab__telemetry__descriptor);
    cr_expect_eq (cli_find_type ("autofab.AgentInfo"), &autofab__agent_info__descriptor);
    cr_expect_null (cli_find_type ("autofab.Nope"));
    cr_expect_null (cli_find_type (""));
    cr_expect_null (cli_find_type ("a;rm -rf"));
    cr_expect_null (cli_find_type (NULL));
}

Test (cli_print, command_result_with_params)
{
    Autofab__Param p[3];
    Autofab__Param *pp[3];
    for (int i = 0; i < 3; i++) {
        autofab__param__init (&p[i]);
        pp[i] = &p[i];
    }
    p[0].name = "n";
    p[0].value_case = AUTOFAB__PARAM__VALUE_NUM;
    p[0].num = 0;                           /* a set oneof prints even if zero */
    p[1].name = "ok";
    p[1].value_case = AUTOFAB__PARAM__VALUE_FLAG;
    p[1].flag = false;
    p[2].name = "who";
    p[2].value_case = AUTOFAB__PARAM__VALUE_TEXT;
    p[2].text = "robot 3";
    Autofab__CommandResult r = AUTOFAB__COMMAND_RESULT__INIT;
    r.n_results = 3;
    r.results = pp;
    char *text = NULL;
    CAPTURE (text, cli_print_message (out, CLI_FMT_JSON, &r.base));
    cr_expect_str_eq (text, "{\"status\":0,\"results\":[{\"name\":\"n\",\"num\":0},{\"name\":\"ok\","
                            "\"flag\":false},{\"name\":\"who\",\"text\":\"robot 3\"}]}");
    free (text);
    CAPTURE (text, cli_print_message (out, CLI_FMT_HUMAN, &r.base));
    cr_expect_str_eq (text, "{results=[n=0 ok=false who=\"robot 3\"]}");
    free (text);
}

/* ------------------------------------------------- issue 18 additions */

Test (cli_args, durations)
{
    char err[160];
    int64_t ms;
    cr_expect_eq (cli_parse_duration_ms ("2s", 1, 100000, &ms, err, sizeof err), 0);
    cr_expect_eq (ms, 2000);
    cr_expect_eq (cli_parse_duration_ms ("500ms", 1, 100000, &ms, err, sizeof err), 0);
    cr_expect_eq (ms, 500);
    cr_expect_eq (cli_parse_duration_ms ("1.5m", 1, 1000000, &ms, err, sizeof err), 0);
    cr_expect_eq (ms, 90000);
    cr_expect_eq (cli_parse_duration_ms ("3", 1, 100000, &ms, err, sizeof err), 0);
    cr_expect_eq (ms, 3000, "a bare number is seconds");
    cr_expect_eq (cli_parse_duration_ms ("1h", 1, 3600000, &ms, err, sizeof err), 0);
    cr_expect_eq (ms, 3600000);
    cr_expect_eq (cli_parse_duration_ms ("2x", 1, 100000, &ms, err, sizeof err), -1);
    cr_expect (strstr (err, "not a duration"), "%s", err);
    cr_expect_eq (cli_parse_duration_ms ("", 1, 100000, &ms, err, sizeof err), -1);
    cr_expect_eq (cli_parse_duration_ms ("ms", 1, 100000, &ms, err, sizeof err), -1);
    cr_expect_eq (cli_parse_duration_ms ("nans", 1, 100000, &ms, err, sizeof err), -1);
    cr_expect_eq (cli_parse_duration_ms ("-1s", 1, 100000, &ms, err, sizeof err), -1);
    cr_expect_eq (cli_parse_duration_ms ("200s", 1, 100000, &ms, err, sizeof err), -1);
    cr_expect (strstr (err, "between"), "%s", err);
}

Test (cli_print, sim_and_wall_times)
{
    char buf[48];
    cli_format_time (84600ull * 1000000000ull, buf, sizeof buf);
    cr_expect_str_eq (buf, "sim+23:30:00.000");
    cli_format_time ((3ull * 86400 + 3600) * 1000000000ull + 5000000, buf, sizeof buf);
    cr_expect_str_eq (buf, "sim+3d01:00:00.005");
    /* 2026-12-04 16:00:00.250 UTC */
    cli_format_time (1796400000250000000ull, buf, sizeof buf);
    cr_expect_str_eq (buf, "16:00:00.250Z");
}

/* A metric whose value is 0 keeps its value in JSON (it was dropped). */
Test (cli_print, json_keeps_zero_values)
{
    Autofab__Metric m = AUTOFAB__METRIC__INIT;
    m.name = "rpm";
    m.value = 0;
    char *text = NULL;
    CAPTURE (text, cli_print_message (out, CLI_FMT_JSON, &m.base));
    cr_expect_str_eq (text, "{\"name\":\"rpm\",\"value\":0}");
    free (text);
}

Test (cli_print, fields_and_format)
{
    s_fixture_t f;
    s_fixture (&f);
    const char *fields[] = { "speed", "nope" };
    cli_print_opts_t opts = { .fmt = CLI_FMT_HUMAN, .fields = fields, .n_fields = 2 };
    char *text = NULL;
    CAPTURE (text, cli_print_envelope_opts (out, &opts, "tel.a", &f.env, 0));
    cr_expect_str_eq (text, "tel.a line1#7 sim+01:02:03.004 speed=0.1 nope=-\n");
    free (text);
    opts.fmt = CLI_FMT_JSON;
    CAPTURE (text, cli_print_envelope_opts (out, &opts, "tel.a", &f.env, 0));
    cr_expect (strstr (text, "\"fields\":{\"speed\":0.1,\"nope\":null}"), "%s", text);
    free (text);
    cli_print_opts_t fmt = { .format = "{source}\\t{temp_c} {kind} {{x} {missing} {seq" };
    CAPTURE (text, cli_print_envelope_opts (out, &fmt, "tel.a", &f.env, 0));
    cr_expect_str_eq (text, "line1\t71.5degC telemetry {x} - {seq\n");
    free (text);
}
