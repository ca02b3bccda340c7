/*  Shared by the twin's unit tests: a broken config and what its one-line
 *  error must say ("bad.yaml:LINE: … WORD …").  */
#ifndef TWIN_BAD_CONFIG_H
#define TWIN_BAD_CONFIG_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "agents/twin/twin.h"

typedef struct {
    const char *yaml;
    int line;
    const char *word;
} twin_bad_config_t;

/* Every one of the N configs must be refused with one line that starts with
 * its file and line and names WORD. */
static inline void
twin_check_bad_configs (const twin_bad_config_t *bad, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char err[512] = "";
        const char *y = bad[i].yaml;
        twin_t *t = twin_new_from_text (y, strlen (y), "bad.yaml", 1, err, sizeof err);
        cr_assert_null (t, "case %zu accepted:\n%s", i, y);
        char prefix[32];
        snprintf (prefix, sizeof prefix, "bad.yaml:%d:", bad[i].line);
        cr_assert (strncmp (err, prefix, strlen (prefix)) == 0,
                   "case %zu: error '%s' does not start with '%s'", i, err, prefix);
        cr_assert (strstr (err, bad[i].word), "case %zu: error '%s' does not mention '%s'",
                   i, err, bad[i].word);
        cr_assert (!strchr (err, '\n'), "case %zu: more than one line: %s", i, err);
    }
}

#endif
