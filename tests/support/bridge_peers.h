/*  Test support: the real peers of the bridge tests — mosquitto with a
 *  generated configuration bound to 127.0.0.1 on a free port, and Python
 *  helpers — as child processes that die with the test.  */
#ifndef BRIDGE_PEERS_H
#define BRIDGE_PEERS_H

#include <stdbool.h>
#include <sys/types.h>

/* Where Debian puts the MQTT server, and the system Python with
 * python3-paho-mqtt and python3-protobuf. */
#define BPEER_MOSQUITTO "/usr/sbin/mosquitto"
#define BPEER_PYTHON "/usr/bin/python3"

/* Runs PATH with ARGV (NULL-terminated, argv[0] included), stdout and
 * stderr to LOG; the child gets SIGTERM when the test process dies. */
pid_t bpeer_spawn (const char *path, const char *const argv[], const char *log);
/* Starts mosquitto for DIR (its config and log go there) on a free port;
 * waits until it accepts connections.  Returns its pid and the port in
 * *PORT, or -1 (not installed, or it did not come up). */
pid_t bpeer_mosquitto (const char *dir, int *port);
/* True once 127.0.0.1:PORT accepts a TCP connection (within TIMEOUT_MS). */
bool bpeer_wait_port (int port, int timeout_ms);
/* True once FILE exists (within TIMEOUT_MS). */
bool bpeer_wait_file (const char *file, int timeout_ms);

#endif
