/*  bridge map — loading and checking a map file (see map.h).  */
#include "map.h"

#include "af_config.h"
#include "af_topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_top_keys[] = { "bridge", "modbus", "sparkplug", NULL };
static const char *const s_bridge_keys[] = { "name", "cell", "factory", "status_ms", NULL };
static const char *const s_device_keys[] = {
    "device", "host", "port", "unit_id", "poll_ms", "timeout_ms", "stale_after",
    "backoff_min_ms", "backoff_max_ms", "topic", "points", "commands", NULL,
};
static const char *const s_point_keys[] = {
    "name", "table", "address", "type", "scale", "offset", "unit", "byte_order", "word_order",
    "topic", NULL,
};
static const char *const s_command_keys[] = { "name", "point", "min", "max", NULL };
static const char *const s_spb_keys[] = {
    "host", "port", "group", "keepalive_s", "edge_node", "publish", "host_application", NULL,
};
static const char *const s_publish_keys[] = { "pattern", "device", "stale_ms", NULL };
static const char *const s_host_keys[] = { "id", "group", NULL };

/* Copies a string option into a fixed buffer; an error if it does not fit. */
static void
s_copy (const af_config_t *map, const char *key, char *dst, size_t cap, const char *dflt,
        bool required)
{
    const char *v = required ? af_config_str_req (map, key) : af_config_str (map, key, dflt);
    if (!v)
        v = "";
    if (strlen (v) >= cap) {
        af_config_fail (af_config_get (map, key), "'%s' is longer than %zu bytes", key, cap - 1);
        return;
    }
    snprintf (dst, cap, "%s", v);
}

/* A name that may stand as topic segments: letters, digits, '_', '-', and
 * dots between segments. */
static void
s_check_topic (const af_config_t *node, const char *key, const char *kind)
{
    if (*kind && !af_topic_valid (kind, strlen (kind)))
        af_config_fail (node, "'%s' must be topic segments (letters, digits, '_', '-', dots), got '%s'",
                        key, kind);
}

static int
s_parse_order (const af_config_t *m, const char *key)
{
    const char *v = af_config_str (m, key, "big");
    if (v && !strcmp (v, "big"))
        return 0;
    if (v && !strcmp (v, "little"))
        return 1;
    af_config_fail (af_config_get (m, key), "'%s' must be big or little, got '%s'", key, v ? v : "?");
    return 0;
}

static void
s_parse_point (const af_config_t *m, bm_point_t *p)
{
    af_config_known_keys (m, s_point_keys);
    p->line = af_config_line (m);
    s_copy (m, "name", p->name, sizeof p->name, NULL, true);
    s_copy (m, "topic", p->topic, sizeof p->topic, "", false);
    s_copy (m, "unit", p->unit, sizeof p->unit, "", false);
    const char *table = af_config_str (m, "table", "holding");
    const char *type = af_config_str (m, "type", NULL);
    int t = bv_table_parse (table);
    if (t < 0) {
        af_config_fail (af_config_get (m, "table"), "'table' must be holding, input, coil or "
                        "discrete, got '%s'", table ? table : "?");
        t = BV_HOLDING;
    }
    p->table = (bv_table_t) t;
    bool bits = p->table == BV_COIL || p->table == BV_DISCRETE;
    int ty = type ? bv_type_parse (type) : bits ? BV_BOOL : BV_U16;
    if (ty < 0) {
        af_config_fail (af_config_get (m, "type"), "'type' must be one of u16 s16 u32 s32 u64 s64 "
                        "f32 f64 bool, got '%s'", type);
        ty = BV_U16;
    }
    p->fmt.type = (bv_type_t) ty;
    if (!bv_type_fits (p->fmt.type, p->table))
        af_config_fail (m, "point '%s': a %s cannot hold a %s (bit tables hold bool only)", p->name,
                        bv_table_name (p->table), bv_type_name (p->fmt.type));
    long last = 65535 - (long) bv_type_words (p->fmt.type) + 1;
    p->address = (unsigned) af_config_int_req (m, "address", 0, last);
    p->fmt.scale = af_config_num (m, "scale", 1.0, -1e12, 1e12);
    if (p->fmt.scale == 0)
        af_config_fail (af_config_get (m, "scale"), "'scale' must not be 0");
    p->fmt.offset = af_config_num (m, "offset", 0.0, -1e12, 1e12);
    p->fmt.byte_swap = s_parse_order (m, "byte_order");
    p->fmt.word_swap = s_parse_order (m, "word_order");
    s_check_topic (m, "topic", p->topic);
}

static void
s_parse_command (const af_config_t *m, bm_device_t *dev, bm_command_t *c)
{
    af_config_known_keys (m, s_command_keys);
    s_copy (m, "name", c->name, sizeof c->name, NULL, true);
    const char *point = af_config_str_req (m, "point");
    c->min = af_config_num_req (m, "min", -1e18, 1e18);
    c->max = af_config_num_req (m, "max", -1e18, 1e18);
    if (!point)
        return;
    c->point = -1;
    for (size_t i = 0; i < dev->n_points; i++)
        if (!strcmp (dev->points[i].name, point))
            c->point = (int) i;
    if (c->point < 0) {
        af_config_fail (af_config_get (m, "point"), "command '%s': no point '%s' in device '%s'",
                        c->name, point, dev->name);
        return;
    }
    const bm_point_t *p = &dev->points[c->point];
    if (!bv_table_writable (p->table))
        af_config_fail (af_config_get (m, "point"), "command '%s': point '%s' is in the %s table, "
                        "which cannot be written", c->name, point, bv_table_name (p->table));
    if (c->min > c->max)
        af_config_fail (m, "command '%s': min %g is above max %g", c->name, c->min, c->max);
    uint16_t words[4];
    char why[128];
    if (bv_encode (&p->fmt, c->min, words, why, sizeof why) != 0
        || bv_encode (&p->fmt, c->max, words, why, sizeof why) != 0)
        af_config_fail (m, "command '%s': its range does not fit point '%s': %s", c->name, point, why);
}

static void
s_parse_device (const af_config_t *m, bm_device_t *dev)
{
    af_config_known_keys (m, s_device_keys);
    s_copy (m, "device", dev->name, sizeof dev->name, NULL, true);
    s_copy (m, "host", dev->host, sizeof dev->host, "127.0.0.1", false);
    dev->port = (int) af_config_int (m, "port", 502, 1, 65535);
    dev->unit_id = (int) af_config_int (m, "unit_id", 1, 0, 247);
    dev->poll_ms = (int) af_config_int (m, "poll_ms", 1000, 1, 3600000);
    dev->timeout_ms = (int) af_config_int (m, "timeout_ms", 500, 1, 60000);
    dev->stale_after = (int) af_config_int (m, "stale_after", 3, 1, 1000);
    dev->backoff_min_ms = (int) af_config_int (m, "backoff_min_ms", 100, 1, 3600000);
    dev->backoff_max_ms = (int) af_config_int (m, "backoff_max_ms", 10000, 1, 3600000);
    if (dev->backoff_max_ms < dev->backoff_min_ms)
        af_config_fail (m, "device '%s': backoff_max_ms is below backoff_min_ms", dev->name);
    char topic[BM_NAME_MAX];
    s_copy (m, "topic", topic, sizeof topic, dev->name, false);
    s_check_topic (m, "topic", topic);
    af_config_t *points = af_config_seq (m, "points");
    dev->n_points = af_config_size (points);
    if (dev->n_points == 0) {
        af_config_fail (m, "device '%s' needs a non-empty 'points' list", dev->name);
        return;
    }
    dev->points = calloc (dev->n_points, sizeof *dev->points);
    for (size_t i = 0; dev->points && i < dev->n_points; i++) {
        bm_point_t *p = &dev->points[i];
        s_parse_point (af_config_at (points, i, NULL), p);
        if (!*p->topic)
            snprintf (p->topic, sizeof p->topic, "%s", topic);
        for (size_t j = 0; j < i; j++)
            if (!strcmp (dev->points[j].name, p->name) && !strcmp (dev->points[j].topic, p->topic))
                af_config_fail (af_config_at (points, i, NULL), "point '%s' on topic '%s' is "
                                "already mapped at line %d", p->name, p->topic, dev->points[j].line);
    }
    af_config_t *cmds = af_config_seq (m, "commands");
    dev->n_commands = af_config_size (cmds);
    dev->commands = dev->n_commands ? calloc (dev->n_commands, sizeof *dev->commands) : NULL;
    for (size_t i = 0; dev->commands && dev->points && i < dev->n_commands; i++)
        s_parse_command (af_config_at (cmds, i, NULL), dev, &dev->commands[i]);
}

static void
s_parse_sparkplug (const af_config_t *m, bm_sparkplug_t *spb)
{
    af_config_known_keys (m, s_spb_keys);
    spb->enabled = true;
    s_copy (m, "host", spb->host, sizeof spb->host, "127.0.0.1", false);
    spb->port = (int) af_config_int (m, "port", 1883, 1, 65535);
    s_copy (m, "group", spb->group, sizeof spb->group, NULL, true);
    s_copy (m, "edge_node", spb->edge_node, sizeof spb->edge_node, "", false);
    spb->keepalive_s = (int) af_config_int (m, "keepalive_s", 30, 5, 3600);
    /* Sparkplug ids are MQTT topic levels: '/', '+' and '#' would split or
     * widen them. */
    if (strpbrk (spb->group, "/+#") || strpbrk (spb->edge_node, "/+#"))
        af_config_fail (m, "'group' and 'edge_node' must not contain '/', '+' or '#'");
    af_config_t *pubs = af_config_seq (m, "publish");
    spb->n_publish = af_config_size (pubs);
    if (spb->n_publish && !*spb->edge_node)
        af_config_fail (m, "'publish' needs an 'edge_node' id");
    spb->publish = spb->n_publish ? calloc (spb->n_publish, sizeof *spb->publish) : NULL;
    for (size_t i = 0; spb->publish && i < spb->n_publish; i++) {
        const af_config_t *p = af_config_at (pubs, i, NULL);
        bm_publish_t *pub = &spb->publish[i];
        af_config_known_keys (p, s_publish_keys);
        s_copy (p, "pattern", pub->pattern, sizeof pub->pattern, NULL, true);
        s_copy (p, "device", pub->device, sizeof pub->device, NULL, true);
        pub->stale_ms = (int) af_config_int (p, "stale_ms", 0, 0, 86400000);
        if (*pub->pattern && !af_topic_pattern_valid (pub->pattern))
            af_config_fail (af_config_get (p, "pattern"), "'%s' is not a valid topic pattern",
                            pub->pattern);
        if (strpbrk (pub->device, "/+#"))
            af_config_fail (af_config_get (p, "device"), "'device' must not contain '/', '+' or '#'");
        /* One device, one birth and one alias set: two entries may not
         * share a device id. */
        for (size_t j = 0; j < i; j++)
            if (!strcmp (spb->publish[j].device, pub->device))
                af_config_fail (af_config_get (p, "device"), "device '%s' is already published "
                                "by another entry", pub->device);
    }
    const af_config_t *host = af_config_get (m, "host_application");
    if (host) {
        af_config_known_keys (host, s_host_keys);
        s_copy (host, "id", spb->host_id, sizeof spb->host_id, NULL, true);
        s_copy (host, "group", spb->consume_group, sizeof spb->consume_group, "+", false);
        if (strpbrk (spb->host_id, "/+#") || strpbrk (spb->consume_group, "/#"))
            af_config_fail (host, "'id' and 'group' must be one MQTT topic level");
    }
    if (!*spb->edge_node && !*spb->host_id)
        af_config_fail (m, "'sparkplug' needs an 'edge_node' or a 'host_application'");
}

static bm_map_t *
s_build (af_config_t *root, char *err, size_t err_len)
{
    bm_map_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (af_config_kind (root) != AF_CONFIG_MAP) {
        af_config_fail (root, "a map file is a mapping with 'bridge', 'modbus' and 'sparkplug'");
        goto check;
    }
    af_config_known_keys (root, s_top_keys);
    const af_config_t *b = af_config_get (root, "bridge");
    if (!b)
        af_config_fail (root, "missing 'bridge' section (name, cell)");
    else {
        af_config_known_keys (b, s_bridge_keys);
        s_copy (b, "name", self->name, sizeof self->name, NULL, true);
        s_copy (b, "cell", self->cell, sizeof self->cell, "plant", false);
        s_copy (b, "factory", self->factory, sizeof self->factory, "factory", false);
        self->status_ms = (int) af_config_int (b, "status_ms", 1000, 10, 3600000);
        s_check_topic (b, "name", self->name);
        s_check_topic (b, "cell", self->cell);
    }
    af_config_t *devs = af_config_seq (root, "modbus");
    self->n_devices = af_config_size (devs);
    self->devices = self->n_devices ? calloc (self->n_devices, sizeof *self->devices) : NULL;
    for (size_t i = 0; self->devices && i < self->n_devices; i++) {
        s_parse_device (af_config_at (devs, i, NULL), &self->devices[i]);
        for (size_t j = 0; j < i; j++)
            if (!strcmp (self->devices[j].name, self->devices[i].name))
                af_config_fail (af_config_at (devs, i, NULL), "device '%s' is mapped twice",
                                self->devices[i].name);
    }
    const af_config_t *spb = af_config_get (root, "sparkplug");
    if (spb)
        s_parse_sparkplug (spb, &self->spb);
    if (!self->n_devices && !spb)
        af_config_fail (root, "nothing to bridge: no 'modbus' devices and no 'sparkplug' section");
check:
    if (af_config_error (root)) {
        snprintf (err, err_len, "%s", af_config_error (root));
        bm_map_destroy (&self);
    }
    return self;
}

bm_map_t *
bm_map_parse (const char *text, size_t len, const char *name, char *err, size_t err_len)
{
    af_config_t *root = af_config_parse (text, len, name, err, err_len);
    if (!root)
        return NULL;
    bm_map_t *self = s_build (root, err, err_len);
    af_config_destroy (&root);
    return self;
}

bm_map_t *
bm_map_load (const char *path, char *err, size_t err_len)
{
    af_config_t *root = af_config_load (path, err, err_len);
    if (!root)
        return NULL;
    bm_map_t *self = s_build (root, err, err_len);
    af_config_destroy (&root);
    return self;
}

void
bm_map_destroy (bm_map_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bm_map_t *self = *self_p;
    for (size_t i = 0; i < self->n_devices; i++) {
        free (self->devices[i].points);
        free (self->devices[i].commands);
    }
    free (self->devices);
    free (self->spb.publish);
    free (self);
    *self_p = NULL;
}

const bm_command_t *
bm_device_command (const bm_device_t *device, const char *name)
{
    for (size_t i = 0; name && i < device->n_commands; i++)
        if (!strcmp (device->commands[i].name, name))
            return &device->commands[i];
    return NULL;
}
