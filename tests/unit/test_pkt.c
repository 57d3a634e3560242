/* SPDX-License-Identifier: BSD-2-Clause */
/* IP packet parsing and rebuilding with checksum fix-up. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/pkt.h"
#include "testutil.h"

/* An IPv4 UDP datagram 192.0.2.1:1234 -> 198.51.100.7:53 "abc" without a UDP
 * checksum, and the same with a stale one (as after a NAT). */
static const char *v4udp =
	"4500001f000040004011" "0000" "c0000201c6336407"
	"04d20035000b" "0000" "616263";
static const char *v4udp_sum =
	"4500001f000040004011" "0000" "c0000201c6336407"
	"04d20035000b" "1234" "616263";

static uint16_t ref_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

START_TEST(parse_and_rebuild_v4)
{
	size_t n;
	uint8_t *pkt = tu_hex(v4udp_sum, &n), out[128];
	struct as_ippkt ip;
	struct as_wbuf w;
	uint8_t pseudo[12 + 11];

	ck_assert_int_eq(as_pkt_parse(pkt, n, &ip), AS_OK);
	ck_assert_uint_eq(ip.family, 4);
	ck_assert_uint_eq(ip.proto, 17);
	ck_assert_uint_eq(ip.ttl, 64);
	ck_assert_uint_eq(ip.l4_len, 11);
	ck_assert_mem_eq(ip.src, "\xc0\x00\x02\x01", 4);
	as_wbuf_init(&w, out, sizeof(out));
	/* rebuild with other addresses, as a responder behind a NAT does */
	ck_assert_int_eq(as_pkt_build(&w, 4, (const uint8_t *)"\x0a\x00\x00\x01",
				      (const uint8_t *)"\x0a\x00\x00\x02", 17, 64, ip.l4, ip.l4_len), AS_OK);
	ck_assert_uint_eq(as_wbuf_len(&w), 31);
	/* the IPv4 header sums to 0xffff, and so does pseudo-header + UDP */
	ck_assert_uint_eq(ref_sum(out, 20), 0xffff);
	memcpy(pseudo, out + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	pseudo[10] = 0;
	pseudo[11] = 11;
	memcpy(pseudo + 12, out + 20, 11);
	ck_assert_uint_eq(ref_sum(pseudo, sizeof(pseudo)), 0xffff);
	free(pkt);
}
END_TEST

START_TEST(udp_zero_checksum_kept)
{
	size_t n;
	uint8_t *pkt = tu_hex(v4udp, &n), out[128];
	struct as_ippkt ip;
	struct as_wbuf w;

	ck_assert_int_eq(as_pkt_parse(pkt, n, &ip), AS_OK);
	as_wbuf_init(&w, out, sizeof(out));
	ck_assert_int_eq(as_pkt_build(&w, 4, ip.src, ip.dst, 17, 64, ip.l4, ip.l4_len), AS_OK);
	ck_assert_uint_eq(out[26], 0);
	ck_assert_uint_eq(out[27], 0);
	free(pkt);
}
END_TEST

START_TEST(v6_tcp_checksum)
{
	uint8_t seg[24] = { 0x9c, 0x40, 0x00, 0x50, 1, 2, 3, 4, 0, 0, 0, 0, 0x60, 0x02, 0xfd, 0x20,
			    0xaa, 0xbb, 0, 0, 2, 4, 5, 0xb4 };
	uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };
	uint8_t out[128], pseudo[40 + 24];
	struct as_wbuf w;
	struct as_ippkt ip;

	as_wbuf_init(&w, out, sizeof(out));
	ck_assert_int_eq(as_pkt_build(&w, 6, src, dst, 6, 63, seg, sizeof(seg)), AS_OK);
	ck_assert_int_eq(as_pkt_parse(out, as_wbuf_len(&w), &ip), AS_OK);
	ck_assert_uint_eq(ip.family, 6);
	ck_assert_uint_eq(ip.ttl, 63);
	ck_assert_uint_eq(ip.l4_len, 24);
	memset(pseudo, 0, sizeof(pseudo));
	memcpy(pseudo, src, 16);
	memcpy(pseudo + 16, dst, 16);
	pseudo[35] = 24;
	pseudo[39] = 6;
	memcpy(pseudo + 40, out + 40, 24);
	ck_assert_uint_eq(ref_sum(pseudo, sizeof(pseudo)), 0xffff);
	/* the as_pkt_l4sum of the built segment is 0: it verifies */
	ck_assert_uint_eq(as_pkt_l4sum(6, src, dst, 6, out + 40, 24), 0);
}
END_TEST

START_TEST(malformed)
{
	size_t n;
	uint8_t *pkt = tu_hex(v4udp, &n), buf[64];
	struct as_ippkt ip;
	struct as_wbuf w;

	for (size_t l = 0; l < n; l++)
		ck_assert_int_ne(as_pkt_parse(pkt, l, &ip), AS_OK);
	memcpy(buf, pkt, n);
	buf[0] = 0x44; /* IHL 16 octets */
	ck_assert_int_eq(as_pkt_parse(buf, n, &ip), AS_E_MSG_LENGTH);
	memcpy(buf, pkt, n);
	buf[6] = 0x20; /* more fragments */
	ck_assert_int_eq(as_pkt_parse(buf, n, &ip), AS_E_INVAL);
	memcpy(buf, pkt, n);
	buf[3] = 0x40; /* total length beyond the buffer */
	ck_assert_int_eq(as_pkt_parse(buf, n, &ip), AS_E_MSG_LENGTH);
	buf[0] = 0x55;
	ck_assert_int_eq(as_pkt_parse(buf, n, &ip), AS_E_INVAL);
	/* trailing octets after total length are ignored */
	memcpy(buf, pkt, n);
	buf[n] = 0xee;
	ck_assert_int_eq(as_pkt_parse(buf, n + 1, &ip), AS_OK);
	ck_assert_uint_eq(ip.l4_len, 11);
	as_wbuf_init(&w, buf, 30);
	ck_assert_int_eq(as_pkt_build(&w, 4, ip.src, ip.dst, 17, 64, ip.l4, ip.l4_len), AS_E_NOSPACE);
	ck_assert_uint_eq(as_wbuf_len(&w), 0);
	ck_assert_int_eq(as_pkt_build(&w, 5, ip.src, ip.dst, 17, 64, ip.l4, ip.l4_len), AS_E_INVAL);
	free(pkt);
}
END_TEST

START_TEST(scopes)
{
	uint8_t a[16] = { 0 };

	a[0] = 224;
	ck_assert(as_pkt_dst_is_local_scope(4, a));
	a[0] = 10;
	ck_assert(!as_pkt_dst_is_local_scope(4, a));
	a[0] = 0xff;
	a[1] = 0x02;
	ck_assert(as_pkt_dst_is_local_scope(6, a));
	a[0] = 0xfe;
	a[1] = 0x80;
	ck_assert(as_pkt_dst_is_local_scope(6, a));
	a[0] = 0xfd;
	a[1] = 0x99;
	ck_assert(!as_pkt_dst_is_local_scope(6, a));
}
END_TEST

static Suite *pkt_suite(void)
{
	Suite *s = suite_create("pkt");
	TCase *tc = tcase_create("pkt");

	tcase_add_test(tc, parse_and_rebuild_v4);
	tcase_add_test(tc, udp_zero_checksum_kept);
	tcase_add_test(tc, v6_tcp_checksum);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, scopes);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(pkt_suite)
