/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host side of izc-usb-bridge over usbfs (no libusb): find the device by
 * VID:PID in sysfs, open its /dev/bus/usb node, find the bridge interface's
 * bulk endpoints, claim it, and do the control requests. Shared by
 * izc-usb-host and the guest tests. Errors are negative errno.
 */
#ifndef IZC_USB_HOST_H
#define IZC_USB_HOST_H

#include <dirent.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>

#include <linux/usbdevice_fs.h>

#include "izc-usb-bridge.h"

struct izc_usb_host {
	int fd;			     /* /dev/bus/usb/BBB/DDD */
	unsigned int intf;	     /* interface number */
	unsigned char ep_in, ep_out; /* endpoint addresses */
	char speed[16];		     /* sysfs "speed": 12, 480, 5000 ... */
	char path[64];
};

static inline double izc_usb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The first configured device with vid:pid, its node opened read-write.
 * Waits up to timeout_ms for it to appear. 0, -ETIMEDOUT, or -errno of open.
 */
static inline int izc_usb_host_find(struct izc_usb_host *h, unsigned int vid, unsigned int pid,
				    int timeout_ms)
{
	char path[320], val[32], bus[16], dev[16];
	double end = izc_usb_now() + timeout_ms / 1000.0;

	h->fd = -1;
	do {
		DIR *d = opendir("/sys/bus/usb/devices");
		const struct dirent *de;

		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.' || strchr(de->d_name, ':'))
				continue;
#define IZC_ATTR(name, buf)                                                                        \
	(snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s/" name, de->d_name),                \
	 tool_read_file(path, buf, sizeof(buf)) <= 0)
			if (IZC_ATTR("idVendor", val) || strtoul(val, NULL, 16) != vid ||
			    IZC_ATTR("idProduct", val) || strtoul(val, NULL, 16) != pid ||
			    IZC_ATTR("bConfigurationValue", val) || atoi(val) < 1 ||
			    IZC_ATTR("busnum", bus) || IZC_ATTR("devnum", dev) ||
			    IZC_ATTR("speed", h->speed))
				continue;
#undef IZC_ATTR
			closedir(d);
			snprintf(h->path, sizeof(h->path), "/dev/bus/usb/%03d/%03d", atoi(bus),
				 atoi(dev));
			/* devtmpfs may create the node a moment after sysfs */
			while ((h->fd = open(h->path, O_RDWR | O_CLOEXEC)) < 0 &&
			       izc_usb_now() < end)
				usleep(20000);
			return h->fd < 0 ? -errno : 0;
		}
		if (d)
			closedir(d);
		usleep(50000);
	} while (izc_usb_now() < end);
	return -ETIMEDOUT;
}

/*
 * Find the bridge interface (vendor class, our subclass) and its bulk
 * endpoints in the active configuration's descriptors, and claim it.
 */
static inline int izc_usb_host_claim(struct izc_usb_host *h)
{
	unsigned char buf[4096];
	bool ours = false, found = false;
	ssize_t n, i;

	n = pread(h->fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	h->ep_in = h->ep_out = 0;
	for (i = USB_DT_DEVICE_SIZE; i + 1 < n && buf[i] >= 2; i += buf[i]) {
		if (buf[i + 1] == USB_DT_INTERFACE && i + 7 < n) {
			ours = buf[i + 5] == USB_CLASS_VENDOR_SPEC &&
			       buf[i + 6] == IZC_USB_SUBCLASS;
			if (ours && !found) {
				h->intf = buf[i + 2];
				found = true;
			}
		} else if (ours && buf[i + 1] == USB_DT_ENDPOINT && i + 3 < n &&
			   (buf[i + 3] & USB_ENDPOINT_XFERTYPE_MASK) == USB_ENDPOINT_XFER_BULK) {
			if (buf[i + 2] & USB_DIR_IN)
				h->ep_in = h->ep_in ? h->ep_in : buf[i + 2];
			else
				h->ep_out = h->ep_out ? h->ep_out : buf[i + 2];
		}
	}
	if (!found || !h->ep_in || !h->ep_out)
		return -ENOENT;
	return ioctl(h->fd, USBDEVFS_CLAIMINTERFACE, &h->intf) ? -errno : 0;
}

static inline void izc_usb_host_close(struct izc_usb_host *h)
{
	if (h->fd < 0)
		return;
	ioctl(h->fd, USBDEVFS_RELEASEINTERFACE, &h->intf);
	close(h->fd);
	h->fd = -1;
}

/* One vendor request to the interface; returns bytes moved or -errno (EPIPE: stall). */
static inline int izc_usb_host_control(const struct izc_usb_host *h, bool in, uint8_t req,
				       void *data, uint16_t len)
{
	struct usbdevfs_ctrltransfer c = {
		.bRequestType = in ? IZC_USB_REQTYPE_IN : IZC_USB_REQTYPE_OUT,
		.bRequest = req,
		.wValue = 0,
		.wIndex = (uint16_t)h->intf,
		.wLength = len,
		.timeout = 5000,
		.data = data,
	};
	int ret = ioctl(h->fd, USBDEVFS_CONTROL, &c);

	return ret < 0 ? -errno : ret;
}

static inline int izc_usb_host_status(const struct izc_usb_host *h, struct izc_usb_status *st)
{
	int ret = izc_usb_host_control(h, true, IZC_USB_REQ_STATUS, st, sizeof(*st));

	if (ret < 0)
		return ret;
	return ret == (int)sizeof(*st) ? 0 : -EPROTO;
}

#endif /* IZC_USB_HOST_H */
