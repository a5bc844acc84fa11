// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stream core on the host: the "device node" is a regular file or a FIFO,
 * which answers IIO_BUFFER_GET_FD_IOCTL with ENOTTY like a pre-5.11 kernel,
 * so streams fall back to fileio on buffer 0 and read()/write() the node.
 * Covers argument checks, backend choice and fallback reason, block
 * ownership, fileio input/output data, timeouts with partial fills (also
 * across a restart), an output enqueue cancelled after a partial write,
 * cancellation from another thread, and two streams on two threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "izc.h"
#include "test.h"

int build_tree(struct fake_tree *ft);

/* Frames of dev0 buffer0 with voltage0+1 enabled: {s16 v0, s16 v1}. */
static void make_frames(int16_t *frames, int nframes, int base)
{
	for (int i = 0; i < nframes; i++) {
		frames[2 * i] = (int16_t)(base + i);
		frames[2 * i + 1] = (int16_t)(-(base + i));
	}
}

static int open_adc(struct fake_tree *ft, struct izc_context **ctx, struct izc_device **dev)
{
	int ret = izc_context_open(ft->sysfs, ft->dev, ctx);

	return ret ? ret : izc_context_find_device(*ctx, "adc0", dev);
}

/*
 * adc0's device node made a FIFO, whose write end (*wfd) plays the kernel
 * buffer, and an input fileio stream of 2 x 16 bytes on it, started.
 * Returns 0 or the failing step's negative errno.
 */
static int fifo_adc_stream(struct fake_tree *ft, struct izc_context **ctx, struct izc_stream **s,
			   int *wfd)
{
	struct izc_device *dev;
	char path[256];
	int ret = build_tree(ft);

	snprintf(path, sizeof(path), "%s/iio:device0", ft->dev);
	ret = ret ? ret : mkfifo(path, 0600) ? -errno : 0;
	ret = ret ? ret : open_adc(ft, ctx, &dev);
	ret = ret ? ret : izc_stream_open(dev, 0, IZC_DIR_IN, 2, 16, 0, s);
	ret = ret ? ret : izc_stream_start(*s);
	if (!ret) {
		*wfd = open(path, O_WRONLY | O_NONBLOCK);
		ret = *wfd < 0 ? -errno : 0;
	}
	return ret;
}

static void stream_open_errors(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct izc_stream *s = NULL;
	struct izc_device *dev;
	struct fake_tree ft = {0};
	char buf[16];

	REQUIRE_INT(t, build_tree(&ft), 0);
	REQUIRE_INT(t, open_adc(&ft, &ctx, &dev), 0);
	/* no device node */
	CHECK_INT(t, izc_stream_open(dev, 0, IZC_DIR_IN, 2, 16, 0, &s), -ENOENT);
	REQUIRE_INT(t, fake_dev_file(&ft, "iio:device0", "", 0), 0);
	/* arguments */
	CHECK_INT(t, izc_stream_open(dev, 0, IZC_DIR_OUT, 2, 16, 0, &s), -EINVAL); /* direction */
	CHECK_INT(t, izc_stream_open(dev, 0, IZC_DIR_IN, 2, 18, 0, &s), -EINVAL);  /* 18 % 4 */
	CHECK_INT(t, izc_stream_open(dev, 0, IZC_DIR_IN, 0, 16, 0, &s), -EINVAL);
	CHECK_INT(t, izc_stream_open(dev, 0, IZC_DIR_IN, 2, 0, 0, &s), -EINVAL);
	CHECK_INT(t, izc_stream_open(dev, 0, IZC_DIR_IN, 2, 16, 0x100, &s), -EINVAL);
	/*
	 * Block sizes (whole frames) whose rounding up to 64 bytes (fileio) or
	 * to the page size (udmabuf) would wrap around: they once opened with
	 * 0-byte blocks that a padded enqueue then overran.
	 */
	CHECK_INT(t, izc_stream_open(dev, 0, IZC_DIR_IN, 1, SIZE_MAX - 3, IZC_STREAM_FILEIO, &s),
		  -EINVAL);
	CHECK_INT(t, izc_stream_open(dev, 0, IZC_DIR_IN, 1, SIZE_MAX - 63, 0, &s), -EINVAL);
	CHECK(t, s == NULL);
	CHECK_INT(t,
		  izc_stream_open(dev, 0, IZC_DIR_IN, 2, 16,
				  IZC_STREAM_FILEIO | IZC_STREAM_NO_FALLBACK, &s),
		  -EINVAL);
	CHECK_INT(t, izc_stream_open(dev, 7, IZC_DIR_IN, 2, 16, 0, &s), -ENODEV);
	/* DMABUF demanded, kernel without buffer fds */
	CHECK_INT(t, izc_stream_open(dev, 0, IZC_DIR_IN, 2, 16, IZC_STREAM_NO_FALLBACK, &s),
		  -ENOTTY);
	/* buffer already enabled by someone */
	REQUIRE_INT(t, fake_write(&ft, "iio:device0/buffer0/enable", "1\n"), 0);
	CHECK_INT(t, izc_stream_open(dev, 0, IZC_DIR_IN, 2, 16, 0, &s), -EBUSY);
	REQUIRE_INT(t, fake_write(&ft, "iio:device0/buffer0/enable", "0\n"), 0);
	/* no channel enabled */
	REQUIRE_INT(t, fake_write(&ft, "iio:device0/buffer0/in_voltage0_en", "0\n"), 0);
	REQUIRE_INT(t, fake_write(&ft, "iio:device0/buffer0/in_voltage1_en", "0\n"), 0);
	CHECK_INT(t, izc_stream_open(dev, 0, IZC_DIR_IN, 2, 16, 0, &s), -EINVAL);
	CHECK(t, s == NULL);
	/* nothing was left enabled or half-configured */
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/enable", buf, sizeof(buf)), 2);
	CHECK_STR(t, buf, "0\n");
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

/* A stream puts the buffer's length and watermark back when it closes. */
static void buffer_settings_restored(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct izc_stream *s = NULL;
	struct izc_device *dev;
	struct fake_tree ft = {0};
	char str[16];

	REQUIRE_INT(t, build_tree(&ft), 0);
	REQUIRE_INT(t, fake_dev_file(&ft, "iio:device0", "", 0), 0);
	REQUIRE_INT(t, fake_write(&ft, "iio:device0/buffer0/length", "256\n"), 0);
	REQUIRE_INT(t, fake_write(&ft, "iio:device0/buffer0/watermark", "16\n"), 0);
	REQUIRE_INT(t, open_adc(&ft, &ctx, &dev), 0);
	REQUIRE_INT(t, izc_stream_open(dev, 0, IZC_DIR_IN, 2, 16, 0, &s), 0);
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/length", str, sizeof(str)), 1);
	CHECK_STR(t, str, "8");
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/watermark", str, sizeof(str)), 1);
	CHECK_STR(t, str, "4");
	izc_stream_close(s);
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/length", str, sizeof(str)), 3);
	CHECK_STR(t, str, "256");
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/watermark", str, sizeof(str)), 2);
	CHECK_STR(t, str, "16");
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

static void fileio_input(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct izc_stream *s = NULL;
	struct izc_block *b = NULL, *b2 = NULL;
	struct izc_channel *v1;
	struct izc_device *dev;
	struct izc_buffer *buf;
	struct fake_tree ft = {0};
	int16_t frames[16], out[4];
	size_t off = 99;
	char str[16];
	void *data;

	REQUIRE_INT(t, build_tree(&ft), 0);
	make_frames(frames, 8, 10);
	REQUIRE_INT(t, fake_dev_file(&ft, "iio:device0", frames, sizeof(frames)), 0);
	REQUIRE_INT(t, open_adc(&ft, &ctx, &dev), 0);
	REQUIRE_INT(t, izc_stream_open(dev, 0, IZC_DIR_IN, 2, 16, 0, &s), 0);
	CHECK_INT(t, izc_stream_backend(s), IZC_BACKEND_FILEIO);
	CHECK_STR(t, izc_backend_name(izc_stream_backend(s)), "fileio");
	CHECK_INT(t, izc_stream_fallback_reason(s), -ENOTTY);
	CHECK_INT(t, izc_stream_direction(s), IZC_DIR_IN);
	CHECK_INT(t, izc_stream_block_count(s), 2);
	CHECK_INT(t, izc_stream_block_size(s), 16);
	CHECK_INT(t, izc_stream_frame_size(s), 4);
	/* length = 2 blocks x 4 frames, watermark = one block */
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/length", str, sizeof(str)), 1);
	CHECK_STR(t, str, "8");
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/watermark", str, sizeof(str)), 1);
	CHECK_STR(t, str, "4");
	REQUIRE_INT(t, izc_context_find_device(ctx, "adc0", &dev), 0);
	REQUIRE_INT(t, izc_device_get_buffer(dev, 0, &buf), 0);
	REQUIRE_INT(t, izc_buffer_find_channel(buf, "voltage1", &v1), 0);
	CHECK_INT(t, izc_stream_channel_offset(s, v1, &off), 0);
	CHECK_INT(t, off, 2);
	REQUIRE_INT(t, izc_buffer_find_channel(buf, "voltage3", &v1), 0);
	CHECK_INT(t, izc_stream_channel_offset(s, v1, &off), -ENOENT);

	CHECK_INT(t, izc_stream_dequeue(s, 0, &b), -ENOBUFS); /* not started, nothing queued */
	REQUIRE_INT(t, izc_stream_start(s), 0);
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/enable", str, sizeof(str)), 1);
	CHECK_STR(t, str, "1");

	REQUIRE_INT(t, izc_stream_dequeue(s, 1000, &b), 0);
	CHECK_INT(t, izc_block_index(b), 0);
	CHECK(t, izc_block_stream(b) == s);
	CHECK_INT(t, izc_block_bytes_used(b), 16);
	CHECK_INT(t, izc_block_dmabuf_fd(b), -EOPNOTSUPP);
	REQUIRE_INT(t, izc_block_cpu_begin(b, IZC_ACCESS_READ, &data), 0);
	CHECK_INT(t, izc_block_cpu_begin(b, IZC_ACCESS_WRITE, &data), -EBUSY);
	/* every sample of both channels; out cleared before each demux */
	memset(out, 0x5a, sizeof(out));
	CHECK_INT(t, izc_demux(data, 4, 4, 2, 2, out), 0);
	CHECK_ARRAY(t, out, ((int16_t[]){-10, -11, -12, -13}), 4);
	memset(out, 0x5a, sizeof(out));
	CHECK_INT(t, izc_demux(data, 4, 4, 0, 2, out), 0);
	CHECK_ARRAY(t, out, ((int16_t[]){10, 11, 12, 13}), 4);
	CHECK_INT(t, izc_block_cpu_end(b), 0);

	REQUIRE_INT(t, izc_stream_dequeue(s, 1000, &b2), 0);
	CHECK_INT(t, izc_block_index(b2), 1);
	REQUIRE_INT(t, izc_block_cpu_begin(b2, IZC_ACCESS_READ, &data), 0);
	memset(out, 0x5a, sizeof(out));
	CHECK_INT(t, izc_demux(data, 4, 4, 0, 2, out), 0);
	CHECK_ARRAY(t, out, ((int16_t[]){14, 15, 16, 17}), 4);
	memset(out, 0x5a, sizeof(out));
	CHECK_INT(t, izc_demux(data, 4, 4, 2, 2, out), 0);
	CHECK_ARRAY(t, out, ((int16_t[]){-14, -15, -16, -17}), 4);
	/* a held block cannot be queued twice; a queued one is not the app's */
	CHECK_INT(t, izc_block_enqueue(b, 0, 0), 0);
	CHECK_INT(t, izc_block_enqueue(b, 0, 0), -EBUSY);
	CHECK_INT(t, izc_block_cpu_begin(b, IZC_ACCESS_READ, &data), -EBUSY);
	CHECK_INT(t, izc_block_enqueue(b2, 0, IZC_BLOCK_CYCLIC), -EINVAL); /* input */
	CHECK_INT(t, izc_block_enqueue(b2, 17, 0), -EINVAL);
	CHECK_INT(t, izc_block_relay(b2, s, 0), -EOPNOTSUPP);
	/* end of file: the kernel would never return 0 with channels enabled */
	CHECK_INT(t, izc_stream_dequeue(s, 1000, &b), -ENODATA);
	CHECK_INT(t, izc_stream_stop(s), 0);
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/enable", str, sizeof(str)), 1);
	CHECK_STR(t, str, "0");
out:
	izc_stream_close(s);
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

static void fileio_output(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct izc_stream *s = NULL;
	struct izc_block *b[3] = {NULL};
	struct izc_device *dev;
	struct fake_tree ft = {0};
	char path[256];
	int16_t back[8];
	void *data;
	int fd;

	REQUIRE_INT(t, build_tree(&ft), 0);
	REQUIRE_INT(t, fake_dev_file(&ft, "iio:device2", "", 0), 0);
	REQUIRE_INT(t, izc_context_open(ft.sysfs, ft.dev, &ctx), 0);
	REQUIRE_INT(t, izc_context_find_device(ctx, "dac0", &dev), 0);
	REQUIRE_INT(t, izc_stream_open(dev, 0, IZC_DIR_OUT, 2, 8, IZC_STREAM_FILEIO, &s), 0);
	CHECK_INT(t, izc_stream_backend(s), IZC_BACKEND_FILEIO);
	CHECK_INT(t, izc_stream_fallback_reason(s), 0); /* asked for, not a fallback */
	/* output: fresh blocks first, then nothing until one is queued */
	REQUIRE_INT(t, izc_stream_dequeue(s, 0, &b[0]), 0);
	REQUIRE_INT(t, izc_stream_dequeue(s, 0, &b[1]), 0);
	CHECK(t, b[0] != b[1]);
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b[2]), -ENOBUFS);
	for (int i = 0; i < 2; i++) {
		REQUIRE_INT(t, izc_block_cpu_begin(b[i], IZC_ACCESS_WRITE, &data), 0);
		make_frames(data, 2, 100 * (i + 1));
	}
	CHECK_INT(t, izc_block_enqueue(b[0], 0, IZC_BLOCK_CYCLIC), -EOPNOTSUPP);
	/* queued before start: written when the buffer is enabled */
	CHECK_INT(t, izc_block_enqueue(b[0], 0, 0), 0);
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b[2]), -ENOBUFS);
	REQUIRE_INT(t, izc_stream_start(s), 0);
	CHECK_INT(t, izc_block_enqueue(b[1], 4, 0), 0); /* half a block: sent zero padded */
	REQUIRE_INT(t, izc_stream_dequeue(s, 0, &b[2]), 0);
	CHECK(t, b[2] == b[0]);
	REQUIRE_INT(t, izc_stream_dequeue(s, 0, &b[2]), 0);
	CHECK(t, b[2] == b[1]);
	snprintf(path, sizeof(path), "%s/iio:device2", ft.dev);
	fd = open(path, O_RDONLY);
	REQUIRE_INT(t, fd >= 0, 1);
	CHECK_INT(t, read(fd, back, sizeof(back)), 16);
	close(fd);
	CHECK_INT(t, back[0], 100);
	CHECK_INT(t, back[3], -101);
	CHECK_INT(t, back[4], 200);
	CHECK_INT(t, back[5], -200);
	CHECK_INT(t, back[6], 0);
	CHECK_INT(t, back[7], 0);
out:
	izc_stream_close(s);
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

struct canceller {
	struct izc_stream *s;
	int delay_ms;
};

static void *cancel_later(void *arg)
{
	const struct canceller *c = arg;
	struct timespec ts = {0, c->delay_ms * 1000000L};

	nanosleep(&ts, NULL);
	izc_stream_cancel(c->s);
	return NULL;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void timeout_partial_and_cancel(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct izc_stream *s = NULL;
	struct izc_block *b = NULL;
	struct fake_tree ft = {0};
	struct canceller c;
	int16_t frames[8];
	pthread_t th;
	long long t0;
	void *data;
	int wfd = -1;

	REQUIRE_INT(t, fifo_adc_stream(&ft, &ctx, &s, &wfd), 0);

	t0 = now_ms();
	CHECK_INT(t, izc_stream_dequeue(s, 50, &b), -ETIMEDOUT);
	CHECK(t, now_ms() - t0 >= 45);
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b), -ETIMEDOUT);
	/* half a block arrives: still a timeout, the half is kept */
	make_frames(frames, 4, 1);
	CHECK_INT(t, write(wfd, frames, 8), 8);
	CHECK_INT(t, izc_stream_dequeue(s, 20, &b), -ETIMEDOUT);
	CHECK_INT(t, write(wfd, (char *)frames + 8, 8), 8);
	REQUIRE_INT(t, izc_stream_dequeue(s, 1000, &b), 0);
	REQUIRE_INT(t, izc_block_cpu_begin(b, IZC_ACCESS_READ, &data), 0);
	CHECK(t, !memcmp(data, frames, 16));
	CHECK_INT(t, izc_block_enqueue(b, 0, 0), 0);

	/* one cancel cancels one wait, even one that has not started */
	CHECK_INT(t, izc_stream_cancel(s), 0);
	CHECK_INT(t, izc_stream_cancel(s), 0);
	CHECK_INT(t, izc_stream_dequeue(s, -1, &b), -ECANCELED);
	CHECK_INT(t, izc_stream_dequeue(s, -1, &b), -ECANCELED);
	CHECK_INT(t, izc_stream_dequeue(s, 0, &b), -ETIMEDOUT);

	/* from another thread, into an endless wait */
	c.s = s;
	c.delay_ms = 50;
	REQUIRE_INT(t, pthread_create(&th, NULL, cancel_later, &c), 0);
	t0 = now_ms();
	CHECK_INT(t, izc_stream_dequeue(s, -1, &b), -ECANCELED);
	CHECK(t, now_ms() - t0 >= 45);
	pthread_join(th, NULL);
out:
	if (wfd >= 0)
		close(wfd);
	izc_stream_close(s);
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

struct reader {
	struct izc_device *dev;
	int base;
	int nblocks_read;
	int errors;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	struct izc_stream *s;
	struct izc_block *b;
	int16_t expect[8];

	if (izc_stream_open(r->dev, 0, IZC_DIR_IN, 2, 16, 0, &s)) {
		r->errors++;
		return NULL;
	}
	if (izc_stream_start(s))
		r->errors++;
	while (izc_stream_dequeue(s, 1000, &b) == 0) {
		void *data;

		make_frames(expect, 4, r->base + 4 * r->nblocks_read);
		if (izc_block_cpu_begin(b, IZC_ACCESS_READ, &data) || memcmp(data, expect, 16))
			r->errors++;
		r->nblocks_read++;
		if (izc_block_enqueue(b, 0, 0))
			r->errors++;
	}
	izc_stream_close(s);
	return NULL;
}

static void two_streams_two_threads(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct reader r[2] = {{0}};
	struct fake_tree ft = {0};
	pthread_t th[2];
	int16_t frames[2][2 * 64];

	REQUIRE_INT(t, build_tree(&ft), 0);
	/* a second ADC like the first */
	REQUIRE_INT(t, fake_write(&ft, "iio:device5/name", "adc-b\n"), 0);
	REQUIRE_INT(t, fake_buffer(&ft, "iio:device5/buffer0", "in"), 0);
	REQUIRE_INT(t,
		    fake_channel(&ft, "iio:device5/buffer0", "in_voltage0", 0, "le:s16/16>>0", 1),
		    0);
	REQUIRE_INT(t,
		    fake_channel(&ft, "iio:device5/buffer0", "in_voltage1", 1, "le:s16/16>>0", 1),
		    0);
	make_frames(frames[0], 64, 1000);
	make_frames(frames[1], 64, 5000);
	REQUIRE_INT(t, fake_dev_file(&ft, "iio:device0", frames[0], sizeof(frames[0])), 0);
	REQUIRE_INT(t, fake_dev_file(&ft, "iio:device5", frames[1], sizeof(frames[1])), 0);
	REQUIRE_INT(t, izc_context_open(ft.sysfs, ft.dev, &ctx), 0);
	REQUIRE_INT(t, izc_context_find_device(ctx, "adc0", &r[0].dev), 0);
	REQUIRE_INT(t, izc_context_find_device(ctx, "adc-b", &r[1].dev), 0);
	r[0].base = 1000;
	r[1].base = 5000;
	for (int i = 0; i < 2; i++)
		REQUIRE_INT(t, pthread_create(&th[i], NULL, read_all, &r[i]), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(t, r[i].errors, 0);
		CHECK_INT(t, r[i].nblocks_read, 16);
	}
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

/*
 * A block partly read when a timeout ends a dequeue keeps its fill; after a
 * stop and a start with no dequeue in between, the rest of the kernel
 * buffer is a new run: the block must not be completed from it and handed
 * out as one piece of data across the gap, but dequeue as -EINTR, as a
 * DMABUF block aborted by the disable does.
 */
static void fileio_partial_fill_not_across_restart(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct izc_stream *s = NULL;
	struct izc_block *b = NULL;
	struct fake_tree ft = {0};
	int16_t old[8], neu[16];
	void *data;
	int wfd = -1;

	REQUIRE_INT(t, fifo_adc_stream(&ft, &ctx, &s, &wfd), 0);
	make_frames(old, 4, 1);
	make_frames(neu, 8, 1000);
	CHECK_INT(t, write(wfd, old, 8), 8); /* first run: half a block */
	CHECK_INT(t, izc_stream_dequeue(s, 20, &b), -ETIMEDOUT);
	REQUIRE_INT(t, izc_stream_stop(s), 0);
	REQUIRE_INT(t, izc_stream_start(s), 0);
	CHECK_INT(t, write(wfd, neu, sizeof(neu)), sizeof(neu)); /* second run: two blocks */
	CHECK_INT(t, izc_stream_dequeue(s, 1000, &b), -EINTR);
	/* the second run's data starts the next block, in order */
	REQUIRE_INT(t, izc_stream_dequeue(s, 1000, &b), 0);
	CHECK_INT(t, izc_block_index(b), 1);
	REQUIRE_INT(t, izc_block_cpu_begin(b, IZC_ACCESS_READ, &data), 0);
	CHECK_ARRAY(t, (int16_t *)data, neu, 8);
	CHECK_INT(t, izc_block_enqueue(b, 0, 0), 0);
	REQUIRE_INT(t, izc_stream_dequeue(s, 1000, &b), 0);
	CHECK_INT(t, izc_block_index(b), 0);
	REQUIRE_INT(t, izc_block_cpu_begin(b, IZC_ACCESS_READ, &data), 0);
	CHECK_ARRAY(t, (int16_t *)data, neu + 8, 8);
out:
	if (wfd >= 0)
		close(wfd);
	izc_stream_close(s);
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

static void *cancel_soon(void *arg)
{
	struct timespec ts = {0, 50 * 1000000L};

	nanosleep(&ts, NULL);
	izc_stream_cancel(arg);
	return NULL;
}

/* Bytes read from fd until it is empty; *marked counts those equal to mark. */
static size_t read_all_fd(int fd, int mark, size_t *marked)
{
	unsigned char chunk[4096];
	size_t total = 0;
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		total += (size_t)n;
		for (ssize_t i = 0; i < n; i++)
			*marked += chunk[i] == mark;
	}
	return total;
}

/*
 * Fileio output: the kernel takes half a block (write() returns 4096 of
 * 8192, the next one EAGAIN) and a cancel ends the wait for room. That half
 * is in the device's data now: the block must stay the stream's and only
 * its other half go later. Handing it back to the application sent the
 * first half twice when it was enqueued again (dropping it would shift
 * everything after it).
 */
static void fileio_output_cancel_after_partial_write(struct test_ctx *t)
{
	static const unsigned char zeros[4096];
	struct izc_context *ctx = NULL;
	struct izc_stream *s = NULL;
	struct izc_block *b = NULL, *back = NULL;
	struct izc_device *dev;
	struct fake_tree ft = {0};
	size_t total = 0, marked = 0, junk = 0;
	char path[256], discard[4096];
	pthread_t th;
	void *data;
	int rfd = -1, wfd = -1, ret;

	REQUIRE_INT(t, build_tree(&ft), 0);
	snprintf(path, sizeof(path), "%s/iio:device2", ft.dev);
	REQUIRE_INT(t, mkfifo(path, 0600), 0);
	REQUIRE_INT(t, izc_context_open(ft.sysfs, ft.dev, &ctx), 0);
	REQUIRE_INT(t, izc_context_find_device(ctx, "dac0", &dev), 0);
	REQUIRE_INT(t, izc_stream_open(dev, 0, IZC_DIR_OUT, 1, 8192, IZC_STREAM_FILEIO, &s), 0);
	REQUIRE_INT(t, izc_stream_start(s), 0);
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	wfd = open(path, O_WRONLY | O_NONBLOCK);
	REQUIRE_INT(t, rfd >= 0 && wfd >= 0, 1);
	/* the "kernel" full of older data but one page */
	while (write(wfd, zeros, sizeof(zeros)) == (ssize_t)sizeof(zeros))
		junk += sizeof(zeros);
	REQUIRE_INT(t, read(rfd, discard, sizeof(discard)), sizeof(discard));
	junk -= sizeof(discard);

	REQUIRE_INT(t, izc_stream_dequeue(s, 0, &b), 0);
	REQUIRE_INT(t, izc_block_cpu_begin(b, IZC_ACCESS_WRITE, &data), 0);
	memset(data, 0x11, 8192);
	REQUIRE_INT(t, pthread_create(&th, NULL, cancel_soon, s), 0);
	ret = izc_block_enqueue(b, 0, 0);
	pthread_join(th, NULL);
	CHECK_INT(t, ret, 0); /* the stream has it: half of it went */
	if (!ret) {
		CHECK_INT(t, izc_block_cpu_begin(b, IZC_ACCESS_WRITE, &data), -EBUSY);
		/* the cancel was not used up: it ends the next wait */
		CHECK_INT(t, izc_stream_dequeue(s, 1000, &back), -ECANCELED);
		total += read_all_fd(rfd, 0x11, &marked);
		/* room again: the other half goes, and the block comes back */
		REQUIRE_INT(t, izc_stream_dequeue(s, 1000, &back), 0);
		CHECK(t, back == b);
	} else {
		/* what an application does with a block it still holds */
		total += read_all_fd(rfd, 0x11, &marked);
		CHECK_INT(t, izc_block_enqueue(b, 0, 0), 0);
	}
	total += read_all_fd(rfd, 0x11, &marked);
	CHECK_INT(t, marked, 8192);
	CHECK_INT(t, total, junk + 8192);
out:
	if (rfd >= 0)
		close(rfd);
	if (wfd >= 0)
		close(wfd);
	izc_stream_close(s);
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

TEST_SUITE(stream_suite, TEST(stream_open_errors), TEST(buffer_settings_restored),
	   TEST(fileio_input), TEST(fileio_output), TEST(timeout_partial_and_cancel),
	   TEST(two_streams_two_threads), TEST(fileio_partial_fill_not_across_restart),
	   TEST(fileio_output_cancel_after_partial_write));
