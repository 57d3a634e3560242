/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The AutoSEC KEY record (PROTOCOL.md section 2).
 *
 *  KEY RDATA:  flags(2) = 0x0200   protocol(1) = 4 (IPSEC)   algorithm(1) = 253
 *              public key field = wire name "\x0aip-autosec\x00" || record text
 *  record text: enc-list ";" hash-list ";" dh-list ";" base64(DER SPKI)
 *  TXT fallback at _autosec.<name>: "v=autosec1;" || record text, split
 *  into character-strings of at most 255 bytes.
 */
#ifndef AUTOSEC_KEYREC_H
#define AUTOSEC_KEYREC_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct as_alg;
struct as_diag;
struct as_wbuf;

#define AS_KEY_FLAGS 0x0200       /* host key, usable for confidentiality */
#define AS_KEY_PROTOCOL 4         /* RFC 2535: IPSEC */
#define AS_KEY_ALGORITHM 253      /* PRIVATEDNS, RFC 4034 A.1.1 */
#define AS_KEY_ALG_NAME "ip-autosec" /* the private algorithm's domain name */
#define AS_TXT_PREFIX "v=autosec1;"
#define AS_TXT_LABEL "_autosec"
#define AS_REC_MAX_TEXT 4096      /* RSA-4096 with long lists stays far below */
#define AS_REC_MAX_ALGS 16        /* per section, unknown names included */
#define AS_REC_MAX_UNKNOWN 4      /* unknown names remembered for display */

struct as_keyrec {
	/* in preference order, as published; includes refused entries so that
	 * tools can say what was refused; unknown names are skipped but counted */
	const struct as_alg *enc[AS_REC_MAX_ALGS];
	size_t n_enc;
	const struct as_alg *integ[AS_REC_MAX_ALGS];
	size_t n_integ;
	const struct as_alg *dh[AS_REC_MAX_ALGS];
	size_t n_dh;
	size_t n_unknown;
	char unknown[AS_REC_MAX_UNKNOWN][40];
	EVP_PKEY *pub;
	int key_type;        /* enum as_key_type */
	unsigned key_bits;
	uint16_t key_tag;
	uint8_t spki[1024];
	size_t spki_len;
	/* SHA-256 of the record text with all whitespace removed: bound into
	 * every first datagram made from this record (downgrade detection). */
	uint8_t digest[32];
	uint32_t ttl;        /* filled in by the DNS layer */
	uint8_t from_txt;    /* 1 when it came from the TXT fallback */
};

/*
 * Parsers, following PROTOCOL.md section 2.7 in its order.  Errors:
 * AS_E_REC_TOO_LONG (text over AS_REC_MAX_TEXT octets, whitespace included;
 * more than AS_REC_MAX_ALGS names in a list), AS_E_REC_SYNTAX (an octet
 * outside 0x21..0x7e after whitespace removal, not 4 sections, an empty list
 * or name), AS_E_REC_DUPLICATE, AS_E_REC_EMPTY_LIST (a list with no known
 * name), AS_E_REC_BASE64, AS_E_REC_KEY, AS_E_REC_KEY_TYPE; for RDATA first
 * AS_E_TRUNCATED (< 4 octets, or < 16 with algorithm 253),
 * AS_E_REC_NOT_AUTOSEC (algorithm or name),
 * AS_E_REC_FLAGS (flags not 0x0200, protocol not 4); for TXT also
 * AS_E_TRUNCATED and AS_E_REC_NOT_AUTOSEC (no "v=autosec1;").  out is
 * always initialised; on failure out->pub is NULL.  as_keyrec_free() is
 * safe after any parse.
 */
/* Parse record text (whitespace anywhere is ignored). */
int as_keyrec_parse_text(const char *txt, size_t len, struct as_keyrec *out, struct as_diag *d);
/* Parse a KEY RR's RDATA (flags, protocol, algorithm, name prefix, text). */
int as_keyrec_parse_rdata(const uint8_t *rdata, size_t len, struct as_keyrec *out,
			  struct as_diag *d);
/* Parse a TXT RR's RDATA (character-strings joined); AS_E_REC_NOT_AUTOSEC
 * if it lacks the "v=autosec1;" prefix. */
int as_keyrec_parse_txt(const uint8_t *rdata, size_t len, struct as_keyrec *out, struct as_diag *d);
void as_keyrec_free(struct as_keyrec *r);

/* Format record text from algorithm lists (NULL-terminated arrays of names)
 * and a public key.  Names are validated against the registry. */
int as_keyrec_format_text(const char *const *enc, const char *const *integ,
			  const char *const *dh, EVP_PKEY *pub,
			  char *out, size_t cap, struct as_diag *d);
/* KEY RDATA for text into w (the text's whitespace is dropped);
 * AS_E_NOSPACE, AS_E_REC_TOO_LONG. */
int as_keyrec_format_rdata(const char *text, struct as_wbuf *w);
/* Zone-file lines: "<name> <ttl> IN KEY 512 4 253 <base64>\n" and
 * "_autosec.<name> <ttl> IN TXT "v=autosec1;..." ...\n".  The text must
 * parse (its error is returned); AS_E_DNS_NAME for a name that is not
 * letters, digits, '-', '_' in dotted labels; AS_E_INVAL for ttl > 2^31-1. */
int as_keyrec_zone_lines(const char *name, uint32_t ttl, const char *text,
			 char *out, size_t cap, struct as_diag *d);
/* SHA-256 of text without whitespace (what as_keyrec.digest holds). */
int as_keyrec_digest(const char *text, size_t len, uint8_t out[32]);

/* Strict base64 (RFC 4648 section 4: standard alphabet, '=' padding
 * required, no whitespace, unused bits zero).  encode writes a NUL-terminated
 * string (AS_E_NOSPACE if cap is short); decode returns AS_E_REC_BASE64 for
 * anything but the canonical encoding, AS_E_NOSPACE if cap is short. */
int as_keyrec_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap, size_t *olen);
int as_keyrec_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *olen,
			 struct as_diag *d);

#endif
