/*  web_http — libmicrohttpd server for the dashboard.  See web_http.h.
 *
 *  libmicrohttpd parses HTTP (we never do); it runs an accepting thread and
 *  a thread per connection, which lets an event stream simply block in its
 *  reader until the state changes.  Requests are bounded by MHD's
 *  per-connection memory limit and by our connection limit.  */
#include "web_http.h"
#include "af_clock.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "af_log.h"
#include "web_assets.h"

/* Where Debian's libjs-chart.js puts Chart.js (a UMD build). */
static const char *const s_chart_paths[] = {
    "/usr/share/javascript/chart.js/chart.min.js",
    "/usr/share/javascript/chart.js/chart.js",
    "/usr/share/javascript/chart.js/chart.umd.js",
};
#define S_CHART_MAX_BYTES (8u << 20)
/* A /api/state or /metrics body never grows past this. */
#define S_BODY_MAX_BYTES (16u << 20)
#define S_DEFAULT_CONNECTIONS 64
/* Idle connections are closed after this long. */
#define S_IDLE_TIMEOUT_S 60

/* Script and styles only from this server: data shown on the page can never
 * pull anything in from elsewhere. */
#define S_CSP "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " \
              "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

struct web_http {
    struct MHD_Daemon *daemon;
    web_state_t *state;
    char *chart_js;              /* Chart.js source, NULL if not found */
    size_t chart_js_len;
    atomic_bool stopping;
    int port;
};

typedef struct {
    web_http_t *http;
    web_buf_t buf;
    size_t off;
    uint64_t version;            /* last version sent */
    int64_t sent_ms;
    bool started;
    bool sent_full;              /* the first event (the whole state) went out */
} s_sse_t;

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

/* ------------------------------------------------------------ responses */

static void
s_common_headers (struct MHD_Response *r, const char *mime)
{
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
    MHD_add_response_header (r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header (r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (r, "Content-Security-Policy", S_CSP);
}

static enum MHD_Result
s_queue (web_http_t *self, struct MHD_Connection *conn, int status, struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response (conn, (unsigned) status, r);
    MHD_destroy_response (r);
    web_state_note_http (self->state, status);
    return rc;
}

static enum MHD_Result
s_static (web_http_t *self, struct MHD_Connection *conn, int status, const char *mime,
          const void *data, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer (len, (void *) data, MHD_RESPMEM_PERSISTENT);
    if (r)
        s_common_headers (r, mime);
    return s_queue (self, conn, status, r);
}

static enum MHD_Result
s_text (web_http_t *self, struct MHD_Connection *conn, int status, const char *text)
{
    return s_static (self, conn, status, "text/plain; charset=utf-8", text, strlen (text));
}

/* Hands a rendered buffer to MHD (which frees it). */
static enum MHD_Result
s_dynamic (web_http_t *self, struct MHD_Connection *conn, const char *mime, web_buf_t *buf)
{
    if (buf->truncated || !buf->data) {
        web_buf_free (buf);
        return s_text (self, conn, 500, "state too large to render\n");
    }
    struct MHD_Response *r = MHD_create_response_from_buffer (buf->len, buf->data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        web_buf_free (buf);
        return MHD_NO;
    }
    buf->data = NULL;            /* MHD owns it now */
    s_common_headers (r, mime);
    return s_queue (self, conn, 200, r);
}

/* ------------------------------------------------------------ /events */

static ssize_t
s_sse_read (void *cls, uint64_t pos, char *out, size_t max)
{
    s_sse_t *sse = cls;
    web_http_t *self = sse->http;
    (void) pos;
    if (sse->off >= sse->buf.len) {
        if (atomic_load (&self->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        web_buf_reset (&sse->buf);
        sse->off = 0;
        if (!sse->started) {
            /* The first event is the whole state; later ones are deltas. */
            sse->started = true;
            web_buf_puts (&sse->buf, "retry: 2000\n");
        }
        else {
            /* Coalesce: at most one event per WEB_SSE_MIN_MS. */
            int64_t wait_ms = sse->sent_ms + WEB_SSE_MIN_MS - af_clock_mono_ms ();
            if (wait_ms > 0)
                s_sleep_ms ((int) wait_ms);
            web_state_wait (self->state, sse->version, WEB_SSE_MAX_MS);
            if (atomic_load (&self->stopping))
                return MHD_CONTENT_READER_END_OF_STREAM;
        }
        bool first = sse->version == 0 && !sse->sent_full;
        if (first || web_state_version (self->state) > sse->version) {
            web_buf_puts (&sse->buf, "event: state\ndata: ");
            /* The JSON has no raw newlines (they are escaped), so it is one
             * data line. */
            uint64_t ver = web_state_json (self->state, sse->version, &sse->buf);
            web_buf_puts (&sse->buf, "\n\n");
            if (sse->buf.truncated) {
                web_buf_reset (&sse->buf);
                web_buf_puts (&sse->buf, ": state too large\n\n");
            }
            else {
                sse->version = ver;
                sse->sent_full = true;
            }
        }
        else
            web_buf_puts (&sse->buf, ": keep-alive\n\n");
        sse->sent_ms = af_clock_mono_ms ();
        if (sse->buf.truncated || !sse->buf.data)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = sse->buf.len - sse->off;
    if (n > max)
        n = max;
    memcpy (out, sse->buf.data + sse->off, n);
    sse->off += n;
    return (ssize_t) n;
}

static void
s_sse_free (void *cls)
{
    s_sse_t *sse = cls;
    web_state_note_sse (sse->http->state, -1);
    web_buf_free (&sse->buf);
    free (sse);
}

static enum MHD_Result
s_events (web_http_t *self, struct MHD_Connection *conn)
{
    s_sse_t *sse = calloc (1, sizeof *sse);
    if (!sse)
        return MHD_NO;
    sse->http = self;
    web_buf_init (&sse->buf, S_BODY_MAX_BYTES);
    struct MHD_Response *r = MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 16 * 1024, s_sse_read, sse,
                                                                s_sse_free);
    if (!r) {
        web_buf_free (&sse->buf);
        free (sse);
        return MHD_NO;
    }
    web_state_note_sse (self->state, +1);
    s_common_headers (r, "text/event-stream; charset=utf-8");
    return s_queue (self, conn, 200, r);
}

/* ------------------------------------------------------------ dispatch */

static enum MHD_Result
s_metrics (web_http_t *self, struct MHD_Connection *conn)
{
    web_buf_t buf;
    web_buf_init (&buf, S_BODY_MAX_BYTES);
    web_state_metrics (self->state, &buf);
    return s_dynamic (self, conn, "text/plain; version=0.0.4; charset=utf-8", &buf);
}

static enum MHD_Result
s_api_state (web_http_t *self, struct MHD_Connection *conn)
{
    web_buf_t buf;
    web_buf_init (&buf, S_BODY_MAX_BYTES);
    web_state_json (self->state, 0, &buf);
    web_buf_puts (&buf, "\n");
    return s_dynamic (self, conn, "application/json", &buf);
}

static enum MHD_Result
s_chart_js (web_http_t *self, struct MHD_Connection *conn)
{
    if (!self->chart_js)
        return s_text (self, conn, 404, "Chart.js is not installed (Debian package libjs-chart.js)\n");
    return s_static (self, conn, 200, "text/javascript; charset=utf-8", self->chart_js, self->chart_js_len);
}

/* Paths served from the state; the rest are the embedded files (web_assets). */
static const struct {
    const char *path;
    enum MHD_Result (*fn) (web_http_t *self, struct MHD_Connection *conn);
} s_routes[] = {
    { "/metrics", s_metrics },
    { "/api/state", s_api_state },
    { "/events", s_events },
    { "/chart.js", s_chart_js },
};

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    web_http_t *self = cls;
    (void) version, (void) upload_data, (void) con_cls;
    if (strcmp (method, MHD_HTTP_METHOD_GET) && strcmp (method, MHD_HTTP_METHOD_HEAD)) {
        /* Refuse at once; MHD discards any body and closes the connection. */
        *upload_data_size = 0;
        struct MHD_Response *r = MHD_create_response_from_buffer (strlen ("method not allowed\n"),
                                                                  (void *) "method not allowed\n",
                                                                  MHD_RESPMEM_PERSISTENT);
        if (r) {
            s_common_headers (r, "text/plain; charset=utf-8");
            MHD_add_response_header (r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        }
        return s_queue (self, conn, 405, r);
    }
    if (!strcmp (url, "/"))
        url = "/index.html";
    for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0]; i++)
        if (!strcmp (url, s_routes[i].path))
            return s_routes[i].fn (self, conn);
    for (size_t i = 0; i < web_assets_count; i++)
        if (!strcmp (url, web_assets[i].path))
            return s_static (self, conn, 200, web_assets[i].mime, web_assets[i].data, web_assets[i].len);
    return s_text (self, conn, 404, "not found\n");
}

/* ------------------------------------------------------------ lifecycle */

int
web_http_parse_listen (const char *text, char *host, size_t host_len, int *port)
{
    const char *colon = text ? strrchr (text, ':') : NULL;
    if (!colon || colon == text || (size_t) (colon - text) >= host_len || (size_t) (colon - text) >= 64)
        return -1;
    memcpy (host, text, (size_t) (colon - text));
    host[colon - text] = '\0';
    struct in_addr addr;
    if (inet_pton (AF_INET, host, &addr) != 1)
        return -1;
    char *end;
    long p = strtol (colon + 1, &end, 10);
    if (!colon[1] || *end || p < 0 || p > 65535)
        return -1;
    *port = (int) p;
    return 0;
}

static void
s_load_chart (web_http_t *self, const char *path)
{
    size_t n = path ? 1 : sizeof s_chart_paths / sizeof s_chart_paths[0];
    for (size_t i = 0; i < n && !self->chart_js; i++) {
        const char *p = path ? path : s_chart_paths[i];
        FILE *f = fopen (p, "rb");
        if (!f)
            continue;
        char *data = malloc (S_CHART_MAX_BYTES);
        size_t len = data ? fread (data, 1, S_CHART_MAX_BYTES, f) : 0;
        bool whole = data && len > 0 && len < S_CHART_MAX_BYTES && !ferror (f);
        fclose (f);
        if (!whole) {
            free (data);
            af_warn ("web: could not read Chart.js from %s", p);
            continue;
        }
        self->chart_js = data;
        self->chart_js_len = len;
        af_info ("web: serving Chart.js from %s (%zu bytes)", p, len);
    }
    if (!self->chart_js)
        af_warn ("web: Chart.js not found (%s); the dashboard's energy chart will be empty. "
                 "Install Debian's libjs-chart.js", path ? path : s_chart_paths[0]);
}

web_http_t *
web_http_new (web_state_t *state, const web_http_opts_t *opts, char *err, size_t err_len)
{
    char host[64];
    int port;
    if (!state || !opts || web_http_parse_listen (opts->listen, host, sizeof host, &port) != 0) {
        snprintf (err, err_len, "--listen wants IPV4:PORT, got '%s'", opts && opts->listen ? opts->listen : "");
        return NULL;
    }
    web_http_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "out of memory");
        return NULL;
    }
    self->state = state;
    atomic_init (&self->stopping, false);
    s_load_chart (self, opts->chart_js);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    inet_pton (AF_INET, host, &addr.sin_addr);
    unsigned limit = opts->max_connections > 0 ? (unsigned) opts->max_connections : S_DEFAULT_CONNECTIONS;
    self->daemon = MHD_start_daemon (MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD
                                     | MHD_USE_ERROR_LOG,
                                     (uint16_t) port, NULL, NULL, s_handle, self,
                                     MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                                     MHD_OPTION_CONNECTION_LIMIT, limit,
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) S_IDLE_TIMEOUT_S,
                                     MHD_OPTION_END);
    if (!self->daemon) {
        snprintf (err, err_len, "cannot listen on %s:%d (in use, or not an address of this host)", host, port);
        free (self->chart_js);
        free (self);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : port;
    return self;
}

void
web_http_destroy (web_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    web_http_t *self = *self_p;
    /* Event streams notice this within WEB_SSE_MAX_MS and end, so that
     * MHD_stop_daemon can join their threads. */
    atomic_store (&self->stopping, true);
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    free (self->chart_js);
    free (self);
    *self_p = NULL;
}

int
web_http_port (const web_http_t *self)
{
    return self ? self->port : 0;
}
