// SPDX-License-Identifier: GPL-2.0
/*
 * adc-smoke: the simulated ADC as loaded with no parameters, through raw
 * sysfs and read() on /dev/iio:deviceN (no library): its attributes and scan
 * types, the counter waveform byte for byte with all channels and with a
 * subset, the stream restarting at frame 0 on enable, EBUSY on settings while
 * streaming, and an overrun that is counted, shows as a gap in the counter
 * and recovers. The counter formula is in docs/sim-adc.md:
 * value(n, c) = (n + c * 2^(B - 4)) mod 2^B.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"

#define NCHAN 4

static char devdir[300];
static char devnode[300];

static int attr_read(const char *rel, char *buf, size_t len)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", devdir, rel);
	return tool_read_file(path, buf, len);
}

static int attr_write(const char *rel, const char *val)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", devdir, rel);
	return tool_write_file(path, val);
}

static long long attr_ll(const char *rel)
{
	char buf[64];

	if (attr_read(rel, buf, sizeof(buf)) < 0)
		return -1;
	return strtoll(buf, NULL, 0);
}

static bool attr_is(const char *rel, const char *want)
{
	char buf[128];

	if (attr_read(rel, buf, sizeof(buf)) < 0)
		return false;
	if (strcmp(buf, want))
		tap_diag("%s reads \"%s\", want \"%s\"", rel, buf, want);
	return !strcmp(buf, want);
}

static bool find_adc(void)
{
	struct dirent *de;
	bool found = false;
	char name[64];
	DIR *d;

	d = opendir("/sys/bus/iio/devices");
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (strncmp(de->d_name, "iio:device", 10))
			continue;
		snprintf(devdir, sizeof(devdir), "/sys/bus/iio/devices/%s", de->d_name);
		snprintf(devnode, sizeof(devnode), "/dev/%s", de->d_name);
		found = attr_read("name", name, sizeof(name)) > 0 && !strcmp(name, "izc-sim-adc");
	}
	closedir(d);
	return found;
}

static void set_channels(unsigned int mask)
{
	char rel[64];
	unsigned int c;

	for (c = 0; c < NCHAN; c++) {
		snprintf(rel, sizeof(rel), "scan_elements/in_voltage%u_en", c);
		attr_write(rel, mask & (1u << c) ? "1" : "0");
	}
}

/* Read exactly @len bytes from the buffer; false on error or EOF */
static bool read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n <= 0) {
			tap_diag("read: %s", n ? strerror(errno) : "EOF");
			return false;
		}
		got += n;
	}
	return true;
}

static uint16_t expect(uint64_t n, unsigned int c)
{
	return (uint16_t)(n + ((uint64_t)c << 12));
}

static uint16_t le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

/*
 * Check @nframes frames of the channels in @mask against the counter,
 * starting at frame @n0. Returns true if every byte matches.
 */
static bool check_counter(const uint8_t *buf, size_t nframes, unsigned int mask, uint64_t n0)
{
	size_t f, off = 0;
	unsigned int c;

	for (f = 0; f < nframes; f++)
		for (c = 0; c < NCHAN; c++) {
			if (!(mask & (1u << c)))
				continue;
			if (le16(buf + off) != expect(n0 + f, c)) {
				tap_diag("frame %zu channel %u: %04x, want %04x", f, c,
					 le16(buf + off), expect(n0 + f, c));
				return false;
			}
			off += 2;
		}
	return true;
}

static bool stream_check(unsigned int mask, size_t bytes, const char *what)
{
	unsigned int nact = __builtin_popcount(mask);
	size_t frames = bytes / (2 * nact);
	uint8_t *buf = malloc(frames * 2 * nact);
	bool ok = false;
	int fd;

	set_channels(mask);
	attr_write("buffer/length", "8192");
	if (attr_write("buffer/enable", "1")) {
		tap_ok(false, "%s: buffer enables", what);
		free(buf);
		return false;
	}
	fd = open(devnode, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && buf) {
		ok = read_full(fd, buf, frames * 2 * nact) && check_counter(buf, frames, mask, 0);
		close(fd);
	}
	attr_write("buffer/enable", "0");
	tap_ok(ok, "%s: %zu frames match the counter from frame 0", what, frames);
	free(buf);
	return ok;
}

/*
 * Paced at 100 kS/s, nobody reads for 300 ms: the blocks fill up, the
 * converter keeps sampling, frames are lost. Then the reader catches up: the
 * counter must be continuous except for forward jumps whose total is what
 * overrun_samples counted, every frame consistent across channels.
 */
static void overrun_check(void)
{
	const size_t frames = 64 * 1024, fb = 2 * NCHAN;
	long long ev0, smp0, ev1, smp1;
	uint8_t *buf = malloc(frames * fb);
	uint64_t n = 0, jumped = 0;
	bool consistent = true;
	size_t f, jumps = 0;
	unsigned int c;
	int fd, ret;

	ev0 = attr_ll("overrun_events");
	smp0 = attr_ll("overrun_samples");
	set_channels(0xf);
	attr_write("sampling_frequency", "100000");
	attr_write("buffer/length", "4096");
	ret = attr_write("buffer/enable", "1");
	tap_success(ret, -ret, "enable at 100 kS/s");
	fd = open(devnode, O_RDONLY | O_CLOEXEC);
	usleep(300000);
	if (fd < 0 || !buf || !read_full(fd, buf, frames * fb))
		consistent = false;
	for (f = 0; consistent && f < frames; f++) {
		uint16_t v0 = le16(buf + f * fb);
		uint64_t m = n;

		/* n advances by one, or jumps forward over lost frames */
		while ((uint16_t)m != v0)
			m++;
		if (m != n) {
			jumps++;
			jumped += m - n;
		}
		for (c = 1; c < NCHAN; c++)
			if (le16(buf + f * fb + 2 * c) != expect(m, c))
				consistent = false;
		n = m + 1;
	}
	if (fd >= 0)
		close(fd);
	attr_write("buffer/enable", "0");
	ev1 = attr_ll("overrun_events");
	smp1 = attr_ll("overrun_samples");
	tap_diag("overrun: %lld events, %lld frames lost; counter jumped %zu times over %llu",
		 ev1 - ev0, smp1 - smp0, jumps, (unsigned long long)jumped);

	tap_ok(ev1 > ev0 && smp1 > smp0,
	       "a stalled reader raises overrun_events and overrun_samples");
	tap_ok(consistent, "every frame after the overrun is consistent across channels");
	tap_ok(jumps >= 1 && jumped <= (unsigned long long)(smp1 - smp0),
	       "the counter shows the gap and skips no more than was counted lost");
	free(buf);
}

int main(void)
{
	static const char *const modules[] = {"izc_soft_dma", "izc_block_buffer", "izc_sim_adc"};
	char rel[64], want[64];
	unsigned int i;
	int ret;

	tap_plan(34);
	alarm(120);

	for (i = 0; i < 3; i++) {
		ret = tap_load_module(modules[i], NULL);
		tap_success(ret, -ret, "load %s", modules[i]);
	}
	if (!find_adc())
		tap_bail("no izc-sim-adc in /sys/bus/iio/devices");

	tap_ok(attr_is("label", "izc-sim-adc0"), "label is izc-sim-adc0");
	tap_ok(attr_is("sampling_frequency", "1000000"), "sampling_frequency defaults to 1000000");
	tap_ok(attr_is("dma_mode", "touch"), "dma_mode defaults to touch");
	tap_ok(attr_is("dma_mode_available", "touch null"), "dma_mode_available");
	tap_ok(attr_is("buffer/direction", "in"), "the buffer is an input buffer");
	for (i = 0; i < NCHAN; i++) {
		snprintf(rel, sizeof(rel), "scan_elements/in_voltage%u_type", i);
		ret = attr_is(rel, "le:s16/16>>0");
		snprintf(rel, sizeof(rel), "scan_elements/in_voltage%u_index", i);
		snprintf(want, sizeof(want), "%u", i);
		ret = attr_is(rel, want) && ret;
		snprintf(rel, sizeof(rel), "in_voltage%u_waveform", i);
		ret = attr_is(rel, "counter") && ret;
		tap_ok(ret, "channel %u: le:s16/16>>0, index %u, counter waveform", i, i);
	}
	tap_ok(attr_read("scan_elements/in_voltage4_en", want, sizeof(want)) == -ENOENT,
	       "there is no fifth channel");
	tap_ok(attr_is("in_voltage_waveform_available", "counter sine ramp noise"),
	       "in_voltage_waveform_available");

	ret = attr_write("sampling_frequency", "-1");
	tap_errno(ret, -ret, EINVAL, "sampling_frequency -1");
	ret = attr_write("dma_mode", "fast");
	tap_errno(ret, -ret, EINVAL, "dma_mode fast");
	ret = attr_write("sampling_frequency", "0");
	tap_success(ret, -ret, "sampling_frequency 0 selects unpaced");
	tap_ok(attr_is("sampling_frequency", "0"), "sampling_frequency reads back 0");

	stream_check(0xf, 4 << 20, "4 channels unpaced, 4 MiB");
	stream_check(0xa, 1 << 20, "channels 1 and 3, 1 MiB");
	stream_check(0x1, 1 << 20, "channel 0 alone, 1 MiB");

	/* settings are refused while streaming */
	set_channels(0xf);
	attr_write("buffer/enable", "1");
	ret = attr_write("sampling_frequency", "1000");
	tap_errno(ret, -ret, EBUSY, "sampling_frequency while enabled");
	ret = attr_write("dma_mode", "null");
	tap_errno(ret, -ret, EBUSY, "dma_mode while enabled");
	attr_write("buffer/enable", "0");

	tap_ok(attr_ll("blocks_completed") > 0 && attr_ll("bytes_completed") >= 6 << 20,
	       "blocks_completed and bytes_completed count the transfers (%lld, %lld)",
	       attr_ll("blocks_completed"), attr_ll("bytes_completed"));
	tap_ok(attr_ll("overrun_events") == 0, "no overrun while unpaced");

	overrun_check();

	/* unloading while streaming: refused for the DMA, clean for the ADC */
	ret = attr_write("sampling_frequency", "1000000");
	set_channels(0xf);
	ret = ret ? ret : attr_write("buffer/enable", "1");
	tap_success(ret, -ret, "streaming at 1 MS/s, 4 channels");
	usleep(50000);
	/*
	 * delete_module(): a module others depend on (izc_sim_adc uses
	 * izc_soft_dma) is refused with exactly -EWOULDBLOCK (== EAGAIN), as
	 * capture-errno shows too.
	 */
	ret = tap_unload_module("izc_soft_dma");
	tap_errno(ret, -ret, EWOULDBLOCK, "izc_soft_dma cannot be unloaded while its ADC streams");
	ret = tap_unload_module("izc_sim_adc");
	tap_success(ret, -ret, "izc_sim_adc unloads while streaming");
	ret = tap_load_module("izc_sim_adc", "instances=2 channels=16 sample_bits=32");
	tap_success(ret, -ret, "izc_sim_adc reloads with instances=2 channels=16 sample_bits=32");
	tap_ok(find_adc() && attr_is("scan_elements/in_voltage15_type", "le:s32/32>>0") &&
		       attr_read("scan_elements/in_voltage16_en", want, sizeof(want)) == -ENOENT,
	       "the reloaded ADC has 16 channels of le:s32/32>>0");
	return tap_done();
}
