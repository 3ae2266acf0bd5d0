#include "kwire/common.h"

static const char *const err_names[] = {
#define KW_X_NAME(name, kafka, msg) #name,
    KW_ERROR_LIST(KW_X_NAME)
#undef KW_X_NAME
};

static const char *const err_messages[] = {
#define KW_X_MSG(name, kafka, msg) msg,
    KW_ERROR_LIST(KW_X_MSG)
#undef KW_X_MSG
};

static const int16_t err_kafka_codes[] = {
#define KW_X_KAFKA(name, kafka, msg) kafka,
    KW_ERROR_LIST(KW_X_KAFKA)
#undef KW_X_KAFKA
};

const char *kw_err_name(kw_err code)
{
    return (unsigned)code < KW_ERR_COUNT_ ? err_names[code] : "UNKNOWN";
}

const char *kw_err_message(kw_err code)
{
    return (unsigned)code < KW_ERR_COUNT_ ? err_messages[code] : "unknown error code";
}

int16_t kw_err_kafka_code(kw_err code)
{
    return (unsigned)code < KW_ERR_COUNT_ ? err_kafka_codes[code] : -1;
}
