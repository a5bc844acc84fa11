/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * izc-usb-bridge: the USB side of the IIO <-> USB bridge, shared by the
 * gadget daemon (izc-usb-bridge), the host client (izc-usb-host) and the
 * guest tests. docs/usb-bridge.md describes the protocol in prose.
 *
 * The device: one vendor-specific interface (class 0xff, subclass 0x49,
 * protocol 0x01) with a bulk IN endpoint (capture: IIO -> host) and a bulk
 * OUT endpoint (transmit: host -> IIO output buffer), descriptors for full,
 * high and SuperSpeed. Default ids 1d6b:0105 (Linux Foundation, "FunctionFS
 * Gadget"): for tests and development only; a product needs its own ids
 * (--vid/--pid).
 *
 * Control: vendor requests to the interface (bmRequestType 0x41 host-to-
 * device, 0xc1 device-to-host; wIndex = interface number 0, wValue 0):
 *   IZC_USB_REQ_CONFIGURE  OUT, data struct izc_usb_config
 *   IZC_USB_REQ_START      OUT, no data; stalls if it cannot start
 *   IZC_USB_REQ_STOP       OUT, no data
 *   IZC_USB_REQ_STATUS     IN,  data struct izc_usb_status
 * Little-endian, packed. A CONFIGURE is accepted at the USB level and
 * checked at once: STATUS then says CONFIGURED or ERROR with the errno.
 *
 * Data: capture sends whole blocks on bulk IN (block_size is a multiple of
 * 1024, so no short packet inside the stream) and ends every run that was
 * not cut off by a disconnect with a zero-length packet: the host reads
 * until a short transfer. Transmit takes whole blocks on bulk OUT; a run
 * with total_blocks set ends after that many, else at STOP (blocks the host
 * had not filled by then are dropped).
 *
 * This header also carries the FunctionFS descriptors and small configfs
 * and FunctionFS helpers (static inline, errors as negative errno).
 */
#ifndef IZC_USB_BRIDGE_H
#define IZC_USB_BRIDGE_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/usb/ch9.h>
#include <linux/usb/functionfs.h>

#include "sysfs-file.h"

#define IZC_USB_VID	    0x1d6b /* Linux Foundation: test and development only */
#define IZC_USB_PID	    0x0105 /* "FunctionFS Gadget" */
#define IZC_USB_SUBCLASS    0x49
#define IZC_USB_PROTOCOL    0x01
#define IZC_USB_PROTO_VER   1
#define IZC_USB_BLOCK_ALIGN 1024u /* block sizes: a multiple of every wMaxPacketSize */
#define IZC_USB_MAX_BLOCK   (64u << 20)
#define IZC_USB_MAX_NBLOCKS 64u
#define IZC_USB_DEVICE_LEN  32
#define IZC_USB_REQTYPE_OUT (USB_DIR_OUT | USB_TYPE_VENDOR | USB_RECIP_INTERFACE)
#define IZC_USB_REQTYPE_IN  (USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_INTERFACE)

enum izc_usb_request {
	IZC_USB_REQ_CONFIGURE = 1,
	IZC_USB_REQ_START = 2,
	IZC_USB_REQ_STOP = 3,
	IZC_USB_REQ_STATUS = 4,
};

enum izc_usb_dir {
	IZC_USB_DIR_CAPTURE = 0,  /* IIO input buffer -> bulk IN */
	IZC_USB_DIR_TRANSMIT = 1, /* bulk OUT -> IIO output buffer */
};

enum izc_usb_mode {
	IZC_USB_MODE_AUTO = 0,	 /* DMABUF, falling back to the copy bridge */
	IZC_USB_MODE_COPY = 1,	 /* read()+write() bridge (benchmarks) */
	IZC_USB_MODE_DMABUF = 2, /* DMABUF or fail */
};

#define IZC_USB_CFG_SET_FREQUENCY (1u << 0) /* write sampling_frequency first */

struct izc_usb_config {
	uint8_t direction; /* enum izc_usb_dir */
	uint8_t mode;	   /* enum izc_usb_mode */
	uint16_t flags;	   /* IZC_USB_CFG_* */
	uint32_t block_size;
	uint32_t nblocks; /* blocks of the stream, 2..64 */
	uint32_t reserved;
	uint64_t channel_mask; /* scan indices; 0: all channels */
	uint64_t total_blocks; /* blocks in this run; 0: until STOP */
	uint64_t sampling_frequency;
	char device[IZC_USB_DEVICE_LEN]; /* name, label or iio:deviceN; "": first fitting */
} __attribute__((packed));

enum izc_usb_state {
	IZC_USB_STATE_IDLE = 0,	      /* no configuration */
	IZC_USB_STATE_CONFIGURED = 1, /* ready to START */
	IZC_USB_STATE_RUNNING = 2,
	IZC_USB_STATE_STOPPING = 3, /* finishing the transfers in flight */
	IZC_USB_STATE_DONE = 4,	    /* the last run ended normally; START again */
	IZC_USB_STATE_ERROR = 5,    /* the last CONFIGURE or run failed: last_error */
};

enum izc_usb_backend {
	IZC_USB_BACKEND_NONE = 0,
	IZC_USB_BACKEND_DMABUF = 1, /* zero-copy: FUNCTIONFS_DMABUF_TRANSFER */
	IZC_USB_BACKEND_COPY = 2,   /* read()/write() through the CPU */
};

struct izc_usb_status {
	uint16_t version;	 /* IZC_USB_PROTO_VER */
	uint8_t state;		 /* enum izc_usb_state */
	uint8_t backend;	 /* enum izc_usb_backend of the last/current run */
	int32_t last_error;	 /* negative errno of the last failure, 0 */
	int32_t fallback_reason; /* why the copy bridge runs (negative errno), 0 */
	uint32_t block_size;
	uint32_t nblocks;
	uint32_t frame_size;
	uint8_t storage_bits; /* of every enabled channel; 0 if they differ */
	uint8_t direction;
	uint16_t reserved;
	uint64_t channel_mask; /* enabled scan indices */
	uint64_t blocks;       /* blocks moved in this run */
	uint64_t bytes;
	uint64_t errors;      /* aborted IIO blocks in this run */
	uint64_t cpu_user_us; /* daemon CPU time since START */
	uint64_t cpu_sys_us;
	uint64_t elapsed_us; /* since START, frozen at the end of the run */
} __attribute__((packed));

/* ------------------------------------------------------------------ */
/* FunctionFS descriptors                                               */
/* ------------------------------------------------------------------ */

struct izc_usb_ep_desc {
	struct usb_endpoint_descriptor_no_audio in, out;
} __attribute__((packed));

struct izc_usb_ss_desc {
	struct usb_endpoint_descriptor_no_audio in;
	struct usb_ss_ep_comp_descriptor in_comp;
	struct usb_endpoint_descriptor_no_audio out;
	struct usb_ss_ep_comp_descriptor out_comp;
} __attribute__((packed));

struct izc_usb_descs {
	struct usb_functionfs_descs_head_v2 header;
	__le32 fs_count, hs_count, ss_count;
	struct usb_interface_descriptor fs_intf;
	struct izc_usb_ep_desc fs;
	struct usb_interface_descriptor hs_intf;
	struct izc_usb_ep_desc hs;
	struct usb_interface_descriptor ss_intf;
	struct izc_usb_ss_desc ss;
} __attribute__((packed));

#define IZC_USB_IFACE_STR "izc-usb-bridge"
struct izc_usb_strings {
	struct usb_functionfs_strings_head header;
	struct {
		__le16 code;
		char str1[sizeof(IZC_USB_IFACE_STR)];
	} __attribute__((packed)) lang0;
} __attribute__((packed));

/* Little-endian hosts only (as the rest of the project's userspace). */
static inline void izc_usb_fill_descs(struct izc_usb_descs *d, struct izc_usb_strings *s)
{
	static const struct usb_interface_descriptor intf = {
		.bLength = USB_DT_INTERFACE_SIZE,
		.bDescriptorType = USB_DT_INTERFACE,
		.bNumEndpoints = 2,
		.bInterfaceClass = USB_CLASS_VENDOR_SPEC,
		.bInterfaceSubClass = IZC_USB_SUBCLASS,
		.bInterfaceProtocol = IZC_USB_PROTOCOL,
		.iInterface = 1,
	};
	static const struct usb_endpoint_descriptor_no_audio ep = {
		.bLength = USB_DT_ENDPOINT_SIZE,
		.bDescriptorType = USB_DT_ENDPOINT,
		.bmAttributes = USB_ENDPOINT_XFER_BULK,
	};
	static const struct usb_ss_ep_comp_descriptor comp = {
		.bLength = USB_DT_SS_EP_COMP_SIZE,
		.bDescriptorType = USB_DT_SS_ENDPOINT_COMP,
		.bMaxBurst = 15,
	};

	memset(d, 0, sizeof(*d));
	d->header.magic = FUNCTIONFS_DESCRIPTORS_MAGIC_V2;
	d->header.flags = FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC | FUNCTIONFS_HAS_SS_DESC;
	d->header.length = sizeof(*d);
	d->fs_count = 3;
	d->hs_count = 3;
	d->ss_count = 5;
	d->fs_intf = d->hs_intf = d->ss_intf = intf;
	d->fs.in = d->fs.out = d->hs.in = d->hs.out = d->ss.in = d->ss.out = ep;
	d->fs.in.bEndpointAddress = d->hs.in.bEndpointAddress = d->ss.in.bEndpointAddress =
		1 | USB_DIR_IN;
	d->fs.out.bEndpointAddress = d->hs.out.bEndpointAddress = d->ss.out.bEndpointAddress =
		2 | USB_DIR_OUT;
	d->fs.in.wMaxPacketSize = d->fs.out.wMaxPacketSize = 64;
	d->hs.in.wMaxPacketSize = d->hs.out.wMaxPacketSize = 512;
	d->ss.in.wMaxPacketSize = d->ss.out.wMaxPacketSize = 1024;
	d->ss.in_comp = d->ss.out_comp = comp;

	memset(s, 0, sizeof(*s));
	s->header.magic = FUNCTIONFS_STRINGS_MAGIC;
	s->header.length = sizeof(*s);
	s->header.str_count = 1;
	s->header.lang_count = 1;
	s->lang0.code = 0x0409;
	memcpy(s->lang0.str1, IZC_USB_IFACE_STR, sizeof(IZC_USB_IFACE_STR));
}

/* ------------------------------------------------------------------ */
/* configfs and sysfs files (values: tool_read/write_file, sysfs-file.h) */
/* ------------------------------------------------------------------ */

static inline int izc_usb_mkdir(const char *path)
{
	return mkdir(path, 0755) && errno != EEXIST ? -errno : 0;
}

/*
 * A configfs gadget: GADGET/{idVendor,idProduct,strings,configs/c.1} and
 * functions/ffs.INSTANCE linked into c.1. The FunctionFS instance is then
 * mounted with "mount -t functionfs INSTANCE DIR". Returns 0 or -errno
 * (the first failure; what was made stays for izc_usb_gadget_remove()).
 */
static inline int izc_usb_gadget_create(const char *gadget, const char *instance, unsigned int vid,
					unsigned int pid, const char *product)
{
	char path[512], val[32];
	int ret;

#define IZC_GPATH(rel) (snprintf(path, sizeof(path), "%s/%s", gadget, rel), path)
	ret = izc_usb_mkdir(gadget);
	snprintf(val, sizeof(val), "0x%04x", vid);
	if (!ret)
		ret = tool_write_file(IZC_GPATH("idVendor"), val);
	snprintf(val, sizeof(val), "0x%04x", pid);
	if (!ret)
		ret = tool_write_file(IZC_GPATH("idProduct"), val);
	if (!ret)
		ret = izc_usb_mkdir(IZC_GPATH("strings/0x409"));
	if (!ret)
		ret = tool_write_file(IZC_GPATH("strings/0x409/manufacturer"), "iio-zerocopy");
	if (!ret)
		ret = tool_write_file(IZC_GPATH("strings/0x409/product"), product);
	if (!ret)
		ret = izc_usb_mkdir(IZC_GPATH("configs/c.1"));
	if (!ret) {
		snprintf(path, sizeof(path), "%s/functions/ffs.%s", gadget, instance);
		ret = izc_usb_mkdir(path);
	}
	if (!ret) {
		char link[512];

		snprintf(link, sizeof(link), "%s/configs/c.1/ffs.%s", gadget, instance);
		if (symlink(path, link) && errno != EEXIST)
			ret = -errno;
	}
#undef IZC_GPATH
	return ret;
}

/* Undo izc_usb_gadget_create() (unbind first); missing parts are fine. */
static inline void izc_usb_gadget_remove(const char *gadget, const char *instance)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/configs/c.1/ffs.%s", gadget, instance);
	unlink(path);
	snprintf(path, sizeof(path), "%s/configs/c.1", gadget);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/functions/ffs.%s", gadget, instance);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/strings/0x409", gadget);
	rmdir(path);
	rmdir(gadget);
}

/* Bind the gadget to a UDC (udc "": unbind). 0 or -errno. */
static inline int izc_usb_gadget_bind(const char *gadget, const char *udc)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/UDC", gadget);
	return tool_write_file(path, *udc ? udc : "\n");
}

/*
 * Write our descriptors and strings to a FunctionFS ep0 that was just
 * opened; the data endpoints ep1 (IN) and ep2 (OUT) appear after this.
 */
static inline int izc_usb_ffs_setup(int ep0)
{
	struct izc_usb_descs d;
	struct izc_usb_strings s;

	izc_usb_fill_descs(&d, &s);
	if (write(ep0, &d, sizeof(d)) < 0 || write(ep0, &s, sizeof(s)) < 0)
		return -errno;
	return 0;
}

#endif /* IZC_USB_BRIDGE_H */
