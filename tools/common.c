// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Shared parts of the izc-* tools; see common.h.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

int tool_parse_ull(const char *s, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int tool_parse_size(const char *s, unsigned long long *out)
{
	static const struct {
		const char *suffix;
		unsigned int shift;
	} units[] = {
		{"", 0},    {"B", 0},	 {"K", 10}, {"KB", 10}, {"KIB", 10}, {"M", 20},
		{"MB", 20}, {"MIB", 20}, {"G", 30}, {"GB", 30}, {"GIB", 30},
	};
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].suffix))
			continue;
		if (units[i].shift && v > (~0ULL >> units[i].shift))
			return -EINVAL;
		*out = v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

void tool_format_size(unsigned long long bytes, char *buf, size_t len)
{
	if (bytes && !(bytes % (1ULL << 30)))
		snprintf(buf, len, "%lluG", bytes >> 30);
	else if (bytes && !(bytes % (1ULL << 20)))
		snprintf(buf, len, "%lluM", bytes >> 20);
	else if (bytes && !(bytes % (1ULL << 10)))
		snprintf(buf, len, "%lluK", bytes >> 10);
	else
		snprintf(buf, len, "%llu", bytes);
}

int tool_stream_option(int opt, const char *arg, struct tool_stream_args *a)
{
	switch (opt) {
	case 'd':
		a->device = arg;
		return 1;
	case 'c':
		a->channels = arg;
		return 1;
	case 's':
		return tool_parse_size(arg, &a->samples) ? -EINVAL : 1;
	case 'b':
		if (tool_parse_size(arg, &a->block_size) || !a->block_size)
			return -EINVAL;
		return 1;
	case 'n':
		if (tool_parse_ull(arg, &a->blocks) || !a->blocks || a->blocks > 4096)
			return -EINVAL;
		return 1;
	case 'f':
		if (tool_parse_ull(arg, &a->frequency))
			return -EINVAL;
		a->set_frequency = true;
		return 1;
	case OPT_FILEIO:
	case OPT_DMABUF:
	case OPT_UDMABUF:
		a->flags = tool_backend_flags(opt);
		return 1;
	default:
		return 0;
	}
}

static int buffer_of_direction(const struct izc_device *dev, enum izc_direction dir,
			       unsigned int *index)
{
	for (unsigned int i = 0; i < izc_device_buffer_count(dev); i++) {
		struct izc_buffer *buf;

		if (izc_device_get_buffer(dev, i, &buf))
			continue;
		if (izc_buffer_direction(buf) == dir && izc_buffer_channel_count(buf)) {
			*index = i;
			return 0;
		}
	}
	return -ENODEV;
}

int tool_find_device(const char *prog, const struct izc_context *ctx, const char *name,
		     enum izc_direction dir, struct izc_device **dev, unsigned int *buffer_index)
{
	const char *what = dir == IZC_DIR_IN ? "input" : "output";
	struct izc_device *d;
	int ret;

	if (!name) {
		for (unsigned int i = 0; i < izc_context_device_count(ctx); i++) {
			if (izc_context_get_device(ctx, i, &d))
				continue;
			if (!buffer_of_direction(d, dir, buffer_index)) {
				*dev = d;
				return 0;
			}
		}
		fprintf(stderr,
			"%s: no IIO device with an %s buffer found; load the driver (e.g. "
			"izc_sim_adc) and try izc-info to list devices\n",
			prog, what);
		return -ENODEV;
	}
	ret = izc_context_find_device(ctx, name, &d);
	if (ret) {
		fprintf(stderr, "%s: device '%s' not found; try izc-info to list devices\n", prog,
			name);
		return ret;
	}
	if (buffer_of_direction(d, dir, buffer_index)) {
		fprintf(stderr,
			"%s: device '%s' (%s) has no %s buffer with channels; try izc-info to see "
			"its buffers\n",
			prog, name, izc_device_id(d), what);
		return -ENODEV;
	}
	*dev = d;
	return 0;
}

int tool_open_device(const char *prog, const char *name, enum izc_direction dir,
		     struct izc_context **ctx, struct izc_device **dev, unsigned int *buffer_index,
		     struct izc_buffer **buf)
{
	int ret = izc_context_open(NULL, NULL, ctx);

	if (ret) {
		fprintf(stderr, "%s: cannot read /sys/bus/iio/devices: %s\n", prog, strerror(-ret));
		return ret;
	}
	ret = tool_find_device(prog, *ctx, name, dir, dev, buffer_index);
	if (ret) {
		izc_context_close(*ctx);
		*ctx = NULL;
		return ret;
	}
	izc_device_get_buffer(*dev, *buffer_index, buf);
	return 0;
}

static int channel_bit(const char *prog, const struct izc_buffer *buf, const char *item,
		       uint64_t *mask)
{
	unsigned long long lo, hi;
	struct izc_channel *ch;
	const char *dash = strchr(item, '-');

	if (isdigit((unsigned char)*item)) {
		char first[32];

		if (dash) {
			size_t n = (size_t)(dash - item);

			if (n >= sizeof(first))
				goto bad;
			memcpy(first, item, n);
			first[n] = '\0';
			if (tool_parse_ull(first, &lo) || tool_parse_ull(dash + 1, &hi))
				goto bad;
		} else if (tool_parse_ull(item, &lo)) {
			goto bad;
		} else {
			hi = lo;
		}
		if (lo > hi || hi > 63)
			goto bad;
		for (unsigned long long i = lo; i <= hi; i++)
			*mask |= 1ULL << i;
		return 0;
	}
	if (izc_buffer_find_channel(buf, item, &ch)) {
		fprintf(stderr, "%s: no channel '%s' in this buffer; izc-info lists the channels\n",
			prog, item);
		return -EINVAL;
	}
	*mask |= 1ULL << izc_channel_scan_index(ch);
	return 0;
bad:
	fprintf(stderr,
		"%s: bad channel '%s': use indices (0,2-3), ids (voltage0) or a mask (0x5)\n", prog,
		item);
	return -EINVAL;
}

int tool_parse_channels(const char *prog, const struct izc_buffer *buf, const char *spec,
			uint64_t *mask)
{
	char *copy, *save = NULL;
	uint64_t m = 0;
	int ret = 0;

	if (!strcmp(spec, "all")) {
		for (unsigned int i = 0; i < izc_buffer_channel_count(buf); i++) {
			struct izc_channel *ch;

			if (!izc_buffer_get_channel(buf, i, &ch) && izc_channel_scan_index(ch) < 64)
				m |= 1ULL << izc_channel_scan_index(ch);
		}
		*mask = m;
		return 0;
	}
	if (!strncasecmp(spec, "0x", 2)) {
		unsigned long long v;

		if (tool_parse_ull(spec, &v) || !v) {
			fprintf(stderr, "%s: bad channel mask '%s'\n", prog, spec);
			return -EINVAL;
		}
		*mask = v;
		return 0;
	}
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	for (char *item = strtok_r(copy, ",", &save); item && !ret;
	     item = strtok_r(NULL, ",", &save))
		ret = channel_bit(prog, buf, item, &m);
	free(copy);
	if (!ret && !m) {
		fprintf(stderr, "%s: empty channel list '%s'\n", prog, spec);
		ret = -EINVAL;
	}
	if (!ret)
		*mask = m;
	return ret;
}

/* A usage error naming the first scan index in mask that no channel has. */
static int check_mask(const char *prog, const struct izc_buffer *buf, uint64_t mask)
{
	uint64_t known = 0;

	for (unsigned int i = 0; i < izc_buffer_channel_count(buf); i++) {
		struct izc_channel *ch;

		if (!izc_buffer_get_channel(buf, i, &ch) && izc_channel_scan_index(ch) < 64)
			known |= 1ULL << izc_channel_scan_index(ch);
	}
	if (!(mask & ~known))
		return 0;
	fprintf(stderr,
		"%s: no channel with scan index %d in buffer%u of %s; izc-info lists the "
		"channels\n",
		prog, __builtin_ctzll(mask & ~known), izc_buffer_index(buf),
		izc_device_id(izc_buffer_device(buf)));
	return -EINVAL;
}

int tool_select_channels(const char *prog, const struct izc_device *dev, struct izc_buffer *buf,
			 const char *spec, size_t *frame)
{
	uint64_t mask;
	int ret;

	if (!spec)
		spec = "all";
	if (tool_parse_channels(prog, buf, spec, &mask) || check_mask(prog, buf, mask))
		return 1;
	ret = izc_buffer_set_scan_mask(buf, mask);
	if (ret) {
		fprintf(stderr, "%s: cannot enable channels %s: %s\n", prog, spec, strerror(-ret));
		return ret;
	}
	ret = izc_buffer_frame_size(buf, frame);
	if (ret)
		fprintf(stderr, "%s: no channel enabled on %s; use -c all\n", prog,
			izc_device_id(dev));
	return ret;
}

int tool_set_frequency(const char *prog, const struct izc_device *dev, unsigned long long hz)
{
	int ret = izc_device_attr_write_ll(dev, "sampling_frequency", (long long)hz);

	if (ret)
		fprintf(stderr, "%s: cannot set sampling_frequency %llu: %s\n", prog, hz,
			strerror(-ret));
	return ret;
}

unsigned int tool_backend_flags(int opt)
{
	switch (opt) {
	case OPT_FILEIO:
		return IZC_STREAM_FILEIO;
	case OPT_DMABUF:
		return IZC_STREAM_NO_FALLBACK;
	case OPT_UDMABUF:
		return IZC_STREAM_NO_FALLBACK | IZC_STREAM_UDMABUF;
	default:
		return 0;
	}
}

size_t tool_block_unit(const struct izc_buffer *buf, size_t frame, unsigned int flags, size_t *word)
{
	long long align;
	size_t a, b;

	*word = 1;
	if ((flags & IZC_STREAM_FILEIO) ||
	    izc_buffer_attr_read_ll(buf, "length_align_bytes", &align) || align <= 1 ||
	    (unsigned long long)align > SIZE_MAX / frame)
		return frame;
	*word = (size_t)align;
	for (a = frame, b = *word; b;) {
		size_t r = a % b;

		a = b;
		b = r;
	}
	return frame / a * *word;
}

int tool_block_size(const char *prog, const struct izc_buffer *buf, size_t frame,
		    unsigned int flags, unsigned long long requested, unsigned long long fallback,
		    size_t *bsize)
{
	size_t word, unit = tool_block_unit(buf, frame, flags, &word);
	unsigned long long bs = requested ? requested : fallback;
	unsigned long long fit = ((bs / unit) ? (bs / unit) : 1) * unit;

	if (requested && bs % frame) {
		fprintf(stderr,
			"%s: block size %llu is not a multiple of the frame size %zu; "
			"try -b %llu\n",
			prog, bs, frame, fit);
		return -EINVAL;
	}
	if (requested && bs % unit) {
		fprintf(stderr,
			"%s: block size %llu is not a whole number of the DMA's %zu-byte words "
			"(length_align_bytes), which DMABUF needs; try -b %llu, or --fileio\n",
			prog, bs, word, fit);
		return -EINVAL;
	}
	*bsize = (size_t)fit;
	return 0;
}

const char *tool_stream_error_hint(const struct izc_device *dev, int err)
{
	char node[64];

	switch (-err) {
	case EBUSY:
		return "the buffer is enabled or used by another program; stop it and retry";
	case EACCES:
	case EPERM:
		return "permission denied or no DMABUF support on this buffer; run as root, or "
		       "use --fileio";
	case ENOENT:
		/* The stream opens the device node first, then the allocator. */
		snprintf(node, sizeof(node), "/dev/%s", izc_device_id(dev));
		if (access(node, F_OK))
			return "its device node /dev/iio:deviceN is missing (no udev or mdev?); "
			       "create it with mknod from the major:minor in "
			       "/sys/bus/iio/devices/iio:deviceN/dev";
		return "no /dev/dma_heap/system or /dev/udmabuf; use --fileio, or the other "
		       "allocator";
	case ENOMEM:
		return "out of memory; use smaller or fewer blocks (-b, -n)";
	case EINVAL:
		return "the block size must be a multiple of the frame size (for DMABUF also of "
		       "the buffer's length_align_bytes) and the buffer must have enabled "
		       "channels";
	case ENOTTY:
		return "this kernel has no IIO DMABUF interface (Linux 6.11+); use --fileio";
	default:
		return "see izc-info for the device and its buffers";
	}
}

double tool_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *signal_thread(void *arg)
{
	struct tool_signals *sig = arg;

	for (;;) {
		int signo;

		if (sigwait(&sig->set, &signo))
			continue;
		if (atomic_load(&sig->finish))
			return NULL;
		if (signo == SIGUSR1)
			continue;
		atomic_store(&sig->stop, true);
		pthread_mutex_lock(&sig->lock);
		if (sig->stream)
			izc_stream_cancel(sig->stream);
		pthread_mutex_unlock(&sig->lock);
	}
}

void tool_stop_signals(sigset_t *set)
{
	struct sigaction old;

	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	/*
	 * A closed terminal must not kill a tool before it puts the device
	 * back; but under nohup (SIGHUP ignored) it must not stop it either, and
	 * a blocked signal is queued even when ignored, so that one stays out.
	 */
	if (sigaction(SIGHUP, NULL, &old) || old.sa_handler != SIG_IGN)
		sigaddset(set, SIGHUP);
}

int tool_signals_start(struct tool_signals *sig)
{
	int ret;

	atomic_init(&sig->stop, false);
	atomic_init(&sig->finish, false);
	sig->stream = NULL;
	pthread_mutex_init(&sig->lock, NULL);
	sig->running = false;
	tool_stop_signals(&sig->set);
	sigaddset(&sig->set, SIGUSR1);
	ret = pthread_sigmask(SIG_BLOCK, &sig->set, NULL);
	if (ret)
		return -ret;
	ret = pthread_create(&sig->thread, NULL, signal_thread, sig);
	if (ret)
		return -ret;
	sig->running = true;
	return 0;
}

void tool_signals_set_stream(struct tool_signals *sig, struct izc_stream *stream)
{
	pthread_mutex_lock(&sig->lock);
	sig->stream = stream;
	/* A signal that came before the stream existed still stops its first wait. */
	if (stream && atomic_load(&sig->stop))
		izc_stream_cancel(stream);
	pthread_mutex_unlock(&sig->lock);
}

void tool_signals_finish(struct tool_signals *sig)
{
	if (!sig->running)
		return;
	atomic_store(&sig->finish, true);
	pthread_kill(sig->thread, SIGUSR1);
	pthread_join(sig->thread, NULL);
	sig->running = false;
}
