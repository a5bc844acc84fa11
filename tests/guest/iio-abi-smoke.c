// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The smallest test that exercises the real kernel path: our three modules
 * load on top of Debian's industrialio, the simulated ADC appears in sysfs
 * with a DMA buffer, and the upstream IIO core answers its buffer ioctls with
 * the errnos documented for 6.12.
 */
#include <linux/iio/buffer.h>
#include <sys/ioctl.h>

#include "izc.h"
#include "tap.h"

static const char *const modules[] = {"izc_soft_dma", "izc_block_buffer", "izc_sim_adc"};

int main(void)
{
	struct izc_context *ctx;
	struct izc_device *dev;
	struct izc_buffer *buf;
	char path[64], text[64];
	int devfd, bfd, bfd2, nullfd, idx, ret;
	unsigned int i;

	tap_plan(15);

	for (i = 0; i < 3; i++) {
		ret = tap_load_module(modules[i], NULL);
		tap_success(ret, -ret, "load %s", modules[i]);
	}

	ret = izc_context_open(NULL, NULL, &ctx);
	if (ret < 0)
		tap_bail("cannot open the IIO context: %s", strerror(-ret));
	ret = izc_context_find_device(ctx, "izc-sim-adc", &dev);
	if (!tap_success(ret, -ret, "the simulated ADC is in /sys/bus/iio/devices"))
		tap_bail("no device to test");

	ret = izc_device_attr_read(dev, "name", text, sizeof(text));
	tap_ok(ret > 0 && !strcmp(text, "izc-sim-adc"), "sysfs name reads \"izc-sim-adc\"");

	ret = izc_device_get_buffer(dev, 0, &buf);
	if (!tap_success(ret, -ret, "the device has buffer0"))
		tap_bail("no buffer to test");
	ret = izc_buffer_attr_read(buf, "direction", text, sizeof(text));
	tap_ok(ret > 0 && !strcmp(text, "in"), "buffer0/direction reads \"in\"");
	tap_ok(izc_buffer_channel_count(buf) == 4,
	       "buffer0 has the 4 scan elements of the default ADC (%u)",
	       izc_buffer_channel_count(buf));

	snprintf(path, sizeof(path), "/dev/%s", izc_device_id(dev));
	devfd = open(path, O_RDWR | O_CLOEXEC);
	if (!tap_success(devfd, errno, "open %s", path))
		tap_bail("no device node");

	idx = 7;
	ret = ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &idx);
	tap_errno(ret, errno, ENODEV,
		  "IIO_BUFFER_GET_FD_IOCTL on a buffer index that does not exist");

	bfd = 0;
	ret = ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &bfd);
	if (!tap_success(ret, errno, "IIO_BUFFER_GET_FD_IOCTL on buffer 0"))
		tap_bail("no buffer fd");
	bfd2 = 0;
	ret = ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &bfd2);
	tap_errno(ret, errno, EBUSY, "a second IIO_BUFFER_GET_FD_IOCTL on the same buffer");

	ret = ioctl(bfd, _IO('i', 0x9f), 0);
	tap_errno(ret, errno, EINVAL, "an unknown ioctl on the buffer fd");

	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ret = ioctl(bfd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, &nullfd);
	tap_errno(ret, errno, EINVAL, "DMABUF_ATTACH of a file that is not a DMABUF");
	close(nullfd);
	ret = ioctl(bfd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, &nullfd);
	tap_errno(ret, errno, EBADF, "DMABUF_ATTACH of a closed fd");

	close(bfd);
	close(devfd);
	izc_context_close(ctx);
	return tap_done();
}
