/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The net step: the helper's outer sockets.  IPv4 is "VPN": one UDP socket
 * on port 4500 carries ESP-in-UDP (RFC 3948) and AutoSEC messages behind
 * the 12-octet marker (PROTOCOL.md 4.2).  IPv6 is native: raw sockets for
 * the AutoSEC next header and for ESP (50).  Every socket carries the
 * helper's own mark, so what it sends never comes back through the TUN.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "autosec/buf.h"
#include "autosec/conf.h"
#include "autosec/err.h"
#include "autosec/log.h"
#include "autosec/msg.h"
#include "engine.h"

#define NET_BUDGET 64 /* datagrams per wake-up and socket: keeps the loop fair */

static const uint8_t marker[AS_UDP_MARKER_LEN];

static int mark_socket(int fd, uint32_t mark)
{
	return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
}

static int open_sock(int family, int type, int proto, uint32_t mark, char *err, size_t errlen,
		     const char *what)
{
	int one = 1, fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", what, strerror(errno));
		return -1;
	}
	if (mark_socket(fd, mark) < 0) {
		snprintf(err, errlen, "cannot set mark 0x%x on %s: %s", mark, what, strerror(errno));
		close(fd);
		return -1;
	}
	if (family == AF_INET && type == SOCK_DGRAM)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (family == AF_INET6 && proto != IPPROTO_RAW)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	return fd;
}

int net_open(struct engine *e, char *err, size_t errlen)
{
	const struct as_conf *c = e->conf;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(c->port) };
	int one = 1;

	e->udp4 = e->raw6_msg = e->raw6_esp = e->raw4_out = e->raw6_out = -1;
	e->udp4 = open_sock(AF_INET, SOCK_DGRAM, 0, c->mark_out, err, errlen, "the IPv4 UDP socket");
	if (e->udp4 < 0)
		goto fail;
	setsockopt(e->udp4, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(e->udp4, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		snprintf(err, errlen, "cannot bind UDP port %u: %s", c->port, strerror(errno));
		goto fail;
	}
	e->raw6_msg = open_sock(AF_INET6, SOCK_RAW, (int)c->protocol, c->mark_out, err, errlen,
				"the IPv6 raw socket for AutoSEC messages");
	if (e->raw6_msg < 0)
		goto fail;
	e->raw6_esp = open_sock(AF_INET6, SOCK_RAW, IPPROTO_ESP, c->mark_out, err, errlen,
				"the IPv6 raw socket for ESP");
	if (e->raw6_esp < 0)
		goto fail;
	e->raw4_out = open_sock(AF_INET, SOCK_RAW, IPPROTO_RAW, c->mark_out, err, errlen,
				"the IPv4 raw socket for clear packets");
	if (e->raw4_out < 0)
		goto fail;
	e->raw6_out = open_sock(AF_INET6, SOCK_RAW, IPPROTO_RAW, c->mark_out, err, errlen,
				"the IPv6 raw socket for clear packets");
	if (e->raw6_out < 0)
		goto fail;
	return 0;
fail:
	net_close(e);
	return -1;
}

void net_close(struct engine *e)
{
	int *fds[] = { &e->udp4, &e->raw6_msg, &e->raw6_esp, &e->raw4_out, &e->raw6_out };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* One control message (the source address) into buf for sendmsg. */
static void put_cmsg(struct msghdr *m, void *buf, size_t cap, int level, int type, const void *data,
		     size_t len)
{
	struct cmsghdr *cm;

	m->msg_control = buf;
	m->msg_controllen = cap;
	cm = CMSG_FIRSTHDR(m);
	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), data, len);
}

/* sendmsg with our source address pinned, so replies leave from the address
 * the peer talks to (a server may have several). */
static int send_iov(struct engine *e, int fd, uint8_t family, const uint8_t *addr, uint16_t port,
		    const uint8_t *local, struct iovec *iov, int niov)
{
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} to;
	union {
		char b4[CMSG_SPACE(sizeof(struct in_pktinfo))];
		char b6[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cbuf;
	struct msghdr m = { .msg_name = &to, .msg_iov = iov, .msg_iovlen = (size_t)niov };

	memset(&to, 0, sizeof(to));
	memset(&cbuf, 0, sizeof(cbuf));
	if (family == 4) {
		struct in_pktinfo pi = { 0 };

		to.in.sin_family = AF_INET;
		to.in.sin_port = htons(port);
		memcpy(&to.in.sin_addr, addr, 4);
		m.msg_namelen = sizeof(to.in);
		if (local) {
			memcpy(&pi.ipi_spec_dst, local, 4);
			put_cmsg(&m, cbuf.b4, sizeof(cbuf.b4), IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		}
	} else {
		struct in6_pktinfo pi = { 0 };

		to.in6.sin6_family = AF_INET6;
		memcpy(&to.in6.sin6_addr, addr, 16);
		m.msg_namelen = sizeof(to.in6);
		if (local) {
			memcpy(&pi.ipi6_addr, local, 16);
			put_cmsg(&m, cbuf.b6, sizeof(cbuf.b6), IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
		}
	}
	if (sendmsg(fd, &m, 0) < 0) {
		char a[64];

		sa_addr_str(family, addr, a, sizeof(a));
		as_debug("send to %s failed: %s", a, strerror(errno));
		(void)e;
		return AS_E_IO;
	}
	return AS_OK;
}

int net_send_msg_to(struct engine *e, uint8_t family, const uint8_t *addr, uint16_t port,
		    const uint8_t *local, const uint8_t *msg, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)marker, .iov_len = sizeof(marker) },
		{ .iov_base = (void *)msg, .iov_len = len },
	};

	if (family == 4)
		return send_iov(e, e->udp4, 4, addr, port, local, iov, 2);
	return send_iov(e, e->raw6_msg, 6, addr, 0, local, iov + 1, 1);
}

int net_send_msg(struct engine *e, struct peer *p, const uint8_t *msg, size_t len)
{
	return net_send_msg_to(e, p->key.family, p->key.addr, p->port, p->key.local,
			       msg, len);
}

int net_send_esp(struct engine *e, struct peer *p, const uint8_t *esp, size_t len)
{
	struct iovec iov = { .iov_base = (void *)esp, .iov_len = len };

	if (p->key.family == 4)
		return send_iov(e, e->udp4, 4, p->key.addr, p->port, p->key.local,
				&iov, 1);
	return send_iov(e, e->raw6_esp, 6, p->key.addr, 0, p->key.local, &iov, 1);
}

int net_send_clear(struct engine *e, const uint8_t *pkt, size_t len, uint8_t family,
		   const uint8_t *dst)
{
	struct iovec iov = { .iov_base = (void *)pkt, .iov_len = len };

	/* the packet goes out with its own header; the kernel wants dst too */
	return send_iov(e, family == 4 ? e->raw4_out : e->raw6_out, family, dst, 0, NULL, &iov, 1);
}

static void input_one(struct engine *e, int fd, uint8_t *buf, size_t n, uint8_t family,
		      const uint8_t *src, uint16_t sport, const uint8_t *dst)
{
	struct as_rbuf r;
	uint32_t first = 0;
	const uint8_t *rest;
	size_t rest_len;

	e->st.net_in++;
	if (fd == e->raw6_msg) {
		eng_msg_input(e, family, src, sport, dst, buf, n);
		return;
	}
	if (fd == e->raw6_esp) {
		eng_esp_input(e, family, src, sport, dst, buf, n);
		return;
	}
	/* UDP 4500: keepalive, AutoSEC marker, IKE (not ours) or ESP */
	as_rbuf_init(&r, buf, n);
	if (n == 1)
		return; /* NAT keepalive, RFC 3948 2.3 */
	if (as_rbuf_peek_u32(&r, &first)) {
		e->st.net_bad++;
		return;
	}
	if (first == 0) {
		const uint8_t *m;

		if (as_rbuf_ptr(&r, &m, AS_UDP_MARKER_LEN) || memcmp(m, marker, AS_UDP_MARKER_LEN)) {
			e->st.net_bad++; /* an IKE message: not for us */
			return;
		}
		as_rbuf_rest(&r, &rest, &rest_len);
		eng_msg_input(e, family, src, sport, dst, rest, rest_len);
		return;
	}
	eng_esp_input(e, family, src, sport, dst, buf, n);
}

void net_input(struct engine *e, int fd)
{
	for (int i = 0; i < NET_BUDGET; i++) {
		union {
			struct sockaddr_in in;
			struct sockaddr_in6 in6;
		} from;
		char cbuf[256];
		struct iovec iov = { .iov_base = e->rx, .iov_len = sizeof(e->rx) };
		struct msghdr m = {
			.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		uint8_t src[16] = { 0 }, dst[16] = { 0 }, family;
		uint16_t sport = 0;
		struct cmsghdr *cm;
		ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);

		if (n < 0)
			return; /* EAGAIN, or an ICMP error reported on the socket */
		if (m.msg_flags & MSG_TRUNC) {
			e->st.net_bad++;
			continue;
		}
		if (from.in.sin_family == AF_INET) {
			family = 4;
			memcpy(src, &from.in.sin_addr, 4);
			sport = ntohs(from.in.sin_port);
		} else {
			family = 6;
			memcpy(src, &from.in6.sin6_addr, 16);
		}
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				memcpy(dst, &pi.ipi_addr, 4);
			} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				memcpy(dst, &pi.ipi6_addr, 16);
			}
		}
		input_one(e, fd, e->rx, (size_t)n, family, src, sport, dst);
	}
}
