/*  af_json — JSON writing helpers (see af_json.h).  */
#include "af_json.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

size_t
af_utf8_len (const unsigned char *p, size_t left)
{
    size_t n;
    uint32_t min;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0)
        n = 2, min = 0x80;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, min = 0x800;
    else if ((p[0] & 0xf8) == 0xf0)
        n = 4, min = 0x10000;
    else
        return 0;
    if (n > left)
        return 0;
    uint32_t cp = p[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return n;
}

void
af_json_string (FILE *out, const char *text)
{
    fputc ('"', out);
    const unsigned char *p = (const unsigned char *) (text ? text : "");
    size_t left = strlen ((const char *) p);
    while (left > 0) {
        size_t n = 1;
        if (*p == '"' || *p == '\\')
            fprintf (out, "\\%c", *p);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&' || *p == 0x7f)
            fprintf (out, "\\u%04x", *p);
        else if (*p >= 0x80 && !(n = af_utf8_len (p, left))) {
            fputs ("\\ufffd", out);
            n = 1;
        }
        else
            fwrite (p, 1, n, out);
        p += n, left -= n;
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
