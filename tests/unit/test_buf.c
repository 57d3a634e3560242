/* SPDX-License-Identifier: BSD-2-Clause */
/* The bounded reader/writer: nothing is read or written past either end. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "autosec/buf.h"
#include "autosec/err.h"
#include "testutil.h"

static const uint8_t bytes[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a };

START_TEST(reader_integers_are_big_endian)
{
	struct as_rbuf r;
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;

	as_rbuf_init(&r, bytes, 10);
	ck_assert_int_eq(as_rbuf_u8(&r, &a), AS_OK);
	ck_assert_uint_eq(a, 0x01);
	ck_assert_int_eq(as_rbuf_u16(&r, &b), AS_OK);
	ck_assert_uint_eq(b, 0x0203);
	ck_assert_int_eq(as_rbuf_u32(&r, &c), AS_OK);
	ck_assert_uint_eq(c, 0x04050607);
	ck_assert_uint_eq(as_rbuf_left(&r), 3);
	ck_assert_int_eq(as_rbuf_u64(&r, &d), AS_E_TRUNCATED);
	/* a failed read consumes nothing */
	ck_assert_uint_eq(as_rbuf_left(&r), 3);
	as_rbuf_init(&r, bytes, 10);
	ck_assert_int_eq(as_rbuf_u64(&r, &d), AS_OK);
	ck_assert(d == 0x0102030405060708ull);
	ck_assert_int_eq(as_rbuf_done(&r), AS_E_TRAILING);
	ck_assert_int_eq(as_rbuf_skip(&r, 2), AS_OK);
	ck_assert_int_eq(as_rbuf_done(&r), AS_OK);
	ck_assert_int_eq(as_rbuf_u8(&r, &a), AS_E_TRUNCATED);
	ck_assert_int_eq(as_rbuf_peek_u8(&r, &a), AS_E_TRUNCATED);
}
END_TEST

/* Every read of every width at every offset either fits or reports truncation. */
START_TEST(reader_never_passes_the_end)
{
	for (size_t len = 0; len <= sizeof(bytes); len++) {
		for (size_t n = 0; n <= 12; n++) {
			struct as_rbuf r, sub;
			const uint8_t *p = NULL;
			uint8_t out[16];
			int want = n <= len ? AS_OK : AS_E_TRUNCATED;

			as_rbuf_init(&r, bytes, len);
			ck_assert_int_eq(as_rbuf_copy(&r, out, n), want);
			as_rbuf_init(&r, bytes, len);
			ck_assert_int_eq(as_rbuf_ptr(&r, &p, n), want);
			as_rbuf_init(&r, bytes, len);
			ck_assert_int_eq(as_rbuf_sub(&r, &sub, n), want);
			if (want == AS_OK)
				ck_assert_uint_eq(as_rbuf_left(&sub), n);
			as_rbuf_init(&r, bytes, len);
			ck_assert_int_eq(as_rbuf_skip(&r, n), want);
			ck_assert_int_eq(as_rbuf_range(&r, n, 1, &p), n + 1 <= len ? AS_OK : AS_E_TRUNCATED);
		}
	}
}
END_TEST

START_TEST(reader_huge_lengths_do_not_wrap)
{
	struct as_rbuf r;
	const uint8_t *p;

	as_rbuf_init(&r, bytes, 10);
	ck_assert_int_eq(as_rbuf_skip(&r, 4), AS_OK);
	ck_assert_int_eq(as_rbuf_ptr(&r, &p, SIZE_MAX), AS_E_TRUNCATED);
	ck_assert_int_eq(as_rbuf_skip(&r, SIZE_MAX - 2), AS_E_TRUNCATED);
	ck_assert_int_eq(as_rbuf_range(&r, 2, SIZE_MAX, &p), AS_E_TRUNCATED);
	ck_assert_int_eq(as_rbuf_range(&r, SIZE_MAX, 2, &p), AS_E_TRUNCATED);
	ck_assert_int_eq(as_rbuf_seek(&r, 11), AS_E_TRUNCATED);
	ck_assert_int_eq(as_rbuf_seek(&r, 10), AS_OK);
	ck_assert_uint_eq(as_rbuf_left(&r), 0);
}
END_TEST

START_TEST(reader_sub_and_rest)
{
	struct as_rbuf r, sub;
	const uint8_t *p;
	size_t n;
	uint32_t v;

	as_rbuf_init(&r, bytes, 10);
	ck_assert_int_eq(as_rbuf_sub(&r, &sub, 4), AS_OK);
	ck_assert_int_eq(as_rbuf_peek_u32(&sub, &v), AS_OK);
	ck_assert_uint_eq(v, 0x01020304);
	ck_assert_int_eq(as_rbuf_u32(&sub, &v), AS_OK);
	/* the sub-reader stops at its own end, not the parent's */
	ck_assert_int_eq(as_rbuf_u8(&sub, (uint8_t *)&v), AS_E_TRUNCATED);
	as_rbuf_rest(&r, &p, &n);
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(p[0], 0x05);
	as_rbuf_rest(&r, &p, &n);
	ck_assert_uint_eq(n, 0);
	as_rbuf_init(&r, NULL, 5);
	ck_assert_uint_eq(as_rbuf_left(&r), 0);
}
END_TEST

START_TEST(writer_sticky_error)
{
	uint8_t buf[6];
	struct as_wbuf w;

	memset(buf, 0xee, sizeof(buf));
	as_wbuf_init(&w, buf, 5);
	ck_assert_int_eq(as_wbuf_u16(&w, 0x0102), AS_OK);
	ck_assert_int_eq(as_wbuf_u32(&w, 0x03040506), AS_E_NOSPACE);
	/* nothing partial was written, and later puts fail too */
	ck_assert_uint_eq(as_wbuf_len(&w), 2);
	ck_assert_int_eq(as_wbuf_u8(&w, 9), AS_E_NOSPACE);
	ck_assert_int_eq(as_wbuf_error(&w), AS_E_NOSPACE);
	ck_assert_uint_eq(buf[2], 0xee);
	ck_assert_uint_eq(buf[5], 0xee);
}
END_TEST

START_TEST(writer_layout_and_fixups)
{
	uint8_t buf[32], *p;
	struct as_wbuf w;

	as_wbuf_init(&w, buf, sizeof(buf));
	as_wbuf_u8(&w, 0xaa);
	as_wbuf_u16(&w, 0);
	as_wbuf_u32(&w, 0x01020304);
	as_wbuf_u64(&w, 0x1112131415161718ull);
	as_wbuf_zero(&w, 2);
	as_wbuf_put(&w, "xy", 2);
	ck_assert_int_eq(as_wbuf_error(&w), AS_OK);
	ck_assert_uint_eq(as_wbuf_len(&w), 1 + 2 + 4 + 8 + 2 + 2);
	ck_assert_int_eq(as_wbuf_set_u16(&w, 1, 0xbeef), AS_OK);
	ck_assert_int_eq(as_wbuf_set_u16(&w, as_wbuf_len(&w) - 1, 1), AS_E_NOSPACE);
	ck_assert_int_eq(as_wbuf_set_u8(&w, as_wbuf_len(&w), 1), AS_E_NOSPACE);
	ck_assert_mem_eq(buf, "\xaa\xbe\xef\x01\x02\x03\x04\x11\x12\x13\x14\x15\x16\x17\x18\0\0xy", 19);
	ck_assert_int_eq(as_wbuf_range(&w, 3, 4, &p), AS_OK);
	ck_assert_ptr_eq(p, buf + 3);
	ck_assert_int_eq(as_wbuf_range(&w, 3, 17, &p), AS_E_NOSPACE);
	ck_assert_int_eq(as_wbuf_reserve(&w, 13, &p), AS_OK);
	ck_assert_uint_eq(as_wbuf_room(&w), 0);
	ck_assert_int_eq(as_wbuf_truncate(&w, 3), AS_OK);
	ck_assert_uint_eq(as_wbuf_len(&w), 3);
	ck_assert_int_eq(as_wbuf_truncate(&w, 4), AS_E_NOSPACE);
	ck_assert_int_eq(as_wbuf_reserve(&w, SIZE_MAX, &p), AS_E_NOSPACE);
}
END_TEST

START_TEST(errors_have_names_and_text)
{
	struct as_diag d = { 0 };
	char q[64];

	for (int e = 0; e < AS_E__MAX; e++) {
		ck_assert_str_ne(as_errname(e), "AS_E_UNKNOWN");
		ck_assert_str_ne(as_strerror(e), "unknown error");
	}
	ck_assert_str_eq(as_errname(AS_E__MAX), "AS_E_UNKNOWN");
	ck_assert_str_eq(as_errname(-1), "AS_E_UNKNOWN");
	ck_assert_int_eq(as_diag_set(&d, AS_E_INVAL, "bad value \"%s\"", "x"), AS_E_INVAL);
	ck_assert_str_eq(as_diag_msg(&d, AS_E_INVAL), "bad value \"x\"");
	ck_assert_str_eq(as_diag_msg(&d, AS_E_NOMEM), as_strerror(AS_E_NOMEM));
	ck_assert_int_eq(as_diag_set(NULL, AS_E_IO, "ignored"), AS_E_IO);
	as_quote(q, sizeof(q), "a\"b\x01", 4);
	ck_assert_str_eq(q, "a\\x22b\\x01");
	as_quote(q, 8, "abcdefghijkl", 12);
	ck_assert_uint_lt(strlen(q), 8);
}
END_TEST

static Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("buf");

	tcase_add_test(tc, reader_integers_are_big_endian);
	tcase_add_test(tc, reader_never_passes_the_end);
	tcase_add_test(tc, reader_huge_lengths_do_not_wrap);
	tcase_add_test(tc, reader_sub_and_rest);
	tcase_add_test(tc, writer_sticky_error);
	tcase_add_test(tc, writer_layout_and_fixups);
	tcase_add_test(tc, errors_have_names_and_text);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(buf_suite)
