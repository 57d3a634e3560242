/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ESP (RFC 4303): published vectors first (RFC 3602 ESP cases 5-8, RFC 3686,
 * RFC 7634 Appendix A, RFC 4868 AUTH cases, draft-mcgrew-gcm-test-01 ESP
 * packets), then independent cross-checks with OpenSSL used directly, round
 * trips over every transform, the anti-replay window, and every malformed
 * input class with its specific error code.
 *
 * The transforms are test-local struct as_alg objects with the field values
 * the registry (helper/alg.c) uses, so these tests do not depend on it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/esp.h"
#include "autosec/rng.h"
#include "testutil.h"

/* ---- transforms ---- */

#define ENCR(nm, ident, bits, kl, sl, ivl, blk, icv, ae, on)                          \
	{ .type = AS_XF_ENCR, .id = (ident), .key_bits = (bits), .name = (nm),         \
	  .status = AS_ALG_OK, .aead = (ae), .key_len = (kl), .salt_len = (sl),        \
	  .iv_len = (ivl), .block = (blk), .icv_len = (icv), .ossl = (on) }
#define INTEG(nm, ident, ikl, icv, on)                                                 \
	{ .type = AS_XF_INTEG, .id = (ident), .name = (nm), .status = AS_ALG_OK,      \
	  .icv_len = (icv), .ikey_len = (ikl), .ossl = (on) }

static const struct as_alg gcm128 =
	ENCR("ENCR_AES_GCM_16-128", AS_ENCR_AES_GCM_16, 128, 16, 4, 8, 4, 16, 1, "AES-128-GCM");
static const struct as_alg gcm256 =
	ENCR("ENCR_AES_GCM_16-256", AS_ENCR_AES_GCM_16, 256, 32, 4, 8, 4, 16, 1, "AES-256-GCM");
static const struct as_alg chacha = ENCR("ENCR_CHACHA20_POLY1305-256",
	AS_ENCR_CHACHA20_POLY1305, 256, 32, 4, 8, 4, 16, 1, "ChaCha20-Poly1305");
static const struct as_alg cbc128 =
	ENCR("ENCR_AES_CBC-128", AS_ENCR_AES_CBC, 128, 16, 0, 16, 16, 0, 0, "AES-128-CBC");
static const struct as_alg cbc192 =
	ENCR("ENCR_AES_CBC-192", AS_ENCR_AES_CBC, 192, 24, 0, 16, 16, 0, 0, "AES-192-CBC");
static const struct as_alg cbc256 =
	ENCR("ENCR_AES_CBC-256", AS_ENCR_AES_CBC, 256, 32, 0, 16, 16, 0, 0, "AES-256-CBC");
static const struct as_alg ctr128 =
	ENCR("ENCR_AES_CTR-128", AS_ENCR_AES_CTR, 128, 16, 4, 8, 4, 0, 0, "AES-128-CTR");
static const struct as_alg ctr192 =
	ENCR("ENCR_AES_CTR-192", AS_ENCR_AES_CTR, 192, 24, 4, 8, 4, 0, 0, "AES-192-CTR");
static const struct as_alg ctr256 =
	ENCR("ENCR_AES_CTR-256", AS_ENCR_AES_CTR, 256, 32, 4, 8, 4, 0, 0, "AES-256-CTR");

static const struct as_alg sha256 =
	INTEG("AUTH_HMAC_SHA2_256_128", AS_AUTH_HMAC_SHA2_256_128, 32, 16, "SHA256");
static const struct as_alg sha384 =
	INTEG("AUTH_HMAC_SHA2_384_192", AS_AUTH_HMAC_SHA2_384_192, 48, 24, "SHA384");
static const struct as_alg sha512 =
	INTEG("AUTH_HMAC_SHA2_512_256", AS_AUTH_HMAC_SHA2_512_256, 64, 32, "SHA512");
/* Encryption-only, for the RFC 3602/3686 vectors: the policy layer refuses it. */
static const struct as_alg none = INTEG("NONE", AS_AUTH_NONE, 0, 0, NULL);

static const struct as_alg *const aeads[] = { &gcm128, &gcm256, &chacha };
static const struct as_alg *const plains[] = { &cbc128, &cbc192, &cbc256,
					       &ctr128, &ctr192, &ctr256 };
static const struct as_alg *const hmacs[] = { &sha256, &sha384, &sha512 };

#define SPI 0x0badcafeu

/* ---- helpers ---- */

static uint8_t *hx(const char *s, size_t *n)
{
	size_t dummy;

	return tu_hex(s, n ? n : &dummy);
}

static void fill(uint8_t *p, size_t n, uint8_t start)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i * 7);
}

/* An SA with KEYMAT bytes derived from tag (so sender and receiver agree). */
static void sa_make(struct as_esp_sa *sa, const struct as_alg *enc, const struct as_alg *integ,
		    int esn, uint8_t tag)
{
	uint8_t km[128];
	size_t n = as_esp_keymat_len(enc, integ);

	ck_assert_uint_le(n, sizeof(km));
	fill(km, n, tag);
	ck_assert_int_eq(as_esp_sa_init(sa, SPI, enc, integ, km, n, esn), AS_OK);
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Encap payload on tx into buf; returns the packet length. */
static size_t enc1(struct as_esp_sa *tx, const uint8_t *pl, size_t n, uint8_t *buf, size_t cap)
{
	struct as_wbuf w;

	as_wbuf_init(&w, buf, cap);
	ck_assert_int_eq(as_esp_encap(tx, NULL, NULL, 4, pl, n, &w), AS_OK);
	return as_wbuf_len(&w);
}

static int dec1(struct as_esp_sa *rx, const uint8_t *pkt, size_t len, uint8_t *out,
		size_t cap, size_t *outlen, uint8_t *nh)
{
	struct as_wbuf w;
	int rc;

	as_wbuf_init(&w, out, cap);
	rc = as_esp_decap(rx, pkt, len, nh, &w);
	if (outlen)
		*outlen = as_wbuf_len(&w);
	return rc;
}

/* HMAC over data (|| be32(hi) if esn), for cross-checking ICVs independently. */
static void ref_hmac(const char *md, const uint8_t *key, size_t klen, const uint8_t *data,
		     size_t n, int esn, uint32_t hi, uint8_t *out)
{
	uint8_t *buf = malloc(n + 4);
	size_t olen = 0;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, data, n);
	if (esn)
		be32(buf + n, hi);
	ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, key, klen, buf,
					n + (esn ? 4 : 0), out, 64, &olen));
	free(buf);
}

/* One-shot AEAD seal with OpenSSL directly: ct gets n bytes + 16 tag. */
static void ref_aead(const char *cipher, const uint8_t *key, const uint8_t nonce[12],
		     const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t n, uint8_t *ct)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, cipher, NULL);
	int l = 0, f = 0;

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(ci);
	ck_assert_int_eq(EVP_EncryptInit_ex(c, ci, NULL, key, nonce), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(c, NULL, &l, aad, (int)aadlen), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(c, ct, &l, pt, (int)n), 1);
	ck_assert_int_eq(EVP_EncryptFinal_ex(c, ct + l, &f), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, ct + n), 1);
	EVP_CIPHER_free(ci);
	EVP_CIPHER_CTX_free(c);
}

/* ======================= published vectors ======================= */

/*
 * RFC 3602 section 4, cases 5-8: AES-CBC-128 ESP packets without
 * authentication.  The ESP packet is SPI | seq | IV | ciphertext.
 */
struct cbc_vec {
	const char *key, *iv, *payload, *packet;
	uint32_t spi, seq;
	uint8_t nh;
};

static const struct cbc_vec rfc3602[] = {
	{ /* Case #5: 64 bytes of ICMP, transport mode */
	  "90d382b410eeba7ad938c46cec1a82bf", "e96e8c08ab465763fd098d45dd3ff893",
	  "08000ebda70a00008e9c083db95b0700 08090a0b0c0d0e0f1011121314151617"
	  "18191a1b1c1d1e1f2021222324252627 28292a2b2c2d2e2f3031323334353637",
	  "00004321 00000001 e96e8c08ab465763fd098d45dd3ff893"
	  "f663c25d325c18c6a9453e194e120849 a4870b66cc6b9965330013b4898dc856"
	  "a4699e523a55db080b59ec3a8e4b7e52 775b07d1db34ed9c538ab50c551b874a"
	  "a269add047ad2d5913ac19b7cfbad4a6",
	  0x4321, 1, 1 },
	{ /* Case #6: 28 bytes of ICMP, transport mode */
	  "90d382b410eeba7ad938c46cec1a82bf", "69d08df7d203329db093fc4924e5bd80",
	  "0800b5e8a80a0500a69c083d0b660e00 777777777777777777777777",
	  "00004321 00000008 69d08df7d203329db093fc4924e5bd80"
	  "f51995881ec4e0c4488987ce742e8109 689bb379d2d750c0d915dca346a89f75",
	  0x4321, 8, 1 },
	{ /* Case #7: 84-byte IP packet, tunnel mode */
	  "0123456789abcdef0123456789abcdef", "f4e765244f6407adf13dc1380f673f37",
	  "45000054090400004001f988c0a87b03 c0a87bc808009f76a90a0100b49c083d"
	  "02a2040008090a0b0c0d0e0f10111213 1415161718191a1b1c1d1e1f20212223"
	  "2425262728292a2b2c2d2e2f30313233 34353637",
	  "00008765 00000002 f4e765244f6407adf13dc1380f673f37"
	  "773b5241a4c449225e4f3ce5ed611b0c 237ca96cf74a93013c1b0ea1a0cf70f8"
	  "e4ecaec78ac53aad7a0f022b859243c6 47752e94a859352b8a4d4d2decd136e5"
	  "c177f132ad3fbfb2201ac9904c74ee0a 109e0ca1e4dfe9d5a100b842f1c22f0d",
	  0x8765, 2, 4 },
	{ /* Case #8: 68-byte IP packet, tunnel mode */
	  "0123456789abcdef0123456789abcdef", "85d47224b5f3dd5d2101d4ea8dffab22",
	  "45000044090c00004001f990c0a87b03 c0a87bc80800d63caa0a0200c69c083d"
	  "a3de0300ffffffffffffffffffffffff ffffffffffffffffffffffffffffffff"
	  "ffffffff",
	  "00008765 00000005 85d47224b5f3dd5d2101d4ea8dffab22"
	  "15b92683819596a8047232cc00f7048f e45318e11f8a0f62ede3c3fc61203bb5"
	  "0f980a08c9843fd3a1b06d5c07ff9639 b7eb7dfb3512e5de435e7207ed971ef3"
	  "d2726d9b5ef6affc6d17a0decbb13892",
	  0x8765, 5, 4 },
};

START_TEST(test_rfc3602_cbc_esp)
{
	const struct cbc_vec *v = &rfc3602[_i];
	size_t klen, ivlen, plen, pktlen, outlen;
	uint8_t *key = hx(v->key, &klen), *iv = hx(v->iv, &ivlen);
	uint8_t *pl = hx(v->payload, &plen), *pkt = hx(v->packet, &pktlen);
	uint8_t buf[256], nh = 0;
	struct as_esp_sa tx, rx;
	struct as_wbuf w;

	ck_assert_uint_eq(klen, 16);
	ck_assert_int_eq(as_esp_sa_init(&tx, v->spi, &cbc128, &none, key, klen, 0), AS_OK);
	ck_assert_int_eq(as_esp_sa_init(&rx, v->spi, &cbc128, NULL, key, klen, 0), AS_OK);
	tx.seq = v->seq - 1;
	as_wbuf_init(&w, buf, sizeof(buf));
	ck_assert_int_eq(as_esp_encap(&tx, NULL, iv, v->nh, pl, plen, &w), AS_OK);
	ck_assert_uint_eq(as_wbuf_len(&w), pktlen);
	ck_assert_mem_eq(buf, pkt, pktlen);
	ck_assert_uint_eq(tx.seq, v->seq);
	ck_assert_uint_eq(as_esp_overhead(&tx, plen) + plen, pktlen);

	ck_assert_int_eq(dec1(&rx, pkt, pktlen, buf, sizeof(buf), &outlen, &nh), AS_OK);
	ck_assert_uint_eq(outlen, plen);
	ck_assert_mem_eq(buf, pl, plen);
	ck_assert_uint_eq(nh, v->nh);
	ck_assert_uint_eq(rx.replay.top, v->seq);
	/* The same packet again is a replay. */
	ck_assert_int_eq(dec1(&rx, pkt, pktlen, buf, sizeof(buf), NULL, &nh), AS_E_ESP_REPLAY);
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
	free(key);
	free(iv);
	free(pl);
	free(pkt);
}
END_TEST

/*
 * RFC 3686 section 6: AES-CTR with the RFC's key, nonce and IV.  ESP
 * encrypts payload || padding || trailer with one keystream, so the first
 * bytes of the ESP ciphertext are the vector's ciphertext.
 */
struct ctr_vec {
	const char *key, *iv, *nonce, *pt, *ct;
};

static const struct ctr_vec rfc3686[] = {
	{ /* #1, 128-bit key */
	  "AE 68 52 F8 12 10 67 CC 4B F7 A5 76 55 77 F3 9E", "00 00 00 00 00 00 00 00",
	  "00 00 00 30", "53 69 6E 67 6C 65 20 62 6C 6F 63 6B 20 6D 73 67",
	  "E4 09 5D 4F B7 A7 B3 79 2D 61 75 A3 26 13 11 B8" },
	{ /* #2, 128-bit key */
	  "7E 24 06 78 17 FA E0 D7 43 D6 CE 1F 32 53 91 63", "C0 54 3B 59 DA 48 D9 0B",
	  "00 6C B6 DB",
	  "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"
	  "10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F",
	  "51 04 A1 06 16 8A 72 D9 79 0D 41 EE 8E DA D3 88"
	  "EB 2E 1E FC 46 DA 57 C8 FC E6 30 DF 91 41 BE 28" },
	{ /* #3, 128-bit key */
	  "76 91 BE 03 5E 50 20 A8 AC 6E 61 85 29 F9 A0 DC", "27 77 7F 3F 4A 17 86 F0",
	  "00 E0 01 7B",
	  "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"
	  "10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 20 21 22 23",
	  "C1 CF 48 A8 9F 2F FD D9 CF 46 52 E9 EF DB 72 D7"
	  "45 40 A4 2B DE 6D 78 36 D5 9A 5C EA AE F3 10 53 25 B2 07 2F" },
	{ /* #4, 192-bit key */
	  "16 AF 5B 14 5F C9 F5 79 C1 75 F9 3E 3B FB 0E ED 86 3D 06 CC FD B7 85 15",
	  "36 73 3C 14 7D 6D 93 CB", "00 00 00 48",
	  "53 69 6E 67 6C 65 20 62 6C 6F 63 6B 20 6D 73 67",
	  "4B 55 38 4F E2 59 C9 C8 4E 79 35 A0 03 CB E9 28" },
	{ /* #5, 192-bit key */
	  "7C 5C B2 40 1B 3D C3 3C 19 E7 34 08 19 E0 F6 9C 67 8C 3D B8 E6 F6 A9 1A",
	  "02 0C 6E AD C2 CB 50 0D", "00 96 B0 3B",
	  "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"
	  "10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F",
	  "45 32 43 FC 60 9B 23 32 7E DF AA FA 71 31 CD 9F"
	  "84 90 70 1C 5A D4 A7 9C FC 1F E0 FF 42 F4 FB 00" },
	{ /* #6, 192-bit key */
	  "02 BF 39 1E E8 EC B1 59 B9 59 61 7B 09 65 27 9B F5 9B 60 A7 86 D3 E0 FE",
	  "5C BD 60 27 8D CC 09 12", "00 07 BD FD",
	  "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"
	  "10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 20 21 22 23",
	  "96 89 3F C5 5E 5C 72 2F 54 0B 7D D1 DD F7 E7 58"
	  "D2 88 BC 95 C6 91 65 88 45 36 C8 11 66 2F 21 88 AB EE 09 35" },
	{ /* #7, 256-bit key */
	  "77 6B EF F2 85 1D B0 6F 4C 8A 05 42 C8 69 6F 6C"
	  "6A 81 AF 1E EC 96 B4 D3 7F C1 D6 89 E6 C1 C1 04",
	  "DB 56 72 C9 7A A8 F0 B2", "00 00 00 60",
	  "53 69 6E 67 6C 65 20 62 6C 6F 63 6B 20 6D 73 67",
	  "14 5A D0 1D BF 82 4E C7 56 08 63 DC 71 E3 E0 C0" },
	{ /* #8, 256-bit key */
	  "F6 D6 6D 6B D5 2D 59 BB 07 96 36 58 79 EF F8 86"
	  "C6 6D D5 1A 5B 6A 99 74 4B 50 59 0C 87 A2 38 84",
	  "C1 58 5E F1 5A 43 D8 75", "00 FA AC 24",
	  "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"
	  "10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F",
	  "F0 5E 23 1B 38 94 61 2C 49 EE 00 0B 80 4E B2 A9"
	  "B8 30 6B 50 8F 83 9D 6A 55 30 83 1D 93 44 AF 1C" },
	{ /* #9, 256-bit key */
	  "FF 7A 61 7C E6 91 48 E4 F1 72 6E 2F 43 58 1D E2"
	  "AA 62 D9 F8 05 53 2E DF F1 EE D6 87 FB 54 15 3D",
	  "51 A5 1D 70 A1 C1 11 48", "00 1C C5 B7",
	  "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"
	  "10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 20 21 22 23",
	  "EB 6C 52 82 1D 0B BB F7 CE 75 94 46 2A CA 4F AA"
	  "B4 07 DF 86 65 69 FD 07 F4 8C C0 B5 83 D6 07 1F 1E C0 E6 B8" },
};

START_TEST(test_rfc3686_ctr)
{
	const struct ctr_vec *v = &rfc3686[_i];
	size_t klen, ivlen, nlen, ptlen, ctlen, len, outlen;
	uint8_t *key = hx(v->key, &klen), *iv = hx(v->iv, &ivlen), *nonce = hx(v->nonce, &nlen);
	uint8_t *pt = hx(v->pt, &ptlen), *ct = hx(v->ct, &ctlen);
	const struct as_alg *enc = klen == 16 ? &ctr128 : klen == 24 ? &ctr192 : &ctr256;
	uint8_t km[36], buf[128], out[128], nh = 0;
	struct as_esp_sa tx, rx;
	struct as_wbuf w;

	ck_assert_uint_eq(ivlen, 8);
	ck_assert_uint_eq(nlen, 4);
	ck_assert_uint_eq(ptlen, ctlen);
	ck_assert_uint_eq(as_esp_keymat_len(enc, &none), klen + 4);
	memcpy(km, key, klen); /* KEYMAT = key || nonce (RFC 3686 5.1) */
	memcpy(km + klen, nonce, 4);
	ck_assert_int_eq(as_esp_sa_init(&tx, SPI, enc, &none, km, klen + 4, 0), AS_OK);
	ck_assert_int_eq(as_esp_sa_init(&rx, SPI, enc, &none, km, klen + 4, 0), AS_OK);

	as_wbuf_init(&w, buf, sizeof(buf));
	ck_assert_int_eq(as_esp_encap(&tx, NULL, iv, 41, pt, ptlen, &w), AS_OK);
	len = as_wbuf_len(&w);
	ck_assert_uint_eq(len, AS_ESP_HDR_LEN + 8 + ptlen + (4 - (ptlen + 2) % 4) % 4 + 2);
	ck_assert_mem_eq(buf + AS_ESP_HDR_LEN, iv, 8);
	ck_assert_mem_eq(buf + AS_ESP_HDR_LEN + 8, ct, ctlen);

	ck_assert_int_eq(dec1(&rx, buf, len, out, sizeof(out), &outlen, &nh), AS_OK);
	ck_assert_uint_eq(outlen, ptlen);
	ck_assert_mem_eq(out, pt, ptlen);
	ck_assert_uint_eq(nh, 41);
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
	free(key);
	free(iv);
	free(nonce);
	free(pt);
	free(ct);
}
END_TEST

/*
 * RFC 7634 Appendix A: the ESP example, ChaCha20-Poly1305 in tunnel mode
 * (next header 4), SPI 0x01020304, sequence number 5, IV 10..17.
 */
static const char rfc7634_keymat[] =
	"80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f"
	"90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f a0 a1 a2 a3";
static const char rfc7634_payload[] =
	"45 00 00 54 a6 f2 00 00 40 01 e7 78 c6 33 64 05 c0 00 02 05 08 00 5b 7a"
	"3a 08 00 00 55 3b ec 10 00 07 36 27 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13"
	"14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b"
	"2c 2d 2e 2f 30 31 32 33 34 35 36 37";
static const char rfc7634_packet[] =
	"01 02 03 04 00 00 00 05"
	"10 11 12 13 14 15 16 17 24 03 94 28 b9 7f 41 7e 3c 13 75 3a"
	"4f 05 08 7b 67 c3 52 e6 a7 fa b1 b9 82 d4 66 ef 40 7a e5 c6"
	"14 ee 80 99 d5 28 44 eb 61 aa 95 df ab 4c 02 f7 2a a7 1e 7c"
	"4c 4f 64 c9 be fe 2f ac c6 38 e8 f3 cb ec 16 3f ac 46 9b 50"
	"27 73 f6 fb 94 e6 64 da 91 65 b8 28 29 f6 41 e0 76 aa a8 26"
	"6b 7f b0 f7 b1 1b 36 99 07 e1 ad 43";

START_TEST(test_rfc7634_chacha_esp)
{
	size_t kmlen, plen, pktlen, outlen;
	uint8_t *km = hx(rfc7634_keymat, &kmlen), *pl = hx(rfc7634_payload, &plen);
	uint8_t *pkt = hx(rfc7634_packet, &pktlen), *iv = hx("1011121314151617", NULL);
	uint8_t buf[256], nh = 0;
	struct as_esp_sa tx, rx;
	struct as_wbuf w;

	ck_assert_uint_eq(kmlen, as_esp_keymat_len(&chacha, NULL));
	ck_assert_int_eq(as_esp_sa_init(&tx, 0x01020304, &chacha, NULL, km, kmlen, 0), AS_OK);
	ck_assert_int_eq(as_esp_sa_init(&rx, 0x01020304, &chacha, &none, km, kmlen, 0), AS_OK);
	tx.seq = 4;
	as_wbuf_init(&w, buf, sizeof(buf));
	ck_assert_int_eq(as_esp_encap(&tx, NULL, iv, 4, pl, plen, &w), AS_OK);
	ck_assert_uint_eq(as_wbuf_len(&w), pktlen);
	ck_assert_mem_eq(buf, pkt, pktlen);

	ck_assert_int_eq(dec1(&rx, pkt, pktlen, buf, sizeof(buf), &outlen, &nh), AS_OK);
	ck_assert_uint_eq(outlen, plen);
	ck_assert_mem_eq(buf, pl, plen);
	ck_assert_uint_eq(nh, 4);
	ck_assert_uint_eq(rx.replay.top, 5);
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
	free(km);
	free(pl);
	free(pkt);
	free(iv);
}
END_TEST

/*
 * draft-mcgrew-gcm-test-01 section 4: ESP packets for RFC 4106 (key,
 * salt, SPI/sequence number as AAD, IV, plaintext, ciphertext and tag).
 * The draft's plaintexts include the ESP trailer; the payload here is what
 * precedes padding || pad length || next header, and encap must produce the
 * same trailer (so the padding rule is checked too).
 */
struct gcm_vec {
	const struct as_alg *enc;
	const char *keymat, *iv, *payload, *ct; /* ct = ciphertext || 16-byte tag */
	uint32_t spi;
	uint64_t seq;
	int esn;
	uint8_t nh;
};

static const struct gcm_vec gcm_draft[] = {
	{ /* AES-128, 32-bit sequence numbers, no padding needed */
	  &gcm128, "feffe9928665731c6d6a8f9467308308 cafebabe", "facedbaddecaf888",
	  "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
	  "0001000000000000037369700963796265726369747902646b0000010001",
	  "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c"
	  "3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1"
	  "83b70d3aa8bc6ee4c309e9d85a41ad4a",
	  0x0000a5f8, 0x0a, 0, 1 },
	{ /* AES-128, extended sequence numbers (AAD of 12 bytes) */
	  &gcm128, "4c80cdefbb5d10da906ac73c3613a634 2e443b68", "4956ed7e3b244cfe",
	  "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
	  "00000000045f736970045f756470037369700963796265726369747902646b00"
	  "00210001",
	  "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
	  "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
	  "61bc17d768fd9732459018148f6cbe722fd04796562dfdb4",
	  0x00004321, 0x8765432100000000ull, 1, 1 },
	{ /* AES-256 */
	  &gcm256,
	  "abbccddef00112233445566778899aababbccddef00112233445566778899aab 11223344",
	  "0102030405060708",
	  "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
	  "7002400020bf0000020405b401010402",
	  "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
	  "748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49"
	  "15956c96",
	  0x4a2cbfe3, 2, 0, 1 },
	{ /* empty payload, the last 32-bit sequence number */
	  &gcm128, "7d773d00c144c525ac619d18c84a3f47 d9664267", "43457e9182443bc6", "",
	  "437f866b cb3f699fe9b0822bac961c4504bef270",
	  0x335467ae, 0xffffffffull, 0, 1 },
	{ /* AES-256, ESN, the very last 64-bit sequence number */
	  &gcm256,
	  "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961 7475726e",
	  "333021696765746d",
	  "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
	  "65666768696a6b6c6d6e6f7071727374",
	  "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a86"
	  "4cd3d78ca4ae68a32b42458fb57dbe821dcc63b9 d0937ba2945f669368661a329fb4c053",
	  0x796b6963, 0xffffffffffffffffull, 1, 1 },
};

START_TEST(test_gcm_draft_esp)
{
	const struct gcm_vec *v = &gcm_draft[_i];
	size_t kmlen, plen, ctlen, len, outlen;
	uint8_t *km = hx(v->keymat, &kmlen), *iv = hx(v->iv, NULL);
	uint8_t *pl = hx(v->payload, &plen), *ct = hx(v->ct, &ctlen);
	uint8_t buf[256], want[256], nh = 0;
	struct as_esp_sa tx, rx;
	struct as_wbuf w;

	ck_assert_int_eq(as_esp_sa_init(&tx, v->spi, v->enc, NULL, km, kmlen, v->esn), AS_OK);
	ck_assert_int_eq(as_esp_sa_init(&rx, v->spi, v->enc, NULL, km, kmlen, v->esn), AS_OK);
	/* SPI | low 32 bits of the sequence number | IV | ciphertext | tag */
	be32(want, v->spi);
	be32(want + 4, (uint32_t)v->seq);
	memcpy(want + 8, iv, 8);
	memcpy(want + 16, ct, ctlen);
	len = 16 + ctlen;

	tx.seq = v->seq - 1;
	as_wbuf_init(&w, buf, sizeof(buf));
	ck_assert_int_eq(as_esp_encap(&tx, NULL, iv, v->nh, pl, plen, &w), AS_OK);
	ck_assert_uint_eq(as_wbuf_len(&w), len);
	ck_assert_mem_eq(buf, want, len);

	/* The receiver has seen the number just before (so ESN inference has
	 * the right high half). */
	rx.replay.top = v->seq - 1;
	ck_assert_int_eq(dec1(&rx, want, len, buf, sizeof(buf), &outlen, &nh), AS_OK);
	ck_assert_uint_eq(outlen, plen);
	if (plen)
		ck_assert_mem_eq(buf, pl, plen);
	ck_assert_uint_eq(nh, v->nh);
	ck_assert_uint_eq(rx.replay.top, v->seq);
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
	free(km);
	free(iv);
	free(pl);
	free(ct);
}
END_TEST

/*
 * RFC 4868 section 2.7.2: the AUTH test cases (keys of the full HMAC key
 * length, truncated ICVs), run on the MAC context as_esp_sa_init keyed from
 * KEYMAT, i.e. what the ICV path uses.
 */
struct auth_vec {
	const struct as_alg *integ;
	const char *key, *data, *icv;
};

#define DD50 "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd" \
	"dddddddddddddddddddddddddddddddddddd"
#define CD50 "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd" \
	"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
#define HI_THERE "4869205468657265"
#define WHAT_DO "7768617420646f2079612077616e7420666f72206e6f7468696e673f"
#define JEFE8 "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665"

static const struct auth_vec rfc4868[] = {
	{ &sha256, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", HI_THERE,
	  "198a607eb44bfbc69903a0f1cf2bbdc5" },
	{ &sha256, JEFE8, WHAT_DO, "167f928588c5cc2eef8e3093caa0e87c" },
	{ &sha256, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", DD50,
	  "cdcb1220d1ecccea91e53aba3092f962" },
	{ &sha256, "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", CD50,
	  "372efcf9b40b35c2115b1346903d2ef4" },
	{ &sha384,
	  "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
	  "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", HI_THERE,
	  "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973" },
	{ &sha384, JEFE8 "4a6566654a6566654a6566654a656665", WHAT_DO,
	  "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d" },
	{ &sha384,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", DD50,
	  "809f439be00274321d4a538652164b53554a508184a0c316" },
	{ &sha384,
	  "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
	  "0a0b0c0d0e0f10111213141516171819", CD50,
	  "5b540085c6e6358096532b2493609ed1cb298f774f87bb5c" },
	{ &sha512,
	  "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
	  "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", HI_THERE,
	  "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8" },
	{ &sha512, JEFE8 JEFE8, WHAT_DO,
	  "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454" },
	{ &sha512,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", DD50,
	  "2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8" },
	{ &sha512,
	  "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
	  "2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40", CD50,
	  "5e6688e5a3daec826ca32eaea224eff5e700628947470e13ad01302561bab108" },
};

START_TEST(test_rfc4868_auth)
{
	const struct auth_vec *v = &rfc4868[_i];
	size_t klen, dlen, icvlen, mdlen = 0;
	uint8_t *key = hx(v->key, &klen), *data = hx(v->data, &dlen), *icv = hx(v->icv, &icvlen);
	uint8_t km[16 + 64], md[64];
	struct as_esp_sa sa;

	ck_assert_uint_eq(klen, v->integ->ikey_len);
	ck_assert_uint_eq(icvlen, v->integ->icv_len);
	memset(km, 0x42, 16);
	memcpy(km + 16, key, klen);
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &cbc128, v->integ, km, 16 + klen, 0), AS_OK);
	ck_assert_mem_eq(sa.ikey, key, klen);
	/* Twice: the per-packet re-initialisation must come back to the key. */
	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(EVP_MAC_init(sa.mctx, NULL, 0, NULL), 1);
		ck_assert_int_eq(EVP_MAC_update(sa.mctx, data, dlen), 1);
		ck_assert_int_eq(EVP_MAC_final(sa.mctx, md, &mdlen, sizeof(md)), 1);
		ck_assert_uint_ge(mdlen, icvlen);
		ck_assert_mem_eq(md, icv, icvlen);
	}
	as_esp_sa_clear(&sa);
	free(key);
	free(data);
	free(icv);
}
END_TEST

/* ================= cross-checks with OpenSSL directly ================= */

/* The packet's ICV is the truncated HMAC over SPI .. ciphertext, with the
 * high half of an ESN appended (and not sent), RFC 4303 2.2.1 / 3.3.4. */
START_TEST(test_hmac_icv_coverage)
{
	static const struct as_alg *const encs[] = { &cbc256, &ctr128 };

	for (size_t e = 0; e < 2; e++)
		for (size_t h = 0; h < 3; h++)
			for (int esn = 0; esn < 2; esn++) {
				const struct as_alg *integ = hmacs[h];
				uint8_t pl[37], pkt[256], md[64], out[256];
				struct as_esp_sa tx, rx;
				size_t len, icv = integ->icv_len;

				fill(pl, sizeof(pl), 3);
				sa_make(&tx, encs[e], integ, esn, 9);
				sa_make(&rx, encs[e], integ, esn, 9);
				tx.seq = esn ? 0x00000002fffffffeull : 0x1233;
				len = enc1(&tx, pl, sizeof(pl), pkt, sizeof(pkt));
				ck_assert_uint_eq(len, as_esp_overhead(&tx, sizeof(pl)) + sizeof(pl));
				ref_hmac(integ->ossl, tx.ikey, integ->ikey_len, pkt, len - icv, esn,
					 (uint32_t)(tx.seq >> 32), md);
				ck_assert_mem_eq(pkt + len - icv, md, icv);
				/* Without the hidden high half the ICV must differ. */
				if (esn) {
					ref_hmac(integ->ossl, tx.ikey, integ->ikey_len, pkt,
						 len - icv, 0, 0, md);
					ck_assert_mem_ne(pkt + len - icv, md, icv);
				}
				rx.replay.top = tx.seq - 1;
				ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), NULL, NULL),
						 AS_OK);
				as_esp_sa_clear(&tx);
				as_esp_sa_clear(&rx);
			}
}
END_TEST

/* GCM and ChaCha20-Poly1305 against OpenSSL used directly with nonce =
 * salt || IV and AAD = SPI || seq (|| split in hi, lo with ESN). */
START_TEST(test_aead_cross_check)
{
	for (size_t a = 0; a < 3; a++)
		for (int esn = 0; esn < 2; esn++) {
			const struct as_alg *enc = aeads[a];
			uint8_t pl[48], pt[64], pkt[128], ref[128], nonce[12], aad[12];
			struct as_esp_sa tx;
			size_t len, n = 0, aadlen = 0;
			uint64_t seq = esn ? 0x0000000700000009ull : 0x99;

			fill(pl, sizeof(pl), 0x30);
			sa_make(&tx, enc, NULL, esn, 0x51);
			tx.seq = seq - 1;
			len = enc1(&tx, pl, sizeof(pl), pkt, sizeof(pkt));
			/* payload | 1 2 | pad length 2 | next header 4: 48 + 2 -> 52 */
			memcpy(pt, pl, sizeof(pl));
			n = sizeof(pl);
			pt[n++] = 1;
			pt[n++] = 2;
			pt[n++] = 2;
			pt[n++] = 4;
			ck_assert_uint_eq(len, 16 + n + 16);
			/* IV defaults to the 64-bit sequence number */
			memcpy(nonce, tx.salt, 4);
			for (int i = 0; i < 8; i++)
				nonce[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
			ck_assert_mem_eq(pkt + 8, nonce + 4, 8);
			be32(aad, SPI);
			aadlen = 4;
			if (esn) {
				be32(aad + 4, (uint32_t)(seq >> 32));
				aadlen = 8;
			}
			be32(aad + aadlen, (uint32_t)seq);
			aadlen += 4;
			ref_aead(enc->ossl, tx.key, nonce, aad, aadlen, pt, n, ref);
			ck_assert_mem_eq(pkt + 16, ref, n + 16);
			as_esp_sa_clear(&tx);
		}
}
END_TEST

/* ============================ round trips ============================ */

static void roundtrip(const struct as_alg *enc, const struct as_alg *integ, int esn)
{
	uint8_t pl[301], pkt[512], out[512], nh = 0;
	struct as_esp_sa tx, rx;
	struct as_rng_det det;
	struct as_rng rng;
	size_t len, outlen;

	as_rng_det_init(&det, &rng, "esp round trip");
	sa_make(&tx, enc, integ, esn, 0x11);
	sa_make(&rx, enc, integ, esn, 0x11);
	if (esn)
		tx.seq = 0xfffffff0ull; /* cross 2^32 on the way */
	for (size_t n = 0; n <= 300; n++) {
		struct as_wbuf w;

		fill(pl, n, (uint8_t)n);
		as_wbuf_init(&w, pkt, sizeof(pkt));
		ck_assert_int_eq(as_esp_encap(&tx, &rng, NULL, (uint8_t)(n & 0xff), pl, n, &w),
				 AS_OK);
		len = as_wbuf_len(&w);
		ck_assert_uint_eq(len, as_esp_overhead(&tx, n) + n);
		/* trailer 4-byte aligned and block aligned (2.4) */
		ck_assert_uint_eq((len - AS_ESP_HDR_LEN - enc->iv_len - (enc->aead ? enc->icv_len :
			integ->icv_len)) % (enc->block > 4 ? enc->block : 4), 0);
		if (n == 0 && esn)
			rx.replay.top = tx.seq - 1;
		ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), &outlen, &nh), AS_OK);
		ck_assert_uint_eq(outlen, n);
		if (n)
			ck_assert_mem_eq(out, pl, n);
		ck_assert_uint_eq(nh, n & 0xff);
		ck_assert_uint_eq(rx.replay.top, tx.seq);
	}
	if (esn)
		ck_assert_uint_gt(tx.seq, 0xffffffffull);
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
}

START_TEST(test_roundtrip_aead)
{
	roundtrip(aeads[_i / 2], NULL, _i % 2);
}
END_TEST

START_TEST(test_roundtrip_hmac)
{
	int esn = _i % 2, k = _i / 2;

	roundtrip(plains[k / 3], hmacs[k % 3], esn);
}
END_TEST

/* One SA used for both directions (the fuzz target does this): the CBC key
 * schedule must follow the direction. */
START_TEST(test_same_sa_both_ways)
{
	static const struct as_alg *const encs[] = { &cbc128, &ctr256, &gcm128, &chacha };

	for (size_t e = 0; e < 4; e++) {
		uint8_t pl[40], pkt[256], out[256];
		struct as_esp_sa sa;
		size_t len, outlen;

		fill(pl, sizeof(pl), 0x77);
		sa_make(&sa, encs[e], encs[e]->aead ? NULL : &sha256, 0, 5);
		for (int i = 0; i < 3; i++) {
			len = enc1(&sa, pl, sizeof(pl), pkt, sizeof(pkt));
			ck_assert_int_eq(dec1(&sa, pkt, len, out, sizeof(out), &outlen, NULL),
					 AS_OK);
			ck_assert_uint_eq(outlen, sizeof(pl));
			ck_assert_mem_eq(out, pl, sizeof(pl));
		}
		as_esp_sa_clear(&sa);
	}
}
END_TEST

/* Random IVs for CBC come from the rng; counter-mode IVs are the sequence. */
START_TEST(test_iv_sources)
{
	uint8_t pkt1[128], pkt2[128], pl[8] = { 0 };
	struct as_esp_sa cbc, ctr;
	struct as_rng_det d1, d2;
	struct as_rng r1, r2;
	uint8_t want[16];
	struct as_wbuf w;

	sa_make(&cbc, &cbc128, &sha256, 0, 1);
	as_rng_det_init(&d1, &r1, "iv");
	as_rng_det_init(&d2, &r2, "iv");
	as_wbuf_init(&w, pkt1, sizeof(pkt1));
	ck_assert_int_eq(as_esp_encap(&cbc, &r1, NULL, 4, pl, sizeof(pl), &w), AS_OK);
	ck_assert_int_eq(as_rng_bytes(&r2, want, 16), AS_OK);
	ck_assert_mem_eq(pkt1 + 8, want, 16);
	as_wbuf_init(&w, pkt2, sizeof(pkt2));
	ck_assert_int_eq(as_esp_encap(&cbc, NULL, NULL, 4, pl, sizeof(pl), &w), AS_OK);
	ck_assert_mem_ne(pkt1 + 8, pkt2 + 8, 16);

	sa_make(&ctr, &ctr128, &sha256, 1, 1);
	ctr.seq = 0x0102030405060707ull;
	as_wbuf_init(&w, pkt1, sizeof(pkt1));
	ck_assert_int_eq(as_esp_encap(&ctr, NULL, NULL, 4, pl, sizeof(pl), &w), AS_OK);
	ck_assert_mem_eq(pkt1 + 4, "\x05\x06\x07\x08\x01\x02\x03\x04\x05\x06\x07\x08", 12);
	as_esp_sa_clear(&cbc);
	as_esp_sa_clear(&ctr);
}
END_TEST

/* ============================ replay window ============================ */

START_TEST(test_replay_window)
{
	struct as_replay r;
	const uint64_t W = AS_ESP_REPLAY_WINDOW;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(as_replay_check(&r, 0), AS_E_ESP_REPLAY);
	/* in order */
	for (uint64_t s = 1; s <= 2000; s++) {
		ck_assert_int_eq(as_replay_check(&r, s), AS_OK);
		as_replay_update(&r, s);
		ck_assert_int_eq(as_replay_check(&r, s), AS_E_ESP_REPLAY);
	}
	ck_assert_uint_eq(r.top, 2000);
	/* left edge: 2000 - W + 1 is the oldest inside the window */
	ck_assert_int_eq(as_replay_check(&r, 2000 - W + 1), AS_E_ESP_REPLAY); /* seen */
	ck_assert_int_eq(as_replay_check(&r, 2000 - W), AS_E_ESP_REPLAY);     /* too old */

	/* out of order within the window */
	memset(&r, 0, sizeof(r));
	as_replay_update(&r, 1000);
	ck_assert_int_eq(as_replay_check(&r, 10), AS_OK);
	as_replay_update(&r, 10);
	ck_assert_int_eq(as_replay_check(&r, 10), AS_E_ESP_REPLAY);
	ck_assert_int_eq(as_replay_check(&r, 999), AS_OK);
	ck_assert_int_eq(as_replay_check(&r, 1), AS_OK);
	ck_assert_uint_eq(r.top, 1000);

	/* moving right clears the slots of the numbers now in front */
	memset(&r, 0, sizeof(r));
	for (uint64_t s = 1; s <= W; s++)
		as_replay_update(&r, s);
	as_replay_update(&r, W + 6);
	for (uint64_t s = 7; s <= W; s++)
		ck_assert_int_eq(as_replay_check(&r, s), AS_E_ESP_REPLAY);
	for (uint64_t s = W + 1; s < W + 6; s++)
		ck_assert_int_eq(as_replay_check(&r, s), AS_OK); /* shared slots with 1..5 */
	ck_assert_int_eq(as_replay_check(&r, 6), AS_E_ESP_REPLAY); /* fell out */

	/* far jump */
	memset(&r, 0, sizeof(r));
	for (uint64_t s = 1; s <= 10; s++)
		as_replay_update(&r, s);
	as_replay_update(&r, 1000000);
	ck_assert_int_eq(as_replay_check(&r, 10), AS_E_ESP_REPLAY);
	ck_assert_int_eq(as_replay_check(&r, 1000000), AS_E_ESP_REPLAY);
	ck_assert_int_eq(as_replay_check(&r, 1000000 - W + 1), AS_OK);
	ck_assert_int_eq(as_replay_check(&r, 1000000 - 10), AS_OK); /* slot of old 10 */
	ck_assert_int_eq(as_replay_check(&r, 1000001), AS_OK);

	/* an update left of the window changes nothing */
	as_replay_update(&r, 5);
	ck_assert_int_eq(as_replay_check(&r, 1000000 - W + 5), AS_OK);
	/* the top of the 64-bit space */
	memset(&r, 0, sizeof(r));
	as_replay_update(&r, UINT64_MAX - 1);
	ck_assert_int_eq(as_replay_check(&r, UINT64_MAX), AS_OK);
	as_replay_update(&r, UINT64_MAX);
	ck_assert_int_eq(as_replay_check(&r, UINT64_MAX), AS_E_ESP_REPLAY);
	ck_assert_int_eq(as_replay_check(&r, UINT64_MAX - 1), AS_E_ESP_REPLAY);
	ck_assert_int_eq(as_replay_check(&r, UINT64_MAX - 2), AS_OK);
}
END_TEST

/* Through decap: duplicates, reordering, a forged high sequence number. */
START_TEST(test_replay_decap)
{
	uint8_t pl[20], pkt[64][128], out[256], forged[128];
	struct as_esp_sa tx, rx;
	size_t len[64];
	const struct as_alg *enc = _i ? &cbc128 : &gcm256;
	const struct as_alg *integ = _i ? &sha384 : NULL;

	fill(pl, sizeof(pl), 1);
	sa_make(&tx, enc, integ, 0, 2);
	sa_make(&rx, enc, integ, 0, 2);
	for (int i = 0; i < 64; i++)
		len[i] = enc1(&tx, pl, sizeof(pl), pkt[i], sizeof(pkt[i])); /* seq i + 1 */

	/* in order 1..10, each twice */
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(dec1(&rx, pkt[i], len[i], out, sizeof(out), NULL, NULL), AS_OK);
		ck_assert_int_eq(dec1(&rx, pkt[i], len[i], out, sizeof(out), NULL, NULL),
				 AS_E_ESP_REPLAY);
	}
	/* out of order: 40, then 20, 39, 11 */
	ck_assert_int_eq(dec1(&rx, pkt[39], len[39], out, sizeof(out), NULL, NULL), AS_OK);
	ck_assert_int_eq(dec1(&rx, pkt[19], len[19], out, sizeof(out), NULL, NULL), AS_OK);
	ck_assert_int_eq(dec1(&rx, pkt[38], len[38], out, sizeof(out), NULL, NULL), AS_OK);
	ck_assert_int_eq(dec1(&rx, pkt[10], len[10], out, sizeof(out), NULL, NULL), AS_OK);
	ck_assert_int_eq(dec1(&rx, pkt[19], len[19], out, sizeof(out), NULL, NULL),
			 AS_E_ESP_REPLAY);
	ck_assert_uint_eq(rx.replay.top, 40);

	/* A forgery with a far sequence number fails the ICV and moves nothing. */
	memcpy(forged, pkt[41], len[41]);
	be32(forged + 4, 5000);
	ck_assert_int_eq(dec1(&rx, forged, len[41], out, sizeof(out), NULL, NULL), AS_E_ESP_ICV);
	ck_assert_uint_eq(rx.replay.top, 40);
	/* nor does a packet whose ICV is wrong */
	memcpy(forged, pkt[41], len[41]);
	forged[len[41] - 1] ^= 1;
	ck_assert_int_eq(dec1(&rx, forged, len[41], out, sizeof(out), NULL, NULL), AS_E_ESP_ICV);
	ck_assert_uint_eq(rx.replay.top, 40);
	ck_assert_int_eq(dec1(&rx, pkt[41], len[41], out, sizeof(out), NULL, NULL), AS_OK);
	ck_assert_uint_eq(rx.replay.top, 42);
	/* A replay is refused before the ICV is even looked at. */
	memcpy(forged, pkt[41], len[41]);
	forged[len[41] - 1] ^= 1;
	ck_assert_int_eq(dec1(&rx, forged, len[41], out, sizeof(out), NULL, NULL),
			 AS_E_ESP_REPLAY);
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
}
END_TEST

/* ESN (Appendix A): the receiver infers the high half across 2^32, also for
 * a packet held back from before the wrap. */
START_TEST(test_replay_esn_wrap)
{
	uint8_t pl[16], pkt[12][128], out[256];
	struct as_esp_sa tx, rx;
	size_t len[12];
	const struct as_alg *enc = _i ? &ctr192 : &chacha;
	const struct as_alg *integ = _i ? &sha512 : NULL;

	fill(pl, sizeof(pl), 9);
	sa_make(&tx, enc, integ, 1, 4);
	sa_make(&rx, enc, integ, 1, 4);
	tx.seq = 0xfffffff9ull;
	for (int i = 0; i < 12; i++) /* 0xfffffffa .. 0x1_00000005 */
		len[i] = enc1(&tx, pl, sizeof(pl), pkt[i], sizeof(pkt[i]));
	ck_assert_uint_eq(tx.seq, 0x100000005ull);
	/* the wire carries only the low half */
	ck_assert_mem_eq(pkt[11] + 4, "\x00\x00\x00\x05", 4);

	rx.replay.top = 0xfffffff9ull;
	for (int i = 0; i < 12; i++) {
		if (i == 4)
			continue; /* 0xfffffffe arrives late */
		ck_assert_int_eq(dec1(&rx, pkt[i], len[i], out, sizeof(out), NULL, NULL), AS_OK);
	}
	ck_assert_uint_eq(rx.replay.top, 0x100000005ull);
	ck_assert_int_eq(dec1(&rx, pkt[4], len[4], out, sizeof(out), NULL, NULL), AS_OK);
	ck_assert_int_eq(dec1(&rx, pkt[4], len[4], out, sizeof(out), NULL, NULL),
			 AS_E_ESP_REPLAY);
	ck_assert_int_eq(dec1(&rx, pkt[7], len[7], out, sizeof(out), NULL, NULL),
			 AS_E_ESP_REPLAY);
	ck_assert_uint_eq(rx.replay.top, 0x100000005ull);

	/* A receiver that guesses the wrong high half (far out of sync) fails
	 * the ICV, because the high half is authenticated, and stays put. */
	as_esp_sa_clear(&rx);
	sa_make(&rx, enc, integ, 1, 4);
	rx.replay.top = 0x300000000ull;
	ck_assert_int_eq(dec1(&rx, pkt[11], len[11], out, sizeof(out), NULL, NULL),
			 AS_E_ESP_ICV);
	ck_assert_uint_eq(rx.replay.top, 0x300000000ull);
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
}
END_TEST

/* ============================== malformed ============================== */

static const struct {
	const struct as_alg *enc, *integ;
} mal_sets[] = {
	{ &gcm128, NULL }, { &chacha, NULL }, { &cbc192, &sha256 }, { &ctr256, &sha512 },
};

START_TEST(test_truncated)
{
	const struct as_alg *enc = mal_sets[_i].enc, *integ = mal_sets[_i].integ;
	uint8_t pl[3] = { 1, 2, 3 }, pkt[128], out[128];
	size_t len, min;
	struct as_esp_sa tx, rx;

	sa_make(&tx, enc, integ, 0, 7);
	sa_make(&rx, enc, integ, 0, 7);
	len = enc1(&tx, pl, 0, pkt, sizeof(pkt));
	/* header, IV, 2-byte trailer, ICV: anything shorter is truncated */
	min = AS_ESP_HDR_LEN + enc->iv_len + 2 + (enc->aead ? enc->icv_len : integ->icv_len);
	for (size_t n = 0; n < min; n++)
		ck_assert_int_eq(dec1(&rx, pkt, n, out, sizeof(out), NULL, NULL), AS_E_TRUNCATED);
	/* min itself parses (and then fails the ICV, being cut) */
	ck_assert_int_eq(dec1(&rx, pkt, min, out, sizeof(out), NULL, NULL), AS_E_ESP_ICV);
	ck_assert_int_eq(dec1(&rx, NULL, 0, out, sizeof(out), NULL, NULL), AS_E_TRUNCATED);
	ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), NULL, NULL), AS_OK);
	ck_assert_uint_eq(rx.replay.top, 1);
	(void)pl;
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
}
END_TEST

START_TEST(test_wrong_spi_and_bitflips)
{
	const struct as_alg *enc = mal_sets[_i].enc, *integ = mal_sets[_i].integ;
	uint8_t pl[45], pkt[256], bad[256], out[256];
	struct as_esp_sa tx, rx, other;
	size_t len, outlen = 99;
	uint8_t km[128];

	fill(pl, sizeof(pl), 0xa0);
	sa_make(&tx, enc, integ, 0, 8);
	sa_make(&rx, enc, integ, 0, 8);
	len = enc1(&tx, pl, sizeof(pl), pkt, sizeof(pkt));

	/* wrong SPI */
	memcpy(bad, pkt, len);
	bad[3] ^= 0x10;
	ck_assert_int_eq(dec1(&rx, bad, len, out, sizeof(out), NULL, NULL), AS_E_ESP_SPI);
	/* the right SPI with other keys */
	fill(km, as_esp_keymat_len(enc, integ), 0x55);
	ck_assert_int_eq(as_esp_sa_init(&other, SPI, enc, integ, km, as_esp_keymat_len(enc, integ),
					0), AS_OK);
	ck_assert_int_eq(dec1(&other, pkt, len, out, sizeof(out), NULL, NULL), AS_E_ESP_ICV);

	/* every single bit flipped after the SPI is caught by the ICV (except
	 * that sequence number 1 turned into 0 is refused by the window) */
	for (size_t i = 4; i < len; i++) {
		for (int b = 0; b < 8; b += 3) {
			int want = i == 7 && b == 0 ? AS_E_ESP_REPLAY : AS_E_ESP_ICV;

			memcpy(bad, pkt, len);
			bad[i] ^= (uint8_t)(1 << b);
			ck_assert_int_eq(dec1(&rx, bad, len, out, sizeof(out), &outlen, NULL),
					 want);
			ck_assert_uint_eq(outlen, 0); /* nothing left in out */
		}
	}
	/* an extra byte, a missing byte */
	memcpy(bad, pkt, len);
	bad[len] = 0;
	ck_assert_int_eq(dec1(&rx, bad, len + 1, out, sizeof(out), NULL, NULL), AS_E_ESP_ICV);
	ck_assert_int_eq(dec1(&rx, bad, len - 1, out, sizeof(out), NULL, NULL), AS_E_ESP_ICV);
	ck_assert_uint_eq(rx.replay.top, 0);
	ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), &outlen, NULL), AS_OK);
	ck_assert_uint_eq(outlen, sizeof(pl));
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
	as_esp_sa_clear(&other);
}
END_TEST

/*
 * Authentic packets with bad padding: built with AES-CTR (XOR) by changing
 * the encrypted trailer and re-computing the HMAC with the known key, and
 * with AES-GCM by sealing a hand-made plaintext with OpenSSL.
 */
static size_t ctr_remac(struct as_esp_sa *tx, uint8_t *pkt, size_t len)
{
	size_t icv = tx->integ->icv_len;
	uint8_t md[64];

	ref_hmac(tx->integ->ossl, tx->ikey, tx->integ->ikey_len, pkt, len - icv, 0, 0, md);
	memcpy(pkt + len - icv, md, icv);
	return len;
}

START_TEST(test_bad_padding_ctr)
{
	uint8_t pl[9], pkt[128], bad[128], out[128];
	struct as_esp_sa tx, rx;
	size_t len, trailer, outlen;

	fill(pl, sizeof(pl), 0x10);
	sa_make(&tx, &ctr128, &sha256, 0, 3);
	sa_make(&rx, &ctr128, &sha256, 0, 3);
	/* 9 + 2 -> 12: padding 01, pad length 1, next header 4 */
	for (int i = 0; i < 6; i++)
		len = enc1(&tx, pl, sizeof(pl), pkt, sizeof(pkt));
	trailer = len - 16 - 3; /* offset of the padding byte */

	/* the packet as sent is fine (seq 6) */
	ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), &outlen, NULL), AS_OK);
	ck_assert_uint_eq(outlen, 9);

	/* padding byte 1 -> 7 */
	memcpy(bad, pkt, len);
	be32(bad + 4, 7);
	bad[trailer] ^= 1 ^ 7;
	ctr_remac(&tx, bad, len);
	ck_assert_int_eq(dec1(&rx, bad, len, out, sizeof(out), &outlen, NULL), AS_E_ESP_PAD);
	ck_assert_uint_eq(outlen, 0);
	/* authentic: the number is used up all the same */
	ck_assert_uint_eq(rx.replay.top, 7);

	/* pad length longer than the payload: 1 -> 200 */
	memcpy(bad, pkt, len);
	be32(bad + 4, 8);
	bad[trailer + 1] ^= 1 ^ 200;
	ctr_remac(&tx, bad, len);
	ck_assert_int_eq(dec1(&rx, bad, len, out, sizeof(out), NULL, NULL), AS_E_ESP_PAD);
	/* pad length exactly covering everything: 10 bytes "padding" */
	memcpy(bad, pkt, len);
	be32(bad + 4, 9);
	bad[trailer + 1] ^= 1 ^ 10;
	ctr_remac(&tx, bad, len);
	ck_assert_int_eq(dec1(&rx, bad, len, out, sizeof(out), NULL, NULL), AS_E_ESP_PAD);

	/* ciphertext not on a 4-byte boundary (one byte cut, re-MACed) */
	memcpy(bad, pkt, len);
	be32(bad + 4, 10);
	memmove(bad + trailer, bad + trailer + 1, len - trailer - 1);
	ctr_remac(&tx, bad, len - 1);
	ck_assert_int_eq(dec1(&rx, bad, len - 1, out, sizeof(out), NULL, NULL), AS_E_ESP_PAD);
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
}
END_TEST

START_TEST(test_bad_padding_gcm)
{
	static const struct {
		uint8_t pt[12];
		size_t n;
		int want;
		size_t plen;
	} cases[] = {
		{ { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 1, 2, 3, 4, 5, 5, 4 }, 12, AS_OK, 5 },
		{ { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 1, 2, 3, 9, 5, 5, 4 }, 12, AS_E_ESP_PAD, 0 },
		{ { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 1, 2, 3, 4, 5, 11, 4 }, 12, AS_E_ESP_PAD, 0 },
		{ { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 4 }, 12, AS_OK, 0 },
		{ { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 4 }, 7, AS_E_ESP_PAD, 0 }, /* unaligned */
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint8_t pkt[64], out[64], nonce[12], aad[8];
		struct as_esp_sa rx;
		size_t outlen = 0, len;

		sa_make(&rx, &gcm128, NULL, 0, 6);
		memcpy(nonce, rx.salt, 4);
		memcpy(nonce + 4, "IVIVIVIV", 8);
		be32(aad, SPI);
		be32(aad + 4, 77);
		be32(pkt, SPI);
		be32(pkt + 4, 77);
		memcpy(pkt + 8, nonce + 4, 8);
		ref_aead("AES-128-GCM", rx.key, nonce, aad, 8, cases[c].pt, cases[c].n, pkt + 16);
		len = 16 + cases[c].n + 16;
		ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), &outlen, NULL),
				 cases[c].want);
		ck_assert_uint_eq(outlen, cases[c].plen);
		ck_assert_uint_eq(rx.replay.top, 77);
		as_esp_sa_clear(&rx);
	}
}
END_TEST

/* CBC (with and without HMAC) needs whole blocks. */
START_TEST(test_cbc_partial_block)
{
	uint8_t pl[16], pkt[128], out[128];
	struct as_esp_sa tx, rx;
	size_t len;

	fill(pl, sizeof(pl), 0);
	sa_make(&tx, &cbc128, &sha256, 0, 3);
	sa_make(&rx, &cbc128, &sha256, 0, 3);
	len = enc1(&tx, pl, sizeof(pl), pkt, sizeof(pkt));
	/* drop 4 bytes of ciphertext and MAC again: authentic but not whole blocks */
	memmove(pkt + len - 16 - 4, pkt + len - 16, 16);
	len = ctr_remac(&tx, pkt, len - 4);
	ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), NULL, NULL), AS_E_ESP_PAD);
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);

	/* encryption only (the RFC 3602 vector setting): same answer, no crash */
	sa_make(&tx, &cbc128, &none, 0, 3);
	sa_make(&rx, &cbc128, &none, 0, 3);
	len = enc1(&tx, pl, sizeof(pl), pkt, sizeof(pkt));
	ck_assert_int_eq(dec1(&rx, pkt, len - 1, out, sizeof(out), NULL, NULL), AS_E_ESP_PAD);
	ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), NULL, NULL), AS_OK);
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
}
END_TEST

START_TEST(test_nospace)
{
	const struct as_alg *enc = mal_sets[_i].enc, *integ = mal_sets[_i].integ;
	uint8_t pl[33], pkt[256], out[256];
	struct as_esp_sa tx, rx;
	struct as_wbuf w;
	size_t len, need;

	fill(pl, sizeof(pl), 2);
	sa_make(&tx, enc, integ, 0, 1);
	sa_make(&rx, enc, integ, 0, 1);
	need = as_esp_overhead(&tx, sizeof(pl)) + sizeof(pl);

	as_wbuf_init(&w, pkt, need - 1);
	ck_assert_int_eq(as_esp_encap(&tx, NULL, NULL, 4, pl, sizeof(pl), &w), AS_E_NOSPACE);
	ck_assert_uint_eq(as_wbuf_len(&w), 0);
	ck_assert_uint_eq(tx.seq, 0); /* no number used up */
	/* appending after bytes already in the buffer */
	as_wbuf_init(&w, pkt, need + 3);
	ck_assert_int_eq(as_wbuf_put(&w, "abc", 3), AS_OK);
	ck_assert_int_eq(as_esp_encap(&tx, NULL, NULL, 4, pl, sizeof(pl), &w), AS_OK);
	ck_assert_uint_eq(as_wbuf_len(&w), need + 3);
	ck_assert_uint_eq(tx.seq, 1);
	len = need;
	memmove(pkt, pkt + 3, len);

	/* decap needs room for the decrypted payload and its trailer */
	need = len - AS_ESP_HDR_LEN - enc->iv_len - (enc->aead ? enc->icv_len : integ->icv_len);
	as_wbuf_init(&w, out, need - 1);
	ck_assert_int_eq(as_esp_decap(&rx, pkt, len, NULL, &w), AS_E_NOSPACE);
	ck_assert_uint_eq(as_wbuf_len(&w), 0);
	ck_assert_uint_eq(rx.replay.top, 0);
	as_wbuf_init(&w, out, need);
	ck_assert_int_eq(as_esp_decap(&rx, pkt, len, NULL, &w), AS_OK);
	ck_assert_uint_eq(as_wbuf_len(&w), sizeof(pl));
	ck_assert_mem_eq(out, pl, sizeof(pl));
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
}
END_TEST

START_TEST(test_seq_exhausted)
{
	uint8_t pkt[128], out[128];
	struct as_esp_sa tx, rx;
	struct as_wbuf w;
	size_t len;

	/* 32-bit: 2^32 - 1 is the last number */
	sa_make(&tx, &gcm128, NULL, 0, 1);
	sa_make(&rx, &gcm128, NULL, 0, 1);
	tx.seq = 0xfffffffeull;
	len = enc1(&tx, NULL, 0, pkt, sizeof(pkt));
	ck_assert_mem_eq(pkt + 4, "\xff\xff\xff\xff", 4);
	rx.replay.top = 0xfffffff0ull;
	ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), NULL, NULL), AS_OK);
	as_wbuf_init(&w, pkt, sizeof(pkt));
	ck_assert_int_eq(as_esp_encap(&tx, NULL, NULL, 4, NULL, 0, &w), AS_E_ESP_SEQ_EXHAUSTED);
	ck_assert_uint_eq(as_wbuf_len(&w), 0);
	ck_assert_uint_eq(tx.seq, 0xffffffffull);
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);

	/* ESN: 2^32 is fine, 2^64 - 1 is the last */
	sa_make(&tx, &cbc256, &sha256, 1, 1);
	tx.seq = 0xffffffffull;
	len = enc1(&tx, NULL, 0, pkt, sizeof(pkt));
	ck_assert_mem_eq(pkt + 4, "\x00\x00\x00\x00", 4);
	tx.seq = UINT64_MAX - 1;
	len = enc1(&tx, NULL, 0, pkt, sizeof(pkt));
	as_wbuf_init(&w, pkt, sizeof(pkt));
	ck_assert_int_eq(as_esp_encap(&tx, NULL, NULL, 4, NULL, 0, &w), AS_E_ESP_SEQ_EXHAUSTED);
	(void)len;
	as_esp_sa_clear(&tx);
}
END_TEST

/* Sequence number 0 is never sent (3.3.3); a packet carrying it is refused. */
START_TEST(test_seq_zero)
{
	uint8_t pkt[128], out[128];
	struct as_esp_sa tx, rx;
	size_t len;

	sa_make(&tx, &chacha, NULL, 0, 1);
	sa_make(&rx, &chacha, NULL, 0, 1);
	tx.seq = UINT64_MAX; /* the next would be 0 if it wrapped */
	tx.esn = 1;
	ck_assert_int_eq(as_esp_encap(&tx, NULL, NULL, 4, NULL, 0,
				      &(struct as_wbuf){ pkt, sizeof(pkt), 0, 0 }),
			 AS_E_ESP_SEQ_EXHAUSTED);
	tx.esn = 0;
	tx.seq = 0;
	len = enc1(&tx, NULL, 0, pkt, sizeof(pkt));
	be32(pkt + 4, 0);
	ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), NULL, NULL), AS_E_ESP_REPLAY);
	as_esp_sa_clear(&tx);
	as_esp_sa_clear(&rx);
}
END_TEST

/* ================================ API ================================ */

START_TEST(test_init_errors)
{
	static const struct as_alg des = ENCR("ENCR_3DES", AS_ENCR_3DES, 0, 24, 0, 8, 8, 0, 0,
					      "DES-EDE3-CBC");
	static const struct as_alg badname = ENCR("X", AS_ENCR_AES_GCM_16, 128, 16, 4, 8, 4, 16,
						  1, "AES-128-NOPE");
	static const struct as_alg badlen = ENCR("X", AS_ENCR_AES_GCM_16, 128, 16, 4, 8, 4, 16, 1,
						 "AES-256-GCM");
	static const struct as_alg notaead = ENCR("X", AS_ENCR_AES_GCM_16, 128, 16, 4, 8, 4, 16,
						  0, "AES-128-GCM");
	static const struct as_alg xcbc = INTEG("AUTH_AES_XCBC_96", AS_AUTH_AES_XCBC_96, 16, 12,
						"AES-128-CBC");
	static const struct as_alg baddigest = INTEG("X", AS_AUTH_HMAC_SHA2_256_128, 32, 16,
						     "SHA-NOPE");
	static const struct as_alg longicv = INTEG("X", AS_AUTH_HMAC_SHA2_256_128, 32, 40,
						   "SHA256");
	uint8_t km[128];
	struct as_esp_sa sa;

	memset(km, 0x5a, sizeof(km));
	ck_assert_uint_eq(as_esp_keymat_len(&gcm128, NULL), 20);
	ck_assert_uint_eq(as_esp_keymat_len(&gcm256, &none), 36);
	ck_assert_uint_eq(as_esp_keymat_len(&chacha, NULL), 36);
	ck_assert_uint_eq(as_esp_keymat_len(&cbc192, &sha384), 24 + 48);
	ck_assert_uint_eq(as_esp_keymat_len(&ctr256, &sha512), 36 + 64);
	ck_assert_uint_eq(as_esp_keymat_len(&cbc128, NULL), 16);
	ck_assert_uint_eq(as_esp_keymat_len(NULL, NULL), 0);

	/* reserved SPIs */
	ck_assert_int_eq(as_esp_sa_init(&sa, 0, &gcm128, NULL, km, 20, 0), AS_E_ESP_SPI);
	ck_assert_int_eq(as_esp_sa_init(&sa, 255, &gcm128, NULL, km, 20, 0), AS_E_ESP_SPI);
	ck_assert_ptr_null(sa.cctx);
	ck_assert_int_eq(as_esp_sa_init(&sa, 256, &gcm128, NULL, km, 20, 0), AS_OK);
	as_esp_sa_clear(&sa);
	/* KEYMAT of the wrong length */
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &gcm128, NULL, km, 19, 0), AS_E_INVAL);
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &gcm128, NULL, km, 21, 0), AS_E_INVAL);
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &cbc128, &sha256, km, 16, 0), AS_E_INVAL);
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &gcm128, NULL, NULL, 20, 0), AS_E_INVAL);
	/* an AEAD with a separate integrity transform */
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &gcm128, &sha256, km, 52, 0), AS_E_INVAL);
	/* a transform ESP here does not implement */
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &des, &sha256, km, 56, 0), AS_E_ALG_UNKNOWN);
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &cbc128, &xcbc, km, 32, 0), AS_E_ALG_UNKNOWN);
	/* registry entries that disagree with OpenSSL or with themselves */
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &badname, NULL, km, 20, 0), AS_E_ALG_UNKNOWN);
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &badlen, NULL, km, 20, 0), AS_E_INVAL);
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &notaead, NULL, km, 20, 0), AS_E_INVAL);
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &cbc128, &baddigest, km, 48, 0),
			 AS_E_ALG_UNKNOWN);
	ck_assert_ptr_null(sa.cctx);
	ck_assert_ptr_null(sa.mctx);
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &cbc128, &longicv, km, 48, 0), AS_E_INVAL);
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, &sha256, NULL, km, 32, 0), AS_E_INVAL);
	ck_assert_int_eq(as_esp_sa_init(&sa, SPI, NULL, NULL, km, 0, 0), AS_E_INVAL);
	ck_assert_int_eq(as_esp_sa_init(NULL, SPI, &gcm128, NULL, km, 20, 0), AS_E_INVAL);
	/* calls on a failed/cleared SA are refused, not crashes */
	ck_assert_int_eq(dec1(&sa, km, 40, km + 64, 64, NULL, NULL), AS_E_INVAL);
	ck_assert_int_eq(as_esp_encap(&sa, NULL, NULL, 4, km, 4,
				      &(struct as_wbuf){ km + 64, 64, 0, 0 }), AS_E_INVAL);
	ck_assert_uint_eq(as_esp_overhead(&sa, 10), 0);
}
END_TEST

START_TEST(test_clear_wipes)
{
	struct as_esp_sa sa;
	static const uint8_t zero[sizeof(struct as_esp_sa)];

	sa_make(&sa, &ctr256, &sha512, 1, 0x80);
	ck_assert_ptr_nonnull(sa.cctx);
	ck_assert_ptr_nonnull(sa.mctx);
	ck_assert_mem_ne(sa.key, zero, 32);
	ck_assert_mem_ne(sa.ikey, zero, 64);
	as_esp_sa_clear(&sa);
	ck_assert_mem_eq(&sa, zero, sizeof(sa));
	as_esp_sa_clear(&sa); /* twice is harmless */
	as_esp_sa_clear(NULL);
}
END_TEST

START_TEST(test_peek_spi)
{
	uint32_t spi = 0;

	ck_assert_int_eq(as_esp_peek_spi((const uint8_t *)"\x00\x00\x01", 3, &spi),
			 AS_E_TRUNCATED);
	ck_assert_int_eq(as_esp_peek_spi(NULL, 0, &spi), AS_E_TRUNCATED);
	ck_assert_int_eq(as_esp_peek_spi((const uint8_t *)"\x00\x00\x00\xff", 4, &spi),
			 AS_E_ESP_SPI);
	ck_assert_int_eq(as_esp_peek_spi((const uint8_t *)"\x00\x00\x00\x00zz", 6, &spi),
			 AS_E_ESP_SPI);
	ck_assert_int_eq(as_esp_peek_spi((const uint8_t *)"\x00\x00\x01\x00", 4, &spi), AS_OK);
	ck_assert_uint_eq(spi, 256);
	ck_assert_int_eq(as_esp_peek_spi((const uint8_t *)"\xde\xad\xbe\xef\x00", 5, &spi),
			 AS_OK);
	ck_assert_uint_eq(spi, 0xdeadbeef);
}
END_TEST

START_TEST(test_overhead)
{
	struct as_esp_sa sa;

	sa_make(&sa, &gcm128, NULL, 0, 1);
	/* 8 + 8 IV + pad + 2 + 16 ICV; 0 -> pad 2, 2 -> pad 0 */
	ck_assert_uint_eq(as_esp_overhead(&sa, 0), 8 + 8 + 2 + 2 + 16);
	ck_assert_uint_eq(as_esp_overhead(&sa, 2), 8 + 8 + 0 + 2 + 16);
	ck_assert_uint_eq(as_esp_overhead(&sa, 3), 8 + 8 + 3 + 2 + 16);
	as_esp_sa_clear(&sa);
	sa_make(&sa, &cbc128, &sha384, 0, 1);
	ck_assert_uint_eq(as_esp_overhead(&sa, 14), 8 + 16 + 0 + 2 + 24);
	ck_assert_uint_eq(as_esp_overhead(&sa, 15), 8 + 16 + 15 + 2 + 24);
	as_esp_sa_clear(&sa);
}
END_TEST

/*
 * The per-packet path must not allocate: count OpenSSL's allocations (only
 * possible before OpenSSL allocated anything, i.e. in a forked test).  Our
 * code allocates nothing; the cipher contexts are re-used with a new IV.
 * OpenSSL 3.0's HMAC itself frees and re-creates its digest state on every
 * init and final (EVP_MD_CTX_copy_ex -> dupctx), two small allocations per
 * ICV that no public 3.0 API avoids: bounded here, not zero.
 */
static size_t n_allocs;

static void *count_malloc(size_t n, const char *f, int l)
{
	(void)f;
	(void)l;
	n_allocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *f, int l)
{
	(void)f;
	(void)l;
	n_allocs++;
	return realloc(p, n);
}

static void count_free(void *p, const char *f, int l)
{
	(void)f;
	(void)l;
	free(p);
}

START_TEST(test_no_alloc_per_packet)
{
	static const struct {
		const struct as_alg *enc, *integ;
	} sets[] = {
		{ &gcm256, NULL }, { &chacha, NULL }, { &gcm128, NULL },
		{ &cbc128, &none }, { &ctr192, &none }, /* the cipher part of CBC/CTR */
		{ &cbc128, &sha384 }, { &ctr256, &sha256 },
	};
	uint8_t pl[100], pkt[256], out[256];

	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free)) {
		fprintf(stderr, "test_no_alloc_per_packet: cannot count (CK_FORK=no?)\n");
		return; /* OpenSSL already allocated in this process */
	}
	fill(pl, sizeof(pl), 0);
	for (size_t e = 0; e < sizeof(sets) / sizeof(sets[0]); e++) {
		const int rounds = 20;
		struct as_esp_sa tx, rx;
		size_t before, len, allowed;

		sa_make(&tx, sets[e].enc, sets[e].integ, 1, 1);
		sa_make(&rx, sets[e].enc, sets[e].integ, 1, 1);
		/* a first round may warm lazy state; then nothing */
		len = enc1(&tx, pl, sizeof(pl), pkt, sizeof(pkt));
		ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), NULL, NULL), AS_OK);
		before = n_allocs;
		for (int i = 0; i < rounds; i++) {
			len = enc1(&tx, pl, sizeof(pl), pkt, sizeof(pkt));
			if (sets[e].integ != &none) {
				pkt[len - 1] ^= 1;
				ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), NULL, NULL),
						 AS_E_ESP_ICV);
				pkt[len - 1] ^= 1;
			}
			ck_assert_int_eq(dec1(&rx, pkt, len, out, sizeof(out), NULL, NULL), AS_OK);
		}
		/* three ICVs per round (encap, forged decap, decap) */
		allowed = tx.integ ? (size_t)rounds * 3 * 2 : 0;
		ck_assert_uint_le(n_allocs - before, allowed);
		as_esp_sa_clear(&tx);
		as_esp_sa_clear(&rx);
	}
}
END_TEST

static Suite *esp_suite(void)
{
	Suite *s = suite_create("esp");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, test_rfc3602_cbc_esp, 0, 4);
	tcase_add_loop_test(tc, test_rfc3686_ctr, 0, 9);
	tcase_add_test(tc, test_rfc7634_chacha_esp);
	tcase_add_loop_test(tc, test_gcm_draft_esp, 0, 5);
	tcase_add_loop_test(tc, test_rfc4868_auth, 0, 12);
	suite_add_tcase(s, tc);

	tc = tcase_create("cross-check");
	tcase_add_test(tc, test_hmac_icv_coverage);
	tcase_add_test(tc, test_aead_cross_check);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_add_loop_test(tc, test_roundtrip_aead, 0, 3 * 2);
	tcase_add_loop_test(tc, test_roundtrip_hmac, 0, 6 * 3 * 2);
	tcase_add_test(tc, test_same_sa_both_ways);
	tcase_add_test(tc, test_iv_sources);
	suite_add_tcase(s, tc);

	tc = tcase_create("replay");
	tcase_add_test(tc, test_replay_window);
	tcase_add_loop_test(tc, test_replay_decap, 0, 2);
	tcase_add_loop_test(tc, test_replay_esn_wrap, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, test_truncated, 0, 4);
	tcase_add_loop_test(tc, test_wrong_spi_and_bitflips, 0, 4);
	tcase_add_test(tc, test_bad_padding_ctr);
	tcase_add_test(tc, test_bad_padding_gcm);
	tcase_add_test(tc, test_cbc_partial_block);
	tcase_add_loop_test(tc, test_nospace, 0, 4);
	tcase_add_test(tc, test_seq_exhausted);
	tcase_add_test(tc, test_seq_zero);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, test_init_errors);
	tcase_add_test(tc, test_clear_wipes);
	tcase_add_test(tc, test_peek_spi);
	tcase_add_test(tc, test_overhead);
	tcase_add_test(tc, test_no_alloc_per_packet);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(esp_suite)
