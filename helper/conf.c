/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * autosec-helper's configuration (conf.h): one validator per key, shared by
 * the file and the command line, so that both refuse exactly the same
 * values with the same sentence.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "autosec/alg.h"
#include "autosec/buf.h"
#include "autosec/conf.h"
#include "autosec/err.h"
#include "autosec/log.h"

enum conf_id {
	K_KEY, K_TUN, K_MTU, K_MARK_STEER, K_MARK_OUT, K_MARK_MASK, K_TABLE_STEER,
	K_TABLE_PEERS, K_RULE_PRIORITY, K_PROTOCOL, K_PORT, K_POLICY, K_DNS_SERVER,
	K_DNSSEC, K_CONTROL, K_LOG_LEVEL, K_LOG_TARGET, K_KEYLOG, K_FRESHNESS,
	K_SA_LIFETIME, K_SA_IDLE, K_SA_BYTES, K_QUEUE_MAX, K_ALLOW_ENCR, K_ALLOW_INTEG,
	K_ALLOW_DH, K__COUNT
};

/* Indexed by enum conf_id; the order of the manual page. */
static const struct as_conf_key conf_keys[K__COUNT + 1] = {
	[K_KEY] = { "key", "FILE",
		"private key file (repeatable, up to 8); record text in FILE.rec" },
	[K_TUN] = { "tun", "NAME", "TUN device name (default autosec0)" },
	[K_MTU] = { "mtu", "BYTES", "TUN MTU, 1280..9000 (default 1400)" },
	[K_MARK_STEER] = { "mark-steer", "MARK",
		"fwmark that steers a socket into the TUN (default 0x100)" },
	[K_MARK_OUT] = { "mark-out", "MARK", "fwmark of the helper's own packets (default 0x200)" },
	[K_MARK_MASK] = { "mark-mask", "MASK", "fwmark bits autosec owns (default 0xff00)" },
	[K_TABLE_STEER] = { "table-steer", "TABLE",
		"routing table of steered packets (default 4242)" },
	[K_TABLE_PEERS] = { "table-peers", "TABLE",
		"routing table of AutoSEC peers (default 4243)" },
	[K_RULE_PRIORITY] = { "rule-priority", "PRIO",
		"priority of the helper's two rules, 1..32764 (default 1000)" },
	[K_PROTOCOL] = { "protocol", "NUMBER",
		"IPv6 next header of AutoSEC, 1..254 (default 253)" },
	[K_PORT] = { "port", "PORT", "UDP port for IPv4 (default 4500)" },
	[K_POLICY] = { "policy", "POLICY", "opportunistic or required (default opportunistic)" },
	[K_DNS_SERVER] = { "dns-server", "ADDR[:PORT][,...]",
		"DNS servers (default: /etc/resolv.conf)" },
	[K_DNSSEC] = { "dnssec", "no|require", "require the DNSSEC AD bit (default no)" },
	[K_CONTROL] = { "control", "PATH", "control socket (default " AS_CONF_CONTROL_PATH ")" },
	[K_LOG_LEVEL] = { "log-level", "LEVEL",
		"err, warning, notice, info or debug (default notice)" },
	[K_LOG_TARGET] = { "log-target", "stderr|syslog", "where log lines go (default stderr)" },
	[K_KEYLOG] = { "keylog", "FILE",
		"append every ESP SA to FILE for Wireshark (default off)" },
	[K_FRESHNESS] = { "freshness", "SECONDS",
		"accepted INIT timestamp skew, 10..3600 (default 120)" },
	[K_SA_LIFETIME] = { "sa-lifetime", "SECONDS", "rekey after, 60..604800 (default 3600)" },
	[K_SA_IDLE] = { "sa-idle", "SECONDS", "drop an unused SA after, 10..86400 (default 300)" },
	[K_SA_BYTES] = { "sa-bytes", "BYTES",
		"rekey after this many bytes, K/M/G suffixes (default 1G)" },
	[K_QUEUE_MAX] = { "queue-max", "PACKETS",
		"packets held per pending peer, 1..4096 (default 32)" },
	[K_ALLOW_ENCR] = { "allow-encr", "LIST",
		"encryption algorithms allowed (default: registry's)" },
	[K_ALLOW_INTEG] = { "allow-integ", "LIST",
		"integrity algorithms allowed (default: registry's)" },
	[K_ALLOW_DH] = { "allow-dh", "LIST", "DH groups allowed (default: registry's)" },
	[K__COUNT] = { NULL, NULL, NULL },
};

const struct as_conf_key *as_conf_keys(size_t *n)
{
	if (n)
		*n = K__COUNT;
	return conf_keys;
}

static const char *const level_names[] = {
	[AS_LOG_ERR] = "err", [AS_LOG_WARNING] = "warning", [AS_LOG_NOTICE] = "notice",
	[AS_LOG_INFO] = "info", [AS_LOG_DEBUG] = "debug",
};

/* Copy a string into a fixed field, zero-filling the rest (dumps and struct
 * comparisons then see no stale bytes). */
static void set_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	memset(dst, 0, cap);
	memcpy(dst, src, n < cap ? n : cap - 1);
}

void as_conf_default(struct as_conf *c)
{
	memset(c, 0, sizeof(*c));
	set_str(c->tun, sizeof(c->tun), "autosec0");
	c->mtu = 1400;
	c->mark_steer = 0x100;
	c->mark_out = 0x200;
	c->mark_mask = 0xff00;
	c->table_steer = 4242;
	c->table_peers = 4243;
	c->rule_priority = 1000;
	c->protocol = 253;
	c->port = 4500;
	c->policy = AS_CONF_OPPORTUNISTIC;
	c->dnssec_require = 0;
	set_str(c->control, sizeof(c->control), AS_CONF_CONTROL_PATH);
	c->log_level = AS_LOG_NOTICE;
	c->log_syslog = 0;
	c->freshness = 120;
	c->sa_lifetime = 3600;
	c->sa_idle = 300;
	c->sa_bytes = (uint64_t)1 << 30;
	c->queue_max = 32;
	as_policy_default(&c->alg);
}

/* ---- value parsers; each returns 0 or a negative reason */

enum { NUM_OK = 0, NUM_SYNTAX = -1, NUM_OVERFLOW = -2 };

/* Decimal, or hex with 0x when hex is set; with suffix, one of K M G
 * (powers of 1024).  No sign, no blanks, no leading '+'. */
static int parse_u64(const char *s, int hex, int suffix, uint64_t *out)
{
	uint64_t v = 0, base = 10, mul = 1;
	const char *p = s;
	int digits = 0;

	if (hex && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (; *p; p++) {
		unsigned dv;

		if (*p >= '0' && *p <= '9')
			dv = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			dv = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			dv = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - dv) / base)
			return NUM_OVERFLOW;
		v = v * base + dv;
		digits++;
	}
	if (!digits)
		return NUM_SYNTAX;
	if (*p && suffix && !p[1]) {
		switch (*p) {
		case 'k': case 'K': mul = (uint64_t)1 << 10; break;
		case 'm': case 'M': mul = (uint64_t)1 << 20; break;
		case 'g': case 'G': mul = (uint64_t)1 << 30; break;
		default: return NUM_SYNTAX;
		}
		p++;
	}
	if (*p)
		return NUM_SYNTAX;
	if (v > UINT64_MAX / mul)
		return NUM_OVERFLOW;
	*out = v * mul;
	return NUM_OK;
}

/* The context of one as_conf_set call, so messages are uniform. */
struct setting {
	const char *where, *key, *value;
	char q[160];
	struct as_diag *d;
};

static int bad(struct setting *s, const char *what)
{
	return as_diag_set(s->d, AS_E_INVAL, "%s: %s \"%s\" %s", s->where, s->key, s->q, what);
}

static int get_num(struct setting *s, int hex, int suffix, uint64_t min, uint64_t max,
		   uint64_t *out)
{
	uint64_t v = 0;
	int rc = parse_u64(s->value, hex, suffix, &v);
	char what[96];

	if (rc == NUM_SYNTAX)
		return bad(s, hex ? "is not a number (decimal or 0x hex)"
			   : suffix ? "is not a number (optionally with K, M or G)"
				    : "is not a number");
	if (rc == NUM_OVERFLOW || v < min || v > max) {
		if (hex)
			snprintf(what, sizeof(what), "is outside 0x%llx..0x%llx",
				 (unsigned long long)min, (unsigned long long)max);
		else
			snprintf(what, sizeof(what), "is outside %llu..%llu",
				 (unsigned long long)min, (unsigned long long)max);
		return bad(s, what);
	}
	*out = v;
	return AS_OK;
}

static int get_path(struct setting *s, char *dst, size_t cap)
{
	size_t n = strlen(s->value);
	char what[64];

	if (s->value[0] != '/')
		return bad(s, "is not an absolute path");
	for (const unsigned char *p = (const unsigned char *)s->value; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return bad(s, "contains a control character");
	if (n >= cap) {
		snprintf(what, sizeof(what), "is too long (at most %zu bytes)", cap - 1);
		return bad(s, what);
	}
	set_str(dst, cap, s->value);
	return AS_OK;
}

static int get_choice(struct setting *s, const char *const *names, size_t n, const char *list,
		      int *out)
{
	char what[128];

	for (size_t i = 0; i < n; i++)
		if (!strcmp(s->value, names[i])) {
			*out = (int)i;
			return AS_OK;
		}
	snprintf(what, sizeof(what), "is not one of %s", list);
	return bad(s, what);
}

/* Linux interface names: 1..15 bytes; we also keep to a portable set so a
 * name never needs quoting in ip(8) commands or logs. */
static int valid_ifname(const char *v)
{
	size_t n = strlen(v);

	if (!n || n >= AS_CONF_IFNAME_MAX || !strcmp(v, ".") || !strcmp(v, ".."))
		return 0;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || *v == '_' || *v == '-' || *v == '.'))
			return 0;
	return 1;
}

/* One DNS server: ADDR, ADDR:PORT (IPv4), [IPV6]:PORT, [IPV6] or bare IPv6
 * (the forms the resolver takes, lookup.c). */
static int valid_server(const char *ent, size_t n)
{
	char buf[80], addr[64];
	const char *colon, *port = NULL;
	unsigned char a[16];
	int v6;

	if (!n || n >= sizeof(buf))
		return 0;
	memcpy(buf, ent, n);
	buf[n] = '\0';
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || (size_t)(close - buf - 1) >= sizeof(addr))
			return 0;
		memcpy(addr, buf + 1, (size_t)(close - buf - 1));
		addr[close - buf - 1] = '\0';
		if (close[1] && close[1] != ':')
			return 0;
		if (close[1])
			port = close + 2;
		v6 = 1;
	} else if ((colon = strchr(buf, ':')) && strchr(colon + 1, ':')) {
		if (n + 1 > sizeof(addr))
			return 0;
		memcpy(addr, buf, n + 1); /* bare IPv6, no port */
		v6 = 1;
	} else {
		size_t al = colon ? (size_t)(colon - buf) : n;

		if (al >= sizeof(addr))
			return 0;
		memcpy(addr, buf, al);
		addr[al] = '\0';
		if (colon)
			port = colon + 1;
		v6 = 0;
	}
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, a) != 1)
		return 0;
	if (port) {
		uint64_t p;

		if (parse_u64(port, 0, 0, &p) != NUM_OK || p < 1 || p > 65535)
			return 0;
	}
	return 1;
}

#define DNS_SERVERS_MAX 8

static int get_servers(struct setting *s, char *dst, size_t cap)
{
	const char *p = s->value;
	unsigned count = 0;

	if (strlen(p) >= cap)
		return bad(s, "is too long");
	if (*p) {
		for (;;) {
			const char *e = strchr(p, ',');
			size_t n = e ? (size_t)(e - p) : strlen(p);

			if (++count > DNS_SERVERS_MAX)
				return bad(s, "lists more than 8 servers");
			if (!valid_server(p, n)) {
				char one[100], what[200];

				as_quote(one, sizeof(one), p, n);
				snprintf(what, sizeof(what),
					 "has an invalid server \"%s\" "
					 "(want ADDR, ADDR:PORT or [IPV6]:PORT)", one);
				return bad(s, what);
			}
			if (!e)
				break;
			p = e + 1;
		}
	}
	set_str(dst, cap, s->value);
	return AS_OK;
}

/* Protocol numbers AutoSEC must not take over: this host's own traffic or
 * IPv6 extension headers would be misread (RFC 8200 4, IANA). */
static const char *protocol_taken(unsigned v)
{
	switch (v) {
	case 0: return "IPv6 Hop-by-Hop Options";
	case 1: return "ICMP";
	case 2: return "IGMP";
	case 4: return "IPv4-in-IP";
	case 6: return "TCP";
	case 17: return "UDP";
	case 41: return "IPv6-in-IP";
	case 43: return "the IPv6 Routing header";
	case 44: return "the IPv6 Fragment header";
	case 47: return "GRE";
	case 50: return "ESP";
	case 51: return "AH";
	case 58: return "ICMPv6";
	case 59: return "IPv6 No Next Header";
	case 60: return "IPv6 Destination Options";
	case 132: return "SCTP";
	case 135: return "the IPv6 Mobility header";
	case 136: return "UDP-Lite";
	case 139: return "HIP";
	case 140: return "Shim6";
	default: return NULL;
	}
}

static int get_alg_list(struct as_conf *c, struct setting *s, int type, char *text, size_t cap)
{
	struct as_policy p = c->alg, def;
	struct as_diag d2 = { 0 };
	int rc;

	if (strlen(s->value) >= cap)
		return bad(s, "is too long");
	if (!s->value[0]) {
		as_policy_default(&def);
		if (type == AS_XF_ENCR)
			memcpy(p.allow_encr, def.allow_encr, sizeof(p.allow_encr));
		else if (type == AS_XF_INTEG)
			memcpy(p.allow_integ, def.allow_integ, sizeof(p.allow_integ));
		else
			memcpy(p.allow_dh, def.allow_dh, sizeof(p.allow_dh));
	} else if ((rc = as_policy_set(&p, type, s->value, &d2)) != AS_OK) {
		return as_diag_set(s->d, rc, "%s: %s: %s", s->where, s->key, as_diag_msg(&d2, rc));
	}
	c->alg = p;
	set_str(text, cap, s->value);
	/* Listing a legacy transform is how it is allowed; say so loudly. */
	for (size_t i = 0; s->value[0]; i++) {
		const struct as_alg *a = as_alg_at(i);

		if (!a)
			break;
		if (a->type == type && a->status == AS_ALG_REFUSED && as_policy_allows(&p, a))
			as_warn("%s: %s allows %s, refused by default: %s", s->where, s->key,
				a->name, a->why ? a->why : "legacy");
	}
	return AS_OK;
}

static int find_key(const char *key)
{
	for (int i = 0; i < K__COUNT; i++)
		if (!strcmp(conf_keys[i].name, key))
			return i;
	return -1;
}

int as_conf_set(struct as_conf *c, const char *key, const char *value, const char *where,
		struct as_diag *d)
{
	static const char *const policies[] = { "opportunistic", "required" };
	static const char *const dnssec[] = { "no", "require" };
	static const char *const targets[] = { "stderr", "syslog" };
	struct setting s = { .where = where ? where : "configuration", .key = key,
			     .value = value, .d = d };
	uint64_t v = 0;
	int id, rc, ch = 0;
	char what[128];

	if (!c || !key || !value)
		return as_diag_set(d, AS_E_INVAL, "%s: missing key or value", s.where);
	as_quote(s.q, sizeof(s.q), value, strlen(value));
	id = find_key(key);
	if (id < 0) {
		char qk[100];

		as_quote(qk, sizeof(qk), key, strlen(key));
		return as_diag_set(d, AS_E_INVAL, "%s: unknown key \"%s\"", s.where, qk);
	}
	if (!value[0] && id != K_DNS_SERVER && id != K_KEYLOG && id != K_ALLOW_ENCR &&
	    id != K_ALLOW_INTEG && id != K_ALLOW_DH)
		return as_diag_set(d, AS_E_INVAL, "%s: %s needs a value", s.where, key);

	switch (id) {
	case K_KEY: {
		char tmp[AS_CONF_PATH_MAX - 4]; /* room for ".rec" */

		if ((rc = get_path(&s, tmp, sizeof(tmp))))
			return rc;
		for (size_t i = 0; i < c->n_keys; i++)
			if (!strcmp(c->key[i], tmp))
				return AS_OK; /* named twice (file and command line): once */
		if (c->n_keys >= AS_CONF_MAX_KEYS) {
			snprintf(what, sizeof(what), "is one key file too many (at most %d)",
				 AS_CONF_MAX_KEYS);
			return bad(&s, what);
		}
		set_str(c->key[c->n_keys++], AS_CONF_PATH_MAX, tmp);
		return AS_OK;
	}
	case K_TUN:
		if (!valid_ifname(value))
			return bad(&s, "is not a valid interface name "
				       "(1 to 15 of A-Z a-z 0-9 _ . -)");
		set_str(c->tun, sizeof(c->tun), value);
		return AS_OK;
	case K_MTU:
		/* The TUN carries IPv6 too: at least its 1280 (RFC 8200 5; tun.h). */
		if ((rc = get_num(&s, 0, 0, 1280, 9000, &v)))
			return rc;
		c->mtu = (unsigned)v;
		return AS_OK;
	case K_MARK_STEER:
	case K_MARK_OUT:
	case K_MARK_MASK:
		if ((rc = get_num(&s, 1, 0, 1, UINT32_MAX, &v)))
			return rc;
		if (id == K_MARK_STEER)
			c->mark_steer = (uint32_t)v;
		else if (id == K_MARK_OUT)
			c->mark_out = (uint32_t)v;
		else
			c->mark_mask = (uint32_t)v;
		return AS_OK;
	case K_TABLE_STEER:
	case K_TABLE_PEERS:
		if ((rc = get_num(&s, 0, 0, 1, UINT32_MAX, &v)))
			return rc;
		if (v >= 252 && v <= 255)
			return bad(&s, "is a reserved routing table (252 compat, 253 default, "
				       "254 main, 255 local)");
		if (id == K_TABLE_STEER)
			c->table_steer = (uint32_t)v;
		else
			c->table_peers = (uint32_t)v;
		return AS_OK;
	case K_RULE_PRIORITY:
		/* Rules at PRIO and PRIO+1 (route.h), both before main (32766);
		 * 0 is the local rule. */
		if ((rc = get_num(&s, 0, 0, 1, 32764, &v)))
			return rc;
		c->rule_priority = (uint32_t)v;
		return AS_OK;
	case K_PROTOCOL: {
		const char *taken;

		if ((rc = get_num(&s, 0, 0, 1, 254, &v)))
			return rc;
		if ((taken = protocol_taken((unsigned)v))) {
			snprintf(what, sizeof(what),
				 "is %s; use an unassigned or experimental number (253, 254)",
				 taken);
			return bad(&s, what);
		}
		c->protocol = (uint8_t)v;
		return AS_OK;
	}
	case K_PORT:
		if ((rc = get_num(&s, 0, 0, 1, 65535, &v)))
			return rc;
		c->port = (uint16_t)v;
		return AS_OK;
	case K_POLICY:
		if ((rc = get_choice(&s, policies, 2, "opportunistic, required", &ch)))
			return rc;
		c->policy = ch;
		return AS_OK;
	case K_DNS_SERVER:
		return get_servers(&s, c->dns_server, sizeof(c->dns_server));
	case K_DNSSEC:
		if ((rc = get_choice(&s, dnssec, 2, "no, require", &ch)))
			return rc;
		c->dnssec_require = ch;
		return AS_OK;
	case K_CONTROL:
		return get_path(&s, c->control, sizeof(c->control));
	case K_LOG_LEVEL: {
		static const char *const lv[] = { "err", "warning", "notice", "info", "debug" };

		if ((rc = get_choice(&s, lv, 5, "err, warning, notice, info, debug", &ch)))
			return rc;
		c->log_level = AS_LOG_ERR + ch;
		return AS_OK;
	}
	case K_LOG_TARGET:
		if ((rc = get_choice(&s, targets, 2, "stderr, syslog", &ch)))
			return rc;
		c->log_syslog = ch;
		return AS_OK;
	case K_KEYLOG:
		if (!value[0]) {
			memset(c->keylog, 0, sizeof(c->keylog));
			return AS_OK;
		}
		return get_path(&s, c->keylog, sizeof(c->keylog));
	case K_FRESHNESS:
		if ((rc = get_num(&s, 0, 0, 10, 3600, &v)))
			return rc;
		c->freshness = (uint32_t)v;
		return AS_OK;
	case K_SA_LIFETIME:
		if ((rc = get_num(&s, 0, 0, 60, 604800, &v)))
			return rc;
		c->sa_lifetime = (uint32_t)v;
		return AS_OK;
	case K_SA_IDLE:
		if ((rc = get_num(&s, 0, 0, 10, 86400, &v)))
			return rc;
		c->sa_idle = (uint32_t)v;
		return AS_OK;
	case K_SA_BYTES:
		/* Below 64 KiB an SA would rekey every few packets; above 1 TiB
		 * (1024G) is far past what AES-GCM-16's 2^32 records suggest. */
		if ((rc = get_num(&s, 0, 1, (uint64_t)1 << 16, (uint64_t)1 << 40, &v)))
			return rc;
		c->sa_bytes = v;
		return AS_OK;
	case K_QUEUE_MAX:
		if ((rc = get_num(&s, 0, 0, 1, 4096, &v)))
			return rc;
		c->queue_max = (uint32_t)v;
		return AS_OK;
	case K_ALLOW_ENCR:
		return get_alg_list(c, &s, AS_XF_ENCR, c->allow_encr, sizeof(c->allow_encr));
	case K_ALLOW_INTEG:
		return get_alg_list(c, &s, AS_XF_INTEG, c->allow_integ, sizeof(c->allow_integ));
	case K_ALLOW_DH:
		return get_alg_list(c, &s, AS_XF_DH, c->allow_dh, sizeof(c->allow_dh));
	}
	return as_diag_set(d, AS_E_INVAL, "%s: unknown key \"%s\"", s.where, key);
}

/* ---- the file */

static int is_blank(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static int conf_line(struct as_conf *c, const char *name, unsigned lineno, char *line,
		     struct as_diag *d)
{
	char *k = line, *eq, *ke, *v, *ve;
	char where[AS_CONF_PATH_MAX + 16];
	char q[160];

	while (is_blank((unsigned char)*k))
		k++;
	if (!*k || *k == '#')
		return AS_OK;
	snprintf(where, sizeof(where), "%s:%u", name, lineno);
	eq = strchr(k, '=');
	ke = eq ? eq : k + strlen(k);
	while (ke > k && is_blank((unsigned char)ke[-1]))
		ke--;
	if (!eq || ke == k) {
		as_quote(q, sizeof(q), k, strlen(k));
		return as_diag_set(d, AS_E_INVAL, "%s: expected \"key = value\", got \"%s\"",
				   where, q);
	}
	*ke = '\0';
	v = eq + 1;
	while (is_blank((unsigned char)*v))
		v++;
	ve = v + strlen(v);
	while (ve > v && is_blank((unsigned char)ve[-1]))
		ve--;
	*ve = '\0';
	return as_conf_set(c, k, v, where, d);
}

int as_conf_parse(struct as_conf *c, const char *name, const void *data, size_t len,
		  struct as_diag *d)
{
	struct as_rbuf r;
	char line[AS_CONF_LINE_MAX + 1];
	unsigned lineno = 0;
	int rc = AS_OK;

	if (!c || (!data && len))
		return as_diag_set(d, AS_E_INVAL, "no configuration to parse");
	if (!name)
		name = "configuration";
	if (len > AS_CONF_FILE_MAX)
		return as_diag_set(d, AS_E_INVAL, "%s: larger than %d bytes", name,
				   AS_CONF_FILE_MAX);
	as_rbuf_init(&r, data, len);
	while (as_rbuf_left(&r) && rc == AS_OK) {
		size_t n = 0;
		uint8_t ch;

		lineno++;
		while (as_rbuf_u8(&r, &ch) == AS_OK && ch != '\n') {
			if (ch == '\0') {
				rc = as_diag_set(d, AS_E_INVAL, "%s:%u: contains a NUL byte", name,
						 lineno);
				goto out;
			}
			if (n >= AS_CONF_LINE_MAX) {
				rc = as_diag_set(d, AS_E_INVAL,
						 "%s:%u: line longer than %d bytes", name, lineno,
						 AS_CONF_LINE_MAX);
				goto out;
			}
			line[n++] = (char)ch;
		}
		line[n] = '\0';
		rc = conf_line(c, name, lineno, line, d);
	}
out:
	return rc;
}

/* ---- permissions of a setuid helper's configuration */

static int perm_refuse(struct as_diag *d, const char *path, const char *what, const char *why)
{
	char q[100], w[100];

	as_quote(q, sizeof(q), path, strlen(path));
	as_quote(w, sizeof(w), what, strlen(what));
	return as_diag_set(d, AS_E_INVAL, "refusing configuration \"%s\": \"%s\" %s", q, w, why);
}

static int perm_ok(const char *path, const char *what, const struct stat *st, uid_t owner,
		   struct as_diag *d)
{
	char why[80];

	if (st->st_uid != 0 && st->st_uid != owner) {
		snprintf(why, sizeof(why), "is owned by uid %u, not root", (unsigned)st->st_uid);
		return perm_refuse(d, path, what, why);
	}
	if (S_ISLNK(st->st_mode))
		return AS_OK; /* its target is checked through the resolved path */
	if (S_ISDIR(st->st_mode)) {
		/* A root-owned sticky directory (/tmp): others may add entries
		 * but cannot rename or remove ours. */
		if ((st->st_mode & 022) && !((st->st_mode & S_ISVTX) && st->st_uid == 0)) {
			snprintf(why, sizeof(why), "is writable by group or others (mode %04o)",
				 (unsigned)(st->st_mode & 07777));
			return perm_refuse(d, path, what, why);
		}
		return AS_OK;
	}
	if (!S_ISREG(st->st_mode))
		return perm_refuse(d, path, what, "is not a regular file");
	if (st->st_mode & 022) {
		snprintf(why, sizeof(why), "is writable by group or others (mode %04o)",
			 (unsigned)(st->st_mode & 07777));
		return perm_refuse(d, path, what, why);
	}
	return AS_OK;
}

/* Every prefix of an absolute path, "/" first, with lstat. */
static int perm_walk(const char *orig, const char *path, uid_t owner, int want_final,
		     struct stat *final, struct as_diag *d)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	struct stat st;
	int rc;

	if (n >= sizeof(buf))
		return perm_refuse(d, orig, path, "is too long");
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		char save;

		if (i < n && buf[i] != '/')
			continue;
		save = buf[i];
		buf[i] = '\0';
		if (lstat(buf, &st) != 0) {
			int e = errno;
			char q[100];

			as_quote(q, sizeof(q), buf, strlen(buf));
			rc = as_diag_set(d, AS_E_IO, "cannot check \"%s\": %s", q, strerror(e));
			errno = e;
			return rc;
		}
		if ((rc = perm_ok(orig, buf, &st, owner, d)))
			return rc;
		buf[i] = save;
		if (i == n && want_final && final)
			*final = st;
	}
	if (lstat("/", &st) == 0 && (rc = perm_ok(orig, "/", &st, owner, d)))
		return rc;
	return AS_OK;
}

static int perm_check(const char *path, uid_t owner, char *resolved, struct stat *st,
		      struct as_diag *d)
{
	int rc;

	if (!path || path[0] != '/')
		return perm_refuse(d, path ? path : "", path ? path : "",
				   "is not an absolute path");
	if ((rc = perm_walk(path, path, owner, 0, NULL, d)))
		return rc;
	if (!realpath(path, resolved)) {
		int e = errno;

		rc = as_diag_set(d, AS_E_IO, "cannot resolve configuration path: %s",
				 strerror(e));
		errno = e;
		return rc;
	}
	if ((rc = perm_walk(path, resolved, owner, 1, st, d)))
		return rc;
	if (!S_ISREG(st->st_mode))
		return perm_refuse(d, path, resolved, "is not a regular file");
	return AS_OK;
}

int as_conf_check_perms(const char *path, uid_t owner, struct as_diag *d)
{
	char resolved[PATH_MAX];
	struct stat st;

	return perm_check(path, owner, resolved, &st, d);
}

int as_conf_load(struct as_conf *c, const char *path, int strict_perms, struct as_diag *d)
{
	char resolved[PATH_MAX];
	struct stat checked, st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd = -1, rc, e;

	if (!c || !path)
		return as_diag_set(d, AS_E_INVAL, "no configuration file given");
	/* O_NONBLOCK: a FIFO or device at the path must not stall start-up
	 * (anything but a regular file is refused after fstat). */
	if (strict_perms) {
		if ((rc = perm_check(path, 0, resolved, &checked, d)))
			return rc;
		fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	}
	if (fd < 0) {
		e = errno;
		rc = as_diag_set(d, AS_E_IO, "cannot open %s: %s", path, strerror(e));
		errno = e;
		return rc;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		rc = as_diag_set(d, AS_E_IO, "cannot stat %s: %s", path, strerror(e));
		goto out_errno;
	}
	if (!S_ISREG(st.st_mode)) {
		e = EINVAL;
		rc = as_diag_set(d, AS_E_IO, "%s is not a regular file", path);
		goto out_errno;
	}
	/* The file opened must be the one whose path was checked. */
	if (strict_perms && (st.st_dev != checked.st_dev || st.st_ino != checked.st_ino)) {
		e = EAGAIN;
		rc = as_diag_set(d, AS_E_IO, "%s changed while it was being checked", path);
		goto out_errno;
	}
	buf = malloc(AS_CONF_FILE_MAX + 1);
	if (!buf) {
		rc = as_diag_set(d, AS_E_NOMEM, "out of memory");
		goto out;
	}
	/* Read one byte more than allowed: a file that grew is still refused. */
	while (len <= AS_CONF_FILE_MAX) {
		ssize_t r = read(fd, buf + len, AS_CONF_FILE_MAX + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			rc = as_diag_set(d, AS_E_IO, "cannot read %s: %s", path, strerror(e));
			goto out_errno;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > AS_CONF_FILE_MAX) {
		rc = as_diag_set(d, AS_E_INVAL, "%s: larger than %d bytes", path,
				 AS_CONF_FILE_MAX);
		goto out;
	}
	rc = as_conf_parse(c, path, buf, len, d);
	goto out;
out_errno:
	free(buf);
	close(fd);
	errno = e;
	return rc;
out:
	free(buf);
	close(fd);
	return rc;
}

/* ---- across keys */

int as_conf_finish(const struct as_conf *c, struct as_diag *d)
{
	if (!c)
		return as_diag_set(d, AS_E_INVAL, "no configuration");
	if (c->mark_steer & ~c->mark_mask)
		return as_diag_set(d, AS_E_INVAL, "mark-steer 0x%x has bits outside mark-mask 0x%x",
				   c->mark_steer, c->mark_mask);
	if (c->mark_out & ~c->mark_mask)
		return as_diag_set(d, AS_E_INVAL, "mark-out 0x%x has bits outside mark-mask 0x%x",
				   c->mark_out, c->mark_mask);
	if (c->mark_steer == c->mark_out)
		return as_diag_set(d, AS_E_INVAL,
				   "mark-steer and mark-out are both 0x%x; they must differ "
				   "or the helper's packets loop back into the TUN",
				   c->mark_steer);
	if (c->table_steer == c->table_peers)
		return as_diag_set(d, AS_E_INVAL, "table-steer and table-peers are both %u",
				   c->table_steer);
	if (c->sa_idle > c->sa_lifetime)
		return as_diag_set(d, AS_E_INVAL, "sa-idle %u is longer than sa-lifetime %u",
				   c->sa_idle, c->sa_lifetime);
	return AS_OK;
}

/* ---- dump */

static void put_str(struct as_wbuf *w, const char *s)
{
	as_wbuf_put(w, s, strlen(s));
}

static void put_kv(struct as_wbuf *w, const char *k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void put_kv(struct as_wbuf *w, const char *k, const char *fmt, ...)
{
	char v[AS_CONF_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	put_str(w, k);
	put_str(w, v[0] ? " = " : " =");
	put_str(w, v);
	put_str(w, "\n");
}

int as_conf_dump(const struct as_conf *c, struct as_wbuf *w)
{
	if (!c || !w)
		return AS_E_INVAL;
	for (size_t i = 0; i < c->n_keys && i < AS_CONF_MAX_KEYS; i++)
		put_kv(w, "key", "%s", c->key[i]);
	put_kv(w, "tun", "%s", c->tun);
	put_kv(w, "mtu", "%u", c->mtu);
	put_kv(w, "mark-steer", "0x%x", c->mark_steer);
	put_kv(w, "mark-out", "0x%x", c->mark_out);
	put_kv(w, "mark-mask", "0x%x", c->mark_mask);
	put_kv(w, "table-steer", "%u", c->table_steer);
	put_kv(w, "table-peers", "%u", c->table_peers);
	put_kv(w, "rule-priority", "%u", c->rule_priority);
	put_kv(w, "protocol", "%u", c->protocol);
	put_kv(w, "port", "%u", c->port);
	put_kv(w, "policy", "%s", c->policy == AS_CONF_REQUIRED ? "required" : "opportunistic");
	put_kv(w, "dns-server", "%s", c->dns_server);
	put_kv(w, "dnssec", "%s", c->dnssec_require ? "require" : "no");
	put_kv(w, "control", "%s", c->control);
	put_kv(w, "log-level", "%s",
	       c->log_level >= AS_LOG_ERR && c->log_level <= AS_LOG_DEBUG
		       ? level_names[c->log_level] : "notice");
	put_kv(w, "log-target", "%s", c->log_syslog ? "syslog" : "stderr");
	put_kv(w, "keylog", "%s", c->keylog);
	put_kv(w, "freshness", "%u", c->freshness);
	put_kv(w, "sa-lifetime", "%u", c->sa_lifetime);
	put_kv(w, "sa-idle", "%u", c->sa_idle);
	put_kv(w, "sa-bytes", "%llu", (unsigned long long)c->sa_bytes);
	put_kv(w, "queue-max", "%u", c->queue_max);
	put_kv(w, "allow-encr", "%s", c->allow_encr);
	put_kv(w, "allow-integ", "%s", c->allow_integ);
	put_kv(w, "allow-dh", "%s", c->allow_dh);
	return as_wbuf_error(w);
}

int as_conf_rec_path(const char *key, char *out, size_t cap)
{
	int n;

	if (!key || !out || !cap)
		return AS_E_INVAL;
	n = snprintf(out, cap, "%s.rec", key);
	if (n < 0 || (size_t)n >= cap)
		return AS_E_NOSPACE;
	return AS_OK;
}
