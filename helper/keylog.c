/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Wireshark ESP SA export (keylog.h).  The names below are the value strings
 * of Wireshark's ESP dissector (epan/dissectors/packet-ipsec.c,
 * esp_encryption_type_vals and esp_authentication_type_vals), checked
 * against tshark 4.0.17 by tests/keylog-tshark.sh: Wireshark refuses a UAT
 * row with any other spelling.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/crypto.h>

#include "autosec/alg.h"
#include "autosec/err.h"
#include "autosec/esp.h"
#include "autosec/keylog.h"

static const char *ws_encr_name(const struct as_alg *enc, int *with_salt, int *commented)
{
	*with_salt = 0;
	*commented = 0;
	switch (enc->id) {
	case AS_ENCR_AES_GCM_16:
		*with_salt = 1;
		return "AES-GCM with 16 octet ICV [RFC4106]";
	case AS_ENCR_AES_CBC:
		return "AES-CBC [RFC3602]";
	case AS_ENCR_AES_CTR:
		*with_salt = 1;
		return "AES-CTR [RFC3686]";
	case AS_ENCR_CHACHA20_POLY1305:
		/* Not in Wireshark 4.0's table (later releases have it). */
		*with_salt = 1;
		*commented = 1;
		return "ChaCha20 with Poly1305 [RFC7634]";
	default:
		return NULL;
	}
}

static const char *ws_integ_name(const struct as_alg *integ)
{
	if (!integ || integ->id == AS_AUTH_NONE)
		return "NULL";
	switch (integ->id) {
	case AS_AUTH_HMAC_SHA2_256_128:
		return "HMAC-SHA-256-128 [RFC4868]";
	case AS_AUTH_HMAC_SHA2_384_192:
		return "HMAC-SHA-384-192 [RFC4868]";
	case AS_AUTH_HMAC_SHA2_512_256:
		return "HMAC-SHA-512-256 [RFC4868]";
	case AS_AUTH_HMAC_SHA1_96:
		return "HMAC-SHA-1-96 [RFC2404]";
	case AS_AUTH_HMAC_MD5_96:
		return "HMAC-MD5-96 [RFC2403]";
	default:
		return NULL;
	}
}

/* Full form, eight groups of four digits: Wireshark expands a filter address
 * with its own parser, which does not read the embedded-IPv4 forms that
 * inet_ntop may produce. */
static void v6_full(char *out, size_t cap, const uint8_t *a)
{
	size_t o = 0;

	if (cap)
		out[0] = '\0';
	for (int i = 0; i < 16 && o + 5 < cap; i += 2)
		o += (size_t)snprintf(out + o, cap - o, "%s%02x%02x", i ? ":" : "", a[i], a[i + 1]);
}

static size_t put_hex(char *out, size_t cap, const uint8_t *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n && o + 2 < cap; i++) {
		out[o++] = hx[p[i] >> 4];
		out[o++] = hx[p[i] & 15];
	}
	out[o] = '\0';
	return o;
}

int as_keylog_format(char *out, size_t cap, int family, const uint8_t *src, const uint8_t *dst,
		     const struct as_esp_sa *sa, int *commented)
{
	char s[48], t[48];
	char ekey[2 * (32 + 4) + 1], ikey[2 * 64 + 1];
	const char *ename, *iname;
	int with_salt, cm, n;
	size_t o;

	if (!out || !cap || !sa || !sa->enc)
		return AS_E_INVAL;
	out[0] = '\0';
	/* The engine's peer keys say 4 and 6; the socket API AF_INET (2) and
	 * AF_INET6 (10).  Both are taken: they cannot be confused. */
	if (family == 4)
		family = AF_INET;
	else if (family == 6)
		family = AF_INET6;
	if (family == AF_INET) {
		if ((src && !inet_ntop(AF_INET, src, s, sizeof(s))) ||
		    (dst && !inet_ntop(AF_INET, dst, t, sizeof(t))))
			return AS_E_INVAL;
	} else if (family == AF_INET6) {
		if (src)
			v6_full(s, sizeof(s), src);
		if (dst)
			v6_full(t, sizeof(t), dst);
	} else {
		return AS_E_INVAL;
	}
	/* An address not known (yet) matches any: Wireshark's wildcard. */
	if (!src)
		snprintf(s, sizeof(s), "*");
	if (!dst)
		snprintf(t, sizeof(t), "*");
	ename = ws_encr_name(sa->enc, &with_salt, &cm);
	if (!ename)
		return AS_E_ALG_UNKNOWN;
	if (sa->enc->aead) {
		iname = "NULL";
	} else {
		iname = ws_integ_name(sa->integ);
		if (!iname)
			return AS_E_ALG_UNKNOWN;
	}
	if (sa->enc->key_len > sizeof(sa->key) ||
	    (with_salt && sa->enc->salt_len != sizeof(sa->salt)))
		return AS_E_INVAL;
	o = put_hex(ekey, sizeof(ekey), sa->key, sa->enc->key_len);
	if (with_salt)
		put_hex(ekey + o, sizeof(ekey) - o, sa->salt, sizeof(sa->salt));
	ikey[0] = '\0';
	if (!sa->enc->aead && sa->integ && sa->integ->id != AS_AUTH_NONE) {
		if (sa->integ->ikey_len > sizeof(sa->ikey))
			return AS_E_INVAL;
		put_hex(ikey, sizeof(ikey), sa->ikey, sa->integ->ikey_len);
	}
	n = snprintf(out, cap, "%s\"%s\",\"%s\",\"%s\",\"0x%08x\",\"%s\",\"0x%s\",\"%s\",\"%s%s\"",
		     cm ? "# " : "", family == AF_INET ? "IPv4" : "IPv6", s, t, sa->spi, ename,
		     ekey, iname, ikey[0] ? "0x" : "", ikey);
	OPENSSL_cleanse(ekey, sizeof(ekey));
	OPENSSL_cleanse(ikey, sizeof(ikey));
	if (n < 0 || (size_t)n >= cap) {
		OPENSSL_cleanse(out, cap);
		out[0] = '\0';
		return AS_E_NOSPACE;
	}
	if (commented)
		*commented = cm;
	return AS_OK;
}

int as_keylog_open(struct as_keylog *k, const char *path, struct as_diag *d)
{
	static const char header[] =
		"# autosec: ESP SAs for Wireshark (the esp_sa table of a profile, or\n"
		"# tshark -o 'uat:esp_sa:LINE'); these are secret keys.\n";
	struct stat st;
	int fd, e, created = 1;

	if (!k)
		return AS_E_INVAL;
	k->fd = -1;
	if (!path || !path[0])
		return AS_OK;
	/* O_NONBLOCK: a FIFO put at the path must not stall the helper (it
	 * is refused below as not a regular file). */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
			O_NONBLOCK, 0600);
	if (fd < 0 && errno == EEXIST) {
		created = 0;
		fd = open(path,
			  O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	}
	if (fd < 0) {
		e = errno;
		as_diag_set(d, AS_E_IO, "cannot open keylog %s: %s", path,
			    e == ELOOP ? "it is a symbolic link" : strerror(e));
		errno = e;
		return AS_E_IO;
	}
	/* A new file gets exactly 0600 whatever the umask; an existing one must
	 * already be private to us, or someone else could read the keys. */
	if (created && fchmod(fd, 0600) != 0) {
		e = errno;
		close(fd);
		as_diag_set(d, AS_E_IO, "cannot chmod keylog %s: %s", path, strerror(e));
		errno = e;
		return AS_E_IO;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		as_diag_set(d, AS_E_IO, "cannot stat keylog %s: %s", path, strerror(e));
		errno = e;
		return AS_E_IO;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != geteuid() ||
	    (st.st_mode & 07777) != 0600) {
		close(fd);
		return as_diag_set(d, AS_E_INVAL,
				   "refusing keylog %s: it must be a regular file with one link, "
				   "owned by uid %u, mode 0600 (it is %s, %lu links, uid %u, "
				   "mode %04o)", path, (unsigned)geteuid(),
				   S_ISREG(st.st_mode) ? "a file" : "not a regular file",
				   (unsigned long)st.st_nlink, (unsigned)st.st_uid,
				   (unsigned)(st.st_mode & 07777));
	}
	if (fcntl(fd, F_SETFL, O_APPEND) != 0) { /* back to blocking writes */
		e = errno;
		close(fd);
		as_diag_set(d, AS_E_IO, "cannot set up keylog %s: %s", path, strerror(e));
		errno = e;
		return AS_E_IO;
	}
	if (created || st.st_size == 0) {
		if (write(fd, header, sizeof(header) - 1) != (ssize_t)(sizeof(header) - 1)) {
			e = errno;
			close(fd);
			as_diag_set(d, AS_E_IO, "cannot write keylog %s: %s", path, strerror(e));
			errno = e;
			return AS_E_IO;
		}
	}
	k->fd = fd;
	return AS_OK;
}

int as_keylog_sa(struct as_keylog *k, int family, const uint8_t *src, const uint8_t *dst,
		 const struct as_esp_sa *sa)
{
	char line[AS_KEYLOG_LINE_MAX + 1];
	size_t n;
	ssize_t w;
	int rc;

	if (!k || k->fd < 0)
		return AS_OK;
	rc = as_keylog_format(line, sizeof(line) - 1, family, src, dst, sa, NULL);
	if (rc)
		goto out;
	n = strlen(line);
	line[n++] = '\n';
	/* One write per line with O_APPEND: lines of concurrent writers (or of a
	 * reader following the file) never interleave. */
	do
		w = write(k->fd, line, n);
	while (w < 0 && errno == EINTR);
	rc = w == (ssize_t)n ? AS_OK : AS_E_IO;
out:
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

void as_keylog_close(struct as_keylog *k)
{
	if (k && k->fd >= 0) {
		close(k->fd);
		k->fd = -1;
	}
}
