/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Keys and the KEY record.  Published vectors first: RFC 4648 section 10
 * (base64), RFC 4034 section 5.4 (key tag algorithm of Appendix B), RFC 7748
 * section 6.1 with the RFC 8410 SPKI encoding (X25519), RFC 8410 section 10.1
 * (an Ed25519 SPKI, which we must refuse by name), and the draft's own
 * example record (section 2.2).  Then round trips for every key type and
 * size, and every malformed-input class with its own error code.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/keyrec.h"
#include "autosec/pkey.h"
#include "testutil.h"

/* ---- independent helpers (OpenSSL directly, not the code under test) ---- */

/* RFC 4034 Appendix B, written the other way round: 16-bit big-endian
 * words summed, odd byte as a high half, carry folded once. */
static uint16_t indep_tag(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint64_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint64_t)p[n - 1] << 8;
	s += (s >> 16) & 0xFFFF;
	return (uint16_t)(s & 0xFFFF);
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	ck_assert_int_eq(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
}

static size_t spki_der(EVP_PKEY *k, uint8_t *out)
{
	unsigned char *q = out;
	int n = i2d_PUBKEY(k, &q);

	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

/* base64 with OpenSSL's encoder into a static buffer */
static const char *b64(const uint8_t *p, size_t n)
{
	static char out[4][2048];
	static int which;
	char *o = out[which++ & 3];

	ck_assert_uint_lt((n + 2) / 3 * 4, sizeof(out[0]));
	EVP_EncodeBlock((unsigned char *)o, p, (int)n);
	return o;
}

static const char *key_b64(EVP_PKEY *k)
{
	uint8_t der[2048];

	return b64(der, spki_der(k, der));
}

static EVP_PKEY *gen(const char *type, size_t bits)
{
	EVP_PKEY *k;

	if (!strcmp(type, "RSA"))
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
	else if (!strcmp(type, "EC"))
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, type);
	ck_assert_ptr_nonnull(k);
	return k;
}

/* RFC 7748 section 6.1, Alice */
static const char *alice_priv_hex =
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char *alice_pub_hex =
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";

static EVP_PKEY *alice(void)
{
	size_t n;
	uint8_t *priv = tu_hex(alice_priv_hex, &n);
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, n);

	free(priv);
	ck_assert_ptr_nonnull(k);
	return k;
}

static const char *alice_b64(void)
{
	static const char *s;
	EVP_PKEY *k;

	if (!s) {
		k = alice();
		s = strdup(key_b64(k));
		EVP_PKEY_free(k);
	}
	return s;
}

static char *text_of(const char *lists, const char *key)
{
	static char buf[4][8192];
	static int which;
	char *o = buf[which++ & 3];

	snprintf(o, sizeof(buf[0]), "%s%s", lists, key);
	return o;
}

static int parse(const char *t, struct as_keyrec *r, struct as_diag *d)
{
	return as_keyrec_parse_text(t, strlen(t), r, d);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(65536);
	size_t n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* ---- RFC vectors ---- */

/* RFC 4648 section 10 */
START_TEST(test_base64_rfc4648)
{
	static const char *const v[][2] = {
		{ "", "" },	     { "f", "Zg==" },	      { "fo", "Zm8=" },
		{ "foo", "Zm9v" },   { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char enc[32];
		uint8_t dec[32];
		size_t n = 99;

		ck_assert_int_eq(as_keyrec_b64_encode((const uint8_t *)v[i][0], strlen(v[i][0]),
						      enc, sizeof(enc), &n),
				 AS_OK);
		ck_assert_str_eq(enc, v[i][1]);
		ck_assert_uint_eq(n, strlen(v[i][1]));
		ck_assert_int_eq(as_keyrec_b64_decode(v[i][1], strlen(v[i][1]), dec, sizeof(dec),
						      &n, NULL),
				 AS_OK);
		ck_assert_uint_eq(n, strlen(v[i][0]));
		ck_assert_mem_eq(dec, v[i][0], n);
	}
}
END_TEST

START_TEST(test_base64_strict)
{
	static const char *const bad[] = {
		"Zg=",	    /* length */
		"Zg",	    /* no padding */
		"Zm9vYg=",  /* length */
		"Zh==",	    /* unused bits set: 'h' = 33 */
		"Zm9=",	    /* unused bits set: '9' = 61 */
		"Z===",	    /* too much padding */
		"====",	    /* padding only */
		"Zg==Zg==", /* padding in the middle */
		"Zm=v",	    /* data after padding */
		"Zm9v Zm9v", "Zm9\n", "Zm9-", "Zm9_", "Zm9v\x80\x80\x80\x80", "Zm9v\0AAA",
	};
	struct as_diag d = { 0 };
	uint8_t out[64];
	char enc[8];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i]);

		if (i == sizeof(bad) / sizeof(bad[0]) - 1)
			len = 8; /* the one with a NUL inside */
		ck_assert_msg(as_keyrec_b64_decode(bad[i], len, out, sizeof(out), &n, &d) ==
				      AS_E_REC_BASE64,
			      "accepted bad base64 #%zu", i);
		ck_assert_int_eq(d.code, AS_E_REC_BASE64);
	}
	ck_assert_int_eq(as_keyrec_b64_decode("Zm9v!AAA", 8, out, sizeof(out), &n, &d),
			 AS_E_REC_BASE64);
	ck_assert_msg(strstr(d.msg, "\"!\"") && strstr(d.msg, "offset 4"), "%s", d.msg);
	/* output space */
	ck_assert_int_eq(as_keyrec_b64_decode("Zm9vYmFy", 8, out, 5, &n, NULL), AS_E_NOSPACE);
	ck_assert_int_eq(as_keyrec_b64_encode((const uint8_t *)"foo", 3, enc, 4, &n),
			 AS_E_NOSPACE);
	ck_assert_int_eq(as_keyrec_b64_encode((const uint8_t *)"foo", 3, enc, 5, &n), AS_OK);
}
END_TEST

/* RFC 4034 section 5.4: DNSKEY 256 3 5 of dskey.example.com, key id 60485.
 * Appendix B runs over the whole RDATA there; ours over the SPKI, but the
 * checksum is the same function of the bytes. */
START_TEST(test_key_tag_rfc4034)
{
	static const char *key = "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/"
				 "2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvx"
				 "egXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9Xzc"
				 "nOf+EPbtG9DMBmADjFDc2w/rljwvFw==";
	uint8_t rdata[256] = { 0x01, 0x00, 0x03, 0x05 };
	size_t n = 0;

	ck_assert_int_eq(as_keyrec_b64_decode(key, strlen(key), rdata + 4, sizeof(rdata) - 4, &n,
					      NULL),
			 AS_OK);
	ck_assert_uint_eq(as_pkey_tag(rdata, 4 + n), 60485);
	ck_assert_uint_eq(indep_tag(rdata, 4 + n), 60485);
	/* odd length and empty input */
	ck_assert_uint_eq(as_pkey_tag(rdata, 3), indep_tag(rdata, 3));
	ck_assert_uint_eq(as_pkey_tag(rdata, 0), 0);
	ck_assert_uint_eq(as_pkey_tag((const uint8_t *)"\xff\xff\xff\xff", 4), 0xFFFF);
}
END_TEST

/* RFC 7748 6.1 key pair, in an RFC 8410 SPKI: 30 2a 30 05 06 03 2b 65 6e 03 21 00 || key */
START_TEST(test_x25519_rfc7748_rfc8410)
{
	EVP_PKEY *k = alice(), *p = NULL;
	uint8_t raw[32], spki[AS_SPKI_MAX];
	size_t n, elen;
	uint8_t *expect_pub = tu_hex(alice_pub_hex, &n);
	uint8_t *expect_priv = tu_hex(alice_priv_hex, &n);
	uint8_t *expect_spki = tu_hex("302a300506032b656e032100"
				      "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
				      &elen);
	int type;
	unsigned bits;

	ck_assert_int_eq(as_pkey_x25519_raw(k, 0, raw), AS_OK);
	ck_assert_mem_eq(raw, expect_pub, 32);
	ck_assert_int_eq(as_pkey_x25519_raw(k, 1, raw), AS_OK);
	ck_assert_mem_eq(raw, expect_priv, 32);
	ck_assert_int_eq(as_pkey_to_spki(k, spki, sizeof(spki), &n), AS_OK);
	ck_assert_uint_eq(n, elen);
	ck_assert_mem_eq(spki, expect_spki, elen);
	ck_assert_int_eq(as_pkey_to_spki(k, spki, elen - 1, &n), AS_E_NOSPACE);
	ck_assert_int_eq(as_pkey_from_spki(expect_spki, elen, &p, NULL), AS_OK);
	ck_assert_int_eq(as_pkey_info(p, &type, &bits, NULL), AS_OK);
	ck_assert_int_eq(type, AS_KEY_X25519);
	ck_assert_uint_eq(bits, 256);
	ck_assert_int_eq(EVP_PKEY_eq(p, k), 1);
	ck_assert_uint_eq(as_pkey_tag(expect_spki, elen), indep_tag(expect_spki, elen));
	EVP_PKEY_free(p);
	EVP_PKEY_free(k);
	free(expect_pub);
	free(expect_priv);
	free(expect_spki);
}
END_TEST

/* RFC 8410 section 10.1: an Ed25519 public key.  A valid SPKI, a type we refuse. */
START_TEST(test_ed25519_rfc8410_refused)
{
	static const char *ed = "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=";
	uint8_t der[64];
	size_t n;
	EVP_PKEY *k = NULL;
	struct as_diag d = { 0 };
	struct as_keyrec r;

	ck_assert_int_eq(as_keyrec_b64_decode(ed, strlen(ed), der, sizeof(der), &n, NULL), AS_OK);
	ck_assert_uint_eq(n, 44);
	ck_assert_int_eq(as_pkey_from_spki(der, n, &k, &d), AS_E_REC_KEY_TYPE);
	ck_assert_ptr_null(k);
	ck_assert_msg(strstr(d.msg, "ED25519") != NULL, "diag: %s", d.msg);
	ck_assert_int_eq(parse(text_of("ENCR_AES_GCM_16-256;NONE;X25519;", ed), &r, &d),
			 AS_E_REC_KEY_TYPE);
	ck_assert_ptr_null(r.pub);
}
END_TEST

/*
 * The draft's section 2.2 example, as printed (inside the KEY "..." quote,
 * with its line breaks, one of them inside "ENCR_3DES-128").  Its key is
 * shortened "for display", so it must fail at the key; with a real key put
 * in its place the algorithm lists parse.
 */
static const char *draft_lists = "ENCR_AES_CBC-256,ENCR_3DES-\n"
				 "   128;AUTH_HMAC_SHA2_512_256;MODP3072,MODP2048;\n"
				 "   ";
static const char *draft_key = "r18wYNi9EGrX5pZuqVau4Vnc2U9nq9Jq3XPw0oHzFH\n"
			       "   GIyrF3+kdOT6nTQyMiE4p3eOI2WN8dz1BO\n"
			       "   ytMmtP+5DEDC39z5kRnMwmRbI5cGoCp7cFwy\n"
			       "   Hf/+pu0RoIqVcmKcB4V9HByu6jFxwgwGdqtqzkMf...";

START_TEST(test_draft_example)
{
	struct as_keyrec r;
	struct as_diag d = { 0 };
	char key[256];
	int rc;

	rc = parse(text_of(draft_lists, draft_key), &r, &d);
	ck_assert_msg(rc == AS_E_REC_BASE64 || rc == AS_E_REC_KEY, "rc %s", as_errname(rc));
	ck_assert_ptr_null(r.pub);
	/* without the "..." it is base64 of a truncated something: not a key */
	snprintf(key, sizeof(key), "%.*s", (int)(strlen(draft_key) - 3), draft_key);
	rc = parse(text_of(draft_lists, key), &r, &d);
	ck_assert_msg(rc == AS_E_REC_BASE64 || rc == AS_E_REC_KEY, "rc %s", as_errname(rc));

	ck_assert_int_eq(parse(text_of(draft_lists, alice_b64()), &r, &d), AS_OK);
	ck_assert_uint_eq(r.n_enc, 2);
	ck_assert_str_eq(r.enc[0]->name, "ENCR_AES_CBC-256");
	ck_assert_int_eq(r.enc[0]->status, AS_ALG_OK);
	ck_assert_str_eq(r.enc[1]->name, "ENCR_3DES");
	ck_assert_int_eq(r.enc[1]->status, AS_ALG_REFUSED);
	ck_assert_uint_eq(r.n_integ, 1);
	ck_assert_uint_eq(r.integ[0]->id, 14);
	ck_assert_uint_eq(r.n_dh, 2);
	ck_assert_uint_eq(r.dh[0]->id, 15);
	ck_assert_uint_eq(r.dh[1]->id, 14);
	ck_assert_uint_eq(r.n_unknown, 0);
	ck_assert_int_eq(r.key_type, AS_KEY_X25519);
	ck_assert_int_eq(r.from_txt, 0);
	as_keyrec_free(&r);
	ck_assert_ptr_null(r.pub);
	as_keyrec_free(&r); /* twice is harmless */
}
END_TEST

/*
 * PROTOCOL.md 2.1.2 and 2.5: the example record, its zone lines, its AutoSEC
 * key tag (over the SPKI) and the key id DNS tools show (the same checksum
 * over the whole RDATA).  Section 7: the digests and key tags of the
 * checked-in test records.
 */
START_TEST(test_protocol_md_examples)
{
	static const char *text = "ENCR_AES_GCM_16-256,ENCR_CHACHA20_POLY1305;NONE;"
				  "CURVE25519,MODP3072;"
				  "MCowBQYDK2VuAyEAIDXDHH8n1ESp2PeFm42fZlqr7Ejd68WyeQ2QGp1i9Rg=";
	static const char *lines =
		"host.example. 3600 IN KEY 512 4 253 "
		"CmlwLWF1dG9zZWMARU5DUl9BRVNfR0NNXzE2LTI1NixFTkNSX0NIQUNI"
		"QTIwX1BPTFkxMzA1O05PTkU7Q1VSVkUyNTUxOSxNT0RQMzA3MjtNQ293"
		"QlFZREsyVnVBeUVBSURYREhIOG4xRVNwMlBlRm00MmZabHFyN0VqZDY4"
		"V3llUTJRR3AxaTlSZz0=\n"
		"_autosec.host.example. 3600 IN TXT \"v=autosec1;ENCR_AES_GCM_16-256,"
		"ENCR_CHACHA20_POLY1305;NONE;CURVE25519,MODP3072;"
		"MCowBQYDK2VuAyEAIDXDHH8n1ESp2PeFm42fZlqr7Ejd68WyeQ2QGp1i9Rg=\"\n";
	static const struct {
		const char *file, *digest;
		unsigned tag;
	} data[] = {
		{ TEST_DATA_DIR "/x25519.pem.rec",
		  "73a82d1196f72f7d7b3f065065ee2e74cbaeff472992e1c99caabd76d14931fa", 18052 },
		{ TEST_DATA_DIR "/rsa2048.pem.rec",
		  "eb2f1b4c394c4498f4a3e87268ac6f71b0de4c8acf2b6e1e2cc4daeef0b8e213", 55404 },
	};
	char out[4096];
	uint8_t rd[512];
	struct as_keyrec r;
	struct as_wbuf w;

	ck_assert_int_eq(parse(text, &r, NULL), AS_OK);
	ck_assert_uint_eq(r.key_tag, 47586);
	as_keyrec_free(&r);
	as_wbuf_init(&w, rd, sizeof(rd));
	ck_assert_int_eq(as_keyrec_format_rdata(text, &w), AS_OK);
	ck_assert_uint_eq(as_pkey_tag(rd, as_wbuf_len(&w)), 10481);
	ck_assert_int_eq(as_keyrec_zone_lines("host.example.", 3600, text, out, sizeof(out), NULL),
			 AS_OK);
	ck_assert_str_eq(out, lines);

	for (size_t i = 0; i < 2; i++) {
		char *t = read_file(data[i].file, NULL), *hex;

		ck_assert_int_eq(parse(t, &r, NULL), AS_OK);
		hex = tu_tohex(r.digest, 32);
		ck_assert_str_eq(hex, data[i].digest);
		ck_assert_uint_eq(r.key_tag, data[i].tag);
		as_keyrec_free(&r);
		free(hex);
		free(t);
	}
}
END_TEST

/* ---- round trips ---- */

static void check_round_trip(EVP_PKEY *k, int type, unsigned bits)
{
	static const char *const enc[] = { "ENCR_AES_GCM_16-256", "encr_chacha20_poly1305-256",
					   "ENCR_AES_CBC-128", NULL };
	static const char *const integ[] = { "AUTH_HMAC_SHA2_256_128", NULL };
	static const char *const dh[] = { "x25519", "MODP2048", NULL };
	char text[AS_REC_MAX_TEXT + 1], expect[AS_REC_MAX_TEXT + 1];
	uint8_t der[AS_SPKI_MAX], dig[32], rd[AS_REC_MAX_TEXT + 64];
	struct as_keyrec r, r2;
	struct as_wbuf w;
	size_t n = spki_der(k, der);

	ck_assert_int_eq(as_keyrec_format_text(enc, integ, dh, k, text, sizeof(text), NULL), AS_OK);
	snprintf(expect, sizeof(expect),
		 "ENCR_AES_GCM_16-256,ENCR_CHACHA20_POLY1305,ENCR_AES_CBC-128;"
		 "AUTH_HMAC_SHA2_256_128;CURVE25519,MODP2048;%s",
		 b64(der, n));
	ck_assert_str_eq(text, expect);

	ck_assert_int_eq(parse(text, &r, NULL), AS_OK);
	ck_assert_uint_eq(r.n_enc, 3);
	ck_assert_ptr_eq(r.enc[1], as_alg_find(AS_XF_ENCR, 28, 0));
	ck_assert_ptr_eq(r.enc[2], as_alg_find(AS_XF_ENCR, 12, 128));
	ck_assert_uint_eq(r.n_integ, 1);
	ck_assert_uint_eq(r.n_dh, 2);
	ck_assert_uint_eq(r.dh[0]->id, 31);
	ck_assert_int_eq(r.key_type, type);
	ck_assert_uint_eq(r.key_bits, bits);
	ck_assert_uint_eq(r.spki_len, n);
	ck_assert_mem_eq(r.spki, der, n);
	ck_assert_int_eq(EVP_PKEY_eq(r.pub, k), 1);
	ck_assert_uint_eq(r.key_tag, indep_tag(der, n));
	sha256(text, strlen(text), dig);
	ck_assert_mem_eq(r.digest, dig, 32);

	/* through KEY RDATA */
	as_wbuf_init(&w, rd, sizeof(rd));
	ck_assert_int_eq(as_keyrec_format_rdata(text, &w), AS_OK);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, as_wbuf_len(&w), &r2, NULL), AS_OK);
	ck_assert_mem_eq(r2.digest, r.digest, 32);
	ck_assert_uint_eq(r2.key_tag, r.key_tag);
	ck_assert_int_eq(EVP_PKEY_eq(r2.pub, k), 1);
	as_keyrec_free(&r2);
	as_keyrec_free(&r);
}

START_TEST(test_round_trip_keys)
{
	static const unsigned sizes[] = { 2048, 3072, 4096 };

	for (size_t i = 0; i < 3; i++) {
		EVP_PKEY *k = NULL;
		int type;
		unsigned bits;

		ck_assert_int_eq(as_pkey_generate(AS_KEY_RSA, sizes[i], &k, NULL), AS_OK);
		ck_assert_int_eq(as_pkey_info(k, &type, &bits, NULL), AS_OK);
		ck_assert_int_eq(type, AS_KEY_RSA);
		ck_assert_uint_eq(bits, sizes[i]);
		check_round_trip(k, AS_KEY_RSA, sizes[i]);
		EVP_PKEY_free(k);
	}
	{
		EVP_PKEY *k = NULL;

		ck_assert_int_eq(as_pkey_generate(AS_KEY_X25519, 0, &k, NULL), AS_OK);
		check_round_trip(k, AS_KEY_X25519, 256);
		EVP_PKEY_free(k);
		k = alice();
		check_round_trip(k, AS_KEY_X25519, 256);
		EVP_PKEY_free(k);
	}
}
END_TEST

START_TEST(test_generate_refuses)
{
	struct as_diag d = { 0 };
	EVP_PKEY *k = (EVP_PKEY *)1;

	ck_assert_int_eq(as_pkey_generate(AS_KEY_RSA, 1024, &k, &d), AS_E_REC_KEY_TYPE);
	ck_assert_ptr_null(k);
	ck_assert_msg(strstr(d.msg, "1024") != NULL, "%s", d.msg);
	ck_assert_int_eq(as_pkey_generate(AS_KEY_RSA, 2047, &k, &d), AS_E_REC_KEY_TYPE);
	ck_assert_int_eq(as_pkey_generate(AS_KEY_X25519, 255, &k, &d), AS_E_REC_KEY_TYPE);
	ck_assert_int_eq(as_pkey_generate(AS_KEY_NONE, 0, &k, &d), AS_E_REC_KEY_TYPE);
	ck_assert_int_eq(as_pkey_generate(7, 2048, &k, &d), AS_E_REC_KEY_TYPE);
}
END_TEST

/* Whitespace and newlines anywhere are ignored, and the digest is over the
 * text without them. */
START_TEST(test_whitespace_anywhere)
{
	static const char ws[] = " \t\r\n\v\f";
	const char *t = text_of("ENCR_AES_GCM_16-256,ENCR_AES_CBC-256;AUTH_HMAC_SHA2_512_256;"
				"CURVE25519,MODP4096;",
				alice_b64());
	char spaced[8192];
	size_t o = 0;
	uint8_t dig[32], dig2[32];
	struct as_keyrec r, r2;

	for (size_t i = 0; t[i]; i++) {
		spaced[o++] = ws[i % 6];
		spaced[o++] = t[i];
		if (i % 7 == 0)
			spaced[o++] = '\n';
	}
	spaced[o++] = '\n';
	spaced[o] = '\0';
	sha256(t, strlen(t), dig);
	ck_assert_int_eq(parse(t, &r, NULL), AS_OK);
	ck_assert_int_eq(parse(spaced, &r2, NULL), AS_OK);
	ck_assert_mem_eq(r.digest, dig, 32);
	ck_assert_mem_eq(r2.digest, dig, 32);
	ck_assert_uint_eq(r2.n_enc, 2);
	ck_assert_uint_eq(r2.n_dh, 2);
	ck_assert_uint_eq(r2.key_tag, r.key_tag);
	ck_assert_int_eq(as_keyrec_digest(spaced, strlen(spaced), dig2), AS_OK);
	ck_assert_mem_eq(dig2, dig, 32);
	as_keyrec_free(&r);
	as_keyrec_free(&r2);
	/* the size limit counts whitespace (PROTOCOL.md 2.7 rule 4) */
	{
		size_t n = strlen(t);
		char *big = malloc(AS_REC_MAX_TEXT + 2);

		memcpy(big, t, n);
		memset(big + n, ' ', AS_REC_MAX_TEXT + 1 - n);
		big[AS_REC_MAX_TEXT + 1] = '\0';
		ck_assert_int_eq(as_keyrec_parse_text(big, AS_REC_MAX_TEXT, &r, NULL), AS_OK);
		as_keyrec_free(&r);
		ck_assert_int_eq(as_keyrec_parse_text(big, AS_REC_MAX_TEXT + 1, &r, NULL),
				 AS_E_REC_TOO_LONG);
		free(big);
	}
}
END_TEST

/* ---- malformed record text: one code per class ---- */

struct bad {
	const char *lists; /* the key (Alice's) is appended unless key is set */
	const char *key;
	int code;
};

START_TEST(test_malformed_text)
{
	static const struct bad cases[] = {
		/* sections (rule 5) */
		{ "ENCR_AES_GCM_16-256;NONE;CURVE25519", "", AS_E_REC_SYNTAX },
		{ "", "", AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256;NONE;CURVE25519;", ";", AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256;NONE;CURVE25519;x;", NULL, AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256;CURVE25519;", NULL, AS_E_REC_SYNTAX },
		/* empty names and empty lists (rule 5) */
		{ ",ENCR_AES_GCM_16-256;NONE;CURVE25519;", NULL, AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256,;NONE;CURVE25519;", NULL, AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256,,ENCR_AES_CBC-128;NONE;CURVE25519;", NULL, AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256;NONE,;CURVE25519;", NULL, AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256;,;CURVE25519;", NULL, AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256;NONE;CURVE25519,;", NULL, AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256;NONE; , ;", NULL, AS_E_REC_SYNTAX },
		{ ";NONE;CURVE25519;", NULL, AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256;;CURVE25519;", NULL, AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256;NONE;;", NULL, AS_E_REC_SYNTAX },
		{ "ENCR_AES_CBC-128;;CURVE25519;", NULL, AS_E_REC_SYNTAX },
		/* octets outside 0x21..0x7e after whitespace removal (rule 5) */
		{ "ENCR_AES_GCM\x01_16-256;NONE;CURVE25519;", NULL, AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256;NONE;CURVE25519\x7f;", NULL, AS_E_REC_SYNTAX },
		{ "ENCR_AES_GCM_16-256;NONE;CURVE25519;", "MCow\x80QYD", AS_E_REC_SYNTAX },
		{ "ENCR_\xc3\xa9;NONE;CURVE25519;", NULL, AS_E_REC_SYNTAX },
		/* syntax is checked in all lists before names: a duplicate in the
		 * first list does not hide an empty name in the last */
		{ "ENCR_AES_GCM_16-256,ENCR_AES_GCM_16-256;NONE;X25519,;", NULL, AS_E_REC_SYNTAX },
		/* duplicates, also through case, alias and suffix spellings (rule 8) */
		{ "ENCR_AES_GCM_16-256,encr_aes_gcm_16-256;NONE;CURVE25519;", NULL,
		  AS_E_REC_DUPLICATE },
		{ "ENCR_AES_GCM_16-256;NONE;CURVE25519,X25519;", NULL, AS_E_REC_DUPLICATE },
		{ "ENCR_3DES,ENCR_AES_GCM_16-256,ENCR_3DES-128;AUTH_HMAC_SHA2_256_128;X25519;", NULL,
		  AS_E_REC_DUPLICATE },
		{ "ENCR_BLOWFISH-128,ENCR_AES_GCM_16-256,ENCR_BLOWFISH-256;NONE;X25519;", NULL,
		  AS_E_REC_DUPLICATE },
		{ "ENCR_CHACHA20_POLY1305,ENCR_CHACHA20_POLY1305-256;NONE;X25519;", NULL,
		  AS_E_REC_DUPLICATE },
		{ "ENCR_AES_GCM_16-256;NONE,NONE;X25519;", NULL, AS_E_REC_DUPLICATE },
		{ "ENCR_AES_GCM_16-256;NONE;MODP2048,MODP3072,MODP2048;", NULL, AS_E_REC_DUPLICATE },
		/* no recognised entry in a list (rule 9) */
		{ "ENCR_FOO-128;NONE;CURVE25519;", NULL, AS_E_REC_EMPTY_LIST },
		{ "ENCR_AES_GCM_16-192;NONE;CURVE25519;", NULL, AS_E_REC_EMPTY_LIST },
		{ "ENCR_AES_GCM_16-256;NONE;ECP_256;", NULL, AS_E_REC_EMPTY_LIST },
		{ "ENCR_AES_GCM_16-256;AUTH_FOO;CURVE25519;", NULL, AS_E_REC_EMPTY_LIST },
		{ "ENCR_AES_GCM_16-256,ENCR_AES_CTR-256;AUTH_FOO,AUTH_BAR;CURVE25519;", NULL,
		  AS_E_REC_EMPTY_LIST },
		/* the key: base64 */
		{ "ENCR_AES_GCM_16-256;NONE;X25519;", "MCow!QYDK2VuAyEA", AS_E_REC_BASE64 },
		{ "ENCR_AES_GCM_16-256;NONE;X25519;", "MCowBQ==YDK2VuAyEA", AS_E_REC_BASE64 },
		{ "ENCR_AES_GCM_16-256;NONE;X25519;", "MCowBQYDK2VuAyE", AS_E_REC_BASE64 },
		{ "ENCR_AES_GCM_16-256;NONE;X25519;", "MCowBQYDK2VuAyEB=", AS_E_REC_BASE64 },
		{ "ENCR_AES_GCM_16-256;NONE;X25519;", "MCowBQYDK2VuAy-_", AS_E_REC_BASE64 },
		/* the key: not a DER SPKI */
		{ "ENCR_AES_GCM_16-256;NONE;X25519;", "", AS_E_REC_KEY },
		{ "ENCR_AES_GCM_16-256;NONE;X25519;", "AAAA", AS_E_REC_KEY },
		{ "ENCR_AES_GCM_16-256;NONE;X25519;", "MCowBQYDK2VuAyEA", AS_E_REC_KEY },
		/* Alice's SPKI with 30 81 2a (BER long form length) */
		{ "ENCR_AES_GCM_16-256;NONE;X25519;",
		  "MIEqMAUGAytlbgMhAIUg8AmJMKdUdIt93LQ+91oNvzoNJjga9OukqY6qm05q", AS_E_REC_KEY },
		/* Alice's SPKI with two octets of garbage after it */
		{ "ENCR_AES_GCM_16-256;NONE;X25519;",
		  "MCowBQYDK2VuAyEAhSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmoAAA==", AS_E_REC_KEY },
	};
	static const char *const fine[] = {
		/* a non-AEAD cipher with only NONE: valid, the initiator skips it */
		"ENCR_AES_CBC-128;NONE;CURVE25519;",
		"ENCR_AES_GCM_16-256,ENCR_3DES;NONE;CURVE25519;",
		/* all refused: valid, fails later as "no proposal" */
		"ENCR_DES,ENCR_NULL;AUTH_HMAC_MD5_96;MODP1536;",
		"ENCR_AES_GCM_16-256,ENCR_FOO-128,~!#$%&'()*+-./:<=>?@[]^_`{|};NONE;X25519;",
	};
	char lists[256];

	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		struct as_keyrec r;
		struct as_diag d = { 0 };
		int rc = parse(text_of(fine[i], alice_b64()), &r, &d);

		ck_assert_msg(rc == AS_OK, "fine case %zu: %s (%s)", i, as_errname(rc), d.msg);
		as_keyrec_free(&r);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct as_keyrec r;
		struct as_diag d = { 0 };
		int rc;

		snprintf(lists, sizeof(lists), "%s", cases[i].lists);
		rc = parse(text_of(lists, cases[i].key ? cases[i].key : alice_b64()), &r, &d);
		ck_assert_msg(rc == cases[i].code, "case %zu \"%s\": got %s, want %s (%s)", i,
			      cases[i].lists, as_errname(rc), as_errname(cases[i].code), d.msg);
		ck_assert_int_eq(d.code, rc);
		ck_assert_msg(d.msg[0] != '\0', "case %zu: no diag", i);
		ck_assert_ptr_null(r.pub);
	}
	/* the two hand-made key variants are Alice's key, so they must differ only
	 * in the form: check the base of them parses */
	{
		struct as_keyrec r;

		ck_assert_str_eq(alice_b64(),
				 "MCowBQYDK2VuAyEAhSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
		ck_assert_int_eq(parse(text_of("ENCR_AES_GCM_16-256;NONE;X25519;", alice_b64()), &r,
				       NULL),
				 AS_OK);
		as_keyrec_free(&r);
	}
}
END_TEST

START_TEST(test_diag_quotes_value)
{
	struct as_keyrec r;
	struct as_diag d = { 0 };

	ck_assert_int_eq(parse(text_of("ENCR_AES_GCM_16-256,Encr_Aes_Gcm_16-256;NONE;X25519;",
				       alice_b64()),
			       &r, &d),
			 AS_E_REC_DUPLICATE);
	ck_assert_msg(strstr(d.msg, "\"Encr_Aes_Gcm_16-256\""), "%s", d.msg);
	ck_assert_int_eq(parse(text_of("ENCR_AES_GCM_16-256;NONE;X25519;", "MCow\x01QYD"), &r, &d),
			 AS_E_REC_SYNTAX);
	ck_assert_msg(strstr(d.msg, "\\x01"), "%s", d.msg);
	ck_assert_int_eq(parse(text_of("ENCR_AES_GCM_16-256;NONE;X25519;", "MCow.QYD"), &r, &d),
			 AS_E_REC_BASE64);
	ck_assert_msg(strstr(d.msg, "\".\""), "%s", d.msg);
	ck_assert_int_eq(parse("a;b;c", &r, &d), AS_E_REC_SYNTAX);
	ck_assert_msg(strstr(d.msg, "\"a;b;c\"") && strstr(d.msg, "3 sections"), "%s", d.msg);
}
END_TEST

START_TEST(test_too_long)
{
	char lists[2048];
	struct as_keyrec r;
	struct as_diag d = { 0 };
	size_t o = 0;

	/* 16 names are fine, 17 are not: unknown names count */
	o = 0;
	for (int i = 0; i < 15; i++)
		o += (size_t)snprintf(lists + o, sizeof(lists) - o, "ENCR_X%d-128,", i);
	snprintf(lists + o, sizeof(lists) - o, "ENCR_AES_GCM_16-256;NONE;X25519;");
	ck_assert_int_eq(parse(text_of(lists, alice_b64()), &r, &d), AS_OK);
	ck_assert_uint_eq(r.n_unknown, 15);
	as_keyrec_free(&r);
	o = 0;
	for (int i = 0; i < 16; i++)
		o += (size_t)snprintf(lists + o, sizeof(lists) - o, "ENCR_X%d-128,", i);
	snprintf(lists + o, sizeof(lists) - o, "ENCR_AES_GCM_16-256;NONE;X25519;");
	ck_assert_int_eq(parse(text_of(lists, alice_b64()), &r, &d), AS_E_REC_TOO_LONG);
	o = (size_t)snprintf(lists, sizeof(lists), "ENCR_AES_GCM_16-256;");
	for (int i = 0; i < 17; i++)
		o += (size_t)snprintf(lists + o, sizeof(lists) - o, "%sAUTH_%d", i ? "," : "", i);
	snprintf(lists + o, sizeof(lists) - o, ";X25519;");
	ck_assert_int_eq(parse(text_of(lists, alice_b64()), &r, &d), AS_E_REC_TOO_LONG);

	/* text over AS_REC_MAX_TEXT without whitespace: exactly 4096 passes the
	 * size check (and fails later), 4097 does not */
	{
		char *big = malloc(AS_REC_MAX_TEXT + 2);

		memset(big, 'A', AS_REC_MAX_TEXT + 1);
		big[AS_REC_MAX_TEXT + 1] = '\0';
		ck_assert_int_eq(as_keyrec_parse_text(big, AS_REC_MAX_TEXT + 1, &r, &d),
				 AS_E_REC_TOO_LONG);
		ck_assert_int_eq(as_keyrec_parse_text(big, AS_REC_MAX_TEXT, &r, &d),
				 AS_E_REC_SYNTAX);
		free(big);
	}
}
END_TEST

START_TEST(test_unknown_names_kept)
{
	char name100[101];
	char lists[512];
	struct as_keyrec r;

	memset(name100, 'Z', 100);
	name100[100] = '\0';
	snprintf(lists, sizeof(lists),
		 "ENCR_A,ENCR_B-128,ENCR_AES_GCM_16-256,X~;AUTH_Y,NONE;ECP_256,CURVE25519,%s;",
		 name100);
	ck_assert_int_eq(parse(text_of(lists, alice_b64()), &r, NULL), AS_OK);
	ck_assert_uint_eq(r.n_enc, 1);
	ck_assert_uint_eq(r.n_integ, 1);
	ck_assert_uint_eq(r.n_dh, 1);
	ck_assert_uint_eq(r.n_unknown, 6);
	ck_assert_str_eq(r.unknown[0], "ENCR_A");
	ck_assert_str_eq(r.unknown[1], "ENCR_B-128");
	ck_assert_str_eq(r.unknown[2], "X~");
	ck_assert_str_eq(r.unknown[3], "AUTH_Y");
	as_keyrec_free(&r);
	/* a long name is cut with "..." and always terminated */
	snprintf(lists, sizeof(lists), "%s,ENCR_AES_GCM_16-256;NONE;X25519;", name100);
	ck_assert_int_eq(parse(text_of(lists, alice_b64()), &r, NULL), AS_OK);
	ck_assert_uint_lt(strlen(r.unknown[0]), sizeof(r.unknown[0]));
	ck_assert_msg(strstr(r.unknown[0], "...") != NULL, "%s", r.unknown[0]);
	as_keyrec_free(&r);
	/* refused and unsupported entries are kept, marked */
	ck_assert_int_eq(parse(text_of("ENCR_AES_CBC-128,ENCR_DES;AUTH_HMAC_MD5_96,AUTH_AES_XCBC_96;"
				       "MODP1536;",
				       alice_b64()),
			       &r, NULL),
			 AS_OK);
	ck_assert_int_eq(r.enc[1]->status, AS_ALG_REFUSED);
	ck_assert_int_eq(r.integ[0]->status, AS_ALG_REFUSED);
	ck_assert_int_eq(r.integ[1]->status, AS_ALG_UNSUPPORTED);
	ck_assert_int_eq(r.dh[0]->status, AS_ALG_REFUSED);
	as_keyrec_free(&r);
	/* AEAD only: the hash list may be NONE */
	ck_assert_int_eq(parse(text_of("ENCR_CHACHA20_POLY1305;NONE;X25519;", alice_b64()), &r,
			       NULL),
			 AS_OK);
	ck_assert_uint_eq(r.n_integ, 1);
	as_keyrec_free(&r);
}
END_TEST

START_TEST(test_key_types_refused)
{
	EVP_PKEY *rsa1024 = gen("RSA", 1024), *ec = gen("EC", 0), *ed = gen("ED25519", 0);
	EVP_PKEY *x448 = gen("X448", 0);
	struct as_keyrec r;
	struct as_diag d = { 0 };

	ck_assert_int_eq(parse(text_of("ENCR_AES_GCM_16-256;NONE;X25519;", key_b64(rsa1024)), &r, &d),
			 AS_E_REC_KEY_TYPE);
	ck_assert_msg(strstr(d.msg, "1024") != NULL, "%s", d.msg);
	ck_assert_int_eq(parse(text_of("ENCR_AES_GCM_16-256;NONE;X25519;", key_b64(ec)), &r, &d),
			 AS_E_REC_KEY_TYPE);
	ck_assert_msg(strstr(d.msg, "\"EC\"") != NULL, "%s", d.msg);
	ck_assert_int_eq(parse(text_of("ENCR_AES_GCM_16-256;NONE;X25519;", key_b64(ed)), &r, &d),
			 AS_E_REC_KEY_TYPE);
	ck_assert_int_eq(parse(text_of("ENCR_AES_GCM_16-256;NONE;X25519;", key_b64(x448)), &r, &d),
			 AS_E_REC_KEY_TYPE);
	ck_assert_msg(strstr(d.msg, "X448") != NULL, "%s", d.msg);
	ck_assert_int_eq(as_pkey_info(ec, NULL, NULL, NULL), AS_E_REC_KEY_TYPE);
	{
		uint8_t raw[32];

		ck_assert_int_eq(as_pkey_x25519_raw(rsa1024, 0, raw), AS_E_INVAL);
		ck_assert_int_eq(as_pkey_x25519_raw(ed, 1, raw), AS_E_INVAL);
	}
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(x448);
}
END_TEST

/* RSA public keys from a record: a modulus with e = 1 (encryption is the
 * identity), an even e, or an e over 64 bits is refused. */
static EVP_PKEY *rsa_with_e(const BIGNUM *n, unsigned long e_word)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *e = BN_new();
	OSSL_PARAM *params;
	EVP_PKEY *k = NULL;

	ck_assert_int_eq(BN_set_word(e, e_word), 1);
	ck_assert_int_eq(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n), 1);
	ck_assert_int_eq(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e), 1);
	params = OSSL_PARAM_BLD_to_param(b);
	ck_assert_ptr_nonnull(params);
	ck_assert_int_eq(EVP_PKEY_fromdata_init(c), 1);
	ck_assert_int_eq(EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(c);
	BN_free(e);
	return k;
}

START_TEST(test_rsa_bad_exponent_refused)
{
	EVP_PKEY *good = gen("RSA", 2048), *k, *p = NULL;
	BIGNUM *n = NULL;
	uint8_t der[AS_SPKI_MAX];
	size_t len;
	struct as_diag d = { 0 };

	ck_assert_int_eq(EVP_PKEY_get_bn_param(good, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	/* the same modulus with e = 65537 passes: the construction is sound */
	k = rsa_with_e(n, 65537);
	len = spki_der(k, der);
	ck_assert_int_eq(as_pkey_from_spki(der, len, &p, &d), AS_OK);
	EVP_PKEY_free(p);
	EVP_PKEY_free(k);
	k = rsa_with_e(n, 1);
	len = spki_der(k, der);
	ck_assert_int_eq(as_pkey_from_spki(der, len, &p, &d), AS_E_REC_KEY);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(d.msg, "unusable RSA public key") != NULL, "%s", d.msg);
	EVP_PKEY_free(k);
	k = rsa_with_e(n, 65536);
	len = spki_der(k, der);
	ck_assert_int_eq(as_pkey_from_spki(der, len, &p, &d), AS_E_REC_KEY);
	EVP_PKEY_free(k);
	k = rsa_with_e(n, 3); /* small but valid with OAEP */
	len = spki_der(k, der);
	ck_assert_int_eq(as_pkey_from_spki(der, len, &p, &d), AS_OK);
	EVP_PKEY_free(p);
	EVP_PKEY_free(k);
	BN_free(n);
	EVP_PKEY_free(good);
}
END_TEST

/* Small-order X25519 points (RFC 7748 section 6.1 warns of the all-zero
 * output): u = 0 and u = 1 */
START_TEST(test_x25519_small_order_refused)
{
	uint8_t spki[44];
	size_t n;
	uint8_t *prefix = tu_hex("302a300506032b656e032100", &n);
	EVP_PKEY *p = NULL;
	struct as_diag d = { 0 };

	memcpy(spki, prefix, 12);
	memset(spki + 12, 0, 32);
	ck_assert_int_eq(as_pkey_from_spki(spki, 44, &p, &d), AS_E_REC_KEY);
	ck_assert_msg(strstr(d.msg, "small order") != NULL, "%s", d.msg);
	spki[12] = 1;
	ck_assert_int_eq(as_pkey_from_spki(spki, 44, &p, &d), AS_E_REC_KEY);
	ck_assert_ptr_null(p);
	spki[12] = 9; /* the base point is fine */
	ck_assert_int_eq(as_pkey_from_spki(spki, 44, &p, &d), AS_OK);
	EVP_PKEY_free(p);
	free(prefix);
}
END_TEST

/* ---- KEY RDATA ---- */

/* flags 0x0200, protocol 4, algorithm 253, then \x0aip-autosec\x00 */
static const uint8_t rd_head[] = { 0x02, 0x00, 0x04, 0xfd, 0x0a, 'i', 'p', '-', 'a', 'u',
				   't',	 'o',  's',  'e',  'c',	 0x00 };

static size_t mk_rdata(uint8_t *out, uint16_t flags, uint8_t proto, uint8_t alg,
		       const void *name, size_t name_len, const char *text)
{
	size_t o = 0;

	out[o++] = (uint8_t)(flags >> 8);
	out[o++] = (uint8_t)flags;
	out[o++] = proto;
	out[o++] = alg;
	memcpy(out + o, name, name_len);
	o += name_len;
	memcpy(out + o, text, strlen(text));
	return o + strlen(text);
}

START_TEST(test_rdata)
{
	const char *t = text_of("ENCR_AES_GCM_16-256;NONE;X25519;", alice_b64());
	uint8_t rd[1024], built[1024];
	struct as_keyrec r;
	struct as_diag d = { 0 };
	struct as_wbuf w;
	size_t n;

	/* format: the exact prefix bytes */
	as_wbuf_init(&w, built, sizeof(built));
	ck_assert_int_eq(as_keyrec_format_rdata(t, &w), AS_OK);
	ck_assert_uint_eq(as_wbuf_len(&w), sizeof(rd_head) + strlen(t));
	ck_assert_mem_eq(built, rd_head, sizeof(rd_head));
	ck_assert_mem_eq(built + sizeof(rd_head), t, strlen(t));
	as_wbuf_init(&w, built, sizeof(rd_head) + 3);
	ck_assert_int_eq(as_keyrec_format_rdata(t, &w), AS_E_NOSPACE);

	n = mk_rdata(rd, 0x0200, 4, 253, "\x0aip-autosec", 12, t);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_OK);
	ck_assert_int_eq(r.key_type, AS_KEY_X25519);
	as_keyrec_free(&r);
	/* the name in any case (DNS names compare case-insensitively) */
	n = mk_rdata(rd, 0x0200, 4, 253, "\x0aIP-AutoSEC", 12, t);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_OK);
	as_keyrec_free(&r);

	/* rule 1: shorter than 16 octets */
	ck_assert_int_eq(as_keyrec_parse_rdata(rd_head, 15, &r, &d), AS_E_TRUNCATED);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd_head, 3, &r, &d), AS_E_TRUNCATED);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd_head, 0, &r, &d), AS_E_TRUNCATED);
	ck_assert_int_eq(as_keyrec_parse_rdata(NULL, 0, &r, &d), AS_E_TRUNCATED);
	n = mk_rdata(rd, 0x0200, 4, 253, "", 0, "short");
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_TRUNCATED);
	/* a short key of another algorithm is just not ours */
	n = mk_rdata(rd, 0x0200, 4, 8, "", 0, "\x03\x01\x00\x01\xc3");
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	/* exactly the prefix: ours, with an empty text */
	ck_assert_int_eq(as_keyrec_parse_rdata(rd_head, 16, &r, &d), AS_E_REC_SYNTAX);

	/* rule 2: not ours */
	n = mk_rdata(rd, 0x0200, 4, 252, "\x0aip-autosec", 12, t);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	ck_assert_msg(strstr(d.msg, "252") != NULL, "%s", d.msg);
	n = mk_rdata(rd, 0x0100, 3, 5, "", 0, t); /* a DNSSEC-style key */
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	n = mk_rdata(rd, 0x0200, 4, 253, "\x0aip-autoseX", 12, t);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	ck_assert_msg(strstr(d.msg, "ip-autoseX") != NULL, "%s", d.msg);
	n = mk_rdata(rd, 0x0200, 4, 253, "\x0aip-autosec", 11, t); /* no root label */
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	n = mk_rdata(rd, 0x0200, 4, 253, "\x02ip\x07" "autosec\x00", 12, t);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	n = mk_rdata(rd, 0x0200, 4, 253, "\x0bip-autosecs\x00", 13, t);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	n = mk_rdata(rd, 0x0200, 4, 253, "\xc0\x0c", 2, t); /* a compression pointer */
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	/* the draft's own form, text straight after the algorithm (DESIGN 8) */
	n = mk_rdata(rd, 0x0000, 4, 253, "", 0, t);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	/* not ours takes precedence over bad flags */
	n = mk_rdata(rd, 0xC000, 3, 253, "\x0aip-autoseX", 12, t);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);

	/* rule 3: flags exactly 0x0200, protocol exactly 4 */
	{
		static const uint16_t bad_flags[] = { 0xC200, 0x4200, 0x8200, 0x0000,
						      0x0100, 0x1200, 0x0201, 0x0300 };

		for (size_t i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
			n = mk_rdata(rd, bad_flags[i], 4, 253, "\x0aip-autosec", 12, t);
			ck_assert_msg(as_keyrec_parse_rdata(rd, n, &r, &d) == AS_E_REC_FLAGS,
				      "flags 0x%04x", bad_flags[i]);
		}
	}
	n = mk_rdata(rd, 0xC200, 4, 253, "\x0aip-autosec", 12, t);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_FLAGS);
	ck_assert_msg(strstr(d.msg, "0xc200") != NULL, "%s", d.msg);
	n = mk_rdata(rd, 0x0200, 3, 253, "\x0aip-autosec", 12, t);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_FLAGS);
	ck_assert_msg(strstr(d.msg, "protocol 3") != NULL, "%s", d.msg);
	n = mk_rdata(rd, 0x0200, 255, 253, "\x0aip-autosec", 12, t);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_FLAGS);
	n = mk_rdata(rd, 0x0200, 0, 253, "\x0aip-autosec", 12, t);
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_FLAGS);

	/* a valid prefix and a bad text: the text's own error */
	n = mk_rdata(rd, 0x0200, 4, 253, "\x0aip-autosec", 12, "x;y");
	ck_assert_int_eq(as_keyrec_parse_rdata(rd, n, &r, &d), AS_E_REC_SYNTAX);
}
END_TEST

/* ---- TXT fallback ---- */

/* TXT RDATA from text split into character-strings of at most chunk bytes */
static size_t mk_txt(uint8_t *out, const char *s, size_t chunk)
{
	size_t o = 0, n = strlen(s);

	for (size_t i = 0; i < n; i += chunk) {
		size_t c = n - i < chunk ? n - i : chunk;

		out[o++] = (uint8_t)c;
		memcpy(out + o, s + i, c);
		o += c;
	}
	return o;
}

START_TEST(test_txt)
{
	EVP_PKEY *k = gen("RSA", 2048);
	char full[AS_REC_MAX_TEXT + 32];
	uint8_t rd[8192];
	struct as_keyrec r, ref;
	struct as_diag d = { 0 };
	const char *t = text_of("ENCR_AES_GCM_16-256,ENCR_AES_CBC-256;AUTH_HMAC_SHA2_256_128;"
				"MODP2048;",
				key_b64(k));
	size_t n;

	ck_assert_uint_gt(strlen(t), 2 * 255 - 100);
	ck_assert_int_eq(parse(t, &ref, NULL), AS_OK);
	snprintf(full, sizeof(full), "v=autosec1;%s", t);
	for (size_t chunk = 1; chunk <= 255; chunk += chunk < 16 ? 1 : 60) {
		n = mk_txt(rd, full, chunk);
		ck_assert_int_eq(as_keyrec_parse_txt(rd, n, &r, &d), AS_OK);
		ck_assert_int_eq(r.from_txt, 1);
		ck_assert_mem_eq(r.digest, ref.digest, 32);
		ck_assert_int_eq(EVP_PKEY_eq(r.pub, k), 1);
		as_keyrec_free(&r);
	}
	/* empty character-strings and whitespace are harmless */
	n = mk_txt(rd, full, 255);
	memmove(rd + 1, rd, n);
	rd[0] = 0;
	ck_assert_int_eq(as_keyrec_parse_txt(rd, n + 1, &r, &d), AS_OK);
	as_keyrec_free(&r);
	snprintf(full, sizeof(full), "v=autosec1; %s\n", t);
	n = mk_txt(rd, full, 200);
	ck_assert_int_eq(as_keyrec_parse_txt(rd, n, &r, &d), AS_OK);
	as_keyrec_free(&r);

	/* not ours */
	snprintf(full, sizeof(full), "v=autosec2;%s", t);
	n = mk_txt(rd, full, 255);
	ck_assert_int_eq(as_keyrec_parse_txt(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	ck_assert_msg(strstr(d.msg, "v=autosec2;") != NULL, "%s", d.msg);
	n = mk_txt(rd, "v=spf1 -all", 255);
	ck_assert_int_eq(as_keyrec_parse_txt(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	n = mk_txt(rd, t, 255);
	ck_assert_int_eq(as_keyrec_parse_txt(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	ck_assert_int_eq(as_keyrec_parse_txt(rd, 0, &r, &d), AS_E_REC_NOT_AUTOSEC);
	ck_assert_int_eq(as_keyrec_parse_txt((const uint8_t *)"\0", 1, &r, &d),
			 AS_E_REC_NOT_AUTOSEC);
	n = mk_txt(rd, "v=autosec1", 255);
	ck_assert_int_eq(as_keyrec_parse_txt(rd, n, &r, &d), AS_E_REC_NOT_AUTOSEC);
	/* a character-string longer than what is left */
	snprintf(full, sizeof(full), "v=autosec1;%s", t);
	n = mk_txt(rd, full, 255);
	ck_assert_int_eq(as_keyrec_parse_txt(rd, n - 1, &r, &d), AS_E_TRUNCATED);
	rd[0] = 200;
	ck_assert_int_eq(as_keyrec_parse_txt(rd, 100, &r, &d), AS_E_TRUNCATED);
	/* text after the prefix over 4096 octets */
	{
		uint8_t *big = malloc(2 * AS_REC_MAX_TEXT);
		char *txt = malloc(AS_REC_MAX_TEXT + 32);
		size_t tl = strlen(t);

		ck_assert_uint_lt(tl, AS_REC_MAX_TEXT);
		memcpy(txt, "v=autosec1;", 11);
		memcpy(txt + 11, t, tl);
		memset(txt + 11 + tl, ' ', AS_REC_MAX_TEXT - tl);
		txt[11 + AS_REC_MAX_TEXT] = '\0';
		n = mk_txt(big, txt, 255);
		ck_assert_int_eq(as_keyrec_parse_txt(big, n, &r, &d), AS_OK);
		as_keyrec_free(&r);
		txt[11 + AS_REC_MAX_TEXT] = ' ';
		txt[12 + AS_REC_MAX_TEXT] = '\0';
		n = mk_txt(big, txt, 255);
		ck_assert_int_eq(as_keyrec_parse_txt(big, n, &r, &d), AS_E_REC_TOO_LONG);
		free(big);
		free(txt);
	}
	/* prefix fine, text broken: the text's error */
	n = mk_txt(rd, "v=autosec1;a;b", 255);
	ck_assert_int_eq(as_keyrec_parse_txt(rd, n, &r, &d), AS_E_REC_SYNTAX);
	as_keyrec_free(&ref);
	EVP_PKEY_free(k);
}
END_TEST

/* ---- formatting: text and zone lines ---- */

START_TEST(test_format_text_errors)
{
	static const char *const good[] = { "ENCR_AES_GCM_16-256", NULL };
	static const char *const cbc[] = { "ENCR_AES_CBC-256", NULL };
	static const char *const dh[] = { "CURVE25519", NULL };
	static const char *const unknown[] = { "ENCR_AES_GCM_16-256", "ENCR_FOO-128", NULL };
	static const char *const dup[] = { "ENCR_AES_GCM_16-256", "encr_aes_gcm_16-256", NULL };
	static const char *const wrong_type[] = { "MODP2048", NULL };
	static const char *const none[] = { "none", NULL };
	EVP_PKEY *k = alice(), *ed = gen("ED25519", 0);
	char out[AS_REC_MAX_TEXT];
	struct as_diag d = { 0 };
	size_t len;

	ck_assert_int_eq(as_keyrec_format_text(good, none, dh, k, out, sizeof(out), &d), AS_OK);
	ck_assert_str_eq(out, text_of("ENCR_AES_GCM_16-256;NONE;CURVE25519;", alice_b64()));
	len = strlen(out);
	ck_assert_int_eq(as_keyrec_format_text(good, none, dh, k, out, len + 1, &d), AS_OK);
	ck_assert_int_eq(as_keyrec_format_text(good, none, dh, k, out, len, &d), AS_E_NOSPACE);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(as_keyrec_format_text(unknown, none, dh, k, out, sizeof(out), &d),
			 AS_E_ALG_UNKNOWN);
	ck_assert_msg(strstr(d.msg, "\"ENCR_FOO-128\"") != NULL, "%s", d.msg);
	ck_assert_int_eq(as_keyrec_format_text(wrong_type, none, dh, k, out, sizeof(out), &d),
			 AS_E_ALG_UNKNOWN);
	ck_assert_int_eq(as_keyrec_format_text(dup, none, dh, k, out, sizeof(out), &d),
			 AS_E_REC_DUPLICATE);
	/* parses (the initiator will skip the cipher); keygen refuses it */
	ck_assert_int_eq(as_keyrec_format_text(cbc, none, dh, k, out, sizeof(out), &d), AS_OK);
	/* empty lists */
	ck_assert_int_eq(as_keyrec_format_text(good, NULL, dh, k, out, sizeof(out), &d),
			 AS_E_REC_SYNTAX);
	ck_assert_int_eq(as_keyrec_format_text(NULL, none, dh, k, out, sizeof(out), &d),
			 AS_E_REC_SYNTAX);
	ck_assert_int_eq(as_keyrec_format_text(good, none, NULL, k, out, sizeof(out), &d),
			 AS_E_REC_SYNTAX);
	ck_assert_int_eq(as_keyrec_format_text(good, none, dh, ed, out, sizeof(out), &d),
			 AS_E_REC_KEY_TYPE);
	ck_assert_int_eq(as_keyrec_format_text(good, none, dh, NULL, out, sizeof(out), &d),
			 AS_E_INVAL);
	ck_assert_int_eq(as_keyrec_format_text(good, none, dh, k, NULL, 0, &d), AS_E_NOSPACE);
	EVP_PKEY_free(k);
	EVP_PKEY_free(ed);
}
END_TEST

/* Pull the KEY line's base64 and the TXT line's strings out of zone_lines
 * output and check them against the text, independently of keyrec.c. */
static void check_zone_lines(const char *name, const char *text)
{
	char out[16384], *key_line, *txt_line, *p;
	char want_owner[300];
	uint8_t field[8192], rdata[8192];
	char joined[8192] = "";
	size_t fl, jl = 0, ro = 0;
	struct as_keyrec r, ref;
	int fields;

	ck_assert_int_eq(as_keyrec_zone_lines(name, 300, text, out, sizeof(out), NULL), AS_OK);
	ck_assert_int_eq(parse(text, &ref, NULL), AS_OK);
	key_line = out;
	p = strchr(out, '\n');
	ck_assert_ptr_nonnull(p);
	*p = '\0';
	txt_line = p + 1;
	p = strchr(txt_line, '\n');
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p, "\n");
	*p = '\0';

	/* NAME 300 IN KEY 512 4 253 BASE64 */
	{
		char owner[300], b[8192];

		fields = sscanf(key_line, "%299s 300 IN KEY 512 4 253 %8191s", owner, b);
		ck_assert_int_eq(fields, 2);
		ck_assert_str_eq(owner, name);
		ck_assert_int_eq(EVP_DecodeBlock(field, (const unsigned char *)b, (int)strlen(b)) >=
					 0,
				 1);
		fl = strlen(b) / 4 * 3 - (b[strlen(b) - 1] == '=') - (b[strlen(b) - 2] == '=');
		ck_assert_uint_eq(fl, 12 + strlen(text));
		ck_assert_mem_eq(field, "\x0aip-autosec\x00", 12);
		ck_assert_mem_eq(field + 12, text, strlen(text));
	}
	/* _autosec.NAME 300 IN TXT "..." "..." */
	snprintf(want_owner, sizeof(want_owner), "_autosec.%s 300 IN TXT ", name);
	ck_assert_int_eq(strncmp(txt_line, want_owner, strlen(want_owner)), 0);
	p = txt_line + strlen(want_owner);
	while (*p) {
		char *end;
		size_t n;

		ck_assert_int_eq(*p, '"');
		end = strchr(p + 1, '"');
		ck_assert_ptr_nonnull(end);
		n = (size_t)(end - p - 1);
		ck_assert_uint_le(n, 255);
		ck_assert_uint_gt(n, 0);
		rdata[ro++] = (uint8_t)n;
		memcpy(rdata + ro, p + 1, n);
		ro += n;
		memcpy(joined + jl, p + 1, n);
		jl += n;
		joined[jl] = '\0';
		p = end + 1;
		if (*p == ' ')
			p++;
	}
	ck_assert_int_eq(strncmp(joined, "v=autosec1;", 11), 0);
	ck_assert_str_eq(joined + 11, text);
	ck_assert_int_eq(as_keyrec_parse_txt(rdata, ro, &r, NULL), AS_OK);
	ck_assert_mem_eq(r.digest, ref.digest, 32);
	as_keyrec_free(&r);
	/* the KEY field behind flags/protocol/algorithm is a valid RDATA */
	memcpy(rdata, "\x02\x00\x04\xfd", 4);
	memcpy(rdata + 4, field, 12 + strlen(text));
	ck_assert_int_eq(as_keyrec_parse_rdata(rdata, 4 + 12 + strlen(text), &r, NULL), AS_OK);
	ck_assert_mem_eq(r.digest, ref.digest, 32);
	as_keyrec_free(&r);
	as_keyrec_free(&ref);
}

START_TEST(test_zone_lines)
{
	EVP_PKEY *k = gen("RSA", 4096);
	const char *small = text_of("ENCR_AES_GCM_16-256;NONE;X25519;", alice_b64());
	const char *big = text_of("ENCR_AES_GCM_16-256,ENCR_AES_GCM_16-128,ENCR_AES_CBC-256;"
				  "AUTH_HMAC_SHA2_512_256;MODP4096,CURVE25519;",
				  key_b64(k));
	char out[16384], spaced[8192];
	struct as_diag d = { 0 };

	check_zone_lines("host.example.com.", small);
	check_zone_lines("www", small);
	check_zone_lines("a-b_c.example.", big);
	/* whitespace in the input text does not reach the records */
	snprintf(spaced, sizeof(spaced), " %.*s\n\t%s\n", 20, small, small + 20);
	ck_assert_int_eq(as_keyrec_zone_lines("x.example.", 1, spaced, out, sizeof(out), &d),
			 AS_OK);
	ck_assert_ptr_null(strchr(out, '\t'));

	/* names */
	ck_assert_int_eq(as_keyrec_zone_lines("bad name.", 1, small, out, sizeof(out), &d),
			 AS_E_DNS_NAME);
	ck_assert_msg(strstr(d.msg, "\"bad name.\"") != NULL, "%s", d.msg);
	ck_assert_int_eq(as_keyrec_zone_lines("a..b.", 1, small, out, sizeof(out), &d),
			 AS_E_DNS_NAME);
	ck_assert_int_eq(as_keyrec_zone_lines("", 1, small, out, sizeof(out), &d), AS_E_DNS_NAME);
	ck_assert_int_eq(as_keyrec_zone_lines(".", 1, small, out, sizeof(out), &d), AS_E_DNS_NAME);
	ck_assert_int_eq(as_keyrec_zone_lines("a\"b.", 1, small, out, sizeof(out), &d),
			 AS_E_DNS_NAME);
	ck_assert_int_eq(as_keyrec_zone_lines("a\nb.", 1, small, out, sizeof(out), &d),
			 AS_E_DNS_NAME);
	{
		char name[300];

		memset(name, 'a', 64);
		strcpy(name + 64, ".example.");
		ck_assert_int_eq(as_keyrec_zone_lines(name, 1, small, out, sizeof(out), &d),
				 AS_E_DNS_NAME);
		/* a 63-byte label is fine */
		ck_assert_int_eq(as_keyrec_zone_lines(name + 1, 1, small, out, sizeof(out), &d),
				 AS_OK);
		/* 4 labels of 63: 255 bytes with the dots, over 253 */
		for (int i = 0; i < 4; i++) {
			memset(name + 64 * i, 'b', 63);
			name[64 * i + 63] = '.';
		}
		name[256] = '\0';
		ck_assert_int_eq(as_keyrec_zone_lines(name, 1, small, out, sizeof(out), &d),
				 AS_E_DNS_NAME);
		name[64 * 3 + 60] = '.';
		name[64 * 3 + 61] = '\0'; /* 253 bytes + dot: fine */
		ck_assert_int_eq(as_keyrec_zone_lines(name, 1, small, out, sizeof(out), &d),
				 AS_OK);
	}
	/* TTL, text, space */
	ck_assert_int_eq(as_keyrec_zone_lines("x.", 0x80000000u, small, out, sizeof(out), &d),
			 AS_E_INVAL);
	ck_assert_int_eq(as_keyrec_zone_lines("x.", 0x7fffffffu, small, out, sizeof(out), &d),
			 AS_OK);
	ck_assert_int_eq(as_keyrec_zone_lines("x.", 1, "a;b", out, sizeof(out), &d),
			 AS_E_REC_SYNTAX);
	ck_assert_int_eq(as_keyrec_zone_lines("x.", 1, small, out, 100, &d), AS_E_NOSPACE);
	ck_assert_str_eq(out, "");
	{
		/* a text with characters a zone string cannot hold unescaped */
		char lists[128];

		snprintf(lists, sizeof(lists), "ENCR_AES_GCM_16-256,AB\"C;NONE;X25519;");
		ck_assert_int_eq(as_keyrec_zone_lines("x.", 1, text_of(lists, alice_b64()), out,
						      sizeof(out), &d),
				 AS_E_REC_SYNTAX);
	}
	EVP_PKEY_free(k);
}
END_TEST

/* ---- private key files ---- */

static char tmpdir[64];

static void mk_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_keyrec.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

START_TEST(test_private_key_files)
{
	EVP_PKEY *k = NULL, *back = NULL;
	struct as_diag d = { 0 };
	char path[128], other[128], *pem;
	struct stat st;
	FILE *f;

	mk_tmpdir();
	snprintf(path, sizeof(path), "%s/key.pem", tmpdir);
	ck_assert_int_eq(as_pkey_generate(AS_KEY_X25519, 0, &k, NULL), AS_OK);
	umask(0);
	ck_assert_int_eq(as_pkey_write_private(k, path, &d), AS_OK);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	pem = read_file(path, NULL);
	ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
	free(pem);
	/* never overwritten */
	errno = 0;
	ck_assert_int_eq(as_pkey_write_private(k, path, &d), AS_E_IO);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_msg(strstr(d.msg, "refusing to overwrite") != NULL, "%s", d.msg);
	/* nor through a symlink */
	snprintf(other, sizeof(other), "%s/link.pem", tmpdir);
	ck_assert_int_eq(symlink("/tmp/does-not-exist-autosec", other), 0);
	ck_assert_int_eq(as_pkey_write_private(k, other, &d), AS_E_IO);
	unlink(other);

	ck_assert_int_eq(as_pkey_read_private(path, &back, &d), AS_OK);
	ck_assert_int_eq(EVP_PKEY_eq(back, k), 1);
	EVP_PKEY_free(back);
	/* group or other bits: refused, saying which mode */
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(as_pkey_read_private(path, &back, &d), AS_E_IO);
	ck_assert_ptr_null(back);
	ck_assert_msg(strstr(d.msg, "0640") != NULL, "%s", d.msg);
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_int_eq(as_pkey_read_private(path, &back, &d), AS_E_IO);
	ck_assert_int_eq(chmod(path, 0400), 0);
	ck_assert_int_eq(as_pkey_read_private(path, &back, &d), AS_OK);
	EVP_PKEY_free(back);
	unlink(path);
	ck_assert_int_eq(as_pkey_read_private(path, &back, &d), AS_E_IO);
	ck_assert_int_eq(as_pkey_read_private(tmpdir, &back, &d), AS_E_IO);

	/* not a key, an encrypted key (no prompt), a refused key type */
	f = fopen(path, "w");
	fputs("hello\n", f);
	fclose(f);
	chmod(path, 0600);
	ck_assert_int_eq(as_pkey_read_private(path, &back, &d), AS_E_INVAL);
	unlink(path);
	f = fopen(path, "w");
	ck_assert_int_eq(PEM_write_PKCS8PrivateKey(f, k, EVP_aes_256_cbc(), "pw", 2, NULL, NULL),
			 1);
	fclose(f);
	chmod(path, 0600);
	ck_assert_int_eq(as_pkey_read_private(path, &back, &d), AS_E_INVAL);
	unlink(path);
	{
		EVP_PKEY *ec = gen("EC", 0);

		f = fopen(path, "w");
		ck_assert_int_eq(PEM_write_PKCS8PrivateKey(f, ec, NULL, NULL, 0, NULL, NULL), 1);
		fclose(f);
		chmod(path, 0600);
		ck_assert_int_eq(as_pkey_read_private(path, &back, &d), AS_E_REC_KEY_TYPE);
		unlink(path);
		EVP_PKEY_free(ec);
	}
	rmdir(tmpdir);
	EVP_PKEY_free(k);
}
END_TEST

/* The checked-in test keys (used by other tests): the private key matches
 * its record text.  Git does not keep mode 0600, so read them from memory. */
START_TEST(test_data_keys)
{
	static const char *const files[][2] = {
		{ TEST_DATA_DIR "/x25519.pem", TEST_DATA_DIR "/x25519.pem.rec" },
		{ TEST_DATA_DIR "/rsa2048.pem", TEST_DATA_DIR "/rsa2048.pem.rec" },
	};
	static const int types[] = { AS_KEY_X25519, AS_KEY_RSA };
	static const unsigned bits[] = { 256, 2048 };

	for (size_t i = 0; i < 2; i++) {
		size_t n;
		char *pem = read_file(files[i][0], &n), *rec = read_file(files[i][1], NULL);
		EVP_PKEY *k = NULL;
		struct as_keyrec r;
		struct as_diag d = { 0 };

		ck_assert_int_eq(as_pkey_from_pem(pem, n, &k, &d), AS_OK);
		ck_assert_int_eq(parse(rec, &r, &d), AS_OK);
		ck_assert_int_eq(r.key_type, types[i]);
		ck_assert_uint_eq(r.key_bits, bits[i]);
		ck_assert_int_eq(EVP_PKEY_eq(r.pub, k), 1);
		ck_assert_uint_eq(r.n_enc, 3);
		as_keyrec_free(&r);
		EVP_PKEY_free(k);
		free(pem);
		free(rec);
	}
}
END_TEST

static Suite *keyrec_suite(void)
{
	Suite *s = suite_create("keyrec");
	TCase *v = tcase_create("vectors"), *t = tcase_create("record"), *k = tcase_create("keys");

	tcase_add_test(v, test_base64_rfc4648);
	tcase_add_test(v, test_base64_strict);
	tcase_add_test(v, test_key_tag_rfc4034);
	tcase_add_test(v, test_x25519_rfc7748_rfc8410);
	tcase_add_test(v, test_ed25519_rfc8410_refused);
	tcase_add_test(v, test_draft_example);
	tcase_add_test(v, test_protocol_md_examples);
	suite_add_tcase(s, v);

	tcase_add_test(t, test_whitespace_anywhere);
	tcase_add_test(t, test_malformed_text);
	tcase_add_test(t, test_diag_quotes_value);
	tcase_add_test(t, test_too_long);
	tcase_add_test(t, test_unknown_names_kept);
	tcase_add_test(t, test_rdata);
	tcase_add_test(t, test_txt);
	tcase_add_test(t, test_format_text_errors);
	tcase_add_test(t, test_zone_lines);
	suite_add_tcase(s, t);

	tcase_add_test(k, test_round_trip_keys);
	tcase_add_test(k, test_generate_refuses);
	tcase_add_test(k, test_key_types_refused);
	tcase_add_test(k, test_rsa_bad_exponent_refused);
	tcase_add_test(k, test_x25519_small_order_refused);
	tcase_add_test(k, test_private_key_files);
	tcase_add_test(k, test_data_keys);
	/* RSA-4096 generation takes seconds, more under sanitizers */
	tcase_set_timeout(t, 120);
	tcase_set_timeout(k, 300);
	suite_add_tcase(s, k);
	return s;
}

TU_MAIN(keyrec_suite)
