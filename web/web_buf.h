/*  web_buf — a growable text buffer with a hard size cap, and the escapes
 *  the dashboard needs (JSON strings, Prometheus label values).
 *
 *  Everything the dashboard renders comes from the bus, which is hostile
 *  input: a buffer never grows past its cap (it sets `truncated` instead),
 *  and every string from a message goes through an escape.  */
#ifndef WEB_BUF_H
#define WEB_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data;              /* NUL-terminated while len < cap */
    size_t len;
    size_t cap;              /* allocated bytes */
    size_t max_bytes;        /* never grow past this */
    bool truncated;          /* an append did not fit (or malloc failed) */
} web_buf_t;

/* Starts an empty buffer that may grow to MAX_BYTES. */
void web_buf_init (web_buf_t *self, size_t max_bytes);
void web_buf_free (web_buf_t *self);
void web_buf_reset (web_buf_t *self);

void web_buf_append (web_buf_t *self, const char *data, size_t len);
void web_buf_puts (web_buf_t *self, const char *text);
void web_buf_printf (web_buf_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* A JSON string literal with quotes; NULL gives "".  Control characters,
 * quotes, backslashes and '<' '>' '&' (so that JSON embedded in a page can
 * never close a script tag) are escaped; invalid UTF-8 bytes become U+FFFD. */
void web_buf_json_str (web_buf_t *self, const char *text);
/* A JSON number; NaN and infinities (not JSON) become null. */
void web_buf_json_num (web_buf_t *self, double value);
/* A Prometheus label value without quotes: \ " and newline escaped,
 * control characters dropped. */
void web_buf_prom_label (web_buf_t *self, const char *text);
/* A Prometheus sample value: NaN, +Inf, -Inf or %.17g. */
void web_buf_prom_num (web_buf_t *self, double value);

#endif
