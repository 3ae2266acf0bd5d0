/*
 * kwire compression: the codecs of Kafka's records, each optional. A codec
 * is there when its library was found when kwire was built
 * (kw_compression_available says); without it these functions return
 * COMPRESSION_UNSUPPORTED.
 *
 * Framing is Kafka's for each codec:
 *   gzip    a gzip stream (RFC 1952); concatenated members are accepted;
 *   snappy  written in the xerial snappy-java framing Kafka's Java client
 *           uses ("\x82SNAPPY\0", version 1, compatible 1, then blocks of
 *           int32 compressed length + snappy block, 32 KiB of input each);
 *           read in that framing or as one raw snappy block (librdkafka);
 *   lz4     an LZ4 frame (64 KiB independent blocks, no content checksum);
 *           in magic 0 messages the frame header checksum is not checked, as
 *           Kafka does (it was computed over the wrong bytes before KIP-57);
 *   zstd    zstd frames.
 *
 * Decompression writes into the caller's buffer and never past cap: the
 * output size the input declares is never trusted, so a small input that
 * expands without end (a "bomb") stops at cap with DECOMPRESSED_TOO_LARGE.
 */
#ifndef KWIRE_COMPRESS_H
#define KWIRE_COMPRESS_H

#include <stdbool.h>

#include "common.h"
#include "records.h"

#ifdef __cplusplus
extern "C" {
#endif

/** True when this build can compress and decompress codec (NONE: always). */
KW_API bool kw_compression_available(kw_compression codec);

/** Kafka's name of the codec ("none", "gzip", "snappy", "lz4", "zstd"), or "unknown". */
KW_API const char *kw_compression_name(kw_compression codec);

/**
 * The most bytes kw_compress can produce from n input bytes with codec;
 * 0 when the codec is not available or the bound does not fit size_t.
 */
KW_API size_t kw_compress_bound(kw_compression codec, size_t n);

/**
 * Compresses in into out[0..cap) in the codec's Kafka framing; *len
 * receives the compressed size. level 0 is the codec's default (gzip 6,
 * lz4 fast, zstd 3; snappy has none). NONE copies. Returns KW_OK,
 * COMPRESSION_UNSUPPORTED (not in this build, or a level gzip refuses),
 * NO_SPACE (cap is below what the codec needs; a cap of kw_compress_bound()
 * always suffices) or OUT_OF_MEMORY.
 */
KW_API kw_err kw_compress(kw_compression codec, int level, kw_slice in, uint8_t *out, size_t cap,
                          size_t *len);

/**
 * Decompresses in (safe on any bytes) into out[0..cap); *len receives the
 * decompressed size. NONE copies. Returns KW_OK, COMPRESSION_UNSUPPORTED,
 * DECOMPRESS_FAILED (corrupt, cut short, or bytes after the last frame),
 * DECOMPRESSED_TOO_LARGE (the output does not fit cap: nothing past cap
 * was written, and callers may retry with more room up to their own limit)
 * or OUT_OF_MEMORY (the codec's state).
 */
KW_API kw_err kw_decompress(kw_compression codec, kw_slice in, uint8_t *out, size_t cap,
                            size_t *len);

/**
 * The exact size kw_decompress makes of in, so the caller allocates once;
 * nothing is stored. Taken from what the codec records and checks where it
 * is cheap (zstd frame content sizes; snappy length preambles, each block
 * validated), else counted by a decompression pass into a small stack
 * buffer (gzip, whose ISIZE trailer is modulo 2^32; lz4; zstd frames
 * without a content size), stopping past limit. Returns KW_OK,
 * DECOMPRESSED_TOO_LARGE (more than limit), DECOMPRESS_FAILED,
 * COMPRESSION_UNSUPPORTED or OUT_OF_MEMORY. Decompressing the same bytes
 * into exactly *size bytes then succeeds, except that a zstd frame whose
 * content size lies fails there as corrupt. A zstd frame without a content
 * size may declare a window of up to max(limit, 8 MiB), rounded up to a
 * power of two and at most 128 MiB: what this function may allocate.
 */
KW_API kw_err kw_decompressed_size(kw_compression codec, kw_slice in, size_t limit,
                                   size_t *size);

/**
 * kw_decompressed_size of a v2 batch's records: the cap that
 * kw_record_batch_decompress needs.
 */
KW_API kw_err kw_record_batch_decompressed_size(const kw_record_batch *b, size_t limit,
                                                size_t *size);

/**
 * kw_decompressed_size of a legacy wrapper's value (magic 0 lz4 read as
 * kw_legacy_message_decompress reads it). A null value gives UNEXPECTED_NULL.
 */
KW_API kw_err kw_legacy_message_decompressed_size(const kw_legacy_message *m, size_t limit,
                                                  size_t *size);

/**
 * Decompresses the records of a v2 batch (a view from kw_batch_iter) into
 * out, as kw_decompress does with the batch's codec. Walk the result with
 * kw_record_iter_init_raw(it, (kw_slice){out, *len}, b->record_count, 0).
 * An uncompressed batch's records are copied.
 */
KW_API kw_err kw_record_batch_decompress(const kw_record_batch *b, uint8_t *out, size_t cap,
                                         size_t *len);

/**
 * Decompresses the value of a legacy wrapper message (the inner message
 * set, to walk with kw_batch_iter) into out, as kw_decompress does. A null
 * value gives UNEXPECTED_NULL.
 */
KW_API kw_err kw_legacy_message_decompress(const kw_legacy_message *m, uint8_t *out, size_t cap,
                                           size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* KWIRE_COMPRESS_H */
