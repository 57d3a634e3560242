/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "autosec/err.h"

static const struct {
	const char *name;
	const char *text;
} errtab[AS_E__MAX] = {
#define E(code, text) [code] = { #code, text }
	E(AS_OK, "success"),
	E(AS_E_TRUNCATED, "input ends before a field it announces"),
	E(AS_E_NOSPACE, "output buffer too small"),
	E(AS_E_TRAILING, "unexpected bytes after the end of the structure"),
	E(AS_E_INVAL, "invalid argument"),
	E(AS_E_NOMEM, "out of memory"),
	E(AS_E_CRYPTO, "cryptographic library failure"),
	E(AS_E_IO, "input/output error"),
	E(AS_E_RANDOM, "random number source failed"),
	E(AS_E_ALG_UNKNOWN, "unknown algorithm"),
	E(AS_E_ALG_REFUSED, "algorithm refused by policy"),
	E(AS_E_NO_PROPOSAL, "no algorithm acceptable to both sides"),
	E(AS_E_REC_NOT_AUTOSEC, "not an AutoSEC KEY record"),
	E(AS_E_REC_FLAGS, "KEY flags or protocol exclude this use"),
	E(AS_E_REC_SYNTAX, "record text is not enc;hash;dh;key"),
	E(AS_E_REC_DUPLICATE, "algorithm listed twice"),
	E(AS_E_REC_TOO_LONG, "record too long"),
	E(AS_E_REC_EMPTY_LIST, "a record section has no usable entry"),
	E(AS_E_REC_BASE64, "public key is not valid base64"),
	E(AS_E_REC_KEY, "public key is not a DER SubjectPublicKeyInfo"),
	E(AS_E_REC_KEY_TYPE, "unsupported public key type or size"),
	E(AS_E_MSG_VERSION, "unsupported AutoSEC version"),
	E(AS_E_MSG_TYPE, "unknown AutoSEC message type"),
	E(AS_E_MSG_SUITE, "unknown AutoSEC suite"),
	E(AS_E_MSG_LENGTH, "AutoSEC length field disagrees with the datagram"),
	E(AS_E_MSG_KEYTAG, "no private key with this key tag"),
	E(AS_E_MSG_DECRYPT, "asymmetric block does not decrypt"),
	E(AS_E_MSG_PARAM, "invalid protected parameter"),
	E(AS_E_MSG_STALE, "timestamp outside the freshness window"),
	E(AS_E_MSG_REPLAY, "replayed first datagram"),
	E(AS_E_MSG_AUTH, "message authentication failed"),
	E(AS_E_MSG_COOKIE, "cookie missing or invalid"),
	E(AS_E_ESP_SPI, "unknown or reserved SPI"),
	E(AS_E_ESP_ICV, "ESP integrity check failed"),
	E(AS_E_ESP_REPLAY, "ESP sequence number replayed or too old"),
	E(AS_E_ESP_PAD, "ESP padding invalid"),
	E(AS_E_ESP_SEQ_EXHAUSTED, "ESP sequence numbers exhausted"),
	E(AS_E_DNS_FORMAT, "malformed DNS message"),
	E(AS_E_DNS_NXDOMAIN, "name does not exist"),
	E(AS_E_DNS_NODATA, "no AutoSEC KEY or TXT record at this name"),
	E(AS_E_DNS_SERVFAIL, "DNS server failure"),
	E(AS_E_DNS_TIMEOUT, "DNS query timed out"),
	E(AS_E_DNS_NAME, "invalid domain name"),
	E(AS_E_DNS_INSECURE, "DNSSEC validation required but answer not authenticated"),
#undef E
};

const char *as_strerror(int err)
{
	if (err < 0 || err >= AS_E__MAX || !errtab[err].text)
		return "unknown error";
	return errtab[err].text;
}

const char *as_errname(int err)
{
	if (err < 0 || err >= AS_E__MAX || !errtab[err].name)
		return "AS_E_UNKNOWN";
	return errtab[err].name;
}

int as_diag_set(struct as_diag *d, int code, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return code;
	d->code = code;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *as_diag_msg(const struct as_diag *d, int code)
{
	if (d && d->code == code && d->msg[0])
		return d->msg;
	return as_strerror(code);
}

void as_quote(char *out, size_t cap, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i, o = 0;
	size_t lim = n > 48 ? 48 : n;

	if (!cap)
		return;
	for (i = 0; i < lim; i++) {
		char tmp[5];
		size_t tl;

		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') {
			tmp[0] = (char)s[i];
			tl = 1;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", s[i]);
			tl = 4;
		}
		if (o + tl + 4 >= cap)
			break;
		memcpy(out + o, tmp, tl);
		o += tl;
	}
	if ((i < n) && o + 3 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}
