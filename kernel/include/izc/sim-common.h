/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iio-zerocopy: what the simulated converters have in common.
 *
 * The simulated ADC (izc_sim_adc) and DAC (izc_sim_dac) are built alike:
 * platform devices that their module creates (at load and through the
 * driver's new_device attribute), each with an IIO device whose "hardware"
 * is a sample port of the software DMA controller. This is the part that
 * does not depend on the direction: the registry of instances, the channel
 * specs, sampling_frequency, dma_mode, dma_channel and the transfer counters.
 * The ADC module implements it (exported in the IIO_ZEROCOPY namespace); the
 * DAC module already depends on that module for the loopback wire.
 */
#ifndef __IZC_SIM_COMMON_H__
#define __IZC_SIM_COMMON_H__

#include <linux/atomic.h>
#include <linux/idr.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include <izc/soft-dma.h>

struct device;
struct device_attribute;
struct iio_chan_spec;
struct iio_chan_spec_ext_info;
struct iio_dev;
struct platform_device;

#define IZC_SIM_MIN_CHANS	2
#define IZC_SIM_MAX_CHANS	16
#define IZC_SIM_MAX_RATE	1000000000U
#define IZC_SIM_MAX_INST	64

/* What dma_mode_available shows: the names dma_mode accepts */
#define IZC_SIM_DMA_MODES_AVAILABLE	"touch null"

/**
 * struct izc_sim_converter - the state every simulated converter has
 * @port: the sample port the soft DMA engine serves
 * @rate: sampling frequency in S/s, 0 unpaced
 * @mode: DMA data mode
 * @lost_samples: frames lost in gaps (ADC overrun, DAC underflow)
 *
 * It must be the first member of the driver's iio_priv() area: the shared
 * callbacks below find it there.
 *
 * Locking: @rate and @mode, and the stream fields of @port (frame size,
 * rate, mode), change only with the IIO device's direct mode claimed, or
 * from update_scan_mode, which the IIO core runs under the same lock while
 * it enables the buffer: never while the DMA runs. @lost_samples is an
 * atomic, added to by the DMA engine's worker only.
 */
struct izc_sim_converter {
	struct izc_sample_port port;
	unsigned int rate;
	enum izc_soft_dma_data_mode mode;
	atomic64_t lost_samples;
};

bool izc_sim_format_valid(unsigned int nchan, unsigned int bits);
void izc_sim_converter_init(struct izc_sim_converter *conv,
			    const struct izc_sample_port_ops *ops,
			    unsigned int rate);
void izc_sim_init_chans(struct iio_chan_spec *chans, unsigned int nchan,
			unsigned int bits, bool output,
			const struct iio_chan_spec_ext_info *ext_info);
void izc_sim_converter_set_frame(struct izc_sim_converter *conv,
				 unsigned int frame_bytes);
void izc_sim_converter_count_lost(struct izc_sim_converter *conv,
				  size_t len);

/* struct iio_info callbacks: sampling_frequency */
int izc_sim_read_raw(struct iio_dev *indio_dev,
		     const struct iio_chan_spec *chan, int *val, int *val2,
		     long mask);
int izc_sim_write_raw(struct iio_dev *indio_dev,
		      const struct iio_chan_spec *chan, int val, int val2,
		      long mask);
int izc_sim_write_raw_get_fmt(struct iio_dev *indio_dev,
			      struct iio_chan_spec const *chan, long mask);

/* Device attributes; the driver defines them (IIO_DEVICE_ATTR) with these */
ssize_t izc_sim_dma_mode_show(struct device *dev,
			      struct device_attribute *attr, char *buf);
ssize_t izc_sim_dma_mode_store(struct device *dev,
			       struct device_attribute *attr, const char *buf,
			       size_t len);
ssize_t izc_sim_dma_channel_show(struct device *dev,
				 struct device_attribute *attr, char *buf);

/**
 * enum izc_sim_stat - the counters izc_sim_stat_show() shows (attribute
 *	address)
 * @IZC_SIM_STAT_BLOCKS: blocks completed
 * @IZC_SIM_STAT_BYTES: bytes completed
 * @IZC_SIM_STAT_LOST_EVENTS: gaps (overruns, underflows)
 * @IZC_SIM_STAT_LOST_SAMPLES: frames lost in those gaps
 * @IZC_SIM_STAT_FAILED: blocks whose transfer failed
 */
enum izc_sim_stat {
	IZC_SIM_STAT_BLOCKS,
	IZC_SIM_STAT_BYTES,
	IZC_SIM_STAT_LOST_EVENTS,
	IZC_SIM_STAT_LOST_SAMPLES,
	IZC_SIM_STAT_FAILED,
};

ssize_t izc_sim_stat_show(struct device *dev, struct device_attribute *attr,
			  char *buf);

/**
 * struct izc_sim_registry - the devices a converter module created
 * @name: their platform device name (the driver's name)
 * @lock: protects @list
 * @list: the instances, in creation order
 * @ida: instance numbers, 0..IZC_SIM_MAX_INST - 1 (locks itself)
 */
struct izc_sim_registry {
	const char *name;
	struct mutex lock;	/* protects @list */
	struct list_head list;
	struct ida ida;
};

void izc_sim_registry_init(struct izc_sim_registry *reg, const char *name);
int izc_sim_instance_create(struct izc_sim_registry *reg, const void *pdata,
			    size_t size);
int izc_sim_instance_delete(struct izc_sim_registry *reg, const char *name,
			    int (*retire)(struct platform_device *pdev));
void izc_sim_instance_destroy_all(struct izc_sim_registry *reg);

#endif /* __IZC_SIM_COMMON_H__ */
