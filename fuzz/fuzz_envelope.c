/*  fuzz_envelope — libFuzzer target: a pub/sub body as every receiver
 *  takes it (a batch or one envelope): the relay's peek and wire check, and
 *  the subscriber's full decode of each record.  */
#include <stdint.h>
#include <stdlib.h>

#include "af_codec.h"
#include "af_wire.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    af_batch_iter_t it;
    af_body_iter_init (&it, data, size);
    const uint8_t *rec;
    size_t len;
    while (af_batch_next (&it, &rec, &len) == 1) {
        af_peek_t peek;
        af_envelope_peek (rec, len, &peek);
        af_wire_check (&autofab__envelope__descriptor, rec, len, NULL);
        Autofab__Envelope *env;
        if (af_envelope_decode (rec, len, AF_MAX_MSG_BYTES, &env) == AF_DECODE_OK)
            autofab__envelope__free_unpacked (env, NULL);
    }
    return 0;
}
