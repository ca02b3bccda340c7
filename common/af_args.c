/*  af_args — shared option-parsing helpers (see af_args.h).  */
#include "af_args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

bool
af_args_long (const char *program, const char *option, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long value = text ? strtol (text, &end, 10) : 0;
    if (!text || end == text || *end || errno || value < min || value > max) {
        fprintf (stderr, "%s: %s wants a whole number between %ld and %ld, got '%s'\n", program,
                 option, min, max, text ? text : "");
        return false;
    }
    *out = value;
    return true;
}

bool
af_args_double (const char *program, const char *option, const char *text, double min, double max,
                double *out)
{
    char *end;
    errno = 0;
    double value = text ? strtod (text, &end) : 0;
    if (!text || end == text || *end || errno || !isfinite (value) || value < min || value > max) {
        fprintf (stderr, "%s: %s wants a number between %g and %g, got '%s'\n", program, option,
                 min, max, text ? text : "");
        return false;
    }
    *out = value;
    return true;
}

int
af_args_usage_error (const char *program, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "%s: ", program);
    vfprintf (stderr, fmt, ap);
    fprintf (stderr, " (try --help)\n");
    va_end (ap);
    return 2;
}
