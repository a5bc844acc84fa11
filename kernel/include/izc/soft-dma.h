/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iio-zerocopy: software DMA controller, the "peripheral" side.
 *
 * The software DMA controller is a dmaengine provider like any other: a
 * converter driver requests its channel with dma_request_chan(dev, "rx").
 * What a hardware DMA controller gets from the bus (a peripheral FIFO that
 * produces or consumes samples at the converter's rate) the software
 * controller gets from a sample port the converter registers here.
 *
 * Registering a port binds a free channel of the controller to the
 * (device, slave name) pair through the controller's dma_slave_map, so the
 * ordinary dma_request_chan(dev, slave_name) finds it.
 */
#ifndef __IZC_SOFT_DMA_H__
#define __IZC_SOFT_DMA_H__

#include <linux/atomic.h>
#include <linux/types.h>

struct device;
struct izc_sample_port;

/**
 * enum izc_soft_dma_data_mode - what the engine does with memory
 * @IZC_SOFT_DMA_TOUCH: every byte of a descriptor is produced by the port's
 *	fill() (capture) or consumed by its drain() (transmit), like a real
 *	DMA moving samples.
 * @IZC_SOFT_DMA_NULL: descriptors complete at the paced rate without the
 *	memory being touched: models a hardware DMA that costs no CPU, for
 *	benchmarking the software around it. The port's skip() is called
 *	instead so the stream position still advances.
 */
enum izc_soft_dma_data_mode {
	IZC_SOFT_DMA_TOUCH,
	IZC_SOFT_DMA_NULL,
};

/**
 * struct izc_sample_port_ops - the converter's side of the data path
 * @fill: capture: write the next @len bytes of the sample stream to @dst.
 *	Called in process context (never atomic); may be called with @len not
 *	a multiple of the frame size, the port keeps its byte position.
 * @drain: transmit: consume the next @len bytes of the sample stream from
 *	@src. Same context rules as @fill.
 * @skip: the stream advanced by @len bytes without memory: either the data
 *	mode is NULL (@lost false), or the port's FIFO overflowed (@lost true:
 *	capture overrun / transmit underflow, the converter counts it and, for
 *	transmit, emits its idle value). @len can be anything up to the whole
 *	time the stream went without a descriptor: a port must skip in O(1),
 *	not sample by sample.
 *
 * @avail: optional flow control: how many bytes the port can produce
 *	(capture) or consume (transmit) right now; SIZE_MAX when it is not
 *	limited. The engine never moves more than this into or out of a
 *	descriptor (fill, drain and skip with @lost false); when it is 0 the
 *	engine waits, without losing anything, until the port calls
 *	izc_soft_dma_port_kick(). A paced clock keeps running meanwhile: the
 *	bytes that became due are moved as soon as the port is ready again.
 *	What @avail holds back does not count against the FIFO (see the
 *	timing model below); with no descriptor queued it is not asked: the
 *	FIFO overflows whatever @avail says. Same context rules as @fill.
 *
 * A capture port implements @fill and @skip, a transmit port @drain and @skip.
 */
struct izc_sample_port_ops {
	void (*fill)(struct izc_sample_port *port, void *dst, size_t len);
	void (*drain)(struct izc_sample_port *port, const void *src, size_t len);
	void (*skip)(struct izc_sample_port *port, size_t len, bool lost);
	size_t (*avail)(struct izc_sample_port *port);
};

/**
 * struct izc_sample_port_stats - counters kept by the engine, read anywhere
 * @descriptors: descriptors completed successfully
 * @bytes: bytes moved (or skipped in NULL mode) for completed descriptors
 * @lost_bytes: bytes lost because the FIFO overflowed
 * @lost_events: number of distinct gaps (overruns/underflows)
 * @failed: descriptors (passes of repeated ones) that ended with an error
 */
struct izc_sample_port_stats {
	atomic64_t descriptors;
	atomic64_t bytes;
	atomic64_t lost_bytes;
	atomic64_t lost_events;
	atomic64_t failed;
};

/**
 * struct izc_sample_port - a converter's sample FIFO as seen by the engine
 * @ops: the converter's callbacks
 * @bytes_per_second: pacing rate; 0 runs unpaced (as fast as memory goes).
 *	Written by the converter only while its buffer is disabled; the engine
 *	samples it when a channel starts.
 * @mode: data mode, same rule as @bytes_per_second
 * @frame_bytes: size of one frame (one sample of every enabled channel).
 *	Gaps (@skip with lost true) are always whole frames, so a descriptor
 *	that starts on a frame boundary still does after a gap. 0 means 1.
 *	Same rule as @bytes_per_second.
 * @stats: counters maintained by the engine
 * @chan: owned by the engine
 *
 * Timing model (paced): the clock starts at the first issue_pending() after
 * the channel was allocated or terminated; from then on @bytes_per_second
 * bytes become due every second until dmaengine_terminate_*(). Between the
 * port and memory sits a FIFO 20 ms deep (20 ms of data at
 * @bytes_per_second, rounded down to whole frames, at least one frame):
 * bytes that are due and not moved yet wait in it, whether no descriptor is
 * queued or the engine is late. When it would hold more, the oldest bytes
 * beyond its depth are lost, in whole frames: @skip(len, true) and the
 * lost_* stats; one lost_events per run of losses between moved bytes.
 * The engine accounts an overflow within about a millisecond. Bytes that
 * @avail holds back are not lost: flow control stalls the stream instead.
 * Unpaced (@bytes_per_second 0): the stream waits for memory, nothing is
 * ever lost.
 */
struct izc_sample_port {
	const struct izc_sample_port_ops *ops;
	u64 bytes_per_second;
	enum izc_soft_dma_data_mode mode;
	unsigned int frame_bytes;
	struct izc_sample_port_stats stats;
	void *chan;
};

int izc_soft_dma_port_register(struct device *dev, const char *slave_name,
			       struct izc_sample_port *port);
void izc_soft_dma_port_unregister(struct izc_sample_port *port);
int devm_izc_soft_dma_port_register(struct device *dev, const char *slave_name,
				    struct izc_sample_port *port);
const char *izc_soft_dma_port_chan_name(struct izc_sample_port *port);
void izc_soft_dma_port_kick(struct izc_sample_port *port);

#endif /* __IZC_SOFT_DMA_H__ */
