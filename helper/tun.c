/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TUN device (/dev/net/tun).  Link settings, lookups and deletion go
 * through route.c's rtnetlink functions; this file only speaks the TUN
 * ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <net/if.h>

#include "autosec/err.h"
#include "autosec/route.h"
#include "autosec/tun.h"

#define TUN_PATH "/dev/net/tun"

static int tun_fail(int err, struct as_diag *d, const char *what, const char *name)
{
	char q[40];

	as_quote(q, sizeof(q), name, strlen(name));
	return as_diag_set(d, AS_E_IO, "%s \"%s\": %s", what, q, strerror(err));
}

/* TUNSETIFF on a fresh descriptor; *fd is the descriptor, open either way. */
static int tun_attach(const char *name, int *fd, struct ifreq *ifr)
{
	*fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return -1;
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, name, strlen(name));  /* < IFNAMSIZ: checked */
	ifr->ifr_flags = IFF_TUN | IFF_NO_PI;
	return ioctl(*fd, TUNSETIFF, ifr);
}

int as_tun_open(const char *name, unsigned mtu, int *fd, char ifname_out[16], struct as_diag *d)
{
	struct ifreq ifr;
	int tfd = -1, rc, e;
	bool v6;

	if (!fd || !ifname_out)
		return as_diag_set(d, AS_E_INVAL, "as_tun_open: no output given");
	*fd = -1;
	ifname_out[0] = '\0';
	rc = as_link_name_check(name, d);
	if (rc != AS_OK)
		return rc;
	if (mtu != 0 && (mtu < AS_TUN_MIN_MTU || mtu > AS_TUN_MAX_MTU))
		return as_diag_set(d, AS_E_INVAL, "TUN MTU %u is outside %u..%u (IPv6 needs %u)",
				   mtu, AS_TUN_MIN_MTU, AS_TUN_MAX_MTU, AS_TUN_MIN_MTU);

	/*
	 * At most: attach to a left-over device and find it persistent, then
	 * recreate; or find a TAP of that name, delete it, then create.
	 */
	for (int attempt = 0;; attempt++) {
		if (tun_attach(name, &tfd, &ifr) == 0) {
			struct ifreq got;

			/* a persistent device would outlive us with whatever
			 * addresses and routes it carries: make it ours alone,
			 * let it vanish, and create it afresh */
			memset(&got, 0, sizeof(got));
			if (ioctl(tfd, TUNGETIFF, &got) < 0) {
				e = errno;
				rc = tun_fail(e, d, "cannot query TUN device", name);
				goto fail;
			}
			if (!(got.ifr_flags & IFF_PERSIST))
				break;
			if (attempt >= 2 || ioctl(tfd, TUNSETPERSIST, 0) < 0) {
				e = attempt >= 2 ? EEXIST : errno;
				rc = tun_fail(e, d, "cannot recreate persistent TUN device", name);
				goto fail;
			}
			close(tfd);
			tfd = -1;
			continue;
		}
		e = errno;
		if (tfd < 0) {
			rc = as_diag_set(d, AS_E_IO, "cannot open %s: %s", TUN_PATH, strerror(e));
			goto fail;
		}
		close(tfd);
		tfd = -1;
		if (e == EBUSY) {
			rc = tun_fail(e, d, "another process is using TUN device", name);
			goto fail;
		}
		if (e == EINVAL && attempt < 2 && !strchr(name, '%')) {
			/* a device of that name exists but is not a TUN with
			 * our features: delete it only if it is a TUN/TAP */
			char kind[32];

			if (as_link_kind(name, kind, sizeof(kind), NULL) == AS_OK) {
				char q[40];

				if (strcmp(kind, "tun") != 0) {
					as_quote(q, sizeof(q), name, strlen(name));
					rc = as_diag_set(d, AS_E_IO, "interface \"%s\" "
							 "exists and is not a TUN device "
							 "(kind \"%s\")", q, kind);
					goto fail;
				}
				rc = as_link_del(name, d);
				if (rc != AS_OK)
					goto fail;
				continue;
			}
		}
		rc = tun_fail(e, d, "cannot create TUN device", name);
		goto fail;
	}
	memcpy(ifname_out, ifr.ifr_name, IFNAMSIZ);
	ifname_out[IFNAMSIZ - 1] = '\0';

	/*
	 * Before the link comes up: without an address generation mode the
	 * kernel would give the TUN a link-local address and we would read its
	 * DAD probes, router solicitations and MLD reports from the descriptor.
	 * IPv6 itself must stay on for the IPv6 routes through the TUN.
	 */
	v6 = access("/proc/sys/net/ipv6", F_OK) == 0;
	if (v6) {
		rc = as_link_sysctl(AF_INET6, ifname_out, "addr_gen_mode", "1", d);
		if (rc == AS_OK)
			rc = as_link_sysctl(AF_INET6, ifname_out, "accept_ra", "0", d);
		if (rc == AS_OK)
			rc = as_link_sysctl(AF_INET6, ifname_out, "disable_ipv6", "0", d);
		if (rc != AS_OK)
			goto fail;
	}
	rc = as_link_set(ifname_out, mtu, 1, d);
	if (rc != AS_OK)
		goto fail;
	*fd = tfd;
	return AS_OK;
fail:
	if (tfd >= 0)
		close(tfd);
	ifname_out[0] = '\0';
	return rc;
}

void as_tun_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
