// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ADC -> DMABUF -> USB bulk IN -> host, through izc-usb-bridge (gadget) and
 * izc-usb-host (usbfs, the host port of our dummy_hcd in this guest), at
 * SuperSpeed, with the unpaced simulated ADC (4 channels of 32 bits:
 * the counter does not wrap within the run, so a lost or repeated block is
 * always a mismatch; the client also counts bytes and the bridge's blocks).
 *
 *  - DMABUF bridge, all channels, CAPTURE_BYTES: pattern exact, nothing
 *    lost or repeated, backend dmabuf;
 *  - DMABUF bridge, channels 0 and 2 (mask 0x5), 64 MiB: exact;
 *  - again on the same daemon (a stream starts again), 64 MiB: exact;
 *  - a host that STARTs a paced DMABUF capture and then does not read for
 *    a while (blocks waiting in USB transfers while others still fill in
 *    IIO): the bridge sleeps, its CPU time stays under a third of the
 *    wall time (it spun at 0-timeout polls before), and after STOP the
 *    host reads every block moved and the zero-length packet;
 *  - an ADC overrun (paced at 50 MS/s, far beyond this link): the host
 *    reports the pattern mismatch, STOPs the bridge's run (it used to leave
 *    it running, wait 10 s and say only "did not end") and exits 1;
 *  - copy bridge (--copy), 64 MiB: exact, backend copy;
 *  - daemon SIGTERM: exit 0, configfs gadget and FunctionFS mount gone;
 *  - dummy_hcd sg_supported=0: FunctionFS refuses DMABUF (EPERM), the
 *    bridge falls back to read()+write() and says so, 32 MiB exact; a host
 *    asking for DMABUF only is refused;
 *  - sim ADC with dmabuf=0 (IIO buffer without DMABUF): fallback, says so,
 *    32 MiB exact.
 *
 * usb-bridge-capture [BYTES] overrides CAPTURE_BYTES (e.g. to measure).
 */
#include <inttypes.h>
#include <stdio.h>

#include "izc-usb-host.h"
#include "usb-env.h"

/* 1 GiB at ~60-90 MiB/s under TCG (measured: see docs/usb-bridge.md). */
#define CAPTURE_BYTES "1G"
#define LOG	      "/tmp/usb-bridge-capture.log"

static const char *const adc_params = "channels=4 sample_bits=32 sampling_frequency=0";

/* One host run; checks its JSON. Returns true when every check passed. */
static bool host_run(const char *what, const char *amount, const char *channels, const char *mode,
		     const char *want_backend, bool want_ok)
{
	char out[2048], backend[32], *argv[20];
	double bytes, expect;
	int argc = 0, ret;
	unsigned long long a = strtoull(amount, NULL, 10);

	argv[argc++] = "izc-usb-host";
	argv[argc++] = "-d";
	argv[argc++] = "izc-sim-adc0";
	argv[argc++] = "-a";
	argv[argc++] = (char *)amount;
	argv[argc++] = "-b";
	argv[argc++] = "1M";
	argv[argc++] = "-n";
	argv[argc++] = "8";
	argv[argc++] = "-f";
	argv[argc++] = "0";
	argv[argc++] = "-c";
	argv[argc++] = (char *)channels;
	argv[argc++] = "-t";
	argv[argc++] = "30000";
	argv[argc++] = "--json";
	if (mode)
		argv[argc++] = (char *)mode;
	argv[argc] = NULL;

	if (strchr(amount, 'G'))
		a *= 1ull << 30;
	else if (strchr(amount, 'M'))
		a *= 1ull << 20;
	expect = (double)a;
	ret = usb_env_run(argv, out, sizeof(out), 900);
	if (!want_ok) {
		tap_ok(ret == 1, "%s: the host client fails (exit %d)", what, ret);
		return ret == 1;
	}
	bytes = usb_env_json_num(out, "bytes");
	usb_env_json_str(out, "backend", backend, sizeof(backend));
	tap_ok(ret == 0 && usb_env_json_true(out, "ok") && usb_env_json_true(out, "verified") &&
		       bytes == expect && usb_env_json_num(out, "bridge_errors") == 0,
	       "%s: %s captured, counter pattern exact, nothing lost or repeated", what, amount);
	if (ret != 0 || !usb_env_json_true(out, "ok"))
		tap_diag("  exit %d, %s", ret, out);
	tap_ok(!strcmp(backend, want_backend), "%s: bridge backend %s (%s)", what, want_backend,
	       backend);
	if (!ret)
		tap_diag("  %s: %.1f MiB/s, bridge cpu %.2f s/GiB at %.0f Mb/s", what,
			 usb_env_json_num(out, "mib_per_s"),
			 usb_env_json_num(out, "bridge_cpu_s_per_gib"),
			 usb_env_json_num(out, "speed_mbps"));
	return ret == 0;
}

/* Read bulk IN until a short transfer; bytes read, or -errno. */
static long long read_to_zlp(const struct izc_usb_host *h)
{
	static unsigned char buf[64 << 10];
	long long total = 0;

	for (;;) {
		struct usbdevfs_bulktransfer bt = {
			.ep = h->ep_in, .len = sizeof(buf), .timeout = 10000, .data = buf};
		int n = ioctl(h->fd, USBDEVFS_BULK, &bt);

		if (n < 0)
			return -errno;
		total += n;
		if (n < (int)sizeof(buf))
			return total;
	}
}

/*
 * The host STARTs a paced capture (64 KiB blocks, one per 100 ms) and does
 * not read for 1.2 s: the blocks filled so far wait in USB transfers while
 * the others still fill in IIO. Neither side is ready then, and the bridge
 * must sleep until one is, not poll both with a zero timeout.
 */
static void stalled_host(void)
{
	struct izc_usb_config cfg = {
		.direction = IZC_USB_DIR_CAPTURE,
		.mode = IZC_USB_MODE_DMABUF,
		.flags = IZC_USB_CFG_SET_FREQUENCY,
		.block_size = 64u << 10,
		.nblocks = 16,
		.sampling_frequency = 40960, /* 16-byte frames: 100 ms a block */
		.device = "izc-sim-adc0",
	};
	struct izc_usb_status st = {0};
	struct izc_usb_host h;
	double cpu = -1;
	long long got = -1;
	int ret, i;

	ret = izc_usb_host_find(&h, IZC_USB_VID, IZC_USB_PID, 5000);
	if (!ret)
		ret = izc_usb_host_claim(&h);
	if (!ret)
		ret = izc_usb_host_control(&h, false, IZC_USB_REQ_CONFIGURE, &cfg, sizeof(cfg));
	if (ret >= 0)
		ret = izc_usb_host_control(&h, false, IZC_USB_REQ_START, NULL, 0);
	if (ret >= 0) {
		usleep(1200000);
		ret = izc_usb_host_status(&h, &st);
	}
	if (!ret && st.elapsed_us)
		cpu = (double)(st.cpu_user_us + st.cpu_sys_us) / (double)st.elapsed_us;
	tap_ok(!ret && st.state == IZC_USB_STATE_RUNNING && cpu >= 0 && cpu < 0.33,
	       "stalled host: the bridge sleeps while IIO fills and USB waits "
	       "(cpu %.0f%% of %.2f s, %s)",
	       cpu * 100, st.elapsed_us / 1e6, strerror(-ret));
	if (!ret)
		ret = izc_usb_host_control(&h, false, IZC_USB_REQ_STOP, NULL, 0);
	if (ret >= 0)
		got = read_to_zlp(&h);
	for (i = 0; i < 250 && got >= 0; i++) {
		if (izc_usb_host_status(&h, &st) ||
		    (st.state != IZC_USB_STATE_RUNNING && st.state != IZC_USB_STATE_STOPPING))
			break;
		usleep(20000);
	}
	tap_ok(got > 0 && st.state == IZC_USB_STATE_DONE &&
		       (unsigned long long)got == st.blocks * cfg.block_size,
	       "stalled host: after STOP it reads the %" PRIu64 " blocks moved and the ZLP "
	       "(%lld bytes, state %u)",
	       st.blocks, got, st.state);
	izc_usb_host_close(&h);
}

/*
 * The ADC overruns (the counter skips the lost frames): the host must say
 * so, end the bridge's run instead of leaving it with transfers nobody
 * reads, and exit 1.
 */
static void overrun_host(void)
{
	static const char *const err = "/tmp/usb-bridge-overrun.err";
	char *argv[] = {
		"izc-usb-host", "-d", "izc-sim-adc0", "-a",	  "64M", "-b",	  "1M",
		"-n",		"4",  "-f",	      "50000000", "-t",	 "30000", NULL,
	};
	char *sargv[] = {"izc-usb-host", "--status", NULL};
	char out[1024];
	double t0 = usb_env_now(), s;
	pid_t pid;
	int ret;

	unlink(err);
	pid = usb_env_spawn(argv, NULL, err);
	ret = pid > 0 ? usb_env_wait(pid, 120) : -1;
	s = usb_env_now() - t0;
	tap_ok(ret == 1 && usb_env_file_has(err, "pattern mismatch at byte") &&
		       !usb_env_file_has(err, "did not end") && s < 9,
	       "ADC overrun: the host reports the mismatch and exits 1 (exit %d, %.1f s)", ret, s);
	if (ret != 1 || !usb_env_file_has(err, "pattern mismatch at byte"))
		usb_env_diag_file(err);
	ret = usb_env_run(sargv, out, sizeof(out), 30);
	tap_ok(ret == 0 && strstr(out, "state ") && !strstr(out, "state running") &&
		       !strstr(out, "state stopping"),
	       "ADC overrun: the bridge's run is over (%.*s)", (int)strcspn(out, ","), out);
}

static void load_adc(const char *extra)
{
	char params[160];
	int ret;

	snprintf(params, sizeof(params), "%s%s", adc_params, extra);
	ret = tap_load_module("izc_sim_adc", params);
	if (ret)
		tap_bail("load izc_sim_adc: %s", strerror(-ret));
}

static pid_t bridge_up(const char *what)
{
	pid_t pid = usb_env_bridge_start(NULL, LOG);

	tap_ok(pid > 0, "%s: izc-usb-bridge started: exec'd, pid %d", what, pid);
	return pid;
}

static void bridge_down(const char *what, pid_t pid)
{
	int ret = usb_env_bridge_stop(pid);

	tap_ok(ret == 0, "%s: izc-usb-bridge exits 0 on SIGTERM (%d)", what, ret);
	tap_ok(access(USB_ENV_GADGET, F_OK) && errno == ENOENT &&
		       access("/tmp/izc-usb-bridge.izc_bridge", F_OK),
	       "%s: configfs gadget and FunctionFS mount removed", what);
}

int main(int argc, char **argv)
{
	const char *amount = argc > 1 ? argv[1] : CAPTURE_BYTES;
	pid_t pid;
	int ret;

	tap_plan(36);
	unlink(LOG);
	usb_env_gadget_stack();
	if (tap_load_module("izc_soft_dma", NULL) || tap_load_module("izc_block_buffer", NULL))
		tap_bail("our base modules do not load");
	load_adc("");

	/* SuperSpeed, scatter-gather: the zero-copy bridge. */
	ret = usb_env_load("dummy_hcd", "is_super_speed=1");
	tap_ok(ret == 0, "dummy_hcd (SuperSpeed, sg) loads (%s)", strerror(-ret));
	pid = bridge_up("SuperSpeed");
	host_run("DMABUF", amount, "all", "--dmabuf", "dmabuf", true);
	host_run("DMABUF channels 0x5", "64M", "0x5", "--dmabuf", "dmabuf", true);
	host_run("DMABUF again", "64M", "all", NULL, "dmabuf", true);
	stalled_host();
	overrun_host();
	host_run("copy", "64M", "all", "--copy", "copy", true);
	bridge_down("SuperSpeed", pid);
	tap_ok(usb_env_file_has(LOG, "DMABUF zero-copy") &&
		       usb_env_file_has(LOG, "read()+write() copy"),
	       "the bridge says which data path each run took");
	ret = usb_env_unload("dummy_hcd");
	tap_ok(ret == 0, "dummy_hcd unloads (%s)", strerror(-ret));

	/* No scatter-gather: FunctionFS refuses DMABUF with EPERM. */
	unlink(LOG);
	ret = usb_env_load("dummy_hcd", "is_super_speed=1 sg_supported=0");
	tap_ok(ret == 0, "dummy_hcd sg_supported=0 loads (%s)", strerror(-ret));
	pid = bridge_up("no sg");
	host_run("no sg, auto", "32M", "all", NULL, "copy", true);
	tap_ok(usb_env_file_has(LOG, "FunctionFS refused DMABUF (EPERM"),
	       "no sg: the bridge says it falls back to read()+write() (EPERM)");
	host_run("no sg, --dmabuf", "32M", "all", "--dmabuf", "", false);
	bridge_down("no sg", pid);
	ret = usb_env_unload("dummy_hcd");
	tap_ok(ret == 0, "dummy_hcd unloads (%s)", strerror(-ret));

	/* An IIO buffer without DMABUF. */
	unlink(LOG);
	ret = tap_unload_module("izc_sim_adc");
	tap_ok(ret == 0, "izc_sim_adc unloads (%s)", strerror(-ret));
	load_adc(" dmabuf=0");
	ret = usb_env_load("dummy_hcd", "is_super_speed=1");
	tap_ok(ret == 0, "dummy_hcd loads again (%s)", strerror(-ret));
	pid = bridge_up("IIO without DMABUF");
	host_run("IIO without DMABUF", "32M", "all", NULL, "copy", true);
	tap_ok(usb_env_file_has(LOG, "the IIO buffer refused DMABUF"),
	       "IIO without DMABUF: the bridge says it falls back");
	bridge_down("IIO without DMABUF", pid);
	ret = usb_env_unload("dummy_hcd");
	tap_ok(ret == 0, "dummy_hcd unloads (%s)", strerror(-ret));
	return tap_done();
}
