/* sched_parse.c — instance files: OR-Library, Taillard, and the extended format. */

#include "sched_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- parsing */

typedef struct {
    const char *name;
    char *err;
    int line;           /* current line number, 1-based */
} s_ctx_t;

static void s_err(s_ctx_t *c, const char *fmt, ...)
{
    if (!c->err)
        return;
    char msg[SCHED_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->line > 0)
        snprintf(c->err, SCHED_ERR_LEN, "%.100s:%d: %.140s", c->name, c->line, msg);
    else
        snprintf(c->err, SCHED_ERR_LEN, "%.100s: %.140s", c->name, msg);
}

/* Splits a line (modified in place) into at most max tokens; '#' starts a
 * comment.  Returns the token count, or max + 1 if there are more. */
static int s_tokens(char *line, char **tok, int max)
{
    int n = 0;
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    for (char *p = line; *p;) {
        while (*p && (isspace((unsigned char)*p) || *p == ','))
            p++;
        if (!*p)
            break;
        if (n == max)
            return max + 1;
        tok[n++] = p;
        while (*p && !isspace((unsigned char)*p) && *p != ',')
            p++;
        if (*p)
            *p++ = '\0';
    }
    return n;
}

/* Parses a whole token as a non-negative int in [lo, hi]. */
static int s_int(s_ctx_t *c, const char *tok, const char *what, long lo,
                 long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(tok, &end, 10);
    if (end == tok || *end || errno) {
        s_err(c, "%s: expected an integer, got \"%.40s\"", what, tok);
        return -1;
    }
    if (v < lo) {
        s_err(c, "%s %ld is %s", what, v, v < 0 ? "negative" : "too small");
        return -1;
    }
    if (v > hi) {
        s_err(c, "%s %ld out of range (max %ld)", what, v, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* Line iterator over a mutable copy of the text. */
typedef struct {
    char *p;
    s_ctx_t *c;
} s_lines_t;

/* Next line that has tokens; returns the count (0 at end of text). */
static int s_next(s_lines_t *it, char **tok, int max)
{
    while (it->p && *it->p) {
        char *line = it->p;
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
            it->p = nl + 1;
        } else {
            it->p = line + strlen(line);
        }
        it->c->line++;
        int n = s_tokens(line, tok, max);
        if (n > 0)
            return n;
    }
    return 0;
}

#define S_MAX_TOK 4096

static int s_machine_list(s_ctx_t *c, char *tok, int n_machines, int *alts,
                          int *n_alt)
{
    *n_alt = 0;
    for (char *save = NULL, *t = strtok_r(tok, "/", &save); t;
         t = strtok_r(NULL, "/", &save)) {
        if (*n_alt == n_machines) {
            s_err(c, "too many alternative machines");
            return -1;
        }
        int m;
        if (s_int(c, t, "machine", 0, n_machines - 1, &m) < 0)
            return -1;
        alts[(*n_alt)++] = m;
    }
    if (!*n_alt) {
        s_err(c, "empty machine list");
        return -1;
    }
    return 0;
}

/* One directive line of the extended format (after the job lines). */
static int s_directive(s_ctx_t *c, sched_inst_t *in, char **tok, int n)
{
    int v[4] = { 0 };
    long J = in->n_jobs - 1, M = in->n_machines - 1, T = SCHED_MAX_TIME_TU;
    const char *kw = tok[0];
    if (!strcmp(kw, "release") || !strcmp(kw, "weight")) {
        if (n != 3) { s_err(c, "%s takes 2 numbers: job value", kw); return -1; }
        if (s_int(c, tok[1], "job", 0, J, &v[0]) < 0
            || s_int(c, tok[2], kw, 0, !strcmp(kw, "weight") ? 1000000 : T, &v[1]) < 0)
            return -1;
        if (!strcmp(kw, "release"))
            in->release[v[0]] = v[1];
        else
            in->weight[v[0]] = v[1];
        return 0;
    }
    if (!strcmp(kw, "due")) {
        if (n != 3 && n != 4) { s_err(c, "due takes: job time [weight]"); return -1; }
        if (s_int(c, tok[1], "job", 0, J, &v[0]) < 0
            || s_int(c, tok[2], "due date", 0, T, &v[1]) < 0
            || (n == 4 && s_int(c, tok[3], "weight", 0, 1000000, &v[2]) < 0))
            return -1;
        in->due[v[0]] = v[1];
        if (n == 4)
            in->weight[v[0]] = v[2];
        return 0;
    }
    if (!strcmp(kw, "setup")) {
        if (n != 5) { s_err(c, "setup takes 4 numbers: machine from_job to_job time"); return -1; }
        if (s_int(c, tok[1], "machine", 0, M, &v[0]) < 0
            || s_int(c, tok[2], "job", 0, J, &v[1]) < 0
            || s_int(c, tok[3], "job", 0, J, &v[2]) < 0
            || s_int(c, tok[4], "setup time", 0, T, &v[3]) < 0)
            return -1;
        if (sched_inst_set_setup(in, v[0], v[1], v[2], v[3]) < 0) {
            s_err(c, "out of memory");
            return -1;
        }
        return 0;
    }
    if (!strcmp(kw, "down")) {
        if (n != 4) { s_err(c, "down takes 3 numbers: machine start end"); return -1; }
        if (s_int(c, tok[1], "machine", 0, M, &v[0]) < 0
            || s_int(c, tok[2], "window start", 0, T, &v[1]) < 0
            || s_int(c, tok[3], "window end", 0, T, &v[2]) < 0)
            return -1;
        if (v[2] <= v[1]) {
            s_err(c, "window end %d must be after its start %d", v[2], v[1]);
            return -1;
        }
        return sched_inst_add_window(in, v[0], v[1], v[2]);
    }
    s_err(c, "unexpected \"%.40s\" after the last job (expected release, due, "
          "weight, setup or down)", kw);
    return -1;
}

static sched_inst_t *s_parse_orlib(s_lines_t *it, s_ctx_t *c)
{
    char **tok = malloc(S_MAX_TOK * sizeof *tok);
    sched_inst_t *in = NULL;
    int alts[64];
    if (!tok) {
        s_err(c, "out of memory");
        return NULL;
    }
    int n = s_next(it, tok, S_MAX_TOK);
    if (n == 0) {
        s_err(c, "empty file: expected \"<jobs> <machines>\"");
        goto fail;
    }
    int nj, nm, ext = 0;
    if (n == 3 && !strcmp(tok[2], "ext"))
        ext = 1;
    else if (n != 2) {
        s_err(c, "header: expected \"<jobs> <machines>\" (or \"... ext\"), got %d fields", n);
        goto fail;
    }
    if (s_int(c, tok[0], "job count", 1, 100000, &nj) < 0
        || s_int(c, tok[1], "machine count", 1, 10000, &nm) < 0)
        goto fail;
    in = sched_inst_new(nj, nm);
    if (!in) {
        s_err(c, "out of memory");
        goto fail;
    }
    for (int j = 0; j < nj; j++) {
        n = s_next(it, tok, S_MAX_TOK);
        if (n == 0) {
            c->line = 0;
            s_err(c, "truncated: expected %d job lines, found %d", nj, j);
            goto fail;
        }
        if (n > S_MAX_TOK || n % 2) {
            s_err(c, "job %d: expected (machine time) pairs, got an odd number of fields (%d)", j, n);
            goto fail;
        }
        if (!ext && n != 2 * nm) {
            s_err(c, "job %d: expected %d (machine time) pairs, got %d", j, nm, n / 2);
            goto fail;
        }
        for (int k = 0; k < n; k += 2) {
            int n_alt = 1, d;
            if (ext) {
                if (s_machine_list(c, tok[k], nm < 64 ? nm : 64, alts, &n_alt) < 0)
                    goto fail;
            } else if (s_int(c, tok[k], "machine", 0, nm - 1, &alts[0]) < 0) {
                goto fail;
            }
            if (s_int(c, tok[k + 1], "processing time", 0, SCHED_MAX_TIME_TU, &d) < 0)
                goto fail;
            if (sched_inst_add_op(in, j, alts, n_alt, d) < 0) {
                s_err(c, "out of memory");
                goto fail;
            }
        }
    }
    while ((n = s_next(it, tok, 8)) > 0) {
        if (!ext) {
            s_err(c, "unexpected data after the last job (header says %d jobs)", nj);
            goto fail;
        }
        if (n > 8) {
            s_err(c, "too many fields");
            goto fail;
        }
        if (s_directive(c, in, tok, n) < 0)
            goto fail;
    }
    free(tok);
    return in;
fail:
    free(tok);
    sched_inst_destroy(&in);
    return NULL;
}

/* Taillard's own layout: a header, "Times" (jobs x machines durations),
 * "Machines" (jobs x machines, numbered from 1). */
static sched_inst_t *s_parse_taillard(s_lines_t *it, s_ctx_t *c)
{
    char **tok = malloc(S_MAX_TOK * sizeof *tok);
    sched_inst_t *in = NULL;
    int *dur = NULL;
    int nj = 0, nm = 0, n;
    if (!tok) {
        s_err(c, "out of memory");
        return NULL;
    }
    /* Header: skip wording lines until one that starts with two integers. */
    for (;;) {
        n = s_next(it, tok, S_MAX_TOK);
        if (n == 0) {
            c->line = 0;
            s_err(c, "truncated: no \"<jobs> <machines> ...\" line");
            goto fail;
        }
        if (isdigit((unsigned char)tok[0][0]))
            break;
    }
    if (n < 2 || s_int(c, tok[0], "job count", 1, 100000, &nj) < 0
        || s_int(c, tok[1], "machine count", 1, 10000, &nm) < 0) {
        if (n < 2)
            s_err(c, "header: expected \"<jobs> <machines> ...\"");
        goto fail;
    }
    dur = malloc((size_t)nj * nm * sizeof(int));
    in = sched_inst_new(nj, nm);
    if (!dur || !in) {
        s_err(c, "out of memory");
        goto fail;
    }
    for (int part = 0; part < 2; part++) {
        const char *want = part ? "machines" : "times";
        n = s_next(it, tok, S_MAX_TOK);
        if (n == 0) {
            c->line = 0;
            s_err(c, "truncated: missing the \"%s\" section", want);
            goto fail;
        }
        if (n != 1 || strcasecmp(tok[0], want)) {
            s_err(c, "expected a \"%s\" line", want);
            goto fail;
        }
        for (int j = 0; j < nj; j++) {
            n = s_next(it, tok, S_MAX_TOK);
            if (n == 0) {
                c->line = 0;
                s_err(c, "truncated: \"%s\" has %d of %d rows", want, j, nj);
                goto fail;
            }
            if (n != nm) {
                s_err(c, "job %d: expected %d %s, got %d", j, nm, want, n);
                goto fail;
            }
            for (int k = 0; k < nm; k++) {
                int v;
                if (!part) {
                    if (s_int(c, tok[k], "processing time", 0, SCHED_MAX_TIME_TU, &v) < 0)
                        goto fail;
                    dur[j * nm + k] = v;
                } else {
                    if (s_int(c, tok[k], "machine", 1, nm, &v) < 0)
                        goto fail;
                    v--;
                    if (sched_inst_add_op(in, j, &v, 1, dur[j * nm + k]) < 0) {
                        s_err(c, "out of memory");
                        goto fail;
                    }
                }
            }
        }
    }
    if (s_next(it, tok, S_MAX_TOK) > 0) {
        s_err(c, "unexpected data after the machines matrix");
        goto fail;
    }
    free(tok);
    free(dur);
    return in;
fail:
    free(tok);
    free(dur);
    sched_inst_destroy(&in);
    return NULL;
}

static int s_has_times_line(const char *text)
{
    for (const char *p = text; (p = strcasestr(p, "times"));) {
        const char *a = p, *b = p + 5;
        while (a > text && (a[-1] == ' ' || a[-1] == '\t'))
            a--;
        while (*b == ' ' || *b == '\t' || *b == '\r')
            b++;
        if ((a == text || a[-1] == '\n') && (*b == '\n' || !*b))
            return 1;
        p = b;
    }
    return 0;
}

sched_inst_t *sched_inst_parse(const char *text, const char *name,
                               sched_fmt_t fmt, char *err)
{
    s_ctx_t c = { name ? name : "<instance>", err, 0 };
    if (!text) {
        s_err(&c, "no text");
        return NULL;
    }
    char *copy = strdup(text);
    if (!copy) {
        s_err(&c, "out of memory");
        return NULL;
    }
    /* Treat CR as white space so files from Windows parse too. */
    for (char *p = copy; *p; p++)
        if (*p == '\r')
            *p = ' ';
    if (fmt == SCHED_FMT_AUTO)
        fmt = s_has_times_line(copy) ? SCHED_FMT_TAILLARD : SCHED_FMT_ORLIB;
    s_lines_t it = { copy, &c };
    sched_inst_t *in = fmt == SCHED_FMT_TAILLARD ? s_parse_taillard(&it, &c)
                                                 : s_parse_orlib(&it, &c);
    free(copy);
    if (!in)
        return NULL;
    if (sched__inst_ready(in) < 0) {
        c.line = 0;
        s_err(&c, "out of memory");
        sched_inst_destroy(&in);
        return NULL;
    }
    /* The name is the file's base name. */
    const char *base = strrchr(c.name, '/');
    sched_inst_set_name(in, base ? base + 1 : c.name);
    return in;
}

sched_inst_t *sched_inst_load(const char *path, sched_fmt_t fmt, char *err)
{
    s_ctx_t c = { path, err, 0 };
    FILE *f = fopen(path, "rb");
    if (!f) {
        s_err(&c, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap)
            break;
        char *nb = realloc(buf, 2 * cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        s_err(&c, buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        s_err(&c, "binary data (NUL byte) in an instance file");
        free(buf);
        return NULL;
    }
    sched_inst_t *in = sched_inst_parse(buf, path, fmt, err);
    free(buf);
    return in;
}
