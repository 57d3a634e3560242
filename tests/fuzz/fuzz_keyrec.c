/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz the KEY record parsers.  The first byte picks the entry point
 * (mod 3: record text, KEY RDATA, TXT RDATA); the rest is the input.  A
 * record that parses is formatted again (zone lines, RDATA) and parsed back,
 * which must give the same digest.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/keyrec.h"
#include "fuzz.h"

static void reformat(const struct as_keyrec *r, const uint8_t *txt, size_t len)
{
	static char text[AS_REC_MAX_TEXT + 1], lines[4 * AS_REC_MAX_TEXT];
	static uint8_t rd[AS_REC_MAX_TEXT + 64];
	struct as_keyrec again;
	struct as_wbuf w;

	/* only text without NULs can be formatted again */
	if (len > AS_REC_MAX_TEXT * 4 || memchr(txt, 0, len))
		return;
	if (len >= sizeof(text)) {
		/* whitespace-padded: keep it simple, skip */
		return;
	}
	memcpy(text, txt, len);
	text[len] = '\0';
	as_wbuf_init(&w, rd, sizeof(rd));
	if (as_keyrec_format_rdata(text, &w) == AS_OK) {
		if (as_keyrec_parse_rdata(rd, as_wbuf_len(&w), &again, NULL) != AS_OK ||
		    CRYPTO_memcmp(again.digest, r->digest, 32) != 0)
			abort();
		as_keyrec_free(&again);
	}
	(void)as_keyrec_zone_lines("fuzz.example.", 60, text, lines, sizeof(lines), NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct as_keyrec r;
	struct as_diag d;
	const uint8_t *p = data + 1;
	size_t n;
	int rc;

	if (size < 1)
		return 0;
	n = size - 1;
	switch (data[0] % 3) {
	case 0:
		rc = as_keyrec_parse_text((const char *)p, n, &r, &d);
		if (rc == AS_OK)
			reformat(&r, p, n);
		break;
	case 1:
		rc = as_keyrec_parse_rdata(p, n, &r, &d);
		break;
	default:
		rc = as_keyrec_parse_txt(p, n, &r, &d);
		break;
	}
	if (rc == AS_OK) {
		/* what parsed must be self-consistent */
		if (!r.pub || r.n_enc == 0 || r.n_dh == 0 || r.spki_len == 0)
			abort();
	} else if (r.pub) {
		abort(); /* failures leave nothing to free */
	}
	as_keyrec_free(&r);
	return 0;
}
