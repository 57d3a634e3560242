/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DNS responses from the network: the input is one response message,
 * parsed as the answer to KEY host.autosec.test and to
 * TXT _autosec.host.autosec.test, then fed through the resolver (test
 * transport) so that the cache's copies and the KEY -> TXT fallback see it
 * too.  The corpus holds real NSD answers for those two questions.
 */
#include <string.h>

#include "autosec/dns.h"
#include "autosec/err.h"
#include "fuzz.h"

#define QNAME "host.autosec.test"

static const uint8_t *cur;
static size_t cur_len;

static int transport(const char *qname, uint16_t qtype, uint8_t *msg, size_t cap, size_t *len)
{
	(void)qname;
	(void)qtype;
	if (cur_len > cap)
		return AS_E_DNS_FORMAT;
	memcpy(msg, cur, cur_len);
	*len = cur_len;
	return AS_OK;
}

static void check(const struct as_dns_result *r, int rc)
{
	/* invariants every result keeps, whatever the input */
	if (r->status != rc || r->n > AS_DNS_MAX_RECS || (rc == AS_OK) != (r->n > 0))
		__builtin_trap();
	for (size_t i = 0; i < r->n; i++)
		if (!r->rec[i].pub)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct as_dns *dns;
	struct as_dns_result r;
	struct as_diag d;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = as_dns_parse_answer(data, size, QNAME, AS_DNS_TYPE_KEY, &r, &d);
	check(&r, rc);
	as_dns_result_free(&r);

	memset(&r, 0, sizeof(r));
	rc = as_dns_parse_answer(data, size, "_autosec." QNAME, AS_DNS_TYPE_TXT, &r, &d);
	check(&r, rc);
	as_dns_result_free(&r);

	if (!dns) {
		struct as_dns_opts o = { 0 };

		o.servers = "127.0.0.1:9"; /* never asked: the transport answers */
		as_dns_test_transport = transport;
		if (as_dns_new(&dns, &o, NULL))
			return 0;
	}
	cur = data;
	cur_len = size;
	memset(&r, 0, sizeof(r));
	r.diag = &d;
	rc = as_dns_lookup(dns, QNAME, &r);
	check(&r, rc);
	as_dns_result_free(&r);
	/* and once from the cache */
	memset(&r, 0, sizeof(r));
	rc = as_dns_lookup(dns, QNAME, &r);
	check(&r, rc);
	as_dns_result_free(&r);
	as_dns_forget(dns, QNAME);
	return 0;
}
