// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib-drain: izc_stream_drain() through the DAC -> ADC loopback (both
 * unpaced, latency 0, so the ADC captures exactly what the DAC sends).
 *  - errnos: input stream -EINVAL, queued but not started -ENOBUFS, a
 *    cyclic block -EBUSY;
 *  - fileio and DMABUF: six blocks, the last one short, drained and then
 *    stopped: the capture holds every frame (fileio: plus the zero padding
 *    of the short block), and nothing after it; the drained blocks come
 *    back at once;
 *  - a paced DAC: drain times out, is cancelled, then completes.
 */
#include "capture-util.h"
#include "sim-pair.h"

#define DAC_BLOCK  (64 << 10)
#define DAC_BLOCKS 4
#define SENT	   6
#define SHORT_BY   (8 << 10) /* the last block lacks one ADC block */
#define ADC_BLOCK  (8 << 10)
#define ADC_BLOCKS 8

static int open_stream(struct izc_device *dev, enum izc_direction dir, unsigned int n, size_t size,
		       unsigned int flags, struct izc_stream **s)
{
	int ret = izc_stream_open(dev, 0, dir, n, size, flags, s);

	if (ret)
		tap_diag("open %s: %s", izc_device_id(dev), strerror(-ret));
	return ret;
}

/* Queue SENT pattern blocks on the running DAC stream, the last one short. */
static int send_blocks(struct izc_stream *dac)
{
	for (int k = 0; k < SENT; k++) {
		size_t len = k == SENT - 1 ? DAC_BLOCK - SHORT_BY : DAC_BLOCK;
		struct izc_block *b;
		void *p;
		int ret = izc_stream_dequeue(dac, 5000, &b);

		if (!ret)
			ret = izc_block_cpu_begin(b, IZC_ACCESS_WRITE, &p);
		if (ret) {
			tap_diag("DAC block %d: %s", k, strerror(-ret));
			return ret;
		}
		pattern_fill(p, DAC_BLOCK / 4, (uint64_t)k * (DAC_BLOCK / 4));
		ret = izc_block_enqueue(b, len, 0);
		if (ret) {
			tap_diag("enqueue %d: %s", k, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Every ADC block of the capture against what the DAC sent. */
static int check_capture(struct izc_stream *adc, unsigned int nblocks, bool padded)
{
	unsigned int data_blocks = (SENT * DAC_BLOCK - SHORT_BY) / ADC_BLOCK;

	for (unsigned int j = 0; j < nblocks; j++) {
		struct izc_block *b;
		const uint32_t *w;
		void *p;
		long bad = -1;
		int ret = izc_stream_dequeue(adc, 5000, &b);

		if (!ret)
			ret = izc_block_cpu_begin(b, IZC_ACCESS_READ, &p);
		if (ret) {
			tap_diag("ADC block %u: %s", j, strerror(-ret));
			return -1;
		}
		w = p;
		if (j < data_blocks) {
			bad = pattern_check(w, ADC_BLOCK / 4, (uint64_t)j * (ADC_BLOCK / 4));
		} else {
			for (size_t k = 0; k < ADC_BLOCK / 4 && bad < 0; k++)
				if (w[k] || !padded)
					bad = (long)k;
		}
		if (bad >= 0) {
			tap_diag("ADC block %u word %ld: %08x", j, bad, w[bad]);
			return -1;
		}
		if (izc_block_enqueue(b, 0, 0))
			return -1;
	}
	return 0;
}

static void drain_round_trip(struct izc_device *adcdev, struct izc_device *dacdev,
			     unsigned int flags, const char *name)
{
	bool fileio = flags & IZC_STREAM_FILEIO;
	unsigned int nadc = (SENT * DAC_BLOCK - (fileio ? 0 : SHORT_BY)) / ADC_BLOCK;
	struct izc_stream *adc = NULL, *dac = NULL;
	struct izc_block *b;
	int ret, back = 0;

	ret = open_stream(adcdev, IZC_DIR_IN, ADC_BLOCKS, ADC_BLOCK, IZC_STREAM_NO_FALLBACK, &adc);
	if (!ret)
		ret = izc_stream_start(adc);
	if (!ret)
		ret = open_stream(dacdev, IZC_DIR_OUT, DAC_BLOCKS, DAC_BLOCK, flags, &dac);
	if (!ret)
		ret = izc_stream_start(dac);
	if (!ret)
		ret = send_blocks(dac);
	if (!tap_ok(!ret, "%s: ADC capturing, %d blocks sent to the DAC, the last %d KiB short",
		    name, SENT, SHORT_BY >> 10)) {
		for (int i = 0; i < 4; i++)
			tap_ok(false, "%s: drain not run: the streams did not start", name);
		goto out_close;
	}
	ret = izc_stream_drain(dac, 10000);
	tap_success(ret, -ret, "%s: drain", name);
	while (back < DAC_BLOCKS && izc_stream_dequeue(dac, 0, &b) == 0)
		back++;
	tap_ok(back == DAC_BLOCKS, "%s: all %d DAC blocks back without waiting (%d)", name,
	       DAC_BLOCKS, back);
	ret = izc_stream_stop(dac);
	if (ret)
		tap_diag("stop: %s", strerror(-ret));
	tap_ok(!ret && check_capture(adc, nadc, fileio) == 0,
	       "%s: stopped after the drain, the capture has all %u KiB sent%s", name,
	       nadc * (ADC_BLOCK >> 10), fileio ? ", the short block zero padded" : "");
	tap_errno(izc_stream_dequeue(adc, 300, &b), 0, ETIMEDOUT,
		  "%s: and nothing after it (the unpaced ADC waits)", name);
out_close:
	izc_stream_close(dac);
	izc_stream_close(adc);
}

/* DAC at 100 kHz: four 64 KiB blocks of 8-byte frames take 330 ms. */
static void drain_waits(struct izc_device *dacdev, unsigned int flags, const char *name)
{
	struct izc_stream *dac = NULL;
	struct izc_block *b;
	void *p;
	int ret;

	ret = open_stream(dacdev, IZC_DIR_OUT, DAC_BLOCKS, DAC_BLOCK, flags, &dac);
	if (!ret)
		ret = izc_stream_start(dac);
	for (int k = 0; k < DAC_BLOCKS && !ret; k++) {
		ret = izc_stream_dequeue(dac, 0, &b);
		if (!ret)
			ret = izc_block_cpu_begin(b, IZC_ACCESS_WRITE, &p);
		if (!ret) {
			memset(p, 0x5a, DAC_BLOCK);
			ret = izc_block_enqueue(b, 0, 0);
		}
	}
	if (ret) {
		tap_diag("%s: paced stream: %s", name, strerror(-ret));
		for (int i = 0; i < 3; i++)
			tap_ok(false, "%s: drain not run: no paced stream", name);
		izc_stream_close(dac);
		return;
	}
	tap_errno(izc_stream_drain(dac, 20), 0, ETIMEDOUT, "%s: drain(20 ms) of 330 ms of data",
		  name);
	izc_stream_cancel(dac);
	tap_errno(izc_stream_drain(dac, -1), 0, ECANCELED, "%s: cancelled drain", name);
	ret = izc_stream_drain(dac, 10000);
	tap_success(ret, -ret, "%s: then drained", name);
	izc_stream_close(dac);
}

int main(void)
{
	struct izc_device *adcdev = NULL, *dacdev = NULL;
	struct izc_buffer *adcbuf = NULL, *dacbuf = NULL;
	struct izc_context *ctx = NULL;
	struct izc_stream *s = NULL;
	struct izc_block *b;
	int ret;

	tap_plan(25);
	load_modules("sampling_frequency=0", "sampling_frequency=0 loopback=1");
	ret = izc_context_open(NULL, NULL, &ctx);
	if (!ret)
		ret = cap_find_buffer(ctx, "izc-sim-adc0", 0xf, &adcdev, &adcbuf);
	if (!ret)
		ret = cap_find_buffer(ctx, "izc-sim-dac0", 0xf, &dacdev, &dacbuf);
	if (!tap_ok(!ret, "izc-sim-adc0 and izc-sim-dac0, 4 channels each (%d)", ret))
		tap_bail("discovery failed");

	/*
	 * Each errno case: the setup steps must succeed (asserted on their own),
	 * so that an errno of theirs cannot pass for the drain's.
	 */
	ret = open_stream(adcdev, IZC_DIR_IN, 2, ADC_BLOCK, 0, &s);
	if (tap_success(ret, -ret, "open an input stream"))
		tap_errno(izc_stream_drain(s, 0), 0, EINVAL, "drain an input stream");
	else
		tap_ok(false, "drain an input stream: not run");
	if (s)
		izc_stream_close(s);
	s = NULL;

	ret = open_stream(dacdev, IZC_DIR_OUT, 2, DAC_BLOCK, 0, &s);
	ret = ret ? ret : izc_stream_drain(s, 0);
	tap_success(ret, -ret, "drain an idle output stream");
	if (!ret)
		ret = izc_stream_dequeue(s, 0, &b);
	if (!ret)
		ret = izc_block_enqueue(b, 0, 0);
	if (tap_success(ret, -ret, "a block dequeued and enqueued before start"))
		tap_errno(izc_stream_drain(s, 0), 0, ENOBUFS, "drain a block queued before start");
	else
		tap_ok(false, "drain a block queued before start: not run");
	if (s)
		izc_stream_close(s);
	s = NULL;

	drain_round_trip(adcdev, dacdev, IZC_STREAM_FILEIO, "fileio");
	drain_round_trip(adcdev, dacdev, IZC_STREAM_NO_FALLBACK, "DMABUF");

	ret = open_stream(dacdev, IZC_DIR_OUT, 2, DAC_BLOCK, IZC_STREAM_NO_FALLBACK, &s);
	if (!ret)
		ret = izc_stream_start(s);
	if (!ret)
		ret = izc_stream_dequeue(s, 0, &b);
	if (!ret)
		ret = izc_block_enqueue(b, 0, IZC_BLOCK_CYCLIC);
	if (tap_success(ret, -ret, "DMABUF output stream started, a block enqueued cyclic"))
		tap_errno(izc_stream_drain(s, 1000), 0, EBUSY,
			  "drain with a cyclic block repeating");
	else
		tap_ok(false, "drain with a cyclic block repeating: not run");
	if (s)
		izc_stream_close(s);
	s = NULL;

	ret = izc_device_attr_write_ll(dacdev, "sampling_frequency", 100000);
	tap_success(ret, -ret, "DAC sampling_frequency 100000");
	drain_waits(dacdev, IZC_STREAM_FILEIO, "fileio");
	drain_waits(dacdev, IZC_STREAM_NO_FALLBACK, "DMABUF");

	izc_context_close(ctx);
	return tap_done();
}
