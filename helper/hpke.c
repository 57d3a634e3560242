/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HPKE (RFC 9180), mode_base only, written on top of X25519, HKDF-SHA256
 * and EVP AEADs because OpenSSL 3.0 has no HPKE of its own.
 *
 *   KEM:  DHKEM(X25519, HKDF-SHA256) = 0x0020 (and, for the key schedule
 *         only, any other kem id such as AutoSEC's RSA-OAEP 0xFF01)
 *   KDF:  HKDF-SHA256 = 0x0001
 *   AEAD: AES-128-GCM = 0x0001, ChaCha20Poly1305 = 0x0003
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "autosec/buf.h"
#include "autosec/crypto.h"
#include "autosec/err.h"

#define HPKE_NH 32       /* HKDF-SHA256 output */
#define HPKE_NN 12       /* AEAD nonce */
#define HPKE_NSK 32      /* X25519 private key */
#define HPKE_NPK 32      /* X25519 public key = Nenc */
#define HPKE_NSECRET 32  /* DHKEM(X25519) shared secret */
#define HPKE_MODE_BASE 0x00

static const char hpke_v1[] = "HPKE-v1";

/* suite_id: "KEM" || I2OSP(kem_id, 2) inside the KEM (RFC 9180 4.1),
 * "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2)
 * everywhere else (5.1). */
struct hpke_suite {
	uint8_t id[10];
	size_t len;
};

static void suite_kem(struct hpke_suite *s, uint16_t kem)
{
	memcpy(s->id, "KEM", 3);
	s->id[3] = (uint8_t)(kem >> 8);
	s->id[4] = (uint8_t)kem;
	s->len = 5;
}

static void suite_hpke(struct hpke_suite *s, uint16_t kem, uint16_t kdf, uint16_t aead)
{
	memcpy(s->id, "HPKE", 4);
	s->id[4] = (uint8_t)(kem >> 8);
	s->id[5] = (uint8_t)kem;
	s->id[6] = (uint8_t)(kdf >> 8);
	s->id[7] = (uint8_t)kdf;
	s->id[8] = (uint8_t)(aead >> 8);
	s->id[9] = (uint8_t)aead;
	s->len = 10;
}

/*
 * LabeledExtract(salt, label, ikm) =
 *   Extract(salt, "HPKE-v1" || suite_id || label || ikm)
 */
static int labeled_extract(const struct hpke_suite *s, const uint8_t *salt, size_t salt_len,
			   const char *label, const uint8_t *ikm, size_t ikm_len,
			   uint8_t prk[HPKE_NH])
{
	size_t lab_len = strlen(label), n, prk_len = 0;
	struct as_wbuf w;
	uint8_t *buf;
	int ret;

	if (ikm_len > SIZE_MAX / 2)
		return AS_E_INVAL;
	n = sizeof(hpke_v1) - 1 + s->len + lab_len + ikm_len;
	buf = OPENSSL_malloc(n);
	if (!buf)
		return AS_E_NOMEM;
	as_wbuf_init(&w, buf, n);
	as_wbuf_put(&w, hpke_v1, sizeof(hpke_v1) - 1);
	as_wbuf_put(&w, s->id, s->len);
	as_wbuf_put(&w, label, lab_len);
	ret = as_wbuf_put(&w, ikm, ikm_len);
	if (ret == AS_OK)
		ret = as_hkdf_extract(NULL, salt, salt_len, buf, n, prk, &prk_len);
	if (ret == AS_OK && prk_len != HPKE_NH)
		ret = AS_E_CRYPTO;
	OPENSSL_clear_free(buf, n);
	return ret;
}

/*
 * LabeledExpand(prk, label, info, L) =
 *   Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)
 */
static int labeled_expand(const struct hpke_suite *s, const uint8_t prk[HPKE_NH],
			  const char *label, const uint8_t *info, size_t info_len,
			  uint8_t *out, size_t L)
{
	size_t lab_len = strlen(label), n;
	struct as_wbuf w;
	uint8_t *buf;
	int ret;

	/* L must fit I2OSP(L, 2) and HKDF's 255 * Nh. */
	if (L == 0 || L > 255 * HPKE_NH || info_len > SIZE_MAX / 2)
		return AS_E_INVAL;
	n = 2 + sizeof(hpke_v1) - 1 + s->len + lab_len + info_len;
	buf = OPENSSL_malloc(n);
	if (!buf)
		return AS_E_NOMEM;
	as_wbuf_init(&w, buf, n);
	as_wbuf_u16(&w, (uint16_t)L);
	as_wbuf_put(&w, hpke_v1, sizeof(hpke_v1) - 1);
	as_wbuf_put(&w, s->id, s->len);
	as_wbuf_put(&w, label, lab_len);
	ret = as_wbuf_put(&w, info, info_len);
	if (ret == AS_OK)
		ret = as_hkdf_expand(NULL, prk, HPKE_NH, buf, n, out, L);
	OPENSSL_clear_free(buf, n);
	return ret;
}

static size_t aead_key_len(uint16_t aead)
{
	switch (aead) {
	case AS_HPKE_AEAD_AES128GCM:
		return 16;
	case AS_HPKE_AEAD_CHACHA20POLY1305:
		return 32;
	default:
		return 0;
	}
}

static const EVP_CIPHER *aead_cipher(uint16_t aead)
{
	switch (aead) {
	case AS_HPKE_AEAD_AES128GCM:
		return EVP_aes_128_gcm();
	case AS_HPKE_AEAD_CHACHA20POLY1305:
		return EVP_chacha20_poly1305();
	default:
		return NULL;
	}
}

/* ---- DHKEM(X25519, HKDF-SHA256), RFC 9180 4.1 and 7.1.3 ---- */

int as_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, uint8_t sk[32], uint8_t pk[32])
{
	struct hpke_suite s;
	uint8_t dkp_prk[HPKE_NH];
	int ret;

	/* 7.1.3: ikm needs at least Nsk bytes of entropy; shorter input can
	 * only be a mistake, and for ikmE it would weaken every message. */
	if (!ikm || ikm_len < HPKE_NSK || !sk || !pk)
		return AS_E_INVAL;
	suite_kem(&s, AS_HPKE_KEM_X25519);
	ret = labeled_extract(&s, NULL, 0, "dkp_prk", ikm, ikm_len, dkp_prk);
	if (ret == AS_OK)
		ret = labeled_expand(&s, dkp_prk, "sk", NULL, 0, sk, HPKE_NSK);
	if (ret == AS_OK)
		ret = as_x25519_public(pk, sk);
	if (ret != AS_OK)
		OPENSSL_cleanse(sk, HPKE_NSK);
	OPENSSL_cleanse(dkp_prk, sizeof(dkp_prk));
	return ret;
}

/* ExtractAndExpand(dh, kem_context) with kem_context = enc || pkRm. */
static int extract_and_expand(const uint8_t dh[32], const uint8_t enc[HPKE_NPK],
			      const uint8_t pkrm[HPKE_NPK], uint8_t ss[HPKE_NSECRET])
{
	struct hpke_suite s;
	uint8_t eae_prk[HPKE_NH], kem_context[2 * HPKE_NPK];
	int ret;

	suite_kem(&s, AS_HPKE_KEM_X25519);
	memcpy(kem_context, enc, HPKE_NPK);
	memcpy(kem_context + HPKE_NPK, pkrm, HPKE_NPK);
	ret = labeled_extract(&s, NULL, 0, "eae_prk", dh, 32, eae_prk);
	if (ret == AS_OK)
		ret = labeled_expand(&s, eae_prk, "shared_secret", kem_context,
				     sizeof(kem_context), ss, HPKE_NSECRET);
	OPENSSL_cleanse(eae_prk, sizeof(eae_prk));
	return ret;
}

int as_hpke_encap(const uint8_t pkR[32], const uint8_t *ikmE, size_t ikmE_len,
		  uint8_t shared_secret[32], uint8_t enc[32])
{
	uint8_t skE[HPKE_NSK], dh[32];
	int ret;

	if (!pkR || !shared_secret || !enc)
		return AS_E_INVAL;
	ret = as_hpke_derive_keypair(ikmE, ikmE_len, skE, enc);
	if (ret == AS_OK)
		ret = as_x25519(dh, skE, pkR);    /* AS_E_INVAL: small-order pkR */
	if (ret == AS_OK)
		ret = extract_and_expand(dh, enc, pkR, shared_secret);
	if (ret != AS_OK) {
		OPENSSL_cleanse(shared_secret, HPKE_NSECRET);
		memset(enc, 0, HPKE_NPK);
	}
	OPENSSL_cleanse(skE, sizeof(skE));
	OPENSSL_cleanse(dh, sizeof(dh));
	return ret;
}

int as_hpke_decap(const uint8_t enc[32], const uint8_t skR[32], uint8_t shared_secret[32])
{
	uint8_t pkrm[HPKE_NPK], dh[32];
	int ret;

	if (!enc || !skR || !shared_secret)
		return AS_E_INVAL;
	ret = as_x25519_public(pkrm, skR);
	if (ret == AS_OK) {
		/* A small-order enc is the sender's (or an attacker's) fault:
		 * DecapError, reported like any block that does not open. */
		ret = as_x25519(dh, skR, enc);
		if (ret == AS_E_INVAL)
			ret = AS_E_MSG_DECRYPT;
	}
	if (ret == AS_OK)
		ret = extract_and_expand(dh, enc, pkrm, shared_secret);
	if (ret != AS_OK)
		OPENSSL_cleanse(shared_secret, HPKE_NSECRET);
	OPENSSL_cleanse(dh, sizeof(dh));
	return ret;
}

/* ---- KeySchedule, RFC 9180 5.1, mode_base (psk = psk_id = "") ---- */

int as_hpke_key_schedule(struct as_hpke_ctx *c, uint16_t kem, uint16_t aead,
			 const uint8_t *shared_secret, size_t ss_len,
			 const uint8_t *info, size_t info_len)
{
	struct hpke_suite s;
	uint8_t ksc[1 + 2 * HPKE_NH], secret[HPKE_NH];
	size_t nk = aead_key_len(aead);
	int ret;

	if (!c)
		return AS_E_INVAL;
	memset(c, 0, sizeof(*c));
	if (nk == 0)
		return AS_E_ALG_UNKNOWN;
	if (!shared_secret || ss_len == 0 || (info_len && !info))
		return AS_E_INVAL;
	suite_hpke(&s, kem, AS_HPKE_KDF_SHA256, aead);

	/* key_schedule_context = mode || psk_id_hash || info_hash */
	ksc[0] = HPKE_MODE_BASE;
	ret = labeled_extract(&s, NULL, 0, "psk_id_hash", NULL, 0, ksc + 1);
	if (ret == AS_OK)
		ret = labeled_extract(&s, NULL, 0, "info_hash", info, info_len,
				      ksc + 1 + HPKE_NH);
	/* secret = LabeledExtract(shared_secret, "secret", psk) */
	if (ret == AS_OK)
		ret = labeled_extract(&s, shared_secret, ss_len, "secret", NULL, 0, secret);
	if (ret == AS_OK)
		ret = labeled_expand(&s, secret, "key", ksc, sizeof(ksc), c->key, nk);
	if (ret == AS_OK)
		ret = labeled_expand(&s, secret, "base_nonce", ksc, sizeof(ksc),
				     c->base_nonce, HPKE_NN);
	if (ret == AS_OK)
		ret = labeled_expand(&s, secret, "exp", ksc, sizeof(ksc),
				     c->exporter_secret, HPKE_NH);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (ret != AS_OK) {
		as_hpke_clear(c);
		return ret;
	}
	c->kem = kem;
	c->kdf = AS_HPKE_KDF_SHA256;
	c->aead = aead;
	c->key_len = nk;
	c->seq = 0;
	return AS_OK;
}

int as_hpke_setup_base_s(struct as_hpke_ctx *c, uint16_t aead, const uint8_t pkR[32],
			 const uint8_t *info, size_t info_len,
			 const uint8_t *ikmE, size_t ikmE_len, uint8_t enc[32])
{
	uint8_t ss[HPKE_NSECRET];
	int ret;

	if (!c)
		return AS_E_INVAL;
	memset(c, 0, sizeof(*c));
	if (aead_key_len(aead) == 0)
		return AS_E_ALG_UNKNOWN;
	ret = as_hpke_encap(pkR, ikmE, ikmE_len, ss, enc);
	if (ret == AS_OK)
		ret = as_hpke_key_schedule(c, AS_HPKE_KEM_X25519, aead, ss, sizeof(ss),
					   info, info_len);
	OPENSSL_cleanse(ss, sizeof(ss));
	return ret;
}

int as_hpke_setup_base_r(struct as_hpke_ctx *c, uint16_t aead, const uint8_t enc[32],
			 const uint8_t skR[32], const uint8_t *info, size_t info_len)
{
	uint8_t ss[HPKE_NSECRET];
	int ret;

	if (!c)
		return AS_E_INVAL;
	memset(c, 0, sizeof(*c));
	if (aead_key_len(aead) == 0)
		return AS_E_ALG_UNKNOWN;
	ret = as_hpke_decap(enc, skR, ss);
	if (ret == AS_OK)
		ret = as_hpke_key_schedule(c, AS_HPKE_KEM_X25519, aead, ss, sizeof(ss),
					   info, info_len);
	OPENSSL_cleanse(ss, sizeof(ss));
	return ret;
}

/* ---- Encryption and decryption, RFC 9180 5.2 ---- */

/* ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn) */
static void compute_nonce(const struct as_hpke_ctx *c, uint8_t nonce[HPKE_NN])
{
	memcpy(nonce, c->base_nonce, HPKE_NN);
	for (int i = 0; i < 8; i++)
		nonce[HPKE_NN - 1 - i] ^= (uint8_t)(c->seq >> (8 * i));
}

static int ctx_usable(const struct as_hpke_ctx *c)
{
	return c && aead_key_len(c->aead) != 0 && c->key_len == aead_key_len(c->aead);
}

int as_hpke_seal(struct as_hpke_ctx *c, const uint8_t *aad, size_t aad_len,
		 const uint8_t *pt, size_t pt_len, uint8_t *ct)
{
	EVP_CIPHER_CTX *cctx = NULL;
	uint8_t nonce[HPKE_NN];
	int outl = 0, fin = 0, ret = AS_E_CRYPTO;

	if (!ctx_usable(c) || !ct || (aad_len && !aad) || (pt_len && !pt) ||
	    aad_len > INT_MAX || pt_len > INT_MAX - AS_HPKE_TAG_LEN)
		return AS_E_INVAL;
	/* IncrementSeq must never wrap: a repeated nonce breaks the AEAD. */
	if (c->seq == UINT64_MAX)
		return AS_E_ESP_SEQ_EXHAUSTED;
	compute_nonce(c, nonce);
	cctx = EVP_CIPHER_CTX_new();
	if (!cctx ||
	    EVP_EncryptInit_ex(cctx, aead_cipher(c->aead), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(cctx, EVP_CTRL_AEAD_SET_IVLEN, HPKE_NN, NULL) != 1 ||
	    EVP_EncryptInit_ex(cctx, NULL, NULL, c->key, nonce) != 1)
		goto out;
	if (aad_len && EVP_EncryptUpdate(cctx, NULL, &outl, aad, (int)aad_len) != 1)
		goto out;
	outl = 0;
	if (pt_len && EVP_EncryptUpdate(cctx, ct, &outl, pt, (int)pt_len) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(cctx, ct + outl, &fin) != 1 || (size_t)outl + (size_t)fin != pt_len)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(cctx, EVP_CTRL_AEAD_GET_TAG, AS_HPKE_TAG_LEN, ct + pt_len) != 1)
		goto out;
	c->seq++;
	ret = AS_OK;
out:
	if (ret != AS_OK) {
		ERR_clear_error();
		OPENSSL_cleanse(ct, pt_len + AS_HPKE_TAG_LEN);
	}
	EVP_CIPHER_CTX_free(cctx);
	return ret;
}

int as_hpke_open(struct as_hpke_ctx *c, const uint8_t *aad, size_t aad_len,
		 const uint8_t *ct, size_t ct_len, uint8_t *pt)
{
	EVP_CIPHER_CTX *cctx = NULL;
	uint8_t nonce[HPKE_NN], tag[AS_HPKE_TAG_LEN];
	size_t pt_len;
	int outl = 0, fin = 0, ret = AS_E_CRYPTO;

	if (!ctx_usable(c) || (aad_len && !aad) || (ct_len && !ct) ||
	    aad_len > INT_MAX || ct_len > INT_MAX)
		return AS_E_INVAL;
	if (ct_len < AS_HPKE_TAG_LEN)
		return AS_E_TRUNCATED;
	pt_len = ct_len - AS_HPKE_TAG_LEN;
	if (pt_len && !pt)
		return AS_E_INVAL;
	if (c->seq == UINT64_MAX)
		return AS_E_ESP_SEQ_EXHAUSTED;
	compute_nonce(c, nonce);
	/* Copied first: pt may be the same buffer as ct. */
	memcpy(tag, ct + pt_len, AS_HPKE_TAG_LEN);
	cctx = EVP_CIPHER_CTX_new();
	if (!cctx ||
	    EVP_DecryptInit_ex(cctx, aead_cipher(c->aead), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(cctx, EVP_CTRL_AEAD_SET_IVLEN, HPKE_NN, NULL) != 1 ||
	    EVP_DecryptInit_ex(cctx, NULL, NULL, c->key, nonce) != 1 ||
	    EVP_CIPHER_CTX_ctrl(cctx, EVP_CTRL_AEAD_SET_TAG, AS_HPKE_TAG_LEN, tag) != 1)
		goto out;
	if (aad_len && EVP_DecryptUpdate(cctx, NULL, &outl, aad, (int)aad_len) != 1)
		goto out;
	outl = 0;
	if (pt_len && EVP_DecryptUpdate(cctx, pt, &outl, ct, (int)pt_len) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(cctx, pt_len ? pt + outl : tag, &fin) != 1) {
		ret = AS_E_MSG_DECRYPT;
		goto out;
	}
	if ((size_t)outl + (size_t)fin != pt_len)
		goto out;
	c->seq++;
	ret = AS_OK;
out:
	if (ret != AS_OK) {
		ERR_clear_error();
		/* Nothing unauthenticated may leak to the caller. */
		if (pt_len && pt)
			OPENSSL_cleanse(pt, pt_len);
	}
	EVP_CIPHER_CTX_free(cctx);
	return ret;
}

/* Export(exporter_context, L) = LabeledExpand(exporter_secret, "sec", ctx, L) */
int as_hpke_export(const struct as_hpke_ctx *c, const uint8_t *ctx, size_t ctx_len,
		   uint8_t *out, size_t out_len)
{
	struct hpke_suite s;

	if (!c || c->kdf != AS_HPKE_KDF_SHA256 || !out || (ctx_len && !ctx))
		return AS_E_INVAL;
	suite_hpke(&s, c->kem, c->kdf, c->aead);
	return labeled_expand(&s, c->exporter_secret, "sec", ctx, ctx_len, out, out_len);
}

void as_hpke_clear(struct as_hpke_ctx *c)
{
	if (c)
		OPENSSL_cleanse(c, sizeof(*c));
}
