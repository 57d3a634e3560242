/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Public and private keys: RSA (2048/3072/4096) and X25519, as OpenSSL
 * EVP_PKEYs.  Public keys travel as DER SubjectPublicKeyInfo (self-describing
 * type), private keys are stored as PKCS#8 PEM files, mode 0600.
 */
#ifndef AUTOSEC_PKEY_H
#define AUTOSEC_PKEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct as_diag;

enum as_key_type {
	AS_KEY_NONE = 0,
	AS_KEY_RSA = 1,
	AS_KEY_X25519 = 2,
};

#define AS_SPKI_MAX 1024 /* RSA-4096 SPKI is 550 bytes */

/* Generate: type AS_KEY_RSA with bits 2048/3072/4096, or AS_KEY_X25519 (bits 0). */
int as_pkey_generate(int type, unsigned bits, EVP_PKEY **out, struct as_diag *d);
/* Decode a DER SPKI; checks the type and size we accept (AS_E_REC_KEY,
 * AS_E_REC_KEY_TYPE). */
int as_pkey_from_spki(const uint8_t *der, size_t len, EVP_PKEY **out, struct as_diag *d);
/* Encode the public half as DER SPKI into out (cap bytes); *len set. */
int as_pkey_to_spki(EVP_PKEY *k, uint8_t *out, size_t cap, size_t *len);
/* Type and size of a key we accept, or AS_E_REC_KEY_TYPE. */
int as_pkey_info(EVP_PKEY *k, int *type, unsigned *bits, struct as_diag *d);
/* X25519: the raw 32-byte public or private value. */
int as_pkey_x25519_raw(EVP_PKEY *k, int private_part, uint8_t out[32]);
/* Private key file: PKCS#8 PEM, created 0600 with O_EXCL (no overwrite). */
int as_pkey_write_private(EVP_PKEY *k, const char *path, struct as_diag *d);
/* Load; refuses a file that group/others can read or write. */
int as_pkey_read_private(const char *path, EVP_PKEY **out, struct as_diag *d);
/* The same from PEM text in memory (no pass phrase prompt; encrypted keys
 * fail).  For tests: checked-in key files lose their 0600 mode in git. */
int as_pkey_from_pem(const void *pem, size_t len, EVP_PKEY **out, struct as_diag *d);
/* Key tag: the RFC 4034 Appendix B checksum computed over the DER SPKI. */
uint16_t as_pkey_tag(const uint8_t *spki, size_t len);

#endif
