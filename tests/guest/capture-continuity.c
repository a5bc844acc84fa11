// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * capture-continuity: no sample lost or duplicated across block boundaries,
 * and overruns that are counted, visible and recovered from.
 *
 * Part 1: 1 GiB from izc-sim-adc0 (4 x s32, unpaced, touch DMA) through a
 * libizc DMABUF stream of 8 x 1 MiB blocks cycling; the checker carries the
 * frame index n across blocks, so every block must start exactly where the
 * previous one ended; an unpaced stream never overruns. s32, because with
 * s16 the counter repeats every 65536 frames: a 1 MiB block of 4 x s16 is
 * two whole periods, so a lost, duplicated or stale block would look right.
 * Each block is poisoned before it goes back to the device (a block never
 * written again fails), and after the stop blocks_completed and
 * bytes_completed must have grown by exactly the blocks the reader saw.
 *
 * Part 2: an ADC added with new_device "4 32" (s32: the counter only wraps
 * after 2^32 frames, so any gap's length is exact), paced at 200 kS/s,
 * 8 x 64 KiB blocks (164 ms of buffering). The reader takes 20 blocks, then
 * stops returning blocks for 600 ms, then reads on. overrun_events and
 * overrun_samples must grow; the frames the counter skipped in the data must
 * equal the growth of overrun_samples exactly; every frame must stay
 * consistent across channels; and the 20 blocks after the gap must be
 * continuous again (the stream recovered).
 */
#include <time.h>

#include "capture-util.h"

#define KiB (1024ul)
#define MiB (1024ul * 1024ul)

static bool read_blocks(struct izc_stream *s, struct cap_check *k, unsigned int count,
			size_t *bytes)
{
	for (unsigned int i = 0; i < count; i++) {
		if (!cap_stream_cycle(s, k, izc_stream_block_size(s), bytes)) {
			tap_diag("block %u of %u failed", i, count);
			return false;
		}
	}
	return true;
}

static void unpaced_gib(struct cap_adc *a)
{
	const unsigned long long gib = 1024 * MiB;
	long long ev0 = cap_attr_ll(a, "overrun_events");
	long long smp0 = cap_attr_ll(a, "overrun_samples");
	long long blk0 = cap_attr_ll(a, "blocks_completed");
	long long byt0 = cap_attr_ll(a, "bytes_completed");
	unsigned long long tail_blocks = 0;
	long long dblk, dbyt;
	struct izc_stream *s = NULL;
	struct cap_check k;
	size_t bytes = 0, tail_bytes = 0;
	bool ok;
	int ret;

	cap_check_init(&k, 0xf, 32);
	ret = izc_buffer_set_scan_mask(a->buf, 0xf);
	if (!ret)
		ret = izc_stream_open(a->dev, 0, IZC_DIR_IN, 8, MiB, IZC_STREAM_NO_FALLBACK, &s);
	if (!ret)
		ret = izc_stream_start(s);
	if (!tap_success(ret, -ret, "unpaced: DMABUF stream of 8 x 1 MiB (4 x s32) starts")) {
		tap_ok(false, "unpaced: no data");
		tap_ok(false, "unpaced: no data");
		tap_ok(false, "unpaced: no data");
		if (s)
			izc_stream_close(s);
		return;
	}
	ok = read_blocks(s, &k, gib / MiB, &bytes);
	ok = cap_stream_finish(s, &k, &tail_blocks, &tail_bytes) && ok;
	izc_stream_close(s);
	dblk = cap_attr_ll(a, "blocks_completed") - blk0;
	dbyt = cap_attr_ll(a, "bytes_completed") - byt0;
	tap_ok(ok && bytes == gib && k.n == (gib + tail_bytes) / k.frame,
	       "unpaced: %zu MiB in %llu blocks (+%llu completed before the stop), %llu frames, "
	       "each block continuing the last (n carried across boundaries, from 0)",
	       bytes / MiB, (unsigned long long)(bytes / MiB), tail_blocks,
	       (unsigned long long)k.frames);
	tap_ok(blk0 >= 0 && byt0 >= 0 && dblk == (long long)(gib / MiB + tail_blocks) &&
		       dbyt == (long long)(gib + tail_bytes),
	       "unpaced: blocks_completed +%lld, bytes_completed +%lld == the %llu "
	       "blocks, %zu bytes the reader got",
	       dblk, dbyt, gib / MiB + tail_blocks, (size_t)gib + tail_bytes);
	tap_ok(cap_attr_ll(a, "overrun_events") == ev0 && cap_attr_ll(a, "overrun_samples") == smp0,
	       "unpaced: overrun_events and overrun_samples unchanged");
}

static void slow_reader(struct cap_adc *a)
{
	struct timespec stall = {0, 600 * 1000000L};
	long long ev0, smp0, ev1, smp1;
	struct izc_stream *s = NULL;
	struct cap_check k;
	size_t bytes = 0;
	uint64_t gap_before;
	bool ok;
	int ret;

	cap_check_init(&k, 0xf, 32);
	k.gap_mode = true;
	ret = izc_device_attr_write_ll(a->dev, "sampling_frequency", 200000);
	if (!ret)
		ret = izc_buffer_set_scan_mask(a->buf, 0xf);
	ev0 = cap_attr_ll(a, "overrun_events");
	smp0 = cap_attr_ll(a, "overrun_samples");
	if (!ret)
		ret = izc_stream_open(a->dev, 0, IZC_DIR_IN, 8, 64 * KiB, IZC_STREAM_NO_FALLBACK,
				      &s);
	if (!ret)
		ret = izc_stream_start(s);
	if (!tap_success(ret, -ret, "paced: s32 stream at 200 kS/s, 8 x 64 KiB, starts")) {
		for (int i = 0; i < 5; i++)
			tap_ok(false, "paced: no stream");
		if (s)
			izc_stream_close(s);
		return;
	}
	ok = read_blocks(s, &k, 20, &bytes);
	gap_before = k.gap_frames;
	/* The slow reader: all blocks stay queued (and fill), nothing returns. */
	nanosleep(&stall, NULL);
	ok = read_blocks(s, &k, 40, &bytes) && ok;
	/* Overruns after this point would not be in the data we saw. */
	ev1 = cap_attr_ll(a, "overrun_events");
	smp1 = cap_attr_ll(a, "overrun_samples");
	izc_stream_close(s);
	tap_diag("paced: %llu frames seen, %u jumps over %llu frames (%llu before the stall); "
		 "overrun_events +%lld, overrun_samples +%lld",
		 (unsigned long long)k.frames, k.gaps, (unsigned long long)k.gap_frames,
		 (unsigned long long)gap_before, ev1 - ev0, smp1 - smp0);

	tap_ok(ok && k.errors == 0 && k.frames == bytes / k.frame,
	       "paced: every frame consistent across the 4 channels, the counter only jumps "
	       "forward");
	tap_ok(ev1 > ev0 && smp1 > smp0, "paced: the stalled reader raised overrun_events and "
					 "overrun_samples");
	tap_ok(k.gaps >= 1 && k.gap_frames == (uint64_t)(smp1 - smp0),
	       "paced: frames skipped in the data (%llu) == overrun_samples growth (%lld)",
	       (unsigned long long)k.gap_frames, smp1 - smp0);
	tap_ok(k.gaps == (unsigned int)(ev1 - ev0),
	       "paced: jumps in the data (%u) == overrun_events growth (%lld)", k.gaps, ev1 - ev0);
	tap_ok(k.last_gap_at && k.frames - k.last_gap_at >= 20 * 64 * KiB / k.frame,
	       "paced: recovered, the last %llu frames (>= 20 blocks) continuous",
	       (unsigned long long)(k.frames - k.last_gap_at));
}

int main(void)
{
	struct cap_adc a0 = {0}, a1 = {0};
	int fd, ret;

	tap_plan(2 + 4 + 2 + 6);
	alarm(170);

	ret = tap_load_sim_adc("sampling_frequency=0 sample_bits=32");
	if (!tap_success(ret, -ret, "modules load, izc_sim_adc unpaced, s32"))
		tap_bail("no modules");
	ret = cap_adc_open(&a0, "izc-sim-adc0");
	if (!tap_success(ret, -ret, "izc-sim-adc0 found"))
		tap_bail("no ADC");
	unpaced_gib(&a0);

	fd = open("/sys/bus/platform/drivers/izc-sim-adc/new_device", O_WRONLY | O_CLOEXEC);
	ret = fd < 0 ? -1 : (int)write(fd, "4 32", 4);
	tap_ok(ret == 4, "new_device \"4 32\"");
	if (fd >= 0)
		close(fd);
	ret = cap_adc_open(&a1, "izc-sim-adc1");
	tap_success(ret, -ret, "izc-sim-adc1 found");
	if (!ret)
		slow_reader(&a1);
	else
		for (int i = 0; i < 6; i++)
			tap_ok(false, "paced: no ADC");
	cap_adc_close(&a1);
	cap_adc_close(&a0);
	return tap_done();
}
