// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Context discovery on a fake sysfs tree: devices, labels, attributes,
 * buffers (bufferN and legacy), channels, scan masks, error paths.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "izc.h"
#include "test.h"

/*
 * iio:device0  izc-sim-adc, label adc0; buffer0 in: in_voltage0..3 (s16,
 *              0 and 1 enabled) + in_timestamp; buffer1 out: out_voltage0
 * iio:device2  dac, label dac0; buffer0 out: out_voltage0 (enabled)
 * iio:device3  no buffer
 * iio:device10 izc-sim-adc, no label; legacy buffer/ + scan_elements/
 * plus a trigger and junk entries that are not devices
 */
int build_tree(struct fake_tree *ft);
int build_tree(struct fake_tree *ft)
{
	int ret = fake_tree_init(ft);

	ret = ret ? ret : fake_write(ft, "iio:device0/name", "izc-sim-adc\n");
	ret = ret ? ret : fake_write(ft, "iio:device0/label", "adc0\n");
	ret = ret ? ret : fake_write(ft, "iio:device0/sampling_frequency", "1000000\n");
	ret = ret ? ret : fake_buffer(ft, "iio:device0/buffer0", "in");
	/* created out of index order on purpose */
	ret = ret ? ret
		  : fake_channel(ft, "iio:device0/buffer0", "in_voltage3", 3, "le:s16/16>>0", 0);
	ret = ret ? ret
		  : fake_channel(ft, "iio:device0/buffer0", "in_voltage1", 1, "le:s16/16>>0", 1);
	ret = ret ? ret
		  : fake_channel(ft, "iio:device0/buffer0", "in_timestamp", 4, "le:s64/64>>0", 0);
	ret = ret ? ret
		  : fake_channel(ft, "iio:device0/buffer0", "in_voltage0", 0, "le:s16/16>>0", 1);
	ret = ret ? ret
		  : fake_channel(ft, "iio:device0/buffer0", "in_voltage2", 2, "le:s16/16>>0", 0);
	ret = ret ? ret : fake_buffer(ft, "iio:device0/buffer1", "out");
	ret = ret ? ret
		  : fake_channel(ft, "iio:device0/buffer1", "out_voltage0", 0, "le:u12/16>>4", 1);

	ret = ret ? ret : fake_write(ft, "iio:device2/name", "dac\n");
	ret = ret ? ret : fake_write(ft, "iio:device2/label", "dac0\n");
	ret = ret ? ret : fake_buffer(ft, "iio:device2/buffer0", "out");
	ret = ret ? ret
		  : fake_channel(ft, "iio:device2/buffer0", "out_voltage0", 0, "le:s16/16>>0", 1);

	ret = ret ? ret : fake_write(ft, "iio:device3/name", "plain\n");

	ret = ret ? ret : fake_write(ft, "iio:device10/name", "izc-sim-adc\n");
	ret = ret ? ret : fake_buffer(ft, "iio:device10/buffer", NULL);
	ret = ret ? ret
		  : fake_channel(ft, "iio:device10/scan_elements", "in_voltage0", 0, "be:u16/16>>0",
				 1);

	ret = ret ? ret : fake_write(ft, "trigger0/name", "trig\n");
	ret = ret ? ret : fake_write(ft, "iio:devicex/name", "junk\n");
	ret = ret ? ret : fake_write(ft, "iio:device", "not a dir\n");
	return ret;
}

static void enumerate(struct test_ctx *t)
{
	static const char *const ids[] = {"iio:device0", "iio:device2", "iio:device3",
					  "iio:device10"};
	struct izc_context *ctx = NULL;
	struct izc_device *dev;
	struct fake_tree ft = {0};

	REQUIRE_INT(t, build_tree(&ft), 0);
	REQUIRE_INT(t, izc_context_open(ft.sysfs, ft.dev, &ctx), 0);
	REQUIRE_INT(t, izc_context_device_count(ctx), 4);
	for (unsigned int i = 0; i < 4; i++) {
		CHECK_INT(t, izc_context_get_device(ctx, i, &dev), 0);
		CHECK_STR(t, izc_device_id(dev), ids[i]);
	}
	CHECK_INT(t, izc_device_number(dev), 10);
	CHECK_INT(t, izc_context_get_device(ctx, 4, &dev), -EINVAL);
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

static void find_by_name_label_id(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct izc_device *dev = NULL;
	struct fake_tree ft = {0};

	REQUIRE_INT(t, build_tree(&ft), 0);
	REQUIRE_INT(t, izc_context_open(ft.sysfs, ft.dev, &ctx), 0);
	CHECK_INT(t, izc_context_find_device(ctx, "adc0", &dev), 0);
	CHECK_STR(t, izc_device_id(dev), "iio:device0");
	CHECK_STR(t, izc_device_name(dev), "izc-sim-adc");
	CHECK_STR(t, izc_device_label(dev), "adc0");
	CHECK_INT(t, izc_context_find_device(ctx, "dac", &dev), 0);
	CHECK_STR(t, izc_device_id(dev), "iio:device2");
	CHECK_INT(t, izc_context_find_device(ctx, "izc-sim-adc", &dev), 0); /* first wins */
	CHECK_STR(t, izc_device_id(dev), "iio:device0");
	CHECK_INT(t, izc_context_find_device(ctx, "iio:device10", &dev), 0);
	CHECK(t, izc_device_label(dev) == NULL);
	dev = NULL;
	CHECK_INT(t, izc_context_find_device(ctx, "no-such-adc", &dev), -ENODEV);
	CHECK(t, dev == NULL); /* out-pointer untouched on error */
	CHECK_INT(t, izc_context_find_device(ctx, "", &dev), -ENODEV);
	CHECK_INT(t, izc_context_find_device(ctx, NULL, &dev), -EINVAL);
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

static void device_attributes(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct izc_device *dev;
	struct fake_tree ft = {0};
	char buf[64];
	long long v = 0;

	REQUIRE_INT(t, build_tree(&ft), 0);
	REQUIRE_INT(t, izc_context_open(ft.sysfs, ft.dev, &ctx), 0);
	REQUIRE_INT(t, izc_context_find_device(ctx, "adc0", &dev), 0);
	CHECK_INT(t, izc_device_attr_read(dev, "sampling_frequency", buf, sizeof(buf)), 7);
	CHECK_STR(t, buf, "1000000");
	CHECK_INT(t, izc_device_attr_read_ll(dev, "sampling_frequency", &v), 0);
	CHECK_INT(t, v, 1000000);
	CHECK_INT(t, izc_device_attr_write_ll(dev, "sampling_frequency", -42), 0);
	CHECK_INT(t, fake_read(&ft, "iio:device0/sampling_frequency", buf, sizeof(buf)), 3);
	CHECK_STR(t, buf, "-42");
	CHECK_INT(t, izc_device_attr_write(dev, "sampling_frequency", "2500"), 0);
	CHECK_INT(t, izc_device_attr_read_ll(dev, "sampling_frequency", &v), 0);
	CHECK_INT(t, v, 2500);
	/* errors */
	CHECK_INT(t, izc_device_attr_read(dev, "no_such_attr", buf, sizeof(buf)), -ENOENT);
	CHECK_INT(t, izc_device_attr_read_ll(dev, "name", &v), -EINVAL); /* not a number */
	CHECK_INT(t, izc_device_attr_read(dev, "name", buf, 4), -ENAMETOOLONG);
	CHECK_INT(t, izc_device_attr_read(dev, "../iio:device2/name", buf, sizeof(buf)), -EINVAL);
	CHECK_INT(t, izc_device_attr_write(dev, "..", "1"), -EINVAL);
	CHECK_INT(t, izc_device_attr_write(dev, "no_such_attr", "1"), -ENOENT);
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

static void buffers(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct izc_device *dev;
	struct izc_buffer *buf = NULL;
	struct izc_channel *ch;
	struct fake_tree ft = {0};
	long long len;

	REQUIRE_INT(t, build_tree(&ft), 0);
	REQUIRE_INT(t, izc_context_open(ft.sysfs, ft.dev, &ctx), 0);
	REQUIRE_INT(t, izc_context_find_device(ctx, "adc0", &dev), 0);
	CHECK_INT(t, izc_device_buffer_count(dev), 2);
	REQUIRE_INT(t, izc_device_get_buffer(dev, 1, &buf), 0);
	CHECK_INT(t, izc_buffer_index(buf), 1);
	CHECK(t, izc_buffer_device(buf) == dev);
	CHECK_INT(t, izc_buffer_direction(buf), IZC_DIR_OUT);
	CHECK_INT(t, izc_buffer_channel_count(buf), 1);
	REQUIRE_INT(t, izc_device_get_buffer(dev, 0, &buf), 0);
	CHECK_INT(t, izc_buffer_direction(buf), IZC_DIR_IN);
	CHECK_INT(t, izc_buffer_channel_count(buf), 5);
	CHECK_INT(t, izc_device_get_buffer(dev, 2, &buf), -ENODEV);

	/* legacy layout: buffer/ + scan_elements/, no direction file */
	REQUIRE_INT(t, izc_context_find_device(ctx, "iio:device10", &dev), 0);
	CHECK_INT(t, izc_device_buffer_count(dev), 1);
	REQUIRE_INT(t, izc_device_get_buffer(dev, 0, &buf), 0);
	CHECK_INT(t, izc_buffer_direction(buf), IZC_DIR_IN);
	REQUIRE_INT(t, izc_buffer_channel_count(buf), 1);
	REQUIRE_INT(t, izc_buffer_get_channel(buf, 0, &ch), 0);
	CHECK_STR(t, izc_channel_id(ch), "in_voltage0");
	CHECK_INT(t, izc_channel_scan_type(ch)->is_be, true);
	CHECK_INT(t, izc_buffer_set_length(buf, 64), 0);
	len = 0;
	CHECK_INT(t, izc_buffer_attr_read_ll(buf, "length", &len), 0);
	CHECK_INT(t, len, 64);

	/* no buffer at all */
	REQUIRE_INT(t, izc_context_find_device(ctx, "plain", &dev), 0);
	CHECK_INT(t, izc_device_buffer_count(dev), 0);
	CHECK_INT(t, izc_device_get_buffer(dev, 0, &buf), -ENODEV);
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

static void buffer_attributes(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct izc_device *dev;
	struct izc_buffer *buf;
	struct fake_tree ft = {0};
	unsigned long long avail = 1;
	long long v = 0;
	char s[32];

	REQUIRE_INT(t, build_tree(&ft), 0);
	REQUIRE_INT(t, izc_context_open(ft.sysfs, ft.dev, &ctx), 0);
	REQUIRE_INT(t, izc_context_find_device(ctx, "adc0", &dev), 0);
	REQUIRE_INT(t, izc_device_get_buffer(dev, 0, &buf), 0);
	CHECK_INT(t, izc_buffer_set_length(buf, 4096), 0);
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/length", s, sizeof(s)), 4);
	CHECK_STR(t, s, "4096");
	CHECK_INT(t, izc_buffer_set_watermark(buf, 512), 0);
	CHECK_INT(t, izc_buffer_attr_read_ll(buf, "watermark", &v), 0);
	CHECK_INT(t, v, 512);
	CHECK_INT(t, izc_buffer_set_length(buf, 0), -EINVAL);
	CHECK_INT(t, izc_buffer_enabled(buf), 0);
	CHECK_INT(t, izc_buffer_set_enabled(buf, true), 0);
	CHECK_INT(t, izc_buffer_enabled(buf), 1);
	CHECK_INT(t, izc_buffer_data_available(buf, &avail), 0);
	CHECK_INT(t, avail, 0);
	/* something else there first, so the read-back shows the write */
	REQUIRE_INT(t, fake_write(&ft, "iio:device0/buffer0/direction", "out\n"), 0);
	CHECK_INT(t, izc_buffer_attr_write(buf, "direction", "in"), 0);
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/direction", s, sizeof(s)), 2);
	CHECK_STR(t, s, "in");
	memset(s, 'x', sizeof(s));
	CHECK_INT(t, izc_buffer_attr_read(buf, "direction", s, sizeof(s)), 2);
	CHECK_STR(t, s, "in");
	CHECK_INT(t, izc_buffer_attr_read(buf, "nope", s, sizeof(s)), -ENOENT);
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

static void channels(struct test_ctx *t)
{
	static const char *const order[] = {"in_voltage0", "in_voltage1", "in_voltage2",
					    "in_voltage3", "in_timestamp"};
	struct izc_context *ctx = NULL;
	struct izc_channel *ch = NULL;
	struct izc_device *dev;
	struct izc_buffer *buf;
	struct fake_tree ft = {0};

	REQUIRE_INT(t, build_tree(&ft), 0);
	REQUIRE_INT(t, izc_context_open(ft.sysfs, ft.dev, &ctx), 0);
	REQUIRE_INT(t, izc_context_find_device(ctx, "adc0", &dev), 0);
	REQUIRE_INT(t, izc_device_get_buffer(dev, 0, &buf), 0);
	for (unsigned int i = 0; i < 5; i++) {
		REQUIRE_INT(t, izc_buffer_get_channel(buf, i, &ch), 0);
		CHECK_STR(t, izc_channel_id(ch), order[i]);
		CHECK_INT(t, izc_channel_scan_index(ch), i);
	}
	CHECK_INT(t, izc_channel_scan_type(ch)->storagebits, 64);
	CHECK_INT(t, izc_buffer_get_channel(buf, 5, &ch), -EINVAL);
	CHECK_INT(t, izc_buffer_find_channel(buf, "voltage2", &ch), 0);
	CHECK_STR(t, izc_channel_id(ch), "in_voltage2");
	CHECK_INT(t, izc_buffer_find_channel(buf, "in_voltage1", &ch), 0);
	CHECK_INT(t, izc_channel_scan_index(ch), 1);
	CHECK_INT(t, izc_channel_enabled(ch), 1);
	CHECK_INT(t, izc_buffer_find_channel(buf, "voltage9", &ch), -ENOENT);
	CHECK_INT(t, izc_buffer_find_channel(buf, "in_", &ch), -ENOENT);
	CHECK_INT(t, izc_channel_enable(ch, false), 0);
	CHECK_INT(t, izc_channel_enabled(ch), 0);
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

static void scan_mask_and_frame_size(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct izc_device *dev;
	struct izc_buffer *buf;
	struct fake_tree ft = {0};
	size_t size = 0;
	char s[8];

	REQUIRE_INT(t, build_tree(&ft), 0);
	REQUIRE_INT(t, izc_context_open(ft.sysfs, ft.dev, &ctx), 0);
	REQUIRE_INT(t, izc_context_find_device(ctx, "adc0", &dev), 0);
	REQUIRE_INT(t, izc_device_get_buffer(dev, 0, &buf), 0);
	CHECK_INT(t, izc_buffer_frame_size(buf, &size), 0); /* voltage0+1 */
	CHECK_INT(t, size, 4);
	CHECK_INT(t, izc_buffer_set_scan_mask(buf, 0x1c), 0); /* voltage2, 3, timestamp */
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/in_voltage0_en", s, sizeof(s)), 1);
	CHECK_STR(t, s, "0");
	CHECK_INT(t, fake_read(&ft, "iio:device0/buffer0/in_voltage3_en", s, sizeof(s)), 1);
	CHECK_STR(t, s, "1");
	CHECK_INT(t, izc_buffer_frame_size(buf, &size), 0);
	CHECK_INT(t, size, 16); /* 2 x s16, pad to 8, s64 */
	CHECK_INT(t, izc_buffer_set_scan_mask(buf, 0x20), -ERANGE);
	CHECK_INT(t, izc_buffer_set_scan_mask(buf, 0), 0);
	CHECK_INT(t, izc_buffer_frame_size(buf, &size), -EINVAL); /* nothing enabled */
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

static void open_errors(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct fake_tree ft = {0};
	char path[256];

	CHECK_INT(t, izc_context_open("/nonexistent/izc/sysfs", NULL, &ctx), -ENOENT);
	CHECK(t, ctx == NULL);
	CHECK_INT(t, izc_context_open(NULL, NULL, NULL), -EINVAL);
	REQUIRE_INT(t, build_tree(&ft), 0);
	/* an empty root is a valid context with no devices */
	snprintf(path, sizeof(path), "%s/iio:device3", ft.sysfs);
	REQUIRE_INT(t, izc_context_open(path, NULL, &ctx), 0);
	CHECK_INT(t, izc_context_device_count(ctx), 0);
	izc_context_close(ctx);
	ctx = NULL;
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

/*
 * A channel whose type cannot be laid out is kept, flagged by storagebits
 * 0: the context opens, the device's other channels work, a frame with it
 * enabled is -EINVAL. 24-bit storage (the kernel allows it, e.g. ad5791) is
 * a valid type, laid out with the kernel's ALIGN().
 */
static void bad_and_24bit_channels(struct test_ctx *t)
{
	const struct izc_scan_type *st;
	struct izc_context *ctx = NULL;
	struct izc_channel *ch;
	struct izc_device *dev;
	struct izc_buffer *buf;
	struct fake_tree ft = {0};
	size_t size = 0, off = 0;

	REQUIRE_INT(t, build_tree(&ft), 0);
	REQUIRE_INT(t,
		    fake_channel(&ft, "iio:device2/buffer0", "out_voltage1", 1, "le:s16/12>>0", 0),
		    0);
	REQUIRE_INT(t,
		    fake_channel(&ft, "iio:device2/buffer0", "out_voltage2", 2, "le:u24/24>>0", 0),
		    0);
	REQUIRE_INT(t, izc_context_open(ft.sysfs, ft.dev, &ctx), 0);
	CHECK_INT(t, izc_context_device_count(ctx), 4);
	REQUIRE_INT(t, izc_context_find_device(ctx, "dac0", &dev), 0);
	REQUIRE_INT(t, izc_device_get_buffer(dev, 0, &buf), 0);
	REQUIRE_INT(t, izc_buffer_channel_count(buf), 3);
	REQUIRE_INT(t, izc_buffer_find_channel(buf, "out_voltage1", &ch), 0);
	st = izc_channel_scan_type(ch);
	CHECK_INT(t, st->storagebits, 0);
	CHECK_INT(t, izc_scan_type_bytes(st), 0);
	REQUIRE_INT(t, izc_buffer_find_channel(buf, "out_voltage2", &ch), 0);
	st = izc_channel_scan_type(ch);
	CHECK_INT(t, st->storagebits, 24);
	CHECK_INT(t, st->realbits, 24);
	CHECK_INT(t, izc_scan_type_bytes(st), 3);
	/* voltage0 only: fine */
	CHECK_INT(t, izc_buffer_frame_size(buf, &size), 0);
	CHECK_INT(t, size, 2);
	/*
	 * voltage0 (s16) + voltage2 (u24) with the kernel's mask-based ALIGN():
	 * 0..1, ALIGN(2, 3) = (2 + 2) & ~2 = 4..6, frame ALIGN(7, 3) = 9.
	 */
	CHECK_INT(t, izc_buffer_set_scan_mask(buf, 0x5), 0);
	CHECK_INT(t, izc_buffer_frame_size(buf, &size), 0);
	CHECK_INT(t, size, 9);
	{
		struct izc_scan_type ty[2] = {{.realbits = 16, .storagebits = 16, .repeat = 1},
					      *st};
		size_t offs[2] = {99, 99};

		CHECK_INT(t, izc_scan_layout(ty, 2, offs, &size), 0);
		CHECK_INT(t, offs[0], 0);
		CHECK_INT(t, offs[1], 4);
		off = offs[1];
	}
	CHECK_INT(t, off, 4);
	/* the flagged channel enabled: no frame layout */
	CHECK_INT(t, izc_buffer_set_scan_mask(buf, 0x3), 0);
	CHECK_INT(t, izc_buffer_frame_size(buf, &size), -EINVAL);
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

/* A device that cannot be read is left out; the others are all there. */
static void bad_device_skipped(struct test_ctx *t)
{
	struct izc_context *ctx = NULL;
	struct izc_device *dev;
	struct fake_tree ft = {0};
	char path[512];

	REQUIRE_INT(t, build_tree(&ft), 0);
	/* a direction the kernel never prints */
	REQUIRE_INT(t, fake_write(&ft, "iio:device2/buffer0/direction", "sideways\n"), 0);
	/* a channel without its _index file, as when unplugged during the scan */
	REQUIRE_INT(t,
		    fake_channel(&ft, "iio:device3/buffer0", "in_voltage0", 0, "le:s16/16>>0", 0),
		    0);
	snprintf(path, sizeof(path), "%s/iio:device3/buffer0/in_voltage0_index", ft.sysfs);
	REQUIRE_INT(t, unlink(path), 0);
	REQUIRE_INT(t, izc_context_open(ft.sysfs, ft.dev, &ctx), 0);
	CHECK_INT(t, izc_context_device_count(ctx), 2);
	CHECK_INT(t, izc_context_find_device(ctx, "dac0", &dev), -ENODEV);
	CHECK_INT(t, izc_context_find_device(ctx, "plain", &dev), -ENODEV);
	CHECK_INT(t, izc_context_get_device(ctx, 0, &dev), 0);
	CHECK_STR(t, izc_device_id(dev), "iio:device0");
	CHECK_INT(t, izc_context_get_device(ctx, 1, &dev), 0);
	CHECK_STR(t, izc_device_id(dev), "iio:device10");
out:
	izc_context_close(ctx);
	fake_tree_destroy(&ft);
}

TEST_SUITE(context_suite, TEST(enumerate), TEST(find_by_name_label_id), TEST(device_attributes),
	   TEST(buffers), TEST(buffer_attributes), TEST(channels), TEST(scan_mask_and_frame_size),
	   TEST(open_errors), TEST(bad_and_24bit_channels), TEST(bad_device_skipped));
