// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dma-transfer-error: a DMA transfer that fails in the middle of a stream
 * (the soft DMA's fail_transfers parameter: the next transfer ends with
 * DMA_TRANS_WRITE_FAILED / READ_FAILED, its samples go by and none reach
 * memory or the converter). Upstream's buffer-dma ignores the result: the
 * fence signals success and read() joins the data around the hole. Ours:
 *  - DMABUF: that transfer's fence carries -EIO, the others signal success;
 *  - fileio: read() stops in front of the hole and the next read() fails
 *    with EIO, exactly once; the data after it is one block further on;
 *  - libizc, both backends, input: exactly one dequeue returns -EIO, every
 *    block handed out holds the counter, the hole is at a block boundary
 *    (fileio with kernel blocks half the library's: a library block with
 *    the hole in its middle is dropped, never joined across it);
 *  - libizc, both backends, output: exactly one dequeue returns -EIO and
 *    the stream goes on;
 *  - a cyclic output block whose pass fails stops repeating: its fence,
 *    pending while it repeated, carries -EIO;
 *  - fileio input drained after a disable: a read() that stopped in front
 *    of the hole before the disable is followed by one EIO after it, not
 *    by the data behind the hole;
 *  - fileio output: a blocking write() of two blocks whose second free
 *    block is the failed one takes both (the IIO core would turn an EIO
 *    there into a failed write() after part of it was taken, and the data
 *    would go out twice when sent again); the next write() fails with EIO
 *    and takes nothing: the DAC gets exactly the blocks write() accepted;
 *  - the converters count the transfer in blocks_failed, not as an overrun
 *    or underflow; fail_transfers reads 0 once used.
 * The converters are paced (100 kS/s, 10 ms per block; 8 blocks and the
 * 20 ms FIFO ride out host stalls below 100 ms), so every transfer starts
 * long after its block was queued and its fence exported.
 */
#include <sys/mman.h>

#include "capture-util.h"
#include "sim-pair.h"

#define NCHAN	    4
#define NBLOCKS	    8
#define BLOCK	    16384
#define FRAME	    16 /* 4 x s32 */
#define FRAMES	    (BLOCK / FRAME)
#define GOOD_BEFORE 6
#define GOOD_AFTER  6
/* Dequeues a failure may take to show up: the blocks queued before it. */
#define LOOK_AHEAD (NBLOCKS + 4)
#define FAIL_XFERS "/sys/module/izc_soft_dma/parameters/fail_transfers"

static long long fail_left(void)
{
	char buf[32];

	if (tool_read_file(FAIL_XFERS, buf, sizeof(buf)) < 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

static int inject_one(void)
{
	return tool_write_file(FAIL_XFERS, "1");
}

/* Converter counters that must not move for a failed transfer. */
struct stats {
	long long failed, lost_events, lost_samples;
};

static void stats_read(struct izc_device *dev, bool dac, struct stats *st)
{
	long long v;

	st->failed = izc_device_attr_read_ll(dev, "blocks_failed", &v) ? -1 : v;
	st->lost_events =
		izc_device_attr_read_ll(dev, dac ? "underflow_events" : "overrun_events", &v) ? -1
											      : v;
	st->lost_samples =
		izc_device_attr_read_ll(dev, dac ? "underflow_samples" : "overrun_samples", &v) ? -1
												: v;
}

/* The counters after one failed transfer, against @before. */
static void stats_check(struct izc_device *dev, bool dac, const struct stats *before,
			const char *what)
{
	struct stats after;

	stats_read(dev, dac, &after);
	tap_ok(before->failed >= 0 && after.failed == before->failed + 1 &&
		       after.lost_events == before->lost_events &&
		       after.lost_samples == before->lost_samples && fail_left() == 0,
	       "%s: blocks_failed +1 (%lld -> %lld), %s unchanged (%lld -> %lld), fail_transfers "
	       "used up (%lld)",
	       what, before->failed, after.failed, dac ? "underflows" : "overruns",
	       before->lost_samples, after.lost_samples, fail_left());
}

/*
 * libizc input. Fileio runs with kernel blocks half the library's (the
 * watermark set below the library's after open), so the hole can fall in
 * the middle of a library block: that block must be dropped, not handed out
 * joined across the hole. The counter check runs in gap mode: exactly one
 * forward jump, at a block boundary, of one library block (the hole and,
 * for fileio, the good half read before it) or, for fileio, of the failed
 * half only (the hole at the start of a library block).
 */
static void lib_input(struct izc_device *dev, unsigned int flags, const char *name)
{
	int ret, eio = 0, other = 0, good_after = 0;
	bool fileio = flags & IZC_STREAM_FILEIO;
	struct izc_stream *s = NULL;
	struct izc_buffer *buf = NULL;
	struct cap_check k;
	struct stats before;
	bool data_ok = true, gap_ok;

	cap_check_init(&k, 0xf, 32);
	k.gap_mode = true;
	stats_read(dev, false, &before);
	ret = izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK,
			      flags ? flags : IZC_STREAM_NO_FALLBACK, &s);
	if (!ret && fileio)
		ret = izc_device_get_buffer(dev, 0, &buf);
	if (!ret && fileio)
		ret = izc_buffer_set_watermark(buf, FRAMES / 2);
	if (!ret)
		ret = izc_stream_start(s);
	for (int i = 0; !ret && i < GOOD_BEFORE; i++)
		ret = cap_stream_turn(s, &k, BLOCK, 0, NULL);
	if (!ret)
		ret = inject_one();
	for (int i = 0; !ret && good_after < GOOD_AFTER && i < LOOK_AHEAD + GOOD_AFTER; i++) {
		int r = cap_stream_turn(s, &k, BLOCK, 0, NULL);

		if (r == -EIO) {
			eio++;
		} else if (r == -EBADMSG) {
			data_ok = false;
			good_after += eio > 0;
		} else if (r) {
			other = r;
			break;
		} else {
			good_after += eio > 0;
		}
	}
	gap_ok = k.gaps == 1 && (k.last_gap_at - 1) % FRAMES == 0 &&
		 (k.gap_frames == FRAMES || (fileio && k.gap_frames == FRAMES / 2));
	tap_ok(!ret && !other && eio == 1,
	       "%s input: exactly one dequeue is -EIO (%d of them; setup %d, other error %d)", name,
	       eio, ret, other);
	tap_ok(!ret && data_ok && k.errors == 0 && good_after == GOOD_AFTER && gap_ok,
	       "%s input: blocks handed out hold the counter, %d before the hole, %d after it; "
	       "one jump (%u) of %llu frames at a block boundary (frame %llu)",
	       name, GOOD_BEFORE, good_after, k.gaps, (unsigned long long)k.gap_frames,
	       (unsigned long long)(k.last_gap_at ? k.last_gap_at - 1 : 0));
	izc_stream_close(s);
	stats_check(dev, false, &before, name);
}

static void lib_output(struct izc_device *dev, unsigned int flags, const char *name)
{
	int ret, eio = 0, other = 0, good_after = 0;
	struct izc_stream *s = NULL;
	struct izc_block *b;
	struct stats before;

	stats_read(dev, true, &before);
	ret = izc_stream_open(dev, 0, IZC_DIR_OUT, NBLOCKS, BLOCK,
			      flags ? flags : IZC_STREAM_NO_FALLBACK, &s);
	if (!ret)
		ret = izc_stream_start(s);
	/* The first NBLOCKS dequeues hand out fresh blocks. */
	for (int i = 0; !ret && i < NBLOCKS + GOOD_BEFORE; i++) {
		ret = izc_stream_dequeue(s, 20000, &b);
		if (!ret)
			ret = izc_block_enqueue(b, BLOCK, 0);
	}
	if (!ret)
		ret = inject_one();
	for (int i = 0; !ret && good_after < GOOD_AFTER && i < LOOK_AHEAD + GOOD_AFTER; i++) {
		int r = izc_stream_dequeue(s, 20000, &b);

		if (r == -EIO) {
			eio++;
			continue;
		}
		if (r) {
			other = r;
			break;
		}
		good_after += eio > 0;
		ret = izc_block_enqueue(b, BLOCK, 0);
	}
	tap_ok(!ret && !other && eio == 1 && good_after == GOOD_AFTER,
	       "%s output: exactly one dequeue is -EIO (%d), %d blocks go out after it (setup %d, "
	       "other error %d)",
	       name, eio, good_after, ret, other);
	izc_stream_close(s);
	stats_check(dev, true, &before, name);
}

/* Counter frames from @n0 in @p (BLOCK bytes), every channel. */
static bool raw_counter_ok(const uint32_t *p, uint64_t n0)
{
	for (size_t f = 0; f < FRAMES; f++)
		for (unsigned int c = 0; c < NCHAN; c++)
			if (p[f * NCHAN + c] != (uint32_t)(n0 + f + ((uint64_t)c << 28))) {
				tap_diag("frame %zu ch %u: 0x%x, want 0x%llx", f, c,
					 p[f * NCHAN + c],
					 (unsigned long long)(uint32_t)(n0 + f +
									((uint64_t)c << 28)));
				return false;
			}
	return true;
}

/*
 * Raw DMABUF: NBLOCKS DMABUFs in a ring, a sync file exported after each
 * ENQUEUE. One transfer fails: its fence, and only its, says -EIO.
 */
static void raw_dmabuf(const struct iiodev *adc, struct izc_device *dev)
{
	int dbuf[NBLOCKS], sync[NBLOCKS], bfd = 0, devfd, ret = 0, i;
	int eio = 0, bad = 0, good_after = 0, n = 0;
	void *map[NBLOCKS];
	struct stats before;
	uint64_t next = 0;

	stats_read(dev, false, &before);
	devfd = dev_open(adc, O_RDWR);
	if (devfd < 0 || ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &bfd))
		tap_bail("buffer fd: %s", strerror(errno));
	for (i = 0; i < NBLOCKS; i++) {
		dbuf[i] = heap_alloc(BLOCK);
		if (dbuf[i] < 0)
			tap_bail("heap: %s", strerror(-dbuf[i]));
		map[i] = mmap(NULL, BLOCK, PROT_READ | PROT_WRITE, MAP_SHARED, dbuf[i], 0);
		if (map[i] == MAP_FAILED)
			tap_bail("mmap: %s", strerror(errno));
		memset(map[i], CAP_POISON, BLOCK);
		if (!ret)
			ret = dmabuf_attach(bfd, dbuf[i]);
		if (!ret)
			ret = dmabuf_enqueue(bfd, dbuf[i], BLOCK, 0);
		sync[i] = fence_export(dbuf[i]);
	}
	if (!ret)
		ret = buffer_enable(adc, 1);
	for (n = 0; !ret && good_after < GOOD_AFTER && n < GOOD_BEFORE + LOOK_AHEAD + GOOD_AFTER;
	     n++) {
		struct dma_buf_sync s = {.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW};
		int st;

		i = n % NBLOCKS;
		if (n == GOOD_BEFORE)
			ret = inject_one();
		if (!ret)
			ret = dmabuf_wait_idle(dbuf[i], 20000);
		st = fence_status(sync[i]);
		close(sync[i]);
		if (ret)
			break;
		if (st == -EIO) {
			eio++;
		} else if (st != 1) {
			tap_diag("block %d: fence status %d", n, st);
			bad++;
		} else {
			ioctl(dbuf[i], DMA_BUF_IOCTL_SYNC, &s);
			if (!raw_counter_ok(map[i], next))
				bad++;
			good_after += eio > 0;
			memset(map[i], CAP_POISON, BLOCK);
			s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
			ioctl(dbuf[i], DMA_BUF_IOCTL_SYNC, &s);
		}
		next += FRAMES;
		ret = dmabuf_enqueue(bfd, dbuf[i], BLOCK, 0);
		sync[i] = fence_export(dbuf[i]);
	}
	tap_ok(!ret && eio == 1 && !bad,
	       "DMABUF: one fence carries -EIO (%d of them), the others signal success and hold "
	       "the counter (%d bad; setup %d)",
	       eio, bad, ret);
	tap_ok(good_after == GOOD_AFTER,
	       "DMABUF: the stream goes on after the failed transfer, one block further on (%d "
	       "blocks)",
	       good_after);
	buffer_enable(adc, 0);
	for (i = 0; i < NBLOCKS; i++) {
		if (sync[i] >= 0)
			close(sync[i]);
		dmabuf_detach(bfd, dbuf[i]);
		munmap(map[i], BLOCK);
		close(dbuf[i]);
	}
	close(bfd);
	close(devfd);
	stats_check(dev, false, &before, "DMABUF");
}

/* Raw fileio: read() block by block; the failed one is one EIO. */
static void raw_fileio(const struct iiodev *adc, struct izc_device *dev)
{
	int fd, ret, eio = 0, bad = 0, good_after = 0, other = 0;
	static uint32_t buf[BLOCK / 4];
	struct stats before;
	uint64_t next = 0;

	stats_read(dev, false, &before);
	fd = dev_open(adc, O_RDONLY);
	ret = fd < 0 ? -errno : buffer_enable(adc, 1);
	for (int n = 0;
	     !ret && good_after < GOOD_AFTER && n < GOOD_BEFORE + LOOK_AHEAD + GOOD_AFTER; n++) {
		ssize_t got;

		if (n == GOOD_BEFORE)
			ret = inject_one();
		memset(buf, CAP_POISON, sizeof(buf));
		got = read(fd, buf, BLOCK);
		if (got < 0 && errno == EIO) {
			eio++;
			next += FRAMES;
			continue;
		}
		if (got != BLOCK) {
			other = got < 0 ? -errno : (int)got;
			break;
		}
		if (!raw_counter_ok(buf, next))
			bad++;
		good_after += eio > 0;
		next += FRAMES;
	}
	tap_ok(!ret && !other && eio == 1,
	       "fileio: exactly one read() fails with EIO (%d of them; setup %d, other %d)", eio,
	       ret, other);
	tap_ok(!bad && good_after == GOOD_AFTER,
	       "fileio: whole blocks of the counter around it, %d after the hole, one block "
	       "further "
	       "on (%d bad)",
	       good_after, bad);
	buffer_enable(adc, 0);
	if (fd >= 0)
		close(fd);
	stats_check(dev, false, &before, "fileio");
}

/* Raw cyclic DMABUF output: a failed pass ends the repetition with -EIO. */
static void raw_cyclic(const struct iiodev *dac, struct izc_device *dev)
{
	int bfd = 0, devfd, dbuf, sync = -1, ret, st_repeat = -100, st_end = -100;
	long long passes0 = -1, passes1 = -1;
	struct timespec ts = {0, 50 * 1000000L};
	struct stats before, after;

	stats_read(dev, true, &before);
	ret = buffer_setup(dac, "out", NCHAN, NBLOCKS * FRAMES, FRAMES);
	devfd = dev_open(dac, O_RDWR);
	if (devfd < 0 || ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &bfd))
		tap_bail("DAC buffer fd: %s", strerror(errno));
	dbuf = heap_alloc(BLOCK);
	if (dbuf < 0)
		tap_bail("heap: %s", strerror(-dbuf));
	if (!ret)
		ret = dmabuf_attach(bfd, dbuf);
	if (!ret)
		ret = buffer_enable(dac, 1);
	if (!ret)
		ret = dmabuf_enqueue(bfd, dbuf, BLOCK, IIO_BUFFER_DMABUF_CYCLIC);
	if (!ret) {
		sync = fence_export(dbuf);
		passes0 = attr_read(dac, "blocks_completed");
		nanosleep(&ts, NULL); /* about 5 passes of 10 ms */
		passes1 = attr_read(dac, "blocks_completed");
		st_repeat = fence_status(sync);
		ret = inject_one();
	}
	if (!ret)
		ret = dmabuf_wait_idle(dbuf, 5000);
	if (sync >= 0)
		st_end = fence_status(sync);
	tap_ok(!ret && st_repeat == 0 && passes1 > passes0,
	       "cyclic: repeats (%lld -> %lld passes) with its fence pending (%d; setup %d)",
	       passes0, passes1, st_repeat, ret);
	tap_ok(!ret && st_end == -EIO, "cyclic: a failed pass ends it, the fence carries -EIO (%d)",
	       st_end);
	buffer_enable(dac, 0);
	if (sync >= 0)
		close(sync);
	dmabuf_detach(bfd, dbuf);
	close(dbuf);
	close(bfd);
	close(devfd);
	/* Not the underflows: with the repetition over, the DAC legitimately runs dry. */
	stats_read(dev, true, &after);
	tap_ok(before.failed >= 0 && after.failed == before.failed + 1 && fail_left() == 0,
	       "cyclic: blocks_failed +1 (%lld -> %lld), fail_transfers used up (%lld)",
	       before.failed, after.failed, fail_left());
}

/*
 * Raw fileio input: block 1 is under way when the fault is armed, so block
 * 2 fails. Once all blocks are done, one read() of every block stops in
 * front of the hole; the buffer is disabled; then the drain goes on.
 */
static void raw_fileio_drain(const struct iiodev *adc)
{
	static uint32_t buf[NBLOCKS * BLOCK / 4];
	long first = -1, second = -1, third = -1;
	int fd, ret;

	/* Non-blocking: a wrong answer must not leave a read() waiting forever. */
	fd = dev_open(adc, O_RDONLY | O_NONBLOCK);
	ret = fd < 0 ? -errno : buffer_enable(adc, 1);
	if (!ret) {
		nanosleep(&(struct timespec){0, 3 * 1000000L}, NULL);
		ret = inject_one();
	}
	if (!ret) {
		/* 8 blocks of 10 ms, and some slack. */
		nanosleep(&(struct timespec){0, 150 * 1000000L}, NULL);
		first = read(fd, buf, sizeof(buf));
		first = first < 0 ? -errno : first;
		if (first == BLOCK && !raw_counter_ok(buf, 0))
			first = -2000;
		ret = buffer_enable(adc, 0);
	}
	if (!ret) {
		second = read(fd, buf, sizeof(buf));
		second = second < 0 ? -errno : second;
		third = read(fd, buf, BLOCK);
		third = third < 0 ? -errno : third;
		if (third == BLOCK && !raw_counter_ok(buf, 2 * FRAMES))
			third = -2000;
	}
	tap_ok(!ret && first == BLOCK,
	       "fileio drain: a read() of all blocks stops in front of the failed block 2 (%ld; "
	       "setup %d)",
	       first, ret);
	tap_ok(second == -EIO, "fileio drain: after the disable the next read() is EIO (%ld)",
	       second);
	tap_ok(third == BLOCK, "fileio drain: then block 3, two blocks of frames on (%ld)", third);
	if (fd >= 0)
		close(fd);
}

static int write_block(int fd, const void *p, size_t len)
{
	ssize_t n = write(fd, p, len);

	return n < 0 ? -errno : (int)n;
}

/* DAC transfers that ended, good or failed; -1 on error. */
static long long dac_ended(const struct iiodev *dac)
{
	long long done = attr_read(dac, "blocks_completed"),
		  failed = attr_read(dac, "blocks_failed");

	return done < 0 || failed < 0 ? -1 : done + failed;
}

/*
 * Raw fileio output at 25 kS/s (41 ms per 16 KiB block): block A goes out,
 * the fault is armed for the next one (B), the other 7 blocks are queued.
 * A write() of two blocks then waits for A (good) and B (failed).
 */
static void raw_write(const struct iiodev *dac)
{
	static uint32_t buf[2 * BLOCK / 4];
	long long ended0, ended = -1;
	int fd, ret, two = 0, eio = 0, after = 0, written = 0;

	memset(buf, 0x5a, sizeof(buf));
	ret = attr_write(dac, "sampling_frequency", "25000");
	if (!ret)
		ret = buffer_setup(dac, "out", NCHAN, NBLOCKS * FRAMES, FRAMES);
	fd = dev_open(dac, O_WRONLY);
	if (fd < 0)
		tap_bail("DAC node: %s", strerror(errno));
	ended0 = dac_ended(dac);
	if (!ret)
		ret = buffer_enable(dac, 1);
	if (!ret && (ret = write_block(fd, buf, BLOCK)) == BLOCK) {
		written++;
		nanosleep(&(struct timespec){0, 5 * 1000000L}, NULL);
		ret = inject_one();
	}
	for (int i = 1; !ret && i < NBLOCKS; i++) {
		ret = write_block(fd, buf, BLOCK);
		if (ret == BLOCK) {
			written++;
			ret = 0;
		}
	}
	if (!ret) {
		two = write_block(fd, buf, 2 * BLOCK);
		written += two == 2 * BLOCK ? 2 : 0;
		eio = write_block(fd, buf, BLOCK);
		after = write_block(fd, buf, BLOCK);
		written += after == BLOCK;
	}
	tap_ok(!ret && two == 2 * BLOCK,
	       "fileio output: a write() of 2 blocks across the failed one takes both (%d; setup "
	       "%d)",
	       two, ret);
	tap_ok(eio == -EIO && after == BLOCK,
	       "fileio output: the next write() fails with EIO (%d), the one after takes its block "
	       "(%d)",
	       eio, after);
	/* Every accepted block ends, good or failed, and nothing more. */
	for (int i = 0; i < 300 && ended0 >= 0; i++) {
		ended = dac_ended(dac) - ended0;
		if (ended >= written)
			break;
		nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
	}
	nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
	ended = ended0 >= 0 ? dac_ended(dac) - ended0 : -1;
	tap_ok(ended == written,
	       "fileio output: the DAC ends exactly the %d blocks write() accepted (%lld)", written,
	       ended);
	buffer_enable(dac, 0);
	close(fd);
	attr_write(dac, "sampling_frequency", "100000");
}

int main(void)
{
	struct izc_device *adcdev = NULL, *dacdev = NULL;
	struct izc_buffer *abuf = NULL, *dbuf = NULL;
	struct izc_context *ctx = NULL;
	struct iiodev adc, dac;
	int ret;

	tap_plan(29);
	load_modules("sampling_frequency=100000 sample_bits=32",
		     "sampling_frequency=100000 sample_bits=32");
	tap_ok(fail_left() == 0, "fail_transfers is 0 at load (%lld)", fail_left());
	ret = tool_write_file(FAIL_XFERS, "-1");
	tap_errno(ret, -ret, EINVAL, "fail_transfers=-1: EINVAL");
	ret = tool_write_file(FAIL_XFERS, "2147483648");
	tap_errno(ret, -ret, ERANGE, "fail_transfers=2^31: ERANGE");

	ret = izc_context_open(NULL, NULL, &ctx);
	if (!ret)
		ret = cap_find_buffer(ctx, "izc-sim-adc0", 0xf, &adcdev, &abuf);
	if (!ret)
		ret = cap_find_buffer(ctx, "izc-sim-dac0", 0xf, &dacdev, &dbuf);
	if (!ret)
		ret = iio_find("izc-sim-adc0", &adc);
	if (!ret)
		ret = iio_find("izc-sim-dac0", &dac);
	if (!ret)
		ret = buffer_setup(&adc, "in", NCHAN, NBLOCKS * FRAMES, FRAMES);
	if (!tap_ok(!ret,
		    "izc-sim-adc0 and izc-sim-dac0: 4 x s32 at 100 kS/s, 4 blocks of 16 KiB "
		    "(%d)",
		    ret))
		tap_bail("setup failed");

	raw_dmabuf(&adc, adcdev);
	raw_fileio(&adc, adcdev);
	raw_fileio_drain(&adc);
	lib_input(adcdev, 0, "libizc DMABUF");
	lib_input(adcdev, IZC_STREAM_FILEIO, "libizc fileio");
	lib_output(dacdev, 0, "libizc DMABUF");
	lib_output(dacdev, IZC_STREAM_FILEIO, "libizc fileio");
	raw_cyclic(&dac, dacdev);
	raw_write(&dac);
	izc_context_close(ctx);
	return tap_done();
}
