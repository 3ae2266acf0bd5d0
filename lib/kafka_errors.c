/*
 * Kafka's error codes by value, from KW_KAFKA_ERROR_LIST (kwire/kafka_error.h).
 */
#include "kwire/kafka_error.h"

static const struct kafka_error {
    const char *name;
    bool retriable;
} kafka_errors[] = {
#define KAFKA_ERROR_ROW(name, code, retriable) [(code) + 1] = {#name, retriable},
    KW_KAFKA_ERROR_LIST(KAFKA_ERROR_ROW)
#undef KAFKA_ERROR_ROW
};

/* Indexed from -1; a code past KW_KAFKA_ERROR_LAST shows up here. */
_Static_assert(sizeof kafka_errors / sizeof *kafka_errors == KW_KAFKA_ERROR_LAST + 2,
               "kafka_errors holds -1..KW_KAFKA_ERROR_LAST");

static const struct kafka_error *kafka_error_find(int code)
{
    if (code < -1 || code > KW_KAFKA_ERROR_LAST)
        return NULL;
    return &kafka_errors[code + 1];
}

const char *kw_kafka_error_name(int code)
{
    const struct kafka_error *e = kafka_error_find(code);
    return e ? e->name : NULL;
}

bool kw_kafka_error_retriable(int code)
{
    const struct kafka_error *e = kafka_error_find(code);
    return e && e->retriable;
}
