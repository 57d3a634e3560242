/* SPDX-License-Identifier: BSD-2-Clause */
/* Small helpers shared by the Check unit tests. */
#ifndef AUTOSEC_TESTUTIL_H
#define AUTOSEC_TESTUTIL_H

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decode hex (whitespace ignored) into a malloc'ed buffer; aborts on bad input
 * because a malformed vector is a bug in the test, not a test result. */
static inline uint8_t *tu_hex(const char *hex, size_t *len)
{
	size_t n = strlen(hex), o = 0;
	uint8_t *out = malloc(n / 2 + 1);
	int hi = -1;

	if (!out)
		abort();
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)hex[i], v;

		if (isspace(c))
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else {
			fprintf(stderr, "bad hex in test vector at %zu\n", i);
			abort();
		}
		if (hi < 0) {
			hi = v;
		} else {
			out[o++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0) {
		fprintf(stderr, "odd number of hex digits in test vector\n");
		abort();
	}
	*len = o;
	return out;
}

/* Lowercase hex of p into a malloc'ed string. */
static inline char *tu_tohex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (!s)
		abort();
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

/* Run a Check suite and turn its result into the process exit status. */
#define TU_MAIN(suite_fn)                                                \
	int main(void)                                                   \
	{                                                                \
		SRunner *sr = srunner_create(suite_fn());                \
		int failed;                                              \
		srunner_run_all(sr, CK_NORMAL);                          \
		failed = srunner_ntests_failed(sr);                      \
		srunner_free(sr);                                        \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;             \
	}

#endif
