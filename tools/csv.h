/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CSV formatting of IIO frames for izc-capture, kept apart from the tool so
 * that the host unit tests (tests/unit/test_csv.c) can check it.
 */
#ifndef IZC_TOOLS_CSV_H
#define IZC_TOOLS_CSV_H

#include <stddef.h>

#include "izc.h"

/* Longest text of one value and its separator: "-9223372036854775808," */
#define TOOL_CSV_COL_MAX 21

/* One enabled channel of a frame: type, byte offset, elements (repeat). */
struct tool_csv_col {
	const struct izc_scan_type *type;
	size_t offset;
};

/* Columns a channel set takes: one per element (repeat counts). */
size_t tool_csv_ncols(const struct tool_csv_col *cols, size_t n);

/*
 * Format one frame as a CSV line ending in '\n' at out, which has room for
 * tool_csv_ncols() * TOOL_CSV_COL_MAX + 1 bytes. Every element of a
 * repeated channel is a column; unsigned samples print as unsigned (u64
 * above INT64_MAX too). Returns the length.
 */
size_t tool_csv_frame(char *out, const struct tool_csv_col *cols, size_t n,
		      const unsigned char *frame);

#endif /* IZC_TOOLS_CSV_H */
