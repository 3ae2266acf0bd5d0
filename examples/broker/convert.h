/* Message format conversion (convert.c): legacy message sets for Produce
 * v0-v2 and Fetch v0-v3. */
#ifndef KWIRE_BROKER_CONVERT_H
#define KWIRE_BROKER_CONVERT_H

#include "dispatch.h"
#include "log.h"

/**
 * A legacy message set (Produce v0-v2) as one v2 batch in req's scratch,
 * compressed wrappers opened, CRC-32s checked. Kafka error code.
 */
int bk_upconvert(bk_req *req, kw_slice records, kw_slice *batch);
/**
 * v2 batches as legacy messages of magic (0 or 1) in req's scratch; plain
 * records before first_offset left out. Kafka error code.
 */
int bk_downconvert(bk_req *req, kw_slice batches, int64_t first_offset, int8_t magic,
                   kw_slice *out);
/** bk_downconvert over a read of the log (read into memory first). */
int bk_downconvert_read(bk_req *req, const bk_read *rd, int64_t first_offset, int8_t magic,
                        kw_slice *out);

#endif /* KWIRE_BROKER_CONVERT_H */
