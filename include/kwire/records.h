/* placeholder: replaced by the real header */
#ifndef KWIRE_RECORDS_H
#define KWIRE_RECORDS_H
#include "common.h"
#endif
