/*
 * Seeded instances of any described message: wire bytes written straight
 * from kw_message_info, independent of the generated decoders and encoders
 * they test. Shared by the message suite and the Java oracle.
 */
#ifndef KWT_SYNTH_H
#define KWT_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kwire/message.h"

enum {
    /* Some known tagged fields left out, and sometimes a tag the definitions do not know. */
    KWT_SYNTH_SOME_TAGS = 0u,
    /*
     * Every tagged field present, never null, never its default (Kafka's
     * generated classes write a tagged field only when it differs from its
     * default, so only then do the bytes survive their decode and encode),
     * and no unknown tags.
     */
    KWT_SYNTH_ALL_TAGS = 1u,
};

typedef struct kwt_synth {
    uint8_t *data;
    size_t cap, len;
    bool overflow; /* the message did not fit in cap */
    uint64_t rng;
    unsigned flags;
} kwt_synth;

void kwt_synth_init(kwt_synth *s, uint8_t *buf, size_t cap, uint64_t seed, unsigned flags);

/* Writes one instance of m at version v from the start of the buffer; false if it overflowed. */
bool kwt_synth_message(kwt_synth *s, const kw_message_info *m, int16_t v);

#endif
