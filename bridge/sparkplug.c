/*  bridge sparkplug — Sparkplug B edge node and host application over
 *  libmosquitto (see sparkplug.h).  */
#include "sparkplug.h"

#include "af_log.h"
#include "spb.h"

#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_METRIC_NAME_MAX 192
#define S_UNIT_MAX 24
/* Most metrics one bus message or one Sparkplug payload may carry here. */
#define S_MAX_METRICS 512
/* Most edge nodes a host tracks, and metrics a node's births declare. */
#define S_MAX_NODES 1024
#define S_MAX_NODE_METRICS 4096
#define S_REBIRTH_EVERY_MS 1000
#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 5000
#define S_COUNTERS_MS 1000

/* ---------------------------------------------------------------- types */

typedef struct bspb_client s_client_t;
struct bspb_client {
    bspb_t *owner;
    struct mosquitto *mosq;
    bool is_edge;
    bool connected, just_connected, connecting;
    int64_t retry_ms;
    int backoff_ms;
    uint64_t will_ts_ms;         /* host: the STATE timestamp of this session */
};

/* A metric our edge node publishes. */
typedef struct {
    char name[S_METRIC_NAME_MAX];
    char unit[S_UNIT_MAX];
    uint64_t alias;
    double value;
    uint64_t t_ms;
} s_out_metric_t;

typedef struct {
    bspb_t *owner;
    const bm_publish_t *cfg;
    char prefix[AF_TOPIC_MAX_BYTES];   /* literal prefix of the pattern */
    size_t prefix_len;
    s_out_metric_t *metrics;
    size_t n, cap;
    bool born, need_birth;
    int64_t last_data_ms;
} s_edge_dev_t;

/* A metric a consumed edge node declared in a birth. */
typedef struct {
    char device[SPB_ID_MAX];     /* "" for node metrics */
    char name[S_METRIC_NAME_MAX];
    char unit[S_UNIT_MAX];
    uint32_t datatype;
    bool has_alias;
    uint64_t alias;
} s_in_metric_t;

typedef struct {
    char group[SPB_ID_MAX], node[SPB_ID_MAX];
    bool born;
    uint64_t bdseq;
    uint8_t seq;
    s_in_metric_t *metrics;
    size_t n, cap;
    int64_t rebirth_asked_ms;
} s_node_t;

struct bspb {
    const bm_sparkplug_t *cfg;
    af_agent_t *agent;
    s_client_t edge, host;
    /* edge node */
    s_edge_dev_t *devs;
    uint64_t bdseq, bdseq_next;
    uint8_t seq;
    bool node_born;
    uint64_t next_alias;
    char own_prefix[AF_TOPIC_MAX_BYTES];   /* where the host side publishes */
    /* host application */
    s_node_t *nodes;
    size_t n_nodes;
    bspb_counters_t counters;
};

static uint64_t
s_now_ms (void)
{
    return af_clock_now_ns (NULL) / 1000000u;
}

/* ------------------------------------------------------------ publishing */

/* Packs PL and publishes it; the counters say what failed. */
static int
s_publish (s_client_t *c, const char *topic, const Sparkplug__Payload *pl, int qos, bool retain)
{
    size_t len = sparkplug__payload__get_packed_size (pl);
    uint8_t stack[4096];
    uint8_t *buf = len <= sizeof stack ? stack : malloc (len);
    if (!buf)
        return -1;
    sparkplug__payload__pack (pl, buf);
    int rc = mosquitto_publish (c->mosq, NULL, topic, (int) len, buf, qos, retain);
    if (buf != stack)
        free (buf);
    if (rc != MOSQ_ERR_SUCCESS) {
        c->owner->counters.publish_failed++;
        AF_LOG_ONCE (AF_LOG_WARN, "sparkplug: publish on %s failed: %s (counted; logged once)", topic,
                     mosquitto_strerror (rc));
        return -1;
    }
    return 0;
}

static void
s_metric_u64 (Sparkplug__Metric *m, const char *name, uint32_t type, uint64_t v)
{
    sparkplug__metric__init (m);
    m->name = (char *) name;
    m->has_datatype = true;
    m->datatype = type;
    m->value_case = SPARKPLUG__METRIC__VALUE_LONG_VALUE;
    m->long_value = v;
}

static void
s_metric_bool (Sparkplug__Metric *m, const char *name, bool v)
{
    sparkplug__metric__init (m);
    m->name = (char *) name;
    m->has_datatype = true;
    m->datatype = SPARKPLUG__DATA_TYPE__DT_BOOLEAN;
    m->value_case = SPARKPLUG__METRIC__VALUE_BOOLEAN_VALUE;
    m->boolean_value = v;
}

/* The NDEATH payload of the session with BDSEQ: the will, and the goodbye. */
static size_t
s_ndeath (uint64_t bdseq, uint8_t *buf, size_t cap)
{
    Sparkplug__Metric m;
    s_metric_u64 (&m, SPB_BDSEQ, SPARKPLUG__DATA_TYPE__DT_UINT64, bdseq);
    Sparkplug__Metric *mp = &m;
    Sparkplug__Payload pl = SPARKPLUG__PAYLOAD__INIT;
    pl.has_timestamp = true;
    pl.timestamp = s_now_ms ();
    pl.n_metrics = 1;
    pl.metrics = &mp;
    size_t len = sparkplug__payload__get_packed_size (&pl);
    return len <= cap ? sparkplug__payload__pack (&pl, buf) : 0;
}

static void
s_edge_topic (bspb_t *self, spb_msg_t type, const char *device, char *buf, size_t len)
{
    spb_topic_format (buf, len, type, self->cfg->group, self->cfg->edge_node, device);
}

/* DBIRTH: every metric of the device with name, alias, type and unit. */
static void
s_dbirth (bspb_t *self, s_edge_dev_t *d)
{
    size_t n = d->n;
    Sparkplug__Metric *ms = calloc (n ? n : 1, sizeof *ms);
    Sparkplug__Metric **mp = calloc (n ? n : 1, sizeof *mp);
    Sparkplug__PropertySet *ps = calloc (n ? n : 1, sizeof *ps);
    Sparkplug__PropertyValue *pv = calloc (n ? n : 1, sizeof *pv);
    Sparkplug__PropertyValue **pvp = calloc (n ? n : 1, sizeof *pvp);
    static char *keys[] = { SPB_UNIT_KEY };
    if (!ms || !mp || !ps || !pv || !pvp)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const s_out_metric_t *o = &d->metrics[i];
        sparkplug__metric__init (&ms[i]);
        ms[i].name = (char *) o->name;
        ms[i].has_alias = true;
        ms[i].alias = o->alias;
        ms[i].has_timestamp = true;
        ms[i].timestamp = o->t_ms;
        ms[i].has_datatype = true;
        ms[i].datatype = SPARKPLUG__DATA_TYPE__DT_DOUBLE;
        ms[i].value_case = SPARKPLUG__METRIC__VALUE_DOUBLE_VALUE;
        ms[i].double_value = o->value;
        if (o->unit[0]) {
            sparkplug__property_set__init (&ps[i]);
            sparkplug__property_value__init (&pv[i]);
            pv[i].has_type = true;
            pv[i].type = SPARKPLUG__DATA_TYPE__DT_STRING;
            pv[i].value_case = SPARKPLUG__PROPERTY_VALUE__VALUE_STRING_VALUE;
            pv[i].string_value = (char *) o->unit;
            pvp[i] = &pv[i];
            ps[i].n_keys = ps[i].n_values = 1;
            ps[i].keys = keys;
            ps[i].values = &pvp[i];
            ms[i].properties = &ps[i];
        }
        mp[i] = &ms[i];
    }
    Sparkplug__Payload pl = SPARKPLUG__PAYLOAD__INIT;
    pl.has_timestamp = pl.has_seq = true;
    pl.timestamp = s_now_ms ();
    self->seq = spb_seq_next (self->seq);
    pl.seq = self->seq;
    pl.n_metrics = n;
    pl.metrics = mp;
    char topic[256];
    s_edge_topic (self, SPB_DBIRTH, d->cfg->device, topic, sizeof topic);
    if (s_publish (&self->edge, topic, &pl, 0, false) == 0) {
        self->counters.births++;
        d->born = true;
        d->need_birth = false;
    }
done:
    free (ms);
    free (mp);
    free (ps);
    free (pv);
    free (pvp);
}

/* NBIRTH (seq 0, the session's bdSeq, the rebirth control), then a DBIRTH
 * for every device that has metrics. */
static void
s_births (bspb_t *self)
{
    Sparkplug__Metric m[2];
    s_metric_u64 (&m[0], SPB_BDSEQ, SPARKPLUG__DATA_TYPE__DT_UINT64, self->bdseq);
    s_metric_bool (&m[1], SPB_REBIRTH, false);
    Sparkplug__Metric *mp[2] = { &m[0], &m[1] };
    Sparkplug__Payload pl = SPARKPLUG__PAYLOAD__INIT;
    pl.has_timestamp = pl.has_seq = true;
    pl.timestamp = s_now_ms ();
    pl.seq = self->seq = 0;
    pl.n_metrics = 2;
    pl.metrics = mp;
    char topic[256];
    s_edge_topic (self, SPB_NBIRTH, NULL, topic, sizeof topic);
    if (s_publish (&self->edge, topic, &pl, 0, false) != 0)
        return;
    self->counters.births++;
    self->node_born = true;
    for (size_t i = 0; i < self->cfg->n_publish; i++) {
        self->devs[i].born = false;
        if (self->devs[i].n)
            s_dbirth (self, &self->devs[i]);
    }
}

static void
s_ddeath (bspb_t *self, s_edge_dev_t *d)
{
    Sparkplug__Payload pl = SPARKPLUG__PAYLOAD__INIT;
    pl.has_timestamp = pl.has_seq = true;
    pl.timestamp = s_now_ms ();
    self->seq = spb_seq_next (self->seq);
    pl.seq = self->seq;
    char topic[256];
    s_edge_topic (self, SPB_DDEATH, d->cfg->device, topic, sizeof topic);
    if (s_publish (&self->edge, topic, &pl, 0, false) == 0)
        self->counters.device_deaths++;
    d->born = false;
}

/* ------------------------------------------------------------ edge: bus side */

static s_out_metric_t *
s_out_metric (bspb_t *self, s_edge_dev_t *d, const char *name, bool *added)
{
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp (d->metrics[i].name, name))
            return &d->metrics[i];
    if (d->n == S_MAX_NODE_METRICS)
        return NULL;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        s_out_metric_t *m = realloc (d->metrics, cap * sizeof *m);
        if (!m)
            return NULL;
        d->metrics = m;
        d->cap = cap;
    }
    s_out_metric_t *m = &d->metrics[d->n++];
    memset (m, 0, sizeof *m);
    snprintf (m->name, sizeof m->name, "%s", name);
    m->alias = self->next_alias++;
    *added = true;
    return m;
}

/* Bus telemetry → the device's metrics ("<topic below the pattern's
 * prefix, '/' for '.'>/<metric>"), then DBIRTH or DDATA. */
static void
s_on_bus (af_agent_t *agent, const af_msg_t *msg, void *arg)
{
    (void) agent;
    s_edge_dev_t *d = arg;
    bspb_t *self = d->owner;
    const Autofab__Envelope *env = msg->env;
    if (env->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY)
        return;
    /* What our own host side forwards is not sent back out. */
    if (!strncmp (msg->topic, self->own_prefix, strlen (self->own_prefix)))
        return;
    char path[AF_TOPIC_MAX_BYTES] = "";
    size_t tl = strlen (msg->topic);
    if (tl > d->prefix_len)
        snprintf (path, sizeof path, "%s", msg->topic + d->prefix_len);
    for (char *p = path; *p; p++)
        if (*p == '.')
            *p = '/';
    size_t n = env->telemetry->n_metrics < S_MAX_METRICS ? env->telemetry->n_metrics : S_MAX_METRICS;
    uint64_t t_ms = env->header->t_ns / 1000000u;
    s_out_metric_t *hit[n ? n : 1];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const Autofab__Metric *am = env->telemetry->metrics[i];
        char name[S_METRIC_NAME_MAX];
        snprintf (name, sizeof name, "%s%s%s", path, *path ? "/" : "", am->name ? am->name : "");
        bool added = false;
        s_out_metric_t *o = s_out_metric (self, d, name, &added);
        if (!o)
            continue;
        if (added)
            d->need_birth = true;
        o->value = am->value;
        o->t_ms = t_ms;
        if (am->unit && strcmp (o->unit, am->unit)) {
            snprintf (o->unit, sizeof o->unit, "%s", am->unit);
            d->need_birth = true;
        }
        hit[k++] = o;
    }
    d->last_data_ms = af_clock_mono_ms ();
    if (!self->edge.connected || !self->node_born) {
        self->counters.dropped_offline++;
        return;
    }
    if (!d->born || d->need_birth) {
        s_dbirth (self, d);
        return;
    }
    Sparkplug__Metric ms[k ? k : 1];
    Sparkplug__Metric *mp[k ? k : 1];
    for (size_t i = 0; i < k; i++) {
        /* After the birth, data carries the alias only (specification
         * 7.5: aliases save the name on every message). */
        sparkplug__metric__init (&ms[i]);
        ms[i].has_alias = ms[i].has_timestamp = true;
        ms[i].alias = hit[i]->alias;
        ms[i].timestamp = hit[i]->t_ms;
        ms[i].value_case = SPARKPLUG__METRIC__VALUE_DOUBLE_VALUE;
        ms[i].double_value = hit[i]->value;
        mp[i] = &ms[i];
    }
    Sparkplug__Payload pl = SPARKPLUG__PAYLOAD__INIT;
    pl.has_timestamp = pl.has_seq = true;
    pl.timestamp = t_ms;
    self->seq = spb_seq_next (self->seq);
    pl.seq = self->seq;
    pl.n_metrics = k;
    pl.metrics = mp;
    char topic[256];
    s_edge_topic (self, SPB_DDATA, d->cfg->device, topic, sizeof topic);
    if (s_publish (&self->edge, topic, &pl, 0, false) == 0)
        self->counters.data_sent++;
}

/* ------------------------------------------------------------ edge: MQTT side */

/* NCMD: Node Control/Rebirth = true gets new births; other commands are
 * not supported (writes go through the bus service, checked by the map). */
static void
s_edge_message (bspb_t *self, const spb_topic_t *t, const void *data, size_t len)
{
    if (t->type == SPB_DCMD) {
        AF_LOG_ONCE (AF_LOG_WARN, "sparkplug: DCMD is not supported (writes go through the bridge's "
                     "service); ignored, logged once");
        return;
    }
    Sparkplug__Payload *pl;
    char why[160];
    if (spb_payload_decode (data, len, &pl, why, sizeof why) != 0) {
        self->counters.bad_payloads++;
        AF_LOG_ONCE (AF_LOG_WARN, "sparkplug: refused an NCMD: %s (counted; logged once)", why);
        return;
    }
    bool rebirth = false;
    for (size_t i = 0; i < pl->n_metrics; i++) {
        const Sparkplug__Metric *m = pl->metrics[i];
        if (m->name && !strcmp (m->name, SPB_REBIRTH)
            && m->value_case == SPARKPLUG__METRIC__VALUE_BOOLEAN_VALUE && m->boolean_value)
            rebirth = true;
    }
    sparkplug__payload__free_unpacked (pl, NULL);
    if (rebirth) {
        af_info ("sparkplug: rebirth requested; publishing NBIRTH and DBIRTHs");
        self->counters.rebirths_honoured++;
        s_births (self);
    }
}

static void
s_edge_connected (bspb_t *self)
{
    char topic[256];
    s_edge_topic (self, SPB_NCMD, NULL, topic, sizeof topic);
    mosquitto_subscribe (self->edge.mosq, NULL, topic, 1);
    snprintf (topic, sizeof topic, SPB_NAMESPACE "/%s/DCMD/%s/+", self->cfg->group, self->cfg->edge_node);
    mosquitto_subscribe (self->edge.mosq, NULL, topic, 1);
    self->counters.edge_connects++;
    s_births (self);
}

/* Devices whose topics fell silent get a DDEATH. */
static void
s_edge_check_devices (bspb_t *self, int64_t now_ms)
{
    for (size_t i = 0; i < self->cfg->n_publish; i++) {
        s_edge_dev_t *d = &self->devs[i];
        if (d->cfg->stale_ms > 0 && d->born && self->node_born
            && now_ms - d->last_data_ms > d->cfg->stale_ms)
            s_ddeath (self, d);
    }
}

/* ----------------------------------------------------------- host application */

static void
s_sanitize (char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
              || *s == '_' || *s == '-'))
            *s = '_';
}

static s_node_t *
s_node (bspb_t *self, const spb_topic_t *t, bool add)
{
    for (size_t i = 0; i < self->n_nodes; i++)
        if (!strcmp (self->nodes[i].group, t->group) && !strcmp (self->nodes[i].node, t->node))
            return &self->nodes[i];
    if (!add || self->n_nodes == S_MAX_NODES)
        return NULL;
    s_node_t *nodes = realloc (self->nodes, (self->n_nodes + 1) * sizeof *nodes);
    if (!nodes)
        return NULL;
    self->nodes = nodes;
    s_node_t *n = &nodes[self->n_nodes++];
    memset (n, 0, sizeof *n);
    snprintf (n->group, sizeof n->group, "%s", t->group);
    snprintf (n->node, sizeof n->node, "%s", t->node);
    return n;
}

/* Asks NODE for new births (NCMD Node Control/Rebirth = true), at most
 * once per S_REBIRTH_EVERY_MS, and ignores its data until then. */
static void
s_request_rebirth (bspb_t *self, s_node_t *node, const char *why)
{
    node->born = false;
    int64_t now = af_clock_mono_ms ();
    if (node->rebirth_asked_ms && now - node->rebirth_asked_ms < S_REBIRTH_EVERY_MS)
        return;
    node->rebirth_asked_ms = now;
    Sparkplug__Metric m;
    s_metric_bool (&m, SPB_REBIRTH, true);
    Sparkplug__Metric *mp = &m;
    Sparkplug__Payload pl = SPARKPLUG__PAYLOAD__INIT;
    pl.has_timestamp = true;
    pl.timestamp = s_now_ms ();
    pl.n_metrics = 1;
    pl.metrics = &mp;
    char topic[256];
    spb_topic_format (topic, sizeof topic, SPB_NCMD, node->group, node->node, NULL);
    if (s_publish (&self->host, topic, &pl, 0, false) == 0)
        self->counters.rebirth_requests++;
    af_info ("sparkplug host: asked %s/%s for a rebirth (%s)", node->group, node->node, why);
}

/* The bus topic of a node's (DEVICE "") or device's metrics. */
static void
s_bus_topic (bspb_t *self, const s_node_t *node, const char *device, char *buf, size_t len)
{
    char kind[AF_TOPIC_MAX_BYTES], g[SPB_ID_MAX], n[SPB_ID_MAX], d[SPB_ID_MAX];
    snprintf (g, sizeof g, "%s", node->group);
    snprintf (n, sizeof n, "%s", node->node);
    snprintf (d, sizeof d, "%s", device);
    s_sanitize (g);
    s_sanitize (n);
    s_sanitize (d);
    snprintf (kind, sizeof kind, "spb.%s.%s%s%s", g, n, *d ? "." : "", d);
    af_agent_topic (self->agent, "tel", kind, buf, len);
}

/* A birth or death as an event; a node's death also raises (and its birth
 * clears) the alarm sparkplug_node_dead. */
static void
s_host_event (bspb_t *self, const s_node_t *node, const char *device, const char *kind)
{
    char topic[AF_TOPIC_MAX_BYTES], text[256];
    s_bus_topic (self, node, device, topic, sizeof topic);
    memcpy (topic, "evt", 3);
    snprintf (text, sizeof text, "sparkplug %s/%s%s%s: %s", node->group, node->node,
              *device ? "/" : "", device, kind);
    Autofab__Event ev = AUTOFAB__EVENT__INIT;
    ev.kind = (char *) kind;
    ev.text = text;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_EVENT;
    env.event = &ev;
    af_bus_publish (af_agent_bus (self->agent), topic, &env);
    if (*device || (strcmp (kind, "ndeath") && strcmp (kind, "nbirth")))
        return;
    Autofab__Alarm a = AUTOFAB__ALARM__INIT;
    a.severity = AUTOFAB__ALARM__SEVERITY__SEVERITY_CRITICAL;
    a.code = "sparkplug_node_dead";
    a.text = text;
    a.active = !strcmp (kind, "ndeath");
    Autofab__Envelope aenv = AUTOFAB__ENVELOPE__INIT;
    aenv.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_ALARM;
    aenv.alarm = &a;
    memcpy (topic, "alm", 3);
    af_bus_publish (af_agent_bus (self->agent), topic, &aenv);
}

static s_in_metric_t *
s_in_find (s_node_t *node, const char *device, const Sparkplug__Metric *m)
{
    for (size_t i = 0; i < node->n; i++) {
        s_in_metric_t *x = &node->metrics[i];
        if (strcmp (x->device, device))
            continue;
        if (m->has_alias ? x->has_alias && x->alias == m->alias : m->name && !strcmp (x->name, m->name))
            return x;
    }
    return NULL;
}

/* A birth's metrics replace what the node (or its DEVICE) declared. */
static void
s_learn (bspb_t *self, s_node_t *node, const char *device, const Sparkplug__Payload *pl)
{
    size_t w = 0;
    for (size_t i = 0; i < node->n; i++)
        if (strcmp (node->metrics[i].device, device))
            node->metrics[w++] = node->metrics[i];
    node->n = w;
    for (size_t i = 0; i < pl->n_metrics; i++) {
        const Sparkplug__Metric *m = pl->metrics[i];
        if (!m->name || !m->has_datatype) {
            self->counters.wrong_types++;
            AF_LOG_ONCE (AF_LOG_WARN, "sparkplug host: a birth metric without a name or data type "
                         "from %s/%s (counted; logged once)", node->group, node->node);
            continue;
        }
        if (node->n == S_MAX_NODE_METRICS)
            break;
        if (node->n == node->cap) {
            size_t cap = node->cap ? node->cap * 2 : 16;
            s_in_metric_t *x = realloc (node->metrics, cap * sizeof *x);
            if (!x)
                break;
            node->metrics = x;
            node->cap = cap;
        }
        s_in_metric_t *x = &node->metrics[node->n++];
        memset (x, 0, sizeof *x);
        snprintf (x->device, sizeof x->device, "%s", device);
        snprintf (x->name, sizeof x->name, "%s", m->name);
        const char *unit = spb_metric_unit (m);
        snprintf (x->unit, sizeof x->unit, "%s", unit ? unit : "");
        x->datatype = m->datatype;
        x->has_alias = m->has_alias;
        x->alias = m->alias;
    }
}

/* Numeric metrics of PL onto the bus as one Telemetry (births and data). */
static void
s_forward (bspb_t *self, s_node_t *node, const char *device, const Sparkplug__Payload *pl)
{
    size_t n = pl->n_metrics < S_MAX_METRICS ? pl->n_metrics : S_MAX_METRICS;
    Autofab__Metric out[n ? n : 1];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const Sparkplug__Metric *m = pl->metrics[i];
        if (m->name && (!strcmp (m->name, SPB_BDSEQ) || !strncmp (m->name, "Node Control/", 13)))
            continue;
        const s_in_metric_t *x = s_in_find (node, device, m);
        if (!x) {
            self->counters.unknown_aliases++;
            AF_LOG_ONCE (AF_LOG_WARN, "sparkplug host: a metric not declared in the birth from %s/%s "
                         "(counted; logged once)", node->group, node->node);
            s_request_rebirth (self, node, "unknown metric");
            return;
        }
        double v;
        char why[128];
        int rc = spb_metric_number (m, x->datatype, &v, why, sizeof why);
        if (rc < 0) {
            self->counters.wrong_types++;
            AF_LOG_ONCE (AF_LOG_WARN, "sparkplug host: refused metric '%s' of %s/%s: %s (counted; "
                         "logged once)", x->name, node->group, node->node, why);
            continue;
        }
        if (rc > 0)
            continue;
        autofab__metric__init (&out[k]);
        out[k].name = (char *) x->name;
        out[k].unit = (char *) x->unit;
        out[k].value = v;
        k++;
    }
    if (k == 0)
        return;
    char topic[AF_TOPIC_MAX_BYTES];
    s_bus_topic (self, node, device, topic, sizeof topic);
    if (af_bus_publish_metrics (af_agent_bus (self->agent), topic, out, k) == 0)
        self->counters.metrics_forwarded += k;
}

static bool
s_bdseq (const Sparkplug__Payload *pl, uint64_t *out)
{
    for (size_t i = 0; i < pl->n_metrics; i++) {
        const Sparkplug__Metric *m = pl->metrics[i];
        if (m->name && !strcmp (m->name, SPB_BDSEQ)) {
            if (m->value_case == SPARKPLUG__METRIC__VALUE_LONG_VALUE)
                *out = m->long_value;
            else if (m->value_case == SPARKPLUG__METRIC__VALUE_INT_VALUE)
                *out = m->int_value;
            else
                return false;
            return true;
        }
    }
    return false;
}

/* Checks the message's seq against the node's; a gap asks for a rebirth. */
static bool
s_seq_ok (bspb_t *self, s_node_t *node, const Sparkplug__Payload *pl, spb_msg_t type)
{
    uint8_t want = spb_seq_next (node->seq);
    if (pl->has_seq && pl->seq == want) {
        node->seq = want;
        return true;
    }
    self->counters.seq_gaps++;
    af_warn ("sparkplug host: %s from %s/%s with seq %lld, expected %u: requesting a rebirth",
             spb_msg_name (type), node->group, node->node, pl->has_seq ? (long long) pl->seq : -1LL, want);
    s_request_rebirth (self, node, "seq gap");
    return false;
}

static void
s_host_payload (bspb_t *self, const spb_topic_t *t, s_node_t *node, const Sparkplug__Payload *pl)
{
    uint64_t bdseq;
    switch (t->type) {
    case SPB_NBIRTH:
        if (!s_bdseq (pl, &bdseq) || !pl->has_seq) {
            self->counters.bad_payloads++;
            AF_LOG_ONCE (AF_LOG_WARN, "sparkplug host: an NBIRTH without bdSeq or seq from %s/%s "
                         "(counted; logged once)", t->group, t->node);
            return;
        }
        node->born = true;
        node->bdseq = bdseq;
        node->seq = (uint8_t) pl->seq;
        node->n = 0;
        self->counters.births_seen++;
        s_learn (self, node, "", pl);
        s_host_event (self, node, "", "nbirth");
        s_forward (self, node, "", pl);
        return;
    case SPB_NDEATH:
        /* A will from an older session must not kill the current one. */
        if (!s_bdseq (pl, &bdseq) || !node->born || bdseq != node->bdseq)
            return;
        node->born = false;
        self->counters.deaths_seen++;
        s_host_event (self, node, "", "ndeath");
        return;
    default:
        break;
    }
    if (!node->born) {
        s_request_rebirth (self, node, "data before a birth");
        return;
    }
    if (!s_seq_ok (self, node, pl, t->type))
        return;
    switch (t->type) {
    case SPB_DBIRTH:
        self->counters.births_seen++;
        s_learn (self, node, t->device, pl);
        s_host_event (self, node, t->device, "dbirth");
        s_forward (self, node, t->device, pl);
        break;
    case SPB_DDEATH:
        self->counters.deaths_seen++;
        s_host_event (self, node, t->device, "ddeath");
        break;
    case SPB_NDATA: case SPB_DDATA:
        s_forward (self, node, t->type == SPB_DDATA ? t->device : "", pl);
        break;
    default:
        break;
    }
}

static void
s_host_message (bspb_t *self, const spb_topic_t *t, const void *data, size_t len)
{
    /* Our own edge node is already on the bus; commands are for nodes. */
    if (t->type == SPB_STATE || t->type == SPB_NCMD || t->type == SPB_DCMD
        || (!strcmp (t->group, self->cfg->group) && !strcmp (t->node, self->cfg->edge_node)))
        return;
    Sparkplug__Payload *pl;
    char why[160];
    if (spb_payload_decode (data, len, &pl, why, sizeof why) != 0) {
        self->counters.bad_payloads++;
        AF_LOG_ONCE (AF_LOG_WARN, "sparkplug host: refused a %s from %s/%s: %s (counted; logged once)",
                     spb_msg_name (t->type), t->group, t->node, why);
        return;
    }
    s_node_t *node = s_node (self, t, true);
    if (node)
        s_host_payload (self, t, node, pl);
    sparkplug__payload__free_unpacked (pl, NULL);
}

static void
s_host_connected (bspb_t *self)
{
    char topic[256], state[96];
    snprintf (topic, sizeof topic, SPB_NAMESPACE "/%s/#", self->cfg->consume_group);
    mosquitto_subscribe (self->host.mosq, NULL, topic, 0);
    spb_topic_format (topic, sizeof topic, SPB_STATE, NULL, self->cfg->host_id, NULL);
    int n = snprintf (state, sizeof state, "{\"online\":true,\"timestamp\":%llu}",
                      (unsigned long long) self->host.will_ts_ms);
    mosquitto_publish (self->host.mosq, NULL, topic, n, state, 1, true);
    self->counters.host_connects++;
    /* Every node must be born again for this session (aliases, seq). */
    for (size_t i = 0; i < self->n_nodes; i++)
        self->nodes[i].born = false;
}

/* ------------------------------------------------------------- MQTT clients */

static void
s_on_connect (struct mosquitto *mosq, void *arg, int rc)
{
    (void) mosq;
    s_client_t *c = arg;
    c->connecting = false;
    if (rc != 0) {
        af_warn ("sparkplug %s: the MQTT server refused the connection: %s",
                 c->is_edge ? "edge" : "host", mosquitto_connack_string (rc));
        return;
    }
    c->connected = c->just_connected = true;
    c->backoff_ms = S_BACKOFF_MIN_MS;
}

static void
s_on_message (struct mosquitto *mosq, void *arg, const struct mosquitto_message *msg)
{
    (void) mosq;
    s_client_t *c = arg;
    bspb_t *self = c->owner;
    spb_topic_t t;
    self->counters.received++;
    if (spb_topic_parse (msg->topic, &t) != 0) {
        self->counters.bad_topics++;
        AF_LOG_ONCE (AF_LOG_WARN, "sparkplug: refused a message on '%s': not a Sparkplug B topic "
                     "(counted; logged once)", msg->topic);
        return;
    }
    if (c->is_edge)
        s_edge_message (self, &t, msg->payload, (size_t) msg->payloadlen);
    else
        s_host_message (self, &t, msg->payload, (size_t) msg->payloadlen);
}

/* Sets the will (NDEATH with the next bdSeq, or STATE offline) and starts
 * a connection; the CONNACK comes through s_on_connect. */
static void
s_client_connect (s_client_t *c, int64_t now_ms)
{
    bspb_t *self = c->owner;
    char topic[256];
    uint8_t will[256];
    int len;
    if (c->is_edge) {
        s_edge_topic (self, SPB_NDEATH, NULL, topic, sizeof topic);
        len = (int) s_ndeath (self->bdseq_next, will, sizeof will);
        mosquitto_will_set (c->mosq, topic, len, will, 1, false);
    } else {
        c->will_ts_ms = s_now_ms ();
        spb_topic_format (topic, sizeof topic, SPB_STATE, NULL, self->cfg->host_id, NULL);
        len = snprintf ((char *) will, sizeof will, "{\"online\":false,\"timestamp\":%llu}",
                        (unsigned long long) c->will_ts_ms);
        mosquitto_will_set (c->mosq, topic, len, will, 1, true);
    }
    int rc = mosquitto_connect (c->mosq, self->cfg->host, self->cfg->port, self->cfg->keepalive_s);
    if (rc != MOSQ_ERR_SUCCESS) {
        c->retry_ms = now_ms + c->backoff_ms;
        c->backoff_ms = c->backoff_ms * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : c->backoff_ms * 2;
        AF_LOG_ONCE (AF_LOG_WARN, "sparkplug: cannot reach the MQTT server %s:%d (%s); retrying with "
                     "back-off (logged once)", self->cfg->host, self->cfg->port, mosquitto_strerror (rc));
        return;
    }
    c->connecting = true;
    c->retry_ms = now_ms + 5000;       /* no CONNACK by then: start over */
    if (c->is_edge) {
        self->bdseq = self->bdseq_next;
        /* bdSeq runs 0 … 255 (specification 7.2.1). */
        self->bdseq_next = (self->bdseq_next + 1) % 256;
    }
}

static void
s_client_iterate (s_client_t *c, int64_t now_ms)
{
    if (!c->mosq)
        return;
    if (!c->connected && !c->connecting) {
        if (now_ms >= c->retry_ms)
            s_client_connect (c, now_ms);
        return;
    }
    int rc = mosquitto_loop (c->mosq, 0, 1);
    if (rc != MOSQ_ERR_SUCCESS || (c->connecting && now_ms > c->retry_ms)) {
        if (c->connected)
            af_warn ("sparkplug %s: lost the MQTT server (%s); reconnecting",
                     c->is_edge ? "edge" : "host", mosquitto_strerror (rc));
        mosquitto_disconnect (c->mosq);
        c->connected = c->connecting = false;
        if (c->is_edge)
            c->owner->node_born = false;
        c->retry_ms = now_ms + c->backoff_ms;
        c->backoff_ms = c->backoff_ms * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : c->backoff_ms * 2;
        return;
    }
    if (c->just_connected) {
        c->just_connected = false;
        if (c->is_edge)
            s_edge_connected (c->owner);
        else
            s_host_connected (c->owner);
    }
}

static int
s_client_init (bspb_t *self, s_client_t *c, bool is_edge, const char *id, char *err, size_t err_len)
{
    c->owner = self;
    c->is_edge = is_edge;
    c->backoff_ms = S_BACKOFF_MIN_MS;
    char client_id[160];
    snprintf (client_id, sizeof client_id, "%s-%s-%s", is_edge ? "edge" : "host", self->cfg->group, id);
    c->mosq = mosquitto_new (client_id, true, c);
    if (!c->mosq) {
        snprintf (err, err_len, "sparkplug: cannot create an MQTT client");
        return -1;
    }
    mosquitto_connect_callback_set (c->mosq, s_on_connect);
    mosquitto_message_callback_set (c->mosq, s_on_message);
    return 0;
}

/* ------------------------------------------------------------- life cycle */

static void
s_on_counters (af_agent_t *agent, void *arg)
{
    bspb_t *self = arg;
    static const char *const names[] = {
#define X(name) #name,
        BSPB_COUNTERS (X)
#undef X
    };
    const uint64_t *vals = (const uint64_t *) &self->counters;
    size_t n = sizeof names / sizeof names[0];
    Autofab__Metric ms[n];
    for (size_t i = 0; i < n; i++) {
        autofab__metric__init (&ms[i]);
        ms[i].name = (char *) names[i];
        ms[i].value = (double) vals[i];
    }
    char topic[AF_TOPIC_MAX_BYTES];
    af_bus_publish_metrics (af_agent_bus (agent), af_agent_topic (agent, "tel", "sparkplug", topic, sizeof topic),
                            ms, n);
}

bspb_t *
bspb_new (const bm_sparkplug_t *cfg, af_agent_t *agent, char *err, size_t err_len)
{
    bspb_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    mosquitto_lib_init ();
    self->cfg = cfg;
    self->agent = agent;
    self->next_alias = 1;
    af_agent_topic (agent, "tel", "spb.", self->own_prefix, sizeof self->own_prefix);
    if (*cfg->edge_node) {
        if (s_client_init (self, &self->edge, true, cfg->edge_node, err, err_len) != 0)
            goto fail;
        self->devs = calloc (cfg->n_publish + 1, sizeof *self->devs);
        if (!self->devs)
            goto fail;
        for (size_t i = 0; i < cfg->n_publish; i++) {
            s_edge_dev_t *d = &self->devs[i];
            d->owner = self;
            d->cfg = &cfg->publish[i];
            d->prefix_len = af_topic_prefix (d->cfg->pattern, d->prefix, sizeof d->prefix);
            if (af_agent_subscribe (agent, d->cfg->pattern, s_on_bus, d) != 0) {
                snprintf (err, err_len, "sparkplug: cannot subscribe to '%s'", d->cfg->pattern);
                goto fail;
            }
        }
    }
    if (*cfg->host_id && s_client_init (self, &self->host, false, cfg->host_id, err, err_len) != 0)
        goto fail;
    af_agent_timer (agent, S_COUNTERS_MS, s_on_counters, self);
    return self;
fail:
    bspb_destroy (&self);
    return NULL;
}

void
bspb_destroy (bspb_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bspb_t *self = *self_p;
    if (self->edge.mosq)
        mosquitto_destroy (self->edge.mosq);
    if (self->host.mosq)
        mosquitto_destroy (self->host.mosq);
    for (size_t i = 0; self->devs && i < self->cfg->n_publish; i++)
        free (self->devs[i].metrics);
    free (self->devs);
    for (size_t i = 0; i < self->n_nodes; i++)
        free (self->nodes[i].metrics);
    free (self->nodes);
    mosquitto_lib_cleanup ();
    free (self);
    *self_p = NULL;
}

void
bspb_iterate (bspb_t *self, int64_t now_ms)
{
    s_client_iterate (&self->edge, now_ms);
    s_client_iterate (&self->host, now_ms);
    if (self->edge.connected)
        s_edge_check_devices (self, now_ms);
}

void
bspb_shutdown (bspb_t *self)
{
    if (!self)
        return;
    char topic[256];
    if (self->edge.connected) {
        uint8_t buf[256];
        size_t len = s_ndeath (self->bdseq, buf, sizeof buf);
        s_edge_topic (self, SPB_NDEATH, NULL, topic, sizeof topic);
        mosquitto_publish (self->edge.mosq, NULL, topic, (int) len, buf, 1, false);
    }
    if (self->host.connected) {
        char state[96];
        int n = snprintf (state, sizeof state, "{\"online\":false,\"timestamp\":%llu}",
                          (unsigned long long) self->host.will_ts_ms);
        spb_topic_format (topic, sizeof topic, SPB_STATE, NULL, self->cfg->host_id, NULL);
        mosquitto_publish (self->host.mosq, NULL, topic, n, state, 1, true);
    }
    /* Give the QoS 1 goodbyes a moment to leave, then disconnect. */
    for (int i = 0; i < 20; i++) {
        if (self->edge.connected)
            mosquitto_loop (self->edge.mosq, 5, 1);
        if (self->host.connected)
            mosquitto_loop (self->host.mosq, 5, 1);
    }
    if (self->edge.connected)
        mosquitto_disconnect (self->edge.mosq);
    if (self->host.connected)
        mosquitto_disconnect (self->host.mosq);
    self->edge.connected = self->host.connected = false;
}

const bspb_counters_t *
bspb_counters (const bspb_t *self)
{
    return &self->counters;
}
