// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * izc_block_buffer on the simulated ADC, raw ABI: fileio read() returns the
 * counter pattern from frame 0 without gaps across blocks; DMABUF capture
 * from /dev/dma_heap/system completes through poll(POLLOUT) with the
 * pattern in the buffer, each transfer continuing the previous one from
 * frame 0 (unpaced: the ADC only runs while a block is queued); read()
 * while a DMABUF is attached is -EBUSY; a transfer cut by disable carries
 * an error in its fence (-EINTR, as upstream buffer-dma).
 * The DMABUF is poisoned (0xa5) before each transfer, so a transfer that
 * completes without writing (the DMABUF still holding the last one's
 * data) fails.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/iio/buffer.h>
#include <linux/sync_file.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"

#define NCHAN 4
#define FRAME (NCHAN * 2)

static char devdir[320];

static int sysfs_write(const char *rel, const char *val)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", devdir, rel);
	return tool_write_file(path, val);
}

static int find_adc(void)
{
	struct dirent *de;
	char path[320], name[64];
	DIR *d = opendir("/sys/bus/iio/devices");
	int fd, n;

	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "iio:device", 10))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/iio/devices/%s/name", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, name, sizeof(name) - 1);
		close(fd);
		if (n > 0 && !strncmp(name, "izc-sim-adc", 11)) {
			snprintf(devdir, sizeof(devdir), "/sys/bus/iio/devices/%s", de->d_name);
			n = atoi(de->d_name + 10);
			closedir(d);
			return n;
		}
	}
	if (d)
		closedir(d);
	return -1;
}

/* Check frames against the counter; *next is the expected frame index. */
static long check_frames(const uint16_t *s, size_t nframes, int64_t *next)
{
	size_t i;
	int c;

	for (i = 0; i < nframes; i++) {
		for (c = 0; c < NCHAN; c++) {
			uint16_t want = (uint16_t)(*next + c * 4096);

			if (s[i * NCHAN + c] != want) {
				tap_diag("frame %zu ch %d: got %u want %u", i, c, s[i * NCHAN + c],
					 want);
				return (long)i;
			}
		}
		(*next)++;
	}
	return -1;
}

/*
 * A sync file of the DMABUF's pending write fences. It must be taken right
 * after the enqueue: the kernel leaves signalled fences out of an export, so
 * one taken after completion is a signalled stub that hides the error.
 */
static int export_fences(int dmabuf)
{
	struct dma_buf_export_sync_file exp = {.flags = DMA_BUF_SYNC_READ};

	if (ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp))
		return -1000 - errno;
	return exp.fd;
}

/* The status of a sync file (1 ok, 0 pending, < 0 the fence error); closes it. */
static int fence_status(int sync_fd)
{
	struct sync_file_info info = {0};
	int ret;

	if (sync_fd < 0)
		return sync_fd;
	ret = ioctl(sync_fd, SYNC_IOC_FILE_INFO, &info);
	close(sync_fd);
	return ret ? -2000 - errno : info.status;
}

int main(void)
{
	static const char *const mods[] = {"izc_soft_dma", "izc_block_buffer", "izc_sim_adc"};
	static uint16_t buf[1 << 16];
	struct dma_heap_allocation_data alloc = {.len = 65536, .fd_flags = O_RDWR | O_CLOEXEC};
	struct iio_dmabuf req = {0};
	struct dma_buf_sync sync;
	struct pollfd pfd;
	int fences;
	char path[64];
	int64_t next = 0;
	size_t total = 0;
	int i, devfd, bfd, heap, dbuf, ret, idx;
	long bad = -1;
	uint16_t *map;

	tap_plan(18);
	ret = tap_load_module(mods[0], NULL);
	tap_success(ret, -ret, "load izc_soft_dma");
	ret = tap_load_module(mods[1], NULL);
	tap_success(ret, -ret, "load izc_block_buffer");
	ret = tap_load_module(mods[2], "sampling_frequency=0");
	tap_success(ret, -ret, "load izc_sim_adc unpaced");

	idx = find_adc();
	if (idx < 0)
		tap_bail("no izc-sim-adc");
	for (i = 0; i < NCHAN; i++) {
		snprintf(path, sizeof(path), "buffer0/in_voltage%d_en", i);
		sysfs_write(path, "1");
	}
	sysfs_write("buffer0/length", "8192");
	sysfs_write("buffer0/watermark", "2048");
	ret = sysfs_write("buffer0/enable", "1");
	tap_success(ret, -ret, "enable buffer0 (fileio)");

	snprintf(path, sizeof(path), "/dev/iio:device%d", idx);
	devfd = open(path, O_RDONLY);
	while (devfd >= 0 && total < (64u << 20)) {
		int n = read(devfd, buf, sizeof(buf));

		if (n <= 0 || n % FRAME) {
			tap_diag("read returned %d (%s)", n, strerror(errno));
			break;
		}
		bad = check_frames(buf, n / FRAME, &next);
		if (bad >= 0)
			break;
		total += n;
	}
	tap_ok(total >= (64u << 20) && bad < 0,
	       "fileio: 64 MiB of counter frames from frame 0, no gap (%zu bytes)", total);
	ret = sysfs_write("buffer0/enable", "0");
	tap_success(ret, -ret, "disable buffer0");
	close(devfd);

	/* DMABUF */
	devfd = open(path, O_RDWR);
	bfd = 0;
	ret = ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, &bfd);
	tap_success(ret, errno, "IIO_BUFFER_GET_FD_IOCTL");
	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc);
	tap_success(ret, errno, "allocate 64 KiB from the system heap");
	dbuf = alloc.fd;
	ret = ioctl(bfd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, &dbuf);
	tap_success(ret, errno, "attach");

	ret = read(bfd, buf, 4096);
	tap_errno(ret, errno, EBUSY, "read() on the buffer fd with a DMABUF attached");

	ret = sysfs_write("buffer0/enable", "1");
	tap_success(ret, -ret, "enable buffer0 (DMABUF)");

	map = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, dbuf, 0);
	if (map == MAP_FAILED)
		tap_bail("mmap of the DMABUF: %s", strerror(errno));
	next = 0;
	bad = -1;
	for (i = 0; i < 50 && bad < 0; i++) {
		sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE;
		ret = ioctl(dbuf, DMA_BUF_IOCTL_SYNC, &sync);
		memset(map, 0xa5, 65536);
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
		if (ret || ioctl(dbuf, DMA_BUF_IOCTL_SYNC, &sync)) {
			tap_diag("SYNC for the poison: %s", strerror(errno));
			bad = 0;
			break;
		}
		req.fd = dbuf;
		req.bytes_used = 65536;
		ret = ioctl(bfd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, &req);
		if (ret) {
			tap_diag("enqueue: %s", strerror(errno));
			bad = 0;
			break;
		}
		fences = export_fences(dbuf);
		pfd.fd = dbuf;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 5000) != 1) {
			tap_diag("poll timed out");
			bad = 0;
			break;
		}
		sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ;
		if (ioctl(dbuf, DMA_BUF_IOCTL_SYNC, &sync)) {
			tap_diag("SYNC START: %s", strerror(errno));
			bad = 0;
			break;
		}
		int status = fence_status(fences);

		if (status != 1) {
			tap_diag("fence status %d", status);
			bad = 0;
		}
		if (bad < 0)
			bad = check_frames(map, 65536 / FRAME, &next);
		if (bad >= 0)
			tap_diag("transfer %d", i);
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
		ioctl(dbuf, DMA_BUF_IOCTL_SYNC, &sync);
	}
	tap_ok(bad < 0 && i == 50,
	       "DMABUF: 50 blocks complete via POLLOUT, the counter from frame 0 across them");

	ret = sysfs_write("buffer0/enable", "0");
	tap_success(ret, -ret, "disable buffer0");
	/* Queued while disabled: submitted at enable. */
	req.fd = dbuf;
	ret = ioctl(bfd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, &req);
	tap_success(ret, errno, "enqueue while disabled");
	fences = export_fences(dbuf);
	fcntl(bfd, F_SETFL, O_NONBLOCK);
	ret = ioctl(bfd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, &req);
	tap_errno(ret, errno, EBUSY,
		  "O_NONBLOCK enqueue while the first waits (conflicting fence)");
	fcntl(bfd, F_SETFL, 0);
	ret = sysfs_write("sampling_frequency", "1");
	tap_diag("sampling_frequency=1: %d", ret);
	sysfs_write("buffer0/enable", "1");
	usleep(100000);
	sysfs_write("buffer0/enable", "0");
	pfd.fd = dbuf;
	pfd.events = POLLOUT;
	poll(&pfd, 1, 2000);
	ret = fence_status(fences);
	tap_ok(ret == -EINTR, "disable with a transfer pending: fence status -EINTR (%d)", ret);

	dbuf = alloc.fd;
	ret = ioctl(bfd, IIO_BUFFER_DMABUF_DETACH_IOCTL, &dbuf);
	tap_success(ret, errno, "detach");
	ret = ioctl(bfd, IIO_BUFFER_DMABUF_DETACH_IOCTL, &dbuf);
	tap_errno(ret, errno, EPERM, "second detach");

	munmap(map, 65536);
	close(alloc.fd);
	close(heap);
	close(bfd);
	close(devfd);
	return tap_done();
}
