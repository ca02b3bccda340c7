/*  af_topic — topic validation and glob matching (see af_topic.h).  */
#include "af_topic.h"

#include <string.h>

static bool
s_segment_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '_' || c == '-';
}

bool
af_topic_valid (const char *topic, size_t len)
{
    if (!topic || len == 0 || len > AF_TOPIC_MAX)
        return false;
    size_t seg_len = 0;
    for (size_t i = 0; i < len; i++) {
        if (topic[i] == '.') {
            if (seg_len == 0)
                return false;
            seg_len = 0;
        }
        else if (s_segment_char (topic[i]))
            seg_len++;
        else
            return false;
    }
    return seg_len > 0;
}

bool
af_topic_pattern_valid (const char *pattern)
{
    if (!pattern)
        return false;
    size_t len = strlen (pattern);
    if (len == 0 || len > AF_TOPIC_MAX)
        return false;
    const char *seg = pattern;
    while (true) {
        const char *dot = strchr (seg, '.');
        size_t seg_len = dot ? (size_t) (dot - seg) : strlen (seg);
        if (seg_len == 0)
            return false;
        bool wild = seg_len == 1 && (*seg == '*' || *seg == '>');
        if (wild && *seg == '>' && dot)
            return false;           /* '>' only as the last segment */
        for (size_t i = 0; !wild && i < seg_len; i++)
            if (!s_segment_char (seg[i]))
                return false;
        if (!dot)
            return true;
        seg = dot + 1;
    }
}

bool
af_topic_is_literal (const char *pattern)
{
    return pattern && !strchr (pattern, '*') && !strchr (pattern, '>');
}

bool
af_topic_match (const char *pattern, const char *topic, size_t len)
{
    const char *p = pattern;
    const char *t = topic;
    const char *end = topic + len;
    while (true) {
        const char *p_dot = strchr (p, '.');
        size_t p_len = p_dot ? (size_t) (p_dot - p) : strlen (p);
        if (t >= end)
            return false;           /* pattern has more segments than topic */
        const char *t_dot = memchr (t, '.', (size_t) (end - t));
        size_t t_len = t_dot ? (size_t) (t_dot - t) : (size_t) (end - t);
        if (p_len == 1 && *p == '>')
            return true;            /* one or more remaining segments */
        if (!(p_len == 1 && *p == '*') && (p_len != t_len || memcmp (p, t, p_len) != 0))
            return false;
        if (!p_dot)                 /* pattern done: exact, or a literal prefix */
            return !t_dot || af_topic_is_literal (pattern);
        if (!t_dot)
            return false;
        p = p_dot + 1;
        t = t_dot + 1;
    }
}

size_t
af_topic_prefix (const char *pattern, char *buf, size_t buf_len)
{
    size_t len = 0;
    const char *star = strpbrk (pattern, "*>");
    len = star ? (size_t) (star - pattern) : strlen (pattern);
    if (buf_len == 0)
        return 0;
    if (len >= buf_len)
        len = buf_len - 1;
    memcpy (buf, pattern, len);
    buf[len] = 0;
    return len;
}
