/* SPDX-License-Identifier: Apache-2.0 */
/* port.c — argument and geometry checks in front of the platform's flash calls. */
#include <string.h>
#include "fs38/event.h"
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

static int service_name_ok(const char *s)
{
    size_t n = 0;
    for (; n < FS38_SERVICE_NAME_MAX && s[n]; n++)
        if (s[n] < 0x21 || s[n] > 0x7e || s[n] == '"' || s[n] == '\\')
            return 0;
    return n > 0 && n < FS38_SERVICE_NAME_MAX;
}

fs38_err fs38_port_security_state(const fs38_port *p, fs38_security_state *out)
{
    if (!out)
        return FS38_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (!p)
        return FS38_ERR_ARG;
    if (!p->security_state)
        return FS38_OK; /* unknown: reported open */
    fs38_err e = p->security_state(p->ctx, out);
    if (e == FS38_OK && ((out->debug & ~FS38_DEBUG_ALL) || out->n_services > FS38_SERVICES_MAX ||
                         (out->secure_boot != 0 && out->secure_boot != 1)))
        e = FS38_ERR_ARG;
    for (size_t i = 0; e == FS38_OK && i < out->n_services; i++)
        if (!service_name_ok(out->services[i]))
            e = FS38_ERR_ARG;
    if (e != FS38_OK)
        memset(out, 0, sizeof *out);
    return e;
}

fs38_err fs38_port_debug_lock(const fs38_port *p)
{
    fs38_security_state st;
    if (!p)
        return FS38_ERR_ARG;
    if (!p->debug_lock)
        return FS38_ERR_STATE;
    fs38_err e = fs38_port_lock(p);
    if (e != FS38_OK)
        return e;
    e = fs38_port_security_state(p, &st);
    const int was = e == FS38_OK && (st.debug & FS38_DEBUG_ALL) == FS38_DEBUG_ALL;
    if (e == FS38_OK && !was)
        e = p->debug_lock(p->ctx);
    if (e == FS38_OK && !was) {
        e = fs38_port_security_state(p, &st);
        if (e == FS38_OK && (st.debug & FS38_DEBUG_ALL) != FS38_DEBUG_ALL)
            e = FS38_ERR_CALLBACK;
    }
    fs38_port_unlock(p);
    if (e == FS38_OK && !was)
        fs38_event(FS38_EV_DEBUG_LOCKED, FS38_SEV_NOTICE, 0, "debug ports locked for good (JTAG/SWD, UART, test modes)");
    return e;
}
