// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * izc-generate: stream raw frames from a file or stdin to an IIO output
 * buffer, once or cyclic (the device repeats one block until stopped; with
 * DMABUF the CPU touches the data once).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static const char *const prog = "izc-generate";

#define DEFAULT_BLOCK_SIZE (1u << 20)
#define DEFAULT_BLOCKS	   4
#define MAX_CYCLIC	   (256ull << 20)

enum {
	OPT_CYCLIC = OPT_TOOL_FIRST,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: izc-generate [options] [FILE]\n"
		"Stream raw frames (one sample of each enabled channel, in the device's\n"
		"format) from FILE, or stdin when FILE is '-' or missing, to an IIO output\n"
		"buffer. Ctrl-C stops cleanly.\n"
		"\n"
		"  -d, --device NAME      device name, label or iio:deviceN (default: the first\n"
		"                         device with an output buffer)\n"
		"  -c, --channels LIST    channels: all (default), indices 0,2-3, ids voltage0,\n"
		"                         or a mask 0x5\n"
		"  -s, --samples N        stop after N frames (default: end of input)\n"
		"  -b, --block-size SIZE  bytes per block (default 1M, whole frames and\n"
		"                         DMA words)\n"
		"  -n, --blocks N         blocks in flight (default 4)\n"
		"  -f, --frequency HZ     set sampling_frequency first\n"
		"      --cyclic           load the whole input (up to 256M) into one block that\n"
		"                         the device repeats until Ctrl-C or --duration\n"
		"  -t, --duration SEC     cyclic: stop after SEC seconds (default: Ctrl-C)\n"
		"  -q, --quiet            no summary line\n"
		"      --fileio           write() path only (cyclic is then repeated by the CPU;\n"
		"                         a short last block is sent padded with zero frames)\n"
		"      --dmabuf           DMABUF from the system heap, no fallback\n"
		"      --udmabuf          DMABUF from udmabuf (memfd), no fallback\n"
		"  -h, --help             this text\n"
		"\n"
		"Exit status: 0 ok, 1 runtime error, 2 usage error.\n");
}

struct args {
	struct tool_stream_args stream;
	const char *input;
	double duration;
	bool cyclic, quiet;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"device", required_argument, NULL, 'd'},
		{"channels", required_argument, NULL, 'c'},
		{"samples", required_argument, NULL, 's'},
		{"block-size", required_argument, NULL, 'b'},
		{"blocks", required_argument, NULL, 'n'},
		{"frequency", required_argument, NULL, 'f'},
		{"duration", required_argument, NULL, 't'},
		{"quiet", no_argument, NULL, 'q'},
		{"cyclic", no_argument, NULL, OPT_CYCLIC},
		{"fileio", no_argument, NULL, OPT_FILEIO},
		{"dmabuf", no_argument, NULL, OPT_DMABUF},
		{"udmabuf", no_argument, NULL, OPT_UDMABUF},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, TOOL_STREAM_SHORT_OPTIONS "t:qh", opts, NULL)) !=
	       -1) {
		int taken = tool_stream_option(opt, optarg, &a->stream);

		if (taken < 0)
			goto bad;
		if (taken)
			continue;
		switch (opt) {
		case 't':
			a->duration = strtod(optarg, &end);
			/* NaN would compare false both ways: a run without end, or none */
			if (*end || !(a->duration > 0) || !isfinite(a->duration))
				goto bad;
			break;
		case 'q':
			a->quiet = true;
			break;
		case OPT_CYCLIC:
			a->cyclic = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc)
		a->input = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, argv[optind]);
		return -EINVAL;
	}
	if (a->duration > 0 && !a->cyclic) {
		fprintf(stderr, "%s: --duration needs --cyclic\n", prog);
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "%s: bad value '%s' for -%c (see --help)\n", prog, optarg, opt);
	return -EINVAL;
}

/* Reads up to len bytes (less only at end of input). Returns the count or -errno. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * The input up to max_frames frames (0: all of it), at most MAX_CYCLIC
 * bytes, rounded down to whole frames. Prints what went wrong.
 */
static int slurp(int fd, size_t frame, unsigned long long max_frames, char **data, size_t *len)
{
	size_t limit = MAX_CYCLIC, cap = 0, got = 0;
	bool capped = true; /* more input than limit is an error, not the -s end */
	char *buf = NULL, extra;
	ssize_t n;

	if (max_frames && max_frames <= MAX_CYCLIC / frame) {
		limit = (size_t)(max_frames * frame);
		capped = false;
	}
	do {
		if (got == cap) {
			size_t want = cap ? cap * 2 : 1u << 20;
			char *tmp = realloc(buf, want < limit ? want : limit);

			if (!tmp) {
				free(buf);
				fprintf(stderr,
					"%s: out of memory for a cyclic block of %zu bytes; use -s "
					"to "
					"load less of the input\n",
					prog, want < limit ? want : limit);
				return -ENOMEM;
			}
			buf = tmp;
			cap = want < limit ? want : limit;
		}
		n = read_full(fd, buf + got, cap - got);
		if (n < 0) {
			free(buf);
			fprintf(stderr, "%s: read: %s\n", prog, strerror((int)-n));
			return (int)n;
		}
		got += (size_t)n;
	} while (got == cap && got < limit);
	/* Exactly MAX_CYCLIC bytes is allowed: only a byte after them is too many. */
	if (capped && got == limit) {
		n = read_full(fd, &extra, 1);
		if (n) {
			free(buf);
			if (n < 0)
				fprintf(stderr, "%s: read: %s\n", prog, strerror((int)-n));
			else
				fprintf(stderr,
					"%s: cyclic input larger than %llu MiB; use -s to load "
					"only "
					"its first frames\n",
					prog, MAX_CYCLIC >> 20);
			return n < 0 ? (int)n : -EFBIG;
		}
	}
	got -= got % frame;
	*data = buf;
	*len = got;
	return 0;
}

/*
 * A DMA moves whole bus words (length_align_bytes), so a cyclic block whose
 * length is not a multiple of the word cannot be a DMABUF transfer. Repeating
 * the input inside the block until it is (at most word times) plays exactly
 * the same periodic waveform, where the word-free alternative, fileio,
 * would have the CPU rewrite the block for as long as it runs.
 */
static int cyclic_whole_words(const struct izc_buffer *buf, size_t frame, unsigned int flags,
			      char **data, size_t *len)
{
	size_t word, copies, a, b, i;
	char *tmp;

	tool_block_unit(buf, frame, flags, &word);
	if (word <= 1 || *len % word == 0)
		return 0;
	for (a = *len, b = word; b;) { /* copies = word / gcd(len, word) */
		size_t r = a % b;

		a = b;
		b = r;
	}
	copies = word / a;
	if (*len > MAX_CYCLIC / copies) {
		fprintf(stderr,
			"%s: the cyclic block of %zu bytes is not whole %zu-byte DMA words "
			"(length_align_bytes) and %zu copies of it exceed %llu MiB; use -s "
			"to load fewer frames, or --fileio\n",
			prog, *len, word, copies, MAX_CYCLIC >> 20);
		return -EFBIG;
	}
	tmp = realloc(*data, *len * copies);
	if (!tmp) {
		fprintf(stderr, "%s: out of memory for %zu copies of the cyclic block\n", prog,
			copies);
		return -ENOMEM;
	}
	for (i = 1; i < copies; i++)
		memcpy(tmp + i * *len, tmp, *len);
	*data = tmp;
	*len *= copies;
	return 0;
}

struct gen {
	struct izc_stream *stream;
	struct tool_signals *sig;
	unsigned long long frames;
	bool started;
};

static int start_once(struct gen *g)
{
	int ret;

	if (g->started)
		return 0;
	ret = izc_stream_start(g->stream);
	if (ret)
		fprintf(stderr, "%s: cannot start the stream: %s\n", prog, strerror(-ret));
	g->started = !ret;
	return ret;
}

/* Dequeue a block to fill, waiting in slices so that Ctrl-C is seen. */
static int next_block(struct gen *g, struct izc_block **b)
{
	for (;;) {
		int ret = izc_stream_dequeue(g->stream, 500, b);

		if (ret == -ETIMEDOUT && !atomic_load(&g->sig->stop))
			continue;
		if (ret == -ETIMEDOUT)
			return -ECANCELED;
		return ret;
	}
}

static int stream_file(struct gen *g, int fd, unsigned long long max_frames)
{
	size_t frame = izc_stream_frame_size(g->stream);
	unsigned int nblocks = izc_stream_block_count(g->stream), queued = 0;
	bool *inflight = calloc(nblocks, sizeof(*inflight));
	bool eof = false;
	int ret = 0;

	if (!inflight)
		return -ENOMEM;
	while (!eof && !atomic_load(&g->sig->stop)) {
		struct izc_block *b;
		size_t want;
		ssize_t n;
		void *data;

		ret = next_block(g, &b);
		if (ret && ret != -ECANCELED)
			fprintf(stderr,
				"%s: the device failed a block (%s): its frames were not sent; "
				"stopped "
				"after %llu frames queued\n",
				prog, strerror(-ret), g->frames);
		if (ret)
			break;
		if (inflight[izc_block_index(b)]) {
			inflight[izc_block_index(b)] = false;
			queued--;
		}
		want = izc_block_size(b);
		if (max_frames && want > (max_frames - g->frames) * frame)
			want = (size_t)((max_frames - g->frames) * frame);
		ret = izc_block_cpu_begin(b, IZC_ACCESS_WRITE, &data);
		if (ret) {
			fprintf(stderr, "%s: cannot get CPU access to a block to fill it: %s\n",
				prog, strerror(-ret));
			break;
		}
		n = read_full(fd, data, want);
		izc_block_cpu_end(b);
		if (n < 0) {
			ret = (int)n;
			fprintf(stderr, "%s: read: %s\n", prog, strerror(-ret));
			break;
		}
		if ((size_t)n < want || (max_frames && g->frames + (size_t)n / frame >= max_frames))
			eof = true;
		if (n % (ssize_t)frame)
			fprintf(stderr,
				"%s: input ends with a partial frame (%zd bytes), dropped\n", prog,
				n % (ssize_t)frame);
		n -= n % (ssize_t)frame;
		if (!n)
			break;
		ret = izc_block_enqueue(b, (size_t)n, 0);
		if (ret) {
			fprintf(stderr, "%s: enqueue: %s\n", prog, strerror(-ret));
			break;
		}
		inflight[izc_block_index(b)] = true;
		queued++;
		g->frames += (size_t)n / frame;
		if (queued == nblocks) {
			ret = start_once(g);
			if (ret)
				break;
		}
	}
	if (!ret && queued)
		ret = start_once(g);
	/*
	 * Let the device send everything queued before the stream stops: the
	 * kernel may still hold written data (fileio) or DMA in flight.
	 */
	while (!ret && queued && !atomic_load(&g->sig->stop)) {
		ret = izc_stream_drain(g->stream, 500);
		if (ret == -ETIMEDOUT)
			ret = 0;
		else if (!ret)
			queued = 0;
		else if (ret != -ECANCELED)
			fprintf(stderr, "%s: the device did not send every block: %s\n", prog,
				strerror(-ret));
	}
	free(inflight);
	return ret == -ECANCELED ? 0 : ret;
}

static int cyclic(struct gen *g, const char *data, size_t len, double duration)
{
	double t0 = tool_now();
	bool dmabuf = izc_stream_backend(g->stream) == IZC_BACKEND_DMABUF;
	int ret = 0;

	if (!dmabuf)
		fprintf(stderr,
			"%s: fileio cannot repeat a block in the device; the CPU writes "
			"it again and again\n",
			prog);
	while (!atomic_load(&g->sig->stop) && (duration <= 0 || tool_now() - t0 < duration)) {
		struct izc_block *b;
		void *p;

		ret = izc_stream_dequeue(g->stream, 200, &b);
		if (ret == -ETIMEDOUT || ret == -ECANCELED) {
			ret = 0;
			continue;
		}
		if (ret) {
			fprintf(stderr,
				"%s: the device failed a block (%s): the repetition stopped after "
				"%.2f s\n",
				prog, strerror(-ret), tool_now() - t0);
			break;
		}
		ret = izc_block_cpu_begin(b, IZC_ACCESS_WRITE, &p);
		if (ret) {
			fprintf(stderr, "%s: cannot get CPU access to the block to fill it: %s\n",
				prog, strerror(-ret));
			break;
		}
		memcpy(p, data, len);
		izc_block_cpu_end(b);
		ret = izc_block_enqueue(b, len, dmabuf ? IZC_BLOCK_CYCLIC : 0);
		if (ret) {
			fprintf(stderr, "%s: enqueue: %s\n", prog, strerror(-ret));
			break;
		}
		g->frames += len / izc_stream_frame_size(g->stream);
		ret = start_once(g);
		if (ret)
			break;
	}
	return ret;
}

static int run(struct args *a, int fd, struct tool_signals *sig)
{
	const struct tool_stream_args *sa = &a->stream;
	struct gen g = {.sig = sig};
	struct izc_context *ctx;
	struct izc_device *dev;
	struct izc_buffer *buf;
	char *data = NULL;
	size_t frame, bsize, len = 0;
	unsigned int bi, nblocks = sa->blocks ? (unsigned int)sa->blocks : DEFAULT_BLOCKS;
	double t0;
	int ret;

	ret = tool_open_device(prog, sa->device, IZC_DIR_OUT, &ctx, &dev, &bi, &buf);
	if (ret)
		return EXIT_ERROR;
	ret = tool_select_channels(prog, dev, buf, sa->channels, &frame);
	if (ret > 0) {
		izc_context_close(ctx);
		return EXIT_USAGE;
	}
	if (ret)
		goto out;
	if (sa->set_frequency) {
		ret = tool_set_frequency(prog, dev, sa->frequency);
		if (ret)
			goto out;
	}
	if (a->cyclic) {
		ret = slurp(fd, frame, sa->samples, &data, &len);
		if (ret)
			goto out;
		if (!len) {
			fprintf(stderr, "%s: the input has no whole frame of %zu bytes\n", prog,
				frame);
			ret = -EINVAL;
			goto out;
		}
		ret = cyclic_whole_words(buf, frame, sa->flags, &data, &len);
		if (ret)
			goto out;
		bsize = len;
		nblocks = 1;
	} else {
		if (tool_block_size(prog, buf, frame, sa->flags, sa->block_size, DEFAULT_BLOCK_SIZE,
				    &bsize)) {
			izc_context_close(ctx);
			return EXIT_USAGE;
		}
	}
	ret = izc_stream_open(dev, bi, IZC_DIR_OUT, nblocks, bsize, sa->flags, &g.stream);
	if (ret == 0 && a->cyclic && izc_stream_backend(g.stream) == IZC_BACKEND_FILEIO &&
	    nblocks == 1) {
		/* CPU repetition needs blocks in flight to keep the device fed. */
		izc_stream_close(g.stream);
		ret = izc_stream_open(dev, bi, IZC_DIR_OUT, DEFAULT_BLOCKS, bsize, sa->flags,
				      &g.stream);
	}
	if (ret) {
		fprintf(stderr, "%s: cannot open a stream on %s: %s; %s\n", prog,
			izc_device_id(dev), strerror(-ret), tool_stream_error_hint(dev, ret));
		goto out;
	}
	tool_signals_set_stream(sig, g.stream);
	if (!a->quiet)
		fprintf(stderr,
			"%s: %s (%s) buffer%u, %zu-byte frames, %u x %zu-byte blocks, %s%s\n", prog,
			izc_device_id(dev), izc_device_name(dev), bi, frame,
			izc_stream_block_count(g.stream), bsize,
			izc_backend_name(izc_stream_backend(g.stream)),
			a->cyclic ? ", cyclic" : "");
	t0 = tool_now();
	ret = a->cyclic ? cyclic(&g, data, len, a->duration) : stream_file(&g, fd, sa->samples);
	if (!a->quiet) {
		double dt = tool_now() - t0;

		fprintf(stderr, "%s: %llu frames %s in %.2f s%s\n", prog, g.frames,
			a->cyclic && izc_stream_backend(g.stream) == IZC_BACKEND_DMABUF
				? "loaded for repetition"
				: "queued",
			dt, atomic_load(&sig->stop) ? " (interrupted)" : "");
	}
	tool_signals_set_stream(sig, NULL);
	izc_stream_close(g.stream);
out:
	free(data);
	izc_context_close(ctx);
	return ret ? EXIT_ERROR : EXIT_OK;
}

int main(int argc, char **argv)
{
	struct tool_signals sig;
	struct args a = {0};
	int fd = STDIN_FILENO, ret;

	ret = parse_args(argc, argv, &a);
	if (ret)
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	if (a.input && strcmp(a.input, "-")) {
		fd = open(a.input, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "%s: cannot open %s: %s\n", prog, a.input, strerror(errno));
			return EXIT_ERROR;
		}
	} else if (isatty(STDIN_FILENO)) {
		fprintf(stderr, "%s: stdin is a terminal; give a FILE or pipe raw frames in\n",
			prog);
		return EXIT_USAGE;
	}
	/* Only stderr is written: a reader of it gone must not cut the stream short. */
	signal(SIGPIPE, SIG_IGN);
	ret = tool_signals_start(&sig);
	if (ret) {
		fprintf(stderr, "%s: cannot set up signal handling: %s\n", prog, strerror(-ret));
		return EXIT_ERROR;
	}
	ret = run(&a, fd, &sig);
	tool_signals_finish(&sig);
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}
