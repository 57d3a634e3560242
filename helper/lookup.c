/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The resolver: c-ares for the queries, as_dns_parse_answer for the
 * answers, and a bounded cache (uthash) that honours TTLs and remembers
 * misses, so that a host opening many connections to one name asks DNS once
 * per TTL and a name without AutoSEC does not cost a query per connection.
 *
 * Every lookup is asynchronous: a struct pend per name in flight (lookups of
 * the same name join it), answers parked on a ready list by the c-ares
 * callback (or by the test transport) and carried on -- TXT fallback, cache,
 * callbacks -- from as_dns_process only, so that no callback ever runs inside
 * c-ares or inside as_dns_lookup_async (bar a cache hit).  The blocking
 * as_dns_lookup is a poll() loop around the same code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <ares.h>
#include <uthash.h>

#include "autosec/buf.h"
#include "autosec/dns.h"
#include "autosec/err.h"
#include "autosec/keyrec.h"

#define DEF_TIMEOUT_MS 2000u
#define DEF_TRIES 2u
#define DEF_MIN_TTL 30u
#define DEF_MAX_TTL 86400u
#define DEF_NEG_TTL 60u
#define DEF_CACHE_MAX 4096u
#define MAX_SERVERS 8
#define EDNS_UDP_SIZE 1232   /* RFC 9715 / DNS flag day 2020: no IP fragmentation */
#define DNS_MSG_MAX 65535
#define NAME_TEXT_MAX 254    /* 253 characters and a NUL */

int64_t (*as_dns_test_now)(void);
int (*as_dns_test_transport)(const char *qname, uint16_t qtype, uint8_t *msg, size_t cap,
			     size_t *len);

struct cache_ent {
	char name[NAME_TEXT_MAX];  /* lower case, no trailing dot: the key */
	int64_t expires;           /* seconds on the cache clock */
	struct as_dns_result res;  /* owns one reference to each rec[i].pub */
	struct as_diag diag;       /* the sentence of a cached miss */
	UT_hash_handle hh;
};

/* One caller waiting for a lookup. */
struct waiter {
	struct waiter *next;
	as_dns_cb cb;
	void *arg;
	char name[];               /* as the caller wrote it */
};

struct pend;

/*
 * One question handed to c-ares.  c-ares calls back exactly once for every
 * ares_send (answer, its own timeout, or ares_destroy), so this lives until
 * then even when the lookup gave up on it first (p == NULL).
 */
struct aq {
	struct as_dns *dns;
	struct pend *p;
};

/* A name being looked up: KEY at key, then perhaps TXT at tname. */
struct pend {
	char key[NAME_TEXT_MAX];   /* lower case, no trailing dot */
	char tname[NAME_TEXT_MAX + 16];
	int stage;                 /* 0: asking KEY, 1: asking TXT */
	struct as_dns_result kres; /* stage 1: the KEY answer */
	struct as_diag kd;
	struct as_dns_result cur;  /* the current question's answer, once ready */
	struct as_diag cd;
	int cur_rc;
	int64_t q_start, deadline; /* ms, of the question in flight */
	struct aq *q;              /* in flight through c-ares, else NULL */
	struct waiter *w;
	struct pend *prev, *next;  /* dns->pends: every live one, for cancel */
	struct pend *rnext;        /* dns->ready */
	UT_hash_handle hh;
};

struct as_dns {
	ares_channel ch;
	struct as_dns_opts o;
	unsigned nservers;
	struct cache_ent *cache;
	unsigned n_cache;
	struct pend *by_name;      /* names in flight, for coalescing */
	struct pend *pends;
	struct pend *ready, **ready_tail; /* answered, waiting for as_dns_process */
	unsigned n_pend, n_wait;
	int destroying;
	uint8_t *q_buf;            /* the test transport's answer */
};

/* c-ares calls this for every socket it opens */
static int mark_socket(ares_socket_t fd, int type, void *arg)
{
	const uint32_t *mark = arg;

	(void)type;
	return setsockopt(fd, SOL_SOCKET, SO_MARK, mark, sizeof(*mark)) < 0 ? -1 : ARES_SUCCESS;
}

static int64_t now_s(void)
{
	struct timespec ts;

	if (as_dns_test_now)
		return as_dns_test_now();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- servers: "ADDR[:PORT],..." with IPv6 as [ADDR]:PORT or bare ADDR */

static int parse_port(const char *s, unsigned *port)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	if (!v)
		return -1;
	*port = (unsigned)v;
	return 0;
}

static int one_server(const char *ent, size_t n, char *out, size_t cap, struct as_diag *d)
{
	char buf[64], q[100], addr[64];
	unsigned port = 53;
	struct in6_addr a6;
	struct in_addr a4;
	const char *colon;
	int v6;

	as_quote(q, sizeof(q), ent, n);
	if (!n || n >= sizeof(buf))
		goto bad;
	memcpy(buf, ent, n);
	buf[n] = '\0';
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || (size_t)(close - buf - 1) >= sizeof(addr))
			goto bad;
		memcpy(addr, buf + 1, (size_t)(close - buf - 1));
		addr[close - buf - 1] = '\0';
		if (close[1] && (close[1] != ':' || parse_port(close + 2, &port)))
			goto bad;
		v6 = 1;
	} else if ((colon = strchr(buf, ':')) && strchr(colon + 1, ':')) {
		snprintf(addr, sizeof(addr), "%s", buf); /* bare IPv6, no port */
		v6 = 1;
	} else {
		size_t al = colon ? (size_t)(colon - buf) : n;

		if (al >= sizeof(addr))
			goto bad;
		memcpy(addr, buf, al);
		addr[al] = '\0';
		if (colon && parse_port(colon + 1, &port))
			goto bad;
		v6 = 0;
	}
	if (v6 ? inet_pton(AF_INET6, addr, &a6) != 1 : inet_pton(AF_INET, addr, &a4) != 1)
		goto bad;
	if (v6)
		snprintf(out, cap, "[%s]:%u", addr, port);
	else
		snprintf(out, cap, "%s:%u", addr, port);
	return AS_OK;
bad:
	return as_diag_set(d, AS_E_INVAL,
			   "invalid DNS server \"%s\" (want ADDR, ADDR:PORT or [IPV6]:PORT)", q);
}

static int servers_csv(const char *in, char *out, size_t cap, unsigned *count,
		       struct as_diag *d)
{
	size_t o = 0;
	int rc;

	*count = 0;
	out[0] = '\0';
	for (const char *p = in;;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char one[96];

		if (++*count > MAX_SERVERS)
			return as_diag_set(d, AS_E_INVAL, "more than %d DNS servers", MAX_SERVERS);
		if ((rc = one_server(p, n, one, sizeof(one), d)))
			return rc;
		if (o + strlen(one) + 2 > cap)
			return as_diag_set(d, AS_E_INVAL, "DNS server list too long");
		o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "," : "", one);
		if (!e)
			break;
		p = e + 1;
	}
	return AS_OK;
}

/* ---- setup */

int as_dns_new(struct as_dns **out, const struct as_dns_opts *o, struct as_diag *d)
{
	struct ares_options ao;
	struct as_dns *dns;
	int rc, ar, optmask;
	char csv[MAX_SERVERS * 64];

	if (!out)
		return AS_E_INVAL;
	*out = NULL;
	dns = calloc(1, sizeof(*dns));
	if (!dns)
		return as_diag_set(d, AS_E_NOMEM, "out of memory");
	if (o)
		dns->o = *o;
	dns->o.servers = NULL; /* not kept: the caller's string */
	if (!dns->o.timeout_ms)
		dns->o.timeout_ms = DEF_TIMEOUT_MS;
	if (!dns->o.tries)
		dns->o.tries = DEF_TRIES;
	if (dns->o.tries > 8)
		dns->o.tries = 8;
	if (!dns->o.min_ttl)
		dns->o.min_ttl = DEF_MIN_TTL;
	if (!dns->o.max_ttl)
		dns->o.max_ttl = DEF_MAX_TTL;
	if (dns->o.max_ttl < dns->o.min_ttl)
		dns->o.max_ttl = dns->o.min_ttl;
	if (!dns->o.neg_ttl)
		dns->o.neg_ttl = DEF_NEG_TTL;
	if (!dns->o.cache_max)
		dns->o.cache_max = DEF_CACHE_MAX;
	if (!dns->o.max_lookups)
		dns->o.max_lookups = AS_DNS_MAX_LOOKUPS;
	dns->ready_tail = &dns->ready;
	if (o && o->servers && (rc = servers_csv(o->servers, csv, sizeof(csv), &dns->nservers, d)))
		goto fail;
	dns->q_buf = malloc(DNS_MSG_MAX);
	if (!dns->q_buf) {
		rc = as_diag_set(d, AS_E_NOMEM, "out of memory");
		goto fail;
	}
	/* reference counted by c-ares itself; undone in as_dns_free */
	if ((ar = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		rc = as_diag_set(d, AS_E_IO, "c-ares: %s", ares_strerror(ar));
		goto fail;
	}
	memset(&ao, 0, sizeof(ao));
	ao.timeout = (int)dns->o.timeout_ms;
	ao.tries = (int)dns->o.tries;
	/* search domains would turn "host" into "host.corp"; we want exact names */
	ao.flags = ARES_FLAG_NOSEARCH;
	optmask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
	if ((ar = ares_init_options(&dns->ch, &ao, optmask)) != ARES_SUCCESS) {
		ares_library_cleanup();
		rc = as_diag_set(d, AS_E_IO, "c-ares initialisation failed: %s", ares_strerror(ar));
		goto fail;
	}
	if (dns->o.mark)
		ares_set_socket_callback(dns->ch, mark_socket, &dns->o.mark);
	if (o && o->servers && (ar = ares_set_servers_ports_csv(dns->ch, csv)) != ARES_SUCCESS) {
		char q[100];

		as_quote(q, sizeof(q), o->servers, strlen(o->servers));
		ares_destroy(dns->ch);
		ares_library_cleanup();
		rc = as_diag_set(d, AS_E_INVAL, "c-ares refused DNS servers \"%s\": %s", q,
				 ares_strerror(ar));
		goto fail;
	}
	if (!dns->nservers) {
		/* from resolv.conf: the wait for an answer grows with their number */
		struct ares_addr_node *srv = NULL;

		if (ares_get_servers(dns->ch, &srv) == ARES_SUCCESS) {
			for (struct ares_addr_node *p = srv; p && dns->nservers < MAX_SERVERS;
			     p = p->next)
				dns->nservers++;
			ares_free_data(srv);
		}
		if (!dns->nservers)
			dns->nservers = 1;
	}
	*out = dns;
	return AS_OK;
fail:
	free(dns->q_buf);
	free(dns);
	return rc;
}

static void cache_del(struct as_dns *dns, struct cache_ent *e)
{
	HASH_DEL(dns->cache, e);
	as_dns_result_free(&e->res);
	free(e);
	dns->n_cache--;
}

static void pend_free(struct pend *p)
{
	struct waiter *w;

	while ((w = p->w)) {
		p->w = w->next;
		free(w);
	}
	as_dns_result_free(&p->kres);
	as_dns_result_free(&p->cur);
	free(p);
}

void as_dns_free(struct as_dns *dns)
{
	struct cache_ent *e, *tmp;
	struct pend *p;

	if (!dns)
		return;
	/* c-ares calls back every query it still holds: those only free their aq */
	dns->destroying = 1;
	ares_destroy(dns->ch);
	ares_library_cleanup();
	HASH_CLEAR(hh, dns->by_name);
	while ((p = dns->pends)) {
		dns->pends = p->next;
		pend_free(p);
	}
	HASH_ITER(hh, dns->cache, e, tmp)
		cache_del(dns, e);
	free(dns->q_buf);
	free(dns);
}

/* ---- one query through c-ares */

/*
 * The query, RFC 1035 4.1 with an EDNS(0) OPT RR (RFC 6891 6.1.2):
 *   header: ID (c-ares sets its own), RD, AD (RFC 6840 5.7: ask a validating
 *           resolver to tell us whether it validated), QDCOUNT 1, ARCOUNT 1
 *   question: QNAME, QTYPE, QCLASS IN
 *   OPT: root name, TYPE 41, CLASS = UDP payload size, TTL = 0 (ext-rcode,
 *        version 0, DO clear), RDLENGTH 0
 */
static int build_query(const char *name, uint16_t qtype, uint8_t *buf, size_t cap, size_t *len,
		       struct as_diag *d)
{
	struct as_wbuf w;
	int rc;

	as_wbuf_init(&w, buf, cap);
	as_wbuf_u16(&w, 0);
	as_wbuf_u16(&w, 0x0100 | 0x0020);
	as_wbuf_u16(&w, 1);
	as_wbuf_u16(&w, 0);
	as_wbuf_u16(&w, 0);
	as_wbuf_u16(&w, 1);
	if ((rc = as_dns_put_name(&w, name, d)))
		return rc;
	as_wbuf_u16(&w, qtype);
	as_wbuf_u16(&w, 1);
	as_wbuf_u8(&w, 0);
	as_wbuf_u16(&w, 41);
	as_wbuf_u16(&w, EDNS_UDP_SIZE);
	as_wbuf_u32(&w, 0);
	as_wbuf_u16(&w, 0);
	if ((rc = as_wbuf_error(&w)))
		return as_diag_set(d, rc, "DNS query does not fit");
	*len = as_wbuf_len(&w);
	return AS_OK;
}

/* c-ares 1.18 doubles the per-try timeout every round over the servers. */
static int64_t budget_ms(const struct as_dns *dns)
{
	int64_t t = 0, per = dns->o.timeout_ms;

	for (unsigned i = 0; i < dns->o.tries; i++, per *= 2)
		t += per * dns->nservers;
	return t + 250;
}

static int ares_to_as(int st, const char *qname, uint16_t qtype, int64_t waited,
		      struct as_diag *d)
{
	const char *t = qtype == AS_DNS_TYPE_KEY ? "KEY" : "TXT";

	switch (st) {
	case ARES_ETIMEOUT:
	case ARES_ECANCELLED:
		return as_diag_set(d, AS_E_DNS_TIMEOUT, "no answer for %s %s within %lld ms", t,
				   qname, (long long)waited);
	case ARES_ESERVFAIL:
		return as_diag_set(d, AS_E_DNS_SERVFAIL, "DNS server failure (SERVFAIL) for %s %s",
				   t, qname);
	case ARES_EREFUSED:
		return as_diag_set(d, AS_E_DNS_SERVFAIL, "the DNS server refused %s %s (REFUSED)",
				   t, qname);
	case ARES_ENOTIMP:
		return as_diag_set(d, AS_E_DNS_SERVFAIL,
				   "the DNS server does not implement %s queries (NOTIMP)", t);
	case ARES_ECONNREFUSED:
		return as_diag_set(d, AS_E_DNS_SERVFAIL,
				   "no DNS server reachable for %s %s (connection refused)", t,
				   qname);
	case ARES_EFORMERR:
	case ARES_EBADRESP:
		return as_diag_set(d, AS_E_DNS_FORMAT, "malformed DNS response for %s %s", t,
				   qname);
	case ARES_ENOMEM:
		return as_diag_set(d, AS_E_NOMEM, "out of memory in c-ares");
	default:
		return as_diag_set(d, AS_E_DNS_SERVFAIL, "DNS query %s %s failed: %s", t, qname,
				   ares_strerror(st));
	}
}

/* ---- names */

/* The name to ask for: lower case, no trailing dot; addresses -> reverse name. */
static int lookup_name(const char *name, char out[NAME_TEXT_MAX], struct as_diag *d)
{
	uint8_t a[16];
	size_t len, o = 0;
	int rc;

	if (!name)
		return as_diag_set(d, AS_E_DNS_NAME, "missing domain name");
	if (inet_pton(AF_INET, name, a) == 1) {
		snprintf(out, NAME_TEXT_MAX, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
		return AS_OK;
	}
	if (inet_pton(AF_INET6, name, a) == 1) {
		static const char hx[] = "0123456789abcdef";

		for (int i = 15; i >= 0; i--) {
			out[o++] = hx[a[i] & 0xf];
			out[o++] = '.';
			out[o++] = hx[a[i] >> 4];
			out[o++] = '.';
		}
		snprintf(out + o, NAME_TEXT_MAX - o, "ip6.arpa");
		return AS_OK;
	}
	if ((rc = as_dns_name_check(name, d)))
		return rc;
	len = strlen(name);
	if (len && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	out[len] = '\0';
	return AS_OK;
}

/* ---- cache */

static uint32_t clamp_ttl(const struct as_dns *dns, uint32_t t)
{
	if (t < dns->o.min_ttl)
		return dns->o.min_ttl;
	if (t > dns->o.max_ttl)
		return dns->o.max_ttl;
	return t;
}

/* How long a result may be cached (the caller decides whether it may be). */
static uint32_t life(const struct as_dns *dns, const struct as_dns_result *r)
{
	if (r->status == AS_OK || r->ttl_known)
		return clamp_ttl(dns, r->ttl);
	return clamp_ttl(dns, dns->o.neg_ttl);
}

/* dst gets its own references; dst->diag is kept. */
static void result_copy(struct as_dns_result *dst, const struct as_dns_result *src)
{
	struct as_diag *keep = dst->diag;

	*dst = *src;
	dst->diag = keep;
	for (size_t i = 0; i < dst->n; i++)
		if (dst->rec[i].pub)
			EVP_PKEY_up_ref(dst->rec[i].pub);
}

static void cache_make_room(struct as_dns *dns, int64_t now)
{
	struct cache_ent *e, *tmp, *soonest = NULL;

	if (dns->n_cache < dns->o.cache_max)
		return;
	HASH_ITER(hh, dns->cache, e, tmp) {
		if (e->expires <= now)
			cache_del(dns, e);
	}
	/* still full: the entry that would have expired first goes */
	while (dns->n_cache >= dns->o.cache_max) {
		soonest = NULL;
		HASH_ITER(hh, dns->cache, e, tmp) {
			if (!soonest || e->expires < soonest->expires)
				soonest = e;
		}
		if (!soonest)
			break;
		cache_del(dns, soonest);
	}
}

static void cache_put(struct as_dns *dns, const char *key, const struct as_dns_result *r,
		      const struct as_diag *d)
{
	struct cache_ent *e;
	int64_t now = now_s();

	HASH_FIND_STR(dns->cache, key, e);
	if (e)
		cache_del(dns, e);
	cache_make_room(dns, now);
	e = calloc(1, sizeof(*e));
	if (!e)
		return; /* not caching is always correct */
	snprintf(e->name, sizeof(e->name), "%s", key);
	e->expires = now + life(dns, r);
	result_copy(&e->res, r);
	e->res.diag = NULL;
	e->res.from_cache = 0;
	if (d)
		e->diag = *d;
	HASH_ADD_STR(dns->cache, name, e);
	dns->n_cache++;
}

static int cache_get(struct as_dns *dns, const char *key, struct as_dns_result *res)
{
	struct cache_ent *e;
	int64_t now = now_s();

	HASH_FIND_STR(dns->cache, key, e);
	if (!e)
		return 0;
	if (e->expires <= now) {
		cache_del(dns, e);
		return 0;
	}
	result_copy(res, &e->res);
	res->from_cache = 1;
	res->ttl = (uint32_t)(e->expires - now);
	if (res->diag && res->status)
		*res->diag = e->diag;
	return 1;
}

void as_dns_forget(struct as_dns *dns, const char *name)
{
	char key[NAME_TEXT_MAX];
	struct cache_ent *e;

	if (!dns || lookup_name(name, key, NULL))
		return;
	HASH_FIND_STR(dns->cache, key, e);
	if (e)
		cache_del(dns, e);
}

/* ---- the lookup */

static void merge_bad(struct as_dns_result *dst, const struct as_dns_result *src)
{
	for (size_t i = 0; i < src->n_bad; i++) {
		if (dst->n_bad < AS_DNS_MAX_RECS && i < AS_DNS_MAX_RECS)
			memcpy(dst->bad_why[dst->n_bad], src->bad_why[i], sizeof(dst->bad_why[0]));
		dst->n_bad++;
	}
}

static int cacheable(int rc)
{
	return rc == AS_OK || rc == AS_E_DNS_NXDOMAIN || rc == AS_E_DNS_NODATA;
}

/* ---- lookups in flight */

static void pend_ready(struct as_dns *dns, struct pend *p)
{
	p->rnext = NULL;
	*dns->ready_tail = p;
	dns->ready_tail = &p->rnext;
}

static const char *pend_qname(const struct pend *p)
{
	return p->stage ? p->tname : p->key;
}

static uint16_t pend_qtype(const struct pend *p)
{
	return p->stage ? AS_DNS_TYPE_TXT : AS_DNS_TYPE_KEY;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct aq *q = arg;
	struct as_dns *dns = q->dns;
	struct pend *p = q->p;

	(void)timeouts;
	free(q);
	if (!p || dns->destroying)
		return; /* given up on (its waiters were told), or the end */
	p->q = NULL;
	if (status == ARES_SUCCESS && (!abuf || alen <= 0 || alen > DNS_MSG_MAX))
		status = ARES_EBADRESP;
	if (status == ARES_SUCCESS) {
		p->cur_rc = as_dns_parse_answer(abuf, (size_t)alen, pend_qname(p), pend_qtype(p),
						&p->cur, &p->cd);
	} else {
		memset(&p->cur, 0, sizeof(p->cur));
		p->cur_rc = ares_to_as(status, pend_qname(p), pend_qtype(p),
				       now_ms() - p->q_start, &p->cd);
	}
	p->cur.status = p->cur_rc;
	/* the rest (fallback, cache, callbacks) runs from as_dns_process, never
	 * inside c-ares nor inside as_dns_lookup_async */
	pend_ready(dns, p);
}

/* Ask p's current question; its answer ends up on the ready list. */
static void ask(struct as_dns *dns, struct pend *p)
{
	const char *qn = pend_qname(p);
	uint16_t qt = pend_qtype(p);
	uint8_t msg[300];
	size_t len = 0;
	struct aq *q;
	int rc;

	memset(&p->cur, 0, sizeof(p->cur));
	memset(&p->cd, 0, sizeof(p->cd));
	p->q_start = now_ms();
	if (as_dns_test_transport) {
		rc = as_dns_test_transport(qn, qt, dns->q_buf, DNS_MSG_MAX, &len);
		if (rc)
			p->cur_rc = as_diag_set(&p->cd, rc, "test transport: %s", as_strerror(rc));
		else
			p->cur_rc = as_dns_parse_answer(dns->q_buf, len, qn, qt, &p->cur, &p->cd);
		goto ready;
	}
	if ((p->cur_rc = build_query(qn, qt, msg, sizeof(msg), &len, &p->cd)))
		goto ready;
	q = malloc(sizeof(*q));
	if (!q) {
		p->cur_rc = as_diag_set(&p->cd, AS_E_NOMEM, "out of memory");
		goto ready;
	}
	q->dns = dns;
	q->p = p;
	p->q = q;
	/* c-ares gives up by itself; this is the bound should it not */
	p->deadline = p->q_start + budget_ms(dns);
	ares_send(dns->ch, msg, (int)len, on_answer, q); /* may call on_answer at once */
	return;
ready:
	p->cur.status = p->cur_rc;
	pend_ready(dns, p);
}

/* Call every waiter with fin, then forget p. */
static void deliver(struct as_dns *dns, struct pend *p, const struct as_dns_result *fin)
{
	struct waiter *w;

	/* a lookup of the same name from a callback starts afresh (or hits the
	 * cache), and does not join this finished one */
	HASH_DEL(dns->by_name, p);
	dns->n_pend--;
	/* p stays on dns->pends meanwhile so that as_dns_cancel from a callback
	 * still reaches the waiters not yet called */
	while ((w = p->w)) {
		p->w = w->next;
		dns->n_wait--;
		w->cb(w->arg, w->name, fin);
		free(w);
	}
	if (p->prev)
		p->prev->next = p->next;
	else
		dns->pends = p->next;
	if (p->next)
		p->next->prev = p->prev;
	pend_free(p);
}

/* p's current question has its answer: go on to the TXT fallback or finish. */
static void advance(struct as_dns *dns, struct pend *p)
{
	struct as_dns_result fin;
	struct as_diag fd;
	int rc = p->cur_rc;

	if (p->stage == 0) {
		if (rc == AS_E_DNS_NODATA) {
			/* no usable KEY: the TXT fallback at _autosec.<name>, when
			 * that name is not too long to exist */
			snprintf(p->tname, sizeof(p->tname), "%s.%s", AS_TXT_LABEL, p->key);
			if (as_dns_name_check(p->tname, NULL) == AS_OK) {
				p->kres = p->cur;
				p->kd = p->cd;
				memset(&p->cur, 0, sizeof(p->cur));
				p->stage = 1;
				ask(dns, p);
				return;
			}
		}
		fin = p->cur;
		fd = p->cd;
	} else if (rc == AS_OK) {
		/* keep why the KEY records were passed over, for the tools */
		fin = p->cur;
		fd = p->cd;
		merge_bad(&fin, &p->kres);
		as_dns_result_free(&p->kres);
	} else if (rc == AS_E_DNS_NODATA || rc == AS_E_DNS_NXDOMAIN) {
		uint32_t lk = life(dns, &p->kres), lt = life(dns, &p->cur);

		fin = p->kres;
		merge_bad(&fin, &p->cur);
		fin.ttl = lk < lt ? lk : lt;
		fin.ttl_known = 1;
		fin.authenticated = fin.authenticated && p->cur.authenticated;
		rc = AS_E_DNS_NODATA;
		as_diag_set(&fd, rc, "%s; %s", as_diag_msg(&p->kd, AS_E_DNS_NODATA),
			    as_diag_msg(&p->cd, p->cur.status));
		as_dns_result_free(&p->cur);
	} else {
		/* the fallback could not be asked: say so, cache nothing */
		fin = p->kres;
		as_dns_result_free(&fin);
		fin.n_bad = 0;
		fd = p->cd;
		as_dns_result_free(&p->cur);
	}
	memset(&p->cur, 0, sizeof(p->cur));
	memset(&p->kres, 0, sizeof(p->kres));
	fin.status = rc;
	if (rc == AS_OK && dns->o.require_ad && !fin.authenticated) {
		rc = as_diag_set(&fd, AS_E_DNS_INSECURE,
				 "the %s record for %s is not DNSSEC-authenticated (no AD bit) and "
				 "DNSSEC is required",
				 fin.rec[0].from_txt ? "TXT" : "KEY", p->key);
		as_dns_result_free(&fin);
		fin.status = rc;
	} else if (cacheable(rc)) {
		cache_put(dns, p->key, &fin, &fd);
	}
	if (rc == AS_OK)
		memset(&fd, 0, sizeof(fd));
	fin.diag = &fd;
	fin.from_cache = 0;
	deliver(dns, p, &fin);
	as_dns_result_free(&fin);
}

/* Start (or join) a lookup; d gets the sentence of a failure to start. */
static int lookup_start(struct as_dns *dns, const char *name, as_dns_cb cb, void *arg,
			struct as_diag *d)
{
	char key[NAME_TEXT_MAX];
	struct as_dns_result cres;
	struct as_diag cd = { 0 };
	struct waiter *w, **tail;
	struct pend *p;
	size_t nl;
	int rc;

	if (!dns || !cb)
		return as_diag_set(d, AS_E_INVAL, "no resolver or no callback");
	if ((rc = lookup_name(name, key, d)))
		return rc;
	memset(&cres, 0, sizeof(cres));
	cres.diag = &cd;
	if (cache_get(dns, key, &cres)) {
		cres.diag = &cd;
		cb(arg, name, &cres);
		as_dns_result_free(&cres);
		return AS_OK;
	}
	HASH_FIND_STR(dns->by_name, key, p);
	if (dns->n_wait >= dns->o.max_lookups || (!p && dns->n_pend >= dns->o.max_lookups))
		return as_diag_set(d, AS_E_NOMEM, "%u DNS lookups already outstanding; not "
				   "looking up %s now", dns->o.max_lookups, key);
	nl = strlen(name);
	w = malloc(sizeof(*w) + nl + 1);
	if (!w)
		return as_diag_set(d, AS_E_NOMEM, "out of memory");
	w->next = NULL;
	w->cb = cb;
	w->arg = arg;
	memcpy(w->name, name, nl + 1);
	if (p) {
		/* callbacks in the order the lookups were started */
		for (tail = &p->w; *tail; tail = &(*tail)->next)
			;
		*tail = w;
		dns->n_wait++;
		return AS_OK;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		free(w);
		return as_diag_set(d, AS_E_NOMEM, "out of memory");
	}
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->w = w;
	HASH_ADD_STR(dns->by_name, key, p);
	p->next = dns->pends;
	if (p->next)
		p->next->prev = p;
	dns->pends = p;
	dns->n_pend++;
	dns->n_wait++;
	ask(dns, p);
	return AS_OK;
}

int as_dns_lookup_async(struct as_dns *dns, const char *name, as_dns_cb cb, void *arg)
{
	return lookup_start(dns, name, cb, arg, NULL);
}

void as_dns_cancel(struct as_dns *dns, void *arg)
{
	if (!dns)
		return;
	for (struct pend *p = dns->pends; p; p = p->next) {
		struct waiter **pw = &p->w, *w;

		while ((w = *pw)) {
			if (w->arg == arg) {
				*pw = w->next;
				free(w);
				dns->n_wait--;
			} else {
				pw = &w->next;
			}
		}
	}
}

int as_dns_pollfds(struct as_dns *dns, struct pollfd *pfd, int max)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	int bits, n = 0;

	if (!dns || !pfd || max <= 0)
		return 0;
	bits = ares_getsock(dns->ch, socks, ARES_GETSOCK_MAXNUM);
	for (int i = 0; i < ARES_GETSOCK_MAXNUM && n < max; i++) {
		short ev = 0;

		/* ARES_GETSOCK_WRITABLE shifts a signed 1 into the sign bit for
		 * the last socket (undefined): test the bits unsigned */
		if ((unsigned)bits >> i & 1u)
			ev |= POLLIN;
		if ((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM) & 1u)
			ev |= POLLOUT;
		if (!ev)
			continue;
		pfd[n].fd = socks[i];
		pfd[n].events = ev;
		pfd[n].revents = 0;
		n++;
	}
	return n;
}

int as_dns_timeout_ms(struct as_dns *dns)
{
	struct timeval maxtv, tv, *tvp;
	int64_t first = 0, left, ms;
	int have = 0;

	if (!dns)
		return -1;
	if (dns->ready)
		return 0;
	for (struct pend *p = dns->pends; p; p = p->next) {
		if (p->q && (!have || p->deadline < first)) {
			first = p->deadline;
			have = 1;
		}
	}
	if (have) {
		left = first - now_ms();
		if (left <= 0)
			return 0;
		maxtv.tv_sec = (time_t)(left / 1000);
		maxtv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	}
	/* NULL when c-ares holds no query (abandoned ones still count: their
	 * sockets and timeouts need processing to be let go) */
	tvp = ares_timeout(dns->ch, have ? &maxtv : NULL, &tv);
	if (!tvp)
		return -1;
	ms = (int64_t)tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

void as_dns_process(struct as_dns *dns, const struct pollfd *pfd, int n)
{
	int64_t now;
	struct pend *p;
	int any = 0;

	if (!dns)
		return;
	for (int i = 0; pfd && i < n; i++) {
		ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;

		if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
			rfd = pfd[i].fd;
		if (pfd[i].revents & POLLOUT)
			wfd = pfd[i].fd;
		if (rfd != ARES_SOCKET_BAD || wfd != ARES_SOCKET_BAD) {
			ares_process_fd(dns->ch, rfd, wfd);
			any = 1;
		}
	}
	if (!any) /* lets c-ares notice its own per-try timeouts */
		ares_process_fd(dns->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	now = now_ms();
	for (p = dns->pends; p; p = p->next) {
		if (!p->q || now < p->deadline)
			continue;
		p->q->p = NULL; /* c-ares keeps it until its own end */
		p->q = NULL;
		memset(&p->cur, 0, sizeof(p->cur));
		p->cur_rc = ares_to_as(ARES_ETIMEOUT, pend_qname(p), pend_qtype(p),
				       now - p->q_start, &p->cd);
		p->cur.status = p->cur_rc;
		pend_ready(dns, p);
	}
	/* callbacks may add to the list (a new lookup's test answer, the TXT
	 * question's): taken one at a time from its head */
	while ((p = dns->ready)) {
		dns->ready = p->rnext;
		if (!dns->ready)
			dns->ready_tail = &dns->ready;
		p->rnext = NULL;
		advance(dns, p);
	}
}

/* ---- the blocking lookup: the async one, run to its end */

struct blocking {
	struct as_dns_result *res;
	struct as_diag *rd;
	int done;
};

static void blocking_cb(void *arg, const char *name, const struct as_dns_result *r)
{
	struct blocking *b = arg;

	(void)name;
	result_copy(b->res, r);
	b->res->diag = b->rd;
	if (b->rd && r->status && r->diag)
		*b->rd = *r->diag;
	b->done = 1;
}

int as_dns_lookup(struct as_dns *dns, const char *name, struct as_dns_result *res)
{
	struct blocking b;
	struct as_diag fd = { 0 }, *rd;
	int rc;

	if (!res)
		return AS_E_INVAL;
	rd = res->diag;
	memset(res, 0, sizeof(*res));
	res->diag = rd;
	b.res = res;
	b.rd = rd;
	b.done = 0;
	if (!dns) {
		rc = as_diag_set(&fd, AS_E_INVAL, "no resolver");
		goto fail;
	}
	if ((rc = lookup_start(dns, name, blocking_cb, &b, &fd)))
		goto fail;
	while (!b.done) {
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		int n = as_dns_pollfds(dns, pfd, ARES_GETSOCK_MAXNUM);
		int t = as_dns_timeout_ms(dns), r;

		if (t < 0) {
			/* nothing left that could answer: cannot happen, never hang */
			as_dns_cancel(dns, &b);
			rc = as_diag_set(&fd, AS_E_DNS_TIMEOUT, "the lookup of %s stalled", name);
			goto fail;
		}
		r = poll(pfd, (nfds_t)n, t);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = as_diag_set(&fd, AS_E_IO, "poll: %s", strerror(errno));
			as_dns_cancel(dns, &b);
			goto fail;
		}
		as_dns_process(dns, pfd, r > 0 ? n : 0);
	}
	return res->status;
fail:
	res->status = rc;
	if (rd)
		*rd = fd;
	return rc;
}

void as_dns_cache_foreach(struct as_dns *dns, as_dns_cache_fn fn, void *arg)
{
	struct cache_ent *e, *tmp;
	int64_t now = now_s();

	HASH_ITER(hh, dns->cache, e, tmp) {
		if (e->expires > now)
			fn(arg, e->name, &e->res, (uint32_t)(e->expires - now));
	}
}
