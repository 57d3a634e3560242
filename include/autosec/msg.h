/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AutoSEC messages (PROTOCOL.md section 3): the first datagram (INIT), the
 * responder's REPLY and ERROR, and the keys both sides derive from them.
 *
 * Every message starts with Version (1) = 1 and Type (1).  All integers are
 * big-endian.
 *
 * INIT, type 1 -- the first datagram:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------+---------------+---------------+---------------+
 *  |  Version = 1  |   Type = 1    |     Suite     | Cookie Length |
 *  +---------------+---------------+---------------+---------------+
 *  |            Key Tag            |         Block Length          |
 *  +---------------+---------------+---------------+---------------+
 *  ~                 Cookie (Cookie Length octets)                 ~
 *  +---------------------------------------------------------------+
 *  ~        Sealed Block (Block Length octets): see below          ~
 *  +---------------------------------------------------------------+
 *  ~   ESP packet (RFC 4303) under the first-flight SA, sequence 1 ~
 *  +---------------------------------------------------------------+
 *
 *  Suite 1 (X25519): Sealed Block = enc (32) || HPKE ciphertext, RFC 9180
 *          mode_base, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM.
 *  Suite 2 (RSA):    Sealed Block = RSA-OAEP-SHA256 ciphertext (modulus
 *          length) of a 32-octet secret || AEAD ciphertext made with the
 *          HPKE key schedule, shared_secret = that secret, kem_id 0xFF01.
 *  In both: info = "AutoSEC v1 INIT" || SHA-256(record text without
 *  whitespace) -- also the OAEP label -- and aad = every octet before the
 *  Sealed Block (the clear header and the cookie).
 *
 * Protected parameters (the HPKE/AEAD plaintext):
 *
 *  +---------------+---------------+---------------+---------------+
 *  |      Encryption Transform ID  |       Encryption Key Bits     |
 *  +---------------+---------------+---------------+---------------+
 *  |      Integrity Transform ID   |          DH Group             |
 *  +---------------+---------------+---------------+---------------+
 *  |     SPI R0: responder's inbound SPI, first flight             |
 *  +---------------------------------------------------------------+
 *  |     SPI I0: initiator's inbound SPI, first flight             |
 *  +---------------------------------------------------------------+
 *  |     SPI I1: initiator's inbound SPI, after the DH exchange    |
 *  +---------------+---------------+---------------+---------------+
 *  |  Next Header  | Addr Family   |            Flags              |
 *  +---------------+---------------+---------------+---------------+
 *  |                     Timestamp (8, Unix seconds)               |
 *  +---------------------------------------------------------------+
 *  ~                     Nonce (16)                                ~
 *  ~                     Key Material (32)                         ~
 *  ~     Original Source Address (4 if family 4, 16 if 6)          ~
 *  ~     Original Destination Address (4 or 16)                    ~
 *  +---------------+---------------+---------------+---------------+
 *  |        DH Share Length        |    DH Share ...               ~
 *  +---------------+---------------+---------------+---------------+
 *
 * REPLY, type 2 (responder -> initiator):
 *
 *  |  Version = 1  |   Type = 2    |         Reserved = 0          |
 *  |                         SPI I0                                |
 *  |                         SPI R1 (responder's inbound, after DH)|
 *  |           DH Group            |        DH Share Length        |
 *  ~                         DH Share                              ~
 *  ~         Tag (16) = HMAC-SHA-256(K_auth, all octets before)    ~
 *
 * ERROR, type 3:
 *
 *  |  Version = 1  |   Type = 3    |          Error Code           |
 *  |     Flags     |   Reserved    |          Data Length          |
 *  ~                    Reference (8)                              ~
 *  ~                    Data (Data Length)                         ~
 *  ~     Tag (16), only when Flags has A (0x80): HMAC as in REPLY  ~
 *
 * Keys: PRK0 = HKDF-Extract(salt = Nonce, IKM = Key Material);
 *   KEYMAT0 = HKDF-Expand(PRK0, "AutoSEC v1 first flight" || SPI I0 || SPI R0, 2L)
 *     first L octets for initiator->responder (SPI R0), then responder->initiator (SPI I0);
 *   K_auth = HKDF-Expand(PRK0, "AutoSEC v1 auth", 32).
 *   After the REPLY: Z = DH shared secret;
 *   PRK1 = HKDF-Extract(salt = Key Material, IKM = Z);
 *   KEYMAT1 = HKDF-Expand(PRK1, "AutoSEC v1 forward secret" || SPI I1 || SPI R1, 2L)
 *     initiator->responder (SPI R1) first.  L = as_esp_keymat_len(enc, integ).
 */
#ifndef AUTOSEC_MSG_H
#define AUTOSEC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "autosec/crypto.h"
#include "autosec/esp.h"

struct as_alg;
struct as_diag;
struct as_keyrec;
struct as_policy;
struct as_rng;
struct as_wbuf;

#define AS_MSG_VERSION 1
enum as_msg_type {
	AS_MSG_INIT = 1,
	AS_MSG_REPLY = 2,
	AS_MSG_ERROR = 3,
};
enum as_msg_suite {
	AS_SUITE_X25519 = 1,
	AS_SUITE_RSA = 2,
};

#define AS_INIT_HDR_LEN 8
#define AS_COOKIE_MIN 8
#define AS_COOKIE_MAX 32
#define AS_BLOCK_MAX 2048   /* RSA-4096 block + MODP8192 share fits */
#define AS_NONCE_LEN 16
#define AS_KEYMAT_LEN 32
#define AS_TAG_LEN 16
#define AS_DH_SHARE_MAX 1024
#define AS_ERROR_REF_LEN 8
#define AS_ERROR_DATA_MAX 64
#define AS_ERROR_FLAG_AUTH 0x80
#define AS_PARAM_FLAG_ESN 0x0001
#define AS_FRESHNESS_DEFAULT 120 /* seconds either side of the responder's clock */

/*
 * IPv4 carries AutoSEC messages in UDP port 4500 next to ESP-in-UDP
 * (RFC 3948).  They begin with the 4-octet non-ESP marker followed by 8 zero
 * octets, where IKEv2 would have its initiator SPI -- which IKEv2 forbids to
 * be zero -- so neither ESP nor an IKE daemon mistakes them.
 */
#define AS_UDP_PORT 4500
#define AS_UDP_MARKER_LEN 12
/* IPv6 carries them as their own next header (RFC 3692 experimental value). */
#define AS_IPPROTO_DEFAULT 253

enum as_error_code {
	AS_ERR_UNSUPPORTED_VERSION = 1,
	AS_ERR_INVALID_SYNTAX = 2,
	AS_ERR_UNKNOWN_KEY_TAG = 3,
	AS_ERR_DECRYPT_FAILED = 4,
	AS_ERR_COOKIE_REQUIRED = 5,
	AS_ERR_NO_PROPOSAL_CHOSEN = 6,
	AS_ERR_STALE_TIMESTAMP = 7,
	AS_ERR_SPI_IN_USE = 8,
	AS_ERR_INVALID_SPI = 9,
	AS_ERR_ADMIN_PROHIBITED = 10,
	AS_ERR_INVALID_PARAMETER = 11,
};
const char *as_error_code_name(uint16_t code);

/* What the initiator proposes; also what the responder learns from an INIT. */
struct as_params {
	const struct as_alg *enc;
	const struct as_alg *integ;  /* AUTH_NONE entry for AEAD ciphers */
	const struct as_alg *dh;
	uint32_t spi_r0, spi_i0, spi_i1;
	uint8_t next_header;
	uint8_t family;              /* 4 or 6 */
	uint16_t flags;
	uint64_t timestamp;
	uint8_t nonce[AS_NONCE_LEN];
	uint8_t key_material[AS_KEYMAT_LEN];
	uint8_t src[16], dst[16];    /* first 4 octets used for IPv4 */
	uint8_t dh_share[AS_DH_SHARE_MAX];
	size_t dh_share_len;
};

/*
 * One handshake, on either side.  Holds the SAs derived so far: sa_out/sa_in
 * from the first flight, fs_out/fs_in after the DH exchange (has_fs).
 */
struct as_hs {
	int initiator;
	struct as_params p;
	struct as_dh dh;             /* our ephemeral DH key */
	uint8_t dh_share[AS_DH_SHARE_MAX]; /* responder: our share for the REPLY */
	size_t dh_share_len;
	uint8_t k_auth[32];
	uint8_t ref[AS_ERROR_REF_LEN]; /* first octets of the INIT's sealed block */
	struct as_esp_sa sa_out, sa_in;
	int has_fs;
	uint32_t spi_r1;
	struct as_esp_sa fs_out, fs_in;
};

/* A responder's private key with the record digests it accepts. */
#define AS_RKEY_MAX_DIGESTS 4
struct as_rkey {
	EVP_PKEY *priv;
	int type;                  /* enum as_key_type */
	uint16_t tag;
	uint8_t digest[AS_RKEY_MAX_DIGESTS][32];
	size_t n_digest;
};

/*
 * Load a responder key: the private key file (0600, see as_pkey_read_private)
 * and KEYFILE.rec, the record text published for it, whose digest the INITs
 * are bound to.  Refuses a record that does not hold the key's public half.
 */
int as_rkey_load(const char *keyfile, struct as_rkey *k, struct as_diag *d);
/* The same from a key in memory and its parsed record; k takes priv. */
int as_rkey_set(struct as_rkey *k, EVP_PKEY *priv, const struct as_keyrec *rec, struct as_diag *d);
void as_rkey_free(struct as_rkey *k);

/* Pick transforms: the record's preference order filtered by our policy. */
int as_msg_choose(const struct as_keyrec *rec, const struct as_policy *pol,
		  struct as_params *p, struct as_diag *d);

/* Fill the random parts of p (SPIs, nonce, key material) and our DH share;
 * hs->dh keeps the private half.  p->timestamp, addresses, next_header,
 * family and the transforms must already be set. */
int as_msg_init_prepare(struct as_hs *hs, const struct as_rng *rng, struct as_diag *d);

/*
 * Build an INIT carrying payload (the original upper-layer packet, protocol
 * hs->p.next_header) for the peer whose record is rec.  cookie may be NULL.
 * Installs hs->sa_out/sa_in.  The ESP packet uses sequence number 1.  A
 * retransmission resends the same octets; after COOKIE_REQUIRED the INIT is
 * built again with the cookie: same parameters and nonce, but a fresh
 * encapsulation, because the aad changed (PROTOCOL.md 3.8).
 */
int as_msg_build_init(struct as_hs *hs, const struct as_keyrec *rec, const struct as_rng *rng,
		      const uint8_t *cookie, size_t cookie_len,
		      const uint8_t *payload, size_t plen, struct as_wbuf *out,
		      struct as_diag *d);

/* The clear part of an INIT, parsed without any secret (cheap pre-checks,
 * cookie handling). */
struct as_init_hdr {
	uint8_t suite;
	uint16_t key_tag;
	const uint8_t *cookie;
	size_t cookie_len;
	const uint8_t *block;
	size_t block_len;
	const uint8_t *esp;
	size_t esp_len;
	size_t aad_len;
};
int as_msg_parse_init_hdr(const uint8_t *pkt, size_t len, struct as_init_hdr *h,
			  struct as_diag *d);

/*
 * Responder: open an INIT with one of keys[], check freshness against now,
 * check the transforms against pol, decapsulate the ESP packet (SPI R0,
 * sequence number 1, next header equal to the protected one) into
 * payload_out, then make our DH key from rng, validate the initiator's share
 * and derive the forward-secret SAs with spi_r1 (PROTOCOL.md 3.5 steps 1-10;
 * the cookie, replay cache and SPI collision steps are the caller's).
 * On failure *error_code says which ERROR to answer with (0: none, drop
 * silently) and hs->k_auth is valid when that error may be authenticated.
 */
int as_msg_open_init(struct as_hs *hs, const struct as_rkey *keys, size_t n_keys,
		     const struct as_policy *pol, uint64_t now, unsigned freshness,
		     const struct as_rng *rng, uint32_t spi_r1,
		     const uint8_t *pkt, size_t len, struct as_wbuf *payload_out,
		     uint16_t *error_code, struct as_diag *d);

/* Responder: the REPLY for an INIT that as_msg_open_init accepted. */
int as_msg_build_reply(const struct as_hs *hs, struct as_wbuf *out, struct as_diag *d);
/* Initiator: verify a REPLY for hs and install hs->fs_*. */
int as_msg_open_reply(struct as_hs *hs, const uint8_t *pkt, size_t len, struct as_diag *d);

struct as_error_msg {
	uint16_t code;
	uint8_t flags;
	uint8_t ref[AS_ERROR_REF_LEN];
	uint8_t data[AS_ERROR_DATA_MAX];
	size_t data_len;
	int authenticated;    /* the tag verified with hs->k_auth */
};
/* hs non-NULL and its k_auth set: the error is authenticated (A flag + tag). */
int as_msg_build_error(const struct as_hs *hs, uint16_t code, const uint8_t ref[AS_ERROR_REF_LEN],
		       const uint8_t *data, size_t data_len, struct as_wbuf *out);
/* Parse; with hs, an A-flagged error's tag is checked (AS_E_MSG_AUTH if wrong). */
int as_msg_parse_error(const struct as_hs *hs, const uint8_t *pkt, size_t len,
		       struct as_error_msg *e, struct as_diag *d);

/* Version and type of any AutoSEC message. */
int as_msg_peek(const uint8_t *pkt, size_t len, uint8_t *type);

void as_hs_clear(struct as_hs *hs);

#endif
