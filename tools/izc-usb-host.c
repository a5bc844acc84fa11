// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * izc-usb-host: the USB host side of izc-usb-bridge, over usbfs. Finds the
 * bridge by VID:PID, configures a run with the control protocol, receives
 * (capture) or sends (--tx) samples with queued bulk URBs, checks or
 * generates the simulated converters' counter pattern, and reports
 * throughput and the bridge's CPU time.
 *
 * The counter pattern (docs/sim-adc.md): frame n, channel with scan index
 * c, B storage bits: (n + c * 2^(B-4)) mod 2^B, little endian. Capture
 * checks it from frame 0 of the run, so a lost, repeated or reordered block
 * is a mismatch; transmit sends it from frame 0.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common.h"
#include "izc-usb-host.h"

static const char *const prog = "izc-usb-host";

#define DEFAULT_BLOCK_SIZE (1u << 20)
#define DEFAULT_BLOCKS	   8u
#define DEFAULT_URB	   (256u << 10)
#define DEFAULT_URBS	   8u
#define MAX_URBS	   64
#define DEFAULT_TIMEOUT_MS 10000

enum {
	OPT_TX = OPT_TOOL_FIRST,
	OPT_COPY,
	OPT_NO_VERIFY,
	OPT_JSON,
	OPT_STATUS,
	OPT_STOP,
	OPT_URB,
	OPT_URBS,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: izc-usb-host [options]\n"
		"Host side of izc-usb-bridge (usbfs): configure a run on the gadget, receive\n"
		"(or send, --tx) the samples, check the counter pattern, report throughput.\n"
		"\n"
		"  -U, --usb VID:PID      the bridge's USB ids (default %04x:%04x)\n"
		"  -d, --device NAME      IIO device on the gadget: name, label or iio:deviceN\n"
		"                         (default: the first with a buffer of that direction)\n"
		"  -c, --channels MASK    scan index mask, e.g. 0x5, or all (default)\n"
		"  -a, --amount SIZE      bytes to move, e.g. 64M, 1G, rounded down to whole\n"
		"                         blocks (default 0: until Ctrl-C)\n"
		"  -b, --block-size SIZE  bytes per block, a multiple of 1K and of the frame\n"
		"                         (default 1M)\n"
		"  -n, --blocks N         blocks of the gadget's stream (default %u)\n"
		"  -f, --frequency HZ     set sampling_frequency on the gadget first (0: unpaced)\n"
		"      --tx               send to the device's output buffer (default: capture)\n"
		"      --copy             ask for the read()+write() bridge\n"
		"      --dmabuf           ask for the DMABUF bridge, no fallback\n"
		"      --no-verify        do not check (capture) or generate (tx) the pattern\n"
		"      --urb SIZE         bytes per URB (default 256K, at most the block size)\n"
		"      --urbs N           URBs in flight (default %u)\n"
		"  -t, --timeout MS       fail when nothing moves for MS ms (default %d)\n"
		"      --json             one JSON line with the results on stdout\n"
		"      --status           print the bridge's status and exit\n"
		"      --stop             ask the bridge to stop its run and exit\n"
		"  -q, --quiet            no summary line\n"
		"  -h, --help             this text\n"
		"\n"
		"Exit status: 0 ok, 1 runtime error or pattern mismatch, 2 usage error.\n",
		IZC_USB_VID, IZC_USB_PID, DEFAULT_BLOCKS, DEFAULT_URBS, DEFAULT_TIMEOUT_MS);
}

struct host_opts {
	unsigned int vid, pid;
	struct izc_usb_config cfg;
	unsigned long long amount;
	size_t urb_size;
	unsigned int urbs;
	int timeout_ms;
	bool tx, verify, json, quiet, status_only, stop_only;
};

/* The counter pattern, element by element across URB boundaries. */
struct pattern {
	unsigned int bits;   /* 16 or 32 */
	unsigned int nch;    /* elements per frame */
	uint32_t offset[64]; /* c * 2^(B-4) of each element */
	unsigned int e;	     /* next element in the frame */
	uint64_t n;	     /* frame of that element */
	uint64_t at;	     /* bytes seen */
	long long mismatch;  /* byte offset of the first mismatch, -1 */
	uint32_t want, got;
};

static int pattern_init(struct pattern *p, const struct izc_usb_status *st)
{
	unsigned int c;

	memset(p, 0, sizeof(*p));
	p->mismatch = -1;
	p->bits = st->storage_bits;
	if (p->bits != 16 && p->bits != 32)
		return -EOPNOTSUPP;
	for (c = 0; c < 64; c++)
		if (st->channel_mask >> c & 1)
			p->offset[p->nch++] = (uint32_t)c << (p->bits - 4);
	if (!p->nch || p->nch * p->bits / 8 != st->frame_size)
		return -EOPNOTSUPP;
	return 0;
}

static inline uint32_t pattern_value(const struct pattern *p)
{
	uint32_t v = (uint32_t)p->n + p->offset[p->e];

	return p->bits == 16 ? (v & 0xffff) : v;
}

static inline void pattern_next(struct pattern *p)
{
	if (++p->e == p->nch) {
		p->e = 0;
		p->n++;
	}
}

/* Check len bytes (a multiple of the element size). */
static void pattern_check(struct pattern *p, const void *buf, size_t len)
{
	size_t i, count = len / (p->bits / 8);

	if (p->mismatch >= 0)
		return;
	for (i = 0; i < count; i++) {
		uint32_t v =
			p->bits == 16 ? ((const uint16_t *)buf)[i] : ((const uint32_t *)buf)[i];

		if (v != pattern_value(p)) {
			p->mismatch = (long long)(p->at + i * (p->bits / 8));
			p->want = pattern_value(p);
			p->got = v;
			return;
		}
		pattern_next(p);
	}
	p->at += len;
}

static void pattern_fill(struct pattern *p, void *buf, size_t len)
{
	size_t i, count = len / (p->bits / 8);

	for (i = 0; i < count; i++) {
		if (p->bits == 16)
			((uint16_t *)buf)[i] = (uint16_t)pattern_value(p);
		else
			((uint32_t *)buf)[i] = pattern_value(p);
		pattern_next(p);
	}
	p->at += len;
}

struct host {
	struct host_opts o;
	struct izc_usb_host usb;
	struct izc_usb_status st;
	struct pattern pat;
	struct usbdevfs_urb urbs[MAX_URBS];
	unsigned char *bufs;
	unsigned int inflight;
	int sigfd;
	bool stop_sent;
	unsigned long long moved; /* bytes received or sent */
	double t0, t1;
	bool timed; /* t0 is set: the run was started */
};

static const char *state_name(unsigned int state)
{
	static const char *const names[] = {"idle",	"configured", "running",
					    "stopping", "done",	      "error"};

	return state < 6 ? names[state] : "unknown";
}

static const char *errstr(int err)
{
	return err ? strerror(-err) : "no error";
}

static int submit(struct host *h, struct usbdevfs_urb *u)
{
	u->type = USBDEVFS_URB_TYPE_BULK;
	u->endpoint = h->o.tx ? h->usb.ep_out : h->usb.ep_in;
	u->buffer_length = (int)h->o.urb_size;
	u->actual_length = 0;
	u->status = 0;
	if (h->o.tx && h->o.verify)
		pattern_fill(&h->pat, u->buffer, h->o.urb_size);
	if (ioctl(h->usb.fd, USBDEVFS_SUBMITURB, u))
		return -errno;
	h->inflight++;
	return 0;
}

/*
 * A SIGINT, SIGTERM or SIGHUP asks the bridge to stop its run (once); the stream
 * then ends with the bridge's zero-length packet. Checked at every reap:
 * while URBs complete back to back, reap() never reaches its poll().
 */
static void check_signal(struct host *h)
{
	struct signalfd_siginfo si;

	if (read(h->sigfd, &si, sizeof(si)) > 0 && !h->stop_sent) {
		fprintf(stderr, "%s: stopping the bridge's run\n", prog);
		izc_usb_host_control(&h->usb, false, IZC_USB_REQ_STOP, NULL, 0);
		h->stop_sent = true;
	}
}

/* Reap one URB, waiting up to timeout_ms. */
static int reap(struct host *h, int timeout_ms, struct usbdevfs_urb **done)
{
	struct pollfd p[2] = {
		{.fd = h->usb.fd, .events = POLLOUT},
		{.fd = h->sigfd, .events = POLLIN},
	};
	double end = izc_usb_now() + timeout_ms / 1000.0;
	void *u;

	for (;;) {
		check_signal(h);
		if (!ioctl(h->usb.fd, USBDEVFS_REAPURBNDELAY, &u)) {
			*done = u;
			h->inflight--;
			return 0;
		}
		if (errno != EAGAIN)
			return -errno;
		if (izc_usb_now() >= end)
			return -ETIMEDOUT;
		if (poll(p, 2, (int)((end - izc_usb_now()) * 1000) + 1) < 0 && errno != EINTR)
			return -errno;
	}
}

static void cancel_all(struct host *h)
{
	struct usbdevfs_urb *u;
	unsigned int i;

	for (i = 0; i < h->o.urbs; i++)
		ioctl(h->usb.fd, USBDEVFS_DISCARDURB, &h->urbs[i]);
	while (h->inflight && !reap(h, 2000, &u))
		;
}

/* Wait for the bridge to finish its run; returns its state. */
static int wait_run_end(struct host *h, int timeout_ms)
{
	double end = izc_usb_now() + timeout_ms / 1000.0;

	for (;;) {
		int ret = izc_usb_host_status(&h->usb, &h->st);
		if (ret)
			return ret;
		if (h->st.state != IZC_USB_STATE_RUNNING && h->st.state != IZC_USB_STATE_STOPPING)
			return h->st.state;
		if (izc_usb_now() > end)
			return -ETIMEDOUT;
		usleep(20000);
	}
}

/* The data phase; returns 0 or a negative errno (with a message). */
static int stream(struct host *h)
{
	unsigned long long want = h->o.cfg.total_blocks * h->o.cfg.block_size, submitted = 0;
	struct usbdevfs_urb *u;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < h->o.urbs; i++) {
		h->urbs[i].buffer = h->bufs + (size_t)i * h->o.urb_size;
		/* tx: never more than the run takes */
		if (h->o.tx && want && submitted >= want)
			break;
		ret = submit(h, &h->urbs[i]);
		if (ret) {
			fprintf(stderr, "%s: submitting a URB: %s\n", prog, errstr(ret));
			return ret;
		}
		submitted += h->o.urb_size;
	}
	h->t0 = izc_usb_now();
	h->timed = true;
	ret = izc_usb_host_control(&h->usb, false, IZC_USB_REQ_START, NULL, 0);
	if (ret < 0) {
		int sret = izc_usb_host_status(&h->usb, &h->st);

		fprintf(stderr, "%s: the bridge did not start: %s\n", prog,
			sret ? errstr(ret) : errstr(h->st.last_error));
		return ret;
	}
	while (h->inflight) {
		ret = reap(h, h->o.timeout_ms, &u);
		if (ret == -ETIMEDOUT) {
			int sret = izc_usb_host_status(&h->usb, &h->st);

			fprintf(stderr, "%s: nothing moved for %d ms (bridge: %s, %s)\n", prog,
				h->o.timeout_ms, sret ? "?" : state_name(h->st.state),
				sret ? errstr(sret) : errstr(h->st.last_error));
			return ret;
		}
		if (ret) {
			fprintf(stderr, "%s: reaping URBs: %s\n", prog, errstr(ret));
			return ret;
		}
		if (u->status) {
			fprintf(stderr, "%s: URB failed: %s (device gone?)\n", prog,
				errstr(u->status));
			return u->status < 0 ? u->status : -EIO;
		}
		h->moved += (unsigned long long)u->actual_length;
		if (!h->o.tx) {
			if (h->o.verify)
				pattern_check(&h->pat, u->buffer, (size_t)u->actual_length);
			if (u->actual_length < u->buffer_length)
				break; /* the bridge's end of stream */
			if (h->o.verify && h->pat.mismatch >= 0)
				break;
		} else if (want && submitted >= want) {
			continue;
		} else if (h->stop_sent) {
			continue;
		}
		if (!h->o.tx && want && h->moved > want)
			break; /* more than asked for: reported below */
		ret = submit(h, u);
		if (ret) {
			fprintf(stderr, "%s: submitting a URB: %s\n", prog, errstr(ret));
			return ret;
		}
		submitted += h->o.urb_size;
	}
	h->t1 = izc_usb_now();
	return 0;
}

/*
 * The sysfs speed as a JSON number, or null: it may be "unknown". Text that
 * is a number ("1.5", "480") is printed again with %g, which JSON takes.
 */
static void json_speed(char *buf, size_t len, const char *speed)
{
	char *end;
	double v = strtod(speed, &end);

	if (isdigit((unsigned char)*speed) && end != speed && !*end && isfinite(v))
		snprintf(buf, len, "%g", v);
	else
		snprintf(buf, len, "null");
}

static void print_results(const struct host *h, bool ok)
{
	const struct izc_usb_status *st = &h->st;
	/* Failed before the start (a URB submission): no time, not the uptime. */
	double s = h->timed ? h->t1 - h->t0 : 0, mib = h->moved / 1048576.0;
	char speed[32];
	double cpu = (st->cpu_user_us + st->cpu_sys_us) / 1e6;
	double gib = st->bytes / (double)(1ull << 30);
	const char *backend = st->backend == IZC_USB_BACKEND_DMABUF ? "dmabuf"
			      : st->backend == IZC_USB_BACKEND_COPY ? "copy"
								    : "none";

	if (!h->o.quiet)
		fprintf(stderr,
			"%s: %s %s at %s Mb/s: %.1f MiB in %.2f s, %.1f MiB/s; bridge %" PRIu64
			" blocks, cpu %.2f s (%.2f s/GiB)%s%s; pattern %s\n",
			prog, h->o.tx ? "transmit" : "capture", backend, h->usb.speed, mib, s,
			s > 0 ? mib / s : 0.0, st->blocks, cpu, gib > 0 ? cpu / gib : 0.0,
			st->fallback_reason ? ", fallback: " : "",
			st->fallback_reason ? strerror(-st->fallback_reason) : "",
			!h->o.verify	       ? "not checked"
			: h->o.tx	       ? "sent"
			: h->pat.mismatch >= 0 ? "MISMATCH"
			: ok		       ? "exact"
					       : "incomplete");
	json_speed(speed, sizeof(speed), h->usb.speed);
	if (h->o.json)
		printf("{\"direction\":\"%s\",\"backend\":\"%s\",\"speed_mbps\":%s,"
		       "\"block_size\":%u,\"blocks_in_stream\":%u,\"bytes\":%llu,"
		       "\"seconds\":%.3f,\"mib_per_s\":%.1f,\"bridge_blocks\":%" PRIu64
		       ",\"bridge_errors\":%" PRIu64 ",\"bridge_cpu_user_s\":%.3f,"
		       "\"bridge_cpu_sys_s\":%.3f,\"bridge_cpu_s_per_gib\":%.3f,"
		       "\"fallback\":\"%s\",\"verified\":%s,\"mismatch_at\":%lld,\"ok\":%s}\n",
		       h->o.tx ? "transmit" : "capture", backend, speed, st->block_size,
		       st->nblocks, h->moved, s, s > 0 ? mib / s : 0.0, st->blocks, st->errors,
		       st->cpu_user_us / 1e6, st->cpu_sys_us / 1e6, gib > 0 ? cpu / gib : 0.0,
		       st->fallback_reason ? strerror(-st->fallback_reason) : "",
		       h->o.verify && !h->o.tx ? "true" : "false", h->pat.mismatch,
		       ok ? "true" : "false");
	fflush(stdout);
}

static void print_status(const struct host *h)
{
	const struct izc_usb_status *st = &h->st;

	printf("state %s, last error: %s\nbackend %s, fallback: %s\n"
	       "direction %s, channels 0x%" PRIx64
	       ", %u-bit, frame %u bytes, %u blocks of %u bytes\n"
	       "moved %" PRIu64 " blocks, %" PRIu64 " bytes, %" PRIu64 " IIO errors\n"
	       "cpu %.3f s user, %.3f s sys in %.3f s\n",
	       state_name(st->state), errstr(st->last_error),
	       st->backend == IZC_USB_BACKEND_DMABUF ? "dmabuf"
	       : st->backend == IZC_USB_BACKEND_COPY ? "copy"
						     : "none",
	       errstr(st->fallback_reason), st->direction ? "transmit" : "capture",
	       st->channel_mask, st->storage_bits, st->frame_size, st->nblocks, st->block_size,
	       st->blocks, st->bytes, st->errors, st->cpu_user_us / 1e6, st->cpu_sys_us / 1e6,
	       st->elapsed_us / 1e6);
}

static int run(struct host *h)
{
	unsigned long long want;
	bool ok;
	int ret, state;

	ret = izc_usb_host_control(&h->usb, false, IZC_USB_REQ_CONFIGURE, &h->o.cfg,
				   sizeof(h->o.cfg));
	if (ret < 0) {
		fprintf(stderr, "%s: CONFIGURE: %s\n", prog, errstr(ret));
		return EXIT_ERROR;
	}
	ret = izc_usb_host_status(&h->usb, &h->st);
	if (ret || h->st.state != IZC_USB_STATE_CONFIGURED) {
		fprintf(stderr, "%s: the bridge refused the configuration: %s\n", prog,
			ret ? errstr(ret) : errstr(h->st.last_error));
		return EXIT_ERROR;
	}
	if (h->o.verify && (ret = pattern_init(&h->pat, &h->st))) {
		fprintf(stderr,
			"%s: cannot %s the counter pattern for %u-bit samples of mixed sizes; "
			"use --no-verify\n",
			prog, h->o.tx ? "generate" : "check", h->st.storage_bits);
		return EXIT_ERROR;
	}
	h->bufs = calloc(h->o.urbs, h->o.urb_size);
	if (!h->bufs) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_ERROR;
	}
	ret = stream(h);
	if (ret)
		h->t1 = izc_usb_now();
	cancel_all(h);
	/*
	 * A run cut short here (an error, or data that does not match) must
	 * not go on on the bridge, whose transfers nobody reads any more.
	 */
	if ((ret || h->pat.mismatch >= 0) && !h->stop_sent) {
		izc_usb_host_control(&h->usb, false, IZC_USB_REQ_STOP, NULL, 0);
		h->stop_sent = true;
	}
	state = wait_run_end(h, 10000);
	if (state < 0) {
		fprintf(stderr, "%s: the bridge's run did not end: %s\n", prog, errstr(state));
		if (!ret)
			ret = state;
	} else if (state == IZC_USB_STATE_ERROR && !ret) {
		fprintf(stderr, "%s: the bridge's run failed: %s\n", prog,
			errstr(h->st.last_error));
		ret = h->st.last_error ? h->st.last_error : -EIO;
	}
	want = h->o.cfg.total_blocks * h->o.cfg.block_size;
	/*
	 * A capture until STOP that ended with the bridge's zero-length
	 * packet: every byte the bridge sent must have come (the pattern
	 * cannot see blocks missing at the end).
	 */
	if (!ret && !h->o.tx && !want && state == IZC_USB_STATE_DONE && h->pat.mismatch < 0 &&
	    h->moved != h->st.bytes) {
		fprintf(stderr, "%s: received %llu bytes, the bridge sent %" PRIu64 "\n", prog,
			h->moved, h->st.bytes);
		ret = -EIO;
	}
	ok = !ret && h->pat.mismatch < 0 && (!want || h->moved == want) &&
	     (!want || h->st.blocks == h->o.cfg.total_blocks);
	if (!ret && want && h->moved != want)
		fprintf(stderr, "%s: moved %llu bytes, expected %llu\n", prog, h->moved, want);
	if (!ret && want && h->st.blocks != h->o.cfg.total_blocks)
		fprintf(stderr, "%s: the bridge moved %" PRIu64 " blocks, expected %" PRIu64 "\n",
			prog, h->st.blocks, (uint64_t)h->o.cfg.total_blocks);
	if (h->pat.mismatch >= 0)
		fprintf(stderr,
			"%s: pattern mismatch at byte %lld (frame %" PRIu64
			", element %u): 0x%x, expected 0x%x\n",
			prog, h->pat.mismatch, h->pat.n, h->pat.e, h->pat.got, h->pat.want);
	print_results(h, ok);
	return ok ? EXIT_OK : EXIT_ERROR;
}

static int parse_usb_ids(const char *s, unsigned int *vid, unsigned int *pid)
{
	char *end;
	unsigned long v = strtoul(s, &end, 16), p;

	if (end == s || *end != ':' || v > 0xffff)
		return -EINVAL;
	s = end + 1;
	p = strtoul(s, &end, 16);
	if (end == s || *end || p > 0xffff)
		return -EINVAL;
	*vid = (unsigned int)v;
	*pid = (unsigned int)p;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"usb", required_argument, NULL, 'U'},
		{"device", required_argument, NULL, 'd'},
		{"channels", required_argument, NULL, 'c'},
		{"amount", required_argument, NULL, 'a'},
		{"block-size", required_argument, NULL, 'b'},
		{"blocks", required_argument, NULL, 'n'},
		{"frequency", required_argument, NULL, 'f'},
		{"timeout", required_argument, NULL, 't'},
		{"tx", no_argument, NULL, OPT_TX},
		{"copy", no_argument, NULL, OPT_COPY},
		{"dmabuf", no_argument, NULL, OPT_DMABUF},
		{"no-verify", no_argument, NULL, OPT_NO_VERIFY},
		{"urb", required_argument, NULL, OPT_URB},
		{"urbs", required_argument, NULL, OPT_URBS},
		{"json", no_argument, NULL, OPT_JSON},
		{"status", no_argument, NULL, OPT_STATUS},
		{"stop", no_argument, NULL, OPT_STOP},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct host h = {
		.o = {.vid = IZC_USB_VID,
		      .pid = IZC_USB_PID,
		      .urb_size = DEFAULT_URB,
		      .urbs = DEFAULT_URBS,
		      .timeout_ms = DEFAULT_TIMEOUT_MS,
		      .verify = true,
		      .cfg = {.block_size = DEFAULT_BLOCK_SIZE, .nblocks = DEFAULT_BLOCKS}},
		.pat = {.mismatch = -1},
		.sigfd = -1,
	};
	unsigned long long v;
	sigset_t set;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "U:d:c:a:b:n:f:t:qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'U':
			if (parse_usb_ids(optarg, &h.o.vid, &h.o.pid))
				goto bad;
			break;
		case 'd':
			if (strlen(optarg) >= IZC_USB_DEVICE_LEN)
				goto bad;
			memcpy(h.o.cfg.device, optarg, strlen(optarg));
			break;
		case 'c':
			if (!strcmp(optarg, "all"))
				h.o.cfg.channel_mask = 0;
			else if (tool_parse_ull(optarg, &v) || !v)
				goto bad;
			else
				h.o.cfg.channel_mask = v;
			break;
		case 'a':
			if (tool_parse_size(optarg, &h.o.amount))
				goto bad;
			break;
		case 'b':
			if (tool_parse_size(optarg, &v) || !v || v > IZC_USB_MAX_BLOCK ||
			    v % IZC_USB_BLOCK_ALIGN)
				goto bad;
			h.o.cfg.block_size = (uint32_t)v;
			break;
		case 'n':
			if (tool_parse_ull(optarg, &v) || v < 2 || v > IZC_USB_MAX_NBLOCKS)
				goto bad;
			h.o.cfg.nblocks = (uint32_t)v;
			break;
		case 'f':
			if (tool_parse_ull(optarg, &v))
				goto bad;
			h.o.cfg.sampling_frequency = v;
			h.o.cfg.flags |= IZC_USB_CFG_SET_FREQUENCY;
			break;
		case 't':
			if (tool_parse_ull(optarg, &v) || !v || v > 3600000)
				goto bad;
			h.o.timeout_ms = (int)v;
			break;
		case OPT_TX:
			h.o.tx = true;
			break;
		case OPT_COPY:
			h.o.cfg.mode = IZC_USB_MODE_COPY;
			break;
		case OPT_DMABUF:
			h.o.cfg.mode = IZC_USB_MODE_DMABUF;
			break;
		case OPT_NO_VERIFY:
			h.o.verify = false;
			break;
		case OPT_URB:
			if (tool_parse_size(optarg, &v) || !v || v > (16u << 20) ||
			    v % IZC_USB_BLOCK_ALIGN)
				goto bad;
			h.o.urb_size = (size_t)v;
			break;
		case OPT_URBS:
			if (tool_parse_ull(optarg, &v) || !v || v > MAX_URBS)
				goto bad;
			h.o.urbs = (unsigned int)v;
			break;
		case OPT_JSON:
			h.o.json = true;
			break;
		case OPT_STATUS:
			h.o.status_only = true;
			break;
		case OPT_STOP:
			h.o.stop_only = true;
			break;
		case 'q':
			h.o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	h.o.cfg.direction = h.o.tx ? IZC_USB_DIR_TRANSMIT : IZC_USB_DIR_CAPTURE;
	h.o.cfg.total_blocks = h.o.amount / h.o.cfg.block_size;
	if (h.o.amount && !h.o.cfg.total_blocks) {
		fprintf(stderr, "%s: --amount is less than one block\n", prog);
		return EXIT_USAGE;
	}
	if (h.o.urb_size > h.o.cfg.block_size)
		h.o.urb_size = h.o.cfg.block_size;
	if (h.o.cfg.block_size % h.o.urb_size) {
		fprintf(stderr, "%s: the block size must be a multiple of the URB size\n", prog);
		return EXIT_USAGE;
	}

	/* A reader of --json gone must not kill the run before its STOP. */
	signal(SIGPIPE, SIG_IGN);
	tool_stop_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	h.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

	ret = izc_usb_host_find(&h.usb, h.o.vid, h.o.pid, 5000);
	if (ret) {
		fprintf(stderr, "%s: no configured USB device %04x:%04x: %s\n", prog, h.o.vid,
			h.o.pid,
			ret == -ETIMEDOUT ? "not found (is izc-usb-bridge running and the "
					    "cable/host port connected?)"
					  : errstr(ret));
		return EXIT_ERROR;
	}
	ret = izc_usb_host_claim(&h.usb);
	if (ret) {
		fprintf(stderr, "%s: %s: no izc-usb-bridge interface to claim: %s\n", prog,
			h.usb.path, errstr(ret));
		izc_usb_host_close(&h.usb);
		return EXIT_ERROR;
	}
	if (h.o.status_only || h.o.stop_only) {
		ret = h.o.stop_only ? izc_usb_host_control(&h.usb, false, IZC_USB_REQ_STOP, NULL, 0)
				    : izc_usb_host_status(&h.usb, &h.st);
		if (ret < 0)
			fprintf(stderr, "%s: %s: %s\n", prog, h.o.stop_only ? "STOP" : "STATUS",
				errstr(ret));
		else if (h.o.status_only)
			print_status(&h);
		ret = ret < 0 ? EXIT_ERROR : EXIT_OK;
	} else {
		ret = run(&h);
	}
	izc_usb_host_close(&h.usb);
	free(h.bufs);
	if (h.sigfd >= 0)
		close(h.sigfd);
	return ret;
bad:
	fprintf(stderr, "%s: bad value '%s' for option -%c (see --help)\n", prog, optarg,
		opt < 0x100 ? opt : '-');
	return EXIT_USAGE;
}
