/* placeholder: replaced by the real header */
#ifndef KWIRE_HEADER_H
#define KWIRE_HEADER_H
#include "common.h"
#endif
