/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The algorithm registry: the draft's IKEv2 transform names (with the key
 * length suffix -128/-192/-256) <-> IANA IKEv2 transform IDs (which is what
 * goes on the wire) <-> the parameters ESP and OpenSSL need.
 *
 * Legacy transforms (RFC 8221: DES, 3DES, IDEA, Blowfish, CAST, RC5, NULL
 * encryption, MD5, ...) are in the table so records naming them parse, but
 * they carry AS_ALG_REFUSED and are never chosen by default.
 */
#ifndef AUTOSEC_ALG_H
#define AUTOSEC_ALG_H

#include <stddef.h>
#include <stdint.h>

struct as_diag;

/* IKEv2 transform types (RFC 7296 3.3.2) used as the registry's sections. */
enum as_xf_type {
	AS_XF_ENCR = 1,
	AS_XF_INTEG = 3,
	AS_XF_DH = 4,
};

/* IANA "Transform Type 1 - Encryption Algorithm Transform IDs" we use. */
enum {
	AS_ENCR_DES_IV64 = 1,
	AS_ENCR_DES = 2,
	AS_ENCR_3DES = 3,
	AS_ENCR_RC5 = 4,
	AS_ENCR_IDEA = 5,
	AS_ENCR_CAST = 6,
	AS_ENCR_BLOWFISH = 7,
	AS_ENCR_3IDEA = 8,
	AS_ENCR_DES_IV32 = 9,
	AS_ENCR_NULL = 11,
	AS_ENCR_AES_CBC = 12,
	AS_ENCR_AES_CTR = 13,
	AS_ENCR_AES_GCM_16 = 20,
	AS_ENCR_CHACHA20_POLY1305 = 28,
};

/* IANA "Transform Type 3 - Integrity Algorithm Transform IDs". */
enum {
	AS_AUTH_NONE = 0,
	AS_AUTH_HMAC_MD5_96 = 1,
	AS_AUTH_HMAC_SHA1_96 = 2,
	AS_AUTH_DES_MAC = 3,
	AS_AUTH_KPDK_MD5 = 4,
	AS_AUTH_AES_XCBC_96 = 5,
	AS_AUTH_HMAC_SHA2_256_128 = 12,
	AS_AUTH_HMAC_SHA2_384_192 = 13,
	AS_AUTH_HMAC_SHA2_512_256 = 14,
};

/* IANA "Transform Type 4 - Key Exchange Method Transform IDs". */
enum {
	AS_DH_MODP1536 = 5,
	AS_DH_MODP2048 = 14,
	AS_DH_MODP3072 = 15,
	AS_DH_MODP4096 = 16,
	AS_DH_MODP6144 = 17,
	AS_DH_MODP8192 = 18,
	AS_DH_CURVE25519 = 31,
};

enum as_alg_status {
	AS_ALG_OK = 0,          /* implemented and allowed by default */
	AS_ALG_REFUSED = 1,     /* known, parsed, refused by default (RFC 8221) */
	AS_ALG_UNSUPPORTED = 2, /* known name, not implemented here */
};

struct as_alg {
	uint8_t type;      /* enum as_xf_type */
	uint16_t id;       /* IANA transform ID */
	uint16_t key_bits; /* key length attribute; 0 when the transform has none */
	const char *name;  /* canonical record name, e.g. "ENCR_AES_GCM_16-256" */
	uint8_t status;    /* enum as_alg_status */
	const char *why;   /* for refused/unsupported: one phrase, e.g. "64-bit block (RFC 8221)" */
	/* ENCR: */
	uint8_t aead;      /* 1 for GCM/ChaCha20-Poly1305: no separate INTEG */
	uint8_t key_len;   /* cipher key bytes */
	uint8_t salt_len;  /* KEYMAT bytes after the key: 4 for GCM, CTR, ChaCha20 */
	uint8_t iv_len;    /* explicit IV bytes in each ESP packet */
	uint8_t block;     /* padding block (ESP pads to max(block, 4)) */
	uint8_t icv_len;   /* ENCR: AEAD tag bytes; INTEG: truncated ICV bytes */
	/* INTEG: */
	uint8_t ikey_len;  /* HMAC key bytes */
	/* DH: */
	uint16_t share_len; /* key exchange payload bytes */
	const char *ossl;  /* OpenSSL name: cipher, digest or group */
};

/* Lookup by record name (case-insensitive; "-256" optional where the
 * transform has one key length, e.g. ENCR_CHACHA20_POLY1305).  NULL if the
 * name is unknown.  type 0 matches any type.  Legacy fixed-size ciphers
 * (DES, 3DES, IDEA, 3IDEA, NULL) take any of -128/-192/-256 because the
 * draft's own example writes "ENCR_3DES-128"; "X25519" names CURVE25519. */
const struct as_alg *as_alg_by_name(int type, const char *name, size_t len);
/* Lookup by wire identity; key_bits 0 for transforms without a length. */
const struct as_alg *as_alg_find(int type, uint16_t id, uint16_t key_bits);
/* Iterate the registry: returns NULL after the last entry. */
const struct as_alg *as_alg_at(size_t i);
/* "encryption", "integrity", "DH group" */
const char *as_alg_type_name(int type);

/*
 * Local policy: which transforms this host is willing to use.  The default
 * allows every AS_ALG_OK entry and nothing else; legacy ones can be allowed
 * explicitly (with a loud warning in the tools).
 */
struct as_policy {
	uint64_t allow_encr[4];  /* bitsets indexed by as_alg_at() index */
	uint64_t allow_integ[4];
	uint64_t allow_dh[4];
};
void as_policy_default(struct as_policy *p);
int as_policy_allows(const struct as_policy *p, const struct as_alg *a);
/* Parse a comma list of names into p's set for that type, replacing it;
 * quotes a bad name.  Refused (legacy) names are accepted: listing one is
 * how it is allowed.  AS_E_ALG_UNKNOWN for an unknown name, AS_E_ALG_REFUSED
 * for one not implemented, AS_E_INVAL for an empty list or name; on error p
 * is unchanged. */
int as_policy_set(struct as_policy *p, int type, const char *list, struct as_diag *d);

#endif
