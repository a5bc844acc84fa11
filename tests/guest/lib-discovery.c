// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib-discovery: libizc's sysfs discovery against two simulated ADCs, the
 * default one (4 x le:s16/16>>0) and one added through new_device with
 * "8 32" (8 x le:s32/32>>0): names, labels, lookups by id/label/name,
 * buffers, channels and scan types as docs/sim-adc.md gives them, scan
 * masks and frame sizes, attributes, and the exact errno of each lookup
 * that must fail.
 */
#include <stdint.h>
#include <string.h>

#include "izc.h"
#include "tap.h"

/* Every channel of buf: id in_voltageN, scan index N, the given type text. */
static bool check_channels(const struct izc_buffer *buf, unsigned int n, const char *type)
{
	bool ok = izc_buffer_channel_count(buf) == n;

	for (unsigned int i = 0; ok && i < n; i++) {
		struct izc_channel *ch;
		char id[32], txt[32];

		snprintf(id, sizeof(id), "in_voltage%u", i);
		ok = !izc_buffer_get_channel(buf, i, &ch) && !strcmp(izc_channel_id(ch), id) &&
		     izc_channel_scan_index(ch) == i &&
		     izc_scan_type_format(izc_channel_scan_type(ch), txt, sizeof(txt)) > 0 &&
		     !strcmp(txt, type);
		if (!ok)
			tap_diag("channel %u: id %s index %u type %s", i, izc_channel_id(ch),
				 izc_channel_scan_index(ch), txt);
	}
	return ok;
}

int main(void)
{
	struct izc_device *a = NULL, *b = NULL, *d;
	struct izc_buffer *ba = NULL, *bb = NULL, *x;
	struct izc_channel *ch;
	struct izc_context *ctx;
	char val[64];
	long long ll = 0;
	size_t frame = 0;
	int ret = 0;

	tap_plan(25);
	ret = tap_load_sim_adc(NULL);
	if (!tap_ok(ret == 0, "modules loaded (%d)", ret))
		tap_bail("no simulated ADC");
	ret = tool_write_file("/sys/bus/platform/drivers/izc-sim-adc/new_device", "8 32");
	tap_ok(ret == 0, "new_device \"8 32\" (%d)", ret);

	ret = izc_context_open(NULL, NULL, &ctx);
	if (!tap_ok(ret == 0, "context open (%d)", ret))
		tap_bail("no context");
	tap_ok(izc_version() == IZC_VERSION, "izc_version %#x", izc_version());
	tap_ok(izc_context_device_count(ctx) == 2, "2 devices (%u)", izc_context_device_count(ctx));

	ret = izc_context_find_device(ctx, "izc-sim-adc0", &a);
	if (!ret)
		ret = izc_context_find_device(ctx, "izc-sim-adc1", &b);
	if (!tap_ok(ret == 0, "found by label izc-sim-adc0 and izc-sim-adc1 (%d)", ret))
		tap_bail("labels");
	tap_ok(!strcmp(izc_device_name(a), "izc-sim-adc") &&
		       !strcmp(izc_device_name(b), "izc-sim-adc"),
	       "both named izc-sim-adc");
	tap_ok(izc_context_find_device(ctx, "izc-sim-adc", &d) == 0 && d == a,
	       "by name: the first device in device order");
	tap_ok(izc_context_find_device(ctx, izc_device_id(b), &d) == 0 && d == b &&
		       !strncmp(izc_device_id(b), "iio:device", 10) &&
		       izc_device_number(b) == (unsigned int)atoi(izc_device_id(b) + 10),
	       "by id %s, number %u", izc_device_id(b), izc_device_number(b));
	tap_errno(izc_context_find_device(ctx, "no-such-adc", &d), 0, ENODEV,
		  "unknown device: -ENODEV");

	ret = izc_device_get_buffer(a, 0, &ba);
	if (!ret)
		ret = izc_device_get_buffer(b, 0, &bb);
	tap_ok(ret == 0 && izc_device_buffer_count(a) == 1 && izc_buffer_index(ba) == 0 &&
		       izc_buffer_device(ba) == a && izc_buffer_direction(ba) == IZC_DIR_IN &&
		       izc_buffer_direction(bb) == IZC_DIR_IN,
	       "one input buffer each (%d)", ret);
	if (!ba || !bb)
		tap_bail("buffers");
	tap_errno(izc_device_get_buffer(a, 1, &x), 0, ENODEV, "no buffer1: -ENODEV");
	tap_ok(check_channels(ba, 4, "le:s16/16>>0"), "adc0: in_voltage0..3, le:s16/16>>0");
	tap_ok(check_channels(bb, 8, "le:s32/32>>0"), "adc1: in_voltage0..7, le:s32/32>>0");
	tap_ok(izc_buffer_find_channel(bb, "voltage5", &ch) == 0 &&
		       izc_channel_scan_index(ch) == 5 &&
		       izc_buffer_find_channel(bb, "in_voltage5", &ch) == 0,
	       "channel by short and full id");
	tap_errno(izc_buffer_find_channel(ba, "voltage4", &ch), 0, ENOENT,
		  "adc0 has no voltage4: -ENOENT");

	ret = izc_buffer_set_scan_mask(bb, 0xa5);
	if (!ret)
		ret = izc_buffer_frame_size(bb, &frame);
	tap_ok(ret == 0 && frame == 16, "adc1 mask 0xa5: 4 x 4-byte frame = %zu (%d)", frame, ret);
	ret = izc_buffer_find_channel(bb, "voltage1", &ch);
	tap_ok(ret == 0 && izc_channel_enabled(ch) == 0 && izc_channel_enable(ch, true) == 0 &&
		       izc_channel_enabled(ch) == 1 && izc_buffer_frame_size(bb, &frame) == 0 &&
		       frame == 20,
	       "enable voltage1 by hand: 5 channels, frame %zu", frame);
	tap_errno(izc_buffer_set_scan_mask(ba, 0x10), 0, ERANGE, "adc0 mask 0x10: -ERANGE");
	ret = izc_buffer_set_scan_mask(ba, 0);
	tap_success(ret, -ret, "adc0 mask 0: every channel disabled");
	tap_errno(izc_buffer_frame_size(ba, &frame), 0, EINVAL,
		  "no channel enabled: frame size -EINVAL");

	ret = izc_device_attr_write_ll(a, "sampling_frequency", 12345);
	if (!ret)
		ret = izc_device_attr_read_ll(a, "sampling_frequency", &ll);
	tap_ok(ret == 0 && ll == 12345, "sampling_frequency write/read %lld (%d)", ll, ret);
	ret = izc_device_attr_read(a, "dma_mode_available", val, sizeof(val));
	tap_ok(ret == (int)strlen("touch null") && !strcmp(val, "touch null"),
	       "dma_mode_available \"%s\" (%d)", val, ret);
	tap_errno(izc_device_attr_read(a, "no_such_attr", val, sizeof(val)), 0, ENOENT,
		  "missing attribute: -ENOENT");
	ret = izc_buffer_set_length(ba, 8192);
	if (!ret)
		ret = izc_buffer_attr_read_ll(ba, "length", &ll);
	tap_ok(ret == 0 && ll == 8192 && izc_buffer_enabled(ba) == 0,
	       "buffer length 8192, disabled (%d)", ret);
	izc_context_close(ctx);
	return tap_done();
}
