/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The engine: what autosec-helper does with each packet (see engine.h for
 * the pipeline).  Initiator: a packet from the TUN to a peer without SA ->
 * DNS KEY lookup -> INIT carrying that packet -> queue until the REPLY ->
 * ESP.  Responder: INIT -> SA + REPLY + the inner packet to the TUN.
 * PROTOCOL.md sections 3.5-3.9 and 6 are the rules followed here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "autosec/buf.h"
#include "autosec/conf.h"
#include "autosec/crypto.h"
#include "autosec/err.h"
#include "autosec/keylog.h"
#include "autosec/keyrec.h"
#include "autosec/log.h"
#include "autosec/msg.h"
#include "autosec/pkey.h"
#include "autosec/pkt.h"
#include "autosec/rng.h"
#include "autosec/route.h"
#include "autosec/tun.h"
#include "engine.h"

#define TUN_BUDGET 64
#define RETX_TRIES 4
#define HOLD_DOWN_MS 30000
#define KEEPALIVE_MS 20000
#define INVALID_SPI_GAP_MS 10000
#define ERRORS_PER_SEC 20
#define COOKIE_THRESHOLD 200  /* INITs per second before cookies are demanded */
#define COOKIE_ROTATE_MS 120000
#define NONCE_CACHE_MAX 65536


uint64_t eng_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_s(void)
{
	return (uint64_t)time(NULL);
}

static void peer_str(const struct peer *p, char *out, size_t cap)
{
	sa_addr_str(p->key.family, p->key.addr, out, cap);
}

static int load_keys(struct engine *e, char *err, size_t errlen)
{
	const struct as_conf *c = e->conf;

	for (size_t i = 0; i < c->n_keys; i++) {
		struct as_rkey *k = &e->keys[e->n_keys];
		struct as_diag d = { 0 };
		int rc = as_rkey_load(c->key[i], k, &d);

		if (rc) {
			snprintf(err, errlen, "key %s: %s", c->key[i], as_diag_msg(&d, rc));
			return -1;
		}
		as_notice("responder key %s: %s, key tag %u", c->key[i],
			  k->type == AS_KEY_RSA ? "RSA" : "X25519", k->tag);
		e->n_keys++;
	}
	return 0;
}

int eng_init(struct engine *e, const struct as_conf *conf, char *err, size_t errlen)
{
	struct as_dns_opts o = { 0 };
	struct as_diag d = { 0 };
	int rc;

	memset(e, 0, sizeof(*e));
	e->conf = conf;
	e->tun_fd = e->udp4 = e->raw6_msg = e->raw6_esp = e->raw4_out = e->raw6_out = -1;
	e->start_ms = eng_now_ms();
	e->pol = conf->alg;
	if (load_keys(e, err, errlen))
		return -1;
	o.servers = conf->dns_server[0] ? conf->dns_server : NULL;
	o.require_ad = conf->dnssec_require;
	o.mark = conf->mark_out;
	rc = as_dns_new(&e->dns, &o, &d);
	if (rc) {
		snprintf(err, errlen, "DNS: %s", as_diag_msg(&d, rc));
		return -1;
	}
	if (conf->keylog[0]) {
		rc = as_keylog_open(&e->keylog, conf->keylog, &d);
		if (rc) {
			snprintf(err, errlen, "keylog: %s", as_diag_msg(&d, rc));
			return -1;
		}
		e->have_keylog = 1;
		as_warn("exporting ESP keys to %s: anyone who reads it can decrypt the traffic",
			conf->keylog);
	}
	rc = as_tun_open(conf->tun, conf->mtu, &e->tun_fd, e->tun_name, &d);
	if (rc) {
		snprintf(err, errlen, "TUN %s: %s", conf->tun, as_diag_msg(&d, rc));
		return -1;
	}
	e->route.ifname = e->tun_name;
	e->route.mark_steer = conf->mark_steer;
	e->route.mark_out = conf->mark_out;
	e->route.mark_mask = conf->mark_mask;
	e->route.table_steer = conf->table_steer;
	e->route.table_peers = conf->table_peers;
	e->route.prio = conf->rule_priority;
	/* set before setup, so that eng_fini tears down whatever was installed */
	e->have_route = 1;
	rc = as_route_setup(&e->route, &d);
	if (rc) {
		snprintf(err, errlen, "routing: %s", as_diag_msg(&d, rc));
		return -1;
	}
	if (net_open(e, err, errlen))
		return -1;
	if (as_rng_bytes(&as_rng_system, e->cookie_secret, sizeof(e->cookie_secret)))
		return -1;
	e->cookie_rotated_ms = eng_now_ms();
	as_notice("ready: TUN %s (MTU %u), rules at priority %u: mark 0x%x -> table %u, peers in table %u; "
		  "UDP port %u, IPv6 next header %u; %zu responder key(s); policy %s",
		  conf->tun, conf->mtu, conf->rule_priority, conf->mark_steer, conf->table_steer,
		  conf->table_peers, conf->port, conf->protocol, e->n_keys,
		  conf->policy == AS_CONF_REQUIRED ? "required" : "opportunistic");
	return 0;
}

void eng_fini(struct engine *e)
{
	struct peer *p, *tmp;
	struct nonce_ent *n, *ntmp;

	HASH_ITER(hh, e->peers, p, tmp) {
		if (e->dns)
			as_dns_cancel(e->dns, p);
		sa_peer_free(e, p);
	}
	HASH_ITER(hh, e->nonces, n, ntmp) {
		HASH_DEL(e->nonces, n);
		free(n);
	}
	if (e->have_route)
		as_route_teardown(&e->route);
	e->have_route = 0;
	net_close(e);
	as_tun_close(e->tun_fd);
	e->tun_fd = -1;
	if (e->dns)
		as_dns_free(e->dns);
	e->dns = NULL;
	if (e->have_keylog)
		as_keylog_close(&e->keylog);
	e->have_keylog = 0;
	for (size_t i = 0; i < e->n_keys; i++)
		as_rkey_free(&e->keys[i]);
	e->n_keys = 0;
	as_wipe(e->cookie_secret, sizeof(e->cookie_secret));
}

/* ---- helpers shared by both roles ---- */

static void log_sa(const struct peer *p, const char *what)
{
	const struct as_params *q = &p->hs.p;
	char a[64];

	peer_str(p, a, sizeof(a));
	as_notice("SA %s: peer %s (%s), %s + %s, DH %s; out SPI %08x in SPI %08x%s", what, a,
		  p->initiator ? "we initiated" : "it initiated", q->enc->name, q->integ->name,
		  q->dh->name, p->fs_active || p->hs.has_fs ? p->hs.fs_out.spi : p->hs.sa_out.spi,
		  p->hs.has_fs ? p->hs.fs_in.spi : p->hs.sa_in.spi,
		  p->hs.has_fs ? ", forward-secret" : "");
}

/* Addresses are written as "*": behind a NAT the capture point sees other
 * addresses than either helper, and the SPI alone tells the SAs apart. */
static void export_keys(struct engine *e, struct peer *p)
{
	if (!e->have_keylog)
		return;
	as_keylog_sa(&e->keylog, p->key.family, NULL, NULL, &p->hs.sa_out);
	as_keylog_sa(&e->keylog, p->key.family, NULL, NULL, &p->hs.sa_in);
	if (p->hs.has_fs) {
		as_keylog_sa(&e->keylog, p->key.family, NULL, NULL, &p->hs.fs_out);
		as_keylog_sa(&e->keylog, p->key.family, NULL, NULL, &p->hs.fs_in);
	}
}

static void peer_drop(struct engine *e, struct peer *p)
{
	struct peer *o, *tmp;
	int shared = 0;

	/* the host route serves every peer entry with that address (one client
	 * behind a NAT talking to several of our addresses) */
	HASH_ITER(hh, e->peers, o, tmp) {
		if (o != p && o->route_added && o->key.family == p->key.family &&
		    !memcmp(o->key.addr, p->key.addr, sizeof(o->key.addr)))
			shared = 1;
	}
	if (p->route_added && !shared)
		as_route_peer_del(&e->route, p->key.family == 6 ? AF_INET6 : AF_INET, p->key.addr);
	as_dns_cancel(e->dns, p);
	sa_peer_free(e, p);
}

/* Write an inner packet to the TUN: addresses are the peer's and ours. */
static void deliver(struct engine *e, struct peer *p, uint8_t proto, const uint8_t *seg, size_t len)
{
	struct as_wbuf w;

	if (proto == 59) /* no next header: a dummy packet (RFC 4303 2.6) */
		return;
	as_wbuf_init(&w, e->wire, sizeof(e->wire));
	if (as_pkt_build(&w, p->key.family, p->key.addr, p->key.local, proto, 64, seg, len)) {
		e->st.tun_bad++;
		return;
	}
	if (write(e->tun_fd, as_wbuf_data(&w), as_wbuf_len(&w)) < 0)
		as_debug("TUN write failed: %s", strerror(errno));
	p->pkts_in++;
	p->bytes_in += len;
	p->last_ms = eng_now_ms();
}

static int sa_exhausted(struct engine *e, struct peer *p, const struct as_esp_sa *sa)
{
	const struct as_conf *c = e->conf;
	uint64_t limit = sa->esn ? (1ull << 62) : 0xfffff000u;

	return sa->seq >= limit || p->bytes_out >= c->sa_bytes ||
	       eng_now_ms() - p->created_ms >= (uint64_t)c->sa_lifetime * 1000;
}

static void send_esp(struct engine *e, struct peer *p, const struct as_ippkt *ip)
{
	struct as_esp_sa *sa = p->fs_active ? &p->hs.fs_out : &p->hs.sa_out;
	struct as_wbuf w;
	int rc;

	as_wbuf_init(&w, e->wire, sizeof(e->wire));
	rc = as_esp_encap(sa, &as_rng_system, NULL, ip->proto, ip->l4, ip->l4_len, &w);
	if (rc) {
		e->st.esp_rejected++;
		return;
	}
	if (net_send_esp(e, p, as_wbuf_data(&w), as_wbuf_len(&w)) == AS_OK) {
		e->st.esp_out++;
		p->pkts_out++;
		p->bytes_out += ip->l4_len;
		p->last_ms = eng_now_ms();
	}
}

static void send_error(struct engine *e, uint8_t family, const uint8_t *addr, uint16_t port,
		       const uint8_t *local, const struct as_hs *auth, uint16_t code,
		       const uint8_t *ref, const uint8_t *data, size_t data_len)
{
	uint64_t sec = eng_now_ms() / 1000;
	uint8_t buf[AS_ERROR_REF_LEN + AS_ERROR_DATA_MAX + 64];
	struct as_wbuf w;

	/* errors go to unverified addresses: keep them rare (PROTOCOL.md 6.3) */
	if (sec != e->err_rate_sec) {
		e->err_rate_sec = sec;
		e->err_rate_n = 0;
	}
	if (++e->err_rate_n > ERRORS_PER_SEC)
		return;
	as_wbuf_init(&w, buf, sizeof(buf));
	if (as_msg_build_error(auth, code, ref, data, data_len, &w))
		return;
	if (net_send_msg_to(e, family, addr, port, local, as_wbuf_data(&w), as_wbuf_len(&w)) == AS_OK &&
	    code < 16)
		e->st.err_sent[code]++;
}

/* ---- initiator ---- */

static void flush_clear_or_drop(struct engine *e, struct peer *p, const char *why)
{
	uint8_t *buf = e->pkt;
	size_t n;
	char a[64];

	peer_str(p, a, sizeof(a));
	if (e->conf->policy == AS_CONF_REQUIRED) {
		if (!p->logged_drop)
			as_warn("policy required: dropping packets to %s: %s", a, why);
		p->logged_drop = 1;
		e->st.dropped_required += p->q_n;
		sa_queue_clear(p);
		return;
	}
	if (!p->logged_drop)
		as_notice("no AutoSEC for %s (%s): sending in clear (policy opportunistic)", a, why);
	p->logged_drop = 1;
	while ((n = sa_queue_pop(p, buf, sizeof(e->pkt)))) {
		struct as_ippkt ip;

		if (as_pkt_parse(buf, n, &ip) == AS_OK &&
		    net_send_clear(e, buf, n, ip.family, ip.dst) == AS_OK)
			e->st.clear_out++;
	}
	sa_queue_clear(p);
}

static void start_lookup(struct engine *e, struct peer *p);

/* Build and send the INIT around the first queued packet. */
static void start_handshake(struct engine *e, struct peer *p)
{
	struct as_params keep = p->hs.p;
	struct as_diag d = { 0 };
	struct as_ippkt ip;
	struct as_wbuf w;
	size_t n;
	char a[64];
	int rc;

	peer_str(p, a, sizeof(a));
	sa_spi_del_peer(e, p);
	as_hs_clear(&p->hs);
	p->hs.p.enc = keep.enc;
	p->hs.p.integ = keep.integ;
	p->hs.p.dh = keep.dh;
	/* the first packet travels in the INIT; skip any that cannot */
	while ((n = sa_queue_pop(p, e->pkt, sizeof(e->pkt)))) {
		if (as_pkt_parse(e->pkt, n, &ip) == AS_OK)
			break;
		e->st.tun_bad++;
	}
	if (!n) {
		/* nothing to carry: the next packet starts the handshake */
		p->state = PEER_FAILED;
		p->until_ms = 0;
		return;
	}
	p->hs.p.family = p->key.family;
	p->hs.p.next_header = ip.proto;
	memcpy(p->hs.p.src, p->key.local, sizeof(p->hs.p.src));
	memcpy(p->hs.p.dst, p->key.addr, sizeof(p->hs.p.dst));
	p->hs.p.timestamp = wall_s();
	do {
		as_dh_free(&p->hs.dh);
		rc = as_msg_init_prepare(&p->hs, &as_rng_system, &d);
	} while (!rc && (sa_spi_find(e, p->hs.p.spi_i0) || sa_spi_find(e, p->hs.p.spi_i1)));
	as_wbuf_init(&w, e->wire, sizeof(e->wire));
	if (!rc)
		rc = as_msg_build_init(&p->hs, &p->rec, &as_rng_system, NULL, 0, ip.l4, ip.l4_len, &w, &d);
	if (rc) {
		as_err("cannot build the INIT for %s: %s", a, as_diag_msg(&d, rc));
		p->state = PEER_FAILED;
		p->until_ms = eng_now_ms() + HOLD_DOWN_MS;
		sa_queue_clear(p);
		return;
	}
	free(p->init);
	free(p->first);
	p->init = malloc(as_wbuf_len(&w));
	p->first = malloc(ip.l4_len ? ip.l4_len : 1);
	if (!p->init || !p->first) {
		p->state = PEER_FAILED;
		p->until_ms = eng_now_ms() + HOLD_DOWN_MS;
		return;
	}
	memcpy(p->first, ip.l4, ip.l4_len);
	p->first_len = ip.l4_len;
	p->cookie_used = 0;
	memcpy(p->init, as_wbuf_data(&w), as_wbuf_len(&w));
	p->init_len = as_wbuf_len(&w);
	sa_spi_add(e, p->hs.p.spi_i0, p, 0);
	sa_spi_add(e, p->hs.p.spi_i1, p, 1);
	p->state = PEER_PENDING;
	p->fs_active = 0;
	p->tries = 1;
	p->next_tx_ms = eng_now_ms() + 1000;
	p->bytes_out = ip.l4_len;
	p->pkts_out = 1;
	p->created_ms = p->last_ms = eng_now_ms();
	net_send_msg(e, p, p->init, p->init_len);
	e->st.init_sent++;
	as_info("INIT to %s (%s, key tag %u): %s + %s, DH %s; SPI R0 %08x I0 %08x I1 %08x; %zu octets",
		a, p->name, p->rec.key_tag, p->hs.p.enc->name, p->hs.p.integ->name, p->hs.p.dh->name,
		p->hs.p.spi_r0, p->hs.p.spi_i0, p->hs.p.spi_i1, p->init_len);
}

static void dns_done(void *arg, const char *name, const struct as_dns_result *res)
{
	struct peer *p = arg;
	struct engine *e = p->engine;
	struct as_diag d = { 0 };
	char why[512];
	size_t i;

	if (p->state != PEER_LOOKUP)
		return;
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (res->status != AS_OK || res->n == 0) {
		snprintf(why, sizeof(why), "%s: %s", name,
			 res->n_bad ? res->bad_why[0] : as_strerror(res->status));
		e->st.dns_fail++;
		p->state = PEER_NOKEY;
		p->until_ms = eng_now_ms() + 1000ull * (res->ttl ? res->ttl : 60);
		flush_clear_or_drop(e, p, why);
		return;
	}
	for (i = 0; i < res->n; i++) {
		if (as_msg_choose(&res->rec[i], &e->pol, &p->hs.p, &d) == AS_OK)
			break;
	}
	if (i == res->n) {
		e->st.no_proposal++;
		snprintf(why, sizeof(why), "%s: %s", name, d.msg);
		p->state = PEER_NOKEY;
		p->until_ms = eng_now_ms() + 1000ull * (res->ttl ? res->ttl : 60);
		flush_clear_or_drop(e, p, why);
		return;
	}
	if (p->have_rec)
		as_keyrec_free(&p->rec);
	p->rec = res->rec[i];
	/* the record is ours now: keep its key alive past the callback */
	if (EVP_PKEY_up_ref(p->rec.pub) != 1) {
		p->rec.pub = NULL;
		p->have_rec = 0;
		return;
	}
	p->have_rec = 1;
	start_handshake(e, p);
}

static void start_lookup(struct engine *e, struct peer *p)
{
	char a[64];
	int rc;

	peer_str(p, a, sizeof(a));
	p->state = PEER_LOOKUP;
	p->logged_drop = 0;
	rc = as_dns_lookup_async(e->dns, a, dns_done, p);
	if (rc && p->state == PEER_LOOKUP) {
		struct as_dns_result res;

		memset(&res, 0, sizeof(res));
		res.status = rc;
		dns_done(p, a, &res);
	}
}

static void outbound(struct engine *e, const uint8_t *pkt, size_t n, const struct as_ippkt *ip)
{
	struct peer *p = sa_peer_find(e, ip->family, ip->dst, ip->src);
	uint64_t now = eng_now_ms();

	if (!p) {
		p = sa_peer_new(e, ip->family, ip->dst, ip->src);
		if (!p)
			return;
		p->engine = e;
		p->initiator = 1;
		p->port = e->conf->port;
		if (sa_queue_push(e, p, pkt, n) == AS_OK)
			start_lookup(e, p);
		return;
	}
	switch (p->state) {
	case PEER_LOOKUP:
	case PEER_PENDING:
		if (sa_queue_push(e, p, pkt, n))
			e->st.queue_full++;
		return;
	case PEER_NOKEY:
	case PEER_FAILED:
		if (now >= p->until_ms && p->initiator) {
			if (sa_queue_push(e, p, pkt, n) == AS_OK)
				start_lookup(e, p);
			return;
		}
		if (p->state == PEER_NOKEY && e->conf->policy == AS_CONF_OPPORTUNISTIC) {
			if (net_send_clear(e, pkt, n, ip->family, ip->dst) == AS_OK)
				e->st.clear_out++;
		} else {
			e->st.dropped_required++;
		}
		return;
	case PEER_UP:
		if (p->initiator && sa_exhausted(e, p, p->fs_active ? &p->hs.fs_out : &p->hs.sa_out)) {
			char a[64];

			/* rekey: a new handshake carries this packet (PROTOCOL.md 3.9.4) */
			peer_str(p, a, sizeof(a));
			as_notice("SA with %s reached its lifetime or volume: rekeying", a);
			e->st.sa_expired++;
			sa_queue_push(e, p, pkt, n);
			start_handshake(e, p);
			return;
		}
		send_esp(e, p, ip);
		return;
	}
}

void eng_tun_input(struct engine *e)
{
	for (int i = 0; i < TUN_BUDGET; i++) {
		struct as_ippkt ip;
		ssize_t n = read(e->tun_fd, e->pkt, sizeof(e->pkt));

		if (n <= 0)
			return;
		e->st.tun_in++;
		if (as_pkt_parse(e->pkt, (size_t)n, &ip)) {
			e->st.tun_bad++;
			continue;
		}
		if (as_pkt_dst_is_local_scope(ip.family, ip.dst)) {
			e->st.tun_local_scope++;
			continue;
		}
		/* the packet is copied into the peer's queue before e->pkt is reused */
		outbound(e, e->pkt, (size_t)n, &ip);
	}
}

static void on_reply(struct engine *e, struct peer *p, uint16_t sport, const uint8_t *msg, size_t len)
{
	struct as_diag d = { 0 };
	struct as_ippkt ip;
	size_t n;
	char a[64];
	int rc;

	peer_str(p, a, sizeof(a));
	if (!p->initiator || p->state != PEER_PENDING) {
		e->st.reply_bad++;
		return;
	}
	rc = as_msg_open_reply(&p->hs, msg, len, &d);
	if (rc) {
		/* a bad REPLY does not end the handshake (PROTOCOL.md 3.6) */
		e->st.reply_bad++;
		as_info("REPLY from %s ignored: %s", a, as_diag_msg(&d, rc));
		return;
	}
	e->st.reply_in++;
	e->st.sa_created++;
	if (p->key.family == 4)
		p->port = sport;
	p->state = PEER_UP;
	p->fs_active = 1;
	free(p->init);
	p->init = NULL;
	log_sa(p, "up");
	export_keys(e, p);
	while ((n = sa_queue_pop(p, e->pkt, sizeof(e->pkt)))) {
		if (as_pkt_parse(e->pkt, n, &ip) == AS_OK)
			send_esp(e, p, &ip);
	}
	sa_queue_clear(p);
}

static void on_error(struct engine *e, struct peer *p, const uint8_t *msg, size_t len)
{
	struct as_error_msg em;
	struct as_diag d = { 0 };
	char a[64];
	int rc, retry = 0;

	peer_str(p, a, sizeof(a));
	rc = as_msg_parse_error(p->state == PEER_PENDING ? &p->hs : NULL, msg, len, &em, &d);
	if (rc) {
		e->st.err_in_bad++;
		return;
	}
	if (em.code < 16)
		e->st.err_in[em.code]++;
	if (em.code == AS_ERR_INVALID_SPI) {
		struct as_rbuf r;
		uint32_t spi = 0;

		const struct as_esp_sa *sa;
		uint32_t seq = 0;

		as_rbuf_init(&r, em.ref, sizeof(em.ref));
		as_rbuf_u32(&r, &spi);
		as_rbuf_u32(&r, &seq);
		if (p->state != PEER_UP || (spi != p->hs.sa_out.spi && spi != p->hs.fs_out.spi))
			return;
		/* it must name a sequence number we used: off-path guessing is hard */
		sa = spi == p->hs.fs_out.spi ? &p->hs.fs_out : &p->hs.sa_out;
		if (seq == 0 || (!sa->esn && seq > sa->seq)) {
			e->st.err_in_bad++;
			return;
		}
		if (eng_now_ms() < p->invalid_spi_ms)
			return; /* rate limit: a forged INVALID_SPI can only make us rekey */
		as_notice("%s says it has no SA for SPI %08x (it restarted?): new handshake", a, spi);
		if (p->initiator) {
			struct as_wbuf w;

			p->invalid_spi_ms = eng_now_ms() + INVALID_SPI_GAP_MS;
			sa_spi_del_peer(e, p);
			/* re-key at once, carrying a dummy packet (next header 59,
			 * RFC 4303 2.6), so the application's next packet finds a
			 * handshake under way (PROTOCOL.md 3.9.5) */
			as_wbuf_init(&w, e->pkt, sizeof(e->pkt));
			if (as_pkt_build(&w, p->key.family, p->key.local, p->key.addr, 59, 64, NULL, 0) ||
			    sa_queue_push(e, p, as_wbuf_data(&w), as_wbuf_len(&w))) {
				p->state = PEER_FAILED;
				p->until_ms = 0;
				return;
			}
			start_lookup(e, p);
		} else {
			peer_drop(e, p);
		}
		return;
	}
	/* everything else answers an INIT: it must name ours */
	if (p->state != PEER_PENDING || as_ct_memcmp(em.ref, p->hs.ref, sizeof(em.ref))) {
		e->st.err_in_bad++;
		return;
	}
	as_info("%s from %s (%s)", as_error_code_name(em.code), a,
		em.authenticated ? "authenticated" : "unauthenticated");
	switch (em.code) {
	case AS_ERR_COOKIE_REQUIRED:
		/* same parameters and nonce, the cookie added, a fresh encapsulation
		 * (PROTOCOL.md 3.8); once per handshake */
		if (!p->cookie_used && p->first && em.data_len >= AS_COOKIE_MIN &&
		    em.data_len <= AS_COOKIE_MAX) {
			struct as_wbuf w;
			uint8_t *ni;

			p->cookie_used = 1;
			as_wbuf_init(&w, e->wire, sizeof(e->wire));
			if (as_msg_build_init(&p->hs, &p->rec, &as_rng_system, em.data, em.data_len,
					      p->first, p->first_len, &w, &d) ||
			    !(ni = malloc(as_wbuf_len(&w))))
				break;
			memcpy(ni, as_wbuf_data(&w), as_wbuf_len(&w));
			free(p->init);
			p->init = ni;
			p->init_len = as_wbuf_len(&w);
			p->tries = 1;
			p->next_tx_ms = eng_now_ms() + 1000;
			net_send_msg(e, p, p->init, p->init_len);
			e->st.init_sent++;
			return;
		}
		break;
	case AS_ERR_UNKNOWN_KEY_TAG:
	case AS_ERR_DECRYPT_FAILED:
		/* the key may have changed: look again, once */
		if (!p->refetched) {
			p->refetched = 1;
			as_dns_forget(e->dns, p->name);
			retry = 1;
		}
		break;
	case AS_ERR_STALE_TIMESTAMP:
	case AS_ERR_SPI_IN_USE:
		if (!em.authenticated)
			return; /* acted on only when authenticated (PROTOCOL.md 6.2) */
		if (!p->stale_retry) {
			p->stale_retry = 1;
			retry = 1;
		}
		break;
	default:
		break;
	}
	/* retry with a fresh INIT on the next packet, or give up for a while;
	 * never fall back to clear text (PROTOCOL.md 6.3) */
	p->state = PEER_FAILED;
	p->until_ms = retry ? 0 : eng_now_ms() + HOLD_DOWN_MS;
	sa_spi_del_peer(e, p);
	sa_queue_clear(p);
}

/* ---- responder ---- */

static int nonce_seen(struct engine *e, const struct as_params *q, const uint8_t digest[32], int *same)
{
	struct nonce_ent *n = NULL;

	HASH_FIND(hh, e->nonces, q->nonce, AS_NONCE_LEN, n);
	if (!n)
		return 0;
	*same = !as_ct_memcmp(n->params_digest, digest, 32);
	return 1;
}

static void nonce_add(struct engine *e, const struct as_params *q, const uint8_t digest[32])
{
	struct nonce_ent *n;

	if (e->n_nonces >= NONCE_CACHE_MAX)
		return;
	n = calloc(1, sizeof(*n));
	if (!n)
		return;
	memcpy(n->nonce, q->nonce, AS_NONCE_LEN);
	memcpy(n->params_digest, digest, 32);
	n->expires_ms = eng_now_ms() + 2000ull * e->conf->freshness + 1000;
	HASH_ADD(hh, e->nonces, nonce, AS_NONCE_LEN, n);
	e->n_nonces++;
}

static void params_digest(const struct as_params *q, uint8_t out[32])
{
	unsigned int len = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	memset(out, 0, 32);
	if (!c)
		return;
	if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1) {
		EVP_DigestUpdate(c, q->nonce, sizeof(q->nonce));
		EVP_DigestUpdate(c, q->key_material, sizeof(q->key_material));
		EVP_DigestUpdate(c, &q->spi_r0, sizeof(q->spi_r0));
		EVP_DigestUpdate(c, &q->spi_i0, sizeof(q->spi_i0));
		EVP_DigestUpdate(c, &q->spi_i1, sizeof(q->spi_i1));
		EVP_DigestUpdate(c, q->dh_share, q->dh_share_len);
		EVP_DigestFinal_ex(c, out, &len);
	}
	EVP_MD_CTX_free(c);
}

static void cookie_for(struct engine *e, int which, uint8_t family, const uint8_t *src, uint16_t sport,
		       const uint8_t *dst, uint16_t key_tag, uint8_t out[16])
{
	uint8_t in[16 + 16 + 2 + 2 + 2], mac[32];
	size_t al = family == 6 ? 16 : 4, n = 0;

	memcpy(in + n, src, al);
	n += al;
	memcpy(in + n, dst, al);
	n += al;
	in[n++] = (uint8_t)(sport >> 8);
	in[n++] = (uint8_t)sport;
	in[n++] = (uint8_t)(e->conf->port >> 8);
	in[n++] = (uint8_t)e->conf->port;
	in[n++] = (uint8_t)(key_tag >> 8);
	in[n++] = (uint8_t)key_tag;
	as_hmac(NULL, e->cookie_secret[which], 32, in, n, mac);
	memcpy(out, mac, 16);
	as_wipe(mac, sizeof(mac));
}

/* Under load, an INIT must carry a cookie proving its source address. */
static int cookie_ok(struct engine *e, uint8_t family, const uint8_t *src, uint16_t sport,
		     const uint8_t *dst, const struct as_init_hdr *h)
{
	uint64_t sec = eng_now_ms() / 1000;
	uint8_t c[16];

	if (sec != e->inits_sec_start) {
		e->inits_sec_start = sec;
		e->inits_this_sec = 0;
	}
	if (++e->inits_this_sec <= COOKIE_THRESHOLD)
		return 1;
	if (h->cookie_len == 16) {
		for (int i = 0; i < 2; i++) {
			cookie_for(e, i, family, src, sport, dst, h->key_tag, c);
			if (!as_ct_memcmp(c, h->cookie, 16))
				return 1;
		}
	}
	cookie_for(e, 0, family, src, sport, dst, h->key_tag, c);
	send_error(e, family, src, sport, dst, NULL, AS_ERR_COOKIE_REQUIRED, h->block, c, sizeof(c));
	return 0;
}

static void on_init(struct engine *e, uint8_t family, const uint8_t *src, uint16_t sport,
		    const uint8_t *dst, const uint8_t *msg, size_t len)
{
	struct as_diag d = { 0 };
	struct as_init_hdr h;
	struct as_hs *hs;
	struct as_wbuf pw, w;
	struct peer *p;
	uint8_t digest[32], tbuf[8];
	uint16_t ec = 0;
	uint32_t spi_r1;
	int rc, same = 0;
	char a[64];

	e->st.init_in++;
	sa_addr_str(family, src, a, sizeof(a));
	if (!e->n_keys) {
		e->st.init_bad++;
		return; /* not a responder */
	}
	if (as_msg_parse_init_hdr(msg, len, &h, &d)) {
		e->st.init_bad++;
		as_debug("INIT from %s refused: %s", a, d.msg);
		return;
	}
	/* a retransmitted INIT: the same REPLY again, nothing new (3.5 step 7) */
	p = sa_peer_find(e, family, src, dst);
	if (p && !p->initiator && p->reply && p->init && p->init_len == len && !memcmp(p->init, msg, len)) {
		e->st.init_dup++;
		net_send_msg(e, p, p->reply, p->reply_len);
		return;
	}
	if (!cookie_ok(e, family, src, sport, dst, &h))
		return;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return;
	spi_r1 = sa_spi_alloc(e);
	as_wbuf_init(&pw, e->pkt, sizeof(e->pkt));
	rc = as_msg_open_init(hs, e->keys, e->n_keys, &e->pol, wall_s(), e->conf->freshness,
			      &as_rng_system, spi_r1, msg, len, &pw, &ec, &d);
	if (rc == AS_OK && hs->p.family != family) {
		rc = AS_E_MSG_PARAM;
		ec = AS_ERR_INVALID_PARAMETER;
		as_diag_set(&d, rc, "address family %u inside an IPv%u datagram", hs->p.family, family);
	}
	if (rc == AS_OK && sa_spi_find(e, hs->p.spi_r0)) {
		rc = AS_E_INVAL;
		ec = AS_ERR_SPI_IN_USE;
		as_diag_set(&d, rc, "SPI R0 %08x is in use", hs->p.spi_r0);
	}
	if (rc == AS_OK) {
		params_digest(&hs->p, digest);
		if (nonce_seen(e, &hs->p, digest, &same)) {
			/* same parameters (a cookie rebuild): the stored REPLY; else a replay */
			if (same && p && p->reply)
				net_send_msg(e, p, p->reply, p->reply_len);
			e->st.init_dup++;
			goto out;
		}
	}
	if (rc) {
		int auth = ec == AS_ERR_NO_PROPOSAL_CHOSEN || ec == AS_ERR_STALE_TIMESTAMP ||
			   ec == AS_ERR_INVALID_PARAMETER || ec == AS_ERR_SPI_IN_USE;

		e->st.init_bad++;
		as_info("INIT from %s refused: %s%s%s", a, as_diag_msg(&d, rc), ec ? "; answering " : "",
			ec ? as_error_code_name(ec) : "");
		if (ec) {
			struct as_wbuf tw;

			as_wbuf_init(&tw, tbuf, sizeof(tbuf));
			as_wbuf_u64(&tw, wall_s());
			send_error(e, family, src, sport, dst, auth ? hs : NULL, ec, h.block,
				   ec == AS_ERR_STALE_TIMESTAMP ? tbuf : NULL,
				   ec == AS_ERR_STALE_TIMESTAMP ? sizeof(tbuf) : 0);
		}
		goto out;
	}
	/* a new INIT from a peer we had an SA with: it restarted or rekeys */
	if (p)
		peer_drop(e, p);
	p = sa_peer_new(e, family, src, dst);
	if (!p)
		goto out;
	p->engine = e;
	p->initiator = 0;
	p->port = sport;
	p->hs = *hs; /* the SAs move into the peer */
	memset(hs, 0, sizeof(*hs));
	p->init = malloc(len);
	as_wbuf_init(&w, e->wire, sizeof(e->wire));
	if (!p->init || as_msg_build_reply(&p->hs, &w, &d)) {
		peer_drop(e, p);
		goto out;
	}
	memcpy(p->init, msg, len);
	p->init_len = len;
	p->reply = malloc(as_wbuf_len(&w));
	if (!p->reply) {
		peer_drop(e, p);
		goto out;
	}
	memcpy(p->reply, as_wbuf_data(&w), as_wbuf_len(&w));
	p->reply_len = as_wbuf_len(&w);
	if (sa_spi_add(e, p->hs.p.spi_r0, p, 0) || sa_spi_add(e, p->hs.spi_r1, p, 1)) {
		peer_drop(e, p);
		goto out;
	}
	nonce_add(e, &p->hs.p, digest);
	if (as_route_peer_add(&e->route, family == 6 ? AF_INET6 : AF_INET, src, &d) == AS_OK)
		p->route_added = 1;
	else
		as_warn("cannot route replies to %s into the TUN: %s", a, d.msg);
	p->state = PEER_UP;
	e->st.sa_created++;
	if (memcmp(p->hs.p.src, src, family == 6 ? 16 : 4)) {
		char o[64];

		sa_addr_str(family, p->hs.p.src, o, sizeof(o));
		as_info("NAT between us and %s: the initiator's own address is %s", a, o);
	}
	log_sa(p, "up");
	export_keys(e, p);
	net_send_msg(e, p, p->reply, p->reply_len);
	deliver(e, p, p->hs.p.next_header, as_wbuf_data(&pw), as_wbuf_len(&pw));
out:
	as_hs_clear(hs);
	free(hs);
}

void eng_msg_input(struct engine *e, uint8_t family, const uint8_t *src, uint16_t sport,
		   const uint8_t *dst, const uint8_t *msg, size_t len)
{
	struct peer *p;
	uint8_t type = 0;

	if (as_msg_peek(msg, len, &type)) {
		e->st.net_bad++;
		return;
	}
	if (type == AS_MSG_INIT) {
		on_init(e, family, src, sport, dst, msg, len);
		return;
	}
	p = sa_peer_find(e, family, src, dst);
	if (!p) {
		e->st.net_bad++;
		return;
	}
	if (type == AS_MSG_REPLY)
		on_reply(e, p, sport, msg, len);
	else
		on_error(e, p, msg, len);
}

void eng_esp_input(struct engine *e, uint8_t family, const uint8_t *src, uint16_t sport,
		   const uint8_t *dst, const uint8_t *esp, size_t len)
{
	struct spi_ent *s;
	struct peer *p;
	struct as_esp_sa *sa;
	struct as_wbuf w;
	uint32_t spi = 0;
	uint8_t nh = 0;
	int rc;

	e->st.esp_in++;
	if (as_esp_peek_spi(esp, len, &spi)) {
		e->st.esp_rejected++;
		return;
	}
	s = sa_spi_find(e, spi);
	if (!s) {
		struct as_rbuf r;
		const uint8_t *ref;

		e->st.esp_no_sa++;
		as_rbuf_init(&r, esp, len);
		if (as_rbuf_ptr(&r, &ref, AS_ERROR_REF_LEN) == AS_OK)
			send_error(e, family, src, sport, dst, NULL, AS_ERR_INVALID_SPI, ref, NULL, 0);
		return;
	}
	p = s->peer;
	if (p->key.family != family || memcmp(p->key.addr, src, family == 6 ? 16 : 4)) {
		e->st.esp_no_sa++;
		return;
	}
	if (s->fs && !p->hs.has_fs) {
		e->st.esp_no_sa++;
		return;
	}
	sa = s->fs ? &p->hs.fs_in : &p->hs.sa_in;
	as_wbuf_init(&w, e->pkt, sizeof(e->pkt));
	rc = as_esp_decap(sa, esp, len, &nh, &w);
	if (rc) {
		e->st.esp_rejected++;
		return;
	}
	/* NAT rebinding: follow the peer's port once its packet verified */
	if (family == 4 && sport != p->port)
		p->port = sport;
	if (s->fs && !p->fs_active) {
		char a[64];

		p->fs_active = 1;
		peer_str(p, a, sizeof(a));
		as_info("peer %s uses the forward-secret SA: switching to SPI %08x", a, p->hs.fs_out.spi);
	}
	deliver(e, p, nh, as_wbuf_data(&w), as_wbuf_len(&w));
}

int eng_tick(struct engine *e)
{
	uint64_t now = eng_now_ms(), next = now + 1000;
	struct peer *p, *tmp;
	struct nonce_ent *n, *ntmp;
	char a[64];

	if (now - e->cookie_rotated_ms >= COOKIE_ROTATE_MS) {
		memcpy(e->cookie_secret[1], e->cookie_secret[0], 32);
		as_rng_bytes(&as_rng_system, e->cookie_secret[0], 32);
		e->cookie_rotated_ms = now;
	}
	HASH_ITER(hh, e->nonces, n, ntmp) {
		if (now >= n->expires_ms) {
			HASH_DEL(e->nonces, n);
			free(n);
			e->n_nonces--;
		}
	}
	HASH_ITER(hh, e->peers, p, tmp) {
		peer_str(p, a, sizeof(a));
		switch (p->state) {
		case PEER_PENDING:
			if (now < p->next_tx_ms)
				break;
			if (p->tries >= RETX_TRIES) {
				as_warn("no REPLY from %s after %d INITs: giving up for %d s", a, p->tries,
					HOLD_DOWN_MS / 1000);
				p->state = PEER_FAILED;
				p->until_ms = now + HOLD_DOWN_MS;
				sa_spi_del_peer(e, p);
				sa_queue_clear(p);
				break;
			}
			net_send_msg(e, p, p->init, p->init_len);
			e->st.init_retx++;
			p->next_tx_ms = now + (1000ull << p->tries);
			p->tries++;
			break;
		case PEER_UP:
			if (now - p->last_ms >= 1000ull * e->conf->sa_idle) {
				as_notice("SA with %s idle for %u s: removed", a, e->conf->sa_idle);
				e->st.sa_expired++;
				peer_drop(e, p);
				continue;
			}
			/* keep the NAT binding of an idle IPv4 initiator open (RFC 3948 2.3) */
			if (p->initiator && p->key.family == 4 && now - p->last_ms >= KEEPALIVE_MS &&
			    now >= p->next_ka_ms) {
				static const uint8_t ka = 0xff;

				p->next_ka_ms = now + KEEPALIVE_MS;
				net_send_esp(e, p, &ka, 1);
			}
			break;
		case PEER_NOKEY:
		case PEER_FAILED:
			if (now >= p->until_ms && now - p->last_ms >= 1000ull * e->conf->sa_idle) {
				peer_drop(e, p);
				continue;
			}
			break;
		default:
			break;
		}
		if (p->state == PEER_PENDING && p->next_tx_ms < next)
			next = p->next_tx_ms;
	}
	return next > now ? (int)(next - now) : 0;
}
