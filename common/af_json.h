/*  af_json — JSON strings and numbers as every autofab writer emits them.
 *
 *  Escaping is json-c's (Debian's libjson-c): the one JSON library used for
 *  reading and writing everywhere (issue 18).  What json-c leaves to us is
 *  done here once: invalid UTF-8 becomes U+FFFD (json-c would copy it and
 *  write invalid JSON), and, on request, '<', '>', '&' are escaped so the
 *  text is safe inside an HTML <script> block.  */
#ifndef AF_JSON_H
#define AF_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at P (at most LEFT bytes, LEFT > 0),
 * or 0: overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
size_t af_utf8_len (const unsigned char *p, size_t left);

enum {
    AF_JSON_HTML_SAFE = 1,       /* escape '<', '>', '&' as \u003c … */
    AF_JSON_NO_C1 = 2,           /* C1 controls (U+0080..U+009F) count as invalid */
};

/* TEXT (LEN bytes) as a quoted JSON string, in a malloc'd NUL-terminated
 * buffer (free it); *OUT_LEN gets its length.  NULL only when out of
 * memory. */
char *af_json_quote (const char *text, size_t len, unsigned flags, size_t *out_len);

/* Writes TEXT as a JSON string.  '<', '>' and '&' are escaped too, so the
 * output is also safe inside an HTML <script> block; invalid UTF-8 becomes
 * U+FFFD, so the output is always valid JSON. */
void af_json_string (FILE *out, const char *text);
/* Writes V as a JSON number (%.6g), or null when it is not finite. */
void af_json_number (FILE *out, double v);

#endif
