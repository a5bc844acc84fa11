// SPDX-License-Identifier: GPL-2.0
/*
 * iio-zerocopy: simulated high-speed DAC.
 *
 * Each instance is a platform device "izc-sim-dac.N" with an IIO device
 * (name "izc-sim-dac", label "izc-sim-dacN") with an output buffer: 2 to 16
 * voltage output channels (out_voltageN) of s16 or s32 little endian
 * samples, scanned in channel order and packed. The "hardware" is a
 * transmit sample port of the software DMA controller (izc_soft_dma): the
 * DMA engine drains the buffer's blocks at sampling_frequency; the block
 * buffer (izc_block_buffer) is set up with one call ("tx", direction out).
 *
 * When no block is queued while samples are due (paced only), the DAC
 * underflows: it outputs the idle value 0 (mid-scale of the signed range)
 * for every frame it had no data for and counts the frames and the gaps.
 * It never repeats old data on its own; only a cyclic DMABUF block repeats,
 * because the application asked for it.
 *
 * Where do the samples go? Nowhere, unless the DAC is paired with a
 * simulated ADC (loopback_adc): then they are what that ADC captures (see
 * include/izc/sim-loopback.h and docs/sim-dac.md).
 *
 * Device attributes (besides the IIO core's):
 *  sampling_frequency	S/s, 1..IZC_SIM_MAX_RATE; 0 selects unpaced
 *			(as fast as blocks come; never an underflow)
 *  dma_mode		"touch" (the engine reads every sample) or "null"
 *			(blocks complete at the paced rate, memory untouched,
 *			the DAC outputs idle)
 *  dma_mode_available
 *  dma_channel		the izc-soft-dma channel serving this DAC
 *  blocks_completed, bytes_completed	transfers done (since creation)
 *  underflow_events	gaps: times samples were due while no block was queued
 *  underflow_samples	frames output as idle in those gaps
 *  blocks_failed	transfers that failed (DMA error): the DAC output
 *			idle for them; not underflows
 *  loopback_adc	label of the paired ADC, or "none"; write a label to
 *			pair, "none" to unpair
 *  loopback_latency	frames of idle a stream starts with on the wire,
 *			0..IZC_SIM_LINK_MAX_LATENCY
 *  loopback_dropped_samples	frames that did not fit into the wire (only
 *			a paced DAC underflowing into a stalled ADC)
 * sampling_frequency, dma_mode and the loopback attributes can only change
 * while the buffer is disabled (-EBUSY otherwise).
 *
 * What the ADC has too (instance registry, channel specs, sampling_frequency,
 * dma_mode, dma_channel, counters) comes from the ADC module: see
 * include/izc/sim-common.h.
 */

#include <linux/bitmap.h>
#include <linux/build_bug.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include <linux/iio/buffer.h>
#include <linux/iio/iio.h>
#include <linux/iio/sysfs.h>

#include <izc/buffer-dmaengine.h>
#include <izc/sim-common.h>
#include <izc/sim-loopback.h>
#include <izc/soft-dma.h>

#define IZC_SIM_DAC_NAME	"izc-sim-dac"
#define IZC_SIM_ADC_NAME	"izc-sim-adc"

static unsigned int instances = 1;
module_param(instances, uint, 0444);
MODULE_PARM_DESC(instances, "DAC instances created at load (0-64, default 1)");

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

static bool loopback;
module_param(loopback, bool, 0444);
MODULE_PARM_DESC(loopback,
		 "pair instances created at load with izc-sim-adcN of the same N (default 0)");

static unsigned int loopback_latency;
module_param(loopback_latency, uint, 0444);
MODULE_PARM_DESC(loopback_latency,
		 "initial loopback latency in frames (0-65536, default 0)");

/**
 * struct izc_sim_dac_pdata - how an instance is built
 * @channels: number of channels
 * @bits: storage bits per sample
 * @loopback: pair with izc-sim-adcN (N: this instance's number)
 */
struct izc_sim_dac_pdata {
	unsigned int channels;
	unsigned int bits;
	bool loopback;
};

/**
 * struct izc_sim_dac - one simulated DAC
 * @conv: sample port (drained into by the soft DMA engine), sampling
 *	frequency, DMA mode, frames output as idle because no block was
 *	queued (underflow_samples); must come first
 * @nchan: channels
 * @bits: storage bits
 * @link: the loopback wire into an ADC, or NULL
 * @latency: idle frames a stream starts with on the wire
 * @dropped_samples: frames that did not fit into the wire
 * @chans: channel specs
 *
 * Locking: @conv as documented at struct izc_sim_converter. @link and
 * @latency change only with the IIO device's direct mode claimed, or from
 * preenable/postdisable, which the IIO core runs under the same lock while
 * it enables or disables the buffer: never while the DMA runs. While
 * streaming only the DMA engine's worker calls drain()/skip()/avail(), one
 * at a time. @link is also changed only under izc_sim_dac_link_lock, which
 * its sysfs reader takes. @dropped_samples is an atomic.
 */
struct izc_sim_dac {
	struct izc_sim_converter conv;
	unsigned int nchan;
	unsigned int bits;
	struct izc_sim_link *link;
	unsigned int latency;
	atomic64_t dropped_samples;
	struct iio_chan_spec chans[IZC_SIM_MAX_CHANS];
};

/* the shared callbacks find the converter at the start of iio_priv() */
static_assert(offsetof(struct izc_sim_dac, conv) == 0);

/* Serialises changes of every DAC's @link with the sysfs readers */
static DEFINE_MUTEX(izc_sim_dac_link_lock);

static struct izc_sim_dac *port_to_dac(struct izc_sample_port *port)
{
	return container_of(port, struct izc_sim_dac, conv.port);
}

/* ---- the sample port ----------------------------------------------------- */

/* Output @len bytes of samples (@src) or of idle (@src NULL). */
static void izc_sim_dac_emit(struct izc_sim_dac *dac, const void *src,
			     size_t len)
{
	u64 dropped;

	if (!dac->link)
		return;
	dropped = izc_sim_link_dac_push(dac->link, src, len);
	if (dropped)
		atomic64_add(dropped, &dac->dropped_samples);
}

static void izc_sim_dac_drain(struct izc_sample_port *port, const void *src,
			      size_t len)
{
	izc_sim_dac_emit(port_to_dac(port), src, len);
}

static void izc_sim_dac_skip(struct izc_sample_port *port, size_t len,
			     bool lost)
{
	struct izc_sim_dac *dac = port_to_dac(port);

	/* Underflow (lost) or null mode: the DAC holds the idle value. */
	izc_sim_dac_emit(dac, NULL, len);
	if (lost)
		izc_sim_converter_count_lost(&dac->conv, len);
}

/* Paired: as much as the wire takes; else the output goes nowhere. */
static size_t izc_sim_dac_avail(struct izc_sample_port *port)
{
	struct izc_sim_dac *dac = port_to_dac(port);

	return dac->link ? izc_sim_link_dac_avail(dac->link) : SIZE_MAX;
}

static const struct izc_sample_port_ops izc_sim_dac_port_ops = {
	.drain = izc_sim_dac_drain,
	.skip = izc_sim_dac_skip,
	.avail = izc_sim_dac_avail,
};

/* ---- IIO ------------------------------------------------------------------ */

static int izc_sim_dac_preenable(struct iio_dev *indio_dev)
{
	struct izc_sim_dac *dac = iio_priv(indio_dev);
	u64 dropped;

	if (dac->link) {
		dropped = izc_sim_link_dac_start(dac->link,
						 indio_dev->active_scan_mask,
						 dac->latency);
		if (dropped)
			atomic64_add(dropped, &dac->dropped_samples);
	}
	return 0;
}

/* After the buffer is disabled: the DMA has stopped. */
static int izc_sim_dac_postdisable(struct iio_dev *indio_dev)
{
	struct izc_sim_dac *dac = iio_priv(indio_dev);

	if (dac->link)
		izc_sim_link_dac_stop(dac->link);
	return 0;
}

static const struct iio_buffer_setup_ops izc_sim_dac_setup_ops = {
	.preenable = izc_sim_dac_preenable,
	.postdisable = izc_sim_dac_postdisable,
};

static int izc_sim_dac_update_scan_mode(struct iio_dev *indio_dev,
					const unsigned long *scan_mask)
{
	struct izc_sim_dac *dac = iio_priv(indio_dev);
	unsigned int frame;

	frame = bitmap_weight(scan_mask, dac->nchan) * (dac->bits / 8);
	if (!frame)
		return -EINVAL;

	izc_sim_converter_set_frame(&dac->conv, frame);
	return 0;
}

/*
 * Pair with the ADC labelled @label, or unpair (NULL). Direct mode held (or
 * the device not registered yet), so the DMA does not run.
 */
static int izc_sim_dac_set_link(struct iio_dev *indio_dev, const char *label)
{
	struct izc_sim_dac *dac = iio_priv(indio_dev);
	struct izc_sim_link *link = NULL;
	int ret = 0;

	mutex_lock(&izc_sim_dac_link_lock);
	if (dac->link) {
		izc_sim_link_unpair(dac->link);
		dac->link = NULL;
	}
	if (label) {
		link = izc_sim_link_pair(label, indio_dev->label, &dac->conv.port,
					 dac->nchan, dac->bits);
		if (IS_ERR(link))
			ret = PTR_ERR(link);
		else
			dac->link = link;
	}
	mutex_unlock(&izc_sim_dac_link_lock);

	return ret;
}

static ssize_t loopback_adc_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct iio_dev *indio_dev = dev_to_iio_dev(dev);
	struct izc_sim_dac *dac = iio_priv(indio_dev);
	ssize_t ret;

	mutex_lock(&izc_sim_dac_link_lock);
	ret = sysfs_emit(buf, "%s\n", dac->link ?
			 izc_sim_link_adc_label(dac->link) : "none");
	mutex_unlock(&izc_sim_dac_link_lock);

	return ret;
}

static ssize_t loopback_adc_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t len)
{
	struct iio_dev *indio_dev = dev_to_iio_dev(dev);
	char label[64];
	int ret;

	if (strscpy(label, buf) < 0)
		return -EINVAL;
	strim(label);

	ret = iio_device_claim_direct_mode(indio_dev);
	if (ret)
		return ret;
	ret = izc_sim_dac_set_link(indio_dev, !*label || !strcmp(label, "none") ?
				   NULL : label);
	iio_device_release_direct_mode(indio_dev);

	return ret ?: len;
}

static ssize_t loopback_latency_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct izc_sim_dac *dac = iio_priv(dev_to_iio_dev(dev));

	return sysfs_emit(buf, "%u\n", READ_ONCE(dac->latency));
}

static ssize_t loopback_latency_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t len)
{
	struct iio_dev *indio_dev = dev_to_iio_dev(dev);
	struct izc_sim_dac *dac = iio_priv(indio_dev);
	unsigned int latency;
	int ret;

	ret = kstrtouint(buf, 0, &latency);
	if (ret)
		return ret;
	if (latency > IZC_SIM_LINK_MAX_LATENCY)
		return -EINVAL;

	ret = iio_device_claim_direct_mode(indio_dev);
	if (ret)
		return ret;
	WRITE_ONCE(dac->latency, latency);
	iio_device_release_direct_mode(indio_dev);

	return len;
}

static ssize_t loopback_dropped_samples_show(struct device *dev,
					     struct device_attribute *attr,
					     char *buf)
{
	struct izc_sim_dac *dac = iio_priv(dev_to_iio_dev(dev));

	return sysfs_emit(buf, "%lld\n", atomic64_read(&dac->dropped_samples));
}

static IIO_DEVICE_ATTR(dma_mode, 0644, izc_sim_dma_mode_show,
		       izc_sim_dma_mode_store, 0);
static IIO_CONST_ATTR(dma_mode_available, IZC_SIM_DMA_MODES_AVAILABLE);
static IIO_DEVICE_ATTR(dma_channel, 0444, izc_sim_dma_channel_show, NULL, 0);
static IIO_DEVICE_ATTR_RW(loopback_adc, 0);
static IIO_DEVICE_ATTR_RW(loopback_latency, 0);
static IIO_DEVICE_ATTR(blocks_completed, 0444, izc_sim_stat_show, NULL,
		       IZC_SIM_STAT_BLOCKS);
static IIO_DEVICE_ATTR(bytes_completed, 0444, izc_sim_stat_show, NULL,
		       IZC_SIM_STAT_BYTES);
static IIO_DEVICE_ATTR(underflow_events, 0444, izc_sim_stat_show, NULL,
		       IZC_SIM_STAT_LOST_EVENTS);
static IIO_DEVICE_ATTR(underflow_samples, 0444, izc_sim_stat_show, NULL,
		       IZC_SIM_STAT_LOST_SAMPLES);
static IIO_DEVICE_ATTR(blocks_failed, 0444, izc_sim_stat_show, NULL,
		       IZC_SIM_STAT_FAILED);
static IIO_DEVICE_ATTR_RO(loopback_dropped_samples, 0);

static struct attribute *izc_sim_dac_attrs[] = {
	&iio_dev_attr_dma_mode.dev_attr.attr,
	&iio_const_attr_dma_mode_available.dev_attr.attr,
	&iio_dev_attr_dma_channel.dev_attr.attr,
	&iio_dev_attr_loopback_adc.dev_attr.attr,
	&iio_dev_attr_loopback_latency.dev_attr.attr,
	&iio_dev_attr_blocks_completed.dev_attr.attr,
	&iio_dev_attr_bytes_completed.dev_attr.attr,
	&iio_dev_attr_underflow_events.dev_attr.attr,
	&iio_dev_attr_underflow_samples.dev_attr.attr,
	&iio_dev_attr_blocks_failed.dev_attr.attr,
	&iio_dev_attr_loopback_dropped_samples.dev_attr.attr,
	NULL
};

static const struct attribute_group izc_sim_dac_attr_group = {
	.attrs = izc_sim_dac_attrs,
};

static const struct iio_info izc_sim_dac_info = {
	.read_raw = izc_sim_read_raw,
	.write_raw = izc_sim_write_raw,
	.write_raw_get_fmt = izc_sim_write_raw_get_fmt,
	.update_scan_mode = izc_sim_dac_update_scan_mode,
	.attrs = &izc_sim_dac_attr_group,
};

/* ---- the platform driver ----------------------------------------------- */

/* Unpaired before the port goes (devres runs in reverse order). */
static void izc_sim_dac_unpair_action(void *indio_dev)
{
	izc_sim_dac_set_link(indio_dev, NULL);
}

static int izc_sim_dac_probe(struct platform_device *pdev)
{
	const struct izc_sim_dac_pdata *pdata = dev_get_platdata(&pdev->dev);
	struct device *dev = &pdev->dev;
	struct iio_dev *indio_dev;
	struct izc_sim_dac *dac;
	char adc_label[32];
	int ret;

	if (!pdata || !izc_sim_format_valid(pdata->channels, pdata->bits))
		return dev_err_probe(dev, -EINVAL, "bad configuration\n");

	indio_dev = devm_iio_device_alloc(dev, sizeof(*dac));
	if (!indio_dev)
		return -ENOMEM;
	dac = iio_priv(indio_dev);

	dac->nchan = pdata->channels;
	dac->bits = pdata->bits;
	izc_sim_init_chans(dac->chans, dac->nchan, dac->bits, true, NULL);
	izc_sim_converter_init(&dac->conv, &izc_sim_dac_port_ops,
			       sampling_frequency);
	dac->latency = min(loopback_latency, IZC_SIM_LINK_MAX_LATENCY);
	atomic64_set(&dac->dropped_samples, 0);

	indio_dev->name = IZC_SIM_DAC_NAME;
	indio_dev->label = devm_kasprintf(dev, GFP_KERNEL, "%s%d",
					  IZC_SIM_DAC_NAME, pdev->id);
	if (!indio_dev->label)
		return -ENOMEM;
	indio_dev->info = &izc_sim_dac_info;
	indio_dev->setup_ops = &izc_sim_dac_setup_ops;
	indio_dev->modes = INDIO_BUFFER_HARDWARE;
	indio_dev->channels = dac->chans;
	indio_dev->num_channels = dac->nchan;

	ret = devm_izc_soft_dma_port_register(dev, "tx", &dac->conv.port);
	if (ret)
		return dev_err_probe(dev, ret, "sample port\n");

	ret = devm_add_action_or_reset(dev, izc_sim_dac_unpair_action,
				       indio_dev);
	if (ret)
		return ret;

	if (pdata->loopback) {
		snprintf(adc_label, sizeof(adc_label), "%s%d",
			 IZC_SIM_ADC_NAME, pdev->id);
		ret = izc_sim_dac_set_link(indio_dev, adc_label);
		if (ret)
			return dev_err_probe(dev, ret, "loopback to %s\n",
					     adc_label);
	}

	ret = devm_izc_dmaengine_buffer_setup(dev, indio_dev, "tx",
					      IIO_BUFFER_DIRECTION_OUT);
	if (ret)
		return dev_err_probe(dev, ret, "DMA buffer\n");

	return devm_iio_device_register(dev, indio_dev);
}

/* The instances this module created */
static struct izc_sim_registry izc_sim_dac_registry;

static int izc_sim_dac_create(unsigned int nchan, unsigned int bits,
			      bool pair)
{
	struct izc_sim_dac_pdata pdata = {
		.channels = nchan,
		.bits = bits,
		.loopback = pair,
	};

	if (!izc_sim_format_valid(nchan, bits))
		return -EINVAL;

	return izc_sim_instance_create(&izc_sim_dac_registry, &pdata,
				       sizeof(pdata));
}

/*
 * Runtime creation: echo "CHANNELS BITS" (or nothing for the module's
 * defaults) > /sys/bus/platform/drivers/izc-sim-dac/new_device. Devices go
 * away with the module, or one by one through delete_device; pair them
 * through loopback_adc.
 */
static ssize_t new_device_store(struct device_driver *drv, const char *buf,
				size_t count)
{
	unsigned int nchan = channels, bits = sample_bits;
	char tail;
	int ret;

	if (!sysfs_streq(buf, "") &&
	    sscanf(buf, "%u %u %c", &nchan, &bits, &tail) != 2)
		return -EINVAL;

	ret = izc_sim_dac_create(nchan, bits, false);
	return ret < 0 ? ret : count;
}
static DRIVER_ATTR_WO(new_device);

/*
 * Runtime removal: echo izc-sim-dac.N > delete_device. A paired DAC is
 * unpaired on the way out, after its buffer stopped.
 */
static ssize_t delete_device_store(struct device_driver *drv, const char *buf,
				   size_t count)
{
	int ret = izc_sim_instance_delete(&izc_sim_dac_registry, buf, NULL);

	return ret ? ret : count;
}
static DRIVER_ATTR_WO(delete_device);

static struct attribute *izc_sim_dac_drv_attrs[] = {
	&driver_attr_new_device.attr,
	&driver_attr_delete_device.attr,
	NULL
};
ATTRIBUTE_GROUPS(izc_sim_dac_drv);

static struct platform_driver izc_sim_dac_driver = {
	.probe = izc_sim_dac_probe,
	.driver = {
		.name = IZC_SIM_DAC_NAME,
		.groups = izc_sim_dac_drv_groups,
		.suppress_bind_attrs = true,
	},
};

static int __init izc_sim_dac_init(void)
{
	unsigned int i;
	int ret;

	if (instances > IZC_SIM_MAX_INST ||
	    loopback_latency > IZC_SIM_LINK_MAX_LATENCY)
		return -EINVAL;

	izc_sim_registry_init(&izc_sim_dac_registry, IZC_SIM_DAC_NAME);
	ret = platform_driver_register(&izc_sim_dac_driver);
	if (ret)
		return ret;

	for (i = 0; i < instances; i++) {
		ret = izc_sim_dac_create(channels, sample_bits, loopback);
		if (ret < 0)
			goto err_destroy_all;
	}

	return 0;

err_destroy_all:
	izc_sim_instance_destroy_all(&izc_sim_dac_registry);
	platform_driver_unregister(&izc_sim_dac_driver);
	return ret;
}
module_init(izc_sim_dac_init);

static void __exit izc_sim_dac_exit(void)
{
	izc_sim_instance_destroy_all(&izc_sim_dac_registry);
	platform_driver_unregister(&izc_sim_dac_driver);
}
module_exit(izc_sim_dac_exit);

MODULE_DESCRIPTION("iio-zerocopy simulated high-speed DAC");
MODULE_AUTHOR("iio-zerocopy developers");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IIO_ZEROCOPY);
