/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AutoSEC messages from the network: INIT (opened with a fixed X25519 key),
 * REPLY and ERROR (checked against a fixed handshake).  The first input
 * byte selects the parser.  Build corpus inputs with -DFUZZ_MSG_MAKE_CORPUS.
 */
#include <string.h>

#include <openssl/evp.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/keyrec.h"
#include "autosec/msg.h"
#include "autosec/pkey.h"
#include "autosec/rng.h"
#include "fuzz.h"

#define FUZZ_NOW 1764547200u

static struct as_rkey rk;
static struct as_keyrec rec;
static struct as_hs ini; /* an initiator waiting for a REPLY */
static struct as_policy pol;
static struct as_rng_det fuzz_det;
static struct as_rng fuzz_rng;

static void setup(void)
{
	static const uint8_t sk[32] = "autosec fuzz responder key 0001";
	uint8_t spki[AS_SPKI_MAX];
	size_t spki_len = 0;
	struct as_rng_det det;
	struct as_rng rng;

	if (rk.priv)
		return;
	as_policy_default(&pol);
	as_rng_det_init(&fuzz_det, &fuzz_rng, "fuzz responder");
	rk.priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, sizeof(sk));
	if (!rk.priv || as_pkey_to_spki(rk.priv, spki, sizeof(spki), &spki_len))
		__builtin_trap();
	rk.type = AS_KEY_X25519;
	rk.tag = as_pkey_tag(spki, spki_len);
	memset(rk.digest[0], 0x5a, 32);
	rk.n_digest = 1;
	rec.pub = rk.priv;
	rec.key_type = AS_KEY_X25519;
	rec.key_tag = rk.tag;
	memcpy(rec.digest, rk.digest[0], 32);

	as_rng_det_init(&det, &rng, "fuzz initiator");
	ini.p.enc = as_alg_find(AS_XF_ENCR, AS_ENCR_AES_GCM_16, 256);
	ini.p.integ = as_alg_find(AS_XF_INTEG, AS_AUTH_NONE, 0);
	ini.p.dh = as_alg_find(AS_XF_DH, AS_DH_CURVE25519, 0);
	ini.p.family = 4;
	ini.p.next_header = 17;
	ini.p.timestamp = FUZZ_NOW;
	if (as_msg_init_prepare(&ini, &rng, NULL))
		__builtin_trap();
	/* building once derives K_auth, so REPLY/ERROR inputs can verify */
	{
		uint8_t scratch[1024];
		struct as_wbuf w;

		as_wbuf_init(&w, scratch, sizeof(scratch));
		if (as_msg_build_init(&ini, &rec, &rng, NULL, 0, scratch, 8, &w, NULL))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[2048];
	struct as_wbuf w;
	struct as_hs hs;
	struct as_error_msg e;
	uint16_t ec;

	setup();
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		memset(&hs, 0, sizeof(hs));
		as_wbuf_init(&w, out, sizeof(out));
		as_msg_open_init(&hs, &rk, 1, &pol, FUZZ_NOW, AS_FRESHNESS_DEFAULT, &fuzz_rng, 0x5000,
				 data + 1, size - 1,
				 &w, &ec, NULL);
		as_hs_clear(&hs);
		break;
	case 1: {
		struct as_hs copy;

		/* a fresh copy each time: a good REPLY installs SAs */
		memset(&copy, 0, sizeof(copy));
		copy.initiator = 1;
		copy.p = ini.p;
		memcpy(copy.k_auth, ini.k_auth, sizeof(copy.k_auth));
		if (EVP_PKEY_up_ref(ini.dh.pkey) != 1)
			__builtin_trap();
		copy.dh = ini.dh;
		as_msg_open_reply(&copy, data + 1, size - 1, NULL);
		as_hs_clear(&copy);
		break;
	}
	default:
		as_msg_parse_error(&ini, data + 1, size - 1, &e, NULL);
		as_msg_parse_error(NULL, data + 1, size - 1, &e, NULL);
		break;
	}
	return 0;
}

#ifdef FUZZ_MSG_MAKE_CORPUS
/* cc -DFUZZ_MSG_MAKE_CORPUS ... fuzz_msg.c core -o mk && ./mk DIR */
#include <stdio.h>

static void put(const char *dir, const char *name, uint8_t sel, const uint8_t *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return;
	fputc(sel, f);
	fwrite(p, 1, n, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	uint8_t pkt[2048], pl[64] = "payload", rp[2048], cookie[16] = "0123456789abcdef";
	struct as_wbuf w;
	struct as_hs resp, i2;
	struct as_rng_det det;
	struct as_rng rng;
	uint16_t ec;
	size_t n;

	if (argc < 2)
		return 2;
	setup();
	as_rng_det_init(&det, &rng, "fuzz corpus");
	/* the initiator of the fixed handshake, so that its REPLY matches */
	as_wbuf_init(&w, pkt, sizeof(pkt));
	if (as_msg_build_init(&ini, &rec, &rng, NULL, 0, pl, 20, &w, NULL))
		return 1;
	n = as_wbuf_len(&w);
	put(argv[1], "init-x25519-gcm", 0, pkt, n);
	put(argv[1], "init-truncated", 0, pkt, n / 2);
	memset(&resp, 0, sizeof(resp));
	as_wbuf_init(&w, rp, sizeof(rp));
	if (as_msg_open_init(&resp, &rk, 1, &pol, FUZZ_NOW, 120, &rng, 0x1234, pkt, n, &w, &ec, NULL))
		return 1;
	as_wbuf_init(&w, rp, sizeof(rp));
	if (as_msg_build_reply(&resp, &w, NULL))
		return 1;
	put(argv[1], "reply", 1, rp, as_wbuf_len(&w));
	as_wbuf_init(&w, rp, sizeof(rp));
	as_msg_build_error(&resp, AS_ERR_STALE_TIMESTAMP, resp.ref, pl, 8, &w);
	put(argv[1], "error-auth", 2, rp, as_wbuf_len(&w));
	as_wbuf_init(&w, rp, sizeof(rp));
	as_msg_build_error(NULL, AS_ERR_COOKIE_REQUIRED, resp.ref, cookie, 16, &w);
	put(argv[1], "error-cookie", 2, rp, as_wbuf_len(&w));
	/* CBC+HMAC with MODP2048 and a cookie */
	memset(&i2, 0, sizeof(i2));
	i2.p = ini.p;
	i2.p.enc = as_alg_find(AS_XF_ENCR, AS_ENCR_AES_CBC, 128);
	i2.p.integ = as_alg_find(AS_XF_INTEG, AS_AUTH_HMAC_SHA2_256_128, 0);
	i2.p.dh = as_alg_find(AS_XF_DH, AS_DH_MODP2048, 0);
	if (as_msg_init_prepare(&i2, &rng, NULL))
		return 1;
	as_wbuf_init(&w, pkt, sizeof(pkt));
	if (as_msg_build_init(&i2, &rec, &rng, cookie, 16, pl, 40, &w, NULL))
		return 1;
	put(argv[1], "init-cbc-modp-cookie", 0, pkt, as_wbuf_len(&w));
	return 0;
}
#endif
