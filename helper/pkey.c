/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Public and private keys.  We accept exactly two kinds: RSA with a 2048,
 * 3072 or 4096 bit modulus (the header is RSA-OAEP encrypted) and X25519
 * (the header is sealed with HPKE).  Anything else that a record or a file
 * offers is refused by name, so an operator sees "EC" rather than a generic
 * failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "autosec/buf.h"
#include "autosec/err.h"
#include "autosec/pkey.h"

/* A PKCS#8 PEM of RSA-4096 is about 3.3 KB; anything far larger is not ours. */
#define PEM_FILE_MAX (64 * 1024)

int as_pkey_info(EVP_PKEY *k, int *type, unsigned *bits, struct as_diag *d)
{
	const char *tn;
	int t = AS_KEY_NONE;
	unsigned b = 0;

	if (!k)
		return as_diag_set(d, AS_E_INVAL, "no key");
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
		b = (unsigned)EVP_PKEY_get_bits(k);
		if (b != 2048 && b != 3072 && b != 4096)
			return as_diag_set(d, AS_E_REC_KEY_TYPE,
					   "RSA key of %u bits is not accepted (2048, 3072 or 4096)",
					   b);
		t = AS_KEY_RSA;
		break;
	case EVP_PKEY_X25519:
		/* the size of the public value; X25519 has no size choice */
		b = 256;
		t = AS_KEY_X25519;
		break;
	default:
		tn = EVP_PKEY_get0_type_name(k);
		ERR_clear_error();
		return as_diag_set(d, AS_E_REC_KEY_TYPE,
				   "key type \"%s\" is not accepted (RSA or X25519)",
				   tn ? tn : "unknown");
	}
	if (type)
		*type = t;
	if (bits)
		*bits = b;
	return AS_OK;
}

int as_pkey_generate(int type, unsigned bits, EVP_PKEY **out, struct as_diag *d)
{
	EVP_PKEY *k = NULL;

	*out = NULL;
	switch (type) {
	case AS_KEY_RSA:
		if (bits != 2048 && bits != 3072 && bits != 4096)
			return as_diag_set(d, AS_E_REC_KEY_TYPE,
					   "RSA key size %u is not accepted (2048, 3072 or 4096)",
					   bits);
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
		break;
	case AS_KEY_X25519:
		if (bits != 0 && bits != 256)
			return as_diag_set(d, AS_E_REC_KEY_TYPE,
					   "X25519 keys have no size choice (got %u bits)", bits);
		k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
		break;
	default:
		return as_diag_set(d, AS_E_REC_KEY_TYPE, "key type %d is not accepted", type);
	}
	if (!k) {
		ERR_clear_error();
		return as_diag_set(d, AS_E_CRYPTO, "key generation failed");
	}
	*out = k;
	return AS_OK;
}

/*
 * RSA keys in records come from whoever controls the DNS answer.  Refuse
 * what makes OAEP meaningless or OpenSSL's public operation fail: e = 1
 * ("encryption" is the identity), an even e or n, or e above 64 bits (which
 * OpenSSL rejects for moduli over 3072 bits).  EVP_PKEY_public_check is not
 * used: its SP 800-56B check runs dozens of Miller-Rabin rounds on n (tens
 * to hundreds of milliseconds per record, with random bases, so its verdict
 * on a crafted modulus can even change between calls).
 */
static int rsa_public_ok(EVP_PKEY *k)
{
	BIGNUM *n = NULL, *e = NULL;
	int ok;

	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		ok = 0;
		goto out;
	}
	ok = BN_is_odd(n) && BN_is_odd(e) && !BN_is_one(e) && BN_num_bits(e) <= 64;
out:
	BN_free(n);
	BN_free(e);
	return ok;
}

/*
 * An X25519 public value of small order gives the all-zero shared secret
 * for every peer (RFC 7748 section 6.1); HPKE would refuse it at the first
 * datagram.  Say so when the record is read instead: any clamped scalar is
 * a multiple of the cofactor 8, so one trial derivation exposes every such
 * point (OpenSSL fails a derivation whose result is all zero).
 */
static int x25519_public_ok(EVP_PKEY *k)
{
	static const uint8_t scalar[32] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
					    0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
					    0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
					    0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f };
	EVP_PKEY *mine = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar,
						      sizeof(scalar));
	EVP_PKEY_CTX *c = mine ? EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL) : NULL;
	uint8_t out[32];
	size_t n = sizeof(out);
	int ok = c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, k) == 1 &&
		 EVP_PKEY_derive(c, out, &n) == 1;

	OPENSSL_cleanse(out, sizeof(out));
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(mine);
	ERR_clear_error();
	return ok;
}

int as_pkey_from_spki(const uint8_t *der, size_t len, EVP_PKEY **out, struct as_diag *d)
{
	const unsigned char *p = der;
	uint8_t again[AS_SPKI_MAX];
	size_t again_len = 0;
	EVP_PKEY *k = NULL;
	int type, rc;

	*out = NULL;
	if (!der || len == 0)
		return as_diag_set(d, AS_E_REC_KEY, "empty public key");
	if (len > AS_SPKI_MAX)
		return as_diag_set(d, AS_E_REC_KEY, "public key of %zu bytes is too long (max %d)",
				   len, AS_SPKI_MAX);
	k = d2i_PUBKEY(NULL, &p, (long)len);
	if (!k) {
		ERR_clear_error();
		return as_diag_set(d, AS_E_REC_KEY,
				   "public key (%zu bytes) is not a DER SubjectPublicKeyInfo", len);
	}
	/* d2i stops at the end of the outer SEQUENCE: the rest is garbage */
	if ((size_t)(p - der) != len) {
		rc = as_diag_set(d, AS_E_REC_KEY, "%zu bytes of garbage after the public key",
				 len - (size_t)(p - der));
		goto out;
	}
	rc = as_pkey_info(k, &type, NULL, d);
	if (rc)
		goto out;
	/* The key tag and the record digest are over these bytes: accept only
	 * the one DER encoding, never a BER variant of it. */
	if (as_pkey_to_spki(k, again, sizeof(again), &again_len) != AS_OK ||
	    again_len != len || memcmp(again, der, len) != 0) {
		rc = as_diag_set(d, AS_E_REC_KEY, "public key is not in canonical DER form");
		goto out;
	}
	if (type == AS_KEY_X25519 && !x25519_public_ok(k)) {
		rc = as_diag_set(d, AS_E_REC_KEY, "X25519 public key is a point of small order");
		goto out;
	}
	if (type == AS_KEY_RSA && !rsa_public_ok(k)) {
		rc = as_diag_set(d, AS_E_REC_KEY, "unusable RSA public key (even modulus, "
				 "or exponent not odd, > 1 and <= 64 bits)");
		goto out;
	}
	*out = k;
	k = NULL;
	rc = AS_OK;
out:
	EVP_PKEY_free(k);
	ERR_clear_error();
	return rc;
}

int as_pkey_to_spki(EVP_PKEY *k, uint8_t *out, size_t cap, size_t *len)
{
	unsigned char *q = out;
	int n;

	if (!k || !out || !len)
		return AS_E_INVAL;
	n = i2d_PUBKEY(k, NULL);
	if (n <= 0) {
		ERR_clear_error();
		return AS_E_CRYPTO;
	}
	if ((size_t)n > cap)
		return AS_E_NOSPACE;
	if (i2d_PUBKEY(k, &q) != n) {
		ERR_clear_error();
		return AS_E_CRYPTO;
	}
	*len = (size_t)n;
	return AS_OK;
}

int as_pkey_x25519_raw(EVP_PKEY *k, int private_part, uint8_t out[32])
{
	size_t n = 32;
	int ok;

	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_X25519)
		return AS_E_INVAL;
	if (private_part)
		ok = EVP_PKEY_get_raw_private_key(k, out, &n);
	else
		ok = EVP_PKEY_get_raw_public_key(k, out, &n);
	if (ok != 1 || n != 32) {
		ERR_clear_error();
		OPENSSL_cleanse(out, 32);
		return AS_E_CRYPTO;
	}
	return AS_OK;
}

int as_pkey_write_private(EVP_PKEY *k, const char *path, struct as_diag *d)
{
	BIO *mem = NULL;
	char *pem = NULL;
	long pem_len;
	size_t off = 0;
	int fd = -1, rc, saved;

	if (!k || !path)
		return as_diag_set(d, AS_E_INVAL, "no key or no file name");
	/* secure heap BIO: the PEM text is wiped when the BIO is freed */
	mem = BIO_new(BIO_s_secmem());
	if (!mem || PEM_write_bio_PKCS8PrivateKey(mem, k, NULL, NULL, 0, NULL, NULL) != 1) {
		rc = as_diag_set(d, AS_E_CRYPTO, "cannot encode the private key as PKCS#8");
		goto out;
	}
	pem_len = BIO_get_mem_data(mem, &pem);
	if (pem_len <= 0 || !pem) {
		rc = as_diag_set(d, AS_E_CRYPTO, "cannot encode the private key as PKCS#8");
		goto out;
	}
	/* O_EXCL: never overwrite a key (and never follow a planted symlink) */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		saved = errno;
		if (saved == EEXIST)
			rc = as_diag_set(d, AS_E_IO, "%s already exists: refusing to overwrite it",
					 path);
		else
			rc = as_diag_set(d, AS_E_IO, "cannot create %s: %s", path,
					 strerror(saved));
		errno = saved;
		goto out;
	}
	/* the umask can only remove bits, but an inherited ACL default could add
	 * some: set the mode explicitly */
	if (fchmod(fd, 0600) != 0)
		goto io_fail;
	while (off < (size_t)pem_len) {
		ssize_t w = write(fd, pem + off, (size_t)pem_len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto io_fail;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto io_fail;
	if (close(fd) != 0) {
		fd = -1;
		goto io_fail;
	}
	fd = -1;
	rc = AS_OK;
	goto out;
io_fail:
	saved = errno;
	rc = as_diag_set(d, AS_E_IO, "cannot write %s: %s", path, strerror(saved));
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(path);
	errno = saved;
out:
	BIO_free(mem);
	ERR_clear_error();
	return rc;
}

/* Never prompt on the terminal for a pass phrase: an encrypted key is an error. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int as_pkey_from_pem(const void *pem, size_t len, EVP_PKEY **out, struct as_diag *d)
{
	BIO *bio;
	EVP_PKEY *k;
	int rc;

	*out = NULL;
	if (!pem || len == 0 || len > PEM_FILE_MAX)
		return as_diag_set(d, AS_E_INVAL, "private key PEM is empty or too long");
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return as_diag_set(d, AS_E_NOMEM, "out of memory");
	k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!k)
		return as_diag_set(d, AS_E_INVAL,
				   "not an unencrypted PEM private key (PKCS#8 expected)");
	rc = as_pkey_info(k, NULL, NULL, d);
	if (rc) {
		EVP_PKEY_free(k);
		return rc;
	}
	*out = k;
	return AS_OK;
}

int as_pkey_read_private(const char *path, EVP_PKEY **out, struct as_diag *d)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0, cap;
	int fd, rc, saved;

	*out = NULL;
	if (!path)
		return as_diag_set(d, AS_E_INVAL, "no key file name");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		rc = as_diag_set(d, AS_E_IO, "cannot open %s: %s", path, strerror(saved));
		errno = saved;
		return rc;
	}
	/* fstat of the open file: no window between checking and reading */
	if (fstat(fd, &st) != 0) {
		saved = errno;
		rc = as_diag_set(d, AS_E_IO, "cannot stat %s: %s", path, strerror(saved));
		errno = saved;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = as_diag_set(d, AS_E_IO, "%s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = as_diag_set(d, AS_E_IO,
				 "%s has mode %04o: group or others may access the private key "
				 "(chmod 600 it)",
				 path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > PEM_FILE_MAX) {
		rc = as_diag_set(d, AS_E_INVAL, "%s: size %lld is not that of a key file", path,
				 (long long)st.st_size);
		goto out;
	}
	cap = (size_t)st.st_size;
	buf = OPENSSL_secure_malloc(cap);
	if (!buf) {
		rc = as_diag_set(d, AS_E_NOMEM, "out of memory");
		goto out;
	}
	while (got < cap) {
		ssize_t r = read(fd, buf + got, cap - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			saved = errno;
			rc = as_diag_set(d, AS_E_IO, "cannot read %s: %s", path, strerror(saved));
			errno = saved;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	rc = as_pkey_from_pem(buf, got, out, d);
	if (rc == AS_E_INVAL)
		as_diag_set(d, rc, "%s: not an unencrypted PEM private key (PKCS#8 expected)",
			    path);
out:
	if (buf)
		OPENSSL_secure_clear_free(buf, cap);
	close(fd);
	return rc;
}

/*
 * RFC 4034 Appendix B, over the DER SPKI instead of the DNSKEY RDATA:
 * the bytes are summed as big-endian 16-bit words (an odd last byte is the
 * high half of a word), the carries are folded back in once, and the low
 * 16 bits are the tag.
 */
uint16_t as_pkey_tag(const uint8_t *spki, size_t len)
{
	struct as_rbuf r;
	uint64_t ac = 0;
	size_t i = 0;
	uint8_t b;

	as_rbuf_init(&r, spki, len);
	while (as_rbuf_u8(&r, &b) == AS_OK) {
		ac += (i & 1) ? b : (uint64_t)b << 8;
		i++;
	}
	ac += (ac >> 16) & 0xFFFF;
	return (uint16_t)(ac & 0xFFFF);
}
