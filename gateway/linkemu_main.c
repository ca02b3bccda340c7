/*  autofab-linkemu — a user-space link emulator: a TCP relay that delays,
 *  paces, "loses", disconnects and blacks out (model in linkemu.h).
 *
 *  One thread, one poll loop.  Each accepted connection is relayed to the
 *  target; each direction reads segments from its source, schedules them
 *  with the model and writes each to its destination when it is due.  A
 *  direction stops reading while it holds more than its buffer (a bottleneck
 *  queue the size of the bandwidth-delay product plus LINKEMU_QUEUE_BYTES),
 *  so the sender feels the link's bandwidth through TCP backpressure.
 */
#include "linkemu.h"
#include "af_args.h"
#include "af_log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_PROG "autofab-linkemu"
/* Bottleneck buffer beyond the bandwidth-delay product, bytes. */
#define LINKEMU_QUEUE_BYTES (256u * 1024u)
/* With no bandwidth cap, a direction holds at most this much. */
#define LINKEMU_UNLIMITED_QUEUE_BYTES (8u << 20)
#define S_MAX_CONNS 64
/* Outages (random or planned) remembered for --stats, wall clock. */
#define S_MAX_OUTAGE_LOG 512

typedef struct seg {
    struct seg *next;
    uint64_t due_ns;
    size_t len, off;
    char data[];
} seg_t;

typedef struct {
    int src, dst;
    linkemu_dir_t model;
    seg_t *head, *tail;
    size_t queued;
    bool src_eof, dst_shut;
} pipe_t;

typedef struct {
    bool used;
    int client, target;
    pipe_t up, down;         /* client -> target, target -> client */
} conn_t;

typedef struct {
    linkemu_profile_t prof;
    struct sockaddr_in listen_addr, target_addr;
    uint64_t seed;
    const char *stats_path;
    int listener;
    conn_t conns[S_MAX_CONNS];
    size_t queue_cap;
    double delay_ms;         /* one-way, drawn once per run, scaled */
    uint64_t outage_start_ns, outage_end_ns, rng;
    bool have_outage, dark;
    /* counters */
    uint64_t accepted, refused, resets, outages, blackouts;
    uint64_t outage_log[S_MAX_OUTAGE_LOG][2];
    size_t n_outage_log;
} emu_t;

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

static uint64_t
s_now_ns (clockid_t clock)
{
    struct timespec ts;
    clock_gettime (clock, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* -------------------------------------------------------------- pipes */

static void
s_pipe_init (emu_t *emu, pipe_t *p, int src, int dst, uint64_t seed)
{
    memset (p, 0, sizeof *p);
    p->src = src;
    p->dst = dst;
    linkemu_dir_init (&p->model, &emu->prof, seed);
}

static void
s_pipe_clear (pipe_t *p)
{
    while (p->head) {
        seg_t *s = p->head;
        p->head = s->next;
        free (s);
    }
    p->tail = NULL;
    p->queued = 0;
}

/* Reads what the source has, as segments, while the buffer has room.
 * Returns -1 when the connection must be closed. */
static int
s_pipe_read (emu_t *emu, pipe_t *p, uint64_t now_ns)
{
    while (!p->src_eof && p->queued < emu->queue_cap) {
        char buf[LINKEMU_MSS];
        ssize_t n = recv (p->src, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0) {
            p->src_eof = true;
            break;
        }
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
        seg_t *s = malloc (sizeof *s + (size_t) n);
        if (!s)
            return -1;
        memcpy (s->data, buf, (size_t) n);
        s->len = (size_t) n;
        s->off = 0;
        s->next = NULL;
        s->due_ns = linkemu_dir_schedule (&p->model, now_ns, (size_t) n);
        if (p->tail)
            p->tail->next = s;
        else
            p->head = s;
        p->tail = s;
        p->queued += (size_t) n;
    }
    return 0;
}

/* Writes the segments that are due.  Returns -1 on a write error. */
static int
s_pipe_write (pipe_t *p, uint64_t now_ns)
{
    while (p->head && p->head->due_ns <= now_ns) {
        seg_t *s = p->head;
        ssize_t n = send (p->dst, s->data + s->off, s->len - s->off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
        s->off += (size_t) n;
        if (s->off < s->len)
            return 0;
        p->head = s->next;
        if (!p->head)
            p->tail = NULL;
        p->queued -= s->len;
        free (s);
    }
    if (!p->head && p->src_eof && !p->dst_shut) {
        shutdown (p->dst, SHUT_WR);
        p->dst_shut = true;
    }
    return 0;
}

/* -------------------------------------------------------- connections */

/* Closes a connection; ABORT resets it (RST) as a failing link would. */
static void
s_conn_close (conn_t *c, bool abort)
{
    int fds[2] = { c->client, c->target };
    for (int i = 0; i < 2; i++) {
        if (fds[i] < 0)
            continue;
        if (abort) {
            struct linger lg = { .l_onoff = 1, .l_linger = 0 };
            setsockopt (fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close (fds[i]);
    }
    s_pipe_clear (&c->up);
    s_pipe_clear (&c->down);
    memset (c, 0, sizeof *c);
    c->client = c->target = -1;
}

static void
s_reset_all (emu_t *emu)
{
    for (int i = 0; i < S_MAX_CONNS; i++)
        if (emu->conns[i].used) {
            s_conn_close (&emu->conns[i], true);
            emu->resets++;
        }
}

static void
s_refuse (int fd)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close (fd);
}

static void
s_accept (emu_t *emu, bool link_down)
{
    int fd = accept4 (emu->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    conn_t *c = NULL;
    for (int i = 0; i < S_MAX_CONNS && !c; i++)
        if (!emu->conns[i].used)
            c = &emu->conns[i];
    if (link_down || !c) {
        s_refuse (fd);
        emu->refused++;
        return;
    }
    int t = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (t < 0 || connect (t, (struct sockaddr *) &emu->target_addr, sizeof emu->target_addr) != 0) {
        AF_LOG_ONCE (AF_LOG_WARN, "cannot reach the target: %s", strerror (errno));
        if (t >= 0)
            close (t);
        s_refuse (fd);
        emu->refused++;
        return;
    }
    fcntl (t, F_SETFL, fcntl (t, F_GETFL) | O_NONBLOCK);
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt (t, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->used = true;
    c->client = fd;
    c->target = t;
    emu->accepted++;
    s_pipe_init (emu, &c->up, fd, t, emu->seed * 2 + emu->accepted);
    s_pipe_init (emu, &c->down, t, fd, emu->seed * 2 + emu->accepted + 7919);
    /* Every connection of one run sees the one drawn delay. */
    c->up.model.delay_ms = c->down.model.delay_ms = emu->delay_ms;
}

/* ---------------------------------------------------------- link state */

/* Updates outages and blackouts; true while the link is down. */
static bool
s_link_state (emu_t *emu, uint64_t mono_ns, uint64_t *next_ns)
{
    uint64_t until = 0;
    bool dark = linkemu_blackout (&emu->prof, s_now_ns (CLOCK_REALTIME), &until);
    if (dark && !emu->dark) {
        emu->blackouts++;
        af_info ("blackout (contact plan) for %.3f s",
                 (double) (until - s_now_ns (CLOCK_REALTIME)) / 1e9);
    }
    emu->dark = dark;
    if (until) {
        uint64_t in = until - s_now_ns (CLOCK_REALTIME);
        if (mono_ns + in < *next_ns)
            *next_ns = mono_ns + in;
    }
    bool out = false;
    if (emu->have_outage) {
        if (mono_ns >= emu->outage_end_ns) {
            uint64_t len = 0;
            emu->have_outage = linkemu_next_outage (&emu->prof, &emu->rng, mono_ns,
                                                    &emu->outage_start_ns, &len);
            emu->outage_end_ns = emu->outage_start_ns + len;
        }
        out = emu->have_outage && mono_ns >= emu->outage_start_ns;
        uint64_t edge = out ? emu->outage_end_ns : emu->outage_start_ns;
        if (emu->have_outage && edge < *next_ns)
            *next_ns = edge;
    }
    return dark || out;
}

/* ------------------------------------------------------------- the loop */

static int
s_run (emu_t *emu)
{
    bool was_down = false;
    while (!s_stop) {
        uint64_t now = s_now_ns (CLOCK_MONOTONIC);
        uint64_t next = now + 1000000000ull;
        bool down = s_link_state (emu, now, &next);
        if (down && !was_down) {
            if (!emu->dark)
                emu->outages++;
            s_reset_all (emu);
            if (emu->n_outage_log < S_MAX_OUTAGE_LOG)
                emu->outage_log[emu->n_outage_log][0] = s_now_ns (CLOCK_REALTIME);
        }
        if (!down && was_down && emu->n_outage_log < S_MAX_OUTAGE_LOG)
            emu->outage_log[emu->n_outage_log++][1] = s_now_ns (CLOCK_REALTIME);
        was_down = down;
        struct pollfd fds[1 + 2 * S_MAX_CONNS];
        conn_t *owner[1 + 2 * S_MAX_CONNS];
        int n = 0;
        fds[n++] = (struct pollfd) { .fd = emu->listener, .events = POLLIN };
        for (int i = 0; i < S_MAX_CONNS; i++) {
            conn_t *c = &emu->conns[i];
            if (!c->used)
                continue;
            pipe_t *ps[2] = { &c->up, &c->down };
            short ev[2] = { 0, 0 };  /* events on client, target */
            for (int k = 0; k < 2; k++) {
                pipe_t *p = ps[k];
                short *src_ev = &ev[k], *dst_ev = &ev[1 - k];
                if (!p->src_eof && p->queued < emu->queue_cap)
                    *src_ev |= POLLIN;
                if (p->head && p->head->due_ns <= now)
                    *dst_ev |= POLLOUT;
                else if (p->head && p->head->due_ns < next)
                    next = p->head->due_ns;
            }
            owner[n] = c;
            fds[n++] = (struct pollfd) { .fd = c->client, .events = ev[0] };
            owner[n] = c;
            fds[n++] = (struct pollfd) { .fd = c->target, .events = ev[1] };
        }
        int timeout_ms = next > now ? (int) ((next - now + 999999) / 1000000) : 0;
        if (poll (fds, (nfds_t) n, timeout_ms) < 0 && errno != EINTR)
            return 1;
        now = s_now_ns (CLOCK_MONOTONIC);
        if (fds[0].revents & POLLIN)
            s_accept (emu, down);
        for (int i = 1; i < n; i += 2) {
            conn_t *c = owner[i];
            if (!c->used)
                continue;
            bool fail = (fds[i].revents | fds[i + 1].revents) & (POLLERR | POLLNVAL);
            fail = fail || s_pipe_read (emu, &c->up, now) != 0 || s_pipe_read (emu, &c->down, now) != 0;
            fail = fail || s_pipe_write (&c->up, now) != 0 || s_pipe_write (&c->down, now) != 0;
            bool done = c->up.dst_shut && c->down.dst_shut;
            if (fail || done)
                s_conn_close (c, fail);
        }
    }
    return 0;
}

/* ------------------------------------------------------------- options */

static const char s_usage[] =
    "usage: autofab-linkemu --listen [HOST:]PORT --target HOST:PORT [--profile NAME] [options]\n"
    "\n"
    "Relays TCP connections from --listen to --target through an emulated link:\n"
    "one-way delay, jitter, bandwidth cap, loss (as TCP retransmission delay),\n"
    "random disconnects and scheduled blackouts.  Profiles: fibre, leo, mars.\n"
    "Options after --profile override its numbers.\n"
    "\n"
    "  --delay-ms MIN[:MAX]        one-way delay; one value drawn per run\n"
    "  --jitter-ms MS              uniform extra delay per segment\n"
    "  --rate-bps BPS              bandwidth cap, bit/s (0: none)\n"
    "  --loss P                    segment loss probability, [0, 1)\n"
    "  --disconnect-every-s S      mean time between random disconnects (0: none)\n"
    "  --disconnect-s MIN[:MAX]    length of a random disconnect\n"
    "  --blackout-period-s S       contact plan cycle (0: none)\n"
    "  --blackout-frac F           dark share at the end of each cycle\n"
    "  --blackout-offset-s S       cycle start after the Unix epoch\n"
    "  --time-scale K              divide every time by K (mars in tests: 1000)\n"
    "  --seed N                    random seed (default 1)\n"
    "  --stats FILE                write counters as JSON here at exit\n"
    "  --log-level LEVEL           debug, info, warn, error\n";

static int
s_parse_addr (const char *text, bool host_optional, struct sockaddr_in *out)
{
    char host[64] = "127.0.0.1";
    const char *colon = strrchr (text, ':');
    const char *port_text = text;
    if (colon) {
        size_t len = (size_t) (colon - text);
        if (len == 0 || len >= sizeof host)
            return -1;
        memcpy (host, text, len);
        host[len] = 0;
        port_text = colon + 1;
    }
    else if (!host_optional)
        return -1;
    long port;
    char why[64];
    if (af_parse_long (port_text, 1, 65535, &port, why, sizeof why) != 0)
        return -1;
    memset (out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons ((uint16_t) port);
    return inet_pton (AF_INET, host, &out->sin_addr) == 1 ? 0 : -1;
}

/* "MIN[:MAX]" into two numbers. */
static int
s_parse_range (const char *text, double *lo, double *hi)
{
    char buf[64], why[64];
    snprintf (buf, sizeof buf, "%s", text);
    char *colon = strchr (buf, ':');
    if (colon)
        *colon = 0;
    if (af_parse_double (buf, 0, 1e12, lo, why, sizeof why) != 0)
        return -1;
    *hi = *lo;
    if (colon && af_parse_double (colon + 1, *lo, 1e12, hi, why, sizeof why) != 0)
        return -1;
    return 0;
}

enum {
    O_LISTEN = 256, O_TARGET, O_PROFILE, O_DELAY, O_JITTER, O_RATE, O_LOSS, O_DISC_EVERY,
    O_DISC_LEN, O_BO_PERIOD, O_BO_FRAC, O_BO_OFFSET, O_SCALE, O_SEED, O_STATS, O_LOG
};

/* A number option: which field it sets. */
typedef struct {
    int id;
    size_t offset;
} s_num_opt_t;

static const s_num_opt_t s_num_opts[] = {
    { O_JITTER, offsetof (linkemu_profile_t, jitter_ms) },
    { O_RATE, offsetof (linkemu_profile_t, rate_bps) },
    { O_LOSS, offsetof (linkemu_profile_t, loss) },
    { O_DISC_EVERY, offsetof (linkemu_profile_t, disconnect_every_s) },
    { O_BO_PERIOD, offsetof (linkemu_profile_t, blackout_period_s) },
    { O_BO_FRAC, offsetof (linkemu_profile_t, blackout_frac) },
    { O_BO_OFFSET, offsetof (linkemu_profile_t, blackout_offset_s) },
    { O_SCALE, offsetof (linkemu_profile_t, time_scale) },
};

static int
s_parse (emu_t *emu, int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, 0, O_LISTEN }, { "target", required_argument, 0, O_TARGET },
        { "profile", required_argument, 0, O_PROFILE }, { "delay-ms", required_argument, 0, O_DELAY },
        { "jitter-ms", required_argument, 0, O_JITTER }, { "rate-bps", required_argument, 0, O_RATE },
        { "loss", required_argument, 0, O_LOSS },
        { "disconnect-every-s", required_argument, 0, O_DISC_EVERY },
        { "disconnect-s", required_argument, 0, O_DISC_LEN },
        { "blackout-period-s", required_argument, 0, O_BO_PERIOD },
        { "blackout-frac", required_argument, 0, O_BO_FRAC },
        { "blackout-offset-s", required_argument, 0, O_BO_OFFSET },
        { "time-scale", required_argument, 0, O_SCALE }, { "seed", required_argument, 0, O_SEED },
        { "stats", required_argument, 0, O_STATS }, { "log-level", required_argument, 0, O_LOG },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    bool have_listen = false, have_target = false;
    emu->prof = *linkemu_profile_find ("fibre");
    emu->prof.rate_bps = 0;          /* no profile: a plain relay */
    emu->prof.delay_min_ms = emu->prof.delay_max_ms = 0;
    emu->seed = 1;
    char why[128];
    int c;
    while ((c = getopt_long (argc, argv, ":h", opts, NULL)) != -1) {
        bool handled = false;
        for (size_t i = 0; i < sizeof s_num_opts / sizeof s_num_opts[0]; i++) {
            if (s_num_opts[i].id != c)
                continue;
            double *field = (double *) ((char *) &emu->prof + s_num_opts[i].offset);
            if (af_parse_double (optarg, 0, 1e15, field, why, sizeof why) != 0)
                return af_args_usage_error (S_PROG, "--%s: %s", opts[c - O_LISTEN].name, why);
            handled = true;
        }
        if (handled)
            continue;
        switch (c) {
        case O_LISTEN:
            if (s_parse_addr (optarg, true, &emu->listen_addr) != 0)
                return af_args_usage_error (S_PROG, "--listen wants [HOST:]PORT, got '%s'", optarg);
            have_listen = true;
            break;
        case O_TARGET:
            if (s_parse_addr (optarg, false, &emu->target_addr) != 0)
                return af_args_usage_error (S_PROG, "--target wants HOST:PORT, got '%s'", optarg);
            have_target = true;
            break;
        case O_PROFILE: {
            const linkemu_profile_t *p = linkemu_profile_find (optarg);
            if (!p)
                return af_args_usage_error (S_PROG, "unknown profile '%s' (one of %s)", optarg,
                                            linkemu_profile_names ());
            double scale = emu->prof.time_scale;
            emu->prof = *p;
            emu->prof.time_scale = scale;
            break;
        }
        case O_DELAY:
            if (s_parse_range (optarg, &emu->prof.delay_min_ms, &emu->prof.delay_max_ms) != 0)
                return af_args_usage_error (S_PROG, "--delay-ms wants MIN[:MAX], got '%s'", optarg);
            break;
        case O_DISC_LEN:
            if (s_parse_range (optarg, &emu->prof.disconnect_min_s, &emu->prof.disconnect_max_s) != 0)
                return af_args_usage_error (S_PROG, "--disconnect-s wants MIN[:MAX], got '%s'", optarg);
            break;
        case O_SEED: {
            long v;
            if (af_parse_long (optarg, 0, 1L << 62, &v, why, sizeof why) != 0)
                return af_args_usage_error (S_PROG, "--seed: %s", why);
            emu->seed = (uint64_t) v;
            break;
        }
        case O_STATS:
            emu->stats_path = optarg;
            break;
        case O_LOG: {
            int lvl = af_log_parse_level (optarg);
            if (lvl < 0)
                return af_args_usage_error (S_PROG, "unknown log level '%s'", optarg);
            af_log_set_level ((af_log_level_t) lvl);
            break;
        }
        case 'h':
            fputs (s_usage, stdout);
            exit (0);
        default:
            return af_args_usage_error (S_PROG, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return af_args_usage_error (S_PROG, "unexpected argument '%s'", argv[optind]);
    if (!have_listen || !have_target)
        return af_args_usage_error (S_PROG, "--listen and --target are required");
    if (linkemu_profile_check (&emu->prof, why, sizeof why) != 0)
        return af_args_usage_error (S_PROG, "%s", why);
    return 0;
}

static void
s_write_stats (emu_t *emu)
{
    if (!emu->stats_path)
        return;
    FILE *f = fopen (emu->stats_path, "w");
    if (!f) {
        af_warn ("%s: %s", emu->stats_path, strerror (errno));
        return;
    }
    fprintf (f,
             "{\"one_way_delay_ms\":%.3f,\"accepted\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"resets\":%" PRIu64
             ",\"outages\":%" PRIu64 ",\"blackouts\":%" PRIu64 ",\"outage_ns\":[",
             emu->delay_ms, emu->accepted, emu->refused, emu->resets, emu->outages, emu->blackouts);
    for (size_t i = 0; i < emu->n_outage_log; i++)
        fprintf (f, "%s[%" PRIu64 ",%" PRIu64 "]", i ? "," : "", emu->outage_log[i][0],
                 emu->outage_log[i][1]);
    fputs ("]}\n", f);
    fclose (f);
}

int
main (int argc, char **argv)
{
    af_log_init (S_PROG);
    static emu_t emu;
    int rc = s_parse (&emu, argc, argv);
    if (rc != 0)
        return rc;
    for (int i = 0; i < S_MAX_CONNS; i++)
        emu.conns[i].client = emu.conns[i].target = -1;
    double bdp = emu.prof.rate_bps / 8 * emu.prof.delay_max_ms / emu.prof.time_scale / 1000;
    emu.queue_cap = emu.prof.rate_bps > 0 ? (size_t) bdp + LINKEMU_QUEUE_BYTES
                                          : LINKEMU_UNLIMITED_QUEUE_BYTES;
    emu.rng = emu.seed * 31 + 17;
    uint64_t len = 0;
    emu.have_outage = linkemu_next_outage (&emu.prof, &emu.rng, s_now_ns (CLOCK_MONOTONIC),
                                           &emu.outage_start_ns, &len);
    emu.outage_end_ns = emu.outage_start_ns + len;

    emu.listener = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt (emu.listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (emu.listener < 0
        || bind (emu.listener, (struct sockaddr *) &emu.listen_addr, sizeof emu.listen_addr) != 0
        || listen (emu.listener, 64) != 0) {
        fprintf (stderr, S_PROG ": cannot listen: %s\n", strerror (errno));
        return 1;
    }
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    linkemu_dir_t probe;
    linkemu_dir_init (&probe, &emu.prof, emu.seed * 2 + 1);
    emu.delay_ms = probe.delay_ms;
    af_info ("relaying port %d to %d: one-way %.3f ms (+%.3f jitter), %.0f bit/s, loss %.4f",
             ntohs (emu.listen_addr.sin_port), ntohs (emu.target_addr.sin_port), emu.delay_ms,
             emu.prof.jitter_ms / emu.prof.time_scale, emu.prof.rate_bps, emu.prof.loss);
    rc = s_run (&emu);
    for (int i = 0; i < S_MAX_CONNS; i++)
        if (emu.conns[i].used)
            s_conn_close (&emu.conns[i], false);
    close (emu.listener);
    s_write_stats (&emu);
    return rc;
}
