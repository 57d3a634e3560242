/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The handshake step of the pipeline: INIT, REPLY and ERROR messages and the
 * keys derived from them.  Wire layouts are drawn in include/autosec/msg.h
 * and specified in docs/PROTOCOL.md section 3.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/crypto.h"
#include "autosec/err.h"
#include "autosec/esp.h"
#include "autosec/keyrec.h"
#include "autosec/msg.h"
#include "autosec/pkey.h"
#include "autosec/rng.h"

#define INFO_LABEL "AutoSEC v1 INIT"
#define FIRST_LABEL "AutoSEC v1 first flight"
#define AUTH_LABEL "AutoSEC v1 auth"
#define FS_LABEL "AutoSEC v1 forward secret"
#define INFO_LEN (sizeof(INFO_LABEL) - 1 + 32)
/* Fixed part of the protected parameters: up to and including Key Material. */
#define PARAMS_FIXED_LEN (8 + 12 + 4 + 8 + AS_NONCE_LEN + AS_KEYMAT_LEN)
#define PARAMS_MAX (PARAMS_FIXED_LEN + 32 + 2 + AS_DH_SHARE_MAX)
#define KEYMAT_MAX (2 * (32 + 4 + 64))

static const char *const error_names[] = {
	[AS_ERR_UNSUPPORTED_VERSION] = "UNSUPPORTED_VERSION",
	[AS_ERR_INVALID_SYNTAX] = "INVALID_SYNTAX",
	[AS_ERR_UNKNOWN_KEY_TAG] = "UNKNOWN_KEY_TAG",
	[AS_ERR_DECRYPT_FAILED] = "DECRYPT_FAILED",
	[AS_ERR_COOKIE_REQUIRED] = "COOKIE_REQUIRED",
	[AS_ERR_NO_PROPOSAL_CHOSEN] = "NO_PROPOSAL_CHOSEN",
	[AS_ERR_STALE_TIMESTAMP] = "STALE_TIMESTAMP",
	[AS_ERR_SPI_IN_USE] = "SPI_IN_USE",
	[AS_ERR_INVALID_SPI] = "INVALID_SPI",
	[AS_ERR_ADMIN_PROHIBITED] = "ADMINISTRATIVELY_PROHIBITED",
	[AS_ERR_INVALID_PARAMETER] = "INVALID_PARAMETER",
};

const char *as_error_code_name(uint16_t code)
{
	if (code < sizeof(error_names) / sizeof(error_names[0]) && error_names[code])
		return error_names[code];
	return "UNKNOWN_ERROR";
}

static size_t addr_len(uint8_t family)
{
	return family == 6 ? 16 : 4;
}

int as_rkey_load(const char *keyfile, struct as_rkey *k, struct as_diag *d)
{
	char path[4096], text[AS_REC_MAX_TEXT + 2];
	struct as_keyrec rec;
	FILE *f;
	size_t n;
	int rc;

	memset(k, 0, sizeof(*k));
	memset(&rec, 0, sizeof(rec));
	rc = as_pkey_read_private(keyfile, &k->priv, d);
	if (rc)
		return rc;
	if ((size_t)snprintf(path, sizeof(path), "%s.rec", keyfile) >= sizeof(path)) {
		rc = as_diag_set(d, AS_E_INVAL, "key file name too long: %s", keyfile);
		goto fail;
	}
	f = fopen(path, "r");
	if (!f) {
		rc = as_diag_set(d, AS_E_IO, "cannot read %s, the record of %s: %s", path, keyfile,
				 strerror(errno));
		goto fail;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	rc = as_keyrec_parse_text(text, n, &rec, d);
	if (rc)
		goto fail;
	rc = as_rkey_set(k, k->priv, &rec, d);
	if (rc) {
		as_diag_set(d, rc, "%s does not hold the public half of %s", path, keyfile);
		goto fail;
	}
	as_keyrec_free(&rec);
	return AS_OK;
fail:
	as_keyrec_free(&rec);
	as_rkey_free(k);
	return rc;
}

int as_rkey_set(struct as_rkey *k, EVP_PKEY *priv, const struct as_keyrec *rec, struct as_diag *d)
{
	if (EVP_PKEY_eq(rec->pub, priv) != 1)
		return as_diag_set(d, AS_E_REC_KEY, "the record does not hold the key's public half");
	k->priv = priv;
	k->type = rec->key_type;
	k->tag = rec->key_tag;
	memcpy(k->digest[0], rec->digest, 32);
	k->n_digest = 1;
	return AS_OK;
}

void as_rkey_free(struct as_rkey *k)
{
	EVP_PKEY_free(k->priv);
	memset(k, 0, sizeof(*k));
}

/* The ESP layer wants no integrity transform at all for AEAD ciphers. */
static const struct as_alg *esp_integ(const struct as_alg *integ)
{
	return integ && integ->id != AS_AUTH_NONE ? integ : NULL;
}

int as_msg_choose(const struct as_keyrec *rec, const struct as_policy *pol,
		  struct as_params *p, struct as_diag *d)
{
	size_t i;

	p->enc = p->integ = p->dh = NULL;
	for (i = 0; i < rec->n_enc && !p->enc; i++)
		if (rec->enc[i]->status == AS_ALG_OK && as_policy_allows(pol, rec->enc[i]))
			p->enc = rec->enc[i];
	if (!p->enc)
		return as_diag_set(d, AS_E_NO_PROPOSAL,
				   "none of the record's %zu encryption algorithms is allowed here",
				   rec->n_enc);
	if (p->enc->aead) {
		p->integ = as_alg_find(AS_XF_INTEG, AS_AUTH_NONE, 0);
	} else {
		for (i = 0; i < rec->n_integ && !p->integ; i++)
			if (rec->integ[i]->status == AS_ALG_OK && rec->integ[i]->id != AS_AUTH_NONE &&
			    as_policy_allows(pol, rec->integ[i]))
				p->integ = rec->integ[i];
	}
	if (!p->integ)
		return as_diag_set(d, AS_E_NO_PROPOSAL,
				   "%s needs an integrity algorithm, and none of the record's %zu is allowed here",
				   p->enc->name, rec->n_integ);
	for (i = 0; i < rec->n_dh && !p->dh; i++)
		if (rec->dh[i]->status == AS_ALG_OK && as_policy_allows(pol, rec->dh[i]))
			p->dh = rec->dh[i];
	if (!p->dh)
		return as_diag_set(d, AS_E_NO_PROPOSAL,
				   "none of the record's %zu DH groups is allowed here", rec->n_dh);
	return AS_OK;
}

/* A random SPI outside the reserved range 0..255 and different from others. */
static int random_spi(const struct as_rng *rng, uint32_t *spi, uint32_t a, uint32_t b)
{
	for (int tries = 0; tries < 64; tries++) {
		uint8_t r[4];

		if (as_rng_bytes(rng, r, sizeof(r)))
			return AS_E_RANDOM;
		*spi = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3];
		if (*spi >= 256 && *spi != a && *spi != b)
			return AS_OK;
	}
	return AS_E_RANDOM;
}

int as_msg_init_prepare(struct as_hs *hs, const struct as_rng *rng, struct as_diag *d)
{
	struct as_params *p = &hs->p;
	int rc;

	hs->initiator = 1;
	if (!p->enc || !p->integ || !p->dh || (p->family != 4 && p->family != 6))
		return as_diag_set(d, AS_E_INVAL, "parameters incomplete: choose transforms and family first");
	if ((rc = random_spi(rng, &p->spi_r0, 0, 0)) || (rc = random_spi(rng, &p->spi_i0, p->spi_r0, 0)) ||
	    (rc = random_spi(rng, &p->spi_i1, p->spi_r0, p->spi_i0)))
		return as_diag_set(d, rc, "random source failed");
	if (as_rng_bytes(rng, p->nonce, sizeof(p->nonce)) ||
	    as_rng_bytes(rng, p->key_material, sizeof(p->key_material)))
		return as_diag_set(d, AS_E_RANDOM, "random source failed");
	rc = as_dh_keygen(&hs->dh, p->dh->id, rng);
	if (rc)
		return as_diag_set(d, rc, "cannot make a %s key share", p->dh->name);
	rc = as_dh_share(&hs->dh, p->dh_share, sizeof(p->dh_share), &p->dh_share_len);
	if (rc)
		return as_diag_set(d, rc, "cannot encode the %s key share", p->dh->name);
	return AS_OK;
}

static int params_encode(const struct as_params *p, struct as_wbuf *w)
{
	as_wbuf_u16(w, p->enc->id);
	as_wbuf_u16(w, p->enc->key_bits);
	as_wbuf_u16(w, p->integ->id);
	as_wbuf_u16(w, p->dh->id);
	as_wbuf_u32(w, p->spi_r0);
	as_wbuf_u32(w, p->spi_i0);
	as_wbuf_u32(w, p->spi_i1);
	as_wbuf_u8(w, p->next_header);
	as_wbuf_u8(w, p->family);
	as_wbuf_u16(w, p->flags);
	as_wbuf_u64(w, p->timestamp);
	as_wbuf_put(w, p->nonce, sizeof(p->nonce));
	as_wbuf_put(w, p->key_material, sizeof(p->key_material));
	as_wbuf_put(w, p->src, addr_len(p->family));
	as_wbuf_put(w, p->dst, addr_len(p->family));
	as_wbuf_u16(w, (uint16_t)p->dh_share_len);
	as_wbuf_put(w, p->dh_share, p->dh_share_len);
	return as_wbuf_error(w);
}

/*
 * Decode in two steps so that K_auth exists (and errors can be authenticated)
 * as soon as the fixed part has been read, before the values are judged.
 */
struct raw_params {
	uint16_t enc_id, enc_bits, integ_id, dh_id;
};

static int params_decode_fixed(struct as_rbuf *r, struct as_params *p, struct raw_params *raw)
{
	if (as_rbuf_u16(r, &raw->enc_id) || as_rbuf_u16(r, &raw->enc_bits) ||
	    as_rbuf_u16(r, &raw->integ_id) || as_rbuf_u16(r, &raw->dh_id) ||
	    as_rbuf_u32(r, &p->spi_r0) || as_rbuf_u32(r, &p->spi_i0) || as_rbuf_u32(r, &p->spi_i1) ||
	    as_rbuf_u8(r, &p->next_header) || as_rbuf_u8(r, &p->family) ||
	    as_rbuf_u16(r, &p->flags) || as_rbuf_u64(r, &p->timestamp) ||
	    as_rbuf_copy(r, p->nonce, sizeof(p->nonce)) ||
	    as_rbuf_copy(r, p->key_material, sizeof(p->key_material)))
		return AS_E_TRUNCATED;
	return AS_OK;
}

static int params_decode_rest(struct as_rbuf *r, struct as_params *p, struct as_diag *d)
{
	uint16_t share_len;

	if (p->family != 4 && p->family != 6)
		return as_diag_set(d, AS_E_MSG_PARAM, "address family %u is neither 4 nor 6", p->family);
	if (as_rbuf_copy(r, p->src, addr_len(p->family)) || as_rbuf_copy(r, p->dst, addr_len(p->family)) ||
	    as_rbuf_u16(r, &share_len))
		return as_diag_set(d, AS_E_MSG_PARAM, "protected parameters truncated");
	if (share_len > sizeof(p->dh_share) || as_rbuf_copy(r, p->dh_share, share_len))
		return as_diag_set(d, AS_E_MSG_PARAM, "DH share length %u exceeds the parameters", share_len);
	p->dh_share_len = share_len;
	if (as_rbuf_done(r))
		return as_diag_set(d, AS_E_MSG_PARAM, "%zu octets after the protected parameters",
				   as_rbuf_left(r));
	return AS_OK;
}

static void put_u32(uint8_t *q, uint32_t v)
{
	q[0] = (uint8_t)(v >> 24);
	q[1] = (uint8_t)(v >> 16);
	q[2] = (uint8_t)(v >> 8);
	q[3] = (uint8_t)v;
}

/* KEYMAT for both directions: initiator->responder first (RFC 7296 2.17). */
static int derive_sas(struct as_hs *hs, const uint8_t *prk, size_t prk_len, const char *label,
		      uint32_t spi_i, uint32_t spi_r, struct as_esp_sa *out, struct as_esp_sa *in)
{
	const struct as_params *p = &hs->p;
	const struct as_alg *integ = esp_integ(p->integ);
	uint8_t info[64], km[KEYMAT_MAX];
	size_t ll = strlen(label), l = as_esp_keymat_len(p->enc, integ);
	int rc;

	if (l == 0 || 2 * l > sizeof(km) || ll + 8 > sizeof(info))
		return AS_E_INVAL;
	memcpy(info, label, ll);
	put_u32(info + ll, spi_i);
	put_u32(info + ll + 4, spi_r);
	rc = as_hkdf_expand(NULL, prk, prk_len, info, ll + 8, km, 2 * l);
	if (rc)
		goto out;
	as_esp_sa_clear(out);
	as_esp_sa_clear(in);
	if (hs->initiator) {
		rc = as_esp_sa_init(out, spi_r, p->enc, integ, km, l, p->flags & AS_PARAM_FLAG_ESN);
		if (!rc)
			rc = as_esp_sa_init(in, spi_i, p->enc, integ, km + l, l, p->flags & AS_PARAM_FLAG_ESN);
	} else {
		rc = as_esp_sa_init(in, spi_r, p->enc, integ, km, l, p->flags & AS_PARAM_FLAG_ESN);
		if (!rc)
			rc = as_esp_sa_init(out, spi_i, p->enc, integ, km + l, l, p->flags & AS_PARAM_FLAG_ESN);
	}
out:
	as_wipe(km, sizeof(km));
	return rc;
}

/* PRK0 from the first flight: the ESP SAs and K_auth. */
static int derive_first(struct as_hs *hs)
{
	uint8_t prk[32];
	size_t prk_len = sizeof(prk);
	int rc;

	rc = as_hkdf_extract(NULL, hs->p.nonce, sizeof(hs->p.nonce), hs->p.key_material,
			     sizeof(hs->p.key_material), prk, &prk_len);
	if (!rc)
		rc = as_hkdf_expand(NULL, prk, prk_len, (const uint8_t *)AUTH_LABEL,
				    sizeof(AUTH_LABEL) - 1, hs->k_auth, sizeof(hs->k_auth));
	if (!rc)
		rc = derive_sas(hs, prk, prk_len, FIRST_LABEL, hs->p.spi_i0, hs->p.spi_r0,
				&hs->sa_out, &hs->sa_in);
	as_wipe(prk, sizeof(prk));
	return rc;
}

static int derive_fs(struct as_hs *hs, const uint8_t *peer_share, size_t peer_len)
{
	uint8_t z[AS_DH_SHARE_MAX], prk[32];
	size_t zl = 0, prk_len = sizeof(prk);
	int rc;

	rc = as_dh_derive(&hs->dh, peer_share, peer_len, z, sizeof(z), &zl);
	if (rc)
		goto out;
	rc = as_hkdf_extract(NULL, hs->p.key_material, sizeof(hs->p.key_material), z, zl, prk, &prk_len);
	if (rc)
		goto out;
	rc = derive_sas(hs, prk, prk_len, FS_LABEL, hs->p.spi_i1, hs->spi_r1, &hs->fs_out, &hs->fs_in);
	if (!rc)
		hs->has_fs = 1;
out:
	as_wipe(z, sizeof(z));
	as_wipe(prk, sizeof(prk));
	return rc;
}

static void make_info(uint8_t info[INFO_LEN], const uint8_t digest[32])
{
	memcpy(info, INFO_LABEL, sizeof(INFO_LABEL) - 1);
	memcpy(info + sizeof(INFO_LABEL) - 1, digest, 32);
}

int as_msg_build_init(struct as_hs *hs, const struct as_keyrec *rec, const struct as_rng *rng,
		      const uint8_t *cookie, size_t cookie_len,
		      const uint8_t *payload, size_t plen, struct as_wbuf *out,
		      struct as_diag *d)
{
	uint8_t pt[PARAMS_MAX], info[INFO_LEN], secret[32], *aad, *kem, *ct;
	struct as_hpke_ctx hpke;
	struct as_wbuf pw;
	size_t start = as_wbuf_len(out), kem_len, blen, rsa_len = 0;
	uint8_t suite;
	int rc;

	memset(&hpke, 0, sizeof(hpke));
	if (cookie_len && (cookie_len < AS_COOKIE_MIN || cookie_len > AS_COOKIE_MAX || !cookie))
		return as_diag_set(d, AS_E_INVAL, "cookie length %zu outside %d..%d", cookie_len,
				   AS_COOKIE_MIN, AS_COOKIE_MAX);
	if (rec->key_type == AS_KEY_X25519) {
		suite = AS_SUITE_X25519;
		kem_len = 32;
	} else if (rec->key_type == AS_KEY_RSA) {
		suite = AS_SUITE_RSA;
		kem_len = (size_t)EVP_PKEY_get_size(rec->pub);
	} else {
		return as_diag_set(d, AS_E_REC_KEY_TYPE, "record has no usable public key");
	}
	as_wbuf_init(&pw, pt, sizeof(pt));
	rc = params_encode(&hs->p, &pw);
	if (rc)
		return as_diag_set(d, rc, "protected parameters do not fit");
	blen = kem_len + as_wbuf_len(&pw) + AS_HPKE_TAG_LEN;
	if (blen > AS_BLOCK_MAX)
		return as_diag_set(d, AS_E_INVAL, "sealed block of %zu octets exceeds %d", blen, AS_BLOCK_MAX);

	/* clear header: the AAD of the seal */
	as_wbuf_u8(out, AS_MSG_VERSION);
	as_wbuf_u8(out, AS_MSG_INIT);
	as_wbuf_u8(out, suite);
	as_wbuf_u8(out, (uint8_t)cookie_len);
	as_wbuf_u16(out, rec->key_tag);
	as_wbuf_u16(out, (uint16_t)blen);
	as_wbuf_put(out, cookie, cookie_len);
	if ((rc = as_wbuf_error(out)))
		goto out;
	make_info(info, rec->digest);

	if ((rc = as_wbuf_reserve(out, kem_len, &kem)) ||
	    (rc = as_wbuf_reserve(out, blen - kem_len, &ct)) ||
	    (rc = as_wbuf_range(out, start, AS_INIT_HDR_LEN + cookie_len, &aad)))
		goto out;
	if (suite == AS_SUITE_X25519) {
		uint8_t pkR[32], ikmE[32];

		rc = as_pkey_x25519_raw(rec->pub, 0, pkR);
		if (!rc)
			rc = as_rng_bytes(rng, ikmE, sizeof(ikmE));
		if (!rc)
			rc = as_hpke_setup_base_s(&hpke, AS_HPKE_AEAD_AES128GCM, pkR, info, sizeof(info),
						  ikmE, sizeof(ikmE), kem);
		as_wipe(ikmE, sizeof(ikmE));
	} else {
		rc = as_rng_bytes(rng, secret, sizeof(secret));
		if (!rc)
			rc = as_rsa_oaep_encrypt(rec->pub, rng, info, sizeof(info), secret, sizeof(secret),
						 kem, kem_len, &rsa_len);
		if (!rc && rsa_len != kem_len)
			rc = AS_E_CRYPTO;
		if (!rc)
			rc = as_hpke_key_schedule(&hpke, AS_HPKE_KEM_RSA_OAEP, AS_HPKE_AEAD_AES128GCM,
						  secret, sizeof(secret), info, sizeof(info));
	}
	if (rc) {
		as_diag_set(d, rc, "cannot encrypt to the peer's %s key",
			    suite == AS_SUITE_RSA ? "RSA" : "X25519");
		goto out;
	}
	rc = as_hpke_seal(&hpke, aad, AS_INIT_HDR_LEN + cookie_len, pt, as_wbuf_len(&pw), ct);
	if (rc)
		goto out;
	memcpy(hs->ref, kem, sizeof(hs->ref));

	rc = derive_first(hs);
	if (rc) {
		as_diag_set(d, rc, "cannot derive the first-flight keys");
		goto out;
	}
	/* sequence number 1 under the new SA, also when this is a rebuild */
	hs->sa_out.seq = 0;
	rc = as_esp_encap(&hs->sa_out, rng, NULL, hs->p.next_header, payload, plen, out);
	if (rc)
		as_diag_set(d, rc, "cannot encapsulate the first payload");
out:
	as_hpke_clear(&hpke);
	as_wipe(secret, sizeof(secret));
	as_wipe(pt, sizeof(pt));
	if (rc)
		as_wbuf_truncate(out, start);
	return rc;
}

int as_msg_parse_init_hdr(const uint8_t *pkt, size_t len, struct as_init_hdr *h,
			  struct as_diag *d)
{
	struct as_rbuf r;
	uint8_t ver, type, cl;
	uint16_t bl;

	memset(h, 0, sizeof(*h));
	as_rbuf_init(&r, pkt, len);
	if (as_rbuf_u8(&r, &ver) || as_rbuf_u8(&r, &type) || as_rbuf_u8(&r, &h->suite) ||
	    as_rbuf_u8(&r, &cl) || as_rbuf_u16(&r, &h->key_tag) || as_rbuf_u16(&r, &bl))
		return as_diag_set(d, AS_E_TRUNCATED, "INIT of %zu octets is shorter than its header", len);
	if (ver != AS_MSG_VERSION)
		return as_diag_set(d, AS_E_MSG_VERSION, "version %u, this implementation speaks %u", ver,
				   AS_MSG_VERSION);
	if (type != AS_MSG_INIT)
		return as_diag_set(d, AS_E_MSG_TYPE, "message type %u is not INIT", type);
	if (h->suite != AS_SUITE_X25519 && h->suite != AS_SUITE_RSA)
		return as_diag_set(d, AS_E_MSG_SUITE, "suite %u is unknown", h->suite);
	if (cl && (cl < AS_COOKIE_MIN || cl > AS_COOKIE_MAX))
		return as_diag_set(d, AS_E_MSG_LENGTH, "cookie length %u outside %d..%d", cl,
				   AS_COOKIE_MIN, AS_COOKIE_MAX);
	if (bl > AS_BLOCK_MAX || bl < 32 + PARAMS_FIXED_LEN + AS_HPKE_TAG_LEN)
		return as_diag_set(d, AS_E_MSG_LENGTH, "block length %u outside %d..%d", bl,
				   32 + PARAMS_FIXED_LEN + AS_HPKE_TAG_LEN, AS_BLOCK_MAX);
	if (as_rbuf_ptr(&r, &h->cookie, cl))
		return as_diag_set(d, AS_E_MSG_LENGTH, "cookie of %u octets exceeds the datagram", cl);
	h->cookie_len = cl;
	h->aad_len = as_rbuf_offset(&r);
	if (as_rbuf_ptr(&r, &h->block, bl))
		return as_diag_set(d, AS_E_MSG_LENGTH, "sealed block of %u octets exceeds the datagram", bl);
	h->block_len = bl;
	as_rbuf_rest(&r, &h->esp, &h->esp_len);
	if (h->esp_len < AS_ESP_HDR_LEN)
		return as_diag_set(d, AS_E_MSG_LENGTH, "no ESP packet after the sealed block");
	return AS_OK;
}

/* Try every accepted record digest of one key: returns AS_OK with pt filled. */
static int open_with_key(const struct as_rkey *k, const struct as_init_hdr *h, const uint8_t *aad,
			 uint8_t *pt, size_t *pt_len)
{
	struct as_hpke_ctx hpke;
	uint8_t info[INFO_LEN], sk[32], secret[64];
	struct as_rbuf blk;
	const uint8_t *kem, *ct;
	size_t kem_len, ct_len, slen = 0;
	int rc = AS_E_MSG_DECRYPT;

	memset(&hpke, 0, sizeof(hpke));
	if (k->type == AS_KEY_X25519) {
		kem_len = 32;
		if (as_pkey_x25519_raw(k->priv, 1, sk))
			return AS_E_CRYPTO;
	} else {
		kem_len = (size_t)EVP_PKEY_get_size(k->priv);
	}
	as_rbuf_init(&blk, h->block, h->block_len);
	if (as_rbuf_ptr(&blk, &kem, kem_len) || as_rbuf_left(&blk) < AS_HPKE_TAG_LEN)
		goto out;
	as_rbuf_rest(&blk, &ct, &ct_len);
	for (size_t i = 0; i < k->n_digest; i++) {
		make_info(info, k->digest[i]);
		if (k->type == AS_KEY_X25519) {
			if (as_hpke_setup_base_r(&hpke, AS_HPKE_AEAD_AES128GCM, kem, sk, info,
						 sizeof(info)))
				continue;
		} else {
			if (as_rsa_oaep_decrypt(k->priv, info, sizeof(info), kem, kem_len, secret,
						sizeof(secret), &slen) || slen != 32)
				continue;
			if (as_hpke_key_schedule(&hpke, AS_HPKE_KEM_RSA_OAEP, AS_HPKE_AEAD_AES128GCM,
						 secret, slen, info, sizeof(info)))
				continue;
		}
		if (as_hpke_open(&hpke, aad, h->aad_len, ct, ct_len, pt) == AS_OK) {
			*pt_len = ct_len - AS_HPKE_TAG_LEN;
			rc = AS_OK;
			break;
		}
		as_hpke_clear(&hpke);
	}
out:
	as_hpke_clear(&hpke);
	as_wipe(sk, sizeof(sk));
	as_wipe(secret, sizeof(secret));
	return rc;
}

static int judge_params(struct as_params *p, const struct raw_params *raw,
			const struct as_policy *pol, uint16_t *ec, struct as_diag *d)
{
	p->enc = as_alg_find(AS_XF_ENCR, raw->enc_id, raw->enc_bits);
	p->integ = as_alg_find(AS_XF_INTEG, raw->integ_id, 0);
	p->dh = as_alg_find(AS_XF_DH, raw->dh_id, 0);
	*ec = AS_ERR_NO_PROPOSAL_CHOSEN;
	if (!p->enc)
		return as_diag_set(d, AS_E_NO_PROPOSAL, "unknown encryption transform %u/%u bits",
				   raw->enc_id, raw->enc_bits);
	if (!p->integ)
		return as_diag_set(d, AS_E_NO_PROPOSAL, "unknown integrity transform %u", raw->integ_id);
	if (!p->dh)
		return as_diag_set(d, AS_E_NO_PROPOSAL, "unknown DH group %u", raw->dh_id);
	if (p->enc->status != AS_ALG_OK || !as_policy_allows(pol, p->enc))
		return as_diag_set(d, AS_E_NO_PROPOSAL, "encryption %s not allowed here", p->enc->name);
	if (p->dh->status != AS_ALG_OK || !as_policy_allows(pol, p->dh))
		return as_diag_set(d, AS_E_NO_PROPOSAL, "DH group %s not allowed here", p->dh->name);
	*ec = AS_ERR_INVALID_PARAMETER;
	if (p->enc->aead != (p->integ->id == AS_AUTH_NONE))
		return as_diag_set(d, AS_E_MSG_PARAM, "%s with integrity %s", p->enc->name, p->integ->name);
	if (!p->enc->aead && (p->integ->status != AS_ALG_OK || !as_policy_allows(pol, p->integ))) {
		*ec = AS_ERR_NO_PROPOSAL_CHOSEN;
		return as_diag_set(d, AS_E_NO_PROPOSAL, "integrity %s not allowed here", p->integ->name);
	}
	if (p->spi_r0 < 256 || p->spi_i0 < 256 || p->spi_i1 < 256 || p->spi_r0 == p->spi_i0 ||
	    p->spi_i1 == p->spi_i0 || p->spi_i1 == p->spi_r0)
		return as_diag_set(d, AS_E_MSG_PARAM, "SPIs %08x/%08x/%08x reserved or not distinct",
				   p->spi_r0, p->spi_i0, p->spi_i1);
	if (p->flags & ~AS_PARAM_FLAG_ESN)
		return as_diag_set(d, AS_E_MSG_PARAM, "unknown flags 0x%04x", p->flags);
	if (p->dh_share_len != as_dh_share_len(p->dh->id))
		return as_diag_set(d, AS_E_MSG_PARAM, "%s share of %zu octets, expected %zu",
				   p->dh->name, p->dh_share_len, as_dh_share_len(p->dh->id));
	*ec = 0;
	return AS_OK;
}

int as_msg_open_init(struct as_hs *hs, const struct as_rkey *keys, size_t n_keys,
		     const struct as_policy *pol, uint64_t now, unsigned freshness,
		     const struct as_rng *rng, uint32_t spi_r1,
		     const uint8_t *pkt, size_t len, struct as_wbuf *payload_out,
		     uint16_t *error_code, struct as_diag *d)
{
	struct as_init_hdr h;
	struct raw_params raw;
	struct as_rbuf r, er;
	uint8_t pt[AS_BLOCK_MAX], nh = 0;
	const uint8_t *aad;
	size_t pt_len = 0, i, start = as_wbuf_len(payload_out);
	uint32_t spi = 0, seq = 0;
	int rc, key_type, found = 0;

	hs->initiator = 0;
	*error_code = 0;
	rc = as_msg_parse_init_hdr(pkt, len, &h, d);
	if (rc) {
		*error_code = rc == AS_E_MSG_VERSION ? AS_ERR_UNSUPPORTED_VERSION : AS_ERR_INVALID_SYNTAX;
		return rc;
	}
	key_type = h.suite == AS_SUITE_X25519 ? AS_KEY_X25519 : AS_KEY_RSA;
	aad = pkt; /* the clear header and cookie: aad_len octets from the start */
	rc = AS_E_MSG_KEYTAG;
	for (i = 0; i < n_keys; i++) {
		if (keys[i].tag != h.key_tag || keys[i].type != key_type)
			continue;
		found = 1;
		if (open_with_key(&keys[i], &h, aad, pt, &pt_len) == AS_OK) {
			rc = AS_OK;
			break;
		}
	}
	if (rc) {
		*error_code = found ? AS_ERR_DECRYPT_FAILED : AS_ERR_UNKNOWN_KEY_TAG;
		rc = found ? AS_E_MSG_DECRYPT : AS_E_MSG_KEYTAG;
		as_diag_set(d, rc, found ? "INIT for key tag %u does not decrypt"
					 : "no private key with key tag %u", h.key_tag);
		goto out;
	}
	memcpy(hs->ref, h.block, sizeof(hs->ref));

	as_rbuf_init(&r, pt, pt_len);
	if (params_decode_fixed(&r, &hs->p, &raw)) {
		*error_code = AS_ERR_INVALID_PARAMETER;
		rc = as_diag_set(d, AS_E_MSG_PARAM, "protected parameters truncated at %zu octets", pt_len);
		goto out;
	}
	/* From here on errors can be authenticated (auth_only): K_auth needs
	 * only the nonce and key material, which are in the fixed part. */
	if ((rc = params_decode_rest(&r, &hs->p, d))) {
		*error_code = AS_ERR_INVALID_PARAMETER;
		goto auth_only;
	}
	if ((rc = judge_params(&hs->p, &raw, pol, error_code, d)))
		goto auth_only;
	if (hs->p.timestamp + freshness < now || hs->p.timestamp > now + freshness) {
		*error_code = AS_ERR_STALE_TIMESTAMP;
		rc = as_diag_set(d, AS_E_MSG_STALE, "timestamp %llu is %lld s from our clock",
				 (unsigned long long)hs->p.timestamp,
				 (long long)hs->p.timestamp - (long long)now);
		goto auth_only;
	}
	if ((rc = derive_first(hs))) {
		as_diag_set(d, rc, "cannot derive the first-flight keys");
		goto out;
	}
	/* the ESP part lies outside the seal: anything wrong there is dropped
	 * silently and leaves no state (PROTOCOL.md 3.5 step 9) */
	as_rbuf_init(&er, h.esp, h.esp_len);
	if (as_rbuf_u32(&er, &spi) || as_rbuf_u32(&er, &seq) || spi != hs->p.spi_r0 || seq != 1) {
		rc = as_diag_set(d, AS_E_MSG_PARAM, "the ESP packet has SPI %08x seq %u, not SPI R0 %08x seq 1",
				 spi, seq, hs->p.spi_r0);
		goto out;
	}
	rc = as_esp_decap(&hs->sa_in, h.esp, h.esp_len, &nh, payload_out);
	if (rc) {
		/* someone changed the ESP part of a valid INIT: say nothing */
		as_diag_set(d, rc, "the first ESP packet does not verify: %s", as_strerror(rc));
		goto out;
	}
	if (nh != hs->p.next_header) {
		*error_code = AS_ERR_INVALID_PARAMETER;
		rc = as_diag_set(d, AS_E_MSG_PARAM, "ESP next header %u, protected next header %u", nh,
				 hs->p.next_header);
		goto out;
	}
	/* step 10: our DH share and the forward-secret SAs */
	if (spi_r1 < 256 || spi_r1 == hs->p.spi_r0 || spi_r1 == hs->p.spi_i0 || spi_r1 == hs->p.spi_i1) {
		rc = as_diag_set(d, AS_E_INVAL, "SPI R1 %08x reserved or already used", spi_r1);
		goto out;
	}
	hs->spi_r1 = spi_r1;
	rc = as_dh_keygen(&hs->dh, hs->p.dh->id, rng);
	if (!rc)
		rc = as_dh_share(&hs->dh, hs->dh_share, sizeof(hs->dh_share), &hs->dh_share_len);
	if (rc) {
		as_diag_set(d, rc, "cannot make a %s key share", hs->p.dh->name);
		goto out;
	}
	rc = derive_fs(hs, hs->p.dh_share, hs->p.dh_share_len);
	if (rc) {
		*error_code = AS_ERR_INVALID_PARAMETER;
		as_diag_set(d, rc, "the initiator's %s share is invalid", hs->p.dh->name);
		goto out;
	}
	rc = AS_OK;
	goto out;
auth_only:
	/* K_auth for an authenticated error; no SA is installed */
	{
		uint8_t prk[32];
		size_t prk_len = sizeof(prk);

		if (as_hkdf_extract(NULL, hs->p.nonce, sizeof(hs->p.nonce), hs->p.key_material,
				    sizeof(hs->p.key_material), prk, &prk_len) ||
		    as_hkdf_expand(NULL, prk, prk_len, (const uint8_t *)AUTH_LABEL,
				   sizeof(AUTH_LABEL) - 1, hs->k_auth, sizeof(hs->k_auth)))
			*error_code = 0;
		as_wipe(prk, sizeof(prk));
	}
out:
	if (rc)
		as_wbuf_truncate(payload_out, start);
	as_wipe(pt, sizeof(pt));
	return rc;
}

static int put_tag(const struct as_hs *hs, struct as_wbuf *w, size_t start)
{
	uint8_t mac[32], *msg;
	size_t n = as_wbuf_len(w) - start;
	int rc;

	if ((rc = as_wbuf_error(w)) || (rc = as_wbuf_range(w, start, n, &msg)))
		return rc;
	rc = as_hmac(NULL, hs->k_auth, sizeof(hs->k_auth), msg, n, mac);
	if (!rc)
		rc = as_wbuf_put(w, mac, AS_TAG_LEN);
	as_wipe(mac, sizeof(mac));
	return rc;
}

static int check_tag(const struct as_hs *hs, const uint8_t *pkt, size_t covered, const uint8_t *tag)
{
	uint8_t mac[32];
	int rc;

	rc = as_hmac(NULL, hs->k_auth, sizeof(hs->k_auth), pkt, covered, mac);
	if (!rc && as_ct_memcmp(mac, tag, AS_TAG_LEN))
		rc = AS_E_MSG_AUTH;
	as_wipe(mac, sizeof(mac));
	return rc;
}

int as_msg_build_reply(const struct as_hs *hs, struct as_wbuf *out, struct as_diag *d)
{
	size_t start = as_wbuf_len(out);
	int rc;

	if (!hs->has_fs)
		return as_diag_set(d, AS_E_INVAL, "no accepted INIT to reply to");
	as_wbuf_u8(out, AS_MSG_VERSION);
	as_wbuf_u8(out, AS_MSG_REPLY);
	as_wbuf_u16(out, 0);
	as_wbuf_u32(out, hs->p.spi_i0);
	as_wbuf_u32(out, hs->spi_r1);
	as_wbuf_u16(out, hs->p.dh->id);
	as_wbuf_u16(out, (uint16_t)hs->dh_share_len);
	as_wbuf_put(out, hs->dh_share, hs->dh_share_len);
	rc = put_tag(hs, out, start);
	if (rc) {
		as_wbuf_truncate(out, start);
		return as_diag_set(d, rc, "the REPLY does not fit");
	}
	return AS_OK;
}

int as_msg_open_reply(struct as_hs *hs, const uint8_t *pkt, size_t len, struct as_diag *d)
{
	struct as_rbuf r;
	uint8_t ver, type;
	uint16_t rsv, group, share_len;
	uint32_t spi_i0, spi_r1;
	const uint8_t *share, *tag;
	size_t covered;
	int rc;

	as_rbuf_init(&r, pkt, len);
	if (as_rbuf_u8(&r, &ver) || as_rbuf_u8(&r, &type) || as_rbuf_u16(&r, &rsv) ||
	    as_rbuf_u32(&r, &spi_i0) || as_rbuf_u32(&r, &spi_r1) || as_rbuf_u16(&r, &group) ||
	    as_rbuf_u16(&r, &share_len))
		return as_diag_set(d, AS_E_TRUNCATED, "REPLY of %zu octets is shorter than its header", len);
	if (ver != AS_MSG_VERSION)
		return as_diag_set(d, AS_E_MSG_VERSION, "REPLY version %u", ver);
	if (type != AS_MSG_REPLY)
		return as_diag_set(d, AS_E_MSG_TYPE, "message type %u is not REPLY", type);
	if (as_rbuf_ptr(&r, &share, share_len))
		return as_diag_set(d, AS_E_MSG_LENGTH, "DH share of %u octets exceeds the REPLY", share_len);
	covered = as_rbuf_offset(&r);
	if (as_rbuf_ptr(&r, &tag, AS_TAG_LEN) || as_rbuf_done(&r))
		return as_diag_set(d, AS_E_MSG_LENGTH, "REPLY of %zu octets: tag missing or extra octets", len);
	if (spi_i0 != hs->p.spi_i0)
		return as_diag_set(d, AS_E_MSG_PARAM, "REPLY for SPI %08x, ours is %08x", spi_i0, hs->p.spi_i0);
	if ((rc = check_tag(hs, pkt, covered, tag)))
		return as_diag_set(d, rc, "REPLY tag does not verify");
	/* authenticated from here: a mismatch is a broken peer, not an attacker */
	if (rsv != 0 || group != hs->p.dh->id || share_len != as_dh_share_len(group) || spi_r1 < 256 ||
	    spi_r1 == hs->p.spi_r0 || spi_r1 == hs->p.spi_i0 || spi_r1 == hs->p.spi_i1)
		return as_diag_set(d, AS_E_MSG_PARAM, "REPLY with group %u, SPI R1 %08x, reserved %u",
				   group, spi_r1, rsv);
	hs->spi_r1 = spi_r1;
	rc = derive_fs(hs, share, share_len);
	if (rc)
		return as_diag_set(d, rc, "REPLY DH share of %u octets rejected", share_len);
	return AS_OK;
}

int as_msg_build_error(const struct as_hs *hs, uint16_t code, const uint8_t ref[AS_ERROR_REF_LEN],
		       const uint8_t *data, size_t data_len, struct as_wbuf *out)
{
	static const uint8_t zero[AS_ERROR_REF_LEN];
	size_t start = as_wbuf_len(out);
	int rc;

	if (data_len > AS_ERROR_DATA_MAX || (data_len && !data))
		return AS_E_INVAL;
	as_wbuf_u8(out, AS_MSG_VERSION);
	as_wbuf_u8(out, AS_MSG_ERROR);
	as_wbuf_u16(out, code);
	as_wbuf_u8(out, hs ? AS_ERROR_FLAG_AUTH : 0);
	as_wbuf_u8(out, 0);
	as_wbuf_u16(out, (uint16_t)data_len);
	as_wbuf_put(out, ref ? ref : zero, AS_ERROR_REF_LEN);
	as_wbuf_put(out, data, data_len);
	rc = hs ? put_tag(hs, out, start) : as_wbuf_error(out);
	if (rc)
		as_wbuf_truncate(out, start);
	return rc;
}

int as_msg_parse_error(const struct as_hs *hs, const uint8_t *pkt, size_t len,
		       struct as_error_msg *e, struct as_diag *d)
{
	struct as_rbuf r;
	uint8_t ver, type, rsv;
	uint16_t dl;
	const uint8_t *tag;
	size_t covered;
	int rc;

	memset(e, 0, sizeof(*e));
	as_rbuf_init(&r, pkt, len);
	if (as_rbuf_u8(&r, &ver) || as_rbuf_u8(&r, &type) || as_rbuf_u16(&r, &e->code) ||
	    as_rbuf_u8(&r, &e->flags) || as_rbuf_u8(&r, &rsv) || as_rbuf_u16(&r, &dl) ||
	    as_rbuf_copy(&r, e->ref, sizeof(e->ref)))
		return as_diag_set(d, AS_E_TRUNCATED, "ERROR of %zu octets is shorter than its header", len);
	if (ver != AS_MSG_VERSION)
		return as_diag_set(d, AS_E_MSG_VERSION, "ERROR version %u", ver);
	if (type != AS_MSG_ERROR)
		return as_diag_set(d, AS_E_MSG_TYPE, "message type %u is not ERROR", type);
	if (dl > AS_ERROR_DATA_MAX || as_rbuf_copy(&r, e->data, dl))
		return as_diag_set(d, AS_E_MSG_LENGTH, "ERROR data length %u exceeds the message", dl);
	e->data_len = dl;
	covered = as_rbuf_offset(&r);
	if (e->flags & AS_ERROR_FLAG_AUTH) {
		if (as_rbuf_ptr(&r, &tag, AS_TAG_LEN))
			return as_diag_set(d, AS_E_MSG_LENGTH, "authenticated ERROR without its tag");
		if (hs) {
			if ((rc = check_tag(hs, pkt, covered, tag)))
				return as_diag_set(d, rc, "ERROR %s: tag does not verify",
						   as_error_code_name(e->code));
			e->authenticated = 1;
		}
	}
	if (as_rbuf_done(&r))
		return as_diag_set(d, AS_E_TRAILING, "%zu octets after the ERROR", as_rbuf_left(&r));
	return AS_OK;
}

int as_msg_peek(const uint8_t *pkt, size_t len, uint8_t *type)
{
	struct as_rbuf r;
	uint8_t ver;

	as_rbuf_init(&r, pkt, len);
	if (as_rbuf_u8(&r, &ver) || as_rbuf_u8(&r, type))
		return AS_E_TRUNCATED;
	if (ver != AS_MSG_VERSION)
		return AS_E_MSG_VERSION;
	if (*type < AS_MSG_INIT || *type > AS_MSG_ERROR)
		return AS_E_MSG_TYPE;
	return AS_OK;
}

void as_hs_clear(struct as_hs *hs)
{
	as_dh_free(&hs->dh);
	as_esp_sa_clear(&hs->sa_out);
	as_esp_sa_clear(&hs->sa_in);
	as_esp_sa_clear(&hs->fs_out);
	as_esp_sa_clear(&hs->fs_in);
	as_wipe(hs, sizeof(*hs));
}
