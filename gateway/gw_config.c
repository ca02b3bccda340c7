/*  gw_config — loading and checking the gateway configuration (see
 *  gw_config.h).  */
#include "gw_config.h"
#include "af_config.h"
#include "af_topic.h"

#include <libgen.h>
#include <stdio.h>
#include <string.h>

/* Writes PATH resolved against BASE_DIR (unless absolute) into OUT. */
static void
s_resolve (const char *base_dir, const char *path, char *out, size_t out_len)
{
    if (!path || !*path)
        out[0] = 0;
    else if (path[0] == '/')
        snprintf (out, out_len, "%s", path);
    else
        snprintf (out, out_len, "%s/%s", base_dir, path);
}

bool
gw_topic_factory (const char *topic, char *out, size_t out_len)
{
    const char *dot = strchr (topic, '.');
    if (!dot)
        return false;
    const char *end = strchr (dot + 1, '.');
    size_t len = end ? (size_t) (end - dot - 1) : strlen (dot + 1);
    if (len == 0 || len >= out_len)
        return false;
    memcpy (out, dot + 1, len);
    out[len] = 0;
    return true;
}

/* Reads a list of topic patterns whose factory segment must be FACTORY. */
static size_t
s_rules (af_config_t *map, const char *key, const char *factory, char rules[][256])
{
    af_config_t *seq = af_config_seq (map, key);
    size_t n = 0;
    for (size_t i = 0; seq && i < af_config_size (seq); i++) {
        af_config_t *item = af_config_at (seq, i, NULL);
        const char *text = af_config_text (item);
        char seg[GW_FACTORY_MAX + 1];
        if (!text || !af_topic_pattern_valid (text)) {
            af_config_fail (item, "'%s' wants topic patterns", key);
            break;
        }
        if (!gw_topic_factory (text, seg, sizeof seg) || strcmp (seg, factory) != 0) {
            af_config_fail (item, "%s pattern '%s' must name factory '%s' in its second segment "
                            "(a gateway forwards only its own factory's topics: no loops)",
                            key, text, factory);
            break;
        }
        if (n == GW_MAX_RULES) {
            af_config_fail (item, "at most %d %s patterns", GW_MAX_RULES, key);
            break;
        }
        snprintf (rules[n++], 256, "%s", text);
    }
    return n;
}

static void
s_link (af_config_t *node, const char *base_dir, gw_link_cfg_t *link)
{
    static const char *const keys[] = { "endpoint", "profile", "one_way_ms", "jitter_ms",
                                        "time_scale", "blackout_period_s", "blackout_frac",
                                        "blackout_offset_s", NULL };
    (void) base_dir;
    af_config_known_keys (node, keys);
    snprintf (link->endpoint, sizeof link->endpoint, "%s", af_config_str_req (node, "endpoint") ?: "");
    const char *prof = af_config_str (node, "profile", "fibre");
    const linkemu_profile_t *p = linkemu_profile_find (prof);
    if (!p) {
        af_config_fail (node, "unknown link profile '%s' (one of %s)", prof, linkemu_profile_names ());
        return;
    }
    link->profile = *p;
    snprintf (link->profile_name, sizeof link->profile_name, "%s", prof);
    linkemu_profile_t *lp = &link->profile;
    double one_way = af_config_num (node, "one_way_ms", -1, 0, 1e10);
    if (one_way >= 0)
        lp->delay_min_ms = lp->delay_max_ms = one_way;
    lp->jitter_ms = af_config_num (node, "jitter_ms", lp->jitter_ms, 0, 1e9);
    lp->time_scale = af_config_num (node, "time_scale", 1, 1, 1e6);
    lp->blackout_period_s = af_config_num (node, "blackout_period_s", lp->blackout_period_s, 0, 1e9);
    lp->blackout_frac = af_config_num (node, "blackout_frac", lp->blackout_frac, 0, 0.99);
    lp->blackout_offset_s = af_config_num (node, "blackout_offset_s", 0, 0, 1e9);
}

static void
s_peer (af_config_t *node, const gw_config_t *cfg, const char *base_dir, gw_peer_cfg_t *peer)
{
    static const char *const keys[] = { "factory", "key", "export", "import", "budget_bps",
                                        "outbox_max_bytes", "conflate_after_s", "links", NULL };
    af_config_known_keys (node, keys);
    const char *factory = af_config_str_req (node, "factory");
    if (!factory)
        return;
    if (strlen (factory) > GW_FACTORY_MAX || strcmp (factory, cfg->factory) == 0) {
        af_config_fail (node, "peer factory '%s' must be another factory's name", factory);
        return;
    }
    snprintf (peer->factory, sizeof peer->factory, "%s", factory);
    s_resolve (base_dir, af_config_str_req (node, "key"), peer->key_path, sizeof peer->key_path);
    peer->n_export = s_rules (node, "export", cfg->factory, peer->export_);
    peer->n_import = s_rules (node, "import", peer->factory, peer->import);
    peer->budget_bps = af_config_num (node, "budget_bps", 0, 0, 1e12);
    peer->outbox_max_bytes = (uint64_t) af_config_num (node, "outbox_max_bytes", 1e9, 0, 1e13);
    peer->conflate_after_s = af_config_num (node, "conflate_after_s", 1, 0, 1e6);
    af_config_t *links = af_config_seq (node, "links");
    if (!links || af_config_size (links) == 0 || af_config_size (links) > GW_MAX_LINKS) {
        af_config_fail (node, "peer '%s' wants 1 to %d links", factory, GW_MAX_LINKS);
        return;
    }
    for (size_t i = 0; i < af_config_size (links); i++)
        s_link (af_config_at (links, i, NULL), base_dir, &peer->links[peer->n_links++]);
}

static void
s_lane_rules (af_config_t *root, gw_config_t *cfg)
{
    af_config_t *seq = af_config_seq (root, "lanes");
    for (size_t i = 0; seq && i < af_config_size (seq); i++) {
        af_config_t *item = af_config_at (seq, i, NULL);
        static const char *const keys[] = { "prefix", "lane", NULL };
        af_config_known_keys (item, keys);
        const char *prefix = af_config_str_req (item, "prefix");
        const char *lane = af_config_str_req (item, "lane");
        int l = gw_lane_parse (lane);
        if (!prefix || !lane)
            return;
        if (l < 0 || cfg->n_lane_rules == GW_MAX_LANE_RULES) {
            af_config_fail (item, "lane must be alarm, command, telemetry or bulk (at most %d rules)",
                            GW_MAX_LANE_RULES);
            return;
        }
        gw_lane_rule_t *r = &cfg->lane_rules[cfg->n_lane_rules++];
        snprintf (r->prefix, sizeof r->prefix, "%s", prefix);
        r->lane = l;
    }
}

int
gw_config_load (const char *path, gw_config_t *cfg, char *err, size_t err_len)
{
    memset (cfg, 0, sizeof *cfg);
    af_config_t *root = af_config_load (path, err, err_len);
    if (!root)
        return -1;
    char dir_buf[GW_PATH_MAX];
    snprintf (dir_buf, sizeof dir_buf, "%s", path);
    const char *base_dir = dirname (dir_buf);
    static const char *const keys[] = { "factory", "broker", "journal", "bind", "key", "allow",
                                        "state_dir", "sync_full", "peers", "lanes", NULL };
    af_config_known_keys (root, keys);
    const char *factory = af_config_str_req (root, "factory");
    snprintf (cfg->factory, sizeof cfg->factory, "%s", factory ? factory : "");
    snprintf (cfg->broker, sizeof cfg->broker, "%s", af_config_str (root, "broker", "tcp://127.0.0.1:5550"));
    s_resolve (base_dir, af_config_str (root, "journal", ""), cfg->journal, sizeof cfg->journal);
    snprintf (cfg->bind, sizeof cfg->bind, "%s", af_config_str_req (root, "bind") ?: "");
    s_resolve (base_dir, af_config_str_req (root, "key"), cfg->key_path, sizeof cfg->key_path);
    s_resolve (base_dir, af_config_str_req (root, "allow"), cfg->allow_dir, sizeof cfg->allow_dir);
    s_resolve (base_dir, af_config_str_req (root, "state_dir"), cfg->state_dir, sizeof cfg->state_dir);
    cfg->sync_full = af_config_bool (root, "sync_full", false);
    if (factory && (strlen (factory) > GW_FACTORY_MAX || !af_topic_valid (factory, strlen (factory))
                    || strchr (factory, '.')))
        af_config_fail (root, "factory '%s' is not a valid topic segment", factory);
    af_config_t *peers = af_config_seq (root, "peers");
    if (!af_config_error (root) && peers && af_config_size (peers) > GW_MAX_PEERS)
        af_config_fail (peers, "at most %d peers", GW_MAX_PEERS);
    for (size_t i = 0; peers && !af_config_error (root) && i < af_config_size (peers); i++)
        s_peer (af_config_at (peers, i, NULL), cfg, base_dir, &cfg->peers[cfg->n_peers++]);
    s_lane_rules (root, cfg);
    int rc = 0;
    if (af_config_error (root)) {
        snprintf (err, err_len, "%s", af_config_error (root));
        rc = -1;
    }
    af_config_destroy (&root);
    return rc;
}

int
gw_config_lane (const gw_config_t *cfg, const char *topic)
{
    for (size_t i = 0; i < cfg->n_lane_rules; i++)
        if (strncmp (topic, cfg->lane_rules[i].prefix, strlen (cfg->lane_rules[i].prefix)) == 0)
            return cfg->lane_rules[i].lane;
    static const struct {
        const char *prefix;
        int lane;
    } s_classes[] = {
        { "alm.", GW_LANE_ALARM }, { "cmd.", GW_LANE_COMMAND }, { "evt.", GW_LANE_COMMAND },
        { "sys.", GW_LANE_COMMAND }, { "tel.", GW_LANE_TELEMETRY },
    };
    for (size_t i = 0; i < sizeof s_classes / sizeof s_classes[0]; i++)
        if (strncmp (topic, s_classes[i].prefix, 4) == 0)
            return s_classes[i].lane;
    return GW_LANE_BULK;
}
