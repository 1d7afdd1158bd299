/* SPDX-License-Identifier: Apache-2.0 */
/* build_info.c — what a consumer checks against the headers it compiled with (fs38/config.h). */
#include "fs38/update.h"

size_t fs38_update_ctx_size(void)
{
    return sizeof(fs38_update_ctx);
}
