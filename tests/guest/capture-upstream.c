// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * capture-upstream: unmodified upstream userspace reads correct data from
 * the simulated ADC (4 x s16, unpaced so that no reader speed can cause an
 * overrun):
 *  - Linux's tools/iio/iio_generic_buffer (6.12, static, triggerless -g):
 *    it prints one line per scan, each value (raw + offset) * scale with no
 *    scale/offset attribute, i.e. the signed raw sample; every line must be
 *    the counter from frame 0, all channels (-a) and a subset set in sysfs,
 *    over more scans than one read() returns. Its exit status after a
 *    complete run is 1: main() returns ret, which holds the last poll()'s
 *    count of ready fds (error paths return a negative errno, i.e. >= 128);
 *  - Debian's libiio 0.24: iio_info lists the devices with their channels
 *    and scan formats; iio_readdev writes raw frames to stdout, read here
 *    through a pipe and checked byte for byte, all channels and channel
 *    subsets.
 * value(n, c) = (n + c * 2^(B - 4)) mod 2^B (docs/sim-adc.md).
 *
 * The s16 counter repeats every 65536 frames, so a lost, repeated or stale
 * buffer whose size (or ring) is a multiple of 65536 frames would look right:
 * the s16 iio_readdev run uses 3000-frame buffers (a lost run of buffers
 * only hides if it is 8192 buffers long), and the other iio_readdev runs
 * (65536-frame buffers among them) read a second ADC added with new_device
 * "4 32" (s32, wraps after 2^32 frames). iio_generic_buffer stays on s16:
 * it prints values through a float, which cannot hold every s32 sample, and
 * its runs (< 5120 scans) never reach the wrap.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture-util.h"

#define MAXLINE 4096

/*
 * Run iio_generic_buffer; check every printed scan against the counter of
 * the channels in @mask. Returns the number of scans, or -1 on a mismatch.
 */
static long run_generic_buffer(const char *cmd, uint64_t mask, int *status)
{
	struct cap_check k;
	char line[MAXLINE];
	long scans = 0;
	FILE *p;

	cap_check_init(&k, mask, 16);
	fflush(stdout);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		char *s = line, *end;
		unsigned int i;

		/* Anything else it prints (channel enabling) starts with a letter. */
		if (!(line[0] == '-' || (line[0] >= '0' && line[0] <= '9')))
			continue;
		for (i = 0; i < k.nch; i++, s = end) {
			double v = strtod(s, &end);
			int16_t want = (int16_t)cap_expect(&k, k.n, k.chan[i]);

			if (end == s || v != want) {
				if (k.errors++ < 4)
					tap_diag("scan %ld value %u: \"%.40s\", want %d", scans, i,
						 s, want);
				break;
			}
		}
		while (*s == ' ')
			s++;
		if (i == k.nch && *s != '\n' && k.errors++ < 4)
			tap_diag("scan %ld: more values than channels: %s", scans, line);
		k.n++;
		scans++;
	}
	*status = pclose(p);
	return k.errors ? -1 : scans;
}

/* Run iio_readdev and check its raw output; returns the frames read or -1. */
static long run_readdev(const char *cmd, uint64_t mask, unsigned int bits, int *status)
{
	static unsigned char buf[1 << 16];
	struct cap_check k;
	size_t have = 0, n;
	bool ok = true;
	FILE *p;

	cap_check_init(&k, mask, bits);
	fflush(stdout);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while ((n = fread(buf + have, 1, sizeof(buf) - have, p)) > 0) {
		size_t whole;

		have += n;
		whole = have - have % k.frame;
		if (ok)
			ok = cap_check_data(&k, buf, whole);
		memmove(buf, buf + whole, have - whole);
		have -= whole;
	}
	*status = pclose(p);
	if (have) {
		tap_diag("%zu trailing bytes", have);
		ok = false;
	}
	return ok ? (long)k.frames : -1;
}

static bool output_has(const char *cmd, const char *const *want, size_t nwant)
{
	static char out[1 << 16];
	size_t len = 0, n;
	bool ok = true;
	FILE *p;

	fflush(stdout);
	p = popen(cmd, "r");
	if (!p)
		return false;
	while ((n = fread(out + len, 1, sizeof(out) - 1 - len, p)) > 0)
		len += n;
	out[len] = 0;
	if (pclose(p))
		ok = false;
	for (size_t i = 0; i < nwant; i++)
		if (!strstr(out, want[i])) {
			tap_diag("no \"%s\" in the output of %s", want[i], cmd);
			ok = false;
		}
	if (!ok)
		tap_diag("%.2000s", out);
	return ok;
}

/* Add an ADC through the driver's new_device; 0 or -errno. */
static int new_device(const char *spec)
{
	int fd = open("/sys/bus/platform/drivers/izc-sim-adc/new_device", O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, spec, strlen(spec));
	n = n < 0 ? -errno : n == (ssize_t)strlen(spec) ? 0 : -EIO;
	close(fd);
	return (int)n;
}

int main(void)
{
	static const char *const info_want[] = {
		"izc-sim-adc",
		"4 channels found",
		"voltage0:  (input, index: 0, format: le:S16/16>>0)",
		"voltage3:  (input, index: 3, format: le:S16/16>>0)",
		"voltage0:  (input, index: 0, format: le:S32/32>>0)",
		"voltage3:  (input, index: 3, format: le:S32/32>>0)",
		"sampling_frequency value: 0",
	};
	struct cap_adc a = {0}, a1 = {0};
	char cmd[256];
	int ret, status = -1;
	long got;

	tap_plan(13);
	alarm(170);

	ret = tap_load_sim_adc("sampling_frequency=0");
	if (!tap_success(ret, -ret, "modules load, izc_sim_adc unpaced"))
		tap_bail("no modules");
	ret = cap_adc_open(&a, "izc-sim-adc0");
	/* No channel enabled: iio_generic_buffer -a enables them all. */
	if (!ret)
		ret = izc_buffer_set_scan_mask(a.buf, 0);
	if (!tap_success(ret, -ret, "izc-sim-adc0 found, no channel enabled"))
		tap_bail("no ADC");
	ret = new_device("4 32");
	if (!ret)
		ret = cap_adc_open(&a1, "izc-sim-adc1");
	if (!ret)
		ret = izc_buffer_set_scan_mask(a1.buf, 0);
	if (!tap_success(ret, -ret,
			 "new_device \"4 32\": izc-sim-adc1 (s32) found, no channel enabled"))
		tap_bail("no s32 ADC");

	snprintf(cmd, sizeof(cmd), "iio_generic_buffer -N %u -g -a -c 10 -l 128 2>/dev/null",
		 izc_device_number(a.dev));
	got = run_generic_buffer(cmd, 0xf, &status);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 && got > 128 && got <= 1280,
	       "iio_generic_buffer -g -a: %ld scans of 4 channels printed, the counter from 0 "
	       "(status 0x%x)",
	       got, status);
	tap_ok(izc_buffer_enabled(a.buf) == 0, "iio_generic_buffer disabled the buffer on exit");

	ret = izc_buffer_set_scan_mask(a.buf, 0xa);
	snprintf(cmd, sizeof(cmd), "iio_generic_buffer -N %u -g -c 20 -l 256 2>/dev/null",
		 izc_device_number(a.dev));
	got = ret ? -1 : run_generic_buffer(cmd, 0xa, &status);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 && got > 256 && got <= 5120,
	       "iio_generic_buffer -g, channels 1 and 3 enabled in sysfs: %ld scans exact "
	       "(status 0x%x)",
	       got, status);

	tap_ok(output_has("iio_info -u local: 2>&1", info_want,
			  sizeof(info_want) / sizeof(info_want[0])),
	       "iio_info lists izc-sim-adc, 4 channels le:S16/16>>0 and 4 le:S32/32>>0, "
	       "sampling_frequency 0");
	tap_ok(output_has("iio_attr -u local: -d izc-sim-adc dma_mode 2>&1",
			  (const char *const[]){"touch"}, 1),
	       "iio_attr reads the device attribute dma_mode");

	snprintf(cmd, sizeof(cmd), "iio_readdev -u local: -b 3000 -s 1000000 %s 2>/dev/null",
		 izc_device_id(a.dev));
	got = run_readdev(cmd, 0xf, 16, &status);
	tap_ok(status == 0 && got == 1000000,
	       "iio_readdev s16, all channels, 3000-frame buffers: %ld frames (8 MB) byte for "
	       "byte from frame 0 (exit %d)",
	       got, status);
	snprintf(cmd, sizeof(cmd), "iio_readdev -u local: -b 4096 -s 1048576 %s 2>/dev/null",
		 izc_device_id(a1.dev));
	got = run_readdev(cmd, 0xf, 32, &status);
	tap_ok(status == 0 && got == 1048576,
	       "iio_readdev s32, all channels, 4096-frame buffers: %ld frames (16 MiB) byte for "
	       "byte from frame 0 (exit %d)",
	       got, status);
	snprintf(cmd, sizeof(cmd),
		 "iio_readdev -u local: -b 1000 -s 300000 %s voltage1 voltage3 2>/dev/null",
		 izc_device_id(a1.dev));
	got = run_readdev(cmd, 0xa, 32, &status);
	tap_ok(status == 0 && got == 300000,
	       "iio_readdev s32 voltage1 voltage3, 1000-frame buffers: %ld frames exact (exit %d)",
	       got, status);
	snprintf(cmd, sizeof(cmd),
		 "iio_readdev -u local: -b 65536 -s 262144 %s voltage3 2>/dev/null",
		 izc_device_id(a1.dev));
	got = run_readdev(cmd, 0x8, 32, &status);
	tap_ok(status == 0 && got == 262144,
	       "iio_readdev s32 voltage3 alone, 65536-frame buffers: %ld frames exact (exit %d)",
	       got, status);
	tap_ok(izc_buffer_enabled(a.buf) == 0 && cap_attr_ll(&a, "overrun_events") == 0 &&
		       izc_buffer_enabled(a1.buf) == 0 && cap_attr_ll(&a1, "overrun_events") == 0,
	       "both buffers are disabled again, no overrun happened");
	cap_adc_close(&a1);
	cap_adc_close(&a);
	return tap_done();
}
