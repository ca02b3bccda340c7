/*  af_json — the few JSON writing helpers that reports and exports share.  */
#ifndef AF_JSON_H
#define AF_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at P (at most LEFT bytes, LEFT > 0),
 * or 0: overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
size_t af_utf8_len (const unsigned char *p, size_t left);

/* Writes TEXT as a JSON string.  '<', '>' and '&' are escaped too, so the
 * output is also safe inside an HTML <script> block; invalid UTF-8 becomes
 * U+FFFD, so the output is always valid JSON. */
void af_json_string (FILE *out, const char *text);
/* Writes V as a JSON number (%.6g), or null when it is not finite. */
void af_json_number (FILE *out, double v);

#endif
