// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TX through the loopback, bit exact: izc-sim-dac0 (unpaced, paired with
 * izc-sim-adc0 by the module parameter, latency 64 frames) emits a pattern
 * the application hands over, izc-sim-adc0 (unpaced) captures it; the
 * capture must be 64 idle frames (0) then the pattern, word for word.
 * TX fileio (write() with poll for space) at three block sizes and TX DMABUF
 * (four DMABUFs from the system heap, enqueue, read fences) at three block
 * sizes, 256 MiB each. Unpaced loopback is lossless: no
 * underflow, no drop.
 */
#include <pthread.h>
#include <sys/mman.h>

#include "sim-pair.h"

#define NCHAN	 4
#define FRAME	 (NCHAN * 2)
#define LATENCY	 64
#define PER_CASE (256ull << 20)
#define NBUFS	 4

struct writer {
	int fd; /* fileio: the device node; DMABUF: the buffer fd */
	size_t block;
	int dbufs[NBUFS];
	volatile int stop;
	int err;
	int bad_fences;
	uint64_t blocks;
};

static void *fileio_writer(void *arg)
{
	struct writer *w = arg;
	uint32_t *buf = malloc(w->block);
	uint64_t word = 0;

	while (buf && !w->stop) {
		pattern_fill(buf, w->block / 4, word);
		size_t off = 0;

		while (off < w->block && !w->stop) {
			ssize_t n = write(w->fd, (char *)buf + off, w->block - off);

			if (n < 0 && errno == EAGAIN) {
				struct pollfd p = {.fd = w->fd, .events = POLLOUT};

				poll(&p, 1, 100);
				continue;
			}
			if (n <= 0) {
				w->err = n < 0 ? errno : EIO;
				return NULL;
			}
			off += n;
		}
		word += w->block / 4;
		w->blocks++;
	}
	free(buf);
	return NULL;
}

static void *dmabuf_writer(void *arg)
{
	struct writer *w = arg;
	int fences[NBUFS] = {-1, -1, -1, -1};
	uint32_t *map[NBUFS];
	struct dma_buf_sync sync;
	uint64_t word = 0, j;
	int i;

	for (i = 0; i < NBUFS; i++) {
		map[i] = mmap(NULL, w->block, PROT_READ | PROT_WRITE, MAP_SHARED, w->dbufs[i], 0);
		if (map[i] == MAP_FAILED) {
			w->err = errno;
			return NULL;
		}
	}
	for (j = 0; !w->stop; j++) {
		i = j % NBUFS;
		while (!w->stop && dmabuf_wait_idle(w->dbufs[i], 100))
			;
		if (w->stop)
			break;
		if (fences[i] >= 0) {
			if (fence_status(fences[i]) != 1)
				w->bad_fences++;
			close(fences[i]);
			fences[i] = -1;
		}
		sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE;
		ioctl(w->dbufs[i], DMA_BUF_IOCTL_SYNC, &sync);
		pattern_fill(map[i], w->block / 4, word);
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
		ioctl(w->dbufs[i], DMA_BUF_IOCTL_SYNC, &sync);
		int ret = dmabuf_enqueue(w->fd, w->dbufs[i], w->block, 0);

		if (ret) {
			w->err = -ret;
			break;
		}
		fences[i] = fence_export(w->dbufs[i]);
		word += w->block / 4;
		w->blocks++;
	}
	for (i = 0; i < NBUFS; i++) {
		if (fences[i] >= 0)
			close(fences[i]);
		munmap(map[i], w->block);
	}
	return NULL;
}

/* One case: stream PER_CASE bytes through DAC -> wire -> ADC and check. */
static void run_case(const struct iiodev *adc, const struct iiodev *dac, int dmabuf, size_t block)
{
	static uint32_t chunk[(1 << 20) / 4];
	struct writer w = {.block = block};
	long long under0 = attr_read(dac, "underflow_samples");
	long long drop0 = attr_read(dac, "loopback_dropped_samples");
	int devfd, adcfd, i, ret, idle_ok = 1;
	long bad = -1;
	uint64_t got = 0, word = 0;
	pthread_t th;
	double t0;
	long n;

	buffer_setup(dac, "out", NCHAN, 4 * (block / FRAME), block / FRAME);
	devfd = dev_open(dac, O_RDWR | (dmabuf ? 0 : O_NONBLOCK));
	w.fd = devfd;
	if (dmabuf) {
		int idx = 0;

		ret = ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &idx);
		w.fd = ret ? -1 : idx;
		for (i = 0; i < NBUFS; i++) {
			w.dbufs[i] = heap_alloc(block);
			ret = w.dbufs[i] < 0 ? w.dbufs[i] : dmabuf_attach(w.fd, w.dbufs[i]);
			if (ret)
				tap_diag("DMABUF %d of %zu bytes: %s", i, block, strerror(-ret));
		}
	}

	adcfd = dev_open(adc, O_RDONLY);
	ret = buffer_enable(adc, 1);
	if (!ret)
		ret = buffer_enable(dac, 1);
	if (ret)
		tap_diag("enable: %s", strerror(-ret));

	t0 = now_s();
	pthread_create(&th, NULL, dmabuf ? dmabuf_writer : fileio_writer, &w);

	/* The wire delay: LATENCY idle frames first. */
	n = read_full(adcfd, chunk, LATENCY * FRAME);
	for (i = 0; n > 0 && i < LATENCY * FRAME / 4; i++)
		if (chunk[i])
			idle_ok = 0;
	if (n < 0)
		idle_ok = 0;

	while (got < PER_CASE && bad < 0) {
		n = read_full(adcfd, chunk, sizeof(chunk));
		if (n < 0) {
			tap_diag("ADC read: %s", strerror(-n));
			break;
		}
		bad = pattern_check(chunk, n / 4, word);
		if (bad >= 0)
			tap_diag("word %llu: got %08x want %08x", (unsigned long long)(word + bad),
				 chunk[bad], pattern_word(word + bad));
		word += n / 4;
		got += n;
	}
	w.stop = 1;
	pthread_join(th, NULL);
	tap_diag("%s block %zu: %llu MiB in %.1f s, %llu blocks written",
		 dmabuf ? "DMABUF" : "fileio", block, (unsigned long long)(got >> 20), now_s() - t0,
		 (unsigned long long)w.blocks);

	buffer_enable(dac, 0);
	buffer_enable(adc, 0);

	tap_ok(idle_ok && got >= PER_CASE && bad < 0 && !w.err && !w.bad_fences,
	       "%s, %zu-byte blocks: %d idle frames then %llu MiB of the pattern, bit exact"
	       " (writer errno %d, bad fences %d)",
	       dmabuf ? "TX DMABUF" : "TX fileio", block, LATENCY, (unsigned long long)(got >> 20),
	       w.err, w.bad_fences);
	tap_ok(attr_read(dac, "underflow_samples") == under0 &&
		       attr_read(dac, "loopback_dropped_samples") == drop0,
	       "%s, %zu-byte blocks: unpaced loopback: no underflow, no drop",
	       dmabuf ? "TX DMABUF" : "TX fileio", block);

	if (dmabuf) {
		for (i = 0; i < NBUFS; i++) {
			if (w.dbufs[i] < 0)
				continue;
			dmabuf_detach(w.fd, w.dbufs[i]);
			close(w.dbufs[i]);
		}
		close(w.fd);
	}
	close(adcfd);
	close(devfd);
}

int main(void)
{
	static const size_t fileio_blocks[] = {4096, 65536, 1 << 20};
	static const size_t dmabuf_blocks[] = {16384, 256 << 10, 4 << 20};
	struct iiodev adc, dac;
	unsigned int i;

	tap_plan(4 + 12);
	load_modules("sampling_frequency=0", "sampling_frequency=0 loopback=1 loopback_latency=64");
	if (iio_find("izc-sim-adc0", &adc) || iio_find("izc-sim-dac0", &dac))
		tap_bail("no izc-sim-adc0 / izc-sim-dac0");

	{
		char buf[64] = {0};
		char path[400];
		int fd, ret;

		snprintf(path, sizeof(path), "%s/loopback_adc", dac.dir);
		fd = open(path, O_RDONLY);
		ret = fd < 0 ? -1 : (int)read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		tap_ok(ret > 0 && !strcmp(buf, "izc-sim-adc0\n"),
		       "DAC loopback_adc reads izc-sim-adc0");
		snprintf(path, sizeof(path), "%s/loopback_source", adc.dir);
		memset(buf, 0, sizeof(buf));
		fd = open(path, O_RDONLY);
		ret = fd < 0 ? -1 : (int)read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		tap_ok(ret > 0 && !strcmp(buf, "izc-sim-dac0\n"),
		       "ADC loopback_source reads izc-sim-dac0");
	}
	tap_ok(attr_read(&dac, "loopback_latency") == LATENCY, "loopback_latency is %d", LATENCY);
	buffer_setup(&adc, "in", NCHAN, 32768, 8192);
	tap_ok(attr_read(&dac, "sampling_frequency") == 0, "DAC unpaced");

	for (i = 0; i < 3; i++)
		run_case(&adc, &dac, 0, fileio_blocks[i]);
	for (i = 0; i < 3; i++)
		run_case(&adc, &dac, 1, dmabuf_blocks[i]);

	return tap_done();
}
