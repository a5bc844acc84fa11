// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sdma-fifo: the soft DMA's FIFO is 20 ms deep (docs/sim-adc.md). One
 * 32 KiB DMABUF block in flight at 100 kS/s (4 x s32: 32000 B of FIFO, a
 * block lasts 20.48 ms); after 5 blocks of warm-up the reader takes 2 ms to
 * give each of 10 blocks back:
 * nothing may be lost, the counter runs on (the engine used to lose what
 * came due while no block was queued, polling every millisecond). Then the
 * reader keeps a block for 300 ms: exactly one overrun, whose frames are
 * exactly the counter's jump in the data. Each of the two phases is tried
 * up to 3 times (a loaded CI host may stall the guest longer than the FIFO
 * once; the old engine lost data every time). Over the whole run, warm-up
 * and failed tries included, the jumps and skipped frames in the data equal overrun_events
 * and overrun_samples.
 *
 * s32, so that a jump's length is exact whatever the host's speed (the s16
 * counter repeats every 65536 frames, 655 ms here); each block is poisoned
 * (0xa5) before it goes back, so a block handed out again without a refill
 * fails instead of passing as a jump backwards modulo the period.
 */
#include <time.h>

#include "capture-util.h"
#include "sdma-state.h"

#define RATE  100000
#define FRAME 16
#define BLOCK 32768
#define TRIES 3

/* A field of the soft DMA's debugfs state of @a's channel, or -1. */
static long long state_ll(const struct cap_adc *a, const char *field)
{
	char chan[32] = "";

	if (izc_device_attr_read(a->dev, "dma_channel", chan, sizeof(chan)) < 0)
		return -1;
	return sdma_state_ll(chan, field);
}

/* Dequeue, check and hand back @count blocks, each after @hold_ns. */
static bool turn_blocks(struct izc_stream *s, struct cap_check *k, unsigned int count, long hold_ns)
{
	for (unsigned int i = 0; i < count; i++) {
		int ret = cap_stream_turn(s, k, BLOCK, hold_ns, NULL);

		if (ret) {
			tap_diag("block %u: %d", i, ret);
			return false;
		}
	}
	return true;
}

int main(void)
{
	struct cap_adc a = {0};
	struct izc_stream *s = NULL;
	long long evs, smps, ev1 = 0, smp1 = 0, ev2 = 0, smp2 = 0;
	uint64_t gap_frames1;
	unsigned int gaps1, tries, blocks = 5;
	struct cap_check k;
	bool ok;
	int ret;

	tap_plan(9);
	alarm(120);
	ret = tap_load_sim_adc("sampling_frequency=100000 sample_bits=32");
	if (!tap_success(ret, -ret, "modules load, izc_sim_adc at 100 kS/s, s32"))
		tap_bail("no modules");
	ret = cap_adc_open(&a, "izc-sim-adc0");
	if (!ret)
		ret = izc_buffer_set_scan_mask(a.buf, 0xf);
	evs = cap_attr_ll(&a, "overrun_events");
	smps = cap_attr_ll(&a, "overrun_samples");
	if (!ret && (evs < 0 || smps < 0))
		ret = -EIO;
	if (!ret)
		ret = izc_stream_open(a.dev, 0, IZC_DIR_IN, 1, BLOCK, IZC_STREAM_NO_FALLBACK, &s);
	if (!ret)
		ret = izc_stream_start(s);
	if (!tap_success(ret, -ret, "one 32 KiB DMABUF block, 4 x s32 at 100 kS/s, starts"))
		tap_bail("no stream");

	tap_ok(state_ll(&a, "fifo") == RATE / 50 * FRAME,
	       "the channel's FIFO holds 20 ms: %lld B, want %d", state_ll(&a, "fifo"),
	       RATE / 50 * FRAME);

	cap_check_init(&k, 0xf, 32);
	k.gap_mode = true;
	/*
	 * Warm-up: under TCG the first passes through new code are slow
	 * (translation). Their overruns, if any, are only checked for
	 * consistency with the data below.
	 */
	ok = turn_blocks(s, &k, 5, 2000000);
	/*
	 * A loaded host can stall the guest for longer than the FIFO now and
	 * then, so a phase that lost data is tried again, up to 3 times; an
	 * engine that loses what comes due while no block is queued loses
	 * data in every phase (every block is away for 2 ms).
	 */
	for (tries = 1; tries <= TRIES; tries++) {
		long long ev0 = cap_attr_ll(&a, "overrun_events");
		long long smp0 = cap_attr_ll(&a, "overrun_samples");

		gaps1 = k.gaps;
		gap_frames1 = k.gap_frames;
		ok = turn_blocks(s, &k, 10, 2000000) && ok;
		ev1 = cap_attr_ll(&a, "overrun_events");
		smp1 = cap_attr_ll(&a, "overrun_samples");
		blocks += 10;
		tap_diag("try %u: 10 blocks held 2 ms each: overrun_events +%lld, "
			 "overrun_samples +%lld, %u jumps over %llu frames",
			 tries, ev1 - ev0, smp1 - smp0, k.gaps - gaps1,
			 (unsigned long long)(k.gap_frames - gap_frames1));
		if (!ok || (ev1 == ev0 && smp1 == smp0 && k.gaps == gaps1))
			break;
	}
	tap_ok(ok && k.errors == 0 && k.frames == blocks * BLOCK / FRAME,
	       "%u blocks read, every frame consistent across the channels", blocks);
	tap_ok(ok && tries <= TRIES,
	       "10 blocks given back 2 ms late lose nothing (the FIFO holds 20 ms): try %u of %u",
	       tries, TRIES);

	/* Same for one long hold: a stall in the blocks after it adds an overrun. */
	for (tries = 1; tries <= TRIES; tries++) {
		gaps1 = k.gaps;
		gap_frames1 = k.gap_frames;
		ev1 = cap_attr_ll(&a, "overrun_events");
		smp1 = cap_attr_ll(&a, "overrun_samples");
		ok = turn_blocks(s, &k, 1, 300000000) && turn_blocks(s, &k, 10, 0);
		ev2 = cap_attr_ll(&a, "overrun_events");
		smp2 = cap_attr_ll(&a, "overrun_samples");
		tap_diag("try %u: one block held 300 ms: overrun_events +%lld, overrun_samples "
			 "+%lld, %u jumps over %llu frames",
			 tries, ev2 - ev1, smp2 - smp1, k.gaps - gaps1,
			 (unsigned long long)(k.gap_frames - gap_frames1));
		if (!ok || (ev2 == ev1 + 1 && k.gaps - gaps1 == 1))
			break;
	}
	izc_stream_close(s);
	tap_ok(ok && k.errors == 0, "11 more blocks read (per try), every frame consistent");
	tap_ok(ok && tries <= TRIES && ev2 == ev1 + 1 && k.gaps - gaps1 == 1,
	       "a block held 300 ms: one overrun event (+%lld), one jump in the data (%u), "
	       "try %u of %u",
	       ev2 - ev1, k.gaps - gaps1, tries, TRIES);
	tap_ok(smp2 > smp1 && k.gap_frames - gap_frames1 == (uint64_t)(smp2 - smp1),
	       "frames skipped in the data (%llu) == overrun_samples growth (%lld)",
	       (unsigned long long)(k.gap_frames - gap_frames1), smp2 - smp1);
	tap_ok(k.gaps == (unsigned int)(ev2 - evs) && k.gap_frames == (uint64_t)(smp2 - smps),
	       "whole run, warm-up included: %u jumps over %llu frames in the data == "
	       "overrun_events +%lld, overrun_samples +%lld",
	       k.gaps, (unsigned long long)k.gap_frames, ev2 - evs, smp2 - smps);
	cap_adc_close(&a);
	return tap_done();
}
