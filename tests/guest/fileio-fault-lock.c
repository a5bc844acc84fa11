// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fileio-fault-lock: read() and write() copy to and from the caller's
 * memory with the block queue's lock held, and that memory may be a DMABUF
 * mapping whose page fault takes the DMABUF's reservation lock (vgem, as
 * every drm_gem_shmem driver). The IIO core holds that lock while it waits
 * for the queue's in ATTACH. One thread reading into (writing from) a fresh
 * mapping of a vgem DMABUF while another ATTACHes the same DMABUF to the
 * buffer deadlocked both, unkillable, on the first try; the block buffer
 * now takes such faults with its lock dropped.
 *  - ADC, fileio, unpaced, 4 x s32: the reads into the mapping go on, every
 *    ATTACH fails with EBUSY (fileio streams), and what was read is the
 *    counter, jumping forward only over frames the overrun counter counted;
 *  - DAC, fileio, unpaced: the writes from the mapping go on likewise,
 *    every ATTACH EBUSY, and every write() takes whole frames.
 * A pair that makes no progress for 5 s fails the test with both threads'
 * kernel stacks (they cannot be killed: the guest cannot finish the test).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/* libdrm-dev's copy of the DRM uapi: linux-libc-dev does not carry it. */
#include <libdrm/drm.h>
#include <libdrm/drm_mode.h>

#include "capture-util.h"
#include "sim-pair.h"

#define NCHAN	4
#define FRAME	(NCHAN * 4)
#define MAPSZ	(4u << 20)
#define ROUNDS	40 /* read()s or write()s of MAPSZ per direction */
#define STUCK_S 5

struct pair {
	int bfd, dbuf;
	bool input;
	struct cap_check k; /* input: the counter over everything read */
	atomic_uint calls, attaches;
	atomic_bool done;
	int call_err;	/* first read()/write() errno */
	int attach_err; /* first ATTACH errno other than EBUSY; 0: none */
	bool attached;	/* an ATTACH succeeded */
	bool bad_data;	/* input: not the counter; output: not whole frames */
	unsigned long long bytes;
	pid_t tid[2];
};

/* A vgem dumb buffer of MAPSZ bytes exported as a DMABUF; fd or -errno. */
static int vgem_dmabuf(void)
{
	struct drm_mode_create_dumb cd = {.height = MAPSZ / 4096, .width = 1024, .bpp = 32};
	struct drm_prime_handle ph = {.flags = O_CLOEXEC | O_RDWR};
	int card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC), ret;

	if (card < 0)
		return -errno;
	ret = ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &cd) ? -errno : 0;
	ph.handle = cd.handle;
	if (!ret && cd.size < MAPSZ)
		ret = -ENOSPC;
	if (!ret && ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph))
		ret = -errno;
	/* The DMABUF keeps the object: the card may go. */
	close(card);
	return ret ? ret : ph.fd;
}

/* read() into, or write() from, a fresh mapping each time: it faults. */
static void *copier(void *arg)
{
	struct pair *p = arg;

	p->tid[0] = (pid_t)syscall(SYS_gettid);
	for (unsigned int i = 0; i < ROUNDS; i++) {
		void *m = mmap(NULL, MAPSZ, PROT_READ | PROT_WRITE, MAP_SHARED, p->dbuf, 0);
		ssize_t n;

		if (m == MAP_FAILED) {
			p->call_err = errno;
			break;
		}
		n = p->input ? read(p->bfd, m, MAPSZ) : write(p->bfd, m, MAPSZ);
		if (n < 0 && !p->call_err)
			p->call_err = errno;
		if (n > 0) {
			p->bytes += n;
			if (p->input ? !cap_check_data(&p->k, m, (size_t)n) : n % FRAME != 0)
				p->bad_data = true;
		}
		munmap(m, MAPSZ);
		p->calls++;
		if (n < 0 || p->bad_data)
			break;
	}
	p->done = true;
	return NULL;
}

static void *attacher(void *arg)
{
	struct pair *p = arg;

	p->tid[1] = (pid_t)syscall(SYS_gettid);
	while (!p->done) {
		int ret = dmabuf_attach(p->bfd, p->dbuf);

		if (!ret) {
			p->attached = true;
			dmabuf_detach(p->bfd, p->dbuf);
		} else if (ret != -EBUSY && !p->attach_err) {
			p->attach_err = -ret;
		}
		p->attaches++;
	}
	return NULL;
}

static void dump_stack(pid_t tid, const char *who)
{
	char path[64], buf[4096];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stack", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	tap_diag("%s (tid %d) kernel stack:\n%s", who, tid, buf);
}

/* Run the copier and the attacher on @p; false if they got stuck. */
static bool run_pair(struct pair *p, const char *what)
{
	unsigned int calls = 0, attaches = 0, still = 0;
	pthread_t t[2];

	pthread_create(&t[0], NULL, copier, p);
	pthread_create(&t[1], NULL, attacher, p);
	while (!p->done && still < STUCK_S * 10) {
		usleep(100000);
		if (p->calls == calls && p->attaches == attaches) {
			still++;
		} else {
			still = 0;
			calls = p->calls;
			attaches = p->attaches;
		}
	}
	if (!p->done) {
		tap_ok(false, "%s: no progress for %d s (%u calls, %u ATTACHes): deadlock", what,
		       STUCK_S, calls, attaches);
		dump_stack(p->tid[0], p->input ? "reader" : "writer");
		dump_stack(p->tid[1], "attacher");
		fflush(stdout);
		/* The threads sleep uninterruptibly: nothing more can run. */
		_exit(1);
	}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	return true;
}

static void check_pair(const struct pair *p, const char *what)
{
	int err = p->call_err ? p->call_err : p->attach_err;

	tap_ok(!err && p->calls == ROUNDS && !p->attached,
	       "%s: %u %s fresh mappings of the DMABUF while another thread ATTACHed it %u "
	       "times, each EBUSY (%s)",
	       what, p->calls, p->input ? "read()s into" : "write()s from", p->attaches,
	       strerror(err));
}

static int buffer_fd(const struct iiodev *d, int *devfd)
{
	int idx = 0;

	*devfd = dev_open(d, O_RDWR);
	if (*devfd < 0)
		return -errno;
	return ioctl(*devfd, IIO_BUFFER_GET_FD_IOCTL, &idx) ? -errno : idx;
}

int main(void)
{
	struct iiodev adc, dac;
	struct pair in = {.input = true}, out = {.input = false};
	long long lost0, lost1;
	int ret, devfd, dacfd;
	uint32_t *m;

	tap_plan(7);
	alarm(240);
	load_modules("sampling_frequency=0 sample_bits=32",
		     "channels=4 sample_bits=32 sampling_frequency=0");
	if (iio_find("izc-sim-adc0", &adc) || iio_find("izc-sim-dac0", &dac))
		tap_bail("no izc-sim-adc0 / izc-sim-dac0");

	in.dbuf = vgem_dmabuf();
	tap_success(in.dbuf < 0 ? -1 : 0, -in.dbuf, "a 4 MiB vgem DMABUF (drm_gem_shmem)");
	if (in.dbuf < 0)
		tap_bail("no vgem DMABUF");
	out.dbuf = in.dbuf;

	/* ADC: 4 blocks of 1 MiB, read into the mapping 4 MiB at a time. */
	cap_check_init(&in.k, 0xf, 32);
	in.k.gap_mode = true;
	lost0 = attr_read(&adc, "overrun_samples");
	ret = buffer_setup(&adc, "in", NCHAN, 262144, 65536);
	if (!ret)
		ret = buffer_enable(&adc, 1);
	in.bfd = ret ? ret : buffer_fd(&adc, &devfd);
	if (in.bfd < 0)
		tap_bail("izc-sim-adc0 fileio capture: %s", strerror(-in.bfd));
	run_pair(&in, "ADC");
	buffer_enable(&adc, 0);
	lost1 = attr_read(&adc, "overrun_samples");
	check_pair(&in, "ADC");
	tap_ok(!in.bad_data && in.k.frames * FRAME == in.bytes && in.bytes >= ROUNDS * FRAME,
	       "ADC: %llu bytes read, all counter frames (%u errors)", in.bytes, in.k.errors);
	tap_ok(lost0 >= 0 && lost1 >= lost0 &&
		       in.k.gap_frames <= (unsigned long long)(lost1 - lost0),
	       "ADC: the counter jumped only over lost frames (%llu skipped, %lld counted lost)",
	       (unsigned long long)in.k.gap_frames, lost1 - lost0);
	close(in.bfd);
	close(devfd);

	/* DAC: the mapping holds the pattern; written 4 MiB at a time. */
	m = mmap(NULL, MAPSZ, PROT_READ | PROT_WRITE, MAP_SHARED, out.dbuf, 0);
	if (m == MAP_FAILED)
		tap_bail("mmap of the vgem DMABUF: %s", strerror(errno));
	pattern_fill(m, MAPSZ / 4, 0);
	munmap(m, MAPSZ);
	ret = buffer_setup(&dac, "out", NCHAN, 262144, 65536);
	out.bfd = ret ? ret : buffer_fd(&dac, &dacfd);
	if (out.bfd < 0)
		tap_bail("izc-sim-dac0 fileio output: %s", strerror(-out.bfd));
	ret = buffer_enable(&dac, 1);
	tap_success(ret, -ret, "DAC: fileio output enabled");
	run_pair(&out, "DAC");
	check_pair(&out, "DAC");
	tap_ok(!out.bad_data && out.bytes >= MAPSZ,
	       "DAC: %llu bytes written, whole frames in every write()", out.bytes);
	buffer_enable(&dac, 0);
	close(out.bfd);
	close(dacfd);
	close(in.dbuf);
	return tap_done();
}
