/* Prints kwire's Kafka error table the way ErrorsOracle.java prints Kafka's:
 * "CODE NAME RETRIABLE" for every int16 code that has a name. */
#include <stdio.h>

#include "kwire/api.h"

int main(void)
{
    for (int code = INT16_MIN; code <= INT16_MAX; code++) {
        const char *name = kw_kafka_error_name(code);
        if (name)
            printf("%d %s %d\n", code, name, kw_kafka_error_retriable(code) ? 1 : 0);
    }
    return 0;
}
