/* eval_main.c — autofab-maint-eval: runs one evaluation subcommand. */
#include <stdio.h>
#include <string.h>

#include "af_args.h"
#include "eval.h"

typedef struct {
    const char *name;
    int (*run) (int argc, char **argv);
    const char *usage;
} s_command_t;

static const s_command_t s_commands[] = {
    { "cwru", eval_cwru,
      "cwru DIR [options]        bearing classification accuracy on CWRU .mat files" },
    { "cmapss", eval_cmapss,
      "cmapss TRAIN TEST RUL     RUL model trained on TRAIN, RMSE and PHM08 score on TEST" },
    { "cmapss-cv", eval_cmapss_cv,
      "cmapss-cv TRAIN [options] the same on training units held out and cut at random" },
};
#define S_N_COMMANDS (sizeof s_commands / sizeof s_commands[0])

static void
s_help (FILE *out)
{
    fprintf (out, "usage: " EVAL_PROGRAM " COMMAND ARGS...   (COMMAND --help for its options)\n\n");
    for (size_t i = 0; i < S_N_COMMANDS; i++)
        fprintf (out, "  %s\n", s_commands[i].usage);
}

int
main (int argc, char **argv)
{
    if (argc < 2)
        return af_args_usage_error (EVAL_PROGRAM, "missing COMMAND");
    if (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h")) {
        s_help (stdout);
        return 0;
    }
    for (size_t i = 0; i < S_N_COMMANDS; i++)
        if (!strcmp (argv[1], s_commands[i].name))
            return s_commands[i].run (argc - 1, argv + 1);
    return af_args_usage_error (EVAL_PROGRAM, "unknown command '%s'", argv[1]);
}
