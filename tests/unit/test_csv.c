// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * izc-capture's CSV lines (tools/csv.c): u64 samples above INT64_MAX print
 * unsigned, every element of a repeated channel is a column, signed values
 * keep their sign, 24-bit storage reads 3 bytes.
 */
#include <string.h>

#include "../../tools/csv.h"
#include "izc.h"
#include "test.h"

static void csv_u64_and_signed(struct test_ctx *t)
{
	struct izc_scan_type u64 = {.realbits = 64, .storagebits = 64, .repeat = 1};
	struct izc_scan_type s64 = {
		.is_signed = true, .realbits = 64, .storagebits = 64, .repeat = 1};
	struct izc_scan_type s12 = {
		.is_signed = true, .realbits = 12, .storagebits = 16, .shift = 4, .repeat = 1};
	struct tool_csv_col cols[3] = {{&u64, 0}, {&s64, 8}, {&s12, 16}};
	unsigned char frame[24];
	char line[3 * TOOL_CSV_COL_MAX + 1];
	size_t n;

	memset(frame, 0xff, 16);	    /* u64 max, s64 -1 */
	frame[7] = 0x80;		    /* u64 0x80ffffffffffffff */
	frame[16] = 0x00, frame[17] = 0x80; /* s12 -2048 << 4 */
	memset(frame + 18, 0, sizeof(frame) - 18);
	CHECK_INT(t, tool_csv_ncols(cols, 3), 3);
	n = tool_csv_frame(line, cols, 3, frame);
	line[n] = '\0';
	CHECK_STR(t, line, "9295429630892703743,-1,-2048\n");
	CHECK_INT(t, n, strlen("9295429630892703743,-1,-2048\n"));

	memset(frame, 0xff, 8); /* 2^64 - 1 */
	memset(frame + 8, 0, 8);
	frame[15] = 0x80; /* INT64_MIN */
	n = tool_csv_frame(line, cols, 2, frame);
	line[n] = '\0';
	CHECK_STR(t, line, "18446744073709551615,-9223372036854775808\n");
	CHECK(t, n <= 2 * TOOL_CSV_COL_MAX + 1);
}

static void csv_repeat_and_24bit(struct test_ctx *t)
{
	struct izc_scan_type rep = {.realbits = 16, .storagebits = 16, .repeat = 3};
	struct izc_scan_type u24 = {.is_be = true, .realbits = 24, .storagebits = 24, .repeat = 1};
	struct tool_csv_col cols[2] = {{&rep, 0}, {&u24, 6}};
	const unsigned char frame[9] = {1, 0, 2, 0, 0xff, 0xff, 0x12, 0x34, 0x56};
	char line[4 * TOOL_CSV_COL_MAX + 1];
	size_t n;

	CHECK_INT(t, tool_csv_ncols(cols, 2), 4);
	n = tool_csv_frame(line, cols, 2, frame);
	line[n] = '\0';
	CHECK_STR(t, line, "1,2,65535,1193046\n");
}

TEST_SUITE(csv_suite, TEST(csv_u64_and_signed), TEST(csv_repeat_and_24bit));
