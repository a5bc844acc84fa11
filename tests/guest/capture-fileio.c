// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * capture-fileio: fileio capture with read() through libizc
 * (IZC_STREAM_FILEIO: the kernel's block size is the stream's block, the
 * buffer's watermark), unpaced, the counter waveform verified byte for byte
 * over more than 256 MiB in total: block sizes 4 KiB to 16 MiB; s16 (the
 * module's default ADC, 4 channels) and s32 (an 8-channel ADC added through
 * new_device); scan masks all, single, sparse {1,3} and last only. Each
 * stream is checked twice: as frames (every sample against value(n, c), n
 * carried across blocks from 0 at enable), and per channel after
 * izc_demux() at the offset the library computed, with izc_sample_to_int()
 * giving the signed value of the scan type. Each block is poisoned (0xa5)
 * before it goes back to the library, so a block handed out without being
 * read into again fails.
 *
 * The s16 counter repeats every 65536 frames, so a lost, duplicated or
 * stale block of a multiple of that many frames (or one a whole ring of a
 * multiple of that many frames old) would look right. The s16 cases
 * therefore use blocks of 3072 frames (3 x 2^10) and rings of an odd number
 * of blocks: only a run of 64 lost blocks, or a block 64 rings old, could
 * hide. Every larger or power-of-two geometry runs on the s32 ADC, whose
 * counter wraps after 2^32 frames. The device's blocks_completed and
 * bytes_completed must grow by at least the blocks read and at most the
 * kernel's ring more, in whole blocks.
 */
#include "capture-util.h"

struct fio_case {
	const char *adc;
	unsigned int bits;
	uint64_t mask;
	size_t block;
	unsigned int nblocks;
	size_t total;
};

#define KiB (1024ul)
#define MiB (1024ul * 1024ul)

/* s16: 3072 frames a block, odd block counts (see above). */
static const struct fio_case cases[] = {
	{"izc-sim-adc0", 16, 0xf, 24 * KiB, 5, 16 * MiB},
	{"izc-sim-adc0", 16, 0xa, 12 * KiB, 3, 16 * MiB},
	{"izc-sim-adc0", 16, 0x1, 6 * KiB, 7, 8 * MiB},
	{"izc-sim-adc0", 16, 0x8, 6 * KiB, 3, 8 * MiB},
	{"izc-sim-adc1", 32, 0xa, 64 * KiB, 4, 32 * MiB},
	{"izc-sim-adc1", 32, 0x1, 64 * KiB, 8, 16 * MiB},
	{"izc-sim-adc1", 32, 0x8, 1 * MiB, 4, 48 * MiB},
	{"izc-sim-adc1", 32, 0xf, 16 * MiB, 3, 96 * MiB},
	{"izc-sim-adc1", 32, 0xff, 1 * MiB, 4, 64 * MiB},
	{"izc-sim-adc1", 32, 0xa, 4 * KiB, 16, 8 * MiB},
	{"izc-sim-adc1", 32, 0x80, 16 * MiB, 2, 64 * MiB},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/*
 * Demux every enabled channel of @nframes frames starting at index @n0 with
 * the library and check it; also izc_sample_to_int() of the first sample.
 */
static bool check_demux(struct izc_stream *s, struct izc_buffer *buf, const struct cap_check *k,
			const void *data, size_t nframes, uint64_t n0, void *scratch)
{
	size_t frame = izc_stream_frame_size(s);

	for (unsigned int i = 0; i < k->nch; i++) {
		const struct izc_scan_type *st;
		struct izc_channel *ch;
		char id[32];
		size_t off;
		int64_t v, want;

		snprintf(id, sizeof(id), "voltage%u", k->chan[i]);
		if (izc_buffer_find_channel(buf, id, &ch) || izc_stream_channel_offset(s, ch, &off))
			return false;
		st = izc_channel_scan_type(ch);
		if (off != i * (size_t)k->bits / 8 || st->storagebits != k->bits ||
		    !st->is_signed) {
			tap_diag("%s: offset %zu, %u bits", id, off, st->storagebits);
			return false;
		}
		if (izc_demux(data, nframes, frame, off, k->bits / 8, scratch))
			return false;
		if (!cap_check_channel(k, scratch, nframes, n0, k->chan[i]))
			return false;
		v = izc_sample_to_int(st, scratch);
		want = k->bits == 16 ? (int16_t)cap_expect(k, n0, k->chan[i])
				     : (int32_t)cap_expect(k, n0, k->chan[i]);
		if (v != want) {
			tap_diag("%s: izc_sample_to_int %lld, want %lld", id, (long long)v,
				 (long long)want);
			return false;
		}
	}
	return true;
}

static void run_case(const struct cap_adc *a, const struct fio_case *fc, size_t *grand_total)
{
	long long ov0 = cap_attr_ll(a, "overrun_samples");
	long long blk0 = cap_attr_ll(a, "blocks_completed");
	long long byt0 = cap_attr_ll(a, "bytes_completed");
	long long dblk, dbyt, nread;
	struct izc_stream *s = NULL;
	struct cap_check k;
	size_t total = 0, frame = 0;
	bool data_ok = true, demux_ok = true;
	void *scratch = NULL;
	int ret;

	cap_check_init(&k, fc->mask, fc->bits);
	ret = izc_buffer_set_scan_mask(a->buf, fc->mask);
	if (!ret)
		ret = izc_buffer_frame_size(a->buf, &frame);
	if (!ret && frame != k.frame)
		ret = -EPROTO;
	if (!ret)
		ret = izc_stream_open(a->dev, 0, IZC_DIR_IN, fc->nblocks, fc->block,
				      IZC_STREAM_FILEIO, &s);
	if (!ret)
		ret = izc_stream_start(s);
	scratch = malloc(fc->block);
	if (!tap_success(ret, -ret,
			 "%s s%u mask 0x%llx: fileio stream of %u x %zu KiB opens, frame %zu",
			 fc->adc, fc->bits, (unsigned long long)fc->mask, fc->nblocks,
			 fc->block / KiB, frame) ||
	    !scratch) {
		tap_ok(false, "no stream: no data");
		tap_ok(false, "no stream: no data");
		if (s)
			izc_stream_close(s);
		free(scratch);
		return;
	}
	while (total < fc->total && data_ok && demux_ok) {
		struct izc_block *b;
		uint64_t n0 = k.n;
		size_t used;
		void *p;

		ret = izc_stream_dequeue(s, 20000, &b);
		if (ret) {
			tap_diag("dequeue: %d", ret);
			data_ok = false;
			break;
		}
		used = izc_block_bytes_used(b);
		ret = izc_block_cpu_begin(b, IZC_ACCESS_READ | IZC_ACCESS_WRITE, &p);
		if (ret || used != fc->block) {
			tap_diag("cpu_begin %d, bytes_used %zu", ret, used);
			data_ok = false;
			break;
		}
		data_ok = cap_check_data(&k, p, used);
		demux_ok = check_demux(s, a->buf, &k, p, used / k.frame, n0, scratch);
		total += used;
		cap_poison(p, used);
		ret = izc_block_cpu_end(b);
		if (!ret)
			ret = izc_block_enqueue(b, 0, 0);
		if (ret) {
			tap_diag("cpu_end/enqueue: %d", ret);
			data_ok = false;
		}
	}
	izc_stream_close(s);
	*grand_total += total;
	dblk = cap_attr_ll(a, "blocks_completed") - blk0;
	dbyt = cap_attr_ll(a, "bytes_completed") - byt0;
	nread = (long long)(total / fc->block);
	tap_ok(blk0 >= 0 && byt0 >= 0 && dblk >= nread && dblk <= nread + fc->nblocks &&
		       dbyt == dblk * (long long)fc->block,
	       "%s s%u mask 0x%llx: blocks_completed +%lld (read %lld, ring %u), "
	       "bytes_completed +%lld == whole %zu KiB blocks",
	       fc->adc, fc->bits, (unsigned long long)fc->mask, dblk, nread, fc->nblocks, dbyt,
	       fc->block / KiB);
	tap_ok(data_ok && demux_ok && total >= fc->total && k.n == total / k.frame &&
		       cap_attr_ll(a, "overrun_samples") == ov0,
	       "%s s%u mask 0x%llx, %zu KiB blocks: %zu MiB = %llu frames exact from n = 0, "
	       "demuxed per channel, no overrun",
	       fc->adc, fc->bits, (unsigned long long)fc->mask, fc->block / KiB, total / MiB,
	       (unsigned long long)k.frames);
	free(scratch);
}

int main(void)
{
	struct cap_adc a0 = {0}, a1 = {0};
	size_t grand_total = 0;
	char text[64];
	int fd, ret;

	tap_plan(5 + 3 * NCASES);
	alarm(170);

	ret = tap_load_sim_adc("sampling_frequency=0");
	if (!tap_success(ret, -ret, "modules load, izc_sim_adc unpaced"))
		tap_bail("no modules");
	ret = cap_adc_open(&a0, "izc-sim-adc0");
	if (!tap_success(ret, -ret, "izc-sim-adc0 found with buffer0"))
		tap_bail("no ADC");

	/* A second ADC, 8 channels of s32, through the driver's new_device. */
	fd = open("/sys/bus/platform/drivers/izc-sim-adc/new_device", O_WRONLY | O_CLOEXEC);
	ret = fd < 0 ? -1 : (int)write(fd, "8 32", 4);
	tap_ok(ret == 4, "new_device \"8 32\" (%s)", ret == 4 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
	ret = cap_adc_open(&a1, "izc-sim-adc1");
	if (!ret)
		ret = izc_device_attr_write_ll(a1.dev, "sampling_frequency", 0);
	if (!ret)
		ret = izc_buffer_attr_read(a1.buf, "in_voltage7_type", text, sizeof(text));
	tap_ok(ret > 0 && !strcmp(text, "le:s32/32>>0") && izc_buffer_channel_count(a1.buf) == 8,
	       "izc-sim-adc1: 8 channels of le:s32/32>>0, unpaced (%d)", ret);

	for (size_t i = 0; i < NCASES; i++)
		run_case(!strcmp(cases[i].adc, "izc-sim-adc0") ? &a0 : &a1, &cases[i],
			 &grand_total);

	tap_ok(grand_total >= 256 * MiB, "%zu MiB verified in total (>= 256 MiB)",
	       grand_total / MiB);
	cap_adc_close(&a1);
	cap_adc_close(&a0);
	return tap_done();
}
