/* SPDX-License-Identifier: BSD-2-Clause */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "autosec/err.h"
#include "autosec/rng.h"

static int system_fn(void *ctx, uint8_t *out, size_t n)
{
	(void)ctx;
	while (n) {
		int chunk = n > 1u << 20 ? 1 << 20 : (int)n;

		if (RAND_bytes(out, chunk) != 1)
			return AS_E_RANDOM;
		out += chunk;
		n -= (size_t)chunk;
	}
	return AS_OK;
}

const struct as_rng as_rng_system = { system_fn, NULL };

int as_rng_bytes(const struct as_rng *r, void *out, size_t n)
{
	if (!r || !r->fn)
		r = &as_rng_system;
	return r->fn(r->ctx, out, n) ? AS_E_RANDOM : AS_OK;
}

static int det_fn(void *ctx, uint8_t *out, size_t n)
{
	struct as_rng_det *d = ctx;

	while (n) {
		size_t take;

		if (d->used == sizeof(d->block)) {
			uint8_t in[36];
			unsigned int olen = 0;

			memcpy(in, d->seed, 32);
			in[32] = (uint8_t)(d->counter >> 24);
			in[33] = (uint8_t)(d->counter >> 16);
			in[34] = (uint8_t)(d->counter >> 8);
			in[35] = (uint8_t)d->counter;
			d->counter++;
			if (EVP_Digest(in, sizeof(in), d->block, &olen, EVP_sha256(), NULL) != 1)
				return AS_E_RANDOM;
			d->used = 0;
		}
		take = sizeof(d->block) - d->used;
		if (take > n)
			take = n;
		memcpy(out, d->block + d->used, take);
		d->used += take;
		out += take;
		n -= take;
	}
	return AS_OK;
}

void as_rng_det_init(struct as_rng_det *d, struct as_rng *r, const char *seed_text)
{
	unsigned int olen = 0;

	memset(d, 0, sizeof(*d));
	EVP_Digest(seed_text, strlen(seed_text), d->seed, &olen, EVP_sha256(), NULL);
	d->used = sizeof(d->block);
	r->fn = det_fn;
	r->ctx = d;
}
