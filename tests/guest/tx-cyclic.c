// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Cyclic TX DMABUF through the loopback (both converters unpaced, latency
 * 0, so the ADC captures exactly what the DAC emits, nothing else):
 *  - a cyclic block A is captured back 256 times, exactly, and its fence
 *    stays pending while it repeats;
 *  - enqueueing a plain block B replaces A at the end of a repetition: the
 *    capture is whole copies of A, then B once, then nothing (the unpaced
 *    DAC waits for blocks, no stale repetition); both fences signal 0;
 *  - a cyclic A replaced by a cyclic B: whole copies of A, then B repeats;
 *    disabling the DAC then signals A's fence 0 and B's -EINTR.
 */
#include <sys/mman.h>

#include "sim-pair.h"

#define NCHAN	4
#define FRAME	(NCHAN * 2)
#define BLK	(64 << 10)
#define REPEATS 256

static uint32_t rd[BLK / 4];

/* 1 A, 2 B, 0 anything else */
static int classify(const uint32_t *w)
{
	if (pattern_check(w, BLK / 4, 0) < 0)
		return 1;
	if (pattern_check(w, BLK / 4, 1u << 30) < 0)
		return 2;
	return 0;
}

static int fill(int dbuf, uint64_t first)
{
	uint32_t *m = mmap(NULL, BLK, PROT_READ | PROT_WRITE, MAP_SHARED, dbuf, 0);

	if (m == MAP_FAILED)
		return -errno;
	pattern_fill(m, BLK / 4, first);
	munmap(m, BLK);
	return 0;
}

int main(void)
{
	struct iiodev adc, dac;
	int devfd, bfd, adcfd, a, b, fa, fb, idx = 0, i, ret, cls, copies;
	long n;

	tap_plan(12);
	load_modules("sampling_frequency=0", "sampling_frequency=0 loopback=1");
	if (iio_find("izc-sim-adc0", &adc) || iio_find("izc-sim-dac0", &dac))
		tap_bail("no izc-sim-adc0 / izc-sim-dac0");

	/* ADC blocks of exactly one DAC block: reads line up with copies. */
	buffer_setup(&adc, "in", NCHAN, 4 * (BLK / FRAME), BLK / FRAME);
	buffer_setup(&dac, "out", NCHAN, 4 * (BLK / FRAME), BLK / FRAME);
	devfd = dev_open(&dac, O_RDWR);
	if (devfd < 0 || ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &idx))
		tap_bail("DAC buffer fd: %s", strerror(errno));
	bfd = idx;
	a = heap_alloc(BLK);
	b = heap_alloc(BLK);
	if (a < 0 || b < 0 || fill(a, 0) || fill(b, 1u << 30))
		tap_bail("DMABUFs");
	ret = dmabuf_attach(bfd, a);
	if (!ret)
		ret = dmabuf_attach(bfd, b);
	tap_success(ret, -ret, "attach two 64 KiB DMABUFs to the DAC");

	adcfd = dev_open(&adc, O_RDONLY);
	buffer_enable(&adc, 1);
	buffer_enable(&dac, 1);

	/* A cyclic: REPEATS exact copies */
	ret = dmabuf_enqueue(bfd, a, BLK, IIO_BUFFER_DMABUF_CYCLIC);
	fa = fence_export(a);
	for (i = 0, cls = 1; !ret && i < REPEATS && cls == 1; i++) {
		n = read_full(adcfd, rd, BLK);
		cls = n == BLK ? classify(rd) : -1;
	}
	tap_ok(!ret && i == REPEATS && cls == 1, "cyclic A captured back %d times exactly (%d)",
	       REPEATS, i);
	tap_ok(fence_status(fa) == 0, "A's fence is pending while it repeats");

	/* replace by a plain B */
	ret = dmabuf_enqueue(bfd, b, BLK, 0);
	fb = fence_export(b);
	copies = 0;
	for (i = 0; !ret && i < 4096; i++) {
		n = read_full(adcfd, rd, BLK);
		cls = n == BLK ? classify(rd) : -1;
		if (cls != 1)
			break;
		copies++;
	}
	tap_ok(!ret && cls == 2, "plain B replaces A after %d more whole copies of A", copies);
	ret = dmabuf_wait_idle(a, 5000) || dmabuf_wait_idle(b, 5000);
	tap_ok(!ret && fence_status(fa) == 1 && fence_status(fb) == 1,
	       "A's and B's fences signalled without error");
	close(fa);
	close(fb);
	usleep(200000);
	fcntl(adcfd, F_SETFL, O_NONBLOCK);
	n = read(adcfd, rd, BLK);
	tap_errno(n, errno, EAGAIN, "after B nothing more: the unpaced DAC waits, nothing repeats");
	fcntl(adcfd, F_SETFL, 0);

	/* cyclic A replaced by cyclic B, then disable */
	ret = dmabuf_enqueue(bfd, a, BLK, IIO_BUFFER_DMABUF_CYCLIC);
	fa = fence_export(a);
	for (i = 0, cls = 1; !ret && i < 16 && cls == 1; i++) {
		n = read_full(adcfd, rd, BLK);
		cls = n == BLK ? classify(rd) : -1;
	}
	tap_ok(!ret && cls == 1, "cyclic A again: 16 exact copies");
	ret = dmabuf_enqueue(bfd, b, BLK, IIO_BUFFER_DMABUF_CYCLIC);
	fb = fence_export(b);
	copies = 0;
	for (i = 0; !ret && i < 4096; i++) {
		n = read_full(adcfd, rd, BLK);
		cls = n == BLK ? classify(rd) : -1;
		if (cls != 1)
			break;
		copies++;
	}
	for (i = 0; cls == 2 && i < 32; i++) {
		n = read_full(adcfd, rd, BLK);
		cls = n == BLK ? classify(rd) : -1;
	}
	tap_ok(!ret && cls == 2 && i == 32,
	       "cyclic B replaces cyclic A after %d whole copies, then repeats (32 copies)",
	       copies);
	tap_ok(dmabuf_wait_idle(a, 5000) == 0 && fence_status(fa) == 1,
	       "replaced cyclic A: fence signalled without error");
	tap_ok(fence_status(fb) == 0, "cyclic B's fence pending while it repeats");
	ret = buffer_enable(&dac, 0);
	tap_success(ret, -ret, "disable the DAC while B repeats");
	ret = dmabuf_wait_idle(b, 5000);
	n = fence_status(fb);
	tap_ok(!ret && n == -EINTR, "cyclic B stopped by disable: fence status -EINTR (%ld)", n);
	close(fa);
	close(fb);

	buffer_enable(&adc, 0);
	dmabuf_detach(bfd, a);
	dmabuf_detach(bfd, b);
	close(a);
	close(b);
	close(bfd);
	close(devfd);
	close(adcfd);
	return tap_done();
}
