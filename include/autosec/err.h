/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Error convention of the core library: every function returns int, AS_OK (0)
 * on success or one of the AS_E_* codes below.  Codes are specific: a caller
 * (and a test) can tell a truncated record from an unknown algorithm.
 *
 * Where a person will read the failure, the function also takes an optional
 * struct as_diag and writes a sentence into it that quotes the offending
 * value, e.g.  unknown encryption algorithm "ENCR_AES_CBC-512".
 */
#ifndef AUTOSEC_ERR_H
#define AUTOSEC_ERR_H

#include <stddef.h>

enum as_err {
	AS_OK = 0,
	/* buffers */
	AS_E_TRUNCATED,   /* input ends before a field it announces */
	AS_E_NOSPACE,     /* output does not fit the caller's buffer */
	AS_E_TRAILING,    /* bytes left after the end of a structure */
	/* generic */
	AS_E_INVAL,       /* an argument out of range */
	AS_E_NOMEM,
	AS_E_CRYPTO,      /* OpenSSL refused an operation that should work */
	AS_E_IO,          /* a file or socket operation failed (errno kept) */
	AS_E_RANDOM,      /* the random source failed */
	/* algorithm registry and policy */
	AS_E_ALG_UNKNOWN,   /* a name or number we do not know */
	AS_E_ALG_REFUSED,   /* known, but refused by policy (RFC 8221) */
	AS_E_NO_PROPOSAL,   /* nothing in common between record and policy */
	/* KEY record */
	AS_E_REC_NOT_AUTOSEC, /* KEY RR with another algorithm/name prefix */
	AS_E_REC_FLAGS,       /* flags/protocol say the key is not for us */
	AS_E_REC_SYNTAX,      /* not enc;hash;dh;key */
	AS_E_REC_DUPLICATE,   /* an algorithm listed twice */
	AS_E_REC_TOO_LONG,    /* over AS_REC_MAX_TEXT or too many entries */
	AS_E_REC_EMPTY_LIST,  /* a section with no usable entry */
	AS_E_REC_BASE64,      /* the public key is not valid base64 */
	AS_E_REC_KEY,         /* the public key is not a DER SubjectPublicKeyInfo */
	AS_E_REC_KEY_TYPE,    /* a key type or size we do not accept */
	/* AutoSEC messages */
	AS_E_MSG_VERSION,
	AS_E_MSG_TYPE,
	AS_E_MSG_SUITE,
	AS_E_MSG_LENGTH,   /* a length field disagrees with the datagram */
	AS_E_MSG_KEYTAG,   /* no private key with this key tag */
	AS_E_MSG_DECRYPT,  /* the asymmetric block does not open */
	AS_E_MSG_PARAM,    /* a protected parameter is invalid */
	AS_E_MSG_STALE,    /* timestamp outside the freshness window */
	AS_E_MSG_REPLAY,   /* nonce seen before with different content */
	AS_E_MSG_AUTH,     /* a reply's or error's tag does not verify */
	AS_E_MSG_COOKIE,   /* cookie missing or wrong */
	/* ESP */
	AS_E_ESP_SPI,      /* SPI unknown or reserved (0..255) */
	AS_E_ESP_ICV,      /* integrity check failed */
	AS_E_ESP_REPLAY,   /* sequence number already seen or left of window */
	AS_E_ESP_PAD,      /* padding or pad length invalid */
	AS_E_ESP_SEQ_EXHAUSTED, /* the sequence space is used up: rekey */
	/* DNS */
	AS_E_DNS_FORMAT,   /* malformed DNS message */
	AS_E_DNS_NXDOMAIN,
	AS_E_DNS_NODATA,   /* the name exists but has no AutoSEC KEY/TXT */
	AS_E_DNS_SERVFAIL,
	AS_E_DNS_TIMEOUT,
	AS_E_DNS_NAME,     /* an invalid domain name */
	AS_E_DNS_INSECURE, /* DNSSEC required but the answer had no AD bit */
	AS_E__MAX
};

/* A short fixed description of a code, never NULL. */
const char *as_strerror(int err);
/* The code's identifier, e.g. "AS_E_TRUNCATED" (for tests and --json). */
const char *as_errname(int err);

struct as_diag {
	int code;
	char msg[256];
};

/* Record code and a printf-style sentence in d (d may be NULL); returns code. */
int as_diag_set(struct as_diag *d, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* d->msg if set, else as_strerror(code). */
const char *as_diag_msg(const struct as_diag *d, int code);
/* Quote untrusted bytes for a message: printable ASCII kept, the rest \xNN,
 * cut at about 48 input bytes with "..." so logs stay one line. */
void as_quote(char *out, size_t cap, const void *p, size_t n);

#endif
