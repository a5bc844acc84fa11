// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * izc-info: IIO devices, their buffers and channels, and which data path
 * (DMABUF, fileio) each buffer supports. The DMABUF probe is a real one:
 * IIO_BUFFER_GET_FD, then ATTACH and DETACH of a one-page DMABUF from the
 * system heap (or udmabuf), with the kernel's errno explained when refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/iio/buffer.h>
#include <linux/udmabuf.h>

#include "common.h"

static const char *const prog = "izc-info";

static void usage(FILE *f)
{
	fprintf(f, "Usage: izc-info [-d DEVICE] [--no-probe] [--udmabuf]\n"
		   "List IIO devices (id, name, label), their buffers (direction, length,\n"
		   "watermark) and channels (id, scan index, scan type), and which data path\n"
		   "each buffer supports: DMABUF (probed: attach + detach of a small DMABUF)\n"
		   "and fileio (read()/write()).\n"
		   "\n"
		   "  -d, --device NAME   only this device (name, label or iio:deviceN)\n"
		   "      --no-probe      do not open the buffers (no DMABUF/fileio probe)\n"
		   "      --udmabuf       probe with a udmabuf (memfd) instead of the system heap\n"
		   "  -h, --help          this text\n"
		   "\n"
		   "Exit status: 0 ok, 1 error, 2 usage error.\n");
}

/* A one-page DMABUF: >= 0 fd, or -errno with *what naming the step that failed. */
static int small_dmabuf(bool udmabuf, const char **what)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t size = page > 0 ? (size_t)page : 4096;
	int fd, ret;

	if (!udmabuf) {
		struct dma_heap_allocation_data req = {.len = size, .fd_flags = O_RDWR | O_CLOEXEC};

		*what = "/dev/dma_heap/system";
		fd = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		ret = ioctl(fd, DMA_HEAP_IOCTL_ALLOC, &req);
		ret = ret < 0 ? -errno : (int)req.fd;
		close(fd);
		return ret;
	}
	struct udmabuf_create req = {.flags = UDMABUF_FLAGS_CLOEXEC, .size = size};
	int memfd;

	*what = "/dev/udmabuf";
	fd = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memfd = memfd_create("izc-info", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0 || ftruncate(memfd, (off_t)size) < 0 ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		ret = -errno;
		goto out;
	}
	req.memfd = (__u32)memfd;
	ret = ioctl(fd, UDMABUF_CREATE, &req);
	ret = ret < 0 ? -errno : ret;
out:
	if (memfd >= 0)
		close(memfd);
	close(fd);
	return ret;
}

static const char *attach_errno_meaning(int err)
{
	switch (err) {
	case EPERM:
		return "the buffer has no DMABUF support (e.g. a kfifo buffer)";
	case ENOTTY:
		return "this kernel has no IIO DMABUF ioctls (Linux 6.11+ needed)";
	case EINVAL:
		return "no IIO DMABUF ioctls on this kernel, or (6.11+) the DMABUF could not "
		       "be attached to the device";
	case EBUSY:
		return "the buffer is busy (enabled for fileio, or in use)";
	case ENODEV:
		return "no device behind the buffer";
	case ENOMEM:
		return "out of memory";
	default:
		return "refused by the driver";
	}
}

/* Prints the data-path lines of one buffer. */
static void probe_buffer(const struct izc_device *dev, unsigned int index, bool udmabuf)
{
	char node[64];
	const char *what = "";
	int dev_fd, buf_fd = (int)index, dmabuf, ret;

	snprintf(node, sizeof(node), "/dev/%s", izc_device_id(dev));
	dev_fd = open(node, O_RDWR | O_CLOEXEC);
	if (dev_fd < 0) {
		ret = errno;
		printf("    data paths: cannot open %s: %s%s\n", node, strerror(ret),
		       ret == EBUSY    ? " (in use by another program)"
		       : ret == EACCES ? " (run as root)"
				       : "");
		return;
	}
	if (ioctl(dev_fd, IIO_BUFFER_GET_FD_IOCTL, &buf_fd) < 0) {
		ret = errno;
		if ((ret == ENOTTY || ret == EINVAL) && index == 0)
			printf("    data paths: fileio yes (on %s), DMABUF no (%s: kernel before "
			       "5.11 has no buffer fds)\n",
			       node, strerrorname_np(ret));
		else
			printf("    data paths: cannot get the buffer fd: %s (%s)%s\n",
			       strerrorname_np(ret), strerror(ret),
			       ret == EBUSY ? ", the buffer is open in another program" : "");
		close(dev_fd);
		return;
	}
	close(dev_fd); /* exclusive: do not keep others out longer than needed */
	/* Every IIO buffer fd serves read()/write(); only DMABUF needs the probe. */
	dmabuf = small_dmabuf(udmabuf, &what);
	if (dmabuf < 0) {
		printf("    data paths: fileio yes, DMABUF not probed (%s: %s)\n", what,
		       strerror(-dmabuf));
	} else if (ioctl(buf_fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, &dmabuf) < 0) {
		ret = errno;
		printf("    data paths: fileio yes, DMABUF no (ATTACH: %s, %s)\n",
		       strerrorname_np(ret), attach_errno_meaning(ret));
	} else {
		ret = ioctl(buf_fd, IIO_BUFFER_DMABUF_DETACH_IOCTL, &dmabuf) < 0 ? errno : 0;
		printf("    data paths: fileio yes, DMABUF yes (%s)%s%s\n",
		       udmabuf ? "udmabuf" : "dma_heap/system", ret ? ", DETACH failed: " : "",
		       ret ? strerror(ret) : "");
	}
	if (dmabuf >= 0)
		close(dmabuf);
	close(buf_fd);
}

static void print_attr(const struct izc_buffer *buf, const char *attr)
{
	char val[64];

	if (izc_buffer_attr_read(buf, attr, val, sizeof(val)) >= 0)
		printf(", %s %s", attr, val);
}

static void print_buffer(const struct izc_device *dev, unsigned int index, bool probe, bool udmabuf)
{
	struct izc_buffer *buf;
	size_t frame;

	if (izc_device_get_buffer(dev, index, &buf))
		return;
	printf("  buffer%u: %s", index,
	       izc_buffer_direction(buf) == IZC_DIR_IN ? "input" : "output");
	print_attr(buf, "length");
	print_attr(buf, "watermark");
	print_attr(buf, "enable");
	if (!izc_buffer_frame_size(buf, &frame))
		printf(", frame %zu bytes", frame);
	printf("\n");
	if (probe)
		probe_buffer(dev, index, udmabuf);
	printf("    channels (%u):\n", izc_buffer_channel_count(buf));
	for (unsigned int i = 0; i < izc_buffer_channel_count(buf); i++) {
		struct izc_channel *ch;
		char type[48];
		int en;

		if (izc_buffer_get_channel(buf, i, &ch))
			continue;
		/* Discovery parsed the type: only a longer form than ours fails. */
		if (izc_scan_type_format(izc_channel_scan_type(ch), type, sizeof(type)) < 0)
			snprintf(type, sizeof(type), "(type too long)");
		en = izc_channel_enabled(ch);
		printf("      %-20s index %-3u %-16s %s%s\n", izc_channel_id(ch),
		       izc_channel_scan_index(ch), type,
		       en > 0	 ? "enabled"
		       : en == 0 ? "disabled"
				 : "enable state unreadable: ",
		       en < 0 ? strerror(-en) : "");
	}
}

static void print_device(const struct izc_device *dev, bool probe, bool udmabuf)
{
	const char *label = izc_device_label(dev);
	char val[128];

	printf("%s: name %s, label %s\n", izc_device_id(dev),
	       *izc_device_name(dev) ? izc_device_name(dev) : "(none)", label ? label : "(none)");
	if (izc_device_attr_read(dev, "sampling_frequency", val, sizeof(val)) >= 0)
		printf("  sampling_frequency %s\n", val);
	if (izc_device_attr_read(dev, "dma_mode", val, sizeof(val)) >= 0)
		printf("  dma_mode %s\n", val);
	if (!izc_device_buffer_count(dev))
		printf("  no buffers\n");
	for (unsigned int i = 0; i < izc_device_buffer_count(dev); i++)
		print_buffer(dev, i, probe, udmabuf);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"device", required_argument, NULL, 'd'},
		{"no-probe", no_argument, NULL, 'P'},
		{"udmabuf", no_argument, NULL, OPT_UDMABUF},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *device = NULL;
	bool probe = true, udmabuf = false;
	struct izc_context *ctx;
	struct izc_device *dev;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			device = optarg;
			break;
		case 'P':
			probe = false;
			break;
		case OPT_UDMABUF:
			udmabuf = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, argv[optind]);
		return EXIT_USAGE;
	}
	ret = izc_context_open(NULL, NULL, &ctx);
	if (ret) {
		fprintf(stderr,
			"%s: cannot read /sys/bus/iio/devices: %s; is sysfs mounted and the "
			"industrialio module loaded?\n",
			prog, strerror(-ret));
		return EXIT_ERROR;
	}
	if (device) {
		ret = izc_context_find_device(ctx, device, &dev);
		if (ret) {
			fprintf(stderr,
				"%s: device '%s' not found; run izc-info without -d to list "
				"devices\n",
				prog, device);
			izc_context_close(ctx);
			return EXIT_ERROR;
		}
		print_device(dev, probe, udmabuf);
	} else if (!izc_context_device_count(ctx)) {
		printf("no IIO devices (load a driver, e.g. izc_sim_adc)\n");
	}
	for (unsigned int i = 0; !device && i < izc_context_device_count(ctx); i++) {
		if (!izc_context_get_device(ctx, i, &dev))
			print_device(dev, probe, udmabuf);
	}
	izc_context_close(ctx);
	return EXIT_OK;
}
