// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * izc-capture: stream frames from an IIO input buffer to stdout or a file,
 * raw (the frames as the device delivers them) or CSV (one line per frame,
 * each enabled channel's sample converted with its scan type).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "csv.h"

static const char *const prog = "izc-capture";

#define DEFAULT_BLOCK_SIZE (1u << 20)
#define DEFAULT_BLOCKS	   4
#define CSV_BUF_SIZE	   (256u << 10)

enum {
	OPT_CSV = OPT_TOOL_FIRST,
	OPT_RAW,
	OPT_NO_HEADER,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: izc-capture [options]\n"
		"Stream frames (one sample of each enabled channel) from an IIO device to\n"
		"stdout or a file. Progress and rate go to stderr when it is a terminal;\n"
		"a summary line goes to stderr at the end (Ctrl-C stops cleanly).\n"
		"\n"
		"  -d, --device NAME      device name, label or iio:deviceN (default: the first\n"
		"                         device with an input buffer)\n"
		"  -c, --channels LIST    channels: all (default), indices 0,2-3, ids voltage0,\n"
		"                         or a mask 0x5\n"
		"  -s, --samples N        frames to capture (default 0: until Ctrl-C)\n"
		"  -b, --block-size SIZE  bytes per block, e.g. 64K, 1M (default 1M, rounded\n"
		"                         down to whole frames and DMA words)\n"
		"  -n, --blocks N         blocks in flight (default 4)\n"
		"  -f, --frequency HZ     set sampling_frequency first (0: unpaced, if supported)\n"
		"  -o, --output FILE      write to FILE instead of stdout\n"
		"      --raw              raw frames (default)\n"
		"      --csv              CSV, one line per frame, integer sample values\n"
		"      --no-header        CSV without the channel name line\n"
		"  -t, --timeout MS       give up when no block arrives for MS ms (default: wait)\n"
		"  -q, --quiet            no summary line\n"
		"      --fileio           read() path only\n"
		"      --dmabuf           DMABUF from the system heap, no fallback\n"
		"      --udmabuf          DMABUF from udmabuf (memfd), no fallback\n"
		"                         (default: DMABUF, falling back to fileio)\n"
		"  -h, --help             this text\n"
		"\n"
		"Exit status: 0 ok, 1 runtime error, 2 usage error.\n");
}

struct capture {
	struct izc_stream *stream;
	int out_fd;
	const char *out_name; /* for messages */
	bool csv, header, quiet, progress;
	bool out_failed; /* a write failed: the frames after the last whole write are lost */
	unsigned long long want; /* frames, 0: forever */
	unsigned long long frames;
	unsigned long long written; /* of frames: those out through write() */
	int timeout_ms;
	/* CSV */
	unsigned int nch;
	struct tool_csv_col cols[64];
	size_t line_max; /* room one frame's line needs */
	size_t line_cap;
	char *line;
	size_t line_len;
	size_t line_frames; /* frames in line, not written yet */
};

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int flush_line(struct capture *cap)
{
	int ret = write_all(cap->out_fd, cap->line, cap->line_len);

	if (!ret)
		cap->written += cap->line_frames;
	cap->line_len = 0;
	cap->line_frames = 0;
	return ret;
}

static int write_csv(struct capture *cap, const unsigned char *data, size_t nframes, size_t frame)
{
	for (size_t f = 0; f < nframes; f++) {
		if (cap->line_len + cap->line_max > cap->line_cap) {
			int ret = flush_line(cap);

			if (ret)
				return ret;
		}
		cap->line_len += tool_csv_frame(cap->line + cap->line_len, cap->cols, cap->nch,
						data + f * frame);
		cap->line_frames++;
	}
	return 0;
}

/* Header: channel ids; elements of a repeated channel as id[0], id[1], ... */
static int setup_csv(struct capture *cap, const struct izc_buffer *buf)
{
	size_t len = 0, idlen = 0;

	for (unsigned int i = 0; i < izc_buffer_channel_count(buf) && cap->nch < 64; i++) {
		struct izc_channel *ch;

		if (izc_buffer_get_channel(buf, i, &ch))
			continue;
		if (izc_stream_channel_offset(cap->stream, ch, &cap->cols[cap->nch].offset))
			continue; /* not enabled */
		cap->cols[cap->nch++].type = izc_channel_scan_type(ch);
		idlen += (strlen(izc_channel_id(ch)) + 16) * izc_channel_scan_type(ch)->repeat;
	}
	cap->line_max = tool_csv_ncols(cap->cols, cap->nch) * TOOL_CSV_COL_MAX + 1;
	cap->line_cap = CSV_BUF_SIZE + cap->line_max + idlen;
	cap->line = malloc(cap->line_cap);
	if (!cap->line)
		return -ENOMEM;
	if (!cap->header)
		return 0;
	for (unsigned int i = 0, c = 0; i < izc_buffer_channel_count(buf) && c < cap->nch; i++) {
		const struct izc_scan_type *st;
		struct izc_channel *ch;
		size_t off;

		if (izc_buffer_get_channel(buf, i, &ch) ||
		    izc_stream_channel_offset(cap->stream, ch, &off))
			continue;
		st = izc_channel_scan_type(ch);
		for (unsigned int e = 0; e < st->repeat; e++)
			len += (size_t)snprintf(cap->line + len, cap->line_cap - len,
						st->repeat > 1 ? "%s%s[%u]" : "%s%s",
						c || e ? "," : "", izc_channel_id(ch), e);
		c++;
	}
	cap->line[len++] = '\n';
	cap->line_len = len;
	return 0;
}

static void progress(const struct capture *cap, double t0, bool final)
{
	double dt = tool_now() - t0;
	double mib = (double)cap->frames * (double)izc_stream_frame_size(cap->stream) / 1048576.0;

	fprintf(stderr, "%s%s: %llu frames, %.1f MiB, %.2f s, %.1f MiB/s, %.3f Mframes/s%s",
		final ? "" : "\r", prog, cap->frames, mib, dt, dt > 0 ? mib / dt : 0.0,
		dt > 0 ? (double)cap->frames / dt / 1e6 : 0.0, final ? "" : "   ");
}

/* A write error: said, and the summary then counts what was written. */
static int write_failed(struct capture *cap, int err)
{
	fprintf(stderr, "%s%s: cannot write to %s: %s\n", cap->progress ? "\n" : "", prog,
		cap->out_name, strerror(-err));
	cap->out_failed = true;
	return err;
}

/* Returns 0 when done or stopped, or a negative errno. */
static int capture_loop(struct capture *cap, struct tool_signals *sig, double t0)
{
	size_t frame = izc_stream_frame_size(cap->stream);
	double last = t0;
	int waited = 0;

	while (!atomic_load(&sig->stop) && (!cap->want || cap->frames < cap->want)) {
		struct izc_block *b;
		size_t nframes;
		void *data;
		/* 500 ms slices for the progress line, the last one to the -t limit */
		int slice = cap->timeout_ms >= 0 && cap->timeout_ms - waited < 500
				    ? cap->timeout_ms - waited
				    : 500;
		int ret = izc_stream_dequeue(cap->stream, slice, &b);

		if (ret == -ETIMEDOUT) {
			waited += slice;
			if (cap->timeout_ms >= 0 && waited >= cap->timeout_ms) {
				fprintf(stderr,
					"%s%s: no data for %d ms; is the device sampling? "
					"(check sampling_frequency and trigger)\n",
					cap->progress ? "\n" : "", prog, waited);
				return ret;
			}
			if (cap->progress)
				progress(cap, t0, false);
			continue;
		}
		if (ret == -ECANCELED)
			break;
		if (ret < 0) {
			/* Going on would join the data on both sides of a hole. */
			fprintf(stderr,
				"%s%s: the device failed a block (%s): its samples are lost, "
				"stopped after %llu frames\n",
				cap->progress ? "\n" : "", prog, strerror(-ret),
				(unsigned long long)cap->frames);
			return ret;
		}
		waited = 0;
		nframes = izc_block_bytes_used(b) / frame;
		if (cap->want && nframes > cap->want - cap->frames)
			nframes = (size_t)(cap->want - cap->frames);
		ret = izc_block_cpu_begin(b, IZC_ACCESS_READ, &data);
		if (ret) {
			fprintf(stderr, "%s%s: cannot get CPU access to a block to read it: %s\n",
				cap->progress ? "\n" : "", prog, strerror(-ret));
			return ret;
		}
		ret = cap->csv ? write_csv(cap, data, nframes, frame)
			       : write_all(cap->out_fd, data, nframes * frame);
		izc_block_cpu_end(b);
		if (ret == -EPIPE)
			return 0; /* the reader went away (e.g. | head): a normal end */
		if (ret)
			return write_failed(cap, ret);
		if (!cap->csv)
			cap->written += nframes;
		cap->frames += nframes;
		ret = izc_block_enqueue(b, 0, 0);
		if (ret) {
			fprintf(stderr, "%s: enqueue: %s\n", prog, strerror(-ret));
			return ret;
		}
		if (cap->progress && tool_now() - last >= 0.5) {
			last = tool_now();
			progress(cap, t0, false);
		}
	}
	if (cap->csv && cap->line_len) {
		int ret = flush_line(cap);

		if (ret && ret != -EPIPE)
			return write_failed(cap, ret);
	}
	return 0;
}

struct args {
	struct tool_stream_args stream;
	const char *output;
};

static int parse_args(int argc, char **argv, struct args *a, struct capture *cap)
{
	static const struct option opts[] = {
		{"device", required_argument, NULL, 'd'},
		{"channels", required_argument, NULL, 'c'},
		{"samples", required_argument, NULL, 's'},
		{"block-size", required_argument, NULL, 'b'},
		{"blocks", required_argument, NULL, 'n'},
		{"frequency", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"timeout", required_argument, NULL, 't'},
		{"quiet", no_argument, NULL, 'q'},
		{"csv", no_argument, NULL, OPT_CSV},
		{"raw", no_argument, NULL, OPT_RAW},
		{"no-header", no_argument, NULL, OPT_NO_HEADER},
		{"fileio", no_argument, NULL, OPT_FILEIO},
		{"dmabuf", no_argument, NULL, OPT_DMABUF},
		{"udmabuf", no_argument, NULL, OPT_UDMABUF},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char shortopts[] = TOOL_STREAM_SHORT_OPTIONS "o:t:qh";
	unsigned long long v;
	int opt;

	while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		int taken = tool_stream_option(opt, optarg, &a->stream);

		if (taken < 0)
			goto bad;
		if (taken)
			continue;
		switch (opt) {
		case 'o':
			a->output = optarg;
			break;
		case 't':
			if (tool_parse_ull(optarg, &v) || v > 86400000)
				goto bad;
			cap->timeout_ms = (int)v;
			break;
		case 'q':
			cap->quiet = true;
			break;
		case OPT_CSV:
			cap->csv = true;
			break;
		case OPT_RAW:
			cap->csv = false;
			break;
		case OPT_NO_HEADER:
			cap->header = false;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, argv[optind]);
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "%s: bad value '%s' for -%c (see --help)\n", prog, optarg, opt);
	return -EINVAL;
}

/* Block size: whole frames and DMA words (tool_block_size()), no bigger than the capture needs. */
static int block_geometry(const struct tool_stream_args *a, const struct izc_buffer *buf,
			  size_t frame, size_t *bsize)
{
	unsigned long long fallback = DEFAULT_BLOCK_SIZE;

	if (a->samples && a->samples * frame < fallback)
		fallback = a->samples * frame;
	return tool_block_size(prog, buf, frame, a->flags, a->block_size, fallback, bsize);
}

static int run(struct args *a, struct capture *cap, struct tool_signals *sig)
{
	const struct tool_stream_args *sa = &a->stream;
	struct izc_context *ctx;
	struct izc_device *dev;
	struct izc_buffer *buf;
	unsigned int bi;
	long long lost0 = -1, lost1 = -1;
	size_t frame, bsize;
	double t0;
	int ret;

	ret = tool_open_device(prog, sa->device, IZC_DIR_IN, &ctx, &dev, &bi, &buf);
	if (ret)
		return EXIT_ERROR;
	if (izc_buffer_enabled(buf) > 0) {
		fprintf(stderr,
			"%s: %s buffer%u is already enabled (another program is "
			"streaming); stop it first\n",
			prog, izc_device_id(dev), bi);
		ret = -EBUSY;
		goto out;
	}
	ret = tool_select_channels(prog, dev, buf, sa->channels, &frame);
	if (ret > 0) {
		izc_context_close(ctx);
		return EXIT_USAGE;
	}
	if (ret)
		goto out;
	ret = block_geometry(sa, buf, frame, &bsize);
	if (ret) {
		izc_context_close(ctx);
		return EXIT_USAGE;
	}
	if (sa->set_frequency) {
		ret = tool_set_frequency(prog, dev, sa->frequency);
		if (ret)
			goto out;
	}
	ret = izc_stream_open(dev, bi, IZC_DIR_IN,
			      (unsigned int)(sa->blocks ? sa->blocks : DEFAULT_BLOCKS), bsize,
			      sa->flags, &cap->stream);
	if (ret) {
		fprintf(stderr, "%s: cannot open a stream on %s: %s; %s\n", prog,
			izc_device_id(dev), strerror(-ret), tool_stream_error_hint(dev, ret));
		goto out;
	}
	tool_signals_set_stream(sig, cap->stream);
	if (cap->csv) {
		ret = setup_csv(cap, buf);
		if (ret)
			goto out_stream;
	}
	/* Only now: a wrong -d, -c or -b must not have emptied an existing FILE. */
	if (a->output) {
		cap->out_fd = open(a->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (cap->out_fd < 0) {
			ret = -errno;
			fprintf(stderr, "%s: cannot create %s: %s\n", prog, a->output,
				strerror(-ret));
			goto out_stream;
		}
	}
	if (!cap->quiet) {
		int why = izc_stream_fallback_reason(cap->stream);

		fprintf(stderr,
			"%s: %s (%s) buffer%u, %zu-byte frames, %u x %zu-byte blocks, %s%s%s\n",
			prog, izc_device_id(dev), izc_device_name(dev), bi, frame,
			izc_stream_block_count(cap->stream), bsize,
			izc_backend_name(izc_stream_backend(cap->stream)),
			why ? ", DMABUF unavailable: " : "", why ? strerror(-why) : "");
	}
	izc_device_attr_read_ll(dev, "overrun_samples", &lost0);
	t0 = tool_now();
	ret = izc_stream_start(cap->stream);
	if (ret) {
		fprintf(stderr, "%s: cannot start the stream: %s\n", prog, strerror(-ret));
		goto out_stream;
	}
	ret = capture_loop(cap, sig, t0);
	if (!cap->quiet) {
		if (cap->progress)
			fputc('\n', stderr);
		progress(cap, t0, true);
		if (lost0 >= 0 && !izc_device_attr_read_ll(dev, "overrun_samples", &lost1))
			fprintf(stderr, ", %lld frames lost to overruns", lost1 - lost0);
		if (cap->out_failed)
			fprintf(stderr, ", output failed: %llu frames written", cap->written);
		fprintf(stderr, "%s\n", atomic_load(&sig->stop) ? " (interrupted)" : "");
	}
out_stream:
	tool_signals_set_stream(sig, NULL);
	izc_stream_close(cap->stream);
out:
	izc_context_close(ctx);
	return ret ? EXIT_ERROR : EXIT_OK;
}

int main(int argc, char **argv)
{
	struct capture cap = {
		.out_fd = STDOUT_FILENO, .out_name = "stdout", .header = true, .timeout_ms = -1};
	struct tool_signals sig;
	struct args a = {0};
	int ret;

	ret = parse_args(argc, argv, &a, &cap);
	if (ret)
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	cap.want = a.stream.samples;
	if (a.output) {
		cap.out_fd = -1; /* opened by run() once the stream is ready */
		cap.out_name = a.output;
	} else if (!cap.csv && isatty(STDOUT_FILENO)) {
		fprintf(stderr,
			"%s: not writing binary frames to a terminal; use -o FILE, a pipe, "
			"or --csv\n",
			prog);
		return EXIT_USAGE;
	}
	cap.progress = !cap.quiet && isatty(STDERR_FILENO);
	signal(SIGPIPE, SIG_IGN);
	ret = tool_signals_start(&sig);
	if (ret) {
		fprintf(stderr, "%s: cannot set up signal handling: %s\n", prog, strerror(-ret));
		return EXIT_ERROR;
	}
	ret = run(&a, &cap, &sig);
	tool_signals_finish(&sig);
	free(cap.line);
	if (a.output && cap.out_fd >= 0 && close(cap.out_fd) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, a.output, strerror(errno));
		ret = EXIT_ERROR;
	}
	return ret;
}
