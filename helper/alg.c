/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The algorithm registry: record names <-> IANA IKEv2 transform IDs <-> the
 * parameters ESP and OpenSSL need.
 *
 * Names follow the draft (section 2.1.1): the IKEv2 transform names of
 * RFC 7296 section 3.3.2, encryption names with the key length appended as
 * -128, -192 or -256.  Lookups are case-insensitive (ASCII only, so the
 * locale cannot change what matches).
 *
 * Status follows RFC 8221 (ESP/AH algorithms) and RFC 8247 (key exchange),
 * as PROTOCOL.md section 2.2.3 (Tables 1-3) lays down: everything a record
 * may name is in the table so that tools can say "refused" instead of
 * "unknown", but only AS_ALG_OK entries are allowed by the default policy.
 */
#include <stdint.h>
#include <string.h>

#include "autosec/alg.h"
#include "autosec/err.h"

/*
 * How a record name may carry the key length suffix:
 *  EXACT - required, and must equal key_bits (AES);
 *  OPT   - optional, but if present must equal the fixed key size
 *          (ChaCha20-Poly1305: "ENCR_CHACHA20_POLY1305" or "...-256");
 *  ANY   - optional and any of -128/-192/-256: legacy fixed-size ciphers that
 *          we only ever refuse; the draft appends a length to every name
 *          (its own example says "ENCR_3DES-128"), and such a record should
 *          be reported as naming a refused cipher, not an unknown one;
 *  NONE  - no suffix (integrity and DH transforms).
 */
enum sfx { SFX_NONE, SFX_EXACT, SFX_OPT, SFX_ANY };

struct ent {
	struct as_alg a; /* first member: as_alg_at() hands out &tab[i].a */
	uint8_t sfx;
};

#define ENCR(id_, bits_, name_, st_, why_, aead_, key_, salt_, iv_, blk_, icv_, ossl_, sfx_) \
	{ { .type = AS_XF_ENCR, .id = (id_), .key_bits = (bits_), .name = (name_),         \
	    .status = (st_), .why = (why_), .aead = (aead_), .key_len = (key_),              \
	    .salt_len = (salt_), .iv_len = (iv_), .block = (blk_), .icv_len = (icv_),         \
	    .ossl = (ossl_) }, (sfx_) }
#define INTEG(id_, name_, st_, why_, ikey_, icv_, ossl_)                                  \
	{ { .type = AS_XF_INTEG, .id = (id_), .name = (name_), .status = (st_),            \
	    .why = (why_), .ikey_len = (ikey_), .icv_len = (icv_), .ossl = (ossl_) },         \
	  SFX_NONE }
#define DH(id_, name_, st_, why_, share_, ossl_)                                          \
	{ { .type = AS_XF_DH, .id = (id_), .name = (name_), .status = (st_),               \
	    .why = (why_), .share_len = (share_), .ossl = (ossl_) }, SFX_NONE }

#define OK AS_ALG_OK
#define REF AS_ALG_REFUSED
#define UNS AS_ALG_UNSUPPORTED

#define WHY_DES "DES: 56-bit key, 64-bit block (RFC 8221: MUST NOT)"
#define WHY_64 "obsolete, 64-bit block; not among the ciphers RFC 8221 allows"

static const struct ent tab[] = {
	/* Transform Type 1: encryption (PROTOCOL.md 2.2.3, Tables 1 and 2).
	 * AES-GCM-16 in 128 and 256 bits only, the sizes RFC 8221 names. */
	ENCR(AS_ENCR_AES_GCM_16, 128, "ENCR_AES_GCM_16-128", OK, NULL, 1, 16, 4, 8, 4, 16,
	     "AES-128-GCM", SFX_EXACT),
	ENCR(AS_ENCR_AES_GCM_16, 256, "ENCR_AES_GCM_16-256", OK, NULL, 1, 32, 4, 8, 4, 16,
	     "AES-256-GCM", SFX_EXACT),
	/* RFC 7634: no Key Length attribute, the key is always 256 bits */
	ENCR(AS_ENCR_CHACHA20_POLY1305, 0, "ENCR_CHACHA20_POLY1305", OK, NULL, 1, 32, 4, 8, 4,
	     16, "ChaCha20-Poly1305", SFX_OPT),
	ENCR(AS_ENCR_AES_CBC, 128, "ENCR_AES_CBC-128", OK, NULL, 0, 16, 0, 16, 16, 0,
	     "AES-128-CBC", SFX_EXACT),
	ENCR(AS_ENCR_AES_CBC, 192, "ENCR_AES_CBC-192", OK, NULL, 0, 24, 0, 16, 16, 0,
	     "AES-192-CBC", SFX_EXACT),
	ENCR(AS_ENCR_AES_CBC, 256, "ENCR_AES_CBC-256", OK, NULL, 0, 32, 0, 16, 16, 0,
	     "AES-256-CBC", SFX_EXACT),
	/* RFC 3686: 4-byte nonce from KEYMAT, 8-byte IV per packet */
	ENCR(AS_ENCR_AES_CTR, 128, "ENCR_AES_CTR-128", OK, NULL, 0, 16, 4, 8, 4, 0,
	     "AES-128-CTR", SFX_EXACT),
	ENCR(AS_ENCR_AES_CTR, 192, "ENCR_AES_CTR-192", OK, NULL, 0, 24, 4, 8, 4, 0,
	     "AES-192-CTR", SFX_EXACT),
	ENCR(AS_ENCR_AES_CTR, 256, "ENCR_AES_CTR-256", OK, NULL, 0, 32, 4, 8, 4, 0,
	     "AES-256-CTR", SFX_EXACT),
	/* legacy: recognised with or without a suffix so that a record naming
	 * them is reported as refused, never chosen; one entry each, so
	 * ENCR_BLOWFISH-128 and ENCR_BLOWFISH-256 are the same transform */
	ENCR(AS_ENCR_DES_IV64, 0, "ENCR_DES_IV64", REF, WHY_DES, 0, 8, 0, 8, 8, 0, NULL,
	     SFX_ANY),
	ENCR(AS_ENCR_DES, 0, "ENCR_DES", REF, WHY_DES, 0, 8, 0, 8, 8, 0, "DES-CBC", SFX_ANY),
	ENCR(AS_ENCR_3DES, 0, "ENCR_3DES", REF, "64-bit block (RFC 8221: SHOULD NOT)", 0, 24, 0,
	     8, 8, 0, "DES-EDE3-CBC", SFX_ANY),
	ENCR(AS_ENCR_RC5, 0, "ENCR_RC5", REF, WHY_64, 0, 16, 0, 8, 8, 0, "RC5-CBC", SFX_ANY),
	ENCR(AS_ENCR_IDEA, 0, "ENCR_IDEA", REF, WHY_64, 0, 16, 0, 8, 8, 0, "IDEA-CBC", SFX_ANY),
	ENCR(AS_ENCR_CAST, 0, "ENCR_CAST", REF, WHY_64, 0, 16, 0, 8, 8, 0, "CAST5-CBC", SFX_ANY),
	ENCR(AS_ENCR_BLOWFISH, 0, "ENCR_BLOWFISH", REF,
	     "obsolete, 64-bit block (RFC 8221: MUST NOT)", 0, 16, 0, 8, 8, 0, "BF-CBC", SFX_ANY),
	ENCR(AS_ENCR_3IDEA, 0, "ENCR_3IDEA", REF, "obsolete, 64-bit block (RFC 8221: MUST NOT)",
	     0, 48, 0, 8, 8, 0, NULL, SFX_ANY),
	ENCR(AS_ENCR_DES_IV32, 0, "ENCR_DES_IV32", REF, WHY_DES, 0, 8, 0, 4, 8, 0, NULL,
	     SFX_ANY),
	ENCR(AS_ENCR_NULL, 0, "ENCR_NULL", REF,
	     "no confidentiality, which is AutoSEC's purpose (RFC 8221 allows ENCR_NULL only "
	     "for integrity-only ESP)",
	     0, 0, 0, 0, 1, 0, NULL, SFX_ANY),

	/* Transform Type 3: integrity.  NONE goes with the AEAD ciphers. */
	INTEG(AS_AUTH_HMAC_SHA2_256_128, "AUTH_HMAC_SHA2_256_128", OK, NULL, 32, 16, "SHA256"),
	INTEG(AS_AUTH_HMAC_SHA2_384_192, "AUTH_HMAC_SHA2_384_192", OK, NULL, 48, 24, "SHA384"),
	INTEG(AS_AUTH_HMAC_SHA2_512_256, "AUTH_HMAC_SHA2_512_256", OK, NULL, 64, 32, "SHA512"),
	INTEG(AS_AUTH_NONE, "NONE", OK, NULL, 0, 0, NULL),
	INTEG(AS_AUTH_HMAC_MD5_96, "AUTH_HMAC_MD5_96", REF, "MD5 (RFC 8221: MUST NOT)", 16, 12,
	      "MD5"),
	INTEG(AS_AUTH_HMAC_SHA1_96, "AUTH_HMAC_SHA1_96", REF,
	      "SHA-1; RFC 8221 keeps it (MUST-) only for compatibility, which a new protocol "
	      "does not need",
	      20, 12, "SHA1"),
	INTEG(AS_AUTH_DES_MAC, "AUTH_DES_MAC", REF, "DES (RFC 8221: MUST NOT)", 0, 0, NULL),
	INTEG(AS_AUTH_KPDK_MD5, "AUTH_KPDK_MD5", REF, "MD5 (RFC 8221: MUST NOT)", 0, 0, NULL),
	INTEG(AS_AUTH_AES_XCBC_96, "AUTH_AES_XCBC_96", UNS, "not implemented", 16, 12, NULL),

	/* Transform Type 4: key exchange.  RFC 3526 MODP groups and RFC 8031. */
	DH(AS_DH_CURVE25519, "CURVE25519", OK, NULL, 32, "X25519"),
	DH(AS_DH_MODP2048, "MODP2048", OK, NULL, 256, "modp_2048"),
	DH(AS_DH_MODP3072, "MODP3072", OK, NULL, 384, "modp_3072"),
	DH(AS_DH_MODP4096, "MODP4096", OK, NULL, 512, "modp_4096"),
	DH(AS_DH_MODP6144, "MODP6144", OK, NULL, 768, "modp_6144"),
	DH(AS_DH_MODP8192, "MODP8192", OK, NULL, 1024, "modp_8192"),
	DH(AS_DH_MODP1536, "MODP1536", REF,
	   "group too small, below 2048 bits (RFC 8247: SHOULD NOT)", 192, "modp_1536"),
};

#define NTAB (sizeof(tab) / sizeof(tab[0]))

/* The policy bitsets have 256 bits per type, indexed by table position. */
_Static_assert(NTAB <= 256, "registry outgrew struct as_policy");

/* Other names for the same transform (RFC 8031 calls group 31 Curve25519;
 * OpenSSL and most people say X25519). */
static const struct {
	uint8_t type;
	const char *alias;
	const char *name;
} aliases[] = {
	{ AS_XF_DH, "X25519", "CURVE25519" },
};

static int lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Case-insensitive equality of s[0..n) with the NUL-terminated t[0..tn). */
static int eq_ci(const char *s, size_t n, const char *t, size_t tn)
{
	if (n != tn)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lc((unsigned char)s[i]) != lc((unsigned char)t[i]))
			return 0;
	return 1;
}

/* Split "BASE-NNN": *base_len and *bits (0 when there is no suffix).
 * Returns -1 for a dash followed by anything but 128/192/256. */
static int split_suffix(const char *s, size_t n, size_t *base_len, unsigned *bits)
{
	size_t i = n;

	while (i > 0 && s[i - 1] != '-')
		i--;
	if (i == 0) {
		*base_len = n;
		*bits = 0;
		return 0;
	}
	*base_len = i - 1;
	if (n - i != 3)
		return -1;
	if (!memcmp(s + i, "128", 3))
		*bits = 128;
	else if (!memcmp(s + i, "192", 3))
		*bits = 192;
	else if (!memcmp(s + i, "256", 3))
		*bits = 256;
	else
		return -1;
	return 0;
}

static int ent_matches(const struct ent *e, const char *s, size_t base_len, unsigned bits)
{
	const char *cn = e->a.name;
	size_t cbase, cn_len = strlen(cn);
	unsigned cbits;

	if (split_suffix(cn, cn_len, &cbase, &cbits) != 0)
		return 0;
	if (!eq_ci(s, base_len, cn, cbase))
		return 0;
	switch (e->sfx) {
	case SFX_NONE:
		return bits == 0;
	case SFX_EXACT:
		return bits == e->a.key_bits;
	case SFX_OPT:
		return bits == 0 || bits == 8u * e->a.key_len;
	case SFX_ANY:
		return 1;
	}
	return 0;
}

const struct as_alg *as_alg_by_name(int type, const char *name, size_t len)
{
	size_t base_len;
	unsigned bits;

	if (!name || !len)
		return NULL;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if ((type && type != aliases[i].type) ||
		    !eq_ci(name, len, aliases[i].alias, strlen(aliases[i].alias)))
			continue;
		return as_alg_by_name(aliases[i].type, aliases[i].name,
				      strlen(aliases[i].name));
	}
	if (split_suffix(name, len, &base_len, &bits) != 0)
		return NULL;
	for (size_t i = 0; i < NTAB; i++) {
		if (type && tab[i].a.type != type)
			continue;
		if (ent_matches(&tab[i], name, base_len, bits))
			return &tab[i].a;
	}
	return NULL;
}

const struct as_alg *as_alg_find(int type, uint16_t id, uint16_t key_bits)
{
	for (size_t i = 0; i < NTAB; i++)
		if (tab[i].a.type == type && tab[i].a.id == id && tab[i].a.key_bits == key_bits)
			return &tab[i].a;
	return NULL;
}

const struct as_alg *as_alg_at(size_t i)
{
	return i < NTAB ? &tab[i].a : NULL;
}

const char *as_alg_type_name(int type)
{
	switch (type) {
	case AS_XF_ENCR:
		return "encryption";
	case AS_XF_INTEG:
		return "integrity";
	case AS_XF_DH:
		return "DH group";
	}
	return "unknown";
}

/* Table position of a registry entry, or -1 for a pointer not from us. */
static int alg_index(const struct as_alg *a)
{
	for (size_t i = 0; i < NTAB; i++)
		if (&tab[i].a == a)
			return (int)i;
	return -1;
}

static uint64_t *policy_set_for(struct as_policy *p, int type)
{
	switch (type) {
	case AS_XF_ENCR:
		return p->allow_encr;
	case AS_XF_INTEG:
		return p->allow_integ;
	case AS_XF_DH:
		return p->allow_dh;
	}
	return NULL;
}

void as_policy_default(struct as_policy *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < NTAB; i++) {
		uint64_t *set = policy_set_for(p, tab[i].a.type);

		if (set && tab[i].a.status == AS_ALG_OK)
			set[i / 64] |= UINT64_C(1) << (i % 64);
	}
}

int as_policy_allows(const struct as_policy *p, const struct as_alg *a)
{
	const uint64_t *set;
	int i;

	if (!p || !a)
		return 0;
	i = alg_index(a);
	if (i < 0)
		return 0;
	switch (a->type) {
	case AS_XF_ENCR:
		set = p->allow_encr;
		break;
	case AS_XF_INTEG:
		set = p->allow_integ;
		break;
	case AS_XF_DH:
		set = p->allow_dh;
		break;
	default:
		return 0;
	}
	return (set[i / 64] >> (i % 64)) & 1;
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Replace the allowed set of one type by the names in a comma list
 * (whitespace around names ignored).  Refused (legacy) names are accepted:
 * naming one explicitly is how an administrator allows it.  Names of
 * transforms we do not implement are not.  On error p is unchanged.
 */
int as_policy_set(struct as_policy *p, int type, const char *list, struct as_diag *d)
{
	uint64_t set[4] = { 0 };
	uint64_t *dst;
	const char *s = list;
	size_t n_names = 0;
	char q[64];

	if (!p || !list)
		return as_diag_set(d, AS_E_INVAL, "no algorithm list given");
	dst = policy_set_for(p, type);
	if (!dst)
		return as_diag_set(d, AS_E_INVAL, "unknown transform type %d", type);
	for (;;) {
		const char *start, *end;
		const struct as_alg *a;
		int i;

		while (*s && is_space((unsigned char)*s))
			s++;
		start = s;
		while (*s && *s != ',')
			s++;
		end = s;
		while (end > start && is_space((unsigned char)end[-1]))
			end--;
		if (end == start) {
			if (!*s && n_names == 0)
				return as_diag_set(d, AS_E_INVAL, "empty %s algorithm list",
						   as_alg_type_name(type));
			return as_diag_set(d, AS_E_INVAL, "empty name in %s algorithm list",
					   as_alg_type_name(type));
		}
		as_quote(q, sizeof(q), start, (size_t)(end - start));
		a = as_alg_by_name(type, start, (size_t)(end - start));
		if (!a) {
			const struct as_alg *other = as_alg_by_name(0, start, (size_t)(end - start));

			if (other)
				return as_diag_set(d, AS_E_ALG_UNKNOWN,
						   "\"%s\" is a %s algorithm, not %s", q,
						   as_alg_type_name(other->type),
						   as_alg_type_name(type));
			return as_diag_set(d, AS_E_ALG_UNKNOWN, "unknown %s algorithm \"%s\"%s",
					   as_alg_type_name(type), q,
					   type == AS_XF_ENCR && !memchr(start, '-',
									  (size_t)(end - start))
						   ? " (encryption names end in -128, -192 or -256)"
						   : "");
		}
		if (a->status == AS_ALG_UNSUPPORTED)
			return as_diag_set(d, AS_E_ALG_REFUSED, "%s algorithm \"%s\": %s",
					   as_alg_type_name(type), q, a->why);
		i = alg_index(a);
		set[i / 64] |= UINT64_C(1) << (i % 64);
		n_names++;
		if (!*s)
			break;
		s++; /* the comma */
	}
	memcpy(dst, set, sizeof(set));
	return AS_OK;
}
