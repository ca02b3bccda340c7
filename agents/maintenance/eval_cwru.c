/* eval_cwru.c — `autofab-maint-eval cwru DIR`: bearing classification
 * accuracy over non-overlapping windows of every CWRU recording in DIR.
 * The true class comes from the file name (CWRU's naming: Normal, IR, OR,
 * B) and is used only for scoring; the classifier sees the signal, the
 * shaft speed and the bearing geometry. */
#include <dirent.h>
#include <stddef.h>
#include <getopt.h>
#include <math.h>
#include <matio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_args.h"
#include "bearing.h"
#include "eval.h"

/* Defaults from ../shared/data/cwru/README.txt (SKF 6205-2RS JEM, 12 kHz,
 * 0 hp = ~1797 rpm). */
typedef struct {
    double fs_hz, rpm, window_s;
    bearing_geom_t geom;
    bearing_params_t params;
    const char *channel;
    const char *json_path;
    int dump;
} s_opts_t;

typedef struct {
    long windows[BEARING_CLASSES];
    long correct[BEARING_CLASSES];
    long confusion[BEARING_CLASSES][BEARING_CLASSES];
    long refused;
} s_tally_t;

/* The true class from CWRU's file naming; -1 if the name says nothing. */
static int
s_class_of (const char *name)
{
    static const struct {
        const char *tag;
        bearing_class_t cls;
    } tags[] = {
        { "normal", BEARING_NORMAL }, { "_ir", BEARING_INNER }, { "_or", BEARING_OUTER },
        { "_b0", BEARING_BALL },      { "_b", BEARING_BALL },
    };
    char low[256];
    size_t i = 0;
    for (; name[i] && i < sizeof low - 1; i++)
        low[i] = (char) (name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    low[i] = 0;
    for (size_t t = 0; t < sizeof tags / sizeof tags[0]; t++)
        if (strstr (low, tags[t].tag))
            return (int) tags[t].cls;
    return -1;
}

static int
s_ends_with (const char *s, const char *tail)
{
    size_t a = strlen (s), b = strlen (tail);
    return a >= b && !strcmp (s + a - b, tail);
}

/* A real scalar of any numeric MAT class, or NAN. */
static double
s_scalar (const matvar_t *v)
{
    if (!v || !v->data || v->isComplex)
        return NAN;
    switch (v->class_type) {
    case MAT_C_DOUBLE: return ((const double *) v->data)[0];
    case MAT_C_SINGLE: return ((const float *) v->data)[0];
    case MAT_C_UINT16: return ((const unsigned short *) v->data)[0];
    case MAT_C_INT16: return ((const short *) v->data)[0];
    case MAT_C_UINT32: return ((const unsigned *) v->data)[0];
    case MAT_C_INT32: return ((const int *) v->data)[0];
    default: return NAN;
    }
}

/* Reads the CHANNEL (e.g. "DE") time series and the RPM scalar (NAN when
 * absent) of one MAT file.  Returns the sample count, or 0 with a message. */
static size_t
s_read_mat (const char *path, const char *channel, double **out, double *rpm)
{
    *out = NULL;
    *rpm = NAN;
    mat_t *mat = Mat_Open (path, MAT_ACC_RDONLY);
    if (!mat) {
        fprintf (stderr, EVAL_PROGRAM ": %s: not a readable MAT file\n", path);
        return 0;
    }
    char tail[32];
    snprintf (tail, sizeof tail, "_%s_time", channel);
    char *signal_name = NULL;
    matvar_t *info;
    while ((info = Mat_VarReadNextInfo (mat))) {
        if (info->name && s_ends_with (info->name, tail) && !signal_name)
            signal_name = strdup (info->name);
        else if (info->name && s_ends_with (info->name, "RPM")) {
            matvar_t *v = Mat_VarRead (mat, info->name);
            *rpm = s_scalar (v);
            Mat_VarFree (v);
        }
        Mat_VarFree (info);
    }
    size_t n = 0;
    matvar_t *v = signal_name ? Mat_VarRead (mat, signal_name) : NULL;
    if (!v)
        fprintf (stderr, EVAL_PROGRAM ": %s: no *%s variable\n", path, tail);
    else if (v->class_type != MAT_C_DOUBLE || v->isComplex || v->rank != 2 || !v->data
             || (v->dims[0] != 1 && v->dims[1] != 1))
        fprintf (stderr, EVAL_PROGRAM ": %s: %s is not a real double vector\n", path, signal_name);
    else {
        n = v->dims[0] * v->dims[1];
        *out = malloc (n * sizeof (double));
        if (*out)
            memcpy (*out, v->data, n * sizeof (double));
        else
            n = 0;
    }
    Mat_VarFree (v);
    free (signal_name);
    Mat_Close (mat);
    return n;
}

static void
s_classify_file (const s_opts_t *o, const char *path, const char *name, bearing_class_t truth,
                 s_tally_t *tally)
{
    double *x, file_rpm;
    size_t n = s_read_mat (path, o->channel, &x, &file_rpm);
    if (!n)
        return;
    /* The recording's own RPM when it has one (another load, another speed),
     * unless --rpm was given. */
    double rpm = o->rpm > 0 ? o->rpm : (isfinite (file_rpm) && file_rpm > 0 ? file_rpm : 1797);
    size_t win = (size_t) llround (o->window_s * o->fs_hz);
    bearing_clf_t *clf = bearing_clf_new (win, o->fs_hz, &o->geom, &o->params);
    if (!clf) {
        fprintf (stderr, EVAL_PROGRAM ": %s: cannot build a classifier (window, band or geometry)\n",
                 name);
        free (x);
        return;
    }
    long got[BEARING_CLASSES] = { 0 }, total = 0;
    for (size_t at = 0; at + win <= n; at += win) {
        bearing_class_t cls;
        bearing_evidence_t ev;
        vib_status_t st = bearing_clf_classify (clf, x + at, rpm / 60.0, &cls, &ev);
        total++;
        tally->windows[truth]++;
        if (st != VIB_OK) {
            tally->refused++;
            fprintf (stderr, EVAL_PROGRAM ": %s window %zu refused: %s\n", name, at / win,
                     vib_status_str (st));
            continue;
        }
        got[cls]++;
        tally->confusion[truth][cls]++;
        if (cls == truth)
            tally->correct[truth]++;
        if (o->dump)
            printf ("dump %s %zu truth=%s got=%s bpfo=%.2f bpfi=%.2f ball=%.2f ftf=%.2f kurt=%.2f "
                    "bkurt=%.2f rms=%.4f crest=%.2f\n", name, at / win, bearing_class_name (truth),
                    bearing_class_name (cls), ev.snr_bpfo, ev.snr_bpfi, ev.snr_ball, ev.snr_ftf,
                    ev.raw.kurtosis, ev.band_kurtosis, ev.raw.rms, ev.raw.crest);
    }
    printf ("%-24s %-6s %6.0f %5ld   %5ld %5ld %5ld %5ld   %6.1f\n", name,
            bearing_class_name (truth), rpm, total, got[0], got[1], got[2], got[3],
            total ? 100.0 * (double) got[truth] / (double) total : 0.0);
    bearing_clf_destroy (&clf);
    free (x);
}

static int
s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The .mat names in DIR, sorted (readdir order is arbitrary). */
static char **
s_list_mat (const char *dir, size_t *count)
{
    *count = 0;
    DIR *d = opendir (dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir (d))) {
        if (!s_ends_with (e->d_name, ".mat"))
            continue;
        if (*count == cap) {
            cap = cap ? 2 * cap : 16;
            char **grown = realloc (names, cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        names[(*count)++] = strdup (e->d_name);
    }
    closedir (d);
    if (names)
        qsort (names, *count, sizeof *names, s_cmp_str);
    return names;
}

static void
s_report (const s_opts_t *o, const s_tally_t *t)
{
    long all = 0, ok = 0;
    printf ("\nclass     windows  correct  accuracy_pct   (confusion: normal outer inner ball)\n");
    for (int c = 0; c < BEARING_CLASSES; c++) {
        all += t->windows[c];
        ok += t->correct[c];
        if (!t->windows[c])
            continue;
        printf ("%-9s %7ld  %7ld  %12.1f   %5ld %5ld %5ld %5ld\n", bearing_class_name (c),
                t->windows[c], t->correct[c], 100.0 * (double) t->correct[c] / (double) t->windows[c],
                t->confusion[c][0], t->confusion[c][1], t->confusion[c][2], t->confusion[c][3]);
    }
    double acc = all ? 100.0 * (double) ok / (double) all : 0;
    printf ("%-9s %7ld  %7ld  %12.1f   (refused %ld)\n", "all", all, ok, acc, t->refused);
    if (!o->json_path)
        return;
    FILE *f = fopen (o->json_path, "w");
    if (!f) {
        fprintf (stderr, EVAL_PROGRAM ": cannot write %s\n", o->json_path);
        return;
    }
    fprintf (f, "{\n  \"cwru_windows\": %ld,\n  \"cwru_accuracy_pct\": %.2f", all, acc);
    for (int c = 0; c < BEARING_CLASSES; c++)
        if (t->windows[c])
            fprintf (f, ",\n  \"cwru_accuracy_%s_pct\": %.2f", bearing_class_name (c),
                     100.0 * (double) t->correct[c] / (double) t->windows[c]);
    fprintf (f, "\n}\n");
    fclose (f);
}

static void
s_usage (void)
{
    printf ("usage: " EVAL_PROGRAM " cwru DIR [options]\n"
            "Classifies every non-overlapping window of every .mat recording in DIR as\n"
            "normal / outer / inner / ball and prints accuracy per file and per class.\n"
            "  --fs HZ          sample rate (12000)\n"
            "  --rpm RPM        shaft speed; default: the file's RPM variable, else 1797\n"
            "  --window S       window length in seconds (1)\n"
            "  --balls N --ball-d D --pitch-d D --contact DEG   bearing geometry\n"
            "                   (9, 0.3126, 1.537, 0: SKF 6205-2RS, CWRU drive end)\n"
            "  --band LO:HI     demodulation band in Hz (2000:5000)\n"
            "  --snr X          line SNR that declares a race fault (10)\n"
            "  --kurt K         band kurtosis that declares impacts (3.3)\n"
            "  --channel CH     DE, FE or BA (DE)\n"
            "  --json FILE      write the accuracies as flat JSON\n"
            "  --dump           print the evidence of every window\n");
}

/* The real-valued options: one row each (key, name, range, field). */
typedef struct {
    int key;
    const char *name;
    double min, max;
    size_t offset;
} s_real_opt_t;

static const s_real_opt_t s_reals[] = {
    { 'f', "--fs", 1, 1e7, offsetof (s_opts_t, fs_hz) },
    { 'r', "--rpm", 1, 1e6, offsetof (s_opts_t, rpm) },
    { 'w', "--window", 0.01, 100, offsetof (s_opts_t, window_s) },
    { 'd', "--ball-d", 1e-6, 1e6, offsetof (s_opts_t, geom.ball_d) },
    { 'D', "--pitch-d", 1e-6, 1e6, offsetof (s_opts_t, geom.pitch_d) },
    { 'a', "--contact", -89, 89, offsetof (s_opts_t, geom.contact_deg) },
    { 's', "--snr", 1, 1e6, offsetof (s_opts_t, params.snr_strong) },
    { 'k', "--kurt", 0, 1e6, offsetof (s_opts_t, params.kurt_impulsive) },
};

/* Handles one real-valued option KEY; 1 if KEY is not one, 0 ok, 2 bad. */
static int
s_real_option (const char *program, int key, s_opts_t *o)
{
    for (size_t i = 0; i < sizeof s_reals / sizeof s_reals[0]; i++) {
        const s_real_opt_t *r = &s_reals[i];
        if (r->key == key)
            return af_args_double (program, r->name, optarg, r->min, r->max,
                                   (double *) ((char *) o + r->offset)) ? 0 : 2;
    }
    return 1;
}

/* Parses options into O; returns -1 after --help, 2 on bad usage, 0 ok. */
static int
s_parse (int argc, char **argv, s_opts_t *o, const char **dir)
{
    static const struct option longopts[] = {
        { "fs", 1, 0, 'f' },      { "rpm", 1, 0, 'r' },    { "window", 1, 0, 'w' },
        { "balls", 1, 0, 'n' },   { "ball-d", 1, 0, 'd' }, { "pitch-d", 1, 0, 'D' },
        { "contact", 1, 0, 'a' }, { "band", 1, 0, 'b' },   { "snr", 1, 0, 's' },
        { "kurt", 1, 0, 'k' },    { "channel", 1, 0, 'c' }, { "json", 1, 0, 'j' },
        { "dump", 0, 0, 'u' },    { "help", 0, 0, 'h' },   { 0, 0, 0, 0 },
    };
    const char *p = EVAL_PROGRAM " cwru";
    long balls;
    int c, used;
    while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
        int rc = s_real_option (p, c, o);
        if (rc != 1) {
            if (rc)
                return rc;
            continue;
        }
        switch (c) {
        case 'n':
            if (!af_args_long (p, "--balls", optarg, 1, 200, &balls))
                return 2;
            o->geom.n_balls = (int) balls;
            break;
        case 'b':
            used = 0;
            if (sscanf (optarg, "%lf:%lf%n", &o->params.band_lo_hz, &o->params.band_hi_hz, &used) != 2
                || optarg[used])
                return af_args_usage_error (p, "--band wants LO:HI in Hz, got '%s'", optarg);
            break;
        case 'c': o->channel = optarg; break;
        case 'j': o->json_path = optarg; break;
        case 'u': o->dump = 1; break;
        case 'h': s_usage (); return -1;
        default: return af_args_usage_error (p, "bad option");
        }
    }
    if (optind != argc - 1)
        return af_args_usage_error (p, "wants exactly one DIR");
    *dir = argv[optind];
    bearing_freqs_t probe;
    if (bearing_fault_freqs (&o->geom, 1, &probe))
        return af_args_usage_error (p, "impossible bearing geometry (ball must be smaller than pitch)");
    if (!(o->params.band_lo_hz > 0 && o->params.band_hi_hz > o->params.band_lo_hz
          && o->params.band_hi_hz <= o->fs_hz / 2))
        return af_args_usage_error (p, "--band must lie inside (0, fs/2)");
    if (o->window_s * o->fs_hz < 256)
        return af_args_usage_error (p, "--window too short: fewer than 256 samples");
    return 0;
}

int
eval_cwru (int argc, char **argv)
{
    s_opts_t o = {
        .fs_hz = 12000, .rpm = 0, .window_s = 1.0,
        .geom = { .n_balls = 9, .ball_d = 0.3126, .pitch_d = 1.537, .contact_deg = 0 },
        .params = bearing_params_default (), .channel = "DE",
    };
    const char *dir = NULL;
    int rc = s_parse (argc, argv, &o, &dir);
    if (rc)
        return rc < 0 ? 0 : rc;
    size_t count;
    char **names = s_list_mat (dir, &count);
    if (!names || !count) {
        fprintf (stderr, EVAL_PROGRAM ": cwru: no .mat files in '%s' (missing or empty folder)\n", dir);
        free (names);
        return 1;
    }
    s_tally_t tally = { 0 };
    printf ("%-24s %-6s %6s %5s   %5s %5s %5s %5s   %6s\n", "file", "truth", "rpm", "win",
            "norm", "outer", "inner", "ball", "acc_%");
    for (size_t i = 0; i < count; i++) {
        int truth = s_class_of (names[i]);
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", dir, names[i]);
        if (truth < 0)
            fprintf (stderr, EVAL_PROGRAM ": %s: class not in the name, skipped\n", names[i]);
        else
            s_classify_file (&o, path, names[i], (bearing_class_t) truth, &tally);
        free (names[i]);
    }
    free (names);
    s_report (&o, &tally);
    return 0;
}
