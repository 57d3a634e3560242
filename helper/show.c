/* SPDX-License-Identifier: BSD-2-Clause */
/* autosec-ctl show: the helper's state as text for people and JSON for scripts. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "autosec/buf.h"
#include "autosec/conf.h"
#include "autosec/err.h"
#include "autosec/msg.h"
#include "autosec/pkey.h"
#include "engine.h"

static void put(struct as_wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct as_wbuf *w, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		as_wbuf_put(w, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* A JSON string: printable ASCII kept, everything else \u-escaped. */
static void put_json_str(struct as_wbuf *w, const char *s)
{
	as_wbuf_u8(w, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			put(w, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			put(w, "\\u%04x", c);
		else
			as_wbuf_u8(w, c);
	}
	as_wbuf_u8(w, '"');
}

struct counter {
	const char *name;
	uint64_t value;
};

static size_t counters(const struct engine *e, struct counter *c)
{
	const struct eng_stats *s = &e->st;
	size_t n = 0;

#define C(field) c[n++] = (struct counter){ #field, s->field }
	C(tun_in); C(tun_bad); C(tun_local_scope); C(net_in); C(net_bad);
	C(esp_in); C(esp_out); C(esp_no_sa);
	C(esp_rejected);
	C(init_sent); C(init_retx); C(init_in); C(init_bad); C(init_dup); C(reply_in); C(reply_bad);
	C(err_in_bad); C(clear_out); C(dropped_required); C(queue_full); C(dns_fail); C(no_proposal);
	C(sa_created); C(sa_expired);
#undef C
	return n;
}

struct cache_walk {
	struct as_wbuf *w;
	int json, first;
};

static void cache_entry(void *arg, const char *name, const struct as_dns_result *res, uint32_t ttl)
{
	struct cache_walk *c = arg;
	const struct as_keyrec *r = res->n ? &res->rec[0] : NULL;

	if (c->json) {
		put(c->w, "%s{\"name\":", c->first ? "" : ",");
		put_json_str(c->w, name);
		put(c->w, ",\"ttl_left_s\":%u,\"keys\":%zu", ttl, res->n);
		if (r)
			put(c->w, ",\"key_tag\":%u,\"key_type\":\"%s\",\"source\":\"%s\"", r->key_tag,
			    r->key_type == AS_KEY_RSA ? "RSA" : "X25519", r->from_txt ? "TXT" : "KEY");
		else
			put(c->w, ",\"miss\":\"%s\"", as_errname(res->status));
		as_wbuf_u8(c->w, '}');
	} else {
		put(c->w, "  %s: ", name);
		if (r)
			put(c->w, "%s-%u key, tag %u, from %s", r->key_type == AS_KEY_RSA ? "RSA" : "X25519",
			    r->key_bits, r->key_tag, r->from_txt ? "TXT" : "KEY");
		else
			put(c->w, "no key (%s)", as_strerror(res->status));
		put(c->w, ", %u s left\n", ttl);
	}
	c->first = 0;
}

static void peer_json(const struct engine *e, const struct peer *p, uint64_t now, struct as_wbuf *w)
{
	const struct as_params *q = &p->hs.p;
	char a[64];
	int up = p->state == PEER_UP;

	sa_addr_str(p->key.family, p->key.addr, a, sizeof(a));
	put(w, "{\"peer\":");
	put_json_str(w, a);
	put(w, ",\"state\":\"%s\",\"role\":\"%s\",\"name\":", sa_state_name(p->state),
	    p->initiator ? "initiator" : "responder");
	put_json_str(w, p->name);
	if (up) {
		put(w, ",\"encryption\":\"%s\",\"integrity\":\"%s\",\"dh\":\"%s\"", q->enc->name,
		    q->integ->name, q->dh->name);
		put(w, ",\"spi_out\":\"%08x\",\"spi_in\":\"%08x\",\"forward_secret\":%s",
		    p->fs_active ? p->hs.fs_out.spi : p->hs.sa_out.spi,
		    p->hs.has_fs ? p->hs.fs_in.spi : p->hs.sa_in.spi, p->fs_active ? "true" : "false");
	}
	if (p->key.family == 4)
		put(w, ",\"udp_port\":%u", p->port);
	put(w, ",\"packets_in\":%" PRIu64 ",\"packets_out\":%" PRIu64 ",\"bytes_in\":%" PRIu64
	    ",\"bytes_out\":%" PRIu64 ",\"age_s\":%" PRIu64 ",\"idle_s\":%" PRIu64 ",\"queued\":%u}",
	    p->pkts_in, p->pkts_out, p->bytes_in, p->bytes_out, (now - p->created_ms) / 1000,
	    (now - p->last_ms) / 1000, p->q_n);
	(void)e;
}

static void show_json(struct engine *e, struct as_wbuf *w)
{
	struct counter c[40];
	size_t n = counters(e, c);
	uint64_t now = eng_now_ms();
	struct peer *p, *tmp;
	int first = 1;

	put(w, "{\"uptime_s\":%" PRIu64 ",\"tun\":", (now - e->start_ms) / 1000);
	put_json_str(w, e->conf->tun);
	put(w, ",\"policy\":\"%s\",\"keys\":[",
	    e->conf->policy == AS_CONF_REQUIRED ? "required" : "opportunistic");
	for (size_t i = 0; i < e->n_keys; i++)
		put(w, "%s{\"key_tag\":%u,\"type\":\"%s\"}", i ? "," : "", e->keys[i].tag,
		    e->keys[i].type == AS_KEY_RSA ? "RSA" : "X25519");
	put(w, "],\"peers\":[");
	HASH_ITER(hh, e->peers, p, tmp) {
		if (!first)
			as_wbuf_u8(w, ',');
		first = 0;
		peer_json(e, p, now, w);
	}
	put(w, "],\"dns_cache\":[");
	{
		struct cache_walk cw = { w, 1, 1 };

		as_dns_cache_foreach(e->dns, cache_entry, &cw);
	}
	put(w, "],\"counters\":{");
	for (size_t i = 0; i < n; i++)
		put(w, "%s\"%s\":%" PRIu64, i ? "," : "", c[i].name, c[i].value);
	put(w, "},\"errors_sent\":{");
	first = 1;
	for (unsigned i = 1; i < 16; i++) {
		if (!e->st.err_sent[i])
			continue;
		put(w, "%s\"%s\":%" PRIu64, first ? "" : ",", as_error_code_name((uint16_t)i),
		    e->st.err_sent[i]);
		first = 0;
	}
	put(w, "},\"errors_received\":{");
	first = 1;
	for (unsigned i = 1; i < 16; i++) {
		if (!e->st.err_in[i])
			continue;
		put(w, "%s\"%s\":%" PRIu64, first ? "" : ",", as_error_code_name((uint16_t)i),
		    e->st.err_in[i]);
		first = 0;
	}
	put(w, "}}\n");
}

static void show_text(struct engine *e, struct as_wbuf *w)
{
	struct counter c[40];
	size_t n = counters(e, c);
	uint64_t now = eng_now_ms();
	struct peer *p, *tmp;

	put(w, "autosec-helper: up %" PRIu64 " s, TUN %s, policy %s, %zu responder key(s)",
	    (now - e->start_ms) / 1000, e->conf->tun,
	    e->conf->policy == AS_CONF_REQUIRED ? "required" : "opportunistic", e->n_keys);
	for (size_t i = 0; i < e->n_keys; i++)
		put(w, "%s%s tag %u", i ? ", " : " (", e->keys[i].type == AS_KEY_RSA ? "RSA" : "X25519",
		    e->keys[i].tag);
	put(w, "%s\n\npeers: %u\n", e->n_keys ? ")" : "", HASH_COUNT(e->peers));
	HASH_ITER(hh, e->peers, p, tmp) {
		const struct as_params *q = &p->hs.p;
		char a[64];

		sa_addr_str(p->key.family, p->key.addr, a, sizeof(a));
		put(w, "  %s  %s, %s%s%s, age %" PRIu64 " s, idle %" PRIu64 " s\n", a,
		    sa_state_name(p->state), p->initiator ? "we initiated" : "it initiated",
		    p->name[0] ? ", key from " : "", p->name, (now - p->created_ms) / 1000,
		    (now - p->last_ms) / 1000);
		if (p->state == PEER_UP) {
			put(w, "    %s + %s, DH %s; out SPI %08x, in SPI %08x, %s\n", q->enc->name,
			    q->integ->name, q->dh->name,
			    p->fs_active ? p->hs.fs_out.spi : p->hs.sa_out.spi,
			    p->hs.has_fs ? p->hs.fs_in.spi : p->hs.sa_in.spi,
			    p->fs_active ? "forward-secret" : "first-flight keys");
		}
		put(w, "    in %" PRIu64 " packets / %" PRIu64 " bytes, out %" PRIu64 " packets / %" PRIu64
		    " bytes%s\n", p->pkts_in, p->bytes_in, p->pkts_out, p->bytes_out,
		    p->q_n ? ", packets queued" : "");
	}
	put(w, "\ndns cache:\n");
	{
		struct cache_walk cw = { w, 0, 1 };

		as_dns_cache_foreach(e->dns, cache_entry, &cw);
	}
	put(w, "\ncounters:");
	for (size_t i = 0; i < n; i++)
		put(w, "%s %s %" PRIu64, i % 4 ? "," : "\n ", c[i].name, c[i].value);
	put(w, "\nerrors sent:");
	for (unsigned i = 1; i < 16; i++)
		if (e->st.err_sent[i])
			put(w, " %s %" PRIu64, as_error_code_name((uint16_t)i), e->st.err_sent[i]);
	put(w, "\nerrors received:");
	for (unsigned i = 1; i < 16; i++)
		if (e->st.err_in[i])
			put(w, " %s %" PRIu64, as_error_code_name((uint16_t)i), e->st.err_in[i]);
	put(w, "\n");
}

int eng_show(struct engine *e, int json, struct as_wbuf *out)
{
	if (json)
		show_json(e, out);
	else
		show_text(e, out);
	return as_wbuf_error(out);
}
