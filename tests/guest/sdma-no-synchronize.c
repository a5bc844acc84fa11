// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sdma-no-synchronize: the block buffer refuses a DMA channel that cannot
 * be synchronized (no device_synchronize: dmaengine_terminate_sync() would
 * not wait for running callbacks, and a late callback could complete a
 * block submitted again), and says why. The soft DMA's no_synchronize
 * parameter registers the controller without it:
 *  - the simulated ADC's probe fails, so loading izc_sim_adc fails with
 *    ENODEV (its instance has no driver), and no izc-sim-adc device exists;
 *  - the kernel log names the channel and the reason;
 *  - with the parameter off, the same modules load and the ADC is there.
 */
#include <dirent.h>
#include <sys/klog.h>

#include "tap.h"

#define KLOG_READ_ALL 3
#define KLOG_SIZE     (1 << 20)

/* Whether the kernel log holds @what. */
static bool klog_has(const char *what)
{
	static char buf[KLOG_SIZE + 1];
	int n = klogctl(KLOG_READ_ALL, buf, KLOG_SIZE);

	if (n < 0)
		return false;
	buf[n] = 0;
	return strstr(buf, what) != NULL;
}

/* Whether an IIO device named @name exists. */
static bool iio_has(const char *name)
{
	DIR *d = opendir("/sys/bus/iio/devices");
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d))) {
		char path[300], buf[64] = "";

		if (strncmp(e->d_name, "iio:device", 10))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/iio/devices/%s/name", e->d_name);
		found = tool_read_file(path, buf, sizeof(buf)) > 0 && !strcmp(buf, name);
	}
	if (d)
		closedir(d);
	return found;
}

int main(void)
{
	int ret;

	tap_plan(7);
	ret = tap_load_module("izc_soft_dma", "no_synchronize=1");
	tap_success(ret, -ret, "izc_soft_dma no_synchronize=1 loads");
	ret = tap_load_module("izc_block_buffer", NULL);
	tap_success(ret, -ret, "izc_block_buffer loads");
	ret = tap_load_module("izc_sim_adc", NULL);
	tap_errno(ret, -ret, ENODEV, "izc_sim_adc: its ADC cannot probe, ENODEV");
	tap_ok(!iio_has("izc-sim-adc"), "no izc-sim-adc device");
	tap_ok(klog_has("izc-sim-adc.0: DMA channel rx (dma") &&
		       klog_has(
			       ") cannot be terminated and synchronized, which a DMA buffer needs"),
	       "the kernel log says which channel and why");

	tap_unload_module("izc_sim_adc");
	tap_unload_module("izc_block_buffer");
	ret = tap_unload_module("izc_soft_dma");
	if (!ret)
		ret = tap_load_sim_adc(NULL);
	tap_success(ret, -ret, "without no_synchronize the same modules load");
	tap_ok(iio_has("izc-sim-adc"), "and the ADC is there");
	return tap_done();
}
