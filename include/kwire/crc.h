/*
 * kwire checksums: CRC-32C (Castagnoli) for record batches v2 and CRC-32
 * (IEEE 802.3) for legacy message sets v0/v1.
 */
#ifndef KWIRE_CRC_H
#define KWIRE_CRC_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * CRC-32C of len bytes, continuing from crc (pass 0 to start). Uses the
 * SSE4.2 crc32 instruction over three interleaved streams where the CPU has
 * it (chosen once at run time), a portable table otherwise.
 * kw_crc32c(0, "123456789", 9) == 0xE3069283.
 */
KW_API uint32_t kw_crc32c(uint32_t crc, const void *buf, size_t len);

/** CRC-32C with the portable table code, whatever the CPU has. */
KW_API uint32_t kw_crc32c_portable(uint32_t crc, const void *buf, size_t len);

/** Name of the CRC-32C code kw_crc32c uses here ("sse4.2" or "table"). */
KW_API const char *kw_crc32c_impl(void);

/**
 * CRC-32 (IEEE, reflected 0xEDB88320), continuing from crc (0 to start).
 * kw_crc32(0, "123456789", 9) == 0xCBF43926.
 */
KW_API uint32_t kw_crc32(uint32_t crc, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* KWIRE_CRC_H */
