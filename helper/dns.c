/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DNS response parsing: the AutoSEC KEY (or TXT fallback) records in the
 * answer to one query.  Everything goes through the bounded reader; nothing
 * in the message is trusted, neither a count nor a length nor a pointer.
 */
#include <stdio.h>
#include <string.h>

#include "autosec/buf.h"
#include "autosec/dns.h"
#include "autosec/err.h"
#include "autosec/keyrec.h"
#include "autosec/pkey.h"

#define DNS_HDR_LEN 12
#define DNS_NAME_MAX 255        /* wire octets, root label included (RFC 1035 2.3.4) */
#define DNS_LABEL_MAX 63
#define DNS_PTR_HOPS 127        /* one per label is the most a sane encoder needs */
#define DNS_CNAME_HOPS 8
#define DNS_RR_MIN 11           /* root owner + TYPE CLASS TTL RDLENGTH */
#define DNS_Q_MIN 5             /* root name + QTYPE QCLASS */

#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_AD 0x0020

#define DNS_CLASS_IN 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_SOA 6

struct dns_name {
	uint8_t wire[DNS_NAME_MAX]; /* lower-cased, uncompressed */
	size_t len;
};

/* One resource record, RFC 1035 4.1.3; rdata borrowed from the message. */
struct dns_rr {
	struct dns_name owner;
	uint16_t type;
	uint16_t class;
	uint32_t ttl;
	size_t rdata_off;
	size_t rdlen;
	struct as_rbuf rdata;
};

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

static int ldh(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Presentation form for messages: odd octets as \DDD (RFC 1035 5.1). */
static void name_text(const struct dns_name *n, char *out, size_t cap)
{
	struct as_rbuf r;
	size_t o = 0;
	uint8_t l;

	if (!cap)
		return;
	out[0] = '\0';
	as_rbuf_init(&r, n->wire, n->len);
	while (as_rbuf_u8(&r, &l) == AS_OK && l) {
		const uint8_t *lab;

		if (as_rbuf_ptr(&r, &lab, l))
			break;
		for (size_t i = 0; i < l; i++) {
			char tmp[5];
			int tl;

			if (ldh(lab[i]))
				tl = snprintf(tmp, sizeof(tmp), "%c", lab[i]);
			else
				tl = snprintf(tmp, sizeof(tmp), "\\%03u", lab[i]);
			if (o + (size_t)tl + 2 >= cap)
				goto cut;
			memcpy(out + o, tmp, (size_t)tl);
			o += (size_t)tl;
		}
		if (o + 2 >= cap)
			goto cut;
		out[o++] = '.';
	}
	if (!o && cap > 1)
		out[o++] = '.';
	if (o > 1 && out[o - 1] == '.')
		o--;
	out[o] = '\0';
	return;
cut:
	if (cap > 4 && o > 3)
		memcpy(out + o - 3, "...", 3);
	out[o < cap ? o : cap - 1] = '\0';
}

/*
 * Text name -> lower-cased wire form.  Accepts letters, digits, '-' and '_'
 * (the latter for _autosec), labels of 1..63 octets, at most 255 octets in
 * wire form; one trailing dot is allowed.  "." alone is refused: no host
 * lives at the root.
 */
static int name_from_text(const char *name, struct dns_name *n, struct as_diag *d)
{
	char q[80];
	size_t len, i, lab = 0, labstart;

	if (!name)
		return as_diag_set(d, AS_E_DNS_NAME, "missing domain name");
	len = strlen(name);
	as_quote(q, sizeof(q), name, len);
	if (len && name[len - 1] == '.')
		len--;
	if (!len)
		return as_diag_set(d, AS_E_DNS_NAME, "invalid domain name \"%s\": empty", q);
	if (len + 2 > DNS_NAME_MAX)
		return as_diag_set(d, AS_E_DNS_NAME,
				   "invalid domain name \"%s\": longer than 253 characters", q);
	n->len = 0;
	labstart = 0;
	n->wire[n->len++] = 0;
	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			if (!lab)
				return as_diag_set(d, AS_E_DNS_NAME,
						   "invalid domain name \"%s\": empty label", q);
			n->wire[labstart] = (uint8_t)lab;
			labstart = n->len;
			n->wire[n->len++] = 0;
			lab = 0;
			continue;
		}
		if (!ldh((unsigned char)name[i])) {
			char c[8];

			as_quote(c, sizeof(c), name + i, 1);
			return as_diag_set(d, AS_E_DNS_NAME,
					   "invalid domain name \"%s\": character \"%s\" is not "
					   "allowed (letters, digits, '-' and '_' only)", q, c);
		}
		if (++lab > DNS_LABEL_MAX)
			return as_diag_set(d, AS_E_DNS_NAME,
					   "invalid domain name \"%s\": label longer than 63", q);
		n->wire[n->len++] = lower((uint8_t)name[i]);
	}
	/* n->wire[labstart] is the root label, already 0 */
	return AS_OK;
}

int as_dns_name_check(const char *name, struct as_diag *d)
{
	struct dns_name n;

	return name_from_text(name, &n, d);
}

int as_dns_put_name(struct as_wbuf *w, const char *name, struct as_diag *d)
{
	struct dns_name n;
	int rc;

	if ((rc = name_from_text(name, &n, d)))
		return rc;
	return as_wbuf_put(w, n.wire, n.len);
}

static int name_eq(const struct dns_name *a, const struct dns_name *b)
{
	return a->len == b->len && memcmp(a->wire, b->wire, a->len) == 0;
}

/* Is zone a suffix of n on a label boundary (n at or below zone)? */
static int name_under(const struct dns_name *n, const struct dns_name *zone)
{
	struct as_rbuf r;
	uint8_t l;

	as_rbuf_init(&r, n->wire, n->len);
	for (;;) {
		size_t off = as_rbuf_offset(&r);
		const uint8_t *tail;

		if (as_rbuf_left(&r) == zone->len &&
		    as_rbuf_range(&r, off, zone->len, &tail) == AS_OK &&
		    memcmp(tail, zone->wire, zone->len) == 0)
			return 1;
		if (as_rbuf_u8(&r, &l) || !l || as_rbuf_skip(&r, l))
			return 0;
	}
}

static int fmt_err(struct as_diag *d, const char *what)
{
	return as_diag_set(d, AS_E_DNS_FORMAT, "malformed DNS response: %s", what);
}

/*
 * Domain name, RFC 1035 4.1.4: a sequence of labels, each a length octet
 * (00xxxxxx, 0..63) and that many octets, ending with the zero-length root
 * label or with a pointer to a prior occurrence:
 *
 *     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *     | 1  1|                OFFSET                   |
 *     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *
 * m is positioned at the name and left just after it (after the first
 * pointer if there is one).  Each pointer must point strictly before the
 * run of labels it ends, so positions decrease with every hop and no loop
 * is possible; the hop limit bounds the work anyway.  Label types 01
 * (extended labels, deprecated by RFC 6891) and 10 (reserved) are refused,
 * so a length octet above 63 never passes.
 */
static int name_read(struct as_rbuf *m, struct dns_name *n, struct as_diag *d)
{
	struct as_rbuf r = *m;
	size_t run_start = as_rbuf_offset(m);
	unsigned hops = 0;
	int jumped = 0;
	uint8_t c, lo;

	n->len = 0;
	for (;;) {
		if (as_rbuf_u8(&r, &c))
			return fmt_err(d, "name runs past the end of the message");
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (as_rbuf_u8(&r, &lo))
				return fmt_err(d, "compression pointer cut off");
			target = (size_t)(c & 0x3f) << 8 | lo;
			if (!jumped && as_rbuf_seek(m, as_rbuf_offset(&r)))
				return fmt_err(d, "compression pointer cut off");
			jumped = 1;
			if (target >= run_start)
				return fmt_err(d, "compression pointer does not point backwards");
			if (++hops > DNS_PTR_HOPS)
				return fmt_err(d, "too many compression pointers in a name");
			if (as_rbuf_seek(&r, target))
				return fmt_err(d, "compression pointer past the end");
			run_start = target;
			continue;
		}
		if (c & 0xc0) {
			char w[64];

			snprintf(w, sizeof(w), "label length/type octet 0x%02x (label > 63)", c);
			return fmt_err(d, w);
		}
		if (n->len + 1 + c > DNS_NAME_MAX)
			return fmt_err(d, "name longer than 255 octets");
		n->wire[n->len++] = c;
		if (!c)
			break;
		for (uint8_t i = 0; i < c; i++) {
			uint8_t b;

			if (as_rbuf_u8(&r, &b))
				return fmt_err(d, "label runs past the end of the message");
			n->wire[n->len++] = lower(b);
		}
	}
	if (!jumped && as_rbuf_seek(m, as_rbuf_offset(&r)))
		return fmt_err(d, "name runs past the end of the message");
	return AS_OK;
}

/*
 * Resource record, RFC 1035 4.1.3:
 *
 *     NAME (variable) | TYPE (16) | CLASS (16) | TTL (32) | RDLENGTH (16) | RDATA
 */
static int rr_read(struct as_rbuf *m, struct dns_rr *rr, struct as_diag *d)
{
	uint16_t rdlen;
	int rc;

	if ((rc = name_read(m, &rr->owner, d)))
		return rc;
	if (as_rbuf_u16(m, &rr->type) || as_rbuf_u16(m, &rr->class) ||
	    as_rbuf_u32(m, &rr->ttl) || as_rbuf_u16(m, &rdlen))
		return fmt_err(d, "resource record header cut off");
	/* RFC 2181 8: a TTL with the top bit set is treated as zero */
	if (rr->ttl & 0x80000000u)
		rr->ttl = 0;
	rr->rdata_off = as_rbuf_offset(m);
	rr->rdlen = rdlen;
	if (as_rbuf_sub(m, &rr->rdata, rdlen))
		return fmt_err(d, "RDLENGTH runs past the end of the message");
	return AS_OK;
}

/* A name inside RDATA (CNAME, SOA): may be compressed against the whole message. */
static int rdata_name(const struct as_rbuf *msg, size_t off, size_t end, struct dns_name *n,
		      size_t *after, struct as_diag *d)
{
	struct as_rbuf m = *msg;
	int rc;

	if (as_rbuf_seek(&m, off))
		return fmt_err(d, "RDATA offset past the end");
	if ((rc = name_read(&m, n, d)))
		return rc;
	*after = as_rbuf_offset(&m);
	if (*after > end)
		return fmt_err(d, "name runs past its RDATA");
	return AS_OK;
}

static const char *type_name(uint16_t t)
{
	return t == AS_DNS_TYPE_KEY ? "KEY" : t == AS_DNS_TYPE_TXT ? "TXT" : "?";
}

static const char *rcode_name(unsigned rc)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
	};

	return rc < sizeof(names) / sizeof(names[0]) ? names[rc] : "unassigned";
}

/* Preference among usable keys: X25519 (cheap, HPKE), then bigger RSA first. */
static int rec_rank(const struct as_keyrec *r)
{
	if (r->key_type == AS_KEY_X25519)
		return 0;
	return 1 + (r->key_bits < 16384 ? (int)(16384 - r->key_bits) : 0);
}

static void sort_recs(struct as_dns_result *res)
{
	for (size_t i = 1; i < res->n; i++) {
		for (size_t j = i; j > 0 && rec_rank(&res->rec[j]) < rec_rank(&res->rec[j - 1]); j--) {
			struct as_keyrec t = res->rec[j];

			res->rec[j] = res->rec[j - 1];
			res->rec[j - 1] = t;
		}
	}
}

/* Walk n RRs, validating each; m is left after them. */
static int skip_rrs(struct as_rbuf *m, unsigned n, struct as_diag *d)
{
	struct dns_rr rr;
	int rc;

	for (unsigned i = 0; i < n; i++)
		if ((rc = rr_read(m, &rr, d)))
			return rc;
	return AS_OK;
}

/*
 * Follow a CNAME chain inside the answer section starting at *cur; leaves
 * the final owner in *cur and lowers *ttl by the CNAMEs' TTLs.
 */
static int follow_cnames(const struct as_rbuf *msg, size_t an_off, unsigned ancount,
			 struct dns_name *cur, uint32_t *ttl, struct as_diag *d)
{
	for (unsigned hop = 0;; hop++) {
		struct as_rbuf m = *msg;
		struct dns_rr rr;
		int found = 0, rc;

		if (as_rbuf_seek(&m, an_off))
			return fmt_err(d, "answer section offset");
		for (unsigned i = 0; i < ancount && !found; i++) {
			struct dns_name target;
			size_t after;

			if ((rc = rr_read(&m, &rr, d)))
				return rc;
			if (rr.type != DNS_TYPE_CNAME || rr.class != DNS_CLASS_IN ||
			    !name_eq(&rr.owner, cur))
				continue;
			if ((rc = rdata_name(msg, rr.rdata_off, rr.rdata_off + rr.rdlen, &target,
					     &after, d)))
				return rc;
			if (after != rr.rdata_off + rr.rdlen)
				return fmt_err(d, "CNAME RDATA longer than its name");
			*cur = target;
			if (rr.ttl < *ttl)
				*ttl = rr.ttl;
			found = 1;
		}
		if (!found)
			return AS_OK;
		if (hop + 1 >= DNS_CNAME_HOPS)
			return fmt_err(d, "CNAME chain too long or looping");
	}
}

/*
 * SOA RDATA, RFC 1035 3.3.13: MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM.
 * Negative TTL, RFC 2308 5: min(SOA TTL, MINIMUM).  Only an IN SOA for a zone
 * at or above the name counts.
 */
static int negative_ttl(const struct as_rbuf *msg, struct as_rbuf *m, unsigned nscount,
			const struct dns_name *qn, const struct dns_name *cur,
			uint32_t *ttl, int *found, struct as_diag *d)
{
	struct dns_rr rr;
	int rc;

	*found = 0;
	for (unsigned i = 0; i < nscount; i++) {
		struct dns_name mname, rname;
		struct as_rbuf f = *msg;
		size_t after, end;
		uint32_t v[5];

		if ((rc = rr_read(m, &rr, d)))
			return rc;
		if (*found || rr.type != DNS_TYPE_SOA || rr.class != DNS_CLASS_IN)
			continue;
		if (!name_under(cur, &rr.owner) && !name_under(qn, &rr.owner))
			continue;
		end = rr.rdata_off + rr.rdlen;
		if ((rc = rdata_name(msg, rr.rdata_off, end, &mname, &after, d)) ||
		    (rc = rdata_name(msg, after, end, &rname, &after, d)))
			return rc;
		if (end - after != sizeof(v))
			return fmt_err(d, "SOA RDATA has the wrong length");
		if (as_rbuf_seek(&f, after))
			return fmt_err(d, "SOA RDATA offset");
		for (size_t k = 0; k < 5; k++)
			if (as_rbuf_u32(&f, &v[k]))
				return fmt_err(d, "SOA RDATA cut off");
		*ttl = rr.ttl < v[4] ? rr.ttl : v[4];
		if (*ttl & 0x80000000u)
			*ttl = 0;
		*found = 1;
	}
	return AS_OK;
}

static void add_bad(struct as_dns_result *res, const char *why, const char *alg)
{
	if (res->n_bad < AS_DNS_MAX_RECS)
		snprintf(res->bad_why[res->n_bad], sizeof(res->bad_why[0]), "%s%s%s%s", why,
			 alg ? " (" : "", alg ? alg : "", alg ? ")" : "");
	res->n_bad++;
}

/* IANA "DNS Security Algorithm Numbers": so that a person reading why a KEY
 * is not ours sees what it is instead (typically an old DNSSEC key). */
static const char *key_alg_name(const struct as_rbuf *rdata)
{
	struct as_rbuf r = *rdata;
	uint8_t alg;

	if (as_rbuf_skip(&r, 3) || as_rbuf_u8(&r, &alg))
		return NULL;
	switch (alg) {
	case 1: return "algorithm 1 is RSAMD5";
	case 2: return "algorithm 2 is DH";
	case 3: return "algorithm 3 is DSA";
	case 5: return "algorithm 5 is RSASHA1";
	case 6: return "algorithm 6 is DSA-NSEC3-SHA1";
	case 7: return "algorithm 7 is RSASHA1-NSEC3-SHA1";
	case 8: return "algorithm 8 is RSASHA256";
	case 10: return "algorithm 10 is RSASHA512";
	case 12: return "algorithm 12 is ECC-GOST";
	case 13: return "algorithm 13 is ECDSAP256SHA256";
	case 14: return "algorithm 14 is ECDSAP384SHA384";
	case 15: return "algorithm 15 is ED25519";
	case 16: return "algorithm 16 is ED448";
	case 254: return "algorithm 254 is PRIVATEOID";
	default: return NULL;
	}
}

/* Parse the usable records of qtype owned by cur; unusable ones go to bad_why. */
static int collect(const struct as_rbuf *msg, size_t an_off, unsigned ancount,
		   const struct dns_name *cur, uint16_t qtype, struct as_dns_result *res,
		   uint32_t *ttl, uint32_t *bad_ttl, struct as_diag *d)
{
	struct as_rbuf m = *msg;
	struct dns_rr rr;
	int rc;

	if (as_rbuf_seek(&m, an_off))
		return fmt_err(d, "answer section offset");
	for (unsigned i = 0; i < ancount; i++) {
		struct as_keyrec k;
		struct as_diag kd = { 0 };
		const uint8_t *rd;
		const char *alg;
		size_t rdn;

		if ((rc = rr_read(&m, &rr, d)))
			return rc;
		/* other classes (CH, HS), other types (RRSIG, CNAME) and other
		 * owners are not ours: ignore them */
		if (rr.type != qtype || rr.class != DNS_CLASS_IN || !name_eq(&rr.owner, cur))
			continue;
		alg = qtype == AS_DNS_TYPE_KEY ? key_alg_name(&rr.rdata) : NULL;
		as_rbuf_rest(&rr.rdata, &rd, &rdn);
		memset(&k, 0, sizeof(k));
		if (qtype == AS_DNS_TYPE_KEY)
			rc = as_keyrec_parse_rdata(rd, rdn, &k, &kd);
		else
			rc = as_keyrec_parse_txt(rd, rdn, &k, &kd);
		if (rc) {
			as_keyrec_free(&k);
			add_bad(res, as_diag_msg(&kd, rc), rc == AS_E_REC_NOT_AUTOSEC ? alg : NULL);
			if (rr.ttl < *bad_ttl)
				*bad_ttl = rr.ttl;
			continue;
		}
		if (res->n >= AS_DNS_MAX_RECS) {
			/* more keys than rotation needs: keep the first few */
			as_keyrec_free(&k);
			continue;
		}
		k.ttl = rr.ttl;
		k.from_txt = qtype == AS_DNS_TYPE_TXT;
		res->rec[res->n++] = k;
		if (rr.ttl < *ttl)
			*ttl = rr.ttl;
	}
	return AS_OK;
}

/*
 * Header, RFC 1035 4.1.1 (AD from RFC 4035 3.2.3):
 *
 *                                     1  1  1  1  1  1
 *       0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
 *     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *     |                      ID                       |
 *     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *     |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
 *     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *     |        QDCOUNT  |  ANCOUNT  |  NSCOUNT  |  ARCOUNT        |
 *
 * then QDCOUNT questions (QNAME QTYPE QCLASS), ANCOUNT answer RRs, NSCOUNT
 * authority RRs (the SOA of a negative answer), ARCOUNT additional RRs
 * (not looked at).
 */
int as_dns_parse_answer(const uint8_t *msg, size_t len, const char *qname, uint16_t qtype,
			struct as_dns_result *res, struct as_diag *d)
{
	struct as_rbuf m, whole;
	struct dns_name qn, cur;
	uint16_t id, flags, qd, an, ns, ar;
	uint32_t ttl = UINT32_MAX, bad_ttl = UINT32_MAX, neg = 0;
	unsigned rcode;
	size_t an_off;
	char qtext[300], ctext[300];
	int rc, found_soa = 0;

	if (!res)
		return AS_E_INVAL;
	{
		struct as_diag *keep = res->diag;

		memset(res, 0, sizeof(*res));
		res->diag = keep;
	}
	if (!d)
		d = res->diag;
	if ((!msg && len) || (qtype != AS_DNS_TYPE_KEY && qtype != AS_DNS_TYPE_TXT)) {
		rc = as_diag_set(d, AS_E_INVAL, "as_dns_parse_answer: bad arguments");
		goto out;
	}
	if ((rc = name_from_text(qname, &qn, d)))
		goto out;
	name_text(&qn, qtext, sizeof(qtext));
	as_rbuf_init(&m, msg, len);
	whole = m;

	if (as_rbuf_u16(&m, &id) || as_rbuf_u16(&m, &flags) || as_rbuf_u16(&m, &qd) ||
	    as_rbuf_u16(&m, &an) || as_rbuf_u16(&m, &ns) || as_rbuf_u16(&m, &ar)) {
		rc = fmt_err(d, "shorter than the 12-octet header");
		goto out;
	}
	(void)id;
	(void)ar;
	if (!(flags & DNS_FLAG_QR)) {
		rc = fmt_err(d, "QR bit clear (a query, not a response)");
		goto out;
	}
	if ((flags >> 11 & 0xf) != 0) {
		rc = fmt_err(d, "opcode is not QUERY");
		goto out;
	}
	/* c-ares repeats a truncated UDP answer over TCP; a TC answer that
	 * still reaches us may be missing keys, so it is never trusted. */
	if (flags & DNS_FLAG_TC) {
		rc = fmt_err(d, "TC bit set (answer truncated)");
		goto out;
	}
	res->authenticated = !!(flags & DNS_FLAG_AD);
	rcode = flags & 0xf;
	if (rcode == 2) {
		rc = as_diag_set(d, AS_E_DNS_SERVFAIL, "DNS server failure (SERVFAIL) for %s %s",
				 type_name(qtype), qtext);
		goto out;
	}
	if (rcode != 0 && rcode != 3) {
		rc = as_diag_set(d, AS_E_DNS_FORMAT, "DNS server answered RCODE %u (%s) for %s %s",
				 rcode, rcode_name(rcode), type_name(qtype), qtext);
		goto out;
	}
	/* counts cannot promise more than the message can hold */
	if (qd > 1) {
		rc = fmt_err(d, "QDCOUNT is not 0 or 1");
		goto out;
	}
	if ((size_t)qd * DNS_Q_MIN + (size_t)an * DNS_RR_MIN + (size_t)ns * DNS_RR_MIN >
	    as_rbuf_left(&m)) {
		rc = fmt_err(d, "ANCOUNT/NSCOUNT larger than the message can hold");
		goto out;
	}
	if (qd == 1) {
		struct dns_name q;
		uint16_t t, c;

		if ((rc = name_read(&m, &q, d)))
			goto out;
		if (as_rbuf_u16(&m, &t) || as_rbuf_u16(&m, &c)) {
			rc = fmt_err(d, "question cut off");
			goto out;
		}
		if (!name_eq(&q, &qn) || t != qtype || c != DNS_CLASS_IN) {
			rc = fmt_err(d, "the question is not the one asked");
			goto out;
		}
	}
	an_off = as_rbuf_offset(&m);
	if ((rc = skip_rrs(&m, an, d)))
		goto out;
	cur = qn;
	if ((rc = follow_cnames(&whole, an_off, an, &cur, &ttl, d)))
		goto out;
	name_text(&cur, ctext, sizeof(ctext));
	if (rcode == 3) {
		if ((rc = negative_ttl(&whole, &m, ns, &qn, &cur, &neg, &found_soa, d)))
			goto out;
		res->ttl = found_soa ? neg : 0;
		res->ttl_known = found_soa;
		rc = as_diag_set(d, AS_E_DNS_NXDOMAIN, "%s does not exist (NXDOMAIN)",
				 name_eq(&cur, &qn) ? qtext : ctext);
		goto out;
	}
	if ((rc = collect(&whole, an_off, an, &cur, qtype, res, &ttl, &bad_ttl, d)))
		goto out;
	if (res->n) {
		res->ttl = ttl;
		res->ttl_known = 1;
		sort_recs(res);
		rc = AS_OK;
		goto out;
	}
	if ((rc = negative_ttl(&whole, &m, ns, &qn, &cur, &neg, &found_soa, d)))
		goto out;
	if (res->n_bad) {
		/* the unusable records themselves say how long they stand */
		res->ttl = bad_ttl < ttl ? bad_ttl : ttl;
		if (found_soa && neg < res->ttl)
			res->ttl = neg;
		res->ttl_known = 1;
		if (res->n_bad == 1)
			rc = as_diag_set(d, AS_E_DNS_NODATA, "the %s record at %s is not usable: %s",
					 type_name(qtype), ctext, res->bad_why[0]);
		else
			rc = as_diag_set(d, AS_E_DNS_NODATA,
					 "none of the %zu %s records at %s is usable; first: %s",
					 res->n_bad, type_name(qtype), ctext, res->bad_why[0]);
		goto out;
	}
	res->ttl = found_soa ? (neg < ttl ? neg : ttl) : 0;
	res->ttl_known = found_soa;
	rc = as_diag_set(d, AS_E_DNS_NODATA, "no %s record at %s", type_name(qtype), ctext);
out:
	if (rc && rc != AS_E_DNS_NODATA) {
		as_dns_result_free(res);
		res->n_bad = 0;
	}
	res->status = rc;
	return rc;
}

void as_dns_result_free(struct as_dns_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->n && i < AS_DNS_MAX_RECS; i++)
		as_keyrec_free(&res->rec[i]);
	res->n = 0;
}
