// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sdma-bus-width: a DMA whose bus word is not a power of two. The soft
 * DMA's bus_width=3 makes it a controller with a packed 24-bit bus: it
 * advertises only DMA_SLAVE_BUSWIDTH_3_BYTES and fails to prepare a
 * transfer that is not whole words. Against it, with the simulated ADC's
 * 8-byte frames (4 x s16, counter value(n, c) = (n + c * 4096) mod 2^16):
 *  - bus_width=5 is refused at load (EINVAL);
 *  - the block buffer shows length_align_bytes 3;
 *  - fileio, which sizes its own blocks (whole frames and words: 24-byte
 *    units), streams correct data through a libizc stream of 4 KiB blocks;
 *  - a raw DMABUF ENQUEUE of 4096 bytes (not whole words) fails with
 *    EINVAL from the block buffer, before the DMA sees it; 4080 bytes
 *    transfer, the fence reports success and the data is the counter;
 *  - libizc refuses DMABUF blocks of 4096 bytes (EINVAL with
 *    IZC_STREAM_NO_FALLBACK, else a fallback to fileio saying EINVAL)
 *    and streams 4080-byte DMABUF blocks with correct data;
 *  - izc-capture says what to do with -b 4096 (exit 2) and rounds its
 *    default block to whole 24-byte units, capturing correct data over
 *    DMABUF.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>

#include "capture-util.h"
#include "sim-pair.h"

#define ADC	  "izc-sim-adc0"
#define ALL	  0xfull
#define NBLOCKS	  4
#define BAD_SIZE  4096	     /* 512 frames, not whole 3-byte words */
#define GOOD_SIZE 4080	     /* 170 units of 24 bytes */
#define STREAM	  (2u << 20) /* bytes checked per libizc stream */
#define CAPTURE	  100000     /* frames izc-capture takes */

/* Blocks of a libizc stream of @flags checked as the counter from frame 0. */
static bool stream_counter(struct izc_device *dev, size_t bsize, unsigned int flags,
			   enum izc_backend want)
{
	enum izc_backend got;
	struct izc_stream *s;
	struct cap_check k;
	size_t bytes = 0;
	bool ok;
	int ret = izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, bsize, flags, &s);

	if (ret) {
		tap_diag("stream open (%zu-byte blocks, flags %#x): %d", bsize, flags, ret);
		return false;
	}
	got = izc_stream_backend(s);
	ret = izc_stream_start(s);
	ok = !ret && got == want;
	cap_check_init(&k, ALL, 16);
	while (ok && bytes < STREAM)
		ok = cap_stream_cycle(s, &k, bsize, &bytes);
	izc_stream_close(s);
	if (!ok)
		tap_diag("backend %s, start %d, %zu bytes checked, %u wrong samples",
			 izc_backend_name(got), ret, bytes, k.errors);
	return ok;
}

/*
 * Raw ABI on the buffer fd: ENQUEUE of BAD_SIZE must fail with EINVAL, of
 * GOOD_SIZE must transfer the counter with a fence that reports success.
 */
static void raw_enqueue(struct cap_adc *a)
{
	struct dma_buf_sync sync = {.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ};
	int dfd, bfd = 0, fd, sync_fd = -1, status = 0, ret;
	void *map = MAP_FAILED;
	struct cap_check k;
	bool data = false;

	dfd = open(a->node, O_RDWR | O_CLOEXEC);
	ret = dfd < 0 ? -errno : ioctl(dfd, IIO_BUFFER_GET_FD_IOCTL, &bfd) ? -errno : 0;
	if (dfd >= 0)
		close(dfd);
	fd = ret ? ret : heap_alloc(BAD_SIZE);
	ret = fd < 0 ? fd : dmabuf_attach(bfd, fd);
	if (ret)
		tap_bail("buffer fd, heap DMABUF and ATTACH: %d", ret);
	map = mmap(NULL, BAD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map != MAP_FAILED)
		cap_poison(map, BAD_SIZE);

	ret = dmabuf_enqueue(bfd, fd, BAD_SIZE, 0);
	tap_errno(ret, -ret, EINVAL, "raw ENQUEUE of %d bytes, not whole 3-byte words: EINVAL",
		  BAD_SIZE);

	ret = dmabuf_enqueue(bfd, fd, GOOD_SIZE, 0);
	if (!ret)
		ret = sync_fd = fence_export(fd);
	if (ret >= 0)
		ret = izc_buffer_set_enabled(a->buf, true);
	if (!ret)
		ret = dmabuf_wait_idle(fd, 10000);
	if (!ret)
		status = fence_status(sync_fd);
	if (status == 1 && map != MAP_FAILED && !ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync)) {
		const unsigned char *tail = (const unsigned char *)map + GOOD_SIZE;

		cap_check_init(&k, ALL, 16);
		data = cap_check_data(&k, map, GOOD_SIZE);
		for (size_t i = 0; i < BAD_SIZE - GOOD_SIZE; i++)
			data = data && tail[i] == CAP_POISON;
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
		ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	}
	tap_ok(!ret && status == 1 && data,
	       "raw ENQUEUE of %d bytes: the fence signals success (%d, status %d) and the "
	       "data is the counter, the rest of the DMABUF untouched",
	       GOOD_SIZE, ret, status);

	izc_buffer_set_enabled(a->buf, false);
	dmabuf_detach(bfd, fd);
	if (map != MAP_FAILED)
		munmap(map, BAD_SIZE);
	if (sync_fd >= 0)
		close(sync_fd);
	close(fd);
	close(bfd);
}

/* Run @cmd with sh; its exit status, or -1. */
static int sh(const char *cmd)
{
	int st = system(cmd);

	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool file_has(const char *path, const char *what)
{
	char buf[4096];
	ssize_t n = tool_read_file(path, buf, sizeof(buf));

	return n > 0 && strstr(buf, what);
}

/* The raw frames izc-capture wrote to @path: CAPTURE frames of the counter. */
static bool capture_file_ok(const char *path)
{
	size_t len = (size_t)CAPTURE * 8;
	unsigned char *data = malloc(len + 1);
	FILE *f = fopen(path, "rb");
	struct cap_check k;
	bool ok = data && f && fread(data, 1, len + 1, f) == len;

	cap_check_init(&k, ALL, 16);
	ok = ok && cap_check_data(&k, data, len);
	if (f)
		fclose(f);
	free(data);
	return ok;
}

int main(void)
{
	struct izc_stream *s;
	struct cap_adc a;
	long long align = -1;
	int ret;

	tap_plan(10);
	ret = tap_load_module("izc_soft_dma", "bus_width=5");
	tap_errno(ret, -ret, EINVAL, "izc_soft_dma bus_width=5: EINVAL");
	ret = tap_load_module("izc_soft_dma", "bus_width=3");
	if (!ret)
		ret = tap_load_module("izc_block_buffer", NULL);
	if (!ret)
		ret = tap_load_module("izc_sim_adc", NULL);
	if (!ret)
		ret = cap_adc_setup(&a, ADC, ALL, 0);
	if (ret)
		tap_bail("izc_soft_dma bus_width=3 and the ADC: %d", ret);

	ret = izc_buffer_attr_read_ll(a.buf, "length_align_bytes", &align);
	tap_ok(!ret && align == 3, "length_align_bytes: 3 (%d, %lld)", ret, align);

	tap_ok(stream_counter(a.dev, BAD_SIZE, IZC_STREAM_FILEIO, IZC_BACKEND_FILEIO),
	       "fileio, %d-byte libizc blocks: 2 MiB of counter data (the kernel's blocks "
	       "are whole 24-byte units)",
	       BAD_SIZE);

	raw_enqueue(&a);

	ret = izc_stream_open(a.dev, 0, IZC_DIR_IN, NBLOCKS, BAD_SIZE, IZC_STREAM_NO_FALLBACK, &s);
	tap_errno(ret, -ret, EINVAL, "libizc DMABUF stream of %d-byte blocks: EINVAL", BAD_SIZE);
	ret = izc_stream_open(a.dev, 0, IZC_DIR_IN, NBLOCKS, BAD_SIZE, 0, &s);
	tap_ok(!ret && izc_stream_backend(s) == IZC_BACKEND_FILEIO &&
		       izc_stream_fallback_reason(s) == -EINVAL,
	       "without NO_FALLBACK: fileio, fallback reason EINVAL (%d)", ret);
	if (!ret)
		izc_stream_close(s);
	tap_ok(stream_counter(a.dev, GOOD_SIZE, IZC_STREAM_NO_FALLBACK, IZC_BACKEND_DMABUF),
	       "libizc DMABUF stream of %d-byte blocks: 2 MiB of counter data", GOOD_SIZE);
	cap_adc_close(&a);

	ret = sh("izc-capture -d " ADC " -s 1000 -b 4096 -o /dev/null 2>/tmp/bw.err");
	tap_ok(ret == 2 &&
		       file_has("/tmp/bw.err", "not a whole number of the DMA's 3-byte words") &&
		       file_has("/tmp/bw.err", "try -b 4080, or --fileio"),
	       "izc-capture -b 4096: exit 2 (%d), says why and what to try", ret);
	ret = sh("izc-capture -d " ADC " -f 0 -s 100000 -o /tmp/bw.raw 2>/tmp/bw.err");
	tap_ok(ret == 0 && file_has("/tmp/bw.err", "x 799992-byte blocks, dmabuf") &&
		       capture_file_ok("/tmp/bw.raw"),
	       "izc-capture default block: 799992 bytes (800000 rounded to 24), DMABUF, "
	       "%d frames of counter data (exit %d)",
	       CAPTURE, ret);
	unlink("/tmp/bw.raw");
	return tap_done();
}
