/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * autosec-keygen: make a server key pair and the DNS records that publish
 * it (KEY at the name, TXT fallback at _autosec.<name>).
 *
 * The private key goes to KEYFILE (PKCS#8 PEM, 0600, never overwritten), the
 * record text to KEYFILE.rec (what the responder loads), the zone lines to
 * stdout and a one-line summary to stderr.  No private key byte is printed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "autosec/alg.h"
#include "autosec/err.h"
#include "autosec/keyrec.h"
#include "autosec/pkey.h"

#define PROG "autosec-keygen"
#define DEFAULT_KEYFILE "autosec.key"
#define DEFAULT_TTL 3600
#define DEFAULT_ENC "ENCR_AES_GCM_16-256,ENCR_CHACHA20_POLY1305,ENCR_AES_CBC-256"
#define DEFAULT_HASH "AUTH_HMAC_SHA2_256_128,AUTH_HMAC_SHA2_512_256"
#define DEFAULT_DH "CURVE25519,MODP3072"
#define REC_FILE_MAX 16384

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [-t rsa|x25519] [-b 2048|3072|4096] [-o KEYFILE] [-n NAME]\n"
		"                      [--ttl N] [--enc LIST] [--hash LIST] [--dh LIST]\n"
		"                      [--allow-legacy]\n"
		"       " PROG " --print [-o KEYFILE] [-n NAME] [--ttl N]\n"
		"       " PROG " -h|--help | --version\n"
		"\n"
		"Generate an IP AutoSEC key pair and print the DNS records that publish it.\n"
		"\n"
		"  -t, --type TYPE    key type: x25519 (default) or rsa\n"
		"  -b, --bits N       RSA modulus size: 2048, 3072 (default) or 4096\n"
		"  -o, --out KEYFILE  private key file (PKCS#8 PEM, mode 0600, never\n"
		"                     overwritten; default " DEFAULT_KEYFILE "); the record text\n"
		"                     is written to KEYFILE.rec\n"
		"  -n, --name NAME    owner name of the records; default: this host's name\n"
		"                     with a trailing dot, if it is fully qualified (else -n\n"
		"                     is required)\n"
		"      --ttl N        TTL of the records (default %d)\n"
		"      --enc LIST     encryption algorithms, most preferred first\n"
		"                     (default " DEFAULT_ENC ")\n"
		"      --hash LIST    integrity algorithms, NONE when every cipher is AEAD\n"
		"                     (default " DEFAULT_HASH ")\n"
		"      --dh LIST      DH groups (default " DEFAULT_DH ")\n"
		"      --allow-legacy publish algorithms that RFC 8221/8247 refuse (warns)\n"
		"      --print        print the records of an existing KEYFILE again\n"
		"                     (reads KEYFILE.rec)\n"
		"  -h, --help         this text\n"
		"      --version      print the version\n"
		"\n"
		"The KEY line goes to the zone at NAME, the TXT line at _autosec.NAME is the\n"
		"fallback for DNS hosting that cannot serve KEY records.\n",
		DEFAULT_TTL);
}

static void die_diag(const struct as_diag *d, int rc)
{
	fprintf(stderr, PROG ": %s\n", as_diag_msg(d, rc));
	exit(1);
}

/*
 * Split a comma list into a NULL-terminated array of names (whitespace
 * around names dropped) and check each against the registry.  The strings
 * point into list, which is modified.
 */
static void parse_names(char *list, int type, int allow_legacy, const char **names,
			size_t max, const char *opt)
{
	size_t n = 0;
	char *s = list;

	names[0] = NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s) {
		fprintf(stderr, PROG ": %s: empty %s list%s\n", opt, as_alg_type_name(type),
			type == AS_XF_INTEG ? " (NONE when every cipher is AEAD)" : "");
		exit(1);
	}
	for (;;) {
		char *end = strchr(s, ','), *e;
		const struct as_alg *a;
		char q[64];

		if (end)
			*end = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		as_quote(q, sizeof(q), s, strlen(s));
		if (!*s) {
			fprintf(stderr, PROG ": %s: empty name in the list\n", opt);
			exit(1);
		}
		a = as_alg_by_name(type, s, strlen(s));
		if (!a) {
			fprintf(stderr, PROG ": %s: unknown %s algorithm \"%s\"%s\n", opt,
				as_alg_type_name(type), q,
				type == AS_XF_ENCR && !strchr(s, '-')
					? " (encryption names end in -128, -192 or -256)"
					: "");
			exit(1);
		}
		if (a->status == AS_ALG_UNSUPPORTED) {
			fprintf(stderr, PROG ": %s: %s algorithm \"%s\" is not supported: %s\n", opt,
				as_alg_type_name(type), q, a->why);
			exit(1);
		}
		if (a->status == AS_ALG_REFUSED) {
			if (!allow_legacy) {
				fprintf(stderr,
					PROG ": %s: refused %s algorithm \"%s\": %s "
					"(--allow-legacy publishes it anyway)\n",
					opt, as_alg_type_name(type), q, a->why);
				exit(1);
			}
			fprintf(stderr,
				PROG ": warning: publishing legacy %s algorithm \"%s\": %s\n",
				as_alg_type_name(type), q, a->why);
		}
		if (n + 1 >= max) {
			fprintf(stderr, PROG ": %s: more than %d names\n", opt, AS_REC_MAX_ALGS);
			exit(1);
		}
		names[n++] = s;
		names[n] = NULL;
		if (!end)
			break;
		s = end + 1;
	}
}

/*
 * A record may list AES-CBC or AES-CTR with only NONE as hash (the initiator
 * then skips them), but publishing such a cipher is surely a mistake.
 */
static void check_integ(const char *const *enc, const char *const *hash)
{
	int have = 0;

	for (size_t i = 0; hash[i]; i++) {
		const struct as_alg *a = as_alg_by_name(AS_XF_INTEG, hash[i], strlen(hash[i]));

		if (a && a->id != AS_AUTH_NONE)
			have = 1;
	}
	for (size_t i = 0; enc[i] && !have; i++) {
		const struct as_alg *a = as_alg_by_name(AS_XF_ENCR, enc[i], strlen(enc[i]));

		if (a && !a->aead) {
			fprintf(stderr,
				PROG ": --enc: \"%s\" is not an AEAD cipher and needs an integrity "
				"algorithm other than NONE in --hash\n",
				enc[i]);
			exit(1);
		}
	}
}

static char *default_name(void)
{
	char host[256];
	static char name[258];

	if (gethostname(host, sizeof(host) - 1) != 0) {
		fprintf(stderr, PROG ": cannot get the host name (%s): give the name with -n\n",
			strerror(errno));
		exit(1);
	}
	host[sizeof(host) - 1] = '\0';
	if (!strchr(host, '.')) {
		fprintf(stderr,
			PROG ": the host name \"%s\" is not fully qualified: give the record's "
			"name with -n\n",
			host);
		exit(1);
	}
	snprintf(name, sizeof(name), "%s%s", host, host[strlen(host) - 1] == '.' ? "" : ".");
	return name;
}

static unsigned long parse_ulong(const char *s, const char *opt, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (*s < '0' || *s > '9') {
		fprintf(stderr, PROG ": %s: invalid number \"%s\"\n", opt, s);
		exit(1);
	}
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max) {
		fprintf(stderr, PROG ": %s: invalid value \"%s\" (0..%lu)\n", opt, s, max);
		exit(1);
	}
	return v;
}

static const char *type_word(int t)
{
	return t == AS_KEY_RSA ? "rsa" : t == AS_KEY_X25519 ? "x25519" : "?";
}

/* The record file: the text, one line, readable by the responder's user. */
static int write_rec(const char *path, const char *text)
{
	size_t len = strlen(text), off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0) {
		fprintf(stderr, PROG ": cannot create %s: %s\n", path,
			errno == EEXIST ? "it already exists, refusing to overwrite it"
					: strerror(errno));
		return -1;
	}
	while (off < len + 1) {
		const char *p = off < len ? text + off : "\n";
		size_t n = off < len ? len - off : 1;
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(errno));
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0) {
		fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

static void read_rec(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		fprintf(stderr, PROG ": cannot open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	n = fread(buf, 1, cap - 1, f);
	if (ferror(f) || (n == cap - 1 && fgetc(f) != EOF)) {
		fprintf(stderr, PROG ": %s: %s\n", path,
			ferror(f) ? "read error" : "too long for a record file");
		fclose(f);
		exit(1);
	}
	fclose(f);
	buf[n] = '\0';
	if (strlen(buf) != n) {
		fprintf(stderr, PROG ": %s: contains a NUL byte\n", path);
		exit(1);
	}
}

static void print_records(const char *name, unsigned long ttl, const char *text)
{
	static char lines[4 * AS_REC_MAX_TEXT];
	struct as_diag d = { 0 };
	int rc;

	rc = as_keyrec_zone_lines(name, (uint32_t)ttl, text, lines, sizeof(lines), &d);
	if (rc)
		die_diag(&d, rc);
	fputs(lines, stdout);
	if (fflush(stdout) != 0) {
		fprintf(stderr, PROG ": cannot write to stdout: %s\n", strerror(errno));
		exit(1);
	}
}

enum {
	OPT_TTL = 256,
	OPT_ENC,
	OPT_HASH,
	OPT_DH,
	OPT_ALLOW_LEGACY,
	OPT_PRINT,
	OPT_VERSION,
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "bits", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "ttl", required_argument, NULL, OPT_TTL },
		{ "enc", required_argument, NULL, OPT_ENC },
		{ "hash", required_argument, NULL, OPT_HASH },
		{ "dh", required_argument, NULL, OPT_DH },
		{ "allow-legacy", no_argument, NULL, OPT_ALLOW_LEGACY },
		{ "print", no_argument, NULL, OPT_PRINT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfile = DEFAULT_KEYFILE, *name = NULL, *bits_arg = NULL;
	char *enc_arg = NULL, *hash_arg = NULL, *dh_arg = NULL;
	const char *enc[AS_REC_MAX_ALGS + 1], *hash[AS_REC_MAX_ALGS + 1], *dh[AS_REC_MAX_ALGS + 1];
	static char text[AS_REC_MAX_TEXT + 2];
	char recfile[PATH_MAX];
	unsigned long ttl = DEFAULT_TTL;
	int type = AS_KEY_X25519, allow_legacy = 0, print_only = 0, c, rc;
	unsigned bits = 0;
	struct as_diag d = { 0 };
	struct as_keyrec rec;
	struct stat st;
	EVP_PKEY *k = NULL;

	while ((c = getopt_long(argc, argv, "t:b:o:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (!strcasecmp(optarg, "rsa")) {
				type = AS_KEY_RSA;
			} else if (!strcasecmp(optarg, "x25519")) {
				type = AS_KEY_X25519;
			} else {
				fprintf(stderr, PROG ": -t: unknown key type \"%s\" (rsa or x25519)\n",
					optarg);
				return 1;
			}
			break;
		case 'b':
			bits_arg = optarg;
			break;
		case 'o':
			keyfile = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case OPT_TTL:
			ttl = parse_ulong(optarg, "--ttl", 2147483647UL);
			break;
		case OPT_ENC:
			enc_arg = optarg;
			break;
		case OPT_HASH:
			hash_arg = optarg;
			break;
		case OPT_DH:
			dh_arg = optarg;
			break;
		case OPT_ALLOW_LEGACY:
			allow_legacy = 1;
			break;
		case OPT_PRINT:
			print_only = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf(PROG " (" PACKAGE_NAME ") " PACKAGE_VERSION "\n");
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if (!*keyfile) {
		fprintf(stderr, PROG ": -o: empty file name\n");
		return 1;
	}
	if ((size_t)snprintf(recfile, sizeof(recfile), "%s.rec", keyfile) >= sizeof(recfile)) {
		fprintf(stderr, PROG ": -o: file name too long\n");
		return 1;
	}
	if (print_only) {
		if (bits_arg || enc_arg || hash_arg || dh_arg) {
			fprintf(stderr, PROG ": --print takes only -o, -n and --ttl\n");
			return 1;
		}
		if (!name)
			name = default_name();
		read_rec(recfile, text, sizeof(text));
		rc = as_keyrec_parse_text(text, strlen(text), &rec, &d);
		if (rc) {
			fprintf(stderr, PROG ": %s: %s\n", recfile, as_diag_msg(&d, rc));
			return 1;
		}
		print_records(name, ttl, text);
		fprintf(stderr, PROG ": %s key, %u bits, key tag %u, record from %s\n",
			type_word(rec.key_type), rec.key_bits, rec.key_tag, recfile);
		as_keyrec_free(&rec);
		return 0;
	}

	if (bits_arg) {
		if (type != AS_KEY_RSA) {
			fprintf(stderr, PROG ": -b %s: only RSA keys have a size (use -t rsa)\n",
				bits_arg);
			return 1;
		}
		if (strcmp(bits_arg, "2048") && strcmp(bits_arg, "3072") &&
		    strcmp(bits_arg, "4096")) {
			fprintf(stderr,
				PROG ": -b: invalid RSA key size \"%s\" (2048, 3072 or 4096)\n",
				bits_arg);
			return 1;
		}
		bits = (unsigned)atoi(bits_arg);
	} else if (type == AS_KEY_RSA) {
		bits = 3072;
	}
	{
		/* argv strings are ours to modify; the defaults are copied */
		static char enc_def[] = DEFAULT_ENC, hash_def[] = DEFAULT_HASH,
			    dh_def[] = DEFAULT_DH;

		parse_names(enc_arg ? enc_arg : enc_def, AS_XF_ENCR, allow_legacy, enc,
			    AS_REC_MAX_ALGS + 1, "--enc");
		parse_names(hash_arg ? hash_arg : hash_def, AS_XF_INTEG, allow_legacy, hash,
			    AS_REC_MAX_ALGS + 1, "--hash");
		parse_names(dh_arg ? dh_arg : dh_def, AS_XF_DH, allow_legacy, dh,
			    AS_REC_MAX_ALGS + 1, "--dh");
		check_integ(enc, hash);
	}
	if (!name)
		name = default_name();
	/* fail before a slow RSA generation if the files are in the way */
	if (lstat(keyfile, &st) == 0) {
		fprintf(stderr, PROG ": %s already exists: refusing to overwrite it\n", keyfile);
		return 1;
	}
	if (lstat(recfile, &st) == 0) {
		fprintf(stderr, PROG ": %s already exists: refusing to overwrite it\n", recfile);
		return 1;
	}

	rc = as_pkey_generate(type, bits, &k, &d);
	if (rc)
		die_diag(&d, rc);
	rc = as_keyrec_format_text(enc, hash, dh, k, text, sizeof(text), &d);
	if (rc) {
		EVP_PKEY_free(k);
		die_diag(&d, rc);
	}
	/* check the name and TTL before anything is written */
	{
		static char lines[4 * AS_REC_MAX_TEXT];

		rc = as_keyrec_zone_lines(name, (uint32_t)ttl, text, lines, sizeof(lines), &d);
		if (rc) {
			EVP_PKEY_free(k);
			die_diag(&d, rc);
		}
	}
	rc = as_pkey_write_private(k, keyfile, &d);
	EVP_PKEY_free(k);
	if (rc)
		die_diag(&d, rc);
	if (write_rec(recfile, text) != 0) {
		unlink(keyfile);
		return 1;
	}
	rc = as_keyrec_parse_text(text, strlen(text), &rec, &d);
	if (rc)
		die_diag(&d, rc);
	print_records(name, ttl, text);
	fprintf(stderr, PROG ": %s key, %u bits, key tag %u, private key in %s, record in %s\n",
		type_word(rec.key_type), rec.key_bits, rec.key_tag, keyfile, recfile);
	as_keyrec_free(&rec);
	return 0;
}
