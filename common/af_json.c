/*  af_json — JSON writing helpers (see af_json.h).  */
#include "af_json.h"

#include <math.h>

void
af_json_string (FILE *out, const char *text)
{
    fputc ('"', out);
    for (const unsigned char *p = (const unsigned char *) (text ? text : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf (out, "\\%c", *p);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
            fprintf (out, "\\u%04x", *p);
        else
            fputc (*p, out);
    }
    fputc ('"', out);
}

void
af_json_number (FILE *out, double v)
{
    if (isfinite (v))
        fprintf (out, "%.6g", v);
    else
        fputs ("null", out);
}
