/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38_mbedtls_config.h — the Mbed TLS 3.6 configuration fs38 is built with.
 *
 * It enables exactly what fs38 uses and nothing else:
 *   - PSA Crypto (with persistent keys) as the only API the device library calls; PSA's
 *     internal trusted storage is fs38's sealed store (src/storage/its.c), not Mbed TLS's plaintext
 *     ITS files (MBEDTLS_PSA_ITS_FILE_C is deliberately off);
 *   - SHA-256, HMAC, HKDF, ECDSA and ECDH on P-256, AES-128 GCM/CTR, NIST key wrap, CTR-DRBG;
 *   - PK / PEM / X.509 for the host tools (key files, CSRs, certificates);
 *   - PBKDF2 (PKCS#5) for the setup-credential hash;
 *   - hosted builds only: MD5, SHA-1, SHA-512 for the password hashes `fs38 audit` tests;
 *   - the secure channel (src/net/channel.c): TLS 1.3 and 1.2 over TCP, DTLS 1.2 over UDP with
 *     Connection ID (RFC 9146 form), X.509 verification with SNI and host name check, session
 *     tickets (TLS 1.3 / 1.2) and session resumption, PSK (TLS 1.2 / DTLS 1.2), AEAD suites only
 *     (AES-128-GCM, AES-128-CCM(-8), ChaCha20-Poly1305), no renegotiation, no compression.
 * Selected with the CMake variable MBEDTLS_CONFIG_FILE when Mbed TLS is built from source.
 */
#ifndef FS38_MBEDTLS_CONFIG_H
#define FS38_MBEDTLS_CONFIG_H

/* Platform */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_ERROR_C
#if !defined(FS38_MBEDTLS_BAREMETAL)
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_FS_IO
#define MBEDTLS_NET_C
#define MBEDTLS_TIMING_C
#else
#define MBEDTLS_NO_PLATFORM_ENTROPY
#endif
#if !defined(FS38_MBEDTLS_BAREMETAL)
/* Hosted builds: PSA's secure-element driver interface, through which a key kept in a TPM
 * (port/tpm, fs38-device init --tpm) is a PSA key id Mbed TLS's TLS stack can sign with
 * (device/tpm_se.c). Mbed TLS 3.6 marks it deprecated, so deprecated APIs are not removed here;
 * fs38 uses none of them. */
#define MBEDTLS_PSA_CRYPTO_SE_C
#else
#define MBEDTLS_DEPRECATED_REMOVED
#endif

/* PSA Crypto */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_CRYPTO_STORAGE_C
#define MBEDTLS_USE_PSA_CRYPTO
#define MBEDTLS_PSA_KEY_STORE_DYNAMIC
/* fs38 never passes PSA buffers shared with a less trusted party (no TEE boundary in the same
 * address space), so PSA need not copy every input/output buffer. */
#define MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS

/* Randomness */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_HMAC_DRBG_C

/* Hashes and MACs */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_MD_C
#define MBEDTLS_HKDF_C
#define MBEDTLS_PKCS5_C
#if !defined(FS38_MBEDTLS_BAREMETAL)
/* Hosted builds only (never the bare-metal device build): `fs38 audit` tests the legacy
 * password-hash schemes it finds in firmware images (Apache apr1 = MD5, htpasswd {SHA} = SHA-1,
 * Mosquitto SHA-512 and PBKDF2-HMAC-SHA-512). fs38 itself signs, hashes and derives nothing
 * with them, and the TLS channel keeps its own explicit list of signature algorithms
 * (src/net/channel.c). */
#define MBEDTLS_MD5_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA512_C
#endif

/* Symmetric */
#define MBEDTLS_AES_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CIPHER_MODE_CTR
#define MBEDTLS_GCM_C
#define MBEDTLS_CCM_C          /* TLS 1.2 / DTLS *-AES128-CCM-8 */
#define MBEDTLS_CHACHA20_C     /* TLS 1.3 CHACHA20-POLY1305-SHA256 */
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_NIST_KW_C

/* Elliptic curves: P-256 only */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_ECDH_C

/* Encodings and key / certificate formats (host tools, provisioning) */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_X509_CSR_PARSE_C
#define MBEDTLS_X509_CSR_WRITE_C

/* Secure channel: TLS 1.3 + 1.2 over TCP, DTLS 1.2 over UDP with Connection ID (RFC 9146).
 * The policy (AEAD suites only, minimum TLS 1.2, no renegotiation) is set per connection by
 * src/net/channel.c; renegotiation and compression are not even compiled in. */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C                 /* the in-process servers of tests and bench/channel */
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED            /* resumption with tickets */
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE                       /* middlebox-friendly */
#define MBEDTLS_SSL_SESSION_TICKETS       /* TLS 1.3 tickets; TLS 1.2 RFC 5077 tickets */
#define MBEDTLS_SSL_TICKET_C              /* server-side tickets (test / bench servers) */
#define MBEDTLS_SSL_CACHE_C               /* server-side session cache (test / bench servers) */
#define MBEDTLS_SSL_PROTO_DTLS
#define MBEDTLS_SSL_DTLS_ANTI_REPLAY
#define MBEDTLS_SSL_DTLS_HELLO_VERIFY
#define MBEDTLS_SSL_COOKIE_C
#define MBEDTLS_SSL_DTLS_CONNECTION_ID
#define MBEDTLS_SSL_DTLS_CONNECTION_ID_COMPAT 0 /* RFC 9146 record format, not the draft's */
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_RECORD_SIZE_LIMIT     /* TLS 1.3 record size limit (RFC 8449) */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED
#define MBEDTLS_KEY_EXCHANGE_PSK_ENABLED
/* Record buffers: 16 KiB in (what a standard server may send), 4 KiB out (what the device sends
 * in one record; larger writes are split). A small MCU reduces both (and asks the server for a
 * record size limit / max fragment length). */
#ifndef MBEDTLS_SSL_IN_CONTENT_LEN
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#endif
#ifndef MBEDTLS_SSL_OUT_CONTENT_LEN
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096
#endif
#define MBEDTLS_SSL_CIPHERSUITES \
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256, MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256, \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, \
    MBEDTLS_TLS_PSK_WITH_AES_128_CCM_8, MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256

#endif /* FS38_MBEDTLS_CONFIG_H */
