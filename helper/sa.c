/* SPDX-License-Identifier: BSD-2-Clause */
/* The sa step: peers by address (sending), inbound SAs by SPI (receiving). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "autosec/buf.h"
#include "autosec/conf.h"
#include "autosec/err.h"
#include "autosec/rng.h"
#include "engine.h"

static void make_key(struct peer_key *k, uint8_t family, const uint8_t *addr, const uint8_t *local)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	memcpy(k->addr, addr, family == 6 ? 16 : 4);
	memcpy(k->local, local, family == 6 ? 16 : 4);
}

struct peer *sa_peer_find(struct engine *e, uint8_t family, const uint8_t *addr, const uint8_t *local)
{
	struct peer_key k;
	struct peer *p = NULL;

	make_key(&k, family, addr, local);
	HASH_FIND(hh, e->peers, &k, sizeof(k), p);
	return p;
}

struct peer *sa_peer_new(struct engine *e, uint8_t family, const uint8_t *addr, const uint8_t *local)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	make_key(&p->key, family, addr, local);
	p->created_ms = p->last_ms = eng_now_ms();
	HASH_ADD(hh, e->peers, key, sizeof(p->key), p);
	return p;
}

void sa_queue_clear(struct peer *p)
{
	if (p->qbuf) {
		/* queued packets are application data */
		memset(p->qbuf, 0, p->q_cap * (p->q_slot + 2));
		free(p->qbuf);
	}
	p->qbuf = NULL;
	p->q_n = p->q_head = p->q_cap = 0;
}

void sa_peer_free(struct engine *e, struct peer *p)
{
	sa_spi_del_peer(e, p);
	HASH_DEL(e->peers, p);
	sa_queue_clear(p);
	as_hs_clear(&p->hs);
	if (p->have_rec)
		as_keyrec_free(&p->rec);
	free(p->init);
	free(p->reply);
	if (p->first)
		memset(p->first, 0, p->first_len);
	free(p->first);
	memset(p, 0, sizeof(*p));
	free(p);
}

int sa_spi_add(struct engine *e, uint32_t spi, struct peer *p, int fs)
{
	struct spi_ent *s = NULL;

	HASH_FIND(hh, e->spis, &spi, sizeof(spi), s);
	if (s)
		return AS_E_INVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return AS_E_NOMEM;
	s->spi = spi;
	s->peer = p;
	s->fs = fs;
	HASH_ADD(hh, e->spis, spi, sizeof(s->spi), s);
	return AS_OK;
}

struct spi_ent *sa_spi_find(struct engine *e, uint32_t spi)
{
	struct spi_ent *s = NULL;

	HASH_FIND(hh, e->spis, &spi, sizeof(spi), s);
	return s;
}

void sa_spi_del_peer(struct engine *e, struct peer *p)
{
	struct spi_ent *s, *tmp;

	HASH_ITER(hh, e->spis, s, tmp) {
		if (s->peer == p) {
			HASH_DEL(e->spis, s);
			free(s);
		}
	}
}

uint32_t sa_spi_alloc(struct engine *e)
{
	for (;;) {
		uint8_t r[4];
		uint32_t spi;

		if (as_rng_bytes(&as_rng_system, r, sizeof(r)))
			return 0;
		spi = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3];
		if (spi >= 256 && !sa_spi_find(e, spi))
			return spi;
	}
}

int sa_queue_push(struct engine *e, struct peer *p, const uint8_t *pkt, size_t len)
{
	struct as_wbuf w;
	uint8_t *slot;
	unsigned idx;

	if (!p->qbuf) {
		p->q_cap = e->conf->queue_max ? e->conf->queue_max : 32;
		p->q_slot = e->conf->mtu + 64;
		p->qbuf = calloc(p->q_cap, p->q_slot + 2);
		if (!p->qbuf)
			return AS_E_NOMEM;
	}
	if (p->q_n == p->q_cap || len > p->q_slot)
		return AS_E_NOSPACE;
	idx = (p->q_head + p->q_n) % p->q_cap;
	as_wbuf_init(&w, p->qbuf, (size_t)p->q_cap * (p->q_slot + 2));
	if (as_wbuf_reserve(&w, (size_t)idx * (p->q_slot + 2), &slot) ||
	    as_wbuf_u16(&w, (uint16_t)len) || as_wbuf_put(&w, pkt, len))
		return AS_E_NOSPACE;
	p->q_n++;
	return AS_OK;
}

size_t sa_queue_pop(struct peer *p, uint8_t *buf, size_t cap)
{
	struct as_rbuf r;
	uint16_t len;

	if (!p->q_n)
		return 0;
	as_rbuf_init(&r, p->qbuf, (size_t)p->q_cap * (p->q_slot + 2));
	if (as_rbuf_skip(&r, (size_t)p->q_head * (p->q_slot + 2)) || as_rbuf_u16(&r, &len) ||
	    len > cap || as_rbuf_copy(&r, buf, len))
		len = 0;
	p->q_head = (p->q_head + 1) % p->q_cap;
	p->q_n--;
	return len;
}

const char *sa_state_name(int state)
{
	static const char *const names[] = {
		[PEER_LOOKUP] = "lookup", [PEER_NOKEY] = "no-key", [PEER_PENDING] = "handshake",
		[PEER_UP] = "up", [PEER_FAILED] = "failed",
	};

	return state >= 0 && state <= PEER_FAILED ? names[state] : "?";
}

void sa_addr_str(uint8_t family, const uint8_t *addr, char *out, size_t cap)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, out, (socklen_t)cap))
		snprintf(out, cap, "?");
}
