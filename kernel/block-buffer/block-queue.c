// SPDX-License-Identifier: GPL-2.0
/*
 * iio-zerocopy: block queue, an IIO buffer made of blocks.
 *
 * A block is the unit of exchange between the CPU and the DMA. Per-sample
 * bookkeeping disappears: the DMA fills (input) or drains (output) a whole
 * block, then hands it back in one completion.
 *
 * Blocks come from two places:
 *  - fileio: read()/write() on the buffer. The queue allocates the blocks at
 *    request_update time, sized from the buffer length, watermark and bytes
 *    per datum, and copies between them and userspace.
 *  - DMABUF: userspace attaches DMABUFs; each attachment is one block; each
 *    ENQUEUE submits it with a fence that is signalled with the transfer's
 *    status when the DMA is done with it.
 * The two are exclusive, as upstream's buffer-dma makes them: attaching a
 *  DMABUF frees the fileio blocks, is refused with -EBUSY while the buffer is
 *  enabled for fileio, and read()/write() answer -EBUSY while a DMABUF is
 *  attached.
 *
 * Every block is in one state of enum izc_block_state, and each transition
 * has one owner (see block-queue.h). The queue keeps three lists:
 * "incoming" (blocks waiting for the buffer to be enabled, under the queue
 * mutex), "done" (fileio blocks back from the DMA, under the list spinlock,
 * because the DMA completes from atomic context) and "parked" (fileio
 * blocks whose submit failed, waiting for a retry, under the queue mutex).
 * Blocks at the DMA are on the DMA side's own list.
 *
 * Blocks are reference counted. The last reference may be dropped in the DMA
 * completion (atomic); freeing may sleep (coherent memory, vmalloc'ed
 * scatterlists), so such blocks are freed from a worker. The queue itself is
 * freed from the same worker once the core drops the last buffer reference;
 * each queue holds a reference on this module until then, so the module
 * cannot go while a buffer (e.g. an open buffer fd) still points at its code.
 *
 * The DMA side (ops->submit/abort) knows nothing of IIO; dmaengine.c is the
 * one we have.
 */

#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/iio/buffer_impl.h>
#include <linux/iio/iio.h>
#include <linux/kernel.h>
#include <linux/lcm.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/poll.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "block-queue.h"

/* Defaults for a new buffer, in datums: four blocks of 1024 samples. */
#define IZC_DEFAULT_LENGTH	4096
#define IZC_DEFAULT_WATERMARK	1024
/* More blocks only add bookkeeping: the ring is already deep enough. */
#define IZC_FILEIO_MAX_BLOCKS	32U
/* Coherent chunks beyond 1 MiB fail on fragmented memory without CMA. */
#define IZC_FILEIO_CHUNK_MAX	SZ_1M

/*
 * Upper bound of one buffer's fileio memory (all its blocks): the buffer
 * length is set from userspace, and without a bound an enable would take
 * all of RAM before failing. The bound is the smaller of this parameter and
 * a quarter of RAM; request_update (so the enable) fails with -ENOMEM above
 * it, as it does when the allocation itself fails.
 */
static unsigned int fileio_max_mib = 256;
module_param(fileio_max_mib, uint, 0644);
MODULE_PARM_DESC(fileio_max_mib,
		 "largest fileio allocation of one buffer, MiB (default 256; at most a quarter of RAM)");

static inline struct izc_block_queue *to_queue(struct iio_buffer *buffer)
{
	return container_of(buffer, struct izc_block_queue, buffer);
}

/* The core passes our blocks around as an opaque iio_dma_buffer_block. */
static inline struct izc_block *to_block(struct iio_dma_buffer_block *b)
{
	return (struct izc_block *)b;
}

static inline struct iio_dma_buffer_block *to_iio_block(struct izc_block *b)
{
	return (struct iio_dma_buffer_block *)b;
}

static bool izc_queue_is_input(struct izc_block_queue *queue)
{
	return queue->buffer.direction == IIO_BUFFER_DIRECTION_IN;
}

/* Deferred freeing: blocks and queues whose last reference went atomically. */
static LIST_HEAD(izc_free_blocks);
static LIST_HEAD(izc_free_queues);
static DEFINE_SPINLOCK(izc_free_lock);

static void izc_free_worker(struct work_struct *work);
static DECLARE_WORK(izc_free_work, izc_free_worker);

static void izc_block_free(struct izc_block *block)
{
	struct izc_block_queue *queue = block->queue;
	unsigned int i;

	for (i = 0; i < block->nchunks; i++)
		dma_free_coherent(queue->dma_dev, block->chunks[i].len,
				  block->chunks[i].vaddr, block->chunks[i].addr);
	kfree(block->chunks);
	kvfree(block->sg);
	kfree(block);
	/* May be the last buffer reference: the queue goes to the worker. */
	iio_buffer_put(&queue->buffer);
}

static void izc_block_release(struct kref *kref)
{
	izc_block_free(container_of(kref, struct izc_block, kref));
}

static void izc_block_release_atomic(struct kref *kref)
{
	struct izc_block *block = container_of(kref, struct izc_block, kref);
	unsigned long flags;

	/* Nobody else references the block: its list head is ours now. */
	spin_lock_irqsave(&izc_free_lock, flags);
	list_add_tail(&block->head, &izc_free_blocks);
	spin_unlock_irqrestore(&izc_free_lock, flags);
	schedule_work(&izc_free_work);
}

static void izc_block_put(struct izc_block *block)
{
	might_sleep();
	kref_put(&block->kref, izc_block_release);
}

static void izc_block_put_atomic(struct izc_block *block)
{
	kref_put(&block->kref, izc_block_release_atomic);
}

static void izc_queue_free(struct izc_block_queue *queue)
{
	put_device(queue->dma_dev);
	mutex_destroy(&queue->lock);
	queue->ops->release(queue);
	/*
	 * Dropped last: module_exit() flushes this worker, so the code we are
	 * still running cannot be unloaded under us.
	 */
	module_put(THIS_MODULE);
}

static void izc_free_worker(struct work_struct *work)
{
	struct izc_block_queue *queue, *next_queue;
	struct izc_block *block, *next_block;
	LIST_HEAD(blocks);
	LIST_HEAD(queues);

	spin_lock_irq(&izc_free_lock);
	list_splice_init(&izc_free_blocks, &blocks);
	spin_unlock_irq(&izc_free_lock);

	/* Freeing a block may release its queue, which lands on the list. */
	list_for_each_entry_safe(block, next_block, &blocks, head)
		izc_block_free(block);

	spin_lock_irq(&izc_free_lock);
	list_splice_init(&izc_free_queues, &queues);
	spin_unlock_irq(&izc_free_lock);

	list_for_each_entry_safe(queue, next_queue, &queues, free_entry)
		izc_queue_free(queue);
}

static struct izc_block *izc_block_alloc(struct izc_block_queue *queue,
					 size_t size, bool fileio)
{
	struct izc_block *block;

	block = kzalloc(sizeof(*block), GFP_KERNEL);
	if (!block)
		return NULL;

	kref_init(&block->kref);
	block->queue = queue;
	block->size = size;
	block->fileio = fileio;
	block->state = IZC_BLOCK_DEQUEUED;
	INIT_LIST_HEAD(&block->head);
	/* The queue must outlive its blocks; the core frees it on last put. */
	iio_buffer_get(&queue->buffer);

	return block;
}

static void izc_queue_wake(struct izc_block_queue *queue)
{
	__poll_t flags = izc_queue_is_input(queue) ? EPOLLIN | EPOLLRDNORM :
						     EPOLLOUT | EPOLLWRNORM;

	wake_up_interruptible_poll(&queue->buffer.pollq, flags);
}

/*
 * Take the fence of a block's pending DMABUF transfer, if any, keeping
 * queue->dmabufs_pending in step. Caller holds queue->list_lock.
 */
static struct dma_fence *izc_block_take_fence(struct izc_block_queue *queue,
					      struct izc_block *block)
{
	struct dma_fence *fence = block->fence;

	lockdep_assert_held(&queue->list_lock);
	block->fence = NULL;
	if (fence)
		queue->dmabufs_pending--;
	return fence;
}

/* Signal a fence taken with izc_block_take_fence() and drop our reference. */
static void izc_block_signal_fence(struct dma_fence *fence, int status)
{
	iio_buffer_signal_dmabuf_done(fence, status);
	dma_fence_put(fence);
}

/**
 * izc_block_done() - the DMA side hands a block back
 * @block: a block the DMA side got from ops->submit()
 * @bytes: bytes transferred
 * @status: 0, or the negative errno the block's fence carries
 *
 * Must be called exactly once per successful submit, from any context.
 */
void izc_block_done(struct izc_block *block, size_t bytes, int status)
{
	struct izc_block_queue *queue = block->queue;
	struct dma_fence *fence;
	unsigned long flags;

	spin_lock_irqsave(&queue->list_lock, flags);
	/* Taken with the transition: an enqueue right after sets a new one. */
	fence = izc_block_take_fence(queue, block);
	if (block->state == IZC_BLOCK_ACTIVE) {
		block->state = IZC_BLOCK_DONE;
		if (block->fileio) {
			/* A disable is the reader's own doing: nothing to report. */
			block->status = status == IZC_ABORT_STATUS ? 0 : status;
			if (izc_queue_is_input(queue) && !status)
				block->bytes_used =
					rounddown(min(bytes, block->size),
						  queue->fileio.bpd);
			else
				block->bytes_used = 0;
			list_add_tail(&block->head, &queue->done);
		}
	} else {
		WARN_ON_ONCE(block->state != IZC_BLOCK_DEAD);
	}
	spin_unlock_irqrestore(&queue->list_lock, flags);

	if (fence)
		izc_block_signal_fence(fence, status);

	izc_queue_wake(queue);
	/* The submission's reference. */
	izc_block_put_atomic(block);
}

static void izc_block_set_state(struct izc_block_queue *queue,
				struct izc_block *block,
				enum izc_block_state state)
{
	spin_lock_irq(&queue->list_lock);
	block->state = state;
	spin_unlock_irq(&queue->list_lock);
}

/* Hand @block to the DMA. Caller holds queue->lock and owns the block. */
static int izc_queue_submit(struct izc_block_queue *queue,
			    struct izc_block *block)
{
	int ret;

	izc_block_set_state(queue, block, IZC_BLOCK_ACTIVE);
	kref_get(&block->kref);

	ret = queue->ops->submit(queue, block);
	if (ret) {
		izc_block_set_state(queue, block, IZC_BLOCK_DONE);
		/* The caller's reference keeps the block alive. */
		izc_block_put_atomic(block);
	}

	return ret;
}

/* Submit now if enabled, else park on incoming. Caller holds queue->lock. */
static int izc_queue_enqueue(struct izc_block_queue *queue,
			     struct izc_block *block)
{
	if (queue->active)
		return izc_queue_submit(queue, block);

	izc_block_set_state(queue, block, IZC_BLOCK_QUEUED);
	list_add_tail(&block->head, &queue->incoming);

	return 0;
}

/*
 * A DMABUF block we could not submit and that no caller can report on (enable
 * submitting what was enqueued while disabled): signal its fence with the
 * error. Caller holds queue->lock.
 */
static void izc_queue_fail_block(struct izc_block_queue *queue,
				 struct izc_block *block, int err)
{
	struct dma_fence *fence;

	dev_warn_ratelimited(queue->dma_dev, "block submit failed: %d\n", err);

	spin_lock_irq(&queue->list_lock);
	fence = izc_block_take_fence(queue, block);
	block->state = IZC_BLOCK_DONE;
	spin_unlock_irq(&queue->list_lock);

	if (fence)
		izc_block_signal_fence(fence, err);
}

/*
 * A fileio block whose submit fails is parked (fileio->parked), not put back
 * on done as an empty block: an empty block on done counts as ready, so the
 * core would call read() again at once, read() would requeue it, the submit
 * would fail again, and a blocking reader would spin in the kernel without
 * ever looking at its signals. Parked blocks are neither data nor space;
 * read()/write() retry them first and fail with the submit's errno once
 * every block is parked. Disabling the buffer unparks them.
 */
static void izc_fileio_park(struct izc_block_queue *queue,
			    struct izc_block *block)
{
	izc_block_set_state(queue, block, IZC_BLOCK_DEQUEUED);
	list_add_tail(&block->head, &queue->fileio.parked);
	queue->fileio.nparked++;
}

/* Submit the parked blocks in order until one fails. Caller holds queue->lock. */
static void izc_fileio_flush_parked(struct izc_block_queue *queue)
{
	struct izc_block_queue_fileio *fileio = &queue->fileio;
	struct izc_block *block;
	int ret;

	while ((block = list_first_entry_or_null(&fileio->parked,
						 struct izc_block, head))) {
		list_del_init(&block->head);
		ret = izc_queue_enqueue(queue, block);
		if (ret) {
			dev_warn_ratelimited(queue->dma_dev,
					     "block submit failed: %d\n", ret);
			izc_block_set_state(queue, block, IZC_BLOCK_DEQUEUED);
			list_add(&block->head, &fileio->parked);
			fileio->err = ret;
			return;
		}
		fileio->nparked--;
	}
}

/*
 * Every fileio block is parked: nothing can make progress until a retry
 * succeeds. Caller holds queue->lock.
 */
static bool izc_fileio_stuck(struct izc_block_queue *queue)
{
	struct izc_block_queue_fileio *fileio = &queue->fileio;

	return queue->active && fileio->nblocks &&
	       fileio->nparked == fileio->nblocks;
}

/*
 * Disabled: parked blocks go back to done, empty (input: request_update
 * resets them; output: what they held never went out and is dropped, as
 * for a transfer cut by the disable). Caller holds queue->lock.
 */
static void izc_fileio_unpark(struct izc_block_queue *queue)
{
	struct izc_block_queue_fileio *fileio = &queue->fileio;
	struct izc_block *block, *next;

	spin_lock_irq(&queue->list_lock);
	list_for_each_entry_safe(block, next, &fileio->parked, head) {
		block->bytes_used = 0;
		block->state = IZC_BLOCK_DONE;
		list_move_tail(&block->head, &queue->done);
	}
	spin_unlock_irq(&queue->list_lock);
	fileio->nparked = 0;
	fileio->err = 0;
}

/*
 * Output, at disable: the failures of the run that ended are not reported
 * by the next one (the converter counts them). Input keeps them: read()
 * may still drain what the disable left, and must not join data across a
 * hole. Caller holds queue->lock.
 */
static void izc_fileio_forget_failures(struct izc_block_queue *queue)
{
	struct izc_block_queue_fileio *fileio = &queue->fileio;
	struct izc_block *block;

	spin_lock_irq(&queue->list_lock);
	list_for_each_entry(block, &queue->done, head)
		block->status = 0;
	spin_unlock_irq(&queue->list_lock);
	fileio->lost = 0;
	fileio->write_cont = false;
}

/*
 * Give a fileio block back to the DMA, behind any parked one. Caller holds
 * queue->lock.
 */
static void izc_fileio_requeue(struct izc_block_queue *queue,
			       struct izc_block *block)
{
	block->bytes_used = block->size;
	block->nents = block->sg_cap;

	izc_fileio_park(queue, block);
	izc_fileio_flush_parked(queue);
}

/* The errno of a failed transfer, reported once. Caller holds queue->lock. */
static int izc_fileio_take_lost(struct izc_block_queue_fileio *fileio)
{
	int err = fileio->lost;

	fileio->lost = 0;
	return err;
}

/*
 * read()/write() state back to nothing in progress and nothing to report;
 * no block may be on @parked any more. Caller holds queue->lock.
 */
static void izc_fileio_reset(struct izc_block_queue_fileio *fileio)
{
	fileio->cur = NULL;
	fileio->pos = 0;
	INIT_LIST_HEAD(&fileio->parked);
	fileio->nparked = 0;
	fileio->err = 0;
	fileio->lost = 0;
	fileio->write_cont = false;
}

/* Next DONE fileio block, now DEQUEUED, or NULL. Caller holds queue->lock. */
static struct izc_block *izc_fileio_take_done(struct izc_block_queue *queue)
{
	struct izc_block *block;

	spin_lock_irq(&queue->list_lock);
	block = list_first_entry_or_null(&queue->done, struct izc_block, head);
	if (block) {
		list_del_init(&block->head);
		block->state = IZC_BLOCK_DEQUEUED;
	}
	spin_unlock_irq(&queue->list_lock);

	return block;
}

/*
 * Free the fileio blocks. Caller holds queue->lock and no fileio block is
 * ACTIVE (the buffer is disabled, and disabling aborted every transfer).
 */
static void izc_fileio_free(struct izc_block_queue *queue)
{
	struct izc_block_queue_fileio *fileio = &queue->fileio;
	struct izc_block *block;
	unsigned int i;

	for (i = 0; i < fileio->nblocks; i++) {
		block = fileio->blocks[i];

		spin_lock_irq(&queue->list_lock);
		WARN_ON_ONCE(block->state == IZC_BLOCK_ACTIVE);
		list_del_init(&block->head);
		block->state = IZC_BLOCK_DEAD;
		spin_unlock_irq(&queue->list_lock);

		izc_block_put(block);
	}

	kfree(fileio->blocks);
	fileio->blocks = NULL;
	fileio->nblocks = 0;
	fileio->block_size = 0;
	izc_fileio_reset(fileio);
	queue->fileio_mode = false;
}

static size_t izc_fileio_chunk_size(struct izc_block_queue *queue, size_t size)
{
	size_t chunk = min3(size, queue->max_seg, (size_t)IZC_FILEIO_CHUNK_MAX);

	/* Whole pages waste nothing in the coherent allocator. */
	if (chunk >= PAGE_SIZE && !(PAGE_SIZE % queue->align))
		chunk = rounddown(chunk, PAGE_SIZE);
	else
		chunk = rounddown(chunk, queue->align);

	return chunk ?: queue->align;
}

/*
 * A fileio block is a set of coherent chunks, each no larger than a DMA
 * segment, so no large contiguous allocation is needed and the descriptor
 * list is built once, here.
 */
static struct izc_block *izc_fileio_block_alloc(struct izc_block_queue *queue,
						size_t size)
{
	struct izc_block_chunk *chunk;
	struct izc_block *block;
	size_t chunk_size, off;
	unsigned int i, n;

	block = izc_block_alloc(queue, size, true);
	if (!block)
		return NULL;

	chunk_size = izc_fileio_chunk_size(queue, size);
	n = DIV_ROUND_UP(size, chunk_size);

	block->chunks = kcalloc(n, sizeof(*block->chunks), GFP_KERNEL);
	if (!block->chunks)
		goto err_put_block;

	block->sg = kvcalloc(n, sizeof(*block->sg), GFP_KERNEL);
	if (!block->sg)
		goto err_put_block;
	sg_init_table(block->sg, n);
	block->sg_cap = n;
	block->nents = n;
	block->chunk_size = chunk_size;

	for (i = 0, off = 0; i < n; i++, off += chunk_size) {
		chunk = &block->chunks[i];
		chunk->len = min(chunk_size, size - off);
		/* Under memory pressure fail the enable, not the system. */
		chunk->vaddr = dma_alloc_coherent(queue->dma_dev, chunk->len,
						  &chunk->addr,
						  GFP_KERNEL | __GFP_NORETRY |
						  __GFP_NOWARN);
		if (!chunk->vaddr)
			goto err_put_block;
		block->nchunks = i + 1;

		sg_dma_address(&block->sg[i]) = chunk->addr;
		sg_dma_len(&block->sg[i]) = chunk->len;
		block->sg[i].length = chunk->len;
	}

	return block;

err_put_block:
	/* Frees the chunks allocated so far. */
	izc_block_put(block);
	return NULL;
}

/*
 * Block geometry: the watermark is the number of samples a reader wants per
 * wakeup, so it is the natural block size: one completion, one wakeup. The
 * buffer length then gives the number of blocks, at least two so the DMA
 * fills one while the CPU works on the other. Block sizes are whole datums
 * and whole DMA words.
 */
static void izc_fileio_geometry(struct izc_block_queue *queue,
				unsigned int *nblocks, size_t *block_size)
{
	struct iio_buffer *buffer = &queue->buffer;
	size_t bpd = buffer->bytes_per_datum;
	unsigned int wm = clamp(buffer->watermark, 1U, buffer->length);
	size_t unit = lcm(bpd, queue->align);
	size_t size;

	*nblocks = clamp(buffer->length / wm, 2U, IZC_FILEIO_MAX_BLOCKS);
	size = (size_t)max(buffer->length / *nblocks, 1U) * bpd;
	size = rounddown(size, unit);
	*block_size = size ?: unit;
}

/* Bytes of fileio memory a buffer may have (see fileio_max_mib). */
static u64 izc_fileio_limit(void)
{
	u64 ram = (u64)totalram_pages() << PAGE_SHIFT;

	return min_t(u64, (u64)READ_ONCE(fileio_max_mib) * SZ_1M, ram / 4);
}

static int izc_fileio_alloc(struct izc_block_queue *queue,
			    unsigned int nblocks, size_t block_size)
{
	struct izc_block_queue_fileio *fileio = &queue->fileio;
	unsigned int i;

	if ((u64)nblocks * block_size > izc_fileio_limit())
		return -ENOMEM;

	fileio->blocks = kcalloc(nblocks, sizeof(*fileio->blocks), GFP_KERNEL);
	if (!fileio->blocks)
		return -ENOMEM;

	for (i = 0; i < nblocks; i++) {
		fileio->blocks[i] = izc_fileio_block_alloc(queue, block_size);
		if (!fileio->blocks[i]) {
			/* izc_fileio_free() frees the first i. */
			fileio->nblocks = i;
			izc_fileio_free(queue);
			return -ENOMEM;
		}
	}
	fileio->nblocks = nblocks;
	fileio->block_size = block_size;

	return 0;
}

/*
 * Whether the core lists a DMABUF as attached to @buffer. Its lock comes
 * before queue->lock (the core holds it when a detach frees a block), so
 * this is asked before taking ours.
 */
static bool izc_core_lists_dmabufs(struct iio_buffer *buffer)
{
	bool listed;

	mutex_lock(&buffer->dmabufs_mutex);
	listed = !list_empty(&buffer->dmabufs);
	mutex_unlock(&buffer->dmabufs_mutex);

	return listed;
}

/*
 * DMABUFs keep read()/write() away while the core lists one as attached
 * (@listed), a transfer of one is pending, or one was attached and never
 * enqueued; not merely while DMABUF blocks exist: after a DETACH or the
 * buffer fd's close, the core drops its last reference to an attachment
 * from a work item once the fences have signalled, so a block outlives the
 * attachment userspace let go of by a moment, and must not refuse fileio
 * (or pick DMABUF mode at enable) meanwhile.
 *
 * @listed alone has a hole: the core calls attach_dmabuf() (which frees the
 * fileio blocks) before it lists the attachment, and @listed is read before
 * queue->lock, so a request_update in between would set up fileio again
 * with a DMABUF attached. queue->dmabufs_fresh, counted under queue->lock
 * from attach_dmabuf() until the block's first enqueue_dmabuf() (which the
 * core only calls for a listed attachment) succeeds or its detach, closes it. Only
 * enqueued blocks can outlive their attachment (the enqueue's reference is
 * what the core's work item drops), so a fresh block is always attached.
 * Caller holds queue->lock.
 */
static bool izc_queue_dmabuf_in_use(struct izc_block_queue *queue, bool listed)
{
	unsigned int pending;

	lockdep_assert_held(&queue->lock);
	spin_lock_irq(&queue->list_lock);
	pending = queue->dmabufs_pending;
	spin_unlock_irq(&queue->list_lock);

	return listed || pending || queue->dmabufs_fresh;
}

/* @block is no longer fresh: detached, or listed and pending. Caller holds queue->lock. */
static void izc_block_unfresh(struct izc_block_queue *queue,
			      struct izc_block *block)
{
	lockdep_assert_held(&queue->lock);

	if (block->fresh) {
		block->fresh = false;
		queue->dmabufs_fresh--;
	}
}

/*
 * Enabled for DMABUF transfers, so without fileio blocks, even once every
 * DMABUF is gone (blocks queued while disabled outlive their detach and
 * decide the mode at the next enable, as upstream): read()/write() must
 * answer EBUSY then, not wait for blocks that do not exist. Caller holds
 * queue->lock.
 */
static bool izc_queue_dmabuf_mode(struct izc_block_queue *queue)
{
	lockdep_assert_held(&queue->lock);

	return queue->active && !queue->fileio_mode;
}

static int izc_queue_request_update(struct iio_buffer *buffer)
{
	struct izc_block_queue *queue = to_queue(buffer);
	struct izc_block_queue_fileio *fileio = &queue->fileio;
	bool input = izc_queue_is_input(queue);
	struct izc_block *block;
	unsigned int i, nblocks;
	size_t block_size;
	bool listed;
	int ret = 0;

	if (!buffer->bytes_per_datum)
		return -EINVAL;

	listed = izc_core_lists_dmabufs(buffer);
	mutex_lock(&queue->lock);

	if (queue->dead) {
		ret = -ENODEV;
		goto out_unlock;
	}

	/* DMABUF mode: blocks enqueued while disabled wait for enable. */
	if (izc_queue_dmabuf_in_use(queue, listed)) {
		queue->fileio_mode = false;
		goto out_unlock;
	}

	izc_fileio_geometry(queue, &nblocks, &block_size);
	if (nblocks == fileio->nblocks && block_size == fileio->block_size &&
	    buffer->bytes_per_datum == fileio->bpd && !input) {
		/*
		 * Same layout: keep what write() queued while disabled, so a
		 * DAC can be primed before it starts.
		 */
		queue->fileio_mode = true;
		goto out_unlock;
	}
	if (nblocks != fileio->nblocks || block_size != fileio->block_size) {
		izc_fileio_free(queue);
		ret = izc_fileio_alloc(queue, nblocks, block_size);
		if (ret)
			goto out_unlock;
	}

	/*
	 * Start afresh, as upstream does: input data not read before the
	 * buffer was disabled is dropped. No fileio block is ACTIVE (see
	 * disable), and in fileio mode incoming holds only fileio blocks.
	 */
	izc_fileio_reset(fileio);
	fileio->bpd = buffer->bytes_per_datum;
	INIT_LIST_HEAD(&queue->incoming);
	spin_lock_irq(&queue->list_lock);
	INIT_LIST_HEAD(&queue->done);
	for (i = 0; i < nblocks; i++) {
		block = fileio->blocks[i];
		INIT_LIST_HEAD(&block->head);
		block->bytes_used = input ? block->size : 0;
		block->status = 0;
		block->nents = block->sg_cap;
		block->cyclic = false;
		if (input) {
			/* Empty: waits on incoming for the DMA to fill it. */
			block->state = IZC_BLOCK_QUEUED;
			list_add_tail(&block->head, &queue->incoming);
		} else {
			/* Empty: on done, free for write() to fill. */
			block->state = IZC_BLOCK_DONE;
			list_add_tail(&block->head, &queue->done);
		}
	}
	spin_unlock_irq(&queue->list_lock);
	queue->fileio_mode = true;

out_unlock:
	mutex_unlock(&queue->lock);
	return ret;
}

static int izc_queue_enable(struct iio_buffer *buffer,
			    struct iio_dev *indio_dev)
{
	struct izc_block_queue *queue = to_queue(buffer);
	struct izc_block *block, *next;
	int ret;

	mutex_lock(&queue->lock);

	if (queue->dead) {
		mutex_unlock(&queue->lock);
		return -ENODEV;
	}

	queue->active = true;
	list_for_each_entry_safe(block, next, &queue->incoming, head) {
		list_del_init(&block->head);
		/* Fileio blocks go out in order, parking on failure. */
		if (block->fileio) {
			izc_fileio_park(queue, block);
			continue;
		}
		ret = izc_queue_submit(queue, block);
		if (ret)
			izc_queue_fail_block(queue, block, ret);
	}
	izc_fileio_flush_parked(queue);

	mutex_unlock(&queue->lock);

	/* A reader may be waiting for a failure it is to report. */
	izc_queue_wake(queue);

	return 0;
}

static int izc_queue_disable(struct iio_buffer *buffer,
			     struct iio_dev *indio_dev)
{
	struct izc_block_queue *queue = to_queue(buffer);

	mutex_lock(&queue->lock);
	queue->active = false;
	/* Every ACTIVE block completes, DMABUF fences with IZC_ABORT_STATUS. */
	if (!queue->dead)
		queue->ops->abort(queue);
	izc_fileio_unpark(queue);
	if (!izc_queue_is_input(queue))
		izc_fileio_forget_failures(queue);
	/*
	 * As upstream: a DMABUF may be attached again once disabled. The next
	 * enable follows a request_update(), which sets the mode again: the
	 * core enables a buffer without one only when another buffer of the
	 * device comes or goes while it streams, which hardware mode forbids
	 * (iio_verify_update(): one hardware-mode buffer at a time).
	 */
	queue->fileio_mode = false;
	mutex_unlock(&queue->lock);

	izc_queue_wake(queue);

	return 0;
}

/*
 * read() and write() copy under queue->lock, so they must not take a page
 * fault there: the user buffer may be a DMABUF mapping whose fault handler
 * takes the DMABUF's reservation lock (drm_gem_shmem, TTM), which the core
 * holds while it waits for queue->lock in attach and lock_queue: ABBA. The
 * copy runs with page faults disabled and stops at the first page that is
 * not present; izc_fileio_fault_in() brings it in with the lock dropped.
 * Returns the bytes copied.
 */
static size_t izc_block_copy_user(struct izc_block *block, size_t pos,
				  char __user *ubuf, size_t len, bool to_user)
{
	struct izc_block_chunk *chunk;
	size_t done = 0, off, n, left;
	void *kaddr;

	pagefault_disable();
	while (done < len) {
		chunk = &block->chunks[pos / block->chunk_size];
		off = pos % block->chunk_size;
		n = min(len - done, chunk->len - off);
		kaddr = chunk->vaddr + off;
		if (to_user)
			left = copy_to_user(ubuf + done, kaddr, n);
		else
			left = copy_from_user(kaddr, ubuf + done, n);
		done += n - left;
		pos += n - left;
		if (left)
			break;
	}
	pagefault_enable();

	return done;
}

/*
 * Common checks of read() and write(). -EBUSY while a DMABUF is in use: the
 * fileio blocks are gone and the DMA belongs to the DMABUF queue. Upstream's
 * buffer-dma does not check this: its read() finds no fileio block and
 * returns 0, so a blocking reader waits until a signal (see
 * docs/upstream-notes.md).
 */
static int izc_fileio_check(struct izc_block_queue *queue, size_t n,
			    bool listed)
{
	if (queue->dead)
		return -ENODEV;
	if (izc_queue_dmabuf_in_use(queue, listed) || izc_queue_dmabuf_mode(queue))
		return -EBUSY;
	if (n < queue->fileio.bpd)
		return -EINVAL;

	return 0;
}

/*
 * A copy of read()/write() stopped at a page that is not present: fault
 * [@ubuf, @ubuf + @len) in with queue->lock dropped (see
 * izc_block_copy_user()), then take it again. Anything may have happened
 * meanwhile. Returns 0 when the same fileio blocks are still there to go
 * on with; 1 when the buffer was set up anew (the call ends with what it
 * copied, maybe nothing); else the errno that ends the call (after what it
 * copied).
 */
static int izc_fileio_fault_in(struct izc_block_queue *queue,
			       struct iio_buffer *buffer, char __user *ubuf,
			       size_t len, bool to_user)
{
	struct izc_block **blocks = queue->fileio.blocks;
	size_t bpd = queue->fileio.bpd;
	size_t left;
	bool listed;
	int ret;

	mutex_unlock(&queue->lock);
	left = to_user ? fault_in_writeable(ubuf, len) :
			 fault_in_readable(ubuf, len);
	listed = izc_core_lists_dmabufs(buffer);
	mutex_lock(&queue->lock);

	if (left == len)
		return -EFAULT;
	ret = izc_fileio_check(queue, bpd, listed);
	if (ret)
		return ret;
	/* Disabled and set up again: a new stream, for the next call. */
	if (queue->fileio.blocks != blocks || queue->fileio.bpd != bpd)
		return 1;

	return 0;
}

static int izc_queue_read(struct iio_buffer *buffer, size_t n,
			  char __user *ubuf)
{
	struct izc_block_queue *queue = to_queue(buffer);
	struct izc_block_queue_fileio *fileio = &queue->fileio;
	struct izc_block *block;
	unsigned int budget;
	size_t copied = 0;
	size_t len, done;
	bool listed;
	int ret;

	if (!izc_queue_is_input(queue))
		return -EPERM;

	listed = izc_core_lists_dmabufs(buffer);
	mutex_lock(&queue->lock);

	ret = izc_fileio_check(queue, n, listed);
	if (ret || !fileio->blocks)
		goto out_unlock;

	/* Whole datums, and a count the int return value can carry. */
	n = rounddown(min_t(size_t, n, INT_MAX), fileio->bpd);
	/* Each block at most once per call: a failing DMA cannot spin us. */
	budget = fileio->nblocks;
	izc_fileio_flush_parked(queue);

	/*
	 * A failed transfer is a hole in the stream: read() stops in front of
	 * it and the next call fails with its errno, once per failed block,
	 * so a reader never joins the data on both sides of the hole unaware.
	 */
	while (copied < n && !fileio->lost) {
		block = fileio->cur;
		if (!block) {
			if (!budget--)
				break;
			block = izc_fileio_take_done(queue);
			if (!block)
				break;
			if (block->status) {
				fileio->lost = block->status;
				block->status = 0;
				izc_fileio_requeue(queue, block);
				break;
			}
			if (!block->bytes_used) {
				/* Cut by a disable, or moved nothing: skip it. */
				izc_fileio_requeue(queue, block);
				continue;
			}
			fileio->cur = block;
			fileio->pos = 0;
		}

		len = min(n - copied, block->bytes_used - fileio->pos);
		/* Whole datums only, so a call cut short ends on one. */
		done = rounddown(izc_block_copy_user(block, fileio->pos,
						     ubuf + copied, len, true),
				 fileio->bpd);
		fileio->pos += done;
		copied += done;
		if (fileio->pos == block->bytes_used) {
			fileio->cur = NULL;
			izc_fileio_requeue(queue, block);
		}
		if (done < len) {
			ret = izc_fileio_fault_in(queue, buffer, ubuf + copied,
						  n - copied, true);
			if (ret) {
				ret = min(ret, 0);
				break;
			}
		}
	}

	if (copied)
		ret = copied;
	else if (!ret && fileio->lost)
		ret = izc_fileio_take_lost(fileio);
	else if (!ret && izc_fileio_stuck(queue))
		ret = fileio->err ?: -EIO;

out_unlock:
	mutex_unlock(&queue->lock);
	return ret;
}

static int izc_queue_write(struct iio_buffer *buffer, size_t n,
			   const char __user *ubuf)
{
	struct izc_block_queue *queue = to_queue(buffer);
	struct izc_block_queue_fileio *fileio = &queue->fileio;
	struct izc_block *block;
	size_t written = 0, asked = n;
	bool listed, report;
	size_t len, done;
	int ret;

	if (izc_queue_is_input(queue))
		return -EPERM;

	listed = izc_core_lists_dmabufs(buffer);
	mutex_lock(&queue->lock);

	ret = izc_fileio_check(queue, n, listed);
	if (ret || !fileio->blocks) {
		/* After an error the next call starts a write(). */
		fileio->write_cont = fileio->write_cont && !ret;
		goto out_unlock;
	}

	n = rounddown(min_t(size_t, n, INT_MAX), fileio->bpd);
	izc_fileio_flush_parked(queue);

	/*
	 * A failed transfer: what it held never went out. The core calls us
	 * again within one write() after a short return, and an error on that
	 * call makes the write() fail although we took data before it (which
	 * the caller would then send again). So the errno is returned only by
	 * a call that starts a write(): the first after a full return or an
	 * error. Failures met before that are covered by that one errno.
	 */
	report = !fileio->write_cont;
	while (written < n && !(report && fileio->lost)) {
		block = fileio->cur;
		if (!block) {
			block = izc_fileio_take_done(queue);
			if (!block)
				break;
			fileio->cur = block;
			fileio->pos = 0;
			if (block->status) {
				fileio->lost = fileio->lost ?: block->status;
				block->status = 0;
				if (report)
					break;
			}
		}

		len = min(n - written, block->size - fileio->pos);
		done = rounddown(izc_block_copy_user(block, fileio->pos,
						     (char __user *)ubuf + written,
						     len, false),
				 fileio->bpd);
		fileio->pos += done;
		written += done;
		/* Only full blocks go out: a partial one waits for more. */
		if (fileio->pos == block->size) {
			fileio->cur = NULL;
			izc_fileio_requeue(queue, block);
		}
		if (done < len) {
			ret = izc_fileio_fault_in(queue, buffer,
						  (char __user *)ubuf + written,
						  n - written, false);
			if (ret) {
				ret = min(ret, 0);
				break;
			}
		}
	}

	if (written)
		ret = written;
	else if (!ret && report && fileio->lost)
		ret = izc_fileio_take_lost(fileio);
	else if (!ret && izc_fileio_stuck(queue))
		ret = fileio->err ?: -EIO;
	fileio->write_cont = ret >= 0 && (size_t)ret < asked;

out_unlock:
	mutex_unlock(&queue->lock);
	return ret;
}

/*
 * data_available (input) and space_available (output), in bytes as the ABI
 * documents data_available (the core compares it with a datum count, so a
 * reader wakes no later than it should).
 */
static size_t izc_queue_usage(struct iio_buffer *buffer)
{
	struct izc_block_queue *queue = to_queue(buffer);
	struct izc_block_queue_fileio *fileio = &queue->fileio;
	bool input = izc_queue_is_input(queue);
	struct izc_block *block;
	unsigned int owned = 0;
	bool listed, in_use;
	int failed = 0;
	size_t avail = 0;

	listed = izc_core_lists_dmabufs(buffer);
	mutex_lock(&queue->lock);

	in_use = izc_queue_dmabuf_in_use(queue, listed) ||
		 izc_queue_dmabuf_mode(queue);
	if (queue->dead || (!in_use && !fileio->blocks))
		goto out_unlock;

	/*
	 * DMABUF mode: report the buffer as ready, so that the core calls
	 * read()/write() and the caller gets -EBUSY instead of sleeping
	 * forever on data that will never come through this path.
	 */
	if (in_use) {
		avail = max_t(size_t, (size_t)buffer->length *
				      buffer->bytes_per_datum, buffer->length);
		goto out_unlock;
	}

	if (fileio->cur) {
		owned++;
		avail = (input ? fileio->cur->bytes_used : fileio->cur->size) -
			fileio->pos;
	}

	spin_lock_irq(&queue->list_lock);
	list_for_each_entry(block, &queue->done, head) {
		owned++;
		avail += input ? block->bytes_used : block->size;
		failed |= block->status;
	}
	spin_unlock_irq(&queue->list_lock);
	owned += fileio->nparked;

	/*
	 * A failed transfer is news: read() reports it at once; write() when
	 * it can (see there): a failed block is free space anyway, and a wake
	 * for a call that may not report would have the core call write()
	 * again and again for nothing.
	 */
	if (input ? failed || fileio->lost :
		    fileio->lost && !fileio->write_cont)
		avail = max3(avail, (size_t)buffer->watermark, (size_t)1);

	/*
	 * Every block is on the CPU side, so nothing more will arrive until
	 * the reader consumes: wake it whatever the watermark says, or a
	 * watermark above what the blocks hold would wait forever. With all
	 * blocks empty (failed transfers) read() recycles them; with all
	 * parked it fails with the submit's errno. A writer whose blocks are
	 * all parked is woken the same way, to get that errno.
	 */
	if (input && queue->active && owned == fileio->nblocks)
		avail = max3(avail, (size_t)buffer->watermark, (size_t)1);
	if (!input && izc_fileio_stuck(queue))
		avail = max_t(size_t, avail, 1);

out_unlock:
	mutex_unlock(&queue->lock);
	return avail;
}

static int izc_queue_set_bytes_per_datum(struct iio_buffer *buffer, size_t bpd)
{
	buffer->bytes_per_datum = bpd;

	return 0;
}

static int izc_queue_set_length(struct iio_buffer *buffer, unsigned int length)
{
	/* Two blocks at least; the core then caps the watermark to this. */
	buffer->length = max(length, 2U);

	return 0;
}

static struct iio_dma_buffer_block *
izc_queue_attach_dmabuf(struct iio_buffer *buffer,
			struct dma_buf_attachment *attach)
{
	struct izc_block_queue *queue = to_queue(buffer);
	struct iio_dma_buffer_block *ret;
	struct izc_block *block;
	size_t size = attach->dmabuf->size;

	mutex_lock(&queue->lock);

	if (queue->dead) {
		ret = ERR_PTR(-ENODEV);
		goto out_unlock;
	}

	/* Streaming through read()/write() right now (as upstream). */
	if (queue->active && queue->fileio_mode) {
		ret = ERR_PTR(-EBUSY);
		goto out_unlock;
	}

	block = izc_block_alloc(queue, size, false);
	if (!block) {
		ret = ERR_PTR(-ENOMEM);
		goto out_unlock;
	}

	/*
	 * Room for the descriptor list of any enqueue: one entry per page
	 * (what page-based exporters map to, at worst) plus one per split at
	 * the maximum segment size. Allocated here because enqueue runs in a
	 * fence signalling section, where we must not sleep for memory.
	 */
	block->sg_cap = DIV_ROUND_UP(size, PAGE_SIZE) +
			DIV_ROUND_UP(size, queue->max_seg) + 1;
	block->sg = kvcalloc(block->sg_cap, sizeof(*block->sg), GFP_KERNEL);
	if (!block->sg) {
		izc_block_put(block);
		ret = ERR_PTR(-ENOMEM);
		goto out_unlock;
	}
	sg_init_table(block->sg, block->sg_cap);

	/* Disabled: the fileio blocks are idle, and DMABUF mode needs none. */
	if (queue->fileio.blocks)
		izc_fileio_free(queue);

	/* In use from now on, before the core lists it (see above). */
	block->fresh = true;
	queue->dmabufs_fresh++;

	ret = to_iio_block(block);

out_unlock:
	mutex_unlock(&queue->lock);
	return ret;
}

/*
 * The core detaches only once every fence of this attachment has been
 * signalled (each pending fence holds the attachment), so the block is not
 * QUEUED; it may still be finishing izc_block_done() (ACTIVE -> DONE already
 * done, reference not yet dropped), which its reference covers.
 */
static void izc_queue_detach_dmabuf(struct iio_buffer *buffer,
				    struct iio_dma_buffer_block *iio_block)
{
	struct izc_block_queue *queue = to_queue(buffer);
	struct izc_block *block = to_block(iio_block);
	struct dma_fence *fence = NULL;

	mutex_lock(&queue->lock);
	izc_block_unfresh(queue, block);
	spin_lock_irq(&queue->list_lock);
	if (WARN_ON_ONCE(block->state == IZC_BLOCK_QUEUED)) {
		list_del_init(&block->head);
		fence = izc_block_take_fence(queue, block);
	}
	block->state = IZC_BLOCK_DEAD;
	spin_unlock_irq(&queue->list_lock);
	mutex_unlock(&queue->lock);

	if (fence)
		izc_block_signal_fence(fence, -ENODEV);

	/* The attachment's reference. */
	izc_block_put(block);
}

/*
 * Build block->sg from the attachment's mapped table: the first @size bytes,
 * no entry longer than the DMA's maximum segment. Caller owns the block.
 */
static int izc_block_build_sg(struct izc_block_queue *queue,
			      struct izc_block *block, struct sg_table *sgt,
			      size_t size)
{
	struct scatterlist *src, *dst;
	unsigned int i, n = 0;
	dma_addr_t addr;
	size_t len, seg;

	if (block->nents)
		sg_unmark_end(&block->sg[block->nents - 1]);

	for_each_sgtable_dma_sg(sgt, src, i) {
		addr = sg_dma_address(src);
		len = min_t(size_t, sg_dma_len(src), size);
		size -= len;

		while (len) {
			if (n == block->sg_cap)
				return -ENOMEM;
			seg = min(len, queue->max_seg);
			dst = &block->sg[n++];
			sg_dma_address(dst) = addr;
			sg_dma_len(dst) = seg;
			dst->length = seg;
			addr += seg;
			len -= seg;
		}

		if (!size)
			break;
	}

	/* The mapping is shorter than the DMABUF the core checked against. */
	if (size || !n)
		return -EINVAL;

	sg_mark_end(&block->sg[n - 1]);
	block->nents = n;

	return 0;
}

/*
 * Called by the core with queue->lock held (lock_queue) and inside a fence
 * signalling section. On error the core signals the fence with our errno, so
 * we must not. Errnos: -ENODEV torn down; -EBUSY fileio streaming, or the
 * block is at the DMA or detached; -EPERM the block is already queued (both
 * as upstream's buffer-dma); -EINVAL cyclic on input, or @size not a
 * multiple of the DMA word; -EOPNOTSUPP cyclic on a channel that cannot
 * repeat a descriptor.
 */
static int izc_queue_enqueue_dmabuf(struct iio_buffer *buffer,
				    struct iio_dma_buffer_block *iio_block,
				    struct dma_fence *fence,
				    struct sg_table *sgt, size_t size,
				    bool cyclic)
{
	struct izc_block_queue *queue = to_queue(buffer);
	struct izc_block *block = to_block(iio_block);
	enum izc_block_state state;
	int ret;

	lockdep_assert_held(&queue->lock);

	if (queue->dead)
		return -ENODEV;
	if (queue->active && queue->fileio_mode)
		return -EBUSY;
	if (cyclic && izc_queue_is_input(queue))
		return -EINVAL;
	if (cyclic && !queue->cyclic_ok)
		return -EOPNOTSUPP;
	/* Not IS_ALIGNED(): a 3-byte bus width is a valid alignment. */
	if (size % queue->align)
		return -EINVAL;

	spin_lock_irq(&queue->list_lock);
	state = block->state;
	spin_unlock_irq(&queue->list_lock);

	switch (state) {
	case IZC_BLOCK_DEQUEUED:
	case IZC_BLOCK_DONE:
		break;
	case IZC_BLOCK_QUEUED:
		return -EPERM;
	default:
		return -EBUSY;
	}

	ret = izc_block_build_sg(queue, block, sgt, size);
	if (ret)
		return ret;

	block->bytes_used = size;
	block->cyclic = cyclic;
	/*
	 * Our own reference: once the core put its own, the reservation
	 * object holds the only one, and on an output buffer an ENQUEUE of
	 * the same DMABUF while this transfer runs replaces (and frees) the
	 * fence there: the core only waits for writers before it adds a
	 * reader's fence. queue->lock, held by the core from before it adds
	 * a fence until after it calls us, orders that replacement after this.
	 */
	spin_lock_irq(&queue->list_lock);
	block->fence = dma_fence_get(fence);
	queue->dmabufs_pending++;
	spin_unlock_irq(&queue->list_lock);

	ret = izc_queue_enqueue(queue, block);
	if (ret) {
		/* The core signals it with our errno. */
		spin_lock_irq(&queue->list_lock);
		fence = izc_block_take_fence(queue, block);
		spin_unlock_irq(&queue->list_lock);
		dma_fence_put(fence);
		return ret;
	}

	/*
	 * Listed by the core, and pending: both keep fileio away from here on.
	 * Not before: a request_update that read @listed before the core
	 * listed this block would see neither if a failed enqueue had
	 * cleared it.
	 */
	izc_block_unfresh(queue, block);

	return 0;
}

static struct device *izc_queue_get_dma_dev(struct iio_buffer *buffer)
{
	return to_queue(buffer)->dma_dev;
}

static void izc_queue_lock(struct iio_buffer *buffer)
{
	mutex_lock(&to_queue(buffer)->lock);
}

static void izc_queue_unlock(struct iio_buffer *buffer)
{
	mutex_unlock(&to_queue(buffer)->lock);
}

/* Called by the core on the last buffer reference, in process context. */
static void izc_queue_release(struct iio_buffer *buffer)
{
	struct izc_block_queue *queue = to_queue(buffer);
	unsigned long flags;

	/* Via the worker, for the module reference (see izc_queue_free()). */
	spin_lock_irqsave(&izc_free_lock, flags);
	list_add_tail(&queue->free_entry, &izc_free_queues);
	spin_unlock_irqrestore(&izc_free_lock, flags);
	schedule_work(&izc_free_work);
}

/* What every block queue does: fileio and the buffer's life cycle. */
#define IZC_BLOCK_QUEUE_FILEIO_FUNCS				\
	.read = izc_queue_read,					\
	.write = izc_queue_write,				\
	.data_available = izc_queue_usage,			\
	.space_available = izc_queue_usage,			\
	.request_update = izc_queue_request_update,		\
	.set_bytes_per_datum = izc_queue_set_bytes_per_datum,	\
	.set_length = izc_queue_set_length,			\
	.enable = izc_queue_enable,				\
	.disable = izc_queue_disable,				\
	.release = izc_queue_release,				\
	.modes = INDIO_BUFFER_HARDWARE

static const struct iio_buffer_access_funcs izc_block_queue_access = {
	IZC_BLOCK_QUEUE_FILEIO_FUNCS,

	.attach_dmabuf = izc_queue_attach_dmabuf,
	.detach_dmabuf = izc_queue_detach_dmabuf,
	.enqueue_dmabuf = izc_queue_enqueue_dmabuf,
	.get_dma_dev = izc_queue_get_dma_dev,
	.lock_queue = izc_queue_lock,
	.unlock_queue = izc_queue_unlock,
};

/*
 * Without the DMABUF operations the IIO core refuses
 * IIO_BUFFER_DMABUF_ATTACH_IOCTL with -EPERM: a buffer that offers fileio
 * only, as many upstream drivers' buffers do.
 */
static const struct iio_buffer_access_funcs izc_block_queue_access_fileio = {
	IZC_BLOCK_QUEUE_FILEIO_FUNCS,
};

/**
 * izc_block_queue_init() - initialise a block queue
 * @queue: the queue, embedded in the DMA side's structure
 * @dma_dev: the device doing the DMA (fileio allocations, DMABUF mapping)
 * @ops: the DMA side
 * @align: transfer length granularity in bytes, at least 1
 * @max_seg: largest segment the DMA takes, a multiple of @align
 * @cyclic_ok: the DMA side can repeat a block (output buffers)
 * @dmabuf: offer the DMABUF interface; without it the buffer does fileio
 *	only
 *
 * The queue holds the buffer reference from iio_buffer_init(); drop it with
 * iio_buffer_put() after izc_block_queue_teardown().
 */
void izc_block_queue_init(struct izc_block_queue *queue, struct device *dma_dev,
			  const struct izc_block_queue_ops *ops, size_t align,
			  size_t max_seg, bool cyclic_ok, bool dmabuf)
{
	/* Dropped when the queue is freed (izc_queue_free()). */
	__module_get(THIS_MODULE);

	queue->ops = ops;
	queue->dma_dev = get_device(dma_dev);
	queue->align = align;
	queue->max_seg = max_seg;
	queue->cyclic_ok = cyclic_ok;
	mutex_init(&queue->lock);
	spin_lock_init(&queue->list_lock);
	INIT_LIST_HEAD(&queue->incoming);
	INIT_LIST_HEAD(&queue->done);
	INIT_LIST_HEAD(&queue->fileio.parked);
	INIT_LIST_HEAD(&queue->free_entry);

	queue->buffer.length = IZC_DEFAULT_LENGTH;
	queue->buffer.watermark = IZC_DEFAULT_WATERMARK;
	queue->buffer.access = dmabuf ? &izc_block_queue_access :
					&izc_block_queue_access_fileio;
	iio_buffer_init(&queue->buffer);
}

/**
 * izc_block_queue_teardown() - cut a queue off its DMA side
 * @queue: the queue
 *
 * Stops the DMA, completes every block it held (DMABUF fences carry
 * IZC_ABORT_STATUS), signals blocks still waiting for an enable with -ENODEV
 * and frees the fileio memory. Afterwards the buffer answers -ENODEV and
 * never calls @queue->ops submit/abort again, so the DMA side may go; the
 * queue itself lives on until the last buffer reference is dropped.
 */
void izc_block_queue_teardown(struct izc_block_queue *queue)
{
	struct izc_block *block, *next;
	struct dma_fence *fence;

	mutex_lock(&queue->lock);

	queue->active = false;
	queue->ops->abort(queue);
	queue->dead = true;

	list_for_each_entry_safe(block, next, &queue->incoming, head) {
		list_del_init(&block->head);
		spin_lock_irq(&queue->list_lock);
		fence = izc_block_take_fence(queue, block);
		block->state = IZC_BLOCK_DONE;
		spin_unlock_irq(&queue->list_lock);
		if (fence)
			izc_block_signal_fence(fence, -ENODEV);
	}

	izc_fileio_free(queue);

	mutex_unlock(&queue->lock);

	izc_queue_wake(queue);
}

static void __exit izc_block_buffer_exit(void)
{
	/* Every queue is gone (each held a module reference); finish freeing. */
	flush_work(&izc_free_work);
}
module_exit(izc_block_buffer_exit);

MODULE_AUTHOR("iio-zerocopy developers");
MODULE_DESCRIPTION("IIO block DMA buffer with DMABUF support, bound to dmaengine");
MODULE_LICENSE("GPL");
