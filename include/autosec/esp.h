/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ESP, RFC 4303, in userspace: one SA direction per struct as_esp_sa.
 *
 *   SPI(4) | Sequence Number(4) | IV (iv_len) | ciphertext of
 *   [payload | padding 1,2,3.. | pad length(1) | next header(1)] | ICV
 *
 * Transforms: AES-GCM-16 (RFC 4106), ChaCha20-Poly1305 (RFC 7634), AES-CBC
 * (RFC 3602) with HMAC-SHA2-256-128/384-192/512-256 (RFC 4868), AES-CTR
 * (RFC 3686) with the same HMACs.  Keys come as KEYMAT laid out as RFC 7296
 * 2.17 does for one direction: encryption key || salt, then integrity key.
 *
 * No allocation on the per-packet path: contexts are created in
 * as_esp_sa_init and reused.
 */
#ifndef AUTOSEC_ESP_H
#define AUTOSEC_ESP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct as_alg;
struct as_rng;
struct as_wbuf;

#define AS_ESP_HDR_LEN 8
#define AS_ESP_REPLAY_WINDOW 1024 /* bits; RFC 4303 recommends >= 64 */

struct as_replay {
	uint64_t top;  /* highest sequence number accepted */
	uint64_t bits[AS_ESP_REPLAY_WINDOW / 64];
};

struct as_esp_sa {
	uint32_t spi;
	const struct as_alg *enc;
	const struct as_alg *integ; /* NULL/AUTH_NONE for AEAD */
	int esn;                    /* 64-bit sequence numbers (RFC 4303 2.2.1) */
	uint8_t key[32];
	uint8_t salt[4];
	uint8_t ikey[64];
	EVP_CIPHER_CTX *cctx;
	EVP_MAC_CTX *mctx;
	uint64_t seq;               /* outbound: last sequence number used */
	struct as_replay replay;    /* inbound */
};

/* KEYMAT bytes needed for one direction of (enc, integ). */
size_t as_esp_keymat_len(const struct as_alg *enc, const struct as_alg *integ);
/*
 * AS_E_ESP_SPI for a reserved SPI (0..255), AS_E_INVAL for a KEYMAT of the
 * wrong length or an (enc, integ) pair that does not fit together (an AEAD
 * with an INTEG transform, sizes that disagree with OpenSSL's cipher),
 * AS_E_ALG_UNKNOWN for a transform ESP does not implement.  integ NULL or
 * AUTH_NONE with CBC/CTR means encryption only: allowed here for the RFC
 * test vectors, never proposed or accepted by the policy layer.
 */
int as_esp_sa_init(struct as_esp_sa *sa, uint32_t spi, const struct as_alg *enc,
		   const struct as_alg *integ, const uint8_t *keymat, size_t keymat_len,
		   int esn);
void as_esp_sa_clear(struct as_esp_sa *sa);

/* Bytes an ESP packet needs around a payload of plen bytes (worst case). */
size_t as_esp_overhead(const struct as_esp_sa *sa, size_t plen);

/*
 * Encapsulate: sequence number sa->seq + 1.  The IV is iv if non-NULL
 * (tests), else random from rng for CBC and the sequence number for the
 * counter modes (GCM, CTR, ChaCha20-Poly1305: unique per key is what they need).
 * AS_E_ESP_SEQ_EXHAUSTED instead of wrapping.
 */
int as_esp_encap(struct as_esp_sa *sa, const struct as_rng *rng, const uint8_t *iv,
		 uint8_t next_header, const uint8_t *payload, size_t plen,
		 struct as_wbuf *out);
/*
 * Decapsulate: checks SPI, replay window (before the costly ICV check, as a
 * cheap filter), ICV, padding; the window is updated only after the ICV
 * verifies.  The payload (without padding) goes to out.
 * out needs room for everything between IV and ICV (len - AS_ESP_HDR_LEN -
 * iv_len - icv_len bytes): it is decrypted there and the trailer cut off.
 * Errors: AS_E_TRUNCATED, AS_E_ESP_SPI, AS_E_ESP_REPLAY, AS_E_NOSPACE,
 * AS_E_ESP_ICV, AS_E_ESP_PAD (authentic, so the window has moved).  Next
 * header 59 marks a dummy packet (RFC 4303 2.6) that the caller drops.
 */
int as_esp_decap(struct as_esp_sa *sa, const uint8_t *pkt, size_t len,
		 uint8_t *next_header, struct as_wbuf *out);
/* The SPI of a packet, for finding its SA; AS_E_ESP_SPI for 0..255. */
int as_esp_peek_spi(const uint8_t *pkt, size_t len, uint32_t *spi);

/* The anti-replay window alone (exposed for tests). */
int as_replay_check(const struct as_replay *r, uint64_t seq);
void as_replay_update(struct as_replay *r, uint64_t seq);

#endif
