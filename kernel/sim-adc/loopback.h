/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iio-zerocopy: the ADC's end of the loopback wire (see
 * include/izc/sim-loopback.h for the DAC's end and the contract). Private to
 * izc_sim_adc.
 */
#ifndef __IZC_SIM_ADC_LOOPBACK_H__
#define __IZC_SIM_ADC_LOOPBACK_H__

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include <izc/sim-loopback.h>

#include "waveform.h"

/* Largest frame: 16 channels of 32 bits */
#define IZC_SIM_LINK_MAX_FRAME	(IZC_WAVEGEN_MAX_CHANS * 4)

/**
 * struct izc_sim_link_end - one converter's view of the wire
 * @active: enabled channels, ascending
 * @nactive: number of enabled channels
 * @frame_bytes: bytes of this converter's frame (enabled channels only)
 * @stage: DAC: the frame being assembled from drain(); ADC: the frame being
 *	handed out to fill()
 * @stage_len: bytes in @stage
 * @stage_off: ADC: bytes of @stage already handed out
 */
struct izc_sim_link_end {
	u8 active[IZC_WAVEGEN_MAX_CHANS];
	unsigned int nactive;
	unsigned int frame_bytes;
	u8 stage[IZC_SIM_LINK_MAX_FRAME];
	unsigned int stage_len;
	unsigned int stage_off;
};

/**
 * struct izc_sim_link - the wire into one ADC
 * @node: entry in the list of links, for pairing by label
 * @adc_port: the ADC's sample port, kicked when frames arrive. Constant.
 * @adc_label: the ADC's label. Constant.
 * @nchan: channels of the ADC. Constant.
 * @sb: bytes per sample. Constant.
 * @wire: bytes of a wire frame: @nchan samples. Constant.
 * @lock: protects everything below. Taken by the two DMA workers (fill,
 *	drain, skip and avail run in their kthreads) and by the converters'
 *	enable/disable paths and pairing; never held while kicking a port.
 * @dac_port: the paired DAC's port, NULL while unpaired
 * @dac_label: the paired DAC's label, valid while @dac_port is set
 * @ring: the FIFO, @cap bytes, allocated while paired. Holds whole wire
 *	frames from @tail to @head (byte counters, taken modulo @cap); only
 *	the ADC may have taken part of the oldest frame.
 * @cap: size of @ring, a multiple of @wire
 * @head: bytes ever put into @ring
 * @tail: bytes ever taken out of @ring
 * @latency: idle frames the DAC's stream starts with
 * @adc_streaming: the ADC's buffer is enabled: the FIFO is live
 * @adc_paced: the ADC runs paced: it captures idle frames while the DAC does
 *	not stream
 * @dac_streaming: the DAC's buffer is enabled
 * @adc_waiting: the ADC was told avail 0 and waits for a kick
 * @dac_waiting: the DAC was told avail 0 and waits for a kick
 * @adc: the ADC's end
 * @dac: the DAC's end
 */
struct izc_sim_link {
	struct list_head node;
	struct izc_sample_port *adc_port;
	const char *adc_label;
	unsigned int nchan;
	unsigned int sb;
	unsigned int wire;

	spinlock_t lock; /* see above */
	struct izc_sample_port *dac_port;
	const char *dac_label;
	u8 *ring;
	size_t cap;
	u64 head;
	u64 tail;
	unsigned int latency;
	bool adc_streaming;
	bool adc_paced;
	bool dac_streaming;
	bool adc_waiting;
	bool dac_waiting;
	struct izc_sim_link_end adc;
	struct izc_sim_link_end dac;
};

void izc_sim_link_init(struct izc_sim_link *link,
		       struct izc_sample_port *adc_port, const char *adc_label,
		       unsigned int nchan, unsigned int bits);
void izc_sim_link_add(struct izc_sim_link *link);
void izc_sim_link_del(struct izc_sim_link *link);
int izc_sim_link_retire(struct izc_sim_link *link);
bool izc_sim_link_adc_start(struct izc_sim_link *link,
			    const unsigned long *mask, bool paced);
void izc_sim_link_adc_stop(struct izc_sim_link *link);
void izc_sim_link_adc_fill(struct izc_sim_link *link, void *dst, size_t len);
size_t izc_sim_link_adc_avail(struct izc_sim_link *link);
ssize_t izc_sim_link_show_dac(struct izc_sim_link *link, char *buf);

#endif /* __IZC_SIM_ADC_LOOPBACK_H__ */
