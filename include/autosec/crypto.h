/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cryptographic building blocks over OpenSSL 3.0 (which has no HPKE):
 * HKDF (RFC 5869), HPKE base mode (RFC 9180) with DHKEM(X25519, HKDF-SHA256),
 * RSA-OAEP-SHA256 (RFC 8017) as a KEM, ephemeral DH (X25519, RFC 3526 MODP),
 * and constant-time helpers.  All secrets are wiped by the *_clear functions.
 */
#ifndef AUTOSEC_CRYPTO_H
#define AUTOSEC_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct as_rng;

/* Constant-time compare: 0 when equal. */
int as_ct_memcmp(const void *a, const void *b, size_t n);
void as_wipe(void *p, size_t n);

/* HKDF with SHA-256 (md NULL) or another digest.  Extract writes
 * EVP_MD_get_size(md) bytes to prk (EVP_MAX_MD_SIZE always suffices) and
 * stores that length in *prk_len.  Expand: out_len <= 255 * HashLen. */
int as_hkdf_extract(const EVP_MD *md, const uint8_t *salt, size_t salt_len,
		    const uint8_t *ikm, size_t ikm_len, uint8_t *prk, size_t *prk_len);
int as_hkdf_expand(const EVP_MD *md, const uint8_t *prk, size_t prk_len,
		   const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);
/* One-shot HMAC (md NULL = SHA-256); out holds EVP_MD_get_size(md) bytes. */
int as_hmac(const EVP_MD *md, const uint8_t *key, size_t key_len,
	    const uint8_t *data, size_t data_len, uint8_t *out);

/* X25519 (RFC 7748): out = scalar * point, both 32 bytes. Rejects an
 * all-zero result (small-order point) with AS_E_INVAL. */
int as_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32]);
int as_x25519_public(uint8_t pub[32], const uint8_t priv[32]);

/* ---- HPKE, RFC 9180, mode_base only ---- */
#define AS_HPKE_KEM_X25519 0x0020
#define AS_HPKE_KEM_RSA_OAEP 0xFF01  /* AutoSEC-private: RSA-OAEP-SHA256 of a 32-byte secret */
#define AS_HPKE_KDF_SHA256 0x0001
#define AS_HPKE_AEAD_AES128GCM 0x0001
#define AS_HPKE_AEAD_CHACHA20POLY1305 0x0003
#define AS_HPKE_TAG_LEN 16

struct as_hpke_ctx {
	uint16_t kem, kdf, aead;
	uint8_t key[32];
	size_t key_len;
	uint8_t base_nonce[12];
	uint64_t seq;
	uint8_t exporter_secret[32];
};

/* DeriveKeyPair (RFC 9180 7.1.3) for DHKEM(X25519, HKDF-SHA256); ikm must
 * be at least 32 bytes (AS_E_INVAL otherwise). */
int as_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, uint8_t sk[32], uint8_t pk[32]);
/* DHKEM Encap with DeriveKeyPair(ikmE) as the ephemeral key (AS_E_INVAL
 * for a small-order pkR) and Decap (AS_E_MSG_DECRYPT for a small-order
 * enc).  shared_secret is Nsecret = 32 bytes. */
int as_hpke_encap(const uint8_t pkR[32], const uint8_t *ikmE, size_t ikmE_len,
		  uint8_t shared_secret[32], uint8_t enc[32]);
int as_hpke_decap(const uint8_t enc[32], const uint8_t skR[32], uint8_t shared_secret[32]);
/* KeySchedule (5.1) for mode_base with a given kem id and shared secret;
 * kdf is always HKDF-SHA256.  AS_E_ALG_UNKNOWN for another aead id. */
int as_hpke_key_schedule(struct as_hpke_ctx *c, uint16_t kem, uint16_t aead,
			 const uint8_t *shared_secret, size_t ss_len,
			 const uint8_t *info, size_t info_len);
/* SetupBaseS with DeriveKeyPair(ikmE) as the ephemeral key (the RFC's
 * deterministic form; production passes 32 fresh random bytes as ikmE). */
int as_hpke_setup_base_s(struct as_hpke_ctx *c, uint16_t aead, const uint8_t pkR[32],
			 const uint8_t *info, size_t info_len,
			 const uint8_t *ikmE, size_t ikmE_len, uint8_t enc[32]);
int as_hpke_setup_base_r(struct as_hpke_ctx *c, uint16_t aead, const uint8_t enc[32],
			 const uint8_t skR[32], const uint8_t *info, size_t info_len);
/* ct gets pt_len + 16 bytes; seq advances (AS_E_ESP_SEQ_EXHAUSTED rather
 * than wrap).  pt and ct may be the same buffer. */
int as_hpke_seal(struct as_hpke_ctx *c, const uint8_t *aad, size_t aad_len,
		 const uint8_t *pt, size_t pt_len, uint8_t *ct);
/* pt gets ct_len - 16 bytes; AS_E_MSG_DECRYPT if the tag fails (pt is
 * wiped and seq does not advance), AS_E_TRUNCATED if ct_len < 16. */
int as_hpke_open(struct as_hpke_ctx *c, const uint8_t *aad, size_t aad_len,
		 const uint8_t *ct, size_t ct_len, uint8_t *pt);
int as_hpke_export(const struct as_hpke_ctx *c, const uint8_t *ctx, size_t ctx_len,
		   uint8_t *out, size_t out_len);
void as_hpke_clear(struct as_hpke_ctx *c);

/* ---- RSA-OAEP with SHA-256 and MGF1-SHA-256 ----
 * Encrypt: EME-OAEP encoding done here with the seed from rng (NULL: the
 * system rng; a fixed-seed rng makes the output reproducible, so vectors
 * are reproducible), then the raw RSA permutation.  Decrypt: OpenSSL's
 * constant-time OAEP.  out/cap must hold the modulus size.  Encrypt:
 * AS_E_INVAL if msg is longer than k - 66.  Decrypt: every failure of the
 * ciphertext (length, padding, label) is AS_E_MSG_DECRYPT and nothing else. */
int as_rsa_oaep_encrypt(EVP_PKEY *pub, const struct as_rng *rng,
			const uint8_t *label, size_t label_len,
			const uint8_t *msg, size_t msg_len,
			uint8_t *out, size_t cap, size_t *out_len);
int as_rsa_oaep_decrypt(EVP_PKEY *priv, const uint8_t *label, size_t label_len,
			const uint8_t *ct, size_t ct_len,
			uint8_t *out, size_t cap, size_t *out_len);

/* ---- Ephemeral Diffie-Hellman for forward secrecy ----
 * group: AS_DH_CURVE25519 or AS_DH_MODP* (IANA IKEv2 numbers).  Shares are
 * IKEv2 KE payload format: 32 bytes for X25519, the prime's length
 * big-endian zero-padded for MODP.  Private values come from rng (NULL:
 * the system rng): 32 octets for X25519, a 256..512-bit exponent for MODP.
 * as_dh_keygen fills *dh without reading it; as_dh_free releases it. */
struct as_dh {
	uint16_t group;
	EVP_PKEY *pkey;
};
size_t as_dh_share_len(uint16_t group);
int as_dh_keygen(struct as_dh *dh, uint16_t group, const struct as_rng *rng);
int as_dh_share(const struct as_dh *dh, uint8_t *out, size_t cap, size_t *len);
/* Validates the peer share (length, range 1 < y < p-1, not small order):
 * AS_E_INVAL if it is bad.  out gets the shared secret, *len its length
 * (X25519 32, MODP the prime's length, zero-padded on the left).
 * as_dh_keygen: AS_E_ALG_UNKNOWN for a group other than those above. */
int as_dh_derive(const struct as_dh *dh, const uint8_t *peer, size_t peer_len,
		 uint8_t *out, size_t cap, size_t *len);
void as_dh_free(struct as_dh *dh);

#endif
