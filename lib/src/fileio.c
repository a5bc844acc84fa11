// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fileio backend: blocks are plain memory moved with read() (input) and
 * write() (output) on the buffer fd, for buffers or kernels without DMABUF.
 * The fd is non-blocking; waits go through poll() so that timeouts and
 * izc_stream_cancel() work as for DMABUF.
 *
 * Input: enqueue only marks the block; the read happens when it is waited
 * for, and a timeout keeps what was read so far. Output: enqueue writes the
 * block at once while the stream runs; before izc_stream_start() the data
 * waits in the block and is written when the buffer is enabled. Output
 * blocks always go out whole (zero padded): a block DMA buffer holds a
 * partly written block back until more data fills it, so a short last block
 * would never play.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int fileio_setup(struct izc_stream *s)
{
	int fl = fcntl(s->buf_fd, F_GETFL);

	if (fl < 0 || fcntl(s->buf_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	for (unsigned int i = 0; i < s->nblocks; i++) {
		struct izc_block *b = &s->blocks[i];
		/* aligned_alloc() wants a multiple; izc_stream_open() checked it fits. */
		size_t size = izc_round_up(b->size, IZC_FILEIO_ALIGN);

		b->mem = aligned_alloc(IZC_FILEIO_ALIGN, size);
		if (!b->mem)
			return -ENOMEM;
	}
	return 0;
}

static void fileio_teardown(struct izc_stream *s)
{
	for (unsigned int i = 0; i < s->nblocks; i++) {
		free(s->blocks[i].mem);
		s->blocks[i].mem = NULL;
	}
}

/* EIOs in a row after which write() is taken to fail for good. */
#define IZC_FILEIO_EIO_MAX 256

/* transfer(), input: read() said EIO, a hole in the data (not an errno). */
#define IZC_FILEIO_HOLE 1

/*
 * Moves the rest of b (from b->fill to its end) within the deadline.
 *
 * EIO from read() or write() is the kernel telling that a DMA transfer
 * failed: input, the data stops in front of the hole, so b cannot be whole
 * and the caller drops it (IZC_FILEIO_HOLE); output, what an earlier
 * write() handed over never went out, which the next completing block
 * reports (as DMABUF output reports a failed block), while b's own data
 * still goes. Other errors, a wait's -EIO included, are returned as such.
 */
static int transfer(struct izc_stream *s, struct izc_block *b, long long deadline)
{
	bool in = s->dir == IZC_DIR_IN;
	size_t end = in ? b->bytes_used : b->size;
	char *mem = b->mem;
	unsigned int eio = 0;

	while (b->fill < end) {
		size_t left = end - b->fill;
		ssize_t n = in ? read(s->buf_fd, mem + b->fill, left)
			       : write(s->buf_fd, mem + b->fill, left);
		int ret;

		if (n > 0) {
			b->fill += (size_t)n;
			eio = 0;
			continue;
		}
		if (n == 0)
			return -ENODATA; /* no channel enabled: nothing will ever come */
		if (errno == EINTR)
			continue;
		if (errno == EIO && in)
			return IZC_FILEIO_HOLE;
		if (errno == EIO && ++eio < IZC_FILEIO_EIO_MAX) {
			s->fileio_lost = -EIO;
			continue;
		}
		if (errno != EAGAIN)
			return -errno;
		ret = izc_stream_poll(s, s->buf_fd, in ? POLLIN : POLLOUT,
				      izc_timeout_left(deadline));
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Output: a block is written whole (b->fill reaches b->size) before the
 * next one. Blocks ahead of b that are not (an enqueue cut short, below, or
 * writes at start that failed) are finished first, so that the device gets
 * the data in queue order; if that fails, nothing of b went and b stays the
 * application's.
 */
static int fileio_enqueue(struct izc_stream *s, struct izc_block *b, size_t bytes,
			  unsigned int flags)
{
	int ret;

	(void)flags; /* cyclic was refused by the core */
	b->fill = 0;
	b->cut = false;
	if (s->dir == IZC_DIR_IN)
		return 0;
	memset((char *)b->mem + bytes, 0, b->size - bytes);
	if (!s->running)
		return 0;
	for (struct izc_block *q = s->qhead; q; q = q->next) {
		ret = transfer(s, q, izc_deadline(-1));
		if (ret)
			return ret;
	}
	ret = transfer(s, b, izc_deadline(-1));
	if (!ret || !b->fill) {
		if (ret)
			b->fill = 0;
		return ret;
	}
	/*
	 * Part of b is in the kernel's data: handing b back would send that
	 * part twice when it is enqueued again, or shift everything after it
	 * if it were dropped. So b is queued (the rest goes with the next
	 * enqueue, dequeue or drain, which also report a persistent error),
	 * and a cancel that cut the write short is put back for the caller's
	 * next wait, which is the one it meant to end.
	 */
	if (ret == -ECANCELED)
		izc_stream_cancel(s);
	return 0;
}

/*
 * Input: the kernel buffer's data after an enable is a new run, so a block
 * partly read before the stop cannot be completed from it (its data would
 * span the gap); it dequeues as aborted instead. Marked before the enable:
 * even one that fails may have reset the kernel buffer.
 */
static int fileio_prestart(struct izc_stream *s)
{
	for (struct izc_block *b = s->qhead; s->dir == IZC_DIR_IN && b; b = b->next) {
		if (b->fill) {
			b->fill = 0;
			b->cut = true;
		}
	}
	return 0;
}

static int fileio_start(struct izc_stream *s)
{
	s->fileio_lost = 0; /* the kernel forgets failures at disable too */
	if (s->dir == IZC_DIR_OUT) {
		/* Nothing written yet: the level izc_stream_drain() returns to. */
		int ret = izc_buffer_attr_read_ll(s->buf, "data_available", &s->fileio_idle);

		if (ret)
			s->fileio_idle = -1;
	}
	/* Output blocks queued before the buffer was enabled. */
	for (struct izc_block *b = s->qhead; s->dir == IZC_DIR_OUT && b; b = b->next) {
		int ret = transfer(s, b, izc_deadline(-1));

		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Input on a stopped stream: nothing more will arrive, so, as the kernel
 * does with DMABUF transfers at disable, a block completes with what the
 * buffer still holds or is aborted at once (-EINTR, the errno upstream's
 * DMA buffers put on aborted fences); its partial fill is dropped.
 */
static int fileio_complete(struct izc_stream *s, struct izc_block *b, int timeout_ms, int *status)
{
	int ret;

	*status = 0;
	if (s->dir == IZC_DIR_OUT && !s->running && b->fill < b->size)
		return -ENOBUFS; /* waits for izc_stream_start() */
	if (s->dir == IZC_DIR_OUT) {
		ret = transfer(s, b, izc_deadline(timeout_ms));
		if (!ret) {
			*status = s->fileio_lost;
			s->fileio_lost = 0;
		}
		return ret;
	}
	if (b->cut) {
		b->cut = false;
		*status = -EINTR;
		return 0;
	}
	if (s->running) {
		ret = transfer(s, b, izc_deadline(timeout_ms));
		if (ret != IZC_FILEIO_HOLE)
			return ret;
		/* b is dropped, the next block starts after the hole. */
		b->fill = 0;
		*status = -EIO;
		return 0;
	}
	ret = transfer(s, b, izc_deadline(0));
	if (ret == IZC_FILEIO_HOLE)
		ret = -EIO;
	if (ret == -ECANCELED)
		return ret;
	if (ret == -ETIMEDOUT || ret == -ENODATA || ret == -EBUSY)
		ret = -EINTR;
	*status = ret;
	return 0;
}

/*
 * write() returned once the data was in the kernel's blocks; they are sent
 * when data_available is back at its level from the start. Nothing signals
 * that moment (POLLOUT fires as soon as one block is free), so sample it.
 */
#define IZC_DRAIN_POLL_MS 2

static int fileio_drain(struct izc_stream *s, long long deadline)
{
	for (;;) {
		long long avail;
		int ret, left;

		if (s->fileio_idle < 0)
			return -EOPNOTSUPP; /* no data_available to watch */
		ret = izc_buffer_attr_read_ll(s->buf, "data_available", &avail);
		if (ret)
			return ret;
		if (avail == s->fileio_idle)
			return 0;
		left = izc_timeout_left(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		/* A cancellable sleep: fd -1 is never ready. */
		ret = izc_stream_poll(
			s, -1, 0, left < 0 || left > IZC_DRAIN_POLL_MS ? IZC_DRAIN_POLL_MS : left);
		if (ret != -ETIMEDOUT)
			return ret;
	}
}

static int fileio_cpu_begin(struct izc_block *b, unsigned int access, void **data)
{
	b->cpu_access = access;
	*data = b->mem;
	return 0;
}

static int fileio_cpu_end(struct izc_block *b)
{
	b->cpu_access = 0;
	return 0;
}

const struct izc_backend_ops izc_fileio_ops = {
	.kind = IZC_BACKEND_FILEIO,
	.setup = fileio_setup,
	.teardown = fileio_teardown,
	.enqueue = fileio_enqueue,
	.complete = fileio_complete,
	.prestart = fileio_prestart,
	.start = fileio_start,
	.drain = fileio_drain,
	.cpu_begin = fileio_cpu_begin,
	.cpu_end = fileio_cpu_end,
};
