/* Fetch's file ranges (fetch.c): record bytes sent from the segment files. */
#ifndef KWIRE_BROKER_FETCH_H
#define KWIRE_BROKER_FETCH_H

#include "dispatch.h"

/** Records a file range a Fetch response sends; the slice stands for it (see fetch.c). */
kw_slice bk_conn_file_slice(bk_req *req, int fd, uint64_t pos, uint64_t len);
/** The records writer every response builder uses (see fetch.c). */
void bk_records_writer(kw_builder *b, kw_slice records, void *ctx);

#endif /* KWIRE_BROKER_FETCH_H */
