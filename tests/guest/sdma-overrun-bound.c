// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sdma-overrun-bound: an overrun costs the soft DMA the same whatever its
 * length, and every byte is accounted. At 1 GS/s the engine cannot keep up
 * and nothing reads: bytes overflow the FIFO all the time.
 *  - ADC: izc-sim-adc0 at 1 GS/s, paired with a DAC that does not stream,
 *    fileio buffer enabled, never read, for 2 s. Its lost frames used to be
 *    dropped from the loopback wire one by one under its spinlock, a backlog
 *    that only grew: disabling took 17 s with an RCU stall.
 *  - DAC: izc-sim-dac0 at 1 GS/s, 2 of 4 channels (so its idle frames are
 *    widened into the wire frame by frame), one block written, then
 *    underflow for 2 s.
 * Each disable must return within 3 s; afterwards the channel's clock must
 * account every byte (produced = completed bytes + lost bytes, nothing
 * silently dropped, at least 1.5 s worth), the converter's lost frames equal
 * the engine's lost bytes, and the kernel log has no stall or lockup.
 */
#include <stdio.h>

#include "sdma-state.h"
#include "sim-pair.h"

#define RATE	  1000000000ull
#define RCU_STALL "/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout"
#define WATCHDOG  "/proc/sys/kernel/watchdog_thresh"

/* A field of the soft DMA's debugfs state of @d's channel, or -1. */
static long long state_ll(const struct iiodev *d, const char *field)
{
	char path[400], chan[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/dma_channel", d->dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(chan, sizeof(chan), f))
		chan[0] = 0;
	fclose(f);
	return sdma_state_ll(chan, field);
}

/* Disable @d's buffer; returns the seconds it took, < 0 on error. */
static double timed_disable(const struct iiodev *d)
{
	double t0 = now_s();

	if (buffer_enable(d, 0))
		return -1;
	return now_s() - t0;
}

/* The checks after a 2 s overrun of @d (@frame bytes, counter @lost_attr). */
static void account(const struct iiodev *d, const char *what, double took, unsigned int frame,
		    const char *lost_attr)
{
	long long produced = state_ll(d, "produced"), bytes = state_ll(d, "bytes");
	long long lost = state_ll(d, "lost_bytes"), frames = attr_read(d, lost_attr);

	tap_diag("%s: disable took %.3f s; produced %lld = bytes %lld + lost %lld; %s %lld", what,
		 took, produced, bytes, lost, lost_attr, frames);
	tap_ok(took >= 0 && took < 3.0, "%s: disable returned within 3 s (%.3f s)", what, took);
	tap_ok(produced >= 0 && bytes >= 0 && lost > 0 && produced == bytes + lost,
	       "%s: every byte the clock produced was moved or counted lost", what);
	tap_ok(frames > 0 && frames * frame == lost,
	       "%s: %s (%lld) x %u B == the engine's lost bytes (%lld)", what, lost_attr, frames,
	       frame, lost);
	tap_ok(produced >= (long long)(RATE * frame * 3 / 2),
	       "%s: at least 1.5 s of the stream accounted (%lld B)", what, produced);
}

int main(void)
{
	static char blk[1024 * 4];
	struct iiodev adc, dac;
	char line[256], rcu_stall[16] = "21", watchdog[16] = "10";
	int fd, ret, stalls = 0, lines = 0;
	FILE *log;

	tap_plan(11);
	alarm(280);
	/*
	 * The kernel's own bounds (21 s for an RCU stall, 20 s for a soft
	 * lockup) are longer than this test: shortened while it runs, so the
	 * stall this test was written for (17 s) would be reported. Not to
	 * their minimum (3 s, 2 s): a TCG vCPU the host delays must not count.
	 */
	tool_read_file(RCU_STALL, rcu_stall, sizeof(rcu_stall));
	tool_read_file(WATCHDOG, watchdog, sizeof(watchdog));
	if (tool_write_file(RCU_STALL, "5") || tool_write_file(WATCHDOG, "2"))
		tap_bail("cannot shorten the RCU stall / soft lockup bounds");
	load_modules("sampling_frequency=1000000000", "sampling_frequency=1000000000 loopback=1");
	if (iio_find("izc-sim-adc0", &adc) || iio_find("izc-sim-dac0", &dac))
		tap_bail("no izc-sim-adc0 / izc-sim-dac0");

	/* ADC: 4 x s16, 8 B frames, its blocks fill at once and stay full */
	ret = buffer_setup(&adc, "in", 4, 65536, 8192);
	if (!ret)
		ret = buffer_enable(&adc, 1);
	tap_success(ret, -ret,
		    "izc-sim-adc0 (paired with a DAC that does not stream) enabled "
		    "at 1 GS/s, never read");
	sleep(2);
	account(&adc, "ADC", timed_disable(&adc), 8, "overrun_samples");

	/* DAC: channels 0 and 2 of 4, 4 B frames; one block, then nothing */
	ret = attr_write(&dac, "buffer0/out_voltage0_en", "1");
	if (!ret)
		ret = attr_write(&dac, "buffer0/out_voltage2_en", "1");
	if (!ret)
		ret = attr_write_u(&dac, "buffer0/length", 4096);
	if (!ret)
		ret = attr_write_u(&dac, "buffer0/watermark", 1024);
	fd = ret ? -1 : dev_open(&dac, O_WRONLY);
	if (fd >= 0)
		ret = buffer_enable(&dac, 1);
	if (fd >= 0 && !ret && write(fd, blk, sizeof(blk)) != (ssize_t)sizeof(blk))
		ret = -errno;
	tap_success(fd < 0 ? -1 : ret, fd < 0 ? errno : -ret,
		    "izc-sim-dac0 at 1 GS/s, 2 of 4 channels, one block written");
	sleep(2);
	account(&dac, "DAC", timed_disable(&dac), 4, "underflow_samples");
	if (fd >= 0)
		close(fd);

	log = popen("dmesg", "r");
	while (log && fgets(line, sizeof(line), log)) {
		lines++;
		if (strstr(line, "rcu_preempt self-detected stall") ||
		    strstr(line, "rcu_preempt detected stall") || strstr(line, "soft lockup"))
			stalls++;
	}
	ret = log ? pclose(log) : -1;
	tap_ok(ret == 0 && lines > 0 && stalls == 0,
	       "no RCU stall (bound 5 s) or soft lockup (4 s) in the kernel log (%d of %d lines)",
	       stalls, lines);
	tool_write_file(RCU_STALL, rcu_stall);
	tool_write_file(WATCHDOG, watchdog);
	return tap_done();
}
