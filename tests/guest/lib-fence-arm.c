// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib-fence-arm: a DMABUF block whose fence snapshot could not be taken is
 * never handed out as data.
 *
 * libizc exports a block's fence (DMA_BUF_IOCTL_EXPORT_SYNC_FILE) right
 * after IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, as an export made after the fence
 * signalled only holds the kernel's signalled stub, which hides the fence's
 * error. The export needs a file descriptor: with the process out of them
 * (EMFILE) the enqueue itself works but the block's outcome can never be
 * known, and the block must dequeue as -EMFILE, in its turn, not as data,
 * and not before the device is done with it (its DMABUF idle), even when
 * the reader is behind and the blocks before it were complete.
 *
 * Input stream, 4 blocks of 4 KiB at 2.5 kS/s: dequeue block 0, fill the fd
 * table, re-enqueue block 0 (0), free the fds; blocks 1, 2, 3 dequeue as
 * data (counter checked), block 0 as -EMFILE; the next dequeue is block 1
 * again with the counter continuing, then blocks 2, 3, 0 (taken back and
 * queued again by the library), 1.
 *
 * The ADC stores s32 (no wrap here); each data block must be contiguous
 * and start at or after the frame where the previous data block ended
 * (paced, so an overrun may skip frames), and is poisoned (0xa5) before it
 * goes back: a repeated block, or one handed out without a refill, fails.
 */
#include <poll.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

#include "capture-util.h"

#define NBLOCKS	   4
#define BLOCK_SIZE 4096
#define NFDS	   4096

static int fds[NFDS];

static uint32_t next_frame; /* the frame after the last data block */

/*
 * Frames of block b (4 channels of 32 bits) follow ADC0's counter from
 * next_frame or later, contiguous; the block is then poisoned.
 */
static bool counter_ok(struct izc_block *b)
{
	const uint32_t *v;
	uint32_t first;
	bool ok;
	void *p;

	if (izc_block_cpu_begin(b, IZC_ACCESS_READ | IZC_ACCESS_WRITE, &p))
		return false;
	v = p;
	first = v[0];
	ok = izc_block_bytes_used(b) == BLOCK_SIZE && first >= next_frame;
	if (!ok)
		tap_diag("block %u: bytes_used %zu, starts at frame %u, want >= %u",
			 izc_block_index(b), izc_block_bytes_used(b), first, next_frame);
	for (size_t f = 0; ok && f < BLOCK_SIZE / 16; f++)
		for (unsigned int c = 0; c < 4; c++)
			ok &= v[f * 4 + c] == (uint32_t)(first + f + ((uint32_t)c << 28));
	next_frame = first + BLOCK_SIZE / 16;
	memset(p, 0xa5, BLOCK_SIZE);
	return !izc_block_cpu_end(b) && ok;
}

int main(void)
{
	struct cap_adc a = {0};
	struct izc_stream *s = NULL;
	struct izc_block *b = NULL, *b0 = NULL;
	int ret, nfds = 0, enq;

	tap_plan(9);
	ret = tap_load_sim_adc("sample_bits=32");
	if (!ret)
		ret = cap_adc_setup(&a, "izc-sim-adc", 0xf, 2500);
	if (!ret)
		ret = izc_stream_open(a.dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE,
				      IZC_STREAM_NO_FALLBACK, &s);
	if (!ret)
		ret = izc_stream_start(s);
	if (!ret)
		ret = izc_stream_dequeue(s, 5000, &b0);
	if (!tap_ok(ret == 0 && izc_block_index(b0) == 0,
		    "DMABUF input stream started, block 0 dequeued (%d)", ret))
		tap_bail("setup");

	/* Fill the fd table: the export after the enqueue has no fd left. */
	{
		struct rlimit rl;

		if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur > 256) {
			rl.rlim_cur = 256;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	while (nfds < NFDS) {
		int fd = dup(0);

		if (fd < 0)
			break;
		fds[nfds++] = fd;
	}
	ret = nfds < NFDS ? dup(0) : 0;
	enq = izc_block_enqueue(b0, 0, 0);
	while (nfds > 0)
		close(fds[--nfds]);
	tap_ok(ret == -1 && errno == EMFILE, "fd table full (dup: errno %d)", ret < 0 ? errno : 0);
	tap_ok(enq == 0, "block 0 enqueued with no fd free (%d)", enq);

	/*
	 * Blocks 1, 2, 3 and then 0 complete 102 ms apart: after 330 ms the
	 * first three are done, block 0 is not, and the reader is behind.
	 */
	nanosleep(&(struct timespec){0, 330 * 1000000L}, NULL);
	ret = 0;
	for (unsigned int i = 1; i < NBLOCKS && !ret; i++) {
		ret = izc_stream_dequeue(s, 5000, &b);
		if (!ret && (izc_block_index(b) != i || !counter_ok(b)))
			ret = -EBADMSG;
		if (!ret)
			ret = izc_block_enqueue(b, 0, 0);
	}
	tap_ok(ret == 0, "blocks 1, 2, 3 (queued before it) dequeue as counter data (%d)", ret);
	{
		struct pollfd p = {.fd = izc_block_dmabuf_fd(b0), .events = POLLOUT};

		/* Else the next check would pass whatever the library did. */
		tap_ok(poll(&p, 1, 0) == 0, "block 0 is still in flight when its turn comes");
	}
	b = NULL;
	ret = izc_stream_dequeue(s, 5000, &b);
	tap_errno(ret, 0, EMFILE,
		  "block 0, whose fence could not be exported, dequeues as -EMFILE, not data");
	{
		struct pollfd p = {.fd = izc_block_dmabuf_fd(b0), .events = POLLOUT};

		tap_ok(poll(&p, 1, 0) == 1 && (p.revents & POLLOUT),
		       "and only once the device is done with it (its DMABUF is idle)");
	}
	if (!ret)
		tap_diag("got block %u as data", izc_block_index(b));
	ret = izc_stream_dequeue(s, 5000, &b);
	tap_ok(ret == 0 && izc_block_index(b) == 1 && counter_ok(b),
	       "the stream goes on: block 1 again, counter data (%d)", ret);
	/* The library took block 0 back and queued it again after block 3. */
	for (unsigned int i = 0; i < NBLOCKS && !ret; i++) {
		ret = izc_block_enqueue(b, 0, 0);
		if (!ret)
			ret = izc_stream_dequeue(s, 5000, &b);
		if (!ret && izc_block_index(b) != (i + 2) % NBLOCKS) {
			tap_diag("dequeue %u: block %u, want %u", i, izc_block_index(b),
				 (i + 2) % NBLOCKS);
			ret = -EBADMSG;
		}
		if (!ret && !counter_ok(b))
			ret = -EBADMSG;
	}
	tap_ok(ret == 0, "block 0 back in the rotation: blocks 2, 3, 0, 1 with counter data (%d)",
	       ret);
	izc_stream_close(s);
	cap_adc_close(&a);
	return tap_done();
}
