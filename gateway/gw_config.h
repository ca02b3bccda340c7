/*  gw_config — the gateway's YAML configuration (deploy/gateway.yaml shows
 *  every key with its default).
 *
 *  Rules checked at load, each an error with file and line:
 *  - every export pattern names this factory in its factory segment and
 *    every import pattern the peer's, so a gateway never forwards a message
 *    it imported: loops are impossible by construction;
 *  - a peer has 1 … GW_MAX_LINKS links, listed in order of preference;
 *  - link profiles are fibre, leo or mars, with optional overrides.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_wire.h"
#include "linkemu.h"

#define GW_MAX_PEERS 8
#define GW_MAX_LINKS 4
#define GW_MAX_RULES 16
#define GW_MAX_LANE_RULES 16
#define GW_PATH_MAX 512

typedef struct {
    char endpoint[256];
    /* What the gateway knows of the link: its delay and jitter set the
     * retransmission timeout and the liveness window, its contact plan
     * when not to expect anything. */
    linkemu_profile_t profile;
    char profile_name[16];
} gw_link_cfg_t;

typedef struct {
    char factory[GW_FACTORY_MAX + 1];
    char key_path[GW_PATH_MAX];          /* the peer's public key file */
    char export_[GW_MAX_RULES][256];
    size_t n_export;
    char import[GW_MAX_RULES][256];
    size_t n_import;
    double budget_bps;                   /* our sending budget on this peer's links */
    uint64_t outbox_max_bytes;
    double conflate_after_s;             /* backlog (in seconds of budget) that counts as congestion */
    gw_link_cfg_t links[GW_MAX_LINKS];
    size_t n_links;
} gw_peer_cfg_t;

typedef struct {
    char prefix[256];
    int lane;
} gw_lane_rule_t;

typedef struct {
    char factory[GW_FACTORY_MAX + 1];
    char broker[256];                    /* control endpoint of the local broker */
    char journal[GW_PATH_MAX];           /* broker journal for catch-up ("": none) */
    char bind[256];                      /* where peers connect (CURVE server) */
    char key_path[GW_PATH_MAX];          /* our secret key file */
    char allow_dir[GW_PATH_MAX];         /* allow-list of peer public keys */
    char state_dir[GW_PATH_MAX];
    bool sync_full;
    gw_peer_cfg_t peers[GW_MAX_PEERS];
    size_t n_peers;
    gw_lane_rule_t lane_rules[GW_MAX_LANE_RULES];
    size_t n_lane_rules;
} gw_config_t;

/* Loads PATH into *CFG; relative paths are taken from PATH's folder.  0, or
 * -1 with "file:line: why" in ERR. */
int gw_config_load (const char *path, gw_config_t *cfg, char *err, size_t err_len);

/* The lane of TOPIC: the first matching lane rule, else by class (alm:
 * alarm; cmd, evt, sys: command; tel: telemetry; anything else: bulk). */
int gw_config_lane (const gw_config_t *cfg, const char *topic);

/* The factory segment of TOPIC into OUT; false if TOPIC has none. */
bool gw_topic_factory (const char *topic, char *out, size_t out_len);

#endif
