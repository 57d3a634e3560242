/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Primitives over OpenSSL 3.0: constant-time helpers, HKDF (RFC 5869) and
 * HMAC through the provider API, X25519 (RFC 7748) through raw EVP_PKEYs,
 * and RSAES-OAEP (RFC 8017 section 7.1) with SHA-256 and MGF1-SHA-256.
 *
 * OAEP encryption does the EME-OAEP encoding here because the seed has to
 * come from a struct as_rng (the protocol vectors are reproducible from a
 * fixed seed); decryption is OpenSSL's, whose decoding is constant time.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "autosec/crypto.h"
#include "autosec/err.h"
#include "autosec/rng.h"

/* OpenSSL treats a NULL key as "keep the previous one"; an empty key must
 * be a real pointer with length 0. */
static const uint8_t as_empty[1];

int as_ct_memcmp(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return 0;
	return CRYPTO_memcmp(a, b, n) != 0;
}

void as_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

static const EVP_MD *md_or_sha256(const EVP_MD *md)
{
	return md ? md : EVP_sha256();
}

/*
 * One HKDF call in EXTRACT_ONLY or EXPAND_ONLY mode.  "key" is the IKM for
 * extract and the PRK for expand; "salt" is only used by extract and
 * "info" only by expand.
 */
static int hkdf_run(const EVP_MD *md, int mode, const uint8_t *key, size_t key_len,
		    const uint8_t *salt, size_t salt_len, const uint8_t *info,
		    size_t info_len, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[6], *p = params;
	char mdname[64];
	int ret = AS_E_CRYPTO;

	if (snprintf(mdname, sizeof(mdname), "%s", EVP_MD_get0_name(md)) >= (int)sizeof(mdname))
		return AS_E_INVAL;
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		goto out;
	kctx = EVP_KDF_CTX_new(kdf);
	if (!kctx)
		goto out;
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, mdname, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)(key_len ? key : as_empty), key_len);
	/* RFC 5869 2.2: an absent salt is HashLen zeros, which HMAC treats
	 * exactly like an empty key, so an empty salt is simply left out. */
	if (salt_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							 (void *)salt, salt_len);
	if (info_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
							 (void *)info, info_len);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, out_len, params) != 1)
		goto out;
	ret = AS_OK;
out:
	if (ret != AS_OK)
		ERR_clear_error();
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ret;
}

int as_hkdf_extract(const EVP_MD *md, const uint8_t *salt, size_t salt_len,
		    const uint8_t *ikm, size_t ikm_len, uint8_t *prk, size_t *prk_len)
{
	int hlen, ret;

	md = md_or_sha256(md);
	hlen = EVP_MD_get_size(md);
	if (hlen <= 0 || !prk || !prk_len || (ikm_len && !ikm) || (salt_len && !salt))
		return AS_E_INVAL;
	ret = hkdf_run(md, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm, ikm_len, salt, salt_len,
		       NULL, 0, prk, (size_t)hlen);
	*prk_len = ret == AS_OK ? (size_t)hlen : 0;
	return ret;
}

int as_hkdf_expand(const EVP_MD *md, const uint8_t *prk, size_t prk_len,
		   const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	int hlen;

	md = md_or_sha256(md);
	hlen = EVP_MD_get_size(md);
	/* RFC 5869 2.3: L <= 255*HashLen; PRK is at least HashLen octets. */
	if (hlen <= 0 || !prk || prk_len < (size_t)hlen || (info_len && !info) ||
	    !out || out_len == 0 || out_len > 255 * (size_t)hlen)
		return AS_E_INVAL;
	return hkdf_run(md, EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, prk_len, NULL, 0,
			info, info_len, out, out_len);
}

int as_hmac(const EVP_MD *md, const uint8_t *key, size_t key_len,
	    const uint8_t *data, size_t data_len, uint8_t *out)
{
	size_t outlen = 0;
	int hlen;

	md = md_or_sha256(md);
	hlen = EVP_MD_get_size(md);
	if (hlen <= 0 || !out || (key_len && !key) || (data_len && !data))
		return AS_E_INVAL;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, EVP_MD_get0_name(md), NULL,
		       key_len ? key : as_empty, key_len,
		       data_len ? data : as_empty, data_len, out, (size_t)hlen, &outlen) ||
	    outlen != (size_t)hlen) {
		ERR_clear_error();
		return AS_E_CRYPTO;
	}
	return AS_OK;
}

/* ---- X25519 ---- */

int as_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32])
{
	static const uint8_t zero[32];
	EVP_PKEY *priv = NULL, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = 32;
	int ret = AS_E_CRYPTO;

	if (!out || !scalar || !point)
		return AS_E_INVAL;
	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, 32);
	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, point, 32);
	if (!priv || !peer)
		goto out;
	ctx = EVP_PKEY_CTX_new(priv, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1)
		goto out;
	/*
	 * OpenSSL refuses to return the all-zero output of a small-order
	 * point (RFC 7748 section 6.1); with valid keys that is the only way
	 * the derivation itself fails, so it is reported as a bad input.
	 */
	if (EVP_PKEY_derive(ctx, out, &len) != 1) {
		ret = AS_E_INVAL;
		goto out;
	}
	if (len != 32)
		goto out;
	if (CRYPTO_memcmp(out, zero, 32) == 0) {
		ret = AS_E_INVAL;
		goto out;
	}
	ret = AS_OK;
out:
	if (ret != AS_OK) {
		OPENSSL_cleanse(out, 32);
		ERR_clear_error();
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(peer);
	return ret;
}

int as_x25519_public(uint8_t pub[32], const uint8_t priv[32])
{
	EVP_PKEY *k;
	size_t len = 32;
	int ret = AS_OK;

	if (!pub || !priv)
		return AS_E_INVAL;
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	if (!k || EVP_PKEY_get_raw_public_key(k, pub, &len) != 1 || len != 32) {
		ERR_clear_error();
		ret = AS_E_CRYPTO;
	}
	EVP_PKEY_free(k);
	return ret;
}

/* ---- RSAES-OAEP (RFC 8017 section 7.1) ---- */

/* MGF1 (RFC 8017 B.2.1): mask = Hash(seed || C0) || Hash(seed || C1) || ...,
 * XORed straight into buf. */
static int mgf1_xor(const EVP_MD *md, uint8_t *buf, size_t len,
		    const uint8_t *seed, size_t seed_len)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	uint32_t counter = 0;
	size_t done = 0;
	int ret = AS_E_CRYPTO;

	if (!mctx)
		return AS_E_NOMEM;
	while (done < len) {
		uint8_t c[4] = {
			(uint8_t)(counter >> 24), (uint8_t)(counter >> 16),
			(uint8_t)(counter >> 8), (uint8_t)counter,
		};
		size_t take;

		if (EVP_DigestInit_ex(mctx, md, NULL) != 1 ||
		    EVP_DigestUpdate(mctx, seed, seed_len) != 1 ||
		    EVP_DigestUpdate(mctx, c, sizeof(c)) != 1 ||
		    EVP_DigestFinal_ex(mctx, h, &hlen) != 1 || hlen == 0)
			goto out;
		take = len - done < hlen ? len - done : hlen;
		for (size_t i = 0; i < take; i++)
			buf[done + i] ^= h[i];
		done += take;
		counter++;
	}
	ret = AS_OK;
out:
	OPENSSL_cleanse(h, sizeof(h));
	EVP_MD_CTX_free(mctx);
	return ret;
}

/*
 * EME-OAEP encoding, RFC 8017 7.1.1 step 2, into em (k octets):
 *
 *                    +----------+------+--+-------+
 *               DB = |  lHash   |  PS  |01|   M   |
 *                    +----------+------+--+-------+
 *                                   |
 *         +----------+              |
 *         |   seed   |              |
 *         +----------+              |
 *               |                   |
 *               |------> MGF ---> xor
 *               |                   |
 *      +--+     V                   |
 *      |00|    xor <----- MGF <-----|
 *      +--+     |                   |
 *        |      |                   |
 *        V      V                   V
 *      +--+----------+----------------------------+
 * EM = |00|maskedSeed|          maskedDB          |
 *      +--+----------+----------------------------+
 */
static int oaep_encode(const EVP_MD *md, const uint8_t *seed,
		       const uint8_t *label, size_t label_len,
		       const uint8_t *msg, size_t msg_len, uint8_t *em, size_t k)
{
	size_t hlen = (size_t)EVP_MD_get_size(md);
	uint8_t *mseed = em + 1, *db = em + 1 + hlen;
	size_t db_len, ps_len;
	unsigned int lhlen = 0;
	int ret;

	/* Step 1b: mLen <= k - 2hLen - 2. */
	if (k < 2 * hlen + 2 || msg_len > k - 2 * hlen - 2)
		return AS_E_INVAL;
	db_len = k - hlen - 1;
	ps_len = k - msg_len - 2 * hlen - 2;

	em[0] = 0x00;
	if (EVP_Digest(label_len ? label : as_empty, label_len, db, &lhlen, md, NULL) != 1 ||
	    lhlen != hlen)
		return AS_E_CRYPTO;
	memset(db + hlen, 0, ps_len);
	db[hlen + ps_len] = 0x01;
	if (msg_len)
		memcpy(db + hlen + ps_len + 1, msg, msg_len);
	memcpy(mseed, seed, hlen);
	ret = mgf1_xor(md, db, db_len, mseed, hlen);          /* maskedDB */
	if (ret == AS_OK)
		ret = mgf1_xor(md, mseed, hlen, db, db_len);  /* maskedSeed */
	return ret;
}

/* RSAES-OAEP-ENCRYPT with any digest for both OAEP and MGF1; the public API
 * fixes SHA-256, the tests also run the SHA-1 vectors of PKCS #1 v2.1. */
static int rsa_oaep_encrypt_md(EVP_PKEY *pub, const EVP_MD *md, const struct as_rng *rng,
			       const uint8_t *label, size_t label_len,
			       const uint8_t *msg, size_t msg_len,
			       uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t seed[EVP_MAX_MD_SIZE];
	uint8_t *em = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t k, hlen, olen;
	int ret;

	if (out_len)
		*out_len = 0;
	if (!pub || !md || !out || !out_len || (label_len && !label) || (msg_len && !msg) ||
	    !EVP_PKEY_is_a(pub, "RSA") || EVP_PKEY_get_size(pub) <= 0 ||
	    EVP_MD_get_size(md) <= 0)
		return AS_E_INVAL;
	k = (size_t)EVP_PKEY_get_size(pub);
	hlen = (size_t)EVP_MD_get_size(md);
	if (k < 2 * hlen + 2 || msg_len > k - 2 * hlen - 2)
		return AS_E_INVAL;
	if (cap < k)
		return AS_E_NOSPACE;
	em = OPENSSL_malloc(k);
	if (!em)
		return AS_E_NOMEM;
	ret = as_rng_bytes(rng, seed, hlen);
	if (ret != AS_OK)
		goto out;
	ret = oaep_encode(md, seed, label, label_len, msg, msg_len, em, k);
	if (ret != AS_OK)
		goto out;
	/* RSAEP: the leading 0x00 keeps EM below the modulus. */
	ret = AS_E_CRYPTO;
	olen = cap;
	ctx = EVP_PKEY_CTX_new(pub, NULL);
	if (!ctx || EVP_PKEY_encrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) != 1 ||
	    EVP_PKEY_encrypt(ctx, out, &olen, em, k) != 1 || olen != k)
		goto out;
	*out_len = k;
	ret = AS_OK;
out:
	if (ret != AS_OK)
		ERR_clear_error();
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_clear_free(em, k);
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

int as_rsa_oaep_encrypt(EVP_PKEY *pub, const struct as_rng *rng,
			const uint8_t *label, size_t label_len,
			const uint8_t *msg, size_t msg_len,
			uint8_t *out, size_t cap, size_t *out_len)
{
	return rsa_oaep_encrypt_md(pub, EVP_sha256(), rng, label, label_len,
				   msg, msg_len, out, cap, out_len);
}

int as_rsa_oaep_decrypt(EVP_PKEY *priv, const uint8_t *label, size_t label_len,
			const uint8_t *ct, size_t ct_len,
			uint8_t *out, size_t cap, size_t *out_len)
{
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *buf = NULL, *lab = NULL;
	size_t k = 0, mlen;
	int ret = AS_E_MSG_DECRYPT;

	if (out_len)
		*out_len = 0;
	if (!priv || !out_len || (label_len && !label) || (ct_len && !ct) ||
	    !EVP_PKEY_is_a(priv, "RSA") || EVP_PKEY_get_size(priv) <= 0 || label_len > INT_MAX)
		return AS_E_INVAL;
	k = (size_t)EVP_PKEY_get_size(priv);
	/* RFC 8017 7.1.2 step 1b: the ciphertext is exactly k octets.  Every
	 * failure from here on is the same AS_E_MSG_DECRYPT, so a caller
	 * cannot become a padding oracle (Manger, CRYPTO 2001). */
	if (ct_len != k)
		return AS_E_MSG_DECRYPT;
	buf = OPENSSL_malloc(k);
	if (!buf)
		return AS_E_NOMEM;
	ctx = EVP_PKEY_CTX_new(priv, NULL);
	if (!ctx || EVP_PKEY_decrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1) {
		ret = AS_E_CRYPTO;
		goto out;
	}
	if (label_len) {
		lab = OPENSSL_memdup(label, label_len);
		if (!lab) {
			ret = AS_E_NOMEM;
			goto out;
		}
		if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, lab, (int)label_len) != 1) {
			ret = AS_E_CRYPTO;
			goto out;
		}
		lab = NULL; /* owned by ctx now */
	}
	mlen = k;
	if (EVP_PKEY_decrypt(ctx, buf, &mlen, ct, ct_len) != 1 || mlen > k)
		goto out;
	if (mlen > cap || (mlen && !out)) {
		ret = AS_E_NOSPACE;
		goto out;
	}
	if (mlen)
		memcpy(out, buf, mlen);
	*out_len = mlen;
	ret = AS_OK;
out:
	if (ret != AS_OK)
		ERR_clear_error();
	OPENSSL_free(lab);
	OPENSSL_clear_free(buf, k);
	EVP_PKEY_CTX_free(ctx);
	return ret;
}
