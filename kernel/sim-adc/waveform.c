// SPDX-License-Identifier: GPL-2.0
/*
 * iio-zerocopy: waveform generator of the simulated converters.
 * The counter formula and the stream layout are described in waveform.h.
 */

#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/fixp-arith.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#include "waveform.h"

/* fixp_sin32_rad() accepts at most this many steps per turn */
#define IZC_SINE_TURN	BIT(18)

const char * const izc_wave_names[IZC_WAVE_NR] = {
	[IZC_WAVE_COUNTER] = "counter",
	[IZC_WAVE_SINE] = "sine",
	[IZC_WAVE_RAMP] = "ramp",
	[IZC_WAVE_NOISE] = "noise",
};

/* What one fill() call uses, read once from the shared settings */
struct izc_wave_snap {
	unsigned int type[IZC_WAVEGEN_MAX_CHANS];
	u32 period[IZC_WAVEGEN_MAX_CHANS];
	bool all_counter;
};

/**
 * izc_wavegen_counter - the counter waveform
 * @bits: storage bits, 16 or 32
 * @n: frame index from the start of the stream
 * @c: channel number
 *
 * Return: (n + c * 2^(bits - 4)) mod 2^bits.
 */
u32 izc_wavegen_counter(unsigned int bits, u64 n, unsigned int c)
{
	u64 v = n + ((u64)c << (bits - 4));

	return bits == 32 ? (u32)v : (u32)(v & 0xffff);
}

/**
 * izc_wavegen_init - set a generator up: counter everywhere
 * @g: the generator
 * @nchan: channels, at most IZC_WAVEGEN_MAX_CHANS
 * @bits: storage bits, 16 or 32
 */
void izc_wavegen_init(struct izc_wavegen *g, unsigned int nchan,
		      unsigned int bits)
{
	unsigned int c;

	memset(g, 0, sizeof(*g));
	g->bits = bits;
	g->nchan = min(nchan, IZC_WAVEGEN_MAX_CHANS);
	for (c = 0; c < g->nchan; c++) {
		g->ch[c].type = IZC_WAVE_COUNTER;
		g->ch[c].period = IZC_WAVEGEN_DEF_PERIOD;
		g->ch[c].noise = 0x9e3779b9u * (c + 1) | 1;
	}
}

/**
 * izc_wavegen_start - begin a stream with the channels in @mask
 * @g: the generator, not streaming
 * @mask: enabled channels (bit c for channel c)
 *
 * Return: bytes per frame (0 if @mask selects no channel).
 */
unsigned int izc_wavegen_start(struct izc_wavegen *g,
			       const unsigned long *mask)
{
	unsigned int c;

	g->nactive = 0;
	for_each_set_bit(c, mask, g->nchan)
		g->active[g->nactive++] = c;
	g->frame_bytes = g->nactive * (g->bits / 8);
	g->pos = 0;

	return g->frame_bytes;
}

static void izc_wave_snapshot(const struct izc_wavegen *g,
			      struct izc_wave_snap *s)
{
	unsigned int i;

	s->all_counter = true;
	for (i = 0; i < g->nactive; i++) {
		const struct izc_wave_chan *wc = &g->ch[g->active[i]];

		s->type[i] = READ_ONCE(wc->type);
		s->period[i] = clamp(READ_ONCE(wc->period), 2U,
				     IZC_WAVEGEN_MAX_PERIOD);
		if (s->type[i] != IZC_WAVE_COUNTER)
			s->all_counter = false;
	}
}

static u32 izc_wave_sample(struct izc_wavegen *g, unsigned int type,
			   u32 period, u64 n, unsigned int c)
{
	unsigned int b = g->bits;
	u32 phase, x;
	s32 s;

	switch (type) {
	case IZC_WAVE_SINE:
		div_u64_rem(n, period, &phase);
		s = fixp_sin32_rad(div_u64((u64)phase * IZC_SINE_TURN, period),
				   IZC_SINE_TURN);
		return (u32)(s >> (32 - b));
	case IZC_WAVE_RAMP:
		div_u64_rem(n, period, &phase);
		return (u32)(div_u64((u64)phase << b, period) - BIT_ULL(b - 1));
	case IZC_WAVE_NOISE:
		x = g->ch[c].noise;
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		g->ch[c].noise = x;
		return x;
	default:
		return izc_wavegen_counter(b, n, c);
	}
}

static void izc_wave_put(unsigned int bits, u32 v, u8 *dst)
{
	if (bits == 16)
		put_unaligned_le16(v, dst);
	else
		put_unaligned_le32(v, dst);
}

/* Write @count whole frames starting at frame @n */
static void izc_wave_frames(struct izc_wavegen *g,
			    const struct izc_wave_snap *s, u64 n, u64 count,
			    u8 *dst)
{
	unsigned int i, sb = g->bits / 8;
	u32 off[IZC_WAVEGEN_MAX_CHANS];

	if (s->all_counter) {
		for (i = 0; i < g->nactive; i++)
			off[i] = izc_wavegen_counter(g->bits, 0, g->active[i]);
		for (; count; count--, n++)
			for (i = 0; i < g->nactive; i++, dst += sb)
				izc_wave_put(g->bits, (u32)n + off[i], dst);
		return;
	}

	for (; count; count--, n++)
		for (i = 0; i < g->nactive; i++, dst += sb)
			izc_wave_put(g->bits,
				     izc_wave_sample(g, s->type[i], s->period[i],
						     n, g->active[i]),
				     dst);
}

/**
 * izc_wavegen_fill - produce the next @len bytes of the stream
 * @g: the generator
 * @dst: where to
 * @len: any length; frames may be split across calls
 */
void izc_wavegen_fill(struct izc_wavegen *g, void *dst, size_t len)
{
	u8 tmp[IZC_WAVEGEN_MAX_CHANS * sizeof(u32)];
	unsigned int fb = g->frame_bytes;
	struct izc_wave_snap s;
	u8 *p = dst;
	u64 n, count;
	u32 off;
	size_t k;

	if (!fb || !len)
		return;

	izc_wave_snapshot(g, &s);
	n = div_u64_rem(g->pos, fb, &off);
	g->pos += len;

	if (off) {
		/* the rest of a frame begun by the previous call */
		izc_wave_frames(g, &s, n, 1, tmp);
		k = min_t(size_t, fb - off, len);
		memcpy(p, tmp + off, k);
		p += k;
		len -= k;
		n++;
	}

	count = div_u64_rem(len, fb, &off);
	izc_wave_frames(g, &s, n, count, p);
	p += count * fb;
	n += count;

	if (off) {
		/* the beginning of a frame the next call finishes */
		izc_wave_frames(g, &s, n, 1, tmp);
		memcpy(p, tmp, off);
	}
}

/**
 * izc_wavegen_skip - the stream advanced by @len bytes without being stored
 * @g: the generator
 * @len: bytes
 */
void izc_wavegen_skip(struct izc_wavegen *g, size_t len)
{
	g->pos += len;
}
