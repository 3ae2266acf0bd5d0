/* kwire: the Kafka wire protocol, read in place and written back to front. */
#ifndef KWIRE_KWIRE_H
#define KWIRE_KWIRE_H

#include "common.h"
#include "cursor.h"
#include "frame.h"
#include "crc.h"
#include "api.h"
#include "header.h"
#include "records.h"
#include "message.h"
#include "json.h"
#include "builder.h"
#include "record_builder.h" /* and compress.h */

#endif /* KWIRE_KWIRE_H */
