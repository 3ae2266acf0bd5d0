/* placeholder: replaced by the module's real source */
typedef int kw_placeholder_crc32_;
