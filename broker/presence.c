/*  broker/presence.c — registration, heartbeats, birth and death.
 *
 *  An agent is alive while the broker hears from it: any control message
 *  counts as a heartbeat.  It is declared dead 1.5 heartbeat intervals after
 *  the last one, so the death notice goes out within two intervals of the
 *  agent's actual death (DESIGN §2), and a single late heartbeat on a busy
 *  machine is not mistaken for one.
 */
#include "broker_internal.h"

/* Death after this many of the agent's heartbeat intervals of silence, ×10. */
#define PRESENCE_EXPIRY_TENTHS 15
#define PRESENCE_NAME_MAX 64
/* Longest kind, version, service or capability string, bytes. */
#define PRESENCE_FIELD_MAX 255

static void
s_agent_destructor (void **item)
{
    broker__agent_free ((agent_t **) item);
}

void
broker__presence_init (broker_t *self)
{
    self->agents = zhashx_new ();
    zhashx_set_destructor (self->agents, s_agent_destructor);
    self->names = zhashx_new ();
}

static void
s_strv_free (char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free (v[i]);
    free (v);
}

/* Frees what an agent's registration filled in (s_agent_fill). */
static void
s_agent_clear (agent_t *a)
{
    free (a->name);
    free (a->kind);
    free (a->cell);
    free (a->version);
    s_strv_free (a->services, a->n_services);
    s_strv_free (a->capabilities, a->n_capabilities);
}

void
broker__agent_free (agent_t **agent_p)
{
    if (!agent_p || !*agent_p)
        return;
    s_agent_clear (*agent_p);
    free (*agent_p);
    *agent_p = NULL;
}

void
broker__rid_key (const uint8_t *rid, size_t len, char *key)
{
    static const char hex[] = "0123456789abcdef";
    if (len > BROKER_RID_MAX)
        len = BROKER_RID_MAX;
    for (size_t i = 0; i < len; i++) {
        key[2 * i] = hex[rid[i] >> 4];
        key[2 * i + 1] = hex[rid[i] & 15];
    }
    key[2 * len] = 0;
}

agent_t *
broker__agent (broker_t *self, const uint8_t *rid, size_t rid_len)
{
    char key[BROKER_RID_MAX * 2 + 1];
    broker__rid_key (rid, rid_len, key);
    return zhashx_lookup (self->agents, key);
}

void
broker__agent_seen (broker_t *self, agent_t *agent)
{
    (void) self;
    agent->last_seen_ms = zclock_mono ();
}

static char **
s_strv_dup (char **v, size_t n)
{
    char **copy = calloc (n ? n : 1, sizeof *copy);
    for (size_t i = 0; copy && i < n; i++)
        copy[i] = strdup (v[i] ? v[i] : "");
    return copy;
}

/* A name is one topic segment, so that it can appear in topics. */
static bool
s_name_valid (const char *name)
{
    size_t len = name ? strlen (name) : 0;
    return len > 0 && len <= PRESENCE_NAME_MAX && af_topic_valid (name, len) && !strchr (name, '.');
}

static void
s_presence_publish (broker_t *self, agent_t *a, bool birth, const char *reason)
{
    char topic[AF_TOPIC_MAX_BYTES], other[AF_TOPIC_MAX_BYTES];
    const char *cell = a->cell && a->cell[0] ? a->cell : "none";
    snprintf (topic, sizeof topic, "sys.%s.%s.%s.%s", self->opts.factory, cell, a->name,
              birth ? "birth" : "death");
    snprintf (other, sizeof other, "sys.%s.%s.%s.%s", self->opts.factory, cell, a->name,
              birth ? "death" : "birth");
    Autofab__Presence p = AUTOFAB__PRESENCE__INIT;
    p.state = birth ? AUTOFAB__PRESENCE__STATE__STATE_BIRTH : AUTOFAB__PRESENCE__STATE__STATE_DEATH;
    p.name = a->name;
    p.kind = a->kind;
    p.cell = a->cell;
    p.version = a->version;
    p.services = a->services;
    p.n_services = a->n_services;
    p.capabilities = a->capabilities;
    p.n_capabilities = a->n_capabilities;
    p.reason = (char *) (reason ? reason : "");
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_PRESENCE;
    env.presence = &p;
    /* The cache holds the agent's current state: a birth or a death, not both. */
    if (self->cache)
        cache_remove (self->cache, other);
    if (broker__publish (self, topic, &env) != 0)
        af_warn ("presence: could not publish %s", topic);
    if (birth)
        self->counters.births++;
    else
        self->counters.deaths++;
}

/* (Re)fills an agent's description from a Register; frees what it had. */
static void
s_agent_fill (agent_t *a, const Autofab__Register *reg, int default_heartbeat_ms)
{
    s_agent_clear (a);
    a->name = strdup (reg->name);
    a->kind = strdup (reg->kind ? reg->kind : "");
    a->cell = strdup (reg->cell ? reg->cell : "");
    a->version = strdup (reg->version ? reg->version : "");
    a->services = s_strv_dup (reg->services, reg->n_services);
    a->n_services = reg->n_services;
    a->capabilities = s_strv_dup (reg->capabilities, reg->n_capabilities);
    a->n_capabilities = reg->n_capabilities;
    /* broker__register checked the range; 0 asks for the broker's. */
    a->heartbeat_ms = reg->heartbeat_ms ? (int) reg->heartbeat_ms : default_heartbeat_ms;
}

static bool
s_field_ok (const char *text)
{
    return !text || strlen (text) <= PRESENCE_FIELD_MAX;
}

/* The caps on what one registration may make the broker hold (issue 17):
 * field sizes, item count and heartbeat range; 0 or a Status with ERR. */
static int
s_register_caps (broker_t *self, const Autofab__Register *reg, char *err, size_t err_len)
{
    bool fields_ok = s_field_ok (reg->kind) && s_field_ok (reg->version);
    for (size_t i = 0; fields_ok && i < reg->n_capabilities; i++)
        fields_ok = s_field_ok (reg->capabilities[i]);
    for (size_t i = 0; fields_ok && i < reg->n_services; i++)
        fields_ok = s_field_ok (reg->services[i]);
    size_t items = reg->n_services + reg->n_capabilities;
    if (!fields_ok || items > (size_t) self->opts.register_max_items) {
        self->counters.register_too_large++;
        AF_LOG_ONCE (AF_LOG_WARN, "presence: refused '%s': %zu services + capabilities (max %ld) or a "
                     "field over %d bytes (counted; logged once)", reg->name, items,
                     self->opts.register_max_items, PRESENCE_FIELD_MAX);
        snprintf (err, err_len, "registration too large: at most %ld services + capabilities, "
                  "each field at most %d bytes", self->opts.register_max_items, PRESENCE_FIELD_MAX);
        return AUTOFAB__STATUS__STATUS_TOO_LARGE;
    }
    if (reg->heartbeat_ms
        && (reg->heartbeat_ms < self->opts.heartbeat_min_ms || reg->heartbeat_ms > self->opts.heartbeat_max_ms)) {
        self->counters.register_bad_heartbeat++;
        AF_LOG_ONCE (AF_LOG_WARN, "presence: refused '%s': heartbeat %u ms outside [%ld, %ld] "
                     "(counted; logged once)", reg->name, reg->heartbeat_ms, self->opts.heartbeat_min_ms,
                     self->opts.heartbeat_max_ms);
        snprintf (err, err_len, "heartbeat_ms %u outside [%ld, %ld]", reg->heartbeat_ms,
                  self->opts.heartbeat_min_ms, self->opts.heartbeat_max_ms);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    return 0;
}

int
broker__register (broker_t *self, const uint8_t *rid, size_t rid_len, const Autofab__Register *reg,
                  char *err, size_t err_len)
{
    if (!s_name_valid (reg->name)) {
        snprintf (err, err_len, "agent name must be 1-%d letters, digits, '_' or '-'",
                  PRESENCE_NAME_MAX);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    if (reg->cell && reg->cell[0]
        && (strlen (reg->cell) > PRESENCE_NAME_MAX || !af_topic_valid (reg->cell, strlen (reg->cell))
            || strchr (reg->cell, '.'))) {
        snprintf (err, err_len, "cell name must be 1-%d letters, digits, '_' or '-'", PRESENCE_NAME_MAX);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    for (size_t i = 0; i < reg->n_services; i++)
        if (!reg->services[i] || !af_topic_valid (reg->services[i], strlen (reg->services[i]))) {
            snprintf (err, err_len, "service name '%s' is not valid", reg->services[i] ? reg->services[i] : "");
            return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
        }
    int status = s_register_caps (self, reg, err, err_len);
    if (status)
        return status;
    agent_t *existing = zhashx_lookup (self->names, reg->name);
    agent_t *same_peer = broker__agent (self, rid, rid_len);
    if (existing && existing != same_peer) {
        self->counters.duplicate_names++;
        AF_LOG_ONCE (AF_LOG_WARN, "presence: refused a second agent named '%s' (counted; logged once)",
                     reg->name);
        snprintf (err, err_len, "agent name '%s' is already registered by a live agent", reg->name);
        return AUTOFAB__STATUS__STATUS_CONFLICT;
    }
    if (same_peer) {
        /* Re-registration from the same connection (a repeated Register, or
         * a changed service list): update the agent in place, so requests
         * in flight to it keep a valid worker, and publish no death/birth. */
        broker__services_drop (self, same_peer);
        zhashx_delete (self->names, same_peer->name);
        s_agent_fill (same_peer, reg, self->opts.heartbeat_ms);
        zhashx_insert (self->names, same_peer->name, same_peer);
        broker__services_add (self, same_peer);
        broker__agent_seen (self, same_peer);
        self->counters.registrations++;
        return 0;
    }
    if (zhashx_size (self->agents) >= (size_t) self->opts.max_agents) {
        self->counters.agents_full++;
        AF_LOG_ONCE (AF_LOG_WARN, "presence: refused '%s': %ld agents registered (max_agents; counted; "
                     "logged once)", reg->name, self->opts.max_agents);
        snprintf (err, err_len, "the broker holds max_agents (%ld) agents already", self->opts.max_agents);
        return AUTOFAB__STATUS__STATUS_LIMIT;
    }
    agent_t *a = calloc (1, sizeof *a);
    if (!a) {
        snprintf (err, err_len, "out of memory");
        return AUTOFAB__STATUS__STATUS_INTERNAL;
    }
    broker__rid_key (rid, rid_len, a->key);
    a->routing_id_len = rid_len > sizeof a->routing_id ? sizeof a->routing_id : rid_len;
    memcpy (a->routing_id, rid, a->routing_id_len);
    s_agent_fill (a, reg, self->opts.heartbeat_ms);
    a->registered_ms = a->last_seen_ms = a->last_sent_ms = zclock_mono ();
    zhashx_insert (self->agents, a->key, a);
    zhashx_insert (self->names, a->name, a);
    broker__services_add (self, a);
    self->counters.registrations++;
    af_info ("presence: birth of '%s' (kind %s, cell %s, %zu services)", a->name, a->kind, a->cell,
             a->n_services);
    s_presence_publish (self, a, true, NULL);
    return 0;
}


void
broker__agent_remove (broker_t *self, agent_t *agent, const char *reason)
{
    af_info ("presence: death of '%s' (%s)", agent->name, reason);
    broker__services_worker_gone (self, agent);
    broker__services_drop (self, agent);
    s_presence_publish (self, agent, false, reason);
    zhashx_delete (self->names, agent->name);
    zhashx_delete (self->agents, agent->key);
}

void
broker__presence_tick (broker_t *self, int64_t now_ms)
{
    zlistx_t *dead = zlistx_new ();
    Autofab__Heartbeat hb = AUTOFAB__HEARTBEAT__INIT;
    Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_HEARTBEAT;
    ctl.heartbeat = &hb;
    for (agent_t *a = zhashx_first (self->agents); a; a = zhashx_next (self->agents)) {
        if (now_ms - a->last_seen_ms > (int64_t) a->heartbeat_ms * PRESENCE_EXPIRY_TENTHS / 10)
            zlistx_add_end (dead, a);
        else if (now_ms - a->last_sent_ms >= a->heartbeat_ms) {
            /* Heartbeats go both ways so that agents notice a dead broker. */
            broker__send (self, a->routing_id, a->routing_id_len, &ctl, NULL, 0);
            a->last_sent_ms = now_ms;
        }
    }
    for (agent_t *a = zlistx_first (dead); a; a = zlistx_next (dead))
        broker__agent_remove (self, a, "expired");
    zlistx_destroy (&dead);
}
