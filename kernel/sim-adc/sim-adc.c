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
 *  sampling_frequency	S/s, 1..IZC_SIM_ADC_MAX_RATE; 0 selects unpaced (as
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
 */

#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include <linux/iio/buffer.h>
#include <linux/iio/iio.h>
#include <linux/iio/sysfs.h>

#include <izc/buffer-dmaengine.h>
#include <izc/soft-dma.h>

#include "loopback.h"
#include "waveform.h"

#define IZC_SIM_ADC_NAME	"izc-sim-adc"
#define IZC_SIM_ADC_MIN_CHANS	2
#define IZC_SIM_ADC_MAX_CHANS	IZC_WAVEGEN_MAX_CHANS
#define IZC_SIM_ADC_MAX_RATE	1000000000U
#define IZC_SIM_ADC_MAX_INST	64

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
 * @port: the sample port the soft DMA engine pulls from
 * @gen: the signal source
 * @rate: sampling frequency in S/s, 0 unpaced
 * @mode: DMA data mode
 * @overrun_samples: frames lost in overruns
 * @link: the loopback wire from a DAC
 * @looped: the current stream captures @link, not @gen
 * @chans: channel specs
 *
 * Locking: @rate and @mode, and the stream fields of @gen and @port
 * (frame size, rate, mode, position) only change with the IIO device's
 * direct mode claimed or from update_scan_mode, which the IIO core runs under
 * the same lock (mlock) while it enables the buffer: never while streaming.
 * @looped follows the same rule. While streaming only the DMA engine's
 * worker calls fill()/skip()/avail(), one at a time. @link has its own
 * lock. Waveform settings (@gen.ch[].type, .period) are single words
 * written with WRITE_ONCE and read once per fill(). The counters are
 * atomics.
 */
struct izc_sim_adc {
	struct izc_sample_port port;
	struct izc_wavegen gen;
	unsigned int rate;
	enum izc_soft_dma_data_mode mode;
	atomic64_t overrun_samples;
	struct izc_sim_link link;
	bool looped;
	struct iio_chan_spec chans[IZC_SIM_ADC_MAX_CHANS];
};

static const char * const izc_sim_adc_modes[] = {
	[IZC_SOFT_DMA_TOUCH] = "touch",
	[IZC_SOFT_DMA_NULL] = "null",
};

static struct izc_sim_adc *port_to_adc(struct izc_sample_port *port)
{
	return container_of(port, struct izc_sim_adc, port);
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
	if (lost && adc->gen.frame_bytes)
		atomic64_add(len / adc->gen.frame_bytes, &adc->overrun_samples);
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

	WRITE_ONCE(adc->port.frame_bytes, frame);
	WRITE_ONCE(adc->port.bytes_per_second, (u64)adc->rate * frame);
	WRITE_ONCE(adc->port.mode, adc->mode);

	return 0;
}

/* The stream's source is chosen here, before the DMA starts. */
static int izc_sim_adc_preenable(struct iio_dev *indio_dev)
{
	struct izc_sim_adc *adc = iio_priv(indio_dev);

	adc->looped = izc_sim_link_adc_start(&adc->link,
					     indio_dev->active_scan_mask,
					     adc->rate != 0);
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

static int izc_sim_adc_read_raw(struct iio_dev *indio_dev,
				const struct iio_chan_spec *chan, int *val,
				int *val2, long mask)
{
	struct izc_sim_adc *adc = iio_priv(indio_dev);

	switch (mask) {
	case IIO_CHAN_INFO_SAMP_FREQ:
		*val = READ_ONCE(adc->rate);
		return IIO_VAL_INT;
	default:
		return -EINVAL;
	}
}

static int izc_sim_adc_write_raw(struct iio_dev *indio_dev,
				 const struct iio_chan_spec *chan, int val,
				 int val2, long mask)
{
	struct izc_sim_adc *adc = iio_priv(indio_dev);
	int ret;

	switch (mask) {
	case IIO_CHAN_INFO_SAMP_FREQ:
		if (val < 0 || val > IZC_SIM_ADC_MAX_RATE || val2)
			return -EINVAL;
		ret = iio_device_claim_direct_mode(indio_dev);
		if (ret)
			return ret;
		WRITE_ONCE(adc->rate, val);
		iio_device_release_direct_mode(indio_dev);
		return 0;
	default:
		return -EINVAL;
	}
}

static int izc_sim_adc_write_raw_get_fmt(struct iio_dev *indio_dev,
					 struct iio_chan_spec const *chan,
					 long mask)
{
	return IIO_VAL_INT;
}

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

static ssize_t dma_mode_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct izc_sim_adc *adc = iio_priv(dev_to_iio_dev(dev));

	return sysfs_emit(buf, "%s\n", izc_sim_adc_modes[READ_ONCE(adc->mode)]);
}

static ssize_t dma_mode_store(struct device *dev,
			      struct device_attribute *attr, const char *buf,
			      size_t len)
{
	struct iio_dev *indio_dev = dev_to_iio_dev(dev);
	struct izc_sim_adc *adc = iio_priv(indio_dev);
	int mode, ret;

	mode = sysfs_match_string(izc_sim_adc_modes, buf);
	if (mode < 0)
		return mode;

	ret = iio_device_claim_direct_mode(indio_dev);
	if (ret)
		return ret;
	WRITE_ONCE(adc->mode, mode);
	iio_device_release_direct_mode(indio_dev);

	return len;
}

static ssize_t loopback_source_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct izc_sim_adc *adc = iio_priv(dev_to_iio_dev(dev));

	return izc_sim_link_show_dac(&adc->link, buf);
}

static ssize_t dma_channel_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct izc_sim_adc *adc = iio_priv(dev_to_iio_dev(dev));

	return sysfs_emit(buf, "%s\n", izc_soft_dma_port_chan_name(&adc->port));
}

enum {
	IZC_SIM_ADC_BLOCKS,
	IZC_SIM_ADC_BYTES,
	IZC_SIM_ADC_OVERRUN_EVENTS,
	IZC_SIM_ADC_OVERRUN_SAMPLES,
};

static ssize_t izc_sim_adc_stat_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct izc_sim_adc *adc = iio_priv(dev_to_iio_dev(dev));
	struct izc_sample_port_stats *st = &adc->port.stats;
	s64 v;

	switch (to_iio_dev_attr(attr)->address) {
	case IZC_SIM_ADC_BLOCKS:
		v = atomic64_read(&st->descriptors);
		break;
	case IZC_SIM_ADC_BYTES:
		v = atomic64_read(&st->bytes);
		break;
	case IZC_SIM_ADC_OVERRUN_EVENTS:
		v = atomic64_read(&st->lost_events);
		break;
	default:
		v = atomic64_read(&adc->overrun_samples);
		break;
	}

	return sysfs_emit(buf, "%lld\n", v);
}

static IIO_DEVICE_ATTR_RW(dma_mode, 0);
static IIO_CONST_ATTR(dma_mode_available, "touch null");
static IIO_DEVICE_ATTR_RO(dma_channel, 0);
static IIO_DEVICE_ATTR_RO(loopback_source, 0);
static IIO_DEVICE_ATTR(blocks_completed, 0444, izc_sim_adc_stat_show, NULL,
		       IZC_SIM_ADC_BLOCKS);
static IIO_DEVICE_ATTR(bytes_completed, 0444, izc_sim_adc_stat_show, NULL,
		       IZC_SIM_ADC_BYTES);
static IIO_DEVICE_ATTR(overrun_events, 0444, izc_sim_adc_stat_show, NULL,
		       IZC_SIM_ADC_OVERRUN_EVENTS);
static IIO_DEVICE_ATTR(overrun_samples, 0444, izc_sim_adc_stat_show, NULL,
		       IZC_SIM_ADC_OVERRUN_SAMPLES);

static struct attribute *izc_sim_adc_attrs[] = {
	&iio_dev_attr_dma_mode.dev_attr.attr,
	&iio_const_attr_dma_mode_available.dev_attr.attr,
	&iio_dev_attr_dma_channel.dev_attr.attr,
	&iio_dev_attr_blocks_completed.dev_attr.attr,
	&iio_dev_attr_bytes_completed.dev_attr.attr,
	&iio_dev_attr_overrun_events.dev_attr.attr,
	&iio_dev_attr_overrun_samples.dev_attr.attr,
	&iio_dev_attr_loopback_source.dev_attr.attr,
	NULL
};

static const struct attribute_group izc_sim_adc_attr_group = {
	.attrs = izc_sim_adc_attrs,
};

static const struct iio_info izc_sim_adc_info = {
	.read_raw = izc_sim_adc_read_raw,
	.write_raw = izc_sim_adc_write_raw,
	.write_raw_get_fmt = izc_sim_adc_write_raw_get_fmt,
	.update_scan_mode = izc_sim_adc_update_scan_mode,
	.attrs = &izc_sim_adc_attr_group,
};

/* ---- the platform driver ----------------------------------------------- */

static void izc_sim_adc_init_chans(struct izc_sim_adc *adc,
				   unsigned int nchan, unsigned int bits)
{
	unsigned int i;

	for (i = 0; i < nchan; i++) {
		struct iio_chan_spec *ch = &adc->chans[i];

		ch->type = IIO_VOLTAGE;
		ch->indexed = 1;
		ch->channel = i;
		ch->scan_index = i;
		ch->scan_type.sign = 's';
		ch->scan_type.realbits = bits;
		ch->scan_type.storagebits = bits;
		ch->scan_type.shift = 0;
		ch->scan_type.endianness = IIO_LE;
		ch->info_mask_shared_by_all = BIT(IIO_CHAN_INFO_SAMP_FREQ);
		ch->ext_info = izc_sim_adc_ext_info;
	}
}

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

	if (!pdata || pdata->channels < IZC_SIM_ADC_MIN_CHANS ||
	    pdata->channels > IZC_SIM_ADC_MAX_CHANS ||
	    (pdata->bits != 16 && pdata->bits != 32))
		return dev_err_probe(dev, -EINVAL, "bad configuration\n");

	indio_dev = devm_iio_device_alloc(dev, sizeof(*adc));
	if (!indio_dev)
		return -ENOMEM;
	adc = iio_priv(indio_dev);

	izc_wavegen_init(&adc->gen, pdata->channels, pdata->bits);
	izc_sim_adc_init_chans(adc, pdata->channels, pdata->bits);
	adc->rate = min(sampling_frequency, IZC_SIM_ADC_MAX_RATE);
	adc->mode = IZC_SOFT_DMA_TOUCH;
	atomic64_set(&adc->overrun_samples, 0);
	adc->port.ops = &izc_sim_adc_port_ops;
	adc->port.mode = adc->mode;

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

	ret = devm_izc_soft_dma_port_register(dev, "rx", &adc->port);
	if (ret)
		return dev_err_probe(dev, ret, "sample port\n");

	/* Unpaired (the DAC module pins ours) before the port goes. */
	izc_sim_link_init(&adc->link, &adc->port, indio_dev->label,
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

static struct platform_driver izc_sim_adc_driver;

/* Instances created by this module; protected by izc_sim_adc_list_lock */
struct izc_sim_adc_inst {
	struct list_head node;
	struct platform_device *pdev;
};

static DEFINE_MUTEX(izc_sim_adc_list_lock);
static LIST_HEAD(izc_sim_adc_list);
static DEFINE_IDA(izc_sim_adc_ida);

static int izc_sim_adc_create(unsigned int nchan, unsigned int bits,
			      bool with_dmabuf)
{
	struct izc_sim_adc_pdata pdata = {
		.channels = nchan,
		.bits = bits,
		.dmabuf = with_dmabuf,
	};
	struct platform_device_info info = {
		.name = IZC_SIM_ADC_NAME,
		.data = &pdata,
		.size_data = sizeof(pdata),
		.dma_mask = DMA_BIT_MASK(64),
	};
	struct izc_sim_adc_inst *inst;
	int id, ret;

	if (nchan < IZC_SIM_ADC_MIN_CHANS || nchan > IZC_SIM_ADC_MAX_CHANS ||
	    (bits != 16 && bits != 32))
		return -EINVAL;

	inst = kzalloc(sizeof(*inst), GFP_KERNEL);
	if (!inst)
		return -ENOMEM;

	id = ida_alloc_max(&izc_sim_adc_ida, IZC_SIM_ADC_MAX_INST - 1,
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

	mutex_lock(&izc_sim_adc_list_lock);
	list_add_tail(&inst->node, &izc_sim_adc_list);
	mutex_unlock(&izc_sim_adc_list_lock);
	return id;

err_device_unregister:
	platform_device_unregister(inst->pdev);
err_ida_free:
	ida_free(&izc_sim_adc_ida, id);
err_inst_free:
	kfree(inst);
	return ret;
}

static void izc_sim_adc_destroy_all(void)
{
	struct izc_sim_adc_inst *inst, *tmp;

	mutex_lock(&izc_sim_adc_list_lock);
	list_for_each_entry_safe_reverse(inst, tmp, &izc_sim_adc_list, node) {
		list_del(&inst->node);
		ida_free(&izc_sim_adc_ida, inst->pdev->id);
		platform_device_unregister(inst->pdev);
		kfree(inst);
	}
	mutex_unlock(&izc_sim_adc_list_lock);
}

/*
 * Runtime creation: echo "CHANNELS BITS [DMABUF]" (or nothing for the
 * module's defaults) > /sys/bus/platform/drivers/izc-sim-adc/new_device;
 * DMABUF 0 gives a read()-only buffer. Devices go away with the module.
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

static struct attribute *izc_sim_adc_drv_attrs[] = {
	&driver_attr_new_device.attr,
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

	if (instances > IZC_SIM_ADC_MAX_INST)
		return -EINVAL;

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
	izc_sim_adc_destroy_all();
	platform_driver_unregister(&izc_sim_adc_driver);
	return ret;
}
module_init(izc_sim_adc_init);

static void __exit izc_sim_adc_exit(void)
{
	izc_sim_adc_destroy_all();
	platform_driver_unregister(&izc_sim_adc_driver);
}
module_exit(izc_sim_adc_exit);

MODULE_DESCRIPTION("iio-zerocopy simulated high-speed ADC");
MODULE_AUTHOR("iio-zerocopy developers");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IIO_ZEROCOPY);
