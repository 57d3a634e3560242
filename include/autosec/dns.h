/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Finding a peer's AutoSEC key in DNS.
 *
 * as_dns_parse_answer: a DNS response message (RFC 1035 4.1) -> the AutoSEC
 * records in its answer section, through the bounded reader (compression
 * pointers followed with a hop limit, every length checked).
 *
 * as_dns_*: a c-ares based resolver with a cache keyed by name that honours
 * the records' TTL (clamped to [min_ttl, max_ttl]) and also caches misses
 * (negative TTL from the SOA minimum, RFC 2308, else neg_ttl).
 * Lookup order: KEY at <name>; if there is none, TXT at _autosec.<name>.
 * An IPv4/IPv6 address as <name> is looked up at its reverse name
 * (in-addr.arpa / ip6.arpa).  An as_dns is not thread-safe.
 *
 * Lookups are asynchronous underneath (as_dns_lookup_async, driven by the
 * caller's poll() loop); as_dns_lookup is that same lookup run to its end.
 */
#ifndef AUTOSEC_DNS_H
#define AUTOSEC_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "autosec/keyrec.h"

struct as_diag;
struct as_wbuf;
struct pollfd;

#define AS_DNS_TYPE_KEY 25
#define AS_DNS_TYPE_TXT 16
#define AS_DNS_MAX_RECS 4 /* keys kept per name (rotation) */
#define AS_DNS_MAX_LOOKUPS 256 /* default bound on outstanding async lookups */

/* All usable AutoSEC records at one name, best first. */
struct as_dns_result {
	int status;            /* AS_OK or an AS_E_DNS_* / AS_E_REC_* code */
	struct as_diag *diag;  /* optional, caller's */
	size_t n;
	struct as_keyrec rec[AS_DNS_MAX_RECS];
	size_t n_bad;          /* records present but unusable (also with AS_OK:
				  * a KEY passed over for the TXT fallback) */
	char bad_why[AS_DNS_MAX_RECS][160];
	uint32_t ttl;          /* min TTL of the answer, or negative TTL */
	int authenticated;     /* AD bit was set */
	int from_cache;        /* ttl is then what is left of it */
	int ttl_known;         /* 0: a miss without SOA (the cache uses neg_ttl) */
};

/* Parse a whole DNS response for qtype (KEY or TXT) records owned by qname. */
int as_dns_parse_answer(const uint8_t *msg, size_t len, const char *qname, uint16_t qtype,
			struct as_dns_result *res, struct as_diag *d);
void as_dns_result_free(struct as_dns_result *res);
/* AS_OK for a name we are willing to look up (LDH and '_', labels 1..63,
 * at most 253 characters, one trailing dot), else AS_E_DNS_NAME quoting it. */
int as_dns_name_check(const char *name, struct as_diag *d);
/* The same check, then the name in lower-cased uncompressed wire form into w. */
int as_dns_put_name(struct as_wbuf *w, const char *name, struct as_diag *d);

struct as_dns;
struct as_dns_opts {
	const char *servers;   /* "ADDR[:PORT],..." or NULL for /etc/resolv.conf */
	unsigned timeout_ms;   /* per try, default 2000 */
	unsigned tries;        /* default 2 */
	uint32_t min_ttl, max_ttl, neg_ttl; /* defaults 30, 86400, 60 */
	int require_ad;        /* refuse answers without the AD bit */
	unsigned cache_max;    /* entries; default 4096 */
	unsigned max_lookups;  /* outstanding async lookups (callbacks not yet
				* called), and names being asked for at once;
				* default AS_DNS_MAX_LOOKUPS */
	uint32_t mark;         /* SO_MARK for the query sockets (0: none): the
				* helper's queries must not be steered into its
				* own TUN when the DNS server is also a peer */
};
int as_dns_new(struct as_dns **out, const struct as_dns_opts *o, struct as_diag *d);
void as_dns_free(struct as_dns *dns);
/* Blocking lookup (the tools); fills res, consults and fills the cache. */
int as_dns_lookup(struct as_dns *dns, const char *name, struct as_dns_result *res);
/* Drop a name from the cache (after UNKNOWN_KEY_TAG / DECRYPT_FAILED). */
void as_dns_forget(struct as_dns *dns, const char *name);

/*
 * Non-blocking lookups for an event loop (the daemon).
 *
 * res is valid only during the call: copy what is needed (records' pub can be
 * kept with EVP_PKEY_up_ref).  res->status is the outcome (as as_dns_lookup
 * would return it); when it is not AS_OK, res->diag points to the sentence.
 * name is the name as passed to as_dns_lookup_async.  A callback may start
 * lookups, cancel, forget; it must not free the as_dns.
 */
typedef void (*as_dns_cb)(void *arg, const char *name, const struct as_dns_result *res);
/*
 * Start a lookup.  AS_OK: cb will be called exactly once (unless cancelled),
 * from as_dns_process, or before this returns when the cache answers
 * (res->from_cache set).  Lookups of the same name while one is in flight
 * share its queries: every callback is called with the one answer.
 * Errors, after which cb is never called: AS_E_INVAL (no dns or cb),
 * AS_E_DNS_NAME (invalid name), AS_E_NOMEM (out of memory, or max_lookups
 * lookups or names already outstanding: try again later).
 */
int as_dns_lookup_async(struct as_dns *dns, const char *name, as_dns_cb cb, void *arg);
/* Callbacks registered with arg are not called (the peer went away).  The
 * queries go on: their answers still fill the cache. */
void as_dns_cancel(struct as_dns *dns, void *arg);
/*
 * The event loop: as_dns_pollfds fills up to max entries with c-ares'
 * sockets and events and returns how many; as_dns_timeout_ms is the longest
 * the loop may sleep (ms; 0: call as_dns_process now; -1: nothing pending);
 * after poll(), as_dns_process(dns, pfd, n) with the entries
 * as_dns_pollfds filled (revents set by poll; n = 0 after a poll timeout)
 * reads answers, handles timeouts and calls the callbacks of finished
 * lookups.
 */
int as_dns_pollfds(struct as_dns *dns, struct pollfd *pfd, int max);
int as_dns_timeout_ms(struct as_dns *dns);
void as_dns_process(struct as_dns *dns, const struct pollfd *pfd, int n);

/*
 * TEST ONLY hooks (unit tests; never set them in a program).
 * as_dns_test_now: the cache's clock in seconds instead of CLOCK_MONOTONIC.
 * as_dns_test_transport: answers a query instead of c-ares: writes a DNS
 * response for (qname, qtype) into msg (cap bytes), sets *len, returns
 * AS_OK or an AS_E_DNS_* code such as AS_E_DNS_TIMEOUT.  It is called when
 * the query is sent; its answer is delivered by the next as_dns_process
 * (as_dns_timeout_ms is 0 meanwhile), as a network answer would be.
 */
extern int64_t (*as_dns_test_now)(void);
extern int (*as_dns_test_transport)(const char *qname, uint16_t qtype, uint8_t *msg,
				    size_t cap, size_t *len);

/* Visit every live cache entry (autosec-ctl show); fn must not change the cache. */
typedef void (*as_dns_cache_fn)(void *arg, const char *name, const struct as_dns_result *res,
				uint32_t ttl_left);
void as_dns_cache_foreach(struct as_dns *dns, as_dns_cache_fn fn, void *arg);

#endif
