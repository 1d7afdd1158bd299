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
 * Schemes libcrypt does not know are composed here from Mbed TLS primitives (PSA; hosted builds
 * enable MD5, SHA-1 and SHA-512, port/mbedtls/fs38_mbedtls_config.h): Apache apr1 (md5crypt
 * with the magic "$apr1$", checked once against libcrypt's "$1$"), htpasswd {SHA} (base64
 * SHA-1, unsalted), Mosquitto's $6$ (base64 SHA-512 of password || salt) and $7$
 * (PBKDF2-HMAC-SHA512, iterations given; at most MOSQ_MAX_ITERATIONS are tested).
 *
 * Rules: FS38-1.1 Mirai password, FS38-1.2 common/guessable password, FS38-1.3 empty password
 * field, FS38-1.4 hash this version cannot test (malformed, cost too high, time budget used up),
 * FS38-1.7 a fast hash (apr1, {SHA}, Mosquitto $6$) not in the lists, FS38-1.0 accounts checked
 * (pass).
 */
#include "audit.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/base64.h>
#include <mbedtls/pkcs5.h>
#include <psa/crypto.h>

#include "fs38/auth.h"
#include "fs38/util.h"

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

/* Vendor and distribution defaults and very common passwords missing from the embedded lists
 * (the embedded common list keeps only entries of 8+ characters; the short ones here are among
 * the first entries of John the Ripper's password.lst, public domain). */
static const char *const extra_pw[] = {
    "secret", "changeme", "toor", "raspberry", "alpine", "openwrt", "letmein", "private", "public",
    "password1", "admin123", "root123", "test", "1234567890", "default1", "welcome", "abc123", "qwerty",
    "dragon", "monkey", "111111", "master", "shadow", "tigger", "money", "summer", "hello", "michael",
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

/* ---- schemes libcrypt does not know, composed from Mbed TLS primitives through PSA --------- */

static const char crypt64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static bool hash_update(psa_hash_operation_t *op, const void *p, size_t n)
{
    return n == 0 || psa_hash_update(op, p, n) == PSA_SUCCESS;
}

/*
 * md5crypt (Poul-Henning Kamp's FreeBSD scheme) with a given magic: "$1$" gives glibc's
 * md5crypt, "$apr1$" Apache's apr1 (the same algorithm, another magic). MD5 is Mbed TLS's
 * (PSA); only the composition is here. out: magic, salt, '$', 22 characters, NUL.
 */
static bool md5crypt(const char *pw, const char *magic, const char *salt, size_t slen, char *out, size_t outlen)
{
    size_t pl = strlen(pw), ml = strlen(magic);
    if (slen > 8 || ml + slen + 1 + 22 + 1 > outlen)
        return false;
    uint8_t alt[16], fin[16];
    size_t ol;
    bool ok = false;
    psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
    if (psa_hash_setup(&op, PSA_ALG_MD5) != PSA_SUCCESS || !hash_update(&op, pw, pl) ||
        !hash_update(&op, salt, slen) || !hash_update(&op, pw, pl) ||
        psa_hash_finish(&op, alt, sizeof alt, &ol) != PSA_SUCCESS)
        goto done;
    if (psa_hash_setup(&op, PSA_ALG_MD5) != PSA_SUCCESS || !hash_update(&op, pw, pl) ||
        !hash_update(&op, magic, ml) || !hash_update(&op, salt, slen))
        goto done;
    for (size_t k = pl; k > 0; k -= k > 16 ? 16 : k)
        if (!hash_update(&op, alt, k > 16 ? 16 : k))
            goto done;
    for (size_t i = pl; i; i >>= 1)
        if (!hash_update(&op, (i & 1) ? "" : pw, 1))
            goto done;
    if (psa_hash_finish(&op, fin, sizeof fin, &ol) != PSA_SUCCESS)
        goto done;
    for (unsigned i = 0; i < 1000; i++) {
        if (psa_hash_setup(&op, PSA_ALG_MD5) != PSA_SUCCESS ||
            !((i & 1) ? hash_update(&op, pw, pl) : hash_update(&op, fin, 16)) ||
            !(i % 3 ? hash_update(&op, salt, slen) : true) || !(i % 7 ? hash_update(&op, pw, pl) : true) ||
            !((i & 1) ? hash_update(&op, fin, 16) : hash_update(&op, pw, pl)) ||
            psa_hash_finish(&op, fin, sizeof fin, &ol) != PSA_SUCCESS)
            goto done;
    }
    memcpy(out, magic, ml);
    memcpy(out + ml, salt, slen);
    char *o = out + ml + slen;
    *o++ = '$';
    static const uint8_t grp[5][3] = { { 0, 6, 12 }, { 1, 7, 13 }, { 2, 8, 14 }, { 3, 9, 15 }, { 4, 10, 5 } };
    for (size_t g = 0; g < 5; g++) {
        uint32_t v = (uint32_t)fin[grp[g][0]] << 16 | (uint32_t)fin[grp[g][1]] << 8 | fin[grp[g][2]];
        for (int k = 0; k < 4; k++, v >>= 6)
            *o++ = crypt64[v & 0x3f];
    }
    uint32_t v = fin[11];
    for (int k = 0; k < 2; k++, v >>= 6)
        *o++ = crypt64[v & 0x3f];
    *o = 0;
    ok = true;
done:
    psa_hash_abort(&op);
    explicit_bzero(alt, sizeof alt);
    explicit_bzero(fin, sizeof fin);
    return ok;
}

/* A parsed hash of a scheme libcrypt does not know. */
typedef struct legacy {
    htype t;
    char salt[16];        /* apr1: the salt characters */
    size_t slen;
    uint8_t bsalt[64];    /* Mosquitto: the decoded salt */
    size_t bslen;
    uint8_t digest[64];   /* {SHA}: 20 bytes; Mosquitto: 64 */
    size_t dlen;
    unsigned long iterations; /* Mosquitto $7$ */
} legacy;

#define MOSQ_MAX_ITERATIONS 100000ul

static bool b64dec(const char *s, size_t n, uint8_t *out, size_t cap, size_t *olen)
{
    return mbedtls_base64_decode(out, cap, olen, (const unsigned char *)s, n) == 0;
}

/* Parse an apr1, {SHA} or Mosquitto hash (classify() accepted its shape). false: not usable. */
static bool legacy_parse(const char *h, htype t, legacy *L)
{
    memset(L, 0, sizeof *L);
    L->t = t;
    if (t == H_APR1) {
        const char *s = h + 6, *d = strchr(s, '$');
        L->slen = (size_t)(d - s);
        memcpy(L->salt, s, L->slen);
        return true;
    }
    if (t == H_SHA)
        return b64dec(h + 5, strlen(h + 5), L->digest, sizeof L->digest, &L->dlen) && L->dlen == 20;
    /* Mosquitto: $6$SALT$HASH, $7$ITERATIONS$SALT$HASH (salt and hash base64) */
    const char *p = h + 3;
    if (h[1] == '7') {
        char *end;
        L->iterations = strtoul(p, &end, 10);
        if (end == p || *end != '$' || L->iterations == 0)
            return false;
        p = end + 1;
    }
    const char *d = strchr(p, '$');
    if (!d || strchr(d + 1, '$'))
        return false;
    return b64dec(p, (size_t)(d - p), L->bsalt, sizeof L->bsalt, &L->bslen) && L->bslen > 0 &&
           b64dec(d + 1, strlen(d + 1), L->digest, sizeof L->digest, &L->dlen) && L->dlen == 64;
}

/* Does pw give the hash? (digest comparisons constant-time) */
static bool legacy_match(const legacy *L, const char *hash, const char *pw)
{
    size_t pl = strlen(pw), ol;
    uint8_t dg[64];
    bool ok = false;
    if (L->t == H_APR1) {
        char out[64];
        ok = md5crypt(pw, "$apr1$", L->salt, L->slen, out, sizeof out) && strlen(out) == strlen(hash) &&
             fs38_ct_compare(out, hash, strlen(out)) == 0;
        explicit_bzero(out, sizeof out);
        return ok;
    }
    if (L->t == H_SHA) {
        ok = psa_hash_compute(PSA_ALG_SHA_1, (const uint8_t *)pw, pl, dg, sizeof dg, &ol) == PSA_SUCCESS &&
             ol == 20 && fs38_ct_compare(dg, L->digest, 20) == 0;
    } else if (L->iterations == 0) {
        psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
        ok = psa_hash_setup(&op, PSA_ALG_SHA_512) == PSA_SUCCESS && hash_update(&op, pw, pl) &&
             hash_update(&op, L->bsalt, L->bslen) && psa_hash_finish(&op, dg, sizeof dg, &ol) == PSA_SUCCESS &&
             ol == 64 && fs38_ct_compare(dg, L->digest, 64) == 0;
        psa_hash_abort(&op);
    } else {
        ok = mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA512, (const unsigned char *)pw, pl, L->bsalt, L->bslen,
                                           (unsigned int)L->iterations, 64, dg) == 0 &&
             fs38_ct_compare(dg, L->digest, 64) == 0;
    }
    explicit_bzero(dg, sizeof dg);
    return ok;
}

static const char *legacy_name(const legacy *L)
{
    if (L->t == H_APR1)
        return "Apache apr1 (MD5-based)";
    if (L->t == H_SHA)
        return "{SHA} (unsalted SHA-1)";
    return L->iterations ? "Mosquitto PBKDF2-SHA512" : "Mosquitto salted SHA-512";
}

/* The MD5 composition checked against libcrypt's md5crypt, once: a wrong apr1 would crack nothing. */
static bool md5crypt_selftest(struct crypt_data *cd)
{
    char out[64];
    const char *ref = crypt_r("fs38-probe", "$1$Qw3rTy12$", cd);
    return ref && md5crypt("fs38-probe", "$1$", "Qw3rTy12", 8, out, sizeof out) && strcmp(ref, out) == 0;
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
    bool apr1_ok;     /* the MD5 composition reproduces libcrypt's md5crypt */
    /* default-password findings of system accounts (shadow / passwd lines), and the accounts a
     * boot script forces to change their password (chage -d 0, passwd -e): FS38-1.8 */
    struct pend { size_t ev; char user[33]; char *path; unsigned line; bool lastchg0; } *pend;
    size_t n_pend, cap_pend;
    struct forced { char user[33]; char *path; unsigned line; } *forced;
    size_t n_forced, cap_forced;
} acct_state;

/* One hash to test: a libcrypt one (L NULL) or one of the schemes composed above. */
typedef struct matcher { const char *hash; const legacy *L; } matcher;

static bool try_pw(acct_state *st, const matcher *m, const char *pw)
{
    if (m->L)
        return legacy_match(m->L, m->hash, pw);
    const char *o = crypt_r(pw, m->hash, st->cd);
    return o && strcmp(o, m->hash) == 0;
}

/* Try the candidates: index of the match in base (mirai flag), -2 user name / host, -1 none. */
static int crack(acct_state *st, const char *user, const matcher *m, const char **found)
{
    /* expensive schemes (bcrypt cost > 8, many rounds) get the Mirai list and names only */
    clock_t t0 = clock();
    (void)try_pw(st, m, "fs38-probe");
    double per = (double)(clock() - t0) / CLOCKS_PER_SEC;
    bool cheap = per < 0.01;
    const char *names[8];
    size_t nn = 0;
    names[nn++] = user;
    for (size_t i = 0; i < st->n_host && nn < 8; i++)
        names[nn++] = st->host[i];
    for (size_t i = 0; i < nn; i++) {
        if (try_pw(st, m, names[i])) {
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
        if (try_pw(st, m, st->base.pw[i])) {
            *found = st->base.pw[i];
            return (int)i;
        }
    }
    return -1;
}


/* ---- forced password change at first login (control 1 mitigation, FS38-1.8) ------------------ */

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 8;
    void *na = realloc(*arr, nc * elem);
    if (!na)
        return false;
    *arr = na;
    *cap = nc;
    return true;
}

static bool user_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
}

/* The command word is `name` (or a path ending in "/name"). */
static bool is_cmd(const char *tok, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n >= k && memcmp(tok + n - k, name, k) == 0 && (n == k || tok[n - k - 1] == '/');
}

/*
 * A script line forcing a password change at the next login: `chage -d 0 USER`,
 * `chage --lastday 0 USER`, `passwd -e USER`, `passwd --expire USER` (a literal user name; one
 * in a variable is not resolved). Records the user.
 */
static void forced_scan(acct_state *st, const char *path, unsigned no, const char *line, size_t ll)
{
    const char *tok[24];
    size_t tl[24], nt = 0;
    for (size_t i = 0; i < ll && nt < 24;) {
        while (i < ll && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i < ll && line[i] == '#')
            break;
        size_t b = i;
        while (i < ll && line[i] != ' ' && line[i] != '\t' && line[i] != ';' && line[i] != '&' && line[i] != '|')
            i++;
        if (i > b) {
            tok[nt] = line + b;
            tl[nt++] = i - b;
        }
        if (i < ll && (line[i] == ';' || line[i] == '&' || line[i] == '|') && nt < 24) {
            tok[nt] = line + i; /* a separator ends a command */
            tl[nt++] = 0;
            i++;
        }
    }
    for (size_t c = 0; c < nt; c++) {
        bool chage = is_cmd(tok[c], tl[c], "chage"), pw = !chage && is_cmd(tok[c], tl[c], "passwd");
        if (!chage && !pw)
            continue;
        bool force = false;
        const char *user = NULL;
        size_t ul = 0;
        for (size_t a = c + 1; a < nt && tl[a]; a++) {
            const char *t = tok[a];
            size_t n = tl[a];
            if (chage && ((n == 2 && memcmp(t, "-d", 2) == 0) || (n == 9 && memcmp(t, "--lastday", 9) == 0)) &&
                a + 1 < nt && tl[a + 1] == 1 && tok[a + 1][0] == '0') {
                force = true;
                a++;
            } else if (chage && ((n == 3 && memcmp(t, "-d0", 3) == 0) || (n == 11 && memcmp(t, "--lastday=0", 11) == 0))) {
                force = true;
            } else if (pw && ((n == 2 && memcmp(t, "-e", 2) == 0) || (n == 8 && memcmp(t, "--expire", 8) == 0))) {
                force = true;
            } else if (t[0] != '-') {
                user = t;
                ul = n;
            }
        }
        if (!force || !user || ul == 0 || ul > 32)
            continue;
        bool ok = true;
        for (size_t i = 0; i < ul; i++)
            ok = ok && user_char(user[i]);
        if (!ok || !grow((void **)&st->forced, &st->cap_forced, st->n_forced, sizeof *st->forced))
            continue;
        struct forced *f = &st->forced[st->n_forced];
        memcpy(f->user, user, ul);
        f->user[ul] = 0;
        f->path = strdup(path);
        f->line = no;
        if (f->path)
            st->n_forced++;
    }
}

/* A default-password finding of a system account, to be mitigated by a forced change. */
static void pend_add(acct_state *st, const char *user, const char *path, unsigned line, bool lastchg0)
{
    aud_control *c = &st->ctx->r->c[0];
    if (c->n_ev == 0 || !grow((void **)&st->pend, &st->cap_pend, st->n_pend, sizeof *st->pend))
        return;
    struct pend *p = &st->pend[st->n_pend];
    p->ev = c->n_ev - 1;
    size_t ul = strnlen(user, sizeof p->user - 1); /* user names are at most 32 characters (scan_file) */
    memcpy(p->user, user, ul);
    p->user[ul] = 0;
    p->path = strdup(path);
    p->line = line;
    p->lastchg0 = lastchg0;
    if (p->path)
        st->n_pend++;
}

/*
 * A default password whose change is forced at the first login (shadow last-change field 0, or
 * a boot script's chage -d 0 / passwd -e for that account) is mitigated: the finding becomes a
 * warning (low) and FS38-1.8 says where the change is forced. The default still opens the
 * first login (a warning, never a pass on its own).
 */
static void apply_forced(acct_state *st)
{
    aud_report *r = st->ctx->r;
    for (size_t i = 0; i < st->n_pend; i++) {
        struct pend *p = &st->pend[i];
        const struct forced *f = NULL;
        for (size_t k = 0; k < st->n_forced && !f; k++)
            if (strcmp(st->forced[k].user, p->user) == 0)
                f = &st->forced[k];
        if (!p->lastchg0 && !f)
            continue;
        aud_evidence *e = &r->c[0].ev[p->ev];
        if (e->sev <= AUD_LOW)
            continue;
        const char *how = p->lastchg0 ? "shadow last-change field 0" : "the boot script runs a forced change";
        size_t n = strlen(e->finding) + strlen(how) + 96;
        char *nf = malloc(n);
        if (!nf) {
            r->oom = true;
            return;
        }
        snprintf(nf, n, "%s; mitigated: a change is forced at the first login (%s)", e->finding, how);
        free(e->finding);
        e->finding = nf;
        e->sev = AUD_LOW;
        if (p->lastchg0)
            aud_add(r, 1, p->path, p->line, "FS38-1.8", "5.1-1", AUD_INFO,
                    "account '%s': password change forced at the first login (last-change field 0)", p->user);
        else
            aud_add(r, 1, f->path, f->line, "FS38-1.8", "5.1-1", AUD_INFO,
                    "account '%s': password change forced at the first login by this script", p->user);
    }
}

static void forced_free(acct_state *st)
{
    for (size_t i = 0; i < st->n_pend; i++)
        free(st->pend[i].path);
    for (size_t i = 0; i < st->n_forced; i++)
        free(st->forced[i].path);
    free(st->pend);
    free(st->forced);
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
        if (memmem(line, ll, "chage", 5) || memmem(line, ll, "passwd", 6))
            forced_scan(st, e->path, it.no, line, ll);
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
        /* shadow: the third field is the day of the last change, 0 forcing a change at login */
        bool lastchg0 = c2 && colons == 8 && c2[1] == '0' && c2[2] == ':';
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
        legacy L = { .t = H_NONE };
        bool is_legacy = t == H_APR1 || t == H_SHA || t == H_MOSQ;
        if (is_legacy) {
            if (!legacy_parse(field, t, &L) || (t == H_APR1 && !st->apr1_ok)) {
                aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.4", "5.1-1", AUD_MEDIUM,
                        "account '%s': %s password hash this version cannot test (malformed)", user,
                        t == H_APR1 ? "Apache apr1" : t == H_SHA ? "{SHA}" : "Mosquitto");
                continue;
            }
            if (L.iterations > MOSQ_MAX_ITERATIONS) {
                aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.4", "5.1-1", AUD_LOW,
                        "account '%s': Mosquitto PBKDF2-SHA512 hash with %lu iterations: not tested (more than %lu)",
                        user, L.iterations, MOSQ_MAX_ITERATIONS);
                continue;
            }
        }
        if (st->hashes >= MAX_HASHES)
            continue;
        st->hashes++;
        const char *found = NULL;
        size_t n_ev = st->ctx->r->c[0].n_ev;
        matcher m = { .hash = field, .L = is_legacy ? &L : NULL };
        int k = crack(st, user, &m, &found);
        const char *scheme = is_legacy ? legacy_name(&L) : scheme_name(field);
        /* one MD5 / SHA-1 / SHA-512 computation per guess: a fast hash even when not in the lists */
        bool fast = t == H_APR1 || t == H_SHA || (t == H_MOSQ && L.iterations == 0);
        if (is_legacy)
            explicit_bzero(&L, sizeof L);
        if (k >= 0 && st->base.mirai[k])
            aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.1", "5.1-1", AUD_CRITICAL,
                    "account '%s': %s hash of '%s', a password of the Mirai botnet list", user, scheme, found);
        else if (k >= 0)
            aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.2", "5.1-1", AUD_HIGH,
                    "account '%s': %s hash of '%s', a common password", user, scheme, found);
        else if (k == -2)
            aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.2", "5.1-1", AUD_HIGH,
                    "account '%s': %s hash of '%s' (the user or device name)", user, scheme, found);
        else if (fast)
            aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.7", "5.1-1", AUD_LOW,
                    "account '%s': %s hash: not in the lists, but a fast hash (quick to crack offline)", user, scheme);
        else if (t == H_DES)
            aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.5", "5.1-1", AUD_LOW,
                    "account '%s': DES crypt hash (8-character passwords, fast to crack); not in the lists", user);
        else
            aud_add(st->ctx->r, 1, e->path, it.no, "FS38-1.0", "5.1-1", AUD_INFO,
                    "account '%s': %s hash, not a Mirai-list, common, user or host-name password", user,
                    scheme);
        if (k != -1 && !is_legacy && (colons == 6 || colons == 8) && st->ctx->r->c[0].n_ev > n_ev)
            pend_add(st, user, e->path, it.no, lastchg0);
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
    st.apr1_ok = psa_crypto_init() == PSA_SUCCESS && md5crypt_selftest(st.cd);
    for (size_t i = 0; i < aud_image_count(ctx->img); i++) {
        const aud_entry *e = aud_image_entry(ctx->img, i);
        if (e->type != AUD_REG || e->size == 0 || e->size > MAX_FILE)
            continue;
        scan_file(&st, e);
    }
    apply_forced(&st);
    forced_free(&st);
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
