/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iio-zerocopy: block queue, the DMA-controller independent half of the
 * block buffer. Private to the izc_block_buffer module.
 *
 * See block-queue.c for the block life cycle and the ownership rules.
 */
#ifndef __IZC_BLOCK_QUEUE_H__
#define __IZC_BLOCK_QUEUE_H__

#include <linux/dmaengine.h>
#include <linux/iio/buffer_impl.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

/*
 * What a transfer cut short by disabling the buffer (or by teardown)
 * reports through its fence: -EINTR, as upstream's buffer-dma does in 6.12
 * (iio_dma_buffer_block_list_abort()), so clients written against upstream
 * see the same status from us. The DMA side completes the blocks it aborts
 * with it.
 */
#define IZC_ABORT_STATUS	(-EINTR)

struct device;
struct dma_buf_attachment;
struct dma_fence;
struct scatterlist;
struct izc_block_queue;

/*
 * The core knows blocks only as an opaque struct iio_dma_buffer_block
 * pointer; we never define that type (upstream's buffer-dma does), we only
 * cast our own struct izc_block to and from it at the access_funcs boundary.
 */

/**
 * enum izc_block_state - where a block is and who owns it
 * @IZC_BLOCK_DEQUEUED: owned by the CPU side of the queue: a fileio block
 *	being read or written by read()/write() or parked after a failed
 *	submit, or a DMABUF block that is attached but not enqueued. Only a
 *	holder of queue->lock touches it.
 * @IZC_BLOCK_QUEUED: on queue->incoming, waiting for the buffer to be
 *	enabled. Owner: queue->lock.
 * @IZC_BLOCK_ACTIVE: handed to the DMA through ops->submit(). Owner: the DMA
 *	side, until it calls izc_block_done() exactly once.
 * @IZC_BLOCK_DONE: the DMA finished with it. Fileio blocks sit on
 *	queue->done (input: data to read; output: free to be written); a
 *	DMABUF block's fence has been signalled. Owner: queue->list_lock for the
 *	list, queue->lock for taking it off.
 * @IZC_BLOCK_DEAD: its owner let it go (fileio blocks freed, DMABUF
 *	detached). It is freed when the last reference drops; a DMA still
 *	holding it completes it without requeueing it.
 *
 * Transitions, each with a single owner:
 *	DEQUEUED/DONE -> QUEUED		enqueue while disabled (queue->lock)
 *	DEQUEUED/DONE/QUEUED -> ACTIVE	submit (queue->lock)
 *	ACTIVE -> DONE			izc_block_done() (DMA side)
 *	DONE -> DEQUEUED		read()/write() take it (queue->lock)
 *	DEQUEUED -> DONE		disable unparks a fileio block (queue->lock)
 *	any -> DEAD			free/detach (queue->lock)
 * The state field itself is written only under queue->list_lock, because
 * izc_block_done() reads it from atomic context.
 */
enum izc_block_state {
	IZC_BLOCK_DEQUEUED,
	IZC_BLOCK_QUEUED,
	IZC_BLOCK_ACTIVE,
	IZC_BLOCK_DONE,
	IZC_BLOCK_DEAD,
};

/**
 * struct izc_block_chunk - one coherent allocation backing part of a block
 * @vaddr: CPU address
 * @addr: DMA address for queue->dma_dev
 * @len: bytes
 */
struct izc_block_chunk {
	void *vaddr;
	dma_addr_t addr;
	size_t len;
};

/**
 * struct izc_block - the unit of exchange between the CPU and the DMA
 * @queue: the owning queue. Constant.
 * @kref: lifetime. References: one held by the owner (the queue for fileio
 *	blocks, the core's DMABUF attachment for DMABUF blocks), one per
 *	submission to the DMA. The last put frees, outside atomic context.
 * @size: capacity in bytes. Constant.
 * @fileio: true for blocks allocated by the queue for read()/write().
 *	Constant.
 * @chunks: fileio memory, @nchunks entries. Constant.
 * @nchunks: see @chunks
 * @chunk_size: length of every chunk but possibly the last. Constant.
 * @sg: the descriptor list handed to ops->submit(), @sg_cap entries. For a
 *	fileio block it is built once from @chunks; for a DMABUF block it is
 *	rebuilt from the attachment's table at each enqueue (truncated to the
 *	bytes used, split at the DMA's maximum segment size). Written by the
 *	owner before submitting; read by the DMA side while ACTIVE.
 * @sg_cap: entries allocated in @sg. Constant.
 * @nents: entries of @sg in use for the current submission (see @sg).
 * @state: see enum izc_block_state. P: queue->list_lock.
 * @fence: DMABUF fence to signal for the current submission, or NULL; we
 *	hold a reference to it (the core keeps none of its own once the fence
 *	is in the DMABUF's reservation object, and a later ENQUEUE of the same
 *	DMABUF on an output buffer replaces it there before we see that
 *	ENQUEUE). P: queue->list_lock; taken (read and cleared) together with
 *	the ACTIVE -> DONE transition so it is signalled exactly once, by
 *	izc_block_signal_fence().
 * @head: entry in queue->incoming (QUEUED), queue->done (DONE, fileio),
 *	queue->fileio.parked (DEQUEUED, fileio) or a list of the DMA side
 *	(ACTIVE). Owned by whoever owns the block.
 * @bytes_used: bytes of payload. Owned like @head; set by the enqueuer for
 *	DMABUF and output blocks, by izc_block_done() for fileio input blocks.
 * @status: fileio blocks: the errno of a transfer that failed (not of one
 *	cut by a disable), until read()/write() reports it. Owned like @head;
 *	set by izc_block_done().
 * @cyclic: repeat this (output DMABUF) block until another block is
 *	enqueued or the buffer is disabled. Owned like @head.
 * @fresh: a DMABUF block attached and not yet passed to enqueue_dmabuf;
 *	counted in queue->dmabufs_fresh. P: queue->lock.
 * @cookie: the DMA side's handle of the current submission, 0 once the
 *	DMA side has claimed its completion. P: the DMA side's lock
 *	(dmaengine.c: active_lock).
 */
struct izc_block {
	struct izc_block_queue *queue;
	struct kref kref;
	size_t size;
	bool fileio;

	struct izc_block_chunk *chunks;
	unsigned int nchunks;
	size_t chunk_size;

	struct scatterlist *sg;
	unsigned int sg_cap;
	unsigned int nents;

	enum izc_block_state state;
	struct dma_fence *fence;

	struct list_head head;
	size_t bytes_used;
	int status;
	bool cyclic;
	bool fresh;
	dma_cookie_t cookie;
};

/**
 * struct izc_block_queue_ops - the DMA side of a block queue
 * @submit: start a transfer of @block: block->sg (block->nents entries,
 *	block->bytes_used bytes in total) in the buffer's direction, repeating
 *	it if block->cyclic. Called with queue->lock held, possibly inside a
 *	dma-fence signalling section: must not sleep to allocate memory
 *	(GFP_NOWAIT/GFP_ATOMIC only). On success the DMA side owns the block
 *	and must call izc_block_done() for it exactly once, from any context.
 *	On error nothing was started and the queue keeps the block.
 * @abort: stop all transfers and complete every block the DMA side still
 *	owns with izc_block_done(); when it returns no block is ACTIVE and no
 *	completion is running. Called with queue->lock held, may sleep.
 * @release: free the structure embedding the queue. Called from a worker
 *	once the last buffer reference is gone.
 */
struct izc_block_queue_ops {
	int (*submit)(struct izc_block_queue *queue, struct izc_block *block);
	void (*abort)(struct izc_block_queue *queue);
	void (*release)(struct izc_block_queue *queue);
};

/**
 * struct izc_block_queue_fileio - read()/write() state
 * @blocks: the blocks, @nblocks of them, each @block_size bytes
 * @nblocks: see @blocks
 * @block_size: see @blocks
 * @bpd: bytes per datum the blocks were sized for; read by izc_block_done()
 * @cur: the block read() or write() is working through (DEQUEUED), or NULL
 * @pos: read or write offset in @cur
 * @parked: blocks whose submit failed (DEQUEUED, linked by their @head), in
 *	the order they are to reach the DMA; every block given back to the DMA
 *	passes through here, so none overtakes a parked one. Retried by each
 *	read()/write(), emptied by disable. Neither data nor space.
 * @nparked: blocks on @parked
 * @err: the errno of the last failed submit; read()/write() return it when
 *	every block is parked (nothing can make progress)
 * @lost: the errno of a failed transfer met by a read() that had already
 *	moved data, or by a write() that could not report it (see
 *	@write_cont); the next call that can returns it before anything else
 * @write_cont: the last write() call returned short, so the next one may
 *	continue the same system call and must not fail
 *
 * All fields P: queue->lock, except that @bpd is also read locklessly by
 * izc_block_done(): it only changes while no block is ACTIVE.
 */
struct izc_block_queue_fileio {
	struct izc_block **blocks;
	unsigned int nblocks;
	size_t block_size;
	size_t bpd;
	struct izc_block *cur;
	size_t pos;
	struct list_head parked;
	unsigned int nparked;
	int err;
	int lost;
	bool write_cont;
};

/**
 * struct izc_block_queue - an IIO buffer made of blocks
 * @buffer: the IIO buffer; must stay first, the core's release hands it back
 * @ops: the DMA side. Constant.
 * @dma_dev: device that performs the DMA: fileio memory is allocated for it
 *	and the core maps DMABUFs for it. A reference is held until the queue
 *	is freed so the core can still unmap attachments after teardown.
 * @align: transfer lengths must be a multiple of this. Constant.
 * @max_seg: largest scatterlist segment the DMA takes, a multiple of
 *	@align. Constant.
 * @cyclic_ok: the DMA side can repeat a block (output only). Constant.
 * @lock: the queue mutex. Every process-context entry point takes it:
 *	read, write, data/space_available, request_update, enable, disable,
 *	attach, detach, lock_queue (held across enqueue_dmabuf) and teardown.
 *	Protects every field below except those under @list_lock.
 * @list_lock: spinlock taken from any context (izc_block_done() runs in
 *	the DMA completion callback). Protects @done and every block's @state
 *	and @fence. Never held while calling into the DMA side or the core.
 * @incoming: QUEUED blocks in submission order. P: @lock.
 * @done: DONE fileio blocks in completion order. P: @list_lock.
 * @fileio: read()/write() state. P: @lock.
 * @dmabufs_pending: DMABUF blocks with a fence to signal (QUEUED or ACTIVE).
 *	P: @list_lock.
 * @dmabufs_fresh: DMABUF blocks attached and never enqueued (block->fresh),
 *	which the core may not list yet. P: @lock.
 * @active: the buffer is enabled: new blocks go straight to the DMA.
 *	P: @lock.
 * @fileio_mode: the buffer was set up for read()/write() by
 *	request_update; attaching a DMABUF while also @active is refused.
 *	P: @lock.
 * @dead: torn down; the DMA side is gone. P: @lock.
 * @free_entry: entry in the deferred-free list once released.
 */
struct izc_block_queue {
	struct iio_buffer buffer;
	const struct izc_block_queue_ops *ops;
	struct device *dma_dev;
	size_t align;
	size_t max_seg;
	bool cyclic_ok;

	struct mutex lock; /* see @lock above */
	spinlock_t list_lock; /* see @list_lock above */

	struct list_head incoming;
	struct list_head done;
	struct izc_block_queue_fileio fileio;
	unsigned int dmabufs_pending;
	unsigned int dmabufs_fresh;
	bool active;
	bool fileio_mode;
	bool dead;

	struct list_head free_entry;
};

void izc_block_queue_init(struct izc_block_queue *queue, struct device *dma_dev,
			  const struct izc_block_queue_ops *ops, size_t align,
			  size_t max_seg, bool cyclic_ok, bool dmabuf);
void izc_block_queue_teardown(struct izc_block_queue *queue);
void izc_block_done(struct izc_block *block, size_t bytes, int status);

#endif /* __IZC_BLOCK_QUEUE_H__ */
