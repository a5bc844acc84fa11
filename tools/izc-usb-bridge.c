// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * izc-usb-bridge: a USB gadget that streams an IIO buffer to a USB host
 * (bulk IN) and from it (bulk OUT), zero-copy where the kernel allows.
 *
 * It builds a configfs gadget with one FunctionFS function (see
 * izc-usb-bridge.h for descriptors and the control protocol), binds it to
 * a UDC and serves the host's vendor requests on ep0. A run moves IIO
 * blocks (libizc streams) to or from the USB endpoint:
 *  - DMABUF: the block's DMABUF is attached to both the IIO buffer and the
 *    FunctionFS endpoint and handed over with FUNCTIONFS_DMABUF_TRANSFER;
 *    the CPU never maps or syncs it;
 *  - copy: read() from the IIO buffer, write() to the endpoint (and the
 *    reverse), when DMABUF is refused (EPERM from FUNCTIONFS_DMABUF_ATTACH:
 *    a UDC without scatter-gather; an IIO buffer without DMABUF) or asked
 *    for (--copy, or the host's configuration).
 *
 * f_fs (Linux 6.12, unless patched as in kernel/usb-f-fs) frees the lock of
 * a transfer's fence with the attachment: after a DETACH with a transfer in
 * flight, the fence status of that transfer must never be read. Transfers are therefore normally
 * finished (completed, or failed because the endpoint went away) before
 * their block is detached; only a transfer that cannot finish is cancelled
 * by detaching it, and that block is then never waited on with
 * izc_block_wait() (only the DMABUF itself is polled).
 *
 * Threads: the main thread owns ep0, configfs and signals (signalfd); one
 * worker thread per run owns the stream. They share struct bridge_shared.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "izc-usb-bridge.h"

static const char *const prog = "izc-usb-bridge";

#define CONFIGFS_GADGETS "/sys/kernel/config/usb_gadget"
#define DEFAULT_NAME	 "izc_bridge"
#define DEFAULT_DRAIN_MS 2000
#define WAIT_STEP_MS	 100

enum {
	OPT_COPY = OPT_TOOL_FIRST,
	OPT_VID,
	OPT_PID,
	OPT_DRAIN
};

enum stop_level {
	STOP_NONE = 0,
	STOP_DRAIN = 1, /* no new blocks; finish what is in flight */
	STOP_ABORT = 2, /* cancel what is in flight now */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: izc-usb-bridge [options]\n"
		"USB gadget daemon: a configfs gadget with one FunctionFS function that\n"
		"streams IIO buffers to and from a USB host (see docs/usb-bridge.md for\n"
		"the control protocol; izc-usb-host is the host side). Runs until SIGINT,\n"
		"SIGTERM or SIGHUP, then unbinds and removes the gadget.\n"
		"\n"
		"  -u, --udc NAME         UDC to bind to (default: the first in /sys/class/udc)\n"
		"  -g, --gadget NAME      configfs gadget and FunctionFS instance name\n"
		"                         (default " DEFAULT_NAME ")\n"
		"  -m, --mount DIR        FunctionFS mount point (default "
		"/tmp/izc-usb-bridge.NAME)\n"
		"      --vid ID, --pid ID USB ids (default 0x%04x:0x%04x, for tests only)\n"
		"      --copy             always use the read()+write() bridge (benchmarks)\n"
		"      --drain MS         after STOP, wait MS ms for transfers in flight before\n"
		"                         cancelling them (default %d)\n"
		"  -q, --quiet            no messages except errors\n"
		"  -h, --help             this text\n"
		"\n"
		"At exit it prints one summary line per run to stderr, with the bridge's\n"
		"CPU time. Exit status: 0 ok, 1 runtime error, 2 usage error.\n",
		IZC_USB_VID, IZC_USB_PID, DEFAULT_DRAIN_MS);
}

struct bridge_opts {
	const char *udc;
	const char *name;
	const char *mount;
	unsigned int vid, pid;
	bool copy, quiet;
	int drain_ms;
};

/* What the main thread and the worker share. */
struct bridge_shared {
	pthread_mutex_t lock;	  /* protects st, ru0, t0 */
	struct izc_usb_status st; /* what STATUS reports */
	struct rusage ru0;	  /* at START */
	double t0;		  /* at START */
	atomic_int stop;	  /* enum stop_level */
	atomic_bool done;	  /* the worker has finished */
	bool usb_failed;	  /* worker only: the USB side of the run failed */
};

struct bridge {
	struct bridge_opts o;
	char gadget[256], mnt[256], udc[64];
	int ep0, ep_in, ep_out, sigfd;
	bool made, made_mnt, mounted, bound, enabled; /* made_mnt: we created mnt */

	struct izc_usb_config cfg;
	bool have_cfg;
	struct izc_context *ctx;
	struct izc_device *dev;
	unsigned int buffer_index;

	struct bridge_shared sh;
	pthread_t worker;
	bool worker_started;
	double stop_at; /* when STOP_DRAIN was asked for */
	struct izc_stream *stream;
	int ep; /* the endpoint of the run */
	bool zerocopy;
	unsigned int runs;
};

static void say(const struct bridge *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct bridge *b, const char *fmt, ...)
{
	va_list ap;

	if (b->o.quiet)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static uint64_t tv_us(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec;
}

/* CPU and wall time since START into st (caller holds the lock). */
static void update_times(struct bridge_shared *sh)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	sh->st.cpu_user_us = tv_us(&ru.ru_utime) - tv_us(&sh->ru0.ru_utime);
	sh->st.cpu_sys_us = tv_us(&ru.ru_stime) - tv_us(&sh->ru0.ru_stime);
	sh->st.elapsed_us = (uint64_t)((tool_now() - sh->t0) * 1e6);
}

static void set_error(struct bridge_shared *sh, int err)
{
	pthread_mutex_lock(&sh->lock);
	sh->st.state = IZC_USB_STATE_ERROR;
	sh->st.last_error = err;
	pthread_mutex_unlock(&sh->lock);
}

/* ------------------------------------------------------------------ */
/* the worker: one run                                                 */
/* ------------------------------------------------------------------ */

struct fifo {
	struct izc_block *b[IZC_USB_MAX_NBLOCKS];
	unsigned int head, count;
};

static void fifo_push(struct fifo *f, struct izc_block *blk)
{
	f->b[(f->head + f->count++) % IZC_USB_MAX_NBLOCKS] = blk;
}

static struct izc_block *fifo_pop(struct fifo *f)
{
	struct izc_block *blk = f->b[f->head];

	f->head = (f->head + 1) % IZC_USB_MAX_NBLOCKS;
	f->count--;
	return blk;
}

static void account(struct bridge *b, size_t bytes)
{
	pthread_mutex_lock(&b->sh.lock);
	b->sh.st.blocks++;
	b->sh.st.bytes += bytes;
	pthread_mutex_unlock(&b->sh.lock);
}

static void count_error(struct bridge *b)
{
	pthread_mutex_lock(&b->sh.lock);
	b->sh.st.errors++;
	pthread_mutex_unlock(&b->sh.lock);
}

/*
 * Let go of every DMABUF attached to the run's endpoint by closing it (and
 * opening it again for the next run): f_fs cancels what is in flight and
 * drops the attachments. Not FUNCTIONFS_DMABUF_DETACH: in 6.12 it
 * dereferences the gadget, which is NULL once the UDC is unbound. Fences of
 * cancelled transfers must not be read any more (see the top of this file):
 * only the DMABUFs are polled until idle, and those blocks go away with the
 * stream without izc_block_wait().
 */
static void release_endpoint(struct bridge *b, struct fifo *f)
{
	bool in = b->cfg.direction == IZC_USB_DIR_CAPTURE;
	char path[320];

	close(b->ep);
	while (f && f->count) {
		const struct izc_block *blk = fifo_pop(f);
		struct pollfd p = {.fd = izc_block_dmabuf_fd(blk), .events = POLLOUT};
		double end = tool_now() + 1.0;

		/* SIGUSR1 (a cancel) may come again meanwhile: wait out the second. */
		while (poll(&p, 1, (int)((end - tool_now()) * 1000) + 1) < 0 && errno == EINTR &&
		       tool_now() < end)
			;
	}
	snprintf(path, sizeof(path), "%s/ep%d", b->mnt, in ? 1 : 2);
	b->ep = open(path, O_RDWR | O_CLOEXEC);
	if (in)
		b->ep_in = b->ep;
	else
		b->ep_out = b->ep;
}

/* A block error from IIO counts; too many in a row, or ENODEV, end the run. */
static bool iio_fatal(struct bridge *b, int ret, unsigned int *row)
{
	if (ret == -ENODEV || ret == -EBADF || ++*row > izc_stream_block_count(b->stream))
		return true;
	count_error(b);
	return false;
}

/*
 * Output: wait until the device has played every block it was given
 * (at_dac[i]: block i is queued on the output buffer).
 */
static int play_out(struct bridge *b, bool *at_dac)
{
	unsigned int n = izc_stream_block_count(b->stream), out = 0, row = 0, i;
	struct izc_block *blk;

	for (i = 0; i < n; i++)
		out += at_dac[i];
	while (out && atomic_load(&b->sh.stop) != STOP_ABORT) {
		int ret = izc_stream_dequeue(b->stream, WAIT_STEP_MS, &blk);
		if (ret == -ETIMEDOUT || ret == -ECANCELED)
			continue;
		if (ret < 0) {
			if (iio_fatal(b, ret, &row))
				return ret;
			continue;
		}
		if (at_dac[izc_block_index(blk)]) {
			at_dac[izc_block_index(blk)] = false;
			out--;
		}
	}
	return 0;
}

/*
 * Neither the USB transfer at the head of the queue nor the next IIO block
 * is done: sleep until one of the stream's DMABUFs goes idle (POLLOUT: all
 * its fences signalled, which is how both sides complete), at most
 * timeout_ms. Every block is then in a USB transfer or queued on the IIO
 * buffer, so none is idle already.
 */
static void wait_any_block(struct izc_stream *s, int timeout_ms)
{
	unsigned int n = izc_stream_block_count(s), i, k = 0;
	struct pollfd p[IZC_USB_MAX_NBLOCKS];
	struct izc_block *blk;

	for (i = 0; i < n && k < IZC_USB_MAX_NBLOCKS; i++)
		if (!izc_stream_get_block(s, i, &blk))
			p[k++] = (struct pollfd){.fd = izc_block_dmabuf_fd(blk), .events = POLLOUT};
	if (poll(p, k, timeout_ms) < 0 && errno != EINTR)
		usleep(timeout_ms * 1000);
}

/* DMABUF run, both directions: blocks go IIO <-> USB by fd, never mapped. */
static int run_dmabuf(struct bridge *b)
{
	struct izc_stream *s = b->stream;
	bool in = b->cfg.direction == IZC_USB_DIR_CAPTURE, started = false;
	unsigned int n = izc_stream_block_count(s), row = 0;
	size_t size = izc_stream_block_size(s);
	uint64_t total = b->cfg.total_blocks, queued = 0;
	struct fifo f = {.count = 0};
	struct izc_block *blk;
	bool at_dac[IZC_USB_MAX_NBLOCKS] = {false};
	bool released = false;
	int err = 0, ret;

	if (in) {
		err = izc_stream_start(s);
		started = !err;
	}
	while (!err || f.count) {
		int stop = atomic_load(&b->sh.stop);
		bool more = !err && stop == STOP_NONE && (!total || queued < total);

		if (stop == STOP_ABORT) {
			release_endpoint(b, &f);
			released = true;
			break;
		}
		/* Take back finished transfers; wait when nothing else can be done. */
		if (f.count) {
			bool must = !more || f.count == n;

			ret = izc_block_wait(f.b[f.head], must ? WAIT_STEP_MS : 0);
			if (ret == -ETIMEDOUT || ret == -ECANCELED) {
				if (must)
					continue;
			} else {
				blk = fifo_pop(&f);
				if (ret < 0) {
					/* USB side failed: host gone, endpoint disabled */
					err = err ? err : ret;
					b->sh.usb_failed = true;
					continue;
				}
				account(b, size);
				if (in) {
					if (more && (ret = izc_block_enqueue(blk, 0, 0)))
						err = ret;
				} else {
					ret = izc_block_enqueue(blk, size, 0);
					at_dac[izc_block_index(blk)] = !ret;
					if (!ret && !started) {
						ret = izc_stream_start(s);
						started = !ret;
					}
					err = ret ? ret : err;
				}
				continue;
			}
		}
		if (!more) {
			if (!f.count)
				break;
			continue;
		}
		ret = izc_stream_dequeue(s, f.count ? 0 : WAIT_STEP_MS, &blk);
		if ((ret == -ETIMEDOUT || ret == -ENOBUFS) && f.count) {
			/* The USB head was not done either (checked above). */
			wait_any_block(s, WAIT_STEP_MS);
			continue;
		}
		if (ret == -ETIMEDOUT || ret == -ECANCELED || ret == -ENOBUFS)
			continue;
		if (ret < 0) {
			if (iio_fatal(b, ret, &row))
				err = ret;
			continue;
		}
		row = 0;
		at_dac[izc_block_index(blk)] = false;
		ret = izc_ffs_transfer(b->ep, blk, size);
		if (ret < 0) {
			err = ret;
			b->sh.usb_failed = true;
			continue;
		}
		fifo_push(&f, blk);
		queued++;
	}
	if (!in && started && !err)
		err = play_out(b, at_dac);
	izc_stream_stop(s);
	if (!released)
		release_endpoint(b, NULL);
	return err;
}

static int write_full(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

static int read_full(int fd, void *data, size_t len)
{
	char *p = data;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Output, fileio: a written block is only in the kernel's buffer; wait
 * until the device has played all of it (data_available of an output
 * buffer is its free space in bytes: all of it when drained).
 */
static int drain_fileio(struct bridge *b)
{
	unsigned long long all = (unsigned long long)b->cfg.nblocks * b->cfg.block_size;
	struct izc_buffer *buf;
	long long space = 0;
	int ret = izc_device_get_buffer(b->dev, b->buffer_index, &buf);

	while (!ret && atomic_load(&b->sh.stop) != STOP_ABORT) {
		ret = izc_buffer_attr_read_ll(buf, "data_available", &space);
		if (ret || space < 0 || (unsigned long long)space >= all)
			break;
		usleep(10000);
	}
	return ret;
}

/* Copy run: read() from IIO, write() to USB, or the reverse. */
static int run_copy(struct bridge *b)
{
	struct izc_stream *s = b->stream;
	bool in = b->cfg.direction == IZC_USB_DIR_CAPTURE, started = false;
	size_t size = izc_stream_block_size(s);
	uint64_t total = b->cfg.total_blocks, done = 0;
	unsigned int row = 0;
	struct izc_block *blk;
	void *data;
	int err = 0;

	if (in) {
		err = izc_stream_start(s);
		started = !err;
	}
	while (!err && atomic_load(&b->sh.stop) == STOP_NONE && (!total || done < total)) {
		int ret = izc_stream_dequeue(s, WAIT_STEP_MS, &blk);
		if (ret == -ETIMEDOUT || ret == -ECANCELED)
			continue;
		if (ret < 0) {
			if (iio_fatal(b, ret, &row))
				err = ret;
			continue;
		}
		row = 0;
		ret = izc_block_cpu_begin(blk, in ? IZC_ACCESS_READ : IZC_ACCESS_WRITE, &data);
		if (!ret)
			ret = in ? write_full(b->ep, data, izc_block_bytes_used(blk))
				 : read_full(b->ep, data, size);
		izc_block_cpu_end(blk);
		if (ret) {
			err = ret;
			b->sh.usb_failed = true;
			break;
		}
		account(b, size);
		done++;
		ret = izc_block_enqueue(blk, in ? 0 : size, 0);
		if (!ret && !in && !started) {
			ret = izc_stream_start(s);
			started = !ret;
		}
		err = ret;
	}
	if (!in && started && !err)
		err = drain_fileio(b);
	izc_stream_stop(s);
	return err;
}

/* SIGUSR1 only interrupts a blocking USB read()/write()/TRANSFER of the worker. */
static void on_sigusr1(int sig)
{
	(void)sig;
}

static void *worker_main(void *arg)
{
	struct bridge *b = arg;
	sigset_t set;
	int err;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	err = b->zerocopy ? run_dmabuf(b) : run_copy(b);
	/*
	 * End of a capture stream that was not cut off, also after an IIO
	 * error (device removed): a zero-length packet.
	 */
	if (!b->sh.usb_failed && b->cfg.direction == IZC_USB_DIR_CAPTURE &&
	    atomic_load(&b->sh.stop) != STOP_ABORT) {
		if (write(b->ep, "", 0) < 0 && !err)
			err = -errno;
	}
	izc_stream_close(b->stream);
	b->stream = NULL;

	pthread_mutex_lock(&b->sh.lock);
	update_times(&b->sh);
	b->sh.st.state = err ? IZC_USB_STATE_ERROR : IZC_USB_STATE_DONE;
	b->sh.st.last_error = err;
	pthread_mutex_unlock(&b->sh.lock);
	atomic_store(&b->sh.done, true);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* control requests                                                    */
/* ------------------------------------------------------------------ */

static bool worker_busy(const struct bridge *b)
{
	return b->worker_started;
}

/* Reap a worker that has finished; print its run's summary. */
static void worker_reap(struct bridge *b, bool wait)
{
	struct izc_usb_status st;

	if (!b->worker_started || (!wait && !atomic_load(&b->sh.done)))
		return;
	pthread_join(b->worker, NULL);
	b->worker_started = false;
	pthread_mutex_lock(&b->sh.lock);
	st = b->sh.st;
	pthread_mutex_unlock(&b->sh.lock);
	if (!b->o.quiet) {
		double s = st.elapsed_us / 1e6, cpu = (st.cpu_user_us + st.cpu_sys_us) / 1e6;
		double gib = st.bytes / (double)(1ull << 30);

		fprintf(stderr,
			"%s: run %u %s %s: %" PRIu64 " blocks, %.1f MiB in %.2f s (%.1f MiB/s), "
			"cpu %.2f s user+sys, %.2f s/GiB%s%s\n",
			prog, b->runs, st.direction ? "transmit" : "capture",
			st.backend == IZC_USB_BACKEND_DMABUF ? "dmabuf" : "copy", st.blocks,
			st.bytes / 1048576.0, s, s > 0 ? st.bytes / 1048576.0 / s : 0.0, cpu,
			gib > 0 ? cpu / gib : 0.0, st.last_error ? ", ended: " : "",
			st.last_error ? strerror(-st.last_error) : "");
	}
}

/* Ask the worker to stop; escalate to cancel after the drain time. */
static void worker_stop(struct bridge *b, enum stop_level level)
{
	if (!b->worker_started)
		return;
	if (atomic_load(&b->sh.stop) < (int)level)
		atomic_store(&b->sh.stop, level);
	if (level == STOP_DRAIN && !b->stop_at)
		b->stop_at = tool_now();
	if (level == STOP_ABORT)
		pthread_kill(b->worker, SIGUSR1);
	pthread_mutex_lock(&b->sh.lock);
	if (b->sh.st.state == IZC_USB_STATE_RUNNING)
		b->sh.st.state = IZC_USB_STATE_STOPPING;
	pthread_mutex_unlock(&b->sh.lock);
}

/*
 * Called every main loop turn: a drain that takes too long becomes a
 * cancel. A cancel's SIGUSR1 is sent again until the worker is done: one
 * that arrives just before the worker blocks (e.g. in a TRANSFER waiting
 * for an endpoint the host disabled) would otherwise be lost.
 */
static void worker_tick(struct bridge *b)
{
	if (b->worker_started && atomic_load(&b->sh.stop) == STOP_ABORT &&
	    !atomic_load(&b->sh.done))
		pthread_kill(b->worker, SIGUSR1);
	if (b->worker_started && b->stop_at && atomic_load(&b->sh.stop) == STOP_DRAIN &&
	    (tool_now() - b->stop_at) * 1000 > b->o.drain_ms) {
		say(b, "transfers in flight did not finish in %d ms: cancelling them\n",
		    b->o.drain_ms);
		worker_stop(b, STOP_ABORT);
	}
	worker_reap(b, false);
}

static int configure(struct bridge *b, const struct izc_usb_config *cfg)
{
	enum izc_direction dir = cfg->direction ? IZC_DIR_OUT : IZC_DIR_IN;
	struct izc_usb_status *st = &b->sh.st;
	struct izc_buffer *buf;
	uint64_t mask = cfg->channel_mask;
	unsigned int i, bits = 0;
	size_t frame;
	char name[IZC_USB_DEVICE_LEN + 1];
	int ret;

	if (cfg->direction > IZC_USB_DIR_TRANSMIT || cfg->mode > IZC_USB_MODE_DMABUF ||
	    !cfg->block_size || cfg->block_size % IZC_USB_BLOCK_ALIGN ||
	    cfg->block_size > IZC_USB_MAX_BLOCK || cfg->nblocks < 2 ||
	    cfg->nblocks > IZC_USB_MAX_NBLOCKS)
		return -EINVAL;
	memcpy(name, cfg->device, IZC_USB_DEVICE_LEN);
	name[IZC_USB_DEVICE_LEN] = 0;

	/* Devices come and go: look at sysfs afresh for every configuration. */
	izc_context_close(b->ctx);
	b->ctx = NULL;
	b->have_cfg = false;
	ret = izc_context_open(NULL, NULL, &b->ctx);
	if (ret)
		return ret;
	ret = tool_find_device(prog, b->ctx, *name ? name : NULL, dir, &b->dev, &b->buffer_index);
	if (ret)
		return ret;
	ret = izc_device_get_buffer(b->dev, b->buffer_index, &buf);
	if (ret)
		return ret;
	if (!mask) {
		for (i = 0; i < izc_buffer_channel_count(buf); i++) {
			struct izc_channel *ch;

			if (!izc_buffer_get_channel(buf, i, &ch) && izc_channel_scan_index(ch) < 64)
				mask |= 1ull << izc_channel_scan_index(ch);
		}
	}
	ret = izc_buffer_set_scan_mask(buf, mask);
	if (!ret)
		ret = izc_buffer_frame_size(buf, &frame);
	if (ret)
		return ret;
	if (cfg->block_size % frame)
		return -EINVAL;
	for (i = 0; i < izc_buffer_channel_count(buf); i++) {
		struct izc_channel *ch;
		unsigned int sb;

		if (izc_buffer_get_channel(buf, i, &ch) ||
		    !(mask >> izc_channel_scan_index(ch) & 1))
			continue;
		sb = izc_channel_scan_type(ch)->storagebits;
		bits = !bits || bits == sb ? sb : 255;
	}
	if (cfg->flags & IZC_USB_CFG_SET_FREQUENCY) {
		ret = izc_device_attr_write_ll(b->dev, "sampling_frequency",
					       (long long)cfg->sampling_frequency);
		if (ret)
			return ret;
	}
	b->cfg = *cfg;
	b->have_cfg = true;
	pthread_mutex_lock(&b->sh.lock);
	memset(st, 0, sizeof(*st));
	st->version = IZC_USB_PROTO_VER;
	st->state = IZC_USB_STATE_CONFIGURED;
	st->direction = cfg->direction;
	st->block_size = cfg->block_size;
	st->nblocks = cfg->nblocks;
	st->frame_size = (uint32_t)frame;
	st->storage_bits = bits == 255 ? 0 : (uint8_t)bits;
	st->channel_mask = mask;
	pthread_mutex_unlock(&b->sh.lock);
	say(b,
	    "configured: %s %s, channels 0x%" PRIx64 ", %u blocks of %u bytes, %" PRIu64
	    " blocks%s\n",
	    cfg->direction ? "transmit to" : "capture from", izc_device_id(b->dev), mask,
	    cfg->nblocks, cfg->block_size, cfg->total_blocks,
	    cfg->total_blocks ? "" : " (until STOP)");
	return 0;
}

/* Attach every block of the stream to the run's endpoint; undo on failure. */
static int attach_all(struct bridge *b)
{
	unsigned int n = izc_stream_block_count(b->stream), i;
	struct izc_block *blk;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		ret = izc_stream_get_block(b->stream, i, &blk);
		if (!ret)
			ret = izc_ffs_attach(b->ep, blk);
	}
	if (ret && i > 1)
		release_endpoint(b, NULL);
	return ret;
}

/* START: open the stream, pick the data path, launch the worker. */
static int start_run(struct bridge *b)
{
	enum izc_direction dir = b->cfg.direction ? IZC_DIR_OUT : IZC_DIR_IN;
	bool copy = b->o.copy || b->cfg.mode == IZC_USB_MODE_COPY;
	unsigned int flags =
		copy ? IZC_STREAM_FILEIO
		     : (b->cfg.mode == IZC_USB_MODE_DMABUF ? IZC_STREAM_NO_FALLBACK : 0);
	int reason = 0, ret;

	if (!b->have_cfg || worker_busy(b))
		return b->have_cfg ? -EBUSY : -EINVAL;
	if (!b->enabled)
		return -ENOTCONN;
	b->ep = dir == IZC_DIR_IN ? b->ep_in : b->ep_out;
	if (b->ep < 0)
		return -EIO;
	ret = izc_stream_open(b->dev, b->buffer_index, dir, b->cfg.nblocks, b->cfg.block_size,
			      flags, &b->stream);
	if (ret)
		return ret;
	if (!copy && izc_stream_backend(b->stream) != IZC_BACKEND_DMABUF) {
		reason = izc_stream_fallback_reason(b->stream);
		fprintf(stderr,
			"%s: the IIO buffer refused DMABUF (%s): falling back to the "
			"read()+write() bridge\n",
			prog, strerror(-reason));
	} else if (!copy) {
		ret = attach_all(b);
		if (ret == -EPERM && b->cfg.mode != IZC_USB_MODE_DMABUF) {
			fprintf(stderr,
				"%s: FunctionFS refused DMABUF (EPERM: the UDC cannot do "
				"scatter-gather): falling back to the read()+write() bridge\n",
				prog);
			reason = ret;
			izc_stream_close(b->stream);
			b->stream = NULL;
			ret = izc_stream_open(b->dev, b->buffer_index, dir, b->cfg.nblocks,
					      b->cfg.block_size, IZC_STREAM_FILEIO, &b->stream);
		}
		if (ret) {
			izc_stream_close(b->stream);
			b->stream = NULL;
			return ret;
		}
	}
	b->zerocopy = izc_stream_backend(b->stream) == IZC_BACKEND_DMABUF && !reason && !copy;
	b->runs++;
	b->stop_at = 0;
	atomic_store(&b->sh.stop, STOP_NONE);
	atomic_store(&b->sh.done, false);
	b->sh.usb_failed = false;
	pthread_mutex_lock(&b->sh.lock);
	b->sh.st.state = IZC_USB_STATE_RUNNING;
	b->sh.st.backend = b->zerocopy ? IZC_USB_BACKEND_DMABUF : IZC_USB_BACKEND_COPY;
	b->sh.st.fallback_reason = reason;
	b->sh.st.last_error = 0;
	b->sh.st.blocks = b->sh.st.bytes = b->sh.st.errors = 0;
	getrusage(RUSAGE_SELF, &b->sh.ru0);
	b->sh.t0 = tool_now();
	update_times(&b->sh);
	pthread_mutex_unlock(&b->sh.lock);
	say(b, "run %u: %s, %s\n", b->runs, b->cfg.direction ? "transmit" : "capture",
	    b->zerocopy ? "DMABUF zero-copy" : "read()+write() copy");
	ret = pthread_create(&b->worker, NULL, worker_main, b);
	if (ret) {
		izc_stream_close(b->stream);
		b->stream = NULL;
		return -ret;
	}
	b->worker_started = true;
	return 0;
}

static void handle_setup(struct bridge *b, const struct usb_ctrlrequest *req)
{
	bool in = req->bRequestType & USB_DIR_IN;
	size_t len = req->wLength;
	struct izc_usb_config cfg;
	struct izc_usb_status st;
	int ret = -EOPNOTSUPP;

	if ((req->bRequestType & USB_TYPE_MASK) != USB_TYPE_VENDOR)
		goto stall;
	if (in && req->bRequest == IZC_USB_REQ_STATUS) {
		pthread_mutex_lock(&b->sh.lock);
		if (b->sh.st.state == IZC_USB_STATE_RUNNING ||
		    b->sh.st.state == IZC_USB_STATE_STOPPING)
			update_times(&b->sh);
		b->sh.st.version = IZC_USB_PROTO_VER;
		st = b->sh.st;
		pthread_mutex_unlock(&b->sh.lock);
		if (write(b->ep0, &st, len < sizeof(st) ? len : sizeof(st)) < 0)
			say(b, "ep0 status reply: %s\n", strerror(errno));
		return;
	}
	if (in)
		goto stall;
	switch (req->bRequest) {
	case IZC_USB_REQ_CONFIGURE:
		if (len != sizeof(cfg))
			goto stall;
		if (read(b->ep0, &cfg, sizeof(cfg)) != (ssize_t)sizeof(cfg))
			return;
		/*
		 * A run still going belongs to a host that left without STOP:
		 * end it (drain, then cancel) before the new configuration.
		 */
		if (worker_busy(b)) {
			say(b, "new configuration during run %u: stopping it\n", b->runs);
			worker_stop(b, STOP_DRAIN);
			while (b->worker_started) {
				usleep(10000);
				worker_tick(b);
			}
		}
		ret = configure(b, &cfg);
		if (ret) {
			say(b, "configuration refused: %s\n", strerror(-ret));
			set_error(&b->sh, ret);
		}
		return;
	case IZC_USB_REQ_START:
		if (len)
			goto stall;
		ret = start_run(b);
		if (ret) {
			say(b, "cannot start: %s\n", strerror(-ret));
			if (ret != -EBUSY)
				set_error(&b->sh, ret);
			goto stall;
		}
		break;
	case IZC_USB_REQ_STOP:
		if (len)
			goto stall;
		worker_stop(b, STOP_DRAIN);
		break;
	default:
		goto stall;
	}
	if (read(b->ep0, NULL, 0) < 0)
		say(b, "ep0 status stage: %s\n", strerror(errno));
	return;
stall:
	/* FunctionFS stalls when ep0 is used in the wrong direction. */
	if (in ? read(b->ep0, NULL, 0) : write(b->ep0, NULL, 0))
		return;
}

/* Returns false when the daemon should exit. */
static bool handle_ep0(struct bridge *b)
{
	struct usb_functionfs_event ev[4];
	ssize_t n = read(b->ep0, ev, sizeof(ev));
	size_t i;

	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return true;
		/*
		 * FunctionFS says once that the host gave up on a control
		 * request we had not answered (a newer one replaced it):
		 * nothing is wrong with the function.
		 */
		if (errno == EIDRM) {
			say(b, "the host cancelled a control request\n");
			return true;
		}
		fprintf(stderr, "%s: reading FunctionFS ep0: %s; stopping\n", prog,
			strerror(errno));
		return false;
	}
	for (i = 0; i < (size_t)n / sizeof(ev[0]); i++) {
		switch (ev[i].type) {
		case FUNCTIONFS_BIND:
			say(b, "bound to %s\n", b->udc);
			break;
		case FUNCTIONFS_ENABLE:
			say(b, "host configured the device\n");
			b->enabled = true;
			break;
		case FUNCTIONFS_DISABLE:
		case FUNCTIONFS_UNBIND:
			if (b->enabled || worker_busy(b))
				say(b, "host %s: stopping the stream\n",
				    ev[i].type == FUNCTIONFS_DISABLE ? "disconnected or reset"
								     : "unbound");
			b->enabled = false;
			/* The endpoints are gone: transfers in flight end with errors. */
			worker_stop(b, STOP_DRAIN);
			break;
		case FUNCTIONFS_SETUP:
			handle_setup(b, &ev[i].u.setup);
			break;
		default:
			break;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* gadget life                                                         */
/* ------------------------------------------------------------------ */

static int first_udc(char *buf, size_t len)
{
	DIR *d = opendir("/sys/class/udc");
	const struct dirent *de;
	int ret = -ENODEV;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (strlen(de->d_name) >= len)
			continue;
		memcpy(buf, de->d_name, strlen(de->d_name) + 1);
		ret = 0;
		break;
	}
	if (d)
		closedir(d);
	return ret;
}

static void teardown(struct bridge *b)
{
	/*
	 * The run ends before the gadget is unbound: no DMABUF ioctl may reach
	 * f_fs once its gadget is gone (6.12 dereferences ffs->gadget in
	 * TRANSFER and DETACH). The worker drains, then cancels what is still
	 * in flight by closing the endpoint (release_endpoint()).
	 */
	if (b->worker_started) {
		worker_stop(b, STOP_DRAIN);
		while (!atomic_load(&b->sh.done)) {
			usleep(WAIT_STEP_MS * 1000);
			worker_tick(b);
			if (!b->worker_started)
				break;
		}
		worker_reap(b, true);
	}
	if (b->bound)
		izc_usb_gadget_bind(b->gadget, "");
	b->bound = false;
	b->enabled = false;
	if (b->ep_in >= 0)
		close(b->ep_in);
	if (b->ep_out >= 0)
		close(b->ep_out);
	if (b->ep0 >= 0)
		close(b->ep0);
	b->ep0 = b->ep_in = b->ep_out = -1;
	if (b->mounted && umount(b->mnt))
		fprintf(stderr, "%s: umount %s: %s\n", prog, b->mnt, strerror(errno));
	b->mounted = false;
	/* A -m DIR that existed before is the user's: left in place. */
	if (b->made_mnt)
		rmdir(b->mnt);
	b->made_mnt = false;
	if (b->made)
		izc_usb_gadget_remove(b->gadget, b->o.name);
	b->made = false;
	izc_context_close(b->ctx);
	b->ctx = NULL;
}

static int setup(struct bridge *b)
{
	char path[320];
	int ret;

	if (access(CONFIGFS_GADGETS, F_OK) &&
	    mount("none", "/sys/kernel/config", "configfs", 0, NULL) && errno != EBUSY) {
		fprintf(stderr, "%s: mounting configfs: %s (is libcomposite loaded?)\n", prog,
			strerror(errno));
		return -errno;
	}
	if (access(CONFIGFS_GADGETS, F_OK)) {
		fprintf(stderr, "%s: no %s: load libcomposite and usb_f_fs\n", prog,
			CONFIGFS_GADGETS);
		return -ENOENT;
	}
	if (access(b->gadget, F_OK) == 0) {
		fprintf(stderr, "%s: gadget %s exists already (another bridge running?)\n", prog,
			b->gadget);
		return -EEXIST;
	}
	b->made = true;
	ret = izc_usb_gadget_create(b->gadget, b->o.name, b->o.vid, b->o.pid, "izc-usb-bridge");
	if (ret) {
		fprintf(stderr, "%s: creating the configfs gadget: %s (is usb_f_fs loaded?)\n",
			prog, strerror(-ret));
		return ret;
	}
	if (!mkdir(b->mnt, 0755))
		b->made_mnt = true;
	if ((!b->made_mnt && errno != EEXIST) || mount(b->o.name, b->mnt, "functionfs", 0, NULL)) {
		ret = -errno;
		fprintf(stderr, "%s: mounting FunctionFS on %s: %s\n", prog, b->mnt,
			strerror(errno));
		return ret;
	}
	b->mounted = true;
	snprintf(path, sizeof(path), "%s/ep0", b->mnt);
	b->ep0 = open(path, O_RDWR | O_CLOEXEC);
	ret = b->ep0 < 0 ? -errno : izc_usb_ffs_setup(b->ep0);
	if (!ret) {
		snprintf(path, sizeof(path), "%s/ep1", b->mnt);
		b->ep_in = open(path, O_RDWR | O_CLOEXEC);
		snprintf(path, sizeof(path), "%s/ep2", b->mnt);
		b->ep_out = open(path, O_RDWR | O_CLOEXEC);
		ret = b->ep_in < 0 || b->ep_out < 0 ? -errno : 0;
	}
	if (ret) {
		fprintf(stderr, "%s: FunctionFS setup: %s\n", prog, strerror(-ret));
		return ret;
	}
	if (!*b->udc && first_udc(b->udc, sizeof(b->udc))) {
		fprintf(stderr, "%s: no USB device controller in /sys/class/udc\n", prog);
		return -ENODEV;
	}
	ret = izc_usb_gadget_bind(b->gadget, b->udc);
	if (ret) {
		fprintf(stderr, "%s: binding to UDC %s: %s\n", prog, b->udc, strerror(-ret));
		return ret;
	}
	b->bound = true;
	say(b, "gadget %s (%04x:%04x) on %s, FunctionFS at %s\n", b->gadget, b->o.vid, b->o.pid,
	    b->udc, b->mnt);
	return 0;
}

/*
 * Watch the UDC: a gadget unbound from outside (configfs UDC "") is still ours.
 * Returns 0 after a stopping signal, or a negative errno after a fatal
 * ep0 or poll error (said).
 */
static int loop(struct bridge *b)
{
	struct pollfd p[2] = {
		{.fd = b->ep0, .events = POLLIN},
		{.fd = b->sigfd, .events = POLLIN},
	};

	for (;;) {
		int n = poll(p, 2, WAIT_STEP_MS);

		if (n < 0 && errno != EINTR) {
			int err = errno;

			fprintf(stderr, "%s: poll: %s; stopping\n", prog, strerror(err));
			return -err;
		}
		if (n > 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(b->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				say(b, "%s: stopping\n", strsignal((int)si.ssi_signo));
			return 0;
		}
		if (n > 0 && (p[0].revents & (POLLIN | POLLERR | POLLHUP)) && !handle_ep0(b))
			return -EIO;
		worker_tick(b);
	}
}

static int parse_id(const char *s, unsigned int *id)
{
	unsigned long long v;

	if (tool_parse_ull(s, &v) || v > 0xffff)
		return -EINVAL;
	*id = (unsigned int)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"udc", required_argument, NULL, 'u'},
		{"gadget", required_argument, NULL, 'g'},
		{"mount", required_argument, NULL, 'm'},
		{"vid", required_argument, NULL, OPT_VID},
		{"pid", required_argument, NULL, OPT_PID},
		{"copy", no_argument, NULL, OPT_COPY},
		{"drain", required_argument, NULL, OPT_DRAIN},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct bridge b = {
		.o = {.name = DEFAULT_NAME,
		      .vid = IZC_USB_VID,
		      .pid = IZC_USB_PID,
		      .drain_ms = DEFAULT_DRAIN_MS},
		.ep0 = -1,
		.ep_in = -1,
		.ep_out = -1,
	};
	struct sigaction sa = {.sa_handler = on_sigusr1};
	unsigned long long v;
	sigset_t set;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "u:g:m:qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			b.o.udc = optarg;
			break;
		case 'g':
			b.o.name = optarg;
			break;
		case 'm':
			b.o.mount = optarg;
			break;
		case OPT_VID:
		case OPT_PID:
			if (parse_id(optarg, opt == OPT_VID ? &b.o.vid : &b.o.pid)) {
				fprintf(stderr, "%s: bad USB id '%s' (0x0000-0xffff)\n", prog,
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_COPY:
			b.o.copy = true;
			break;
		case OPT_DRAIN:
			if (tool_parse_ull(optarg, &v) || v > 600000) {
				fprintf(stderr, "%s: bad --drain '%s' (ms)\n", prog, optarg);
				return EXIT_USAGE;
			}
			b.o.drain_ms = (int)v;
			break;
		case 'q':
			b.o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || !*b.o.name || strchr(b.o.name, '/')) {
		usage(stderr);
		return EXIT_USAGE;
	}
	snprintf(b.gadget, sizeof(b.gadget), CONFIGFS_GADGETS "/%s", b.o.name);
	if (b.o.mount)
		snprintf(b.mnt, sizeof(b.mnt), "%s", b.o.mount);
	else
		snprintf(b.mnt, sizeof(b.mnt), "/tmp/izc-usb-bridge.%s", b.o.name);
	if (b.o.udc)
		snprintf(b.udc, sizeof(b.udc), "%s", b.o.udc);

	/* Signals: INT/TERM/HUP through a signalfd; USR1 only wakes the worker. */
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	tool_stop_signals(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGUSR1);
	b.sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (b.sigfd < 0) {
		fprintf(stderr, "%s: signalfd: %s\n", prog, strerror(errno));
		return EXIT_ERROR;
	}
	pthread_mutex_init(&b.sh.lock, NULL);
	b.sh.st.version = IZC_USB_PROTO_VER;

	ret = setup(&b);
	if (!ret)
		ret = loop(&b);
	teardown(&b);
	close(b.sigfd);
	pthread_mutex_destroy(&b.sh.lock);
	return ret ? EXIT_ERROR : EXIT_OK;
}
