/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared parts of the izc-* command-line tools: option values, device and
 * channel selection, plain-words errors, signal handling without globals.
 *
 * Exit codes of every tool: 0 ok, 1 runtime error, 2 usage error.
 */
#ifndef IZC_TOOLS_COMMON_H
#define IZC_TOOLS_COMMON_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "izc.h"

#define EXIT_OK	   0
#define EXIT_ERROR 1
#define EXIT_USAGE 2

/* Long options every streaming tool shares (values above any short option). */
enum {
	OPT_FILEIO = 0x100,
	OPT_DMABUF,
	OPT_UDMABUF,
	OPT_TOOL_FIRST, /* first value free for a tool's own options */
};

/*
 * What izc-capture and izc-generate take alike: the device and its
 * channels, frames, blocks, the sampling frequency and the backend.
 */
struct tool_stream_args {
	const char *device, *channels;
	unsigned long long block_size, blocks, samples, frequency;
	bool set_frequency;
	unsigned int flags; /* tool_backend_flags() */
};

/* Their short options; each tool lists the long ones in its own table. */
#define TOOL_STREAM_SHORT_OPTIONS "d:c:s:b:n:f:"

/*
 * Take option opt (a getopt_long() result) with value arg if it is one of
 * the above. Returns 1 when taken, 0 when it is not one of them, -EINVAL
 * for a bad value.
 */
int tool_stream_option(int opt, const char *arg, struct tool_stream_args *a);

/*
 * "4096", "4K", "4KiB", "1M", "64MiB", "1G", or hex "0x1000". Binary units.
 * Returns 0 or -EINVAL.
 */
int tool_parse_size(const char *s, unsigned long long *out);
/* A plain decimal or 0x-hex number. Returns 0 or -EINVAL. */
int tool_parse_ull(const char *s, unsigned long long *out);
/* "1M" style for a byte count: exact binary units when they fit, else bytes. */
void tool_format_size(unsigned long long bytes, char *buf, size_t len);

/*
 * Find a device by NAME, LABEL or iio:deviceN with a buffer of direction dir;
 * name NULL: the first device that has one. Prints what to do on failure.
 * Returns 0, -ENODEV (none), or another negative errno.
 */
int tool_find_device(const char *prog, const struct izc_context *ctx, const char *name,
		     enum izc_direction dir, struct izc_device **dev, unsigned int *buffer_index);

/*
 * Open the IIO context and find the device as tool_find_device() does, with
 * that buffer. Prints what went wrong. Returns 0 (the caller closes *ctx)
 * or a negative errno (nothing left open).
 */
int tool_open_device(const char *prog, const char *name, enum izc_direction dir,
		     struct izc_context **ctx, struct izc_device **dev, unsigned int *buffer_index,
		     struct izc_buffer **buf);

/*
 * Channel list: "all", a mask "0x5", or a comma list of scan indices,
 * ranges and channel ids: "0,2-3", "voltage1,in_voltage3". Prints the
 * problem and returns -EINVAL on a bad list.
 */
int tool_parse_channels(const char *prog, const struct izc_buffer *buf, const char *spec,
			uint64_t *mask);

/*
 * Enable the channels of spec (tool_parse_channels(); NULL: "all") on buf of
 * dev and give the frame size. Prints what went wrong. Returns 0, 1 for a bad
 * list (a usage error) or a negative errno.
 */
int tool_select_channels(const char *prog, const struct izc_device *dev, struct izc_buffer *buf,
			 const char *spec, size_t *frame);

/* Write sampling_frequency; prints what went wrong. Returns 0 or a negative errno. */
int tool_set_frequency(const char *prog, const struct izc_device *dev, unsigned long long hz);

/* Stream flags for --fileio/--dmabuf/--udmabuf (0: automatic). */
unsigned int tool_backend_flags(int opt);

/*
 * What block sizes must be a multiple of: the frame and, unless @flags say
 * fileio only, the DMA's bus word (the buffer's length_align_bytes, which
 * DMABUF transfers must respect), into *@word (1 when there is none).
 */
size_t tool_block_unit(const struct izc_buffer *buf, size_t frame, unsigned int flags,
		       size_t *word);

/*
 * The block size for -b @requested (0: @fallback, rounded down to whole
 * units of tool_block_unit(), at least one), into *@bsize. A requested
 * size must be whole units already: otherwise says why and what to try,
 * and returns -EINVAL.
 */
int tool_block_size(const char *prog, const struct izc_buffer *buf, size_t frame,
		    unsigned int flags, unsigned long long requested, unsigned long long fallback,
		    size_t *bsize);

/* One sentence on what a stream open error means and what to do. */
const char *tool_stream_error_hint(const struct izc_device *dev, int err);

/* Seconds of CLOCK_MONOTONIC. */
double tool_now(void);

/*
 * The signals that stop a tool cleanly: SIGINT, SIGTERM, and SIGHUP unless
 * it is ignored (nohup).
 */
void tool_stop_signals(sigset_t *set);

/*
 * SIGINT/SIGTERM/SIGHUP handling without global state: the signals are
 * blocked in every thread and one thread waits for them, sets stop and
 * cancels the stream the tool is waiting on. Call tool_signals_start()
 * before any other thread exists.
 */
struct tool_signals {
	pthread_t thread;
	sigset_t set; /* tool_stop_signals() and SIGUSR1, which ends the thread */
	atomic_bool stop;
	atomic_bool finish;
	pthread_mutex_t lock; /* protects stream against a close while cancelling */
	struct izc_stream *stream;
	bool running;
};

int tool_signals_start(struct tool_signals *sig);
void tool_signals_set_stream(struct tool_signals *sig, struct izc_stream *stream);
void tool_signals_finish(struct tool_signals *sig);

#endif /* IZC_TOOLS_COMMON_H */
