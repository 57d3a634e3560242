/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The PROTOCOL.md section 7 examples, built from the fixed keys in
 * tests/data/ and deterministic random streams.  tests/vectors prints them;
 * test_msg checks that each one also opens on the other side.
 */
#ifndef AUTOSEC_VECTORS_H
#define AUTOSEC_VECTORS_H

#include <stdio.h>

#include "autosec/keyrec.h"
#include "autosec/msg.h"

#define VEC_MSG_MAX 4096
#define VEC_TIMESTAMP 1764547200u /* 2025-12-01T00:00:00Z */

struct vec_msg {
	uint8_t b[VEC_MSG_MAX];
	size_t len;
};

struct vec_world {
	struct as_keyrec rec_x, rec_r;   /* X25519 and RSA-2048 records */
	struct as_rkey rk_x, rk_r;       /* the matching private keys */
	struct as_hs ini_x, resp_x;      /* the X25519 handshake, both sides */
	struct as_hs ini_r;              /* the RSA INIT's initiator side */
	uint8_t payload_x[64], payload_r[64];
	size_t payload_x_len, payload_r_len;
	struct vec_msg init_x, init_r, reply, error, esp_fs;
	uint8_t esp_fs_payload[64];
	size_t esp_fs_payload_len;
};

/* Build every vector; returns 0, or -1 with a message on stderr. */
int vec_build(struct vec_world *w);
void vec_free(struct vec_world *w);
/* Print vector NAME exactly as PROTOCOL.md shows it; -1 for an unknown name. */
int vec_print(const struct vec_world *w, const char *name, FILE *f);
extern const char *const vec_names[];

#endif
