/*  fuzz_jobshop — libFuzzer target: a job-shop instance file (OR-Library
 *  or Taillard) as the scheduler reads it.  */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agents/line/sched.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text[size] = 0;
    static const sched_fmt_t fmts[] = { SCHED_FMT_AUTO, SCHED_FMT_ORLIB, SCHED_FMT_TAILLARD };
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        char err[SCHED_ERR_LEN];
        sched_inst_t *inst = sched_inst_parse (text, "fuzz", fmts[i], err);
        sched_inst_destroy (&inst);
    }
    free (text);
    return 0;
}
