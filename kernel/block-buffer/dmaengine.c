// SPDX-License-Identifier: GPL-2.0
/*
 * iio-zerocopy: the block queue's DMA side implemented with dmaengine.
 *
 * Each block becomes one slave scatter-gather descriptor on the channel the
 * converter driver names (DMA_DEV_TO_MEM for input, DMA_MEM_TO_DEV for
 * output). The descriptor's callback_result hands the block back with the
 * bytes transferred (length minus residue) and the status, so a DMA error
 * reaches a DMABUF fence as -EIO. Disabling the buffer terminates the channel
 * synchronously and completes whatever it still held with the abort status
 * (IZC_ABORT_STATUS, -EINTR).
 *
 * Cyclic (output DMABUF) blocks are prepared with DMA_PREP_REPEAT: the
 * channel repeats such a block until a newer descriptor, prepared with
 * DMA_PREP_LOAD_EOT (every output descriptor is), replaces it at the end of
 * a repetition, or until the buffer is disabled. Its fence is signalled when
 * it stops repeating: with 0 when replaced, with the abort status when
 * disabled.
 */

#include <linux/device.h>
#include <linux/dmaengine.h>
#include <linux/dma-mapping.h>
#include <linux/iio/buffer.h>
#include <linux/iio/buffer_impl.h>
#include <linux/iio/iio.h>
#include <linux/iio/sysfs.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <izc/buffer-dmaengine.h>

#include "block-queue.h"

/**
 * struct izc_dmaengine_buffer - a block queue on a dmaengine channel
 * @queue: the block queue; must stay first (see struct izc_block_queue)
 * @chan: the slave channel, from setup until teardown (which sets it to
 *	NULL once released; no callback or submit runs after that).
 * @dir: transfer direction. Constant.
 * @load_eot: the channel implements DMA_PREP_LOAD_EOT. Constant.
 * @active_lock: protects @active and the @cookie of every block on it.
 *	Taken from the completion callback (any context), never held across
 *	calls into dmaengine or the queue.
 * @active: blocks handed to the channel, in submission order. A submission
 *	is claimed under @active_lock by whoever first finds its block's
 *	cookie still set, either its callback or abort after the channel is
 *	terminated: the claimer clears the cookie, takes the block off here
 *	and completes it, so each submission completes exactly once. (The
 *	claim does not look at the block's list head: once abort completed a
 *	block, the queue links it on its own lists.)
 *
 * Channels must implement device_synchronize (checked at setup), so that
 * after dmaengine_terminate_sync() no callback of an aborted submission
 * runs: the cookie guards against a late one, but could not tell it from
 * one of a later submission of the same block.
 */
struct izc_dmaengine_buffer {
	struct izc_block_queue queue;
	struct dma_chan *chan;
	enum dma_transfer_direction dir;
	bool load_eot;

	spinlock_t active_lock; /* protects @active */
	struct list_head active;
};

static struct izc_dmaengine_buffer *to_dmaengine_buffer(struct izc_block_queue *q)
{
	return container_of(q, struct izc_dmaengine_buffer, queue);
}

static int izc_dmaengine_status(enum dmaengine_tx_result result)
{
	switch (result) {
	case DMA_TRANS_NOERROR:
		return 0;
	case DMA_TRANS_ABORTED:
		/* Same as a block still held when we terminate the channel. */
		return IZC_ABORT_STATUS;
	default:
		return -EIO;
	}
}

static void izc_dmaengine_callback(void *param,
				   const struct dmaengine_result *result)
{
	struct izc_block *block = param;
	struct izc_dmaengine_buffer *dmaengine_buffer =
		to_dmaengine_buffer(block->queue);
	unsigned long flags;
	dma_cookie_t cookie;
	size_t bytes;

	spin_lock_irqsave(&dmaengine_buffer->active_lock, flags);
	cookie = block->cookie;
	spin_unlock_irqrestore(&dmaengine_buffer->active_lock, flags);
	/* Claimed by abort (device_synchronize should make this impossible). */
	if (cookie < DMA_MIN_COOKIE)
		return;

	/*
	 * Providers may call a repeating descriptor's callback after every
	 * pass; only when its cookie is complete has it stopped repeating
	 * (replaced by a newer descriptor). Providers complete the cookie
	 * before calling the callback. Asked without active_lock: the
	 * provider may take its own locks. block->cyclic is constant while
	 * the block is at the DMA.
	 */
	if (block->cyclic && result->result == DMA_TRANS_NOERROR &&
	    dmaengine_tx_status(dmaengine_buffer->chan, cookie, NULL) !=
	    DMA_COMPLETE)
		return;

	spin_lock_irqsave(&dmaengine_buffer->active_lock, flags);
	/* Abort may have claimed this submission meanwhile. */
	if (block->cookie != cookie) {
		spin_unlock_irqrestore(&dmaengine_buffer->active_lock, flags);
		return;
	}
	block->cookie = 0;
	list_del_init(&block->head);
	spin_unlock_irqrestore(&dmaengine_buffer->active_lock, flags);

	/* Ours now: nobody else completes or resubmits the block. */
	bytes = block->bytes_used;
	bytes -= min_t(size_t, result->residue, bytes);
	izc_block_done(block, bytes, izc_dmaengine_status(result->result));
}

static int izc_dmaengine_submit(struct izc_block_queue *queue,
				struct izc_block *block)
{
	struct izc_dmaengine_buffer *dmaengine_buffer =
		to_dmaengine_buffer(queue);
	unsigned long flags = DMA_PREP_INTERRUPT | DMA_CTRL_ACK;
	struct dma_async_tx_descriptor *desc;
	dma_cookie_t cookie;

	/* Harmless when nothing repeats; required to replace what does. */
	if (dmaengine_buffer->load_eot)
		flags |= DMA_PREP_LOAD_EOT;
	if (block->cyclic)
		flags |= DMA_PREP_REPEAT;

	desc = dmaengine_prep_slave_sg(dmaengine_buffer->chan, block->sg,
				       block->nents, dmaengine_buffer->dir,
				       flags);
	if (!desc)
		return -ENOMEM;

	desc->callback_result = izc_dmaengine_callback;
	desc->callback_param = block;

	/* Nothing runs before issue_pending: listing it now is early enough. */
	cookie = dmaengine_submit(desc);
	if (dma_submit_error(cookie))
		return cookie;

	spin_lock_irq(&dmaengine_buffer->active_lock);
	block->cookie = cookie;
	list_add_tail(&block->head, &dmaengine_buffer->active);
	spin_unlock_irq(&dmaengine_buffer->active_lock);

	dma_async_issue_pending(dmaengine_buffer->chan);

	return 0;
}

static void izc_dmaengine_abort(struct izc_block_queue *queue)
{
	struct izc_dmaengine_buffer *dmaengine_buffer =
		to_dmaengine_buffer(queue);
	struct izc_block *block, *next;
	LIST_HEAD(aborted);

	/*
	 * After this no callback runs or will run; blocks whose callback ran
	 * during termination (DMA_TRANS_ABORTED) have left the list already.
	 */
	dmaengine_terminate_sync(dmaengine_buffer->chan);

	spin_lock_irq(&dmaengine_buffer->active_lock);
	list_for_each_entry(block, &dmaengine_buffer->active, head)
		block->cookie = 0;
	list_splice_init(&dmaengine_buffer->active, &aborted);
	spin_unlock_irq(&dmaengine_buffer->active_lock);

	list_for_each_entry_safe(block, next, &aborted, head) {
		list_del_init(&block->head);
		izc_block_done(block, 0, IZC_ABORT_STATUS);
	}
}

static void izc_dmaengine_release(struct izc_block_queue *queue)
{
	kfree(to_dmaengine_buffer(queue));
}

static const struct izc_block_queue_ops izc_dmaengine_ops = {
	.submit = izc_dmaengine_submit,
	.abort = izc_dmaengine_abort,
	.release = izc_dmaengine_release,
};

/* As upstream's dmaengine buffer: libiio reads it to size its blocks. */
static ssize_t length_align_bytes_show(struct device *dev,
				       struct device_attribute *attr, char *buf)
{
	struct iio_buffer *buffer = to_iio_dev_attr(attr)->buffer;
	struct izc_block_queue *queue =
		container_of(buffer, struct izc_block_queue, buffer);

	return sysfs_emit(buf, "%zu\n", queue->align);
}

static IIO_DEVICE_ATTR_RO(length_align_bytes, 0);

static const struct iio_dev_attr *izc_dmaengine_buffer_attrs[] = {
	&iio_dev_attr_length_align_bytes,
	NULL
};

/* Smallest bus width the channel does, in bytes: lengths must be multiples. */
static size_t izc_dmaengine_align(const struct dma_slave_caps *caps)
{
	unsigned int src = caps->src_addr_widths ? __ffs(caps->src_addr_widths) : 1;
	unsigned int dst = caps->dst_addr_widths ? __ffs(caps->dst_addr_widths) : 1;

	/* Bit 0 is DMA_SLAVE_BUSWIDTH_UNDEFINED. */
	return max3(src, dst, 1U);
}

/**
 * izc_dmaengine_buffer_setup_ext() - give an IIO device a dmaengine block buffer
 * @dev: the device whose DMA channel to request (usually the parent)
 * @indio_dev: the IIO device to attach the buffer to
 * @channel: the slave channel name, as for dma_request_chan() ("rx", "tx")
 * @dir: IIO_BUFFER_DIRECTION_IN (capture) or IIO_BUFFER_DIRECTION_OUT
 * @flags: IZC_DMAENGINE_BUFFER_* (0 for the full buffer)
 *
 * Requests the channel, checks that it can do @dir (-EINVAL otherwise) and
 * can be terminated synchronously (device_terminate_all and
 * device_synchronize; -EOPNOTSUPP otherwise), builds the buffer (fileio and
 * DMABUF) and attaches it to @indio_dev, adding INDIO_BUFFER_HARDWARE to its
 * modes. Call before iio_device_register(); undo with
 * izc_dmaengine_buffer_teardown() after iio_device_unregister().
 *
 * Return: the buffer, or an ERR_PTR().
 */
struct iio_buffer *izc_dmaengine_buffer_setup_ext(struct device *dev,
						  struct iio_dev *indio_dev,
						  const char *channel,
						  enum iio_buffer_direction dir,
						  unsigned int flags)
{
	struct izc_dmaengine_buffer *dmaengine_buffer;
	struct dma_slave_caps caps;
	struct iio_buffer *buffer;
	struct dma_chan *chan;
	struct device *dma_dev;
	size_t align, max_seg;
	bool cyclic_ok;
	int ret;

	dmaengine_buffer = kzalloc(sizeof(*dmaengine_buffer), GFP_KERNEL);
	if (!dmaengine_buffer)
		return ERR_PTR(-ENOMEM);

	chan = dma_request_chan(dev, channel);
	if (IS_ERR(chan)) {
		ret = PTR_ERR(chan);
		goto err_free_buffer;
	}

	if (flags & ~IZC_DMAENGINE_BUFFER_NO_DMABUF) {
		ret = -EINVAL;
		goto err_release_chan;
	}

	ret = dma_get_slave_caps(chan, &caps);
	if (ret)
		goto err_release_chan;

	dmaengine_buffer->dir = dir == IIO_BUFFER_DIRECTION_IN ?
				DMA_DEV_TO_MEM : DMA_MEM_TO_DEV;
	if (!(caps.directions & BIT(dmaengine_buffer->dir))) {
		dev_err(dev, "DMA channel %s cannot transfer %s\n", channel,
			dir == IIO_BUFFER_DIRECTION_IN ? "to memory" :
							 "from memory");
		ret = -EINVAL;
		goto err_release_chan;
	}
	/*
	 * Disabling the buffer must be able to stop the channel and wait for
	 * its callbacks: dmaengine_terminate_sync() waits only through
	 * device_synchronize (see struct izc_dmaengine_buffer).
	 */
	if (!caps.cmd_terminate || !chan->device->device_synchronize) {
		dev_err(dev,
			"DMA channel %s (%s) cannot be terminated and synchronized, which a DMA buffer needs\n",
			channel, dma_chan_name(chan));
		ret = -EOPNOTSUPP;
		goto err_release_chan;
	}

	dma_dev = chan->device->dev;
	align = izc_dmaengine_align(&caps);
	max_seg = rounddown(dma_get_max_seg_size(dma_dev), align);
	if (!max_seg) {
		dev_err(dev,
			"DMA channel %s (%s): maximum segment below its bus width\n",
			channel, dma_chan_name(chan));
		ret = -EINVAL;
		goto err_release_chan;
	}

	if (dir == IIO_BUFFER_DIRECTION_OUT) {
		dmaengine_buffer->load_eot =
			dma_has_cap(DMA_LOAD_EOT, chan->device->cap_mask);
		cyclic_ok = dmaengine_buffer->load_eot &&
			    dma_has_cap(DMA_REPEAT, chan->device->cap_mask);
	} else {
		cyclic_ok = false;
	}

	dmaengine_buffer->chan = chan;
	spin_lock_init(&dmaengine_buffer->active_lock);
	INIT_LIST_HEAD(&dmaengine_buffer->active);

	izc_block_queue_init(&dmaengine_buffer->queue, dma_dev,
			     &izc_dmaengine_ops, align, max_seg, cyclic_ok,
			     !(flags & IZC_DMAENGINE_BUFFER_NO_DMABUF));
	buffer = &dmaengine_buffer->queue.buffer;
	buffer->direction = dir;
	buffer->attrs = izc_dmaengine_buffer_attrs;

	indio_dev->modes |= INDIO_BUFFER_HARDWARE;

	ret = iio_device_attach_buffer(indio_dev, buffer);
	if (ret) {
		/* The buffer is refcounted now: this releases everything. */
		izc_dmaengine_buffer_teardown(buffer);
		return ERR_PTR(ret);
	}

	return buffer;

err_release_chan:
	dma_release_channel(chan);
err_free_buffer:
	kfree(dmaengine_buffer);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(izc_dmaengine_buffer_setup_ext, IIO_ZEROCOPY);

/**
 * izc_dmaengine_buffer_setup() - izc_dmaengine_buffer_setup_ext(), no flags
 * @dev: the device whose DMA channel to request (usually the parent)
 * @indio_dev: the IIO device to attach the buffer to
 * @channel: the slave channel name, as for dma_request_chan() ("rx", "tx")
 * @dir: IIO_BUFFER_DIRECTION_IN (capture) or IIO_BUFFER_DIRECTION_OUT
 *
 * Return: the buffer (fileio and DMABUF), or an ERR_PTR().
 */
struct iio_buffer *izc_dmaengine_buffer_setup(struct device *dev,
					      struct iio_dev *indio_dev,
					      const char *channel,
					      enum iio_buffer_direction dir)
{
	return izc_dmaengine_buffer_setup_ext(dev, indio_dev, channel, dir, 0);
}
EXPORT_SYMBOL_NS_GPL(izc_dmaengine_buffer_setup, IIO_ZEROCOPY);

/**
 * izc_dmaengine_buffer_teardown() - stop and release a dmaengine block buffer
 * @buffer: a buffer from izc_dmaengine_buffer_setup()
 *
 * Stops the channel (in-flight DMABUF transfers complete with -EINTR, blocks
 * still waiting for an enable with -ENODEV), frees the fileio memory and
 * releases the channel. The buffer object itself lives on while the IIO core
 * or userspace (an open buffer fd, DMABUF attachments) still holds it; it
 * then answers -ENODEV.
 */
void izc_dmaengine_buffer_teardown(struct iio_buffer *buffer)
{
	struct izc_block_queue *queue =
		container_of(buffer, struct izc_block_queue, buffer);
	struct izc_dmaengine_buffer *dmaengine_buffer =
		to_dmaengine_buffer(queue);

	izc_block_queue_teardown(queue);
	dma_release_channel(dmaengine_buffer->chan);
	dmaengine_buffer->chan = NULL;
	iio_buffer_put(buffer);
}
EXPORT_SYMBOL_NS_GPL(izc_dmaengine_buffer_teardown, IIO_ZEROCOPY);

static void izc_dmaengine_buffer_devm_teardown(void *buffer)
{
	izc_dmaengine_buffer_teardown(buffer);
}

/**
 * devm_izc_dmaengine_buffer_setup_ext() - izc_dmaengine_buffer_setup_ext(), managed
 * @dev: the device whose DMA channel to request; owns the buffer's lifetime
 * @indio_dev: the IIO device to attach the buffer to
 * @channel: the slave channel name ("rx", "tx", ...)
 * @dir: IIO_BUFFER_DIRECTION_IN or IIO_BUFFER_DIRECTION_OUT
 * @flags: IZC_DMAENGINE_BUFFER_* (0 for the full buffer)
 *
 * The teardown runs when @dev is unbound; call this before
 * devm_iio_device_register() so that the device is unregistered (and its
 * buffer disabled) before the buffer is torn down.
 *
 * Return: 0 or a negative errno.
 */
int devm_izc_dmaengine_buffer_setup_ext(struct device *dev,
					struct iio_dev *indio_dev,
					const char *channel,
					enum iio_buffer_direction dir,
					unsigned int flags)
{
	struct iio_buffer *buffer;

	buffer = izc_dmaengine_buffer_setup_ext(dev, indio_dev, channel, dir,
						flags);
	if (IS_ERR(buffer))
		return PTR_ERR(buffer);

	return devm_add_action_or_reset(dev, izc_dmaengine_buffer_devm_teardown,
					buffer);
}
EXPORT_SYMBOL_NS_GPL(devm_izc_dmaengine_buffer_setup_ext, IIO_ZEROCOPY);

/**
 * devm_izc_dmaengine_buffer_setup() - izc_dmaengine_buffer_setup(), managed
 * @dev: the device whose DMA channel to request; owns the buffer's lifetime
 * @indio_dev: the IIO device to attach the buffer to
 * @channel: the slave channel name ("rx", "tx", ...)
 * @dir: IIO_BUFFER_DIRECTION_IN or IIO_BUFFER_DIRECTION_OUT
 *
 * Return: 0 or a negative errno.
 */
int devm_izc_dmaengine_buffer_setup(struct device *dev,
				    struct iio_dev *indio_dev,
				    const char *channel,
				    enum iio_buffer_direction dir)
{
	return devm_izc_dmaengine_buffer_setup_ext(dev, indio_dev, channel, dir,
						   0);
}
EXPORT_SYMBOL_NS_GPL(devm_izc_dmaengine_buffer_setup, IIO_ZEROCOPY);
