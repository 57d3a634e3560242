/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IP packets as the TUN device hands them over and takes them back: parse
 * the IPv4/IPv6 header to find addresses, protocol and the transport segment
 * (what AutoSEC carries in transport mode), and build a packet around a
 * segment with the transport checksum made right for the new addresses
 * (the NAT fix-up of RFC 3948 3.1.2, done as a full recomputation).
 */
#ifndef AUTOSEC_PKT_H
#define AUTOSEC_PKT_H

#include <stddef.h>
#include <stdint.h>

struct as_wbuf;

struct as_ippkt {
	uint8_t family;     /* 4 or 6 */
	uint8_t proto;      /* IPv4 protocol / IPv6 next header after the fixed header */
	uint8_t ttl;        /* TTL / hop limit */
	uint8_t src[16], dst[16]; /* first 4 octets for IPv4 */
	const uint8_t *l4;  /* the segment after the IP header */
	size_t l4_len;
};

/*
 * IPv4 header (RFC 791)          IPv6 header (RFC 8200)
 *  0      4      8      16     31  0   4       12     16      24     31
 * |Ver|IHL| ToS  | Total Length |  |Ver| Class |     Flow Label       |
 * | Identification |Flg| Offset |  | Payload Length | Next Hdr | Hops |
 * | TTL | Protocol |  Checksum  |  |   Source Address (16 octets)     |
 * |        Source Address       |  | Destination Address (16 octets)  |
 * |     Destination Address     |
 *
 * AS_E_INVAL for a fragment (AutoSEC carries whole transport segments),
 * AS_E_TRUNCATED / AS_E_MSG_LENGTH for lengths that disagree.
 */
int as_pkt_parse(const uint8_t *p, size_t n, struct as_ippkt *out);

/* Write an IP header and seg into w; the TCP, UDP or ICMPv6 checksum inside
 * the copy is recomputed for src/dst (an IPv4 UDP checksum of 0 stays 0). */
int as_pkt_build(struct as_wbuf *w, uint8_t family, const uint8_t *src, const uint8_t *dst,
		 uint8_t proto, uint8_t ttl, const uint8_t *seg, size_t seg_len);

/* Internet checksum (RFC 1071) of a pseudo-header and a segment. */
uint16_t as_pkt_l4sum(uint8_t family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		      const uint8_t *seg, size_t len);

/* 1 if dst is multicast, broadcast, link-local or unspecified: never AutoSEC peers. */
int as_pkt_dst_is_local_scope(uint8_t family, const uint8_t *dst);

#endif
