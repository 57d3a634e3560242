/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Policy routing that brings packets to the helper's TUN (rtnetlink, libmnl).
 *
 * For each of IPv4 and IPv6 the helper installs
 *
 *   rule prio    fwmark mark_steer/mark_mask      lookup table_steer
 *   rule prio+1  not fwmark mark_out/mark_mask    lookup table_peers
 *   table_steer  default dev TUN
 *   table_peers  PEER/32 (PEER/128) dev TUN, one per peer, at run time
 *
 * - A socket the helper marked with mark_steer (the shim passed it over)
 *   sends everything to the TUN, whatever the destination, except local
 *   addresses: the kernel's "local" rule (priority 0) comes first.
 * - Any other packet to a peer the helper has an SA with also goes to the
 *   TUN (table_peers), so that replies of unmarked sockets are protected.
 * - The helper's own outer packets carry mark_out: the "not fwmark" rule
 *   skips table_peers for them and they follow the main table.  mark_out
 *   must therefore differ from mark_steer under mark_mask.
 * - A lookup in table_peers that finds no route falls through to the next
 *   rule (normally main, 32766), so an empty table_peers changes nothing.
 *
 * Rules live in the network namespace, not on the TUN, so they survive a
 * crash; as_route_setup first removes whatever an earlier run left.  Our
 * rules are recognised by priority (prio or prio+1) AND table (table_steer
 * or table_peers): a rule of someone else at the same priority but with
 * another table is never touched.  Both tables are ours entirely: every
 * route in them is removed by setup and teardown.
 *
 * Every call opens its own netlink socket, waits for the kernel's ACK of
 * each request and closes it: these run at start, exit, and when a peer is
 * added, never per packet.  They need CAP_NET_ADMIN in the namespace.
 * On a kernel without IPv6 (no /proc/sys/net/ipv6) the IPv6 half is skipped.
 *
 * Errors: AS_E_INVAL for a bad argument or configuration (nothing touched),
 * AS_E_IO when the kernel refuses; the diag then names the operation and
 * gives strerror, plus the kernel's extended-ACK text when it sent one, e.g.
 *   cannot add IPv4 rule pref 1000 fwmark 0x100/0xff00 lookup 4242:
 *   Operation not permitted
 */
#ifndef AUTOSEC_ROUTE_H
#define AUTOSEC_ROUTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>   /* AF_INET, AF_INET6 */

#include "autosec/err.h"

struct as_route_cfg {
	const char *ifname;   /* the TUN */
	uint32_t mark_steer;  /* (mark & mark_mask) == mark_steer: to the TUN */
	uint32_t mark_out;    /* the helper's own outer packets: never steered */
	uint32_t mark_mask;   /* non-zero; both marks lie inside it */
	uint32_t table_steer; /* "default dev TUN" for IPv4 and IPv6 */
	uint32_t table_peers; /* host routes "PEER dev TUN" */
	uint32_t prio;        /* rules at prio and prio+1; 1..32764 (before main) */
};

/*
 * Check c without touching the kernel: ifname valid, mark_mask != 0, both
 * marks inside the mask, mark_steer non-zero (a zero steer mark would send
 * every unmarked packet to the TUN) and different from mark_out, both
 * tables distinct and not 0 or a reserved table (252..255: compat, default,
 * main, local), prio in 1..32764.  AS_OK or AS_E_INVAL with a diag.
 */
int as_route_cfg_check(const struct as_route_cfg *c, struct as_diag *d);

/*
 * Idempotent, crash-safe install: remove an earlier run's rules (matched as
 * described above) and every route in both tables, then add both rules and
 * the default route in table_steer for IPv4 and IPv6, and set
 * net.ipv4.conf.<tun>.rp_filter = 0.  Note the kernel uses the larger of
 * conf.all.rp_filter and conf.<tun>.rp_filter: with all=1 (strict), packets
 * the helper injects from a peer that is not in table_peers are dropped;
 * all=2 (loose) or 0 is fine.  The TUN must exist and be up.
 * On failure whatever this call installed is removed again (best effort;
 * as_route_teardown may be called as well, it is harmless).
 */
int as_route_setup(const struct as_route_cfg *c, struct as_diag *d);

/*
 * Host route to one peer in table_peers: family AF_INET (addr: 4 bytes,
 * /32) or AF_INET6 (16 bytes, /128), "dev TUN".  Adding an existing route
 * replaces it (AS_OK).  The unspecified address is refused (AS_E_INVAL).
 */
int as_route_peer_add(const struct as_route_cfg *c, int family, const uint8_t *addr,
		      struct as_diag *d);
/* Remove that host route; a route that is not there is AS_OK. */
int as_route_peer_del(const struct as_route_cfg *c, int family, const uint8_t *addr);

/*
 * Remove our rules and every route of both tables, for IPv4 and IPv6.
 * Nothing there is AS_OK; it carries on after an error and returns the
 * first one.
 */
int as_route_teardown(const struct as_route_cfg *c);

/*
 * Set the MTU of ifname (mtu 0: leave it; else 68..65535) and bring it up
 * (up != 0) or down.  AS_E_INVAL for a bad name or MTU, AS_E_IO otherwise
 * (e.g. `no network interface "tun9": No such device`).
 */
int as_link_set(const char *ifname, unsigned mtu, int up, struct as_diag *d);

/*
 * The kind of link ifname ("tun" for TUN and TAP, "veth", ...; "" for a
 * device the kernel reports no kind for) into kind[cap].  AS_E_IO with
 * `no network interface "x": No such device` if there is none.
 */
int as_link_kind(const char *ifname, char *kind, size_t cap, struct as_diag *d);

/* Delete the link ifname (RTM_DELLINK).  AS_E_IO if the kernel refuses. */
int as_link_del(const char *ifname, struct as_diag *d);

/*
 * Write value into /proc/sys/net/{ipv4,ipv6}/conf/<ifname>/<key> (family
 * AF_INET or AF_INET6) of the caller's network namespace.
 */
int as_link_sysctl(int family, const char *ifname, const char *key, const char *value,
		   struct as_diag *d);

/* AS_OK if name is a valid interface name (1..15 bytes, not "." or "..",
 * no '/', ':' or white space), else AS_E_INVAL with a diag quoting it. */
int as_link_name_check(const char *name, struct as_diag *d);

#endif
