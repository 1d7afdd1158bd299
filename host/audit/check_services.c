/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_services.c — control 5 (ETSI EN 303 645 5.6-1, 5.6-4), control 4 (5.5-1) and the kernel
 * configuration parts of control 2 (5.7-1).
 *
 * Control 5, minimal attack surface:
 *   FS38-5.1 a debug or remote-shell service started at boot (telnetd, gdbserver, adbd, rlogind,
 *            rshd, a netcat bind shell) from sysvinit/procd scripts, rc.local, inittab, inetd/xinetd
 *            or systemd units (a unit masked with a link to /dev/null is not; one installed but not
 *            enabled is a warning)
 *   FS38-5.2 a login prompt (getty) on a serial console (ttyS*, ttyAMA*, ttyUSB*, ...) in inittab
 *   FS38-5.3 a shell or other program on a console without a getty (busybox `::askfirst:-/bin/sh`,
 *            OpenWrt login.sh with `ttylogin 0`)
 *   FS38-5.4 SSH root password login (sshd PermitRootLogin yes / PermitEmptyPasswords, dropbear
 *            RootPasswordAuth on)
 *   FS38-5.5 kernel configuration: /dev/mem without STRICT_DEVMEM, DEVKMEM, KGDB (high); the
 *            weaker settings (IO_STRICT_DEVMEM off, PROC_KCORE, DEBUG_FS, no lockdown LSM) are
 *            warnings. Options are parsed with line anchors ("CONFIG_X=y" / "# CONFIG_X is not set"),
 *            so CONFIG_IO_STRICT_DEVMEM never counts as CONFIG_STRICT_DEVMEM.
 * Control 4, plaintext protocols:
 *   FS38-4.1 telnet / FTP server started at boot; FS38-4.2 TFTP server; FS38-4.3 MQTT listener
 *   without TLS (mosquitto.conf); FS38-4.4 HTTP admin interface (uhttpd listen_http without
 *   redirect to HTTPS); FS38-4.5 syslog over UDP / plaintext remote logging; FS38-4.6 TLS
 *   verification switched off in a script (curl -k / --insecure, wget --no-check-certificate);
 *   FS38-4.7 TLS minimum version below 1.2.
 * Control 2: FS38-2.1 kernel module signatures not enforced.
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TEXT (512u << 10)

static bool wordc(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
}

/* token as a whole word of line (l bytes) */
static bool has_word(const char *l, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i + tl <= n; i++) {
        if (memcmp(l + i, tok, tl) != 0)
            continue;
        bool before = i == 0 || !wordc(l[i - 1]) || l[i - 1] == '.';
        if (i > 0 && l[i - 1] == '.' && !(i >= 3 && memcmp(l + i - 3, "in.", 3) == 0))
            before = false;
        bool after = i + tl == n || !wordc(l[i + tl]);
        if (before && after)
            return true;
    }
    return false;
}

static bool has_str(const char *l, size_t n, const char *s) { return memmem(l, n, s, strlen(s)) != NULL; }

static bool is_text(const uint8_t *b, size_t n) { return !memchr(b, 0, n < 4096 ? n : 4096); }

static bool in_dir(const char *path, const char *dir) { return aud_has_prefix(path, dir); }

static bool systemd_dir(const char *p)
{
    return in_dir(p, "etc/systemd/system/") || in_dir(p, "lib/systemd/system/") ||
           in_dir(p, "usr/lib/systemd/system/") || in_dir(p, "run/systemd/system/");
}

/* A boot-time start location: init scripts, rc.local, inetd/xinetd, systemd units, upstart. */
static bool boot_file(const char *p)
{
    if (in_dir(p, "etc/init.d/") || in_dir(p, "etc/rc.d/") || strcmp(p, "etc/rc.local") == 0 ||
        strcmp(p, "etc/inittab") == 0 || strcmp(p, "etc/inetd.conf") == 0 || strcmp(p, "etc/xinetd.conf") == 0 ||
        in_dir(p, "etc/xinetd.d/") || in_dir(p, "etc/init/") || strcmp(p, "etc/rcS") == 0 ||
        in_dir(p, "etc/rcS.d/") || in_dir(p, "etc/default/") || in_dir(p, "etc/preinit"))
        return true;
    if ((in_dir(p, "etc/rc") && strstr(p, ".d/")) || in_dir(p, "etc/init.d"))
        return true;
    return systemd_dir(p);
}

typedef struct svc_state {
    aud_ctx *ctx;
    size_t boot_files, configs, kconfigs;
    bool ttylogin_off;
} svc_state;

/* systemd: masked (etc/systemd/system/NAME -> /dev/null), enabled (a *.wants/NAME link), or neither */
static int unit_state(svc_state *st, const char *name)
{
    char p[AUD_PATH_MAX];
    snprintf(p, sizeof p, "etc/systemd/system/%s", name);
    const aud_entry *m = aud_image_find(st->ctx->img, p);
    if (m && m->type == AUD_LNK && m->link && strcmp(m->link, "/dev/null") == 0)
        return -1;
    size_t nl = strlen(name);
    for (size_t i = 0; i < aud_image_count(st->ctx->img); i++) {
        const aud_entry *e = aud_image_entry(st->ctx->img, i);
        if (e->type != AUD_LNK || !systemd_dir(e->path))
            continue;
        size_t pl = strlen(e->path);
        if (pl > nl + 7 && strcmp(e->path + pl - nl, name) == 0 && e->path[pl - nl - 1] == '/' &&
            memcmp(e->path + pl - nl - 7, ".wants/", 7) == 0)
            return 1;
    }
    return 0;
}

static const struct { const char *tok; int control; const char *rule; aud_sev sev; const char *what; } daemons[] = {
    { "telnetd", 5, "FS38-5.1", AUD_HIGH, "telnet server (remote shell)" },
    { "utelnetd", 5, "FS38-5.1", AUD_HIGH, "telnet server (remote shell)" },
    { "in.telnetd", 5, "FS38-5.1", AUD_HIGH, "telnet server (remote shell)" },
    { "gdbserver", 5, "FS38-5.1", AUD_HIGH, "gdbserver (remote debugger)" },
    { "adbd", 5, "FS38-5.1", AUD_HIGH, "adbd (Android debug bridge)" },
    { "rlogind", 5, "FS38-5.1", AUD_HIGH, "rlogin server" },
    { "in.rlogind", 5, "FS38-5.1", AUD_HIGH, "rlogin server" },
    { "rshd", 5, "FS38-5.1", AUD_HIGH, "rsh server" },
    { "in.rshd", 5, "FS38-5.1", AUD_HIGH, "rsh server" },
};
static const struct { const char *tok; const char *rule; aud_sev sev; const char *what; } plain[] = {
    { "telnetd", "FS38-4.1", AUD_HIGH, "telnet: logins and data in plaintext" },
    { "utelnetd", "FS38-4.1", AUD_HIGH, "telnet: logins and data in plaintext" },
    { "in.telnetd", "FS38-4.1", AUD_HIGH, "telnet: logins and data in plaintext" },
    { "ftpd", "FS38-4.1", AUD_HIGH, "FTP server: logins and data in plaintext" },
    { "vsftpd", "FS38-4.1", AUD_HIGH, "FTP server: logins and data in plaintext" },
    { "proftpd", "FS38-4.1", AUD_HIGH, "FTP server: logins and data in plaintext" },
    { "pure-ftpd", "FS38-4.1", AUD_HIGH, "FTP server: logins and data in plaintext" },
    { "in.ftpd", "FS38-4.1", AUD_HIGH, "FTP server: logins and data in plaintext" },
    { "tftpd", "FS38-4.2", AUD_MEDIUM, "TFTP server: unauthenticated plaintext file transfer" },
    { "in.tftpd", "FS38-4.2", AUD_MEDIUM, "TFTP server: unauthenticated plaintext file transfer" },
    { "atftpd", "FS38-4.2", AUD_MEDIUM, "TFTP server: unauthenticated plaintext file transfer" },
};

static void scan_boot_file(svc_state *st, const aud_entry *e, const uint8_t *buf, size_t len)
{
    bool unit = systemd_dir(e->path) && (aud_has_suffix(e->path, ".service") || aud_has_suffix(e->path, ".socket"));
    int ustate = unit ? unit_state(st, aud_basename(e->path)) : 1;
    bool inetd = strstr(e->path, "inetd") != NULL;
    bool seen5[sizeof daemons / sizeof daemons[0]] = { 0 }, seen4[sizeof plain / sizeof plain[0]] = { 0 };
    st->boot_files++;
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    while (aud_lines_next(&it, &l, &n)) {
        l = aud_trim(l, &n);
        if (!n || l[0] == '#' || l[0] == ';')
            continue;
        if (unit && !aud_has_prefix(l, "ExecStart") && !aud_has_prefix(l, "ListenStream"))
            continue;
        if (inetd && strstr(e->path, "xinetd") && has_str(l, n, "disable") && has_str(l, n, "yes"))
            break; /* an xinetd service switched off */
        /* inetd.conf: "telnet stream tcp nowait root /usr/sbin/telnetd" — the first word names it */
        for (size_t k = 0; k < sizeof daemons / sizeof daemons[0]; k++) {
            if (seen5[k] || !has_word(l, n, daemons[k].tok))
                continue;
            if (has_word(l, n, "killall") || has_word(l, n, "kill") || has_word(l, n, "pidof") ||
                has_word(l, n, "stop") || has_word(l, n, "rm"))
                continue;
            seen5[k] = true;
            if (ustate < 0)
                aud_add(st->ctx->r, 5, e->path, it.no, "FS38-5.1", "5.6-1", AUD_INFO, "%s unit is masked (not started)",
                        daemons[k].what);
            else if (ustate == 0)
                aud_add(st->ctx->r, 5, e->path, it.no, "FS38-5.1", "5.6-1", AUD_LOW,
                        "%s unit installed but not enabled", daemons[k].what);
            else
                aud_add(st->ctx->r, 5, e->path, it.no, daemons[k].rule, "5.6-4", daemons[k].sev, "%s started at boot: %.*s",
                        daemons[k].what, (int)(n > 120 ? 120 : n), l);
        }
        if ((has_word(l, n, "nc") || has_word(l, n, "netcat")) && has_str(l, n, " -l") &&
            (has_str(l, n, " -e") || has_str(l, n, "/bin/sh")))
            aud_add(st->ctx->r, 5, e->path, it.no, "FS38-5.1", "5.6-4", AUD_CRITICAL,
                    "netcat bind shell started at boot: %.*s", (int)(n > 120 ? 120 : n), l);
        for (size_t k = 0; k < sizeof plain / sizeof plain[0]; k++) {
            if (seen4[k] || !has_word(l, n, plain[k].tok) || ustate <= 0)
                continue;
            if (has_word(l, n, "killall") || has_word(l, n, "kill") || has_word(l, n, "pidof") || has_word(l, n, "stop"))
                continue;
            seen4[k] = true;
            aud_add(st->ctx->r, 4, e->path, it.no, plain[k].rule, "5.5-1", plain[k].sev, "%s: %.*s", plain[k].what,
                    (int)(n > 120 ? 120 : n), l);
        }
    }
}

static bool serial_tty(const char *s, size_t n)
{
    static const char *const ttys[] = { "ttyS", "ttyAMA", "ttyUSB", "ttymxc", "ttyO", "ttySAC", "ttyMSM", "ttyHS",
                                        "ttyATH", "ttyLP", "ttyPS", "ttyMV", "ttyFIQ", "hvc", "ttyGS", "ttyACM" };
    for (size_t i = 0; i < sizeof ttys / sizeof ttys[0]; i++)
        if (memmem(s, n, ttys[i], strlen(ttys[i])))
            return true;
    return false;
}

static void scan_inittab(svc_state *st, const aud_entry *e, const uint8_t *buf, size_t len)
{
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    while (aud_lines_next_setting(&it, &l, &n)) {
        /* id:runlevels:action:process (sysvinit) or tty::action:process (busybox) */
        const char *f[4];
        size_t fl[4], k = 0;
        const char *p = l, *end = l + n;
        while (k < 3) {
            const char *c = memchr(p, ':', (size_t)(end - p));
            if (!c)
                break;
            f[k] = p;
            fl[k] = (size_t)(c - p);
            k++;
            p = c + 1;
        }
        if (k < 3)
            continue;
        f[3] = p;
        fl[3] = (size_t)(end - p);
        const char *proc = f[3];
        size_t pl = fl[3];
        const char *act = f[2];
        size_t al = fl[2];
        /* only the actions that keep a program on a terminal: respawn, askfirst, askconsole */
        if (pl == 0 || !((al == 7 && memcmp(act, "respawn", 7) == 0) || (al == 8 && memcmp(act, "askfirst", 8) == 0) ||
                         (al == 10 && memcmp(act, "askconsole", 10) == 0)))
            continue;
        bool busybox = fl[1] == 0;
        bool serial = serial_tty(proc, pl) || (busybox && serial_tty(f[0], fl[0]));
        bool console = busybox && (fl[0] == 0 || (fl[0] == 7 && memcmp(f[0], "console", 7) == 0));
        bool getty = has_str(proc, pl, "getty") || has_word(proc, pl, "login");
        bool shell = has_str(proc, pl, "/bin/sh") || has_str(proc, pl, "/bin/ash") || has_str(proc, pl, "/bin/bash") ||
                     (pl >= 2 && proc[0] == '-' && proc[1] == '/');
        bool sulogin = has_str(proc, pl, "sulogin");
        bool loginsh = has_str(proc, pl, "login.sh");
        if (sulogin || (!serial && !console))
            continue;
        const char *where = serial ? "serial console" : "console";
        if (getty && !loginsh)
            aud_add(st->ctx->r, 5, e->path, it.no, "FS38-5.2", "5.6-4", AUD_MEDIUM,
                    "login prompt on a %s (physically accessible debug interface): %.*s", where, (int)pl, proc);
        else if (shell)
            aud_add(st->ctx->r, 5, e->path, it.no, "FS38-5.3", "5.6-4", AUD_CRITICAL,
                    "shell on the %s without a login: %.*s", where, (int)pl, proc);
        else if (loginsh && st->ttylogin_off)
            aud_add(st->ctx->r, 5, e->path, it.no, "FS38-5.3", "5.6-4", AUD_CRITICAL,
                    "%.*s on the %s with `option ttylogin '0'` (etc/config/system): a root shell without a password",
                    (int)pl, proc, where);
        else
            aud_add(st->ctx->r, 5, e->path, it.no, "FS38-5.3", "5.6-4", AUD_HIGH,
                    "program on the %s (check that it asks for a password): %.*s", where, (int)pl, proc);
    }
}

static void scan_ssh(svc_state *st, const aud_entry *e, const uint8_t *buf, size_t len, bool dropbear)
{
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    st->configs++;
    bool root_ok = false;
    while (aud_lines_next_setting(&it, &l, &n)) {
        if (!dropbear) {
            if (n > 16 && strncasecmp(l, "PermitRootLogin", 15) == 0) {
                const char *v = l + 15;
                size_t vn = n - 15;
                v = aud_trim(v, &vn);
                if (vn == 3 && strncasecmp(v, "yes", 3) == 0)
                    aud_add(st->ctx->r, 5, e->path, it.no, "FS38-5.4", "5.6-1", AUD_HIGH,
                            "SSH root login with a password allowed: %.*s", (int)n, l);
                else
                    root_ok = true;
            }
            if (n > 20 && strncasecmp(l, "PermitEmptyPasswords", 20) == 0 && has_str(l, n, "yes"))
                aud_add(st->ctx->r, 5, e->path, it.no, "FS38-5.4", "5.6-1", AUD_CRITICAL,
                        "SSH login with an empty password allowed: %.*s", (int)n, l);
        } else if (has_str(l, n, "RootPasswordAuth")) {
            if (has_str(l, n, "'on'") || has_str(l, n, "'1'") || has_str(l, n, " on") || has_str(l, n, " 1"))
                aud_add(st->ctx->r, 5, e->path, it.no, "FS38-5.4", "5.6-1", AUD_HIGH,
                        "dropbear: root login with a password allowed: %.*s", (int)n, l);
            else
                root_ok = true;
        }
    }
    if (root_ok)
        aud_add(st->ctx->r, 5, e->path, 0, "FS38-5.4", "5.6-1", AUD_INFO, "SSH root password login not allowed");
}

/* ---- kernel configuration ---- */
typedef enum { KC_ABSENT, KC_Y, KC_M, KC_NOTSET, KC_OTHER } kc_val;
static const char *const kc_names[] = {
    "CONFIG_DEVMEM", "CONFIG_STRICT_DEVMEM", "CONFIG_IO_STRICT_DEVMEM", "CONFIG_DEVKMEM", "CONFIG_KGDB",
    "CONFIG_PROC_KCORE", "CONFIG_DEBUG_FS", "CONFIG_SECURITY_LOCKDOWN_LSM", "CONFIG_MODULE_SIG",
    "CONFIG_MODULE_SIG_FORCE", "CONFIG_MODULES",
};
enum { K_DEVMEM, K_STRICT, K_IOSTRICT, K_DEVKMEM, K_KGDB, K_KCORE, K_DEBUGFS, K_LOCKDOWN, K_MODSIG, K_MODSIGF,
       K_MODULES, K_N };

static bool kernel_config(const char *path, const uint8_t *buf, size_t len)
{
    const char *b = aud_basename(path);
    bool named = strcmp(b, ".config") == 0 || aud_has_prefix(b, "config-") || aud_has_suffix(b, ".config") ||
                 strcmp(b, "config") == 0 || aud_has_prefix(b, "kernel") || aud_has_suffix(b, "defconfig");
    size_t head = len < 1024 ? len : 1024;
    bool hdr = memmem(buf, head, "Kernel Configuration", 20) != NULL;
    return (named || hdr) && memmem(buf, len, "\nCONFIG_", 8) && (hdr || memmem(buf, len, "CONFIG_MODULES", 14));
}

static void scan_kconfig(svc_state *st, const aud_entry *e, const uint8_t *buf, size_t len)
{
    kc_val v[K_N] = { 0 };
    unsigned ln[K_N] = { 0 };
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    while (aud_lines_next(&it, &l, &n)) {
        for (size_t k = 0; k < K_N; k++) {
            size_t kl = strlen(kc_names[k]);
            if (n > kl + 1 && memcmp(l, kc_names[k], kl) == 0 && l[kl] == '=') {
                const char *val = l + kl + 1;
                size_t vl = n - kl - 1;
                v[k] = vl == 1 && val[0] == 'y' ? KC_Y : vl == 1 && val[0] == 'm' ? KC_M : KC_OTHER;
                ln[k] = it.no;
            } else if (n == kl + 13 && memcmp(l, "# ", 2) == 0 && memcmp(l + 2, kc_names[k], kl) == 0 &&
                       memcmp(l + 2 + kl, " is not set", 11) == 0) {
                v[k] = KC_NOTSET;
                ln[k] = it.no;
            }
        }
    }
    st->kconfigs++;
    aud_report *r = st->ctx->r;
    const char *p = e->path;
    if (v[K_DEVMEM] == KC_Y && v[K_STRICT] != KC_Y)
        aud_add(r, 5, p, ln[K_DEVMEM], "FS38-5.5", "5.6-4", AUD_HIGH,
                "CONFIG_DEVMEM=y without CONFIG_STRICT_DEVMEM: /dev/mem reaches all physical memory");
    else if (v[K_DEVMEM] == KC_Y) {
        aud_add(r, 5, p, ln[K_STRICT], "FS38-5.5", "5.6-4", AUD_LOW,
                "CONFIG_DEVMEM=y limited by CONFIG_STRICT_DEVMEM=y (/dev/mem still present)");
        if (v[K_IOSTRICT] != KC_Y)
            aud_add(r, 5, p, ln[K_IOSTRICT], "FS38-5.5", "5.6-4", AUD_LOW,
                    "CONFIG_IO_STRICT_DEVMEM not set: /dev/mem reaches I/O memory claimed by drivers");
    } else if (v[K_DEVMEM] == KC_NOTSET)
        aud_add(r, 5, p, ln[K_DEVMEM], "FS38-5.5", "5.6-4", AUD_INFO, "CONFIG_DEVMEM not set: no /dev/mem");
    if (v[K_DEVKMEM] == KC_Y)
        aud_add(r, 5, p, ln[K_DEVKMEM], "FS38-5.5", "5.6-4", AUD_HIGH, "CONFIG_DEVKMEM=y: /dev/kmem exposes kernel memory");
    if (v[K_KGDB] == KC_Y)
        aud_add(r, 5, p, ln[K_KGDB], "FS38-5.5", "5.6-4", AUD_HIGH, "CONFIG_KGDB=y: kernel debugger built in");
    else if (v[K_KGDB] == KC_NOTSET)
        aud_add(r, 5, p, ln[K_KGDB], "FS38-5.5", "5.6-4", AUD_INFO, "CONFIG_KGDB not set");
    if (v[K_KCORE] == KC_Y)
        aud_add(r, 5, p, ln[K_KCORE], "FS38-5.5", "5.6-4", AUD_LOW, "CONFIG_PROC_KCORE=y: /proc/kcore exposes kernel memory to root");
    if (v[K_DEBUGFS] == KC_Y)
        aud_add(r, 5, p, ln[K_DEBUGFS], "FS38-5.5", "5.6-4", AUD_LOW, "CONFIG_DEBUG_FS=y: debugfs available");
    if (v[K_LOCKDOWN] != KC_Y)
        aud_add(r, 5, p, ln[K_LOCKDOWN], "FS38-5.5", "5.6-4", AUD_LOW,
                "CONFIG_SECURITY_LOCKDOWN_LSM %s: no kernel lockdown", v[K_LOCKDOWN] == KC_ABSENT ? "absent" : "not set");
    /* control 2: module signing */
    if (v[K_MODULES] == KC_Y) {
        if (v[K_MODSIG] != KC_Y)
            aud_add(r, 2, p, ln[K_MODSIG], "FS38-2.1", "5.7-1", AUD_MEDIUM,
                    "CONFIG_MODULE_SIG %s: kernel modules load without a signature check",
                    v[K_MODSIG] == KC_ABSENT ? "absent" : "not set");
        else if (v[K_MODSIGF] != KC_Y)
            aud_add(r, 2, p, ln[K_MODSIG], "FS38-2.1", "5.7-1", AUD_LOW,
                    "CONFIG_MODULE_SIG=y without CONFIG_MODULE_SIG_FORCE: unsigned modules still load (tainting)");
        else
            aud_add(r, 2, p, ln[K_MODSIGF], "FS38-2.1", "5.7-1", AUD_INFO, "CONFIG_MODULE_SIG_FORCE=y: modules must be signed");
    }
}

/* ---- control 4 configuration files ---- */
static void scan_comms(svc_state *st, const aud_entry *e, const uint8_t *buf, size_t len)
{
    const char *b = aud_basename(e->path);
    aud_report *r = st->ctx->r;
    bool mosq = strstr(b, "mosquitto") && aud_has_suffix(b, ".conf");
    bool uhttpd = strcmp(e->path, "etc/config/uhttpd") == 0;
    bool rsys = strstr(b, "rsyslog") || (in_dir(e->path, "etc/rsyslog.d/"));
    bool sysng = strstr(b, "syslog-ng") != NULL;
    bool owsys = strcmp(e->path, "etc/config/system") == 0;
    bool script = len > 2 && buf[0] == '#' && buf[1] == '!';
    bool conf = in_dir(e->path, "etc/");
    if (mosq || uhttpd || rsys || sysng || owsys)
        st->configs++;
    bool redirect = memmem(buf, len, "redirect_https", 14) &&
                    (memmem(buf, len, "redirect_https '1'", 18) || memmem(buf, len, "redirect_https 1", 16));
    bool tls_listener = false;
    unsigned mq_line = 0;
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    while (aud_lines_next_setting(&it, &l, &n)) {
        if (mosq) {
            if ((aud_has_prefix(l, "listener ") || aud_has_prefix(l, "port ")) && n < 200) {
                if (mq_line && !tls_listener)
                    aud_add(r, 4, e->path, mq_line, "FS38-4.3", "5.5-1", AUD_HIGH, "MQTT listener without TLS");
                mq_line = it.no;
                tls_listener = false;
            }
            if (aud_has_prefix(l, "certfile") || aud_has_prefix(l, "psk_hint"))
                tls_listener = true;
        }
        if (uhttpd && has_str(l, n, "listen_http") && !has_str(l, n, "listen_https"))
            aud_add(r, 4, e->path, it.no, "FS38-4.4", "5.5-1", redirect ? AUD_LOW : AUD_MEDIUM,
                    "HTTP (plaintext) web interface%s: %.*s", redirect ? ", redirected to HTTPS" : "", (int)n, l);
        if (rsys && n > 3) {
            const char *at = memchr(l, '@', n);
            if (at && at > l && (at[-1] == ' ' || at[-1] == '\t') && at + 1 < l + n && at[1] != '@')
                aud_add(r, 4, e->path, it.no, "FS38-4.5", "5.5-1", AUD_MEDIUM, "syslog forwarded over UDP (plaintext): %.*s",
                        (int)n, l);
        }
        if (sysng && (has_str(l, n, "udp(") || has_str(l, n, "network(") ) && !has_str(l, n, "tls"))
            aud_add(r, 4, e->path, it.no, "FS38-4.5", "5.5-1", AUD_MEDIUM, "syslog-ng remote destination without TLS: %.*s",
                    (int)n, l);
        if (owsys && has_str(l, n, "option log_ip"))
            aud_add(r, 4, e->path, it.no, "FS38-4.5", "5.5-1", AUD_MEDIUM,
                    "OpenWrt logd forwards the log in plaintext (UDP/TCP syslog, no TLS): %.*s", (int)n, l);
        if (script || conf) {
            bool curlk = (has_word(l, n, "curl") && (has_str(l, n, " -k") || has_str(l, n, "--insecure"))) ||
                         has_str(l, n, "--no-check-certificate");
            if (curlk)
                aud_add(r, 4, e->path, it.no, "FS38-4.6", "5.5-1", AUD_MEDIUM, "TLS certificate verification switched off: %.*s",
                        (int)(n > 160 ? 160 : n), l);
            if ((has_str(l, n, "MinProtocol") || has_str(l, n, "ssl_protocols") || has_str(l, n, "tls_version")) &&
                (has_str(l, n, "TLSv1 ") || has_str(l, n, "TLSv1;") || has_str(l, n, "TLSv1.1") || has_str(l, n, "SSLv3") ||
                 (n >= 5 && memcmp(l + n - 5, "TLSv1", 5) == 0)))
                aud_add(r, 4, e->path, it.no, "FS38-4.7", "5.5-1", AUD_MEDIUM, "TLS versions below 1.2 allowed: %.*s",
                        (int)n, l);
        }
    }
    if (mosq && mq_line && !tls_listener)
        aud_add(r, 4, e->path, mq_line, "FS38-4.3", "5.5-1", AUD_HIGH, "MQTT listener without TLS");
}

void aud_check_services(aud_ctx *ctx)
{
    svc_state st = { .ctx = ctx };
    uint8_t *buf;
    size_t len;
    if (aud_read_path(ctx, "etc/config/system", 65536, &buf, &len) == 0) {
        st.ttylogin_off = memmem(buf, len, "ttylogin '0'", 12) || memmem(buf, len, "ttylogin 0", 10);
        free(buf);
    }
    for (size_t i = 0; i < aud_image_count(ctx->img); i++) {
        const aud_entry *e = aud_image_entry(ctx->img, i);
        if (e->type != AUD_REG || e->size == 0 || e->too_big)
            continue;
        bool boot = boot_file(e->path);
        bool inittab = strcmp(aud_basename(e->path), "inittab") == 0;
        bool sshd = strcmp(aud_basename(e->path), "sshd_config") == 0;
        bool dropbear = strcmp(e->path, "etc/config/dropbear") == 0;
        const char *b = aud_basename(e->path);
        bool maybe_kc = e->size < (4u << 20) && (strstr(b, "config") || in_dir(e->path, "boot/"));
        bool commsf = e->size < MAX_TEXT && (in_dir(e->path, "etc/") || in_dir(e->path, "usr/") ||
                                             in_dir(e->path, "bin/") || in_dir(e->path, "sbin/") ||
                                             in_dir(e->path, "lib/") || in_dir(e->path, "www/"));
        if (!boot && !inittab && !sshd && !dropbear && !maybe_kc && !commsf)
            continue;
        if (aud_image_read(ctx->img, e, 4u << 20, &buf, &len, NULL, 0) != 0)
            continue;
        if (!is_text(buf, len)) {
            free(buf);
            continue;
        }
        if (inittab)
            scan_inittab(&st, e, buf, len);
        if (boot)
            scan_boot_file(&st, e, buf, len);
        if (sshd || dropbear)
            scan_ssh(&st, e, buf, len, dropbear);
        if (maybe_kc && kernel_config(e->path, buf, len))
            scan_kconfig(&st, e, buf, len);
        else if (commsf)
            scan_comms(&st, e, buf, len);
        free(buf);
    }
    if (st.boot_files)
        aud_add(ctx->r, 5, "", 0, "FS38-5.0", "5.6-1", AUD_INFO, "%zu boot-time start files examined", st.boot_files);
    aud_assessed(ctx->r, 5, AUD_V_UNKNOWN, "no init system, service or kernel configuration found");
    if (st.boot_files || st.configs)
        aud_add(ctx->r, 4, "", 0, "FS38-4.0", "5.5-1", AUD_INFO,
                "%zu boot files and %zu service configurations examined for plaintext protocols", st.boot_files, st.configs);
    aud_assessed(ctx->r, 4, AUD_V_UNKNOWN, "no service configuration found");
    if (st.kconfigs)
        aud_assessed(ctx->r, 2, AUD_V_UNKNOWN, "no boot artefact found");
}

void aud_check_comms(aud_ctx *ctx)
{
    (void)ctx; /* control 4 is assessed in the same pass as control 5 (aud_check_services) */
}
