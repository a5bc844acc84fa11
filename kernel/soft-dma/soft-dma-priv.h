/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iio-zerocopy software DMA controller: definitions shared by the dmaengine
 * provider (soft-dma-core.c) and the data engine (soft-dma-engine.c).
 */
#ifndef __IZC_SOFT_DMA_PRIV_H__
#define __IZC_SOFT_DMA_PRIV_H__

#include <linux/dmaengine.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include <izc/soft-dma.h>

struct dentry;
struct task_struct;

/* Longest dev_name() / slave name a port can be registered with, plus NUL */
#define IZC_SDMA_NAME_MAX	64
/* Failed descriptors whose cookies tx_status reports as DMA_ERROR */
#define IZC_SDMA_FAILED_MAX	16

/**
 * struct izc_sdma_seg - one contiguous piece of a descriptor
 * @addr: bus address, as the client mapped it against the controller
 * @len: length in bytes, never 0
 */
struct izc_sdma_seg {
	dma_addr_t addr;
	size_t len;
};

/**
 * struct izc_sdma_desc - a prepared transfer
 * @tx: the dmaengine descriptor handed to the client
 * @node: on exactly one of the channel's lists, except while active
 * @dir: DMA_DEV_TO_MEM or DMA_MEM_TO_DEV
 * @repeat: DMA_PREP_REPEAT: restart at the end until a LOAD_EOT descriptor
 *	is issued behind it
 * @load_eot: DMA_PREP_LOAD_EOT: replaces an active repeated descriptor at
 *	the end of its current pass
 * @interrupt: DMA_PREP_INTERRUPT: call the client's callback
 * @fail: worker-private: the current pass was picked to fail
 *	(fail_transfers); decided when the pass moves its first bytes
 * @total: sum of the segment lengths
 * @done: bytes of the current pass already moved; written by the worker
 *	under the channel lock, read by tx_status under the same lock
 * @seg: worker-private cursor: current segment
 * @seg_off: worker-private cursor: offset in the current segment
 * @nsegs: number of segments
 * @segs: the segments
 */
struct izc_sdma_desc {
	struct dma_async_tx_descriptor tx;
	struct list_head node;
	enum dma_transfer_direction dir;
	bool repeat;
	bool load_eot;
	bool interrupt;
	bool fail;
	size_t total;
	size_t done;
	unsigned int seg;
	size_t seg_off;
	unsigned int nsegs;
	struct izc_sdma_seg segs[] __counted_by(nsegs);
};

/**
 * struct izc_sdma_clock - the pacing clock of a running channel
 * @gen: incremented at every start and stop; the worker drops the results
 *	of a step that began under another generation
 * @t0: when the clock started
 * @bps: bytes per second, 0 for unpaced
 * @produced: bytes accounted since @t0 (moved to memory, skipped or lost);
 *	the backlog (due minus @produced) is what the port's FIFO holds
 * @frame: gaps are accounted in multiples of this many bytes
 * @fifo: depth of the port's FIFO in bytes (whole frames, at least one);
 *	0 when unpaced
 * @mode: data mode sampled from the port at start
 */
struct izc_sdma_clock {
	u64 gen;
	ktime_t t0;
	u64 bps;
	u64 produced;
	u64 fifo;
	unsigned int frame;
	enum izc_soft_dma_data_mode mode;
};

struct izc_sdma;

/**
 * struct izc_sdma_chan - one channel of the controller
 * @chan: the dmaengine channel
 * @sdma: the controller
 * @index: channel number
 * @devname: bound client's dev_name(); the slave map entry points here
 * @slave: bound client's slave name; the slave map entry points here
 * @lock: see below
 * @port: bound sample port or NULL
 * @thread: the worker kthread while the channel is allocated, else NULL
 * @allocated: prepared descriptors not submitted yet
 * @submitted: submitted, not issued
 * @issued: issued, waiting for the engine
 * @active: the descriptor the engine works on, or NULL
 * @aborted: terminated descriptors to be freed (no callback is due)
 * @kick: the worker has to look at the channel again
 * @running: the clock runs (from the first issue_pending to terminate)
 * @in_gap: bytes were lost since the last byte went to memory
 * @clk: the pacing clock
 * @cfg: last dma_slave_config (kept for completeness; the engine has no
 *	bus widths to honour)
 * @failed: cookies and residues of the last IZC_SDMA_FAILED_MAX descriptors
 *	that failed (bad memory); tx_status reports DMA_ERROR for them
 * @failed_next: where the next failure is recorded in @failed
 * @xfer_lock: see below
 * @debugfs: the channel's debugfs directory
 *
 * Locking, in this order when nested:
 *  - izc_sdma_bind_lock (global mutex) serialises port binding and the slave
 *    map entries.
 *  - @xfer_lock (mutex) is held by whoever touches descriptor memory, calls
 *    the port's callbacks or the client's callbacks, or frees a descriptor
 *    that was submitted: the worker during one step, device_synchronize and
 *    port unregistration to wait for it. Never taken under @lock.
 *  - @lock (spinlock, irqsave: clients call prep/submit/issue/terminate from
 *    any context) protects the lists, @active, @port, @thread, @kick,
 *    @running, @in_gap, @clk, @cfg, @failed, @failed_next, desc->done and
 *    the cookies.
 */
struct izc_sdma_chan {
	struct dma_chan chan;
	struct izc_sdma *sdma;
	unsigned int index;
	char devname[IZC_SDMA_NAME_MAX];
	char slave[IZC_SDMA_NAME_MAX];

	spinlock_t lock; /* see the struct comment */
	struct izc_sample_port *port;
	struct task_struct *thread;
	struct list_head allocated;
	struct list_head submitted;
	struct list_head issued;
	struct izc_sdma_desc *active;
	struct list_head aborted;
	bool kick;
	bool running;
	bool in_gap;
	struct izc_sdma_clock clk;
	struct dma_slave_config cfg;
	struct {
		dma_cookie_t cookie;
		u32 residue;
	} failed[IZC_SDMA_FAILED_MAX];
	unsigned int failed_next;

	struct mutex xfer_lock; /* see the struct comment */
	struct dentry *debugfs;
};

/**
 * struct izc_sdma - the controller
 * @dma: the dmaengine device
 * @dev: the platform device's device
 * @map: the slave map published in @dma.filter; entry i belongs to
 *	channel i and matches nothing while the channel is unbound
 * @debugfs: the controller's debugfs directory
 * @bus_width: narrowest bus word in bytes (the bus_width parameter at probe);
 *	transfer lengths are multiples of it
 * @nchans: number of channels
 * @chans: the channels
 */
struct izc_sdma {
	struct dma_device dma;
	struct device *dev;
	struct dma_slave_map *map;
	struct dentry *debugfs;
	unsigned int bus_width;
	unsigned int nchans;
	struct izc_sdma_chan chans[] __counted_by(nchans);
};

static inline struct izc_sdma_chan *to_izc_sdma_chan(struct dma_chan *chan)
{
	return container_of(chan, struct izc_sdma_chan, chan);
}

static inline struct izc_sdma_desc *
to_izc_sdma_desc(struct dma_async_tx_descriptor *tx)
{
	return container_of(tx, struct izc_sdma_desc, tx);
}

/* soft-dma-engine.c */
int izc_sdma_thread(void *data);
void izc_sdma_give_back(struct izc_sdma_chan *c, struct list_head *aborted);
void izc_sdma_abort_locked(struct izc_sdma_chan *c);
void izc_sdma_kick_locked(struct izc_sdma_chan *c);
void izc_sdma_start_locked(struct izc_sdma_chan *c);
bool izc_sdma_take_injected_fault(void);

#endif /* __IZC_SOFT_DMA_PRIV_H__ */
