/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_identity.c — controls 8, 11 and 12, and hard-coded credentials for control 1.
 *
 * Control 8, one identity per unit (ETSI EN 303 645 5.4-2/5.4-4):
 *   FS38-8.1 a device/client certificate next to its unencrypted private key in the image (the
 *            same identity on every unit) (high)
 *   FS38-8.2 a hard-coded cloud token or secret in a configuration (token=, api_key=,
 *            AWS_SECRET_ACCESS_KEY=, ... with a literal value of 16+ characters) (high)
 *   FS38-8.0 support for per-unit keys in hardware (TPM 2.0, PKCS#11, OP-TEE) present (pass)
 * Control 11, telemetry and personal data (ETSI EN 303 645 6-1/6-3/6-5):
 *   FS38-11.1 a script sends device identifiers (MAC, IMEI, serial, location) with curl/wget to
 *             an http:// URL (plaintext) (high), or to an https:// URL without a consent switch
 *             visible in the same script (low: a warning to review)
 *   FS38-11.2 personal data shipped in the image: a database or CSV with several e-mail addresses
 *             (medium)
 * Control 12, factory reset / decommissioning (ETSI EN 303 645 5.11-1):
 *   FS38-12.1 a reset path that erases the writable storage (jffs2reset, firstboot -y, mtd erase,
 *             wipefs, blkdiscard, dd of zeros, cryptsetup erase) (pass) or one that only restores
 *             settings (medium)
 *   FS38-12.2 account-database backups left in the image (shadow.bak, shadow-, passwd.bak) (low)
 * Control 1: FS38-1.6 a literal password handed to passwd/chpasswd in a script (high).
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has(const char *l, size_t n, const char *s) { return memmem(l, n, s, strlen(s)) != NULL; }

static bool has_ci(const char *l, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(l + i, s, k) == 0)
            return true;
    return false;
}

/* A "KEY=value" / "KEY: value" line (quotes and blanks allowed around both) whose KEY is one of
 * the secret names (any case) and whose value is a literal (no $, <, %, {) of >= 16 characters.
 * One pass over the line: only the separators are looked at. */
static bool literal_secret(const char *l, size_t n)
{
    static const char *const names[] = { "token", "api_key", "apikey", "secret_key", "aws_secret_access_key",
                                         "client_secret", "access_token", "auth_token" };
    for (size_t i = 1; i < n; i++) {
        if (l[i] != '=' && l[i] != ':')
            continue;
        size_t ke = i;
        while (ke > 0 && (l[ke - 1] == ' ' || l[ke - 1] == '"' || l[ke - 1] == '\''))
            ke--;
        size_t ks = ke;
        while (ks > 0 && ((l[ks - 1] >= 'a' && l[ks - 1] <= 'z') || (l[ks - 1] >= 'A' && l[ks - 1] <= 'Z') ||
                          (l[ks - 1] >= '0' && l[ks - 1] <= '9') || l[ks - 1] == '_' || l[ks - 1] == '-'))
            ks--;
        bool named = false;
        for (size_t k = 0; k < sizeof names / sizeof names[0] && !named; k++)
            named = strlen(names[k]) == ke - ks && strncasecmp(l + ks, names[k], ke - ks) == 0;
        if (!named)
            continue;
        const char *p = l + i + 1, *end = l + n;
        while (p < end && (*p == ' ' || *p == '"' || *p == '\''))
            p++;
        size_t len = 0;
        while (p + len < end && p[len] != '"' && p[len] != '\'' && p[len] != ' ' && p[len] != ',' && p[len] != ';')
            len++;
        if (len >= 16 && !memchr(p, '$', len) && !memchr(p, '<', len) && !memchr(p, '%', len) && !memchr(p, '{', len))
            return true;
    }
    return false;
}

static size_t count_emails(const uint8_t *b, size_t len)
{
    size_t n = 0;
    for (size_t i = 1; i + 4 < len && n < 1000; i++) {
        if (b[i] != '@')
            continue;
        size_t l = 0, r = 0;
        while (l < i && l < 64 && ((b[i - l - 1] >= 'a' && b[i - l - 1] <= 'z') || (b[i - l - 1] >= 'A' && b[i - l - 1] <= 'Z') ||
                                   (b[i - l - 1] >= '0' && b[i - l - 1] <= '9') || b[i - l - 1] == '.' || b[i - l - 1] == '_'))
            l++;
        bool dot = false;
        while (i + 1 + r < len && r < 64 &&
               ((b[i + 1 + r] >= 'a' && b[i + 1 + r] <= 'z') || (b[i + 1 + r] >= 'A' && b[i + 1 + r] <= 'Z') ||
                (b[i + 1 + r] >= '0' && b[i + 1 + r] <= '9') || b[i + 1 + r] == '.' || b[i + 1 + r] == '-')) {
            dot |= b[i + 1 + r] == '.';
            r++;
        }
        if (l >= 1 && r >= 4 && dot)
            n++;
    }
    return n;
}

void aud_check_identity(aud_ctx *ctx)
{
    aud_report *r = ctx->r;
    size_t hw = 0, resets = 0, telemetry = 0;
    bool wipes = false;
    for (size_t i = 0; i < aud_image_count(ctx->img); i++) {
        const aud_entry *e = aud_image_entry(ctx->img, i);
        const char *p = e->path, *b = aud_basename(p);
        if (strstr(b, "libtpm2") || strstr(b, "tpm2-abrmd") || strstr(b, "libckteec") || strstr(b, "tpm2_") ||
            strstr(b, "pkcs11") || strstr(b, "tee-supplicant") || strcmp(b, "fs38-device") == 0)
            hw++;
        if (e->type != AUD_REG || e->size == 0 || e->too_big)
            continue;
        if ((strcmp(b, "shadow.bak") == 0 || strcmp(b, "shadow-") == 0 || strcmp(b, "passwd.bak") == 0 ||
             strcmp(b, "shadow.old") == 0) && aud_has_prefix(p, "etc/"))
            aud_add(r, 12, p, 0, "FS38-12.2", "5.11-1", AUD_LOW,
                    "account-database backup left in the image: old credentials survive a reset");
        bool data = aud_has_suffix(b, ".db") || aud_has_suffix(b, ".sqlite") || aud_has_suffix(b, ".csv") ||
                    aud_has_suffix(b, ".sqlite3");
        bool cfg = aud_has_prefix(p, "etc/") || aud_has_prefix(p, "usr/") || aud_has_prefix(p, "sbin/") ||
                   aud_has_prefix(p, "bin/") || aud_has_prefix(p, "lib/") || aud_has_prefix(p, "opt/") ||
                   aud_has_prefix(p, "www/");
        if (!(data || cfg) || e->size > (4u << 20))
            continue;
        uint8_t *buf;
        size_t len;
        if (aud_image_read(ctx->img, e, 4u << 20, &buf, &len, NULL, 0) != 0)
            continue;
        if (data) {
            size_t em = count_emails(buf, len);
            if (em >= 3)
                aud_add(r, 11, p, 0, "FS38-11.2", "6-1", AUD_MEDIUM,
                        "personal data in the image: %zu e-mail addresses in a data file", em);
            free(buf);
            continue;
        }
        if (memchr(buf, 0, len < 4096 ? len : 4096)) {
            free(buf);
            continue;
        }
        bool script = len > 2 && buf[0] == '#' && buf[1] == '!';
        bool consent = memmem(buf, len, "consent", 7) || memmem(buf, len, "opt_in", 6) || memmem(buf, len, "optin", 5) ||
                       memmem(buf, len, "telemetry_enabled", 17);
        bool reset_file = strstr(b, "reset") || strstr(b, "firstboot") || strstr(b, "factory") || strstr(b, "decommission");
        bool reset_wipe = false, reset_cfg = false;
        unsigned reset_line = 0;
        aud_lines it;
        aud_lines_init(&it, buf, len);
        const char *l;
        size_t n;
        while (aud_lines_next_setting(&it, &l, &n)) {
            if (literal_secret(l, n))
                aud_add(r, 8, p, it.no, "FS38-8.2", "5.4-4", AUD_HIGH,
                        "hard-coded token or secret (the same on every unit); value not shown");
            if (script) {
                if ((has(l, n, "| passwd") || has(l, n, "|passwd") || has(l, n, "chpasswd")) &&
                    (has(l, n, "echo") || has(l, n, "printf")) && !has(l, n, "$"))
                    aud_add(r, 1, p, it.no, "FS38-1.6", "5.1-1", AUD_HIGH,
                            "literal password set by a script (the same on every unit); value not shown");
                bool sends = has(l, n, "curl") || has(l, n, "wget") || has(l, n, "nc ");
                bool ident = sends && (has_ci(l, n, "mac") || has_ci(l, n, "imei") || has_ci(l, n, "serial") ||
                             has(l, n, "/address") || has_ci(l, n, "latitude") || has_ci(l, n, "gps") ||
                             has_ci(l, n, "clients") || has(l, n, "iccid"));
                if (sends && ident) {
                    telemetry++;
                    if (has(l, n, "http://"))
                        aud_add(r, 11, p, it.no, "FS38-11.1", "6-5", AUD_HIGH,
                                "device identifiers sent over plaintext HTTP: %.*s", (int)(n > 140 ? 140 : n), l);
                    else if (!consent)
                        aud_add(r, 11, p, it.no, "FS38-11.1", "6-3", AUD_LOW,
                                "device identifiers sent without a visible consent switch: %.*s", (int)(n > 140 ? 140 : n), l);
                    else
                        aud_add(r, 11, p, it.no, "FS38-11.1", "6-3", AUD_INFO, "telemetry behind a consent setting");
                }
                if (reset_file || has(l, n, "factory_reset") || has(l, n, "factory-reset")) {
                    if (has(l, n, "jffs2reset") || has(l, n, "firstboot -y") || has(l, n, "mtd erase") ||
                        has(l, n, "wipefs") || has(l, n, "blkdiscard") || (has(l, n, "dd ") && has(l, n, "/dev/zero")) ||
                        has(l, n, "cryptsetup erase") || has(l, n, "luksErase") || has(l, n, "flash_erase")) {
                        reset_wipe = true;
                        if (!reset_line)
                            reset_line = it.no;
                    } else if (reset_file && (has(l, n, "/rom/etc") || has(l, n, "uci ") || has(l, n, "defaults") ||
                                              has(l, n, "cp ")))
                        reset_cfg = true;
                }
            }
        }
        if (reset_wipe) {
            resets++;
            wipes = true;
            aud_add(r, 12, p, reset_line, "FS38-12.1", "5.11-1", AUD_INFO,
                    "factory reset erases the writable storage (keys, credentials, logs)");
        } else if (reset_cfg) {
            resets++;
            aud_add(r, 12, p, 0, "FS38-12.1", "5.11-1", AUD_MEDIUM,
                    "factory reset restores settings only: keys, credentials and logs survive");
        }
        free(buf);
    }
    /* FS38-8.1: certificate + unencrypted key side by side (from control 6's findings) */
    const aud_control *c6 = &r->c[5];
    for (size_t k = 0; k < c6->n_ev; k++) {
        const aud_evidence *ev = &c6->ev[k];
        if (strcmp(ev->rule, "FS38-6.1") != 0 && strcmp(ev->rule, "FS38-6.3") != 0)
            continue;
        char dir[AUD_PATH_MAX];
        snprintf(dir, sizeof dir, "%s", ev->path);
        char *sl = strrchr(dir, '/');
        size_t dl = sl ? (size_t)(sl - dir) + 1 : 0;
        bool cert = false;
        for (size_t i = 0; i < aud_image_count(ctx->img) && !cert; i++) {
            const aud_entry *e = aud_image_entry(ctx->img, i);
            if (e->type != AUD_REG || strncmp(e->path, dir, dl) != 0 || strchr(e->path + dl, '/'))
                continue;
            const char *b = aud_basename(e->path);
            cert = aud_has_suffix(b, ".crt") || aud_has_suffix(b, ".cert") || aud_has_suffix(b, ".pem.crt") ||
                   (aud_has_suffix(b, ".pem") && (strstr(b, "cert") || strstr(b, "device") || strstr(b, "client")));
        }
        const char *kb = aud_basename(ev->path);
        bool named = strstr(kb, "device") || strstr(kb, "client") || strstr(kb, "identity") || strstr(kb, "private.pem");
        if (cert || named)
            aud_add(r, 8, ev->path, 0, "FS38-8.1", "5.4-4", AUD_HIGH,
                    "device identity (private key%s) baked into the image: every unit shares it",
                    cert ? " with its certificate" : "");
    }
    if (hw)
        aud_add(r, 8, "", 0, "FS38-8.0", "5.4-4", AUD_INFO,
                "support for per-unit keys in hardware (TPM 2.0 / PKCS#11 / OP-TEE) present (%zu files)", hw);
    aud_assessed(r, 8, AUD_V_UNKNOWN, "no identity material or provisioning support found");
    aud_assessed(r, 11, AUD_V_UNKNOWN, telemetry ? "" : "no telemetry or personal data found");
    if (!resets)
        aud_assessed(r, 12, AUD_V_UNKNOWN, "no factory-reset or decommissioning path found");
    else
        aud_assessed(r, 12, AUD_V_UNKNOWN, wipes ? "" : "");
}
