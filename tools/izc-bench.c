// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * izc-bench: fileio vs DMABUF capture, side by side, in one run.
 *
 * For every case (DMA mode, reader access, block size, block count) both
 * backends stream the same number of bytes from the device, unpaced
 * (sampling_frequency 0), alternating which goes first, and the median of
 * the repetitions is reported: MiB/s, the reading process's CPU seconds per
 * GiB (getrusage(RUSAGE_SELF) user + system over the streaming loop only),
 * and the DMABUF/fileio ratios.
 *
 * Reader access, the same for both backends:
 *   api  take each block and give it back. fileio: read() into the
 *        stream's own memory (the copy is the fileio API's own access);
 *        DMABUF: dequeue (poll + fence status) and enqueue, no CPU access.
 *   sum  api plus a 64-bit sum over every byte of the block; DMABUF wraps it
 *        in izc_block_cpu_begin/end (DMA_BUF_IOCTL_SYNC), as a real
 *        consumer must.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static const char *const prog = "izc-bench";

#define MAX_LIST    16
#define MAX_CASES   256
#define MAX_REPS    15
#define DEQUEUE_MS  10000
#define DEFAULT_MIB 64

enum {
	MODE_NULL,
	MODE_TOUCH,
	NMODES
};
enum {
	ACCESS_API,
	ACCESS_SUM,
	NACCESS
};
enum {
	BE_FILEIO,
	BE_DMABUF,
	NBE
};

static const char *const mode_names[NMODES] = {"null", "touch"};
static const char *const access_names[NACCESS] = {"api", "sum"};

enum {
	OPT_QUICK = OPT_TOOL_FIRST,
	OPT_JSON,
	OPT_PLOT,
	OPT_FROM_JSON,
	OPT_SIZES,
	OPT_COUNTS,
	OPT_MODES,
	OPT_ACCESS,
	OPT_BYTES,
	OPT_REPS,
	OPT_MACHINE,
	OPT_MAX_SECONDS,
};

struct result {
	unsigned int mode, access;
	unsigned long long block_size;
	unsigned int blocks;
	unsigned long long bytes;
	double mib_s[NBE];		  /* median; < 0: failed */
	double cpu_s_gib[NBE];		  /* median */
	unsigned long long measured[NBE]; /* fewest bytes a run of this backend measured */
	int err[NBE];
};

struct bench {
	/* configuration */
	const char *device, *channels, *json, *plot, *from_json, *machine;
	unsigned long long sizes[MAX_LIST];
	unsigned int nsizes;
	unsigned long long counts[MAX_LIST];
	unsigned int ncounts;
	unsigned int default_count;
	unsigned long long count_sweep_size;
	unsigned int modes;	     /* bit per MODE_ */
	unsigned int access[NMODES]; /* bit per ACCESS_, per mode */
	unsigned long long bytes;    /* --bytes, exactly; 0: max(min_bytes, 4 queues) */
	unsigned long long min_bytes;
	unsigned int reps;
	double max_seconds; /* a run stops after this much streaming */
	bool udmabuf, quick;
	/* the run */
	char kernel[200], cpu[200], date[40], devdesc[200];
	size_t frame;
	struct result results[MAX_CASES];
	unsigned int nresults;
	unsigned long long checksum_sink;
	struct tool_signals sig; /* Ctrl-C: stop, put the device back, report what ran */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: izc-bench [options]\n"
		"Capture benchmark: fileio (read()) vs DMABUF (zero-copy) on an IIO input\n"
		"device, unpaced, with the simulated ADC's DMA in null mode (the DMA costs no\n"
		"CPU) and touch mode (it writes every sample). Per case: MiB/s, the reader's\n"
		"CPU seconds per GiB (user + system), and the DMABUF/fileio ratios.\n"
		"\n"
		"  -d, --device NAME     device (default izc-sim-adc); needs a dma_mode attribute\n"
		"                        for the null/touch modes, else runs the device as is\n"
		"  -c, --channels LIST   channels (default all)\n"
		"      --sizes LIST      block sizes (default 4K,16K,64K,256K,1M,4M,16M,64M)\n"
		"      --counts LIST     block counts swept at 1M (default 2,4,8,16); the size\n"
		"                        sweep uses -n\n"
		"  -n, --blocks N        blocks for the size sweep (default 4)\n"
		"      --modes LIST      null,touch (default both)\n"
		"      --access LIST     api,sum (default: api for null, api,sum for touch)\n"
		"      --bytes SIZE      bytes per case and backend (default max(64M, 4 x blocks "
		"x\n"
		"                        block size))\n"
		"      --reps N          repetitions, median reported (default 3)\n"
		"      --max-seconds S   a run stops after S s of streaming (default 1.5);\n"
		"                        slow cases then measure fewer bytes (shown)\n"
		"      --quick           demo run: 4K,64K,1M,16M x 4 blocks, 1 rep, at least 16M\n"
		"                        (and 4 queues' worth) per case\n"
		"      --udmabuf         DMABUFs from udmabuf instead of the system heap\n"
		"      --json[=FILE]     JSON results to FILE, or to stdout instead of the table\n"
		"      --plot FILE.png   plot with gnuplot (needs gnuplot on this machine)\n"
		"      --from-json FILE  no run: table, targets and plot from a saved JSON\n"
		"      --machine TEXT    machine description for the report\n"
		"  -h, --help            this text\n"
		"\n"
		"Reader access: api = get each block and give it back (fileio: read() into\n"
		"its own buffer; DMABUF: dequeue + enqueue, no CPU access); sum = api plus a\n"
		"64-bit sum of every byte (DMABUF: inside DMA_BUF_IOCTL_SYNC begin/end).\n"
		"Ctrl-C stops the run, puts dma_mode and sampling_frequency back and reports\n"
		"the cases finished so far (exit status 1).\n"
		"Exit status: 0 ok (targets are reported, not judged), 1 error, 2 usage error.\n");
}

static int parse_list(const char *s, unsigned long long *out, unsigned int *n, bool sizes)
{
	char *copy = strdup(s), *save = NULL;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	*n = 0;
	for (char *t = strtok_r(copy, ",", &save); t && !ret; t = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_LIST)
			ret = -EINVAL;
		else
			ret = sizes ? tool_parse_size(t, &out[*n]) : tool_parse_ull(t, &out[*n]);
		if (!ret && !out[*n])
			ret = -EINVAL;
		(*n)++;
	}
	free(copy);
	return *n ? ret : -EINVAL;
}

static int parse_names(const char *s, const char *const *names, unsigned int nnames,
		       unsigned int *bits)
{
	char *copy = strdup(s), *save = NULL;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	*bits = 0;
	for (char *t = strtok_r(copy, ",", &save); t && !ret; t = strtok_r(NULL, ",", &save)) {
		unsigned int i;

		for (i = 0; i < nnames && strcmp(t, names[i]); i++)
			;
		if (i == nnames)
			ret = -EINVAL;
		else
			*bits |= 1u << i;
	}
	free(copy);
	return ret || !*bits ? -EINVAL : 0;
}

static int parse_args(int argc, char **argv, struct bench *bn)
{
	static const struct option opts[] = {
		{"device", required_argument, NULL, 'd'},
		{"channels", required_argument, NULL, 'c'},
		{"blocks", required_argument, NULL, 'n'},
		{"sizes", required_argument, NULL, OPT_SIZES},
		{"counts", required_argument, NULL, OPT_COUNTS},
		{"modes", required_argument, NULL, OPT_MODES},
		{"access", required_argument, NULL, OPT_ACCESS},
		{"bytes", required_argument, NULL, OPT_BYTES},
		{"reps", required_argument, NULL, OPT_REPS},
		{"quick", no_argument, NULL, OPT_QUICK},
		{"udmabuf", no_argument, NULL, OPT_UDMABUF},
		{"json", optional_argument, NULL, OPT_JSON},
		{"plot", required_argument, NULL, OPT_PLOT},
		{"from-json", required_argument, NULL, OPT_FROM_JSON},
		{"machine", required_argument, NULL, OPT_MACHINE},
		{"max-seconds", required_argument, NULL, OPT_MAX_SECONDS},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool sizes = false, counts = false, reps = false;
	unsigned long long v;
	unsigned int bits;
	int opt;

	while ((opt = getopt_long(argc, argv, "d:c:n:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			bn->device = optarg;
			break;
		case 'c':
			bn->channels = optarg;
			break;
		case 'n':
			if (tool_parse_ull(optarg, &v) || v < 1 || v > 4096)
				goto bad;
			bn->default_count = (unsigned int)v;
			break;
		case OPT_SIZES:
			if (parse_list(optarg, bn->sizes, &bn->nsizes, true))
				goto bad;
			sizes = true;
			break;
		case OPT_COUNTS:
			if (parse_list(optarg, bn->counts, &bn->ncounts, false))
				goto bad;
			for (unsigned int i = 0; i < bn->ncounts; i++)
				if (bn->counts[i] > 4096)
					goto bad;
			counts = true;
			break;
		case OPT_MODES:
			if (parse_names(optarg, mode_names, NMODES, &bn->modes))
				goto bad;
			break;
		case OPT_ACCESS:
			if (parse_names(optarg, access_names, NACCESS, &bits))
				goto bad;
			bn->access[MODE_NULL] = bn->access[MODE_TOUCH] = bits;
			break;
		case OPT_BYTES:
			if (tool_parse_size(optarg, &bn->bytes) || !bn->bytes)
				goto bad;
			break;
		case OPT_REPS:
			if (tool_parse_ull(optarg, &v) || v < 1 || v > MAX_REPS)
				goto bad;
			bn->reps = (unsigned int)v;
			reps = true;
			break;
		case OPT_QUICK:
			bn->quick = true;
			break;
		case OPT_UDMABUF:
			bn->udmabuf = true;
			break;
		case OPT_JSON:
			if (optarg && !*optarg)
				goto bad;
			bn->json = optarg ? optarg : "-";
			break;
		case OPT_PLOT:
			if (!*optarg)
				goto bad;
			bn->plot = optarg;
			break;
		case OPT_FROM_JSON:
			bn->from_json = optarg;
			break;
		case OPT_MACHINE:
			bn->machine = optarg;
			break;
		case OPT_MAX_SECONDS: {
			char *end;

			bn->max_seconds = strtod(optarg, &end);
			/* inf would never stop a run, and JSON has no number for it */
			if (*end || !(bn->max_seconds > 0) || !isfinite(bn->max_seconds))
				goto bad;
			break;
		}
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
	if (bn->quick) {
		static const unsigned long long qs[] = {4 << 10, 64 << 10, 1 << 20, 16 << 20};

		if (!sizes) {
			memcpy(bn->sizes, qs, sizeof(qs));
			bn->nsizes = 4;
		}
		if (!counts)
			bn->ncounts = 0;
		bn->min_bytes = 16ull << 20;
		if (!reps)
			bn->reps = 1;
	}
	return 0;
bad:
	fprintf(stderr, "%s: bad value '%s' for an option (see --help)\n", prog, optarg);
	return -EINVAL;
}

/* ---- measuring ---- */

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static unsigned long long sum64(const void *data, size_t len)
{
	const unsigned long long *p = data;
	unsigned long long s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t n = len / 8, i = 0;

	for (; i + 4 <= n; i += 4) {
		s0 += p[i];
		s1 += p[i + 1];
		s2 += p[i + 2];
		s3 += p[i + 3];
	}
	for (; i < n; i++)
		s0 += p[i];
	return s0 + s1 + s2 + s3;
}

/*
 * One block through the reader: dequeue (waiting up to timeout_ms), (sum),
 * enqueue. Returns bytes or -errno.
 */
static long long step(struct bench *bn, struct izc_stream *s, bool sum, int timeout_ms)
{
	struct izc_block *b;
	size_t used;
	void *data;
	int ret = izc_stream_dequeue(s, timeout_ms, &b);

	if (ret)
		return ret;
	used = izc_block_bytes_used(b);
	if (sum) {
		ret = izc_block_cpu_begin(b, IZC_ACCESS_READ, &data);
		if (ret)
			return ret;
		bn->checksum_sink += sum64(data, used);
		ret = izc_block_cpu_end(b);
		if (ret)
			return ret;
	}
	ret = izc_block_enqueue(b, 0, 0);
	return ret ? ret : (long long)used;
}

/*
 * Stop s, take every block back (data or aborted), and start it again with
 * all of them queued.
 */
static int restart_stream(struct izc_stream *s, unsigned int blocks)
{
	struct izc_block **held = calloc(blocks, sizeof(*held));
	unsigned int nheld = 0, i;
	int ret = held ? izc_stream_stop(s) : -ENOMEM;

	/* Each block dequeues at most once after the stop: as data or as an error. */
	for (i = 0; !ret && i <= blocks; i++) {
		struct izc_block *b;

		ret = izc_stream_dequeue(s, DEQUEUE_MS, &b);
		if (!ret && nheld < blocks)
			held[nheld++] = b;
		else if (ret == -ENOBUFS)
			break;
		else if (ret && ret != -ETIMEDOUT && ret != -ECANCELED)
			ret = 0; /* aborted by the stop: the library took it back */
	}
	if (ret == -ENOBUFS) {
		ret = 0;
		for (i = 0; !ret && i < nheld; i++)
			ret = izc_block_enqueue(held[i], 0, 0);
		if (!ret)
			ret = izc_stream_start(s);
	} else if (!ret) {
		ret = -EIO; /* more completions than blocks */
	}
	free(held);
	return ret;
}

static int one_run(struct bench *bn, struct izc_device *dev, unsigned int bi, int be,
		   const struct result *c, double *mib_s, double *cpu_s_gib,
		   unsigned long long *bytes)
{
	unsigned int flags =
		be == BE_FILEIO ? IZC_STREAM_FILEIO
				: IZC_STREAM_NO_FALLBACK | (bn->udmabuf ? IZC_STREAM_UDMABUF : 0);
	bool sum = c->access == ACCESS_SUM;
	unsigned long long done = 0;
	struct izc_stream *s;
	double t0, t1, c0, c1;
	long long n;
	int ret;

	/*
	 * The previous run's buffer may still be busy for a moment after its
	 * close (EBUSY: seen switching from DMABUF to fileio); retry a while.
	 */
	for (int tries = 0;; tries++) {
		struct timespec pause = {0, 50 * 1000000L};

		ret = izc_stream_open(dev, bi, IZC_DIR_IN, c->blocks, (size_t)c->block_size, flags,
				      &s);
		if (!ret) {
			ret = izc_stream_start(s);
			if (ret)
				izc_stream_close(s);
		}
		if (ret != -EBUSY || tries == 40)
			break;
		nanosleep(&pause, NULL);
	}
	if (ret)
		return ret;
	tool_signals_set_stream(&bn->sig, s);
	/* Warm-up: every block once (mappings, page faults, kernel blocks). */
	for (unsigned int i = 0; !ret && i < c->blocks; i++) {
		n = step(bn, s, sum, DEQUEUE_MS);
		ret = n < 0 ? (int)n : 0;
	}
	/*
	 * While that cold pass ran, the device kept filling ahead: fileio's
	 * kernel blocks, for one, are all full by its end. Measuring from there
	 * would credit that backlog to the backend, at copy speed, and a reader
	 * nearly as slow as the device takes dozens of blocks to work it off.
	 * So restart warm: the enable drops unread input, and the clock starts
	 * at the first completion after it, when the device has every other
	 * block queued and none ready: the steady state of both backends.
	 */
	if (!ret)
		ret = restart_stream(s, c->blocks);
	if (!ret) {
		n = step(bn, s, sum, DEQUEUE_MS);
		ret = n < 0 ? (int)n : 0;
	}
	c0 = cpu_seconds();
	t0 = tool_now();
	while (!ret && done < c->bytes) {
		n = step(bn, s, sum, DEQUEUE_MS);
		if (n < 0)
			ret = (int)n;
		else
			done += (unsigned long long)n;
		/* Time bound: slow cases measure fewer bytes; rates stay comparable. */
		if (done >= 4 * c->block_size && tool_now() - t0 > bn->max_seconds)
			break;
	}
	t1 = tool_now();
	c1 = cpu_seconds();
	tool_signals_set_stream(&bn->sig, NULL);
	izc_stream_close(s);
	if (atomic_load(&bn->sig.stop))
		ret = -ECANCELED;
	if (ret)
		return ret;
	*mib_s = (double)done / 1048576.0 / (t1 - t0);
	*cpu_s_gib = (c1 - c0) / ((double)done / 1073741824.0);
	*bytes = done;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void run_case(struct bench *bn, struct izc_device *dev, unsigned int bi, struct result *c)
{
	double mib[NBE][MAX_REPS], cpu[NBE][MAX_REPS];
	unsigned int ok[NBE] = {0, 0};

	for (int be = 0; be < NBE; be++) {
		c->err[be] = 0;
		c->mib_s[be] = -1;
		c->cpu_s_gib[be] = -1;
		c->measured[be] = 0;
	}
	for (unsigned int r = 0; r < bn->reps; r++) {
		for (int k = 0; k < NBE; k++) {
			int be = (int)((k + r) % NBE); /* alternate who goes first */
			unsigned long long bytes = 0;
			int ret;

			if (c->err[be] || atomic_load(&bn->sig.stop))
				continue;
			ret = one_run(bn, dev, bi, be, c, &mib[be][ok[be]], &cpu[be][ok[be]],
				      &bytes);
			if (ret) {
				c->err[be] = ret;
				continue;
			}
			ok[be]++;
			if (!c->measured[be] || bytes < c->measured[be])
				c->measured[be] = bytes;
		}
	}
	for (int be = 0; be < NBE; be++) {
		if (c->err[be] || !ok[be])
			continue;
		c->mib_s[be] = median(mib[be], ok[be]);
		c->cpu_s_gib[be] = median(cpu[be], ok[be]);
	}
}

static unsigned long long case_bytes(const struct bench *bn, unsigned long long bs,
				     unsigned int blocks)
{
	unsigned long long min =
		bn->min_bytes ? bn->min_bytes : (unsigned long long)DEFAULT_MIB << 20;
	/* Four times what the queue holds, so that a full pipeline at the start is noise. */
	unsigned long long four = 4 * bs * blocks;

	if (bn->bytes)
		return (bn->bytes + bs - 1) / bs * bs;
	return min > four ? min : four;
}

static void add_case(struct bench *bn, unsigned int mode, unsigned int access,
		     unsigned long long bs, unsigned int blocks)
{
	struct result *c;

	if (bn->nresults == MAX_CASES)
		return;
	c = &bn->results[bn->nresults++];
	memset(c, 0, sizeof(*c));
	c->mode = mode;
	c->access = access;
	c->block_size = bs;
	c->blocks = blocks;
	c->bytes = case_bytes(bn, bs, blocks);
}

/* Whether plan_cases() adds count-sweep cases (a count other than -n). */
static bool count_sweep_planned(const struct bench *bn)
{
	for (unsigned int i = 0; i < bn->ncounts; i++)
		if (bn->counts[i] != bn->default_count)
			return true;
	return false;
}

static void plan_cases(struct bench *bn)
{
	for (unsigned int m = 0; m < NMODES; m++) {
		if (!(bn->modes & (1u << m)))
			continue;
		for (unsigned int a = 0; a < NACCESS; a++) {
			if (!(bn->access[m] & (1u << a)))
				continue;
			for (unsigned int i = 0; i < bn->nsizes; i++)
				add_case(bn, m, a, bn->sizes[i], bn->default_count);
			for (unsigned int i = 0; i < bn->ncounts; i++)
				if (bn->counts[i] != bn->default_count)
					add_case(bn, m, a, bn->count_sweep_size,
						 (unsigned int)bn->counts[i]);
		}
	}
}

static void describe_machine(struct bench *bn)
{
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	char line[256];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (!uname(&u))
		snprintf(bn->kernel, sizeof(bn->kernel), "Linux %s %s", u.release, u.machine);
	snprintf(bn->cpu, sizeof(bn->cpu), "%ld CPUs", ncpu);
	f = fopen("/proc/cpuinfo", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(bn->cpu, sizeof(bn->cpu), "%ld x %s", ncpu, colon + 2);
		break;
	}
	if (f)
		fclose(f);
	gmtime_r(&now, &tm);
	strftime(bn->date, sizeof(bn->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Sets an attribute if the device has it; remembers the old value in old (may be NULL). */
static int set_attr(struct izc_device *dev, const char *attr, const char *val, char *old,
		    size_t oldlen)
{
	int ret;

	if (old) {
		ret = izc_device_attr_read(dev, attr, old, oldlen);
		if (ret < 0)
			return ret;
	}
	ret = izc_device_attr_write(dev, attr, val);
	if (ret)
		fprintf(stderr, "%s: cannot set %s to %s: %s\n", prog, attr, val, strerror(-ret));
	return ret;
}

/* Returns 0, -ECANCELED (interrupted), 1 for a bad -c or --sizes (said) or a negative errno. */
static int run_all(struct bench *bn)
{
	struct izc_context *ctx;
	struct izc_device *dev;
	struct izc_buffer *buf;
	char old_mode[32] = "", old_freq[32] = "";
	bool has_mode;
	unsigned int bi, done = 0;
	size_t word, word_unit;
	double t0 = tool_now();
	int ret;

	ret = tool_open_device(prog, bn->device, IZC_DIR_IN, &ctx, &dev, &bi, &buf);
	if (ret)
		return ret;
	/* The other tools' way to "all": by scan index, sparse ones and 64 channels too. */
	ret = tool_select_channels(prog, dev, buf, bn->channels, &bn->frame);
	if (ret)
		goto out; /* said; 1: a bad -c, a usage error */
	word_unit = tool_block_unit(buf, bn->frame, 0, &word);
	for (unsigned int i = 0; i < bn->nsizes; i++) {
		if (bn->sizes[i] % word_unit) {
			if (bn->sizes[i] % bn->frame)
				fprintf(stderr,
					"%s: block size %llu is not a multiple of the %zu-byte "
					"frame: use --sizes that are multiples of %zu\n",
					prog, bn->sizes[i], bn->frame, word_unit);
			else
				fprintf(stderr,
					"%s: block size %llu is not a whole number of the DMA's "
					"%zu-byte words (length_align_bytes), which DMABUF needs: "
					"use "
					"--sizes that are multiples of %zu\n",
					prog, bn->sizes[i], word, word_unit);
			ret = 1;
			goto out;
		}
	}
	/*
	 * The count sweep's 1M is not the user's choice: rounded down to what
	 * the device takes instead of refusing, and said here and in the table.
	 */
	if (count_sweep_planned(bn) && bn->count_sweep_size % word_unit) {
		unsigned long long r = bn->count_sweep_size / word_unit * word_unit;

		bn->count_sweep_size = r ? r : word_unit;
		fprintf(stderr,
			"%s: the count sweep uses %llu-byte blocks: 1M rounded down to whole "
			"%zu-byte "
			"frames%s\n",
			prog, bn->count_sweep_size, bn->frame, word > 1 ? " and DMA words" : "");
	}
	has_mode = izc_device_attr_read(dev, "dma_mode", old_mode, sizeof(old_mode)) >= 0;
	if (!has_mode) {
		fprintf(stderr,
			"%s: %s has no dma_mode attribute: measuring it as it is (shown as "
			"'touch')\n",
			prog, izc_device_id(dev));
		bn->modes = 1u << MODE_TOUCH;
	}
	ret = set_attr(dev, "sampling_frequency", "0", old_freq, sizeof(old_freq));
	if (ret == -ENOENT) {
		fprintf(stderr, "%s: no sampling_frequency: the device runs at its own rate\n",
			prog);
		ret = 0;
	}
	if (ret)
		goto out;
	snprintf(bn->devdesc, sizeof(bn->devdesc), "%s (%s), %zu-byte frames, unpaced",
		 izc_device_name(dev), izc_device_id(dev), bn->frame);
	plan_cases(bn);
	for (unsigned int i = 0; i < bn->nresults; i++) {
		struct result *c = &bn->results[i];

		if (has_mode && (i == 0 || c->mode != bn->results[i - 1].mode)) {
			ret = set_attr(dev, "dma_mode", mode_names[c->mode], NULL, 0);
			if (ret)
				break;
		}
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "\r%s: case %u/%u (%s %s %lluK x %u), %.0f s   ", prog,
				i + 1, bn->nresults, mode_names[c->mode], access_names[c->access],
				c->block_size >> 10, c->blocks, tool_now() - t0);
		run_case(bn, dev, bi, c);
		if (atomic_load(&bn->sig.stop)) {
			/* The interrupted case and those after it are not reported. */
			bn->nresults = i;
			fprintf(stderr, "%s: interrupted: %u of the planned cases measured\n", prog,
				i);
			ret = -ECANCELED;
			break;
		}
		done++;
	}
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r%s: %u cases in %.0f s%30s\n", prog, done, tool_now() - t0, "");
	if (has_mode && *old_mode)
		set_attr(dev, "dma_mode", old_mode, NULL, 0);
	if (*old_freq)
		set_attr(dev, "sampling_frequency", old_freq, NULL, 0);
out:
	izc_context_close(ctx);
	return ret;
}

/* ---- reporting ---- */

static double ratio(double a, double b)
{
	return a > 0 && b > 0 ? a / b : NAN;
}

static void fmt_num(char *buf, size_t len, double v, int prec)
{
	if (v < 0 || !isfinite(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", prec, v);
}

static void print_table(const struct bench *bn, FILE *f)
{
	char max_s[16];

	fmt_num(max_s, sizeof(max_s), bn->max_seconds, 1);
	fprintf(f, "izc-bench: %s\n", bn->devdesc);
	fprintf(f, "kernel: %s; machine: %s; date: %s\n", bn->kernel,
		bn->machine ? bn->machine : bn->cpu, bn->date);
	fprintf(f,
		"method: both backends get the same target bytes per case (bytes); a run stops "
		"early after %s s (MiB measd: fewest of the runs, fileio/DMABUF); one warm-up "
		"pass over all blocks, a restart, the clock from its first completion; %u rep%s "
		"(median); backends alternated\n",
		isnan(bn->max_seconds) ? "?" : max_s, bn->reps, bn->reps > 1 ? "s" : "");
	if (bn->count_sweep_size != 1 << 20)
		fprintf(f,
			"count sweep: %llu-byte blocks (1M rounded down to whole frames and DMA "
			"words)\n",
			bn->count_sweep_size);
	fprintf(f, "access: api = get and give back each block (fileio: read() copy; DMABUF: no "
		   "CPU access); sum = api + 64-bit sum of every byte (DMABUF: inside SYNC "
		   "begin/end)\n\n");
	fprintf(f, "%-5s %-6s %6s %6s %6s %11s | %12s %12s %8s | %10s %10s %9s\n", "DMA", "access",
		"block", "blocks", "bytes", "MiB measd", "fileio MiB/s", "DMABUF MiB/s", "speed x",
		"fileio CPU", "DMABUF CPU", "CPU ratio");
	fprintf(f, "%-5s %-6s %6s %6s %6s %11s | %12s %12s %8s | %10s %10s %9s\n", "", "", "", "",
		"", "fio/DMA", "", "", "DMA/fio", "s/GiB", "s/GiB", "DMA/fio");
	for (unsigned int i = 0; i < bn->nresults; i++) {
		const struct result *c = &bn->results[i];
		char bs[16], by[16], m0[16], m1[16], r0[16], c0[16], c1[16], r1[16], md[32];

		tool_format_size(c->block_size, bs, sizeof(bs));
		tool_format_size(c->bytes, by, sizeof(by));
		fmt_num(m0, sizeof(m0), c->mib_s[BE_FILEIO], 1);
		fmt_num(m1, sizeof(m1), c->mib_s[BE_DMABUF], 1);
		fmt_num(r0, sizeof(r0), ratio(c->mib_s[BE_DMABUF], c->mib_s[BE_FILEIO]), 2);
		fmt_num(c0, sizeof(c0), c->cpu_s_gib[BE_FILEIO], 3);
		fmt_num(c1, sizeof(c1), c->cpu_s_gib[BE_DMABUF], 3);
		fmt_num(r1, sizeof(r1), ratio(c->cpu_s_gib[BE_DMABUF], c->cpu_s_gib[BE_FILEIO]), 3);
		snprintf(md, sizeof(md), "%llu/%llu", c->measured[BE_FILEIO] >> 20,
			 c->measured[BE_DMABUF] >> 20);
		fprintf(f, "%-5s %-6s %6s %6u %6s %11s | %12s %12s %8s | %10s %10s %9s\n",
			mode_names[c->mode], access_names[c->access], bs, c->blocks, by, md, m0, m1,
			r0, c0, c1, r1);
		for (int be = 0; be < NBE; be++)
			if (c->err[be])
				fprintf(f, "      %s failed: %s\n", be ? "DMABUF" : "fileio",
					strerror(-c->err[be]));
	}
}

static const struct result *find_case(const struct bench *bn, unsigned int mode,
				      unsigned int access, unsigned long long bs,
				      unsigned int blocks)
{
	for (unsigned int i = 0; i < bn->nresults; i++) {
		const struct result *c = &bn->results[i];

		if (c->mode == mode && c->access == access && c->block_size == bs &&
		    c->blocks == blocks)
			return c;
	}
	return NULL;
}

/*
 * A target over every case cannot pass when a case has no ratio (a backend
 * failed in it): printed after the verdict.
 */
static void print_unmeasured(FILE *f, unsigned int n)
{
	if (n)
		fprintf(f,
			"        (%u case%s without a result for both backends count as missed)\n",
			n, n > 1 ? "s" : "");
}

static void print_cpu_target(const struct bench *bn, FILE *f, unsigned int access)
{
	const struct result *worst = NULL;
	unsigned int unmeasured = 0;
	double wr = 0;
	char bs[16];

	for (unsigned int i = 0; i < bn->nresults; i++) {
		const struct result *c = &bn->results[i];
		double r = ratio(c->cpu_s_gib[BE_DMABUF], c->cpu_s_gib[BE_FILEIO]);

		if (c->mode != MODE_TOUCH || c->access != access)
			continue;
		if (isnan(r)) {
			unmeasured++;
			continue;
		}
		if (!worst || r > wr) {
			worst = c;
			wr = r;
		}
	}
	if (!worst) {
		fprintf(f, "  n/a   touch DMA, reader CPU per GiB (%s): not measured\n",
			access_names[access]);
		return;
	}
	tool_format_size(worst->block_size, bs, sizeof(bs));
	fprintf(f,
		"  %-5s touch DMA, reader %s: DMABUF CPU/GiB <= 1/2 of fileio at every block "
		"size and count: worst %.3f (%.3f vs %.3f s/GiB at %s x %u)\n",
		wr <= 0.5 && !unmeasured ? "PASS" : "MISS",
		access == ACCESS_API ? "getting the data (api)" : "with a checksum (sum)", wr,
		worst->cpu_s_gib[BE_DMABUF], worst->cpu_s_gib[BE_FILEIO], bs, worst->blocks);
	print_unmeasured(f, unmeasured);
}

static void print_targets(const struct bench *bn, FILE *f)
{
	const struct result *c = find_case(bn, MODE_NULL, ACCESS_API, 1 << 20, 4), *worst = NULL;
	unsigned int unmeasured = 0;
	double wr = 0;

	fprintf(f, "\nTargets (capture-path issue; results, not tests):\n");
	if (!c)
		c = find_case(bn, MODE_NULL, ACCESS_API, 1 << 20, bn->default_count);
	if (!c)
		c = find_case(bn, MODE_NULL, ACCESS_API, bn->count_sweep_size, 4);
	if (c && !isnan(ratio(c->mib_s[BE_DMABUF], c->mib_s[BE_FILEIO]))) {
		double r = ratio(c->mib_s[BE_DMABUF], c->mib_s[BE_FILEIO]);
		char bs[16];

		tool_format_size(c->block_size, bs, sizeof(bs));
		fprintf(f,
			"  %-5s null DMA, %s blocks x %u: DMABUF %.1f MiB/s vs fileio %.1f MiB/s = "
			"%.2fx (target >= 4x)\n",
			r >= 4 ? "PASS" : "MISS", bs, c->blocks, c->mib_s[BE_DMABUF],
			c->mib_s[BE_FILEIO], r);
	} else {
		fprintf(f, "  n/a   null DMA, 1M blocks: not measured\n");
	}
	print_cpu_target(bn, f, ACCESS_API);
	print_cpu_target(bn, f, ACCESS_SUM);
	for (unsigned int i = 0; i < bn->nresults; i++) {
		const struct result *x = &bn->results[i];
		double r = ratio(x->mib_s[BE_DMABUF], x->mib_s[BE_FILEIO]);

		if (isnan(r)) {
			unmeasured++;
		} else if (!worst || r < wr) {
			worst = x;
			wr = r;
		}
	}
	if (!worst) {
		fprintf(f, "  n/a   DMABUF never slower than fileio: not measured\n");
	} else {
		char bs[16];

		tool_format_size(worst->block_size, bs, sizeof(bs));
		fprintf(f,
			"  %-5s DMABUF never slower than fileio (every case): lowest speed ratio "
			"%.2fx at %s %s %s x %u\n",
			wr >= 1 && !unmeasured ? "PASS" : "MISS", wr, mode_names[worst->mode],
			access_names[worst->access], bs, worst->blocks);
		print_unmeasured(f, unmeasured);
	}
}

/* Not measured (< 0) or not finite: null, as JSON has no NaN or infinity. */
static void json_num(FILE *f, const char *key, double v, bool comma)
{
	if (v < 0 || !isfinite(v))
		fprintf(f, "\"%s\": null%s", key, comma ? ", " : "");
	else
		fprintf(f, "\"%s\": %.10g%s", key, v, comma ? ", " : "");
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629), 0 if there is none. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * "key": "text", with text escaped as JSON requires. UTF-8 passes through;
 * a byte that is not part of it (a Latin-1 --machine, a name cut short) is
 * written as \u00XX, which --from-json reads back as that byte.
 */
static void json_text(FILE *f, const char *key, const char *text)
{
	fprintf(f, "  \"%s\": \"", key);
	for (const unsigned char *p = (const unsigned char *)text; *p;) {
		size_t n = utf8_len(p);

		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || !n)
			fprintf(f, "\\u%04x", *p);
		else
			fwrite(p, 1, n, f);
		p += n ? n : 1;
	}
	fprintf(f, "\",\n");
}

static void write_json(const struct bench *bn, FILE *f)
{
	fprintf(f, "{\n");
	fprintf(f, "  \"tool\": \"izc-bench\",\n");
	json_text(f, "device", bn->devdesc);
	json_text(f, "kernel", bn->kernel);
	json_text(f, "machine", bn->machine ? bn->machine : bn->cpu);
	json_text(f, "date", bn->date);
	fprintf(f, "  \"reps\": %u,\n", bn->reps);
	fprintf(f, "  ");
	json_num(f, "max_seconds", bn->max_seconds, false);
	fprintf(f, ",\n");
	fprintf(f, "  \"units\": {\"throughput\": \"MiB/s\", \"cpu\": \"reader CPU seconds (user + "
		   "system) per GiB\"},\n");
	fprintf(f, "  \"cases\": [\n");
	for (unsigned int i = 0; i < bn->nresults; i++) {
		const struct result *c = &bn->results[i];

		fprintf(f,
			"    {\"mode\": \"%s\", \"access\": \"%s\", \"block_size\": %llu, "
			"\"blocks\": %u, \"bytes\": %llu, \"fileio_bytes_measured\": %llu, "
			"\"dmabuf_bytes_measured\": %llu, ",
			mode_names[c->mode], access_names[c->access], c->block_size, c->blocks,
			c->bytes, c->measured[BE_FILEIO], c->measured[BE_DMABUF]);
		json_num(f, "fileio_mib_s", c->mib_s[BE_FILEIO], true);
		json_num(f, "dmabuf_mib_s", c->mib_s[BE_DMABUF], true);
		json_num(f, "fileio_cpu_s_per_gib", c->cpu_s_gib[BE_FILEIO], true);
		json_num(f, "dmabuf_cpu_s_per_gib", c->cpu_s_gib[BE_DMABUF], true);
		json_num(f, "speed_ratio", ratio(c->mib_s[BE_DMABUF], c->mib_s[BE_FILEIO]), true);
		json_num(f, "cpu_ratio", ratio(c->cpu_s_gib[BE_DMABUF], c->cpu_s_gib[BE_FILEIO]),
			 false);
		fprintf(f, "}%s\n", i + 1 < bn->nresults ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
}

static void json_string(const char *text, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	p = strstr(text, pat);
	if (!p)
		return;
	p += strlen(pat);
	/* Up to the closing quote, undoing json_text()'s escapes. */
	for (n = 0; *p && *p != '"' && n + 1 < len; p++) {
		unsigned int c;

		if (*p == '\\' && p[1] == 'u' && sscanf(p + 2, "%4x", &c) == 1) {
			out[n++] = (char)c;
			p += 5;
		} else if (*p == '\\' && p[1]) {
			out[n++] = *++p;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

/* A number of a case line; -1 (not measured) for null, a missing key or a non-finite value. */
static double json_value(const char *line, const char *key)
{
	char pat[64];
	const char *p;
	double v;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(line, pat);
	if (!p || !strncmp(p + strlen(pat), "null", 4))
		return -1;
	v = strtod(p + strlen(pat), NULL);
	return isfinite(v) ? v : -1;
}

/* A byte count of a case line: 0 when it is not a count (also -1 from json_value()). */
static unsigned long long json_count(const char *line, const char *key)
{
	double v = json_value(line, key);

	return v >= 0 && v < 0x1p64 ? (unsigned long long)v : 0;
}

/* Reads back what write_json() wrote (one case per line). */
static int read_json(struct bench *bn, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[1024], head[4096] = "";
	size_t hl = 0;

	if (!f) {
		fprintf(stderr, "%s: cannot open %s: %s\n", prog, path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		struct result *c;
		char mode[16], access[16];
		unsigned int m, a;

		if (!strstr(line, "\"mode\"")) {
			size_t n = strlen(line);

			if (hl + n < sizeof(head)) {
				memcpy(head + hl, line, n + 1);
				hl += n;
			}
			continue;
		}
		if (bn->nresults == MAX_CASES)
			break;
		c = &bn->results[bn->nresults];
		memset(c, 0, sizeof(*c));
		if (sscanf(line,
			   " {\"mode\": \"%15[^\"]\", \"access\": \"%15[^\"]\", \"block_size\": "
			   "%llu, \"blocks\": %u, \"bytes\": %llu",
			   mode, access, &c->block_size, &c->blocks, &c->bytes) != 5)
			continue;
		for (m = 0; m < NMODES && strcmp(mode, mode_names[m]); m++)
			;
		for (a = 0; a < NACCESS && strcmp(access, access_names[a]); a++)
			;
		if (m == NMODES || a == NACCESS)
			continue;
		c->mode = m;
		c->access = a;
		c->mib_s[BE_FILEIO] = json_value(line, "fileio_mib_s");
		c->mib_s[BE_DMABUF] = json_value(line, "dmabuf_mib_s");
		c->cpu_s_gib[BE_FILEIO] = json_value(line, "fileio_cpu_s_per_gib");
		c->cpu_s_gib[BE_DMABUF] = json_value(line, "dmabuf_cpu_s_per_gib");
		c->measured[BE_FILEIO] = json_count(line, "fileio_bytes_measured");
		c->measured[BE_DMABUF] = json_count(line, "dmabuf_bytes_measured");
		bn->nresults++;
	}
	fclose(f);
	json_string(head, "device", bn->devdesc, sizeof(bn->devdesc));
	json_string(head, "kernel", bn->kernel, sizeof(bn->kernel));
	json_string(head, "machine", bn->cpu, sizeof(bn->cpu));
	json_string(head, "date", bn->date, sizeof(bn->date));
	{
		const char *r = strstr(head, "\"reps\": ");

		bn->reps = r ? (unsigned int)atoi(r + 8) : 1;
		r = strstr(head, "\"max_seconds\": ");
		/* Unknown (missing, null or not a finite time): NAN, '?' in the table. */
		bn->max_seconds = r ? strtod(r + 15, NULL) : NAN;
		if (!(bn->max_seconds > 0) || !isfinite(bn->max_seconds))
			bn->max_seconds = NAN;
	}
	if (!bn->nresults) {
		fprintf(stderr, "%s: no cases in %s\n", prog, path);
		return -EINVAL;
	}
	return 0;
}

/* ---- plot ---- */

static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL;
	bool found = false;

	if (!path)
		return false;
	copy = strdup(path);
	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		char full[4096];

		snprintf(full, sizeof(full), "%s/%s", d, name);
		found = !access(full, X_OK);
	}
	free(copy);
	return found;
}

/* Columns of a datablock row: 1 block size, then these. */
enum {
	COL_FILEIO_MIB = 2,
	COL_DMABUF_MIB,
	COL_FILEIO_CPU,
	COL_DMABUF_CPU,
};

static double column(const struct result *c, int col)
{
	switch (col) {
	case COL_FILEIO_MIB:
		return c->mib_s[BE_FILEIO];
	case COL_DMABUF_MIB:
		return c->mib_s[BE_DMABUF];
	case COL_FILEIO_CPU:
		return c->cpu_s_gib[BE_FILEIO];
	default:
		return c->cpu_s_gib[BE_DMABUF];
	}
}

/* What a log-scale axis can show: failed (-1), zero and NaN values cannot. */
static bool plottable(double v)
{
	return v > 0 && isfinite(v);
}

/* One gnuplot datablock per (mode, access) at the size sweep's block count. */
static void plot_data(const struct bench *bn, FILE *g, unsigned int mode, unsigned int access,
		      unsigned int blocks)
{
	fprintf(g, "$%s_%s << EOD\n", mode_names[mode], access_names[access]);
	for (unsigned int i = 0; i < bn->nresults; i++) {
		const struct result *c = &bn->results[i];

		if (c->mode != mode || c->access != access || c->blocks != blocks)
			continue;
		fprintf(g, "%llu", c->block_size);
		/* NaN: gnuplot leaves the point out (a -1 would make a ratio of 1). */
		for (int col = COL_FILEIO_MIB; col <= COL_DMABUF_CPU; col++)
			if (plottable(column(c, col)))
				fprintf(g, " %.10g", column(c, col));
			else
				fprintf(g, " NaN");
		fputc('\n', g);
	}
	fprintf(g, "EOD\n");
}

/*
 * Whether the series num (divided by den, when den is not 0) of (mode,
 * access) has a point: gnuplot fails a plot command in which no point is
 * defined ("all points y value undefined!"), so a series or panel without
 * one is left out.
 */
static bool series_ok(const struct bench *bn, unsigned int mode, unsigned int access,
		      unsigned int blocks, int num, int den)
{
	for (unsigned int i = 0; i < bn->nresults; i++) {
		const struct result *c = &bn->results[i];

		if (c->mode == mode && c->access == access && c->blocks == blocks &&
		    plottable(column(c, num)) && (!den || plottable(column(c, den))))
			return true;
	}
	return false;
}

/* text as the body of a gnuplot '...' string, where a quote is written twice */
static void gp_single(FILE *g, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '\'')
			fputc('\'', g);
		fputc(*p, g);
	}
}

/*
 * text as the body of a gnuplot "..." string: \ and " escaped; a control
 * character would end the command line, so it becomes a space.
 */
static void gp_double(FILE *g, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', g);
		fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, g);
	}
}

/*
 * One "$mode_access using 1:expr ... title '...'" term of a plot command,
 * if the series has a point (column @num, over @den unless 0). The title is
 * "@what, access", or "@what, mode, access" with @with_mode.
 */
static void plot_term(FILE *g, const char **sep, const struct bench *bn, unsigned int blocks,
		      unsigned int m, unsigned int a, int num, int den, const char *expr,
		      const char *style, const char *what, bool with_mode)
{
	if (!series_ok(bn, m, a, blocks, num, den))
		return;
	fprintf(g, "%s$%s_%s using 1:%s with linespoints lw 2%s title '%s, ", *sep, mode_names[m],
		access_names[a], expr, style, what);
	if (with_mode)
		fprintf(g, "%s, ", mode_names[m]);
	fprintf(g, "%s'", access_names[a]);
	*sep = ", ";
}

static int plot(const struct bench *bn, const char *file)
{
	unsigned int blocks, panels = 0, throughput = 0;
	bool cpu = false, ratios = false;
	const char *sep;
	FILE *g;
	int status;

	if (!bn->nresults) {
		fprintf(stderr, "%s: no case measured, nothing to plot\n", prog);
		return -EINVAL;
	}
	blocks = bn->results[0].blocks;
	/* Only panels with a point: any subset of modes, accesses and failures plots. */
	for (unsigned int m = 0; m < NMODES; m++)
		for (unsigned int a = 0; a < NACCESS; a++) {
			if (series_ok(bn, m, a, blocks, COL_FILEIO_MIB, 0) ||
			    series_ok(bn, m, a, blocks, COL_DMABUF_MIB, 0))
				throughput |= 1u << m;
			cpu = cpu || series_ok(bn, m, a, blocks, COL_FILEIO_CPU, 0) ||
			      series_ok(bn, m, a, blocks, COL_DMABUF_CPU, 0);
			ratios = ratios ||
				 series_ok(bn, m, a, blocks, COL_DMABUF_MIB, COL_FILEIO_MIB) ||
				 (m == MODE_TOUCH &&
				  series_ok(bn, m, a, blocks, COL_DMABUF_CPU, COL_FILEIO_CPU));
		}
	panels = (unsigned int)__builtin_popcount(throughput) + cpu + ratios;
	if (!panels) {
		fprintf(stderr,
			"%s: no case at %u blocks has a result for either backend, nothing to "
			"plot\n",
			prog, blocks);
		return -EINVAL;
	}
	if (!in_path("gnuplot")) {
		fprintf(stderr,
			"%s: gnuplot not found in PATH; install it (Debian: apt install "
			"gnuplot-nox) or save --json and plot elsewhere with --from-json\n",
			prog);
		return -ENOENT;
	}
	g = popen("gnuplot", "w");
	if (!g) {
		fprintf(stderr, "%s: cannot run gnuplot: %s\n", prog, strerror(errno));
		return -errno;
	}
	for (unsigned int m = 0; m < NMODES; m++)
		for (unsigned int a = 0; a < NACCESS; a++)
			plot_data(bn, g, m, a, blocks);
	fprintf(g, "set terminal pngcairo noenhanced size %u,%u font 'sans,10'\n",
		panels > 1 ? 1400u : 700u, (panels + 1) / 2 * 500);
	fprintf(g, "set output '");
	gp_single(g, file);
	fprintf(g,
		"'\nset multiplot layout %u,%u title \"izc-bench: fileio vs DMABUF capture, %u "
		"blocks; ",
		(panels + 1) / 2, panels > 1 ? 2u : 1u, blocks);
	gp_double(g, bn->kernel);
	fprintf(g, "; ");
	gp_double(g, bn->machine ? bn->machine : bn->cpu);
	fprintf(g, "; ");
	gp_double(g, bn->date);
	fprintf(g, "\"\n");
	fprintf(g, "set logscale x 2\nset grid\nset key top left\nset xlabel 'block size'\nset "
		   "offsets graph 0.03, graph 0.03, 0, 0\n");
	fprintf(g, "set xtics (");
	sep = "";
	for (unsigned int i = 0; i < bn->nresults; i++) {
		const struct result *c = &bn->results[i];
		char bs[16];

		if (c->mode != bn->results[0].mode || c->access != bn->results[0].access ||
		    c->blocks != blocks)
			continue;
		tool_format_size(c->block_size, bs, sizeof(bs));
		fprintf(g, "%s\"%s\" %llu", sep, bs, c->block_size);
		sep = ", ";
	}
	fprintf(g, ")\n");
	fprintf(g, "set logscale y\nset ylabel 'MiB/s'\n");
	for (unsigned int m = 0; m < NMODES; m++) {
		if (!(throughput & (1u << m)))
			continue;
		fprintf(g, "set title 'Throughput, %s DMA%s'\nplot ", mode_names[m],
			m == MODE_NULL ? " (DMA costs no CPU)" : " (DMA writes every sample)");
		sep = "";
		for (unsigned int a = 0; a < NACCESS; a++) {
			plot_term(g, &sep, bn, blocks, m, a, COL_FILEIO_MIB, 0, "2", "", "fileio",
				  false);
			plot_term(g, &sep, bn, blocks, m, a, COL_DMABUF_MIB, 0, "3", "", "DMABUF",
				  false);
		}
		fprintf(g, "\n");
	}
	if (cpu) {
		fprintf(g, "set title 'Reader CPU per GiB'\nset ylabel 'CPU s/GiB (user + "
			   "system)'\nplot ");
		sep = "";
		for (unsigned int m = 0; m < NMODES; m++)
			for (unsigned int a = 0; a < NACCESS; a++) {
				plot_term(g, &sep, bn, blocks, m, a, COL_FILEIO_CPU, 0, "4", "",
					  "fileio", true);
				plot_term(g, &sep, bn, blocks, m, a, COL_DMABUF_CPU, 0, "5", "",
					  "DMABUF", true);
			}
		fprintf(g, "\n");
	}
	if (ratios) {
		fprintf(g, "set title 'DMABUF / fileio (speed: higher is better; CPU: lower is "
			   "better)'\nset ylabel 'ratio'\n");
		/* The target lines span the x range the data series give the panel. */
		fprintf(g, "plot 4 with lines dt 2 lc 'gray' title 'speed target 4x (null, 1M)', "
			   "0.5 with lines dt 3 lc 'gray' title 'CPU target 1/2 (touch)', 1 with "
			   "lines lc 'black' notitle");
		sep = ", ";
		for (unsigned int m = 0; m < NMODES; m++)
			for (unsigned int a = 0; a < NACCESS; a++) {
				plot_term(g, &sep, bn, blocks, m, a, COL_DMABUF_MIB, COL_FILEIO_MIB,
					  "($3/$2)", "", "speed", true);
				if (m == MODE_TOUCH)
					plot_term(g, &sep, bn, blocks, m, a, COL_DMABUF_CPU,
						  COL_FILEIO_CPU, "($5/$4)", " dt 4", "CPU", true);
			}
		fprintf(g, "\n");
	}
	fprintf(g, "unset multiplot\n");
	status = pclose(g);
	if (status) {
		fprintf(stderr, "%s: gnuplot failed (status %d)\n", prog, status);
		return -EIO;
	}
	return 0;
}

static int bench_main(int argc, char **argv, struct bench *bn);

/*
 * Flush f (and close it unless it is stdout); a write that failed on the
 * way (ENOSPC, EPIPE, EIO) is said. Returns 0 or -EIO.
 */
static int finish_output(FILE *f, const char *name)
{
	bool failed = ferror(f);
	int err = 0;

	if (fflush(f))
		err = errno;
	if (f != stdout && fclose(f) && !err)
		err = errno;
	if (!failed && !err)
		return 0;
	fprintf(stderr,
		"%s: cannot write the results to %s: %s; free some space or keep its reader "
		"open, and run again\n",
		prog, name, err ? strerror(err) : "write error");
	return -EIO;
}

int main(int argc, char **argv)
{
	struct bench *bn = calloc(1, sizeof(*bn));
	int ret;

	if (!bn) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_ERROR;
	}
	ret = bench_main(argc, argv, bn);
	free(bn);
	return ret;
}

static int bench_main(int argc, char **argv, struct bench *bn)
{
	int ret, status = EXIT_OK;
	FILE *jf = NULL;
	bool json_stdout;

	bn->default_count = 4;
	bn->count_sweep_size = 1 << 20;
	bn->modes = (1u << MODE_NULL) | (1u << MODE_TOUCH);
	bn->access[MODE_NULL] = 1u << ACCESS_API;
	bn->access[MODE_TOUCH] = (1u << ACCESS_API) | (1u << ACCESS_SUM);
	bn->reps = 3;
	bn->max_seconds = 1.5;
	bn->device = "izc-sim-adc";
	{
		static const unsigned long long sizes[] = {4 << 10, 16 << 10, 64 << 10, 256 << 10,
							   1 << 20, 4 << 20,  16 << 20, 64 << 20};
		static const unsigned long long counts[] = {2, 4, 8, 16};

		memcpy(bn->sizes, sizes, sizeof(sizes));
		bn->nsizes = 8;
		memcpy(bn->counts, counts, sizeof(counts));
		bn->ncounts = 4;
	}
	ret = parse_args(argc, argv, bn);
	if (ret)
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	json_stdout = bn->json && !strcmp(bn->json, "-");
	if (bn->from_json) {
		ret = read_json(bn, bn->from_json);
		if (ret)
			return EXIT_ERROR;
	}
	/*
	 * A path that cannot be written fails now, not after a run of minutes;
	 * after read_json(), so that --json=FILE may rewrite the --from-json FILE.
	 */
	if (bn->json && !json_stdout) {
		/* Not truncated yet: a run that fails leaves an old FILE as it was. */
		int fd = open(bn->json, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		jf = fd < 0 ? NULL : fdopen(fd, "w");
		if (fd >= 0 && !jf)
			close(fd);
		if (!jf) {
			fprintf(stderr, "%s: cannot create %s: %s; give --json a writable path\n",
				prog, bn->json, strerror(errno));
			return EXIT_USAGE;
		}
	}
	if (!bn->from_json) {
		describe_machine(bn);
		/*
		 * A reader of stderr gone (tee after Ctrl-C) must not kill the run
		 * before it puts dma_mode and sampling_frequency back.
		 */
		signal(SIGPIPE, SIG_IGN);
		ret = tool_signals_start(&bn->sig);
		if (ret) {
			fprintf(stderr, "%s: cannot set up signal handling: %s\n", prog,
				strerror(-ret));
			status = EXIT_ERROR;
			goto out;
		}
		ret = run_all(bn);
		tool_signals_finish(&bn->sig);
		if (ret > 0) {
			status = EXIT_USAGE; /* a bad -c or --sizes, said */
			goto out;
		}
		/* Interrupted: what was measured is still reported, the exit says so. */
		if (ret && ret != -ECANCELED) {
			status = EXIT_ERROR;
			goto out;
		}
		if (ret == -ECANCELED)
			status = EXIT_ERROR;
	}
	if (!json_stdout) {
		print_table(bn, stdout);
		print_targets(bn, stdout);
	}
	/* EINVAL: not a regular file (/dev/stdout, a FIFO), nothing to cut. */
	if (jf && ftruncate(fileno(jf), 0) && errno != EINVAL) {
		fprintf(stderr, "%s: cannot truncate %s: %s\n", prog, bn->json, strerror(errno));
		status = EXIT_ERROR;
		goto out;
	}
	if (bn->json)
		write_json(bn, json_stdout ? stdout : jf);
	if (jf) {
		if (finish_output(jf, bn->json))
			status = EXIT_ERROR;
		jf = NULL;
	}
	/* A full disk or a closed pipe must not pass for a report. */
	if (finish_output(stdout, "stdout"))
		status = EXIT_ERROR;
	if (bn->checksum_sink == 1)
		fprintf(stderr, "%s: checksum %llu\n", prog,
			bn->checksum_sink); /* keeps the sums */
	if (bn->plot && plot(bn, bn->plot))
		status = EXIT_ERROR;
out:
	if (jf)
		fclose(jf);
	return status;
}
