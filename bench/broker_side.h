/* C entry points into kwire-broker's down-conversion for bench_convert.cc. */
#ifndef KWIRE_BENCH_BROKER_SIDE_H
#define KWIRE_BENCH_BROKER_SIDE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One v2 batch of records (keys "key-<i>", 100-byte values) with a codec; malloc'd. */
uint8_t *bench_v2_batch(int records, int codec, size_t *len);
/* The batches as legacy messages of magic: the converted size, 0 on failure. */
size_t bench_downconvert(const uint8_t *batches, size_t len, int magic);

#ifdef __cplusplus
}
#endif

#endif
