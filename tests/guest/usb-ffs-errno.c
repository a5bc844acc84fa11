// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * FunctionFS DMABUF bad inputs, exact errnos of Linux 6.12 f_fs.c, beyond
 * those ffs-dmabuf-link already checks (ATTACH on ep0 -> ENOTTY, ATTACH of
 * a non-DMABUF -> EINVAL, TRANSFER length > size or 0 -> EINVAL, unknown
 * flags -> EINVAL, TRANSFER/DETACH of an unattached DMABUF -> EPERM, DETACH
 * with a transfer in flight -> 0, second DETACH -> EPERM, TRANSFER on a
 * disabled endpoint with O_NONBLOCK -> EAGAIN):
 *
 *  - ATTACH before the gadget is bound to a UDC: EPERM (no gadget);
 *  - ATTACH of a closed fd, TRANSFER of fd -1: EBADF;
 *  - the same DMABUF attached twice to one endpoint: both succeed (f_fs
 *    keeps two attachments; the IIO core says EBUSY); two DETACHes succeed,
 *    a third is EPERM;
 *  - TRANSFER on ep2 of a DMABUF attached to ep1 only: EPERM;
 *  - blocking TRANSFER while the endpoint is disabled (host configuration
 *    0): f_fs waits for the endpoint; a signal ends the wait with EINTR,
 *    also through libizc's izc_ffs_transfer() (-EINTR, not retried);
 *  - TRANSFER (O_NONBLOCK) of an IIO block the ADC is still filling (its
 *    write fence pending): EBUSY;
 *  - attachments belong to the endpoint, not to the open file: closing
 *    any fd of ep1 drops every DMABUF attached to ep1 (TRANSFER -> EPERM);
 *  - closing the endpoint with a transfer in flight cancels it: the DMABUF
 *    goes idle; a new attach + transfer on a reopened endpoint reaches the
 *    host intact.
 *  - TRANSFER and DETACH after the gadget was unbound from its UDC: ENODEV.
 *    Debian's 6.12 f_fs dereferences the NULL gadget there and oopses; the
 *    guest runs our fixed usb_f_fs (kernel/usb-f-fs).
 * Fence status is never read after a cancel (f_fs 6.12 frees the fence's
 * lock with the attachment).
 */
#include <poll.h>
#include <sys/mman.h>
#include <linux/dma-heap.h>

#include "capture-util.h"
#include "izc-usb-host.h"
#include "usb-env.h"

#define GADGET "/sys/kernel/config/usb_gadget/izc_errno"
#define NAME   "izc_errno"
#define MNT    "/tmp/izc-errno-ffs"
#define SZ     (64u << 10)

#define ERRNO_OF(call) (errno = 0, (call) < 0 ? errno : 0)

static void expect(int got, int want, const char *what)
{
	tap_ok(got == want, "%s: %s", what, want ? strerror(want) : "succeeds");
	if (got != want)
		tap_diag("  got %s", got ? strerror(got) : "success");
}

static int heap_buf(size_t len)
{
	struct dma_heap_allocation_data a = {.len = len, .fd_flags = O_RDWR | O_CLOEXEC};
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC), ret;

	if (heap < 0)
		return -errno;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a) ? -errno : (int)a.fd;
	close(heap);
	return ret;
}

static int xfer(int ep, int fd, size_t len)
{
	struct usb_ffs_dmabuf_transfer_req r = {.fd = fd, .flags = 0, .length = len};

	return ioctl(ep, FUNCTIONFS_DMABUF_TRANSFER, &r);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int open_ep(int n, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), MNT "/ep%d", n);
	return open(path, O_RDWR | O_CLOEXEC | flags);
}

/*
 * izc_ffs_transfer() on the same disabled endpoint: a signal must end its
 * wait with -EINTR too, or nothing ends it until a host configures the
 * device (libizc retried EINTR: izc-usb-bridge could not stop a run whose
 * TRANSFER met a disconnected host). Run in a child, killed after 5 s.
 */
static void lib_transfer_disabled(int ep)
{
	struct cap_adc adc = {0};
	struct izc_stream *s = NULL;
	struct izc_block *b;
	pid_t pid;
	int ret;

	ret = cap_adc_setup(&adc, "izc-sim-adc0", 0xf, -1);
	if (!ret)
		ret = izc_stream_open(adc.dev, 0, IZC_DIR_IN, 2, SZ, IZC_STREAM_NO_FALLBACK, &s);
	if (!ret)
		ret = izc_stream_get_block(s, 0, &b);
	if (!ret)
		ret = izc_ffs_attach(ep, b);
	fflush(stdout);
	pid = ret ? -1 : fork();
	if (pid == 0) {
		alarm(1);
		_exit(izc_ffs_transfer(ep, b, SZ) == -EINTR ? 0 : 1);
	}
	ret = pid > 0 ? usb_env_wait(pid, 5) : -1;
	tap_ok(ret == 0, "izc_ffs_transfer() on a disabled endpoint, then a signal: -EINTR (%d)",
	       ret);
	izc_stream_close(s);
	cap_adc_close(&adc);
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
	struct izc_usb_host h = {.fd = -1};
	int ep0, ep1, ep2, d1, d2, closed, ret;
	unsigned int config;

	tap_plan(24);
	usb_env_gadget_stack();
	if (tap_load_module("izc_soft_dma", NULL) || tap_load_module("izc_block_buffer", NULL) ||
	    tap_load_module("izc_sim_adc", "channels=4 sample_bits=32 sampling_frequency=1000"))
		tap_bail("our converter modules do not load");
	ret = usb_env_load("dummy_hcd", "is_super_speed=1");
	if (ret)
		tap_bail("dummy_hcd: %s", strerror(-ret));
	ret = izc_usb_gadget_create(GADGET, NAME, IZC_USB_VID, IZC_USB_PID, "errno");
	if (ret || izc_usb_mkdir(MNT) || mount(NAME, MNT, "functionfs", 0, NULL))
		tap_bail("gadget/FunctionFS setup: %s", strerror(ret ? -ret : errno));
	ep0 = open(MNT "/ep0", O_RDWR | O_CLOEXEC);
	if (ep0 < 0 || izc_usb_ffs_setup(ep0))
		tap_bail("FunctionFS descriptors: %s", strerror(errno));
	ep1 = open_ep(1, 0);
	ep2 = open_ep(2, 0);
	d1 = heap_buf(SZ);
	d2 = heap_buf(SZ);
	closed = heap_buf(SZ);
	close(closed);
	if (ep1 < 0 || ep2 < 0 || d1 < 0 || d2 < 0)
		tap_bail("endpoints or DMABUFs: %s", strerror(errno));

	expect(ERRNO_OF(ioctl(ep1, FUNCTIONFS_DMABUF_ATTACH, &d1)), EPERM,
	       "ATTACH before the gadget is bound to a UDC");

	ret = izc_usb_gadget_bind(GADGET, "dummy_udc.0");
	tap_ok(ret == 0, "gadget bound to dummy_udc.0 (%s)", strerror(-ret));
	ret = izc_usb_host_find(&h, IZC_USB_VID, IZC_USB_PID, 10000);
	if (!ret)
		ret = izc_usb_host_claim(&h);
	tap_ok(ret == 0, "host: device configured, interface claimed (%s)", strerror(-ret));

	expect(ERRNO_OF(ioctl(ep1, FUNCTIONFS_DMABUF_ATTACH, &closed)), EBADF,
	       "ATTACH of a closed fd");
	expect(ERRNO_OF(xfer(ep1, -1, SZ)), EBADF, "TRANSFER of fd -1");
	expect(ERRNO_OF(ioctl(ep1, FUNCTIONFS_DMABUF_ATTACH, &d1)), 0, "ATTACH");
	expect(ERRNO_OF(ioctl(ep1, FUNCTIONFS_DMABUF_ATTACH, &d1)), 0,
	       "ATTACH of the same DMABUF again on the same endpoint");
	expect(ERRNO_OF(xfer(ep2, d1, SZ)), EPERM,
	       "TRANSFER on ep2 of a DMABUF attached to ep1 only");
	expect(ERRNO_OF(ioctl(ep1, FUNCTIONFS_DMABUF_DETACH, &d1)), 0, "first DETACH");
	expect(ERRNO_OF(ioctl(ep1, FUNCTIONFS_DMABUF_DETACH, &d1)), 0,
	       "second DETACH (second attachment)");
	expect(ERRNO_OF(ioctl(ep1, FUNCTIONFS_DMABUF_DETACH, &d1)), EPERM, "third DETACH");

	/* Endpoint disabled: blocking TRANSFER waits for it; a signal ends that. */
	ioctl(h.fd, USBDEVFS_RELEASEINTERFACE, &h.intf);
	config = 0;
	ret = ERRNO_OF(ioctl(h.fd, USBDEVFS_SETCONFIGURATION, &config));
	tap_ok(ret == 0, "host sets configuration 0 (%s)", strerror(ret));
	usleep(200000);
	ioctl(ep1, FUNCTIONFS_DMABUF_ATTACH, &d1);
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	{
		double t0 = usb_env_now();

		ret = ERRNO_OF(xfer(ep1, d1, SZ));
		expect(ret, EINTR, "blocking TRANSFER on a disabled endpoint, then a signal");
		tap_diag("  it waited %.1f s for the endpoint", usb_env_now() - t0);
	}
	lib_transfer_disabled(ep1);
	config = 1;
	ret = ERRNO_OF(ioctl(h.fd, USBDEVFS_SETCONFIGURATION, &config));
	if (!ret)
		ret = ERRNO_OF(ioctl(h.fd, USBDEVFS_CLAIMINTERFACE, &h.intf));
	tap_ok(ret == 0, "host sets configuration 1 again (%s)", strerror(ret));
	usleep(200000);

	/* An IIO block the (slow) ADC is still filling. */
	{
		struct cap_adc adc = {0};
		struct izc_stream *s;
		struct izc_block *b;
		int nb = open_ep(1, O_NONBLOCK);

		ret = cap_adc_setup(&adc, "izc-sim-adc0", 0xf, -1);
		if (!ret)
			ret = izc_stream_open(adc.dev, 0, IZC_DIR_IN, 2, SZ, IZC_STREAM_NO_FALLBACK,
					      &s);
		if (!ret)
			ret = izc_stream_start(s);
		if (!ret)
			ret = izc_stream_get_block(s, 0, &b);
		if (!ret)
			ret = izc_ffs_attach(nb, b);
		if (!ret) {
			struct usb_ffs_dmabuf_transfer_req r = {
				.fd = izc_block_dmabuf_fd(b), .flags = 0, .length = SZ};

			ret = ioctl(nb, FUNCTIONFS_DMABUF_TRANSFER, &r) ? errno : 0;
			expect(ret, EBUSY,
			       "TRANSFER (O_NONBLOCK) of an IIO block the ADC is still filling");
		} else {
			tap_ok(false, "IIO DMABUF stream for the EBUSY case: %s", strerror(-ret));
		}
		close(nb); /* drops the attachment */
		if (!ret || ret == EBUSY) {
			izc_stream_close(s);
			cap_adc_close(&adc);
		}
	}

	/* The attachments belong to the endpoint, not to the open file. */
	expect(ERRNO_OF(xfer(ep1, d1, SZ)), EPERM,
	       "closing another fd of ep1 dropped the DMABUF attached through this one");
	ioctl(ep1, FUNCTIONFS_DMABUF_ATTACH, &d1);

	/* Close with a transfer in flight (the host does not read). */
	ret = ERRNO_OF(xfer(ep1, d1, SZ));
	expect(ret, 0, "TRANSFER queued, host not reading");
	close(ep1);
	{
		struct pollfd p = {.fd = d1, .events = POLLOUT};

		tap_ok(poll(&p, 1, 5000) == 1,
		       "closing the endpoint cancels it: the DMABUF is idle");
	}
	ep1 = open_ep(1, 0);
	{
		uint32_t *map = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, d2, 0);
		static uint32_t got[SZ / 4];
		struct usbdevfs_bulktransfer bt = {
			.ep = h.ep_in, .len = SZ, .timeout = 5000, .data = got};
		bool same = false;
		size_t i;

		for (i = 0; map != MAP_FAILED && i < SZ / 4; i++)
			map[i] = (uint32_t)i * 2654435761u;
		ret = ERRNO_OF(ioctl(ep1, FUNCTIONFS_DMABUF_ATTACH, &d2));
		if (!ret)
			ret = ERRNO_OF(xfer(ep1, d2, SZ));
		if (!ret && ioctl(h.fd, USBDEVFS_BULK, &bt) == (int)SZ)
			same = map != MAP_FAILED && !memcmp(map, got, SZ);
		tap_ok(!ret && same,
		       "reopened endpoint: new ATTACH + TRANSFER reaches the host intact");
		{
			struct pollfd p = {.fd = d2, .events = POLLOUT};

			poll(&p, 1, 5000);
		}
		if (map != MAP_FAILED)
			munmap(map, SZ);
	}

	izc_usb_host_close(&h);
	ret = izc_usb_gadget_bind(GADGET, "");
	tap_ok(ret == 0, "gadget unbound from its UDC (%s)", strerror(-ret));
	expect(ERRNO_OF(xfer(ep1, d2, SZ)), ENODEV, "TRANSFER after the gadget was unbound");
	expect(ERRNO_OF(ioctl(ep1, FUNCTIONFS_DMABUF_DETACH, &d2)), ENODEV,
	       "DETACH after the gadget was unbound");
	close(ep1);
	close(ep2);
	close(ep0);
	umount(MNT);
	izc_usb_gadget_remove(GADGET, NAME);
	close(d1);
	close(d2);
	ret = usb_env_unload("dummy_hcd");
	tap_ok(ret == 0, "dummy_hcd unloads (%s)", strerror(-ret));
	return tap_done();
}
