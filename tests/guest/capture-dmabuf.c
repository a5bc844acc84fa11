// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * capture-dmabuf: DMABUF capture from the simulated ADC (4 x s32, unpaced,
 * counter waveform). s32, because the s16 counter repeats every 65536
 * frames: blocks (or rings of blocks) of a multiple of that many frames
 * would let a lost, duplicated or stale block pass; the s32 counter only
 * wraps after 2^32 frames (64 GiB here).
 *
 * Part 1, the raw kernel ABI: DMABUFs from /dev/dma_heap/system and from
 * udmabuf (memfd + F_SEAL_SHRINK + UDMABUF_CREATE), 2 to 16 blocks of 4 KiB
 * to 64 MiB. All blocks are attached and enqueued while the buffer is
 * disabled (the kernel submits them at enable), then cycled: each block's
 * completion is seen through poll(POLLOUT) on its DMABUF fd, its fence
 * status (from a sync file exported right after the enqueue) is 1, and its
 * data, read between DMA_BUF_IOCTL_SYNC START and END, is the counter
 * continuing exactly where the previous block stopped. Before each block is
 * enqueued again the CPU poisons it (SYNC START/END for write), so a block
 * the device did not fill again fails. udmabuf data is read and poisoned
 * through the memfd's own mapping: the DMA wrote into those pages. After
 * the disable, the blocks whose fence signalled success are checked too, and
 * blocks_completed and bytes_completed must have grown by exactly the blocks
 * seen complete.
 *
 * Part 2, the same through libizc streams, both DMABUF sources, no fallback,
 * with the same poisoning and blocks_completed/bytes_completed accounting.
 */
#define _GNU_SOURCE
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/iio/buffer.h>
#include <linux/sync_file.h>
#include <linux/udmabuf.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "capture-util.h"

#define KiB    (1024ul)
#define MiB    (1024ul * 1024ul)
#define MAXBLK 16

enum src {
	SRC_HEAP,
	SRC_UDMABUF
};

struct dcase {
	enum src src;
	size_t size;
	unsigned int count;
};

static const struct dcase cases[] = {
	{SRC_HEAP, 4 * KiB, 16},     {SRC_HEAP, 64 * KiB, 2},	{SRC_HEAP, 1 * MiB, 8},
	{SRC_HEAP, 16 * MiB, 4},     {SRC_HEAP, 64 * MiB, 2},	{SRC_UDMABUF, 4 * KiB, 2},
	{SRC_UDMABUF, 64 * KiB, 16}, {SRC_UDMABUF, 1 * MiB, 4}, {SRC_UDMABUF, 16 * MiB, 8},
	{SRC_UDMABUF, 64 * MiB, 2},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct dblk {
	int dmabuf;
	int memfd;  /* udmabuf only */
	int fences; /* sync file exported at the last enqueue */
	void *map;  /* what the CPU reads: the DMABUF, or the memfd for udmabuf */
};

static int alloc_heap(size_t size)
{
	struct dma_heap_allocation_data alloc = {.len = size, .fd_flags = O_RDWR | O_CLOEXEC};
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	int ret;

	if (heap < 0)
		return -errno;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc) ? -errno : (int)alloc.fd;
	close(heap);
	return ret;
}

static int alloc_udmabuf(size_t size, int *memfd)
{
	struct udmabuf_create create = {.flags = UDMABUF_FLAGS_CLOEXEC, .size = size};
	int dev, ret;

	*memfd = memfd_create("capture-dmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (*memfd < 0)
		return -errno;
	if (ftruncate(*memfd, size) || fcntl(*memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		return -errno;
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	create.memfd = *memfd;
	ret = ioctl(dev, UDMABUF_CREATE, &create);
	ret = ret < 0 ? -errno : ret;
	close(dev);
	return ret;
}

/* Sync file of the DMABUF's pending fences: must follow the enqueue at once. */
static int export_fences(int dmabuf)
{
	struct dma_buf_export_sync_file exp = {.flags = DMA_BUF_SYNC_READ};

	if (ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp))
		return -errno;
	return exp.fd;
}

/* 1 signalled ok, 0 pending, < 0 the fence error; closes the sync file. */
static int fence_status(int sync_fd)
{
	struct sync_file_info info = {0};
	int ret;

	if (sync_fd < 0)
		return -1000 + sync_fd;
	ret = ioctl(sync_fd, SYNC_IOC_FILE_INFO, &info);
	close(sync_fd);
	return ret ? -2000 - errno : info.status;
}

static int enqueue(int bfd, struct dblk *b, size_t size)
{
	struct iio_dmabuf req = {.fd = b->dmabuf, .bytes_used = size};

	if (ioctl(bfd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, &req))
		return -errno;
	b->fences = export_fences(b->dmabuf);
	return b->fences < 0 ? b->fences : 0;
}

static int cpu_sync(int dmabuf, __u64 flags)
{
	struct dma_buf_sync sync = {.flags = flags | DMA_BUF_SYNC_RW};

	return ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

static bool raw_case(struct cap_adc *a, int bfd, const struct dcase *dc, size_t *grand)
{
	const char *src = dc->src == SRC_HEAP ? "system heap" : "udmabuf";
	size_t want = 2 * dc->count * dc->size, done = 0;
	long long blk0 = cap_attr_ll(a, "blocks_completed");
	long long byt0 = cap_attr_ll(a, "bytes_completed");
	struct dblk blk[MAXBLK];
	unsigned int i, j, n = 0, completions = 0, bad_fence = 0, bad_poll = 0, bad_sync = 0;
	unsigned int tail = 0, tail_aborted = 0;
	bool started = false, tail_ok = true;
	struct cap_check k;
	bool data_ok = true;
	int ret = 0;

	if (want < 8 * MiB)
		want = 8 * MiB;
	cap_check_init(&k, 0xf, 32);
	memset(blk, 0, sizeof(blk));
	for (i = 0; i < dc->count && !ret; i++, n++) {
		blk[i].memfd = -1;
		blk[i].fences = -1;
		ret = dc->src == SRC_HEAP ? alloc_heap(dc->size)
					  : alloc_udmabuf(dc->size, &blk[i].memfd);
		if (ret < 0)
			break;
		blk[i].dmabuf = ret;
		ret = ioctl(bfd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, &blk[i].dmabuf) ? -errno : 0;
		if (ret)
			break;
		blk[i].map = mmap(NULL, dc->size, PROT_READ | PROT_WRITE, MAP_SHARED,
				  dc->src == SRC_HEAP ? blk[i].dmabuf : blk[i].memfd, 0);
		if (blk[i].map == MAP_FAILED) {
			ret = -errno;
			break;
		}
		/* Queued while disabled: the kernel submits these at enable. */
		ret = enqueue(bfd, &blk[i], dc->size);
	}
	if (!ret)
		ret = izc_buffer_set_enabled(a->buf, true);
	if (!tap_success(ret, -ret, "%s: %u x %zu KiB allocated, attached, enqueued, enabled", src,
			 dc->count, dc->size / KiB)) {
		tap_ok(false, "%s %u x %zu KiB: no data", src, dc->count, dc->size / KiB);
		tap_ok(false, "%s %u x %zu KiB: no data", src, dc->count, dc->size / KiB);
		goto out;
	}
	started = true;

	for (i = 0; done < want && data_ok; i = (i + 1) % dc->count) {
		struct pollfd pfd = {.fd = blk[i].dmabuf, .events = POLLOUT};
		int st;

		/* Completion: the DMABUF becomes writable again once its fence signals. */
		if (poll(&pfd, 1, 20000) != 1 || !(pfd.revents & POLLOUT)) {
			bad_poll++;
			data_ok = false;
			break;
		}
		st = fence_status(blk[i].fences);
		blk[i].fences = -1;
		if (st != 1) {
			tap_diag("block %u: fence status %d", i, st);
			bad_fence++;
		}
		if (cpu_sync(blk[i].dmabuf, DMA_BUF_SYNC_START))
			bad_sync++;
		data_ok = cap_check_data(&k, blk[i].map, dc->size);
		cap_poison(blk[i].map, dc->size);
		if (cpu_sync(blk[i].dmabuf, DMA_BUF_SYNC_END))
			bad_sync++;
		done += dc->size;
		completions++;
		ret = enqueue(bfd, &blk[i], dc->size);
		if (ret) {
			tap_diag("re-enqueue: %d", ret);
			data_ok = false;
		}
	}
	*grand += done;
	tap_ok(data_ok && !bad_fence && !bad_poll && !bad_sync && done >= want &&
		       k.n == done / k.frame,
	       "%s %u x %zu KiB: %u completions via POLLOUT, fences ok, %zu MiB exact "
	       "across block boundaries after SYNC START/END, poisoned before each enqueue",
	       src, dc->count, dc->size / KiB, completions, done / MiB);
out:
	izc_buffer_set_enabled(a->buf, false);
	/*
	 * The blocks still queued, in queue order from i: those the device had
	 * completed before the disable (fence status 1) come first and continue
	 * the counter; the rest were aborted (fence error).
	 */
	for (j = 0; j < n; j++) {
		unsigned int q = (i + j) % n;
		struct pollfd pfd = {.fd = blk[q].dmabuf, .events = POLLOUT};
		int st;

		if (blk[q].fences < 0)
			continue;
		poll(&pfd, 1, 5000);
		st = fence_status(blk[q].fences);
		blk[q].fences = -1;
		if (!started || !data_ok)
			continue;
		if (st == 1 && !tail_aborted) {
			tail++;
			tail_ok = !cpu_sync(blk[q].dmabuf, DMA_BUF_SYNC_START) &&
				  cap_check_data(&k, blk[q].map, dc->size) &&
				  !cpu_sync(blk[q].dmabuf, DMA_BUF_SYNC_END) && tail_ok;
		} else if (st < 0) {
			tail_aborted++;
		} else {
			tap_diag("after disable: block %u fence status %d", q, st);
			tail_ok = false;
		}
	}
	if (started) {
		long long dblk = cap_attr_ll(a, "blocks_completed") - blk0;
		long long dbyt = cap_attr_ll(a, "bytes_completed") - byt0;

		tap_ok(data_ok && tail_ok && blk0 >= 0 && byt0 >= 0 &&
			       dblk == (long long)(completions + tail) &&
			       dbyt == (long long)((completions + tail) * dc->size),
		       "%s %u x %zu KiB: blocks_completed +%lld, bytes_completed +%lld == %u "
		       "blocks seen complete (%u of them after the disable, checked), %u "
		       "aborted",
		       src, dc->count, dc->size / KiB, dblk, dbyt, completions + tail, tail,
		       tail_aborted);
	}
	for (i = 0; i < n; i++) {
		if (blk[i].map && blk[i].map != MAP_FAILED)
			munmap(blk[i].map, dc->size);
		if (blk[i].dmabuf > 0) {
			ioctl(bfd, IIO_BUFFER_DMABUF_DETACH_IOCTL, &blk[i].dmabuf);
			close(blk[i].dmabuf);
		}
		if (blk[i].memfd >= 0)
			close(blk[i].memfd);
	}
	return data_ok;
}

static void lib_case(struct cap_adc *a, unsigned int flags, unsigned int nblocks, size_t size,
		     size_t want)
{
	const char *src = flags & IZC_STREAM_UDMABUF ? "udmabuf" : "system heap";
	long long blk0 = cap_attr_ll(a, "blocks_completed");
	long long byt0 = cap_attr_ll(a, "bytes_completed");
	unsigned long long tail_blocks = 0;
	struct izc_stream *s = NULL;
	struct cap_check k;
	size_t done = 0, tail_bytes = 0;
	long long dblk, dbyt;
	bool ok = true;
	int ret;

	cap_check_init(&k, 0xf, 32);
	ret = izc_stream_open(a->dev, 0, IZC_DIR_IN, nblocks, size, flags | IZC_STREAM_NO_FALLBACK,
			      &s);
	if (!ret && izc_stream_backend(s) != IZC_BACKEND_DMABUF)
		ret = -EPROTO;
	if (!ret)
		ret = izc_stream_start(s);
	if (!tap_success(ret, -ret, "libizc %s: DMABUF stream of %u x %zu KiB starts", src, nblocks,
			 size / KiB)) {
		tap_ok(false, "libizc %s: no data", src);
		tap_ok(false, "libizc %s: no data", src);
		if (s)
			izc_stream_close(s);
		return;
	}
	while (ok && done < want)
		ok = cap_stream_cycle(s, &k, size, &done);
	ok = cap_stream_finish(s, &k, &tail_blocks, &tail_bytes) && ok;
	izc_stream_close(s);
	dblk = cap_attr_ll(a, "blocks_completed") - blk0;
	dbyt = cap_attr_ll(a, "bytes_completed") - byt0;
	tap_ok(ok && k.n == (done + tail_bytes) / k.frame && done >= want,
	       "libizc %s %u x %zu KiB: %zu MiB of counter data exact from n = 0, blocks "
	       "poisoned before each enqueue (+%llu blocks completed before the stop)",
	       src, nblocks, size / KiB, done / MiB, tail_blocks);
	tap_ok(blk0 >= 0 && byt0 >= 0 && dblk == (long long)(done / size + tail_blocks) &&
		       dbyt == (long long)(done + tail_bytes),
	       "libizc %s: blocks_completed +%lld, bytes_completed +%lld == the %llu blocks the "
	       "reader got",
	       src, dblk, dbyt, done / size + tail_blocks);
}

int main(void)
{
	struct cap_adc a = {0};
	size_t grand = 0;
	int devfd, bfd = 0, ret;

	tap_plan(5 + 3 * NCASES + 6);
	alarm(170);

	ret = tap_load_sim_adc("sampling_frequency=0 sample_bits=32");
	if (!tap_success(ret, -ret, "modules load, izc_sim_adc unpaced, s32"))
		tap_bail("no modules");
	ret = cap_adc_open(&a, "izc-sim-adc0");
	if (!ret)
		ret = izc_buffer_set_scan_mask(a.buf, 0xf);
	/* The kernel's own fileio blocks stay small: DMABUFs carry the data. */
	if (!ret)
		ret = izc_buffer_set_length(a.buf, 4096);
	if (!tap_success(ret, -ret, "izc-sim-adc0: 4 channels enabled"))
		tap_bail("no ADC");

	devfd = open(a.node, O_RDWR | O_CLOEXEC);
	ret = devfd < 0 ? -1 : ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &bfd);
	if (!tap_success(ret, errno, "IIO_BUFFER_GET_FD_IOCTL on %s", a.node))
		tap_bail("no buffer fd");

	for (size_t i = 0; i < NCASES; i++)
		raw_case(&a, bfd, &cases[i], &grand);
	tap_ok(grand >= 512 * MiB, "raw ABI: %zu MiB verified over both DMABUF sources",
	       grand / MiB);
	close(bfd);
	close(devfd);
	tap_ok(cap_attr_ll(&a, "overrun_events") == 0, "no overrun while unpaced");

	lib_case(&a, 0, 16, 64 * KiB, 32 * MiB);
	lib_case(&a, IZC_STREAM_UDMABUF, 2, 16 * MiB, 64 * MiB);
	cap_adc_close(&a);
	return tap_done();
}
