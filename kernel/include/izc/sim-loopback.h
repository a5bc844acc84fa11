/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iio-zerocopy: loopback wire between a simulated DAC and a simulated ADC.
 *
 * Every izc_sim_adc instance has a link; a DAC (izc_sim_dac) pairs with it by
 * the ADC's label. While paired, the ADC captures what the DAC emits instead
 * of its waveform generator: channel c of the DAC is wired to channel c of
 * the ADC (same channel count and storage bits required). The wire is a FIFO
 * of whole frames of all channels; a DAC channel that is not enabled, an
 * underflowing DAC and a stopped DAC all emit the idle value 0 (mid-scale of
 * the signed range).
 *
 * Flow, per stream (see docs/sim-dac.md for the full contract):
 *  - the FIFO is live while the ADC streams; what the DAC emits while the
 *    ADC does not stream goes nowhere;
 *  - the DAC starts its stream with @latency idle frames (the wire delay);
 *  - the DAC waits for room in the FIFO and the ADC for frames in it
 *    (izc_sample_port_ops.avail), so nothing is lost at any rate; a paced
 *    ADC whose DAC does not stream captures idle frames;
 *  - frames that do not fit (a paced DAC underflowing into a FIFO that its
 *    stalled ADC does not empty) are dropped and counted by the DAC.
 *
 * The DAC module calls these from its own device's context; the ADC module
 * implements them (exported in the IIO_ZEROCOPY namespace). An ADC is only
 * removed with its module, which the DAC module's use of these symbols pins.
 */
#ifndef __IZC_SIM_LOOPBACK_H__
#define __IZC_SIM_LOOPBACK_H__

#include <linux/types.h>

struct izc_sample_port;
struct izc_sim_link;

/* Longest wire delay, in frames */
#define IZC_SIM_LINK_MAX_LATENCY	65536U

struct izc_sim_link *izc_sim_link_pair(const char *adc_label,
				       const char *dac_label,
				       struct izc_sample_port *dac_port,
				       unsigned int nchan, unsigned int bits);
void izc_sim_link_unpair(struct izc_sim_link *link);
const char *izc_sim_link_adc_label(struct izc_sim_link *link);

u64 izc_sim_link_dac_start(struct izc_sim_link *link,
			   const unsigned long *mask, unsigned int latency);
void izc_sim_link_dac_stop(struct izc_sim_link *link);
u64 izc_sim_link_dac_push(struct izc_sim_link *link, const void *src,
			  size_t len);
size_t izc_sim_link_dac_avail(struct izc_sim_link *link);

#endif /* __IZC_SIM_LOOPBACK_H__ */
