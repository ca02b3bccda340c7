/*  Test support: free loopback ports, child processes that are always
 *  reaped, and a broker started for one test.  */
#ifndef AF_TEST_H
#define AF_TEST_H

#include <stdbool.h>
#include <sys/types.h>

#include "af_bus.h"
#include <czmq.h>

/* A port P such that P, P+1 … P+N-1 are free on 127.0.0.1 right now. */
int aft_free_ports (int n);
/* Starts $AF_BIN/PROGRAM with ARGV (NULL-terminated, without argv[0]);
 * stdout and stderr go to $TMPDIR/autofab-test-<pid>-<program>.log.  */
pid_t aft_spawn (const char *program, const char *const argv[]);
/* Starts the executable PATH with ARGV (argv[0] included, NULL-terminated),
 * its stdout and stderr to LOG; it dies with the test too. */
pid_t aft_spawn_path (const char *path, const char *const argv[], const char *log);
/* Sends SIG and waits up to TIMEOUT_MS; returns the exit status as from
 * waitpid, or -1 if it did not exit (it is then SIGKILLed). */
int aft_stop (pid_t pid, int sig, int timeout_ms);
/* Waits for PID to exit on its own; its exit code, or -1 on timeout. */
int aft_wait_exit (pid_t pid, int timeout_ms);

typedef struct {
    pid_t pid;
    int port;
    char control[64];
} aft_broker_t;

/* Starts a broker on free ports (or PORT if > 0) with a heartbeat of
 * HEARTBEAT_MS and waits until it answers. */
bool aft_broker_start (aft_broker_t *broker, int port, int heartbeat_ms);
/* The same with EXTRA broker options (NULL-terminated, may be NULL). */
bool aft_broker_start_with (aft_broker_t *broker, int port, int heartbeat_ms, const char *const extra[]);
/* The whole of the file PATH ("" when it cannot be read); free() it. */
char *aft_read_file (const char *path);
/* What a process started by aft_spawn wrote (stdout and stderr); free() it. */
char *aft_child_log (pid_t pid, const char *program);
/* An encoded Envelope with one telemetry metric NAME = VALUE, stamped by ST
 * at T_NS; free() it.  NULL on failure. */
uint8_t *aft_telemetry (af_stamper_t *st, const char *name, double value, uint64_t t_ns, size_t *len);
/* Starts CZMQ for a test process without its signal handlers (Criterion
 * and the test itself handle signals). */
void aft_zsys_init (void);
/* A broker for a whole Criterion suite (.init/.fini), on free ports with
 * heartbeats every AFT_SUITE_HB_MS. */
#define AFT_SUITE_HB_MS 300
extern aft_broker_t aft_suite_broker;
void aft_suite_broker_start (void);
void aft_suite_broker_stop (void);
/* A raw XPUB connected to BROKER's ingress, returned once the broker has
 * subscribed (so nothing sent on it is dropped); for hostile-input tests. */
zsock_t *aft_raw_ingress (const aft_broker_t *broker);
/* An encoded envelope from source "future" with schema version SCHEMA (one
 * newer than this build knows must be refused by every receiver); free() it. */
uint8_t *aft_future_envelope (uint32_t schema, size_t *len);
/* Writes a Batch of the N records RECS (LENS bytes each) into OUT (CAP
 * bytes); returns its length (0 if it does not fit). */
size_t aft_batch (uint8_t *out, size_t cap, uint8_t *const recs[], const size_t lens[], size_t n);
/* Creates a fresh folder $TMPDIR/PREFIX-XXXXXX into DIR; false on failure. */
bool aft_tmpdir (char *dir, size_t len, const char *prefix);
/* Removes DIR and everything in it; false on failure. */
bool aft_rmtree (const char *dir);
void aft_broker_stop (aft_broker_t *broker);
/* A bus client of BROKER with source name SOURCE. */
af_bus_t *aft_bus (const aft_broker_t *broker, const char *source);
/* Waits until an agent NAME is listed (LISTED) or not; true on success. */
bool aft_wait_listed (af_bus_t *bus, const char *name, bool listed, int timeout_ms);
/* A broker counter by name from its StatsReply, or -1. */
long long aft_broker_counter (af_bus_t *bus, const char *name);

#endif
