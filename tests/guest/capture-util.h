/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared helpers of the capture-* guest tests (which load the modules with
 * tap_load_sim_adc() of tap.h): finding a simulated ADC through libizc, and
 * checking the counter waveform of docs/sim-adc.md,
 *
 *	value(n, c) = (n + c * 2^(B - 4)) mod 2^B,
 *
 * n the frame index since enable, c the channel, B the storage bits (16|32),
 * stored little endian. A checker carries n across calls, so data handed
 * over in blocks is checked as one stream: a lost, duplicated or reordered
 * frame anywhere, including at a block boundary, is a mismatch.
 */
#ifndef IZC_TESTS_CAPTURE_UTIL_H
#define IZC_TESTS_CAPTURE_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "izc.h"
#include "tap.h"

/* An opened context with one ADC (found by id, label or name) and its buffer0. */
struct cap_adc {
	struct izc_context *ctx;
	struct izc_device *dev;
	struct izc_buffer *buf;
	char node[64]; /* /dev/iio:deviceN */
};

static inline int cap_adc_open(struct cap_adc *a, const char *name)
{
	int ret = izc_context_open(NULL, NULL, &a->ctx);

	if (ret)
		return ret;
	ret = izc_context_find_device(a->ctx, name, &a->dev);
	if (!ret)
		ret = izc_device_get_buffer(a->dev, 0, &a->buf);
	if (ret) {
		izc_context_close(a->ctx);
		a->ctx = NULL;
		return ret;
	}
	snprintf(a->node, sizeof(a->node), "/dev/%s", izc_device_id(a->dev));
	return 0;
}

/*
 * The device @name (id, label or name) of @ctx and its buffer0 with the
 * channels of @mask enabled. Returns 0 or the first step's negative errno.
 */
static inline int cap_find_buffer(struct izc_context *ctx, const char *name, uint64_t mask,
				  struct izc_device **dev, struct izc_buffer **buf)
{
	int ret = izc_context_find_device(ctx, name, dev);

	if (!ret)
		ret = izc_device_get_buffer(*dev, 0, buf);
	if (!ret)
		ret = izc_buffer_set_scan_mask(*buf, mask);
	return ret;
}

static inline void cap_adc_close(struct cap_adc *a)
{
	if (a->ctx)
		izc_context_close(a->ctx);
	a->ctx = NULL;
}

/*
 * cap_adc_open(), then enable the channels of @mask and, unless @rate is
 * negative, set sampling_frequency to @rate. Returns 0 or the first step's
 * negative errno; on an error the context is closed again.
 */
static inline int cap_adc_setup(struct cap_adc *a, const char *name, uint64_t mask, long long rate)
{
	int ret = cap_adc_open(a, name);

	if (ret)
		return ret;
	ret = izc_buffer_set_scan_mask(a->buf, mask);
	if (!ret && rate >= 0)
		ret = izc_device_attr_write_ll(a->dev, "sampling_frequency", rate);
	if (ret)
		cap_adc_close(a);
	return ret;
}

static inline long long cap_attr_ll(const struct cap_adc *a, const char *attr)
{
	long long v = -1;

	if (izc_device_attr_read_ll(a->dev, attr, &v))
		return -1;
	return v;
}

/*
 * Counter checker for packed frames of the channels in @mask (scan index
 * order, B bits each, no padding: the sim ADC's frames).
 */
struct cap_check {
	unsigned int chan[16];
	unsigned int nch;
	unsigned int bits;
	size_t frame;	      /* bytes */
	uint64_t n;	      /* next expected frame index */
	uint64_t frames;      /* frames checked */
	uint64_t gap_frames;  /* frames skipped (gap mode only) */
	unsigned int gaps;    /* jumps seen (gap mode only) */
	bool gap_mode;	      /* accept forward jumps of the counter */
	uint64_t last_gap_at; /* frames checked when the last jump was seen */
	unsigned int errors;
};

static inline void cap_check_init(struct cap_check *k, uint64_t mask, unsigned int bits)
{
	memset(k, 0, sizeof(*k));
	for (unsigned int c = 0; c < 16; c++)
		if (mask & (1ull << c))
			k->chan[k->nch++] = c;
	k->bits = bits;
	k->frame = (size_t)k->nch * bits / 8;
}

static inline uint32_t cap_expect(const struct cap_check *k, uint64_t n, unsigned int c)
{
	uint64_t v = n + ((uint64_t)c << (k->bits - 4));

	return k->bits == 16 ? (uint16_t)v : (uint32_t)v;
}

static inline uint32_t cap_load_le(const unsigned char *p, unsigned int bits)
{
	if (bits == 16)
		return p[0] | p[1] << 8;
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void cap_mismatch(struct cap_check *k, unsigned int c, uint32_t got, uint32_t want)
{
	if (k->errors++ < 4)
		tap_diag("frame %llu checked (stream index %llu) channel %u: 0x%x, want 0x%x",
			 (unsigned long long)k->frames, (unsigned long long)k->n, c, got, want);
}

/*
 * Check @bytes (whole frames) of frames. In gap mode a frame whose first
 * channel is ahead of the expected value is taken as a forward jump over
 * lost frames (counted in gap_frames); every other channel of the frame must
 * then agree. Returns true if everything matched.
 */
static inline bool cap_check_data(struct cap_check *k, const void *data, size_t bytes)
{
	const unsigned char *p = data;
	size_t nframes = bytes / k->frame;
	unsigned int errors = k->errors;
	unsigned int sb = k->bits / 8;
	uint64_t mod = k->bits == 16 ? 0x10000ull : 0x100000000ull;

	if (bytes % k->frame) {
		tap_diag("%zu bytes are not whole frames of %zu", bytes, k->frame);
		k->errors++;
		return false;
	}
	for (size_t f = 0; f < nframes; f++, p += k->frame) {
		if (k->gap_mode) {
			uint32_t v0 = cap_load_le(p, k->bits);
			uint64_t d = (v0 - cap_expect(k, k->n, k->chan[0]) + mod) % mod;

			if (d) {
				k->gaps++;
				k->gap_frames += d;
				k->n += d;
				k->last_gap_at = k->frames + 1;
			}
		}
		for (unsigned int i = 0; i < k->nch; i++) {
			uint32_t got = cap_load_le(p + i * sb, k->bits);
			uint32_t want = cap_expect(k, k->n, k->chan[i]);

			if (got != want)
				cap_mismatch(k, k->chan[i], got, want);
		}
		k->n++;
		k->frames++;
		if (k->errors > errors + 16)
			return false;
	}
	return k->errors == errors;
}

/*
 * Check one channel demultiplexed into @vals (@count packed samples of
 * bits / 8 bytes) against the counter from frame index @n0.
 */
static inline bool cap_check_channel(const struct cap_check *k, const void *vals, size_t count,
				     uint64_t n0, unsigned int c)
{
	const unsigned char *p = vals;
	unsigned int sb = k->bits / 8;

	for (size_t i = 0; i < count; i++) {
		uint32_t got = cap_load_le(p + i * sb, k->bits);

		if (got != cap_expect(k, n0 + i, c)) {
			tap_diag("demuxed channel %u sample %zu: 0x%x, want 0x%x", c, i, got,
				 cap_expect(k, n0 + i, c));
			return false;
		}
	}
	return true;
}

/*
 * Fill a block the application is about to give back to the device with a
 * pattern the counter never produces twice in a row (0xa5 bytes: every
 * sample the same), so a block the device hands back without having written
 * it again fails cap_check_data() instead of passing with the old data.
 */
#define CAP_POISON 0xa5

static inline void cap_poison(void *data, size_t bytes)
{
	memset(data, CAP_POISON, bytes);
}

/*
 * One input block of a libizc stream: dequeue (waiting up to 20 s), CPU
 * access for read and write, check the whole block (bytes_used must be
 * @want) as the next frames of @k, poison it, end CPU access, wait @hold_ns
 * (a reader slow to give blocks back), enqueue it again. Adds the bytes
 * checked to @bytes unless it is NULL. Returns 0, the dequeue's error as is
 * (the block is not the application's then), another step's negative
 * errno, or -EBADMSG if the data did not match.
 */
static inline int cap_stream_turn(struct izc_stream *s, struct cap_check *k, size_t want,
				  long hold_ns, size_t *bytes)
{
	struct timespec hold = {hold_ns / 1000000000L, hold_ns % 1000000000L};
	struct izc_block *b;
	size_t used;
	void *p;
	bool ok;
	int ret = izc_stream_dequeue(s, 20000, &b);

	if (ret)
		return ret;
	ret = izc_block_cpu_begin(b, IZC_ACCESS_READ | IZC_ACCESS_WRITE, &p);
	if (ret)
		return ret;
	used = izc_block_bytes_used(b);
	ok = used == want;
	if (!ok)
		tap_diag("block %u: bytes_used %zu, want %zu", izc_block_index(b), used, want);
	ok = cap_check_data(k, p, used) && ok;
	if (bytes)
		*bytes += used;
	cap_poison(p, izc_block_size(b));
	ret = izc_block_cpu_end(b);
	if (!ret && hold_ns)
		nanosleep(&hold, NULL);
	if (!ret)
		ret = izc_block_enqueue(b, 0, 0);
	return ret ? ret : ok ? 0 : -EBADMSG;
}

/* cap_stream_turn() without a hold: true if all of it worked and the data matched. */
static inline bool cap_stream_cycle(struct izc_stream *s, struct cap_check *k, size_t want,
				    size_t *bytes)
{
	int ret = cap_stream_turn(s, k, want, 0, bytes);

	if (ret && ret != -EBADMSG)
		tap_diag("dequeue, CPU access or enqueue: %d", ret);
	return !ret;
}

/*
 * End of a DMABUF input stream: stop it, then take every block still queued.
 * Blocks the device had completed before the stop come out as data and are
 * checked as the next frames of @k (counted in @blocks and @bytes); blocks
 * the stop aborted come out as an error and are not counted. Afterwards the
 * device's blocks_completed and bytes_completed must have grown by exactly
 * what the application saw. Returns true if the stop worked and the data
 * matched; -ENOBUFS ends the queue.
 */
static inline bool cap_stream_finish(struct izc_stream *s, struct cap_check *k,
				     unsigned long long *blocks, size_t *bytes)
{
	int ret = izc_stream_stop(s);
	bool ok = !ret;

	if (ret)
		tap_diag("stop: %d", ret);
	for (unsigned int i = 0; i <= izc_stream_block_count(s) && !ret; i++) {
		struct izc_block *b;
		void *p;

		ret = izc_stream_dequeue(s, 5000, &b);
		if (ret == -ENOBUFS)
			return ok;
		if (ret < 0) {
			ret = 0; /* aborted by the stop */
			continue;
		}
		ret = izc_block_cpu_begin(b, IZC_ACCESS_READ, &p);
		if (ret)
			break;
		ok = cap_check_data(k, p, izc_block_bytes_used(b)) && ok;
		(*blocks)++;
		*bytes += izc_block_bytes_used(b);
		ret = izc_block_cpu_end(b);
	}
	tap_diag("after stop: dequeue/cpu access %d, the queue did not end in -ENOBUFS", ret);
	return false;
}

#endif /* IZC_TESTS_CAPTURE_UTIL_H */
