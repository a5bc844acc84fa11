// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Host -> USB bulk OUT -> DMABUF -> DAC -> loopback -> ADC, bit exact:
 * izc-usb-host --tx sends the counter pattern (docs/sim-adc.md, 4 channels
 * of 32 bits) to izc-usb-bridge, which hands the host's blocks to
 * izc-sim-dac0 (unpaced, wired to izc-sim-adc0 with a latency of 65536
 * frames, 1 MiB); this test captures izc-sim-adc0 with libizc and expects
 * 65536 idle frames (0) and then the pattern, frame for frame, with no DAC underflow.
 * DMABUF bridge (256 MiB), then the copy bridge (64 MiB), then a DMABUF run
 * until Ctrl-C (SIGINT to the client after 64 MiB reached the ADC).
 */
#include <pthread.h>

#include "izc.h"
#include "usb-env.h"

#define NCHAN	4
#define FRAME	(NCHAN * 4)
#define LATENCY 65536 /* frames: 1 MiB, so the capture is whole blocks */
#define LOG	"/tmp/usb-bridge-tx.log"
#define BLOCK	(1u << 20)

struct capture {
	struct izc_stream *s;
	unsigned long long want; /* pattern bytes after the idle frames */
	unsigned long long got;
	long long bad; /* byte offset of the first mismatch, -1 */
	int err;
};

/* Capture the ADC until the idle frames and want pattern bytes are seen. */
static void capture(struct capture *c)
{
	unsigned long long total = c->want + LATENCY * FRAME, at = 0;
	struct izc_block *b;
	void *data;

	c->bad = -1;
	while (at < total && c->bad < 0) {
		const uint32_t *w;
		size_t i, n;
		int ret = izc_stream_dequeue(c->s, 30000, &b);

		if (ret) {
			c->err = ret;
			return;
		}
		izc_block_cpu_begin(b, IZC_ACCESS_READ, &data);
		w = data;
		n = izc_block_bytes_used(b) / 4;
		for (i = 0; i < n && at + i * 4 < total; i++) {
			unsigned long long byte = at + i * 4;
			uint32_t want = 0;

			if (byte >= LATENCY * FRAME) {
				unsigned long long k = (byte - LATENCY * FRAME) / 4;
				want = (uint32_t)(k / NCHAN) + ((uint32_t)(k % NCHAN) << 28);
			}
			if (w[i] != want) {
				c->bad = (long long)byte;
				tap_diag("ADC byte %llu: 0x%08x, expected 0x%08x", byte, w[i],
					 want);
				break;
			}
		}
		at += n * 4;
		izc_block_cpu_end(b);
		izc_block_enqueue(b, 0, 0);
	}
	c->got = at > LATENCY * FRAME ? at - LATENCY * FRAME : 0;
}

static long long attr_ll(struct izc_device *dev, const char *attr)
{
	long long v = -1;

	return izc_device_attr_read_ll(dev, attr, &v) ? -1 : v;
}

/*
 * Run izc-usb-host (argv) while capturing the loopback ADC into @c; with
 * @interrupt, SIGINT the client once @c has its bytes. Returns the
 * client's exit status, its JSON line in @out.
 */
static int host_tx(struct izc_device *adc, char *const argv[], const char *err_path,
		   struct capture *c, bool interrupt, char *out, size_t len)
{
	const char *tmp = "/tmp/usb-bridge-tx.json";
	pid_t pid;
	double t0;
	int ret, fd;

	ret = izc_stream_open(adc, 0, IZC_DIR_IN, 4, BLOCK, IZC_STREAM_FILEIO, &c->s);
	if (!ret)
		ret = izc_stream_start(c->s);
	if (ret)
		tap_bail("ADC capture stream: %s", strerror(-ret));
	pid = usb_env_spawn(argv, tmp, err_path);
	capture(c);
	t0 = usb_env_now();
	if (interrupt)
		kill(pid, SIGINT);
	ret = usb_env_wait(pid, interrupt ? 20 : 600);
	if (interrupt)
		tap_diag("  the client exited %.2f s after SIGINT", usb_env_now() - t0);
	izc_stream_close(c->s);
	*out = 0;
	fd = open(tmp, O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, out, len - 1);

		out[n > 0 ? n : 0] = 0;
		close(fd);
	}
	return ret;
}

static void run_case(struct izc_device *adc, struct izc_device *dac, const char *mode,
		     const char *amount, unsigned long long bytes, const char *backend)
{
	char *argv[] = {"izc-usb-host", "--tx", "-d", "izc-sim-dac0", "-a",
			(char *)amount, "-b",	"1M", "-n",	      "8",
			"-f",		"0",	"-t", "30000",	      "--json",
			(char *)mode,	NULL};
	struct capture c = {.want = bytes};
	long long under0 = attr_ll(dac, "underflow_samples");
	char out[2048], got_backend[32];
	int ret = host_tx(adc, argv, NULL, &c, false, out, sizeof(out));

	usb_env_json_str(out, "backend", got_backend, sizeof(got_backend));
	tap_ok(ret == 0 && usb_env_json_true(out, "ok") &&
		       usb_env_json_num(out, "bytes") == (double)bytes,
	       "%s: the host client sent %s (exit %d)", mode, amount, ret);
	if (ret)
		tap_diag("  %s", out);
	tap_ok(!strcmp(got_backend, backend), "%s: bridge backend %s (%s)", mode, backend,
	       got_backend);
	tap_ok(!c.err && c.bad < 0 && c.got >= bytes,
	       "%s: loopback ADC: %d idle frames then %s of the pattern, frame for frame (%s)",
	       mode, LATENCY, amount, c.err ? strerror(-c.err) : "ok");
	tap_ok(attr_ll(dac, "underflow_samples") == under0, "%s: no DAC underflow", mode);
	if (!ret)
		tap_diag("  %s: %.1f MiB/s, bridge cpu %.2f s/GiB", mode,
			 usb_env_json_num(out, "mib_per_s"),
			 usb_env_json_num(out, "bridge_cpu_s_per_gib"));
}

/*
 * --tx until Ctrl-C: SIGINT makes the client ask the bridge to STOP and
 * exit 0 with its results. The loopback ADC checks the pattern of what the
 * DAC played up to the stop.
 */
static void run_stop_case(struct izc_device *adc)
{
	char *argv[] = {"izc-usb-host", "--tx",	 "-d",	   "izc-sim-dac0", "-b",
			"1M",		"-n",	 "8",	   "-f",	   "0",
			"-t",		"30000", "--json", "--dmabuf",	   NULL};
	const char *err = "/tmp/usb-bridge-tx.err";
	struct capture c = {.want = 64ull << 20};
	char out[2048];
	int ret = host_tx(adc, argv, err, &c, true, out, sizeof(out));

	tap_ok(!c.err && c.bad < 0 && c.got >= c.want,
	       "--tx until Ctrl-C: loopback ADC gets the idle frames then 64 MiB of the pattern "
	       "(%s)",
	       c.err ? strerror(-c.err) : "ok");
	if (!tap_ok(ret == 0 && usb_env_json_true(out, "ok") && usb_env_file_has(err, "stopping"),
		    "--tx until Ctrl-C: SIGINT stops the bridge's run, the client exits 0 with "
		    "its results (exit %d)",
		    ret)) {
		tap_diag("  %s", out);
		usb_env_diag_file(err);
	}
}

int main(void)
{
	struct izc_context *ctx;
	struct izc_device *adc, *dac;
	struct izc_buffer *buf;
	pid_t pid;
	int ret;

	tap_plan(2 + 2 * 4 + 2 + 3);
	usb_env_gadget_stack();
	if (tap_load_module("izc_soft_dma", NULL) || tap_load_module("izc_block_buffer", NULL) ||
	    tap_load_module("izc_sim_adc", "channels=4 sample_bits=32 sampling_frequency=0"))
		tap_bail("our converter modules do not load");
	ret = usb_env_load("izc_sim_dac", "channels=4 sample_bits=32 sampling_frequency=0 "
					  "loopback=1 loopback_latency=65536");
	if (ret)
		tap_bail("izc_sim_dac: %s (the DAC module is not in this guest?)", strerror(-ret));
	if (izc_context_open(NULL, NULL, &ctx) ||
	    izc_context_find_device(ctx, "izc-sim-adc0", &adc) ||
	    izc_context_find_device(ctx, "izc-sim-dac0", &dac) ||
	    izc_device_get_buffer(adc, 0, &buf) || izc_buffer_set_scan_mask(buf, 0xf))
		tap_bail("izc-sim-adc0 / izc-sim-dac0 not found or not set up");

	ret = usb_env_load("dummy_hcd", "is_super_speed=1");
	tap_ok(ret == 0, "dummy_hcd (SuperSpeed, sg) loads (%s)", strerror(-ret));
	unlink(LOG);
	pid = usb_env_bridge_start(NULL, LOG);
	tap_ok(pid > 0, "izc-usb-bridge started: exec'd, pid %d", pid);
	run_case(adc, dac, "--dmabuf", "256M", 256ull << 20, "dmabuf");
	run_case(adc, dac, "--copy", "64M", 64ull << 20, "copy");
	run_stop_case(adc);
	ret = usb_env_bridge_stop(pid);
	tap_ok(ret == 0, "izc-usb-bridge exits 0 on SIGTERM (%d)", ret);
	if (ret)
		usb_env_diag_file(LOG);
	izc_context_close(ctx);
	ret = usb_env_unload("dummy_hcd");
	tap_ok(ret == 0, "dummy_hcd unloads (%s)", strerror(-ret));
	ret = usb_env_unload("izc_sim_dac");
	tap_ok(ret == 0, "izc_sim_dac unloads (%s)", strerror(-ret));
	return tap_done();
}
