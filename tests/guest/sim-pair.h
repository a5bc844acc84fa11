/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the DAC/loopback guest tests: find the simulated converters by
 * label, sysfs access, buffer setup, DMABUF fences and the test pattern.
 *
 * The pattern: 32-bit words, word i of the DAC's stream (counted from the
 * first sample the application hands over) is pattern_word(i). Every 16-bit
 * half is non-zero, so a frame of the pattern is never mistaken for the idle
 * value 0.
 */
#ifndef IZC_TESTS_SIM_PAIR_H
#define IZC_TESTS_SIM_PAIR_H

#include <dirent.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/iio/buffer.h>
#include <linux/sync_file.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

struct iiodev {
	int index;
	char dir[320];
};

static inline uint32_t pattern_word(uint64_t i)
{
	uint32_t x = (uint32_t)(i * 0x9e3779b1u) ^ (uint32_t)(i >> 11);

	return x | 0x00010001u;
}

static inline void pattern_fill(uint32_t *w, size_t nwords, uint64_t first)
{
	size_t k;

	for (k = 0; k < nwords; k++)
		w[k] = pattern_word(first + k);
}

/* Index of the first word that differs, or -1. */
static inline long pattern_check(const uint32_t *w, size_t nwords, uint64_t first)
{
	size_t k;

	for (k = 0; k < nwords; k++)
		if (w[k] != pattern_word(first + k))
			return (long)k;
	return -1;
}

/* Find the IIO device labelled @label. */
static inline int iio_find(const char *label, struct iiodev *d)
{
	struct dirent *de;
	char path[400], buf[64];
	DIR *dir = opendir("/sys/bus/iio/devices");
	int fd, n;

	while (dir && (de = readdir(dir))) {
		if (strncmp(de->d_name, "iio:device", 10))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/iio/devices/%s/label", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		if (buf[n - 1] == '\n')
			buf[n - 1] = 0;
		if (!strcmp(buf, label)) {
			d->index = atoi(de->d_name + 10);
			snprintf(d->dir, sizeof(d->dir), "/sys/bus/iio/devices/%s", de->d_name);
			closedir(dir);
			return 0;
		}
	}
	if (dir)
		closedir(dir);
	return -ENODEV;
}

/* Write @val to attribute @rel of @d; 0 or -errno. */
static inline int attr_write(const struct iiodev *d, const char *rel, const char *val)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", d->dir, rel);
	return tool_write_file(path, val);
}

static inline int attr_write_u(const struct iiodev *d, const char *rel, unsigned long v)
{
	char s[32];

	snprintf(s, sizeof(s), "%lu", v);
	return attr_write(d, rel, s);
}

/* Read attribute @rel of @d as a number; -1 on error. */
static inline long long attr_read(const struct iiodev *d, const char *rel)
{
	char path[400], buf[64];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", d->dir, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtoll(buf, NULL, 0);
}

/* Enable @nchan scan elements (in or out) of buffer0, set length/watermark. */
static inline int buffer_setup(const struct iiodev *d, const char *dir, int nchan,
			       unsigned long length, unsigned long watermark)
{
	char rel[64];
	int c, ret;

	for (c = 0; c < nchan; c++) {
		snprintf(rel, sizeof(rel), "buffer0/%s_voltage%d_en", dir, c);
		ret = attr_write(d, rel, "1");
		if (ret)
			return ret;
	}
	ret = attr_write_u(d, "buffer0/length", length);
	if (!ret)
		ret = attr_write_u(d, "buffer0/watermark", watermark);
	return ret;
}

static inline int buffer_enable(const struct iiodev *d, int on)
{
	return attr_write(d, "buffer0/enable", on ? "1" : "0");
}

static inline int dev_open(const struct iiodev *d, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/iio:device%d", d->index);
	return open(path, flags | O_CLOEXEC);
}

/* A DMABUF of @len bytes from the system heap; fd or -errno. */
static inline int heap_alloc(size_t len)
{
	struct dma_heap_allocation_data a = {.len = len, .fd_flags = O_RDWR | O_CLOEXEC};
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC), ret;

	if (heap < 0)
		return -errno;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a);
	ret = ret ? -errno : (int)a.fd;
	close(heap);
	return ret;
}

static inline int dmabuf_attach(int bfd, int dbuf)
{
	return ioctl(bfd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, &dbuf) ? -errno : 0;
}

static inline int dmabuf_detach(int bfd, int dbuf)
{
	return ioctl(bfd, IIO_BUFFER_DMABUF_DETACH_IOCTL, &dbuf) ? -errno : 0;
}

static inline int dmabuf_enqueue(int bfd, int dbuf, size_t used, unsigned int flags)
{
	struct iio_dmabuf req = {.fd = dbuf, .flags = flags, .bytes_used = used};

	return ioctl(bfd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, &req) ? -errno : 0;
}

/*
 * A sync file of every fence on @dbuf (what a writer would wait for), taken
 * right after an enqueue while the fence is pending.
 */
static inline int fence_export(int dbuf)
{
	struct dma_buf_export_sync_file exp = {.flags = DMA_BUF_SYNC_WRITE};

	if (ioctl(dbuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp))
		return -errno;
	return exp.fd;
}

/* Status of a sync file: 1 signalled ok, 0 pending, < 0 the error. */
static inline int fence_status(int sync_fd)
{
	struct sync_file_info info = {0};

	if (sync_fd < 0)
		return sync_fd;
	if (ioctl(sync_fd, SYNC_IOC_FILE_INFO, &info))
		return -1000 - errno;
	return info.status;
}

/* Wait until every fence of @dbuf signalled; 0, or -ETIMEDOUT after @ms. */
static inline int dmabuf_wait_idle(int dbuf, int ms)
{
	struct pollfd p = {.fd = dbuf, .events = POLLOUT};

	return poll(&p, 1, ms) == 1 ? 0 : -ETIMEDOUT;
}

/* Read exactly @len bytes (blocking), -errno on error or EOF. */
static inline long read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += n;
	}
	return (long)got;
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Load our modules in order; bails out on failure. */
static inline void load_modules(const char *adc_params, const char *dac_params)
{
	static const char *const base[] = {"izc_soft_dma", "izc_block_buffer"};
	int i, ret;

	for (i = 0; i < 2; i++) {
		ret = tap_load_module(base[i], NULL);
		if (ret)
			tap_bail("load %s: %s", base[i], strerror(-ret));
	}
	ret = tap_load_module("izc_sim_adc", adc_params);
	if (ret)
		tap_bail("load izc_sim_adc %s: %s", adc_params, strerror(-ret));
	if (dac_params) {
		ret = tap_load_module("izc_sim_dac", dac_params);
		if (ret)
			tap_bail("load izc_sim_dac %s: %s", dac_params, strerror(-ret));
	}
}

#endif /* IZC_TESTS_SIM_PAIR_H */
