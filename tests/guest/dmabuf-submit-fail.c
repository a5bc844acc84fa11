// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf-submit-fail: how a refused DMABUF submit is reported (see
 * docs/upstream-notes.md, "Where our block buffer differs"), with the soft
 * DMA's fail_prep parameter making prep_slave_sg fail:
 *  - enabled: IIO_BUFFER_DMABUF_ENQUEUE_IOCTL itself fails with ENOMEM
 *    (upstream 6.12 returns 0 and reports it through the fence only), and
 *    the same DMABUF transfers the counter once injection is off;
 *  - enqueued while disabled, refused at the enable: the enable succeeds and
 *    the transfer's fence carries -ENOMEM (as upstream);
 *  - after disable/enable with injection off the DMABUF transfers again.
 * The ADC is unpaced: a DMABUF transfer after an enable carries the counter
 * from frame 0. The DMABUF is poisoned (0xa5) before each transfer, so a
 * transfer that signals success without writing (the DMABUF still holding
 * the previous transfer's counter, which also starts at frame 0) fails.
 */
#include <sys/mman.h>

#include "sim-pair.h"

#define NCHAN	  4
#define BLK	  65536
#define FAIL_PREP "/sys/module/izc_soft_dma/parameters/fail_prep"

/* Frames of @map: the counter from frame 0, every channel. */
static bool counter_ok(int dbuf, const uint16_t *map)
{
	struct dma_buf_sync s = {.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ};
	bool ok = true;

	if (ioctl(dbuf, DMA_BUF_IOCTL_SYNC, &s))
		return false;
	for (size_t i = 0; ok && i < BLK / (NCHAN * 2); i++) {
		for (int c = 0; c < NCHAN; c++) {
			uint16_t want = (uint16_t)(i + c * 4096);

			if (map[i * NCHAN + c] != want) {
				tap_diag("frame %zu ch %d: 0x%x, want 0x%x", i, c,
					 map[i * NCHAN + c], want);
				ok = false;
			}
		}
	}
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	return !ioctl(dbuf, DMA_BUF_IOCTL_SYNC, &s) && ok;
}

/* Fill @map (of @dbuf) with 0xa5 under CPU write access; 0 or -errno. */
static int poison(int dbuf, uint16_t *map)
{
	struct dma_buf_sync s = {.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE};

	if (ioctl(dbuf, DMA_BUF_IOCTL_SYNC, &s))
		return -errno;
	memset(map, 0xa5, BLK);
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
	return ioctl(dbuf, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

/* Poison @dbuf, enqueue all of it and wait: the fence status (1 ok, < 0 error). */
static int transfer(int bfd, int dbuf, uint16_t *map)
{
	int ret = poison(dbuf, map);
	int sync;

	if (ret)
		return -2000 + ret;
	ret = dmabuf_enqueue(bfd, dbuf, BLK, 0);

	if (ret)
		return -3000 + ret;
	sync = fence_export(dbuf);
	if (sync < 0)
		return -4000 + sync;
	ret = dmabuf_wait_idle(dbuf, 10000);
	if (!ret)
		ret = fence_status(sync);
	close(sync);
	return ret;
}

int main(void)
{
	struct iiodev adc;
	uint16_t *map;
	int devfd, bfd = 0, dbuf, sync, ret;

	tap_plan(12);
	load_modules("sampling_frequency=0", NULL);
	if (iio_find("izc-sim-adc0", &adc))
		tap_bail("no izc-sim-adc0");
	ret = buffer_setup(&adc, "in", NCHAN, 8192, 1024);
	tap_success(ret, -ret, "ADC: 4 channels");
	devfd = dev_open(&adc, O_RDWR);
	if (devfd < 0 || ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &bfd))
		tap_bail("buffer fd: %s", strerror(errno));
	dbuf = heap_alloc(BLK);
	if (dbuf < 0)
		tap_bail("heap: %s", strerror(-dbuf));
	map = mmap(NULL, BLK, PROT_READ | PROT_WRITE, MAP_SHARED, dbuf, 0);
	if (map == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	ret = dmabuf_attach(bfd, dbuf);
	tap_success(ret, -ret, "attach a 64 KiB DMABUF");

	/* Enabled: the ENQUEUE reports the refusal. */
	ret = buffer_enable(&adc, 1);
	tap_success(ret, -ret, "enable (DMABUF mode)");
	tool_write_file(FAIL_PREP, "1");
	ret = dmabuf_enqueue(bfd, dbuf, BLK, 0);
	tap_errno(ret, -ret, ENOMEM, "ENQUEUE while prep fails: ENOMEM");
	tool_write_file(FAIL_PREP, "0");
	ret = transfer(bfd, dbuf, map);
	tap_ok(ret == 1, "the same DMABUF transfers with injection off (fence %d)", ret);
	tap_ok(counter_ok(dbuf, map), "and holds the counter from frame 0");

	/* Enqueued while disabled, refused at the enable: the fence says so. */
	ret = buffer_enable(&adc, 0);
	tap_success(ret, -ret, "disable");
	ret = dmabuf_enqueue(bfd, dbuf, BLK, 0);
	tap_success(ret, -ret, "ENQUEUE while disabled (queued)");
	sync = fence_export(dbuf);
	tool_write_file(FAIL_PREP, "1");
	ret = buffer_enable(&adc, 1);
	tap_success(ret, -ret, "enable with prep failing succeeds");
	dmabuf_wait_idle(dbuf, 10000);
	ret = fence_status(sync);
	tap_errno(ret, -ret, ENOMEM, "the queued transfer's fence carries ENOMEM (%d)", ret);
	if (sync >= 0)
		close(sync);
	tool_write_file(FAIL_PREP, "0");

	/* Recovered after disable/enable. */
	buffer_enable(&adc, 0);
	ret = buffer_enable(&adc, 1);
	tap_success(ret, -ret, "disable/enable with injection off");
	ret = transfer(bfd, dbuf, map);
	tap_ok(ret == 1 && counter_ok(dbuf, map),
	       "the DMABUF transfers the counter from frame 0 again (fence %d)", ret);
	buffer_enable(&adc, 0);
	dmabuf_detach(bfd, dbuf);
	munmap(map, BLK);
	close(dbuf);
	close(bfd);
	close(devfd);
	return tap_done();
}
