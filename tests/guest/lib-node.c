// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib-node: a libizc stream does not keep the device node busy.
 *
 * /dev/iio:deviceN is exclusive (a second open() is EBUSY). A stream only
 * needs it for IIO_BUFFER_GET_FD_IOCTL: the buffer fd holds its own
 * reference to the device and the buffer's own busy bit. So while a DMABUF
 * and a fileio stream capture on izc-sim-adc:
 *  - open() of the node succeeds (another program, izc-info, a stream on
 *    another buffer of the device);
 *  - the buffer stays exclusive: read() on that node (the legacy interface
 *    to buffer 0) is EBUSY, and a second stream on the buffer is EBUSY;
 *  - the stream keeps delivering the counter, frame by frame, after the
 *    other opener closed the node again.
 * The ADC stores s32 (no counter wrap in this test) and runs paced, so an
 * overrun may skip frames between blocks: each block must be contiguous and
 * start at or after the frame where the previous one ended (a repeated or
 * old block starts before it); each block is poisoned before it goes back,
 * so a block handed out again without a refill fails.
 */
#include <stdint.h>

#include "capture-util.h"

#define NBLOCKS	   4
#define BLOCK_SIZE 4096

/*
 * Frames of block b (4 x s32) follow the counter, contiguous inside it, from
 * frame *next or later; *next becomes the frame after the block. The block
 * is poisoned (0xa5) before the caller enqueues it again.
 */
static bool counter_ok(struct izc_block *b, uint32_t *next)
{
	const uint32_t *v;
	bool ok;
	void *p;

	if (izc_block_cpu_begin(b, IZC_ACCESS_READ | IZC_ACCESS_WRITE, &p))
		return false;
	v = p;
	ok = izc_block_bytes_used(b) == BLOCK_SIZE && v[0] >= *next;
	if (!ok)
		tap_diag("block: bytes_used %zu, starts at frame %u, want >= %u",
			 izc_block_bytes_used(b), v[0], *next);
	for (size_t f = 0; ok && f < BLOCK_SIZE / 16; f++)
		for (unsigned int c = 0; c < 4; c++)
			ok &= v[f * 4 + c] == (uint32_t)(v[0] + f + ((uint32_t)c << 28));
	*next = v[0] + BLOCK_SIZE / 16;
	memset(p, 0xa5, BLOCK_SIZE);
	return !izc_block_cpu_end(b) && ok;
}

static void check(struct izc_device *dev, unsigned int flags, const char *name)
{
	struct izc_stream *s, *s2 = NULL;
	struct izc_block *b;
	char node[64], byte;
	uint32_t next = 0;
	int ret, fd, err;

	snprintf(node, sizeof(node), "/dev/%s", izc_device_id(dev));
	ret = izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE, flags, &s);
	if (!tap_ok(ret == 0, "%s: stream open (%d)", name, ret))
		tap_bail("no stream");
	fd = open(node, O_RDWR | O_CLOEXEC);
	err = errno;
	tap_ok(fd >= 0, "%s: %s opens while the stream is open, not started (%s)", name, node,
	       fd < 0 ? strerror(err) : "ok");
	tap_errno(izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE, flags, &s2), 0, EBUSY,
		  "%s: a second stream on the same buffer is still EBUSY", name);
	ret = izc_stream_start(s);
	tap_success(ret, -ret, "%s: stream started with the node open elsewhere", name);
	if (fd >= 0) {
		ret = (int)read(fd, &byte, 1);
		tap_errno(ret, errno, EBUSY, "%s: read() on the node (buffer 0) is EBUSY", name);
		close(fd);
	} else {
		tap_ok(false, "%s: read() on the node: the node did not open", name);
	}
	ret = 0;
	for (int i = 0; i < 2 * NBLOCKS && !ret; i++) {
		ret = izc_stream_dequeue(s, 5000, &b);
		if (!ret && !counter_ok(b, &next))
			ret = -EBADMSG;
		if (!ret)
			ret = izc_block_enqueue(b, 0, 0);
	}
	tap_ok(ret == 0, "%s: %d blocks of counter data after the node was closed (%d)", name,
	       2 * NBLOCKS, ret);
	fd = open(node, O_RDWR | O_CLOEXEC);
	tap_ok(fd >= 0, "%s: %s opens while the stream runs (%s)", name, node,
	       fd < 0 ? strerror(errno) : "ok");
	if (fd >= 0)
		close(fd);
	izc_stream_close(s);
}

int main(void)
{
	struct cap_adc a = {0};
	int ret;

	tap_plan(15);
	ret = tap_load_sim_adc("sample_bits=32");
	if (!ret)
		ret = cap_adc_setup(&a, "izc-sim-adc", 0xf, 100000);
	if (!tap_ok(ret == 0, "izc-sim-adc, 4 channels of s32, 100 kS/s (%d)", ret))
		tap_bail("setup");
	check(a.dev, IZC_STREAM_NO_FALLBACK, "dmabuf");
	check(a.dev, IZC_STREAM_FILEIO, "fileio");
	cap_adc_close(&a);
	return tap_done();
}
