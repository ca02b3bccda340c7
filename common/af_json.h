/*  af_json — the few JSON writing helpers that reports and exports share.  */
#ifndef AF_JSON_H
#define AF_JSON_H

#include <stdio.h>

/* Writes TEXT as a JSON string.  '<', '>' and '&' are escaped too, so the
 * output is also safe inside an HTML <script> block. */
void af_json_string (FILE *out, const char *text);
/* Writes V as a JSON number (%.6g), or null when it is not finite. */
void af_json_number (FILE *out, double v);

#endif
