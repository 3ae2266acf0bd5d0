/*
 * kwire record builder: record batches v2 (KIP-98) and legacy messages
 * (magic 0 and 1), written back to front with kw_builder.
 *
 * A batch is written last byte first: the records from the last to the
 * first, then the header fields after record_count down to attributes, then
 * the CRC-32C of what is already there (attributes .. end, the region the
 * view checks), then magic, partition_leader_epoch, batch_length and
 * base_offset. Every length and checksum is known when it is written.
 *
 * An uncompressed batch into a builder over a caller buffer allocates
 * nothing. A compressed batch (a codec in the attributes) first writes its
 * records into a scratch builder and compresses them (see compress.h for
 * which codecs this build has): the one place a builder may allocate.
 */
#ifndef KWIRE_RECORD_BUILDER_H
#define KWIRE_RECORD_BUILDER_H

#include "builder.h"
#include "compress.h"
#include "records.h"

#ifdef __cplusplus
extern "C" {
#endif

/** kw_batch_spec.last_offset_delta: the highest offset_delta of the records (0 for none). */
#define KW_LAST_OFFSET_DELTA_AUTO INT32_MIN
/**
 * kw_batch_spec.max_timestamp: base_timestamp plus the highest
 * timestamp_delta of the records (-1, Kafka's "no timestamp", for none).
 */
#define KW_MAX_TIMESTAMP_AUTO INT64_MIN

/** One record of a v2 batch, as the caller describes it. */
typedef struct kw_record_spec {
    int64_t timestamp_delta; /* from the batch's base_timestamp */
    int32_t offset_delta;    /* from the batch's base_offset */
    int8_t attributes;       /* unused by Kafka so far: 0 */
    kw_slice key;            /* ptr NULL: a null key */
    kw_slice value;          /* ptr NULL: a null value (a tombstone) */
    const kw_record_header *headers; /* header_count of them; keys must not be null */
    int32_t header_count;
} kw_record_spec;

/** The header of a v2 batch. kw_batch_spec_default() fills the usual values. */
typedef struct kw_batch_spec {
    int64_t base_offset;
    int32_t partition_leader_epoch; /* -1 from producers */
    /* codec (bits 0-2), timestamp type, transactional, control, delete horizon */
    int16_t attributes;
    int32_t last_offset_delta;      /* or KW_LAST_OFFSET_DELTA_AUTO */
    int64_t base_timestamp;
    int64_t max_timestamp;          /* or KW_MAX_TIMESTAMP_AUTO */
    int64_t producer_id;            /* -1 when none */
    int16_t producer_epoch;         /* -1 when none */
    int32_t base_sequence;          /* -1 when none */
    /* Build options, not batch fields: */
    int compression_level;          /* 0: the codec's default */
    /*
     * Keys and values (of records and of headers) of at least lend_min
     * bytes are lent to the output (kw_build_reference) instead of copied;
     * 0 copies everything. Lending needs segment room in a caller-buffer
     * builder. Ignored when compressing.
     */
    size_t lend_min;
} kw_batch_spec;

/**
 * A spec with everything zero except what Kafka marks as absent: leader
 * epoch, producer id, epoch and sequence -1; last_offset_delta and
 * max_timestamp computed from the records.
 */
static inline kw_batch_spec kw_batch_spec_default(void)
{
    kw_batch_spec s = {0, -1, 0, KW_LAST_OFFSET_DELTA_AUTO, 0, KW_MAX_TIMESTAMP_AUTO,
                       -1, -1, -1, 0, 0};
    return s;
}

/**
 * Bytes the records take uncompressed (the region after the 61-byte batch
 * header), into *size. Returns KW_OK, TOO_LONG (a key, value, record or the
 * sum too long for its length field) or UNEXPECTED_NULL (a null header key).
 */
KW_API kw_err kw_records_size(const kw_record_spec *records, size_t count, size_t *size);

/**
 * Writes the records region, last record first, in front of what b holds:
 * each record is its length varint, attributes, timestamp delta, offset
 * delta, key, value and headers. The batch header is not written. Keys and
 * values of at least lend_min bytes are lent, as kw_batch_spec.lend_min
 * says (0: copy all). Returns b's error: KW_OK, NO_SPACE or OUT_OF_MEMORY,
 * TOO_LONG, UNEXPECTED_NULL.
 */
KW_API kw_err kw_build_records_region(kw_builder *b, const kw_record_spec *records, size_t count,
                                      size_t lend_min);

/**
 * Writes one record batch v2 in front of what b holds. record_count is
 * count. With a codec in spec->attributes the records are compressed as
 * kw_build_record_batch_compressed does with no scratch (allocating).
 * Returns b's error (sticky: if b had failed already, nothing is written);
 * besides the builder's own, COMPRESSION_UNSUPPORTED for a codec that is
 * not assigned or not built in, TOO_LONG when count exceeds INT32_MAX.
 */
KW_API kw_err kw_build_record_batch(kw_builder *b, const kw_batch_spec *spec,
                                    const kw_record_spec *records, size_t count);

/**
 * Writes one record batch v2 whose records are compressed with the codec
 * in spec->attributes (NONE: as kw_build_record_batch). The records are
 * first written into scratch, which is reset; its storage then also holds
 * the compressed bytes when there is room for kw_compress_bound() of them
 * in front of the records. So a caller-buffer scratch of at least
 * kw_records_size() + kw_compress_bound() bytes makes the build allocate
 * nothing but the codec's own state; scratch NULL allocates one buffer of
 * that size and frees it. A scratch that fails (too small) fails b with
 * its error.
 */
KW_API kw_err kw_build_record_batch_compressed(kw_builder *b, const kw_batch_spec *spec,
                                               const kw_record_spec *records, size_t count,
                                               kw_builder *scratch);

/**
 * Writes one legacy message (magic 0 or 1) in front of what b holds:
 * offset, message_size, CRC-32 of magic .. end, magic, attributes, the
 * timestamp (magic 1 only; ignored for 0), key and value (ptr NULL: null).
 * A message set is a run of them: write its messages last first, as
 * everything else in a builder. For a compressed wrapper, value is the
 * compressed inner message set (kw_compress) and offset is that of the
 * last inner message. Returns b's error; a magic other than 0 or 1 latches
 * BAD_MAGIC.
 */
KW_API kw_err kw_build_legacy_message(kw_builder *b, int8_t magic, int64_t offset,
                                      int8_t attributes, int64_t timestamp, kw_slice key,
                                      kw_slice value);

#ifdef __cplusplus
}
#endif

#endif /* KWIRE_RECORD_BUILDER_H */
