/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one bounded buffer API for every wire format in autosec.
 *
 * Everything that comes from the network, DNS, a file or the Unix socket is
 * read through an as_rbuf and everything we put on the wire is written
 * through an as_wbuf.  Every get/put returns a status and never touches a
 * byte outside the buffer; parsers never do pointer arithmetic of their own
 * and never trust a length field they have not checked against as_rbuf_left.
 *
 * Integers are big-endian (network order) unless the name says otherwise.
 */
#ifndef AUTOSEC_BUF_H
#define AUTOSEC_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A reader over bytes it does not own. */
struct as_rbuf {
	const uint8_t *p;
	size_t len;
	size_t off;
};

void as_rbuf_init(struct as_rbuf *b, const void *p, size_t len);
size_t as_rbuf_left(const struct as_rbuf *b);
size_t as_rbuf_offset(const struct as_rbuf *b);
/* All return AS_OK, or AS_E_TRUNCATED leaving the reader unchanged. */
int as_rbuf_u8(struct as_rbuf *b, uint8_t *v);
int as_rbuf_u16(struct as_rbuf *b, uint16_t *v);
int as_rbuf_u32(struct as_rbuf *b, uint32_t *v);
int as_rbuf_u64(struct as_rbuf *b, uint64_t *v);
int as_rbuf_peek_u8(const struct as_rbuf *b, uint8_t *v);
int as_rbuf_peek_u32(const struct as_rbuf *b, uint32_t *v);
int as_rbuf_copy(struct as_rbuf *b, void *out, size_t n);
/* Borrow a pointer to the next n bytes and consume them. */
int as_rbuf_ptr(struct as_rbuf *b, const uint8_t **p, size_t n);
/* A sub-reader over the next n bytes, which are consumed from b. */
int as_rbuf_sub(struct as_rbuf *b, struct as_rbuf *sub, size_t n);
int as_rbuf_skip(struct as_rbuf *b, size_t n);
/* Borrow everything that is left and consume it (n may be 0). */
void as_rbuf_rest(struct as_rbuf *b, const uint8_t **p, size_t *n);
/* Move to an absolute offset (DNS name compression); AS_E_TRUNCATED if > len. */
int as_rbuf_seek(struct as_rbuf *b, size_t off);
/* The n bytes from absolute offset off, without moving (for AAD/ICV ranges). */
int as_rbuf_range(const struct as_rbuf *b, size_t off, size_t n, const uint8_t **p);
/* AS_OK when everything was consumed, else AS_E_TRAILING. */
int as_rbuf_done(const struct as_rbuf *b);

/*
 * A writer into a caller's buffer.  The first failure is sticky: later puts
 * do nothing and return the same error, so a builder may check once at the end.
 */
struct as_wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	int err;
};

void as_wbuf_init(struct as_wbuf *b, void *p, size_t cap);
size_t as_wbuf_len(const struct as_wbuf *b);
size_t as_wbuf_room(const struct as_wbuf *b);
const uint8_t *as_wbuf_data(const struct as_wbuf *b);
int as_wbuf_u8(struct as_wbuf *b, uint8_t v);
int as_wbuf_u16(struct as_wbuf *b, uint16_t v);
int as_wbuf_u32(struct as_wbuf *b, uint32_t v);
int as_wbuf_u64(struct as_wbuf *b, uint64_t v);
int as_wbuf_put(struct as_wbuf *b, const void *src, size_t n);
int as_wbuf_zero(struct as_wbuf *b, size_t n);
/* Claim the next n bytes and return where they are, for in-place crypto. */
int as_wbuf_reserve(struct as_wbuf *b, size_t n, uint8_t **p);
/* Overwrite bytes already written (length fields filled in afterwards). */
int as_wbuf_set_u16(struct as_wbuf *b, size_t off, uint16_t v);
int as_wbuf_set_u8(struct as_wbuf *b, size_t off, uint8_t v);
/* The bytes [off, off+n) already written, for hashing/authenticating them. */
int as_wbuf_range(struct as_wbuf *b, size_t off, size_t n, uint8_t **p);
/* Drop everything after len (undo a partial write); clears no error. */
int as_wbuf_truncate(struct as_wbuf *b, size_t len);
int as_wbuf_error(const struct as_wbuf *b);

#endif
