/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * autosec-helper's configuration: /etc/autosec/autosec.conf and the same
 * keys on the command line as --KEY VALUE.  Both go through as_conf_set, so
 * a value is validated the same way wherever it comes from.
 *
 * File syntax, one setting per line:
 *
 *     # a comment: '#' as the first non-blank character of a line
 *     KEY = VALUE
 *
 * Blanks around KEY and VALUE are ignored; VALUE runs to the end of the line
 * (there are no trailing comments, so a path may contain '#').  Lines are at
 * most AS_CONF_LINE_MAX bytes, the file at most AS_CONF_FILE_MAX; NUL bytes
 * are refused.  Later settings override earlier ones (file first, then the
 * command line), except `key`, which accumulates (up to AS_CONF_MAX_KEYS).
 *
 * Errors name where the value came from, the key and the offending value:
 *     /etc/autosec/autosec.conf:7: mtu "70000" is outside 1280..9000
 */
#ifndef AUTOSEC_CONF_H
#define AUTOSEC_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "autosec/alg.h"

struct as_diag;
struct as_wbuf;

#define AS_CONF_PATH "/etc/autosec/autosec.conf"
#define AS_CONF_CONTROL_PATH "/run/autosec/control.sock"
#define AS_CONF_MAX_KEYS 8
#define AS_CONF_LINE_MAX 1024
#define AS_CONF_FILE_MAX 65536
#define AS_CONF_PATH_MAX 256   /* key, keylog (with the terminating NUL) */
#define AS_CONF_SUN_PATH_MAX 108 /* control: must fit sockaddr_un.sun_path */
#define AS_CONF_IFNAME_MAX 16  /* IFNAMSIZ */
#define AS_CONF_LIST_MAX 256   /* dns-server, allow-* */

enum as_conf_policy {
	AS_CONF_OPPORTUNISTIC = 0, /* AutoSEC where the peer publishes a key, else clear */
	AS_CONF_REQUIRED = 1,      /* no key or no answer: the packet is dropped */
};

struct as_conf {
	char key[AS_CONF_MAX_KEYS][AS_CONF_PATH_MAX]; /* private key files */
	size_t n_keys;
	char tun[AS_CONF_IFNAME_MAX];
	unsigned mtu;
	uint32_t mark_steer;   /* fwmark of sockets the shim hands over -> TUN */
	uint32_t mark_out;     /* fwmark of the helper's own outer packets */
	uint32_t mark_mask;
	uint32_t table_steer, table_peers, rule_priority;
	uint8_t protocol;      /* IPv6 next header (and raw IPv4 protocol) of AutoSEC */
	uint16_t port;         /* UDP port for IPv4 */
	int policy;            /* enum as_conf_policy */
	char dns_server[AS_CONF_LIST_MAX]; /* "" = /etc/resolv.conf */
	int dnssec_require;
	char control[AS_CONF_SUN_PATH_MAX];
	int log_level;         /* enum as_log_level */
	int log_syslog;        /* log-target: 0 stderr, 1 syslog */
	char keylog[AS_CONF_PATH_MAX]; /* "" = off */
	uint32_t freshness;    /* seconds */
	uint32_t sa_lifetime, sa_idle; /* seconds */
	uint64_t sa_bytes;
	uint32_t queue_max;
	struct as_policy alg;
	/* The allow-* lists as given ("" = the registry's default), for show. */
	char allow_encr[AS_CONF_LIST_MAX], allow_integ[AS_CONF_LIST_MAX],
		allow_dh[AS_CONF_LIST_MAX];
};

/* Every key, in the order of the manual; NULL name ends the table. */
struct as_conf_key {
	const char *name;  /* "mtu": the file's key and the option --mtu */
	const char *arg;   /* "BYTES": for usage lines */
	const char *help;  /* one line */
};
const struct as_conf_key *as_conf_keys(size_t *n);

/* Every field at its default. */
void as_conf_default(struct as_conf *c);

/*
 * Apply one setting.  where names its source for messages ("FILE:LINE" or
 * "command line"); on error c is unchanged and d says
 * "WHERE: KEY "VALUE" <what is wrong>".  AS_E_INVAL for any bad key or value
 * (unknown key, not a number, out of range, bad name, too long, relative
 * path, ...), AS_E_ALG_UNKNOWN / AS_E_ALG_REFUSED from the allow-* lists
 * (as as_policy_set).  An empty value is allowed only for dns-server and
 * keylog (back to the default) and for the allow-* lists (the default
 * policy).
 */
int as_conf_set(struct as_conf *c, const char *key, const char *value, const char *where,
		struct as_diag *d);

/* Parse a whole file's bytes (name for messages).  Stops at the first error. */
int as_conf_parse(struct as_conf *c, const char *name, const void *data, size_t len,
		  struct as_diag *d);

/*
 * Read and parse path.  AS_E_IO (errno kept, ENOENT when it does not exist)
 * if it cannot be read or is not a regular file; AS_E_INVAL if it is larger
 * than AS_CONF_FILE_MAX or does not parse.
 *
 * strict_perms (the helper passes getuid() != geteuid(), i.e. setuid): the
 * path must be absolute, and the file and every directory above it (of the
 * path as given and of the path with symlinks resolved) must be owned by
 * root and not writable by group or others; a directory writable by others
 * is accepted only when it is root's and sticky (like /tmp), since nobody
 * else can then rename what is in it.  NOTE for the caller: a setuid helper
 * must not let the invoking user choose path at all (ignore --config),
 * otherwise an error message could quote lines of a root-only file.
 */
int as_conf_load(struct as_conf *c, const char *path, int strict_perms, struct as_diag *d);

/* The strict_perms check alone; owner is the uid accepted besides root
 * (0 in the helper; tests pass their own uid).  AS_E_INVAL when refused. */
int as_conf_check_perms(const char *path, uid_t owner, struct as_diag *d);

/*
 * Checks across keys, after every source was applied: the marks are
 * non-zero, inside mark-mask and distinct; the two tables differ; sa-idle is
 * at most sa-lifetime.  AS_E_INVAL with a sentence naming both keys.
 */
int as_conf_finish(const struct as_conf *c, struct as_diag *d);

/* Every setting as "key = value\n" lines (a valid configuration file). */
int as_conf_dump(const struct as_conf *c, struct as_wbuf *out);

/* The record text file of a key file: "FILE.rec". */
int as_conf_rec_path(const char *key, char *out, size_t cap);

#endif
