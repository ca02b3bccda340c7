/*  fuzz_cli_args — libFuzzer target: the command line's value parsers
 *  (autofab pub --metric, call's name=value, severities, numbers).  */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "af_args.h"
#include "cli.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text[size] = 0;
    char err[300];
    cli_metric_t metric;
    cli_parse_metric (text, &metric, err, sizeof err);
    cli_param_t param;
    cli_parse_param (text, &param, err, sizeof err);
    int severity;
    cli_parse_severity (text, &severity, err, sizeof err);
    char head[256];
    for (int depth = 0; depth < 4; depth++)
        cli_topic_head (text, depth, head, sizeof head);
    long number;
    af_parse_long (text, -1000000, 1000000, &number, err, sizeof err);
    double real;
    af_parse_double (text, -1e9, 1e9, &real, err, sizeof err);
    free (text);
    return 0;
}
