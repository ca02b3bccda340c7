/* sched_output.c — plans as JSON (write and read back) and as SVG Gantt charts. */

#include "sched_internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* Gantt chart geometry, in SVG pixels. */
#define S_SVG_PLOT_W_PX 1000
#define S_SVG_LEFT_PX 70
#define S_SVG_TOP_PX 40
#define S_SVG_ROW_PX 24
#define S_SVG_BAR_PX 18
#define S_SVG_LABEL_MIN_PX 14

/* A JSON string by json-c, the one JSON library of autofab. */
static void s_json_str(FILE *f, const char *s)
{
    json_object *str = json_object_new_string(s ? s : "");
    fputs(str ? json_object_to_json_string_ext(str, JSON_C_TO_STRING_PLAIN |
                                               JSON_C_TO_STRING_NOSLASHESCAPE)
              : "\"\"", f);
    json_object_put(str);
}

int sched_plan_write_json(const sched_plan_t *p, const sched_inst_t *in,
                          FILE *f)
{
    fputs("{\n  \"instance\": ", f);
    s_json_str(f, in->name);
    fprintf(f, ",\n  \"jobs\": %d,\n  \"machines\": %d,\n  \"makespan\": %ld,\n"
            "  \"weighted_tardiness\": %lld,\n  \"ops\": [\n",
            in->n_jobs, in->n_machines, p->makespan, p->wtard);
    for (int i = 0; i < p->n; i++) {
        const sched_entry_t *e = &p->e[i];
        fprintf(f, "    {\"job\": %d, \"op\": %d, \"machine\": %d, \"start\": %d, "
                "\"end\": %d}%s\n", e->job, e->op, e->machine, e->start_tu,
                e->end_tu, i + 1 < p->n ? "," : "");
    }
    fputs("  ]\n}\n", f);
    return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------ JSON reader */

/* One integer member KEY of OBJ within [-1, 2e9]; 0 or -1. */
static int s_int_member(json_object *obj, const char *key, int *out)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
        return -1;
    errno = 0;
    int64_t n = json_object_get_int64(v);
    if (errno || n < -1 || n > 2000000000LL)
        return -1;
    *out = (int)n;
    return 0;
}

/* Reads a plan written by sched_plan_write_json, with json-c: the file is
 * untrusted, so every entry must be an object with the five integers. */
sched_plan_t *sched_plan_load_json(const char *path, char *err)
{
    sched_plan_t *p = NULL;
    json_object *root = json_object_from_file(path);
    json_object *ops = NULL;
    if (!root) {
        if (err)
            snprintf(err, SCHED_ERR_LEN, "%s: not readable JSON: %s", path,
                     json_util_get_last_err() ? json_util_get_last_err() : "?");
        return NULL;
    }
    if (!json_object_object_get_ex(root, "ops", &ops) || !json_object_is_type(ops, json_type_array)) {
        if (err)
            snprintf(err, SCHED_ERR_LEN, "%s: no \"ops\" array (not a plan)", path);
        goto fail;
    }
    int n = (int)json_object_array_length(ops);
    p = sched_plan_new(n);
    if (!p)
        goto fail;
    for (int i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(ops, (size_t)i);
        sched_entry_t e = { -1, -1, -1, 0, 0 };
        if (!json_object_is_type(o, json_type_object) || s_int_member(o, "job", &e.job)
            || s_int_member(o, "op", &e.op) || s_int_member(o, "machine", &e.machine)
            || s_int_member(o, "start", &e.start_tu) || s_int_member(o, "end", &e.end_tu)) {
            if (err)
                snprintf(err, SCHED_ERR_LEN, "%s: ops entry %d: expected "
                         "job, op, machine, start, end as integers", path, i);
            goto fail;
        }
        p->e[i] = e;
    }
    json_object_put(root);
    return p;
fail:
    json_object_put(root);
    sched_plan_destroy(&p);
    return NULL;
}

/* ------------------------------------------------------------------- SVG */

static long s_nice_step(long span)
{
    static const int mult[] = { 1, 2, 5 };
    for (long base = 1;; base *= 10)
        for (int i = 0; i < 3; i++)
            if (span / (base * mult[i]) <= 12)
                return base * mult[i];
}

int sched_plan_write_svg(const sched_plan_t *p, const sched_inst_t *in,
                         FILE *f)
{
    long span = p->makespan > 0 ? p->makespan : 1;
    double sx = (double)S_SVG_PLOT_W_PX / span;
    int w = S_SVG_LEFT_PX + S_SVG_PLOT_W_PX + 20;
    int h = S_SVG_TOP_PX + in->n_machines * S_SVG_ROW_PX + 30;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "font-family=\"sans-serif\" font-size=\"11\">\n", w, h);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%d\" y=\"20\" font-size=\"14\">", S_SVG_LEFT_PX);
    for (const char *c = in->name; *c; c++)
        if (*c == '<') fputs("&lt;", f);
        else if (*c == '&') fputs("&amp;", f);
        else fputc(*c, f);
    fprintf(f, " — makespan %ld, weighted tardiness %lld</text>\n", p->makespan,
            p->wtard);
    for (int m = 0; m < in->n_machines; m++) {
        int y = S_SVG_TOP_PX + m * S_SVG_ROW_PX;
        fprintf(f, "<text x=\"5\" y=\"%d\">M%d</text>\n", y + 13, m);
        for (int i = 0; i < sched_inst_windows(in, m); i++) {
            int a, b;
            sched_inst_window(in, m, i, &a, &b);
            if (a >= span)
                continue;
            if (b > span)
                b = (int)span;
            fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
                    "fill=\"#999\" opacity=\"0.5\"><title>down [%d, %d)</title></rect>\n",
                    S_SVG_LEFT_PX + a * sx, y, (b - a) * sx, S_SVG_BAR_PX, a, b);
        }
    }
    for (int i = 0; i < p->n; i++) {
        const sched_entry_t *e = &p->e[i];
        if (e->machine < 0 || e->machine >= in->n_machines)
            continue;
        int y = S_SVG_TOP_PX + e->machine * S_SVG_ROW_PX;
        double x = S_SVG_LEFT_PX + e->start_tu * sx;
        double bw = (e->end_tu - e->start_tu) * sx;
        /* Golden-angle hues keep neighbouring job numbers apart. */
        int hue = (int)((e->job * 137.508));
        fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
                "fill=\"hsl(%d,65%%,62%%)\" stroke=\"#333\" stroke-width=\"0.5\">"
                "<title>job %d op %d: [%d, %d)</title></rect>\n", x, y, bw,
                S_SVG_BAR_PX, hue % 360, e->job, e->op, e->start_tu, e->end_tu);
        if (bw >= S_SVG_LABEL_MIN_PX)
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n",
                    x + bw / 2, y + 13, e->job);
    }
    int ay = S_SVG_TOP_PX + in->n_machines * S_SVG_ROW_PX + 2;
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n",
            S_SVG_LEFT_PX, ay, S_SVG_LEFT_PX + S_SVG_PLOT_W_PX, ay);
    long step = s_nice_step(span);
    for (long t = 0; t <= span; t += step)
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%ld</text>\n",
                S_SVG_LEFT_PX + t * sx, ay + 14, t);
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}
