/* __cluster_metadata-0 (metadata_log.c): the KRaft records of topics and
 * producer id blocks. */
#ifndef KWIRE_BROKER_METADATA_LOG_H
#define KWIRE_BROKER_METADATA_LOG_H

#include "topics.h"

int bk_metadata_open(bk_broker *br);
int bk_metadata_append_topic(bk_broker *br, const bk_topic *t, int32_t first_partition);
int bk_metadata_append_remove_topic(bk_broker *br, const kw_uuid *id);
/** Records that producer ids below next are handed out (a ProducerIdsRecord). */
int bk_metadata_append_producer_ids(bk_broker *br, int64_t next);
/** Replays the metadata log: topic name, id and partition count per topic. */
typedef struct bk_meta_topic {
    char *name;
    kw_uuid id;
    int32_t partitions;
    bool removed;
    bk_kv *configs;
    size_t nconfigs;
} bk_meta_topic;
int bk_metadata_replay(bk_broker *br, bk_meta_topic **out, size_t *n);
void bk_meta_topics_free(bk_meta_topic *t, size_t n);

#endif /* KWIRE_BROKER_METADATA_LOG_H */
