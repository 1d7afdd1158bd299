/* SPDX-License-Identifier: Apache-2.0 */
/* port.c — argument and geometry checks in front of the platform's flash calls. */
#include "fs38/port.h"

static int in_range(const fs38_port *p, uint32_t off, size_t len)
{
    return off <= p->flash_size && len <= (size_t)(p->flash_size - off);
}

fs38_err fs38_flash_read(const fs38_port *p, uint32_t off, void *buf, size_t len)
{
    if (!p || !p->flash_read || (!buf && len) || !in_range(p, off, len))
        return FS38_ERR_ARG;
    return len ? p->flash_read(p->ctx, off, buf, len) : FS38_OK;
}

fs38_err fs38_flash_erase(const fs38_port *p, uint32_t off, uint32_t len)
{
    if (!p || !p->flash_erase || !p->sector_size || !in_range(p, off, len) ||
        off % p->sector_size || len % p->sector_size)
        return FS38_ERR_ARG;
    return len ? p->flash_erase(p->ctx, off, len) : FS38_OK;
}

fs38_err fs38_flash_program(const fs38_port *p, uint32_t off, const void *buf, size_t len)
{
    if (!p || !p->flash_program || (!buf && len) || !in_range(p, off, len))
        return FS38_ERR_ARG;
    return len ? p->flash_program(p->ctx, off, buf, len) : FS38_OK;
}
