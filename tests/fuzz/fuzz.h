/* SPDX-License-Identifier: BSD-2-Clause */
/* Every fuzz target defines this; libFuzzer or replay_main.c calls it. */
#ifndef AUTOSEC_FUZZ_H
#define AUTOSEC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
