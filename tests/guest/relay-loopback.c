// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Zero-copy IIO-to-IIO relay, checked at the far end:
 *
 *   izc-sim-adc0 (counter) --DMABUF--> izc-sim-dac0 --loopback--> izc-sim-adc1
 *
 * Four 1 MiB DMABUFs from the system heap are attached to both ADC0's and
 * DAC0's buffers. The relay (this program's main thread) never maps them: it
 * enqueues each to ADC0, waits for ADC0's write fence (poll POLLIN), enqueues
 * it to DAC0, waits for every fence (poll POLLOUT), and gives it back to
 * ADC0; 1 GiB in all. A second thread reads ADC1 (fileio) and checks the
 * counter formula from frame 0 on, sample by sample: the far end must see
 * ADC0's stream exactly. All three converters are unpaced; the relay's CPU
 * time per GiB is printed (not asserted).
 *
 * All three are 4 x s32: the s16 counter repeats every 65536 frames and a
 * 1 MiB block of 4 x s16 is two whole periods, so a block lost, relayed
 * twice or relayed before ADC0 refilled it would have looked right at the
 * far end. The s32 counter only wraps after 2^32 frames.
 */
#include <pthread.h>
#include <sys/resource.h>

#include "sim-pair.h"

#define NCHAN 4
#define FRAME (NCHAN * 4)
#define BLK   (1 << 20)
#define NBUFS 4
#define TOTAL (1ull << 30)

static struct iiodev adc0, adc1, dac0;
static volatile uint64_t checked;
static volatile int check_bad, stop;

static void *checker(void *arg)
{
	static uint32_t s[BLK / 4];
	uint64_t n = 0;
	size_t i;
	int fd = *(int *)arg, c;

	while (checked < TOTAL && !check_bad && !stop) {
		long got = read_full(fd, s, sizeof(s));
		if (got < 0) {
			tap_diag("ADC1 read: %s", strerror(-got));
			check_bad = 1;
			break;
		}
		if (got % FRAME) {
			tap_diag("ADC1 read %ld bytes: not whole frames", got);
			check_bad = 1;
			break;
		}
		for (i = 0; i < (size_t)got / 4; i += NCHAN, n++) {
			for (c = 0; c < NCHAN; c++) {
				uint32_t want = (uint32_t)(n + ((uint64_t)c << 28));

				if (s[i + c] != want) {
					tap_diag("far end frame %llu ch %d: 0x%x, want 0x%x",
						 (unsigned long long)n, c, s[i + c], want);
					check_bad = 1;
					return NULL;
				}
			}
		}
		checked += got;
	}
	return NULL;
}

static int wait_poll(int fd, short ev)
{
	struct pollfd p = {.fd = fd, .events = ev};

	return poll(&p, 1, 10000) == 1 ? 0 : -ETIMEDOUT;
}

int main(void)
{
	int dbuf[NBUFS], idx, afd, dfd, adc0dev, dacdev, adc1fd, ret = 0, i, j, nblk;
	struct timespec c0, c1;
	pthread_t th;
	double t0, cpu, wall;

	tap_plan(7);
	load_modules("instances=2 sampling_frequency=0 sample_bits=32",
		     "sampling_frequency=0 sample_bits=32");
	if (iio_find("izc-sim-adc0", &adc0) || iio_find("izc-sim-adc1", &adc1) ||
	    iio_find("izc-sim-dac0", &dac0))
		tap_bail("converters missing");
	ret = attr_write(&dac0, "loopback_adc", "izc-sim-adc1");
	tap_success(ret, -ret, "pair izc-sim-dac0 with izc-sim-adc1 through sysfs");

	buffer_setup(&adc0, "in", NCHAN, 4096, 1024);
	buffer_setup(&dac0, "out", NCHAN, 4096, 1024);
	buffer_setup(&adc1, "in", NCHAN, 4 * (BLK / FRAME), BLK / FRAME);

	adc0dev = dev_open(&adc0, O_RDWR);
	dacdev = dev_open(&dac0, O_RDWR);
	idx = 0;
	if (ioctl(adc0dev, IIO_BUFFER_GET_FD_IOCTL, &idx))
		tap_bail("ADC0 buffer fd: %s", strerror(errno));
	afd = idx;
	idx = 0;
	if (ioctl(dacdev, IIO_BUFFER_GET_FD_IOCTL, &idx))
		tap_bail("DAC0 buffer fd: %s", strerror(errno));
	dfd = idx;
	for (i = 0; i < NBUFS && !ret; i++) {
		dbuf[i] = heap_alloc(BLK);
		ret = dbuf[i] < 0 ? dbuf[i] : dmabuf_attach(afd, dbuf[i]);
		if (!ret)
			ret = dmabuf_attach(dfd, dbuf[i]);
	}
	tap_success(ret, -ret, "the same %d DMABUFs attached to ADC0 and DAC0", NBUFS);
	if (ret)
		tap_bail("no DMABUFs");

	adc1fd = dev_open(&adc1, O_RDONLY);
	ret = buffer_enable(&adc1, 1);
	if (!ret)
		ret = buffer_enable(&dac0, 1);
	if (!ret)
		ret = buffer_enable(&adc0, 1);
	tap_success(ret, -ret, "enable ADC1, DAC0, ADC0");
	pthread_create(&th, NULL, checker, &adc1fd);

	nblk = TOTAL / BLK;
	t0 = now_s();
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	for (i = 0; i < NBUFS && !ret; i++)
		ret = dmabuf_enqueue(afd, dbuf[i], BLK, 0);
	for (j = 0; j < nblk && !ret && !check_bad; j++) {
		i = j % NBUFS;
		/* ADC0 filled it */
		ret = wait_poll(dbuf[i], POLLIN);
		if (!ret)
			ret = dmabuf_enqueue(dfd, dbuf[i], BLK, 0);
		if (ret || j + NBUFS >= nblk)
			continue;
		/* DAC0 read it: back to ADC0 */
		ret = wait_poll(dbuf[i], POLLOUT);
		if (!ret)
			ret = dmabuf_enqueue(afd, dbuf[i], BLK, 0);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	if (ret)
		tap_diag("relay stopped at block %d: %s", j, strerror(-ret));

	for (i = 0; i < 300 && checked < TOTAL && !check_bad; i++)
		usleep(100000);
	stop = 1;
	wall = now_s() - t0;
	buffer_enable(&adc0, 0);
	buffer_enable(&dac0, 0);
	buffer_enable(&adc1, 0);
	pthread_join(th, NULL);

	tap_ok(!ret && j == nblk, "relayed %d blocks of 1 MiB without mapping them", j);
	tap_ok(!check_bad && checked >= TOTAL,
	       "far end (ADC1) got ADC0's counter stream exactly: %llu MiB",
	       (unsigned long long)(checked >> 20));
	tap_ok(attr_read(&dac0, "underflow_samples") == 0 &&
		       attr_read(&dac0, "loopback_dropped_samples") == 0 &&
		       attr_read(&adc0, "overrun_samples") == 0,
	       "no underflow, drop or overrun anywhere");
	/* Every block went to ADC0 exactly once per fill and completed before the disable. */
	tap_ok(attr_read(&adc0, "blocks_completed") == nblk &&
		       attr_read(&adc0, "bytes_completed") == (long long)TOTAL,
	       "ADC0 blocks_completed %lld == %d blocks relayed, bytes_completed %lld",
	       attr_read(&adc0, "blocks_completed"), nblk, attr_read(&adc0, "bytes_completed"));
	cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
	tap_diag("relay CPU time %.3f s per GiB (relay thread, %d x %d KiB DMABUFs); wall %.1f s"
		 " for %llu MiB",
		 cpu * (double)(1ull << 30) / (double)((uint64_t)j * BLK), NBUFS, BLK >> 10, wall,
		 (unsigned long long)(checked >> 20));

	for (i = 0; i < NBUFS; i++) {
		dmabuf_detach(afd, dbuf[i]);
		dmabuf_detach(dfd, dbuf[i]);
		close(dbuf[i]);
	}
	close(afd);
	close(dfd);
	close(adc0dev);
	close(dacdev);
	close(adc1fd);
	return tap_done();
}
