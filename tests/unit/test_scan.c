// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Scan type parsing and formatting, frame layout.
 */
#include <errno.h>

#include "izc.h"
#include "test.h"

static void check_type(struct test_ctx *t, const char *s, bool sgn, bool be, unsigned int real,
		       unsigned int storage, unsigned int shift, unsigned int repeat)
{
	struct izc_scan_type st;

	CHECK_INT(t, izc_scan_type_parse(s, &st), 0);
	CHECK_INT(t, st.is_signed, sgn);
	CHECK_INT(t, st.is_be, be);
	CHECK_INT(t, st.realbits, real);
	CHECK_INT(t, st.storagebits, storage);
	CHECK_INT(t, st.shift, shift);
	CHECK_INT(t, st.repeat, repeat);
}

static void parse_valid(struct test_ctx *t)
{
	check_type(t, "le:s12/16>>4", true, false, 12, 16, 4, 1);
	check_type(t, "be:u16/32X4>>0", false, true, 16, 32, 0, 4);
	check_type(t, "le:s16/16>>0\n", true, false, 16, 16, 0, 1);
	check_type(t, "le:s64/64>>0", true, false, 64, 64, 0, 1);
	check_type(t, "be:u1/8>>7", false, true, 1, 8, 7, 1);
	check_type(t, "le:S24/32>>8", true, false, 24, 32, 8, 1);
	check_type(t, "le:U8/8X3>>0", false, false, 8, 8, 0, 3);
}

static void parse_invalid(struct test_ctx *t)
{
	static const char *const bad[] = {
		"",				  /* empty */
		"le",				  /* truncated */
		"le:",				  /* truncated */
		"xe:s12/16>>4",			  /* endianness */
		"LE:s12/16>>4",			  /* endianness case */
		"le:x12/16>>4",			  /* sign */
		"le:s/16>>4",			  /* no realbits */
		"le:s12/>>4",			  /* no storagebits */
		"le:s12/16",			  /* no shift */
		"le:s12/16>4",			  /* one > */
		"le:s12/16>>",			  /* no shift value */
		"le:s12/16>>4 ",		  /* trailing space */
		"le:s12/16>>4\n\n",		  /* two newlines */
		"le:s12/16>>4x",		  /* trailing garbage */
		"le:s12/20>>0",			  /* storage not whole bytes */
		"le:s12/128>>0",		  /* storage too big */
		"le:s0/16>>0",			  /* zero realbits */
		"le:s17/16>>0",			  /* realbits > storage */
		"le:s12/16>>5",			  /* realbits + shift > storage */
		"le:s12/16X0>>0",		  /* zero repeat */
		"le:s12/16X>>0",		  /* repeat without value */
		"le:s-12/16>>0",		  /* negative */
		"le:s+12/16>>0",		  /* sign on number */
		"le:s12/16>>-1",		  /* negative shift */
		"le:s99999999999999999999/16>>0", /* overflow */
		" le:s12/16>>4",		  /* leading space */
	};
	struct izc_scan_type st = {.realbits = 77};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = izc_scan_type_parse(bad[i], &st);

		if (ret != -EINVAL) {
			t->failures++;
			printf("# parse(\"%s\") = %d, expected -EINVAL\n", bad[i], ret);
		}
	}
	CHECK_INT(t, st.realbits, 77); /* untouched on error */
	CHECK_INT(t, izc_scan_type_parse(NULL, &st), -EINVAL);
	CHECK_INT(t, izc_scan_type_parse("le:s12/16>>4", NULL), -EINVAL);
}

static void format_roundtrip(struct test_ctx *t)
{
	static const char *const types[] = {"le:s12/16>>4", "be:u16/32X4>>0", "le:s64/64>>0",
					    "be:u1/8>>7"};
	struct izc_scan_type st;
	char buf[32];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		CHECK_INT(t, izc_scan_type_parse(types[i], &st), 0);
		CHECK_INT(t, izc_scan_type_format(&st, buf, sizeof(buf)), strlen(types[i]));
		CHECK_STR(t, buf, types[i]);
	}
	CHECK_INT(t, izc_scan_type_format(&st, buf, 4), -ENOSPC);
	st.storagebits = 12;
	CHECK_INT(t, izc_scan_type_format(&st, buf, sizeof(buf)), -EINVAL);
}

static struct izc_scan_type T(const char *s) {
	struct izc_scan_type st = {0};

	izc_scan_type_parse(s, &st);
	return st;
}

static void
layout_packed(struct test_ctx *t)
{
	struct izc_scan_type ty[4];
	size_t off[4], size = 0;

	for (int i = 0; i < 4; i++)
		ty[i] = T("le:s16/16>>0");
	CHECK_INT(t, izc_scan_layout(ty, 4, off, &size), 0);
	CHECK_INT(t, off[0], 0);
	CHECK_INT(t, off[1], 2);
	CHECK_INT(t, off[2], 4);
	CHECK_INT(t, off[3], 6);
	CHECK_INT(t, size, 8);
}

static void layout_alignment(struct test_ctx *t)
{
	/* u8, s32: the s32 aligns to 4, frame 8 */
	struct izc_scan_type a[2] = {T("le:u8/8>>0"), T("le:s32/32>>0")};
	/* u8, u16, u8: 0, 2, 4, frame padded to 6 */
	struct izc_scan_type b[3] = {T("le:u8/8>>0"), T("le:u16/16>>0"), T("le:u8/8>>0")};
	/* 3 x s16 + timestamp s64: 0,2,4,8 frame 16 */
	struct izc_scan_type c[4] = {T("le:s16/16>>0"), T("le:s16/16>>0"), T("le:s16/16>>0"),
				     T("le:s64/64>>0")};
	/* s12/16 alone: 2; one u8: 1 */
	struct izc_scan_type d[1] = {T("le:u8/8>>0")};
	size_t off[4], size = 0;

	CHECK_INT(t, izc_scan_layout(a, 2, off, &size), 0);
	CHECK_INT(t, off[1], 4);
	CHECK_INT(t, size, 8);
	CHECK_INT(t, izc_scan_layout(b, 3, off, &size), 0);
	CHECK_INT(t, off[1], 2);
	CHECK_INT(t, off[2], 4);
	CHECK_INT(t, size, 6);
	CHECK_INT(t, izc_scan_layout(c, 4, off, &size), 0);
	CHECK_INT(t, off[2], 4);
	CHECK_INT(t, off[3], 8);
	CHECK_INT(t, size, 16);
	CHECK_INT(t, izc_scan_layout(d, 1, NULL, &size), 0);
	CHECK_INT(t, size, 1);
}

static void layout_repeat(struct test_ctx *t)
{
	/* u8 then u16X4 (8 bytes, aligned to 8): 0, 8, frame 16 */
	struct izc_scan_type a[2] = {T("le:u8/8>>0"), T("be:u16/16X4>>0")};
	size_t off[2], size = 0;

	CHECK_INT(t, izc_scan_type_bytes(&a[1]), 8);
	CHECK_INT(t, izc_scan_layout(a, 2, off, &size), 0);
	CHECK_INT(t, off[1], 8);
	CHECK_INT(t, size, 16);
}

static void layout_invalid(struct test_ctx *t)
{
	struct izc_scan_type a[1] = {{.storagebits = 12, .realbits = 12, .repeat = 1}};
	size_t size = 0;

	CHECK_INT(t, izc_scan_layout(a, 0, NULL, &size), -EINVAL);
	CHECK_INT(t, izc_scan_layout(a, 1, NULL, &size), -EINVAL);
	CHECK_INT(t, izc_scan_layout(NULL, 1, NULL, &size), -EINVAL);
}

static void version(struct test_ctx *t)
{
	CHECK_INT(t, izc_version(), IZC_VERSION);
	CHECK_INT(t, izc_version() >> 16, IZC_VERSION_MAJOR);
	CHECK_INT(t, izc_version() & 0xffff, IZC_VERSION_MINOR);
}

TEST_SUITE(scan_suite, TEST(parse_valid), TEST(parse_invalid), TEST(format_roundtrip),
	   TEST(layout_packed), TEST(layout_alignment), TEST(layout_repeat), TEST(layout_invalid),
	   TEST(version));
