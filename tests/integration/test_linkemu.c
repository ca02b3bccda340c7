/*  Integration tests: autofab-linkemu relays bytes intact and in order, no
 *  faster than its delay and bandwidth allow, and resets connections during
 *  a blackout.  Bounds asserted are lower bounds set by the emulator itself,
 *  not performance.  */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "af_test.h"

typedef struct {
    int listener;
} s_echo_t;

/* Echoes every connection until it closes (one at a time). */
static void *
s_echo (void *arg)
{
    s_echo_t *e = arg;
    for (;;) {
        int fd = accept (e->listener, NULL, NULL);
        if (fd < 0)
            return NULL;
        char buf[65536];
        ssize_t n;
        while ((n = read (fd, buf, sizeof buf)) > 0)
            if (write (fd, buf, (size_t) n) != n)
                break;
        close (fd);
    }
}

static int
s_listen (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    inet_pton (AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq (bind (fd, (struct sockaddr *) &a, sizeof a), 0);
    cr_assert_eq (listen (fd, 8), 0);
    return fd;
}

static int
s_connect (int port)
{
    for (int tries = 0; tries < 100; tries++) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
        inet_pton (AF_INET, "127.0.0.1", &a.sin_addr);
        if (connect (fd, (struct sockaddr *) &a, sizeof a) == 0)
            return fd;
        close (fd);
        usleep (20000);
    }
    return -1;
}

static double
s_now_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t
s_emu (int listen_port, int target_port, const char *const extra[])
{
    char l[16], t[32];
    snprintf (l, sizeof l, "%d", listen_port);
    snprintf (t, sizeof t, "127.0.0.1:%d", target_port);
    const char *argv[32] = { "--listen", l, "--target", t };
    int n = 4;
    for (int i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return aft_spawn ("autofab-linkemu", argv);
}

Test (linkemu, relays_in_order_no_faster_than_delay_and_rate, .timeout = 30)
{
    int port = aft_free_ports (2);
    cr_assert_gt (port, 0);
    s_echo_t echo = { .listener = s_listen (port + 1) };
    pthread_t th;
    pthread_create (&th, NULL, s_echo, &echo);
    /* 50 ms one way, 4 Mbit/s, loss as retransmission delay. */
    const char *extra[] = { "--delay-ms", "50", "--rate-bps", "4e6", "--loss", "0.01",
                            "--jitter-ms", "3", NULL };
    pid_t emu = s_emu (port, port + 1, extra);
    int fd = s_connect (port);
    cr_assert_geq (fd, 0);
    size_t total = 400000;
    uint8_t *out = malloc (total), *in = malloc (total);
    for (size_t i = 0; i < total; i++)
        out[i] = (uint8_t) (i * 2654435761u >> 13);
    double t0 = s_now_s ();
    size_t sent = 0, got = 0;
    while (got < total) {
        if (sent < total) {
            ssize_t n = send (fd, out + sent, total - sent > 16384 ? 16384 : total - sent,
                              MSG_DONTWAIT);
            if (n > 0)
                sent += (size_t) n;
        }
        ssize_t n = recv (fd, in + got, total - got, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t) n;
        else if (n == 0)
            break;
        else
            usleep (500);
    }
    double elapsed = s_now_s () - t0;
    cr_assert_eq (got, total);
    cr_assert_eq (memcmp (in, out, total), 0, "bytes changed or reordered");
    /* Each direction serialises 400 kB at 4 Mbit/s: 0.8 s, plus 2 x 50 ms. */
    cr_assert_geq (elapsed, 0.8 + 0.1, "faster than the emulated link: %.3f s", elapsed);
    close (fd);
    free (out);
    free (in);
    cr_assert_eq (aft_stop (emu, SIGTERM, 5000), 0);
    shutdown (echo.listener, SHUT_RDWR);
    close (echo.listener);
    pthread_join (th, NULL);
}

Test (linkemu, blackout_resets_and_refuses, .timeout = 30)
{
    int port = aft_free_ports (2);
    s_echo_t echo = { .listener = s_listen (port + 1) };
    pthread_t th;
    pthread_create (&th, NULL, s_echo, &echo);
    char stats[300], dir[256];
    cr_assert (aft_tmpdir (dir, sizeof dir, "linkemu"));
    snprintf (stats, sizeof stats, "%s/stats.json", dir);
    /* Dark for the last 40 % of every second. */
    const char *extra[] = { "--blackout-period-s", "1", "--blackout-frac", "0.4", "--stats", stats,
                            NULL };
    pid_t emu = s_emu (port, port + 1, extra);
    int resets = 0;
    double t0 = s_now_s ();
    while (resets < 2 && s_now_s () - t0 < 10) {
        int fd = s_connect (port);
        cr_assert_geq (fd, 0);
        char b = 'x';
        /* Ping-pong until the link drops the connection. */
        for (;;) {
            if (send (fd, &b, 1, MSG_NOSIGNAL) != 1)
                break;
            ssize_t n = recv (fd, &b, 1, 0);
            if (n <= 0)
                break;
            usleep (10000);
        }
        close (fd);
        resets++;
    }
    cr_assert_eq (resets, 2);
    cr_assert_eq (aft_stop (emu, SIGTERM, 5000), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen (stats, "r");
    cr_assert_not_null (f);
    getdelim (&text, &len, 0, f);
    fclose (f);
    cr_assert (strstr (text, "\"blackouts\":"), "%s", text);
    cr_assert_null (strstr (text, "\"blackouts\":0"), "%s", text);
    free (text);
    aft_rmtree (dir);
    shutdown (echo.listener, SHUT_RDWR);
    close (echo.listener);
    pthread_join (th, NULL);
}

Test (linkemu, bad_usage_exits_2)
{
    const char *argv[] = { "--listen", "1234", "--target", "127.0.0.1:1", "--loss", "2", NULL };
    pid_t p = aft_spawn ("autofab-linkemu", argv);
    int st = aft_wait_exit (p, 5000);
    cr_assert_eq (st, 2);
    const char *argv2[] = { "--profile", "moon", "--listen", "1", "--target", "127.0.0.1:2", NULL };
    p = aft_spawn ("autofab-linkemu", argv2);
    cr_assert_eq (aft_wait_exit (p, 5000), 2);
}
