/*  Test support: the real peers of the bridge tests (bridge_peers.h).  */
#include "bridge_peers.h"

#include "af_test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

pid_t
bpeer_spawn (const char *path, const char *const argv[], const char *log)
{
    return aft_spawn_path (path, argv, log);
}

bool
bpeer_wait_port (int port, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zclock_mono () < deadline) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
        a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        int rc = connect (fd, (struct sockaddr *) &a, sizeof a);
        close (fd);
        if (rc == 0)
            return true;
        zclock_sleep (20);
    }
    return false;
}

bool
bpeer_wait_file (const char *file, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    struct stat st;
    while (zclock_mono () < deadline) {
        if (stat (file, &st) == 0)
            return true;
        zclock_sleep (20);
    }
    return false;
}

pid_t
bpeer_mosquitto (const char *dir, int *port)
{
    if (access (BPEER_MOSQUITTO, X_OK) != 0)
        return -1;
    *port = aft_free_ports (1);
    char conf[512], log[512];
    snprintf (conf, sizeof conf, "%s/mosquitto.conf", dir);
    snprintf (log, sizeof log, "%s/mosquitto.log", dir);
    FILE *f = fopen (conf, "w");
    if (!f)
        return -1;
    /* Loopback only, no persistence; queues unbounded so that a benchmark
     * measures throughput, not the default queue limit's drops. */
    fprintf (f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
                "max_queued_messages 0\nmax_inflight_messages 0\n", *port);
    fclose (f);
    const char *argv[] = { BPEER_MOSQUITTO, "-c", conf, NULL };
    pid_t pid = bpeer_spawn (BPEER_MOSQUITTO, argv, log);
    if (pid > 0 && !bpeer_wait_port (*port, 5000)) {
        aft_stop (pid, SIGKILL, 1000);
        return -1;
    }
    return pid;
}
