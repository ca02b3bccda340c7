/*  Unit tests: af_json — strings always come out as valid JSON that is also
 *  safe inside an HTML <script>, and af_utf8_len tells UTF-8 from the rest. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_json.h"

static char *
s_json (const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    af_json_string (f, text);
    fclose (f);
    return buf;
}

Test (json, strings_are_escaped_and_valid)
{
    const struct {
        const char *in, *out;
    } cases[] = {
        { "plain", "\"plain\"" },
        { "q\"b\\", "\"q\\\"b\\\\\"" },
        { "a\nb\x01", "\"a\\nb\\u0001\"" },
        { "</script>&", "\"\\u003c/script\\u003e\\u0026\"" },
        { "degC \xc2\xb0 \xe2\x82\xac \xf0\x9f\x94\xa7", "\"degC \xc2\xb0 \xe2\x82\xac \xf0\x9f\x94\xa7\"" },
        { "bad \xff end", "\"bad \\ufffd end\"" },
        { "cut \xe2\x82", "\"cut \\ufffd\\ufffd\"" },
        { "overlong \xc0\xaf", "\"overlong \\ufffd\\ufffd\"" },
        { "surrogate \xed\xa0\x80", "\"surrogate \\ufffd\\ufffd\\ufffd\"" },
        { NULL, "\"\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = s_json (cases[i].in);
        cr_assert_str_eq (got, cases[i].out, "case %zu", i);
        free (got);
    }
}

Test (json, utf8_lengths)
{
    cr_assert_eq (af_utf8_len ((const unsigned char *) "a", 1), 1);
    cr_assert_eq (af_utf8_len ((const unsigned char *) "\xc2\xb0", 2), 2);
    cr_assert_eq (af_utf8_len ((const unsigned char *) "\xc2\xb0", 1), 0, "truncated");
    cr_assert_eq (af_utf8_len ((const unsigned char *) "\xe2\x82\xac", 3), 3);
    cr_assert_eq (af_utf8_len ((const unsigned char *) "\xf0\x9f\x94\xa7", 4), 4);
    cr_assert_eq (af_utf8_len ((const unsigned char *) "\xf4\x90\x80\x80", 4), 0, "past U+10FFFF");
    cr_assert_eq (af_utf8_len ((const unsigned char *) "\xe0\x80\xaf", 3), 0, "overlong");
    cr_assert_eq (af_utf8_len ((const unsigned char *) "\x80", 1), 0, "continuation byte");
}
