/*  af_log — levelled logging (see af_log.h).  */
#include "af_log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *s_program = "autofab";
static af_log_level_t s_level = AF_LOG_INFO;
static FILE *s_file;            /* NULL means stderr */
static bool s_env_read;

static const char *const s_names[] = { "debug", "info", "warn", "error", "off" };

void
af_log_init (const char *program)
{
    if (program)
        s_program = program;
    const char *env = getenv ("AUTOFAB_LOG");
    int level = env ? af_log_parse_level (env) : -1;
    if (level >= 0)
        s_level = (af_log_level_t) level;
    s_env_read = true;
}

void
af_log_set_level (af_log_level_t level)
{
    s_level = level;
    s_env_read = true;
}

af_log_level_t
af_log_level (void)
{
    if (!s_env_read)
        af_log_init (NULL);
    return s_level;
}

int
af_log_parse_level (const char *text)
{
    for (int i = 0; i <= AF_LOG_OFF; i++)
        if (text && strcmp (text, s_names[i]) == 0)
            return i;
    return -1;
}

int
af_log_set_file (const char *path)
{
    if (s_file)
        fclose (s_file);
    s_file = NULL;
    if (!path)
        return 0;
    s_file = fopen (path, "a");
    if (!s_file)
        return -1;
    setvbuf (s_file, NULL, _IOLBF, 0);
    return 0;
}

void
af_log_write (af_log_level_t level, const char *fmt, ...)
{
    if (level < af_log_level () || level >= AF_LOG_OFF)
        return;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r (&ts.tv_sec, &tm);
    char line[2048];
    int n = snprintf (line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s[%d]: ",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                      tm.tm_sec, ts.tv_nsec / 1000000, s_names[level], s_program, (int) getpid ());
    va_list ap;
    va_start (ap, fmt);
    if (n > 0 && (size_t) n < sizeof line)
        vsnprintf (line + n, sizeof line - (size_t) n, fmt, ap);
    va_end (ap);
    /* One write per line, so that lines from several processes never interleave. */
    size_t len = strnlen (line, sizeof line - 2);
    line[len++] = '\n';
    FILE *out = s_file ? s_file : stderr;
    fwrite (line, 1, len, out);
    fflush (out);
}
