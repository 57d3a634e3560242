/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Demo: one AutoSEC exchange, both sides in one process, narrated.
 *
 *   autosec-first-datagram NAME --server ADDR[:PORT] --key KEYFILE [--message TEXT]
 *
 * Looks NAME's key up in DNS, builds the first datagram carrying TEXT, then
 * plays the responder with KEYFILE (and KEYFILE.rec, the record it
 * published): opens it, replies, and both sides move to forward-secret SAs.
 * Prints what happens at each step; never prints a key.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/dns.h"
#include "autosec/err.h"
#include "autosec/keyrec.h"
#include "autosec/msg.h"
#include "autosec/pkey.h"
#include "autosec/rng.h"

static void dump(const char *label, const uint8_t *p, size_t n, size_t max)
{
	printf("    %s (%zu octets%s):", label, n, n > max ? ", first ones" : "");
	for (size_t i = 0; i < n && i < max; i++)
		printf("%s%02x", i % 16 ? " " : "\n      ", p[i]);
	printf("\n");
}

static int contains(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	return m && n >= m && memmem(hay, n, needle, m) != NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "message", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *server = NULL, *keyfile = NULL, *msg = "GET / HTTP/1.1\r\nHost: demo\r\n\r\n";
	static uint8_t init[4096], reply[4096], got[4096], esp[4096];
	struct as_dns_opts o = { 0 };
	struct as_dns_result res;
	struct as_dns *dns = NULL;
	struct as_diag d = { 0 };
	struct as_policy pol;
	struct as_hs ini, resp;
	struct as_rkey rk = { 0 };
	struct as_init_hdr h;
	struct as_wbuf w, pw;
	const struct as_keyrec *rec;
	uint16_t ec = 0;
	uint8_t nh = 0;
	int c, rc, ret = 1;

	while ((c = getopt_long(argc, argv, "s:k:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'm': msg = optarg; break;
		case 'h':
			printf("usage: %s NAME --server ADDR[:PORT] --key KEYFILE [--message TEXT]\n", argv[0]);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || !keyfile) {
		fprintf(stderr, "usage: %s NAME --server ADDR[:PORT] --key KEYFILE [--message TEXT]\n",
			argv[0]);
		return 2;
	}
	memset(&ini, 0, sizeof(ini));
	memset(&resp, 0, sizeof(resp));
	memset(&res, 0, sizeof(res));
	as_policy_default(&pol);

	printf("1. initiator: DNS lookup of the AutoSEC key for %s\n", argv[optind]);
	o.servers = server;
	rc = as_dns_new(&dns, &o, &d);
	if (!rc)
		rc = as_dns_lookup(dns, argv[optind], &res);
	if (rc || res.n == 0) {
		fprintf(stderr, "   lookup failed: %s\n", as_diag_msg(res.diag ? res.diag : &d, rc ? rc : res.status));
		goto out;
	}
	rec = &res.rec[0];
	printf("   found %s at %s%s: %s-%u key, key tag %u, TTL %u s\n", rec->from_txt ? "TXT" : "KEY",
	       rec->from_txt ? "_autosec." : "", argv[optind],
	       rec->key_type == AS_KEY_RSA ? "RSA" : "X25519", rec->key_bits, rec->key_tag, res.ttl);

	printf("2. initiator: choose transforms (the record's preference order, filtered by local policy)\n");
	rc = as_msg_choose(rec, &pol, &ini.p, &d);
	if (rc) {
		fprintf(stderr, "   %s\n", as_diag_msg(&d, rc));
		goto out;
	}
	printf("   encryption %s, integrity %s, DH group %s\n", ini.p.enc->name, ini.p.integ->name,
	       ini.p.dh->name);

	printf("3. initiator: build the first datagram carrying the application's first %zu octets\n",
	       strlen(msg));
	ini.p.family = 4;
	ini.p.src[0] = 127, ini.p.src[3] = 1;
	ini.p.dst[0] = 127, ini.p.dst[3] = 2;
	ini.p.next_header = 6;
	ini.p.timestamp = (uint64_t)time(NULL);
	as_wbuf_init(&w, init, sizeof(init));
	rc = as_msg_init_prepare(&ini, &as_rng_system, &d);
	if (!rc)
		rc = as_msg_build_init(&ini, rec, &as_rng_system, NULL, 0, (const uint8_t *)msg, strlen(msg),
				       &w, &d);
	if (rc) {
		fprintf(stderr, "   %s\n", as_diag_msg(&d, rc));
		goto out;
	}
	as_msg_parse_init_hdr(init, as_wbuf_len(&w), &h, NULL);
	printf("   INIT of %zu octets: clear header %zu, sealed block %zu (%s), ESP packet %zu (SPI %08x, seq 1)\n",
	       as_wbuf_len(&w), h.aad_len, h.block_len,
	       h.suite == AS_SUITE_RSA ? "RSA-OAEP + AES-128-GCM" : "HPKE X25519 + AES-128-GCM", h.esp_len,
	       ini.p.spi_r0);
	dump("on the wire", init, as_wbuf_len(&w), 48);
	printf("   application bytes visible in the datagram: %s\n",
	       contains(init, as_wbuf_len(&w), msg, strlen(msg)) ? "YES (bug!)" : "none");

	printf("4. responder: open it with private key %s (key tag must match)\n", keyfile);
	rc = as_rkey_load(keyfile, &rk, &d);
	if (rc) {
		fprintf(stderr, "   responder key: %s\n", as_diag_msg(&d, rc));
		goto out;
	}
	as_wbuf_init(&pw, got, sizeof(got));
	rc = as_msg_open_init(&resp, &rk, 1, &pol, (uint64_t)time(NULL), AS_FRESHNESS_DEFAULT,
			      &as_rng_system, 0x00c0ffee, init,
			      as_wbuf_len(&w), &pw, &ec, &d);
	if (rc) {
		fprintf(stderr, "   refused: %s (would answer %s)\n", as_diag_msg(&d, rc),
			ec ? as_error_code_name(ec) : "nothing");
		goto out;
	}
	printf("   key tag %u matched, record digest matched, timestamp fresh\n", rk.tag);
	printf("   SA installed: in SPI %08x, out SPI %08x, %s\n", resp.sa_in.spi, resp.sa_out.spi,
	       resp.p.enc->name);
	printf("   header stripped, plain ESP decrypted: next header %u, %zu octets: \"%.*s\"\n",
	       resp.p.next_header, as_wbuf_len(&pw), (int)strcspn((const char *)got, "\r\n"), got);

	printf("5. responder: REPLY with its own %s share; initiator verifies it\n", resp.p.dh->name);
	as_wbuf_init(&w, reply, sizeof(reply));
	rc = as_msg_build_reply(&resp, &w, &d);
	if (!rc)
		rc = as_msg_open_reply(&ini, reply, as_wbuf_len(&w), &d);
	if (rc) {
		fprintf(stderr, "   %s\n", as_diag_msg(&d, rc));
		goto out;
	}
	printf("   REPLY of %zu octets authenticated; forward-secret SAs: i->r SPI %08x, r->i SPI %08x\n",
	       as_wbuf_len(&w), ini.fs_out.spi, ini.fs_in.spi);

	printf("6. both: ESP under the forward-secret SAs\n");
	as_wbuf_init(&w, esp, sizeof(esp));
	rc = as_esp_encap(&resp.fs_out, &as_rng_system, NULL, 6, (const uint8_t *)"HTTP/1.1 200 OK\r\n",
			  17, &w);
	as_wbuf_init(&pw, got, sizeof(got));
	if (!rc)
		rc = as_esp_decap(&ini.fs_in, esp, as_wbuf_len(&w), &nh, &pw);
	if (rc) {
		fprintf(stderr, "   %s\n", as_strerror(rc));
		goto out;
	}
	printf("   responder -> initiator ESP of %zu octets (SPI %08x, seq %llu) decrypted: \"%.*s\"\n",
	       as_wbuf_len(&w), resp.fs_out.spi, (unsigned long long)resp.fs_out.seq,
	       (int)strcspn((const char *)got, "\r\n"), got);
	ret = 0;
out:
	as_hs_clear(&ini);
	as_hs_clear(&resp);
	as_rkey_free(&rk);
	as_dns_result_free(&res);
	as_dns_free(dns);
	return ret;
}
