/*  bridge modbus — one Modbus TCP device polled with libmodbus (modbus.h).  */
#include "modbus.h"

#include "af_clock.h"
#include "af_log.h"

#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Addresses this far apart (registers or bits) still share one read: one
 * request for a few unused words is cheaper than another round trip. */
#define S_MERGE_GAP 16u

/* One read request: COUNT registers or bits of TABLE from ADDRESS. */
typedef struct {
    bv_table_t table;
    unsigned address, count;
} s_block_t;

struct bmb_device {
    const bm_device_t *map;
    bmb_sink_t sink;
    modbus_t *ctx;
    bool connected;
    int online;                  /* 1 online, 0 stale, -1 not known yet */
    int failures;                /* in a row */
    int backoff_ms;
    int64_t due_ms;              /* next poll or connect attempt */
    s_block_t *blocks;
    size_t n_blocks;
    int *point_block;            /* block of each point */
    uint16_t *words;             /* per block: its registers (bits as 0/1) */
    size_t *block_off;
    double *values;
    bool *valid;
    bmb_counters_t counters;
};

/* Orders point indices by (table, address); ARG is the device map. */
static int
s_cmp_points (const void *a, const void *b, void *arg)
{
    const bm_device_t *m = arg;
    const bm_point_t *p = &m->points[*(const int *) a];
    const bm_point_t *q = &m->points[*(const int *) b];
    if (p->table != q->table)
        return (int) p->table - (int) q->table;
    return p->address < q->address ? -1 : p->address > q->address;
}

/* Plans the reads: points sorted by table and address, neighbours merged
 * while the block stays within the protocol's limit. */
static int
s_plan (bmb_device_t *self)
{
    const bm_device_t *m = self->map;
    int *order = malloc (m->n_points * sizeof *order);
    self->blocks = calloc (m->n_points, sizeof *self->blocks);
    self->point_block = calloc (m->n_points, sizeof *self->point_block);
    self->block_off = calloc (m->n_points + 1, sizeof *self->block_off);
    if (!order || !self->blocks || !self->point_block || !self->block_off) {
        free (order);
        return -1;
    }
    for (size_t i = 0; i < m->n_points; i++)
        order[i] = (int) i;
    qsort_r (order, m->n_points, sizeof *order, s_cmp_points, (void *) m);
    for (size_t k = 0; k < m->n_points; k++) {
        const bm_point_t *p = &m->points[order[k]];
        unsigned end = p->address + bv_type_words (p->fmt.type);
        bool bits = p->table == BV_COIL || p->table == BV_DISCRETE;
        unsigned limit = bits ? BM_MAX_READ_BITS : BM_MAX_READ_REGS;
        s_block_t *b = self->n_blocks ? &self->blocks[self->n_blocks - 1] : NULL;
        if (b && b->table == p->table && p->address <= b->address + b->count + S_MERGE_GAP
            && end - b->address <= limit) {
            if (end > b->address + b->count)
                b->count = end - b->address;
        } else {
            b = &self->blocks[self->n_blocks++];
            *b = (s_block_t) { p->table, p->address, end - p->address };
        }
        self->point_block[order[k]] = (int) (self->n_blocks - 1);
    }
    free (order);
    for (size_t i = 0; i < self->n_blocks; i++)
        self->block_off[i + 1] = self->block_off[i] + self->blocks[i].count;
    self->words = calloc (self->block_off[self->n_blocks] + 1, sizeof *self->words);
    return self->words ? 0 : -1;
}

bmb_device_t *
bmb_device_new (const bm_device_t *map, const bmb_sink_t *sink)
{
    bmb_device_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->map = map;
    self->sink = *sink;
    self->online = -1;
    self->backoff_ms = map->backoff_min_ms;
    self->due_ms = af_clock_mono_ms ();
    self->values = calloc (map->n_points, sizeof *self->values);
    self->valid = calloc (map->n_points, sizeof *self->valid);
    self->ctx = modbus_new_tcp (map->host, map->port);
    if (!self->values || !self->valid || !self->ctx || s_plan (self) != 0)
        goto fail;
    modbus_set_slave (self->ctx, map->unit_id);
    modbus_set_response_timeout (self->ctx, (uint32_t) (map->timeout_ms / 1000),
                                 (uint32_t) (map->timeout_ms % 1000) * 1000u);
    return self;
fail:
    bmb_device_destroy (&self);
    return NULL;
}

void
bmb_device_destroy (bmb_device_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bmb_device_t *self = *self_p;
    if (self->ctx) {
        if (self->connected)
            modbus_close (self->ctx);
        modbus_free (self->ctx);
    }
    free (self->blocks);
    free (self->point_block);
    free (self->block_off);
    free (self->words);
    free (self->values);
    free (self->valid);
    free (self);
    *self_p = NULL;
}

static bool
s_is_exception (int err)
{
    return err > MODBUS_ENOBASE && err <= EMBXGTAR;
}

/* A failed connect or request: drop the connection, back off, and after
 * stale_after of them in a row tell the sink the device is STALE. */
static void
s_failed (bmb_device_t *self, int64_t now_ms, const char *what)
{
    const char *why = modbus_strerror (errno);
    if (self->connected) {
        modbus_close (self->ctx);
        self->connected = false;
    }
    self->failures++;
    self->due_ms = now_ms + self->backoff_ms;
    self->backoff_ms = self->backoff_ms * 2 > self->map->backoff_max_ms ? self->map->backoff_max_ms
                                                                        : self->backoff_ms * 2;
    if (self->failures >= self->map->stale_after && self->online != 0) {
        self->online = 0;
        self->counters.stale_events++;
        af_warn ("modbus %s (%s:%d): STALE after %d failures; last: %s %s", self->map->name,
                 self->map->host, self->map->port, self->failures, what, why);
        char text[200];
        snprintf (text, sizeof text, "%s: %s", what, why);
        if (self->sink.state)
            self->sink.state (self->sink.arg, self->map, false, text);
    }
}

/* Reads one block into its words; 0, 1 on an exception, -1 on a failure. */
static int
s_read_block (bmb_device_t *self, size_t b)
{
    const s_block_t *blk = &self->blocks[b];
    uint16_t *w = self->words + self->block_off[b];
    int n;
    uint8_t bits[BM_MAX_READ_BITS];
    switch (blk->table) {
    case BV_HOLDING: n = modbus_read_registers (self->ctx, (int) blk->address, (int) blk->count, w); break;
    case BV_INPUT: n = modbus_read_input_registers (self->ctx, (int) blk->address, (int) blk->count, w); break;
    case BV_COIL: n = modbus_read_bits (self->ctx, (int) blk->address, (int) blk->count, bits); break;
    default: n = modbus_read_input_bits (self->ctx, (int) blk->address, (int) blk->count, bits); break;
    }
    if (n == (int) blk->count) {
        if (blk->table == BV_COIL || blk->table == BV_DISCRETE)
            for (unsigned i = 0; i < blk->count; i++)
                w[i] = bits[i];
        return 0;
    }
    if (n >= 0)
        errno = EMBBADDATA;
    if (!s_is_exception (errno))
        return -1;
    self->counters.exceptions++;
    AF_LOG_ONCE (AF_LOG_WARN, "modbus %s: exception reading %u %s at %u: %s (counted; logged once)",
                 self->map->name, blk->count, bv_table_name (blk->table), blk->address,
                 modbus_strerror (errno));
    return 1;
}

static void
s_poll (bmb_device_t *self, int64_t now_ms)
{
    int64_t t0 = af_clock_mono_ms ();
    bool ok_block[self->n_blocks + 1];
    for (size_t b = 0; b < self->n_blocks; b++) {
        int rc = s_read_block (self, b);
        if (rc < 0) {
            self->counters.poll_errors++;
            s_failed (self, now_ms, "read");
            return;
        }
        ok_block[b] = rc == 0;
    }
    for (size_t i = 0; i < self->map->n_points; i++) {
        const bm_point_t *p = &self->map->points[i];
        int b = self->point_block[i];
        self->valid[i] = ok_block[b];
        if (ok_block[b])
            self->values[i] = bv_decode (&p->fmt, self->words + self->block_off[b]
                                                      + (p->address - self->blocks[b].address));
    }
    self->counters.polls++;
    self->failures = 0;
    self->backoff_ms = self->map->backoff_min_ms;
    double ms = (double) (af_clock_mono_ms () - t0);
    self->counters.last_poll_ms = ms;
    if (ms > self->counters.max_poll_ms)
        self->counters.max_poll_ms = ms;
    if (self->online != 1) {
        if (self->online == 0)
            af_info ("modbus %s: back online", self->map->name);
        self->online = 1;
        if (self->sink.state)
            self->sink.state (self->sink.arg, self->map, true, "polled");
    }
    if (self->sink.values)
        self->sink.values (self->sink.arg, self->map, self->values, self->valid);
}

void
bmb_device_iterate (bmb_device_t *self, int64_t now_ms)
{
    if (now_ms < self->due_ms)
        return;
    if (!self->connected) {
        if (modbus_connect (self->ctx) != 0) {
            self->counters.connect_failures++;
            s_failed (self, now_ms, "connect");
            return;
        }
        self->connected = true;
        self->counters.connects++;
    }
    /* Periods run on a fixed grid; one missed entirely is counted and
     * skipped rather than bunched up. */
    int64_t next = self->due_ms + self->map->poll_ms;
    if (next <= now_ms) {
        if (self->failures == 0 && self->counters.polls)
            self->counters.late_polls++;
        next = now_ms + self->map->poll_ms;
    }
    self->due_ms = next;
    s_poll (self, now_ms);
}

int64_t
bmb_device_due_ms (const bmb_device_t *self)
{
    return self->due_ms;
}

int
bmb_device_write (bmb_device_t *self, const char *command, double value, char *err, size_t err_len)
{
    const bm_command_t *c = bm_device_command (self->map, command);
    int rc = -1;
    if (!c) {
        snprintf (err, err_len, "command '%s' is not allowed by the map of device '%s'",
                  command ? command : "", self->map->name);
        goto done;
    }
    if (!(value >= c->min && value <= c->max)) {
        snprintf (err, err_len, "%s: %g is outside the allowed range [%g, %g]", c->name, value,
                  c->min, c->max);
        goto done;
    }
    if (!self->connected || self->online == 0) {
        snprintf (err, err_len, "%s: device '%s' is offline", c->name, self->map->name);
        goto done;
    }
    const bm_point_t *p = &self->map->points[c->point];
    uint16_t words[4];
    char why[128];
    if (bv_encode (&p->fmt, value, words, why, sizeof why) != 0) {
        snprintf (err, err_len, "%s: %s", c->name, why);
        goto done;
    }
    int n = bv_type_words (p->fmt.type);
    int w = p->table == BV_COIL ? modbus_write_bit (self->ctx, (int) p->address, words[0] != 0)
            : n == 1            ? modbus_write_register (self->ctx, (int) p->address, words[0])
                                : modbus_write_registers (self->ctx, (int) p->address, n, words);
    if (w < 0) {
        snprintf (err, err_len, "%s: write to %s %u failed: %s", c->name, bv_table_name (p->table),
                  p->address, modbus_strerror (errno));
        if (s_is_exception (errno))
            self->counters.exceptions++;
        else
            s_failed (self, af_clock_mono_ms (), "write");
        goto done;
    }
    rc = 0;
done:
    if (rc == 0)
        self->counters.writes++;
    else
        self->counters.writes_refused++;
    return rc;
}

bool
bmb_device_online (const bmb_device_t *self)
{
    return self->online == 1;
}

const bmb_counters_t *
bmb_device_counters (const bmb_device_t *self)
{
    return &self->counters;
}

const bm_device_t *
bmb_device_map (const bmb_device_t *self)
{
    return self->map;
}
