/* map.c — the shared floor occupancy map: static layout plus expiring reports. */

#include "map.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* The newest report about one cell. */
typedef struct {
    double t_s;                 /* -INFINITY: no report */
    int reporter;
    bool blocked;
} s_report_t;

struct floormap {
    int w, h;
    double ttl_s;
    unsigned char *wall;        /* static layout */
    s_report_t *rep;            /* newest report per cell */
    unsigned long version;
    unsigned long refused;
    double last_now_s;          /* latest time the map was asked about */
};

floormap_t *floormap_new(int width, int height, double ttl_s)
{
    if (width < 1 || height < 1 || width > FLOORMAP_MAX_SIDE
        || height > FLOORMAP_MAX_SIDE || !(ttl_s > 0))
        return NULL;
    floormap_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->w = width;
    m->h = height;
    m->ttl_s = ttl_s;
    m->wall = calloc((size_t) width * height, 1);
    m->rep = malloc((size_t) width * height * sizeof *m->rep);
    if (!m->wall || !m->rep) {
        floormap_destroy(&m);
        return NULL;
    }
    for (long k = 0; k < (long) width * height; k++)
        m->rep[k] = (s_report_t) { .t_s = -INFINITY, .reporter = -1 };
    m->last_now_s = -INFINITY;
    return m;
}

/* Size of the text map: rows split on '\n', all the same length. */
static int s_measure(const char *text, int *w, int *h, char *err, size_t err_len)
{
    *w = -1;
    *h = 0;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        int len = e ? (int) (e - p) : (int) strlen(p);
        if (len > 0) {
            if (*w >= 0 && len != *w) {
                snprintf(err, err_len, "map row %d has %d cells, row 1 has %d", *h + 1, len, *w);
                return -1;
            }
            *w = len;
            (*h)++;
        }
        if (!e)
            break;
        p = e + 1;
    }
    if (*w < 1 || *w > FLOORMAP_MAX_SIDE || *h > FLOORMAP_MAX_SIDE) {
        snprintf(err, err_len, "map is empty or larger than %d cells a side", FLOORMAP_MAX_SIDE);
        return -1;
    }
    return 0;
}

floormap_t *floormap_parse(const char *text, double ttl_s, char *err, size_t err_len)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        err_len = sizeof dummy;
    }
    int w, h;
    if (!text || s_measure(text, &w, &h, err, err_len) < 0)
        return NULL;
    floormap_t *m = floormap_new(w, h, ttl_s);
    if (!m) {
        snprintf(err, err_len, "map: bad ttl or out of memory");
        return NULL;
    }
    int y = 0, x = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            y += x > 0;
            x = 0;
            continue;
        }
        if (*p != '#' && *p != '.') {
            snprintf(err, err_len, "map row %d column %d: '%c' is neither '#' nor '.'",
                     y + 1, x + 1, *p);
            floormap_destroy(&m);
            return NULL;
        }
        m->wall[(long) y * w + x] = *p == '#';
        x++;
    }
    return m;
}

void floormap_destroy(floormap_t **p_map)
{
    if (!p_map || !*p_map)
        return;
    free((*p_map)->wall);
    free((*p_map)->rep);
    free(*p_map);
    *p_map = NULL;
}

int floormap_width(const floormap_t *m)
{
    return m->w;
}

int floormap_height(const floormap_t *m)
{
    return m->h;
}

static bool s_in(const floormap_t *m, int x, int y)
{
    return x >= 0 && y >= 0 && x < m->w && y < m->h;
}

static bool s_rep_blocks(const floormap_t *m, const s_report_t *r, double now_s)
{
    return r->blocked && now_s - r->t_s < m->ttl_s;
}

int floormap_set_static(floormap_t *m, int x, int y, bool wall)
{
    if (!s_in(m, x, y))
        return -1;
    unsigned char *c = &m->wall[(long) y * m->w + x];
    if (*c != wall)
        m->version++;
    *c = wall;
    return 0;
}

/* Takes report r for cell k if it is newer; bumps the version when the
 * cell's blocked state (judged at the report's time) changes. */
static int s_take(floormap_t *m, long k, const s_report_t *r)
{
    s_report_t *old = &m->rep[k];
    if (r->t_s <= old->t_s)
        return 0;
    double at = r->t_s > m->last_now_s ? r->t_s : m->last_now_s;
    bool was = s_rep_blocks(m, old, at), is = s_rep_blocks(m, r, at);
    *old = *r;
    if (was != is && !m->wall[k])
        m->version++;
    return 1;
}

int floormap_report(floormap_t *m, int x, int y, bool blocked, double t_s, int reporter)
{
    if (!s_in(m, x, y) || !isfinite(t_s)) {
        m->refused++;
        return -1;
    }
    s_report_t r = { .t_s = t_s, .reporter = reporter, .blocked = blocked };
    return s_take(m, (long) y * m->w + x, &r);
}

int floormap_merge(floormap_t *m, const floormap_t *src)
{
    if (!src || src->w != m->w || src->h != m->h)
        return -1;
    int taken = 0;
    for (long k = 0; k < (long) m->w * m->h; k++)
        if (src->rep[k].t_s > -INFINITY)
            taken += s_take(m, k, &src->rep[k]);
    return taken;
}

int floormap_expire(floormap_t *m, double now_s)
{
    int freed = 0;
    if (now_s > m->last_now_s)
        m->last_now_s = now_s;
    for (long k = 0; k < (long) m->w * m->h; k++) {
        s_report_t *r = &m->rep[k];
        if (r->blocked && !(now_s - r->t_s < m->ttl_s)) {
            r->blocked = false;
            freed += !m->wall[k];
        }
    }
    if (freed)
        m->version++;
    return freed;
}

bool floormap_blocked(const floormap_t *m, int x, int y, double now_s)
{
    if (!s_in(m, x, y))
        return true;
    long k = (long) y * m->w + x;
    return m->wall[k] || s_rep_blocks(m, &m->rep[k], now_s);
}

unsigned long floormap_version(const floormap_t *m)
{
    return m->version;
}

unsigned long floormap_refused(const floormap_t *m)
{
    return m->refused;
}

void floormap_snapshot(const floormap_t *m, double now_s, unsigned char *blocked)
{
    for (int y = 0; y < m->h; y++)
        for (int x = 0; x < m->w; x++)
            blocked[(long) y * m->w + x] = floormap_blocked(m, x, y, now_s);
}
