/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where random bytes come from.  Production code uses as_rng_system
 * (OpenSSL's RAND_bytes).  Every builder takes a struct as_rng so that the
 * test vectors in PROTOCOL.md section 7 can be produced byte for byte from
 * a fixed seed with as_rng_det.
 */
#ifndef AUTOSEC_RNG_H
#define AUTOSEC_RNG_H

#include <stddef.h>
#include <stdint.h>

struct as_rng {
	int (*fn)(void *ctx, uint8_t *out, size_t n);
	void *ctx;
};

extern const struct as_rng as_rng_system;

/* AS_OK or AS_E_RANDOM. */
int as_rng_bytes(const struct as_rng *r, void *out, size_t n);

/*
 * Deterministic stream for tests and vectors only:
 * block i = SHA-256(seed || uint32_be(i)), concatenated.
 */
struct as_rng_det {
	uint8_t seed[32];
	uint32_t counter;
	uint8_t block[32];
	size_t used;
};
void as_rng_det_init(struct as_rng_det *d, struct as_rng *r, const char *seed_text);

#endif
