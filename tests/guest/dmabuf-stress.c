// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf-stress: racing the DMABUF ABI against itself on a paced ADC and a
 * paced DAC at once, for a few seconds, one thread per kind of action on
 * each buffer fd (non-blocking):
 *  - enqueue a random DMABUF with a random bytes_used and flags, valid or
 *    not: invalid requests must fail with exactly EINVAL (bytes_used 0 or
 *    above the size, cyclic on the input), valid ones succeed or fail with
 *    EPERM (not attached, or queued already) or EBUSY (still in flight);
 *  - attach and detach random DMABUFs: 0, EBUSY (attached twice) or EPERM
 *    (not attached);
 *  - enable and disable the buffer through sysfs at random intervals;
 *  - read() (ADC) or write() (DAC) through the fileio path meanwhile: data,
 *    EAGAIN or EBUSY (a DMABUF is attached or pending).
 * Twice: each converter with its own DMABUFs, then the DAC attaching the
 * ADC's DMABUFs too (one DMABUF in both queues, as a relay has it).
 * Each time every fence must then signal and every DMABUF detach. Then
 * buffer fds opened and closed 300 times with transfers pending. At the
 * end the ADC must still stream the counter from sample 0 through read().
 * The runner fails the test on any kernel splat and checks that every
 * module unloads.
 *
 * This test found a use after free: on an output buffer the core lets an
 * ENQUEUE of a DMABUF whose transfer still runs replace that transfer's
 * fence in the reservation object, which freed it while our block still
 * pointed at it (refcount_t "addition on 0", then an oops in the core's
 * fence cleanup work). The block buffer now holds its own reference.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "sim-pair.h"

#define NCHAN	 4
#define FRAME	 (NCHAN * 2)
#define BLK	 (16 << 10)
#define NBUF	 6
#define STORM_S	 5.0
#define NACTIONS 4

enum {
	ACT_ENQUEUE,
	ACT_ATTACH,
	ACT_TOGGLE,
	ACT_FILEIO
};

static const char *const act_names[NACTIONS] = {"enqueue", "attach/detach", "enable/disable",
						"fileio"};

struct side {
	const char *name;
	struct iiodev dev;
	bool out;
	int devfd, bfd;
	int buf[NBUF];
	atomic_uint ok[NACTIONS], refused[NACTIONS];
	atomic_int bad_errno[NACTIONS]; /* the first unexpected result, as -errno or 1 */
	double deadline;
};

struct job {
	struct side *side;
	int action;
	unsigned int seed;
};

static void note(struct side *s, int act, int ret, bool expected)
{
	int none = 0;

	if (!expected) {
		atomic_compare_exchange_strong(&s->bad_errno[act], &none, ret ? ret : 1);
		return;
	}
	if (ret)
		atomic_fetch_add(&s->refused[act], 1);
	else
		atomic_fetch_add(&s->ok[act], 1);
}

static void do_enqueue(struct side *s, unsigned int *seed)
{
	int fd = s->buf[rand_r(seed) % NBUF], kind = rand_r(seed) % 8, ret;
	size_t used = (size_t)(1 + rand_r(seed) % (BLK / FRAME)) * FRAME;
	unsigned int flags = s->out && rand_r(seed) % 4 == 0 ? IIO_BUFFER_DMABUF_CYCLIC : 0;
	bool invalid = false;

	if (kind == 0) {
		used = 0;
		invalid = true;
	} else if (kind == 1) {
		used = BLK + FRAME;
		invalid = true;
	} else if (kind == 2 && !s->out) {
		flags = IIO_BUFFER_DMABUF_CYCLIC;
		invalid = true;
	}
	ret = dmabuf_enqueue(s->bfd, fd, used, flags);
	if (invalid)
		note(s, ACT_ENQUEUE, ret, ret == -EINVAL);
	else
		note(s, ACT_ENQUEUE, ret, !ret || ret == -EPERM || ret == -EBUSY);
}

static void do_attach(struct side *s, unsigned int *seed)
{
	int fd = s->buf[rand_r(seed) % NBUF];
	int ret = rand_r(seed) % 2 ? dmabuf_attach(s->bfd, fd) : dmabuf_detach(s->bfd, fd);

	note(s, ACT_ATTACH, ret, !ret || ret == -EBUSY || ret == -EPERM);
}

static void do_toggle(struct side *s, unsigned int *seed)
{
	int ret = buffer_enable(&s->dev, rand_r(seed) % 2);

	note(s, ACT_TOGGLE, ret, !ret || ret == -EBUSY);
	usleep(1000 + rand_r(seed) % 20000);
}

static void do_fileio(struct side *s, unsigned int *seed)
{
	static const char zeros[BLK];
	char data[BLK];
	ssize_t n = s->out ? write(s->bfd, zeros, BLK) : read(s->bfd, data, BLK);
	int ret = n < 0 ? -errno : 0;

	note(s, ACT_FILEIO, ret, !ret || ret == -EAGAIN || ret == -EBUSY);
	usleep(rand_r(seed) % 5000);
}

static void *worker(void *arg)
{
	struct job *j = arg;
	void (*const act[NACTIONS])(struct side *, unsigned int *) = {do_enqueue, do_attach,
								      do_toggle, do_fileio};

	while (now_s() < j->side->deadline)
		act[j->action](j->side, &j->seed);
	return NULL;
}

/* @share: NULL, or the side whose DMABUFs this one attaches too. */
static int side_open(struct side *s, const struct side *share)
{
	int idx = 0, ret;

	ret = buffer_setup(&s->dev, s->out ? "out" : "in", NCHAN, 4 * (BLK / FRAME), BLK / FRAME);
	if (ret)
		return ret;
	s->devfd = dev_open(&s->dev, O_RDWR);
	if (s->devfd < 0 || ioctl(s->devfd, IIO_BUFFER_GET_FD_IOCTL, &idx))
		return -errno;
	s->bfd = idx;
	if (fcntl(s->bfd, F_SETFL, O_NONBLOCK))
		return -errno;
	for (int i = 0; i < NBUF; i++) {
		s->buf[i] = share ? dup(share->buf[i]) : heap_alloc(BLK);
		if (s->buf[i] < 0)
			return share ? -errno : s->buf[i];
		ret = dmabuf_attach(s->bfd, s->buf[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * After the storm: blocks enqueued while the buffer was disabled wait for
 * the next enable (as upstream), so enable once more: disabling then
 * completes or aborts every transfer.
 */
static void side_flush(struct side *s)
{
	int ret = buffer_enable(&s->dev, 1);

	if (!ret)
		ret = buffer_enable(&s->dev, 0);
	if (ret)
		tap_diag("%s: enable and disable: %s", s->name, strerror(-ret));
}

/* After side_flush() of every side that shares the DMABUFs. */
static void side_settle(struct side *s)
{
	int idle = 0, detached = 0;

	for (int i = 0; i < NBUF; i++) {
		int ret;

		idle += dmabuf_wait_idle(s->buf[i], 5000) == 0;
		ret = dmabuf_detach(s->bfd, s->buf[i]);
		detached += !ret || ret == -EPERM;
		close(s->buf[i]);
	}
	tap_ok(idle == NBUF && detached == NBUF,
	       "%s: afterwards every fence signals (%d of %d) and every DMABUF detaches (%d)",
	       s->name, idle, NBUF, detached);
	close(s->bfd);
	close(s->devfd);
}

/* read() exactly @len bytes from a non-blocking fd within @ms: len or -errno. */
static int read_within(int fd, void *buf, size_t len, int ms)
{
	double end = now_s() + ms / 1000.0;
	size_t got = 0;

	while (got < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0 || errno != EAGAIN)
			return n ? -errno : -EIO;
		if (now_s() > end || poll(&p, 1, 100) < 0)
			return -ETIMEDOUT;
	}
	return (int)len;
}

/* One storm on both converters; @shared: the DAC uses the ADC's DMABUFs. */
static void storm(bool shared, unsigned int seed0)
{
	struct side sides[2] = {{.name = "izc-sim-adc0"}, {.name = "izc-sim-dac0", .out = true}};
	const char *phase = shared ? "shared DMABUFs" : "own DMABUFs";
	struct job jobs[2 * NACTIONS];
	pthread_t th[2 * NACTIONS];
	int n = 0;

	for (int k = 0; k < 2; k++) {
		int ret = iio_find(sides[k].name, &sides[k].dev);
		ret = ret ? ret : side_open(&sides[k], shared && k ? &sides[0] : NULL);
		if (!tap_success(ret, -ret,
				 "%s, %s: buffer fd (O_NONBLOCK), %d DMABUFs of 16 KiB attached",
				 phase, sides[k].name, NBUF))
			tap_bail("no buffer to stress");
	}

	for (int k = 0; k < 2; k++) {
		sides[k].deadline = now_s() + STORM_S;
		for (int a = 0; a < NACTIONS; a++, n++) {
			jobs[n] = (struct job){.side = &sides[k], .action = a, .seed = seed0 + n};
			pthread_create(&th[n], NULL, worker, &jobs[n]);
		}
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	for (int k = 0; k < 2; k++) {
		struct side *s = &sides[k];
		bool ok = true;

		for (int a = 0; a < NACTIONS; a++) {
			int bad = atomic_load(&s->bad_errno[a]);

			tap_diag("%s %s: %u done, %u refused as expected%s%s", s->name,
				 act_names[a], atomic_load(&s->ok[a]), atomic_load(&s->refused[a]),
				 bad ? ", unexpected: " : "",
				 bad ? (bad > 0 ? "success" : strerror(-bad)) : "");
			/* fileio mostly meets an attached DMABUF: EBUSY */
			ok = ok && !bad && (a == ACT_FILEIO || atomic_load(&s->ok[a]) > 0);
		}
		tap_ok(ok,
		       "%s, %s: %.0f s of racing actions, every result as the ABI says, each "
		       "action but fileio succeeding at times",
		       phase, s->name, STORM_S);
	}
	for (int k = 0; k < 2; k++)
		side_flush(&sides[k]);
	for (int k = 0; k < 2; k++)
		side_settle(&sides[k]);
}

/*
 * Buffer fd lifetimes with transfers pending: open, attach, enqueue some,
 * maybe enable (and disable), maybe detach one, close without cleaning up;
 * 300 times on either converter, with the same four DMABUFs throughout.
 */
static void fd_churn(unsigned int seed)
{
	struct iiodev d[2];
	int bufs[4], bad = 0, idle = 0, lives = 0;

	if (iio_find("izc-sim-adc0", &d[0]) || iio_find("izc-sim-dac0", &d[1]) ||
	    buffer_setup(&d[0], "in", NCHAN, 4 * (BLK / FRAME), BLK / FRAME) ||
	    buffer_setup(&d[1], "out", NCHAN, 4 * (BLK / FRAME), BLK / FRAME))
		tap_bail("converters for the fd churn");
	for (int i = 0; i < 4; i++)
		bufs[i] = heap_alloc(BLK);
	for (int it = 0; it < 300; it++) {
		int k = rand_r(&seed) % 2, how = rand_r(&seed) % 4, idx = 0;
		int dev = dev_open(&d[k], O_RDWR);

		if (dev < 0 || ioctl(dev, IIO_BUFFER_GET_FD_IOCTL, &idx)) {
			/* EBUSY: the last close is still being released */
			if (dev >= 0)
				close(dev);
			usleep(1000);
			continue;
		}
		lives++;
		fcntl(idx, F_SETFL, O_NONBLOCK);
		for (int i = 0; i < 4; i++) {
			unsigned int flags =
				k && rand_r(&seed) % 3 == 0 ? IIO_BUFFER_DMABUF_CYCLIC : 0;
			int ret = dmabuf_attach(idx, bufs[i]);

			if (ret)
				bad++;
			else if (rand_r(&seed) % 2)
				ret = dmabuf_enqueue(
					idx, bufs[i],
					(size_t)FRAME * (1 + rand_r(&seed) % (BLK / FRAME)), flags);
			bad += ret && ret != -EBUSY;
		}
		if (how == 0) {
			buffer_enable(&d[k], 1);
		} else if (how == 1) {
			buffer_enable(&d[k], 1);
			usleep(rand_r(&seed) % 3000);
			buffer_enable(&d[k], 0);
		} else if (how == 2) {
			dmabuf_detach(idx, bufs[rand_r(&seed) % 4]);
		}
		close(idx);
		close(dev);
		if (how == 0 && rand_r(&seed) % 2)
			buffer_enable(&d[k], 0);
	}
	tap_ok(bad == 0 && lives > 0,
	       "fd churn: %d buffer fd lifetimes closed with transfers pending, every ATTACH "
	       "succeeds, every ENQUEUE succeeds or answers EBUSY (%d not)",
	       lives, bad);
	/* What is left queued goes at an enable; a disable ends every transfer. */
	for (int k = 0; k < 2; k++) {
		buffer_enable(&d[k], 1);
		buffer_enable(&d[k], 0);
	}
	for (int i = 0; i < 4; i++) {
		idle += dmabuf_wait_idle(bufs[i], 5000) == 0;
		close(bufs[i]);
	}
	tap_ok(idle == 4, "fd churn: afterwards every fence signals (%d of 4)", idle);
}

int main(void)
{
	static uint16_t samples[BLK / 2];
	struct iiodev adc;
	unsigned int seed0;
	int ret, fd;

	tap_plan(15);
	/* Another interleaving each run; the seed in the log replays the choices. */
	seed0 = (unsigned int)time(NULL);
	tap_diag("seed %u", seed0);
	load_modules("sampling_frequency=200000", "sampling_frequency=200000");
	storm(false, seed0);
	storm(true, seed0 + 100);
	fd_churn(seed0 + 200);

	ret = iio_find("izc-sim-adc0", &adc);
	ret = ret ? ret : attr_write(&adc, "sampling_frequency", "0");
	fd = ret ? -1 : dev_open(&adc, O_RDONLY | O_NONBLOCK);
	ret = fd < 0 ? -ENODEV : buffer_enable(&adc, 1);
	ret = ret ? ret : read_within(fd, samples, BLK, 10000);
	for (int i = 0; ret == BLK && i < BLK / 2; i++)
		if (samples[i] != (uint16_t)(i / NCHAN + (i % NCHAN) * 4096))
			ret = -EILSEQ;
	tap_ok(ret == BLK, "the ADC then streams the counter from sample 0 through read() (%d)",
	       ret);
	buffer_enable(&adc, 0);
	if (fd >= 0)
		close(fd);
	return tap_done();
}
