/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_ca.c — `fs38 ca`: the manufacturer's certificate authority for device identities
 * (control 8), with Mbed TLS X.509 writing (PSA has no X.509).
 *
 *   fs38 ca init --out CA_DIR [--subject DN] [--days N]
 *   fs38 ca issue CA_DIR CSR.pem [--out CERT.pem] [--days N] [--reissue]
 *   fs38 ca list CA_DIR
 *   fs38 ca server CA_DIR --name HOST --out CERT.pem --key-out KEY.pem [--days N]
 *
 * CA_DIR (mode 0700):
 *   ca.key      the CA's P-256 private key, PEM, mode 0600 (refused when group/others may read it)
 *   ca.crt      self-signed CA certificate (basicConstraints CA, pathlen 0; keyCertSign, cRLSign)
 *   ca.dn       the CA's subject as given to Mbed TLS (issuer name of every certificate)
 *   index.txt   one line per issued certificate, tab-separated:
 *               status (V valid, R retired) | serial (hex) | UEID (hex) | device key id (hex) |
 *               not-after (YYYYMMDDhhmmssZ) | subject
 *   certs/SERIAL.pem  a copy of each issued certificate (verifiers find a device's certificate
 *               by the key id in its token)
 *
 * `issue` checks the CSR's signature (proof of possession of the device key), that the key is
 * P-256, and that the subject's serialNumber is a RAND UEID (34 hex digits starting 01); it
 * refuses a UEID or key already issued (unless --reissue). The certificate: random 127-bit
 * serial unique in the index; subject "CN=UEID, serialNumber=UEID, O=fs38" (UEID in lower-case
 * hex, so a broker mapping the certificate's CN to a user name, e.g. Mosquitto's
 * use_identity_as_username, sees the UEID);
 * basicConstraints CA:false; keyUsage digitalSignature; extendedKeyUsage clientAuth; subject and
 * authority key identifiers; ECDSA-SHA256 by the CA key. Its notAfter is now + --days, capped at
 * the CA certificate's notAfter (a certificate never outlives its issuer; the cap is reported
 * on stderr); an expired CA issues nothing. A CSR whose key is not P-256 (P-384, Ed25519, RSA,
 * ...) is refused with the key type it has.
 *
 * `server` issues a TLS server certificate for test servers and the fleet broker: a new P-256
 * key (KEY.pem, PEM, mode 0600), subject "CN=HOST,O=fs38", subjectAltName dNSName HOST (or
 * iPAddress when HOST is an IPv4 / IPv6 literal such as 127.0.0.1), basicConstraints CA:false,
 * keyUsage digitalSignature, extendedKeyUsage serverAuth, valid --days N (default 825), capped at
 * the CA's notAfter. Both files are written together or not at all. Not recorded in the index
 * (which lists device identities).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "cmds.h"
#include "fs38/cbor.h"
#include "fs38/identity.h"
#include "fs38/util.h"
#include "host.h"

#define CA_DEFAULT_DN "CN=fs38 manufacturer CA,O=fs38"
#define CA_DAYS 7300u     /* CA: 20 years */
#define DEVICE_DAYS 7300u /* device certificates: the device's service life */
#define INDEX_HEADER "# fs38 CA index: status(V valid, R retired)\tserial\tueid\tkey-id\tnot-after\tsubject\n"

void usage_ca(int to_stderr)
{
    fprintf(to_stderr ? stderr : stdout,
            "usage: fs38 ca init --out CA_DIR [--subject DN] [--days N]\n"
            "       fs38 ca issue CA_DIR CSR.pem [--out CERT.pem] [--days N] [--reissue]\n"
            "       fs38 ca list CA_DIR\n"
            "       fs38 ca server CA_DIR --name HOST --out CERT.pem --key-out KEY.pem [--days N]\n"
            "  init   create a manufacturer CA: P-256 key (CA_DIR/ca.key, mode 0600), self-signed\n"
            "         certificate (ca.crt), empty index (index.txt)\n"
            "  issue  sign a device certificate for a CSR from 'fs38-device provision': checks the CSR's\n"
            "         signature, its P-256 key and the UEID in its subject, gives a unique serial, records\n"
            "         it in the index and in CA_DIR/certs/ (PEM to --out, or stdout); valid --days N\n"
            "         (default 7300), but never after the CA certificate's notAfter: capped there (with\n"
            "         a note on stderr when --days asked for more)\n"
            "  list   print the index\n"
            "  server issue a TLS server certificate for HOST (subjectAltName dNSName, or iPAddress for\n"
            "         an IP literal; extendedKeyUsage serverAuth) with a new P-256 key (KEY.pem, mode 0600)\n"
            "exit status: 0 success, 1 refused (bad CSR, UEID or key already issued), 2 usage or I/O error.\n");
}

static void mbed_fail(const char *what, int ret)
{
    host_err("%s failed (Mbed TLS error -0x%04x)", what, (unsigned)-ret);
}

static int ca_path(const char *dir, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) {
        host_err("path too long: %s/%s", dir, name);
        return -1;
    }
    return 0;
}

/* YYYYMMDDhhmmss (UTC) of now + days. */
static void x509_time(unsigned days, char out[15])
{
    time_t t = time(NULL) + (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}

static int parse_days(const char *s, unsigned def, unsigned *days)
{
    if (!s) {
        *days = def;
        return 0;
    }
    uint64_t v = 0;
    if (host_parse_u64("ca --days", s, 1, 36500, 0, &v))
        return -1;
    *days = (unsigned)v;
    return 0;
}

/* A positive 16-byte serial (top bit clear, first byte non-zero). */
static int random_serial(uint8_t serial[16])
{
    if (psa_generate_random(serial, 16) != PSA_SUCCESS)
        return -1;
    serial[0] &= 0x7f;
    if (serial[0] == 0)
        serial[0] = 1;
    return 0;
}

/*
 * subjectKeyIdentifier / authorityKeyIdentifier by RFC 7093 §2 method 1: the leftmost 160 bits of
 * SHA-256 of the subjectPublicKey (Mbed TLS's own setters need SHA-1, not in this build).
 */
static int key_ids(mbedtls_x509write_cert *crt, const mbedtls_pk_context *subject, const mbedtls_pk_context *issuer)
{
    uint8_t sp[HOST_P256_POINT_LEN], ip[HOST_P256_POINT_LEN];
    if (host_pk_point(subject, sp) || host_pk_point(issuer, ip))
        return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
    return host_x509_key_ids(crt, sp, ip);
}

/* ---- index ---------------------------------------------------------------------------------- */

typedef struct index_entry {
    char status;
    char serial[40];
    char ueid[80];
    char kid[2 * FS38_KID_LEN + 1];
    char not_after[20];
} index_entry;

/* Parse one index line; 0 or -1 (comment, blank or malformed). */
static int index_line(char *line, index_entry *e)
{
    char *save = NULL, *f[6];
    if (line[0] == '#' || line[0] == '\n' || line[0] == 0)
        return -1;
    for (int i = 0; i < 6; i++) {
        f[i] = strtok_r(i ? NULL : line, "\t\n", &save);
        if (!f[i])
            return -1;
    }
    if (strlen(f[0]) != 1 || strlen(f[1]) >= sizeof e->serial || strlen(f[2]) >= sizeof e->ueid ||
        strlen(f[3]) >= sizeof e->kid || strlen(f[4]) >= sizeof e->not_after)
        return -1;
    e->status = f[0][0];
    strcpy(e->serial, f[1]);
    strcpy(e->ueid, f[2]);
    strcpy(e->kid, f[3]);
    strcpy(e->not_after, f[4]);
    return 0;
}

/* Find the last entry whose field (1 serial, 2 ueid, 3 kid) equals value, optionally only
 * valid ones. 1 found, 0 not found, -1 error. */
static int index_find(const char *dir, int field, const char *value, bool valid_only, index_entry *out)
{
    char path[1024], line[1024];
    if (ca_path(dir, "index.txt", path, sizeof path))
        return -1;
    FILE *f = fopen(path, "r");
    if (!f) {
        host_err("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        index_entry e;
        if (index_line(line, &e))
            continue;
        const char *v = field == 1 ? e.serial : field == 2 ? e.ueid : e.kid;
        if (strcmp(v, value) == 0 && (!valid_only || e.status == 'V')) {
            *out = e;
            found = 1;
        }
    }
    fclose(f);
    return found;
}

int ca_retire(const char *dir, const char *serial)
{
    char path[1024], line[1024];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ca_path(dir, "index.txt", path, sizeof path))
        return -1;
    /* the new index is written whole to a temporary file and renamed over the old one */
    host_out o;
    host_out_init(&o);
    const int i = host_out_add(&o, path, 0644, false);
    if (i < 0)
        return -1;
    if (host_read_file(path, HOST_FILE_MAX, &buf, &len)) {
        host_out_abort(&o);
        return -1;
    }
    int done = 0, rc = 0;
    for (size_t pos = 0; pos < len && !rc;) {
        const uint8_t *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (buf + pos)) + 1u : len - pos;
        if (n < sizeof line) {
            char copy[1024];
            index_entry e;
            memcpy(line, buf + pos, n);
            line[n] = 0;
            memcpy(copy, line, n + 1u);
            if (index_line(copy, &e) == 0 && strcmp(e.serial, serial) == 0 && line[0] == 'V') {
                buf[pos] = 'R';
                done = 1;
            }
        }
        rc = host_out_write(&o, i, buf + pos, n);
        pos += n;
    }
    free(buf);
    if (rc || host_out_commit(&o)) {
        host_out_abort(&o);
        return -1;
    }
    return done;
}

/* ---- init ------------------------------------------------------------------------------------ */

/* A new exportable P-256 ECDSA key: *key in PSA, copied into pk, written as PEM into pem. 0; 1 when
 * PSA could not generate it; or the Mbed TLS error (negative) of copying or encoding it. */
static int new_p256_key(psa_key_id_t *key, mbedtls_pk_context *pk, unsigned char *pem, size_t cap)
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_EXPORT);
    psa_set_key_algorithm(&at, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_status_t st = psa_generate_key(&at, key);
    psa_reset_key_attributes(&at);
    if (st != PSA_SUCCESS)
        return 1;
    int ret = mbedtls_pk_copy_from_psa(*key, pk);
    if (!ret)
        ret = mbedtls_pk_write_key_pem(pk, pem, cap);
    return ret;
}

/* What write_cert puts in a certificate (the extensions in this order). */
typedef struct cert_spec {
    mbedtls_pk_context *subject_key, *issuer_key;
    uint8_t *serial; /* 16 bytes */
    const char *subject, *issuer, *not_before, *not_after;
    bool ca;                             /* basicConstraints CA, keyCertSign|cRLSign; else digitalSignature */
    const mbedtls_x509_san_list *san;    /* or NULL */
    const char *eku_oid;                 /* one extendedKeyUsage OID, or NULL */
    size_t eku_len;
} cert_spec;

/* An X.509 v3 certificate (SHA-256, signed by issuer_key) as PEM into pem; 0 or an Mbed TLS error. */
static int write_cert(const cert_spec *c, unsigned char *pem, size_t cap)
{
    mbedtls_x509write_cert crt;
    mbedtls_x509write_crt_init(&crt);
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, c->subject_key);
    mbedtls_x509write_crt_set_issuer_key(&crt, c->issuer_key);
    int ret = mbedtls_x509write_crt_set_serial_raw(&crt, c->serial, 16);
    if (!ret)
        ret = mbedtls_x509write_crt_set_subject_name(&crt, c->subject);
    if (!ret)
        ret = mbedtls_x509write_crt_set_issuer_name(&crt, c->issuer);
    if (!ret)
        ret = mbedtls_x509write_crt_set_validity(&crt, c->not_before, c->not_after);
    if (!ret)
        ret = c->ca ? mbedtls_x509write_crt_set_basic_constraints(&crt, 1, 0)
                    : mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1);
    if (!ret)
        ret = mbedtls_x509write_crt_set_key_usage(&crt, c->ca ? MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN
                                                              : MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    if (!ret && c->san)
        ret = mbedtls_x509write_crt_set_subject_alternative_name(&crt, c->san);
    if (!ret && c->eku_oid) {
        mbedtls_asn1_sequence eku;
        memset(&eku, 0, sizeof eku);
        eku.buf.tag = MBEDTLS_ASN1_OID;
        eku.buf.p = (unsigned char *)c->eku_oid;
        eku.buf.len = c->eku_len;
        ret = mbedtls_x509write_crt_set_ext_key_usage(&crt, &eku);
    }
    if (!ret)
        ret = key_ids(&crt, c->subject_key, c->issuer_key);
    if (!ret)
        ret = mbedtls_x509write_crt_pem(&crt, pem, cap, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    mbedtls_x509write_crt_free(&crt);
    return ret;
}

static int make_dir(const char *dir, mode_t mode)
{
    struct stat st;
    if (mkdir(dir, mode) == 0)
        return 0;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    host_err("cannot create %s: %s", dir, errno == EEXIST ? "not a directory" : strerror(errno));
    return -1;
}

static int ca_init(const char *dir, const char *dn, unsigned days)
{
    char key_path[1024], crt_path[1024], dn_path[1024], idx_path[1024], certs[1024], nb[15], na[15];
    unsigned char pem[4096];
    uint8_t serial[16];
    psa_key_id_t key = 0;
    mbedtls_pk_context pk;
    int rc = HOST_EXIT_USAGE, ret;
    if (ca_path(dir, "ca.key", key_path, sizeof key_path) || ca_path(dir, "ca.crt", crt_path, sizeof crt_path) ||
        ca_path(dir, "ca.dn", dn_path, sizeof dn_path) || ca_path(dir, "index.txt", idx_path, sizeof idx_path) ||
        ca_path(dir, "certs", certs, sizeof certs))
        return HOST_EXIT_USAGE;
    if (access(key_path, F_OK) == 0) {
        host_err("ca init: %s already holds a CA (ca.key): refusing to replace it", dir);
        return HOST_EXIT_USAGE;
    }
    if (make_dir(dir, 0700) || make_dir(certs, 0700) || host_psa_init())
        return HOST_EXIT_USAGE;
    /* the four files are created together or not at all (ca.key's presence marks a CA) */
    host_out o;
    host_out_init(&o);
    const int i_key = host_out_add(&o, key_path, 0600, true);
    const int i_crt = i_key < 0 ? -1 : host_out_add(&o, crt_path, 0644, false);
    const int i_dn = i_crt < 0 ? -1 : host_out_add(&o, dn_path, 0644, false);
    const int i_idx = i_dn < 0 ? -1 : host_out_add(&o, idx_path, 0644, true);
    if (i_idx < 0)
        return HOST_EXIT_USAGE;
    mbedtls_pk_init(&pk);
    ret = new_p256_key(&key, &pk, pem, sizeof pem);
    if (ret > 0) {
        host_err("ca init: key generation failed");
        goto out;
    }
    if (ret) {
        mbed_fail("ca init: encoding the CA key", ret);
        goto out;
    }
    /* the private key file: created 0600, never readable by group or others */
    if (host_out_write(&o, i_key, pem, strlen((char *)pem)))
        goto out;
    fs38_wipe(pem, sizeof pem);
    x509_time(0, nb);
    x509_time(days, na);
    if (random_serial(serial)) {
        host_err("ca init: random generation failed");
        goto out;
    }
    const cert_spec c = { .subject_key = &pk, .issuer_key = &pk, .serial = serial, .subject = dn, .issuer = dn,
                          .not_before = nb, .not_after = na, .ca = true };
    ret = write_cert(&c, pem, sizeof pem);
    if (ret) {
        mbed_fail(ret == MBEDTLS_ERR_X509_INVALID_NAME ? "ca init: --subject (a DN like 'CN=...,O=...')"
                                                        : "ca init: writing the CA certificate",
                  ret);
        goto out;
    }
    char dn_line[600];
    snprintf(dn_line, sizeof dn_line, "%s\n", dn);
    if (host_out_write(&o, i_crt, pem, strlen((char *)pem)) || host_out_write(&o, i_dn, dn_line, strlen(dn_line)) ||
        host_out_write(&o, i_idx, INDEX_HEADER, strlen(INDEX_HEADER)) || host_out_commit(&o))
        goto out;
    char hex[33];
    host_hex(serial, sizeof serial, hex);
    printf("ca init: %s: CA \"%s\", P-256, serial %s, valid %u days\n", dir, dn, hex, days);
    printf("ca init: private key %s (mode 0600), certificate %s, index %s\n", key_path, crt_path, idx_path);
    rc = HOST_EXIT_OK;
out:
    host_out_abort(&o);
    if (key)
        psa_destroy_key(key);
    fs38_wipe(pem, sizeof pem);
    mbedtls_pk_free(&pk);
    return rc;
}

/* ---- loading the CA ------------------------------------------------------------------------- */

static int ca_load_cert(const char *dir, mbedtls_x509_crt *ca)
{
    char path[1024];
    if (ca_path(dir, "ca.crt", path, sizeof path))
        return -1;
    int ret = mbedtls_x509_crt_parse_file(ca, path);
    if (ret) {
        host_err("cannot load the CA certificate %s (Mbed TLS error -0x%04x): is %s a CA made by 'fs38 ca init'?",
                 path, (unsigned)-ret, dir);
        return -1;
    }
    return 0;
}

static int load_ca_key(const char *dir, mbedtls_pk_context *pk)
{
    char path[1024];
    struct stat st;
    uint8_t *buf;
    size_t len;
    if (ca_path(dir, "ca.key", path, sizeof path))
        return -1;
    if (stat(path, &st) != 0) {
        host_err("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (st.st_mode & 077) {
        host_err("refusing to use %s: group or others may access it (mode %03o): chmod 600 it", path,
                 (unsigned)(st.st_mode & 0777));
        return -1;
    }
    if (host_read_file(path, 16384, &buf, &len))
        return -1;
    int ret = mbedtls_pk_parse_key(pk, buf, len + 1, NULL, 0, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    fs38_wipe(buf, len);
    free(buf);
    if (ret) {
        mbed_fail("loading the CA key", ret);
        return -1;
    }
    return 0;
}

static int load_dn(const char *dir, char *dn, size_t cap)
{
    char path[1024];
    uint8_t *buf;
    size_t len;
    if (ca_path(dir, "ca.dn", path, sizeof path) || host_read_file(path, 1024, &buf, &len))
        return -1;
    buf[strcspn((char *)buf, "\r\n")] = 0;
    snprintf(dn, cap, "%s", (char *)buf);
    free(buf);
    return 0;
}

/* ---- issue ----------------------------------------------------------------------------------- */

/*
 * The CSR's own signature (proof that its maker holds the private key). Mbed TLS parses but
 * does not check it, and keeps the signature in a private field: it is read here from the DER,
 * CertificationRequest ::= SEQUENCE { info, AlgorithmIdentifier, BIT STRING signature }.
 * Only ecdsa-with-SHA256. 0 or -1.
 */
static int csr_signature_ok(mbedtls_x509_csr *csr)
{
    uint8_t hash[32];
    size_t hl = 0, n = 0;
    mbedtls_x509_bitstring sig;
    unsigned char *p = csr->cri.p + csr->cri.len;
    const unsigned char *end = csr->raw.p + csr->raw.len;
    if (MBEDTLS_OID_CMP(MBEDTLS_OID_ECDSA_SHA256, &csr->sig_oid) != 0 || p > end)
        return -1;
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
        return -1; /* AlgorithmIdentifier (its OID is csr->sig_oid) */
    p += n;
    if (mbedtls_asn1_get_bitstring(&p, end, &sig) != 0 || sig.unused_bits != 0 || p != end)
        return -1;
    if (psa_hash_compute(PSA_ALG_SHA_256, csr->cri.p, csr->cri.len, hash, sizeof hash, &hl) != PSA_SUCCESS)
        return -1;
    return mbedtls_pk_verify(&csr->pk, MBEDTLS_MD_SHA256, hash, hl, sig.p, sig.len) == 0 ? 0 : -1;
}

static bool valid_ueid_hex(const char *s)
{
    uint8_t b[FS38_UEID_LEN];
    if (strlen(s) != 2 * FS38_UEID_LEN || host_unhex(s, b, FS38_UEID_LEN) || b[0] != FS38_UEID_TYPE_RAND)
        return false;
    for (const char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            return false; /* one spelling per UEID: lower case */
    return true;
}

/*
 * What key a CSR holds, read from the DER of its SubjectPublicKeyInfo without Mbed TLS's key
 * parser (which rejects the whole CSR when this build lacks the curve): "P-384 (secp384r1)",
 * "Ed25519", ... into out. 0, or -1 when the DER is not a CertificationRequest.
 */
static int csr_key_type(const uint8_t *buf, size_t len, char *out, size_t cap)
{
    static const struct {
        const char *oid;
        size_t len;
        const char *name;
    } algs[] = {
        { "\x2b\x65\x70", 3, "Ed25519" },
        { "\x2b\x65\x71", 3, "Ed448" },
        { "\x2b\x65\x6e", 3, "X25519" },
        { "\x2b\x65\x6f", 3, "X448" },
        { "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01", 9, "RSA" },
        { "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a", 9, "RSA-PSS" },
        { "\x2a\x86\x48\xce\x38\x04\x01", 7, "DSA" },
    }, curves[] = {
        { "\x2a\x86\x48\xce\x3d\x03\x01\x07", 8, "P-256 (prime256v1)" },
        { "\x2b\x81\x04\x00\x22", 5, "P-384 (secp384r1)" },
        { "\x2b\x81\x04\x00\x23", 5, "P-521 (secp521r1)" },
        { "\x2b\x81\x04\x00\x0a", 5, "secp256k1" },
        { "\x2b\x24\x03\x03\x02\x08\x01\x01\x07", 9, "brainpoolP256r1" },
        { "\x2b\x24\x03\x03\x02\x08\x01\x01\x0b", 9, "brainpoolP384r1" },
        { "\x2b\x24\x03\x03\x02\x08\x01\x01\x0d", 9, "brainpoolP512r1" },
    };
    static const uint8_t ec_oid[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
    uint8_t *der = NULL;
    size_t der_len = 0, n;
    int rc = -1;
    mbedtls_pem_context pem;
    mbedtls_pem_init(&pem);
    if (len && strstr((const char *)buf, "-----BEGIN")) {
        size_t used = 0;
        if (mbedtls_pem_read_buffer(&pem, "-----BEGIN CERTIFICATE REQUEST-----", "-----END CERTIFICATE REQUEST-----",
                                    buf, NULL, 0, &used) != 0 &&
            mbedtls_pem_read_buffer(&pem, "-----BEGIN NEW CERTIFICATE REQUEST-----",
                                    "-----END NEW CERTIFICATE REQUEST-----", buf, NULL, 0, &used) != 0)
            goto out;
        der = (uint8_t *)mbedtls_pem_get_buffer(&pem, &der_len);
    } else {
        der = (uint8_t *)buf;
        der_len = len;
    }
    unsigned char *p = der, *end = der + der_len, *alg_end;
    const int seq = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
    if (mbedtls_asn1_get_tag(&p, end, &n, seq) || mbedtls_asn1_get_tag(&p, end, &n, seq)) /* CSR, info */
        goto out;
    end = p + n;
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_INTEGER)) /* version */
        goto out;
    p += n;
    if (mbedtls_asn1_get_tag(&p, end, &n, seq)) /* subject */
        goto out;
    p += n;
    if (mbedtls_asn1_get_tag(&p, end, &n, seq) || mbedtls_asn1_get_tag(&p, end, &n, seq)) /* SPKI, algorithm */
        goto out;
    alg_end = p + n;
    if (mbedtls_asn1_get_tag(&p, alg_end, &n, MBEDTLS_ASN1_OID))
        goto out;
    if (n == sizeof ec_oid && memcmp(p, ec_oid, n) == 0) {
        p += n;
        size_t cn;
        if (mbedtls_asn1_get_tag(&p, alg_end, &cn, MBEDTLS_ASN1_OID)) {
            snprintf(out, cap, "an EC key with explicit or missing curve parameters");
            rc = 0;
            goto out;
        }
        for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++)
            if (cn == curves[i].len && memcmp(p, curves[i].oid, cn) == 0) {
                snprintf(out, cap, "%s", curves[i].name);
                rc = 0;
                goto out;
            }
        snprintf(out, cap, "an EC key on an unknown curve");
        rc = 0;
        goto out;
    }
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (n == algs[i].len && memcmp(p, algs[i].oid, n) == 0) {
            snprintf(out, cap, "%s", algs[i].name);
            rc = 0;
            goto out;
        }
    snprintf(out, cap, "of an unknown algorithm");
    rc = 0;
out:
    mbedtls_pem_free(&pem);
    return rc;
}

/* The CA certificate's notAfter as YYYYMMDDhhmmss. */
static void ca_not_after(const mbedtls_x509_crt *ca, char out[15])
{
    const mbedtls_x509_time *t = &ca->valid_to;
    snprintf(out, 15, "%04u%02u%02u%02u%02u%02u", (unsigned)t->year % 10000u, (unsigned)t->mon % 100u,
             (unsigned)t->day % 100u, (unsigned)t->hour % 100u, (unsigned)t->min % 100u, (unsigned)t->sec % 100u);
}

/* PSA up, the CA certificate, its key and its DN (dn, cap bytes) loaded from dir; 0 or -1 (said). */
static int ca_load(const char *dir, mbedtls_x509_crt *ca, mbedtls_pk_context *ca_key, char *dn, size_t cap)
{
    return host_psa_init() || ca_load_cert(dir, ca) || load_ca_key(dir, ca_key) || load_dn(dir, dn, cap) ? -1 : 0;
}

/* A validity from now (nb) for days (na) and the CA certificate's notAfter (ca_na); -1 (said, as
 * "cmd: refused: ...") when the CA certificate has expired. na is not capped here. */
static int ca_validity(const char *cmd, const mbedtls_x509_crt *ca, unsigned days, char nb[15], char na[15],
                       char ca_na[15])
{
    x509_time(0, nb);
    x509_time(days, na);
    ca_not_after(ca, ca_na);
    if (strcmp(ca_na, nb) <= 0) {
        fprintf(stderr, "%s: refused: the CA certificate expired (notAfter %sZ); it issues nothing\n", cmd, ca_na);
        return -1;
    }
    return 0;
}

typedef struct issue_args {
    const char *dir, *csr, *out, *days_s;
    bool reissue;
} issue_args;

static int append_index(const char *dir, const char *line)
{
    char path[1024];
    if (ca_path(dir, "index.txt", path, sizeof path))
        return -1;
    int fd = open(path, O_WRONLY | O_APPEND);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        host_err("cannot append to %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t n = strlen(line);
    ssize_t w = write(fd, line, n);
    int rc = w == (ssize_t)n && close(fd) == 0 ? 0 : -1;
    if (rc)
        host_err("cannot append to %s: %s", path, strerror(errno));
    return rc;
}

static int ca_issue(const issue_args *a)
{
    mbedtls_x509_csr csr;
    mbedtls_x509_crt ca;
    mbedtls_pk_context ca_key;
    uint8_t *buf = NULL, point[HOST_P256_POINT_LEN], kid[FS38_KID_LEN], serial[16];
    size_t len = 0;
    unsigned days;
    char ueid[80], kid_hex[2 * FS38_KID_LEN + 1], serial_hex[33], subject[200], dn[600], nb[15], na[15];
    unsigned char pem[4096];
    int rc = HOST_EXIT_USAGE, ret;
    /* --out is checked (its temporary created) before a certificate is issued */
    host_out o_out, o_copy;
    host_out_init(&o_out);
    host_out_init(&o_copy);
    const int i_out = a->out ? host_out_add(&o_out, a->out, 0644, false) : -1;
    if (a->out && i_out < 0)
        return HOST_EXIT_USAGE;
    mbedtls_x509_csr_init(&csr);
    mbedtls_x509_crt_init(&ca);
    mbedtls_pk_init(&ca_key);
    if (parse_days(a->days_s, DEVICE_DAYS, &days) || ca_load(a->dir, &ca, &ca_key, dn, sizeof dn) ||
        host_read_file(a->csr, 64 * 1024, &buf, &len))
        goto out;
    ret = mbedtls_x509_csr_parse(&csr, buf, strstr((char *)buf, "-----BEGIN") ? len + 1 : len);
    char key_type[64];
    if (ret && csr_key_type(buf, len, key_type, sizeof key_type) == 0 && strncmp(key_type, "P-256", 5) != 0) {
        fprintf(stderr, "ca issue: refused: %s: the CSR's key is %s; fs38 devices use P-256 (ES256)\n", a->csr,
                key_type);
        rc = HOST_EXIT_REJECT;
        goto out;
    }
    if (ret) {
        fprintf(stderr, "ca issue: refused: %s is not a PKCS#10 CSR (Mbed TLS error -0x%04x)\n", a->csr,
                (unsigned)-ret);
        rc = HOST_EXIT_REJECT;
        goto out;
    }
    if (csr_signature_ok(&csr)) {
        fprintf(stderr, "ca issue: refused: the CSR's signature does not verify (no proof of possession of its key)\n");
        rc = HOST_EXIT_REJECT;
        goto out;
    }
    if (host_pk_point(&csr.pk, point) || fs38_key_id(point, sizeof point, kid)) {
        if (csr_key_type(buf, len, key_type, sizeof key_type) != 0)
            snprintf(key_type, sizeof key_type, "not a P-256 key");
        fprintf(stderr, "ca issue: refused: %s: the CSR's key is %s; fs38 devices use P-256 (ES256)\n", a->csr,
                key_type);
        rc = HOST_EXIT_REJECT;
        goto out;
    }
    host_hex(kid, sizeof kid, kid_hex);
    if (host_x509_serial_number(&csr.subject, ueid, sizeof ueid) || !valid_ueid_hex(ueid)) {
        fprintf(stderr, "ca issue: refused: the CSR's subject has no serialNumber holding a device UEID "
                        "(34 lower-case hex digits, type 01)\n");
        rc = HOST_EXIT_REJECT;
        goto out;
    }
    index_entry e;
    int f1 = index_find(a->dir, 2, ueid, true, &e);
    int f2 = f1 == 0 ? index_find(a->dir, 3, kid_hex, true, &e) : f1;
    if (f1 < 0 || f2 < 0)
        goto out;
    if ((f1 || f2) && !a->reissue) {
        fprintf(stderr, "ca issue: refused: %s %s already has certificate serial %s (use --reissue to replace it)\n",
                f1 ? "UEID" : "device key", f1 ? ueid : kid_hex, e.serial);
        rc = HOST_EXIT_REJECT;
        goto out;
    }
    for (int tries = 0;; tries++) {
        index_entry dup;
        if (random_serial(serial) || tries > 8) {
            host_err("ca issue: cannot draw a unique serial");
            goto out;
        }
        host_hex(serial, sizeof serial, serial_hex);
        int f = index_find(a->dir, 1, serial_hex, false, &dup);
        if (f < 0)
            goto out;
        if (!f)
            break;
    }
    snprintf(subject, sizeof subject, "CN=%s,serialNumber=%s,O=fs38", ueid, ueid);
    char ca_na[15];
    if (ca_validity("ca issue", &ca, days, nb, na, ca_na)) {
        rc = HOST_EXIT_REJECT;
        goto out;
    }
    if (strcmp(na, ca_na) > 0 && !a->days_s) {
        memcpy(na, ca_na, sizeof na); /* the default: the device's service life, within the CA's */
    } else if (strcmp(na, ca_na) > 0) {
        fprintf(stderr, "ca issue: note: %u days would end at %sZ, after the CA certificate's notAfter %sZ: the "
                        "certificate's notAfter is capped at %sZ\n", days, na, ca_na, ca_na);
        memcpy(na, ca_na, sizeof na);
    }
    const cert_spec c = { .subject_key = &csr.pk, .issuer_key = &ca_key, .serial = serial, .subject = subject,
                          .issuer = dn, .not_before = nb, .not_after = na, .eku_oid = MBEDTLS_OID_CLIENT_AUTH,
                          .eku_len = MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH) };
    ret = write_cert(&c, pem, sizeof pem);
    if (ret) {
        mbed_fail("ca issue: writing the certificate", ret);
        goto out;
    }
    char copy[1024], line[1200], name[64];
    snprintf(name, sizeof name, "certs/%s.pem", serial_hex);
    if (ca_path(a->dir, name, copy, sizeof copy))
        goto out;
    const int i_copy = host_out_add(&o_copy, copy, 0644, true);
    if (i_copy < 0 || host_out_write(&o_copy, i_copy, pem, strlen((char *)pem)) || host_out_commit(&o_copy))
        goto out;
    snprintf(line, sizeof line, "V\t%s\t%s\t%s\t%sZ\t%s\n", serial_hex, ueid, kid_hex, na, subject);
    if (append_index(a->dir, line)) {
        unlink(copy); /* not recorded: not issued */
        goto out;
    }
    if (a->out ? host_out_write(&o_out, i_out, pem, strlen((char *)pem)) || host_out_commit(&o_out)
               : fputs((char *)pem, stdout) < 0) {
        host_err("ca issue: certificate serial %s is issued and recorded; it is in %s", serial_hex, copy);
        goto out;
    }
    fprintf(a->out ? stdout : stderr,
            "ca issue: certificate serial %s for UEID %s (device key id %s), valid until %sZ%s%s\n", serial_hex, ueid,
            kid_hex, na, a->out ? ", in " : "", a->out ? a->out : "");
    rc = HOST_EXIT_OK;
out:
    host_out_abort(&o_out);
    host_out_abort(&o_copy);
    free(buf);
    mbedtls_x509_csr_free(&csr);
    mbedtls_x509_crt_free(&ca);
    mbedtls_pk_free(&ca_key);
    return rc;
}

static int ca_list(const char *dir)
{
    char path[1024];
    uint8_t *buf;
    size_t len;
    if (ca_path(dir, "index.txt", path, sizeof path) || host_read_file(path, HOST_FILE_MAX, &buf, &len))
        return HOST_EXIT_USAGE;
    fwrite(buf, 1, len, stdout);
    free(buf);
    return HOST_EXIT_OK;
}

/* ---- server ------------------------------------------------------------------------------- */

#define SERVER_DAYS 825u

typedef struct server_args {
    const char *dir, *name, *out, *key_out, *days_s;
    bool client; /* a TLS client certificate instead (ca_client_cert: clientAuth, no subjectAltName) */
} server_args;

/* HOST as a DNS name (letters, digits, '-', '.', a leading "*." wildcard) or an IP literal. */
static int server_name(const char *name, uint8_t ip[16], size_t *ip_len)
{
    *ip_len = 0;
    if (inet_pton(AF_INET, name, ip) == 1) {
        *ip_len = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, name, ip) == 1) {
        *ip_len = 16;
        return 0;
    }
    size_t n = strlen(name);
    if (n == 0 || n > 253 || name[0] == '.' || name[0] == '-' || name[n - 1] == '.')
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '.' || (c == '*' && i == 0 && name[1] == '.');
        if (!ok)
            return -1;
    }
    return 0;
}

static int ca_server(const server_args *a)
{
    mbedtls_x509_crt ca;
    mbedtls_pk_context ca_key, pk;
    psa_key_id_t key = 0;
    uint8_t serial[16], ip[16];
    size_t ip_len = 0;
    unsigned days;
    char dn[600], subject[300], nb[15], na[15], ca_na[15];
    unsigned char pem[4096], key_pem[1024];
    int rc = HOST_EXIT_USAGE, ret;
    if (server_name(a->name, ip, &ip_len)) {
        host_err("ca server: --name '%s' is neither a DNS name (letters, digits, '-', '.') nor an IP address", a->name);
        return HOST_EXIT_USAGE;
    }
    if (parse_days(a->days_s, SERVER_DAYS, &days))
        return HOST_EXIT_USAGE;
    host_out o;
    host_out_init(&o);
    const int i_key = host_out_add(&o, a->key_out, 0600, false);
    const int i_crt = i_key < 0 ? -1 : host_out_add(&o, a->out, 0644, false);
    if (i_crt < 0)
        return HOST_EXIT_USAGE;
    mbedtls_x509_crt_init(&ca);
    mbedtls_pk_init(&ca_key);
    mbedtls_pk_init(&pk);
    if (ca_load(a->dir, &ca, &ca_key, dn, sizeof dn))
        goto out;
    if (ca_validity("ca server", &ca, days, nb, na, ca_na)) {
        rc = HOST_EXIT_REJECT;
        goto out;
    }
    if (strcmp(na, ca_na) > 0)
        memcpy(na, ca_na, sizeof na);
    ret = new_p256_key(&key, &pk, key_pem, sizeof key_pem);
    if (ret > 0 || random_serial(serial)) {
        host_err("ca server: key or serial generation failed");
        goto out;
    }
    if (ret) {
        mbed_fail("ca server: encoding the key", ret);
        goto out;
    }
    snprintf(subject, sizeof subject, "CN=%s,O=fs38", a->name);
    mbedtls_x509_san_list san;
    memset(&san, 0, sizeof san);
    san.node.type = ip_len ? MBEDTLS_X509_SAN_IP_ADDRESS : MBEDTLS_X509_SAN_DNS_NAME;
    san.node.san.unstructured_name.p = ip_len ? ip : (unsigned char *)a->name;
    san.node.san.unstructured_name.len = ip_len ? ip_len : strlen(a->name);
    const cert_spec c = { .subject_key = &pk, .issuer_key = &ca_key, .serial = serial, .subject = subject,
                          .issuer = dn, .not_before = nb, .not_after = na, .san = a->client ? NULL : &san,
                          .eku_oid = a->client ? MBEDTLS_OID_CLIENT_AUTH : MBEDTLS_OID_SERVER_AUTH,
                          .eku_len = a->client ? MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)
                                               : MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH) };
    ret = write_cert(&c, pem, sizeof pem);
    if (ret) {
        mbed_fail(ret == MBEDTLS_ERR_X509_INVALID_NAME ? "ca server: --name" : "ca server: writing the certificate",
                  ret);
        goto out;
    }
    if (host_out_write(&o, i_key, key_pem, strlen((char *)key_pem)) ||
        host_out_write(&o, i_crt, pem, strlen((char *)pem)) || host_out_commit(&o))
        goto out;
    char hex[33];
    host_hex(serial, sizeof serial, hex);
    if (a->client)
        printf("ca client: certificate serial %s for CN=%s (clientAuth), valid until %sZ, in %s; key (mode 0600) in "
               "%s\n", hex, a->name, na, a->out, a->key_out);
    else
        printf("ca server: certificate serial %s for %s %s (serverAuth), valid until %sZ, in %s; key (mode 0600) in %s\n",
               hex, ip_len ? "IP address" : "DNS name", a->name, na, a->out, a->key_out);
    rc = HOST_EXIT_OK;
out:
    host_out_abort(&o);
    if (key)
        psa_destroy_key(key);
    fs38_wipe(key_pem, sizeof key_pem);
    mbedtls_x509_crt_free(&ca);
    mbedtls_pk_free(&ca_key);
    mbedtls_pk_free(&pk);
    return rc;
}

int ca_tls_cert(const char *dir, const char *name, bool client, const char *out, const char *key_out)
{
    server_args a = { .dir = dir, .name = name, .out = out, .key_out = key_out, .client = client };
    return ca_server(&a);
}

int cmd_ca(int argc, char **argv)
{
    if (argc < 1) {
        usage_ca(1);
        return HOST_EXIT_USAGE;
    }
    const char *sub = argv[0], *pos[3];
    size_t npos = 0;
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        usage_ca(0);
        return HOST_EXIT_OK;
    }
    if (strcmp(sub, "init") == 0) {
        const char *out = NULL, *dn = NULL, *days_s = NULL;
        unsigned days;
        const host_opt opts[] = { { .name = "--out", .value = &out },
                                  { .name = "--subject", .value = &dn },
                                  { .name = "--days", .value = &days_s },
                                  { .name = NULL } };
        int r = host_parse_args(argc - 1, argv + 1, opts, pos, 0, &npos);
        if (r == 1) {
            usage_ca(0);
            return HOST_EXIT_OK;
        }
        if (r || !out) {
            host_err("ca init: --out CA_DIR is required");
            return HOST_EXIT_USAGE;
        }
        if (parse_days(days_s, CA_DAYS, &days))
            return HOST_EXIT_USAGE;
        return ca_init(out, dn ? dn : CA_DEFAULT_DN, days);
    }
    if (strcmp(sub, "issue") == 0) {
        issue_args a;
        memset(&a, 0, sizeof a);
        const host_opt opts[] = { { .name = "--out", .value = &a.out },
                                  { .name = "--days", .value = &a.days_s },
                                  { .name = "--reissue", .flag = &a.reissue },
                                  { .name = NULL } };
        int r = host_parse_args(argc - 1, argv + 1, opts, pos, 3, &npos);
        if (r == 1) {
            usage_ca(0);
            return HOST_EXIT_OK;
        }
        if (r || npos != 2) {
            host_err("ca issue: expected CA_DIR CSR.pem [--out CERT.pem]");
            return HOST_EXIT_USAGE;
        }
        a.dir = pos[0];
        a.csr = pos[1];
        return ca_issue(&a);
    }
    if (strcmp(sub, "list") == 0) {
        const host_opt opts[] = { { .name = NULL } };
        if (host_parse_args(argc - 1, argv + 1, opts, pos, 2, &npos) || npos != 1) {
            host_err("ca list: expected CA_DIR");
            return HOST_EXIT_USAGE;
        }
        return ca_list(pos[0]);
    }
    if (strcmp(sub, "server") == 0) {
        server_args a;
        memset(&a, 0, sizeof a);
        const host_opt opts[] = { { .name = "--name", .value = &a.name },
                                  { .name = "--out", .value = &a.out },
                                  { .name = "--key-out", .value = &a.key_out },
                                  { .name = "--days", .value = &a.days_s },
                                  { .name = NULL } };
        int r = host_parse_args(argc - 1, argv + 1, opts, pos, 2, &npos);
        if (r == 1) {
            usage_ca(0);
            return HOST_EXIT_OK;
        }
        if (r || npos != 1 || !a.name || !a.out || !a.key_out) {
            host_err("ca server: expected CA_DIR --name HOST --out CERT.pem --key-out KEY.pem");
            return HOST_EXIT_USAGE;
        }
        a.dir = pos[0];
        return ca_server(&a);
    }
    host_err("ca: unknown subcommand '%s' (init, issue, list, server)", sub);
    usage_ca(1);
    return HOST_EXIT_USAGE;
}

/* ---- finding the certificate that signed a token or receipt ----------------------------------- */

/* The kid (8 bytes) in the unprotected header of a COSE_Sign1, without verifying anything. */
static int cose_kid(const uint8_t *msg, size_t len, uint8_t kid[FS38_KID_LEN])
{
    fs38_cbor_dec d;
    size_t n, m;
    bool tagged;
    fs38_cbor_dec_init(&d, msg, len);
    if (fs38_cbor_opt_tag(&d, 18, &tagged) || fs38_cbor_get_array(&d, &n) || n != 4 ||
        fs38_cbor_get_bstr(&d, NULL, NULL) || fs38_cbor_get_map(&d, &m))
        return -1;
    for (size_t i = 0; i < m; i++) {
        int64_t label;
        const uint8_t *p;
        size_t pl;
        if (fs38_cbor_get_int(&d, &label))
            return -1;
        if (label == 4) {
            if (fs38_cbor_get_bstr(&d, &p, &pl) || pl != FS38_KID_LEN)
                return -1;
            memcpy(kid, p, FS38_KID_LEN);
            return 0;
        }
        if (fs38_cbor_skip(&d))
            return -1;
    }
    return -1;
}

int ca_find_signer(const char *ca_dir, const char *cert_path, const uint8_t *msg, size_t len, bool allow_retired,
                   fs38_keyring *kr, ca_signer *out)
{
    mbedtls_x509_crt ca, dev;
    uint8_t kid[FS38_KID_LEN], point[HOST_P256_POINT_LEN];
    char kid_hex[2 * FS38_KID_LEN + 1], path[1024];
    index_entry e;
    int rc = HOST_EXIT_USAGE, ret;
    memset(out, 0, sizeof *out);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&dev);
    if (host_psa_init() || ca_load_cert(ca_dir, &ca))
        goto done;
    if (cert_path) {
        ret = mbedtls_x509_crt_parse_file(&dev, cert_path);
        if (ret) {
            host_err("cannot load the certificate %s (Mbed TLS error -0x%04x)", cert_path, (unsigned)-ret);
            goto done;
        }
    } else {
        if (cose_kid(msg, len, kid)) {
            snprintf(out->reason, sizeof out->reason, "no 8-byte key id in the COSE_Sign1 (not a token of an fs38 "
                                                      "device?)");
            rc = HOST_EXIT_REJECT;
            goto done;
        }
        host_hex(kid, sizeof kid, kid_hex);
        int f = index_find(ca_dir, 3, kid_hex, false, &e);
        if (f < 0)
            goto done;
        if (!f) {
            snprintf(out->reason, sizeof out->reason, "signer (key id %s) has no certificate from this CA", kid_hex);
            rc = HOST_EXIT_REJECT;
            goto done;
        }
        char name[64];
        snprintf(name, sizeof name, "certs/%s.pem", e.serial);
        if (ca_path(ca_dir, name, path, sizeof path))
            goto done;
        ret = mbedtls_x509_crt_parse_file(&dev, path);
        if (ret) {
            host_err("cannot load the certificate %s (Mbed TLS error -0x%04x)", path, (unsigned)-ret);
            goto done;
        }
    }
    uint32_t flags = 0;
    ret = mbedtls_x509_crt_verify(&dev, &ca, NULL, NULL, &flags, NULL, NULL);
    if (ret) {
        char why[160];
        mbedtls_x509_crt_verify_info(why, sizeof why, "", flags);
        why[strcspn(why, "\n")] = 0;
        snprintf(out->reason, sizeof out->reason, "the device certificate does not chain to the CA: %s", why);
        rc = HOST_EXIT_REJECT;
        goto done;
    }
    uint8_t serial_raw[32];
    if (dev.serial.len > sizeof serial_raw || dev.serial.len == 0)
        goto done;
    memcpy(serial_raw, dev.serial.p, dev.serial.len);
    host_hex(serial_raw, dev.serial.len, out->serial);
    int f = index_find(ca_dir, 1, out->serial, false, &e);
    if (f < 0)
        goto done;
    out->retired = f && e.status == 'R';
    if (out->retired && !allow_retired) {
        snprintf(out->reason, sizeof out->reason,
                 "certificate serial %s is retired (the device was decommissioned)", out->serial);
        rc = HOST_EXIT_REJECT;
        goto done;
    }
    if (host_x509_serial_number(&dev.subject, out->ueid, sizeof out->ueid) || host_pk_point(&dev.pk, point)) {
        snprintf(out->reason, sizeof out->reason, "the certificate names no UEID or has no P-256 key");
        rc = HOST_EXIT_REJECT;
        goto done;
    }
    mbedtls_x509_dn_gets(out->subject, sizeof out->subject, &dev.subject);
    mbedtls_x509_dn_gets(out->issuer, sizeof out->issuer, &ca.subject);
    if (psa_hash_compute(PSA_ALG_SHA_256, dev.raw.p, dev.raw.len, out->cert_sha256, 32, &(size_t){ 0 }) !=
            PSA_SUCCESS ||
        fs38_keyring_add_p256(kr, point, sizeof point) != FS38_OK) {
        host_err("cannot use the device certificate's key");
        goto done;
    }
    rc = HOST_EXIT_OK;
done:
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&dev);
    return rc;
}
