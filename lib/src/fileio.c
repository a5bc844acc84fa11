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
 * waits in the block and is written when the buffer is enabled.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

#define IZC_FILEIO_ALIGN 64

static int fileio_setup(struct izc_stream *s)
{
	int fl = fcntl(s->buf_fd, F_GETFL);

	if (fl < 0 || fcntl(s->buf_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	for (unsigned int i = 0; i < s->nblocks; i++) {
		struct izc_block *b = &s->blocks[i];
		size_t size =
			(b->size + IZC_FILEIO_ALIGN - 1) / IZC_FILEIO_ALIGN * IZC_FILEIO_ALIGN;

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

/* Moves the rest of b (from b->fill to b->bytes_used) within the deadline. */
static int transfer(struct izc_stream *s, struct izc_block *b, long long deadline)
{
	bool in = s->dir == IZC_DIR_IN;
	char *mem = b->mem;

	while (b->fill < b->bytes_used) {
		size_t left = b->bytes_used - b->fill;
		ssize_t n = in ? read(s->buf_fd, mem + b->fill, left)
			       : write(s->buf_fd, mem + b->fill, left);
		int ret;

		if (n > 0) {
			b->fill += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ENODATA; /* no channel enabled: nothing will ever come */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		ret = izc_stream_poll(s, s->buf_fd, in ? POLLIN : POLLOUT,
				      izc_timeout_left(deadline));
		if (ret)
			return ret;
	}
	return 0;
}

/* Output: a block is written once b->fill reaches b->bytes_used. */
static int fileio_enqueue(struct izc_stream *s, struct izc_block *b, size_t bytes,
			  unsigned int flags)
{
	int ret;

	(void)flags; /* cyclic was refused by the core */
	b->fill = 0;
	if (s->dir == IZC_DIR_IN || !s->running)
		return 0;
	b->bytes_used = bytes;
	ret = transfer(s, b, izc_deadline(-1));
	if (ret)
		b->fill = 0; /* not queued; what was written is gone */
	return ret;
}

static int fileio_start(struct izc_stream *s)
{
	/* Output blocks queued before the buffer was enabled. */
	for (struct izc_block *b = s->qhead; s->dir == IZC_DIR_OUT && b; b = b->next) {
		int ret = transfer(s, b, izc_deadline(-1));

		if (ret)
			return ret;
	}
	return 0;
}

static int fileio_complete(struct izc_stream *s, struct izc_block *b, int timeout_ms, int *status)
{
	*status = 0;
	if (s->dir == IZC_DIR_OUT && !s->running && b->fill < b->bytes_used)
		return -ENOBUFS; /* waits for izc_stream_start() */
	return transfer(s, b, izc_deadline(timeout_ms));
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
	.start = fileio_start,
	.cpu_begin = fileio_cpu_begin,
	.cpu_end = fileio_cpu_end,
};
