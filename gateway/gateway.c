/*  gateway — lifecycle, keys, sockets and the loop (see gateway.h).  */
#include "gateway_internal.h"
#include "af_log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* libzmq's ZMQ_ZAP_ENFORCE_DOMAIN (a draft option in 4.3): with it, a CURVE
 * server whose ZAP handler is missing refuses everyone instead of letting
 * everyone in.  Set where supported. */
#define GW_ZMQ_ZAP_ENFORCE_DOMAIN 93
#define GW_ZAP_DOMAIN "autofab-gateway"
/* Handshake events the server monitor reports. */
#define GW_MONITOR_EVENTS \
    (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)

uint64_t
gw_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

uint64_t
gw_wall_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* The server: CURVE with our key, ZAP domain set (so zauth judges every
 * client), enforced where libzmq can, and a monitor for refusals. */
static int
s_server_open (gateway_t *self, char *err, size_t err_len)
{
    self->server = zsock_new (ZMQ_ROUTER);
    if (!self->server)
        goto fail;
    zcert_apply (self->cert, self->server);
    zsock_set_curve_server (self->server, 1);
    zsock_set_zap_domain (self->server, GW_ZAP_DOMAIN);
    zsock_set_rcvhwm (self->server, AF_DEFAULT_HWM);
    zsock_set_sndhwm (self->server, AF_DEFAULT_HWM);
    int one = 1;
    if (zmq_setsockopt (zsock_resolve (self->server), GW_ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0)
        af_info ("this libzmq cannot enforce the ZAP domain; zauth runs before the bind instead");
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://gw-monitor-%p", (void *) self);
    if (zmq_socket_monitor (zsock_resolve (self->server), ep, GW_MONITOR_EVENTS) != 0)
        goto fail;
    self->monitor = zsock_new (ZMQ_PAIR);
    if (!self->monitor || zsock_connect (self->monitor, "%s", ep) != 0)
        goto fail;
    if (zsock_bind (self->server, "%s", self->cfg.bind) < 0) {
        snprintf (err, err_len, "cannot bind %s: %s", self->cfg.bind, zmq_strerror (errno));
        return -1;
    }
    return 0;
fail:
    snprintf (err, err_len, "cannot create the server socket: %s", zmq_strerror (errno));
    return -1;
}

static void
s_sockets_close (gateway_t *self)
{
    for (size_t i = 0; i < self->n_peers; i++)
        gw_export_close_links (&self->peers[i]);
    if (self->server)
        zmq_socket_monitor (zsock_resolve (self->server), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->server);
}

static int
s_sockets_open (gateway_t *self, char *err, size_t err_len)
{
    if (s_server_open (self, err, err_len) != 0)
        return -1;
    for (size_t i = 0; i < self->n_peers; i++)
        if (gw_export_open_links (self, &self->peers[i], err, err_len) != 0)
            return -1;
    return 0;
}

static int
s_keys_load (gateway_t *self, char *err, size_t err_len)
{
    char why[700];
    zcert_t *cert = af_keys_load_secret (self->cfg.key_path, why, sizeof why);
    if (!cert) {
        snprintf (err, err_len, "%s", why);
        return -1;
    }
    zcert_destroy (&self->cert);
    self->cert = cert;
    for (size_t i = 0; i < self->n_peers; i++) {
        gw_peer_t *peer = &self->peers[i];
        zcert_t *pub = af_keys_load_public (peer->cfg->key_path, why, sizeof why);
        if (!pub) {
            snprintf (err, err_len, "peer %s: %s", peer->cfg->factory, why);
            return -1;
        }
        snprintf (peer->key_txt, sizeof peer->key_txt, "%s", zcert_public_txt (pub));
        zcert_destroy (&pub);
    }
    return 0;
}

static int
s_auth_start (gateway_t *self, char *err, size_t err_len)
{
    char why[256];
    af_allowlist_t *probe = af_allowlist_new (self->cfg.allow_dir, why, sizeof why);
    if (!probe) {
        snprintf (err, err_len, "%s", why);
        return -1;
    }
    af_allowlist_destroy (&probe);
    self->auth = zactor_new (zauth, NULL);
    if (!self->auth) {
        snprintf (err, err_len, "cannot start the ZAP handler (zauth)");
        return -1;
    }
    zstr_sendx (self->auth, "CURVE", self->cfg.allow_dir, NULL);
    zsock_wait (self->auth);
    return 0;
}

gateway_t *
gateway_new (const gw_config_t *cfg, char *err, size_t err_len)
{
    gateway_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    self->n_peers = cfg->n_peers;
    for (size_t i = 0; i < self->n_peers; i++)
        self->peers[i].cfg = &self->cfg.peers[i];
    if (!zsys_has_curve ()) {
        snprintf (err, err_len, "this libzmq has no CURVE: the gateway runs CURVE always");
        goto fail;
    }
    if (s_keys_load (self, err, err_len) != 0 || s_auth_start (self, err, err_len) != 0)
        goto fail;
    af_keyfile_watch (&self->keyfile, self->cfg.key_path);
    if (gw_export_open (self, err, err_len) != 0 || s_sockets_open (self, err, err_len) != 0)
        goto fail;
    self->started_ns = gw_now_ns ();
    self->second_pass_ns = self->started_ns + GW_JOURNAL_SECOND_PASS_NS;
    if (gw_export_catch_up (self) < 0)
        af_warn ("journal catch-up failed; live traffic continues");
    af_info ("gateway of %s: serving %s, %zu peer(s)", cfg->factory, cfg->bind, cfg->n_peers);
    return self;
fail:
    gateway_destroy (&self);
    return NULL;
}

void
gateway_destroy (gateway_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gateway_t *self = *self_p;
    s_sockets_close (self);
    gw_export_close (self);
    zactor_destroy (&self->auth);
    zcert_destroy (&self->cert);
    free (self);
    *self_p = NULL;
}

/* Once a second: rotation of our key, pruning, the journal's second pass. */
static void
s_housekeeping (gateway_t *self, uint64_t now_ns)
{
    if (now_ns - self->housekeeping_ns < 1000000000ull)
        return;
    self->housekeeping_ns = now_ns;
    if (af_keyfile_changed (&self->keyfile)) {
        char err[700];
        if (s_keys_load (self, err, sizeof err) != 0)
            af_error ("key file changed but cannot be used, keeping the old key: %s", err);
        else {
            /* The server takes the new key for new connections (those up
             * stay, as authenticated); the links dial again with it. */
            zcert_apply (self->cert, self->server);
            for (size_t i = 0; i < self->n_peers; i++) {
                gw_export_close_links (&self->peers[i]);
                if (gw_export_open_links (self, &self->peers[i], err, sizeof err) != 0)
                    af_error ("after key rotation: %s", err);
            }
            self->counters.key_reloads++;
            af_info ("own key rotated: now %s", zcert_public_txt (self->cert));
        }
    }
    for (size_t i = 0; i < self->n_peers; i++)
        gw_outbox_prune (self->peers[i].outbox, gw_wall_ns ());
    if (!self->second_pass_done && now_ns >= self->second_pass_ns) {
        self->second_pass_done = true;
        gw_export_catch_up (self);
    }
}

int
gateway_iterate (gateway_t *self, int timeout_ms)
{
    enum { S_ITEMS = 4 };
    zmq_pollitem_t items[S_ITEMS + GW_MAX_PEERS * GW_MAX_LINKS];
    gw_link_t *owners[S_ITEMS + GW_MAX_PEERS * GW_MAX_LINKS];
    gw_peer_t *owner_peers[S_ITEMS + GW_MAX_PEERS * GW_MAX_LINKS];
    int n = 0;
    items[n++] = (zmq_pollitem_t) { zsock_resolve (self->server), 0, ZMQ_POLLIN, 0 };
    items[n++] = (zmq_pollitem_t) { zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0 };
    items[n++] = (zmq_pollitem_t) { zsock_resolve (self->monitor), 0, ZMQ_POLLIN, 0 };
    items[n++] = (zmq_pollitem_t) { zsock_resolve (self->sub_alarms), 0, ZMQ_POLLIN, 0 };
    for (size_t i = 0; i < self->n_peers; i++)
        for (size_t k = 0; k < self->peers[i].n_links; k++) {
            owners[n] = &self->peers[i].links[k];
            owner_peers[n] = &self->peers[i];
            items[n++] = (zmq_pollitem_t) { zsock_resolve (owners[n - 1]->dealer), 0, ZMQ_POLLIN, 0 };
        }
    uint64_t now = gw_now_ns ();
    int export_ms = gw_export_timeout_ms (self, now);
    if (export_ms < timeout_ms)
        timeout_ms = export_ms;
    if (zmq_poll (items, n, timeout_ms) < 0)
        return errno == EINTR ? 0 : -1;
    if (items[3].revents & ZMQ_POLLIN)
        gw_export_drain_sub (self, self->sub_alarms, GW_BURST);
    if (items[2].revents & ZMQ_POLLIN)
        gw_import_monitor (self);
    if (items[0].revents & ZMQ_POLLIN)
        gw_import_drain (self);
    if (items[1].revents & ZMQ_POLLIN) {
        gw_export_drain_sub (self, self->sub, GW_INTAKE_BURST);
        /* Alarms that came meanwhile go before the next telemetry. */
        gw_export_drain_sub (self, self->sub_alarms, GW_BURST);
    }
    for (int i = S_ITEMS; i < n; i++)
        if (items[i].revents & ZMQ_POLLIN)
            gw_export_link_recv (self, owner_peers[i], owners[i]);
    now = gw_now_ns ();
    for (size_t i = 0; i < self->n_peers; i++)
        gw_export_tick (self, &self->peers[i], now);
    s_housekeeping (self, now);
    return 0;
}

int
gateway_run (gateway_t *self, volatile sig_atomic_t *stop)
{
    while (!*stop)
        if (gateway_iterate (self, 100) != 0)
            return -1;
    return 0;
}

const gw_counters_t *
gateway_counters (const gateway_t *self)
{
    return &self->counters;
}

static void
s_write_peer (FILE *f, gw_peer_t *peer)
{
    const gw_outbox_counters_t *oc = gw_outbox_counters (peer->outbox);
    fprintf (f, "{\"factory\":\"%s\",\"active_link\":%d,\"pending\":%" PRIu64
             ",\"pending_bytes\":%" PRIu64 ",\"conflated\":%" PRIu64 ",\"dropped_cap\":%" PRIu64
             ",\"duplicates_offered\":%" PRIu64 ",\"over_cap\":%" PRIu64 ",\"acked\":[",
             peer->cfg->factory, peer->active, gw_outbox_pending (peer->outbox, -1),
             gw_outbox_pending_bytes (peer->outbox), oc->conflated, oc->dropped_cap, oc->duplicates,
             oc->over_cap);
    for (int l = 0; l < GW_LANES; l++)
        fprintf (f, "%s%" PRIu64, l ? "," : "", gw_outbox_acked (peer->outbox, l));
    fputs ("],\"delivered\":[", f);
    for (int l = 0; l < GW_LANES; l++)
        fprintf (f, "%s%" PRIu64, l ? "," : "", peer->delivered[l]);
    fputs ("],\"links\":[", f);
    for (size_t k = 0; k < peer->n_links; k++)
        fprintf (f, "%s{\"endpoint\":\"%s\",\"alive\":%s,\"dark\":%s}", k ? "," : "",
                 peer->links[k].cfg->endpoint, peer->links[k].alive ? "true" : "false",
                 peer->links[k].dark ? "true" : "false");
    fputs ("]}", f);
}

int
gateway_write_stats (gateway_t *self, const char *path)
{
    char tmp[GW_PATH_MAX + 8];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen (tmp, "w");
    if (!f)
        return -1;
    fputc ('{', f);
#define GW_X_JSON(name, doc) fprintf (f, "\"%s\":%" PRIu64 ",", #name, self->counters.name);
    GW_COUNTERS (GW_X_JSON)
#undef GW_X_JSON
    fputs ("\"peers\":[", f);
    for (size_t i = 0; i < self->n_peers; i++) {
        if (i)
            fputc (',', f);
        s_write_peer (f, &self->peers[i]);
    }
    fputs ("]}\n", f);
    if (fclose (f) != 0)
        return -1;
    return rename (tmp, path);
}
