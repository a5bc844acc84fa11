// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib-backends: libizc streams on the simulated ADC with every backend --
 * DMABUF from the system heap, DMABUF from udmabuf, fileio -- capturing a
 * channel subset (1 and 3 of 4 x s16) unpaced, demuxed with izc_demux()
 * and checked against the counter value(n, c) = (n + c * 4096) mod 2^16
 * (docs/sim-adc.md); the stream and block getters; the exact errno of the
 * calls that must fail; and the fallback to fileio, both when the DMA heap
 * is missing (a dev root without dma_heap: -ENOENT) and when the buffer
 * has no DMABUF support (an izc_sim_adc instance made with DMABUF 0:
 * -EPERM from the IIO core), each with data checked.
 */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "capture-util.h"

#define NBLOCKS	   3
#define BLOCK_SIZE 8192
#define NCHECK	   8

static int find_channels(struct izc_buffer *buf, struct izc_channel *ch[4])
{
	int ret = 0;

	for (int i = 0; i < 4 && !ret; i++) {
		char id[16];

		snprintf(id, sizeof(id), "voltage%d", i);
		ret = izc_buffer_find_channel(buf, id, &ch[i]);
	}
	return ret;
}

/*
 * nblk blocks of channels 1 and 3, demuxed and compared with the counter
 * from frame 0. Returns the number of wrong samples, or -1 on an API error.
 */
static int check_blocks(struct izc_stream *s, struct izc_channel *const ch[4], int nblk)
{
	static uint16_t c1[BLOCK_SIZE / 4], c3[BLOCK_SIZE / 4];
	size_t frame = izc_stream_frame_size(s), o1, o3;
	unsigned long long n = 0;
	int bad = 0;

	if (izc_stream_channel_offset(s, ch[1], &o1) || izc_stream_channel_offset(s, ch[3], &o3))
		return -1;
	for (int i = 0; i < nblk; i++) {
		struct izc_block *b;
		size_t nf;
		void *p;
		int ret = izc_stream_dequeue(s, 10000, &b);

		if (ret) {
			tap_diag("dequeue %d: %d", i, ret);
			return -1;
		}
		nf = izc_block_bytes_used(b) / frame;
		if (izc_block_bytes_used(b) != BLOCK_SIZE || izc_block_stream(b) != s ||
		    izc_block_cpu_begin(b, IZC_ACCESS_READ, &p) ||
		    izc_demux(p, nf, frame, o1, 2, c1) || izc_demux(p, nf, frame, o3, 2, c3))
			return -1;
		for (size_t f = 0; f < nf; f++, n++) {
			if (c1[f] != (uint16_t)(n + 4096) || c3[f] != (uint16_t)(n + 3 * 4096)) {
				if (bad++ < 4)
					tap_diag("frame %llu: %#x %#x", n, c1[f], c3[f]);
			}
		}
		if (izc_block_cpu_end(b) || izc_block_enqueue(b, 0, 0))
			return -1;
	}
	return bad;
}

/* Calls on a held and on a queued block that must fail, with their errno. */
static bool check_block_errors(struct izc_stream *s, bool dmabuf)
{
	struct izc_block *b, *q;
	void *p;
	bool ok = true;
	int ret = izc_stream_dequeue(s, 10000, &b);

	if (ret)
		return false;
	ok &= izc_block_enqueue(b, 0, IZC_BLOCK_CYCLIC) == -EINVAL; /* cyclic on input */
	ok &= izc_block_enqueue(b, BLOCK_SIZE + 1, 0) == -EINVAL;
	ok &= izc_block_enqueue(b, 0, 0x80) == -EINVAL;
	ret = izc_block_dmabuf_fd(b);
	ok &= dmabuf ? ret >= 0 : ret == -EOPNOTSUPP;
	if (!dmabuf)
		ok &= izc_block_relay(b, s, 0) == -EOPNOTSUPP;
	if (!ok)
		tap_diag("held block errors wrong (dmabuf fd %d)", ret);
	ok &= izc_block_enqueue(b, 0, 0) == 0;
	q = b; /* queued now */
	ok &= izc_block_enqueue(q, 0, 0) == -EBUSY;
	ok &= izc_block_cpu_begin(q, IZC_ACCESS_READ, &p) == -EBUSY;
	ok &= izc_block_wait(q, 0) == -EBUSY;
	ok &= izc_block_cpu_begin(q, 0, &p) == -EINVAL;
	ok &= izc_stream_get_block(s, NBLOCKS, &q) == -EINVAL;
	ok &= izc_stream_get_block(s, 0, &q) == 0 && izc_block_index(q) == 0 &&
	      izc_block_size(q) == BLOCK_SIZE;
	return ok;
}

static void one_backend(struct izc_device *dev, struct izc_channel *const ch[4], unsigned int flags,
			enum izc_backend want, const char *name)
{
	struct izc_stream *s;
	size_t off = 0;
	int ret = izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE, flags, &s);

	if (!tap_ok(ret == 0, "%s: open (%d)", name, ret)) {
		tap_ok(false, "%s: geometry not checked: no stream", name);
		tap_ok(false, "%s: data not checked: no stream", name);
		tap_ok(false, "%s: errors not checked: no stream", name);
		return;
	}
	tap_ok(izc_stream_backend(s) == want && !izc_stream_fallback_reason(s) &&
		       !strcmp(izc_backend_name(izc_stream_backend(s)),
			       want ? "fileio" : "dmabuf") &&
		       izc_stream_direction(s) == IZC_DIR_IN &&
		       izc_stream_block_count(s) == NBLOCKS &&
		       izc_stream_block_size(s) == BLOCK_SIZE && izc_stream_frame_size(s) == 4 &&
		       izc_stream_channel_offset(s, ch[3], &off) == 0 && off == 2 &&
		       izc_stream_channel_offset(s, ch[0], &off) == -ENOENT,
	       "%s: backend, geometry, channel offsets", name);
	ret = izc_stream_start(s);
	if (!ret)
		ret = check_blocks(s, ch, NCHECK);
	tap_ok(ret == 0, "%s: %d blocks of channels 1,3 follow the counter (%d)", name, NCHECK,
	       ret);
	tap_ok(check_block_errors(s, want == IZC_BACKEND_DMABUF), "%s: block call errnos", name);
	izc_stream_close(s);
}

/* A stream that fell back to fileio: reason, data, and NO_FALLBACK's errno. */
static void fallback(struct izc_device *dev, int reason, const char *what)
{
	struct izc_channel *ch[4];
	struct izc_buffer *buf;
	struct izc_stream *s;
	int ret;

	ret = izc_device_get_buffer(dev, 0, &buf);
	if (!ret)
		ret = find_channels(buf, ch);
	if (!ret)
		ret = izc_buffer_set_scan_mask(buf, 0xa);
	if (!ret)
		ret = izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE, 0, &s);
	if (!tap_ok(ret == 0 && izc_stream_backend(s) == IZC_BACKEND_FILEIO &&
			    izc_stream_fallback_reason(s) == reason,
		    "%s: falls back to fileio, reason %d (%d)", what, reason,
		    ret ? ret : izc_stream_fallback_reason(s))) {
		if (!ret)
			izc_stream_close(s);
		tap_ok(false, "%s: fallback data not checked: no fallback stream", what);
	} else {
		ret = izc_stream_start(s);
		if (!ret)
			ret = check_blocks(s, ch, 4);
		tap_ok(ret == 0, "%s: fallback stream data follows the counter (%d)", what, ret);
		izc_stream_close(s);
	}
	ret = izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE, IZC_STREAM_NO_FALLBACK, &s);
	if (!ret)
		izc_stream_close(s);
	tap_errno(ret, ret < 0 ? -ret : 0, -reason, "%s: IZC_STREAM_NO_FALLBACK returns the errno",
		  what);
}

int main(void)
{
	struct cap_adc a = {0};
	struct izc_context *ctx2 = NULL;
	struct izc_device *dev, *nodma;
	struct izc_channel *ch[4];
	struct izc_stream *s, *s2;
	char devnum[32] = "";
	unsigned int maj, min;
	int ret = 0;

	tap_plan(24);
	ret = tap_load_sim_adc(NULL);
	if (!tap_ok(ret == 0, "modules loaded (%d)", ret))
		tap_bail("no simulated ADC");
	ret = cap_adc_setup(&a, "izc-sim-adc0", 0xa, 0);
	if (!ret)
		ret = find_channels(a.buf, ch);
	if (!tap_ok(ret == 0, "izc-sim-adc0, channels 1 and 3, unpaced (%d)", ret))
		tap_bail("setup");
	dev = a.dev;

	one_backend(dev, ch, IZC_STREAM_NO_FALLBACK, IZC_BACKEND_DMABUF, "dma_heap");
	one_backend(dev, ch, IZC_STREAM_NO_FALLBACK | IZC_STREAM_UDMABUF, IZC_BACKEND_DMABUF,
		    "udmabuf");
	one_backend(dev, ch, IZC_STREAM_FILEIO, IZC_BACKEND_FILEIO, "fileio");

	ret = izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE, 0, &s);
	if (!ret) {
		tap_errno(izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE, 0, &s2), 0,
			  EBUSY, "second stream on the same buffer: -EBUSY");
		izc_stream_close(s);
	} else {
		tap_diag("first stream: %d", ret);
		tap_ok(false, "second stream on the same buffer: not run, no first stream");
	}
	tap_errno(izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE + 2, 0, &s), 0, EINVAL,
		  "block size not a multiple of the frame: -EINVAL");
	tap_errno(izc_stream_open(dev, 0, IZC_DIR_OUT, NBLOCKS, BLOCK_SIZE, 0, &s), 0, EINVAL,
		  "output stream on an input buffer: -EINVAL");
	tap_errno(izc_stream_open(dev, 0, IZC_DIR_IN, NBLOCKS, BLOCK_SIZE,
				  IZC_STREAM_FILEIO | IZC_STREAM_NO_FALLBACK, &s),
		  0, EINVAL, "FILEIO with NO_FALLBACK: -EINVAL");

	/* The DMA heap missing: a dev root with the IIO node only. */
	ret = izc_device_attr_read(dev, "dev", devnum, sizeof(devnum));
	if (ret >= 0 && sscanf(devnum, "%u:%u", &maj, &min) == 2) {
		char node[64];

		mkdir("/tmp/izc-noheap", 0755);
		snprintf(node, sizeof(node), "/tmp/izc-noheap/%s", izc_device_id(dev));
		unlink(node);
		ret = mknod(node, S_IFCHR | 0600, makedev(maj, min)) ? -errno : 0;
	} else {
		ret = ret < 0 ? ret : -EINVAL;
	}
	if (!ret)
		ret = izc_context_open(NULL, "/tmp/izc-noheap", &ctx2);
	if (!ret)
		ret = izc_context_find_device(ctx2, "izc-sim-adc0", &nodma);
	if (ret) {
		tap_diag("no-heap dev root: %d", ret);
		for (int i = 0; i < 3; i++)
			tap_ok(false, "no-heap fallback not run: no dev root without a heap");
	} else {
		fallback(nodma, -ENOENT, "no dma_heap");
	}
	izc_context_close(ctx2);
	ctx2 = NULL;

	/*
	 * A buffer without DMABUF support: ATTACH answers -EPERM. izc_sim_adc
	 * always offers new_device "4 16 0" (docs/sim-adc.md), so failing to get
	 * one is a failure, not a reason to skip.
	 */
	ret = tool_write_file("/sys/bus/platform/drivers/izc-sim-adc/new_device", "4 16 0");
	if (!ret)
		ret = izc_context_open(NULL, NULL, &ctx2);
	if (!ret)
		ret = izc_context_find_device(ctx2, "izc-sim-adc1", &nodma);
	if (!ret)
		ret = izc_device_attr_write_ll(nodma, "sampling_frequency", 0);
	if (ret) {
		tap_diag("izc_sim_adc without DMABUF (new_device \"4 16 0\"): %d", ret);
		for (int i = 0; i < 3; i++)
			tap_ok(false, "forced fallback not run: no ADC without DMABUF");
	} else {
		fallback(nodma, -EPERM, "buffer without DMABUF");
	}
	izc_context_close(ctx2);
	cap_adc_close(&a);
	return tap_done();
}
