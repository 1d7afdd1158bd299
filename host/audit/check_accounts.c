/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_accounts.c — control 1 (ETSI EN 303 645 5.1-1): account databases with default or
 * guessable passwords.
 *
 * Every text file of the image (at most 1 MiB) is read line by line for "user:HASH[:...]" lines
 * (shadow, passwd, htpasswd, Mosquitto password files, backups such as shadow.bak). A field is
 * taken as a password hash only when libcrypt (crypt_r, every scheme libxcrypt knows) accepts it
 * as a setting and reproduces a hash of the same shape, so JavaScript or shell text that merely
 * looks like "user:$..." is never reported. Traditional DES hashes (13 characters, no "$") and
 * empty password fields are only taken from files named like account databases (passwd, shadow,
 * htpasswd, ...). Locked fields ("!", "*", "!$6$...") are not reported.
 * Each hash is tried against the Mirai botnet's credential list (original case, below), the
 * project's embedded lists (fs38_passwords_mirai / fs38_passwords_common, src/identity/), the
 * account's user name and the device's host name.
 *
 * Rules: FS38-1.1 Mirai password, FS38-1.2 common/guessable password, FS38-1.3 empty password
 * field, FS38-1.4 hash scheme this version cannot test (apr1, {SHA}, Mosquitto: unsalted or
 * single-round digests), FS38-1.0 accounts checked (pass).
 */
#include "audit.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs38/auth.h"

/*
 * The distinct passwords of the leaked Mirai bot's 62 telnet credential pairs, in their original
 * case (mirai/bot/scanner.c lines 124-185 of jgamblin/Mirai-Source-Code, commit 4889a6f7,
 * decoded from the obfuscated bytes; see shared/vectors/audit/credentials/ and
 * src/identity/passwords_mirai.c). Facts about a malware sample, reproduced with attribution.
 */
static const char *const mirai_pw[] = {
    "xc3511", "vizxv", "admin", "888888", "xmhdipc", "default", "juantech", "123456", "54321", "support",
    "password", "root", "12345", "user", "pass", "admin1234", "1111", "smcadmin", "666666", "1234",
    "klv123", "meinsm", "service", "supervisor", "guest", "4321", "1111111", "7ujMko0admin", "7ujMko0vizxv",
    "Zte521", "anko", "dreambox", "hi3518", "ikwb", "jvbzd", "klv1234", "realtek", "system", "zlxx.",
    "00000000", "fucker", "tech", "ubnt", "",
};

/* Vendor and distribution defaults and very common passwords missing from the embedded lists. */
static const char *const extra_pw[] = {
    "secret", "changeme", "toor", "raspberry", "alpine", "openwrt", "letmein", "private", "public",
    "password1", "admin123", "root123", "test", "1234567890", "default1", "welcome",
};

#define MAX_FILE (1u << 20)
#define MAX_HASHES 2000

typedef struct cand { char **pw; bool *mirai; size_t n, cap; } cand;

static void cand_add(cand *c, const char *pw, bool mirai)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->pw[i], pw) == 0)
            return;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        char **np = realloc(c->pw, nc * sizeof *np);
        if (!np)
            return;
        c->pw = np;
        bool *nm = realloc(c->mirai, nc * sizeof *nm);
        if (!nm)
            return;
        c->mirai = nm;
        c->cap = nc;
    }
    char *d = strdup(pw);
    if (!d)
        return;
    c->pw[c->n] = d;
    c->mirai[c->n] = mirai;
    c->n++;
}

static void cand_list(cand *c, const char *list, size_t len, bool mirai)
{
    size_t i = 0;
    while (i < len) {
        size_t n = strnlen(list + i, len - i);
        char tmp[128];
        if (n < sizeof tmp) {
            memcpy(tmp, list + i, n);
            tmp[n] = 0;
            cand_add(c, tmp, mirai);
        }
        i += n + 1;
    }
}

static bool crypt_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
           ch == '/';
}

/* An account-database name: passwd, shadow, htpasswd, master.passwd, their backups. */
static bool db_name(const char *path)
{
    const char *b = aud_basename(path);
    return strstr(b, "passwd") || strstr(b, "shadow") || strstr(b, "htpasswd") || strstr(b, "pwfile") ||
           strstr(b, "passwords");
}

/*
 * Hostile images must not stall the assessor: a hash's cost parameters are bounded before
 * crypt_r ever sees it (bcrypt cost <= 13, SHA-crypt rounds <= 200 000, yescrypt N <= 2^16,
 * no scrypt). Costlier hashes are not tested (a real device would not use them either).
 */
static bool affordable(const char *h)
{
    if (h[1] == '2' && h[2] && h[3] == '$') {
        int cost = (h[4] - '0') * 10 + (h[5] - '0');
        return h[4] >= '0' && h[4] <= '9' && h[5] >= '0' && h[5] <= '9' && cost >= 4 && cost <= 13;
    }
    if ((h[1] == '5' || h[1] == '6') && h[2] == '$') {
        if (strncmp(h + 3, "rounds=", 7) != 0)
            return true;
        char *end;
        unsigned long r = strtoul(h + 10, &end, 10);
        return *end == '$' && r <= 200000;
    }
    if (h[1] == 'y' && h[2] == '$') {
        /* $y$ then the parameters: flavour 'j', N as log2 - 1 in crypt's base 64 ('.' = 0) */
        static const char b64c[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        if (h[3] != 'j' || !h[4])
            return false;
        const char *k = strchr(b64c, h[4]);
        return k && (k - b64c) <= 15;
    }
    if (h[1] == '1' && h[2] == '$')
        return true;
    return false; /* scrypt, gost-yescrypt, SunMD5, sha1crypt, ...: not tested */
}

typedef enum { H_NONE, H_CRYPT, H_DES, H_APR1, H_SHA, H_MOSQ } htype;

/* Classify a password field. H_CRYPT / H_DES are confirmed with crypt_r. */
static htype classify(const char *h, struct crypt_data *cd, bool dbfile)
{
    size_t n = strlen(h);
    if (n == 0)
        return H_NONE;
    if (aud_has_prefix(h, "{SHA}")) {
        if (n != 33)
            return H_NONE;
        for (size_t i = 5; i < n; i++)
            if (!(crypt_char(h[i]) || h[i] == '+' || h[i] == '='))
                return H_NONE;
        return H_SHA;
    }
    if (aud_has_prefix(h, "$apr1$")) {
        const char *s = h + 6, *d = strchr(s, '$');
        if (!d || d - s > 8 || strlen(d + 1) != 22)
            return H_NONE;
        for (const char *p = s; *p; p++)
            if (!crypt_char(*p) && *p != '$')
                return H_NONE;
        return H_APR1;
    }
    if ((aud_has_prefix(h, "$6$") || aud_has_prefix(h, "$7$"))) {
        /* Mosquitto: $6$<base64 salt>$<base64 sha512> or $7$<iterations>$<salt>$<hash> */
        bool b64 = strchr(h, '+') || strchr(h, '=');
        const char *last = strrchr(h, '$');
        if (b64 || (aud_has_prefix(h, "$6$") && last && strlen(last + 1) == 88)) {
            for (const char *p = h + 3; *p; p++)
                if (!(crypt_char(*p) || *p == '+' || *p == '=' || *p == '$'))
                    return H_NONE;
            if (last && strlen(last + 1) >= 40)
                return H_MOSQ;
            return H_NONE;
        }
    }
    if (h[0] == '$') {
        for (const char *p = h; *p; p++)
            if (!(crypt_char(*p) || *p == '$' || *p == ',' || *p == '='))
                return H_NONE;
        if (n < 20 || !affordable(h))
            return H_NONE;
        const char *out = crypt_r("fs38-probe", h, cd);
        if (!out || out[0] == '*' || strlen(out) != n)
            return H_NONE;
        const char *lh = strrchr(h, '$'), *lo = strrchr(out, '$');
        if (!lh || !lo || lh - h != lo - out || memcmp(h, out, (size_t)(lh - h)) != 0)
            return H_NONE;
        return H_CRYPT;
    }
    if (dbfile && n == 13) {
        for (size_t i = 0; i < n; i++)
            if (!crypt_char(h[i]))
                return H_NONE;
        const char *out = crypt_r("fs38-probe", h, cd);
        if (!out || strlen(out) != 13 || memcmp(out, h, 2) != 0)
            return H_NONE;
        return H_DES;
    }
    return H_NONE;
}

static const char *scheme_name(const char *h)
{
    if (aud_has_prefix(h, "$1$")) return "md5crypt";
    if (aud_has_prefix(h, "$5$")) return "sha256crypt";
    if (aud_has_prefix(h, "$6$")) return "sha512crypt";
    if (aud_has_prefix(h, "$2")) return "bcrypt";
    if (aud_has_prefix(h, "$y$")) return "yescrypt";
    if (aud_has_prefix(h, "$gy$")) return "gost-yescrypt";
    if (aud_has_prefix(h, "$7$")) return "scrypt";
    if (aud_has_prefix(h, "$sha1$")) return "sha1crypt";
    if (aud_has_prefix(h, "$md5")) return "SunMD5";
    if (h[0] != '$') return "DES crypt";
    return "crypt";
}

typedef struct acct_state {
    aud_ctx *ctx;
    struct crypt_data *cd;
    cand base;            /* the lists, shared */
    char host[5][64];     /* host / product names */
    size_t n_host;
    size_t accounts, hashes, files;
    clock_t t0;       /* the 60 s CPU budget for cracking all hashes */
    bool budget_out;
} acct_state;

/* Try the candidates: index of the match in base (mirai flag), -2 user name / host, -1 none. */
static int crack(acct_state *st, const char *user, const char *hash, const char **found)
{
    /* expensive schemes (bcrypt cost > 8, many rounds) get the Mirai list and names only */
    clock_t t0 = clock();
    const char *o = crypt_r("fs38-probe", hash, st->cd);
    double per = (double)(clock() - t0) / CLOCKS_PER_SEC;
    (void)o;
    bool cheap = per < 0.01;
    const char *names[8];
    size_t nn = 0;
    names[nn++] = user;
    for (size_t i = 0; i < st->n_host && nn < 8; i++)
        names[nn++] = st->host[i];
    for (size_t i = 0; i < nn; i++) {
        o = crypt_r(names[i], hash, st->cd);
        if (o && strcmp(o, hash) == 0) {
            *found = names[i];
            return -2;
        }
    }
    for (size_t i = 0; i < st->base.n; i++) {
        if (!cheap && !st->base.mirai[i])
            continue;
        if ((double)(clock() - st->t0) / CLOCKS_PER_SEC > 60.0) {
            st->budget_out = true;
            break;
        }
        o = crypt_r(st->base.pw[i], hash, st->cd);
        if (o && strcmp(o, hash) == 0) {
            *found = st->base.pw[i];
            return (int)i;
        }
    }
    return -1;
}

static void scan_file(acct_state *st, const aud_entry *e)
{
    uint8_t *buf;
    size_t len;
    if (aud_image_read(st->ctx->img, e, MAX_FILE, &buf, &len, NULL, 0) != 0)
        return;
    if (memchr(buf, 0, len < 4096 ? len : 4096)) {
        free(buf);
        return;
    }
    bool dbfile = db_name(e->path);
    bool any = false;
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *line;
    size_t ll;
    while (aud_lines_next(&it, &line, &ll)) {
        if (ll == 0 || ll > 1024)
            continue;
        char tmp[1025];
        memcpy(tmp, line, ll);
        tmp[ll] = 0;
        while (ll && (tmp[ll - 1] == ' ' || tmp[ll - 1] == '\t'))
            tmp[--ll] = 0;
        char *c1 = strchr(tmp, ':');
        if (!c1 || c1 == tmp || c1 - tmp > 32)
            continue;
        bool user_ok = true;
        for (char *p = tmp; p < c1; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                  *p == '-' || *p == '.' || *p == '@' || *p == '$'))
                user_ok = false;
        if (!user_ok)
            continue;
        *c1 = 0;
        const char *user = tmp;
        char *field = c1 + 1;
        char *c2 = strchr(field, ':');
        size_t colons = 1;
        for (char *p = field; *p; p++)
            colons += *p == ':';
        if (c2)
            *c2 = 0;
        if (field[0] == '\0') {
            /* passwd (7 fields) or shadow (9 fields) line with an empty password */
            if (dbfile && (colons == 6 || colons == 8)) {
                st->accounts++;
                any = true;
                aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.3", "5.1-1", AUD_CRITICAL,
                        "account '%s' has an empty password field: login without a password", user);
            }
            continue;
        }
        if (field[0] == '!' || field[0] == '*' || strcmp(field, "x") == 0) {
            if (dbfile && (colons == 6 || colons == 8)) {
                st->accounts++;
                any = true;
            }
            continue; /* locked or kept elsewhere: not a finding */
        }
        htype t = classify(field, st->cd, dbfile);
        if (t == H_NONE)
            continue;
        any = true;
        st->accounts++;
        if (t == H_APR1 || t == H_SHA || t == H_MOSQ) {
            const char *what = t == H_APR1 ? "Apache apr1 (MD5-based)" : t == H_SHA ? "{SHA} (unsalted SHA-1)"
                                                                                     : "Mosquitto (SHA-512 digest)";
            aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.4", "5.1-1", AUD_MEDIUM,
                    "account '%s': %s password hash: a fast hash this version cannot test against the lists",
                    user, what);
            continue;
        }
        if (st->hashes >= MAX_HASHES)
            continue;
        st->hashes++;
        const char *found = NULL;
        int k = crack(st, user, field, &found);
        if (k >= 0 && st->base.mirai[k])
            aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.1", "5.1-1", AUD_CRITICAL,
                    "account '%s': %s hash of '%s', a password of the Mirai botnet list", user, scheme_name(field),
                    found);
        else if (k >= 0)
            aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.2", "5.1-1", AUD_HIGH,
                    "account '%s': %s hash of '%s', a common password", user, scheme_name(field), found);
        else if (k == -2)
            aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.2", "5.1-1", AUD_HIGH,
                    "account '%s': %s hash of '%s' (the user or device name)", user, scheme_name(field), found);
        else if (t == H_DES)
            aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.5", "5.1-1", AUD_LOW,
                    "account '%s': DES crypt hash (8-character passwords, fast to crack); not in the lists", user);
        else
            aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.0", "5.1-1", AUD_INFO,
                    "account '%s': %s hash, not a Mirai-list, common, user or host-name password", user,
                    scheme_name(field));
    }
    if (any)
        st->files++;
    free(buf);
}

static void add_host_name(acct_state *st, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\'' || *s == '"'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\'' || s[n - 1] == '"'))
        n--;
    if (!n || n >= 64 || st->n_host + 2 > 5)
        return;
    memcpy(st->host[st->n_host], s, n);
    st->host[st->n_host][n] = 0;
    st->n_host++;
    /* lower-case variant */
    memcpy(st->host[st->n_host], s, n);
    st->host[st->n_host][n] = 0;
    for (size_t i = 0; i < n; i++)
        if (st->host[st->n_host][i] >= 'A' && st->host[st->n_host][i] <= 'Z')
            st->host[st->n_host][i] = (char)(st->host[st->n_host][i] + 32);
    if (strcmp(st->host[st->n_host], st->host[st->n_host - 1]) != 0)
        st->n_host++;
}

static void host_names(acct_state *st)
{
    uint8_t *buf;
    size_t len;
    if (aud_read_path(st->ctx, "etc/hostname", 256, &buf, &len) == 0) {
        char *nl = memchr(buf, '\n', len);
        add_host_name(st, (const char *)buf, nl ? (size_t)(nl - (char *)buf) : len);
        free(buf);
    }
    if (aud_read_path(st->ctx, "etc/config/system", 65536, &buf, &len) == 0) {
        aud_lines it;
        aud_lines_init(&it, buf, len);
        const char *l;
        size_t ll;
        while (aud_lines_next(&it, &l, &ll)) {
            while (ll && (*l == ' ' || *l == '\t'))
                l++, ll--;
            if (ll > 16 && memcmp(l, "option hostname", 15) == 0) {
                add_host_name(st, l + 15, ll - 15);
                break;
            }
        }
        free(buf);
    }
}

void aud_check_accounts(aud_ctx *ctx)
{
    acct_state st = { .ctx = ctx, .t0 = clock() };
    st.cd = calloc(1, sizeof *st.cd);
    if (!st.cd) {
        ctx->r->oom = true;
        return;
    }
    for (size_t i = 0; i < sizeof mirai_pw / sizeof mirai_pw[0]; i++)
        cand_add(&st.base, mirai_pw[i], true);
    cand_list(&st.base, fs38_passwords_mirai, fs38_passwords_mirai_len, true);
    cand_list(&st.base, fs38_passwords_common, fs38_passwords_common_len, false);
    for (size_t i = 0; i < sizeof extra_pw / sizeof extra_pw[0]; i++)
        cand_add(&st.base, extra_pw[i], false);
    host_names(&st);
    for (size_t i = 0; i < aud_image_count(ctx->img); i++) {
        const aud_entry *e = aud_image_entry(ctx->img, i);
        if (e->type != AUD_REG || e->size == 0 || e->size > MAX_FILE)
            continue;
        scan_file(&st, e);
    }
    if (st.budget_out)
        aud_add(ctx->r, 1, "", 0, "FS38-1.4", "5.1-1", AUD_LOW,
                "60 s budget for testing password hashes used up: later hashes only partly tested");
    if (st.files)
        aud_add(ctx->r, 1, "", 0, "FS38-1.0", "5.1-1", AUD_INFO,
                "%zu account(s) in %zu account database(s) checked against %zu Mirai-list and common passwords",
                st.accounts, st.files, st.base.n);
    aud_assessed(ctx->r, 1, AUD_V_UNKNOWN, "no account database (passwd, shadow, htpasswd, ...) found");
    for (size_t i = 0; i < st.base.n; i++)
        free(st.base.pw[i]);
    free(st.base.pw);
    free(st.base.mirai);
    explicit_bzero(st.cd, sizeof *st.cd);
    free(st.cd);
}
