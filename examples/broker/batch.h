/* Record batches the broker writes itself (batch.c). */
#ifndef KWIRE_BROKER_BATCH_H
#define KWIRE_BROKER_BATCH_H

#include "kwire/kwire.h"

typedef struct bk_rec {
    kw_slice key;           /* ptr NULL: null */
    kw_slice value;         /* ptr NULL: null (a tombstone) */
} bk_rec;
/** An uncompressed v2 batch of n records into a malloc'd buffer; NULL on failure. */
uint8_t *bk_batch_build(const bk_rec *recs, size_t n, int64_t timestamp, size_t *len);

#endif /* KWIRE_BROKER_BATCH_H */
