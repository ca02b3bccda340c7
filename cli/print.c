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
    /* json-c escapes (af_json_quote); C1 controls count as invalid here,
     * as in human mode, so a terminal never obeys them. */
    size_t quoted_len;
    char *quoted = af_json_quote (text, len, AF_JSON_NO_C1, &quoted_len);
    if (quoted)
        fwrite (quoted, 1, quoted_len, out);
    else
        fputs ("\"\"", out);
    free (quoted);
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

/* A singular number, bool or enum without presence: proto3 cannot tell
 * zero from unset, and a script reading JSON must see {"value":0}, not a
 * metric without a value (issue 18). */
static bool
s_plain_scalar (const ProtobufCFieldDescriptor *field)
{
    if (field->label == PROTOBUF_C_LABEL_REPEATED || (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        return false;
    if (field->label == PROTOBUF_C_LABEL_OPTIONAL && field->quantifier_offset)
        return false;
    return field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_BYTES
           && field->type != PROTOBUF_C_TYPE_MESSAGE;
}

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
        if (!n && fmt == CLI_FMT_JSON && s_plain_scalar (field))
            n = 1;
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

/* Simulated clocks start at 0 (af_clock_new_sim (0)): a header time before
 * 2001-01-01 cannot be a wall clock, so it is shown as time since the
 * simulation's start, never as a time of day someone could misread. */
#define CLI_SIM_TIME_LIMIT_NS 978307200000000000ull

void
cli_format_time (uint64_t t_ns, char *out, size_t out_len)
{
    unsigned ms = (unsigned) (t_ns % 1000000000u / 1000000u);
    if (t_ns < CLI_SIM_TIME_LIMIT_NS) {
        uint64_t s = t_ns / 1000000000u;
        uint64_t days = s / 86400;
        if (days)
            snprintf (out, out_len, "sim+%" PRIu64 "d%02u:%02u:%02u.%03u", days,
                      (unsigned) (s % 86400 / 3600), (unsigned) (s % 3600 / 60),
                      (unsigned) (s % 60), ms);
        else
            snprintf (out, out_len, "sim+%02u:%02u:%02u.%03u", (unsigned) (s / 3600),
                      (unsigned) (s % 3600 / 60), (unsigned) (s % 60), ms);
        return;
    }
    time_t t_s = (time_t) (t_ns / 1000000000u);
    struct tm tm;
    gmtime_r (&t_s, &tm);
    snprintf (out, out_len, "%02d:%02d:%02d.%03uZ", tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

/* The envelope's payload: its one set oneof member, found through the
 * descriptor so that new payloads need no code.  NULL if none. */
static const ProtobufCFieldDescriptor *
s_payload_field (const Autofab__Envelope *env)
{
    for (unsigned f = 0; env && f < env->base.descriptor->n_fields; f++) {
        const ProtobufCFieldDescriptor *field = &env->base.descriptor->fields[f];
        if ((field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && s_field_count (&env->base, field))
            return field;
    }
    return NULL;
}

/* Prints the value called NAME in the payload MSG: a Metric of that name
 * in any repeated Metric field (Telemetry.metrics, Event.values), else the
 * payload's own field of that name.  False if there is none. */
static bool
s_print_named (FILE *out, cli_fmt_t fmt, const ProtobufCMessage *msg, const char *name)
{
    if (!msg || !msg->descriptor)
        return false;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    for (unsigned f = 0; f < desc->n_fields; f++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[f];
        if (field->label != PROTOBUF_C_LABEL_REPEATED
            || field->descriptor != &autofab__metric__descriptor)
            continue;
        size_t n = s_field_count (msg, field);
        Autofab__Metric *const *metrics = *(Autofab__Metric *const *const *) ((const char *) msg
                                                                             + field->offset);
        for (size_t i = 0; i < n; i++) {
            const Autofab__Metric *m = metrics[i];
            if (!m || !m->name || strcmp (m->name, name) != 0)
                continue;
            s_print_double (out, fmt, m->value);
            if (fmt == CLI_FMT_HUMAN && m->unit && *m->unit)
                s_print_human_string (out, m->unit, strlen (m->unit));
            return true;
        }
    }
    const ProtobufCFieldDescriptor *field = protobuf_c_message_descriptor_get_field_by_name (desc,
                                                                                          name);
    if (!field)
        return false;
    size_t n = s_field_count (msg, field);
    if (!n && !s_plain_scalar (field))
        return false;
    const char *member = (const char *) msg + field->offset;
    if (field->label != PROTOBUF_C_LABEL_REPEATED) {
        s_print_value (out, fmt, field, member, 0);
        return true;
    }
    const char *array = *(const char *const *) member;
    fputc ('[', out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs (fmt == CLI_FMT_JSON ? "," : " ", out);
        s_print_value (out, fmt, field, array + i * s_element_size (field->type), 0);
    }
    fputc (']', out);
    return true;
}

/* The payload as a message, or NULL (no payload, or a scalar one). */
static const ProtobufCMessage *
s_payload_msg (const Autofab__Envelope *env, const ProtobufCFieldDescriptor *payload)
{
    if (!payload || payload->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    return *(ProtobufCMessage *const *) ((const char *) env + payload->offset);
}

/* One header placeholder of a -F format; false if KEY is not one. */
static bool
s_print_header_key (FILE *out, const char *key, const char *topic, const Autofab__Envelope *env,
                    const ProtobufCFieldDescriptor *payload, uint64_t gap, uint64_t rx_ns)
{
    const Autofab__Header *hdr = env ? env->header : NULL;
    char when[48];
    if (strcmp (key, "topic") == 0)
        s_print_string (out, CLI_FMT_HUMAN, topic);
    else if (strcmp (key, "source") == 0)
        s_print_string (out, CLI_FMT_HUMAN, hdr && hdr->source ? hdr->source : "");
    else if (strcmp (key, "factory") == 0)
        s_print_string (out, CLI_FMT_HUMAN, hdr && hdr->factory ? hdr->factory : "");
    else if (strcmp (key, "seq") == 0)
        fprintf (out, "%" PRIu64, hdr ? hdr->seq : 0);
    else if (strcmp (key, "t_ns") == 0)
        fprintf (out, "%" PRIu64, hdr ? hdr->t_ns : 0);
    else if (strcmp (key, "time") == 0) {
        cli_format_time (hdr ? hdr->t_ns : 0, when, sizeof when);
        fputs (when, out);
    }
    else if (strcmp (key, "rx") == 0) {
        cli_format_time (rx_ns, when, sizeof when);
        fputs (when, out);
    }
    else if (strcmp (key, "gap") == 0)
        fprintf (out, "%" PRIu64, gap);
    else if (strcmp (key, "kind") == 0)
        fputs (payload ? payload->name : "-", out);
    else if (strcmp (key, "payload") == 0) {
        if (payload)
            s_print_value (out, CLI_FMT_HUMAN, payload, (const char *) env + payload->offset, 0);
        else
            fputc ('-', out);
    }
    else
        return false;
    return true;
}

/* -F FORMAT: "{name}" placeholders replaced, "{{" a literal brace, "\t" a
 * tab; a name that is neither a header key nor a value prints "-". */
static void
s_print_format (FILE *out, const char *format, const char *topic, const Autofab__Envelope *env,
                uint64_t gap, uint64_t rx_ns)
{
    const ProtobufCFieldDescriptor *payload = s_payload_field (env);
    for (const char *p = format; *p; p++) {
        if (p[0] == '\\' && p[1] == 't') {
            fputc ('\t', out), p++;
            continue;
        }
        if (p[0] != '{' || p[1] == '{') {
            fputc (*p, out);
            p += p[0] == '{';
            continue;
        }
        const char *close = strchr (p, '}');
        char key[128];
        if (!close || (size_t) (close - p - 1) >= sizeof key) {
            fputs (p, out);
            break;
        }
        memcpy (key, p + 1, (size_t) (close - p - 1));
        key[close - p - 1] = 0;
        if (!s_print_header_key (out, key, topic, env, payload, gap, rx_ns)
            && !s_print_named (out, CLI_FMT_HUMAN, s_payload_msg (env, payload), key))
            fputc ('-', out);
        p = close;
    }
    fputc ('\n', out);
}

/* --field: the header's identity, then only the named values. */
static void
s_print_fields (FILE *out, const cli_print_opts_t *opts, const char *topic,
                const Autofab__Envelope *env, uint64_t gap)
{
    const ProtobufCMessage *msg = s_payload_msg (env, s_payload_field (env));
    const Autofab__Header *hdr = env ? env->header : NULL;
    if (opts->fmt == CLI_FMT_JSON) {
        fputs ("{\"topic\":", out);
        s_print_string (out, CLI_FMT_JSON, topic);
        fputs (",\"source\":", out);
        s_print_string (out, CLI_FMT_JSON, hdr && hdr->source ? hdr->source : "");
        fprintf (out, ",\"seq\":%" PRIu64 ",\"t_ns\":%" PRIu64, hdr ? hdr->seq : 0,
                 hdr ? hdr->t_ns : 0);
        if (opts->rx_ns)
            fprintf (out, ",\"rx_ns\":%" PRIu64, opts->rx_ns);
        fprintf (out, ",\"gap\":%" PRIu64 ",\"fields\":{", gap);
        for (size_t i = 0; i < opts->n_fields; i++) {
            fputs (i ? "," : "", out);
            s_print_string (out, CLI_FMT_JSON, opts->fields[i]);
            fputc (':', out);
            if (!s_print_named (out, CLI_FMT_JSON, msg, opts->fields[i]))
                fputs ("null", out);
        }
        fputs ("}}\n", out);
        return;
    }
    char when[48];
    s_print_string (out, CLI_FMT_HUMAN, topic);
    fputc (' ', out);
    s_print_string (out, CLI_FMT_HUMAN, hdr && hdr->source && *hdr->source ? hdr->source : "?");
    cli_format_time (hdr ? hdr->t_ns : 0, when, sizeof when);
    fprintf (out, "#%" PRIu64 " %s", hdr ? hdr->seq : 0, when);
    if (opts->rx_ns) {
        cli_format_time (opts->rx_ns, when, sizeof when);
        fprintf (out, " rx=%s", when);
    }
    for (size_t i = 0; i < opts->n_fields; i++) {
        fprintf (out, " %s=", opts->fields[i]);
        if (!s_print_named (out, CLI_FMT_HUMAN, msg, opts->fields[i]))
            fputc ('-', out);
    }
    if (gap)
        fprintf (out, " (gap %" PRIu64 ")", gap);
    fputc ('\n', out);
}

static void
s_print_json_envelope (FILE *out, const cli_print_opts_t *opts, const char *topic,
                       const Autofab__Envelope *env, uint64_t gap)
{
    const Autofab__Header *hdr = env ? env->header : NULL;
    const ProtobufCFieldDescriptor *payload = s_payload_field (env);
    uint64_t t_ns = hdr ? hdr->t_ns : 0;
    fputs ("{\"topic\":", out);
    s_print_string (out, CLI_FMT_JSON, topic);
    fputs (",\"source\":", out);
    s_print_string (out, CLI_FMT_JSON, hdr && hdr->source ? hdr->source : "");
    fprintf (out, ",\"seq\":%" PRIu64 ",\"t_ns\":%" PRIu64, hdr ? hdr->seq : 0, t_ns);
    /* Simulated time is marked, so nobody reads t_ns as the epoch. */
    if (hdr && t_ns < CLI_SIM_TIME_LIMIT_NS)
        fputs (",\"clock\":\"sim\"", out);
    if (opts->rx_ns)
        fprintf (out, ",\"rx_ns\":%" PRIu64, opts->rx_ns);
    if (hdr) {
        fprintf (out, ",\"session\":%" PRIu32 ",\"factory\":", hdr->session);
        s_print_string (out, CLI_FMT_JSON, hdr->factory);
        fputs (",\"msg_id\":", out);
        s_print_bytes (out, CLI_FMT_JSON, &hdr->msg_id);
    }
    fprintf (out, ",\"gap\":%" PRIu64 ",\"kind\":", gap);
    s_print_string (out, CLI_FMT_JSON, payload ? payload->name : "");
    fputs (",\"payload\":", out);
    if (payload)
        s_print_value (out, CLI_FMT_JSON, payload, (const char *) env + payload->offset, 0);
    else
        fputs ("null", out);
    fputs ("}\n", out);
}

void
cli_print_envelope_opts (FILE *out, const cli_print_opts_t *opts, const char *topic,
                         const Autofab__Envelope *env, uint64_t gap)
{
    if (opts->format) {
        s_print_format (out, opts->format, topic, env, gap, opts->rx_ns);
        return;
    }
    if (opts->n_fields) {
        s_print_fields (out, opts, topic, env, gap);
        return;
    }
    if (opts->fmt == CLI_FMT_JSON) {
        s_print_json_envelope (out, opts, topic, env, gap);
        return;
    }
    const Autofab__Header *hdr = env ? env->header : NULL;
    const char *source = hdr && hdr->source ? hdr->source : "";
    const ProtobufCFieldDescriptor *payload = s_payload_field (env);
    char when[48];
    cli_format_time (hdr ? hdr->t_ns : 0, when, sizeof when);
    s_print_string (out, CLI_FMT_HUMAN, topic);
    fputc (' ', out);
    s_print_string (out, CLI_FMT_HUMAN, *source ? source : "?");
    fprintf (out, "#%" PRIu64 " %s ", hdr ? hdr->seq : 0, when);
    if (opts->rx_ns) {
        cli_format_time (opts->rx_ns, when, sizeof when);
        fprintf (out, "rx=%s ", when);
    }
    if (payload) {
        fprintf (out, "%s ", payload->name);
        s_print_value (out, CLI_FMT_HUMAN, payload, (const char *) env + payload->offset, 0);
    }
    else
        fputs ("(empty)", out);
    if (gap)
        fprintf (out, " (gap %" PRIu64 ")", gap);
    fputc ('\n', out);
}

void
cli_print_envelope (FILE *out, cli_fmt_t fmt, const char *topic, const Autofab__Envelope *env,
                    uint64_t gap)
{
    cli_print_opts_t opts = { .fmt = fmt };
    cli_print_envelope_opts (out, &opts, topic, env, gap);
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
