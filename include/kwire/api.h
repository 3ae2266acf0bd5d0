/* placeholder: replaced by the real header */
#ifndef KWIRE_API_H
#define KWIRE_API_H
#include "common.h"
#endif
