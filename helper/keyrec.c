/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The AutoSEC KEY record (PROTOCOL.md section 2; draft section 2.1).
 *
 * Record text:  enc-list ";" hash-list ";" dh-list ";" base64(DER SPKI)
 * Lists are comma separated names in preference order; whitespace and
 * newlines anywhere are ignored (the draft says so), so the text is first
 * stripped of them and everything after that, including the digest bound
 * into each first datagram, works on the stripped text.  The parser rules
 * and their order are those of PROTOCOL.md section 2.7.
 *
 * Unknown names are skipped, as the draft expects future algorithms to
 * appear in records; known but refused ones are kept so that tools can say
 * what was refused.  Choosing among them is the business of the caller.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/keyrec.h"
#include "autosec/pkey.h"

/* The private algorithm's name in DNS wire format: "\x0aip-autosec\x00". */
#define ALG_NAME_LEN (sizeof(AS_KEY_ALG_NAME) - 1)

/* TXT fallback: the prefix and at most AS_REC_MAX_TEXT octets of text; one
 * more octet of room so that a longer text is seen as too long. */
#define TXT_JOIN_MAX (sizeof(AS_TXT_PREFIX) - 1 + AS_REC_MAX_TEXT + 1)

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Everything left in r, without consuming it. */
static void rb_peek_rest(const struct as_rbuf *r, const uint8_t **p, size_t *n)
{
	*n = as_rbuf_left(r);
	if (as_rbuf_range(r, as_rbuf_offset(r), *n, p) != AS_OK) {
		*p = NULL;
		*n = 0;
	}
}

static void quote_rb(char *q, size_t cap, const struct as_rbuf *r)
{
	const uint8_t *p;
	size_t n;

	rb_peek_rest(r, &p, &n);
	as_quote(q, cap, p, n);
}

/*
 * Cut the next field up to (not including) sep from r into f and consume
 * the separator.  *sep_seen tells whether a separator ended the field.
 */
static void cut(struct as_rbuf *r, uint8_t sep, struct as_rbuf *f, int *sep_seen)
{
	struct as_rbuf look = *r;
	size_t n = 0;
	uint8_t c;

	while (as_rbuf_u8(&look, &c) == AS_OK && c != sep)
		n++;
	if (as_rbuf_sub(r, f, n) != AS_OK)
		as_rbuf_init(f, NULL, 0);
	*sep_seen = as_rbuf_u8(r, &c) == AS_OK;
}

/* Copy in[0..len) without whitespace into w; AS_E_NOSPACE if it does not fit. */
static int strip_ws(const void *in, size_t len, struct as_wbuf *w)
{
	struct as_rbuf r;
	uint8_t c;

	as_rbuf_init(&r, in, len);
	while (as_rbuf_u8(&r, &c) == AS_OK) {
		if (is_ws(c))
			continue;
		if (as_wbuf_u8(w, c) != AS_OK)
			return AS_E_NOSPACE;
	}
	return AS_OK;
}

int as_keyrec_digest(const char *text, size_t len, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	struct as_rbuf r;
	uint8_t chunk[256];
	struct as_wbuf w;
	unsigned int olen = 0;
	int rc = AS_E_CRYPTO;
	uint8_t c;

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	as_rbuf_init(&r, text, len);
	as_wbuf_init(&w, chunk, sizeof(chunk));
	while (as_rbuf_u8(&r, &c) == AS_OK) {
		if (is_ws(c))
			continue;
		if (as_wbuf_room(&w) == 0) {
			if (EVP_DigestUpdate(ctx, chunk, as_wbuf_len(&w)) != 1)
				goto out;
			as_wbuf_truncate(&w, 0);
		}
		as_wbuf_u8(&w, c);
	}
	if (EVP_DigestUpdate(ctx, chunk, as_wbuf_len(&w)) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &olen) != 1 || olen != 32)
		goto out;
	rc = AS_OK;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* ---- base64, strict (RFC 4648 section 4) ---- */

static int b64_val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int as_keyrec_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap, size_t *olen)
{
	size_t need;
	int n;

	if (len > (size_t)0x3fffffff)
		return AS_E_INVAL;
	need = (len + 2) / 3 * 4;
	if (!out || cap < need + 1)
		return AS_E_NOSPACE;
	n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	if (n < 0 || (size_t)n != need)
		return AS_E_CRYPTO;
	out[need] = '\0';
	if (olen)
		*olen = need;
	return AS_OK;
}

/*
 * Quads of four characters give three bytes; only the last quad may end in
 * "=" (two bytes) or "==" (one byte), and then the bits of its last data
 * character that fall beyond the data must be zero, so that every byte
 * string has exactly one accepted encoding.
 */
int as_keyrec_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *olen,
			 struct as_diag *d)
{
	struct as_rbuf r;
	struct as_wbuf w;
	size_t quad = 0;
	char q[16];

	if (olen)
		*olen = 0;
	if (len % 4)
		return as_diag_set(d, AS_E_REC_BASE64,
				   "base64 length %zu is not a multiple of 4", len);
	as_rbuf_init(&r, in, len);
	as_wbuf_init(&w, out, cap);
	while (as_rbuf_left(&r)) {
		uint8_t c[4];
		int v[4], pad = 0;
		int last = as_rbuf_left(&r) == 4;

		as_rbuf_copy(&r, c, 4);
		for (int i = 0; i < 4; i++) {
			v[i] = b64_val(c[i]);
			if (v[i] >= 0 && !pad)
				continue;
			if (c[i] == '=' && last && i >= 2) {
				pad++;
				v[i] = 0;
				continue;
			}
			as_quote(q, sizeof(q), &c[i], 1);
			return as_diag_set(d, AS_E_REC_BASE64,
					   "invalid base64 character \"%s\" at offset %zu", q,
					   quad * 4 + (size_t)i);
		}
		if ((pad == 2 && (v[1] & 0x0f)) || (pad == 1 && (v[2] & 0x03)))
			return as_diag_set(d, AS_E_REC_BASE64,
					   "non-canonical base64: unused bits set before the padding");
		as_wbuf_u8(&w, (uint8_t)(v[0] << 2 | v[1] >> 4));
		if (pad < 2)
			as_wbuf_u8(&w, (uint8_t)((v[1] & 0x0f) << 4 | v[2] >> 2));
		if (pad < 1)
			as_wbuf_u8(&w, (uint8_t)((v[2] & 0x03) << 6 | v[3]));
		quad++;
	}
	if (as_wbuf_error(&w))
		return AS_E_NOSPACE;
	if (olen)
		*olen = as_wbuf_len(&w);
	return AS_OK;
}

/* ---- parsing ---- */

void as_keyrec_free(struct as_keyrec *r)
{
	if (!r)
		return;
	EVP_PKEY_free(r->pub);
	r->pub = NULL;
}

static const char *section_name(int type)
{
	switch (type) {
	case AS_XF_ENCR:
		return "encryption";
	case AS_XF_INTEG:
		return "hash";
	case AS_XF_DH:
		return "DH";
	}
	return "?";
}

static const int sec_type[3] = { AS_XF_ENCR, AS_XF_INTEG, AS_XF_DH };

/*
 * Syntax of one list (PROTOCOL.md 2.7 rules 5 and 6): one or more non-empty
 * entries, at most AS_REC_MAX_ALGS of them, unknown ones included.
 */
static int check_list(const struct as_rbuf *sec, int type, struct as_diag *d)
{
	struct as_rbuf r = *sec, name;
	size_t names = 0;
	int more = 1;
	char q[64];

	if (as_rbuf_left(&r) == 0)
		return as_diag_set(d, AS_E_REC_SYNTAX, "empty %s list", section_name(type));
	while (more) {
		cut(&r, ',', &name, &more);
		if (as_rbuf_left(&name) == 0) {
			quote_rb(q, sizeof(q), sec);
			return as_diag_set(d, AS_E_REC_SYNTAX, "empty name in the %s list \"%s\"",
					   section_name(type), q);
		}
		names++;
	}
	if (names > AS_REC_MAX_ALGS)
		return as_diag_set(d, AS_E_REC_TOO_LONG, "%zu names in the %s list (at most %d)",
				   names, section_name(type), AS_REC_MAX_ALGS);
	return AS_OK;
}

/*
 * Look the names of one list up (rules 7 and 8): unknown names are skipped
 * but counted, refused ones kept, a registry entry named twice is an error.
 */
static int parse_list(struct as_rbuf *sec, int type, const struct as_alg **list, size_t *n,
		      struct as_keyrec *rec, struct as_diag *d)
{
	char q[64];
	int more = 1;

	*n = 0;
	while (more) {
		struct as_rbuf name;
		const struct as_alg *a;
		const uint8_t *p;
		size_t len;

		cut(sec, ',', &name, &more);
		rb_peek_rest(&name, &p, &len);
		a = as_alg_by_name(type, (const char *)p, len);
		if (!a) {
			if (rec->n_unknown < AS_REC_MAX_UNKNOWN)
				as_quote(rec->unknown[rec->n_unknown],
					 sizeof(rec->unknown[0]), p, len);
			rec->n_unknown++;
			continue;
		}
		for (size_t i = 0; i < *n; i++) {
			if (list[i] != a)
				continue;
			as_quote(q, sizeof(q), p, len);
			return as_diag_set(d, AS_E_REC_DUPLICATE,
					   "%s algorithm \"%s\" is listed twice (as %s)",
					   section_name(type), q, a->name);
		}
		if (*n >= AS_REC_MAX_ALGS)
			return AS_E_REC_TOO_LONG; /* check_list prevents this */
		list[(*n)++] = a;
	}
	return AS_OK;
}

/* Rules 5 to 10 on the text after whitespace removal. */
static int parse_stripped(const uint8_t *st, size_t len, struct as_keyrec *out,
			  struct as_diag *d)
{
	const struct as_alg **lists[3] = { out->enc, out->integ, out->dh };
	size_t *counts[3] = { &out->n_enc, &out->n_integ, &out->n_dh };
	struct as_rbuf all, sec[4];
	const uint8_t *key;
	size_t nsec = 0, key_len, n_b64;
	int more = 1, rc;
	uint8_t c;
	char q[64];

	/* printable ASCII only, so that names and diagnostics stay text */
	as_rbuf_init(&all, st, len);
	while (as_rbuf_u8(&all, &c) == AS_OK) {
		if (c >= 0x21 && c <= 0x7e)
			continue;
		as_quote(q, sizeof(q), &c, 1);
		return as_diag_set(d, AS_E_REC_SYNTAX,
				   "octet \"%s\" at offset %zu of the record text (whitespace "
				   "removed) is not printable ASCII",
				   q, as_rbuf_offset(&all) - 1);
	}
	/* enc ";" hash ";" dh ";" key: exactly three separators */
	as_rbuf_init(&all, st, len);
	while (more) {
		struct as_rbuf f;

		cut(&all, ';', &f, &more);
		if (nsec < 4)
			sec[nsec] = f;
		nsec++;
	}
	if (nsec != 4) {
		as_quote(q, sizeof(q), st, len);
		return as_diag_set(d, AS_E_REC_SYNTAX,
				   "record has %zu sections, expected 4 (enc;hash;dh;key): \"%s\"",
				   nsec, q);
	}
	/* all syntax first, then names, so the error does not depend on
	 * which list happens to come first */
	for (int i = 0; i < 3; i++) {
		rc = check_list(&sec[i], sec_type[i], d);
		if (rc)
			return rc;
	}
	for (int i = 0; i < 3; i++) {
		rc = parse_list(&sec[i], sec_type[i], lists[i], counts[i], out, d);
		if (rc)
			return rc;
	}
	/* rule 9: every list needs a recognised entry; an all-refused list is
	 * valid here and fails later as "no proposal" */
	for (int i = 0; i < 3; i++) {
		if (*counts[i] == 0)
			return as_diag_set(d, AS_E_REC_EMPTY_LIST,
					   "no known %s algorithm in the record (%zu unknown names)",
					   section_name(sec_type[i]), out->n_unknown);
	}

	rb_peek_rest(&sec[3], &key, &key_len);
	rc = as_keyrec_b64_decode((const char *)key, key_len, out->spki, sizeof(out->spki),
				  &n_b64, d);
	if (rc == AS_E_NOSPACE)
		return as_diag_set(d, AS_E_REC_KEY, "public key longer than %zu bytes",
				   sizeof(out->spki));
	if (rc)
		return rc;
	out->spki_len = n_b64;
	rc = as_pkey_from_spki(out->spki, out->spki_len, &out->pub, d);
	if (rc)
		return rc;
	rc = as_pkey_info(out->pub, &out->key_type, &out->key_bits, d);
	if (rc)
		return rc;
	out->key_tag = as_pkey_tag(out->spki, out->spki_len);
	return AS_OK;
}

int as_keyrec_parse_text(const char *txt, size_t len, struct as_keyrec *out, struct as_diag *d)
{
	uint8_t st[AS_REC_MAX_TEXT];
	struct as_wbuf w;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!txt && len)
		return as_diag_set(d, AS_E_INVAL, "no record text");
	/* rule 4: the limit is on the text as published, whitespace included,
	 * so that it bounds the parser's work */
	if (len > AS_REC_MAX_TEXT)
		return as_diag_set(d, AS_E_REC_TOO_LONG,
				   "record text of %zu octets is longer than %d", len,
				   AS_REC_MAX_TEXT);
	as_wbuf_init(&w, st, sizeof(st));
	strip_ws(txt, len, &w);
	rc = parse_stripped(st, as_wbuf_len(&w), out, d);
	if (!rc && as_keyrec_digest((const char *)st, as_wbuf_len(&w), out->digest) != AS_OK)
		rc = as_diag_set(d, AS_E_CRYPTO, "SHA-256 failed");
	if (rc)
		as_keyrec_free(out);
	return rc;
}

/*
 * KEY RDATA (RFC 2535 section 3.1; RFC 4034 A.1.1 for algorithm 253;
 * PROTOCOL.md 2.1):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |        Flags = 0x0200         | Protocol = 4  |Algorithm = 253|
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Len = 0x0a   |      'i'      |      'p'      |      '-'      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      'a'      |      'u'      |      't'      |      'o'      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      's'      |      'e'      |      'c'      |  Root = 0x00  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   ~               Record Text (ASCII), to the end                 ~
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Flags 0x0200: A/C = 00 (any use), XT = 0, NAMTYP = 10 (host key).
 * Checked in the order of PROTOCOL.md 2.7 (length, algorithm and name, then
 * flags and protocol), except that a KEY of another algorithm is "not ours"
 * even when it is shorter than our 16-octet minimum.
 */
int as_keyrec_parse_rdata(const uint8_t *rdata, size_t len, struct as_keyrec *out,
			  struct as_diag *d)
{
	struct as_rbuf r, name;
	uint16_t flags = 0;
	uint8_t proto = 0, alg = 0, label_len, label[ALG_NAME_LEN];
	const uint8_t *p;
	size_t n;
	char q[64];

	memset(out, 0, sizeof(*out));
	as_rbuf_init(&r, rdata, len);
	if (as_rbuf_u16(&r, &flags) || as_rbuf_u8(&r, &proto) || as_rbuf_u8(&r, &alg))
		return as_diag_set(d, AS_E_TRUNCATED, "KEY RDATA of %zu octets is shorter than 4",
				   len);
	/* another algorithm is some other key (SIG(0), an old DNSSEC key),
	 * whatever its length: the 16-octet minimum is that of our format */
	if (alg != AS_KEY_ALGORITHM)
		return as_diag_set(d, AS_E_REC_NOT_AUTOSEC,
				   "KEY algorithm %u is not %u (PRIVATEDNS)", alg,
				   AS_KEY_ALGORITHM);
	if (len < 4 + 1 + ALG_NAME_LEN + 1)
		return as_diag_set(d, AS_E_TRUNCATED,
				   "KEY RDATA of %zu octets is shorter than 16", len);
	/* the private algorithm's name: ip-autosec. in any case, uncompressed */
	name = r;
	if (as_rbuf_u8(&r, &label_len) || label_len != ALG_NAME_LEN ||
	    as_rbuf_copy(&r, label, ALG_NAME_LEN) || as_rbuf_u8(&r, &label_len) || label_len != 0)
		goto not_ours;
	for (size_t i = 0; i < ALG_NAME_LEN; i++) {
		if (label[i] >= 'A' && label[i] <= 'Z')
			label[i] = (uint8_t)(label[i] - 'A' + 'a');
	}
	if (memcmp(label, AS_KEY_ALG_NAME, ALG_NAME_LEN) != 0)
		goto not_ours;
	if (flags != AS_KEY_FLAGS)
		return as_diag_set(d, AS_E_REC_FLAGS, "KEY flags 0x%04x are not 0x%04x", flags,
				   AS_KEY_FLAGS);
	if (proto != AS_KEY_PROTOCOL)
		return as_diag_set(d, AS_E_REC_FLAGS, "KEY protocol %u is not %u (IPSEC)", proto,
				   AS_KEY_PROTOCOL);
	as_rbuf_rest(&r, &p, &n);
	return as_keyrec_parse_text((const char *)p, n, out, d);
not_ours:
	quote_rb(q, sizeof(q), &name);
	return as_diag_set(d, AS_E_REC_NOT_AUTOSEC,
			   "KEY algorithm 253 key field does not start with the name %s.: \"%s\"",
			   AS_KEY_ALG_NAME, q);
}

/*
 * TXT RDATA (RFC 1035 3.3.14): one or more <character-string>, each a length
 * octet and that many octets.  They are joined without separator; the result
 * must start with exactly "v=autosec1;" (PROTOCOL.md 2.5).
 */
int as_keyrec_parse_txt(const uint8_t *rdata, size_t len, struct as_keyrec *out,
			struct as_diag *d)
{
	uint8_t joined[TXT_JOIN_MAX];
	const size_t plen = sizeof(AS_TXT_PREFIX) - 1;
	struct as_rbuf r;
	struct as_wbuf w;
	const uint8_t *p;
	char q[64];
	int rc;

	memset(out, 0, sizeof(*out));
	as_rbuf_init(&r, rdata, len);
	as_wbuf_init(&w, joined, sizeof(joined));
	while (as_rbuf_left(&r)) {
		uint8_t n;

		as_rbuf_u8(&r, &n);
		if (as_rbuf_ptr(&r, &p, n))
			return as_diag_set(d, AS_E_TRUNCATED,
					   "TXT character-string of %u octets runs past the RDATA",
					   n);
		if (as_wbuf_put(&w, p, n))
			return as_diag_set(d, AS_E_REC_TOO_LONG,
					   "TXT record text is longer than %d octets",
					   AS_REC_MAX_TEXT);
	}
	if (as_wbuf_len(&w) < plen || memcmp(joined, AS_TXT_PREFIX, plen) != 0) {
		as_quote(q, sizeof(q), joined, as_wbuf_len(&w) < 20 ? as_wbuf_len(&w) : 20);
		return as_diag_set(d, AS_E_REC_NOT_AUTOSEC,
				   "TXT record does not start with %s: \"%s\"", AS_TXT_PREFIX, q);
	}
	rc = as_keyrec_parse_text((const char *)joined + plen, as_wbuf_len(&w) - plen, out, d);
	if (!rc)
		out->from_txt = 1;
	return rc;
}

/* ---- formatting ---- */

static int put_names(struct as_wbuf *w, int type, const char *const *names, struct as_diag *d)
{
	char q[64];

	for (size_t i = 0; names && names[i]; i++) {
		const struct as_alg *a = as_alg_by_name(type, names[i], strlen(names[i]));

		if (!a) {
			as_quote(q, sizeof(q), names[i], strlen(names[i]));
			return as_diag_set(d, AS_E_ALG_UNKNOWN, "unknown %s algorithm \"%s\"",
					   as_alg_type_name(type), q);
		}
		if (i)
			as_wbuf_u8(w, ',');
		as_wbuf_put(w, a->name, strlen(a->name));
	}
	return AS_OK;
}

int as_keyrec_format_text(const char *const *enc, const char *const *integ,
			  const char *const *dh, EVP_PKEY *pub, char *out, size_t cap,
			  struct as_diag *d)
{
	uint8_t spki[AS_SPKI_MAX];
	char b64[(AS_SPKI_MAX + 2) / 3 * 4 + 1];
	struct as_keyrec check;
	struct as_wbuf w;
	size_t spki_len, b64_len;
	int rc;

	if (!out || cap == 0)
		return AS_E_NOSPACE;
	out[0] = '\0';
	if (!pub)
		return as_diag_set(d, AS_E_INVAL, "no public key");
	rc = as_pkey_info(pub, NULL, NULL, d);
	if (rc)
		return rc;
	if (as_pkey_to_spki(pub, spki, sizeof(spki), &spki_len) != AS_OK ||
	    as_keyrec_b64_encode(spki, spki_len, b64, sizeof(b64), &b64_len) != AS_OK)
		return as_diag_set(d, AS_E_CRYPTO, "cannot encode the public key");
	as_wbuf_init(&w, out, cap);
	if ((rc = put_names(&w, AS_XF_ENCR, enc, d)) || as_wbuf_u8(&w, ';') ||
	    (rc = put_names(&w, AS_XF_INTEG, integ, d)) || as_wbuf_u8(&w, ';') ||
	    (rc = put_names(&w, AS_XF_DH, dh, d)) || as_wbuf_u8(&w, ';') ||
	    as_wbuf_put(&w, b64, b64_len) || as_wbuf_u8(&w, '\0')) {
		out[0] = '\0';
		if (rc)
			return rc;
		return as_diag_set(d, AS_E_NOSPACE, "record text does not fit in %zu bytes", cap);
	}
	/* whatever we publish must parse: empty lists, duplicates, length */
	rc = as_keyrec_parse_text(out, as_wbuf_len(&w) - 1, &check, d);
	as_keyrec_free(&check);
	if (rc)
		out[0] = '\0';
	return rc;
}

int as_keyrec_format_rdata(const char *text, struct as_wbuf *w)
{
	size_t start;

	if (!text || !w)
		return AS_E_INVAL;
	as_wbuf_u16(w, AS_KEY_FLAGS);
	as_wbuf_u8(w, AS_KEY_PROTOCOL);
	as_wbuf_u8(w, AS_KEY_ALGORITHM);
	as_wbuf_u8(w, (uint8_t)ALG_NAME_LEN);
	as_wbuf_put(w, AS_KEY_ALG_NAME, ALG_NAME_LEN);
	as_wbuf_u8(w, 0);
	if (as_wbuf_error(w))
		return as_wbuf_error(w);
	start = as_wbuf_len(w);
	if (strip_ws(text, strlen(text), w) != AS_OK)
		return as_wbuf_error(w) ? as_wbuf_error(w) : AS_E_NOSPACE;
	if (as_wbuf_len(w) - start > AS_REC_MAX_TEXT) {
		as_wbuf_truncate(w, start);
		return AS_E_REC_TOO_LONG;
	}
	return AS_OK;
}

/* A zone-file owner name we are willing to print: labels of letters,
 * digits, '-' and '_', 1..63 bytes, at most 253 bytes, optional final dot. */
static int zone_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

static int put_fmt(struct as_wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int put_fmt(struct as_wbuf *w, const char *fmt, ...)
{
	char tmp[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		uint8_t *unused;

		return as_wbuf_reserve(w, SIZE_MAX, &unused); /* sticky NOSPACE */
	}
	return as_wbuf_put(w, tmp, (size_t)n);
}

int as_keyrec_zone_lines(const char *name, uint32_t ttl, const char *text, char *out,
			 size_t cap, struct as_diag *d)
{
	uint8_t field[1 + ALG_NAME_LEN + 1 + AS_REC_MAX_TEXT];
	char b64[(sizeof(field) + 2) / 3 * 4 + 1];
	uint8_t txt[sizeof(AS_TXT_PREFIX) - 1 + AS_REC_MAX_TEXT];
	struct as_keyrec check;
	struct as_wbuf fw, tw, w;
	struct as_rbuf tr;
	size_t text_off, b64_len;
	char q[64];
	int rc;

	if (!out || cap == 0)
		return AS_E_NOSPACE;
	out[0] = '\0';
	if (!name || !text)
		return as_diag_set(d, AS_E_INVAL, "no name or no record text");
	if (!zone_name_ok(name)) {
		as_quote(q, sizeof(q), name, strlen(name));
		return as_diag_set(d, AS_E_DNS_NAME, "invalid domain name \"%s\"", q);
	}
	if (ttl > 0x7fffffff)
		return as_diag_set(d, AS_E_INVAL, "TTL %u is above 2147483647 (RFC 2181)", ttl);
	rc = as_keyrec_parse_text(text, strlen(text), &check, d);
	as_keyrec_free(&check);
	if (rc)
		return rc;

	/* the key field: wire name, then the text without whitespace */
	as_wbuf_init(&fw, field, sizeof(field));
	as_wbuf_u8(&fw, (uint8_t)ALG_NAME_LEN);
	as_wbuf_put(&fw, AS_KEY_ALG_NAME, ALG_NAME_LEN);
	as_wbuf_u8(&fw, 0);
	text_off = as_wbuf_len(&fw);
	if (strip_ws(text, strlen(text), &fw) != AS_OK)
		return as_diag_set(d, AS_E_REC_TOO_LONG, "record text too long");
	/* the text goes between double quotes unescaped: refuse what would need
	 * escaping (only possible through unknown names) */
	as_rbuf_init(&tr, field, as_wbuf_len(&fw));
	as_rbuf_skip(&tr, text_off);
	for (uint8_t c; as_rbuf_u8(&tr, &c) == AS_OK;) {
		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
			as_quote(q, sizeof(q), &c, 1);
			return as_diag_set(d, AS_E_REC_SYNTAX,
					   "character \"%s\" cannot go into a zone file string", q);
		}
	}
	if (as_keyrec_b64_encode(field, as_wbuf_len(&fw), b64, sizeof(b64), &b64_len) != AS_OK)
		return as_diag_set(d, AS_E_CRYPTO, "cannot encode the key field");

	/* TXT: prefix + text, in quoted character-strings of at most 255 bytes */
	as_wbuf_init(&tw, txt, sizeof(txt));
	as_wbuf_put(&tw, AS_TXT_PREFIX, sizeof(AS_TXT_PREFIX) - 1);
	as_rbuf_init(&tr, field, as_wbuf_len(&fw));
	as_rbuf_skip(&tr, text_off);
	{
		const uint8_t *p;
		size_t n;

		as_rbuf_rest(&tr, &p, &n);
		as_wbuf_put(&tw, p, n);
	}
	if (as_wbuf_error(&tw))
		return as_diag_set(d, AS_E_REC_TOO_LONG, "record text too long");

	as_wbuf_init(&w, out, cap);
	put_fmt(&w, "%s %u IN KEY %u %u %u ", name, ttl, AS_KEY_FLAGS, AS_KEY_PROTOCOL,
		AS_KEY_ALGORITHM);
	as_wbuf_put(&w, b64, b64_len);
	put_fmt(&w, "\n%s.%s %u IN TXT", AS_TXT_LABEL, name, ttl);
	as_rbuf_init(&tr, txt, as_wbuf_len(&tw));
	while (as_rbuf_left(&tr)) {
		size_t n = as_rbuf_left(&tr) > 255 ? 255 : as_rbuf_left(&tr);
		const uint8_t *p;

		as_rbuf_ptr(&tr, &p, n);
		as_wbuf_put(&w, " \"", 2);
		as_wbuf_put(&w, p, n);
		as_wbuf_u8(&w, '"');
	}
	as_wbuf_put(&w, "\n", 2); /* with the NUL */
	if (as_wbuf_error(&w)) {
		out[0] = '\0';
		return as_diag_set(d, AS_E_NOSPACE, "zone lines do not fit in %zu bytes", cap);
	}
	return AS_OK;
}
