/*  af_args — shared option-parsing helpers (see af_args.h).  */
#include "af_args.h"
#include "af_log.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

int
af_parse_long (const char *text, long min, long max, long *out, char *err, size_t err_len)
{
    if (!text || !*text) {
        snprintf (err, err_len, "expected a whole number, got an empty string");
        return -1;
    }
    char *end;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (*end || errno == ERANGE) {
        snprintf (err, err_len, "expected a whole number, got '%s'", text);
        return -1;
    }
    if (value < min || value > max) {
        snprintf (err, err_len, "%ld is out of range [%ld, %ld]", value, min, max);
        return -1;
    }
    *out = value;
    return 0;
}

int
af_parse_double (const char *text, double min, double max, double *out, char *err,
                  size_t err_len)
{
    if (!text || !*text) {
        snprintf (err, err_len, "expected a number, got an empty string");
        return -1;
    }
    char *end;
    errno = 0;
    double value = strtod (text, &end);
    if (*end || errno == ERANGE || !isfinite (value)) {
        snprintf (err, err_len, "expected a number, got '%s'", text);
        return -1;
    }
    if (value < min || value > max) {
        snprintf (err, err_len, "%g is out of range [%g, %g]", value, min, max);
        return -1;
    }
    *out = value;
    return 0;
}

bool
af_args_long (const char *program, const char *option, const char *text, long min, long max, long *out)
{
    char why[160];
    if (af_parse_long (text, min, max, out, why, sizeof why) == 0)
        return true;
    fprintf (stderr, "%s: %s wants a whole number between %ld and %ld, got '%s'\n", program,
             option, min, max, text ? text : "");
    return false;
}

bool
af_args_double (const char *program, const char *option, const char *text, double min, double max,
                double *out)
{
    char why[160];
    if (af_parse_double (text, min, max, out, why, sizeof why) == 0)
        return true;
    fprintf (stderr, "%s: %s wants a number between %g and %g, got '%s'\n", program, option,
             min, max, text ? text : "");
    return false;
}

int
af_args_usage_error (const char *program, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "%s: ", program);
    vfprintf (stderr, fmt, ap);
    fprintf (stderr, " (see --help)\n");
    va_end (ap);
    return 2;
}

/* Lowest port of the kernel's ephemeral (client-side) range. */
static int
s_ephemeral_low (void)
{
    FILE *in = fopen ("/proc/sys/net/ipv4/ip_local_port_range", "r");
    int low = 32768, high = 60999;
    if (in) {
        if (fscanf (in, "%d %d", &low, &high) != 2)
            low = 32768;
        fclose (in);
    }
    return low;
}

static bool
s_port_free (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons ((uint16_t) port);
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bool ok = bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0;
    close (fd);
    return ok;
}

int
af_free_port_block (int n)
{
    const int low = 10000;
    int high = s_ephemeral_low () - n;
    if (high <= low + 100)
        high = low + 100;
    if (sodium_init () < 0)
        return -1;
    for (int attempt = 0; attempt < 500; attempt++) {
        int port = low + (int) randombytes_uniform ((uint32_t) (high - low));
        bool ok = true;
        for (int i = 0; i < n && ok; i++)
            ok = s_port_free (port + i);
        if (ok)
            return port;
    }
    return -1;
}

bool
af_args_log_level (const char *program, const char *text)
{
    int level = af_log_parse_level (text);
    if (level < 0) {
        af_args_usage_error (program, "unknown log level '%s'", text);
        return false;
    }
    af_log_set_level ((af_log_level_t) level);
    return true;
}
