// SPDX-License-Identifier: GPL-2.0
/*
 * iio-zerocopy: the plumbing the simulated ADC and DAC share (see
 * include/izc/sim-common.h): instance registry, channel specs,
 * sampling_frequency, dma_mode, dma_channel and the transfer counters.
 */

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include <linux/iio/iio.h>
#include <linux/iio/sysfs.h>

#include <izc/sim-common.h>

static const char * const izc_sim_dma_modes[] = {
	[IZC_SOFT_DMA_TOUCH] = "touch",
	[IZC_SOFT_DMA_NULL] = "null",
};

static struct izc_sim_converter *dev_to_conv(struct device *dev)
{
	return iio_priv(dev_to_iio_dev(dev));
}

/**
 * izc_sim_format_valid - whether a converter can be built
 * @nchan: channels, IZC_SIM_MIN_CHANS..IZC_SIM_MAX_CHANS
 * @bits: storage bits, 16 or 32
 */
bool izc_sim_format_valid(unsigned int nchan, unsigned int bits)
{
	return nchan >= IZC_SIM_MIN_CHANS && nchan <= IZC_SIM_MAX_CHANS &&
	       (bits == 16 || bits == 32);
}
EXPORT_SYMBOL_NS_GPL(izc_sim_format_valid, IIO_ZEROCOPY);

/**
 * izc_sim_converter_init - a converter at probe: touch mode, no counts
 * @conv: the converter
 * @ops: its sample port's callbacks
 * @rate: initial sampling frequency, clamped to IZC_SIM_MAX_RATE
 */
void izc_sim_converter_init(struct izc_sim_converter *conv,
			    const struct izc_sample_port_ops *ops,
			    unsigned int rate)
{
	conv->rate = min(rate, IZC_SIM_MAX_RATE);
	conv->mode = IZC_SOFT_DMA_TOUCH;
	atomic64_set(&conv->lost_samples, 0);
	conv->port.ops = ops;
	conv->port.mode = conv->mode;
}
EXPORT_SYMBOL_NS_GPL(izc_sim_converter_init, IIO_ZEROCOPY);

/**
 * izc_sim_init_chans - channel specs: indexed voltage channels, packed s16
 *	or s32 little endian, scanned in channel order, sampling_frequency
 *	shared by all
 * @chans: @nchan specs, zeroed
 * @nchan: channels
 * @bits: storage bits
 * @output: output channels (out_voltageN)
 * @ext_info: extended attributes of every channel, or NULL
 */
void izc_sim_init_chans(struct iio_chan_spec *chans, unsigned int nchan,
			unsigned int bits, bool output,
			const struct iio_chan_spec_ext_info *ext_info)
{
	unsigned int i;

	for (i = 0; i < nchan; i++) {
		struct iio_chan_spec *ch = &chans[i];

		ch->type = IIO_VOLTAGE;
		ch->indexed = 1;
		ch->output = output;
		ch->channel = i;
		ch->scan_index = i;
		ch->scan_type.sign = 's';
		ch->scan_type.realbits = bits;
		ch->scan_type.storagebits = bits;
		ch->scan_type.shift = 0;
		ch->scan_type.endianness = IIO_LE;
		ch->info_mask_shared_by_all = BIT(IIO_CHAN_INFO_SAMP_FREQ);
		ch->ext_info = ext_info;
	}
}
EXPORT_SYMBOL_NS_GPL(izc_sim_init_chans, IIO_ZEROCOPY);

/**
 * izc_sim_converter_set_frame - the sample port's stream fields for a
 *	stream of @frame_bytes frames at the current rate and mode
 * @conv: the converter
 * @frame_bytes: bytes per frame, not 0
 *
 * From update_scan_mode (see the locking rules of struct izc_sim_converter).
 */
void izc_sim_converter_set_frame(struct izc_sim_converter *conv,
				 unsigned int frame_bytes)
{
	WRITE_ONCE(conv->port.frame_bytes, frame_bytes);
	WRITE_ONCE(conv->port.bytes_per_second, (u64)conv->rate * frame_bytes);
	WRITE_ONCE(conv->port.mode, conv->mode);
}
EXPORT_SYMBOL_NS_GPL(izc_sim_converter_set_frame, IIO_ZEROCOPY);

/**
 * izc_sim_converter_count_lost - count the frames of a gap
 * @conv: the converter
 * @len: bytes of the gap (whole frames), from the port's skip()
 */
void izc_sim_converter_count_lost(struct izc_sim_converter *conv, size_t len)
{
	if (conv->port.frame_bytes)
		atomic64_add(len / conv->port.frame_bytes, &conv->lost_samples);
}
EXPORT_SYMBOL_NS_GPL(izc_sim_converter_count_lost, IIO_ZEROCOPY);

/* ---- sampling_frequency ------------------------------------------------ */

int izc_sim_read_raw(struct iio_dev *indio_dev,
		     const struct iio_chan_spec *chan, int *val, int *val2,
		     long mask)
{
	struct izc_sim_converter *conv = iio_priv(indio_dev);

	switch (mask) {
	case IIO_CHAN_INFO_SAMP_FREQ:
		*val = READ_ONCE(conv->rate);
		return IIO_VAL_INT;
	default:
		return -EINVAL;
	}
}
EXPORT_SYMBOL_NS_GPL(izc_sim_read_raw, IIO_ZEROCOPY);

int izc_sim_write_raw(struct iio_dev *indio_dev,
		      const struct iio_chan_spec *chan, int val, int val2,
		      long mask)
{
	struct izc_sim_converter *conv = iio_priv(indio_dev);
	int ret;

	switch (mask) {
	case IIO_CHAN_INFO_SAMP_FREQ:
		if (val < 0 || val > IZC_SIM_MAX_RATE || val2)
			return -EINVAL;
		ret = iio_device_claim_direct_mode(indio_dev);
		if (ret)
			return ret;
		WRITE_ONCE(conv->rate, val);
		iio_device_release_direct_mode(indio_dev);
		return 0;
	default:
		return -EINVAL;
	}
}
EXPORT_SYMBOL_NS_GPL(izc_sim_write_raw, IIO_ZEROCOPY);

int izc_sim_write_raw_get_fmt(struct iio_dev *indio_dev,
			      struct iio_chan_spec const *chan, long mask)
{
	return IIO_VAL_INT;
}
EXPORT_SYMBOL_NS_GPL(izc_sim_write_raw_get_fmt, IIO_ZEROCOPY);

/* ---- device attributes ------------------------------------------------- */

ssize_t izc_sim_dma_mode_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct izc_sim_converter *conv = dev_to_conv(dev);

	return sysfs_emit(buf, "%s\n", izc_sim_dma_modes[READ_ONCE(conv->mode)]);
}
EXPORT_SYMBOL_NS_GPL(izc_sim_dma_mode_show, IIO_ZEROCOPY);

ssize_t izc_sim_dma_mode_store(struct device *dev,
			       struct device_attribute *attr, const char *buf,
			       size_t len)
{
	struct iio_dev *indio_dev = dev_to_iio_dev(dev);
	struct izc_sim_converter *conv = iio_priv(indio_dev);
	int mode, ret;

	mode = sysfs_match_string(izc_sim_dma_modes, buf);
	if (mode < 0)
		return mode;

	ret = iio_device_claim_direct_mode(indio_dev);
	if (ret)
		return ret;
	WRITE_ONCE(conv->mode, mode);
	iio_device_release_direct_mode(indio_dev);

	return len;
}
EXPORT_SYMBOL_NS_GPL(izc_sim_dma_mode_store, IIO_ZEROCOPY);

ssize_t izc_sim_dma_channel_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct izc_sim_converter *conv = dev_to_conv(dev);

	return sysfs_emit(buf, "%s\n", izc_soft_dma_port_chan_name(&conv->port));
}
EXPORT_SYMBOL_NS_GPL(izc_sim_dma_channel_show, IIO_ZEROCOPY);

/* The counter enum izc_sim_stat in the attribute's address */
ssize_t izc_sim_stat_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct izc_sim_converter *conv = dev_to_conv(dev);
	struct izc_sample_port_stats *st = &conv->port.stats;
	s64 v;

	switch (to_iio_dev_attr(attr)->address) {
	case IZC_SIM_STAT_BLOCKS:
		v = atomic64_read(&st->descriptors);
		break;
	case IZC_SIM_STAT_BYTES:
		v = atomic64_read(&st->bytes);
		break;
	case IZC_SIM_STAT_LOST_EVENTS:
		v = atomic64_read(&st->lost_events);
		break;
	case IZC_SIM_STAT_FAILED:
		v = atomic64_read(&st->failed);
		break;
	default:
		v = atomic64_read(&conv->lost_samples);
		break;
	}

	return sysfs_emit(buf, "%lld\n", v);
}
EXPORT_SYMBOL_NS_GPL(izc_sim_stat_show, IIO_ZEROCOPY);

/* ---- the registry of instances ----------------------------------------- */

/* One device of a registry; on the registry's list */
struct izc_sim_instance {
	struct list_head node;
	struct platform_device *pdev;
};

/**
 * izc_sim_registry_init - an empty registry, before the first create
 * @reg: the module's registry
 * @name: the platform device name of its instances; must outlive @reg
 */
void izc_sim_registry_init(struct izc_sim_registry *reg, const char *name)
{
	reg->name = name;
	mutex_init(&reg->lock);
	INIT_LIST_HEAD(&reg->list);
	ida_init(&reg->ida);
}
EXPORT_SYMBOL_NS_GPL(izc_sim_registry_init, IIO_ZEROCOPY);

/**
 * izc_sim_instance_create - create and probe one device
 * @reg: the module's registry
 * @pdata: its platform data (copied)
 * @size: size of @pdata
 *
 * Return: the instance number N of the device "NAME.N"; -EBUSY when all
 * IZC_SIM_MAX_INST numbers are taken, -ENODEV when the probe failed (the
 * kernel log says why), or another negative errno.
 */
int izc_sim_instance_create(struct izc_sim_registry *reg, const void *pdata,
			    size_t size)
{
	struct platform_device_info info = {
		.name = reg->name,
		.data = pdata,
		.size_data = size,
		.dma_mask = DMA_BIT_MASK(64),
	};
	struct izc_sim_instance *inst;
	int id, ret;

	inst = kzalloc(sizeof(*inst), GFP_KERNEL);
	if (!inst)
		return -ENOMEM;

	id = ida_alloc_max(&reg->ida, IZC_SIM_MAX_INST - 1, GFP_KERNEL);
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

	mutex_lock(&reg->lock);
	list_add_tail(&inst->node, &reg->list);
	mutex_unlock(&reg->lock);
	return id;

err_device_unregister:
	platform_device_unregister(inst->pdev);
err_ida_free:
	ida_free(&reg->ida, id);
err_inst_free:
	kfree(inst);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(izc_sim_instance_create, IIO_ZEROCOPY);

/**
 * izc_sim_instance_delete - remove one device at runtime
 * @reg: the module's registry
 * @name: its platform device name, "NAME.N"
 * @retire: NULL, or asked first, with the device still bound: a negative
 *	errno keeps the device (it is in use in a way its removal would
 *	break), 0 lets it go
 *
 * What is streaming from or to the device is stopped by the removal: the IIO
 * core disables the buffer, open buffer fds get -ENODEV from then on.
 *
 * Return: 0, -ENODEV if @reg has no device @name, or @retire's errno.
 */
int izc_sim_instance_delete(struct izc_sim_registry *reg, const char *name,
			    int (*retire)(struct platform_device *pdev))
{
	struct izc_sim_instance *inst;
	int id, ret = -ENODEV;

	mutex_lock(&reg->lock);
	list_for_each_entry(inst, &reg->list, node) {
		if (sysfs_streq(name, dev_name(&inst->pdev->dev))) {
			ret = 0;
			break;
		}
	}
	if (!ret && retire)
		ret = retire(inst->pdev);
	if (!ret)
		list_del(&inst->node);
	mutex_unlock(&reg->lock);
	if (ret)
		return ret;

	/*
	 * Out of the list: a concurrent delete of the same name finds none.
	 * The number is free again only once "NAME.N" is gone.
	 */
	id = inst->pdev->id;
	platform_device_unregister(inst->pdev);
	ida_free(&reg->ida, id);
	kfree(inst);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(izc_sim_instance_delete, IIO_ZEROCOPY);

/**
 * izc_sim_instance_destroy_all - remove every device of @reg, newest first
 * @reg: the module's registry
 */
void izc_sim_instance_destroy_all(struct izc_sim_registry *reg)
{
	struct izc_sim_instance *inst, *tmp;

	mutex_lock(&reg->lock);
	list_for_each_entry_safe_reverse(inst, tmp, &reg->list, node) {
		list_del(&inst->node);
		ida_free(&reg->ida, inst->pdev->id);
		platform_device_unregister(inst->pdev);
		kfree(inst);
	}
	mutex_unlock(&reg->lock);
}
EXPORT_SYMBOL_NS_GPL(izc_sim_instance_destroy_all, IIO_ZEROCOPY);
