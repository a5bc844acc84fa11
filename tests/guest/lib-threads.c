// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib-threads: two threads, each with its own context and stream on its own
 * simulated ADC (izc_sim_adc instances=2), streaming unpaced at the same
 * time and checking every sample of 4 MiB against the counter
 * (docs/sim-adc.md). Rounds: DMABUF + fileio, DMABUF + DMABUF (udmabuf).
 * The library holds no global state; this shows it works that way.
 *
 * The ADCs store s32 (sample_bits=32): with s16 the counter repeats every
 * 65536 frames, 8 blocks of 64 KiB of 4 x s16, so a lost run of 8 blocks or
 * a block two rings old looked right. Every block is poisoned before it
 * goes back (cap_stream_cycle()), so a block handed out again without a
 * refill fails too.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "capture-util.h"

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
	struct cap_check k;
	size_t bytes = 0;

	cap_check_init(&k, 0xf, 32);
	for (int i = 0; i < NCHECK; i++)
		if (!cap_stream_cycle(s, &k, BLOCK_SIZE, &bytes))
			return k.errors ? (int)k.errors : -EIO;
	return bytes == (size_t)NCHECK * BLOCK_SIZE && k.n == bytes / k.frame ? 0 : -EMSGSIZE;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct cap_adc a = {0};
	struct izc_stream *s = NULL;
	int ret = cap_adc_setup(&a, w->label, 0xf, 0);

	if (!ret)
		ret = izc_stream_open(a.dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE, w->flags, &s);
	if (!ret) {
		w->backend = izc_stream_backend(s);
		ret = izc_stream_start(s);
	}
	if (!ret)
		ret = stream_check(s);
	izc_stream_close(s);
	cap_adc_close(&a);
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
		ret = tap_load_module("izc_sim_adc", "instances=2 sample_bits=32");
	if (!tap_ok(ret == 0, "modules loaded, 2 ADCs of 4 x s32 (%d)", ret))
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
