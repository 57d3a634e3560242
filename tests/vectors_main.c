/* SPDX-License-Identifier: BSD-2-Clause */
/* Prints the PROTOCOL.md section 7 vectors: `vectors` for all, `vectors NAME` for one. */
#include <stdio.h>
#include <stdlib.h>

#include "unit/vectors.h"

int main(int argc, char **argv)
{
	static struct vec_world w;
	int rc = 0;

	if (vec_build(&w)) {
		vec_free(&w);
		return 1;
	}
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (vec_print(&w, argv[i], stdout)) {
				fprintf(stderr, "vectors: unknown vector \"%s\"\n", argv[i]);
				rc = 2;
			}
	} else {
		for (int i = 0; vec_names[i]; i++) {
			printf("<!-- vector: %s -->\n```text\n", vec_names[i]);
			vec_print(&w, vec_names[i], stdout);
			printf("```\n\n");
		}
	}
	vec_free(&w);
	return rc;
}
