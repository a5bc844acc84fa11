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
 *  sampling_frequency	S/s, 1..IZC_SIM_DAC_MAX_RATE; 0 selects unpaced
 *			(as fast as blocks come; never an underflow)
 *  dma_mode		"touch" (the engine reads every sample) or "null"
 *			(blocks complete at the paced rate, memory untouched,
 *			the DAC outputs idle)
 *  dma_mode_available
 *  dma_channel		the izc-soft-dma channel serving this DAC
 *  blocks_completed, bytes_completed	transfers done (since creation)
 *  underflow_events	gaps: times samples were due while no block was queued
 *  underflow_samples	frames output as idle in those gaps
 *  loopback_adc	label of the paired ADC, or "none"; write a label to
 *			pair, "none" to unpair
 *  loopback_latency	frames of idle a stream starts with on the wire,
 *			0..IZC_SIM_LINK_MAX_LATENCY
 *  loopback_dropped_samples	frames that did not fit into the wire (only
 *			a paced DAC underflowing into a stalled ADC)
 * sampling_frequency, dma_mode and the loopback attributes can only change
 * while the buffer is disabled (-EBUSY otherwise).
 */

#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/idr.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include <linux/iio/buffer.h>
#include <linux/iio/iio.h>
#include <linux/iio/sysfs.h>

#include <izc/buffer-dmaengine.h>
#include <izc/sim-loopback.h>
#include <izc/soft-dma.h>

#define IZC_SIM_DAC_NAME	"izc-sim-dac"
#define IZC_SIM_DAC_MIN_CHANS	2
#define IZC_SIM_DAC_MAX_CHANS	16
#define IZC_SIM_DAC_MAX_RATE	1000000000U
#define IZC_SIM_DAC_MAX_INST	64
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
 * @port: the sample port the soft DMA engine drains into
 * @nchan: channels
 * @bits: storage bits
 * @rate: sampling frequency in S/s, 0 unpaced
 * @mode: DMA data mode
 * @frame_bytes: bytes per frame of the current stream
 * @link: the loopback wire into an ADC, or NULL
 * @latency: idle frames a stream starts with on the wire
 * @underflow_samples: frames output as idle because no block was queued
 * @dropped_samples: frames that did not fit into the wire
 * @chans: channel specs
 *
 * Locking: @rate, @mode, @link and @latency, and the stream fields of @port
 * (frame size, rate, mode) change only with the IIO device's direct mode
 * claimed, or from preenable/update_scan_mode/postdisable, which the IIO
 * core runs under the same lock while it enables or disables the buffer:
 * never while the DMA runs. While streaming only the DMA engine's worker
 * calls drain()/skip()/avail(), one at a time. @link is also changed only
 * under izc_sim_dac_link_lock, which its sysfs reader takes. The counters
 * are atomics.
 */
struct izc_sim_dac {
	struct izc_sample_port port;
	unsigned int nchan;
	unsigned int bits;
	unsigned int rate;
	enum izc_soft_dma_data_mode mode;
	unsigned int frame_bytes;
	struct izc_sim_link *link;
	unsigned int latency;
	atomic64_t underflow_samples;
	atomic64_t dropped_samples;
	struct iio_chan_spec chans[IZC_SIM_DAC_MAX_CHANS];
};

/* Serialises changes of every DAC's @link with the sysfs readers */
static DEFINE_MUTEX(izc_sim_dac_link_lock);

static const char * const izc_sim_dac_modes[] = {
	[IZC_SOFT_DMA_TOUCH] = "touch",
	[IZC_SOFT_DMA_NULL] = "null",
};

static struct izc_sim_dac *port_to_dac(struct izc_sample_port *port)
{
	return container_of(port, struct izc_sim_dac, port);
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
	if (lost && dac->frame_bytes)
		atomic64_add(len / dac->frame_bytes, &dac->underflow_samples);
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

	dac->frame_bytes = frame;
	WRITE_ONCE(dac->port.frame_bytes, frame);
	WRITE_ONCE(dac->port.bytes_per_second, (u64)dac->rate * frame);
	WRITE_ONCE(dac->port.mode, dac->mode);

	return 0;
}

static int izc_sim_dac_read_raw(struct iio_dev *indio_dev,
				const struct iio_chan_spec *chan, int *val,
				int *val2, long mask)
{
	struct izc_sim_dac *dac = iio_priv(indio_dev);

	switch (mask) {
	case IIO_CHAN_INFO_SAMP_FREQ:
		*val = READ_ONCE(dac->rate);
		return IIO_VAL_INT;
	default:
		return -EINVAL;
	}
}

static int izc_sim_dac_write_raw(struct iio_dev *indio_dev,
				 const struct iio_chan_spec *chan, int val,
				 int val2, long mask)
{
	struct izc_sim_dac *dac = iio_priv(indio_dev);
	int ret;

	switch (mask) {
	case IIO_CHAN_INFO_SAMP_FREQ:
		if (val < 0 || val > IZC_SIM_DAC_MAX_RATE || val2)
			return -EINVAL;
		ret = iio_device_claim_direct_mode(indio_dev);
		if (ret)
			return ret;
		WRITE_ONCE(dac->rate, val);
		iio_device_release_direct_mode(indio_dev);
		return 0;
	default:
		return -EINVAL;
	}
}

static int izc_sim_dac_write_raw_get_fmt(struct iio_dev *indio_dev,
					 struct iio_chan_spec const *chan,
					 long mask)
{
	return IIO_VAL_INT;
}

/* ---- device attributes ------------------------------------------------- */

static ssize_t dma_mode_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct izc_sim_dac *dac = iio_priv(dev_to_iio_dev(dev));

	return sysfs_emit(buf, "%s\n", izc_sim_dac_modes[READ_ONCE(dac->mode)]);
}

static ssize_t dma_mode_store(struct device *dev,
			      struct device_attribute *attr, const char *buf,
			      size_t len)
{
	struct iio_dev *indio_dev = dev_to_iio_dev(dev);
	struct izc_sim_dac *dac = iio_priv(indio_dev);
	int mode, ret;

	mode = sysfs_match_string(izc_sim_dac_modes, buf);
	if (mode < 0)
		return mode;

	ret = iio_device_claim_direct_mode(indio_dev);
	if (ret)
		return ret;
	WRITE_ONCE(dac->mode, mode);
	iio_device_release_direct_mode(indio_dev);

	return len;
}

static ssize_t dma_channel_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct izc_sim_dac *dac = iio_priv(dev_to_iio_dev(dev));

	return sysfs_emit(buf, "%s\n", izc_soft_dma_port_chan_name(&dac->port));
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
		link = izc_sim_link_pair(label, indio_dev->label, &dac->port,
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

enum {
	IZC_SIM_DAC_BLOCKS,
	IZC_SIM_DAC_BYTES,
	IZC_SIM_DAC_UNDERFLOW_EVENTS,
	IZC_SIM_DAC_UNDERFLOW_SAMPLES,
	IZC_SIM_DAC_DROPPED_SAMPLES,
};

static ssize_t izc_sim_dac_stat_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct izc_sim_dac *dac = iio_priv(dev_to_iio_dev(dev));
	struct izc_sample_port_stats *st = &dac->port.stats;
	s64 v;

	switch (to_iio_dev_attr(attr)->address) {
	case IZC_SIM_DAC_BLOCKS:
		v = atomic64_read(&st->descriptors);
		break;
	case IZC_SIM_DAC_BYTES:
		v = atomic64_read(&st->bytes);
		break;
	case IZC_SIM_DAC_UNDERFLOW_EVENTS:
		v = atomic64_read(&st->lost_events);
		break;
	case IZC_SIM_DAC_UNDERFLOW_SAMPLES:
		v = atomic64_read(&dac->underflow_samples);
		break;
	default:
		v = atomic64_read(&dac->dropped_samples);
		break;
	}

	return sysfs_emit(buf, "%lld\n", v);
}

static IIO_DEVICE_ATTR_RW(dma_mode, 0);
static IIO_CONST_ATTR(dma_mode_available, "touch null");
static IIO_DEVICE_ATTR_RO(dma_channel, 0);
static IIO_DEVICE_ATTR_RW(loopback_adc, 0);
static IIO_DEVICE_ATTR_RW(loopback_latency, 0);
static IIO_DEVICE_ATTR(blocks_completed, 0444, izc_sim_dac_stat_show, NULL,
		       IZC_SIM_DAC_BLOCKS);
static IIO_DEVICE_ATTR(bytes_completed, 0444, izc_sim_dac_stat_show, NULL,
		       IZC_SIM_DAC_BYTES);
static IIO_DEVICE_ATTR(underflow_events, 0444, izc_sim_dac_stat_show, NULL,
		       IZC_SIM_DAC_UNDERFLOW_EVENTS);
static IIO_DEVICE_ATTR(underflow_samples, 0444, izc_sim_dac_stat_show, NULL,
		       IZC_SIM_DAC_UNDERFLOW_SAMPLES);
static IIO_DEVICE_ATTR(loopback_dropped_samples, 0444, izc_sim_dac_stat_show,
		       NULL, IZC_SIM_DAC_DROPPED_SAMPLES);

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
	&iio_dev_attr_loopback_dropped_samples.dev_attr.attr,
	NULL
};

static const struct attribute_group izc_sim_dac_attr_group = {
	.attrs = izc_sim_dac_attrs,
};

static const struct iio_info izc_sim_dac_info = {
	.read_raw = izc_sim_dac_read_raw,
	.write_raw = izc_sim_dac_write_raw,
	.write_raw_get_fmt = izc_sim_dac_write_raw_get_fmt,
	.update_scan_mode = izc_sim_dac_update_scan_mode,
	.attrs = &izc_sim_dac_attr_group,
};

/* ---- the platform driver ----------------------------------------------- */

static void izc_sim_dac_init_chans(struct izc_sim_dac *dac)
{
	unsigned int i;

	for (i = 0; i < dac->nchan; i++) {
		struct iio_chan_spec *ch = &dac->chans[i];

		ch->type = IIO_VOLTAGE;
		ch->indexed = 1;
		ch->output = 1;
		ch->channel = i;
		ch->scan_index = i;
		ch->scan_type.sign = 's';
		ch->scan_type.realbits = dac->bits;
		ch->scan_type.storagebits = dac->bits;
		ch->scan_type.shift = 0;
		ch->scan_type.endianness = IIO_LE;
		ch->info_mask_shared_by_all = BIT(IIO_CHAN_INFO_SAMP_FREQ);
	}
}

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

	if (!pdata || pdata->channels < IZC_SIM_DAC_MIN_CHANS ||
	    pdata->channels > IZC_SIM_DAC_MAX_CHANS ||
	    (pdata->bits != 16 && pdata->bits != 32))
		return dev_err_probe(dev, -EINVAL, "bad configuration\n");

	indio_dev = devm_iio_device_alloc(dev, sizeof(*dac));
	if (!indio_dev)
		return -ENOMEM;
	dac = iio_priv(indio_dev);

	dac->nchan = pdata->channels;
	dac->bits = pdata->bits;
	izc_sim_dac_init_chans(dac);
	dac->rate = min(sampling_frequency, IZC_SIM_DAC_MAX_RATE);
	dac->mode = IZC_SOFT_DMA_TOUCH;
	dac->latency = min(loopback_latency, IZC_SIM_LINK_MAX_LATENCY);
	atomic64_set(&dac->underflow_samples, 0);
	atomic64_set(&dac->dropped_samples, 0);
	dac->port.ops = &izc_sim_dac_port_ops;
	dac->port.mode = dac->mode;

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

	ret = devm_izc_soft_dma_port_register(dev, "tx", &dac->port);
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

static struct platform_driver izc_sim_dac_driver;

/* Instances created by this module; protected by izc_sim_dac_list_lock */
struct izc_sim_dac_inst {
	struct list_head node;
	struct platform_device *pdev;
};

static DEFINE_MUTEX(izc_sim_dac_list_lock);
static LIST_HEAD(izc_sim_dac_list);
static DEFINE_IDA(izc_sim_dac_ida);

static int izc_sim_dac_create(unsigned int nchan, unsigned int bits,
			      bool pair)
{
	struct izc_sim_dac_pdata pdata = {
		.channels = nchan,
		.bits = bits,
		.loopback = pair,
	};
	struct platform_device_info info = {
		.name = IZC_SIM_DAC_NAME,
		.data = &pdata,
		.size_data = sizeof(pdata),
		.dma_mask = DMA_BIT_MASK(64),
	};
	struct izc_sim_dac_inst *inst;
	int id, ret;

	if (nchan < IZC_SIM_DAC_MIN_CHANS || nchan > IZC_SIM_DAC_MAX_CHANS ||
	    (bits != 16 && bits != 32))
		return -EINVAL;

	inst = kzalloc(sizeof(*inst), GFP_KERNEL);
	if (!inst)
		return -ENOMEM;

	id = ida_alloc_max(&izc_sim_dac_ida, IZC_SIM_DAC_MAX_INST - 1,
			   GFP_KERNEL);
	if (id < 0) {
		ret = id == -ENOSPC ? -EBUSY : id;
		goto err_inst_free;
	}
	info.id = id;

	inst->pdev = platform_device_register_full(&info);
	if (IS_ERR(inst->pdev)) {
		ret = PTR_ERR(inst->pdev);
		goto err_ida_free;
	}
	if (!inst->pdev->dev.driver) {
		/* probe failed; the kernel log says why */
		ret = -ENODEV;
		goto err_device_unregister;
	}

	mutex_lock(&izc_sim_dac_list_lock);
	list_add_tail(&inst->node, &izc_sim_dac_list);
	mutex_unlock(&izc_sim_dac_list_lock);
	return id;

err_device_unregister:
	platform_device_unregister(inst->pdev);
err_ida_free:
	ida_free(&izc_sim_dac_ida, id);
err_inst_free:
	kfree(inst);
	return ret;
}

static void izc_sim_dac_destroy_all(void)
{
	struct izc_sim_dac_inst *inst, *tmp;

	mutex_lock(&izc_sim_dac_list_lock);
	list_for_each_entry_safe_reverse(inst, tmp, &izc_sim_dac_list, node) {
		list_del(&inst->node);
		ida_free(&izc_sim_dac_ida, inst->pdev->id);
		platform_device_unregister(inst->pdev);
		kfree(inst);
	}
	mutex_unlock(&izc_sim_dac_list_lock);
}

/*
 * Runtime creation: echo "CHANNELS BITS" (or nothing for the module's
 * defaults) > /sys/bus/platform/drivers/izc-sim-dac/new_device. Devices go
 * away with the module; pair them through loopback_adc.
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

static struct attribute *izc_sim_dac_drv_attrs[] = {
	&driver_attr_new_device.attr,
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

	if (instances > IZC_SIM_DAC_MAX_INST ||
	    loopback_latency > IZC_SIM_LINK_MAX_LATENCY)
		return -EINVAL;

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
	izc_sim_dac_destroy_all();
	platform_driver_unregister(&izc_sim_dac_driver);
	return ret;
}
module_init(izc_sim_dac_init);

static void __exit izc_sim_dac_exit(void)
{
	izc_sim_dac_destroy_all();
	platform_driver_unregister(&izc_sim_dac_driver);
}
module_exit(izc_sim_dac_exit);

MODULE_DESCRIPTION("iio-zerocopy simulated high-speed DAC");
MODULE_AUTHOR("iio-zerocopy developers");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IIO_ZEROCOPY);
