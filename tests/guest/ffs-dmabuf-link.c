// SPDX-License-Identifier: GPL-2.0
/*
 * FunctionFS DMABUF over dummy_hcd, both ends in this guest.
 *
 * Our patched dummy_hcd (/lib/izc/dummy_hcd.ko) accepts scatter-gather
 * gadget requests, which FunctionFS needs for FUNCTIONFS_DMABUF_ATTACH. This
 * test builds a configfs gadget with one FunctionFS function (a vendor
 * interface with a bulk IN and a bulk OUT endpoint), and talks to it from
 * the host side of the same guest through usbfs:
 *
 *  - with dummy_hcd sg_supported=0 (the upstream behaviour) ATTACH is
 *    refused with EPERM and plain write() still works;
 *  - at high speed and at SuperSpeed: DMABUFs from /dev/dma_heap/system
 *    carry a counter pattern gadget -> host (bulk IN) and host -> gadget
 *    (bulk OUT) byte for byte, against scatter-gather and linear URBs;
 *    write()/read() (FunctionFS's own scatter-gather path) likewise;
 *    a 48-byte DMABUF IN TRANSFER through dummy_hcd's FIFO emulation;
 *  - the FunctionFS DMABUF errnos of Linux 6.12 (f_fs.c), exactly;
 *  - throughput of DMABUF TRANSFER and of write() over the link (diag).
 *
 * Needs the Debian modules usb-common, usbcore, configfs, udc-core,
 * libcomposite and usb_f_fs loaded (or in /lib/modules/kernel to insmod).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/sync_file.h>
#include <linux/usb/ch9.h>
#include <linux/usb/functionfs.h>
#include <linux/usbdevice_fs.h>

#include "usb-env.h"

#define GADGET_DIR "/sys/kernel/config/usb_gadget/izc_sg"
#define FFS_NAME   "izc_sg"
#define FFS_MOUNT  "/tmp/izc-ffs"
#define VENDOR_ID  0x1d6b /* Linux Foundation */
#define PRODUCT_ID 0x0104 /* Multifunction Composite Gadget */

#define XFER_BLOCK    (1024 * 1024)
#define TWICE_LEN     (64 * 1024)
#define SHORT_LEN     48
#define NUM_BLOCKS    4
#define IO_TIMEOUT_MS 20000

/* ------------------------------------------------------------------ */
/* small helpers */

/* The errno of @call (0 if it succeeded), read only after the call ran. */
#define ERRNO_OF(call) (errno = 0, (call) < 0 ? errno : 0)

/* One TAP line: the call's errno (0 for success) is exactly @expected. */
static void expect_errno(int got, int expected, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void expect_errno(int got, int expected, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vok(got == expected, fmt, ap);
	va_end(ap);
	if (got != expected)
		tap_diag("  expected %s, got %s", expected ? strerror(expected) : "success",
			 got ? strerror(got) : "success");
}

/* ------------------------------------------------------------------ */
/* the counter pattern: 32-bit words numbered from @first */

static void fill_pattern(void *buf, size_t len, uint32_t first)
{
	uint32_t *w = buf;
	size_t i;

	for (i = 0; i < len / 4; i++)
		w[i] = first + i;
}

/* Returns the byte offset of the first mismatch, or -1. */
static long check_pattern(const void *buf, size_t len, uint32_t first)
{
	const uint32_t *w = buf;
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (w[i] != first + i)
			return i * 4;
	return -1;
}

/* ------------------------------------------------------------------ */
/* the FunctionFS function: descriptors, strings, endpoints */

struct ep_pair {
	struct usb_endpoint_descriptor_no_audio in, out;
} __attribute__((packed));

struct ss_eps {
	struct usb_endpoint_descriptor_no_audio in;
	struct usb_ss_ep_comp_descriptor in_comp;
	struct usb_endpoint_descriptor_no_audio out;
	struct usb_ss_ep_comp_descriptor out_comp;
} __attribute__((packed));

static const struct {
	struct usb_functionfs_descs_head_v2 header;
	__le32 fs_count, hs_count, ss_count;
	struct usb_interface_descriptor fs_intf;
	struct ep_pair fs;
	struct usb_interface_descriptor hs_intf;
	struct ep_pair hs;
	struct usb_interface_descriptor ss_intf;
	struct ss_eps ss;
} __attribute__((packed)) descriptors = {
	.header =
		{
			.magic = FUNCTIONFS_DESCRIPTORS_MAGIC_V2,
			.flags = FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC |
				 FUNCTIONFS_HAS_SS_DESC,
			.length = sizeof(descriptors),
		},
	.fs_count = 3,
	.hs_count = 3,
	.ss_count = 5,
#define INTF                                                                                       \
	{                                                                                          \
		.bLength = USB_DT_INTERFACE_SIZE, .bDescriptorType = USB_DT_INTERFACE,             \
		.bNumEndpoints = 2, .bInterfaceClass = USB_CLASS_VENDOR_SPEC, .iInterface = 1      \
	}
#define EP(addr, mps)                                                                              \
	{                                                                                          \
		.bLength = USB_DT_ENDPOINT_SIZE, .bDescriptorType = USB_DT_ENDPOINT,               \
		.bEndpointAddress = (addr), .bmAttributes = USB_ENDPOINT_XFER_BULK,                \
		.wMaxPacketSize = (mps)                                                            \
	}
#define COMP                                                                                       \
	{                                                                                          \
		.bLength = USB_DT_SS_EP_COMP_SIZE, .bDescriptorType = USB_DT_SS_ENDPOINT_COMP,     \
		.bMaxBurst = 15                                                                    \
	}
	.fs_intf = INTF,
	.fs = {EP(1 | USB_DIR_IN, 64), EP(2 | USB_DIR_OUT, 64)},
	.hs_intf = INTF,
	.hs = {EP(1 | USB_DIR_IN, 512), EP(2 | USB_DIR_OUT, 512)},
	.ss_intf = INTF,
	.ss = {EP(1 | USB_DIR_IN, 1024), COMP, EP(2 | USB_DIR_OUT, 1024), COMP},
};

#define IFACE_STR "izc sg link"
static const struct {
	struct usb_functionfs_strings_head header;
	struct {
		__le16 code;
		char str1[sizeof(IFACE_STR)];
	} __attribute__((packed)) lang0;
} __attribute__((packed)) strings = {
	.header =
		{
			.magic = FUNCTIONFS_STRINGS_MAGIC,
			.length = sizeof(strings),
			.str_count = 1,
			.lang_count = 1,
		},
	.lang0 = {0x0409, IFACE_STR},
};

struct link {
	int ep0, ep_in, ep_out;		 /* gadget side (FunctionFS) */
	int usb;			 /* host side (usbfs) */
	unsigned char host_in, host_out; /* endpoint addresses seen by the host */
	char speed[16];
	bool mounted, bound;
};

static int mkdir_p(const char *path)
{
	return mkdir(path, 0755) && errno != EEXIST ? -errno : 0;
}

static int gadget_create(void)
{
	char val[32];
	int ret = 0;

	ret |= mkdir_p(GADGET_DIR);
	snprintf(val, sizeof(val), "0x%04x", VENDOR_ID);
	ret |= tool_write_file(GADGET_DIR "/idVendor", val);
	snprintf(val, sizeof(val), "0x%04x", PRODUCT_ID);
	ret |= tool_write_file(GADGET_DIR "/idProduct", val);
	ret |= mkdir_p(GADGET_DIR "/strings/0x409");
	ret |= tool_write_file(GADGET_DIR "/strings/0x409/product", "izc sg link test");
	ret |= mkdir_p(GADGET_DIR "/configs/c.1");
	ret |= mkdir_p(GADGET_DIR "/functions/ffs." FFS_NAME);
	if (symlink(GADGET_DIR "/functions/ffs." FFS_NAME,
		    GADGET_DIR "/configs/c.1/ffs." FFS_NAME) &&
	    errno != EEXIST)
		ret |= -errno;
	return ret ? -EIO : 0;
}

static void gadget_remove(void)
{
	unlink(GADGET_DIR "/configs/c.1/ffs." FFS_NAME);
	rmdir(GADGET_DIR "/configs/c.1");
	rmdir(GADGET_DIR "/functions/ffs." FFS_NAME);
	rmdir(GADGET_DIR "/strings/0x409");
	rmdir(GADGET_DIR);
}

/* Find the device on the host side by its ids once it is configured. */
static int host_find(struct link *l, int timeout_ms)
{
	char path[300], val[32], bus[16], dev[16];
	double end = usb_env_now() + timeout_ms / 1000.0;

	do {
		DIR *d = opendir("/sys/bus/usb/devices");
		struct dirent *de;

		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.' || strchr(de->d_name, ':'))
				continue;
#define ATTR(name, buf)                                                                            \
	(snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s/" name, de->d_name),                \
	 tool_read_file(path, buf, sizeof(buf)) < 0)
			if (ATTR("idVendor", val) || strtol(val, NULL, 16) != VENDOR_ID ||
			    ATTR("idProduct", val) || strtol(val, NULL, 16) != PRODUCT_ID ||
			    ATTR("bConfigurationValue", val) || atoi(val) != 1 ||
			    ATTR("busnum", bus) || ATTR("devnum", dev) || ATTR("speed", l->speed))
				continue;
#undef ATTR
			closedir(d);
			snprintf(path, sizeof(path), "/dev/bus/usb/%03d/%03d", atoi(bus),
				 atoi(dev));
			/* devtmpfs may create the node a moment after sysfs */
			while ((l->usb = open(path, O_RDWR | O_CLOEXEC)) < 0 && usb_env_now() < end)
				usleep(20000);
			return l->usb < 0 ? -errno : 0;
		}
		if (d)
			closedir(d);
		usleep(50000);
	} while (usb_env_now() < end);
	return -ETIMEDOUT;
}

/* The endpoint addresses the host sees, from the descriptors usbfs reads. */
static int host_endpoints(struct link *l)
{
	unsigned char buf[1024];
	ssize_t n, i;

	n = pread(l->usb, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	l->host_in = l->host_out = 0;
	for (i = USB_DT_DEVICE_SIZE; i + 1 < n && buf[i]; i += buf[i]) {
		if (buf[i + 1] != USB_DT_ENDPOINT || i + 3 >= n)
			continue;
		if ((buf[i + 3] & USB_ENDPOINT_XFERTYPE_MASK) != USB_ENDPOINT_XFER_BULK)
			continue;
		if (buf[i + 2] & USB_DIR_IN)
			l->host_in = buf[i + 2];
		else
			l->host_out = buf[i + 2];
	}
	return l->host_in && l->host_out ? 0 : -ENOENT;
}

static void link_down(struct link *l)
{
	if (l->usb >= 0)
		close(l->usb);
	if (l->bound)
		tool_write_file(GADGET_DIR "/UDC", "\n");
	if (l->ep_in >= 0)
		close(l->ep_in);
	if (l->ep_out >= 0)
		close(l->ep_out);
	if (l->ep0 >= 0)
		close(l->ep0);
	if (l->mounted)
		umount(FFS_MOUNT);
	gadget_remove();
	memset(l, 0, sizeof(*l));
	l->ep0 = l->ep_in = l->ep_out = l->usb = -1;
}

/*
 * Gadget with FunctionFS bound to dummy_udc.0, enumerated by the host,
 * interface 0 claimed through usbfs. Returns 0 or -errno with a diag.
 */
static int link_up(struct link *l)
{
	unsigned int intf = 0;
	int ret;

	memset(l, 0, sizeof(*l));
	l->ep0 = l->ep_in = l->ep_out = l->usb = -1;
	ret = gadget_create();
	if (ret) {
		tap_diag("configfs gadget: %s", strerror(-ret));
		goto err;
	}
	if (mkdir_p(FFS_MOUNT) || mount(FFS_NAME, FFS_MOUNT, "functionfs", 0, NULL)) {
		ret = -errno;
		tap_diag("mount functionfs: %s", strerror(errno));
		goto err;
	}
	l->mounted = true;
	l->ep0 = open(FFS_MOUNT "/ep0", O_RDWR | O_CLOEXEC);
	if (l->ep0 < 0 || write(l->ep0, &descriptors, sizeof(descriptors)) < 0 ||
	    write(l->ep0, &strings, sizeof(strings)) < 0) {
		ret = -errno;
		tap_diag("functionfs ep0 setup: %s", strerror(errno));
		goto err;
	}
	l->ep_in = open(FFS_MOUNT "/ep1", O_RDWR | O_CLOEXEC);
	l->ep_out = open(FFS_MOUNT "/ep2", O_RDWR | O_CLOEXEC);
	if (l->ep_in < 0 || l->ep_out < 0) {
		ret = -errno;
		tap_diag("functionfs ep1/ep2: %s", strerror(errno));
		goto err;
	}
	ret = tool_write_file(GADGET_DIR "/UDC", "dummy_udc.0");
	if (ret) {
		tap_diag("bind to dummy_udc.0: %s", strerror(-ret));
		goto err;
	}
	l->bound = true;
	ret = host_find(l, 10000);
	if (ret) {
		tap_diag("host side: device not found: %s", strerror(-ret));
		goto err;
	}
	ret = host_endpoints(l);
	if (ret) {
		tap_diag("host side: no bulk endpoints");
		goto err;
	}
	if (ioctl(l->usb, USBDEVFS_CLAIMINTERFACE, &intf)) {
		ret = -errno;
		tap_diag("claim interface: %s", strerror(errno));
		goto err;
	}
	return 0;
err:
	link_down(l);
	return ret ? ret : -EIO;
}

/* ------------------------------------------------------------------ */
/* host side: a stream of bulk URBs through usbfs, @depth in flight */

struct host_job {
	struct link *l;
	bool in; /* device to host */
	size_t total, urb_len;
	int depth;
	bool pattern; /* fill or check the counter pattern */
	int err;      /* 0, -errno, or 1 for a data mismatch */
	long bad_offset;
};

static int reap_one(int fd, struct usbdevfs_urb **urb)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};

	for (;;) {
		int ret;

		if (!ioctl(fd, USBDEVFS_REAPURBNDELAY, urb))
			return 0;
		if (errno != EAGAIN)
			return -errno;
		ret = poll(&pfd, 1, IO_TIMEOUT_MS);
		if (ret == 0)
			return -ETIMEDOUT;
		if (ret < 0)
			return -errno;
	}
}

static void *host_run(void *arg)
{
	struct host_job *j = arg;
	struct usbdevfs_urb *urbs, *done;
	size_t submitted = 0, completed = 0;
	char *bufs;
	int i, inflight = 0;

	urbs = calloc(j->depth, sizeof(*urbs));
	bufs = malloc(j->urb_len * j->depth);
	if (!urbs || !bufs) {
		j->err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < j->depth && submitted < j->total; i++) {
		struct usbdevfs_urb *u = &urbs[i];

		u->type = USBDEVFS_URB_TYPE_BULK;
		u->endpoint = j->in ? j->l->host_in : j->l->host_out;
		u->buffer = bufs + i * j->urb_len;
		u->buffer_length = j->urb_len;
		u->usercontext = (void *)submitted;
		if (!j->in && j->pattern)
			fill_pattern(u->buffer, j->urb_len, submitted / 4);
		if (ioctl(j->l->usb, USBDEVFS_SUBMITURB, u)) {
			j->err = -errno;
			goto cancel;
		}
		submitted += j->urb_len;
		inflight++;
	}
	while (completed < j->total) {
		size_t at;

		j->err = reap_one(j->l->usb, &done);
		if (j->err)
			goto cancel;
		inflight--;
		at = (size_t)done->usercontext;
		if (done->status || done->actual_length != (int)j->urb_len) {
			tap_diag("host URB at %zu: status %d, %d of %zu bytes", at, done->status,
				 done->actual_length, j->urb_len);
			j->err = done->status ? done->status : -EIO;
			goto cancel;
		}
		if (j->in && j->pattern && j->err == 0) {
			long bad = check_pattern(done->buffer, j->urb_len, at / 4);

			if (bad >= 0) {
				j->err = 1;
				j->bad_offset = at + bad;
				goto cancel;
			}
		}
		completed += j->urb_len;
		if (submitted < j->total) {
			done->usercontext = (void *)submitted;
			done->actual_length = 0;
			done->status = 0;
			if (!j->in && j->pattern)
				fill_pattern(done->buffer, j->urb_len, submitted / 4);
			if (ioctl(j->l->usb, USBDEVFS_SUBMITURB, done)) {
				j->err = -errno;
				goto cancel;
			}
			submitted += j->urb_len;
			inflight++;
		}
	}
	goto out;
cancel:
	for (i = 0; i < j->depth; i++)
		ioctl(j->l->usb, USBDEVFS_DISCARDURB, &urbs[i]);
	while (inflight > 0 && !reap_one(j->l->usb, &done))
		inflight--;
out:
	free(urbs);
	free(bufs);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* gadget side: DMABUFs from the system heap */

struct dmabuf {
	int fd;
	void *map;
	size_t size;
	int sync_fd; /* the last transfer's fence, or -1 */
};

static int dmabuf_alloc(struct dmabuf *b, size_t size)
{
	struct dma_heap_allocation_data data = {
		.len = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);

	if (heap < 0)
		return -errno;
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data)) {
		close(heap);
		return -errno;
	}
	close(heap);
	b->fd = data.fd;
	b->size = size;
	b->sync_fd = -1;
	b->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (b->map == MAP_FAILED) {
		close(b->fd);
		return -errno;
	}
	return 0;
}

static void dmabuf_free(struct dmabuf *b)
{
	if (b->sync_fd >= 0)
		close(b->sync_fd);
	munmap(b->map, b->size);
	close(b->fd);
}

static void dmabuf_cpu(struct dmabuf *b, bool start, bool write)
{
	struct dma_buf_sync s = {
		.flags = (start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END) |
			 (write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ),
	};

	ioctl(b->fd, DMA_BUF_IOCTL_SYNC, &s);
}

/*
 * Keep the fence of the transfer just queued on @b as a sync_file. The
 * reservation object forgets signalled fences (an export after completion
 * yields a stub that hides the error), so this is done right after TRANSFER;
 * a transfer that completes before it is seen as a success, which the data
 * checks still cover.
 */
static void dmabuf_track(struct dmabuf *b)
{
	struct dma_buf_export_sync_file exp = {.flags = DMA_BUF_SYNC_RW, .fd = -1};

	if (b->sync_fd >= 0)
		close(b->sync_fd);
	b->sync_fd = ioctl(b->fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp) ? -1 : exp.fd;
}

/*
 * Wait for the DMABUF's last transfer and return its fence status: 1 done
 * without error, < 0 the transfer's error, 0 still pending at timeout.
 */
static int dmabuf_wait(struct dmabuf *b)
{
	struct pollfd pfd = {.fd = b->fd, .events = POLLOUT};
	struct sync_file_info info = {0};
	int ret;

	if (b->sync_fd >= 0) {
		pfd.fd = b->sync_fd;
		pfd.events = POLLIN;
	}
	ret = poll(&pfd, 1, IO_TIMEOUT_MS);
	if (ret <= 0)
		return ret < 0 ? -errno : 0;
	if (b->sync_fd < 0)
		return 1;
	ret = ioctl(b->sync_fd, SYNC_IOC_FILE_INFO, &info) ? -errno : info.status;
	close(b->sync_fd);
	b->sync_fd = -1;
	return ret;
}

static int ffs_transfer(int ep, struct dmabuf *b, size_t len, uint32_t flags)
{
	struct usb_ffs_dmabuf_transfer_req req = {
		.fd = b->fd,
		.flags = flags,
		.length = len,
	};
	int ret = ioctl(ep, FUNCTIONFS_DMABUF_TRANSFER, &req);

	if (!ret)
		dmabuf_track(b);
	return ret;
}

struct gadget_job {
	struct link *l;
	bool in;     /* device to host */
	bool dmabuf; /* DMABUF TRANSFER, else write()/read() */
	size_t total;
	int depth; /* DMABUFs in flight */
	bool pattern;
	struct dmabuf *bufs; /* depth of them, attached to the endpoint */
	int err;
	long bad_offset;
};

static int gadget_check_block(struct gadget_job *j, struct dmabuf *b, size_t at)
{
	long bad;

	dmabuf_cpu(b, true, false);
	bad = check_pattern(b->map, XFER_BLOCK, at / 4);
	dmabuf_cpu(b, false, false);
	if (bad >= 0) {
		j->bad_offset = at + bad;
		return 1;
	}
	return 0;
}

static void *gadget_run(void *arg)
{
	struct gadget_job *j = arg;
	int ep = j->in ? j->l->ep_in : j->l->ep_out;
	size_t nblocks = j->total / XFER_BLOCK, i;
	char *buf = NULL;
	int ret;

	if (!j->dmabuf) {
		buf = malloc(XFER_BLOCK);
		for (i = 0; buf && i < nblocks; i++) {
			ssize_t n;

			if (j->in && j->pattern)
				fill_pattern(buf, XFER_BLOCK, i * XFER_BLOCK / 4);
			n = j->in ? write(ep, buf, XFER_BLOCK) : read(ep, buf, XFER_BLOCK);
			if (n != XFER_BLOCK) {
				tap_diag("gadget %s: %zd (%s)", j->in ? "write" : "read", n,
					 n < 0 ? strerror(errno) : "short");
				j->err = n < 0 ? -errno : -EIO;
				break;
			}
			if (!j->in && j->pattern &&
			    (j->bad_offset = check_pattern(buf, XFER_BLOCK, i * XFER_BLOCK / 4)) >=
				    0) {
				j->bad_offset += i * XFER_BLOCK;
				j->err = 1;
				break;
			}
		}
		if (!buf)
			j->err = -ENOMEM;
		free(buf);
		return NULL;
	}

	for (i = 0; i < nblocks + j->depth; i++) {
		struct dmabuf *b = &j->bufs[i % j->depth];

		if (i >= (size_t)j->depth) {
			/* block i - depth used this buffer: wait for it */
			ret = dmabuf_wait(b);
			if (ret != 1) {
				tap_diag("DMABUF block %zu: fence %s", i - j->depth,
					 ret == 0 ? "timed out" : strerror(-ret));
				j->err = ret ? ret : -ETIMEDOUT;
				return NULL;
			}
			if (!j->in && j->pattern &&
			    gadget_check_block(j, b, (i - j->depth) * XFER_BLOCK)) {
				j->err = 1;
				return NULL;
			}
		}
		if (i >= nblocks)
			continue;
		if (j->pattern) {
			/*
			 * OUT: poisoned, so a transfer that completes without
			 * writing cannot pass on what an earlier run left.
			 */
			dmabuf_cpu(b, true, true);
			if (j->in)
				fill_pattern(b->map, XFER_BLOCK, i * XFER_BLOCK / 4);
			else
				memset(b->map, 0xa5, XFER_BLOCK);
			dmabuf_cpu(b, false, true);
		}
		if (ffs_transfer(ep, b, XFER_BLOCK, 0)) {
			tap_diag("DMABUF TRANSFER block %zu: %s", i, strerror(errno));
			j->err = -errno;
			/* stop here, after the blocks in flight */
			nblocks = i;
		}
	}
	return NULL;
}

/*
 * Move @total bytes over the link in one direction, gadget and host at once.
 * Returns the seconds it took, or < 0 on failure (with TAP diag).
 */
static double run_stream(struct link *l, bool in, bool dmabuf, struct dmabuf *bufs, int depth,
			 size_t total, size_t urb_len, bool pattern)
{
	struct gadget_job g = {
		.l = l,
		.in = in,
		.dmabuf = dmabuf,
		.total = total,
		.depth = depth,
		.pattern = pattern,
		.bufs = bufs,
		.bad_offset = -1,
	};
	struct host_job h = {
		.l = l,
		.in = in,
		.total = total,
		.urb_len = urb_len,
		.depth = 4,
		.pattern = pattern,
		.bad_offset = -1,
	};
	pthread_t gt, ht;
	double t0 = usb_env_now(), t;

	if (pthread_create(&gt, NULL, gadget_run, &g))
		return -1;
	if (pthread_create(&ht, NULL, host_run, &h)) {
		pthread_join(gt, NULL);
		return -1;
	}
	pthread_join(ht, NULL);
	t = usb_env_now() - t0;
	if (h.err) {
		/* The gadget may wait for data that never comes: cut it off. */
		tool_write_file(GADGET_DIR "/UDC", "\n");
		l->bound = false;
	}
	pthread_join(gt, NULL);
	if (g.err == 1 || h.err == 1)
		tap_diag("pattern mismatch at byte %ld (%s side)",
			 g.err == 1 ? g.bad_offset : h.bad_offset, g.err == 1 ? "gadget" : "host");
	else if (g.err || h.err)
		tap_diag("stream failed: gadget %d (%s), host %d (%s)", g.err, strerror(-g.err),
			 h.err, strerror(-h.err));
	return g.err || h.err ? -1 : t;
}

/* ------------------------------------------------------------------ */

static bool attach_all(int ep, struct dmabuf *bufs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ioctl(ep, FUNCTIONFS_DMABUF_ATTACH, &bufs[i].fd))
			return false;
	return true;
}

/*
 * Sync files of finished transfers go first: their fences use a lock that
 * f_fs frees with the attachment (see errno_matrix()).
 */
static void detach_all(int ep, struct dmabuf *bufs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (bufs[i].sync_fd >= 0)
			close(bufs[i].sync_fd);
		bufs[i].sync_fd = -1;
		ioctl(ep, FUNCTIONFS_DMABUF_DETACH, &bufs[i].fd);
	}
}

/* Upstream behaviour: no scatter-gather, so no DMABUF; write() works. */
static void phase_no_sg(struct dmabuf *bufs)
{
	struct link l;
	int loaded, ret;

	loaded = usb_env_load("dummy_hcd", "sg_supported=0");
	tap_ok(loaded == 0, "sg_supported=0: dummy_hcd loads (%s)", strerror(-loaded));
	ret = loaded ? loaded : link_up(&l);
	if (ret) {
		/* Once the module is loaded the link is ours to make: not a skip. */
		tap_diag("sg_supported=0: no link (%s)", strerror(-ret));
		tap_ok(false, "sg_supported=0: ATTACH refused with EPERM: not run, no link");
		tap_ok(false, "sg_supported=0: write() bulk IN pattern exact: not run, no link");
		goto out;
	}
	expect_errno(ERRNO_OF(ioctl(l.ep_in, FUNCTIONFS_DMABUF_ATTACH, &bufs[0].fd)), EPERM,
		     "sg_supported=0: ATTACH refused with EPERM");
	tap_ok(run_stream(&l, true, false, NULL, 0, 4 * XFER_BLOCK, 256 * 1024, true) >= 0,
	       "sg_supported=0: write() bulk IN 4 MiB pattern exact");
	link_down(&l);
out:
	if (!loaded)
		tap_ok(usb_env_unload("dummy_hcd") == 0, "sg_supported=0: dummy_hcd unloads");
	else
		tap_ok(false, "sg_supported=0: dummy_hcd unloads: not loaded");
}

/* The DMABUF bad-input matrix, errnos as Linux 6.12 f_fs.c returns them. */
static void errno_matrix(struct link *l, struct dmabuf *bufs)
{
	struct dmabuf *b = &bufs[0], *other = &bufs[1];
	unsigned int config;
	int nb, ret;

	expect_errno(ERRNO_OF(ioctl(l->ep0, FUNCTIONFS_DMABUF_ATTACH, &b->fd)), ENOTTY,
		     "ATTACH on ep0: ENOTTY");
	expect_errno(ERRNO_OF(ioctl(l->ep_in, FUNCTIONFS_DMABUF_ATTACH, &l->ep0)), EINVAL,
		     "ATTACH of a fd that is not a DMABUF: EINVAL");
	expect_errno(ERRNO_OF(ioctl(l->ep_in, FUNCTIONFS_DMABUF_ATTACH, &b->fd)), 0,
		     "ATTACH on bulk IN succeeds");
	expect_errno(ERRNO_OF(ffs_transfer(l->ep_in, b, b->size + 1, 0)), EINVAL,
		     "TRANSFER length > DMABUF size: EINVAL");
	expect_errno(ERRNO_OF(ffs_transfer(l->ep_in, b, 0, 0)), EINVAL,
		     "TRANSFER length 0: EINVAL");
	expect_errno(ERRNO_OF(ffs_transfer(l->ep_in, b, b->size, 1)), EINVAL,
		     "TRANSFER unknown flags: EINVAL");
	expect_errno(ERRNO_OF(ffs_transfer(l->ep_in, other, other->size, 0)), EPERM,
		     "TRANSFER of a DMABUF not attached: EPERM");
	expect_errno(ERRNO_OF(ioctl(l->ep_in, FUNCTIONFS_DMABUF_DETACH, &other->fd)), EPERM,
		     "DETACH of a DMABUF not attached: EPERM");

	/*
	 * Detach while in flight: the host reads nothing, so it stays queued
	 * and DETACH cancels it. The fence outlives the attachment; upstream
	 * 6.12 f_fs gives it the attachment's spinlock, so reading its status
	 * after DETACH touched freed memory (an RCU stall here); our
	 * 0002-*.patch gives each fence its own lock. The status is the
	 * request's: dummy_hcd completes a dequeued request with ECONNRESET.
	 */
	expect_errno(ERRNO_OF(ffs_transfer(l->ep_in, b, b->size, 0)), 0,
		     "TRANSFER queued with no host reading");
	expect_errno(ERRNO_OF(ioctl(l->ep_in, FUNCTIONFS_DMABUF_DETACH, &b->fd)), 0,
		     "DETACH with the transfer in flight succeeds");
	/* Let the cleanup work free the attachment before the fence is read. */
	usleep(100000);
	ret = dmabuf_wait(b);
	tap_ok(ret == -ECONNRESET,
	       "the cancelled transfer's fence, read after DETACH: ECONNRESET (%d)", ret);
	expect_errno(ERRNO_OF(ioctl(l->ep_in, FUNCTIONFS_DMABUF_DETACH, &b->fd)), EPERM,
		     "second DETACH: EPERM");

	/*
	 * The same DMABUF transferred twice before the host reads: f_fs allows
	 * it on an IN endpoint (it only waits for writers), and the second
	 * fence replaces the first in the reservation object. Upstream 6.12
	 * then freed the first fence while its request was in flight (our
	 * 0004-*.patch keeps the transfer's reference): both must arrive.
	 */
	ret = ERRNO_OF(ioctl(l->ep_in, FUNCTIONFS_DMABUF_ATTACH, &b->fd));
	if (!ret) {
		dmabuf_cpu(b, true, true);
		fill_pattern(b->map, TWICE_LEN, 0);
		dmabuf_cpu(b, false, true);
		ret = ERRNO_OF(ffs_transfer(l->ep_in, b, TWICE_LEN, 0));
	}
	if (!ret)
		ret = ERRNO_OF(ffs_transfer(l->ep_in, b, TWICE_LEN, 0));
	expect_errno(ret, 0, "the same DMABUF TRANSFERred twice while the host reads nothing");
	{
		static char got[TWICE_LEN];
		int ok = 0;

		for (int i = 0; i < 2 && !ret; i++) {
			struct usbdevfs_bulktransfer bt = {
				.ep = l->host_in,
				.len = TWICE_LEN,
				.timeout = 5000,
				.data = got,
			};
			int n = ioctl(l->usb, USBDEVFS_BULK, &bt);

			ok += n == TWICE_LEN && check_pattern(got, TWICE_LEN, 0) < 0;
		}
		ret = dmabuf_wait(b);
		tap_ok(ok == 2 && ret == 1,
		       "the host reads the pattern twice, the last fence signals 1 (%d, %d)", ok,
		       ret);
	}

	/*
	 * A TRANSFER on bulk IN no longer than dummy_hcd's FIFO (64 bytes)
	 * with nothing queued: its FIFO emulation copies it at queue time,
	 * from the DMA addresses of the mapping, and completes it at once.
	 */
	dmabuf_cpu(b, true, true);
	fill_pattern(b->map, SHORT_LEN, 7);
	dmabuf_cpu(b, false, true);
	ret = ERRNO_OF(ffs_transfer(l->ep_in, b, SHORT_LEN, 0));
	{
		static char got[64];
		struct usbdevfs_bulktransfer bt = {
			.ep = l->host_in,
			.len = sizeof(got),
			.timeout = 5000,
			.data = got,
		};
		int n = ret ? -1 : ioctl(l->usb, USBDEVFS_BULK, &bt);

		ret = ret ? ret : dmabuf_wait(b);
		tap_ok(n == SHORT_LEN && check_pattern(got, SHORT_LEN, 7) < 0 && ret == 1,
		       "a %d-byte TRANSFER on bulk IN (dummy_hcd's FIFO): the host reads the "
		       "pattern, the fence signals 1 (%d, %d)",
		       SHORT_LEN, n, ret);
	}
	ioctl(l->ep_in, FUNCTIONFS_DMABUF_DETACH, &b->fd);

	/* Endpoint not enabled: the host unconfigures the device. */
	ioctl(l->usb, USBDEVFS_RELEASEINTERFACE, &(unsigned int){0});
	config = 0;
	expect_errno(ERRNO_OF(ioctl(l->usb, USBDEVFS_SETCONFIGURATION, &config)), 0,
		     "host sets configuration 0");
	usleep(200000);
	nb = open(FFS_MOUNT "/ep1", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ioctl(nb, FUNCTIONFS_DMABUF_ATTACH, &b->fd);
	expect_errno(ERRNO_OF(ffs_transfer(nb, b, b->size, 0)), EAGAIN,
		     "TRANSFER on a disabled endpoint, O_NONBLOCK: EAGAIN");
	close(nb);
	config = 1;
	ret = ERRNO_OF(ioctl(l->usb, USBDEVFS_SETCONFIGURATION, &config));
	if (!ret)
		ret = ERRNO_OF(ioctl(l->usb, USBDEVFS_CLAIMINTERFACE, &(unsigned int){0}));
	expect_errno(ret, 0, "host sets configuration 1 again, interface claimed");
	usleep(200000);
}

/*
 * Throughput over the link, 64 MiB per run with no pattern work (the host
 * keeps 4 URBs of 256 KiB queued): DMABUF TRANSFER with 4 and 1 buffers of
 * 1 MiB in flight, then write() or read() of 1 MiB.
 */
static void bench_link(struct link *l, struct dmabuf *bufs, const char *sp)
{
	static const int depths[] = {NUM_BLOCKS, 1};
	int dir, i;
	double t;

	for (dir = 0; dir < 2; dir++) {
		bool in = dir == 0;
		int ep = in ? l->ep_in : l->ep_out;

		attach_all(ep, bufs, NUM_BLOCKS);
		for (i = 0; i < 2; i++) {
			t = run_stream(l, in, true, bufs, depths[i], 64 * XFER_BLOCK, 256 * 1024,
				       false);
			if (t > 0)
				tap_diag("bench %s bulk %s: DMABUF TRANSFER, %d x 1 MiB in flight: "
					 "%.1f MiB/s",
					 sp, in ? "IN" : "OUT", depths[i], 64 / t);
		}
		detach_all(ep, bufs, NUM_BLOCKS);
		t = run_stream(l, in, false, NULL, 0, 64 * XFER_BLOCK, 256 * 1024, false);
		if (t > 0)
			tap_diag("bench %s bulk %s: %s 1 MiB: %.1f MiB/s", sp, in ? "IN" : "OUT",
				 in ? "write()" : "read()", 64 / t);
	}
}

static void phase_sg(struct dmabuf *bufs, bool super, bool matrix, bool bench)
{
	const char *sp = super ? "SuperSpeed" : "high speed";
	const char *want = super ? "5000" : "480";
	struct link l;
	int ret;

	ret = usb_env_load("dummy_hcd", super ? "is_super_speed=1" : "is_super_speed=0");
	tap_ok(ret == 0, "%s: dummy_hcd loads (%s)", sp, strerror(-ret));
	ret = ret ? ret : link_up(&l);
	tap_ok(ret == 0 && !strcmp(l.speed, want), "%s: link up, host sees speed %s (%s)", sp,
	       ret ? "-" : l.speed, want);
	if (ret) {
		tap_bail("%s: no link", sp);
	}
	if (matrix)
		errno_matrix(&l, bufs);

	tap_ok(attach_all(l.ep_in, bufs, NUM_BLOCKS), "%s: ATTACH %d DMABUFs on bulk IN", sp,
	       NUM_BLOCKS);
	tap_ok(run_stream(&l, true, true, bufs, NUM_BLOCKS, 16 * XFER_BLOCK, 256 * 1024, true) >= 0,
	       "%s: DMABUF bulk IN 16 MiB, sg URBs: pattern exact", sp);
	tap_ok(run_stream(&l, true, true, bufs, NUM_BLOCKS, 4 * XFER_BLOCK, 16 * 1024, true) >= 0,
	       "%s: DMABUF bulk IN 4 MiB, linear URBs: pattern exact", sp);
	detach_all(l.ep_in, bufs, NUM_BLOCKS);

	tap_ok(attach_all(l.ep_out, bufs, NUM_BLOCKS), "%s: ATTACH %d DMABUFs on bulk OUT", sp,
	       NUM_BLOCKS);
	tap_ok(run_stream(&l, false, true, bufs, NUM_BLOCKS, 16 * XFER_BLOCK, 256 * 1024, true) >=
		       0,
	       "%s: DMABUF bulk OUT 16 MiB, sg URBs: pattern exact", sp);
	tap_ok(run_stream(&l, false, true, bufs, NUM_BLOCKS, 4 * XFER_BLOCK, 16 * 1024, true) >= 0,
	       "%s: DMABUF bulk OUT 4 MiB, linear URBs: pattern exact", sp);
	detach_all(l.ep_out, bufs, NUM_BLOCKS);

	tap_ok(run_stream(&l, true, false, NULL, 0, 8 * XFER_BLOCK, 256 * 1024, true) >= 0,
	       "%s: write() bulk IN 8 MiB (FunctionFS sg path): pattern exact", sp);
	tap_ok(run_stream(&l, false, false, NULL, 0, 8 * XFER_BLOCK, 256 * 1024, true) >= 0,
	       "%s: read() bulk OUT 8 MiB (FunctionFS sg path): pattern exact", sp);

	if (bench)
		bench_link(&l, bufs, sp);

	link_down(&l);
	tap_ok(usb_env_unload("dummy_hcd") == 0, "%s: dummy_hcd unloads", sp);
}

int main(int argc, char **argv)
{
	struct dmabuf bufs[NUM_BLOCKS];
	bool bench = argc > 1 && !strcmp(argv[1], "--bench");
	size_t i;

	tap_plan(4 + 2 * 11 + 18);

	usb_env_gadget_stack();
	if (usb_env_module_loaded("dummy_hcd"))
		tap_bail("a dummy_hcd is already loaded");
	for (i = 0; i < NUM_BLOCKS; i++) {
		int ret = dmabuf_alloc(&bufs[i], XFER_BLOCK);

		if (ret)
			tap_bail("DMABUF from /dev/dma_heap/system: %s", strerror(-ret));
	}

	phase_no_sg(bufs);
	phase_sg(bufs, false, true, bench);
	phase_sg(bufs, true, false, bench);

	for (i = 0; i < NUM_BLOCKS; i++)
		dmabuf_free(&bufs[i]);
	return tap_done();
}
