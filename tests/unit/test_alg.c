/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The algorithm registry and policy.  Expected IDs are the IANA "IKEv2
 * Parameters" registry values (Transform Types 1, 3 and 4), written here as
 * numbers rather than taken from alg.h, so a wrong enum would show.
 */
#include <check.h>
#include <string.h>

#include <openssl/evp.h>

#include "autosec/alg.h"
#include "autosec/err.h"
#include "testutil.h"

struct iana {
	int type;
	const char *name;
	unsigned id;
	unsigned key_bits;
	int status;
};

/* IANA IKEv2 registry; status per RFC 8221 / RFC 8247 as PROTOCOL.md 2.2.3
 * (Tables 1 to 3) decides */
static const struct iana iana[] = {
	{ 1, "ENCR_DES_IV64", 1, 0, AS_ALG_REFUSED },
	{ 1, "ENCR_DES", 2, 0, AS_ALG_REFUSED },
	{ 1, "ENCR_3DES", 3, 0, AS_ALG_REFUSED },
	{ 1, "ENCR_RC5", 4, 0, AS_ALG_REFUSED },
	{ 1, "ENCR_IDEA", 5, 0, AS_ALG_REFUSED },
	{ 1, "ENCR_CAST", 6, 0, AS_ALG_REFUSED },
	{ 1, "ENCR_BLOWFISH", 7, 0, AS_ALG_REFUSED },
	{ 1, "ENCR_3IDEA", 8, 0, AS_ALG_REFUSED },
	{ 1, "ENCR_DES_IV32", 9, 0, AS_ALG_REFUSED },
	{ 1, "ENCR_NULL", 11, 0, AS_ALG_REFUSED },
	{ 1, "ENCR_AES_CBC-128", 12, 128, AS_ALG_OK },
	{ 1, "ENCR_AES_CBC-192", 12, 192, AS_ALG_OK },
	{ 1, "ENCR_AES_CBC-256", 12, 256, AS_ALG_OK },
	{ 1, "ENCR_AES_CTR-128", 13, 128, AS_ALG_OK },
	{ 1, "ENCR_AES_CTR-192", 13, 192, AS_ALG_OK },
	{ 1, "ENCR_AES_CTR-256", 13, 256, AS_ALG_OK },
	{ 1, "ENCR_AES_GCM_16-128", 20, 128, AS_ALG_OK },
	{ 1, "ENCR_AES_GCM_16-256", 20, 256, AS_ALG_OK },
	{ 1, "ENCR_CHACHA20_POLY1305", 28, 0, AS_ALG_OK },
	{ 3, "NONE", 0, 0, AS_ALG_OK },
	{ 3, "AUTH_HMAC_MD5_96", 1, 0, AS_ALG_REFUSED },
	{ 3, "AUTH_HMAC_SHA1_96", 2, 0, AS_ALG_REFUSED },
	{ 3, "AUTH_DES_MAC", 3, 0, AS_ALG_REFUSED },
	{ 3, "AUTH_KPDK_MD5", 4, 0, AS_ALG_REFUSED },
	{ 3, "AUTH_AES_XCBC_96", 5, 0, AS_ALG_UNSUPPORTED },
	{ 3, "AUTH_HMAC_SHA2_256_128", 12, 0, AS_ALG_OK },
	{ 3, "AUTH_HMAC_SHA2_384_192", 13, 0, AS_ALG_OK },
	{ 3, "AUTH_HMAC_SHA2_512_256", 14, 0, AS_ALG_OK },
	{ 4, "MODP1536", 5, 0, AS_ALG_REFUSED },
	{ 4, "MODP2048", 14, 0, AS_ALG_OK },
	{ 4, "MODP3072", 15, 0, AS_ALG_OK },
	{ 4, "MODP4096", 16, 0, AS_ALG_OK },
	{ 4, "MODP6144", 17, 0, AS_ALG_OK },
	{ 4, "MODP8192", 18, 0, AS_ALG_OK },
	{ 4, "CURVE25519", 31, 0, AS_ALG_OK },
};

static const struct as_alg *byname(int type, const char *s)
{
	return as_alg_by_name(type, s, strlen(s));
}

START_TEST(test_iana_ids)
{
	for (size_t i = 0; i < sizeof(iana) / sizeof(iana[0]); i++) {
		const struct as_alg *a = byname(iana[i].type, iana[i].name);

		ck_assert_msg(a != NULL, "%s not found", iana[i].name);
		ck_assert_int_eq(a->type, iana[i].type);
		ck_assert_msg(a->id == iana[i].id, "%s: id %u, IANA says %u", iana[i].name, a->id,
			      iana[i].id);
		ck_assert_uint_eq(a->key_bits, iana[i].key_bits);
		ck_assert_str_eq(a->name, iana[i].name);
		ck_assert_msg(a->status == iana[i].status, "%s: status %d", a->name, a->status);
		ck_assert_ptr_eq(as_alg_find(iana[i].type, (uint16_t)iana[i].id,
					     (uint16_t)iana[i].key_bits),
				 a);
		if (a->status != AS_ALG_OK) {
			ck_assert_ptr_nonnull(a->why);
			ck_assert_msg(strstr(a->why, "RFC 8221") || strstr(a->why, "RFC 8247") ||
					      a->status == AS_ALG_UNSUPPORTED,
				      "%s: why \"%s\" cites no RFC", a->name, a->why);
		} else {
			ck_assert_ptr_null(a->why);
		}
	}
	ck_assert_ptr_nonnull(strstr(byname(AS_XF_DH, "MODP1536")->why, "below 2048 bits"));
	ck_assert_ptr_nonnull(strstr(byname(AS_XF_ENCR, "ENCR_3DES")->why, "SHOULD NOT"));
}
END_TEST

START_TEST(test_every_entry_round_trips)
{
	size_t i;
	const struct as_alg *a;

	for (i = 0; (a = as_alg_at(i)); i++) {
		ck_assert_ptr_eq(byname(a->type, a->name), a);
		ck_assert_ptr_eq(byname(0, a->name), a);
		ck_assert_ptr_eq(as_alg_find(a->type, a->id, a->key_bits), a);
		ck_assert(a->type == AS_XF_ENCR || a->type == AS_XF_INTEG || a->type == AS_XF_DH);
		if (a->type == AS_XF_ENCR && a->key_bits)
			ck_assert_uint_eq(a->key_bits, 8u * a->key_len);
	}
	ck_assert_uint_gt(i, 30);
	ck_assert_ptr_null(as_alg_at(i));
	ck_assert_ptr_null(as_alg_at((size_t)-1));
	ck_assert_ptr_null(as_alg_find(AS_XF_ENCR, 12, 512));
	ck_assert_ptr_null(as_alg_find(AS_XF_ENCR, 20, 0));
	ck_assert_ptr_null(as_alg_find(AS_XF_DH, 12, 0));
	ck_assert_str_eq(as_alg_type_name(AS_XF_ENCR), "encryption");
	ck_assert_str_eq(as_alg_type_name(AS_XF_INTEG), "integrity");
	ck_assert_str_eq(as_alg_type_name(AS_XF_DH), "DH group");
	ck_assert_str_eq(as_alg_type_name(99), "unknown");
}
END_TEST

START_TEST(test_suffix_rules)
{
	const struct as_alg *cc = byname(AS_XF_ENCR, "ENCR_CHACHA20_POLY1305");
	const struct as_alg *tdes = byname(AS_XF_ENCR, "ENCR_3DES");

	/* AES: the suffix is required and must be a valid AES size */
	ck_assert_ptr_null(byname(AS_XF_ENCR, "ENCR_AES_CBC"));
	ck_assert_ptr_null(byname(AS_XF_ENCR, "ENCR_AES_CBC-"));
	ck_assert_ptr_null(byname(AS_XF_ENCR, "ENCR_AES_CBC-512"));
	ck_assert_ptr_null(byname(AS_XF_ENCR, "ENCR_AES_CBC-2560"));
	ck_assert_ptr_null(byname(AS_XF_ENCR, "ENCR_AES_CBC-25"));
	ck_assert_ptr_null(byname(AS_XF_ENCR, "ENCR_AES_CBC-256-256"));
	ck_assert_ptr_null(byname(AS_XF_ENCR, "ENCR_AES_CBC--256"));
	ck_assert_ptr_null(byname(AS_XF_ENCR, "ENCR_AES_CBC_256"));
	ck_assert_uint_eq(byname(AS_XF_ENCR, "ENCR_AES_CBC-192")->key_len, 24);
	/* AES-GCM-16 only in the sizes Table 1 lists (RFC 8221: 128 and 256) */
	ck_assert_ptr_null(byname(AS_XF_ENCR, "ENCR_AES_GCM_16-192"));
	ck_assert_ptr_null(as_alg_find(AS_XF_ENCR, 20, 192));
	/* ChaCha20-Poly1305 has one size: suffix optional, only -256 */
	ck_assert_ptr_nonnull(cc);
	ck_assert_ptr_eq(byname(AS_XF_ENCR, "ENCR_CHACHA20_POLY1305-256"), cc);
	ck_assert_ptr_null(byname(AS_XF_ENCR, "ENCR_CHACHA20_POLY1305-128"));
	/* 3DES: the draft's own example writes ENCR_3DES-128 */
	ck_assert_ptr_nonnull(tdes);
	ck_assert_ptr_eq(byname(AS_XF_ENCR, "ENCR_3DES-128"), tdes);
	ck_assert_ptr_eq(byname(AS_XF_ENCR, "ENCR_3DES-192"), tdes);
	ck_assert_ptr_null(byname(AS_XF_ENCR, "ENCR_3DES-64"));
	/* every legacy cipher, with or without a suffix: one entry each */
	ck_assert_ptr_eq(byname(AS_XF_ENCR, "ENCR_BLOWFISH-128"),
			 byname(AS_XF_ENCR, "ENCR_BLOWFISH-256"));
	ck_assert_ptr_eq(byname(AS_XF_ENCR, "ENCR_RC5"), byname(AS_XF_ENCR, "ENCR_RC5-192"));
	ck_assert_ptr_eq(byname(AS_XF_ENCR, "ENCR_CAST-128"), as_alg_find(AS_XF_ENCR, 6, 0));
	ck_assert_ptr_eq(byname(AS_XF_ENCR, "ENCR_NULL-256"), as_alg_find(AS_XF_ENCR, 11, 0));
	ck_assert_ptr_eq(byname(AS_XF_ENCR, "ENCR_DES_IV32-128"), as_alg_find(AS_XF_ENCR, 9, 0));
	/* integrity and DH names take no suffix */
	ck_assert_ptr_null(byname(AS_XF_INTEG, "AUTH_HMAC_SHA2_256_128-128"));
	ck_assert_ptr_null(byname(AS_XF_DH, "MODP2048-256"));
	/* type matters; 0 means any */
	ck_assert_ptr_null(byname(AS_XF_INTEG, "ENCR_AES_GCM_16-256"));
	ck_assert_ptr_null(byname(AS_XF_ENCR, "MODP2048"));
	ck_assert_ptr_eq(byname(0, "MODP2048"), byname(AS_XF_DH, "MODP2048"));
	/* odd inputs */
	ck_assert_ptr_null(as_alg_by_name(AS_XF_ENCR, NULL, 0));
	ck_assert_ptr_null(as_alg_by_name(AS_XF_ENCR, "", 0));
	ck_assert_ptr_null(as_alg_by_name(AS_XF_DH, "MODP2048\0", 9));
	ck_assert_ptr_eq(as_alg_by_name(AS_XF_DH, "MODP2048xyz", 8), byname(AS_XF_DH, "MODP2048"));
	ck_assert_ptr_null(byname(AS_XF_ENCR, "-256"));
	ck_assert_ptr_null(byname(AS_XF_ENCR, "-"));
}
END_TEST

START_TEST(test_case_and_alias)
{
	const struct as_alg *x = byname(AS_XF_DH, "CURVE25519");

	ck_assert_ptr_eq(byname(AS_XF_ENCR, "encr_aes_gcm_16-256"),
			 byname(AS_XF_ENCR, "ENCR_AES_GCM_16-256"));
	ck_assert_ptr_eq(byname(AS_XF_INTEG, "auth_hmac_sha2_512_256"),
			 byname(AS_XF_INTEG, "AUTH_HMAC_SHA2_512_256"));
	ck_assert_ptr_eq(byname(AS_XF_INTEG, "none"), as_alg_find(AS_XF_INTEG, 0, 0));
	ck_assert_ptr_eq(byname(AS_XF_DH, "Curve25519"), x);
	ck_assert_ptr_eq(byname(AS_XF_DH, "X25519"), x);
	ck_assert_ptr_eq(byname(AS_XF_DH, "x25519"), x);
	ck_assert_ptr_eq(byname(0, "X25519"), x);
	ck_assert_ptr_null(byname(AS_XF_ENCR, "X25519"));
	ck_assert_str_eq(x->name, "CURVE25519");
	/* no locale games: non-ASCII never folds */
	ck_assert_ptr_null(byname(AS_XF_DH, "MODP2048\xc3\xa9"));
}
END_TEST

/* The exact parameters ESP relies on (RFC 4106, RFC 7634, RFC 3602, RFC 3686,
 * RFC 4868 and RFC 3526/8031 share sizes). */
START_TEST(test_crypto_fields)
{
	const struct as_alg *a;

	a = byname(AS_XF_ENCR, "ENCR_AES_GCM_16-256");
	ck_assert_uint_eq(a->aead, 1);
	ck_assert_uint_eq(a->key_len, 32);
	ck_assert_uint_eq(a->salt_len, 4);
	ck_assert_uint_eq(a->iv_len, 8);
	ck_assert_uint_eq(a->block, 4);
	ck_assert_uint_eq(a->icv_len, 16);
	ck_assert_str_eq(a->ossl, "AES-256-GCM");
	a = byname(AS_XF_ENCR, "ENCR_AES_GCM_16-128");
	ck_assert_uint_eq(a->key_len, 16);
	ck_assert_str_eq(a->ossl, "AES-128-GCM");

	a = byname(AS_XF_ENCR, "ENCR_CHACHA20_POLY1305");
	ck_assert_uint_eq(a->aead, 1);
	ck_assert_uint_eq(a->key_len, 32);
	ck_assert_uint_eq(a->salt_len, 4);
	ck_assert_uint_eq(a->iv_len, 8);
	ck_assert_uint_eq(a->block, 4);
	ck_assert_uint_eq(a->icv_len, 16);
	ck_assert_str_eq(a->ossl, "ChaCha20-Poly1305");

	a = byname(AS_XF_ENCR, "ENCR_AES_CBC-128");
	ck_assert_uint_eq(a->aead, 0);
	ck_assert_uint_eq(a->key_len, 16);
	ck_assert_uint_eq(a->salt_len, 0);
	ck_assert_uint_eq(a->iv_len, 16);
	ck_assert_uint_eq(a->block, 16);
	ck_assert_uint_eq(a->icv_len, 0);
	ck_assert_str_eq(a->ossl, "AES-128-CBC");

	a = byname(AS_XF_ENCR, "ENCR_AES_CTR-128");
	ck_assert_uint_eq(a->aead, 0);
	ck_assert_uint_eq(a->salt_len, 4);
	ck_assert_uint_eq(a->iv_len, 8);
	ck_assert_uint_eq(a->block, 4);
	ck_assert_str_eq(a->ossl, "AES-128-CTR");

	a = byname(AS_XF_INTEG, "AUTH_HMAC_SHA2_256_128");
	ck_assert_uint_eq(a->ikey_len, 32);
	ck_assert_uint_eq(a->icv_len, 16);
	ck_assert_str_eq(a->ossl, "SHA256");
	a = byname(AS_XF_INTEG, "AUTH_HMAC_SHA2_384_192");
	ck_assert_uint_eq(a->ikey_len, 48);
	ck_assert_uint_eq(a->icv_len, 24);
	ck_assert_str_eq(a->ossl, "SHA384");
	a = byname(AS_XF_INTEG, "AUTH_HMAC_SHA2_512_256");
	ck_assert_uint_eq(a->ikey_len, 64);
	ck_assert_uint_eq(a->icv_len, 32);
	ck_assert_str_eq(a->ossl, "SHA512");
	a = byname(AS_XF_INTEG, "NONE");
	ck_assert_uint_eq(a->icv_len, 0);
	ck_assert_uint_eq(a->ikey_len, 0);

	a = byname(AS_XF_DH, "MODP2048");
	ck_assert_uint_eq(a->share_len, 256);
	ck_assert_str_eq(a->ossl, "modp_2048");
	ck_assert_uint_eq(byname(AS_XF_DH, "MODP3072")->share_len, 384);
	ck_assert_uint_eq(byname(AS_XF_DH, "MODP4096")->share_len, 512);
	ck_assert_uint_eq(byname(AS_XF_DH, "MODP6144")->share_len, 768);
	ck_assert_uint_eq(byname(AS_XF_DH, "MODP8192")->share_len, 1024);
	a = byname(AS_XF_DH, "CURVE25519");
	ck_assert_uint_eq(a->share_len, 32);
	ck_assert_str_eq(a->ossl, "X25519");
}
END_TEST

/* Every allowed transform's OpenSSL name must exist and agree on sizes. */
START_TEST(test_ossl_names_exist)
{
	const struct as_alg *a;

	for (size_t i = 0; (a = as_alg_at(i)); i++) {
		if (a->status != AS_ALG_OK || !a->ossl)
			continue;
		if (a->type == AS_XF_ENCR) {
			EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, a->ossl, NULL);

			ck_assert_msg(c != NULL, "cipher %s missing", a->ossl);
			ck_assert_int_eq(EVP_CIPHER_get_key_length(c), a->key_len);
			/* the full nonce OpenSSL wants: salt || explicit IV (|| counter) */
			if (a->aead)
				ck_assert_int_eq(EVP_CIPHER_get_iv_length(c), a->salt_len + a->iv_len);
			else if (a->salt_len)
				ck_assert_int_eq(EVP_CIPHER_get_iv_length(c),
						 a->salt_len + a->iv_len + 4);
			else
				ck_assert_int_eq(EVP_CIPHER_get_iv_length(c), a->iv_len);
			EVP_CIPHER_free(c);
		} else if (a->type == AS_XF_INTEG) {
			EVP_MD *m = EVP_MD_fetch(NULL, a->ossl, NULL);

			ck_assert_msg(m != NULL, "digest %s missing", a->ossl);
			ck_assert_int_eq(EVP_MD_get_size(m), a->ikey_len);
			ck_assert_int_le(a->icv_len, a->ikey_len);
			EVP_MD_free(m);
		} else if (a->type == AS_XF_DH && a->id != 31) {
			EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
			EVP_PKEY *k = NULL;

			ck_assert_ptr_nonnull(c);
			ck_assert_int_eq(EVP_PKEY_keygen_init(c), 1);
			ck_assert_int_eq(EVP_PKEY_CTX_set_group_name(c, a->ossl), 1);
			ck_assert_msg(EVP_PKEY_keygen(c, &k) == 1, "group %s", a->ossl);
			ck_assert_int_eq(EVP_PKEY_get_bits(k), 8 * a->share_len);
			EVP_PKEY_free(k);
			EVP_PKEY_CTX_free(c);
		}
	}
}
END_TEST

START_TEST(test_policy_default)
{
	struct as_policy p;
	const struct as_alg *a;
	size_t ok = 0;

	as_policy_default(&p);
	for (size_t i = 0; (a = as_alg_at(i)); i++) {
		ck_assert_int_eq(as_policy_allows(&p, a), a->status == AS_ALG_OK);
		ok += a->status == AS_ALG_OK;
	}
	ck_assert_uint_ge(ok, 18);
	ck_assert_int_eq(as_policy_allows(&p, byname(AS_XF_ENCR, "ENCR_3DES")), 0);
	ck_assert_int_eq(as_policy_allows(&p, byname(AS_XF_DH, "MODP1536")), 0);
	ck_assert_int_eq(as_policy_allows(&p, byname(AS_XF_INTEG, "AUTH_HMAC_SHA1_96")), 0);
	ck_assert_int_eq(as_policy_allows(&p, byname(AS_XF_INTEG, "AUTH_AES_XCBC_96")), 0);
	ck_assert_int_eq(as_policy_allows(&p, byname(AS_XF_DH, "X25519")), 1);
	ck_assert_int_eq(as_policy_allows(NULL, byname(AS_XF_DH, "X25519")), 0);
	ck_assert_int_eq(as_policy_allows(&p, NULL), 0);
	{
		/* a copy is not a registry entry */
		struct as_alg fake = *byname(AS_XF_DH, "X25519");

		ck_assert_int_eq(as_policy_allows(&p, &fake), 0);
	}
}
END_TEST

START_TEST(test_policy_set)
{
	struct as_policy p, before;
	struct as_diag d = { 0 };

	as_policy_default(&p);
	ck_assert_int_eq(as_policy_set(&p, AS_XF_ENCR, " ENCR_AES_GCM_16-128 ,\tencr_3des ", &d),
			 AS_OK);
	ck_assert_int_eq(as_policy_allows(&p, byname(AS_XF_ENCR, "ENCR_AES_GCM_16-128")), 1);
	ck_assert_int_eq(as_policy_allows(&p, byname(AS_XF_ENCR, "ENCR_3DES")), 1);
	ck_assert_int_eq(as_policy_allows(&p, byname(AS_XF_ENCR, "ENCR_AES_GCM_16-256")), 0);
	/* other types untouched */
	ck_assert_int_eq(as_policy_allows(&p, byname(AS_XF_DH, "MODP2048")), 1);
	ck_assert_int_eq(as_policy_allows(&p, byname(AS_XF_INTEG, "AUTH_HMAC_SHA2_256_128")), 1);

	ck_assert_int_eq(as_policy_set(&p, AS_XF_DH, "X25519", &d), AS_OK);
	ck_assert_int_eq(as_policy_allows(&p, byname(AS_XF_DH, "CURVE25519")), 1);
	ck_assert_int_eq(as_policy_allows(&p, byname(AS_XF_DH, "MODP2048")), 0);

	/* failures quote the name and leave the policy unchanged */
	before = p;
	ck_assert_int_eq(as_policy_set(&p, AS_XF_ENCR, "ENCR_AES_GCM_16-256,ENCR_FOO-128", &d),
			 AS_E_ALG_UNKNOWN);
	ck_assert_int_eq(d.code, AS_E_ALG_UNKNOWN);
	ck_assert_msg(strstr(d.msg, "\"ENCR_FOO-128\"") != NULL, "diag: %s", d.msg);
	ck_assert_mem_eq(&p, &before, sizeof(p));

	ck_assert_int_eq(as_policy_set(&p, AS_XF_ENCR, "ENCR_AES_CBC", &d), AS_E_ALG_UNKNOWN);
	ck_assert_msg(strstr(d.msg, "\"ENCR_AES_CBC\"") && strstr(d.msg, "-256"), "%s", d.msg);
	ck_assert_int_eq(as_policy_set(&p, AS_XF_ENCR, "MODP2048", &d), AS_E_ALG_UNKNOWN);
	ck_assert_msg(strstr(d.msg, "DH group") != NULL, "%s", d.msg);
	ck_assert_int_eq(as_policy_set(&p, AS_XF_INTEG, "AUTH_AES_XCBC_96", &d), AS_E_ALG_REFUSED);
	ck_assert_msg(strstr(d.msg, "not implemented") != NULL, "%s", d.msg);
	ck_assert_int_eq(as_policy_set(&p, AS_XF_DH, "MODP2048,,X25519", &d), AS_E_INVAL);
	ck_assert_int_eq(as_policy_set(&p, AS_XF_DH, "MODP2048,", &d), AS_E_INVAL);
	ck_assert_int_eq(as_policy_set(&p, AS_XF_DH, "", &d), AS_E_INVAL);
	ck_assert_int_eq(as_policy_set(&p, AS_XF_DH, "  ", &d), AS_E_INVAL);
	ck_assert_int_eq(as_policy_set(&p, AS_XF_DH, NULL, &d), AS_E_INVAL);
	ck_assert_int_eq(as_policy_set(&p, 2, "MODP2048", &d), AS_E_INVAL);
	ck_assert_int_eq(as_policy_set(&p, AS_XF_DH, "MODP\x01\"2048", &d), AS_E_ALG_UNKNOWN);
	ck_assert_msg(strstr(d.msg, "MODP\\x01\\x222048") != NULL, "diag: %s", d.msg);
	ck_assert_mem_eq(&p, &before, sizeof(p));
	/* a NULL diag is fine */
	ck_assert_int_eq(as_policy_set(&p, AS_XF_DH, "MODP9999", NULL), AS_E_ALG_UNKNOWN);
}
END_TEST

static Suite *alg_suite(void)
{
	Suite *s = suite_create("alg");
	TCase *t = tcase_create("registry");

	tcase_add_test(t, test_iana_ids);
	tcase_add_test(t, test_every_entry_round_trips);
	tcase_add_test(t, test_suffix_rules);
	tcase_add_test(t, test_case_and_alias);
	tcase_add_test(t, test_crypto_fields);
	tcase_add_test(t, test_ossl_names_exist);
	tcase_add_test(t, test_policy_default);
	tcase_add_test(t, test_policy_set);
	suite_add_tcase(s, t);
	return s;
}

TU_MAIN(alg_suite)
