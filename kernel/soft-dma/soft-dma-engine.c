// SPDX-License-Identifier: GPL-2.0
/*
 * iio-zerocopy software DMA controller: the data engine.
 *
 * Every allocated channel has a kthread that plays the bus master. It works
 * in steps; a step holds the channel's xfer_lock and
 *  1. frees descriptors terminated since the last step (without a callback,
 *     as provider.rst asks of aborted transfers),
 *  2. if the clock runs: finds out how many bytes are due (paced) and not
 *     moved yet: the backlog, which models the port's FIFO. A backlog
 *     beyond the FIFO's depth (IZC_SDMA_FIFO_NS of data) is lost, oldest
 *     bytes first, in whole frames, with one skip() call. Then the step
 *     moves at most IZC_SDMA_STEP_MAX bytes of the backlog (and at most
 *     what the port's avail() allows) into or out of the active
 *     descriptor, a page at a time,
 *  3. completes the descriptor when its last byte moved.
 * Between steps the thread sleeps with hrtimer precision until the next
 * batch of bytes is due, or until issue_pending/terminate wakes it.
 *
 * Memory access: the client mapped its memory against the controller's
 * device. On a dma-direct system (checked at probe: no IOMMU, no dma_map_ops,
 * cache coherent) dma_to_phys() undoes that mapping exactly, including a
 * swiotlb bounce buffer, which is then copied back by the client's unmap or
 * sync just as for a hardware bus master. Every page is checked with
 * pfn_valid() before it is mapped with kmap_local_page(); only bytes inside a
 * descriptor's segments are ever touched.
 */

#include <linux/bottom_half.h>
#include <linux/dma-direct.h>
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "soft-dma-priv.h"

/* Bytes moved per step at most, so terminate and synchronize stay quick */
#define IZC_SDMA_STEP_MAX	SZ_256K
/* Paced: the engine moves about this much time's worth of data per wakeup */
#define IZC_SDMA_BATCH_NS	NSEC_PER_MSEC
/* Paced: depth of the port's FIFO, in time at the clock's rate */
#define IZC_SDMA_FIFO_NS	(20 * NSEC_PER_MSEC)
/* Paced with nothing queued: how often a FIFO overflow is accounted */
#define IZC_SDMA_IDLE_POLL_NS	NSEC_PER_MSEC
/* Timer slack for the worker's sleeps */
#define IZC_SDMA_SLACK_NS	(50 * NSEC_PER_USEC)

/* Bytes due at @now since the clock started */
static u64 izc_sdma_due(const struct izc_sdma_clock *clk, ktime_t now)
{
	s64 ns = ktime_to_ns(ktime_sub(now, clk->t0));

	if (ns <= 0)
		return 0;
	return mul_u64_u64_div_u64(ns, clk->bps, NSEC_PER_SEC);
}

/* The earliest time at which @bytes bytes are due */
static ktime_t izc_sdma_when(const struct izc_sdma_clock *clk, u64 bytes)
{
	u64 ns = mul_u64_u64_div_u64(bytes, NSEC_PER_SEC, clk->bps);

	return ktime_add_ns(clk->t0, ns + 1);
}

/* Bytes worth one batch at the clock's rate, at least one frame */
static u64 izc_sdma_batch(const struct izc_sdma_clock *clk)
{
	u64 batch = mul_u64_u64_div_u64(clk->bps, IZC_SDMA_BATCH_NS,
					NSEC_PER_SEC);

	return max_t(u64, batch, clk->frame);
}

/* Bytes of the FIFO's depth at the clock's rate: whole frames, at least one */
static u64 izc_sdma_fifo(const struct izc_sdma_clock *clk)
{
	u64 fifo = mul_u64_u64_div_u64(clk->bps, IZC_SDMA_FIFO_NS,
				       NSEC_PER_SEC);

	fifo = div_u64(fifo, clk->frame) * clk->frame;
	return max_t(u64, fifo, clk->frame);
}

/*
 * The bytes of a @backlog the FIFO cannot hold: whole frames, so that at
 * most the FIFO's depth is left (less than @backlog itself, as the depth is
 * at least one frame).
 */
static u64 izc_sdma_overflow(const struct izc_sdma_clock *clk, u64 backlog)
{
	u64 over;

	if (backlog <= clk->fifo)
		return 0;
	over = backlog - clk->fifo + clk->frame - 1;
	return div_u64(over, clk->frame) * clk->frame;
}

/* Call the client's callback as a tasklet-based provider would: BH off */
static void izc_sdma_callback(struct dma_async_tx_descriptor *tx,
			      enum dmaengine_tx_result result, u32 residue)
{
	dma_async_tx_callback_result cb_result = tx->callback_result;
	dma_async_tx_callback cb = tx->callback;
	void *param = tx->callback_param;
	struct dmaengine_result res = {
		.result = result,
		.residue = residue,
	};

	if (!cb_result && !cb)
		return;

	local_bh_disable();
	if (cb_result)
		cb_result(param, &res);
	else
		cb(param);
	local_bh_enable();
}

/**
 * izc_sdma_give_back - free terminated descriptors
 * @c: the channel, with @c->xfer_lock held (the worker may be using one)
 * @aborted: descriptors taken off @c->aborted
 *
 * No callback is called: "for aborted transfers the complete callback should
 * not be called" (provider.rst), as virt-dma's providers do. A client learns
 * what was aborted from its own records after dmaengine_terminate_sync().
 */
void izc_sdma_give_back(struct izc_sdma_chan *c, struct list_head *aborted)
{
	struct izc_sdma_desc *d, *tmp;

	lockdep_assert_held(&c->xfer_lock);

	list_for_each_entry_safe(d, tmp, aborted, node) {
		list_del(&d->node);
		kfree(d);
	}
}

/**
 * izc_sdma_kick_locked - make the worker look at the channel again
 * @c: the channel, with @c->lock held
 */
void izc_sdma_kick_locked(struct izc_sdma_chan *c)
{
	lockdep_assert_held(&c->lock);

	c->kick = true;
	if (c->thread)
		wake_up_process(c->thread);
}

/**
 * izc_sdma_start_locked - start the clock if it is not running
 * @c: the channel, with @c->lock held and a port bound
 *
 * The port's rate, mode and frame size are sampled here, once per run.
 */
void izc_sdma_start_locked(struct izc_sdma_chan *c)
{
	struct izc_sample_port *port = c->port;

	lockdep_assert_held(&c->lock);

	if (c->running || !port)
		return;

	c->running = true;
	c->in_gap = false;
	c->clk.gen++;
	c->clk.t0 = ktime_get();
	c->clk.bps = READ_ONCE(port->bytes_per_second);
	c->clk.mode = READ_ONCE(port->mode);
	c->clk.frame = max(READ_ONCE(port->frame_bytes), 1U);
	c->clk.fifo = c->clk.bps ? izc_sdma_fifo(&c->clk) : 0;
	c->clk.produced = 0;
}

/**
 * izc_sdma_abort_locked - stop the clock and terminate every descriptor
 * @c: the channel, with @c->lock held
 *
 * Descriptors go to @c->aborted in the order they were submitted, the
 * active one first; the worker or device_synchronize frees them. Their
 * cookies are not completed (as with virt-dma): tx_status() answers
 * DMA_COMPLETE only for a descriptor that did complete, so a repeated
 * descriptor's per-pass callback that races with the termination is never
 * mistaken for its replacement.
 */
void izc_sdma_abort_locked(struct izc_sdma_chan *c)
{
	lockdep_assert_held(&c->lock);

	if (c->active) {
		list_add_tail(&c->active->node, &c->aborted);
		c->active = NULL;
	}
	list_splice_tail_init(&c->issued, &c->aborted);
	list_splice_tail_init(&c->submitted, &c->aborted);
	c->running = false;
	c->in_gap = false;
	c->clk.gen++;
	izc_sdma_kick_locked(c);
}

static void izc_sdma_advance(struct izc_sdma_desc *d, size_t len)
{
	d->seg_off += len;
	while (d->seg < d->nsegs && d->seg_off >= d->segs[d->seg].len) {
		d->seg_off -= d->segs[d->seg].len;
		d->seg++;
	}
}

/*
 * Move @len bytes of @d from its cursor on, calling the port's fill() or
 * drain() on every page piece. Returns the bytes moved, which is less than
 * @len only if a segment points at memory that has no struct page.
 */
static size_t izc_sdma_touch(struct izc_sdma_chan *c,
			     struct izc_sample_port *port,
			     struct izc_sdma_desc *d, size_t len)
{
	struct device *dev = c->sdma->dev;
	size_t moved = 0;

	while (moved < len) {
		const struct izc_sdma_seg *seg = &d->segs[d->seg];
		phys_addr_t phys = dma_to_phys(dev, seg->addr + d->seg_off);
		unsigned long pfn = PHYS_PFN(phys);
		size_t off = offset_in_page(phys);
		size_t n;
		void *va;

		n = min3(len - moved, seg->len - d->seg_off, PAGE_SIZE - off);
		if (!pfn_valid(pfn)) {
			dev_err_ratelimited(dev,
					    "%s: bus address %pad is not RAM, descriptor failed\n",
					    dma_chan_name(&c->chan), &seg->addr);
			break;
		}

		va = kmap_local_page(pfn_to_page(pfn));
		if (d->dir == DMA_DEV_TO_MEM)
			port->ops->fill(port, va + off, n);
		else
			port->ops->drain(port, va + off, n);
		kunmap_local(va);

		izc_sdma_advance(d, n);
		moved += n;
		cond_resched();
	}

	return moved;
}

/*
 * Paced: @lost bytes (whole frames) overflowed the FIFO. One skip() call,
 * whatever the amount: the ports skip in O(1). @clk is the step's copy of
 * the clock; its @produced follows.
 */
static void izc_sdma_lose(struct izc_sdma_chan *c, struct izc_sample_port *port,
			  struct izc_sdma_clock *clk, u64 lost)
{
	bool new_gap = false;

	if (!lost)
		return;
	clk->produced += lost;

	port->ops->skip(port, lost, true);

	/*
	 * The port skipped them and counted them lost: the clock's account
	 * shows them too if it was stopped meanwhile (one generation on, not
	 * running), so that produced = moved + lost also holds after a stop.
	 */
	spin_lock_irq(&c->lock);
	if (c->clk.gen == clk->gen ||
	    (c->clk.gen == clk->gen + 1 && !c->running)) {
		c->clk.produced += lost;
		new_gap = !c->in_gap;
		c->in_gap = true;
	}
	spin_unlock_irq(&c->lock);

	atomic64_add(lost, &port->stats.lost_bytes);
	if (new_gap)
		atomic64_inc(&port->stats.lost_events);
}

/*
 * The active descriptor's current pass ended. Returns true if it is
 * finished for good (the caller frees it after the callback).
 */
static bool izc_sdma_pass_done_locked(struct izc_sdma_chan *c,
				      struct izc_sdma_desc *d)
{
	struct izc_sdma_desc *next;

	next = list_first_entry_or_null(&c->issued, struct izc_sdma_desc, node);
	if (d->repeat && !(next && next->load_eot)) {
		d->done = 0;
		d->seg = 0;
		d->seg_off = 0;
		return false;
	}

	c->chan.completed_cookie = d->tx.cookie;
	d->tx.cookie = 0;
	c->active = NULL;
	return true;
}

/*
 * One step of work. Returns true if there may be more to do right away;
 * otherwise *@wake is when the worker has to look again (KTIME_MAX: only
 * when kicked).
 */
static bool izc_sdma_step(struct izc_sdma_chan *c, ktime_t *wake)
{
	struct izc_sample_port *port;
	struct izc_sdma_clock clk;
	struct izc_sdma_desc *d;
	enum dmaengine_tx_result result = DMA_TRANS_NOERROR;
	LIST_HEAD(aborted);
	size_t n, moved, ready;
	bool running, finished;
	u64 backlog;
	ktime_t now;

	*wake = KTIME_MAX;

	spin_lock_irq(&c->lock);
	c->kick = false;
	list_splice_init(&c->aborted, &aborted);
	running = c->running;
	port = c->port;
	clk = c->clk;
	d = c->active;
	if (running && port && !d) {
		d = list_first_entry_or_null(&c->issued, struct izc_sdma_desc,
					     node);
		if (d) {
			list_del_init(&d->node);
			c->active = d;
		}
	}
	spin_unlock_irq(&c->lock);

	izc_sdma_give_back(c, &aborted);

	if (!running || !port)
		return false;

	now = ktime_get();
	if (clk.bps) {
		backlog = izc_sdma_due(&clk, now);
		backlog = backlog > clk.produced ? backlog - clk.produced : 0;
	} else {
		backlog = U64_MAX;
	}

	if (!d) {
		/* Unpaced: the stream waits for memory, nothing is lost */
		if (!clk.bps)
			return false;
		/* Gaps do not ask avail(): the FIFO overflows regardless */
		izc_sdma_lose(c, port, &clk, izc_sdma_overflow(&clk, backlog));
		*wake = ktime_add_ns(now, IZC_SDMA_IDLE_POLL_NS);
		return false;
	}

	/*
	 * Flow control: the port may not be able to take or give the whole
	 * backlog now. What it holds back is not an overrun: nothing is lost
	 * while we wait, and the port kicks us when ready. A kick between this
	 * call and our sleep is not missed: the kick flag was cleared at the
	 * top of this step and the thread checks it again before it sleeps.
	 * Otherwise the engine itself is late: what overflows the FIFO is lost.
	 */
	ready = port->ops->avail ? port->ops->avail(port) : SIZE_MAX;
	if (clk.bps && ready >= backlog) {
		u64 lost = izc_sdma_overflow(&clk, backlog);

		izc_sdma_lose(c, port, &clk, lost);
		backlog -= lost;
	}
	if (!ready)
		return false;

	n = d->total - d->done;
	if (clk.bps) {
		u64 target = min_t(u64, n, izc_sdma_batch(&clk));

		if (backlog < target) {
			*wake = izc_sdma_when(&clk, clk.produced + target);
			return false;
		}
	}
	n = min_t(u64, min_t(size_t, n, IZC_SDMA_STEP_MAX), backlog);
	n = min(n, ready);
	if (clk.bps && n < d->total - d->done) {
		/*
		 * Stop on a frame boundary of the stream: the FIFO may overflow
		 * before the next step, and a gap (whole frames) in the middle
		 * of a frame would tear it.
		 */
		u64 end = clk.produced + n;
		u32 part;

		div_u64_rem(end, clk.frame, &part);
		if (end - part > clk.produced)
			n -= part;
	}

	if (!d->done && !d->fail)
		d->fail = izc_sdma_take_injected_fault();
	if (d->fail || clk.mode == IZC_SOFT_DMA_NULL) {
		/*
		 * A failing pass takes its time and its samples like a good
		 * one (the converter does not wait for a broken bus), but
		 * nothing reaches memory or the converter.
		 */
		port->ops->skip(port, n, false);
		izc_sdma_advance(d, n);
		moved = n;
	} else {
		moved = izc_sdma_touch(c, port, d, n);
	}

	spin_lock_irq(&c->lock);
	if (c->active != d || c->clk.gen != clk.gen) {
		/* terminated meanwhile: d is on the aborted list now */
		spin_unlock_irq(&c->lock);
		return true;
	}
	d->done += moved;
	c->clk.produced += moved;
	c->in_gap = false;
	if (moved < n || (d->fail && d->done == d->total)) {
		/* bad memory or a fault: fail this descriptor, go on */
		result = d->dir == DMA_DEV_TO_MEM ? DMA_TRANS_WRITE_FAILED :
						    DMA_TRANS_READ_FAILED;
		/* Nothing of a failed pass is valid, whatever streamed by. */
		if (d->fail)
			d->done = 0;
		c->failed[c->failed_next].cookie = d->tx.cookie;
		c->failed[c->failed_next].residue =
			min_t(size_t, d->total - d->done, U32_MAX);
		c->failed_next = (c->failed_next + 1) % IZC_SDMA_FAILED_MAX;
		c->chan.completed_cookie = d->tx.cookie;
		d->tx.cookie = 0;
		c->active = NULL;
		finished = true;
	} else if (d->done == d->total) {
		finished = izc_sdma_pass_done_locked(c, d);
	} else {
		/* more of this descriptor in the next step */
		spin_unlock_irq(&c->lock);
		return true;
	}
	spin_unlock_irq(&c->lock);

	if (result == DMA_TRANS_NOERROR) {
		atomic64_inc(&port->stats.descriptors);
		atomic64_add(d->total, &port->stats.bytes);
	} else {
		atomic64_inc(&port->stats.failed);
	}
	if (d->interrupt)
		izc_sdma_callback(&d->tx, result,
				  result == DMA_TRANS_NOERROR ? 0 :
				  min_t(size_t, d->total - d->done, U32_MAX));
	if (finished)
		kfree(d);

	return true;
}

/**
 * izc_sdma_thread - the worker of one allocated channel
 * @data: the channel
 *
 * Return: 0 when stopped by free_chan_resources.
 */
int izc_sdma_thread(void *data)
{
	struct izc_sdma_chan *c = data;

	while (!kthread_should_stop()) {
		ktime_t wake;
		bool more;

		mutex_lock(&c->xfer_lock);
		more = izc_sdma_step(c, &wake);
		mutex_unlock(&c->xfer_lock);

		if (more) {
			cond_resched();
			continue;
		}

		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop() || READ_ONCE(c->kick)) {
			__set_current_state(TASK_RUNNING);
			continue;
		}
		if (wake == KTIME_MAX)
			schedule();
		else
			schedule_hrtimeout_range(&wake, IZC_SDMA_SLACK_NS,
						 HRTIMER_MODE_ABS);
	}

	return 0;
}
