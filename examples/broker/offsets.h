/* Committed group offsets in __consumer_offsets-0 (offsets.c). */
#ifndef KWIRE_BROKER_OFFSETS_H
#define KWIRE_BROKER_OFFSETS_H

#include "groups.h"

int bk_offsets_open(bk_broker *br);
int bk_offsets_store(bk_broker *br, bk_group *g, const bk_offset_entry *e, size_t n);
int bk_offsets_delete_group(bk_broker *br, bk_group *g);

#endif /* KWIRE_BROKER_OFFSETS_H */
