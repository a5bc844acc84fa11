/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iio-zerocopy: waveform generator of the simulated converters.
 *
 * Knows nothing about IIO or DMA: it turns a byte position in a stream of
 * frames (one sample of every enabled channel, in channel order, little
 * endian, packed) into bytes. The simulated ADC uses it as its signal
 * source; a simulated DAC can use izc_wavegen_value() to know what the
 * counter waveform should look like when it is looped back.
 *
 * Counter waveform, for integrity checks: the sample of channel c at frame
 * index n (n counts frames from 0 at the start of the stream, including
 * frames that were lost) holds, for B storage bits (16 or 32):
 *
 *	value(n, c) = (n + c * 2^(B - 4)) mod 2^B
 *
 * stored as a B-bit two's complement little endian word. Every channel
 * counts up by one per frame, channels are 2^(B-4) apart (16 channels fill
 * the code space), so a single sample tells its channel's frame index
 * modulo 2^B and a gap or a channel mix-up shows in the next sample.
 */
#ifndef __IZC_WAVEFORM_H__
#define __IZC_WAVEFORM_H__

#include <linux/bits.h>
#include <linux/types.h>

#define IZC_WAVEGEN_MAX_CHANS	16
#define IZC_WAVEGEN_MAX_PERIOD	BIT(24)
#define IZC_WAVEGEN_DEF_PERIOD	1000

enum izc_wave_type {
	IZC_WAVE_COUNTER,
	IZC_WAVE_SINE,
	IZC_WAVE_RAMP,
	IZC_WAVE_NOISE,
	IZC_WAVE_NR
};

extern const char * const izc_wave_names[IZC_WAVE_NR];

/**
 * struct izc_wave_chan - per-channel settings
 * @type: enum izc_wave_type; written with WRITE_ONCE at any time, the
 *	generator reads it once per call
 * @period: period of sine and ramp in frames (2..IZC_WAVEGEN_MAX_PERIOD),
 *	same rule as @type
 * @noise: xorshift32 state of the noise waveform, generator-private
 */
struct izc_wave_chan {
	unsigned int type;
	u32 period;
	u32 noise;
};

/**
 * struct izc_wavegen - one converter's generator
 * @bits: storage bits per sample, 16 or 32
 * @nchan: number of channels
 * @nactive: enabled channels in the current stream
 * @active: their channel numbers, ascending
 * @frame_bytes: bytes per frame of the current stream
 * @pos: byte position in the current stream
 * @ch: per-channel settings
 *
 * The stream fields (@nactive, @active, @frame_bytes, @pos) belong to
 * whoever runs the stream: set by izc_wavegen_start() while it is stopped,
 * advanced only by izc_wavegen_fill() and izc_wavegen_skip(), which the
 * caller must not run concurrently with each other.
 */
struct izc_wavegen {
	unsigned int bits;
	unsigned int nchan;
	unsigned int nactive;
	u8 active[IZC_WAVEGEN_MAX_CHANS];
	unsigned int frame_bytes;
	u64 pos;
	struct izc_wave_chan ch[IZC_WAVEGEN_MAX_CHANS];
};

void izc_wavegen_init(struct izc_wavegen *g, unsigned int nchan,
		      unsigned int bits);
unsigned int izc_wavegen_start(struct izc_wavegen *g,
			       const unsigned long *mask);
void izc_wavegen_fill(struct izc_wavegen *g, void *dst, size_t len);
void izc_wavegen_skip(struct izc_wavegen *g, size_t len);
u32 izc_wavegen_counter(unsigned int bits, u64 n, unsigned int c);

#endif /* __IZC_WAVEFORM_H__ */
