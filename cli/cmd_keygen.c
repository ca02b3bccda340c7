/*  cmd_keygen — `autofab keygen`: writes a CURVE key pair (docs/security.md).  */
#include "cli.h"
#include "af_keys.h"

#include <getopt.h>
#include <string.h>

static int s_run (const cli_ctx_t *ctx, int argc, char **argv);

const cli_command_t cli_cmd_keygen = {
    .name = "keygen",
    .summary = "write a CURVE key pair (NAME.key public, NAME.key_secret 0600)",
    .usage = "usage: autofab keygen [--dir DIR] [--force] NAME\n"
             "\n"
             "Writes a fresh CURVE key pair for a gateway, an agent or an operator:\n"
             "DIR/NAME.key holds the public key (copy it into a peer's allow-list\n"
             "directory) and DIR/NAME.key_secret both keys, created with mode 0600.\n"
             "Prints the public key (Z85).  Existing files are never replaced unless\n"
             "--force is given (that is how a key is rotated).\n"
             "\n"
             "  --dir DIR   where to write (default: the current directory)\n"
             "  --force     replace an existing key pair of that name\n",
    .run = s_run,
};

static int
s_run (const cli_ctx_t *ctx, int argc, char **argv)
{
    (void) ctx;
    static const struct option s_options[] = {
        { "dir", required_argument, NULL, 'd' },
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = ".";
    bool force = false;
    int c;
    while ((c = getopt_long (argc, argv, ":h", s_options, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'f':
            force = true;
            break;
        case 'h':
            return cli_help (&cli_cmd_keygen);
        default:
            return cli_bad_option (&cli_cmd_keygen, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error ("keygen", "missing the key NAME (see --help)");
    if (optind + 1 < argc)
        return cli_usage_error ("keygen", "unexpected argument '%s' (see --help)", argv[optind + 1]);
    char pub[41], why[700];
    if (af_keys_generate (dir, argv[optind], force, pub, why, sizeof why) != 0)
        return cli_fail ("keygen", "%s", why);
    printf ("%s\n", pub);
    return CLI_EXIT_OK;
}
