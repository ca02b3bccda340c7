/*  print — one line of text per decoded message, human or JSON (see cli.h).
 *
 *  Everything is driven by the protobuf-c descriptors, not by per-type code:
 *  a payload added to the envelope, or a `Typed` body of any type linked into
 *  the program, prints without touching this file.  The only per-type
 *  knowledge is cosmetic (Metric and Param print as name=value in human mode).
 *
 *  The input is hostile: any field may be unset, strings may hold terminal
 *  escapes or invalid UTF-8, and a Typed body may claim a type and carry
 *  garbage.  Nothing here trusts a pointer it did not check.
 */
#include "cli.h"
#include "af_json.h"

#include <ctype.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Typed bodies may nest Typed bodies; stop expanding beyond this depth. */
#define CLI_PRINT_MAX_DEPTH 16
/* Human mode shortens bytes fields to this many bytes of hex. */
#define CLI_HUMAN_BYTES_MAX 16
/* Types reachable from the root messages; ours number a few dozen. */
#define CLI_MAX_KNOWN_TYPES 256

/* -------------------------------------------------------------- strings */

/* Length of the valid UTF-8 sequence at P (at most LEFT bytes), or 0.  C1
 * controls (U+0080..U+009F, encoded C2 80..C2 9F) count as invalid:
 * terminals may obey them. */
static size_t
s_utf8_len (const unsigned char *p, size_t left)
{
    size_t n = af_utf8_len (p, left);
    return n == 2 && p[0] == 0xc2 && p[1] <= 0x9f ? 0 : n;
}

void
cli_print_json_string (FILE *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *) text;
    fputc ('"', out);
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\')
            fprintf (out, "\\%c", c);
        else if (c == '\n')
            fputs ("\\n", out);
        else if (c == '\t')
            fputs ("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf (out, "\\u%04x", c);
        else if (c >= 0x80) {
            size_t n = s_utf8_len (p + i, len - i);
            if (n == 0) {
                fputs ("\\ufffd", out);
                i++;
                continue;
            }
            fwrite (p + i, 1, n, out);
            i += n;
            continue;
        }
        else
            fputc (c, out);
        i++;
    }
    fputc ('"', out);
}

/* Human mode: control characters and invalid UTF-8 become '?', so that a
 * hostile message cannot drive the operator's terminal; a string with
 * spaces or separators is quoted. */
static void
s_print_human_string (FILE *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *) text;
    bool quote = len == 0 || strpbrk (text, " =,[]{}\"") != NULL;
    if (quote)
        fputc ('"', out);
    for (size_t i = 0; i < len;) {
        size_t n = p[i] < 0x80 ? 1 : s_utf8_len (p + i, len - i);
        if (n == 0 || p[i] < 0x20 || p[i] == 0x7f)
            fputc ('?', out), n = 1;
        else if (quote && (p[i] == '"' || p[i] == '\\'))
            fprintf (out, "\\%c", p[i]);
        else
            fwrite (p + i, 1, n, out);
        i += n;
    }
    if (quote)
        fputc ('"', out);
}

void
cli_sanitize (const char *text, char *out, size_t out_len)
{
    if (!out_len)
        return;
    const unsigned char *p = (const unsigned char *) (text ? text : "");
    size_t len = strlen ((const char *) p), n = 0;
    for (size_t i = 0; i < len && n + 1 < out_len;) {
        size_t step = p[i] < 0x80 ? 1 : s_utf8_len (p + i, len - i);
        if (step == 0 || p[i] < 0x20 || p[i] == 0x7f) {
            out[n++] = '?';
            i += 1;
            continue;
        }
        if (n + step >= out_len)
            break;
        memcpy (out + n, p + i, step);
        n += step;
        i += step;
    }
    out[n] = 0;
}

static void
s_print_string (FILE *out, cli_fmt_t fmt, const char *text)
{
    if (!text)
        text = "";
    if (fmt == CLI_FMT_JSON)
        cli_print_json_string (out, text, strlen (text));
    else
        s_print_human_string (out, text, strlen (text));
}

static void
s_print_bytes (FILE *out, cli_fmt_t fmt, const ProtobufCBinaryData *bin)
{
    size_t len = bin->data ? bin->len : 0;
    size_t shown = fmt == CLI_FMT_HUMAN && len > CLI_HUMAN_BYTES_MAX ? CLI_HUMAN_BYTES_MAX : len;
    if (fmt == CLI_FMT_JSON)
        fputc ('"', out);
    for (size_t i = 0; i < shown; i++)
        fprintf (out, "%02x", bin->data[i]);
    if (shown < len)
        fprintf (out, "…(%zu bytes)", len);
    if (fmt == CLI_FMT_JSON)
        fputc ('"', out);
}

/* JSON: the shortest of %.15g and %.17g that reads back as the same number,
 * so scripts lose nothing.  Human: 6 significant digits, what a person reads
 * (60.1199, not 60.119928012958887). */
static void
s_print_double (FILE *out, cli_fmt_t fmt, double value)
{
    if (!isfinite (value)) {
        const char *name = isnan (value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
        fprintf (out, fmt == CLI_FMT_JSON ? "\"%s\"" : "%s", name);
        return;
    }
    char buf[40];
    if (fmt != CLI_FMT_JSON) {
        fprintf (out, "%.6g", value);
        return;
    }
    snprintf (buf, sizeof buf, "%.15g", value);
    if (strtod (buf, NULL) != value)
        snprintf (buf, sizeof buf, "%.17g", value);
    fputs (buf, out);
}

/* Human mode shows enum values without their type's prefix, in lower case:
 * Alarm.Severity SEVERITY_CRITICAL → "critical". */
static void
s_print_enum (FILE *out, cli_fmt_t fmt, const ProtobufCEnumDescriptor *desc, int value)
{
    const ProtobufCEnumValue *v = desc ? protobuf_c_enum_descriptor_get_value (desc, value) : NULL;
    if (!v || !v->name) {
        fprintf (out, "%d", value);
        return;
    }
    if (fmt == CLI_FMT_JSON) {
        cli_print_json_string (out, v->name, strlen (v->name));
        return;
    }
    /* Upper-snake form of the enum's short name: "Severity" → "SEVERITY_". */
    char prefix[64];
    size_t n = 0;
    const char *short_name = desc->short_name ? desc->short_name : "";
    for (size_t i = 0; short_name[i] && n + 3 < sizeof prefix; i++) {
        if (i && isupper ((unsigned char) short_name[i]))
            prefix[n++] = '_';
        prefix[n++] = (char) toupper ((unsigned char) short_name[i]);
    }
    prefix[n++] = '_';
    prefix[n] = 0;
    const char *name = strncmp (v->name, prefix, n) == 0 && v->name[n] ? v->name + n : v->name;
    for (; *name; name++)
        fputc (tolower ((unsigned char) *name), out);
}

/* ------------------------------------------------------ field handling */

/* Size in memory of one element of a repeated field. */
static size_t
s_element_size (ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof (double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof (protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof (char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof (ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof (ProtobufCMessage *);
    default:
        return 4;
    }
}

/* True if a singular value is worth printing: proto3 has no presence for
 * scalars, so zero and empty mean "not set". */
static bool
s_value_set (const ProtobufCFieldDescriptor *field, const void *member)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return *(const uint32_t *) member != 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *) member != 0;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *) member != 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *) member != 0;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *) member != 0;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *) member;
        return s && *s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *) member)->len > 0
               && ((const ProtobufCBinaryData *) member)->data;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *) member != NULL;
    }
    return false;
}

/* How many values FIELD of MSG holds: 0 (unset), 1, or a repeated count. */
static size_t
s_field_count (const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field)
{
    const char *base = (const char *) msg;
    const void *member = base + field->offset;
    if (field->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = *(const size_t *) (base + field->quantifier_offset);
        return n && *(void *const *) member ? n : 0;
    }
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *) (base + field->quantifier_offset) != field->id)
            return 0;
        /* A oneof member is set even when its value is zero; only a NULL
         * pointer (string, message) can still make it unprintable. */
        if (field->type == PROTOBUF_C_TYPE_STRING || field->type == PROTOBUF_C_TYPE_MESSAGE)
            return *(void *const *) member != NULL;
        return 1;
    }
    if (field->label == PROTOBUF_C_LABEL_OPTIONAL && field->quantifier_offset
        && field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_MESSAGE)
        return *(const protobuf_c_boolean *) (base + field->quantifier_offset) ? 1 : 0;
    return s_value_set (field, member) ? 1 : 0;
}

static void s_print_msg (FILE *out, cli_fmt_t fmt, const ProtobufCMessage *msg, int depth);

static void
s_print_value (FILE *out, cli_fmt_t fmt, const ProtobufCFieldDescriptor *field,
               const void *member, int depth)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        fprintf (out, "%" PRId32, *(const int32_t *) member);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        fprintf (out, "%" PRIu32, *(const uint32_t *) member);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        fprintf (out, "%" PRId64, *(const int64_t *) member);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        fprintf (out, "%" PRIu64, *(const uint64_t *) member);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        s_print_double (out, fmt, *(const float *) member);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        s_print_double (out, fmt, *(const double *) member);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        fputs (*(const protobuf_c_boolean *) member ? "true" : "false", out);
        break;
    case PROTOBUF_C_TYPE_ENUM:
        s_print_enum (out, fmt, field->descriptor, *(const int *) member);
        break;
    case PROTOBUF_C_TYPE_STRING:
        s_print_string (out, fmt, *(char *const *) member);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        s_print_bytes (out, fmt, member);
        break;
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *) member;
        if (sub)
            s_print_msg (out, fmt, sub, depth + 1);
        else
            fputs (fmt == CLI_FMT_JSON ? "null" : "-", out);
        break;
    }
    }
}

/* Human mode prints a Metric as "temp_c=71.5degC" and a Param as
 * "name=value": they are what operators read most. */
static bool
s_print_compact (FILE *out, const ProtobufCMessage *msg)
{
    if (msg->descriptor == &autofab__metric__descriptor) {
        const Autofab__Metric *m = (const Autofab__Metric *) msg;
        s_print_string (out, CLI_FMT_HUMAN, m->name);
        fputc ('=', out);
        s_print_double (out, CLI_FMT_HUMAN, m->value);
        if (m->unit && *m->unit)
            s_print_human_string (out, m->unit, strlen (m->unit));
        return true;
    }
    if (msg->descriptor == &autofab__param__descriptor) {
        const Autofab__Param *p = (const Autofab__Param *) msg;
        s_print_string (out, CLI_FMT_HUMAN, p->name);
        fputc ('=', out);
        if (p->value_case == AUTOFAB__PARAM__VALUE_NUM)
            s_print_double (out, CLI_FMT_HUMAN, p->num);
        else if (p->value_case == AUTOFAB__PARAM__VALUE_FLAG)
            fputs (p->flag ? "true" : "false", out);
        else if (p->value_case == AUTOFAB__PARAM__VALUE_TEXT)
            s_print_string (out, CLI_FMT_HUMAN, p->text);
        return true;
    }
    return false;
}

/* A Typed body whose type we know prints as that type:
 * {"type":"autofab.Alarm","value":{…}}; otherwise as type and hex data. */
static bool
s_print_typed (FILE *out, cli_fmt_t fmt, const ProtobufCMessage *msg, int depth)
{
    if (msg->descriptor != &autofab__typed__descriptor)
        return false;
    const Autofab__Typed *typed = (const Autofab__Typed *) msg;
    const ProtobufCMessageDescriptor *desc
        = typed->type && *typed->type ? cli_find_type (typed->type) : NULL;
    if (!desc || depth >= CLI_PRINT_MAX_DEPTH)
        return false;
    ProtobufCMessage *value = protobuf_c_message_unpack (desc, NULL, typed->data.data ? typed->data.len : 0,
                                                         typed->data.data);
    if (!value)
        return false;
    if (fmt == CLI_FMT_JSON) {
        fputs ("{\"type\":", out);
        s_print_string (out, fmt, typed->type);
        fputs (",\"value\":", out);
        s_print_msg (out, fmt, value, depth + 1);
        fputc ('}', out);
    }
    else {
        s_print_string (out, fmt, typed->type);
        s_print_msg (out, fmt, value, depth + 1);
    }
    protobuf_c_message_free_unpacked (value, NULL);
    return true;
}

/* Writes a message generically: JSON {"field":value,…} or human
 * {field=value …}; unset fields are left out. */
static void
s_print_msg (FILE *out, cli_fmt_t fmt, const ProtobufCMessage *msg, int depth)
{
    if (!msg || !msg->descriptor) {
        fputs (fmt == CLI_FMT_JSON ? "null" : "-", out);
        return;
    }
    if (depth > CLI_PRINT_MAX_DEPTH) {
        fputs (fmt == CLI_FMT_JSON ? "\"…\"" : "{…}", out);
        return;
    }
    if (fmt == CLI_FMT_HUMAN && s_print_compact (out, msg))
        return;
    if (s_print_typed (out, fmt, msg, depth))
        return;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    fputc ('{', out);
    bool first = true;
    for (unsigned f = 0; f < desc->n_fields; f++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[f];
        size_t n = s_field_count (msg, field);
        if (!n)
            continue;
        if (!first)
            fputs (fmt == CLI_FMT_JSON ? "," : " ", out);
        first = false;
        if (fmt == CLI_FMT_JSON) {
            cli_print_json_string (out, field->name, strlen (field->name));
            fputc (':', out);
        }
        else
            fprintf (out, "%s=", field->name);
        const char *member = (const char *) msg + field->offset;
        if (field->label != PROTOBUF_C_LABEL_REPEATED) {
            s_print_value (out, fmt, field, member, depth);
            continue;
        }
        const char *array = *(const char *const *) member;
        size_t size = s_element_size (field->type);
        fputc ('[', out);
        for (size_t i = 0; i < n; i++) {
            if (i)
                fputs (fmt == CLI_FMT_JSON ? "," : " ", out);
            s_print_value (out, fmt, field, array + i * size, depth);
        }
        fputc (']', out);
    }
    fputc ('}', out);
}

void
cli_print_message (FILE *out, cli_fmt_t fmt, const ProtobufCMessage *msg)
{
    s_print_msg (out, fmt, msg, 0);
}

/* ------------------------------------------------------------ envelopes */

void
cli_print_envelope (FILE *out, cli_fmt_t fmt, const char *topic, const Autofab__Envelope *env,
                    uint64_t gap)
{
    const Autofab__Header *hdr = env ? env->header : NULL;
    const char *source = hdr && hdr->source ? hdr->source : "";
    uint64_t seq = hdr ? hdr->seq : 0;
    uint64_t t_ns = hdr ? hdr->t_ns : 0;
    /* The payload is the envelope's one set oneof member, whatever it is:
     * found through the descriptor so that new payloads need no code. */
    const ProtobufCFieldDescriptor *payload = NULL;
    for (unsigned f = 0; env && f < env->base.descriptor->n_fields; f++) {
        const ProtobufCFieldDescriptor *field = &env->base.descriptor->fields[f];
        if ((field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && s_field_count (&env->base, field)) {
            payload = field;
            break;
        }
    }
    const void *member = payload ? (const char *) env + payload->offset : NULL;
    if (fmt == CLI_FMT_JSON) {
        fputs ("{\"topic\":", out);
        s_print_string (out, fmt, topic);
        fputs (",\"source\":", out);
        s_print_string (out, fmt, source);
        fprintf (out, ",\"seq\":%" PRIu64 ",\"t_ns\":%" PRIu64, seq, t_ns);
        if (hdr) {
            fprintf (out, ",\"session\":%" PRIu32 ",\"factory\":", hdr->session);
            s_print_string (out, fmt, hdr->factory);
            fputs (",\"msg_id\":", out);
            s_print_bytes (out, fmt, &hdr->msg_id);
        }
        fprintf (out, ",\"gap\":%" PRIu64 ",\"kind\":", gap);
        s_print_string (out, fmt, payload ? payload->name : "");
        fputs (",\"payload\":", out);
        if (payload)
            s_print_value (out, fmt, payload, member, 0);
        else
            fputs ("null", out);
        fputs ("}\n", out);
        return;
    }
    time_t t_s = (time_t) (t_ns / 1000000000u);
    struct tm tm;
    gmtime_r (&t_s, &tm);
    s_print_string (out, fmt, topic);
    fputc (' ', out);
    s_print_string (out, fmt, *source ? source : "?");
    fprintf (out, "#%" PRIu64 " %02d:%02d:%02d.%03u ", seq, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned) (t_ns % 1000000000u / 1000000u));
    if (payload) {
        fprintf (out, "%s ", payload->name);
        s_print_value (out, fmt, payload, member, 0);
    }
    else
        fputs ("(empty)", out);
    if (gap)
        fprintf (out, " (gap %" PRIu64 ")", gap);
    fputc ('\n', out);
}

/* ------------------------------------------------------------ type lookup */

/* Collects the message types reachable from ROOT through its fields. */
static void
s_collect (const ProtobufCMessageDescriptor *root, const ProtobufCMessageDescriptor **seen,
           size_t *n_seen)
{
    for (size_t i = 0; i < *n_seen; i++)
        if (seen[i] == root)
            return;
    if (*n_seen >= CLI_MAX_KNOWN_TYPES)
        return;
    seen[(*n_seen)++] = root;
    for (unsigned f = 0; f < root->n_fields; f++)
        if (root->fields[f].type == PROTOBUF_C_TYPE_MESSAGE && root->fields[f].descriptor)
            s_collect (root->fields[f].descriptor, seen, n_seen);
}

/* protobuf-c names a descriptor after the full type name, each part in
 * lower snake case: "autofab.twin.StationState" →
 * "autofab__twin__station_state__descriptor". */
static int
s_descriptor_symbol (const char *full_name, char *out, size_t out_len)
{
    size_t n = 0;
    bool was_upper = true;
    for (const char *p = full_name; *p; p++) {
        if (n + 16 >= out_len)
            return -1;
        if (*p == '.') {
            out[n++] = '_';
            out[n++] = '_';
            was_upper = true;
            continue;
        }
        if (!isalnum ((unsigned char) *p) && *p != '_')
            return -1;
        bool is_upper = isupper ((unsigned char) *p);
        if (is_upper && !was_upper)
            out[n++] = '_';
        out[n++] = (char) tolower ((unsigned char) *p);
        was_upper = is_upper;
    }
    strcpy (out + n, "__descriptor");
    return 0;
}

/* Looks FULL_NAME up: among the types reachable from the root messages,
 * then among the program's symbols. */
static const ProtobufCMessageDescriptor *
s_find_type (const char *full_name)
{
    /* The reachable types are the same for the whole run: collected once. */
    static const ProtobufCMessageDescriptor *seen[CLI_MAX_KNOWN_TYPES];
    static size_t n_seen = 0;
    if (!n_seen) {
        s_collect (&autofab__envelope__descriptor, seen, &n_seen);
        s_collect (&autofab__control__descriptor, seen, &n_seen);
    }
    for (size_t i = 0; i < n_seen; i++)
        if (seen[i]->name && strcmp (seen[i]->name, full_name) == 0)
            return seen[i];
    /* Types of other .proto files (the twin's, …) are found among the
     * program's exported symbols; the autofab binary links every generated
     * file and is linked with -rdynamic for this. */
    char symbol[AF_TOPIC_MAX_BYTES + 32];
    if (s_descriptor_symbol (full_name, symbol, sizeof symbol) != 0)
        return NULL;
    const ProtobufCMessageDescriptor *desc = dlsym (RTLD_DEFAULT, symbol);
    if (!desc || desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC || !desc->name
        || strcmp (desc->name, full_name) != 0)
        return NULL;
    return desc;
}

const ProtobufCMessageDescriptor *
cli_find_type (const char *full_name)
{
    if (!full_name || !*full_name)
        return NULL;
    /* A stream carries one type again and again: remember the last answer
     * (found or not) rather than search, and dlsym, per message. */
    static char last_name[AF_TOPIC_MAX_BYTES];
    static const ProtobufCMessageDescriptor *last_desc;
    if (last_name[0] && strcmp (last_name, full_name) == 0)
        return last_desc;
    const ProtobufCMessageDescriptor *desc = s_find_type (full_name);
    if (strlen (full_name) < sizeof last_name) {
        strcpy (last_name, full_name);
        last_desc = desc;
    }
    return desc;
}
