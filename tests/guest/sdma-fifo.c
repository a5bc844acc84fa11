// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sdma-fifo: the soft DMA's FIFO is 20 ms deep (docs/sim-adc.md). One
 * 16 KiB DMABUF block in flight at 100 kS/s (4 x s16: 16000 B of FIFO, a
 * block lasts 20.48 ms); after 5 blocks of warm-up the reader takes 2 ms to
 * give each of 10 blocks back:
 * nothing may be lost, the counter runs on (the engine used to lose what
 * came due while no block was queued, polling every millisecond). Then the
 * reader keeps a block for 300 ms: exactly one overrun, whose frames are
 * exactly the counter's jump in the data.
 */
#include <time.h>

#include "capture-util.h"

#define RATE  100000
#define FRAME 8
#define BLOCK 16384

/* A field of the soft DMA's debugfs state of @a's channel, or -1. */
static long long state_ll(const struct cap_adc *a, const char *field)
{
	char chan[32] = "", path[128], line[128];
	long long v = -1;
	size_t len = strlen(field);
	FILE *f;

	if (izc_device_attr_read(a->dev, "dma_channel", chan, sizeof(chan)) < 0)
		return -1;
	chan[strcspn(chan, "\n")] = 0;
	/* "dma0chanN": the controller's debugfs names it "chanN" */
	snprintf(path, sizeof(path), "/sys/kernel/debug/izc-soft-dma/%s/state",
		 strstr(chan, "chan") ? strstr(chan, "chan") : chan);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			v = strtoll(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Dequeue, check and hand back @count blocks, each after @hold_ns. */
static bool turn_blocks(struct izc_stream *s, struct cap_check *k, unsigned int count, long hold_ns)
{
	struct timespec hold = {hold_ns / 1000000000L, hold_ns % 1000000000L};

	for (unsigned int i = 0; i < count; i++) {
		struct izc_block *b;
		void *p;
		bool ok;
		int ret = izc_stream_dequeue(s, 5000, &b);

		if (!ret)
			ret = izc_block_cpu_begin(b, IZC_ACCESS_READ, &p);
		if (ret) {
			tap_diag("block %u: dequeue/cpu_begin %d", i, ret);
			return false;
		}
		ok = cap_check_data(k, p, izc_block_bytes_used(b));
		if (izc_block_cpu_end(b))
			return false;
		nanosleep(&hold, NULL);
		if (izc_block_enqueue(b, 0, 0) || !ok)
			return false;
	}
	return true;
}

int main(void)
{
	struct cap_adc a = {0};
	struct izc_stream *s = NULL;
	long long ev0, smp0, ev1, smp1, ev2, smp2;
	uint64_t gap_frames1;
	unsigned int gaps1;
	struct cap_check k;
	bool ok;
	int ret;

	tap_plan(8);
	alarm(120);
	ret = tap_load_sim_adc("sampling_frequency=100000");
	if (!tap_success(ret, -ret, "modules load, izc_sim_adc at 100 kS/s"))
		tap_bail("no modules");
	ret = cap_adc_open(&a, "izc-sim-adc0");
	if (!ret)
		ret = izc_buffer_set_scan_mask(a.buf, 0xf);
	if (!ret)
		ret = izc_stream_open(a.dev, 0, IZC_DIR_IN, 1, BLOCK, IZC_STREAM_NO_FALLBACK, &s);
	if (!ret)
		ret = izc_stream_start(s);
	if (!tap_success(ret, -ret, "one 16 KiB DMABUF block, 4 x s16 at 100 kS/s, starts"))
		tap_bail("no stream");

	tap_ok(state_ll(&a, "fifo") == RATE / 50 * FRAME,
	       "the channel's FIFO holds 20 ms: %lld B, want %d", state_ll(&a, "fifo"),
	       RATE / 50 * FRAME);

	cap_check_init(&k, 0xf, 16);
	k.gap_mode = true;
	/*
	 * Warm-up: under TCG the first passes through new code are slow
	 * (translation). Their overruns, if any, are only checked for
	 * consistency with the data below.
	 */
	ok = turn_blocks(s, &k, 5, 2000000);
	gaps1 = k.gaps;
	gap_frames1 = k.gap_frames;
	ev0 = cap_attr_ll(&a, "overrun_events");
	smp0 = cap_attr_ll(&a, "overrun_samples");
	ok = turn_blocks(s, &k, 10, 2000000) && ok;
	ev1 = cap_attr_ll(&a, "overrun_events");
	smp1 = cap_attr_ll(&a, "overrun_samples");
	tap_diag("warm-up: %u jumps over %llu frames; then 10 blocks held 2 ms each: "
		 "overrun_events +%lld, overrun_samples +%lld, %u jumps over %llu frames",
		 gaps1, (unsigned long long)gap_frames1, ev1 - ev0, smp1 - smp0, k.gaps - gaps1,
		 (unsigned long long)(k.gap_frames - gap_frames1));
	tap_ok(ok && k.errors == 0 && k.frames == 15 * BLOCK / FRAME,
	       "15 blocks read, every frame consistent across the channels");
	tap_ok(ev1 == ev0 && smp1 == smp0 && k.gaps == gaps1,
	       "a block given back 2 ms late loses nothing (the FIFO holds 20 ms)");

	gaps1 = k.gaps;
	gap_frames1 = k.gap_frames;
	ok = turn_blocks(s, &k, 1, 300000000) && turn_blocks(s, &k, 10, 0);
	ev2 = cap_attr_ll(&a, "overrun_events");
	smp2 = cap_attr_ll(&a, "overrun_samples");
	izc_stream_close(s);
	tap_diag("one block held 300 ms: overrun_events +%lld, overrun_samples +%lld, "
		 "%u jumps over %llu frames",
		 ev2 - ev1, smp2 - smp1, k.gaps - gaps1,
		 (unsigned long long)(k.gap_frames - gap_frames1));
	tap_ok(ok && k.errors == 0, "11 more blocks read, every frame consistent");
	tap_ok(ev2 == ev1 + 1 && k.gaps - gaps1 == 1,
	       "a block held 300 ms: one overrun event (+%lld), one jump in the data (%u)",
	       ev2 - ev1, k.gaps - gaps1);
	tap_ok(smp2 > smp1 && k.gap_frames - gap_frames1 == (uint64_t)(smp2 - smp1),
	       "frames skipped in the data (%llu) == overrun_samples growth (%lld)",
	       (unsigned long long)(k.gap_frames - gap_frames1), smp2 - smp1);
	cap_adc_close(&a);
	return tap_done();
}
