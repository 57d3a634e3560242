/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ESP, RFC 4303, in userspace.
 *
 * The transform comes from the algorithm registry (struct as_alg): sizes
 * and the OpenSSL name are read from it, and the IANA transform ID only
 * picks how the nonce/IV and the ICV are formed, which is where the
 * transforms really differ:
 *
 *   AES-GCM-16 (RFC 4106)           nonce = salt(4) || IV(8), AAD = SPI || seq
 *   ChaCha20-Poly1305 (RFC 7634)    the same nonce and AAD
 *   AES-CTR (RFC 3686)              counter block = nonce(4) || IV(8) || 0x00000001
 *   AES-CBC (RFC 3602)              IV(16) random per packet
 *   CTR/CBC + HMAC (RFC 4868)       encrypt-then-MAC over SPI .. ciphertext
 *
 * With ESN the AAD is SPI || seq_hi || seq_lo, and the HMAC input has
 * seq_hi appended after the ciphertext without sending it (RFC 4303 2.2.1).
 *
 * The per-packet path allocates nothing: the cipher and MAC contexts made in
 * as_esp_sa_init are re-initialised with a NULL cipher / NULL key, which
 * only loads the new IV (or resets the HMAC to its keyed state).  (OpenSSL
 * 3.0's HMAC does allocate inside: every init and final copies its digest
 * state with EVP_MD_CTX_copy_ex, which re-creates the provider context; no
 * public 3.0 interface avoids that.  The AEAD transforms are allocation-free.)
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/esp.h"
#include "autosec/rng.h"

#define ESP_MAX_IV 16
#define ESP_MAX_ICV EVP_MAX_MD_SIZE
#define ESP_SALT_LEN 4       /* GCM, CTR, ChaCha20-Poly1305 */
#define ESP_CTR_IV_LEN 8     /* explicit IV of the counter modes */
#define ESP_AEAD_NONCE 12    /* salt || IV */
#define ESP_CTR_BLOCK 16     /* RFC 3686 counter block */
#define ESP_TRAILER 2        /* Pad Length, Next Header */

enum esp_mode {
	ESP_MODE_NONE = -1,
	ESP_MODE_GCM,
	ESP_MODE_CHACHA,
	ESP_MODE_CTR,
	ESP_MODE_CBC,
};

static int esp_mode(const struct as_alg *enc)
{
	switch (enc->id) {
	case AS_ENCR_AES_GCM_16:
		return ESP_MODE_GCM;
	case AS_ENCR_CHACHA20_POLY1305:
		return ESP_MODE_CHACHA;
	case AS_ENCR_AES_CTR:
		return ESP_MODE_CTR;
	case AS_ENCR_AES_CBC:
		return ESP_MODE_CBC;
	default:
		return ESP_MODE_NONE;
	}
}

/* The HMAC transforms: ICV = the first icv_len bytes of HMAC-<ossl>. */
static int esp_integ_is_hmac(uint16_t id)
{
	switch (id) {
	case AS_AUTH_HMAC_MD5_96:
	case AS_AUTH_HMAC_SHA1_96:
	case AS_AUTH_HMAC_SHA2_256_128:
	case AS_AUTH_HMAC_SHA2_384_192:
	case AS_AUTH_HMAC_SHA2_512_256:
		return 1;
	default:
		return 0;
	}
}

static int esp_has_integ(const struct as_alg *integ)
{
	return integ && integ->id != AS_AUTH_NONE;
}

static size_t esp_icv_len(const struct as_esp_sa *sa)
{
	if (sa->enc->aead)
		return sa->enc->icv_len;
	return esp_has_integ(sa->integ) ? sa->integ->icv_len : 0;
}

/* ESP pads to the cipher block and never to less than 4 bytes (2.4). */
static size_t esp_align(const struct as_esp_sa *sa)
{
	return sa->enc->block > 4 ? sa->enc->block : 4;
}

static size_t esp_padlen(const struct as_esp_sa *sa, size_t plen)
{
	size_t a = esp_align(sa);

	return (a - (plen + ESP_TRAILER) % a) % a;
}

static uint64_t esp_seq_max(const struct as_esp_sa *sa)
{
	return sa->esn ? UINT64_MAX : UINT32_MAX;
}

size_t as_esp_keymat_len(const struct as_alg *enc, const struct as_alg *integ)
{
	size_t n;

	if (!enc)
		return 0;
	n = (size_t)enc->key_len + enc->salt_len;
	if (esp_has_integ(integ))
		n += integ->ikey_len;
	return n;
}

/* Everything as_esp_sa_init checks about the pair before touching OpenSSL. */
static int esp_check_algs(const struct as_alg *enc, const struct as_alg *integ, int mode)
{
	if (enc->key_len == 0 || enc->key_len > sizeof(((struct as_esp_sa *)0)->key) ||
	    enc->salt_len > sizeof(((struct as_esp_sa *)0)->salt) || enc->iv_len > ESP_MAX_IV)
		return AS_E_INVAL;
	switch (mode) {
	case ESP_MODE_GCM:
	case ESP_MODE_CHACHA:
		if (!enc->aead || enc->salt_len != ESP_SALT_LEN ||
		    enc->iv_len != ESP_CTR_IV_LEN || enc->icv_len == 0 || enc->icv_len > 16)
			return AS_E_INVAL;
		/* An AEAD transform takes no separate integrity transform. */
		if (esp_has_integ(integ))
			return AS_E_INVAL;
		return AS_OK;
	case ESP_MODE_CTR:
		if (enc->aead || enc->salt_len != ESP_SALT_LEN || enc->iv_len != ESP_CTR_IV_LEN)
			return AS_E_INVAL;
		break;
	case ESP_MODE_CBC:
		if (enc->aead || enc->salt_len != 0 || enc->iv_len == 0)
			return AS_E_INVAL;
		break;
	default:
		return AS_E_ALG_UNKNOWN;
	}
	/*
	 * Encryption without integrity (integ NULL or AUTH_NONE) is accepted
	 * here so that the RFC 3602/3686 vectors can be run; the policy layer
	 * never proposes or accepts it.
	 */
	if (!esp_has_integ(integ))
		return AS_OK;
	if (integ->type != AS_XF_INTEG)
		return AS_E_INVAL;
	if (!esp_integ_is_hmac(integ->id))
		return AS_E_ALG_UNKNOWN;
	if (!integ->ossl || integ->ikey_len == 0 ||
	    integ->ikey_len > sizeof(((struct as_esp_sa *)0)->ikey) ||
	    integ->icv_len == 0 || integ->icv_len > ESP_MAX_ICV)
		return AS_E_INVAL;
	return AS_OK;
}

/* The fetched cipher must be the one the registry entry describes. */
static int esp_check_cipher(const struct as_alg *enc, int mode, const EVP_CIPHER *c)
{
	if ((size_t)EVP_CIPHER_get_key_length(c) != enc->key_len)
		return AS_E_INVAL;
	switch (mode) {
	case ESP_MODE_GCM:
	case ESP_MODE_CHACHA:
		if (!(EVP_CIPHER_get_flags(c) & EVP_CIPH_FLAG_AEAD_CIPHER) ||
		    EVP_CIPHER_get_iv_length(c) != ESP_AEAD_NONCE)
			return AS_E_INVAL;
		break;
	case ESP_MODE_CTR:
		if (EVP_CIPHER_get_mode(c) != EVP_CIPH_CTR_MODE ||
		    EVP_CIPHER_get_iv_length(c) != ESP_CTR_BLOCK)
			return AS_E_INVAL;
		break;
	case ESP_MODE_CBC:
		if (EVP_CIPHER_get_mode(c) != EVP_CIPH_CBC_MODE ||
		    (size_t)EVP_CIPHER_get_iv_length(c) != enc->iv_len ||
		    (size_t)EVP_CIPHER_get_block_size(c) != enc->block)
			return AS_E_INVAL;
		break;
	default:
		return AS_E_ALG_UNKNOWN;
	}
	return AS_OK;
}

static int esp_mac_init(struct as_esp_sa *sa)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac;
	int rc = AS_OK;

	mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	if (!mac)
		return AS_E_CRYPTO;
	sa->mctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context keeps its own reference */
	if (!sa->mctx)
		return AS_E_NOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)sa->integ->ossl, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(sa->mctx, sa->ikey, sa->integ->ikey_len, params) != 1)
		rc = AS_E_ALG_UNKNOWN; /* OpenSSL does not know the digest */
	else if (EVP_MAC_CTX_get_mac_size(sa->mctx) < sa->integ->icv_len)
		rc = AS_E_INVAL;
	return rc;
}

int as_esp_sa_init(struct as_esp_sa *sa, uint32_t spi, const struct as_alg *enc,
		   const struct as_alg *integ, const uint8_t *keymat, size_t keymat_len,
		   int esn)
{
	EVP_CIPHER *cipher = NULL;
	struct as_rbuf r;
	int mode, rc;

	if (!sa)
		return AS_E_INVAL;
	memset(sa, 0, sizeof(*sa));
	if (spi < 256)
		return AS_E_ESP_SPI; /* 1..255 reserved by IANA, 0 local (2.1) */
	if (!enc || enc->type != AS_XF_ENCR || !enc->ossl)
		return AS_E_INVAL;
	mode = esp_mode(enc);
	rc = esp_check_algs(enc, integ, mode);
	if (rc)
		return rc;
	if (!keymat || keymat_len != as_esp_keymat_len(enc, integ))
		return AS_E_INVAL;

	sa->spi = spi;
	sa->enc = enc;
	sa->integ = esp_has_integ(integ) ? integ : NULL;
	sa->esn = esn ? 1 : 0;

	/* KEYMAT for one direction (RFC 7296 2.17, RFC 4106 8.1, RFC 3686 5.1):
	 *   encryption key (key_len) | salt/nonce (salt_len) | integrity key (ikey_len) */
	as_rbuf_init(&r, keymat, keymat_len);
	if (as_rbuf_copy(&r, sa->key, enc->key_len) ||
	    as_rbuf_copy(&r, sa->salt, enc->salt_len) ||
	    (sa->integ && as_rbuf_copy(&r, sa->ikey, sa->integ->ikey_len)) ||
	    as_rbuf_done(&r)) {
		rc = AS_E_INVAL;
		goto out;
	}

	cipher = EVP_CIPHER_fetch(NULL, enc->ossl, NULL);
	if (!cipher) {
		rc = AS_E_ALG_UNKNOWN;
		goto out;
	}
	rc = esp_check_cipher(enc, mode, cipher);
	if (rc)
		goto out;
	sa->cctx = EVP_CIPHER_CTX_new();
	if (!sa->cctx) {
		rc = AS_E_NOMEM;
		goto out;
	}
	if (EVP_CipherInit_ex(sa->cctx, cipher, NULL, sa->key, NULL, 1) != 1) {
		rc = AS_E_CRYPTO;
		goto out;
	}
	if (mode == ESP_MODE_CBC)
		EVP_CIPHER_CTX_set_padding(sa->cctx, 0); /* ESP pads itself */
	if (sa->integ)
		rc = esp_mac_init(sa);
out:
	EVP_CIPHER_free(cipher); /* the context keeps its own reference */
	if (rc)
		as_esp_sa_clear(sa);
	return rc;
}

void as_esp_sa_clear(struct as_esp_sa *sa)
{
	if (!sa)
		return;
	EVP_CIPHER_CTX_free(sa->cctx);
	EVP_MAC_CTX_free(sa->mctx);
	OPENSSL_cleanse(sa, sizeof(*sa));
}

size_t as_esp_overhead(const struct as_esp_sa *sa, size_t plen)
{
	if (!sa || !sa->enc)
		return 0;
	return AS_ESP_HDR_LEN + sa->enc->iv_len + esp_padlen(sa, plen) + ESP_TRAILER +
	       esp_icv_len(sa);
}

static void esp_put_be32(uint8_t out[4], uint32_t v)
{
	struct as_wbuf w;

	as_wbuf_init(&w, out, 4);
	as_wbuf_u32(&w, v);
}

/*
 * Load the per-packet IV into the cipher context.  A NULL cipher and NULL
 * key keep the key schedule; the key is given again only when the context
 * changes direction, because CBC decryption needs a different schedule.
 */
static int esp_cipher_start(struct as_esp_sa *sa, int encrypt, const uint8_t *iv)
{
	uint8_t block[ESP_CTR_BLOCK];
	const uint8_t *key = NULL, *civ = block;
	struct as_wbuf w;
	int rc = AS_OK;

	as_wbuf_init(&w, block, sizeof(block));
	switch (esp_mode(sa->enc)) {
	case ESP_MODE_GCM:
	case ESP_MODE_CHACHA:
		/* RFC 4106 4 / RFC 7634 2: nonce = salt(4) || IV(8) */
		as_wbuf_put(&w, sa->salt, ESP_SALT_LEN);
		as_wbuf_put(&w, iv, ESP_CTR_IV_LEN);
		break;
	case ESP_MODE_CTR:
		/* RFC 3686 4: nonce(4) || IV(8) || block counter 1 (32 bits) */
		as_wbuf_put(&w, sa->salt, ESP_SALT_LEN);
		as_wbuf_put(&w, iv, ESP_CTR_IV_LEN);
		as_wbuf_u32(&w, 1);
		break;
	case ESP_MODE_CBC:
		civ = iv;
		break;
	default:
		return AS_E_INVAL;
	}
	if (as_wbuf_error(&w))
		return AS_E_CRYPTO;
	if (EVP_CIPHER_CTX_is_encrypting(sa->cctx) != encrypt)
		key = sa->key;
	if (EVP_CipherInit_ex(sa->cctx, NULL, NULL, key, civ, encrypt) != 1)
		rc = AS_E_CRYPTO;
	else if (key && esp_mode(sa->enc) == ESP_MODE_CBC)
		EVP_CIPHER_CTX_set_padding(sa->cctx, 0);
	OPENSSL_cleanse(block, sizeof(block));
	return rc;
}

/* RFC 4106 5 / RFC 7634 2.1: AAD = SPI || seq_lo, or SPI || seq_hi || seq_lo. */
static int esp_aead_aad(struct as_esp_sa *sa, uint64_t seq)
{
	uint8_t aad[12];
	struct as_wbuf w;
	int outl = 0;

	as_wbuf_init(&w, aad, sizeof(aad));
	as_wbuf_u32(&w, sa->spi);
	if (sa->esn)
		as_wbuf_u32(&w, (uint32_t)(seq >> 32));
	as_wbuf_u32(&w, (uint32_t)seq);
	if (as_wbuf_error(&w))
		return AS_E_CRYPTO;
	if (EVP_CipherUpdate(sa->cctx, NULL, &outl, aad, (int)as_wbuf_len(&w)) != 1)
		return AS_E_CRYPTO;
	return AS_OK;
}

/*
 * The HMAC ICV (RFC 4303 3.3.4, RFC 4868 2.3): over SPI .. end of the
 * ciphertext, with ESN followed by the high 32 bits of the sequence number
 * (2.2.1: authenticated, never sent), truncated to icv_len.
 */
static int esp_hmac_icv(struct as_esp_sa *sa, const uint8_t *data, size_t n, uint64_t seq,
			uint8_t *icv)
{
	uint8_t md[ESP_MAX_ICV], hi[4];
	size_t mdlen = 0;
	int rc = AS_E_CRYPTO;

	if (EVP_MAC_init(sa->mctx, NULL, 0, NULL) != 1 || EVP_MAC_update(sa->mctx, data, n) != 1)
		goto out;
	if (sa->esn) {
		esp_put_be32(hi, (uint32_t)(seq >> 32));
		if (EVP_MAC_update(sa->mctx, hi, sizeof(hi)) != 1)
			goto out;
	}
	if (EVP_MAC_final(sa->mctx, md, &mdlen, sizeof(md)) != 1 || mdlen < sa->integ->icv_len)
		goto out;
	memcpy(icv, md, sa->integ->icv_len);
	rc = AS_OK;
out:
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

/*
 * RFC 4303 2, the packet built here:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |               Security Parameters Index (SPI)                 |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                      Sequence Number (low 32 bits)            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    IV (iv_len bytes)                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ -+
 *  ~                    Payload Data (plen bytes)                  ~  |
 *  +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  | encrypted
 *  |               |     Padding 1, 2, 3, ... (0-255 bytes)        |  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  |
 *  |                               |  Pad Length   | Next Header   |  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ -+
 *  ~         Integrity Check Value (icv_len bytes)                 ~
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
int as_esp_encap(struct as_esp_sa *sa, const struct as_rng *rng, const uint8_t *iv,
		 uint8_t next_header, const uint8_t *payload, size_t plen,
		 struct as_wbuf *out)
{
	uint8_t ivbuf[ESP_MAX_IV], *pkt = NULL, *p, *ct, *icv;
	size_t start, total, body, padlen, icv_len, iv_len, authed;
	const struct as_alg *enc;
	struct as_wbuf w;
	uint64_t seq;
	int mode, outl = 0, fl = 0, rc;

	if (!sa || !sa->cctx || !out || (!payload && plen))
		return AS_E_INVAL;
	if (sa->seq >= esp_seq_max(sa))
		return AS_E_ESP_SEQ_EXHAUSTED; /* 3.3.3: never cycle; rekey */
	enc = sa->enc;
	mode = esp_mode(enc);
	iv_len = enc->iv_len;
	icv_len = esp_icv_len(sa);
	if (plen > (size_t)INT_MAX - 512)
		return AS_E_INVAL;
	padlen = esp_padlen(sa, plen);
	body = plen + padlen + ESP_TRAILER;
	authed = AS_ESP_HDR_LEN + iv_len + body;
	total = authed + icv_len;
	seq = sa->seq + 1;

	start = as_wbuf_len(out);
	rc = as_wbuf_reserve(out, total, &pkt);
	if (rc)
		return rc;
	as_wbuf_init(&w, pkt, total);
	as_wbuf_u32(&w, sa->spi);
	as_wbuf_u32(&w, (uint32_t)seq);
	if (iv) {
		as_wbuf_put(&w, iv, iv_len);
	} else if (mode == ESP_MODE_CBC) {
		/* RFC 3602 2.2: unpredictable */
		rc = as_rng_bytes(rng, ivbuf, iv_len);
		if (rc)
			goto out;
		as_wbuf_put(&w, ivbuf, iv_len);
	} else {
		/* Counter modes need uniqueness under the key only (RFC 4106 3.1,
		 * RFC 3686 3, RFC 7634 2): the sequence number never repeats. */
		as_wbuf_u64(&w, seq);
	}
	/* Payload may sit anywhere in the caller's memory, even overlap out. */
	if (as_wbuf_reserve(&w, plen, &p) == AS_OK && plen)
		memmove(p, payload, plen);
	for (size_t i = 1; i <= padlen; i++)
		as_wbuf_u8(&w, (uint8_t)i); /* 2.4: 1, 2, 3, ... */
	as_wbuf_u8(&w, (uint8_t)padlen);
	as_wbuf_u8(&w, next_header);
	if (as_wbuf_error(&w) || as_wbuf_range(&w, AS_ESP_HDR_LEN, iv_len, &p) ||
	    as_wbuf_range(&w, AS_ESP_HDR_LEN + iv_len, body, &ct) ||
	    as_wbuf_reserve(&w, icv_len, &icv)) {
		rc = AS_E_NOSPACE;
		goto out;
	}

	rc = esp_cipher_start(sa, 1, p);
	if (!rc && enc->aead)
		rc = esp_aead_aad(sa, seq);
	if (rc)
		goto out;
	rc = AS_E_CRYPTO;
	if (EVP_CipherUpdate(sa->cctx, ct, &outl, ct, (int)body) != 1 || (size_t)outl > body ||
	    EVP_CipherFinal_ex(sa->cctx, ct + outl, &fl) != 1 || (size_t)outl + fl != body)
		goto out;
	if (enc->aead) {
		if (EVP_CIPHER_CTX_ctrl(sa->cctx, EVP_CTRL_AEAD_GET_TAG, (int)icv_len, icv) != 1)
			goto out;
	} else if (sa->integ) {
		if (esp_hmac_icv(sa, pkt, authed, seq, icv))
			goto out;
	}
	sa->seq = seq;
	rc = AS_OK;
out:
	OPENSSL_cleanse(ivbuf, sizeof(ivbuf));
	if (rc) {
		/* Never leave a half-made packet (or the plaintext) behind. */
		OPENSSL_cleanse(pkt, total);
		as_wbuf_truncate(out, start);
	}
	return rc;
}

/*
 * RFC 4303 Appendix A2.1: the high 32 bits of an ESN are not sent; infer
 * them from the window so that the packet lands inside or just right of it.
 * W is the window, T the highest sequence number accepted so far.
 */
static int esp_infer_seq(const struct as_esp_sa *sa, uint32_t lo, uint64_t *seq)
{
	const uint32_t w = AS_ESP_REPLAY_WINDOW;
	uint32_t tl = (uint32_t)sa->replay.top, th = (uint32_t)(sa->replay.top >> 32), hi;

	if (!sa->esn) {
		*seq = lo;
		return AS_OK;
	}
	if (tl >= w - 1) {
		/* Case A: the window lies within one 2^32 block. */
		if (lo >= tl - (w - 1)) {
			hi = th;
		} else {
			if (th == UINT32_MAX)
				return AS_E_ESP_REPLAY; /* past 2^64: cannot be valid */
			hi = th + 1;
		}
	} else {
		/* Case B: the window straddles a 2^32 boundary. */
		if (lo >= (uint32_t)(tl - (w - 1))) {
			if (th == 0)
				return AS_E_ESP_REPLAY; /* before sequence number 0 */
			hi = th - 1;
		} else {
			hi = th;
		}
	}
	*seq = (uint64_t)hi << 32 | lo;
	return AS_OK;
}

int as_esp_peek_spi(const uint8_t *pkt, size_t len, uint32_t *spi)
{
	struct as_rbuf r;
	uint32_t v;

	as_rbuf_init(&r, pkt, len);
	if (as_rbuf_u32(&r, &v))
		return AS_E_TRUNCATED;
	if (spi)
		*spi = v;
	return v < 256 ? AS_E_ESP_SPI : AS_OK;
}

/* After decryption: [payload | 1, 2, .., padlen | padlen | next header]. */
static int esp_trailer(const uint8_t *pt, size_t n, size_t *plen, uint8_t *nh)
{
	struct as_rbuf t;
	uint8_t padlen, b;

	as_rbuf_init(&t, pt, n);
	if (n < ESP_TRAILER || as_rbuf_seek(&t, n - ESP_TRAILER) || as_rbuf_u8(&t, &padlen) ||
	    as_rbuf_u8(&t, nh))
		return AS_E_ESP_PAD;
	if (padlen > n - ESP_TRAILER)
		return AS_E_ESP_PAD; /* pad length longer than what was sent */
	*plen = n - ESP_TRAILER - padlen;
	if (as_rbuf_seek(&t, *plen))
		return AS_E_ESP_PAD;
	for (unsigned i = 1; i <= padlen; i++) {
		if (as_rbuf_u8(&t, &b) || b != i)
			return AS_E_ESP_PAD; /* 2.4: receivers check the default padding */
	}
	return AS_OK;
}

int as_esp_decap(struct as_esp_sa *sa, const uint8_t *pkt, size_t len,
		 uint8_t *next_header, struct as_wbuf *out)
{
	const uint8_t *iv, *ct, *icv, *authed;
	uint8_t mac[ESP_MAX_ICV], *pt = NULL, nh = 0;
	size_t icv_len, ct_len, hdr_len, start = 0, plen = 0;
	const struct as_alg *enc;
	uint32_t spi, seq_lo;
	struct as_rbuf r;
	uint64_t seq;
	int outl = 0, fl = 0, rc;

	if (!sa || !sa->cctx || !out || (!pkt && len))
		return AS_E_INVAL;
	enc = sa->enc;
	icv_len = esp_icv_len(sa);
	hdr_len = AS_ESP_HDR_LEN + enc->iv_len;

	/* SPI(4) | Seq(4) | IV(iv_len) | ciphertext(>= 2) | ICV(icv_len), see above */
	as_rbuf_init(&r, pkt, len);
	if (as_rbuf_u32(&r, &spi) || as_rbuf_u32(&r, &seq_lo))
		return AS_E_TRUNCATED;
	if (spi != sa->spi)
		return AS_E_ESP_SPI;
	if (as_rbuf_ptr(&r, &iv, enc->iv_len) || as_rbuf_left(&r) < ESP_TRAILER + icv_len)
		return AS_E_TRUNCATED;
	ct_len = as_rbuf_left(&r) - icv_len;
	if (as_rbuf_ptr(&r, &ct, ct_len) || as_rbuf_ptr(&r, &icv, icv_len) || as_rbuf_done(&r) ||
	    as_rbuf_range(&r, 0, hdr_len + ct_len, &authed))
		return AS_E_TRUNCATED;
	if (ct_len > INT_MAX)
		return AS_E_INVAL;

	/* The window first: it is cheap and drops replays before any crypto
	 * (3.4.3), but it moves only once the ICV has verified. */
	rc = esp_infer_seq(sa, seq_lo, &seq);
	if (rc)
		return rc;
	rc = as_replay_check(&sa->replay, seq);
	if (rc)
		return rc;

	start = as_wbuf_len(out);
	rc = as_wbuf_reserve(out, ct_len, &pt);
	if (rc)
		return rc;

	if (!enc->aead && sa->integ) {
		/* Encrypt-then-MAC: verify before decrypting anything (3.4.4.1). */
		rc = esp_hmac_icv(sa, authed, hdr_len + ct_len, seq, mac);
		if (rc)
			goto out;
		if (CRYPTO_memcmp(mac, icv, icv_len) != 0) {
			rc = AS_E_ESP_ICV;
			goto out;
		}
	}
	/* 2.4: the trailer ends on a 4-byte boundary and CBC needs whole blocks;
	 * for AEAD this is checked after the tag, see below. */
	if (!enc->aead && ct_len % esp_align(sa)) {
		rc = AS_E_ESP_PAD;
		goto out;
	}

	rc = esp_cipher_start(sa, 0, iv);
	if (!rc && enc->aead) {
		rc = esp_aead_aad(sa, seq);
		if (!rc && EVP_CIPHER_CTX_ctrl(sa->cctx, EVP_CTRL_AEAD_SET_TAG, (int)icv_len,
					       (void *)icv) != 1)
			rc = AS_E_CRYPTO;
	}
	if (rc)
		goto out;
	if (EVP_CipherUpdate(sa->cctx, pt, &outl, ct, (int)ct_len) != 1 || (size_t)outl > ct_len) {
		rc = AS_E_CRYPTO;
		goto out;
	}
	if (EVP_CipherFinal_ex(sa->cctx, pt + outl, &fl) != 1) {
		rc = enc->aead ? AS_E_ESP_ICV : AS_E_CRYPTO;
		goto out;
	}
	if ((size_t)outl + fl != ct_len) {
		rc = AS_E_CRYPTO;
		goto out;
	}

	/* Authentic: the sequence number is used up even if what follows is bad. */
	as_replay_update(&sa->replay, seq);

	if (ct_len % esp_align(sa)) {
		rc = AS_E_ESP_PAD;
		goto out;
	}
	rc = esp_trailer(pt, ct_len, &plen, &nh);
	if (rc)
		goto out;
	as_wbuf_truncate(out, start + plen);
	if (next_header)
		*next_header = nh; /* 59 = dummy packet (2.6): the caller drops it */
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	if (rc && pt) {
		OPENSSL_cleanse(pt, ct_len);
		as_wbuf_truncate(out, start);
	}
	return rc;
}

/*
 * The anti-replay window (RFC 4303 3.4.3): top is the highest sequence
 * number accepted, bit (s mod W) of bits says whether s in (top - W, top]
 * was received.  Sequence number 0 is never sent (3.3.3).
 */
#define RW ((uint64_t)AS_ESP_REPLAY_WINDOW)

static int replay_bit(const struct as_replay *r, uint64_t s)
{
	return (int)(r->bits[(s % RW) / 64] >> (s % 64) & 1);
}

static void replay_set(struct as_replay *r, uint64_t s, int on)
{
	uint64_t m = (uint64_t)1 << (s % 64);

	if (on)
		r->bits[(s % RW) / 64] |= m;
	else
		r->bits[(s % RW) / 64] &= ~m;
}

int as_replay_check(const struct as_replay *r, uint64_t seq)
{
	if (!r || seq == 0)
		return AS_E_ESP_REPLAY;
	if (seq > r->top)
		return AS_OK;
	if (r->top - seq >= RW)
		return AS_E_ESP_REPLAY; /* left of the window */
	return replay_bit(r, seq) ? AS_E_ESP_REPLAY : AS_OK;
}

void as_replay_update(struct as_replay *r, uint64_t seq)
{
	if (!r || seq == 0)
		return;
	if (seq > r->top) {
		if (seq - r->top >= RW) {
			memset(r->bits, 0, sizeof(r->bits));
		} else {
			/* Slots that now stand for new, unseen numbers. */
			for (uint64_t s = r->top + 1; s != seq; s++)
				replay_set(r, s, 0);
		}
		r->top = seq;
	} else if (r->top - seq >= RW) {
		return; /* would clobber the slot of a number inside the window */
	}
	replay_set(r, seq, 1);
}
