/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ephemeral Diffie-Hellman for the forward-secret rekey: X25519 (RFC 7748,
 * IKEv2 group 31, RFC 8031) and the RFC 3526 MODP groups (IKEv2 groups 5
 * and 14-18).  The private value is drawn from a struct as_rng, so a fixed
 * seed reproduces the protocol vectors byte for byte.
 *
 * Shares use the IKEv2 Key Exchange payload encoding (RFC 7296 3.4): the
 * 32-byte u-coordinate for X25519, and for MODP g^x mod p big-endian,
 * zero-padded on the left to the length of the prime.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "autosec/alg.h"
#include "autosec/crypto.h"
#include "autosec/err.h"
#include "autosec/rng.h"

struct modp_group {
	uint16_t id;
	uint16_t prime_len;  /* bytes */
	uint16_t x_bits;     /* private exponent length */
	const char *name;    /* OpenSSL's named group for keytype "DH" */
};

/*
 * Exponent lengths are at least twice the group's security strength
 * (RFC 3526 section 8 and NIST SP 800-57: 1536 ~ 90 bits, 2048 ~ 112,
 * 3072 ~ 128, 4096 ~ 150, 6144 ~ 175, 8192 ~ 200).  x is far below
 * q = (p-1)/2, so no reduction is needed.
 */
static const struct modp_group modp_groups[] = {
	{ AS_DH_MODP1536, 192, 256, "modp_1536" },
	{ AS_DH_MODP2048, 256, 256, "modp_2048" },
	{ AS_DH_MODP3072, 384, 256, "modp_3072" },
	{ AS_DH_MODP4096, 512, 320, "modp_4096" },
	{ AS_DH_MODP6144, 768, 384, "modp_6144" },
	{ AS_DH_MODP8192, 1024, 512, "modp_8192" },
};

static const struct modp_group *modp_find(uint16_t group)
{
	for (size_t i = 0; i < sizeof(modp_groups) / sizeof(modp_groups[0]); i++)
		if (modp_groups[i].id == group)
			return &modp_groups[i];
	return NULL;
}

size_t as_dh_share_len(uint16_t group)
{
	const struct modp_group *g;

	if (group == AS_DH_CURVE25519)
		return 32;
	g = modp_find(group);
	return g ? g->prime_len : 0;
}

/*
 * An EVP_PKEY of keytype "DH" in a named group: parameters only (priv and
 * pub NULL), the public key only, or the full pair.
 */
static EVP_PKEY *modp_pkey(const struct modp_group *g, const BIGNUM *priv, const BIGNUM *pub)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int selection = EVP_PKEY_KEY_PARAMETERS;

	if (!bld ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g->name, 0))
		goto out;
	if (pub) {
		if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, pub))
			goto out;
		selection = EVP_PKEY_PUBLIC_KEY;
	}
	if (priv) {
		if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv))
			goto out;
		selection = EVP_PKEY_KEYPAIR;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	/* x went in from a BN_secure_new, so its copy is in the secure
	 * part, which OSSL_PARAM_free clears. */
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static int keygen_x25519(struct as_dh *dh, const struct as_rng *rng)
{
	uint8_t priv[32];
	int ret;

	/* RFC 7748 section 6.1: 32 random bytes; X25519 clamps them itself. */
	ret = as_rng_bytes(rng, priv, sizeof(priv));
	if (ret != AS_OK)
		goto out;
	dh->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, sizeof(priv));
	ret = dh->pkey ? AS_OK : AS_E_CRYPTO;
out:
	OPENSSL_cleanse(priv, sizeof(priv));
	return ret;
}

static int keygen_modp(struct as_dh *dh, const struct modp_group *g, const struct as_rng *rng)
{
	uint8_t xbytes[64];
	size_t xlen = g->x_bits / 8;
	EVP_PKEY *params = NULL;
	BIGNUM *p = NULL, *gen = NULL, *x = NULL, *y = NULL;
	BN_CTX *bnctx = NULL;
	int ret = AS_E_CRYPTO;

	params = modp_pkey(g, NULL, NULL);
	if (!params ||
	    EVP_PKEY_get_bn_param(params, OSSL_PKEY_PARAM_FFC_P, &p) != 1 ||
	    EVP_PKEY_get_bn_param(params, OSSL_PKEY_PARAM_FFC_G, &gen) != 1 ||
	    (size_t)BN_num_bytes(p) != g->prime_len)
		goto out;
	bnctx = BN_CTX_secure_new();
	x = BN_secure_new();
	y = BN_new();
	if (!bnctx || !x || !y)
		goto out;
	/* x in [2, 2^x_bits); redraw the (2^-250 likely) 0 or 1. */
	do {
		ret = as_rng_bytes(rng, xbytes, xlen);
		if (ret != AS_OK)
			goto out;
		ret = AS_E_CRYPTO;
		if (!BN_bin2bn(xbytes, (int)xlen, x))
			goto out;
	} while (BN_is_zero(x) || BN_is_one(x));
	/* OpenSSL 3.0's DH import does not derive pub from priv. */
	BN_set_flags(x, BN_FLG_CONSTTIME);
	if (!BN_mod_exp_mont_consttime(y, gen, x, p, bnctx, NULL))
		goto out;
	dh->pkey = modp_pkey(g, x, y);
	if (!dh->pkey)
		goto out;
	ret = AS_OK;
out:
	if (ret != AS_OK)
		ERR_clear_error();
	OPENSSL_cleanse(xbytes, sizeof(xbytes));
	BN_clear_free(x);
	BN_free(y);
	BN_free(p);
	BN_free(gen);
	BN_CTX_free(bnctx);
	EVP_PKEY_free(params);
	return ret;
}

int as_dh_keygen(struct as_dh *dh, uint16_t group, const struct as_rng *rng)
{
	const struct modp_group *g;

	if (!dh)
		return AS_E_INVAL;
	dh->group = group;
	dh->pkey = NULL;
	if (group == AS_DH_CURVE25519)
		return keygen_x25519(dh, rng);
	g = modp_find(group);
	if (!g)
		return AS_E_ALG_UNKNOWN;
	return keygen_modp(dh, g, rng);
}

int as_dh_share(const struct as_dh *dh, uint8_t *out, size_t cap, size_t *len)
{
	const struct modp_group *g;
	BIGNUM *y = NULL;
	size_t n;
	int ret = AS_E_CRYPTO;

	if (len)
		*len = 0;
	if (!dh || !dh->pkey || !out || !len)
		return AS_E_INVAL;
	n = as_dh_share_len(dh->group);
	if (n == 0)
		return AS_E_ALG_UNKNOWN;
	if (cap < n)
		return AS_E_NOSPACE;
	if (dh->group == AS_DH_CURVE25519) {
		size_t l = n;

		if (EVP_PKEY_get_raw_public_key(dh->pkey, out, &l) == 1 && l == n)
			ret = AS_OK;
	} else {
		g = modp_find(dh->group);
		if (g && EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, &y) == 1 &&
		    BN_bn2binpad(y, out, (int)n) == (int)n)
			ret = AS_OK;
	}
	if (ret == AS_OK)
		*len = n;
	else
		ERR_clear_error();
	BN_free(y);
	return ret;
}

/* Runs the derivation of our key with peer into out (exactly n bytes). */
static int derive(EVP_PKEY *ours, EVP_PKEY *peer, int pad, uint8_t *out, size_t n)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(ours, NULL);
	size_t l = n;
	int ret = AS_E_CRYPTO;

	if (!ctx || EVP_PKEY_derive_init(ctx) != 1)
		goto out;
	/* Without padding OpenSSL strips leading zero octets of g^xy; IKEv2
	 * (RFC 7296 2.14) uses the full prime length. */
	if (pad && EVP_PKEY_CTX_set_dh_pad(ctx, 1) != 1)
		goto out;
	if (EVP_PKEY_derive_set_peer(ctx, peer) != 1) {
		ret = AS_E_INVAL;
		goto out;
	}
	if (EVP_PKEY_derive(ctx, out, &l) != 1) {
		ret = AS_E_INVAL;
		goto out;
	}
	if (l > n)
		goto out;
	if (l < n) {
		memmove(out + (n - l), out, l);
		memset(out, 0, n - l);
	}
	ret = AS_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

static int derive_x25519(const struct as_dh *dh, const uint8_t *peer, uint8_t *out)
{
	uint8_t priv[32];
	size_t l = sizeof(priv);
	int ret;

	if (EVP_PKEY_get_raw_private_key(dh->pkey, priv, &l) != 1 || l != sizeof(priv))
		return AS_E_CRYPTO;
	/* as_x25519 rejects the all-zero result of a small-order point
	 * (RFC 7748 6.1, RFC 8031 2.3). */
	ret = as_x25519(out, priv, peer);
	OPENSSL_cleanse(priv, sizeof(priv));
	return ret;
}

static int derive_modp(const struct as_dh *dh, const struct modp_group *g,
		       const uint8_t *peer, uint8_t *out)
{
	BIGNUM *p = NULL, *pm1 = NULL, *y = NULL;
	EVP_PKEY *peerkey = NULL;
	int ret = AS_E_CRYPTO;

	if (EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_FFC_P, &p) != 1 ||
	    (size_t)BN_num_bytes(p) != g->prime_len)
		goto out;
	pm1 = BN_dup(p);
	y = BN_bin2bn(peer, (int)g->prime_len, NULL);
	if (!pm1 || !y || !BN_sub_word(pm1, 1))
		goto out;
	/* RFC 2631 2.1.5 / SP 800-56A 5.6.2.3.1: 1 < y < p-1, so 0, 1 and
	 * p-1 (order 1 and 2) and anything not reduced mod p are refused. */
	if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, pm1) >= 0) {
		ret = AS_E_INVAL;
		goto out;
	}
	peerkey = modp_pkey(g, NULL, y);
	if (!peerkey) {
		ret = AS_E_INVAL;
		goto out;
	}
	ret = derive(dh->pkey, peerkey, 1, out, g->prime_len);
out:
	if (ret != AS_OK)
		ERR_clear_error();
	EVP_PKEY_free(peerkey);
	BN_free(p);
	BN_free(pm1);
	BN_free(y);
	return ret;
}

int as_dh_derive(const struct as_dh *dh, const uint8_t *peer, size_t peer_len,
		 uint8_t *out, size_t cap, size_t *len)
{
	const struct modp_group *g = NULL;
	size_t n;
	int ret;

	if (len)
		*len = 0;
	if (!dh || !dh->pkey || !out || !len || (peer_len && !peer))
		return AS_E_INVAL;
	n = as_dh_share_len(dh->group);
	if (n == 0)
		return AS_E_ALG_UNKNOWN;
	/* The KE payload has exactly the share length (RFC 7296 3.4). */
	if (peer_len != n)
		return AS_E_INVAL;
	if (cap < n)
		return AS_E_NOSPACE;
	if (dh->group == AS_DH_CURVE25519) {
		ret = derive_x25519(dh, peer, out);
	} else {
		g = modp_find(dh->group);
		ret = g ? derive_modp(dh, g, peer, out) : AS_E_ALG_UNKNOWN;
	}
	if (ret != AS_OK) {
		OPENSSL_cleanse(out, n);
		return ret;
	}
	*len = n;
	return AS_OK;
}

void as_dh_free(struct as_dh *dh)
{
	if (!dh)
		return;
	EVP_PKEY_free(dh->pkey);
	dh->pkey = NULL;
	dh->group = 0;
}
