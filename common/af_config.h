/*  af_config — YAML configuration with errors that point at file and line.
 *
 *  A document is loaded into a tree of nodes (mapping, sequence, scalar), each
 *  remembering where it came from.  The typed getters record the first problem
 *  they meet ("deploy/factories/x.yaml:12: 'rate_per_h' must be > 0, got -3")
 *  on the document, so a loader can read every field it needs and check
 *  af_config_error() once at the end.  All nodes belong to the document; only
 *  the root is destroyed.
 */
#ifndef AF_CONFIG_H
#define AF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct af_config_node af_config_t;

typedef enum { AF_CONFIG_SCALAR, AF_CONFIG_MAP, AF_CONFIG_SEQ } af_config_kind_t;

/* Loads a YAML file.  On failure returns NULL and writes "file:line: why" to
 * ERR (if not NULL). */
af_config_t *af_config_load (const char *path, char *err, size_t err_len);
/* Largest configuration file read, bytes. */
#define AF_CONFIG_MAX_BYTES (16u << 20)
/* Reads a whole configuration file (at most AF_CONFIG_MAX_BYTES) into a
 * NUL-terminated malloc'd buffer; NULL with "PATH: why" in ERR. */
char *af_config_read (const char *path, size_t *len, char *err, size_t err_len);
/* Parses YAML text; NAME stands for the file name in messages. */
af_config_t *af_config_parse (const char *text, size_t len, const char *name,
                              char *err, size_t err_len);
/* Destroys a document (pass its root); NULL-safe, nulls the pointer. */
void af_config_destroy (af_config_t **self_p);

af_config_kind_t af_config_kind (const af_config_t *node);
int          af_config_line (const af_config_t *node);
const char  *af_config_file (const af_config_t *node);
/* Scalar text, or NULL if the node is not a scalar. */
const char  *af_config_text (const af_config_t *node);
/* Number of children of a mapping or sequence (0 for a scalar). */
size_t       af_config_size (const af_config_t *node);
/* I-th child; for a mapping, the value, with its key in *KEY if KEY is not NULL. */
af_config_t *af_config_at (const af_config_t *node, size_t i, const char **key);
/* Child of a mapping by key, or NULL.  KEY may be a dotted path ("grid.tariff"). */
af_config_t *af_config_get (const af_config_t *node, const char *key);

/* Records an error at NODE (first one wins) and returns -1.  Use it for
 * checks the getters cannot make (an unknown station in a route, …). */
int af_config_fail (const af_config_t *node, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* The first recorded error ("file:line: why"), or NULL when all is well. */
const char *af_config_error (const af_config_t *node);

/* Typed getters on a mapping.  A missing key yields DFLT; REQUIRED variants
 * record an error when the key is missing.  A value of the wrong type or out
 * of [MIN, MAX] records an error and yields DFLT. */
double      af_config_num (const af_config_t *map, const char *key, double dflt,
                           double min, double max);
double      af_config_num_req (const af_config_t *map, const char *key, double min, double max);
long        af_config_int (const af_config_t *map, const char *key, long dflt, long min, long max);
long        af_config_int_req (const af_config_t *map, const char *key, long min, long max);
bool        af_config_bool (const af_config_t *map, const char *key, bool dflt);
const char *af_config_str (const af_config_t *map, const char *key, const char *dflt);
const char *af_config_str_req (const af_config_t *map, const char *key);
/* The child KEY if it is a sequence (or absent: NULL); records an error if it
 * is something else. */
af_config_t *af_config_seq (const af_config_t *map, const char *key);
/* Records an error for every key of MAP not in ALLOWED (NULL-terminated), so
 * that a typo is caught instead of silently ignored.  Returns 0 or -1. */
int af_config_known_keys (const af_config_t *map, const char *const allowed[]);

#endif
