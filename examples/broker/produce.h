/* Produce's decompression buffer (produce.c), kept by the broker between requests. */
#ifndef KWIRE_BROKER_PRODUCE_H
#define KWIRE_BROKER_PRODUCE_H

#include <stddef.h>
#include <stdint.h>

struct bk_broker;
uint8_t *bk_decompress_buffer(struct bk_broker *br, size_t cap);
/** Gives a large decompression buffer back after a request. */
void bk_decompress_buffer_trim(struct bk_broker *br);

#endif /* KWIRE_BROKER_PRODUCE_H */
