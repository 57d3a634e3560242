/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz ESP decapsulation (helper/esp.c).
 *
 * Input: one selector byte, then the ESP packet.
 *   bits 0-3  transform set (mod the number of sets below)
 *   bit  4    extended sequence numbers
 *   bits 5-6  where the receiver's window starts (so ESN inference and the
 *             window edges are reachable from small inputs)
 * The SA has fixed keys.  Whatever decap accepts must be refused as a replay
 * the second time, and must survive encap (on the same SA, which switches
 * the cipher context's direction) and decap on a fresh SA unchanged.  A
 * refused packet must leave the window alone unless it was authentic.
 *
 * Built with -DFUZZ_ESP_MAKE_CORPUS this file is a program that writes the
 * seed corpus (tests/fuzz/corpus/esp/) from packets the real code builds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/esp.h"
#include "autosec/rng.h"
#include "fuzz.h"

/* The registry's values (helper/alg.c), kept local so the target stands alone. */
#define ENCR(ident, kl, sl, ivl, blk, icv, ae, on)                                     \
	{ .type = AS_XF_ENCR, .id = (ident), .aead = (ae), .key_len = (kl),             \
	  .salt_len = (sl), .iv_len = (ivl), .block = (blk), .icv_len = (icv), .ossl = (on) }
#define INTEG(ident, ikl, icv, on)                                                     \
	{ .type = AS_XF_INTEG, .id = (ident), .icv_len = (icv), .ikey_len = (ikl), .ossl = (on) }

static const struct as_alg f_gcm128 = ENCR(AS_ENCR_AES_GCM_16, 16, 4, 8, 4, 16, 1, "AES-128-GCM");
static const struct as_alg f_gcm256 = ENCR(AS_ENCR_AES_GCM_16, 32, 4, 8, 4, 16, 1, "AES-256-GCM");
static const struct as_alg f_chacha =
	ENCR(AS_ENCR_CHACHA20_POLY1305, 32, 4, 8, 4, 16, 1, "ChaCha20-Poly1305");
static const struct as_alg f_cbc128 = ENCR(AS_ENCR_AES_CBC, 16, 0, 16, 16, 0, 0, "AES-128-CBC");
static const struct as_alg f_cbc192 = ENCR(AS_ENCR_AES_CBC, 24, 0, 16, 16, 0, 0, "AES-192-CBC");
static const struct as_alg f_cbc256 = ENCR(AS_ENCR_AES_CBC, 32, 0, 16, 16, 0, 0, "AES-256-CBC");
static const struct as_alg f_ctr128 = ENCR(AS_ENCR_AES_CTR, 16, 4, 8, 4, 0, 0, "AES-128-CTR");
static const struct as_alg f_ctr192 = ENCR(AS_ENCR_AES_CTR, 24, 4, 8, 4, 0, 0, "AES-192-CTR");
static const struct as_alg f_ctr256 = ENCR(AS_ENCR_AES_CTR, 32, 4, 8, 4, 0, 0, "AES-256-CTR");
static const struct as_alg f_sha256 = INTEG(AS_AUTH_HMAC_SHA2_256_128, 32, 16, "SHA256");
static const struct as_alg f_sha384 = INTEG(AS_AUTH_HMAC_SHA2_384_192, 48, 24, "SHA384");
static const struct as_alg f_sha512 = INTEG(AS_AUTH_HMAC_SHA2_512_256, 64, 32, "SHA512");
static const struct as_alg f_none = INTEG(AS_AUTH_NONE, 0, 0, NULL);

static const struct {
	const char *name;
	const struct as_alg *enc, *integ;
} sets[] = {
	{ "gcm128", &f_gcm128, NULL },
	{ "gcm256", &f_gcm256, NULL },
	{ "chacha", &f_chacha, NULL },
	{ "cbc128-sha256", &f_cbc128, &f_sha256 },
	{ "cbc192-sha384", &f_cbc192, &f_sha384 },
	{ "cbc256-sha512", &f_cbc256, &f_sha512 },
	{ "ctr128-sha256", &f_ctr128, &f_sha256 },
	{ "ctr192-sha384", &f_ctr192, &f_sha384 },
	{ "ctr256-sha512", &f_ctr256, &f_sha512 },
	{ "cbc128-none", &f_cbc128, &f_none },
	{ "ctr256-none", &f_ctr256, &f_none },
};
#define N_SETS (sizeof(sets) / sizeof(sets[0]))
#define FUZZ_SPI 0x00001000u

static const uint64_t tops[4] = { 0, 100, 0xfffffff0ull, 0x100000010ull };

static int fz_sa(struct as_esp_sa *sa, uint8_t sel)
{
	const struct as_alg *enc = sets[(sel & 0x0f) % N_SETS].enc;
	const struct as_alg *integ = sets[(sel & 0x0f) % N_SETS].integ;
	uint8_t km[128];
	size_t n = as_esp_keymat_len(enc, integ);

	for (size_t i = 0; i < n; i++)
		km[i] = (uint8_t)(i * 13 + 7);
	return as_esp_sa_init(sa, FUZZ_SPI, enc, integ, km, n, sel & 0x10);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[70000], pkt[70000], back[70000];
	struct as_esp_sa sa, rx;
	struct as_wbuf w, w2;
	uint64_t top0;
	uint8_t sel, nh = 0, nh2 = 0;
	size_t plen, len;
	int rc;

	if (size < 1 || size > 65536)
		return 0;
	sel = data[0];
	if (fz_sa(&sa, sel) != AS_OK)
		abort();
	sa.replay.top = top0 = tops[(sel >> 5) & 3];

	as_wbuf_init(&w, out, sizeof(out));
	rc = as_esp_decap(&sa, data + 1, size - 1, &nh, &w);
	if (rc != AS_OK) {
		/* Only an authentic packet may move the window (then with bad padding). */
		if (sa.replay.top != top0 && rc != AS_E_ESP_PAD)
			abort();
		if (as_wbuf_len(&w) != 0)
			abort();
		goto done;
	}
	plen = as_wbuf_len(&w);
	/* a peer may pad more than needed, never less */
	if (plen + as_esp_overhead(&sa, plen) > size - 1)
		abort();
	/* the same packet again is a replay */
	as_wbuf_init(&w2, pkt, sizeof(pkt));
	if (as_esp_decap(&sa, data + 1, size - 1, &nh2, &w2) != AS_E_ESP_REPLAY)
		abort();

	/* encap what was accepted (same SA: the context changes direction) */
	as_wbuf_init(&w2, pkt, sizeof(pkt));
	if (as_esp_encap(&sa, NULL, NULL, nh, out, plen, &w2) != AS_OK)
		abort();
	len = as_wbuf_len(&w2);
	if (fz_sa(&rx, sel) != AS_OK)
		abort();
	as_wbuf_init(&w, back, sizeof(back));
	if (as_esp_decap(&rx, pkt, len, &nh2, &w) != AS_OK || as_wbuf_len(&w) != plen ||
	    nh2 != nh || memcmp(back, out, plen) != 0)
		abort();
	as_esp_sa_clear(&rx);
done:
	as_esp_sa_clear(&sa);
	return 0;
}

#ifdef FUZZ_ESP_MAKE_CORPUS
static void put(const char *dir, const char *name, uint8_t sel, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&sel, 1, 1, f) != 1 || (n && fwrite(p, 1, n, f) != n) || fclose(f)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const size_t sizes[N_SETS] = { 20, 0, 40, 33, 1, 64, 17, 2, 5, 28, 9 };
	uint8_t payload[128], pkt[512];
	struct as_rng_det det;
	struct as_rng rng;
	size_t len = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	as_rng_det_init(&det, &rng, "fuzz_esp corpus");
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0x45 + i);
	for (size_t s = 0; s < N_SETS; s++) {
		/* odd sets with ESN; a few start from a window near 2^32 */
		uint8_t sel = (uint8_t)(s | (s & 1 ? 0x10 : 0) | (s % 4 == 1 ? 0x40 : 0));
		struct as_esp_sa sa;
		struct as_wbuf w;
		char name[64];

		if (fz_sa(&sa, sel) != AS_OK)
			return 1;
		sa.seq = tops[(sel >> 5) & 3] + 1; /* the receiver's window top + 2 */
		as_wbuf_init(&w, pkt, sizeof(pkt));
		if (as_esp_encap(&sa, &rng, NULL, s == 2 ? 59 : 4, payload, sizes[s], &w) != AS_OK)
			return 1;
		len = as_wbuf_len(&w);
		snprintf(name, sizeof(name), "%s%s-%zu", sets[s].name, sel & 0x10 ? "-esn" : "",
			 sizes[s]);
		put(argv[1], name, sel, pkt, len);
		if (s == 0) {
			/* malformed: cut header, cut ICV, flipped ICV, wrong SPI, seq 0 */
			put(argv[1], "bad-truncated-header", sel, pkt, 6);
			put(argv[1], "bad-truncated-icv", sel, pkt, len - 1);
			pkt[len - 1] ^= 0x80;
			put(argv[1], "bad-icv", sel, pkt, len);
			pkt[len - 1] ^= 0x80;
			pkt[3] ^= 1;
			put(argv[1], "bad-spi", sel, pkt, len);
			pkt[3] ^= 1;
			memset(pkt + 4, 0, 4);
			put(argv[1], "bad-seq0", sel, pkt, len);
		}
		as_esp_sa_clear(&sa);
	}
	return 0;
}
#endif
