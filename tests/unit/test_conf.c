/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The helper's supporting modules:
 *  - conf: defaults, every key, every class of bad value with its message,
 *    file syntax (comments, line and file limits, NUL bytes), overriding and
 *    accumulating, cross-key checks, dump/parse round trip, and the setuid
 *    permission rules;
 *  - ctlsock: the request/reply framing seen from raw bytes (unknown type,
 *    oversize, truncated header, flags, descriptors), malformed replies seen
 *    by the client, and the whole server over a real socket path;
 *  - keylog: the exact Wireshark UAT lines and the file's safety rules.
 * (tests/keylog-tshark.sh checks the keylog against tshark itself.)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/conf.h"
#include "autosec/ctlsock.h"
#include "autosec/err.h"
#include "autosec/esp.h"
#include "autosec/keylog.h"
#include "autosec/log.h"
#include "testutil.h"

/* ---- helpers ---- */

/* A private directory under /tmp (root-owned and sticky, which the strict
 * permission rules accept as a parent). */
static void tmpdir(char *out, size_t cap)
{
	snprintf(out, cap, "/tmp/autosec-test-conf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(out));
}

static void rmtree(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static int parse_str(struct as_conf *c, const char *text, struct as_diag *d)
{
	return as_conf_parse(c, "/etc/autosec/autosec.conf", text, strlen(text), d);
}

/* ---- conf: defaults and good values ---- */

START_TEST(conf_defaults)
{
	struct as_conf c;
	struct as_policy p;

	as_conf_default(&c);
	as_policy_default(&p);
	ck_assert_uint_eq(c.n_keys, 0);
	ck_assert_str_eq(c.tun, "autosec0");
	ck_assert_uint_eq(c.mtu, 1400);
	ck_assert_uint_eq(c.mark_steer, 0x100);
	ck_assert_uint_eq(c.mark_out, 0x200);
	ck_assert_uint_eq(c.mark_mask, 0xff00);
	ck_assert_uint_eq(c.table_steer, 4242);
	ck_assert_uint_eq(c.table_peers, 4243);
	ck_assert_uint_eq(c.rule_priority, 1000);
	ck_assert_uint_eq(c.protocol, 253);
	ck_assert_uint_eq(c.port, 4500);
	ck_assert_int_eq(c.policy, AS_CONF_OPPORTUNISTIC);
	ck_assert_str_eq(c.dns_server, "");
	ck_assert_int_eq(c.dnssec_require, 0);
	ck_assert_str_eq(c.control, "/run/autosec/control.sock");
	ck_assert_int_eq(c.log_level, AS_LOG_NOTICE);
	ck_assert_int_eq(c.log_syslog, 0);
	ck_assert_str_eq(c.keylog, "");
	ck_assert_uint_eq(c.freshness, 120);
	ck_assert_uint_eq(c.sa_lifetime, 3600);
	ck_assert_uint_eq(c.sa_idle, 300);
	ck_assert(c.sa_bytes == 1073741824ull);
	ck_assert_uint_eq(c.queue_max, 32);
	ck_assert(!memcmp(&c.alg, &p, sizeof(p)));
	ck_assert_int_eq(as_conf_finish(&c, NULL), AS_OK);
}
END_TEST

static const char full_file[] =
	"# autosec.conf with every key\n"
	"\n"
	"   # an indented comment\n"
	"key = /etc/autosec/x25519.pem\n"
	"key=/etc/autosec/rsa.pem\n"
	"tun\t=\tas1\r\n"
	"mtu = 1280\n"
	"mark-steer = 0x400\n"
	"mark-out = 2048\n"
	"mark-mask = 0XFF00\n"
	"table-steer = 100\n"
	"table-peers = 101\n"
	"rule-priority = 32764\n"
	"protocol = 254\n"
	"port = 14500\n"
	"policy = required\n"
	"dns-server = 127.0.0.1:5353,[::1]:53,::1\n"
	"dnssec = require\n"
	"control = /run/as/ctl.sock\n"
	"log-level = debug\n"
	"log-target = syslog\n"
	"keylog = /root/esp #keys\n"
	"freshness = 30\n"
	"sa-lifetime = 600\n"
	"sa-idle = 60\n"
	"sa-bytes = 512M\n"
	"queue-max = 4096\n"
	"allow-encr = ENCR_AES_GCM_16-256, ENCR_CHACHA20_POLY1305\n"
	"allow-integ = AUTH_HMAC_SHA2_512_256\n"
	"allow-dh = CURVE25519\n";

START_TEST(conf_every_key)
{
	struct as_conf c;
	struct as_diag d = { 0 };
	const struct as_alg *gcm256 = as_alg_by_name(AS_XF_ENCR, "ENCR_AES_GCM_16-256", 19);
	const struct as_alg *gcm128 = as_alg_by_name(AS_XF_ENCR, "ENCR_AES_GCM_16-128", 19);
	const struct as_alg *x = as_alg_by_name(AS_XF_DH, "CURVE25519", 10);
	const struct as_alg *modp = as_alg_by_name(AS_XF_DH, "MODP2048", 8);

	as_conf_default(&c);
	ck_assert_msg(parse_str(&c, full_file, &d) == AS_OK, "%s", d.msg);
	ck_assert_uint_eq(c.n_keys, 2);
	ck_assert_str_eq(c.key[0], "/etc/autosec/x25519.pem");
	ck_assert_str_eq(c.key[1], "/etc/autosec/rsa.pem");
	ck_assert_str_eq(c.tun, "as1");
	ck_assert_uint_eq(c.mtu, 1280);
	ck_assert_uint_eq(c.mark_steer, 0x400);
	ck_assert_uint_eq(c.mark_out, 0x800);
	ck_assert_uint_eq(c.mark_mask, 0xff00);
	ck_assert_uint_eq(c.table_steer, 100);
	ck_assert_uint_eq(c.table_peers, 101);
	ck_assert_uint_eq(c.rule_priority, 32764);
	ck_assert_uint_eq(c.protocol, 254);
	ck_assert_uint_eq(c.port, 14500);
	ck_assert_int_eq(c.policy, AS_CONF_REQUIRED);
	ck_assert_str_eq(c.dns_server, "127.0.0.1:5353,[::1]:53,::1");
	ck_assert_int_eq(c.dnssec_require, 1);
	ck_assert_str_eq(c.control, "/run/as/ctl.sock");
	ck_assert_int_eq(c.log_level, AS_LOG_DEBUG);
	ck_assert_int_eq(c.log_syslog, 1);
	/* no trailing comments: '#' belongs to the value */
	ck_assert_str_eq(c.keylog, "/root/esp #keys");
	ck_assert_uint_eq(c.freshness, 30);
	ck_assert_uint_eq(c.sa_lifetime, 600);
	ck_assert_uint_eq(c.sa_idle, 60);
	ck_assert(c.sa_bytes == 512ull << 20);
	ck_assert_uint_eq(c.queue_max, 4096);
	ck_assert_ptr_nonnull(gcm256);
	ck_assert(as_policy_allows(&c.alg, gcm256));
	ck_assert(!as_policy_allows(&c.alg, gcm128));
	ck_assert(as_policy_allows(&c.alg, x));
	ck_assert(!as_policy_allows(&c.alg, modp));
	ck_assert_str_eq(c.allow_encr, "ENCR_AES_GCM_16-256, ENCR_CHACHA20_POLY1305");
	ck_assert_int_eq(as_conf_finish(&c, &d), AS_OK);

	/* an empty allow list returns to the registry's default */
	ck_assert_int_eq(as_conf_set(&c, "allow-dh", "", "command line", &d), AS_OK);
	ck_assert(as_policy_allows(&c.alg, modp));
	ck_assert_str_eq(c.allow_dh, "");
	/* and empty keylog / dns-server switch back to off / resolv.conf */
	ck_assert_int_eq(as_conf_set(&c, "keylog", "", "command line", &d), AS_OK);
	ck_assert_str_eq(c.keylog, "");
	ck_assert_int_eq(as_conf_set(&c, "dns-server", "", "command line", &d), AS_OK);
	ck_assert_str_eq(c.dns_server, "");
}
END_TEST

START_TEST(conf_numbers_and_suffixes)
{
	static const struct {
		const char *key, *value;
		uint64_t want;
	} ok[] = {
		{ "mark-steer", "0x1", 1 }, { "mark-steer", "256", 256 },
		{ "mark-mask", "0xffffffff", 0xffffffffu },
		{ "mark-out", "4294967295", 0xffffffffu },
		{ "sa-bytes", "65536", 65536 }, { "sa-bytes", "64K", 65536 },
		{ "sa-bytes", "64k", 65536 }, { "sa-bytes", "1m", 1 << 20 },
		{ "sa-bytes", "1G", 1ull << 30 }, { "sa-bytes", "1024G", 1ull << 40 },
		{ "mtu", "1280", 1280 }, { "mtu", "9000", 9000 }, { "mtu", "001400", 1400 },
		{ "port", "1", 1 }, { "port", "65535", 65535 },
		{ "table-steer", "251", 251 }, { "table-steer", "256", 256 },
		{ "table-peers", "4294967295", 4294967295u }, { "protocol", "253", 253 },
		{ "freshness", "10", 10 }, { "freshness", "3600", 3600 },
		{ "sa-lifetime", "604800", 604800 }, { "sa-idle", "86400", 86400 },
		{ "queue-max", "1", 1 }, { "rule-priority", "1", 1 }, { "rule-priority", "32764", 32764 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct as_conf c;
		struct as_diag d = { 0 };
		uint64_t got = 0;

		as_conf_default(&c);
		ck_assert_msg(as_conf_set(&c, ok[i].key, ok[i].value, "t", &d) == AS_OK,
			      "%s = %s: %s", ok[i].key, ok[i].value, d.msg);
		if (!strcmp(ok[i].key, "mark-steer"))
			got = c.mark_steer;
		else if (!strcmp(ok[i].key, "mark-mask"))
			got = c.mark_mask;
		else if (!strcmp(ok[i].key, "mark-out"))
			got = c.mark_out;
		else if (!strcmp(ok[i].key, "sa-bytes"))
			got = c.sa_bytes;
		else if (!strcmp(ok[i].key, "mtu"))
			got = c.mtu;
		else if (!strcmp(ok[i].key, "port"))
			got = c.port;
		else if (!strcmp(ok[i].key, "table-steer"))
			got = c.table_steer;
		else if (!strcmp(ok[i].key, "table-peers"))
			got = c.table_peers;
		else if (!strcmp(ok[i].key, "protocol"))
			got = c.protocol;
		else if (!strcmp(ok[i].key, "freshness"))
			got = c.freshness;
		else if (!strcmp(ok[i].key, "sa-lifetime"))
			got = c.sa_lifetime;
		else if (!strcmp(ok[i].key, "sa-idle"))
			got = c.sa_idle;
		else if (!strcmp(ok[i].key, "queue-max"))
			got = c.queue_max;
		else if (!strcmp(ok[i].key, "rule-priority"))
			got = c.rule_priority;
		ck_assert_msg(got == ok[i].want, "%s = %s gave %llu", ok[i].key, ok[i].value,
			      (unsigned long long)got);
	}
}
END_TEST

/* ---- conf: every bad value class, with its code and its sentence ---- */

static const struct bad_value {
	const char *key, *value;
	int code;
	const char *msg; /* the whole sentence after "t: " */
} bad_values[] = {
	/* unknown key, missing value */
	{ "mtuu", "1400", AS_E_INVAL, "unknown key \"mtuu\"" },
	{ "MTU", "1400", AS_E_INVAL, "unknown key \"MTU\"" },
	{ "mtu", "", AS_E_INVAL, "mtu needs a value" },
	/* numbers: syntax */
	{ "mtu", "abc", AS_E_INVAL, "mtu \"abc\" is not a number" },
	{ "mtu", "-1", AS_E_INVAL, "mtu \"-1\" is not a number" },
	{ "mtu", "+1400", AS_E_INVAL, "mtu \"+1400\" is not a number" },
	{ "mtu", "14 00", AS_E_INVAL, "mtu \"14 00\" is not a number" },
	{ "mtu", "0x578", AS_E_INVAL, "mtu \"0x578\" is not a number" },
	{ "mtu", "1400K", AS_E_INVAL, "mtu \"1400K\" is not a number" },
	{ "mark-steer", "0x", AS_E_INVAL,
	  "mark-steer \"0x\" is not a number (decimal or 0x hex)" },
	{ "mark-steer", "0x1g", AS_E_INVAL,
	  "mark-steer \"0x1g\" is not a number (decimal or 0x hex)" },
	{ "sa-bytes", "1X", AS_E_INVAL,
	  "sa-bytes \"1X\" is not a number (optionally with K, M or G)" },
	{ "sa-bytes", "1KB", AS_E_INVAL,
	  "sa-bytes \"1KB\" is not a number (optionally with K, M or G)" },
	{ "sa-bytes", "K", AS_E_INVAL,
	  "sa-bytes \"K\" is not a number (optionally with K, M or G)" },
	/* numbers: range, including overflow of 64 bits */
	{ "mtu", "70000", AS_E_INVAL, "mtu \"70000\" is outside 1280..9000" },
	{ "mtu", "1279", AS_E_INVAL, "mtu \"1279\" is outside 1280..9000" },
	{ "mtu", "576", AS_E_INVAL, "mtu \"576\" is outside 1280..9000" },
	{ "mtu", "99999999999999999999999", AS_E_INVAL,
	  "mtu \"99999999999999999999999\" is outside 1280..9000" },
	{ "mark-steer", "0", AS_E_INVAL, "mark-steer \"0\" is outside 0x1..0xffffffff" },
	{ "mark-out", "0x100000000", AS_E_INVAL,
	  "mark-out \"0x100000000\" is outside 0x1..0xffffffff" },
	{ "mark-mask", "4294967296", AS_E_INVAL,
	  "mark-mask \"4294967296\" is outside 0x1..0xffffffff" },
	{ "table-steer", "0", AS_E_INVAL, "table-steer \"0\" is outside 1..4294967295" },
	{ "table-steer", "254", AS_E_INVAL,
	  "table-steer \"254\" is a reserved routing table (252 compat, 253 default, 254 main, 255 local)" },
	{ "table-peers", "253", AS_E_INVAL,
	  "table-peers \"253\" is a reserved routing table (252 compat, 253 default, 254 main, 255 local)" },
	{ "table-steer", "252", AS_E_INVAL,
	  "table-steer \"252\" is a reserved routing table (252 compat, 253 default, 254 main, 255 local)" },
	{ "table-peers", "255", AS_E_INVAL,
	  "table-peers \"255\" is a reserved routing table (252 compat, 253 default, 254 main, 255 local)" },
	{ "rule-priority", "0", AS_E_INVAL, "rule-priority \"0\" is outside 1..32764" },
	{ "rule-priority", "32765", AS_E_INVAL, "rule-priority \"32765\" is outside 1..32764" },
	{ "protocol", "0", AS_E_INVAL, "protocol \"0\" is outside 1..254" },
	{ "protocol", "255", AS_E_INVAL, "protocol \"255\" is outside 1..254" },
	{ "protocol", "50", AS_E_INVAL,
	  "protocol \"50\" is ESP; use an unassigned or experimental number (253, 254)" },
	{ "protocol", "51", AS_E_INVAL,
	  "protocol \"51\" is AH; use an unassigned or experimental number (253, 254)" },
	{ "protocol", "6", AS_E_INVAL,
	  "protocol \"6\" is TCP; use an unassigned or experimental number (253, 254)" },
	{ "protocol", "17", AS_E_INVAL,
	  "protocol \"17\" is UDP; use an unassigned or experimental number (253, 254)" },
	{ "protocol", "58", AS_E_INVAL,
	  "protocol \"58\" is ICMPv6; use an unassigned or experimental number (253, 254)" },
	{ "protocol", "44", AS_E_INVAL,
	  "protocol \"44\" is the IPv6 Fragment header; use an unassigned or experimental "
	  "number (253, 254)" },
	{ "port", "0", AS_E_INVAL, "port \"0\" is outside 1..65535" },
	{ "port", "65536", AS_E_INVAL, "port \"65536\" is outside 1..65535" },
	{ "freshness", "9", AS_E_INVAL, "freshness \"9\" is outside 10..3600" },
	{ "freshness", "3601", AS_E_INVAL, "freshness \"3601\" is outside 10..3600" },
	{ "sa-lifetime", "59", AS_E_INVAL, "sa-lifetime \"59\" is outside 60..604800" },
	{ "sa-idle", "86401", AS_E_INVAL, "sa-idle \"86401\" is outside 10..86400" },
	{ "sa-bytes", "32K", AS_E_INVAL, "sa-bytes \"32K\" is outside 65536..1099511627776" },
	{ "sa-bytes", "1025G", AS_E_INVAL,
	  "sa-bytes \"1025G\" is outside 65536..1099511627776" },
	{ "sa-bytes", "18446744073709551615G", AS_E_INVAL,
	  "sa-bytes \"18446744073709551615G\" is outside 65536..1099511627776" },
	{ "queue-max", "0", AS_E_INVAL, "queue-max \"0\" is outside 1..4096" },
	{ "queue-max", "4097", AS_E_INVAL, "queue-max \"4097\" is outside 1..4096" },
	/* choices (case matters: the manual spells them) */
	{ "policy", "strict", AS_E_INVAL, "policy \"strict\" is not one of opportunistic, required" },
	{ "policy", "Required", AS_E_INVAL,
	  "policy \"Required\" is not one of opportunistic, required" },
	{ "dnssec", "yes", AS_E_INVAL, "dnssec \"yes\" is not one of no, require" },
	{ "log-level", "verbose", AS_E_INVAL,
	  "log-level \"verbose\" is not one of err, warning, notice, info, debug" },
	{ "log-target", "file", AS_E_INVAL, "log-target \"file\" is not one of stderr, syslog" },
	/* names */
	{ "tun", "this-is-16-bytes", AS_E_INVAL,
	  "tun \"this-is-16-bytes\" is not a valid interface name (1 to 15 of A-Z a-z 0-9 _ . -)" },
	{ "tun", "a/b", AS_E_INVAL,
	  "tun \"a/b\" is not a valid interface name (1 to 15 of A-Z a-z 0-9 _ . -)" },
	{ "tun", "..", AS_E_INVAL,
	  "tun \"..\" is not a valid interface name (1 to 15 of A-Z a-z 0-9 _ . -)" },
	{ "tun", "as 0", AS_E_INVAL,
	  "tun \"as 0\" is not a valid interface name (1 to 15 of A-Z a-z 0-9 _ . -)" },
	{ "tun", "", AS_E_INVAL, "tun needs a value" },
	/* paths */
	{ "key", "x25519.pem", AS_E_INVAL, "key \"x25519.pem\" is not an absolute path" },
	{ "control", "run/ctl", AS_E_INVAL, "control \"run/ctl\" is not an absolute path" },
	{ "keylog", "/tmp/a\x01", AS_E_INVAL, "keylog \"/tmp/a\\x01\" contains a control character" },
	{ "control", "/run/autosec/this/is/a/very/long/path/for/a/unix/socket/that/does/not/"
		     "fit/into/sun_path/at/all/because/it/is/longer.sock", AS_E_INVAL,
	  "control \"/run/autosec/this/is/a/very/long/path/for/a/unix...\" is too long "
	  "(at most 107 bytes)" },
	/* DNS servers */
	{ "dns-server", "1.2.3", AS_E_INVAL,
	  "dns-server \"1.2.3\" has an invalid server \"1.2.3\" "
	  "(want ADDR, ADDR:PORT or [IPV6]:PORT)" },
	{ "dns-server", "127.0.0.1:0", AS_E_INVAL,
	  "dns-server \"127.0.0.1:0\" has an invalid server \"127.0.0.1:0\" "
	  "(want ADDR, ADDR:PORT or [IPV6]:PORT)" },
	{ "dns-server", "[::1", AS_E_INVAL,
	  "dns-server \"[::1\" has an invalid server \"[::1\" (want ADDR, ADDR:PORT or [IPV6]:PORT)" },
	{ "dns-server", "[::1]:x", AS_E_INVAL,
	  "dns-server \"[::1]:x\" has an invalid server \"[::1]:x\" "
	  "(want ADDR, ADDR:PORT or [IPV6]:PORT)" },
	{ "dns-server", "1.1.1.1,", AS_E_INVAL,
	  "dns-server \"1.1.1.1,\" has an invalid server \"\" (want ADDR, ADDR:PORT or [IPV6]:PORT)" },
	{ "dns-server", "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,7.7.7.7,8.8.8.8,9.9.9.9",
	  AS_E_INVAL, NULL },
	/* algorithm lists: the registry's own codes and sentences */
	{ "allow-encr", "ENCR_FOO-128", AS_E_ALG_UNKNOWN,
	  "allow-encr: unknown encryption algorithm \"ENCR_FOO-128\"" },
	{ "allow-encr", "CURVE25519", AS_E_ALG_UNKNOWN,
	  "allow-encr: \"CURVE25519\" is a DH group algorithm, not encryption" },
	{ "allow-integ", "AUTH_AES_XCBC_96", AS_E_ALG_REFUSED, NULL },
	{ "allow-dh", "CURVE25519,,MODP2048", AS_E_INVAL, NULL },
};

START_TEST(conf_bad_values)
{
	const struct bad_value *b = &bad_values[_i];
	struct as_conf c, before;
	struct as_diag d = { 0 };
	char want[400];

	as_conf_default(&c);
	ck_assert_int_eq(as_conf_set(&c, "key", "/etc/autosec/k.pem", "t", NULL), AS_OK);
	before = c;
	ck_assert_msg(as_conf_set(&c, b->key, b->value, "t", &d) == b->code,
		      "%s = \"%s\": got %s (%s)", b->key, b->value, as_errname(d.code), d.msg);
	ck_assert_int_eq(d.code, b->code);
	if (b->msg) {
		snprintf(want, sizeof(want), "t: %s", b->msg);
		ck_assert_str_eq(d.msg, want);
	} else {
		/* still names where, the key, and the value */
		ck_assert(!strncmp(d.msg, "t: ", 3));
		ck_assert_ptr_nonnull(strstr(d.msg, b->key));
	}
	/* a refused setting leaves the configuration as it was */
	ck_assert(!memcmp(&c, &before, sizeof(c)));
}
END_TEST

START_TEST(conf_key_accumulates)
{
	struct as_conf c;
	struct as_diag d = { 0 };
	char p[64];

	as_conf_default(&c);
	for (int i = 0; i < AS_CONF_MAX_KEYS; i++) {
		snprintf(p, sizeof(p), "/etc/autosec/k%d.pem", i);
		ck_assert_int_eq(as_conf_set(&c, "key", p, "t", &d), AS_OK);
	}
	/* the same file again (file and command line) counts once */
	ck_assert_int_eq(as_conf_set(&c, "key", "/etc/autosec/k0.pem", "t", &d), AS_OK);
	ck_assert_uint_eq(c.n_keys, AS_CONF_MAX_KEYS);
	ck_assert_int_eq(as_conf_set(&c, "key", "/etc/autosec/k8.pem", "command line", &d),
			 AS_E_INVAL);
	ck_assert_str_eq(d.msg, "command line: key \"/etc/autosec/k8.pem\" is one key file too "
				"many (at most 8)");
	ck_assert_str_eq(c.key[7], "/etc/autosec/k7.pem");

	/* a key path leaves room for ".rec" */
	{
		char lp[AS_CONF_PATH_MAX];

		memset(lp, 'a', sizeof(lp));
		lp[0] = '/';
		lp[AS_CONF_PATH_MAX - 5] = '\0'; /* 251 bytes: fits with ".rec" */
		as_conf_default(&c);
		ck_assert_int_eq(as_conf_set(&c, "key", lp, "t", &d), AS_OK);
		lp[AS_CONF_PATH_MAX - 5] = 'a';
		lp[AS_CONF_PATH_MAX - 4] = '\0';
		ck_assert_int_eq(as_conf_set(&c, "key", lp, "t", &d), AS_E_INVAL);
		ck_assert_ptr_nonnull(strstr(d.msg, "is too long (at most 251 bytes)"));
		ck_assert_int_eq(as_conf_rec_path(c.key[0], lp, sizeof(lp)), AS_OK);
		ck_assert_uint_eq(strlen(lp), 255);
		ck_assert_str_eq(lp + 251, ".rec");
		ck_assert_int_eq(as_conf_rec_path("/k.pem", lp, 11), AS_OK);
		ck_assert_str_eq(lp, "/k.pem.rec");
		ck_assert_int_eq(as_conf_rec_path("/k.pem", lp, 10), AS_E_NOSPACE);
	}
}
END_TEST

START_TEST(conf_later_overrides)
{
	struct as_conf c;
	struct as_diag d = { 0 };

	as_conf_default(&c);
	ck_assert_int_eq(parse_str(&c, "mtu = 1300\nmtu = 1290\n", &d), AS_OK);
	ck_assert_uint_eq(c.mtu, 1290);
	/* the command line after the file */
	ck_assert_int_eq(as_conf_set(&c, "mtu", "1500", "command line", &d), AS_OK);
	ck_assert_uint_eq(c.mtu, 1500);
	ck_assert_int_eq(as_conf_set(&c, "mtu", "1", "command line", &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "command line: mtu \"1\" is outside 1280..9000");
	ck_assert_uint_eq(c.mtu, 1500);
}
END_TEST

/* ---- conf: file syntax ---- */

START_TEST(conf_syntax_errors_name_file_and_line)
{
	struct as_conf c;
	struct as_diag d = { 0 };
	char *big;

	as_conf_default(&c);
	ck_assert_int_eq(parse_str(&c, "# x\n\nport = 4500\n\n\nmtu = 70000\n\n", &d),
			 AS_E_INVAL);
	ck_assert_str_eq(d.msg, "/etc/autosec/autosec.conf:6: mtu \"70000\" is outside 1280..9000");
	ck_assert_int_eq(parse_str(&c, "\n\nmtu 1400\n", &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg,
			 "/etc/autosec/autosec.conf:3: expected \"key = value\", got \"mtu 1400\"");
	ck_assert_int_eq(parse_str(&c, "  = 1400\n", &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "/etc/autosec/autosec.conf:1: expected \"key = value\", "
				"got \"= 1400\"");
	ck_assert_int_eq(parse_str(&c, "sa lifetime = 60\n", &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "/etc/autosec/autosec.conf:1: unknown key \"sa lifetime\"");
	ck_assert_int_eq(parse_str(&c, "mtu =\n", &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "/etc/autosec/autosec.conf:1: mtu needs a value");
	/* a later line is never reached after an error */
	as_conf_default(&c);
	ck_assert_int_eq(parse_str(&c, "bogus = 1\nmtu = 1300\n", &d), AS_E_INVAL);
	ck_assert_uint_eq(c.mtu, 1400);
	/* NUL byte */
	ck_assert_int_eq(as_conf_parse(&c, "f", "mtu = 1300\nmtu\0 = 1\n", 20, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "f:2: contains a NUL byte");
	/* no newline at the end is fine; CRLF is fine */
	as_conf_default(&c);
	ck_assert_int_eq(parse_str(&c, "port = 1\r\nmtu = 1300", &d), AS_OK);
	ck_assert_uint_eq(c.mtu, 1300);
	ck_assert_uint_eq(c.port, 1);
	/* empty file */
	ck_assert_int_eq(as_conf_parse(&c, "f", "", 0, &d), AS_OK);

	/* line length: 1024 bytes is the limit */
	big = malloc(AS_CONF_FILE_MAX + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', AS_CONF_LINE_MAX);
	big[0] = '#';
	big[AS_CONF_LINE_MAX] = '\n';
	ck_assert_int_eq(as_conf_parse(&c, "f", big, AS_CONF_LINE_MAX + 1, &d), AS_OK);
	memset(big, 'x', AS_CONF_LINE_MAX + 1);
	big[0] = '#';
	ck_assert_int_eq(as_conf_parse(&c, "f", big, AS_CONF_LINE_MAX + 1, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "f:1: line longer than 1024 bytes");
	/* file size: 64 KiB is the limit */
	memset(big, '\n', AS_CONF_FILE_MAX + 1);
	ck_assert_int_eq(as_conf_parse(&c, "f", big, AS_CONF_FILE_MAX, &d), AS_OK);
	ck_assert_int_eq(as_conf_parse(&c, "f", big, AS_CONF_FILE_MAX + 1, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "f: larger than 65536 bytes");
	free(big);
}
END_TEST

START_TEST(conf_finish_checks_across_keys)
{
	struct as_conf c;
	struct as_diag d = { 0 };

	as_conf_default(&c);
	c.mark_steer = 0x1;
	ck_assert_int_eq(as_conf_finish(&c, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "mark-steer 0x1 has bits outside mark-mask 0xff00");
	as_conf_default(&c);
	c.mark_out = 0x10200;
	ck_assert_int_eq(as_conf_finish(&c, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "mark-out 0x10200 has bits outside mark-mask 0xff00");
	as_conf_default(&c);
	c.mark_out = c.mark_steer;
	ck_assert_int_eq(as_conf_finish(&c, &d), AS_E_INVAL);
	ck_assert_ptr_nonnull(strstr(d.msg, "mark-steer and mark-out are both 0x100"));
	as_conf_default(&c);
	c.table_peers = c.table_steer;
	ck_assert_int_eq(as_conf_finish(&c, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "table-steer and table-peers are both 4242");
	as_conf_default(&c);
	ck_assert_int_eq(as_conf_set(&c, "sa-lifetime", "60", "t", &d), AS_OK);
	ck_assert_int_eq(as_conf_finish(&c, &d), AS_E_INVAL);
	ck_assert_str_eq(d.msg, "sa-idle 300 is longer than sa-lifetime 60");
}
END_TEST

START_TEST(conf_dump_round_trip)
{
	struct as_conf a, b;
	struct as_diag d = { 0 };
	static uint8_t buf[8192];
	struct as_wbuf w;
	size_t n;
	const struct as_conf_key *keys = as_conf_keys(&n);

	/* defaults */
	as_conf_default(&a);
	as_wbuf_init(&w, buf, sizeof(buf));
	ck_assert_int_eq(as_conf_dump(&a, &w), AS_OK);
	as_conf_default(&b);
	memset(&b.mtu, 0x5a, sizeof(b.mtu)); /* the dump must set it back */
	ck_assert_msg(as_conf_parse(&b, "dump", as_wbuf_data(&w), as_wbuf_len(&w), &d) == AS_OK,
		      "%s", d.msg);
	ck_assert(!memcmp(&a, &b, sizeof(a)));

	/* everything changed */
	as_conf_default(&a);
	ck_assert_int_eq(parse_str(&a, full_file, &d), AS_OK);
	as_wbuf_init(&w, buf, sizeof(buf));
	ck_assert_int_eq(as_conf_dump(&a, &w), AS_OK);
	as_conf_default(&b);
	ck_assert_msg(as_conf_parse(&b, "dump", as_wbuf_data(&w), as_wbuf_len(&w), &d) == AS_OK,
		      "%s", d.msg);
	ck_assert(!memcmp(&a, &b, sizeof(a)));
	/* every key of the table appears in that dump, each at a line start */
	{
		static char text[8200];
		size_t lines = 0;

		snprintf(text, sizeof(text), "\n%.*s", (int)as_wbuf_len(&w), (const char *)buf);
		for (const char *p = text + 1; *p; p++)
			lines += *p == '\n';
		ck_assert_uint_eq(n, 26);
		ck_assert_uint_eq(lines, n + 1); /* two key lines */
		for (size_t i = 0; i < n; i++) {
			char pat[64];

			snprintf(pat, sizeof(pat), "\n%s =", keys[i].name);
			ck_assert_msg(strstr(text, pat) != NULL, "%s", pat);
			ck_assert_ptr_nonnull(keys[i].arg);
			ck_assert_ptr_nonnull(keys[i].help);
		}
		ck_assert_ptr_null(keys[n].name);
	}
	/* too small a buffer is reported */
	as_wbuf_init(&w, buf, 100);
	ck_assert_int_eq(as_conf_dump(&a, &w), AS_E_NOSPACE);
}
END_TEST

/* ---- conf: files and the setuid permission rules ---- */

START_TEST(conf_load_file)
{
	char dir[64], path[128];
	struct as_conf c;
	struct as_diag d = { 0 };
	char *big;

	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/autosec.conf", dir);
	write_file(path, "mtu = 1300\nport = 700\n", 22, 0644);
	as_conf_default(&c);
	ck_assert_msg(as_conf_load(&c, path, 0, &d) == AS_OK, "%s", d.msg);
	ck_assert_uint_eq(c.mtu, 1300);
	ck_assert_uint_eq(c.port, 700);
	write_file(path, "port = 700\nmtu = 9001\n", 22, 0644);
	ck_assert_int_eq(as_conf_load(&c, path, 0, &d), AS_E_INVAL);
	{
		char want[200];

		snprintf(want, sizeof(want), "%s:2: mtu \"9001\" is outside 1280..9000", path);
		ck_assert_str_eq(d.msg, want);
	}
	/* missing: AS_E_IO with ENOENT, so the helper may run on defaults */
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	errno = 0;
	ck_assert_int_eq(as_conf_load(&c, path, 0, &d), AS_E_IO);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(d.msg, "No such file or directory"));
	/* not a regular file; a FIFO nobody writes does not block */
	ck_assert_int_eq(as_conf_load(&c, dir, 0, &d), AS_E_IO);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(as_conf_load(&c, path, 0, &d), AS_E_IO);
	ck_assert_ptr_nonnull(strstr(d.msg, "is not a regular file"));
	/* larger than 64 KiB */
	big = malloc(AS_CONF_FILE_MAX + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, '\n', AS_CONF_FILE_MAX + 1);
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	write_file(path, big, AS_CONF_FILE_MAX + 1, 0644);
	ck_assert_int_eq(as_conf_load(&c, path, 0, &d), AS_E_INVAL);
	ck_assert_ptr_nonnull(strstr(d.msg, "larger than 65536 bytes"));
	write_file(path, big, AS_CONF_FILE_MAX, 0644);
	ck_assert_int_eq(as_conf_load(&c, path, 0, &d), AS_OK);
	free(big);
	rmtree(dir);
}
END_TEST

START_TEST(conf_strict_permissions)
{
	char dir[64], sub[96], path[128], link[128], msg[600];
	struct as_conf c;
	struct as_diag d = { 0 };
	uid_t me = geteuid();

	tmpdir(dir, sizeof(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/etc", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	snprintf(path, sizeof(path), "%s/autosec.conf", sub);
	write_file(path, "mtu = 1300\n", 11, 0644);

	/* /tmp is root's and sticky: accepted as a parent */
	ck_assert_msg(as_conf_check_perms(path, me, &d) == AS_OK, "%s", d.msg);
	if (me == 0) {
		as_conf_default(&c);
		ck_assert_msg(as_conf_load(&c, path, 1, &d) == AS_OK, "%s", d.msg);
		ck_assert_uint_eq(c.mtu, 1300);
	}
	/* the file writable by group, by others */
	ck_assert_int_eq(chmod(path, 0664), 0);
	ck_assert_int_eq(as_conf_check_perms(path, me, &d), AS_E_INVAL);
	snprintf(msg, sizeof(msg), "refusing configuration \"%s\": \"%s\" is writable by group "
		 "or others (mode 0664)", path, path);
	ck_assert_str_eq(d.msg, msg);
	ck_assert_int_eq(as_conf_load(&c, path, 1, &d), AS_E_INVAL);
	ck_assert_int_eq(chmod(path, 0646), 0);
	ck_assert_int_eq(as_conf_check_perms(path, me, &d), AS_E_INVAL);
	ck_assert_int_eq(chmod(path, 0644), 0);
	/* a parent directory writable by group, by others (not sticky root) */
	ck_assert_int_eq(chmod(sub, 0775), 0);
	ck_assert_int_eq(as_conf_check_perms(path, me, &d), AS_E_INVAL);
	snprintf(msg, sizeof(msg), "refusing configuration \"%s\": \"%s\" is writable by group "
		 "or others (mode 0775)", path, sub);
	ck_assert_str_eq(d.msg, msg);
	ck_assert_int_eq(chmod(sub, 01777), 0);
	if (me == 0) /* sticky but root's: fine */
		ck_assert_int_eq(as_conf_check_perms(path, me, &d), AS_OK);
	ck_assert_int_eq(chmod(sub, 0757), 0);
	ck_assert_int_eq(as_conf_check_perms(path, me, &d), AS_E_INVAL);
	ck_assert_int_eq(chmod(sub, 0755), 0);
	/* a symlink: its target's directories are checked too */
	snprintf(link, sizeof(link), "%s/link.conf", dir);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(as_conf_check_perms(link, me, &d), AS_OK);
	ck_assert_int_eq(chmod(sub, 0777), 0);
	ck_assert_int_eq(as_conf_check_perms(link, me, &d), AS_E_INVAL);
	ck_assert_ptr_nonnull(strstr(d.msg, "is writable by group or others (mode 0777)"));
	ck_assert_int_eq(chmod(sub, 0755), 0);
	/* relative path, missing file */
	ck_assert_int_eq(as_conf_check_perms("autosec.conf", me, &d), AS_E_INVAL);
	ck_assert_ptr_nonnull(strstr(d.msg, "is not an absolute path"));
	snprintf(link, sizeof(link), "%s/none.conf", sub);
	ck_assert_int_eq(as_conf_load(&c, link, 1, &d), AS_E_IO);
	ck_assert_int_eq(errno, ENOENT);
	/* another owner (needs root to give the file away) */
	if (me == 0) {
		ck_assert_int_eq(chown(path, 65534, 65534), 0);
		ck_assert_int_eq(as_conf_check_perms(path, 0, &d), AS_E_INVAL);
		snprintf(msg, sizeof(msg), "refusing configuration \"%s\": \"%s\" is owned by uid "
			 "65534, not root", path, path);
		ck_assert_str_eq(d.msg, msg);
		ck_assert_int_eq(as_conf_load(&c, path, 1, &d), AS_E_INVAL);
		/* without strict_perms the same file loads */
		ck_assert_int_eq(as_conf_load(&c, path, 0, &d), AS_OK);
		ck_assert_int_eq(chown(path, 0, 0), 0);
		ck_assert_int_eq(chown(sub, 65534, 0), 0);
		ck_assert_int_eq(as_conf_check_perms(path, 0, &d), AS_E_INVAL);
		ck_assert_ptr_nonnull(strstr(d.msg, "is owned by uid 65534, not root"));
	}
	rmtree(dir);
}
END_TEST

/* ---- ctlsock: test handlers ---- */

enum { T_ECHO = 100, T_BIG = 101, T_FD = 102 };

struct tctx {
	int calls;
	struct ucred cred;
	uint8_t flags;
	size_t big;
};

static int h_show(void *ctx, const struct as_ctl_req *req, struct as_wbuf *w)
{
	struct tctx *t = ctx;
	const char *s = req->flags & AS_CTL_SHOW_JSON ? "{\"peers\":[]}" : "peers: none\n";

	t->calls++;
	t->flags = req->flags;
	as_wbuf_put(w, s, strlen(s));
	return AS_OK;
}

static int h_ping(void *ctx, const struct as_ctl_req *req, struct as_wbuf *w)
{
	struct tctx *t = ctx;

	t->calls++;
	t->cred = req->cred;
	ck_assert_int_eq(req->fd, -1);
	as_wbuf_put(w, "pong", 4);
	return AS_OK;
}

/* Re-validates its argument as every handler must. */
static int h_echo(void *ctx, const struct as_ctl_req *req, struct as_wbuf *w)
{
	struct tctx *t = ctx;

	t->calls++;
	if (req->len == 3 && !memcmp(req->payload, "bad", 3)) {
		as_wbuf_put(w, "bad argument", 12);
		return AS_E_INVAL;
	}
	if (req->len == 4 && !memcmp(req->payload, "fail", 4))
		return AS_E_IO;
	as_wbuf_put(w, req->payload, req->len);
	return AS_OK;
}

static int h_big(void *ctx, const struct as_ctl_req *req, struct as_wbuf *w)
{
	struct tctx *t = ctx;

	t->calls++;
	for (size_t i = 0; i < t->big; i++)
		as_wbuf_u8(w, (uint8_t)(i * 7 + (i >> 16)));
	return AS_OK;
}

static int h_fd(void *ctx, const struct as_ctl_req *req, struct as_wbuf *w)
{
	struct tctx *t = ctx;

	t->calls++;
	ck_assert_int_ge(req->fd, 0);
	ck_assert_int_eq(write(req->fd, "x", 1), 1);
	as_wbuf_put(w, "got it", 6);
	return AS_OK;
}

static const struct as_ctl_cmd table[] = {
	{ AS_CTL_SHOW, "show", 0, AS_CTL_SHOW_JSON, 0, h_show },
	{ AS_CTL_PING, "ping", 0, 0, 0, h_ping },
	{ T_ECHO, "echo", 16, 0, 0, h_echo },
	{ T_BIG, "big", 0, 0, 0, h_big },
	{ T_FD, "fd", 0, 0, 1, h_fd },
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

static void pair(int sv[2])
{
	int sz = 4 * 1024 * 1024;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	/* what as_ctl_accept does for a real client */
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
}

static void send_raw(int fd, const void *p, size_t n, int pass_fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = (void *)p, .iov_len = n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd >= 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	ck_assert_int_eq(sendmsg(fd, &mh, 0), (ssize_t)n);
}

/* The reply records read back without the library's client: status, the
 * whole payload (NUL-terminated), how many records. */
struct raw_reply {
	uint8_t status;
	uint8_t *data;
	size_t len;
	int records;
};

static void read_raw(int fd, struct raw_reply *r)
{
	static uint8_t rec[70000];
	uint32_t total = 0;

	memset(r, 0, sizeof(*r));
	for (;;) {
		ssize_t n = recv(fd, rec, sizeof(rec), MSG_DONTWAIT);
		uint32_t t;

		ck_assert_msg(n >= AS_CTL_REPLY_HDR, "reply record of %zd octets", n);
		ck_assert_int_le(n, 65536);
		t = (uint32_t)rec[2] << 24 | (uint32_t)rec[3] << 16 | (uint32_t)rec[4] << 8 | rec[5];
		if (!r->records) {
			r->status = rec[0];
			total = t;
			r->data = malloc(total + 1);
			ck_assert_ptr_nonnull(r->data);
		}
		ck_assert_uint_eq(t, total);
		ck_assert_uint_eq(rec[0], r->status);
		ck_assert_uint_le(r->len + (size_t)n - 6, total);
		memcpy(r->data + r->len, rec + 6, (size_t)n - 6);
		r->len += (size_t)n - 6;
		r->records++;
		ck_assert_uint_eq(rec[1] & ~AS_CTL_MORE, 0);
		if (!(rec[1] & AS_CTL_MORE))
			break;
	}
	ck_assert_uint_eq(r->len, total);
	r->data[r->len] = '\0';
}

/* One request over a socket pair, served, and its reply. */
static void roundtrip(struct tctx *t, const void *req, size_t n, int pass_fd,
		      struct raw_reply *r)
{
	int sv[2];

	pair(sv);
	send_raw(sv[1], req, n, pass_fd);
	ck_assert_int_eq(as_ctl_serve_one(sv[0], table, NTABLE, t), AS_OK);
	read_raw(sv[1], r);
	close(sv[0]);
	close(sv[1]);
}

/* ---- ctlsock: the server's side of the framing ---- */

START_TEST(ctl_ping_reply_and_peer_credentials)
{
	struct tctx t = { 0 };
	struct raw_reply r;
	static const uint8_t ping[] = { AS_CTL_PING, 0, 0, 0 };

	roundtrip(&t, ping, sizeof(ping), -1, &r);
	ck_assert_int_eq(r.status, AS_CTL_ST_OK);
	ck_assert_str_eq((char *)r.data, "pong");
	ck_assert_int_eq(r.records, 1);
	ck_assert_int_eq(t.calls, 1);
	/* filled by the kernel (SO_PEERCRED), not by anything the client says */
	ck_assert_int_eq(t.cred.pid, getpid());
	ck_assert_uint_eq(t.cred.uid, getuid());
	ck_assert_uint_eq(t.cred.gid, getgid());
	ck_assert(as_ctl_peer_allowed(&t.cred));
	free(r.data);
}
END_TEST

START_TEST(ctl_refusals_before_the_handler)
{
	static const struct {
		const char *name;
		uint8_t req[8];
		size_t len;
		int status;
		const char *msg;
	} cases[] = {
		{ "unknown type", { 9, 0, 0, 0 }, 4, AS_CTL_ST_UNKNOWN_TYPE, "unknown request type 9" },
		{ "type 0", { 0, 0, 0, 0 }, 4, AS_CTL_ST_UNKNOWN_TYPE, "unknown request type 0" },
		{ "truncated header", { AS_CTL_PING, 0 }, 2, AS_CTL_ST_BAD_LENGTH,
		  "request of 2 octets has no header" },
		{ "truncated header 3", { AS_CTL_PING, 0, 0 }, 3, AS_CTL_ST_BAD_LENGTH,
		  "request of 3 octets has no header" },
		{ "payload on a type without one", { AS_CTL_PING, 0, 0, 1, 'x' }, 5,
		  AS_CTL_ST_TOO_LONG, "ping: payload over 0 octets" },
		{ "length over the type's cap", { T_ECHO, 0, 0, 17, 'x' }, 5, AS_CTL_ST_TOO_LONG,
		  "echo: payload over 16 octets" },
		{ "length says more than sent", { T_ECHO, 0, 0, 5, 'a', 'b' }, 6,
		  AS_CTL_ST_BAD_LENGTH, "echo: length field says 5, the record has 2" },
		{ "length says less than sent", { T_ECHO, 0, 0, 1, 'a', 'b' }, 6,
		  AS_CTL_ST_BAD_LENGTH, "echo: length field says 1, the record has 2" },
		{ "unknown flag", { AS_CTL_SHOW, 0x02, 0, 0 }, 4, AS_CTL_ST_BAD_FLAGS,
		  "show: unknown flags 0x02" },
		{ "flags on ping", { AS_CTL_PING, 0x01, 0, 0 }, 4, AS_CTL_ST_BAD_FLAGS,
		  "ping: unknown flags 0x01" },
		{ "descriptor type without one", { T_FD, 0, 0, 0 }, 4, AS_CTL_ST_NEED_FD,
		  "fd: needs exactly one file descriptor" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tctx t = { 0 };
		struct raw_reply r;

		roundtrip(&t, cases[i].req, cases[i].len, -1, &r);
		ck_assert_msg(r.status == cases[i].status, "%s: status %u", cases[i].name,
			      r.status);
		ck_assert_msg(!strcmp((char *)r.data, cases[i].msg), "%s: \"%s\"", cases[i].name,
			      (char *)r.data);
		ck_assert_msg(t.calls == 0, "%s reached the handler", cases[i].name);
		free(r.data);
	}
}
END_TEST

START_TEST(ctl_oversize_record_is_cut_and_refused)
{
	struct tctx t = { 0 };
	struct raw_reply r;
	uint8_t *req = calloc(1, 6000);

	ck_assert_ptr_nonnull(req);
	/* larger than any request: the length field agrees, the kernel cuts it */
	req[0] = T_ECHO;
	req[2] = (6000 - 4) >> 8;
	req[3] = (6000 - 4) & 0xff;
	roundtrip(&t, req, 6000, -1, &r);
	ck_assert_int_eq(r.status, AS_CTL_ST_TOO_LONG);
	ck_assert_int_eq(t.calls, 0);
	free(r.data);
	free(req);
}
END_TEST

START_TEST(ctl_handler_results)
{
	struct tctx t = { 0 };
	struct raw_reply r;
	static const uint8_t echo[] = { T_ECHO, 0, 0, 5, 'h', 'e', 'l', 'l', 'o' };
	static const uint8_t bad[] = { T_ECHO, 0, 0, 3, 'b', 'a', 'd' };
	static const uint8_t fail[] = { T_ECHO, 0, 0, 4, 'f', 'a', 'i', 'l' };
	static const uint8_t empty[] = { T_ECHO, 0, 0, 0 };
	static const uint8_t show[] = { AS_CTL_SHOW, 0, 0, 0 };
	static const uint8_t showj[] = { AS_CTL_SHOW, AS_CTL_SHOW_JSON, 0, 0 };

	roundtrip(&t, echo, sizeof(echo), -1, &r);
	ck_assert_int_eq(r.status, AS_CTL_ST_OK);
	ck_assert_str_eq((char *)r.data, "hello");
	free(r.data);
	roundtrip(&t, empty, sizeof(empty), -1, &r);
	ck_assert_int_eq(r.status, AS_CTL_ST_OK);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_int_eq(r.records, 1);
	free(r.data);
	roundtrip(&t, bad, sizeof(bad), -1, &r);
	ck_assert_int_eq(r.status, AS_CTL_ST_BAD_ARG);
	ck_assert_str_eq((char *)r.data, "bad argument");
	free(r.data);
	roundtrip(&t, fail, sizeof(fail), -1, &r);
	ck_assert_int_eq(r.status, AS_CTL_ST_FAILED);
	{
		char want[120];

		snprintf(want, sizeof(want), "echo: %s", as_strerror(AS_E_IO));
		ck_assert_str_eq((char *)r.data, want);
	}
	free(r.data);
	roundtrip(&t, show, sizeof(show), -1, &r);
	ck_assert_str_eq((char *)r.data, "peers: none\n");
	free(r.data);
	roundtrip(&t, showj, sizeof(showj), -1, &r);
	ck_assert_str_eq((char *)r.data, "{\"peers\":[]}");
	ck_assert_uint_eq(t.flags, AS_CTL_SHOW_JSON);
	free(r.data);
	ck_assert_int_eq(t.calls, 6);
	ck_assert_str_eq(as_ctl_status_text(AS_CTL_ST_DENIED), "permission denied");
	ck_assert_str_eq(as_ctl_status_text(200), "unknown status");
}
END_TEST

START_TEST(ctl_reply_chunks)
{
	static const uint8_t big[] = { T_BIG, 0, 0, 0 };
	static const size_t sizes[] = { AS_CTL_CHUNK_MAX, AS_CTL_CHUNK_MAX + 1, 300000,
					AS_CTL_REPLY_MAX };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct tctx t = { .big = sizes[k] };
		struct raw_reply r;

		roundtrip(&t, big, sizeof(big), -1, &r);
		ck_assert_int_eq(r.status, AS_CTL_ST_OK);
		ck_assert_uint_eq(r.len, sizes[k]);
		ck_assert_int_eq(r.records, (int)((sizes[k] + AS_CTL_CHUNK_MAX - 1) / AS_CTL_CHUNK_MAX));
		for (size_t i = 0; i < r.len; i++)
			if (r.data[i] != (uint8_t)(i * 7 + (i >> 16)))
				ck_abort_msg("byte %zu of a %zu-octet reply differs", i, sizes[k]);
		free(r.data);
	}
	{
		/* one octet over 1 MiB: refused, not truncated */
		struct tctx t = { .big = AS_CTL_REPLY_MAX + 1 };
		struct raw_reply r;

		roundtrip(&t, big, sizeof(big), -1, &r);
		ck_assert_int_eq(r.status, AS_CTL_ST_FAILED);
		ck_assert_str_eq((char *)r.data, "big: reply longer than 1048576 octets");
		free(r.data);
	}
}
END_TEST

/* A descriptor arrives only for a type that takes one; any other is closed.
 * Proof that the server closed its copy: the pipe reads EOF once ours is. */
START_TEST(ctl_descriptors)
{
	struct tctx t = { 0 };
	struct raw_reply r;
	static const uint8_t fdreq[] = { T_FD, 0, 0, 0 };
	static const uint8_t ping[] = { AS_CTL_PING, 0, 0, 0 };
	int p[2];
	char c;

	ck_assert_int_eq(pipe(p), 0);
	roundtrip(&t, fdreq, sizeof(fdreq), p[1], &r);
	ck_assert_int_eq(r.status, AS_CTL_ST_OK);
	ck_assert_str_eq((char *)r.data, "got it");
	free(r.data);
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'x');
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);

	ck_assert_int_eq(pipe(p), 0);
	roundtrip(&t, ping, sizeof(ping), p[1], &r);
	ck_assert_int_eq(r.status, AS_CTL_ST_OK); /* served; the descriptor ignored */
	free(r.data);
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
	ck_assert_int_eq(t.calls, 2);
}
END_TEST

START_TEST(ctl_serve_one_never_waits)
{
	struct tctx t = { .big = AS_CTL_REPLY_MAX };
	static const uint8_t big[] = { T_BIG, 0, 0, 0 };
	int sv[2], sz = 65536;
	time_t t0 = time(NULL);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	/* nothing to read: returns at once */
	ck_assert_int_eq(as_ctl_serve_one(sv[0], table, NTABLE, &t), AS_OK);
	ck_assert_int_eq(t.calls, 0);
	/* a reply that does not fit the send buffer of a client that does not
	 * read: the server gives up on the client instead of waiting */
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
	send_raw(sv[1], big, sizeof(big), -1);
	ck_assert_int_eq(as_ctl_serve_one(sv[0], table, NTABLE, &t), AS_E_IO);
	ck_assert_int_le(time(NULL) - t0, 1);
	/* end of file */
	close(sv[1]);
	ck_assert_int_eq(as_ctl_serve_one(sv[0], table, NTABLE, &t), AS_E_IO);
	close(sv[0]);
}
END_TEST

/* ---- ctlsock: the client against malformed replies ---- */

static void put_reply(int fd, uint8_t st, uint8_t fl, uint32_t total, const char *chunk,
		      size_t clen)
{
	uint8_t rec[128];

	rec[0] = st;
	rec[1] = fl;
	rec[2] = (uint8_t)(total >> 24);
	rec[3] = (uint8_t)(total >> 16);
	rec[4] = (uint8_t)(total >> 8);
	rec[5] = (uint8_t)total;
	memcpy(rec + 6, chunk, clen);
	ck_assert_int_eq(send(fd, rec, 6 + clen, 0), (ssize_t)(6 + clen));
}

START_TEST(ctl_client_checks_replies)
{
	struct as_diag d = { 0 };
	uint8_t st = 0xff;
	char *reply;
	size_t len;
	int sv[2];

	/* a good two-record reply */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	put_reply(sv[0], AS_CTL_ST_OK, AS_CTL_MORE, 6, "abc", 3);
	put_reply(sv[0], AS_CTL_ST_OK, 0, 6, "def", 3);
	ck_assert_int_eq(as_ctl_call(sv[1], AS_CTL_PING, 0, NULL, 0, -1, 1000, &st, &reply,
				     &len, &d), AS_OK);
	ck_assert_int_eq(st, AS_CTL_ST_OK);
	ck_assert_uint_eq(len, 6);
	ck_assert_str_eq(reply, "abcdef");
	free(reply);
	/* the request it sent, as the server sees it */
	{
		uint8_t req[8];

		ck_assert_int_eq(recv(sv[0], req, sizeof(req), 0), 4);
		ck_assert_int_eq(req[0], AS_CTL_PING);
		ck_assert_int_eq(req[1] | req[2] | req[3], 0);
	}
	/* a record shorter than the header */
	send(sv[0], "\0\0\0", 3, 0);
	ck_assert_int_eq(as_ctl_call(sv[1], AS_CTL_PING, 0, NULL, 0, -1, 1000, &st, &reply,
				     &len, &d), AS_E_TRUNCATED);
	ck_assert_ptr_null(reply);
	/* a total over 1 MiB */
	put_reply(sv[0], AS_CTL_ST_OK, 0, AS_CTL_REPLY_MAX + 1, "", 0);
	ck_assert_int_eq(as_ctl_call(sv[1], AS_CTL_PING, 0, NULL, 0, -1, 1000, &st, &reply,
				     &len, &d), AS_E_MSG_LENGTH);
	/* more octets than announced */
	put_reply(sv[0], AS_CTL_ST_OK, 0, 2, "abc", 3);
	ck_assert_int_eq(as_ctl_call(sv[1], AS_CTL_PING, 0, NULL, 0, -1, 1000, &st, &reply,
				     &len, &d), AS_E_MSG_LENGTH);
	/* fewer octets than announced, last record */
	put_reply(sv[0], AS_CTL_ST_OK, 0, 4, "abc", 3);
	ck_assert_int_eq(as_ctl_call(sv[1], AS_CTL_PING, 0, NULL, 0, -1, 1000, &st, &reply,
				     &len, &d), AS_E_MSG_LENGTH);
	/* status changes between records */
	put_reply(sv[0], AS_CTL_ST_OK, AS_CTL_MORE, 6, "abc", 3);
	put_reply(sv[0], AS_CTL_ST_FAILED, 0, 6, "def", 3);
	ck_assert_int_eq(as_ctl_call(sv[1], AS_CTL_PING, 0, NULL, 0, -1, 1000, &st, &reply,
				     &len, &d), AS_E_MSG_LENGTH);
	/* a request payload over the cap is refused before sending */
	{
		static uint8_t big[AS_CTL_REQ_MAX + 1];

		ck_assert_int_eq(as_ctl_call(sv[1], T_ECHO, 0, big, sizeof(big), -1, 1000, &st,
					     &reply, &len, &d), AS_E_INVAL);
	}
	/* no reply: bounded wait */
	{
		time_t t0 = time(NULL);

		ck_assert_int_eq(as_ctl_call(sv[1], AS_CTL_PING, 0, NULL, 0, -1, 300, &st, &reply,
					     &len, &d), AS_E_IO);
		ck_assert_ptr_nonnull(strstr(d.msg, "timed out"));
		ck_assert_int_le(time(NULL) - t0, 2);
	}
	/* the server goes away */
	close(sv[0]);
	ck_assert_int_eq(as_ctl_call(sv[1], AS_CTL_PING, 0, NULL, 0, -1, 1000, &st, &reply,
				     &len, &d), AS_E_IO);
	close(sv[1]);
}
END_TEST

/* ---- ctlsock: a real server on a path ---- */

/* The server in a child process, until killed (at most 20 s). */
static pid_t run_server(struct as_ctl_server *s, struct tctx *t)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		time_t end = time(NULL) + 20;

		while (time(NULL) < end) {
			struct pollfd pfd[1 + AS_CTL_MAX_CLIENTS];
			size_t n = as_ctl_server_pollfds(s, pfd, 1 + AS_CTL_MAX_CLIENTS);

			if (poll(pfd, n, 100) > 0)
				as_ctl_server_run(s, pfd, n);
		}
		_exit(0);
	}
	(void)t;
	return pid;
}

static void stop_server(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}

START_TEST(ctl_listen_request_end_to_end)
{
	char dir[64], path[160], msg[300];
	struct as_ctl_server s;
	struct tctx t = { 0 };
	struct as_diag d = { 0 };
	struct stat st;
	uint8_t status;
	char *reply;
	size_t len;
	int fd;
	pid_t pid;

	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/run/autosec/control.sock", dir);

	/* nobody there yet */
	ck_assert_int_eq(as_ctl_request(path, AS_CTL_PING, 0, NULL, 0, &status, &reply, &len, &d),
			 AS_E_IO);
	snprintf(msg, sizeof(msg), "cannot reach autosec-helper at %s: No such file or "
		 "directory \xe2\x80\x94 is it running?", path);
	ck_assert_str_eq(d.msg, msg);

	{
		mode_t old = umask(077); /* the directories are 0755 all the same */

		ck_assert_msg(as_ctl_server_open(&s, path, table, NTABLE, &t, &d) == AS_OK, "%s",
			      d.msg);
		umask(old);
	}
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0660);
	snprintf(msg, sizeof(msg), "%s/run/autosec", dir);
	ck_assert_int_eq(stat(msg, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0755);
	pid = run_server(&s, &t);
	close(s.lfd); /* the child's now */

	ck_assert_msg(as_ctl_request(path, AS_CTL_PING, 0, NULL, 0, &status, &reply, &len,
				     &d) == AS_OK, "%s", d.msg);
	ck_assert_int_eq(status, AS_CTL_ST_OK);
	ck_assert_str_eq(reply, "pong");
	free(reply);
	ck_assert_int_eq(as_ctl_request(path, AS_CTL_SHOW, AS_CTL_SHOW_JSON, NULL, 0, &status,
					&reply, &len, &d), AS_OK);
	ck_assert_str_eq(reply, "{\"peers\":[]}");
	free(reply);
	ck_assert_int_eq(as_ctl_request(path, 77, 0, NULL, 0, &status, &reply, &len, &d), AS_OK);
	ck_assert_int_eq(status, AS_CTL_ST_UNKNOWN_TYPE);
	free(reply);
	ck_assert_int_eq(as_ctl_request(path, T_ECHO, 0, "hi", 2, &status, &reply, &len, &d),
			 AS_OK);
	ck_assert_str_eq(reply, "hi");
	free(reply);

	/* a second helper must not take the socket over */
	ck_assert_int_eq(as_ctl_listen(path, &fd, &d), AS_E_IO);
	snprintf(msg, sizeof(msg), "another autosec-helper is already listening at %s", path);
	ck_assert_str_eq(d.msg, msg);

	/* 16 clients at once; the 17th is told the server is busy */
	{
		int c[AS_CTL_MAX_CLIENTS + 1];
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		memcpy(sa.sun_path, path, strlen(path) + 1);
		for (int i = 0; i <= AS_CTL_MAX_CLIENTS; i++) {
			c[i] = socket(AF_UNIX, SOCK_SEQPACKET, 0);
			ck_assert_int_ge(c[i], 0);
			ck_assert_int_eq(connect(c[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
			if (i < AS_CTL_MAX_CLIENTS) {
				ck_assert_int_eq(as_ctl_call(c[i], AS_CTL_PING, 0, NULL, 0, -1, 2000,
							     &status, &reply, &len, &d), AS_OK);
				ck_assert_str_eq(reply, "pong");
				free(reply);
			}
		}
		{
			struct raw_reply r;
			struct pollfd p = { .fd = c[AS_CTL_MAX_CLIENTS], .events = POLLIN };

			ck_assert_int_eq(poll(&p, 1, 2000), 1);
			read_raw(c[AS_CTL_MAX_CLIENTS], &r);
			ck_assert_int_eq(r.status, AS_CTL_ST_BUSY);
			free(r.data);
		}
		for (int i = 0; i <= AS_CTL_MAX_CLIENTS; i++)
			close(c[i]);
	}

	/* the helper dies without cleaning up: the stale socket is replaced */
	stop_server(pid);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_msg(as_ctl_listen(path, &fd, &d) == AS_OK, "%s", d.msg);
	close(fd);
	/* a path that is not a socket is never removed */
	ck_assert_int_eq(unlink(path), 0);
	write_file(path, "x", 1, 0644);
	ck_assert_int_eq(as_ctl_listen(path, &fd, &d), AS_E_IO);
	ck_assert_ptr_nonnull(strstr(d.msg, "exists and is not a socket"));
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	rmtree(dir);
}
END_TEST

/* Another uid (here nobody, 65534) is refused even if it can connect. */
START_TEST(ctl_other_uid_denied)
{
	char dir[64], path[160];
	struct as_ctl_server s;
	struct tctx t = { 0 };
	struct as_diag d = { 0 };
	pid_t pid;
	int status;
	time_t end;

	if (geteuid() != 0)
		return; /* needs root to become another user */
	tmpdir(dir, sizeof(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/control.sock", dir);
	ck_assert_int_eq(as_ctl_server_open(&s, path, table, NTABLE, &t, &d), AS_OK);
	ck_assert_int_eq(chmod(path, 0666), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint8_t st = 0xff;
		char *reply = NULL;
		size_t len;
		int rc;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(100);
		rc = as_ctl_request(path, AS_CTL_PING, 0, NULL, 0, &st, &reply, &len, NULL);
		/* refused at accept: the DENIED reply, or the connection closed */
		_exit(rc == AS_OK ? st : 101);
	}
	end = time(NULL) + 5;
	while (time(NULL) < end && waitpid(pid, &status, WNOHANG) == 0) {
		struct pollfd pfd[1 + AS_CTL_MAX_CLIENTS];
		size_t n = as_ctl_server_pollfds(&s, pfd, 1 + AS_CTL_MAX_CLIENTS);

		if (poll(pfd, n, 50) > 0)
			as_ctl_server_run(&s, pfd, n);
	}
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), AS_CTL_ST_DENIED);
	ck_assert_int_eq(t.calls, 0);
	as_ctl_server_close(&s);
	ck_assert_int_eq(access(path, F_OK), -1);
	rmtree(dir);
}
END_TEST

/* ---- keylog ---- */

static void sa_for(struct as_esp_sa *sa, uint32_t spi, const char *enc, const char *integ)
{
	const struct as_alg *e = as_alg_by_name(AS_XF_ENCR, enc, strlen(enc));
	const struct as_alg *i = integ ? as_alg_by_name(AS_XF_INTEG, integ, strlen(integ)) : NULL;
	uint8_t km[128];
	size_t n;

	ck_assert_ptr_nonnull(e);
	n = as_esp_keymat_len(e, i);
	ck_assert_uint_le(n, sizeof(km));
	/* KEYMAT 00 01 02 ...: key, then salt, then integrity key */
	for (size_t k = 0; k < n; k++)
		km[k] = (uint8_t)k;
	memset(sa, 0, sizeof(*sa));
	ck_assert_int_eq(as_esp_sa_init(sa, spi, e, i, km, n, 0), AS_OK);
}

static const uint8_t a4[4] = { 10, 0, 0, 1 }, b4[4] = { 10, 0, 0, 2 };
static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t b6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2 };

START_TEST(keylog_lines)
{
	struct as_esp_sa sa;
	char line[AS_KEYLOG_LINE_MAX];
	int cm = -1;

	/* AES-GCM-256: key 00..1f, salt 20..23 (KEYMAT order, RFC 4106 8.1) */
	sa_for(&sa, 0x12345678, "ENCR_AES_GCM_16-256", NULL);
	ck_assert_int_eq(as_keylog_format(line, sizeof(line), AF_INET, a4, b4, &sa, &cm), AS_OK);
	ck_assert_str_eq(line,
			 "\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0x12345678\","
			 "\"AES-GCM with 16 octet ICV [RFC4106]\","
			 "\"0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
			 "20212223\",\"NULL\",\"\"");
	ck_assert_int_eq(cm, 0);
	as_esp_sa_clear(&sa);
	/* AES-CBC-128 + HMAC-SHA2-256-128: key 00..0f, integrity key 10..2f */
	sa_for(&sa, 0x00000100, "ENCR_AES_CBC-128", "AUTH_HMAC_SHA2_256_128");
	ck_assert_int_eq(as_keylog_format(line, sizeof(line), AF_INET6, a6, b6, &sa, &cm), AS_OK);
	ck_assert_str_eq(line,
			 "\"IPv6\",\"2001:0db8:0000:0000:0000:0000:0000:0001\","
			 "\"fe80:0000:0000:0000:0000:ffff:0a00:0002\",\"0x00000100\","
			 "\"AES-CBC [RFC3602]\",\"0x000102030405060708090a0b0c0d0e0f\","
			 "\"HMAC-SHA-256-128 [RFC4868]\","
			 "\"0x101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f\"");
	as_esp_sa_clear(&sa);
	/* AES-CTR-128 + HMAC-SHA2-384-192: key 00..0f, nonce 10..13, ikey 14..43 */
	sa_for(&sa, 0xffffffff, "ENCR_AES_CTR-128", "AUTH_HMAC_SHA2_384_192");
	ck_assert_int_eq(as_keylog_format(line, sizeof(line), AF_INET, a4, b4, &sa, &cm), AS_OK);
	ck_assert_str_eq(line,
			 "\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0xffffffff\",\"AES-CTR [RFC3686]\","
			 "\"0x000102030405060708090a0b0c0d0e0f10111213\","
			 "\"HMAC-SHA-384-192 [RFC4868]\",\"0x1415161718191a1b1c1d1e1f2021222324252627"
			 "28292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40414243\"");
	as_esp_sa_clear(&sa);
	/* AES-CBC-256 + HMAC-SHA2-512-256 */
	sa_for(&sa, 0x0000abcd, "ENCR_AES_CBC-256", "AUTH_HMAC_SHA2_512_256");
	ck_assert_int_eq(as_keylog_format(line, sizeof(line), AF_INET, a4, b4, &sa, &cm), AS_OK);
	ck_assert_ptr_nonnull(strstr(line, "\"HMAC-SHA-512-256 [RFC4868]\",\"0x2021"));
	ck_assert_ptr_nonnull(strstr(line, "5c5d5e5f\""));
	as_esp_sa_clear(&sa);
	/* ChaCha20-Poly1305: the newer Wireshark name, commented out for 4.0 */
	sa_for(&sa, 0x0badcafe, "ENCR_CHACHA20_POLY1305", NULL);
	ck_assert_int_eq(as_keylog_format(line, sizeof(line), AF_INET, a4, b4, &sa, &cm), AS_OK);
	ck_assert_int_eq(cm, 1);
	ck_assert_str_eq(line,
			 "# \"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0x0badcafe\","
			 "\"ChaCha20 with Poly1305 [RFC7634]\","
			 "\"0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
			 "20212223\",\"NULL\",\"\"");
	/* 4/6 as the engine says, and an unknown address as Wireshark's "*" */
	{
		char l2[AS_KEYLOG_LINE_MAX];

		ck_assert_int_eq(as_keylog_format(l2, sizeof(l2), 4, a4, b4, &sa, &cm), AS_OK);
		ck_assert_str_eq(l2, line);
		ck_assert_int_eq(as_keylog_format(l2, sizeof(l2), 6, NULL, b6, &sa, &cm), AS_OK);
		ck_assert(!strncmp(l2, "# \"IPv6\",\"*\",\"fe80:0000:0000:0000:0000:ffff:0a00:0002\",",
				   strlen("# \"IPv6\",\"*\",\"fe80:0000:0000:0000:0000:ffff:0a00:0002\",")));
		ck_assert_int_eq(as_keylog_format(l2, sizeof(l2), AF_INET, a4, NULL, &sa, &cm), AS_OK);
		ck_assert_ptr_nonnull(strstr(l2, "\"10.0.0.1\",\"*\",\"0x0badcafe\""));
	}
	/* bad family, small buffer */
	ck_assert_int_eq(as_keylog_format(line, sizeof(line), AF_UNIX, a4, b4, &sa, &cm),
			 AS_E_INVAL);
	ck_assert_int_eq(as_keylog_format(line, 40, AF_INET, a4, b4, &sa, &cm), AS_E_NOSPACE);
	ck_assert_str_eq(line, "");
	as_esp_sa_clear(&sa);
}
END_TEST

START_TEST(keylog_file)
{
	char dir[64], path[128], other[128], buf[4096], line[AS_KEYLOG_LINE_MAX];
	struct as_keylog k;
	struct as_esp_sa sa;
	struct as_diag d = { 0 };
	struct stat st;
	mode_t old;
	ssize_t n;
	int fd;

	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/esp_sa", dir);
	sa_for(&sa, 0x01020304, "ENCR_AES_GCM_16-128", NULL);

	/* off: nothing is opened, writing is a no-op */
	ck_assert_int_eq(as_keylog_open(&k, NULL, &d), AS_OK);
	ck_assert_int_eq(k.fd, -1);
	ck_assert_int_eq(as_keylog_sa(&k, AF_INET, a4, b4, &sa), AS_OK);
	ck_assert_int_eq(as_keylog_open(&k, "", &d), AS_OK);
	ck_assert_int_eq(k.fd, -1);

	/* created 0600 whatever the umask */
	old = umask(0);
	ck_assert_msg(as_keylog_open(&k, path, &d) == AS_OK, "%s", d.msg);
	umask(old);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(as_keylog_sa(&k, AF_INET, a4, b4, &sa), AS_OK);
	ck_assert_int_eq(as_keylog_sa(&k, AF_INET, a4, b4, NULL), AS_E_INVAL);
	as_keylog_close(&k);
	ck_assert_int_eq(k.fd, -1);
	/* appended to, header once */
	ck_assert_int_eq(as_keylog_open(&k, path, &d), AS_OK);
	ck_assert_int_eq(as_keylog_sa(&k, AF_INET6, a6, b6, &sa), AS_OK);
	as_keylog_close(&k);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	{
		char want[2048];
		char l4[AS_KEYLOG_LINE_MAX];

		ck_assert_int_eq(as_keylog_format(l4, sizeof(l4), AF_INET, a4, b4, &sa, NULL),
				 AS_OK);
		ck_assert_int_eq(as_keylog_format(line, sizeof(line), AF_INET6, a6, b6, &sa, NULL),
				 AS_OK);
		snprintf(want, sizeof(want),
			 "# autosec: ESP SAs for Wireshark (the esp_sa table of a profile, or\n"
			 "# tshark -o 'uat:esp_sa:LINE'); these are secret keys.\n%s\n%s\n", l4,
			 line);
		ck_assert_str_eq(buf, want);
	}
	/* an existing file with another mode */
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(as_keylog_open(&k, path, &d), AS_E_INVAL);
	ck_assert_ptr_nonnull(strstr(d.msg, "mode 0640"));
	ck_assert_int_eq(k.fd, -1);
	ck_assert_int_eq(chmod(path, 0600), 0);
	/* a second name for it (hard link) */
	snprintf(other, sizeof(other), "%s/hard", dir);
	ck_assert_int_eq(link(path, other), 0);
	ck_assert_int_eq(as_keylog_open(&k, path, &d), AS_E_INVAL);
	ck_assert_ptr_nonnull(strstr(d.msg, "2 links"));
	ck_assert_int_eq(unlink(other), 0);
	/* a symbolic link is never followed */
	snprintf(other, sizeof(other), "%s/sym", dir);
	ck_assert_int_eq(symlink(path, other), 0);
	ck_assert_int_eq(as_keylog_open(&k, other, &d), AS_E_IO);
	ck_assert_ptr_nonnull(strstr(d.msg, "symbolic link"));
	/* not a regular file; a FIFO nobody reads does not block */
	ck_assert_int_eq(as_keylog_open(&k, dir, &d), AS_E_IO);
	snprintf(other, sizeof(other), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(other, 0600), 0);
	ck_assert_int_ne(as_keylog_open(&k, other, &d), AS_OK);
	ck_assert_int_eq(k.fd, -1);
	/* another owner */
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(path, 65534, 65534), 0);
		ck_assert_int_eq(as_keylog_open(&k, path, &d), AS_E_INVAL);
		ck_assert_ptr_nonnull(strstr(d.msg, "uid 65534"));
	}
	/* a directory that does not exist */
	snprintf(other, sizeof(other), "%s/no/such", dir);
	errno = 0;
	ck_assert_int_eq(as_keylog_open(&k, other, &d), AS_E_IO);
	ck_assert_int_eq(errno, ENOENT);
	as_esp_sa_clear(&sa);
	rmtree(dir);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *c = tcase_create("conf");
	TCase *k = tcase_create("ctlsock");
	TCase *l = tcase_create("keylog");

	tcase_add_test(c, conf_defaults);
	tcase_add_test(c, conf_every_key);
	tcase_add_test(c, conf_numbers_and_suffixes);
	tcase_add_loop_test(c, conf_bad_values, 0, sizeof(bad_values) / sizeof(bad_values[0]));
	tcase_add_test(c, conf_key_accumulates);
	tcase_add_test(c, conf_later_overrides);
	tcase_add_test(c, conf_syntax_errors_name_file_and_line);
	tcase_add_test(c, conf_finish_checks_across_keys);
	tcase_add_test(c, conf_dump_round_trip);
	tcase_add_test(c, conf_load_file);
	tcase_add_test(c, conf_strict_permissions);
	suite_add_tcase(s, c);

	tcase_add_test(k, ctl_ping_reply_and_peer_credentials);
	tcase_add_test(k, ctl_refusals_before_the_handler);
	tcase_add_test(k, ctl_oversize_record_is_cut_and_refused);
	tcase_add_test(k, ctl_handler_results);
	tcase_add_test(k, ctl_reply_chunks);
	tcase_add_test(k, ctl_descriptors);
	tcase_add_test(k, ctl_serve_one_never_waits);
	tcase_add_test(k, ctl_client_checks_replies);
	tcase_add_test(k, ctl_listen_request_end_to_end);
	tcase_add_test(k, ctl_other_uid_denied);
	tcase_set_timeout(k, 30);
	suite_add_tcase(s, k);

	tcase_add_test(l, keylog_lines);
	tcase_add_test(l, keylog_file);
	suite_add_tcase(s, l);
	return s;
}

TU_MAIN(conf_suite)
