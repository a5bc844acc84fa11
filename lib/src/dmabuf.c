// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * DMABUF backend: blocks are DMABUFs from the system DMA heap (or udmabuf),
 * attached to the IIO buffer fd and queued with
 * IIO_BUFFER_DMABUF_ENQUEUE_IOCTL. Completion is poll(POLLOUT) on the
 * DMABUF; the outcome is the fence status read through an exported sync
 * file. The CPU maps and syncs a block only when the application asks for
 * its data.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/iio/buffer.h>
#include <linux/sync_file.h>
#include <linux/udmabuf.h>

#include "internal.h"

static int open_dev(const struct izc_stream *s, const char *name)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = izc_path(path, sizeof(path), s->dev->ctx->dev_root, name);
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int alloc_heap(int heap_fd, size_t size)
{
	struct dma_heap_allocation_data req = {
		.len = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int ret = izc_ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &req);

	return ret < 0 ? ret : (int)req.fd;
}

static int alloc_udmabuf(int udmabuf_fd, size_t size)
{
	struct udmabuf_create req = {.flags = UDMABUF_FLAGS_CLOEXEC};
	int memfd, ret;

	size = izc_round_up(size, izc_page_size()); /* izc_stream_open() checked it fits */
	memfd = memfd_create("izc-block", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0)
		return -errno;
	if (ftruncate(memfd, (off_t)size) < 0 || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		ret = -errno;
		close(memfd);
		return ret;
	}
	req.memfd = (__u32)memfd;
	req.size = size;
	ret = izc_ioctl(udmabuf_fd, UDMABUF_CREATE, &req);
	close(memfd); /* the DMABUF keeps the pages */
	return ret;
}

static bool is_attached(const struct izc_stream *s, unsigned long long ino)
{
	for (unsigned int i = 0; i < s->nattached; i++)
		if (s->attached[i] == ino)
			return true;
	return false;
}

static int attach(struct izc_stream *s, const struct izc_block *b)
{
	int fd = b->dmabuf_fd, ret;

	if (s->nattached == s->attached_cap) {
		unsigned int cap = s->attached_cap ? s->attached_cap * 2 : 16;
		unsigned long long *tmp = realloc(s->attached, cap * sizeof(*tmp));

		if (!tmp)
			return -ENOMEM;
		s->attached = tmp;
		s->attached_cap = cap;
	}
	ret = izc_ioctl(s->buf_fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, &fd);
	if (ret < 0)
		return ret;
	s->attached[s->nattached++] = b->ino;
	return 0;
}

int izc_dmabuf_attach_cached(struct izc_stream *s, const struct izc_block *b)
{
	return is_attached(s, b->ino) ? 0 : attach(s, b);
}

void izc_dmabuf_detach_owner(struct izc_stream *s, const struct izc_stream *owner)
{
	for (unsigned int i = 0; i < owner->nblocks; i++) {
		const struct izc_block *b = &owner->blocks[i];
		int fd = b->dmabuf_fd;

		if (fd < 0)
			continue;
		for (unsigned int j = 0; j < s->nattached; j++) {
			if (s->attached[j] != b->ino)
				continue;
			/* The attachment holds a reference to the DMABUF: drop it now. */
			ioctl(s->buf_fd, IIO_BUFFER_DMABUF_DETACH_IOCTL, &fd);
			s->attached[j] = s->attached[--s->nattached];
			break;
		}
	}
}

static int dmabuf_setup(struct izc_stream *s)
{
	bool udmabuf = s->flags & IZC_STREAM_UDMABUF;
	long long align;
	int alloc_fd, ret = 0;

	/*
	 * A DMA moves whole bus words: a DMA buffer says how long in
	 * length_align_bytes (not always a power of two); a DMABUF transfer
	 * of any other length fails (EINVAL from ours; upstream leaves it to
	 * the DMA controller).
	 * fileio has no such rule (the kernel sizes its own blocks), so
	 * refuse here, where the stream can still fall back.
	 */
	if (!izc_buffer_attr_read_ll(s->buf, "length_align_bytes", &align) && align > 1 &&
	    s->block_size % (unsigned long long)align)
		return -EINVAL;

	alloc_fd = open_dev(s, udmabuf ? "udmabuf" : "dma_heap/system");
	if (alloc_fd < 0)
		return alloc_fd;
	for (unsigned int i = 0; i < s->nblocks; i++) {
		struct izc_block *b = &s->blocks[i];
		struct stat st;

		ret = udmabuf ? alloc_udmabuf(alloc_fd, b->size) : alloc_heap(alloc_fd, b->size);
		if (ret < 0)
			break;
		b->dmabuf_fd = ret;
		if (fstat(b->dmabuf_fd, &st) < 0) {
			ret = -errno;
			break;
		}
		b->ino = (unsigned long long)st.st_ino;
		/* The first attach tells whether the buffer does DMABUF at all. */
		ret = attach(s, b);
		if (ret < 0)
			break;
	}
	close(alloc_fd);
	return ret < 0 ? ret : 0;
}

static void dmabuf_teardown(struct izc_stream *s)
{
	for (unsigned int i = 0; i < s->nblocks; i++) {
		struct izc_block *b = &s->blocks[i];
		int fd = b->dmabuf_fd;

		if (b->map) {
			if (b->cpu_access)
				izc_block_cpu_end(b);
			munmap(b->map, b->size);
			b->map = NULL;
		}
		if (b->fence_fd >= 0) {
			close(b->fence_fd);
			b->fence_fd = -1;
		}
		b->fence_err = 0;
		if (fd < 0)
			continue;
		/* Closing the buffer fd would detach too; a fallback keeps it open. */
		if (is_attached(s, b->ino))
			ioctl(s->buf_fd, IIO_BUFFER_DMABUF_DETACH_IOCTL, &fd);
		close(fd);
		b->dmabuf_fd = -1;
	}
	s->nattached = 0;
}

static int dmabuf_submit(struct izc_stream *s, struct izc_block *b, size_t bytes,
			 unsigned int flags)
{
	struct iio_dmabuf req = {
		.fd = (__u32)b->dmabuf_fd,
		.flags = (flags & IZC_BLOCK_CYCLIC) ? IIO_BUFFER_DMABUF_CYCLIC : 0,
		.bytes_used = bytes,
	};
	int ret = izc_ioctl(s->buf_fd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, &req);

	if (ret < 0)
		return ret;
	b->parked = false;
	/* s's queue: b is already in it (prestart) or goes to its tail next. */
	izc_dmabuf_arm_fence(b);
	return 0;
}

/*
 * A disabled IIO buffer keeps what is enqueued on it until its next enable,
 * even after the DMABUF is detached and the buffer fd closed, and then sends
 * it; while it holds such a block it also stays in DMABUF mode, so a later
 * fileio user of the buffer waits forever. Blocks queued on a stopped stream
 * therefore stay here until izc_stream_start(), which submits them just
 * before it enables the buffer (a DAC still starts primed; an ADC loses
 * nothing before its first block).
 *
 * If that enable fails, they are in the disabled buffer, which the uapi
 * cannot take them back from: they stay parked until an enable succeeds
 * (a later izc_stream_start(), which must not submit them again), and
 * waiting for them could not end before that, so they dequeue as -ENOBUFS
 * like blocks not submitted yet.
 */
static int dmabuf_enqueue(struct izc_stream *s, struct izc_block *b, size_t bytes,
			  unsigned int flags)
{
	if (!s->running) {
		b->deferred = true;
		b->parked = false;
		return 0;
	}
	return dmabuf_submit(s, b, bytes, flags);
}

static int dmabuf_prestart(struct izc_stream *s)
{
	for (struct izc_block *b = s->qhead; b; b = b->next) {
		int ret;

		if (!b->deferred)
			continue;
		ret = dmabuf_submit(s, b, b->bytes_used, b->cyclic ? IZC_BLOCK_CYCLIC : 0);
		if (ret)
			return ret;
		b->deferred = false;
		b->parked = true; /* until the enable succeeds */
	}
	return 0;
}

static int dmabuf_start(struct izc_stream *s)
{
	for (struct izc_block *b = s->qhead; b; b = b->next)
		b->parked = false;
	return 0;
}

/* A snapshot of every fence on the DMABUF, readers and writers: a sync file fd. */
static int export_fences(const struct izc_block *b)
{
	struct dma_buf_export_sync_file exp = {.flags = DMA_BUF_SYNC_WRITE, .fd = -1};
	int ret = izc_ioctl(b->dmabuf_fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp);

	return ret < 0 ? ret : exp.fd;
}

/*
 * The export must happen while the submission's fence is still pending: the
 * kernel leaves signalled fences out of an export, so a sync file exported
 * after completion holds only the kernel's signalled stub fence, which hides
 * the fence's error. The export below runs right after the ENQUEUE (or
 * FunctionFS TRANSFER) ioctl returned, and can still be too late:
 *
 *   - The export fails (EMFILE, ENOMEM): the outcome of this submission can
 *     never be known; it is reported as that error when the block completes,
 *     never as data. ENOTTY (kernels before 6.0, no EXPORT_SYNC_FILE) reads
 *     as success, as there is no fence status to read at all.
 *   - The export returns the stub: the fence was signalled before the
 *     export. Upstream buffer-dma signals a failed submission's fence with
 *     the error inside ENQUEUE, which still returns 0; a very fast transfer
 *     can also complete that early. fence_status() tells them apart where
 *     the uapi allows (see there).
 *
 * armed_ns is taken after the export, from the clock fence timestamps use
 * (CLOCK_MONOTONIC): no system call is added to a block's cycle.
 */
void izc_dmabuf_arm_fence(struct izc_block *b)
{
	struct timespec now;
	int fd;

	if (b->fence_fd >= 0)
		close(b->fence_fd);
	b->fence_fd = -1;
	b->fence_err = 0;
	b->seen_idle = false;
	fd = export_fences(b);
	clock_gettime(CLOCK_MONOTONIC, &now);
	b->armed_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	if (fd < 0)
		b->fence_err = fd == -ENOTTY ? 0 : fd;
	else
		b->fence_fd = fd;
}

/* Fences one status read describes; a snapshot rarely has more than one. */
#define IZC_FENCE_INFO_MAX 8

/* fence_status() with may_pend: still active, the sync file kept for later. */
#define IZC_FENCE_PENDING 1

/*
 * The outcome of the fences on a DMABUF that poll() reported idle: 0, or the
 * (negative) error a device set on its fence.
 *
 * order: the stream b was dequeued from in queue order, or NULL (FunctionFS
 * transfers, relays). Devices complete a stream's blocks in queue order, so
 * when the snapshot is the stub (b was signalled before its export) and the
 * block dequeued before b was signalled after that export, b cannot have
 * completed normally: its submission failed, and as its errno is lost it is
 * reported as -EIO. Otherwise the two cases cannot be told apart through
 * the uapi: b takes the outcome of the last block completed on the stream,
 * -EIO after an error (a device that fails keeps failing), else success (a
 * false error would throw away good data).
 *
 * may_pend: b was not seen idle; unless its sync file says the fence is
 * signalled, return IZC_FENCE_PENDING and keep the sync file for the
 * status read after the wait (nothing is reported for a block the device
 * may still be working on).
 */
static int fence_status(struct izc_block *b, struct izc_stream *order, bool may_pend)
{
	struct sync_fence_info fi[IZC_FENCE_INFO_MAX];
	struct sync_file_info info = {
		.num_fences = IZC_FENCE_INFO_MAX,
		.sync_fence_info = (__u64)(uintptr_t)fi,
	};
	int fd = b->fence_fd, err = b->fence_err, ret;
	uint64_t signalled_ns = 0;

	b->fence_fd = -1;
	b->fence_err = 0;
	if (err < 0) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (fd < 0)
		fd = export_fences(b);
	if (fd < 0)
		return fd == -ENOTTY ? 0 : fd;
	memset(fi, 0, sizeof(fi));
	ret = izc_ioctl(fd, SYNC_IOC_FILE_INFO, &info);
	if (ret == -EINVAL) {
		/* More fences than fi holds: the status alone. */
		info = (struct sync_file_info){.num_fences = 0};
		ret = izc_ioctl(fd, SYNC_IOC_FILE_INFO, &info);
	}
	if (may_pend && (ret < 0 || info.status == 0)) {
		b->fence_fd = fd;
		return IZC_FENCE_PENDING;
	}
	close(fd);
	if (ret < 0)
		return ret;
	if (info.num_fences == 1 && info.sync_fence_info && !strcmp(fi[0].driver_name, "stub")) {
		if (order && (order->last_signal_ns > b->armed_ns || order->last_status < 0))
			return -EIO;
		return 0;
	}
	if (info.status < 0)
		return info.status;
	/* 0: a fence is still active, someone queued the buffer again. */
	if (info.status != 1)
		return -EBUSY;
	for (unsigned int i = 0; info.sync_fence_info && i < info.num_fences; i++)
		if (fi[i].timestamp_ns > signalled_ns)
			signalled_ns = fi[i].timestamp_ns;
	if (order && signalled_ns)
		order->last_signal_ns = signalled_ns;
	return 0;
}

int izc_dmabuf_wait(struct izc_stream *s, struct izc_block *b, int timeout_ms)
{
	int ret = izc_stream_poll(s, b->dmabuf_fd, POLLOUT, timeout_ms);

	return ret ? ret : fence_status(b, NULL, false);
}

/* Blocks one poll() looks at: the head of the queue and those behind it. */
#define IZC_POLL_BATCH 32

/*
 * Wait for b, the head of s's queue. One poll() covers the blocks queued
 * behind it too, and those found complete are remembered: their fences stay
 * signalled until the library submits them again, so a reader that fell
 * behind takes a run of completed blocks with one poll() instead of one each.
 *
 * The fence status has to be read anyway, and it says whether the fence is
 * still active: while the device is ahead of the reader (the last poll()
 * found blocks complete behind the head, or no poll() was needed), it is
 * read first and the poll() is left out for blocks already complete, one
 * system call less per block. Once a block is found still active, poll()
 * goes first again: a reader that waits for the device would otherwise
 * read every status twice.
 */
static int dmabuf_complete(struct izc_stream *s, struct izc_block *b, int timeout_ms, int *status)
{
	if (b->deferred || b->parked)
		return -ENOBUFS; /* waits for izc_stream_start() */
	/* Only an armed sync file can tell: an arm error waits its turn. */
	if (!b->seen_idle && !s->dmabuf_wait_first && b->fence_fd >= 0) {
		int ret = fence_status(b, s, true);

		if (ret != IZC_FENCE_PENDING) {
			*status = ret;
			return 0;
		}
		s->dmabuf_wait_first = true;
	}
	if (!b->seen_idle) {
		long long deadline = izc_deadline(timeout_ms);
		struct pollfd pfd[IZC_POLL_BATCH + 1];
		struct izc_block *q[IZC_POLL_BATCH] = {b};
		unsigned int n = 1;

		while (n < IZC_POLL_BATCH && q[n - 1]->next) {
			q[n] = q[n - 1]->next;
			n++;
		}
		for (;;) {
			int ret;

			for (unsigned int i = 0; i < n; i++)
				pfd[i] = (struct pollfd){.fd = q[i]->dmabuf_fd, .events = POLLOUT};
			ret = izc_stream_poll_many(s, pfd, n, izc_timeout_left(deadline));
			if (ret)
				return ret;
			for (unsigned int i = 0; i < n; i++)
				if (pfd[i].revents & POLLOUT)
					q[i]->seen_idle = true;
			if (n > 1 && q[1]->seen_idle)
				s->dmabuf_wait_first = false;
			if (b->seen_idle)
				break;
			/*
			 * Only blocks behind the head are done (upstream signals a
			 * submission its driver refused inside ENQUEUE): they are
			 * remembered and stay done, so wait for the head alone.
			 */
			n = 1;
		}
	}
	b->seen_idle = false;
	*status = fence_status(b, s, false);
	return 0;
}

static unsigned long long sync_flags(unsigned int access)
{
	unsigned long long f = 0;

	if (access & IZC_ACCESS_READ)
		f |= DMA_BUF_SYNC_READ;
	if (access & IZC_ACCESS_WRITE)
		f |= DMA_BUF_SYNC_WRITE;
	return f;
}

static int dmabuf_cpu_begin(struct izc_block *b, unsigned int access, void **data)
{
	struct dma_buf_sync sync = {.flags = DMA_BUF_SYNC_START | sync_flags(access)};
	int ret;

	if (!b->map) {
		void *p = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, b->dmabuf_fd, 0);

		if (p == MAP_FAILED)
			return -errno;
		b->map = p;
	}
	ret = izc_ioctl(b->dmabuf_fd, DMA_BUF_IOCTL_SYNC, &sync);
	if (ret < 0)
		return ret;
	b->cpu_access = access;
	*data = b->map;
	return 0;
}

static int dmabuf_cpu_end(struct izc_block *b)
{
	struct dma_buf_sync sync = {.flags = DMA_BUF_SYNC_END | sync_flags(b->cpu_access)};
	int ret = izc_ioctl(b->dmabuf_fd, DMA_BUF_IOCTL_SYNC, &sync);

	if (ret < 0)
		return ret;
	b->cpu_access = 0;
	return 0;
}

const struct izc_backend_ops izc_dmabuf_ops = {
	.kind = IZC_BACKEND_DMABUF,
	.setup = dmabuf_setup,
	.teardown = dmabuf_teardown,
	.enqueue = dmabuf_enqueue,
	.prestart = dmabuf_prestart,
	.start = dmabuf_start,
	.complete = dmabuf_complete,
	.cpu_begin = dmabuf_cpu_begin,
	.cpu_end = dmabuf_cpu_end,
};
