// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib-relay: izc_block_relay() between two libizc streams, checked at the far
 * end, and the DMABUFs it attaches released when the source stream closes.
 *
 *   izc-sim-adc1 (counter) --stream A, izc_block_relay()--> izc-sim-dac0
 *       (stream B) --loopback--> izc-sim-adc0 (stream C, DMABUF)
 *
 * A (4 x 64 KiB) relays every block it captures to B without CPU access and
 * takes it back from izc_stream_dequeue(B). A thread reads C and checks the
 * counter formula byte for byte from frame 0 for all 64 blocks (4 MiB).
 * All three converters are 4 x s32: with s16 the counter repeats every
 * 65536 frames, which is C's ring (8 x 64 KiB), so a block of C handed out
 * again without a refill, or an A block relayed twice rings apart, looked
 * right. C's blocks are poisoned (0xa5) before they go back.
 *
 * Relaying attaches A's DMABUFs to B's buffer; each attachment holds a
 * reference to the DMABUF. Closing A must drop them: the number of DMABUF
 * objects in /sys/kernel/debug/dma_buf/bufinfo is the same before A was
 * opened and after it was closed (B still open), also after 8 more cycles of
 * open A, relay one block, close A with the block still on B; and back to the
 * count from before all streams once B and C are closed.
 */
#include <pthread.h>

#include "capture-util.h"
#include "sim-pair.h"

#define BS	     65536
#define NB	     4
#define TOTAL_BLOCKS 64

static struct izc_stream *C;
static volatile long far_bytes, far_bad = -1;

/* Number of DMABUF objects alive (debugfs), or -errno. */
static int dmabuf_objects(void)
{
	char line[256];
	int n = -ENOENT;
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " objects") && sscanf(line, "Total %d objects", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Attachments are released from a work item: give them a moment. */
static int dmabuf_objects_settled(int want)
{
	int n = dmabuf_objects();

	for (int i = 0; i < 50 && n != want; i++) {
		usleep(20000);
		n = dmabuf_objects();
	}
	return n;
}

/* C: the far end must carry ADC1's counter from frame 0, every byte. */
static void *far_end(void *arg)
{
	uint64_t n = 0;
	long bad = 0;

	(void)arg;
	while (far_bytes < (long)TOTAL_BLOCKS * BS) {
		struct izc_block *blk;
		const uint32_t *v;
		void *p;
		int ret = izc_stream_dequeue(C, 20000, &blk);

		if (!ret)
			ret = izc_block_cpu_begin(blk, IZC_ACCESS_READ | IZC_ACCESS_WRITE, &p);
		if (ret) {
			tap_diag("far end: %d after %ld bytes", ret, far_bytes);
			bad++;
			break;
		}
		v = p;
		if (izc_block_bytes_used(blk) != BS && bad++ < 3)
			tap_diag("far end block of %zu bytes", izc_block_bytes_used(blk));
		for (size_t f = 0; f < izc_block_bytes_used(blk) / 16; f++, n++)
			for (int c = 0; c < 4; c++) {
				uint32_t want = (uint32_t)(n + ((uint64_t)c << 28));

				if (v[f * 4 + c] != want && bad++ < 3)
					tap_diag("far end frame %llu ch %d: %#x, want %#x",
						 (unsigned long long)n, c, v[f * 4 + c], want);
			}
		far_bytes += (long)izc_block_bytes_used(blk);
		memset(p, 0xa5, izc_block_size(blk));
		ret = izc_block_cpu_end(blk);
		if (!ret)
			ret = izc_block_enqueue(blk, 0, 0);
		if (ret) {
			tap_diag("far end: cpu_end/enqueue %d", ret);
			bad++;
			break;
		}
	}
	far_bad = bad;
	return NULL;
}

int main(void)
{
	struct izc_device *a1, *a0, *d0;
	struct izc_buffer *b1, *b0, *bd;
	struct izc_context *ctx;
	struct izc_stream *A, *B;
	struct izc_block *blk, *own[2];
	long relayed = 0, back = 0;
	int ret, n_start, n0, n1, n2, n3;
	pthread_t th;

	tap_plan(7);
	load_modules("instances=2 sampling_frequency=0 sample_bits=32",
		     "sampling_frequency=0 loopback=1 sample_bits=32");
	n_start = dmabuf_objects();
	ret = izc_context_open(NULL, NULL, &ctx);
	if (!ret)
		ret = cap_find_buffer(ctx, "izc-sim-adc1", 0xf, &a1, &b1);
	if (!ret)
		ret = cap_find_buffer(ctx, "izc-sim-adc0", 0xf, &a0, &b0);
	if (!ret)
		ret = cap_find_buffer(ctx, "izc-sim-dac0", 0xf, &d0, &bd);
	if (!ret)
		ret = izc_stream_open(a0, 0, IZC_DIR_IN, 8, BS, IZC_STREAM_NO_FALLBACK, &C);
	if (!ret)
		ret = izc_stream_open(d0, 0, IZC_DIR_OUT, 2, BS, IZC_STREAM_NO_FALLBACK, &B);
	/* B's own blocks are handed out first: hold them, B only carries A's. */
	if (!ret)
		ret = izc_stream_dequeue(B, 0, &own[0]);
	if (!ret)
		ret = izc_stream_dequeue(B, 0, &own[1]);
	if (!ret)
		ret = izc_stream_start(C);
	n0 = dmabuf_objects();
	if (!tap_ok(ret == 0 && n_start >= 0 && n0 == n_start + 10,
		    "streams C (8 blocks) and B (2) open: %d DMABUF objects, %d before (%d)", n0,
		    n_start, ret))
		tap_bail("setup");

	pthread_create(&th, NULL, far_end, NULL);
	ret = izc_stream_open(a1, 0, IZC_DIR_IN, NB, BS, IZC_STREAM_NO_FALLBACK, &A);
	if (!ret)
		ret = izc_stream_start(A);
	while (!ret && relayed < TOTAL_BLOCKS) {
		ret = izc_stream_dequeue(A, 10000, &blk);
		if (!ret)
			ret = izc_block_relay(blk, B, 0);
		if (ret)
			break;
		if (++relayed == 1)
			ret = izc_stream_start(B);
		/* Take blocks back once all of A's are on B. */
		while (!ret && relayed - back >= NB) {
			ret = izc_stream_dequeue(B, 10000, &blk);
			if (!ret && izc_block_stream(blk) != A)
				ret = -EBADSLT;
			if (!ret)
				ret = izc_block_enqueue(blk, 0, 0);
			back++;
		}
	}
	tap_ok(ret == 0 && relayed == TOTAL_BLOCKS,
	       "A relayed %ld blocks of 64 KiB to B, got %ld back from B (%d)", relayed, back, ret);
	pthread_join(th, NULL);
	tap_ok(far_bad == 0 && far_bytes == (long)TOTAL_BLOCKS * BS,
	       "far end C got ADC1's counter from frame 0, every byte: %ld bytes, %ld bad",
	       far_bytes, far_bad);

	izc_stream_close(A);
	n1 = dmabuf_objects_settled(n0);
	tap_ok(n1 == n0, "A closed with blocks on B: %d DMABUF objects, %d before A", n1, n0);

	for (int i = 0; i < 8 && !ret; i++) {
		ret = izc_stream_open(a1, 0, IZC_DIR_IN, NB, BS, IZC_STREAM_NO_FALLBACK, &A);
		if (!ret)
			ret = izc_stream_start(A);
		if (!ret)
			ret = izc_stream_dequeue(A, 10000, &blk);
		if (!ret)
			ret = izc_block_relay(blk, B, 0);
		if (!ret)
			izc_stream_close(A);
	}
	n2 = dmabuf_objects_settled(n0);
	tap_ok(ret == 0 && n2 == n0,
	       "8 x (open A, relay a block to B, close A): %d DMABUF objects, %d before (%d)", n2,
	       n0, ret);
	/* B still works with its own blocks after the foreign ones left. */
	ret = izc_block_enqueue(own[0], 0, 0);
	if (!ret)
		ret = izc_stream_drain(B, 10000);
	tap_ok(ret == 0, "B drains its own block afterwards (%d)", ret);
	izc_stream_close(B);
	izc_stream_close(C);
	n3 = dmabuf_objects_settled(n_start);
	tap_ok(n3 == n_start, "all streams closed: %d DMABUF objects, %d at the start", n3,
	       n_start);
	izc_context_close(ctx);
	return tap_done();
}
