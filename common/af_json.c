/*  af_json — JSON writing helpers on json-c (see af_json.h).  */
#include "af_json.h"

#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
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

/* A copy of TEXT that is valid UTF-8: each byte that does not start a valid
 * sequence (with FLAGS' notion of valid) becomes U+FFFD. */
static char *
s_valid_utf8 (const char *text, size_t len, unsigned flags, size_t *out_len)
{
    char *out = malloc (len * 3 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *) text;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t step = af_utf8_len (p + i, len - i);
        if (step == 2 && (flags & AF_JSON_NO_C1) && p[i] == 0xc2 && p[i + 1] <= 0x9f)
            step = 0;
        if (step == 0) {
            memcpy (out + n, "\xef\xbf\xbd", 3);
            n += 3;
            i++;
            continue;
        }
        memcpy (out + n, p + i, step);
        n += step;
        i += step;
    }
    out[n] = 0;
    *out_len = n;
    return out;
}

char *
af_json_quote (const char *text, size_t len, unsigned flags, size_t *out_len)
{
    size_t clean_len;
    char *clean = s_valid_utf8 (text ? text : "", text ? len : 0, flags, &clean_len);
    json_object *str = clean ? json_object_new_string_len (clean, (int) clean_len) : NULL;
    free (clean);
    if (!str)
        return NULL;
    size_t quoted_len = 0;
    const char *quoted = json_object_to_json_string_length (
        str, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &quoted_len);
    /* DEL and, for HTML, three more characters json-c leaves as they are;
     * none of them can appear inside an escape json-c wrote.  U+FFFD is
     * written as an escape, so a replaced byte is visible as such. */
    char *out = malloc (quoted_len * 6 + 1);
    size_t n = 0;
    for (size_t i = 0; out && i < quoted_len; i++) {
        char c = quoted[i];
        if (i + 2 < quoted_len && memcmp (quoted + i, "\xef\xbf\xbd", 3) == 0) {
            memcpy (out + n, "\\ufffd", 6);
            n += 6;
            i += 2;
        }
        else if (c == 0x7f || ((flags & AF_JSON_HTML_SAFE) && (c == '<' || c == '>' || c == '&')))
            n += (size_t) sprintf (out + n, "\\u%04x", (unsigned char) c);
        else
            out[n++] = c;
    }
    if (out) {
        out[n] = 0;
        *out_len = n;
    }
    json_object_put (str);
    return out;
}

void
af_json_string (FILE *out, const char *text)
{
    size_t len;
    char *quoted = af_json_quote (text, text ? strlen (text) : 0, AF_JSON_HTML_SAFE, &len);
    if (quoted)
        fwrite (quoted, 1, len, out);
    else
        fputs ("\"\"", out);
    free (quoted);
}

void
af_json_number (FILE *out, double v)
{
    if (isfinite (v))
        fprintf (out, "%.6g", v);
    else
        fputs ("null", out);
}
