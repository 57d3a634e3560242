/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * For tests/keylog-tshark.sh: ESP packets made by our esp.c, a capture of
 * them, and the keylog lines for their SAs, so that tshark can say whether
 * the exported keys really decrypt our packets.
 *
 *   keylog_pcap OUTDIR
 *
 * writes OUTDIR/esp.pcap (classic pcap, LINKTYPE_RAW: each record is an IP
 * packet), OUTDIR/esp_sa (through as_keylog, exactly as the helper writes
 * it) and OUTDIR/expect, one line per packet:
 *
 *   FRAME NAME COMMENTED PAYLOAD-HEX
 *
 * where PAYLOAD-HEX is the inner UDP payload tshark must show once the
 * packet is decrypted, and COMMENTED is 1 when the keylog line is written
 * commented out (a transform Wireshark 4.0 does not know).
 *
 * IPv4 packets are ESP-in-UDP on port 4500 (RFC 3948), IPv6 packets native
 * ESP (next header 50); inside is a transport-mode UDP datagram.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/esp.h"
#include "autosec/keylog.h"
#include "autosec/rng.h"

#define LINKTYPE_RAW 101

struct tcase {
	const char *name;
	int family;
	const char *enc, *integ;
	uint32_t spi;
};

static const struct tcase cases[] = {
	{ "v4-aes-gcm-256", AF_INET, "ENCR_AES_GCM_16-256", NULL, 0xa5000001 },
	{ "v4-aes-cbc-256-sha256", AF_INET, "ENCR_AES_CBC-256", "AUTH_HMAC_SHA2_256_128",
	  0xa5000002 },
	{ "v4-chacha20-poly1305", AF_INET, "ENCR_CHACHA20_POLY1305", NULL, 0xa5000003 },
	{ "v4-aes-ctr-128-sha384", AF_INET, "ENCR_AES_CTR-128", "AUTH_HMAC_SHA2_384_192",
	  0xa5000004 },
	{ "v6-aes-gcm-256", AF_INET6, "ENCR_AES_GCM_16-256", NULL, 0xb6000001 },
	{ "v6-aes-cbc-256-sha256", AF_INET6, "ENCR_AES_CBC-256", "AUTH_HMAC_SHA2_256_128",
	  0xb6000002 },
	{ "v6-chacha20-poly1305", AF_INET6, "ENCR_CHACHA20_POLY1305", NULL, 0xb6000003 },
	{ "v6-aes-gcm-128", AF_INET6, "ENCR_AES_GCM_16-128", NULL, 0xb6000004 },
	{ "v6-aes-cbc-128-sha512", AF_INET6, "ENCR_AES_CBC-128", "AUTH_HMAC_SHA2_512_256",
	  0xb6000005 },
};

/* Documentation addresses (RFC 5737, RFC 3849); the IPv6 pair has runs of
 * zero groups, which Wireshark's address matching has to expand. */
static const uint8_t v4_src[4] = { 192, 0, 2, 1 }, v4_dst[4] = { 198, 51, 100, 7 };
static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2 };

static int fail(const char *what, int rc)
{
	fprintf(stderr, "keylog_pcap: %s: %s\n", what, as_strerror(rc));
	return 1;
}

/* pcap's own headers are in the writer's byte order; we write little-endian. */
static void le32(struct as_wbuf *w, uint32_t v)
{
	as_wbuf_u8(w, (uint8_t)v);
	as_wbuf_u8(w, (uint8_t)(v >> 8));
	as_wbuf_u8(w, (uint8_t)(v >> 16));
	as_wbuf_u8(w, (uint8_t)(v >> 24));
}

static uint16_t ip4_checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The inner datagram: UDP header (RFC 768) and a text payload.  Its checksum
 * is left 0: Wireshark does not verify UDP checksums by default. */
static size_t inner_udp(uint8_t *buf, size_t cap, unsigned idx, const char *text)
{
	struct as_wbuf w;
	size_t n = strlen(text);

	as_wbuf_init(&w, buf, cap);
	as_wbuf_u16(&w, (uint16_t)(40000 + idx));
	as_wbuf_u16(&w, 50000);
	as_wbuf_u16(&w, (uint16_t)(8 + n));
	as_wbuf_u16(&w, 0);
	as_wbuf_put(&w, text, n);
	return as_wbuf_error(&w) ? 0 : as_wbuf_len(&w);
}

/*
 * IPv4 (RFC 791) | UDP 4500 -> 4500 (RFC 3948 2.1) | ESP, or
 * IPv6 (RFC 8200) with next header 50 | ESP.
 */
static int outer(struct as_wbuf *w, int family, const uint8_t *esp, size_t esp_len)
{
	size_t start = as_wbuf_len(w);
	uint8_t *hdr;

	if (family == AF_INET) {
		as_wbuf_u8(w, 0x45);
		as_wbuf_u8(w, 0);
		as_wbuf_u16(w, (uint16_t)(20 + 8 + esp_len));
		as_wbuf_u16(w, 0x1234);
		as_wbuf_u16(w, 0x4000); /* DF */
		as_wbuf_u8(w, 64);
		as_wbuf_u8(w, 17);
		as_wbuf_u16(w, 0);
		as_wbuf_put(w, v4_src, 4);
		as_wbuf_put(w, v4_dst, 4);
		if (as_wbuf_range(w, start, 20, &hdr) == AS_OK)
			as_wbuf_set_u16(w, start + 10, ip4_checksum(hdr, 20));
		as_wbuf_u16(w, 4500);
		as_wbuf_u16(w, 4500);
		as_wbuf_u16(w, (uint16_t)(8 + esp_len));
		as_wbuf_u16(w, 0);
	} else {
		as_wbuf_u32(w, 0x60000000);
		as_wbuf_u16(w, (uint16_t)esp_len);
		as_wbuf_u8(w, 50);
		as_wbuf_u8(w, 64);
		as_wbuf_put(w, v6_src, 16);
		as_wbuf_put(w, v6_dst, 16);
	}
	as_wbuf_put(w, esp, esp_len);
	return as_wbuf_error(w);
}

int main(int argc, char **argv)
{
	static uint8_t pcap[65536];
	struct as_wbuf pw;
	struct as_keylog kl;
	struct as_rng rng;
	struct as_rng_det det;
	struct as_diag d = { 0 };
	char path[4096];
	FILE *ex, *pf;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: keylog_pcap OUTDIR\n");
		return 2;
	}
	as_rng_det_init(&det, &rng, "autosec keylog-tshark");
	snprintf(path, sizeof(path), "%s/esp_sa", argv[1]);
	if ((rc = as_keylog_open(&kl, path, &d)))
		return fail(as_diag_msg(&d, rc), rc);
	snprintf(path, sizeof(path), "%s/expect", argv[1]);
	ex = fopen(path, "w");
	if (!ex) {
		perror(path);
		return 1;
	}
	/* pcap global header: magic, version 2.4, zone, sigfigs, snaplen, link type */
	as_wbuf_init(&pw, pcap, sizeof(pcap));
	le32(&pw, 0xa1b2c3d4);
	as_wbuf_u8(&pw, 2);
	as_wbuf_u8(&pw, 0);
	as_wbuf_u8(&pw, 4);
	as_wbuf_u8(&pw, 0);
	le32(&pw, 0);
	le32(&pw, 0);
	le32(&pw, 65535);
	le32(&pw, LINKTYPE_RAW);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *t = &cases[i];
		const struct as_alg *enc = as_alg_by_name(AS_XF_ENCR, t->enc, strlen(t->enc));
		const struct as_alg *integ =
			t->integ ? as_alg_by_name(AS_XF_INTEG, t->integ, strlen(t->integ)) : NULL;
		uint8_t keymat[128], inner[256], esp[512], pkt[1024], *pl;
		char text[128], line[AS_KEYLOG_LINE_MAX];
		struct as_esp_sa sa;
		struct as_wbuf w;
		size_t km, ilen;
		int commented = 0;

		if (!enc || (t->integ && !integ))
			return fail(t->name, AS_E_ALG_UNKNOWN);
		km = as_esp_keymat_len(enc, integ);
		if (km > sizeof(keymat))
			return fail(t->name, AS_E_NOSPACE);
		if ((rc = as_rng_bytes(&rng, keymat, km)))
			return fail(t->name, rc);
		memset(&sa, 0, sizeof(sa));
		if ((rc = as_esp_sa_init(&sa, t->spi, enc, integ, keymat, km, 0)))
			return fail(t->name, rc);
		snprintf(text, sizeof(text), "autosec keylog test %zu: %s", i + 1, t->name);
		ilen = inner_udp(inner, sizeof(inner), (unsigned)i, text);
		as_wbuf_init(&w, esp, sizeof(esp));
		if (!ilen || (rc = as_esp_encap(&sa, &rng, NULL, 17, inner, ilen, &w)))
			return fail(t->name, ilen ? rc : AS_E_NOSPACE);
		{
			struct as_wbuf ow;
			size_t plen;

			as_wbuf_init(&ow, pkt, sizeof(pkt));
			if ((rc = outer(&ow, t->family, as_wbuf_data(&w), as_wbuf_len(&w))))
				return fail(t->name, rc);
			plen = as_wbuf_len(&ow);
			le32(&pw, 1700000000 + (uint32_t)i);
			le32(&pw, 0);
			le32(&pw, (uint32_t)plen);
			le32(&pw, (uint32_t)plen);
			as_wbuf_put(&pw, pkt, plen);
		}
		rc = as_keylog_sa(&kl, t->family, t->family == AF_INET ? v4_src : v6_src,
				  t->family == AF_INET ? v4_dst : v6_dst, &sa);
		if (rc)
			return fail("as_keylog_sa", rc);
		rc = as_keylog_format(line, sizeof(line), t->family,
				      t->family == AF_INET ? v4_src : v6_src,
				      t->family == AF_INET ? v4_dst : v6_dst, &sa, &commented);
		if (rc)
			return fail("as_keylog_format", rc);
		fprintf(ex, "%zu %s %d ", i + 1, t->name, commented);
		pl = inner + 8;
		for (size_t k = 0; k < ilen - 8; k++)
			fprintf(ex, "%02x", pl[k]);
		fputc('\n', ex);
		as_esp_sa_clear(&sa);
	}
	as_keylog_close(&kl);
	if (fclose(ex) != 0 || as_wbuf_error(&pw))
		return fail("expect/pcap", AS_E_IO);
	snprintf(path, sizeof(path), "%s/esp.pcap", argv[1]);
	pf = fopen(path, "wb");
	if (!pf || fwrite(as_wbuf_data(&pw), 1, as_wbuf_len(&pw), pf) != as_wbuf_len(&pw) ||
	    fclose(pf) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}
