/*  Integration tests of autofab-web: a real broker, a demo agent and the
 *  dashboard on free loopback ports.  /metrics in the Prometheus format with
 *  counters that grow, /api/state as JSON, 404/405 and garbage requests,
 *  the event stream, and the page itself rendered by headless Chromium
 *  (a screenshot, and two DOM dumps whose live values differ).  */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <czmq.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "af_test.h"

#define HB_MS 300
#define CHROMIUM "/usr/bin/chromium"
/* A response body is never larger than this in these tests. */
#define S_MAX_RESPONSE (8u << 20)

static aft_broker_t s_broker;
static pid_t s_demo_pid, s_web_pid;
static int s_web_port;

/* ------------------------------------------------------------ a tiny HTTP client */

typedef struct {
    int status;
    char *head;                  /* status line and headers */
    char *body;
    size_t body_len;
} s_resp_t;

static void
s_resp_free (s_resp_t *r)
{
    free (r->head);
    r->head = r->body = NULL;
}

/* Sends REQUEST as it is and reads until the server closes (or TIMEOUT_MS
 * passes, or MAX_BYTES came).  The status, or -1 if nothing came. */
static int
s_raw (const char *request, size_t request_len, s_resp_t *resp, int timeout_ms, size_t max_bytes)
{
    memset (resp, 0, sizeof *resp);
    resp->status = -1;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) s_web_port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0) {
        close (fd);
        return -1;
    }
    size_t sent = 0;
    while (sent < request_len) {
        ssize_t n = send (fd, request + sent, request_len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += (size_t) n;
    }
    char *buf = malloc (max_bytes + 1);
    size_t len = 0;
    int64_t deadline = zclock_mono () + timeout_ms;
    while (len < max_bytes && zclock_mono () < deadline) {
        ssize_t n = recv (fd, buf + len, max_bytes - len, 0);
        if (n <= 0)
            break;
        len += (size_t) n;
    }
    close (fd);
    buf[len] = '\0';
    char *split = strstr (buf, "\r\n\r\n");
    if (len < 12 || strncmp (buf, "HTTP/1.", 7) || !split) {
        free (buf);
        return -1;
    }
    *split = '\0';
    resp->head = buf;
    resp->body = split + 4;
    resp->body_len = len - (size_t) (resp->body - buf);
    resp->status = atoi (buf + 9);
    return resp->status;
}

static int
s_get (const char *path, s_resp_t *resp)
{
    char req[512];
    int n = snprintf (req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    return s_raw (req, (size_t) n, resp, 5000, S_MAX_RESPONSE);
}

/* The value of the sample NAME (exactly, labels included) in an exposition. */
static double
s_sample (const char *text, const char *name)
{
    size_t len = strlen (name);
    for (const char *p = text; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
        if (!strncmp (p, name, len) && p[len] == ' ')
            return strtod (p + len + 1, NULL);
    return -1;
}

/* ------------------------------------------------------------ fixture */

static void
s_setup (void)
{
    aft_zsys_init ();
    signal (SIGPIPE, SIG_IGN);
    cr_assert (aft_broker_start (&s_broker, 0, HB_MS), "broker did not start");
    char hb[16], listen[64];
    snprintf (hb, sizeof hb, "%d", HB_MS);
    const char *demo[] = { "--broker", s_broker.control, "--name", "press1", "--heartbeat-ms", hb,
                           "--rate-hz", "20", NULL };
    s_demo_pid = aft_spawn ("autofab-demo-agent", demo);
    s_web_port = aft_free_ports (1);
    snprintf (listen, sizeof listen, "127.0.0.1:%d", s_web_port);
    const char *web[] = { "--broker", s_broker.control, "--listen", listen, "--factory", "factory",
                          "--log-level", "debug", NULL };
    s_web_pid = aft_spawn ("autofab-web", web);
    /* Up when it answers and has heard the demo agent's birth and telemetry. */
    bool up = false;
    for (int i = 0; i < 100 && !up; i++) {
        s_resp_t r;
        if (s_get ("/metrics", &r) == 200)
            up = s_sample (r.body, "autofab_messages_total{class=\"tel\"}") > 0
                 && s_sample (r.body, "autofab_agents_alive") >= 1;
        s_resp_free (&r);
        if (!up)
            zclock_sleep (100);
    }
    cr_assert (up, "autofab-web did not come up with telemetry");
}

static void
s_teardown (void)
{
    cr_expect_eq (aft_stop (s_web_pid, SIGTERM, 5000), 0, "autofab-web did not stop cleanly");
    aft_stop (s_demo_pid, SIGTERM, 3000);
    aft_broker_stop (&s_broker);
}

TestSuite (web, .init = s_setup, .fini = s_teardown, .timeout = 60);

/* ------------------------------------------------------------ HTTP */

Test (web, metrics_exposition_grows)
{
    s_resp_t a, b;
    cr_assert_eq (s_get ("/metrics", &a), 200);
    cr_assert (strstr (a.head, "text/plain; version=0.0.4"), "%s", a.head);
    /* Every sample is announced by HELP and TYPE lines. */
    cr_assert (strstr (a.body, "# HELP autofab_messages_total "));
    cr_assert (strstr (a.body, "# TYPE autofab_messages_total counter\n"));
    cr_assert (strstr (a.body, "# TYPE autofab_agents_alive gauge\n"));
    for (const char *line = a.body; *line; line = strchr (line, '\n') + 1) {
        if (line[0] != '#') {
            char type[128];
            int len = (int) strcspn (line, "{ ");
            snprintf (type, sizeof type, "# TYPE %.*s ", len, line);
            cr_assert (strstr (a.body, type), "no TYPE for '%.*s'", len + 20, line);
        }
        if (!strchr (line, '\n'))
            break;
    }
    cr_assert (strstr (a.body, "autofab_agent_up{agent=\"press1\",kind=\"demo\",cell=\"cell1\"} 1\n"), "%s", a.body);
    cr_assert_geq (s_sample (a.body, "autofab_agents_alive"), 1);
    zclock_sleep (1200);
    cr_assert_eq (s_get ("/metrics", &b), 200);
    double tel_a = s_sample (a.body, "autofab_messages_total{class=\"tel\"}");
    double tel_b = s_sample (b.body, "autofab_messages_total{class=\"tel\"}");
    cr_assert_gt (tel_b, tel_a, "messages did not grow: %g then %g", tel_a, tel_b);
    /* The broker publishes its counters every second. */
    cr_assert_gt (s_sample (b.body, "autofab_broker_relayed_msgs_total"), 0, "%s", b.body);
    s_resp_free (&a);
    s_resp_free (&b);
}

/* Issue 18: names in base units and numbers in their shortest exact form,
 * and `promtool check metrics` (Prometheus's own lint) finds nothing. */
Test (web, metrics_pass_promtool)
{
    af_bus_t *bus = aft_bus (&s_broker, "lint-test");
    cr_assert_eq (af_bus_wait_ready (bus, 3000), 0);
    Autofab__Metric m[2] = { AUTOFAB__METRIC__INIT, AUTOFAB__METRIC__INIT };
    m[0].name = (char *) "vibration_rms_mm_s";
    m[0].value = 90;             /* mm/s: 0.09 m/s */
    m[1].name = (char *) "temp_c";
    m[1].value = 0.1 + 0.2;      /* 0.30000000000000004: needs all 17 digits */
    s_resp_t r = { 0 };
    bool seen = false;
    for (int i = 0; i < 50 && !seen; i++) {
        af_bus_publish_metrics (bus, "tel.factory.plant.twin.station.lint", m, 2);
        zclock_sleep (100);
        s_resp_free (&r);
        cr_assert_eq (s_get ("/metrics", &r), 200);
        seen = strstr (r.body, "station=\"lint\"") != NULL;
    }
    af_bus_destroy (&bus);
    cr_assert (seen, "the station never showed:\n%s", r.body);
    cr_expect (strstr (r.body, "autofab_station_vibration_rms_meters_per_second{station=\"lint\"} 0.09\n"),
               "%s", r.body);
    cr_expect (strstr (r.body, "autofab_station_temperature_celsius{station=\"lint\"} 0.30000000000000004\n"),
               "%s", r.body);
    cr_expect (!strstr (r.body, "_mm_s"), "an abbreviated unit is left");
    if (access ("/usr/bin/promtool", X_OK) != 0) {
        cr_log_warn ("promtool is not installed: /metrics not linted");
        s_resp_free (&r);
        return;
    }
    char path[] = "/tmp/af-metrics-XXXXXX";
    int fd = mkstemp (path);
    cr_assert_geq (fd, 0);
    cr_assert_eq (write (fd, r.body, strlen (r.body)), (ssize_t) strlen (r.body));
    close (fd);
    char cmd[256];
    snprintf (cmd, sizeof cmd, "/usr/bin/promtool check metrics < %s > %s.out 2>&1", path, path);
    int rc = system (cmd);
    char out_path[64];
    snprintf (out_path, sizeof out_path, "%s.out", path);
    FILE *f = fopen (out_path, "r");
    char lint[2048] = "";
    if (f) {
        size_t n = fread (lint, 1, sizeof lint - 1, f);
        lint[n] = 0;
        fclose (f);
    }
    cr_expect_eq (rc, 0, "promtool check metrics: %s", lint);
    unlink (path);
    unlink (out_path);
    s_resp_free (&r);
}

Test (web, api_state_is_json)
{
    s_resp_t r;
    cr_assert_eq (s_get ("/api/state", &r), 200);
    cr_assert (strstr (r.head, "application/json"));
    cr_assert (strstr (r.body, "\"topic\":\"tel.factory.cell1.press1.st1\""), "%s", r.body);
    char path[] = "/tmp/autofab-test-web-XXXXXX";
    int fd = mkstemp (path);
    cr_assert_geq (fd, 0);
    cr_assert_eq (write (fd, r.body, r.body_len), (ssize_t) r.body_len);
    close (fd);
    char cmd[256];
    snprintf (cmd, sizeof cmd, "python3 -m json.tool %s > /dev/null", path);
    int rc = system (cmd);
    unlink (path);
    cr_assert_eq (rc, 0, "python3 -m json.tool refused /api/state");
    s_resp_free (&r);
}

Test (web, unknown_paths_methods_and_garbage)
{
    s_resp_t r;
    cr_assert_eq (s_get ("/nope", &r), 404);
    s_resp_free (&r);
    cr_assert_eq (s_get ("/../../etc/passwd", &r), 404);
    s_resp_free (&r);
    const char post[] = "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    cr_assert_eq (s_raw (post, sizeof post - 1, &r, 5000, 1 << 16), 405);
    cr_assert (strstr (r.head, "Allow: GET"), "%s", r.head);
    s_resp_free (&r);
    /* Garbage and an oversized request line: refused, never a crash. */
    const char garbage[] = "\x01\x02 HELLO \xff\r\n\r\n";
    s_raw (garbage, sizeof garbage - 1, &r, 2000, 1 << 16);
    s_resp_free (&r);
    size_t big = 200 * 1024;
    char *huge = malloc (big + 64);
    memcpy (huge, "GET /", 5);
    memset (huge + 5, 'a', big);
    memcpy (huge + 5 + big, " HTTP/1.1\r\n\r\n", 14);
    int status = s_raw (huge, big + 19, &r, 3000, 1 << 16);
    cr_assert (status < 0 || status >= 400, "status %d", status);
    s_resp_free (&r);
    free (huge);
    cr_assert_eq (s_get ("/", &r), 200, "the server survives");
    cr_assert (strstr (r.body, "<canvas id=\"energy-chart\""));
    cr_assert (strstr (r.head, "Content-Security-Policy"));
    s_resp_free (&r);
    cr_assert_eq (s_get ("/chart.js", &r), access ("/usr/share/javascript/chart.js/chart.min.js", R_OK) == 0 ? 200 : 404);
    s_resp_free (&r);
}

Test (web, event_stream_sends_state)
{
    const char req[] = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    s_resp_t r;
    /* The stream never ends: read what comes in 1.5 s. */
    cr_assert_eq (s_raw (req, sizeof req - 1, &r, 1500, 1 << 20), 200);
    cr_assert (strstr (r.head, "text/event-stream"));
    cr_assert (strstr (r.body, "event: state\ndata: {\"version\":"), "%.300s", r.body);
    cr_assert (strstr (r.body, "\"full\":true"));
    cr_assert (strstr (r.body, "\"full\":false"), "no delta after the first event");
    s_resp_free (&r);
}

Test (web, many_streams_then_recovers)
{
    /* More event streams than the connection limit, dropped without a word:
     * the server refuses the extra ones, notices the dead ones and serves on. */
    enum { N = 80 };
    int fds[N];
    const char req[] = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < N; i++) {
        fds[i] = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) s_web_port) };
        addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        if (connect (fds[i], (struct sockaddr *) &addr, sizeof addr) == 0)
            send (fds[i], req, sizeof req - 1, MSG_NOSIGNAL);
    }
    zclock_sleep (500);
    for (int i = 0; i < N; i++)
        close (fds[i]);
    double clients = -1;
    for (int i = 0; i < 50 && clients != 0; i++) {
        zclock_sleep (100);
        s_resp_t r;
        if (s_get ("/metrics", &r) == 200)
            clients = s_sample (r.body, "autofab_web_sse_clients");
        s_resp_free (&r);
    }
    cr_assert_eq (clients, 0, "event streams of closed connections still counted: %g", clients);
}

/* ------------------------------------------------------------ the browser */

/* Runs Chromium headless on PATH of our server with ACTION ("--screenshot=F"
 * or "--dump-dom"), stdout to OUT; true if it exited 0 within 30 s. */
static bool
s_chromium (const char *action, const char *path, const char *out)
{
    char profile[] = "/tmp/autofab-test-chromium-XXXXXX";
    if (!mkdtemp (profile))
        return false;
    char user_dir[128], url[128];
    snprintf (user_dir, sizeof user_dir, "--user-data-dir=%s", profile);
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", s_web_port, path);
    /* The page stops listening after a few updates (?events=N) so that
     * virtual time, which waits for open connections, can run out. */
    const char *argv[] = { CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                           "--no-first-run", "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", "--disable-dev-shm-usage", user_dir, "--window-size=1280,900",
                           "--virtual-time-budget=5000", action, url, NULL };
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int devnull = open ("/dev/null", O_WRONLY);
        if (fd >= 0)
            dup2 (fd, 1);
        if (devnull >= 0)
            dup2 (devnull, 2);
        setpgid (0, 0);          /* so that a timeout can end its children too */
        execv (CHROMIUM, (char *const *) argv);
        _exit (127);
    }
    int rc = aft_wait_exit (pid, 30000);
    if (rc < 0) {
        kill (-pid, SIGKILL);
        waitpid (pid, NULL, 0);
    }
    char rm[200];
    snprintf (rm, sizeof rm, "rm -rf %s", profile);
    if (system (rm) != 0)
        cr_log_warn ("could not remove %s", profile);
    return rc == 0;
}

static char *
s_slurp (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *data = malloc (S_MAX_RESPONSE + 1);
    *len = fread (data, 1, S_MAX_RESPONSE, f);
    data[*len] = '\0';
    fclose (f);
    return data;
}

/* The text of the element with id ID in a DOM dump, as a number. */
static double
s_dom_number (const char *dom, const char *id)
{
    char key[96];
    snprintf (key, sizeof key, "id=\"%s\">", id);
    const char *p = strstr (dom, key);
    return p ? strtod (p + strlen (key), NULL) : -1;
}

Test (web, chromium_renders_live_dashboard)
{
    if (access (CHROMIUM, X_OK) != 0)
        cr_skip_test ("%s is not installed (Debian package chromium): browser test skipped", CHROMIUM);
    /* A station and a hostile alarm, so the page has both to show. */
    af_bus_t *bus = aft_bus (&s_broker, "tester");
    af_bus_wait_ready (bus, 3000);
    const char *names[] = { "state", "buffer_level" };
    Autofab__Metric m[2] = { AUTOFAB__METRIC__INIT, AUTOFAB__METRIC__INIT };
    m[0].name = (char *) names[0], m[0].value = 3;
    m[1].name = (char *) names[1], m[1].value = 4;
    af_bus_publish_metrics (bus, "tel.factory.plant.twin.station.weld", m, 2);
    Autofab__Alarm al = AUTOFAB__ALARM__INIT;
    al.severity = AUTOFAB__ALARM__SEVERITY__SEVERITY_CRITICAL;
    al.code = "overheat";
    al.text = "<img src=x onerror=alert(1)>";
    al.active = true;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_ALARM;
    env.alarm = &al;
    af_bus_publish (bus, "alm.factory.plant.press1.overheat", &env);
    zclock_sleep (300);
    af_bus_destroy (&bus);

    char png[] = "/tmp/autofab-test-web-shot-XXXXXX.png", dom1[] = "/tmp/autofab-test-web-dom-XXXXXX",
         dom2[] = "/tmp/autofab-test-web-dom-XXXXXX";
    close (mkstemps (png, 4));  /* Chromium picks the format by suffix */
    close (mkstemp (dom1));
    close (mkstemp (dom2));
    char shot[128];
    snprintf (shot, sizeof shot, "--screenshot=%s", png);
    cr_assert (s_chromium (shot, "/?events=3", "/dev/null"), "chromium --screenshot failed");
    size_t len;
    char *data = s_slurp (png, &len);
    cr_assert (data && len > 20000, "screenshot too small: %zu bytes", data ? len : 0);
    cr_assert (!memcmp (data, "\x89PNG\r\n\x1a\n", 8), "not a PNG");
    free (data);

    cr_assert (s_chromium ("--dump-dom", "/?events=2", dom1), "chromium --dump-dom failed");
    zclock_sleep (1500);
    cr_assert (s_chromium ("--dump-dom", "/?events=2", dom2), "chromium --dump-dom failed");
    char *a = s_slurp (dom1, &len), *b = s_slurp (dom2, &len);
    cr_assert (a && b);
    /* The stream reached the page, and what it shows moved on. */
    cr_assert (strstr (a, "data-state=\"paused\""), "the page never got an update");
    double total_a = s_dom_number (a, "msg-total"), total_b = s_dom_number (b, "msg-total");
    cr_assert_gt (total_a, 0, "no messages shown");
    cr_assert_gt (total_b, total_a, "live values did not change: %g then %g", total_a, total_b);
    cr_assert (strstr (a, "data-topic=\"tel.factory.cell1.press1.st1\""), "no generic telemetry row");
    /* Each latest value says how old it is (the demo agent sends wall time). */
    cr_assert (strstr (a, " s ago</td>"), "no age on the latest values");
    cr_assert (strstr (a, "data-station=\"weld\" data-state=\"down\""), "no down station tile");
    cr_assert (strstr (a, "data-agent=\"press1\" data-alive=\"true\""), "no live agent");
    /* The alarm text is shown as text, never as markup. */
    cr_assert (strstr (a, "&lt;img src=x onerror=alert(1)&gt;"), "alarm text missing");
    cr_assert_null (strstr (a, "<img src=\"x\""), "alarm text became markup");
    free (a);
    free (b);
    unlink (png);
    unlink (dom1);
    unlink (dom2);
}

/* ------------------------------------------------------------ the command line */

Test (web_cli, help_and_bad_usage)
{
    const char *help[] = { "--help", NULL };
    cr_assert_eq (aft_wait_exit (aft_spawn ("autofab-web", help), 5000), 0);
    const char *bad_listen[] = { "--listen", "localhost:http", NULL };
    cr_assert_eq (aft_wait_exit (aft_spawn ("autofab-web", bad_listen), 5000), 2);
    const char *bad_factory[] = { "--factory", "a.b", NULL };
    cr_assert_eq (aft_wait_exit (aft_spawn ("autofab-web", bad_factory), 5000), 2);
    /* A port that is taken: one clear line and status 1, not a hang. */
    int port = aft_free_ports (1);
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    cr_assert_eq (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
    cr_assert_eq (listen (fd, 1), 0);
    char listen_arg[64];
    snprintf (listen_arg, sizeof listen_arg, "127.0.0.1:%d", port);
    const char *taken[] = { "--listen", listen_arg, "--broker", "tcp://127.0.0.1:1", NULL };
    cr_assert_eq (aft_wait_exit (aft_spawn ("autofab-web", taken), 5000), 1);
    close (fd);
}
