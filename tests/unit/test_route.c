/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TUN device and policy routing, checked against the real kernel.
 *
 * Every test first moves into a network namespace of its own (Check runs
 * each test in a forked child, so the namespace dies with it and with it
 * every device, rule and route).  Nothing here ever touches the namespace
 * the test program was started in: if unshare() is refused the test fails
 * at once, it does not fall back.  Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN)
 * and iproute2's `ip`, whose view of the kernel is compared with ours.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>

#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/route.h"
#include "autosec/tun.h"
#include "testutil.h"

#define TUN "astest0"

static const struct as_route_cfg cfg = {
	.ifname = TUN,
	.mark_steer = 0x100,
	.mark_out = 0x200,
	.mark_mask = 0xff00,
	.table_steer = 4242,
	.table_peers = 4243,
	.prio = 1000,
};

/* `ip -j rule show` spells our two rules exactly like this. */
#define RULE_STEER "\"priority\":1000,\"src\":\"all\",\"fwmark\":\"0x100\"," \
		   "\"fwmask\":\"0xff00\",\"table\":\"4242\""
#define RULE_PEERS "\"priority\":1001,\"not\":null,\"src\":\"all\",\"fwmark\":\"0x200\"," \
		   "\"fwmask\":\"0xff00\",\"table\":\"4243\""

static void enter_netns(void)
{
	int r = unshare(CLONE_NEWNET);

	ck_assert_msg(r == 0, "unshare(CLONE_NEWNET) failed: %s -- these tests need root and "
		      "must never run in the host's namespace", strerror(errno));
}

/* Run a shell command; its stdout (and stderr), malloc'ed.  *status: exit code. */
static char *run(const char *cmd, int *status)
{
	char full[512], *out;
	size_t len = 0, cap = 4096;
	FILE *f;
	int st;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	f = popen(full, "r");
	ck_assert_msg(f != NULL, "popen(%s): %s", cmd, strerror(errno));
	out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	for (;;) {
		size_t n;

		if (cap - len < 1024) {
			cap *= 2;
			out = realloc(out, cap);
			ck_assert_ptr_nonnull(out);
		}
		n = fread(out + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	out[len] = '\0';
	st = pclose(f);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

/* Run a command that must succeed. */
static void sh(const char *cmd)
{
	int st;
	char *out = run(cmd, &st);

	ck_assert_msg(st == 0, "`%s` failed (%d): %s", cmd, st, out);
	free(out);
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* How often needle occurs in the output of cmd. */
static unsigned count_in(const char *cmd, const char *needle)
{
	char *out = run(cmd, NULL);
	unsigned n = count(out, needle);

	free(out);
	return n;
}

/* The device `ip route get <args>` picks, "" if none (unreachable). */
static void route_dev(const char *args, char *dev, size_t cap)
{
	char cmd[256], *out, *p, *e;

	snprintf(cmd, sizeof(cmd), "ip -j route get %s", args);
	out = run(cmd, NULL);
	dev[0] = '\0';
	p = strstr(out, "\"dev\":\"");
	if (p) {
		p += 7;
		e = strchr(p, '"');
		if (e && (size_t)(e - p) < cap) {
			memcpy(dev, p, (size_t)(e - p));
			dev[e - p] = '\0';
		}
	}
	free(out);
}

#define ck_route_dev(args, want)                                                     \
	do {                                                                         \
		char dev_[IFNAMSIZ + 8];                                             \
		route_dev(args, dev_, sizeof(dev_));                                 \
		ck_assert_msg(!strcmp(dev_, want), "ip route get %s: dev \"%s\", want \"%s\"", \
			      args, dev_, want);                                     \
	} while (0)

static void read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
}

static int open_tun(void)
{
	struct as_diag d = { 0 };
	char name[16];
	int fd = -1, rc;

	rc = as_tun_open(TUN, 1400, &fd, name, &d);
	ck_assert_msg(rc == AS_OK, "as_tun_open: %s", as_diag_msg(&d, rc));
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(name, TUN);
	return fd;
}

static void setup_ok(void)
{
	struct as_diag d = { 0 };
	int rc = as_route_setup(&cfg, &d);

	ck_assert_msg(rc == AS_OK, "as_route_setup: %s", as_diag_msg(&d, rc));
}

static void peer_add_ok(int family, const char *text)
{
	uint8_t a[16];
	struct as_diag d = { 0 };
	int rc;

	ck_assert_int_eq(inet_pton(family, text, a), 1);
	rc = as_route_peer_add(&cfg, family, a, &d);
	ck_assert_msg(rc == AS_OK, "as_route_peer_add %s: %s", text, as_diag_msg(&d, rc));
}

/* Exactly one copy of each of our rules and default routes, v4 and v6. */
static void assert_installed(void)
{
	ck_assert_uint_eq(count_in("ip -j rule show", RULE_STEER), 1);
	ck_assert_uint_eq(count_in("ip -j rule show", RULE_PEERS), 1);
	ck_assert_uint_eq(count_in("ip -6 -j rule show", RULE_STEER), 1);
	ck_assert_uint_eq(count_in("ip -6 -j rule show", RULE_PEERS), 1);
	ck_assert_uint_eq(count_in("ip -j route show table 4242", "\"dst\":\"default\""), 1);
	ck_assert_uint_eq(count_in("ip -j route show table 4242", "\"dev\":\"" TUN "\""), 1);
	ck_assert_uint_eq(count_in("ip -6 -j route show table 4242", "\"dst\":\"default\""), 1);
	ck_assert_uint_eq(count_in("ip -6 -j route show table 4242", "\"dev\":\"" TUN "\""), 1);
}

/* None of our rules (by table) and both tables empty, v4 and v6. */
static void assert_removed(void)
{
	ck_assert_uint_eq(count_in("ip -j rule show", "\"table\":\"4242\""), 0);
	ck_assert_uint_eq(count_in("ip -j rule show", "\"table\":\"4243\""), 0);
	ck_assert_uint_eq(count_in("ip -6 -j rule show", "\"table\":\"4242\""), 0);
	ck_assert_uint_eq(count_in("ip -6 -j rule show", "\"table\":\"4243\""), 0);
	ck_assert_uint_eq(count_in("ip -j route show table 4242", "\"dst\""), 0);
	ck_assert_uint_eq(count_in("ip -j route show table 4243", "\"dst\""), 0);
	ck_assert_uint_eq(count_in("ip -6 -j route show table 4242", "\"dst\""), 0);
	ck_assert_uint_eq(count_in("ip -6 -j route show table 4243", "\"dst\""), 0);
}

/* A second link with default routes in main, so that "not the TUN" is a
 * positive answer (vtest0) rather than an unreachable route. */
static void add_other_link(void)
{
	sh("ip link add vtest0 type veth peer name vtest1");
	sh("ip link set vtest0 up && ip link set vtest1 up");
	sh("ip addr add 10.0.0.1/8 dev vtest0");
	sh("ip route add default dev vtest0");
	sh("ip -6 route add default dev vtest0");
}

/* ---- TUN device */

START_TEST(tun_open_sets_mtu_flags_and_quiet_ipv6)
{
	struct ifreq ifr;
	char buf[64], name[16];
	struct as_diag d = { 0 };
	int fd, s, fd2 = -1, rc;

	enter_netns();
	fd = open_tun();
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, TUN, sizeof(TUN));
	ck_assert_int_eq(ioctl(s, SIOCGIFMTU, &ifr), 0);
	ck_assert_int_eq(ifr.ifr_mtu, 1400);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ck_assert(ifr.ifr_flags & IFF_UP);
	ck_assert(ifr.ifr_flags & IFF_POINTOPOINT);   /* a TUN, not a TAP */
	ck_assert(ifr.ifr_flags & IFF_NOARP);
	read_file("/proc/sys/net/ipv6/conf/" TUN "/addr_gen_mode", buf, sizeof(buf));
	ck_assert_str_eq(buf, "1");
	read_file("/proc/sys/net/ipv6/conf/" TUN "/accept_ra", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0");
	/* no link-local address: nothing for DAD/MLD/RS to talk about */
	ck_assert_uint_eq(count_in("ip -6 -j addr show dev " TUN, "fe80"), 0);
	ck_assert_uint_eq(count_in("ip -d -j link show dev " TUN, "\"type\":\"tun\""), 1);
	ck_assert_uint_eq(count_in("ip -d -j link show dev " TUN, "\"pi\":false"), 1);
	ck_assert_uint_eq(count_in("ip -d -j link show dev " TUN, "\"persist\":false"), 1);

	/* the device lives exactly as long as the descriptor */
	as_tun_close(fd);
	ck_assert_uint_eq(if_nametoindex(TUN), 0);
	as_tun_close(-1);

	/* mtu 0 keeps the kernel's default; a "%d" template gets a real name */
	rc = as_tun_open("astmp%d", 0, &fd2, name, &d);
	ck_assert_msg(rc == AS_OK, "%s", as_diag_msg(&d, rc));
	ck_assert_str_eq(name, "astmp0");
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "astmp0", 7);
	ck_assert_int_eq(ioctl(s, SIOCGIFMTU, &ifr), 0);
	ck_assert_int_eq(ifr.ifr_mtu, 1500);
	as_tun_close(fd2);
	close(s);
}
END_TEST

START_TEST(tun_open_recreates_leftovers)
{
	struct as_diag d = { 0 };
	char name[16];
	int fd, rc;

	enter_netns();
	/* a persistent TUN with an address: taken over and recreated clean */
	sh("ip tuntap add name " TUN " mode tun");
	sh("ip addr add 10.77.0.1/24 dev " TUN);
	fd = open_tun();
	ck_assert_uint_eq(count_in("ip -j addr show dev " TUN, "10.77.0.1"), 0);
	ck_assert_uint_eq(count_in("ip -d -j link show dev " TUN, "\"persist\":false"), 1);
	as_tun_close(fd);
	ck_assert_uint_eq(if_nametoindex(TUN), 0);

	/* a persistent TAP of that name: deleted, a TUN comes back */
	sh("ip tuntap add name " TUN " mode tap");
	fd = open_tun();
	ck_assert_uint_eq(count_in("ip -d -j link show dev " TUN, "\"type\":\"tun\""), 1);
	ck_assert_uint_eq(count_in("ip -d -j link show dev " TUN, "\"persist\":false"), 1);
	as_tun_close(fd);
	ck_assert_uint_eq(if_nametoindex(TUN), 0);

	/* something else of that name is never deleted */
	sh("ip link add " TUN " type veth peer name vtest1");
	fd = 77;
	rc = as_tun_open(TUN, 1400, &fd, name, &d);
	ck_assert_int_eq(rc, AS_E_IO);
	ck_assert_int_eq(fd, -1);
	ck_assert_str_eq(d.msg, "interface \"" TUN "\" exists and is not a TUN device "
			 "(kind \"veth\")");
	ck_assert_uint_ne(if_nametoindex(TUN), 0);
}
END_TEST

START_TEST(tun_open_in_use_is_refused)
{
	struct as_diag d = { 0 };
	char name[16];
	int fd, fd2 = -1, rc;

	enter_netns();
	fd = open_tun();
	rc = as_tun_open(TUN, 1400, &fd2, name, &d);
	ck_assert_int_eq(rc, AS_E_IO);
	ck_assert_int_eq(fd2, -1);
	ck_assert_str_eq(d.msg, "another process is using TUN device \"" TUN "\": "
			 "Device or resource busy");
	/* and the owner's device is untouched */
	ck_assert_uint_eq(count_in("ip -j link show dev " TUN, "\"UP\""), 1);
	as_tun_close(fd);
}
END_TEST

START_TEST(tun_open_bad_arguments)
{
	struct as_diag d = { 0 };
	char name[16];
	int fd = 5, rc;

	enter_netns();
	rc = as_tun_open("abcdefghijklmnop", 1400, &fd, name, &d);
	ck_assert_int_eq(rc, AS_E_INVAL);
	ck_assert_int_eq(fd, -1);
	ck_assert_str_eq(d.msg, "interface name \"abcdefghijklmnop\" is longer than 15 bytes");
	ck_assert_int_eq(as_tun_open("", 1400, &fd, name, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "empty interface name");
	ck_assert_int_eq(as_tun_open("a/b", 1400, &fd, name, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "invalid interface name \"a/b\"");
	ck_assert_int_eq(as_tun_open("a b", 1400, &fd, name, &d), AS_E_INVAL);
	ck_assert_int_eq(as_tun_open("..", 1400, &fd, name, &d), AS_E_INVAL);
	ck_assert_int_eq(as_tun_open("bad\x01", 1400, &fd, name, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "invalid interface name \"bad\\x01\"");
	ck_assert_int_eq(as_tun_open(NULL, 1400, &fd, name, &d), AS_E_INVAL);
	ck_assert_int_eq(as_tun_open(TUN, 1279, &fd, name, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "TUN MTU 1279 is outside 1280..65535 (IPv6 needs 1280)");
	ck_assert_int_eq(as_tun_open(TUN, 65536, &fd, name, &d), AS_E_INVAL);
	ck_assert_int_eq(as_tun_open(TUN, 1400, NULL, name, &d), AS_E_INVAL);
	ck_assert_int_eq(as_tun_open(TUN, 1400, &fd, NULL, &d), AS_E_INVAL);
	/* nothing was created by any of them */
	ck_assert_uint_eq(if_nametoindex(TUN), 0);
}
END_TEST

/* ---- link settings */

START_TEST(link_set_and_errors)
{
	struct as_diag d = { 0 };
	char kind[32];
	int fd, rc;

	enter_netns();
	fd = open_tun();
	rc = as_link_set(TUN, 1300, 0, &d);
	ck_assert_msg(rc == AS_OK, "%s", as_diag_msg(&d, rc));
	ck_assert_uint_eq(count_in("ip -j link show dev " TUN, "\"mtu\":1300"), 1);
	ck_assert_uint_eq(count_in("ip -j link show dev " TUN, "\"UP\""), 0);
	ck_assert_int_eq(as_link_set(TUN, 0, 1, &d), AS_OK);
	ck_assert_uint_eq(count_in("ip -j link show dev " TUN, "\"mtu\":1300"), 1);
	ck_assert_uint_eq(count_in("ip -j link show dev " TUN, "\"UP\""), 1);
	ck_assert_int_eq(as_link_kind(TUN, kind, sizeof(kind), &d), AS_OK);
	ck_assert_str_eq(kind, "tun");

	rc = as_link_set("nosuch0", 1400, 1, &d);
	ck_assert_int_eq(rc, AS_E_IO);
	ck_assert_str_eq(d.msg, "no network interface \"nosuch0\": No such device");
	ck_assert_int_eq(as_link_kind("nosuch0", kind, sizeof(kind), &d), AS_E_IO);
	ck_assert_str_eq(d.msg, "no network interface \"nosuch0\": No such device");
	ck_assert_int_eq(as_link_set("waytoolongname0123", 1400, 1, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "interface name \"waytoolongname0123\" is longer than 15 bytes");
	ck_assert_int_eq(as_link_set(TUN, 67, 1, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "MTU 67 is outside 68..65535");
	ck_assert_int_eq(as_link_sysctl(AF_INET, TUN, "../../all/forwarding", "1", &d),
			 AS_E_INVAL);
	ck_assert_int_eq(as_link_sysctl(AF_INET, "nosuch0", "rp_filter", "0", &d), AS_E_IO);
	ck_assert_str_eq(d.msg, "cannot set /proc/sys/net/ipv4/conf/nosuch0/rp_filter to "
			 "\"0\": No such file or directory");
	as_tun_close(fd);
}
END_TEST

/* ---- policy routing */

START_TEST(setup_installs_rules_and_routes)
{
	char buf[16];
	int fd;

	enter_netns();
	/* new devices inherit strict filtering: setup must turn it off */
	sh("sh -c 'echo 1 > /proc/sys/net/ipv4/conf/default/rp_filter'");
	fd = open_tun();
	read_file("/proc/sys/net/ipv4/conf/" TUN "/rp_filter", buf, sizeof(buf));
	ck_assert_str_eq(buf, "1");
	setup_ok();
	assert_installed();
	/* nothing else: the peers table starts empty */
	ck_assert_uint_eq(count_in("ip -j route show table 4243", "\"dst\""), 0);
	ck_assert_uint_eq(count_in("ip -6 -j route show table 4243", "\"dst\""), 0);
	read_file("/proc/sys/net/ipv4/conf/" TUN "/rp_filter", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0");
	read_file("/proc/sys/net/ipv6/conf/" TUN "/accept_ra", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0");
	as_tun_close(fd);
}
END_TEST

START_TEST(routing_decisions)
{
	uint8_t a[16];
	int fd;

	enter_netns();
	fd = open_tun();
	add_other_link();
	setup_ok();
	peer_add_ok(AF_INET, "10.9.9.9");
	peer_add_ok(AF_INET6, "fd00:9::9");
	/* re-adding replaces: still exactly one route */
	peer_add_ok(AF_INET, "10.9.9.9");
	ck_assert_uint_eq(count_in("ip -j route show table 4243", "\"dst\":\"10.9.9.9\""), 1);
	ck_assert_uint_eq(count_in("ip -6 -j route show table 4243", "\"dst\":\"fd00:9::9\""), 1);

	/* unmarked packets to a peer: the TUN; the helper's own: not */
	ck_route_dev("10.9.9.9", TUN);
	ck_route_dev("10.9.9.9 mark 0x200", "vtest0");
	ck_route_dev("10.9.9.9 mark 0x2ff", "vtest0");        /* the mask applies */
	ck_route_dev("10.9.9.9 mark 0x1200", TUN);            /* 0x200 & 0xff00 */
	ck_route_dev("fd00:9::9", TUN);
	ck_route_dev("fd00:9::9 mark 0x200", "vtest0");
	/* not a peer, unmarked: main */
	ck_route_dev("10.9.9.8", "vtest0");
	ck_route_dev("192.0.2.1", "vtest0");
	ck_route_dev("2001:db8::1", "vtest0");
	/* steered sockets: the TUN whatever the destination */
	ck_route_dev("192.0.2.1 mark 0x100", TUN);
	ck_route_dev("192.0.2.1 mark 0x1ab", TUN);
	ck_route_dev("10.9.9.9 mark 0x100", TUN);
	ck_route_dev("2001:db8::1 mark 0x100", TUN);
	ck_route_dev("192.0.2.1 mark 0x300", "vtest0");
	/* ... but local addresses stay local */
	ck_route_dev("10.0.0.1 mark 0x100", "lo");

	/* removing a peer, twice: the second is no error */
	ck_assert_int_eq(inet_pton(AF_INET, "10.9.9.9", a), 1);
	ck_assert_int_eq(as_route_peer_del(&cfg, AF_INET, a), AS_OK);
	ck_assert_int_eq(as_route_peer_del(&cfg, AF_INET, a), AS_OK);
	ck_route_dev("10.9.9.9", "vtest0");
	ck_assert_int_eq(inet_pton(AF_INET6, "fd00:9::9", a), 1);
	ck_assert_int_eq(as_route_peer_del(&cfg, AF_INET6, a), AS_OK);
	ck_route_dev("fd00:9::9", "vtest0");
	ck_assert_uint_eq(count_in("ip -j route show table 4243", "\"dst\""), 0);
	ck_assert_uint_eq(count_in("ip -6 -j route show table 4243", "\"dst\""), 0);
	as_tun_close(fd);
}
END_TEST

START_TEST(setup_twice_is_idempotent)
{
	int fd;

	enter_netns();
	fd = open_tun();
	setup_ok();
	peer_add_ok(AF_INET, "10.9.9.9");
	peer_add_ok(AF_INET6, "fd00:9::9");
	setup_ok();
	assert_installed();
	/* setup starts from an empty peers table */
	ck_assert_uint_eq(count_in("ip -j route show table 4243", "\"dst\""), 0);
	ck_assert_uint_eq(count_in("ip -6 -j route show table 4243", "\"dst\""), 0);
	setup_ok();
	assert_installed();
	as_tun_close(fd);
}
END_TEST

START_TEST(teardown_removes_only_ours)
{
	int fd;

	enter_netns();
	fd = open_tun();
	add_other_link();
	/* someone else's rule at our priority, and their table */
	sh("ip rule add pref 1000 fwmark 0x100/0xff00 lookup 100");
	sh("ip -6 rule add pref 1001 lookup 100");
	sh("ip route add 10.8.0.0/16 dev vtest0 table 100");
	setup_ok();
	peer_add_ok(AF_INET, "10.9.9.9");
	peer_add_ok(AF_INET6, "fd00:9::9");
	/* someone else's rule survives setup too */
	ck_assert_uint_eq(count_in("ip -j rule show", "\"table\":\"100\""), 1);
	ck_assert_int_eq(as_route_teardown(&cfg), AS_OK);
	assert_removed();
	ck_assert_uint_eq(count_in("ip -j rule show", "\"priority\":1000,\"src\":\"all\","
				   "\"fwmark\":\"0x100\",\"fwmask\":\"0xff00\",\"table\":\"100\""),
			  1);
	ck_assert_uint_eq(count_in("ip -6 -j rule show", "\"table\":\"100\""), 1);
	ck_assert_uint_eq(count_in("ip -j route show table 100", "10.8.0.0"), 1);
	ck_assert_uint_eq(count_in("ip -j route show", "\"dst\":\"default\""), 1);
	ck_route_dev("192.0.2.1 mark 0x200", "vtest0");
	ck_route_dev("10.9.9.9", "vtest0");
	/* again, with nothing left: fine */
	ck_assert_int_eq(as_route_teardown(&cfg), AS_OK);
	/* and teardown does not need the TUN */
	as_tun_close(fd);
	ck_assert_int_eq(as_route_teardown(&cfg), AS_OK);
}
END_TEST

START_TEST(crash_leftovers_are_cleaned)
{
	pid_t pid;
	int st, fd;

	enter_netns();
	add_other_link();
	/* a helper that sets everything up and is killed */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct as_diag d = { 0 };
		char name[16];
		uint8_t a[4] = { 10, 9, 9, 9 };
		int cfd;

		if (as_tun_open(TUN, 1400, &cfd, name, &d) != AS_OK ||
		    as_route_setup(&cfg, &d) != AS_OK ||
		    as_route_peer_add(&cfg, AF_INET, a, &d) != AS_OK) {
			fprintf(stderr, "child: %s\n", d.msg);
			_exit(1);
		}
		raise(SIGKILL);
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child status %d", st);
	/* its rules are still there, its TUN (and routes through it) gone */
	ck_assert_uint_eq(count_in("ip -j rule show", RULE_STEER), 1);
	ck_assert_uint_eq(count_in("ip -6 -j rule show", RULE_PEERS), 1);
	ck_assert_uint_eq(if_nametoindex(TUN), 0);
	/* stale state of an earlier configuration: other marks, other routes */
	sh("ip rule add pref 1001 not fwmark 0x300/0xff00 lookup 4243");
	sh("ip -6 rule add pref 1000 fwmark 0x400/0xff00 lookup 4242");
	sh("ip route add 10.5.5.5 dev vtest0 table 4243");
	sh("ip route add blackhole 10.6.0.0/16 table 4242");
	sh("ip -6 route add fd00:5::5 dev vtest0 table 4243");
	sh("ip -6 route add fd00:5::6 dev vtest0 table 4243 metric 7");

	fd = open_tun();
	setup_ok();
	assert_installed();
	ck_assert_uint_eq(count_in("ip -j rule show", "0x300"), 0);
	ck_assert_uint_eq(count_in("ip -6 -j rule show", "0x400"), 0);
	ck_assert_uint_eq(count_in("ip -j route show table 4242", "\"dst\""), 1);
	ck_assert_uint_eq(count_in("ip -j route show table 4243", "\"dst\""), 0);
	ck_assert_uint_eq(count_in("ip -6 -j route show table 4242", "\"dst\""), 1);
	ck_assert_uint_eq(count_in("ip -6 -j route show table 4243", "\"dst\""), 0);
	ck_assert_int_eq(as_route_teardown(&cfg), AS_OK);
	assert_removed();
	as_tun_close(fd);
}
END_TEST

START_TEST(many_routes_are_flushed)
{
	FILE *f;
	int fd;

	enter_netns();
	fd = open_tun();
	/* more than one batch of the flush loop (64) */
	f = popen("ip -batch -", "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 300; i++)
		fprintf(f, "route add 10.%d.%d.0/24 dev " TUN " table 4243\n", i / 200,
			i % 200);
	for (int i = 0; i < 150; i++)
		fprintf(f, "route add fd00:%x::/64 dev " TUN " table 4243\n", i);
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_uint_eq(count_in("ip -j route show table 4243", "\"dst\""), 300);
	setup_ok();
	assert_installed();
	ck_assert_uint_eq(count_in("ip -j route show table 4243", "\"dst\""), 0);
	ck_assert_uint_eq(count_in("ip -6 -j route show table 4243", "\"dst\""), 0);
	as_tun_close(fd);
}
END_TEST

START_TEST(setup_errors)
{
	struct as_route_cfg c = cfg;
	struct as_diag d = { 0 };
	uint8_t a[16] = { 10, 9, 9, 9 };
	uint8_t zero[16] = { 0 };
	int fd;

	enter_netns();
	c.ifname = "nosuch0";
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_IO);
	ck_assert_str_eq(d.msg, "no network interface \"nosuch0\": No such device");
	ck_assert_int_eq(as_route_peer_add(&c, AF_INET, a, &d), AS_E_IO);
	ck_assert_str_eq(d.msg, "no network interface \"nosuch0\": No such device");
	c.ifname = "waytoolongname0123";
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "interface name \"waytoolongname0123\" is longer than 15 bytes");
	c.ifname = NULL;
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_INVAL);
	ck_assert_int_eq(as_route_setup(NULL, &d), AS_E_INVAL);
	ck_assert_int_eq(as_route_teardown(NULL), AS_E_INVAL);
	/* nothing was installed by the failures */
	ck_assert_uint_eq(count_in("ip -j rule show", "4242"), 0);

	fd = open_tun();
	c = cfg;
	c.mark_steer = 0x1100;
	c.mark_mask = 0x0f00;
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "steering mark 0x1100 lies outside mask 0xf00");
	c = cfg;
	c.mark_out = 0x10000;
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "outer-packet mark 0x10000 lies outside mask 0xff00");
	c = cfg;
	c.mark_out = c.mark_steer;
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "steering mark and outer-packet mark are both 0x100");
	c = cfg;
	c.mark_steer = 0;
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_INVAL);
	c = cfg;
	c.mark_mask = 0;
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_INVAL);
	c = cfg;
	c.table_peers = 254;
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "routing table 254 is reserved");
	c = cfg;
	c.table_steer = 0;
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_INVAL);
	c = cfg;
	c.table_peers = c.table_steer;
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_INVAL);
	c = cfg;
	c.prio = 32765;
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "rule priority 32765 is outside 1..32764");
	c.prio = 0;
	ck_assert_int_eq(as_route_setup(&c, &d), AS_E_INVAL);
	ck_assert_uint_eq(count_in("ip -j rule show", "4242"), 0);

	setup_ok();
	ck_assert_int_eq(as_route_peer_add(&cfg, AF_PACKET, a, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "address family 17 is not IPv4 or IPv6");
	ck_assert_int_eq(as_route_peer_add(&cfg, AF_INET, NULL, &d), AS_E_INVAL);
	ck_assert_int_eq(as_route_peer_add(&cfg, AF_INET6, zero, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "the unspecified IPv6 address is not a peer");
	ck_assert_int_eq(as_route_peer_del(&cfg, AF_INET6, zero), AS_E_INVAL);

	/* a refusal by the kernel names the route and carries its reason */
	ck_assert_int_eq(as_link_set(TUN, 0, 0, &d), AS_OK);
	ck_assert_int_eq(as_route_peer_add(&cfg, AF_INET, a, &d), AS_E_IO);
	ck_assert_msg(strstr(d.msg, "cannot add IPv4 route 10.9.9.9 dev " TUN " table 4243: "
				    "Network is down") == d.msg, "%s", d.msg);
	/* with the kernel's extended-ACK sentence after it */
	ck_assert_msg(strstr(d.msg, "Network is down (kernel: ") != NULL, "%s", d.msg);
	as_tun_close(fd);
}
END_TEST

START_TEST(setup_failure_rolls_back)
{
	struct as_diag d = { 0 };
	int fd, rc;

	enter_netns();
	fd = open_tun();
	/* IPv4 goes in, then the kernel refuses the IPv6 route */
	sh("sh -c 'echo 1 > /proc/sys/net/ipv6/conf/" TUN "/disable_ipv6'");
	rc = as_route_setup(&cfg, &d);
	ck_assert_int_eq(rc, AS_E_IO);
	ck_assert_msg(strstr(d.msg, "cannot add IPv6 route default dev " TUN " table 4242: "
				    "Permission denied") == d.msg, "%s", d.msg);
	assert_removed();
	as_tun_close(fd);
}
END_TEST

/* Take CAP_NET_ADMIN out of (or back into) the effective set; it stays
 * permitted, so the test can restore it (matters only with CK_FORK=no). */
static void net_admin(int on)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2];

	ck_assert_int_eq(syscall(SYS_capget, &h, c), 0);
	if (on)
		c[CAP_NET_ADMIN / 32].effective |= 1u << (CAP_NET_ADMIN % 32);
	else
		c[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
	ck_assert_int_eq(syscall(SYS_capset, &h, c), 0);
}

START_TEST(setup_without_privilege_says_so)
{
	struct as_diag d = { 0 };
	int fd, rc;

	enter_netns();
	fd = open_tun();
	net_admin(0);
	rc = as_route_setup(&cfg, &d);
	net_admin(1);
	ck_assert_int_eq(rc, AS_E_IO);
	ck_assert_str_eq(d.msg, "cannot add IPv4 route default dev " TUN " table 4242: "
			 "Operation not permitted");
	as_tun_close(fd);
}
END_TEST

START_TEST(setup_without_privilege_for_rules)
{
	struct as_diag d = { 0 };
	int fd, rc;

	enter_netns();
	fd = open_tun();
	/* leave a rule of ours so the very first change is a rule deletion */
	sh("ip rule add pref 1000 fwmark 0x100/0xff00 lookup 4242");
	net_admin(0);
	rc = as_route_setup(&cfg, &d);
	net_admin(1);
	ck_assert_int_eq(rc, AS_E_IO);
	ck_assert_str_eq(d.msg, "cannot delete IPv4 rule pref 1000 fwmark 0x100/0xff00 "
			 "lookup 4242: Operation not permitted");
	as_tun_close(fd);
}
END_TEST

/* ---- packets through the TUN */

/* Wait up to 2 s for one packet on fd. */
static ssize_t tun_read(int fd, uint8_t *buf, size_t cap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	return read(fd, buf, cap);
}

/*
 * IPv4 header (RFC 791) then UDP (RFC 768):
 *   ver/ihl tos totlen | id frag | ttl proto csum | src | dst | options
 *   sport dport | len csum | payload
 */
static void check_udp4(const uint8_t *pkt, size_t n, const char *dst, uint16_t dport,
		       const char *payload)
{
	struct as_rbuf r, opts;
	uint8_t vihl, tos, ttl, proto, want[4];
	uint16_t tot, id, frag, csum, sport, port, ulen, ucsum;
	uint32_t src, dst_be;
	const uint8_t *p;
	size_t plen;

	ck_assert_int_eq(inet_pton(AF_INET, dst, want), 1);
	as_rbuf_init(&r, pkt, n);
	ck_assert_int_eq(as_rbuf_u8(&r, &vihl), AS_OK);
	ck_assert_uint_eq(vihl >> 4, 4);
	ck_assert_uint_ge(vihl & 15, 5);
	ck_assert_int_eq(as_rbuf_u8(&r, &tos), AS_OK);
	ck_assert_int_eq(as_rbuf_u16(&r, &tot), AS_OK);
	ck_assert_uint_eq(tot, n);
	ck_assert_int_eq(as_rbuf_u16(&r, &id), AS_OK);
	ck_assert_int_eq(as_rbuf_u16(&r, &frag), AS_OK);
	ck_assert_int_eq(as_rbuf_u8(&r, &ttl), AS_OK);
	ck_assert_int_eq(as_rbuf_u8(&r, &proto), AS_OK);
	ck_assert_uint_eq(proto, IPPROTO_UDP);
	ck_assert_int_eq(as_rbuf_u16(&r, &csum), AS_OK);
	ck_assert_int_eq(as_rbuf_u32(&r, &src), AS_OK);
	ck_assert_int_eq(as_rbuf_u32(&r, &dst_be), AS_OK);
	ck_assert_uint_eq(dst_be,
			  (uint32_t)want[0] << 24 | want[1] << 16 | want[2] << 8 | want[3]);
	ck_assert_int_eq(as_rbuf_sub(&r, &opts, ((size_t)(vihl & 15) - 5) * 4), AS_OK);
	ck_assert_int_eq(as_rbuf_u16(&r, &sport), AS_OK);
	ck_assert_int_eq(as_rbuf_u16(&r, &port), AS_OK);
	ck_assert_uint_eq(port, dport);
	ck_assert_int_eq(as_rbuf_u16(&r, &ulen), AS_OK);
	ck_assert_int_eq(as_rbuf_u16(&r, &ucsum), AS_OK);
	as_rbuf_rest(&r, &p, &plen);
	ck_assert_uint_eq(ulen, 8 + plen);
	ck_assert_uint_eq(plen, strlen(payload));
	ck_assert(memcmp(p, payload, plen) == 0);
}

/*
 * IPv6 header (RFC 8200) then UDP:
 *   ver/tc/flow (4) | payload len (2) next hdr (1) hop limit (1) | src (16) | dst (16)
 */
static void check_udp6(const uint8_t *pkt, size_t n, const char *dst, uint16_t dport,
		       const char *payload)
{
	struct as_rbuf r;
	uint8_t nh, hl, src[16], d6[16], want[16];
	uint16_t plen16, sport, port, ulen, ucsum;
	uint32_t vtf;
	const uint8_t *p;
	size_t plen;

	ck_assert_int_eq(inet_pton(AF_INET6, dst, want), 1);
	as_rbuf_init(&r, pkt, n);
	ck_assert_int_eq(as_rbuf_u32(&r, &vtf), AS_OK);
	ck_assert_uint_eq(vtf >> 28, 6);
	ck_assert_int_eq(as_rbuf_u16(&r, &plen16), AS_OK);
	ck_assert_uint_eq(plen16 + 40u, n);
	ck_assert_int_eq(as_rbuf_u8(&r, &nh), AS_OK);
	ck_assert_uint_eq(nh, IPPROTO_UDP);
	ck_assert_int_eq(as_rbuf_u8(&r, &hl), AS_OK);
	ck_assert_int_eq(as_rbuf_copy(&r, src, 16), AS_OK);
	ck_assert_int_eq(as_rbuf_copy(&r, d6, 16), AS_OK);
	ck_assert(memcmp(d6, want, 16) == 0);
	ck_assert_int_eq(as_rbuf_u16(&r, &sport), AS_OK);
	ck_assert_int_eq(as_rbuf_u16(&r, &port), AS_OK);
	ck_assert_uint_eq(port, dport);
	ck_assert_int_eq(as_rbuf_u16(&r, &ulen), AS_OK);
	ck_assert_int_eq(as_rbuf_u16(&r, &ucsum), AS_OK);
	as_rbuf_rest(&r, &p, &plen);
	ck_assert_uint_eq(ulen, 8 + plen);
	ck_assert_uint_eq(plen, strlen(payload));
	ck_assert(memcmp(p, payload, plen) == 0);
}

static void send_udp(int family, const char *dst, uint16_t port, uint32_t mark,
		     const char *payload)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(s, 0);
	if (mark)
		ck_assert_int_eq(setsockopt(s, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)), 0);
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET, dst, &sin->sin_addr), 1);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET6, dst, &sin6->sin6_addr), 1);
		sl = sizeof(*sin6);
	}
	ck_assert_msg(sendto(s, payload, strlen(payload), 0, (struct sockaddr *)&ss, sl) ==
		      (ssize_t)strlen(payload), "sendto %s: %s", dst, strerror(errno));
	close(s);
}

/* RFC 1071 checksum over an IPv4 header. */
static uint16_t ip_csum(const uint8_t *h, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

START_TEST(packets_cross_the_tun)
{
	uint8_t pkt[2048];
	struct pollfd p;
	ssize_t n;
	int fd;

	enter_netns();
	fd = open_tun();
	setup_ok();
	sh("ip addr add 10.9.0.1/32 dev " TUN);
	sh("ip -6 addr add fd00:1::1/128 dev " TUN " nodad");
	peer_add_ok(AF_INET, "10.9.9.9");
	peer_add_ok(AF_INET6, "fd00:9::9");

	/* a quiet device: no IPv6 autoconfiguration chatter to read */
	p.fd = fd;
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 300), 0);

	/* an unmarked datagram to a peer comes out of the TUN as one packet */
	send_udp(AF_INET, "10.9.9.9", 5555, 0, "hello v4");
	n = tun_read(fd, pkt, sizeof(pkt));
	ck_assert_int_gt(n, 0);
	check_udp4(pkt, (size_t)n, "10.9.9.9", 5555, "hello v4");
	send_udp(AF_INET6, "fd00:9::9", 5556, 0, "hello v6");
	n = tun_read(fd, pkt, sizeof(pkt));
	ck_assert_int_gt(n, 0);
	check_udp6(pkt, (size_t)n, "fd00:9::9", 5556, "hello v6");
	/* a steered socket: any destination */
	send_udp(AF_INET, "192.0.2.7", 53, 0x100, "steered");
	n = tun_read(fd, pkt, sizeof(pkt));
	ck_assert_int_gt(n, 0);
	check_udp4(pkt, (size_t)n, "192.0.2.7", 53, "steered");
	send_udp(AF_INET6, "2001:db8::7", 53, 0x1ff, "steered6");
	n = tun_read(fd, pkt, sizeof(pkt));
	ck_assert_int_gt(n, 0);
	check_udp6(pkt, (size_t)n, "2001:db8::7", 53, "steered6");
	/* nothing else came out */
	ck_assert_int_eq(read(fd, pkt, sizeof(pkt)), -1);
	ck_assert_int_eq(errno, EAGAIN);

	/* and a packet written into the TUN is delivered to a local socket,
	 * even under strict reverse-path filtering (the peer route points
	 * back at the TUN) */
	{
		static const char msg[] = "from the peer";
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(6666) };
		uint8_t ip[28 + sizeof(msg) - 1];
		char got[64];
		uint16_t c;
		int s, one = 1;

		sh("sh -c 'echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter'");
		s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(s, 0);
		ck_assert_int_eq(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
		ck_assert_int_eq(inet_pton(AF_INET, "10.9.0.1", &sin.sin_addr), 1);
		ck_assert_int_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
		memset(ip, 0, sizeof(ip));
		ip[0] = 0x45;
		ip[2] = sizeof(ip) >> 8;
		ip[3] = sizeof(ip) & 0xff;
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, "\x0a\x09\x09\x09", 4);  /* 10.9.9.9 */
		memcpy(ip + 16, "\x0a\x09\x00\x01", 4);  /* 10.9.0.1 */
		c = ip_csum(ip, 20);
		ip[10] = c >> 8;
		ip[11] = c & 0xff;
		ip[20] = 7777 >> 8;
		ip[21] = 7777 & 0xff;
		ip[22] = 6666 >> 8;
		ip[23] = 6666 & 0xff;
		ip[24] = (sizeof(ip) - 20) >> 8;
		ip[25] = (sizeof(ip) - 20) & 0xff;
		/* UDP checksum 0: none (RFC 768) */
		memcpy(ip + 28, msg, sizeof(msg) - 1);
		ck_assert_int_eq(write(fd, ip, sizeof(ip)), (ssize_t)sizeof(ip));
		p.fd = s;
		p.events = POLLIN;
		ck_assert_int_eq(poll(&p, 1, 2000), 1);
		n = recv(s, got, sizeof(got), 0);
		ck_assert_int_eq(n, (ssize_t)sizeof(msg) - 1);
		ck_assert(memcmp(got, msg, sizeof(msg) - 1) == 0);
		close(s);
	}
	as_tun_close(fd);
}
END_TEST

static Suite *route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("route");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, tun_open_sets_mtu_flags_and_quiet_ipv6);
	tcase_add_test(tc, tun_open_recreates_leftovers);
	tcase_add_test(tc, tun_open_in_use_is_refused);
	tcase_add_test(tc, tun_open_bad_arguments);
	tcase_add_test(tc, link_set_and_errors);
	tcase_add_test(tc, setup_installs_rules_and_routes);
	tcase_add_test(tc, routing_decisions);
	tcase_add_test(tc, setup_twice_is_idempotent);
	tcase_add_test(tc, teardown_removes_only_ours);
	tcase_add_test(tc, crash_leftovers_are_cleaned);
	tcase_add_test(tc, many_routes_are_flushed);
	tcase_add_test(tc, setup_errors);
	tcase_add_test(tc, setup_failure_rolls_back);
	tcase_add_test(tc, setup_without_privilege_says_so);
	tcase_add_test(tc, setup_without_privilege_for_rules);
	tcase_add_test(tc, packets_cross_the_tun);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(route_suite)
