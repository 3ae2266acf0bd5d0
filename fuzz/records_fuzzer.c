/*
 * records: the input is the bytes of a records field. kw_batch_iter walks
 * it without and with KW_VERIFY_CRC; every uncompressed v2 batch is walked
 * record by record and header by header, compressed ones through
 * kw_record_iter_init_raw as if their bytes were decompressed. Legacy
 * message sets (magic 0 and 1) come in through the magic byte.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > KWF_MAX_INPUT)
        return 0;
    kw_slice records = {data, size};
    kwf_check_records(records, 0);
    return 0;
}
