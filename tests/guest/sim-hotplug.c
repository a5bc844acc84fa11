// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sim-hotplug: converters removed at runtime through the drivers'
 * delete_device, as a hot-unplug would remove them, while they stream:
 *  - unknown names: ENODEV; an ADC a DAC is paired with: EBUSY;
 *  - an ADC deleted while DMABUF transfers are queued and running (at
 *    1 kS/s a 64 KiB block takes 8.2 s, so however slow the host, neither
 *    completes before the delete; at 100 kS/s the first took 82 ms, which
 *    a stalled TCG guest can exceed): its fences signal -EINTR, the open buffer fd answers ENODEV,
 * the IIO device leaves sysfs; new_device brings izc-sim-adc.0 back, which streams the counter from
 * sample 0;
 *  - a DAC deleted while it repeats a cyclic block into its paired ADC: its
 *    fence signals -EINTR, the ADC is unpaired (loopback_source none) and
 *    can be deleted in turn.
 * The runner then checks the kernel log and that every module unloads.
 */
#include "sim-pair.h"

#define ADC_DRV "/sys/bus/platform/drivers/izc-sim-adc"
#define DAC_DRV "/sys/bus/platform/drivers/izc-sim-dac"
#define NCHAN	4
#define BLK	(64 << 10)

static int buffer_fd(const struct iiodev *d, int *devfd)
{
	int idx = 0;

	*devfd = dev_open(d, O_RDWR);
	if (*devfd < 0)
		return -errno;
	if (ioctl(*devfd, IIO_BUFFER_GET_FD_IOCTL, &idx))
		return -errno;
	return idx;
}

/* The counter of docs/sim-adc.md for 4 x s16: value(n, c) = n + c * 4096. */
static int counter_check(const uint16_t *s, size_t frames)
{
	for (size_t n = 0; n < frames; n++)
		for (int c = 0; c < NCHAN; c++)
			if (s[n * NCHAN + c] != (uint16_t)(n + (size_t)c * 4096))
				return -1;
	return 0;
}

int main(void)
{
	static uint16_t samples[BLK / 2];
	struct iiodev adc, dac;
	int devfd, bfd, dacdev, dacbfd, a, b, c, sa, sb, sc, ret;
	char src[64], path[400];

	tap_plan(16);
	load_modules("sampling_frequency=1000", "sampling_frequency=100000 loopback=1");
	if (iio_find("izc-sim-adc0", &adc) || iio_find("izc-sim-dac0", &dac))
		tap_bail("no izc-sim-adc0 / izc-sim-dac0");

	ret = tool_write_file(ADC_DRV "/delete_device", "izc-sim-adc.7");
	tap_errno(ret, -ret, ENODEV, "delete_device of an ADC that does not exist: ENODEV");
	ret = tool_write_file(DAC_DRV "/delete_device", "izc-sim-adc.0");
	tap_errno(ret, -ret, ENODEV, "the DAC driver's delete_device of an ADC: ENODEV");
	ret = tool_write_file(ADC_DRV "/delete_device", "izc-sim-adc.0");
	tap_errno(ret, -ret, EBUSY, "delete_device of the ADC izc-sim-dac0 is paired with: EBUSY");
	ret = attr_write(&dac, "loopback_adc", "none");
	tap_success(ret, -ret, "unpair izc-sim-dac0");

	/* An ADC deleted while two DMABUF transfers are queued at 1 kS/s. */
	ret = buffer_setup(&adc, "in", NCHAN, 4 * (BLK / 8), BLK / 8);
	bfd = ret ? ret : buffer_fd(&adc, &devfd);
	a = heap_alloc(BLK);
	b = heap_alloc(BLK);
	ret = bfd < 0 ? bfd : (a < 0 ? a : (b < 0 ? b : 0));
	ret = ret ? ret : dmabuf_attach(bfd, a);
	ret = ret ? ret : dmabuf_attach(bfd, b);
	ret = ret ? ret : dmabuf_enqueue(bfd, a, BLK, 0);
	sa = fence_export(a);
	ret = ret ? ret : dmabuf_enqueue(bfd, b, BLK, 0);
	sb = fence_export(b);
	ret = ret ? ret : buffer_enable(&adc, 1);
	if (!tap_success(ret, -ret, "izc-sim-adc0 streaming into two 64 KiB DMABUFs"))
		tap_bail("no stream to delete under");
	ret = tool_write_file(ADC_DRV "/delete_device", "izc-sim-adc.0\n");
	tap_success(ret, -ret, "delete_device izc-sim-adc.0 while it streams");
	ret = dmabuf_wait_idle(a, 5000) ? -ETIMEDOUT : fence_status(sa);
	c = dmabuf_wait_idle(b, 5000) ? -ETIMEDOUT : fence_status(sb);
	tap_ok(ret == -EINTR && c == -EINTR, "both transfers end with -EINTR (%d, %d)", ret, c);
	ret = dmabuf_enqueue(bfd, a, BLK, 0);
	tap_errno(ret, -ret, ENODEV, "enqueue on the deleted ADC's open buffer fd: ENODEV");
	tap_ok(access(adc.dir, F_OK) && errno == ENOENT, "%s left sysfs", adc.dir);
	close(sa);
	close(sb);
	close(bfd);
	close(devfd);

	ret = tool_write_file(ADC_DRV "/new_device", "\n");
	ret = ret ? ret : iio_find("izc-sim-adc0", &adc);
	ret = ret ? ret : buffer_setup(&adc, "in", NCHAN, 4 * (BLK / 8), BLK / 8);
	ret = ret ? ret : attr_write(&adc, "sampling_frequency", "0");
	tap_success(ret, -ret, "new_device brings izc-sim-adc0 back");
	devfd = ret ? -1 : dev_open(&adc, O_RDONLY);
	ret = devfd < 0 ? -ENODEV : buffer_enable(&adc, 1);
	ret = ret ? ret : (int)read_full(devfd, samples, BLK);
	tap_ok(ret == BLK && counter_check(samples, BLK / 8) == 0,
	       "its first 64 KiB read() are the counter from sample 0 (%d)", ret);
	buffer_enable(&adc, 0);
	if (devfd >= 0)
		close(devfd);

	/* A DAC deleted while it repeats a cyclic block into its ADC. */
	ret = attr_write(&dac, "loopback_adc", "izc-sim-adc0");
	ret = ret ? ret : buffer_setup(&dac, "out", NCHAN, 4 * (BLK / 8), BLK / 8);
	dacbfd = ret ? ret : buffer_fd(&dac, &dacdev);
	c = heap_alloc(BLK);
	ret = dacbfd < 0 ? dacbfd : (c < 0 ? c : 0);
	ret = ret ? ret : dmabuf_attach(dacbfd, c);
	ret = ret ? ret : dmabuf_enqueue(dacbfd, c, BLK, IIO_BUFFER_DMABUF_CYCLIC);
	sc = fence_export(c);
	ret = ret ? ret : buffer_enable(&adc, 1);
	ret = ret ? ret : buffer_enable(&dac, 1);
	if (!tap_success(ret, -ret, "izc-sim-dac0 paired again, repeating a cyclic block"))
		tap_bail("no DAC stream to delete under");
	usleep(200000);
	ret = tool_write_file(DAC_DRV "/delete_device", "izc-sim-dac.0");
	tap_success(ret, -ret, "delete_device izc-sim-dac.0 while it streams");
	ret = dmabuf_wait_idle(c, 5000) ? -ETIMEDOUT : fence_status(sc);
	tap_ok(ret == -EINTR, "the cyclic transfer ends with -EINTR (%d)", ret);
	buffer_enable(&adc, 0);
	snprintf(path, sizeof(path), "%s/loopback_source", adc.dir);
	ret = tool_read_file(path, src, sizeof(src));
	tap_ok(ret >= 0 && !strcmp(src, "none"), "izc-sim-adc0 is unpaired: loopback_source \"%s\"",
	       src);
	ret = tool_write_file(ADC_DRV "/delete_device", "izc-sim-adc.0");
	tap_success(ret, -ret, "and can be deleted now");
	close(sc);
	close(dacbfd);
	close(dacdev);
	close(a);
	close(b);
	close(c);
	return tap_done();
}
