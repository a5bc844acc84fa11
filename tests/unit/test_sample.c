// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Demux and raw sample conversion.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "izc.h"
#include "test.h"

static struct izc_scan_type T(const char *s) {
	struct izc_scan_type st = {0};

	izc_scan_type_parse(s, &st);
	return st;
}

static void
demux_channels(struct test_ctx *t)
{
	/* 3 frames of {s16 a, s16 b, pad, s64 ts} = 16 bytes */
	unsigned char frames[48] = {0};
	int16_t out16[3];
	int64_t out64[3];

	for (int f = 0; f < 3; f++) {
		int16_t a = (int16_t)(100 + f), b = (int16_t)(-200 - f);
		int64_t ts = 1000000000LL * f + 7;

		memcpy(frames + f * 16, &a, 2);
		memcpy(frames + f * 16 + 2, &b, 2);
		memcpy(frames + f * 16 + 8, &ts, 8);
	}
	/* whole arrays, the output cleared (to a non-result) before each demux */
	memset(out16, 0x5a, sizeof(out16));
	CHECK_INT(t, izc_demux(frames, 3, 16, 2, 2, out16), 0);
	CHECK_ARRAY(t, out16, ((int16_t[]){-200, -201, -202}), 3);
	memset(out16, 0x5a, sizeof(out16));
	CHECK_INT(t, izc_demux(frames, 3, 16, 0, 2, out16), 0);
	CHECK_ARRAY(t, out16, ((int16_t[]){100, 101, 102}), 3);
	memset(out64, 0x5a, sizeof(out64));
	CHECK_INT(t, izc_demux(frames, 3, 16, 8, 8, out64), 0);
	CHECK_ARRAY(t, out64, ((int64_t[]){7, 1000000007LL, 2000000007LL}), 3);
	/* fewer frames: only that many samples written, the rest untouched */
	memset(out16, 0x5a, sizeof(out16));
	CHECK_INT(t, izc_demux(frames + 16, 2, 16, 0, 2, out16), 0);
	CHECK_ARRAY(t, out16, ((int16_t[]){101, 102, 0x5a5a}), 3);
	CHECK_INT(t, izc_demux(frames, 0, 16, 8, 8, NULL), 0);
}

static void demux_invalid(struct test_ctx *t)
{
	unsigned char frames[16] = {0}, out[16];

	CHECK_INT(t, izc_demux(frames, 1, 16, 12, 8, out), -EINVAL);
	CHECK_INT(t, izc_demux(frames, 1, 16, 17, 1, out), -EINVAL);
	CHECK_INT(t, izc_demux(frames, 1, 16, 0, 0, out), -EINVAL);
	CHECK_INT(t, izc_demux(NULL, 1, 16, 0, 2, out), -EINVAL);
}

static void convert_sign_extension(struct test_ctx *t)
{
	struct izc_scan_type s12 = T("le:s12/16>>0"), u12 = T("le:u12/16>>0");
	unsigned char raw[2] = {0xff, 0x0f};  /* 0x0fff: -1 as s12, 4095 as u12 */
	unsigned char raw2[2] = {0x00, 0xf0}; /* 0xf000: garbage above bit 11 is masked */

	CHECK_INT(t, izc_sample_to_int(&s12, raw), -1);
	CHECK_INT(t, izc_sample_to_int(&u12, raw), 4095);
	CHECK_INT(t, izc_sample_to_int(&s12, raw2), 0);
	raw2[0] = 0x00;
	raw2[1] = 0x08; /* 0x0800: most negative s12 */
	CHECK_INT(t, izc_sample_to_int(&s12, raw2), -2048);
}

static void convert_shift(struct test_ctx *t)
{
	struct izc_scan_type st = T("le:s12/16>>4");
	/* value -3 in bits 15..4, low nibble garbage 0xa */
	uint16_t v = (uint16_t)((((unsigned)-3 & 0xfff) << 4) | 0xa);
	unsigned char raw[2] = {(unsigned char)(v & 0xff), (unsigned char)(v >> 8)};

	CHECK_INT(t, izc_sample_to_int(&st, raw), -3);
	st = T("le:u1/8>>7");
	raw[0] = 0x80;
	CHECK_INT(t, izc_sample_to_int(&st, raw), 1);
	raw[0] = 0x7f;
	CHECK_INT(t, izc_sample_to_int(&st, raw), 0);
}

static void convert_big_endian(struct test_ctx *t)
{
	struct izc_scan_type be16 = T("be:s16/16>>0"), be32 = T("be:u24/32>>8");
	unsigned char raw16[2] = {0xfe, 0xdc};		   /* 0xfedc = -292 */
	unsigned char raw32[4] = {0x12, 0x34, 0x56, 0x78}; /* >> 8 = 0x123456 */

	CHECK_INT(t, izc_sample_to_int(&be16, raw16), -292);
	CHECK_INT(t, izc_sample_to_int(&be32, raw32), 0x123456);
	be32 = T("le:u24/32>>8"); /* same bytes read as little endian: 0x78563412 >> 8 */
	CHECK_INT(t, izc_sample_to_int(&be32, raw32), 0x785634);
}

static void convert_64bit(struct test_ctx *t)
{
	struct izc_scan_type s64 = T("le:s64/64>>0"), u64 = T("be:u64/64>>0");
	unsigned char raw[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	unsigned char braw[8] = {0, 0, 0, 0, 0, 0, 0x01, 0x02};

	CHECK_INT(t, izc_sample_to_int(&s64, raw), -1);
	CHECK_INT(t, izc_sample_to_int(&u64, braw), 0x102);
}

/* |got - want| within 1e-12 relative (or absolute near 0), with the numbers on failure. */
#define CHECK_DOUBLE(t, got, want)                                                                 \
	do {                                                                                       \
		double g_ = (got), w_ = (want);                                                    \
		double tol_ = 1e-12 * (fabs(w_) > 1.0 ? fabs(w_) : 1.0);                           \
		if (!(fabs(g_ - w_) <= tol_)) {                                                    \
			(t)->failures++;                                                           \
			printf("# %s:%d: %s == %.17g, expected %.17g\n", __FILE__, __LINE__, #got, \
			       g_, w_);                                                            \
		}                                                                                  \
	} while (0)

/* (izc_sample_to_int() + offset) * scale */
static void convert_double(struct test_ctx *t)
{
	struct izc_scan_type s16 = T("le:s16/16>>0"), u16 = T("le:u16/16>>0");
	struct izc_scan_type sh = T("le:s12/16>>4"), be32 = T("be:s32/32>>0");
	unsigned char ten[2] = {0x0a, 0x00};		 /* 10 */
	unsigned char minus10[2] = {0xf6, 0xff};	 /* -10 */
	unsigned char u[2] = {0xff, 0xff};		 /* 65535 unsigned, -1 signed */
	unsigned char shifted[2] = {0xd0, 0xff};	 /* 12-bit -3 << 4 */
	unsigned char b32[4] = {0xff, 0xff, 0xff, 0x00}; /* -256 big endian */

	CHECK_DOUBLE(t, izc_sample_to_double(&s16, ten, 0.5, 2.0), 6.0);
	CHECK_DOUBLE(t, izc_sample_to_double(&s16, ten, 1.0, 0.0), 10.0);
	/* sign: negative raw, negative scale, negative offset */
	CHECK_DOUBLE(t, izc_sample_to_double(&s16, minus10, 0.25, 0.0), -2.5);
	CHECK_DOUBLE(t, izc_sample_to_double(&s16, minus10, -0.25, 0.0), 2.5);
	CHECK_DOUBLE(t, izc_sample_to_double(&s16, ten, 1.5, -20.0), -15.0);
	/* the same bits, signed and unsigned */
	CHECK_DOUBLE(t, izc_sample_to_double(&s16, u, 2.0, 0.0), -2.0);
	CHECK_DOUBLE(t, izc_sample_to_double(&u16, u, 2.0, 0.0), 131070.0);
	/* shift and realbits before the offset: (-3 + 1) * 2 */
	CHECK_DOUBLE(t, izc_sample_to_double(&sh, shifted, 2.0, 1.0), -4.0);
	/* big endian, a scale with no exact binary form */
	CHECK_DOUBLE(t, izc_sample_to_double(&be32, b32, 0.001, 0.0), -0.256);
	CHECK_DOUBLE(t, izc_sample_to_double(&be32, b32, 0.0, 5.0), 0.0);
}

TEST_SUITE(sample_suite, TEST(demux_channels), TEST(demux_invalid), TEST(convert_sign_extension),
	   TEST(convert_shift), TEST(convert_big_endian), TEST(convert_64bit),
	   TEST(convert_double));
