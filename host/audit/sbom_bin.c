/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sbom_bin.c — version banners in binaries. The printable strings of a file (runs of >= 4
 * characters, as strings(1)) are joined by newlines; each banner pattern has a literal anchor
 * (found with memmem) and a POSIX extended regular expression tried on the few lines around
 * each anchor, so banners split over adjacent strings ("2.80" then "Dnsmasq version %s") are
 * found too. The patterns follow the banner formats the projects print (cve-bin-tool's checkers
 * document the same formats; their test strings are our oracle, see tests/test_sbom.c).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbom.h"
#include "sbom_int.h"

typedef struct banner {
    const char *name;   /* component name (maps to CPEs through cve_match.c's table) */
    const char *anchor; /* literal that must occur */
    const char *re;     /* extended regex; group `group` is the version */
    int group;
} banner;

static const banner banners[] = {
    { "busybox", "BusyBox v", "BusyBox v([0-9]+\\.[0-9]+(\\.[0-9]+)?)", 1 },
    { "openssl", "OpenSSL ", "OpenSSL ([0-9]+\\.[0-9]+\\.[0-9]+[a-z]{0,2})( |$)", 1 },
    { "dropbear", "dropbear_", "SSH-2\\.0-dropbear_([0-9]+\\.[0-9]+)", 1 },
    { "dropbear", "Dropbear", "^([0-9]{4}\\.[0-9]+)\nDropbear", 1 },
    { "dnsmasq", "dnsmasq-", "(^|[^a-zA-Z])dnsmasq-(gen_)?([0-9]+\\.[0-9]+)", 3 },
    { "dnsmasq", "Dnsmasq version", "^([0-9]+\\.[0-9]+)\nDnsmasq version", 1 },
    { "dnsmasq", "Dnsmasq version", "Dnsmasq version %s.*\n([0-9]+\\.[0-9]+)$", 1 },
    { "dnsmasq", "started, version %s", "^([0-9]+\\.[0-9]+)\nstarted, version %s", 1 },
    { "curl", "curl", "(^|[^a-zA-Z])curl[ /-]([0-9]+\\.[0-9]+\\.[0-9]+)", 2 },
    { "libcurl", "libcurl", "libcurl[ /-]([0-9]+\\.[0-9]+\\.[0-9]+)", 1 },
    { "openssh", "OpenSSH_", "OpenSSH_([0-9]+\\.[0-9]+(p[0-9]+)?)", 1 },
    { "lighttpd", "lighttpd/", "lighttpd/([0-9]+\\.[0-9]+\\.[0-9]+)", 1 },
    { "hostapd", "hostapd v", "hostapd v([0-9]+\\.[0-9]+(\\.[0-9]+)?)", 1 },
    { "hostapd", "hostapd v", "^([0-9]+\\.[0-9]+(\\.[0-9]+)?)(-devel)?\nhostapd v", 1 },
    { "wpa_supplicant", "wpa_supplicant v", "wpa_supplicant v([0-9]+\\.[0-9]+(\\.[0-9]+)?)", 1 },
    { "wpa_supplicant", "wpa_supplicant v", "^([0-9]+\\.[0-9]+(\\.[0-9]+)?)(-devel)?\nwpa_supplicant v", 1 },
    { "mosquitto", "mosquitto", "^([0-9]+\\.[0-9]+\\.[0-9]+)\nmosquitto", 1 },
    { "mosquitto", "mosquitto version ", "mosquitto version ([0-9]+\\.[0-9]+\\.[0-9]+)", 1 },
    { "zlib", "flate ", "(deflate|inflate) ([0-9]+\\.[0-9]+(\\.[0-9]+)*) Copyright", 2 },
    { "expat", "expat_", "expat_([0-9]+\\.[0-9]+\\.[0-9]+)", 1 },
    { "libupnp", "Portable SDK for UPnP devices/", "Portable SDK for UPnP devices/([0-9]+\\.[0-9]+\\.[0-9]+)", 1 },
    { "miniupnpd", "MiniUPnPd/", "MiniUPnPd/([0-9]+\\.[0-9]+(\\.[0-9]+)?)", 1 },
    { "glibc", "GLIBC ", "GLIBC ([0-9]+\\.[0-9]+)[-) ]", 1 },
    { "glibc", "stable release version ", "GNU C Library.*stable release version ([0-9]+\\.[0-9]+)", 1 },
    { "mbedtls", "bed TLS ", "[Mm]bed TLS ([0-9]+\\.[0-9]+\\.[0-9]+)", 1 },
    { "wolfssl", "wolfSSL ", "wolfSSL ([0-9]+\\.[0-9]+\\.[0-9]+)", 1 },
    { "nginx", "nginx/", "nginx/([0-9]+\\.[0-9]+\\.[0-9]+)", 1 },
    { "lua", "Lua ", "Lua ([0-9]+\\.[0-9]+\\.[0-9]+)  Copyright", 1 },
    { "libssh2", "libssh2_", "SSH-2\\.0-libssh2_([0-9]+\\.[0-9]+\\.[0-9]+)", 1 },
    { "linux", "vermagic=", "vermagic=([0-9]+\\.[0-9]+\\.[0-9]+)", 1 },
    { "linux", "Linux version ", "Linux version ([0-9]+\\.[0-9]+\\.[0-9]+)", 1 },
    { "linux", ") #", "^([0-9]+\\.[0-9]+\\.[0-9]+)[^ ]* \\([^)]*@[^)]*\\) #[0-9]+", 1 },
};
#define N_BANNERS (sizeof banners / sizeof banners[0])
#define BANNERS_PER_FILE 16
#define ANCHORS_PER_PATTERN 64 /* anchor occurrences tried per pattern and file */
#define MIN_STRING 4

static regex_t compiled[N_BANNERS];
static int compiled_state; /* 0 not yet, 1 ok, -1 failed */

static int compile_all(void)
{
    if (compiled_state)
        return compiled_state;
    for (size_t i = 0; i < N_BANNERS; i++)
        if (regcomp(&compiled[i], banners[i].re, REG_EXTENDED | REG_NEWLINE) != 0) {
            for (size_t j = 0; j < i; j++)
                regfree(&compiled[j]);
            compiled_state = -1;
            return -1;
        }
    compiled_state = 1;
    return 1;
}

static bool printable(uint8_t c) { return (c >= 0x20 && c < 0x7f) || c == '\t'; }

/* strings(1): runs of >= MIN_STRING printable bytes, each followed by '\n' */
static char *strings_blob(const uint8_t *d, size_t len, size_t *out_len)
{
    char *b = malloc(len + 2);
    if (!b)
        return NULL;
    size_t o = 0, i = 0;
    while (i < len) {
        size_t s = i;
        while (i < len && printable(d[i]))
            i++;
        if (i - s >= MIN_STRING) {
            memcpy(b + o, d + s, i - s);
            o += i - s;
            b[o++] = '\n';
        }
        if (i < len)
            i++;
    }
    b[o] = '\0';
    *out_len = o;
    return b;
}

static const char *find(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    if (m == 0 || n < m)
        return NULL;
    const char *end = hay + n - m;
    for (const char *p = hay; p <= end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) + 1);
        if (!p)
            return NULL;
        if (!memcmp(p, needle, m))
            return p;
    }
    return NULL;
}

static int add_banner(sbom_result *res, const char *name, const char *ver, const char *path)
{
    for (size_t i = 0; i < res->n_comp; i++) {
        sbom_component *c = &res->comp[i];
        if (c->origin == SBOM_FROM_BANNER && !strcmp(c->name, name) && c->version && !strcmp(c->version, ver))
            return sbom_component_add_where(c, path, 0) == 0 ? 0 : -1;
    }
    return sbom_add_component(res, SBOM_FROM_BANNER, name, ver, NULL, NULL, NULL, path, 0) < 0 ? -1 : 1;
}

size_t sbom_scan_banners(sbom_result *res, const char *path, const uint8_t *data, size_t len)
{
    if (compile_all() < 0)
        return 0;
    size_t blen;
    char *blob = strings_blob(data, len, &blen);
    if (!blob)
        return 0;
    size_t found = 0;
    bool seen[N_BANNERS] = { false };
    char *win = NULL;
    size_t win_cap = 0;
    for (size_t k = 0; k < N_BANNERS && found < BANNERS_PER_FILE; k++) {
        const banner *bn = &banners[k];
        /* one version per product and file */
        bool done = false;
        for (size_t j = 0; j < k && !done; j++)
            done = seen[j] && !strcmp(banners[j].name, bn->name);
        if (done)
            continue;
        /* every anchor occurrence (bounded): keep the most precise version, "7.4p1" over the
         * "7.4" of an earlier, shorter banner of the same release */
        char best[64] = "";
        const char *p = blob;
        for (int tries = 0; tries < ANCHORS_PER_PATTERN; tries++) {
            const char *a = find(p, blen - (size_t)(p - blob), bn->anchor);
            if (!a)
                break;
            p = a + 1;
            /* two lines before the anchor's line, two after */
            const char *s = a;
            for (int l = 0; l < 3 && s > blob; l++) {
                s--;
                while (s > blob && s[-1] != '\n')
                    s--;
            }
            const char *e = a;
            for (int l = 0; l < 3 && e < blob + blen; l++) {
                const char *nl = memchr(e, '\n', (size_t)(blob + blen - e));
                e = nl ? nl + 1 : blob + blen;
            }
            size_t wl = (size_t)(e - s);
            if (wl + 1 > win_cap) {
                char *w = realloc(win, wl + 1);
                if (!w)
                    break;
                win = w;
                win_cap = wl + 1;
            }
            memcpy(win, s, wl);
            win[wl] = '\0';
            /* every match inside the window */
            size_t off = 0;
            regmatch_t m[6];
            while (off < wl && regexec(&compiled[k], win + off, 6, m, off && win[off - 1] != '\n' ? REG_NOTBOL : 0) == 0) {
                size_t next = off + (size_t)(m[0].rm_eo > m[0].rm_so ? m[0].rm_eo : m[0].rm_so + 1);
                if (m[bn->group].rm_so >= 0) {
                    const char *v = win + off + m[bn->group].rm_so;
                    size_t vl = (size_t)(m[bn->group].rm_eo - m[bn->group].rm_so);
                    if (vl && vl < sizeof best &&
                        (!best[0] || (vl > strlen(best) && !strncmp(v, best, strlen(best))))) {
                        memcpy(best, v, vl);
                        best[vl] = '\0';
                    }
                }
                off = next;
            }
        }
        if (best[0]) {
            if (add_banner(res, bn->name, best, path) < 0)
                break;
            seen[k] = true;
            found++;
        }
    }
    free(win);
    free(blob);
    return found;
}
