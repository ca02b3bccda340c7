/*  fuzz_config — libFuzzer target: a YAML config as af_config reads it,
 *  then walked the way the programs read theirs.  */
#include <stdint.h>
#include <stdlib.h>

#include "af_config.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Visits every node below NODE, reading each scalar as the getters do. */
static void
s_walk (const af_config_t *node, int depth)
{
    if (!node || depth > 70)
        return;
    for (size_t i = 0; i < af_config_size (node); i++) {
        const char *key = NULL;
        const af_config_t *child = af_config_at (node, i, &key);
        if (key) {
            af_config_get (node, key);
            af_config_int (node, key, 0, -1000, 1000);
            af_config_num (node, key, 0, -1e9, 1e9);
            af_config_bool (node, key, false);
            af_config_str (node, key, NULL);
        }
        s_walk (child, depth + 1);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char err[512];
    af_config_t *root = af_config_parse ((const char *) data, size, "fuzz.yaml", err, sizeof err);
    s_walk (root, 0);
    af_config_get (root, "a.b.c");
    af_config_destroy (&root);
    return 0;
}
