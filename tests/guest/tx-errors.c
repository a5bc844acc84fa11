// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The TX bad-input matrix, exact errnos (IIO core and our modules):
 * read()/write() in the wrong direction, DMABUF enqueue misuse on an output
 * buffer, cyclic on input, disable while cyclic runs, a read()-only ADC
 * (new_device "4 16 0"), and the DAC's own attributes (pairing, latency,
 * settings while streaming).
 */
#include <sys/mman.h>

#include "sim-pair.h"

#define NCHAN 4
#define BLK   65536

static int new_device(const char *drv, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/platform/drivers/%s/new_device", drv);
	return tool_write_file(path, val);
}

static int buffer_fd(int devfd)
{
	int idx = 0;

	return ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &idx) ? -errno : idx;
}

int main(void)
{
	static char buf[BLK];
	struct iiodev adc, dac, adc1, adc2, dac1;
	int adcdev, dacdev, afd, dfd, d, ret, fence;
	long n;

	tap_plan(28);
	load_modules("sampling_frequency=1000000", "sampling_frequency=1000000");
	if (iio_find("izc-sim-adc0", &adc) || iio_find("izc-sim-dac0", &dac))
		tap_bail("no izc-sim-adc0 / izc-sim-dac0");
	ret = buffer_setup(&adc, "in", NCHAN, 8192, 1024);
	if (!ret)
		ret = buffer_setup(&dac, "out", NCHAN, 8192, 1024);
	if (ret)
		tap_bail("buffer setup: %s", strerror(-ret));

	/* fileio in the wrong direction (the core's answer) */
	adcdev = dev_open(&adc, O_RDWR);
	dacdev = dev_open(&dac, O_RDWR);
	n = write(adcdev, buf, 64);
	tap_errno(n, errno, EPERM, "write() on an input buffer");
	n = read(dacdev, buf, 64);
	tap_errno(n, errno, EPERM, "read() on an output buffer");
	ret = buffer_enable(&dac, 1);
	tap_success(ret, -ret, "enable the DAC (fileio)");
	n = write(dacdev, buf, 3);
	tap_errno(n, errno, EINVAL, "write() of less than one frame (8 bytes)");
	ret = buffer_enable(&dac, 0);
	if (ret)
		tap_bail("disable the DAC: %s", strerror(-ret));

	/* DMABUF misuse on the output buffer */
	dfd = buffer_fd(dacdev);
	afd = buffer_fd(adcdev);
	d = heap_alloc(BLK);
	if (dfd < 0 || afd < 0 || d < 0)
		tap_bail("buffer fds / DMABUF");
	ret = dmabuf_attach(dfd, d);
	tap_success(ret, -ret, "attach a 64 KiB DMABUF to the DAC");
	ret = dmabuf_attach(afd, d);
	tap_success(ret, -ret, "attach the same DMABUF to the ADC");
	ret = dmabuf_enqueue(dfd, d, 0, IIO_BUFFER_DMABUF_CYCLIC);
	tap_errno(ret, -ret, EINVAL, "cyclic enqueue with bytes_used 0");
	ret = dmabuf_enqueue(dfd, d, BLK + 8, 0);
	tap_errno(ret, -ret, EINVAL, "enqueue with bytes_used larger than the DMABUF");
	ret = dmabuf_enqueue(dfd, d, BLK, 1u << 7);
	tap_errno(ret, -ret, EINVAL, "enqueue with an unknown flag");
	ret = dmabuf_enqueue(afd, d, BLK, IIO_BUFFER_DMABUF_CYCLIC);
	tap_errno(ret, -ret, EINVAL, "cyclic enqueue on the input buffer");
	n = write(dfd, buf, 64);
	tap_errno(n, errno, EBUSY, "write() on the output buffer fd with a DMABUF attached");

	ret = buffer_enable(&dac, 1);
	tap_success(ret, -ret, "enable the DAC (DMABUF mode)");
	ret = dmabuf_enqueue(dfd, d, BLK, IIO_BUFFER_DMABUF_CYCLIC);
	fence = fence_export(d);
	tap_success(ret, -ret, "cyclic enqueue");
	ret = dmabuf_enqueue(dfd, d, BLK, 0);
	tap_errno(ret, -ret, EBUSY, "enqueue the block that is repeating");
	ret = attr_write(&dac, "sampling_frequency", "1000");
	tap_errno(ret, -ret, EBUSY, "sampling_frequency while streaming");
	ret = attr_write(&dac, "loopback_adc", "izc-sim-adc0");
	tap_errno(ret, -ret, EBUSY, "loopback_adc while streaming");
	usleep(20000);
	tap_ok(fence_status(fence) == 0, "cyclic fence pending while it repeats");
	ret = buffer_enable(&dac, 0);
	ret = ret ? ret : dmabuf_wait_idle(d, 5000);
	n = fence_status(fence);
	tap_ok(!ret && n == -EINTR, "disable while cyclic runs: fence status -EINTR (%ld)", n);
	close(fence);
	dmabuf_detach(dfd, d);
	dmabuf_detach(afd, d);
	close(d);
	close(dfd);
	close(afd);

	/* a read()-only ADC */
	ret = new_device("izc-sim-adc", "4 16 0");
	tap_success(ret, -ret, "new_device \"4 16 0\": an ADC without DMABUF");
	if (iio_find("izc-sim-adc1", &adc1))
		tap_bail("no izc-sim-adc1");
	{
		int dev1 = dev_open(&adc1, O_RDWR), fd1 = buffer_fd(dev1), d1 = heap_alloc(BLK);

		ret = dmabuf_attach(fd1, d1);
		tap_errno(ret, -ret, EPERM, "DMABUF attach on the read()-only ADC");
		const uint16_t *v = (const uint16_t *)buf;
		int bad = -1;

		ret = buffer_setup(&adc1, "in", NCHAN, 8192, 1024);
		if (!ret)
			ret = buffer_enable(&adc1, 1);
		tap_success(ret, -ret, "izc-sim-adc1: 4 channels enabled, buffer enabled");
		n = ret ? ret : read_full(fd1, buf, 4096);
		/* 512 frames of 4 x s16: value(n, c) = n + c * 4096 */
		for (int i = 0; n == 4096 && bad < 0 && i < 4096 / 2; i++)
			if (v[i] != (uint16_t)(i / NCHAN + (i % NCHAN) * 4096))
				bad = i;
		tap_ok(n == 4096 && bad < 0,
		       "read() on it gives the counter from frame 0, 512 frames exact (%ld, "
		       "first bad sample %d)",
		       n, bad);
		buffer_enable(&adc1, 0);
		close(d1);
		close(fd1);
		close(dev1);
	}

	/* pairing errors */
	ret = attr_write(&dac, "loopback_adc", "izc-sim-adc9");
	tap_errno(ret, -ret, ENODEV, "loopback_adc: no such ADC");
	new_device("izc-sim-adc", "8 16");
	if (iio_find("izc-sim-adc2", &adc2))
		tap_bail("no izc-sim-adc2");
	ret = attr_write(&dac, "loopback_adc", "izc-sim-adc2");
	tap_errno(ret, -ret, EINVAL, "loopback_adc: ADC with 8 channels for a 4-channel DAC");
	ret = attr_write(&dac, "loopback_latency", "65537");
	tap_errno(ret, -ret, EINVAL, "loopback_latency above 65536");
	ret = attr_write(&dac, "loopback_adc", "izc-sim-adc0");
	tap_success(ret, -ret, "pair with izc-sim-adc0");
	new_device("izc-sim-dac", "4 16");
	if (iio_find("izc-sim-dac1", &dac1))
		tap_bail("no izc-sim-dac1");
	ret = attr_write(&dac1, "loopback_adc", "izc-sim-adc0");
	tap_errno(ret, -ret, EBUSY, "a second DAC on the same ADC");
	ret = attr_write(&dac, "loopback_adc", "none");
	tap_success(ret, -ret, "unpair");

	close(adcdev);
	close(dacdev);
	return tap_done();
}
