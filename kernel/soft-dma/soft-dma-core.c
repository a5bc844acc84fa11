// SPDX-License-Identifier: GPL-2.0
/*
 * iio-zerocopy software DMA controller: the dmaengine provider.
 *
 * The module creates one platform device, "izc-soft-dma", whose driver
 * registers a dma_device with `channels` slave channels (DMA_SLAVE,
 * DMA_PRIVATE; DEV_TO_MEM and MEM_TO_DEV). A converter driver binds its
 * sample port to a free channel with izc_soft_dma_port_register(); that
 * fills the channel's entry of the controller's dma_slave_map, so the
 * converter (or the buffer code acting for it) then finds the channel with
 * the ordinary dma_request_chan(dev, slave_name).
 *
 * Descriptors: device_prep_slave_sg and device_prep_peripheral_dma_vec.
 * Flags honoured:
 *  - DMA_PREP_INTERRUPT: the callback (or callback_result) is called at the
 *    end of the transfer (callback_result with DMA_TRANS_WRITE_FAILED or
 *    DMA_TRANS_READ_FAILED and the residue if a segment was not RAM, or
 *    with the whole length as residue for a transfer failed on purpose
 *    through the fail_transfers parameter).
 *    Without it no callback is ever called.
 *  - DMA_PREP_REPEAT: at its end the descriptor starts over (the callback is
 *    called after every pass; a failed pass ends it), until a descriptor
 *    prepared with DMA_PREP_LOAD_EOT is issued behind it: then the repeated
 *    descriptor completes at the end of its current pass and the LOAD_EOT
 *    one follows seamlessly. A descriptor without LOAD_EOT issued behind a repeated one
 *    waits until the channel is terminated, as the dmaengine API documents.
 *  - DMA_PREP_LOAD_EOT: see above; ignored behind a non-repeated descriptor.
 * Residue: bytes not yet moved of the current pass, updated after every
 * burst, i.e. every engine step; DMA_RESIDUE_GRANULARITY_BURST. A step moves
 * at most 256 KiB. Paced, it starts once 1 ms of data (or the rest of the
 * pass, if less) is due and moves what is due, so the residue moves in
 * steps of about 1 ms of data up to 256 KiB per ms (32 MS/s with 8-byte
 * frames) and of 256 KiB above; flow control (the port's avail()) can make
 * a step smaller.
 * tx_status: DMA_COMPLETE for descriptors that completed, DMA_ERROR (with
 * the residue) for the last 16 that failed, DMA_IN_PROGRESS otherwise,
 * terminated descriptors included (their cookies are not completed, as with
 * virt-dma's providers).
 * terminate_all: stops the clock and terminates every submitted descriptor.
 * No callback is called for them (provider.rst: "for aborted transfers the
 * complete callback should not be called"); a callback for a pass or a
 * transfer that ended before the termination may still run until
 * device_synchronize returns. After terminate_all + synchronize no callback
 * runs and no descriptor memory is touched.
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/iommu-dma.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/platform_device.h>
#include <linux/pfn.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "soft-dma-priv.h"

#define IZC_SDMA_NAME		"izc-soft-dma"
#define IZC_SDMA_MAX_CHANS	64

static unsigned int channels = 16;
module_param(channels, uint, 0444);
MODULE_PARM_DESC(channels, "number of DMA channels (1-64, default 16)");

/* Fault injection for the clients' error paths (tests only). */
static bool fail_prep;
module_param(fail_prep, bool, 0644);
MODULE_PARM_DESC(fail_prep, "testing: device_prep_slave_sg fails (returns NULL) while set");

/*
 * Controllers whose bus is wider than a byte move whole words only: the
 * length of a transfer must be a multiple of the narrowest width they
 * advertise, which their clients read from dma_get_slave_caps(). 3 models
 * a packed 24-bit bus, whose word is not a power of two.
 */
static unsigned int bus_width = 1;
module_param(bus_width, uint, 0444);
MODULE_PARM_DESC(bus_width,
		 "testing: narrowest bus word in bytes, 1 (default), 2, 3, 4 or 8; transfer lengths must be multiples of it");

/* A dmaengine provider may lack device_synchronize: its clients must cope. */
static bool no_synchronize;
module_param(no_synchronize, bool, 0444);
MODULE_PARM_DESC(no_synchronize,
		 "testing: register the controller without device_synchronize");

/*
 * A count, not a flag, so that a test can fail exactly one transfer of a
 * running stream: the engine takes one per descriptor pass it fails, on
 * whichever channel starts a pass first. A pass terminated before its end
 * uses its fault up without reporting it (a terminated transfer has no
 * outcome).
 */
static atomic_t fail_transfers = ATOMIC_INIT(0);

static int izc_sdma_fail_transfers_set(const char *val,
				       const struct kernel_param *kp)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(val, 0, &n);
	if (ret)
		return ret;
	if (n > INT_MAX)
		return -ERANGE;
	atomic_set(&fail_transfers, n);
	return 0;
}

static int izc_sdma_fail_transfers_get(char *buf,
				       const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&fail_transfers));
}

static const struct kernel_param_ops izc_sdma_fail_transfers_ops = {
	.set = izc_sdma_fail_transfers_set,
	.get = izc_sdma_fail_transfers_get,
};
module_param_cb(fail_transfers, &izc_sdma_fail_transfers_ops, NULL, 0644);
MODULE_PARM_DESC(fail_transfers,
		 "testing: the next N transfers fail like a bus error (DMA_TRANS_*_FAILED); their samples never reach memory or the converter");

/* Whether the pass starting now fails: takes one from fail_transfers. */
bool izc_sdma_take_injected_fault(void)
{
	return atomic_dec_if_positive(&fail_transfers) >= 0;
}

/* The unbound slave map entries point here: matches no device */
static const char izc_sdma_unbound[] = "";

/* Serialises port binding and the slave map; protects izc_sdma_instance */
static DEFINE_MUTEX(izc_sdma_bind_lock);
static struct izc_sdma *izc_sdma_instance;
static struct platform_device *izc_sdma_pdev;

/* ---- cookies (the core's helpers are private to drivers/dma) ---------- */

static dma_cookie_t izc_sdma_cookie_assign(struct dma_async_tx_descriptor *tx)
{
	struct dma_chan *chan = tx->chan;
	dma_cookie_t cookie = chan->cookie + 1;

	if (cookie < DMA_MIN_COOKIE)
		cookie = DMA_MIN_COOKIE;
	chan->cookie = cookie;
	tx->cookie = cookie;

	return cookie;
}

/* ---- descriptors ------------------------------------------------------- */

static dma_cookie_t izc_sdma_tx_submit(struct dma_async_tx_descriptor *tx)
{
	struct izc_sdma_chan *c = to_izc_sdma_chan(tx->chan);
	struct izc_sdma_desc *d = to_izc_sdma_desc(tx);
	unsigned long flags;
	dma_cookie_t cookie;

	spin_lock_irqsave(&c->lock, flags);
	cookie = izc_sdma_cookie_assign(tx);
	list_move_tail(&d->node, &c->submitted);
	spin_unlock_irqrestore(&c->lock, flags);

	return cookie;
}

/*
 * A segment is usable if its bus address translates back to RAM with struct
 * pages at both ends (every page is checked again before it is touched).
 */
static bool izc_sdma_seg_ok(struct device *dev, dma_addr_t addr, size_t len)
{
	phys_addr_t first, last;

	if (!len || addr + len - 1 < addr)
		return false;
	first = dma_to_phys(dev, addr);
	last = dma_to_phys(dev, addr + len - 1);
	return last >= first && pfn_valid(PHYS_PFN(first)) &&
	       pfn_valid(PHYS_PFN(last));
}

static struct izc_sdma_desc *
izc_sdma_desc_alloc(struct izc_sdma_chan *c, unsigned int nsegs,
		    enum dma_transfer_direction dir, unsigned long flags)
{
	struct device *dev = c->sdma->dev;
	struct izc_sample_port *port;
	struct izc_sdma_desc *d;
	unsigned long irqflags;
	bool ok;

	if (dir != DMA_DEV_TO_MEM && dir != DMA_MEM_TO_DEV) {
		dev_err(dev, "%s: direction %d not supported\n",
			dma_chan_name(&c->chan), dir);
		return NULL;
	}
	/* Under the lock: unregistration clears @port there, then frees it. */
	spin_lock_irqsave(&c->lock, irqflags);
	port = c->port;
	ok = port && (dir == DMA_DEV_TO_MEM ? !!port->ops->fill :
					       !!port->ops->drain);
	spin_unlock_irqrestore(&c->lock, irqflags);
	if (!ok) {
		dev_err(dev, "%s: no sample port for this direction\n",
			dma_chan_name(&c->chan));
		return NULL;
	}
	if (!nsegs)
		return NULL;

	d = kzalloc(struct_size(d, segs, nsegs), GFP_NOWAIT | __GFP_NOWARN);
	if (!d)
		return NULL;

	d->nsegs = nsegs;
	d->dir = dir;
	d->repeat = flags & DMA_PREP_REPEAT;
	d->load_eot = flags & DMA_PREP_LOAD_EOT;
	d->interrupt = flags & DMA_PREP_INTERRUPT;
	dma_async_tx_descriptor_init(&d->tx, &c->chan);
	d->tx.flags = flags;
	d->tx.tx_submit = izc_sdma_tx_submit;
	INIT_LIST_HEAD(&d->node);

	return d;
}

static bool izc_sdma_desc_add_seg(struct izc_sdma_chan *c,
				  struct izc_sdma_desc *d, unsigned int *i,
				  dma_addr_t addr, size_t len)
{
	if (!len)
		return true;
	if (!izc_sdma_seg_ok(c->sdma->dev, addr, len)) {
		dev_err(c->sdma->dev,
			"%s: segment %pad+%zu is not in RAM reachable by dma-direct\n",
			dma_chan_name(&c->chan), &addr, len);
		return false;
	}
	d->segs[*i].addr = addr;
	d->segs[*i].len = len;
	d->total += len;
	(*i)++;
	return true;
}

static struct dma_async_tx_descriptor *
izc_sdma_desc_publish(struct izc_sdma_chan *c, struct izc_sdma_desc *d,
		      unsigned int used)
{
	unsigned long flags;

	if (!used) {
		kfree(d);
		return NULL;
	}
	/* Segments may split a word, the transfer as a whole may not. */
	if (d->total % c->sdma->bus_width) {
		dev_err_ratelimited(c->sdma->dev,
				    "%s: %zu bytes is not a whole number of %u-byte bus words\n",
				    dma_chan_name(&c->chan), d->total,
				    c->sdma->bus_width);
		kfree(d);
		return NULL;
	}
	d->nsegs = used;

	spin_lock_irqsave(&c->lock, flags);
	list_add_tail(&d->node, &c->allocated);
	spin_unlock_irqrestore(&c->lock, flags);

	return &d->tx;
}

static struct dma_async_tx_descriptor *
izc_sdma_prep_slave_sg(struct dma_chan *chan, struct scatterlist *sgl,
		       unsigned int sg_len, enum dma_transfer_direction dir,
		       unsigned long flags, void *context)
{
	struct izc_sdma_chan *c = to_izc_sdma_chan(chan);
	struct izc_sdma_desc *d;
	struct scatterlist *sg;
	unsigned int i, used = 0;

	if (READ_ONCE(fail_prep))
		return NULL;

	d = izc_sdma_desc_alloc(c, sg_len, dir, flags);
	if (!d)
		return NULL;

	for_each_sg(sgl, sg, sg_len, i) {
		if (!izc_sdma_desc_add_seg(c, d, &used, sg_dma_address(sg),
					   sg_dma_len(sg))) {
			kfree(d);
			return NULL;
		}
	}

	return izc_sdma_desc_publish(c, d, used);
}

static struct dma_async_tx_descriptor *
izc_sdma_prep_dma_vec(struct dma_chan *chan, const struct dma_vec *vecs,
		      size_t nents, enum dma_transfer_direction dir,
		      unsigned long flags)
{
	struct izc_sdma_chan *c = to_izc_sdma_chan(chan);
	struct izc_sdma_desc *d;
	unsigned int used = 0;
	size_t i;

	if (nents > UINT_MAX)
		return NULL;

	d = izc_sdma_desc_alloc(c, nents, dir, flags);
	if (!d)
		return NULL;

	for (i = 0; i < nents; i++) {
		if (!izc_sdma_desc_add_seg(c, d, &used, vecs[i].addr,
					   vecs[i].len)) {
			kfree(d);
			return NULL;
		}
	}

	return izc_sdma_desc_publish(c, d, used);
}

/* ---- channel operations ------------------------------------------------ */

static void izc_sdma_issue_pending(struct dma_chan *chan)
{
	struct izc_sdma_chan *c = to_izc_sdma_chan(chan);
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	if (!list_empty(&c->submitted)) {
		list_splice_tail_init(&c->submitted, &c->issued);
		izc_sdma_start_locked(c);
		izc_sdma_kick_locked(c);
	}
	spin_unlock_irqrestore(&c->lock, flags);
}

static size_t izc_sdma_residue_locked(struct izc_sdma_chan *c,
				      dma_cookie_t cookie)
{
	struct izc_sdma_desc *d;

	if (c->active && c->active->tx.cookie == cookie)
		return c->active->total - c->active->done;
	list_for_each_entry(d, &c->issued, node)
		if (d->tx.cookie == cookie)
			return d->total;
	list_for_each_entry(d, &c->submitted, node)
		if (d->tx.cookie == cookie)
			return d->total;
	return 0;
}

static enum dma_status izc_sdma_tx_status(struct dma_chan *chan,
					  dma_cookie_t cookie,
					  struct dma_tx_state *state)
{
	struct izc_sdma_chan *c = to_izc_sdma_chan(chan);
	enum dma_status status;
	unsigned long flags;
	size_t residue = 0;

	spin_lock_irqsave(&c->lock, flags);
	status = dma_async_is_complete(cookie, chan->completed_cookie,
				       chan->cookie);
	if (state) {
		state->last = chan->completed_cookie;
		state->used = chan->cookie;
	}
	if (status != DMA_COMPLETE) {
		residue = izc_sdma_residue_locked(c, cookie);
	} else {
		unsigned int i;

		for (i = 0; i < IZC_SDMA_FAILED_MAX; i++) {
			if (cookie >= DMA_MIN_COOKIE &&
			    c->failed[i].cookie == cookie) {
				status = DMA_ERROR;
				residue = c->failed[i].residue;
				break;
			}
		}
	}
	spin_unlock_irqrestore(&c->lock, flags);

	if (state) {
		state->residue = min_t(size_t, residue, U32_MAX);
		state->in_flight_bytes = 0;
	}

	return status;
}

static int izc_sdma_terminate_all(struct dma_chan *chan)
{
	struct izc_sdma_chan *c = to_izc_sdma_chan(chan);
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	izc_sdma_abort_locked(c);
	spin_unlock_irqrestore(&c->lock, flags);

	return 0;
}

static void izc_sdma_synchronize(struct dma_chan *chan)
{
	struct izc_sdma_chan *c = to_izc_sdma_chan(chan);
	LIST_HEAD(aborted);

	/* Waits for the worker's current step; then gives back what is left */
	mutex_lock(&c->xfer_lock);
	spin_lock_irq(&c->lock);
	list_splice_init(&c->aborted, &aborted);
	spin_unlock_irq(&c->lock);
	izc_sdma_give_back(c, &aborted);
	mutex_unlock(&c->xfer_lock);
}

static int izc_sdma_config(struct dma_chan *chan,
			   struct dma_slave_config *config)
{
	struct izc_sdma_chan *c = to_izc_sdma_chan(chan);
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	c->cfg = *config;
	spin_unlock_irqrestore(&c->lock, flags);

	return 0;
}

static int izc_sdma_alloc_chan_resources(struct dma_chan *chan)
{
	struct izc_sdma_chan *c = to_izc_sdma_chan(chan);
	struct task_struct *thread;

	/* Not -ENODEV: the core would take that for "module going away" */
	if (!READ_ONCE(c->port))
		return -ENXIO;

	thread = kthread_create(izc_sdma_thread, c, "izc-sdma/%u", c->index);
	if (IS_ERR(thread))
		return PTR_ERR(thread);

	spin_lock_irq(&c->lock);
	chan->cookie = DMA_MIN_COOKIE;
	chan->completed_cookie = DMA_MIN_COOKIE;
	c->running = false;
	c->kick = false;
	memset(c->failed, 0, sizeof(c->failed));
	c->failed_next = 0;
	c->thread = thread;
	spin_unlock_irq(&c->lock);

	wake_up_process(thread);

	return 0;
}

static void izc_sdma_free_list(struct list_head *list)
{
	struct izc_sdma_desc *d, *tmp;

	list_for_each_entry_safe(d, tmp, list, node) {
		list_del(&d->node);
		kfree(d);
	}
}

static void izc_sdma_free_chan_resources(struct dma_chan *chan)
{
	struct izc_sdma_chan *c = to_izc_sdma_chan(chan);
	struct task_struct *thread;
	LIST_HEAD(left);

	spin_lock_irq(&c->lock);
	izc_sdma_abort_locked(c);
	thread = c->thread;
	c->thread = NULL;
	spin_unlock_irq(&c->lock);

	if (thread)
		kthread_stop(thread);

	/*
	 * The worker is gone and terminated descriptors get no callback, so
	 * nothing left has a callback due; the core synchronized before.
	 */
	spin_lock_irq(&c->lock);
	list_splice_init(&c->aborted, &left);
	list_splice_init(&c->allocated, &left);
	spin_unlock_irq(&c->lock);
	izc_sdma_free_list(&left);
}

static bool izc_sdma_filter(struct dma_chan *chan, void *param)
{
	struct izc_sdma_chan *c = to_izc_sdma_chan(chan);

	return chan == param && READ_ONCE(c->port);
}

/* ---- sample ports ------------------------------------------------------ */

static int izc_sdma_port_check(struct device *dev, const char *slave_name,
			       struct izc_sample_port *port)
{
	if (!dev || !slave_name || !port || !port->ops || !port->ops->skip ||
	    (!port->ops->fill && !port->ops->drain))
		return -EINVAL;
	if (strlen(dev_name(dev)) >= IZC_SDMA_NAME_MAX ||
	    strlen(slave_name) >= IZC_SDMA_NAME_MAX)
		return -ENAMETOOLONG;
	if (port->chan)
		return -EBUSY;
	return 0;
}

/* Whether a client has the channel allocated (it has a worker then). */
static bool izc_sdma_chan_held(struct izc_sdma_chan *c)
{
	bool held;

	spin_lock_irq(&c->lock);
	held = c->thread;
	spin_unlock_irq(&c->lock);
	return held;
}

/**
 * izc_soft_dma_port_register - bind a sample port to a free channel
 * @dev: the converter's device; dma_request_chan() is called with it
 * @slave_name: the name dma_request_chan() is called with, e.g. "rx"
 * @port: the port; must stay valid until izc_soft_dma_port_unregister()
 *
 * The channel's slave map entry is written completely before it is published
 * (its devname pointer is stored last, with release semantics), so a
 * concurrent dma_request_chan() sees either no entry or a complete one.
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL for a bad port, -ENAMETOOLONG, -EBUSY if the port is
 * registered already or no channel is free, -EEXIST if (@dev, @slave_name)
 * is bound already, -EPROBE_DEFER if the controller is not there.
 */
int izc_soft_dma_port_register(struct device *dev, const char *slave_name,
			       struct izc_sample_port *port)
{
	struct izc_sdma_chan *c, *free = NULL;
	struct izc_sdma *sdma;
	unsigned int i;
	int ret;

	ret = izc_sdma_port_check(dev, slave_name, port);
	if (ret)
		return ret;

	mutex_lock(&izc_sdma_bind_lock);
	sdma = izc_sdma_instance;
	if (!sdma) {
		ret = -EPROBE_DEFER;
		goto unlock;
	}

	for (i = 0; i < sdma->nchans; i++) {
		c = &sdma->chans[i];
		if (!c->port) {
			/*
			 * Not one a client still holds after its port went:
			 * what it prepared then must never start on another
			 * converter's stream. Free once the client lets go.
			 */
			if (!free && !izc_sdma_chan_held(c))
				free = c;
			continue;
		}
		if (!strcmp(c->devname, dev_name(dev)) &&
		    !strcmp(c->slave, slave_name)) {
			ret = -EEXIST;
			goto unlock;
		}
	}
	if (!free) {
		dev_err(dev, "no free %s channel for \"%s\"\n", IZC_SDMA_NAME,
			slave_name);
		ret = -EBUSY;
		goto unlock;
	}

	c = free;
	strscpy(c->devname, dev_name(dev));
	strscpy(c->slave, slave_name);
	spin_lock_irq(&c->lock);
	c->port = port;
	spin_unlock_irq(&c->lock);
	port->chan = c;
	/* Publish: the strings above are complete before the pointer */
	smp_store_release(&sdma->map[c->index].devname, c->devname);

	dev_dbg(sdma->dev, "%s bound to %s:%s\n", dma_chan_name(&c->chan),
		c->devname, c->slave);
unlock:
	mutex_unlock(&izc_sdma_bind_lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(izc_soft_dma_port_register, IIO_ZEROCOPY);

/**
 * izc_soft_dma_port_unregister - unbind a sample port
 * @port: a registered port (anything else is ignored)
 *
 * Normally the channel was released (dma_release_channel) before. If it is
 * still in use, its transfers are terminated (without callbacks, as by
 * terminate_all) and further prep calls fail. A descriptor prepared before
 * and submitted and issued after never starts and gets no callback; it is
 * freed when the client terminates or releases the channel. On return the
 * engine no longer calls the port.
 *
 * Context: process context, may sleep.
 */
void izc_soft_dma_port_unregister(struct izc_sample_port *port)
{
	struct izc_sdma_chan *c;

	mutex_lock(&izc_sdma_bind_lock);
	c = port->chan;
	if (!c)
		goto unlock;

	WRITE_ONCE(c->sdma->map[c->index].devname, izc_sdma_unbound);

	spin_lock_irq(&c->lock);
	if (c->running || c->active || !list_empty(&c->issued) ||
	    !list_empty(&c->submitted)) {
		dev_warn(c->sdma->dev,
			 "%s: port unregistered while in use, terminating\n",
			 dma_chan_name(&c->chan));
		izc_sdma_abort_locked(c);
	}
	c->port = NULL;
	spin_unlock_irq(&c->lock);

	/* Wait for a step that may still use the port */
	mutex_lock(&c->xfer_lock);
	mutex_unlock(&c->xfer_lock);

	port->chan = NULL;
unlock:
	mutex_unlock(&izc_sdma_bind_lock);
}
EXPORT_SYMBOL_NS_GPL(izc_soft_dma_port_unregister, IIO_ZEROCOPY);

static void izc_sdma_port_unregister_action(void *port)
{
	izc_soft_dma_port_unregister(port);
}

/**
 * devm_izc_soft_dma_port_register - managed izc_soft_dma_port_register()
 * @dev: the converter's device, also the devres owner
 * @slave_name: the name dma_request_chan() is called with
 * @port: the port
 *
 * Return: as izc_soft_dma_port_register().
 */
int devm_izc_soft_dma_port_register(struct device *dev, const char *slave_name,
				    struct izc_sample_port *port)
{
	int ret;

	ret = izc_soft_dma_port_register(dev, slave_name, port);
	if (ret)
		return ret;

	return devm_add_action_or_reset(dev, izc_sdma_port_unregister_action,
					port);
}
EXPORT_SYMBOL_NS_GPL(devm_izc_soft_dma_port_register, IIO_ZEROCOPY);

/**
 * izc_soft_dma_port_chan_name - the channel a port is bound to
 * @port: the port
 *
 * Return: the dmaengine channel name (e.g. "dma0chan3"), or "" if unbound.
 */
const char *izc_soft_dma_port_chan_name(struct izc_sample_port *port)
{
	struct izc_sdma_chan *c = port->chan;

	return c ? dma_chan_name(&c->chan) : "";
}
EXPORT_SYMBOL_NS_GPL(izc_soft_dma_port_chan_name, IIO_ZEROCOPY);

/**
 * izc_soft_dma_port_kick - the port can move data again
 * @port: a registered port
 *
 * A port with an avail() callback calls this when avail() may have grown
 * from 0, so that a channel waiting for it looks again.
 *
 * Context: any; takes the channel's spinlock.
 */
void izc_soft_dma_port_kick(struct izc_sample_port *port)
{
	struct izc_sdma_chan *c = READ_ONCE(port->chan);
	unsigned long flags;

	if (!c)
		return;

	spin_lock_irqsave(&c->lock, flags);
	if (c->port == port)
		izc_sdma_kick_locked(c);
	spin_unlock_irqrestore(&c->lock, flags);
}
EXPORT_SYMBOL_NS_GPL(izc_soft_dma_port_kick, IIO_ZEROCOPY);

/* ---- debugfs ----------------------------------------------------------- */

static unsigned int izc_sdma_list_count(struct list_head *list)
{
	struct list_head *pos;
	unsigned int n = 0;

	list_for_each(pos, list)
		n++;
	return n;
}

static int izc_sdma_state_show(struct seq_file *s, void *unused)
{
	struct izc_sdma_chan *c = s->private;
	struct izc_sample_port *port;
	s64 descs = 0, bytes = 0, lost = 0, events = 0, failed = 0;
	unsigned int nsub, niss, nabort;
	struct izc_sdma_clock clk;
	size_t done = 0, total = 0;
	bool running, active, gap;
	char devname[IZC_SDMA_NAME_MAX], slave[IZC_SDMA_NAME_MAX];

	spin_lock_irq(&c->lock);
	port = c->port;
	strscpy(devname, c->devname);
	strscpy(slave, c->slave);
	running = c->running;
	gap = c->in_gap;
	clk = c->clk;
	active = c->active;
	if (active) {
		done = c->active->done;
		total = c->active->total;
	}
	nsub = izc_sdma_list_count(&c->submitted);
	niss = izc_sdma_list_count(&c->issued);
	nabort = izc_sdma_list_count(&c->aborted);
	/* The port may be freed as soon as it is unbound: copy under the lock */
	if (port) {
		descs = atomic64_read(&port->stats.descriptors);
		bytes = atomic64_read(&port->stats.bytes);
		lost = atomic64_read(&port->stats.lost_bytes);
		events = atomic64_read(&port->stats.lost_events);
		failed = atomic64_read(&port->stats.failed);
	}
	spin_unlock_irq(&c->lock);

	seq_printf(s, "channel:      %s\n", dma_chan_name(&c->chan));
	if (!port) {
		seq_puts(s, "port:         none\n");
		return 0;
	}
	seq_printf(s, "port:         %s:%s\n", devname, slave);
	seq_printf(s, "clock:        %s\n", running ? "running" : "stopped");
	seq_printf(s, "mode:         %s\n",
		   clk.mode == IZC_SOFT_DMA_NULL ? "null" : "touch");
	seq_printf(s, "rate:         %llu B/s%s\n", clk.bps,
		   clk.bps ? "" : " (unpaced)");
	seq_printf(s, "frame:        %u B\n", clk.frame);
	seq_printf(s, "fifo:         %llu B\n", clk.fifo);
	seq_printf(s, "produced:     %llu B\n", clk.produced);
	seq_printf(s, "in_gap:       %s\n", gap ? "yes" : "no");
	if (active)
		seq_printf(s, "active:       %zu/%zu B\n", done, total);
	else
		seq_puts(s, "active:       none\n");
	seq_printf(s, "submitted:    %u\n", nsub);
	seq_printf(s, "issued:       %u\n", niss);
	seq_printf(s, "aborted:      %u\n", nabort);
	seq_printf(s, "descriptors:  %lld\n", descs);
	seq_printf(s, "bytes:        %lld\n", bytes);
	seq_printf(s, "lost_bytes:   %lld\n", lost);
	seq_printf(s, "lost_events:  %lld\n", events);
	seq_printf(s, "failed:       %lld\n", failed);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(izc_sdma_state);

static void izc_sdma_debugfs_init(struct izc_sdma *sdma)
{
	unsigned int i;
	char name[16];

	sdma->debugfs = debugfs_create_dir(IZC_SDMA_NAME, NULL);
	for (i = 0; i < sdma->nchans; i++) {
		struct izc_sdma_chan *c = &sdma->chans[i];

		snprintf(name, sizeof(name), "chan%u", i);
		c->debugfs = debugfs_create_dir(name, sdma->debugfs);
		debugfs_create_file("state", 0444, c->debugfs, c,
				    &izc_sdma_state_fops);
	}
}

/* ---- the controller ---------------------------------------------------- */

/*
 * The engine reaches memory through dma_to_phys(), which is only the inverse
 * of the client's mapping when the device uses dma-direct and is cache
 * coherent (a CPU store is then what the device's store would be).
 */
static int izc_sdma_check_dma_direct(struct device *dev)
{
	if (use_dma_iommu(dev) || get_dma_ops(dev) || device_iommu_mapped(dev))
		return dev_err_probe(dev, -ENODEV,
				     "behind an IOMMU or dma_map_ops: a software bus master cannot reach memory here\n");
	if (!dev_is_dma_coherent(dev))
		return dev_err_probe(dev, -ENODEV,
				     "not DMA coherent: CPU stores would not be device stores\n");
	return 0;
}

static void izc_sdma_release(struct dma_device *dma)
{
	struct izc_sdma *sdma = container_of(dma, struct izc_sdma, dma);

	kfree(sdma->map);
	kfree(sdma);
}

static void izc_sdma_chan_init(struct izc_sdma *sdma, unsigned int i)
{
	struct izc_sdma_chan *c = &sdma->chans[i];

	c->sdma = sdma;
	c->index = i;
	spin_lock_init(&c->lock);
	mutex_init(&c->xfer_lock);
	INIT_LIST_HEAD(&c->allocated);
	INIT_LIST_HEAD(&c->submitted);
	INIT_LIST_HEAD(&c->issued);
	INIT_LIST_HEAD(&c->aborted);
	c->chan.device = &sdma->dma;
	list_add_tail(&c->chan.device_node, &sdma->dma.channels);

	sdma->map[i].devname = izc_sdma_unbound;
	sdma->map[i].slave = c->slave;
	sdma->map[i].param = &c->chan;
}

static void izc_sdma_dma_init(struct izc_sdma *sdma)
{
	static const enum dma_slave_buswidth all[] = {
		DMA_SLAVE_BUSWIDTH_1_BYTE, DMA_SLAVE_BUSWIDTH_2_BYTES,
		DMA_SLAVE_BUSWIDTH_3_BYTES, DMA_SLAVE_BUSWIDTH_4_BYTES,
		DMA_SLAVE_BUSWIDTH_8_BYTES,
	};
	struct dma_device *dma = &sdma->dma;
	u32 widths = 0;
	unsigned int i;

	/* The words a bus of bus_width bytes can move: its multiples. */
	for (i = 0; i < ARRAY_SIZE(all); i++)
		if (!(all[i] % sdma->bus_width))
			widths |= BIT(all[i]);

	dma->dev = sdma->dev;
	INIT_LIST_HEAD(&dma->channels);
	dma_cap_set(DMA_SLAVE, dma->cap_mask);
	dma_cap_set(DMA_PRIVATE, dma->cap_mask);
	dma_cap_set(DMA_REPEAT, dma->cap_mask);
	dma_cap_set(DMA_LOAD_EOT, dma->cap_mask);
	dma->directions = BIT(DMA_DEV_TO_MEM) | BIT(DMA_MEM_TO_DEV);
	dma->src_addr_widths = widths;
	dma->dst_addr_widths = widths;
	dma->residue_granularity = DMA_RESIDUE_GRANULARITY_BURST;
	dma->descriptor_reuse = false;
	dma->device_alloc_chan_resources = izc_sdma_alloc_chan_resources;
	dma->device_free_chan_resources = izc_sdma_free_chan_resources;
	dma->device_prep_slave_sg = izc_sdma_prep_slave_sg;
	dma->device_prep_peripheral_dma_vec = izc_sdma_prep_dma_vec;
	dma->device_config = izc_sdma_config;
	dma->device_issue_pending = izc_sdma_issue_pending;
	dma->device_tx_status = izc_sdma_tx_status;
	dma->device_terminate_all = izc_sdma_terminate_all;
	if (!no_synchronize)
		dma->device_synchronize = izc_sdma_synchronize;
	dma->device_release = izc_sdma_release;
	dma->filter.fn = izc_sdma_filter;
	dma->filter.map = sdma->map;
	dma->filter.mapcnt = sdma->nchans;
}

static int izc_sdma_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct izc_sdma *sdma;
	unsigned int i, n = clamp(channels, 1U, IZC_SDMA_MAX_CHANS);
	int ret;

	ret = izc_sdma_check_dma_direct(dev);
	if (ret)
		return ret;

	dma_set_max_seg_size(dev, UINT_MAX);

	sdma = kzalloc(struct_size(sdma, chans, n), GFP_KERNEL);
	if (!sdma)
		return -ENOMEM;
	sdma->nchans = n;
	sdma->dev = dev;
	sdma->bus_width = bus_width;
	sdma->map = kcalloc(n, sizeof(*sdma->map), GFP_KERNEL);
	if (!sdma->map) {
		kfree(sdma);
		return -ENOMEM;
	}

	izc_sdma_dma_init(sdma);
	for (i = 0; i < n; i++)
		izc_sdma_chan_init(sdma, i);

	/* From here on izc_sdma_release() frees sdma */
	ret = dma_async_device_register(&sdma->dma);
	if (ret) {
		izc_sdma_release(&sdma->dma);
		return ret;
	}

	izc_sdma_debugfs_init(sdma);
	platform_set_drvdata(pdev, sdma);

	mutex_lock(&izc_sdma_bind_lock);
	izc_sdma_instance = sdma;
	mutex_unlock(&izc_sdma_bind_lock);

	dev_info(dev, "%u channels, DEV_TO_MEM and MEM_TO_DEV, %u-byte bus\n",
		 n, sdma->bus_width);
	return 0;
}

static void izc_sdma_remove(struct platform_device *pdev)
{
	struct izc_sdma *sdma = platform_get_drvdata(pdev);

	/* Importers hold module references, so no port is bound any more */
	mutex_lock(&izc_sdma_bind_lock);
	izc_sdma_instance = NULL;
	mutex_unlock(&izc_sdma_bind_lock);

	debugfs_remove_recursive(sdma->debugfs);
	dma_async_device_unregister(&sdma->dma);
}

static struct platform_driver izc_sdma_driver = {
	.probe = izc_sdma_probe,
	.remove = izc_sdma_remove,
	.driver = {
		.name = IZC_SDMA_NAME,
		/* channels in use hold a module reference, not a device one */
		.suppress_bind_attrs = true,
	},
};

static int __init izc_sdma_init(void)
{
	struct platform_device_info info = {
		.name = IZC_SDMA_NAME,
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	int ret;

	switch (bus_width) {
	case 1:
	case 2:
	case 3:
	case 4:
	case 8:
		break;
	default:
		pr_err("izc_soft_dma: bus_width=%u: not 1, 2, 3, 4 or 8\n",
		       bus_width);
		return -EINVAL;
	}

	ret = platform_driver_register(&izc_sdma_driver);
	if (ret)
		return ret;

	izc_sdma_pdev = platform_device_register_full(&info);
	if (IS_ERR(izc_sdma_pdev)) {
		ret = PTR_ERR(izc_sdma_pdev);
		goto err_driver_unregister;
	}

	/* The driver must have bound: ports need the controller */
	if (!izc_sdma_instance) {
		ret = -ENODEV;
		goto err_device_unregister;
	}

	return 0;

err_device_unregister:
	platform_device_unregister(izc_sdma_pdev);
err_driver_unregister:
	platform_driver_unregister(&izc_sdma_driver);
	return ret;
}
module_init(izc_sdma_init);

static void __exit izc_sdma_exit(void)
{
	platform_device_unregister(izc_sdma_pdev);
	platform_driver_unregister(&izc_sdma_driver);
}
module_exit(izc_sdma_exit);

MODULE_DESCRIPTION("iio-zerocopy software DMA controller (dmaengine provider)");
MODULE_AUTHOR("iio-zerocopy developers");
MODULE_LICENSE("GPL");
