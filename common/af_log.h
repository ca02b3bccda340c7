/*  af_log — levelled logging for every autofab program.
 *
 *  One line per record on stderr (or a file): time, level, program, message.
 *  The level comes from af_log_set_level(), or AUTOFAB_LOG=debug|info|warn|error
 *  in the environment.  AF_LOG_ONCE logs a call site once per process, for
 *  hostile input that is counted on every occurrence but reported only once.
 */
#ifndef AF_LOG_H
#define AF_LOG_H

#include <stdbool.h>
#include <stdio.h>

typedef enum { AF_LOG_DEBUG, AF_LOG_INFO, AF_LOG_WARN, AF_LOG_ERROR, AF_LOG_OFF } af_log_level_t;

/* Sets the program name shown in each line (not copied: pass a literal). */
void af_log_init (const char *program);
void af_log_set_level (af_log_level_t level);
af_log_level_t af_log_level (void);
/* Parses "debug", "info", "warn", "error" or "off"; returns -1 if unknown. */
int  af_log_parse_level (const char *text);
/* Sends log lines to FILE (appended); NULL goes back to stderr.  Returns 0 or -1. */
int  af_log_set_file (const char *path);

void af_log_write (af_log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define af_debug(...) do { if (af_log_level () <= AF_LOG_DEBUG) af_log_write (AF_LOG_DEBUG, __VA_ARGS__); } while (0)
#define af_info(...)  af_log_write (AF_LOG_INFO,  __VA_ARGS__)
#define af_warn(...)  af_log_write (AF_LOG_WARN,  __VA_ARGS__)
#define af_error(...) af_log_write (AF_LOG_ERROR, __VA_ARGS__)

/* Logs at LEVEL the first time this call site is reached, never again. */
#define AF_LOG_ONCE(level, ...) do { \
        static bool s_logged_once_; \
        if (!s_logged_once_) { s_logged_once_ = true; af_log_write ((level), __VA_ARGS__); } \
    } while (0)

#endif
