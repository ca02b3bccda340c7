/*  af_topic — topic names and patterns (DESIGN §2).
 *
 *  A topic is dot-separated, general to specific:
 *  <class>.<factory>.<cell>.<agent>.<kind>, each segment made of letters,
 *  digits, '_' and '-'.  A pattern may use '*' for exactly one segment and
 *  '>' (last segment only) for one or more remaining segments, as NATS does:
 *  "alm.*.cell3.>".  A pattern without wildcards matches that topic and
 *  everything below it ("tel.f1" matches "tel.f1.c2.line.speed").
 */
#ifndef AF_TOPIC_H
#define AF_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#define AF_TOPIC_MAX 255
#define AF_TOPIC_MAX_BYTES (AF_TOPIC_MAX + 1)

/* True if TOPIC (LEN bytes, not necessarily NUL-terminated) is a valid
 * concrete topic: no wildcards, no empty segment, at most AF_TOPIC_MAX bytes. */
bool af_topic_valid (const char *topic, size_t len);
/* True if PATTERN is a valid pattern. */
bool af_topic_pattern_valid (const char *pattern);
/* True if TOPIC (LEN bytes) matches PATTERN. */
bool af_topic_match (const char *pattern, const char *topic, size_t len);
/* Writes the longest literal prefix of PATTERN to subscribe to with ZeroMQ
 * prefix matching ("alm.*.c3.>" → "alm.") into BUF; returns its length. */
size_t af_topic_prefix (const char *pattern, char *buf, size_t buf_len);
/* True if PATTERN has no wildcards (ZeroMQ's prefix filter is not enough:
 * "tel.a" would also match "tel.ab", so clients still filter). */
bool af_topic_is_literal (const char *pattern);

#endif
