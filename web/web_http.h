/*  web_http — the dashboard's HTTP server (libmicrohttpd, a thread per
 *  connection): the page and its assets, /events (server-sent events),
 *  /api/state, /metrics and /chart.js.  It only reads the shared
 *  web_state_t, whose own mutex guards it.  */
#ifndef WEB_HTTP_H
#define WEB_HTTP_H

#include <stddef.h>

#include "web_state.h"

typedef struct web_http web_http_t;

/* Longest time between two server-sent events (a keep-alive comment when
 * nothing changed), and the shortest: deltas are coalesced to at most
 * 1000 / WEB_SSE_MIN_MS a second. */
#define WEB_SSE_MAX_MS 1000
#define WEB_SSE_MIN_MS 250

typedef struct {
    const char *listen;          /* "HOST:PORT", an IPv4 address; port 0 picks one */
    const char *chart_js;        /* path of Chart.js; NULL: Debian's libjs-chart.js */
    int max_connections;         /* 0: 64 */
} web_http_opts_t;

/* Binds and starts serving STATE (not owned).  NULL with a reason in ERR. */
web_http_t *web_http_new (web_state_t *state, const web_http_opts_t *opts, char *err, size_t err_len);
/* Ends open event streams, stops the threads and frees. */
void web_http_destroy (web_http_t **self_p);
/* The port actually bound. */
int web_http_port (const web_http_t *self);

/* Parses "HOST:PORT" (IPv4 literal, port 0..65535).  0 or -1. */
int web_http_parse_listen (const char *text, char *host, size_t host_len, int *port);

#endif
