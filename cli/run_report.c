/*  run_report — autofab run's KPI table, kpi.json and report.html.
 *
 *  report.html is one self-contained page, readable offline: the KPI table,
 *  the vision's targets, and charts drawn by Chart.js (Debian's
 *  libjs-chart.js, inlined) from the twin's per-epoch series.  */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "af_json.h"
#include "run.h"

#define RUN_CHARTJS_PATH "/usr/share/javascript/chart.js/chart.min.js"
/* Said whenever the autonomous run had no agent to run. */
static const char s_no_agents_note[] =
    "No autonomous agent is installed yet (line, maintenance, robot, route and energy agents\n"
    "arrive in later releases): the autonomous run used the twin's conventional practice for\n"
    "every concern, so it equals the baseline. See docs/run.md.";

/* Said when some agents ran: the rest of the plant was conventional. */
static const char s_some_agents_note[] =
    "The autonomous run had %d agent(s) (their logs are in autonomous/logs/); every concern no\n"
    "agent owns ran the twin's conventional practice, as in the baseline. See docs/run.md.";

/* "Near-zero" escaped defects, for the target line (docs/run.md). */
#define RUN_NEAR_ZERO_PPM 50.0
/* 24/7: no simulated hour without a finished unit. */
#define RUN_MAX_OUTPUT_GAP_H 1.0

static const struct {
    const char *key, *unit;
    int better;
} s_kpis[RUN_KPI_COUNT] = {
#define X(id, key, unit, better) [RUN_KPI_##id] = { #key, unit, better },
    RUN_KPIS (X)
#undef X
};

/* What people read in the table: a name and its unit, not the JSON key
 * (the key stays in kpi.json and docs/kpi.md).  A footnote mark says the
 * figure needs a word of explanation under the table. */
static const char *const s_labels[RUN_KPI_COUNT] = {
    [RUN_KPI_SIM_H] = "simulated time (h)",
    [RUN_KPI_UNITS] = "units shipped",
    [RUN_KPI_THROUGHPUT_UPH] = "throughput (units/h)",
    [RUN_KPI_CYCLE_TIME_MEAN_MIN] = "mean cycle time (min)",
    [RUN_KPI_OEE_PCT] = "OEE, bottleneck (%)",
    [RUN_KPI_DOWNTIME_H] = "downtime (station-h)",
    [RUN_KPI_UNPLANNED_DOWNTIME_H] = "  unplanned (station-h)",
    [RUN_KPI_PLANNED_DOWNTIME_H] = "  planned (station-h)",
    [RUN_KPI_MTBF_H] = "MTBF (h) [1]",
    [RUN_KPI_MTTR_H] = "MTTR (h) [2]",
    [RUN_KPI_ESCAPED_DEFECTS_PPM] = "escaped defects (ppm)",
    [RUN_KPI_SCRAP_UNITS] = "scrap (units)",
    [RUN_KPI_REWORK_UNITS] = "rework (units)",
    [RUN_KPI_ENERGY_KWH_PER_UNIT] = "energy per unit (kWh)",
    [RUN_KPI_ENERGY_COST_PER_UNIT] = "energy cost per unit [3]",
    [RUN_KPI_PEAK_KW] = "peak grid demand (kW)",
    [RUN_KPI_MANUAL_INTERVENTIONS] = "manual interventions",
    [RUN_KPI_ROBOT_UTILISATION_PCT] = "robot utilisation (%)",
    [RUN_KPI_LEAD_TIME_MEAN_MIN] = "mean lead time from order (min)",
    [RUN_KPI_TARDY_PCT] = "orders shipped late (%)",
};

static const char s_footnotes[] =
    "[1] MTBF: up time of the stations that can fail / breakdowns in the window.  With no\n"
    "    breakdown it is the whole up time, a lower bound, shown as \">= X\".\n"
    "[2] MTTR: breakdown to end of repair (response included), over repairs that ended in\n"
    "    the window; a repair still running at the end is not in it (\"-\": none ended).\n"
    "[3] Energy cost per unit includes the demand charge on each month's highest 15-min\n"
    "    import, pro-rated to the share of the month (730 h) the run covers, and battery wear.\n"
    "See docs/kpi.md for every definition.\n";

const char *
run_kpi_label (run_kpi_t kpi)
{
    return kpi < RUN_KPI_COUNT && s_labels[kpi] ? s_labels[kpi] : "?";
}

void
run_hours_text (double hours, char *out, size_t out_len)
{
    static const struct {
        double hours;
        const char *one, *many;
    } s_spans[] = { { 24 * 7, "week", "weeks" }, { 24, "day", "days" } };
    int n = snprintf (out, out_len, "%g simulated hour%s", hours, hours == 1 ? "" : "s");
    for (size_t i = 0; i < sizeof s_spans / sizeof s_spans[0] && n > 0 && (size_t) n < out_len;
         i++) {
        double count = hours / s_spans[i].hours;
        if (count >= 1 && count == floor (count)) {
            snprintf (out + n, out_len - (size_t) n, " (%g %s)", count,
                      count == 1 ? s_spans[i].one : s_spans[i].many);
            break;
        }
    }
}

void
run_result_read_twin (run_result_t *r, const char *policy_dir)
{
    /* The Kpis message on the bus may leave breakdowns at 0; the twin's own
     * kpi.json always has it (read with json-c). */
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/kpi.json", policy_dir);
    json_object *kpi = json_object_from_file (path), *v = NULL;
    if (kpi && json_object_object_get_ex (kpi, "breakdowns", &v)
        && (json_object_is_type (v, json_type_int) || json_object_is_type (v, json_type_double)))
        r->breakdowns = json_object_get_double (v);
    json_object_put (kpi);
}

void
run_result_from_kpis (run_result_t *r, const Autofab__Twin__Kpis *k)
{
#define X(id, key, unit, better) r->kpis[RUN_KPI_##id] = k->key;
    RUN_KPIS (X)
#undef X
    r->breakdowns = k->breakdowns;
}

double
run_change_pct (double a, double b)
{
    if (a == 0)
        return b == 0 ? 0 : NAN;
    return (b - a) / fabs (a) * 100.0;
}

typedef enum { S_CHANGE_AT_MOST, S_VALUE_AT_MOST, S_OUTPUT_GAP } s_target_kind_t;

static const struct {
    const char *claim;
    run_kpi_t kpi;
    s_target_kind_t kind;
    double limit;
} s_targets[] = {
    { "cycle time 25-50 % faster", RUN_KPI_CYCLE_TIME_MEAN_MIN, S_CHANGE_AT_MOST, -25 },
    { "downtime 40-70 % lower", RUN_KPI_DOWNTIME_H, S_CHANGE_AT_MOST, -40 },
    { "near-zero escaped defects (<= 50 ppm)", RUN_KPI_ESCAPED_DEFECTS_PPM, S_VALUE_AT_MOST, RUN_NEAR_ZERO_PPM },
    { "energy per unit 30-60 % better", RUN_KPI_ENERGY_KWH_PER_UNIT, S_CHANGE_AT_MOST, -30 },
    { "manual interventions 50-80 % fewer", RUN_KPI_MANUAL_INTERVENTIONS, S_CHANGE_AT_MOST, -50 },
    { "24/7: no hour without output", RUN_KPI_UNITS, S_OUTPUT_GAP, RUN_MAX_OUTPUT_GAP_H },
};
#define S_N_TARGETS (sizeof s_targets / sizeof s_targets[0])

/* Whether target I is met by AUTO against BASE; *SHOWN gets the figure. */
static bool
s_target_met (size_t i, const run_result_t *base, const run_result_t *autonomous, double *shown)
{
    switch (s_targets[i].kind) {
    case S_CHANGE_AT_MOST:
        *shown = run_change_pct (base->kpis[s_targets[i].kpi], autonomous->kpis[s_targets[i].kpi]);
        return isfinite (*shown) && *shown <= s_targets[i].limit;
    case S_VALUE_AT_MOST:
        *shown = autonomous->kpis[s_targets[i].kpi];
        return *shown <= s_targets[i].limit;
    case S_OUTPUT_GAP:
        *shown = autonomous->max_output_gap_h;
        return autonomous->kpis[RUN_KPI_UNITS] > 0 && *shown <= s_targets[i].limit;
    }
    return false;
}

static const run_result_t *
s_find (const run_report_t *report, const char *policy)
{
    for (int i = 0; i < report->n_results; i++)
        if (report->results[i].ok && !strcmp (report->results[i].policy, policy))
            return &report->results[i];
    return NULL;
}

/* One cell of the table: MTBF without a breakdown is a lower bound and
 * MTTR without a finished repair is no figure at all (docs/kpi.md). */
static void
s_cell_text (int k, const run_result_t *r, char *cell, size_t len)
{
    if (k == RUN_KPI_MTBF_H && r->breakdowns == 0)
        snprintf (cell, len, ">= %.4g", r->kpis[k]);
    else if (k == RUN_KPI_MTTR_H && r->kpis[k] == 0)
        snprintf (cell, len, "-");
    else
        snprintf (cell, len, "%.4g", r->kpis[k]);
}

static void
s_print_cell (FILE *out, int k, const run_result_t *r)
{
    char cell[32];
    s_cell_text (k, r, cell, sizeof cell);
    fprintf (out, " %14s", cell);
}

static void s_html_text (FILE *out, const char *text);

static void
s_print_cell_html (FILE *out, int k, const run_result_t *r)
{
    char cell[32];
    s_cell_text (k, r, cell, sizeof cell);
    s_html_text (out, cell);
}

/* Availability, performance and quality (OEE's factors) and breakdowns,
 * from each policy's kpi.json as the twin wrote it, read with json-c. */
static void
s_write_oee_table (const run_report_t *report, FILE *out)
{
    static const char *const s_keys[][2] = {
        { "availability_pct", "availability, bottleneck (%)" },
        { "performance_pct", "performance, bottleneck (%)" },
        { "quality_pct", "quality, first pass (%)" },
        { "breakdowns", "breakdowns" },
    };
    json_object *kpi[2] = { NULL, NULL };
    int n = report->n_results < 2 ? report->n_results : 2;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX];
        snprintf (path, sizeof path, "%s/%s/kpi.json", report->out_dir, report->results[i].policy);
        kpi[i] = json_object_from_file (path);
    }
    fputs ("<h2>OEE's factors and breakdowns</h2>\n<table id=\"oee-table\"><tr><th></th>", out);
    for (int i = 0; i < n; i++)
        fprintf (out, "<th>%s</th>", report->results[i].policy);
    fputs ("</tr>\n", out);
    for (size_t k = 0; k < sizeof s_keys / sizeof s_keys[0]; k++) {
        fprintf (out, "<tr><td>%s</td>", s_keys[k][1]);
        for (int i = 0; i < n; i++) {
            json_object *v = NULL;
            if (kpi[i] && json_object_object_get_ex (kpi[i], s_keys[k][0], &v)
                && (json_object_is_type (v, json_type_double) || json_object_is_type (v, json_type_int)))
                fprintf (out, "<td>%.4g</td>", json_object_get_double (v));
            else
                fputs ("<td>–</td>", out);
        }
        fputs ("</tr>\n", out);
    }
    fputs ("</table>\n", out);
    for (int i = 0; i < n; i++)
        json_object_put (kpi[i]);
}

/* A target's figure with its unit: "+12.5 %", "3.0 ppm", "longest gap 0.25 h". */
static void
s_target_figure (size_t i, double shown, char *out, size_t len)
{
    if (s_targets[i].kind == S_CHANGE_AT_MOST)
        snprintf (out, len, isfinite (shown) ? "%+.1f %%" : "n/a", shown);
    else if (s_targets[i].kind == S_VALUE_AT_MOST)
        snprintf (out, len, "%.1f ppm", shown);
    else
        snprintf (out, len, "longest gap %.2f h", shown);
}

/* The vision's targets, one aligned row each: verdict, claim, figure. */
static void
s_print_targets (FILE *out, const run_result_t *base, const run_result_t *autonomous)
{
    fprintf (out, "\nTargets of the vision (autonomous against baseline):\n");
    int met = 0;
    for (size_t i = 0; i < S_N_TARGETS; i++) {
        double shown;
        bool ok = s_target_met (i, base, autonomous, &shown);
        met += ok;
        char figure[48];
        s_target_figure (i, shown, figure, sizeof figure);
        fprintf (out, "  %-9s %-40s %18s\n", ok ? "[met]" : "[NOT met]", s_targets[i].claim,
                 figure);
    }
    fprintf (out, "%d of %zu targets met.\n", met, S_N_TARGETS);
}

void
run_report_print (const run_report_t *report, FILE *out)
{
    const run_result_t *base = s_find (report, "baseline");
    const run_result_t *autonomous = s_find (report, "autonomous");
    char hours[64];
    run_hours_text (report->hours, hours, sizeof hours);
    fprintf (out, "\nKPIs: %s, %s, seed %lu\n\n", report->config, hours,
             (unsigned long) report->seed);
    fprintf (out, "%-28s", "");
    if (base)
        fprintf (out, " %14s", "baseline");
    if (autonomous)
        fprintf (out, " %14s", "autonomous");
    if (base && autonomous)
        fprintf (out, " %10s", "change");
    fputc ('\n', out);
    for (int k = 0; k < RUN_KPI_COUNT; k++) {
        fprintf (out, "%-28s", run_kpi_label ((run_kpi_t) k));
        if (base)
            s_print_cell (out, k, base);
        if (autonomous)
            s_print_cell (out, k, autonomous);
        if (base && autonomous) {
            double change = run_change_pct (base->kpis[k], autonomous->kpis[k]);
            if (isfinite (change))
                fprintf (out, " %+8.1f %%", change);
            else
                fprintf (out, " %10s", "n/a");
        }
        fputc ('\n', out);
    }
    fprintf (out, "\n%s", s_footnotes);
    for (int i = 0; i < report->n_results; i++)
        if (report->results[i].restarts)
            fprintf (out, "\n%s: %u supervised restart(s) during the run\n", report->results[i].policy,
                     report->results[i].restarts);
    if (autonomous && autonomous->agents == 0)
        fprintf (out, "\n%s\n", s_no_agents_note);
    else if (autonomous) {
        fputc ('\n', out);
        fprintf (out, s_some_agents_note, autonomous->agents);
        fputc ('\n', out);
    }
    if (base && autonomous)
        s_print_targets (out, base, autonomous);
}

/* Reads a whole small file into a malloc'd string; NULL on failure. */
static char *
s_slurp (const char *path, size_t max_bytes)
{
    FILE *in = fopen (path, "rb");
    if (!in)
        return NULL;
    char *text = malloc (max_bytes + 1);
    size_t n = text ? fread (text, 1, max_bytes + 1, in) : 0;
    fclose (in);
    if (!text || n > max_bytes) {
        free (text);
        return NULL;
    }
    text[n] = 0;
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = 0;
    return text;
}

/* {"baseline": …, "autonomous": …, "change_pct": …, "targets": …, …} with
 * each policy's object as the twin wrote it (every KPI it computes). */
static int
s_write_kpi_json (const run_report_t *report, FILE *out, char *err, size_t err_len)
{
    fputc ('{', out);
    for (int i = 0; i < report->n_results; i++) {
        char path[PATH_MAX];
        snprintf (path, sizeof path, "%s/%s/kpi.json", report->out_dir, report->results[i].policy);
        char *text = s_slurp (path, 1 << 20);
        if (!text || text[0] != '{') {
            snprintf (err, err_len, "cannot read the twin's %s", path);
            free (text);
            return -1;
        }
        fprintf (out, "\"%s\":%s,", report->results[i].policy, text);
        free (text);
    }
    const run_result_t *base = s_find (report, "baseline");
    const run_result_t *autonomous = s_find (report, "autonomous");
    fputs ("\"change_pct\":{", out);
    for (int k = 0; base && autonomous && k < RUN_KPI_COUNT; k++) {
        fprintf (out, "%s\"%s\":", k ? "," : "", s_kpis[k].key);
        af_json_number (out, run_change_pct (base->kpis[k], autonomous->kpis[k]));
    }
    fputs ("},\"targets\":[", out);
    for (size_t i = 0; base && autonomous && i < S_N_TARGETS; i++) {
        double shown;
        bool ok = s_target_met (i, base, autonomous, &shown);
        fprintf (out, "%s{\"claim\":", i ? "," : "");
        af_json_string (out, s_targets[i].claim);
        fputs (",\"value\":", out);
        af_json_number (out, shown);
        fprintf (out, ",\"met\":%s}", ok ? "true" : "false");
    }
    fputs ("],\"config\":", out);
    af_json_string (out, report->config);
    fprintf (out, ",\"seed\":%lu,\"hours\":", (unsigned long) report->seed);
    af_json_number (out, report->hours);
    fputs ("}\n", out);
    return 0;
}

/* Writes TEXT escaped for HTML element content. */
static void
s_html_text (FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '<')
            fputs ("&lt;", out);
        else if (*p == '>')
            fputs ("&gt;", out);
        else if (*p == '&')
            fputs ("&amp;", out);
        else
            fputc (*p, out);
    }
}

static const char s_css[] =
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}"
    "table{border-collapse:collapse;font-size:.9em}td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right}"
    "td:first-child,th:first-child{text-align:left}.met{color:#18794e}.miss{color:#b42318}"
    ".grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}.chart{position:relative;height:300px}"
    ".note{color:#666;font-size:.85em}";

/* The page's script: draws the charts from the embedded data. */
static const char s_script[] =
    "const P=JSON.parse(document.getElementById('kpis').textContent);\n"
    "const S={};for(const p of P.policies){const e=document.getElementById('series-'+p);if(e)S[p]=JSON.parse(e.textContent);}\n"
    "const C={baseline:'#6b7280',autonomous:'#2563eb'};\n"
    "function chart(id,cfg){const el=document.getElementById(id);if(!window.Chart||!el)return;new Chart(el,cfg);}\n"
    "const opts=(x,y)=>({responsive:true,maintainAspectRatio:false,animation:false,plugins:{legend:{position:'bottom'}},"
    "scales:{x:{type:'linear',title:{display:true,text:x}},y:{title:{display:true,text:y}}}});\n"
    "const line=(p,key)=>S[p][key].map((v,i)=>({x:S[p].t_h[i],y:v}));\n"
    "const cum=p=>{let s=0;return S[p].throughput_uph.map((v,i)=>({x:S[p].t_h[i],y:(s+=v)/(i+1)}));};\n"
    "chart('c-throughput',{type:'line',data:{datasets:P.policies.filter(p=>S[p]).flatMap(p=>[{label:p+' per epoch',data:line(p,'throughput_uph'),"
    "borderColor:C[p],pointRadius:0,borderWidth:0.8,borderDash:[3,3]},{label:p+' mean so far',data:cum(p),borderColor:C[p],pointRadius:0,"
    "borderWidth:2}])},options:opts('simulated hours','units/h')});\n"
    "function down(p){const out={},open={},t=S[p].t_h,end=t.length?t[t.length-1]:0;"
    "for(const m of S[p].maintenance){if(m.kind==='breakdown')open[m.station]=m;"
    "else if(m.kind==='repair'&&open[m.station]){const b=open[m.station];out[b.cause]=(out[b.cause]||0)+m.t_h-b.t_h;delete open[m.station];}}"
    "for(const s in open){const k=open[s].cause+' (still down)';out[k]=(out[k]||0)+Math.max(0,end-open[s].t_h);}"
    "out['planned maintenance']=P.kpi[p].planned_downtime_h||0;return out;}\n"
    "const D={};for(const p of P.policies)if(S[p])D[p]=down(p);\n"
    "const causes=[...new Set(Object.values(D).flatMap(d=>Object.keys(d)))].sort();\n"
    "chart('c-downtime',{type:'bar',data:{labels:causes,datasets:Object.keys(D).map(p=>({label:p,backgroundColor:C[p],"
    "data:causes.map(c=>D[p][c]||0)}))},options:{responsive:true,"
    "maintainAspectRatio:false,animation:false,indexAxis:'y',plugins:{legend:{position:'bottom'}},"
    "scales:{x:{title:{display:true,text:'station-hours'}}}}});\n"
    "const dk=['escaped defects (ppm)','scrap (units)','rework (units)'],dv=['escaped_defects_ppm','scrap_units','rework_units'];\n"
    "chart('c-defects',{type:'bar',data:{labels:dk,datasets:P.policies.flatMap(p=>[{label:p+' (ppm, left axis)',backgroundColor:C[p],"
    "yAxisID:'y',data:dv.map((k,i)=>i===0?P.kpi[p][k]:null)},{label:p+' (units, right axis)',backgroundColor:C[p]+'99',yAxisID:'y1',"
    "data:dv.map((k,i)=>i>0?P.kpi[p][k]:null)}])},options:{responsive:true,maintainAspectRatio:false,animation:false,"
    "plugins:{legend:{position:'bottom'}},scales:{y:{title:{display:true,text:'ppm'},beginAtZero:true},"
    "y1:{position:'right',title:{display:true,text:'units'},beginAtZero:true,grid:{drawOnChartArea:false}}}}});\n"
    "const ep=P.policies[P.policies.length-1];\n"
    "const peak=p=>{const g=line(p,'grid_kw');return g.reduce((a,b)=>b.y>a.y?b:a,{x:0,y:-Infinity});};\n"
    "if(S[ep])chart('c-energy',{type:'line',data:{datasets:[...P.policies.filter(p=>S[p]).flatMap(p=>[{label:'grid kW ('+p+')',"
    "data:line(p,'grid_kw'),borderColor:p==='baseline'?'#9a3412':'#ea580c',borderDash:p==='baseline'?[4,3]:[],pointRadius:0,"
    "borderWidth:1,yAxisID:'y'},{label:'peak '+peak(p).y.toFixed(0)+' kW ('+p+')',data:[peak(p)],borderColor:'#b91c1c',"
    "backgroundColor:'#b91c1c',pointRadius:5,pointStyle:'triangle',showLine:false,yAxisID:'y'}]),{label:'battery state of charge ('+ep+')',data:line(ep,'battery_soc'),borderColor:'#16a34a',"
    "pointRadius:0,borderWidth:1.5,yAxisID:'y1'},{label:'price per kWh',data:line(ep,'price_per_kwh'),borderColor:'#7c3aed',"
    "pointRadius:0,borderWidth:1,stepped:true,yAxisID:'y2'}]},options:{responsive:true,maintainAspectRatio:false,animation:false,"
    "plugins:{legend:{position:'bottom'}},scales:{x:{type:'linear',title:{display:true,text:'simulated hours'}},"
    "y:{title:{display:true,text:'grid import, kW'}},y1:{position:'right',min:0,max:1,title:{display:true,text:'state of charge, 0..1'},"
    "grid:{drawOnChartArea:false}},y2:{position:'right',title:{display:true,text:'price per kWh'},grid:{drawOnChartArea:false}}}}});\n"
    "const st=S[P.policies[0]]?S[P.policies[0]].stations:[];\n"
    "chart('c-stations',{type:'bar',data:{labels:st,datasets:P.policies.filter(p=>S[p]).map(p=>({label:p+' busy %',backgroundColor:C[p],"
    "data:S[p].utilisation.map(u=>100*u)}))},options:{responsive:true,maintainAspectRatio:false,animation:false,"
    "plugins:{legend:{position:'bottom'}}}});\n"
    "const kinds={breakdown:'#dc2626',repair:'#f59e0b',pm:'#2563eb',replace:'#16a34a'};\n"
    "const off=p=>p==='autonomous'?0.2:-0.2;\n"
    "const bars=p=>{const out=[],open={};for(const m of S[p].maintenance){if(m.kind==='breakdown')open[m.station]=m;"
    "else if(m.kind==='repair'&&open[m.station]){const y=st.indexOf(m.station)+off(p);out.push({x:open[m.station].t_h,y},{x:m.t_h,y},{x:null,y:null});"
    "delete open[m.station];}}return out;};\n"
    "const md=P.policies.filter(p=>S[p]).flatMap(p=>[{label:'down, breakdown to repair ('+p+')',type:'line',data:bars(p),"
    "borderColor:C[p],borderWidth:5,pointRadius:0,spanGaps:false}].concat(Object.keys(kinds).map(k=>({label:k+' ('+p+')',"
    "backgroundColor:kinds[k],borderColor:C[p],pointStyle:p==='autonomous'?'rectRot':'circle',data:S[p].maintenance.filter(m=>m.kind===k)"
    ".map(m=>({x:m.t_h,y:st.indexOf(m.station)+off(p)}))})))).filter(d=>d.data.length);\n"
    "chart('c-maintenance',{type:'scatter',data:{datasets:md},options:{responsive:true,maintainAspectRatio:false,"
    "animation:false,plugins:{legend:{position:'bottom'}},scales:{x:{type:'linear',title:{display:true,text:'simulated hours'}},"
    "y:{min:-1,max:st.length,title:{display:true,text:'station'},ticks:{stepSize:1,callback:v=>st[v]||''}}}}});\n";

static int
s_write_html (const run_report_t *report, FILE *out)
{
    const run_result_t *base = s_find (report, "baseline");
    const run_result_t *autonomous = s_find (report, "autonomous");
    fputs ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>autofab run report</title>\n", out);
    fprintf (out, "<style>%s</style>\n</head><body>\n<h1>autofab run report</h1>\n<p>Factory <code>", s_css);
    s_html_text (out, report->config);
    char hours[64];
    run_hours_text (report->hours, hours, sizeof hours);
    fprintf (out, "</code>, %s, seed %lu.</p>\n", hours, (unsigned long) report->seed);
    fputs ("<h2>KPIs</h2>\n<table id=\"kpi-table\"><tr><th>kpi</th><th>key</th>", out);
    for (int i = 0; i < report->n_results; i++)
        fprintf (out, "<th>%s</th>", report->results[i].policy);
    if (base && autonomous)
        fputs ("<th>change</th>", out);
    fputs ("</tr>\n", out);
    for (int k = 0; k < RUN_KPI_COUNT; k++) {
        fputs ("<tr><td>", out);
        s_html_text (out, run_kpi_label ((run_kpi_t) k));
        fprintf (out, "</td><td><code>%s</code></td>", s_kpis[k].key);
        for (int i = 0; i < report->n_results; i++) {
            fputs ("<td>", out);
            s_print_cell_html (out, k, &report->results[i]);
            fputs ("</td>", out);
        }
        if (base && autonomous) {
            double c = run_change_pct (base->kpis[k], autonomous->kpis[k]);
            if (isfinite (c))
                fprintf (out, "<td>%+.1f %%</td>", c);
            else
                fputs ("<td>n/a</td>", out);
        }
        fputs ("</tr>\n", out);
    }
    fputs ("</table>\n<pre class=\"note\">", out);
    s_html_text (out, s_footnotes);
    fputs ("</pre>\n", out);
    s_write_oee_table (report, out);
    if (autonomous && autonomous->agents == 0) {
        fputs ("<p class=\"note\" id=\"no-agents\">", out);
        s_html_text (out, s_no_agents_note);
        fputs ("</p>\n", out);
    }
    if (base && autonomous) {
        fputs ("<h2>Targets of the vision</h2>\n<table id=\"targets\">\n", out);
        for (size_t i = 0; i < S_N_TARGETS; i++) {
            double shown;
            bool ok = s_target_met (i, base, autonomous, &shown);
            char figure[48];
            s_target_figure (i, shown, figure, sizeof figure);
            fprintf (out, "<tr><td>%s</td><td class=\"%s\">%s</td><td>%s</td></tr>\n", s_targets[i].claim,
                     ok ? "met" : "miss", ok ? "met" : "not met", figure);
        }
        fputs ("</table>\n", out);
    }
    fputs ("<div class=\"grid\">\n", out);
    static const char *const charts[][2] = {
        { "c-throughput", "Throughput over time (per epoch and mean so far)" },
        { "c-downtime", "Downtime by cause, station-hours" },
        { "c-defects", "Defects: escaped (ppm) and scrap, rework (units)" },
        { "c-energy", "Grid power with its peak, battery state of charge and price" },
        { "c-stations", "Station utilisation (bottleneck = highest)" }, { "c-maintenance", "Maintenance timeline" },
    };
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++)
        fprintf (out, "<div><h2>%s</h2><div class=\"chart\"><canvas id=\"%s\"></canvas></div></div>\n",
                 charts[i][1], charts[i][0]);
    fputs ("</div>\n", out);

    /* Data: KPIs and each policy's series, as JSON in script blocks. */
    fputs ("<script type=\"application/json\" id=\"kpis\">{\"policies\":[", out);
    for (int i = 0; i < report->n_results; i++)
        fprintf (out, "%s\"%s\"", i ? "," : "", report->results[i].policy);
    fputs ("],\"kpi\":{", out);
    for (int i = 0; i < report->n_results; i++) {
        fprintf (out, "%s\"%s\":{", i ? "," : "", report->results[i].policy);
        for (int k = 0; k < RUN_KPI_COUNT; k++) {
            fprintf (out, "%s\"%s\":", k ? "," : "", s_kpis[k].key);
            af_json_number (out, report->results[i].kpis[k]);
        }
        fputc ('}', out);
    }
    fputs ("}}</script>\n", out);
    for (int i = 0; i < report->n_results; i++) {
        char path[PATH_MAX];
        snprintf (path, sizeof path, "%s/%s/series.json", report->out_dir, report->results[i].policy);
        char *series = s_slurp (path, 64u << 20);
        /* The twin escapes '<' in names; refuse anything that could end the block. */
        if (series && series[0] == '{' && !strstr (series, "</"))
            fprintf (out, "<script type=\"application/json\" id=\"series-%s\">%s</script>\n",
                     report->results[i].policy, series);
        free (series);
    }
    char *chartjs = s_slurp (RUN_CHARTJS_PATH, 4u << 20);
    if (chartjs && !strstr (chartjs, "</script")) {
        fprintf (out, "<script>%s</script>\n", chartjs);
    }
    else
        fputs ("<p class=\"note\">Charts need Chart.js (Debian package libjs-chart.js), "
               "which was not found when this report was written.</p>\n", out);
    free (chartjs);
    fprintf (out, "<script>%s</script>\n", s_script);
    fputs ("<p class=\"note\">Written by autofab run. KPI definitions: docs/kpi.md.</p>\n</body></html>\n", out);
    return ferror (out) ? -1 : 0;
}

int
run_report_write (const run_report_t *report, char *err, size_t err_len)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/kpi.json", report->out_dir);
    FILE *out = fopen (path, "w");
    if (!out) {
        snprintf (err, err_len, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    int rc = s_write_kpi_json (report, out, err, err_len);
    fclose (out);
    if (rc != 0)
        return -1;
    snprintf (path, sizeof path, "%s/report.html", report->out_dir);
    out = fopen (path, "w");
    if (!out) {
        snprintf (err, err_len, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    rc = s_write_html (report, out);
    fclose (out);
    if (rc != 0)
        snprintf (err, err_len, "error writing %s", path);
    return rc;
}
