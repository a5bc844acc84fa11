// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib-stream: libizc against the simulated ADC (4 x s16, counter waveform):
 * discovery, both backends delivering the counter exactly, dequeue timeout,
 * and cancellation from another thread.
 * value(n, c) = (n + c * 4096) mod 2^16, n = 0 at enable (docs/sim-adc.md).
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "izc.h"
#include "tap.h"

#define NBLOCKS 4
/*
 * The counter passes run paced (20 kS/s, 25.6 ms a block): 16 blocks give
 * the reader 410 ms of slack, so a TCG guest on a loaded host does not
 * overrun (with 4 blocks, 102 ms, it did about once in three runs).
 */
#define NBLOCKS_RUN 16
#define BLOCK_SIZE  4096
#define NCHECK	    8

static int check_counter(struct izc_stream *s, struct izc_channel *const ch[4], const char *what)
{
	size_t frame = izc_stream_frame_size(s), off[4];
	unsigned long long n = 0;
	int bad = 0;

	for (int c = 0; c < 4; c++)
		if (izc_stream_channel_offset(s, ch[c], &off[c]))
			return -1;
	for (int i = 0; i < NCHECK; i++) {
		struct izc_block *b;
		const unsigned char *data;
		void *p;
		int ret = izc_stream_dequeue(s, 5000, &b);

		if (ret) {
			tap_diag("%s: dequeue %d: %d", what, i, ret);
			return -1;
		}
		if (izc_block_cpu_begin(b, IZC_ACCESS_READ, &p))
			return -1;
		data = p;
		for (size_t f = 0; f < izc_block_bytes_used(b) / frame; f++, n++) {
			for (int c = 0; c < 4; c++) {
				uint16_t v = (uint16_t)izc_sample_to_int(
					izc_channel_scan_type(ch[c]), data + f * frame + off[c]);
				uint16_t want = (uint16_t)(n + (unsigned)c * 4096);

				if (v != want && bad++ < 4)
					tap_diag("%s: frame %llu ch %d: %u, want %u", what, n, c, v,
						 want);
			}
		}
		if (izc_block_cpu_end(b) || izc_block_enqueue(b, 0, 0))
			return -1;
	}
	return bad;
}

struct canceller {
	struct izc_stream *s;
};

static void *cancel_later(void *arg)
{
	struct timespec ts = {0, 100 * 1000000L};

	nanosleep(&ts, NULL);
	izc_stream_cancel(((struct canceller *)arg)->s);
	return NULL;
}

int main(void)
{
	struct izc_context *ctx = NULL;
	struct izc_device *dev = NULL;
	struct izc_buffer *buf = NULL;
	struct izc_channel *ch[4];
	struct izc_stream *s;
	struct izc_block *b;
	struct canceller c;
	pthread_t th;
	size_t frame = 0;
	long long ov, ov1;
	int ret = 0;

	tap_plan(15);
	ret = tap_load_sim_adc(NULL);
	if (!tap_ok(ret == 0, "modules loaded (%d)", ret))
		tap_bail("no simulated ADC");
	ret = izc_context_open(NULL, NULL, &ctx);
	if (!ret)
		ret = izc_context_find_device(ctx, "izc-sim-adc", &dev);
	if (!ret)
		ret = izc_device_get_buffer(dev, 0, &buf);
	for (int i = 0; i < 4 && !ret; i++) {
		char id[16];

		snprintf(id, sizeof(id), "voltage%d", i);
		ret = izc_buffer_find_channel(buf, id, &ch[i]);
	}
	if (!tap_ok(ret == 0, "found izc-sim-adc buffer0 and 4 channels (%d)", ret))
		tap_bail("discovery failed");
	tap_ok(izc_buffer_set_scan_mask(buf, 0xf) == 0, "scan mask 0xf");
	ret = izc_buffer_frame_size(buf, &frame);
	tap_ok(ret == 0 && frame == 8, "frame size %zu (%d)", frame, ret);

	/* Slow enough for a TCG guest to check every sample without overruns. */
	ret = izc_device_attr_write_ll(dev, "sampling_frequency", 20000);
	tap_success(ret, -ret, "sampling_frequency 20000");
	for (int pass = 0; pass < 2; pass++) {
		unsigned int flags = pass ? IZC_STREAM_FILEIO : IZC_STREAM_NO_FALLBACK;
		enum izc_backend want = pass ? IZC_BACKEND_FILEIO : IZC_BACKEND_DMABUF;
		const char *name = izc_backend_name(want);

		ret = izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS_RUN, BLOCK_SIZE, flags, &s);
		if (!tap_ok(ret == 0 && izc_stream_backend(s) == want, "%s: open (%d)", name,
			    ret)) {
			tap_ok(false, "%s: start not run: no stream", name);
			tap_ok(false, "%s: counter not checked: no stream", name);
			continue;
		}
		tap_ok(izc_stream_start(s) == 0, "%s: start", name);
		ov = -1;
		izc_device_attr_read_ll(dev, "overrun_samples", &ov);
		ret = check_counter(s, ch, name);
		ov1 = -1;
		izc_device_attr_read_ll(dev, "overrun_samples", &ov1);
		if (ov1 != ov)
			tap_diag("%s: overrun_samples %lld -> %lld: the reader fell behind", name,
				 ov, ov1);
		tap_ok(ret == 0, "%s: %d blocks of counter data exact (%d)", name, NCHECK, ret);
		izc_stream_close(s);
	}

	/* Slow the ADC so that nothing completes within the waits below. */
	ret = izc_device_attr_write_ll(dev, "sampling_frequency", 100);
	if (!ret)
		ret = izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE,
				      IZC_STREAM_NO_FALLBACK, &s);
	if (!ret)
		ret = izc_stream_start(s);
	if (!tap_success(ret, -ret, "slow DMABUF stream (100 S/s) started")) {
		tap_ok(false, "timeout not checked: no slow stream");
		tap_ok(false, "cancel not checked: no slow stream");
		tap_ok(false, "stop not checked: no slow stream");
	} else {
		tap_errno(izc_stream_dequeue(s, 50, &b), 0, ETIMEDOUT, "dequeue times out");
		c.s = s;
		pthread_create(&th, NULL, cancel_later, &c);
		ret = izc_stream_dequeue(s, -1, &b);
		pthread_join(th, NULL);
		tap_ok(ret == -ECANCELED, "endless dequeue cancelled from a thread (%d)", ret);
		/*
		 * After the stop every queued block was aborted: each dequeues as
		 * -EINTR, its fence error (docs/library.md), never as data; then
		 * nothing is queued any more: -ENOBUFS.
		 */
		ret = izc_stream_stop(s);
		if (!ret) {
			int aborted = 0, r;

			while ((r = izc_stream_dequeue(s, 1000, &b)) == -EINTR &&
			       aborted <= NBLOCKS)
				aborted++;
			tap_ok(aborted == NBLOCKS && r == -ENOBUFS,
			       "after stop: the %d pending blocks dequeue as -EINTR (%d), then "
			       "-ENOBUFS (%d)",
			       NBLOCKS, aborted, r);
		} else {
			tap_ok(false, "stop: %d", ret);
		}
		izc_stream_close(s);
	}
	izc_context_close(ctx);
	return tap_done();
}
