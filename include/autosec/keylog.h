/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Exporting ESP keys for Wireshark (config key `keylog`, off by default).
 *
 * Every SA installed is appended as one line of Wireshark's "ESP SAs" UAT
 * table (file name esp_sa in a Wireshark profile; the same line also works
 * as tshark -o 'uat:esp_sa:LINE').  Fields, each a quoted string, in the
 * order of packet-ipsec.c's esp_uat_flds:
 *
 *   Protocol, Src IP, Dest IP, SPI, Encryption, Encryption Key,
 *   Authentication, Authentication Key
 *
 *   "IPv4","192.0.2.1","198.51.100.7","0x1234abcd",
 *   "AES-GCM with 16 octet ICV [RFC4106]","0x<key || 4-octet salt>","NULL",""
 *
 * (one line in the file).  Protocol is "IPv4" or "IPv6"; IPv6 addresses are
 * written in full (eight groups of four digits), which Wireshark's own
 * address expansion reads most reliably; SPI is 0x and eight hex digits;
 * keys are 0x and hex.  Transforms and their Wireshark names:
 *
 *   ENCR_AES_GCM_16-*     "AES-GCM with 16 octet ICV [RFC4106]"  key||salt, "NULL", ""
 *   ENCR_AES_CBC-*        "AES-CBC [RFC3602]"                    key, then the HMAC:
 *   ENCR_AES_CTR-*        "AES-CTR [RFC3686]"                    key||nonce, then the HMAC:
 *     AUTH_HMAC_SHA2_256_128 "HMAC-SHA-256-128 [RFC4868]", _384_192 "HMAC-SHA-384-192
 *     [RFC4868]", _512_256 "HMAC-SHA-512-256 [RFC4868]", AUTH_HMAC_SHA1_96
 *     "HMAC-SHA-1-96 [RFC2404]", AUTH_HMAC_MD5_96 "HMAC-MD5-96 [RFC2403]"
 *   ENCR_CHACHA20_POLY1305 "ChaCha20 with Poly1305 [RFC7634]"    key||salt, "NULL", ""
 *     -- newer Wireshark only.  4.0 does not know the name: it reports an
 *     error loading the table (tshark: "Error loading table 'ESP SAs':
 *     esp_sa:N: invalid value"; -o uat:... with it is a fatal "Invalid -o
 *     flag") and skips the row, so the line is written commented out ("# "
 *     in front); remove the "# " for a Wireshark that has ChaCha20-Poly1305.
 *
 * Wireshark 4.0 authenticates only SPI and the 32-bit sequence number, so
 * with extended sequence numbers it still decrypts but reports a bad ICV.
 *
 * The file holds secret keys: it is created 0600 by the helper's euid, never
 * followed through a symlink, and an existing file is appended to only if it
 * is a regular file with one link, owned by the euid and mode 0600.
 */
#ifndef AUTOSEC_KEYLOG_H
#define AUTOSEC_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

struct as_diag;
struct as_esp_sa;

struct as_keylog {
	int fd; /* -1: off */
};

#define AS_KEYLOG_LINE_MAX 512

/* path NULL or "" leaves k off (AS_OK).  AS_E_IO (errno kept) if it cannot
 * be opened, AS_E_INVAL if it exists with another owner, mode or type. */
int as_keylog_open(struct as_keylog *k, const char *path, struct as_diag *d);
/*
 * Append the line for one SA direction: family AF_INET or AF_INET6 (or 4 or
 * 6, as the engine's peer keys say), src and dst the outer addresses of that
 * direction's packets (4 or 16 octets); NULL for an address not known is
 * written "*", Wireshark's wildcard.  Behind a NAT the capture point may see
 * other addresses than the helper does: edit them to "*" then (the SPI
 * alone still tells the SAs apart).
 * AS_OK and nothing written when k is off.  AS_E_ALG_UNKNOWN for a
 * transform Wireshark cannot decrypt (nothing written), AS_E_INVAL for a bad
 * family, AS_E_IO when the write fails.  The line buffer is wiped.
 */
int as_keylog_sa(struct as_keylog *k, int family, const uint8_t *src, const uint8_t *dst,
		 const struct as_esp_sa *sa);
/* The line alone, without the newline (tests; also what as_keylog_sa writes).
 * *commented is set when Wireshark 4.0 could not load it (see above). */
int as_keylog_format(char *out, size_t cap, int family, const uint8_t *src, const uint8_t *dst,
		     const struct as_esp_sa *sa, int *commented);
void as_keylog_close(struct as_keylog *k);

#endif
