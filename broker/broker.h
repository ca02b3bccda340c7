/*  autofab-broker — one factory's broker (DESIGN §2): discovery, presence,
 *  the pub/sub relay with its last-value cache, and service routing.
 *
 *  broker_new binds the three sockets; broker_run polls them until SIGINT or
 *  SIGTERM (or broker_stop); broker_iterate does one round of that loop for
 *  tests and embedding.
 */
#ifndef BROKER_H
#define BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct broker broker_t;

typedef struct {
    char control[256];       /* ROUTER endpoint, e.g. tcp://0.0.0.0:5550 */
    char ingress[256];       /* XSUB */
    char egress[256];        /* XPUB */
    char factory[64];
    int heartbeat_ms;        /* expected agent heartbeat; death after 1.5× */
    size_t cache_max_topics; /* last-value cache size */
    char cache_prefix[256];  /* only topics under this prefix are cached ("" = all) */
    size_t max_msg_bytes;
    int hwm;                 /* per-socket high-water mark, messages */
    int request_timeout_ms;  /* default for requests that give none */
    int stats_interval_ms;   /* broker counters published on sys.<factory>.broker.stats; 0: off */
    char journal[256];       /* historian file, "" = off (docs/journal.md) */
    char journal_prefixes[512]; /* comma-separated topic prefixes to journal, "" = all */
    /* Caps on what any one client can make the broker hold (docs/broker.md,
     * "Resource caps"); each refusal is counted and logged once. */
    long sub_max_bytes;          /* longest subscription a subscriber may send */
    long register_max_bytes;     /* largest Register message */
    long register_max_items;     /* services + capabilities of one agent */
    long heartbeat_min_ms, heartbeat_max_ms; /* range an agent may ask for */
    long max_agents;             /* registered agents at once */
    long request_max_timeout_ms; /* longest deadline a request may ask for */
    long request_max_inflight;   /* requests in flight per client */
    long request_max_inflight_bytes; /* their bodies' bytes, per client */
    long cache_max_bytes;        /* bodies kept in the last-value cache */
} broker_opts_t;

/* Fills OPTS with the defaults (documented in deploy/broker.yaml). */
void broker_opts_defaults (broker_opts_t *opts);
/* Sets the cap named KEY (a broker_opts_t field above, e.g. "max_agents")
 * from TEXT; 0, or -1 with why in ERR (unknown cap, not a number, out of
 * range). */
int broker_opts_set_limit (broker_opts_t *opts, const char *key, const char *text, char *err,
                           size_t err_len);
/* Reads a broker YAML config over OPTS; 0, or -1 with "file:line: why" in ERR. */
int broker_opts_load (broker_opts_t *opts, const char *path, char *err, size_t err_len);

broker_t *broker_new (const broker_opts_t *opts, char *err, size_t err_len);
void broker_destroy (broker_t **self_p);
/* Runs until interrupted or broker_stop; returns 0. */
int broker_run (broker_t *self);
/* One round: waits at most TIMEOUT_MS for work, does it; -1 when interrupted. */
int broker_iterate (broker_t *self, int timeout_ms);
void broker_stop (broker_t *self);

#endif
