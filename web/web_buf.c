/*  web_buf — bounded text buffer and escapes for JSON and Prometheus.  */
#include "web_buf.h"
#include "af_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
web_buf_init (web_buf_t *self, size_t max_bytes)
{
    memset (self, 0, sizeof *self);
    self->max_bytes = max_bytes;
}

void
web_buf_free (web_buf_t *self)
{
    free (self->data);
    memset (self, 0, sizeof *self);
}

void
web_buf_reset (web_buf_t *self)
{
    self->len = 0;
    self->truncated = false;
    if (self->data)
        self->data[0] = '\0';
}

/* Makes room for LEN more bytes plus a NUL; false (and truncated) if that
 * would pass the cap. */
static bool
s_reserve (web_buf_t *self, size_t len)
{
    if (self->truncated)
        return false;
    if (len > self->max_bytes || self->len + len + 1 > self->max_bytes) {
        self->truncated = true;
        return false;
    }
    size_t need = self->len + len + 1;
    if (need <= self->cap)
        return true;
    size_t cap = self->cap ? self->cap : 1024;
    while (cap < need)
        cap *= 2;
    if (cap > self->max_bytes)
        cap = self->max_bytes;
    char *data = realloc (self->data, cap);
    if (!data) {
        self->truncated = true;
        return false;
    }
    self->data = data;
    self->cap = cap;
    return true;
}

void
web_buf_append (web_buf_t *self, const char *data, size_t len)
{
    if (!s_reserve (self, len))
        return;
    memcpy (self->data + self->len, data, len);
    self->len += len;
    self->data[self->len] = '\0';
}

void
web_buf_puts (web_buf_t *self, const char *text)
{
    web_buf_append (self, text, strlen (text));
}

void
web_buf_printf (web_buf_t *self, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (small, sizeof small, fmt, ap);
    va_end (ap);
    if (n < 0)
        return;
    if ((size_t) n < sizeof small) {
        web_buf_append (self, small, (size_t) n);
        return;
    }
    if (!s_reserve (self, (size_t) n))
        return;
    va_start (ap, fmt);
    vsnprintf (self->data + self->len, (size_t) n + 1, fmt, ap);
    va_end (ap);
    self->len += (size_t) n;
}

void
web_buf_json_str (web_buf_t *self, const char *text)
{
    /* json-c escapes (af_json_quote); HTML-safe, as the page inlines JSON. */
    size_t len;
    char *quoted = af_json_quote (text, text ? strlen (text) : 0, AF_JSON_HTML_SAFE, &len);
    if (quoted)
        web_buf_append (self, quoted, len);
    else
        web_buf_puts (self, "\"\"");
    free (quoted);
}

void
web_buf_json_num (web_buf_t *self, double value)
{
    if (!isfinite (value))
        web_buf_puts (self, "null");
    else if (value == (double) (int64_t) value && fabs (value) < 1e15)
        web_buf_printf (self, "%lld", (long long) value);
    else
        web_buf_printf (self, "%.6g", value);
}

void
web_buf_prom_label (web_buf_t *self, const char *text)
{
    for (const unsigned char *p = (const unsigned char *) (text ? text : ""); *p; p++) {
        if (*p == '\\')
            web_buf_puts (self, "\\\\");
        else if (*p == '"')
            web_buf_puts (self, "\\\"");
        else if (*p == '\n')
            web_buf_puts (self, "\\n");
        else if (*p >= 0x20 && *p != 0x7f)
            web_buf_append (self, (const char *) p, 1);
    }
}

void
web_buf_prom_num (web_buf_t *self, double value)
{
    if (isnan (value))
        web_buf_puts (self, "NaN");
    else if (isinf (value))
        web_buf_puts (self, value > 0 ? "+Inf" : "-Inf");
    else if (value == (double) (int64_t) value && fabs (value) < 1e15)
        web_buf_printf (self, "%lld", (long long) value);
    else {
        /* The shortest form that reads back as the same double: 0.09, not
         * 0.089999999999999997; 17 digits only when nothing shorter is. */
        char text[40];
        for (int digits = 15; digits <= 17; digits++) {
            snprintf (text, sizeof text, "%.*g", digits, value);
            if (strtod (text, NULL) == value)
                break;
        }
        web_buf_puts (self, text);
    }
}
