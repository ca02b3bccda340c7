/*  af_config — YAML configuration tree built with libyaml (see af_config.h).  */
#include "af_config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct {
    char *file;
    char error[512];
} s_doc_t;

struct af_config_node {
    af_config_kind_t kind;
    int line;
    char *text;                 /* scalar value, or NULL */
    char **keys;                /* mapping keys, parallel to children */
    af_config_t **children;
    size_t size, cap;
    size_t *index;              /* mapping keys hashed: slot → child + 1, 0 empty */
    size_t index_cap;           /* a power of two, at least twice size */
    s_doc_t *doc;
    bool is_root;
};

/* Deep YAML nesting is refused rather than followed, so a hostile file cannot
 * exhaust the stack. */
#define AF_CONFIG_MAX_DEPTH 64

static af_config_t *
s_node_new (s_doc_t *doc, af_config_kind_t kind, int line)
{
    af_config_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->kind = kind;
    self->line = line;
    self->doc = doc;
    return self;
}

static void
s_node_free (af_config_t *self)
{
    if (!self)
        return;
    for (size_t i = 0; i < self->size; i++) {
        s_node_free (self->children[i]);
        if (self->keys)
            free (self->keys[i]);
    }
    free (self->children);
    free (self->keys);
    free (self->index);
    free (self->text);
    free (self);
}

static uint64_t
s_hash (const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t) key[i]) * 1099511628211ull;
    return h;
}

/* The child of MAP under KEY (LEN bytes), by its hash index; -1 if none.
 * A hash, not a scan, so that a file of many keys loads in linear time
 * (the 16 MiB cap allows over a million). */
static ptrdiff_t
s_index_find (const af_config_t *map, const char *key, size_t len)
{
    if (!map->index_cap)
        return -1;
    size_t mask = map->index_cap - 1;
    for (size_t i = (size_t) s_hash (key, len) & mask; map->index[i]; i = (i + 1) & mask) {
        size_t child = map->index[i] - 1;
        if (strlen (map->keys[child]) == len && memcmp (map->keys[child], key, len) == 0)
            return (ptrdiff_t) child;
    }
    return -1;
}

static void
s_index_put (af_config_t *map, size_t child)
{
    size_t mask = map->index_cap - 1;
    size_t i = (size_t) s_hash (map->keys[child], strlen (map->keys[child])) & mask;
    while (map->index[i])
        i = (i + 1) & mask;
    map->index[i] = child + 1;
}

/* Makes room in MAP's index for one more key; 0 or -1. */
static int
s_index_grow (af_config_t *map)
{
    if ((map->size + 1) * 2 <= map->index_cap)
        return 0;
    size_t cap = map->index_cap ? map->index_cap * 2 : 16;
    size_t *index = calloc (cap, sizeof *index);
    if (!index)
        return -1;
    free (map->index);
    map->index = index;
    map->index_cap = cap;
    for (size_t i = 0; i < map->size; i++)
        s_index_put (map, i);
    return 0;
}

static int
s_node_add (af_config_t *parent, char *key, af_config_t *child)
{
    if (parent->kind == AF_CONFIG_MAP && (!key || s_index_grow (parent) != 0))
        return -1;
    if (parent->size == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        af_config_t **children = realloc (parent->children, cap * sizeof *children);
        if (!children)
            return -1;
        parent->children = children;
        if (parent->kind == AF_CONFIG_MAP) {
            char **keys = realloc (parent->keys, cap * sizeof *keys);
            if (!keys)
                return -1;
            parent->keys = keys;
        }
        parent->cap = cap;
    }
    if (parent->kind == AF_CONFIG_MAP) {
        parent->keys[parent->size] = key;
        s_index_put (parent, parent->size);
    }
    parent->children[parent->size++] = child;
    return 0;
}

/* Builds the tree from the parser's events; returns the node of the next
 * complete value, or NULL with doc->error set. */
static af_config_t *
s_parse_value (yaml_parser_t *parser, s_doc_t *doc, yaml_event_t *first, int depth)
{
    int line = (int) first->start_mark.line + 1;
    if (depth > AF_CONFIG_MAX_DEPTH) {
        snprintf (doc->error, sizeof doc->error, "%s:%d: nesting deeper than %d levels",
                  doc->file, line, AF_CONFIG_MAX_DEPTH);
        return NULL;
    }
    if (first->type == YAML_SCALAR_EVENT) {
        af_config_t *node = s_node_new (doc, AF_CONFIG_SCALAR, line);
        if (node)
            node->text = strndup ((char *) first->data.scalar.value, first->data.scalar.length);
        return node;
    }
    if (first->type == YAML_ALIAS_EVENT) {
        snprintf (doc->error, sizeof doc->error, "%s:%d: YAML aliases are not supported",
                  doc->file, line);
        return NULL;
    }
    bool is_map = first->type == YAML_MAPPING_START_EVENT;
    if (!is_map && first->type != YAML_SEQUENCE_START_EVENT) {
        snprintf (doc->error, sizeof doc->error, "%s:%d: unexpected YAML structure", doc->file, line);
        return NULL;
    }
    af_config_t *node = s_node_new (doc, is_map ? AF_CONFIG_MAP : AF_CONFIG_SEQ, line);
    if (!node)
        return NULL;
    yaml_event_type_t end = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
    while (true) {
        yaml_event_t event;
        if (!yaml_parser_parse (parser, &event))
            goto parse_error;
        if (event.type == end) {
            yaml_event_delete (&event);
            return node;
        }
        char *key = NULL;
        if (is_map) {
            if (event.type != YAML_SCALAR_EVENT) {
                snprintf (doc->error, sizeof doc->error, "%s:%d: mapping keys must be plain words",
                          doc->file, (int) event.start_mark.line + 1);
                yaml_event_delete (&event);
                goto fail;
            }
            key = strndup ((char *) event.data.scalar.value, event.data.scalar.length);
            int key_line = (int) event.start_mark.line + 1;
            yaml_event_delete (&event);
            if (key && s_index_find (node, key, strlen (key)) >= 0) {
                snprintf (doc->error, sizeof doc->error, "%s:%d: duplicate key '%s'",
                          doc->file, key_line, key);
                free (key);
                goto fail;
            }
            if (!yaml_parser_parse (parser, &event)) {
                free (key);
                goto parse_error;
            }
        }
        af_config_t *child = s_parse_value (parser, doc, &event, depth + 1);
        yaml_event_delete (&event);
        if (!child || s_node_add (node, key, child) != 0) {
            free (key);
            s_node_free (child);
            goto fail;
        }
    }
parse_error:
    snprintf (doc->error, sizeof doc->error, "%s:%d: %s", doc->file,
              (int) parser->problem_mark.line + 1,
              parser->problem ? parser->problem : "malformed YAML");
fail:
    s_node_free (node);
    return NULL;
}

af_config_t *
af_config_parse (const char *text, size_t len, const char *name, char *err, size_t err_len)
{
    s_doc_t *doc = calloc (1, sizeof *doc);
    if (!doc)
        return NULL;
    doc->file = strdup (name ? name : "<config>");
    yaml_parser_t parser;
    yaml_parser_initialize (&parser);
    yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);

    af_config_t *root = NULL;
    yaml_event_t event;
    /* Skip stream and document starts; the first value is the root. */
    while (yaml_parser_parse (&parser, &event)) {
        yaml_event_type_t type = event.type;
        if (type == YAML_STREAM_START_EVENT || type == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete (&event);
            continue;
        }
        if (type == YAML_STREAM_END_EVENT) {
            yaml_event_delete (&event);
            break;
        }
        root = s_parse_value (&parser, doc, &event, 0);
        yaml_event_delete (&event);
        break;
    }
    if (!root && !doc->error[0]) {
        if (parser.error != YAML_NO_ERROR)
            snprintf (doc->error, sizeof doc->error, "%s:%d: %s", doc->file,
                      (int) parser.problem_mark.line + 1,
                      parser.problem ? parser.problem : "malformed YAML");
        else
            snprintf (doc->error, sizeof doc->error, "%s:1: empty configuration", doc->file);
    }
    yaml_parser_delete (&parser);
    if (!root) {
        if (err && err_len)
            snprintf (err, err_len, "%s", doc->error);
        free (doc->file);
        free (doc);
        return NULL;
    }
    root->is_root = true;
    return root;
}

char *
af_config_read (const char *path, size_t *len_out, char *err, size_t err_len)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        if (err && err_len)
            snprintf (err, err_len, "%s: cannot open: %s", path, strerror (errno));
        return NULL;
    }
    /* Configuration files are small; a huge one is a mistake, not a config. */
    const size_t max_bytes = AF_CONFIG_MAX_BYTES;
    char *text = NULL;
    size_t len = 0, cap = 0;
    bool failed = false;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 65536;
            char *grown = cap <= 2 * max_bytes ? realloc (text, cap + 1) : NULL;
            if (!grown) {
                failed = true;
                break;
            }
            text = grown;
        }
        size_t n = fread (text + len, 1, cap - len, file);
        len += n;
        if (n == 0 || len > max_bytes)
            break;
    }
    fclose (file);
    if (failed || len > max_bytes) {
        if (err && err_len)
            snprintf (err, err_len, failed ? "%s: out of memory" : "%s: larger than %zu bytes", path,
                      max_bytes);
        free (text);
        return NULL;
    }
    text[len] = 0;
    *len_out = len;
    return text;
}

af_config_t *
af_config_load (const char *path, char *err, size_t err_len)
{
    size_t len;
    char *text = af_config_read (path, &len, err, err_len);
    if (!text)
        return NULL;
    af_config_t *root = af_config_parse (text, len, path, err, err_len);
    free (text);
    return root;
}

void
af_config_destroy (af_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    af_config_t *self = *self_p;
    s_doc_t *doc = self->is_root ? self->doc : NULL;
    s_node_free (self);
    if (doc) {
        free (doc->file);
        free (doc);
    }
    *self_p = NULL;
}

af_config_kind_t af_config_kind (const af_config_t *node) { return node->kind; }
int af_config_line (const af_config_t *node) { return node ? node->line : 0; }
const char *af_config_file (const af_config_t *node) { return node ? node->doc->file : "?"; }
const char *af_config_text (const af_config_t *node)
{
    return node && node->kind == AF_CONFIG_SCALAR ? node->text : NULL;
}
size_t af_config_size (const af_config_t *node)
{
    return node && node->kind != AF_CONFIG_SCALAR ? node->size : 0;
}

af_config_t *
af_config_at (const af_config_t *node, size_t i, const char **key)
{
    if (!node || i >= node->size)
        return NULL;
    if (key)
        *key = node->kind == AF_CONFIG_MAP ? node->keys[i] : NULL;
    return node->children[i];
}

af_config_t *
af_config_get (const af_config_t *node, const char *key)
{
    const char *dot = strchr (key, '.');
    size_t len = dot ? (size_t) (dot - key) : strlen (key);
    if (!node || node->kind != AF_CONFIG_MAP)
        return NULL;
    ptrdiff_t i = s_index_find (node, key, len);
    if (i < 0)
        return NULL;
    return dot ? af_config_get (node->children[i], dot + 1) : node->children[i];
}

int
af_config_fail (const af_config_t *node, const char *fmt, ...)
{
    if (!node || node->doc->error[0])
        return -1;
    char msg[400];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    snprintf (node->doc->error, sizeof node->doc->error, "%s:%d: %s",
              node->doc->file, node->line, msg);
    return -1;
}

const char *
af_config_error (const af_config_t *node)
{
    return node && node->doc->error[0] ? node->doc->error : NULL;
}

/* The scalar under KEY; records an error if it is a mapping or sequence. */
static const char *
s_scalar (const af_config_t *map, const char *key, const af_config_t **where)
{
    af_config_t *child = af_config_get (map, key);
    *where = child ? child : map;
    if (!child)
        return NULL;
    if (child->kind != AF_CONFIG_SCALAR) {
        af_config_fail (child, "'%s' must be a single value", key);
        return NULL;
    }
    return child->text;
}

double
af_config_num (const af_config_t *map, const char *key, double dflt, double min, double max)
{
    const af_config_t *where;
    const char *text = s_scalar (map, key, &where);
    if (!text)
        return dflt;
    char *end;
    errno = 0;
    double value = strtod (text, &end);
    if (end == text || *end || errno || !isfinite (value)) {
        af_config_fail (where, "'%s' must be a number, got '%s'", key, text);
        return dflt;
    }
    if (value < min || value > max) {
        af_config_fail (where, "'%s' must be between %g and %g, got %g", key, min, max, value);
        return dflt;
    }
    return value;
}

double
af_config_num_req (const af_config_t *map, const char *key, double min, double max)
{
    if (!af_config_get (map, key))
        af_config_fail (map, "missing required key '%s'", key);
    return af_config_num (map, key, min, min, max);
}

long
af_config_int (const af_config_t *map, const char *key, long dflt, long min, long max)
{
    const af_config_t *where;
    const char *text = s_scalar (map, key, &where);
    if (!text)
        return dflt;
    char *end;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (end == text || *end || errno) {
        af_config_fail (where, "'%s' must be a whole number, got '%s'", key, text);
        return dflt;
    }
    if (value < min || value > max) {
        af_config_fail (where, "'%s' must be between %ld and %ld, got %ld", key, min, max, value);
        return dflt;
    }
    return value;
}

long
af_config_int_req (const af_config_t *map, const char *key, long min, long max)
{
    if (!af_config_get (map, key))
        af_config_fail (map, "missing required key '%s'", key);
    return af_config_int (map, key, min, min, max);
}

bool
af_config_bool (const af_config_t *map, const char *key, bool dflt)
{
    const af_config_t *where;
    const char *text = s_scalar (map, key, &where);
    if (!text)
        return dflt;
    if (!strcmp (text, "true") || !strcmp (text, "yes") || !strcmp (text, "on"))
        return true;
    if (!strcmp (text, "false") || !strcmp (text, "no") || !strcmp (text, "off"))
        return false;
    af_config_fail (where, "'%s' must be true or false, got '%s'", key, text);
    return dflt;
}

const char *
af_config_str (const af_config_t *map, const char *key, const char *dflt)
{
    const af_config_t *where;
    const char *text = s_scalar (map, key, &where);
    return text ? text : dflt;
}

const char *
af_config_str_req (const af_config_t *map, const char *key)
{
    if (!af_config_get (map, key))
        af_config_fail (map, "missing required key '%s'", key);
    return af_config_str (map, key, NULL);
}

af_config_t *
af_config_seq (const af_config_t *map, const char *key)
{
    af_config_t *child = af_config_get (map, key);
    if (child && child->kind != AF_CONFIG_SEQ) {
        af_config_fail (child, "'%s' must be a list", key);
        return NULL;
    }
    return child;
}

int
af_config_known_keys (const af_config_t *map, const char *const allowed[])
{
    if (!map || map->kind != AF_CONFIG_MAP)
        return 0;
    for (size_t i = 0; i < map->size; i++) {
        bool known = false;
        for (size_t k = 0; allowed[k] && !known; k++)
            known = strcmp (allowed[k], map->keys[i]) == 0;
        if (!known)
            return af_config_fail (map->children[i], "unknown key '%s'", map->keys[i]);
    }
    return 0;
}
