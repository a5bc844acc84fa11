// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib-fileio-stop: izc_stream_stop() on a fileio input stream ends the wait
 * for the blocks it had queued, as it does for DMABUF (lib-abort): a stopped
 * buffer never fills a block, so every queued block that the buffer cannot
 * complete from what it still holds dequeues at once as -EINTR (never as
 * data, never as a -ETIMEDOUT after the full timeout or an endless wait),
 * then -ENOBUFS; started again, the stream delivers whole blocks of counter
 * data.
 *
 * 100 S/s x 8-byte frames: a 4 KiB block takes 5 s, so none is complete at
 * the stop. "At once" means within one dequeue timeout (3 s): a block that
 * waits for the timeout fails the -EINTR count anyway, and a loaded CI host
 * must not fail the test on a slow second. The restart is unpaced: the
 * blocks must carry the counter from frame 0 on, continuous across blocks
 * (a lost, repeated or stale block fails), each poisoned before it goes
 * back.
 */
#include <stdint.h>
#include <time.h>

#include "capture-util.h"

#define NBLOCKS	   4
#define BLOCK_SIZE 4096

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	struct cap_adc a = {0};
	struct izc_stream *s = NULL;
	struct izc_block *b;
	int ret, aborted = 0, data = 0, other = 0;
	unsigned long long n = 0;
	double t0, t;

	tap_plan(6);
	ret = tap_load_sim_adc(NULL);
	if (!ret)
		ret = cap_adc_setup(&a, "izc-sim-adc", 0xf, 100);
	if (!ret)
		ret = izc_stream_open(a.dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE, IZC_STREAM_FILEIO,
				      &s);
	if (!ret)
		ret = izc_stream_start(s);
	if (!ret)
		ret = izc_stream_stop(s);
	if (!tap_ok(ret == 0 && izc_stream_backend(s) == IZC_BACKEND_FILEIO,
		    "fileio stream started and stopped at 100 S/s (%d)", ret))
		tap_bail("setup");

	t0 = now();
	for (int i = 0; i < NBLOCKS; i++) {
		ret = izc_stream_dequeue(s, 3000, &b);
		if (ret == -EINTR)
			aborted++;
		else if (ret == 0)
			data++;
		else if (other++ < 4)
			tap_diag("dequeue %d after stop: %d (%s)", i, ret, strerror(-ret));
	}
	t = now() - t0;
	tap_ok(aborted == NBLOCKS && !data,
	       "every queued block dequeues as -EINTR after the stop (%d of %d, %d as data)",
	       aborted, NBLOCKS, data);
	tap_ok(t < 3.0, "at once: %.2f s for %d dequeues with a 3 s timeout", t, NBLOCKS);
	tap_errno(izc_stream_dequeue(s, -1, &b), 0, ENOBUFS,
		  "then nothing is queued: -ENOBUFS, even with an endless timeout");

	/* Started again (unpaced): whole blocks of counter data. */
	ret = izc_device_attr_write_ll(a.dev, "sampling_frequency", 0);
	if (!ret)
		ret = izc_stream_start(s);
	for (int i = 0; !ret && i < 2 * NBLOCKS; i++) {
		const uint16_t *v;
		void *p;

		ret = izc_stream_dequeue(s, 5000, &b);
		if (!ret)
			ret = izc_block_cpu_begin(b, IZC_ACCESS_READ | IZC_ACCESS_WRITE, &p);
		if (ret)
			break;
		v = p;
		if (izc_block_bytes_used(b) != BLOCK_SIZE)
			ret = -EMSGSIZE;
		for (size_t f = 0; !ret && f < BLOCK_SIZE / 8; f++, n++)
			for (unsigned int c = 0; c < 4; c++)
				if (v[f * 4 + c] != (uint16_t)(n + c * 4096)) {
					tap_diag("block %d frame %zu channel %u: 0x%x, want 0x%x",
						 i, f, c, v[f * 4 + c], (uint16_t)(n + c * 4096));
					ret = -EBADMSG;
					break;
				}
		memset(p, 0xa5, BLOCK_SIZE);
		if (izc_block_cpu_end(b) && !ret)
			ret = -EIO;
		if (!ret)
			ret = izc_block_enqueue(b, 0, 0);
	}
	tap_ok(ret == 0 && n == 2 * NBLOCKS * BLOCK_SIZE / 8,
	       "restarted: %d whole blocks, the counter from frame 0 across them (%d)", 2 * NBLOCKS,
	       ret);
	ret = izc_stream_stop(s);
	tap_ok(ret == 0, "stopped again (%d)", ret);
	izc_stream_close(s);
	cap_adc_close(&a);
	return tap_done();
}
