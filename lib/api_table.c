/*
 * The API table. Its rows (kw_api_rows) are generated from lib/defs with the
 * messages, so names, valid and flexible versions cannot drift from them.
 */
#include "internal.h"
#include "kwire/api.h"


const kw_api_info *kw_api_lookup(int16_t api_key)
{
    /* Keys are dense from 0, so the key is the index. */
    if (api_key < 0 || api_key >= KW_API_KEY_COUNT)
        return NULL;
    return &kw_api_rows[api_key];
}

const kw_api_info *kw_api_table(size_t *count)
{
    if (count)
        *count = KW_API_KEY_COUNT;
    return kw_api_rows;
}

bool kw_api_version_supported(int16_t api_key, int16_t version)
{
    const kw_api_info *a = kw_api_lookup(api_key);
    return a && version >= a->min_version && version <= a->max_version;
}

/* Threshold only, as Kafka's generated code does: no upper bound. */
static bool flexible(const kw_api_info *a, int16_t version)
{
    return a->first_flexible >= 0 && version >= a->first_flexible;
}

bool kw_api_is_flexible(int16_t api_key, int16_t version)
{
    const kw_api_info *a = kw_api_lookup(api_key);
    return a && flexible(a, version);
}

int kw_request_header_version(int16_t api_key, int16_t api_version)
{
    const kw_api_info *a = kw_api_lookup(api_key);
    if (!a)
        return -1;
    /* ControlledShutdown v0 predates the client id field in the header. */
    if (api_key == KW_API_CONTROLLED_SHUTDOWN && api_version == 0)
        return 0;
    return flexible(a, api_version) ? 2 : 1;
}

int kw_response_header_version(int16_t api_key, int16_t api_version)
{
    const kw_api_info *a = kw_api_lookup(api_key);
    if (!a)
        return -1;
    /* KIP-511: the client must read the error even for a version the broker
     * rejected, so ApiVersions answers never carry a tagged-field section. */
    if (api_key == KW_API_API_VERSIONS)
        return 0;
    return flexible(a, api_version) ? 1 : 0;
}
