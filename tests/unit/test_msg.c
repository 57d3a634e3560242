/* SPDX-License-Identifier: BSD-2-Clause */
/* The handshake: INIT/REPLY/ERROR both ways, every transform, every tampering. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/keyrec.h"
#include "autosec/msg.h"
#include "autosec/pkey.h"
#include "autosec/rng.h"
#include "testutil.h"
#include "vectors.h"

static struct vec_world W;
static int built;

static void setup(void)
{
	if (!built) {
		ck_assert_int_eq(vec_build(&W), 0);
		built = 1;
	}
}

static uint8_t out_buf[VEC_MSG_MAX];

/* Open an INIT as the responder of the vector world. */
static int open_init(const struct as_rkey *rk, const uint8_t *pkt, size_t len, struct as_hs *hs,
		     uint16_t *ec, struct as_wbuf *pw)
{
	struct as_policy pol;

	as_policy_default(&pol);
	memset(hs, 0, sizeof(*hs));
	as_wbuf_init(pw, out_buf, sizeof(out_buf));
	return as_msg_open_init(hs, rk, 1, &pol, VEC_TIMESTAMP, AS_FRESHNESS_DEFAULT, &as_rng_system,
				0x7e570001, pkt, len, pw, ec,
				NULL);
}

START_TEST(vectors_open_on_the_other_side)
{
	struct as_hs hs;
	struct as_wbuf pw;
	struct as_error_msg e;
	uint8_t nh = 0, buf[256];
	uint16_t ec = 99;

	/* 7.1 opens and yields the UDP datagram */
	ck_assert_int_eq(open_init(&W.rk_x, W.init_x.b, W.init_x.len, &hs, &ec, &pw), AS_OK);
	ck_assert_uint_eq(as_wbuf_len(&pw), W.payload_x_len);
	ck_assert_mem_eq(out_buf, W.payload_x, W.payload_x_len);
	ck_assert_uint_eq(hs.p.next_header, 17);
	ck_assert_mem_eq(hs.p.src, W.ini_x.p.src, 4);
	as_hs_clear(&hs);
	/* 7.2 opens with the RSA key and yields the SYN */
	ck_assert_int_eq(open_init(&W.rk_r, W.init_r.b, W.init_r.len, &hs, &ec, &pw), AS_OK);
	ck_assert_uint_eq(as_wbuf_len(&pw), W.payload_r_len);
	ck_assert_mem_eq(out_buf, W.payload_r, W.payload_r_len);
	ck_assert_uint_eq(hs.p.family, 6);
	ck_assert_ptr_eq(hs.p.enc, as_alg_by_name(AS_XF_ENCR, "ENCR_AES_CBC-256", 16));
	as_hs_clear(&hs);
	/* 7.4 is authenticated for the initiator of 7.1 */
	ck_assert_int_eq(as_msg_parse_error(&W.ini_x, W.error.b, W.error.len, &e, NULL), AS_OK);
	ck_assert_int_eq(e.authenticated, 1);
	ck_assert_uint_eq(e.code, AS_ERR_STALE_TIMESTAMP);
	ck_assert_mem_eq(e.ref, W.ini_x.ref, AS_ERROR_REF_LEN);
	/* 7.5 decapsulates under the responder's forward-secret SA */
	as_wbuf_init(&pw, buf, sizeof(buf));
	ck_assert_int_eq(W.resp_x.has_fs, 1);
	ck_assert_int_eq(as_esp_decap(&W.resp_x.fs_in, W.esp_fs.b, W.esp_fs.len, &nh, &pw), AS_OK);
	ck_assert_uint_eq(nh, 6);
	ck_assert_mem_eq(buf, W.esp_fs_payload, W.esp_fs_payload_len);
	/* and a replay of it is refused */
	as_wbuf_init(&pw, buf, sizeof(buf));
	ck_assert_int_eq(as_esp_decap(&W.resp_x.fs_in, W.esp_fs.b, W.esp_fs.len, &nh, &pw),
			 AS_E_ESP_REPLAY);
}
END_TEST

START_TEST(init_header_fields)
{
	struct as_init_hdr h;

	ck_assert_int_eq(as_msg_parse_init_hdr(W.init_x.b, W.init_x.len, &h, NULL), AS_OK);
	ck_assert_uint_eq(h.suite, AS_SUITE_X25519);
	ck_assert_uint_eq(h.key_tag, W.rec_x.key_tag);
	ck_assert_uint_eq(h.cookie_len, 0);
	ck_assert_uint_eq(h.aad_len, AS_INIT_HDR_LEN);
	ck_assert_uint_eq(h.block_len + AS_INIT_HDR_LEN + h.esp_len, W.init_x.len);
	ck_assert_int_eq(as_msg_parse_init_hdr(W.init_r.b, W.init_r.len, &h, NULL), AS_OK);
	ck_assert_uint_eq(h.suite, AS_SUITE_RSA);
}
END_TEST

/* Flip one bit of each region and expect the specific outcome. */
START_TEST(init_tampering)
{
	uint8_t pkt[VEC_MSG_MAX];
	struct as_hs hs;
	struct as_wbuf pw;
	struct as_init_hdr h;
	uint16_t ec;
	size_t esp_off;

	ck_assert_int_eq(as_msg_parse_init_hdr(W.init_x.b, W.init_x.len, &h, NULL), AS_OK);
	esp_off = W.init_x.len - h.esp_len;

	/* version */
	memcpy(pkt, W.init_x.b, W.init_x.len);
	pkt[0] = 2;
	ck_assert_int_eq(open_init(&W.rk_x, pkt, W.init_x.len, &hs, &ec, &pw), AS_E_MSG_VERSION);
	ck_assert_uint_eq(ec, AS_ERR_UNSUPPORTED_VERSION);
	/* suite */
	memcpy(pkt, W.init_x.b, W.init_x.len);
	pkt[2] = 9;
	ck_assert_int_eq(open_init(&W.rk_x, pkt, W.init_x.len, &hs, &ec, &pw), AS_E_MSG_SUITE);
	ck_assert_uint_eq(ec, AS_ERR_INVALID_SYNTAX);
	/* suite says RSA: no RSA key with this tag */
	pkt[2] = AS_SUITE_RSA;
	ck_assert_int_eq(open_init(&W.rk_x, pkt, W.init_x.len, &hs, &ec, &pw), AS_E_MSG_KEYTAG);
	ck_assert_uint_eq(ec, AS_ERR_UNKNOWN_KEY_TAG);
	/* key tag */
	memcpy(pkt, W.init_x.b, W.init_x.len);
	pkt[5] ^= 1;
	ck_assert_int_eq(open_init(&W.rk_x, pkt, W.init_x.len, &hs, &ec, &pw), AS_E_MSG_KEYTAG);
	ck_assert_uint_eq(ec, AS_ERR_UNKNOWN_KEY_TAG);
	/* a bit of enc, of the ciphertext, of the tag */
	for (size_t off = AS_INIT_HDR_LEN; off < esp_off; off += 37) {
		memcpy(pkt, W.init_x.b, W.init_x.len);
		pkt[off] ^= 0x10;
		ck_assert_int_eq(open_init(&W.rk_x, pkt, W.init_x.len, &hs, &ec, &pw), AS_E_MSG_DECRYPT);
		ck_assert_uint_eq(ec, AS_ERR_DECRYPT_FAILED);
	}
	/* the ESP part: dropped silently, no error message to send */
	memcpy(pkt, W.init_x.b, W.init_x.len);
	pkt[W.init_x.len - 1] ^= 1;
	ck_assert_int_eq(open_init(&W.rk_x, pkt, W.init_x.len, &hs, &ec, &pw), AS_E_ESP_ICV);
	ck_assert_uint_eq(ec, 0);
	as_hs_clear(&hs);
	/* block length pointing past the end */
	memcpy(pkt, W.init_x.b, W.init_x.len);
	pkt[6] = 0x07;
	ck_assert_int_eq(open_init(&W.rk_x, pkt, W.init_x.len, &hs, &ec, &pw), AS_E_MSG_LENGTH);
	ck_assert_uint_eq(ec, AS_ERR_INVALID_SYNTAX);
	/* a bad cookie length */
	memcpy(pkt, W.init_x.b, W.init_x.len);
	pkt[3] = 3;
	ck_assert_int_eq(open_init(&W.rk_x, pkt, W.init_x.len, &hs, &ec, &pw), AS_E_MSG_LENGTH);
}
END_TEST

/* Every truncation of both INITs fails cleanly; none is accepted. */
START_TEST(init_truncated)
{
	const struct vec_msg *m[2] = { &W.init_x, &W.init_r };
	const struct as_rkey *k[2] = { &W.rk_x, &W.rk_r };
	struct as_hs hs;
	struct as_wbuf pw;
	uint16_t ec;

	for (int i = 0; i < 2; i++) {
		for (size_t len = 0; len < m[i]->len; len += (len < 64 ? 1 : 7)) {
			int rc = open_init(k[i], m[i]->b, len, &hs, &ec, &pw);

			ck_assert_int_ne(rc, AS_OK);
			as_hs_clear(&hs);
		}
	}
	ck_assert_int_eq(open_init(&W.rk_x, W.init_x.b, 7, &hs, &ec, &pw), AS_E_TRUNCATED);
}
END_TEST

/* The record the initiator saw is bound in: a changed list makes it fail. */
START_TEST(record_digest_binding)
{
	struct as_rkey rk = W.rk_x;
	struct as_hs hs;
	struct as_wbuf pw;
	uint16_t ec;

	rk.digest[0][0] ^= 1;
	ck_assert_int_eq(open_init(&rk, W.init_x.b, W.init_x.len, &hs, &ec, &pw), AS_E_MSG_DECRYPT);
	ck_assert_uint_eq(ec, AS_ERR_DECRYPT_FAILED);
	/* a responder that accepts two record versions finds the right one */
	memcpy(rk.digest[1], W.rk_x.digest[0], 32);
	rk.n_digest = 2;
	ck_assert_int_eq(open_init(&rk, W.init_x.b, W.init_x.len, &hs, &ec, &pw), AS_OK);
	as_hs_clear(&hs);
	/* same for RSA, where the digest is also the OAEP label */
	rk = W.rk_r;
	rk.digest[0][31] ^= 0x80;
	ck_assert_int_eq(open_init(&rk, W.init_r.b, W.init_r.len, &hs, &ec, &pw), AS_E_MSG_DECRYPT);
}
END_TEST

START_TEST(stale_and_policy_errors_are_authenticated)
{
	struct as_hs hs;
	struct as_wbuf pw, ew;
	struct as_policy pol;
	struct as_error_msg e;
	uint8_t eb[256];
	uint16_t ec = 0;
	int rc;

	as_policy_default(&pol);
	memset(&hs, 0, sizeof(hs));
	as_wbuf_init(&pw, out_buf, sizeof(out_buf));
	rc = as_msg_open_init(&hs, &W.rk_x, 1, &pol, VEC_TIMESTAMP + 121, 120, NULL, 0x1000, W.init_x.b, W.init_x.len,
			      &pw, &ec, NULL);
	ck_assert_int_eq(rc, AS_E_MSG_STALE);
	ck_assert_uint_eq(ec, AS_ERR_STALE_TIMESTAMP);
	as_wbuf_init(&ew, eb, sizeof(eb));
	ck_assert_int_eq(as_msg_build_error(&hs, ec, hs.ref, NULL, 0, &ew), AS_OK);
	ck_assert_int_eq(as_msg_parse_error(&W.ini_x, eb, as_wbuf_len(&ew), &e, NULL), AS_OK);
	ck_assert_int_eq(e.authenticated, 1);
	/* from the other side of the window too */
	as_hs_clear(&hs);
	as_wbuf_init(&pw, out_buf, sizeof(out_buf));
	rc = as_msg_open_init(&hs, &W.rk_x, 1, &pol, VEC_TIMESTAMP - 121, 120, NULL, 0x1000, W.init_x.b, W.init_x.len,
			      &pw, &ec, NULL);
	ck_assert_int_eq(rc, AS_E_MSG_STALE);
	as_hs_clear(&hs);

	/* a responder that does not allow the chosen cipher says NO_PROPOSAL_CHOSEN */
	ck_assert_int_eq(as_policy_set(&pol, AS_XF_ENCR, "ENCR_AES_CBC-128", NULL), AS_OK);
	as_wbuf_init(&pw, out_buf, sizeof(out_buf));
	rc = as_msg_open_init(&hs, &W.rk_x, 1, &pol, VEC_TIMESTAMP, 120, NULL, 0x1000, W.init_x.b, W.init_x.len, &pw,
			      &ec, NULL);
	ck_assert_int_eq(rc, AS_E_NO_PROPOSAL);
	ck_assert_uint_eq(ec, AS_ERR_NO_PROPOSAL_CHOSEN);
	as_wbuf_init(&ew, eb, sizeof(eb));
	ck_assert_int_eq(as_msg_build_error(&hs, ec, hs.ref, NULL, 0, &ew), AS_OK);
	ck_assert_int_eq(as_msg_parse_error(&W.ini_x, eb, as_wbuf_len(&ew), &e, NULL), AS_OK);
	ck_assert_int_eq(e.authenticated, 1);
	ck_assert_uint_eq(e.code, AS_ERR_NO_PROPOSAL_CHOSEN);
	/* a forged tag does not verify */
	eb[as_wbuf_len(&ew) - 1] ^= 1;
	ck_assert_int_eq(as_msg_parse_error(&W.ini_x, eb, as_wbuf_len(&ew), &e, NULL), AS_E_MSG_AUTH);
	as_hs_clear(&hs);
}
END_TEST

START_TEST(error_messages)
{
	uint8_t eb[256], ref[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, cookie[16] = { 0xc0 };
	struct as_wbuf ew;
	struct as_error_msg e;
	size_t n;

	/* unauthenticated COOKIE_REQUIRED carries the cookie */
	as_wbuf_init(&ew, eb, sizeof(eb));
	ck_assert_int_eq(as_msg_build_error(NULL, AS_ERR_COOKIE_REQUIRED, ref, cookie, sizeof(cookie), &ew),
			 AS_OK);
	n = as_wbuf_len(&ew);
	ck_assert_uint_eq(n, 16 + sizeof(cookie));
	ck_assert_int_eq(as_msg_parse_error(&W.ini_x, eb, n, &e, NULL), AS_OK);
	ck_assert_int_eq(e.authenticated, 0);
	ck_assert_uint_eq(e.data_len, sizeof(cookie));
	ck_assert_mem_eq(e.ref, ref, 8);
	/* every truncation is refused */
	for (size_t l = 0; l < n; l++)
		ck_assert_int_ne(as_msg_parse_error(NULL, eb, l, &e, NULL), AS_OK);
	/* trailing garbage */
	eb[n] = 0;
	ck_assert_int_eq(as_msg_parse_error(NULL, eb, n + 1, &e, NULL), AS_E_TRAILING);
	/* data length beyond the cap */
	ck_assert_int_eq(as_msg_build_error(NULL, 1, ref, eb, AS_ERROR_DATA_MAX + 1, &ew), AS_E_INVAL);
	eb[6] = 0x10;
	ck_assert_int_eq(as_msg_parse_error(NULL, eb, n, &e, NULL), AS_E_MSG_LENGTH);
	/* an authenticated flag with the tag cut off */
	as_wbuf_init(&ew, eb, sizeof(eb));
	ck_assert_int_eq(as_msg_build_error(&W.resp_x, AS_ERR_SPI_IN_USE, ref, NULL, 0, &ew), AS_OK);
	ck_assert_int_eq(as_msg_parse_error(&W.ini_x, eb, as_wbuf_len(&ew) - AS_TAG_LEN, &e, NULL),
			 AS_E_MSG_LENGTH);
	ck_assert_str_eq(as_error_code_name(AS_ERR_INVALID_SPI), "INVALID_SPI");
	ck_assert_str_eq(as_error_code_name(999), "UNKNOWN_ERROR");
}
END_TEST

START_TEST(reply_tampering)
{
	uint8_t r[VEC_MSG_MAX];
	struct as_hs hs = W.ini_x; /* a copy: the SAs are not used here */

	memcpy(r, W.reply.b, W.reply.len);
	r[10] ^= 1; /* DH share region */
	hs.has_fs = 0;
	ck_assert_int_eq(as_msg_open_reply(&hs, r, W.reply.len, NULL), AS_E_MSG_AUTH);
	memcpy(r, W.reply.b, W.reply.len);
	r[4] ^= 1; /* SPI I0: not ours */
	ck_assert_int_eq(as_msg_open_reply(&hs, r, W.reply.len, NULL), AS_E_MSG_PARAM);
	ck_assert_int_eq(as_msg_open_reply(&hs, W.reply.b, W.reply.len - 1, NULL), AS_E_MSG_LENGTH);
	ck_assert_int_eq(as_msg_open_reply(&hs, W.reply.b, 5, NULL), AS_E_TRUNCATED);
	r[0] = 2;
	ck_assert_int_eq(as_msg_open_reply(&hs, r, W.reply.len, NULL), AS_E_MSG_VERSION);
	ck_assert_int_eq(hs.has_fs, 0);
}
END_TEST

START_TEST(peek)
{
	uint8_t t = 0;

	ck_assert_int_eq(as_msg_peek(W.init_x.b, W.init_x.len, &t), AS_OK);
	ck_assert_uint_eq(t, AS_MSG_INIT);
	ck_assert_int_eq(as_msg_peek(W.reply.b, W.reply.len, &t), AS_OK);
	ck_assert_uint_eq(t, AS_MSG_REPLY);
	ck_assert_int_eq(as_msg_peek(W.error.b, W.error.len, &t), AS_OK);
	ck_assert_uint_eq(t, AS_MSG_ERROR);
	ck_assert_int_eq(as_msg_peek(W.error.b, 1, &t), AS_E_TRUNCATED);
}
END_TEST

START_TEST(choose_follows_record_order_and_policy)
{
	static const char *const enc[] = { "ENCR_3DES", "ENCR_AES_CBC-128", "ENCR_AES_GCM_16-256", NULL };
	static const char *const integ[] = { "AUTH_HMAC_MD5_96", "AUTH_HMAC_SHA2_512_256", NULL };
	static const char *const dh[] = { "MODP1536", "MODP3072", "CURVE25519", NULL };
	static const char *const only_old[] = { "ENCR_3DES", NULL };
	char text[AS_REC_MAX_TEXT];
	struct as_keyrec rec;
	struct as_policy pol;
	struct as_params p;
	struct as_diag d = { 0 };

	as_policy_default(&pol);
	ck_assert_int_eq(as_keyrec_format_text(enc, integ, dh, W.rk_x.priv, text, sizeof(text), &d), AS_OK);
	ck_assert_int_eq(as_keyrec_parse_text(text, strlen(text), &rec, &d), AS_OK);
	ck_assert_int_eq(as_msg_choose(&rec, &pol, &p, &d), AS_OK);
	/* 3DES refused, so the next in the record's order */
	ck_assert_str_eq(p.enc->name, "ENCR_AES_CBC-128");
	ck_assert_str_eq(p.integ->name, "AUTH_HMAC_SHA2_512_256");
	ck_assert_str_eq(p.dh->name, "MODP3072");
	/* policy narrower than the record */
	ck_assert_int_eq(as_policy_set(&pol, AS_XF_ENCR, "ENCR_AES_GCM_16-256", &d), AS_OK);
	ck_assert_int_eq(as_msg_choose(&rec, &pol, &p, &d), AS_OK);
	ck_assert_str_eq(p.enc->name, "ENCR_AES_GCM_16-256");
	ck_assert_uint_eq(p.integ->id, AS_AUTH_NONE);
	as_keyrec_free(&rec);
	/* a record with nothing acceptable */
	as_policy_default(&pol);
	ck_assert_int_eq(as_keyrec_format_text(only_old, integ, dh, W.rk_x.priv, text, sizeof(text), &d),
			 AS_OK);
	ck_assert_int_eq(as_keyrec_parse_text(text, strlen(text), &rec, &d), AS_OK);
	ck_assert_int_eq(as_msg_choose(&rec, &pol, &p, &d), AS_E_NO_PROPOSAL);
	ck_assert_ptr_nonnull(strstr(d.msg, "encryption"));
	as_keyrec_free(&rec);
}
END_TEST

/* Full handshake with one transform set and key type; traffic both ways. */
static void full_handshake(const struct as_keyrec *rec, const struct as_rkey *rk, const char *enc,
			   const char *integ, const char *dh, int family, int with_cookie)
{
	static const uint8_t cookie[16] = "0123456789abcdef";
	uint8_t init[VEC_MSG_MAX], reply[VEC_MSG_MAX], esp[512], got[512], pl[200];
	struct as_hs ini, resp;
	struct as_wbuf w, pw;
	struct as_policy pol;
	struct as_diag d = { 0 };
	size_t init_len, reply_len;
	uint16_t ec = 0;
	uint8_t nh;

	memset(&ini, 0, sizeof(ini));
	memset(&resp, 0, sizeof(resp));
	as_policy_default(&pol);
	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7);
	ini.p.enc = as_alg_by_name(AS_XF_ENCR, enc, strlen(enc));
	ini.p.integ = as_alg_by_name(AS_XF_INTEG, integ, strlen(integ));
	ini.p.dh = as_alg_by_name(AS_XF_DH, dh, strlen(dh));
	ck_assert_msg(ini.p.enc && ini.p.integ && ini.p.dh, "%s/%s/%s", enc, integ, dh);
	ini.p.family = (uint8_t)family;
	ini.p.next_header = 17;
	ini.p.timestamp = VEC_TIMESTAMP;
	ck_assert_int_eq(as_msg_init_prepare(&ini, &as_rng_system, &d), AS_OK);
	as_wbuf_init(&w, init, sizeof(init));
	ck_assert_int_eq(as_msg_build_init(&ini, rec, &as_rng_system, with_cookie ? cookie : NULL,
					   with_cookie ? sizeof(cookie) : 0, pl, sizeof(pl), &w, &d),
			 AS_OK);
	init_len = as_wbuf_len(&w);

	as_wbuf_init(&pw, got, sizeof(got));
	ck_assert_msg(as_msg_open_init(&resp, rk, 1, &pol, VEC_TIMESTAMP, 120, &as_rng_system,
				       0x10000 + (uint32_t)family, init, init_len, &pw, &ec,
				       &d) == AS_OK, "%s/%s/%s: %s", enc, integ, dh, d.msg);
	ck_assert_uint_eq(as_wbuf_len(&pw), sizeof(pl));
	ck_assert_mem_eq(got, pl, sizeof(pl));

	as_wbuf_init(&w, reply, sizeof(reply));
	ck_assert_int_eq(as_msg_build_reply(&resp, &w, &d), AS_OK);
	reply_len = as_wbuf_len(&w);
	/* anti-amplification: the reply is never larger than the INIT */
	ck_assert_uint_le(reply_len, init_len);
	ck_assert_int_eq(as_msg_open_reply(&ini, reply, reply_len, &d), AS_OK);

	/* first flight, responder -> initiator */
	as_wbuf_init(&w, esp, sizeof(esp));
	ck_assert_int_eq(as_esp_encap(&resp.sa_out, &as_rng_system, NULL, 6, pl, 100, &w), AS_OK);
	as_wbuf_init(&pw, got, sizeof(got));
	ck_assert_int_eq(as_esp_decap(&ini.sa_in, esp, as_wbuf_len(&w), &nh, &pw), AS_OK);
	ck_assert_mem_eq(got, pl, 100);
	/* forward-secret SAs both ways */
	as_wbuf_init(&w, esp, sizeof(esp));
	ck_assert_int_eq(as_esp_encap(&ini.fs_out, &as_rng_system, NULL, 6, pl, 150, &w), AS_OK);
	as_wbuf_init(&pw, got, sizeof(got));
	ck_assert_int_eq(as_esp_decap(&resp.fs_in, esp, as_wbuf_len(&w), &nh, &pw), AS_OK);
	ck_assert_mem_eq(got, pl, 150);
	as_wbuf_init(&w, esp, sizeof(esp));
	ck_assert_int_eq(as_esp_encap(&resp.fs_out, &as_rng_system, NULL, 17, pl, 33, &w), AS_OK);
	as_wbuf_init(&pw, got, sizeof(got));
	ck_assert_int_eq(as_esp_decap(&ini.fs_in, esp, as_wbuf_len(&w), &nh, &pw), AS_OK);
	ck_assert_uint_eq(nh, 17);
	/* the forward-secret keys differ from the first-flight ones */
	ck_assert_int_ne(memcmp(ini.fs_out.key, ini.sa_out.key, ini.p.enc->key_len), 0);
	/* the first-flight SA does not open forward-secret traffic */
	as_wbuf_init(&pw, got, sizeof(got));
	ck_assert_int_ne(as_esp_decap(&ini.sa_in, esp, as_wbuf_len(&w), &nh, &pw), AS_OK);
	as_hs_clear(&ini);
	as_hs_clear(&resp);
}

static const char *const ENC[] = {
	"ENCR_AES_GCM_16-128", "ENCR_AES_GCM_16-256", "ENCR_CHACHA20_POLY1305", "ENCR_AES_CBC-128",
	"ENCR_AES_CBC-192", "ENCR_AES_CBC-256", "ENCR_AES_CTR-128", "ENCR_AES_CTR-192", "ENCR_AES_CTR-256",
};
static const char *const INTEG[] = {
	"AUTH_HMAC_SHA2_256_128", "AUTH_HMAC_SHA2_384_192", "AUTH_HMAC_SHA2_512_256",
};

START_TEST(every_transform_x25519)
{
	const char *enc = ENC[_i];

	if (!strncmp(enc, "ENCR_AES_GCM", 12) || !strncmp(enc, "ENCR_CHACHA", 11)) {
		full_handshake(&W.rec_x, &W.rk_x, enc, "NONE", "CURVE25519", 4, 0);
	} else {
		for (size_t j = 0; j < sizeof(INTEG) / sizeof(INTEG[0]); j++)
			full_handshake(&W.rec_x, &W.rk_x, enc, INTEG[j], "CURVE25519", 6, 0);
	}
}
END_TEST

START_TEST(rsa_and_modp_and_cookie)
{
	full_handshake(&W.rec_r, &W.rk_r, "ENCR_AES_GCM_16-256", "NONE", "CURVE25519", 4, 0);
	full_handshake(&W.rec_r, &W.rk_r, "ENCR_CHACHA20_POLY1305", "NONE", "MODP2048", 6, 1);
	full_handshake(&W.rec_x, &W.rk_x, "ENCR_AES_CBC-256", "AUTH_HMAC_SHA2_256_128", "MODP3072", 4, 1);
}
END_TEST

START_TEST(cookie_is_authenticated_data)
{
	static const uint8_t cookie[16] = "cookie-cookie-00";
	uint8_t init[VEC_MSG_MAX];
	struct as_hs ini, resp;
	struct as_wbuf w, pw;
	struct as_init_hdr h;
	uint16_t ec;

	memset(&ini, 0, sizeof(ini));
	ini.initiator = 1;
	ini.p = W.ini_x.p;
	ck_assert_int_eq(as_dh_keygen(&ini.dh, ini.p.dh->id, &as_rng_system), AS_OK);
	as_wbuf_init(&w, init, sizeof(init));
	ck_assert_int_eq(as_msg_build_init(&ini, &W.rec_x, &as_rng_system, cookie, sizeof(cookie),
					   W.payload_x, W.payload_x_len, &w, NULL),
			 AS_OK);
	ck_assert_int_eq(as_msg_parse_init_hdr(init, as_wbuf_len(&w), &h, NULL), AS_OK);
	ck_assert_uint_eq(h.cookie_len, sizeof(cookie));
	ck_assert_mem_eq(h.cookie, cookie, sizeof(cookie));
	ck_assert_int_eq(open_init(&W.rk_x, init, as_wbuf_len(&w), &resp, &ec, &pw), AS_OK);
	as_hs_clear(&resp);
	init[AS_INIT_HDR_LEN + 3] ^= 1;
	ck_assert_int_eq(open_init(&W.rk_x, init, as_wbuf_len(&w), &resp, &ec, &pw), AS_E_MSG_DECRYPT);
	as_hs_clear(&resp);
	/* a cookie outside 8..32 octets is refused when building */
	ck_assert_int_eq(as_msg_build_init(&ini, &W.rec_x, &as_rng_system, cookie, 4, W.payload_x,
					   W.payload_x_len, &w, NULL),
			 AS_E_INVAL);
	as_hs_clear(&ini);
}
END_TEST

static Suite *msg_suite(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("handshake");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, vectors_open_on_the_other_side);
	tcase_add_test(tc, init_header_fields);
	tcase_add_test(tc, init_tampering);
	tcase_add_test(tc, init_truncated);
	tcase_add_test(tc, record_digest_binding);
	tcase_add_test(tc, stale_and_policy_errors_are_authenticated);
	tcase_add_test(tc, error_messages);
	tcase_add_test(tc, reply_tampering);
	tcase_add_test(tc, peek);
	tcase_add_test(tc, choose_follows_record_order_and_policy);
	tcase_add_loop_test(tc, every_transform_x25519, 0, sizeof(ENC) / sizeof(ENC[0]));
	tcase_add_test(tc, rsa_and_modp_and_cookie);
	tcase_add_test(tc, cookie_is_authenticated_data);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(msg_suite)
