// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Runs every unit test case; the last line is "N passed, M failed".
 */
#include <stdio.h>

#include "test.h"

extern const struct test_suite scan_suite, sample_suite, context_suite, stream_suite, null_suite,
	csv_suite, dmabuf_suite;

int main(void)
{
	const struct test_suite *suites[] = {&scan_suite,   &sample_suite, &context_suite,
					     &stream_suite, &null_suite,   &csv_suite,
					     &dmabuf_suite};
	int passed = 0, failed = 0;

	for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		for (size_t i = 0; i < suites[s]->ncases; i++) {
			const struct test_case *tc = &suites[s]->cases[i];
			struct test_ctx t = {0};

			tc->fn(&t);
			printf("%s - %s\n", t.failures ? "not ok" : "ok", tc->name);
			fflush(stdout);
			if (t.failures)
				failed++;
			else
				passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
