/* SPDX-License-Identifier: BSD-2-Clause */
/* The bounded reader/writer: the only place in autosec that indexes wire bytes. */
#include <string.h>

#include "autosec/buf.h"
#include "autosec/err.h"

void as_rbuf_init(struct as_rbuf *b, const void *p, size_t len)
{
	b->p = p;
	b->len = p ? len : 0;
	b->off = 0;
}

size_t as_rbuf_left(const struct as_rbuf *b)
{
	return b->len - b->off;
}

size_t as_rbuf_offset(const struct as_rbuf *b)
{
	return b->off;
}

static int rneed(const struct as_rbuf *b, size_t n)
{
	return n <= b->len - b->off ? AS_OK : AS_E_TRUNCATED;
}

int as_rbuf_peek_u8(const struct as_rbuf *b, uint8_t *v)
{
	if (rneed(b, 1))
		return AS_E_TRUNCATED;
	*v = b->p[b->off];
	return AS_OK;
}

int as_rbuf_peek_u32(const struct as_rbuf *b, uint32_t *v)
{
	const uint8_t *q;

	if (rneed(b, 4))
		return AS_E_TRUNCATED;
	q = b->p + b->off;
	*v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
	return AS_OK;
}

int as_rbuf_u8(struct as_rbuf *b, uint8_t *v)
{
	if (as_rbuf_peek_u8(b, v))
		return AS_E_TRUNCATED;
	b->off++;
	return AS_OK;
}

int as_rbuf_u16(struct as_rbuf *b, uint16_t *v)
{
	if (rneed(b, 2))
		return AS_E_TRUNCATED;
	*v = (uint16_t)(b->p[b->off] << 8 | b->p[b->off + 1]);
	b->off += 2;
	return AS_OK;
}

int as_rbuf_u32(struct as_rbuf *b, uint32_t *v)
{
	if (as_rbuf_peek_u32(b, v))
		return AS_E_TRUNCATED;
	b->off += 4;
	return AS_OK;
}

int as_rbuf_u64(struct as_rbuf *b, uint64_t *v)
{
	uint32_t hi = 0, lo = 0;

	if (rneed(b, 8))
		return AS_E_TRUNCATED;
	as_rbuf_u32(b, &hi);
	as_rbuf_u32(b, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return AS_OK;
}

int as_rbuf_copy(struct as_rbuf *b, void *out, size_t n)
{
	if (rneed(b, n))
		return AS_E_TRUNCATED;
	if (n)
		memcpy(out, b->p + b->off, n);
	b->off += n;
	return AS_OK;
}

int as_rbuf_ptr(struct as_rbuf *b, const uint8_t **p, size_t n)
{
	if (rneed(b, n))
		return AS_E_TRUNCATED;
	*p = b->p + b->off;
	b->off += n;
	return AS_OK;
}

int as_rbuf_sub(struct as_rbuf *b, struct as_rbuf *sub, size_t n)
{
	const uint8_t *p;

	if (as_rbuf_ptr(b, &p, n))
		return AS_E_TRUNCATED;
	as_rbuf_init(sub, p, n);
	return AS_OK;
}

int as_rbuf_skip(struct as_rbuf *b, size_t n)
{
	if (rneed(b, n))
		return AS_E_TRUNCATED;
	b->off += n;
	return AS_OK;
}

void as_rbuf_rest(struct as_rbuf *b, const uint8_t **p, size_t *n)
{
	*p = b->p + b->off;
	*n = b->len - b->off;
	b->off = b->len;
}

int as_rbuf_seek(struct as_rbuf *b, size_t off)
{
	if (off > b->len)
		return AS_E_TRUNCATED;
	b->off = off;
	return AS_OK;
}

int as_rbuf_range(const struct as_rbuf *b, size_t off, size_t n, const uint8_t **p)
{
	if (off > b->len || n > b->len - off)
		return AS_E_TRUNCATED;
	*p = b->p + off;
	return AS_OK;
}

int as_rbuf_done(const struct as_rbuf *b)
{
	return b->off == b->len ? AS_OK : AS_E_TRAILING;
}

void as_wbuf_init(struct as_wbuf *b, void *p, size_t cap)
{
	b->p = p;
	b->cap = p ? cap : 0;
	b->len = 0;
	b->err = AS_OK;
}

size_t as_wbuf_len(const struct as_wbuf *b)
{
	return b->len;
}

size_t as_wbuf_room(const struct as_wbuf *b)
{
	return b->cap - b->len;
}

const uint8_t *as_wbuf_data(const struct as_wbuf *b)
{
	return b->p;
}

int as_wbuf_error(const struct as_wbuf *b)
{
	return b->err;
}

int as_wbuf_reserve(struct as_wbuf *b, size_t n, uint8_t **p)
{
	if (b->err)
		return b->err;
	if (n > b->cap - b->len)
		return b->err = AS_E_NOSPACE;
	*p = b->p + b->len;
	b->len += n;
	return AS_OK;
}

int as_wbuf_put(struct as_wbuf *b, const void *src, size_t n)
{
	uint8_t *q;

	if (as_wbuf_reserve(b, n, &q))
		return b->err;
	if (n)
		memcpy(q, src, n);
	return AS_OK;
}

int as_wbuf_zero(struct as_wbuf *b, size_t n)
{
	uint8_t *q;

	if (as_wbuf_reserve(b, n, &q))
		return b->err;
	if (n)
		memset(q, 0, n);
	return AS_OK;
}

int as_wbuf_u8(struct as_wbuf *b, uint8_t v)
{
	return as_wbuf_put(b, &v, 1);
}

int as_wbuf_u16(struct as_wbuf *b, uint16_t v)
{
	uint8_t q[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return as_wbuf_put(b, q, sizeof(q));
}

int as_wbuf_u32(struct as_wbuf *b, uint32_t v)
{
	uint8_t q[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	return as_wbuf_put(b, q, sizeof(q));
}

int as_wbuf_u64(struct as_wbuf *b, uint64_t v)
{
	if (as_wbuf_u32(b, (uint32_t)(v >> 32)))
		return b->err;
	return as_wbuf_u32(b, (uint32_t)v);
}

int as_wbuf_set_u8(struct as_wbuf *b, size_t off, uint8_t v)
{
	if (off >= b->len)
		return AS_E_NOSPACE;
	b->p[off] = v;
	return AS_OK;
}

int as_wbuf_set_u16(struct as_wbuf *b, size_t off, uint16_t v)
{
	if (off > b->len || 2 > b->len - off)
		return AS_E_NOSPACE;
	b->p[off] = (uint8_t)(v >> 8);
	b->p[off + 1] = (uint8_t)v;
	return AS_OK;
}

int as_wbuf_range(struct as_wbuf *b, size_t off, size_t n, uint8_t **p)
{
	if (off > b->len || n > b->len - off)
		return AS_E_NOSPACE;
	*p = b->p + off;
	return AS_OK;
}

int as_wbuf_truncate(struct as_wbuf *b, size_t len)
{
	if (len > b->len)
		return AS_E_NOSPACE;
	b->len = len;
	return AS_OK;
}
