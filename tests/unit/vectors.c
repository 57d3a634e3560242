/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Builds the PROTOCOL.md section 7 examples.  Everything random comes from
 * as_rng_det streams with the seed texts printed beside each vector, the
 * keys from tests/data/, the clock from VEC_TIMESTAMP: so the output is
 * the same on every machine and any implementation can reproduce it.
 */
#include <stdlib.h>
#include <string.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/pkey.h"
#include "autosec/rng.h"
#include "vectors.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

const char *const vec_names[] = { "x25519-init", "rsa-init", "reply", "error", "esp-fs", NULL };

static int fail(const char *what, int rc, const struct as_diag *d)
{
	fprintf(stderr, "vectors: %s: %s\n", what, as_diag_msg(d, rc));
	return -1;
}

/* The whole of a small file into buf (NUL-terminated); its length or -1. */
static long read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "vectors: cannot open %s\n", path);
		return -1;
	}
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

static int load_key(const char *base, struct as_keyrec *rec, struct as_rkey *rk)
{
	char path[512], text[AS_REC_MAX_TEXT + 1];
	struct as_diag d = { 0 };
	EVP_PKEY *priv = NULL;
	long n;
	int rc;

	snprintf(path, sizeof(path), "%s/%s.pem.rec", TEST_DATA_DIR, base);
	if ((n = read_file(path, text, sizeof(text))) < 0)
		return -1;
	rc = as_keyrec_parse_text(text, (size_t)n, rec, &d);
	if (rc)
		return fail(path, rc, &d);
	/* from memory: git does not keep the 0600 that as_pkey_read_private wants */
	snprintf(path, sizeof(path), "%s/%s.pem", TEST_DATA_DIR, base);
	if ((n = read_file(path, text, sizeof(text))) < 0)
		return -1;
	rc = as_pkey_from_pem(text, (size_t)n, &priv, &d);
	if (!rc)
		rc = as_rkey_set(rk, priv, rec, &d);
	if (rc) {
		EVP_PKEY_free(priv);
		return fail(path, rc, &d);
	}
	return 0;
}

/* RFC 1071 checksum over the pseudo-header and a transport segment. */
static uint16_t csum(const uint8_t *src, const uint8_t *dst, size_t alen, uint8_t proto,
		     const uint8_t *seg, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < alen; i += 2)
		s += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	s += proto + (uint32_t)len;
	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(seg[i] << 8 | seg[i + 1]);
	if (len & 1)
		s += (uint32_t)seg[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A UDP datagram 192.0.2.1:40000 -> 198.51.100.7:7 saying hello. */
static size_t make_udp(struct as_params *p, uint8_t *out, size_t cap)
{
	static const char msg[] = "hello, AutoSEC\n";
	struct as_wbuf w;
	uint16_t c;

	as_wbuf_init(&w, out, cap);
	as_wbuf_u16(&w, 40000);
	as_wbuf_u16(&w, 7);
	as_wbuf_u16(&w, (uint16_t)(8 + sizeof(msg) - 1));
	as_wbuf_u16(&w, 0);
	as_wbuf_put(&w, msg, sizeof(msg) - 1);
	c = csum(p->src, p->dst, 4, 17, out, as_wbuf_len(&w));
	as_wbuf_set_u16(&w, 6, c ? c : 0xffff);
	return as_wbuf_error(&w) ? 0 : as_wbuf_len(&w);
}

/* A TCP SYN [2001:db8::1]:40000 -> [2001:db8::7]:80 with an MSS option. */
static size_t make_syn(struct as_params *p, uint8_t *out, size_t cap)
{
	struct as_wbuf w;

	as_wbuf_init(&w, out, cap);
	as_wbuf_u16(&w, 40000);
	as_wbuf_u16(&w, 80);
	as_wbuf_u32(&w, 0x01020304); /* sequence */
	as_wbuf_u32(&w, 0);          /* acknowledgment */
	as_wbuf_u8(&w, 6 << 4);      /* data offset: 6 words */
	as_wbuf_u8(&w, 0x02);        /* SYN */
	as_wbuf_u16(&w, 64800);      /* window */
	as_wbuf_u16(&w, 0);          /* checksum, below */
	as_wbuf_u16(&w, 0);          /* urgent */
	as_wbuf_u8(&w, 2);           /* MSS option */
	as_wbuf_u8(&w, 4);
	as_wbuf_u16(&w, 1220);
	as_wbuf_set_u16(&w, 16, csum(p->src, p->dst, 16, 6, out, as_wbuf_len(&w)));
	return as_wbuf_error(&w) ? 0 : as_wbuf_len(&w);
}

static const struct as_alg *alg(int type, const char *name)
{
	return as_alg_by_name(type, name, strlen(name));
}

static int build_init(struct as_hs *hs, const struct as_keyrec *rec, const char *seed,
		      struct vec_msg *m, const uint8_t *payload, size_t plen)
{
	struct as_rng_det det;
	struct as_rng rng;
	struct as_wbuf w;
	struct as_diag d = { 0 };
	int rc;

	as_rng_det_init(&det, &rng, seed);
	rc = as_msg_init_prepare(hs, &rng, &d);
	if (rc)
		return fail(seed, rc, &d);
	as_wbuf_init(&w, m->b, sizeof(m->b));
	rc = as_msg_build_init(hs, rec, &rng, NULL, 0, payload, plen, &w, &d);
	if (rc)
		return fail(seed, rc, &d);
	m->len = as_wbuf_len(&w);
	return 0;
}

int vec_build(struct vec_world *w)
{
	static const uint8_t v4src[4] = { 192, 0, 2, 1 }, v4dst[4] = { 198, 51, 100, 7 };
	static const uint8_t v6src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t v6dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };
	static const char fs_text[] = "GET / HTTP/1.0\r\n\r\n";
	struct as_policy pol;
	struct as_diag d = { 0 };
	struct as_rng_det det;
	struct as_rng rng;
	struct as_wbuf wb, pw;
	uint8_t tbuf[8], pbuf[VEC_MSG_MAX];
	uint16_t ec = 0;
	int rc;

	memset(w, 0, sizeof(*w));
	as_policy_default(&pol);
	if (load_key("x25519", &w->rec_x, &w->rk_x) || load_key("rsa2048", &w->rec_r, &w->rk_r))
		return -1;

	/* 7.1: X25519, transforms chosen from the record, a UDP datagram over IPv4 */
	rc = as_msg_choose(&w->rec_x, &pol, &w->ini_x.p, &d);
	if (rc)
		return fail("choose x25519", rc, &d);
	w->ini_x.p.family = 4;
	memcpy(w->ini_x.p.src, v4src, 4);
	memcpy(w->ini_x.p.dst, v4dst, 4);
	w->ini_x.p.next_header = 17;
	w->ini_x.p.timestamp = VEC_TIMESTAMP;
	w->payload_x_len = make_udp(&w->ini_x.p, w->payload_x, sizeof(w->payload_x));
	if (build_init(&w->ini_x, &w->rec_x, "AutoSEC vector 7.1", &w->init_x, w->payload_x,
		       w->payload_x_len))
		return -1;

	/* 7.2: RSA-2048, AES-CBC-256 + HMAC-SHA2-256-128 and MODP2048, a TCP SYN over IPv6 */
	w->ini_r.p.enc = alg(AS_XF_ENCR, "ENCR_AES_CBC-256");
	w->ini_r.p.integ = alg(AS_XF_INTEG, "AUTH_HMAC_SHA2_256_128");
	w->ini_r.p.dh = alg(AS_XF_DH, "MODP2048");
	if (!w->ini_r.p.enc || !w->ini_r.p.integ || !w->ini_r.p.dh)
		return fail("registry lookup for 7.2", AS_E_ALG_UNKNOWN, NULL);
	w->ini_r.p.family = 6;
	memcpy(w->ini_r.p.src, v6src, 16);
	memcpy(w->ini_r.p.dst, v6dst, 16);
	w->ini_r.p.next_header = 6;
	w->ini_r.p.timestamp = VEC_TIMESTAMP;
	w->payload_r_len = make_syn(&w->ini_r.p, w->payload_r, sizeof(w->payload_r));
	if (build_init(&w->ini_r, &w->rec_r, "AutoSEC vector 7.2", &w->init_r, w->payload_r,
		       w->payload_r_len))
		return -1;

	/* 7.3: the responder opens 7.1 and replies */
	as_rng_det_init(&det, &rng, "AutoSEC vector 7.3");
	as_wbuf_init(&pw, pbuf, sizeof(pbuf));
	rc = as_msg_open_init(&w->resp_x, &w->rk_x, 1, &pol, VEC_TIMESTAMP + 1, AS_FRESHNESS_DEFAULT,
			      &rng, 0x7e570001, w->init_x.b, w->init_x.len, &pw, &ec, &d);
	if (rc)
		return fail("open 7.1", rc, &d);
	as_wbuf_init(&wb, w->reply.b, sizeof(w->reply.b));
	rc = as_msg_build_reply(&w->resp_x, &wb, &d);
	if (rc)
		return fail("reply 7.3", rc, &d);
	w->reply.len = as_wbuf_len(&wb);

	/* 7.4: an authenticated STALE_TIMESTAMP for 7.1, as if the clock were 10 min late */
	as_wbuf_init(&wb, tbuf, sizeof(tbuf));
	as_wbuf_u64(&wb, VEC_TIMESTAMP + 600);
	as_wbuf_init(&wb, w->error.b, sizeof(w->error.b));
	rc = as_msg_build_error(&w->resp_x, AS_ERR_STALE_TIMESTAMP, w->resp_x.ref, tbuf, sizeof(tbuf),
				&wb);
	if (rc)
		return fail("error 7.4", rc, NULL);
	w->error.len = as_wbuf_len(&wb);

	/* 7.5: the initiator takes the REPLY and sends its next packet forward-secret */
	rc = as_msg_open_reply(&w->ini_x, w->reply.b, w->reply.len, &d);
	if (rc)
		return fail("open 7.3", rc, &d);
	memcpy(w->esp_fs_payload, fs_text, sizeof(fs_text) - 1);
	w->esp_fs_payload_len = sizeof(fs_text) - 1;
	as_rng_det_init(&det, &rng, "AutoSEC vector 7.5");
	as_wbuf_init(&wb, w->esp_fs.b, sizeof(w->esp_fs.b));
	rc = as_esp_encap(&w->ini_x.fs_out, &rng, NULL, 6, w->esp_fs_payload, w->esp_fs_payload_len,
			  &wb);
	if (rc)
		return fail("ESP 7.5", rc, NULL);
	w->esp_fs.len = as_wbuf_len(&wb);
	return 0;
}

void vec_free(struct vec_world *w)
{
	as_keyrec_free(&w->rec_x);
	as_keyrec_free(&w->rec_r);
	as_rkey_free(&w->rk_x);
	as_rkey_free(&w->rk_r);
	as_hs_clear(&w->ini_x);
	as_hs_clear(&w->resp_x);
	as_hs_clear(&w->ini_r);
}

static void hexline(FILE *f, const char *label, const uint8_t *p, size_t n)
{
	fprintf(f, "%s", label);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
	fputc('\n', f);
}

static void hexdump(FILE *f, const char *label, const uint8_t *p, size_t n)
{
	fprintf(f, "%s (%zu octets):\n", label, n);
	for (size_t i = 0; i < n; i += 16) {
		fprintf(f, "  %04zx ", i);
		for (size_t j = i; j < n && j < i + 16; j++)
			fprintf(f, " %02x", p[j]);
		fputc('\n', f);
	}
}

static void print_sa(FILE *f, const char *label, const struct as_esp_sa *sa)
{
	char l[64];

	snprintf(l, sizeof(l), "%s SPI %08x  encryption key: ", label, sa->spi);
	hexline(f, l, sa->key, sa->enc->key_len);
	if (sa->enc->salt_len) {
		snprintf(l, sizeof(l), "%s SPI %08x  salt:           ", label, sa->spi);
		hexline(f, l, sa->salt, sa->enc->salt_len);
	}
	if (sa->integ && sa->integ->ikey_len) {
		snprintf(l, sizeof(l), "%s SPI %08x  integrity key:  ", label, sa->spi);
		hexline(f, l, sa->ikey, sa->integ->ikey_len);
	}
}

static void print_init(FILE *f, const char *seed, const struct as_keyrec *rec,
		       const struct as_hs *hs, const uint8_t *pl, size_t pll, const struct vec_msg *m)
{
	const struct as_params *p = &hs->p;
	char a[64];

	fprintf(f, "random stream seed: \"%s\"\n", seed);
	fprintf(f, "record: tests/data/%s.pem.rec, key tag %u\n",
		rec->key_type == AS_KEY_RSA ? "rsa2048" : "x25519", rec->key_tag);
	hexline(f, "record digest: ", rec->digest, 32);
	fprintf(f, "timestamp: %llu\n", (unsigned long long)p->timestamp);
	fprintf(f, "transforms: %s, %s, %s\n", p->enc->name, p->integ->name, p->dh->name);
	fprintf(f, "SPI R0 %08x, SPI I0 %08x, SPI I1 %08x\n", p->spi_r0, p->spi_i0, p->spi_i1);
	if (p->family == 4)
		snprintf(a, sizeof(a), "%u.%u.%u.%u -> %u.%u.%u.%u", p->src[0], p->src[1], p->src[2],
			 p->src[3], p->dst[0], p->dst[1], p->dst[2], p->dst[3]);
	else
		snprintf(a, sizeof(a), "2001:db8::%x -> 2001:db8::%x", p->src[15], p->dst[15]);
	fprintf(f, "original addresses: %s, next header %u\n", a, p->next_header);
	hexline(f, "nonce: ", p->nonce, sizeof(p->nonce));
	hexline(f, "key material: ", p->key_material, sizeof(p->key_material));
	hexline(f, "K_auth: ", hs->k_auth, sizeof(hs->k_auth));
	print_sa(f, "initiator->responder", &hs->sa_out);
	print_sa(f, "responder->initiator", &hs->sa_in);
	hexdump(f, "payload", pl, pll);
	hexdump(f, "INIT", m->b, m->len);
}

int vec_print(const struct vec_world *w, const char *name, FILE *f)
{
	if (!strcmp(name, "x25519-init")) {
		print_init(f, "AutoSEC vector 7.1", &w->rec_x, &w->ini_x, w->payload_x, w->payload_x_len,
			   &w->init_x);
	} else if (!strcmp(name, "rsa-init")) {
		print_init(f, "AutoSEC vector 7.2", &w->rec_r, &w->ini_r, w->payload_r, w->payload_r_len,
			   &w->init_r);
	} else if (!strcmp(name, "reply")) {
		fprintf(f, "random stream seed: \"AutoSEC vector 7.3\"\n");
		fprintf(f, "SPI R1 %08x\n", w->resp_x.spi_r1);
		print_sa(f, "initiator->responder", &w->ini_x.fs_out);
		print_sa(f, "responder->initiator", &w->ini_x.fs_in);
		hexdump(f, "REPLY", w->reply.b, w->reply.len);
	} else if (!strcmp(name, "error")) {
		fprintf(f, "STALE_TIMESTAMP for the INIT of 7.1, responder clock %u\n",
			VEC_TIMESTAMP + 600);
		hexdump(f, "ERROR", w->error.b, w->error.len);
	} else if (!strcmp(name, "esp-fs")) {
		fprintf(f, "random stream seed: \"AutoSEC vector 7.5\"\n");
		hexdump(f, "payload", w->esp_fs_payload, w->esp_fs_payload_len);
		hexdump(f, "ESP", w->esp_fs.b, w->esp_fs.len);
	} else {
		return -1;
	}
	return 0;
}
