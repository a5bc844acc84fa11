// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * capture-errno: the bad-input matrix of the DMABUF capture ABI on the
 * simulated ADC, each case with its exact errno (the reason, from Linux 6.12
 * drivers/iio/industrialio-buffer.c or our kernel/block-buffer, next to each
 * assertion), and the runner's kernel-log check proving no splat:
 *  - ioctl argument errors: non-DMABUF fd, closed fd, attach twice, detach
 *    or enqueue what is not attached, bytes_used 0 and > size, unknown
 *    flags, cyclic on input;
 *  - state errors: read() while a DMABUF is attached (disabled and
 *    streaming), attach while fileio streams, O_NONBLOCK enqueue on a
 *    buffer whose fence is pending;
 *  - teardown with transfers pending: disable (the fence carries -EINTR),
 *    closing the buffer fd (a transfer still completes with data, the rest
 *    abort at disable, the buffer can be opened again), rmmod while
 *    streaming (the DMA and buffer modules are refused, the ADC goes
 *    cleanly: fences -EINTR, the open fd answers -ENODEV, a reloaded ADC
 *    streams correct data, every module unloads at the end);
 *  - two processes: the device node and the buffer fd are exclusive, a
 *    forked child sharing the buffer fd can enqueue; parent and child
 *    racing ATTACH and ENQUEUE on the shared fd, of the same DMABUF (one
 *    wins, the other gets the exact errno, one transfer happens) and of
 *    different ones (both win, the data continues across the two).
 * Sample data is checked against value(n, c) = (n + c * 4096) mod 2^16.
 * Every DMABUF whose data is checked is poisoned (0xa5, by the CPU) before
 * the enqueue, so data left from an earlier transfer cannot pass; the
 * bytes behind a short transfer must still be poison.
 */
#define _GNU_SOURCE
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/iio/buffer.h>
#include <linux/sync_file.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "capture-util.h"

#define BLK (64 * 1024)

struct dbuf {
	int fd;
	void *map;
};

static int heap_alloc(struct dbuf *d)
{
	struct dma_heap_allocation_data alloc = {.len = BLK, .fd_flags = O_RDWR | O_CLOEXEC};
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	int ret;

	if (heap < 0)
		return -errno;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc) ? -errno : 0;
	close(heap);
	if (ret)
		return ret;
	d->fd = alloc.fd;
	d->map = mmap(NULL, BLK, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0);
	return d->map == MAP_FAILED ? -errno : 0;
}

static void dbuf_free(struct dbuf *d)
{
	if (d->map && d->map != MAP_FAILED)
		munmap(d->map, BLK);
	if (d->fd > 0)
		close(d->fd);
	d->fd = -1;
	d->map = NULL;
}

/* The ioctl and read wrappers return 0 (or a count) or -errno. */
static int attach(int bfd, int fd)
{
	return ioctl(bfd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, &fd) ? -errno : 0;
}

static int detach(int bfd, int fd)
{
	return ioctl(bfd, IIO_BUFFER_DMABUF_DETACH_IOCTL, &fd) ? -errno : 0;
}

static int enqueue(int bfd, int fd, __u64 bytes, __u32 flags)
{
	struct iio_dmabuf req = {.fd = fd, .flags = flags, .bytes_used = bytes};

	return ioctl(bfd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, &req) ? -errno : 0;
}

/*
 * Assert that @call, returning 0/a count or -errno, failed with @expected
 * (tap_errno() takes ret == -1 as "look at errno", which -EPERM would be).
 */
#define ASSERT_ERRNO(call, expected, ...)                                                          \
	do {                                                                                       \
		long r_ = (call);                                                                  \
		tap_errno(r_ < 0 ? -1 : r_, r_ < 0 ? (int)-r_ : 0, expected, __VA_ARGS__);         \
	} while (0)

static long read_some(int fd)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	return n < 0 ? -errno : n;
}

/* Taken right after an enqueue, while the fence is pending (see COMMON facts). */
static int export_fences(int fd)
{
	struct dma_buf_export_sync_file exp = {.flags = DMA_BUF_SYNC_READ};

	return ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp) ? -errno : (int)exp.fd;
}

/* Status of a sync file after waiting up to @ms for it: 1 ok, 0 pending, < 0 error. */
static int fence_wait(int sync_fd, int ms)
{
	struct sync_file_info info = {0};
	struct pollfd pfd = {.fd = sync_fd, .events = POLLIN};

	if (sync_fd < 0)
		return -1000 + sync_fd;
	if (ms)
		poll(&pfd, 1, ms);
	return ioctl(sync_fd, SYNC_IOC_FILE_INFO, &info) ? -2000 - errno : info.status;
}

static bool counter_ok(const void *data, size_t bytes, uint64_t n0)
{
	struct cap_check k;

	cap_check_init(&k, 0xf, 16);
	k.n = n0;
	return cap_check_data(&k, data, bytes);
}

/* Every byte of @data is the poison. */
static bool poison_ok(const unsigned char *data, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++) {
		if (data[i] != CAP_POISON) {
			tap_diag("byte %zu behind the transfer: 0x%02x, want the poison", i,
				 data[i]);
			return false;
		}
	}
	return true;
}

/*
 * @bytes of counter from frame @n0 at the start of @d, and the poison
 * dbuf_poison() left in the rest.
 */
static bool dbuf_counter_from(const struct dbuf *d, size_t bytes, uint64_t n0)
{
	struct dma_buf_sync s = {.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ};
	bool ok;

	if (ioctl(d->fd, DMA_BUF_IOCTL_SYNC, &s))
		return false;
	ok = counter_ok(d->map, bytes, n0) &&
	     poison_ok((const unsigned char *)d->map + bytes, BLK - bytes);
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	return !ioctl(d->fd, DMA_BUF_IOCTL_SYNC, &s) && ok;
}

/* The first sample of @d (channel 0 of frame 0 of its transfer), or -1. */
static long dbuf_first_sample(const struct dbuf *d)
{
	struct dma_buf_sync s = {.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ};
	const unsigned char *p = d->map;
	long v;

	if (ioctl(d->fd, DMA_BUF_IOCTL_SYNC, &s))
		return -1;
	v = p[0] | p[1] << 8;
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	return ioctl(d->fd, DMA_BUF_IOCTL_SYNC, &s) ? -1 : v;
}

static bool dbuf_counter_ok(const struct dbuf *d, size_t bytes)
{
	return dbuf_counter_from(d, bytes, 0);
}

/* Fill all of @d with the poison, as the CPU (no transfer may be pending). */
static int dbuf_poison(const struct dbuf *d)
{
	struct dma_buf_sync s = {.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE};

	if (ioctl(d->fd, DMA_BUF_IOCTL_SYNC, &s))
		return -errno;
	cap_poison(d->map, BLK);
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
	return ioctl(d->fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

/* Run @fn in a forked child; returns its exit status (or 255). Only the parent prints. */
static int in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 255;
	return WEXITSTATUS(status);
}

/* Child: open the device node; 0 if it opened, else its errno. */
static int child_open_node(void *arg)
{
	int fd = open(arg, O_RDWR | O_CLOEXEC);

	return fd < 0 ? errno : 0;
}

/* Child: open the node and ask for buffer 0's fd: 0 if granted, 100 + errno if open failed. */
static int child_getfd(void *arg)
{
	int fd = open(arg, O_RDWR | O_CLOEXEC), idx = 0;

	if (fd < 0)
		return 100 + errno;
	return ioctl(fd, IIO_BUFFER_GET_FD_IOCTL, &idx) ? errno : 0;
}

struct child_enq {
	int bfd, fd;
};

/* Child: enqueue a 4 KiB transfer of a DMABUF the parent attached, on the inherited fd. */
static int child_enqueue(void *arg)
{
	struct child_enq *c = arg;

	return -enqueue(c->bfd, c->fd, 4096, 0);
}

/* One side of a race on the shared buffer fd: ATTACH, or ENQUEUE of RACE_BYTES. */
#define RACE_BYTES  4096
#define RACE_ROUNDS 16

struct race_op {
	int bfd, fd;
	bool enqueue;
};

static int race_do(const struct race_op *o)
{
	return o->enqueue ? enqueue(o->bfd, o->fd, RACE_BYTES, 0) : attach(o->bfd, o->fd);
}

/*
 * Fork a child that shares the buffer fd and run @mine in the parent at the
 * same moment as @theirs in the child: the child says it is ready through a
 * pipe and spins on a shared flag, the parent raises the flag, spins
 * @delay rounds (varied by the caller, so that either side gets ahead) and
 * goes. Returns the parent's result (0 or -errno); *child gets the child's
 * (0 or errno; 255 if it did not run to its end, 254 without the flag).
 */
static int race(const struct race_op *mine, const struct race_op *theirs, unsigned int delay,
		int *child)
{
	int ready[2], st, ret;
	volatile int *go;
	char c = 0;
	pid_t pid;

	*child = 255;
	go = mmap(NULL, sizeof(*go), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (go == MAP_FAILED)
		return -errno;
	*go = 0;
	if (pipe(ready)) {
		ret = -errno;
		munmap((void *)go, sizeof(*go));
		return ret;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		if (write(ready[1], &c, 1) != 1)
			_exit(254);
		for (long spin = 0; !__atomic_load_n(go, __ATOMIC_ACQUIRE); spin++)
			if (spin > 2000000000L)
				_exit(254);
		_exit(-race_do(theirs));
	}
	close(ready[1]);
	if (pid < 0) {
		ret = -errno;
	} else if (read(ready[0], &c, 1) != 1) {
		ret = -EPIPE;
		kill(pid, SIGKILL);
	} else {
		__atomic_store_n(go, 1, __ATOMIC_RELEASE);
		for (volatile unsigned int i = 0; i < delay; i++)
			;
		ret = race_do(mine);
	}
	close(ready[0]);
	if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st))
		*child = WEXITSTATUS(st);
	munmap((void *)go, sizeof(*go));
	return ret;
}

static int unload_retry(const char *name)
{
	int ret = -EAGAIN;

	/* The last queue reference is dropped from a worker: allow it to run. */
	for (int i = 0; i < 40 && ret == -EAGAIN; i++) {
		ret = tap_unload_module(name);
		if (ret == -EAGAIN)
			usleep(50000);
	}
	return ret;
}

int main(void)
{
	struct dbuf a = {-1, NULL}, b = {-1, NULL};
	struct cap_adc adc = {0};
	struct child_enq ce;
	int devfd, bfd = 0, nullfd, closedfd, sa, sb, ret, n, flags;

	tap_plan(67);
	alarm(170);

	ret = tap_load_sim_adc(NULL);
	if (!tap_success(ret, -ret, "modules load"))
		tap_bail("no modules");
	ret = cap_adc_open(&adc, "izc-sim-adc0");
	/* 1000 S/s x 8 bytes: a 64 KiB transfer takes 8 s, so it stays pending. */
	if (!ret)
		ret = izc_device_attr_write_ll(adc.dev, "sampling_frequency", 1000);
	if (!ret)
		ret = izc_buffer_set_scan_mask(adc.buf, 0xf);
	if (!tap_success(ret, -ret, "izc-sim-adc0 at 1000 S/s, 4 channels"))
		tap_bail("no ADC");
	devfd = open(adc.node, O_RDWR | O_CLOEXEC);
	ret = devfd < 0 ? -1 : ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &bfd);
	if (!tap_success(ret, errno, "buffer fd from IIO_BUFFER_GET_FD_IOCTL"))
		tap_bail("no buffer fd");
	ret = heap_alloc(&a);
	if (!ret)
		ret = heap_alloc(&b);
	if (!tap_success(ret, -ret, "two 64 KiB DMABUFs from the system heap"))
		tap_bail("no DMABUFs");

	/* --- argument errors --- */
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* iio_buffer_attach_dmabuf(): dma_buf_get() of a non-DMABUF file is -EINVAL. */
	ASSERT_ERRNO(attach(bfd, nullfd), EINVAL, "attach /dev/null (not a DMABUF)");
	closedfd = nullfd;
	close(nullfd);
	/* dma_buf_get() -> fget() of a closed fd: -EBADF. */
	ASSERT_ERRNO(attach(bfd, closedfd), EBADF, "attach a closed fd");
	tap_success(attach(bfd, a.fd), 0, "attach DMABUF a");
	/* iio_buffer_attach_dmabuf() finds a's dmabuf in buffer->dmabufs: -EBUSY. */
	ASSERT_ERRNO(attach(bfd, a.fd), EBUSY, "attach a a second time");
	/* iio_buffer_detach_dmabuf(): not in buffer->dmabufs, ret stays -EPERM. */
	ASSERT_ERRNO(detach(bfd, b.fd), EPERM, "detach b, never attached");
	/* iio_buffer_find_attachment(): no attachment is ERR_PTR(-EPERM). */
	ASSERT_ERRNO(enqueue(bfd, b.fd, BLK, 0), EPERM, "enqueue b, never attached");
	/* iio_buffer_enqueue_dmabuf(): !bytes_used || bytes_used > dmabuf->size: -EINVAL. */
	ASSERT_ERRNO(enqueue(bfd, a.fd, 0, 0), EINVAL, "enqueue a with bytes_used 0");
	ASSERT_ERRNO(enqueue(bfd, a.fd, BLK + 1, 0), EINVAL,
		     "enqueue a with bytes_used = size + 1");
	/* flags & ~IIO_BUFFER_DMABUF_SUPPORTED_FLAGS: -EINVAL. */
	ASSERT_ERRNO(enqueue(bfd, a.fd, BLK, 0x2), EINVAL, "enqueue a with unknown flag 0x2");
	ASSERT_ERRNO(enqueue(bfd, a.fd, BLK, 0x80000000u), EINVAL,
		     "enqueue a with unknown flag 0x80000000");
	/* CYCLIC on a buffer whose direction is not OUT: -EINVAL. */
	ASSERT_ERRNO(enqueue(bfd, a.fd, BLK, IIO_BUFFER_DMABUF_CYCLIC), EINVAL,
		     "enqueue a CYCLIC on an input buffer");
	/* None of the refused enqueues left a fence behind. */
	ret = export_fences(a.fd);
	tap_ok(fence_wait(ret, 0) == 1, "a has no pending fence after the refused enqueues");
	close(ret);

	/* --- state errors --- */
	/*
	 * iio_buffer_read(): bytes_per_datum is 0 until the buffer is first
	 * enabled, which the core answers with 0 (end of file) before asking
	 * the buffer.
	 */
	tap_ok(read_some(bfd) == 0, "read() before the buffer was ever enabled: 0 (EOF)");
	tap_success(enqueue(bfd, a.fd, BLK, 0), 0, "enqueue a while disabled");
	sa = export_fences(a.fd);
	flags = fcntl(bfd, F_GETFL);
	fcntl(bfd, F_SETFL, flags | O_NONBLOCK);
	/*
	 * iio_buffer_enqueue_dmabuf(): dma_resv_wait_timeout() with a 0 timeout
	 * finds a's pending write fence: 0 -> -EBUSY.
	 */
	ASSERT_ERRNO(enqueue(bfd, a.fd, BLK, 0), EBUSY,
		     "O_NONBLOCK enqueue of a while its transfer is pending");
	fcntl(bfd, F_SETFL, flags);
	ret = izc_buffer_set_enabled(adc.buf, true);
	tap_success(ret, -ret, "enable: a is submitted");
	ASSERT_ERRNO(read_some(bfd), EBUSY, "read() on the buffer fd while the DMABUF streams");
	/* Disable with a's transfer at the DMA: aborted, fence -EINTR (buffer-dma's status). */
	usleep(100000);
	ret = izc_buffer_set_enabled(adc.buf, false);
	tap_success(ret, -ret, "disable with a's transfer pending");
	ret = fence_wait(sa, 5000);
	tap_ok(ret == -EINTR, "a's fence, exported at enqueue, carries -EINTR (%d)", ret);
	close(sa);
	{
		struct pollfd pfd = {.fd = a.fd, .events = POLLOUT};

		tap_ok(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT),
		       "a polls POLLOUT once its fence signalled");
	}
	/* izc_fileio_check(): a DMABUF is attached, the fileio blocks are gone. */
	ASSERT_ERRNO(read_some(bfd), EBUSY, "read() on the buffer fd with a attached, disabled");
	/* Attach refused while fileio streams: izc_queue_attach_dmabuf() -EBUSY. */
	tap_success(detach(bfd, a.fd), 0, "detach a");
	ret = izc_buffer_set_enabled(adc.buf, true);
	tap_success(ret, -ret, "enable for fileio (nothing attached)");
	ASSERT_ERRNO(attach(bfd, a.fd), EBUSY, "attach a while fileio streams");
	izc_buffer_set_enabled(adc.buf, false);
	/* After detach, the second detach finds nothing: -EPERM. */
	ASSERT_ERRNO(detach(bfd, a.fd), EPERM, "detach a again (detached)");

	/* --- close the buffer fd with transfers pending --- */
	ret = attach(bfd, a.fd);
	ret = ret ? ret : attach(bfd, b.fd);
	tap_success(ret, -ret, "attach a and b");
	/* a: 4 KiB (0.5 s at 1000 S/s), b: 64 KiB (8 s): b stays pending. */
	ret = dbuf_poison(&a);
	ret = ret ? ret : enqueue(bfd, a.fd, 4096, 0);
	sa = export_fences(a.fd);
	if (!ret)
		ret = enqueue(bfd, b.fd, BLK, 0);
	sb = export_fences(b.fd);
	if (!ret)
		ret = izc_buffer_set_enabled(adc.buf, true);
	tap_success(ret, -ret, "enqueue a (4 KiB) and b (64 KiB), enable");
	ret = close(bfd);
	tap_success(ret, errno, "close the buffer fd with both transfers pending");
	dbuf_free(&b);
	ret = fence_wait(sa, 5000);
	tap_ok(ret == 1 && dbuf_counter_ok(&a, 4096),
	       "a completes after the close: fence 1, counter from frame 0 (%d)", ret);
	ret = fence_wait(sb, 0);
	tap_ok(ret == 0, "b is still in flight: its transfer outlives both fds (%d)", ret);
	ret = izc_buffer_set_enabled(adc.buf, false);
	ret = ret ? ret : fence_wait(sb, 5000);
	tap_ok(ret == -EINTR, "disable aborts b: fence -EINTR (%d)", ret);
	close(sa);
	close(sb);
	bfd = 0;
	ret = ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &bfd);
	tap_success(ret, errno, "the buffer fd can be taken again");
	ret = heap_alloc(&b);
	ret = ret ? ret : attach(bfd, a.fd);
	ret = ret ? ret : attach(bfd, b.fd);
	tap_success(ret, -ret, "a (attached on the closed fd) and a new b attach on the new fd");

	/* --- two processes --- */
	/* iio_chrdev_open(): the device's IIO_BUSY_BIT_POS is taken by our devfd. */
	ret = in_child(child_open_node, adc.node);
	tap_ok(ret == EBUSY, "another process cannot open %s while we hold it (%d)", adc.node, ret);
	close(devfd);
	/* iio_device_buffer_getfd(): buffer 0's IIO_BUSY_BIT_POS is ours: -EBUSY. */
	ret = in_child(child_getfd, adc.node);
	tap_ok(ret == EBUSY,
	       "node released, buffer fd kept: the other process's GET_FD is EBUSY (%d)", ret);
	ret = izc_device_attr_write_ll(adc.dev, "sampling_frequency", 0);
	tap_success(ret, -ret, "unpaced");
	ce.bfd = bfd;
	ce.fd = a.fd;
	/* a still holds the counter from frame 0 of the last case: poison it. */
	ret = dbuf_poison(&a);
	tap_success(ret, -ret, "a poisoned by the CPU");
	/* The fd is one open file: the core has no per-process owner of it. */
	ret = in_child(child_enqueue, &ce);
	tap_ok(ret == 0, "a forked child enqueues a on the inherited buffer fd (%d)", ret);
	sa = export_fences(a.fd);
	ret = izc_buffer_set_enabled(adc.buf, true);
	ret = ret ? ret : fence_wait(sa, 5000);
	close(sa);
	tap_ok(ret == 1 && dbuf_counter_ok(&a, 4096),
	       "the child's transfer completes in the parent: fence 1, counter from 0, the rest "
	       "still poison (%d)",
	       ret);
	izc_buffer_set_enabled(adc.buf, false);

	/*
	 * --- two processes racing on one buffer fd (forked after GET_FD) ---
	 * Released together through a pipe, RACE_ROUNDS times each.
	 * ATTACH of the same DMABUF: the core's buffer->dmabufs check runs
	 * under dmabufs_mutex, so one wins and the other gets -EBUSY, and
	 * there is exactly one attachment (detach once: 0, again: -EPERM).
	 */
	ret = detach(bfd, a.fd);
	ret = ret ? ret : detach(bfd, b.fd);
	tap_success(ret, -ret, "detach a and b before the races");
	{
		struct race_op pa = {bfd, a.fd, false}, pb = {bfd, b.fd, false};
		int bad = 0, pwins = 0, cr, pr, d1, d2;

		for (int i = 0; i < RACE_ROUNDS; i++) {
			pr = race(&pa, &pa, (i & 1) * 3000000u, &cr);
			d1 = detach(bfd, a.fd);
			d2 = detach(bfd, a.fd);
			pwins += pr == 0;
			if (!((pr == 0 && cr == EBUSY) || (pr == -EBUSY && cr == 0)) || d1 ||
			    d2 != -EPERM) {
				if (bad++ < 4)
					tap_diag("attach race %d: parent %d, child %d, detach %d, "
						 "%d",
						 i, pr, cr, d1, d2);
			}
		}
		tap_ok(!bad,
		       "%d ATTACH races of a (parent %d wins): one 0, the other EBUSY, one "
		       "attachment",
		       RACE_ROUNDS, pwins);
		bad = 0;
		for (int i = 0; i < RACE_ROUNDS; i++) {
			pr = race(&pa, &pb, (i & 1) * 3000000u, &cr);
			d1 = detach(bfd, a.fd);
			d2 = detach(bfd, b.fd);
			if (pr || cr || d1 || d2) {
				if (bad++ < 4)
					tap_diag("attach race %d: a %d, b %d, detach %d, %d", i, pr,
						 cr, d1, d2);
			}
		}
		tap_ok(!bad, "%d ATTACH races of a (parent) and b (child): both attach",
		       RACE_ROUNDS);
	}
	ret = attach(bfd, a.fd);
	ret = ret ? ret : attach(bfd, b.fd);
	tap_success(ret, -ret, "a and b attached again");
	/*
	 * ENQUEUE of the same DMABUF, O_NONBLOCK, buffer disabled (the winner's
	 * fence stays pending): the loser either finds that fence
	 * (dma_resv_wait_timeout() with 0 timeout: -EBUSY) or, when it passed
	 * that wait before the winner added its fence, finds the block queued
	 * (izc_queue_enqueue_dmabuf(): -EPERM). Then exactly one transfer of
	 * RACE_BYTES: counter from 0, the rest of a still poison.
	 */
	flags = fcntl(bfd, F_GETFL);
	fcntl(bfd, F_SETFL, flags | O_NONBLOCK);
	{
		struct race_op pa = {bfd, a.fd, true}, pb = {bfd, b.fd, true};
		int bad = 0, ebusy = 0, eperm = 0, pwins = 0, cr, pr, fa;

		for (int i = 0; i < RACE_ROUNDS; i++) {
			cr = 255;
			ret = dbuf_poison(&a);
			pr = ret ? ret : race(&pa, &pa, (i & 1) * 3000000u, &cr);
			sa = export_fences(a.fd);
			ret = izc_buffer_set_enabled(adc.buf, true);
			fa = ret ? ret : fence_wait(sa, 5000);
			close(sa);
			izc_buffer_set_enabled(adc.buf, false);
			pwins += pr == 0;
			ebusy += pr == -EBUSY || cr == EBUSY;
			eperm += pr == -EPERM || cr == EPERM;
			if (!((pr == 0 && (cr == EBUSY || cr == EPERM)) ||
			      ((pr == -EBUSY || pr == -EPERM) && cr == 0)) ||
			    fa != 1 || !dbuf_counter_ok(&a, RACE_BYTES)) {
				if (bad++ < 4)
					tap_diag("enqueue race %d: parent %d, child %d, fence %d",
						 i, pr, cr, fa);
			}
		}
		tap_ok(!bad,
		       "%d ENQUEUE races of a (parent %d wins): one 0, the other EBUSY (%d) or "
		       "EPERM (%d); one transfer, counter from 0, rest poison",
		       RACE_ROUNDS, pwins, ebusy, eperm);
		/*
		 * ENQUEUE of different DMABUFs: both go; the queue takes them in
		 * some order, so one holds frames 0.., the other continues it.
		 */
		bad = 0;
		for (int i = 0; i < RACE_ROUNDS; i++) {
			uint64_t next = RACE_BYTES / 8;
			bool a_first;
			int fb;

			cr = 255;

			ret = dbuf_poison(&a);
			ret = ret ? ret : dbuf_poison(&b);
			pr = ret ? ret : race(&pa, &pb, (i & 1) * 3000000u, &cr);
			sa = export_fences(a.fd);
			sb = export_fences(b.fd);
			ret = izc_buffer_set_enabled(adc.buf, true);
			fa = ret ? ret : fence_wait(sa, 5000);
			fb = ret ? ret : fence_wait(sb, 5000);
			close(sa);
			close(sb);
			izc_buffer_set_enabled(adc.buf, false);
			/* Whichever the queue took first starts at frame 0. */
			a_first = dbuf_first_sample(&a) == 0;
			if (pr || cr || fa != 1 || fb != 1 ||
			    !dbuf_counter_from(&a, RACE_BYTES, a_first ? 0 : next) ||
			    !dbuf_counter_from(&b, RACE_BYTES, a_first ? next : 0)) {
				if (bad++ < 4)
					tap_diag("enqueue race %d: a %d, b %d, fences %d %d", i, pr,
						 cr, fa, fb);
			}
		}
		tap_ok(!bad,
		       "%d ENQUEUE races of a (parent) and b (child): both go, one continues "
		       "the other's counter, rest poison",
		       RACE_ROUNDS);
	}
	fcntl(bfd, F_SETFL, flags);

	/* --- rmmod while streaming --- */
	ret = izc_device_attr_write_ll(adc.dev, "sampling_frequency", 1000);
	ret = ret ? ret : enqueue(bfd, a.fd, BLK, 0);
	sa = export_fences(a.fd);
	ret = ret ? ret : enqueue(bfd, b.fd, BLK, 0);
	sb = export_fences(b.fd);
	ret = ret ? ret : izc_buffer_set_enabled(adc.buf, true);
	tap_success(ret, -ret, "streaming a and b at 1000 S/s");
	/*
	 * delete_module(): a module others depend on (source_list not empty)
	 * is refused with -EWOULDBLOCK (== EAGAIN), in 6.12 before the
	 * refcount is even looked at.
	 */
	ret = tap_unload_module("izc_soft_dma");
	tap_errno(ret, -ret, EWOULDBLOCK, "rmmod izc_soft_dma while streaming: EWOULDBLOCK");
	ret = tap_unload_module("izc_block_buffer");
	tap_errno(ret, -ret, EWOULDBLOCK, "rmmod izc_block_buffer while streaming: EWOULDBLOCK");
	ret = tap_unload_module("izc_sim_adc");
	tap_success(ret, -ret, "rmmod izc_sim_adc while streaming succeeds");
	ret = fence_wait(sa, 5000);
	n = fence_wait(sb, 5000);
	tap_ok(ret == -EINTR && n == -EINTR,
	       "the unregister disabled the buffer: both fences -EINTR (%d, %d)", ret, n);
	close(sa);
	close(sb);
	/* The queue is torn down: izc_queue_enqueue_dmabuf() answers -ENODEV. */
	ASSERT_ERRNO(enqueue(bfd, a.fd, BLK, 0), ENODEV,
		     "enqueue on the open fd of the removed ADC");
	/* iio_buffer_read(): indio_dev->info is gone. */
	ASSERT_ERRNO(read_some(bfd), ENODEV, "read() on the open fd of the removed ADC");
	/*
	 * The queue holds a reference on izc_block_buffer until the buffer's
	 * last reference (our fd) goes: try_stop_module() -EWOULDBLOCK.
	 */
	ret = tap_unload_module("izc_block_buffer");
	tap_errno(ret, -ret, EWOULDBLOCK,
		  "rmmod izc_block_buffer while a removed ADC's buffer fd is open");
	tap_success(detach(bfd, b.fd), 0, "detach b from the removed ADC's buffer");
	close(bfd);
	cap_adc_close(&adc);

	ret = tap_load_module("izc_sim_adc", "sampling_frequency=0");
	ret = ret ? ret : cap_adc_open(&adc, "izc-sim-adc0");
	ret = ret ? ret : izc_buffer_set_scan_mask(adc.buf, 0xf);
	tap_success(ret, -ret, "izc_sim_adc reloads");
	devfd = ret ? -1 : open(adc.node, O_RDWR | O_CLOEXEC);
	bfd = 0;
	ret = devfd < 0 ? -1 : ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &bfd);
	ret = ret ? -errno : attach(bfd, a.fd);
	ret = ret ? ret : dbuf_poison(&a);
	ret = ret ? ret : enqueue(bfd, a.fd, BLK, 0);
	sa = export_fences(a.fd);
	ret = ret ? ret : izc_buffer_set_enabled(adc.buf, true);
	ret = ret ? ret : fence_wait(sa, 5000);
	tap_ok(ret == 1 && dbuf_counter_ok(&a, BLK),
	       "the reloaded ADC fills a with the counter from frame 0 (%d)", ret);
	close(sa);
	izc_buffer_set_enabled(adc.buf, false);
	tap_success(detach(bfd, a.fd), 0, "detach a");
	close(bfd);

	/*
	 * A DMABUF enqueued on the disabled buffer and left there (detached,
	 * buffer fd closed) still goes at the next enable, as upstream; that
	 * enable is in DMABUF mode, so read() must answer EBUSY, not wait for
	 * fileio blocks that do not exist. The enable after is in fileio mode.
	 */
	bfd = 0;
	ret = ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &bfd) ? -errno : attach(bfd, a.fd);
	ret = ret ? ret : dbuf_poison(&a);
	ret = ret ? ret : enqueue(bfd, a.fd, BLK, 0);
	sa = export_fences(a.fd);
	ret = ret ? ret : detach(bfd, a.fd);
	close(bfd);
	ret = ret ? ret : izc_buffer_set_enabled(adc.buf, true);
	ret = ret ? ret : fence_wait(sa, 5000);
	tap_ok(ret == 1 && dbuf_counter_ok(&a, BLK),
	       "a DMABUF left queued on the disabled buffer is filled at the next enable: "
	       "fence 1, counter from 0 over the poison (%d)",
	       ret);
	close(sa);
	fcntl(devfd, F_SETFL, O_NONBLOCK);
	ASSERT_ERRNO(read_some(devfd), EBUSY,
		     "read() while enabled in DMABUF mode with no DMABUF left: EBUSY, not a wait");
	izc_buffer_set_enabled(adc.buf, false);
	ret = izc_buffer_set_enabled(adc.buf, true);
	{
		struct pollfd p = {.fd = devfd, .events = POLLIN};
		unsigned char data[4096];
		long got = ret ? ret : (poll(&p, 1, 5000) == 1 ? -ENODATA : -ETIMEDOUT);

		if (got == -ENODATA) {
			memset(data, CAP_POISON, sizeof(data));
			got = read(devfd, data, sizeof(data));
			got = got < 0 ? -errno : got;
		}
		tap_ok(got > 0 && got % 8 == 0 && counter_ok(data, got, 0),
		       "enabled again, in fileio mode: read() gets %ld bytes, the counter from "
		       "frame 0",
		       got);
	}
	izc_buffer_set_enabled(adc.buf, false);
	close(devfd);
	cap_adc_close(&adc);
	dbuf_free(&a);
	dbuf_free(&b);

	/* Nothing leaked: every module unloads. */
	ret = unload_retry("izc_sim_adc");
	tap_success(ret, -ret, "rmmod izc_sim_adc");
	ret = unload_retry("izc_block_buffer");
	tap_success(ret, -ret, "rmmod izc_block_buffer (every queue freed)");
	ret = unload_retry("izc_soft_dma");
	tap_success(ret, -ret, "rmmod izc_soft_dma");
	return tap_done();
}
