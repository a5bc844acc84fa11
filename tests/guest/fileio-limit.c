// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fileio-limit: the bound on a buffer's fileio memory (izc_block_buffer's
 * fileio_max_mib, default 256 MiB, at most a quarter of RAM):
 *  - length 1000000000 (4 x s32: 16 GB of blocks) makes the enable fail
 *    with ENOMEM within a second, without allocating (it used to take all
 *    guest RAM in 1 MiB chunks, then fail with a page allocation failure
 *    splat, which the runner's kernel-log check catches);
 *  - with fileio_max_mib=1: 8 blocks of 128 KiB (exactly 1 MiB) enable and
 *    stream the counter from frame 0; one block more (9 x 128 KiB) fails
 *    with ENOMEM; after the failure the 1 MiB buffer works again.
 * Each stream reads 3 MiB, three times around the ring, of s32 samples: a
 * block read again without a refill is one ring (65536 frames) behind and
 * fails (with s16 a ring was two whole counter periods, and a 1 MiB read
 * never reused a block); the second stream's blocks still hold the first
 * stream's last ring, which is not the counter from frame 0.
 */
#include "sim-pair.h"

#define NCHAN	4
#define FRAME	(NCHAN * 4)
#define STREAM	(3u << 20)
#define MAX_MIB "/sys/module/izc_block_buffer/parameters/fileio_max_mib"

static bool counter_ok(const uint32_t *s, size_t nframes, uint64_t *next)
{
	for (size_t i = 0; i < nframes; i++, (*next)++) {
		for (int c = 0; c < NCHAN; c++) {
			uint32_t want = (uint32_t)(*next + ((uint64_t)c << 28));

			if (s[i * NCHAN + c] != want) {
				tap_diag("frame %llu ch %d: 0x%x, want 0x%x",
					 (unsigned long long)*next, c, s[i * NCHAN + c], want);
				return false;
			}
		}
	}
	return true;
}

/* Enable, read 3 MiB and check the counter from frame 0, disable. */
static void stream_ok(const struct iiodev *adc, const char *what)
{
	static uint32_t buf[8192];
	uint64_t next = 0;
	size_t total = 0;
	int fd, ret;

	ret = buffer_enable(adc, 1);
	tap_success(ret, -ret, "%s: enable", what);
	fd = dev_open(adc, O_RDONLY);
	while (fd >= 0 && !ret && total < STREAM) {
		size_t want = STREAM - total < sizeof(buf) ? STREAM - total : sizeof(buf);
		long n = read(fd, buf, want);

		if (n <= 0 || n % FRAME || !counter_ok(buf, n / FRAME, &next)) {
			tap_diag("read returned %ld (%s)", n, n < 0 ? strerror(errno) : "data");
			break;
		}
		total += n;
	}
	tap_ok(total == STREAM && next == STREAM / FRAME,
	       "%s: 3 MiB (3 rings) of the counter from frame 0 (%zu)", what, total);
	if (fd >= 0)
		close(fd);
	ret = buffer_enable(adc, 0);
	tap_success(ret, -ret, "%s: disable", what);
}

int main(void)
{
	struct iiodev adc;
	char val[32];
	double t;
	int ret;

	tap_plan(15);
	load_modules("sampling_frequency=0 sample_bits=32", NULL);
	if (iio_find("izc-sim-adc0", &adc))
		tap_bail("no izc-sim-adc0");

	ret = tool_read_file(MAX_MIB, val, sizeof(val));
	tap_ok(ret > 0 && !strcmp(val, "256"), "fileio_max_mib defaults to 256 (%s)",
	       ret > 0 ? val : strerror(-ret));

	ret = buffer_setup(&adc, "in", NCHAN, 1000000000, 1024);
	tap_success(ret, -ret, "length 1000000000, 4 x s32");
	t = now_s();
	ret = buffer_enable(&adc, 1);
	t = now_s() - t;
	tap_errno(ret, -ret, ENOMEM, "enable with 16 GB of blocks: ENOMEM");
	tap_ok(t < 1.0, "and it fails fast (%.3f s)", t);

	ret = tool_write_file(MAX_MIB, "1");
	tap_success(ret, -ret, "fileio_max_mib=1");
	/* 65536 frames of 16 bytes, watermark 8192: 8 blocks of 128 KiB. */
	ret = buffer_setup(&adc, "in", NCHAN, 65536, 8192);
	tap_success(ret, -ret, "length 65536, watermark 8192 (exactly 1 MiB)");
	stream_ok(&adc, "1 MiB of blocks");

	ret = buffer_setup(&adc, "in", NCHAN, 73728, 8192);
	tap_success(ret, -ret, "length 73728 (9 blocks of 128 KiB)");
	ret = buffer_enable(&adc, 1);
	tap_errno(ret, -ret, ENOMEM, "enable with 1.125 MiB of blocks: ENOMEM");

	ret = buffer_setup(&adc, "in", NCHAN, 65536, 8192);
	tap_success(ret, -ret, "length 65536 again");
	stream_ok(&adc, "1 MiB again after the refusal");
	tool_write_file(MAX_MIB, "256");
	return tap_done();
}
