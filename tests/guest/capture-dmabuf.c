// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * capture-dmabuf: DMABUF capture from the simulated ADC (4 x s16, unpaced,
 * counter waveform).
 *
 * Part 1, the raw kernel ABI: DMABUFs from /dev/dma_heap/system and from
 * udmabuf (memfd + F_SEAL_SHRINK + UDMABUF_CREATE), 2 to 16 blocks of 4 KiB
 * to 64 MiB. All blocks are attached and enqueued while the buffer is
 * disabled (the kernel submits them at enable), then cycled: each block's
 * completion is seen through poll(POLLOUT) on its DMABUF fd, its fence
 * status (from a sync file exported right after the enqueue) is 1, and its
 * data, read between DMA_BUF_IOCTL_SYNC START and END, is the counter
 * continuing exactly where the previous block stopped. udmabuf data is read
 * through the memfd's own mapping: the DMA wrote into those pages.
 *
 * Part 2, the same through libizc streams, both DMABUF sources, no fallback.
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
	struct dma_buf_sync sync = {.flags = flags | DMA_BUF_SYNC_READ};

	return ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

static bool raw_case(struct cap_adc *a, int bfd, const struct dcase *dc, size_t *grand)
{
	const char *src = dc->src == SRC_HEAP ? "system heap" : "udmabuf";
	size_t want = 2 * dc->count * dc->size, done = 0;
	struct dblk blk[MAXBLK];
	unsigned int i, n = 0, completions = 0, bad_fence = 0, bad_poll = 0, bad_sync = 0;
	struct cap_check k;
	bool data_ok = true;
	int ret = 0;

	if (want < 8 * MiB)
		want = 8 * MiB;
	cap_check_init(&k, 0xf, 16);
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
		blk[i].map = mmap(NULL, dc->size, PROT_READ, MAP_SHARED,
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
		goto out;
	}

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
	       "across block boundaries after SYNC START/END",
	       src, dc->count, dc->size / KiB, completions, done / MiB);
out:
	izc_buffer_set_enabled(a->buf, false);
	for (i = 0; i < n; i++) {
		if (blk[i].fences >= 0) {
			struct pollfd pfd = {.fd = blk[i].dmabuf, .events = POLLOUT};

			/* Aborted by the disable; it signals, with an error. */
			poll(&pfd, 1, 5000);
			close(blk[i].fences);
		}
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
	struct izc_stream *s = NULL;
	struct cap_check k;
	size_t done = 0;
	bool ok = true;
	int ret;

	cap_check_init(&k, 0xf, 16);
	ret = izc_stream_open(a->dev, 0, IZC_DIR_IN, nblocks, size, flags | IZC_STREAM_NO_FALLBACK,
			      &s);
	if (!ret && izc_stream_backend(s) != IZC_BACKEND_DMABUF)
		ret = -EPROTO;
	if (!ret)
		ret = izc_stream_start(s);
	if (!tap_success(ret, -ret, "libizc %s: DMABUF stream of %u x %zu KiB starts", src, nblocks,
			 size / KiB)) {
		tap_ok(false, "libizc %s: no data", src);
		if (s)
			izc_stream_close(s);
		return;
	}
	while (ok && done < want) {
		struct izc_block *b;
		void *p;

		ret = izc_stream_dequeue(s, 20000, &b);
		if (!ret)
			ret = izc_block_cpu_begin(b, IZC_ACCESS_READ, &p);
		if (ret || izc_block_bytes_used(b) != size) {
			tap_diag("dequeue/cpu_begin: %d", ret);
			ok = false;
			break;
		}
		ok = cap_check_data(&k, p, size);
		done += size;
		if (izc_block_cpu_end(b) || izc_block_enqueue(b, 0, 0))
			ok = false;
	}
	izc_stream_close(s);
	tap_ok(ok && k.n == done / k.frame && done >= want,
	       "libizc %s %u x %zu KiB: %zu MiB of counter data exact from n = 0", src, nblocks,
	       size / KiB, done / MiB);
}

int main(void)
{
	struct cap_adc a = {0};
	size_t grand = 0;
	int devfd, bfd = 0, ret;

	tap_plan(5 + 2 * NCASES + 4);
	alarm(170);

	ret = tap_load_sim_adc("sampling_frequency=0");
	if (!tap_success(ret, -ret, "modules load, izc_sim_adc unpaced"))
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
