// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libiio1-sequence: the DMABUF system-call sequence of libiio 1.x's local
 * backend, replayed against our DAC -> ADC loopback (both unpaced, latency
 * 0). libiio 1.x is not packaged in Debian 12, so it cannot run here; this
 * is the order of calls it makes, which differs from libizc's:
 *  - a block is allocated from /dev/dma_heap/system, mmap()ed, given CPU
 *    access (DMA_BUF_IOCTL_SYNC START, read+write) and only then attached;
 *  - enqueue: SYNC END (read+write), then IIO_BUFFER_DMABUF_ENQUEUE;
 *  - dequeue: poll(POLLOUT) on the DMABUF fd, then SYNC START (read+write):
 *    no fence status is read;
 *  - free: DETACH while the block is still mapped with CPU access open,
 *    then munmap() and close().
 * Transmit 32 pattern blocks through the DAC while a thread receives them
 * from the ADC the same way: every block must come back byte for byte.
 */
#include <pthread.h>
#include <sys/mman.h>

#include "sim-pair.h"

#define NCHAN 4
#define FRAME (NCHAN * 2)
#define BLK   (64 << 10)
#define NBLK  4
#define NXFER 32

struct block {
	int fd;
	uint32_t *map;
};

/* SYNC with libiio's flags: always read and write. */
static int cpu_access(const struct block *b, bool start)
{
	struct dma_buf_sync s = {.flags = DMA_BUF_SYNC_RW |
					  (start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END)};

	return ioctl(b->fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

static int block_create(struct block *b, int bfd)
{
	int ret;

	b->fd = heap_alloc(BLK);
	if (b->fd < 0)
		return b->fd;
	b->map = mmap(NULL, BLK, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (b->map == MAP_FAILED)
		return -errno;
	ret = cpu_access(b, true);
	return ret ? ret : dmabuf_attach(bfd, b->fd);
}

static int block_enqueue(const struct block *b, int bfd)
{
	int ret = cpu_access(b, false);

	return ret ? ret : dmabuf_enqueue(bfd, b->fd, BLK, 0);
}

static int block_dequeue(const struct block *b)
{
	struct pollfd p = {.fd = b->fd, .events = POLLOUT};

	if (poll(&p, 1, 10000) != 1)
		return -ETIMEDOUT;
	return cpu_access(b, true);
}

static int block_free(struct block *b, int bfd)
{
	int ret = dmabuf_detach(bfd, b->fd);

	munmap(b->map, BLK);
	close(b->fd);
	return ret;
}

struct rx {
	int bfd;
	struct block *blk;
	int exact, err;
};

static void *receive(void *arg)
{
	struct rx *rx = arg;

	for (int k = 0; k < NXFER && !rx->err; k++) {
		struct block *b = &rx->blk[k % NBLK];
		long bad;

		rx->err = block_dequeue(b);
		if (rx->err)
			break;
		bad = pattern_check(b->map, BLK / 4, (uint64_t)k * (BLK / 4));
		if (bad < 0)
			rx->exact++;
		else
			tap_diag("block %d word %ld differs", k, bad);
		rx->err = block_enqueue(b, rx->bfd);
	}
	return NULL;
}

static int buffer_fd(const struct iiodev *d, int *devfd)
{
	int idx = 0;

	*devfd = dev_open(d, O_RDWR);
	if (*devfd < 0 || ioctl(*devfd, IIO_BUFFER_GET_FD_IOCTL, &idx))
		return -errno;
	return idx;
}

int main(void)
{
	struct block rxb[NBLK], txb[NBLK];
	struct iiodev adc, dac;
	int adcdev, dacdev, afd, dfd, ret = 0, i, k, freed = 0;
	struct rx rx = {0};
	pthread_t th;

	tap_plan(5);
	load_modules("sampling_frequency=0", "sampling_frequency=0 loopback=1");
	if (iio_find("izc-sim-adc0", &adc) || iio_find("izc-sim-dac0", &dac))
		tap_bail("no izc-sim-adc0 / izc-sim-dac0");
	if (buffer_setup(&adc, "in", NCHAN, NBLK * (BLK / FRAME), BLK / FRAME) ||
	    buffer_setup(&dac, "out", NCHAN, NBLK * (BLK / FRAME), BLK / FRAME))
		tap_bail("buffer setup");
	afd = buffer_fd(&adc, &adcdev);
	dfd = buffer_fd(&dac, &dacdev);
	if (afd < 0 || dfd < 0)
		tap_bail("buffer fds: %d %d", afd, dfd);

	for (i = 0; i < NBLK && !ret; i++) {
		ret = block_create(&rxb[i], afd);
		ret = ret ? ret : block_create(&txb[i], dfd);
	}
	tap_success(ret, -ret,
		    "%d blocks per side: heap, mmap, SYNC START, then ATTACH (libiio's order)",
		    NBLK);
	if (ret)
		tap_bail("no blocks");

	/* Receive side: every block queued, then the ADC enabled. */
	for (i = 0; i < NBLK && !ret; i++)
		ret = block_enqueue(&rxb[i], afd);
	ret = ret ? ret : buffer_enable(&adc, 1);
	rx.bfd = afd;
	rx.blk = rxb;
	if (!ret)
		pthread_create(&th, NULL, receive, &rx);

	for (k = 0; k < NXFER && !ret; k++) {
		struct block *b = &txb[k % NBLK];

		if (k >= NBLK)
			ret = block_dequeue(b);
		if (ret)
			break;
		pattern_fill(b->map, BLK / 4, (uint64_t)k * (BLK / 4));
		ret = block_enqueue(b, dfd);
		if (!ret && k == NBLK - 1)
			ret = buffer_enable(&dac, 1);
	}
	tap_success(ret, -ret, "transmit: %d blocks of 64 KiB, SYNC END + ENQUEUE each", k);
	if (ret)
		tap_bail("transmit failed: the receiver would wait forever");
	pthread_join(th, NULL);
	tap_ok(!rx.err && rx.exact == NXFER,
	       "receive: poll(POLLOUT) + SYNC START, %d of %d blocks byte for byte (%d)", rx.exact,
	       NXFER, rx.err);

	ret = buffer_enable(&dac, 0);
	ret = ret ? ret : buffer_enable(&adc, 0);
	tap_success(ret, -ret, "both buffers disabled");
	for (i = 0; i < NBLK; i++)
		freed += !block_free(&rxb[i], afd) + !block_free(&txb[i], dfd);
	tap_ok(freed == 2 * NBLK, "DETACH of every block while mapped with CPU access open (%d)",
	       freed);
	close(afd);
	close(dfd);
	close(adcdev);
	close(dacdev);
	return tap_done();
}
