/*
 * Kafka's compression codecs over the libraries found at build time
 * (codecs/kw_codecs.h says which). Decompression never trusts a size the
 * input declares: output goes to the caller's buffer and stops at its end.
 * The decompressors take out == NULL to count: the output goes through a
 * scratch buffer on the stack, cap is the most they count, and *len the count.
 */
#include "kwire/compress.h"
#include "kwire/cursor.h"

#include <limits.h>
#include <string.h>

#include "codecs/kw_codecs.h"

#if KW_HAVE_ZLIB
#define ZLIB_CONST
#include <zlib.h>
#endif
#if KW_HAVE_SNAPPY
#include <snappy-c.h>
#endif
#if KW_HAVE_LZ4
#include <lz4frame.h>
#endif
#if KW_HAVE_ZSTD
#include <zstd.h>
#include <zstd_errors.h>
#endif

bool kw_compression_available(kw_compression codec)
{
    switch (codec) {
    case KW_COMPRESSION_NONE: return true;
    case KW_COMPRESSION_GZIP: return KW_HAVE_ZLIB;
    case KW_COMPRESSION_SNAPPY: return KW_HAVE_SNAPPY;
    case KW_COMPRESSION_LZ4: return KW_HAVE_LZ4;
    case KW_COMPRESSION_ZSTD: return KW_HAVE_ZSTD;
    }
    return false;
}

const char *kw_compression_name(kw_compression codec)
{
    switch (codec) {
    case KW_COMPRESSION_NONE: return "none";
    case KW_COMPRESSION_GZIP: return "gzip";
    case KW_COMPRESSION_SNAPPY: return "snappy";
    case KW_COMPRESSION_LZ4: return "lz4";
    case KW_COMPRESSION_ZSTD: return "zstd";
    }
    return "unknown";
}

/* Counting passes decompress into this much stack, over and over. */
#define KW_COUNT_SCRATCH 4096u

/* Copies in to out (NONE). */
static kw_err copy_bytes(kw_slice in, uint8_t *out, size_t cap, size_t *len, kw_err too_small)
{
    if (in.len > cap)
        return too_small;
    if (in.len)
        memcpy(out, in.ptr, in.len);
    *len = in.len;
    return KW_OK;
}

/* ---- gzip --------------------------------------------------------------------- */

#if KW_HAVE_ZLIB
/* zlib counts in uInt: feed and drain in pieces of at most this. */
static uInt z_piece(size_t n) { return n > UINT_MAX ? UINT_MAX : (uInt)n; }

static size_t gzip_bound(size_t n)
{
    /* compressBound covers zlib's 6-byte wrapper; gzip's is 18, plus slack */
    if (n > SIZE_MAX / 2 || n > (uLong)-1 / 2)
        return 0;
    return (size_t)compressBound((uLong)n) + 32;
}

static kw_err gzip_compress(int level, kw_slice in, uint8_t *out, size_t cap, size_t *len)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    /* windowBits 16 + 15: a gzip wrapper, as Java's GZIPOutputStream writes */
    int rc = deflateInit2(&s, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 16 + 15, 8,
                          Z_DEFAULT_STRATEGY);
    if (rc == Z_MEM_ERROR)
        return KW_ERR_OUT_OF_MEMORY;
    if (rc != Z_OK)
        return KW_ERR_COMPRESSION_UNSUPPORTED; /* a level zlib refuses */
    const uint8_t *ip = in.ptr;
    size_t il = in.len, ol = cap;
    uint8_t *op = out;
    kw_err e = KW_OK;
    for (;;) {
        uInt ai = z_piece(il), ao = z_piece(ol);
        s.next_in = ip;
        s.avail_in = ai;
        s.next_out = op;
        s.avail_out = ao;
        rc = deflate(&s, ai == il ? Z_FINISH : Z_NO_FLUSH);
        ip += ai - s.avail_in;
        il -= ai - s.avail_in;
        op += ao - s.avail_out;
        ol -= ao - s.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_OK || rc == Z_BUF_ERROR) {
            if (s.avail_out == 0 && ol == 0) {
                e = KW_ERR_NO_SPACE;
                break;
            }
            continue;
        }
        e = KW_ERR_OUT_OF_MEMORY;
        break;
    }
    deflateEnd(&s);
    if (e == KW_OK)
        *len = cap - ol;
    return e;
}

static kw_err gzip_decompress(kw_slice in, uint8_t *out, size_t cap, size_t *len)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    int rc = inflateInit2(&s, 16 + 15); /* gzip only */
    if (rc != Z_OK)
        return KW_ERR_OUT_OF_MEMORY;
    const uint8_t *ip = in.ptr;
    size_t il = in.len, ol = cap;
    uint8_t *op = out;
    uint8_t probe, scratch[KW_COUNT_SCRATCH];
    kw_err e;
    for (;;) {
        /* with out full, one more byte of room tells "ends here" from "more to come" */
        bool probing = ol == 0;
        uInt ai = z_piece(il);
        uInt ao = probing ? 1 : out ? z_piece(ol) : z_piece(ol < sizeof scratch ? ol : sizeof scratch);
        s.next_in = ip;
        s.avail_in = ai;
        s.next_out = probing ? &probe : out ? op : scratch;
        s.avail_out = ao;
        rc = inflate(&s, Z_NO_FLUSH);
        size_t used = ai - s.avail_in, made = ao - s.avail_out;
        ip += used;
        il -= used;
        if (probing) {
            if (made > 0) {
                e = KW_ERR_DECOMPRESSED_TOO_LARGE;
                break;
            }
        } else {
            if (out)
                op += made;
            ol -= made;
        }
        if (rc == Z_STREAM_END) {
            if (il == 0) {
                e = KW_OK;
                break;
            }
            /* another gzip member may follow (Java's GZIPInputStream reads them all) */
            if (il >= 2 && ip[0] == 0x1f && ip[1] == 0x8b && inflateReset(&s) == Z_OK)
                continue;
            e = KW_ERR_DECOMPRESS_FAILED;
            break;
        }
        if (rc == Z_OK && (used > 0 || made > 0))
            continue;
        /* no progress: input cut short, or corrupt (Z_DATA_ERROR, Z_NEED_DICT ...) */
        e = rc == Z_MEM_ERROR ? KW_ERR_OUT_OF_MEMORY : KW_ERR_DECOMPRESS_FAILED;
        break;
    }
    inflateEnd(&s);
    if (e == KW_OK)
        *len = cap - ol;
    return e;
}
#endif

/* ---- snappy ----------------------------------------------------------------------- */

#if KW_HAVE_SNAPPY
/* xerial snappy-java: magic, then int32 version 1 and int32 compatible version 1. */
static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER 16u
#define XERIAL_BLOCK (32u * 1024u) /* snappy-java's default block size */

static size_t snappy_bound(size_t n)
{
    if (n > SIZE_MAX / 4)
        return 0;
    /* per block: its int32 length and snappy's worst case for the block */
    size_t full = n / XERIAL_BLOCK, rest = n % XERIAL_BLOCK;
    return XERIAL_HEADER + full * (4 + snappy_max_compressed_length(XERIAL_BLOCK)) +
           (rest ? 4 + snappy_max_compressed_length(rest) : 0);
}

static kw_err snappy_xerial_compress(kw_slice in, uint8_t *out, size_t cap, size_t *len)
{
    if (cap < XERIAL_HEADER)
        return KW_ERR_NO_SPACE;
    memcpy(out, xerial_magic, 8);
    kw_store_be32(out + 8, 1);
    kw_store_be32(out + 12, 1);
    size_t at = XERIAL_HEADER;
    for (size_t done = 0; done < in.len;) {
        size_t n = in.len - done < XERIAL_BLOCK ? in.len - done : XERIAL_BLOCK;
        size_t room = cap - at;
        if (room < 4 || room - 4 < snappy_max_compressed_length(n))
            return KW_ERR_NO_SPACE;
        size_t clen = room - 4;
        if (snappy_compress((const char *)in.ptr + done, n, (char *)out + at + 4, &clen) !=
            SNAPPY_OK)
            return KW_ERR_NO_SPACE;
        kw_store_be32(out + at, (uint32_t)clen);
        at += 4 + clen;
        done += n;
    }
    *len = at;
    return KW_OK;
}

/* One raw snappy block into out[*at .. cap). */
static kw_err snappy_block(const uint8_t *p, size_t n, uint8_t *out, size_t cap, size_t *at)
{
    size_t ulen;
    if (snappy_uncompressed_length((const char *)p, n, &ulen) != SNAPPY_OK)
        return KW_ERR_DECOMPRESS_FAILED;
    /* ulen is only what the block claims; snappy_uncompress checks it as it goes */
    if (ulen > cap - *at)
        return KW_ERR_DECOMPRESSED_TOO_LARGE;
    if (out == NULL) {
        /* counting: the block must decode to exactly ulen bytes, as snappy_uncompress checks */
        if (snappy_validate_compressed_buffer((const char *)p, n) != SNAPPY_OK)
            return KW_ERR_DECOMPRESS_FAILED;
        *at += ulen;
        return KW_OK;
    }
    size_t room = cap - *at;
    if (snappy_uncompress((const char *)p, n, (char *)out + *at, &room) != SNAPPY_OK ||
        room != ulen)
        return KW_ERR_DECOMPRESS_FAILED;
    *at += ulen;
    return KW_OK;
}

static kw_err snappy_decompress(kw_slice in, uint8_t *out, size_t cap, size_t *len)
{
    const uint8_t *p = in.ptr;
    size_t n = in.len, at = 0;
    /* the xerial magic, or as much of it as there are bytes: a cut header fails below */
    size_t head = n < sizeof xerial_magic ? n : sizeof xerial_magic;
    if (n == 0 || memcmp(p, xerial_magic, head) != 0) {
        /* a raw block, as librdkafka writes */
        kw_err e = snappy_block(p, n, out, cap, &at);
        if (e == KW_OK)
            *len = at;
        return e;
    }
    size_t pos = 0;
    while (pos < n) {
        size_t left = n - pos;
        /* a stream header, first or of a concatenated stream; a block length never starts 0x82 */
        if (p[pos] == xerial_magic[0]) {
            if (left < XERIAL_HEADER || memcmp(p + pos, xerial_magic, sizeof xerial_magic) != 0)
                return KW_ERR_DECOMPRESS_FAILED;
            pos += XERIAL_HEADER;
            continue;
        }
        if (left < 4)
            return KW_ERR_DECOMPRESS_FAILED;
        uint32_t blen = (uint32_t)p[pos] << 24 | (uint32_t)p[pos + 1] << 16 |
                        (uint32_t)p[pos + 2] << 8 | p[pos + 3];
        if (blen > left - 4)
            return KW_ERR_DECOMPRESS_FAILED;
        kw_err e = snappy_block(p + pos + 4, blen, out, cap, &at);
        if (e != KW_OK)
            return e;
        pos += 4 + (size_t)blen;
    }
    *len = at;
    return KW_OK;
}
#endif

/* ---- lz4 ---------------------------------------------------------------------------- */

#if KW_HAVE_LZ4
/* Kafka's Java client reads 64 KiB independent blocks; no content checksum, as it writes. */
static LZ4F_preferences_t lz4_prefs(int level)
{
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    prefs.frameInfo.frameType = LZ4F_frame;
    prefs.compressionLevel = level;
    return prefs;
}

static size_t lz4_bound(size_t n)
{
    if (n > SIZE_MAX / 4)
        return 0;
    LZ4F_preferences_t prefs = lz4_prefs(0);
    return LZ4F_compressFrameBound(n, &prefs);
}

static kw_err lz4_compress(int level, kw_slice in, uint8_t *out, size_t cap, size_t *len)
{
    LZ4F_preferences_t prefs = lz4_prefs(level);
    size_t r = LZ4F_compressFrame(out, cap, in.ptr, in.len, &prefs);
    if (LZ4F_isError(r))
        return cap < LZ4F_compressFrameBound(in.len, &prefs) ? KW_ERR_NO_SPACE
                                                             : KW_ERR_OUT_OF_MEMORY;
    *len = r;
    return KW_OK;
}

/* Reads the pieces one after the other as one input (a patched frame header, then the rest). */
static kw_err lz4_decompress_pieces(const kw_slice *pieces, size_t npieces, uint8_t *out,
                                    size_t cap, size_t *len)
{
    size_t k = 0;
    const uint8_t *ip = pieces[0].ptr;
    size_t il = pieces[0].len, ol = cap;
    if (il == 0 && npieces == 1)
        return KW_ERR_DECOMPRESS_FAILED;
    LZ4F_dctx *d;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
        return KW_ERR_OUT_OF_MEMORY;
    uint8_t *op = out;
    uint8_t probe, scratch[KW_COUNT_SCRATCH];
    kw_err e;
    for (;;) {
        while (il == 0 && k + 1 < npieces) {
            k++;
            ip = pieces[k].ptr;
            il = pieces[k].len;
        }
        bool last = k + 1 == npieces;
        /* with out full, one more byte of room tells "ends here" from "more to come" */
        bool probing = ol == 0;
        size_t made = probing ? 1 : out ? ol : ol < sizeof scratch ? ol : sizeof scratch;
        size_t room = made, used = il;
        size_t r = LZ4F_decompress(d, probing ? &probe : out ? op : scratch, &made, ip, &used, NULL);
        if (LZ4F_isError(r)) {
            e = KW_ERR_DECOMPRESS_FAILED;
            break;
        }
        ip += used;
        il -= used;
        if (probing) {
            if (made > 0) {
                e = KW_ERR_DECOMPRESSED_TOO_LARGE;
                break;
            }
        } else {
            if (out)
                op += made;
            ol -= made;
        }
        /* r == 0: a frame ended; more input is another frame */
        if (r == 0 && il == 0 && last) {
            e = KW_OK;
            break;
        }
        /* the frame wants more input and there is none (room left over), or nothing moved */
        if ((il == 0 && last && (made < room || probing)) || (used == 0 && made == 0)) {
            e = KW_ERR_DECOMPRESS_FAILED;
            break;
        }
    }
    LZ4F_freeDecompressionContext(d);
    if (e == KW_OK)
        *len = cap - ol;
    return e;
}

static kw_err lz4_decompress(kw_slice in, uint8_t *out, size_t cap, size_t *len)
{
    return lz4_decompress_pieces(&in, 1, out, cap, len);
}

static uint32_t rotl32(uint32_t x, unsigned r) { return x << r | x >> (32 - r); }

/* XXH32 (the xxHash spec) of fewer than 16 bytes: all a frame descriptor can be. */
static uint32_t xxh32_short(const uint8_t *p, size_t n)
{
    const uint32_t p1 = 0x9E3779B1u, p2 = 0x85EBCA77u, p3 = 0xC2B2AE3Du, p4 = 0x27D4EB2Fu,
                   p5 = 0x165667B1u;
    uint32_t acc = p5 + (uint32_t)n; /* seed 0 */
    for (; n >= 4; p += 4, n -= 4) {
        uint32_t lane = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                        (uint32_t)p[3] << 24;
        acc = rotl32(acc + lane * p3, 17) * p4;
    }
    for (; n > 0; p++, n--)
        acc = rotl32(acc + p[0] * p5, 11) * p1;
    acc ^= acc >> 15;
    acc *= p2;
    acc ^= acc >> 13;
    acc *= p3;
    acc ^= acc >> 16;
    return acc;
}

/*
 * Kafka before KIP-57 computed the frame header checksum over the wrong
 * bytes, and Kafka still reads magic 0 messages without checking it: put
 * the right one in a copy of the header and read the rest in place.
 */
static kw_err lz4_decompress_magic0(kw_slice in, uint8_t *out, size_t cap, size_t *len)
{
    static const uint8_t frame_magic[4] = {0x04, 0x22, 0x4d, 0x18};
    if (in.len < 7 || memcmp(in.ptr, frame_magic, 4) != 0)
        return lz4_decompress(in, out, cap, len);
    uint8_t flg = in.ptr[4];
    /* magic, FLG, BD, content size (FLG bit 3), dictionary id (FLG bit 0), HC */
    size_t hlen = 7 + (flg & 0x08 ? 8u : 0u) + (flg & 0x01 ? 4u : 0u);
    if (in.len < hlen)
        return KW_ERR_DECOMPRESS_FAILED;
    uint8_t head[19];
    memcpy(head, in.ptr, hlen);
    head[hlen - 1] = (uint8_t)(xxh32_short(head + 4, hlen - 5) >> 8);
    kw_slice pieces[2] = {{head, hlen}, {in.ptr + hlen, in.len - hlen}};
    return lz4_decompress_pieces(pieces, 2, out, cap, len);
}
#endif

/* ---- zstd ------------------------------------------------------------------------------ */

#if KW_HAVE_ZSTD
static size_t zstd_bound(size_t n)
{
    if (n > SIZE_MAX / 4)
        return 0;
    size_t b = ZSTD_compressBound(n);
    return ZSTD_isError(b) ? 0 : b;
}

static kw_err zstd_compress(int level, kw_slice in, uint8_t *out, size_t cap, size_t *len)
{
    size_t r = ZSTD_compress(out, cap, in.ptr, in.len, level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
    if (ZSTD_isError(r))
        return ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall ? KW_ERR_NO_SPACE
                                                                     : KW_ERR_OUT_OF_MEMORY;
    *len = r;
    return KW_OK;
}

static kw_err zstd_error(size_t r)
{
    switch (ZSTD_getErrorCode(r)) {
    case ZSTD_error_dstSize_tooSmall: return KW_ERR_DECOMPRESSED_TOO_LARGE;
    case ZSTD_error_memory_allocation: return KW_ERR_OUT_OF_MEMORY;
    default: return KW_ERR_DECOMPRESS_FAILED;
    }
}

/*
 * Counts what the frames make, up to cap, keeping none of it. Streaming
 * needs a window buffer as large as a frame declares: frames may declare
 * up to max(cap, 8 MiB) (windowLog 23, past what Kafka's clients write),
 * so what a hostile frame can make us allocate stays bounded.
 */
static kw_err zstd_count(kw_slice in, size_t cap, size_t *len)
{
    int wlog = 23;
    while (wlog < 27 && ((size_t)1 << wlog) < cap)
        wlog++;
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (d == NULL)
        return KW_ERR_OUT_OF_MEMORY;
    size_t r = ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, wlog);
    ZSTD_inBuffer ib = {in.ptr, in.len, 0};
    uint8_t scratch[KW_COUNT_SCRATCH];
    size_t total = 0;
    kw_err e = KW_OK;
    while (!ZSTD_isError(r)) {
        ZSTD_outBuffer ob = {scratch, sizeof scratch, 0};
        size_t before = ib.pos;
        r = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(r))
            break;
        if (ob.pos > cap - total) {
            e = KW_ERR_DECOMPRESSED_TOO_LARGE;
            break;
        }
        total += ob.pos;
        /* r == 0: a frame ended and is flushed; more input is another frame */
        if (r == 0 && ib.pos == ib.size)
            break;
        /* input used up mid-frame (cut short), or no progress at all */
        if ((ib.pos == ib.size && ob.pos < ob.size) || (ib.pos == before && ob.pos == 0)) {
            e = KW_ERR_DECOMPRESS_FAILED;
            break;
        }
    }
    ZSTD_freeDCtx(d);
    if (ZSTD_isError(r))
        e = ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge
                ? KW_ERR_DECOMPRESSED_TOO_LARGE
                : zstd_error(r);
    if (e == KW_OK)
        *len = total;
    return e;
}

/*
 * The sum of the frames' content sizes; a frame without one sends the
 * whole input through zstd_count. A content size that lies is caught by
 * ZSTD_decompress (the frame is corrupt), so it may be taken as it is.
 */
static kw_err zstd_size(kw_slice in, size_t cap, size_t *len)
{
    if (in.len == 0)
        return KW_ERR_DECOMPRESS_FAILED;
    size_t pos = 0, total = 0;
    while (pos < in.len) {
        unsigned long long fcs = ZSTD_getFrameContentSize(in.ptr + pos, in.len - pos);
        if (fcs == ZSTD_CONTENTSIZE_UNKNOWN)
            return zstd_count(in, cap, len);
        if (fcs == ZSTD_CONTENTSIZE_ERROR)
            return KW_ERR_DECOMPRESS_FAILED;
        size_t flen = ZSTD_findFrameCompressedSize(in.ptr + pos, in.len - pos);
        if (ZSTD_isError(flen) || flen == 0)
            return KW_ERR_DECOMPRESS_FAILED;
        if (fcs > cap - total)
            return KW_ERR_DECOMPRESSED_TOO_LARGE;
        total += (size_t)fcs;
        pos += flen;
    }
    *len = total;
    return KW_OK;
}

static kw_err zstd_decompress(kw_slice in, uint8_t *out, size_t cap, size_t *len)
{
    /*
     * One shot: the output buffer is the window, so nothing is allocated by
     * what a frame header claims, and a frame without a content size that
     * overruns cap stops with dstSize_tooSmall.
     */
    uint8_t none;
    size_t r = ZSTD_decompress(out ? (void *)out : &none, cap, in.ptr, in.len);
    if (!ZSTD_isError(r)) {
        if (in.len == 0)
            return KW_ERR_DECOMPRESS_FAILED;
        *len = r;
        return KW_OK;
    }
    return zstd_error(r);
}
#endif

/* ---- entry points ------------------------------------------------------------------------ */

size_t kw_compress_bound(kw_compression codec, size_t n)
{
    switch (codec) {
    case KW_COMPRESSION_NONE: return n;
#if KW_HAVE_ZLIB
    case KW_COMPRESSION_GZIP: return gzip_bound(n);
#endif
#if KW_HAVE_SNAPPY
    case KW_COMPRESSION_SNAPPY: return snappy_bound(n);
#endif
#if KW_HAVE_LZ4
    case KW_COMPRESSION_LZ4: return lz4_bound(n);
#endif
#if KW_HAVE_ZSTD
    case KW_COMPRESSION_ZSTD: return zstd_bound(n);
#endif
    default: return 0;
    }
}

kw_err kw_compress(kw_compression codec, int level, kw_slice in, uint8_t *out, size_t cap,
                   size_t *len)
{
    (void)level;
    static const uint8_t empty[1];
    if (in.ptr == NULL)
        in.ptr = empty; /* compressors want a pointer even for no bytes */
    switch (codec) {
    case KW_COMPRESSION_NONE: return copy_bytes(in, out, cap, len, KW_ERR_NO_SPACE);
#if KW_HAVE_ZLIB
    case KW_COMPRESSION_GZIP: return gzip_compress(level, in, out, cap, len);
#endif
#if KW_HAVE_SNAPPY
    case KW_COMPRESSION_SNAPPY: return snappy_xerial_compress(in, out, cap, len);
#endif
#if KW_HAVE_LZ4
    case KW_COMPRESSION_LZ4: return lz4_compress(level, in, out, cap, len);
#endif
#if KW_HAVE_ZSTD
    case KW_COMPRESSION_ZSTD: return zstd_compress(level, in, out, cap, len);
#endif
    default: return KW_ERR_COMPRESSION_UNSUPPORTED;
    }
}

kw_err kw_decompress(kw_compression codec, kw_slice in, uint8_t *out, size_t cap, size_t *len)
{
    static const uint8_t empty[1];
    if (in.ptr == NULL)
        in.ptr = empty;
    switch (codec) {
    case KW_COMPRESSION_NONE:
        return copy_bytes(in, out, cap, len, KW_ERR_DECOMPRESSED_TOO_LARGE);
#if KW_HAVE_ZLIB
    case KW_COMPRESSION_GZIP: return gzip_decompress(in, out, cap, len);
#endif
#if KW_HAVE_SNAPPY
    case KW_COMPRESSION_SNAPPY: return snappy_decompress(in, out, cap, len);
#endif
#if KW_HAVE_LZ4
    case KW_COMPRESSION_LZ4: return lz4_decompress(in, out, cap, len);
#endif
#if KW_HAVE_ZSTD
    case KW_COMPRESSION_ZSTD: return zstd_decompress(in, out, cap, len);
#endif
    default: return KW_ERR_COMPRESSION_UNSUPPORTED;
    }
}

kw_err kw_decompressed_size(kw_compression codec, kw_slice in, size_t limit, size_t *size)
{
    static const uint8_t empty[1];
    if (in.ptr == NULL)
        in.ptr = empty;
    switch (codec) {
    case KW_COMPRESSION_NONE:
        if (in.len > limit)
            return KW_ERR_DECOMPRESSED_TOO_LARGE;
        *size = in.len;
        return KW_OK;
#if KW_HAVE_ZLIB
    /* gzip's ISIZE trailer is the size modulo 2^32 and only checked at the end: count */
    case KW_COMPRESSION_GZIP: return gzip_decompress(in, NULL, limit, size);
#endif
#if KW_HAVE_SNAPPY
    case KW_COMPRESSION_SNAPPY: return snappy_decompress(in, NULL, limit, size);
#endif
#if KW_HAVE_LZ4
    case KW_COMPRESSION_LZ4: return lz4_decompress(in, NULL, limit, size);
#endif
#if KW_HAVE_ZSTD
    case KW_COMPRESSION_ZSTD: return zstd_size(in, limit, size);
#endif
    default: return KW_ERR_COMPRESSION_UNSUPPORTED;
    }
}

kw_err kw_record_batch_decompressed_size(const kw_record_batch *b, size_t limit, size_t *size)
{
    return kw_decompressed_size(kw_record_batch_compression(b), b->records, limit, size);
}

kw_err kw_legacy_message_decompressed_size(const kw_legacy_message *m, size_t limit, size_t *size)
{
    if (kw_slice_is_null(m->value))
        return KW_ERR_UNEXPECTED_NULL;
#if KW_HAVE_LZ4
    if (m->magic == 0 && kw_legacy_message_compression(m) == KW_COMPRESSION_LZ4)
        return lz4_decompress_magic0(m->value, NULL, limit, size);
#endif
    return kw_decompressed_size(kw_legacy_message_compression(m), m->value, limit, size);
}

kw_err kw_record_batch_decompress(const kw_record_batch *b, uint8_t *out, size_t cap, size_t *len)
{
    return kw_decompress(kw_record_batch_compression(b), b->records, out, cap, len);
}

kw_err kw_legacy_message_decompress(const kw_legacy_message *m, uint8_t *out, size_t cap,
                                    size_t *len)
{
    if (kw_slice_is_null(m->value))
        return KW_ERR_UNEXPECTED_NULL;
#if KW_HAVE_LZ4
    if (m->magic == 0 && kw_legacy_message_compression(m) == KW_COMPRESSION_LZ4)
        return lz4_decompress_magic0(m->value, out, cap, len);
#endif
    return kw_decompress(kw_legacy_message_compression(m), m->value, out, cap, len);
}
