/* SPDX-License-Identifier: BSD-2-Clause */
#include <string.h>

#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/pkt.h"

static size_t alen(uint8_t family)
{
	return family == 6 ? 16 : 4;
}

int as_pkt_parse(const uint8_t *p, size_t n, struct as_ippkt *out)
{
	struct as_rbuf r, body;
	uint8_t vihl;
	uint16_t total, frag, plen;

	memset(out, 0, sizeof(*out));
	as_rbuf_init(&r, p, n);
	if (as_rbuf_peek_u8(&r, &vihl))
		return AS_E_TRUNCATED;
	if (vihl >> 4 == 4) {
		size_t hl = (size_t)(vihl & 0x0f) * 4;

		out->family = 4;
		if (hl < 20)
			return AS_E_MSG_LENGTH;
		if (as_rbuf_skip(&r, 2) || as_rbuf_u16(&r, &total) || as_rbuf_skip(&r, 2) ||
		    as_rbuf_u16(&r, &frag) || as_rbuf_u8(&r, &out->ttl) || as_rbuf_u8(&r, &out->proto) ||
		    as_rbuf_skip(&r, 2) || as_rbuf_copy(&r, out->src, 4) || as_rbuf_copy(&r, out->dst, 4))
			return AS_E_TRUNCATED;
		/* the datagram is total octets; anything the device added beyond is ignored */
		if (total < hl || total > n)
			return AS_E_MSG_LENGTH;
		if (frag & 0x3fff) /* MF or a fragment offset */
			return AS_E_INVAL;
		as_rbuf_init(&r, p, total);
		if (as_rbuf_skip(&r, hl))
			return AS_E_TRUNCATED;
		as_rbuf_rest(&r, &out->l4, &out->l4_len);
		return AS_OK;
	}
	if (vihl >> 4 == 6) {
		out->family = 6;
		if (as_rbuf_skip(&r, 4) || as_rbuf_u16(&r, &plen) || as_rbuf_u8(&r, &out->proto) ||
		    as_rbuf_u8(&r, &out->ttl) || as_rbuf_copy(&r, out->src, 16) ||
		    as_rbuf_copy(&r, out->dst, 16))
			return AS_E_TRUNCATED;
		if (as_rbuf_sub(&r, &body, plen))
			return AS_E_MSG_LENGTH;
		/* a fragment header means a fragment: not carried */
		if (out->proto == 44)
			return AS_E_INVAL;
		as_rbuf_rest(&body, &out->l4, &out->l4_len);
		return AS_OK;
	}
	return AS_E_INVAL;
}

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	struct as_rbuf r;
	uint16_t w;
	uint8_t last;

	as_rbuf_init(&r, p, n);
	while (as_rbuf_u16(&r, &w) == AS_OK)
		s += w;
	if (as_rbuf_u8(&r, &last) == AS_OK)
		s += (uint32_t)last << 8;
	return s;
}

uint16_t as_pkt_l4sum(uint8_t family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		      const uint8_t *seg, size_t len)
{
	uint32_t s = 0;

	s = sum16(s, src, alen(family));
	s = sum16(s, dst, alen(family));
	s += proto;
	s += (uint32_t)(len & 0xffff) + (uint32_t)(len >> 16);
	s = sum16(s, seg, len);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t hdr_sum(const uint8_t *h, size_t n)
{
	uint32_t s = sum16(0, h, n);

	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Offset of the checksum inside the segment, or 0 when there is none to fix. */
static size_t csum_offset(uint8_t family, uint8_t proto, size_t len)
{
	if (proto == 6 && len >= 20)
		return 16;
	if (proto == 17 && len >= 8)
		return 6;
	if (proto == 58 && family == 6 && len >= 4)
		return 2;
	return 0;
}

int as_pkt_build(struct as_wbuf *w, uint8_t family, const uint8_t *src, const uint8_t *dst,
		 uint8_t proto, uint8_t ttl, const uint8_t *seg, size_t seg_len)
{
	size_t start = as_wbuf_len(w), hl = family == 6 ? 40 : 20, co;
	uint8_t *h, *s;
	uint16_t c;

	if ((family != 4 && family != 6) || seg_len > 65535 - (family == 4 ? hl : 0))
		return AS_E_INVAL;
	if (family == 4) {
		as_wbuf_u8(w, 0x45);
		as_wbuf_u8(w, 0);
		as_wbuf_u16(w, (uint16_t)(hl + seg_len));
		as_wbuf_u16(w, 0);      /* identification: unfragmentable below */
		as_wbuf_u16(w, 0x4000); /* DF */
		as_wbuf_u8(w, ttl);
		as_wbuf_u8(w, proto);
		as_wbuf_u16(w, 0);
		as_wbuf_put(w, src, 4);
		as_wbuf_put(w, dst, 4);
	} else {
		as_wbuf_u32(w, 0x60000000);
		as_wbuf_u16(w, (uint16_t)seg_len);
		as_wbuf_u8(w, proto);
		as_wbuf_u8(w, ttl);
		as_wbuf_put(w, src, 16);
		as_wbuf_put(w, dst, 16);
	}
	as_wbuf_put(w, seg, seg_len);
	if (as_wbuf_error(w))
		goto fail;
	if (family == 4) {
		if (as_wbuf_range(w, start, hl, &h) || as_wbuf_set_u16(w, start + 10, hdr_sum(h, hl)))
			goto fail;
	}
	co = csum_offset(family, proto, seg_len);
	if (co) {
		if (as_wbuf_range(w, start + hl, seg_len, &s))
			goto fail;
		struct as_rbuf sr;
		uint16_t old = 1;

		as_rbuf_init(&sr, seg, seg_len);
		if (as_rbuf_skip(&sr, co) || as_rbuf_u16(&sr, &old))
			goto fail;
		/* an IPv4 UDP datagram without checksum keeps having none */
		if (!(family == 4 && proto == 17 && old == 0)) {
			if (as_wbuf_set_u16(w, start + hl + co, 0))
				goto fail;
			c = as_pkt_l4sum(family, src, dst, proto, s, seg_len);
			if (proto == 17 && c == 0)
				c = 0xffff;
			if (as_wbuf_set_u16(w, start + hl + co, c))
				goto fail;
		}
	}
	return AS_OK;
fail:
	as_wbuf_truncate(w, start);
	return AS_E_NOSPACE;
}

int as_pkt_dst_is_local_scope(uint8_t family, const uint8_t *d)
{
	static const uint8_t zero[16];

	if (family == 4)
		return d[0] >= 224 || d[0] == 0 || d[0] == 127 || (d[0] == 169 && d[1] == 254);
	return d[0] == 0xff || (d[0] == 0xfe && (d[1] & 0xc0) == 0x80) || !memcmp(d, zero, 16) ||
	       (!memcmp(d, zero, 15) && d[15] == 1);
}
