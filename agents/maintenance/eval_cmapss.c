/* placeholder until the RUL model lands */
#include "eval.h"
#include <stdio.h>
int eval_cmapss (int argc, char **argv) { (void) argc; (void) argv; fprintf (stderr, "not yet\n"); return 1; }
int eval_cmapss_cv (int argc, char **argv) { (void) argc; (void) argv; fprintf (stderr, "not yet\n"); return 1; }
