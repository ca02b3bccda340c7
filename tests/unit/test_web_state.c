/*  Unit tests of the dashboard's pure parts: the bounded buffer and its
 *  escapes (web_buf), and the plant model with its JSON and Prometheus
 *  renderings (web_state), fed with hostile as well as ordinary messages.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "twin.pb-c.h"
#include "web/web_buf.h"
#include "web/web_state.h"

/* ------------------------------------------------------------ helpers */

static Autofab__Header s_header = AUTOFAB__HEADER__INIT;
/* The header time s_apply_metrics stamps (1 simulated hour). */
static uint64_t s_t_ns = 3600000000000ull;

static void
s_apply_metrics (web_state_t *st, const char *topic, const char *const *names, const double *values, size_t n)
{
    Autofab__Metric m[16], *pm[16];
    for (size_t i = 0; i < n && i < 16; i++) {
        autofab__metric__init (&m[i]);
        m[i].name = (char *) names[i];
        m[i].value = values[i];
        pm[i] = &m[i];
    }
    Autofab__Telemetry tel = AUTOFAB__TELEMETRY__INIT;
    tel.metrics = pm;
    tel.n_metrics = n;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    s_header.source = "twin";
    s_header.t_ns = s_t_ns;
    env.header = &s_header;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY;
    env.telemetry = &tel;
    web_state_apply (st, topic, &env, 100, 0);
}

static void
s_apply_presence (web_state_t *st, const char *name, const char *kind, bool birth)
{
    Autofab__Presence p = AUTOFAB__PRESENCE__INIT;
    p.name = (char *) name;
    p.kind = (char *) kind;
    p.cell = "c1";
    p.state = birth ? AUTOFAB__PRESENCE__STATE__STATE_BIRTH : AUTOFAB__PRESENCE__STATE__STATE_DEATH;
    p.reason = birth ? "" : "expired";
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    s_header.source = "broker";
    env.header = &s_header;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_PRESENCE;
    env.presence = &p;
    char topic[128];
    snprintf (topic, sizeof topic, "sys.factory.c1.%s.%s", name, birth ? "birth" : "death");
    web_state_apply (st, topic, &env, 50, 0);
}

static char *
s_json (web_state_t *st, uint64_t since)
{
    web_buf_t b;
    web_buf_init (&b, 1 << 22);
    web_state_json (st, since, &b);
    cr_assert (!b.truncated);
    return b.data;
}

static char *
s_metrics (web_state_t *st)
{
    web_buf_t b;
    web_buf_init (&b, 1 << 22);
    web_state_metrics (st, &b);
    cr_assert (!b.truncated);
    return b.data;
}

/* True if python3 accepts TEXT as JSON. */
static bool
s_valid_json (const char *text)
{
    FILE *p = popen ("python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null", "w");
    if (!p)
        return false;
    fputs (text, p);
    return pclose (p) == 0;
}

/* Every sample line belongs to a metric announced by # TYPE (and # HELP). */
static void
s_check_exposition (const char *text)
{
    char *copy = strdup (text), *save = NULL;
    char typed[64][96];
    int n_typed = 0;
    for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        if (!strncmp (line, "# TYPE ", 7)) {
            cr_assert_lt (n_typed, 64);
            sscanf (line + 7, "%95s", typed[n_typed++]);
            continue;
        }
        if (line[0] == '#')
            continue;
        char name[96];
        size_t len = strcspn (line, "{ ");
        cr_assert_lt (len, sizeof name);
        memcpy (name, line, len);
        name[len] = '\0';
        bool found = false;
        for (int i = 0; i < n_typed && !found; i++)
            found = !strcmp (typed[i], name);
        cr_assert (found, "sample '%s' has no # TYPE line", line);
    }
    free (copy);
}

/* ------------------------------------------------------------ web_buf */

Test (web_buf, json_escapes_everything_hostile)
{
    web_buf_t b;
    web_buf_init (&b, 4096);
    web_buf_json_str (&b, "a\"b\\c\n</script><img src=x>&\x01\xff\xc3\xa9");
    cr_assert_str_eq (b.data, "\"a\\\"b\\\\c\\n\\u003c/script\\u003e\\u003cimg src=x\\u003e\\u0026\\u0001\\ufffd\xc3\xa9\"");
    cr_assert (s_valid_json (b.data));
    web_buf_free (&b);
}

Test (web_buf, numbers_and_labels)
{
    web_buf_t b;
    web_buf_init (&b, 4096);
    web_buf_json_num (&b, NAN);
    web_buf_puts (&b, " ");
    web_buf_json_num (&b, 42);
    web_buf_puts (&b, " ");
    web_buf_prom_num (&b, INFINITY);
    web_buf_puts (&b, " ");
    web_buf_prom_num (&b, NAN);
    web_buf_puts (&b, " ");
    web_buf_prom_label (&b, "we\"ld\\\n\x02x");
    cr_assert_str_eq (b.data, "null 42 +Inf NaN we\\\"ld\\\\\\nx");
    web_buf_free (&b);
}

Test (web_buf, never_grows_past_its_cap)
{
    web_buf_t b;
    web_buf_init (&b, 16);
    web_buf_puts (&b, "0123456789");
    web_buf_puts (&b, "0123456789");
    cr_assert (b.truncated);
    cr_assert_leq (b.len, 15);
    web_buf_printf (&b, "%0200d", 1);
    cr_assert_leq (b.len, 15);
    web_buf_free (&b);
}

/* ------------------------------------------------------------ web_state */

Test (web_state, station_telemetry_to_json_and_metrics)
{
    web_state_t *st = web_state_new (NULL);
    const char *names[] = { "state", "buffer_level", "speed", "vibration_rms_mm_s", "temp_c" };
    const double values[] = { 2, 7, 0.9, 1.25, 41.5 };
    s_apply_metrics (st, "tel.factory.plant.twin.station.weld", names, values, 5);
    char *json = s_json (st, 0);
    cr_assert (strstr (json, "\"name\":\"weld\""), "%s", json);
    cr_assert (strstr (json, "\"state\":\"blocked\""), "%s", json);
    cr_assert (strstr (json, "\"buffer_level\":7"), "%s", json);
    cr_assert (s_valid_json (json), "%s", json);
    char *prom = s_metrics (st);
    s_check_exposition (prom);
    cr_assert (strstr (prom, "autofab_station_state{station=\"weld\",state=\"blocked\"} 1\n"), "%s", prom);
    cr_assert (strstr (prom, "autofab_station_state{station=\"weld\",state=\"busy\"} 0\n"));
    cr_assert (strstr (prom, "autofab_station_buffer_level{station=\"weld\"} 7\n"));
    cr_assert (strstr (prom, "autofab_messages_total{class=\"tel\"} 1\n"));
    cr_assert (strstr (prom, "# HELP autofab_messages_total "));
    free (json);
    free (prom);
    web_state_destroy (&st);
    cr_assert_null (st);
}

Test (web_state, deltas_hold_only_what_changed)
{
    web_state_t *st = web_state_new (NULL);
    const char *names[] = { "state" };
    const double busy[] = { 1 };
    s_apply_metrics (st, "tel.factory.plant.twin.station.weld", names, busy, 1);
    s_apply_metrics (st, "tel.factory.plant.twin.station.paint", names, busy, 1);
    uint64_t v = web_state_version (st);
    const double down[] = { 3 };
    s_apply_metrics (st, "tel.factory.plant.twin.station.paint", names, down, 1);
    char *json = s_json (st, v);
    cr_assert (strstr (json, "\"full\":false"));
    cr_assert (strstr (json, "\"paint\""), "%s", json);
    cr_assert_null (strstr (json, "\"weld\""), "%s", json);
    cr_assert (strstr (json, "\"state\":\"down\""));
    free (json);
    web_state_destroy (&st);
}

Test (web_state, plant_sections_kpis_broker_and_presence)
{
    web_state_t *st = web_state_new ("factory");
    const char *en[] = { "grid_kw", "solar_kw", "battery_soc", "price_per_kwh" };
    const double ev[] = { 300, 40, 0.5, 0.14 };
    /* The twin's report at simulated time 0 is no reading: no chart point
     * (it drew a false 0 kW at the start). */
    const double zeros[4] = { 0, 0, 0, 0 };
    s_t_ns = 0;
    s_apply_metrics (st, "tel.factory.plant.twin.energy", en, zeros, 4);
    s_t_ns = 3600000000000ull;
    s_apply_metrics (st, "tel.factory.plant.twin.energy", en, ev, 4);
    const char *ln[] = { "units", "robots_busy" };
    const double lv[] = { 120, 2 };
    s_apply_metrics (st, "tel.factory.plant.twin.line", ln, lv, 2);
    const char *inv[] = { "warehouse", "bin" };
    const double iv[] = { 500, 20 };
    s_apply_metrics (st, "tel.factory.plant.twin.inventory.cell", inv, iv, 2);
    const char *rn[] = { "busy", "node", "tasks_queued", "utilisation" };
    const double rv[] = { 1, 4, 2, 0.25 };
    s_apply_metrics (st, "tel.factory.plant.twin.robot.amr0", rn, rv, 4);
    const char *bn[] = { "relayed_msgs", "agents" };
    const double bv[] = { 12345, 3 };
    s_apply_metrics (st, "sys.factory.broker.broker.stats", bn, bv, 2);
    /* Another factory is not ours. */
    s_apply_metrics (st, "tel.other.plant.twin.line", ln, lv, 2);
    s_apply_presence (st, "twin", "twin", true);
    s_apply_presence (st, "line1", "line", true);
    s_apply_presence (st, "line1", "line", false);
    Autofab__Twin__Kpis k = AUTOFAB__TWIN__KPIS__INIT;
    k.oee_pct = 81.5;
    k.throughput_uph = 47;
    uint8_t buf[256];
    size_t len = autofab__twin__kpis__pack (&k, buf);
    web_state_apply_kpis (st, buf, len);

    char svc[64];
    cr_assert (web_state_twin_service (st, svc, sizeof svc));
    cr_assert_str_eq (svc, "twin");
    char *prom = s_metrics (st);
    s_check_exposition (prom);
    cr_assert (strstr (prom, "autofab_agents_alive 1\n"), "%s", prom);
    cr_assert (strstr (prom, "autofab_agent_up{agent=\"line1\",kind=\"line\",cell=\"c1\"} 0\n"));
    cr_assert (strstr (prom, "autofab_kpi{name=\"oee_pct\"} 81.5\n"));
    cr_assert (strstr (prom, "autofab_broker_relayed_msgs_total 12345\n"));
    cr_assert (strstr (prom, "# TYPE autofab_broker_relayed_msgs_total counter\n"));
    cr_assert (strstr (prom, "autofab_energy_grid_kw 300\n"));
    cr_assert (strstr (prom, "autofab_line_units 120\n"));
    cr_assert (strstr (prom, "autofab_inventory_units{part=\"cell\",where=\"warehouse\"} 500\n"));
    cr_assert (strstr (prom, "autofab_robot_tasks_queued{robot=\"amr0\"} 2\n"), "%s", prom);
    cr_assert (strstr (prom, "autofab_messages_total{class=\"tel\"} 5\n"), "%s", prom);
    char *json = s_json (st, 0);
    cr_assert (s_valid_json (json), "%s", json);
    cr_assert (strstr (json, "\"energy_points\":[[1,300,40,0.5,0.14]]"), "%s", json);
    cr_assert (strstr (json, "\"text\":\"line1 left: expired\""), "%s", json);
    cr_assert (strstr (json, "\"robots\":[{\"name\":\"amr0\",\"busy\":1,\"node\":4"), "%s", json);
    free (json);
    free (prom);
    web_state_destroy (&st);
}

Test (web_state, hostile_names_are_escaped_everywhere)
{
    web_state_t *st = web_state_new (NULL);
    /* Names from message bodies (not topics) can hold anything. */
    Autofab__Twin__StationState ss = AUTOFAB__TWIN__STATION_STATE__INIT;
    ss.station = "w\"} 1\n# TYPE evil gauge\nevil{x=\"</script>";
    ss.status = AUTOFAB__TWIN__STATION_STATUS__STATION_DOWN;
    uint8_t buf[512];
    Autofab__Typed typed = AUTOFAB__TYPED__INIT;
    typed.type = "autofab.twin.StationState";
    typed.data.data = buf;
    typed.data.len = autofab__twin__station_state__pack (&ss, buf);
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    s_header.source = "x";
    env.header = &s_header;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TYPED;
    env.typed = &typed;
    web_state_apply (st, "tel.factory.plant.twin.station.w", &env, 10, 0);
    const char *names[] = { "temp\"<b>\n", "\xff\xfe" };
    const double values[] = { 1, INFINITY };
    s_apply_metrics (st, "tel.factory.c1.demo.st1", names, values, 2);
    Autofab__Alarm al = AUTOFAB__ALARM__INIT;
    al.severity = 99;            /* out of range: treated as info */
    al.code = "<img src=x onerror=alert(1)>";
    al.text = "\"quoted\"\n";
    al.active = true;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_ALARM;
    env.alarm = &al;
    web_state_apply (st, "alm.factory.c1.demo.overheat", &env, 10, 0);

    char *json = s_json (st, 0);
    cr_assert (s_valid_json (json), "%s", json);
    cr_assert_null (strstr (json, "<"), "raw '<' in %s", json);
    char *prom = s_metrics (st);
    s_check_exposition (prom);
    cr_assert_null (strstr (prom, "\nevil"), "%s", prom);
    cr_assert (strstr (prom, "autofab_alarms_active{severity=\"info\"} 1\n"), "%s", prom);
    free (json);
    free (prom);
    web_state_destroy (&st);
}

Test (web_state, tables_are_bounded)
{
    web_state_t *st = web_state_new (NULL);
    const char *names[] = { "state" };
    const double busy[] = { 1 };
    for (int i = 0; i < WEB_MAX_STATIONS + 50; i++) {
        char topic[96];
        snprintf (topic, sizeof topic, "tel.factory.plant.twin.station.s%d", i);
        s_apply_metrics (st, topic, names, busy, 1);
        snprintf (topic, sizeof topic, "tel.factory.c1.gen.k%d", i);
        s_apply_metrics (st, topic, names, busy, 1);
    }
    for (int i = 0; i < WEB_MAX_AGENTS + 10; i++) {
        char name[32];
        snprintf (name, sizeof name, "a%d", i);
        s_apply_presence (st, name, "demo", true);
    }
    char *prom = s_metrics (st);
    cr_assert_null (strstr (prom, "station=\"s128\""), "the first station past the cap");
    cr_assert (strstr (prom, "station=\"s127\""));
    cr_assert (strstr (prom, "autofab_agents_alive 256\n"), "agents capped");
    cr_assert_null (strstr (prom, "autofab_web_dropped_total 0\n"));
    char *json = s_json (st, 0);
    cr_assert (s_valid_json (json));
    /* The newest generic topic replaced the least recently updated one. */
    cr_assert (strstr (json, "tel.factory.c1.gen.k177"));
    cr_assert_null (strstr (json, "\"tel.factory.c1.gen.k0\""));
    free (json);
    free (prom);
    web_state_destroy (&st);
}

Test (web_state, rates_per_class)
{
    web_state_t *st = web_state_new (NULL);
    web_state_tick (st, 1000, NULL);
    const char *names[] = { "x" };
    const double v[] = { 1 };
    for (int i = 0; i < 10; i++)
        s_apply_metrics (st, "tel.factory.c1.a.k", names, v, 1);
    web_state_tick (st, 3000, NULL);
    char *prom = s_metrics (st);
    cr_assert (strstr (prom, "autofab_messages_per_second{class=\"tel\"} 5\n"), "%s", prom);
    free (prom);
    web_state_destroy (&st);
}

Test (web_state, odd_topics_and_payloads_never_crash)
{
    web_state_t *st = web_state_new ("factory");
    static const char *const topics[] = {
        "", ".", "..", "tel", "tel.", "tel.factory", "tel.factory.", "tel..plant.twin.station.x",
        "tel.factory.plant.twin.station.", "tel.factory.plant.twin.station.a.b.c.d.e.f.g.h.i",
        "sys.factory.broker.broker.stats.extra", "alm.factory", "evt.factory.c.a.k",
        "tel.factory.plant.twin.station.0123456789012345678901234567890123456789012345678901234567890123456789",
    };
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    Autofab__Telemetry tel = AUTOFAB__TELEMETRY__INIT;
    Autofab__Metric *null_metric = NULL;
    tel.metrics = &null_metric;  /* a NULL entry, as a careless decoder might leave */
    tel.n_metrics = 1;
    Autofab__Event ev = AUTOFAB__EVENT__INIT;
    Autofab__Alarm al = AUTOFAB__ALARM__INIT;
    Autofab__Presence pr = AUTOFAB__PRESENCE__INIT;
    Autofab__Typed ty = AUTOFAB__TYPED__INIT;
    ty.type = "autofab.twin.StationState";
    uint8_t junk[] = { 0xff, 0xff, 0xff, 0x01 };
    ty.data.data = junk;
    ty.data.len = sizeof junk;
    Autofab__ClockTick tick = AUTOFAB__CLOCK_TICK__INIT;
    for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++)
        for (int kind = 0; kind < 7; kind++) {
            env.header = kind % 2 ? NULL : &s_header;
            env.payload_case = (Autofab__Envelope__PayloadCase[]) {
                AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY, AUTOFAB__ENVELOPE__PAYLOAD_EVENT,
                AUTOFAB__ENVELOPE__PAYLOAD_ALARM, AUTOFAB__ENVELOPE__PAYLOAD_PRESENCE,
                AUTOFAB__ENVELOPE__PAYLOAD_TYPED, AUTOFAB__ENVELOPE__PAYLOAD_TICK,
                AUTOFAB__ENVELOPE__PAYLOAD__NOT_SET }[kind];
            /* The payload is a union: set the member that matches. */
            switch (kind) {
            case 0: env.telemetry = &tel; break;
            case 1: env.event = &ev; break;
            case 2: env.alarm = &al; break;
            case 3: env.presence = &pr; break;
            case 4: env.typed = &ty; break;
            case 5: env.tick = &tick; break;
            default: env.telemetry = NULL; break;
            }
            web_state_apply (st, topics[t], &env, 1, 1);
        }
    web_state_apply (st, NULL, &env, 0, 0);
    web_state_apply (st, "tel.factory.a.b.c", NULL, 0, 0);
    web_state_apply_kpis (st, junk, sizeof junk);
    char *json = s_json (st, 0);
    cr_assert (s_valid_json (json), "%s", json);
    char *prom = s_metrics (st);
    s_check_exposition (prom);
    free (json);
    free (prom);
    web_state_destroy (&st);
    web_state_destroy (&st);     /* NULL-safe */
}
