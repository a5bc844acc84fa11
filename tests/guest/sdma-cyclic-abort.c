// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sdma-cyclic-abort: disabling a DAC while a cyclic DMABUF block repeats
 * signals the block's fence with -EINTR, every time (docs/sim-dac.md). A
 * 64-byte cyclic block on an unpaced DAC repeats as fast as the engine
 * runs, its callback called after every pass; the buffer is disabled 0 to
 * 0.6 ms after the enqueue, 300 times, so the termination often lands
 * between a pass and its callback. The soft DMA used to complete every
 * cookie at terminate, so that callback read the block's cookie as complete
 * and the block buffer took the pass for the block's replacement: fence 0.
 */
#include "sim-pair.h"

#define BLK  4096
#define USED 64
#define RUNS 300

int main(void)
{
	int devfd, bfd, a, idx = 0, i, ok0 = 0, eintr = 0, other = 0, ret;
	struct iiodev dac;

	tap_plan(3);
	alarm(250);
	load_modules("", "sampling_frequency=0");
	if (iio_find("izc-sim-dac0", &dac))
		tap_bail("no izc-sim-dac0");
	if (buffer_setup(&dac, "out", 4, 4 * (BLK / 8), BLK / 8))
		tap_bail("DAC buffer setup");
	devfd = dev_open(&dac, O_RDWR);
	if (devfd < 0 || ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &idx))
		tap_bail("DAC buffer fd: %s", strerror(errno));
	bfd = idx;
	a = heap_alloc(BLK);
	ret = a < 0 ? a : dmabuf_attach(bfd, a);
	tap_success(ret, -ret, "a 4 KiB DMABUF attached to the unpaced DAC's buffer");
	if (ret)
		tap_bail("no DMABUF");
	for (i = 0; i < RUNS; i++) {
		struct timespec d = {0, (i % 7) * 100000L};
		int f, st;

		ret = buffer_enable(&dac, 1);
		if (!ret)
			ret = dmabuf_enqueue(bfd, a, USED, IIO_BUFFER_DMABUF_CYCLIC);
		if (ret)
			tap_bail("run %d: enable/enqueue: %s", i, strerror(-ret));
		f = fence_export(a);
		nanosleep(&d, NULL);
		buffer_enable(&dac, 0);
		if (dmabuf_wait_idle(a, 5000))
			tap_bail("run %d: the fence did not signal within 5 s", i);
		st = fence_status(f);
		close(f);
		if (st == -EINTR)
			eintr++;
		else if (st == 1)
			ok0++;
		else
			other++;
	}
	tap_diag("%d disables of a repeating 64-byte cyclic block: -EINTR %d, success %d, other %d",
		 RUNS, eintr, ok0, other);
	tap_ok(eintr == RUNS, "every disable signalled the cyclic block's fence -EINTR (%d of %d)",
	       eintr, RUNS);
	ret = dmabuf_detach(bfd, a);
	tap_success(ret, -ret, "detach after the last disable");
	close(a);
	close(bfd);
	close(devfd);
	return tap_done();
}
