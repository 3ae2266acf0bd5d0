#include "kwire/frame.h"

#include "kwire/cursor.h"

kw_frame_status kw_frame_split(const void *buf, size_t len, size_t max_size, kw_frame *out)
{
    const uint8_t *p = buf;
    out->body = NULL;
    out->size = 0;
    out->total = KW_FRAME_PREFIX;
    out->err = KW_OK;
    if (len < KW_FRAME_PREFIX)
        return KW_FRAME_NEED_MORE;

    int32_t declared = (int32_t)kw_load_be32(p);
    if (declared < 0) {
        out->err = KW_ERR_FRAME_NEGATIVE;
        return KW_FRAME_INVALID;
    }
    if (max_size == 0)
        max_size = KW_FRAME_MAX_DEFAULT;
    if ((uint32_t)declared > max_size) {
        out->err = KW_ERR_FRAME_TOO_LARGE;
        return KW_FRAME_INVALID;
    }
    out->size = (size_t)declared;
    out->total = KW_FRAME_PREFIX + out->size; /* <= 4 + INT32_MAX: no overflow */
    if (len - KW_FRAME_PREFIX < out->size)
        return KW_FRAME_NEED_MORE;
    out->body = p + KW_FRAME_PREFIX;
    return KW_FRAME_COMPLETE;
}
