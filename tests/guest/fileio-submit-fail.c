// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fileio-submit-fail: read()/write() when the DMA refuses every block. The
 * soft DMA's fail_prep parameter makes prep_slave_sg fail, so each block
 * submit of izc_block_buffer fails with -ENOMEM:
 *  - capture, failing from the enable: a blocking read() returns -ENOMEM
 *    at once (it used to spin in the kernel, ignoring SIGKILL), a reader
 *    that keeps reading dies on SIGKILL, poll() reports the error as
 *    readable;
 *  - capture, failing mid-stream: read() returns whole frames of the
 *    counter until the blocks run out, then -ENOMEM;
 *  - with injection off again the next read() gets data without a restart,
 *    and after disable/enable the counter streams from frame 0 exactly;
 *  - playback: write() of more than the buffer holds returns -ENOMEM (it
 *    used to drop the blocks silently and report them written), and
 *    after disable/enable with injection off it writes everything.
 * Each read or write that could hang runs in a child bounded by a timeout.
 */
#include <signal.h>
#include <sys/wait.h>

#include "sim-pair.h"

#define NCHAN	  4
#define FRAME	  (NCHAN * 2)
#define FAIL_PREP "/sys/module/izc_soft_dma/parameters/fail_prep"

static int set_fail(int on)
{
	return tool_write_file(FAIL_PREP, on ? "1" : "0");
}

/*
 * Find @label, set up its @dir ("in" or "out") buffer with NCHAN channels,
 * length 8192 and watermark 1024 (a check, @what names the converter) and
 * open its node with @flags. Bails out if the converter or its node is
 * missing.
 */
static int open_conv(struct iiodev *d, const char *label, const char *dir, int flags,
		     const char *what)
{
	int fd, ret;

	if (iio_find(label, d))
		tap_bail("no %s", label);
	ret = buffer_setup(d, dir, NCHAN, 8192, 1024);
	tap_success(ret, -ret, "%s: 4 channels, length 8192, watermark 1024", what);
	fd = dev_open(d, flags);
	if (fd < 0)
		tap_bail("open %s node: %s", what, strerror(errno));
	return fd;
}

/* Check frames against value(n, c) = (n + c * 4096) mod 2^16 from frame *next. */
static bool counter_ok(const uint16_t *s, size_t nframes, uint64_t *next)
{
	for (size_t i = 0; i < nframes; i++, (*next)++) {
		for (int c = 0; c < NCHAN; c++) {
			uint16_t want = (uint16_t)(*next + c * 4096);

			if (s[i * NCHAN + c] != want) {
				tap_diag("frame %llu ch %d: 0x%x, want 0x%x",
					 (unsigned long long)*next, c, s[i * NCHAN + c], want);
				return false;
			}
		}
	}
	return true;
}

/* What a reader child reports: the final read() result and what came before. */
struct rd_result {
	long last;    /* the first read() result <= 0: 0 or -errno */
	long reads;   /* read() calls that returned data */
	long bytes;   /* data bytes before it */
	long partial; /* a read() that was not whole frames, or -1 */
	int data_ok;  /* 1: the counter, from frame @first or (first < 0) any start */
};

struct reader {
	pid_t pid;
	int pipe;
};

/*
 * Fork a child that read()s @len bytes at a time from @fd until a read()
 * returns <= 0 or @max_reads returned data, and reports through a pipe.
 * The data must be the counter from frame @first (< 0: from whatever the
 * first frame is), continuous across reads.
 * With @linger it then keeps calling read() until killed.
 */
static int reader_start(struct reader *r, int fd, size_t len, long max_reads, bool linger,
			long long first)
{
	int p[2];

	if (pipe(p))
		return -errno;
	fflush(stdout);
	r->pid = fork();
	if (r->pid < 0)
		return -errno;
	if (r->pid == 0) {
		static uint16_t buf[65536];
		struct rd_result res = {.partial = -1, .data_ok = 1};
		uint64_t next = 0;

		close(p[0]);
		for (;;) {
			long n = read(fd, buf, len);

			if (n <= 0) {
				res.last = n < 0 ? -errno : 0;
				break;
			}
			if (n % FRAME && res.partial < 0)
				res.partial = n;
			if (!res.bytes)
				next = first < 0 ? buf[0] : (uint64_t)first;
			if (!counter_ok(buf, n / FRAME, &next))
				res.data_ok = 0;
			res.bytes += n;
			if (++res.reads == max_reads)
				break;
		}
		if (write(p[1], &res, sizeof(res)) != sizeof(res))
			_exit(2);
		while (linger)
			if (read(fd, buf, len) > 0)
				continue;
		_exit(0);
	}
	close(p[1]);
	r->pipe = p[0];
	return 0;
}

/* The child's report within @ms: 0, or -ETIMEDOUT / -EIO. */
static int reader_result(struct reader *r, int ms, struct rd_result *res)
{
	struct pollfd pfd = {.fd = r->pipe, .events = POLLIN};

	if (poll(&pfd, 1, ms) != 1)
		return -ETIMEDOUT;
	return read(r->pipe, res, sizeof(*res)) == sizeof(*res) ? 0 : -EIO;
}

/* Wait up to @ms for the child to exit: its wait status, or -ETIMEDOUT. */
static int reader_wait(struct reader *r, int ms)
{
	int status;

	for (int i = 0; i <= ms / 10; i++) {
		if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
			if (r->pipe >= 0)
				close(r->pipe);
			r->pid = 0;
			return status;
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* A child that does not finish: kill it, and unblock it by disabling @d. */
static void reader_reap(struct reader *r, const struct iiodev *d)
{
	if (!r->pid)
		return;
	kill(r->pid, SIGKILL);
	if (reader_wait(r, 2000) != -ETIMEDOUT)
		return;
	tap_diag("reader %d unkillable: disabling the buffer", (int)r->pid);
	buffer_enable(d, 0);
	waitpid(r->pid, NULL, 0);
	if (r->pipe >= 0)
		close(r->pipe);
	r->pid = 0;
}

/* Check a child that reads once and reports -ENOMEM within 10 s. */
static void check_read_enomem(struct reader *r, const struct iiodev *adc, const char *what)
{
	struct rd_result res = {0};
	int ret = reader_result(r, 10000, &res);

	if (ret)
		tap_errno(ret, 0, ENOMEM, "%s: read() returns (not: %s)", what, strerror(-ret));
	else
		tap_errno(res.last, 0, ENOMEM, "%s: read() fails with ENOMEM after %ld reads", what,
			  res.reads);
	reader_reap(r, adc);
}

static void capture(void)
{
	struct rd_result res = {0};
	struct iiodev adc;
	struct reader r;
	struct pollfd pfd;
	static uint16_t buf[8192];
	uint64_t next = 0;
	size_t total = 0;
	int fd, ret, status;
	long n;

	fd = open_conv(&adc, "izc-sim-adc0", "in", O_RDONLY, "ADC");

	/* Every submit fails from the enable on. */
	ret = set_fail(1);
	tap_success(ret, -ret, "fail_prep on");
	ret = buffer_enable(&adc, 1);
	tap_success(ret, -ret, "enable succeeds (the blocks are parked)");
	if (reader_start(&r, fd, 4096, 0, false, -1))
		tap_bail("fork");
	check_read_enomem(&r, &adc, "failing from enable");

	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	ret = poll(&pfd, 1, 5000);
	tap_ok(ret == 1 && pfd.revents == POLLIN, "poll() reports the error readable (%d, 0x%x)",
	       ret, pfd.revents);

	if (reader_start(&r, fd, 4096, 0, true, -1))
		tap_bail("fork");
	ret = reader_result(&r, 10000, &res);
	kill(r.pid, SIGKILL);
	status = reader_wait(&r, 5000);
	tap_ok(!ret && status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	       "a reader looping on read() dies on SIGKILL (report %d, status 0x%x)", ret, status);
	reader_reap(&r, &adc);

	/* Injection off: the parked blocks go out again on the next read(). */
	set_fail(0);
	if (reader_start(&r, fd, sizeof(buf), 4, false, -1))
		tap_bail("fork");
	ret = reader_result(&r, 10000, &res);
	tap_ok(!ret && res.reads == 4 && res.partial < 0 && res.data_ok && res.bytes >= 4 * FRAME,
	       "injection off: 4 reads of whole, consistent counter frames (%ld reads, %ld "
	       "bytes, last %ld)",
	       res.reads, res.bytes, res.last);
	reader_reap(&r, &adc);
	ret = buffer_enable(&adc, 0);
	tap_success(ret, -ret, "disable");

	/* Failing mid-stream: the data already there, then the errno. */
	ret = buffer_enable(&adc, 1);
	tap_success(ret, -ret, "enable with injection off");
	n = read(fd, buf, sizeof(buf));
	tap_ok(n == sizeof(buf) && counter_ok(buf, n / FRAME, &next),
	       "first read(): %zu bytes of the counter from frame 0 (%ld)", sizeof(buf), n);
	set_fail(1);
	if (reader_start(&r, fd, 4096, 0, false, (long long)next))
		tap_bail("fork");
	ret = reader_result(&r, 10000, &res);
	tap_ok(!ret && res.last == -ENOMEM && res.partial < 0 && res.data_ok,
	       "fail_prep mid-stream: whole frames of the counter continuing the first read(), "
	       "then ENOMEM (report %d, "
	       "%ld reads, %ld bytes, last %ld)",
	       ret, res.reads, res.bytes, res.last);
	reader_reap(&r, &adc);
	ret = buffer_enable(&adc, 0);
	tap_success(ret, -ret, "disable");

	/* Recovered: the counter from frame 0 over 4 MiB. */
	set_fail(0);
	ret = buffer_enable(&adc, 1);
	tap_success(ret, -ret, "enable with injection off again");
	next = 0;
	while (total < (4u << 20)) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0 || n % FRAME || !counter_ok(buf, n / FRAME, &next)) {
			tap_diag("read returned %ld (%s)", n, n < 0 ? strerror(errno) : "data");
			break;
		}
		total += n;
	}
	tap_ok(total >= (4u << 20), "after disable/enable: 4 MiB of the counter from frame 0 (%zu)",
	       total);
	ret = buffer_enable(&adc, 0);
	tap_success(ret, -ret, "disable");
	close(fd);
}

/* Child: one write() of @len bytes; exit status 0 if it wrote them all, else 100 + errno. */
static int child_write(int fd, size_t len)
{
	char *buf = calloc(1, len);
	long n;

	fflush(stdout);
	n = write(fd, buf, len);
	if (n == (long)len)
		return 0;
	return n < 0 ? 100 + errno : 99;
}

/* Run child_write() in a child bounded by 10 s: its exit code, or -1. */
static int write_in_child(int fd, size_t len, const struct iiodev *dac)
{
	struct reader r = {0};
	int status;

	fflush(stdout);
	r.pid = fork();
	if (r.pid == 0)
		_exit(child_write(fd, len));
	if (r.pid < 0)
		return -1;
	r.pipe = -1;
	status = reader_wait(&r, 10000);
	if (status == -ETIMEDOUT) {
		reader_reap(&r, dac);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void playback(void)
{
	struct iiodev dac;
	int fd, ret;

	fd = open_conv(&dac, "izc-sim-dac0", "out", O_WRONLY, "DAC");

	set_fail(1);
	ret = buffer_enable(&dac, 1);
	tap_success(ret, -ret, "DAC enable with fail_prep on");
	ret = write_in_child(fd, 4 * 8192 * FRAME, &dac);
	tap_ok(ret == 100 + ENOMEM, "write() of 4 buffers' worth fails with ENOMEM (status %d)",
	       ret);
	ret = buffer_enable(&dac, 0);
	tap_success(ret, -ret, "DAC disable");

	set_fail(0);
	ret = buffer_enable(&dac, 1);
	tap_success(ret, -ret, "DAC enable with fail_prep off");
	ret = write_in_child(fd, 4 * 8192 * FRAME, &dac);
	tap_ok(ret == 0, "write() of 4 buffers' worth writes it all (status %d)", ret);
	ret = buffer_enable(&dac, 0);
	tap_success(ret, -ret, "DAC disable");
	close(fd);
}

int main(void)
{
	tap_plan(22);
	load_modules("sampling_frequency=0", "sampling_frequency=1000000");
	capture();
	playback();
	set_fail(0);
	return tap_done();
}
