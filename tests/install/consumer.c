// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A program outside the tree, built against the installed libizc with
 * pkg-config only: the header it finds and the library it links must agree,
 * and calls into the library must behave (errno, parsing, conversion).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include <izc.h>

int main(void)
{
	const uint8_t raw[2] = {0xf0, 0xff}; /* le:s12/16>>4: -1 */
	struct izc_scan_type st;
	struct izc_context *ctx = NULL;
	int ret;

	if (izc_version() != IZC_VERSION) {
		fprintf(stderr, "header %#x, library %#x\n", IZC_VERSION, izc_version());
		return 1;
	}
	ret = izc_context_open("/nonexistent/izc-install-check", NULL, &ctx);
	if (ret != -ENOENT || ctx) {
		fprintf(stderr, "izc_context_open on a missing root: %d, want %d\n", ret, -ENOENT);
		return 1;
	}
	ret = izc_scan_type_parse("le:s12/16>>4", &st);
	if (ret || izc_sample_to_int(&st, raw) != -1) {
		fprintf(stderr, "le:s12/16>>4 of f0 ff: parse %d, value %lld, want -1\n", ret,
			ret ? 0LL : (long long)izc_sample_to_int(&st, raw));
		return 1;
	}
	printf("libizc %u.%u\n", izc_version() >> 16, izc_version() & 0xffff);
	return 0;
}
