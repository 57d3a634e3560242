/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Policy rules, routes and link settings over rtnetlink (libmnl).
 *
 * Every public call opens one synchronous NETLINK_ROUTE socket, sends one
 * request at a time, reads until the kernel's ACK (or NLMSG_DONE for a
 * dump) and closes the socket.  The kernel's replies are still parsed
 * defensively: lengths through libmnl's checks and as_rbuf, attributes
 * through mnl_attr_parse with a per-type validation table, and anything
 * malformed is an error (EPROTO), never a guess.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/route.h"

/*
 * A dump reply may be as large as the kernel's biggest dump skb (32 KiB
 * since it grows with our receive buffer); a smaller buffer would make
 * recvmsg truncate it (ENOSPC from libmnl).
 */
#define NL_RXBUF 32768
/* Requests are small: a header, a fixed struct and a few attributes. */
#define NL_TXBUF 512
/* Rules or routes collected per dump pass before deleting them. */
#define NL_BATCH 64
/* A dump the kernel marks interrupted (NLM_F_DUMP_INTR: the list changed
 * meanwhile) is started again, this many times at most. */
#define NL_DUMP_RETRIES 5

/* ---- a synchronous rtnetlink conversation */

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	uint8_t *rx;
	bool stale;     /* an aborted dump may have left replies unread */
	char ext[160];  /* extended-ACK text of the last error, "" if none */
};

/* What the per-message callbacks of one request share. */
struct nl_call {
	struct nl *n;
	mnl_cb_t cb;    /* for data messages (type >= NLMSG_MIN_TYPE), may be NULL */
	void *arg;
	bool ended;     /* the ACK/error or NLMSG_DONE was read */
};

static int nl_sock_open(struct nl *n)
{
	/* the kernel always answers; this only bounds a bug's damage (a
	 * request without an ACK would otherwise block the helper forever) */
	struct timeval tmo = { .tv_sec = 10 };
	int one = 1;

	n->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!n->sock)
		return -1;
	if (mnl_socket_bind(n->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(n->sock);
		n->sock = NULL;
		errno = e;
		return -1;
	}
	/*
	 * Optional, so failures are ignored (older kernels): EXT_ACK gives the
	 * kernel's own sentence for a refusal, CAP_ACK keeps our request out of
	 * error replies, STRICT_CHK lets a route dump be filtered by table.
	 */
	mnl_socket_setsockopt(n->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(n->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(n->sock, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(n->sock), SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	n->portid = mnl_socket_get_portid(n->sock);
	n->stale = false;
	return 0;
}

static int nl_open(struct nl *n, struct as_diag *d)
{
	memset(n, 0, sizeof(*n));
	n->rx = malloc(NL_RXBUF);
	if (!n->rx)
		return as_diag_set(d, AS_E_NOMEM, "out of memory for a netlink buffer");
	if (nl_sock_open(n) < 0) {
		int e = errno;

		free(n->rx);
		n->rx = NULL;
		return as_diag_set(d, AS_E_IO, "cannot open a netlink socket: %s", strerror(e));
	}
	n->seq = (unsigned int)time(NULL);
	return AS_OK;
}

static void nl_close(struct nl *n)
{
	if (n->sock)
		mnl_socket_close(n->sock);
	free(n->rx);
	memset(n, 0, sizeof(*n));
}

/* Accept an attribute into tb[] if its type is known and its payload has
 * the size/shape the policy says; unknown (newer) types are skipped. */
struct nl_attrs {
	const enum mnl_attr_data_type *policy;
	uint16_t max;
	const struct nlattr **tb;
};

static int nl_attr_cb(const struct nlattr *a, void *data)
{
	const struct nl_attrs *t = data;
	uint16_t type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, t->max) < 0 || t->policy[type] == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	if (mnl_attr_validate(a, t->policy[type]) < 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	t->tb[type] = a;
	return MNL_CB_OK;
}

static const enum mnl_attr_data_type ext_ack_policy[NLMSGERR_ATTR_MAX + 1] = {
	[NLMSGERR_ATTR_MSG] = MNL_TYPE_NUL_STRING,
};

/*
 * NLMSG_ERROR (also the ACK, error 0):
 *
 *   struct nlmsghdr            (outer, flags may carry NLM_F_CAPPED, NLM_F_ACK_TLVS)
 *   int error                  0 or -errno
 *   struct nlmsghdr request    header of the request being answered
 *   [request payload]          absent when NLM_F_CAPPED
 *   [struct nlattr ...]        NLMSGERR_ATTR_* when NLM_F_ACK_TLVS
 */
static int nl_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_call *call = data;
	struct as_rbuf r;
	struct nlmsghdr req;
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { NULL };
	struct nl_attrs t = { ext_ack_policy, NLMSGERR_ATTR_MAX, tb };
	const uint8_t *p;
	size_t n;
	int err;

	as_rbuf_init(&r, mnl_nlmsg_get_payload(nlh), mnl_nlmsg_get_payload_len(nlh));
	if (as_rbuf_copy(&r, &err, sizeof(err)) != AS_OK) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	call->ended = true;
	if (err == 0)
		return MNL_CB_STOP;
	call->n->ext[0] = '\0';
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && as_rbuf_copy(&r, &req, sizeof(req)) == AS_OK) {
		size_t skip = 0;

		/* without CAPPED the whole request is echoed: its own length
		 * field says how much, and is checked before it is skipped */
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			skip = req.nlmsg_len >= sizeof(req) ?
			       req.nlmsg_len - sizeof(req) + ((4 - (req.nlmsg_len & 3)) & 3) :
			       SIZE_MAX;
		if (as_rbuf_skip(&r, skip) == AS_OK) {
			as_rbuf_rest(&r, &p, &n);
			if (n > 0 && mnl_attr_parse_payload(p, n, nl_attr_cb, &t) >= 0 &&
			    tb[NLMSGERR_ATTR_MSG]) {
				const char *msg = mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]);

				as_quote(call->n->ext, sizeof(call->n->ext), msg, strlen(msg));
			}
		}
	}
	/* an errno is small and negative; anything else is a broken reply */
	errno = (err < 0 && err > -4096) ? -err : EPROTO;
	return MNL_CB_ERROR;
}

/* NLMSG_DONE ends a dump; since Linux 4.x it carries the dump's error. */
static int nl_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_call *call = data;
	struct as_rbuf r;
	int err;

	call->ended = true;
	as_rbuf_init(&r, mnl_nlmsg_get_payload(nlh), mnl_nlmsg_get_payload_len(nlh));
	if (as_rbuf_copy(&r, &err, sizeof(err)) != AS_OK || err == 0)
		return MNL_CB_STOP;
	errno = (err < 0 && err > -4096) ? -err : EPROTO;
	return MNL_CB_ERROR;
}

static int nl_overrun_cb(const struct nlmsghdr *nlh, void *data)
{
	errno = ENOBUFS;
	return MNL_CB_ERROR;
}

static int nl_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_call *call = data;

	return call->cb ? call->cb(nlh, call->arg) : MNL_CB_OK;
}

/* libmnl takes the table without const; it is never written */
static mnl_cb_t nl_ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = nl_error_cb,
	[NLMSG_DONE] = nl_done_cb,
	[NLMSG_OVERRUN] = nl_overrun_cb,
};

/*
 * Send one request and run cb on each data message of the reply until the
 * ACK (a request: NLM_F_ACK is added) or NLMSG_DONE (a dump: NLM_F_DUMP is
 * added).  Which one is the caller's to say: the flag bits cannot tell, as
 * NLM_F_REPLACE|NLM_F_EXCL has the value of NLM_F_DUMP.  Returns 0, or -1
 * with errno (the kernel's error, or EPROTO for a malformed reply); n->ext
 * then holds any extended-ACK text.
 */
static int nl_run(struct nl *n, struct nlmsghdr *nlh, bool dump, mnl_cb_t cb, void *arg)
{
	struct nl_call call = { n, cb, arg, false };
	unsigned int seq = ++n->seq;
	int ret;

	n->ext[0] = '\0';
	/* rather than read and discard what an aborted dump left behind, start
	 * over on a fresh socket */
	if (n->stale || !n->sock) {
		if (n->sock)
			mnl_socket_close(n->sock);
		n->sock = NULL;
		if (nl_sock_open(n) < 0)
			return -1;
	}
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
	if (mnl_socket_sendto(n->sock, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		ssize_t len = mnl_socket_recvfrom(n->sock, n->rx, NL_RXBUF);

		if (len < 0) {
			n->stale = true;
			return -1;
		}
		ret = mnl_cb_run2(n->rx, (size_t)len, seq, n->portid, nl_data_cb, &call,
				  nl_ctl_cbs, NLMSG_MIN_TYPE);
	} while (ret > MNL_CB_STOP);
	if (ret < 0) {
		/* an error reply is the last message of its request, but a
		 * malformed message in the middle of a dump is not */
		if (!call.ended)
			n->stale = true;
		return -1;
	}
	return 0;
}

static int nl_talk(struct nl *n, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	return nl_run(n, nlh, false, cb, arg);
}

static int nl_dump(struct nl *n, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	return nl_run(n, nlh, true, cb, arg);
}

/* Record a failed netlink request in d: "<what>: <strerror> (kernel: <ext>)". */
static int nl_fail(const struct nl *n, int err, struct as_diag *d, const char *what)
{
	if (n->ext[0])
		return as_diag_set(d, AS_E_IO, "%s: %s (kernel: %s)", what, strerror(err), n->ext);
	return as_diag_set(d, AS_E_IO, "%s: %s", what, strerror(err));
}

/* ---- names and configuration */

int as_link_name_check(const char *name, struct as_diag *d)
{
	char q[80];
	size_t len;

	if (!name)
		return as_diag_set(d, AS_E_INVAL, "no interface name given");
	len = strnlen(name, IFNAMSIZ);
	as_quote(q, sizeof(q), name, strnlen(name, 64));
	if (len == 0)
		return as_diag_set(d, AS_E_INVAL, "empty interface name");
	if (len >= IFNAMSIZ)
		return as_diag_set(d, AS_E_INVAL, "interface name \"%s\" is longer than %d bytes",
				   q, IFNAMSIZ - 1);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return as_diag_set(d, AS_E_INVAL, "invalid interface name \"%s\"", q);
	/* the kernel's dev_valid_name() refuses '/', ':' and white space (they
	 * would also break /proc paths); control bytes are refused as well */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
			return as_diag_set(d, AS_E_INVAL, "invalid interface name \"%s\"", q);
	}
	return AS_OK;
}

static bool table_reserved(uint32_t t)
{
	return t == RT_TABLE_UNSPEC || t == RT_TABLE_COMPAT || t == RT_TABLE_DEFAULT ||
	       t == RT_TABLE_MAIN || t == RT_TABLE_LOCAL;
}

int as_route_cfg_check(const struct as_route_cfg *c, struct as_diag *d)
{
	int rc;

	if (!c)
		return as_diag_set(d, AS_E_INVAL, "no routing configuration given");
	rc = as_link_name_check(c->ifname, d);
	if (rc != AS_OK)
		return rc;
	if (c->mark_mask == 0)
		return as_diag_set(d, AS_E_INVAL, "fwmark mask is 0");
	if (c->mark_steer & ~c->mark_mask)
		return as_diag_set(d, AS_E_INVAL, "steering mark 0x%x lies outside mask 0x%x",
				   c->mark_steer, c->mark_mask);
	if (c->mark_out & ~c->mark_mask)
		return as_diag_set(d, AS_E_INVAL, "outer-packet mark 0x%x lies outside mask 0x%x",
				   c->mark_out, c->mark_mask);
	if (c->mark_steer == 0)
		return as_diag_set(d, AS_E_INVAL, "steering mark 0 would send every "
				   "unmarked packet to the TUN");
	if (c->mark_steer == c->mark_out)
		return as_diag_set(d, AS_E_INVAL, "steering mark and outer-packet mark "
				   "are both 0x%x", c->mark_out);
	if (table_reserved(c->table_steer))
		return as_diag_set(d, AS_E_INVAL, "routing table %u is reserved", c->table_steer);
	if (table_reserved(c->table_peers))
		return as_diag_set(d, AS_E_INVAL, "routing table %u is reserved", c->table_peers);
	if (c->table_steer == c->table_peers)
		return as_diag_set(d, AS_E_INVAL, "steering and peer tables are both %u",
				   c->table_steer);
	/* 0 is the "local" rule's; main is looked up at 32766 and our rules
	 * must come before it or they never match */
	if (c->prio == 0 || c->prio > 32764)
		return as_diag_set(d, AS_E_INVAL, "rule priority %u is outside 1..32764", c->prio);
	return AS_OK;
}

static const char *fam_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

static bool have_ipv6(void)
{
	return access("/proc/sys/net/ipv6", F_OK) == 0;
}

/* ---- links */

static const enum mnl_attr_data_type link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = MNL_TYPE_NUL_STRING,
	[IFLA_LINKINFO] = MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type linkinfo_policy[IFLA_INFO_MAX + 1] = {
	[IFLA_INFO_KIND] = MNL_TYPE_NUL_STRING,
};

struct link_info {
	int ifindex;
	char kind[32];  /* "tun", "veth", ... or "" for a device without rtnl ops */
};

/* RTM_NEWLINK reply: struct ifinfomsg, then IFLA_* attributes. */
static int link_info_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_info *li = data;
	const struct nlattr *tb[IFLA_MAX + 1] = { NULL };
	const struct nlattr *ti[IFLA_INFO_MAX + 1] = { NULL };
	struct nl_attrs t = { link_policy, IFLA_MAX, tb };
	struct nl_attrs ti_t = { linkinfo_policy, IFLA_INFO_MAX, ti };
	struct ifinfomsg ifi;
	struct as_rbuf r;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	as_rbuf_init(&r, mnl_nlmsg_get_payload(nlh), mnl_nlmsg_get_payload_len(nlh));
	if (as_rbuf_copy(&r, &ifi, sizeof(ifi)) != AS_OK ||
	    mnl_attr_parse(nlh, sizeof(ifi), nl_attr_cb, &t) < 0 || ifi.ifi_index <= 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	li->ifindex = ifi.ifi_index;
	if (tb[IFLA_LINKINFO]) {
		if (mnl_attr_parse_nested(tb[IFLA_LINKINFO], nl_attr_cb, &ti_t) < 0) {
			errno = EPROTO;
			return MNL_CB_ERROR;
		}
		if (ti[IFLA_INFO_KIND]) {
			const char *k = mnl_attr_get_str(ti[IFLA_INFO_KIND]);

			as_quote(li->kind, sizeof(li->kind), k, strlen(k));
		}
	}
	return MNL_CB_OK;
}

/* Look a link up by name: AS_OK, or AS_E_IO ("no network interface"). */
static int link_query(struct nl *n, const char *name, struct link_info *li, struct as_diag *d)
{
	uint32_t buf[NL_TXBUF / 4];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	char q[40];
	int e;

	memset(li, 0, sizeof(*li));
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (nl_talk(n, nlh, link_info_cb, li) < 0)
		e = errno;
	else if (li->ifindex <= 0)
		e = ENODEV;  /* ACKed without an answer: nothing of that name */
	else
		return AS_OK;
	as_quote(q, sizeof(q), name, strlen(name));
	if (e == ENODEV)
		return as_diag_set(d, AS_E_IO, "no network interface \"%s\": %s", q, strerror(e));
	return nl_fail(n, e, d, "cannot look up a network interface");
}

static int link_set(struct nl *n, const char *name, unsigned mtu, int up, struct as_diag *d)
{
	uint32_t buf[NL_TXBUF / 4];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	char q[40], what[96];
	int e;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	/* ifi_index 0 + IFLA_IFNAME, no NLM_F_CREATE: modify an existing
	 * device found by name, ENODEV if there is none */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (nl_talk(n, nlh, NULL, NULL) == 0)
		return AS_OK;
	e = errno;
	as_quote(q, sizeof(q), name, strlen(name));
	if (e == ENODEV)
		return as_diag_set(d, AS_E_IO, "no network interface \"%s\": %s", q, strerror(e));
	if (mtu)
		snprintf(what, sizeof(what), "cannot set MTU %u and bring %s link \"%s\"", mtu,
			 up ? "up" : "down", q);
	else
		snprintf(what, sizeof(what), "cannot bring %s link \"%s\"", up ? "up" : "down", q);
	return nl_fail(n, e, d, what);
}

int as_link_set(const char *ifname, unsigned mtu, int up, struct as_diag *d)
{
	struct nl n;
	int rc;

	rc = as_link_name_check(ifname, d);
	if (rc != AS_OK)
		return rc;
	if (mtu != 0 && (mtu < 68 || mtu > 65535))
		return as_diag_set(d, AS_E_INVAL, "MTU %u is outside 68..65535", mtu);
	rc = nl_open(&n, d);
	if (rc != AS_OK)
		return rc;
	rc = link_set(&n, ifname, mtu, up, d);
	nl_close(&n);
	return rc;
}

int as_link_kind(const char *ifname, char *kind, size_t cap, struct as_diag *d)
{
	struct link_info li;
	struct nl n;
	int rc;

	if (!kind || cap == 0)
		return as_diag_set(d, AS_E_INVAL, "as_link_kind: no output given");
	kind[0] = '\0';
	rc = as_link_name_check(ifname, d);
	if (rc != AS_OK)
		return rc;
	rc = nl_open(&n, d);
	if (rc != AS_OK)
		return rc;
	rc = link_query(&n, ifname, &li, d);
	if (rc == AS_OK)
		snprintf(kind, cap, "%s", li.kind);
	nl_close(&n);
	return rc;
}

int as_link_del(const char *ifname, struct as_diag *d)
{
	uint32_t buf[NL_TXBUF / 4];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nl n;
	char q[40];
	int rc;

	rc = as_link_name_check(ifname, d);
	if (rc != AS_OK)
		return rc;
	rc = nl_open(&n, d);
	if (rc != AS_OK)
		return rc;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	if (nl_talk(&n, nlh, NULL, NULL) < 0) {
		int e = errno;
		char what[80];

		as_quote(q, sizeof(q), ifname, strlen(ifname));
		snprintf(what, sizeof(what), "cannot delete interface \"%s\"", q);
		rc = nl_fail(&n, e, d, what);
	}
	nl_close(&n);
	return rc;
}

int as_link_sysctl(int family, const char *ifname, const char *key, const char *value,
		   struct as_diag *d)
{
	char path[160], q[40];
	size_t len;
	ssize_t w;
	int fd, rc, e;

	rc = as_link_name_check(ifname, d);
	if (rc != AS_OK)
		return rc;
	if (family != AF_INET && family != AF_INET6)
		return as_diag_set(d, AS_E_INVAL, "address family %d is not IPv4 or IPv6", family);
	if (!key || !*key || key[0] == '.' || strchr(key, '/') || !value)
		return as_diag_set(d, AS_E_INVAL, "invalid sysctl key");
	if ((size_t)snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s",
			     family == AF_INET ? "ipv4" : "ipv6", ifname, key) >= sizeof(path))
		return as_diag_set(d, AS_E_INVAL, "sysctl key too long");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		as_quote(q, sizeof(q), value, strlen(value));
		return as_diag_set(d, AS_E_IO, "cannot set %s to \"%s\": %s", path, q,
				   strerror(e));
	}
	len = strlen(value);
	w = write(fd, value, len);
	e = errno;
	close(fd);
	if (w < 0 || (size_t)w != len) {
		as_quote(q, sizeof(q), value, len);
		return as_diag_set(d, AS_E_IO, "cannot set %s to \"%s\": %s", path, q,
				   w < 0 ? strerror(e) : "short write");
	}
	return AS_OK;
}

/* ---- rules */

struct rule_key {
	uint8_t family;
	uint32_t flags;   /* FIB_RULE_INVERT or 0 */
	uint32_t prio;
	uint32_t table;
	uint32_t mark;
	uint32_t mask;
};

static void rule_describe(const struct rule_key *k, char *out, size_t cap)
{
	snprintf(out, cap, "%s rule pref %u %sfwmark 0x%x/0x%x lookup %u", fam_name(k->family),
		 k->prio, (k->flags & FIB_RULE_INVERT) ? "not " : "", k->mark, k->mask, k->table);
}

/*
 * RTM_NEWRULE / RTM_DELRULE:
 *   struct fib_rule_hdr { family, dst_len, src_len, tos, table (u8), res1,
 *                         res2, action, flags (u32) }
 *   FRA_PRIORITY u32, FRA_TABLE u32 (the table may exceed 255), FRA_FWMARK
 *   u32, FRA_FWMASK u32
 */
static int rule_req(struct nl *n, uint16_t type, const struct rule_key *k)
{
	uint32_t buf[NL_TXBUF / 4];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh;

	nlh->nlmsg_type = type;
	if (type == RTM_NEWRULE)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = k->family;
	frh->action = FR_ACT_TO_TBL;
	frh->table = k->table < 256 ? (uint8_t)k->table : RT_TABLE_UNSPEC;
	frh->flags = k->flags;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, k->prio);
	mnl_attr_put_u32(nlh, FRA_TABLE, k->table);
	mnl_attr_put_u32(nlh, FRA_FWMARK, k->mark);
	mnl_attr_put_u32(nlh, FRA_FWMASK, k->mask);
	return nl_talk(n, nlh, NULL, NULL);
}

static const enum mnl_attr_data_type rule_policy[FRA_MAX + 1] = {
	[FRA_PRIORITY] = MNL_TYPE_U32,
	[FRA_TABLE] = MNL_TYPE_U32,
	[FRA_FWMARK] = MNL_TYPE_U32,
	[FRA_FWMASK] = MNL_TYPE_U32,
};

struct rule_scan {
	const struct as_route_cfg *c;
	struct rule_key found[NL_BATCH];
	unsigned int n;
	bool more;  /* the batch filled up: scan again after deleting */
};

/* One rule of a dump: keep it if it is ours (priority and table). */
static int rule_scan_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule_scan *s = data;
	const struct nlattr *tb[FRA_MAX + 1] = { NULL };
	struct nl_attrs t = { rule_policy, FRA_MAX, tb };
	struct fib_rule_hdr frh;
	struct rule_key k;
	struct as_rbuf r;

	if (nlh->nlmsg_type != RTM_NEWRULE)
		return MNL_CB_OK;
	as_rbuf_init(&r, mnl_nlmsg_get_payload(nlh), mnl_nlmsg_get_payload_len(nlh));
	if (as_rbuf_copy(&r, &frh, sizeof(frh)) != AS_OK ||
	    mnl_attr_parse(nlh, sizeof(frh), nl_attr_cb, &t) < 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	memset(&k, 0, sizeof(k));
	k.family = frh.family;
	k.flags = frh.flags & FIB_RULE_INVERT;
	k.prio = tb[FRA_PRIORITY] ? mnl_attr_get_u32(tb[FRA_PRIORITY]) : 0;
	k.table = tb[FRA_TABLE] ? mnl_attr_get_u32(tb[FRA_TABLE]) : frh.table;
	k.mark = tb[FRA_FWMARK] ? mnl_attr_get_u32(tb[FRA_FWMARK]) : 0;
	k.mask = tb[FRA_FWMASK] ? mnl_attr_get_u32(tb[FRA_FWMASK]) : 0;
	if (frh.action != FR_ACT_TO_TBL || (k.prio != s->c->prio && k.prio != s->c->prio + 1) ||
	    (k.table != s->c->table_steer && k.table != s->c->table_peers))
		return MNL_CB_OK;
	if (s->n == NL_BATCH) {
		s->more = true;
		return MNL_CB_OK;
	}
	s->found[s->n++] = k;
	return MNL_CB_OK;
}

/* Delete every rule of ours for one family, whatever its marks. */
static int rules_remove(struct nl *n, const struct as_route_cfg *c, int family,
			struct as_diag *d)
{
	struct rule_scan s;
	char what[128];
	int interrupted = 0;

	do {
		uint32_t buf[NL_TXBUF / 4];
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct fib_rule_hdr *frh;
		unsigned int deleted = 0;

		memset(&s, 0, sizeof(s));
		s.c = c;
		nlh->nlmsg_type = RTM_GETRULE;
		frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
		frh->family = (uint8_t)family;
		if (nl_dump(n, nlh, rule_scan_cb, &s) < 0) {
			int e = errno;

			/* the rules changed under the dump: list them again */
			if (e == EINTR && ++interrupted < NL_DUMP_RETRIES) {
				s.more = true;
				continue;
			}
			snprintf(what, sizeof(what), "cannot list %s rules", fam_name(family));
			return nl_fail(n, e, d, what);
		}
		for (unsigned int i = 0; i < s.n; i++) {
			if (rule_req(n, RTM_DELRULE, &s.found[i]) == 0) {
				deleted++;
			} else if (errno != ENOENT) {
				int e = errno;
				char desc[96];

				rule_describe(&s.found[i], desc, sizeof(desc));
				snprintf(what, sizeof(what), "cannot delete %s", desc);
				return nl_fail(n, e, d, what);
			}
		}
		/* a full batch must shrink, or we would scan forever */
		if (s.more && deleted == 0)
			return as_diag_set(d, AS_E_IO, "cannot delete %s rules of priority %u",
					   fam_name(family), c->prio);
	} while (s.more);
	return AS_OK;
}

static int rules_add(struct nl *n, const struct as_route_cfg *c, int family, struct as_diag *d)
{
	/* the peers rule first: until the steering rule exists nothing is
	 * steered, so there is never a moment with a half-built path */
	const struct rule_key keys[2] = {
		{ (uint8_t)family, FIB_RULE_INVERT, c->prio + 1, c->table_peers, c->mark_out,
		  c->mark_mask },
		{ (uint8_t)family, 0, c->prio, c->table_steer, c->mark_steer, c->mark_mask },
	};
	char desc[96], what[128];

	for (unsigned int i = 0; i < 2; i++) {
		if (rule_req(n, RTM_NEWRULE, &keys[i]) < 0) {
			int e = errno;

			rule_describe(&keys[i], desc, sizeof(desc));
			snprintf(what, sizeof(what), "cannot add %s", desc);
			return nl_fail(n, e, d, what);
		}
	}
	return AS_OK;
}

/* ---- routes */

struct route_key {
	uint8_t family;
	uint8_t dst_len;
	uint8_t tos;
	uint8_t type;
	uint32_t table;
	uint32_t oif;       /* 0: not given */
	uint32_t metric;
	bool has_metric;
	uint8_t dst[16];    /* dst_len bits used */
};

static void route_describe(const struct route_key *k, const char *ifname, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "";

	if (k->dst_len == 0)
		snprintf(a, sizeof(a), "default");
	else if (!inet_ntop(k->family, k->dst, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (k->dst_len == 0 || k->dst_len == (k->family == AF_INET ? 32 : 128))
		snprintf(out, cap, "%s route %s%s%s table %u", fam_name(k->family), a,
			 ifname ? " dev " : "", ifname ? ifname : "", k->table);
	else
		snprintf(out, cap, "%s route %s/%u table %u", fam_name(k->family), a, k->dst_len,
			 k->table);
}

/*
 * RTM_NEWROUTE / RTM_DELROUTE:
 *   struct rtmsg { family, dst_len, src_len, tos, table (u8), protocol,
 *                  scope, type, flags (u32) }
 *   RTA_DST (4 or 16 bytes), RTA_TABLE u32, RTA_OIF u32, RTA_PRIORITY u32
 */
static int route_req(struct nl *n, uint16_t type, const struct route_key *k)
{
	uint32_t buf[NL_TXBUF / 4];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	if (type == RTM_NEWROUTE)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = k->family;
	rtm->rtm_dst_len = k->dst_len;
	rtm->rtm_tos = k->tos;
	rtm->rtm_table = k->table < 256 ? (uint8_t)k->table : RT_TABLE_UNSPEC;
	rtm->rtm_type = k->type;
	if (type == RTM_NEWROUTE) {
		rtm->rtm_protocol = RTPROT_STATIC;
		/* a route straight onto the device, no gateway: link scope,
		 * as `ip route add ... dev X` does (IPv6 ignores scope) */
		rtm->rtm_scope = k->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	} else {
		rtm->rtm_scope = RT_SCOPE_NOWHERE;  /* any scope */
	}
	if (k->dst_len)
		mnl_attr_put(nlh, RTA_DST, k->family == AF_INET ? 4 : 16, k->dst);
	mnl_attr_put_u32(nlh, RTA_TABLE, k->table);
	if (k->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, k->oif);
	if (k->has_metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, k->metric);
	return nl_talk(n, nlh, NULL, NULL);
}

static const enum mnl_attr_data_type route_policy[RTA_MAX + 1] = {
	[RTA_DST] = MNL_TYPE_BINARY,
	[RTA_TABLE] = MNL_TYPE_U32,
	[RTA_OIF] = MNL_TYPE_U32,
	[RTA_PRIORITY] = MNL_TYPE_U32,
};

struct route_scan {
	int family;
	uint32_t table;
	struct route_key found[NL_BATCH];
	unsigned int n;
	bool more;
};

static int route_scan_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_scan *s = data;
	const struct nlattr *tb[RTA_MAX + 1] = { NULL };
	struct nl_attrs t = { route_policy, RTA_MAX, tb };
	struct route_key k;
	struct rtmsg rtm;
	struct as_rbuf r;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	as_rbuf_init(&r, mnl_nlmsg_get_payload(nlh), mnl_nlmsg_get_payload_len(nlh));
	if (as_rbuf_copy(&r, &rtm, sizeof(rtm)) != AS_OK ||
	    mnl_attr_parse(nlh, sizeof(rtm), nl_attr_cb, &t) < 0)
		goto bad;
	memset(&k, 0, sizeof(k));
	k.table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm.rtm_table;
	/* without strict checking the kernel dumps every table */
	if (rtm.rtm_family != s->family || k.table != s->table)
		return MNL_CB_OK;
	alen = s->family == AF_INET ? 4 : 16;
	if (rtm.rtm_dst_len > alen * 8)
		goto bad;
	k.family = rtm.rtm_family;
	k.dst_len = rtm.rtm_dst_len;
	k.tos = rtm.rtm_tos;
	k.type = rtm.rtm_type;
	if (tb[RTA_DST]) {
		if (mnl_attr_get_payload_len(tb[RTA_DST]) != alen)
			goto bad;
		memcpy(k.dst, mnl_attr_get_payload(tb[RTA_DST]), alen);
	} else if (k.dst_len) {
		goto bad;
	}
	if (tb[RTA_OIF])
		k.oif = mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_PRIORITY]) {
		k.metric = mnl_attr_get_u32(tb[RTA_PRIORITY]);
		k.has_metric = true;
	}
	if (s->n == NL_BATCH) {
		s->more = true;
		return MNL_CB_OK;
	}
	s->found[s->n++] = k;
	return MNL_CB_OK;
bad:
	errno = EPROTO;
	return MNL_CB_ERROR;
}

/* Delete every route of one table and family. */
static int table_flush(struct nl *n, int family, uint32_t table, struct as_diag *d)
{
	struct route_scan *s;
	char what[128], desc[96];
	int rc = AS_OK, interrupted = 0;

	s = malloc(sizeof(*s));
	if (!s)
		return as_diag_set(d, AS_E_NOMEM, "out of memory");
	do {
		uint32_t buf[NL_TXBUF / 4];
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct rtmsg *rtm;
		unsigned int deleted = 0;

		memset(s, 0, sizeof(*s));
		s->family = family;
		s->table = table;
		nlh->nlmsg_type = RTM_GETROUTE;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = (uint8_t)family;
		/* honoured with NETLINK_GET_STRICT_CHK, ignored otherwise */
		mnl_attr_put_u32(nlh, RTA_TABLE, table);
		if (nl_dump(n, nlh, route_scan_cb, s) < 0) {
			int e = errno;

			/* a strict dump of a table that does not exist (yet) */
			if (e == ENOENT)
				break;
			if (e == EINTR && ++interrupted < NL_DUMP_RETRIES) {
				s->more = true;
				continue;
			}
			snprintf(what, sizeof(what), "cannot list %s routes of table %u",
				 fam_name(family), table);
			rc = nl_fail(n, e, d, what);
			goto out;
		}
		for (unsigned int i = 0; i < s->n; i++) {
			if (route_req(n, RTM_DELROUTE, &s->found[i]) == 0) {
				deleted++;
			} else if (errno != ESRCH && errno != ENOENT) {
				int e = errno;

				route_describe(&s->found[i], NULL, desc, sizeof(desc));
				snprintf(what, sizeof(what), "cannot delete %s", desc);
				rc = nl_fail(n, e, d, what);
				goto out;
			}
		}
		if (s->more && deleted == 0) {
			rc = as_diag_set(d, AS_E_IO, "cannot flush %s routing table %u",
					 fam_name(family), table);
			goto out;
		}
	} while (s->more);
out:
	free(s);
	return rc;
}

static int route_add(struct nl *n, const struct route_key *k, const char *ifname,
		     struct as_diag *d)
{
	char desc[128], what[160];
	int e;

	if (route_req(n, RTM_NEWROUTE, k) == 0)
		return AS_OK;
	e = errno;
	route_describe(k, ifname, desc, sizeof(desc));
	snprintf(what, sizeof(what), "cannot add %s", desc);
	return nl_fail(n, e, d, what);
}

/* ---- the public operations */

static int teardown_family(struct nl *n, const struct as_route_cfg *c, int family,
			   struct as_diag *d)
{
	int rc;

	/* rules first: once they are gone the tables are unreachable */
	rc = rules_remove(n, c, family, d);
	if (rc == AS_OK)
		rc = table_flush(n, family, c->table_steer, d);
	if (rc == AS_OK)
		rc = table_flush(n, family, c->table_peers, d);
	return rc;
}

int as_route_setup(const struct as_route_cfg *c, struct as_diag *d)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	unsigned int nfam = have_ipv6() ? 2 : 1;
	struct link_info li;
	struct nl n;
	int rc;

	rc = as_route_cfg_check(c, d);
	if (rc != AS_OK)
		return rc;
	rc = nl_open(&n, d);
	if (rc != AS_OK)
		return rc;
	rc = link_query(&n, c->ifname, &li, d);
	if (rc != AS_OK)
		goto out;
	for (unsigned int i = 0; i < nfam && rc == AS_OK; i++)
		rc = teardown_family(&n, c, fams[i], d);
	for (unsigned int i = 0; i < nfam && rc == AS_OK; i++) {
		struct route_key k = {
			.family = (uint8_t)fams[i],
			.type = RTN_UNICAST,
			.table = c->table_steer,
			.oif = (uint32_t)li.ifindex,
		};

		rc = route_add(&n, &k, c->ifname, d);
		if (rc == AS_OK)
			rc = rules_add(&n, c, fams[i], d);
	}
	/*
	 * Injected inner packets arrive on the TUN from addresses that the
	 * main table routes elsewhere: strict reverse-path filtering on the
	 * TUN would drop them.  Router advertisements never come from a TUN.
	 */
	if (rc == AS_OK)
		rc = as_link_sysctl(AF_INET, c->ifname, "rp_filter", "0", d);
	if (rc == AS_OK && nfam == 2)
		rc = as_link_sysctl(AF_INET6, c->ifname, "accept_ra", "0", d);
	/* leave nothing half-built behind (best effort: d keeps the cause) */
	if (rc != AS_OK)
		for (unsigned int i = 0; i < nfam; i++)
			teardown_family(&n, c, fams[i], NULL);
out:
	nl_close(&n);
	return rc;
}

int as_route_teardown(const struct as_route_cfg *c)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	unsigned int nfam = have_ipv6() ? 2 : 1;
	struct nl n;
	int rc, first = AS_OK;

	rc = as_route_cfg_check(c, NULL);
	if (rc != AS_OK)
		return rc;
	rc = nl_open(&n, NULL);
	if (rc != AS_OK)
		return rc;
	for (unsigned int i = 0; i < nfam; i++) {
		rc = rules_remove(&n, c, fams[i], NULL);
		if (first == AS_OK)
			first = rc;
		rc = table_flush(&n, fams[i], c->table_steer, NULL);
		if (first == AS_OK)
			first = rc;
		rc = table_flush(&n, fams[i], c->table_peers, NULL);
		if (first == AS_OK)
			first = rc;
	}
	nl_close(&n);
	return first;
}

static int peer_key(const struct as_route_cfg *c, int family, const uint8_t *addr,
		    struct route_key *k, struct as_diag *d)
{
	static const uint8_t zero[16];
	size_t alen;
	int rc;

	rc = as_route_cfg_check(c, d);
	if (rc != AS_OK)
		return rc;
	if (family != AF_INET && family != AF_INET6)
		return as_diag_set(d, AS_E_INVAL, "address family %d is not IPv4 or IPv6", family);
	if (!addr)
		return as_diag_set(d, AS_E_INVAL, "no peer address given");
	alen = family == AF_INET ? 4 : 16;
	if (!memcmp(addr, zero, alen))
		return as_diag_set(d, AS_E_INVAL, "the unspecified %s address is not a peer",
				   fam_name(family));
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)family;
	k->dst_len = (uint8_t)(alen * 8);
	k->type = RTN_UNICAST;
	k->table = c->table_peers;
	memcpy(k->dst, addr, alen);
	return AS_OK;
}

int as_route_peer_add(const struct as_route_cfg *c, int family, const uint8_t *addr,
		      struct as_diag *d)
{
	struct route_key k;
	struct link_info li;
	struct nl n;
	int rc;

	rc = peer_key(c, family, addr, &k, d);
	if (rc != AS_OK)
		return rc;
	rc = nl_open(&n, d);
	if (rc != AS_OK)
		return rc;
	rc = link_query(&n, c->ifname, &li, d);
	if (rc == AS_OK) {
		k.oif = (uint32_t)li.ifindex;
		rc = route_add(&n, &k, c->ifname, d);
	}
	nl_close(&n);
	return rc;
}

int as_route_peer_del(const struct as_route_cfg *c, int family, const uint8_t *addr)
{
	struct route_key k;
	struct nl n;
	int rc;

	rc = peer_key(c, family, addr, &k, NULL);
	if (rc != AS_OK)
		return rc;
	rc = nl_open(&n, NULL);
	if (rc != AS_OK)
		return rc;
	/* by destination and table alone: the TUN may already be gone, and
	 * with it the route (ESRCH), which is the state we want anyway */
	if (route_req(&n, RTM_DELROUTE, &k) < 0 && errno != ESRCH && errno != ENOENT)
		rc = AS_E_IO;
	nl_close(&n);
	return rc;
}
