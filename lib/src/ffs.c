// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * FunctionFS DMABUF helpers: hand a block to a USB data endpoint without
 * the CPU touching it. Completion is waited for with izc_block_wait().
 * Upstream refuses the attach with EPERM when the UDC cannot do
 * scatter-gather (gadget->sg_supported unset).
 */
#include <errno.h>
#include <sys/ioctl.h>

#include <linux/usb/functionfs.h>

#include "internal.h"

static int block_fd(const struct izc_block *b)
{
	if (!b)
		return -EINVAL;
	return izc_block_dmabuf_fd(b);
}

static int ffs_ioctl(int ep_fd, unsigned long req, void *arg)
{
	int ret;

	if (ep_fd < 0)
		return -EBADF;
	ret = izc_ioctl(ep_fd, req, arg);
	return ret < 0 ? ret : 0;
}

IZC_EXPORT int izc_ffs_attach(int ep_fd, const struct izc_block *block)
{
	int fd = block_fd(block);

	return fd < 0 ? fd : ffs_ioctl(ep_fd, FUNCTIONFS_DMABUF_ATTACH, &fd);
}

IZC_EXPORT int izc_ffs_detach(int ep_fd, const struct izc_block *block)
{
	int fd = block_fd(block);

	return fd < 0 ? fd : ffs_ioctl(ep_fd, FUNCTIONFS_DMABUF_DETACH, &fd);
}

IZC_EXPORT int izc_ffs_transfer(int ep_fd, struct izc_block *block, size_t length)
{
	struct usb_ffs_dmabuf_transfer_req req = {.flags = 0};
	int fd = block_fd(block);

	if (fd < 0)
		return fd;
	if (!length)
		length = block->bytes_used ? block->bytes_used : block->size;
	if (length > block->size)
		return -EINVAL;
	req.fd = fd;
	req.length = length;
	/*
	 * Not izc_ioctl(): on a blocking ep_fd, f_fs waits for the host to
	 * enable the endpoint, as long as it takes, and a signal ending that
	 * wait must reach the caller (-EINTR), or nothing could end it.
	 */
	if (ep_fd < 0)
		return -EBADF;
	if (ioctl(ep_fd, FUNCTIONFS_DMABUF_TRANSFER, &req) < 0)
		return -errno;
	izc_dmabuf_arm_fence(block);
	return 0;
}
