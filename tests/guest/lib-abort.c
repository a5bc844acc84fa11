// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib-abort: the waiting side of libizc streams on the simulated ADC, for
 * both backends where it applies:
 *  - izc_stream_dequeue() timeout: exactly -ETIMEDOUT while nothing completes;
 *  - izc_stream_cancel() from another thread during an endless dequeue, and
 *    a cancel before the wait: exactly -ECANCELED, one cancel per wait;
 *  - aborted blocks: stop a DMABUF stream with blocks pending; every one
 *    dequeues as the fence error (-EINTR, as the kernel signals aborted
 *    transfers) and never as data, then -ENOBUFS; the same stream started
 *    again delivers the counter from frame 0.
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "capture-util.h"

#define NBLOCKS	   4
#define BLOCK_SIZE 4096

struct canceller {
	struct izc_stream *s;
};

static void *cancel_later(void *arg)
{
	struct timespec ts = {0, 200 * 1000000L};

	nanosleep(&ts, NULL);
	izc_stream_cancel(((struct canceller *)arg)->s);
	return NULL;
}

/* Frames of block b (all 4 channels) follow the counter from frame *n. */
static bool counter_ok(struct izc_block *b, unsigned long long *n)
{
	const uint16_t *v;
	void *p;
	bool ok;

	if (izc_block_cpu_begin(b, IZC_ACCESS_READ, &p))
		return false;
	v = p;
	ok = izc_block_bytes_used(b) == BLOCK_SIZE;
	for (size_t f = 0; ok && f < BLOCK_SIZE / 8; f++, (*n)++)
		for (unsigned int c = 0; c < 4; c++)
			ok &= v[f * 4 + c] == (uint16_t)(*n + c * 4096);
	if (!ok)
		tap_diag("frame %llu: %04x %04x %04x %04x", *n - 1, v[0], v[1], v[2], v[3]);
	return !izc_block_cpu_end(b) && ok;
}

static void waits(struct izc_device *dev, unsigned int flags, const char *name)
{
	struct izc_stream *s;
	struct izc_block *b;
	struct canceller c;
	pthread_t th;
	int ret;

	/* 100 S/s x 8-byte frames: a 4 KiB block takes 5 s. */
	ret = izc_device_attr_write_ll(dev, "sampling_frequency", 100);
	if (!ret)
		ret = izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE, flags, &s);
	if (!ret)
		ret = izc_stream_start(s);
	if (!tap_ok(ret == 0, "%s: slow stream started (%d)", name, ret)) {
		for (int i = 0; i < 4; i++)
			tap_ok(false, "%s: waits not run: no stream", name);
		return;
	}
	tap_errno(izc_stream_dequeue(s, 100, &b), 0, ETIMEDOUT, "%s: dequeue times out", name);
	c.s = s;
	pthread_create(&th, NULL, cancel_later, &c);
	ret = izc_stream_dequeue(s, -1, &b);
	pthread_join(th, NULL);
	tap_errno(ret, 0, ECANCELED, "%s: endless dequeue cancelled from another thread", name);
	ret = izc_stream_cancel(s);
	if (ret)
		tap_diag("izc_stream_cancel: %d", ret);
	tap_errno(ret ? -EPROTO : izc_stream_dequeue(s, 5000, &b), 0, ECANCELED,
		  "%s: cancel (%d) before the wait cancels it", name, ret);
	tap_errno(izc_stream_dequeue(s, 50, &b), 0, ETIMEDOUT,
		  "%s: one cancel cancels one wait only", name);
	izc_stream_close(s);
}

int main(void)
{
	struct cap_adc a = {0};
	struct izc_device *dev;
	struct izc_stream *s;
	struct izc_block *b;
	unsigned long long n = 0;
	int ret = 0, aborted = 0, other = 0;
	bool ok = true;

	tap_plan(16);
	ret = tap_load_sim_adc(NULL);
	if (!tap_ok(ret == 0, "modules loaded (%d)", ret))
		tap_bail("no simulated ADC");
	ret = cap_adc_setup(&a, "izc-sim-adc", 0xf, -1);
	if (!tap_ok(ret == 0, "izc-sim-adc, 4 channels (%d)", ret))
		tap_bail("setup");
	dev = a.dev;

	waits(dev, IZC_STREAM_NO_FALLBACK, "dmabuf");
	waits(dev, IZC_STREAM_FILEIO, "fileio");

	/* Aborted blocks: 4 blocks pending at 100 S/s, then stop. */
	ret = izc_device_attr_write_ll(dev, "sampling_frequency", 100);
	if (!ret)
		ret = izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE,
				      IZC_STREAM_NO_FALLBACK, &s);
	if (!ret)
		ret = izc_stream_start(s);
	if (!ret)
		ret = izc_stream_stop(s);
	if (!tap_ok(ret == 0, "dmabuf: started and stopped with %d blocks pending (%d)", NBLOCKS,
		    ret))
		tap_bail("abort setup");
	for (int i = 0; i < NBLOCKS; i++) {
		ret = izc_stream_dequeue(s, 5000, &b);
		if (ret == -EINTR)
			aborted++;
		else if (ret == 0)
			ok = false; /* data handed out from an aborted transfer */
		else if (other++ < 4)
			tap_diag("dequeue %d after stop: %d", i, ret);
	}
	tap_ok(aborted == NBLOCKS && ok,
	       "every pending block dequeues as -EINTR, never as data "
	       "(%d of %d)",
	       aborted, NBLOCKS);
	tap_errno(izc_stream_dequeue(s, 100, &b), 0, ENOBUFS, "then nothing is queued: -ENOBUFS");
	/* Unpaced: no overrun can skip frames, the counter must be continuous. */
	ret = izc_device_attr_write_ll(dev, "sampling_frequency", 0);
	if (!ret)
		ret = izc_stream_start(s);
	for (int i = 0; !ret && i < 2 * NBLOCKS; i++) {
		ret = izc_stream_dequeue(s, 5000, &b);
		if (!ret && !counter_ok(b, &n))
			ret = -EBADMSG;
		if (!ret)
			ret = izc_block_enqueue(b, 0, 0);
	}
	tap_ok(ret == 0, "restarted stream reuses the aborted blocks: counter from frame 0 (%d)",
	       ret);
	izc_stream_close(s);
	cap_adc_close(&a);
	return tap_done();
}
