// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stream core: opening a buffer, choosing the backend (DMABUF, with the
 * fallback to fileio), block ownership and the queue, waiting with timeout
 * and cancellation.
 *
 * A block is held by exactly one party at a time:
 *   IDLE    the library (never handed out, or taken back after an error)
 *   APP     the application (after izc_stream_dequeue())
 *   QUEUED  a device, and then it sits in the FIFO of the stream it was
 *           enqueued on (its own, or another one for a relay)
 * Devices complete blocks in the order they were queued, so a stream only
 * ever waits for the head of its FIFO.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* 6.11+ for the DMABUF ioctls; lib/Makefile checks and says what to do. */
#include <linux/iio/buffer.h>

#include "internal.h"

#define IZC_MAX_BLOCKS 4096

long long izc_deadline(int timeout_ms)
{
	struct timespec ts;

	if (timeout_ms < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec + (long long)timeout_ms * 1000000LL;
}

int izc_timeout_left(long long deadline_ns)
{
	struct timespec ts;
	long long now, left;

	if (deadline_ns < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (now >= deadline_ns)
		return 0;
	left = (deadline_ns - now + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}

size_t izc_round_up(size_t size, size_t align)
{
	if (size > SIZE_MAX - (align - 1))
		return 0;
	return (size + align - 1) / align * align;
}

size_t izc_page_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 ? (size_t)page : 4096;
}

int izc_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

int izc_stream_poll_many(struct izc_stream *s, struct pollfd *pfd, unsigned int n, int timeout_ms)
{
	long long deadline = izc_deadline(timeout_ms);

	pfd[n].fd = s->cancel_fd;
	pfd[n].events = POLLIN;
	for (;;) {
		int ready = poll(pfd, n + 1, izc_timeout_left(deadline));

		if (ready < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[0].revents & pfd[0].events)
			return 0;
		/*
		 * Another entry's state does not change by polling again: poll()
		 * would return at once, forever. The caller decides.
		 */
		for (unsigned int i = 1; i < n; i++)
			if (pfd[i].revents)
				return 0;
		if (pfd[n].revents & POLLIN) {
			uint64_t v;

			/* EFD_SEMAPHORE: consumes one cancel. */
			if (read(s->cancel_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
				return -ECANCELED;
			continue;
		}
		if (pfd[0].revents & POLLNVAL)
			return -EBADF;
		if (pfd[0].revents & (POLLERR | POLLHUP))
			return -EIO;
		if (ready == 0)
			return -ETIMEDOUT;
	}
}

int izc_stream_poll(struct izc_stream *s, int fd, short events, int timeout_ms)
{
	struct pollfd pfd[2] = {{.fd = fd, .events = events}};

	return izc_stream_poll_many(s, pfd, 1, timeout_ms);
}

/* ---- queue ---- */

static void queue_push(struct izc_stream *s, struct izc_block *b)
{
	b->next = NULL;
	b->queued_in = s;
	b->state = IZC_BLOCK_QUEUED;
	if (s->qtail)
		s->qtail->next = b;
	else
		s->qhead = b;
	s->qtail = b;
}

static void queue_pop(struct izc_stream *s)
{
	struct izc_block *b = s->qhead;

	s->qhead = b->next;
	if (!s->qhead)
		s->qtail = NULL;
	b->next = NULL;
	b->queued_in = NULL;
	b->deferred = false;
	b->parked = false;
}

static void queue_unlink(struct izc_stream *s, struct izc_block *b)
{
	struct izc_block **pp = &s->qhead, *prev = NULL;

	while (*pp && *pp != b) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = b->next;
	if (s->qtail == b)
		s->qtail = prev;
	b->next = NULL;
	b->queued_in = NULL;
	b->deferred = false;
	b->parked = false;
	b->state = IZC_BLOCK_IDLE;
}

/* ---- open / close ---- */

/* The errno values with which a kernel or driver says "no DMABUF here". */
static bool dmabuf_unsupported(int err)
{
	switch (err) {
	case -EPERM:  /* buffer without DMABUF ops (e.g. kfifo) */
	case -ENODEV: /* no device behind the ioctl / heap */
	case -ENOTTY: /* kernel without the ioctls (mainline 5.11-6.10: no handler) */
	case -EINVAL: /* a buffer ioctl handler without them (6.11+, vendor trees) */
	case -ENOENT: /* no /dev/dma_heap/system or /dev/udmabuf */
		return true;
	default:
		return false;
	}
}

static int snapshot_channels(struct izc_stream *s)
{
	struct izc_scan_type *types;
	struct izc_buffer *buf = s->buf;
	int ret = 0;

	if (!buf->nchannels)
		return -EINVAL;
	s->enabled = calloc(buf->nchannels, sizeof(*s->enabled));
	s->offsets = calloc(buf->nchannels, sizeof(*s->offsets));
	types = calloc(buf->nchannels, sizeof(*types));
	if (!s->enabled || !s->offsets || !types) {
		free(types);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < buf->nchannels; i++) {
		ret = izc_channel_enabled(&buf->channels[i]);
		if (ret < 0)
			break;
		if (ret) {
			s->enabled[s->nenabled] = &buf->channels[i];
			types[s->nenabled++] = buf->channels[i].type;
		}
		ret = 0;
	}
	if (!ret)
		ret = izc_scan_layout(types, s->nenabled, s->offsets, &s->frame_size);
	free(types);
	return ret;
}

static int get_buffer_fd(struct izc_stream *s, unsigned int index)
{
	int fd = (int)index;

	if (ioctl(s->dev_fd, IIO_BUFFER_GET_FD_IOCTL, &fd) == 0) {
		s->buf_fd = fd;
		return 0;
	}
	if ((errno == ENOTTY || errno == EINVAL) && index == 0) {
		/* Before 5.11: no buffer fds, buffer 0 is read on the device node. */
		s->buf_fd = s->dev_fd;
		return -ENOTTY;
	}
	return -errno;
}

/* ---- relay peers ---- */

/* 1 if p was added to s's peers, 0 if it was there already, or -ENOMEM. */
static int peer_add(struct izc_stream *s, struct izc_stream *p)
{
	for (unsigned int i = 0; i < s->npeers; i++)
		if (s->peers[i] == p)
			return 0;
	if (s->npeers == s->peers_cap) {
		unsigned int cap = s->peers_cap ? s->peers_cap * 2 : 4;
		struct izc_stream **tmp = realloc(s->peers, cap * sizeof(*tmp));

		if (!tmp)
			return -ENOMEM;
		s->peers = tmp;
		s->peers_cap = cap;
	}
	s->peers[s->npeers++] = p;
	return 1;
}

static void peer_remove(struct izc_stream *s, const struct izc_stream *p)
{
	for (unsigned int i = 0; i < s->npeers; i++) {
		if (s->peers[i] == p) {
			s->peers[i] = s->peers[--s->npeers];
			return;
		}
	}
}

/*
 * s is closing: the buffers of streams s relayed to hold attachments of s's
 * DMABUFs, each a reference that would keep the DMABUF (its memory) alive
 * until that stream closes. Detach them. Attachments of other streams'
 * blocks on s's buffer go when s's buffer fd is closed.
 */
static void peers_release(struct izc_stream *s)
{
	for (unsigned int i = 0; i < s->npeers; i++) {
		struct izc_stream *p = s->peers[i];

		if (s->ops && s->ops->kind == IZC_BACKEND_DMABUF && p->ops &&
		    p->ops->kind == IZC_BACKEND_DMABUF)
			izc_dmabuf_detach_owner(p, s);
		peer_remove(p, s);
	}
	s->npeers = 0;
}

/*
 * Put back the buffer's length and watermark as they were before the
 * stream (the buffer is disabled by now). length first: the kernel clamps
 * the watermark to a smaller length and refuses a watermark above it.
 */
static void restore_buffer(struct izc_stream *s)
{
	if (s->saved_length > 0)
		izc_buffer_attr_write_ll(s->buf, "length", s->saved_length);
	if (s->saved_watermark > 0)
		izc_buffer_attr_write_ll(s->buf, "watermark", s->saved_watermark);
}

static void free_stream(struct izc_stream *s)
{
	if (s->blocks && s->ops)
		s->ops->teardown(s);
	if (s->buf_fd >= 0 && s->buf_fd != s->dev_fd)
		close(s->buf_fd);
	if (s->dev_fd >= 0)
		close(s->dev_fd);
	restore_buffer(s);
	if (s->cancel_fd >= 0)
		close(s->cancel_fd);
	free(s->blocks);
	free(s->enabled);
	free(s->offsets);
	free(s->attached);
	free(s->peers);
	free(s);
}

static int init_blocks(struct izc_stream *s)
{
	s->blocks = calloc(s->nblocks, sizeof(*s->blocks));
	if (!s->blocks)
		return -ENOMEM;
	for (unsigned int i = 0; i < s->nblocks; i++) {
		struct izc_block *b = &s->blocks[i];

		b->stream = s;
		b->index = i;
		b->state = IZC_BLOCK_IDLE;
		b->size = s->block_size;
		b->dmabuf_fd = -1;
		b->fence_fd = -1;
	}
	return 0;
}

static int setup_backend(struct izc_stream *s, bool try_dmabuf)
{
	if (try_dmabuf) {
		int ret;

		s->ops = &izc_dmabuf_ops;
		ret = s->ops->setup(s);
		if (!ret)
			return 0;
		s->ops->teardown(s);
		if ((s->flags & IZC_STREAM_NO_FALLBACK) || !dmabuf_unsupported(ret))
			return ret;
		s->fallback_reason = ret;
	}
	s->ops = &izc_fileio_ops;
	return s->ops->setup(s);
}

IZC_EXPORT int izc_stream_open(struct izc_device *dev, unsigned int buffer_index,
			       enum izc_direction dir, unsigned int nblocks, size_t block_size,
			       unsigned int flags, struct izc_stream **out)
{
	const unsigned int known = IZC_STREAM_UDMABUF | IZC_STREAM_FILEIO | IZC_STREAM_NO_FALLBACK;
	unsigned long long frames;
	bool try_dmabuf;
	struct izc_stream *s;
	int ret;

	if (!dev || !out || !nblocks || nblocks > IZC_MAX_BLOCKS || !block_size ||
	    block_size > SIZE_MAX / nblocks || (flags & ~known) ||
	    /* Either backend's rounding of the block size must not wrap. */
	    !izc_round_up(block_size, izc_page_size()) ||
	    !izc_round_up(block_size, IZC_FILEIO_ALIGN) ||
	    (dir != IZC_DIR_IN && dir != IZC_DIR_OUT) ||
	    ((flags & IZC_STREAM_FILEIO) && (flags & IZC_STREAM_NO_FALLBACK)))
		return -EINVAL;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	s->dir = dir;
	s->flags = flags;
	s->nblocks = nblocks;
	s->block_size = block_size;
	s->dev_fd = s->buf_fd = s->cancel_fd = -1;
	s->saved_length = s->saved_watermark = -1;

	ret = izc_device_get_buffer(dev, buffer_index, &s->buf);
	if (ret)
		goto err_free;
	if (s->buf->dir != dir) {
		ret = -EINVAL;
		goto err_free;
	}
	ret = izc_buffer_enabled(s->buf);
	if (ret < 0)
		goto err_free;
	if (ret) {
		ret = -EBUSY;
		goto err_free;
	}
	ret = snapshot_channels(s);
	if (ret)
		goto err_free;
	if (block_size % s->frame_size) {
		ret = -EINVAL;
		goto err_free;
	}

	s->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
	if (s->cancel_fd < 0) {
		ret = -errno;
		goto err_free;
	}
	s->dev_fd = open(dev->node, O_RDWR | O_CLOEXEC);
	if (s->dev_fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = get_buffer_fd(s, buffer_index);
	if (!ret) {
		/*
		 * The device node is exclusive (EBUSY for everyone else while it
		 * is open); the buffer fd holds its own reference to the device
		 * and its own busy bit, and needs nothing else from the node.
		 */
		close(s->dev_fd);
		s->dev_fd = -1;
	}
	try_dmabuf = !(flags & IZC_STREAM_FILEIO);
	if (ret == -ENOTTY) {
		if (try_dmabuf && (flags & IZC_STREAM_NO_FALLBACK))
			goto err_free;
		if (try_dmabuf)
			s->fallback_reason = ret;
		try_dmabuf = false;
	} else if (ret) {
		goto err_free;
	}

	/*
	 * length counts frames. fileio: the kernel buffer holds all blocks'
	 * worth and wakes us (watermark) once a block's worth is there.
	 * DMABUF: the data lives in our blocks, length is only the kernel's
	 * bookkeeping (upstream's DMA buffer allocates nothing for it while
	 * DMABUFs are attached); set it to the same amount so that it is true.
	 * length goes first: the kernel rejects a watermark above length.
	 */
	frames = (unsigned long long)nblocks * (block_size / s->frame_size);
	if (izc_buffer_attr_read_ll(s->buf, "length", &s->saved_length))
		s->saved_length = -1;
	ret = izc_buffer_set_length(s->buf, frames);
	if (ret) {
		s->saved_length = -1;
		goto err_free;
	}

	ret = init_blocks(s);
	if (ret)
		goto err_free;
	ret = setup_backend(s, try_dmabuf);
	if (ret)
		goto err_free;
	if (s->ops->kind == IZC_BACKEND_FILEIO) {
		if (izc_buffer_attr_read_ll(s->buf, "watermark", &s->saved_watermark))
			s->saved_watermark = -1;
		ret = izc_buffer_set_watermark(s->buf, block_size / s->frame_size);
		if (ret)
			goto err_free;
	}
	*out = s;
	return 0;

err_free:
	free_stream(s);
	return ret;
}

IZC_EXPORT void izc_stream_close(struct izc_stream *s)
{
	if (!s)
		return;
	if (s->running)
		izc_stream_stop(s);
	/* Our blocks relayed elsewhere leave those queues; foreign ones leave ours. */
	for (unsigned int i = 0; i < s->nblocks; i++) {
		struct izc_block *b = &s->blocks[i];

		if (b->queued_in && b->queued_in != s)
			queue_unlink(b->queued_in, b);
	}
	while (s->qhead) {
		struct izc_block *b = s->qhead;

		queue_pop(s);
		b->state = IZC_BLOCK_IDLE;
	}
	peers_release(s);
	free_stream(s);
}

IZC_EXPORT enum izc_backend izc_stream_backend(const struct izc_stream *s)
{
	return s->ops->kind;
}

IZC_EXPORT const char *izc_backend_name(enum izc_backend backend)
{
	switch (backend) {
	case IZC_BACKEND_DMABUF:
		return "dmabuf";
	case IZC_BACKEND_FILEIO:
		return "fileio";
	}
	return "unknown";
}

IZC_EXPORT int izc_stream_fallback_reason(const struct izc_stream *s)
{
	return s ? s->fallback_reason : -EINVAL;
}

IZC_EXPORT enum izc_direction izc_stream_direction(const struct izc_stream *s)
{
	return s->dir;
}

IZC_EXPORT unsigned int izc_stream_block_count(const struct izc_stream *s)
{
	return s->nblocks;
}

IZC_EXPORT size_t izc_stream_block_size(const struct izc_stream *s)
{
	return s->block_size;
}

IZC_EXPORT size_t izc_stream_frame_size(const struct izc_stream *s)
{
	return s->frame_size;
}

IZC_EXPORT int izc_stream_channel_offset(const struct izc_stream *s, const struct izc_channel *ch,
					 size_t *offset)
{
	if (!s || !ch || !offset)
		return -EINVAL;
	for (unsigned int i = 0; i < s->nenabled; i++) {
		if (s->enabled[i] == ch) {
			*offset = s->offsets[i];
			return 0;
		}
	}
	return -ENOENT;
}

IZC_EXPORT int izc_stream_get_block(const struct izc_stream *s, unsigned int index,
				    struct izc_block **block)
{
	if (!s || !block || index >= s->nblocks)
		return -EINVAL;
	*block = &s->blocks[index];
	return 0;
}

/* ---- running ---- */

static int enqueue_on(struct izc_stream *s, struct izc_block *b, size_t bytes, unsigned int flags)
{
	int ret = s->ops->enqueue(s, b, bytes, flags);

	if (ret)
		return ret;
	b->bytes_used = bytes;
	b->cyclic = flags & IZC_BLOCK_CYCLIC;
	queue_push(s, b);
	return 0;
}

/* Input: every block the library holds goes (back) to the device. */
static int requeue_idle(struct izc_stream *s)
{
	for (unsigned int i = 0; i < s->nblocks; i++) {
		struct izc_block *b = &s->blocks[i];

		if (b->state == IZC_BLOCK_IDLE) {
			int ret = enqueue_on(s, b, b->size, 0);

			if (ret)
				return ret;
		}
	}
	return 0;
}

IZC_EXPORT int izc_stream_start(struct izc_stream *s)
{
	int ret;

	if (!s)
		return -EINVAL;
	if (s->running)
		return 0;
	if (s->dir == IZC_DIR_IN) {
		ret = requeue_idle(s);
		if (ret)
			return ret;
	}
	if (s->ops->prestart) {
		ret = s->ops->prestart(s);
		if (ret)
			return ret;
	}
	ret = izc_buffer_set_enabled(s->buf, true);
	if (ret)
		return ret;
	s->running = true;
	return s->ops->start ? s->ops->start(s) : 0;
}

IZC_EXPORT int izc_stream_stop(struct izc_stream *s)
{
	int ret;

	if (!s)
		return -EINVAL;
	if (!s->running)
		return 0;
	ret = izc_buffer_set_enabled(s->buf, false);
	if (ret)
		return ret;
	s->running = false;
	return 0;
}

/*
 * The outcome of the last block completed, which the DMABUF backend
 * extrapolates to a block whose fence it could not read (a device that
 * failed keeps failing). A block a stop aborted (-EINTR: what upstream's
 * and our DMA buffers put on aborted fences, and fileio's abort) says
 * nothing about the device: recorded, it would turn the next run's early
 * completions into -EIO, even after the restart.
 */
static void note_status(struct izc_stream *s, int status)
{
	if (status != -EINTR)
		s->last_status = status;
}

IZC_EXPORT int izc_stream_dequeue(struct izc_stream *s, int timeout_ms, struct izc_block **block)
{
	struct izc_block *b;
	int ret, status = 0;

	if (!s || !block)
		return -EINVAL;
	if (s->dir == IZC_DIR_OUT) {
		for (unsigned int i = 0; i < s->nblocks; i++) {
			b = &s->blocks[i];
			if (b->state == IZC_BLOCK_IDLE) {
				b->state = IZC_BLOCK_APP;
				b->bytes_used = 0;
				*block = b;
				return 0;
			}
		}
	} else if (s->running) {
		ret = requeue_idle(s);
		if (ret)
			return ret;
	}

	b = s->qhead;
	if (!b)
		return -ENOBUFS;
	ret = s->ops->complete(s, b, timeout_ms, &status);
	if (ret)
		return ret; /* still queued: timeout, cancel, wait failure */
	queue_pop(s);
	note_status(s, status);
	if (status < 0) {
		/* Aborted or failed: never handed out as data. */
		b->state = IZC_BLOCK_IDLE;
		return status;
	}
	b->state = IZC_BLOCK_APP;
	*block = b;
	return 0;
}

IZC_EXPORT int izc_stream_drain(struct izc_stream *s, int timeout_ms)
{
	long long deadline = izc_deadline(timeout_ms);
	int ret, first = 0;

	if (!s || s->dir != IZC_DIR_OUT)
		return -EINVAL;
	if (!s->running)
		return s->qhead ? -ENOBUFS : 0;
	if (s->qtail && s->qtail->cyclic)
		return -EBUSY;
	while (s->qhead) {
		struct izc_block *b = s->qhead;
		int status = 0;

		ret = s->ops->complete(s, b, izc_timeout_left(deadline), &status);
		if (ret)
			return ret;
		queue_pop(s);
		note_status(s, status);
		b->state = IZC_BLOCK_IDLE;
		if (status < 0 && !first)
			first = status;
	}
	if (s->ops->drain) {
		ret = s->ops->drain(s, deadline);
		if (ret)
			return ret;
	}
	return first;
}

IZC_EXPORT int izc_stream_cancel(struct izc_stream *s)
{
	uint64_t one = 1;

	if (!s)
		return -EINVAL;
	if (write(s->cancel_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		return -errno;
	return 0;
}

/* ---- blocks ---- */

IZC_EXPORT struct izc_stream *izc_block_stream(const struct izc_block *b)
{
	return b->stream;
}

IZC_EXPORT unsigned int izc_block_index(const struct izc_block *b)
{
	return b->index;
}

IZC_EXPORT size_t izc_block_size(const struct izc_block *b)
{
	return b->size;
}

IZC_EXPORT size_t izc_block_bytes_used(const struct izc_block *b)
{
	return b->bytes_used;
}

static int check_held(const struct izc_block *b)
{
	/* IDLE blocks may be filled and queued by hand before start. */
	return b->state == IZC_BLOCK_QUEUED ? -EBUSY : 0;
}

IZC_EXPORT int izc_block_enqueue(struct izc_block *b, size_t bytes_used, unsigned int flags)
{
	struct izc_stream *s;
	int ret;

	if (!b || (flags & ~IZC_BLOCK_CYCLIC) || bytes_used > b->size)
		return -EINVAL;
	s = b->stream;
	ret = check_held(b);
	if (ret)
		return ret;
	if (flags & IZC_BLOCK_CYCLIC) {
		if (s->dir != IZC_DIR_OUT)
			return -EINVAL;
		if (s->ops->kind != IZC_BACKEND_DMABUF)
			return -EOPNOTSUPP;
	}
	if (!bytes_used)
		bytes_used = b->size;
	if (b->cpu_access) {
		ret = s->ops->cpu_end(b);
		if (ret)
			return ret;
	}
	return enqueue_on(s, b, bytes_used, flags);
}

IZC_EXPORT int izc_block_cpu_begin(struct izc_block *b, unsigned int access, void **data)
{
	int ret;

	if (!b || !data || !access || (access & ~(IZC_ACCESS_READ | IZC_ACCESS_WRITE)))
		return -EINVAL;
	ret = check_held(b);
	if (ret)
		return ret;
	if (b->cpu_access) {
		if (b->cpu_access != access)
			return -EBUSY;
		*data = b->map ? b->map : b->mem;
		return 0;
	}
	return b->stream->ops->cpu_begin(b, access, data);
}

IZC_EXPORT int izc_block_cpu_end(struct izc_block *b)
{
	if (!b)
		return -EINVAL;
	if (!b->cpu_access)
		return 0;
	return b->stream->ops->cpu_end(b);
}

IZC_EXPORT int izc_block_relay(struct izc_block *b, struct izc_stream *other, size_t bytes_used)
{
	int ret;

	if (!b || !other || bytes_used > b->size)
		return -EINVAL;
	ret = check_held(b);
	if (ret)
		return ret;
	if (b->stream->ops->kind != IZC_BACKEND_DMABUF || other->ops->kind != IZC_BACKEND_DMABUF)
		return -EOPNOTSUPP;
	if (!bytes_used)
		bytes_used = b->bytes_used ? b->bytes_used : b->size;
	if (b->cpu_access) {
		ret = b->stream->ops->cpu_end(b);
		if (ret)
			return ret;
	}
	if (other != b->stream) {
		/*
		 * Both remember the link, so that either's close can undo it.
		 * A link only one side knows would leave the other a dangling
		 * pointer once the side that does not know closes.
		 */
		ret = peer_add(b->stream, other);
		if (ret >= 0) {
			int added = ret;

			ret = peer_add(other, b->stream);
			if (ret < 0 && added)
				peer_remove(b->stream, other);
		}
		if (ret >= 0)
			ret = izc_dmabuf_attach_cached(other, b);
		if (ret < 0)
			return ret;
	}
	return enqueue_on(other, b, bytes_used, 0);
}

IZC_EXPORT int izc_block_dmabuf_fd(const struct izc_block *b)
{
	if (!b)
		return -EINVAL;
	if (b->stream->ops->kind != IZC_BACKEND_DMABUF)
		return -EOPNOTSUPP;
	return b->dmabuf_fd;
}

IZC_EXPORT int izc_block_wait(struct izc_block *b, int timeout_ms)
{
	int ret;

	if (!b)
		return -EINVAL;
	ret = check_held(b);
	if (ret)
		return ret;
	if (b->stream->ops->kind != IZC_BACKEND_DMABUF)
		return 0;
	return izc_dmabuf_wait(b->stream, b, timeout_ms);
}
