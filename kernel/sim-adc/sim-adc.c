// SPDX-License-Identifier: GPL-2.0
/*
 * iio-zerocopy: simulated high-speed ADC.
 *
 * Each instance is a platform device "izc-sim-adc.N" with an IIO device
 * (name "izc-sim-adc", label "izc-sim-adcN"): 2 to 16 voltage channels of
 * s16 or s32 little endian samples, scanned in channel order and packed
 * (no timestamp: a DMA buffer carries samples only). The "hardware" is a
 * sample port of the software DMA controller (izc_soft_dma): the DMA engine
 * pulls frames from the waveform generator at sampling_frequency and writes
 * them into the buffer's blocks; the block buffer (izc_block_buffer) is set
 * up with one call. This driver has no buffer code of its own.
 *
 * Device attributes (besides the IIO core's):
 *  sampling_frequency	S/s, 1..IZC_SIM_MAX_RATE; 0 selects unpaced (as
 *			fast as the buffer takes blocks, never an overrun).
 *			Read back 0 when unpaced.
 *  dma_mode		"touch" (every sample written by the engine) or "null"
 *			(blocks complete at the paced rate, memory untouched)
 *  dma_mode_available
 *  dma_channel		the izc-soft-dma channel serving this ADC
 *  blocks_completed, bytes_completed	transfers done (since creation)
 *  overrun_events	gaps: times the application had no block queued
 *			while samples were due
 *  overrun_samples	frames (scans) lost in those gaps
 *  blocks_failed	transfers that failed (DMA error): their frames went
 *			by and never reached memory; not overruns
 *  loopback_source	label of the simulated DAC wired to this ADC
 *			(izc_sim_dac's loopback_adc), or "none"
 * Channel attributes: in_voltageN_waveform (counter, sine, ramp, noise),
 * in_voltage_waveform_available, in_voltageN_waveform_period (frames of one
 * sine or ramp period, 2..2^24).
 *
 * Loopback (loopback.c): while a DAC is paired, a stream captures what the
 * DAC emits instead of the waveform generator; the choice is made when the
 * buffer is enabled.
 *
 * The "dmabuf" module parameter (and the third number of new_device) builds
 * instances whose buffer offers read() only: the IIO core then refuses
 * IIO_BUFFER_DMABUF_ATTACH_IOCTL with -EPERM, which lets applications test
 * their fallback to fileio.
 * sampling_frequency and dma_mode can only change while the buffer is
 * disabled (-EBUSY otherwise); the waveform settings at any time.
 *
 * The stream restarts at frame 0 whenever the buffer is enabled; frames
 * lost in an overrun still advance the frame index, so the counter
 * waveform (see waveform.h and docs/sim-adc.md) shows every gap.
 *
 * What the DAC has too (instance registry, channel specs, sampling_frequency,
 * dma_mode, dma_channel, counters) is in sim-common.c.
 */

#include <linux/build_bug.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/stddef.h>
#include <linux/sysfs.h>

#include <linux/iio/buffer.h>
#include <linux/iio/iio.h>
#include <linux/iio/sysfs.h>

#include <izc/buffer-dmaengine.h>
#include <izc/sim-common.h>
#include <izc/soft-dma.h>

#include "loopback.h"
#include "waveform.h"

#define IZC_SIM_ADC_NAME	"izc-sim-adc"

/* the waveform generator serves every channel an instance can have */
static_assert(IZC_SIM_MAX_CHANS <= IZC_WAVEGEN_MAX_CHANS);

static unsigned int instances = 1;
module_param(instances, uint, 0444);
MODULE_PARM_DESC(instances, "ADC instances created at load (0-64, default 1)");

static unsigned int channels = 4;
module_param(channels, uint, 0444);
MODULE_PARM_DESC(channels, "channels per instance (2-16, default 4)");

static unsigned int sample_bits = 16;
module_param(sample_bits, uint, 0444);
MODULE_PARM_DESC(sample_bits, "sample storage bits, 16 or 32 (default 16)");

static unsigned int sampling_frequency = 1000000;
module_param(sampling_frequency, uint, 0444);
MODULE_PARM_DESC(sampling_frequency,
		 "initial sampling frequency in S/s, 0 unpaced (default 1000000)");

static bool dmabuf = true;
module_param(dmabuf, bool, 0444);
MODULE_PARM_DESC(dmabuf,
		 "instances created at load offer DMABUF (default 1); 0: read() only");

/**
 * struct izc_sim_adc_pdata - how an instance is built
 * @channels: number of channels
 * @bits: storage bits per sample
 * @dmabuf: the buffer offers the DMABUF interface
 */
struct izc_sim_adc_pdata {
	unsigned int channels;
	unsigned int bits;
	bool dmabuf;
};

/**
 * struct izc_sim_adc - one simulated ADC
 * @conv: sample port (pulled from by the soft DMA engine), sampling
 *	frequency, DMA mode, frames lost in overruns; must come first
 * @gen: the signal source
 * @link: the loopback wire from a DAC
 * @looped: the current stream captures @link, not @gen
 * @chans: channel specs
 *
 * Locking: @conv as documented at struct izc_sim_converter. The stream
 * fields of @gen (frame size, position) only change with the IIO device's
 * direct mode claimed or from update_scan_mode, which the IIO core runs under
 * the same lock (mlock) while it enables the buffer: never while streaming.
 * @looped follows the same rule. While streaming only the DMA engine's
 * worker calls fill()/skip()/avail(), one at a time. @link has its own
 * lock. Waveform settings (@gen.ch[].type, .period) are single words
 * written with WRITE_ONCE and read once per fill().
 */
struct izc_sim_adc {
	struct izc_sim_converter conv;
	struct izc_wavegen gen;
	struct izc_sim_link link;
	bool looped;
	struct iio_chan_spec chans[IZC_SIM_MAX_CHANS];
};

/* the shared callbacks find the converter at the start of iio_priv() */
static_assert(offsetof(struct izc_sim_adc, conv) == 0);

static struct izc_sim_adc *port_to_adc(struct izc_sample_port *port)
{
	return container_of(port, struct izc_sim_adc, conv.port);
}

/* ---- the sample port ----------------------------------------------------- */

static void izc_sim_adc_fill(struct izc_sample_port *port, void *dst,
			     size_t len)
{
	struct izc_sim_adc *adc = port_to_adc(port);

	if (adc->looped) {
		izc_sim_link_adc_fill(&adc->link, dst, len);
		/* the frame index still counts, as for the generator */
		izc_wavegen_skip(&adc->gen, len);
	} else {
		izc_wavegen_fill(&adc->gen, dst, len);
	}
}

static void izc_sim_adc_skip(struct izc_sample_port *port, size_t len,
			     bool lost)
{
	struct izc_sim_adc *adc = port_to_adc(port);

	/* the converter kept sampling: the frame index moves on */
	izc_wavegen_skip(&adc->gen, len);
	if (adc->looped)
		izc_sim_link_adc_fill(&adc->link, NULL, len);
	if (lost)
		izc_sim_converter_count_lost(&adc->conv, len);
}

/* Looped: as much as the DAC delivered; the generator never runs dry. */
static size_t izc_sim_adc_avail(struct izc_sample_port *port)
{
	struct izc_sim_adc *adc = port_to_adc(port);

	return adc->looped ? izc_sim_link_adc_avail(&adc->link) : SIZE_MAX;
}

static const struct izc_sample_port_ops izc_sim_adc_port_ops = {
	.fill = izc_sim_adc_fill,
	.skip = izc_sim_adc_skip,
	.avail = izc_sim_adc_avail,
};

/* ---- IIO ------------------------------------------------------------------ */

static int izc_sim_adc_update_scan_mode(struct iio_dev *indio_dev,
					const unsigned long *scan_mask)
{
	struct izc_sim_adc *adc = iio_priv(indio_dev);
	unsigned int frame;

	frame = izc_wavegen_start(&adc->gen, scan_mask);
	if (!frame)
		return -EINVAL;

	izc_sim_converter_set_frame(&adc->conv, frame);
	return 0;
}

/* The stream's source is chosen here, before the DMA starts. */
static int izc_sim_adc_preenable(struct iio_dev *indio_dev)
{
	struct izc_sim_adc *adc = iio_priv(indio_dev);

	adc->looped = izc_sim_link_adc_start(&adc->link,
					     indio_dev->active_scan_mask,
					     adc->conv.rate != 0);
	return 0;
}

/* After the buffer is disabled: the DMA has stopped. */
static int izc_sim_adc_postdisable(struct iio_dev *indio_dev)
{
	struct izc_sim_adc *adc = iio_priv(indio_dev);

	izc_sim_link_adc_stop(&adc->link);
	adc->looped = false;
	return 0;
}

static const struct iio_buffer_setup_ops izc_sim_adc_setup_ops = {
	.preenable = izc_sim_adc_preenable,
	.postdisable = izc_sim_adc_postdisable,
};

static int izc_sim_adc_get_wave(struct iio_dev *indio_dev,
				const struct iio_chan_spec *chan)
{
	struct izc_sim_adc *adc = iio_priv(indio_dev);

	return READ_ONCE(adc->gen.ch[chan->channel].type);
}

static int izc_sim_adc_set_wave(struct iio_dev *indio_dev,
				const struct iio_chan_spec *chan,
				unsigned int type)
{
	struct izc_sim_adc *adc = iio_priv(indio_dev);

	WRITE_ONCE(adc->gen.ch[chan->channel].type, type);
	return 0;
}

static const struct iio_enum izc_sim_adc_wave_enum = {
	.items = izc_wave_names,
	.num_items = ARRAY_SIZE(izc_wave_names),
	.get = izc_sim_adc_get_wave,
	.set = izc_sim_adc_set_wave,
};

static ssize_t izc_sim_adc_period_read(struct iio_dev *indio_dev,
				       uintptr_t priv,
				       const struct iio_chan_spec *chan,
				       char *buf)
{
	struct izc_sim_adc *adc = iio_priv(indio_dev);

	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(adc->gen.ch[chan->channel].period));
}

static ssize_t izc_sim_adc_period_write(struct iio_dev *indio_dev,
					uintptr_t priv,
					const struct iio_chan_spec *chan,
					const char *buf, size_t len)
{
	struct izc_sim_adc *adc = iio_priv(indio_dev);
	u32 period;
	int ret;

	ret = kstrtou32(buf, 0, &period);
	if (ret)
		return ret;
	if (period < 2 || period > IZC_WAVEGEN_MAX_PERIOD)
		return -EINVAL;

	WRITE_ONCE(adc->gen.ch[chan->channel].period, period);
	return len;
}

static const struct iio_chan_spec_ext_info izc_sim_adc_ext_info[] = {
	IIO_ENUM("waveform", IIO_SEPARATE, &izc_sim_adc_wave_enum),
	IIO_ENUM_AVAILABLE("waveform", IIO_SHARED_BY_TYPE,
			   &izc_sim_adc_wave_enum),
	{
		.name = "waveform_period",
		.shared = IIO_SEPARATE,
		.read = izc_sim_adc_period_read,
		.write = izc_sim_adc_period_write,
	},
	{ }
};

/* ---- device attributes ------------------------------------------------- */

static ssize_t loopback_source_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct izc_sim_adc *adc = iio_priv(dev_to_iio_dev(dev));

	return izc_sim_link_show_dac(&adc->link, buf);
}

static IIO_DEVICE_ATTR(dma_mode, 0644, izc_sim_dma_mode_show,
		       izc_sim_dma_mode_store, 0);
static IIO_CONST_ATTR(dma_mode_available, IZC_SIM_DMA_MODES_AVAILABLE);
static IIO_DEVICE_ATTR(dma_channel, 0444, izc_sim_dma_channel_show, NULL, 0);
static IIO_DEVICE_ATTR_RO(loopback_source, 0);
static IIO_DEVICE_ATTR(blocks_completed, 0444, izc_sim_stat_show, NULL,
		       IZC_SIM_STAT_BLOCKS);
static IIO_DEVICE_ATTR(bytes_completed, 0444, izc_sim_stat_show, NULL,
		       IZC_SIM_STAT_BYTES);
static IIO_DEVICE_ATTR(overrun_events, 0444, izc_sim_stat_show, NULL,
		       IZC_SIM_STAT_LOST_EVENTS);
static IIO_DEVICE_ATTR(overrun_samples, 0444, izc_sim_stat_show, NULL,
		       IZC_SIM_STAT_LOST_SAMPLES);
static IIO_DEVICE_ATTR(blocks_failed, 0444, izc_sim_stat_show, NULL,
		       IZC_SIM_STAT_FAILED);

static struct attribute *izc_sim_adc_attrs[] = {
	&iio_dev_attr_dma_mode.dev_attr.attr,
	&iio_const_attr_dma_mode_available.dev_attr.attr,
	&iio_dev_attr_dma_channel.dev_attr.attr,
	&iio_dev_attr_blocks_completed.dev_attr.attr,
	&iio_dev_attr_bytes_completed.dev_attr.attr,
	&iio_dev_attr_overrun_events.dev_attr.attr,
	&iio_dev_attr_overrun_samples.dev_attr.attr,
	&iio_dev_attr_blocks_failed.dev_attr.attr,
	&iio_dev_attr_loopback_source.dev_attr.attr,
	NULL
};

static const struct attribute_group izc_sim_adc_attr_group = {
	.attrs = izc_sim_adc_attrs,
};

static const struct iio_info izc_sim_adc_info = {
	.read_raw = izc_sim_read_raw,
	.write_raw = izc_sim_write_raw,
	.write_raw_get_fmt = izc_sim_write_raw_get_fmt,
	.update_scan_mode = izc_sim_adc_update_scan_mode,
	.attrs = &izc_sim_adc_attr_group,
};

/* ---- the platform driver ----------------------------------------------- */

static void izc_sim_adc_link_del(void *link)
{
	izc_sim_link_del(link);
}

static int izc_sim_adc_probe(struct platform_device *pdev)
{
	const struct izc_sim_adc_pdata *pdata = dev_get_platdata(&pdev->dev);
	struct device *dev = &pdev->dev;
	struct iio_dev *indio_dev;
	struct izc_sim_adc *adc;
	int ret;

	if (!pdata || !izc_sim_format_valid(pdata->channels, pdata->bits))
		return dev_err_probe(dev, -EINVAL, "bad configuration\n");

	indio_dev = devm_iio_device_alloc(dev, sizeof(*adc));
	if (!indio_dev)
		return -ENOMEM;
	adc = iio_priv(indio_dev);
	platform_set_drvdata(pdev, adc);

	izc_wavegen_init(&adc->gen, pdata->channels, pdata->bits);
	izc_sim_init_chans(adc->chans, pdata->channels, pdata->bits, false,
			   izc_sim_adc_ext_info);
	izc_sim_converter_init(&adc->conv, &izc_sim_adc_port_ops,
			       sampling_frequency);

	indio_dev->name = IZC_SIM_ADC_NAME;
	indio_dev->label = devm_kasprintf(dev, GFP_KERNEL, "%s%d",
					  IZC_SIM_ADC_NAME, pdev->id);
	if (!indio_dev->label)
		return -ENOMEM;
	indio_dev->info = &izc_sim_adc_info;
	indio_dev->setup_ops = &izc_sim_adc_setup_ops;
	indio_dev->modes = INDIO_BUFFER_HARDWARE;
	indio_dev->channels = adc->chans;
	indio_dev->num_channels = pdata->channels;

	ret = devm_izc_soft_dma_port_register(dev, "rx", &adc->conv.port);
	if (ret)
		return dev_err_probe(dev, ret, "sample port\n");

	/* Unpaired (the DAC module pins ours) before the port goes. */
	izc_sim_link_init(&adc->link, &adc->conv.port, indio_dev->label,
			  pdata->channels, pdata->bits);
	izc_sim_link_add(&adc->link);
	ret = devm_add_action_or_reset(dev, izc_sim_adc_link_del, &adc->link);
	if (ret)
		return ret;

	ret = devm_izc_dmaengine_buffer_setup_ext(dev, indio_dev, "rx",
						  IIO_BUFFER_DIRECTION_IN,
						  pdata->dmabuf ? 0 :
						  IZC_DMAENGINE_BUFFER_NO_DMABUF);
	if (ret)
		return dev_err_probe(dev, ret, "DMA buffer\n");

	return devm_iio_device_register(dev, indio_dev);
}

/* The instances this module created */
static struct izc_sim_registry izc_sim_adc_registry;

static int izc_sim_adc_create(unsigned int nchan, unsigned int bits,
			      bool with_dmabuf)
{
	struct izc_sim_adc_pdata pdata = {
		.channels = nchan,
		.bits = bits,
		.dmabuf = with_dmabuf,
	};

	if (!izc_sim_format_valid(nchan, bits))
		return -EINVAL;

	return izc_sim_instance_create(&izc_sim_adc_registry, &pdata,
				       sizeof(pdata));
}

/*
 * Runtime creation: echo "CHANNELS BITS [DMABUF]" (or nothing for the
 * module's defaults) > /sys/bus/platform/drivers/izc-sim-adc/new_device;
 * DMABUF 0 gives a read()-only buffer. Devices go away with the module, or
 * one by one through delete_device.
 */
static ssize_t new_device_store(struct device_driver *drv, const char *buf,
				size_t count)
{
	unsigned int nchan = channels, bits = sample_bits, with_dmabuf = dmabuf;
	char tail;
	int n, ret;

	if (!sysfs_streq(buf, "")) {
		n = sscanf(buf, "%u %u %u %c", &nchan, &bits, &with_dmabuf,
			   &tail);
		if (n < 2 || n > 3 || with_dmabuf > 1)
			return -EINVAL;
	}

	ret = izc_sim_adc_create(nchan, bits, with_dmabuf);
	return ret < 0 ? ret : count;
}
static DRIVER_ATTR_WO(new_device);

/* Called with the registry locked, so the device is still bound. */
static int izc_sim_adc_retire(struct platform_device *pdev)
{
	struct izc_sim_adc *adc = platform_get_drvdata(pdev);

	return izc_sim_link_retire(&adc->link);
}

/*
 * Runtime removal, as a hot-unplug: echo izc-sim-adc.N > delete_device.
 * EBUSY while a DAC is paired with it (unpair the DAC first).
 */
static ssize_t delete_device_store(struct device_driver *drv, const char *buf,
				   size_t count)
{
	int ret = izc_sim_instance_delete(&izc_sim_adc_registry, buf,
					  izc_sim_adc_retire);

	return ret ? ret : count;
}
static DRIVER_ATTR_WO(delete_device);

static struct attribute *izc_sim_adc_drv_attrs[] = {
	&driver_attr_new_device.attr,
	&driver_attr_delete_device.attr,
	NULL
};
ATTRIBUTE_GROUPS(izc_sim_adc_drv);

static struct platform_driver izc_sim_adc_driver = {
	.probe = izc_sim_adc_probe,
	.driver = {
		.name = IZC_SIM_ADC_NAME,
		.groups = izc_sim_adc_drv_groups,
		.suppress_bind_attrs = true,
	},
};

static int __init izc_sim_adc_init(void)
{
	unsigned int i;
	int ret;

	if (instances > IZC_SIM_MAX_INST)
		return -EINVAL;

	izc_sim_registry_init(&izc_sim_adc_registry, IZC_SIM_ADC_NAME);
	ret = platform_driver_register(&izc_sim_adc_driver);
	if (ret)
		return ret;

	for (i = 0; i < instances; i++) {
		ret = izc_sim_adc_create(channels, sample_bits, dmabuf);
		if (ret < 0)
			goto err_destroy_all;
	}

	return 0;

err_destroy_all:
	izc_sim_instance_destroy_all(&izc_sim_adc_registry);
	platform_driver_unregister(&izc_sim_adc_driver);
	return ret;
}
module_init(izc_sim_adc_init);

static void __exit izc_sim_adc_exit(void)
{
	izc_sim_instance_destroy_all(&izc_sim_adc_registry);
	platform_driver_unregister(&izc_sim_adc_driver);
}
module_exit(izc_sim_adc_exit);

MODULE_DESCRIPTION("iio-zerocopy simulated high-speed ADC");
MODULE_AUTHOR("iio-zerocopy developers");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IIO_ZEROCOPY);
