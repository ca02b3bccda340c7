/*  af_args — small helpers that every program's option parser shares, so
 *  that a bad number gets the same one clear line everywhere.  */
#ifndef AF_ARGS_H
#define AF_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/* Parses TEXT as a whole number in [MIN, MAX] into *OUT: 0, or -1 with why
 * in ERR ("expected a whole number, got 'x'", "5 is out of range [1, 3]").
 * Prints nothing. */
int af_parse_long (const char *text, long min, long max, long *out, char *err, size_t err_len);
/* The same for a finite real number. */
int af_parse_double (const char *text, double min, double max, double *out, char *err,
                     size_t err_len);
/* Parses TEXT as a whole number in [MIN, MAX] into *OUT.  On failure prints
 * "PROGRAM: OPTION wants a whole number between MIN and MAX, got 'TEXT'" to
 * stderr and returns false. */
bool af_args_long (const char *program, const char *option, const char *text, long min, long max,
                   long *out);
/* The same for a real number. */
bool af_args_double (const char *program, const char *option, const char *text, double min,
                     double max, double *out);
/* Sets the log level from TEXT (debug, info, warn, error, off).  On an
 * unknown name prints one usage line as af_args_usage_error does and
 * returns false. */
bool af_args_log_level (const char *program, const char *text);
/* Prints "PROGRAM: MESSAGE (see --help)" to stderr; returns 2 (the exit code
 * for bad usage). */
int af_args_usage_error (const char *program, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* A port P such that P … P+N-1 are free on 127.0.0.1 now, chosen below the
 * kernel's ephemeral range: a client that retries a connect to a port inside
 * that range can end up TCP-connected to itself.  -1 if none was found. */
int af_free_port_block (int n);

#endif
