/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * autosec-ctl: look at what AutoSEC sees.  `lookup NAME` asks DNS for NAME's
 * AutoSEC record the way the helper does and says in plain words what it
 * found and what this host would do with it.  `show` and `ping` talk to the
 * running helper over its control socket (ctlsock.h); each subcommand is one
 * row of the table below.
 *
 * Exit status: 0 found/usable (lookup) or answered (show, ping), 1 not
 * found/unusable or the helper unreachable/refusing (reason on stderr),
 * 2 usage error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "autosec/alg.h"
#include "autosec/ctlsock.h"
#include "autosec/dns.h"
#include "autosec/err.h"
#include "autosec/keyrec.h"
#include "autosec/pkey.h"

#define PROG "autosec-ctl"
#define EXIT_NOTFOUND 1
#define EXIT_USAGE 2

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *summary;
};

static int cmd_lookup(int argc, char **argv);
static int cmd_show(int argc, char **argv);
static int cmd_ping(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "lookup", cmd_lookup, "NAME [--server ADDR[:PORT]] [--json] [--timeout MS]",
	  "find NAME's AutoSEC key in DNS and say what this host would use" },
	{ "show", cmd_show, "[--json] [--control PATH]",
	  "print the running helper's state: sockets, peers, security associations" },
	{ "ping", cmd_ping, "[--control PATH]", "check that autosec-helper is running" },
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " COMMAND [ARGS]\n"
		   "       " PROG " -h|--help | --version\n\ncommands:\n");
	for (size_t i = 0; i < N_CMDS; i++)
		fprintf(f, "  %s %s\n      %s\n", cmds[i].name, cmds[i].args, cmds[i].summary);
	fprintf(f, "\nSee autosec-ctl(8).\n");
}

/* what "ARG" after: the argument quoted, never echoed raw */
static int usage_error(const char *what, const char *arg, const char *after)
{
	char q[120];

	as_quote(q, sizeof(q), arg, strlen(arg));
	fprintf(stderr, PROG ": %s \"%s\"%s\nTry '" PROG " --help'.\n", what, q, after);
	return EXIT_USAGE;
}

/* ---- JSON output (strings escaped per RFC 8259 7; bytes >= 0x7f as \u00XX
 * so that the output is ASCII and valid whatever a record contained) */

static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void json_key(const char *k, int *first)
{
	if (!*first)
		putchar(',');
	*first = 0;
	json_str(k);
	putchar(':');
}

/* ---- what this host would do with a record */

struct choice {
	const struct as_alg *enc, *integ, *dh;
	int usable;
};

static int alg_usable(const struct as_policy *pol, const struct as_alg *a)
{
	return a && a->status == AS_ALG_OK && as_policy_allows(pol, a);
}

/* First usable entry of each list; an AEAD cipher needs no integrity
 * algorithm, any other cipher needs a real one (never NONE). */
static void choose(const struct as_policy *pol, const struct as_keyrec *r, struct choice *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < r->n_enc && !c->enc; i++)
		if (alg_usable(pol, r->enc[i]))
			c->enc = r->enc[i];
	if (c->enc && !c->enc->aead)
		for (size_t i = 0; i < r->n_integ && !c->integ; i++)
			if (alg_usable(pol, r->integ[i]) && r->integ[i]->id != AS_AUTH_NONE)
				c->integ = r->integ[i];
	for (size_t i = 0; i < r->n_dh && !c->dh; i++)
		if (alg_usable(pol, r->dh[i]))
			c->dh = r->dh[i];
	c->usable = c->enc && (c->enc->aead || c->integ) && c->dh;
}

static const char *alg_state(const struct as_policy *pol, const struct as_alg *a)
{
	if (alg_usable(pol, a))
		return "usable";
	if (a->status == AS_ALG_UNSUPPORTED)
		return "unsupported";
	return "refused";
}

static const char *alg_why(const struct as_policy *pol, const struct as_alg *a)
{
	if (alg_usable(pol, a))
		return NULL;
	if (a->why)
		return a->why;
	return a->status == AS_ALG_OK ? "not allowed by local policy" : NULL;
}

static const char *key_type_name(int t)
{
	return t == AS_KEY_X25519 ? "X25519" : t == AS_KEY_RSA ? "RSA" : "unknown";
}

static void source_text(const struct as_keyrec *r, const char *qname, char *out, size_t cap)
{
	if (r->from_txt)
		snprintf(out, cap, "TXT at %s.%s", AS_TXT_LABEL, qname);
	else
		snprintf(out, cap, "KEY at %s", qname);
}

/* ---- plain output */

static void print_list(const char *title, const struct as_policy *pol,
		       const struct as_alg *const *l, size_t n)
{
	printf("  %s:\n", title);
	if (!n)
		printf("    (none listed)\n");
	for (size_t i = 0; i < n; i++) {
		const char *why = alg_why(pol, l[i]);

		printf("    %-26s %s%s%s\n", l[i]->name, alg_state(pol, l[i]), why ? ": " : "",
		       why ? why : "");
	}
}

static void print_record(size_t i, const struct as_keyrec *r, const struct as_dns_result *res,
			 const char *qname, const struct as_policy *pol, const struct choice *c)
{
	char src[320];

	source_text(r, qname, src, sizeof(src));
	printf("record %zu: %s\n", i + 1, src);
	if (r->key_type == AS_KEY_RSA)
		printf("  key:         RSA, %u bits, key tag %u\n", r->key_bits, r->key_tag);
	else
		printf("  key:         %s, %u bits, key tag %u\n", key_type_name(r->key_type),
		       r->key_bits, r->key_tag);
	printf("  TTL:         %u s%s\n", r->ttl, res->from_cache ? " (cached)" : "");
	printf("  DNSSEC (AD): %s\n", res->authenticated ? "yes" : "no");
	print_list("encryption", pol, r->enc, r->n_enc);
	print_list("integrity", pol, r->integ, r->n_integ);
	print_list("DH groups", pol, r->dh, r->n_dh);
	if (r->n_unknown) {
		printf("  unknown names (ignored):");
		for (size_t k = 0; k < r->n_unknown && k < AS_REC_MAX_UNKNOWN; k++)
			printf(" %s", r->unknown[k]);
		if (r->n_unknown > AS_REC_MAX_UNKNOWN)
			printf(" and %zu more", r->n_unknown - AS_REC_MAX_UNKNOWN);
		putchar('\n');
	}
	if (c->usable)
		printf("  this host would use: %s, %s, %s\n", c->enc->name,
		       c->enc->aead ? "no separate integrity (AEAD)" : c->integ->name,
		       c->dh->name);
	else
		printf("  not usable here: no %s this host accepts\n",
		       !c->enc ? "encryption algorithm" : !c->dh ? "DH group" : "integrity algorithm");
}

/* ---- JSON output */

static void json_list(const char *k, int *first, const struct as_policy *pol,
		      const struct as_alg *const *l, size_t n)
{
	json_key(k, first);
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		const char *why = alg_why(pol, l[i]);
		int f = 1;

		if (i)
			putchar(',');
		putchar('{');
		json_key("name", &f);
		json_str(l[i]->name);
		json_key("state", &f);
		json_str(alg_state(pol, l[i]));
		if (why) {
			json_key("why", &f);
			json_str(why);
		}
		putchar('}');
	}
	putchar(']');
}

static void json_record(const struct as_keyrec *r, const struct as_dns_result *res,
			const char *qname, const struct as_policy *pol, const struct choice *c)
{
	char src[320], owner[320];
	int f = 1, g = 1;

	source_text(r, qname, src, sizeof(src));
	snprintf(owner, sizeof(owner), "%s%s%s", r->from_txt ? AS_TXT_LABEL : "",
		 r->from_txt ? "." : "", qname);
	putchar('{');
	json_key("source", &f);
	json_str(r->from_txt ? "TXT" : "KEY");
	json_key("owner", &f);
	json_str(owner);
	json_key("key_type", &f);
	json_str(key_type_name(r->key_type));
	json_key("key_bits", &f);
	printf("%u", r->key_bits);
	json_key("key_tag", &f);
	printf("%u", r->key_tag);
	json_key("ttl", &f);
	printf("%u", r->ttl);
	json_key("dnssec", &f);
	fputs(res->authenticated ? "true" : "false", stdout);
	json_list("encryption", &f, pol, r->enc, r->n_enc);
	json_list("integrity", &f, pol, r->integ, r->n_integ);
	json_list("dh", &f, pol, r->dh, r->n_dh);
	json_key("unknown", &f);
	putchar('[');
	for (size_t k = 0; k < r->n_unknown && k < AS_REC_MAX_UNKNOWN; k++) {
		if (k)
			putchar(',');
		json_str(r->unknown[k]);
	}
	putchar(']');
	json_key("unknown_count", &f);
	printf("%zu", r->n_unknown);
	json_key("usable", &f);
	fputs(c->usable ? "true" : "false", stdout);
	json_key("choice", &f);
	if (c->usable) {
		putchar('{');
		json_key("encryption", &g);
		json_str(c->enc->name);
		json_key("integrity", &g);
		if (c->enc->aead)
			fputs("null", stdout);
		else
			json_str(c->integ->name);
		json_key("dh", &g);
		json_str(c->dh->name);
		putchar('}');
	} else {
		fputs("null", stdout);
	}
	putchar('}');
	(void)src;
}

/* ---- lookup */

static int parse_ms(const char *s, unsigned *out)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 600000)
			return -1;
	}
	if (!v)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static void lookup_usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " lookup NAME [--server ADDR[:PORT]] [--json] [--timeout MS]\n"
		"\n"
		"Ask DNS for NAME's AutoSEC record (KEY at NAME, else TXT at _autosec.NAME)\n"
		"and say what was found and which algorithms this host would choose.\n"
		"\n"
		"  --server ADDR[:PORT]  ask this server (IPv6 as [ADDR]:PORT; a comma list\n"
		"                        is allowed) instead of those in /etc/resolv.conf\n"
		"  --timeout MS          time per try, in milliseconds (default 2000; two tries)\n"
		"  --json                one JSON object on stdout\n"
		"\n"
		"Exit status: 0 a usable record was found, 1 none (reason on stderr),\n"
		"2 usage error.\n");
}

static int cmd_lookup(int argc, char **argv)
{
	const char *name = NULL, *server = NULL;
	unsigned timeout = 0;
	int json = 0, rc, status = EXIT_NOTFOUND, first = 1;
	struct as_dns_opts o = { 0 };
	struct as_dns *dns = NULL;
	struct as_dns_result res = { 0 };
	struct as_diag d = { 0 };
	struct as_policy pol;
	struct choice ch[AS_DNS_MAX_RECS];
	char qname[256], why[400];
	size_t usable = 0;
	uint8_t addr[16];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			lookup_usage(stdout);
			return 0;
		} else if (!strcmp(a, "--server") || !strcmp(a, "--timeout")) {
			if (i + 1 >= argc)
				return usage_error("option", a, " needs a value");
			if (a[2] == 's')
				server = argv[++i];
			else if (parse_ms(argv[++i], &timeout))
				return usage_error("--timeout: invalid milliseconds", argv[i],
						   " (1..600000)");
		} else if (!strncmp(a, "--server=", 9)) {
			server = a + 9;
		} else if (!strncmp(a, "--timeout=", 10)) {
			if (parse_ms(a + 10, &timeout))
				return usage_error("--timeout: invalid milliseconds", a + 10,
						   " (1..600000)");
		} else if (!strcmp(a, "--")) {
			if (i + 1 < argc && !name)
				name = argv[++i];
			if (i + 1 < argc)
				return usage_error("unexpected argument", argv[i + 1], "");
		} else if (a[0] == '-' && a[1]) {
			return usage_error("lookup: unknown option", a, "");
		} else if (!name) {
			name = a;
		} else {
			return usage_error("lookup: unexpected argument", a, "");
		}
	}
	if (!name) {
		fprintf(stderr, PROG ": lookup: missing NAME\n");
		lookup_usage(stderr);
		return EXIT_USAGE;
	}
	if (inet_pton(AF_INET, name, addr) != 1 && inet_pton(AF_INET6, name, addr) != 1 &&
	    as_dns_name_check(name, &d) != AS_OK) {
		fprintf(stderr, PROG ": lookup: %s\n", d.msg);
		return EXIT_USAGE;
	}
	o.servers = server;
	o.timeout_ms = timeout;
	if ((rc = as_dns_new(&dns, &o, &d))) {
		fprintf(stderr, PROG ": lookup: %s\n", as_diag_msg(&d, rc));
		return rc == AS_E_INVAL ? EXIT_USAGE : EXIT_NOTFOUND;
	}
	as_policy_default(&pol);
	{
		size_t n = strlen(name);

		snprintf(qname, sizeof(qname), "%.*s", (int)(n && name[n - 1] == '.' ? n - 1 : n),
			 name);
	}
	res.diag = &d;
	rc = as_dns_lookup(dns, name, &res);
	for (size_t i = 0; i < res.n; i++) {
		choose(&pol, &res.rec[i], &ch[i]);
		usable += ch[i].usable;
	}
	if (rc == AS_OK && usable)
		status = 0;
	if (rc != AS_OK)
		snprintf(why, sizeof(why), "%s", as_diag_msg(&d, rc));
	else if (!usable)
		snprintf(why, sizeof(why), "%s has AutoSEC records, but none with algorithms "
				      "this host accepts", qname);
	else
		why[0] = '\0';

	if (json) {
		putchar('{');
		json_key("name", &first);
		json_str(qname);
		json_key("status", &first);
		json_str(rc ? as_errname(rc) : "AS_OK");
		json_key("usable", &first);
		fputs(status == 0 ? "true" : "false", stdout);
		if (why[0]) {
			json_key("reason", &first);
			json_str(why);
		}
		json_key("dnssec", &first);
		fputs(res.authenticated ? "true" : "false", stdout);
		json_key("ttl", &first);
		printf("%u", res.ttl);
		json_key("records", &first);
		putchar('[');
		for (size_t i = 0; i < res.n; i++) {
			if (i)
				putchar(',');
			json_record(&res.rec[i], &res, qname, &pol, &ch[i]);
		}
		putchar(']');
		json_key("unusable", &first);
		putchar('[');
		for (size_t i = 0; i < res.n_bad && i < AS_DNS_MAX_RECS; i++) {
			if (i)
				putchar(',');
			json_str(res.bad_why[i]);
		}
		putchar(']');
		json_key("unusable_count", &first);
		printf("%zu", res.n_bad);
		fputs("}\n", stdout);
	} else {
		if (res.n)
			printf("%s: %zu AutoSEC record%s, %zu usable by this host\n", qname, res.n,
			       res.n == 1 ? "" : "s", usable);
		for (size_t i = 0; i < res.n; i++)
			print_record(i, &res.rec[i], &res, qname, &pol, &ch[i]);
		for (size_t i = 0; i < res.n_bad && i < AS_DNS_MAX_RECS; i++)
			printf("unusable record: %s\n", res.bad_why[i]);
		if (res.n_bad > AS_DNS_MAX_RECS)
			printf("(and %zu more unusable records)\n", res.n_bad - AS_DNS_MAX_RECS);
	}
	if (status)
		fprintf(stderr, PROG ": %s: %s\n", qname, why);
	if (fflush(stdout) != 0 && !status) {
		perror(PROG ": stdout");
		status = EXIT_NOTFOUND;
	}
	as_dns_result_free(&res);
	as_dns_free(dns);
	return status;
}

/* ---- show, ping: requests to the running helper */

static void helper_usage(FILE *f, int show)
{
	if (show)
		fprintf(f,
			"usage: " PROG " show [--json] [--control PATH]\n"
			"\n"
			"Print the state of the running autosec-helper: its sockets, peers and\n"
			"security associations, as the helper renders them.\n"
			"\n"
			"  --json          one JSON object instead of text\n");
	else
		fprintf(f,
			"usage: " PROG " ping [--control PATH]\n"
			"\n"
			"Check that autosec-helper is running and answers on its control socket.\n"
			"\n");
	fprintf(f,
		"  --control PATH  the helper's control socket (default " AS_CTL_DEFAULT_PATH ")\n"
		"\n"
		"Exit status: 0 the helper answered, 1 it is not reachable or refused\n"
		"(reason on stderr), 2 usage error.\n");
}

static int helper_request(int argc, char **argv, int show)
{
	const char *path = AS_CTL_DEFAULT_PATH, *what = show ? "show" : "ping";
	struct as_diag d = { 0 };
	uint8_t flags = 0, status = 0;
	char *reply = NULL;
	size_t len = 0;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (show && !strcmp(a, "--json")) {
			flags |= AS_CTL_SHOW_JSON;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			helper_usage(stdout, show);
			return 0;
		} else if (!strcmp(a, "--control")) {
			if (i + 1 >= argc)
				return usage_error("option", a, " needs a value");
			path = argv[++i];
		} else if (!strncmp(a, "--control=", 10)) {
			path = a + 10;
		} else if (a[0] == '-' && a[1]) {
			return usage_error(show ? "show: unknown option" : "ping: unknown option",
					   a, "");
		} else {
			return usage_error(show ? "show: unexpected argument"
						: "ping: unexpected argument", a, "");
		}
	}
	if (!*path)
		return usage_error("--control: empty path", path, "");
	rc = as_ctl_request(path, show ? AS_CTL_SHOW : AS_CTL_PING, flags, NULL, 0, &status,
			    &reply, &len, &d);
	if (rc != AS_OK) {
		fprintf(stderr, PROG ": %s\n", as_diag_msg(&d, rc));
		return EXIT_NOTFOUND;
	}
	if (status != AS_CTL_ST_OK) {
		char q[200];

		as_quote(q, sizeof(q), reply, len);
		fprintf(stderr, PROG ": %s: autosec-helper refused: %s%s%s\n", what,
			as_ctl_status_text(status), len ? ": " : "", len ? q : "");
		free(reply);
		return EXIT_NOTFOUND;
	}
	if (!show && !len)
		printf("autosec-helper at %s is running\n", path);
	else if (len && fwrite(reply, 1, len, stdout) == len && reply[len - 1] != '\n')
		putchar('\n');
	free(reply);
	if (fflush(stdout) != 0) {
		perror(PROG ": stdout");
		return EXIT_NOTFOUND;
	}
	return 0;
}

static int cmd_show(int argc, char **argv)
{
	return helper_request(argc, argv, 1);
}

static int cmd_ping(int argc, char **argv)
{
	return helper_request(argc, argv, 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf(PROG " (" PACKAGE_NAME ") " PACKAGE_VERSION "\n");
		return 0;
	}
	for (size_t i = 0; i < N_CMDS; i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		return usage_error("unknown option", argv[1], "");
	return usage_error("unknown command", argv[1], "");
}
