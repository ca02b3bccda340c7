/*  args — pure parsers for the operator tool's arguments (see cli.h).
 *
 *  Kept apart from the subcommands so that they can be unit-tested without a
 *  broker; none of them prints or exits.
 */
#include "cli.h"
#include "af_args.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Metric and parameter names follow the same rule as topic segments, so that
 * they can be used as keys in JSON, YAML and Prometheus alike. */
static bool
s_name_valid (const char *name)
{
    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '_' || *p == '-' || *p == '.'))
            return false;
    return true;
}

int
cli_parse_metric (const char *text, cli_metric_t *out, char *err, size_t err_len)
{
    if (strlen (text) >= sizeof out->buf) {
        snprintf (err, err_len, "metric '%.32s…' is too long", text);
        return -1;
    }
    strcpy (out->buf, text);
    char *eq = strchr (out->buf, '=');
    if (!eq) {
        snprintf (err, err_len, "metric '%s' must look like name=value[:unit]", text);
        return -1;
    }
    *eq = 0;
    out->name = out->buf;
    if (!s_name_valid (out->name)) {
        snprintf (err, err_len, "metric name '%s' must be letters, digits, '_', '-' or '.'",
                  out->name);
        return -1;
    }
    char *value = eq + 1;
    char *colon = strchr (value, ':');
    out->unit = "";
    if (colon) {
        *colon = 0;
        out->unit = colon + 1;
    }
    char why[128];
    if (af_parse_double (value, -INFINITY, INFINITY, &out->value, why, sizeof why) != 0) {
        snprintf (err, err_len, "metric '%s': %s", out->name, why);
        return -1;
    }
    return 0;
}

int
cli_parse_param (const char *text, cli_param_t *out, char *err, size_t err_len)
{
    if (strlen (text) >= sizeof out->buf) {
        snprintf (err, err_len, "parameter '%.32s…' is too long", text);
        return -1;
    }
    strcpy (out->buf, text);
    char *eq = strchr (out->buf, '=');
    if (!eq) {
        snprintf (err, err_len, "parameter '%s' must look like name=value", text);
        return -1;
    }
    *eq = 0;
    out->name = out->buf;
    if (!s_name_valid (out->name)) {
        snprintf (err, err_len, "parameter name '%s' must be letters, digits, '_', '-' or '.'",
                  out->name);
        return -1;
    }
    const char *value = eq + 1;
    char *end;
    errno = 0;
    double num = strtod (value, &end);
    if (*value && !*end && errno != ERANGE && isfinite (num)) {
        out->kind = CLI_PARAM_NUM;
        out->num = num;
    }
    else if (strcmp (value, "true") == 0 || strcmp (value, "false") == 0) {
        out->kind = CLI_PARAM_FLAG;
        out->flag = value[0] == 't';
    }
    else {
        out->kind = CLI_PARAM_TEXT;
        out->text = value;
    }
    return 0;
}

int
cli_parse_severity (const char *text, int *out, char *err, size_t err_len)
{
    static const struct {
        const char *name;
        int value;
    } s_severities[] = {
        { "info", AUTOFAB__ALARM__SEVERITY__SEVERITY_INFO },
        { "warning", AUTOFAB__ALARM__SEVERITY__SEVERITY_WARNING },
        { "critical", AUTOFAB__ALARM__SEVERITY__SEVERITY_CRITICAL },
    };
    for (size_t i = 0; i < sizeof s_severities / sizeof s_severities[0]; i++)
        if (strcasecmp (text, s_severities[i].name) == 0) {
            *out = s_severities[i].value;
            return 0;
        }
    snprintf (err, err_len, "severity '%s' must be info, warning or critical", text);
    return -1;
}

void
cli_topic_head (const char *topic, int depth, char *out, size_t out_len)
{
    if (!out_len)
        return;
    size_t len = 0;
    int segments = 1;
    while (topic[len] && len + 1 < out_len) {
        if (topic[len] == '.' && ++segments > depth)
            break;
        len++;
    }
    memcpy (out, topic, len);
    out[len] = 0;
}

int
cli_parse_duration_ms (const char *text, int64_t min_ms, int64_t max_ms, int64_t *out_ms,
                       char *err, size_t err_len)
{
    /* Suffix → milliseconds; the longest suffix that matches wins, so "ms"
     * is tried before "s" and "m". */
    static const struct {
        const char *suffix;
        double ms;
    } s_units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "", 1000 } };
    size_t len = strlen (text);
    for (size_t i = 0; i < sizeof s_units / sizeof s_units[0]; i++) {
        size_t slen = strlen (s_units[i].suffix);
        if (len <= slen || strcmp (text + len - slen, s_units[i].suffix) != 0)
            continue;
        char number[64];
        if (len - slen >= sizeof number)
            break;
        memcpy (number, text, len - slen);
        number[len - slen] = 0;
        char *end;
        errno = 0;
        double value = strtod (number, &end);
        if (*end || errno == ERANGE || !isfinite (value) || number[0] == ' ')
            break;
        double ms = value * s_units[i].ms;
        if (ms < (double) min_ms || ms > (double) max_ms) {
            snprintf (err, err_len, "'%s' must lie between %" PRId64 " ms and %" PRId64 " s",
                      text, min_ms, max_ms / 1000);
            return -1;
        }
        *out_ms = (int64_t) (ms + 0.5);
        return 0;
    }
    snprintf (err, err_len, "'%s' is not a duration (e.g. 2s, 500ms, 1.5m, 1h; a bare number "
              "is seconds)", text);
    return -1;
}
