// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The DMABUF backend on the host, with the kernel faked. The test binary
 * defines ioctl(), which the statically linked library calls, and answers
 * the IIO ENQUEUE, DMABUF EXPORT_SYNC_FILE and SYNC_IOC_FILE_INFO requests
 * on the fds a test registered (everything else goes to the kernel). A
 * block's "DMABUF" is the write end of a pipe: poll(POLLOUT) on it says
 * whether its transfer still runs (pipe full) or is complete (pipe empty).
 * Opening a DMABUF stream needs an IIO buffer fd and a DMA heap, so the
 * streams here are put together from lib/src/internal.h as
 * izc_stream_open() would, and then driven through the public API.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/iio/buffer.h>
#include <linux/sync_file.h>

#include "internal.h"
#include "izc.h"
#include "test.h"

int build_tree(struct fake_tree *ft);

#define FAKE_BLOCKS 4
#define FAKE_SYNCS  32

/* One block's DMA as the fake kernel sees it. */
struct fake_dma {
	int wfd, rfd;	   /* the pipe; wfd is the block's "DMABUF" fd */
	bool pending;	   /* submitted, its fence not signalled */
	int status;	   /* once signalled: 1 done, < 0 the error */
	uint64_t done_ns;  /* when it was signalled */
	int at_once;	   /* != 0: the next ENQUEUE signals it with this status */
	unsigned int subs; /* ENQUEUEs of it */
};

/* A sync file the fake exported: the block's fence, or the stub. */
struct fake_sync {
	int fd;
	int blk; /* -1: the signalled stub */
};

/* Test state only: the library itself has none. */
static struct {
	int buf_fd; /* the fake IIO buffer fd, -1 when no test runs */
	bool no_export;
	struct fake_dma dma[FAKE_BLOCKS];
	unsigned int ndma;
	struct fake_sync sync[FAKE_SYNCS];
} fk = {.buf_fd = -1};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int fake_find(int dmabuf_fd)
{
	for (unsigned int i = 0; i < fk.ndma; i++)
		if (fk.dma[i].wfd == dmabuf_fd)
			return (int)i;
	return -1;
}

static void pipe_fill(int fd)
{
	static const char page[4096];

	while (write(fd, page, sizeof(page)) > 0)
		;
}

static void pipe_empty(int fd)
{
	char page[4096];

	while (read(fd, page, sizeof(page)) > 0)
		;
}

/* The device completes block i's transfer: status 1 (done) or an error. */
static void fake_signal(unsigned int i, int status)
{
	struct fake_dma *d = &fk.dma[i];

	d->pending = false;
	d->status = status;
	d->done_ns = mono_ns();
	pipe_empty(d->rfd);
}

/* What a disable does to the transfers in flight (upstream and ours). */
static void fake_abort_all(void)
{
	for (unsigned int i = 0; i < fk.ndma; i++)
		if (fk.dma[i].pending)
			fake_signal(i, -EINTR);
}

static int fake_enqueue(const struct iio_dmabuf *req)
{
	int i = fake_find((int)req->fd);
	struct fake_dma *d;

	if (i < 0)
		return -EINVAL;
	d = &fk.dma[i];
	d->subs++;
	if (d->at_once) {
		/* Done (or refused) before ENQUEUE returns: the export gets the stub. */
		fake_signal((unsigned int)i, d->at_once);
		d->at_once = 0;
		return 0;
	}
	d->pending = true;
	pipe_fill(d->wfd);
	return 0;
}

static int fake_export(int dmabuf_fd, struct dma_buf_export_sync_file *exp)
{
	int i = fake_find(dmabuf_fd), fd;

	if (fk.no_export)
		return -ENOTTY;
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (unsigned int j = 0; j < FAKE_SYNCS; j++) {
		/* The library closed the last sync file with this number, if any. */
		if (fk.sync[j].fd == fd || fk.sync[j].fd < 0 || j == FAKE_SYNCS - 1) {
			fk.sync[j].fd = fd;
			/* The kernel leaves signalled fences out: the stub is left. */
			fk.sync[j].blk = fk.dma[i].pending ? i : -1;
			break;
		}
	}
	exp->fd = fd;
	return 0;
}

static int fake_info(int fd, struct sync_file_info *info)
{
	struct sync_fence_info *fi = (struct sync_fence_info *)(uintptr_t)info->sync_fence_info;
	const struct fake_dma *d = NULL;

	for (unsigned int j = 0; j < FAKE_SYNCS; j++) {
		if (fk.sync[j].fd != fd)
			continue;
		d = fk.sync[j].blk < 0 ? NULL : &fk.dma[fk.sync[j].blk];
		memset(info->name, 0, sizeof(info->name));
		info->status = !d ? 1 : d->pending ? 0 : d->status;
		if (info->num_fences && fi) {
			memset(fi, 0, sizeof(*fi));
			snprintf(fi->driver_name, sizeof(fi->driver_name), "%s",
				 d ? "fake" : "stub");
			fi->status = info->status;
			fi->timestamp_ns = d && !d->pending ? d->done_ns : 0;
		}
		info->num_fences = 1;
		return 0;
	}
	return 1; /* not one of ours */
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int ret = 1;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fk.buf_fd >= 0) {
		if (fd == fk.buf_fd && req == IIO_BUFFER_DMABUF_ENQUEUE_IOCTL)
			ret = fake_enqueue(arg);
		else if (req == DMA_BUF_IOCTL_EXPORT_SYNC_FILE && fake_find(fd) >= 0)
			ret = fake_export(fd, arg);
		else if (req == SYNC_IOC_FILE_INFO)
			ret = fake_info(fd, arg);
	}
	if (ret == 1)
		return (int)syscall(SYS_ioctl, fd, req, arg);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

/* A DMABUF stream on buf as izc_stream_open() would set it up. */
static struct izc_stream *fake_stream(struct izc_buffer *buf, unsigned int nblocks)
{
	struct izc_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	memset(&fk, 0, sizeof(fk));
	for (unsigned int j = 0; j < FAKE_SYNCS; j++)
		fk.sync[j].fd = -1;
	s->dev = buf->dev;
	s->buf = buf;
	s->dir = buf->dir;
	s->ops = &izc_dmabuf_ops;
	s->dev_fd = -1;
	s->saved_length = s->saved_watermark = -1;
	s->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
	s->buf_fd = eventfd(0, EFD_CLOEXEC);
	s->frame_size = 2;
	s->block_size = 16;
	s->nblocks = nblocks;
	s->blocks = calloc(nblocks, sizeof(*s->blocks));
	fk.buf_fd = s->buf_fd;
	for (unsigned int i = 0; s->blocks && i < nblocks && i < FAKE_BLOCKS; i++) {
		struct izc_block *b = &s->blocks[i];
		struct stat st;
		int p[2];

		if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
			break;
		fcntl(p[1], F_SETPIPE_SZ, 4096); /* quick to fill */
		fstat(p[1], &st);
		*b = (struct izc_block){.stream = s,
					.index = i,
					.state = IZC_BLOCK_IDLE,
					.size = s->block_size,
					.dmabuf_fd = p[1],
					.fence_fd = -1,
					.ino = (unsigned long long)st.st_ino};
		fk.dma[i] = (struct fake_dma){.wfd = p[1], .rfd = p[0]};
		fk.ndma++;
	}
	return s;
}

static void fake_stream_close(struct izc_stream *s)
{
	izc_stream_close(s); /* closes the write ends with the "DMABUFs" */
	for (unsigned int i = 0; i < fk.ndma; i++)
		close(fk.dma[i].rfd);
	fk.ndma = 0;
	fk.buf_fd = -1;
}

/* A fake tree, a context on it, and a fake DMABUF stream on a device's buffer0. */
struct fixture {
	struct fake_tree ft;
	struct izc_context *ctx;
	struct izc_stream *s;
};

static int fixture_open(struct fixture *f, const char *name, unsigned int nblocks)
{
	struct izc_device *dev;
	struct izc_buffer *buf;
	int ret = build_tree(&f->ft);

	ret = ret ? ret : izc_context_open(f->ft.sysfs, f->ft.dev, &f->ctx);
	ret = ret ? ret : izc_context_find_device(f->ctx, name, &dev);
	ret = ret ? ret : izc_device_get_buffer(dev, 0, &buf);
	if (ret)
		return ret;
	f->s = fake_stream(buf, nblocks);
	return f->s && fk.ndma == nblocks ? 0 : -ENOMEM;
}

static void fixture_close(struct fixture *f)
{
	if (f->s)
		fake_stream_close(f->s);
	izc_context_close(f->ctx);
	fake_tree_destroy(&f->ft);
}

/* The fake itself: blocks complete in order, with their fences' outcome. */
static void dmabuf_fake_basics(struct test_ctx *t)
{
	struct izc_stream *s;
	struct izc_block *b;
	struct fixture f = {0};

	REQUIRE_INT(t, fixture_open(&f, "adc0", 2), 0);
	s = f.s;
	REQUIRE_INT(t, izc_stream_start(s), 0);
	CHECK_INT(t, fk.dma[0].subs, 1);
	CHECK_INT(t, fk.dma[1].subs, 1);
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b), -ETIMEDOUT);
	fake_signal(0, 1);
	REQUIRE_INT(t, izc_stream_dequeue(s, 0, &b), 0);
	CHECK_INT(t, izc_block_index(b), 0);
	fake_signal(1, -EIO);
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b), -EIO); /* block 1, taken back */
	/* block 0 is held; 1 goes back to the device at this dequeue */
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b), -ETIMEDOUT);
	CHECK_INT(t, fk.dma[1].subs, 2);
	/* a stop aborts what is in flight */
	REQUIRE_INT(t, izc_stream_stop(s), 0);
	fake_abort_all();
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b), -EINTR);
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b), -ENOBUFS);
out:
	fixture_close(&f);
}

/* Ends the head's transfer late, so that a dequeue that never returns does. */
static void *signal_head_later(void *arg)
{
	struct timespec ts = {0, 600 * 1000000L};

	(void)arg;
	nanosleep(&ts, NULL);
	fake_signal(0, 1);
	return NULL;
}

static long long thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * A block behind the head completes first: upstream buffer-dma signals a
 * submission its DMA driver refused inside ENQUEUE (which returns 0) while
 * the head is still in flight. The one poll() over the batch then returns
 * at once for that block, and must not be repeated (it spun, 100% CPU,
 * until the head completed or the timeout). Blocks still come out in
 * queue order.
 */
static void dmabuf_no_spin_on_later_block(struct test_ctx *t)
{
	struct izc_stream *s;
	struct izc_block *b;
	struct fixture f = {0};
	long long cpu;
	pthread_t th;
	int ret;

	REQUIRE_INT(t, fixture_open(&f, "adc0", 2), 0);
	s = f.s;
	fk.dma[1].at_once = -EIO;
	REQUIRE_INT(t, izc_stream_start(s), 0);
	REQUIRE_INT(t, pthread_create(&th, NULL, signal_head_later, NULL), 0);
	cpu = thread_cpu_ms();
	ret = izc_stream_dequeue(s, 300, &b);
	cpu = thread_cpu_ms() - cpu;
	pthread_join(th, NULL);
	/* it spun past its timeout, until the head completed at 600 ms */
	CHECK_INT(t, ret, -ETIMEDOUT);
	if (cpu >= 100)
		printf("# %lld ms of CPU in a 300 ms wait\n", cpu);
	CHECK(t, cpu < 100);
	if (ret)
		REQUIRE_INT(t, izc_stream_dequeue(s, 0, &b), 0);
	CHECK_INT(t, izc_block_index(b), 0);
	/* signalled before its export, and after it the head was: -EIO */
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b), -EIO);
out:
	fixture_close(&f);
}

/*
 * izc_stream_start() submits the blocks queued while stopped, then enables
 * the buffer; the enable fails (a driver's preenable error). The disabled
 * kernel buffer keeps those blocks until its next enable, so waiting for
 * them cannot end: a dequeue must say at once that nothing can complete,
 * and a later start must run them without submitting them twice.
 */
static void dmabuf_enable_fails_after_submit(struct test_ctx *t)
{
	struct izc_stream *s;
	struct izc_block *b = NULL, *back;
	struct fixture f = {0};
	char enable[512];
	long long t0;

	REQUIRE_INT(t, fixture_open(&f, "dac0", 1), 0);
	s = f.s;
	REQUIRE_INT(t, izc_stream_dequeue(s, 0, &b), 0);
	REQUIRE_INT(t, izc_block_enqueue(b, 0, 0), 0);
	CHECK_INT(t, fk.dma[0].subs, 0); /* not before the start */
	/* the enable attribute cannot be written */
	snprintf(enable, sizeof(enable), "%s/iio:device2/buffer0/enable", f.ft.sysfs);
	REQUIRE_INT(t, unlink(enable), 0);
	REQUIRE_INT(t, mkdir(enable, 0755), 0);
	CHECK_INT(t, izc_stream_start(s), -EISDIR);
	CHECK_INT(t, fk.dma[0].subs, 1);
	t0 = mono_ns() / 1000000;
	CHECK_INT(t, izc_stream_dequeue(s, 200, &back), -ENOBUFS);
	CHECK(t, mono_ns() / 1000000 - t0 < 100);
	CHECK_INT(t, izc_stream_drain(s, 200), -ENOBUFS);
	/* the next enable runs it */
	REQUIRE_INT(t, rmdir(enable), 0);
	REQUIRE_INT(t, fake_write(&f.ft, "iio:device2/buffer0/enable", "0\n"), 0);
	REQUIRE_INT(t, izc_stream_start(s), 0);
	CHECK_INT(t, fk.dma[0].subs, 1);
	CHECK_INT(t, izc_stream_dequeue(s, 0, &back), -ETIMEDOUT);
	fake_signal(0, 1);
	REQUIRE_INT(t, izc_stream_dequeue(s, 0, &back), 0);
	CHECK(t, back == b);
out:
	fixture_close(&f);
}

/*
 * A stop aborts the blocks in flight (-EINTR). After the restart, a block
 * whose fence was already signalled at its export (the stub: a transfer
 * done within microseconds) takes the outcome of the last block completed;
 * the aborted one said nothing about the device and must not turn good
 * data into -EIO. A real failure still does (a device that fails keeps
 * failing).
 */
static void dmabuf_stop_abort_not_a_device_error(struct test_ctx *t)
{
	struct izc_stream *s;
	struct izc_block *b;
	struct fixture f = {0};

	REQUIRE_INT(t, fixture_open(&f, "adc0", 1), 0);
	s = f.s;
	REQUIRE_INT(t, izc_stream_start(s), 0);
	REQUIRE_INT(t, izc_stream_stop(s), 0);
	fake_abort_all();
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b), -EINTR);
	fk.dma[0].at_once = 1; /* done inside ENQUEUE, fine */
	REQUIRE_INT(t, izc_stream_start(s), 0);
	REQUIRE_INT(t, izc_stream_dequeue(s, 0, &b), 0);
	/* a real failure, then an early completion: -EIO as before */
	REQUIRE_INT(t, izc_block_enqueue(b, 0, 0), 0);
	fake_signal(0, -EIO);
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b), -EIO);
	fk.dma[0].at_once = 1;
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b), -EIO);
	CHECK_INT(t, fk.dma[0].subs, 4);
out:
	fixture_close(&f);
}

TEST_SUITE(dmabuf_suite, TEST(dmabuf_fake_basics), TEST(dmabuf_no_spin_on_later_block),
	   TEST(dmabuf_enable_fails_after_submit), TEST(dmabuf_stop_abort_not_a_device_error));
