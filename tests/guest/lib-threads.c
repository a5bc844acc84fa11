// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib-threads: two threads, each with its own context and stream on its own
 * simulated ADC (izc_sim_adc instances=2), streaming unpaced at the same
 * time and checking every sample of 4 MiB against the counter
 * (docs/sim-adc.md). Rounds: DMABUF + fileio, DMABUF + DMABUF (udmabuf).
 * The library holds no global state; this shows it works that way.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "izc.h"
#include "tap.h"

#define NBLOCKS	   4
#define BLOCK_SIZE (64 << 10)
#define NCHECK	   64 /* 4 MiB */

struct worker {
	const char *label;
	unsigned int flags;
	int result; /* 0, < 0 API error, > 0 wrong samples */
	enum izc_backend backend;
};

static int stream_check(struct izc_stream *s)
{
	unsigned long long n = 0;
	int bad = 0;

	for (int i = 0; i < NCHECK; i++) {
		struct izc_block *b;
		const uint16_t *v;
		void *p;
		int ret = izc_stream_dequeue(s, 10000, &b);

		if (ret)
			return ret;
		if (izc_block_bytes_used(b) != BLOCK_SIZE)
			return -EMSGSIZE;
		ret = izc_block_cpu_begin(b, IZC_ACCESS_READ, &p);
		if (ret)
			return ret;
		v = p;
		for (size_t f = 0; f < BLOCK_SIZE / 8; f++, n++)
			for (unsigned int c = 0; c < 4; c++)
				bad += v[f * 4 + c] != (uint16_t)(n + c * 4096);
		ret = izc_block_cpu_end(b);
		if (!ret)
			ret = izc_block_enqueue(b, 0, 0);
		if (ret)
			return ret;
	}
	return bad;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct izc_context *ctx;
	struct izc_device *dev;
	struct izc_buffer *buf;
	struct izc_stream *s = NULL;
	int ret = izc_context_open(NULL, NULL, &ctx);

	if (ret) {
		w->result = ret;
		return NULL;
	}
	ret = izc_context_find_device(ctx, w->label, &dev);
	if (!ret)
		ret = izc_device_get_buffer(dev, 0, &buf);
	if (!ret)
		ret = izc_buffer_set_scan_mask(buf, 0xf);
	if (!ret)
		ret = izc_device_attr_write_ll(dev, "sampling_frequency", 0);
	if (!ret)
		ret = izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE, w->flags, &s);
	if (!ret) {
		w->backend = izc_stream_backend(s);
		ret = izc_stream_start(s);
	}
	if (!ret)
		ret = stream_check(s);
	izc_stream_close(s);
	izc_context_close(ctx);
	w->result = ret;
	return NULL;
}

int main(void)
{
	static const struct {
		unsigned int flags[2];
		enum izc_backend backend[2];
		const char *what;
	} rounds[] = {
		{{IZC_STREAM_NO_FALLBACK, IZC_STREAM_FILEIO},
		 {IZC_BACKEND_DMABUF, IZC_BACKEND_FILEIO},
		 "dmabuf + fileio"},
		{{IZC_STREAM_NO_FALLBACK, IZC_STREAM_NO_FALLBACK | IZC_STREAM_UDMABUF},
		 {IZC_BACKEND_DMABUF, IZC_BACKEND_DMABUF},
		 "dma_heap + udmabuf"},
	};
	int ret = 0;

	tap_plan(5);
	ret = tap_load_module("izc_soft_dma", NULL);
	if (!ret)
		ret = tap_load_module("izc_block_buffer", NULL);
	if (!ret)
		ret = tap_load_module("izc_sim_adc", "instances=2");
	if (!tap_ok(ret == 0, "modules loaded, 2 ADCs (%d)", ret))
		tap_bail("no simulated ADCs");
	for (size_t r = 0; r < sizeof(rounds) / sizeof(rounds[0]); r++) {
		struct worker w[2] = {
			{.label = "izc-sim-adc0", .flags = rounds[r].flags[0], .result = -1},
			{.label = "izc-sim-adc1", .flags = rounds[r].flags[1], .result = -1},
		};
		pthread_t th[2];

		for (int i = 0; i < 2; i++)
			pthread_create(&th[i], NULL, work, &w[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		for (int i = 0; i < 2; i++)
			tap_ok(w[i].result == 0 && w[i].backend == rounds[r].backend[i],
			       "%s: %s thread, %s: 4 MiB of counter data exact (%d)",
			       rounds[r].what, w[i].label, izc_backend_name(rounds[r].backend[i]),
			       w[i].result);
	}
	return tap_done();
}
