// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * DAC underflow through the loopback: both converters paced at 200 kS/s,
 * the DAC paired with the ADC (latency 0). A slow writer hands the DAC one
 * 1024-frame block every 50 ms (a block lasts 5 ms): the DAC underflows
 * between blocks. The ADC must see every frame either as the next frame of
 * the pattern (in order, no frame repeated or skipped) or as the idle value
 * (all channels 0); it must see idle frames between data; the DAC's
 * underflow counters must grow, and the idle frames the ADC saw between
 * the first and the last data frame cannot exceed underflow_samples.
 */
#include <pthread.h>

#include "sim-pair.h"

#define NCHAN 4
#define FRAME (NCHAN * 2)
#define BLKF  1024
#define NBLK  20

static int dac_fd;
static volatile int writer_err;

static void *slow_writer(void *arg)
{
	static uint32_t buf[BLKF * FRAME / 4];
	uint64_t word = 0;
	int i;

	(void)arg;
	for (i = 0; i < NBLK; i++) {
		usleep(50000);
		pattern_fill(buf, BLKF * FRAME / 4, word);
		if (write(dac_fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
			writer_err = errno ? errno : EIO;
			return NULL;
		}
		word += BLKF * FRAME / 4;
	}
	return NULL;
}

int main(void)
{
	static uint32_t rd[8192 * FRAME / 4];
	struct iiodev adc, dac;
	long long ev0, us0, ev1, us1;
	uint64_t data = 0, idle_mid = 0, idle_run = 0, total = 0;
	int adcfd, ret, bad = 0;
	size_t f;
	pthread_t th;

	tap_plan(6);
	load_modules("sampling_frequency=200000",
		     "sampling_frequency=200000 loopback=1 loopback_latency=0");
	if (iio_find("izc-sim-adc0", &adc) || iio_find("izc-sim-dac0", &dac))
		tap_bail("no izc-sim-adc0 / izc-sim-dac0");

	/* 64K frames of ADC buffer: a third of a second of slack for the reader */
	buffer_setup(&adc, "in", NCHAN, 65536, 8192);
	buffer_setup(&dac, "out", NCHAN, 4 * BLKF, BLKF);
	ev0 = attr_read(&dac, "underflow_events");
	us0 = attr_read(&dac, "underflow_samples");

	adcfd = dev_open(&adc, O_RDONLY);
	dac_fd = dev_open(&dac, O_WRONLY);
	ret = buffer_enable(&adc, 1);
	if (!ret)
		ret = buffer_enable(&dac, 1);
	tap_success(ret, -ret, "enable ADC then DAC, both paced at 200 kS/s");

	pthread_create(&th, NULL, slow_writer, NULL);
	/* Until every data frame came back, or 40 s of samples. */
	while (!bad && data < (uint64_t)NBLK * BLKF && total < 200000ull * 40) {
		long n = read_full(adcfd, rd, sizeof(rd));
		if (n < 0) {
			tap_diag("ADC read: %s", strerror(-n));
			bad = 1;
			break;
		}
		for (f = 0; f < (size_t)n / FRAME; f++, total++) {
			const uint32_t *w = rd + f * (FRAME / 4);

			if (!w[0] && !w[1]) {
				idle_run++;
				continue;
			}
			if (w[0] != pattern_word(data * 2) || w[1] != pattern_word(data * 2 + 1)) {
				tap_diag(
					"frame %llu: %08x %08x is neither idle nor data frame %llu",
					(unsigned long long)total, w[0], w[1],
					(unsigned long long)data);
				bad = 1;
				break;
			}
			if (data)
				idle_mid += idle_run;
			idle_run = 0;
			data++;
		}
	}
	pthread_join(th, NULL);
	buffer_enable(&dac, 0);
	buffer_enable(&adc, 0);
	ev1 = attr_read(&dac, "underflow_events");
	us1 = attr_read(&dac, "underflow_samples");
	tap_diag("%llu frames captured, %llu data, %llu idle between data; underflow %lld events"
		 " %lld samples; ADC overrun %lld",
		 (unsigned long long)total, (unsigned long long)data, (unsigned long long)idle_mid,
		 ev1 - ev0, us1 - us0, attr_read(&adc, "overrun_samples"));

	tap_ok(!bad && !writer_err && data == (uint64_t)NBLK * BLKF,
	       "every captured frame is idle or the next pattern frame; all %d written frames came"
	       " back once, in order",
	       NBLK * BLKF);
	tap_ok(idle_mid > 0, "the ADC saw the idle value between data blocks (%llu frames)",
	       (unsigned long long)idle_mid);
	tap_ok(ev1 > ev0 && us1 > us0, "underflow_events and underflow_samples grew");
	tap_ok(us1 - us0 >= (long long)idle_mid,
	       "idle frames seen between data (%llu) <= underflow_samples (%lld)",
	       (unsigned long long)idle_mid, us1 - us0);
	tap_ok(attr_read(&dac, "loopback_dropped_samples") == 0, "no frame dropped on the wire");

	close(dac_fd);
	close(adcfd);
	return tap_done();
}
