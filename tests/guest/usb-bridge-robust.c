// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * izc-usb-bridge under disturbance, each time during an unbounded capture
 * (unpaced ADC, 4 x 32 bits, DMABUF over our SuperSpeed dummy_hcd), and
 * each time followed by a new 64 MiB run that must be bit exact:
 *
 *  - host-side disconnect: the host port is disabled through sysfs
 *    (usbN-portM/disable) and enabled again: the device re-enumerates;
 *  - host-side reset: USBDEVFS_RESET from another usbfs handle;
 *  - gadget unbind: configfs UDC "" while streaming, then bound again;
 *  - the ADC goes away while streaming (izc-sim-adc's delete_device, as a
 *    hot-unplug), then comes back (new_device): the run ends with the
 *    device's error and the next CONFIGURE finds the new IIO device in
 *    sysfs (the runner's final unload checks that the bridge let go of the
 *    removed device's buffer);
 *  - the host client gets SIGINT: it asks the bridge to STOP, the bridge
 *    drains and ends the stream with a zero-length packet: exit 0, exact;
 *  - the host stops reading without STOP and goes away: --drain cancels;
 *  - daemon restart: SIGTERM while streaming (exit 0, gadget removed),
 *    then a new daemon;
 *  - the copy bridge, disconnected the same way.
 * The runner then checks the kernel log (no splat) and that every module
 * unloads (no leaked reference).
 */
#include <limits.h>

#include "izc-usb-host.h"
#include "usb-env.h"

#define LOG "/tmp/usb-bridge-robust.log"

static const char *const stream_args[] = {
	"-d", "izc-sim-adc0", "-b", "1M", "-n", "8", "-f", "0", "-t", "5000", "--json", NULL,
};

/* Start an unbounded capture in the background (amount 0). */
static pid_t host_start(const char *mode, const char *out)
{
	char *argv[20] = {"izc-usb-host"};
	int i, n = 1;

	for (i = 0; stream_args[i]; i++)
		argv[n++] = (char *)stream_args[i];
	if (mode)
		argv[n++] = (char *)mode;
	argv[n] = NULL;
	return usb_env_spawn(argv, out, LOG);
}

/* A bounded, checked capture of 64 MiB: true if exact. */
static bool host_check(const char *what)
{
	char *argv[20] = {"izc-usb-host", "-a", "64M"};
	char out[2048];
	int i, n = 3, ret;

	for (i = 0; stream_args[i]; i++)
		argv[n++] = (char *)stream_args[i];
	argv[n] = NULL;
	ret = usb_env_run(argv, out, sizeof(out), 300);
	tap_ok(ret == 0 && usb_env_json_true(out, "ok") && usb_env_json_true(out, "verified") &&
		       usb_env_json_num(out, "bytes") == 64 << 20,
	       "%s: the stream starts again, 64 MiB exact", what);
	if (ret)
		tap_diag("  exit %d: %s", ret, out);
	return ret == 0;
}

/* The sysfs directory of the bridge device on the host side, or "". */
static void host_devdir(char *dir, size_t len)
{
	char path[300], val[32];
	DIR *d = opendir("/sys/bus/usb/devices");
	const struct dirent *de;

	*dir = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strchr(de->d_name, ':'))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s/idProduct", de->d_name);
		if (tool_read_file(path, val, sizeof(val)) > 0 &&
		    strtoul(val, NULL, 16) == IZC_USB_PID) {
			snprintf(dir, len, "/sys/bus/usb/devices/%s", de->d_name);
			break;
		}
	}
	if (d)
		closedir(d);
}

/* Let the background capture run a little (it must be streaming). */
/* The bridge's and the host client's messages, for a failure's diagnosis. */
static void log_tail(void)
{
	char buf[4096];
	ssize_t n = -1;
	int fd = open(LOG, O_RDONLY);

	if (fd >= 0) {
		off_t size = lseek(fd, 0, SEEK_END);

		lseek(fd, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0,
		      SEEK_SET);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		tap_diag("log: %s", line);
}

/* Runs the bridge has started so far: its "run N: ..." lines in the log. */
static unsigned int runs_started(void)
{
	char line[512], c;
	unsigned int n = 0, r;
	FILE *f = fopen(LOG, "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "izc-usb-bridge: run %u%c", &r, &c) == 2 && c == ':')
			n++;
	if (f)
		fclose(f);
	return n;
}

/*
 * Let the background capture @host run a little. It must really stream:
 * still running, and the bridge started a run for it (@runs: the count
 * before it was spawned), or a disturbance that "ends it with an error"
 * would pass for a client that never got going.
 */
static void let_it_stream(const char *what, pid_t host, unsigned int runs)
{
	usleep(1500000);
	tap_ok(host > 0 && waitpid(host, NULL, WNOHANG) == 0 && runs_started() > runs,
	       "%s: the host client streams (bridge runs %u -> %u)", what, runs, runs_started());
}

static void disturb_port(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int ret;

	/* The port outlives the device: resolve its path first. */
	host_devdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/port", dir);
	if (!*dir || !realpath(path, dir))
		*dir = 0;
	snprintf(path, sizeof(path), "%s/disable", dir);
	ret = *dir ? tool_write_file(path, "1") : -ENOENT;
	tap_ok(ret == 0, "host port disabled through %s (%s)", path, strerror(-ret));
	usleep(500000);
	if (!ret)
		ret = tool_write_file(path, "0");
	tap_ok(ret == 0, "host port enabled again (%s)", strerror(-ret));
}

static void disturb_reset(void)
{
	struct izc_usb_host h;
	int ret = izc_usb_host_find(&h, IZC_USB_VID, IZC_USB_PID, 5000);

	if (!ret) {
		ret = ioctl(h.fd, USBDEVFS_RESET, 0) ? -errno : 0;
		close(h.fd);
	}
	tap_ok(ret == 0, "USBDEVFS_RESET of the device from the host (%s)", strerror(-ret));
}

static void disturb_unbind(void)
{
	char udc[64];
	int ret = tool_read_file(USB_ENV_GADGET "/UDC", udc, sizeof(udc));

	ret = ret > 0 ? tool_write_file(USB_ENV_GADGET "/UDC", "\n") : -ENODEV;
	tap_ok(ret == 0, "gadget unbound from its UDC in configfs (%s)", strerror(-ret));
	usleep(500000);
	if (!ret)
		ret = tool_write_file(USB_ENV_GADGET "/UDC", udc);
	tap_ok(ret == 0, "gadget bound to %s again (%s)", udc, strerror(-ret));
}

/*
 * Control requests the host gives up on: FunctionFS cancels a setup the
 * daemon has not answered when the next one comes, and the daemon's next
 * read of ep0 says so once (EIDRM). With the daemon stopped, two status
 * requests time out; once it runs again it must go on.
 */
static void cancelled_setups(pid_t bridge)
{
	struct izc_usb_host h;
	struct izc_usb_status st;
	int ret = izc_usb_host_find(&h, IZC_USB_VID, IZC_USB_PID, 5000), r1 = 0, r2 = 0;

	if (!ret) {
		struct usbdevfs_ctrltransfer c = {
			.bRequestType = IZC_USB_REQTYPE_IN,
			.bRequest = IZC_USB_REQ_STATUS,
			.wIndex = (uint16_t)h.intf,
			.wLength = sizeof(st),
			.timeout = 300,
			.data = &st,
		};

		kill(bridge, SIGSTOP);
		r1 = ioctl(h.fd, USBDEVFS_CONTROL, &c) < 0 ? -errno : 0;
		r2 = ioctl(h.fd, USBDEVFS_CONTROL, &c) < 0 ? -errno : 0;
		kill(bridge, SIGCONT);
		usleep(500000);
		close(h.fd);
	}
	tap_ok(!ret && r1 < 0 && r2 < 0 && waitpid(bridge, NULL, WNOHANG) == 0,
	       "two status requests the host gave up on while the daemon was stopped "
	       "(%d, %d): the daemon runs on",
	       r1, r2);
}

#define ADC_PARAMS "channels=4 sample_bits=32 sampling_frequency=0"

#define ADC_DRIVER "/sys/bus/platform/drivers/izc-sim-adc"

static void disturb_adc(void)
{
	int ret = tool_write_file(ADC_DRIVER "/delete_device", "izc-sim-adc.0");

	tap_ok(ret == 0, "izc-sim-adc.0 deleted while the bridge streams from it (%s)",
	       strerror(-ret));
	usleep(500000);
	/* The module's defaults: channels=4 sample_bits=32, unpaced. */
	ret = tool_write_file(ADC_DRIVER "/new_device", "\n");
	tap_ok(ret == 0, "new_device: izc-sim-adc0 is back (%s)", strerror(-ret));
}

/* An unbounded capture cut by @disturb; the host client must fail cleanly. */
static void cut(const char *what, const char *mode, void (*disturb)(void))
{
	unsigned int runs = runs_started();
	pid_t host = host_start(mode, "/dev/null");
	int ret;

	let_it_stream(what, host, runs);
	disturb();
	ret = usb_env_wait(host, 60);
	tap_ok(ret == 1, "%s: the streaming host client ends with an error (exit %d)", what, ret);
	host_check(what);
}

int main(void)
{
	char out[2048];
	unsigned int runs;
	pid_t pid, host;
	int ret;

	tap_plan(43);
	unlink(LOG);
	usb_env_gadget_stack();
	if (tap_load_module("izc_soft_dma", NULL) || tap_load_module("izc_block_buffer", NULL) ||
	    tap_load_module("izc_sim_adc", ADC_PARAMS))
		tap_bail("our converter modules do not load");
	ret = usb_env_load("dummy_hcd", "is_super_speed=1");
	tap_ok(ret == 0, "dummy_hcd (SuperSpeed, sg) loads (%s)", strerror(-ret));
	{
		const char *const args[] = {"--drain", "1000", NULL};

		pid = usb_env_bridge_start(args, LOG);
	}
	tap_ok(pid > 0, "izc-usb-bridge started: exec'd, pid %d", pid);
	host_check("first run");
	cancelled_setups(pid);
	host_check("after cancelled control requests");

	cut("host port disabled", "--dmabuf", disturb_port);
	cut("host reset", "--dmabuf", disturb_reset);
	cut("gadget unbound", "--dmabuf", disturb_unbind);
	cut("ADC removed", "--dmabuf", disturb_adc);

	/* SIGINT: STOP, drain, zero-length packet. */
	runs = runs_started();
	host = host_start("--dmabuf", "/tmp/usb-bridge-robust.json");
	let_it_stream("SIGINT to the host", host, runs);
	kill(host, SIGINT);
	ret = usb_env_wait(host, 60);
	out[0] = 0;
	{
		int fd = open("/tmp/usb-bridge-robust.json", O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, out, sizeof(out) - 1) : -1;

		out[n > 0 ? n : 0] = 0;
		if (fd >= 0)
			close(fd);
	}
	if (!tap_ok(ret == 0 && usb_env_json_true(out, "ok") &&
			    usb_env_json_num(out, "bytes") > 0 &&
			    usb_env_json_num(out, "bytes") ==
				    usb_env_json_num(out, "bridge_blocks") *
					    usb_env_json_num(out, "block_size"),
		    "SIGINT to the host: STOP, drained, pattern exact over %.0f MiB, every block "
		    "the bridge sent (exit %d)",
		    usb_env_json_num(out, "bytes") / 1048576, ret))
		log_tail();
	host_check("after STOP");

	/* The host stops reading and leaves without STOP: the drain cancels. */
	runs = runs_started();
	host = host_start("--dmabuf", "/dev/null");
	let_it_stream("host client killed", host, runs);
	kill(host, SIGKILL);
	ret = usb_env_wait(host, 10);
	tap_ok(ret == 128 + SIGKILL, "host client killed while streaming: gone at once (%d)", ret);
	host_check("after a vanished host");

	/* The copy bridge, cut the same way. */
	cut("copy, host port disabled", "--copy", disturb_port);

	/* Daemon restart while streaming. */
	runs = runs_started();
	host = host_start("--dmabuf", "/dev/null");
	let_it_stream("SIGTERM to the daemon", host, runs);
	ret = usb_env_bridge_stop(pid);
	if (!tap_ok(ret == 0, "SIGTERM to the daemon while streaming: exit 0 (%d)", ret))
		log_tail();
	tap_ok(access(USB_ENV_GADGET, F_OK) && errno == ENOENT, "the configfs gadget is gone");
	ret = usb_env_wait(host, 60);
	tap_ok(ret == 1, "the host client ends with an error (exit %d)", ret);
	pid = usb_env_bridge_start(NULL, LOG);
	tap_ok(pid > 0, "izc-usb-bridge started again: exec'd, pid %d", pid);
	host_check("after a daemon restart");

	ret = usb_env_bridge_stop(pid);
	tap_ok(ret == 0, "izc-usb-bridge exits 0 on SIGTERM (%d)", ret);
	if (ret)
		usb_env_diag_file(LOG);
	ret = usb_env_unload("dummy_hcd");
	tap_ok(ret == 0, "dummy_hcd unloads (%s)", strerror(-ret));
	return tap_done();
}
