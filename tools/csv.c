// SPDX-License-Identifier: LGPL-2.1-or-later
/* CSV formatting of IIO frames (see csv.h). */
#include <stdint.h>

#include "csv.h"

static char *put_uint(char *p, uint64_t u)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_int(char *p, int64_t v)
{
	if (v >= 0)
		return put_uint(p, (uint64_t)v);
	*p++ = '-';
	return put_uint(p, -(uint64_t)v);
}

size_t tool_csv_ncols(const struct tool_csv_col *cols, size_t n)
{
	size_t ncols = 0;

	for (size_t c = 0; c < n; c++)
		ncols += cols[c].type->repeat ? cols[c].type->repeat : 1;
	return ncols;
}

size_t tool_csv_frame(char *out, const struct tool_csv_col *cols, size_t n,
		      const unsigned char *frame)
{
	char *p = out;

	for (size_t c = 0; c < n; c++) {
		const struct izc_scan_type *st = cols[c].type;
		size_t esize = st->storagebits / 8;
		unsigned int reps = st->repeat ? st->repeat : 1;

		for (unsigned int e = 0; e < reps; e++) {
			int64_t v = izc_sample_to_int(st, frame + cols[c].offset + e * esize);

			if (p != out)
				*p++ = ',';
			/* izc_sample_to_int() gives u64 above INT64_MAX modulo 2^64 */
			p = st->is_signed ? put_int(p, v) : put_uint(p, (uint64_t)v);
		}
	}
	*p++ = '\n';
	return (size_t)(p - out);
}
