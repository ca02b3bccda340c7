/* eval.h — autofab-maint-eval: offline evaluation of the maintenance
 * algorithms on public data sets (CWRU bearings, NASA C-MAPSS).  Each
 * subcommand lives in its own file and has this signature. */
#ifndef AF_MAINT_EVAL_H
#define AF_MAINT_EVAL_H

#define EVAL_PROGRAM "autofab-maint-eval"

/* argv[0] is the subcommand name; returns the process exit code (0 ok,
 * 1 failed on data, 2 bad usage). */
int eval_cwru (int argc, char **argv);
int eval_cmapss (int argc, char **argv);
int eval_cmapss_cv (int argc, char **argv);

#endif
