/*  fuzz_control — libFuzzer target: every control message (the Control
 *  oneof carries them all), decoded as the broker and clients do, and a
 *  decoded one packed again.  */
#include <stdint.h>
#include <stdlib.h>

#include "af_codec.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    Autofab__Control *ctl;
    if (af_control_decode (data, size, AF_MAX_MSG_BYTES, &ctl) != AF_DECODE_OK)
        return 0;
    size_t len = autofab__control__get_packed_size (ctl);
    uint8_t *out = malloc (len ? len : 1);
    if (out)
        autofab__control__pack (ctl, out);
    free (out);
    autofab__control__free_unpacked (ctl, NULL);
    return 0;
}
