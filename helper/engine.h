/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * autosec-helper's pipeline, internal to the daemon:
 *
 *   tun (inner packets) -> engine: peer by destination -> dns (KEY lookup)
 *        -> handshake (msg.c: INIT/REPLY/ERROR) -> sa (peer + SPI tables)
 *        -> esp (esp.c) -> net (UDP 4500 for IPv4, raw 253/50 for IPv6)
 *   net -> engine: AutoSEC message or ESP by SPI -> esp -> tun
 *
 * One thread, one poll() loop, no allocation per packet: packet buffers
 * are the engine's, peers are allocated when a peer appears.
 */
#ifndef AUTOSEC_ENGINE_H
#define AUTOSEC_ENGINE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <uthash.h>

#include "autosec/alg.h"
#include "autosec/dns.h"
#include "autosec/keylog.h"
#include "autosec/msg.h"
#include "autosec/route.h"

struct as_conf;
struct as_wbuf;

#define ENG_PKT_MAX 65600   /* an IP packet from the TUN, plus headroom */
#define ENG_WIRE_MAX 66000  /* an outer datagram */

enum peer_state {
	PEER_LOOKUP,   /* DNS query outstanding, packets queued */
	PEER_NOKEY,    /* no usable key: policy decides (until the negative TTL) */
	PEER_PENDING,  /* INIT sent, waiting for the REPLY, packets queued */
	PEER_UP,       /* SAs installed */
	PEER_FAILED,   /* handshake gave up: hold-down, packets dropped */
};

/*
 * A peer is a pair of addresses: the peer's as we see it and our own.
 * Behind a NAT one client shows one address to several of our addresses,
 * and each pair has its own SAs.
 */
struct peer_key {
	uint8_t family;
	uint8_t addr[16];
	uint8_t local[16];
};

struct engine;

struct peer {
	UT_hash_handle hh;
	struct engine *engine;
	struct peer_key key;       /* the peer's address as we see it (outer) */
	int state;
	int initiator;
	uint16_t port;             /* IPv4: the peer's UDP port as observed */
	char name[256];            /* DNS name the key came from (initiator) */
	struct as_hs hs;
	struct as_keyrec rec;      /* initiator: the record used (key kept referenced) */
	int have_rec;
	uint8_t *init;             /* the INIT as sent (initiator: to retransmit it;
				    * responder: to recognise a retransmission) */
	size_t init_len;
	uint8_t *first;            /* initiator: the segment the INIT carries, for a
				    * rebuild after COOKIE_REQUIRED */
	size_t first_len;
	uint8_t *reply;            /* responder: the REPLY, resent for a retransmitted INIT */
	size_t reply_len;
	int fs_active;             /* sending on the forward-secret SA */
	int tries;
	int cookie_used, refetched, stale_retry;
	uint64_t next_tx_ms;       /* the next INIT retransmission */
	uint64_t next_ka_ms;       /* the next NAT keepalive (IPv4 initiator) */
	uint64_t invalid_spi_ms;   /* INVALID_SPI is believed again after this */
	uint64_t until_ms;         /* NOKEY / FAILED: when to look again */
	int logged_drop;
	/* packets queued while LOOKUP/PENDING: a ring of fixed slots, allocated
	 * once when the peer starts waiting and freed when it stops */
	uint8_t *qbuf;
	size_t q_slot;
	unsigned q_n, q_head, q_cap;
	/* counters */
	uint64_t created_ms, last_ms;
	uint64_t pkts_in, pkts_out, bytes_in, bytes_out;
	int route_added;
};

/* SPI index: inbound SAs, found by the SPI of an arriving ESP packet. */
struct spi_ent {
	UT_hash_handle hh;
	uint32_t spi;
	struct peer *peer;
	int fs;                    /* 1: the forward-secret inbound SA */
};

struct nonce_ent {
	UT_hash_handle hh;
	uint8_t nonce[AS_NONCE_LEN];
	uint8_t params_digest[32];
	uint64_t expires_ms;
};

/* Counters of everything that can go wrong, shown by autosec-ctl show. */
struct eng_stats {
	uint64_t tun_in, tun_bad, tun_local_scope, net_in, net_bad;
	uint64_t esp_in, esp_out, esp_no_sa, esp_rejected;
	uint64_t init_sent, init_retx, init_in, init_bad, init_dup, reply_in, reply_bad;
	uint64_t err_sent[16], err_in[16], err_in_bad;
	uint64_t clear_out, dropped_required, queue_full, dns_fail, no_proposal;
	uint64_t sa_created, sa_expired;
};

struct engine {
	const struct as_conf *conf;
	struct as_policy pol;
	struct as_rkey keys[8];
	size_t n_keys;
	struct as_dns *dns;
	struct peer *peers;        /* by key */
	struct spi_ent *spis;      /* by SPI */
	int tun_fd;
	int udp4, raw6_msg, raw6_esp, raw4_out, raw6_out;
	char tun_name[16];
	struct as_route_cfg route;
	int have_route;            /* rules may be installed: tear down at exit */
	struct as_keylog keylog;
	int have_keylog;
	struct eng_stats st;
	uint8_t cookie_secret[2][32];
	uint64_t cookie_rotated_ms;
	unsigned inits_this_sec;
	uint64_t inits_sec_start;
	uint64_t start_ms;
	uint8_t pkt[ENG_PKT_MAX];  /* scratch: one inner packet */
	uint8_t wire[ENG_WIRE_MAX];/* scratch: one outer datagram being built */
	uint8_t rx[ENG_WIRE_MAX];  /* the outer datagram being received */
	struct nonce_ent *nonces;  /* responder replay cache (PROTOCOL.md 3.5.1) */
	unsigned n_nonces;
	uint64_t err_rate_sec, err_rate_n;
};

uint64_t eng_now_ms(void);

/* sa.c: the peer table, the SPI index and the per-peer queue */
struct peer *sa_peer_find(struct engine *e, uint8_t family, const uint8_t *addr,
			  const uint8_t *local);
struct peer *sa_peer_new(struct engine *e, uint8_t family, const uint8_t *addr, const uint8_t *local);
void sa_peer_free(struct engine *e, struct peer *p);
int sa_spi_add(struct engine *e, uint32_t spi, struct peer *p, int fs);
struct spi_ent *sa_spi_find(struct engine *e, uint32_t spi);
void sa_spi_del_peer(struct engine *e, struct peer *p);
uint32_t sa_spi_alloc(struct engine *e);
int sa_queue_push(struct engine *e, struct peer *p, const uint8_t *pkt, size_t len);
/* Pop the oldest queued packet into buf; returns its length or 0. */
size_t sa_queue_pop(struct peer *p, uint8_t *buf, size_t cap);
void sa_queue_clear(struct peer *p);
const char *sa_state_name(int state);
void sa_addr_str(uint8_t family, const uint8_t *addr, char *out, size_t cap);

/* net.c: the outer sockets */
int net_open(struct engine *e, char *err, size_t errlen);
void net_close(struct engine *e);
/* AutoSEC message or ESP to a peer (marker added for IPv4 messages). */
int net_send_msg(struct engine *e, struct peer *p, const uint8_t *msg, size_t len);
int net_send_esp(struct engine *e, struct peer *p, const uint8_t *esp, size_t len);
/* To an address we have no peer for (errors to unknown senders). */
int net_send_msg_to(struct engine *e, uint8_t family, const uint8_t *addr, uint16_t port,
		    const uint8_t *local, const uint8_t *msg, size_t len);
/* A packet from the TUN sent on in clear (opportunistic policy). */
int net_send_clear(struct engine *e, const uint8_t *pkt, size_t len, uint8_t family,
		   const uint8_t *dst);
/* Read what is waiting on fd and hand each datagram to the engine. */
void net_input(struct engine *e, int fd);

/* engine.c */
int eng_init(struct engine *e, const struct as_conf *conf, char *err, size_t errlen);
void eng_fini(struct engine *e);
void eng_tun_input(struct engine *e);
/* An outer datagram: AutoSEC message (marker stripped) or ESP. */
void eng_msg_input(struct engine *e, uint8_t family, const uint8_t *src, uint16_t sport,
		   const uint8_t *dst, const uint8_t *msg, size_t len);
void eng_esp_input(struct engine *e, uint8_t family, const uint8_t *src, uint16_t sport,
		   const uint8_t *dst, const uint8_t *esp, size_t len);
/* Timers: retransmissions, expiry; returns ms until the next deadline. */
int eng_tick(struct engine *e);
/* autosec-ctl show */
int eng_show(struct engine *e, int json, struct as_wbuf *out);

#endif
